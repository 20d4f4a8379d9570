//! The engine state machine driven directly: requests and explicit timestamps in, history,
//! store writes and responses out. No simulation, no network: every test is a script of
//! `Engine::handle` / `Engine::tick` calls with exact assertions on the events written.
//!
//! The helper layer at the top (`H`) keeps virtual time, mints reply addresses, writes and syncs
//! every step's store writes into a `SimStore` (so any test can restart the engine from what is
//! durable), and sorts replies into "the reply to this request" and "late" replies (parked long
//! polls, history waiters).

use std::collections::BTreeMap;
use std::time::Duration;

use sim::engine::{Engine, EngineConfig, Limits, SimStore, Step, Store};
use sim::history::{
    Command, ContinueAsNewWorkflowExecution, EventAttributes as A, EventType, Failure, FailureInfo,
    HistoryEvent, Payload, Payloads, RetryPolicy, RetryState, ScheduleActivityTask, TaskQueue,
    TaskQueueKind, TimeoutType, Timestamp, WorkflowTaskFailedCause,
};
use sim::transport::ReplyTo;
use sim::wire::{
    ActivityTask, ExecKey, IdReusePolicy, Request, Response, ServerError, StartWorkflow, TaskToken,
    WorkflowStatus, WorkflowTask,
};

// ----- helpers -----

const QUEUE: &str = "orders";
const STICKY: &str = "worker-1-sticky";
const WORKER: &str = "worker-1";
const SEED: u64 = 0x5eed;
const MIB2: usize = 2 * 1024 * 1024;
/// Virtual time zero of every test (an arbitrary instant, far from the epoch).
const BASE_NANOS: i64 = 1_764_000_000_000_000_000;

fn at_ms(ms: u64) -> Timestamp {
    Timestamp::from_nanos(BASE_NANOS + ms as i64 * 1_000_000)
}

fn at(secs: u64) -> Timestamp {
    at_ms(secs * 1000)
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// Event types from PascalCase names: `seq("WorkflowExecutionStarted WorkflowTaskScheduled")`.
fn seq(names: &str) -> Vec<EventType> {
    names
        .split_whitespace()
        .map(|n| EventType::parse(n).unwrap_or_else(|| panic!("unknown event type {n}")))
        .collect()
}

fn types(events: &[HistoryEvent]) -> Vec<EventType> {
    events.iter().map(HistoryEvent::event_type).collect()
}

fn payload(s: &str) -> Payloads {
    Payloads::json(s).expect("json payload")
}

/// A payload of exactly `n` bytes as the limits count them (no metadata).
fn sized(n: usize) -> Payloads {
    Payloads::one(Payload {
        metadata: Default::default(),
        data: vec![b'x'; n],
    })
}

fn start_req(workflow_id: &str, request_id: &str) -> StartWorkflow {
    StartWorkflow {
        workflow_id: workflow_id.to_string(),
        workflow_type: "OrderWorkflow".to_string(),
        task_queue: QUEUE.to_string(),
        input: Some(payload("order-1")),
        request_id: request_id.to_string(),
        identity: "client".to_string(),
        workflow_task_timeout: None,
        workflow_run_timeout: None,
        id_reuse_policy: IdReusePolicy::AllowDuplicate,
        retry_policy: None,
    }
}

/// An activity with a 10 s start-to-close timeout and the default retry policy.
fn act(id: &str) -> ScheduleActivityTask {
    ScheduleActivityTask {
        activity_id: id.to_string(),
        activity_type: "charge".to_string(),
        task_queue: TaskQueue::normal(QUEUE),
        input: Some(payload(id)),
        schedule_to_close_timeout: None,
        schedule_to_start_timeout: None,
        start_to_close_timeout: Some(secs(10)),
        heartbeat_timeout: None,
        retry_policy: None,
    }
}

fn schedule(a: ScheduleActivityTask) -> Command {
    Command::ScheduleActivityTask(a)
}

fn timer(id: &str, after: Duration) -> Command {
    Command::StartTimer {
        timer_id: id.to_string(),
        start_to_fire_timeout: after,
    }
}

fn complete_wf() -> Command {
    Command::CompleteWorkflowExecution {
        result: Some(payload("done")),
    }
}

fn marker(name: &str) -> Command {
    Command::RecordMarker {
        marker_name: name.to_string(),
        details: BTreeMap::new(),
        failure: None,
    }
}

fn app_failure(message: &str, error_type: &str) -> Failure {
    Failure::application(message, error_type, false)
}

fn is_not_found(r: &Response) -> bool {
    matches!(r, Response::Error(ServerError::NotFound(_)))
}

/// The test driver: an engine, virtual time, a store, and reply bookkeeping.
struct H {
    eng: Engine<ReplyTo>,
    cfg: EngineConfig,
    now: Timestamp,
    next_request: u64,
    store: SimStore,
    /// Replies to requests other than the one being sent (parked polls, history waiters).
    late: Vec<(ReplyTo, Response)>,
    /// How many store writes the last step produced.
    last_writes: usize,
    /// How many times the engine was rebuilt from the store.
    restarts: u64,
}

impl H {
    fn new() -> H {
        H::with_cfg(EngineConfig::default())
    }

    fn with_limits(limits: Limits) -> H {
        H::with_cfg(EngineConfig {
            limits,
            ..EngineConfig::default()
        })
    }

    fn with_cfg(cfg: EngineConfig) -> H {
        H {
            eng: Engine::new(cfg.clone(), SEED),
            cfg,
            now: at(0),
            next_request: 0,
            store: SimStore::new(),
            late: Vec::new(),
            last_writes: 0,
            restarts: 0,
        }
    }

    fn reply_to(&mut self) -> ReplyTo {
        self.next_request += 1;
        ReplyTo {
            addr: "10.0.0.2:7233".parse().expect("addr"),
            request_id: self.next_request,
        }
    }

    /// Makes a step's writes durable (write + sync, as the server does before replying).
    fn absorb(&mut self, step: Step<ReplyTo>) -> Vec<(ReplyTo, Response)> {
        self.last_writes = step.writes.len();
        if !step.writes.is_empty() {
            self.store.write(step.writes);
            self.store.sync();
        }
        step.replies
    }

    /// Sends a request; returns its address and immediate reply (None when parked).
    fn send(&mut self, req: Request) -> (ReplyTo, Option<Response>) {
        let from = self.reply_to();
        let step = self.eng.handle(self.now, from, req);
        let mut mine = None;
        for (to, resp) in self.absorb(step) {
            if to == from {
                assert!(mine.is_none(), "two replies to one request");
                mine = Some(resp);
            } else {
                self.late.push((to, resp));
            }
        }
        (from, mine)
    }

    fn call(&mut self, req: Request) -> Response {
        let kind = format!("{req:?}").chars().take(60).collect::<String>();
        self.send(req)
            .1
            .unwrap_or_else(|| panic!("no immediate reply to {kind}"))
    }

    /// Moves virtual time to `to` and fires everything due.
    fn advance_to(&mut self, to: Timestamp) {
        assert!(to >= self.now, "time goes forward");
        self.now = to;
        let step = self.eng.tick(to);
        let replies = self.absorb(step);
        self.late.extend(replies);
    }

    fn advance(&mut self, d: Duration) {
        self.advance_to(self.now.plus(d));
    }

    fn late_reply(&mut self, from: ReplyTo) -> Option<Response> {
        let i = self.late.iter().position(|(to, _)| *to == from)?;
        Some(self.late.remove(i).1)
    }

    fn restart(&mut self) {
        let snapshot = self.store.recover();
        self.eng = Engine::recover(self.cfg.clone(), SEED, snapshot, self.now);
        self.restarts += 1;
    }

    // --- workflows ---

    fn start(&mut self, workflow_id: &str) -> ExecKey {
        let rid = format!("start-{workflow_id}-{}", self.next_request);
        match self.call(Request::from(start_req(workflow_id, &rid))) {
            Response::Started { run_id } => ExecKey {
                workflow_id: workflow_id.to_string(),
                run_id,
            },
            other => panic!("start {workflow_id}: {other:?}"),
        }
    }

    fn signal(&mut self, key: &ExecKey, name: &str, request_id: &str) -> Response {
        self.call(Request::Signal {
            workflow_id: key.workflow_id.clone(),
            run_id: None,
            signal_name: name.to_string(),
            input: Some(payload(name)),
            identity: "client".to_string(),
            request_id: request_id.to_string(),
        })
    }

    fn events(&self, key: &ExecKey) -> Vec<HistoryEvent> {
        self.eng
            .execution(key)
            .unwrap_or_else(|| panic!("no run {key}"))
            .history
            .clone()
    }

    fn len(&self, key: &ExecKey) -> usize {
        self.eng.execution(key).expect("run").history.len()
    }

    fn types(&self, key: &ExecKey) -> Vec<EventType> {
        types(&self.eng.execution(key).expect("run").history)
    }

    fn last(&self, key: &ExecKey) -> HistoryEvent {
        self.events(key).pop().expect("an event")
    }

    fn status(&self, key: &ExecKey) -> WorkflowStatus {
        self.eng.execution(key).expect("run").ms.status
    }

    // --- workflow tasks ---

    fn try_poll_wft_on(&mut self, queue: &str) -> Option<WorkflowTask> {
        let (from, r) = self.send(Request::PollWorkflowTask {
            task_queue: queue.to_string(),
            identity: WORKER.to_string(),
            wait: Duration::ZERO,
        });
        let r = match r {
            Some(r) => r,
            None => {
                // Nothing ready: the zero-wait poll expires at once.
                self.advance_to(self.now);
                self.late_reply(from).expect("expired poll answered")
            }
        };
        match r {
            Response::WorkflowTask(t) => t.map(|b| *b),
            other => panic!("poll workflow task: {other:?}"),
        }
    }

    fn try_poll_wft(&mut self) -> Option<WorkflowTask> {
        self.try_poll_wft_on(QUEUE)
    }

    fn poll_wft(&mut self) -> WorkflowTask {
        self.try_poll_wft().expect("a workflow task")
    }

    fn complete(&mut self, task: &WorkflowTask, commands: Vec<Command>) -> Response {
        self.call(Request::CompleteWorkflowTask {
            token: task.token.clone(),
            commands,
            identity: WORKER.to_string(),
            sticky_queue: None,
        })
    }

    fn complete_sticky(&mut self, task: &WorkflowTask, commands: Vec<Command>) -> Response {
        self.call(Request::CompleteWorkflowTask {
            token: task.token.clone(),
            commands,
            identity: WORKER.to_string(),
            sticky_queue: Some(STICKY.to_string()),
        })
    }

    /// Polls a workflow task and completes it with `commands`.
    fn run_wft(&mut self, commands: Vec<Command>) -> WorkflowTask {
        let task = self.poll_wft();
        assert_eq!(self.complete(&task, commands), Response::Ok);
        task
    }

    fn fail_wft(&mut self, task: &WorkflowTask, cause: WorkflowTaskFailedCause) -> Response {
        self.call(Request::FailWorkflowTask {
            token: task.token.clone(),
            cause,
            failure: Box::new(app_failure("replay failed", "NondeterminismError")),
            identity: WORKER.to_string(),
        })
    }

    // --- activity tasks ---

    fn try_poll_act(&mut self) -> Option<ActivityTask> {
        let (from, r) = self.send(Request::PollActivityTask {
            task_queue: QUEUE.to_string(),
            identity: WORKER.to_string(),
            wait: Duration::ZERO,
        });
        let r = match r {
            Some(r) => r,
            None => {
                self.advance_to(self.now);
                self.late_reply(from).expect("expired poll answered")
            }
        };
        match r {
            Response::ActivityTask(t) => t.map(|b| *b),
            other => panic!("poll activity task: {other:?}"),
        }
    }

    fn poll_act(&mut self) -> ActivityTask {
        self.try_poll_act().expect("an activity task")
    }

    fn complete_act(&mut self, token: &TaskToken, result: &str) -> Response {
        self.call(Request::CompleteActivityTask {
            token: token.clone(),
            result: Some(payload(result)),
            identity: WORKER.to_string(),
        })
    }

    fn fail_act(&mut self, token: &TaskToken, failure: Failure) -> Response {
        self.call(Request::FailActivityTask {
            token: token.clone(),
            failure: Box::new(failure),
            identity: WORKER.to_string(),
        })
    }

    fn heartbeat(&mut self, token: &TaskToken, details: Option<Payloads>) -> Response {
        self.call(Request::RecordHeartbeat {
            token: token.clone(),
            details,
            identity: WORKER.to_string(),
        })
    }

    /// Runs `req` and asserts it is rejected with NotFound and changes nothing: no store write,
    /// same history, same mutable state.
    fn assert_rejected_unchanged(&mut self, key: &ExecKey, req: Request) {
        let before = self.eng.execution(key).expect("run").clone();
        let r = self.call(req);
        assert!(is_not_found(&r), "expected NotFound, got {r:?}");
        assert_eq!(self.last_writes, 0, "a rejected request wrote to the store");
        let after = self.eng.execution(key).expect("run");
        assert_eq!(after.history, before.history, "history changed");
        assert_eq!(after.ms, before.ms, "mutable state changed");
    }
}

/// Starts a workflow and completes its first task with `commands`.
fn started_with(h: &mut H, wid: &str, commands: Vec<Command>) -> ExecKey {
    let key = h.start(wid);
    h.run_wft(commands);
    key
}

fn wft_failed(e: &HistoryEvent) -> &sim::history::WorkflowTaskFailed {
    match &e.attributes {
        A::WorkflowTaskFailed(f) => f,
        other => panic!("expected WorkflowTaskFailed, got {other:?}"),
    }
}

fn terminated_reason(e: &HistoryEvent) -> &str {
    match &e.attributes {
        A::WorkflowExecutionTerminated(t) => &t.reason,
        other => panic!("expected WorkflowExecutionTerminated, got {other:?}"),
    }
}

fn activity_started(e: &HistoryEvent) -> &sim::history::ActivityTaskStarted {
    match &e.attributes {
        A::ActivityTaskStarted(s) => s,
        other => panic!("expected ActivityTaskStarted, got {other:?}"),
    }
}

fn wft_scheduled(e: &HistoryEvent) -> &sim::history::WorkflowTaskScheduled {
    match &e.attributes {
        A::WorkflowTaskScheduled(s) => s,
        other => panic!("expected WorkflowTaskScheduled, got {other:?}"),
    }
}

// ===== 1. Limits =====

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
    let r = h.call(Request::Describe {
        workflow_id: "limits-start".into(),
        run_id: None,
    });
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
    let r = h.call(Request::Signal {
        workflow_id: key.workflow_id.clone(),
        run_id: None,
        signal_name: "big".into(),
        input: Some(sized(MIB2 + 1)),
        identity: "client".into(),
        request_id: "s1".into(),
    });
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
    let r = h.call(Request::CompleteActivityTask {
        token: a.token.clone(),
        result: Some(sized(MIB2 + 1)),
        identity: WORKER.into(),
    });
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
            assert_eq!(h.complete(&task, vec![cmd]), Response::Ok);
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
        assert_eq!(h.complete_sticky(&task, commands), Response::Ok);
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
    assert_eq!(h.complete(&retry, exactly), Response::Ok);
    let events = h.events(&key);
    assert_eq!(events.len(), 4 + 3 + limit);
    assert_eq!(wft_scheduled(&events[4]).attempt, 2);
    assert_eq!(
        h.eng.execution(&key).unwrap().ms.activities.len(),
        limit,
        "all pending"
    );
}

// ===== 2. Command validation =====

#[test]
fn activity_without_start_or_schedule_to_close_timeout_is_rejected() {
    let mut h = H::new();
    let key = h.start("bad-activity");
    let task = h.poll_wft();
    let mut a = act("1");
    a.start_to_close_timeout = None;
    a.schedule_to_close_timeout = Some(Duration::ZERO);
    assert_eq!(h.complete(&task, vec![schedule(a)]), Response::Ok);
    let events = h.events(&key);
    assert_eq!(types(&events[3..]), seq("WorkflowTaskFailed"));
    assert_eq!(
        wft_failed(&events[3]).cause,
        WorkflowTaskFailedCause::BadScheduleActivityAttributes
    );
    assert_eq!(h.status(&key), WorkflowStatus::Running);
    assert!(h.try_poll_act().is_none());
    // Either timeout alone is enough.
    let retry = h.poll_wft();
    let mut only_s2c = act("1");
    only_s2c.start_to_close_timeout = None;
    only_s2c.schedule_to_close_timeout = Some(secs(30));
    assert_eq!(h.complete(&retry, vec![schedule(only_s2c)]), Response::Ok);
    assert_eq!(
        *h.types(&key).last().unwrap(),
        EventType::ActivityTaskScheduled
    );
}

#[test]
fn duplicate_activity_id_is_rejected_in_one_task_and_against_pending() {
    let mut h = H::new();
    let key = h.start("dup-activity");
    let task = h.poll_wft();
    assert_eq!(
        h.complete(&task, vec![schedule(act("1")), schedule(act("1"))]),
        Response::Ok
    );
    assert_eq!(
        wft_failed(&h.last(&key)).cause,
        WorkflowTaskFailedCause::ScheduleActivityDuplicateId
    );
    let retry = h.poll_wft();
    h.complete(&retry, vec![schedule(act("1"))]);
    h.signal(&key, "go", "s1");
    let task = h.poll_wft();
    let n = h.events(&key).len();
    assert_eq!(h.complete(&task, vec![schedule(act("1"))]), Response::Ok);
    let events = h.events(&key);
    assert_eq!(types(&events[n..]), seq("WorkflowTaskFailed"));
    assert_eq!(
        wft_failed(&events[n]).cause,
        WorkflowTaskFailedCause::ScheduleActivityDuplicateId
    );
    // No second activity task exists.
    assert!(h.try_poll_act().is_some());
    assert!(h.try_poll_act().is_none());
}

#[test]
fn duplicate_timer_id_is_rejected_in_one_task_and_against_pending() {
    let mut h = H::new();
    let key = h.start("dup-timer");
    let task = h.poll_wft();
    h.complete(&task, vec![timer("t", secs(5)), timer("t", secs(6))]);
    assert_eq!(
        wft_failed(&h.last(&key)).cause,
        WorkflowTaskFailedCause::StartTimerDuplicateId
    );
    let retry = h.poll_wft();
    h.complete(&retry, vec![timer("t", secs(5))]);
    h.signal(&key, "go", "s1");
    let task = h.poll_wft();
    let n = h.events(&key).len();
    h.complete(&task, vec![timer("t", secs(9))]);
    let events = h.events(&key);
    assert_eq!(types(&events[n..]), seq("WorkflowTaskFailed"));
    assert_eq!(
        wft_failed(&events[n]).cause,
        WorkflowTaskFailedCause::StartTimerDuplicateId
    );
    assert_eq!(h.eng.execution(&key).unwrap().ms.timers.len(), 1);
}

// ===== 3. Task tokens =====

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
        Request::CompleteActivityTask {
            token: first.token.clone(),
            result: None,
            identity: WORKER.into(),
        },
        Request::FailActivityTask {
            token: first.token.clone(),
            failure: Box::new(app_failure("late", "X")),
            identity: WORKER.into(),
        },
        Request::RecordHeartbeat {
            token: first.token.clone(),
            details: None,
            identity: WORKER.into(),
        },
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
        Request::CompleteActivityTask {
            token: a.token.clone(),
            result: Some(payload("ok")),
            identity: WORKER.into(),
        },
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
        Request::CompleteActivityTask {
            token: a.token.clone(),
            result: None,
            identity: WORKER.into(),
        },
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
        Request::CompleteActivityTask {
            token: a.token.clone(),
            result: None,
            identity: WORKER.into(),
        },
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
        Request::CompleteActivityTask {
            token: a.token.clone(),
            result: None,
            identity: WORKER.into(),
        },
        Request::RecordHeartbeat {
            token: a.token.clone(),
            details: None,
            identity: WORKER.into(),
        },
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
        Request::CompleteWorkflowTask {
            token: forged,
            commands: vec![complete_wf()],
            identity: WORKER.into(),
            sticky_queue: None,
        },
    );
    // After the task timed out, its token is dead for complete and fail alike.
    h.advance(secs(10));
    assert_eq!(
        *h.types(&key).last().unwrap(),
        EventType::WorkflowTaskTimedOut
    );
    for req in [
        Request::CompleteWorkflowTask {
            token: t1.token.clone(),
            commands: vec![complete_wf()],
            identity: WORKER.into(),
            sticky_queue: None,
        },
        Request::FailWorkflowTask {
            token: t1.token.clone(),
            cause: WorkflowTaskFailedCause::NonDeterministicError,
            failure: Box::new(app_failure("x", "y")),
            identity: WORKER.into(),
        },
    ] {
        h.assert_rejected_unchanged(&key, req);
    }
    // Still rejected while the retry runs; the retry's own token works once.
    let t2 = h.poll_wft();
    h.assert_rejected_unchanged(
        &key,
        Request::CompleteWorkflowTask {
            token: t1.token.clone(),
            commands: vec![],
            identity: WORKER.into(),
            sticky_queue: None,
        },
    );
    assert_eq!(h.complete(&t2, vec![timer("t", secs(100))]), Response::Ok);
    h.assert_rejected_unchanged(
        &key,
        Request::CompleteWorkflowTask {
            token: t2.token.clone(),
            commands: vec![complete_wf()],
            identity: WORKER.into(),
            sticky_queue: None,
        },
    );
}

// ===== 4. Activity retries =====

/// Fails every attempt of the one pending activity and returns the delays between a failure
/// and the next attempt's availability (checking it is not available a millisecond early).
fn retry_delays(h: &mut H, attempts: usize) -> Vec<Duration> {
    let mut delays = Vec::new();
    let mut a = h.poll_act();
    for n in 1..=attempts {
        assert_eq!(a.attempt, n as i32);
        h.fail_act(&a.token, app_failure(&format!("attempt {n}"), "Transient"));
        let failed_at = h.now;
        let ready = h.eng.next_wakeup().expect("a retry is pending");
        h.advance_to(Timestamp::from_nanos(ready.as_nanos() - 1_000_000));
        assert!(h.try_poll_act().is_none(), "attempt {} early", n + 1);
        h.advance_to(ready);
        delays.push(ready.since(failed_at));
        a = h.poll_act();
    }
    delays
}

#[test]
fn default_retry_policy_backs_off_1_2_4_seconds_up_to_100_seconds() {
    let mut h = H::new();
    started_with(&mut h, "retry-default", vec![schedule(act("1"))]);
    let delays = retry_delays(&mut h, 9);
    assert_eq!(
        delays,
        [1, 2, 4, 8, 16, 32, 64, 100, 100].map(secs).to_vec()
    );
}

#[test]
fn retry_delay_is_capped_at_maximum_interval_and_not_available_early() {
    let mut h = H::new();
    let mut a = act("1");
    a.retry_policy = Some(RetryPolicy {
        initial_interval: Some(Duration::from_millis(500)),
        backoff_coefficient: Some(3.0),
        maximum_interval: Some(secs(5)),
        ..RetryPolicy::default()
    });
    started_with(&mut h, "retry-capped", vec![schedule(a)]);
    let t = h.poll_act();
    h.fail_act(&t.token, app_failure("1", "Transient"));
    // 0.5 s, then 1.5 s, 4.5 s, 5 s (cap), 5 s.
    let mut token = t.token;
    for (n, ms) in [(2, 500u64), (3, 1500), (4, 4500), (5, 5000), (6, 5000)] {
        let failed_at = h.now;
        h.advance_to(failed_at.plus(Duration::from_millis(ms - 1)));
        assert!(h.try_poll_act().is_none(), "attempt {n} available early");
        h.advance_to(failed_at.plus(Duration::from_millis(ms)));
        let next = h.poll_act();
        assert_eq!(next.attempt, n);
        assert_ne!(next.token, token);
        token = next.token.clone();
        h.fail_act(&token, app_failure(&n.to_string(), "Transient"));
    }
}

#[test]
fn non_retryable_error_types_and_flag_close_the_activity_on_the_first_failure() {
    let mut h = H::new();
    let mut a = act("1");
    a.retry_policy = Some(RetryPolicy {
        non_retryable_error_types: vec!["CardDeclined".into()],
        ..RetryPolicy::default()
    });
    let key = started_with(
        &mut h,
        "retry-nonretryable",
        vec![schedule(a), schedule(act("2"))],
    );
    let t1 = h.poll_act();
    let t2 = h.poll_act();
    h.fail_act(&t1.token, app_failure("declined", "CardDeclined"));
    h.fail_act(
        &t2.token,
        Failure::application("bad input", "Validation", true),
    );
    let events = h.events(&key);
    assert_eq!(
        types(&events[6..]),
        seq(
            "ActivityTaskStarted ActivityTaskFailed WorkflowTaskScheduled \
             ActivityTaskStarted ActivityTaskFailed"
        )
    );
    for i in [7, 10] {
        match &events[i].attributes {
            A::ActivityTaskFailed(f) => {
                assert_eq!(f.retry_state, RetryState::NonRetryableFailure)
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(activity_started(&events[6]).attempt, 1);
    h.advance(secs(600));
    assert!(h.try_poll_act().is_none());
    // A similar but different error type does retry (exact match).
    let mut h = H::new();
    let mut b = act("3");
    b.retry_policy = Some(RetryPolicy {
        non_retryable_error_types: vec!["CardDeclined".into()],
        ..RetryPolicy::default()
    });
    started_with(&mut h, "retry-nonretryable-2", vec![schedule(b)]);
    let t3 = h.poll_act();
    h.fail_act(&t3.token, app_failure("x", "CardDeclinedTemporarily"));
    h.advance(secs(1));
    assert_eq!(h.poll_act().attempt, 2);
}

#[test]
fn maximum_attempts_reached_writes_only_the_final_attempt() {
    let mut h = H::new();
    let mut a = act("1");
    a.retry_policy = Some(RetryPolicy {
        maximum_attempts: 3,
        ..RetryPolicy::default()
    });
    let key = started_with(&mut h, "retry-max", vec![schedule(a)]);
    for n in 1..=3 {
        let t = h.poll_act();
        assert_eq!(t.attempt, n);
        h.fail_act(&t.token, app_failure(&format!("failure {n}"), "Transient"));
        if n < 3 {
            assert_eq!(h.events(&key).len(), 5, "no events for attempt {n}");
            h.advance(h.eng.next_wakeup().unwrap().since(h.now));
        }
    }
    let events = h.events(&key);
    assert_eq!(
        types(&events[4..]),
        seq("ActivityTaskScheduled ActivityTaskStarted ActivityTaskFailed WorkflowTaskScheduled")
    );
    let started = activity_started(&events[5]);
    assert_eq!(started.attempt, 3);
    assert_eq!(
        started.last_failure.as_ref().map(|f| f.message.as_str()),
        Some("failure 2")
    );
    match &events[6].attributes {
        A::ActivityTaskFailed(f) => {
            assert_eq!(f.retry_state, RetryState::MaximumAttemptsReached);
            assert_eq!(f.failure.as_ref().unwrap().message, "failure 3");
            assert_eq!((f.scheduled_event_id, f.started_event_id), (5, 6));
        }
        other => panic!("{other:?}"),
    }
    // Started is written when the task closes, with the time the final attempt started.
    assert_eq!(events[5].event_time, at(3));
    assert_eq!(events[6].event_time, at(3));
}

#[test]
fn schedule_to_close_bounds_all_attempts() {
    let mut h = H::new();
    let mut a = act("1");
    a.start_to_close_timeout = Some(secs(3));
    a.schedule_to_close_timeout = Some(secs(10));
    let key = started_with(&mut h, "retry-s2c", vec![schedule(a)]);
    // Every attempt is taken and never finished. t=0: attempt 1; times out at 3, retry at 4;
    // attempt 2 times out at 7, retry at 9; attempt 3 is cut by schedule-to-close at 10.
    let mut starts = Vec::new();
    while h.status(&key) == WorkflowStatus::Running
        && h.eng.execution(&key).unwrap().ms.activities.len() == 1
    {
        if let Some(t) = h.try_poll_act() {
            starts.push((t.attempt, h.now));
        }
        let next = h.eng.next_wakeup().expect("pending");
        h.advance_to(next);
    }
    assert_eq!(starts, vec![(1, at(0)), (2, at(4)), (3, at(9))]);
    let events = h.events(&key);
    assert_eq!(
        types(&events[5..]),
        seq("ActivityTaskStarted ActivityTaskTimedOut WorkflowTaskScheduled")
    );
    assert_eq!(activity_started(&events[5]).attempt, 3);
    match &events[6].attributes {
        A::ActivityTaskTimedOut(t) => {
            assert_eq!(t.retry_state, RetryState::Timeout);
            assert!(matches!(
                t.failure.as_ref().unwrap().info,
                FailureInfo::Timeout {
                    timeout_type: TimeoutType::ScheduleToClose,
                    ..
                }
            ));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(events[6].event_time, at(10));
}

#[test]
fn a_retry_that_would_start_after_schedule_to_close_is_not_made() {
    let mut h = H::new();
    let mut a = act("1");
    a.schedule_to_close_timeout = Some(secs(5));
    a.retry_policy = Some(RetryPolicy {
        initial_interval: Some(secs(10)),
        ..RetryPolicy::default()
    });
    let key = started_with(&mut h, "retry-s2c-fail", vec![schedule(a)]);
    let t = h.poll_act();
    h.advance(secs(1));
    h.fail_act(&t.token, app_failure("no", "Transient"));
    match &h.events(&key)[6].attributes {
        A::ActivityTaskFailed(f) => assert_eq!(f.retry_state, RetryState::Timeout),
        other => panic!("{other:?}"),
    }
}

#[test]
fn schedule_to_start_timeout_times_the_activity_out_without_a_started_event() {
    let mut h = H::new();
    let mut a = act("1");
    a.schedule_to_start_timeout = Some(secs(5));
    let key = started_with(&mut h, "retry-s2s", vec![schedule(a)]);
    h.advance_to(at_ms(4999));
    assert_eq!(h.events(&key).len(), 5);
    h.advance_to(at(5));
    let events = h.events(&key);
    assert_eq!(
        types(&events[4..]),
        seq("ActivityTaskScheduled ActivityTaskTimedOut WorkflowTaskScheduled")
    );
    match &events[5].attributes {
        A::ActivityTaskTimedOut(t) => {
            assert_eq!(t.retry_state, RetryState::Timeout);
            assert_eq!(t.started_event_id, 0);
            assert!(matches!(
                t.failure.as_ref().unwrap().info,
                FailureInfo::Timeout {
                    timeout_type: TimeoutType::ScheduleToStart,
                    ..
                }
            ));
        }
        other => panic!("{other:?}"),
    }
    assert!(h.try_poll_act().is_none());
}

#[test]
fn heartbeat_timeout_fails_the_attempt_and_hands_details_to_the_next() {
    let mut h = H::new();
    let mut a = act("1");
    a.start_to_close_timeout = Some(secs(60));
    a.heartbeat_timeout = Some(secs(5));
    let key = started_with(&mut h, "retry-heartbeat", vec![schedule(a)]);
    let t = h.poll_act();
    assert_eq!(t.heartbeat_details, None);
    h.advance(secs(4));
    assert_eq!(
        h.heartbeat(&t.token, Some(payload("row 41"))),
        Response::Heartbeat {
            cancel_requested: false
        }
    );
    // The heartbeat pushed the deadline to 4 + 5 = 9 s.
    h.advance_to(at_ms(8999));
    assert_eq!(h.eng.execution(&key).unwrap().ms.activities[&5].attempt, 1);
    h.advance_to(at(9));
    let state = h.eng.execution(&key).unwrap().ms.activities[&5].clone();
    assert_eq!(state.attempt, 2);
    assert!(matches!(
        state.last_failure.as_ref().unwrap().info,
        FailureInfo::Timeout {
            timeout_type: TimeoutType::Heartbeat,
            ..
        }
    ));
    assert_eq!(h.events(&key).len(), 5, "a retried attempt writes no event");
    h.advance_to(at(10));
    let t2 = h.poll_act();
    assert_eq!(t2.attempt, 2);
    assert_eq!(t2.heartbeat_details, Some(payload("row 41")));
    h.complete_act(&t2.token, "ok");
    let events = h.events(&key);
    let started = activity_started(&events[5]);
    assert_eq!(started.attempt, 2);
    assert!(matches!(
        started.last_failure.as_ref().unwrap().info,
        FailureInfo::Timeout {
            timeout_type: TimeoutType::Heartbeat,
            ..
        }
    ));
    assert_eq!(
        types(&events[5..]),
        seq("ActivityTaskStarted ActivityTaskCompleted WorkflowTaskScheduled")
    );
}

// ===== 5. Workflow tasks =====

#[test]
fn workflow_task_times_out_after_10s_and_the_retry_is_transient() {
    let mut h = H::new();
    let key = h.start("wft-timeout");
    let t1 = h.poll_wft();
    h.advance_to(at_ms(9999));
    assert_eq!(h.events(&key).len(), 3);
    h.advance_to(at(10));
    let events = h.events(&key);
    assert_eq!(
        types(&events),
        seq("WorkflowExecutionStarted WorkflowTaskScheduled WorkflowTaskStarted WorkflowTaskTimedOut")
    );
    match &events[3].attributes {
        A::WorkflowTaskTimedOut(t) => {
            assert_eq!(t.timeout_type, TimeoutType::StartToClose);
            assert_eq!((t.scheduled_event_id, t.started_event_id), (2, 3));
        }
        other => panic!("{other:?}"),
    }
    // The retry: attempt 2, its Scheduled/Started only in the task, not in history.
    h.advance(secs(1));
    let t2 = h.poll_wft();
    assert_eq!(t2.token.attempt, 2);
    assert_ne!(t2.token, t1.token);
    assert_eq!(
        types(&t2.events),
        seq(
            "WorkflowExecutionStarted WorkflowTaskScheduled WorkflowTaskStarted \
             WorkflowTaskTimedOut WorkflowTaskScheduled WorkflowTaskStarted"
        )
    );
    assert_eq!(wft_scheduled(&t2.events[4]).attempt, 2);
    assert_eq!(h.events(&key).len(), 4, "transient events are not written");
    // It times out too: still nothing written, attempt 3 after a 1 s backoff.
    h.advance(secs(10));
    assert_eq!(h.events(&key).len(), 4);
    assert!(h.try_poll_wft().is_none());
    h.advance(secs(1));
    let t3 = h.poll_wft();
    assert_eq!(t3.token.attempt, 3);
    assert_eq!(h.complete(&t3, vec![complete_wf()]), Response::Ok);
    let events = h.events(&key);
    assert_eq!(
        types(&events[4..]),
        seq("WorkflowTaskScheduled WorkflowTaskStarted WorkflowTaskCompleted WorkflowExecutionCompleted")
    );
    assert_eq!(wft_scheduled(&events[4]).attempt, 3);
    assert_eq!(events[4].event_id, 5);
    // Scheduled when attempt 2 timed out (21 s), started after the 1 s backoff.
    assert_eq!(events[4].event_time, at(21));
    assert_eq!(events[5].event_time, at(22));
}

#[test]
fn sticky_task_goes_to_the_sticky_queue_with_only_new_events() {
    let mut h = H::new();
    let key = h.start("sticky");
    let t1 = h.poll_wft();
    assert!(!t1.sticky);
    h.complete_sticky(&t1, vec![timer("t", secs(5))]);
    h.advance(secs(5));
    let events = h.events(&key);
    let sched = wft_scheduled(events.last().unwrap());
    assert_eq!(sched.task_queue, TaskQueue::sticky(STICKY, QUEUE));
    assert!(h.try_poll_wft().is_none(), "not on the normal queue");
    let t2 = h.try_poll_wft_on(STICKY).expect("sticky task");
    assert!(t2.sticky);
    assert_eq!(t2.first_event_id, 4);
    assert_eq!(
        types(&t2.events),
        seq("WorkflowTaskCompleted TimerStarted TimerFired WorkflowTaskScheduled WorkflowTaskStarted")
    );
}

#[test]
fn sticky_task_not_picked_up_in_10s_is_rescheduled_on_the_normal_queue() {
    let fixture_path = format!(
        "{}/../fixtures/temporal-histories/transfer-worker-killed.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let fixture =
        sim::history::parse_history(&std::fs::read_to_string(&fixture_path).expect("fixture"))
            .expect("parse fixture");
    let theirs = &fixture.events[13..16];

    let mut h = H::new();
    let key = h.start("sticky-dead");
    let t1 = h.poll_wft();
    h.complete_sticky(&t1, vec![schedule(act("1"))]);
    let a = h.poll_act();
    h.advance(secs(2));
    h.complete_act(&a.token, "ok");
    let scheduled_at = h.now;
    let n = h.events(&key).len();
    h.advance_to(scheduled_at.plus(Duration::from_millis(9999)));
    assert_eq!(h.events(&key).len(), n);
    h.advance_to(scheduled_at.plus(secs(10)));
    let events = h.events(&key);
    let ours = &events[n - 1..];
    assert_eq!(types(ours), types(theirs), "fixture events 14-16");
    for (o, t) in ours.iter().zip(theirs) {
        match (&o.attributes, &t.attributes) {
            (A::WorkflowTaskScheduled(o), A::WorkflowTaskScheduled(t)) => {
                assert_eq!(o.task_queue.kind, t.task_queue.kind);
                assert_eq!(o.attempt, t.attempt);
                assert_eq!(o.start_to_close_timeout, t.start_to_close_timeout);
            }
            (A::WorkflowTaskTimedOut(o), A::WorkflowTaskTimedOut(t)) => {
                assert_eq!(o.timeout_type, TimeoutType::ScheduleToStart);
                assert_eq!(o.timeout_type, t.timeout_type);
                assert_eq!(o.scheduled_event_id, n as i64);
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        wft_scheduled(&ours[0]).task_queue.kind,
        TaskQueueKind::Sticky
    );
    assert_eq!(wft_scheduled(&ours[2]).task_queue, TaskQueue::normal(QUEUE));
    assert_eq!(ours[1].event_time, scheduled_at.plus(secs(10)));
    // Any worker takes it from the normal queue and replays from event 1.
    assert!(h.try_poll_wft_on(STICKY).is_none());
    let t = h.poll_wft();
    assert!(!t.sticky);
    assert_eq!(t.first_event_id, 1);
    assert_eq!(t.events.len(), events.len() + 1);
    assert_eq!(t.token.attempt, 1);
    h.complete(&t, vec![complete_wf()]);
    assert_eq!(h.status(&key), WorkflowStatus::Completed);
}

#[test]
fn activity_result_during_a_running_task_with_a_terminal_command_fails_it_unhandled() {
    let mut h = H::new();
    let key = started_with(&mut h, "unhandled", vec![schedule(act("1"))]);
    let a = h.poll_act();
    h.signal(&key, "nudge", "s1");
    let t2 = h.poll_wft();
    assert_eq!(h.complete_act(&a.token, "paid"), Response::Ok);
    assert_eq!(h.events(&key).len(), 8, "buffered while the task runs");
    assert_eq!(h.complete(&t2, vec![complete_wf()]), Response::Ok);
    let events = h.events(&key);
    assert_eq!(
        types(&events),
        seq("WorkflowExecutionStarted WorkflowTaskScheduled WorkflowTaskStarted WorkflowTaskCompleted \
             ActivityTaskScheduled WorkflowExecutionSignaled WorkflowTaskScheduled WorkflowTaskStarted \
             WorkflowTaskFailed ActivityTaskStarted ActivityTaskCompleted WorkflowTaskScheduled")
    );
    assert_eq!(
        wft_failed(&events[8]).cause,
        WorkflowTaskFailedCause::UnhandledCommand
    );
    match &events[10].attributes {
        A::ActivityTaskCompleted(c) => {
            assert_eq!((c.scheduled_event_id, c.started_event_id), (5, 10))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(wft_scheduled(&events[11]).attempt, 1);
    assert_eq!(h.status(&key), WorkflowStatus::Running);
    let t3 = h.poll_wft();
    assert!(t3
        .events
        .iter()
        .any(|e| e.event_type() == EventType::ActivityTaskCompleted));
    h.complete(&t3, vec![complete_wf()]);
    assert_eq!(
        types(&h.events(&key)[12..]),
        seq("WorkflowTaskStarted WorkflowTaskCompleted WorkflowExecutionCompleted")
    );
}

#[test]
fn buffered_events_are_written_after_the_tasks_command_events() {
    let mut h = H::new();
    let key = started_with(&mut h, "buffered", vec![schedule(act("1"))]);
    let a = h.poll_act();
    h.signal(&key, "nudge", "s1");
    let t2 = h.poll_wft();
    h.advance(secs(1));
    h.complete_act(&a.token, "paid");
    h.signal(&key, "second", "s2");
    h.advance(secs(1));
    h.complete(&t2, vec![timer("t", secs(30)), marker("m")]);
    let events = h.events(&key);
    assert_eq!(
        types(&events[8..]),
        seq(
            "WorkflowTaskCompleted TimerStarted MarkerRecorded ActivityTaskStarted \
             ActivityTaskCompleted WorkflowExecutionSignaled WorkflowTaskScheduled"
        )
    );
    // Command events carry the completion's id; buffered events keep their arrival times.
    match &events[9].attributes {
        A::TimerStarted(t) => assert_eq!(t.workflow_task_completed_event_id, 9),
        other => panic!("{other:?}"),
    }
    assert_eq!(events[11].event_time, at(0));
    assert_eq!(events[12].event_time, at(1));
    assert_eq!(events[13].event_time, at(1));
    assert_eq!(events[14].event_time, at(2));
    match &events[12].attributes {
        A::ActivityTaskCompleted(c) => assert_eq!(c.started_event_id, 12),
        other => panic!("{other:?}"),
    }
}

#[test]
fn non_deterministic_failure_retries_without_failing_the_workflow() {
    let mut h = H::new();
    let key = h.start("nondeterminism");
    let t1 = h.poll_wft();
    assert_eq!(
        h.fail_wft(&t1, WorkflowTaskFailedCause::NonDeterministicError),
        Response::Ok
    );
    let written = h.events(&key);
    assert_eq!(
        types(&written),
        seq(
            "WorkflowExecutionStarted WorkflowTaskScheduled WorkflowTaskStarted WorkflowTaskFailed"
        )
    );
    assert_eq!(
        wft_failed(&written[3]).cause,
        WorkflowTaskFailedCause::NonDeterministicError
    );
    // Attempts 2, 3, 4 fail the same way: nothing more is written; backoff 0, 1 s, 2 s.
    for (attempt, backoff) in [(2, 0u64), (3, 1), (4, 2)] {
        h.advance(secs(backoff));
        let t = h.poll_wft();
        assert_eq!(t.token.attempt, attempt);
        assert_eq!(t.events.len(), 6, "history + transient Scheduled/Started");
        assert_eq!(
            h.fail_wft(&t, WorkflowTaskFailedCause::NonDeterministicError),
            Response::Ok
        );
        assert_eq!(h.events(&key), written, "attempt {attempt} wrote events");
        assert_eq!(h.status(&key), WorkflowStatus::Running);
        assert!(
            h.try_poll_wft().is_none(),
            "backoff before attempt {}",
            attempt + 1
        );
    }
    // The code is fixed: attempt 5 completes and its events are written with attempt 5.
    h.advance(secs(4));
    let t = h.poll_wft();
    assert_eq!(t.token.attempt, 5);
    h.complete(&t, vec![complete_wf()]);
    let events = h.events(&key);
    assert_eq!(
        types(&events[4..]),
        seq("WorkflowTaskScheduled WorkflowTaskStarted WorkflowTaskCompleted WorkflowExecutionCompleted")
    );
    assert_eq!(wft_scheduled(&events[4]).attempt, 5);
}

// ===== 6. Signals, cancellation, terminate, continue-as-new, timers =====

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
    let cancel = Request::RequestCancel {
        workflow_id: key.workflow_id.clone(),
        run_id: None,
        identity: "client".into(),
    };
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
        h.call(Request::CancelActivityTask {
            token: a.token.clone(),
            details: Some(payload("stopped")),
            identity: WORKER.into(),
        }),
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
    let r = h.call(Request::Terminate {
        workflow_id: key.workflow_id.clone(),
        run_id: Some(key.run_id.clone()),
        reason: "operator".into(),
        identity: "admin".into(),
    });
    assert_eq!(r, Response::Ok);
    let events = h.events(&key);
    assert_eq!(
        types(&events[4..]),
        seq(
            "ActivityTaskScheduled TimerStarted WorkflowExecutionSignaled WorkflowTaskScheduled \
             WorkflowTaskStarted WorkflowExecutionTerminated"
        )
    );
    assert_eq!(terminated_reason(&events[9]), "operator");
    let n = events.len();
    h.assert_rejected_unchanged(
        &key,
        Request::CompleteActivityTask {
            token: a.token.clone(),
            result: None,
            identity: WORKER.into(),
        },
    );
    h.assert_rejected_unchanged(
        &key,
        Request::CompleteWorkflowTask {
            token: t.token.clone(),
            commands: vec![complete_wf()],
            identity: WORKER.into(),
            sticky_queue: None,
        },
    );
    h.advance(secs(60));
    assert_eq!(h.events(&key).len(), n, "the timer does not fire");
    assert!(h.try_poll_act().is_none());
    let r = h.call(Request::Terminate {
        workflow_id: key.workflow_id.clone(),
        run_id: None,
        reason: "again".into(),
        identity: "admin".into(),
    });
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
    match h.call(Request::Describe {
        workflow_id: key.workflow_id.clone(),
        run_id: None,
    }) {
        Response::Described(d) => {
            assert_eq!(d.exec, new_key);
            assert_eq!(d.status, WorkflowStatus::Running);
        }
        other => panic!("{other:?}"),
    }
    match h.call(Request::GetHistory {
        workflow_id: key.workflow_id.clone(),
        run_id: None,
        wait_for_close: false,
        wait: Duration::ZERO,
    }) {
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
fn timers_fire_exactly_at_their_deadline_and_canceled_timers_never_fire() {
    let mut h = H::new();
    let key = h.start("timers");
    h.advance_to(at(1));
    h.run_wft(vec![timer("a", secs(30)), timer("b", secs(40))]);
    let events = h.events(&key);
    assert_eq!(
        types(&events[3..]),
        seq("WorkflowTaskCompleted TimerStarted TimerStarted")
    );
    assert_eq!(h.eng.next_wakeup(), Some(at(31)));
    h.advance_to(at_ms(30_999));
    assert_eq!(h.events(&key).len(), 6, "not a millisecond early");
    h.advance_to(at(31));
    let events = h.events(&key);
    assert_eq!(types(&events[6..]), seq("TimerFired WorkflowTaskScheduled"));
    assert_eq!(events[6].event_time, at(31));
    match &events[6].attributes {
        A::TimerFired(f) => {
            assert_eq!(f.timer_id, "a");
            assert_eq!(f.started_event_id, 5);
        }
        other => panic!("{other:?}"),
    }
    h.run_wft(vec![Command::CancelTimer {
        timer_id: "b".into(),
    }]);
    assert_eq!(
        types(&h.events(&key)[8..]),
        seq("WorkflowTaskStarted WorkflowTaskCompleted TimerCanceled")
    );
    assert_eq!(h.eng.next_wakeup(), None);
    h.advance_to(at(100));
    assert_eq!(h.events(&key).len(), 11);
}

// ===== 7. Identity =====

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
            h.call(Request::Terminate {
                workflow_id: "reuse".into(),
                run_id: None,
                reason: "r".into(),
                identity: "admin".into(),
            });
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

// ===== 8. Durability and recovery =====

/// One workflow through timers, an activity that times out and retries, a signal, and an
/// activity that completes; `h.restart()` is called before every step listed in `restart_at`.
fn recovery_script(h: &mut H, restart_at: &[usize]) -> ExecKey {
    let mut step = 0usize;
    let mut checkpoint = |h: &mut H| {
        if restart_at.contains(&step) {
            h.restart();
        }
        step += 1;
    };
    checkpoint(h);
    let key = h.start("durable");
    checkpoint(h);
    let mut a = act("1");
    a.start_to_close_timeout = Some(secs(5));
    let t = h.poll_wft();
    checkpoint(h);
    h.complete_sticky(&t, vec![schedule(a), timer("nap", secs(30))]);
    checkpoint(h);
    let lost = h.poll_act(); // the worker dies holding it
    assert_eq!(lost.attempt, 1);
    checkpoint(h);
    h.advance_to(at(5)); // start-to-close timeout, retry at 6
    checkpoint(h);
    h.advance_to(at(6));
    checkpoint(h);
    let a2 = h.poll_act();
    assert_eq!(a2.attempt, 2);
    checkpoint(h);
    h.advance_to(at(8));
    h.signal(&key, "hurry", "sig-1");
    checkpoint(h);
    let t2 = h.try_poll_wft_on(STICKY).expect("sticky task");
    checkpoint(h);
    h.complete_act(&a2.token, "charged"); // buffered: the task is running
    checkpoint(h);
    h.advance_to(at(9));
    h.complete_sticky(&t2, vec![]);
    checkpoint(h);
    let t3 = h.try_poll_wft_on(STICKY).expect("sticky task");
    checkpoint(h);
    h.complete_sticky(&t3, vec![]);
    checkpoint(h);
    h.advance_to(at(30)); // the timer fires
    checkpoint(h);
    let t4 = h.try_poll_wft_on(STICKY).expect("sticky task");
    checkpoint(h);
    h.complete(&t4, vec![complete_wf()]);
    checkpoint(h);
    key
}

fn shape(events: &[HistoryEvent]) -> Vec<(i64, EventType, Timestamp)> {
    events
        .iter()
        .map(|e| (e.event_id, e.event_type(), e.event_time))
        .collect()
}

#[test]
fn recovered_engine_continues_to_the_same_history_as_one_never_restarted() {
    let mut reference = H::new();
    let key = recovery_script(&mut reference, &[]);
    let expected = shape(&reference.events(&key));
    assert_eq!(reference.status(&key), WorkflowStatus::Completed);
    assert_eq!(
        types(&reference.events(&key)),
        seq("WorkflowExecutionStarted WorkflowTaskScheduled WorkflowTaskStarted WorkflowTaskCompleted \
             ActivityTaskScheduled TimerStarted WorkflowExecutionSignaled WorkflowTaskScheduled \
             WorkflowTaskStarted WorkflowTaskCompleted ActivityTaskStarted ActivityTaskCompleted \
             WorkflowTaskScheduled WorkflowTaskStarted WorkflowTaskCompleted TimerFired \
             WorkflowTaskScheduled WorkflowTaskStarted WorkflowTaskCompleted WorkflowExecutionCompleted")
    );
    let steps = 17; // checkpoints 0..=16 in `recovery_script`
    for at_step in 1..steps {
        let mut h = H::new();
        let key = recovery_script(&mut h, &[at_step]);
        assert_eq!(h.restarts, 1);
        assert_eq!(
            shape(&h.events(&key)),
            expected,
            "restart before step {at_step}"
        );
        assert_eq!(h.store.histories()[&key], h.events(&key));
    }
    let mut h = H::new();
    let all: Vec<usize> = (1..steps).collect();
    let key = recovery_script(&mut h, &all);
    assert_eq!(h.restarts as usize, steps - 1);
    assert_eq!(
        shape(&h.events(&key)),
        expected,
        "restart before every step"
    );
}

#[test]
fn pending_timers_and_activity_timeouts_fire_after_recovery() {
    let mut h = H::new();
    let mut a = act("1");
    a.start_to_close_timeout = Some(secs(5));
    a.retry_policy = Some(RetryPolicy {
        maximum_attempts: 1,
        ..RetryPolicy::default()
    });
    let key = started_with(
        &mut h,
        "recover-deadlines",
        vec![schedule(a), timer("t", secs(20))],
    );
    let _lost = h.poll_act();
    h.advance_to(at(2));
    h.restart();
    assert_eq!(h.eng.next_wakeup(), Some(at(5)));
    h.advance_to(at(5));
    let t = h.poll_wft();
    h.restart(); // with a task in flight: its timeout survives too
    assert_eq!(h.eng.next_wakeup(), Some(at(15)));
    h.complete(&t, vec![]);
    h.restart();
    assert_eq!(h.eng.next_wakeup(), Some(at(20)));
    h.advance_to(at(20));
    assert_eq!(
        types(&h.events(&key)[4..]),
        seq("ActivityTaskScheduled TimerStarted ActivityTaskStarted ActivityTaskTimedOut \
             WorkflowTaskScheduled WorkflowTaskStarted WorkflowTaskCompleted TimerFired WorkflowTaskScheduled")
    );
}

#[test]
fn parked_polls_are_not_durable() {
    let mut h = H::new();
    let key = started_with(&mut h, "recover-polls", vec![timer("t", secs(10))]);
    let (parked, r) = h.send(Request::PollActivityTask {
        task_queue: QUEUE.into(),
        identity: "old-worker".into(),
        wait: secs(60),
    });
    assert!(r.is_none(), "parked");
    assert_eq!(h.last_writes, 0, "parking writes nothing");
    h.restart();
    // The old poll is gone: a task arriving does not go to it, and it never expires.
    h.advance_to(at(10));
    let t = h.poll_wft();
    h.complete(&t, vec![schedule(act("1"))]);
    h.advance_to(at(100));
    assert!(
        h.late_reply(parked).is_none(),
        "a poll survived the restart"
    );
    assert!(h.try_poll_act().is_some(), "the task waited for a new poll");
    assert_eq!(h.status(&key), WorkflowStatus::Running);
}

// ===== 9. Long polls =====

#[test]
fn parked_poll_is_answered_when_a_task_arrives() {
    let mut h = H::new();
    let key = started_with(&mut h, "long-poll", vec![schedule(act("1"))]);
    let _ = h.poll_act();
    let (parked, r) = h.send(Request::PollWorkflowTask {
        task_queue: QUEUE.into(),
        identity: "w2".into(),
        wait: secs(60),
    });
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
    let (parked, r) = h.send(Request::PollActivityTask {
        task_queue: QUEUE.into(),
        identity: "w".into(),
        wait: secs(30),
    });
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
    let (waiter, r) = h.send(Request::GetHistory {
        workflow_id: key.workflow_id.clone(),
        run_id: None,
        wait_for_close: true,
        wait: secs(3600),
    });
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
    let (waiter, _) = h.send(Request::GetHistory {
        workflow_id: key2.workflow_id.clone(),
        run_id: None,
        wait_for_close: true,
        wait: secs(20),
    });
    h.advance(secs(20));
    match h.late_reply(waiter) {
        Some(Response::History { status, events, .. }) => {
            assert_eq!(status, WorkflowStatus::Running);
            assert!(events.is_empty(), "{events:?}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_retrying_task_that_new_events_arrive_for_is_written_when_it_starts() {
    let mut h = H::new();
    let key = h.start("transient-converted");
    let t1 = h.poll_wft();
    h.fail_wft(&t1, WorkflowTaskFailedCause::NonDeterministicError);
    // Attempt 2 is pending (transient); a signal arrives before it starts.
    h.advance(secs(1));
    h.signal(&key, "poke", "s1");
    assert_eq!(
        types(&h.events(&key)[3..]),
        seq("WorkflowTaskFailed WorkflowExecutionSignaled"),
        "no second task for the signal"
    );
    h.advance(secs(1));
    let t2 = h.poll_wft();
    assert_eq!(t2.token.attempt, 2);
    let events = h.events(&key);
    assert_eq!(
        types(&events[3..]),
        seq("WorkflowTaskFailed WorkflowExecutionSignaled WorkflowTaskScheduled WorkflowTaskStarted"),
        "converted to a normal task when it started"
    );
    assert_eq!(wft_scheduled(&events[5]).attempt, 2);
    assert_eq!(events[5].event_time, at(2));
    assert_eq!(t2.events, events, "the task carries the written history");
    assert_eq!(
        (t2.token.scheduled_event_id, t2.token.started_event_id),
        (6, 7)
    );
    // Its failure is written; the next attempt (no new events) is transient again.
    h.fail_wft(&t2, WorkflowTaskFailedCause::NonDeterministicError);
    assert_eq!(
        *h.types(&key).last().unwrap(),
        EventType::WorkflowTaskFailed
    );
    let n = h.len(&key);
    h.advance(secs(1));
    let t3 = h.poll_wft();
    assert_eq!(t3.token.attempt, 3);
    assert_eq!(h.len(&key), n);
    h.fail_wft(&t3, WorkflowTaskFailedCause::NonDeterministicError);
    assert_eq!(h.len(&key), n);
    h.advance(secs(2));
    let t4 = h.poll_wft();
    h.complete(&t4, vec![complete_wf()]);
    assert_eq!(
        types(&h.events(&key)[n..]),
        seq("WorkflowTaskScheduled WorkflowTaskStarted WorkflowTaskCompleted WorkflowExecutionCompleted")
    );
}
