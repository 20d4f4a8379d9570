//! Search attributes and memo against the real server's `properties` history: started with a
//! memo and a search attribute, upserted by commands, kept in the run's state and described.

use super::*;
use crate::history::{History, Memo, SearchAttributes};

fn fixture() -> History {
    let path = format!(
        "{}/../fixtures/temporal-histories/properties.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    crate::history::parse_history(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The fixture's start memo and search attributes, upserted search attributes and memo.
fn recorded(h: &History) -> (Memo, SearchAttributes, SearchAttributes, Memo) {
    let A::WorkflowExecutionStarted(s) = &h.events[0].attributes else {
        panic!("started")
    };
    let A::UpsertWorkflowSearchAttributes(u) = &h.events[4].attributes else {
        panic!("upsert")
    };
    let A::WorkflowPropertiesModified(m) = &h.events[10].attributes else {
        panic!("modified")
    };
    (
        s.memo.clone().expect("memo"),
        s.search_attributes.clone().expect("search attributes"),
        u.search_attributes.clone().expect("upserted"),
        m.upserted_memo.clone().expect("upserted memo"),
    )
}

fn describe(h: &mut H, wid: &str) -> wire::Description {
    match h.call(Request::Describe(wire::Describe {
        workflow_id: wid.into(),
        run_id: None,
    })) {
        Response::Described(d) => *d,
        other => panic!("{other:?}"),
    }
}

fn keys(m: &BTreeMap<String, crate::history::Payload>) -> Vec<&str> {
    m.keys().map(String::as_str).collect()
}

/// The real run, command for command: the engine writes the same event types, the same
/// search attributes and memo in the start, the upsert and the modification; Describe shows
/// them applied (the memo key upserted as `binary/null` removed).
#[test]
fn properties_are_written_kept_and_described_as_the_real_server_does() {
    let theirs = fixture();
    let (memo, sa, upserted_sa, upserted_memo) = recorded(&theirs);
    let mut h = H::new();
    let mut req = start_req("properties", "start-properties");
    req.memo = Some(memo.clone());
    req.search_attributes = Some(sa.clone());
    let run_id = match h.call(Request::from(req)) {
        Response::Started { run_id } => run_id,
        other => panic!("{other:?}"),
    };
    let key = ExecKey {
        workflow_id: "properties".into(),
        run_id,
    };
    let d = describe(&mut h, "properties");
    assert_eq!(d.memo, memo.fields);
    assert_eq!(d.search_attributes, sa.indexed_fields);
    h.run_wft(vec![
        Command::UpsertWorkflowSearchAttributes {
            search_attributes: upserted_sa.clone(),
        },
        timer("1", Duration::from_millis(100)),
    ]);
    h.advance(Duration::from_millis(100));
    h.run_wft(vec![
        Command::ModifyWorkflowProperties {
            upserted_memo: upserted_memo.clone(),
        },
        Command::CompleteWorkflowExecution {
            result: Some(payload("properties set")),
        },
    ]);
    let ours = h.events(&key);
    assert_eq!(types(&ours), types(&theirs.events));
    for (i, (o, t)) in ours.iter().zip(&theirs.events).enumerate() {
        match (&o.attributes, &t.attributes) {
            (A::WorkflowExecutionStarted(o), A::WorkflowExecutionStarted(t)) => {
                assert_eq!(o.memo, t.memo);
                assert_eq!(o.search_attributes, t.search_attributes);
            }
            (A::UpsertWorkflowSearchAttributes(o), A::UpsertWorkflowSearchAttributes(t)) => {
                assert_eq!(o.search_attributes, t.search_attributes);
                assert_eq!(
                    o.workflow_task_completed_event_id,
                    t.workflow_task_completed_event_id
                );
            }
            (A::WorkflowPropertiesModified(o), A::WorkflowPropertiesModified(t)) => {
                assert_eq!(o.upserted_memo, t.upserted_memo);
                assert_eq!(
                    o.workflow_task_completed_event_id,
                    t.workflow_task_completed_event_id
                );
            }
            _ => assert_eq!(o.event_type(), t.event_type(), "event {}", i + 1),
        }
    }
    let d = describe(&mut h, "properties");
    assert_eq!(
        keys(&d.search_attributes),
        ["CustomIntField", "CustomKeywordField"]
    );
    assert_eq!(
        d.search_attributes["CustomKeywordField"], upserted_sa.indexed_fields["CustomKeywordField"],
        "the upsert replaced the started value"
    );
    assert_eq!(
        keys(&d.memo),
        ["note"],
        "origin removed by its binary/null value"
    );
    assert_eq!(d.status, WorkflowStatus::Completed);
}

/// Continue-as-new hands the current memo and search attributes to the new run's start.
#[test]
fn continue_as_new_carries_the_current_properties() {
    let (memo, sa, upserted_sa, _) = recorded(&fixture());
    let mut h = H::new();
    let mut req = start_req("carry", "start-carry");
    req.memo = Some(memo.clone());
    req.search_attributes = Some(sa);
    h.call(Request::from(req));
    h.run_wft(vec![
        Command::UpsertWorkflowSearchAttributes {
            search_attributes: upserted_sa.clone(),
        },
        Command::ContinueAsNewWorkflowExecution(ContinueAsNewWorkflowExecution {
            workflow_type: String::new(),
            task_queue: TaskQueue::default(),
            input: None,
            workflow_run_timeout: None,
            workflow_task_timeout: None,
        }),
    ]);
    let d = describe(&mut h, "carry");
    assert_eq!(d.status, WorkflowStatus::Running, "the new run");
    assert_eq!(d.memo, memo.fields);
    assert_eq!(d.search_attributes, upserted_sa.indexed_fields);
    let events = h.events(&d.exec);
    let A::WorkflowExecutionStarted(s) = &events[0].attributes else {
        panic!("started")
    };
    assert_eq!(s.memo.as_ref().map(|m| &m.fields), Some(&memo.fields));
    assert_eq!(
        s.search_attributes.as_ref().map(|s| &s.indexed_fields),
        Some(&upserted_sa.indexed_fields)
    );
}

/// An upsert with nothing in it fails the task with Temporal's cause, and nothing of its batch
/// is applied.
#[test]
fn empty_upserts_fail_the_workflow_task() {
    for (command, cause) in [
        (
            Command::UpsertWorkflowSearchAttributes {
                search_attributes: SearchAttributes::default(),
            },
            23,
        ),
        (
            Command::ModifyWorkflowProperties {
                upserted_memo: Memo::default(),
            },
            25,
        ),
    ] {
        let mut h = H::new();
        let key = h.start("empty");
        let task = h.poll_wft();
        assert_eq!(
            h.complete(&task, vec![timer("t", secs(5)), command]),
            Response::Ok,
            "a refused batch is answered as a failed task, not a completed one"
        );
        let events = h.events(&key);
        assert_eq!(
            types(&events[3..]),
            seq("WorkflowTaskFailed"),
            "the timer of the batch is not started"
        );
        assert_eq!(
            wft_failed(&events[3]).cause,
            WorkflowTaskFailedCause::Other(cause)
        );
    }
}
