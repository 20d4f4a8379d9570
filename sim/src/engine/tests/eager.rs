//! Eager activity execution: a ScheduleActivityTask that asks for it starts its first attempt
//! with the workflow task's completion and goes back to the completing worker in the reply.

use super::*;

fn eager(id: &str) -> Command {
    schedule(ScheduleActivityTask {
        request_eager_execution: true,
        ..act(id)
    })
}

/// The activity tasks of a completion's reply.
fn eager_tasks(r: Response) -> Vec<ActivityTask> {
    match r {
        Response::WorkflowTaskCompleted { activity_tasks } => activity_tasks,
        other => panic!("not a completion: {other:?}"),
    }
}

#[test]
fn an_eager_activity_starts_with_the_completion_and_bypasses_the_queue() {
    let mut h = H::new();
    let key = h.start("eager");
    let t = h.poll_wft();
    h.advance(secs(1));
    let tasks = eager_tasks(h.complete(&t, vec![eager("1"), schedule(act("2"))]));
    assert_eq!(tasks.len(), 1, "only the activity that asked for it");
    let a1 = &tasks[0];
    assert_eq!((a1.activity_id.as_str(), a1.attempt), ("1", 1));
    assert_eq!(a1.started_time, at(1), "started with the completion");
    assert_eq!(a1.scheduled_time, at(1));
    // The queue holds only the other one.
    let a2 = h.poll_act();
    assert_eq!(a2.activity_id, "2");
    assert!(h.try_poll_act().is_none(), "the eager one is not queued");
    assert_eq!(h.complete_act(&a1.token, "done"), Response::Ok);
    assert_eq!(h.complete_act(&a2.token, "done"), Response::Ok);
    let events = h.events(&key);
    assert_eq!(
        types(&events),
        seq(
            "WorkflowExecutionStarted WorkflowTaskScheduled WorkflowTaskStarted \
             WorkflowTaskCompleted ActivityTaskScheduled ActivityTaskScheduled \
             ActivityTaskStarted ActivityTaskCompleted WorkflowTaskScheduled \
             ActivityTaskStarted ActivityTaskCompleted"
        ),
        "the same events as an activity dispatched through the queue"
    );
    let started = activity_started(&events[6]);
    assert_eq!(started.scheduled_event_id, 5);
    assert_eq!(started.identity, WORKER, "the completing worker's identity");
    assert_eq!(events[6].event_time, at(1));
}

#[test]
fn eager_execution_off_on_the_server_queues_the_activity() {
    let mut h = H::with_cfg(EngineConfig {
        activity_eager_execution: false,
        ..EngineConfig::default()
    });
    h.start("queued");
    let t = h.poll_wft();
    assert!(eager_tasks(h.complete(&t, vec![eager("1")])).is_empty());
    assert_eq!(h.poll_act().activity_id, "1");
}

#[test]
fn a_batch_that_closes_the_run_starts_no_eager_activity() {
    let mut h = H::new();
    let key = h.start("closing");
    let t = h.poll_wft();
    assert!(eager_tasks(h.complete(&t, vec![eager("1"), complete_wf()])).is_empty());
    assert_eq!(h.status(&key), WorkflowStatus::Completed);
    assert!(h.try_poll_act().is_none());
}

/// The reply is lost and the worker never runs the attempt: the server still holds it as
/// started (durably: a restart keeps it), so it times out and retries through the queue.
#[test]
fn a_lost_eager_attempt_times_out_and_retries_through_the_queue() {
    let mut h = H::new();
    let key = h.start("lost");
    let t = h.poll_wft();
    let mut a = act("1");
    a.request_eager_execution = true;
    a.start_to_close_timeout = Some(secs(5));
    let tasks = eager_tasks(h.complete(&t, vec![schedule(a)]));
    assert_eq!(tasks.len(), 1);
    h.restart();
    assert!(
        h.try_poll_act().is_none(),
        "started, not queued, after a restart too"
    );
    h.advance_to(at(5)); // start-to-close timeout; the retry is due at 6
    h.advance_to(at(6));
    let retry = h.poll_act();
    assert_eq!((retry.activity_id.as_str(), retry.attempt), ("1", 2));
    assert!(
        is_not_found(&h.complete_act(&tasks[0].token, "late")),
        "the first attempt's token is stale"
    );
    assert_eq!(h.complete_act(&retry.token, "done"), Response::Ok);
    let events = h.events(&key);
    let started = activity_started(&events[5]);
    assert_eq!(started.attempt, 2);
}
