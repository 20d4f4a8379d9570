//! The worker node: polls one task queue (and its own sticky queue) for workflow and activity
//! tasks with bounded concurrency, runs workflow tasks through the SDK's executor (caching each
//! run's machine, replaying the full history when it has none), and runs activities.
//!
//! Everything here lives inside the node: a kill drops the cache and every running activity,
//! as a crashed process would.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use madsim::rand::Rng;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::clock::SimClock;
use crate::history::{
    Command, EventAttributes, EventType, Failure, Payloads, WorkflowTaskFailedCause,
};
use crate::lookup::LookupMap;
use crate::record::coverage::{windows, PhaseGuard};
use crate::record::AckedRequest;
use crate::sdk::{
    ActivityContext, ActivityHost, ActivityInfo, HeartbeatOutcome, LocalActivityRequest,
    LocalActivityResult, LocalBoxFuture, Registry, ServiceCallError, WorkflowExecutor,
    WorkflowTaskError,
};
use crate::service::{Caller, ServiceRequest, ServiceResponse};
use crate::trace::TraceKind;
use crate::transport::{CallOptions, NetEnv, RpcClient, LONG_POLL_WAIT};
use crate::wire::{self, ActivityTask, Request, Response, ServerError, TaskToken, WorkflowTask};

#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// Node name, e.g. `worker-1`; the identity adds an incarnation so a restart is a new worker.
    pub node: String,
    pub addr: SocketAddr,
    pub server: SocketAddr,
    pub task_queue: String,
    /// Concurrent activity attempts (polled or eager).
    pub activity_slots: usize,
    /// Activity polls kept outstanding; each holds a slot while it waits, as in Temporal's
    /// SDKs, so the slots beyond them are free for eager activities.
    pub activity_pollers: usize,
    /// Most activities one workflow task completion asks to run eagerly on this worker
    /// (core's `max_eager_activity_reservations_per_workflow_task`, 3); 0 turns eager
    /// execution off on this worker.
    pub max_eager_activities: usize,
    /// Drop the cached machine after every workflow task, so every task replays from history.
    pub evict_every_task: bool,
    /// Where the services activities call live.
    pub services: BTreeMap<String, SocketAddr>,
    /// Per-request timeout to the server (polls wait longer: the server long-polls).
    pub request_timeout: Duration,
    pub service_timeout: Duration,
}

impl WorkerConfig {
    pub fn new(
        node: impl Into<String>,
        addr: SocketAddr,
        server: SocketAddr,
        task_queue: impl Into<String>,
    ) -> Self {
        WorkerConfig {
            node: node.into(),
            addr,
            server,
            task_queue: task_queue.into(),
            activity_slots: 4,
            activity_pollers: 2,
            max_eager_activities: 3,
            evict_every_task: false,
            services: BTreeMap::new(),
            request_timeout: Duration::from_secs(3),
            service_timeout: Duration::from_secs(2),
        }
    }
}

type ServerClient = RpcClient<Request, Response>;
type ServiceClient = RpcClient<ServiceRequest, ServiceResponse>;

struct Worker {
    cfg: WorkerConfig,
    identity: String,
    sticky_queue: String,
    registry: Registry,
    server: ServerClient,
    services: Rc<ServiceClient>,
    /// Free activity slots: a poll or a running attempt holds one.
    activity_slots: Arc<Semaphore>,
    /// Machines by run id (look-ups only).
    cache: RefCell<LookupMap<String, Box<dyn WorkflowExecutor>>>,
    env: NetEnv,
    clock: SimClock,
}

/// Runs a worker until its node is killed.
pub async fn run_worker(cfg: WorkerConfig, registry: Registry, env: NetEnv, clock: SimClock) {
    let incarnation: u32 = madsim::rand::thread_rng().gen();
    let identity = format!("{}@{:08x}", cfg.node, incarnation);
    let sticky_queue = format!("{identity}-sticky");
    let server = match ServerClient::bind(cfg.addr, env.clone()).await {
        Ok(c) => c,
        Err(e) => {
            env.trace.note(format!("{} failed to bind: {e}", cfg.node));
            return;
        }
    };
    let service_addr = SocketAddr::new(cfg.addr.ip(), cfg.addr.port() + 1);
    let services = match ServiceClient::bind(service_addr, env.clone()).await {
        Ok(c) => Rc::new(c),
        Err(e) => {
            env.trace.note(format!("{} failed to bind: {e}", cfg.node));
            return;
        }
    };
    env.trace.record(TraceKind::NodeStart {
        node: identity.clone(),
    });
    let cfg_slots = cfg.activity_slots.max(1);
    let worker = Rc::new(Worker {
        cfg,
        identity,
        sticky_queue,
        registry,
        server,
        services,
        activity_slots: Arc::new(Semaphore::new(cfg_slots)),
        cache: RefCell::new(LookupMap::default()),
        env,
        clock,
    });
    let mut tasks = Vec::new();
    {
        let w = worker.clone();
        let q = w.cfg.task_queue.clone();
        tasks.push(madsim::task::spawn_local(async move {
            w.workflow_poll_loop(q).await
        }));
    }
    if !worker.cfg.evict_every_task {
        let w = worker.clone();
        let q = w.sticky_queue.clone();
        tasks.push(madsim::task::spawn_local(async move {
            w.workflow_poll_loop(q).await
        }));
    }
    for _ in 0..worker.cfg.activity_pollers.clamp(1, cfg_slots) {
        let w = worker.clone();
        tasks.push(madsim::task::spawn_local(async move {
            w.activity_poll_loop().await
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
}

impl Worker {
    /// The client side of a long poll: the server holds it until work comes; a lost request
    /// or reply (or a server that died holding it) fails it `KEEPALIVE` later.
    fn poll_options() -> CallOptions {
        CallOptions::long_poll(LONG_POLL_WAIT)
    }

    fn request_options(&self) -> CallOptions {
        CallOptions::new(self.cfg.request_timeout, 3)
    }

    async fn workflow_poll_loop(self: Rc<Self>, queue: String) {
        loop {
            let req = Request::PollWorkflowTask(wire::PollTaskQueue {
                task_queue: queue.clone(),
                identity: self.identity.clone(),
                wait: LONG_POLL_WAIT,
            });
            match self
                .server
                .call(self.cfg.server, req, Self::poll_options())
                .await
            {
                Ok(Response::WorkflowTask(Some(task))) => {
                    if task.query.is_some() {
                        self.answer_query(*task).await;
                        continue;
                    }
                    self.note_history_shown(&task);
                    let observed = self.env.attempts.workflow_task_received(
                        crate::record::ObservedWorkflowTask {
                            exec: task.token.exec.clone(),
                            scheduled_event_id: task.token.scheduled_event_id,
                            started_event_id: task.token.started_event_id,
                            attempt: task.token.attempt,
                            worker: self.identity.clone(),
                            received: self.clock.now(),
                            done: None,
                            carried_requests: !task.messages.is_empty(),
                        },
                    );
                    let _window = self
                        .env
                        .coverage
                        .enter(&self.cfg.node, windows::WORKFLOW_TASK);
                    Worker::run_workflow_task(&self, *task).await;
                    // A killed worker never gets here: its task stays undone.
                    self.env
                        .attempts
                        .workflow_task_done(observed, self.clock.now());
                }
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }

    async fn run_workflow_task(self: &Rc<Self>, mut task: WorkflowTask) {
        let run_id = task.token.exec.run_id.clone();
        // A cached machine continues only if the server recorded its last task: the next event
        // must be that task's WorkflowTaskCompleted, written for this worker (a speculative task
        // the server dropped leaves its event ids to the next task, which another worker may
        // complete). Otherwise replay from the full history.
        let mut machine = self.cache.borrow_mut().remove(&run_id).filter(|m| {
            let next = m.last_event_id() + 1;
            task.first_event_id <= next
                && task
                    .events
                    .iter()
                    .find(|e| e.event_id == next)
                    .is_some_and(|e| match &e.attributes {
                        EventAttributes::WorkflowTaskCompleted(c) => c.identity == self.identity,
                        _ => false,
                    })
        });
        let events = if machine.is_none() && task.first_event_id > 1 {
            // Sticky task without a cached machine: fetch the full history and replay it. A
            // speculative task's own Scheduled/Started events exist only in the task: they
            // follow what the server stored.
            match self.full_history(&task).await {
                Some(mut e) => {
                    let stored = e.last().map_or(0, |l| l.event_id);
                    e.extend(task.events.iter().filter(|t| t.event_id > stored).cloned());
                    e
                }
                None => return,
            }
        } else {
            std::mem::take(&mut task.events)
        };
        let result = match machine.take() {
            Some(m) => Ok(m),
            None => match events.first() {
                Some(first) if first.event_type() == EventType::WorkflowExecutionStarted => self
                    .registry
                    .start_run(&task.token.exec.workflow_id, &run_id, first),
                _ => Err(WorkflowTaskError::BadHistory(
                    "history does not start with WorkflowExecutionStarted".into(),
                )),
            },
        };
        let messages = std::mem::take(&mut task.messages);
        let carried_requests = !messages.is_empty();
        let mut outcome = result.and_then(|mut m| {
            m.deliver_messages(messages)?;
            m.activate(&events).map(|commands| (m, commands))
        });
        // Local activities run here, inside the task, until the code waits on none.
        while let Ok((m, commands)) = &mut outcome {
            let requests = m.take_local_activities();
            if requests.is_empty() {
                break;
            }
            let mut results = Vec::with_capacity(requests.len());
            for r in requests {
                results.push(self.run_local_activity(&task, r).await);
            }
            match m.resolve_local_activities(results) {
                Ok(c) => *commands = c,
                Err(e) => outcome = Err(e),
            }
        }
        match outcome {
            Ok((mut m, mut commands)) => {
                let reserved = self.reserve_eager_slots(&mut commands);
                let sdk_metadata = m.task_metadata();
                let messages = m.take_messages();
                let closing = commands.iter().any(|c| c.is_terminal());
                // A task that carried update requests may be speculative: the server writes it
                // only if it did something besides rejecting them, so only then is it surely
                // recorded.
                let surely_written = !carried_requests
                    || !commands.is_empty()
                    || messages
                        .iter()
                        .any(|m| !matches!(m.body, crate::history::MessageBody::Rejection { .. }));
                let sticky =
                    (!self.cfg.evict_every_task && !closing).then(|| self.sticky_queue.clone());
                // A machine past a task the server may drop would run ahead of the history.
                if sticky.is_some() && surely_written {
                    self.cache.borrow_mut().insert(run_id.clone(), m);
                }
                let (exec, started_event_id) =
                    (task.token.exec.clone(), task.token.started_event_id);
                let req = Request::CompleteWorkflowTask(wire::CompleteWorkflowTask {
                    token: task.token,
                    commands,
                    identity: self.identity.clone(),
                    sticky_queue: sticky,
                    sdk_metadata,
                    messages,
                });
                match self
                    .server
                    .call(self.cfg.server, req, self.request_options())
                    .await
                {
                    Ok(Response::WorkflowTaskCompleted { activity_tasks }) => {
                        if surely_written {
                            self.env.acks.record(
                                &self.identity,
                                AckedRequest::WorkflowTaskClosed {
                                    exec,
                                    started_event_id,
                                },
                            );
                        }
                        self.run_eager_activities(activity_tasks, reserved);
                    }
                    // The task failed on the server (a command it refused).
                    Ok(Response::Ok) if surely_written => self.env.acks.record(
                        &self.identity,
                        AckedRequest::WorkflowTaskClosed {
                            exec,
                            started_event_id,
                        },
                    ),
                    Ok(Response::Ok) => {}
                    _ => {
                        // Rejected or lost: our cached state may be ahead of the server's.
                        self.cache.borrow_mut().remove(&run_id);
                    }
                }
            }
            Err(e) => {
                let cause = match &e {
                    WorkflowTaskError::NonDeterminism(_) => {
                        WorkflowTaskFailedCause::NonDeterministicError
                    }
                    _ => WorkflowTaskFailedCause::WorkflowWorkerUnhandledFailure,
                };
                let failure = Failure::application(e.to_string(), error_type_name(&e), false);
                let req = Request::FailWorkflowTask(wire::FailWorkflowTask {
                    token: task.token,
                    cause,
                    failure: Box::new(failure),
                    identity: self.identity.clone(),
                });
                let _ = self
                    .server
                    .call(self.cfg.server, req, self.request_options())
                    .await;
            }
        }
    }

    /// Answers a query task: replays the run's history it carries and asks the workflow's
    /// query handler (a fresh replay each time: a query never touches the cached machines).
    async fn answer_query(&self, task: WorkflowTask) {
        let Some(q) = task.query else {
            return;
        };
        let history = crate::history::History::new(task.events);
        let result = crate::sdk::query(&self.registry, &history, &q.query_type, q.args.as_ref());
        let req = Request::AnswerQuery(Box::new(wire::AnswerQuery {
            token: task.token,
            query_id: q.query_id,
            result,
            identity: self.identity.clone(),
        }));
        let _ = self
            .server
            .call(self.cfg.server, req, self.request_options())
            .await;
    }

    /// Records what a workflow task showed of the run's history: its last persisted event
    /// (a retried task's own scheduled/started pair is not persisted until it completes).
    fn note_history_shown(&self, task: &WorkflowTask) {
        let n = task.events.len();
        let first_attempt = task
            .events
            .iter()
            .rev()
            .find_map(|e| match &e.attributes {
                crate::history::EventAttributes::WorkflowTaskScheduled(s) => Some(s.attempt <= 1),
                _ => None,
            })
            .unwrap_or(true);
        // A retried attempt's Scheduled/Started pair is not persisted until it completes, nor
        // is a speculative task's (one carrying update requests may be speculative: the claim
        // is kept to what is surely written).
        let last = if first_attempt && task.messages.is_empty() {
            n.checked_sub(1)
        } else {
            n.checked_sub(3)
        };
        if let Some(e) = last.and_then(|i| task.events.get(i)) {
            self.env.acks.record(
                &self.identity,
                AckedRequest::HistoryShown {
                    exec: task.token.exec.clone(),
                    event_id: e.event_id,
                    event_type: e.event_type(),
                },
            );
        }
    }

    /// Runs a local activity inside workflow task `task`: attempts with the retry policy's
    /// backoff (virtual time passes), each bounded by its start-to-close timeout, until one
    /// succeeds, a failure is not retryable, the attempts or the schedule-to-close budget run
    /// out, or the next backoff exceeds a minute (Temporal's local retry threshold; beyond it
    /// the result says `backoff`, and the workflow waits with a timer, as core's `DoBackoff`).
    async fn run_local_activity(
        self: &Rc<Self>,
        task: &WorkflowTask,
        r: LocalActivityRequest,
    ) -> LocalActivityResult {
        let begun = self.clock.elapsed();
        let policy = r.retry_policy.clone().unwrap_or_default();
        let mut attempt = r.attempt.max(1);
        loop {
            let info = ActivityInfo {
                workflow_id: task.token.exec.workflow_id.clone(),
                run_id: task.token.exec.run_id.clone(),
                workflow_type: task.workflow_type.clone(),
                activity_id: r.activity_id.clone(),
                activity_type: r.activity_type.clone(),
                attempt,
                scheduled_event_id: 0,
                heartbeat_details: None,
                task_queue: self.cfg.task_queue.clone(),
            };
            let host = Host::new(self, &task.token, true);
            let ctx = ActivityContext::new(info, host.clone());
            let run = self.registry.run_activity(ctx, r.input.clone());
            let result = match r.start_to_close_timeout.filter(|d| !d.is_zero()) {
                Some(limit) => match crate::alarm::timeout(limit, run).await {
                    Ok(res) => res,
                    Err(_) => Err(Failure::timeout(
                        crate::history::TimeoutType::StartToClose,
                        "activity StartToClose timeout",
                    )),
                },
                None => run.await,
            };
            let failure = match result {
                Ok(p) => {
                    return LocalActivityResult {
                        seq: r.seq,
                        attempt,
                        result: Ok(p),
                        runtime: self.clock.elapsed().saturating_sub(begun),
                        backoff: None,
                    }
                }
                Err(f) => f,
            };
            self.note_failed_attempt(
                &task.token.exec,
                &r.activity_id,
                &r.activity_type,
                attempt,
                &failure,
            );
            let backoff = policy.backoff(attempt);
            let spent = self.clock.elapsed().saturating_sub(begun);
            let out_of_budget = r
                .schedule_to_close_timeout
                .filter(|d| !d.is_zero())
                .is_some_and(|d| spent + backoff >= d);
            let retry = policy.should_retry(
                attempt,
                failure.error_type().unwrap_or_default(),
                failure.is_non_retryable(),
            );
            if !retry || out_of_budget {
                return LocalActivityResult {
                    seq: r.seq,
                    attempt,
                    result: Err(failure),
                    runtime: spent,
                    backoff: None,
                };
            }
            let threshold = r
                .local_retry_threshold
                .unwrap_or(crate::sdk::LOCAL_RETRY_THRESHOLD);
            if backoff > threshold {
                // Longer than the local retry threshold: the workflow backs off with a timer.
                return LocalActivityResult {
                    seq: r.seq,
                    attempt,
                    result: Err(failure),
                    runtime: spent,
                    backoff: Some(backoff),
                };
            }
            tokio::time::sleep(backoff).await;
            attempt += 1;
        }
    }

    /// Records what an activity attempt's failure was, outside the node (for reports).
    fn note_failed_attempt(
        &self,
        exec: &crate::history::ExecKey,
        activity_id: &str,
        activity_type: &str,
        attempt: i32,
        failure: &Failure,
    ) {
        self.env.attempts.record(crate::record::AttemptFailure {
            exec: exec.clone(),
            activity_id: activity_id.to_string(),
            activity_type: activity_type.to_string(),
            attempt,
            node: self.cfg.node.clone(),
            failure_type: match &failure.info {
                crate::history::FailureInfo::Application { error_type, .. } => error_type.clone(),
                crate::history::FailureInfo::Timeout { .. } => "Timeout".into(),
                crate::history::FailureInfo::Canceled { .. } => "Canceled".into(),
                crate::history::FailureInfo::Terminated => "Terminated".into(),
                crate::history::FailureInfo::Server { .. } => "ServerFailure".into(),
                _ => "Failure".into(),
            },
            message: failure.message.clone(),
            failed_attempts: 0,
        });
    }

    async fn full_history(&self, task: &WorkflowTask) -> Option<Vec<crate::history::HistoryEvent>> {
        let req = Request::GetHistory(wire::GetHistory {
            workflow_id: task.token.exec.workflow_id.clone(),
            run_id: Some(task.token.exec.run_id.clone()),
            wait_for_close: false,
            wait: Duration::ZERO,
        });
        match self
            .server
            .call(self.cfg.server, req, self.request_options())
            .await
        {
            Ok(Response::History { events, .. }) => {
                // Everything after the task's WorkflowTaskStarted is buffered on the server, so
                // the stored history ends with it; keep only what the task covers.
                let last = task.token.started_event_id;
                Some(events.into_iter().filter(|e| e.event_id <= last).collect())
            }
            _ => None,
        }
    }

    /// Reserves a free activity slot for each activity the SDK asked to run eagerly, up to
    /// `max_eager_activities`, on this worker's task queue; clears the request of the others
    /// (as core does before completing a task).
    fn reserve_eager_slots(&self, commands: &mut [Command]) -> Vec<OwnedSemaphorePermit> {
        let mut reserved = Vec::new();
        for c in commands {
            let Command::ScheduleActivityTask(s) = c else {
                continue;
            };
            if !s.request_eager_execution {
                continue;
            }
            let same_queue =
                s.task_queue.name.is_empty() || s.task_queue.name == self.cfg.task_queue;
            let permit = (same_queue && reserved.len() < self.cfg.max_eager_activities)
                .then(|| self.activity_slots.clone().try_acquire_owned().ok())
                .flatten();
            match permit {
                Some(p) => reserved.push(p),
                None => s.request_eager_execution = false,
            }
        }
        reserved
    }

    /// Runs the activity tasks a workflow task's completion handed back, each in a slot
    /// reserved for it; slots the server did not use are freed.
    fn run_eager_activities(
        self: &Rc<Self>,
        tasks: Vec<ActivityTask>,
        mut reserved: Vec<OwnedSemaphorePermit>,
    ) {
        for task in tasks {
            let permit = reserved.pop();
            if permit.is_none() {
                self.env.trace.note(format!(
                    "{} received eager activity {} without a reserved slot",
                    self.identity, task.activity_id
                ));
            }
            let w = self.clone();
            madsim::task::spawn_local(async move {
                w.run_activity_task(task).await;
                drop(permit);
            });
        }
    }

    async fn activity_poll_loop(self: Rc<Self>) {
        loop {
            let permit = match self.activity_slots.clone().acquire_owned().await {
                Ok(p) => p,
                Err(_) => return,
            };
            let req = Request::PollActivityTask(wire::PollTaskQueue {
                task_queue: self.cfg.task_queue.clone(),
                identity: self.identity.clone(),
                wait: LONG_POLL_WAIT,
            });
            match self
                .server
                .call(self.cfg.server, req, Self::poll_options())
                .await
            {
                Ok(Response::ActivityTask(Some(task))) => {
                    let w = self.clone();
                    madsim::task::spawn_local(async move {
                        w.run_activity_task(*task).await;
                        drop(permit);
                    });
                }
                Ok(_) => drop(permit),
                Err(_) => {
                    drop(permit);
                    tokio::time::sleep(Duration::from_millis(200)).await
                }
            }
        }
    }

    async fn run_activity_task(self: Rc<Self>, task: ActivityTask) {
        let info = ActivityInfo {
            workflow_id: task.token.exec.workflow_id.clone(),
            run_id: task.token.exec.run_id.clone(),
            workflow_type: task.workflow_type.clone(),
            activity_id: task.activity_id.clone(),
            activity_type: task.activity_type.clone(),
            attempt: task.attempt,
            scheduled_event_id: task.token.scheduled_event_id,
            heartbeat_details: task.heartbeat_details.clone(),
            task_queue: task.task_queue.clone(),
        };
        let host = Host::new(&self, &task.token, false);
        let ctx = ActivityContext::new(info, host.clone());
        let observed = self.env.attempts.received(crate::record::ObservedAttempt {
            exec: task.token.exec.clone(),
            scheduled_event_id: task.token.scheduled_event_id,
            activity_id: task.activity_id.clone(),
            activity_type: task.activity_type.clone(),
            attempt: task.attempt,
            worker: self.identity.clone(),
            received: self.clock.now(),
            end: None,
            acknowledged: false,
        });
        let attempt = self.registry.run_activity(ctx, task.input.clone());
        // Like Temporal's SDKs, the worker gives up an attempt at its start-to-close deadline, by
        // its own clock (which a fault may skew). The server times the attempt out on its side.
        let result = match task.start_to_close_timeout.filter(|d| !d.is_zero()) {
            Some(limit) => {
                let skew = self.env.clocks.get(&self.cfg.node);
                let local_now = self
                    .clock
                    .now()
                    .as_nanos()
                    .saturating_add(skew.saturating_mul(1_000_000));
                let deadline = task.started_time.plus(limit).as_nanos();
                let remaining = Duration::from_nanos(
                    u64::try_from(deadline.saturating_sub(local_now)).unwrap_or(0),
                );
                match crate::alarm::timeout(remaining, attempt).await {
                    Ok(r) => r,
                    Err(_) => {
                        self.env.trace.note(format!(
                            "{} gave up attempt {} of activity {} at its local deadline (clock skew {skew}ms)",
                            self.identity, task.attempt, task.activity_id
                        ));
                        self.env.attempts.ended(
                            observed,
                            self.clock.now(),
                            crate::record::AttemptEnd::GaveUp,
                        );
                        return;
                    }
                }
            }
            None => attempt.await,
        };
        let end = match &result {
            Ok(_) => crate::record::AttemptEnd::Completed,
            Err(f) if is_cancellation(f) => crate::record::AttemptEnd::Canceled,
            Err(f) => crate::record::AttemptEnd::Failed {
                error_type: f.error_type().unwrap_or("").to_string(),
                non_retryable: f.is_non_retryable(),
            },
        };
        self.env.attempts.ended(observed, self.clock.now(), end);
        let req = match result {
            Ok(payloads) => Request::CompleteActivityTask(wire::CompleteActivityTask {
                token: task.token,
                result: payloads,
                identity: self.identity.clone(),
            }),
            Err(failure) if is_cancellation(&failure) => {
                Request::CancelActivityTask(wire::CancelActivityTask {
                    token: task.token,
                    details: None,
                    identity: self.identity.clone(),
                })
            }
            Err(failure) => {
                self.note_failed_attempt(
                    &task.token.exec,
                    &task.activity_id,
                    &task.activity_type,
                    task.attempt,
                    &failure,
                );
                Request::FailActivityTask(wire::FailActivityTask {
                    token: task.token,
                    failure: Box::new(failure),
                    identity: self.identity.clone(),
                })
            }
        };
        let acked = match &req {
            Request::CompleteActivityTask(c) => Some(AckedRequest::ActivityCompleted {
                exec: c.token.exec.clone(),
                scheduled_event_id: c.token.scheduled_event_id,
            }),
            Request::CancelActivityTask(c) => Some(AckedRequest::ActivityCanceled {
                exec: c.token.exec.clone(),
                scheduled_event_id: c.token.scheduled_event_id,
            }),
            // A failed attempt may be retried, which writes no event: nothing to check.
            _ => None,
        };
        // NotFound (a stale attempt) is expected after timeouts; nothing to do either way.
        let reply = self
            .server
            .call(self.cfg.server, req, self.request_options())
            .await;
        host.close_window();
        let answered = matches!(reply, Ok(Response::Ok));
        if answered {
            self.env.attempts.acknowledged(observed);
        }
        if let (true, Some(a)) = (answered, acked) {
            self.env.acks.record(&self.identity, a);
        }
    }
}

fn is_cancellation(f: &Failure) -> bool {
    matches!(f.info, crate::history::FailureInfo::Canceled { .. })
}

fn error_type_name(e: &WorkflowTaskError) -> &'static str {
    match e {
        WorkflowTaskError::NonDeterminism(_) => "NonDeterminismError",
        WorkflowTaskError::Panic(_) => "PanicError",
        WorkflowTaskError::BadInput(_) => "BadInput",
        WorkflowTaskError::UnknownWorkflowType(_) => "WorkflowNotRegistered",
        WorkflowTaskError::BadHistory(_) => "BadHistory",
        WorkflowTaskError::Unsupported(_) => "Unsupported",
    }
}

/// The activity's view of its worker: heartbeats to the server, calls to services.
struct Host {
    worker: Rc<Worker>,
    token: TaskToken,
    /// A local activity: it has no task on the server, so heartbeats go nowhere.
    local: bool,
    /// The attempt's crash window (fault-space coverage): before any service call, then after
    /// one until its result is acknowledged.
    window: RefCell<PhaseGuard>,
}

impl Host {
    fn new(worker: &Rc<Worker>, token: &TaskToken, local: bool) -> Rc<Host> {
        let window = worker
            .env
            .coverage
            .enter(&worker.cfg.node, windows::ACTIVITY_BEFORE_CALL);
        Rc::new(Host {
            worker: worker.clone(),
            token: token.clone(),
            local,
            window: RefCell::new(window),
        })
    }

    /// The attempt's result is acknowledged (or given up): its window closes.
    fn close_window(&self) {
        *self.window.borrow_mut() = PhaseGuard::none();
    }
}

impl ActivityHost for Host {
    fn heartbeat(&self, details: Option<Payloads>) -> LocalBoxFuture<'static, HeartbeatOutcome> {
        if self.local {
            return Box::pin(std::future::ready(HeartbeatOutcome::Ok));
        }
        let w = self.worker.clone();
        let req = Request::RecordHeartbeat(wire::RecordHeartbeat {
            token: self.token.clone(),
            details,
            identity: w.identity.clone(),
        });
        Box::pin(async move {
            match w.server.call(w.cfg.server, req, w.request_options()).await {
                Ok(Response::Heartbeat {
                    cancel_requested: true,
                }) => HeartbeatOutcome::CancelRequested,
                Ok(Response::Heartbeat { .. }) => HeartbeatOutcome::Ok,
                Ok(Response::Error(ServerError::NotFound(_))) => HeartbeatOutcome::NotFound,
                _ => HeartbeatOutcome::Ok,
            }
        })
    }

    fn call_service(
        &self,
        caller: &ActivityInfo,
        service: &str,
        operation: &str,
        request: serde_json::Value,
    ) -> LocalBoxFuture<'static, Result<serde_json::Value, ServiceCallError>> {
        let w = self.worker.clone();
        if w.env.coverage.is_enabled() {
            *self.window.borrow_mut() = w
                .env
                .coverage
                .enter(&w.cfg.node, windows::ACTIVITY_AFTER_CALL);
        }
        let Some(addr) = w.cfg.services.get(service).copied() else {
            let msg = format!(
                "no service named {service:?} is configured on {}",
                w.cfg.node
            );
            return Box::pin(std::future::ready(Err(ServiceCallError::rejected(
                "UnknownService",
                msg,
            ))));
        };
        let req = ServiceRequest {
            operation: operation.to_string(),
            body: request,
            caller: Some(Caller {
                workflow_id: caller.workflow_id.clone(),
                run_id: caller.run_id.clone(),
                activity_id: caller.activity_id.clone(),
                activity_type: caller.activity_type.clone(),
                attempt: caller.attempt,
                node: w.cfg.node.clone(),
            }),
        };
        let service = service.to_string();
        Box::pin(async move {
            let opts = CallOptions::new(w.cfg.service_timeout, 2);
            match w.services.call(addr, req, opts).await {
                Ok(ServiceResponse::Ok(v)) => Ok(v),
                Ok(ServiceResponse::Rejected {
                    error_type,
                    message,
                }) => Err(ServiceCallError::rejected(error_type, message)),
                Err(e) => Err(ServiceCallError::unavailable(format!("{service}: {e}"))),
            }
        })
    }
}
