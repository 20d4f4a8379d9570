//! Events, their attributes, and the values inside them, with Temporal's names and numbering.
//!
//! Invariant: this module is pure data. It reads no clock, does no I/O, draws no randomness.
//! Attribute keys we do not model are kept in each struct's `extra` map (in their original JSON
//! form), so a history read from Temporal and written back loses nothing.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::attributes::*;
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
    /// An empty map (no allocation).
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
    /// 1970-01-01T00:00:00Z (nanosecond 0).
    pub const UNIX_EPOCH: Timestamp = Timestamp(0);

    /// The instant `nanos` nanoseconds after the Unix epoch (negative: before it).
    pub fn from_nanos(nanos: i64) -> Self {
        Timestamp(nanos)
    }

    /// Nanoseconds since the Unix epoch (negative before 1970).
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

/// Declares the event types, with Temporal's names and numbers: [`EventType`], its `ALL` and
/// `name`, and [`EventAttributes`] (one variant per type, holding the struct of the same name).
macro_rules! event_types {
    ($( $(#[doc = $doc:literal])* $name:ident = $number:literal, )*) => {
        /// Event types with Temporal's numbering (`temporal.api.enums.v1.EventType`): every type
        /// of `temporal.api.history.v1.HistoryEvent`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum EventType {
            $( $(#[doc = $doc])* $name = $number, )*
        }

        impl EventType {
            /// Every event type, in proto-number order.
            pub const ALL: [EventType; [$($number),*].len()] = [$(EventType::$name),*];

            /// PascalCase name, as `temporal workflow show` prints it (`ActivityTaskScheduled`).
            pub fn name(self) -> &'static str {
                match self {
                    $( EventType::$name => stringify!($name), )*
                }
            }
        }

        /// One event's typed attributes. The variant determines the event type.
        #[derive(Clone, Debug, PartialEq)]
        pub enum EventAttributes {
            $(
                #[doc = concat!("[`", stringify!($name), "`]:")]
                $(#[doc = $doc])*
                $name(Arc<$name>),
            )*
        }

        impl EventAttributes {
            /// The event type these attributes belong to.
            pub fn event_type(&self) -> EventType {
                match self {
                    $( EventAttributes::$name(_) => EventType::$name, )*
                }
            }
        }
    };
}

event_types! {
    /// First event of every run: type, input, queue and timeouts it was started with.
    WorkflowExecutionStarted = 1,
    /// The workflow returned a result (CompleteWorkflowExecution command). Closes the run.
    WorkflowExecutionCompleted = 2,
    /// The workflow failed (FailWorkflowExecution command). Closes the run.
    WorkflowExecutionFailed = 3,
    /// The workflow run or execution timeout expired. Closes the run; written by the server, not by
    /// a command.
    WorkflowExecutionTimedOut = 4,
    /// A workflow task was put on a task queue (normal or sticky).
    WorkflowTaskScheduled = 5,
    /// A worker polled the scheduled workflow task; its time is the workflow time the code sees.
    WorkflowTaskStarted = 6,
    /// The worker returned the task's commands; the command events follow it directly.
    WorkflowTaskCompleted = 7,
    /// The workflow task was not completed in time (start-to-close, or schedule-to-start on a
    /// sticky queue); a new one is scheduled.
    WorkflowTaskTimedOut = 8,
    /// The worker (or the server, rejecting a command) failed the workflow task; a new one is
    /// scheduled.
    WorkflowTaskFailed = 9,
    /// A ScheduleActivityTask command was accepted.
    ActivityTaskScheduled = 10,
    /// The final attempt of an activity started. Written only when the activity closes, carrying
    /// that attempt's number.
    ActivityTaskStarted = 11,
    /// The activity returned a result.
    ActivityTaskCompleted = 12,
    /// The activity failed and will not be retried (retries exhausted or non-retryable).
    ActivityTaskFailed = 13,
    /// An activity timeout expired and no retry is left.
    ActivityTaskTimedOut = 14,
    /// A RequestCancelActivityTask command was accepted.
    ActivityTaskCancelRequested = 15,
    /// The activity acknowledged cancellation (or was canceled before it started).
    ActivityTaskCanceled = 16,
    /// A StartTimer command was accepted.
    TimerStarted = 17,
    /// A timer's duration elapsed.
    TimerFired = 18,
    /// A CancelTimer command was accepted before the timer fired.
    TimerCanceled = 19,
    /// A client asked to cancel the run; the workflow code decides what to do.
    WorkflowExecutionCancelRequested = 20,
    /// The workflow accepted cancellation (CancelWorkflowExecution command). Closes the run.
    WorkflowExecutionCanceled = 21,
    /// The workflow asked to cancel another workflow, or its child
    /// (RequestCancelExternalWorkflowExecution command).
    RequestCancelExternalWorkflowExecutionInitiated = 22,
    /// The cancel request could not be delivered (no such workflow, ...).
    RequestCancelExternalWorkflowExecutionFailed = 23,
    /// The other workflow recorded the cancel request.
    ExternalWorkflowExecutionCancelRequested = 24,
    /// A RecordMarker command was accepted (patches, side effects, SDK-specific data).
    MarkerRecorded = 25,
    /// A signal was delivered to the run.
    WorkflowExecutionSignaled = 26,
    /// A client terminated the run; no command, the workflow code is not consulted. Closes the run.
    WorkflowExecutionTerminated = 27,
    /// The workflow continued as new (ContinueAsNewWorkflowExecution command). Closes the run; a
    /// new run of the same workflow id starts.
    WorkflowExecutionContinuedAsNew = 28,
    /// The workflow started a child workflow (StartChildWorkflowExecution command).
    StartChildWorkflowExecutionInitiated = 29,
    /// The child could not be started (its workflow id is taken, ...).
    StartChildWorkflowExecutionFailed = 30,
    /// The child's first run started.
    ChildWorkflowExecutionStarted = 31,
    /// The child returned a result.
    ChildWorkflowExecutionCompleted = 32,
    /// The child failed.
    ChildWorkflowExecutionFailed = 33,
    /// The child accepted cancellation.
    ChildWorkflowExecutionCanceled = 34,
    /// The child's run or execution timeout expired.
    ChildWorkflowExecutionTimedOut = 35,
    /// The child was terminated.
    ChildWorkflowExecutionTerminated = 36,
    /// The workflow signalled another workflow (SignalExternalWorkflowExecution command).
    SignalExternalWorkflowExecutionInitiated = 37,
    /// The signal could not be delivered (no such workflow, ...).
    SignalExternalWorkflowExecutionFailed = 38,
    /// The other workflow received the signal.
    ExternalWorkflowExecutionSignaled = 39,
    /// The workflow set search attributes (UpsertWorkflowSearchAttributes command).
    UpsertWorkflowSearchAttributes = 40,
    /// The workflow's validator accepted an update.
    WorkflowExecutionUpdateAccepted = 41,
    /// The workflow's validator rejected an update (current servers do not write it).
    WorkflowExecutionUpdateRejected = 42,
    /// An accepted update's handler finished, with a result or a failure.
    WorkflowExecutionUpdateCompleted = 43,
    /// The run's properties were changed from outside (not written by current servers).
    WorkflowPropertiesModifiedExternally = 44,
    /// An activity's retry policy was changed from outside.
    ActivityPropertiesModifiedExternally = 45,
    /// The workflow changed its memo (ModifyWorkflowProperties command).
    WorkflowPropertiesModified = 46,
    /// The server took an update in before a worker saw it.
    WorkflowExecutionUpdateAdmitted = 47,
    /// The workflow scheduled a Nexus operation (ScheduleNexusOperation command).
    NexusOperationScheduled = 48,
    /// An asynchronous Nexus operation started.
    NexusOperationStarted = 49,
    /// A Nexus operation returned a result.
    NexusOperationCompleted = 50,
    /// A Nexus operation failed.
    NexusOperationFailed = 51,
    /// A Nexus operation was canceled.
    NexusOperationCanceled = 52,
    /// A timeout of a Nexus operation expired.
    NexusOperationTimedOut = 53,
    /// The workflow asked to cancel a Nexus operation (RequestCancelNexusOperation command).
    NexusOperationCancelRequested = 54,
    /// The run's options (versioning override, priority, callbacks) were changed from outside.
    WorkflowExecutionOptionsUpdated = 55,
    /// A Nexus operation's handler accepted the cancel request.
    NexusOperationCancelRequestCompleted = 56,
    /// A Nexus operation's cancel request failed.
    NexusOperationCancelRequestFailed = 57,
    /// Someone paused the run.
    WorkflowExecutionPaused = 58,
    /// Someone unpaused the run.
    WorkflowExecutionUnpaused = 59,
    /// The run's virtual time jumped (time skipping).
    WorkflowExecutionTimeSkippingTransitioned = 60,
}

impl EventType {
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

    /// Temporal's proto number (`ActivityTaskScheduled` is 10).
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
                | EventType::RequestCancelExternalWorkflowExecutionInitiated
                | EventType::StartChildWorkflowExecutionInitiated
                | EventType::SignalExternalWorkflowExecutionInitiated
                | EventType::UpsertWorkflowSearchAttributes
                | EventType::WorkflowPropertiesModified
                | EventType::NexusOperationScheduled
                | EventType::NexusOperationCancelRequested
                | EventType::WorkflowExecutionUpdateAccepted
                | EventType::WorkflowExecutionUpdateCompleted
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

/// Attributes of WorkflowExecutionStarted, the first event of every run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkflowExecutionStarted {
    /// The registered workflow type name the run executes.
    pub workflow_type: String,
    /// The business id of the execution; shared by every run of it (retries, continue-as-new).
    pub workflow_id: String,
    /// The normal queue this run's workflow tasks (and, by default, its activities) go to.
    pub task_queue: TaskQueue,
    /// The workflow's arguments; `None` when it was started without input.
    pub input: Option<Payloads>,
    /// Bound on the whole execution, across continue-as-new and retries; `None`: unlimited.
    pub workflow_execution_timeout: Option<Duration>,
    /// Bound on this run alone; `None`: unlimited.
    pub workflow_run_timeout: Option<Duration>,
    /// Start-to-close timeout of each workflow task of this run (Temporal's default is 10 s).
    pub workflow_task_timeout: Option<Duration>,
    /// The run this one continued from; `None` unless started by continue-as-new.
    pub continued_execution_run_id: Option<String>,
    /// This run's own run id, as it was when the event was written (a reset run keeps the id of the
    /// run it was reset from).
    pub original_execution_run_id: String,
    /// Run id of the first run in this chain of continue-as-new runs (this run's own id for a first
    /// run).
    pub first_execution_run_id: String,
    /// Identity of whoever started the run: a client, or for continue-as-new the worker whose task
    /// continued the previous run.
    pub identity: String,
    /// Workflow retry attempt, 1 for the first; greater only when a workflow retry policy restarted
    /// the workflow.
    pub attempt: i32,
    /// Delay before the first workflow task is scheduled (cron or retry backoff, start delay); zero
    /// or `None` for none.
    pub first_workflow_task_backoff: Option<Duration>,
    /// The workflow's retry policy; `None` (the default): a failed workflow is not retried.
    pub retry_policy: Option<RetryPolicy>,
    /// The memo the run was started with; `None` for none.
    pub memo: Option<Memo>,
    /// The search attributes the run was started with; `None` for none.
    pub search_attributes: Option<SearchAttributes>,
    /// A child's parent's namespace; empty for a workflow that is no child.
    pub parent_workflow_namespace: String,
    /// A child's parent run; `None` for a workflow that is no child.
    pub parent_workflow_execution: Option<WorkflowExecution>,
    /// The parent's StartChildWorkflowExecutionInitiated event; 0 for a workflow that is no
    /// child.
    pub parent_initiated_event_id: EventId,
    /// The root of a tree of children (the run that is no child); `None` when not written.
    pub root_workflow_execution: Option<WorkflowExecution>,
    /// Attribute keys we do not model (`priority`, `header`, ...), kept verbatim so the event
    /// round-trips.
    pub extra: Extra,
}

/// Attributes of WorkflowExecutionCompleted: the run returned a result.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkflowExecutionCompleted {
    /// What the workflow returned; `None` for no result.
    pub result: Option<Payloads>,
    /// The WorkflowTaskCompleted event whose commands included CompleteWorkflowExecution (the
    /// command events of a task follow that event directly).
    pub workflow_task_completed_event_id: EventId,
    /// The run started next by a cron schedule; `None` otherwise.
    pub new_execution_run_id: Option<String>,
    /// Attribute keys we do not model, kept verbatim so the event round-trips.
    pub extra: Extra,
}

/// Attributes of WorkflowExecutionFailed: the run failed.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkflowExecutionFailed {
    /// The failure the workflow failed with (message, type, cause chain).
    pub failure: Option<Failure>,
    /// Whether the workflow is retried: [`RetryState::RetryPolicyNotSet`] for the usual workflow
    /// without a retry policy.
    pub retry_state: RetryState,
    /// The WorkflowTaskCompleted event whose commands included FailWorkflowExecution (the command
    /// events of a task follow that event directly).
    pub workflow_task_completed_event_id: EventId,
    /// The run started next when the workflow's retry policy (or cron schedule) continues it;
    /// `None` otherwise.
    pub new_execution_run_id: Option<String>,
    /// Attribute keys we do not model, kept verbatim so the event round-trips.
    pub extra: Extra,
}

/// Attributes of WorkflowExecutionTimedOut: the run or execution timeout expired.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkflowExecutionTimedOut {
    /// Whether the workflow is retried after the timeout ([`RetryState::Timeout`] or
    /// [`RetryState::RetryPolicyNotSet`] when not).
    pub retry_state: RetryState,
    /// The run started next by a retry or cron schedule; `None` otherwise.
    pub new_execution_run_id: Option<String>,
    /// Attribute keys we do not model, kept verbatim so the event round-trips.
    pub extra: Extra,
}

/// Attributes of WorkflowTaskScheduled: a workflow task is waiting on a queue.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkflowTaskScheduled {
    /// Where the task waits: the run's normal queue, or the sticky queue of the worker that has the
    /// run cached.
    pub task_queue: TaskQueue,
    /// How long a worker has to complete the task once started: the run's workflow task timeout
    /// (Temporal's default: 10 s).
    pub start_to_close_timeout: Option<Duration>,
    /// 1 for a first try; after failed or timed-out tries, the retry's number (a sticky
    /// schedule-to-start timeout does not count). A retry (attempt > 1) is transient: its Scheduled
    /// and Started events are written only when it completes.
    pub attempt: i32,
    /// Attribute keys we do not model, kept verbatim so the event round-trips.
    pub extra: Extra,
}

/// Attributes of WorkflowTaskStarted: a worker picked the workflow task up.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkflowTaskStarted {
    /// The WorkflowTaskScheduled event of this task.
    pub scheduled_event_id: EventId,
    /// Identity of the worker that polled the task.
    pub identity: String,
    /// The poll request's id (a UUID), unique per start.
    pub request_id: String,
    /// History size in bytes when the task started, as the SDK reports to workflow code
    /// (`workflow.info().get_current_history_size()`); durasim's engine writes an estimate (256
    /// bytes per event), 0 for tasks that were transient.
    pub history_size_bytes: i64,
    /// Attribute keys we do not model (`workerVersion`, `suggestContinueAsNew`, ...), kept verbatim
    /// so the event round-trips.
    pub extra: Extra,
}

/// Attributes of WorkflowTaskCompleted: the worker returned the task's commands.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkflowTaskCompleted {
    /// The WorkflowTaskScheduled event of this task.
    pub scheduled_event_id: EventId,
    /// The WorkflowTaskStarted event of this task.
    pub started_event_id: EventId,
    /// Identity of the worker that completed the task.
    pub identity: String,
    /// Attribute keys we do not model (`workerVersion`, `sdkMetadata`, `meteringMetadata`, ...),
    /// kept verbatim so the event round-trips.
    pub extra: Extra,
}

/// Attributes of WorkflowTaskTimedOut: the workflow task was not completed in time.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkflowTaskTimedOut {
    /// The WorkflowTaskScheduled event of the task that timed out.
    pub scheduled_event_id: EventId,
    /// 0 when the task timed out before it started (schedule-to-start).
    pub started_event_id: EventId,
    /// [`TimeoutType::StartToClose`] (the worker took too long or died) or
    /// [`TimeoutType::ScheduleToStart`] (nobody polled the sticky queue).
    pub timeout_type: TimeoutType,
    /// Attribute keys we do not model, kept verbatim so the event round-trips.
    pub extra: Extra,
}

/// Attributes of WorkflowTaskFailed: the workflow task failed and will be retried.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkflowTaskFailed {
    /// The WorkflowTaskScheduled event of the task that failed.
    pub scheduled_event_id: EventId,
    /// The WorkflowTaskStarted event of the task that failed.
    pub started_event_id: EventId,
    /// Why the task failed (non-determinism, a panic, a rejected command, ...).
    pub cause: WorkflowTaskFailedCause,
    /// Details from the worker (or the server): the error message and stack; `None` when no details
    /// were given.
    pub failure: Option<Failure>,
    /// Identity of the worker that failed the task (or of the server, for a rejected command).
    pub identity: String,
    /// Attribute keys we do not model (`baseRunId`, `newRunId`, `binaryChecksum`, ...), kept
    /// verbatim so the event round-trips.
    pub extra: Extra,
}

/// Attributes of ActivityTaskScheduled: the accepted ScheduleActivityTask command, with the
/// server's defaults filled in.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ActivityTaskScheduled {
    /// The activity's id within the run; the SDK's default is its sequence number ("1", "2", ...).
    /// Stable across retries.
    pub activity_id: String,
    /// The registered activity type name.
    pub activity_type: String,
    /// The queue the activity's tasks go to (by default the workflow's).
    pub task_queue: TaskQueue,
    /// The activity's arguments; `None` for none.
    pub input: Option<Payloads>,
    /// Bound on the whole activity, all attempts and backoff included; `None` or zero: unlimited
    /// (bounded by the run).
    pub schedule_to_close_timeout: Option<Duration>,
    /// Bound on how long one attempt may wait on the queue before a worker picks it up; `None` or
    /// zero: unlimited.
    pub schedule_to_start_timeout: Option<Duration>,
    /// Bound on one attempt from pickup to result; also how a crashed worker is noticed. At least
    /// one of this and `schedule_to_close_timeout` is set.
    pub start_to_close_timeout: Option<Duration>,
    /// Longest allowed gap between heartbeats of a running attempt; `None` or zero: no heartbeat
    /// timeout.
    pub heartbeat_timeout: Option<Duration>,
    /// The WorkflowTaskCompleted event whose commands included the ScheduleActivityTask command
    /// (the command events of a task follow that event directly).
    pub workflow_task_completed_event_id: EventId,
    /// The retry policy with the server's defaults filled in; `None` only in histories that did not
    /// record one.
    pub retry_policy: Option<RetryPolicy>,
    /// Attribute keys we do not model (`header`, `priority`, `useWorkflowBuildId`, ...), kept
    /// verbatim so the event round-trips.
    pub extra: Extra,
}

/// Attributes of ActivityTaskStarted: the final attempt of the activity (written when the activity
/// closes).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ActivityTaskStarted {
    /// The ActivityTaskScheduled event of this activity.
    pub scheduled_event_id: EventId,
    /// Identity of the worker that ran the final attempt.
    pub identity: String,
    /// The poll request's id (a UUID) of the final attempt.
    pub request_id: String,
    /// Number of the final attempt, 1 for the first: earlier attempts leave no events of their own.
    pub attempt: i32,
    /// Failure of the previous attempt (what made the server retry); `None` on attempt 1.
    pub last_failure: Option<Failure>,
    /// Attribute keys we do not model (`workerVersion`, `buildIdRedirectCounter`, ...), kept
    /// verbatim so the event round-trips.
    pub extra: Extra,
}

/// Attributes of ActivityTaskCompleted: the activity returned a result.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ActivityTaskCompleted {
    /// What the activity returned; `None` for no result.
    pub result: Option<Payloads>,
    /// The ActivityTaskScheduled event of this activity.
    pub scheduled_event_id: EventId,
    /// The ActivityTaskStarted event of the attempt that completed.
    pub started_event_id: EventId,
    /// Identity of the worker that completed the activity.
    pub identity: String,
    /// Attribute keys we do not model (`workerVersion`, ...), kept verbatim so the event
    /// round-trips.
    pub extra: Extra,
}

/// Attributes of ActivityTaskFailed: the activity's last attempt failed and no retry is left.
#[derive(Clone, Debug, PartialEq)]
pub struct ActivityTaskFailed {
    /// The last attempt's failure (an application failure with its error type, or the worker's
    /// error).
    pub failure: Option<Failure>,
    /// The ActivityTaskScheduled event of this activity.
    pub scheduled_event_id: EventId,
    /// The ActivityTaskStarted event of the attempt that failed.
    pub started_event_id: EventId,
    /// Identity of the worker that reported the failure.
    pub identity: String,
    /// Why no retry follows ([`RetryState::NonRetryableFailure`],
    /// [`RetryState::MaximumAttemptsReached`], ...).
    pub retry_state: RetryState,
    /// Attribute keys we do not model (`workerVersion`, ...), kept verbatim so the event
    /// round-trips.
    pub extra: Extra,
}

/// Attributes of ActivityTaskTimedOut: an activity timeout expired and no retry is left.
#[derive(Clone, Debug, PartialEq)]
pub struct ActivityTaskTimedOut {
    /// A timeout failure (`timeoutFailureInfo`, source `Server`) naming which [`TimeoutType`]
    /// expired; for a heartbeat timeout it carries the last heartbeat details.
    pub failure: Option<Failure>,
    /// The ActivityTaskScheduled event of this activity.
    pub scheduled_event_id: EventId,
    /// The ActivityTaskStarted event of the last attempt; 0 if no attempt started (a
    /// schedule-to-start or schedule-to-close timeout while queued).
    pub started_event_id: EventId,
    /// Why no retry follows ([`RetryState::Timeout`] when the schedule-to-close timeout expired,
    /// [`RetryState::MaximumAttemptsReached`], ...).
    pub retry_state: RetryState,
    /// Attribute keys we do not model, kept verbatim so the event round-trips.
    pub extra: Extra,
}

/// Attributes of ActivityTaskCancelRequested: the workflow asked to cancel an activity.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ActivityTaskCancelRequested {
    /// The ActivityTaskScheduled event of the activity to cancel.
    pub scheduled_event_id: EventId,
    /// The WorkflowTaskCompleted event whose commands included the RequestCancelActivityTask
    /// command (the command events of a task follow that event directly).
    pub workflow_task_completed_event_id: EventId,
    /// Attribute keys we do not model, kept verbatim so the event round-trips.
    pub extra: Extra,
}

/// Attributes of ActivityTaskCanceled: the activity ended as canceled.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ActivityTaskCanceled {
    /// Details the activity attached when it acknowledged cancellation; `None` for none.
    pub details: Option<Payloads>,
    /// The ActivityTaskCancelRequested event this answers.
    pub latest_cancel_requested_event_id: EventId,
    /// The ActivityTaskScheduled event of this activity.
    pub scheduled_event_id: EventId,
    /// The ActivityTaskStarted event of the attempt that was canceled; 0 when the activity was
    /// canceled before it started.
    pub started_event_id: EventId,
    /// Identity of the worker that reported the cancellation (or of the workflow worker, when
    /// canceled before it started).
    pub identity: String,
    /// Attribute keys we do not model (`workerVersion`, ...), kept verbatim so the event
    /// round-trips.
    pub extra: Extra,
}

/// Attributes of TimerStarted: the workflow started a durable timer.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TimerStarted {
    /// The timer's id within the run; the SDK's default is its sequence number ("1", "2", ...).
    pub timer_id: String,
    /// How long after this event the timer fires (positive).
    pub start_to_fire_timeout: Option<Duration>,
    /// The WorkflowTaskCompleted event whose commands included the StartTimer command (the command
    /// events of a task follow that event directly).
    pub workflow_task_completed_event_id: EventId,
    /// Attribute keys we do not model, kept verbatim so the event round-trips.
    pub extra: Extra,
}

/// Attributes of TimerFired: the timer's duration elapsed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TimerFired {
    /// The id of the timer that fired.
    pub timer_id: String,
    /// Its TimerStarted event.
    pub started_event_id: EventId,
    /// Attribute keys we do not model, kept verbatim so the event round-trips.
    pub extra: Extra,
}

/// Attributes of TimerCanceled: the workflow canceled the timer before it fired.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TimerCanceled {
    /// The id of the timer canceled.
    pub timer_id: String,
    /// Its TimerStarted event.
    pub started_event_id: EventId,
    /// The WorkflowTaskCompleted event whose commands included the CancelTimer command (the command
    /// events of a task follow that event directly).
    pub workflow_task_completed_event_id: EventId,
    /// Identity of the worker whose task canceled it.
    pub identity: String,
    /// Attribute keys we do not model, kept verbatim so the event round-trips.
    pub extra: Extra,
}

/// Attributes of WorkflowExecutionCancelRequested: someone asked to cancel the run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkflowExecutionCancelRequested {
    /// Free-text reason given by the requester; empty when none was given.
    pub cause: String,
    /// Identity of the client that asked for cancellation.
    pub identity: String,
    /// When another workflow asked (a parent cancelling its child, or a
    /// RequestCancelExternalWorkflowExecution command): its Initiated event; 0 otherwise.
    pub external_initiated_event_id: EventId,
    /// When another workflow asked: that workflow's run.
    pub external_workflow_execution: Option<WorkflowExecution>,
    /// Attribute keys we do not model, kept verbatim so the event round-trips.
    pub extra: Extra,
}

/// Attributes of WorkflowExecutionCanceled: the run accepted cancellation.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkflowExecutionCanceled {
    /// The WorkflowTaskCompleted event whose commands included CancelWorkflowExecution (the command
    /// events of a task follow that event directly).
    pub workflow_task_completed_event_id: EventId,
    /// Details the workflow attached when it accepted cancellation; `None` for none.
    pub details: Option<Payloads>,
    /// Attribute keys we do not model, kept verbatim so the event round-trips.
    pub extra: Extra,
}

/// Attributes of MarkerRecorded: data the workflow recorded for its own replay (patches, side
/// effects).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MarkerRecorded {
    /// What kind of marker: `core_patch` for patches, `SideEffect` for side effects, SDK-specific
    /// names otherwise. Replay matches markers by name.
    pub marker_name: String,
    /// The marker's data, by key (a patch marker holds `patch_id` and `deprecated`; a side effect
    /// `side_effect_id` and `data`).
    pub details: MarkerDetails,
    /// The WorkflowTaskCompleted event whose commands included the RecordMarker command (the
    /// command events of a task follow that event directly).
    pub workflow_task_completed_event_id: EventId,
    /// A failure recorded with the marker (a local activity's); `None` for none.
    pub failure: Option<Failure>,
    /// Attribute keys we do not model (`header`, ...), kept verbatim so the event round-trips.
    pub extra: Extra,
}

/// Attributes of WorkflowExecutionSignaled: a signal reached the run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkflowExecutionSignaled {
    /// The signal's name; workflow code reads it from the channel of that name.
    pub signal_name: String,
    /// The signal's arguments; `None` for none.
    pub input: Option<Payloads>,
    /// Identity of the client that sent the signal.
    pub identity: String,
    /// When another workflow sent it (a SignalExternalWorkflowExecution command): that
    /// workflow's run.
    pub external_workflow_execution: Option<WorkflowExecution>,
    /// Attribute keys we do not model (`header`, `skipGenerateWorkflowTask`, ...), kept verbatim so
    /// the event round-trips.
    pub extra: Extra,
}

/// Attributes of WorkflowExecutionTerminated: the run was ended from outside.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkflowExecutionTerminated {
    /// Free-text reason given by the terminating client (or by the server, for a limit it
    /// enforced).
    pub reason: String,
    /// Details attached by the terminating client; `None` for none.
    pub details: Option<Payloads>,
    /// Identity of whoever terminated the run.
    pub identity: String,
    /// Attribute keys we do not model, kept verbatim so the event round-trips.
    pub extra: Extra,
}

/// Attributes of WorkflowExecutionContinuedAsNew: the run ended and handed over to a new run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkflowExecutionContinuedAsNew {
    /// The run id of the new run that continues this one (same workflow id).
    pub new_execution_run_id: String,
    /// The new run's workflow type (by default this run's).
    pub workflow_type: String,
    /// The new run's task queue (by default this run's).
    pub task_queue: TaskQueue,
    /// The new run's arguments; `None` for none.
    pub input: Option<Payloads>,
    /// The new run's run timeout; `None`: unlimited.
    pub workflow_run_timeout: Option<Duration>,
    /// The new run's workflow task timeout.
    pub workflow_task_timeout: Option<Duration>,
    /// The WorkflowTaskCompleted event whose commands included ContinueAsNewWorkflowExecution (the
    /// command events of a task follow that event directly).
    pub workflow_task_completed_event_id: EventId,
    /// Attribute keys we do not model (`header`, `initiator`, `backoffStartInterval`, ...), kept
    /// verbatim so the event round-trips.
    pub extra: Extra,
}

impl EventAttributes {
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
            EventAttributes::RequestCancelExternalWorkflowExecutionInitiated(a) => {
                Some(a.workflow_task_completed_event_id)
            }
            EventAttributes::StartChildWorkflowExecutionInitiated(a) => {
                Some(a.workflow_task_completed_event_id)
            }
            EventAttributes::SignalExternalWorkflowExecutionInitiated(a) => {
                Some(a.workflow_task_completed_event_id)
            }
            EventAttributes::UpsertWorkflowSearchAttributes(a) => {
                Some(a.workflow_task_completed_event_id)
            }
            EventAttributes::WorkflowPropertiesModified(a) => {
                Some(a.workflow_task_completed_event_id)
            }
            EventAttributes::NexusOperationScheduled(a) => Some(a.workflow_task_completed_event_id),
            EventAttributes::NexusOperationCancelRequested(a) => {
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
    /// Position in the run's history: 1 for WorkflowExecutionStarted, then consecutive.
    pub event_id: EventId,
    /// When the server wrote the event (virtual time in a simulation).
    pub event_time: Timestamp,
    /// Server-internal task id; kept for round trips, not interpreted.
    pub task_id: i64,
    /// The typed attributes; their variant is the event's type.
    pub attributes: EventAttributes,
    /// Top-level keys we do not model (`workerMayIgnore`, `userMetadata`, `links`, ...).
    pub extra: Extra,
}

impl HistoryEvent {
    /// The event's type (from its attributes).
    pub fn event_type(&self) -> EventType {
        self.attributes.event_type()
    }
}

/// One run's history: events in order, ids 1..=n.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    /// The events, ordered by `event_id`.
    pub events: Vec<HistoryEvent>,
}

impl History {
    /// A history of `events`, taken as given (ids are not checked).
    pub fn new(events: Vec<HistoryEvent>) -> Self {
        History { events }
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether there are no events.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The WorkflowExecutionStarted attributes, if the first event is one.
    pub fn started(&self) -> Option<&WorkflowExecutionStarted> {
        match self.events.first().map(|e| &e.attributes) {
            Some(EventAttributes::WorkflowExecutionStarted(s)) => Some(s),
            _ => None,
        }
    }

    /// The run's workflow type, from its WorkflowExecutionStarted event.
    pub fn workflow_type(&self) -> Option<&str> {
        self.started().map(|s| s.workflow_type.as_str())
    }

    /// The event that closed this run, if any.
    pub fn close_event(&self) -> Option<&HistoryEvent> {
        self.events.last().filter(|e| e.event_type().is_close())
    }

    /// The type of every event, in order (handy for asserting a history's shape).
    pub fn event_types(&self) -> Vec<EventType> {
        self.events.iter().map(HistoryEvent::event_type).collect()
    }
}
