//! `incompatible-replay`: the replayer tells a known-incompatible version of a workflow apart.
//!
//! What it proves: every closed history of `workflow_type` that reached the point where the
//! incompatible version differs (it holds an event of type `reaches`) fails to replay against
//! that version with a non-determinism error. [`ReplayDeterminism`](super::ReplayDeterminism)
//! replays a history against the code that wrote it, so a replayer that matches too little
//! (commands by id only, ignoring the activity type) passes it; a changed version that must be
//! refused shows such a matching bug, as a deploy of that version would have.
//!
//! What it reads: `outcome.histories`, and the incompatible version it was given.
//!
//! Known limits: it speaks only of the difference the given version makes (for MoneyTransfer's
//! deposit-first version: the first activity's type).

use super::{verdict_capped, Invariant, Outcome, Violation};
use crate::history::EventType;
use crate::sdk::{replay, Registry, ReplayOutcome, WorkflowTaskError};

/// The `incompatible-replay` invariant.
#[derive(Clone, Debug)]
pub struct IncompatibleReplay {
    workflow_type: String,
    reaches: EventType,
    registry: Registry,
}

impl IncompatibleReplay {
    /// Histories of `workflow_type` holding a `reaches` event must fail replay against
    /// `registry`, where `workflow_type` is registered as an incompatible version.
    pub fn new(workflow_type: impl Into<String>, reaches: EventType, registry: Registry) -> Self {
        IncompatibleReplay {
            workflow_type: workflow_type.into(),
            reaches,
            registry,
        }
    }
}

impl Invariant for IncompatibleReplay {
    fn name(&self) -> &str {
        "incompatible-replay"
    }

    fn check(&self, outcome: &Outcome) -> Result<(), Violation> {
        let mut problems = Vec::new();
        for (exec, h) in &outcome.histories {
            if h.workflow_type() != Some(self.workflow_type.as_str())
                || h.close_event().is_none()
                || !h.events.iter().any(|e| e.event_type() == self.reaches)
            {
                continue;
            }
            match replay(&self.registry, h) {
                ReplayOutcome::Failed(WorkflowTaskError::NonDeterminism(_)) => {}
                ReplayOutcome::Failed(e) => problems.push(format!(
                    "{exec} ({}): replay against the incompatible version failed, but not with \
                     a non-determinism error: {e}",
                    self.workflow_type
                )),
                ReplayOutcome::Open | ReplayOutcome::Closed { .. } => problems.push(format!(
                    "{exec} ({}) replays against a known-incompatible version without a \
                     non-determinism error: the replayer does not compare what it should",
                    self.workflow_type
                )),
            }
        }
        verdict_capped(self.name(), problems, 2)
    }
}
