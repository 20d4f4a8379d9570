//! Commands a workflow task returns, with Temporal's names.
//!
//! Invariant: pure data, no I/O.

use std::time::Duration;

use super::event::{EventId, MarkerDetails, RetryPolicy, TaskQueue};
use super::failure::Failure;
use super::payload::Payloads;

#[derive(Clone, Debug, PartialEq)]
pub struct ScheduleActivityTask {
    pub activity_id: String,
    pub activity_type: String,
    pub task_queue: TaskQueue,
    pub input: Option<Payloads>,
    pub schedule_to_close_timeout: Option<Duration>,
    pub schedule_to_start_timeout: Option<Duration>,
    pub start_to_close_timeout: Option<Duration>,
    pub heartbeat_timeout: Option<Duration>,
    pub retry_policy: Option<RetryPolicy>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ContinueAsNewWorkflowExecution {
    pub workflow_type: String,
    pub task_queue: TaskQueue,
    pub input: Option<Payloads>,
    pub workflow_run_timeout: Option<Duration>,
    pub workflow_task_timeout: Option<Duration>,
}

/// A command from a workflow task. Each accepted command becomes one event.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    ScheduleActivityTask(ScheduleActivityTask),
    RequestCancelActivityTask {
        scheduled_event_id: EventId,
    },
    StartTimer {
        timer_id: String,
        start_to_fire_timeout: Duration,
    },
    CancelTimer {
        timer_id: String,
    },
    CompleteWorkflowExecution {
        result: Option<Payloads>,
    },
    FailWorkflowExecution {
        failure: Failure,
    },
    CancelWorkflowExecution {
        details: Option<Payloads>,
    },
    RecordMarker {
        marker_name: String,
        details: MarkerDetails,
        failure: Option<Failure>,
    },
    ContinueAsNewWorkflowExecution(ContinueAsNewWorkflowExecution),
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
            _ => 0,
        }
    }
}
