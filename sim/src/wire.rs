//! The wire API: the server's request and response messages (the frontend API), modelled on
//! Temporal's WorkflowService: start, poll, respond, heartbeat, signal, cancel, terminate,
//! describe, history. Shared by the engine (which answers them), workers and clients (which send
//! them); it lives below all three and depends only on `history` (and `transport`'s
//! `MessageKind`, the name a message has in the trace).

use std::time::Duration;

pub use crate::history::ExecKey;
use crate::history::{
    Command, EventId, Failure, HistoryEvent, Memo, Payload, Payloads, ProtocolMessage, RetryPolicy,
    SearchAttributes, Timestamp, WorkflowTaskFailedCause,
};
use crate::transport::MessageKind;

/// A task token: which task, which attempt. Stale, timed-out and duplicate completions are
/// recognised by it and rejected.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TaskToken {
    pub exec: ExecKey,
    pub scheduled_event_id: EventId,
    pub attempt: i32,
    /// For workflow tasks: the WorkflowTaskStarted event id (0 for activities).
    pub started_event_id: EventId,
}

/// Workflow id reuse policy for a closed workflow id. The engine implements all three (its tests
/// cover them); the client starts with the default until scenarios can choose (the engine issue).
#[cfg_attr(not(test), allow(dead_code))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IdReusePolicy {
    #[default]
    AllowDuplicate,
    AllowDuplicateFailedOnly,
    RejectDuplicate,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct StartWorkflow {
    pub workflow_id: String,
    pub workflow_type: String,
    pub task_queue: String,
    pub input: Option<Payloads>,
    pub request_id: String,
    pub identity: String,
    pub workflow_task_timeout: Option<Duration>,
    pub workflow_run_timeout: Option<Duration>,
    /// Bound on the whole execution, across continue-as-new (Temporal's
    /// `workflowExecutionTimeout`); `None`: unlimited.
    pub workflow_execution_timeout: Option<Duration>,
    /// The run's memo (WorkflowExecutionStarted's `memo`); `None`: none.
    pub memo: Option<Memo>,
    /// The run's search attributes (WorkflowExecutionStarted's `searchAttributes`); `None`: none.
    pub search_attributes: Option<SearchAttributes>,
    pub id_reuse_policy: IdReusePolicy,
    pub retry_policy: Option<RetryPolicy>,
}

/// A workflow task handed to a worker.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkflowTask {
    pub token: TaskToken,
    pub workflow_type: String,
    /// Events from `first_event_id` on; on a sticky queue only what the cached worker lacks.
    pub first_event_id: EventId,
    pub events: Vec<HistoryEvent>,
    /// The queue it was polled from (sticky or normal).
    pub sticky: bool,
    /// Update requests for the workflow to validate and run in this task.
    pub messages: Vec<ProtocolMessage>,
    /// A query task: answer `query` from the state after the last completed task
    /// ([`Request::AnswerQuery`]); the task has no commands and writes no event.
    pub query: Option<WorkflowQuery>,
}

/// A query for a worker to answer (Temporal's legacy query task).
#[derive(Clone, Debug, PartialEq)]
pub struct WorkflowQuery {
    /// The server's id for it, echoed in the answer.
    pub query_id: u64,
    /// The query handler's name.
    pub query_type: String,
    /// Its arguments.
    pub args: Option<Payloads>,
}

/// An activity task handed to a worker.
#[derive(Clone, Debug, PartialEq)]
pub struct ActivityTask {
    pub token: TaskToken,
    pub workflow_type: String,
    pub activity_id: String,
    pub activity_type: String,
    pub task_queue: String,
    pub input: Option<Payloads>,
    pub attempt: i32,
    pub heartbeat_details: Option<Payloads>,
    pub scheduled_time: Timestamp,
    pub started_time: Timestamp,
    pub start_to_close_timeout: Option<Duration>,
    pub heartbeat_timeout: Option<Duration>,
}

/// A run's status, as Temporal's `WorkflowExecutionStatus` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkflowStatus {
    /// Open: not closed yet.
    Running,
    /// Closed by WorkflowExecutionCompleted (the workflow returned a result).
    Completed,
    /// Closed by WorkflowExecutionFailed (the workflow returned an error).
    Failed,
    /// Closed by WorkflowExecutionCanceled (the workflow accepted a cancel request).
    Canceled,
    /// Closed by WorkflowExecutionTerminated (forced from outside).
    Terminated,
    /// Closed by WorkflowExecutionContinuedAsNew: a new run of the same workflow id goes on.
    ContinuedAsNew,
    /// Closed by WorkflowExecutionTimedOut (its run or execution timeout passed).
    TimedOut,
}

/// A long poll of a task queue (workflow or activity tasks, by the `Request` variant): answered
/// with a task, or empty after `wait` (capped by the server).
#[derive(Clone, Debug, PartialEq)]
pub struct PollTaskQueue {
    pub task_queue: String,
    pub identity: String,
    pub wait: Duration,
}

/// A worker's answer to a workflow task: the commands its code produced.
#[derive(Clone, Debug, PartialEq)]
pub struct CompleteWorkflowTask {
    pub token: TaskToken,
    pub commands: Vec<Command>,
    pub identity: String,
    /// The worker's sticky queue: the run's next workflow tasks go there.
    pub sticky_queue: Option<String>,
    /// What the SDK records about itself in the task's WorkflowTaskCompleted (`sdkMetadata`:
    /// core's internal flags, SDK name and version); `None`: nothing.
    pub sdk_metadata: Option<crate::history::JsonMap>,
    /// The workflow's answers to the task's update requests (acceptances, rejections,
    /// responses); those a [`Command::ProtocolMessage`] does not place are processed after the
    /// commands.
    pub messages: Vec<ProtocolMessage>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FailWorkflowTask {
    pub token: TaskToken,
    pub cause: WorkflowTaskFailedCause,
    /// Boxed, as in every request: a large variant would size every request at its size.
    pub failure: Box<Failure>,
    pub identity: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CompleteActivityTask {
    pub token: TaskToken,
    pub result: Option<Payloads>,
    pub identity: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FailActivityTask {
    pub token: TaskToken,
    pub failure: Box<Failure>,
    pub identity: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CancelActivityTask {
    pub token: TaskToken,
    pub details: Option<Payloads>,
    pub identity: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RecordHeartbeat {
    pub token: TaskToken,
    pub details: Option<Payloads>,
    pub identity: String,
}

/// Signals a run (`run_id` `None` or empty: the workflow id's current run). A retried signal
/// with the same non-empty `request_id` is applied once.
#[derive(Clone, Debug, PartialEq)]
pub struct Signal {
    pub workflow_id: String,
    pub run_id: Option<String>,
    pub signal_name: String,
    pub input: Option<Payloads>,
    pub identity: String,
    pub request_id: String,
}

/// SignalWithStartWorkflowExecution: signals the workflow id's open run, or starts a run
/// (`start`, with its id reuse policy) and writes the signal right after its
/// WorkflowExecutionStarted. Answered with the run signalled. `start.request_id` identifies the
/// request: a retried one is applied once.
#[derive(Clone, Debug, PartialEq)]
pub struct SignalWithStart {
    pub start: StartWorkflow,
    pub signal_name: String,
    pub signal_input: Option<Payloads>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RequestCancel {
    pub workflow_id: String,
    pub run_id: Option<String>,
    /// Why (recorded as the event's `cause`).
    pub reason: String,
    pub identity: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Terminate {
    pub workflow_id: String,
    pub run_id: Option<String>,
    pub reason: String,
    pub identity: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Describe {
    pub workflow_id: String,
    pub run_id: Option<String>,
}

/// How far an update has got, as Temporal's `UpdateWorkflowExecutionLifecycleStage` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum UpdateStage {
    /// The server took it in; no worker has accepted it yet.
    Admitted,
    /// The workflow's validator accepted it (WorkflowExecutionUpdateAccepted is written).
    Accepted,
    /// Its handler returned, or the validator rejected it: the outcome is known.
    Completed,
}

/// UpdateWorkflowExecution: asks a run to run its update handler `name` (the validator first).
/// Answered once the update reaches `wait_for`, or after `wait` with the stage it reached; a
/// request with the same `update_id` attaches to the same update (a retry never runs it twice).
#[derive(Clone, Debug, PartialEq)]
pub struct UpdateWorkflow {
    pub workflow_id: String,
    pub run_id: Option<String>,
    pub update_id: String,
    pub name: String,
    pub args: Option<Payloads>,
    pub identity: String,
    pub wait_for: UpdateStage,
    pub wait: Duration,
}

/// What an update request got.
#[derive(Clone, Debug, PartialEq)]
pub struct UpdateResult {
    /// The run the update went to.
    pub exec: ExecKey,
    pub update_id: String,
    /// The stage reached.
    pub stage: UpdateStage,
    /// At `Completed`: the handler's result, or its failure (or the validator's rejection).
    pub outcome: Option<Result<Option<Payloads>, Failure>>,
    /// The outcome is a rejection: nothing of the update is in history.
    pub rejected: bool,
}

/// QueryWorkflow: asks a worker to answer query `query_type` from the run's state (open or
/// closed). Writes nothing.
#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    pub workflow_id: String,
    pub run_id: Option<String>,
    pub query_type: String,
    pub args: Option<Payloads>,
    pub identity: String,
    /// How long the server waits for a worker's answer before it answers with an error.
    pub wait: Duration,
}

/// RespondQueryTaskCompleted: a worker's answer to a query task.
#[derive(Clone, Debug, PartialEq)]
pub struct AnswerQuery {
    /// The query task's token (which run).
    pub token: TaskToken,
    /// The query's id.
    pub query_id: u64,
    /// The answer, or why the workflow could not answer.
    pub result: Result<Option<Payloads>, Failure>,
    pub identity: String,
}

/// The run's history; with `wait_for_close`, answered when the run closes (long poll).
#[derive(Clone, Debug, PartialEq)]
pub struct GetHistory {
    pub workflow_id: String,
    pub run_id: Option<String>,
    pub wait_for_close: bool,
    pub wait: Duration,
}

/// Requests to the server: one variant per frontend call, each carrying its request struct.
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    /// Boxed, as are failures: the large variants would size every request (and every call
    /// future waiting with one) at twice what the others need.
    StartWorkflow(Box<StartWorkflow>),
    PollWorkflowTask(PollTaskQueue),
    CompleteWorkflowTask(CompleteWorkflowTask),
    FailWorkflowTask(FailWorkflowTask),
    PollActivityTask(PollTaskQueue),
    CompleteActivityTask(CompleteActivityTask),
    FailActivityTask(FailActivityTask),
    CancelActivityTask(CancelActivityTask),
    RecordHeartbeat(RecordHeartbeat),
    Signal(Signal),
    /// Boxed: it carries a whole start.
    SignalWithStart(Box<SignalWithStart>),
    RequestCancel(RequestCancel),
    Terminate(Terminate),
    Describe(Describe),
    GetHistory(GetHistory),
    /// Boxed, as the start: it carries a payload and ids.
    Update(Box<UpdateWorkflow>),
    Query(Box<Query>),
    AnswerQuery(Box<AnswerQuery>),
}

impl From<StartWorkflow> for Request {
    fn from(s: StartWorkflow) -> Self {
        Request::StartWorkflow(Box::new(s))
    }
}

/// Every message kind on the network (requests, responses, service calls and answers): what
/// a fault's `{"message": KIND}` target may name, and the coverage report's message steps.
pub const MESSAGE_KINDS: &[&str] = &[
    "StartWorkflow",
    "PollWorkflowTask",
    "CompleteWorkflowTask",
    "FailWorkflowTask",
    "PollActivityTask",
    "CompleteActivityTask",
    "FailActivityTask",
    "CancelActivityTask",
    "RecordHeartbeat",
    "Signal",
    "SignalWithStart",
    "RequestCancel",
    "Terminate",
    "Describe",
    "GetHistory",
    "Update",
    "Query",
    "AnswerQuery",
    "Started",
    "WorkflowTask",
    "NoWorkflowTask",
    "ActivityTask",
    "NoActivityTask",
    "WorkflowTaskCompleted",
    "Ok",
    "HeartbeatResponse",
    "Described",
    "History",
    "UpdateResult",
    "QueryResult",
    "Error",
    "ServiceCall",
    "ServiceOk",
    "ServiceRejected",
];

impl MessageKind for Request {
    fn kind(&self) -> &'static str {
        match self {
            Request::StartWorkflow(_) => "StartWorkflow",
            Request::PollWorkflowTask(_) => "PollWorkflowTask",
            Request::CompleteWorkflowTask(_) => "CompleteWorkflowTask",
            Request::FailWorkflowTask(_) => "FailWorkflowTask",
            Request::PollActivityTask(_) => "PollActivityTask",
            Request::CompleteActivityTask(_) => "CompleteActivityTask",
            Request::FailActivityTask(_) => "FailActivityTask",
            Request::CancelActivityTask(_) => "CancelActivityTask",
            Request::RecordHeartbeat(_) => "RecordHeartbeat",
            Request::Signal(_) => "Signal",
            Request::SignalWithStart(_) => "SignalWithStart",
            Request::RequestCancel(_) => "RequestCancel",
            Request::Terminate(_) => "Terminate",
            Request::Describe(_) => "Describe",
            Request::GetHistory(_) => "GetHistory",
            Request::Update(_) => "Update",
            Request::Query(_) => "Query",
            Request::AnswerQuery(_) => "AnswerQuery",
        }
    }

    fn subject(&self) -> Option<String> {
        Some(match self {
            Request::StartWorkflow(s) => format!("{} {}", s.workflow_type, s.workflow_id),
            Request::PollWorkflowTask(_) | Request::PollActivityTask(_) => return None,
            Request::CompleteWorkflowTask(c) => task_subject(&c.token),
            Request::FailWorkflowTask(c) => task_subject(&c.token),
            Request::CompleteActivityTask(c) => activity_subject(&c.token),
            Request::FailActivityTask(c) => activity_subject(&c.token),
            Request::CancelActivityTask(c) => activity_subject(&c.token),
            Request::RecordHeartbeat(c) => activity_subject(&c.token),
            Request::Signal(s) => format!("{} signal {}", s.workflow_id, s.signal_name),
            Request::SignalWithStart(s) => format!(
                "{} {} signal {}",
                s.start.workflow_type, s.start.workflow_id, s.signal_name
            ),
            Request::RequestCancel(c) => c.workflow_id.clone(),
            Request::Terminate(t) => t.workflow_id.clone(),
            Request::Describe(d) => d.workflow_id.clone(),
            Request::GetHistory(g) => g.workflow_id.clone(),
            Request::Update(u) => format!("{} update {} {}", u.workflow_id, u.name, u.update_id),
            Request::Query(q) => format!("{} query {}", q.workflow_id, q.query_type),
            Request::AnswerQuery(a) => format!("{} query {}", a.token.exec.workflow_id, a.query_id),
        })
    }
}

/// `wf-1 workflow task 5 attempt 1`.
fn task_subject(t: &TaskToken) -> String {
    format!(
        "{} workflow task {} attempt {}",
        t.exec.workflow_id, t.scheduled_event_id, t.attempt
    )
}

/// `wf-1 activity scheduled at 5 attempt 2`.
fn activity_subject(t: &TaskToken) -> String {
    format!(
        "{} activity scheduled at {} attempt {}",
        t.exec.workflow_id, t.scheduled_event_id, t.attempt
    )
}

/// Errors the server answers with (Temporal's gRPC status names).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerError {
    /// Stale task token, closed workflow, unknown execution.
    NotFound(String),
    WorkflowAlreadyStarted {
        run_id: String,
    },
    InvalidArgument(String),
    /// A limit was hit (history size, pending activities, payload size).
    ResourceExhausted(String),
    /// Nobody answered in time (a query no worker took or answered).
    DeadlineExceeded(String),
    /// The request was dropped and may be sent again (an update whose run continued as new
    /// before accepting it: sent again, it goes to the new run).
    Aborted(String),
}

impl std::fmt::Display for ServerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServerError::NotFound(s) => write!(f, "not found: {s}"),
            ServerError::WorkflowAlreadyStarted { run_id } => {
                write!(f, "workflow already started (run {run_id})")
            }
            ServerError::InvalidArgument(s) => write!(f, "invalid argument: {s}"),
            ServerError::ResourceExhausted(s) => write!(f, "resource exhausted: {s}"),
            ServerError::DeadlineExceeded(s) => write!(f, "deadline exceeded: {s}"),
            ServerError::Aborted(s) => write!(f, "aborted: {s}"),
        }
    }
}

/// A run as DescribeWorkflowExecution tells it.
#[derive(Clone, Debug, PartialEq)]
pub struct Description {
    /// Which run.
    pub exec: ExecKey,
    /// Its workflow type.
    pub workflow_type: String,
    /// Open, or how it closed.
    pub status: WorkflowStatus,
    /// Events in its history.
    pub history_length: usize,
    /// Activities scheduled and not closed.
    pub pending_activities: usize,
    /// Timers started and not fired or canceled.
    pub pending_timers: usize,
    /// The run's search attributes now (as started, then upserted).
    pub search_attributes: std::collections::BTreeMap<String, Payload>,
    /// The run's memo now (as started, then modified).
    pub memo: std::collections::BTreeMap<String, Payload>,
}

/// Responses from the server.
#[derive(Clone, Debug, PartialEq)]
pub enum Response {
    Started {
        run_id: String,
    },
    WorkflowTask(Option<Box<WorkflowTask>>),
    ActivityTask(Option<Box<ActivityTask>>),
    /// RespondWorkflowTaskCompleted's answer: the first attempts of the activities the server
    /// started eagerly for the completing worker (empty when none was asked for or granted).
    WorkflowTaskCompleted {
        activity_tasks: Vec<ActivityTask>,
    },
    Ok,
    Heartbeat {
        cancel_requested: bool,
    },
    Described(Box<Description>),
    History {
        exec: ExecKey,
        events: Vec<HistoryEvent>,
        status: WorkflowStatus,
    },
    Update(Box<UpdateResult>),
    /// A query's answer (or the workflow's failure to answer it).
    QueryResult(Box<Result<Option<Payloads>, Failure>>),
    Error(ServerError),
}

impl MessageKind for Response {
    fn kind(&self) -> &'static str {
        match self {
            Response::Started { .. } => "Started",
            Response::WorkflowTask(Some(_)) => "WorkflowTask",
            Response::WorkflowTask(None) => "NoWorkflowTask",
            Response::ActivityTask(Some(_)) => "ActivityTask",
            Response::ActivityTask(None) => "NoActivityTask",
            Response::WorkflowTaskCompleted { .. } => "WorkflowTaskCompleted",
            Response::Ok => "Ok",
            Response::Heartbeat { .. } => "HeartbeatResponse",
            Response::Described(_) => "Described",
            Response::History { .. } => "History",
            Response::Update(_) => "UpdateResult",
            Response::QueryResult(_) => "QueryResult",
            Response::Error(_) => "Error",
        }
    }

    fn subject(&self) -> Option<String> {
        match self {
            Response::Started { run_id } => Some(format!("run {run_id}")),
            Response::WorkflowTask(Some(t)) => {
                Some(format!("{} {}", t.workflow_type, task_subject(&t.token)))
            }
            Response::ActivityTask(Some(t)) => Some(format!(
                "{} activity {} ({}) attempt {}",
                t.token.exec.workflow_id, t.activity_id, t.activity_type, t.attempt
            )),
            Response::WorkflowTaskCompleted { activity_tasks } if !activity_tasks.is_empty() => {
                let ids: Vec<&str> = activity_tasks
                    .iter()
                    .map(|t| t.activity_id.as_str())
                    .collect();
                Some(format!("eager activities {}", ids.join(", ")))
            }
            Response::History { exec, status, .. } => {
                Some(format!("{} {status:?}", exec.workflow_id))
            }
            Response::Update(u) => Some(format!(
                "{} update {} {:?}",
                u.exec.workflow_id, u.update_id, u.stage
            )),
            Response::Error(e) => {
                let text = e.to_string();
                Some(match text.char_indices().nth(120) {
                    Some((cut, _)) => format!("{}...", &text[..cut]),
                    None => text,
                })
            }
            _ => None,
        }
    }
}
