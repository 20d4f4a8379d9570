//! Activity tasks: Temporal's activity state machine. Starting an attempt, heartbeats (and
//! cancellation through them), completion, failure, retries with backoff, and the four timeouts
//! (schedule-to-close, schedule-to-start, start-to-close, heartbeat).
//!
//! Where retries are decided: `attempt_failed`. A failed or timed-out attempt is retried per the
//! activity's `RetryPolicy` unless the error is non-retryable, the attempts are used up, the
//! backoff would end past schedule-to-close, or cancellation was requested.
//!
//! Invariants:
//! - history shows only the final attempt: ActivityTaskScheduled, then (written when the activity
//!   closes) ActivityTaskStarted with the final attempt number and the last failure, then one
//!   close event; earlier attempts leave no events;
//! - a task token names a pending activity's current, started attempt; a stale, timed-out or
//!   duplicate completion is rejected (NotFound) and changes nothing (unless the deliberate
//!   defect `Defects::accept_stale_activity_completion` is on);
//! - a heartbeat writes no event; the last heartbeat details go to the next attempt and into the
//!   failure of a timeout that closes the activity;
//! - the heartbeat timeout is checked when the attempt's heartbeat timer fires, which heartbeats
//!   do not move (Temporal's timing, `activity_rules.rs`).

use std::sync::Arc;

use super::activity_rules::{heartbeat_timer_at, not_enough_time, timeout_close_failure};
use super::core::{not_found, Engine, ReplyHandle};
use super::history_builder::STARTED_JUST_BEFORE;
use super::runs::{Run, RunIdx};
use super::state::{ActivityStarted, ActivityState};
use crate::history::{
    ActivityTaskCanceled, ActivityTaskCompleted, ActivityTaskFailed, ActivityTaskStarted,
    ActivityTaskTimedOut, EventAttributes, EventId, EventType, Extra, Failure, FailureInfo,
    Payloads, RetryState, TimeoutType, Timestamp,
};
use crate::wire::{
    ActivityTask, CancelActivityTask, CompleteActivityTask, FailActivityTask, RecordHeartbeat,
    Response, TaskToken,
};

/// How a worker says an attempt ended.
#[allow(clippy::large_enum_variant)]
enum AttemptOutcome {
    Completed(Option<Payloads>),
    Failed(Failure),
    Canceled(Option<Payloads>),
}

/// RespondActivityTaskCompleted, RespondActivityTaskFailed and RespondActivityTaskCanceled,
/// as one request: a worker closing an attempt.
pub(super) struct AttemptClose {
    token: TaskToken,
    identity: String,
    outcome: AttemptOutcome,
}

impl From<CompleteActivityTask> for AttemptClose {
    fn from(r: CompleteActivityTask) -> Self {
        AttemptClose {
            token: r.token,
            identity: r.identity,
            outcome: AttemptOutcome::Completed(r.result),
        }
    }
}

impl From<FailActivityTask> for AttemptClose {
    fn from(r: FailActivityTask) -> Self {
        AttemptClose {
            token: r.token,
            identity: r.identity,
            outcome: AttemptOutcome::Failed(*r.failure),
        }
    }
}

impl From<CancelActivityTask> for AttemptClose {
    fn from(r: CancelActivityTask) -> Self {
        AttemptClose {
            token: r.token,
            identity: r.identity,
            outcome: AttemptOutcome::Canceled(r.details),
        }
    }
}

/// Who ended a failed attempt.
enum FailedBy {
    /// The worker reported the failure.
    Worker { identity: String },
    /// The server timed the attempt out (start-to-close or heartbeat).
    Timeout,
}

/// A failed attempt: retried, or the activity's close.
struct AttemptFailure {
    failure: Failure,
    by: FailedBy,
}

/// How an activity closes: its close event, without the ids known only when it is written.
enum ActivityClose {
    Completed {
        result: Option<Payloads>,
        identity: String,
    },
    Failed {
        failure: Failure,
        retry_state: RetryState,
        identity: String,
    },
    TimedOut {
        failure: Failure,
        retry_state: RetryState,
    },
    Canceled {
        details: Option<Payloads>,
        latest_cancel_requested_event_id: EventId,
        identity: String,
    },
}

impl ActivityClose {
    fn event(self, scheduled_event_id: EventId, started_event_id: EventId) -> EventAttributes {
        match self {
            ActivityClose::Completed { result, identity } => {
                EventAttributes::ActivityTaskCompleted(Arc::new(ActivityTaskCompleted {
                    result,
                    scheduled_event_id,
                    started_event_id,
                    identity,
                    extra: Extra::new(),
                }))
            }
            ActivityClose::Failed {
                failure,
                retry_state,
                identity,
            } => EventAttributes::ActivityTaskFailed(Arc::new(ActivityTaskFailed {
                failure: Some(failure),
                scheduled_event_id,
                started_event_id,
                identity,
                retry_state,
                extra: Extra::new(),
            })),
            ActivityClose::TimedOut {
                failure,
                retry_state,
            } => EventAttributes::ActivityTaskTimedOut(Arc::new(ActivityTaskTimedOut {
                failure: Some(failure),
                scheduled_event_id,
                started_event_id,
                retry_state,
                extra: Extra::new(),
            })),
            ActivityClose::Canceled {
                details,
                latest_cancel_requested_event_id,
                identity,
            } => EventAttributes::ActivityTaskCanceled(Arc::new(ActivityTaskCanceled {
                details,
                latest_cancel_requested_event_id,
                scheduled_event_id,
                started_event_id,
                identity,
                extra: Extra::new(),
            })),
        }
    }
}

impl<R: ReplyHandle> Engine<R> {
    /// RecordActivityTaskStarted: hands the activity's current attempt to a poller. Nothing is
    /// written to history (the Started event waits for the activity's close).
    pub(super) fn start_activity(
        &mut self,
        now: Timestamp,
        run: RunIdx,
        scheduled_event_id: EventId,
        identity: &str,
    ) -> Response {
        let request_id = self.new_uuid();
        self.touch(run);
        let Run { key, exec, .. } = &mut self.runs[run];
        let workflow_type = exec.ms.workflow_type.clone();
        let a = exec
            .ms
            .activities
            .get_mut(&scheduled_event_id)
            .map(Arc::make_mut)
            .expect("queued activity");
        let heartbeat_timer = a
            .heartbeat_timeout
            .filter(|d| !d.is_zero())
            .map(|d| heartbeat_timer_at(now, now.plus(d)));
        a.started = Some(ActivityStarted {
            time: now,
            identity: identity.to_string(),
            request_id,
            last_heartbeat: now,
            heartbeat_timer_at: heartbeat_timer,
        });
        Response::ActivityTask(Some(Box::new(ActivityTask {
            token: TaskToken {
                exec: key.clone(),
                scheduled_event_id,
                attempt: a.attempt,
                started_event_id: 0,
            },
            workflow_type,
            activity_id: a.activity_id.clone(),
            activity_type: a.activity_type.clone(),
            task_queue: a.task_queue.clone(),
            input: a.input.clone(),
            attempt: a.attempt,
            heartbeat_details: a.heartbeat_details.clone(),
            scheduled_time: a.scheduled_time,
            started_time: now,
            start_to_close_timeout: a.start_to_close_timeout,
            heartbeat_timeout: a.heartbeat_timeout,
        })))
    }

    /// The run of an activity task token that names a pending activity's current, started
    /// attempt (any pending activity under `Defects::accept_stale_activity_completion`).
    fn check_activity_token(&self, token: &TaskToken) -> Result<RunIdx, Response> {
        let Some(run) = self.runs.get(&token.exec) else {
            return Err(not_found(format!("workflow {}", token.exec)));
        };
        let e = &self.runs[run].exec;
        if !e.ms.is_open() {
            return Err(not_found(format!("workflow {} is closed", token.exec)));
        }
        let Some(a) = e.ms.activities.get(&token.scheduled_event_id) else {
            return Err(not_found(format!(
                "activity {} not found",
                token.scheduled_event_id
            )));
        };
        if self.cfg.defects.accept_stale_activity_completion {
            return Ok(run);
        }
        if a.attempt != token.attempt || a.started.is_none() {
            return Err(not_found(format!(
                "stale activity task token (attempt {} of activity {}, current attempt {})",
                token.attempt, a.activity_id, a.attempt
            )));
        }
        Ok(run)
    }

    /// RecordActivityTaskHeartbeat: pushes the heartbeat deadline out, keeps the details for
    /// the next attempt, and tells the worker whether cancellation was requested.
    pub(super) fn heartbeat(&mut self, now: Timestamp, req: RecordHeartbeat) -> Response {
        let run = match self.check_activity_token(&req.token) {
            Ok(run) => run,
            Err(r) => return r,
        };
        self.touch(run);
        let ms = self.ms_mut(run);
        let a = ms
            .activities
            .get_mut(&req.token.scheduled_event_id)
            .map(Arc::make_mut)
            .expect("checked");
        if let Some(s) = a.started.as_mut() {
            s.last_heartbeat = now;
        }
        a.heartbeat_details = req.details;
        Response::Heartbeat {
            cancel_requested: a.cancel_requested_event_id != 0,
        }
    }

    /// A worker closes its attempt: completed, failed (retried or closed per policy) or
    /// canceled.
    pub(super) fn close_activity_attempt(&mut self, now: Timestamp, req: AttemptClose) -> Response {
        let AttemptClose {
            token,
            identity,
            outcome,
        } = req;
        let run = match self.check_activity_token(&token) {
            Ok(run) => run,
            Err(rejection) => {
                if self.cfg.defects.accept_stale_activity_completion {
                    if let AttemptOutcome::Completed(result) = outcome {
                        return self
                            .accept_stale_completion(now, &token, identity, result)
                            .unwrap_or(rejection);
                    }
                }
                return rejection;
            }
        };
        self.touch(run);
        let id = token.scheduled_event_id;
        // As Temporal's frontend does: a result over the payload limit is recorded as a
        // non-retryable failure of the activity instead.
        let limit = self.cfg.limits.payload_error_bytes;
        let outcome = match outcome {
            AttemptOutcome::Completed(Some(result)) if result.size_bytes() > limit => {
                let mut failure = Failure::application(
                    format!(
                        "Complete result of {} bytes exceeds the {limit} byte payload limit.",
                        result.size_bytes(),
                    ),
                    "",
                    true,
                );
                failure.info = FailureInfo::Server {
                    non_retryable: true,
                };
                failure.source = "Server".to_string();
                AttemptOutcome::Failed(failure)
            }
            other => other,
        };
        match outcome {
            AttemptOutcome::Completed(result) => {
                let close = ActivityClose::Completed { result, identity };
                self.write_activity_close(now, run, id, close);
            }
            AttemptOutcome::Failed(failure) => {
                let by = FailedBy::Worker { identity };
                self.attempt_failed(now, run, id, AttemptFailure { failure, by });
            }
            AttemptOutcome::Canceled(details) => {
                let close = ActivityClose::Canceled {
                    details,
                    latest_cancel_requested_event_id: self.ms(run).activities[&id]
                        .cancel_requested_event_id,
                    identity,
                };
                self.write_activity_close(now, run, id, close);
            }
        }
        Response::Ok
    }

    /// DELIBERATE DEFECT (`Defects::accept_stale_activity_completion`): a completion whose
    /// token no longer matches a pending activity of an open run (a late attempt, a duplicate
    /// after a restart) is written anyway, as a server that skips the token check would. `None`:
    /// not even that server could write it (the original rejection stands).
    fn accept_stale_completion(
        &mut self,
        now: Timestamp,
        token: &TaskToken,
        identity: String,
        result: Option<Payloads>,
    ) -> Option<Response> {
        let run = self.runs.get(&token.exec)?;
        let e = &self.runs[run].exec;
        let scheduled_exists = e.ms.is_open()
            && e.history.iter().any(|ev| {
                ev.event_id == token.scheduled_event_id
                    && ev.event_type() == EventType::ActivityTaskScheduled
            });
        if !scheduled_exists {
            return None;
        }
        self.touch(run);
        self.append_or_buffer(
            run,
            now,
            EventAttributes::ActivityTaskCompleted(Arc::new(ActivityTaskCompleted {
                result,
                scheduled_event_id: token.scheduled_event_id,
                started_event_id: 0,
                identity,
                extra: Extra::new(),
            })),
        );
        self.schedule_wft(run, now, 1, now);
        Some(Response::Ok)
    }

    /// A failed or timed-out attempt: the next attempt after the policy's backoff, or the
    /// activity closes (Failed or TimedOut, with why it was not retried).
    fn attempt_failed(&mut self, now: Timestamp, run: RunIdx, id: EventId, f: AttemptFailure) {
        let a = self.ms(run).activities[&id].clone();
        let error_type = f.failure.error_type().unwrap_or("").to_string();
        let non_retryable = f.failure.is_non_retryable();
        let backoff = a.retry_policy.backoff(a.attempt);
        let within_deadline = a
            .schedule_to_close_deadline()
            .is_none_or(|d| now.plus(backoff) < d);
        let retry = a
            .retry_policy
            .should_retry(a.attempt, &error_type, non_retryable)
            && within_deadline
            && a.cancel_requested_event_id == 0;
        if retry {
            let ms = self.ms_mut(run);
            let a = ms
                .activities
                .get_mut(&id)
                .map(Arc::make_mut)
                .expect("pending");
            a.attempt += 1;
            a.started = None;
            a.attempt_ready_at = now.plus(backoff);
            a.last_failure = Some(f.failure);
            return;
        }
        let retry_state = if non_retryable
            || a.retry_policy
                .non_retryable_error_types
                .contains(&error_type)
        {
            RetryState::NonRetryableFailure
        } else if a.retry_policy.maximum_attempts > 0
            && a.attempt >= a.retry_policy.maximum_attempts
        {
            RetryState::MaximumAttemptsReached
        } else if !within_deadline {
            RetryState::Timeout
        } else if a.cancel_requested_event_id != 0 {
            RetryState::CancelRequested
        } else {
            RetryState::NonRetryableFailure
        };
        let close = match f.by {
            FailedBy::Worker { identity } => ActivityClose::Failed {
                failure: f.failure,
                retry_state,
                identity,
            },
            FailedBy::Timeout => {
                let failure = if retry_state == RetryState::Timeout {
                    not_enough_time()
                } else {
                    f.failure
                };
                ActivityClose::TimedOut {
                    failure: timeout_close_failure(
                        failure,
                        a.heartbeat_details.as_ref(),
                        a.last_failure.as_ref(),
                    ),
                    retry_state,
                }
            }
        };
        self.write_activity_close(now, run, id, close);
    }

    /// Writes ActivityTaskStarted (final attempt) + the close event, or buffers both while a
    /// workflow task runs, then schedules a workflow task.
    fn write_activity_close(
        &mut self,
        now: Timestamp,
        run: RunIdx,
        id: EventId,
        close: ActivityClose,
    ) {
        let a = self
            .ms_mut(run)
            .activities
            .remove(&id)
            .expect("pending activity");
        let in_flight = self.ms(run).wft_in_flight();
        let started = a.started.as_ref().map(|s| {
            let attrs = EventAttributes::ActivityTaskStarted(Arc::new(ActivityTaskStarted {
                scheduled_event_id: id,
                identity: s.identity.clone(),
                request_id: s.request_id.clone(),
                attempt: a.attempt,
                last_failure: a.last_failure.clone(),
                extra: Extra::new(),
            }));
            (s.time, attrs)
        });
        if in_flight {
            let started_event_id = if started.is_some() {
                STARTED_JUST_BEFORE
            } else {
                0
            };
            let ms = self.ms_mut(run);
            ms.buffered.extend(started);
            ms.buffered.push((now, close.event(id, started_event_id)));
        } else {
            let started_event_id = match started {
                Some((time, attrs)) => self.append_late(run, now, time, attrs),
                None => 0,
            };
            self.append(run, now, close.event(id, started_event_id));
            self.schedule_wft(run, now, 1, now);
        }
    }

    /// Activity timeouts due at `now`, in scheduled-id order. Schedule-to-close and
    /// schedule-to-start close the activity; start-to-close and heartbeat fail the attempt
    /// (which may be retried).
    pub(super) fn activity_timeouts(&mut self, run: RunIdx, now: Timestamp) {
        let activities: Vec<Arc<ActivityState>> = self.runs[run]
            .exec
            .ms
            .activities
            .values()
            .cloned()
            .collect();
        for a in activities {
            let id = a.scheduled_event_id;
            let timed_out = |timeout_type: TimeoutType, message: &str| ActivityClose::TimedOut {
                failure: timeout_close_failure(
                    Failure::timeout(timeout_type, message),
                    a.heartbeat_details.as_ref(),
                    a.last_failure.as_ref(),
                ),
                retry_state: RetryState::Timeout,
            };
            let attempt_timed_out = |timeout_type: TimeoutType, message: &str| AttemptFailure {
                failure: Failure::timeout(timeout_type, message),
                by: FailedBy::Timeout,
            };
            if a.schedule_to_close_deadline().is_some_and(|d| d <= now) {
                let close = timed_out(
                    TimeoutType::ScheduleToClose,
                    "activity ScheduleToClose timeout",
                );
                self.write_activity_close(now, run, id, close);
            } else if a.schedule_to_start_deadline().is_some_and(|d| d <= now) {
                let close = timed_out(
                    TimeoutType::ScheduleToStart,
                    "activity ScheduleToStart timeout",
                );
                self.write_activity_close(now, run, id, close);
            } else if a.start_to_close_deadline().is_some_and(|d| d <= now) {
                let f =
                    attempt_timed_out(TimeoutType::StartToClose, "activity StartToClose timeout");
                self.attempt_failed(now, run, id, f);
            } else if a.heartbeat_deadline().is_some_and(|d| d <= now) {
                if a.heartbeat_expiry().is_some_and(|e| e <= now) {
                    let f = attempt_timed_out(TimeoutType::Heartbeat, "activity Heartbeat timeout");
                    self.attempt_failed(now, run, id, f);
                } else if let Some(expiry) = a.heartbeat_expiry() {
                    // A heartbeat came since the timer was set: a new timer, as Temporal's
                    // timer queue places it.
                    let a = self
                        .ms_mut(run)
                        .activities
                        .get_mut(&id)
                        .map(Arc::make_mut)
                        .expect("pending");
                    if let Some(s) = a.started.as_mut() {
                        s.heartbeat_timer_at = Some(heartbeat_timer_at(now, expiry));
                    }
                }
            }
        }
    }
}
