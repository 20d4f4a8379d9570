//! Child workflows: Temporal's StartChildWorkflowExecution command, the child's start (or the
//! start's failure), the parent hearing of the child's close, and parent close policies.
//!
//! Temporal writes StartChildWorkflowExecutionInitiated with the parent's command, then a
//! transfer task starts the child and writes ChildWorkflowExecutionStarted (or
//! StartChildWorkflowExecutionFailed) into the parent. Here the transfer runs in the same step,
//! right after the batch's command events (`external.rs` `run_transfers`): the same histories,
//! with the transfer done at once (the store write of the step holds parent and child
//! together, so no crash can separate them).
//!
//! Invariants:
//! - a child is in its parent's `children` from ChildWorkflowExecutionStarted until the parent
//!   is told of its close (once, with the Initiated and Started ids that link the events);
//! - a child's run carries `parent` across continue-as-new: the parent hears of the close of the
//!   chain, not of each run;
//! - when a parent closes, each pending child gets its parent close policy (terminate by
//!   default, request cancel, or abandon), in Initiated-event order;
//! - nothing is written to a closed run: a parent closed before its child reports is not told.

use std::sync::Arc;
use std::time::Duration;

use super::commands::CommandContext;
use super::core::{Engine, ReplyHandle};
use super::external::{execution, PendingChild, Transfer};
use super::frontend::NewRun;
use super::runs::RunIdx;
use super::state::{ChildState, ParentLink};
use crate::history::{
    ChildWorkflowExecutionCanceled, ChildWorkflowExecutionCompleted, ChildWorkflowExecutionFailed,
    ChildWorkflowExecutionStarted, ChildWorkflowExecutionTerminated,
    ChildWorkflowExecutionTimedOut, EventAttributes, EventId, Extra, ParentClosePolicy,
    StartChildWorkflowExecution, StartChildWorkflowExecutionFailed,
    StartChildWorkflowExecutionFailedCause, StartChildWorkflowExecutionInitiated, TaskQueue,
    Timestamp, WorkflowExecutionCancelRequested,
};
use crate::wire::{IdReusePolicy, WorkflowStatus};

/// The namespace every run of the simulation lives in (Temporal's dev server's).
pub(super) const NAMESPACE: &str = "default";

/// Temporal's `WORKFLOW_ID_REUSE_POLICY_*` long names, by number.
fn reuse_policy_name(n: i32) -> Option<&'static str> {
    Some(match n {
        1 => "WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE",
        2 => "WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY",
        3 => "WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE",
        4 => "WORKFLOW_ID_REUSE_POLICY_TERMINATE_IF_RUNNING",
        _ => return None,
    })
}

/// The reuse policy a child start asks for (unspecified and terminate-if-running: a closed id
/// may be reused; a running one never is for a child).
fn reuse_policy(n: i32) -> IdReusePolicy {
    match n {
        2 => IdReusePolicy::AllowDuplicateFailedOnly,
        3 => IdReusePolicy::RejectDuplicate,
        _ => IdReusePolicy::AllowDuplicate,
    }
}

impl<R: ReplyHandle> Engine<R> {
    /// StartChildWorkflowExecution -> StartChildWorkflowExecutionInitiated; the child is started
    /// once the batch is written (`start_child`).
    pub(super) fn start_child_workflow_execution(
        &mut self,
        cx: &CommandContext,
        c: StartChildWorkflowExecution,
        transfers: &mut Vec<Transfer>,
    ) {
        let task_queue = if c.task_queue.name.is_empty() {
            self.ms(cx.run).task_queue.clone()
        } else {
            c.task_queue.name.clone()
        };
        let task_timeout = c
            .workflow_task_timeout
            .filter(|d| !d.is_zero())
            .unwrap_or(self.cfg.default_workflow_task_timeout);
        let policy = match c.parent_close_policy {
            ParentClosePolicy::Unspecified => ParentClosePolicy::Terminate,
            p => p,
        };
        let mut extra = serde_json::Map::new();
        if let Some(name) = reuse_policy_name(c.workflow_id_reuse_policy) {
            extra.insert(
                "workflowIdReusePolicy".to_string(),
                serde_json::Value::String(name.to_string()),
            );
        }
        let initiated = self.append(
            cx.run,
            cx.now,
            EventAttributes::StartChildWorkflowExecutionInitiated(Arc::new(
                StartChildWorkflowExecutionInitiated {
                    namespace: NAMESPACE.to_string(),
                    workflow_id: c.workflow_id.clone(),
                    workflow_type: c.workflow_type.clone(),
                    task_queue: Some(TaskQueue::normal(task_queue.clone())),
                    input: c.input.clone(),
                    workflow_execution_timeout: c.workflow_execution_timeout,
                    workflow_run_timeout: Some(c.workflow_run_timeout.unwrap_or(Duration::ZERO)),
                    workflow_task_timeout: Some(task_timeout),
                    parent_close_policy: policy,
                    workflow_task_completed_event_id: cx.completed_event_id,
                    retry_policy: c.retry_policy.clone(),
                    memo: c.memo.clone(),
                    search_attributes: c.search_attributes.clone(),
                    extra: Extra::from(extra),
                },
            )),
        );
        transfers.push(Transfer::StartChild(Box::new(PendingChild {
            initiated_event_id: initiated,
            task_queue,
            task_timeout,
            policy,
            command: c,
        })));
    }

    /// The transfer of a child start: the child's first run and ChildWorkflowExecutionStarted
    /// in the parent, or StartChildWorkflowExecutionFailed when the id is taken.
    pub(super) fn start_child(&mut self, now: Timestamp, parent: RunIdx, p: PendingChild) {
        let PendingChild {
            initiated_event_id,
            task_queue,
            task_timeout,
            policy,
            command: c,
        } = p;
        let taken = self
            .resolve(&c.workflow_id, None)
            .is_some_and(|run| !self.id_reusable(run, reuse_policy(c.workflow_id_reuse_policy)));
        if taken {
            self.append(
                parent,
                now,
                EventAttributes::StartChildWorkflowExecutionFailed(Arc::new(
                    StartChildWorkflowExecutionFailed {
                        namespace: NAMESPACE.to_string(),
                        workflow_id: c.workflow_id,
                        workflow_type: c.workflow_type,
                        cause: StartChildWorkflowExecutionFailedCause::WorkflowAlreadyExists,
                        initiated_event_id,
                        workflow_task_completed_event_id: 0,
                        extra: Extra::new(),
                    },
                )),
            );
            return;
        }
        let parent_key = self.runs[parent].key.clone();
        // The root of the tree: the parent's root, or the parent itself.
        let root = match self.runs[parent]
            .exec
            .history
            .first()
            .map(|e| &e.attributes)
        {
            Some(EventAttributes::WorkflowExecutionStarted(s))
                if s.root_workflow_execution.is_some() =>
            {
                s.root_workflow_execution.clone()
            }
            _ => execution(&parent_key.workflow_id, &parent_key.run_id),
        };
        let run_id = self.new_run_id(&c.workflow_id);
        let request_id = self.new_uuid();
        self.create_run(
            now,
            NewRun {
                workflow_id: c.workflow_id.clone(),
                run_id: run_id.clone(),
                workflow_type: c.workflow_type.clone(),
                task_queue,
                input: c.input,
                workflow_task_timeout: task_timeout,
                request_id,
                identity: String::new(),
                continued_from: None,
                run_timeout: c.workflow_run_timeout,
                execution_timeout: c.workflow_execution_timeout,
                memo: c.memo,
                search_attributes: c.search_attributes,
                parent: Some(ParentLink {
                    workflow_id: parent_key.workflow_id,
                    run_id: parent_key.run_id,
                    initiated_event_id,
                }),
                root,
            },
        );
        let started = self.append(
            parent,
            now,
            EventAttributes::ChildWorkflowExecutionStarted(Arc::new(
                ChildWorkflowExecutionStarted {
                    namespace: NAMESPACE.to_string(),
                    initiated_event_id,
                    workflow_execution: execution(&c.workflow_id, &run_id),
                    workflow_type: c.workflow_type.clone(),
                    extra: Extra::new(),
                },
            )),
        );
        self.ms_mut(parent).children.insert(
            initiated_event_id,
            ChildState {
                initiated_event_id,
                started_event_id: started,
                workflow_id: c.workflow_id,
                run_id,
                workflow_type: c.workflow_type,
                parent_close_policy: policy,
            },
        );
    }

    /// After a run closed with `close`: its parent hears of it (unless it continued as new: the
    /// new run carries the link), and its own pending children get their parent close policy.
    pub(super) fn after_close(
        &mut self,
        run: RunIdx,
        now: Timestamp,
        close: &EventAttributes,
        children: std::collections::BTreeMap<EventId, ChildState>,
    ) {
        if let Some(link) = self.ms(run).parent.clone() {
            if self.ms(run).status != WorkflowStatus::ContinuedAsNew {
                self.tell_parent(now, &link, close);
            }
        }
        for child in children.into_values() {
            self.apply_parent_close_policy(run, now, child);
        }
    }

    /// Writes the child-closed event into the parent (buffered while its task runs) and asks for
    /// a workflow task.
    fn tell_parent(&mut self, now: Timestamp, link: &ParentLink, close: &EventAttributes) {
        let Some(parent) = self.resolve(&link.workflow_id, Some(&link.run_id)) else {
            return;
        };
        if !self.ms(parent).is_open() {
            return;
        }
        let Some(child) = self
            .ms_mut(parent)
            .children
            .remove(&link.initiated_event_id)
        else {
            return;
        };
        let ns = NAMESPACE.to_string();
        let exec = execution(&child.workflow_id, &child.run_id);
        let (initiated_event_id, started_event_id) =
            (child.initiated_event_id, child.started_event_id);
        let workflow_type = child.workflow_type;
        let event = match close {
            EventAttributes::WorkflowExecutionCompleted(c) => {
                EventAttributes::ChildWorkflowExecutionCompleted(Arc::new(
                    ChildWorkflowExecutionCompleted {
                        result: c.result.clone(),
                        namespace: ns,
                        workflow_execution: exec,
                        workflow_type,
                        initiated_event_id,
                        started_event_id,
                        extra: Extra::new(),
                    },
                ))
            }
            EventAttributes::WorkflowExecutionFailed(f) => {
                EventAttributes::ChildWorkflowExecutionFailed(Arc::new(
                    ChildWorkflowExecutionFailed {
                        failure: f.failure.clone(),
                        namespace: ns,
                        workflow_execution: exec,
                        workflow_type,
                        initiated_event_id,
                        started_event_id,
                        retry_state: f.retry_state,
                        extra: Extra::new(),
                    },
                ))
            }
            EventAttributes::WorkflowExecutionCanceled(c) => {
                EventAttributes::ChildWorkflowExecutionCanceled(Arc::new(
                    ChildWorkflowExecutionCanceled {
                        details: c.details.clone(),
                        namespace: ns,
                        workflow_execution: exec,
                        workflow_type,
                        initiated_event_id,
                        started_event_id,
                        extra: Extra::new(),
                    },
                ))
            }
            EventAttributes::WorkflowExecutionTimedOut(t) => {
                EventAttributes::ChildWorkflowExecutionTimedOut(Arc::new(
                    ChildWorkflowExecutionTimedOut {
                        namespace: ns,
                        workflow_execution: exec,
                        workflow_type,
                        initiated_event_id,
                        started_event_id,
                        retry_state: t.retry_state,
                        extra: Extra::new(),
                    },
                ))
            }
            _ => EventAttributes::ChildWorkflowExecutionTerminated(Arc::new(
                ChildWorkflowExecutionTerminated {
                    namespace: ns,
                    workflow_execution: exec,
                    workflow_type,
                    initiated_event_id,
                    started_event_id,
                    extra: Extra::new(),
                },
            )),
        };
        self.append_or_buffer(parent, now, event);
        self.schedule_wft(parent, now, 1, now);
    }

    /// A pending child of a run that closed: terminated (the default), asked to cancel, or left
    /// running, as its parent close policy says.
    fn apply_parent_close_policy(&mut self, parent: RunIdx, now: Timestamp, child: ChildState) {
        if child.parent_close_policy == ParentClosePolicy::Abandon {
            return;
        }
        // The child's current run, if it is still the parent's child (a continue-as-new chain
        // keeps the link).
        let Some(run) = self.resolve(&child.workflow_id, None) else {
            return;
        };
        let parent_key = &self.runs[parent].key;
        let ms = self.ms(run);
        let ours = ms.parent.as_ref().is_some_and(|l| {
            l.workflow_id == parent_key.workflow_id
                && l.run_id == parent_key.run_id
                && l.initiated_event_id == child.initiated_event_id
        });
        if !ms.is_open() || !ours {
            return;
        }
        let identity = self.cfg.identity.clone();
        match child.parent_close_policy {
            ParentClosePolicy::RequestCancel => {
                if self.ms(run).cancel_requested {
                    return;
                }
                self.ms_mut(run).cancel_requested = true;
                self.append_or_buffer(
                    run,
                    now,
                    EventAttributes::WorkflowExecutionCancelRequested(Arc::new(
                        WorkflowExecutionCancelRequested {
                            cause: "by parent close policy".to_string(),
                            identity,
                            external_initiated_event_id: 0,
                            external_workflow_execution: None,
                            extra: Extra::new(),
                        },
                    )),
                );
                self.schedule_wft(run, now, 1, now);
            }
            _ => self.terminate_run(run, now, "by parent close policy".to_string(), identity),
        }
    }
}
