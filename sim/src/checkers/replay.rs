//! `replay`: every closed history replays against the scenario's workflow code.
//!
//! What it proves: for each closed run, `sim::sdk::replay(&registry, history)`
//! re-executes the workflow code beside its history without a workflow-task error
//! (non-determinism, panic, bad input, unknown workflow type, bad history), and a run that
//! completed replays to the same result the history recorded. It also fails when any history
//! (open or closed) contains a WorkflowTaskFailed with cause NonDeterministicError: the live run
//! hit non-determinism (a worker's cached execution and its replay disagreed, or the code read
//! something outside the history).
//!
//! What it reads: `outcome.histories`, and the workflow code it was given (a [`Registry`]).
//!
//! Known limits: a replay covers the code paths the history took; a non-deterministic branch
//! not taken in this run is invisible (the workflowcheck linter looks for those statically).
//! Open runs are not replayed (their last workflow task may legitimately be in flight);
//! liveness reports them.

use super::{verdict_capped, Invariant, Outcome, Violation};
use crate::history::{EventAttributes, WorkflowTaskFailedCause};
use crate::sdk::{replay, Registry, ReplayOutcome, WorkflowTaskError};

/// The `replay` invariant: replays each closed history against the workflow code it holds.
#[derive(Clone, Debug)]
pub struct ReplayDeterminism {
    registry: Registry,
}

impl ReplayDeterminism {
    /// Replays against `registry`'s workflows (the code under test, or a changed version of it).
    pub fn new(registry: Registry) -> Self {
        ReplayDeterminism { registry }
    }
}

impl Invariant for ReplayDeterminism {
    fn name(&self) -> &str {
        "replay"
    }

    fn check(&self, outcome: &Outcome) -> Result<(), Violation> {
        let mut problems = Vec::new();
        for (exec, h) in &outcome.histories {
            let ty = h.workflow_type().unwrap_or("?");
            for e in &h.events {
                if let EventAttributes::WorkflowTaskFailed(f) = &e.attributes {
                    if f.cause == WorkflowTaskFailedCause::NonDeterministicError {
                        problems.push(format!(
                            "{exec} ({ty}): event {} WorkflowTaskFailed with cause \
                             NonDeterministicError during the run: {}",
                            e.event_id,
                            f.failure
                                .as_ref()
                                .map(|f| f.message.as_str())
                                .unwrap_or("(no failure message)")
                        ));
                    }
                }
            }
            let Some(close) = h.close_event() else {
                continue;
            };
            match replay(&self.registry, h) {
                ReplayOutcome::Failed(WorkflowTaskError::NonDeterminism(nd)) => {
                    problems.push(format!(
                        "{exec} ({ty}) does not replay: {nd} (history: {}; code: {})",
                        nd.history, nd.code
                    ));
                }
                ReplayOutcome::Failed(e) => {
                    problems.push(format!("{exec} ({ty}) does not replay: {e}"));
                }
                ReplayOutcome::Open => problems.push(format!(
                    "{exec} ({ty}) closed with {} (event {}) but replays as still open",
                    close.event_type(),
                    close.event_id
                )),
                ReplayOutcome::Closed { result, .. } => {
                    if let EventAttributes::WorkflowExecutionCompleted(c) = &close.attributes {
                        match result {
                            Ok(r) if r == c.result => {}
                            Ok(r) => problems.push(format!(
                                "{exec} ({ty}) completed with {} (event {}) but replays to {}",
                                payload_text(&c.result),
                                close.event_id,
                                payload_text(&r)
                            )),
                            Err(f) => problems.push(format!(
                                "{exec} ({ty}) completed (event {}) but replays to a failure: {}",
                                close.event_id, f.message
                            )),
                        }
                    }
                }
            }
        }
        // Usually every run of a broken workflow fails the same way: show two, count the rest.
        verdict_capped(self.name(), problems, 2)
    }
}

fn payload_text(p: &Option<crate::history::Payloads>) -> String {
    match p {
        None => "no result".to_string(),
        Some(ps) => {
            ps.0.iter()
                .map(|p| String::from_utf8_lossy(&p.data).into_owned())
                .collect::<Vec<_>>()
                .join(", ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::*;
    use crate::history::{Failure, Payloads, WorkflowTaskFailed};

    fn check_with(registry: &Registry, o: &Outcome) -> Result<(), Violation> {
        ReplayDeterminism::new(registry.clone()).check(o)
    }

    #[test]
    fn passes_on_a_history_of_the_same_code() {
        assert_eq!(check_with(&registry(), &outcome()), Ok(()));
    }

    #[test]
    fn history_replayed_against_a_changed_workflow_fails_with_the_error_text() {
        let v = check_with(&registry_deposit_first(), &outcome()).unwrap_err();
        assert_eq!(v.invariant, "replay");
        assert!(
            v.message.starts_with(
                "wf-1/run-1 (Transfer) does not replay: [TMPRL1100] nondeterminism at event 5: "
            ),
            "{v}"
        );
        assert!(v.message.contains("withdraw"), "{v}");
        assert!(v.message.contains("deposit"), "{v}");
    }

    #[test]
    fn unknown_workflow_type_is_a_violation() {
        let v = check_with(&Registry::new(), &outcome()).unwrap_err();
        assert_eq!(
            v.message,
            "wf-1/run-1 (Transfer) does not replay: workflow type \"Transfer\" is not \
             registered on this worker"
        );
    }

    #[test]
    fn a_different_recorded_result_is_a_violation() {
        let mut o = outcome();
        if let EventAttributes::WorkflowExecutionCompleted(c) =
            &mut only(&mut o).events[16].attributes
        {
            let c = std::sync::Arc::make_mut(c);
            c.result = Some(Payloads::json("W|X").unwrap());
        }
        let v = check_with(&registry(), &o).unwrap_err();
        assert_eq!(
            v.message,
            "wf-1/run-1 (Transfer) completed with \"W|X\" (event 17) but replays to \"W|D\""
        );
    }

    #[test]
    fn open_histories_are_not_replayed_but_live_nondeterminism_is_reported() {
        let mut o = outcome();
        only(&mut o).events.truncate(11);
        assert_eq!(check_with(&registry_deposit_first(), &o), Ok(()));
        let mut hb = Hb {
            events: only(&mut o).events.clone(),
            now_ms: 4000,
        };
        let s = hb.wft_scheduled();
        let t = hb.wft_started(s);
        hb.push(EventAttributes::WorkflowTaskFailed(std::sync::Arc::new(
            WorkflowTaskFailed {
                scheduled_event_id: s,
                started_event_id: t,
                cause: WorkflowTaskFailedCause::NonDeterministicError,
                failure: Some(Failure::application(
                    "[TMPRL1100] nondeterminism at event 5: boom",
                    "NonDeterminismError",
                    false,
                )),
                identity: String::new(),
                extra: Default::default(),
            },
        )));
        *only(&mut o) = hb.build();
        let v = check_with(&registry(), &o).unwrap_err();
        assert_eq!(
            v.message,
            "wf-1/run-1 (Transfer): event 14 WorkflowTaskFailed with cause \
             NonDeterministicError during the run: [TMPRL1100] nondeterminism at event 5: boom"
        );
    }
}
