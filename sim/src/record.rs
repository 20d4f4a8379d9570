//! What one seeded run recorded: the [`Outcome`] and the records it is made of (acknowledged
//! events, applied effects, what the client saw). The checkers read these and nothing else.
//!
//! Invariant: plain data, below every node kind and every checker; it imports no node kind,
//! no engine and no transport.

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
    pub scenario: String,
    pub seed: u64,
    pub plan: FaultPlan,
    /// Every run's synced history.
    pub histories: BTreeMap<ExecKey, History>,
    /// Events the server acknowledged.
    pub acked: Vec<AckedEvent>,
    pub effects: Vec<Effect>,
    /// Each service's durable state at the end, by service name.
    pub services: BTreeMap<String, serde_json::Value>,
    pub client: BTreeMap<String, ClientResult>,
    /// Workflows the client was asked to start.
    pub expected_workflows: Vec<String>,
    pub trace_hash: u64,
    pub trace: Vec<TraceEntry>,
    /// Messages the nodes handed to the network (retries and duplicates included).
    pub messages_sent: u64,
    /// Virtual time when the faults healed and when the run ended.
    pub heal_at: Duration,
    pub ended_at: Duration,
    pub liveness_deadline: Duration,
    /// Faults actually applied, in order, with their virtual times.
    pub applied_faults: Vec<(Duration, String)>,
}

impl Outcome {
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
    pub exec: ExecKey,
    pub event_id: EventId,
    pub event_type: EventType,
}

/// Which activity attempt made a service call (carried with every call, like a tracing header).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Caller {
    pub workflow_id: String,
    pub run_id: String,
    pub activity_id: String,
    pub activity_type: String,
    pub attempt: i32,
    pub node: String,
}

/// One effect a service applied (or recognised as a duplicate and skipped).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Effect {
    pub seq: u64,
    pub time: Timestamp,
    pub service: String,
    pub operation: String,
    pub idempotency_key: String,
    /// False when the service recognised the key and did not apply it again.
    pub applied: bool,
    pub caller: Option<Caller>,
    pub detail: Value,
}

/// What the client saw of one workflow.
#[derive(Clone, Debug, PartialEq)]
pub struct ClientResult {
    pub first_run_id: String,
    pub started_at: Timestamp,
    /// Final status (after following continue-as-new) and when the client learned it.
    pub closed: Option<(WorkflowStatus, Timestamp)>,
}
