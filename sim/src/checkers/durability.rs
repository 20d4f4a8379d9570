//! `durability`: acknowledged writes are never lost.
//!
//! What it proves: every event the server acknowledged to a caller (`outcome.acked`: it told a
//! client, worker or service that the write happened) is in the final synced history of its
//! run, with the same event id and event type. A server that replies before its write is synced
//! and then crashes loses the write, and fails this check.
//!
//! Independently of the server, it also checks what the receivers were told
//! (`outcome.observed_acks`, recorded by the client and the workers where the reply arrived):
//! an acknowledged start left its run; an acknowledged task completion its WorkflowTaskCompleted
//! (or the server's WorkflowTaskFailed) after the task's WorkflowTaskStarted; an acknowledged
//! activity completion or cancellation its ActivityTaskCompleted/Canceled; acknowledged signals
//! one WorkflowExecutionSignaled each (per distinct request id, and never two with one request
//! id); an acknowledged cancel request a
//! WorkflowExecutionCancelRequested; an update the client was told was accepted exactly one
//! WorkflowExecutionUpdateAccepted (and, told its outcome, one ...UpdateCompleted). A server that replies before it syncs fails this even when
//! its own record of acknowledgements is written after the sync (and so dies with the write).
//!
//! What it reads: `outcome.acked`, `outcome.observed_acks` and `outcome.histories`.
//!
//! Known limits: it checks id and type, not the attributes' contents; a failed activity attempt
//! that the server may retry writes no event and is not checked; a task completion is checked
//! only where the task's WorkflowTaskStarted is in the history (a retried task's started event
//! is written with its completion).

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
        // Acknowledged events come grouped by run: one look-up per run, not per event.
        let mut run: Option<(&ExecKey, Option<&crate::history::History>)> = None;
        for a in &outcome.acked {
            let history = match run {
                Some((k, h)) if *k == a.exec => h,
                _ => {
                    let h = outcome.histories.get(&a.exec);
                    run = Some((&a.exec, h));
                    h
                }
            };
            let problem = match history {
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
        let observed = observed_losses(outcome);
        let observed_count = observed.len();
        for p in observed {
            if problems.len() < MAX_REPORTED {
                problems.push(p);
            }
        }
        let total: usize = lost.values().sum::<usize>() + observed_count;
        if total > problems.len() {
            let mut parts: Vec<String> = lost.iter().map(|(k, n)| format!("{k}: {n}")).collect();
            if observed_count > 0 {
                parts.push(format!("seen by receivers: {observed_count}"));
            }
            problems.push(format!(
                "{} acknowledged events lost in all ({})",
                total,
                parts.join(", ")
            ));
        }
        verdict(self.name(), problems)
    }
}

/// What the receivers were told was written, and is not in the histories.
fn observed_losses(outcome: &Outcome) -> Vec<String> {
    use crate::history::{EventAttributes, History};
    use crate::record::AckedRequest;
    use std::collections::BTreeSet;

    let runs_of = |workflow_id: &str| -> Vec<&History> {
        outcome
            .histories
            .iter()
            .filter(|(k, _)| k.workflow_id == workflow_id)
            .map(|(_, h)| h)
            .collect()
    };
    let mut out = Vec::new();
    // Signals: distinct acknowledged request ids per (workflow, name).
    let mut signals: BTreeMap<(&str, &str), (BTreeSet<&str>, &str)> = BTreeMap::new();
    for a in &outcome.observed_acks {
        let problem = match &a.request {
            AckedRequest::Started { exec } => match outcome.histories.get(exec) {
                Some(h) if h.started().is_some() => None,
                _ => Some(format!(
                    "{exec}: {} was told the run started, but it has no history",
                    a.node
                )),
            },
            AckedRequest::HistoryShown {
                exec,
                event_id,
                event_type,
            } => {
                let h = outcome.histories.get(exec);
                let found = h.and_then(|h| h.events.iter().find(|e| e.event_id == *event_id));
                match found {
                    Some(e) if e.event_type() == *event_type => None,
                    Some(e) => Some(format!(
                        "{exec}: {} was shown event {event_id} {event_type} in a workflow task, but event {event_id} in the history is {}",
                        a.node,
                        e.event_type()
                    )),
                    None => Some(format!(
                        "{exec}: {} was shown event {event_id} {event_type} in a workflow task, but the history ends at event {}",
                        a.node,
                        h.and_then(|h| h.events.last()).map_or(0, |e| e.event_id)
                    )),
                }
            }
            AckedRequest::WorkflowTaskClosed {
                exec,
                started_event_id,
            } => {
                let h = outcome.histories.get(exec);
                let started =
                    h.and_then(|h| h.events.iter().find(|e| e.event_id == *started_event_id));
                match started.map(|e| &e.attributes) {
                    Some(EventAttributes::WorkflowTaskStarted(_)) => {
                        let closed = h.is_some_and(|h| {
                            h.events.iter().any(|e| match &e.attributes {
                                EventAttributes::WorkflowTaskCompleted(c) => {
                                    c.started_event_id == *started_event_id
                                }
                                EventAttributes::WorkflowTaskFailed(f) => {
                                    f.started_event_id == *started_event_id
                                }
                                _ => false,
                            })
                        });
                        (!closed).then(|| {
                            format!(
                                "{exec}: {} was told its completion of the task started at event {started_event_id} was recorded, but the history ends at event {} without it",
                                a.node,
                                h.and_then(|h| h.events.last()).map_or(0, |e| e.event_id)
                            )
                        })
                    }
                    _ => None,
                }
            }
            AckedRequest::ActivityCompleted {
                exec,
                scheduled_event_id,
            }
            | AckedRequest::ActivityCanceled {
                exec,
                scheduled_event_id,
            } => {
                let completed = matches!(a.request, AckedRequest::ActivityCompleted { .. });
                let found = outcome.histories.get(exec).is_some_and(|h| {
                    h.events.iter().any(|e| match &e.attributes {
                        EventAttributes::ActivityTaskCompleted(c) if completed => {
                            c.scheduled_event_id == *scheduled_event_id
                        }
                        EventAttributes::ActivityTaskCanceled(c) if !completed => {
                            c.scheduled_event_id == *scheduled_event_id
                        }
                        _ => false,
                    })
                });
                (!found).then(|| {
                    format!(
                        "{exec}: {} was told the activity scheduled at event {scheduled_event_id} was recorded {}, but the history has no ActivityTask{}",
                        a.node,
                        if completed { "completed" } else { "canceled" },
                        if completed { "Completed" } else { "Canceled" }
                    )
                })
            }
            AckedRequest::Signaled {
                workflow_id,
                signal_name,
                request_id,
            } => {
                signals
                    .entry((workflow_id, signal_name))
                    .or_insert_with(|| (BTreeSet::new(), &a.node))
                    .0
                    .insert(request_id);
                None
            }
            AckedRequest::Updated {
                workflow_id,
                update_id,
                completed,
            } => {
                let (mut accepted, mut done) = (0, 0);
                for h in runs_of(workflow_id) {
                    for e in &h.events {
                        match &e.attributes {
                            EventAttributes::WorkflowExecutionUpdateAccepted(u)
                                if u.protocol_instance_id == *update_id =>
                            {
                                accepted += 1
                            }
                            EventAttributes::WorkflowExecutionUpdateCompleted(u)
                                if u.meta.as_ref().is_some_and(|m| m.update_id == *update_id) =>
                            {
                                done += 1
                            }
                            _ => {}
                        }
                    }
                }
                let want_done = usize::from(*completed);
                (accepted != 1 || (*completed && done != 1)).then(|| {
                    format!(
                        "{workflow_id}: {} was told update {update_id} was accepted{}, but its runs hold {accepted} WorkflowExecutionUpdateAccepted and {done} WorkflowExecutionUpdateCompleted (expected 1 and {})",
                        a.node,
                        if *completed { " and completed" } else { "" },
                        if *completed { want_done.to_string() } else { "any".to_string() }
                    )
                })
            }
            AckedRequest::CancelRequested { workflow_id } => {
                let found = runs_of(workflow_id).iter().any(|h| {
                    h.events.iter().any(|e| {
                        matches!(
                            e.attributes,
                            EventAttributes::WorkflowExecutionCancelRequested(_)
                        )
                    })
                });
                (!found).then(|| {
                    format!(
                        "{workflow_id}: {} was told its cancel request was recorded, but no run has WorkflowExecutionCancelRequested",
                        a.node
                    )
                })
            }
        };
        out.extend(problem);
    }
    for ((workflow_id, name), (requests, node)) in signals {
        let signaled: Vec<&crate::history::WorkflowExecutionSignaled> = runs_of(workflow_id)
            .iter()
            .flat_map(|h| h.events.iter())
            .filter_map(|e| match &e.attributes {
                EventAttributes::WorkflowExecutionSignaled(s) if s.signal_name == name => {
                    Some(&**s)
                }
                _ => None,
            })
            .collect();
        if signaled.len() < requests.len() {
            out.push(format!(
                "{workflow_id}: {node} was told {} signal(s) {name:?} were recorded, but its runs hold {}",
                requests.len(),
                signaled.len()
            ));
        }
        // Each acknowledged request is one signal: a retried request applied twice shows as
        // two events with its request id (the server writes it on each).
        for request_id in &requests {
            let times = signaled
                .iter()
                .filter(|s| s.extra.get("requestId").and_then(|v| v.as_str()) == Some(request_id))
                .count();
            if times > 1 {
                out.push(format!(
                    "{workflow_id}: signal {name:?} request {request_id} was applied {times} times (a retried request must be applied once)"
                ));
            }
        }
    }
    out
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

    #[test]
    fn a_signal_applied_twice_for_one_request_is_a_violation() {
        use crate::record::AckedRequest;
        let mut o = outcome();
        let h = only(&mut o);
        let at = h.events.last().unwrap().event_time;
        for _ in 0..2 {
            let id = h.events.len() as i64 + 1;
            let mut extra = crate::history::Extra::new();
            extra.insert("requestId".into(), "r1".into());
            h.events.push(crate::history::HistoryEvent {
                event_id: id,
                event_time: at,
                task_id: 0,
                attributes: crate::history::EventAttributes::WorkflowExecutionSignaled(
                    std::sync::Arc::new(crate::history::WorkflowExecutionSignaled {
                        signal_name: "approve".into(),
                        extra,
                        ..Default::default()
                    }),
                ),
                extra: crate::history::Extra::new(),
            });
        }
        observed(
            &mut o,
            AckedRequest::Signaled {
                workflow_id: WF.into(),
                signal_name: "approve".into(),
                request_id: "r1".into(),
            },
        );
        let v = check(&o).unwrap_err().to_string();
        assert!(
            v.contains("signal \"approve\" request r1 was applied 2 times"),
            "{v}"
        );
    }

    fn observed(o: &mut Outcome, request: crate::record::AckedRequest) {
        o.observed_acks.push(crate::record::ObservedAck {
            node: "worker-1".into(),
            request,
        });
    }

    #[test]
    fn what_receivers_were_told_and_is_in_history_passes() {
        use crate::record::AckedRequest;
        let mut o = outcome();
        let exec = key(WF, RUN);
        observed(&mut o, AckedRequest::Started { exec: exec.clone() });
        observed(
            &mut o,
            AckedRequest::WorkflowTaskClosed {
                exec: exec.clone(),
                started_event_id: 3,
            },
        );
        observed(
            &mut o,
            AckedRequest::HistoryShown {
                exec: exec.clone(),
                event_id: 3,
                event_type: EventType::WorkflowTaskStarted,
            },
        );
        observed(
            &mut o,
            AckedRequest::ActivityCompleted {
                exec,
                scheduled_event_id: 5,
            },
        );
        assert_eq!(check(&o), Ok(()));
    }

    #[test]
    fn what_receivers_were_told_and_is_lost_is_a_violation_even_without_the_servers_record() {
        use crate::record::AckedRequest;
        let mut o = outcome();
        o.acked.clear();
        only(&mut o).events.truncate(3);
        let exec = key(WF, RUN);
        observed(
            &mut o,
            AckedRequest::WorkflowTaskClosed {
                exec: exec.clone(),
                started_event_id: 3,
            },
        );
        observed(
            &mut o,
            AckedRequest::ActivityCompleted {
                exec: exec.clone(),
                scheduled_event_id: 5,
            },
        );
        observed(
            &mut o,
            AckedRequest::Started {
                exec: key(WF, "run-never"),
            },
        );
        observed(
            &mut o,
            AckedRequest::Signaled {
                workflow_id: WF.into(),
                signal_name: "approve".into(),
                request_id: "r1".into(),
            },
        );
        observed(
            &mut o,
            AckedRequest::CancelRequested {
                workflow_id: WF.into(),
            },
        );
        observed(
            &mut o,
            AckedRequest::Updated {
                workflow_id: WF.into(),
                update_id: "u1".into(),
                completed: true,
            },
        );
        let v = check(&o).unwrap_err();
        for needle in [
            "completion of the task started at event 3 was recorded, but the history ends at event 3",
            "activity scheduled at event 5 was recorded completed",
            "run-never: worker-1 was told the run started",
            "1 signal(s) \"approve\" were recorded, but its runs hold 0",
            "cancel request was recorded",
            "was told update u1 was accepted and completed, but its runs hold 0",
        ] {
            assert!(v.message.contains(needle), "{needle}: {v}");
        }
    }
}
