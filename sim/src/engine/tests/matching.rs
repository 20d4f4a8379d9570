//! Long polls: parked, answered when a task arrives, answered empty when they expire.

use super::*;

#[test]
fn parked_poll_is_answered_when_a_task_arrives() {
    let mut h = H::new();
    let key = started_with(&mut h, "long-poll", vec![schedule(act("1"))]);
    let _ = h.poll_act();
    let (parked, r) = h.send(Request::PollWorkflowTask(wire::PollTaskQueue {
        task_queue: QUEUE.into(),
        identity: "w2".into(),
        wait: secs(60),
    }));
    assert!(r.is_none());
    assert_eq!(
        h.eng.next_wakeup(),
        Some(at(10)),
        "the activity timeout comes first"
    );
    h.advance_to(at(3));
    assert!(h.late_reply(parked).is_none());
    // A signal (a later handle) makes a task: the parked poll gets it in that step.
    h.signal(&key, "go", "s1");
    match h.late_reply(parked) {
        Some(Response::WorkflowTask(Some(t))) => {
            assert_eq!(t.token.exec, key);
            assert_eq!(
                *types(&t.events).last().unwrap(),
                EventType::WorkflowTaskStarted
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        *h.types(&key).last().unwrap(),
        EventType::WorkflowTaskStarted
    );
}

#[test]
fn parked_poll_is_answered_empty_when_its_wait_expires() {
    let mut h = H::new();
    let (parked, r) = h.send(Request::PollActivityTask(wire::PollTaskQueue {
        task_queue: QUEUE.into(),
        identity: "w".into(),
        wait: secs(30),
    }));
    assert!(r.is_none());
    assert_eq!(h.eng.next_wakeup(), Some(at(30)));
    h.advance_to(at_ms(29_999));
    assert!(h.late_reply(parked).is_none());
    h.advance_to(at(30));
    assert_eq!(h.late_reply(parked), Some(Response::ActivityTask(None)));
    assert_eq!(h.eng.next_wakeup(), None);
    // The expired poll does not take a later task.
    let key = started_with(&mut h, "after-expiry", vec![schedule(act("1"))]);
    assert!(h.late.is_empty());
    assert!(h.try_poll_act().is_some());
    assert_eq!(h.status(&key), WorkflowStatus::Running);
}

#[test]
fn get_history_waiting_for_close_is_answered_when_the_run_closes() {
    let mut h = H::new();
    let key = started_with(&mut h, "wait-close", vec![timer("t", secs(5))]);
    let (waiter, r) = h.send(Request::GetHistory(wire::GetHistory {
        workflow_id: key.workflow_id.clone(),
        run_id: None,
        wait_for_close: true,
        wait: secs(3600),
    }));
    assert!(r.is_none(), "parked until close");
    h.advance_to(at(5));
    assert!(
        h.late_reply(waiter).is_none(),
        "the timer firing does not close it"
    );
    h.run_wft(vec![complete_wf()]);
    match h.late_reply(waiter) {
        Some(Response::History {
            exec,
            events,
            status,
        }) => {
            assert_eq!(exec, key);
            assert_eq!(status, WorkflowStatus::Completed);
            assert_eq!(events, h.events(&key));
            assert_eq!(
                *types(&events).last().unwrap(),
                EventType::WorkflowExecutionCompleted
            );
        }
        other => panic!("{other:?}"),
    }
    // A wait that expires first is answered with the run's status and no events (as Temporal's
    // close-event long poll answers an empty page): the caller polls again.
    let key2 = h.start("wait-expire");
    let (waiter, _) = h.send(Request::GetHistory(wire::GetHistory {
        workflow_id: key2.workflow_id.clone(),
        run_id: None,
        wait_for_close: true,
        wait: secs(20),
    }));
    h.advance(secs(20));
    match h.late_reply(waiter) {
        Some(Response::History { status, events, .. }) => {
            assert_eq!(status, WorkflowStatus::Running);
            assert!(events.is_empty(), "{events:?}");
        }
        other => panic!("{other:?}"),
    }
}
