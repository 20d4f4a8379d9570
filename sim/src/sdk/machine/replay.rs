//! Whole-history replay: a machine walked through every event of a history (ours or Temporal's),
//! what it found ([`ReplayOutcome`]), and queries answered from the state it reaches.

use std::rc::Rc;

use super::{CodeOutcome, WorkflowMachine, WorkflowTaskError};
use crate::history::{EventAttributes, EventId, EventType, Failure, History, Payloads};
use crate::sdk::context::WorkflowContext;
use crate::sdk::registry::Registry;

/// What replaying a whole history found.
#[derive(Clone, Debug, PartialEq)]
pub enum ReplayOutcome {
    /// The run is closed; `result` is what the code produced (the completed result, or the
    /// failure it failed with), or for terminated/timed-out runs what the history says.
    Closed {
        /// What the code produced (its result, or the failure it failed with; a cancellation
        /// failure if it accepted cancellation; `Ok(None)` if it continued as new), or, if the run
        /// was closed from outside (terminated, timed out), a failure saying so.
        result: Result<Option<Payloads>, Failure>,
        /// The type of the event that closed the run.
        close: EventType,
    },
    /// Replayed without error; the run is still open.
    Open,
    /// Replay stopped: non-determinism, a panic, a bad input or a malformed history.
    Failed(WorkflowTaskError),
}

impl ReplayOutcome {
    /// Whether replay finished without error (the run is open or closed).
    pub fn is_ok(&self) -> bool {
        !matches!(self, ReplayOutcome::Failed(_))
    }
}

/// Answers query `query_type` (with `args`) from the state the run's workflow reaches by
/// replaying `history`, by the runtime that registered its type (this crate's SDK or another).
/// A history that does not replay, or a query with no handler, is a failure.
pub fn query(
    registry: &Registry,
    history: &History,
    query_type: &str,
    args: Option<&Payloads>,
) -> Result<Option<Payloads>, Failure> {
    if let Some(rt) = history
        .started()
        .and_then(|s| registry.runtime_for(&s.workflow_type))
    {
        return rt.query(history, query_type, args);
    }
    let m = replayed_machine(registry, history).map_err(|e| {
        Failure::application(
            format!("query {query_type:?}: the history does not replay: {e}"),
            "QueryFailed",
            true,
        )
    })?;
    let ctx = WorkflowContext::new(Rc::clone(&m.st));
    crate::sdk::updates::answer_query(&ctx, query_type, args)
}

/// Replays a whole history (ours or Temporal's) against the registered workflows (run by this
/// crate's SDK or by the runtime that registered the history's workflow type).
pub fn replay(registry: &Registry, history: &History) -> ReplayOutcome {
    if let Some(rt) = history
        .started()
        .and_then(|s| registry.runtime_for(&s.workflow_type))
    {
        return rt.replay(history);
    }
    match replay_inner(registry, history) {
        Ok(o) => o,
        Err(e) => ReplayOutcome::Failed(e),
    }
}

/// A machine that has replayed the whole of `history`.
fn replayed_machine(
    registry: &Registry,
    history: &History,
) -> Result<WorkflowMachine, WorkflowTaskError> {
    let Some(first) = history.events.first() else {
        return Err(WorkflowTaskError::BadHistory("empty history".to_string()));
    };
    let Some(started) = history.started() else {
        return Err(WorkflowTaskError::BadHistory(
            "history does not start with WorkflowExecutionStarted".to_string(),
        ));
    };
    if first.event_id != 1 {
        return Err(WorkflowTaskError::BadHistory(format!(
            "history starts at event {}",
            first.event_id
        )));
    }
    let run_id = if started.original_execution_run_id.is_empty() {
        started.first_execution_run_id.clone()
    } else {
        started.original_execution_run_id.clone()
    };
    let mut m = WorkflowMachine::build(registry, &started.workflow_id, &run_id, first, false)?;
    for (k, e) in history.events.iter().enumerate() {
        if e.event_id != k as EventId + 1 {
            return Err(WorkflowTaskError::BadHistory(format!(
                "event at position {} has id {}",
                k + 1,
                e.event_id
            )));
        }
    }
    m.process(&history.events[1..])?;
    if m.window.is_some() {
        m.close_window(m.last_event_id + 1, None)?;
    }
    Ok(m)
}

fn replay_inner(
    registry: &Registry,
    history: &History,
) -> Result<ReplayOutcome, WorkflowTaskError> {
    let m = replayed_machine(registry, history)?;
    let Some(close) = history.close_event() else {
        return Ok(ReplayOutcome::Open);
    };
    let close_type = close.event_type();
    let result = match (&close.attributes, m.outcome) {
        (_, Some(CodeOutcome::Completed(r))) => Ok(r),
        (_, Some(CodeOutcome::Failed(f))) => Err(*f),
        (_, Some(CodeOutcome::Cancelled)) => Err(Failure::canceled("workflow cancelled")),
        (_, Some(CodeOutcome::ContinuedAsNew)) => Ok(None),
        (EventAttributes::WorkflowExecutionTerminated(t), None) => {
            let mut f = Failure::application(t.reason.clone(), "Terminated", true);
            f.info = crate::history::FailureInfo::Terminated;
            Err(f)
        }
        (_, None) => Err(Failure::timeout(
            crate::history::TimeoutType::StartToClose,
            format!("workflow closed by {close_type}"),
        )),
    };
    Ok(ReplayOutcome::Closed {
        result,
        close: close_type,
    })
}
