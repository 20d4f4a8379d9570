//! Activity behaviour against Temporal Server 1.32's recordings
//! (`fixtures/temporal-histories/activity_features.py`, recorded by `record_activities.py`): the
//! same workflows ported to this SDK run in the simulation, and each history is compared with the
//! recorded one: event types, the timeouts on ActivityTaskScheduled, the final attempt, retry
//! state, failure message, timeout type, cause, last heartbeat details, and the time from the
//! final attempt's start to the activity's close.
#![cfg(madsim)]

use std::time::Duration;

use sim::history::EventType;
use sim::history::{EventAttributes, Failure, FailureInfo, History, RetryPolicy};
use sim::sdk::ActivityCancellationType;
use sim::{
    ActivityContext, ActivityError, ActivityOptions, Registry, TestEnv, WorkflowContext,
    WorkflowError,
};

mod common;
use common::fixture;

/// `hang` of activity_features.py.
async fn hang(ctx: ActivityContext, mode: String) -> Result<String, ActivityError> {
    let attempt = ctx.attempt();
    if mode == "fail" || (mode == "fail-once" && attempt == 1) {
        return Err(ActivityError::retryable(
            "Flaky",
            format!("attempt {attempt} failed"),
        ));
    }
    if mode == "late" {
        tokio::time::sleep(Duration::from_millis(2500)).await;
        let _ = ctx.heartbeat(&"late").await;
    }
    if mode == "beat" {
        let previous: String = ctx
            .last_heartbeat_details()
            .unwrap_or_else(|| "none".to_string());
        let _ = ctx
            .heartbeat(&format!("attempt {attempt} after {previous}"))
            .await;
    }
    tokio::time::sleep(Duration::from_secs(3600)).await;
    Ok("never".to_string())
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn policy(initial_secs: u64, maximum_attempts: i32) -> RetryPolicy {
    RetryPolicy {
        initial_interval: Some(secs(initial_secs)),
        maximum_attempts,
        ..RetryPolicy::default()
    }
}

/// `Timeouts` of activity_features.py: one activity shaped by `case`; returns how it ended.
async fn timeouts(ctx: WorkflowContext, case: String) -> Result<String, WorkflowError> {
    let (opts, arg) = match case.as_str() {
        "heartbeat" => (
            ActivityOptions::start_to_close(secs(60))
                .with_heartbeat_timeout(secs(1))
                .with_retry_policy(policy(1, 2)),
            "beat",
        ),
        "heartbeat-silent" => (
            ActivityOptions::start_to_close(secs(60))
                .with_heartbeat_timeout(secs(1))
                .with_retry_policy(policy(1, 1)),
            "silent",
        ),
        "heartbeat-3s" | "heartbeat-late" => (
            ActivityOptions::start_to_close(secs(60))
                .with_heartbeat_timeout(secs(3))
                .with_retry_policy(policy(1, 1)),
            if case == "heartbeat-3s" {
                "beat"
            } else {
                "late"
            },
        ),
        "fail-then-timeout" => (
            ActivityOptions::start_to_close(secs(2)).with_retry_policy(policy(1, 2)),
            "fail-once",
        ),
        "schedule-to-close-retries" => (
            ActivityOptions::schedule_to_close(secs(4)).with_retry_policy(policy(1, 0)),
            "fail",
        ),
        _ => (
            ActivityOptions::schedule_to_close(secs(3))
                .with_start_to_close_timeout(secs(2))
                .with_retry_policy(policy(1, 0)),
            "silent",
        ),
    };
    match ctx.start_activity::<String, _>("hang", arg, opts).await {
        Ok(r) => Ok(r),
        Err(e) => Ok(format!("{:?}", e.failure.message)),
    }
}

/// `patient` of activity_features.py: heartbeats every 200 ms for up to 3 s; told of
/// cancellation, it ends cancelled 1 s later; never told (abandoned), it completes.
async fn patient(ctx: ActivityContext, _mode: String) -> Result<String, ActivityError> {
    for _ in 0..15 {
        if ctx.heartbeat(&"beating").await.is_err() {
            tokio::time::sleep(Duration::from_secs(1)).await;
            return Err(ActivityError::cancelled());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok("completed".to_string())
}

/// `CancelActivity` of activity_features.py: cancels `patient` after 1 s with the given
/// cancellation type, waits for the activity's outcome, sleeps 3 s, returns what it saw.
async fn cancel_activity(
    ctx: WorkflowContext,
    (cancellation_type, mode): (String, String),
) -> Result<String, WorkflowError> {
    let cancellation_type = match cancellation_type.as_str() {
        "TRY_CANCEL" => ActivityCancellationType::TryCancel,
        "WAIT_CANCELLATION_COMPLETED" => ActivityCancellationType::WaitCancellationCompleted,
        _ => ActivityCancellationType::Abandon,
    };
    let opts = ActivityOptions::start_to_close(secs(30))
        .with_heartbeat_timeout(secs(2))
        .with_cancellation_type(cancellation_type);
    let handle = ctx.start_activity::<String, _>("patient", &mode, opts);
    ctx.timer(secs(1)).await;
    handle.cancel();
    let outcome = match handle.await {
        Ok(r) => r,
        Err(e) if e.is_cancelled() => "CancelledError".to_string(),
        Err(e) => e.failure.message,
    };
    ctx.timer(secs(3)).await;
    Ok(outcome)
}

fn registry() -> Registry {
    let mut registry = Registry::new();
    registry
        .register_workflow("Timeouts", timeouts)
        .register_workflow("CancelActivity", cancel_activity)
        .register_activity("hang", hang)
        .register_activity("patient", patient);
    registry
}

fn env() -> TestEnv {
    TestEnv::new(registry()).task_queue("activities")
}

/// Temporal's recorded history replays against the port without a non-determinism error.
fn replays(history: &History) {
    match sim::replay(&registry(), history) {
        sim::ReplayOutcome::Closed { close, .. } => {
            assert_eq!(close, EventType::WorkflowExecutionCompleted)
        }
        other => panic!("{other:?}"),
    }
}

/// What is compared of a failure: message, kind, timeout type, heartbeat details, and its cause
/// chain (recursively).
fn failure_shape(f: &Failure) -> String {
    let info = match &f.info {
        FailureInfo::Timeout {
            timeout_type,
            last_heartbeat_details,
        } => format!(
            "timeout {timeout_type:?} details {:?}",
            last_heartbeat_details
                .as_ref()
                .and_then(|p| p.decode_first::<String>().ok())
        ),
        FailureInfo::Application { error_type, .. } => format!("application {error_type}"),
        FailureInfo::Server { non_retryable } => format!("server {non_retryable}"),
        other => format!("{other:?}"),
    };
    let cause = f
        .cause
        .as_ref()
        .map(|c| format!(" <- {}", failure_shape(c)))
        .unwrap_or_default();
    format!("{:?} [{info}]{cause}", f.message)
}

/// The attributes that matter of an activity's history, as text lines.
fn activity_shape(h: &History) -> Vec<String> {
    let mut out = vec![format!("{:?}", h.event_types())];
    let mut started_at = None;
    for e in &h.events {
        match &e.attributes {
            EventAttributes::ActivityTaskScheduled(s) => out.push(format!(
                "scheduled s2c {:?} s2s {:?} stc {:?} hb {:?} attempts {:?}",
                s.schedule_to_close_timeout,
                s.schedule_to_start_timeout,
                s.start_to_close_timeout,
                s.heartbeat_timeout,
                s.retry_policy.as_ref().map(|p| p.maximum_attempts)
            )),
            EventAttributes::ActivityTaskStarted(s) => {
                started_at = Some(e.event_time);
                out.push(format!(
                    "started attempt {} last failure {:?}",
                    s.attempt,
                    s.last_failure.as_ref().map(failure_shape)
                ));
            }
            EventAttributes::ActivityTaskTimedOut(t) => {
                let ran = e.event_time.since(started_at.expect("started"));
                out.push(format!(
                    "timed out {:?} {} after ~{} ms",
                    t.retry_state,
                    failure_shape(t.failure.as_ref().expect("failure")),
                    // to 100 ms: the recording's own latencies are a few ms
                    (ran.as_millis() + 50) / 100 * 100
                ));
            }
            EventAttributes::ActivityTaskFailed(t) => out.push(format!(
                "failed {:?} {}",
                t.retry_state,
                failure_shape(t.failure.as_ref().expect("failure"))
            )),
            _ => {}
        }
    }
    out
}

fn compare(case: &str) {
    let id = format!("activity-{case}");
    let case_arg = case.to_string();
    let run = env().run(move |client| async move {
        let h = client.start("Timeouts", &id, &case_arg).await.unwrap();
        h.result::<String>().await.unwrap()
    });
    assert!(run.violations.is_empty(), "{:?}", run.violations);
    let ours = activity_shape(run.history(&format!("activity-{case}")).expect("history"));
    let theirs = activity_shape(&fixture(&format!("activity-{case}")));
    assert_eq!(ours, theirs, "{case}: ours vs Temporal's");
    replays(&fixture(&format!("activity-{case}")));
}

#[test]
fn heartbeat_once_then_hang_times_out_after_two_seconds_with_details_and_cause() {
    compare("heartbeat");
}

#[test]
fn no_heartbeat_times_out_after_one_second() {
    compare("heartbeat-silent");
}

#[test]
fn heartbeat_at_start_with_three_second_timeout_times_out_after_four() {
    compare("heartbeat-3s");
}

#[test]
fn late_heartbeat_moves_the_timeout_to_its_expiry() {
    compare("heartbeat-late");
}

#[test]
fn a_timeout_after_a_failed_attempt_has_that_failure_as_cause() {
    compare("fail-then-timeout");
}

#[test]
fn worker_failures_stopped_by_schedule_to_close_fail_with_retry_state_timeout() {
    compare("schedule-to-close-retries");
}

#[test]
fn a_timeout_whose_retry_would_pass_schedule_to_close_says_not_enough_time() {
    compare("schedule-to-close-after-timeout");
}

/// The events of a cancellation history that matter: types in order, with which scheduled
/// event and cancel request each activity event names.
fn cancel_shape(h: &History) -> Vec<String> {
    h.events
        .iter()
        .map(|e| match &e.attributes {
            EventAttributes::ActivityTaskCancelRequested(c) => {
                format!("CancelRequested of {}", c.scheduled_event_id)
            }
            EventAttributes::ActivityTaskCanceled(c) => format!(
                "Canceled of {} after request {}",
                c.scheduled_event_id, c.latest_cancel_requested_event_id
            ),
            EventAttributes::ActivityTaskCompleted(c) => {
                format!("ActivityCompleted of {}", c.scheduled_event_id)
            }
            _ => format!("{:?}", e.event_type()),
        })
        .collect()
}

fn compare_cancel(cancellation_type: &str) {
    let id = format!(
        "cancel-{}",
        cancellation_type.to_lowercase().replace('_', "-")
    );
    let (wid, ty) = (id.clone(), cancellation_type.to_string());
    let run = env().run(move |client| async move {
        let h = client
            .start("CancelActivity", &wid, &(ty, "slow".to_string()))
            .await
            .unwrap();
        h.result::<String>().await.unwrap()
    });
    assert!(run.violations.is_empty(), "{:?}", run.violations);
    let ours = run.history(&id).expect("history").clone();
    let theirs = fixture(&id);
    assert_eq!(
        cancel_shape(&ours),
        cancel_shape(&theirs),
        "{id}: ours vs Temporal's"
    );
    assert_eq!(run.value(), "CancelledError");
    // And Temporal's recording (two positional arguments) replays against the port.
    replays(&theirs);
    let abandoned = cancellation_type == "ABANDON";
    assert_eq!(
        ours.event_types()
            .contains(&EventType::ActivityTaskCancelRequested),
        !abandoned
    );
}

#[test]
fn try_cancel_requests_cancellation_and_goes_on_at_once() {
    compare_cancel("TRY_CANCEL");
}

#[test]
fn wait_cancellation_completed_goes_on_only_after_activity_task_canceled() {
    compare_cancel("WAIT_CANCELLATION_COMPLETED");
}

#[test]
fn abandon_sends_no_request_and_the_activity_completes_unheard() {
    compare_cancel("ABANDON");
}
