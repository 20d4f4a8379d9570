//! The history codecs against the real Temporal exports in `fixtures/temporal-histories/`:
//! reading, writing back, `temporal workflow show` text, and error reporting.

use std::time::Duration;

use std::collections::BTreeSet;

use sim::history::{
    format_duration, format_timestamp, parse_duration, parse_history, show, to_json,
    CancelExternalWorkflowExecutionFailedCause, EventAttributes, EventType, FailureInfo, History,
    HistoryEvent, ParentClosePolicy, RetryState, SignalExternalWorkflowExecutionFailedCause,
    StartChildWorkflowExecutionFailedCause, TaskQueueKind, TimeoutType,
};

/// The histories recorded before every event type was read (their `.txt` is plain
/// `temporal workflow show`; they have no `--detailed` text).
const FIXTURES: [&str; 5] = [
    "transfer-completed",
    "transfer-retried",
    "transfer-failed",
    "transfer-worker-killed",
    "greeting-sleep-30d",
];

fn dir() -> String {
    format!(
        "{}/../fixtures/temporal-histories",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// Every recorded history (each `.json` of the folder), by name, sorted.
fn recorded() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir())
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".json").map(str::to_string)
        })
        .collect();
    names.sort();
    names
}

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/../fixtures/temporal-histories/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path}: {e}"))
}

fn load(name: &str) -> History {
    parse_history(&fixture(&format!("{name}.json"))).unwrap_or_else(|e| panic!("{name}.json: {e}"))
}

/// (id, type) rows of the "Progress:" table in a `.txt` export.
fn txt_rows(txt: &str) -> Vec<(i64, String)> {
    txt.lines()
        .skip_while(|l| !l.starts_with("Progress:"))
        .skip(2)
        .take_while(|l| !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            (cols[0].parse().unwrap(), cols[2].to_string())
        })
        .collect()
}

#[test]
fn every_fixture_loads_with_the_events_of_its_txt() {
    let expected_counts = [17, 17, 23, 19, 5];
    for (name, count) in FIXTURES.iter().zip(expected_counts) {
        assert_eq!(load(name).len(), count, "{name}");
    }
    for name in recorded() {
        let h = load(&name);
        let rows = txt_rows(&fixture(&format!("{name}.txt")));
        let got: Vec<(i64, String)> = h
            .events
            .iter()
            .map(|e| (e.event_id, e.event_type().name().to_string()))
            .collect();
        assert_eq!(got, rows, "{name}");
    }
}

#[test]
fn show_matches_the_cli_text_byte_for_byte() {
    let names = recorded();
    assert!(names.len() >= 21, "{} recorded histories", names.len());
    let mut detailed = 0;
    for name in &names {
        let h = load(name);
        let want = fixture(&format!("{name}.txt"));
        let got = show(&h, false);
        assert_eq!(
            got, want,
            "{name}.txt differs:\n--- got\n{got}\n--- want\n{want}"
        );
        let path = format!("{}/{name}.detailed.txt", dir());
        if let Ok(want) = std::fs::read_to_string(&path) {
            let got = show(&h, true);
            assert_eq!(
                got, want,
                "{name}.detailed.txt differs:\n--- got\n{got}\n--- want\n{want}"
            );
            detailed += 1;
        }
    }
    assert_eq!(detailed, names.len() - FIXTURES.len());
}

#[test]
fn to_json_writes_the_fixtures_back_byte_for_byte() {
    for name in recorded() {
        let name = name.as_str();
        let text = fixture(&format!("{name}.json"));
        let h = parse_history(&text).unwrap();
        let out = to_json(&h);
        // Semantic equality first (a clearer failure), then the bytes.
        let a: serde_json::Value = serde_json::from_str(&text).unwrap();
        let b: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(a, b, "{name}: JSON differs after a round trip");
        assert_eq!(out, text, "{name}: bytes differ after a round trip");
        assert_eq!(parse_history(&out).unwrap(), h, "{name}: History differs");
    }
}

#[test]
fn fixture_attributes_are_read_into_the_model() {
    let h = load("transfer-worker-killed");
    let started = h.started().unwrap();
    assert_eq!(started.workflow_type, "MoneyTransfer");
    assert_eq!(started.workflow_id, "transfer-worker-killed");
    assert_eq!(started.task_queue.kind, TaskQueueKind::Normal);
    assert_eq!(started.workflow_task_timeout, Some(Duration::from_secs(10)));
    assert_eq!(started.first_workflow_task_backoff, Some(Duration::ZERO));
    assert_eq!(started.attempt, 1);
    assert!(started.extra.contains_key("priority"));
    let input: serde_json::Value = started.input.as_ref().unwrap().decode_first().unwrap();
    assert_eq!(input["amount"], 750);
    assert_eq!(h.events[0].task_id, 1_137_442);
    assert_eq!(
        format_timestamp(h.events[0].event_time),
        "2026-11-25T09:42:09.133825693Z"
    );

    let EventAttributes::WorkflowTaskScheduled(sticky) = &h.events[7].attributes else {
        panic!("event 8 is {:?}", h.events[7].event_type());
    };
    assert_eq!(sticky.task_queue.kind, TaskQueueKind::Sticky);
    assert_eq!(sticky.task_queue.normal_name.as_deref(), Some("transfer"));

    let EventAttributes::ActivityTaskScheduled(deposit) = &h.events[10].attributes else {
        panic!()
    };
    assert_eq!(deposit.activity_id, "2");
    assert_eq!(deposit.activity_type, "deposit");
    assert_eq!(deposit.start_to_close_timeout, Some(Duration::from_secs(5)));
    assert_eq!(deposit.schedule_to_close_timeout, Some(Duration::ZERO));
    assert_eq!(deposit.workflow_task_completed_event_id, 10);
    let rp = deposit.retry_policy.as_ref().unwrap();
    assert_eq!(rp.backoff_coefficient, Some(2.0));
    assert_eq!(rp.maximum_interval, Some(Duration::from_secs(100)));
    assert_eq!(
        rp.non_retryable_error_types,
        ["InvalidAccountError", "InsufficientFundsError"]
    );
    assert_eq!(
        deposit.extra.keys().collect::<Vec<_>>(),
        ["header", "useWorkflowBuildId", "priority"]
    );

    let EventAttributes::ActivityTaskStarted(st) = &h.events[11].attributes else {
        panic!()
    };
    assert_eq!(st.attempt, 2);
    let lf = st.last_failure.as_ref().unwrap();
    assert_eq!(lf.source, "Server");
    assert!(matches!(
        lf.info,
        FailureInfo::Timeout {
            timeout_type: TimeoutType::StartToClose,
            ..
        }
    ));

    let EventAttributes::WorkflowTaskTimedOut(t) = &h.events[14].attributes else {
        panic!()
    };
    assert_eq!(t.scheduled_event_id, 14);
    assert_eq!(t.started_event_id, 0);
    assert_eq!(t.timeout_type, TimeoutType::ScheduleToStart);
}

#[test]
fn failure_chains_are_read() {
    let h = load("transfer-failed");
    let EventAttributes::WorkflowExecutionFailed(f) = &h.close_event().unwrap().attributes else {
        panic!()
    };
    assert_eq!(f.retry_state, RetryState::RetryPolicyNotSet);
    let failure = f.failure.as_ref().unwrap();
    let chain: Vec<_> = failure.chain().collect();
    assert_eq!(chain.len(), 3);
    assert_eq!(failure.error_type(), Some("DepositFailed"));
    assert!(failure.is_non_retryable());
    match &chain[1].info {
        FailureInfo::Activity {
            scheduled_event_id,
            started_event_id,
            activity_type,
            activity_id,
            retry_state,
            identity,
        } => {
            assert_eq!((*scheduled_event_id, *started_event_id), (11, 12));
            assert_eq!(
                (activity_type.as_str(), activity_id.as_str()),
                ("deposit", "2")
            );
            assert_eq!(*retry_state, RetryState::NonRetryableFailure);
            assert_eq!(identity, "8670@vm");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(chain[2].error_type(), Some("InvalidAccountError"));
    assert!(!chain[2].is_non_retryable());
    assert!(chain[2].stack_trace.ends_with("is invalid\")\n"));
}

#[test]
fn short_enum_names_numbers_and_bare_arrays_are_accepted() {
    let long = load("transfer-worker-killed");
    let text = fixture("transfer-worker-killed.json")
        .replace(
            "\"EVENT_TYPE_WORKFLOW_TASK_SCHEDULED\"",
            "\"WorkflowTaskScheduled\"",
        )
        .replace("\"EVENT_TYPE_ACTIVITY_TASK_STARTED\"", "11")
        .replace("\"TASK_QUEUE_KIND_NORMAL\"", "\"Normal\"")
        .replace("\"TASK_QUEUE_KIND_STICKY\"", "2")
        .replace("\"TIMEOUT_TYPE_START_TO_CLOSE\"", "\"StartToClose\"")
        .replace("\"TIMEOUT_TYPE_SCHEDULE_TO_START\"", "\"ScheduleToStart\"")
        .replace("\"taskId\": \"1137442\"", "\"taskId\": 1137442")
        .replace("\"eventId\": \"3\"", "\"eventId\": 3");
    let short = parse_history(&text).unwrap();
    assert_eq!(short, long);

    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let bare = serde_json::to_string(&doc["events"]).unwrap();
    assert_eq!(parse_history(&bare).unwrap(), long);
    assert_eq!(parse_history("{}").unwrap(), History::default());
    assert_eq!(parse_history("[]").unwrap(), History::default());
    assert_eq!(to_json(&History::default()), "{}\n");
}

#[test]
fn unmodelled_keys_survive_a_round_trip() {
    let text = r#"{"events": [{
        "eventId": "1", "eventTime": "2026-11-25T09:42:09.5+01:00",
        "eventType": "WorkflowExecutionStarted", "version": "7", "futureTopLevel": {"a": 1},
        "workflowExecutionStartedEventAttributes": {
            "workflowType": {"name": "W", "futureTypeField": true},
            "taskQueue": {"name": "q", "kind": 1, "futureTqField": "x"},
            "memo": {"fields": {}},
            "retryPolicy": {"backoffCoefficient": 1.5, "futureRp": []},
            "continuedFailure": {"message": "m"},
            "zzz": null
        }
    }, {
        "eventId": "2", "eventTime": "2026-11-25T08:42:10Z", "eventType": "EVENT_TYPE_WORKFLOW_TASK_FAILED",
        "workflowTaskFailedEventAttributes": {"scheduledEventId": "1",
            "cause": "WORKFLOW_TASK_FAILED_CAUSE_GRPC_MESSAGE_TOO_LARGE",
            "failure": {"message": "x", "childWorkflowExecutionFailureInfo": {"namespace": "n"},
                "cause": {"message": "y", "applicationFailureInfo": {"type": "T",
                    "nextRetryDelay": "1s", "category": "APPLICATION_ERROR_CATEGORY_BENIGN"}}}}
    }, {
        "eventId": "3", "eventTime": "2026-11-25T08:42:10Z", "eventType": "MarkerRecorded",
        "markerRecordedEventAttributes": {"markerName": "core_patch",
            "details": {"patch_id": {"payloads": [{"metadata": {"encoding": "anNvbi9wbGFpbg=="}, "data": "InYxIg=="}]},
                        "deprecated": {"payloads": [{"metadata": {"encoding": "anNvbi9wbGFpbg=="}, "data": "ZmFsc2U="}]}},
            "workflowTaskCompletedEventId": "2"}
    }]}"#;
    let h = parse_history(text).unwrap();
    assert_eq!(
        h.events[1].event_time.since(h.events[0].event_time),
        Duration::from_millis(500)
    );
    assert_eq!(
        h.events[0].extra.keys().collect::<Vec<_>>(),
        ["version", "futureTopLevel"]
    );
    let started = h.started().unwrap();
    assert_eq!(started.workflow_type, "W");
    assert_eq!(
        started.extra.keys().collect::<Vec<_>>(),
        ["workflowType", "continuedFailure", "zzz"]
    );
    assert_eq!(started.task_queue.kind, TaskQueueKind::Normal);
    assert_eq!(started.task_queue.extra["futureTqField"], "x");
    let rp = started.retry_policy.as_ref().unwrap();
    assert_eq!(rp.backoff_coefficient, Some(1.5));
    assert!(rp.extra.contains_key("futureRp"));

    let EventAttributes::WorkflowTaskFailed(wft) = &h.events[1].attributes else {
        panic!()
    };
    assert_eq!(wft.cause.number(), 36);
    let failure = wft.failure.as_ref().unwrap();
    assert_eq!(failure.info, FailureInfo::None);
    assert!(failure
        .extra
        .contains_key("childWorkflowExecutionFailureInfo"));
    let cause = failure.cause.as_deref().unwrap();
    assert_eq!(cause.error_type(), Some("T"));
    assert_eq!(
        cause.extra["applicationFailureInfo"],
        serde_json::json!({"nextRetryDelay": "1s", "category": "APPLICATION_ERROR_CATEGORY_BENIGN"})
    );

    let EventAttributes::MarkerRecorded(marker) = &h.events[2].attributes else {
        panic!()
    };
    let id: String = marker.details["patch_id"].decode_first().unwrap();
    let deprecated: bool = marker.details["deprecated"].decode_first().unwrap();
    assert_eq!((id.as_str(), deprecated), ("v1", false));

    let out = to_json(&h);
    assert_eq!(parse_history(&out).unwrap(), h);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let e0 = &v["events"][0];
    assert_eq!(e0["eventTime"], "2026-11-25T08:42:09.500Z");
    assert_eq!(e0["eventType"], "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED");
    assert_eq!(
        e0.as_object().unwrap().keys().collect::<Vec<_>>(),
        // Known unmodelled keys at their proto position, unknown ones after the known ones.
        [
            "eventId",
            "eventTime",
            "eventType",
            "version",
            "workflowExecutionStartedEventAttributes",
            "futureTopLevel"
        ]
    );
    let a0 = &e0["workflowExecutionStartedEventAttributes"];
    assert_eq!(
        a0.as_object().unwrap().keys().collect::<Vec<_>>(),
        [
            "workflowType",
            "taskQueue",
            "continuedFailure",
            "retryPolicy",
            "memo",
            "zzz"
        ]
    );
    assert_eq!(
        a0["workflowType"],
        serde_json::json!({"name": "W", "futureTypeField": true})
    );
    assert_eq!(
        a0["taskQueue"],
        serde_json::json!({"name": "q", "kind": "TASK_QUEUE_KIND_NORMAL", "futureTqField": "x"})
    );
    assert_eq!(
        a0["retryPolicy"],
        serde_json::json!({"backoffCoefficient": 1.5, "futureRp": []})
    );
    assert_eq!(a0["zzz"], serde_json::Value::Null);
    let f1 = &v["events"][1]["workflowTaskFailedEventAttributes"];
    assert_eq!(
        f1["cause"],
        "WORKFLOW_TASK_FAILED_CAUSE_GRPC_MESSAGE_TOO_LARGE"
    );
    assert_eq!(
        f1["failure"]["childWorkflowExecutionFailureInfo"]["namespace"],
        "n"
    );
    assert_eq!(
        f1["failure"]["cause"]["applicationFailureInfo"],
        serde_json::json!({"type": "T", "nextRetryDelay": "1s",
                           "category": "APPLICATION_ERROR_CATEGORY_BENIGN"})
    );
}

#[test]
fn duration_and_timestamp_helpers_are_public() {
    assert_eq!(
        parse_duration("2592000s").unwrap(),
        Duration::from_secs(30 * 86_400)
    );
    assert_eq!(parse_duration("1.000000001s").unwrap(), Duration::new(1, 1));
    assert_eq!(format_duration(Duration::from_millis(500)), "0.500s");
    assert!(parse_duration("5x").is_err());
}

#[test]
fn show_results_for_other_outcomes() {
    let base = fixture("greeting-sleep-30d.json");
    let mut doc: serde_json::Value = serde_json::from_str(&base).unwrap();
    let events = doc["events"].as_array_mut().unwrap();
    events.push(serde_json::json!({
        "eventId": "6", "eventTime": "2026-12-25T09:42:44Z",
        "eventType": "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED",
        "workflowExecutionCompletedEventAttributes": {"result": {"payloads": [
            {"metadata": {"encoding": "anNvbi9wbGFpbg=="},
             "data": "eyJ6IjogWzEsIDIuMCwgMWUyMl0sICJhIjogIjxiPiAmIMOpIiwgIm0iOiBbXX0="}]},
            "workflowTaskCompletedEventId": "4"}
    }));
    let h = parse_history(&doc.to_string()).unwrap();
    let text = show(&h, false);
    assert!(
        text.ends_with(concat!(
            "    6  2026-12-25T09:42:44Z  WorkflowExecutionCompleted\n",
            "\n",
            "Results:\n",
            "  Status          COMPLETED\n",
            "  Result          {\"a\":\"\\u003cb\\u003e \\u0026 é\",\"m\":null,\"z\":[1,2,1e+22]}\n",
            "  ResultEncoding  json/plain\n",
        )),
        "{text}"
    );

    // A completion without a result prints `null`, as the CLI does.
    let events = doc["events"].as_array_mut().unwrap();
    events[5]["workflowExecutionCompletedEventAttributes"] =
        serde_json::json!({"workflowTaskCompletedEventId": "4"});
    let text = show(&parse_history(&doc.to_string()).unwrap(), false);
    assert!(
        text.ends_with("Results:\n  Status  COMPLETED\n  Result  null\n"),
        "{text}"
    );

    // Timed out, canceled: status only. Terminated: no results section at all.
    for (ty, key, status) in [
        (
            "EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT",
            "workflowExecutionTimedOutEventAttributes",
            Some("TIMEOUT"),
        ),
        (
            "EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED",
            "workflowExecutionCanceledEventAttributes",
            Some("CANCELED"),
        ),
        (
            "EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED",
            "workflowExecutionTerminatedEventAttributes",
            None,
        ),
    ] {
        let events = doc["events"].as_array_mut().unwrap();
        events[5] = serde_json::json!({
            "eventId": "6", "eventTime": "2026-12-25T09:42:44Z", "eventType": ty, key: {}
        });
        let text = show(&parse_history(&doc.to_string()).unwrap(), false);
        match status {
            Some(s) => assert!(
                text.ends_with(&format!("\n\nResults:\n  Status  {s}\n")),
                "{text}"
            ),
            None => assert!(text.ends_with("WorkflowExecutionTerminated\n\n"), "{text}"),
        }
    }
}

#[test]
fn detailed_show_snapshot() {
    let h = load("transfer-worker-killed");
    let text = show(&h, true);
    let want = r#"Progress:
--------------- [1] WorkflowExecutionStarted ---------------
attempt: 1
eventTime: 2026-11-25T09:42:09.133825693Z
firstExecutionRunId: 01a21215-81ed-7c93-88f4-3f1453044a3a
firstWorkflowTaskBackoff: 0s
identity: 19096@vm
input[0].amount: 750
input[0].deposit_delay_s: 3
input[0].deposit_fail_times: 0
input[0].reference_id: transfer-worker-killed
input[0].source_account: 85-150
input[0].target_account: 43-812
originalExecutionRunId: 01a21215-81ed-7c93-88f4-3f1453044a3a
taskId: 1137442
taskQueue.kind: TASK_QUEUE_KIND_NORMAL
taskQueue.name: transfer
workflowId: transfer-worker-killed
workflowTaskTimeout: 10s
workflowType.name: MoneyTransfer

--------------- [2] WorkflowTaskScheduled ---------------
attempt: 1
eventTime: 2026-11-25T09:42:09.133945031Z
startToCloseTimeout: 10s
taskId: 1137443
taskQueue.kind: TASK_QUEUE_KIND_NORMAL
taskQueue.name: transfer
"#;
    assert!(text.starts_with(want), "{text}");
    let deposit_scheduled = r#"
--------------- [11] ActivityTaskScheduled ---------------
activityId: 2
activityType.name: deposit
eventTime: 2026-11-25T09:42:09.161938121Z
heartbeatTimeout: 0s
input[0].amount: 750
input[0].deposit_delay_s: 3
input[0].deposit_fail_times: 0
input[0].reference_id: transfer-worker-killed
input[0].source_account: 85-150
input[0].target_account: 43-812
retryPolicy.backoffCoefficient: 2
retryPolicy.initialInterval: 1s
retryPolicy.maximumInterval: 100s
retryPolicy.nonRetryableErrorTypes[0]: InvalidAccountError
retryPolicy.nonRetryableErrorTypes[1]: InsufficientFundsError
scheduleToCloseTimeout: 0s
scheduleToStartTimeout: 0s
startToCloseTimeout: 5s
taskId: 1137470
taskQueue.kind: TASK_QUEUE_KIND_NORMAL
taskQueue.name: transfer
useWorkflowBuildId: true
workflowTaskCompletedEventId: 10

--------------- [12] ActivityTaskStarted ---------------
attempt: 2
eventTime: 2026-11-25T09:42:15.166808295Z
identity: 19125@vm
lastFailure.message: activity StartToClose timeout
lastFailure.source: Server
lastFailure.timeoutFailureInfo.timeoutType: TIMEOUT_TYPE_START_TO_CLOSE
requestId: a3b3f97e-441b-45ae-beaa-c7309ae04c00
scheduledEventId: 11
taskId: 1137478
workerVersion.buildId: ccf2f261d299e0a8acf866b205c3997f
"#;
    assert!(text.contains(deposit_scheduled), "{text}");
    let plain = show(&h, false);
    let results = plain.split("\n\nResults:\n").nth(1).unwrap();
    let tail = format!(
        "{}{results}",
        concat!(
            "--------------- [19] WorkflowExecutionCompleted ---------------\n",
            "eventTime: 2026-11-25T09:42:28.195643332Z\n",
            "result[0]: Transfer complete (transaction IDs: W-transfer-worker-killed-withdrawal, D-transfer-worker-killed-deposit)\n",
            "taskId: 1137493\n",
            "workflowTaskCompletedEventId: 18\n",
            "\n",
            "Results:\n",
        )
    );
    assert!(text.ends_with(&tail), "{text}");
    assert_eq!(text.matches("--------------- [").count(), 19);
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

fn err(text: &str) -> String {
    match parse_history(text) {
        Ok(h) => panic!("expected an error, read {} events", h.len()),
        Err(e) => e.to_string(),
    }
}

/// The transfer-completed fixture with one textual replacement (which must apply).
fn mutated(from: &str, to: &str) -> String {
    let text = fixture("transfer-completed.json");
    assert!(text.contains(from), "{from:?} not in fixture");
    text.replacen(from, to, 1)
}

#[test]
fn malformed_json_names_line_and_column() {
    let e = parse_history("{\"events\": [\n  {\"eventId\": \"1\",,}\n]}").unwrap_err();
    assert_eq!((e.line, e.column), (Some(2), Some(19)));
    assert!(
        e.to_string()
            .starts_with("malformed JSON at line 2 column 19: "),
        "{e}"
    );
    let text = fixture("transfer-completed.json");
    let e = parse_history(&text[..text.len() / 2]).unwrap_err();
    assert!(e.to_string().starts_with("malformed JSON at line 1"), "{e}");
    assert!(e.line.is_some(), "{e}");
    assert!(err("").starts_with("malformed JSON at line 1 column 0"));
}

#[test]
fn unknown_event_type_names_the_event_and_the_type() {
    let text = mutated(
        "\"EVENT_TYPE_ACTIVITY_TASK_SCHEDULED\"",
        "\"EVENT_TYPE_ACTIVITY_TASK_EXPLODED\"",
    );
    assert_eq!(
        err(&text),
        "event 5 (index 4): eventType: unknown event type \"EVENT_TYPE_ACTIVITY_TASK_EXPLODED\""
    );
    // A known type whose attributes are not where its type says.
    let text = mutated(
        "\"EVENT_TYPE_ACTIVITY_TASK_SCHEDULED\"",
        "\"EVENT_TYPE_NEXUS_OPERATION_SCHEDULED\"",
    );
    assert_eq!(
        err(&text),
        "event 5 (index 4): activityTaskScheduledEventAttributes: unexpected attributes for an \
         event of type NexusOperationScheduled"
    );
    let text = mutated("\"EVENT_TYPE_WORKFLOW_TASK_STARTED\"", "99");
    assert_eq!(
        err(&text),
        "event 3 (index 2): eventType: unknown event type 99"
    );
}

#[test]
fn missing_fields_name_the_event_and_the_field() {
    let e = parse_history(&mutated("\"eventId\": \"4\",", "")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "event at index 3: eventId: missing required field"
    );
    assert_eq!((e.event_index, e.event_id), (Some(3), None));

    let text = mutated("\"eventType\": \"EVENT_TYPE_WORKFLOW_TASK_STARTED\",", "");
    assert_eq!(
        err(&text),
        "event 3 (index 2): eventType: missing required field"
    );

    let text = mutated("\"eventTime\": \"2026-11-25T09:42:43.989518022Z\",", "");
    assert_eq!(
        err(&text),
        "event 2 (index 1): eventTime: missing required field"
    );

    let text = mutated("\"activityId\": \"1\",", "");
    assert_eq!(
        err(&text),
        "event 5 (index 4): activityTaskScheduledEventAttributes.activityId: missing required field"
    );

    let greeting = fixture("greeting-sleep-30d.json").replace("\"timerId\": \"1\",", "");
    assert_eq!(
        err(&greeting),
        "event 5 (index 4): timerStartedEventAttributes.timerId: missing required field"
    );

    let text = mutated(
        "\"workflowTaskStartedEventAttributes\"",
        "\"somethingElse\"",
    );
    assert_eq!(
        err(&text),
        "event 3 (index 2): workflowTaskStartedEventAttributes: missing required field"
    );
}

#[test]
fn bad_values_name_the_field_path() {
    let text = mutated(
        "\"startToCloseTimeout\": \"5s\"",
        "\"startToCloseTimeout\": \"5x\"",
    );
    let e = err(&text);
    assert!(
        e.starts_with(
            "event 5 (index 4): activityTaskScheduledEventAttributes.startToCloseTimeout: invalid duration \"5x\""
        ),
        "{e}"
    );

    let text = mutated("\"data\": \"eyJ", "\"data\": \"!!!eyJ");
    let e = err(&text);
    assert!(
        e.starts_with(
            "event 1 (index 0): workflowExecutionStartedEventAttributes.input.payloads[0].data: invalid base64 \"!!!eyJ"
        ),
        "{e}"
    );

    let text = mutated(
        "\"eventId\": \"7\"",
        "\"eventId\": \"1000000000000000000000000000000\"",
    );
    assert_eq!(
        err(&text),
        "event at index 6: eventId: invalid int64 \"1000000000000000000000000000000\""
    );
    let text = mutated(
        "\"eventId\": \"7\"",
        "\"eventId\": 1000000000000000000000000000000",
    );
    assert_eq!(
        err(&text),
        "event at index 6: eventId: invalid int64 1e+30 (not an integer in range)"
    );

    let text = mutated(
        "\"eventTime\": \"2026-11-25T09:42:43.989518022Z\"",
        "\"eventTime\": \"yesterday\"",
    );
    let e = err(&text);
    assert!(
        e.starts_with("event 2 (index 1): eventTime: invalid RFC 3339 timestamp \"yesterday\""),
        "{e}"
    );

    let text = mutated(
        "\"kind\": \"TASK_QUEUE_KIND_NORMAL\"",
        "\"kind\": \"TASK_QUEUE_KIND_FAST\"",
    );
    assert_eq!(
        err(&text),
        "event 1 (index 0): workflowExecutionStartedEventAttributes.taskQueue.kind: unknown task queue kind \"TASK_QUEUE_KIND_FAST\""
    );

    let text = mutated("\"attempt\": 1", "\"attempt\": \"one\"");
    assert_eq!(
        err(&text),
        "event 1 (index 0): workflowExecutionStartedEventAttributes.attempt: invalid int32 \"one\""
    );

    let text = mutated("\"scheduledEventId\": \"2\"", "\"scheduledEventId\": true");
    assert_eq!(
        err(&text),
        "event 3 (index 2): workflowTaskStartedEventAttributes.scheduledEventId: expected an int64, found a boolean"
    );

    let text = mutated(
        "\"workflowTaskStartedEventAttributes\"",
        "\"timerFiredEventAttributes\": {}, \"workflowTaskStartedEventAttributes\"",
    );
    assert_eq!(
        err(&text),
        "event 3 (index 2): timerFiredEventAttributes: unexpected attributes for an event of type WorkflowTaskStarted"
    );
}

#[test]
fn non_object_events_and_documents_are_errors() {
    assert_eq!(
        err(r#"{"events": [{"eventId": "1"}, 42]}"#),
        "event 1 (index 0): eventType: missing required field"
    );
    assert_eq!(
        err(r#"{"events": [42]}"#),
        "event at index 0: expected an object, found a number"
    );
    assert_eq!(
        err(r#"{"events": {}}"#),
        "events: expected an array, found an object"
    );
    assert_eq!(
        err(r#"{"events": [], "nextPageToken": "x"}"#),
        "nextPageToken: unexpected top-level key (a history holds only \"events\")"
    );
    assert_eq!(
        err("\"hello\""),
        "expected {\"events\": [...]} or an array of events, found a string"
    );
}

#[test]
fn huge_values_are_errors_with_short_messages() {
    let big = "9".repeat(100 * 1024 * 1024);
    let text = mutated(
        "\"startToCloseTimeout\": \"5s\"",
        &format!("\"startToCloseTimeout\": \"{big}s\""),
    );
    let e = err(&text);
    assert!(e.len() < 400, "message is {} bytes", e.len());
    assert!(
        e.starts_with("event 5 (index 4): activityTaskScheduledEventAttributes.startToCloseTimeout: invalid duration \"9999"),
        "{}",
        &e[..200.min(e.len())]
    );
}

#[test]
fn history_error_is_a_std_error() {
    fn assert_error<E: std::error::Error + Send + Sync + 'static>(_: &E) {}
    let e = parse_history("[").unwrap_err();
    assert_error(&e);
    assert_eq!(
        EventType::parse("TimerStarted"),
        Some(EventType::TimerStarted)
    );
}

// ---------------------------------------------------------------------------------------------
// Every event type
// ---------------------------------------------------------------------------------------------

#[test]
fn every_event_type_of_temporals_api_is_known() {
    assert_eq!(EventType::ALL.len(), 60);
    for (i, t) in EventType::ALL.iter().enumerate() {
        assert_eq!(t.number(), i as i32 + 1, "{t}");
    }
    assert_eq!(
        EventType::WorkflowExecutionUpdateAdmitted.proto_name(),
        "EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ADMITTED"
    );
    assert_eq!(
        EventType::WorkflowExecutionTimeSkippingTransitioned.attributes_key(),
        "workflowExecutionTimeSkippingTransitionedEventAttributes"
    );
}

#[test]
fn the_recorded_histories_cover_the_features_of_a_real_server() {
    let mut seen = BTreeSet::new();
    for name in recorded() {
        seen.extend(load(&name).event_types());
    }
    let recorded_by_features_py = [
        EventType::StartChildWorkflowExecutionInitiated,
        EventType::StartChildWorkflowExecutionFailed,
        EventType::ChildWorkflowExecutionStarted,
        EventType::ChildWorkflowExecutionCompleted,
        EventType::ChildWorkflowExecutionFailed,
        EventType::ChildWorkflowExecutionCanceled,
        EventType::ChildWorkflowExecutionTimedOut,
        EventType::ChildWorkflowExecutionTerminated,
        EventType::SignalExternalWorkflowExecutionInitiated,
        EventType::SignalExternalWorkflowExecutionFailed,
        EventType::ExternalWorkflowExecutionSignaled,
        EventType::RequestCancelExternalWorkflowExecutionInitiated,
        EventType::RequestCancelExternalWorkflowExecutionFailed,
        EventType::ExternalWorkflowExecutionCancelRequested,
        EventType::WorkflowExecutionUpdateAccepted,
        EventType::WorkflowExecutionUpdateCompleted,
        EventType::UpsertWorkflowSearchAttributes,
        EventType::WorkflowPropertiesModified,
        EventType::WorkflowExecutionTimedOut,
        EventType::WorkflowExecutionTerminated,
        EventType::WorkflowExecutionCancelRequested,
        EventType::WorkflowExecutionCanceled,
        EventType::MarkerRecorded,
        EventType::TimerCanceled,
    ];
    let missing: Vec<EventType> = recorded_by_features_py
        .into_iter()
        .filter(|t| !seen.contains(t))
        .collect();
    assert_eq!(
        missing,
        Vec::<EventType>::new(),
        "event types no recorded history holds"
    );
}

fn attrs(h: &History, id: i64) -> &EventAttributes {
    &h.events[id as usize - 1].attributes
}

fn event(h: &History, id: i64) -> &HistoryEvent {
    &h.events[id as usize - 1]
}

#[test]
fn child_workflow_events_are_read_into_the_model() {
    let h = load("children");
    let EventAttributes::StartChildWorkflowExecutionInitiated(i) = attrs(&h, 5) else {
        panic!("{:?}", event(&h, 5).event_type())
    };
    assert_eq!(
        (i.workflow_id.as_str(), i.workflow_type.as_str()),
        ("child-completed", "Child")
    );
    assert_eq!(i.namespace, "default");
    assert_eq!(i.parent_close_policy, ParentClosePolicy::Terminate);
    assert_eq!(i.task_queue.as_ref().unwrap().name, "features");
    assert_eq!(i.workflow_task_completed_event_id, 4);
    assert_eq!(i.workflow_task_timeout, Some(Duration::from_secs(10)));
    let input: String = i.input.as_ref().unwrap().decode_first().unwrap();
    assert_eq!(input, "complete");
    assert!(i.extra.contains_key("workflowIdReusePolicy"));

    let child_run = load("child-completed")
        .started()
        .unwrap()
        .original_execution_run_id
        .clone();
    let EventAttributes::ChildWorkflowExecutionCompleted(c) = attrs(&h, 10) else {
        panic!()
    };
    assert_eq!((c.initiated_event_id, c.started_event_id), (5, 6));
    let exec = c.workflow_execution.as_ref().unwrap();
    assert_eq!(exec.workflow_id, "child-completed");
    assert_eq!(exec.run_id, child_run);
    let result: String = c.result.as_ref().unwrap().decode_first().unwrap();
    assert_eq!(result, "child done (complete)");

    let EventAttributes::ChildWorkflowExecutionFailed(f) = attrs(&h, 19) else {
        panic!()
    };
    assert_eq!(f.retry_state, RetryState::RetryPolicyNotSet);
    let failure = f.failure.as_ref().unwrap();
    assert_eq!(failure.message, "child failed on purpose");
    assert_eq!(failure.error_type(), Some("ChildFailure"));

    let EventAttributes::ChildWorkflowExecutionTimedOut(t) = attrs(&h, 28) else {
        panic!()
    };
    assert_eq!(t.retry_state, RetryState::Timeout);
    let EventAttributes::RequestCancelExternalWorkflowExecutionInitiated(r) = attrs(&h, 37) else {
        panic!()
    };
    assert!(r.child_workflow_only);
    assert_eq!(
        r.workflow_execution.as_ref().unwrap().workflow_id,
        "child-canceled"
    );
    let EventAttributes::ExternalWorkflowExecutionCancelRequested(x) = attrs(&h, 38) else {
        panic!()
    };
    assert_eq!(x.initiated_event_id, 37);
    let EventAttributes::ChildWorkflowExecutionCanceled(c) = attrs(&h, 42) else {
        panic!()
    };
    assert_eq!((c.initiated_event_id, c.started_event_id), (32, 33));
    let EventAttributes::ChildWorkflowExecutionTerminated(c) = attrs(&h, 51) else {
        panic!()
    };
    assert_eq!((c.initiated_event_id, c.started_event_id), (46, 47));
    let EventAttributes::StartChildWorkflowExecutionFailed(f) = attrs(&h, 56) else {
        panic!()
    };
    assert_eq!(
        f.cause,
        StartChildWorkflowExecutionFailedCause::WorkflowAlreadyExists
    );
    assert_eq!(
        (f.workflow_id.as_str(), f.initiated_event_id),
        ("terminated", 55)
    );

    // Commands name the task that sent them; results do not.
    assert_eq!(attrs(&h, 5).workflow_task_completed_event_id(), Some(4));
    assert_eq!(attrs(&h, 56).workflow_task_completed_event_id(), None);
    assert!(EventType::StartChildWorkflowExecutionInitiated.is_command_event());
    assert!(!EventType::ChildWorkflowExecutionStarted.is_command_event());
}

#[test]
fn external_signals_and_cancels_are_read_into_the_model() {
    let h = load("messenger");
    let EventAttributes::SignalExternalWorkflowExecutionInitiated(s) = attrs(&h, 5) else {
        panic!()
    };
    assert_eq!(s.signal_name, "hello");
    assert_eq!(
        s.workflow_execution.as_ref().unwrap().workflow_id,
        "signal-target"
    );
    assert_eq!(s.workflow_execution.as_ref().unwrap().run_id, "");
    let EventAttributes::ExternalWorkflowExecutionSignaled(x) = attrs(&h, 6) else {
        panic!()
    };
    assert_eq!(x.initiated_event_id, 5);
    let EventAttributes::SignalExternalWorkflowExecutionFailed(f) = attrs(&h, 11) else {
        panic!()
    };
    assert_eq!(
        f.cause,
        SignalExternalWorkflowExecutionFailedCause::ExternalWorkflowExecutionNotFound
    );
    assert_eq!(f.initiated_event_id, 10);
    let EventAttributes::RequestCancelExternalWorkflowExecutionFailed(f) = attrs(&h, 21) else {
        panic!()
    };
    assert_eq!(
        f.cause,
        CancelExternalWorkflowExecutionFailedCause::ExternalWorkflowExecutionNotFound
    );
    assert_eq!(f.initiated_event_id, 20);

    // The receiving ends.
    let target = load("signal-target");
    let EventAttributes::WorkflowExecutionSignaled(s) = attrs(&target, 5) else {
        panic!()
    };
    assert_eq!(s.signal_name, "hello");
    assert_eq!(
        s.external_workflow_execution.as_ref().unwrap().workflow_id,
        "messenger"
    );
}

#[test]
fn updates_search_attributes_and_memo_are_read_into_the_model() {
    let h = load("updates");
    let EventAttributes::WorkflowExecutionUpdateAccepted(a) = attrs(&h, 8) else {
        panic!()
    };
    assert_eq!(a.protocol_instance_id, "update-a");
    assert_eq!(a.accepted_request_message_id, "update-a/request");
    assert_eq!(a.accepted_request_sequencing_event_id, 5);
    let request = a.accepted_request.as_ref().unwrap();
    assert_eq!(request.meta.as_ref().unwrap().update_id, "update-a");
    let input = request.input.as_ref().unwrap();
    assert_eq!(input.name, "add");
    let arg: String = input.args.as_ref().unwrap().decode_first().unwrap();
    assert_eq!(arg, "a");
    let EventAttributes::WorkflowExecutionUpdateCompleted(c) = attrs(&h, 9) else {
        panic!()
    };
    assert_eq!(c.accepted_event_id, 8);
    let n: i64 = c
        .outcome
        .as_ref()
        .unwrap()
        .success
        .as_ref()
        .unwrap()
        .decode_first()
        .unwrap();
    assert_eq!(n, 1);
    let EventAttributes::WorkflowExecutionUpdateCompleted(c) = attrs(&h, 14) else {
        panic!()
    };
    let outcome = c.outcome.as_ref().unwrap();
    assert!(outcome.success.is_none());
    assert_eq!(
        outcome.failure.as_ref().unwrap().message,
        "update handler failed"
    );

    let h = load("properties");
    let EventAttributes::UpsertWorkflowSearchAttributes(u) = attrs(&h, 5) else {
        panic!()
    };
    assert_eq!(u.workflow_task_completed_event_id, 4);
    let fields = &u.search_attributes.as_ref().unwrap().indexed_fields;
    assert_eq!(
        fields.keys().collect::<Vec<_>>(),
        ["CustomIntField", "CustomKeywordField"]
    );
    assert_eq!(fields["CustomIntField"].data, b"42");
    assert_eq!(fields["CustomKeywordField"].data, b"\"upserted\"");
    let EventAttributes::WorkflowPropertiesModified(m) = attrs(&h, 11) else {
        panic!()
    };
    let memo = &m.upserted_memo.as_ref().unwrap().fields;
    assert_eq!(memo["note"].data, b"\"modified\"");
    assert_eq!(memo["origin"].encoding(), Some("binary/null"));
}

// ---------------------------------------------------------------------------------------------
// Errors in the new event types
// ---------------------------------------------------------------------------------------------

/// Fixture `name` with its first `from` replaced by `to` (which must apply).
fn mutated_in(name: &str, from: &str, to: &str) -> String {
    let text = fixture(&format!("{name}.json"));
    assert!(text.contains(from), "{from:?} not in {name}");
    text.replacen(from, to, 1)
}

#[test]
fn errors_in_new_event_types_name_the_event_and_the_field_path() {
    let text = mutated_in("children", "\"initiatedEventId\": \"5\",", "");
    assert_eq!(
        err(&text),
        "event 6 (index 5): childWorkflowExecutionStartedEventAttributes.initiatedEventId: \
         missing required field"
    );
    let text = mutated_in(
        "children",
        "START_CHILD_WORKFLOW_EXECUTION_FAILED_CAUSE_WORKFLOW_ALREADY_EXISTS",
        "START_CHILD_WORKFLOW_EXECUTION_FAILED_CAUSE_BUSY",
    );
    assert_eq!(
        err(&text),
        "event 56 (index 55): startChildWorkflowExecutionFailedEventAttributes.cause: unknown \
         start child workflow failed cause \"START_CHILD_WORKFLOW_EXECUTION_FAILED_CAUSE_BUSY\""
    );
    let text = mutated_in(
        "children",
        "\"parentClosePolicy\": \"PARENT_CLOSE_POLICY_TERMINATE\"",
        "\"parentClosePolicy\": true",
    );
    assert_eq!(
        err(&text),
        "event 5 (index 4): startChildWorkflowExecutionInitiatedEventAttributes.parentClosePolicy: \
         expected a parent close policy name or number, found a boolean"
    );
    let text = mutated_in("updates", "\"updateId\": \"update-a\",", "\"updateId\": 7,");
    assert_eq!(
        err(&text),
        "event 8 (index 7): workflowExecutionUpdateAcceptedEventAttributes.acceptedRequest.meta.\
         updateId: expected a string, found a number"
    );
    let text = mutated_in("properties", "\"data\": \"NDI=\"", "\"data\": \"!\"");
    let e = err(&text);
    assert!(
        e.starts_with(
            "event 5 (index 4): upsertWorkflowSearchAttributesEventAttributes.searchAttributes.\
             indexedFields.CustomIntField.data: invalid base64 \"!\""
        ),
        "{e}"
    );
    let text = mutated_in(
        "messenger",
        "\"workflowExecution\": {",
        "\"workflowExecution\": [], \"x\": {",
    );
    assert_eq!(
        err(&text),
        "event 5 (index 4): signalExternalWorkflowExecutionInitiatedEventAttributes.\
         workflowExecution: expected an object, found an array"
    );
}
