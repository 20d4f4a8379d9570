//! Workflow run and execution timeouts, and the attributes of continue-as-new's new run, against
//! the real server's histories (`fixtures/temporal-histories/execution-timeout.json`,
//! `fixtures/official-histories/continue-as-new-*`).

use super::*;
use crate::history::{
    History, WorkflowExecutionContinuedAsNew, WorkflowExecutionStarted, WorkflowExecutionTimedOut,
};

fn fixture(path: &str) -> History {
    let path = format!("{}/../fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    crate::history::parse_history(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn start_timed(h: &mut H, wid: &str, run: Option<Duration>, exec: Option<Duration>) -> ExecKey {
    let mut req = start_req(wid, &format!("start-{wid}"));
    req.workflow_run_timeout = run;
    req.workflow_execution_timeout = exec;
    match h.call(Request::from(req)) {
        Response::Started { run_id } => ExecKey {
            workflow_id: wid.to_string(),
            run_id,
        },
        other => panic!("{other:?}"),
    }
}

fn started(e: &HistoryEvent) -> &WorkflowExecutionStarted {
    match &e.attributes {
        A::WorkflowExecutionStarted(s) => s,
        other => panic!("expected WorkflowExecutionStarted, got {other:?}"),
    }
}

fn timed_out(e: &HistoryEvent) -> &WorkflowExecutionTimedOut {
    match &e.attributes {
        A::WorkflowExecutionTimedOut(t) => t,
        other => panic!("expected WorkflowExecutionTimedOut, got {other:?}"),
    }
}

fn continued(e: &HistoryEvent) -> &WorkflowExecutionContinuedAsNew {
    match &e.attributes {
        A::WorkflowExecutionContinuedAsNew(c) => c,
        other => panic!("expected WorkflowExecutionContinuedAsNew, got {other:?}"),
    }
}

fn continue_as_new() -> Command {
    Command::ContinueAsNewWorkflowExecution(ContinueAsNewWorkflowExecution {
        workflow_type: String::new(),
        task_queue: TaskQueue::default(),
        input: None,
        workflow_run_timeout: None,
        workflow_task_timeout: None,
    })
}

fn expiration(s: &WorkflowExecutionStarted) -> Option<Timestamp> {
    s.extra
        .get("workflowExecutionExpirationTime")
        .and_then(|v| v.as_str())
        .map(|t| crate::history::parse_timestamp(t).expect("a timestamp"))
}

/// The real server's `execution-timeout`: a 2 s execution timeout on a workflow sleeping an
/// hour. Same event types; the start records the execution timeout, a run timeout and a
/// workflow task timeout cut to it, and the expiration time; the run times out exactly at the
/// expiration with retry state TIMEOUT.
#[test]
fn execution_timeout_closes_the_run_as_the_real_server_does() {
    let theirs = fixture("temporal-histories/execution-timeout.json");
    let mut h = H::new();
    let key = start_timed(&mut h, "execution-timeout", None, Some(secs(2)));
    h.advance_to(at_ms(10));
    h.run_wft(vec![timer("1", secs(3600))]);
    h.advance_to(at_ms(1999));
    assert_eq!(
        h.status(&key),
        WorkflowStatus::Running,
        "not a millisecond early"
    );
    h.advance_to(at(2));
    assert_eq!(h.status(&key), WorkflowStatus::TimedOut);
    let ours = h.events(&key);
    assert_eq!(types(&ours), types(&theirs.events));

    let (o, t) = (started(&ours[0]), started(&theirs.events[0]));
    assert_eq!(o.workflow_execution_timeout, t.workflow_execution_timeout);
    assert_eq!(o.workflow_run_timeout, t.workflow_run_timeout);
    assert_eq!(o.workflow_task_timeout, t.workflow_task_timeout);
    assert_eq!(
        wft_scheduled(&ours[1]).start_to_close_timeout,
        Some(secs(2))
    );
    assert_eq!(
        wft_scheduled(&ours[1]).start_to_close_timeout,
        wft_scheduled(&theirs.events[1]).start_to_close_timeout
    );
    // The expiration is the start plus the timeout, to the millisecond, in both.
    let ms = |t: Timestamp| t.as_nanos() / 1_000_000;
    let their_exp = expiration(t).expect("the real server writes the expiration time");
    assert_eq!(ms(their_exp) - ms(theirs.events[0].event_time), 2000);
    assert_eq!(expiration(o), Some(at(2)));
    assert_eq!(ours[5].event_time, at(2));

    let (o, t) = (timed_out(&ours[5]), timed_out(&theirs.events[5]));
    assert_eq!(o.retry_state, t.retry_state);
    assert_eq!(o.retry_state, RetryState::Timeout);
    assert_eq!(o.new_execution_run_id, None);
    // Closed: nothing pending, no wake-up left.
    assert_eq!(h.eng.next_wakeup(), None);
}

/// A run timeout alone times the run out with retry state RETRY_POLICY_NOT_SET (no workflow
/// retry policy) and no execution timeout or expiration is recorded; with both set, the run
/// timeout is cut to the execution timeout.
#[test]
fn run_timeout_alone_and_run_timeout_cut_to_the_execution_timeout() {
    let mut h = H::new();
    let key = start_timed(&mut h, "run-only", Some(secs(5)), None);
    h.run_wft(vec![timer("1", secs(3600))]);
    h.advance_to(at_ms(4999));
    assert_eq!(h.status(&key), WorkflowStatus::Running);
    h.advance_to(at(5));
    let events = h.events(&key);
    let s = started(&events[0]);
    assert_eq!(s.workflow_execution_timeout, None);
    assert_eq!(s.workflow_run_timeout, Some(secs(5)));
    assert_eq!(s.workflow_task_timeout, Some(secs(5)));
    assert_eq!(expiration(s), None);
    let last = events.last().unwrap();
    assert_eq!(last.event_time, at(5));
    assert_eq!(timed_out(last).retry_state, RetryState::RetryPolicyNotSet);

    let key = start_timed(&mut h, "both", Some(secs(60)), Some(secs(20)));
    h.run_wft(vec![timer("1", secs(3600))]);
    let s = started(&h.events(&key)[0]).clone();
    assert_eq!(s.workflow_run_timeout, Some(secs(20)));
    assert_eq!(s.workflow_execution_timeout, Some(secs(20)));
    assert_eq!(s.workflow_task_timeout, Some(secs(10)));
    h.advance_to(at(25));
    assert_eq!(timed_out(&h.last(&key)).retry_state, RetryState::Timeout);
    assert_eq!(
        h.last(&key).event_time,
        at(25),
        "fired at its deadline, 5 s + 20 s"
    );
}

/// The execution timeout spans continue-as-new: the new run records the same timeout and
/// expiration time, inherits the run timeout (cut to the execution timeout), and times out at
/// the first run's start plus the execution timeout.
#[test]
fn execution_timeout_spans_continue_as_new() {
    let mut h = H::new();
    let first = start_timed(&mut h, "chain", None, Some(secs(10)));
    h.advance_to(at(4));
    h.run_wft(vec![continue_as_new()]);
    let old = h.events(&first);
    let c = continued(old.last().unwrap());
    assert_eq!(c.workflow_run_timeout, Some(secs(10)));
    let second = ExecKey {
        workflow_id: "chain".into(),
        run_id: c.new_execution_run_id.clone(),
    };
    let s = started(&h.events(&second)[0]).clone();
    assert_eq!(s.workflow_execution_timeout, Some(secs(10)));
    assert_eq!(s.workflow_run_timeout, Some(secs(10)));
    assert_eq!(
        expiration(&s),
        Some(at(10)),
        "the chain's expiration, unchanged"
    );
    assert_eq!(
        s.extra.get("initiator").and_then(|v| v.as_str()),
        Some("CONTINUE_AS_NEW_INITIATOR_WORKFLOW")
    );
    h.run_wft(vec![timer("1", secs(3600))]);
    h.advance_to(at_ms(9999));
    assert_eq!(h.status(&second), WorkflowStatus::Running);
    h.advance_to(at(10));
    assert_eq!(h.status(&second), WorkflowStatus::TimedOut);
    let last = h.last(&second);
    assert_eq!(last.event_time, at(10), "not at the new run's start + 10 s");
    assert_eq!(timed_out(&last).retry_state, RetryState::Timeout);
}

/// The real server's continue-as-new (official Rust SDK's example, no timeouts): the
/// ContinuedAsNew event and the new run's start write the run timeout as 0 s; the new run has
/// `initiator` CONTINUE_AS_NEW_INITIATOR_WORKFLOW, no identity and no first-task backoff; the
/// run ids link the two runs.
#[test]
fn continue_as_new_writes_the_new_runs_attributes_as_the_real_server_does() {
    let dir = "official-histories/continue-as-new-workflow-id__";
    let first = fixture(&format!("{dir}01a24e16-137b-73ab-97e8-8468d4d7daaf.json"));
    let second = fixture(&format!("{dir}28780549-731c-4dfa-9e43-4ac4d45e3dd8.json"));
    let their_can = continued(first.events.last().unwrap());
    let their_start = started(&second.events[0]);

    let mut h = H::new();
    let key = h.start("can");
    h.run_wft(vec![continue_as_new()]);
    let old = h.events(&key);
    let our_can = continued(old.last().unwrap());
    let new = ExecKey {
        workflow_id: "can".into(),
        run_id: our_can.new_execution_run_id.clone(),
    };
    let our_start = started(&h.events(&new)[0]).clone();

    assert_eq!(our_can.workflow_run_timeout, their_can.workflow_run_timeout);
    assert_eq!(our_can.workflow_run_timeout, Some(Duration::ZERO));
    assert_eq!(
        our_start.workflow_run_timeout,
        their_start.workflow_run_timeout
    );
    assert_eq!(
        our_start.workflow_execution_timeout,
        their_start.workflow_execution_timeout
    );
    for attr in ["initiator", "workflowExecutionExpirationTime"] {
        assert_eq!(
            our_start.extra.get(attr),
            their_start.extra.get(attr),
            "{attr}"
        );
    }
    assert_eq!(our_start.identity, their_start.identity);
    assert_eq!(
        our_start.first_workflow_task_backoff,
        their_start.first_workflow_task_backoff
    );
    assert_eq!(our_start.attempt, their_start.attempt);
    // Links: the new run names the old one and the chain's first run.
    assert_eq!(
        their_start.continued_execution_run_id.as_deref(),
        Some(first_run_id(&first))
    );
    assert_eq!(
        our_start.continued_execution_run_id,
        Some(key.run_id.clone())
    );
    assert_eq!(our_start.first_execution_run_id, key.run_id);
    assert_eq!(our_start.original_execution_run_id, new.run_id);
    // The first run of a chain has the backoff and no initiator, as the real one.
    let our_first = started(&old[0]);
    let their_first = started(&first.events[0]);
    assert_eq!(
        our_first.first_workflow_task_backoff,
        their_first.first_workflow_task_backoff
    );
    assert_eq!(our_first.extra.get("initiator"), None);
    assert_eq!(their_first.extra.get("initiator"), None);
    assert_eq!(
        our_first.workflow_run_timeout,
        their_first.workflow_run_timeout
    );
}

fn first_run_id(h: &History) -> &str {
    &started(&h.events[0]).original_execution_run_id
}

/// A workflow task running when the run times out is failed first (FORCE_CLOSE_COMMAND, by the
/// history service); the worker's late completion finds the run closed.
#[test]
fn a_running_workflow_task_is_force_closed_when_the_run_times_out() {
    let mut h = H::new();
    let key = start_timed(&mut h, "busy", Some(secs(3)), None);
    h.advance_to(at(2));
    let t = h.poll_wft();
    h.advance_to(at(3));
    let events = h.events(&key);
    assert_eq!(
        types(&events),
        seq(
            "WorkflowExecutionStarted WorkflowTaskScheduled WorkflowTaskStarted \
             WorkflowTaskFailed WorkflowExecutionTimedOut"
        )
    );
    let f = wft_failed(&events[3]);
    assert_eq!(f.cause, WorkflowTaskFailedCause::Other(17));
    assert_eq!(f.identity, "history-service");
    assert_eq!((f.scheduled_event_id, f.started_event_id), (2, 3));
    assert!(is_not_found(&h.complete(&t, vec![complete_wf()])));
    assert_eq!(h.events(&key).len(), 5);
}

/// The deadlines are in the mutable state: a restarted server times the run out on time.
#[test]
fn run_timeouts_survive_a_restart() {
    let mut h = H::new();
    let key = start_timed(&mut h, "restart", Some(secs(30)), Some(secs(20)));
    h.run_wft(vec![timer("1", secs(3600))]);
    h.advance_to(at(5));
    h.restart();
    assert_eq!(h.eng.next_wakeup(), Some(at(20)));
    h.advance_to(at(20));
    assert_eq!(h.status(&key), WorkflowStatus::TimedOut);
    assert_eq!(timed_out(&h.last(&key)).retry_state, RetryState::Timeout);
}

/// A transient task (a retry after a failure, not in history) running at the timeout is
/// written (Scheduled, Started) and failed; a signal buffered while a task ran comes after the
/// failure, before the termination that force-closed the task.
#[test]
fn force_closing_writes_a_transient_task_and_the_buffered_events() {
    let mut h = H::new();
    let key = start_timed(&mut h, "transient", Some(secs(10)), None);
    let t = h.poll_wft();
    h.fail_wft(&t, WorkflowTaskFailedCause::NonDeterministicError);
    h.advance_to(at(5));
    let _retry = h.poll_wft();
    assert_eq!(h.len(&key), 4, "the retry is transient: not in history yet");
    h.advance_to(at(10));
    assert_eq!(
        types(&h.events(&key)[4..]),
        seq(
            "WorkflowTaskScheduled WorkflowTaskStarted WorkflowTaskFailed \
             WorkflowExecutionTimedOut"
        )
    );
    assert_eq!(
        wft_failed(&h.events(&key)[6]).cause,
        WorkflowTaskFailedCause::Other(17)
    );

    let key = h.start("buffered");
    let _t = h.poll_wft();
    h.signal(&key, "during", "sig-1");
    assert_eq!(h.len(&key), 3, "buffered while the task runs");
    let r = h.call(Request::Terminate(wire::Terminate {
        workflow_id: "buffered".into(),
        run_id: None,
        reason: "operator".into(),
        identity: "admin".into(),
    }));
    assert_eq!(r, Response::Ok);
    assert_eq!(
        types(&h.events(&key)[3..]),
        seq("WorkflowTaskFailed WorkflowExecutionSignaled WorkflowExecutionTerminated")
    );
}
