//! The client a [`TestEnv`](crate::TestEnv) script holds: start workflows, signal, cancel and
//! terminate them, await their results, read their histories, and let virtual time pass, all
//! from inside the simulation, retrying through whatever faults the run injects.
//!
//! Invariant: every request that changes state carries a request id fixed before its first
//! send, so a retried request is applied once; every acknowledged one is recorded where it is
//! received (the durability checker reads those records).

use std::cell::Cell;
use std::fmt;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::clock::SimClock;
use crate::history::{EventAttributes, ExecKey, Failure, History, Payloads};
use crate::record::AckedRequest;
use crate::transport::{CallOptions, NetEnv, RpcClient, LONG_POLL_WAIT};
use crate::wire::{self, IdReusePolicy, Request, Response, ServerError, WorkflowStatus};

type Rpc = RpcClient<Request, Response>;

/// Why a test client call did not give what was asked.
#[derive(Clone, Debug, PartialEq)]
pub enum TestClientError {
    /// The server refused the request (an unknown workflow, a closed run, a bad argument).
    Rejected(String),
    /// An input could not be encoded, or a result decoded as the type asked for.
    Payload(String),
    /// The workflow closed without a result: failed, canceled, terminated or timed out.
    Closed {
        /// How it closed.
        status: WorkflowStatus,
        /// Its failure, when it failed (or timed out with one).
        failure: Option<Box<Failure>>,
    },
    /// No answer after retrying for longer than any fault of a plan lasts (the server is down
    /// for good).
    Unavailable,
    /// An update was rejected (by its validator, or for want of a handler) or its handler
    /// failed; or a query's handler failed.
    Failed(Box<Failure>),
}

impl fmt::Display for TestClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TestClientError::Rejected(m) => write!(f, "the server refused: {m}"),
            TestClientError::Payload(m) => write!(f, "payload: {m}"),
            TestClientError::Closed { status, failure } => {
                write!(f, "the workflow closed {status:?}")?;
                if let Some(fl) = failure {
                    write!(f, ": {}", fl.message)?;
                }
                Ok(())
            }
            TestClientError::Unavailable => write!(f, "the server did not answer"),
            TestClientError::Failed(fl) => write!(f, "failed: {}", fl.message),
        }
    }
}

impl std::error::Error for TestClientError {}

/// What a start may set besides the workflow's type, id and input (Temporal's
/// `StartWorkflowOptions`, the parts durasim implements: timeouts, memo, search attributes).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StartOptions {
    /// Bound on the whole execution, across continue-as-new: when it passes, the run closes
    /// with WorkflowExecutionTimedOut. `None`: unlimited.
    pub execution_timeout: Option<Duration>,
    /// Bound on each run (cut to the execution timeout). `None`: the execution timeout.
    pub run_timeout: Option<Duration>,
    /// The run's memo (build one with [`crate::sdk::memo`]); `None`: none.
    pub memo: Option<crate::history::Memo>,
    /// The run's search attributes (build them with [`crate::sdk::search_attributes`]);
    /// `None`: none.
    pub search_attributes: Option<crate::history::SearchAttributes>,
}

/// How long a request is retried through faults before the call gives up.
const GIVE_UP_AFTER: Duration = Duration::from_secs(3600);

struct Inner {
    rpc: Rpc,
    server: SocketAddr,
    env: NetEnv,
    clock: SimClock,
    task_queue: String,
    /// Numbers this client's signals, cancels and terminations (their request ids).
    next: Cell<u64>,
}

/// A client inside the simulation, for a [`TestEnv`](crate::TestEnv) script. Cheap to clone.
#[derive(Clone)]
pub struct TestClient {
    inner: Rc<Inner>,
}

/// A started workflow (its latest run, following continue-as-new).
#[derive(Clone)]
pub struct WorkflowHandle {
    client: TestClient,
    workflow_id: String,
    first_run_id: String,
}

impl TestClient {
    pub(crate) async fn connect(
        addr: SocketAddr,
        server: SocketAddr,
        env: NetEnv,
        clock: SimClock,
        task_queue: String,
    ) -> std::io::Result<TestClient> {
        let rpc = Rpc::bind(addr, env.clone()).await?;
        Ok(TestClient {
            inner: Rc::new(Inner {
                rpc,
                server,
                env,
                clock,
                task_queue,
                next: Cell::new(0),
            }),
        })
    }

    /// Sends `req` until the server answers (retrying through lost messages and crashes with
    /// one request id), for at most an hour of virtual time.
    async fn call(&self, req: Request) -> Result<Response, TestClientError> {
        self.send_until_answered(req, Duration::ZERO, false).await
    }

    /// As [`TestClient::call`], for an update or a query, which the server may hold for up to
    /// `wait` (a long poll): each attempt waits that long for its answer (plus three seconds),
    /// under a request id of its own. The server keeps no copy of these answers for a retry of
    /// the same request id (it would drop the retry of a lost answer); they need none: an
    /// update attaches to the run's update of the same update id, a query changes nothing.
    async fn call_waiting(
        &self,
        req: Request,
        wait: Duration,
    ) -> Result<Response, TestClientError> {
        self.send_until_answered(req, wait, true).await
    }

    async fn send_until_answered(
        &self,
        req: Request,
        wait: Duration,
        id_per_attempt: bool,
    ) -> Result<Response, TestClientError> {
        let i = &self.inner;
        let mut id = i.rpc.new_request_id();
        let began = i.clock.elapsed();
        loop {
            let opts = if id_per_attempt {
                CallOptions::long_poll(wait)
            } else {
                CallOptions::new(Duration::from_secs(3), 1)
            };
            match i.rpc.call_with_id(i.server, id, req.clone(), opts).await {
                Ok(r) => return Ok(r),
                Err(_) if i.clock.elapsed().saturating_sub(began) < GIVE_UP_AFTER => {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    if id_per_attempt {
                        id = i.rpc.new_request_id();
                    }
                }
                Err(_) => return Err(TestClientError::Unavailable),
            }
        }
    }

    fn next_id(&self, what: &str, workflow_id: &str) -> String {
        let n = self.inner.next.get();
        self.inner.next.set(n + 1);
        format!("test-{what}-{workflow_id}-{n}")
    }

    /// Starts `workflow_type` as `workflow_id` with `input` (JSON, as the durasim SDK decodes
    /// it) on the environment's task queue.
    pub async fn start<I: Serialize + ?Sized>(
        &self,
        workflow_type: &str,
        workflow_id: &str,
        input: &I,
    ) -> Result<WorkflowHandle, TestClientError> {
        let input = Payloads::json(input).map_err(|e| TestClientError::Payload(e.to_string()))?;
        self.start_payloads(workflow_type, workflow_id, Some(input))
            .await
    }

    /// Starts a workflow with input payloads as they are (e.g. `sim_official::encode(&v)` for
    /// official-SDK workflows).
    pub async fn start_payloads(
        &self,
        workflow_type: &str,
        workflow_id: &str,
        input: Option<Payloads>,
    ) -> Result<WorkflowHandle, TestClientError> {
        let options = StartOptions::default();
        self.start_with_payloads(workflow_type, workflow_id, input, &options)
            .await
    }

    /// Starts `workflow_type` as `workflow_id` with `input` (JSON) and `options` (timeouts).
    pub async fn start_with<I: Serialize + ?Sized>(
        &self,
        workflow_type: &str,
        workflow_id: &str,
        input: &I,
        options: &StartOptions,
    ) -> Result<WorkflowHandle, TestClientError> {
        let input = Payloads::json(input).map_err(|e| TestClientError::Payload(e.to_string()))?;
        self.start_with_payloads(workflow_type, workflow_id, Some(input), options)
            .await
    }

    /// Starts a workflow with input payloads as they are and `options`.
    pub async fn start_with_payloads(
        &self,
        workflow_type: &str,
        workflow_id: &str,
        input: Option<Payloads>,
        options: &StartOptions,
    ) -> Result<WorkflowHandle, TestClientError> {
        let req = Request::from(self.start_request(workflow_type, workflow_id, input, options));
        match self.call(req).await? {
            Response::Started { run_id } => {
                self.inner.env.acks.record(
                    "tester",
                    AckedRequest::Started {
                        exec: ExecKey {
                            workflow_id: workflow_id.to_string(),
                            run_id: run_id.clone(),
                        },
                    },
                );
                Ok(WorkflowHandle {
                    client: self.clone(),
                    workflow_id: workflow_id.to_string(),
                    first_run_id: run_id,
                })
            }
            Response::Error(e) => Err(TestClientError::Rejected(e.to_string())),
            other => Err(TestClientError::Rejected(format!(
                "unexpected answer {other:?}"
            ))),
        }
    }

    /// Signal-with-start: sends signal `signal_name` with `signal_input` (JSON) to
    /// `workflow_id`'s open run, or starts `workflow_type` with `input` and `options` and
    /// writes the signal right after its start. Retried with one request id: applied once.
    pub async fn signal_with_start<I: Serialize + ?Sized, S: Serialize + ?Sized>(
        &self,
        workflow_type: &str,
        workflow_id: &str,
        input: &I,
        signal_name: &str,
        signal_input: &S,
        options: &StartOptions,
    ) -> Result<WorkflowHandle, TestClientError> {
        let payload = |v: Result<Payloads, _>| {
            v.map_err(|e: crate::history::PayloadError| TestClientError::Payload(e.to_string()))
        };
        let input = payload(Payloads::json(input))?;
        let signal_input = payload(Payloads::json(signal_input))?;
        let mut start = self.start_request(workflow_type, workflow_id, Some(input), options);
        start.request_id = self.next_id("signal-with-start", workflow_id);
        let request_id = start.request_id.clone();
        let req = Request::SignalWithStart(Box::new(wire::SignalWithStart {
            start,
            signal_name: signal_name.to_string(),
            signal_input: Some(signal_input),
        }));
        match self.call(req).await? {
            Response::Started { run_id } => {
                let exec = ExecKey {
                    workflow_id: workflow_id.to_string(),
                    run_id: run_id.clone(),
                };
                let acks = &self.inner.env.acks;
                acks.record("tester", AckedRequest::Started { exec });
                acks.record(
                    "tester",
                    AckedRequest::Signaled {
                        workflow_id: workflow_id.to_string(),
                        signal_name: signal_name.to_string(),
                        request_id,
                    },
                );
                Ok(WorkflowHandle {
                    client: self.clone(),
                    workflow_id: workflow_id.to_string(),
                    first_run_id: run_id,
                })
            }
            Response::Error(e) => Err(TestClientError::Rejected(e.to_string())),
            other => Err(TestClientError::Rejected(format!(
                "unexpected answer {other:?}"
            ))),
        }
    }

    /// The start request of `workflow_id`: its request id is fixed by the id, so a retried
    /// start creates one run.
    fn start_request(
        &self,
        workflow_type: &str,
        workflow_id: &str,
        input: Option<Payloads>,
        options: &StartOptions,
    ) -> wire::StartWorkflow {
        wire::StartWorkflow {
            workflow_id: workflow_id.to_string(),
            workflow_type: workflow_type.to_string(),
            task_queue: self.inner.task_queue.clone(),
            input,
            request_id: format!("start-{workflow_id}"),
            identity: "tester".into(),
            workflow_run_timeout: options.run_timeout,
            workflow_execution_timeout: options.execution_timeout,
            memo: options.memo.clone(),
            search_attributes: options.search_attributes.clone(),
            id_reuse_policy: IdReusePolicy::AllowDuplicate,
            ..wire::StartWorkflow::default()
        }
    }

    /// A handle on a workflow this script did not start (its current run).
    pub fn handle(&self, workflow_id: &str) -> WorkflowHandle {
        WorkflowHandle {
            client: self.clone(),
            workflow_id: workflow_id.to_string(),
            first_run_id: String::new(),
        }
    }

    /// Lets `d` of virtual time pass (timers fire, activities time out; nothing real waits).
    pub async fn sleep(&self, d: Duration) {
        tokio::time::sleep(d).await;
    }

    /// Virtual time since the run began.
    pub fn elapsed(&self) -> Duration {
        self.inner.clock.elapsed()
    }
}

impl WorkflowHandle {
    /// The workflow id.
    pub fn workflow_id(&self) -> &str {
        &self.workflow_id
    }

    /// The run the start created (empty for a handle from [`TestClient::handle`]).
    pub fn first_run_id(&self) -> &str {
        &self.first_run_id
    }

    async fn expect_ok(&self, req: Request, acked: AckedRequest) -> Result<(), TestClientError> {
        match self.client.call(req).await? {
            Response::Ok => {
                self.client.inner.env.acks.record("tester", acked);
                Ok(())
            }
            Response::Error(e) => Err(TestClientError::Rejected(e.to_string())),
            other => Err(TestClientError::Rejected(format!(
                "unexpected answer {other:?}"
            ))),
        }
    }

    /// Sends signal `name` with `input` (JSON) to the current run.
    pub async fn signal<I: Serialize + ?Sized>(
        &self,
        name: &str,
        input: &I,
    ) -> Result<(), TestClientError> {
        let input = Payloads::json(input).map_err(|e| TestClientError::Payload(e.to_string()))?;
        self.signal_payloads(name, Some(input)).await
    }

    /// Sends signal `name` with input payloads as they are.
    pub async fn signal_payloads(
        &self,
        name: &str,
        input: Option<Payloads>,
    ) -> Result<(), TestClientError> {
        let request_id = self.client.next_id("signal", &self.workflow_id);
        let req = Request::Signal(wire::Signal {
            workflow_id: self.workflow_id.clone(),
            run_id: None,
            signal_name: name.to_string(),
            input,
            identity: "tester".into(),
            request_id: request_id.clone(),
        });
        let acked = AckedRequest::Signaled {
            workflow_id: self.workflow_id.clone(),
            signal_name: name.to_string(),
            request_id,
        };
        self.expect_ok(req, acked).await
    }

    /// Sends update `name` with `input` (JSON) to the current run and waits for its outcome,
    /// decoded as `O`. A rejection or a failed handler is [`TestClientError::Failed`].
    pub async fn update<I: Serialize + ?Sized, O: DeserializeOwned>(
        &self,
        name: &str,
        input: &I,
    ) -> Result<O, TestClientError> {
        let input = Payloads::json(input).map_err(|e| TestClientError::Payload(e.to_string()))?;
        let update_id = self.client.next_id("update", &self.workflow_id);
        let out = self
            .update_payloads(&update_id, name, Some(input))
            .await?
            .unwrap_or_default();
        decode_result(out)
    }

    /// Sends update `name` with id `update_id` (a repeated id attaches to the same update:
    /// it never runs twice) and waits for its outcome.
    pub async fn update_payloads(
        &self,
        update_id: &str,
        name: &str,
        input: Option<Payloads>,
    ) -> Result<Option<Payloads>, TestClientError> {
        loop {
            let req = Request::Update(Box::new(wire::UpdateWorkflow {
                workflow_id: self.workflow_id.clone(),
                run_id: None,
                update_id: update_id.to_string(),
                name: name.to_string(),
                args: input.clone(),
                identity: "tester".into(),
                wait_for: wire::UpdateStage::Completed,
                wait: LONG_POLL_WAIT,
            }));
            match self.client.call_waiting(req, LONG_POLL_WAIT).await? {
                Response::Update(u) => match u.outcome {
                    Some(outcome) => {
                        // A rejection writes nothing: only what history holds is acknowledged.
                        if !u.rejected {
                            self.client.inner.env.acks.record(
                                "tester",
                                AckedRequest::Updated {
                                    workflow_id: self.workflow_id.clone(),
                                    update_id: update_id.to_string(),
                                    completed: true,
                                },
                            );
                        }
                        return outcome.map_err(|f| TestClientError::Failed(Box::new(f)));
                    }
                    None => continue,
                },
                // Its run continued as new first: the same update goes to the new run.
                Response::Error(ServerError::Aborted(_)) => continue,
                Response::Error(e) => return Err(TestClientError::Rejected(e.to_string())),
                other => {
                    return Err(TestClientError::Rejected(format!(
                        "unexpected answer {other:?}"
                    )))
                }
            }
        }
    }

    /// Asks query `name` with `input` (JSON) of the current run (open or closed) and decodes
    /// the answer as `O`. A failed handler is [`TestClientError::Failed`].
    pub async fn query<I: Serialize + ?Sized, O: DeserializeOwned>(
        &self,
        name: &str,
        input: &I,
    ) -> Result<O, TestClientError> {
        let input = Payloads::json(input).map_err(|e| TestClientError::Payload(e.to_string()))?;
        let out = self
            .query_payloads(name, Some(input))
            .await?
            .unwrap_or_default();
        decode_result(out)
    }

    /// Asks query `name` with input payloads as they are; waits up to a minute of virtual time
    /// for a worker's answer.
    pub async fn query_payloads(
        &self,
        name: &str,
        input: Option<Payloads>,
    ) -> Result<Option<Payloads>, TestClientError> {
        let req = Request::Query(Box::new(wire::Query {
            workflow_id: self.workflow_id.clone(),
            run_id: None,
            query_type: name.to_string(),
            args: input,
            identity: "tester".into(),
            wait: Duration::from_secs(60),
        }));
        match self
            .client
            .call_waiting(req, Duration::from_secs(60))
            .await?
        {
            Response::QueryResult(r) => (*r).map_err(|f| TestClientError::Failed(Box::new(f))),
            Response::Error(e) => Err(TestClientError::Rejected(e.to_string())),
            other => Err(TestClientError::Rejected(format!(
                "unexpected answer {other:?}"
            ))),
        }
    }

    /// Requests cancellation of the current run (its code decides what to do).
    pub async fn cancel(&self, reason: &str) -> Result<(), TestClientError> {
        let req = Request::RequestCancel(wire::RequestCancel {
            workflow_id: self.workflow_id.clone(),
            run_id: None,
            reason: reason.to_string(),
            identity: "tester".into(),
        });
        let acked = AckedRequest::CancelRequested {
            workflow_id: self.workflow_id.clone(),
        };
        self.expect_ok(req, acked).await
    }

    /// Terminates the current run at once (no code of it runs).
    pub async fn terminate(&self, reason: &str) -> Result<(), TestClientError> {
        let req = Request::Terminate(wire::Terminate {
            workflow_id: self.workflow_id.clone(),
            run_id: None,
            reason: reason.to_string(),
            identity: "tester".into(),
        });
        match self.client.call(req).await? {
            Response::Ok => Ok(()),
            Response::Error(e) => Err(TestClientError::Rejected(e.to_string())),
            other => Err(TestClientError::Rejected(format!(
                "unexpected answer {other:?}"
            ))),
        }
    }

    /// The current run as the server describes it now: status, history length, pending work,
    /// search attributes and memo.
    pub async fn describe(&self) -> Result<wire::Description, TestClientError> {
        let req = Request::Describe(wire::Describe {
            workflow_id: self.workflow_id.clone(),
            run_id: None,
        });
        match self.client.call(req).await? {
            Response::Described(d) => Ok(*d),
            Response::Error(e) => Err(TestClientError::Rejected(e.to_string())),
            other => Err(TestClientError::Rejected(format!(
                "unexpected answer {other:?}"
            ))),
        }
    }

    /// The current run's history as the server has it now.
    pub async fn history(&self) -> Result<History, TestClientError> {
        let req = Request::GetHistory(wire::GetHistory {
            workflow_id: self.workflow_id.clone(),
            run_id: None,
            wait_for_close: false,
            wait: Duration::ZERO,
        });
        match self.client.call(req).await? {
            Response::History { events, .. } => Ok(History::new(events)),
            Response::Error(e) => Err(TestClientError::Rejected(e.to_string())),
            other => Err(TestClientError::Rejected(format!(
                "unexpected answer {other:?}"
            ))),
        }
    }

    /// Waits for the workflow to close (following continue-as-new) and returns its result
    /// payloads, or how it closed otherwise.
    pub async fn result_payloads(&self) -> Result<Option<Payloads>, TestClientError> {
        loop {
            let req = Request::GetHistory(wire::GetHistory {
                workflow_id: self.workflow_id.clone(),
                run_id: None,
                wait_for_close: true,
                wait: LONG_POLL_WAIT,
            });
            let opts = CallOptions::long_poll(LONG_POLL_WAIT);
            let i = &self.client.inner;
            match i.rpc.call(i.server, req, opts).await {
                Ok(Response::History { status, events, .. })
                    if status != WorkflowStatus::Running
                        && status != WorkflowStatus::ContinuedAsNew =>
                {
                    return close_result(status, &History::new(events));
                }
                Ok(Response::Error(ServerError::NotFound(m))) => {
                    return Err(TestClientError::Rejected(m))
                }
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
            }
        }
    }

    /// Waits for the workflow to close and decodes its result (JSON) as `T`.
    pub async fn result<T: DeserializeOwned>(&self) -> Result<T, TestClientError> {
        let payloads = self.result_payloads().await?;
        let null = Payloads::json(&()).map_err(|e| TestClientError::Payload(e.to_string()))?;
        payloads
            .unwrap_or(null)
            .decode_first()
            .map_err(|e| TestClientError::Payload(e.to_string()))
    }
}

/// Decodes a result's first payload (an empty result decodes as JSON `null`).
fn decode_result<O: DeserializeOwned>(p: Payloads) -> Result<O, TestClientError> {
    let p = if p.0.is_empty() {
        Payloads::json(&()).map_err(|e| TestClientError::Payload(e.to_string()))?
    } else {
        p
    };
    p.decode_first()
        .map_err(|e| TestClientError::Payload(e.to_string()))
}

/// The result of a closed run, from its close event.
fn close_result(status: WorkflowStatus, h: &History) -> Result<Option<Payloads>, TestClientError> {
    match h.events.last().map(|e| &e.attributes) {
        Some(EventAttributes::WorkflowExecutionCompleted(c)) => Ok(c.result.clone()),
        Some(EventAttributes::WorkflowExecutionFailed(f)) => Err(TestClientError::Closed {
            status,
            failure: f.failure.clone().map(Box::new),
        }),
        _ => Err(TestClientError::Closed {
            status,
            failure: None,
        }),
    }
}
