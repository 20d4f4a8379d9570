//! `exactly-once`: external effects happen once per activity, and only for activities that
//! succeeded.
//!
//! What it proves, per activity lineage (all attempts of one activity id in one run), for each
//! service operation it called:
//! - **no duplicate**: at most one effect was applied (every later call was recognised by its
//!   idempotency key and deduplicated);
//! - **no lost effect**: if the activity completed (ActivityTaskCompleted in its run's history)
//!   and some call to that operation was recorded, one was applied, by this lineage or (for a
//!   business-reference key shared across runs) by another run of the same workflow id. A key
//!   only ever applied by a *different* workflow is a key collision: this activity's effect was
//!   swallowed;
//! - **no effect of a failed activity**: if the activity's final outcome is failed, timed out or
//!   canceled, none of its effects was applied (a transfer whose deposit failed and that refunded
//!   must never have deposited);
//! - **no unexplained effect**: an applied effect names an activity its run's history scheduled.
//!
//! What it reads: `outcome.effects` (the services' ledger, each effect with the calling attempt)
//! and `outcome.histories` (for each activity's final outcome).
//!
//! Local activities count as activities: their lineage is their `core_local_activity` markers
//! (activity id and type from the marker data; the last marker without a backoff is the final
//! outcome: completed without a failure, failed with one). Lineages are keyed by activity id
//! and type, so a local activity and an activity that share an id are told apart by type.
//!
//! Known limits: effects recorded without a caller are ignored (nothing ties them to an
//! activity). An activity still pending when the run ended (open workflow) is only checked for
//! duplicates; liveness reports the open workflow. A lineage is keyed by activity id, so a
//! workflow that reuses an activity id in one run has its schedulings merged (the final
//! outcome is that of the last one). "Lost" can only be seen for operations that left at least
//! one record (applied or deduplicated): a call that never reached the service leaves nothing.

use std::collections::BTreeMap;

use super::{verdict, Invariant, Outcome, Violation};
use crate::clock::BASE_NANOS;
use crate::history::{EventAttributes, EventId, EventType, Timestamp};
use crate::record::Effect;

/// The `exactly-once` invariant.
#[derive(Clone, Copy, Debug, Default)]
pub struct ExactlyOnce;

/// How an activity (its last scheduling in the run) ended.
#[derive(Clone, Debug)]
struct ActivityEnd {
    activity_type: String,
    scheduled: EventId,
    /// The closing event (type and id), or `None` while pending.
    close: Option<(EventType, EventId)>,
}

/// `(workflow_id, run_id, activity_id, activity_type)`.
type ActivityKey = (String, String, String, String);

fn activity_ends(outcome: &Outcome) -> BTreeMap<ActivityKey, ActivityEnd> {
    let mut out = BTreeMap::new();
    for (exec, h) in &outcome.histories {
        let mut by_scheduled: BTreeMap<EventId, (String, String)> = BTreeMap::new();
        for e in &h.events {
            match &e.attributes {
                EventAttributes::MarkerRecorded(m)
                    if m.marker_name == crate::sdk::LOCAL_ACTIVITY_MARKER_NAME =>
                {
                    let Some(d) = crate::sdk::parse_local_activity_marker(&m.details) else {
                        continue;
                    };
                    if d.backoff.is_some() {
                        continue; // not final: the workflow schedules the next attempt
                    }
                    let close = if m.failure.is_some() {
                        EventType::ActivityTaskFailed
                    } else {
                        EventType::ActivityTaskCompleted
                    };
                    out.insert(
                        (
                            exec.workflow_id.clone(),
                            exec.run_id.clone(),
                            d.activity_id,
                            d.activity_type.clone(),
                        ),
                        ActivityEnd {
                            activity_type: d.activity_type,
                            scheduled: e.event_id,
                            close: Some((close, e.event_id)),
                        },
                    );
                }
                EventAttributes::ActivityTaskScheduled(s) => {
                    by_scheduled
                        .insert(e.event_id, (s.activity_id.clone(), s.activity_type.clone()));
                    out.insert(
                        (
                            exec.workflow_id.clone(),
                            exec.run_id.clone(),
                            s.activity_id.clone(),
                            s.activity_type.clone(),
                        ),
                        ActivityEnd {
                            activity_type: s.activity_type.clone(),
                            scheduled: e.event_id,
                            close: None,
                        },
                    );
                }
                EventAttributes::ActivityTaskCompleted(_)
                | EventAttributes::ActivityTaskFailed(_)
                | EventAttributes::ActivityTaskTimedOut(_)
                | EventAttributes::ActivityTaskCanceled(_) => {
                    let sid = e.attributes.activity_scheduled_event_id().unwrap_or(0);
                    let Some((aid, ty)) = by_scheduled.get(&sid) else {
                        continue; // malformed; history-well-formed reports it
                    };
                    let k = (
                        exec.workflow_id.clone(),
                        exec.run_id.clone(),
                        aid.clone(),
                        ty.clone(),
                    );
                    if let Some(end) = out.get_mut(&k) {
                        if end.scheduled == sid {
                            end.close = Some((e.event_type(), e.event_id));
                        }
                    }
                }
                _ => {}
            }
        }
    }
    out
}

/// Virtual time since the run started, as `12.345s`.
pub(crate) fn vtime(t: Timestamp) -> String {
    format!(
        "{:.3}s",
        t.since(Timestamp::from_nanos(BASE_NANOS)).as_secs_f64()
    )
}

fn describe(e: &Effect) -> String {
    let attempt = e.caller.as_ref().map(|c| c.attempt).unwrap_or(0);
    let node = e.caller.as_ref().map(|c| c.node.as_str()).unwrap_or("?");
    format!(
        "key {:?} {} by attempt {attempt} on {node} at {} (ledger #{})",
        e.idempotency_key,
        if e.applied { "applied" } else { "deduplicated" },
        vtime(e.time),
        e.seq
    )
}

impl Invariant for ExactlyOnce {
    fn name(&self) -> &str {
        "exactly-once"
    }

    fn check(&self, outcome: &Outcome) -> Result<(), Violation> {
        let ends = activity_ends(outcome);
        // (activity key, service, operation) -> effects, in ledger order.
        let mut groups: BTreeMap<(ActivityKey, String, String), Vec<&Effect>> = BTreeMap::new();
        for e in &outcome.effects {
            let Some(c) = &e.caller else { continue };
            let key = (
                c.workflow_id.clone(),
                c.run_id.clone(),
                c.activity_id.clone(),
                c.activity_type.clone(),
            );
            groups
                .entry((key, e.service.clone(), e.operation.clone()))
                .or_default()
                .push(e);
        }
        let mut problems = Vec::new();
        unrecorded(outcome, &mut problems);
        undeclared(outcome, &mut problems);
        for ((key, service, op), effects) in &groups {
            let (wf, run, aid, _) = key;
            let end = ends.get(key);
            let ty = end
                .map(|e| e.activity_type.clone())
                .or_else(|| {
                    effects
                        .first()
                        .and_then(|e| e.caller.as_ref())
                        .map(|c| c.activity_type.clone())
                })
                .unwrap_or_default();
            // Written only for a problem (it is not, for nearly every activity of a sweep).
            let who = || format!("workflow {wf} run {run} activity {aid} ({ty})");
            let applied: Vec<&&Effect> = effects.iter().filter(|e| e.applied).collect();
            if applied.len() > 1 {
                problems.push(format!(
                    "{} applied {service}.{op} {} times: {}",
                    who(),
                    applied.len(),
                    applied
                        .iter()
                        .map(|e| describe(e))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            let Some(end) = end else {
                if !applied.is_empty() {
                    problems.push(format!(
                        "{} applied {service}.{op} ({}) but no history schedules that activity",
                        who(),
                        describe(applied[0])
                    ));
                }
                continue;
            };
            match end.close {
                Some((EventType::ActivityTaskCompleted, close_id)) if applied.is_empty() => {
                    // Deduplicated only: fine if the key was applied by another run of the same
                    // workflow (a business-reference key), lost otherwise.
                    let keys: Vec<&str> =
                        effects.iter().map(|e| e.idempotency_key.as_str()).collect();
                    let elsewhere: Vec<&Effect> = outcome
                        .effects
                        .iter()
                        .filter(|o| {
                            o.applied
                                && o.service == *service
                                && o.operation == *op
                                && keys.contains(&o.idempotency_key.as_str())
                        })
                        .collect();
                    let same_workflow = elsewhere.iter().any(|o| {
                        o.caller
                            .as_ref()
                            .is_some_and(|c| c.workflow_id == *wf && c.run_id != *run)
                    });
                    if !same_workflow {
                        let by = match elsewhere.iter().find_map(|o| o.caller.as_ref()) {
                            Some(c) => format!(
                                "; the key was applied for workflow {} run {} activity {} \
                                 (key collision)",
                                c.workflow_id, c.run_id, c.activity_id
                            ),
                            None => "; the key was never applied by anyone".to_string(),
                        };
                        problems.push(format!(
                            "{} completed (event {close_id}) but its {service}.{op} was \
                             never applied (effect lost): {}{by}",
                            who(),
                            effects
                                .iter()
                                .map(|e| describe(e))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ));
                    }
                }
                Some((
                    t @ (EventType::ActivityTaskFailed
                    | EventType::ActivityTaskTimedOut
                    | EventType::ActivityTaskCanceled),
                    close_id,
                )) if !applied.is_empty() => {
                    problems.push(format!(
                        "{} ended {t} (event {close_id}) but its {service}.{op} was applied: {}",
                        who(),
                        applied
                            .iter()
                            .map(|e| describe(e))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
                _ => {}
            }
        }
        verdict(self.name(), problems)
    }
}

/// Successful calls of effect operations that left no ledger entry: the service model broke
/// the ledger's contract, and no effect of those calls can be checked. One problem per
/// (service, operation), with the count and the first call.
fn unrecorded(outcome: &Outcome, problems: &mut Vec<String>) {
    let mut by_op: BTreeMap<(&str, &str), Vec<&crate::record::UnrecordedCall>> = BTreeMap::new();
    for c in &outcome.unrecorded_effects {
        by_op
            .entry((c.service.as_str(), c.operation.as_str()))
            .or_default()
            .push(c);
    }
    for ((service, op), calls) in by_op {
        let first = calls[0];
        let by = first
            .caller
            .as_ref()
            .map(|c| {
                format!(
                    " by workflow {} run {} activity {} attempt {} on {}",
                    c.workflow_id, c.run_id, c.activity_id, c.attempt, c.node
                )
            })
            .unwrap_or_default();
        problems.push(format!(
            "{service} answered {} call(s) of its effect operation {op:?} without recording an \
             effect in the ledger (first at {}{by}): a ServiceLogic must call \
             ctx.ledger.record for every call of an operation it lists in effect_operations, \
             or exactly-once cannot see those effects",
            calls.len(),
            vtime(first.time)
        ));
    }
}

/// Services whose declarations leave exactly-once blind: one with no effect operations that
/// answered calls without declaring itself effect-free (its effects, if any, are invisible),
/// and ledger entries for an operation the service does not list (a misspelt declaration:
/// the unrecorded-call check and effect fault triggers miss that operation).
fn undeclared(outcome: &Outcome, problems: &mut Vec<String>) {
    for u in &outcome.service_use {
        let answered: u64 = u.calls.values().sum();
        if u.effect_operations.is_empty() && !u.effect_free && answered > 0 {
            let ops = u
                .calls
                .iter()
                .map(|(op, n)| format!("{op} x{n}"))
                .collect::<Vec<_>>()
                .join(", ");
            problems.push(format!(
                "service {} answered {answered} call(s) ({ops}) but declares no effect \
                 operations, so exactly-once checked none of them: list the operations that \
                 change anything in ServiceLogic::effect_operations (and record each call with \
                 ctx.ledger.record), or declare a read-only service with \
                 `fn effect_free(&self) -> bool {{ true }}`",
                u.service
            ));
            continue;
        }
        let mut stray: BTreeMap<&str, u64> = BTreeMap::new();
        for e in outcome.effects.iter().filter(|e| e.service == u.service) {
            if !u.effect_operations.contains(&e.operation) {
                *stray.entry(e.operation.as_str()).or_default() += 1;
            }
        }
        for (op, n) in stray {
            problems.push(format!(
                "service {} recorded {n} effect(s) of operation {op:?}, which is not among its \
                 effect_operations {:?}: fix the declaration (the unrecorded-call check and \
                 effect fault triggers only see declared operations)",
                u.service, u.effect_operations
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::*;

    fn check(o: &Outcome) -> Result<(), Violation> {
        ExactlyOnce.check(o)
    }

    #[test]
    fn passes_on_one_applied_effect_per_activity() {
        assert_eq!(check(&outcome()), Ok(()));
    }

    #[test]
    fn retried_call_deduplicated_by_its_key_passes() {
        let mut o = outcome();
        o.effects.push(effect(
            2,
            3900,
            "deposit",
            "wf-1-deposit",
            false,
            caller(WF, RUN, "2", "deposit", 2),
        ));
        assert_eq!(check(&o), Ok(()));
    }

    #[test]
    fn double_applied_effect_is_a_violation_naming_keys_attempts_and_times() {
        let mut o = outcome();
        o.effects.push(effect(
            2,
            3900,
            "deposit",
            "fresh-key-2",
            true,
            caller(WF, RUN, "2", "deposit", 2),
        ));
        let v = check(&o).unwrap_err();
        assert_eq!(v.invariant, "exactly-once");
        assert!(
            v.message.starts_with(
                "workflow wf-1 run run-1 activity 2 (deposit) applied bank.deposit 2 times: "
            ),
            "{v}"
        );
        assert!(
            v.message.contains(
                "key \"wf-1-deposit\" applied by attempt 1 on worker-1 at 3.500s (ledger #1)"
            ),
            "{v}"
        );
        assert!(
            v.message.contains(
                "key \"fresh-key-2\" applied by attempt 2 on worker-1 at 3.900s (ledger #2)"
            ),
            "{v}"
        );
    }

    #[test]
    fn completed_activity_whose_calls_were_all_deduplicated_lost_its_effect() {
        let mut o = outcome();
        o.effects[1].applied = false;
        let v = check(&o).unwrap_err();
        assert!(
            v.message.contains(
                "workflow wf-1 run run-1 activity 2 (deposit) completed (event 13) but its \
                 bank.deposit was never applied (effect lost)"
            ),
            "{v}"
        );
        assert!(v.message.contains("never applied by anyone"), "{v}");
    }

    #[test]
    fn key_applied_by_another_workflow_is_a_collision() {
        let mut o = outcome();
        o.effects[1].applied = false;
        o.effects.push(effect(
            2,
            100,
            "deposit",
            "wf-1-deposit",
            true,
            caller("wf-other", "run-9", "2", "deposit", 1),
        ));
        let v = check(&o).unwrap_err();
        assert!(
            v.message.contains(
                "the key was applied for workflow wf-other run run-9 activity 2 (key collision)"
            ),
            "{v}"
        );
    }

    #[test]
    fn key_applied_by_an_earlier_run_of_the_same_workflow_is_not_lost() {
        let mut o = outcome();
        o.effects[1].applied = false;
        o.effects.push(effect(
            2,
            100,
            "deposit",
            "wf-1-deposit",
            true,
            caller(WF, "run-0", "2", "deposit", 1),
        ));
        // run-0 has no history here, so its own applied effect is unexplained; the lost-effect
        // rule alone must not fire for run-1.
        let v = check(&o).unwrap_err();
        assert!(!v.message.contains("effect lost"), "{v}");
        assert!(
            v.message
                .contains("run run-0 activity 2 (deposit) applied bank.deposit"),
            "{v}"
        );
    }

    #[test]
    fn effect_of_a_failed_activity_is_a_violation() {
        let mut o = outcome();
        // The deposit failed (non-retryable) and the workflow refunded: its effect must not be
        // applied.
        let mut h = Hb::new("Transfer", WF, RUN, &100i64);
        let c1 = h.wft();
        let w = h.activity(c1, "1", "withdraw");
        let ws = h.activity_started(w, 1);
        h.activity_completed(w, ws, "W");
        let c2 = h.wft();
        let d = h.activity(c2, "2", "deposit");
        let ds = h.activity_started(d, 1);
        let failed = h.activity_failed(d, ds);
        let c3 = h.wft();
        let r = h.activity(c3, "3", "refund");
        let rs = h.activity_started(r, 1);
        h.activity_completed(r, rs, "R");
        *only(&mut o) = h.build();
        o.effects.push(effect(
            2,
            4000,
            "deposit",
            "wf-1-refund",
            true,
            caller(WF, RUN, "3", "refund", 1),
        ));
        let v = check(&o).unwrap_err();
        assert_eq!(
            v.message,
            format!(
                "workflow wf-1 run run-1 activity 2 (deposit) ended ActivityTaskFailed (event \
                 {failed}) but its bank.deposit was applied: key \"wf-1-deposit\" applied by \
                 attempt 1 on worker-1 at 3.500s (ledger #1)"
            )
        );
        // Without the deposit's effect, the compensated transfer is fine.
        o.effects.remove(1);
        assert_eq!(check(&o), Ok(()));
    }

    #[test]
    fn effects_without_a_caller_are_ignored() {
        let mut o = outcome();
        let mut e = o.effects[1].clone();
        e.caller = None;
        e.seq = 2;
        o.effects.push(e.clone());
        o.effects.push(e);
        assert_eq!(check(&o), Ok(()));
    }

    #[test]
    fn pending_activity_is_only_checked_for_duplicates() {
        let mut o = outcome();
        let h = only(&mut o);
        h.events.truncate(11); // deposit scheduled, not closed
        o.effects[1].applied = false;
        assert_eq!(check(&o), Ok(()));
    }

    fn service(
        ops: &[&str],
        effect_free: bool,
        calls: &[(&str, u64)],
    ) -> crate::record::ServiceUse {
        crate::record::ServiceUse {
            service: "bank".into(),
            effect_operations: ops.iter().map(|o| o.to_string()).collect(),
            effect_free,
            calls: calls.iter().map(|(o, n)| (o.to_string(), *n)).collect(),
        }
    }

    #[test]
    fn a_called_service_that_declares_no_effects_is_named() {
        let mut o = outcome();
        o.effects.clear();
        o.service_use = vec![service(&[], false, &[("charge", 3)])];
        let v = check(&o).unwrap_err();
        assert!(
            v.message
                .contains("service bank answered 3 call(s) (charge x3) but declares no effect")
                && v.message.contains("effect_free"),
            "{v}"
        );
        // Declared read-only: nothing to check, nothing to say.
        o.service_use = vec![service(&[], true, &[("charge", 3)])];
        assert_eq!(check(&o), Ok(()));
        // Never called: nothing to say either.
        o.service_use = vec![service(&[], false, &[])];
        assert_eq!(check(&o), Ok(()));
    }

    #[test]
    fn effects_of_an_undeclared_operation_name_the_declaration() {
        let mut o = outcome();
        o.service_use = vec![service(&["Deposit", "withdraw"], false, &[("deposit", 1)])];
        let v = check(&o).unwrap_err();
        assert!(
            v.message.contains(
                "service bank recorded 1 effect(s) of operation \"deposit\", which is not among \
                 its effect_operations [\"Deposit\", \"withdraw\"]"
            ),
            "{v}"
        );
        o.service_use = vec![service(&["deposit", "withdraw"], false, &[("deposit", 1)])];
        assert_eq!(check(&o), Ok(()));
    }
}
