//! Test helpers: hand-built histories, effects and outcomes for the checkers' unit tests.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::BASE_NANOS;
use crate::history::ExecKey;
use crate::history::*;
use crate::record::Outcome;
use crate::record::{AckedEvent, Caller, Effect};
use crate::sdk::{ActivityOptions, Registry, WorkflowContext, WorkflowError};

pub const WF: &str = "wf-1";
pub const RUN: &str = "run-1";

pub fn key(wf: &str, run: &str) -> ExecKey {
    ExecKey {
        workflow_id: wf.to_string(),
        run_id: run.to_string(),
    }
}

/// Builds one run's history, event by event, at a settable virtual time.
pub struct Hb {
    pub events: Vec<HistoryEvent>,
    /// Virtual milliseconds since the run started.
    pub now_ms: i64,
}

pub fn ts(ms: i64) -> Timestamp {
    Timestamp(BASE_NANOS + ms * 1_000_000)
}

impl Hb {
    pub fn new(workflow_type: &str, wf: &str, run: &str, input: &impl serde::Serialize) -> Hb {
        let mut hb = Hb {
            events: Vec::new(),
            now_ms: 0,
        };
        hb.push(EventAttributes::WorkflowExecutionStarted(Arc::new(
            WorkflowExecutionStarted {
                workflow_type: workflow_type.to_string(),
                workflow_id: wf.to_string(),
                task_queue: TaskQueue::normal("q"),
                input: Some(Payloads::json(input).unwrap()),
                original_execution_run_id: run.to_string(),
                first_execution_run_id: run.to_string(),
                attempt: 1,
                ..Default::default()
            },
        )));
        hb
    }

    pub fn at(&mut self, ms: i64) -> &mut Self {
        self.now_ms = ms;
        self
    }

    pub fn push(&mut self, attributes: EventAttributes) -> EventId {
        let id = self.events.len() as EventId + 1;
        self.events.push(HistoryEvent {
            event_id: id,
            event_time: ts(self.now_ms),
            task_id: id,
            attributes,
            extra: Default::default(),
        });
        id
    }

    pub fn wft_scheduled(&mut self) -> EventId {
        self.push(EventAttributes::WorkflowTaskScheduled(Arc::new(
            WorkflowTaskScheduled {
                task_queue: TaskQueue::normal("q"),
                start_to_close_timeout: Some(Duration::from_secs(10)),
                attempt: 1,
                extra: Default::default(),
            },
        )))
    }

    pub fn wft_started(&mut self, scheduled: EventId) -> EventId {
        self.push(EventAttributes::WorkflowTaskStarted(Arc::new(
            WorkflowTaskStarted {
                scheduled_event_id: scheduled,
                ..Default::default()
            },
        )))
    }

    pub fn wft_completed(&mut self, scheduled: EventId, started: EventId) -> EventId {
        self.push(EventAttributes::WorkflowTaskCompleted(Arc::new(
            WorkflowTaskCompleted {
                scheduled_event_id: scheduled,
                started_event_id: started,
                ..Default::default()
            },
        )))
    }

    /// Scheduled, Started, Completed; returns the Completed event id.
    pub fn wft(&mut self) -> EventId {
        let s = self.wft_scheduled();
        let t = self.wft_started(s);
        self.wft_completed(s, t)
    }

    pub fn activity(&mut self, wtc: EventId, id: &str, ty: &str) -> EventId {
        self.push(EventAttributes::ActivityTaskScheduled(Arc::new(
            ActivityTaskScheduled {
                activity_id: id.to_string(),
                activity_type: ty.to_string(),
                task_queue: TaskQueue::normal("q"),
                start_to_close_timeout: Some(Duration::from_secs(5)),
                workflow_task_completed_event_id: wtc,
                ..Default::default()
            },
        )))
    }

    pub fn activity_started(&mut self, scheduled: EventId, attempt: i32) -> EventId {
        self.push(EventAttributes::ActivityTaskStarted(Arc::new(
            ActivityTaskStarted {
                scheduled_event_id: scheduled,
                attempt,
                ..Default::default()
            },
        )))
    }

    pub fn activity_completed(
        &mut self,
        scheduled: EventId,
        started: EventId,
        result: &str,
    ) -> EventId {
        self.push(EventAttributes::ActivityTaskCompleted(Arc::new(
            ActivityTaskCompleted {
                result: Some(Payloads::json(result).unwrap()),
                scheduled_event_id: scheduled,
                started_event_id: started,
                ..Default::default()
            },
        )))
    }

    pub fn activity_failed(&mut self, scheduled: EventId, started: EventId) -> EventId {
        self.push(EventAttributes::ActivityTaskFailed(Arc::new(
            ActivityTaskFailed {
                failure: Some(Failure::application("boom", "Boom", true)),
                scheduled_event_id: scheduled,
                started_event_id: started,
                identity: String::new(),
                retry_state: RetryState::NonRetryableFailure,
                extra: Default::default(),
            },
        )))
    }

    pub fn timer(&mut self, wtc: EventId, id: &str) -> EventId {
        self.push(EventAttributes::TimerStarted(Arc::new(TimerStarted {
            timer_id: id.to_string(),
            start_to_fire_timeout: Some(Duration::from_secs(60)),
            workflow_task_completed_event_id: wtc,
            extra: Default::default(),
        })))
    }

    pub fn timer_fired(&mut self, started: EventId, id: &str) -> EventId {
        self.push(EventAttributes::TimerFired(Arc::new(TimerFired {
            timer_id: id.to_string(),
            started_event_id: started,
            extra: Default::default(),
        })))
    }

    pub fn complete(&mut self, wtc: EventId, result: &str) -> EventId {
        self.push(EventAttributes::WorkflowExecutionCompleted(Arc::new(
            WorkflowExecutionCompleted {
                result: Some(Payloads::json(result).unwrap()),
                workflow_task_completed_event_id: wtc,
                ..Default::default()
            },
        )))
    }

    pub fn build(&self) -> History {
        History::new(self.events.clone())
    }
}

fn opts() -> ActivityOptions {
    ActivityOptions::start_to_close(Duration::from_secs(5))
}

/// The test workflow `Transfer`: withdraw, then deposit, returns `"<w>|<d>"`.
pub async fn transfer(ctx: WorkflowContext, amount: i64) -> Result<String, WorkflowError> {
    let w: String = ctx.start_activity("withdraw", &amount, opts()).await?;
    let d: String = ctx.start_activity("deposit", &amount, opts()).await?;
    Ok(format!("{w}|{d}"))
}

/// A changed `Transfer`: deposit first (replaying old histories must fail).
pub async fn transfer_deposit_first(
    ctx: WorkflowContext,
    amount: i64,
) -> Result<String, WorkflowError> {
    let d: String = ctx.start_activity("deposit", &amount, opts()).await?;
    let w: String = ctx.start_activity("withdraw", &amount, opts()).await?;
    Ok(format!("{w}|{d}"))
}

pub fn registry() -> Registry {
    let mut r = Registry::new();
    r.register_workflow("Transfer", transfer);
    r
}

pub fn registry_deposit_first() -> Registry {
    let mut r = Registry::new();
    r.register_workflow("Transfer", transfer_deposit_first);
    r
}

/// The 17-event fault-free `Transfer` history of `wf/run` (withdraw "1", deposit "2"), one
/// second per step.
pub fn transfer_history(wf: &str, run: &str) -> History {
    transfer_history_with(wf, run, |_| {})
}

/// [`transfer_history`] with `between` adding events after the withdrawal completed.
pub fn transfer_history_with(wf: &str, run: &str, between: impl FnOnce(&mut Hb)) -> History {
    let mut h = Hb::new("Transfer", wf, run, &100i64);
    h.at(1);
    let c1 = h.wft();
    h.at(1000);
    let w = h.activity(c1, "1", "withdraw");
    h.at(2000);
    let ws = h.activity_started(w, 1);
    h.activity_completed(w, ws, "W");
    between(&mut h);
    h.at(3000);
    let c2 = h.wft();
    let d = h.activity(c2, "2", "deposit");
    h.at(4000);
    let ds = h.activity_started(d, 1);
    h.activity_completed(d, ds, "D");
    h.at(5000);
    let c3 = h.wft();
    h.complete(c3, "W|D");
    h.build()
}

pub fn caller(wf: &str, run: &str, activity_id: &str, ty: &str, attempt: i32) -> Caller {
    Caller {
        workflow_id: wf.to_string(),
        run_id: run.to_string(),
        activity_id: activity_id.to_string(),
        activity_type: ty.to_string(),
        attempt,
        node: "worker-1".to_string(),
    }
}

pub fn effect(seq: u64, ms: i64, op: &str, key: &str, applied: bool, caller: Caller) -> Effect {
    Effect {
        seq,
        time: ts(ms),
        service: "bank".to_string(),
        operation: op.to_string(),
        idempotency_key: key.to_string(),
        applied,
        caller: Some(caller),
        detail: serde_json::json!({"account": "A-1", "amount": 100}),
    }
}

/// The bank effects of [`transfer_history`]: one applied withdraw, one applied deposit.
pub fn transfer_effects(wf: &str, run: &str) -> Vec<Effect> {
    vec![
        effect(
            0,
            1500,
            "withdraw",
            &format!("{wf}-withdrawal"),
            true,
            caller(wf, run, "1", "withdraw", 1),
        ),
        effect(
            1,
            3500,
            "deposit",
            &format!("{wf}-deposit"),
            true,
            caller(wf, run, "2", "deposit", 1),
        ),
    ]
}

/// An outcome with one completed transfer (`WF`/`RUN`): its history, effects, every event
/// acknowledged, a conserving bank, and the workflow expected.
pub fn outcome() -> Outcome {
    let h = transfer_history(WF, RUN);
    let acked = h
        .events
        .iter()
        .map(|e| AckedEvent {
            exec: key(WF, RUN),
            event_id: e.event_id,
            event_type: e.event_type(),
        })
        .collect();
    let mut histories = BTreeMap::new();
    histories.insert(key(WF, RUN), h);
    let mut services = BTreeMap::new();
    services.insert(
        "bank".to_string(),
        serde_json::json!({"balances": {"A-1": 900, "A-2": 1100}, "total": 2000, "initial_total": 2000}),
    );
    Outcome {
        scenario: "test".into(),
        seed: 1,
        plan: Default::default(),
        histories,
        acked,
        observed_acks: Vec::new(),
        effects: transfer_effects(WF, RUN),
        services,
        client: BTreeMap::new(),
        expected_workflows: vec![WF.to_string()],
        expectations: Vec::new(),
        trace_hash: 0,
        trace: Vec::new(),
        messages_sent: 0,
        heal_at: Duration::ZERO,
        ended_at: Duration::from_secs(6),
        liveness_deadline: Duration::from_secs(600),
        applied_faults: Vec::new(),
        node_kills: Vec::new(),
        unrecorded_effects: Vec::new(),
        service_use: Vec::new(),
        activity_failures: Vec::new(),
        observed_attempts: Vec::new(),
        observed_workflow_tasks: Vec::new(),
        requested_closes: Vec::new(),
        updates: Vec::new(),
        coverage: None,
    }
}

/// The single history of `o` (mutable).
pub fn only(o: &mut Outcome) -> &mut History {
    o.histories.get_mut(&key(WF, RUN)).expect("the test run")
}
