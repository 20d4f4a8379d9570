//! Workflow-facing features of `sim::sdk`: patching, side effects, signals, conditions,
//! deterministic combinators, cancellation, continue-as-new, panics, RNG and workflow time.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use super::support::{
    echo_activities, run, started_event, Cache, External, Run, RUN_ID, WORKFLOW_ID,
};
use crate::history::{Command, EventAttributes, EventType, History};
use crate::sdk::{
    join, join_all, replay, select2, select_all, ActivityOptions, Either, NonDeterminismKind,
    Registry, ReplayOutcome, WorkflowContext, WorkflowError, WorkflowMachine, WorkflowTaskError,
    PATCH_MARKER_NAME, SIDE_EFFECT_MARKER_NAME,
};

fn opts() -> ActivityOptions {
    ActivityOptions::start_to_close(Duration::from_secs(5))
}

fn reg<I, F, Fut>(f: F) -> Registry
where
    I: serde::de::DeserializeOwned + 'static,
    F: Fn(WorkflowContext, I) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<String, WorkflowError>> + 'static,
{
    let mut r = Registry::new();
    r.register_workflow("W", f);
    r
}

fn go(registry: &Registry, input: &impl serde::Serialize, externals: &[External]) -> Run {
    let out = run(
        registry,
        "W",
        input,
        echo_activities(),
        externals,
        Cache::Sticky,
    );
    assert!(out.error.is_none(), "{:?}", out.error);
    out
}

fn closed_string(outcome: ReplayOutcome) -> String {
    match outcome {
        ReplayOutcome::Closed {
            result: Ok(Some(p)),
            ..
        } => p.decode_first().unwrap(),
        other => panic!("{other:?}"),
    }
}

fn markers(h: &History, name: &str) -> usize {
    h.events
        .iter()
        .filter(|e| matches!(&e.attributes, EventAttributes::MarkerRecorded(m) if m.marker_name == name))
        .count()
}

// ---- patched / deprecate_patch (the table in temporal-semantics.md) ----

async fn old_code(ctx: WorkflowContext, _: ()) -> Result<String, WorkflowError> {
    let a: String = ctx.start_activity("old", &1, opts()).await?;
    ctx.timer(Duration::from_secs(1)).await;
    let b: String = ctx.start_activity("old2", &2, opts()).await?;
    Ok(format!("{a} {b}"))
}

async fn patched_code(ctx: WorkflowContext, _: ()) -> Result<String, WorkflowError> {
    let first = if ctx.patched("p1") { "new" } else { "old" };
    let a: String = ctx.start_activity(first, &1, opts()).await?;
    ctx.timer(Duration::from_secs(1)).await;
    let second = if ctx.patched("p1") { "new2" } else { "old2" };
    let b: String = ctx.start_activity(second, &2, opts()).await?;
    Ok(format!("{a} {b}"))
}

async fn deprecated_code(ctx: WorkflowContext, _: ()) -> Result<String, WorkflowError> {
    ctx.deprecate_patch("p1");
    let a: String = ctx.start_activity("new", &1, opts()).await?;
    ctx.timer(Duration::from_secs(1)).await;
    let b: String = ctx.start_activity("new2", &2, opts()).await?;
    Ok(format!("{a} {b}"))
}

async fn new_only_code(ctx: WorkflowContext, _: ()) -> Result<String, WorkflowError> {
    let a: String = ctx.start_activity("new", &1, opts()).await?;
    ctx.timer(Duration::from_secs(1)).await;
    let b: String = ctx.start_activity("new2", &2, opts()).await?;
    Ok(format!("{a} {b}"))
}

#[test]
fn patched_not_replaying_records_a_marker_and_returns_true() {
    let rec = go(&reg(patched_code), &(), &[]);
    match &rec.tasks[0][0] {
        Command::RecordMarker {
            marker_name,
            details,
            ..
        } => {
            assert_eq!(marker_name, PATCH_MARKER_NAME);
            // Core's format: one `patch-data` payload.
            let data: serde_json::Value = details["patch-data"].decode_first().unwrap();
            assert_eq!(data, serde_json::json!({"id": "p1", "deprecated": false}));
        }
        other => panic!("{other:?}"),
    }
    // Memoised: the second call records nothing more.
    assert_eq!(markers(&rec.history, PATCH_MARKER_NAME), 1);
    assert_eq!(
        closed_string(replay(&reg(patched_code), &rec.history)),
        "new:1 new2:2"
    );
}

#[test]
fn patched_replaying_without_the_marker_is_false_and_stays_false() {
    let rec = go(&reg(old_code), &(), &[]);
    // Replaying the old history with the patched code takes the old branches throughout.
    assert_eq!(
        closed_string(replay(&reg(patched_code), &rec.history)),
        "old:1 old2:2"
    );
    // A sticky continuation: replay the tasks up to the timer, then run the next task live.
    // `patched("p1")` was false while replaying, so it stays false (no marker, "old2").
    let cut = rec
        .history
        .events
        .iter()
        .position(|e| e.event_type() == EventType::TimerFired)
        .unwrap();
    let upto = &rec.history.events[..cut + 3]; // TimerFired, WFT scheduled, WFT started
    assert_eq!(
        upto.last().unwrap().event_type(),
        EventType::WorkflowTaskStarted
    );
    let mut m = WorkflowMachine::new(&reg(patched_code), WORKFLOW_ID, RUN_ID, &upto[0]).unwrap();
    let cmds = m.activate(upto).unwrap();
    assert!(!m.is_replaying());
    assert_eq!(cmds.len(), 1, "{cmds:?}");
    match &cmds[0] {
        Command::ScheduleActivityTask(s) => assert_eq!(s.activity_type, "old2"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_patch_marker_the_code_never_asks_about_is_non_deterministic() {
    let rec = go(&reg(patched_code), &(), &[]);
    match replay(&reg(new_only_code), &rec.history) {
        ReplayOutcome::Failed(WorkflowTaskError::NonDeterminism(e)) => {
            assert_eq!(
                (e.kind, e.event_id),
                (NonDeterminismKind::Missing, 5),
                "{e}"
            );
            assert!(e.history.contains("patch_id=p1"), "{e:?}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn deprecated_patch_markers_may_be_absent_on_either_side() {
    // History with a deprecated marker, code that no longer mentions the patch: fine.
    let rec = go(&reg(deprecated_code), &(), &[]);
    assert_eq!(markers(&rec.history, PATCH_MARKER_NAME), 1);
    assert_eq!(
        closed_string(replay(&reg(new_only_code), &rec.history)),
        "new:1 new2:2"
    );
    // History with a (non-deprecated) marker, code that deprecates it: fine.
    let rec = go(&reg(patched_code), &(), &[]);
    assert_eq!(
        closed_string(replay(&reg(deprecated_code), &rec.history)),
        "new:1 new2:2"
    );
    // History recorded before the patch existed (same branch), deprecating code: fine.
    let rec = go(&reg(new_only_code), &(), &[]);
    assert_eq!(
        closed_string(replay(&reg(deprecated_code), &rec.history)),
        "new:1 new2:2"
    );
}

// ---- side effects ----

static SIDE_EFFECT_RUNS: AtomicU32 = AtomicU32::new(0);

async fn side_effect_wf(ctx: WorkflowContext, _: ()) -> Result<String, WorkflowError> {
    let v: u32 = ctx.side_effect(|| SIDE_EFFECT_RUNS.fetch_add(1, Ordering::SeqCst) + 100);
    ctx.timer(Duration::from_secs(5)).await;
    Ok(format!("value {v}"))
}

#[test]
fn side_effect_runs_once_and_replays_from_its_marker() {
    let before = SIDE_EFFECT_RUNS.load(Ordering::SeqCst);
    let rec = go(&reg(side_effect_wf), &(), &[]);
    assert_eq!(SIDE_EFFECT_RUNS.load(Ordering::SeqCst), before + 1);
    assert_eq!(markers(&rec.history, SIDE_EFFECT_MARKER_NAME), 1);
    let live = closed_string(replay(&reg(side_effect_wf), &rec.history));
    let evicted = run(
        &reg(side_effect_wf),
        "W",
        &(),
        echo_activities(),
        &[],
        Cache::EvictEveryTask,
    );
    // Neither the replay nor the evicting run re-ran the closure for the recorded task.
    assert_eq!(live, format!("value {}", before + 100));
    assert_eq!(
        SIDE_EFFECT_RUNS.load(Ordering::SeqCst),
        before + 2,
        "only the evicting run's own first task ran it"
    );
    assert!(evicted.error.is_none());
}

// ---- signals and conditions ----

async fn collect_signals(ctx: WorkflowContext, _: ()) -> Result<String, WorkflowError> {
    let ch = ctx.signal_channel::<u32>("add");
    ctx.timer(Duration::from_secs(10)).await;
    let mut got = Vec::new();
    for _ in 0..3 {
        got.push(ch.recv().await?.to_string());
    }
    Ok(got.join(","))
}

fn signal(before_task: usize, name: &str, v: serde_json::Value) -> External {
    External::Signal {
        before_task,
        name: name.to_string(),
        input: v,
    }
}

#[test]
fn signals_are_buffered_and_delivered_in_history_order() {
    let externals = [
        signal(2, "add", serde_json::json!(1)),
        signal(2, "add", serde_json::json!(2)),
        signal(4, "add", serde_json::json!(3)),
    ];
    let rec = go(&reg(collect_signals), &(), &externals);
    assert_eq!(
        closed_string(replay(&reg(collect_signals), &rec.history)),
        "1,2,3"
    );
}

async fn condition_wf(ctx: WorkflowContext, _: ()) -> Result<String, WorkflowError> {
    let flag = Rc::new(Cell::new(false));
    let f = Rc::clone(&flag);
    // The condition is polled before the branch that sets the flag, with no SDK call between.
    join(ctx.wait_condition(move || f.get()), async move {
        flag.set(true);
    })
    .await;
    let approved = Rc::new(Cell::new(0u32));
    let a = Rc::clone(&approved);
    let ch = ctx.signal_channel::<u32>("approve");
    let ctx2 = ctx.clone();
    join(ctx.wait_condition(move || a.get() >= 2), async move {
        for _ in 0..2 {
            let _ = ch.recv().await;
            approved.set(approved.get() + 1);
        }
        ctx2.timer(Duration::from_secs(1)).await;
    })
    .await;
    Ok("done".to_string())
}

#[test]
fn wait_condition_sees_state_changed_by_other_branches() {
    let externals = [
        signal(2, "approve", serde_json::json!(1)),
        signal(3, "approve", serde_json::json!(1)),
    ];
    let rec = go(&reg(condition_wf), &(), &externals);
    assert_eq!(
        closed_string(replay(&reg(condition_wf), &rec.history)),
        "done"
    );
}

async fn never_wf(ctx: WorkflowContext, _: ()) -> Result<String, WorkflowError> {
    ctx.wait_condition(|| false).await;
    Ok("unreachable".to_string())
}

#[test]
fn a_condition_that_never_holds_leaves_the_run_open_without_spinning() {
    let rec = go(&reg(never_wf), &(), &[]);
    assert_eq!(rec.tasks, vec![Vec::<Command>::new()]);
    assert_eq!(replay(&reg(never_wf), &rec.history), ReplayOutcome::Open);
}

// ---- deterministic combinators ----

async fn tie_wf(ctx: WorkflowContext, _: ()) -> Result<String, WorkflowError> {
    let a = ctx.signal_channel::<String>("a");
    let b = ctx.signal_channel::<String>("b");
    let first = match select2(a.recv(), b.recv()).await {
        Either::Left(v) => format!("a={}", v?),
        Either::Right(v) => format!("b={}", v?),
    };
    let (v, idx) = select_all(vec![b.recv(), a.recv()]).await;
    Ok(format!("{first} then #{idx}={}", v?))
}

#[test]
fn select_prefers_the_first_listed_future_on_a_tie() {
    // Both signals arrive in the same batch, b first in history.
    let externals = [
        signal(2, "b", serde_json::json!("B")),
        signal(2, "a", serde_json::json!("A")),
    ];
    let rec = go(&reg(tie_wf), &(), &externals);
    assert_eq!(
        closed_string(replay(&reg(tie_wf), &rec.history)),
        "a=A then #0=B"
    );
}

async fn fan_out(ctx: WorkflowContext, n: u32) -> Result<String, WorkflowError> {
    let futs: Vec<_> = (0..n)
        .map(|i| ctx.start_activity::<String, _>(&format!("job{i}"), &i, opts()))
        .collect();
    let out: Result<Vec<String>, _> = join_all(futs).await.into_iter().collect();
    Ok(out?.join(","))
}

#[test]
fn join_all_schedules_in_listed_order_and_keeps_output_order() {
    let rec = go(&reg(fan_out), &4u32, &[]);
    let types: Vec<String> = rec.tasks[0]
        .iter()
        .map(|c| match c {
            Command::ScheduleActivityTask(s) => format!("{}#{}", s.activity_type, s.activity_id),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(types, vec!["job0#1", "job1#2", "job2#3", "job3#4"]);
    assert_eq!(
        closed_string(replay(&reg(fan_out), &rec.history)),
        "job0:0,job1:1,job2:2,job3:3"
    );
}

// ---- cancellation, continue-as-new ----

async fn cancellable(ctx: WorkflowContext, _: ()) -> Result<String, WorkflowError> {
    let mut act = ctx.start_activity::<String, _>("slow", &0, opts());
    match select2(ctx.cancelled(), &mut act).await {
        Either::Left(()) => {
            act.cancel();
            let failed = act.await.unwrap_err();
            assert!(failed.is_cancelled());
            Err(WorkflowError::cancelled())
        }
        Either::Right(r) => Ok(r?),
    }
}

#[test]
fn cancel_request_cancels_the_activity_and_the_run() {
    let rec = go(
        &reg(cancellable),
        &(),
        &[External::CancelRequest { before_task: 2 }],
    );
    let names: Vec<&str> = rec.tasks[1].iter().map(Command::name).collect();
    assert_eq!(
        names,
        vec!["RequestCancelActivityTask", "CancelWorkflowExecution"]
    );
    match &rec.tasks[1][0] {
        Command::RequestCancelActivityTask { scheduled_event_id } => {
            assert_eq!(*scheduled_event_id, 5)
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        replay(&reg(cancellable), &rec.history),
        ReplayOutcome::Closed {
            result: Err(_),
            close: EventType::WorkflowExecutionCanceled
        }
    ));
}

async fn cancel_before_sending(ctx: WorkflowContext, _: ()) -> Result<String, WorkflowError> {
    let act = ctx.start_activity::<String, _>("never", &0, opts());
    let t = ctx.timer(Duration::from_secs(9));
    act.cancel();
    t.cancel();
    assert!(act.await.unwrap_err().is_cancelled());
    assert_eq!(t.await, crate::sdk::TimerResult::Cancelled);
    Ok("nothing sent".to_string())
}

#[test]
fn cancelling_before_the_command_is_sent_sends_nothing() {
    let rec = go(&reg(cancel_before_sending), &(), &[]);
    let names: Vec<&str> = rec.tasks[0].iter().map(Command::name).collect();
    assert_eq!(names, vec!["CompleteWorkflowExecution"]);
}

async fn counter(ctx: WorkflowContext, n: u32) -> Result<String, WorkflowError> {
    if n < 2 {
        ctx.timer(Duration::from_secs(1)).await;
        return Err(ctx.continue_as_new(&(n + 1)));
    }
    Ok(format!("reached {n}"))
}

#[test]
fn continue_as_new_carries_the_new_input() {
    let rec = go(&reg(counter), &0u32, &[]);
    match rec.tasks.last().unwrap().last().unwrap() {
        Command::ContinueAsNewWorkflowExecution(c) => {
            assert_eq!(c.workflow_type, "W");
            assert_eq!(c.task_queue.name, "q");
            assert_eq!(c.input.as_ref().unwrap().decode_first::<u32>().unwrap(), 1);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        replay(&reg(counter), &rec.history),
        ReplayOutcome::Closed {
            close: EventType::WorkflowExecutionContinuedAsNew,
            ..
        }
    ));
}

// ---- failures of the workflow code ----

async fn panicky(ctx: WorkflowContext, _: ()) -> Result<String, WorkflowError> {
    let _: String = ctx.start_activity("a", &0, opts()).await?;
    panic!("boom in workflow code");
}

#[test]
fn a_panic_in_workflow_code_fails_the_task_not_the_process() {
    let out = run(
        &reg(panicky),
        "W",
        &(),
        echo_activities(),
        &[],
        Cache::Sticky,
    );
    match out.error {
        Some(WorkflowTaskError::Panic(msg)) => assert!(msg.contains("boom in workflow code")),
        other => panic!("{other:?}"),
    }
    assert_eq!(out.tasks.len(), 1, "the first task succeeded");
}

async fn failing(_ctx: WorkflowContext, _: ()) -> Result<String, WorkflowError> {
    Err(WorkflowError::application("Bad", "nope").non_retryable())
}

#[test]
fn a_workflow_error_fails_the_run_with_an_application_failure() {
    let rec = go(&reg(failing), &(), &[]);
    match &rec.tasks[0][0] {
        Command::FailWorkflowExecution { failure } => {
            assert_eq!(failure.message, "nope");
            assert_eq!(failure.error_type(), Some("Bad"));
            assert!(failure.is_non_retryable());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn unknown_workflow_types_and_bad_input_are_task_errors() {
    let r = reg(counter);
    let e = WorkflowMachine::new(&r, "w", "r", &started_event("Nope", &1)).unwrap_err();
    assert_eq!(
        e,
        WorkflowTaskError::UnknownWorkflowType("Nope".to_string())
    );
    let e = WorkflowMachine::new(&r, "w", "r", &started_event("W", &"not a number")).unwrap_err();
    assert!(matches!(e, WorkflowTaskError::BadInput(_)), "{e:?}");
}

// ---- determinism helpers ----

async fn seeds(ctx: WorkflowContext, _: ()) -> Result<String, WorkflowError> {
    let t0 = ctx.workflow_time();
    let mut a = ctx.rng();
    let mut b = ctx.rng();
    let (x, y) = (a.next_u64(), b.next_u64());
    assert_ne!(x, y, "each rng() call is its own stream");
    ctx.timer(Duration::from_secs(30)).await;
    let t1 = ctx.workflow_time();
    Ok(format!("{} {x} {} {}", ctx.random_seed(), t0.0, t1.0))
}

#[test]
fn rng_is_seeded_from_the_run_id_and_time_is_the_task_start() {
    let rec = go(&reg(seeds), &(), &[]);
    let replayed = closed_string(replay(&reg(seeds), &rec.history));
    let live: String = match rec.tasks.last().unwrap().last().unwrap() {
        Command::CompleteWorkflowExecution { result } => {
            result.as_ref().unwrap().decode_first().unwrap()
        }
        other => panic!("{other:?}"),
    };
    assert_eq!(replayed, live);
    let parts: Vec<&str> = live.split(' ').collect();
    let starts: Vec<i64> = rec
        .history
        .events
        .iter()
        .filter(|e| e.event_type() == EventType::WorkflowTaskStarted)
        .map(|e| e.event_time.0)
        .collect();
    assert_eq!(parts[2], starts[0].to_string());
    assert_eq!(parts[3], starts[1].to_string());
    // Another run id, another seed.
    let mut m1 = WorkflowMachine::new(&reg(seeds), "w", "run-A", &rec.history.events[0]).unwrap();
    let mut m2 = WorkflowMachine::new(&reg(seeds), "w", "run-B", &rec.history.events[0]).unwrap();
    let c1 = m1.activate(&rec.history.events[..3]).unwrap();
    let c2 = m2.activate(&rec.history.events[..3]).unwrap();
    assert_eq!(c1, c2, "the first task does not depend on the seed's value");
    assert_ne!(parts[0], "0");
}

/// Patch markers are read in every format Temporal's SDKs write: core's `patch-data` (Python,
/// the official Rust SDK, this SDK), the older `patch_id`/`deprecated` pair and `patch_data`.
#[test]
fn patch_markers_are_read_in_every_writer_format() {
    use crate::history::{MarkerDetails, Payloads};
    use crate::sdk::{parse_patch_marker, patch_marker_details};
    let core = patch_marker_details("p1", true);
    assert_eq!(parse_patch_marker(&core), Some(("p1".to_string(), true)));
    let mut pair = MarkerDetails::new();
    pair.insert("patch_id".into(), Payloads::json("p2").unwrap());
    pair.insert("deprecated".into(), Payloads::json(&false).unwrap());
    assert_eq!(parse_patch_marker(&pair), Some(("p2".to_string(), false)));
    let mut old = MarkerDetails::new();
    old.insert(
        "patch_data".into(),
        Payloads::json(&serde_json::json!({"id": "p3"})).unwrap(),
    );
    assert_eq!(parse_patch_marker(&old), Some(("p3".to_string(), false)));
}
