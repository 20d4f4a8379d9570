//! The client node: starts workflows, sends signals, and waits for results, retrying through
//! faults. Starts carry a request id derived from the workflow id, so a retried or repeated
//! start (even after the client restarts) never creates a second run.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

mod test_client;

pub use test_client::{StartOptions, TestClient, TestClientError, WorkflowHandle};

use crate::clock::SimClock;
use crate::faults::CloseRequest;
use crate::history::{ExecKey, Payloads};
use crate::record::AckedRequest;
pub use crate::record::ClientResult;
use crate::trace::TraceKind;
use crate::transport::{CallOptions, NetEnv, RpcClient, LONG_POLL_WAIT};
use crate::wire::{
    self, IdReusePolicy, Request, Response, ServerError, StartWorkflow, WorkflowStatus,
};

/// A workflow the client starts.
#[derive(Clone, Debug, PartialEq)]
pub struct StartSpec {
    /// The workflow id (unique among the scenario's starts).
    pub workflow_id: String,
    /// The workflow type, as registered in the scenario's `Registry`.
    pub workflow_type: String,
    /// The task queue its workflow and activity tasks go to (the scenario's workers poll one).
    pub task_queue: String,
    /// The workflow's input (`Payloads::json(&value)`), if it takes one.
    pub input: Option<Payloads>,
    /// Virtual time after the client starts at which to send the start.
    pub delay: Duration,
}

/// A signal the client sends.
#[derive(Clone, Debug, PartialEq)]
pub struct SignalSpec {
    /// The workflow to signal (its current run).
    pub workflow_id: String,
    /// The signal's name, as the workflow's `ctx.signal_channel(name)` reads it.
    pub signal_name: String,
    /// The signal's payload, if any.
    pub input: Option<Payloads>,
    /// How long after the start of this workflow was acknowledged to the client (for a
    /// workflow the client starts, as a starter holding a handle does; otherwise after the
    /// client starts) to send the signal. With `with_start`: after the client starts.
    pub delay: Duration,
    /// Send it as signal-with-start (SignalWithStartWorkflowExecution), with the workflow's
    /// [`StartSpec`] from the scenario's starts: it may arrive before the workflow's own start,
    /// start the run and have the signal written right after WorkflowExecutionStarted (the
    /// client's start then finds the run already started), or signal the open run. Without a
    /// start for its workflow in the scenario, a plain signal is sent.
    pub with_start: bool,
}

/// A cancellation request the client sends (what `handle.cancel()` does in Temporal's SDKs): the
/// run gets WorkflowExecutionCancelRequested and its code decides what to do.
#[derive(Clone, Debug, PartialEq)]
pub struct CancelSpec {
    /// The workflow to cancel (its current run).
    pub workflow_id: String,
    /// Why, as the request's reason (the event's `cause`).
    pub reason: String,
    /// How long after the start of this workflow was acknowledged to the client (as for
    /// [`SignalSpec::delay`]) to send the request.
    pub delay: Duration,
}

/// A termination the client sends (what `handle.terminate()` does in Temporal's SDKs): the run
/// closes with WorkflowExecutionTerminated at once, none of its code runs. Liveness and
/// expected-outcome accept the workflow ending Terminated.
#[derive(Clone, Debug, PartialEq)]
pub struct TerminateSpec {
    /// The workflow to terminate (its current run).
    pub workflow_id: String,
    /// Why, as the event's `reason`.
    pub reason: String,
    /// How long after the start of this workflow was acknowledged to the client (as for
    /// [`SignalSpec::delay`]) to send the request.
    pub delay: Duration,
}

/// An update the client sends (what `handle.execute_update(..)` does in Temporal's SDKs): it
/// waits for the outcome, retrying with the same update id, so the update runs once.
#[derive(Clone, Debug, PartialEq)]
pub struct UpdateSpec {
    /// The workflow to update (its current run).
    pub workflow_id: String,
    /// The update's id (unique per workflow; a retry reuses it).
    pub update_id: String,
    /// The update handler's name.
    pub name: String,
    /// Its arguments, if any.
    pub input: Option<Payloads>,
    /// When to send it (as [`SignalSpec::delay`]).
    pub delay: Duration,
}

/// A query the client asks (its answer goes into the trace; queries change nothing).
#[derive(Clone, Debug, PartialEq)]
pub struct QuerySpec {
    /// The workflow to query (its current run).
    pub workflow_id: String,
    /// The query handler's name.
    pub query_type: String,
    /// Its arguments, if any.
    pub input: Option<Payloads>,
    /// When to ask (as [`SignalSpec::delay`]).
    pub delay: Duration,
}

#[derive(Clone, Debug)]
pub struct ClientConfig {
    pub addr: SocketAddr,
    pub server: SocketAddr,
    pub starts: Vec<StartSpec>,
    pub signals: Vec<SignalSpec>,
    pub cancels: Vec<CancelSpec>,
    pub terminations: Vec<TerminateSpec>,
    pub updates: Vec<UpdateSpec>,
    pub queries: Vec<QuerySpec>,
}

/// The client's record, outside the node (it survives a client restart).
#[derive(Clone, Default)]
pub struct ClientLog {
    inner: Arc<Mutex<BTreeMap<String, ClientResult>>>,
    /// Notified (all waiters) whenever a start is acknowledged.
    started: Arc<tokio::sync::Notify>,
    closed: Arc<tokio::sync::Notify>,
    closed_count: Arc<std::sync::atomic::AtomicUsize>,
    /// A test script ran to its end (see `TestEnv`).
    script_done: Arc<std::sync::atomic::AtomicBool>,
    /// Updates sent, by (workflow id, update id), with the answer learned.
    updates: Arc<Mutex<UpdateAnswers>>,
}

/// The answer learned for each update sent, by (workflow id, update id).
type UpdateAnswers = BTreeMap<(String, String), Option<String>>;

impl ClientLog {
    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, ClientResult>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until the client's start of `workflow_id` has been acknowledged.
    async fn wait_started(&self, workflow_id: &str) {
        loop {
            let notified = self.started.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.lock().contains_key(workflow_id) {
                return;
            }
            notified.await;
        }
    }

    /// Notes an update sent (once per update id; a resend after a restart changes nothing).
    fn note_update_sent(&self, workflow_id: &str, update_id: &str) {
        self.updates
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry((workflow_id.to_string(), update_id.to_string()))
            .or_insert(None);
    }

    /// Notes what the client learned of an update.
    fn note_update_answer(&self, workflow_id: &str, update_id: &str, answer: String) {
        self.updates
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                (workflow_id.to_string(), update_id.to_string()),
                Some(answer),
            );
        self.closed.notify_one();
    }

    /// Whether `expected` updates were sent and every one got its answer.
    pub fn updates_answered(&self, expected: usize) -> bool {
        let u = self.updates.lock().unwrap_or_else(|e| e.into_inner());
        u.len() >= expected && u.values().all(Option::is_some)
    }

    /// The updates sent and what was learned of each, in id order.
    pub fn updates(&self) -> Vec<crate::record::UpdateRecord> {
        self.updates
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|((w, u), a)| crate::record::UpdateRecord {
                workflow_id: w.clone(),
                update_id: u.clone(),
                answer: a.clone(),
            })
            .collect()
    }

    /// Notified whenever a workflow closes.
    pub fn closed_notify(&self) -> &tokio::sync::Notify {
        &self.closed
    }

    pub fn results(&self) -> BTreeMap<String, ClientResult> {
        self.lock().clone()
    }

    /// Marks the test script as finished and wakes whoever waits for progress.
    pub fn finish_script(&self) {
        self.script_done
            .store(true, std::sync::atomic::Ordering::Relaxed);
        self.closed.notify_one();
    }

    /// Whether the test script ran to its end.
    pub fn script_done(&self) -> bool {
        self.script_done.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Every workflow the client started has closed.
    pub fn all_closed(&self, expected: usize) -> bool {
        self.closed_count.load(std::sync::atomic::Ordering::Relaxed) >= expected
    }
}

type Client = RpcClient<Request, Response>;

/// Runs the client until every workflow it started has closed (or its node is killed).
pub async fn run_client(cfg: ClientConfig, env: NetEnv, clock: SimClock, log: ClientLog) {
    let client = match Client::bind(cfg.addr, env.clone()).await {
        Ok(c) => std::rc::Rc::new(c),
        Err(e) => {
            env.trace.note(format!("client failed to bind: {e}"));
            return;
        }
    };
    env.trace.record(TraceKind::NodeStart {
        node: "client".into(),
    });
    let mut handles = Vec::new();
    let started_here = |id: &str| cfg.starts.iter().any(|s| s.workflow_id == id);
    for s in cfg.signals.clone() {
        let client = client.clone();
        let server = cfg.server;
        let env = env.clone();
        let start = cfg
            .starts
            .iter()
            .find(|st| s.with_start && st.workflow_id == s.workflow_id)
            .cloned();
        if let Some(start) = start {
            handles.push(madsim::task::spawn_local(async move {
                send_signal_with_start(&client, server, s, start, &env).await
            }));
            continue;
        }
        let after = started_here(&s.workflow_id).then(|| log.clone());
        handles.push(madsim::task::spawn_local(async move {
            if let Some(log) = after {
                log.wait_started(&s.workflow_id).await;
            }
            send_signal(&client, server, s, &env).await
        }));
    }
    for c in cfg.cancels.clone() {
        let client = client.clone();
        let server = cfg.server;
        let after = started_here(&c.workflow_id).then(|| log.clone());
        let env = env.clone();
        handles.push(madsim::task::spawn_local(async move {
            if let Some(log) = after {
                log.wait_started(&c.workflow_id).await;
            }
            send_cancel(&client, server, c, &env).await
        }));
    }
    for t in cfg.terminations.clone() {
        let client = client.clone();
        let server = cfg.server;
        let after = started_here(&t.workflow_id).then(|| log.clone());
        let env = env.clone();
        handles.push(madsim::task::spawn_local(async move {
            if let Some(log) = after {
                log.wait_started(&t.workflow_id).await;
            }
            tokio::time::sleep(t.delay).await;
            let req = close_request(&t.workflow_id, &t.reason, CloseRequest::Terminate, "client");
            send_close(&client, server, req, &env, "client").await
        }));
    }
    for u in cfg.updates.clone() {
        let client = client.clone();
        let server = cfg.server;
        let after = started_here(&u.workflow_id).then(|| log.clone());
        let log_u = log.clone();
        let env = env.clone();
        handles.push(madsim::task::spawn_local(async move {
            if let Some(log) = after {
                log.wait_started(&u.workflow_id).await;
            }
            send_update(&client, server, u, &env, &log_u).await
        }));
    }
    for q in cfg.queries.clone() {
        let client = client.clone();
        let server = cfg.server;
        let after = started_here(&q.workflow_id).then(|| log.clone());
        let env = env.clone();
        handles.push(madsim::task::spawn_local(async move {
            if let Some(log) = after {
                log.wait_started(&q.workflow_id).await;
            }
            send_query(&client, server, q, &env).await
        }));
    }
    for s in cfg.starts.clone() {
        let client = client.clone();
        let log = log.clone();
        let env = env.clone();
        let server = cfg.server;
        // A workflow also started by signal-with-start (another request id) may already have
        // run and closed when a retry of this start arrives: it must not start a second run.
        let policy = if cfg
            .signals
            .iter()
            .any(|sig| sig.with_start && sig.workflow_id == s.workflow_id)
        {
            IdReusePolicy::RejectDuplicate
        } else {
            IdReusePolicy::AllowDuplicate
        };
        handles.push(madsim::task::spawn_local(async move {
            start_and_wait(&client, server, s, policy, &log, &env, clock).await;
        }));
    }
    for h in handles {
        let _ = h.await;
    }
}

/// A signal's request id, derived from the scenario (`kind`: `signal` or `signal-with-start`),
/// so a retry and a restarted client send the same one.
fn signal_request_id(kind: &str, s: &SignalSpec) -> String {
    format!(
        "{kind}-{}-{}-{}",
        s.workflow_id,
        s.signal_name,
        s.delay.as_millis()
    )
}

/// Records that the server acknowledged signal `s` sent with `request_id`.
fn ack_signal(env: &NetEnv, s: &SignalSpec, request_id: String) {
    env.acks.record(
        "client",
        AckedRequest::Signaled {
            workflow_id: s.workflow_id.clone(),
            signal_name: s.signal_name.clone(),
            request_id,
        },
    );
}

async fn send_signal(client: &Client, server: SocketAddr, s: SignalSpec, env: &NetEnv) {
    tokio::time::sleep(s.delay).await;
    let request_id = signal_request_id("signal", &s);
    let req = Request::Signal(wire::Signal {
        workflow_id: s.workflow_id.clone(),
        run_id: None,
        signal_name: s.signal_name.clone(),
        input: s.input.clone(),
        identity: "client".into(),
        request_id: request_id.clone(),
    });
    if send_until_answered(client, server, req).await {
        ack_signal(env, &s, request_id);
    }
}

/// Sends `s` as signal-with-start with `start`'s workflow, `s.delay` after the client started,
/// retrying with one request id (applied once) until the server answers. Answered with a run:
/// the start (if it made one) and the signal are acknowledged, as Temporal's client reports both.
async fn send_signal_with_start(
    client: &Client,
    server: SocketAddr,
    s: SignalSpec,
    start: StartSpec,
    env: &NetEnv,
) {
    tokio::time::sleep(s.delay).await;
    let request_id = signal_request_id("signal-with-start", &s);
    let req = Request::SignalWithStart(Box::new(wire::SignalWithStart {
        start: StartWorkflow {
            workflow_id: start.workflow_id.clone(),
            workflow_type: start.workflow_type.clone(),
            task_queue: start.task_queue.clone(),
            input: start.input.clone(),
            request_id: request_id.clone(),
            identity: "client".into(),
            // A retry that arrives after the run it started (or the client's own start) closed
            // must not start another: Temporal would, under AllowDuplicate.
            id_reuse_policy: IdReusePolicy::RejectDuplicate,
            ..StartWorkflow::default()
        },
        signal_name: s.signal_name.clone(),
        signal_input: s.input.clone(),
    }));
    let id = client.new_request_id();
    for _ in 0..1000 {
        let opts = CallOptions::new(Duration::from_secs(3), 1);
        match client.call_with_id(server, id, req.clone(), opts).await {
            Ok(Response::Started { run_id }) => {
                let exec = ExecKey {
                    workflow_id: s.workflow_id.clone(),
                    run_id,
                };
                env.acks.record("client", AckedRequest::Started { exec });
                ack_signal(env, &s, request_id);
                return;
            }
            Ok(Response::Error(e)) => {
                env.trace.note(format!(
                    "client: signal-with-start {} rejected: {e}",
                    s.workflow_id
                ));
                return;
            }
            _ => tokio::time::sleep(Duration::from_secs(1)).await,
        }
    }
}

/// Sends `req` (one request id, so the server deduplicates retries) until the server answers;
/// `true` when it answered Ok, `false` for an error answer or after 1,000 tries.
async fn send_until_answered(client: &Client, server: SocketAddr, req: Request) -> bool {
    let id = client.new_request_id();
    for _ in 0..1000 {
        match client
            .call_with_id(
                server,
                id,
                req.clone(),
                CallOptions::new(Duration::from_secs(3), 1),
            )
            .await
        {
            Ok(Response::Ok) => return true,
            Ok(Response::Error(_)) => return false,
            _ => tokio::time::sleep(Duration::from_secs(1)).await,
        }
    }
    false
}

/// Sends an update and waits for its outcome (re-asking with the same update id until the
/// server tells it, through lost messages and restarts); an outcome the server wrote to history
/// (not a rejection) is recorded as acknowledged.
async fn send_update(
    client: &Client,
    server: SocketAddr,
    u: UpdateSpec,
    env: &NetEnv,
    log: &ClientLog,
) {
    tokio::time::sleep(u.delay).await;
    log.note_update_sent(&u.workflow_id, &u.update_id);
    for _ in 0..1000 {
        let req = Request::Update(Box::new(wire::UpdateWorkflow {
            workflow_id: u.workflow_id.clone(),
            run_id: None,
            update_id: u.update_id.clone(),
            name: u.name.clone(),
            args: u.input.clone(),
            identity: "client".into(),
            wait_for: wire::UpdateStage::Completed,
            wait: LONG_POLL_WAIT,
        }));
        let opts = CallOptions::long_poll(LONG_POLL_WAIT);
        match client.call(server, req, opts).await {
            // No outcome yet (the server let the poll go): ask again.
            Ok(Response::Update(r)) => {
                if let Some(outcome) = r.outcome {
                    let answer = match (&outcome, r.rejected) {
                        (Ok(_), _) => "completed".to_string(),
                        (Err(f), true) => format!("rejected: {}", f.message),
                        (Err(f), false) => format!("failed: {}", f.message),
                    };
                    env.trace.note(format!(
                        "client: update {} of {} {answer}",
                        u.update_id, u.workflow_id
                    ));
                    log.note_update_answer(&u.workflow_id, &u.update_id, answer);
                    if !r.rejected {
                        env.acks.record(
                            "client",
                            AckedRequest::Updated {
                                workflow_id: u.workflow_id.clone(),
                                update_id: u.update_id.clone(),
                                completed: true,
                            },
                        );
                    }
                    return;
                }
            }
            // Its run continued as new first: the same update goes to the new run.
            Ok(Response::Error(ServerError::Aborted(_))) => {}
            Ok(Response::Error(e)) => {
                env.trace.note(format!(
                    "client: update {} of {} refused: {e}",
                    u.update_id, u.workflow_id
                ));
                log.note_update_answer(&u.workflow_id, &u.update_id, format!("refused: {e}"));
                return;
            }
            _ => tokio::time::sleep(Duration::from_secs(1)).await,
        }
    }
}

/// Asks a query until a worker answers it (or the server says why not); the answer goes into
/// the trace.
async fn send_query(client: &Client, server: SocketAddr, q: QuerySpec, env: &NetEnv) {
    tokio::time::sleep(q.delay).await;
    for _ in 0..100 {
        let req = Request::Query(Box::new(wire::Query {
            workflow_id: q.workflow_id.clone(),
            run_id: None,
            query_type: q.query_type.clone(),
            args: q.input.clone(),
            identity: "client".into(),
            wait: Duration::from_secs(30),
        }));
        let opts = CallOptions::new(Duration::from_secs(35), 1);
        match client.call(server, req, opts).await {
            Ok(Response::QueryResult(r)) => {
                let answer = match *r {
                    Ok(p) => format!(
                        "{}",
                        p.and_then(|p| p.decode_first::<serde_json::Value>().ok())
                            .unwrap_or(serde_json::Value::Null)
                    ),
                    Err(f) => format!("failed: {}", f.message),
                };
                env.trace.note(format!(
                    "client: query {} of {}: {answer}",
                    q.query_type, q.workflow_id
                ));
                return;
            }
            Ok(Response::Error(ServerError::DeadlineExceeded(_))) | Err(_) => {
                tokio::time::sleep(Duration::from_secs(1)).await
            }
            Ok(other) => {
                env.trace.note(format!(
                    "client: query {} of {}: {other:?}",
                    q.query_type, q.workflow_id
                ));
                return;
            }
        }
    }
}

/// Sends a cancellation request, retrying through lost messages until the server answers (a
/// repeated request changes nothing: the server records the first one only).
async fn send_cancel(client: &Client, server: SocketAddr, c: CancelSpec, env: &NetEnv) {
    tokio::time::sleep(c.delay).await;
    let req = Request::RequestCancel(wire::RequestCancel {
        workflow_id: c.workflow_id.clone(),
        run_id: None,
        reason: c.reason.clone(),
        identity: "client".into(),
    });
    if send_until_answered(client, server, req).await {
        env.acks.record(
            "client",
            AckedRequest::CancelRequested {
                workflow_id: c.workflow_id.clone(),
            },
        );
    }
}

/// The request that terminates or cancels `workflow_id`'s current run.
fn close_request(
    workflow_id: &str,
    reason: &str,
    request: CloseRequest,
    identity: &str,
) -> Request {
    let (workflow_id, reason, identity) = (
        workflow_id.to_string(),
        reason.to_string(),
        identity.to_string(),
    );
    match request {
        CloseRequest::Terminate => Request::Terminate(wire::Terminate {
            workflow_id,
            run_id: None,
            reason,
            identity,
        }),
        CloseRequest::Cancel => Request::RequestCancel(wire::RequestCancel {
            workflow_id,
            run_id: None,
            reason,
            identity,
        }),
    }
}

/// Sends a termination or cancellation until the server answers; an acknowledged cancel
/// request is recorded (the durability checker holds the server to it).
async fn send_close(client: &Client, server: SocketAddr, req: Request, env: &NetEnv, node: &str) {
    let cancel_of = match &req {
        Request::RequestCancel(c) => Some(c.workflow_id.clone()),
        _ => None,
    };
    if send_until_answered(client, server, req).await {
        if let Some(workflow_id) = cancel_of {
            env.acks
                .record(node, AckedRequest::CancelRequested { workflow_id });
        }
    }
}

/// What a fault plan's `Terminate`/`Cancel` does: from the client node (a client of its own,
/// bound to `addr`), asks the server to terminate or cancel `workflow_id`, retrying through
/// faults until the server answers (or the node dies).
pub(crate) async fn operator_request(
    addr: SocketAddr,
    server: SocketAddr,
    env: NetEnv,
    workflow_id: String,
    reason: String,
    request: CloseRequest,
) {
    let client = match Client::bind(addr, env.clone()).await {
        Ok(c) => c,
        Err(e) => {
            env.trace
                .note(format!("fault plan: cannot bind a client at {addr}: {e}"));
            return;
        }
    };
    let req = close_request(&workflow_id, &reason, request, "fault-plan");
    send_close(&client, server, req, &env, "client").await;
}

async fn start_and_wait(
    client: &Client,
    server: SocketAddr,
    s: StartSpec,
    policy: IdReusePolicy,
    log: &ClientLog,
    env: &NetEnv,
    clock: SimClock,
) {
    tokio::time::sleep(s.delay).await;
    // Boxed: this task then waits for the close much longer, and its future should not keep
    // room for the start's state meanwhile.
    let Some(run_id) = Box::pin(start(client, server, &s, policy, env)).await else {
        return;
    };
    {
        let mut r = log.lock();
        r.entry(s.workflow_id.clone()).or_insert(ClientResult {
            first_run_id: run_id.clone(),
            started_at: clock.now(),
            closed: None,
        });
    }
    log.started.notify_waiters();
    // Wait for the close of the current run, following continue-as-new.
    loop {
        let req = Request::GetHistory(wire::GetHistory {
            workflow_id: s.workflow_id.clone(),
            run_id: None,
            wait_for_close: true,
            wait: LONG_POLL_WAIT,
        });
        let opts = CallOptions::long_poll(LONG_POLL_WAIT);
        match client.call(server, req, opts).await {
            Ok(Response::History { status, .. })
                if status != WorkflowStatus::Running
                    && status != WorkflowStatus::ContinuedAsNew =>
            {
                let now = clock.now();
                if let Some(r) = log.lock().get_mut(&s.workflow_id) {
                    if r.closed.is_none() {
                        r.closed = Some((status, now));
                        log.closed_count
                            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                }
                log.closed.notify_one();
                env.trace
                    .note(format!("client: {} closed {status:?}", s.workflow_id));
                return;
            }
            Ok(_) => {}
            Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    }
}

/// Starts the workflow, retrying through faults; `None` when the server rejects the start.
async fn start(
    client: &Client,
    server: SocketAddr,
    s: &StartSpec,
    id_reuse_policy: IdReusePolicy,
    env: &NetEnv,
) -> Option<String> {
    let req = Request::from(StartWorkflow {
        workflow_id: s.workflow_id.clone(),
        workflow_type: s.workflow_type.clone(),
        task_queue: s.task_queue.clone(),
        input: s.input.clone(),
        request_id: format!("start-{}", s.workflow_id),
        identity: "client".into(),
        id_reuse_policy,
        ..StartWorkflow::default()
    });
    let opts = CallOptions::new(Duration::from_secs(3), 1);
    loop {
        match client.call(server, req.clone(), opts).await {
            Ok(Response::Started { run_id })
            | Ok(Response::Error(ServerError::WorkflowAlreadyStarted { run_id })) => {
                env.acks.record(
                    "client",
                    AckedRequest::Started {
                        exec: ExecKey {
                            workflow_id: s.workflow_id.clone(),
                            run_id: run_id.clone(),
                        },
                    },
                );
                return Some(run_id);
            }
            Ok(Response::Error(e)) => {
                env.trace
                    .note(format!("client: start {} rejected: {e}", s.workflow_id));
                return None;
            }
            _ => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    }
}
