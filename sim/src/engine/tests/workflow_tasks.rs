//! Workflow tasks: timeouts, sticky queues, buffered events, transient retries.

use super::*;

#[test]
fn workflow_task_times_out_after_10s_and_the_retry_is_transient() {
    let mut h = H::new();
    let key = h.start("wft-timeout");
    let t1 = h.poll_wft();
    h.advance_to(at_ms(9999));
    assert_eq!(h.events(&key).len(), 3);
    h.advance_to(at(10));
    let events = h.events(&key);
    assert_eq!(
        types(&events),
        seq("WorkflowExecutionStarted WorkflowTaskScheduled WorkflowTaskStarted WorkflowTaskTimedOut")
    );
    match &events[3].attributes {
        A::WorkflowTaskTimedOut(t) => {
            assert_eq!(t.timeout_type, TimeoutType::StartToClose);
            assert_eq!((t.scheduled_event_id, t.started_event_id), (2, 3));
        }
        other => panic!("{other:?}"),
    }
    // The retry: attempt 2, its Scheduled/Started only in the task, not in history.
    h.advance(secs(1));
    let t2 = h.poll_wft();
    assert_eq!(t2.token.attempt, 2);
    assert_ne!(t2.token, t1.token);
    assert_eq!(
        types(&t2.events),
        seq(
            "WorkflowExecutionStarted WorkflowTaskScheduled WorkflowTaskStarted \
             WorkflowTaskTimedOut WorkflowTaskScheduled WorkflowTaskStarted"
        )
    );
    assert_eq!(wft_scheduled(&t2.events[4]).attempt, 2);
    assert_eq!(h.events(&key).len(), 4, "transient events are not written");
    // It times out too: still nothing written, attempt 3 after a 1 s backoff.
    h.advance(secs(10));
    assert_eq!(h.events(&key).len(), 4);
    assert!(h.try_poll_wft().is_none());
    h.advance(secs(1));
    let t3 = h.poll_wft();
    assert_eq!(t3.token.attempt, 3);
    assert_eq!(h.complete(&t3, vec![complete_wf()]), completed());
    let events = h.events(&key);
    assert_eq!(
        types(&events[4..]),
        seq("WorkflowTaskScheduled WorkflowTaskStarted WorkflowTaskCompleted WorkflowExecutionCompleted")
    );
    assert_eq!(wft_scheduled(&events[4]).attempt, 3);
    assert_eq!(events[4].event_id, 5);
    // Scheduled when attempt 2 timed out (21 s), started after the 1 s backoff.
    assert_eq!(events[4].event_time, at(21));
    assert_eq!(events[5].event_time, at(22));
}

#[test]
fn sticky_task_goes_to_the_sticky_queue_with_only_new_events() {
    let mut h = H::new();
    let key = h.start("sticky");
    let t1 = h.poll_wft();
    assert!(!t1.sticky);
    h.complete_sticky(&t1, vec![timer("t", secs(5))]);
    h.advance(secs(5));
    let events = h.events(&key);
    let sched = wft_scheduled(events.last().unwrap());
    assert_eq!(sched.task_queue, TaskQueue::sticky(STICKY, QUEUE));
    assert!(h.try_poll_wft().is_none(), "not on the normal queue");
    let t2 = h.try_poll_wft_on(STICKY).expect("sticky task");
    assert!(t2.sticky);
    assert_eq!(t2.first_event_id, 4);
    assert_eq!(
        types(&t2.events),
        seq("WorkflowTaskCompleted TimerStarted TimerFired WorkflowTaskScheduled WorkflowTaskStarted")
    );
}

#[test]
fn sticky_task_not_picked_up_in_10s_is_rescheduled_on_the_normal_queue() {
    let fixture_path = format!(
        "{}/../fixtures/temporal-histories/transfer-worker-killed.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let fixture =
        crate::history::parse_history(&std::fs::read_to_string(&fixture_path).expect("fixture"))
            .expect("parse fixture");
    let theirs = &fixture.events[13..16];

    let mut h = H::new();
    let key = h.start("sticky-dead");
    let t1 = h.poll_wft();
    h.complete_sticky(&t1, vec![schedule(act("1"))]);
    let a = h.poll_act();
    h.advance(secs(2));
    h.complete_act(&a.token, "ok");
    let scheduled_at = h.now;
    let n = h.events(&key).len();
    h.advance_to(scheduled_at.plus(Duration::from_millis(9999)));
    assert_eq!(h.events(&key).len(), n);
    h.advance_to(scheduled_at.plus(secs(10)));
    let events = h.events(&key);
    let ours = &events[n - 1..];
    assert_eq!(types(ours), types(theirs), "fixture events 14-16");
    for (o, t) in ours.iter().zip(theirs) {
        match (&o.attributes, &t.attributes) {
            (A::WorkflowTaskScheduled(o), A::WorkflowTaskScheduled(t)) => {
                assert_eq!(o.task_queue.kind, t.task_queue.kind);
                assert_eq!(o.attempt, t.attempt);
                assert_eq!(o.start_to_close_timeout, t.start_to_close_timeout);
            }
            (A::WorkflowTaskTimedOut(o), A::WorkflowTaskTimedOut(t)) => {
                assert_eq!(o.timeout_type, TimeoutType::ScheduleToStart);
                assert_eq!(o.timeout_type, t.timeout_type);
                assert_eq!(o.scheduled_event_id, n as i64);
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        wft_scheduled(&ours[0]).task_queue.kind,
        TaskQueueKind::Sticky
    );
    assert_eq!(wft_scheduled(&ours[2]).task_queue, TaskQueue::normal(QUEUE));
    assert_eq!(ours[1].event_time, scheduled_at.plus(secs(10)));
    // Any worker takes it from the normal queue and replays from event 1.
    assert!(h.try_poll_wft_on(STICKY).is_none());
    let t = h.poll_wft();
    assert!(!t.sticky);
    assert_eq!(t.first_event_id, 1);
    assert_eq!(t.events.len(), events.len() + 1);
    assert_eq!(t.token.attempt, 1);
    h.complete(&t, vec![complete_wf()]);
    assert_eq!(h.status(&key), WorkflowStatus::Completed);
}

#[test]
fn activity_result_during_a_running_task_with_a_terminal_command_fails_it_unhandled() {
    let mut h = H::new();
    let key = started_with(&mut h, "unhandled", vec![schedule(act("1"))]);
    let a = h.poll_act();
    h.signal(&key, "nudge", "s1");
    let t2 = h.poll_wft();
    assert_eq!(h.complete_act(&a.token, "paid"), Response::Ok);
    assert_eq!(h.events(&key).len(), 8, "buffered while the task runs");
    assert_eq!(h.complete(&t2, vec![complete_wf()]), Response::Ok);
    let events = h.events(&key);
    assert_eq!(
        types(&events),
        seq("WorkflowExecutionStarted WorkflowTaskScheduled WorkflowTaskStarted WorkflowTaskCompleted \
             ActivityTaskScheduled WorkflowExecutionSignaled WorkflowTaskScheduled WorkflowTaskStarted \
             WorkflowTaskFailed ActivityTaskStarted ActivityTaskCompleted WorkflowTaskScheduled")
    );
    assert_eq!(
        wft_failed(&events[8]).cause,
        WorkflowTaskFailedCause::UnhandledCommand
    );
    // The failure as Server 1.32 writes it: `serverFailureInfo`, message "UnhandledCommand".
    let recorded = crate::history::json::parse_history(include_str!(
        "../../../../fixtures/temporal-histories/unhandled-command.json"
    ))
    .expect("fixture");
    assert_eq!(
        wft_failed(&events[8]).failure,
        wft_failed(&recorded.events[7]).failure
    );
    match &events[10].attributes {
        A::ActivityTaskCompleted(c) => {
            assert_eq!((c.scheduled_event_id, c.started_event_id), (5, 10))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(wft_scheduled(&events[11]).attempt, 1);
    assert_eq!(h.status(&key), WorkflowStatus::Running);
    let t3 = h.poll_wft();
    assert!(t3
        .events
        .iter()
        .any(|e| e.event_type() == EventType::ActivityTaskCompleted));
    h.complete(&t3, vec![complete_wf()]);
    assert_eq!(
        types(&h.events(&key)[12..]),
        seq("WorkflowTaskStarted WorkflowTaskCompleted WorkflowExecutionCompleted")
    );
}

#[test]
fn buffered_events_are_written_after_the_tasks_command_events() {
    let mut h = H::new();
    let key = started_with(&mut h, "buffered", vec![schedule(act("1"))]);
    let a = h.poll_act();
    h.signal(&key, "nudge", "s1");
    let t2 = h.poll_wft();
    h.advance(secs(1));
    h.complete_act(&a.token, "paid");
    h.signal(&key, "second", "s2");
    h.advance(secs(1));
    h.complete(&t2, vec![timer("t", secs(30)), marker("m")]);
    let events = h.events(&key);
    assert_eq!(
        types(&events[8..]),
        seq(
            "WorkflowTaskCompleted TimerStarted MarkerRecorded ActivityTaskStarted \
             ActivityTaskCompleted WorkflowExecutionSignaled WorkflowTaskScheduled"
        )
    );
    // Command events carry the completion's id; buffered events keep their arrival times.
    match &events[9].attributes {
        A::TimerStarted(t) => assert_eq!(t.workflow_task_completed_event_id, 9),
        other => panic!("{other:?}"),
    }
    assert_eq!(events[11].event_time, at(0));
    assert_eq!(events[12].event_time, at(1));
    assert_eq!(events[13].event_time, at(1));
    assert_eq!(events[14].event_time, at(2));
    match &events[12].attributes {
        A::ActivityTaskCompleted(c) => assert_eq!(c.started_event_id, 12),
        other => panic!("{other:?}"),
    }
}

#[test]
fn non_deterministic_failure_retries_without_failing_the_workflow() {
    let mut h = H::new();
    let key = h.start("nondeterminism");
    let t1 = h.poll_wft();
    assert_eq!(
        h.fail_wft(&t1, WorkflowTaskFailedCause::NonDeterministicError),
        Response::Ok
    );
    let written = h.events(&key);
    assert_eq!(
        types(&written),
        seq(
            "WorkflowExecutionStarted WorkflowTaskScheduled WorkflowTaskStarted WorkflowTaskFailed"
        )
    );
    assert_eq!(
        wft_failed(&written[3]).cause,
        WorkflowTaskFailedCause::NonDeterministicError
    );
    // Attempts 2, 3, 4 fail the same way: nothing more is written; backoff 0, 1 s, 2 s.
    for (attempt, backoff) in [(2, 0u64), (3, 1), (4, 2)] {
        h.advance(secs(backoff));
        let t = h.poll_wft();
        assert_eq!(t.token.attempt, attempt);
        assert_eq!(t.events.len(), 6, "history + transient Scheduled/Started");
        assert_eq!(
            h.fail_wft(&t, WorkflowTaskFailedCause::NonDeterministicError),
            Response::Ok
        );
        assert_eq!(h.events(&key), written, "attempt {attempt} wrote events");
        assert_eq!(h.status(&key), WorkflowStatus::Running);
        assert!(
            h.try_poll_wft().is_none(),
            "backoff before attempt {}",
            attempt + 1
        );
    }
    // The code is fixed: attempt 5 completes and its events are written with attempt 5.
    h.advance(secs(4));
    let t = h.poll_wft();
    assert_eq!(t.token.attempt, 5);
    h.complete(&t, vec![complete_wf()]);
    let events = h.events(&key);
    assert_eq!(
        types(&events[4..]),
        seq("WorkflowTaskScheduled WorkflowTaskStarted WorkflowTaskCompleted WorkflowExecutionCompleted")
    );
    assert_eq!(wft_scheduled(&events[4]).attempt, 5);
}
#[test]
fn a_retrying_task_that_new_events_arrive_for_is_written_when_it_starts() {
    let mut h = H::new();
    let key = h.start("transient-converted");
    let t1 = h.poll_wft();
    h.fail_wft(&t1, WorkflowTaskFailedCause::NonDeterministicError);
    // Attempt 2 is pending (transient); a signal arrives before it starts.
    h.advance(secs(1));
    h.signal(&key, "poke", "s1");
    assert_eq!(
        types(&h.events(&key)[3..]),
        seq("WorkflowTaskFailed WorkflowExecutionSignaled"),
        "no second task for the signal"
    );
    h.advance(secs(1));
    let t2 = h.poll_wft();
    assert_eq!(t2.token.attempt, 2);
    let events = h.events(&key);
    assert_eq!(
        types(&events[3..]),
        seq("WorkflowTaskFailed WorkflowExecutionSignaled WorkflowTaskScheduled WorkflowTaskStarted"),
        "converted to a normal task when it started"
    );
    assert_eq!(wft_scheduled(&events[5]).attempt, 2);
    assert_eq!(events[5].event_time, at(2));
    assert_eq!(t2.events, events, "the task carries the written history");
    assert_eq!(
        (t2.token.scheduled_event_id, t2.token.started_event_id),
        (6, 7)
    );
    // Its failure is written; the next attempt (no new events) is transient again.
    h.fail_wft(&t2, WorkflowTaskFailedCause::NonDeterministicError);
    assert_eq!(
        *h.types(&key).last().unwrap(),
        EventType::WorkflowTaskFailed
    );
    let n = h.len(&key);
    h.advance(secs(1));
    let t3 = h.poll_wft();
    assert_eq!(t3.token.attempt, 3);
    assert_eq!(h.len(&key), n);
    h.fail_wft(&t3, WorkflowTaskFailedCause::NonDeterministicError);
    assert_eq!(h.len(&key), n);
    h.advance(secs(2));
    let t4 = h.poll_wft();
    h.complete(&t4, vec![complete_wf()]);
    assert_eq!(
        types(&h.events(&key)[n..]),
        seq("WorkflowTaskScheduled WorkflowTaskStarted WorkflowTaskCompleted WorkflowExecutionCompleted")
    );
}
