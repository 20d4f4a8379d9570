//! Activities: retries and backoff, timeouts, heartbeats.

use super::*;

/// Fails every attempt of the one pending activity and returns the delays between a failure
/// and the next attempt's availability (checking it is not available a millisecond early).
fn retry_delays(h: &mut H, attempts: usize) -> Vec<Duration> {
    let mut delays = Vec::new();
    let mut a = h.poll_act();
    for n in 1..=attempts {
        assert_eq!(a.attempt, n as i32);
        h.fail_act(&a.token, app_failure(&format!("attempt {n}"), "Transient"));
        let failed_at = h.now;
        let ready = h.eng.next_wakeup().expect("a retry is pending");
        h.advance_to(Timestamp::from_nanos(ready.as_nanos() - 1_000_000));
        assert!(h.try_poll_act().is_none(), "attempt {} early", n + 1);
        h.advance_to(ready);
        delays.push(ready.since(failed_at));
        a = h.poll_act();
    }
    delays
}

#[test]
fn default_retry_policy_backs_off_1_2_4_seconds_up_to_100_seconds() {
    let mut h = H::new();
    started_with(&mut h, "retry-default", vec![schedule(act("1"))]);
    let delays = retry_delays(&mut h, 9);
    assert_eq!(
        delays,
        [1, 2, 4, 8, 16, 32, 64, 100, 100].map(secs).to_vec()
    );
}

#[test]
fn retry_delay_is_capped_at_maximum_interval_and_not_available_early() {
    let mut h = H::new();
    let mut a = act("1");
    a.retry_policy = Some(RetryPolicy {
        initial_interval: Some(Duration::from_millis(500)),
        backoff_coefficient: Some(3.0),
        maximum_interval: Some(secs(5)),
        ..RetryPolicy::default()
    });
    started_with(&mut h, "retry-capped", vec![schedule(a)]);
    let t = h.poll_act();
    h.fail_act(&t.token, app_failure("1", "Transient"));
    // 0.5 s, then 1.5 s, 4.5 s, 5 s (cap), 5 s.
    let mut token = t.token;
    for (n, ms) in [(2, 500u64), (3, 1500), (4, 4500), (5, 5000), (6, 5000)] {
        let failed_at = h.now;
        h.advance_to(failed_at.plus(Duration::from_millis(ms - 1)));
        assert!(h.try_poll_act().is_none(), "attempt {n} available early");
        h.advance_to(failed_at.plus(Duration::from_millis(ms)));
        let next = h.poll_act();
        assert_eq!(next.attempt, n);
        assert_ne!(next.token, token);
        token = next.token.clone();
        h.fail_act(&token, app_failure(&n.to_string(), "Transient"));
    }
}

#[test]
fn non_retryable_error_types_and_flag_close_the_activity_on_the_first_failure() {
    let mut h = H::new();
    let mut a = act("1");
    a.retry_policy = Some(RetryPolicy {
        non_retryable_error_types: vec!["CardDeclined".into()],
        ..RetryPolicy::default()
    });
    let key = started_with(
        &mut h,
        "retry-nonretryable",
        vec![schedule(a), schedule(act("2"))],
    );
    let t1 = h.poll_act();
    let t2 = h.poll_act();
    h.fail_act(&t1.token, app_failure("declined", "CardDeclined"));
    h.fail_act(
        &t2.token,
        Failure::application("bad input", "Validation", true),
    );
    let events = h.events(&key);
    assert_eq!(
        types(&events[6..]),
        seq(
            "ActivityTaskStarted ActivityTaskFailed WorkflowTaskScheduled \
             ActivityTaskStarted ActivityTaskFailed"
        )
    );
    for i in [7, 10] {
        match &events[i].attributes {
            A::ActivityTaskFailed(f) => {
                assert_eq!(f.retry_state, RetryState::NonRetryableFailure)
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(activity_started(&events[6]).attempt, 1);
    h.advance(secs(600));
    assert!(h.try_poll_act().is_none());
    // A similar but different error type does retry (exact match).
    let mut h = H::new();
    let mut b = act("3");
    b.retry_policy = Some(RetryPolicy {
        non_retryable_error_types: vec!["CardDeclined".into()],
        ..RetryPolicy::default()
    });
    started_with(&mut h, "retry-nonretryable-2", vec![schedule(b)]);
    let t3 = h.poll_act();
    h.fail_act(&t3.token, app_failure("x", "CardDeclinedTemporarily"));
    h.advance(secs(1));
    assert_eq!(h.poll_act().attempt, 2);
}

#[test]
fn maximum_attempts_reached_writes_only_the_final_attempt() {
    let mut h = H::new();
    let mut a = act("1");
    a.retry_policy = Some(RetryPolicy {
        maximum_attempts: 3,
        ..RetryPolicy::default()
    });
    let key = started_with(&mut h, "retry-max", vec![schedule(a)]);
    for n in 1..=3 {
        let t = h.poll_act();
        assert_eq!(t.attempt, n);
        h.fail_act(&t.token, app_failure(&format!("failure {n}"), "Transient"));
        if n < 3 {
            assert_eq!(h.events(&key).len(), 5, "no events for attempt {n}");
            h.advance(h.eng.next_wakeup().unwrap().since(h.now));
        }
    }
    let events = h.events(&key);
    assert_eq!(
        types(&events[4..]),
        seq("ActivityTaskScheduled ActivityTaskStarted ActivityTaskFailed WorkflowTaskScheduled")
    );
    let started = activity_started(&events[5]);
    assert_eq!(started.attempt, 3);
    assert_eq!(
        started.last_failure.as_ref().map(|f| f.message.as_str()),
        Some("failure 2")
    );
    match &events[6].attributes {
        A::ActivityTaskFailed(f) => {
            assert_eq!(f.retry_state, RetryState::MaximumAttemptsReached);
            assert_eq!(f.failure.as_ref().unwrap().message, "failure 3");
            assert_eq!((f.scheduled_event_id, f.started_event_id), (5, 6));
        }
        other => panic!("{other:?}"),
    }
    // Started is written when the task closes, with the time the final attempt started.
    assert_eq!(events[5].event_time, at(3));
    assert_eq!(events[6].event_time, at(3));
}

#[test]
fn schedule_to_close_bounds_all_attempts() {
    let mut h = H::new();
    let mut a = act("1");
    a.start_to_close_timeout = Some(secs(3));
    a.schedule_to_close_timeout = Some(secs(10));
    let key = started_with(&mut h, "retry-s2c", vec![schedule(a)]);
    // Every attempt is taken and never finished. t=0: attempt 1; times out at 3, retry at 4;
    // attempt 2 times out at 7, retry at 9; attempt 3 is cut by schedule-to-close at 10.
    let mut starts = Vec::new();
    while h.status(&key) == WorkflowStatus::Running
        && h.eng.execution(&key).unwrap().ms.activities.len() == 1
    {
        if let Some(t) = h.try_poll_act() {
            starts.push((t.attempt, h.now));
        }
        let next = h.eng.next_wakeup().expect("pending");
        h.advance_to(next);
    }
    assert_eq!(starts, vec![(1, at(0)), (2, at(4)), (3, at(9))]);
    let events = h.events(&key);
    assert_eq!(
        types(&events[5..]),
        seq("ActivityTaskStarted ActivityTaskTimedOut WorkflowTaskScheduled")
    );
    assert_eq!(activity_started(&events[5]).attempt, 3);
    match &events[6].attributes {
        A::ActivityTaskTimedOut(t) => {
            assert_eq!(t.retry_state, RetryState::Timeout);
            assert!(matches!(
                t.failure.as_ref().unwrap().info,
                FailureInfo::Timeout {
                    timeout_type: TimeoutType::ScheduleToClose,
                    ..
                }
            ));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(events[6].event_time, at(10));
}

#[test]
fn a_retry_that_would_start_after_schedule_to_close_is_not_made() {
    let mut h = H::new();
    let mut a = act("1");
    a.schedule_to_close_timeout = Some(secs(5));
    a.retry_policy = Some(RetryPolicy {
        initial_interval: Some(secs(10)),
        ..RetryPolicy::default()
    });
    let key = started_with(&mut h, "retry-s2c-fail", vec![schedule(a)]);
    let t = h.poll_act();
    h.advance(secs(1));
    h.fail_act(&t.token, app_failure("no", "Transient"));
    match &h.events(&key)[6].attributes {
        A::ActivityTaskFailed(f) => assert_eq!(f.retry_state, RetryState::Timeout),
        other => panic!("{other:?}"),
    }
}

#[test]
fn schedule_to_start_timeout_times_the_activity_out_without_a_started_event() {
    let mut h = H::new();
    let mut a = act("1");
    a.schedule_to_start_timeout = Some(secs(5));
    let key = started_with(&mut h, "retry-s2s", vec![schedule(a)]);
    h.advance_to(at_ms(4999));
    assert_eq!(h.events(&key).len(), 5);
    h.advance_to(at(5));
    let events = h.events(&key);
    assert_eq!(
        types(&events[4..]),
        seq("ActivityTaskScheduled ActivityTaskTimedOut WorkflowTaskScheduled")
    );
    match &events[5].attributes {
        A::ActivityTaskTimedOut(t) => {
            assert_eq!(t.retry_state, RetryState::Timeout);
            assert_eq!(t.started_event_id, 0);
            assert!(matches!(
                t.failure.as_ref().unwrap().info,
                FailureInfo::Timeout {
                    timeout_type: TimeoutType::ScheduleToStart,
                    ..
                }
            ));
        }
        other => panic!("{other:?}"),
    }
    assert!(h.try_poll_act().is_none());
}

#[test]
fn heartbeat_timeout_fails_the_attempt_and_hands_details_to_the_next() {
    let mut h = H::new();
    let mut a = act("1");
    a.start_to_close_timeout = Some(secs(60));
    a.heartbeat_timeout = Some(secs(5));
    let key = started_with(&mut h, "retry-heartbeat", vec![schedule(a)]);
    let t = h.poll_act();
    assert_eq!(t.heartbeat_details, None);
    h.advance(secs(4));
    assert_eq!(
        h.heartbeat(&t.token, Some(payload("row 41"))),
        Response::Heartbeat {
            cancel_requested: false
        }
    );
    // The heartbeat pushed the deadline to 4 + 5 = 9 s.
    h.advance_to(at_ms(8999));
    assert_eq!(h.eng.execution(&key).unwrap().ms.activities[&5].attempt, 1);
    h.advance_to(at(9));
    let state = h.eng.execution(&key).unwrap().ms.activities[&5].clone();
    assert_eq!(state.attempt, 2);
    assert!(matches!(
        state.last_failure.as_ref().unwrap().info,
        FailureInfo::Timeout {
            timeout_type: TimeoutType::Heartbeat,
            ..
        }
    ));
    assert_eq!(h.events(&key).len(), 5, "a retried attempt writes no event");
    h.advance_to(at(10));
    let t2 = h.poll_act();
    assert_eq!(t2.attempt, 2);
    assert_eq!(t2.heartbeat_details, Some(payload("row 41")));
    h.complete_act(&t2.token, "ok");
    let events = h.events(&key);
    let started = activity_started(&events[5]);
    assert_eq!(started.attempt, 2);
    assert!(matches!(
        started.last_failure.as_ref().unwrap().info,
        FailureInfo::Timeout {
            timeout_type: TimeoutType::Heartbeat,
            ..
        }
    ));
    assert_eq!(
        types(&events[5..]),
        seq("ActivityTaskStarted ActivityTaskCompleted WorkflowTaskScheduled")
    );
}

/// Server 1.32's heartbeat timing (`activity_rules.rs`): the timer set at start is not moved by
/// heartbeats; when it fires early it is re-armed no sooner than 1 s later.
#[test]
fn a_heartbeat_at_start_moves_a_one_second_heartbeat_timeout_to_two_seconds() {
    let mut h = H::new();
    let mut a = act("1");
    a.start_to_close_timeout = Some(secs(60));
    a.heartbeat_timeout = Some(secs(1));
    a.retry_policy = Some(crate::history::RetryPolicy {
        maximum_attempts: 1,
        ..Default::default()
    });
    let key = started_with(&mut h, "hb-timing", vec![schedule(a)]);
    let t = h.poll_act();
    let start = h.now;
    h.advance(Duration::from_millis(10));
    h.heartbeat(&t.token, Some(payload("first")));
    h.advance_to(start.plus(Duration::from_millis(1999)));
    assert!(h
        .eng
        .execution(&key)
        .unwrap()
        .ms
        .activities
        .contains_key(&5));
    h.advance_to(start.plus(secs(2)));
    let events = h.events(&key);
    let timed_out = events
        .iter()
        .find_map(|e| match &e.attributes {
            A::ActivityTaskTimedOut(t) => Some((e.event_time, t.clone())),
            _ => None,
        })
        .expect("timed out at +2 s");
    assert_eq!(timed_out.0, start.plus(secs(2)));
    let failure = timed_out.1.failure.clone().unwrap();
    assert_eq!(
        failure.info,
        FailureInfo::Timeout {
            timeout_type: TimeoutType::Heartbeat,
            last_heartbeat_details: Some(payload("first")),
        }
    );
    assert_eq!(
        failure.cause, None,
        "a first attempt has no earlier failure"
    );
}
