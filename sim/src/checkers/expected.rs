//! `expected-outcome`: every workflow a scenario states an outcome for ended with it.
//!
//! What it proves: for each [`Expectation`] in `outcome.expectations`, the workflow's last run
//! (following continue-as-new) closed with the stated status, with the stated result (compared
//! as JSON) or a failure whose message holds the stated text. "Closed" alone is liveness's
//! verdict: a transfer that times out, an approval that fails because its signal was lost, or a
//! saga that compensates when it should have completed all close, and only this checker sees
//! that the ending is the wrong one.
//!
//! What it reads: `outcome.expectations` (the scenario's statement, not the code under test),
//! `outcome.requested_closes` (a workflow the scenario or its fault plan terminated or
//! canceled may end Terminated or Canceled instead) and `outcome.histories`.
//!
//! Known limits: a run still open is left to liveness; only the first result payload is
//! compared, and only when it is JSON.

use std::collections::BTreeMap;

use super::{verdict, Invariant, Outcome, Violation};
use crate::history::{EventAttributes, EventType, History};
use crate::record::Expectation;
use crate::wire::WorkflowStatus;

/// The `expected-outcome` invariant.
#[derive(Clone, Copy, Debug, Default)]
pub struct ExpectedOutcome;

fn status_of(t: EventType) -> Option<WorkflowStatus> {
    Some(match t {
        EventType::WorkflowExecutionCompleted => WorkflowStatus::Completed,
        EventType::WorkflowExecutionFailed => WorkflowStatus::Failed,
        EventType::WorkflowExecutionCanceled => WorkflowStatus::Canceled,
        EventType::WorkflowExecutionTerminated => WorkflowStatus::Terminated,
        EventType::WorkflowExecutionTimedOut => WorkflowStatus::TimedOut,
        EventType::WorkflowExecutionContinuedAsNew => WorkflowStatus::ContinuedAsNew,
        _ => return None,
    })
}

/// The run of `workflow_id` that ends its continue-as-new chain: the one closed by anything but
/// continue-as-new (the latest started, if several).
fn last_run<'a>(outcome: &'a Outcome, workflow_id: &str) -> Option<&'a History> {
    let mut runs: Vec<&History> = outcome
        .histories
        .iter()
        .filter(|(k, _)| k.workflow_id == workflow_id)
        .map(|(_, h)| h)
        .collect();
    runs.sort_by_key(|h| h.events.first().map(|e| (e.event_time, e.event_id)));
    runs.last().copied()
}

fn check_one(e: &Expectation, outcome: &Outcome) -> Option<String> {
    let h = last_run(outcome, &e.workflow_id)?;
    let close = h.close_event()?;
    let status = status_of(close.event_type())?;
    if status == WorkflowStatus::ContinuedAsNew {
        return None; // its successor is not in the histories: liveness says so
    }
    let wf = &e.workflow_id;
    // Ended from outside because the scenario or its plan asked for it: that ending is right.
    let requested = outcome
        .requested_closes
        .iter()
        .any(|r| r.workflow_id == *wf && r.status == status);
    if status != e.status && requested {
        return None;
    }
    if status != e.status {
        let why = match &close.attributes {
            EventAttributes::WorkflowExecutionFailed(f) => f
                .failure
                .as_ref()
                .map(|f| format!(" ({})", clip(&f.message)))
                .unwrap_or_default(),
            _ => String::new(),
        };
        return Some(format!(
            "workflow {wf} ended {status:?}{why} (event {}), expected {:?}",
            close.event_id, e.status
        ));
    }
    if let (Some(want), EventAttributes::WorkflowExecutionCompleted(c)) =
        (&e.result, &close.attributes)
    {
        let got: Option<serde_json::Value> = c.result.as_ref().and_then(|p| p.decode_first().ok());
        if got.as_ref() != Some(want) {
            return Some(format!(
                "workflow {wf} completed with {}, expected {}",
                got.map(|g| clip(&g.to_string()))
                    .unwrap_or_else(|| "no JSON result".into()),
                clip(&want.to_string())
            ));
        }
    }
    if let (Some(text), EventAttributes::WorkflowExecutionFailed(f)) =
        (&e.failure_contains, &close.attributes)
    {
        let message = f.failure.as_ref().map(|f| f.message.as_str()).unwrap_or("");
        if !message.contains(text.as_str()) {
            return Some(format!(
                "workflow {wf} failed with {:?}, expected a failure mentioning {text:?}",
                clip(message)
            ));
        }
    }
    None
}

fn clip(s: &str) -> String {
    match s.char_indices().nth(200) {
        Some((cut, _)) => format!("{}...", &s[..cut]),
        None => s.to_string(),
    }
}

impl Invariant for ExpectedOutcome {
    fn name(&self) -> &str {
        "expected-outcome"
    }

    fn check(&self, outcome: &Outcome) -> Result<(), Violation> {
        // One statement per workflow (the last one given wins), in workflow id order.
        let by_id: BTreeMap<&str, &Expectation> = outcome
            .expectations
            .iter()
            .map(|e| (e.workflow_id.as_str(), e))
            .collect();
        let problems = by_id
            .values()
            .filter_map(|e| check_one(e, outcome))
            .collect();
        verdict(self.name(), problems)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::*;

    fn expect(status: WorkflowStatus) -> Expectation {
        Expectation::new(WF, status)
    }

    #[test]
    fn the_stated_ending_passes_and_another_is_named() {
        let mut o = outcome();
        o.expectations = vec![expect(WorkflowStatus::Completed)];
        assert_eq!(ExpectedOutcome.check(&o), Ok(()));
        o.expectations = vec![expect(WorkflowStatus::Failed)];
        let v = ExpectedOutcome.check(&o).unwrap_err();
        assert!(
            v.message
                .starts_with("workflow wf-1 ended Completed (event"),
            "{v}"
        );
        assert!(v.message.ends_with("expected Failed"), "{v}");
    }

    #[test]
    fn a_stated_result_is_compared_as_json() {
        let mut o = outcome();
        let h = only(&mut o);
        let result = match &h.events.last().unwrap().attributes {
            EventAttributes::WorkflowExecutionCompleted(c) => c
                .result
                .as_ref()
                .unwrap()
                .decode_first::<serde_json::Value>()
                .unwrap(),
            other => panic!("{other:?}"),
        };
        o.expectations = vec![expect(WorkflowStatus::Completed).with_result(result.clone())];
        assert_eq!(ExpectedOutcome.check(&o), Ok(()));
        o.expectations =
            vec![expect(WorkflowStatus::Completed).with_result(serde_json::json!("other"))];
        let v = ExpectedOutcome.check(&o).unwrap_err();
        assert!(v.message.contains("expected \"other\""), "{v}");
    }

    #[test]
    fn an_open_run_or_no_statement_is_left_alone() {
        let mut o = outcome();
        assert_eq!(ExpectedOutcome.check(&o), Ok(()));
        only(&mut o).events.truncate(11);
        o.expectations = vec![expect(WorkflowStatus::Completed)];
        assert_eq!(ExpectedOutcome.check(&o), Ok(()));
    }
}
