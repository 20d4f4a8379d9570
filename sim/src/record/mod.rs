//! What one seeded run recorded: the [`Outcome`] and the records it is made of (acknowledged
//! events, applied effects, what the client saw). The checkers read these and nothing else.
//!
//! Invariant: plain data, below every node kind and every checker; it imports no node kind,
//! no engine and no transport.

pub mod coverage;
mod logs;
pub use coverage::{CoverageLog, CoverageRecord, CoverageReport};
pub use logs::{AckLog, AttemptLog};

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::faults::FaultPlan;
use crate::history::{EventId, EventType, ExecKey, History, Timestamp};
use crate::trace::TraceEntry;
use crate::wire::WorkflowStatus;

/// Everything recorded in one run: what the checkers read.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The scenario's name.
    pub scenario: String,
    /// The seed the run was simulated with.
    pub seed: u64,
    /// The fault plan the run was given (not all of it need have fired: see `applied_faults`).
    pub plan: FaultPlan,
    /// Every run's synced history.
    pub histories: BTreeMap<ExecKey, History>,
    /// Events the server acknowledged.
    pub acked: Vec<AckedEvent>,
    /// Acknowledgements as their receivers saw them (the client and the workers): what each
    /// acknowledged request promises is in the histories. Recorded where the reply arrived, not
    /// by the server under test.
    pub observed_acks: Vec<ObservedAck>,
    /// Every call the services recorded in their ledger, applied or recognised as a duplicate,
    /// in the order they happened.
    pub effects: Vec<Effect>,
    /// Calls of a service's declared effect operations that the service answered with success
    /// but recorded nothing for in the ledger, as the service's node saw them: a service model
    /// that forgets `EffectLedger::record` (exactly-once could not see its effects).
    pub unrecorded_effects: Vec<UnrecordedCall>,
    /// What each service's node answered (successful calls per operation), with what the
    /// service declares about its effects, by service name.
    pub service_use: Vec<ServiceUse>,
    /// The latest failed attempt of each activity that had one, as its worker saw it, in the
    /// order activities first failed.
    pub activity_failures: Vec<AttemptFailure>,
    /// Every activity attempt workers received, in the order received, with how it ended.
    pub observed_attempts: Vec<ObservedAttempt>,
    /// Every workflow task workers received (queries excluded), in the order received, with
    /// when the worker was done with it.
    pub observed_workflow_tasks: Vec<ObservedWorkflowTask>,
    /// Each service's durable state at the end, by service name.
    pub services: BTreeMap<String, serde_json::Value>,
    /// What the client saw of each workflow it started, by workflow id.
    pub client: BTreeMap<String, ClientResult>,
    /// Workflows the client was asked to start.
    pub expected_workflows: Vec<String>,
    /// How the scenario says workflows must end (the `expected-outcome` invariant).
    pub expectations: Vec<Expectation>,
    /// The trace's fingerprint: the same seed and plan give the same hash, on every machine.
    pub trace_hash: u64,
    /// The trace's entries, when the scenario kept them (`record_trace`); sweeps keep only the
    /// hash.
    pub trace: Vec<TraceEntry>,
    /// Messages the nodes handed to the network (retries and duplicates included).
    pub messages_sent: u64,
    /// Virtual time at which every fault had healed.
    pub heal_at: Duration,
    /// Virtual time at which the run ended (every workflow closed, or the deadline passed).
    pub ended_at: Duration,
    /// How long after `heal_at` every workflow had to close (the scenario's setting).
    pub liveness_deadline: Duration,
    /// Faults actually applied, in order, with their virtual times.
    pub applied_faults: Vec<(Duration, String)>,
    /// Nodes killed (by name: `server`, `worker-2`), with their virtual times, as the harness
    /// carried the kills out.
    pub node_kills: Vec<(Duration, String)>,
    /// Workflows the scenario or its fault plan asked the server to terminate or cancel
    /// (`expected-outcome` accepts them ending so).
    pub requested_closes: Vec<RequestedClose>,
    /// The updates the scenario's client sent, with what it learned of each (`liveness`
    /// requires an answer for every one).
    pub updates: Vec<UpdateRecord>,
    /// Which fault kinds hit which protocol steps, when the scenario recorded it
    /// (`Scenario::record_coverage`).
    pub coverage: Option<CoverageRecord>,
}

impl Outcome {
    /// The outcome of a run that did not finish (the simulation panicked): nothing recorded.
    pub fn aborted(
        scenario: &str,
        seed: u64,
        plan: FaultPlan,
        liveness_deadline: Duration,
    ) -> Self {
        Outcome {
            scenario: scenario.to_string(),
            seed,
            heal_at: Duration::from_millis(plan.heal_at_ms),
            plan,
            histories: BTreeMap::new(),
            acked: Vec::new(),
            observed_acks: Vec::new(),
            effects: Vec::new(),
            unrecorded_effects: Vec::new(),
            service_use: Vec::new(),
            activity_failures: Vec::new(),
            observed_attempts: Vec::new(),
            observed_workflow_tasks: Vec::new(),
            services: BTreeMap::new(),
            client: BTreeMap::new(),
            expected_workflows: Vec::new(),
            expectations: Vec::new(),
            trace_hash: 0,
            trace: Vec::new(),
            messages_sent: 0,
            ended_at: Duration::ZERO,
            liveness_deadline,
            applied_faults: Vec::new(),
            node_kills: Vec::new(),
            requested_closes: Vec::new(),
            updates: Vec::new(),
            coverage: None,
        }
    }
}

/// An update the client sent and what it learned of it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct UpdateRecord {
    /// The workflow updated.
    pub workflow_id: String,
    /// The update's id.
    pub update_id: String,
    /// `completed`, `failed: ...`, `rejected: ...`, `refused: ...` (the server's error); `None`:
    /// the client never learned.
    pub answer: Option<String>,
}

/// A workflow the scenario's client or its fault plan asked the server to end from outside:
/// terminated, or canceled (a cancel request its code may honour).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestedClose {
    /// The workflow (its current run when the request arrives).
    pub workflow_id: String,
    /// What the request makes acceptable: `Terminated` or `Canceled`.
    pub status: WorkflowStatus,
    /// Who asked: `scenario` (its terminations and cancels) or `plan` (a `Terminate` or
    /// `Cancel` fault).
    pub by: String,
}

impl Outcome {
    /// The trace as text, one entry per line, ending with the hash (what `--out` writes to
    /// `trace.txt`).
    pub fn trace_text(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        if self.trace.is_empty() {
            out.push_str("(trace entries not recorded: run the scenario with record_trace on)\n");
        }
        for e in &self.trace {
            let _ = writeln!(out, "{e}");
        }
        let _ = writeln!(out, "trace hash {:016x}", self.trace_hash);
        out
    }
}

/// An event the server acknowledged to a client or worker: it must never be lost.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct AckedEvent {
    /// The run whose history holds the event.
    pub exec: ExecKey,
    /// The event's id in that history.
    pub event_id: EventId,
    /// The event's type (a lost event must not come back as a different one).
    pub event_type: EventType,
}

/// A reply a client or worker received that acknowledges a write: what it promises.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ObservedAck {
    /// The node that received it.
    pub node: String,
    /// What was acknowledged.
    pub request: AckedRequest,
}

/// An acknowledged request, by what the server must have made durable.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum AckedRequest {
    /// StartWorkflowExecution answered with this run (or "already started" naming it): the run
    /// exists.
    Started {
        /// The run.
        exec: ExecKey,
    },
    /// A workflow task handed to a worker showed the run's history up to this event (the
    /// task's own WorkflowTaskScheduled/Started when they are persisted, i.e. its first
    /// attempt): that event is in the history, with this type.
    HistoryShown {
        /// The run.
        exec: ExecKey,
        /// The last persisted event the task showed.
        event_id: EventId,
        /// Its type.
        event_type: crate::history::EventType,
    },
    /// RespondWorkflowTaskCompleted answered Ok: the task (its WorkflowTaskStarted) is closed in
    /// history, completed (or failed by the server, e.g. for an unhandled command).
    WorkflowTaskClosed {
        /// The run.
        exec: ExecKey,
        /// The task's WorkflowTaskStarted id.
        started_event_id: EventId,
    },
    /// RespondActivityTaskCompleted answered Ok: ActivityTaskCompleted for the activity.
    ActivityCompleted {
        /// The run.
        exec: ExecKey,
        /// The activity's ActivityTaskScheduled id.
        scheduled_event_id: EventId,
    },
    /// RespondActivityTaskCanceled answered Ok: ActivityTaskCanceled for the activity.
    ActivityCanceled {
        /// The run.
        exec: ExecKey,
        /// The activity's ActivityTaskScheduled id.
        scheduled_event_id: EventId,
    },
    /// SignalWorkflowExecution answered Ok: a WorkflowExecutionSignaled with this name in some
    /// run of the workflow (one per distinct request id).
    Signaled {
        /// The workflow id.
        workflow_id: String,
        /// The signal's name.
        signal_name: String,
        /// The request's id (a retried request is one signal).
        request_id: String,
    },
    /// RequestCancelWorkflowExecution answered Ok: a WorkflowExecutionCancelRequested in some
    /// run of the workflow.
    CancelRequested {
        /// The workflow id.
        workflow_id: String,
    },
    /// UpdateWorkflowExecution answered that the update was accepted (and, `completed`, that
    /// its handler returned): one WorkflowExecutionUpdateAccepted with this update id in some
    /// run of the workflow (and one WorkflowExecutionUpdateCompleted).
    Updated {
        /// The workflow id.
        workflow_id: String,
        /// The update's id.
        update_id: String,
        /// The client was told the outcome (not only the acceptance).
        completed: bool,
    },
}

/// Which activity attempt made a service call (carried with every call, like a tracing header).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Caller {
    /// The workflow whose activity made the call.
    pub workflow_id: String,
    /// Its run.
    pub run_id: String,
    /// The activity's id within the run (Temporal's `activityId`).
    pub activity_id: String,
    /// The activity's type name.
    pub activity_type: String,
    /// The attempt (1-based) that made the call: retries of one activity share its id.
    pub attempt: i32,
    /// The worker node that ran the attempt (`worker-2`).
    pub node: String,
}

/// One effect a service applied (or recognised as a duplicate and skipped).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Effect {
    /// Position in the ledger (0-based), across all services.
    pub seq: u64,
    /// Virtual wall-clock time of the call.
    pub time: Timestamp,
    /// The service that recorded it (`bank`).
    pub service: String,
    /// The operation (`deposit`), one of the service's `effect_operations`.
    pub operation: String,
    /// The key the caller sent: the service applies one key at most once.
    pub idempotency_key: String,
    /// False when the service recognised the key and did not apply it again.
    pub applied: bool,
    /// The activity attempt that made the call, when the call carried one.
    pub caller: Option<Caller>,
    /// Service-specific detail (the bank: account and amount), for reports.
    pub detail: Value,
}

/// A successful call of an effect operation for which the service recorded no effect.
#[derive(Clone, Debug, PartialEq)]
pub struct UnrecordedCall {
    /// Virtual wall-clock time of the call.
    pub time: Timestamp,
    /// The service that handled it.
    pub service: String,
    /// The operation, one of the service's `effect_operations`.
    pub operation: String,
    /// The activity attempt that made the call, when the call carried one.
    pub caller: Option<Caller>,
}

/// What the client saw of one workflow.
#[derive(Clone, Debug, PartialEq)]
pub struct ClientResult {
    /// The run id the server answered the start with.
    pub first_run_id: String,
    /// Virtual wall-clock time at which the client learned the workflow had started.
    pub started_at: Timestamp,
    /// Final status (after following continue-as-new) and when the client learned it.
    pub closed: Option<(WorkflowStatus, Timestamp)>,
}

/// The latest failed attempt of one activity (or local activity), as the worker that ran it
/// saw it: what the activity code returned or how it panicked. For reports (liveness names why
/// an activity never completed); not evidence for any verdict.
#[derive(Clone, Debug, PartialEq)]
pub struct AttemptFailure {
    /// The run that scheduled the activity.
    pub exec: ExecKey,
    /// The activity's id within the run.
    pub activity_id: String,
    /// The activity's type name.
    pub activity_type: String,
    /// The attempt (1-based) that failed last.
    pub attempt: i32,
    /// The worker node that ran it.
    pub node: String,
    /// The failure's type (`PanicError`, `ActivityNotRegistered`, the application's type).
    pub failure_type: String,
    /// The failure's message.
    pub message: String,
    /// How many attempts of this activity failed in the run.
    pub failed_attempts: u32,
}

/// What one service's node answered in a run: successful calls per operation, and what the
/// service declares about its effects.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ServiceUse {
    /// The service.
    pub service: String,
    /// Its declared `effect_operations`.
    pub effect_operations: Vec<String>,
    /// It declares that none of its calls changes anything outside (`ServiceLogic::effect_free`).
    pub effect_free: bool,
    /// Calls answered with success, by operation.
    pub calls: BTreeMap<String, u64>,
}

/// What a workflow must end with, as a scenario states it (the `expected-outcome` invariant
/// checks it): its final status and, optionally, its result or the text of its failure.
#[derive(Clone, Debug, PartialEq)]
pub struct Expectation {
    /// The workflow (its last run, following continue-as-new).
    pub workflow_id: String,
    /// How it must close.
    pub status: WorkflowStatus,
    /// Its result, compared as JSON (the first payload), when it must be exactly this.
    pub result: Option<Value>,
    /// Text its failure message must contain, when it must fail a certain way.
    pub failure_contains: Option<String>,
}

impl Expectation {
    /// `workflow_id` must close with `status`.
    pub fn new(workflow_id: impl Into<String>, status: WorkflowStatus) -> Self {
        Expectation {
            workflow_id: workflow_id.into(),
            status,
            result: None,
            failure_contains: None,
        }
    }

    /// ... and complete with this result (JSON).
    pub fn with_result(mut self, result: Value) -> Self {
        self.result = Some(result);
        self
    }

    /// ... and fail with a message containing `text`.
    pub fn failing_with(mut self, text: impl Into<String>) -> Self {
        self.failure_contains = Some(text.into());
        self
    }
}

/// One workflow task as the worker that received it saw it: which task (the server's token),
/// when it arrived, and when the worker was done with it (its completion or failure answered,
/// or given up). Recorded by workers, outside their nodes (the dispatch invariant reads these).
#[derive(Clone, Debug, PartialEq)]
pub struct ObservedWorkflowTask {
    /// The run the task belongs to.
    pub exec: ExecKey,
    /// The token's WorkflowTaskScheduled event id.
    pub scheduled_event_id: EventId,
    /// The token's WorkflowTaskStarted event id.
    pub started_event_id: EventId,
    /// The attempt number the task carried.
    pub attempt: i32,
    /// The worker (with its incarnation) that received it.
    pub worker: String,
    /// Virtual time the task arrived.
    pub received: Timestamp,
    /// Virtual time the worker was done with it (its completion or failure answered, or the
    /// call given up); `None` if it never was (its worker was killed holding it).
    pub done: Option<Timestamp>,
    /// It carried update requests, so it may have been speculative: a server that drops it
    /// (every update rejected) hands its event ids to the next task.
    pub carried_requests: bool,
}

/// One activity attempt as the worker that received it saw it: when the task arrived and how
/// the attempt ended. Recorded by workers, outside their nodes (the retry-policy and dispatch
/// invariants read these, never the server's records).
#[derive(Clone, Debug, PartialEq)]
pub struct ObservedAttempt {
    /// The run that scheduled the activity.
    pub exec: ExecKey,
    /// The ActivityTaskScheduled event's id.
    pub scheduled_event_id: EventId,
    /// The activity's id within the run.
    pub activity_id: String,
    /// The activity's type name.
    pub activity_type: String,
    /// The attempt number the task carried.
    pub attempt: i32,
    /// The worker (with its incarnation: a restarted worker is another) that received it.
    pub worker: String,
    /// Virtual time the task arrived.
    pub received: Timestamp,
    /// When and how the attempt ended, if it did (a killed worker's attempt never does).
    pub end: Option<(Timestamp, AttemptEnd)>,
    /// The server answered the attempt's result (completion, failure, cancellation) with Ok:
    /// the worker knows it arrived. A result that was lost leaves the server to time the attempt
    /// out, and a retry then follows whatever the result was.
    pub acknowledged: bool,
}

/// How an observed activity attempt ended, on the worker.
#[derive(Clone, Debug, PartialEq)]
pub enum AttemptEnd {
    /// The activity returned a result (the completion was sent).
    Completed,
    /// The activity returned an error (the failure was sent).
    Failed {
        /// The failure's type.
        error_type: String,
        /// The failure itself forbids a retry.
        non_retryable: bool,
    },
    /// The activity ended as canceled (the cancellation was sent).
    Canceled,
    /// The worker gave up at its own start-to-close deadline (nothing was sent).
    GaveUp,
}
