//! The engine state machine driven directly: requests and explicit timestamps in, history,
//! store writes and responses out. No simulation, no network: every test is a script of
//! `Engine::handle` / `Engine::tick` calls with exact assertions on the events written.
//!
//! The helper layer at the top (`H`) keeps virtual time, numbers requests (a request's number
//! is its reply handle), writes and syncs every step's store writes into a `SimStore` (so any
//! test can restart the engine from what is durable), and sorts replies into "the reply to this
//! request" and "late" replies (parked long polls, history waiters).
//!
//! The tests are split by the engine's seams, one file each (limits, commands, task tokens,
//! activities, workflow tasks, frontend calls, timers, recovery, matching).

use std::collections::BTreeMap;
use std::time::Duration;

use crate::engine::core::{Engine, Step};
use crate::engine::state::MutableState;
use crate::engine::store::Store;
use crate::engine::{EngineConfig, Limits, SimStore};
use crate::history::{
    Command, ContinueAsNewWorkflowExecution, EventAttributes as A, EventType, Failure, FailureInfo,
    HistoryEvent, Payload, Payloads, RetryPolicy, RetryState, ScheduleActivityTask, TaskQueue,
    TaskQueueKind, TimeoutType, Timestamp, WorkflowTaskFailedCause,
};
use crate::wire::{
    self, ActivityTask, ExecKey, IdReusePolicy, Request, Response, ServerError, StartWorkflow,
    TaskToken, WorkflowStatus, WorkflowTask,
};

/// Where a reply goes: the number of the request it answers.
type Reply = u64;

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
        id_reuse_policy: IdReusePolicy::AllowDuplicate,
        ..StartWorkflow::default()
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
        request_eager_execution: false,
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
    eng: Engine<Reply>,
    cfg: EngineConfig,
    now: Timestamp,
    next_request: u64,
    store: SimStore,
    /// Replies to requests other than the one being sent (parked polls, history waiters).
    late: Vec<(Reply, Response)>,
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

    fn reply_to(&mut self) -> Reply {
        self.next_request += 1;
        self.next_request
    }

    /// Makes a step's writes durable (write + sync, as the server does before replying).
    fn absorb(&mut self, step: Step<Reply>) -> Vec<(Reply, Response)> {
        self.last_writes = step.writes.len();
        if !step.writes.is_empty() {
            self.store.write(step.writes);
            self.store.sync();
        }
        step.replies
    }

    /// Sends a request; returns its address and immediate reply (None when parked).
    fn send(&mut self, req: Request) -> (Reply, Option<Response>) {
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
    /// Moves time to `to`, ticking at every wakeup on the way as the server node does (the
    /// engine's timers may depend on when they fire, e.g. a re-armed heartbeat timer).
    fn advance_to(&mut self, to: Timestamp) {
        assert!(to >= self.now, "time goes forward");
        while let Some(t) = self.eng.next_wakeup().filter(|&t| t < to && t > self.now) {
            self.now = t;
            let step = self.eng.tick(t);
            let replies = self.absorb(step);
            self.late.extend(replies);
        }
        self.now = to;
        let step = self.eng.tick(to);
        let replies = self.absorb(step);
        self.late.extend(replies);
    }

    fn advance(&mut self, d: Duration) {
        self.advance_to(self.now.plus(d));
    }

    fn late_reply(&mut self, from: Reply) -> Option<Response> {
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
        self.call(Request::Signal(wire::Signal {
            workflow_id: key.workflow_id.clone(),
            run_id: None,
            signal_name: name.to_string(),
            input: Some(payload(name)),
            identity: "client".to_string(),
            request_id: request_id.to_string(),
        }))
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
        let (from, r) = self.send(Request::PollWorkflowTask(wire::PollTaskQueue {
            task_queue: queue.to_string(),
            identity: WORKER.to_string(),
            wait: Duration::ZERO,
        }));
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
        self.call(Request::CompleteWorkflowTask(wire::CompleteWorkflowTask {
            messages: Vec::new(),
            token: task.token.clone(),
            commands,
            identity: WORKER.to_string(),
            sticky_queue: None,
            sdk_metadata: None,
        }))
    }

    fn complete_sticky(&mut self, task: &WorkflowTask, commands: Vec<Command>) -> Response {
        self.call(Request::CompleteWorkflowTask(wire::CompleteWorkflowTask {
            messages: Vec::new(),
            token: task.token.clone(),
            commands,
            identity: WORKER.to_string(),
            sticky_queue: Some(STICKY.to_string()),
            sdk_metadata: None,
        }))
    }

    /// Polls a workflow task and completes it with `commands`.
    fn run_wft(&mut self, commands: Vec<Command>) -> WorkflowTask {
        let task = self.poll_wft();
        assert_eq!(self.complete(&task, commands), completed());
        task
    }

    fn fail_wft(&mut self, task: &WorkflowTask, cause: WorkflowTaskFailedCause) -> Response {
        self.call(Request::FailWorkflowTask(wire::FailWorkflowTask {
            token: task.token.clone(),
            cause,
            failure: Box::new(app_failure("replay failed", "NondeterminismError")),
            identity: WORKER.to_string(),
        }))
    }

    // --- activity tasks ---

    fn try_poll_act(&mut self) -> Option<ActivityTask> {
        let (from, r) = self.send(Request::PollActivityTask(wire::PollTaskQueue {
            task_queue: QUEUE.to_string(),
            identity: WORKER.to_string(),
            wait: Duration::ZERO,
        }));
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
        self.call(Request::CompleteActivityTask(wire::CompleteActivityTask {
            token: token.clone(),
            result: Some(payload(result)),
            identity: WORKER.to_string(),
        }))
    }

    fn fail_act(&mut self, token: &TaskToken, failure: Failure) -> Response {
        self.call(Request::FailActivityTask(wire::FailActivityTask {
            token: token.clone(),
            failure: Box::new(failure),
            identity: WORKER.to_string(),
        }))
    }

    fn heartbeat(&mut self, token: &TaskToken, details: Option<Payloads>) -> Response {
        self.call(Request::RecordHeartbeat(wire::RecordHeartbeat {
            token: token.clone(),
            details,
            identity: WORKER.to_string(),
        }))
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

fn wft_failed(e: &HistoryEvent) -> &crate::history::WorkflowTaskFailed {
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

fn activity_started(e: &HistoryEvent) -> &crate::history::ActivityTaskStarted {
    match &e.attributes {
        A::ActivityTaskStarted(s) => s,
        other => panic!("expected ActivityTaskStarted, got {other:?}"),
    }
}

fn wft_scheduled(e: &HistoryEvent) -> &crate::history::WorkflowTaskScheduled {
    match &e.attributes {
        A::WorkflowTaskScheduled(s) => s,
        other => panic!("expected WorkflowTaskScheduled, got {other:?}"),
    }
}

mod activities;
mod assertions;
mod commands;
mod eager;
mod frontend;
mod limits;
mod matching;
mod properties;
mod recovery;
mod run_timeouts;
mod signal_with_start;
mod task_tokens;
mod timers;
mod updates;
mod workflow_tasks;

/// RespondWorkflowTaskCompleted's answer when no activity runs eagerly.
fn completed() -> Response {
    Response::WorkflowTaskCompleted {
        activity_tasks: Vec::new(),
    }
}
