//! Workflow code from another SDK: the seam a foreign workflow runtime plugs into.
//!
//! A worker needs three things from a run's workflow code: the id of the last history event it
//! has seen, a way to feed it new events and get the current task's commands back (with
//! completed tasks replayed and checked), and whole-history replay for the determinism checker.
//! This crate's SDK provides them with [`WorkflowMachine`](super::WorkflowMachine); a runtime
//! that hosts workflows written against another SDK (Temporal's official Rust SDK, in the
//! `sim-official` crate) implements [`WorkflowRuntime`] and is registered with
//! [`Registry::register_runtime`](super::Registry::register_runtime).

use super::machine::{ReplayOutcome, WorkflowTaskError};
use crate::history::{Command, EventId, History, HistoryEvent};

/// One run's workflow code as a worker caches it (sticky execution). Not `Send`: it lives on
/// its worker's node.
pub trait WorkflowExecutor {
    /// The id of the last history event this executor has seen.
    fn last_event_id(&self) -> EventId;

    /// Feeds history events not seen yet (already-seen ids are skipped), ending with the
    /// WorkflowTaskStarted of the task to run now. Completed tasks in the batch are replayed and
    /// their commands checked against history (a mismatch is
    /// [`WorkflowTaskError::NonDeterminism`]); the current task's commands are returned. After an
    /// error the executor is dropped and the run replayed in a fresh one.
    fn activate(&mut self, events: &[HistoryEvent]) -> Result<Vec<Command>, WorkflowTaskError>;

    /// What the SDK records about itself in the WorkflowTaskCompleted of the task just run
    /// (Temporal's `sdkMetadata`: core's internal flags, SDK name and version). `None` (the
    /// default): nothing, as for this crate's SDK.
    fn task_metadata(&mut self) -> Option<crate::history::JsonMap> {
        None
    }
}

/// A runtime for workflow types written against another SDK.
pub trait WorkflowRuntime: Send + Sync {
    /// Who runs the code, for messages (`temporalio-sdk 1.1.1`).
    fn name(&self) -> String;

    /// The workflow types it runs, sorted.
    fn workflow_types(&self) -> Vec<String>;

    /// An executor for the run that `started` (its WorkflowExecutionStarted event) began.
    fn start(
        &self,
        workflow_id: &str,
        run_id: &str,
        started: &HistoryEvent,
    ) -> Result<Box<dyn WorkflowExecutor>, WorkflowTaskError>;

    /// Replays a whole history of one of its workflow types.
    fn replay(&self, history: &History) -> ReplayOutcome;
}
