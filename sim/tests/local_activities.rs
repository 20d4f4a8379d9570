//! Local activities in durasim's SDK: run by the worker inside the workflow task, recorded as the
//! `core_local_activity` markers core writes, replayed from them, retried with the local retry
//! threshold (longer backoffs become a timer), and covered by exactly-once. Compared with
//! Temporal's `local-activity-patched.json` (Python SDK 1.35 on Server 1.32, `features.py`'s
//! `LocalAndPatched`).
#![cfg(madsim)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use sim::history::{EventAttributes, EventType, History, HistoryEvent, RetryPolicy};
use sim::sdk::{parse_local_activity_marker, LocalActivityOptions, LOCAL_ACTIVITY_MARKER_NAME};
use sim::{
    ActivityContext, ActivityError, Caller, Registry, ReplayOutcome, ServiceCtx, ServiceLogic,
    TestEnv, WorkflowContext, WorkflowError,
};

mod common;
use common::fixture;

/// `shout` of features.py.
async fn shout(_ctx: ActivityContext, text: String) -> Result<String, ActivityError> {
    Ok(format!("{}!", text.to_uppercase()))
}

/// `LocalAndPatched` of features.py: a local activity behind a patch.
async fn local_and_patched(ctx: WorkflowContext, text: String) -> Result<String, WorkflowError> {
    if ctx.patched("use-local-activity") {
        let opts = LocalActivityOptions::start_to_close(Duration::from_secs(5));
        return Ok(ctx
            .local_activity::<String, _>("shout", &text, opts)
            .await?);
    }
    Ok(text)
}

/// The same workflow with the local activity's type changed.
async fn local_and_patched_changed(
    ctx: WorkflowContext,
    text: String,
) -> Result<String, WorkflowError> {
    if ctx.patched("use-local-activity") {
        let opts = LocalActivityOptions::start_to_close(Duration::from_secs(5));
        return Ok(ctx
            .local_activity::<String, _>("whisper", &text, opts)
            .await?);
    }
    Ok(text)
}

fn registry() -> Registry {
    let mut r = Registry::new();
    r.register_workflow("LocalAndPatched", local_and_patched)
        .register_activity("shout", shout);
    r
}

/// Temporal's history without its UpsertWorkflowSearchAttributes event (the
/// `TemporalChangeVersion` upsert the Python SDK writes with every patch), events renumbered:
/// durasim's SDK does not write search attributes (that work is elsewhere), so its histories of
/// this workflow are Temporal's without that event.
fn without_search_attribute_upsert(h: &History) -> History {
    let mut events: Vec<HistoryEvent> = h
        .events
        .iter()
        .filter(|e| e.event_type() != EventType::UpsertWorkflowSearchAttributes)
        .cloned()
        .collect();
    for (i, e) in events.iter_mut().enumerate() {
        e.event_id = i as i64 + 1;
    }
    History::new(events)
}

/// The marker attributes that matter: name, and for local activities the marker data (but the
/// times) and the result.
fn marker_shape(h: &History) -> Vec<String> {
    h.events
        .iter()
        .filter_map(|e| match &e.attributes {
            EventAttributes::MarkerRecorded(m) if m.marker_name == LOCAL_ACTIVITY_MARKER_NAME => {
                let d = parse_local_activity_marker(&m.details).expect("core's marker data");
                Some(format!(
                    "{} seq {} attempt {} id {} type {} backoff {:?} result {:?} failure {:?}",
                    m.marker_name,
                    d.seq,
                    d.attempt,
                    d.activity_id,
                    d.activity_type,
                    d.backoff,
                    m.details
                        .get("result")
                        .and_then(|p| p.decode_first::<String>().ok()),
                    m.failure.as_ref().map(|f| f.message.clone())
                ))
            }
            EventAttributes::MarkerRecorded(m) => Some(m.marker_name.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn local_and_patched_writes_temporals_events_and_markers() {
    let run = TestEnv::new(registry())
        .task_queue("features")
        .run(|client| async move {
            let h = client
                .start("LocalAndPatched", "local-activity-patched", "hello")
                .await
                .unwrap();
            h.result::<String>().await.unwrap()
        });
    assert!(run.violations.is_empty(), "{:?}", run.violations);
    let ours = run.history("local-activity-patched").unwrap().clone();
    let theirs = without_search_attribute_upsert(&fixture("local-activity-patched"));
    assert_eq!(ours.event_types(), theirs.event_types());
    assert_eq!(marker_shape(&ours), marker_shape(&theirs));
    assert_eq!(run.value(), "HELLO!");
}

#[test]
fn temporals_local_activity_history_replays_against_the_port() {
    let theirs = without_search_attribute_upsert(&fixture("local-activity-patched"));
    match sim::replay(&registry(), &theirs) {
        ReplayOutcome::Closed { result, close } => {
            assert_eq!(close, EventType::WorkflowExecutionCompleted);
            let value: String = result.unwrap().unwrap().decode_first().unwrap();
            assert_eq!(
                value, "HELLO!",
                "the marker answered: the activity did not run"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_changed_local_activity_type_is_a_nondeterminism_error() {
    let theirs = without_search_attribute_upsert(&fixture("local-activity-patched"));
    let mut changed = Registry::new();
    changed
        .register_workflow("LocalAndPatched", local_and_patched_changed)
        .register_activity("whisper", shout);
    match sim::replay(&changed, &theirs) {
        ReplayOutcome::Failed(e) => {
            let text = e.to_string();
            assert!(text.contains("whisper"), "{text}");
            assert!(text.contains("shout"), "{text}");
        }
        other => panic!("{other:?}"),
    }
}

/// Fails `fails` times (retryable), then returns its attempt.
async fn flaky(ctx: ActivityContext, fails: i32) -> Result<i32, ActivityError> {
    if ctx.attempt() <= fails {
        return Err(ActivityError::retryable(
            "Flaky",
            format!("attempt {} failed", ctx.attempt()),
        ));
    }
    Ok(ctx.attempt())
}

async fn retried(
    ctx: WorkflowContext,
    (fails, initial_secs): (i32, u64),
) -> Result<i32, WorkflowError> {
    let opts = LocalActivityOptions::start_to_close(Duration::from_secs(5)).with_retry_policy(
        RetryPolicy {
            initial_interval: Some(Duration::from_secs(initial_secs)),
            backoff_coefficient: Some(2.0),
            maximum_interval: Some(Duration::from_secs(1000)),
            ..RetryPolicy::default()
        },
    );
    Ok(ctx.local_activity::<i32, _>("flaky", &fails, opts).await?)
}

/// `retried` with a 2 s first backoff and the local retry threshold set to `threshold_secs`.
async fn retried_with_threshold(
    ctx: WorkflowContext,
    threshold_secs: u64,
) -> Result<i32, WorkflowError> {
    let opts = LocalActivityOptions::start_to_close(Duration::from_secs(5))
        .with_retry_policy(RetryPolicy {
            initial_interval: Some(Duration::from_secs(2)),
            ..RetryPolicy::default()
        })
        .with_local_retry_threshold(Duration::from_secs(threshold_secs));
    Ok(ctx.local_activity::<i32, _>("flaky", &1, opts).await?)
}

fn retry_env() -> TestEnv {
    let mut r = Registry::new();
    r.register_workflow("Retried", retried)
        .register_workflow("RetriedWithThreshold", retried_with_threshold)
        .register_activity("flaky", flaky);
    TestEnv::new(r)
}

#[test]
fn short_backoffs_retry_inside_the_task_and_one_marker_records_the_last_attempt() {
    // Backoffs 1, 2, 4 s: all under the one-minute threshold.
    let run = retry_env().run(|client| async move {
        let h = client.start("Retried", "short", &(3, 1u64)).await.unwrap();
        h.result::<i32>().await.unwrap()
    });
    assert!(run.violations.is_empty(), "{:?}", run.violations);
    let h = run.history("short").unwrap().clone();
    assert_eq!(
        h.event_types(),
        vec![
            EventType::WorkflowExecutionStarted,
            EventType::WorkflowTaskScheduled,
            EventType::WorkflowTaskStarted,
            EventType::WorkflowTaskCompleted,
            EventType::MarkerRecorded,
            EventType::WorkflowExecutionCompleted,
        ]
    );
    let shape = marker_shape(&h);
    assert!(shape[0].contains("attempt 4"), "{shape:?}");
    assert_eq!(run.value(), 4);
}

#[test]
fn a_backoff_over_the_local_retry_threshold_becomes_a_timer() {
    // A first backoff of 61 s: over the one-minute threshold, so a marker with the backoff and
    // a timer, then the next attempt in a later task. (Backoffs inside the task must also fit
    // the workflow task timeout: this worker does not heartbeat workflow tasks as core does.)
    let run = retry_env().run(|client| async move {
        let h = client.start("Retried", "long", &(1, 61u64)).await.unwrap();
        h.result::<i32>().await.unwrap()
    });
    assert!(run.violations.is_empty(), "{:?}", run.violations);
    let h = run.history("long").unwrap().clone();
    let types = h.event_types();
    let marker_then_timer = types
        .windows(2)
        .any(|w| w == [EventType::MarkerRecorded, EventType::TimerStarted]);
    assert!(marker_then_timer, "{types:?}");
    let shape = marker_shape(&h);
    assert_eq!(shape.len(), 2, "{shape:?}");
    assert!(
        shape[0].contains("attempt 1") && shape[0].contains("backoff Some"),
        "{shape:?}"
    );
    assert!(
        shape[1].contains("attempt 2") && shape[1].contains("backoff None"),
        "{shape:?}"
    );
    assert!(
        shape[1].contains("id 1 "),
        "the retry keeps the activity id: {shape:?}"
    );
    assert_eq!(run.value(), 2);
    let timer = h
        .events
        .iter()
        .find_map(|e| match &e.attributes {
            EventAttributes::TimerStarted(t) => Some(t.start_to_fire_timeout),
            _ => None,
        })
        .unwrap();
    assert_eq!(timer, Some(Duration::from_secs(61)));
}

/// A ledger service whose `apply` is an effect deduplicated by key.
#[derive(Default)]
struct Ledger {
    keys: Mutex<std::collections::BTreeSet<String>>,
}

impl ServiceLogic for Ledger {
    fn name(&self) -> &str {
        "ledger"
    }
    fn effect_operations(&self) -> &[&str] {
        &["apply"]
    }
    fn handle(
        &self,
        ctx: &ServiceCtx<'_>,
        operation: &str,
        body: &serde_json::Value,
        caller: Option<&Caller>,
    ) -> Result<serde_json::Value, (String, String)> {
        let key = body["key"].as_str().unwrap_or_default().to_string();
        let applied = if body["dedup"].as_bool().unwrap_or(true) {
            self.keys.lock().unwrap().insert(key.clone())
        } else {
            true
        };
        ctx.ledger
            .record("ledger", operation, &key, applied, caller, body.clone());
        Ok(serde_json::json!("ok"))
    }
    fn snapshot(&self) -> serde_json::Value {
        serde_json::json!(self.keys.lock().unwrap().len())
    }
}

async fn apply(ctx: ActivityContext, dedup: bool) -> Result<String, ActivityError> {
    let body = serde_json::json!({ "key": ctx.idempotency_key(), "dedup": dedup });
    ctx.call_service("ledger", "apply", body).await?;
    if ctx.attempt() == 1 {
        // Applied, then the attempt fails: the retry calls again.
        return Err(ActivityError::retryable(
            "AfterEffect",
            "failed after the effect",
        ));
    }
    Ok("applied".to_string())
}

async fn applies(ctx: WorkflowContext, dedup: bool) -> Result<String, WorkflowError> {
    let opts = LocalActivityOptions::start_to_close(Duration::from_secs(5));
    Ok(ctx
        .local_activity::<String, _>("apply", &dedup, opts)
        .await?)
}

fn ledger_env() -> TestEnv {
    let mut r = Registry::new();
    r.register_workflow("Applies", applies)
        .register_activity("apply", apply);
    TestEnv::new(r).services(|| vec![Arc::new(Ledger::default()) as Arc<dyn ServiceLogic>])
}

#[test]
fn exactly_once_accepts_a_deduplicated_local_activity_effect() {
    let run = ledger_env().run(|client| async move {
        let h = client.start("Applies", "dedup", &true).await.unwrap();
        h.result::<String>().await.unwrap()
    });
    assert!(run.violations.is_empty(), "{:?}", run.violations);
    assert_eq!(run.outcome.effects.len(), 2, "{:?}", run.outcome.effects);
}

#[test]
fn exactly_once_catches_a_local_activity_applied_twice() {
    let run = ledger_env().run(|client| async move {
        let h = client.start("Applies", "twice", &false).await.unwrap();
        h.result::<String>().await.unwrap()
    });
    let names: Vec<&str> = run
        .violations
        .iter()
        .map(|v| v.invariant.as_str())
        .collect();
    assert!(names.contains(&"exactly-once"), "{:?}", run.violations);
}

/// `LocalAndPatched` asking for a second local activity the history never recorded.
async fn local_twice(ctx: WorkflowContext, text: String) -> Result<String, WorkflowError> {
    if ctx.patched("use-local-activity") {
        let opts = LocalActivityOptions::start_to_close(Duration::from_secs(5));
        let once: String = ctx.local_activity("shout", &text, opts.clone()).await?;
        return Ok(ctx
            .local_activity::<String, _>("shout", &once, opts)
            .await?);
    }
    Ok(text)
}

#[test]
fn a_local_activity_the_history_never_recorded_is_a_nondeterminism_error() {
    let theirs = without_search_attribute_upsert(&fixture("local-activity-patched"));
    let mut changed = Registry::new();
    changed
        .register_workflow("LocalAndPatched", local_twice)
        .register_activity("shout", shout);
    match sim::replay(&changed, &theirs) {
        ReplayOutcome::Failed(e) => {
            let text = e.to_string();
            assert!(
                text.contains("no local activity marker for seq 2"),
                "{text}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_local_retry_threshold_of_the_options_decides_timer_or_in_task_retry() {
    // The same 2 s backoff: under a 3 s threshold it is waited for inside the task (one
    // marker); over a 1 s threshold it becomes a marker with the backoff and a timer.
    for (threshold, markers, timers) in [(3u64, 1usize, 0usize), (1, 2, 1)] {
        let id = format!("threshold-{threshold}");
        let wid = id.clone();
        let run = retry_env().run(move |client| async move {
            let h = client
                .start("RetriedWithThreshold", &wid, &threshold)
                .await
                .unwrap();
            h.result::<i32>().await.unwrap()
        });
        assert!(run.violations.is_empty(), "{:?}", run.violations);
        let h = run.history(&id).unwrap().clone();
        let count = |t: EventType| h.event_types().iter().filter(|e| **e == t).count();
        assert_eq!(
            (
                count(EventType::MarkerRecorded),
                count(EventType::TimerStarted)
            ),
            (markers, timers),
            "threshold {threshold} s: {:?}",
            h.event_types()
        );
        assert_eq!(run.value(), 2);
    }
}
