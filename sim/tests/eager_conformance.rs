//! Eager activity execution against Temporal Server 1.32's recordings
//! (`fixtures/temporal-histories/eager_features.py`, recorded by `record_eager.py`): `FanOut`
//! schedules five activities in one workflow task. With eager execution on, the completing
//! worker takes three of them (core's cap per task) and the server starts them with the
//! completion, by that worker; the other two go through the task queue. With it off, all five
//! go through the queue. Temporal's history does not say which starts were eager: in the
//! recording they show by timing (started within a millisecond of their scheduling, by the
//! completing worker; the queued ones took 4-6 ms through matching). In the simulation a parked
//! poll takes a queued task at the same instant, so ours are read from what the workers were
//! handed: the completions' replies.
#![cfg(madsim)]

use std::collections::BTreeSet;
use std::time::Duration;

use sim::history::{EventAttributes, EventType, History};
use sim::{ActivityContext, ActivityError, ActivityOptions, Registry, TestEnv, WorkflowContext};

mod common;
use common::fixture;

/// `stamp` of eager_features.py.
async fn stamp(ctx: ActivityContext, n: i64) -> Result<String, ActivityError> {
    tokio::time::sleep(Duration::from_millis(200)).await;
    Ok(format!("{n} by {}", ctx.attempt()))
}

/// `FanOut` of eager_features.py: `count` activities at once, results in order.
async fn fan_out(ctx: WorkflowContext, count: i64) -> Result<Vec<String>, sim::WorkflowError> {
    let opts = ActivityOptions::start_to_close(Duration::from_secs(10));
    let futures = (1..=count)
        .map(|n| ctx.start_activity::<String, _>("stamp", &n, opts.clone()))
        .collect();
    let mut out = Vec::new();
    for r in sim::sdk::join_all(futures).await {
        out.push(r?);
    }
    Ok(out)
}

fn registry() -> Registry {
    let mut r = Registry::new();
    r.register_workflow("FanOut", fan_out)
        .register_activity("stamp", stamp);
    r
}

/// The activity ids whose first attempt the recorded server started eagerly: by the worker
/// that completed the scheduling task, within a millisecond of being scheduled.
fn eager_in_recording(h: &History) -> BTreeSet<String> {
    let by_id = |id: i64| &h.events[(id - 1) as usize];
    let mut out = BTreeSet::new();
    for e in &h.events {
        let EventAttributes::ActivityTaskStarted(s) = &e.attributes else {
            continue;
        };
        let scheduled = by_id(s.scheduled_event_id);
        let EventAttributes::ActivityTaskScheduled(a) = &scheduled.attributes else {
            panic!(
                "event {} is not ActivityTaskScheduled",
                s.scheduled_event_id
            );
        };
        let EventAttributes::WorkflowTaskCompleted(c) =
            &by_id(a.workflow_task_completed_event_id).attributes
        else {
            panic!("no WorkflowTaskCompleted for {}", a.activity_id);
        };
        let within_ms = e.event_time.since(scheduled.event_time) < Duration::from_millis(1);
        if s.attempt == 1 && s.identity == c.identity && within_ms {
            out.insert(a.activity_id.clone());
        }
    }
    out
}

/// The activity ids the simulated server handed back with workflow task completions (its
/// sends: the run has no faults, so each arrives).
fn eager_in_simulation(run: &sim::TestRun<Vec<String>>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for e in &run.outcome.trace {
        let Some(ids) = e
            .detail
            .as_deref()
            .and_then(|d| d.strip_prefix("eager activities "))
        else {
            continue;
        };
        if matches!(
            e.kind,
            sim::TraceKind::Send {
                msg: "WorkflowTaskCompleted",
                ..
            }
        ) {
            out.extend(ids.split(", ").map(str::to_string));
        }
    }
    out
}

/// Event types, sorted: the order of the five completions depends on timing.
fn type_counts(h: &History) -> Vec<EventType> {
    let mut t = h.event_types();
    t.sort_by_key(|t| format!("{t:?}"));
    t
}

fn compare(recording: &str, max_eager: usize, eager: &[&str]) {
    let run = TestEnv::new(registry())
        .task_queue("eager")
        .activity_slots(10)
        .max_eager_activities(max_eager)
        .run(|client| async move {
            let h = client.start("FanOut", "fan-out", &5i64).await.unwrap();
            h.result::<Vec<String>>().await.unwrap()
        });
    assert!(run.violations.is_empty(), "{:?}", run.violations);
    let expected: BTreeSet<String> = eager.iter().map(|s| s.to_string()).collect();
    let theirs = fixture(recording);
    assert_eq!(eager_in_recording(&theirs), expected, "the recording");
    assert_eq!(eager_in_simulation(&run), expected, "the simulation");
    let ours = run.history("fan-out").expect("history");
    assert_eq!(type_counts(ours), type_counts(&theirs));
    // Eager starts are written as Temporal writes them: by the completing worker, at the
    // completion.
    let completed = &ours.events[3];
    let EventAttributes::WorkflowTaskCompleted(c) = &completed.attributes else {
        panic!("event 4 is not WorkflowTaskCompleted")
    };
    for e in &ours.events {
        if let EventAttributes::ActivityTaskStarted(s) = &e.attributes {
            let id = (s.scheduled_event_id - 4).to_string();
            if expected.contains(&id) {
                assert_eq!(
                    (&s.identity, e.event_time),
                    (&c.identity, completed.event_time)
                );
            }
        }
    }
    assert_eq!(
        run.value(),
        (1..=5).map(|n| format!("{n} by 1")).collect::<Vec<_>>()
    );
    match sim::replay(&registry(), &theirs) {
        sim::ReplayOutcome::Closed { close, .. } => {
            assert_eq!(close, EventType::WorkflowExecutionCompleted)
        }
        other => panic!("{recording} does not replay: {other:?}"),
    }
}

#[test]
fn the_completing_worker_takes_three_of_five_activities_eagerly_as_temporal_does() {
    compare("eager-fan-out", 3, &["1", "2", "3"]);
}

#[test]
fn with_eager_execution_off_every_activity_goes_through_the_queue() {
    compare("eager-off", 0, &[]);
}
