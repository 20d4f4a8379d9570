//! Limits: payload sizes, history length, pending activities (Temporal's defaults).

use super::*;

#[test]
fn oversized_activity_input_fails_the_task_then_terminates_the_workflow() {
    let mut h = H::new();
    let key = h.start("limits-payload");
    let task = h.poll_wft();
    let mut big = act("1");
    big.input = Some(sized(MIB2 + 1));
    assert_eq!(h.complete(&task, vec![schedule(big)]), Response::Ok);
    assert_eq!(
        h.types(&key),
        seq(
            "WorkflowExecutionStarted WorkflowTaskScheduled WorkflowTaskStarted \
             WorkflowTaskFailed WorkflowExecutionTerminated"
        )
    );
    let events = h.events(&key);
    let failed = wft_failed(&events[3]);
    assert_eq!(
        failed.cause,
        WorkflowTaskFailedCause::BadScheduleActivityAttributes
    );
    assert_eq!((failed.scheduled_event_id, failed.started_event_id), (2, 3));
    let reason = terminated_reason(&events[4]);
    assert!(
        reason.contains(&(MIB2 + 1).to_string()) && reason.contains(&MIB2.to_string()),
        "reason names the size and the limit: {reason}"
    );
    assert_eq!(h.status(&key), WorkflowStatus::Terminated);
    // Nothing was scheduled and nothing is pending.
    assert!(h.try_poll_act().is_none());
    assert!(h.try_poll_wft().is_none());
    h.advance(secs(60));
    assert_eq!(h.events(&key).len(), 5);

    // Exactly at the limit is fine.
    let key2 = h.start("limits-payload-ok");
    let mut ok = act("1");
    ok.input = Some(sized(MIB2));
    h.run_wft(vec![schedule(ok)]);
    assert_eq!(
        *h.types(&key2).last().unwrap(),
        EventType::ActivityTaskScheduled
    );
    assert_eq!(h.status(&key2), WorkflowStatus::Running);
}

#[test]
fn oversized_terminal_command_payloads_name_their_command_in_the_cause() {
    // Temporal's WORKFLOW_TASK_FAILED_CAUSE_BAD_*_ATTRIBUTES numbers: 7 complete, 9 cancel,
    // 11 continue-as-new, 6 record marker.
    let cases: Vec<(Command, WorkflowTaskFailedCause)> = vec![
        (
            Command::CompleteWorkflowExecution {
                result: Some(sized(MIB2 + 1)),
            },
            WorkflowTaskFailedCause::Other(7),
        ),
        (
            Command::CancelWorkflowExecution {
                details: Some(sized(MIB2 + 1)),
            },
            WorkflowTaskFailedCause::Other(9),
        ),
        (
            Command::ContinueAsNewWorkflowExecution(ContinueAsNewWorkflowExecution {
                workflow_type: String::new(),
                task_queue: TaskQueue::default(),
                input: Some(sized(MIB2 + 1)),
                workflow_run_timeout: None,
                workflow_task_timeout: None,
            }),
            WorkflowTaskFailedCause::Other(11),
        ),
        (
            Command::RecordMarker {
                marker_name: "side_effect".into(),
                details: BTreeMap::from([("data".to_string(), sized(MIB2 + 1))]),
                failure: None,
            },
            WorkflowTaskFailedCause::BadRecordMarkerAttributes,
        ),
    ];
    let mut h = H::new();
    for (i, (command, cause)) in cases.into_iter().enumerate() {
        let name = command.name();
        let key = h.start(&format!("limits-{i}"));
        let task = h.poll_wft();
        assert_eq!(h.complete(&task, vec![command]), Response::Ok);
        let events = h.events(&key);
        assert_eq!(
            types(&events[3..]),
            seq("WorkflowTaskFailed WorkflowExecutionTerminated"),
            "{name}"
        );
        assert_eq!(wft_failed(&events[3]).cause, cause, "{name}");
        assert!(terminated_reason(&events[4]).contains(name), "{name}");
        assert_eq!(h.status(&key), WorkflowStatus::Terminated, "{name}");
        // No new run from an oversized continue-as-new.
        assert_eq!(h.eng.executions().count(), i + 1);
    }
}

#[test]
fn oversized_start_input_is_rejected_with_invalid_argument() {
    let mut h = H::new();
    let mut req = start_req("limits-start", "r1");
    req.input = Some(sized(MIB2 + 1));
    let r = h.call(Request::from(req));
    assert!(
        matches!(&r, Response::Error(ServerError::InvalidArgument(m)) if m.contains(&MIB2.to_string())),
        "{r:?}"
    );
    assert_eq!(h.last_writes, 0);
    assert_eq!(h.eng.executions().count(), 0);
    let r = h.call(Request::Describe(wire::Describe {
        workflow_id: "limits-start".into(),
        run_id: None,
    }));
    assert!(is_not_found(&r), "{r:?}");

    let mut req = start_req("limits-start", "r2");
    req.input = Some(sized(MIB2));
    assert!(matches!(
        h.call(Request::from(req)),
        Response::Started { .. }
    ));
}

#[test]
fn oversized_signal_input_is_rejected_and_writes_nothing() {
    let mut h = H::new();
    let key = h.start("limits-signal");
    let before = h.events(&key);
    let r = h.call(Request::Signal(wire::Signal {
        workflow_id: key.workflow_id.clone(),
        run_id: None,
        signal_name: "big".into(),
        input: Some(sized(MIB2 + 1)),
        identity: "client".into(),
        request_id: "s1".into(),
    }));
    assert!(
        matches!(r, Response::Error(ServerError::InvalidArgument(_))),
        "{r:?}"
    );
    assert_eq!(h.last_writes, 0);
    assert_eq!(h.events(&key), before);
}

#[test]
fn oversized_activity_result_fails_the_activity_non_retryably() {
    let mut h = H::new();
    let key = started_with(&mut h, "limits-result", vec![schedule(act("1"))]);
    let a = h.poll_act();
    let r = h.call(Request::CompleteActivityTask(wire::CompleteActivityTask {
        token: a.token.clone(),
        result: Some(sized(MIB2 + 1)),
        identity: WORKER.into(),
    }));
    assert_eq!(r, Response::Ok);
    let events = h.events(&key);
    assert_eq!(
        types(&events[5..]),
        seq("ActivityTaskStarted ActivityTaskFailed WorkflowTaskScheduled")
    );
    match &events[6].attributes {
        A::ActivityTaskFailed(f) => {
            assert_eq!(f.retry_state, RetryState::NonRetryableFailure);
            let failure = f.failure.as_ref().expect("failure");
            assert!(failure.is_non_retryable(), "{failure:?}");
        }
        other => panic!("{other:?}"),
    }
    // No retry is pending.
    h.advance(secs(120));
    assert!(h.try_poll_act().is_none());
}

/// Drives a workflow that schedules a timer or an activity in every task until the history
/// limit stops it. After every step, an open run is below the limit: the step that reaches it
/// is the one that terminates the run.
fn drive_until_terminated(h: &mut H, wid: &str, limit: usize) -> ExecKey {
    let key = h.start(wid);
    let mut tasks = 0;
    for _ in 0..1000 {
        if h.status(&key) != WorkflowStatus::Running {
            return key;
        }
        assert!(h.len(&key) < limit, "open at {} events", h.len(&key));
        if let Some(task) = h.try_poll_wft() {
            if h.status(&key) != WorkflowStatus::Running {
                return key;
            }
            assert!(h.len(&key) < limit);
            tasks += 1;
            let cmd = if tasks % 2 == 0 {
                timer(&format!("t{tasks}"), secs(1))
            } else {
                schedule(act(&format!("a{tasks}")))
            };
            assert_eq!(h.complete(&task, vec![cmd]), completed());
        } else if let Some(a) = h.try_poll_act() {
            assert_eq!(h.complete_act(&a.token, "ok"), Response::Ok);
        } else {
            h.advance(secs(1));
        }
    }
    panic!("never terminated");
}

#[test]
fn history_count_limit_terminates_the_run_and_nothing_is_appended_after() {
    let limit = 50;
    let mut h = H::with_limits(Limits {
        history_max_events: limit,
        ..Limits::default()
    });
    let key = drive_until_terminated(&mut h, "limits-history", limit);
    let events = h.events(&key);
    let n = events.len();
    // The events before the termination reached the limit (and every earlier step was below
    // it, checked while driving).
    assert!(n > limit, "terminated early at {n} events");
    assert!(
        events[..n - 1]
            .iter()
            .any(|e| e.event_type() == EventType::ActivityTaskCompleted),
        "activities ran too"
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| e.event_type() == EventType::WorkflowExecutionTerminated)
            .count(),
        1
    );
    let reason = terminated_reason(&events[n - 1]);
    assert!(
        reason.contains("history") && reason.contains(&limit.to_string()),
        "{reason}"
    );
    assert_eq!(h.status(&key), WorkflowStatus::Terminated);
    let ms = &h.eng.execution(&key).unwrap().ms;
    assert!(ms.activities.is_empty() && ms.timers.is_empty() && ms.wft.is_none());
    // Nothing after: time passes, workers poll, clients signal.
    h.advance(secs(3600));
    assert!(h.try_poll_wft().is_none());
    assert!(h.try_poll_act().is_none());
    assert!(is_not_found(&h.signal(&key, "late", "s-late")));
    assert_eq!(h.events(&key).len(), n);
    assert_eq!(h.eng.next_wakeup(), None);
}

#[test]
fn history_count_limit_at_the_real_default_of_51200_events() {
    let started = std::time::Instant::now();
    let limit = Limits::default().history_max_events;
    assert_eq!(limit, 51_200);
    let mut h = H::new();
    let key = h.start("limits-history-default");
    // Each task records many markers and a 1 s timer; the sticky queue keeps the tasks small.
    let mut task = h.poll_wft();
    let mut rounds = 0;
    loop {
        let mut commands: Vec<Command> = (0..995).map(|i| marker(&format!("m{i}"))).collect();
        commands.push(timer(&format!("t{rounds}"), secs(1)));
        let len_before = h.len(&key);
        assert_eq!(h.complete_sticky(&task, commands), completed());
        rounds += 1;
        if h.status(&key) != WorkflowStatus::Running {
            assert!(len_before < limit);
            break;
        }
        h.advance(secs(1));
        if h.status(&key) != WorkflowStatus::Running {
            break;
        }
        task = h.try_poll_wft_on(STICKY).expect("sticky task");
        // Only what the cached worker lacks: its own completion and commands, the timer, the
        // new task (1,000 events), not the whole history.
        assert!(task.sticky);
        assert_eq!(task.events.len(), 1000);
        assert_eq!(task.first_event_id as usize, h.len(&key) - 999);
    }
    // Each round adds 1,000 events; round 52 takes the history from 51,003 to 52,000.
    let n = h.len(&key);
    assert_eq!(rounds, 52);
    assert_eq!(n, 52_001);
    let last = h.last(&key);
    assert!(terminated_reason(&last).contains("51200"));
    h.advance(secs(10));
    assert_eq!(h.len(&key), n);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn more_than_2000_pending_activities_fail_the_task_and_it_is_retried() {
    let limit = Limits::default().pending_activities;
    assert_eq!(limit, 2000);
    let mut h = H::new();
    let key = h.start("limits-activities");
    let task = h.poll_wft();
    let too_many: Vec<Command> = (0..=limit).map(|i| schedule(act(&i.to_string()))).collect();
    assert_eq!(h.complete(&task, too_many), Response::Ok);
    let events = h.events(&key);
    assert_eq!(
        types(&events),
        seq(
            "WorkflowExecutionStarted WorkflowTaskScheduled WorkflowTaskStarted WorkflowTaskFailed"
        )
    );
    assert_eq!(
        wft_failed(&events[3]).cause,
        WorkflowTaskFailedCause::PendingActivitiesLimitExceeded
    );
    assert_eq!(h.status(&key), WorkflowStatus::Running);
    // Retried at once (attempt 2, transient) and exactly the limit is accepted.
    let retry = h.poll_wft();
    assert_eq!(retry.token.attempt, 2);
    let exactly: Vec<Command> = (0..limit).map(|i| schedule(act(&i.to_string()))).collect();
    assert_eq!(h.complete(&retry, exactly), completed());
    let events = h.events(&key);
    assert_eq!(events.len(), 4 + 3 + limit);
    assert_eq!(wft_scheduled(&events[4]).attempt, 2);
    assert_eq!(
        h.eng.execution(&key).unwrap().ms.activities.len(),
        limit,
        "all pending"
    );
}
