//! Task tokens: stale, duplicate and late completions are rejected and change nothing.

use super::*;

#[test]
fn activity_completion_with_a_stale_attempt_is_not_found_and_changes_nothing() {
    let mut h = H::new();
    let key = started_with(&mut h, "token-stale", vec![schedule(act("1"))]);
    let first = h.poll_act();
    h.fail_act(&first.token, app_failure("boom", "Transient"));
    h.advance(secs(1));
    let second = h.poll_act();
    assert_eq!(second.attempt, 2);
    for req in [
        Request::CompleteActivityTask(wire::CompleteActivityTask {
            token: first.token.clone(),
            result: None,
            identity: WORKER.into(),
        }),
        Request::FailActivityTask(wire::FailActivityTask {
            token: first.token.clone(),
            failure: Box::new(app_failure("late", "X")),
            identity: WORKER.into(),
        }),
        Request::RecordHeartbeat(wire::RecordHeartbeat {
            token: first.token.clone(),
            details: None,
            identity: WORKER.into(),
        }),
    ] {
        h.assert_rejected_unchanged(&key, req);
    }
    // The current attempt still completes.
    assert_eq!(h.complete_act(&second.token, "ok"), Response::Ok);
}

#[test]
fn duplicate_activity_completion_is_not_found_and_changes_nothing() {
    let mut h = H::new();
    let key = started_with(&mut h, "token-dup", vec![schedule(act("1"))]);
    let a = h.poll_act();
    assert_eq!(h.complete_act(&a.token, "ok"), Response::Ok);
    h.assert_rejected_unchanged(
        &key,
        Request::CompleteActivityTask(wire::CompleteActivityTask {
            token: a.token.clone(),
            result: Some(payload("ok")),
            identity: WORKER.into(),
        }),
    );
    assert_eq!(
        h.types(&key)
            .iter()
            .filter(|t| **t == EventType::ActivityTaskCompleted)
            .count(),
        1
    );
}

#[test]
fn activity_completion_after_its_timeout_is_not_found_and_changes_nothing() {
    let mut h = H::new();
    let mut a1 = act("1");
    a1.retry_policy = Some(RetryPolicy {
        maximum_attempts: 1,
        ..RetryPolicy::default()
    });
    let key = started_with(&mut h, "token-timeout", vec![schedule(a1)]);
    let a = h.poll_act();
    h.advance(secs(10));
    assert_eq!(
        *h.types(&key).iter().rev().nth(1).unwrap(),
        EventType::ActivityTaskTimedOut
    );
    h.assert_rejected_unchanged(
        &key,
        Request::CompleteActivityTask(wire::CompleteActivityTask {
            token: a.token.clone(),
            result: None,
            identity: WORKER.into(),
        }),
    );

    // With retries: the timed-out attempt's token is stale while the retry is pending.
    let mut h = H::new();
    let key2 = started_with(&mut h, "token-timeout-retry", vec![schedule(act("1"))]);
    let a = h.poll_act();
    h.advance(secs(10));
    assert_eq!(
        h.eng
            .execution(&key2)
            .unwrap()
            .ms
            .activities
            .values()
            .next()
            .unwrap()
            .attempt,
        2
    );
    h.assert_rejected_unchanged(
        &key2,
        Request::CompleteActivityTask(wire::CompleteActivityTask {
            token: a.token.clone(),
            result: None,
            identity: WORKER.into(),
        }),
    );
}

#[test]
fn activity_completion_for_a_closed_workflow_is_not_found_and_changes_nothing() {
    let mut h = H::new();
    let key = started_with(&mut h, "token-closed", vec![schedule(act("1"))]);
    let a = h.poll_act();
    h.signal(&key, "finish", "s1");
    h.run_wft(vec![complete_wf()]);
    assert_eq!(h.status(&key), WorkflowStatus::Completed);
    for req in [
        Request::CompleteActivityTask(wire::CompleteActivityTask {
            token: a.token.clone(),
            result: None,
            identity: WORKER.into(),
        }),
        Request::RecordHeartbeat(wire::RecordHeartbeat {
            token: a.token.clone(),
            details: None,
            identity: WORKER.into(),
        }),
    ] {
        h.assert_rejected_unchanged(&key, req);
    }
}

#[test]
fn stale_and_timed_out_workflow_task_tokens_are_not_found_and_change_nothing() {
    let mut h = H::new();
    let key = h.start("token-wft");
    let t1 = h.poll_wft();
    // A wrong started id.
    let mut forged = t1.token.clone();
    forged.started_event_id += 1;
    h.assert_rejected_unchanged(
        &key,
        Request::CompleteWorkflowTask(wire::CompleteWorkflowTask {
            messages: Vec::new(),
            token: forged,
            commands: vec![complete_wf()],
            identity: WORKER.into(),
            sticky_queue: None,
            sdk_metadata: None,
        }),
    );
    // After the task timed out, its token is dead for complete and fail alike.
    h.advance(secs(10));
    assert_eq!(
        *h.types(&key).last().unwrap(),
        EventType::WorkflowTaskTimedOut
    );
    for req in [
        Request::CompleteWorkflowTask(wire::CompleteWorkflowTask {
            messages: Vec::new(),
            token: t1.token.clone(),
            commands: vec![complete_wf()],
            identity: WORKER.into(),
            sticky_queue: None,
            sdk_metadata: None,
        }),
        Request::FailWorkflowTask(wire::FailWorkflowTask {
            token: t1.token.clone(),
            cause: WorkflowTaskFailedCause::NonDeterministicError,
            failure: Box::new(app_failure("x", "y")),
            identity: WORKER.into(),
        }),
    ] {
        h.assert_rejected_unchanged(&key, req);
    }
    // Still rejected while the retry runs; the retry's own token works once.
    let t2 = h.poll_wft();
    h.assert_rejected_unchanged(
        &key,
        Request::CompleteWorkflowTask(wire::CompleteWorkflowTask {
            messages: Vec::new(),
            token: t1.token.clone(),
            commands: vec![],
            identity: WORKER.into(),
            sticky_queue: None,
            sdk_metadata: None,
        }),
    );
    assert_eq!(h.complete(&t2, vec![timer("t", secs(100))]), completed());
    h.assert_rejected_unchanged(
        &key,
        Request::CompleteWorkflowTask(wire::CompleteWorkflowTask {
            messages: Vec::new(),
            token: t2.token.clone(),
            commands: vec![complete_wf()],
            identity: WORKER.into(),
            sticky_queue: None,
            sdk_metadata: None,
        }),
    );
}
