//! The messages and enums events share: task queues, timeout types, retry states and
//! policies, workflow task failure causes, marker details.
//!
//! Invariant: pure data, like every module of `history/`.

use std::collections::BTreeMap;
use std::time::Duration;

use super::event::Extra;
use super::payload::Payloads;

/// Task queue kind (`TASK_QUEUE_KIND_*`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TaskQueueKind {
    /// Not given (`TASK_QUEUE_KIND_UNSPECIFIED`); what a default-constructed queue has.
    #[default]
    Unspecified = 0,
    /// A named queue any worker polling that name can take tasks from.
    Normal = 1,
    /// A worker's own queue, on which the server places the next workflow tasks of the runs it has
    /// cached.
    Sticky = 2,
}

/// A task queue reference (`temporal.api.taskqueue.v1.TaskQueue`) as events carry it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TaskQueue {
    /// The queue's name; for a sticky queue, the worker-specific name (`19098@vm-44af...`).
    pub name: String,
    /// Normal or sticky; [`TaskQueueKind::Unspecified`] when the source did not say.
    pub kind: TaskQueueKind,
    /// For sticky queues: the normal queue it stands in for.
    pub normal_name: Option<String>,
    /// Attribute keys we do not model (`TaskQueue` fields beyond name, kind and normal name), kept
    /// verbatim so the event round-trips.
    pub extra: Extra,
}

impl TaskQueue {
    /// A normal queue named `name`.
    pub fn normal(name: impl Into<String>) -> Self {
        TaskQueue {
            name: name.into(),
            kind: TaskQueueKind::Normal,
            normal_name: None,
            extra: Extra::new(),
        }
    }

    /// The sticky queue `name` of a worker, standing in for the normal queue `normal_name`.
    pub fn sticky(name: impl Into<String>, normal_name: impl Into<String>) -> Self {
        TaskQueue {
            name: name.into(),
            kind: TaskQueueKind::Sticky,
            normal_name: Some(normal_name.into()),
            extra: Extra::new(),
        }
    }
}

/// `TIMEOUT_TYPE_*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TimeoutType {
    /// Not given (`TIMEOUT_TYPE_UNSPECIFIED`).
    Unspecified = 0,
    /// One attempt (of an activity or a workflow task) ran longer than its start-to-close timeout.
    /// Also how a crashed worker is noticed.
    StartToClose = 1,
    /// A task waited on its queue longer than its schedule-to-start timeout (for a workflow task:
    /// an unanswered sticky queue).
    ScheduleToStart = 2,
    /// An activity, over all its attempts and retry backoff, exceeded its schedule-to-close
    /// timeout.
    ScheduleToClose = 3,
    /// An activity went longer than its heartbeat timeout without heartbeating.
    Heartbeat = 4,
}

impl TimeoutType {
    /// The type with Temporal's number `n` (`TIMEOUT_TYPE_*`); unknown numbers are
    /// [`TimeoutType::Unspecified`].
    pub fn from_number(n: i32) -> TimeoutType {
        match n {
            1 => TimeoutType::StartToClose,
            2 => TimeoutType::ScheduleToStart,
            3 => TimeoutType::ScheduleToClose,
            4 => TimeoutType::Heartbeat,
            _ => TimeoutType::Unspecified,
        }
    }
}

/// `RETRY_STATE_*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RetryState {
    /// Not given (`RETRY_STATE_UNSPECIFIED`).
    Unspecified = 0,
    /// A retry is scheduled; the failure is not final.
    InProgress = 1,
    /// The failure was marked non-retryable, or its type is in the policy's
    /// `non_retryable_error_types`.
    NonRetryableFailure = 2,
    /// The schedule-to-close (or workflow execution) timeout left no time for another attempt.
    Timeout = 3,
    /// The policy's `maximum_attempts` were used up.
    MaximumAttemptsReached = 4,
    /// There is no retry policy (the workflow default), so no retry.
    RetryPolicyNotSet = 5,
    /// The server could not compute the retry.
    InternalServerError = 6,
    /// Cancellation was requested, so no retry.
    CancelRequested = 7,
}

impl RetryState {
    /// The state with Temporal's number `n` (`RETRY_STATE_*`); unknown numbers are
    /// [`RetryState::Unspecified`].
    pub fn from_number(n: i32) -> RetryState {
        match n {
            1 => RetryState::InProgress,
            2 => RetryState::NonRetryableFailure,
            3 => RetryState::Timeout,
            4 => RetryState::MaximumAttemptsReached,
            5 => RetryState::RetryPolicyNotSet,
            6 => RetryState::InternalServerError,
            7 => RetryState::CancelRequested,
            _ => RetryState::Unspecified,
        }
    }
}

/// `WORKFLOW_TASK_FAILED_CAUSE_*` (the ones the engine writes; others are kept by number).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WorkflowTaskFailedCause {
    /// Not given (0).
    Unspecified,
    /// The worker returned a terminal command while new events (a signal, an activity result) had
    /// arrived during the task (1).
    UnhandledCommand,
    /// The server rejected a ScheduleActivityTask command (no timeout, empty activity type, ...)
    /// (2).
    BadScheduleActivityAttributes,
    /// The server rejected a StartTimer command (empty id, non-positive duration) (4).
    BadStartTimerAttributes,
    /// The server rejected a RecordMarker command (empty marker name) (6).
    BadRecordMarkerAttributes,
    /// StartTimer used the id of a timer that is still pending (12).
    StartTimerDuplicateId,
    /// The workflow code panicked or the worker could not run the task (14).
    WorkflowWorkerUnhandledFailure,
    /// ScheduleActivityTask used the id of an activity that is still pending (22).
    ScheduleActivityDuplicateId,
    /// Replay found the code's commands diverging from history (24). The task is retried until the
    /// code is fixed; the workflow does not fail.
    NonDeterministicError,
    /// The task would exceed the limit on pending activities (2,000 by default) (27).
    PendingActivitiesLimitExceeded,
    /// The task would exceed the limit on pending signals (2,000 by default); in Temporal, signals
    /// this workflow sends to others (28).
    PendingSignalsLimitExceeded,
    /// Any other cause, by its proto number.
    Other(i32),
}

impl WorkflowTaskFailedCause {
    /// Temporal's proto number of this cause (`WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR`
    /// is 24).
    pub fn number(self) -> i32 {
        match self {
            WorkflowTaskFailedCause::Unspecified => 0,
            WorkflowTaskFailedCause::UnhandledCommand => 1,
            WorkflowTaskFailedCause::BadScheduleActivityAttributes => 2,
            WorkflowTaskFailedCause::BadStartTimerAttributes => 4,
            WorkflowTaskFailedCause::BadRecordMarkerAttributes => 6,
            WorkflowTaskFailedCause::StartTimerDuplicateId => 12,
            WorkflowTaskFailedCause::WorkflowWorkerUnhandledFailure => 14,
            WorkflowTaskFailedCause::ScheduleActivityDuplicateId => 22,
            WorkflowTaskFailedCause::NonDeterministicError => 24,
            WorkflowTaskFailedCause::PendingActivitiesLimitExceeded => 27,
            WorkflowTaskFailedCause::PendingSignalsLimitExceeded => 28,
            WorkflowTaskFailedCause::Other(n) => n,
        }
    }
}

/// An activity or workflow retry policy. `None` fields take Temporal's defaults when applied.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Delay before the first retry; each later delay is multiplied by `backoff_coefficient`.
    /// `None` (or zero): 1 s.
    pub initial_interval: Option<Duration>,
    /// Factor by which the delay grows per retry; must be at least 1. `None` (or below 1): 2.0.
    pub backoff_coefficient: Option<f64>,
    /// Cap on the delay between attempts. `None` (or zero): 100 x `initial_interval`.
    pub maximum_interval: Option<Duration>,
    /// 0 = unlimited, 1 = no retry.
    pub maximum_attempts: i32,
    /// Application error types (exact match on the failure's type) that are never retried.
    pub non_retryable_error_types: Vec<String>,
    /// Attribute keys we do not model (`RetryPolicy` fields we do not model), kept verbatim so the
    /// event round-trips.
    pub extra: Extra,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            initial_interval: None,
            backoff_coefficient: None,
            maximum_interval: None,
            maximum_attempts: 0,
            non_retryable_error_types: Vec::new(),
            extra: Extra::new(),
        }
    }
}

impl RetryPolicy {
    /// Temporal's default `initial_interval`: 1 s.
    pub const DEFAULT_INITIAL_INTERVAL: Duration = Duration::from_secs(1);
    /// Temporal's default `backoff_coefficient`: 2.0.
    pub const DEFAULT_BACKOFF_COEFFICIENT: f64 = 2.0;

    /// Temporal's default activity retry policy with every field filled in.
    pub fn temporal_default() -> Self {
        RetryPolicy {
            initial_interval: Some(Self::DEFAULT_INITIAL_INTERVAL),
            backoff_coefficient: Some(Self::DEFAULT_BACKOFF_COEFFICIENT),
            maximum_interval: Some(Self::DEFAULT_INITIAL_INTERVAL * 100),
            ..RetryPolicy::default()
        }
    }

    /// Fills unset fields with Temporal's defaults (as the server does when it accepts a
    /// ScheduleActivityTask command).
    pub fn with_defaults(&self) -> RetryPolicy {
        let initial = self
            .initial_interval
            .filter(|d| !d.is_zero())
            .unwrap_or(Self::DEFAULT_INITIAL_INTERVAL);
        let coefficient = self
            .backoff_coefficient
            .filter(|c| *c >= 1.0)
            .unwrap_or(Self::DEFAULT_BACKOFF_COEFFICIENT);
        let maximum = self
            .maximum_interval
            .filter(|d| !d.is_zero())
            .unwrap_or(initial * 100);
        RetryPolicy {
            initial_interval: Some(initial),
            backoff_coefficient: Some(coefficient),
            maximum_interval: Some(maximum),
            maximum_attempts: self.maximum_attempts,
            non_retryable_error_types: self.non_retryable_error_types.clone(),
            extra: self.extra.clone(),
        }
    }

    /// Delay before attempt `failed_attempt + 1`:
    /// `min(initial * coefficient^(failed_attempt - 1), maximum_interval)`.
    pub fn backoff(&self, failed_attempt: i32) -> Duration {
        let p = self.with_defaults();
        let initial = p.initial_interval.unwrap_or(Self::DEFAULT_INITIAL_INTERVAL);
        let maximum = p.maximum_interval.unwrap_or(initial * 100);
        let exp = failed_attempt.saturating_sub(1).clamp(0, 1000);
        let secs = initial.as_secs_f64() * p.backoff_coefficient.unwrap_or(2.0).powi(exp);
        if !secs.is_finite() || secs >= maximum.as_secs_f64() {
            maximum
        } else {
            Duration::from_secs_f64(secs)
        }
    }

    /// Whether another attempt is allowed after `failed_attempt` failed with `error_type`.
    pub fn should_retry(&self, failed_attempt: i32, error_type: &str, non_retryable: bool) -> bool {
        if non_retryable
            || self
                .non_retryable_error_types
                .iter()
                .any(|t| t == error_type)
        {
            return false;
        }
        self.maximum_attempts == 0 || failed_attempt < self.maximum_attempts
    }
}

/// Marker details: name -> payloads.
pub type MarkerDetails = BTreeMap<String, Payloads>;
