//! `timers`: a durable timer reaches the workflow no earlier than its duration after the
//! workflow asked for it.
//!
//! What it proves, for every TimerFired in the histories: the workflow task that brought the
//! firing to a worker (the first task started after the TimerFired event) arrived at least the
//! timer's `start_to_fire_timeout` after the task whose completion started the timer (the task
//! of its TimerStarted's WorkflowTaskCompleted) arrived. A correct server starts the timer after
//! that task's completion was sent and fires it its duration later, so the firing cannot reach a
//! worker sooner. A server that fires timers early (a deadline from the wrong start, a due check
//! lost, a unit dropped) is caught.
//!
//! What it reads: the histories (which task started each timer, which task followed each
//! firing, the duration) and `outcome.observed_workflow_tasks`: when the workers received those
//! tasks, recorded where they arrived, not by the server. The times compared are the workers'
//! observations only; a server that also wrote early event times would not hide the bug.
//!
//! Known limits: a server restart can lose unsynced events and give their ids to later ones,
//! so a task id may name more than one delivery. The check takes the earliest delivery of the
//! task that started the timer and the latest of the task that brought the firing, which only
//! makes it more lenient. A timer whose tasks no worker was seen receiving is not checked.

use std::collections::BTreeMap;

use super::exactly_once::vtime;
use super::{verdict_capped, Invariant, Outcome, Violation};
use crate::history::{EventAttributes, EventId, ExecKey, History, Timestamp};

/// The `timers` invariant.
#[derive(Clone, Copy, Debug, Default)]
pub struct TimersOnTime;

impl Invariant for TimersOnTime {
    fn name(&self) -> &str {
        "timers"
    }

    fn check(&self, outcome: &Outcome) -> Result<(), Violation> {
        // (run, started event id) -> (earliest, latest) receipt.
        let mut received: BTreeMap<(&ExecKey, EventId), (Timestamp, Timestamp)> = BTreeMap::new();
        for t in &outcome.observed_workflow_tasks {
            received
                .entry((&t.exec, t.started_event_id))
                .and_modify(|(lo, hi)| {
                    *lo = (*lo).min(t.received);
                    *hi = (*hi).max(t.received);
                })
                .or_insert((t.received, t.received));
        }
        let mut problems = Vec::new();
        for (exec, history) in &outcome.histories {
            check_run(exec, history, &received, &mut problems);
        }
        verdict_capped(self.name(), problems, 5)
    }
}

fn check_run(
    exec: &ExecKey,
    history: &History,
    received: &BTreeMap<(&ExecKey, EventId), (Timestamp, Timestamp)>,
    problems: &mut Vec<String>,
) {
    let by_id: BTreeMap<EventId, &EventAttributes> = history
        .events
        .iter()
        .map(|e| (e.event_id, &e.attributes))
        .collect();
    for (i, e) in history.events.iter().enumerate() {
        let EventAttributes::TimerFired(fired) = &e.attributes else {
            continue;
        };
        let Some(EventAttributes::TimerStarted(started)) = by_id.get(&fired.started_event_id)
        else {
            continue; // history-well-formed's concern
        };
        let Some(duration) = started.start_to_fire_timeout else {
            continue;
        };
        let Some(EventAttributes::WorkflowTaskCompleted(asked)) =
            by_id.get(&started.workflow_task_completed_event_id)
        else {
            continue;
        };
        let Some(next_task) = history.events[i + 1..]
            .iter()
            .find(|n| matches!(n.attributes, EventAttributes::WorkflowTaskStarted(_)))
        else {
            continue; // the run closed before another task (terminated)
        };
        let (Some((asked_at, _)), Some((_, told_at))) = (
            received.get(&(exec, asked.started_event_id)),
            received.get(&(exec, next_task.event_id)),
        ) else {
            continue;
        };
        let due = asked_at.plus(duration);
        if *told_at < due {
            problems.push(format!(
                "{exec}: timer {:?} ({:?}, started by the task a worker received at {}) reached \
                 a worker at {} in the task started at event {}, {:.3}s before it was due at {}",
                fired.timer_id,
                duration,
                vtime(*asked_at),
                vtime(*told_at),
                next_task.event_id,
                due.since(*told_at).as_secs_f64(),
                vtime(due),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::*;
    use crate::record::ObservedWorkflowTask;

    /// A run that starts a 60 s timer in its first task and completes after it fires; the
    /// workers received the first task at `first_ms` and the one after the firing at `then_ms`.
    fn timer_run(first_ms: i64, then_ms: i64) -> Outcome {
        let mut h = Hb::new("Sleep", WF, RUN, &0);
        let s1 = h.at(first_ms - 5).wft_scheduled();
        let t1 = h.wft_started(s1);
        let c1 = h.wft_completed(s1, t1);
        let timer = h.timer(c1, "1");
        h.at(then_ms - 5).timer_fired(timer, "1");
        let s2 = h.wft_scheduled();
        let t2 = h.wft_started(s2);
        let c2 = h.wft_completed(s2, t2);
        h.complete(c2, "done");
        let mut o = outcome();
        *only(&mut o) = h.build();
        let task = |started, at| ObservedWorkflowTask {
            exec: key(WF, RUN),
            scheduled_event_id: started - 1,
            started_event_id: started,
            attempt: 1,
            worker: "worker-1".into(),
            received: ts(at),
            done: Some(ts(at + 10)),
            carried_requests: false,
        };
        o.observed_workflow_tasks = vec![task(t1, first_ms), task(t2, then_ms)];
        o
    }

    #[test]
    fn a_timer_that_reaches_the_worker_after_its_duration_passes() {
        assert_eq!(TimersOnTime.check(&timer_run(100, 60_120)), Ok(()));
        assert_eq!(TimersOnTime.check(&timer_run(100, 60_100)), Ok(()));
    }

    #[test]
    fn a_timer_that_fires_early_is_named_with_its_times() {
        let v = TimersOnTime
            .check(&timer_run(100, 30_100))
            .expect_err("fired after half its duration");
        assert_eq!(v.invariant, "timers");
        assert!(
            v.message.contains("timer \"1\" (60s, started by the task a worker received at 0.100s) reached a worker at 30.100s"),
            "{}",
            v.message
        );
        assert!(
            v.message.contains("30.000s before it was due at 60.100s"),
            "{}",
            v.message
        );
    }

    #[test]
    fn earlier_deliveries_of_the_firing_task_s_ids_are_not_held_against_it() {
        // A delivery of the same ids before a server restart lost them: the latest counts.
        let mut o = timer_run(100, 60_120);
        let mut lost = o.observed_workflow_tasks[1].clone();
        lost.received = ts(2_000);
        o.observed_workflow_tasks.insert(1, lost);
        assert_eq!(TimersOnTime.check(&o), Ok(()));
        // Nothing observed: nothing checked.
        o.observed_workflow_tasks.clear();
        assert_eq!(TimersOnTime.check(&o), Ok(()));
    }
}
