//! Command validation: required attributes, duplicate ids.

use super::*;

#[test]
fn activity_without_start_or_schedule_to_close_timeout_is_rejected() {
    let mut h = H::new();
    let key = h.start("bad-activity");
    let task = h.poll_wft();
    let mut a = act("1");
    a.start_to_close_timeout = None;
    a.schedule_to_close_timeout = Some(Duration::ZERO);
    assert_eq!(h.complete(&task, vec![schedule(a)]), Response::Ok);
    let events = h.events(&key);
    assert_eq!(types(&events[3..]), seq("WorkflowTaskFailed"));
    assert_eq!(
        wft_failed(&events[3]).cause,
        WorkflowTaskFailedCause::BadScheduleActivityAttributes
    );
    assert_eq!(h.status(&key), WorkflowStatus::Running);
    assert!(h.try_poll_act().is_none());
    // Either timeout alone is enough.
    let retry = h.poll_wft();
    let mut only_s2c = act("1");
    only_s2c.start_to_close_timeout = None;
    only_s2c.schedule_to_close_timeout = Some(secs(30));
    assert_eq!(h.complete(&retry, vec![schedule(only_s2c)]), completed());
    assert_eq!(
        *h.types(&key).last().unwrap(),
        EventType::ActivityTaskScheduled
    );
}

#[test]
fn duplicate_activity_id_is_rejected_in_one_task_and_against_pending() {
    let mut h = H::new();
    let key = h.start("dup-activity");
    let task = h.poll_wft();
    assert_eq!(
        h.complete(&task, vec![schedule(act("1")), schedule(act("1"))]),
        Response::Ok
    );
    assert_eq!(
        wft_failed(&h.last(&key)).cause,
        WorkflowTaskFailedCause::ScheduleActivityDuplicateId
    );
    let retry = h.poll_wft();
    h.complete(&retry, vec![schedule(act("1"))]);
    h.signal(&key, "go", "s1");
    let task = h.poll_wft();
    let n = h.events(&key).len();
    assert_eq!(h.complete(&task, vec![schedule(act("1"))]), Response::Ok);
    let events = h.events(&key);
    assert_eq!(types(&events[n..]), seq("WorkflowTaskFailed"));
    assert_eq!(
        wft_failed(&events[n]).cause,
        WorkflowTaskFailedCause::ScheduleActivityDuplicateId
    );
    // No second activity task exists.
    assert!(h.try_poll_act().is_some());
    assert!(h.try_poll_act().is_none());
}

#[test]
fn duplicate_timer_id_is_rejected_in_one_task_and_against_pending() {
    let mut h = H::new();
    let key = h.start("dup-timer");
    let task = h.poll_wft();
    h.complete(&task, vec![timer("t", secs(5)), timer("t", secs(6))]);
    assert_eq!(
        wft_failed(&h.last(&key)).cause,
        WorkflowTaskFailedCause::StartTimerDuplicateId
    );
    let retry = h.poll_wft();
    h.complete(&retry, vec![timer("t", secs(5))]);
    h.signal(&key, "go", "s1");
    let task = h.poll_wft();
    let n = h.events(&key).len();
    h.complete(&task, vec![timer("t", secs(9))]);
    let events = h.events(&key);
    assert_eq!(types(&events[n..]), seq("WorkflowTaskFailed"));
    assert_eq!(
        wft_failed(&events[n]).cause,
        WorkflowTaskFailedCause::StartTimerDuplicateId
    );
    assert_eq!(h.eng.execution(&key).unwrap().ms.timers.len(), 1);
}
