//! Durability and recovery: what a restarted engine rebuilds from the store.

use super::*;

/// One workflow through timers, an activity that times out and retries, a signal, and an
/// activity that completes; `h.restart()` is called before every step listed in `restart_at`.
fn recovery_script(h: &mut H, restart_at: &[usize]) -> ExecKey {
    let mut step = 0usize;
    let mut checkpoint = |h: &mut H| {
        if restart_at.contains(&step) {
            h.restart();
        }
        step += 1;
    };
    checkpoint(h);
    let key = h.start("durable");
    checkpoint(h);
    let mut a = act("1");
    a.start_to_close_timeout = Some(secs(5));
    let t = h.poll_wft();
    checkpoint(h);
    h.complete_sticky(&t, vec![schedule(a), timer("nap", secs(30))]);
    checkpoint(h);
    let lost = h.poll_act(); // the worker dies holding it
    assert_eq!(lost.attempt, 1);
    checkpoint(h);
    h.advance_to(at(5)); // start-to-close timeout, retry at 6
    checkpoint(h);
    h.advance_to(at(6));
    checkpoint(h);
    let a2 = h.poll_act();
    assert_eq!(a2.attempt, 2);
    checkpoint(h);
    h.advance_to(at(8));
    h.signal(&key, "hurry", "sig-1");
    checkpoint(h);
    let t2 = h.try_poll_wft_on(STICKY).expect("sticky task");
    checkpoint(h);
    h.complete_act(&a2.token, "charged"); // buffered: the task is running
    checkpoint(h);
    h.advance_to(at(9));
    h.complete_sticky(&t2, vec![]);
    checkpoint(h);
    let t3 = h.try_poll_wft_on(STICKY).expect("sticky task");
    checkpoint(h);
    h.complete_sticky(&t3, vec![]);
    checkpoint(h);
    h.advance_to(at(30)); // the timer fires
    checkpoint(h);
    let t4 = h.try_poll_wft_on(STICKY).expect("sticky task");
    checkpoint(h);
    h.complete(&t4, vec![complete_wf()]);
    checkpoint(h);
    key
}

fn shape(events: &[HistoryEvent]) -> Vec<(i64, EventType, Timestamp)> {
    events
        .iter()
        .map(|e| (e.event_id, e.event_type(), e.event_time))
        .collect()
}

#[test]
fn recovered_engine_continues_to_the_same_history_as_one_never_restarted() {
    let mut reference = H::new();
    let key = recovery_script(&mut reference, &[]);
    let expected = shape(&reference.events(&key));
    assert_eq!(reference.status(&key), WorkflowStatus::Completed);
    assert_eq!(
        types(&reference.events(&key)),
        seq("WorkflowExecutionStarted WorkflowTaskScheduled WorkflowTaskStarted WorkflowTaskCompleted \
             ActivityTaskScheduled TimerStarted WorkflowExecutionSignaled WorkflowTaskScheduled \
             WorkflowTaskStarted WorkflowTaskCompleted ActivityTaskStarted ActivityTaskCompleted \
             WorkflowTaskScheduled WorkflowTaskStarted WorkflowTaskCompleted TimerFired \
             WorkflowTaskScheduled WorkflowTaskStarted WorkflowTaskCompleted WorkflowExecutionCompleted")
    );
    let steps = 17; // checkpoints 0..=16 in `recovery_script`
    for at_step in 1..steps {
        let mut h = H::new();
        let key = recovery_script(&mut h, &[at_step]);
        assert_eq!(h.restarts, 1);
        assert_eq!(
            shape(&h.events(&key)),
            expected,
            "restart before step {at_step}"
        );
        assert_eq!(h.store.histories()[&key], h.events(&key));
    }
    let mut h = H::new();
    let all: Vec<usize> = (1..steps).collect();
    let key = recovery_script(&mut h, &all);
    assert_eq!(h.restarts as usize, steps - 1);
    assert_eq!(
        shape(&h.events(&key)),
        expected,
        "restart before every step"
    );
}

#[test]
fn pending_timers_and_activity_timeouts_fire_after_recovery() {
    let mut h = H::new();
    let mut a = act("1");
    a.start_to_close_timeout = Some(secs(5));
    a.retry_policy = Some(RetryPolicy {
        maximum_attempts: 1,
        ..RetryPolicy::default()
    });
    let key = started_with(
        &mut h,
        "recover-deadlines",
        vec![schedule(a), timer("t", secs(20))],
    );
    let _lost = h.poll_act();
    h.advance_to(at(2));
    h.restart();
    assert_eq!(h.eng.next_wakeup(), Some(at(5)));
    h.advance_to(at(5));
    let t = h.poll_wft();
    h.restart(); // with a task in flight: its timeout survives too
    assert_eq!(h.eng.next_wakeup(), Some(at(15)));
    h.complete(&t, vec![]);
    h.restart();
    assert_eq!(h.eng.next_wakeup(), Some(at(20)));
    h.advance_to(at(20));
    assert_eq!(
        types(&h.events(&key)[4..]),
        seq("ActivityTaskScheduled TimerStarted ActivityTaskStarted ActivityTaskTimedOut \
             WorkflowTaskScheduled WorkflowTaskStarted WorkflowTaskCompleted TimerFired WorkflowTaskScheduled")
    );
}

#[test]
fn parked_polls_are_not_durable() {
    let mut h = H::new();
    let key = started_with(&mut h, "recover-polls", vec![timer("t", secs(10))]);
    let (parked, r) = h.send(Request::PollActivityTask(wire::PollTaskQueue {
        task_queue: QUEUE.into(),
        identity: "old-worker".into(),
        wait: secs(60),
    }));
    assert!(r.is_none(), "parked");
    assert_eq!(h.last_writes, 0, "parking writes nothing");
    h.restart();
    // The old poll is gone: a task arriving does not go to it, and it never expires.
    h.advance_to(at(10));
    let t = h.poll_wft();
    h.complete(&t, vec![schedule(act("1"))]);
    h.advance_to(at(100));
    assert!(
        h.late_reply(parked).is_none(),
        "a poll survived the restart"
    );
    assert!(h.try_poll_act().is_some(), "the task waited for a new poll");
    assert_eq!(h.status(&key), WorkflowStatus::Running);
}
