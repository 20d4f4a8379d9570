//! `liveness`: every workflow the client started closes, and in time once the faults heal.
//!
//! What it proves: for each workflow id in `outcome.expected_workflows`, there is a run in the
//! histories; every run of that id is closed (its last event is a close event), a run that
//! continued as new names a successor run that exists (so the latest run of the chain is the
//! one that must close); and each run closed no later than `heal_at + liveness_deadline`
//! (event times are `sim::clock::BASE_NANOS` + virtual elapsed time).
//!
//! What it reads: `outcome.expected_workflows`, `outcome.histories`, `outcome.heal_at`,
//! `outcome.liveness_deadline`.
//!
//! A workflow still open is named with what it waits on: pending activities, timers and
//! workflow tasks, and its last events.
//!
//! Children count as the client's: a child a checked run started (ChildWorkflowExecutionStarted
//! in its history) must close too, whatever its parent close policy, and an open parent names
//! the children it waits on.
//!
//! Updates count too: every update the client sent (`outcome.updates`) must have got an answer
//! (its outcome, a rejection, or the server's refusal).
//!
//! Known limits: runs started by a client outside the scenario are not checked. "Closed"
//! includes failed, timed out, canceled and terminated: whether
//! the result is the right one is for other invariants. The histories are the synced ones, so
//! a run whose close was written but never synced counts as open.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::exactly_once::vtime;
use super::{verdict, Invariant, Outcome, Violation};
use crate::clock::BASE_NANOS;
use crate::history::ExecKey;
use crate::history::{EventAttributes, EventId, History, Timestamp};

/// The `liveness` invariant.
#[derive(Clone, Copy, Debug, Default)]
pub struct Liveness;

/// What an open run waits on: pending activities, timers and workflow tasks.
pub(crate) fn pending(h: &History) -> Vec<String> {
    let mut activities: BTreeMap<EventId, String> = BTreeMap::new();
    let mut timers: BTreeMap<EventId, String> = BTreeMap::new();
    let mut children: BTreeMap<EventId, String> = BTreeMap::new();
    let mut wft: Option<(EventId, bool)> = None;
    // The last workflow task failure not followed by a completed task: often the real reason a
    // run is stuck (an unregistered workflow type, bad input, non-determinism).
    let mut wft_failure: Option<(EventId, String)> = None;
    for e in &h.events {
        match &e.attributes {
            EventAttributes::ActivityTaskScheduled(s) => {
                activities.insert(
                    e.event_id,
                    format!(
                        "activity {} ({}) scheduled at event {}",
                        s.activity_id, s.activity_type, e.event_id
                    ),
                );
            }
            EventAttributes::ActivityTaskCompleted(a) => {
                activities.remove(&a.scheduled_event_id);
            }
            EventAttributes::ActivityTaskFailed(a) => {
                activities.remove(&a.scheduled_event_id);
            }
            EventAttributes::ActivityTaskTimedOut(a) => {
                activities.remove(&a.scheduled_event_id);
            }
            EventAttributes::ActivityTaskCanceled(a) => {
                activities.remove(&a.scheduled_event_id);
            }
            EventAttributes::TimerStarted(t) => {
                let after = t
                    .start_to_fire_timeout
                    .map(|d| format!(", fires after {}s", d.as_secs_f64()))
                    .unwrap_or_default();
                timers.insert(
                    e.event_id,
                    format!(
                        "timer {} started at event {}{after}",
                        t.timer_id, e.event_id
                    ),
                );
            }
            EventAttributes::TimerFired(t) => {
                timers.remove(&t.started_event_id);
            }
            EventAttributes::StartChildWorkflowExecutionInitiated(c) => {
                children.insert(
                    e.event_id,
                    format!(
                        "child {} ({}) initiated at event {}",
                        c.workflow_id, c.workflow_type, e.event_id
                    ),
                );
            }
            EventAttributes::StartChildWorkflowExecutionFailed(c) => {
                children.remove(&c.initiated_event_id);
            }
            EventAttributes::ChildWorkflowExecutionCompleted(c) => {
                children.remove(&c.initiated_event_id);
            }
            EventAttributes::ChildWorkflowExecutionFailed(c) => {
                children.remove(&c.initiated_event_id);
            }
            EventAttributes::ChildWorkflowExecutionCanceled(c) => {
                children.remove(&c.initiated_event_id);
            }
            EventAttributes::ChildWorkflowExecutionTimedOut(c) => {
                children.remove(&c.initiated_event_id);
            }
            EventAttributes::ChildWorkflowExecutionTerminated(c) => {
                children.remove(&c.initiated_event_id);
            }
            EventAttributes::TimerCanceled(t) => {
                timers.remove(&t.started_event_id);
            }
            EventAttributes::WorkflowTaskScheduled(_) => wft = Some((e.event_id, false)),
            EventAttributes::WorkflowTaskStarted(_) => {
                if let Some((_, started)) = wft.as_mut() {
                    *started = true;
                }
            }
            EventAttributes::WorkflowTaskFailed(f) => {
                wft = None;
                let message = f
                    .failure
                    .as_ref()
                    .map(|f| f.message.as_str())
                    .unwrap_or("(no failure message)");
                let message = match message.char_indices().nth(300) {
                    Some((cut, _)) => format!("{}...", &message[..cut]),
                    None => message.to_string(),
                };
                wft_failure = Some((e.event_id, format!("{:?}: {message}", f.cause)));
            }
            EventAttributes::WorkflowTaskCompleted(_) => {
                wft = None;
                wft_failure = None;
            }
            EventAttributes::WorkflowTaskTimedOut(_) => wft = None,
            _ => {}
        }
    }
    let mut out: Vec<String> = activities.into_values().collect();
    out.extend(timers.into_values());
    out.extend(children.into_values());
    if let Some((id, started)) = wft {
        out.push(format!(
            "workflow task scheduled at event {id}{}",
            if started { " (started)" } else { "" }
        ));
    }
    if let Some((id, why)) = wft_failure {
        out.push(format!(
            "a workflow task that keeps failing (WorkflowTaskFailed at event {id}, {why})"
        ));
    }
    out
}

/// Adds to each pending activity the last failure its attempts reported, as the worker saw
/// it (an activity that panics or is not registered on every attempt is otherwise only
/// "scheduled"), with a hint for the mistakes that have one.
fn annotate_failures(waits: &mut [String], key: &ExecKey, outcome: &Outcome) {
    for f in outcome.activity_failures.iter().filter(|f| f.exec == *key) {
        let prefix = format!("activity {} ({})", f.activity_id, f.activity_type);
        let Some(w) = waits.iter_mut().find(|w| w.starts_with(&prefix)) else {
            continue;
        };
        let message = match f.message.char_indices().nth(300) {
            Some((cut, _)) => format!("{}...", &f.message[..cut]),
            None => f.message.clone(),
        };
        w.push_str(&format!(
            " (failed {} attempt(s); attempt {} on {}: {}: {message}{})",
            f.failed_attempts,
            f.attempt,
            f.node,
            f.failure_type,
            match crate::sdk::setup_hint(&f.failure_type, &f.message) {
                Some(h) if !f.message.contains("[hint: ") => format!(" [hint: {h}]"),
                _ => String::new(),
            }
        ));
    }
}

fn last_events(h: &History, n: usize) -> String {
    let from = h.events.len().saturating_sub(n);
    h.events[from..]
        .iter()
        .map(|e| {
            format!(
                "{} {} at {}",
                e.event_id,
                e.event_type(),
                vtime(e.event_time)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn secs(d: Duration) -> String {
    format!("{:.3}s", d.as_secs_f64())
}

impl Invariant for Liveness {
    fn name(&self) -> &str {
        "liveness"
    }

    fn check(&self, outcome: &Outcome) -> Result<(), Violation> {
        let allowed = outcome.heal_at + outcome.liveness_deadline;
        let deadline = Timestamp::from_nanos(BASE_NANOS).plus(allowed);
        let mut problems = Vec::new();
        let mut seen = BTreeSet::new();
        let mut todo: Vec<String> = outcome.expected_workflows.iter().rev().cloned().collect();
        while let Some(wf) = todo.pop() {
            if !seen.insert(wf.clone()) {
                continue;
            }
            // The children its runs started must close too (checked after it).
            let mut kids: Vec<String> = outcome
                .histories
                .iter()
                .filter(|(k, _)| k.workflow_id == wf)
                .flat_map(|(_, h)| h.events.iter())
                .filter_map(|e| match &e.attributes {
                    EventAttributes::ChildWorkflowExecutionStarted(c) => {
                        c.workflow_execution.as_ref().map(|x| x.workflow_id.clone())
                    }
                    _ => None,
                })
                .collect();
            kids.reverse();
            todo.extend(kids);
            let runs: Vec<(&ExecKey, &History)> = outcome
                .histories
                .iter()
                .filter(|(k, _)| k.workflow_id == wf)
                .collect();
            if runs.is_empty() {
                problems.push(format!(
                    "workflow {wf} never started (no run in the histories)"
                ));
                continue;
            }
            for (key, h) in &runs {
                let Some(close) = h.close_event() else {
                    let mut waits = pending(h);
                    annotate_failures(&mut waits, key, outcome);
                    problems.push(format!(
                        "workflow {wf} run {} still open after {} events at {}, waiting on {}; \
                         last events: {}",
                        key.run_id,
                        h.len(),
                        secs(outcome.ended_at),
                        if waits.is_empty() {
                            "nothing pending".to_string()
                        } else {
                            waits.join(", ")
                        },
                        last_events(h, 3)
                    ));
                    continue;
                };
                if let EventAttributes::WorkflowExecutionContinuedAsNew(c) = &close.attributes {
                    if !runs.iter().any(|(k, _)| k.run_id == c.new_execution_run_id) {
                        problems.push(format!(
                            "workflow {wf} run {} continued as new (event {}) to run {:?}, \
                             which has no history",
                            key.run_id, close.event_id, c.new_execution_run_id
                        ));
                    }
                }
                if close.event_time > deadline {
                    problems.push(format!(
                        "workflow {wf} run {} closed ({}, event {}) at {}, after the deadline \
                         {} (heal at {} + liveness deadline {})",
                        key.run_id,
                        close.event_type(),
                        close.event_id,
                        vtime(close.event_time),
                        secs(allowed),
                        secs(outcome.heal_at),
                        secs(outcome.liveness_deadline)
                    ));
                }
            }
        }
        for u in outcome.updates.iter().filter(|u| u.answer.is_none()) {
            problems.push(format!(
                "update {} of workflow {} was sent, but the client never learned its outcome \
                 (by {})",
                u.update_id,
                u.workflow_id,
                secs(outcome.ended_at)
            ));
        }
        verdict(self.name(), problems)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::*;
    use crate::history::WorkflowExecutionContinuedAsNew;

    fn check(o: &Outcome) -> Result<(), Violation> {
        Liveness.check(o)
    }

    #[test]
    fn passes_when_every_expected_workflow_closed_in_time() {
        assert_eq!(check(&outcome()), Ok(()));
    }

    #[test]
    fn an_update_the_client_never_heard_back_from_is_named() {
        let mut o = outcome();
        o.updates = vec![
            crate::record::UpdateRecord {
                workflow_id: WF.into(),
                update_id: "u-answered".into(),
                answer: Some("completed".into()),
            },
            crate::record::UpdateRecord {
                workflow_id: WF.into(),
                update_id: "u-lost".into(),
                answer: None,
            },
        ];
        let v = check(&o).unwrap_err().to_string();
        assert!(
            v.contains("update u-lost of workflow wf-1 was sent, but the client never learned"),
            "{v}"
        );
        assert!(!v.contains("u-answered"), "{v}");
    }

    #[test]
    fn workflow_left_open_is_named_with_what_it_waits_on() {
        let mut o = outcome();
        only(&mut o).events.truncate(11); // the deposit scheduled, never closed
        let v = check(&o).unwrap_err();
        assert_eq!(
            v.to_string(),
            "liveness: workflow wf-1 run run-1 still open after 11 events at 6.000s, waiting on \
             activity 2 (deposit) scheduled at event 11; last events: 9 WorkflowTaskStarted at \
             3.000s, 10 WorkflowTaskCompleted at 3.000s, 11 ActivityTaskScheduled at 3.000s"
        );
    }

    #[test]
    fn a_run_stuck_on_a_failing_workflow_task_names_the_failure() {
        let mut o = outcome();
        let mut h = Hb::new("Transfer", WF, RUN, &1i64);
        let s = h.wft_scheduled();
        let t = h.wft_started(s);
        h.push(EventAttributes::WorkflowTaskFailed(std::sync::Arc::new(
            crate::history::WorkflowTaskFailed {
                scheduled_event_id: s,
                started_event_id: t,
                cause: crate::history::WorkflowTaskFailedCause::WorkflowWorkerUnhandledFailure,
                failure: Some(crate::history::Failure::application(
                    "workflow type \"Transfr\" is not registered on this worker",
                    "UnknownWorkflowType",
                    false,
                )),
                identity: String::new(),
                extra: Default::default(),
            },
        )));
        *only(&mut o) = h.build();
        let v = check(&o).unwrap_err();
        assert!(
            v.message.contains(
                "a workflow task that keeps failing (WorkflowTaskFailed at event 4, \
                 WorkflowWorkerUnhandledFailure: workflow type \"Transfr\" is not registered \
                 on this worker)"
            ),
            "{v}"
        );
    }

    #[test]
    fn open_workflow_waiting_on_a_timer_and_a_workflow_task() {
        let mut o = outcome();
        let mut h = Hb::new("Transfer", WF, RUN, &1i64);
        let c = h.wft();
        h.timer(c, "1");
        h.wft_scheduled();
        *only(&mut o) = h.build();
        let v = check(&o).unwrap_err();
        assert!(
            v.message.contains(
                "waiting on timer 1 started at event 5, fires after 60s, workflow task \
                 scheduled at event 6;"
            ),
            "{v}"
        );
    }

    #[test]
    fn workflow_never_started_is_a_violation() {
        let mut o = outcome();
        o.expected_workflows.push("wf-2".into());
        let v = check(&o).unwrap_err();
        assert_eq!(
            v.message,
            "workflow wf-2 never started (no run in the histories)"
        );
    }

    #[test]
    fn closing_after_the_deadline_is_a_violation() {
        let mut o = outcome();
        o.heal_at = Duration::from_secs(1);
        o.liveness_deadline = Duration::from_secs(3);
        let v = check(&o).unwrap_err();
        assert_eq!(
            v.message,
            "workflow wf-1 run run-1 closed (WorkflowExecutionCompleted, event 17) at 5.000s, \
             after the deadline 4.000s (heal at 1.000s + liveness deadline 3.000s)"
        );
        o.liveness_deadline = Duration::from_secs(4);
        assert_eq!(check(&o), Ok(()));
    }

    #[test]
    fn continue_as_new_must_lead_to_a_closed_run() {
        let mut o = outcome();
        let mut h = Hb::new("Transfer", WF, "run-0", &1i64);
        let c = h.wft();
        h.push(EventAttributes::WorkflowExecutionContinuedAsNew(
            std::sync::Arc::new(WorkflowExecutionContinuedAsNew {
                new_execution_run_id: "run-1".into(),
                workflow_type: "Transfer".into(),
                workflow_task_completed_event_id: c,
                ..Default::default()
            }),
        ));
        o.histories.insert(key(WF, "run-0"), h.build());
        assert_eq!(check(&o), Ok(()));
        // The successor run still open.
        only(&mut o).events.truncate(16);
        let v = check(&o).unwrap_err();
        assert!(
            v.message.starts_with("workflow wf-1 run run-1 still open"),
            "{v}"
        );
        // The successor run missing.
        o.histories.remove(&key(WF, RUN));
        let v = check(&o).unwrap_err();
        assert_eq!(
            v.message,
            "workflow wf-1 run run-0 continued as new (event 5) to run \"run-1\", which has no \
             history"
        );
    }
}
