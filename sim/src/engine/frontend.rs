//! The frontend: Temporal's WorkflowService calls from clients. Start (with id reuse policies
//! and idempotent retries), signal, request cancellation, terminate, describe, and get history
//! (optionally a long poll that waits for the run to close). Starting a run is also how
//! continue-as-new's new run begins (`create_run`).
//!
//! Invariants:
//! - at most one open run per workflow id; a closed id is reused per `IdReusePolicy`, and each
//!   run gets a fresh run id;
//! - a retried start (same request id) or signal (same non-empty request id) is applied once
//!   and answered as the first was;
//! - a request naming a closed run changes nothing (NotFound), except reads;
//! - history waiters are not durable; each is answered once: when its run closes, or with an
//!   empty page (and the run's status) when its wait runs out.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use super::core::{error, not_found, Engine, ReplyHandle, Step};
use super::runs::{Execution, Run, RunIdx};
use super::state::{MutableState, ParentLink};
use super::{properties, run_timeouts};
use crate::history::{
    EventAttributes, ExecKey, Extra, Memo, Payloads, SearchAttributes, TaskQueue, Timestamp,
    WorkflowExecution, WorkflowExecutionCancelRequested, WorkflowExecutionSignaled,
    WorkflowExecutionStarted,
};
use crate::wire::{
    Describe, Description, GetHistory, IdReusePolicy, RequestCancel, Response, ServerError, Signal,
    StartWorkflow, Terminate, WorkflowStatus,
};

/// A run that continues an earlier one (continue-as-new).
pub(super) struct ContinuedFrom {
    /// The run that continued as this one.
    pub(super) run_id: String,
    /// The first run of the chain.
    pub(super) first_run_id: String,
    /// When the chain's execution timeout expires (`None`: never).
    pub(super) execution_expiration_time: Option<Timestamp>,
}

/// Everything a new run starts with.
pub(super) struct NewRun {
    pub(super) workflow_id: String,
    pub(super) run_id: String,
    pub(super) workflow_type: String,
    pub(super) task_queue: String,
    pub(super) input: Option<Payloads>,
    pub(super) workflow_task_timeout: Duration,
    pub(super) request_id: String,
    pub(super) identity: String,
    pub(super) continued_from: Option<ContinuedFrom>,
    pub(super) run_timeout: Option<Duration>,
    /// Bound on the whole chain of runs (across continue-as-new); `None`: unlimited.
    pub(super) execution_timeout: Option<Duration>,
    /// For a child: its parent (`children.rs`).
    pub(super) parent: Option<ParentLink>,
    /// For a child: the root of its tree of workflows.
    pub(super) root: Option<WorkflowExecution>,
    /// The memo it starts with.
    pub(super) memo: Option<Memo>,
    /// The search attributes it starts with.
    pub(super) search_attributes: Option<SearchAttributes>,
}

/// The answer to a request whose payload is over the limit.
fn payload_too_large(what: &str, size: usize, limit: usize) -> Response {
    error(ServerError::InvalidArgument(format!(
        "{what} of {size} bytes exceeds the {limit} byte limit"
    )))
}

fn history_response(run: &Run) -> Response {
    Response::History {
        exec: run.key.clone(),
        events: run.exec.history.clone(),
        status: run.exec.ms.status,
    }
}

impl<R: ReplyHandle> Engine<R> {
    /// StartWorkflowExecution.
    pub(super) fn start_workflow(&mut self, now: Timestamp, s: StartWorkflow) -> Response {
        if let Err(answer) = self.admit_start(&s) {
            return answer;
        }
        let run = self.start_run(now, s);
        self.schedule_wft(run, now, 1, now);
        Response::Started {
            run_id: self.runs[run].key.run_id.clone(),
        }
    }

    /// Whether a start may create a run: `Err` is the answer to give instead (a retried
    /// start's run, a refused id, a bad argument).
    pub(super) fn admit_start(&self, s: &StartWorkflow) -> Result<(), Response> {
        if s.workflow_id.is_empty() || s.workflow_type.is_empty() || s.task_queue.is_empty() {
            return Err(error(ServerError::InvalidArgument(
                "workflow id, type and task queue are required".into(),
            )));
        }
        let limit = self.cfg.limits.payload_error_bytes;
        if let Some(size) = s.input.as_ref().map(Payloads::size_bytes) {
            if size > limit {
                return Err(payload_too_large("input payload", size, limit));
            }
        }
        if let Some(run) = self.resolve(&s.workflow_id, None) {
            let Run { key, exec, .. } = &self.runs[run];
            if exec.ms.start_request_id == s.request_id {
                // A retried start: same answer, no second run.
                return Err(Response::Started {
                    run_id: key.run_id.clone(),
                });
            }
            if !self.id_reusable(run, s.id_reuse_policy) {
                return Err(error(ServerError::WorkflowAlreadyStarted {
                    run_id: key.run_id.clone(),
                }));
            }
        }
        Ok(())
    }

    /// Creates the run an admitted start asks for, without its first workflow task.
    pub(super) fn start_run(&mut self, now: Timestamp, s: StartWorkflow) -> RunIdx {
        let run_id = self.new_run_id(&s.workflow_id);
        let workflow_task_timeout = s
            .workflow_task_timeout
            .unwrap_or(self.cfg.default_workflow_task_timeout);
        self.create_run_unscheduled(
            now,
            NewRun {
                workflow_id: s.workflow_id,
                run_id,
                workflow_type: s.workflow_type,
                task_queue: s.task_queue,
                input: s.input,
                workflow_task_timeout,
                request_id: s.request_id,
                identity: s.identity,
                continued_from: None,
                run_timeout: s.workflow_run_timeout,
                execution_timeout: s.workflow_execution_timeout,
                memo: s.memo,
                search_attributes: s.search_attributes,
                parent: None,
                root: None,
            },
        )
    }

    /// Whether a new run may take the workflow id whose current run is `run`: never while it
    /// runs; once closed, as the reuse policy says.
    pub(super) fn id_reusable(&self, run: RunIdx, policy: IdReusePolicy) -> bool {
        match (self.ms(run).status, policy) {
            (WorkflowStatus::Running, _) => false,
            (_, IdReusePolicy::AllowDuplicate) => true,
            (WorkflowStatus::Completed, IdReusePolicy::AllowDuplicateFailedOnly) => false,
            (_, IdReusePolicy::AllowDuplicateFailedOnly) => true,
            (_, IdReusePolicy::RejectDuplicate) => false,
        }
    }

    /// Creates a run, makes it its workflow id's current run, and writes
    /// WorkflowExecutionStarted and the first workflow task.
    pub(super) fn create_run(&mut self, now: Timestamp, new: NewRun) {
        let run = self.create_run_unscheduled(now, new);
        self.schedule_wft(run, now, 1, now);
    }

    /// Creates a run, makes it its workflow id's current run, and writes
    /// WorkflowExecutionStarted; the caller schedules the first workflow task.
    pub(super) fn create_run_unscheduled(&mut self, now: Timestamp, new: NewRun) -> RunIdx {
        let key = ExecKey {
            workflow_id: new.workflow_id.clone(),
            run_id: new.run_id.clone(),
        };
        let first_execution_run_id = match &new.continued_from {
            Some(c) => c.first_run_id.clone(),
            None => new.run_id.clone(),
        };
        let continued = new.continued_from.is_some();
        let execution_expiration_time = match &new.continued_from {
            Some(c) => c.execution_expiration_time,
            None => run_timeouts::expiration_time(now, new.execution_timeout),
        };
        let run_timeout =
            run_timeouts::effective_run_timeout(new.run_timeout, new.execution_timeout);
        // As Temporal does: a workflow task may not outlast the run.
        let workflow_task_timeout = run_timeout
            .filter(|d| !d.is_zero())
            .map_or(new.workflow_task_timeout, |r| {
                new.workflow_task_timeout.min(r)
            });
        let run = self.runs.insert(
            key,
            Execution {
                history: Vec::new(),
                ms: MutableState {
                    workflow_id: new.workflow_id.clone(),
                    run_id: new.run_id.clone(),
                    workflow_type: new.workflow_type.clone(),
                    task_queue: new.task_queue.clone(),
                    status: WorkflowStatus::Running,
                    start_request_id: new.request_id,
                    workflow_task_timeout,
                    next_event_id: 1,
                    wft: None,
                    sticky_queue: None,
                    sticky_seen_through: 0,
                    buffered: Vec::new(),
                    activities: BTreeMap::new(),
                    timers: BTreeMap::new(),
                    cancel_requested: false,
                    signal_request_ids: Vec::new(),
                    close_time: None,
                    parent: new.parent.clone(),
                    children: BTreeMap::new(),
                    run_expiration_time: run_timeout.filter(|d| !d.is_zero()).map(|d| now.plus(d)),
                    execution_expiration_time,
                    search_attributes: BTreeMap::new(),
                    memo: BTreeMap::new(),
                    updates: BTreeMap::new(),
                },
            },
        );
        {
            let ms = &mut self.runs[run].exec.ms;
            if let Some(sa) = &new.search_attributes {
                properties::apply_search_attributes(&mut ms.search_attributes, sa);
            }
            if let Some(memo) = &new.memo {
                properties::apply_memo(&mut ms.memo, memo);
            }
        }
        // The whole history is new.
        self.dirty.insert(run, 0);
        self.current_run.insert(new.workflow_id.clone(), run);
        self.dirty_current.insert(new.workflow_id.clone());
        self.append(
            run,
            now,
            EventAttributes::WorkflowExecutionStarted(Arc::new(WorkflowExecutionStarted {
                workflow_type: new.workflow_type,
                workflow_id: new.workflow_id,
                task_queue: TaskQueue::normal(new.task_queue),
                input: new.input,
                workflow_execution_timeout: new.execution_timeout.filter(|d| !d.is_zero()),
                // Temporal writes a continued run's (and a child's) run timeout even when it
                // is zero.
                workflow_run_timeout: match continued || new.parent.is_some() {
                    true => Some(run_timeout.unwrap_or(Duration::ZERO)),
                    false => run_timeout,
                },
                workflow_task_timeout: Some(workflow_task_timeout),
                continued_execution_run_id: new.continued_from.map(|c| c.run_id),
                original_execution_run_id: new.run_id,
                first_execution_run_id,
                // A continued run records neither who started it nor a first-task backoff.
                identity: if continued {
                    String::new()
                } else {
                    new.identity
                },
                attempt: 1,
                first_workflow_task_backoff: (!continued).then_some(Duration::ZERO),
                retry_policy: None,
                memo: new.memo,
                search_attributes: new.search_attributes,
                parent_workflow_namespace: match &new.parent {
                    Some(_) => super::children::NAMESPACE.to_string(),
                    None => String::new(),
                },
                parent_workflow_execution: new
                    .parent
                    .as_ref()
                    .and_then(|p| super::external::execution(&p.workflow_id, &p.run_id)),
                parent_initiated_event_id: new.parent.as_ref().map_or(0, |p| p.initiated_event_id),
                root_workflow_execution: new.root,
                extra: run_timeouts::started_extra(continued, execution_expiration_time),
            })),
        );
        run
    }

    /// The open run a client request names, or the NotFound answer.
    fn open_run(&self, workflow_id: &str, run_id: Option<&str>) -> Result<RunIdx, Response> {
        let Some(run) = self.resolve(workflow_id, run_id) else {
            return Err(not_found(format!("workflow {workflow_id}")));
        };
        if !self.ms(run).is_open() {
            return Err(not_found(format!(
                "workflow {} is closed",
                self.runs[run].key
            )));
        }
        Ok(run)
    }

    /// SignalWorkflowExecution: WorkflowExecutionSignaled (buffered while a workflow task runs)
    /// and a workflow task if none is pending.
    pub(super) fn signal(&mut self, now: Timestamp, s: Signal) -> Response {
        let run = match self.open_run(&s.workflow_id, s.run_id.as_deref()) {
            Ok(run) => run,
            Err(r) => return r,
        };
        if !s.request_id.is_empty() && self.ms(run).signal_request_ids.contains(&s.request_id) {
            return Response::Ok;
        }
        let limit = self.cfg.limits.payload_error_bytes;
        if let Some(size) = s.input.as_ref().map(Payloads::size_bytes) {
            if size > limit {
                return payload_too_large("signal input", size, limit);
            }
        }
        if self.ms(run).buffered.len() >= self.cfg.limits.pending_timers {
            return error(ServerError::ResourceExhausted(
                "too many pending signals".into(),
            ));
        }
        self.touch(run);
        // As Temporal writes it: the signal's request id is in its event.
        let mut extra = Extra::new();
        if !s.request_id.is_empty() {
            extra.insert("requestId".into(), s.request_id.clone().into());
        }
        {
            let ms = self.ms_mut(run);
            if !s.request_id.is_empty() {
                ms.signal_request_ids.push(s.request_id);
                if ms.signal_request_ids.len() > 64 {
                    ms.signal_request_ids.remove(0);
                }
            }
        }
        self.append_or_buffer(
            run,
            now,
            EventAttributes::WorkflowExecutionSignaled(Arc::new(WorkflowExecutionSignaled {
                signal_name: s.signal_name,
                input: s.input,
                identity: s.identity,
                external_workflow_execution: None,
                extra,
            })),
        );
        self.schedule_wft(run, now, 1, now);
        Response::Ok
    }

    /// RequestCancelWorkflowExecution: WorkflowExecutionCancelRequested, once; the workflow
    /// decides what to do about it in its next task.
    pub(super) fn request_cancel(&mut self, now: Timestamp, c: RequestCancel) -> Response {
        let run = match self.open_run(&c.workflow_id, c.run_id.as_deref()) {
            Ok(run) => run,
            Err(r) => return r,
        };
        if self.ms(run).cancel_requested {
            return Response::Ok;
        }
        self.touch(run);
        self.ms_mut(run).cancel_requested = true;
        self.append_or_buffer(
            run,
            now,
            EventAttributes::WorkflowExecutionCancelRequested(Arc::new(
                WorkflowExecutionCancelRequested {
                    cause: c.reason,
                    identity: c.identity,
                    external_initiated_event_id: 0,
                    external_workflow_execution: None,
                    extra: Extra::new(),
                },
            )),
        );
        self.schedule_wft(run, now, 1, now);
        Response::Ok
    }

    /// TerminateWorkflowExecution: WorkflowExecutionTerminated, no command, pending work
    /// dropped.
    pub(super) fn terminate(&mut self, now: Timestamp, t: Terminate) -> Response {
        let run = match self.open_run(&t.workflow_id, t.run_id.as_deref()) {
            Ok(run) => run,
            Err(r) => return r,
        };
        self.touch(run);
        self.terminate_run(run, now, t.reason, t.identity);
        Response::Ok
    }

    /// DescribeWorkflowExecution.
    pub(super) fn describe(&self, d: Describe) -> Response {
        let Some(run) = self.resolve(&d.workflow_id, d.run_id.as_deref()) else {
            return not_found(format!("workflow {}", d.workflow_id));
        };
        let Run { key, exec: e, .. } = &self.runs[run];
        Response::Described(Box::new(Description {
            exec: key.clone(),
            workflow_type: e.ms.workflow_type.clone(),
            status: e.ms.status,
            history_length: e.history.len(),
            pending_activities: e.ms.activities.len(),
            pending_timers: e.ms.timers.len(),
            search_attributes: e.ms.search_attributes.clone(),
            memo: e.ms.memo.clone(),
        }))
    }

    /// GetWorkflowExecutionHistory: the history now, or (`wait_for_close`) once the run closes.
    pub(super) fn get_history(
        &mut self,
        now: Timestamp,
        from: R,
        g: GetHistory,
    ) -> Option<Response> {
        let Some(run) = self.resolve(&g.workflow_id, g.run_id.as_deref()) else {
            return Some(not_found(format!("workflow {}", g.workflow_id)));
        };
        if g.wait_for_close && self.ms(run).is_open() {
            let deadline = now.plus(g.wait.min(self.cfg.max_long_poll));
            self.waiter_deadlines.insert((deadline, run));
            self.history_waiters
                .entry(run)
                .or_default()
                .push((from, deadline));
            return None;
        }
        Some(history_response(&self.runs[run]))
    }

    /// Answers the history waiters of the runs among `touched` that closed.
    pub(super) fn answer_close_waiters(&mut self, touched: &[RunIdx], step: &mut Step<R>) {
        for &run in touched {
            if self.ms(run).is_open() {
                continue;
            }
            if let Some(waiters) = self.history_waiters.remove(&run) {
                for (reply, _) in waiters {
                    step.replies
                        .push((reply, history_response(&self.runs[run])));
                }
            }
        }
    }

    /// Answers history waiters whose wait ran out: as Temporal's close-event long poll, an
    /// empty page with the status; the caller polls again (the full history would be copied for
    /// nothing).
    pub(super) fn expire_history_waiters(&mut self, now: Timestamp, step: &mut Step<R>) {
        while let Some(&(t, run)) = self.waiter_deadlines.first() {
            if t > now {
                break;
            }
            self.waiter_deadlines.remove(&(t, run));
            let Some(waiters) = self.history_waiters.get_mut(&run) else {
                continue;
            };
            let Run { key, exec, .. } = &self.runs[run];
            waiters.retain(|(reply, deadline)| {
                if *deadline <= now {
                    step.replies.push((
                        *reply,
                        Response::History {
                            exec: key.clone(),
                            events: Vec::new(),
                            status: exec.ms.status,
                        },
                    ));
                    false
                } else {
                    true
                }
            });
            if waiters.is_empty() {
                self.history_waiters.remove(&run);
            }
        }
    }
}
