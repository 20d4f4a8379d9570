//! Other workflows: Temporal's SignalExternalWorkflowExecution and
//! RequestCancelExternalWorkflowExecution commands (a parent cancelling its child is the
//! latter, with `child_workflow_only`), and the transfers every cross-run command leaves for
//! after its batch.
//!
//! Temporal writes the Initiated event with the command and delivers it from a transfer task;
//! the source then gets ExternalWorkflowExecutionSignaled / ExternalWorkflowExecutionCancelRequested,
//! or the Failed event (the target does not exist, is closed, or is not the source's child when
//! `child_workflow_only` says it must be). Here the transfers run at the end of the completing
//! step, after the batch's command events and the events buffered during the task, in command
//! order: the same event sequences, delivered at once.
//!
//! Invariants:
//! - the target's event (WorkflowExecutionSignaled, WorkflowExecutionCancelRequested) names the
//!   source run and, for a cancel, the Initiated event; it is written (or buffered, while the
//!   target's task runs) in the same step as the source's answer, so they are durable together;
//! - a cancel request reaches a run at most once (a second request still succeeds);
//! - a source closed by its own batch gets no transfers: nothing is written to a closed run.

use std::sync::Arc;
use std::time::Duration;

use super::children::NAMESPACE;
use super::commands::CommandContext;
use super::core::{Engine, ReplyHandle};
use super::runs::RunIdx;
use crate::history::{
    CancelExternalWorkflowExecutionFailedCause, EventAttributes, EventId,
    ExternalWorkflowExecutionCancelRequested, ExternalWorkflowExecutionSignaled, Extra,
    ParentClosePolicy, RequestCancelExternalWorkflowExecution,
    RequestCancelExternalWorkflowExecutionFailed, RequestCancelExternalWorkflowExecutionInitiated,
    SignalExternalWorkflowExecution, SignalExternalWorkflowExecutionFailed,
    SignalExternalWorkflowExecutionFailedCause, SignalExternalWorkflowExecutionInitiated,
    StartChildWorkflowExecution, Timestamp, WorkflowExecution, WorkflowExecutionCancelRequested,
    WorkflowExecutionSignaled,
};

/// Work a batch leaves for after its command events: delivering to another run.
pub(super) enum Transfer {
    StartChild(Box<PendingChild>),
    Signal {
        initiated_event_id: EventId,
        command: Box<SignalExternalWorkflowExecution>,
    },
    Cancel {
        initiated_event_id: EventId,
        command: RequestCancelExternalWorkflowExecution,
    },
}

/// A child start waiting for its batch to be written (`children.rs` `start_child`).
pub(super) struct PendingChild {
    pub(super) initiated_event_id: EventId,
    pub(super) task_queue: String,
    pub(super) task_timeout: Duration,
    pub(super) policy: ParentClosePolicy,
    pub(super) command: StartChildWorkflowExecution,
}

/// A `WorkflowExecution` as events name one (an empty run id: the workflow's current run).
pub(super) fn execution(workflow_id: &str, run_id: &str) -> Option<WorkflowExecution> {
    Some(WorkflowExecution {
        workflow_id: workflow_id.to_string(),
        run_id: run_id.to_string(),
        extra: Extra::new(),
    })
}

impl<R: ReplyHandle> Engine<R> {
    /// SignalExternalWorkflowExecution -> SignalExternalWorkflowExecutionInitiated.
    pub(super) fn signal_external_workflow_execution(
        &mut self,
        cx: &CommandContext,
        c: Box<SignalExternalWorkflowExecution>,
        transfers: &mut Vec<Transfer>,
    ) {
        let initiated = self.append(
            cx.run,
            cx.now,
            EventAttributes::SignalExternalWorkflowExecutionInitiated(Arc::new(
                SignalExternalWorkflowExecutionInitiated {
                    workflow_task_completed_event_id: cx.completed_event_id,
                    namespace: NAMESPACE.to_string(),
                    workflow_execution: execution(&c.workflow_id, &c.run_id),
                    signal_name: c.signal_name.clone(),
                    input: c.input.clone(),
                    child_workflow_only: c.child_workflow_only,
                    extra: Extra::new(),
                },
            )),
        );
        transfers.push(Transfer::Signal {
            initiated_event_id: initiated,
            command: c,
        });
    }

    /// RequestCancelExternalWorkflowExecution -> RequestCancelExternalWorkflowExecutionInitiated.
    pub(super) fn request_cancel_external_workflow_execution(
        &mut self,
        cx: &CommandContext,
        c: RequestCancelExternalWorkflowExecution,
        transfers: &mut Vec<Transfer>,
    ) {
        let initiated = self.append(
            cx.run,
            cx.now,
            EventAttributes::RequestCancelExternalWorkflowExecutionInitiated(Arc::new(
                RequestCancelExternalWorkflowExecutionInitiated {
                    workflow_task_completed_event_id: cx.completed_event_id,
                    namespace: NAMESPACE.to_string(),
                    workflow_execution: execution(&c.workflow_id, &c.run_id),
                    child_workflow_only: c.child_workflow_only,
                    reason: c.reason.clone(),
                    extra: Extra::new(),
                },
            )),
        );
        transfers.push(Transfer::Cancel {
            initiated_event_id: initiated,
            command: c,
        });
    }

    /// Carries out a batch's transfers, in command order, once its command events (and the
    /// events buffered during the task) are written. Returns whether any event was written into
    /// `source` (it then needs a workflow task).
    pub(super) fn run_transfers(
        &mut self,
        now: Timestamp,
        source: RunIdx,
        transfers: Vec<Transfer>,
    ) -> bool {
        if !self.ms(source).is_open() {
            return false;
        }
        let any = !transfers.is_empty();
        for t in transfers {
            match t {
                Transfer::StartChild(p) => self.start_child(now, source, *p),
                Transfer::Signal {
                    initiated_event_id,
                    command,
                } => self.deliver_signal(now, source, initiated_event_id, *command),
                Transfer::Cancel {
                    initiated_event_id,
                    command,
                } => self.deliver_cancel(now, source, initiated_event_id, command),
            }
        }
        any
    }

    /// The open run a cross-run command targets, if there is one and (when the command says so)
    /// it is the source's child.
    fn target_run(
        &self,
        source: RunIdx,
        workflow_id: &str,
        run_id: &str,
        child_only: bool,
    ) -> Option<RunIdx> {
        let target = self.resolve(workflow_id, Some(run_id))?;
        let ms = self.ms(target);
        if !ms.is_open() {
            return None;
        }
        if child_only {
            let src = &self.runs[source].key;
            let is_child = ms
                .parent
                .as_ref()
                .is_some_and(|l| l.workflow_id == src.workflow_id && l.run_id == src.run_id);
            if !is_child {
                return None;
            }
        }
        Some(target)
    }

    fn deliver_signal(
        &mut self,
        now: Timestamp,
        source: RunIdx,
        initiated_event_id: EventId,
        c: SignalExternalWorkflowExecution,
    ) {
        let target = self.target_run(source, &c.workflow_id, &c.run_id, c.child_workflow_only);
        let exec = execution(&c.workflow_id, &c.run_id);
        let full =
            target.is_some_and(|t| self.ms(t).buffered.len() >= self.cfg.limits.pending_timers);
        let Some(target) = target.filter(|_| !full) else {
            let cause = if full {
                SignalExternalWorkflowExecutionFailedCause::SignalCountLimitExceeded
            } else {
                SignalExternalWorkflowExecutionFailedCause::ExternalWorkflowExecutionNotFound
            };
            self.append(
                source,
                now,
                EventAttributes::SignalExternalWorkflowExecutionFailed(Arc::new(
                    SignalExternalWorkflowExecutionFailed {
                        cause,
                        workflow_task_completed_event_id: 0,
                        namespace: NAMESPACE.to_string(),
                        workflow_execution: exec,
                        initiated_event_id,
                        extra: Extra::new(),
                    },
                )),
            );
            return;
        };
        let src = self.runs[source].key.clone();
        let identity = self.cfg.identity.clone();
        self.append_or_buffer(
            target,
            now,
            EventAttributes::WorkflowExecutionSignaled(Arc::new(WorkflowExecutionSignaled {
                signal_name: c.signal_name,
                input: c.input,
                identity,
                external_workflow_execution: execution(&src.workflow_id, &src.run_id),
                extra: Extra::new(),
            })),
        );
        self.schedule_wft(target, now, 1, now);
        self.append(
            source,
            now,
            EventAttributes::ExternalWorkflowExecutionSignaled(Arc::new(
                ExternalWorkflowExecutionSignaled {
                    initiated_event_id,
                    namespace: NAMESPACE.to_string(),
                    workflow_execution: exec,
                    extra: Extra::new(),
                },
            )),
        );
    }

    fn deliver_cancel(
        &mut self,
        now: Timestamp,
        source: RunIdx,
        initiated_event_id: EventId,
        c: RequestCancelExternalWorkflowExecution,
    ) {
        let exec = execution(&c.workflow_id, &c.run_id);
        let Some(target) =
            self.target_run(source, &c.workflow_id, &c.run_id, c.child_workflow_only)
        else {
            self.append(
                source,
                now,
                EventAttributes::RequestCancelExternalWorkflowExecutionFailed(Arc::new(
                    RequestCancelExternalWorkflowExecutionFailed {
                        cause:
                            CancelExternalWorkflowExecutionFailedCause::ExternalWorkflowExecutionNotFound,
                        workflow_task_completed_event_id: 0,
                        namespace: NAMESPACE.to_string(),
                        workflow_execution: exec,
                        initiated_event_id,
                        extra: Extra::new(),
                    },
                )),
            );
            return;
        };
        if !self.ms(target).cancel_requested {
            let src = self.runs[source].key.clone();
            let identity = self.cfg.identity.clone();
            self.ms_mut(target).cancel_requested = true;
            self.append_or_buffer(
                target,
                now,
                EventAttributes::WorkflowExecutionCancelRequested(Arc::new(
                    WorkflowExecutionCancelRequested {
                        cause: c.reason,
                        identity,
                        external_initiated_event_id: initiated_event_id,
                        external_workflow_execution: execution(&src.workflow_id, &src.run_id),
                        extra: Extra::new(),
                    },
                )),
            );
            self.schedule_wft(target, now, 1, now);
        }
        self.append(
            source,
            now,
            EventAttributes::ExternalWorkflowExecutionCancelRequested(Arc::new(
                ExternalWorkflowExecutionCancelRequested {
                    initiated_event_id,
                    namespace: NAMESPACE.to_string(),
                    workflow_execution: exec,
                    extra: Extra::new(),
                },
            )),
        );
    }
}
