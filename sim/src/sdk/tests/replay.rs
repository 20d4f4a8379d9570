//! Replay and non-determinism detection of `sim::sdk`, on histories built by running the
//! machine in a test-only driver and replaying them with changed code.

use std::time::Duration;

use super::support::{echo_activities, run, Cache, External, Run};
use crate::history::{Command, EventType, RetryPolicy};
use crate::sdk::{
    join, replay, select2, ActivityOptions, Either, NonDeterminismError, NonDeterminismKind,
    Registry, ReplayOutcome, WorkflowContext, WorkflowError, WorkflowTaskError,
};

fn opts() -> ActivityOptions {
    ActivityOptions::start_to_close(Duration::from_secs(5))
}

async fn transfer(ctx: WorkflowContext, name: String) -> Result<String, WorkflowError> {
    let w: String = ctx.start_activity("withdraw", &name, opts()).await?;
    let d: String = ctx.start_activity("deposit", &name, opts()).await?;
    Ok(format!("{w}|{d}"))
}

async fn transfer_swapped(ctx: WorkflowContext, name: String) -> Result<String, WorkflowError> {
    let d: String = ctx.start_activity("deposit", &name, opts()).await?;
    let w: String = ctx.start_activity("withdraw", &name, opts()).await?;
    Ok(format!("{w}|{d}"))
}

async fn transfer_without_deposit(
    ctx: WorkflowContext,
    name: String,
) -> Result<String, WorkflowError> {
    let w: String = ctx.start_activity("withdraw", &name, opts()).await?;
    Ok(w)
}

async fn transfer_timer_first(ctx: WorkflowContext, name: String) -> Result<String, WorkflowError> {
    let _reminder = ctx.timer(Duration::from_secs(3600));
    transfer(ctx, name).await
}

async fn transfer_timer_after(ctx: WorkflowContext, name: String) -> Result<String, WorkflowError> {
    let w = ctx.start_activity::<String, _>("withdraw", &name, opts());
    let _reminder = ctx.timer(Duration::from_secs(3600));
    let w = w.await?;
    let d: String = ctx.start_activity("deposit", &name, opts()).await?;
    Ok(format!("{w}|{d}"))
}

async fn transfer_waits_first(ctx: WorkflowContext, name: String) -> Result<String, WorkflowError> {
    let w: String = ctx.start_activity("withdraw", &name, opts()).await?;
    ctx.timer(Duration::from_secs(60)).await;
    let d: String = ctx.start_activity("deposit", &name, opts()).await?;
    Ok(format!("{w}|{d}"))
}

async fn transfer_new_options(ctx: WorkflowContext, name: String) -> Result<String, WorkflowError> {
    let o = ActivityOptions::start_to_close(Duration::from_secs(30))
        .with_schedule_to_close_timeout(Duration::from_secs(600))
        .with_heartbeat_timeout(Duration::from_secs(3))
        .with_retry_policy(RetryPolicy {
            maximum_attempts: 7,
            non_retryable_error_types: vec!["Nope".to_string()],
            ..RetryPolicy::default()
        });
    let w: String = ctx.start_activity("withdraw", &name, o.clone()).await?;
    let d: String = ctx.start_activity("deposit", &name, o).await?;
    Ok(format!("{w}|{d}"))
}

async fn both_at_once(ctx: WorkflowContext, name: String) -> Result<String, WorkflowError> {
    let (w, d) = join(
        ctx.start_activity::<String, _>("withdraw", &name, opts()),
        ctx.start_activity::<String, _>("deposit", &name, opts()),
    )
    .await;
    Ok(format!("{}|{}", w?, d?))
}

async fn only_withdraw_at_once(
    ctx: WorkflowContext,
    name: String,
) -> Result<String, WorkflowError> {
    let w: String = ctx.start_activity("withdraw", &name, opts()).await?;
    Ok(w)
}

fn registry_with<F, Fut>(f: F) -> Registry
where
    F: Fn(WorkflowContext, String) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<String, WorkflowError>> + 'static,
{
    let mut r = Registry::new();
    r.register_workflow("Transfer", f);
    r
}

fn record(registry: &Registry) -> Run {
    let out = run(
        registry,
        "Transfer",
        &"alice",
        echo_activities(),
        &[],
        Cache::Sticky,
    );
    assert!(out.error.is_none(), "{:?}", out.error);
    out
}

fn nondet(outcome: ReplayOutcome) -> NonDeterminismError {
    match outcome {
        ReplayOutcome::Failed(WorkflowTaskError::NonDeterminism(e)) => e,
        other => panic!("expected a non-determinism error, got {other:?}"),
    }
}

#[test]
fn recorded_history_has_temporal_shape_and_replays() {
    let rec = record(&registry_with(transfer));
    use EventType::*;
    assert_eq!(
        rec.history.event_types(),
        vec![
            WorkflowExecutionStarted,
            WorkflowTaskScheduled,
            WorkflowTaskStarted,
            WorkflowTaskCompleted,
            ActivityTaskScheduled,
            ActivityTaskStarted,
            ActivityTaskCompleted,
            WorkflowTaskScheduled,
            WorkflowTaskStarted,
            WorkflowTaskCompleted,
            ActivityTaskScheduled,
            ActivityTaskStarted,
            ActivityTaskCompleted,
            WorkflowTaskScheduled,
            WorkflowTaskStarted,
            WorkflowTaskCompleted,
            WorkflowExecutionCompleted,
        ]
    );
    match replay(&registry_with(transfer), &rec.history) {
        ReplayOutcome::Closed {
            result: Ok(Some(p)),
            close: WorkflowExecutionCompleted,
        } => assert_eq!(
            p.decode_first::<String>().unwrap(),
            "withdraw:\"alice\"|deposit:\"alice\""
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn changed_activity_order_is_a_mismatch_at_the_first_scheduled_event() {
    let rec = record(&registry_with(transfer));
    let e = nondet(replay(&registry_with(transfer_swapped), &rec.history));
    assert_eq!((e.kind, e.event_id), (NonDeterminismKind::Mismatch, 5));
    assert!(
        e.history.contains("withdraw") && e.code.contains("deposit"),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "[TMPRL1100] nondeterminism at event 5: activity type of scheduled event 'withdraw' does not match activity type of activity command 'deposit'"
    );
}

#[test]
fn an_extra_timer_before_the_activity_is_extra() {
    let rec = record(&registry_with(transfer));
    let e = nondet(replay(&registry_with(transfer_timer_first), &rec.history));
    assert_eq!((e.kind, e.event_id), (NonDeterminismKind::Extra, 5), "{e}");
    assert!(e.code.contains("StartTimer"), "{e:?}");
}

#[test]
fn an_extra_timer_after_the_activity_is_extra() {
    let rec = record(&registry_with(transfer));
    let e = nondet(replay(&registry_with(transfer_timer_after), &rec.history));
    // History has nothing after the withdraw's ActivityTaskScheduled (5): the timer is extra
    // where the next event (6, ActivityTaskStarted) is.
    assert_eq!((e.kind, e.event_id), (NonDeterminismKind::Extra, 6), "{e}");
    assert!(e.code.contains("StartTimer(timer_id=1)"), "{e:?}");
}

#[test]
fn an_awaited_timer_where_history_has_an_activity_is_a_mismatch() {
    let rec = record(&registry_with(transfer));
    let e = nondet(replay(&registry_with(transfer_waits_first), &rec.history));
    assert_eq!(
        (e.kind, e.event_id),
        (NonDeterminismKind::Mismatch, 11),
        "{e}"
    );
    assert!(e.history.contains("deposit") && e.code.contains("StartTimer"));
}

#[test]
fn a_removed_activity_is_missing() {
    let rec = record(&registry_with(transfer));
    let e = nondet(replay(
        &registry_with(transfer_without_deposit),
        &rec.history,
    ));
    assert_eq!(
        (e.kind, e.event_id),
        (NonDeterminismKind::Missing, 11),
        "{e}"
    );
    assert!(e.history.contains("deposit"), "{e:?}");
    assert!(e.code.contains("CompleteWorkflowExecution"), "{e:?}");

    let rec = record(&registry_with(both_at_once));
    let e = nondet(replay(&registry_with(only_withdraw_at_once), &rec.history));
    assert_eq!(
        (e.kind, e.event_id),
        (NonDeterminismKind::Missing, 6),
        "{e}"
    );
    assert!(e.history.contains("activity_type=deposit"), "{e:?}");
}

#[test]
fn an_added_activity_is_extra() {
    let rec = record(&registry_with(transfer_without_deposit));
    let e = nondet(replay(&registry_with(transfer), &rec.history));
    assert_eq!(e.kind, NonDeterminismKind::Extra, "{e}");
    assert!(e.code.contains("deposit"), "{e:?}");
}

#[test]
fn changing_only_timeouts_and_retry_options_still_replays() {
    let rec = record(&registry_with(transfer));
    assert!(matches!(
        replay(&registry_with(transfer_new_options), &rec.history),
        ReplayOutcome::Closed { result: Ok(_), .. }
    ));
}

#[test]
fn a_changed_sticky_run_fails_its_next_task_too() {
    // Record with the original, then feed the recorded events to a machine running the
    // changed code: the first (replayed) task already disagrees.
    let rec = record(&registry_with(transfer));
    let mut m = crate::sdk::WorkflowMachine::new(
        &registry_with(transfer_swapped),
        super::support::WORKFLOW_ID,
        super::support::RUN_ID,
        &rec.history.events[0],
    )
    .unwrap();
    let err = m.activate(&rec.history.events[..9]).unwrap_err();
    assert!(matches!(err, WorkflowTaskError::NonDeterminism(ref e) if e.event_id == 5));
    // Poisoned: the worker must evict it.
    assert_eq!(m.activate(&rec.history.events[..9]).unwrap_err(), err);
}

/// A workflow that uses most of the SDK, for cache-eviction equivalence.
async fn kitchen_sink(ctx: WorkflowContext, name: String) -> Result<String, WorkflowError> {
    let v2 = ctx.patched("v2");
    let token: u64 = ctx.side_effect(|| 0xfeed);
    let x = ctx.rng().below(1_000_000);
    let t0 = ctx.workflow_time();
    let (a, b) = join(
        ctx.start_activity::<String, _>("a", &name, opts()),
        ctx.start_activity::<String, _>("b", &name, opts()),
    )
    .await;
    let go = ctx.signal_channel::<String>("go");
    let mut deadline = ctx.timer(Duration::from_secs(3600));
    let got = match select2(go.recv(), &mut deadline).await {
        Either::Left(s) => {
            deadline.cancel();
            s?
        }
        Either::Right(_) => "timeout".to_string(),
    };
    for i in 0..3u32 {
        let _: String = ctx.start_activity("step", &i, opts()).await?;
        ctx.timer(Duration::from_secs(u64::from(i) + 1)).await;
    }
    let t1 = ctx.workflow_time();
    assert!(t1 > t0);
    Ok(format!(
        "{v2} {token} {x} {} {} {got} {}",
        a?,
        b?,
        ctx.is_replaying()
    ))
}

fn kitchen_registry() -> Registry {
    registry_with(kitchen_sink)
}

#[test]
fn cache_eviction_before_every_task_gives_identical_commands() {
    let externals = [External::Signal {
        before_task: 4,
        name: "go".to_string(),
        input: serde_json::json!("green"),
    }];
    let sticky = run(
        &kitchen_registry(),
        "Transfer",
        &"bob",
        echo_activities(),
        &externals,
        Cache::Sticky,
    );
    let evicted = run(
        &kitchen_registry(),
        "Transfer",
        &"bob",
        echo_activities(),
        &externals,
        Cache::EvictEveryTask,
    );
    assert!(sticky.error.is_none(), "{:?}", sticky.error);
    assert!(evicted.error.is_none(), "{:?}", evicted.error);
    assert!(sticky.tasks.len() >= 8, "{}", sticky.tasks.len());
    assert_eq!(sticky.tasks, evicted.tasks);
    assert_eq!(sticky.history, evicted.history);
    // The signal won: its timer was cancelled, and the run completed.
    let names: Vec<&str> = sticky.tasks.iter().flatten().map(Command::name).collect();
    assert!(names.contains(&"CancelTimer"), "{names:?}");
    assert_eq!(names.last(), Some(&"CompleteWorkflowExecution"));
    match sticky.tasks.last().unwrap().last().unwrap() {
        Command::CompleteWorkflowExecution { result: Some(p) } => {
            let s: String = p.decode_first().unwrap();
            assert!(s.ends_with(" green false"), "{s}");
        }
        other => panic!("{other:?}"),
    }
    match replay(&kitchen_registry(), &sticky.history) {
        ReplayOutcome::Closed {
            result: Ok(Some(p)),
            ..
        } => {
            let s: String = p.decode_first().unwrap();
            assert!(s.starts_with("true 65261 "), "{s}");
            // Replaying the whole history, every task is a replay.
            assert!(s.ends_with(" green true"), "{s}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_failed_workflow_task_is_undone_and_rerun_from_the_same_state() {
    for task in [2, 3, 5] {
        let externals = [
            External::Signal {
                before_task: 4,
                name: "go".to_string(),
                input: serde_json::json!("green"),
            },
            External::FailTask { task },
        ];
        let sticky = run(
            &kitchen_registry(),
            "Transfer",
            &"bob",
            echo_activities(),
            &externals,
            Cache::Sticky,
        );
        let evicted = run(
            &kitchen_registry(),
            "Transfer",
            &"bob",
            echo_activities(),
            &externals,
            Cache::EvictEveryTask,
        );
        assert!(sticky.error.is_none(), "{:?}", sticky.error);
        assert_eq!(sticky.tasks, evicted.tasks, "failing task {task}");
        assert_eq!(sticky.history, evicted.history);
        assert!(sticky
            .history
            .event_types()
            .contains(&EventType::WorkflowTaskFailed));
        assert!(replay(&kitchen_registry(), &sticky.history).is_ok());
    }
}

/// A 10 MB name in history must not become a 10 MB failure message, report line or checker
/// violation: the error bounds what it quotes.
#[test]
fn task_errors_bound_the_names_they_quote() {
    let huge = "x".repeat(10 << 20);
    let e = WorkflowTaskError::UnknownWorkflowType(huge.clone());
    let text = e.to_string();
    assert!(text.len() < 2_100, "{}", text.len());
    assert!(text.contains("bytes)"), "says how long the name was");
    let nd = crate::sdk::NonDeterminismError {
        event_id: 5,
        kind: crate::sdk::NonDeterminismKind::Mismatch,
        message: huge,
        history: String::new(),
        code: String::new(),
    };
    assert!(WorkflowTaskError::NonDeterminism(nd).to_string().len() < 2_100);
}

/// Waits for ever without a command: a stand-in for Python workflows whose first commands are
/// ones this SDK cannot replay.
async fn waits(ctx: WorkflowContext) -> Result<String, WorkflowError> {
    ctx.wait_condition(|| false).await;
    Ok(String::new())
}

#[test]
fn a_real_history_with_an_update_the_code_has_no_handler_for_names_the_update() {
    let path = format!(
        "{}/../fixtures/temporal-histories/updates.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let h = crate::history::parse_history(&text).unwrap();
    let mut r = Registry::new();
    r.register_workflow("Updatable", |ctx: WorkflowContext, _: serde_json::Value| {
        waits(ctx)
    });
    match replay(&r, &h) {
        ReplayOutcome::Failed(WorkflowTaskError::NonDeterminism(e)) => {
            assert_eq!(e.event_id, 6, "{e}");
            assert!(e.message.contains("accepted update update-a"), "{e}");
            assert!(e.message.contains("no update handler for \"add\""), "{e}");
        }
        other => panic!("updates: {other:?}"),
    }
}
