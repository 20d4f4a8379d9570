//! `durability`: acknowledged writes are never lost.
//!
//! What it proves: every event the server acknowledged to a caller (`outcome.acked`: it told a
//! client, worker or service that the write happened) is in the final synced history of its
//! run, with the same event id and event type. A server that replies before its write is synced
//! and then crashes loses the write, and fails this check.
//!
//! What it reads: `outcome.acked` and `outcome.histories`.
//!
//! Known limits: it checks id and type, not the attributes' contents; it only covers events
//! the server recorded as acknowledged (a reply the server sends without recording it is not
//! covered).

use std::collections::BTreeMap;

use super::{verdict, Invariant, Outcome, Violation};
use crate::history::ExecKey;

/// The `durability` invariant.
#[derive(Clone, Copy, Debug, Default)]
pub struct Durability;

const MAX_REPORTED: usize = 10;

impl Invariant for Durability {
    fn name(&self) -> &str {
        "durability"
    }

    fn check(&self, outcome: &Outcome) -> Result<(), Violation> {
        let mut problems = Vec::new();
        // Count lost events per run too, for the summary.
        let mut lost: BTreeMap<&ExecKey, usize> = BTreeMap::new();
        for a in &outcome.acked {
            let problem = match outcome.histories.get(&a.exec) {
                None => Some(format!(
                    "{}: acknowledged event {} {} lost: the run has no history",
                    a.exec, a.event_id, a.event_type
                )),
                Some(h) => {
                    let found = usize::try_from(a.event_id - 1)
                        .ok()
                        .and_then(|i| h.events.get(i))
                        .filter(|e| e.event_id == a.event_id)
                        .or_else(|| h.events.iter().find(|e| e.event_id == a.event_id));
                    match found {
                        None => Some(format!(
                            "{}: acknowledged event {} {} lost: the history ends at event {}",
                            a.exec,
                            a.event_id,
                            a.event_type,
                            h.events.last().map(|e| e.event_id).unwrap_or(0)
                        )),
                        Some(e) if e.event_type() != a.event_type => Some(format!(
                            "{}: acknowledged event {} {} lost: event {} in the history is {}",
                            a.exec,
                            a.event_id,
                            a.event_type,
                            e.event_id,
                            e.event_type()
                        )),
                        Some(_) => None,
                    }
                }
            };
            if let Some(p) = problem {
                *lost.entry(&a.exec).or_default() += 1;
                if problems.len() < MAX_REPORTED {
                    problems.push(p);
                }
            }
        }
        let total: usize = lost.values().sum();
        if total > problems.len() {
            problems.push(format!(
                "{} acknowledged events lost in all ({})",
                total,
                lost.iter()
                    .map(|(k, n)| format!("{k}: {n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        verdict(self.name(), problems)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::*;
    use crate::history::EventType;
    use crate::record::AckedEvent;

    fn check(o: &Outcome) -> Result<(), Violation> {
        Durability.check(o)
    }

    #[test]
    fn passes_when_every_acked_event_is_in_the_history() {
        let o = outcome();
        assert_eq!(o.acked.len(), 17);
        assert_eq!(check(&o), Ok(()));
    }

    #[test]
    fn lost_acked_event_is_a_violation() {
        let mut o = outcome();
        only(&mut o).events.truncate(15);
        let v = check(&o).unwrap_err();
        assert_eq!(
            v.to_string(),
            "durability: wf-1/run-1: acknowledged event 16 WorkflowTaskCompleted lost: the \
             history ends at event 15; wf-1/run-1: acknowledged event 17 \
             WorkflowExecutionCompleted lost: the history ends at event 15"
        );
    }

    #[test]
    fn acked_event_replaced_by_another_type_is_a_violation() {
        let mut o = outcome();
        o.acked[16].event_type = EventType::WorkflowExecutionFailed;
        let v = check(&o).unwrap_err();
        assert_eq!(
            v.message,
            "wf-1/run-1: acknowledged event 17 WorkflowExecutionFailed lost: event 17 in the \
             history is WorkflowExecutionCompleted"
        );
    }

    #[test]
    fn acked_event_of_a_missing_run_is_a_violation_and_many_are_summarised() {
        let mut o = outcome();
        for id in 1..=12 {
            o.acked.push(AckedEvent {
                exec: key(WF, "run-lost"),
                event_id: id,
                event_type: EventType::WorkflowTaskScheduled,
            });
        }
        let v = check(&o).unwrap_err();
        assert!(
            v.message.starts_with(
                "wf-1/run-lost: acknowledged event 1 WorkflowTaskScheduled lost: the run has no \
                 history"
            ),
            "{v}"
        );
        assert!(
            v.message
                .ends_with("; 12 acknowledged events lost in all (wf-1/run-lost: 12)"),
            "{v}"
        );
    }
}
