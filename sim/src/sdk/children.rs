//! Child workflows and other workflows, as workflow code sees them: [`WorkflowContext::start_child_workflow`],
//! [`WorkflowContext::signal_external_workflow`], [`WorkflowContext::cancel_external_workflow`].
//!
//! Each goes through the same slot pattern as activities: the command is emitted into the
//! current activation, its Initiated event links the slot (`child_by_event`,
//! `external_by_event`), and the events that answer it (ChildWorkflowExecutionStarted, the
//! child-closed events, ExternalWorkflowExecutionSignaled, ...) resolve the slot in
//! `machine.rs`. Cancelling a child is a RequestCancelExternalWorkflowExecution with
//! `child_workflow_only`, and the child's result then waits for the child to close (Temporal's
//! `WAIT_CANCELLATION_COMPLETED`, the SDKs' default).
//!
//! Invariant: as the rest of the SDK: no clock, no thread, ordered maps, no waker registered
//! (every resolution bumps `State::progress`).

// Failures are `Result<_, Failure>`-shaped by contract with the engine, as in `machine.rs`.
#![allow(clippy::result_large_err)]

use std::cell::RefCell;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::context::{Emitted, Link, State, WorkflowContext};
use crate::history::{
    Command, EventId, Extra, Failure, FailureInfo, ParentClosePolicy, PayloadError, Payloads,
    RequestCancelExternalWorkflowExecution, RetryPolicy, SignalExternalWorkflowExecution,
    StartChildWorkflowExecution, TaskQueue,
};

/// How a StartChildWorkflowExecution command is filled in. The child's workflow id defaults to
/// `<parent workflow id>-child-<n>` (n: the child sequence number in this run).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChildWorkflowOptions {
    /// The child's workflow id; `None`: `<parent id>-child-<n>`.
    pub workflow_id: Option<String>,
    /// The child's task queue; `None`: the parent's.
    pub task_queue: Option<String>,
    /// Bound on the child's whole chain of runs; `None`: unlimited.
    pub execution_timeout: Option<Duration>,
    /// Bound on one run of the child; `None`: unlimited.
    pub run_timeout: Option<Duration>,
    /// The child's workflow task timeout; `None`: the server's default (10 s).
    pub task_timeout: Option<Duration>,
    /// What happens to the child when this workflow closes; `Unspecified`: terminate.
    pub parent_close_policy: ParentClosePolicy,
    /// Temporal's `WORKFLOW_ID_REUSE_POLICY_*` number; 0: allow a duplicate of a closed id.
    pub id_reuse_policy: i32,
    /// The child's retry policy; `None`: not retried.
    pub retry_policy: Option<RetryPolicy>,
}

impl ChildWorkflowOptions {
    /// Options with an explicit child workflow id.
    pub fn with_id(id: impl Into<String>) -> Self {
        ChildWorkflowOptions {
            workflow_id: Some(id.into()),
            ..ChildWorkflowOptions::default()
        }
    }

    /// Sets the execution timeout (the whole chain of runs).
    pub fn with_execution_timeout(mut self, d: Duration) -> Self {
        self.execution_timeout = Some(d);
        self
    }

    /// Sets the run timeout.
    pub fn with_run_timeout(mut self, d: Duration) -> Self {
        self.run_timeout = Some(d);
        self
    }

    /// Sets the parent close policy.
    pub fn with_parent_close_policy(mut self, p: ParentClosePolicy) -> Self {
        self.parent_close_policy = p;
        self
    }

    /// Sends the child's workflow tasks to `queue`.
    pub fn with_task_queue(mut self, queue: impl Into<String>) -> Self {
        self.task_queue = Some(queue.into());
        self
    }
}

/// Why a child did not return a result: it could not start, failed, timed out, was cancelled
/// or terminated. `failure` is the `ChildWorkflowFailure` Temporal hands the parent (message
/// `Child Workflow execution failed`, `childWorkflowExecutionFailureInfo`), its cause the
/// child's own failure; a start that failed has no cause.
#[derive(Clone, Debug, PartialEq)]
pub struct ChildWorkflowFailed {
    /// The whole failure, as the parent would record it if it failed with it.
    pub failure: Failure,
    /// How the child ended.
    pub kind: ChildEnd,
}

/// How a child that returned no result ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildEnd {
    /// The start failed: a workflow with that id is running (or the reuse policy forbids it).
    AlreadyStarted,
    /// The child failed.
    Failed,
    /// A run or execution timeout ended it.
    TimedOut,
    /// It accepted cancellation (or was cancelled before its start was sent).
    Cancelled,
    /// It was terminated.
    Terminated,
}

impl ChildWorkflowFailed {
    /// The child's own failure (the wrapper's cause).
    pub fn cause(&self) -> Option<&Failure> {
        self.failure.cause.as_deref()
    }
}

impl std::fmt::Display for ChildWorkflowFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.failure.message)?;
        if let Some(c) = self.cause() {
            write!(f, ": {}", c.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for ChildWorkflowFailed {}

impl From<ChildWorkflowFailed> for super::error::WorkflowError {
    fn from(e: ChildWorkflowFailed) -> Self {
        super::error::WorkflowError::from(e.failure)
    }
}

/// A signal or cancel request that did not reach its target (no such running workflow, or not
/// this workflow's child).
#[derive(Clone, Debug, PartialEq)]
pub struct ExternalFailed {
    /// The failure, with Temporal's cause name in its message.
    pub failure: Failure,
}

impl std::fmt::Display for ExternalFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.failure.message)
    }
}

impl std::error::Error for ExternalFailed {}

impl From<ExternalFailed> for super::error::WorkflowError {
    fn from(e: ExternalFailed) -> Self {
        super::error::WorkflowError::from(e.failure)
    }
}

/// What the parent knows of one child.
pub(crate) struct ChildSlot {
    pub workflow_id: String,
    pub workflow_type: String,
    pub initiated_event_id: Option<EventId>,
    pub cmd_index: Option<usize>,
    /// The child's run id once started, or why it did not start.
    pub start: Option<Result<String, ChildWorkflowFailed>>,
    pub result: Option<Result<Option<Payloads>, ChildWorkflowFailed>>,
    pub cancel_sent: bool,
}

/// A signal or cancel request to another workflow.
pub(crate) struct ExternalSlot {
    pub cmd_index: Option<usize>,
    pub result: Option<Result<(), ExternalFailed>>,
}

/// The `ChildWorkflowFailure` wrapper Temporal's SDKs build for a child that did not complete.
pub(crate) fn child_failure(
    slot: &ChildSlot,
    kind: ChildEnd,
    cause: Option<Failure>,
    initiated_event_id: EventId,
    started_event_id: EventId,
    run_id: &str,
) -> ChildWorkflowFailed {
    let mut info = serde_json::Map::new();
    info.insert("namespace".into(), "default".into());
    info.insert(
        "workflowExecution".into(),
        serde_json::json!({"workflowId": slot.workflow_id, "runId": run_id}),
    );
    info.insert(
        "workflowType".into(),
        serde_json::json!({"name": slot.workflow_type}),
    );
    info.insert(
        "initiatedEventId".into(),
        initiated_event_id.to_string().into(),
    );
    if started_event_id != 0 {
        info.insert("startedEventId".into(), started_event_id.to_string().into());
    }
    let mut extra = serde_json::Map::new();
    extra.insert(
        "childWorkflowExecutionFailureInfo".into(),
        serde_json::Value::Object(info),
    );
    // sdk-core's messages.
    let message = match kind {
        ChildEnd::AlreadyStarted => "Workflow execution already started",
        ChildEnd::Failed => "Child Workflow execution failed",
        ChildEnd::TimedOut => "Child Workflow execution timed out",
        ChildEnd::Cancelled => "Child Workflow execution cancelled",
        ChildEnd::Terminated => "Child Workflow execution terminated",
    };
    ChildWorkflowFailed {
        failure: Failure {
            message: message.to_string(),
            source: String::new(),
            stack_trace: String::new(),
            cause: cause.map(Box::new),
            info: FailureInfo::None,
            extra: Extra::from(extra),
        },
        kind,
    }
}

fn external_failure(what: &str, workflow_id: &str) -> ExternalFailed {
    ExternalFailed {
        failure: Failure::application(
            format!("{what} failed: workflow {workflow_id} not found (EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND)"),
            "ExternalWorkflowExecutionNotFound",
            true,
        ),
    }
}

pub(crate) fn signal_failed(workflow_id: &str) -> ExternalFailed {
    external_failure("signal", workflow_id)
}

pub(crate) fn cancel_failed(workflow_id: &str) -> ExternalFailed {
    external_failure("cancel request", workflow_id)
}

impl WorkflowContext {
    /// Starts a child workflow (StartChildWorkflowExecution). Await
    /// [`ChildWorkflow::started`] for its run id, [`ChildWorkflow::result`] for its result.
    pub fn start_child_workflow<I: Serialize + ?Sized>(
        &self,
        workflow_type: &str,
        input: &I,
        options: ChildWorkflowOptions,
    ) -> ChildWorkflow {
        let st_rc = self.state();
        let mut st = st_rc.borrow_mut();
        st.child_seq += 1;
        let seq = st.child_seq;
        let workflow_id = options
            .workflow_id
            .unwrap_or_else(|| format!("{}-child-{seq}", st.info.workflow_id));
        let mut slot = ChildSlot {
            workflow_id: workflow_id.clone(),
            workflow_type: workflow_type.to_string(),
            initiated_event_id: None,
            cmd_index: None,
            start: None,
            result: None,
            cancel_sent: false,
        };
        match Payloads::json(input) {
            Ok(payloads) => {
                let cmd =
                    Command::StartChildWorkflowExecution(Box::new(StartChildWorkflowExecution {
                        workflow_id,
                        workflow_type: workflow_type.to_string(),
                        task_queue: TaskQueue::normal(
                            options
                                .task_queue
                                .unwrap_or_else(|| st.info.task_queue.clone()),
                        ),
                        input: Some(payloads),
                        workflow_execution_timeout: options.execution_timeout,
                        workflow_run_timeout: options.run_timeout,
                        workflow_task_timeout: options.task_timeout,
                        parent_close_policy: options.parent_close_policy,
                        workflow_id_reuse_policy: options.id_reuse_policy,
                        retry_policy: options.retry_policy,
                        memo: None,
                        search_attributes: None,
                    }));
                slot.cmd_index = Some(st.emit(cmd, Link::Child(seq)));
            }
            Err(e) => {
                let f = ChildWorkflowFailed {
                    failure: Failure::application(
                        format!("child workflow input: {e}"),
                        "PayloadEncodeError",
                        true,
                    ),
                    kind: ChildEnd::Failed,
                };
                slot.start = Some(Err(f.clone()));
                slot.result = Some(Err(f));
            }
        }
        st.children.insert(seq, slot);
        ChildWorkflow {
            st: Rc::clone(&st_rc),
            seq,
        }
    }

    /// Starts a child workflow and waits for its result.
    pub async fn execute_child_workflow<O, I>(
        &self,
        workflow_type: &str,
        input: &I,
        options: ChildWorkflowOptions,
    ) -> Result<O, ChildWorkflowFailed>
    where
        O: DeserializeOwned,
        I: Serialize + ?Sized,
    {
        self.start_child_workflow(workflow_type, input, options)
            .result()
            .await
    }

    /// Signals another workflow (SignalExternalWorkflowExecution); `run_id` `None`: its current
    /// run. Resolves once the server delivered it, or with [`ExternalFailed`].
    pub fn signal_external_workflow<I: Serialize + ?Sized>(
        &self,
        workflow_id: &str,
        run_id: Option<&str>,
        signal_name: &str,
        input: &I,
    ) -> ExternalFuture {
        let input = Payloads::json(input);
        self.external(|_| {
            let input = input.map_err(|e| ExternalFailed {
                failure: Failure::application(
                    format!("signal input: {e}"),
                    "PayloadEncodeError",
                    true,
                ),
            })?;
            Ok(Command::SignalExternalWorkflowExecution(Box::new(
                SignalExternalWorkflowExecution {
                    workflow_id: workflow_id.to_string(),
                    run_id: run_id.unwrap_or_default().to_string(),
                    signal_name: signal_name.to_string(),
                    input: Some(input),
                    child_workflow_only: false,
                },
            )))
        })
    }

    /// Asks another workflow to cancel (RequestCancelExternalWorkflowExecution); `run_id`
    /// `None`: its current run. Resolves once the request is recorded in the target, or with
    /// [`ExternalFailed`].
    pub fn cancel_external_workflow(
        &self,
        workflow_id: &str,
        run_id: Option<&str>,
    ) -> ExternalFuture {
        self.external(|info| {
            Ok(Command::RequestCancelExternalWorkflowExecution(
                RequestCancelExternalWorkflowExecution {
                    workflow_id: workflow_id.to_string(),
                    run_id: run_id.unwrap_or_default().to_string(),
                    child_workflow_only: false,
                    // What sdk-core writes.
                    reason: format!(
                        "Cancel requested by workflow with run id {} with reason: ",
                        info.run_id
                    ),
                },
            ))
        })
    }

    fn external(
        &self,
        make: impl FnOnce(&super::context::WorkflowInfo) -> Result<Command, ExternalFailed>,
    ) -> ExternalFuture {
        let st_rc = self.state();
        let mut st = st_rc.borrow_mut();
        st.external_seq += 1;
        let seq = st.external_seq;
        let mut slot = ExternalSlot {
            cmd_index: None,
            result: None,
        };
        match make(&st.info) {
            Ok(cmd) => slot.cmd_index = Some(st.emit(cmd, Link::External(seq))),
            Err(e) => slot.result = Some(Err(e)),
        }
        st.externals.insert(seq, slot);
        ExternalFuture {
            st: Rc::clone(&st_rc),
            seq,
        }
    }
}

/// A started child workflow (see [`WorkflowContext::start_child_workflow`]).
#[must_use = "a child handle does nothing unless its start or result is awaited"]
pub struct ChildWorkflow {
    st: Rc<RefCell<State>>,
    seq: u32,
}

impl std::fmt::Debug for ChildWorkflow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChildWorkflow")
            .field("seq", &self.seq)
            .finish()
    }
}

impl ChildWorkflow {
    /// Resolves to the child's run id once it started, or to why it could not start.
    pub fn started(&self) -> ChildStartFuture {
        ChildStartFuture {
            st: Rc::clone(&self.st),
            seq: self.seq,
        }
    }

    /// Resolves to the child's decoded result, or to how it ended otherwise.
    pub fn result<O: DeserializeOwned>(self) -> ChildResultFuture<O> {
        ChildResultFuture {
            st: self.st,
            seq: self.seq,
            _out: PhantomData,
        }
    }

    /// Asks the child to cancel (a RequestCancelExternalWorkflowExecution for the child only);
    /// its result then resolves when it closes. A child whose start was not sent yet is not
    /// started at all, and resolves as cancelled at once.
    pub fn cancel(&self) {
        let mut st = self.st.borrow_mut();
        let st = &mut *st;
        let Some(slot) = st.children.get_mut(&self.seq) else {
            return;
        };
        if slot.result.is_some() || slot.cancel_sent {
            return;
        }
        if let Some(idx) = slot.cmd_index.take() {
            st.commands[idx].dropped = true;
            let f = child_failure(
                slot,
                ChildEnd::Cancelled,
                Some(Failure::canceled("Child Workflow execution cancelled")),
                0,
                0,
                "",
            );
            slot.start = Some(Err(f.clone()));
            slot.result = Some(Err(f));
            st.progress += 1;
            return;
        }
        let run_id = match &slot.start {
            Some(Ok(run_id)) => run_id.clone(),
            // Not started (or failed to): nothing to cancel yet.
            _ => return,
        };
        slot.cancel_sent = true;
        st.commands.push(Emitted {
            cmd: Command::RequestCancelExternalWorkflowExecution(
                RequestCancelExternalWorkflowExecution {
                    workflow_id: slot.workflow_id.clone(),
                    run_id,
                    child_workflow_only: true,
                    reason: String::new(),
                },
            ),
            link: Link::None,
            dropped: false,
        });
        st.progress += 1;
    }

    /// Signals the child (SignalExternalWorkflowExecution for the child only).
    pub fn signal<I: Serialize + ?Sized>(
        &self,
        ctx: &WorkflowContext,
        signal_name: &str,
        input: &I,
    ) -> ExternalFuture {
        let (workflow_id, run_id) = {
            let st = self.st.borrow();
            let slot = st.children.get(&self.seq);
            (
                slot.map(|s| s.workflow_id.clone()).unwrap_or_default(),
                match slot.and_then(|s| s.start.as_ref()) {
                    Some(Ok(r)) => r.clone(),
                    _ => String::new(),
                },
            )
        };
        let input = Payloads::json(input);
        ctx.external(|_| {
            let input = input.map_err(|e| ExternalFailed {
                failure: Failure::application(
                    format!("signal input: {e}"),
                    "PayloadEncodeError",
                    true,
                ),
            })?;
            Ok(Command::SignalExternalWorkflowExecution(Box::new(
                SignalExternalWorkflowExecution {
                    workflow_id,
                    run_id,
                    signal_name: signal_name.to_string(),
                    input: Some(input),
                    child_workflow_only: true,
                },
            )))
        })
    }
}

/// The future of [`ChildWorkflow::started`].
#[must_use = "futures do nothing unless awaited"]
pub struct ChildStartFuture {
    st: Rc<RefCell<State>>,
    seq: u32,
}

impl std::fmt::Debug for ChildStartFuture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChildStartFuture")
            .field("seq", &self.seq)
            .finish()
    }
}

impl Future for ChildStartFuture {
    type Output = Result<String, ChildWorkflowFailed>;

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Self::Output> {
        let st = self.st.borrow();
        match st.children.get(&self.seq).and_then(|s| s.start.clone()) {
            Some(r) => Poll::Ready(r),
            None => Poll::Pending,
        }
    }
}

/// The future of [`ChildWorkflow::result`].
#[must_use = "futures do nothing unless awaited"]
pub struct ChildResultFuture<O> {
    st: Rc<RefCell<State>>,
    seq: u32,
    _out: PhantomData<fn() -> O>,
}

impl<O> std::fmt::Debug for ChildResultFuture<O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChildResultFuture")
            .field("seq", &self.seq)
            .finish()
    }
}

impl<O: DeserializeOwned> Future for ChildResultFuture<O> {
    type Output = Result<O, ChildWorkflowFailed>;

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut st = self.st.borrow_mut();
        let Some(result) = st
            .children
            .get_mut(&self.seq)
            .and_then(|slot| slot.result.take())
        else {
            return Poll::Pending;
        };
        st.children.remove(&self.seq);
        st.progress += 1;
        Poll::Ready(match result {
            Ok(payloads) => {
                let decoded = match &payloads {
                    Some(p) => p.decode_first(),
                    None => serde_json::from_value(serde_json::Value::Null)
                        .map_err(|e| PayloadError(e.to_string())),
                };
                decoded.map_err(|e| ChildWorkflowFailed {
                    failure: Failure::application(
                        format!("child workflow result: {e}"),
                        "PayloadDecodeError",
                        true,
                    ),
                    kind: ChildEnd::Failed,
                })
            }
            Err(f) => Err(f),
        })
    }
}

/// The future of a signal or cancel request to another workflow.
#[must_use = "futures do nothing unless awaited"]
pub struct ExternalFuture {
    st: Rc<RefCell<State>>,
    seq: u32,
}

impl std::fmt::Debug for ExternalFuture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExternalFuture")
            .field("seq", &self.seq)
            .finish()
    }
}

impl Future for ExternalFuture {
    type Output = Result<(), ExternalFailed>;

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut st = self.st.borrow_mut();
        let Some(result) = st
            .externals
            .get_mut(&self.seq)
            .and_then(|slot| slot.result.take())
        else {
            return Poll::Pending;
        };
        st.externals.remove(&self.seq);
        st.progress += 1;
        Poll::Ready(result)
    }
}

/// Applies an event that answers a child start, a child's close, or a signal or cancel request
/// to another workflow. Events of other kinds (scheduling bookkeeping, closes that need no
/// command) change nothing.
pub(crate) fn apply_event(
    st: &mut State,
    ev: &crate::history::HistoryEvent,
) -> Result<(), super::machine::WorkflowTaskError> {
    use crate::history::EventAttributes as A;
    let child =
        |st: &mut State, initiated: EventId| -> Result<u32, super::machine::WorkflowTaskError> {
            st.child_by_event.get(&initiated).copied().ok_or_else(|| {
                super::machine::WorkflowTaskError::BadHistory(format!(
                    "event {} answers child start {initiated}, which the workflow did not initiate",
                    ev.event_id
                ))
            })
        };
    // Resolves a child's result with a failure of `kind`, its cause built from the slot.
    let end = |st: &mut State,
               initiated: EventId,
               started: EventId,
               run_id: &str,
               kind: ChildEnd,
               cause: Option<Failure>|
     -> Result<(), super::machine::WorkflowTaskError> {
        let seq = child(st, initiated)?;
        if let Some(slot) = st.children.get_mut(&seq) {
            if slot.result.is_none() {
                let f = child_failure(slot, kind, cause, initiated, started, run_id);
                slot.result = Some(Err(f));
            }
        }
        Ok(())
    };
    let run_of = |e: &Option<crate::history::WorkflowExecution>| {
        e.as_ref().map(|e| e.run_id.clone()).unwrap_or_default()
    };
    match &ev.attributes {
        A::ChildWorkflowExecutionStarted(a) => {
            let seq = child(st, a.initiated_event_id)?;
            if let Some(slot) = st.children.get_mut(&seq) {
                if slot.start.is_none() {
                    slot.start = Some(Ok(run_of(&a.workflow_execution)));
                }
            }
        }
        A::StartChildWorkflowExecutionFailed(a) => {
            let seq = child(st, a.initiated_event_id)?;
            if let Some(slot) = st.children.get_mut(&seq) {
                let f = child_failure(
                    slot,
                    ChildEnd::AlreadyStarted,
                    None,
                    a.initiated_event_id,
                    0,
                    "",
                );
                slot.start.get_or_insert(Err(f.clone()));
                slot.result.get_or_insert(Err(f));
            }
        }
        A::ChildWorkflowExecutionCompleted(a) => {
            let seq = child(st, a.initiated_event_id)?;
            if let Some(slot) = st.children.get_mut(&seq) {
                slot.result.get_or_insert(Ok(a.result.clone()));
            }
        }
        A::ChildWorkflowExecutionFailed(a) => end(
            st,
            a.initiated_event_id,
            a.started_event_id,
            &run_of(&a.workflow_execution),
            ChildEnd::Failed,
            a.failure.clone(),
        )?,
        A::ChildWorkflowExecutionTimedOut(a) => end(
            st,
            a.initiated_event_id,
            a.started_event_id,
            &run_of(&a.workflow_execution),
            ChildEnd::TimedOut,
            Some(Failure::timeout(
                crate::history::TimeoutType::StartToClose,
                "Timed out",
            )),
        )?,
        A::ChildWorkflowExecutionCanceled(a) => end(
            st,
            a.initiated_event_id,
            a.started_event_id,
            &run_of(&a.workflow_execution),
            ChildEnd::Cancelled,
            Some(Failure::canceled("Cancelled")),
        )?,
        A::ChildWorkflowExecutionTerminated(a) => end(
            st,
            a.initiated_event_id,
            a.started_event_id,
            &run_of(&a.workflow_execution),
            ChildEnd::Terminated,
            Some(Failure {
                message: "Terminated".to_string(),
                source: String::new(),
                stack_trace: String::new(),
                cause: None,
                info: FailureInfo::Terminated,
                extra: Extra::new(),
            }),
        )?,
        A::ExternalWorkflowExecutionSignaled(a) => {
            resolve_external(st, a.initiated_event_id, Ok(()))
        }
        A::ExternalWorkflowExecutionCancelRequested(a) => {
            resolve_external(st, a.initiated_event_id, Ok(()))
        }
        A::SignalExternalWorkflowExecutionFailed(a) => {
            let id = a
                .workflow_execution
                .as_ref()
                .map(|e| e.workflow_id.as_str())
                .unwrap_or("");
            resolve_external(st, a.initiated_event_id, Err(signal_failed(id)))
        }
        A::RequestCancelExternalWorkflowExecutionFailed(a) => {
            let id = a
                .workflow_execution
                .as_ref()
                .map(|e| e.workflow_id.as_str())
                .unwrap_or("");
            resolve_external(st, a.initiated_event_id, Err(cancel_failed(id)))
        }
        _ => {}
    }
    Ok(())
}

/// Resolves the signal or cancel request whose Initiated event is `initiated`. A child's cancel
/// request has no slot (its answer is the child's close): nothing to resolve.
fn resolve_external(st: &mut State, initiated: EventId, result: Result<(), ExternalFailed>) {
    if let Some(seq) = st.external_by_event.get(&initiated).copied() {
        if let Some(slot) = st.externals.get_mut(&seq) {
            slot.result.get_or_insert(result);
        }
    }
}
