//! Frontend calls: signals, cancellation, terminate, continue-as-new, id reuse.

use super::*;

#[test]
fn signals_are_written_at_any_time_and_schedule_one_task() {
    let mut h = H::new();
    let key = h.start("signals");
    // A task is already pending: the signal is written, no second task.
    assert_eq!(h.signal(&key, "a", "s1"), Response::Ok);
    assert_eq!(
        h.types(&key),
        seq("WorkflowExecutionStarted WorkflowTaskScheduled WorkflowExecutionSignaled")
    );
    // Retried signal (same request id): applied once, no write.
    assert_eq!(h.signal(&key, "a", "s1"), Response::Ok);
    assert_eq!(h.last_writes, 0);
    assert_eq!(h.events(&key).len(), 3);
    let t = h.poll_wft();
    // While the task runs: buffered, then written after its completion, with a new task.
    h.signal(&key, "b", "s2");
    assert_eq!(h.events(&key).len(), 4);
    h.complete(&t, vec![]);
    assert_eq!(
        types(&h.events(&key)[4..]),
        seq("WorkflowTaskCompleted WorkflowExecutionSignaled WorkflowTaskScheduled")
    );
    h.run_wft(vec![]);
    // No task pending: signal + task.
    h.signal(&key, "c", "s3");
    assert_eq!(
        types(&h.events(&key)[9..]),
        seq("WorkflowExecutionSignaled WorkflowTaskScheduled")
    );
    match &h.events(&key)[9].attributes {
        A::WorkflowExecutionSignaled(s) => {
            assert_eq!(s.signal_name, "c");
            assert_eq!(s.input, Some(payload("c")));
        }
        other => panic!("{other:?}"),
    }
    let wrong = ExecKey {
        workflow_id: "nobody".into(),
        run_id: String::new(),
    };
    assert!(is_not_found(&h.signal(&wrong, "x", "s9")));
}

#[test]
fn cancel_request_is_recorded_and_the_workflow_decides_to_cancel() {
    let mut h = H::new();
    let key = started_with(&mut h, "cancel", vec![timer("t", secs(60))]);
    let cancel = Request::RequestCancel(wire::RequestCancel {
        workflow_id: key.workflow_id.clone(),
        run_id: None,
        reason: "no longer needed".into(),
        identity: "client".into(),
    });
    assert_eq!(h.call(cancel.clone()), Response::Ok);
    assert_eq!(
        types(&h.events(&key)[5..]),
        seq("WorkflowExecutionCancelRequested WorkflowTaskScheduled")
    );
    // A second request is a no-op.
    assert_eq!(h.call(cancel), Response::Ok);
    assert_eq!(h.events(&key).len(), 7);
    let t = h.poll_wft();
    h.complete(
        &t,
        vec![
            Command::CancelTimer {
                timer_id: "t".into(),
            },
            Command::CancelWorkflowExecution { details: None },
        ],
    );
    assert_eq!(
        types(&h.events(&key)[7..]),
        seq("WorkflowTaskStarted WorkflowTaskCompleted TimerCanceled WorkflowExecutionCanceled")
    );
    assert_eq!(h.status(&key), WorkflowStatus::Canceled);
    h.advance(secs(120));
    assert_eq!(h.events(&key).len(), 11, "the canceled timer never fires");
}

#[test]
fn cancelling_a_scheduled_activity_cancels_it_at_once() {
    let mut h = H::new();
    let key = started_with(&mut h, "cancel-act", vec![schedule(act("1"))]);
    h.signal(&key, "stop", "s1");
    let t = h.poll_wft();
    h.complete(
        &t,
        vec![Command::RequestCancelActivityTask {
            scheduled_event_id: 5,
        }],
    );
    let events = h.events(&key);
    assert_eq!(
        types(&events[8..]),
        seq("WorkflowTaskCompleted ActivityTaskCancelRequested ActivityTaskCanceled WorkflowTaskScheduled")
    );
    match &events[10].attributes {
        A::ActivityTaskCanceled(c) => {
            assert_eq!(c.scheduled_event_id, 5);
            assert_eq!(c.started_event_id, 0);
            assert_eq!(c.latest_cancel_requested_event_id, 10);
        }
        other => panic!("{other:?}"),
    }
    assert!(
        h.try_poll_act().is_none(),
        "a canceled activity is not dispatched"
    );
}

#[test]
fn cancelling_a_started_activity_goes_through_its_heartbeat() {
    let mut h = H::new();
    let key = started_with(&mut h, "cancel-started", vec![schedule(act("1"))]);
    let a = h.poll_act();
    assert_eq!(
        h.heartbeat(&a.token, None),
        Response::Heartbeat {
            cancel_requested: false
        }
    );
    h.signal(&key, "stop", "s1");
    let t = h.poll_wft();
    h.complete(
        &t,
        vec![Command::RequestCancelActivityTask {
            scheduled_event_id: 5,
        }],
    );
    assert_eq!(
        types(&h.events(&key)[8..]),
        seq("WorkflowTaskCompleted ActivityTaskCancelRequested")
    );
    assert!(
        h.try_poll_wft().is_none(),
        "nothing new for the workflow yet"
    );
    assert_eq!(
        h.heartbeat(&a.token, Some(payload("half"))),
        Response::Heartbeat {
            cancel_requested: true
        }
    );
    assert_eq!(
        h.call(Request::CancelActivityTask(wire::CancelActivityTask {
            token: a.token.clone(),
            details: Some(payload("stopped")),
            identity: WORKER.into(),
        })),
        Response::Ok
    );
    let events = h.events(&key);
    assert_eq!(
        types(&events[10..]),
        seq("ActivityTaskStarted ActivityTaskCanceled WorkflowTaskScheduled")
    );
    match &events[11].attributes {
        A::ActivityTaskCanceled(c) => {
            assert_eq!(c.latest_cancel_requested_event_id, 10);
            assert_eq!(c.started_event_id, 11);
            assert_eq!(c.details, Some(payload("stopped")));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn terminate_closes_the_run_and_drops_pending_work() {
    let mut h = H::new();
    let key = started_with(
        &mut h,
        "terminate",
        vec![schedule(act("1")), timer("t", secs(30))],
    );
    let a = h.poll_act();
    h.signal(&key, "x", "s1");
    let t = h.poll_wft();
    let r = h.call(Request::Terminate(wire::Terminate {
        workflow_id: key.workflow_id.clone(),
        run_id: Some(key.run_id.clone()),
        reason: "operator".into(),
        identity: "admin".into(),
    }));
    assert_eq!(r, Response::Ok);
    let events = h.events(&key);
    assert_eq!(
        types(&events[4..]),
        seq(
            "ActivityTaskScheduled TimerStarted WorkflowExecutionSignaled WorkflowTaskScheduled \
             WorkflowTaskStarted WorkflowTaskFailed WorkflowExecutionTerminated"
        )
    );
    // As Temporal's TerminateWorkflow: the running task is force-closed first.
    assert_eq!(
        wft_failed(&events[9]).cause,
        WorkflowTaskFailedCause::Other(17)
    );
    assert_eq!(terminated_reason(&events[10]), "operator");
    let n = events.len();
    h.assert_rejected_unchanged(
        &key,
        Request::CompleteActivityTask(wire::CompleteActivityTask {
            token: a.token.clone(),
            result: None,
            identity: WORKER.into(),
        }),
    );
    h.assert_rejected_unchanged(
        &key,
        Request::CompleteWorkflowTask(wire::CompleteWorkflowTask {
            messages: Vec::new(),
            token: t.token.clone(),
            commands: vec![complete_wf()],
            identity: WORKER.into(),
            sticky_queue: None,
            sdk_metadata: None,
        }),
    );
    h.advance(secs(60));
    assert_eq!(h.events(&key).len(), n, "the timer does not fire");
    assert!(h.try_poll_act().is_none());
    let r = h.call(Request::Terminate(wire::Terminate {
        workflow_id: key.workflow_id.clone(),
        run_id: None,
        reason: "again".into(),
        identity: "admin".into(),
    }));
    assert!(is_not_found(&r));
}

#[test]
fn continue_as_new_starts_a_new_run_of_the_same_workflow_id() {
    let mut h = H::new();
    let key = h.start("can");
    let t = h.poll_wft();
    h.complete(
        &t,
        vec![Command::ContinueAsNewWorkflowExecution(
            ContinueAsNewWorkflowExecution {
                workflow_type: String::new(),
                task_queue: TaskQueue::default(),
                input: Some(payload("page-2")),
                workflow_run_timeout: None,
                workflow_task_timeout: None,
            },
        )],
    );
    let old = h.events(&key);
    assert_eq!(
        types(&old[3..]),
        seq("WorkflowTaskCompleted WorkflowExecutionContinuedAsNew")
    );
    let new_run = match &old[4].attributes {
        A::WorkflowExecutionContinuedAsNew(c) => {
            assert_eq!(c.workflow_task_completed_event_id, 4);
            assert_eq!(c.workflow_type, "OrderWorkflow");
            c.new_execution_run_id.clone()
        }
        other => panic!("{other:?}"),
    };
    assert_ne!(new_run, key.run_id);
    assert_eq!(h.status(&key), WorkflowStatus::ContinuedAsNew);
    let new_key = ExecKey {
        workflow_id: key.workflow_id.clone(),
        run_id: new_run.clone(),
    };
    let new_events = h.events(&new_key);
    assert_eq!(
        types(&new_events),
        seq("WorkflowExecutionStarted WorkflowTaskScheduled")
    );
    match &new_events[0].attributes {
        A::WorkflowExecutionStarted(s) => {
            assert_eq!(s.workflow_id, key.workflow_id);
            assert_eq!(
                s.continued_execution_run_id.as_deref(),
                Some(key.run_id.as_str())
            );
            assert_eq!(s.first_execution_run_id, key.run_id);
            assert_eq!(s.input, Some(payload("page-2")));
        }
        other => panic!("{other:?}"),
    }
    // Without a run id, reads resolve to the new run.
    match h.call(Request::Describe(wire::Describe {
        workflow_id: key.workflow_id.clone(),
        run_id: None,
    })) {
        Response::Described(d) => {
            assert_eq!(d.exec, new_key);
            assert_eq!(d.status, WorkflowStatus::Running);
        }
        other => panic!("{other:?}"),
    }
    match h.call(Request::GetHistory(wire::GetHistory {
        workflow_id: key.workflow_id.clone(),
        run_id: None,
        wait_for_close: false,
        wait: Duration::ZERO,
    })) {
        Response::History { exec, events, .. } => {
            assert_eq!(exec, new_key);
            assert_eq!(events.len(), 2);
        }
        other => panic!("{other:?}"),
    }
    // The new run's task is on the queue.
    let t2 = h.poll_wft();
    assert_eq!(t2.token.exec, new_key);
}
#[test]
fn one_open_run_per_workflow_id_and_retried_starts_are_idempotent() {
    let mut h = H::new();
    let r1 = h.call(Request::from(start_req("id", "req-1")));
    let Response::Started { run_id } = r1.clone() else {
        panic!("{r1:?}")
    };
    // The same request again: the same run, nothing written.
    assert_eq!(h.call(Request::from(start_req("id", "req-1"))), r1);
    assert_eq!(h.last_writes, 0);
    // Another request while it runs: rejected whatever the policy.
    for policy in [
        IdReusePolicy::AllowDuplicate,
        IdReusePolicy::AllowDuplicateFailedOnly,
        IdReusePolicy::RejectDuplicate,
    ] {
        let mut req = start_req("id", "req-2");
        req.id_reuse_policy = policy;
        assert_eq!(
            h.call(Request::from(req)),
            Response::Error(ServerError::WorkflowAlreadyStarted {
                run_id: run_id.clone()
            })
        );
        assert_eq!(h.last_writes, 0);
    }
    assert_eq!(h.eng.executions().count(), 1);
}

/// Starts `id`, closes it as `close` says, then tries to start it again under `policy`.
fn restart_closed(close: &str, policy: IdReusePolicy) -> Response {
    let mut h = H::new();
    let key = h.start("reuse");
    match close {
        "completed" => {
            h.run_wft(vec![complete_wf()]);
        }
        "failed" => {
            h.run_wft(vec![Command::FailWorkflowExecution {
                failure: app_failure("no", "Bad"),
            }]);
        }
        "terminated" => {
            h.call(Request::Terminate(wire::Terminate {
                workflow_id: "reuse".into(),
                run_id: None,
                reason: "r".into(),
                identity: "admin".into(),
            }));
        }
        _ => unreachable!(),
    }
    assert_ne!(h.status(&key), WorkflowStatus::Running);
    let mut req = start_req("reuse", "second");
    req.id_reuse_policy = policy;
    let r = h.call(Request::from(req));
    if let Response::Started { run_id } = &r {
        assert_ne!(*run_id, key.run_id, "a fresh run id");
        assert_eq!(h.eng.executions().count(), 2);
    } else {
        assert_eq!(h.eng.executions().count(), 1);
    }
    r
}

#[test]
fn id_reuse_policies_on_closed_workflow_ids() {
    use IdReusePolicy::*;
    let started = |r: &Response| matches!(r, Response::Started { .. });
    let rejected = |r: &Response| {
        matches!(
            r,
            Response::Error(ServerError::WorkflowAlreadyStarted { .. })
        )
    };
    for close in ["completed", "failed", "terminated"] {
        assert!(started(&restart_closed(close, AllowDuplicate)), "{close}");
        assert!(rejected(&restart_closed(close, RejectDuplicate)), "{close}");
    }
    assert!(rejected(&restart_closed(
        "completed",
        AllowDuplicateFailedOnly
    )));
    assert!(started(&restart_closed("failed", AllowDuplicateFailedOnly)));
    assert!(started(&restart_closed(
        "terminated",
        AllowDuplicateFailedOnly
    )));
}

#[test]
fn every_run_gets_a_fresh_run_id_even_after_a_restart_with_the_same_seed() {
    let mut h = H::new();
    let first = h.start("fresh");
    h.run_wft(vec![complete_wf()]);
    let other = h.start("fresh-other");
    let closed_history = h.events(&first);
    h.restart();
    let second = h.start("fresh");
    let third = h.start("fresh-3");
    let ids = [&first.run_id, &other.run_id, &second.run_id, &third.run_id];
    for (i, a) in ids.iter().enumerate() {
        for b in &ids[i + 1..] {
            assert_ne!(a, b, "run ids repeat");
        }
    }
    assert_eq!(h.events(&first), closed_history, "the closed run is intact");
    assert_eq!(h.status(&first), WorkflowStatus::Completed);
    assert_eq!(h.status(&second), WorkflowStatus::Running);
}

/// As Temporal does, a continue-as-new that leaves the run timeout unset gives the new run this
/// run's timeout (recorded on the ContinuedAsNew event and the new run's start).
#[test]
fn continue_as_new_keeps_the_run_timeout_unless_the_command_sets_one() {
    let mut h = H::new();
    let mut req = start_req("can-timeout", "req-can-timeout");
    req.workflow_run_timeout = Some(secs(3600));
    let key = match h.call(Request::from(req)) {
        Response::Started { run_id } => ExecKey {
            workflow_id: "can-timeout".into(),
            run_id,
        },
        other => panic!("{other:?}"),
    };
    let t = h.poll_wft();
    h.complete(
        &t,
        vec![Command::ContinueAsNewWorkflowExecution(
            ContinueAsNewWorkflowExecution {
                workflow_type: String::new(),
                task_queue: TaskQueue::default(),
                input: None,
                workflow_run_timeout: None,
                workflow_task_timeout: None,
            },
        )],
    );
    let old = h.events(&key);
    let new_run = match &old[4].attributes {
        A::WorkflowExecutionContinuedAsNew(c) => {
            assert_eq!(c.workflow_run_timeout, Some(secs(3600)));
            c.new_execution_run_id.clone()
        }
        other => panic!("{other:?}"),
    };
    let new_events = h.events(&ExecKey {
        workflow_id: key.workflow_id.clone(),
        run_id: new_run,
    });
    match &new_events[0].attributes {
        A::WorkflowExecutionStarted(s) => assert_eq!(s.workflow_run_timeout, Some(secs(3600))),
        other => panic!("{other:?}"),
    }
}
