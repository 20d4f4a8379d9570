//! Updates and queries: the update protocol (speculative tasks, acceptance, rejection,
//! completion, retries by update id) and legacy query tasks, against the event sequences the
//! real server wrote in `updates.json`.

use super::*;
use crate::history::{MessageBody, ProtocolMessage, UpdateOutcome, UpdateRequest};
use crate::wire::{UpdateResult, UpdateStage};

fn update_req(key: &ExecKey, update_id: &str, wait_for: UpdateStage) -> Request {
    Request::Update(Box::new(wire::UpdateWorkflow {
        workflow_id: key.workflow_id.clone(),
        run_id: None,
        update_id: update_id.to_string(),
        name: "add".to_string(),
        args: Some(payload(update_id)),
        identity: "client".to_string(),
        wait_for,
        wait: secs(60),
    }))
}

fn request_of(task: &WorkflowTask, update_id: &str) -> (ProtocolMessage, UpdateRequest) {
    let m = task
        .messages
        .iter()
        .find(|m| m.protocol_instance_id == update_id)
        .unwrap_or_else(|| panic!("task carries no request for {update_id}: {task:?}"))
        .clone();
    let MessageBody::Request(r) = &m.body else {
        panic!("not a request: {m:?}")
    };
    let r = r.clone();
    (m, r)
}

fn accept(m: &ProtocolMessage, r: &UpdateRequest) -> ProtocolMessage {
    ProtocolMessage {
        id: format!("{}/accept", m.protocol_instance_id),
        protocol_instance_id: m.protocol_instance_id.clone(),
        sequencing_event_id: 0,
        body: MessageBody::Acceptance {
            accepted_request_message_id: m.id.clone(),
            accepted_request_sequencing_event_id: m.sequencing_event_id,
            accepted_request: r.clone(),
        },
    }
}

fn reject(m: &ProtocolMessage, r: &UpdateRequest) -> ProtocolMessage {
    ProtocolMessage {
        id: format!("{}/reject", m.protocol_instance_id),
        protocol_instance_id: m.protocol_instance_id.clone(),
        sequencing_event_id: 0,
        body: MessageBody::Rejection {
            rejected_request_message_id: m.id.clone(),
            rejected_request_sequencing_event_id: m.sequencing_event_id,
            rejected_request: r.clone(),
            failure: Failure::application("empty item", "ValueError", true),
        },
    }
}

fn respond(r: &UpdateRequest, result: &str) -> ProtocolMessage {
    ProtocolMessage {
        id: format!("{}/complete", r.update_id()),
        protocol_instance_id: r.update_id().to_string(),
        sequencing_event_id: 0,
        body: MessageBody::Response {
            meta: r.meta.clone().expect("meta"),
            outcome: UpdateOutcome::from_result(Ok(Some(payload(result)))),
        },
    }
}

fn placed(m: &ProtocolMessage) -> Command {
    Command::ProtocolMessage {
        message_id: m.id.clone(),
    }
}

impl H {
    fn complete_with(
        &mut self,
        task: &WorkflowTask,
        commands: Vec<Command>,
        messages: Vec<ProtocolMessage>,
    ) -> Response {
        self.call(Request::CompleteWorkflowTask(wire::CompleteWorkflowTask {
            messages,
            token: task.token.clone(),
            commands,
            identity: WORKER.to_string(),
            sticky_queue: None,
            sdk_metadata: None,
        }))
    }
}

fn update_result(r: Response) -> UpdateResult {
    match r {
        Response::Update(u) => *u,
        other => panic!("expected an update result, got {other:?}"),
    }
}

/// A running workflow with its first task done and nothing pending.
fn idle_run(h: &mut H) -> ExecKey {
    let key = h.start("updatable");
    h.run_wft(vec![]);
    key
}

#[test]
fn an_accepted_update_writes_its_task_then_accepted_and_completed_and_answers_the_client() {
    let mut h = H::new();
    let key = idle_run(&mut h);
    let before = h.len(&key);
    let (client, r) = h.send(update_req(&key, "update-a", UpdateStage::Completed));
    assert!(r.is_none(), "the client waits for the outcome");
    assert_eq!(h.len(&key), before, "a speculative task writes nothing yet");
    let task = h.poll_wft();
    let (m, req) = request_of(&task, "update-a");
    assert_eq!(m.id, "update-a/request");
    assert_eq!(
        m.sequencing_event_id,
        before as i64 + 1,
        "sequenced at the task's scheduled event"
    );
    assert_eq!(req.name(), "add");
    let (a, c) = (accept(&m, &req), respond(&req, "1"));
    assert_eq!(
        h.complete_with(&task, vec![placed(&a), placed(&c)], vec![a, c]),
        completed()
    );
    // As the real server wrote update-a (updates.json events 5-9).
    assert_eq!(
        h.types(&key)[before..],
        seq(
            "WorkflowTaskScheduled WorkflowTaskStarted WorkflowTaskCompleted \
             WorkflowExecutionUpdateAccepted WorkflowExecutionUpdateCompleted"
        )[..]
    );
    let events = h.events(&key);
    let A::WorkflowExecutionUpdateAccepted(acc) = &events[before + 3].attributes else {
        panic!("accepted")
    };
    assert_eq!(acc.protocol_instance_id, "update-a");
    assert_eq!(acc.accepted_request_message_id, "update-a/request");
    assert_eq!(acc.accepted_request_sequencing_event_id, before as i64 + 1);
    let A::WorkflowExecutionUpdateCompleted(done) = &events[before + 4].attributes else {
        panic!("completed")
    };
    assert_eq!(done.accepted_event_id, before as i64 + 4);
    let got = update_result(h.late_reply(client).expect("the client is answered"));
    assert_eq!(got.stage, UpdateStage::Completed);
    assert_eq!(got.outcome, Some(Ok(Some(payload("1")))));
    // A retry with the same id gets the same outcome and runs nothing again.
    let len = h.len(&key);
    let again = update_result(h.call(update_req(&key, "update-a", UpdateStage::Completed)));
    assert_eq!(again.outcome, Some(Ok(Some(payload("1")))));
    assert_eq!(h.len(&key), len);
    assert!(h.try_poll_wft().is_none(), "no task for a known update");
}

#[test]
fn a_rejected_update_leaves_no_event_and_the_client_gets_the_failure() {
    let mut h = H::new();
    let key = idle_run(&mut h);
    let before = h.events(&key);
    let (client, _) = h.send(update_req(&key, "update-empty", UpdateStage::Completed));
    let task = h.poll_wft();
    let (m, req) = request_of(&task, "update-empty");
    assert_eq!(
        h.complete_with(&task, vec![], vec![reject(&m, &req)]),
        completed()
    );
    assert_eq!(h.events(&key), before, "the speculative task is dropped");
    let got = update_result(h.late_reply(client).expect("answered"));
    assert_eq!(got.stage, UpdateStage::Completed);
    let failure = got.outcome.expect("an outcome").expect_err("rejected");
    assert_eq!(failure.message, "empty item");
    // A later task starts from the same history: ids stay contiguous.
    h.signal(&key, "go", "s1");
    let task = h.poll_wft();
    assert_eq!(task.token.scheduled_event_id, before.len() as i64 + 2);
}

#[test]
fn an_update_sent_while_a_task_runs_goes_with_the_next_task() {
    let mut h = H::new();
    let key = h.start("updatable");
    let first = h.poll_wft();
    assert!(first.messages.is_empty());
    let (client, _) = h.send(update_req(&key, "u1", UpdateStage::Accepted));
    assert_eq!(h.complete(&first, vec![]), completed());
    let next = h.poll_wft();
    let (m, req) = request_of(&next, "u1");
    let a = accept(&m, &req);
    h.complete_with(&next, vec![placed(&a)], vec![a]);
    let got = update_result(h.late_reply(client).expect("answered at acceptance"));
    assert_eq!(got.stage, UpdateStage::Accepted);
    assert_eq!(got.outcome, None);
    assert_eq!(
        *h.types(&key).last().expect("events"),
        EventType::WorkflowExecutionUpdateAccepted
    );
}

#[test]
fn a_failed_task_hands_its_update_to_the_next_attempt() {
    let mut h = H::new();
    let key = idle_run(&mut h);
    h.send(update_req(&key, "u1", UpdateStage::Completed));
    let task = h.poll_wft();
    request_of(&task, "u1");
    h.fail_wft(
        &task,
        WorkflowTaskFailedCause::WorkflowWorkerUnhandledFailure,
    );
    assert_eq!(
        h.types(&key)[h.len(&key) - 3..],
        seq("WorkflowTaskScheduled WorkflowTaskStarted WorkflowTaskFailed")[..],
        "a failed speculative task is written"
    );
    let retry = h.poll_wft();
    let (m, req) = request_of(&retry, "u1");
    let (a, c) = (accept(&m, &req), respond(&req, "ok"));
    assert_eq!(
        h.complete_with(&retry, vec![placed(&a), placed(&c)], vec![a, c]),
        completed()
    );
    assert_eq!(
        *h.types(&key).last().expect("events"),
        EventType::WorkflowExecutionUpdateCompleted
    );
}

#[test]
fn messages_that_do_not_fit_the_updates_fail_the_task() {
    let mut h = H::new();
    let key = idle_run(&mut h);
    h.send(update_req(&key, "u1", UpdateStage::Completed));
    let task = h.poll_wft();
    let (_, req) = request_of(&task, "u1");
    // A response to an update never accepted.
    h.complete_with(&task, vec![], vec![respond(&req, "x")]);
    let A::WorkflowTaskFailed(f) = &h.last(&key).attributes else {
        panic!("expected WorkflowTaskFailed, got {:?}", h.last(&key))
    };
    assert_eq!(f.cause, WorkflowTaskFailedCause::Other(30));
    assert!(
        f.failure
            .as_ref()
            .is_some_and(|f| f.message.contains("does not fit update u1")),
        "{f:?}"
    );
}

#[test]
fn an_update_of_a_closed_run_is_refused_but_a_completed_one_still_answers() {
    let mut h = H::new();
    let key = idle_run(&mut h);
    h.send(update_req(&key, "u1", UpdateStage::Completed));
    let task = h.poll_wft();
    let (m, req) = request_of(&task, "u1");
    let (a, c) = (accept(&m, &req), respond(&req, "one"));
    h.complete_with(
        &task,
        vec![placed(&a), placed(&c), complete_wf()],
        vec![a, c],
    );
    assert_eq!(h.status(&key), WorkflowStatus::Completed);
    match h.call(update_req(&key, "u2", UpdateStage::Completed)) {
        Response::Error(ServerError::NotFound(m)) => assert!(m.contains("already completed")),
        other => panic!("expected NotFound, got {other:?}"),
    }
    let u1 = update_result(h.call(update_req(&key, "u1", UpdateStage::Completed)));
    assert_eq!(u1.outcome, Some(Ok(Some(payload("one")))));
}

#[test]
fn a_client_waiting_past_its_wait_is_told_the_stage_reached_and_survives_a_restart_by_asking_again()
{
    let mut h = H::new();
    let key = idle_run(&mut h);
    let (client, _) = h.send(update_req(&key, "u1", UpdateStage::Completed));
    h.advance(secs(61));
    let got = update_result(h.late_reply(client).expect("answered at the deadline"));
    assert_eq!(got.stage, UpdateStage::Admitted);
    h.restart();
    let (client, _) = h.send(update_req(&key, "u1", UpdateStage::Completed));
    let task = h.poll_wft();
    let (m, req) = request_of(&task, "u1");
    let (a, c) = (accept(&m, &req), respond(&req, "late"));
    h.complete_with(&task, vec![placed(&a), placed(&c)], vec![a, c]);
    let got = update_result(h.late_reply(client).expect("answered"));
    assert_eq!(got.outcome, Some(Ok(Some(payload("late")))));
}

#[test]
fn an_update_the_run_never_accepted_before_continuing_as_new_is_aborted_and_goes_to_the_new_run() {
    let mut h = H::new();
    let key = h.start("updatable");
    let first = h.poll_wft();
    let (client, _) = h.send(update_req(&key, "u1", UpdateStage::Completed));
    // The task that was running when the update came continues as new.
    let can = Command::ContinueAsNewWorkflowExecution(ContinueAsNewWorkflowExecution {
        workflow_type: "OrderWorkflow".into(),
        task_queue: TaskQueue::normal(QUEUE),
        input: None,
        workflow_run_timeout: None,
        workflow_task_timeout: None,
    });
    assert_eq!(h.complete(&first, vec![can]), completed());
    assert_eq!(h.status(&key), WorkflowStatus::ContinuedAsNew);
    match h.late_reply(client) {
        Some(Response::Error(ServerError::Aborted(m))) => {
            assert!(
                m.contains("continued as new before it accepted update u1"),
                "{m}"
            )
        }
        other => panic!("expected Aborted, got {other:?}"),
    }
    // Sent again (no run id), it is admitted by the new run, after its first task.
    let (client, _) = h.send(update_req(&key, "u1", UpdateStage::Completed));
    let first_of_new = h.poll_wft();
    assert!(
        first_of_new.messages.is_empty(),
        "not before the first task"
    );
    h.complete(&first_of_new, vec![]);
    let task = h.poll_wft();
    assert_ne!(task.token.exec.run_id, key.run_id);
    let (m, req) = request_of(&task, "u1");
    let (a, c) = (accept(&m, &req), respond(&req, "moved"));
    h.complete_with(&task, vec![placed(&a), placed(&c)], vec![a, c]);
    let got = update_result(h.late_reply(client).expect("answered"));
    assert_eq!(got.outcome, Some(Ok(Some(payload("moved")))));
}

fn query_req(key: &ExecKey) -> Request {
    Request::Query(Box::new(wire::Query {
        workflow_id: key.workflow_id.clone(),
        run_id: None,
        query_type: "items".to_string(),
        args: None,
        identity: "client".to_string(),
        wait: secs(30),
    }))
}

fn answer(task: &WorkflowTask, result: &str) -> Request {
    Request::AnswerQuery(Box::new(wire::AnswerQuery {
        token: task.token.clone(),
        query_id: task.query.as_ref().expect("a query task").query_id,
        result: Ok(Some(payload(result))),
        identity: WORKER.to_string(),
    }))
}

#[test]
fn a_query_goes_to_a_worker_with_the_whole_history_and_writes_nothing() {
    let mut h = H::new();
    let key = idle_run(&mut h);
    let before = h.events(&key);
    let (client, r) = h.send(query_req(&key));
    assert!(r.is_none());
    let task = h.poll_wft();
    let q = task.query.clone().expect("a query task");
    assert_eq!(q.query_type, "items");
    assert_eq!(task.events, before, "the whole history");
    assert_eq!(h.call(answer(&task, "[a]")), Response::Ok);
    assert_eq!(
        h.late_reply(client),
        Some(Response::QueryResult(Box::new(Ok(Some(payload("[a]"))))))
    );
    assert_eq!(h.events(&key), before);
    assert!(matches!(
        h.call(answer(&task, "again")),
        Response::Error(ServerError::NotFound(_))
    ));
}

#[test]
fn a_query_waits_for_the_running_task_and_times_out_when_nobody_answers() {
    let mut h = H::new();
    let key = h.start("updatable");
    let first = h.poll_wft();
    let (client, _) = h.send(query_req(&key));
    assert!(h.try_poll_wft().is_none(), "not while a task runs");
    h.complete(&first, vec![]);
    let task = h.poll_wft();
    assert!(task.query.is_some(), "after it completed");
    h.advance(secs(31));
    match h.late_reply(client) {
        Some(Response::Error(ServerError::DeadlineExceeded(m))) => {
            assert!(m.contains("no worker answered"), "{m}")
        }
        other => panic!("expected DeadlineExceeded, got {other:?}"),
    }
}

#[test]
fn a_closed_run_can_be_queried() {
    let mut h = H::new();
    let key = h.start("updatable");
    h.run_wft(vec![complete_wf()]);
    let (client, _) = h.send(query_req(&key));
    let task = h.poll_wft();
    assert_eq!(
        task.events.last().map(HistoryEvent::event_type),
        Some(EventType::WorkflowExecutionCompleted)
    );
    h.call(answer(&task, "final"));
    assert_eq!(
        h.late_reply(client),
        Some(Response::QueryResult(Box::new(Ok(Some(payload("final"))))))
    );
}
