//! `incompatible-replay`: the replayer tells a known-incompatible version of a workflow apart.
//!
//! What it proves: every closed history of `workflow_type` that reached the point where the
//! incompatible version differs (it holds an event of type `reaches`) fails to replay against
//! that version with a non-determinism error. Of the histories of one run with the same
//! sequence of event types, one is replayed: they take the replayer through the same matching
//! steps (ten transfers without faults are one shape), and the others would only repeat it. [`ReplayDeterminism`](super::ReplayDeterminism)
//! replays a history against the code that wrote it, so a replayer that matches too little
//! (commands by id only, ignoring the activity type) passes it; a changed version that must be
//! refused shows such a matching bug, as a deploy of that version would have.
//!
//! What it reads: `outcome.histories`, and the incompatible version it was given.
//!
//! Known limits: it speaks only of the difference the given version makes (for MoneyTransfer's
//! deposit-first version: the first activity's type).

use std::collections::BTreeSet;

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
        let mut shapes: BTreeSet<Vec<EventType>> = BTreeSet::new();
        for (exec, h) in &outcome.histories {
            if h.workflow_type() != Some(self.workflow_type.as_str())
                || h.close_event().is_none()
                || !h.events.iter().any(|e| e.event_type() == self.reaches)
                || !shapes.insert(h.events.iter().map(|e| e.event_type()).collect())
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::super::testkit::*;
    use super::*;
    use crate::history::{EventAttributes, WorkflowExecutionSignaled};

    /// A `Transfer` history with a signal between the withdrawal and the deposit: another shape.
    fn signalled_transfer(wf: &str) -> crate::history::History {
        transfer_history_with(wf, "run-1", |h| {
            h.push(EventAttributes::WorkflowExecutionSignaled(Arc::new(
                WorkflowExecutionSignaled {
                    signal_name: "note".into(),
                    ..Default::default()
                },
            )));
        })
    }

    #[test]
    fn one_history_of_each_shape_is_replayed() {
        let mut o = outcome();
        o.histories
            .insert(key("wf-2", "run-1"), transfer_history("wf-2", "run-1"));
        o.histories
            .insert(key("wf-3", "run-1"), signalled_transfer("wf-3"));
        // The code that wrote them is no incompatible version: every history replayed is a
        // problem, so the problems name the histories replayed.
        let same =
            IncompatibleReplay::new("Transfer", EventType::ActivityTaskScheduled, registry());
        let v = same.check(&o).unwrap_err();
        assert!(v.message.contains("wf-3/run-1"), "{v}");
        let plain = ["wf-1/", "wf-2/"]
            .iter()
            .filter(|k| v.message.contains(*k))
            .count();
        assert_eq!(plain, 1, "one of the two same-shaped histories: {v}");
        assert!(!v.message.contains("more"), "{v}");
        // Against the deposit-first version, both shapes are refused.
        let refused = IncompatibleReplay::new(
            "Transfer",
            EventType::ActivityTaskScheduled,
            registry_deposit_first(),
        );
        assert_eq!(refused.check(&o), Ok(()));
    }
}
