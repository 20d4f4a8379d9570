//! `retry-policy`: activity retries follow the policy the workflow scheduled them with.
//!
//! What it proves, from the attempts workers received (`outcome.observed_attempts`, recorded by
//! the workers where the tasks arrived, with whether the server acknowledged each result) and
//! each activity's ActivityTaskScheduled event:
//! - no attempt beyond the policy's `maximum_attempts` ran;
//! - no attempt ran after an attempt's acknowledged failure was non-retryable (the failure says
//!   so, or its type is in the policy's `non_retryable_error_types`);
//! - each retry after an acknowledged failure arrived no earlier than the policy's backoff
//!   (`initial_interval * backoff_coefficient^(n-1)`, capped at `maximum_interval`, computed
//!   here, not by the code under test) after the failure was sent;
//! - when no fault was applied before it was due (in a run without faults, or before the run's
//!   first fault), it arrived no later than that backoff plus one second (the schedule is the
//!   policy's, not just "at least");
//! - an activity that timed out start-to-close did so no earlier than its timeout after its
//!   last attempt started.
//!
//! Known limits: a retry after a timeout (no failure reported) is checked for its count only;
//! local activities (retried inside the worker) are not observed here.

use std::collections::BTreeMap;
use std::time::Duration;

use super::exactly_once::vtime;
use super::{verdict, Invariant, Outcome, Violation};
use crate::clock::BASE_NANOS;
use crate::history::{EventAttributes, EventId, ExecKey, RetryPolicy, TimeoutType, Timestamp};
use crate::record::{AttemptEnd, ObservedAttempt};

/// The `retry-policy` invariant.
#[derive(Clone, Copy, Debug, Default)]
pub struct RetryPolicyHeld;

/// How late a retry may arrive in a fault-free run (network latency and polling).
const SCHEDULE_SLACK: Duration = Duration::from_secs(1);

/// The delay before attempt `n + 1`, as Temporal's documentation defines it.
fn backoff(policy: &RetryPolicy, n: i32) -> Duration {
    let initial = policy
        .initial_interval
        .filter(|d| !d.is_zero())
        .unwrap_or(Duration::from_secs(1));
    let coefficient = policy
        .backoff_coefficient
        .filter(|c| *c >= 1.0)
        .unwrap_or(2.0);
    let max = policy
        .maximum_interval
        .filter(|d| !d.is_zero())
        .unwrap_or(initial * 100);
    let exp = n.saturating_sub(1).clamp(0, 1000);
    let secs = initial.as_secs_f64() * coefficient.powi(exp);
    if !secs.is_finite() || secs >= max.as_secs_f64() {
        max
    } else {
        Duration::from_secs_f64(secs)
    }
}

struct Scheduled<'a> {
    activity_type: &'a str,
    policy: RetryPolicy,
}

fn since(later: Timestamp, earlier: Timestamp) -> String {
    let d = later.as_nanos() - earlier.as_nanos();
    format!("{:.3}s", d as f64 / 1e9)
}

impl Invariant for RetryPolicyHeld {
    fn name(&self) -> &str {
        "retry-policy"
    }

    fn check(&self, outcome: &Outcome) -> Result<(), Violation> {
        let mut problems = Vec::new();
        let mut scheduled: BTreeMap<(&ExecKey, EventId), Scheduled<'_>> = BTreeMap::new();
        for (key, h) in &outcome.histories {
            let mut started: BTreeMap<EventId, Timestamp> = BTreeMap::new();
            for e in &h.events {
                match &e.attributes {
                    EventAttributes::ActivityTaskScheduled(s) => {
                        scheduled.insert(
                            (key, e.event_id),
                            Scheduled {
                                activity_type: &s.activity_type,
                                policy: s.retry_policy.clone().unwrap_or_default(),
                            },
                        );
                    }
                    EventAttributes::ActivityTaskStarted(s) => {
                        started.insert(s.scheduled_event_id, e.event_time);
                    }
                    EventAttributes::ActivityTaskTimedOut(t) => {
                        let limit = h.events.iter().find_map(|s| match &s.attributes {
                            EventAttributes::ActivityTaskScheduled(a)
                                if s.event_id == t.scheduled_event_id =>
                            {
                                a.start_to_close_timeout
                            }
                            _ => None,
                        });
                        let kind = t.failure.as_ref().and_then(|f| match &f.info {
                            crate::history::FailureInfo::Timeout { timeout_type, .. } => {
                                Some(*timeout_type)
                            }
                            _ => None,
                        });
                        if let (Some(TimeoutType::StartToClose), Some(limit), Some(begun)) =
                            (kind, limit, started.get(&t.scheduled_event_id))
                        {
                            if e.event_time.as_nanos() + 1_000_000 < begun.plus(limit).as_nanos() {
                                problems.push(format!(
                                    "{key}: activity scheduled at event {} timed out start-to-close \
                                     {} after its attempt started (event {}), before its timeout {:.3}s",
                                    t.scheduled_event_id,
                                    since(e.event_time, *begun),
                                    e.event_id,
                                    limit.as_secs_f64()
                                ));
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        let mut by_activity: BTreeMap<(&ExecKey, EventId), Vec<&ObservedAttempt>> = BTreeMap::new();
        for a in &outcome.observed_attempts {
            by_activity
                .entry((&a.exec, a.scheduled_event_id))
                .or_default()
                .push(a);
        }
        // The first fault's virtual time: a retry due before it was scheduled in a run that no
        // fault had touched yet, so it must keep to the schedule (later faults cannot delay it).
        let first_fault = outcome
            .applied_faults
            .iter()
            .map(|(at, _)| Timestamp::from_nanos(BASE_NANOS).plus(*at))
            .min();
        for ((exec, sid), mut attempts) in by_activity {
            let Some(s) = scheduled.get(&(exec, sid)) else {
                continue; // its scheduling was never synced: durability's concern
            };
            attempts.sort_by_key(|a| (a.attempt, a.received));
            let who = |a: &ObservedAttempt| {
                format!("{exec}: activity {} ({})", a.activity_id, s.activity_type)
            };
            let max = s.policy.maximum_attempts;
            if let Some(a) = attempts.iter().find(|a| max > 0 && a.attempt > max) {
                problems.push(format!(
                    "{} ran attempt {} on {} at {}, but its retry policy allows {max} attempt(s)",
                    who(a),
                    a.attempt,
                    a.worker,
                    vtime(a.received)
                ));
            }
            for a in &attempts {
                let Some((
                    failed_at,
                    AttemptEnd::Failed {
                        error_type,
                        non_retryable,
                    },
                )) = &a.end
                else {
                    continue;
                };
                let Some(next) = attempts.iter().find(|b| b.attempt == a.attempt + 1) else {
                    continue;
                };
                if !a.acknowledged {
                    // The failure may never have reached the server, which then timed the
                    // attempt out: the retry follows the timeout, not this failure.
                    continue;
                }
                let listed = s.policy.non_retryable_error_types.contains(error_type);
                if *non_retryable || listed {
                    problems.push(format!(
                        "{} ran attempt {} at {} after attempt {} failed with a non-retryable \
                         {error_type:?} failure{}",
                        who(next),
                        next.attempt,
                        vtime(next.received),
                        a.attempt,
                        if listed {
                            " (listed in the policy's non_retryable_error_types)"
                        } else {
                            ""
                        }
                    ));
                    continue;
                }
                let wait = backoff(&s.policy, a.attempt);
                let earliest = failed_at.plus(wait);
                if next.received.as_nanos() + 1_000_000 < earliest.as_nanos() {
                    problems.push(format!(
                        "{} attempt {} arrived {} after attempt {} failed, before the policy's \
                         backoff of {:.3}s",
                        who(next),
                        next.attempt,
                        since(next.received, *failed_at),
                        a.attempt,
                        wait.as_secs_f64()
                    ));
                } else if next.received > earliest.plus(SCHEDULE_SLACK)
                    && first_fault.is_none_or(|f| f > earliest.plus(SCHEDULE_SLACK))
                {
                    problems.push(format!(
                        "{} attempt {} arrived {} after attempt {} failed, with no fault applied \
                         before it was due, where the policy's backoff is {:.3}s",
                        who(next),
                        next.attempt,
                        since(next.received, *failed_at),
                        a.attempt,
                        wait.as_secs_f64()
                    ));
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

    #[test]
    fn backoff_follows_temporals_definition() {
        let p = RetryPolicy::default();
        assert_eq!(backoff(&p, 1), Duration::from_secs(1));
        assert_eq!(backoff(&p, 2), Duration::from_secs(2));
        assert_eq!(backoff(&p, 3), Duration::from_secs(4));
        assert_eq!(backoff(&p, 20), Duration::from_secs(100)); // capped at 100 x initial
        let p = RetryPolicy {
            initial_interval: Some(Duration::from_millis(500)),
            backoff_coefficient: Some(3.0),
            maximum_interval: Some(Duration::from_secs(5)),
            ..RetryPolicy::default()
        };
        assert_eq!(backoff(&p, 1), Duration::from_millis(500));
        assert_eq!(backoff(&p, 2), Duration::from_millis(1500));
        assert_eq!(
            backoff(&p, 3),
            Duration::from_secs(4) + Duration::from_millis(500)
        );
        assert_eq!(backoff(&p, 4), Duration::from_secs(5));
        assert_eq!(backoff(&p, i32::MAX), Duration::from_secs(5));
    }

    fn attempt(n: i32, received: i64, failed_at: Option<i64>) -> ObservedAttempt {
        ObservedAttempt {
            exec: key(WF, RUN),
            scheduled_event_id: 5,
            activity_id: "1".into(),
            activity_type: "withdraw".into(),
            attempt: n,
            worker: "worker-1@1".into(),
            received: ts(received),
            end: failed_at.map(|t| {
                (
                    ts(t),
                    AttemptEnd::Failed {
                        error_type: "Flaky".into(),
                        non_retryable: false,
                    },
                )
            }),
            acknowledged: true,
        }
    }

    #[test]
    fn a_late_retry_is_named_unless_a_fault_came_before_it_was_due() {
        let mut o = outcome();
        let h = only(&mut o);
        let e = h
            .events
            .iter()
            .find(|e| matches!(e.attributes, EventAttributes::ActivityTaskScheduled(_)))
            .expect("the transfer schedules an activity");
        assert_eq!(e.event_id, 5, "the test's attempts name event 5");
        // Attempt 1 fails at 1.0 s; the default policy's first backoff is 1 s, so attempt 2 is
        // due by 3.0 s (backoff plus a second of slack). It arrives at 4.5 s.
        o.observed_attempts = vec![attempt(1, 900, Some(1000)), attempt(2, 4500, None)];
        let v = RetryPolicyHeld.check(&o).unwrap_err();
        assert!(
            v.message
                .contains("attempt 2 arrived 3.500s after attempt 1 failed, with no fault applied before it was due"),
            "{v}"
        );
        // A fault after it was due cannot excuse it; one before can.
        o.applied_faults = vec![(Duration::from_millis(3500), "kill server".into())];
        assert!(RetryPolicyHeld.check(&o).is_err());
        o.applied_faults = vec![(Duration::from_millis(2500), "kill server".into())];
        assert_eq!(RetryPolicyHeld.check(&o), Ok(()));
        // On time: fine either way.
        o.applied_faults.clear();
        o.observed_attempts[1].received = ts(2100);
        assert_eq!(RetryPolicyHeld.check(&o), Ok(()));
    }
}
