//! The attributes of the events every run has: its lifecycle (started, completed, failed,
//! timed out, cancelled, terminated, continued as new, signalled), workflow tasks, activities,
//! timers and markers. Those of child workflows, other workflows, updates and the rest are in
//! `attributes.rs`.
//!
//! Invariant: pure data, like every module of `history/`.

use std::time::Duration;

use super::attributes::{Memo, SearchAttributes, WorkflowExecution};
use super::event::{EventId, Extra};
use super::failure::Failure;
use super::payload::Payloads;
use super::shared::*;

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
