//! Events, their attributes, and the values inside them, with Temporal's names and numbering.
//!
//! Invariant: this module is pure data. It reads no clock, does no I/O, draws no randomness.
//! Attribute keys we do not model are kept in each struct's `extra` map (in their original JSON
//! form), so a history read from Temporal and written back loses nothing.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::failure::Failure;
use super::payload::Payloads;

/// A JSON object, in key order as read.
pub type JsonMap = serde_json::Map<String, serde_json::Value>;

/// Unmodelled JSON keys, kept verbatim in the order they were read. Almost always empty, so it
/// costs one pointer until a key is added (an event carries several of these; keeping them
/// small keeps a 10,000-workflow simulation's histories in cache).
#[derive(Clone, Debug, Default)]
pub struct Extra(Option<Box<JsonMap>>);

impl Extra {
    pub fn new() -> Self {
        Extra(None)
    }
}

fn empty_json_map() -> &'static JsonMap {
    static EMPTY: std::sync::OnceLock<JsonMap> = std::sync::OnceLock::new();
    EMPTY.get_or_init(JsonMap::new)
}

impl std::ops::Deref for Extra {
    type Target = JsonMap;

    fn deref(&self) -> &JsonMap {
        self.0.as_deref().unwrap_or_else(|| empty_json_map())
    }
}

impl std::ops::DerefMut for Extra {
    fn deref_mut(&mut self) -> &mut JsonMap {
        self.0.get_or_insert_with(Default::default)
    }
}

impl PartialEq for Extra {
    fn eq(&self, other: &Extra) -> bool {
        **self == **other
    }
}

impl From<JsonMap> for Extra {
    fn from(m: JsonMap) -> Extra {
        if m.is_empty() {
            Extra(None)
        } else {
            Extra(Some(Box::new(m)))
        }
    }
}

/// Event id within one run's history: starts at 1 and increases by 1.
pub type EventId = i64;

/// A point in (virtual) time: nanoseconds since the Unix epoch, UTC.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub const UNIX_EPOCH: Timestamp = Timestamp(0);

    pub fn from_nanos(nanos: i64) -> Self {
        Timestamp(nanos)
    }

    pub fn as_nanos(self) -> i64 {
        self.0
    }

    /// `self + d`, saturating.
    pub fn plus(self, d: Duration) -> Timestamp {
        Timestamp(
            self.0
                .saturating_add(i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)),
        )
    }

    /// `self - earlier`, zero when `earlier` is later.
    pub fn since(self, earlier: Timestamp) -> Duration {
        Duration::from_nanos(u64::try_from(self.0.saturating_sub(earlier.0)).unwrap_or(0))
    }
}

/// Event types with Temporal's numbering (`temporal.api.enums.v1.EventType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventType {
    WorkflowExecutionStarted = 1,
    WorkflowExecutionCompleted = 2,
    WorkflowExecutionFailed = 3,
    WorkflowExecutionTimedOut = 4,
    WorkflowTaskScheduled = 5,
    WorkflowTaskStarted = 6,
    WorkflowTaskCompleted = 7,
    WorkflowTaskTimedOut = 8,
    WorkflowTaskFailed = 9,
    ActivityTaskScheduled = 10,
    ActivityTaskStarted = 11,
    ActivityTaskCompleted = 12,
    ActivityTaskFailed = 13,
    ActivityTaskTimedOut = 14,
    ActivityTaskCancelRequested = 15,
    ActivityTaskCanceled = 16,
    TimerStarted = 17,
    TimerFired = 18,
    TimerCanceled = 19,
    WorkflowExecutionCancelRequested = 20,
    WorkflowExecutionCanceled = 21,
    MarkerRecorded = 25,
    WorkflowExecutionSignaled = 26,
    WorkflowExecutionTerminated = 27,
    WorkflowExecutionContinuedAsNew = 28,
}

impl EventType {
    pub const ALL: [EventType; 25] = [
        EventType::WorkflowExecutionStarted,
        EventType::WorkflowExecutionCompleted,
        EventType::WorkflowExecutionFailed,
        EventType::WorkflowExecutionTimedOut,
        EventType::WorkflowTaskScheduled,
        EventType::WorkflowTaskStarted,
        EventType::WorkflowTaskCompleted,
        EventType::WorkflowTaskTimedOut,
        EventType::WorkflowTaskFailed,
        EventType::ActivityTaskScheduled,
        EventType::ActivityTaskStarted,
        EventType::ActivityTaskCompleted,
        EventType::ActivityTaskFailed,
        EventType::ActivityTaskTimedOut,
        EventType::ActivityTaskCancelRequested,
        EventType::ActivityTaskCanceled,
        EventType::TimerStarted,
        EventType::TimerFired,
        EventType::TimerCanceled,
        EventType::WorkflowExecutionCancelRequested,
        EventType::WorkflowExecutionCanceled,
        EventType::MarkerRecorded,
        EventType::WorkflowExecutionSignaled,
        EventType::WorkflowExecutionTerminated,
        EventType::WorkflowExecutionContinuedAsNew,
    ];

    /// PascalCase name, as `temporal workflow show` prints it (`ActivityTaskScheduled`).
    pub fn name(self) -> &'static str {
        match self {
            EventType::WorkflowExecutionStarted => "WorkflowExecutionStarted",
            EventType::WorkflowExecutionCompleted => "WorkflowExecutionCompleted",
            EventType::WorkflowExecutionFailed => "WorkflowExecutionFailed",
            EventType::WorkflowExecutionTimedOut => "WorkflowExecutionTimedOut",
            EventType::WorkflowTaskScheduled => "WorkflowTaskScheduled",
            EventType::WorkflowTaskStarted => "WorkflowTaskStarted",
            EventType::WorkflowTaskCompleted => "WorkflowTaskCompleted",
            EventType::WorkflowTaskTimedOut => "WorkflowTaskTimedOut",
            EventType::WorkflowTaskFailed => "WorkflowTaskFailed",
            EventType::ActivityTaskScheduled => "ActivityTaskScheduled",
            EventType::ActivityTaskStarted => "ActivityTaskStarted",
            EventType::ActivityTaskCompleted => "ActivityTaskCompleted",
            EventType::ActivityTaskFailed => "ActivityTaskFailed",
            EventType::ActivityTaskTimedOut => "ActivityTaskTimedOut",
            EventType::ActivityTaskCancelRequested => "ActivityTaskCancelRequested",
            EventType::ActivityTaskCanceled => "ActivityTaskCanceled",
            EventType::TimerStarted => "TimerStarted",
            EventType::TimerFired => "TimerFired",
            EventType::TimerCanceled => "TimerCanceled",
            EventType::WorkflowExecutionCancelRequested => "WorkflowExecutionCancelRequested",
            EventType::WorkflowExecutionCanceled => "WorkflowExecutionCanceled",
            EventType::MarkerRecorded => "MarkerRecorded",
            EventType::WorkflowExecutionSignaled => "WorkflowExecutionSignaled",
            EventType::WorkflowExecutionTerminated => "WorkflowExecutionTerminated",
            EventType::WorkflowExecutionContinuedAsNew => "WorkflowExecutionContinuedAsNew",
        }
    }

    /// Full proto enum name (`EVENT_TYPE_ACTIVITY_TASK_SCHEDULED`).
    pub fn proto_name(self) -> String {
        let mut out = String::from("EVENT_TYPE_");
        for (i, c) in self.name().chars().enumerate() {
            if c.is_ascii_uppercase() && i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_uppercase());
        }
        out
    }

    /// Parses either the long proto name or the short PascalCase name.
    pub fn parse(s: &str) -> Option<EventType> {
        EventType::ALL
            .iter()
            .copied()
            .find(|t| t.name() == s || t.proto_name() == s)
    }

    pub fn number(self) -> i32 {
        self as i32
    }

    /// The key of this event's attribute object in Temporal's JSON
    /// (`activityTaskScheduledEventAttributes`).
    pub fn attributes_key(self) -> String {
        let name = self.name();
        let mut out = String::with_capacity(name.len() + 15);
        out.push_str(&name[..1].to_ascii_lowercase());
        out.push_str(&name[1..]);
        out.push_str("EventAttributes");
        out
    }

    /// Events that close a run.
    pub fn is_close(self) -> bool {
        matches!(
            self,
            EventType::WorkflowExecutionCompleted
                | EventType::WorkflowExecutionFailed
                | EventType::WorkflowExecutionTimedOut
                | EventType::WorkflowExecutionCanceled
                | EventType::WorkflowExecutionTerminated
                | EventType::WorkflowExecutionContinuedAsNew
        )
    }

    /// Events written as the result of a workflow command (they carry
    /// `workflow_task_completed_event_id`).
    pub fn is_command_event(self) -> bool {
        matches!(
            self,
            EventType::ActivityTaskScheduled
                | EventType::ActivityTaskCancelRequested
                | EventType::TimerStarted
                | EventType::TimerCanceled
                | EventType::MarkerRecorded
                | EventType::WorkflowExecutionCompleted
                | EventType::WorkflowExecutionFailed
                | EventType::WorkflowExecutionCanceled
                | EventType::WorkflowExecutionContinuedAsNew
        )
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Task queue kind (`TASK_QUEUE_KIND_*`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TaskQueueKind {
    #[default]
    Unspecified = 0,
    Normal = 1,
    Sticky = 2,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct TaskQueue {
    pub name: String,
    pub kind: TaskQueueKind,
    /// For sticky queues: the normal queue it stands in for.
    pub normal_name: Option<String>,
    pub extra: Extra,
}

impl TaskQueue {
    pub fn normal(name: impl Into<String>) -> Self {
        TaskQueue {
            name: name.into(),
            kind: TaskQueueKind::Normal,
            normal_name: None,
            extra: Extra::new(),
        }
    }

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
    Unspecified = 0,
    StartToClose = 1,
    ScheduleToStart = 2,
    ScheduleToClose = 3,
    Heartbeat = 4,
}

/// `RETRY_STATE_*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RetryState {
    Unspecified = 0,
    InProgress = 1,
    NonRetryableFailure = 2,
    Timeout = 3,
    MaximumAttemptsReached = 4,
    RetryPolicyNotSet = 5,
    InternalServerError = 6,
    CancelRequested = 7,
}

/// `WORKFLOW_TASK_FAILED_CAUSE_*` (the ones the engine writes; others are kept by number).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WorkflowTaskFailedCause {
    Unspecified,
    UnhandledCommand,
    BadScheduleActivityAttributes,
    BadStartTimerAttributes,
    BadRecordMarkerAttributes,
    StartTimerDuplicateId,
    WorkflowWorkerUnhandledFailure,
    ScheduleActivityDuplicateId,
    NonDeterministicError,
    PendingActivitiesLimitExceeded,
    PendingSignalsLimitExceeded,
    /// Any other cause, by its proto number.
    Other(i32),
}

impl WorkflowTaskFailedCause {
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
    pub initial_interval: Option<Duration>,
    pub backoff_coefficient: Option<f64>,
    pub maximum_interval: Option<Duration>,
    /// 0 = unlimited, 1 = no retry.
    pub maximum_attempts: i32,
    pub non_retryable_error_types: Vec<String>,
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
    pub const DEFAULT_INITIAL_INTERVAL: Duration = Duration::from_secs(1);
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

#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkflowExecutionStarted {
    pub workflow_type: String,
    pub workflow_id: String,
    pub task_queue: TaskQueue,
    pub input: Option<Payloads>,
    pub workflow_execution_timeout: Option<Duration>,
    pub workflow_run_timeout: Option<Duration>,
    pub workflow_task_timeout: Option<Duration>,
    pub continued_execution_run_id: Option<String>,
    pub original_execution_run_id: String,
    pub first_execution_run_id: String,
    pub identity: String,
    pub attempt: i32,
    pub first_workflow_task_backoff: Option<Duration>,
    pub retry_policy: Option<RetryPolicy>,
    pub extra: Extra,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkflowExecutionCompleted {
    pub result: Option<Payloads>,
    pub workflow_task_completed_event_id: EventId,
    pub new_execution_run_id: Option<String>,
    pub extra: Extra,
}

#[derive(Clone, Debug, PartialEq)]
pub struct WorkflowExecutionFailed {
    pub failure: Option<Failure>,
    pub retry_state: RetryState,
    pub workflow_task_completed_event_id: EventId,
    pub new_execution_run_id: Option<String>,
    pub extra: Extra,
}

#[derive(Clone, Debug, PartialEq)]
pub struct WorkflowExecutionTimedOut {
    pub retry_state: RetryState,
    pub new_execution_run_id: Option<String>,
    pub extra: Extra,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkflowTaskScheduled {
    pub task_queue: TaskQueue,
    pub start_to_close_timeout: Option<Duration>,
    pub attempt: i32,
    pub extra: Extra,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkflowTaskStarted {
    pub scheduled_event_id: EventId,
    pub identity: String,
    pub request_id: String,
    pub history_size_bytes: i64,
    pub extra: Extra,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkflowTaskCompleted {
    pub scheduled_event_id: EventId,
    pub started_event_id: EventId,
    pub identity: String,
    pub extra: Extra,
}

#[derive(Clone, Debug, PartialEq)]
pub struct WorkflowTaskTimedOut {
    pub scheduled_event_id: EventId,
    /// 0 when the task timed out before it started (schedule-to-start).
    pub started_event_id: EventId,
    pub timeout_type: TimeoutType,
    pub extra: Extra,
}

#[derive(Clone, Debug, PartialEq)]
pub struct WorkflowTaskFailed {
    pub scheduled_event_id: EventId,
    pub started_event_id: EventId,
    pub cause: WorkflowTaskFailedCause,
    pub failure: Option<Failure>,
    pub identity: String,
    pub extra: Extra,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ActivityTaskScheduled {
    pub activity_id: String,
    pub activity_type: String,
    pub task_queue: TaskQueue,
    pub input: Option<Payloads>,
    pub schedule_to_close_timeout: Option<Duration>,
    pub schedule_to_start_timeout: Option<Duration>,
    pub start_to_close_timeout: Option<Duration>,
    pub heartbeat_timeout: Option<Duration>,
    pub workflow_task_completed_event_id: EventId,
    pub retry_policy: Option<RetryPolicy>,
    pub extra: Extra,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ActivityTaskStarted {
    pub scheduled_event_id: EventId,
    pub identity: String,
    pub request_id: String,
    pub attempt: i32,
    pub last_failure: Option<Failure>,
    pub extra: Extra,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ActivityTaskCompleted {
    pub result: Option<Payloads>,
    pub scheduled_event_id: EventId,
    pub started_event_id: EventId,
    pub identity: String,
    pub extra: Extra,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ActivityTaskFailed {
    pub failure: Option<Failure>,
    pub scheduled_event_id: EventId,
    pub started_event_id: EventId,
    pub identity: String,
    pub retry_state: RetryState,
    pub extra: Extra,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ActivityTaskTimedOut {
    pub failure: Option<Failure>,
    pub scheduled_event_id: EventId,
    pub started_event_id: EventId,
    pub retry_state: RetryState,
    pub extra: Extra,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ActivityTaskCancelRequested {
    pub scheduled_event_id: EventId,
    pub workflow_task_completed_event_id: EventId,
    pub extra: Extra,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ActivityTaskCanceled {
    pub details: Option<Payloads>,
    pub latest_cancel_requested_event_id: EventId,
    pub scheduled_event_id: EventId,
    pub started_event_id: EventId,
    pub identity: String,
    pub extra: Extra,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct TimerStarted {
    pub timer_id: String,
    pub start_to_fire_timeout: Option<Duration>,
    pub workflow_task_completed_event_id: EventId,
    pub extra: Extra,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct TimerFired {
    pub timer_id: String,
    pub started_event_id: EventId,
    pub extra: Extra,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct TimerCanceled {
    pub timer_id: String,
    pub started_event_id: EventId,
    pub workflow_task_completed_event_id: EventId,
    pub identity: String,
    pub extra: Extra,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkflowExecutionCancelRequested {
    pub cause: String,
    pub identity: String,
    pub extra: Extra,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkflowExecutionCanceled {
    pub workflow_task_completed_event_id: EventId,
    pub details: Option<Payloads>,
    pub extra: Extra,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct MarkerRecorded {
    pub marker_name: String,
    pub details: MarkerDetails,
    pub workflow_task_completed_event_id: EventId,
    pub failure: Option<Failure>,
    pub extra: Extra,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkflowExecutionSignaled {
    pub signal_name: String,
    pub input: Option<Payloads>,
    pub identity: String,
    pub extra: Extra,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkflowExecutionTerminated {
    pub reason: String,
    pub details: Option<Payloads>,
    pub identity: String,
    pub extra: Extra,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkflowExecutionContinuedAsNew {
    pub new_execution_run_id: String,
    pub workflow_type: String,
    pub task_queue: TaskQueue,
    pub input: Option<Payloads>,
    pub workflow_run_timeout: Option<Duration>,
    pub workflow_task_timeout: Option<Duration>,
    pub workflow_task_completed_event_id: EventId,
    pub extra: Extra,
}

/// One event's typed attributes. The variant determines the event type.
#[derive(Clone, Debug, PartialEq)]
pub enum EventAttributes {
    WorkflowExecutionStarted(Arc<WorkflowExecutionStarted>),
    WorkflowExecutionCompleted(Arc<WorkflowExecutionCompleted>),
    WorkflowExecutionFailed(Arc<WorkflowExecutionFailed>),
    WorkflowExecutionTimedOut(Arc<WorkflowExecutionTimedOut>),
    WorkflowTaskScheduled(Arc<WorkflowTaskScheduled>),
    WorkflowTaskStarted(Arc<WorkflowTaskStarted>),
    WorkflowTaskCompleted(Arc<WorkflowTaskCompleted>),
    WorkflowTaskTimedOut(Arc<WorkflowTaskTimedOut>),
    WorkflowTaskFailed(Arc<WorkflowTaskFailed>),
    ActivityTaskScheduled(Arc<ActivityTaskScheduled>),
    ActivityTaskStarted(Arc<ActivityTaskStarted>),
    ActivityTaskCompleted(Arc<ActivityTaskCompleted>),
    ActivityTaskFailed(Arc<ActivityTaskFailed>),
    ActivityTaskTimedOut(Arc<ActivityTaskTimedOut>),
    ActivityTaskCancelRequested(Arc<ActivityTaskCancelRequested>),
    ActivityTaskCanceled(Arc<ActivityTaskCanceled>),
    TimerStarted(Arc<TimerStarted>),
    TimerFired(Arc<TimerFired>),
    TimerCanceled(Arc<TimerCanceled>),
    WorkflowExecutionCancelRequested(Arc<WorkflowExecutionCancelRequested>),
    WorkflowExecutionCanceled(Arc<WorkflowExecutionCanceled>),
    MarkerRecorded(Arc<MarkerRecorded>),
    WorkflowExecutionSignaled(Arc<WorkflowExecutionSignaled>),
    WorkflowExecutionTerminated(Arc<WorkflowExecutionTerminated>),
    WorkflowExecutionContinuedAsNew(Arc<WorkflowExecutionContinuedAsNew>),
}

impl EventAttributes {
    pub fn event_type(&self) -> EventType {
        match self {
            EventAttributes::WorkflowExecutionStarted(_) => EventType::WorkflowExecutionStarted,
            EventAttributes::WorkflowExecutionCompleted(_) => EventType::WorkflowExecutionCompleted,
            EventAttributes::WorkflowExecutionFailed(_) => EventType::WorkflowExecutionFailed,
            EventAttributes::WorkflowExecutionTimedOut(_) => EventType::WorkflowExecutionTimedOut,
            EventAttributes::WorkflowTaskScheduled(_) => EventType::WorkflowTaskScheduled,
            EventAttributes::WorkflowTaskStarted(_) => EventType::WorkflowTaskStarted,
            EventAttributes::WorkflowTaskCompleted(_) => EventType::WorkflowTaskCompleted,
            EventAttributes::WorkflowTaskTimedOut(_) => EventType::WorkflowTaskTimedOut,
            EventAttributes::WorkflowTaskFailed(_) => EventType::WorkflowTaskFailed,
            EventAttributes::ActivityTaskScheduled(_) => EventType::ActivityTaskScheduled,
            EventAttributes::ActivityTaskStarted(_) => EventType::ActivityTaskStarted,
            EventAttributes::ActivityTaskCompleted(_) => EventType::ActivityTaskCompleted,
            EventAttributes::ActivityTaskFailed(_) => EventType::ActivityTaskFailed,
            EventAttributes::ActivityTaskTimedOut(_) => EventType::ActivityTaskTimedOut,
            EventAttributes::ActivityTaskCancelRequested(_) => {
                EventType::ActivityTaskCancelRequested
            }
            EventAttributes::ActivityTaskCanceled(_) => EventType::ActivityTaskCanceled,
            EventAttributes::TimerStarted(_) => EventType::TimerStarted,
            EventAttributes::TimerFired(_) => EventType::TimerFired,
            EventAttributes::TimerCanceled(_) => EventType::TimerCanceled,
            EventAttributes::WorkflowExecutionCancelRequested(_) => {
                EventType::WorkflowExecutionCancelRequested
            }
            EventAttributes::WorkflowExecutionCanceled(_) => EventType::WorkflowExecutionCanceled,
            EventAttributes::MarkerRecorded(_) => EventType::MarkerRecorded,
            EventAttributes::WorkflowExecutionSignaled(_) => EventType::WorkflowExecutionSignaled,
            EventAttributes::WorkflowExecutionTerminated(_) => {
                EventType::WorkflowExecutionTerminated
            }
            EventAttributes::WorkflowExecutionContinuedAsNew(_) => {
                EventType::WorkflowExecutionContinuedAsNew
            }
        }
    }

    /// For command events: the WorkflowTaskCompleted event they follow.
    pub fn workflow_task_completed_event_id(&self) -> Option<EventId> {
        match self {
            EventAttributes::ActivityTaskScheduled(a) => Some(a.workflow_task_completed_event_id),
            EventAttributes::ActivityTaskCancelRequested(a) => {
                Some(a.workflow_task_completed_event_id)
            }
            EventAttributes::TimerStarted(a) => Some(a.workflow_task_completed_event_id),
            EventAttributes::TimerCanceled(a) => Some(a.workflow_task_completed_event_id),
            EventAttributes::MarkerRecorded(a) => Some(a.workflow_task_completed_event_id),
            EventAttributes::WorkflowExecutionCompleted(a) => {
                Some(a.workflow_task_completed_event_id)
            }
            EventAttributes::WorkflowExecutionFailed(a) => Some(a.workflow_task_completed_event_id),
            EventAttributes::WorkflowExecutionCanceled(a) => {
                Some(a.workflow_task_completed_event_id)
            }
            EventAttributes::WorkflowExecutionContinuedAsNew(a) => {
                Some(a.workflow_task_completed_event_id)
            }
            _ => None,
        }
    }

    /// For activity events after Scheduled: the scheduled event id they refer to.
    pub fn activity_scheduled_event_id(&self) -> Option<EventId> {
        match self {
            EventAttributes::ActivityTaskStarted(a) => Some(a.scheduled_event_id),
            EventAttributes::ActivityTaskCompleted(a) => Some(a.scheduled_event_id),
            EventAttributes::ActivityTaskFailed(a) => Some(a.scheduled_event_id),
            EventAttributes::ActivityTaskTimedOut(a) => Some(a.scheduled_event_id),
            EventAttributes::ActivityTaskCancelRequested(a) => Some(a.scheduled_event_id),
            EventAttributes::ActivityTaskCanceled(a) => Some(a.scheduled_event_id),
            _ => None,
        }
    }
}

/// One history event.
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryEvent {
    pub event_id: EventId,
    pub event_time: Timestamp,
    /// Server-internal task id; kept for round trips, not interpreted.
    pub task_id: i64,
    pub attributes: EventAttributes,
    /// Top-level keys we do not model (`workerMayIgnore`, `userMetadata`, `links`, ...).
    pub extra: Extra,
}

impl HistoryEvent {
    pub fn event_type(&self) -> EventType {
        self.attributes.event_type()
    }
}

/// One run's history: events in order, ids 1..=n.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    pub events: Vec<HistoryEvent>,
}

impl History {
    pub fn new(events: Vec<HistoryEvent>) -> Self {
        History { events }
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    pub fn started(&self) -> Option<&WorkflowExecutionStarted> {
        match self.events.first().map(|e| &e.attributes) {
            Some(EventAttributes::WorkflowExecutionStarted(s)) => Some(s),
            _ => None,
        }
    }

    pub fn workflow_type(&self) -> Option<&str> {
        self.started().map(|s| s.workflow_type.as_str())
    }

    /// The event that closed this run, if any.
    pub fn close_event(&self) -> Option<&HistoryEvent> {
        self.events.last().filter(|e| e.event_type().is_close())
    }

    pub fn event_types(&self) -> Vec<EventType> {
        self.events.iter().map(HistoryEvent::event_type).collect()
    }
}
