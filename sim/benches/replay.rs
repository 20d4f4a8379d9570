//! Replay benchmark: how fast `sim::sdk::replay` re-runs workflow code against a history.
//!
//! Reports histories/s and the median microseconds per history for the 17-event MoneyTransfer
//! history Temporal recorded (parse + replay, and replay only), side by side with Temporal's
//! Python replayer on the same history (`benches/python_replayer.py`, when `temporalio` is
//! installed), and for generated 5,000- to 20,000-event histories to show replay time is linear
//! in history length.
//!
//! Run with `cargo bench -p sim --bench replay`. Timing happens outside any madsim runtime,
//! so the clock is the real one.

// The same allocator as the `sim` binary (`sim replay`, `sim show`), so the figures are the
// command line's.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "common/external.rs"]
mod external;

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sim::history::{
    parse_history, ActivityTaskCompleted, ActivityTaskScheduled, ActivityTaskStarted,
    EventAttributes, EventId, History, HistoryEvent, Payloads, TaskQueue, Timestamp,
    WorkflowExecutionCompleted, WorkflowExecutionStarted, WorkflowTaskCompleted,
    WorkflowTaskScheduled, WorkflowTaskStarted,
};
use sim::sdk::{replay, ActivityOptions, Registry, ReplayOutcome, WorkflowContext, WorkflowError};

#[derive(serde::Serialize, serde::Deserialize)]
struct PaymentDetails {
    amount: i64,
    #[serde(default)]
    deposit_delay_s: f64,
    #[serde(default)]
    deposit_fail_times: i64,
    reference_id: String,
    source_account: String,
    target_account: String,
}

fn options() -> ActivityOptions {
    ActivityOptions::start_to_close(Duration::from_secs(5))
}

/// The shape of fixtures' MoneyTransfer (the fixtures crate depends on sim, so it is not
/// reachable from sim's benches).
async fn money_transfer(
    ctx: WorkflowContext,
    details: PaymentDetails,
) -> Result<String, WorkflowError> {
    let w: String = ctx.start_activity("withdraw", &details, options()).await?;
    let d: String = ctx.start_activity("deposit", &details, options()).await?;
    Ok(format!("Transfer complete (transaction IDs: {w}, {d})"))
}

async fn many_steps(ctx: WorkflowContext, n: u32) -> Result<String, WorkflowError> {
    let mut last = String::new();
    for i in 0..n {
        last = ctx.start_activity("step", &i, options()).await?;
    }
    Ok(last)
}

fn registry() -> Registry {
    let mut r = Registry::new();
    r.register_workflow("MoneyTransfer", money_transfer)
        .register_workflow("ManySteps", many_steps);
    r
}

fn transfer_json() -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    for dir in [
        root.join("fixtures/temporal-histories"),
        PathBuf::from("/work/shared/fixtures/temporal-histories"),
    ] {
        if let Ok(s) = std::fs::read_to_string(dir.join("transfer-completed.json")) {
            return s;
        }
    }
    panic!("transfer-completed.json not found")
}

/// The history a server writes for `ManySteps(n)`: 6 events per activity, 5 more.
fn many_steps_history(n: u32) -> History {
    let mut events = Vec::new();
    let mut push = |attributes: EventAttributes| -> EventId {
        let id = events.len() as EventId + 1;
        events.push(HistoryEvent {
            event_id: id,
            event_time: Timestamp(1_700_000_000_000_000_000 + id * 1_000_000),
            task_id: id,
            attributes,
            extra: Default::default(),
        });
        id
    };
    push(EventAttributes::WorkflowExecutionStarted(Arc::new(
        WorkflowExecutionStarted {
            workflow_type: "ManySteps".to_string(),
            workflow_id: "many".to_string(),
            task_queue: TaskQueue::normal("q"),
            input: Some(Payloads::json(&n).unwrap()),
            original_execution_run_id: "run".to_string(),
            attempt: 1,
            ..Default::default()
        },
    )));
    let wft = |push: &mut dyn FnMut(EventAttributes) -> EventId| {
        let s = push(EventAttributes::WorkflowTaskScheduled(Arc::new(
            WorkflowTaskScheduled {
                task_queue: TaskQueue::normal("q"),
                attempt: 1,
                ..Default::default()
            },
        )));
        let st = push(EventAttributes::WorkflowTaskStarted(Arc::new(
            WorkflowTaskStarted {
                scheduled_event_id: s,
                ..Default::default()
            },
        )));
        push(EventAttributes::WorkflowTaskCompleted(Arc::new(
            WorkflowTaskCompleted {
                scheduled_event_id: s,
                started_event_id: st,
                ..Default::default()
            },
        )))
    };
    for i in 0..n {
        let completed = wft(&mut push);
        let sid = push(EventAttributes::ActivityTaskScheduled(Arc::new(
            ActivityTaskScheduled {
                activity_id: (i + 1).to_string(),
                activity_type: "step".to_string(),
                task_queue: TaskQueue::normal("q"),
                input: Some(Payloads::json(&i).unwrap()),
                start_to_close_timeout: Some(Duration::from_secs(5)),
                workflow_task_completed_event_id: completed,
                ..Default::default()
            },
        )));
        let started = push(EventAttributes::ActivityTaskStarted(Arc::new(
            ActivityTaskStarted {
                scheduled_event_id: sid,
                attempt: 1,
                ..Default::default()
            },
        )));
        push(EventAttributes::ActivityTaskCompleted(Arc::new(
            ActivityTaskCompleted {
                result: Some(Payloads::json(&format!("done {i}")).unwrap()),
                scheduled_event_id: sid,
                started_event_id: started,
                ..Default::default()
            },
        )));
    }
    let completed = wft(&mut push);
    push(EventAttributes::WorkflowExecutionCompleted(Arc::new(
        WorkflowExecutionCompleted {
            result: Some(Payloads::json(&format!("done {}", n - 1)).unwrap()),
            workflow_task_completed_event_id: completed,
            ..Default::default()
        },
    )));
    History::new(events)
}

/// Median over `runs` runs of the time per iteration, each run `iters` iterations.
fn median_per_iter(runs: usize, iters: u32, mut f: impl FnMut()) -> Duration {
    for _ in 0..iters.min(100) {
        f(); // warm up
    }
    let mut per: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..iters {
                f();
            }
            t.elapsed() / iters
        })
        .collect();
    per.sort();
    per[runs / 2]
}

fn report(what: &str, events: usize, per: Duration) {
    let us = per.as_secs_f64() * 1e6;
    println!(
        "{what:<44} {events:>6} events  median {us:>10.1} us/history  {:>10.0} histories/s  {:>6.0} ns/event",
        1.0 / per.as_secs_f64(),
        per.as_secs_f64() * 1e9 / events as f64
    );
}

fn assert_closed(o: &ReplayOutcome) {
    assert!(
        matches!(o, ReplayOutcome::Closed { result: Ok(_), .. }),
        "{o:?}"
    );
}

/// Parse+replay of transfer-completed.json here and in Temporal's Python replayer
/// (`benches/python_replayer.py`), in 5 alternating rounds: both medians and the median of the
/// per-round ratios. The Python side needs `temporalio` in `$DURASIM_PYTHON` (default
/// `python3`); without it the comparison is skipped with a note on how to run it.
fn against_python_replayer(registry: &Registry, json: &str) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let script = root.join("benches/python_replayer.py");
    let history = root.join("fixtures/temporal-histories/transfer-completed.json");
    let python_round = || external::median_us(&[script.as_ref(), history.as_ref(), "200".as_ref()]);
    let (mut ours, mut theirs, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..5 {
        let per = median_per_iter(5, 1_000, || {
            let h = parse_history(black_box(json)).unwrap();
            black_box(replay(registry, &h));
        });
        let us = per.as_secs_f64() * 1e6;
        let py = match python_round() {
            Ok(py) => py,
            Err(e) => {
                println!(
                    "  Temporal's Python replayer: not measured ({e}); to compare side by side: \
                     pip install temporalio, then DURASIM_PYTHON=/path/to/python cargo bench -p sim --bench replay"
                );
                return;
            }
        };
        ours.push(us);
        theirs.push(py);
        ratios.push(py / us);
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "  side by side, 5 alternating rounds: parse+replay here median {:.1} us, Temporal's \
         Python replayer (unsandboxed, batches of 20) {:.0} us; ratio {:.0}x (median of per-round \
         ratios {})",
        median(ours.clone()),
        median(theirs.clone()),
        median(ratios.clone()),
        ratios
            .iter()
            .map(|r| format!("{r:.0}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
}

fn main() {
    let registry = registry();
    let json = transfer_json();
    let transfer = parse_history(&json).expect("parse transfer-completed.json");
    assert_closed(&replay(&registry, &transfer));
    let n = transfer.len();

    let per = median_per_iter(9, 2_000, || {
        let h = parse_history(black_box(&json)).unwrap();
        black_box(replay(&registry, &h));
    });
    report("transfer-completed.json parse+replay", n, per);
    let per = median_per_iter(9, 5_000, || {
        black_box(replay(&registry, black_box(&transfer)));
    });
    report("transfer-completed.json replay only", n, per);
    against_python_replayer(&registry, &json);

    let mut per_event = Vec::new();
    for steps in [833u32, 1_666, 3_333] {
        let h = many_steps_history(steps);
        assert_closed(&replay(&registry, &h));
        let per = median_per_iter(7, 20, || {
            black_box(replay(&registry, black_box(&h)));
        });
        report(
            &format!("ManySteps({steps}) generated, replay only"),
            h.len(),
            per,
        );
        per_event.push(per.as_secs_f64() / h.len() as f64);
    }
    let growth = per_event[2] / per_event[0];
    println!("  time per event, 20k vs 5k events: {growth:.2}x (1.0 = linear)");
    assert!(growth < 2.0, "replay is not linear in history length");
}
