//! Workflow run and execution timeouts: Temporal's `workflowRunTimeout` (one run) and
//! `workflowExecutionTimeout` (the whole chain of continue-as-new runs, ending at the
//! `workflowExecutionExpirationTime` every run of the chain records). When either deadline
//! passes, the run closes with WorkflowExecutionTimedOut.
//!
//! As Temporal does:
//! - a start without a run timeout gets the execution timeout as its run timeout, and a run
//!   timeout longer than the execution timeout is cut to it (`effective_run_timeout`);
//! - the expiration time is the first run's start plus the execution timeout, truncated to the
//!   millisecond (as the server writes it), and is carried unchanged to every continued run;
//! - the retry state is `Timeout` when the execution expired, `RetryPolicyNotSet` when only the
//!   run timed out (workflows have no retry policy here);
//! - a workflow task running when the run times out (or is terminated) is failed first
//!   (WorkflowTaskFailed, cause `FORCE_CLOSE_COMMAND`, identity `history-service`), and the
//!   events buffered while it ran follow the failure.
//!
//! Invariants: both deadlines live in the mutable state (`run_expiration_time`,
//! `execution_expiration_time`) and are part of the run's deadline index entry
//! (`runs.rs` `index_entries`); a run never times out before its deadline, and a closed run
//! never times out.

use std::sync::Arc;
use std::time::Duration;

use super::core::{Engine, ReplyHandle};
use super::runs::RunIdx;
use crate::history::{
    EventAttributes, Extra, RetryState, Timestamp, WorkflowExecutionTimedOut, WorkflowTaskFailed,
    WorkflowTaskFailedCause,
};
use crate::wire::WorkflowStatus;

/// `WORKFLOW_TASK_FAILED_CAUSE_FORCE_CLOSE_COMMAND`: the server closed the run under a running
/// workflow task.
pub(super) const FORCE_CLOSE_COMMAND: WorkflowTaskFailedCause = WorkflowTaskFailedCause::Other(17);

/// The identity Temporal's history service writes into the events it produces itself.
pub(super) const HISTORY_SERVICE: &str = "history-service";

/// `initiator` of a run started by the previous run's ContinueAsNew command.
pub(super) const INITIATOR_WORKFLOW: &str = "CONTINUE_AS_NEW_INITIATOR_WORKFLOW";

fn nonzero(d: Option<Duration>) -> Option<Duration> {
    d.filter(|d| !d.is_zero())
}

/// Temporal's `OverrideWorkflowRunTimeout`: no run timeout -> the execution timeout; both ->
/// the shorter; `None` when neither is set.
pub(super) fn effective_run_timeout(
    run: Option<Duration>,
    execution: Option<Duration>,
) -> Option<Duration> {
    match (nonzero(run), nonzero(execution)) {
        (None, e) => e,
        (r, None) => r,
        (Some(r), Some(e)) => Some(r.min(e)),
    }
}

/// The expiration time of an execution started at `now` with `timeout`: truncated to the
/// millisecond, as the server writes `workflowExecutionExpirationTime`.
pub(super) fn expiration_time(now: Timestamp, timeout: Option<Duration>) -> Option<Timestamp> {
    let t = now.plus(nonzero(timeout)?).as_nanos();
    Some(Timestamp::from_nanos(t - t.rem_euclid(1_000_000)))
}

/// The attributes of WorkflowExecutionStarted the history model keeps in `extra`: the
/// `initiator` of a continued run and the execution's expiration time.
pub(super) fn started_extra(continued: bool, expiration: Option<Timestamp>) -> Extra {
    let mut extra = Extra::new();
    if continued {
        extra.insert("initiator".into(), INITIATOR_WORKFLOW.into());
    }
    if let Some(t) = expiration {
        extra.insert(
            "workflowExecutionExpirationTime".into(),
            crate::history::format_timestamp(t).into(),
        );
    }
    extra
}

impl<R: ReplyHandle> Engine<R> {
    /// Times the run out if its run or execution deadline has passed; returns whether it did.
    pub(super) fn workflow_timeouts(&mut self, run: RunIdx, now: Timestamp) -> bool {
        let ms = self.ms(run);
        let execution_expired = ms.execution_expiration_time.is_some_and(|t| t <= now);
        let run_expired = ms.run_expiration_time.is_some_and(|t| t <= now);
        if !ms.is_open() || !(execution_expired || run_expired) {
            return false;
        }
        let retry_state = if execution_expired {
            RetryState::Timeout
        } else {
            RetryState::RetryPolicyNotSet
        };
        self.touch(run);
        self.force_close_wft(run, now);
        self.close(
            run,
            now,
            WorkflowStatus::TimedOut,
            EventAttributes::WorkflowExecutionTimedOut(Arc::new(WorkflowExecutionTimedOut {
                retry_state,
                new_execution_run_id: None,
                extra: Extra::new(),
            })),
        );
        true
    }

    /// Before the server closes a run (a timeout, a termination): a started workflow task fails
    /// with `FORCE_CLOSE_COMMAND` (a transient one has its Scheduled and Started events written
    /// first), and the events buffered while it ran are written after the failure, as
    /// Temporal's `failWorkflowTask` does; its worker's completion then finds the run closed.
    pub(super) fn force_close_wft(&mut self, run: RunIdx, now: Timestamp) {
        if self.ms(run).wft_in_flight() {
            let (scheduled_event_id, started_event_id) = self.materialize_transient(run, now);
            self.append(
                run,
                now,
                EventAttributes::WorkflowTaskFailed(Arc::new(WorkflowTaskFailed {
                    scheduled_event_id,
                    started_event_id,
                    cause: FORCE_CLOSE_COMMAND,
                    failure: None,
                    identity: HISTORY_SERVICE.to_string(),
                    extra: Extra::new(),
                })),
            );
            self.ms_mut(run).wft = None;
            self.flush_buffered(run, now);
        }
        self.ms_mut(run).wft = None;
    }
}
