//! Signal-with-start against the real server's `signal-with-start` history.

use super::*;
use crate::history::History;

fn fixture(name: &str) -> History {
    let path = format!(
        "{}/../fixtures/temporal-histories/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    crate::history::parse_history(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn sws(workflow_id: &str, request_id: &str, input: &str) -> Request {
    Request::SignalWithStart(Box::new(wire::SignalWithStart {
        start: start_req(workflow_id, request_id),
        signal_name: "hello".into(),
        signal_input: Some(payload(input)),
    }))
}

fn started_run(r: Response) -> String {
    match r {
        Response::Started { run_id } => run_id,
        other => panic!("expected Started, got {other:?}"),
    }
}

fn signaled(e: &HistoryEvent) -> &crate::history::WorkflowExecutionSignaled {
    match &e.attributes {
        A::WorkflowExecutionSignaled(s) => s,
        other => panic!("expected WorkflowExecutionSignaled, got {other:?}"),
    }
}

/// No run yet: the run starts with the signal as its event 2, before its first task, as the
/// real server writes it; the workflow's first task sees it and the whole history has the
/// recorded event types. A retry of the same request changes nothing.
#[test]
fn signal_with_start_writes_the_signal_right_after_the_start() {
    let theirs = fixture("signal-with-start");
    let mut h = H::new();
    let run_id = started_run(h.call(sws("sws", "req-1", "at start")));
    let key = ExecKey {
        workflow_id: "sws".into(),
        run_id,
    };
    assert_eq!(
        types(&h.events(&key)),
        types(&theirs.events[..3]),
        "Started, Signaled, WorkflowTaskScheduled"
    );
    let ours = h.events(&key);
    let (o, t) = (signaled(&ours[1]), signaled(&theirs.events[1]));
    assert_eq!(o.signal_name, t.signal_name);
    assert_eq!(o.input, t.input, "the same JSON payload");
    assert_eq!(
        o.extra.get("requestId").and_then(|v| v.as_str()),
        Some("req-1")
    );
    assert!(t.extra.get("requestId").is_some());
    // A retried request: the same run, nothing written.
    assert_eq!(
        started_run(h.call(sws("sws", "req-1", "at start"))),
        key.run_id
    );
    assert_eq!(h.last_writes, 0);
    let task = h.poll_wft();
    assert_eq!(
        types(&task.events[..2]),
        seq("WorkflowExecutionStarted WorkflowExecutionSignaled")
    );
    h.complete(&task, vec![complete_wf()]);
    assert_eq!(types(&h.events(&key)), types(&theirs.events));
}

/// An open run: the request signals it (no second run) and answers with its run id; a retry
/// signals once; a different request signals again.
#[test]
fn signal_with_start_signals_the_open_run() {
    let mut h = H::new();
    let key = h.start("open");
    h.run_wft(vec![timer("t", secs(60))]);
    let n = h.len(&key);
    assert_eq!(started_run(h.call(sws("open", "sws-a", "one"))), key.run_id);
    assert_eq!(started_run(h.call(sws("open", "sws-a", "one"))), key.run_id);
    assert_eq!(started_run(h.call(sws("open", "sws-b", "two"))), key.run_id);
    let events = h.events(&key);
    let signals: Vec<_> = events[n..]
        .iter()
        .filter(|e| e.event_type() == EventType::WorkflowExecutionSignaled)
        .collect();
    assert_eq!(signals.len(), 2, "{:?}", types(&events));
    assert_eq!(h.eng.executions().count(), 1, "no second run");
}

/// A closed workflow id: the start's id reuse policy decides, as for a plain start.
#[test]
fn signal_with_start_on_a_closed_id_follows_the_reuse_policy() {
    let mut h = H::new();
    let first = h.start("closed");
    h.run_wft(vec![complete_wf()]);
    let mut req = start_req("closed", "sws-reject");
    req.id_reuse_policy = IdReusePolicy::RejectDuplicate;
    let r = h.call(Request::SignalWithStart(Box::new(wire::SignalWithStart {
        start: req,
        signal_name: "hello".into(),
        signal_input: None,
    })));
    assert_eq!(
        r,
        Response::Error(ServerError::WorkflowAlreadyStarted {
            run_id: first.run_id.clone()
        })
    );
    let second = started_run(h.call(sws("closed", "sws-allow", "again")));
    assert_ne!(second, first.run_id);
    let key = ExecKey {
        workflow_id: "closed".into(),
        run_id: second,
    };
    assert_eq!(
        types(&h.events(&key)),
        seq("WorkflowExecutionStarted WorkflowExecutionSignaled WorkflowTaskScheduled")
    );
}

/// Bad requests are refused before a run is created.
#[test]
fn a_refused_signal_with_start_creates_no_run() {
    let mut h = H::new();
    let big = Request::SignalWithStart(Box::new(wire::SignalWithStart {
        start: start_req("big", "sws-big"),
        signal_name: "hello".into(),
        signal_input: Some(sized(MIB2 + 1)),
    }));
    assert!(matches!(
        h.call(big),
        Response::Error(ServerError::InvalidArgument(_))
    ));
    let unnamed = Request::SignalWithStart(Box::new(wire::SignalWithStart {
        start: start_req("unnamed", "sws-unnamed"),
        signal_name: String::new(),
        signal_input: None,
    }));
    assert!(matches!(
        h.call(unnamed),
        Response::Error(ServerError::InvalidArgument(_))
    ));
    assert_eq!(h.eng.executions().count(), 0);
    assert_eq!(h.last_writes, 0);
}
