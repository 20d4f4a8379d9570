//! Child workflows, signals and cancel requests to other workflows, as sdk-core's child-workflow,
//! signal-external and cancel-external state machines hand them to the SDK: commands become
//! durasim's (StartChildWorkflowExecution, SignalExternalWorkflowExecution,
//! RequestCancelExternalWorkflowExecution), and the events that answer them become
//! `ResolveChildWorkflowExecutionStart`, `ResolveChildWorkflowExecution`,
//! `ResolveSignalExternalWorkflow` and `ResolveRequestCancelExternalWorkflow` jobs, with the
//! failures core builds (`Child Workflow execution failed` with
//! `childWorkflowExecutionFailureInfo`, `Unable to signal external workflow because it was not
//! found`, ...).
//!
//! Core's local rules: a child cancelled before its start was sent is not started and its start
//! resolves as cancelled; a started child is asked to cancel (no command for ABANDON) and, for
//! TRY_CANCEL and ABANDON, resolves as cancelled at once; WAIT_CANCELLATION_REQUESTED resolves
//! when the request is recorded; WAIT_CANCELLATION_COMPLETED (the default) when the child closes.
//! A signal cancelled before it was sent is not sent.

use super::*;
use sim::history::{
    ParentClosePolicy, RequestCancelExternalWorkflowExecution, SignalExternalWorkflowExecution,
    StartChildWorkflowExecution,
};
use temporalio_common::protos::coresdk::child_workflow::{
    child_workflow_result::Status as ChildStatus, Cancellation as ChildCancellation,
    ChildWorkflowResult, Failure as ChildFailed, StartChildWorkflowExecutionFailedCause,
    Success as ChildSuccess,
};
use temporalio_common::protos::coresdk::workflow_activation::{
    resolve_child_workflow_execution_start::Status as StartStatus, ResolveChildWorkflowExecution,
    ResolveChildWorkflowExecutionStart, ResolveChildWorkflowExecutionStartCancelled,
    ResolveChildWorkflowExecutionStartFailure, ResolveChildWorkflowExecutionStartSuccess,
    ResolveRequestCancelExternalWorkflow, ResolveSignalExternalWorkflow,
};
use temporalio_common::protos::coresdk::workflow_commands::signal_external_workflow_execution::Target;
use temporalio_common::protos::temporal::api::common::v1 as pc;
use temporalio_common::protos::temporal::api::failure::v1 as pf;

/// `ChildWorkflowCancellationType` numbers.
const CHILD_ABANDON: i32 = 0;
const CHILD_TRY_CANCEL: i32 = 1;
const CHILD_WAIT_REQUESTED: i32 = 3;

/// What the run knows about one child, by sequence number.
#[derive(Clone, Debug, Default)]
pub(super) struct ChildMeta {
    workflow_id: String,
    workflow_type: String,
    namespace: String,
    cancel_type: i32,
    initiated_event_id: EventId,
    started_event_id: EventId,
    run_id: String,
    /// Its start was resolved for the code (started, failed, or cancelled before sent).
    start_resolved: bool,
    /// Its result was resolved for the code; later events for it are ignored.
    resolved: bool,
}

/// What an Initiated event of a signal or cancel request answers to.
#[derive(Clone, Copy, Debug)]
pub(super) enum External {
    Signal(u32),
    Cancel(u32),
    /// A cancel request for child `seq` (CancelChildWorkflowExecution).
    ChildCancel(u32),
}

fn application(message: String, error_type: &str) -> pf::Failure {
    pf::Failure {
        message,
        failure_info: Some(pf::failure::FailureInfo::ApplicationFailureInfo(
            pf::ApplicationFailureInfo {
                r#type: error_type.to_string(),
                ..Default::default()
            },
        )),
        ..Default::default()
    }
}

fn canceled_cause() -> Option<Box<pf::Failure>> {
    Some(Box::new(pf::Failure {
        failure_info: Some(pf::failure::FailureInfo::CanceledFailureInfo(
            pf::CanceledFailureInfo::default(),
        )),
        ..Default::default()
    }))
}

impl ChildMeta {
    /// Core's `ChildWorkflowFailure` wrapper for this child.
    fn failure(
        &self,
        message: &str,
        retry_state: RetryState,
        cause: Option<Box<pf::Failure>>,
    ) -> pf::Failure {
        pf::Failure {
            message: message.to_string(),
            cause,
            failure_info: Some(pf::failure::FailureInfo::ChildWorkflowExecutionFailureInfo(
                pf::ChildWorkflowExecutionFailureInfo {
                    namespace: self.namespace.clone(),
                    workflow_execution: Some(pc::WorkflowExecution {
                        workflow_id: self.workflow_id.clone(),
                        run_id: self.run_id.clone(),
                    }),
                    workflow_type: Some(pc::WorkflowType {
                        name: self.workflow_type.clone(),
                    }),
                    initiated_event_id: self.initiated_event_id,
                    started_event_id: self.started_event_id,
                    retry_state: retry_state as i32,
                },
            )),
            ..Default::default()
        }
    }

    fn cancelled(&self) -> ChildStatus {
        ChildStatus::Cancelled(ChildCancellation {
            failure: Some(self.failure(
                "Child Workflow execution cancelled",
                RetryState::NonRetryableFailure,
                canceled_cause(),
            )),
        })
    }
}

fn resolve_child(seq: u32, status: ChildStatus) -> Job {
    Job::ResolveChildWorkflowExecution(ResolveChildWorkflowExecution {
        seq,
        result: Some(ChildWorkflowResult {
            status: Some(status),
        }),
    })
}

impl OfficialRun {
    /// Translates the commands of this file's kinds; `Ok(false)` for any other kind.
    pub(super) fn translate_family(
        &mut self,
        variant: &Cmd,
        task: &mut Vec<(Command, Link)>,
    ) -> Result<bool, WorkflowTaskError> {
        match variant {
            Cmd::StartChildWorkflowExecution(c) => {
                let queue = if c.task_queue.is_empty() {
                    self.task_queue.clone()
                } else {
                    c.task_queue.clone()
                };
                self.children.insert(
                    c.seq,
                    ChildMeta {
                        workflow_id: c.workflow_id.clone(),
                        workflow_type: c.workflow_type.clone(),
                        namespace: if c.namespace.is_empty() {
                            "default".to_string()
                        } else {
                            c.namespace.clone()
                        },
                        cancel_type: c.cancellation_type,
                        ..ChildMeta::default()
                    },
                );
                task.push((
                    Command::StartChildWorkflowExecution(Box::new(StartChildWorkflowExecution {
                        workflow_id: c.workflow_id.clone(),
                        workflow_type: c.workflow_type.clone(),
                        task_queue: TaskQueue::normal(&queue),
                        input: payload_list_in(&c.input),
                        workflow_execution_timeout: duration_in(
                            c.workflow_execution_timeout.as_ref(),
                        ),
                        workflow_run_timeout: duration_in(c.workflow_run_timeout.as_ref()),
                        workflow_task_timeout: duration_in(c.workflow_task_timeout.as_ref()),
                        parent_close_policy: ParentClosePolicy::from_number(c.parent_close_policy),
                        workflow_id_reuse_policy: c.workflow_id_reuse_policy,
                        retry_policy: retry_policy_in(c.retry_policy.as_ref()),
                        memo: None,
                        search_attributes: None,
                    })),
                    Link::Child(c.seq),
                ));
            }
            Cmd::CancelChildWorkflowExecution(c) => {
                self.cancel_child(c.child_workflow_seq, &c.reason, task)?
            }
            Cmd::SignalExternalWorkflowExecution(s) => {
                let (workflow_id, run_id, child_workflow_only) = match &s.target {
                    Some(Target::WorkflowExecution(we)) => {
                        (we.workflow_id.clone(), we.run_id.clone(), false)
                    }
                    Some(Target::ChildWorkflowId(id)) => (id.clone(), String::new(), true),
                    None => {
                        return Err(WorkflowTaskError::BadInput(format!(
                            "signal {} has no target",
                            s.seq
                        )))
                    }
                };
                task.push((
                    Command::SignalExternalWorkflowExecution(Box::new(
                        SignalExternalWorkflowExecution {
                            workflow_id,
                            run_id,
                            signal_name: s.signal_name.clone(),
                            input: payload_list_in(&s.args),
                            child_workflow_only,
                        },
                    )),
                    Link::Signal(s.seq),
                ));
            }
            Cmd::CancelSignalWorkflow(c) => {
                let unsent = task
                    .iter()
                    .position(|(_, l)| matches!(l, Link::Signal(s) if *s == c.seq));
                if let Some(i) = unsent {
                    task.remove(i);
                    self.jobs.push(Job::ResolveSignalExternalWorkflow(
                        ResolveSignalExternalWorkflow {
                            seq: c.seq,
                            failure: Some(pf::Failure {
                                message: "Signal was cancelled before being sent".to_string(),
                                failure_info: Some(pf::failure::FailureInfo::CanceledFailureInfo(
                                    pf::CanceledFailureInfo::default(),
                                )),
                                ..Default::default()
                            }),
                            cause: 0,
                        },
                    ));
                }
            }
            Cmd::RequestCancelExternalWorkflowExecution(r) => {
                let Some(we) = &r.workflow_execution else {
                    return Err(WorkflowTaskError::BadInput(format!(
                        "cancel request {} has no target",
                        r.seq
                    )));
                };
                task.push((
                    Command::RequestCancelExternalWorkflowExecution(
                        RequestCancelExternalWorkflowExecution {
                            workflow_id: we.workflow_id.clone(),
                            run_id: we.run_id.clone(),
                            child_workflow_only: false,
                            reason: format!(
                                "Cancel requested by workflow with run id {} with reason: {}",
                                self.run_id, r.reason
                            ),
                        },
                    ),
                    Link::CancelExternal(r.seq),
                ));
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn cancel_child(
        &mut self,
        seq: u32,
        reason: &str,
        task: &mut Vec<(Command, Link)>,
    ) -> Result<(), WorkflowTaskError> {
        let Some(meta) = self.children.get(&seq).cloned() else {
            return Err(WorkflowTaskError::BadInput(format!(
                "cancel of child workflow {seq} that the workflow did not start"
            )));
        };
        if meta.resolved {
            return Ok(());
        }
        let unsent = task
            .iter()
            .position(|(_, l)| matches!(l, Link::Child(s) if *s == seq));
        if let Some(i) = unsent {
            // Cancelled before its start was sent: core drops the command.
            task.remove(i);
            let failure = meta.failure(
                &format!("Child Workflow Execution cancelled before scheduled: {reason}"),
                RetryState::NonRetryableFailure,
                canceled_cause(),
            );
            if let Some(m) = self.children.get_mut(&seq) {
                m.start_resolved = true;
                m.resolved = true;
            }
            self.jobs.push(Job::ResolveChildWorkflowExecutionStart(
                ResolveChildWorkflowExecutionStart {
                    seq,
                    status: Some(StartStatus::Cancelled(
                        ResolveChildWorkflowExecutionStartCancelled {
                            failure: Some(failure),
                        },
                    )),
                },
            ));
            return Ok(());
        }
        if meta.cancel_type != CHILD_ABANDON {
            task.push((
                Command::RequestCancelExternalWorkflowExecution(
                    RequestCancelExternalWorkflowExecution {
                        workflow_id: meta.workflow_id.clone(),
                        run_id: meta.run_id.clone(),
                        child_workflow_only: true,
                        reason: reason.to_string(),
                    },
                ),
                Link::ChildCancel(seq),
            ));
        }
        if matches!(meta.cancel_type, CHILD_ABANDON | CHILD_TRY_CANCEL) {
            if let Some(m) = self.children.get_mut(&seq) {
                m.resolved = true;
            }
            self.jobs.push(resolve_child(seq, meta.cancelled()));
        }
        Ok(())
    }

    /// Links a matched Initiated event to its command's sequence number.
    pub(super) fn link_family_event(&mut self, link: Link, event_id: EventId) {
        match link {
            Link::Child(seq) => {
                self.child_by_event.insert(event_id, seq);
                if let Some(m) = self.children.get_mut(&seq) {
                    m.initiated_event_id = event_id;
                }
            }
            Link::Signal(seq) => {
                self.external_by_event
                    .insert(event_id, External::Signal(seq));
            }
            Link::CancelExternal(seq) => {
                self.external_by_event
                    .insert(event_id, External::Cancel(seq));
            }
            Link::ChildCancel(seq) => {
                self.external_by_event
                    .insert(event_id, External::ChildCancel(seq));
            }
            Link::Activity(_) | Link::Other => {}
        }
    }

    fn child_seq(&self, initiated: EventId, event_id: EventId) -> Result<u32, WorkflowTaskError> {
        self.child_by_event.get(&initiated).copied().ok_or_else(|| {
            WorkflowTaskError::BadHistory(format!(
                "event {event_id} answers child start {initiated}, which the workflow did not initiate"
            ))
        })
    }

    /// The job core sends for an event of this file's kinds; `Ok(None)` for other events (and
    /// for answers the code no longer waits for).
    pub(super) fn family_job(
        &mut self,
        ev: &HistoryEvent,
    ) -> Result<Option<Job>, WorkflowTaskError> {
        use sim::history::WorkflowExecution as We;
        let run_of = |e: &Option<We>| e.as_ref().map(|e| e.run_id.clone()).unwrap_or_default();
        // The child's result, unless it was already resolved (cancelled locally).
        let child_end = |this: &mut Self,
                         initiated: EventId,
                         status: &dyn Fn(&ChildMeta) -> ChildStatus|
         -> Result<Option<Job>, WorkflowTaskError> {
            let seq = this.child_seq(initiated, ev.event_id)?;
            let Some(m) = this.children.get_mut(&seq) else {
                return Ok(None);
            };
            if m.resolved {
                return Ok(None);
            }
            m.resolved = true;
            Ok(Some(resolve_child(seq, status(m))))
        };
        Ok(match &ev.attributes {
            EventAttributes::ChildWorkflowExecutionStarted(a) => {
                let seq = self.child_seq(a.initiated_event_id, ev.event_id)?;
                let Some(m) = self.children.get_mut(&seq) else {
                    return Ok(None);
                };
                m.started_event_id = ev.event_id;
                m.run_id = run_of(&a.workflow_execution);
                if m.start_resolved {
                    return Ok(None);
                }
                m.start_resolved = true;
                Some(Job::ResolveChildWorkflowExecutionStart(
                    ResolveChildWorkflowExecutionStart {
                        seq,
                        status: Some(StartStatus::Succeeded(
                            ResolveChildWorkflowExecutionStartSuccess {
                                run_id: m.run_id.clone(),
                            },
                        )),
                    },
                ))
            }
            EventAttributes::StartChildWorkflowExecutionFailed(a) => {
                let seq = self.child_seq(a.initiated_event_id, ev.event_id)?;
                let Some(m) = self.children.get_mut(&seq) else {
                    return Ok(None);
                };
                if m.start_resolved {
                    return Ok(None);
                }
                m.start_resolved = true;
                m.resolved = true;
                let cause = match a.cause {
                    sim::history::StartChildWorkflowExecutionFailedCause::WorkflowAlreadyExists => {
                        StartChildWorkflowExecutionFailedCause::WorkflowAlreadyExists
                    }
                    sim::history::StartChildWorkflowExecutionFailedCause::NamespaceNotFound => {
                        StartChildWorkflowExecutionFailedCause::NamespaceNotFound
                    }
                    _ => StartChildWorkflowExecutionFailedCause::Unspecified,
                };
                Some(Job::ResolveChildWorkflowExecutionStart(
                    ResolveChildWorkflowExecutionStart {
                        seq,
                        status: Some(StartStatus::Failed(
                            ResolveChildWorkflowExecutionStartFailure {
                                workflow_id: m.workflow_id.clone(),
                                workflow_type: m.workflow_type.clone(),
                                cause: cause as i32,
                            },
                        )),
                    },
                ))
            }
            EventAttributes::ChildWorkflowExecutionCompleted(a) => {
                let result = a
                    .result
                    .as_ref()
                    .and_then(|p| p.0.first())
                    .map(crate::convert::payload_out);
                child_end(self, a.initiated_event_id, &|_| {
                    ChildStatus::Completed(ChildSuccess {
                        result: result.clone(),
                    })
                })?
            }
            EventAttributes::ChildWorkflowExecutionFailed(a) => {
                let cause = a.failure.as_ref().map(|f| Box::new(failure_out(f)));
                child_end(self, a.initiated_event_id, &|m| {
                    ChildStatus::Failed(ChildFailed {
                        failure: Some(m.failure(
                            "Child Workflow execution failed",
                            a.retry_state,
                            cause.clone(),
                        )),
                    })
                })?
            }
            EventAttributes::ChildWorkflowExecutionTimedOut(a) => {
                child_end(self, a.initiated_event_id, &|m| {
                    ChildStatus::Failed(ChildFailed {
                        failure: Some(m.failure(
                            "Child Workflow execution timed out",
                            a.retry_state,
                            Some(Box::new(pf::Failure {
                                message: "Timed out".to_string(),
                                failure_info: Some(pf::failure::FailureInfo::TimeoutFailureInfo(
                                    pf::TimeoutFailureInfo {
                                        last_heartbeat_details: None,
                                        timeout_type: 1, // START_TO_CLOSE, as core writes it
                                    },
                                )),
                                ..Default::default()
                            })),
                        )),
                    })
                })?
            }
            EventAttributes::ChildWorkflowExecutionCanceled(a) => {
                child_end(self, a.initiated_event_id, &|m| m.cancelled())?
            }
            EventAttributes::ChildWorkflowExecutionTerminated(a) => {
                child_end(self, a.initiated_event_id, &|m| {
                    ChildStatus::Failed(ChildFailed {
                        failure: Some(m.failure(
                            "Child Workflow execution terminated",
                            RetryState::NonRetryableFailure,
                            Some(Box::new(pf::Failure {
                                message: "Terminated".to_string(),
                                failure_info: Some(
                                    pf::failure::FailureInfo::TerminatedFailureInfo(
                                        pf::TerminatedFailureInfo::default(),
                                    ),
                                ),
                                ..Default::default()
                            })),
                        )),
                    })
                })?
            }
            EventAttributes::ExternalWorkflowExecutionSignaled(a) => {
                self.external_job(a.initiated_event_id, None)
            }
            EventAttributes::SignalExternalWorkflowExecutionFailed(a) => self.external_job(
                a.initiated_event_id,
                Some((
                    application(
                        "Unable to signal external workflow because it was not found".into(),
                        "ExternalWorkflowExecutionNotFound",
                    ),
                    a.cause as i32,
                )),
            ),
            EventAttributes::ExternalWorkflowExecutionCancelRequested(a) => {
                self.external_job(a.initiated_event_id, None)
            }
            EventAttributes::RequestCancelExternalWorkflowExecutionFailed(a) => self.external_job(
                a.initiated_event_id,
                Some((
                    application(
                        "Unable to cancel external workflow because not found".into(),
                        "ExternalWorkflowExecutionNotFound",
                    ),
                    a.cause as i32,
                )),
            ),
            _ => None,
        })
    }

    /// The job answering a signal or cancel request (or, for a child's cancel request with
    /// WAIT_CANCELLATION_REQUESTED, the child's cancelled result).
    fn external_job(
        &mut self,
        initiated: EventId,
        failed: Option<(pf::Failure, i32)>,
    ) -> Option<Job> {
        let (failure, cause) = match failed {
            Some((f, c)) => (Some(f), c),
            None => (None, 0),
        };
        match self.external_by_event.get(&initiated).copied()? {
            External::Signal(seq) => Some(Job::ResolveSignalExternalWorkflow(
                ResolveSignalExternalWorkflow {
                    seq,
                    failure,
                    cause,
                },
            )),
            External::Cancel(seq) => Some(Job::ResolveRequestCancelExternalWorkflow(
                ResolveRequestCancelExternalWorkflow {
                    seq,
                    failure,
                    cause,
                },
            )),
            External::ChildCancel(seq) => {
                let m = self.children.get_mut(&seq)?;
                if m.resolved || m.cancel_type != CHILD_WAIT_REQUESTED {
                    return None;
                }
                m.resolved = true;
                let status = m.cancelled();
                Some(resolve_child(seq, status))
            }
        }
    }
}
