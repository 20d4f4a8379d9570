//! `dispatch`: one activity attempt runs on at most one worker at a time.
//!
//! What it proves, from the attempts workers received (`outcome.observed_attempts`, recorded
//! where the tasks arrived): no attempt (a run, an activity, an attempt number) was received by
//! a second worker, or a second time, while its first delivery was still running. A server that
//! hands one task to two pollers makes every activity body run twice; a service that
//! deduplicates by idempotency key hides that from `exactly-once`, not from this checker.
//!
//! What it reads: `outcome.observed_attempts`.
//!
//! Known limits: a delivery whose worker was killed has no end, so a later delivery of the same
//! attempt is not called overlapping (the engine may legitimately hand out a task whose first
//! delivery never reached a worker); workflow tasks are not observed yet.

use std::collections::BTreeMap;

use super::exactly_once::vtime;
use super::{verdict, Invariant, Outcome, Violation};
use crate::history::{EventId, ExecKey};
use crate::record::ObservedAttempt;

/// The `dispatch` invariant.
#[derive(Clone, Copy, Debug, Default)]
pub struct SingleDispatch;

impl Invariant for SingleDispatch {
    fn name(&self) -> &str {
        "dispatch"
    }

    fn check(&self, outcome: &Outcome) -> Result<(), Violation> {
        let mut by_attempt: BTreeMap<(&ExecKey, EventId, i32), Vec<&ObservedAttempt>> =
            BTreeMap::new();
        for a in &outcome.observed_attempts {
            by_attempt
                .entry((&a.exec, a.scheduled_event_id, a.attempt))
                .or_default()
                .push(a);
        }
        let mut problems = Vec::new();
        for ((exec, _, attempt), deliveries) in by_attempt {
            for (i, first) in deliveries.iter().enumerate() {
                let Some((ended, _)) = &first.end else {
                    continue;
                };
                if let Some(second) = deliveries[i + 1..].iter().find(|b| b.received < *ended) {
                    problems.push(format!(
                        "{exec}: attempt {attempt} of activity {} ({}) was delivered to {} at {} \
                         and again to {} at {}, while the first was still running (until {})",
                        first.activity_id,
                        first.activity_type,
                        first.worker,
                        vtime(first.received),
                        second.worker,
                        vtime(second.received),
                        vtime(*ended)
                    ));
                    break;
                }
            }
        }
        verdict(self.name(), problems)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::*;
    use crate::record::AttemptEnd;

    fn delivery(worker: &str, received: i64, ended: Option<i64>) -> ObservedAttempt {
        ObservedAttempt {
            exec: key(WF, RUN),
            scheduled_event_id: 5,
            activity_id: "1".into(),
            activity_type: "withdraw".into(),
            attempt: 1,
            worker: worker.into(),
            received: ts(received),
            end: ended.map(|t| (ts(t), AttemptEnd::Completed)),
            acknowledged: true,
        }
    }

    #[test]
    fn a_second_delivery_while_the_first_runs_is_named() {
        let mut o = outcome();
        o.observed_attempts = vec![delivery("worker-1@1", 1000, Some(1500))];
        assert_eq!(SingleDispatch.check(&o), Ok(()));
        o.observed_attempts
            .push(delivery("worker-2@1", 1200, Some(1600)));
        let v = SingleDispatch.check(&o).unwrap_err();
        assert!(
            v.message
                .contains("attempt 1 of activity 1 (withdraw) was delivered to worker-1@1")
                && v.message.contains("and again to worker-2@1"),
            "{v}"
        );
    }

    #[test]
    fn a_redelivery_after_the_first_ended_or_died_is_not_overlapping() {
        let mut o = outcome();
        o.observed_attempts = vec![
            delivery("worker-1@1", 1000, Some(1500)),
            delivery("worker-2@1", 1600, Some(1700)),
        ];
        assert_eq!(SingleDispatch.check(&o), Ok(()));
        o.observed_attempts = vec![
            delivery("worker-1@1", 1000, None),
            delivery("worker-2@1", 1200, Some(1700)),
        ];
        assert_eq!(SingleDispatch.check(&o), Ok(()));
    }
}
