//! `history-well-formed`: every run's history is a structurally valid Temporal history.
//!
//! What it proves, for each run in `outcome.histories`:
//! - event ids are contiguous from 1, the first event is WorkflowExecutionStarted (and the only
//!   one), and nothing follows a close event;
//! - activities: every ActivityTaskStarted / Completed / Failed / TimedOut / Canceled /
//!   CancelRequested refers to an earlier ActivityTaskScheduled; each scheduled activity has at
//!   most one Started and at most one close; a Started comes before the close, whose
//!   `started_event_id` names it (0 when it never started); a Canceled follows a
//!   CancelRequested of the same activity;
//! - workflow tasks: WorkflowTaskStarted refers to an earlier WorkflowTaskScheduled (at most one
//!   Started per task, before its close); WorkflowTaskCompleted / Failed / TimedOut refer to the
//!   Scheduled and Started of the same task (a TimedOut before the start has
//!   `started_event_id` 0), at most one close per task; the times of workflow-task events never
//!   go backwards;
//! - command events (ActivityTaskScheduled, ActivityTaskCancelRequested, TimerStarted,
//!   TimerCanceled, MarkerRecorded, and the close commands) carry the
//!   `workflow_task_completed_event_id` of an earlier WorkflowTaskCompleted;
//! - timers: each TimerFired / TimerCanceled refers to an earlier TimerStarted with the same
//!   timer id; a timer fires or is canceled at most once, never both; no timer id is started
//!   again while pending;
//! - the other results name the event they answer: a child's Started and close events an
//!   earlier StartChildWorkflowExecutionInitiated (and its close the ChildWorkflowExecutionStarted
//!   when it names one), signals and cancel requests to other workflows their Initiated event,
//!   an update's Completed its Accepted event, a Nexus operation's events its Scheduled event;
//!   the command events among them (children, signals and cancels of other workflows, search
//!   attributes, memo, Nexus) carry a `workflow_task_completed_event_id` as above.
//!
//! What it reads: `outcome.histories`.
//!
//! Known limits: structure only, not semantics (that a retry waited its backoff, that a WFT was
//! scheduled when one was due). Reports at most 10 problems per run.

use std::collections::BTreeMap;

use super::{verdict, Invariant, Outcome, Violation};
use crate::history::{EventAttributes, EventId, EventType, History, HistoryEvent, Timestamp};

/// The `history-well-formed` invariant.
#[derive(Clone, Copy, Debug, Default)]
pub struct HistoryWellFormed;

const MAX_PER_RUN: usize = 10;

#[derive(Default)]
struct Task {
    started: Option<EventId>,
    close: Option<(EventType, EventId)>,
    cancel_requested: Option<EventId>,
}

struct Timer {
    timer_id: String,
    end: Option<(EventType, EventId)>,
}

/// The problems of one history, each as `event N Type: what is wrong`.
pub fn history_problems(h: &History) -> Vec<String> {
    let mut p: Vec<String> = Vec::new();
    let mut types: BTreeMap<EventId, EventType> = BTreeMap::new();
    let mut activities: BTreeMap<EventId, Task> = BTreeMap::new();
    let mut wfts: BTreeMap<EventId, Task> = BTreeMap::new();
    let mut timers: BTreeMap<EventId, Timer> = BTreeMap::new();
    let mut closed: Option<(EventType, EventId)> = None;
    let mut last_wft_time: Option<(EventId, Timestamp)> = None;
    if h.events.is_empty() {
        p.push("empty history".to_string());
    }
    for (i, e) in h.events.iter().enumerate() {
        let id = e.event_id;
        let ty = e.event_type();
        let mut bad = |what: String| p.push(format!("event {id} {ty}: {what}"));
        let expected = i as EventId + 1;
        if id != expected {
            bad(format!(
                "id {id} at position {expected} (ids must be 1, 2, 3, ...)"
            ));
        }
        if i == 0 && ty != EventType::WorkflowExecutionStarted {
            bad("the first event must be WorkflowExecutionStarted".to_string());
        }
        if i > 0 && ty == EventType::WorkflowExecutionStarted {
            bad("a second WorkflowExecutionStarted".to_string());
        }
        if let Some((cty, cid)) = closed {
            bad(format!("after the close event {cid} {cty}"));
        }
        if ty.is_close() {
            closed = Some((ty, id));
        }
        // Command events follow an earlier WorkflowTaskCompleted.
        if let Some(wtc) = e.attributes.workflow_task_completed_event_id() {
            if wtc >= id || types.get(&wtc) != Some(&EventType::WorkflowTaskCompleted) {
                bad(format!(
                    "workflow_task_completed_event_id {wtc} is not an earlier \
                     WorkflowTaskCompleted{}",
                    describe_ref(&types, wtc, id)
                ));
            }
        }
        for (field, r, want) in references(&e.attributes) {
            if r >= id || types.get(&r) != Some(&want) {
                bad(format!(
                    "{field} {r} is not an earlier {want}{}",
                    describe_ref(&types, r, id)
                ));
            }
        }
        check_event(e, &mut activities, &mut wfts, &mut timers, &mut bad);
        if ty.is_workflow_task() {
            if let Some((prev, t)) = last_wft_time {
                if e.event_time < t {
                    bad(format!(
                        "time goes backwards: {} ns before workflow-task event {prev}",
                        t.0 - e.event_time.0
                    ));
                }
            }
            last_wft_time = Some((id, e.event_time));
        }
        types.insert(id, ty);
    }
    if p.len() > MAX_PER_RUN {
        let more = p.len() - MAX_PER_RUN;
        p.truncate(MAX_PER_RUN);
        p.push(format!("and {more} more"));
    }
    p
}

/// The events a result names, as `(field, event id, the type that event must have)`: a child's
/// events their initiation (and a child's close its start, when it names one), the answers to
/// signals and cancel requests sent to other workflows their initiation, an update's completion
/// its acceptance, a Nexus operation's events its scheduling. Activity, workflow-task and timer
/// references are checked with their state in `check_event`.
fn references(a: &EventAttributes) -> Vec<(&'static str, EventId, EventType)> {
    use EventAttributes as A;
    use EventType as T;
    let initiated = |id: EventId, ty: EventType| vec![("initiated_event_id", id, ty)];
    let nexus = |id: EventId| vec![("scheduled_event_id", id, T::NexusOperationScheduled)];
    let child = |initiated_id: EventId, started_id: EventId| {
        let mut out = initiated(initiated_id, T::StartChildWorkflowExecutionInitiated);
        if started_id != 0 {
            out.push((
                "started_event_id",
                started_id,
                T::ChildWorkflowExecutionStarted,
            ));
        }
        out
    };
    let signal = T::SignalExternalWorkflowExecutionInitiated;
    let cancel = T::RequestCancelExternalWorkflowExecutionInitiated;
    match a {
        A::StartChildWorkflowExecutionFailed(x) => child(x.initiated_event_id, 0),
        A::ChildWorkflowExecutionStarted(x) => child(x.initiated_event_id, 0),
        A::ChildWorkflowExecutionCompleted(x) => child(x.initiated_event_id, x.started_event_id),
        A::ChildWorkflowExecutionFailed(x) => child(x.initiated_event_id, x.started_event_id),
        A::ChildWorkflowExecutionCanceled(x) => child(x.initiated_event_id, x.started_event_id),
        A::ChildWorkflowExecutionTimedOut(x) => child(x.initiated_event_id, x.started_event_id),
        A::ChildWorkflowExecutionTerminated(x) => child(x.initiated_event_id, x.started_event_id),
        A::ExternalWorkflowExecutionSignaled(x) => initiated(x.initiated_event_id, signal),
        A::SignalExternalWorkflowExecutionFailed(x) => initiated(x.initiated_event_id, signal),
        A::ExternalWorkflowExecutionCancelRequested(x) => initiated(x.initiated_event_id, cancel),
        A::RequestCancelExternalWorkflowExecutionFailed(x) => {
            initiated(x.initiated_event_id, cancel)
        }
        A::WorkflowExecutionUpdateCompleted(x) => vec![(
            "accepted_event_id",
            x.accepted_event_id,
            T::WorkflowExecutionUpdateAccepted,
        )],
        A::NexusOperationStarted(x) => nexus(x.scheduled_event_id),
        A::NexusOperationCompleted(x) => nexus(x.scheduled_event_id),
        A::NexusOperationFailed(x) => nexus(x.scheduled_event_id),
        A::NexusOperationCanceled(x) => nexus(x.scheduled_event_id),
        A::NexusOperationTimedOut(x) => nexus(x.scheduled_event_id),
        A::NexusOperationCancelRequested(x) => nexus(x.scheduled_event_id),
        _ => Vec::new(),
    }
}

/// ` (event N is a T)` / ` (no event N before this one)`.
fn describe_ref(types: &BTreeMap<EventId, EventType>, r: EventId, this: EventId) -> String {
    match types.get(&r) {
        Some(t) => format!(" (event {r} is a {t})"),
        None if r >= this => format!(" (event {r} is not before this one)"),
        None => format!(" (there is no event {r})"),
    }
}

fn check_event(
    e: &HistoryEvent,
    activities: &mut BTreeMap<EventId, Task>,
    wfts: &mut BTreeMap<EventId, Task>,
    timers: &mut BTreeMap<EventId, Timer>,
    bad: &mut dyn FnMut(String),
) {
    let id = e.event_id;
    let ty = e.event_type();
    match &e.attributes {
        EventAttributes::ActivityTaskScheduled(_) => {
            activities.insert(id, Task::default());
        }
        EventAttributes::WorkflowTaskScheduled(_) => {
            wfts.insert(id, Task::default());
        }
        EventAttributes::ActivityTaskStarted(_)
        | EventAttributes::ActivityTaskCompleted(_)
        | EventAttributes::ActivityTaskFailed(_)
        | EventAttributes::ActivityTaskTimedOut(_)
        | EventAttributes::ActivityTaskCanceled(_)
        | EventAttributes::ActivityTaskCancelRequested(_) => {
            let sid = e.attributes.activity_scheduled_event_id().unwrap_or(0);
            let Some(task) = activities.get_mut(&sid) else {
                bad(format!(
                    "scheduled_event_id {sid} is not an earlier ActivityTaskScheduled"
                ));
                return;
            };
            match &e.attributes {
                EventAttributes::ActivityTaskStarted(_) => {
                    if let Some(s) = task.started {
                        bad(format!(
                            "a second ActivityTaskStarted for the activity scheduled at event \
                             {sid} (first at event {s})"
                        ));
                    } else if let Some((cty, cid)) = task.close {
                        bad(format!(
                            "the activity scheduled at event {sid} already closed ({cty} at \
                             event {cid})"
                        ));
                    } else {
                        task.started = Some(id);
                    }
                }
                EventAttributes::ActivityTaskCancelRequested(_) => {
                    task.cancel_requested.get_or_insert(id);
                }
                _ => {
                    let started_ref = match &e.attributes {
                        EventAttributes::ActivityTaskCompleted(a) => a.started_event_id,
                        EventAttributes::ActivityTaskFailed(a) => a.started_event_id,
                        EventAttributes::ActivityTaskTimedOut(a) => a.started_event_id,
                        EventAttributes::ActivityTaskCanceled(a) => a.started_event_id,
                        _ => 0,
                    };
                    if let Some((cty, cid)) = task.close {
                        bad(format!(
                            "a second close of the activity scheduled at event {sid} (first: \
                             {cty} at event {cid})"
                        ));
                        return;
                    }
                    task.close = Some((ty, id));
                    match task.started {
                        Some(s) if s != started_ref => bad(format!(
                            "started_event_id {started_ref} but the activity scheduled at event \
                             {sid} started at event {s}"
                        )),
                        None if started_ref != 0 => bad(format!(
                            "started_event_id {started_ref} but the activity scheduled at event \
                             {sid} has no ActivityTaskStarted before it"
                        )),
                        _ => {}
                    }
                    if let EventAttributes::ActivityTaskCanceled(c) = &e.attributes {
                        match task.cancel_requested {
                            None => bad(format!(
                                "the activity scheduled at event {sid} was never requested to \
                                 cancel"
                            )),
                            Some(r)
                                if c.latest_cancel_requested_event_id != 0
                                    && c.latest_cancel_requested_event_id < r =>
                            {
                                bad(format!(
                                    "latest_cancel_requested_event_id {} is before the first \
                                     cancel request (event {r})",
                                    c.latest_cancel_requested_event_id
                                ))
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
        EventAttributes::WorkflowTaskStarted(s) => {
            let sid = s.scheduled_event_id;
            let Some(task) = wfts.get_mut(&sid) else {
                bad(format!(
                    "scheduled_event_id {sid} is not an earlier WorkflowTaskScheduled"
                ));
                return;
            };
            if let Some(first) = task.started {
                bad(format!(
                    "a second WorkflowTaskStarted for the workflow task scheduled at event {sid} \
                     (first at event {first})"
                ));
            } else if let Some((cty, cid)) = task.close {
                bad(format!(
                    "the workflow task scheduled at event {sid} already closed ({cty} at event \
                     {cid})"
                ));
            } else {
                task.started = Some(id);
            }
        }
        EventAttributes::WorkflowTaskCompleted(_)
        | EventAttributes::WorkflowTaskFailed(_)
        | EventAttributes::WorkflowTaskTimedOut(_) => {
            let (sid, started_ref) = match &e.attributes {
                EventAttributes::WorkflowTaskCompleted(a) => {
                    (a.scheduled_event_id, a.started_event_id)
                }
                EventAttributes::WorkflowTaskFailed(a) => {
                    (a.scheduled_event_id, a.started_event_id)
                }
                EventAttributes::WorkflowTaskTimedOut(a) => {
                    (a.scheduled_event_id, a.started_event_id)
                }
                _ => (0, 0),
            };
            let Some(task) = wfts.get_mut(&sid) else {
                bad(format!(
                    "scheduled_event_id {sid} is not an earlier WorkflowTaskScheduled"
                ));
                return;
            };
            if let Some((cty, cid)) = task.close {
                bad(format!(
                    "a second close of the workflow task scheduled at event {sid} (first: {cty} \
                     at event {cid})"
                ));
                return;
            }
            task.close = Some((ty, id));
            let may_be_unstarted = ty == EventType::WorkflowTaskTimedOut;
            match task.started {
                Some(s) if s != started_ref => bad(format!(
                    "started_event_id {started_ref} but the workflow task scheduled at event \
                     {sid} started at event {s}"
                )),
                None if started_ref != 0 || !may_be_unstarted => bad(format!(
                    "started_event_id {started_ref} but the workflow task scheduled at event \
                     {sid} never started"
                )),
                _ => {}
            }
        }
        EventAttributes::TimerStarted(t) => {
            if let Some((sid, _)) = timers
                .iter()
                .find(|(_, x)| x.timer_id == t.timer_id && x.end.is_none())
            {
                bad(format!(
                    "timer id {:?} started again while the one started at event {sid} is pending",
                    t.timer_id
                ));
            }
            timers.insert(
                id,
                Timer {
                    timer_id: t.timer_id.clone(),
                    end: None,
                },
            );
        }
        EventAttributes::TimerFired(_) | EventAttributes::TimerCanceled(_) => {
            let (sid, timer_id) = match &e.attributes {
                EventAttributes::TimerFired(t) => (t.started_event_id, &t.timer_id),
                EventAttributes::TimerCanceled(t) => (t.started_event_id, &t.timer_id),
                _ => return,
            };
            let Some(timer) = timers.get_mut(&sid) else {
                bad(format!(
                    "started_event_id {sid} is not an earlier TimerStarted"
                ));
                return;
            };
            if timer.timer_id != *timer_id {
                bad(format!(
                    "timer id {timer_id:?} but event {sid} started timer {:?}",
                    timer.timer_id
                ));
            }
            match timer.end {
                Some((ety, eid)) if ety == ty => bad(format!(
                    "timer {:?} (started at event {sid}) already ended with {ety} at event {eid}",
                    timer.timer_id
                )),
                Some((ety, eid)) => bad(format!(
                    "timer {:?} (started at event {sid}) both fired and canceled: {ety} at event \
                     {eid}",
                    timer.timer_id
                )),
                None => timer.end = Some((ty, id)),
            }
        }
        _ => {}
    }
}

impl Invariant for HistoryWellFormed {
    fn name(&self) -> &str {
        "history-well-formed"
    }

    fn check(&self, outcome: &Outcome) -> Result<(), Violation> {
        let mut problems = Vec::new();
        for (exec, h) in &outcome.histories {
            for p in history_problems(h) {
                problems.push(format!("{exec}: {p}"));
            }
        }
        verdict(self.name(), problems)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::*;
    use crate::history::{
        parse_history, ActivityTaskCancelRequested, ActivityTaskCanceled, TimerCanceled,
        WorkflowTaskTimedOut,
    };

    fn check(o: &Outcome) -> Result<(), Violation> {
        HistoryWellFormed.check(o)
    }

    fn one(h: History) -> Result<(), Violation> {
        let mut o = outcome();
        *only(&mut o) = h;
        check(&o)
    }

    fn message(h: History) -> String {
        one(h).unwrap_err().message
    }

    #[test]
    fn passes_on_a_good_history() {
        assert_eq!(check(&outcome()), Ok(()));
    }

    #[test]
    fn real_temporal_histories_are_well_formed() {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../fixtures/temporal-histories"
        );
        let mut n = 0;
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        names.sort();
        for path in names {
            let h = parse_history(&std::fs::read_to_string(&path).unwrap()).unwrap();
            assert_eq!(history_problems(&h), Vec::<String>::new(), "{path:?}");
            n += 1;
        }
        assert!(n >= 4, "{n} fixture histories");
    }

    #[test]
    fn a_child_result_must_name_its_initiation() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../fixtures/temporal-histories/children.json"
        );
        let text = std::fs::read_to_string(path).unwrap();
        // Event 10 (the first child's completion) names event 4 instead of 5.
        let from = "\"initiatedEventId\": \"5\",\n        \"startedEventId\": \"6\"";
        assert!(text.contains(from));
        let text = text.replacen(
            from,
            "\"initiatedEventId\": \"4\",\n        \"startedEventId\": \"6\"",
            1,
        );
        let h = parse_history(&text).unwrap();
        assert_eq!(
            history_problems(&h),
            [
                "event 10 ChildWorkflowExecutionCompleted: initiated_event_id 4 is not an earlier \
                 StartChildWorkflowExecutionInitiated (event 4 is a WorkflowTaskCompleted)"
            ]
        );
    }

    #[test]
    fn gap_in_ids() {
        let mut h = transfer_history(WF, RUN);
        h.events.remove(5);
        let m = message(h);
        assert!(
            m.starts_with(
                "wf-1/run-1: event 7 ActivityTaskCompleted: id 7 at position 6 (ids must be 1, \
                 2, 3, ...)"
            ),
            "{m}"
        );
    }

    #[test]
    fn first_event_must_be_started() {
        let mut h = transfer_history(WF, RUN);
        h.events.remove(0);
        for (i, e) in h.events.iter_mut().enumerate() {
            e.event_id = i as EventId + 1;
        }
        let m = message(h);
        assert!(
            m.contains(
                "event 1 WorkflowTaskScheduled: the first event must be WorkflowExecutionStarted"
            ),
            "{m}"
        );
    }

    #[test]
    fn event_after_close() {
        let mut hb = Hb {
            events: transfer_history(WF, RUN).events,
            now_ms: 6000,
        };
        hb.wft_scheduled();
        assert_eq!(
            message(hb.build()),
            "wf-1/run-1: event 18 WorkflowTaskScheduled: after the close event 17 \
             WorkflowExecutionCompleted"
        );
    }

    #[test]
    fn second_close_of_an_activity() {
        let mut h = transfer_history(WF, RUN);
        // Event 13 (deposit completed) becomes a second close of the withdraw (scheduled 5).
        if let EventAttributes::ActivityTaskCompleted(c) = &mut h.events[12].attributes {
            let c = std::sync::Arc::make_mut(c);
            c.scheduled_event_id = 5;
            c.started_event_id = 6;
        }
        let m = message(h);
        assert!(
            m.starts_with(
                "wf-1/run-1: event 13 ActivityTaskCompleted: a second close of the activity \
                 scheduled at event 5 (first: ActivityTaskCompleted at event 7)"
            ),
            "{m}"
        );
    }

    #[test]
    fn activity_events_must_refer_to_a_scheduled_activity_and_its_start() {
        let mut h = transfer_history(WF, RUN);
        if let EventAttributes::ActivityTaskStarted(s) = &mut h.events[5].attributes {
            let s = std::sync::Arc::make_mut(s);
            s.scheduled_event_id = 4;
        }
        let m = message(h);
        assert!(
            m.contains(
                "event 6 ActivityTaskStarted: scheduled_event_id 4 is not an earlier \
                 ActivityTaskScheduled"
            ),
            "{m}"
        );
        assert!(
            m.contains(
                "event 7 ActivityTaskCompleted: started_event_id 6 but the activity scheduled \
                 at event 5 has no ActivityTaskStarted before it"
            ),
            "{m}"
        );
        let mut h = transfer_history(WF, RUN);
        if let EventAttributes::ActivityTaskCompleted(c) = &mut h.events[6].attributes {
            let c = std::sync::Arc::make_mut(c);
            c.started_event_id = 3;
        }
        assert_eq!(
            message(h),
            "wf-1/run-1: event 7 ActivityTaskCompleted: started_event_id 3 but the activity \
             scheduled at event 5 started at event 6"
        );
    }

    #[test]
    fn activity_started_twice_or_after_close() {
        let mut hb = Hb::new("Transfer", WF, RUN, &1i64);
        let c = hb.wft();
        let s = hb.activity(c, "1", "withdraw");
        let st = hb.activity_started(s, 1);
        hb.activity_started(s, 2);
        hb.activity_completed(s, st, "W");
        hb.activity_started(s, 3);
        let m = message(hb.build());
        assert!(
            m.contains(
                "event 7 ActivityTaskStarted: a second ActivityTaskStarted for the activity \
                 scheduled at event 5 (first at event 6)"
            ),
            "{m}"
        );
        assert!(
            m.contains(
                "event 9 ActivityTaskStarted: a second ActivityTaskStarted for the activity"
            ),
            "{m}"
        );
    }

    #[test]
    fn canceled_activity_needs_a_cancel_request() {
        let mut hb = Hb::new("Transfer", WF, RUN, &1i64);
        let c = hb.wft();
        let s = hb.activity(c, "1", "withdraw");
        let cancel = |hb: &mut Hb, req| {
            hb.push(EventAttributes::ActivityTaskCanceled(std::sync::Arc::new(
                ActivityTaskCanceled {
                    latest_cancel_requested_event_id: req,
                    scheduled_event_id: s,
                    ..Default::default()
                },
            )))
        };
        let mut bad = Hb {
            events: hb.events.clone(),
            now_ms: 0,
        };
        cancel(&mut bad, 0);
        assert_eq!(
            message(bad.build()),
            "wf-1/run-1: event 6 ActivityTaskCanceled: the activity scheduled at event 5 was \
             never requested to cancel"
        );
        let c2 = hb.wft();
        let r = hb.push(EventAttributes::ActivityTaskCancelRequested(
            std::sync::Arc::new(ActivityTaskCancelRequested {
                scheduled_event_id: s,
                workflow_task_completed_event_id: c2,
                ..Default::default()
            }),
        ));
        cancel(&mut hb, r);
        assert_eq!(history_problems(&hb.build()), Vec::<String>::new());
    }

    #[test]
    fn workflow_task_events_must_match_their_task() {
        let mut h = transfer_history(WF, RUN);
        // Event 10 (WFT completed) names started 3 instead of 9.
        if let EventAttributes::WorkflowTaskCompleted(c) = &mut h.events[9].attributes {
            let c = std::sync::Arc::make_mut(c);
            c.started_event_id = 3;
        }
        assert_eq!(
            message(h),
            "wf-1/run-1: event 10 WorkflowTaskCompleted: started_event_id 3 but the workflow \
             task scheduled at event 8 started at event 9"
        );
        let mut h = transfer_history(WF, RUN);
        if let EventAttributes::WorkflowTaskStarted(s) = &mut h.events[8].attributes {
            let s = std::sync::Arc::make_mut(s);
            s.scheduled_event_id = 7;
        }
        let m = message(h);
        assert!(
            m.starts_with(
                "wf-1/run-1: event 9 WorkflowTaskStarted: scheduled_event_id 7 is not an \
                 earlier WorkflowTaskScheduled"
            ),
            "{m}"
        );
    }

    #[test]
    fn workflow_task_timed_out_before_start_is_fine() {
        let mut hb = Hb::new("Transfer", WF, RUN, &1i64);
        let s = hb.wft_scheduled();
        hb.push(EventAttributes::WorkflowTaskTimedOut(std::sync::Arc::new(
            WorkflowTaskTimedOut {
                scheduled_event_id: s,
                started_event_id: 0,
                timeout_type: crate::history::TimeoutType::ScheduleToStart,
                extra: Default::default(),
            },
        )));
        hb.wft();
        assert_eq!(history_problems(&hb.build()), Vec::<String>::new());
    }

    #[test]
    fn command_events_need_an_earlier_workflow_task_completed() {
        let mut h = transfer_history(WF, RUN);
        if let EventAttributes::ActivityTaskScheduled(s) = &mut h.events[10].attributes {
            let s = std::sync::Arc::make_mut(s);
            s.workflow_task_completed_event_id = 9;
        }
        assert_eq!(
            message(h),
            "wf-1/run-1: event 11 ActivityTaskScheduled: workflow_task_completed_event_id 9 is \
             not an earlier WorkflowTaskCompleted (event 9 is a WorkflowTaskStarted)"
        );
    }

    #[test]
    fn timer_fired_twice_or_fired_and_canceled() {
        let mut hb = Hb::new("Transfer", WF, RUN, &1i64);
        let c = hb.wft();
        let t = hb.timer(c, "1");
        hb.timer_fired(t, "1");
        let ok = hb.build();
        assert_eq!(history_problems(&ok), Vec::<String>::new());
        let mut twice = Hb {
            events: ok.events.clone(),
            now_ms: 0,
        };
        twice.timer_fired(t, "1");
        assert_eq!(
            message(twice.build()),
            "wf-1/run-1: event 7 TimerFired: timer \"1\" (started at event 5) already ended \
             with TimerFired at event 6"
        );
        let mut both = Hb {
            events: ok.events,
            now_ms: 0,
        };
        let c2 = both.wft();
        both.push(EventAttributes::TimerCanceled(std::sync::Arc::new(
            TimerCanceled {
                timer_id: "1".into(),
                started_event_id: t,
                workflow_task_completed_event_id: c2,
                ..Default::default()
            },
        )));
        assert_eq!(
            message(both.build()),
            "wf-1/run-1: event 10 TimerCanceled: timer \"1\" (started at event 5) both fired \
             and canceled: TimerFired at event 6"
        );
    }

    #[test]
    fn timer_fired_must_name_its_started_timer() {
        let mut hb = Hb::new("Transfer", WF, RUN, &1i64);
        let c = hb.wft();
        let t = hb.timer(c, "1");
        hb.timer_fired(t, "2");
        hb.timer_fired(c, "1");
        let m = message(hb.build());
        assert_eq!(
            m,
            "wf-1/run-1: event 6 TimerFired: timer id \"2\" but event 5 started timer \"1\"; \
             wf-1/run-1: event 7 TimerFired: started_event_id 4 is not an earlier TimerStarted"
        );
    }

    #[test]
    fn workflow_task_time_going_backwards() {
        let mut h = transfer_history(WF, RUN);
        h.events[8].event_time = ts(2500);
        assert_eq!(
            message(h),
            "wf-1/run-1: event 9 WorkflowTaskStarted: time goes backwards: 500000000 ns before \
             workflow-task event 8"
        );
    }

    #[test]
    fn problems_are_capped_per_run() {
        let mut h = transfer_history(WF, RUN);
        for e in h.events.iter_mut() {
            e.event_id += 100;
        }
        let p = history_problems(&h);
        assert_eq!(p.len(), MAX_PER_RUN + 1);
        assert!(p[MAX_PER_RUN].starts_with("and "), "{p:?}");
    }
}
