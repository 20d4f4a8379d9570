//! `dispatch`: one activity attempt, and one workflow task, is with at most one worker at a time.
//!
//! What it proves, from the tasks workers received (`outcome.observed_attempts` and
//! `outcome.observed_workflow_tasks`, recorded where the tasks arrived):
//! - no activity attempt (a run, an activity, an attempt number) was received by a second
//!   worker, or a second time, while its first delivery was still running. A server that hands
//!   one task to two pollers makes every activity body run twice; a service that deduplicates
//!   by idempotency key hides that from `exactly-once`, not from this checker;
//! - no workflow task (a run, its scheduled and started event ids, its attempt) was received
//!   again before the worker that had it first was done with it (its completion answered).
//!   The second worker's completion would be refused or, worse, applied twice.
//!
//! What it reads: `outcome.observed_attempts`, `outcome.observed_workflow_tasks`,
//! `outcome.node_kills` (server restarts, as the harness carried them out).
//!
//! Known limits: a delivery whose worker was killed has no end, so a later delivery of the same
//! attempt is not called overlapping (the engine may legitimately hand out a task whose first
//! delivery never reached a worker). A workflow task that carried update requests may have
//! been speculative (a server drops such a task when it rejects every update and reuses its
//! ids), and a server restart forgets speculative tasks: neither is held against a later
//! delivery with the same ids.

use std::collections::BTreeMap;

use super::exactly_once::vtime;
use super::{verdict, Invariant, Outcome, Violation};
use crate::clock::BASE_NANOS;
use crate::history::{EventId, ExecKey, Timestamp};
use crate::record::{ObservedAttempt, ObservedWorkflowTask};

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
        workflow_tasks(outcome, &mut problems);
        verdict(self.name(), problems)
    }
}

/// Workflow tasks received again while their first holder was not done with them.
fn workflow_tasks(outcome: &Outcome, problems: &mut Vec<String>) {
    type Key<'a> = (&'a ExecKey, EventId, EventId, i32);
    let mut by_task: BTreeMap<Key<'_>, Vec<&ObservedWorkflowTask>> = BTreeMap::new();
    for t in &outcome.observed_workflow_tasks {
        by_task
            .entry((&t.exec, t.scheduled_event_id, t.started_event_id, t.attempt))
            .or_default()
            .push(t);
    }
    let server_kills: Vec<i64> = outcome
        .node_kills
        .iter()
        .filter(|(_, node)| node == "server")
        .map(|(at, _)| Timestamp::from_nanos(BASE_NANOS).plus(*at).as_nanos())
        .collect();
    for ((exec, scheduled, started, attempt), deliveries) in by_task {
        for (i, first) in deliveries.iter().enumerate() {
            let Some(done) = first.done else {
                continue;
            };
            if first.carried_requests {
                continue;
            }
            let overlapping = deliveries[i + 1..].iter().find(|b| {
                b.received < done
                    && !server_kills
                        .iter()
                        .any(|k| (first.received.as_nanos()..=b.received.as_nanos()).contains(k))
            });
            if let Some(second) = overlapping {
                problems.push(format!(
                    "{exec}: workflow task {scheduled}/{started} (attempt {attempt}) was delivered \
                     to {} at {} and again to {} at {}, before the first was done with it (at {})",
                    first.worker,
                    vtime(first.received),
                    second.worker,
                    vtime(second.received),
                    vtime(done)
                ));
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::*;
    use crate::record::AttemptEnd;
    use std::time::Duration;

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

    fn wft(worker: &str, received: i64, done: Option<i64>) -> ObservedWorkflowTask {
        ObservedWorkflowTask {
            exec: key(WF, RUN),
            scheduled_event_id: 2,
            started_event_id: 3,
            attempt: 1,
            worker: worker.into(),
            received: ts(received),
            done: done.map(ts),
            carried_requests: false,
        }
    }

    #[test]
    fn a_workflow_task_delivered_again_before_its_first_holder_was_done_is_named() {
        let mut o = outcome();
        o.observed_workflow_tasks = vec![wft("worker-1@1", 1000, Some(1040))];
        assert_eq!(SingleDispatch.check(&o), Ok(()));
        o.observed_workflow_tasks
            .push(wft("worker-2@1", 1010, Some(1060)));
        let v = SingleDispatch.check(&o).unwrap_err();
        assert!(
            v.message.contains(
                "workflow task 2/3 (attempt 1) was delivered to worker-1@1 at 1.000s and again to worker-2@1 at 1.010s"
            ),
            "{v}"
        );
        // After it was done, or after its holder died, a delivery with its ids is not held
        // against it; nor when it carried update requests, or the server restarted between.
        o.observed_workflow_tasks[1].received = ts(1050);
        assert_eq!(SingleDispatch.check(&o), Ok(()));
        o.observed_workflow_tasks[1].received = ts(1010);
        o.observed_workflow_tasks[0].done = None;
        assert_eq!(SingleDispatch.check(&o), Ok(()));
        o.observed_workflow_tasks[0].done = Some(ts(1040));
        o.observed_workflow_tasks[0].carried_requests = true;
        assert_eq!(SingleDispatch.check(&o), Ok(()));
        o.observed_workflow_tasks[0].carried_requests = false;
        o.node_kills = vec![(Duration::from_millis(1005), "worker-1".into())];
        assert!(
            SingleDispatch.check(&o).is_err(),
            "a worker's restart is no server's"
        );
        o.node_kills = vec![(Duration::from_millis(1005), "server".into())];
        assert_eq!(SingleDispatch.check(&o), Ok(()));
        // Another attempt or task is another task.
        o.node_kills.clear();
        o.observed_workflow_tasks[1].attempt = 2;
        assert_eq!(SingleDispatch.check(&o), Ok(()));
    }
}
