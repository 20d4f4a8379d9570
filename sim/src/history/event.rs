//! Events and histories, with Temporal's names and numbering: `EventType` and
//! `EventAttributes` (declared once, `event_types!`), `HistoryEvent`, `History`, and the
//! values every event holds (`Extra`, `Timestamp`). The attributes themselves are in
//! `lifecycle.rs` and `attributes.rs`, the values they share in `shared.rs` (re-exported
//! here).
//!
//! Invariant: this module is pure data. It reads no clock, does no I/O, draws no randomness.
//! Attribute keys we do not model are kept in each struct's `extra` map (in their original JSON
//! form), so a history read from Temporal and written back loses nothing.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub use super::lifecycle::*;
pub use super::shared::*;

use super::attributes::*;

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

    /// Events of a workflow task's life: scheduled, started, completed, failed, timed out.
    pub fn is_workflow_task(self) -> bool {
        matches!(
            self,
            EventType::WorkflowTaskScheduled
                | EventType::WorkflowTaskStarted
                | EventType::WorkflowTaskCompleted
                | EventType::WorkflowTaskFailed
                | EventType::WorkflowTaskTimedOut
        )
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
