//! Workflow tasks (WFT): Temporal's workflow task state machine. Scheduling (on the sticky queue
//! of the worker that ran the last one, or the normal queue), starting (what history the task
//! carries), completing (the commands, applied by `commands.rs`), failing, and timing out
//! (start-to-close, and schedule-to-start on a sticky queue).
//!
//! Invariants:
//! - at most one workflow task per run is pending (`MutableState::wft`), and a task's token
//!   names it exactly (scheduled id, started id, attempt): anything else is rejected, unchanged;
//! - a retried task (attempt >= 2) is transient: its Scheduled/Started events exist only in the
//!   task handed out, and are written when it completes or its failure is worth writing (only
//!   the first failure in a row is). New events before it starts make it a normal task;
//! - events that arrive while a task runs are buffered and written after the task's own events
//!   (`history_builder.rs`); a terminal command with buffered events waiting fails the task
//!   (UnhandledCommand) so the workflow sees them first.

use std::sync::Arc;
use std::time::Duration;

use super::commands::{BadCommand, CommandContext};
use super::core::{not_found, Engine, ReplyHandle};
use super::runs::{Run, RunIdx};
use super::state::{WftStarted, WftState, STICKY_SCHEDULE_TO_START};
use crate::history::{
    Command, EventAttributes, EventId, Extra, Failure, HistoryEvent, JsonMap, TaskQueue,
    TaskQueueKind, TimeoutType, Timestamp, WorkflowTaskCompleted, WorkflowTaskFailed,
    WorkflowTaskFailedCause, WorkflowTaskScheduled, WorkflowTaskStarted, WorkflowTaskTimedOut,
};
use crate::wire::{
    ActivityTask, CompleteWorkflowTask, FailWorkflowTask, Response, TaskToken, WorkflowTask,
};

/// Why a workflow task failed, and who says so.
pub(super) struct WftFailure {
    pub(super) cause: WorkflowTaskFailedCause,
    pub(super) failure: Failure,
    pub(super) identity: String,
}

/// Backoff before workflow task attempt `attempt` (>= 2): immediate for the second, then
/// exponential from 1 s, capped at 10 minutes.
fn wft_retry_backoff(attempt: i32) -> Duration {
    if attempt <= 2 {
        return Duration::ZERO;
    }
    let secs = 1u64 << (attempt - 3).clamp(0, 10);
    Duration::from_secs(secs.min(600))
}

fn scheduled_event(task_queue: TaskQueue, timeout: Duration, attempt: i32) -> EventAttributes {
    EventAttributes::WorkflowTaskScheduled(Arc::new(WorkflowTaskScheduled {
        task_queue,
        start_to_close_timeout: Some(timeout),
        attempt,
        extra: Extra::new(),
    }))
}

fn started_event(scheduled_event_id: EventId, started: &WftStarted, size: i64) -> EventAttributes {
    EventAttributes::WorkflowTaskStarted(Arc::new(WorkflowTaskStarted {
        scheduled_event_id,
        identity: started.identity.clone(),
        request_id: started.request_id.clone(),
        history_size_bytes: size,
        extra: Extra::new(),
    }))
}

impl<R: ReplyHandle> Engine<R> {
    /// Schedules a workflow task if none is pending and the run is open: attempt 1 on the
    /// sticky queue when the run has one, a retry (transient, nothing written) on the normal
    /// queue, dispatchable from `ready_at`.
    pub(super) fn schedule_wft(
        &mut self,
        run: RunIdx,
        now: Timestamp,
        attempt: i32,
        ready_at: Timestamp,
    ) {
        let ms = self.ms(run);
        if !ms.is_open() || ms.wft.is_some() {
            return;
        }
        let task_queue = match (&ms.sticky_queue, attempt) {
            (Some(s), 1) => TaskQueue::sticky(s.clone(), ms.task_queue.clone()),
            _ => TaskQueue::normal(ms.task_queue.clone()),
        };
        let timeout = ms.workflow_task_timeout;
        let scheduled_event_id = if attempt == 1 {
            self.append(
                run,
                now,
                scheduled_event(task_queue.clone(), timeout, attempt),
            )
        } else {
            self.touch(run);
            0
        };
        let ms = self.ms_mut(run);
        ms.wft = Some(WftState {
            scheduled_event_id,
            attempt,
            task_queue,
            scheduled_time: now,
            ready_at,
            started: None,
            scheduled_next_event_id: ms.next_event_id,
            speculative: false,
        });
    }

    /// RecordWorkflowTaskStarted: hands the run's queued workflow task to a poller, with the
    /// history it needs (on a sticky queue, only what the cached worker has not seen).
    pub(super) fn start_wft(&mut self, now: Timestamp, run: RunIdx, identity: &str) -> Response {
        let request_id = self.new_uuid();
        // New events arrived while a transient task waited: it becomes a normal task, its
        // Scheduled event written now (Temporal's AddWorkflowTaskStartedEvent does the same).
        let convert = {
            let ms = self.ms(run);
            let wft = ms.wft.as_ref().expect("queued wft");
            (wft.is_transient() && wft.scheduled_next_event_id != ms.next_event_id).then(|| {
                scheduled_event(
                    wft.task_queue.clone(),
                    ms.workflow_task_timeout,
                    wft.attempt,
                )
            })
        };
        if let Some(event) = convert {
            let id = self.append(run, now, event);
            let wft = self.ms_mut(run).wft.as_mut().expect("queued wft");
            wft.scheduled_event_id = id;
            wft.speculative = false;
        }
        let started = WftStarted {
            started_event_id: 0,
            time: now,
            identity: identity.to_string(),
            request_id,
        };
        let (scheduled_event_id, transient) = {
            let wft = self.ms(run).wft.as_ref().expect("queued wft");
            (wft.scheduled_event_id, wft.is_transient())
        };
        let started_event_id = if transient {
            self.touch(run);
            0
        } else {
            let size = self.runs[run].exec.history.len() as i64 * 256;
            self.append(run, now, started_event(scheduled_event_id, &started, size))
        };
        let Run { key, exec, .. } = &mut self.runs[run];
        let ms = &mut exec.ms;
        let wft = ms.wft.as_mut().expect("queued wft");
        let (attempt, sticky) = (wft.attempt, wft.task_queue.kind == TaskQueueKind::Sticky);
        let first_event_id = if sticky {
            ms.sticky_seen_through + 1
        } else {
            1
        };
        let mut events: Vec<HistoryEvent> =
            exec.history[(first_event_id as usize - 1).min(exec.history.len())..].to_vec();
        let mut token_started = started_event_id;
        let mut token_scheduled = scheduled_event_id;
        if transient {
            // Transient task: its Scheduled/Started events exist only in this response.
            let next = ms.next_event_id;
            let queue = wft.task_queue.clone();
            events.push(HistoryEvent {
                event_id: next,
                event_time: wft.scheduled_time,
                task_id: 0,
                attributes: scheduled_event(queue, ms.workflow_task_timeout, attempt),
                extra: Extra::new(),
            });
            events.push(HistoryEvent {
                event_id: next + 1,
                event_time: now,
                task_id: 0,
                attributes: started_event(next, &started, 0),
                extra: Extra::new(),
            });
            token_scheduled = next;
            token_started = next + 1;
        }
        wft.started = Some(WftStarted {
            started_event_id,
            ..started
        });
        let mut task = WorkflowTask {
            token: TaskToken {
                exec: key.clone(),
                scheduled_event_id: token_scheduled,
                attempt,
                started_event_id: token_started,
            },
            workflow_type: ms.workflow_type.clone(),
            first_event_id,
            events,
            sticky,
            messages: Vec::new(),
            query: None,
        };
        task.messages = self.take_update_requests(run, token_scheduled);
        Response::WorkflowTask(Some(Box::new(task)))
    }

    /// The run of a workflow task token that names the current, started workflow task.
    fn check_wft_token(&self, token: &TaskToken) -> Result<RunIdx, Response> {
        let Some(run) = self.runs.get(&token.exec) else {
            return Err(not_found(format!("workflow {}", token.exec)));
        };
        let e = &self.runs[run].exec;
        if !e.ms.is_open() {
            return Err(not_found(format!("workflow {} is closed", token.exec)));
        }
        let Some(wft) = &e.ms.wft else {
            return Err(not_found("workflow task not found"));
        };
        let Some(started) = &wft.started else {
            return Err(not_found("workflow task not started"));
        };
        let (sched, start) = if wft.is_transient() {
            (e.ms.next_event_id, e.ms.next_event_id + 1)
        } else {
            (wft.scheduled_event_id, started.started_event_id)
        };
        if sched != token.scheduled_event_id
            || start != token.started_event_id
            || wft.attempt != token.attempt
        {
            return Err(not_found("stale workflow task token"));
        }
        Ok(run)
    }

    /// Writes the Scheduled/Started events of a transient task that is now closing; returns
    /// the task's scheduled and started event ids.
    pub(super) fn materialize_transient(
        &mut self,
        run: RunIdx,
        now: Timestamp,
    ) -> (EventId, EventId) {
        let (wft, timeout) = {
            let ms = self.ms(run);
            (ms.wft.clone().expect("wft"), ms.workflow_task_timeout)
        };
        let started = wft.started.clone().expect("started");
        if !wft.is_transient() {
            return (wft.scheduled_event_id, started.started_event_id);
        }
        let scheduled = scheduled_event(wft.task_queue.clone(), timeout, wft.attempt);
        let sched = self.append_late(run, now, wft.scheduled_time, scheduled);
        let start = self.append_late(run, now, started.time, started_event(sched, &started, 0));
        if let Some(w) = self.ms_mut(run).wft.as_mut() {
            w.scheduled_event_id = sched;
            if let Some(s) = w.started.as_mut() {
                s.started_event_id = start;
            }
        }
        (sched, start)
    }

    /// RespondWorkflowTaskCompleted: validates the commands (a bad one fails the task), then
    /// writes WorkflowTaskCompleted and one event per command, then the buffered events, and
    /// schedules the next task if the workflow has something new to see.
    pub(super) fn complete_wft(&mut self, now: Timestamp, req: CompleteWorkflowTask) -> Response {
        let CompleteWorkflowTask {
            token,
            commands,
            identity,
            sticky_queue,
            sdk_metadata,
            messages,
        } = req;
        let run = match self.check_wft_token(&token) {
            Ok(run) => run,
            Err(r) => return r,
        };
        self.touch(run);
        if let Err(bad) = self
            .validate_commands(run, &commands)
            .and_then(|()| self.validate_messages(run, &commands, &messages))
        {
            self.reject_commands(now, run, bad, identity);
            return Response::Ok;
        }
        let speculative = self.ms(run).wft.as_ref().is_some_and(|w| w.speculative);
        if speculative
            && super::updates::speculative_leaves_nothing(
                &commands,
                &messages,
                !self.ms(run).buffered.is_empty(),
            )
        {
            // Only rejections: the task leaves no trace in history (Temporal drops it).
            let cx = CommandContext {
                now,
                run,
                completed_event_id: 0,
                identity: &identity,
            };
            for m in messages {
                self.apply_update_message(&cx, m);
            }
            self.ms_mut(run).wft = None;
            if self.updates_waiting(run) {
                self.schedule_speculative_wft(run, now);
            }
            return Response::WorkflowTaskCompleted {
                activity_tasks: Vec::new(),
            };
        }
        let has_terminal = commands.iter().any(|c| c.is_terminal());
        if has_terminal && !self.ms(run).buffered.is_empty() {
            let failure = WftFailure {
                cause: WorkflowTaskFailedCause::UnhandledCommand,
                // As Temporal writes it (`unhandled-command.json`): a server failure.
                failure: Failure {
                    info: crate::history::FailureInfo::Server {
                        non_retryable: false,
                    },
                    ..Failure::application("UnhandledCommand", "", false)
                },
                identity,
            };
            self.record_wft_failure(now, run, failure);
            return Response::Ok;
        }
        let (sched, started) = self.materialize_transient(run, now);
        let completed = self.append(
            run,
            now,
            EventAttributes::WorkflowTaskCompleted(Arc::new(WorkflowTaskCompleted {
                scheduled_event_id: sched,
                started_event_id: started,
                identity: identity.clone(),
                extra: match sdk_metadata {
                    Some(m) => {
                        let mut extra = JsonMap::new();
                        extra.insert("sdkMetadata".to_string(), serde_json::Value::Object(m));
                        Extra::from(extra)
                    }
                    None => Extra::new(),
                },
            })),
        );
        {
            let ms = self.ms_mut(run);
            ms.wft = None;
            ms.sticky_queue = sticky_queue;
            ms.sticky_seen_through = started;
        }
        let eager = if self.cfg.activity_eager_execution {
            eager_requests(&commands)
        } else {
            Vec::new()
        };
        let cx = CommandContext {
            now,
            run,
            completed_event_id: completed,
            identity: &identity,
        };
        let applied = self.apply_commands(&cx, commands, messages);
        let mut activity_tasks = Vec::new();
        if !applied.closed_run {
            let any = self.flush_buffered(run, now);
            let delivered = self.run_transfers(now, run, applied.transfers);
            if any || delivered || applied.needs_wft {
                self.schedule_wft(run, now, 1, now);
            } else if self.updates_waiting(run) {
                self.schedule_speculative_wft(run, now);
            }
            activity_tasks = self.start_eager_activities(now, run, &eager, &identity);
        }
        Response::WorkflowTaskCompleted { activity_tasks }
    }

    /// Starts the first attempt of each activity the batch asked to run eagerly, for the worker
    /// that completed the task, as Temporal does after the batch's commands: an activity the
    /// same batch canceled (or a run it closed) starts nothing.
    fn start_eager_activities(
        &mut self,
        now: Timestamp,
        run: RunIdx,
        activity_ids: &[String],
        identity: &str,
    ) -> Vec<ActivityTask> {
        let mut tasks = Vec::new();
        for activity_id in activity_ids {
            let pending =
                self.ms(run).activities.values().find(|a| {
                    &a.activity_id == activity_id && a.started.is_none() && a.attempt == 1
                });
            let Some(scheduled_event_id) = pending.map(|a| a.scheduled_event_id) else {
                continue;
            };
            if let Response::ActivityTask(Some(task)) =
                self.start_activity(now, run, scheduled_event_id, identity)
            {
                tasks.push(*task);
            }
        }
        tasks
    }

    /// A task whose commands failed validation: the task fails with the command's cause, and a
    /// payload over the limit also terminates the run (as Temporal does).
    fn reject_commands(&mut self, now: Timestamp, run: RunIdx, bad: BadCommand, identity: String) {
        let failure = WftFailure {
            cause: bad.cause,
            failure: Failure::application(bad.message.clone(), "BadCommand", true),
            identity,
        };
        self.record_wft_failure(now, run, failure);
        if bad.terminate {
            self.terminate_run(run, now, bad.message, "history-service".to_string());
        }
    }

    /// RespondWorkflowTaskFailed (a worker's replay or code failed).
    pub(super) fn fail_wft(&mut self, now: Timestamp, req: FailWorkflowTask) -> Response {
        let run = match self.check_wft_token(&req.token) {
            Ok(run) => run,
            Err(r) => return r,
        };
        self.touch(run);
        let failure = WftFailure {
            cause: req.cause,
            failure: *req.failure,
            identity: req.identity,
        };
        self.record_wft_failure(now, run, failure);
        Response::Ok
    }

    /// Records a failed workflow task (only the first failure in a row is written) and schedules
    /// the next attempt: at once with the new events for UnhandledCommand, else as a transient
    /// retry after a backoff.
    fn record_wft_failure(&mut self, now: Timestamp, run: RunIdx, f: WftFailure) {
        let wft = self.ms(run).wft.clone().expect("wft");
        let unhandled = f.cause == WorkflowTaskFailedCause::UnhandledCommand;
        self.unsend_updates(run);
        if !wft.is_transient() || unhandled || wft.speculative {
            let (sched, started) = self.materialize_transient(run, now);
            self.append(
                run,
                now,
                EventAttributes::WorkflowTaskFailed(Arc::new(WorkflowTaskFailed {
                    scheduled_event_id: sched,
                    started_event_id: started,
                    cause: f.cause,
                    failure: Some(f.failure),
                    identity: f.identity,
                    extra: Extra::new(),
                })),
            );
        }
        {
            let ms = self.ms_mut(run);
            ms.wft = None;
            ms.sticky_queue = None;
        }
        self.flush_buffered(run, now);
        let (attempt, ready_at) = if unhandled {
            (1, now)
        } else {
            let attempt = wft.attempt + 1;
            (attempt, now.plus(wft_retry_backoff(attempt)))
        };
        self.schedule_wft(run, now, attempt, ready_at);
    }

    /// Workflow task timeouts due at `now`: a started task past its start-to-close timeout is
    /// retried (transient); a sticky task nobody started within `STICKY_SCHEDULE_TO_START` moves
    /// to the normal queue.
    pub(super) fn workflow_task_timeouts(&mut self, run: RunIdx, now: Timestamp) {
        let ms = self.ms(run);
        let Some(wft) = ms.wft.clone() else {
            return;
        };
        match &wft.started {
            Some(s) if s.time.plus(ms.workflow_task_timeout) <= now => {
                self.unsend_updates(run);
                if wft.speculative {
                    // Written as Temporal converts a timed-out speculative task to a normal one.
                    self.materialize_transient(run, now);
                }
                let ms = self.ms(run);
                let wft = ms.wft.clone().expect("wft");
                let s = wft.started.clone().expect("started");
                if !wft.is_transient() || wft.speculative {
                    self.append(
                        run,
                        now,
                        EventAttributes::WorkflowTaskTimedOut(Arc::new(WorkflowTaskTimedOut {
                            scheduled_event_id: wft.scheduled_event_id,
                            started_event_id: s.started_event_id,
                            timeout_type: TimeoutType::StartToClose,
                            extra: Extra::new(),
                        })),
                    );
                }
                {
                    let ms = self.ms_mut(run);
                    ms.wft = None;
                    ms.sticky_queue = None;
                }
                self.flush_buffered(run, now);
                let attempt = wft.attempt + 1;
                self.schedule_wft(run, now, attempt, now.plus(wft_retry_backoff(attempt)));
            }
            None if wft.task_queue.kind == TaskQueueKind::Sticky
                && wft.scheduled_time.plus(STICKY_SCHEDULE_TO_START) <= now
                && wft.speculative =>
            {
                // A speculative task has nothing written: it just moves to the normal queue.
                let ms = self.ms_mut(run);
                ms.sticky_queue = None;
                let normal = TaskQueue::normal(ms.task_queue.clone());
                if let Some(w) = ms.wft.as_mut() {
                    w.task_queue = normal;
                }
            }
            None if wft.task_queue.kind == TaskQueueKind::Sticky
                && wft.scheduled_time.plus(STICKY_SCHEDULE_TO_START) <= now =>
            {
                self.append(
                    run,
                    now,
                    EventAttributes::WorkflowTaskTimedOut(Arc::new(WorkflowTaskTimedOut {
                        scheduled_event_id: wft.scheduled_event_id,
                        started_event_id: 0,
                        timeout_type: TimeoutType::ScheduleToStart,
                        extra: Extra::new(),
                    })),
                );
                {
                    let ms = self.ms_mut(run);
                    ms.wft = None;
                    ms.sticky_queue = None;
                }
                self.schedule_wft(run, now, wft.attempt, now);
            }
            _ => {}
        }
    }
}

/// The activity ids of a batch's ScheduleActivityTask commands that ask for eager execution.
fn eager_requests(commands: &[Command]) -> Vec<String> {
    commands
        .iter()
        .filter_map(|c| match c {
            Command::ScheduleActivityTask(s) if s.request_eager_execution => {
                Some(s.activity_id.clone())
            }
            _ => None,
        })
        .collect()
}
