//! Whether a history read from outside (a file given to `sim show` or `sim replay`) is one
//! run's history, and one a Temporal server could have written: the first problem, naming
//! the event and the field.
//!
//! Invariant: pure functions of the history.

use super::event::{EventAttributes, EventType, History, HistoryEvent, RetryPolicy, Timestamp};
use super::time::format_timestamp;

impl History {
    /// Why this is not one run's history, if it is not: it has no events, or its event ids
    /// are not 1, 2, 3, ... in order.
    pub fn shape_problem(&self) -> Option<String> {
        if self.events.is_empty() {
            return Some("the history has no events".to_string());
        }
        self.events.iter().enumerate().find_map(|(i, e)| {
            let want = i as i64 + 1;
            (e.event_id != want).then(|| {
                format!(
                    "event {} (index {i}) has eventId {}, expected {want}: event ids count from \
                     1 without gaps, in order",
                    i + 1,
                    e.event_id
                )
            })
        })
    }

    /// Why a Temporal server could not have written this history, if it could not (checked
    /// before a replay, which would otherwise judge the workflow code on it): the shape
    /// ([`History::shape_problem`]), a first event other than WorkflowExecutionStarted, a retry
    /// policy the server refuses ([`RetryPolicy::problem`]), an event timed before the run
    /// started, or workflow-task events whose times run backwards (a replayed workflow's clock
    /// is the time of its workflow tasks). Other events may be timed before the event they
    /// follow: Temporal writes an activity's start, and signals received while a workflow task
    /// ran, with the time they happened.
    pub fn replay_problem(&self) -> Option<String> {
        if let Some(p) = self.shape_problem() {
            return Some(p);
        }
        let first = &self.events[0];
        if first.event_type() != EventType::WorkflowExecutionStarted {
            return Some(format!(
                "event 1 is {}: a history starts with WorkflowExecutionStarted",
                first.event_type().name()
            ));
        }
        let mut last_task: Option<&HistoryEvent> = None;
        for e in &self.events {
            let at = |what: String| format!("event {} ({}): {what}", e.event_id, e.event_type());
            if let Some((field, p)) = retry_policy(&e.attributes) {
                if let Some(what) = p.problem() {
                    return Some(at(format!("{field}.{what}")));
                }
            }
            if e.event_time < first.event_time {
                return Some(at(format!(
                    "eventTime {} is before the run started (event 1 at {})",
                    time(e.event_time),
                    time(first.event_time)
                )));
            }
            if e.event_type().is_workflow_task() {
                if let Some(prev) = last_task.filter(|p| e.event_time < p.event_time) {
                    return Some(at(format!(
                        "eventTime {} is before that of event {} ({}, {}): the times of \
                         workflow-task events never run backwards",
                        time(e.event_time),
                        prev.event_id,
                        prev.event_type(),
                        time(prev.event_time)
                    )));
                }
                last_task = Some(e);
            }
        }
        None
    }
}

fn time(t: Timestamp) -> String {
    format_timestamp(t)
}

/// The retry policy an event carries, with its key.
fn retry_policy(a: &EventAttributes) -> Option<(&'static str, &RetryPolicy)> {
    let (field, p) = match a {
        EventAttributes::WorkflowExecutionStarted(a) => ("retryPolicy", &a.retry_policy),
        EventAttributes::ActivityTaskScheduled(a) => ("retryPolicy", &a.retry_policy),
        EventAttributes::StartChildWorkflowExecutionInitiated(a) => {
            ("retryPolicy", &a.retry_policy)
        }
        EventAttributes::ActivityPropertiesModifiedExternally(a) => {
            ("newRetryPolicy", &a.new_retry_policy)
        }
        _ => return None,
    };
    p.as_ref().map(|p| (field, p))
}

impl RetryPolicy {
    /// What Temporal's server refuses in this policy (`ValidateRetryPolicy`), as
    /// `field value: why`: a backoff coefficient below 1 (or not a finite number; 0 is unset),
    /// negative maximum attempts, a maximum interval below the initial one, a blank
    /// non-retryable error type.
    pub fn problem(&self) -> Option<String> {
        if let Some(c) = self.backoff_coefficient {
            if c != 0.0 && !(c.is_finite() && c >= 1.0) {
                return Some(format!(
                    "backoffCoefficient {c}: must be a number of at least 1"
                ));
            }
        }
        if self.maximum_attempts < 0 {
            return Some(format!(
                "maximumAttempts {}: cannot be negative (0 is unlimited)",
                self.maximum_attempts
            ));
        }
        if let (Some(initial), Some(maximum)) = (self.initial_interval, self.maximum_interval) {
            if !maximum.is_zero() && maximum < initial {
                return Some(format!(
                    "maximumInterval {}: cannot be less than initialInterval {}",
                    super::time::format_duration(maximum),
                    super::time::format_duration(initial)
                ));
            }
        }
        if self
            .non_retryable_error_types
            .iter()
            .any(|t| t.trim().is_empty())
        {
            return Some("nonRetryableErrorTypes: cannot hold a blank error type".to_string());
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn retry_policies_temporal_refuses_are_named() {
        let p = |f: fn(&mut RetryPolicy)| {
            let mut p = RetryPolicy::temporal_default();
            f(&mut p);
            p.problem()
        };
        assert_eq!(p(|_| {}), None);
        assert_eq!(p(|p| p.backoff_coefficient = Some(0.0)), None);
        assert_eq!(p(|p| p.backoff_coefficient = Some(1.0)), None);
        assert_eq!(
            p(|p| p.backoff_coefficient = Some(-2.0)).as_deref(),
            Some("backoffCoefficient -2: must be a number of at least 1")
        );
        assert!(p(|p| p.backoff_coefficient = Some(0.5)).is_some());
        assert!(p(|p| p.backoff_coefficient = Some(f64::NAN)).is_some());
        assert!(p(|p| p.backoff_coefficient = Some(f64::INFINITY)).is_some());
        assert_eq!(
            p(|p| p.maximum_attempts = -3).as_deref(),
            Some("maximumAttempts -3: cannot be negative (0 is unlimited)")
        );
        assert!(p(|p| p.maximum_interval = Some(Duration::from_millis(10))).is_some());
        assert!(p(|p| p.non_retryable_error_types = vec![" ".into()]).is_some());
    }
}
