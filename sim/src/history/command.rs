//! Commands a workflow task returns, with Temporal's names.
//!
//! Invariant: pure data, no I/O.

use std::time::Duration;

use super::attributes::{Memo, ParentClosePolicy, SearchAttributes};
use super::event::{EventId, MarkerDetails, RetryPolicy, TaskQueue};
use super::failure::Failure;
use super::payload::Payloads;

/// Attributes of a ScheduleActivityTask command (`ScheduleActivityTaskCommandAttributes`): start an
/// activity. Becomes [`ActivityTaskScheduled`](super::event::ActivityTaskScheduled) once the server
/// fills in its defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct ScheduleActivityTask {
    /// Id of the activity within the run; must not be used by another pending activity. The SDK's
    /// default is the activity sequence number ("1", "2", ...).
    pub activity_id: String,
    /// Registered name of the activity function to run.
    pub activity_type: String,
    /// Queue the activity's tasks go to (the SDK passes the workflow's own unless told otherwise).
    pub task_queue: TaskQueue,
    /// The activity's arguments; `None` for none.
    pub input: Option<Payloads>,
    /// Bound on the whole activity, all attempts and backoff included; `None`: unlimited. This or
    /// `start_to_close_timeout` is required.
    pub schedule_to_close_timeout: Option<Duration>,
    /// Bound on how long an attempt may wait on the queue; `None`: unlimited.
    pub schedule_to_start_timeout: Option<Duration>,
    /// Bound on one attempt, from pickup to result; the only way a crashed worker is noticed. This
    /// or `schedule_to_close_timeout` is required.
    pub start_to_close_timeout: Option<Duration>,
    /// Longest allowed gap between heartbeats of a running attempt; `None`: no heartbeat timeout.
    pub heartbeat_timeout: Option<Duration>,
    /// How failed attempts are retried; unset fields (or `None` for the whole policy) take
    /// Temporal's defaults: 1 s initial interval, coefficient 2, unlimited attempts.
    pub retry_policy: Option<RetryPolicy>,
    /// Ask the server to start the first attempt at once and hand it back with the workflow
    /// task's completion, to be run by the worker that scheduled it (Temporal's eager activity
    /// execution). The worker clears it when it has no free activity slot or the activity goes
    /// to another task queue; the server honours it only when eager execution is enabled.
    pub request_eager_execution: bool,
}

/// Attributes of a ContinueAsNewWorkflowExecution command: end this run and start a new run of the
/// same workflow id. An empty workflow type or task queue name means this run's.
#[derive(Clone, Debug, PartialEq)]
pub struct ContinueAsNewWorkflowExecution {
    /// The new run's workflow type; empty: this run's.
    pub workflow_type: String,
    /// The new run's task queue; an empty name: this run's.
    pub task_queue: TaskQueue,
    /// The new run's arguments; `None` for none.
    pub input: Option<Payloads>,
    /// The new run's run timeout; `None`: none requested.
    pub workflow_run_timeout: Option<Duration>,
    /// The new run's workflow task timeout; `None`: this run's.
    pub workflow_task_timeout: Option<Duration>,
}

/// Attributes of a StartChildWorkflowExecution command: start a child workflow. Becomes
/// StartChildWorkflowExecutionInitiated, then ChildWorkflowExecutionStarted (or
/// StartChildWorkflowExecutionFailed), and one of the child-closed events when the child's chain
/// of runs closes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StartChildWorkflowExecution {
    /// The child's workflow id; must not name a running workflow (the start then fails with
    /// `WorkflowAlreadyExists`).
    pub workflow_id: String,
    /// The child's workflow type.
    pub workflow_type: String,
    /// The child's task queue; an empty name: the parent's.
    pub task_queue: TaskQueue,
    /// The child's arguments; `None` for none.
    pub input: Option<Payloads>,
    /// Bound on the child's whole chain of runs; `None`: unlimited.
    pub workflow_execution_timeout: Option<Duration>,
    /// Bound on one run of the child; `None`: unlimited.
    pub workflow_run_timeout: Option<Duration>,
    /// The child's workflow task timeout; `None`: the server's default.
    pub workflow_task_timeout: Option<Duration>,
    /// What happens to the child when the parent closes; `Unspecified` is `Terminate`.
    pub parent_close_policy: ParentClosePolicy,
    /// Temporal's `WORKFLOW_ID_REUSE_POLICY_*` number (0: unspecified, which allows a duplicate).
    pub workflow_id_reuse_policy: i32,
    /// The child's retry policy; `None`: not retried.
    pub retry_policy: Option<RetryPolicy>,
    /// The child's memo.
    pub memo: Option<Memo>,
    /// The child's search attributes.
    pub search_attributes: Option<SearchAttributes>,
}

/// Attributes of a SignalExternalWorkflowExecution command: signal another workflow (or a child).
/// Becomes SignalExternalWorkflowExecutionInitiated, then ExternalWorkflowExecutionSignaled or
/// SignalExternalWorkflowExecutionFailed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SignalExternalWorkflowExecution {
    /// The target's workflow id.
    pub workflow_id: String,
    /// The target's run id; empty: its current run.
    pub run_id: String,
    /// The signal's name.
    pub signal_name: String,
    /// The signal's arguments; `None` for none.
    pub input: Option<Payloads>,
    /// The target must be a child of this workflow.
    pub child_workflow_only: bool,
}

/// Attributes of a RequestCancelExternalWorkflowExecution command: ask another workflow (or a
/// child) to cancel. Becomes RequestCancelExternalWorkflowExecutionInitiated, then
/// ExternalWorkflowExecutionCancelRequested or RequestCancelExternalWorkflowExecutionFailed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RequestCancelExternalWorkflowExecution {
    /// The target's workflow id.
    pub workflow_id: String,
    /// The target's run id; empty: its current run.
    pub run_id: String,
    /// The target must be a child of this workflow.
    pub child_workflow_only: bool,
    /// Free-text reason passed on to the target.
    pub reason: String,
}

/// A command from a workflow task. Each accepted command becomes one event.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Start an activity; becomes ActivityTaskScheduled.
    ScheduleActivityTask(ScheduleActivityTask),
    /// Ask for a scheduled activity to be canceled; becomes ActivityTaskCancelRequested (and
    /// ActivityTaskCanceled right away if the activity had not started).
    RequestCancelActivityTask {
        /// The ActivityTaskScheduled event of the activity to cancel.
        scheduled_event_id: EventId,
    },
    /// Start a durable timer; becomes TimerStarted, then TimerFired when it elapses.
    StartTimer {
        /// Id of the timer within the run; must not be used by another pending timer. The SDK's
        /// default is the timer sequence number.
        timer_id: String,
        /// How long until the timer fires; must be positive.
        start_to_fire_timeout: Duration,
    },
    /// Cancel a pending timer; becomes TimerCanceled.
    CancelTimer {
        /// Id of the timer to cancel.
        timer_id: String,
    },
    /// Close the run successfully; becomes WorkflowExecutionCompleted.
    CompleteWorkflowExecution {
        /// The workflow's return value; `None` for none.
        result: Option<Payloads>,
    },
    /// Close the run as failed; becomes WorkflowExecutionFailed.
    FailWorkflowExecution {
        /// The failure the workflow ended with.
        failure: Failure,
    },
    /// Close the run as canceled (accepting a cancel request); becomes WorkflowExecutionCanceled.
    CancelWorkflowExecution {
        /// Details to record with the cancellation; `None` for none.
        details: Option<Payloads>,
    },
    /// Record data for the workflow's own replay (patch, side effect); becomes MarkerRecorded.
    RecordMarker {
        /// What kind of marker (`core_patch`, `SideEffect`, ...); replay matches markers by name.
        marker_name: String,
        /// The marker's data, by key.
        details: MarkerDetails,
        /// A failure to record with the marker; `None` for none.
        failure: Option<Failure>,
    },
    /// Close the run and start a new one with the same workflow id; becomes
    /// WorkflowExecutionContinuedAsNew.
    ContinueAsNewWorkflowExecution(ContinueAsNewWorkflowExecution),
    /// Start a child workflow; becomes StartChildWorkflowExecutionInitiated.
    StartChildWorkflowExecution(Box<StartChildWorkflowExecution>),
    /// Signal another workflow; becomes SignalExternalWorkflowExecutionInitiated.
    SignalExternalWorkflowExecution(Box<SignalExternalWorkflowExecution>),
    /// Ask another workflow to cancel; becomes RequestCancelExternalWorkflowExecutionInitiated.
    RequestCancelExternalWorkflowExecution(RequestCancelExternalWorkflowExecution),
    /// Set (or unset) search attributes of the run; becomes UpsertWorkflowSearchAttributes.
    UpsertWorkflowSearchAttributes {
        /// The attributes to set; a value whose data is empty, `null` or `[]` unsets its name.
        search_attributes: SearchAttributes,
    },
    /// Change the run's memo; becomes WorkflowPropertiesModified.
    ModifyWorkflowProperties {
        /// The memo keys to set; a `binary/null` value removes its key.
        upserted_memo: Memo,
    },
    /// Process one of the task's protocol messages (an update's acceptance or response) here,
    /// among the commands; becomes the message's event (WorkflowExecutionUpdateAccepted or
    /// WorkflowExecutionUpdateCompleted).
    ProtocolMessage {
        /// The [`ProtocolMessage`](super::protocol::ProtocolMessage)'s id.
        message_id: String,
    },
}

impl Command {
    /// Temporal's command type name (`COMMAND_TYPE_...` without the prefix, PascalCase).
    pub fn name(&self) -> &'static str {
        match self {
            Command::ScheduleActivityTask(_) => "ScheduleActivityTask",
            Command::RequestCancelActivityTask { .. } => "RequestCancelActivityTask",
            Command::StartTimer { .. } => "StartTimer",
            Command::CancelTimer { .. } => "CancelTimer",
            Command::CompleteWorkflowExecution { .. } => "CompleteWorkflowExecution",
            Command::FailWorkflowExecution { .. } => "FailWorkflowExecution",
            Command::CancelWorkflowExecution { .. } => "CancelWorkflowExecution",
            Command::RecordMarker { .. } => "RecordMarker",
            Command::ContinueAsNewWorkflowExecution(_) => "ContinueAsNewWorkflowExecution",
            Command::StartChildWorkflowExecution(_) => "StartChildWorkflowExecution",
            Command::SignalExternalWorkflowExecution(_) => "SignalExternalWorkflowExecution",
            Command::RequestCancelExternalWorkflowExecution(_) => {
                "RequestCancelExternalWorkflowExecution"
            }
            Command::UpsertWorkflowSearchAttributes { .. } => "UpsertWorkflowSearchAttributes",
            Command::ModifyWorkflowProperties { .. } => "ModifyWorkflowProperties",
            Command::ProtocolMessage { .. } => "ProtocolMessage",
        }
    }

    /// Commands that close the run.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Command::CompleteWorkflowExecution { .. }
                | Command::FailWorkflowExecution { .. }
                | Command::CancelWorkflowExecution { .. }
                | Command::ContinueAsNewWorkflowExecution(_)
        )
    }

    /// Total payload bytes the command carries (for the 2 MiB limit).
    pub fn payload_bytes(&self) -> usize {
        match self {
            Command::ScheduleActivityTask(s) => s.input.as_ref().map_or(0, Payloads::size_bytes),
            Command::CompleteWorkflowExecution { result } => {
                result.as_ref().map_or(0, Payloads::size_bytes)
            }
            Command::CancelWorkflowExecution { details } => {
                details.as_ref().map_or(0, Payloads::size_bytes)
            }
            Command::RecordMarker { details, .. } => {
                details.values().map(Payloads::size_bytes).sum()
            }
            Command::ContinueAsNewWorkflowExecution(c) => {
                c.input.as_ref().map_or(0, Payloads::size_bytes)
            }
            Command::StartChildWorkflowExecution(c) => {
                c.input.as_ref().map_or(0, Payloads::size_bytes)
            }
            Command::SignalExternalWorkflowExecution(c) => {
                c.input.as_ref().map_or(0, Payloads::size_bytes)
            }
            Command::UpsertWorkflowSearchAttributes { search_attributes } => search_attributes
                .indexed_fields
                .values()
                .map(|p| p.size_bytes())
                .sum(),
            Command::ModifyWorkflowProperties { upserted_memo } => {
                upserted_memo.fields.values().map(|p| p.size_bytes()).sum()
            }
            _ => 0,
        }
    }
}
