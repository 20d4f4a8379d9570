//! Commands: what a completed workflow task asks of the server. Validation of the whole batch
//! first (a bad command fails the task and nothing of the batch is applied), then one function
//! per command kind, each writing its event right after WorkflowTaskCompleted and carrying that
//! event's id (`workflow_task_completed_event_id`), as Temporal's command handlers do.
//!
//! Invariants:
//! - a batch is applied whole or not at all: every check that can reject a command runs in
//!   `validate_commands`, before the first event is written;
//! - activity ids and timer ids are unique among the run's pending ones; payloads, pending
//!   activities and pending timers stay within `Limits`;
//! - a terminal command (complete, fail, cancel, continue-as-new) closes the run and ends the
//!   batch: nothing after it is applied.

use std::sync::Arc;
use std::time::Duration;

use super::activity_rules::normalize_timeouts;
use super::core::{Engine, ReplyHandle};
use super::external::Transfer;
use super::frontend::{ContinuedFrom, NewRun};
use super::runs::RunIdx;
use super::state::{ActivityState, MutableState, TimerState};
use crate::history::{
    ActivityTaskCancelRequested, ActivityTaskCanceled, ActivityTaskScheduled, Command,
    ContinueAsNewWorkflowExecution, EventAttributes, EventId, ExecKey, Extra, Failure,
    MarkerDetails, MarkerRecorded, Payloads, RetryState, ScheduleActivityTask,
    StartChildWorkflowExecution, TaskQueue, TimerCanceled, TimerStarted, Timestamp,
    WorkflowExecutionCanceled, WorkflowExecutionCompleted, WorkflowExecutionContinuedAsNew,
    WorkflowExecutionFailed, WorkflowTaskFailedCause,
};
use crate::wire::WorkflowStatus;

/// A command the batch cannot have: the task fails with `cause`.
#[derive(Debug)]
pub(super) struct BadCommand {
    pub(super) cause: WorkflowTaskFailedCause,
    pub(super) message: String,
    /// A payload over the limit also terminates the run.
    pub(super) terminate: bool,
}

impl BadCommand {
    pub(super) fn new(cause: WorkflowTaskFailedCause, message: impl Into<String>) -> BadCommand {
        BadCommand {
            cause,
            message: message.into(),
            terminate: false,
        }
    }
}

/// What every command of one completed workflow task shares.
pub(super) struct CommandContext<'a> {
    pub(super) now: Timestamp,
    pub(super) run: RunIdx,
    /// The WorkflowTaskCompleted event the command events refer to.
    pub(super) completed_event_id: EventId,
    /// The worker that completed the task.
    pub(super) identity: &'a str,
}

/// What applying one command did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Applied {
    /// Its event is written; nothing more.
    Recorded,
    /// It resolved something the workflow must see in a new workflow task.
    Resolved,
    /// It closed the run: the rest of the batch is dropped.
    ClosedRun,
}

/// What applying a batch did.
#[derive(Default)]
pub(super) struct BatchApplied {
    pub(super) closed_run: bool,
    pub(super) needs_wft: bool,
    /// Deliveries to other runs, for after the batch's events (`external.rs`).
    pub(super) transfers: Vec<Transfer>,
}

/// The task failed cause for a command whose payload is over the limit.
fn payload_cause(c: &Command) -> WorkflowTaskFailedCause {
    match c {
        Command::ScheduleActivityTask(_) => WorkflowTaskFailedCause::BadScheduleActivityAttributes,
        Command::RecordMarker { .. } => WorkflowTaskFailedCause::BadRecordMarkerAttributes,
        // Temporal's BAD_*_ATTRIBUTES numbers for the terminal commands.
        Command::CancelWorkflowExecution { .. } => WorkflowTaskFailedCause::Other(9),
        Command::ContinueAsNewWorkflowExecution(_) => WorkflowTaskFailedCause::Other(11),
        _ => WorkflowTaskFailedCause::Other(7),
    }
}

/// The ids a batch adds, for duplicate checks within the batch.
#[derive(Default)]
struct NewIds<'a> {
    activities: Vec<&'a str>,
    timers: Vec<&'a str>,
    children: Vec<&'a str>,
}

/// A child start needs an id and a type, and its id must not be a pending child's (Temporal's
/// BAD_START_CHILD_EXECUTION_ATTRIBUTES, 16).
fn validate_start_child<'a>(
    ms: &MutableState,
    c: &'a StartChildWorkflowExecution,
    new: &mut NewIds<'a>,
) -> Result<(), BadCommand> {
    let bad = WorkflowTaskFailedCause::Other(16);
    if c.workflow_id.is_empty() || c.workflow_type.is_empty() {
        return Err(BadCommand::new(
            bad,
            "StartChildWorkflowExecution needs a workflow id and type",
        ));
    }
    if ms
        .children
        .values()
        .any(|ch| ch.workflow_id == c.workflow_id)
        || new.children.contains(&c.workflow_id.as_str())
    {
        return Err(BadCommand::new(
            bad,
            format!("child workflow id {} is already pending", c.workflow_id),
        ));
    }
    new.children.push(&c.workflow_id);
    Ok(())
}

fn validate_schedule_activity<'a>(
    ms: &MutableState,
    s: &'a ScheduleActivityTask,
    new: &mut NewIds<'a>,
) -> Result<(), BadCommand> {
    let bad = WorkflowTaskFailedCause::BadScheduleActivityAttributes;
    if s.activity_id.is_empty() || s.activity_type.is_empty() {
        return Err(BadCommand::new(bad, "activity id and type are required"));
    }
    let s2c = s.schedule_to_close_timeout.filter(|d| !d.is_zero());
    let st2c = s.start_to_close_timeout.filter(|d| !d.is_zero());
    if s2c.is_none() && st2c.is_none() {
        let message = format!(
            "activity {}: a start_to_close or schedule_to_close timeout is required",
            s.activity_id
        );
        return Err(BadCommand::new(bad, message));
    }
    if ms
        .activities
        .values()
        .any(|a| a.activity_id == s.activity_id)
        || new.activities.contains(&s.activity_id.as_str())
    {
        return Err(BadCommand::new(
            WorkflowTaskFailedCause::ScheduleActivityDuplicateId,
            format!("duplicate activity id {}", s.activity_id),
        ));
    }
    new.activities.push(&s.activity_id);
    Ok(())
}

fn validate_start_timer<'a>(
    ms: &MutableState,
    timer_id: &'a str,
    new: &mut NewIds<'a>,
) -> Result<(), BadCommand> {
    if ms.timers.contains_key(timer_id) || new.timers.contains(&timer_id) {
        return Err(BadCommand::new(
            WorkflowTaskFailedCause::StartTimerDuplicateId,
            format!("duplicate timer id {timer_id}"),
        ));
    }
    new.timers.push(timer_id);
    Ok(())
}

impl<R: ReplyHandle> Engine<R> {
    /// Checks a whole batch against the run's state and the limits, before anything is applied.
    pub(super) fn validate_commands(
        &self,
        run: RunIdx,
        commands: &[Command],
    ) -> Result<(), BadCommand> {
        let ms = self.ms(run);
        let limits = &self.cfg.limits;
        let mut new = NewIds::default();
        for c in commands {
            let size = c.payload_bytes();
            if size > limits.payload_error_bytes {
                return Err(BadCommand {
                    cause: payload_cause(c),
                    message: format!(
                        "{} payload of {size} bytes exceeds the {} byte limit",
                        c.name(),
                        limits.payload_error_bytes
                    ),
                    terminate: true,
                });
            }
            match c {
                Command::ScheduleActivityTask(s) => validate_schedule_activity(ms, s, &mut new)?,
                Command::StartTimer { timer_id, .. } => {
                    validate_start_timer(ms, timer_id, &mut new)?
                }
                Command::StartChildWorkflowExecution(c) => validate_start_child(ms, c, &mut new)?,
                Command::SignalExternalWorkflowExecution(c)
                    if c.workflow_id.is_empty() || c.signal_name.is_empty() =>
                {
                    return Err(BadCommand::new(
                        WorkflowTaskFailedCause::Other(15),
                        "SignalExternalWorkflowExecution needs a workflow id and a signal name",
                    ));
                }
                Command::RequestCancelExternalWorkflowExecution(c) if c.workflow_id.is_empty() => {
                    return Err(BadCommand::new(
                        WorkflowTaskFailedCause::Other(10),
                        "RequestCancelExternalWorkflowExecution needs a workflow id",
                    ));
                }
                _ => super::properties::validate(c)?,
            }
        }
        if ms.activities.len() + new.activities.len() > limits.pending_activities {
            return Err(BadCommand::new(
                WorkflowTaskFailedCause::PendingActivitiesLimitExceeded,
                format!(
                    "pending activities would exceed the limit of {}",
                    limits.pending_activities
                ),
            ));
        }
        if ms.timers.len() + new.timers.len() > limits.pending_timers {
            return Err(BadCommand::new(
                WorkflowTaskFailedCause::Other(0),
                "too many pending timers",
            ));
        }
        Ok(())
    }

    /// Applies a validated batch in order, up to the command that closes the run.
    pub(super) fn apply_commands(
        &mut self,
        cx: &CommandContext,
        commands: Vec<Command>,
        messages: Vec<crate::history::ProtocolMessage>,
    ) -> BatchApplied {
        let mut out = BatchApplied::default();
        let mut messages: Vec<Option<crate::history::ProtocolMessage>> =
            messages.into_iter().map(Some).collect();
        for c in commands {
            if let Command::ProtocolMessage { message_id } = &c {
                // The message is processed here, in the commands' order (validated to exist).
                let m = messages
                    .iter_mut()
                    .find(|m| m.as_ref().is_some_and(|m| &m.id == message_id))
                    .and_then(Option::take);
                if let Some(m) = m {
                    self.apply_update_message(cx, m);
                }
                continue;
            }
            match self.apply_command(cx, c, &mut out.transfers) {
                Applied::Recorded => {}
                Applied::Resolved => out.needs_wft = true,
                Applied::ClosedRun => {
                    out.closed_run = true;
                    break;
                }
            }
        }
        // Messages no command placed come after the commands (none once the run closed).
        if !out.closed_run {
            for m in messages.into_iter().flatten() {
                self.apply_update_message(cx, m);
            }
        }
        out
    }

    fn apply_command(
        &mut self,
        cx: &CommandContext,
        c: Command,
        transfers: &mut Vec<Transfer>,
    ) -> Applied {
        match c {
            Command::ScheduleActivityTask(s) => self.schedule_activity_task(cx, s),
            Command::RequestCancelActivityTask { scheduled_event_id } => {
                self.request_cancel_activity_task(cx, scheduled_event_id)
            }
            Command::StartTimer {
                timer_id,
                start_to_fire_timeout,
            } => self.start_timer(cx, timer_id, start_to_fire_timeout),
            Command::CancelTimer { timer_id } => self.cancel_timer(cx, timer_id),
            Command::RecordMarker {
                marker_name,
                details,
                failure,
            } => self.record_marker(cx, marker_name, details, failure),
            Command::CompleteWorkflowExecution { result } => {
                self.complete_workflow_execution(cx, result)
            }
            Command::FailWorkflowExecution { failure } => self.fail_workflow_execution(cx, failure),
            Command::CancelWorkflowExecution { details } => {
                self.cancel_workflow_execution(cx, details)
            }
            Command::ContinueAsNewWorkflowExecution(c) => self.continue_as_new(cx, c),
            Command::StartChildWorkflowExecution(c) => {
                self.start_child_workflow_execution(cx, *c, transfers);
                Applied::Recorded
            }
            Command::SignalExternalWorkflowExecution(c) => {
                self.signal_external_workflow_execution(cx, c, transfers);
                Applied::Recorded
            }
            Command::RequestCancelExternalWorkflowExecution(c) => {
                self.request_cancel_external_workflow_execution(cx, c, transfers);
                Applied::Recorded
            }
            Command::UpsertWorkflowSearchAttributes { search_attributes } => {
                self.upsert_search_attributes(cx, search_attributes)
            }
            Command::ModifyWorkflowProperties { upserted_memo } => {
                self.modify_workflow_properties(cx, upserted_memo)
            }
            // Placed by `apply_commands`, which processes its message in its stead.
            Command::ProtocolMessage { .. } => Applied::Recorded,
        }
    }

    /// ScheduleActivityTask -> ActivityTaskScheduled; the activity is pending, attempt 1, ready
    /// now. Timeouts are normalised as Temporal does (start-to-close defaults to
    /// schedule-to-close) and the retry policy gets its defaults.
    fn schedule_activity_task(&mut self, cx: &CommandContext, s: ScheduleActivityTask) -> Applied {
        let (now, run) = (cx.now, cx.run);
        let queue = if s.task_queue.name.is_empty() {
            self.ms(run).task_queue.clone()
        } else {
            s.task_queue.name.clone()
        };
        let t = normalize_timeouts(
            s.schedule_to_close_timeout,
            s.schedule_to_start_timeout,
            s.start_to_close_timeout,
            s.heartbeat_timeout,
        );
        let set = |d: Duration| Some(d).filter(|d| !d.is_zero());
        let policy = s.retry_policy.clone().unwrap_or_default().with_defaults();
        let id = self.append(
            run,
            now,
            EventAttributes::ActivityTaskScheduled(Arc::new(ActivityTaskScheduled {
                activity_id: s.activity_id.clone(),
                activity_type: s.activity_type.clone(),
                task_queue: TaskQueue::normal(queue.clone()),
                input: s.input.clone(),
                schedule_to_close_timeout: Some(t.schedule_to_close),
                schedule_to_start_timeout: Some(t.schedule_to_start),
                start_to_close_timeout: Some(t.start_to_close),
                heartbeat_timeout: Some(t.heartbeat),
                workflow_task_completed_event_id: cx.completed_event_id,
                retry_policy: Some(policy.clone()),
                extra: Extra::new(),
            })),
        );
        self.ms_mut(run).activities.insert(
            id,
            Arc::new(ActivityState {
                scheduled_event_id: id,
                activity_id: s.activity_id,
                activity_type: s.activity_type,
                task_queue: queue,
                input: s.input,
                schedule_to_close_timeout: set(t.schedule_to_close),
                schedule_to_start_timeout: set(t.schedule_to_start),
                start_to_close_timeout: set(t.start_to_close),
                heartbeat_timeout: set(t.heartbeat),
                retry_policy: policy,
                scheduled_time: now,
                attempt: 1,
                attempt_ready_at: now,
                started: None,
                heartbeat_details: None,
                last_failure: None,
                cancel_requested_event_id: 0,
            }),
        );
        Applied::Recorded
    }

    /// RequestCancelActivityTask -> ActivityTaskCancelRequested. An activity not started yet is
    /// canceled at once (ActivityTaskCanceled, and the workflow learns of it in a new task); a
    /// started one learns of it from its next heartbeat. Unknown ids are ignored.
    fn request_cancel_activity_task(
        &mut self,
        cx: &CommandContext,
        scheduled_event_id: EventId,
    ) -> Applied {
        let (now, run) = (cx.now, cx.run);
        let Some(started) = self
            .ms(run)
            .activities
            .get(&scheduled_event_id)
            .map(|a| a.started.is_some())
        else {
            return Applied::Recorded;
        };
        let req = self.append(
            run,
            now,
            EventAttributes::ActivityTaskCancelRequested(Arc::new(ActivityTaskCancelRequested {
                scheduled_event_id,
                workflow_task_completed_event_id: cx.completed_event_id,
                extra: Extra::new(),
            })),
        );
        if !started {
            self.append(
                run,
                now,
                EventAttributes::ActivityTaskCanceled(Arc::new(ActivityTaskCanceled {
                    details: None,
                    latest_cancel_requested_event_id: req,
                    scheduled_event_id,
                    started_event_id: 0,
                    identity: cx.identity.to_string(),
                    extra: Extra::new(),
                })),
            );
            self.ms_mut(run).activities.remove(&scheduled_event_id);
            return Applied::Resolved;
        }
        if let Some(a) = self
            .ms_mut(run)
            .activities
            .get_mut(&scheduled_event_id)
            .map(Arc::make_mut)
        {
            a.cancel_requested_event_id = req;
        }
        Applied::Recorded
    }

    /// StartTimer -> TimerStarted; the timer fires at `now + start_to_fire_timeout`
    /// (`timers.rs`).
    fn start_timer(
        &mut self,
        cx: &CommandContext,
        timer_id: String,
        start_to_fire_timeout: Duration,
    ) -> Applied {
        let id = self.append(
            cx.run,
            cx.now,
            EventAttributes::TimerStarted(Arc::new(TimerStarted {
                timer_id: timer_id.clone(),
                start_to_fire_timeout: Some(start_to_fire_timeout),
                workflow_task_completed_event_id: cx.completed_event_id,
                extra: Extra::new(),
            })),
        );
        self.ms_mut(cx.run).timers.insert(
            timer_id,
            TimerState {
                started_event_id: id,
                fire_at: cx.now.plus(start_to_fire_timeout),
            },
        );
        Applied::Recorded
    }

    /// CancelTimer -> TimerCanceled, for a pending timer (an unknown or fired one: nothing).
    fn cancel_timer(&mut self, cx: &CommandContext, timer_id: String) -> Applied {
        if let Some(t) = self.ms_mut(cx.run).timers.remove(&timer_id) {
            self.append(
                cx.run,
                cx.now,
                EventAttributes::TimerCanceled(Arc::new(TimerCanceled {
                    timer_id,
                    started_event_id: t.started_event_id,
                    workflow_task_completed_event_id: cx.completed_event_id,
                    identity: cx.identity.to_string(),
                    extra: Extra::new(),
                })),
            );
        }
        Applied::Recorded
    }

    /// RecordMarker -> MarkerRecorded (side effects, versioning markers).
    fn record_marker(
        &mut self,
        cx: &CommandContext,
        marker_name: String,
        details: MarkerDetails,
        failure: Option<Failure>,
    ) -> Applied {
        self.append(
            cx.run,
            cx.now,
            EventAttributes::MarkerRecorded(Arc::new(MarkerRecorded {
                marker_name,
                details,
                workflow_task_completed_event_id: cx.completed_event_id,
                failure,
                extra: Extra::new(),
            })),
        );
        Applied::Recorded
    }

    /// CompleteWorkflowExecution -> WorkflowExecutionCompleted; the run closes.
    fn complete_workflow_execution(
        &mut self,
        cx: &CommandContext,
        result: Option<Payloads>,
    ) -> Applied {
        self.close(
            cx.run,
            cx.now,
            WorkflowStatus::Completed,
            EventAttributes::WorkflowExecutionCompleted(Arc::new(WorkflowExecutionCompleted {
                result,
                workflow_task_completed_event_id: cx.completed_event_id,
                new_execution_run_id: None,
                extra: Extra::new(),
            })),
        );
        Applied::ClosedRun
    }

    /// FailWorkflowExecution -> WorkflowExecutionFailed; the run closes (workflows have no
    /// retry policy here).
    fn fail_workflow_execution(&mut self, cx: &CommandContext, failure: Failure) -> Applied {
        self.close(
            cx.run,
            cx.now,
            WorkflowStatus::Failed,
            EventAttributes::WorkflowExecutionFailed(Arc::new(WorkflowExecutionFailed {
                failure: Some(failure),
                retry_state: RetryState::RetryPolicyNotSet,
                workflow_task_completed_event_id: cx.completed_event_id,
                new_execution_run_id: None,
                extra: Extra::new(),
            })),
        );
        Applied::ClosedRun
    }

    /// CancelWorkflowExecution -> WorkflowExecutionCanceled; the run closes.
    fn cancel_workflow_execution(
        &mut self,
        cx: &CommandContext,
        details: Option<Payloads>,
    ) -> Applied {
        self.close(
            cx.run,
            cx.now,
            WorkflowStatus::Canceled,
            EventAttributes::WorkflowExecutionCanceled(Arc::new(WorkflowExecutionCanceled {
                workflow_task_completed_event_id: cx.completed_event_id,
                details,
                extra: Extra::new(),
            })),
        );
        Applied::ClosedRun
    }

    /// ContinueAsNewWorkflowExecution -> WorkflowExecutionContinuedAsNew; the run closes and a
    /// new run of the same workflow id starts (type, queue and task timeout default to this
    /// run's), remembering the first run of the chain.
    fn continue_as_new(
        &mut self,
        cx: &CommandContext,
        c: ContinueAsNewWorkflowExecution,
    ) -> Applied {
        let (now, run) = (cx.now, cx.run);
        let ExecKey {
            workflow_id,
            run_id,
        } = self.runs[run].key.clone();
        let new_run_id = self.new_run_id(&workflow_id);
        let ms = self.ms(run);
        let started = self.runs[run]
            .exec
            .history
            .first()
            .and_then(|e| match &e.attributes {
                EventAttributes::WorkflowExecutionStarted(s) => Some(s),
                _ => None,
            });
        let first_run_id = started
            .map(|s| s.first_execution_run_id.clone())
            .unwrap_or_else(|| ms.run_id.clone());
        // As Temporal does: a run timeout the command leaves unset is this run's, cut to the
        // execution timeout, which goes on (with its expiration time) to the new run.
        let execution_timeout = started.and_then(|s| s.workflow_execution_timeout);
        let run_timeout = super::run_timeouts::effective_run_timeout(
            c.workflow_run_timeout
                .filter(|d| !d.is_zero())
                .or_else(|| started.and_then(|s| s.workflow_run_timeout)),
            execution_timeout,
        );
        let execution_expiration_time = ms.execution_expiration_time;
        // As Temporal does: the new run starts with this run's memo and search attributes.
        let memo = super::properties::current_memo(&ms.memo);
        let search_attributes = super::properties::current_search_attributes(&ms.search_attributes);
        let task_queue = if c.task_queue.name.is_empty() {
            ms.task_queue.clone()
        } else {
            c.task_queue.name.clone()
        };
        let workflow_task_timeout = c.workflow_task_timeout.unwrap_or(ms.workflow_task_timeout);
        // A child's chain keeps its parent (told when the chain closes) and its root.
        let parent = ms.parent.clone();
        let root = started.and_then(|s| s.root_workflow_execution.clone());
        let execution_timeout = started.and_then(|s| s.workflow_execution_timeout);
        let workflow_type = if c.workflow_type.is_empty() {
            ms.workflow_type.clone()
        } else {
            c.workflow_type.clone()
        };
        self.close(
            run,
            now,
            WorkflowStatus::ContinuedAsNew,
            EventAttributes::WorkflowExecutionContinuedAsNew(Arc::new(
                WorkflowExecutionContinuedAsNew {
                    new_execution_run_id: new_run_id.clone(),
                    workflow_type: workflow_type.clone(),
                    task_queue: TaskQueue::normal(task_queue.clone()),
                    input: c.input.clone(),
                    workflow_run_timeout: Some(run_timeout.unwrap_or(Duration::ZERO)),
                    workflow_task_timeout: Some(workflow_task_timeout),
                    workflow_task_completed_event_id: cx.completed_event_id,
                    extra: Extra::new(),
                },
            )),
        );
        let request_id = self.new_uuid();
        self.create_run(
            now,
            NewRun {
                workflow_id,
                run_id: new_run_id,
                workflow_type,
                task_queue,
                input: c.input,
                workflow_task_timeout,
                request_id,
                identity: cx.identity.to_string(),
                continued_from: Some(ContinuedFrom {
                    run_id,
                    first_run_id,
                    execution_expiration_time,
                }),
                run_timeout,
                execution_timeout,
                parent,
                root,
                memo,
                search_attributes,
            },
        );
        Applied::ClosedRun
    }
}
