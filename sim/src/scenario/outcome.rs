//! Collecting a finished run's [`Outcome`]: everything the checkers may read, taken from the
//! records that live outside the nodes (the store's histories and acked events, the effect
//! ledger, the services' states, the client log, the trace) and from the supervisor's report.
//!
//! Invariant: collection reads records only; it never asks a node. It runs before the nodes
//! are stopped and records nothing in the trace, so the trace hash covers the run and nothing
//! after it. A restart still pending at the end is not carried out: a node left dead shows up
//! in the record (liveness reports it).

use std::sync::Arc;

use super::nodes::Shared;
use super::Scenario;
use crate::faults::{CloseRequest, FaultPlan, SupervisorReport};
use crate::history::History;
use crate::record::{Outcome, RequestedClose};
use crate::service::ServiceLogic;
use crate::wire::WorkflowStatus;

/// The outcome of `sc` run with `seed` and `plan`.
pub(super) fn collect(
    sc: &Scenario,
    seed: u64,
    plan: FaultPlan,
    shared: &Shared,
    services: &[Arc<dyn ServiceLogic>],
    report: SupervisorReport,
) -> Outcome {
    let histories = shared
        .store
        .take_histories()
        .into_iter()
        .map(|(k, events)| (k, History::new(events)))
        .collect();
    let service_use = shared.ledger.service_use(services);
    let services = services
        .iter()
        .map(|s| (s.name().to_string(), s.snapshot()))
        .collect();
    let trace = &shared.trace;
    let plan_requests: Vec<(String, CloseRequest)> = plan
        .events
        .iter()
        .filter_map(|e| e.fault.close_request())
        .map(|(w, r)| (w.to_string(), r))
        .collect();
    Outcome {
        scenario: sc.name.clone(),
        seed,
        heal_at: std::time::Duration::from_millis(plan.heal_at_ms),
        plan,
        histories,
        acked: shared.store.acked(),
        observed_acks: shared.env.acks.all(),
        effects: shared.ledger.effects(),
        unrecorded_effects: shared.ledger.unrecorded(),
        service_use,
        activity_failures: shared.env.attempts.all(),
        observed_attempts: shared.env.attempts.observed(),
        observed_workflow_tasks: shared.env.attempts.observed_workflow_tasks(),
        services,
        client: shared.log.results(),
        expected_workflows: sc.starts.iter().map(|s| s.workflow_id.clone()).collect(),
        expectations: sc.expectations.clone(),
        trace_hash: trace.hash(),
        trace: trace.take_entries(),
        messages_sent: trace.sends(),
        ended_at: report.ended_at,
        liveness_deadline: sc.liveness_deadline,
        applied_faults: report.applied,
        node_kills: report.kills,
        requested_closes: requested_closes(sc, &plan_requests),
        updates: shared.log.updates(),
        coverage: shared.env.coverage.snapshot(),
    }
}

/// The terminations and cancellations the scenario's client sends, then those of the plan.
fn requested_closes(sc: &Scenario, plan: &[(String, CloseRequest)]) -> Vec<RequestedClose> {
    let close = |workflow_id: &str, status, by: &str| RequestedClose {
        workflow_id: workflow_id.to_string(),
        status,
        by: by.to_string(),
    };
    let status = |r: CloseRequest| match r {
        CloseRequest::Terminate => WorkflowStatus::Terminated,
        CloseRequest::Cancel => WorkflowStatus::Canceled,
    };
    let scenario = sc
        .terminations
        .iter()
        .map(|t| close(&t.workflow_id, WorkflowStatus::Terminated, "scenario"))
        .chain(
            sc.cancels
                .iter()
                .map(|c| close(&c.workflow_id, WorkflowStatus::Canceled, "scenario")),
        );
    let plan = plan.iter().map(|(w, r)| close(w, status(*r), "plan"));
    scenario.chain(plan).collect()
}
