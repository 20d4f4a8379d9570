//! Workflows ended from outside in whole simulated runs: terminated or canceled by the
//! scenario's client (`Scenario::terminations`, `Scenario::cancels`) or by a fault plan
//! (`Fault::Terminate`, `Fault::Cancel`), with the default invariants holding (liveness and
//! expected-outcome accept an ending that was asked for, and only that one).
#![cfg(madsim)]

use std::sync::Arc;
use std::time::Duration;

use sim::checkers::{check_all, default_invariants};
use sim::faults::{Fault, FaultEvent, FaultPlan, When};
use sim::history::{EventAttributes as A, EventType, History};
use sim::sdk::{select2, Either};
use sim::{
    Expectation, Outcome, Registry, Scenario, StartSpec, TerminateSpec, WorkflowContext,
    WorkflowError, WorkflowStatus,
};

/// Waits 30 s and completes, or accepts cancellation.
async fn patient(ctx: WorkflowContext, _: ()) -> Result<String, WorkflowError> {
    let mut wait = ctx.timer(Duration::from_secs(30));
    match select2(&mut wait, ctx.cancelled()).await {
        Either::Left(_) => Ok("waited".into()),
        Either::Right(_) => Err(WorkflowError::cancelled()),
    }
}

fn registry() -> Registry {
    let mut r = Registry::new();
    r.register_workflow("Patient", patient);
    r
}

/// Two patient workflows, both expected to complete.
fn scenario() -> Scenario {
    let mut s = Scenario::new("close-requests", registry(), "test");
    for id in ["wf-1", "wf-2"] {
        s.starts.push(StartSpec {
            workflow_id: id.into(),
            workflow_type: "Patient".into(),
            task_queue: "test".into(),
            input: Some(sim::history::Payloads::json(&()).unwrap()),
            delay: Duration::ZERO,
        });
        s.expectations
            .push(Expectation::new(id, WorkflowStatus::Completed).with_result("waited".into()));
    }
    s
}

fn run(s: Scenario, plan: &FaultPlan) -> Outcome {
    let s = Arc::new(s);
    plan.validate(&s.topology()).expect("a valid plan");
    sim::run(&s, 7, plan)
}

fn violations(o: &Outcome) -> Vec<String> {
    check_all(&default_invariants(&registry()), o)
        .iter()
        .map(|v| v.to_string())
        .collect()
}

fn last_run<'a>(o: &'a Outcome, wf: &str) -> &'a History {
    o.histories
        .iter()
        .filter(|(k, _)| k.workflow_id == wf)
        .map(|(_, h)| h)
        .next_back()
        .expect("a run")
}

fn at(ms: u64, fault: Fault) -> FaultEvent {
    FaultEvent {
        when: When::At { ms },
        fault,
    }
}

#[test]
fn a_plan_terminates_and_cancels_workflows_and_the_invariants_accept_it() {
    let plan = FaultPlan {
        events: vec![
            at(
                5_000,
                Fault::Terminate {
                    workflow_id: "wf-1".into(),
                    reason: "operator".into(),
                },
            ),
            at(
                6_000,
                Fault::Cancel {
                    workflow_id: "wf-2".into(),
                    reason: "no longer needed".into(),
                },
            ),
        ],
        heal_at_ms: 10_000,
    };
    let o = run(scenario(), &plan);
    assert_eq!(violations(&o), Vec::<String>::new());
    let h1 = last_run(&o, "wf-1");
    match &h1.events.last().unwrap().attributes {
        A::WorkflowExecutionTerminated(t) => {
            assert_eq!(
                (t.reason.as_str(), t.identity.as_str()),
                ("operator", "fault-plan")
            )
        }
        other => panic!("{other:?}"),
    }
    let h2 = last_run(&o, "wf-2");
    let types: Vec<EventType> = h2.events.iter().map(|e| e.event_type()).collect();
    assert!(types.contains(&EventType::WorkflowExecutionCancelRequested));
    assert_eq!(types.last(), Some(&EventType::WorkflowExecutionCanceled));
    // Both happened at their planned times, well before the workflows' 30 s.
    let took = |h: &History| {
        h.events.last().unwrap().event_time.as_nanos() - h.events[0].event_time.as_nanos()
    };
    assert!(took(h1) < 6_000_000_000 && took(h2) < 7_000_000_000);
    assert_eq!(o.applied_faults.len(), 2, "{:?}", o.applied_faults);
    assert_eq!(o.requested_closes.len(), 2);
}

#[test]
fn the_scenarios_own_termination_is_accepted_and_an_unasked_one_is_not() {
    let mut s = scenario();
    s.terminations.push(TerminateSpec {
        workflow_id: "wf-1".into(),
        reason: "scripted".into(),
        delay: Duration::from_secs(2),
    });
    let o = run(s, &FaultPlan::none());
    assert_eq!(violations(&o), Vec::<String>::new());
    assert_eq!(
        last_run(&o, "wf-1").events.last().unwrap().event_type(),
        EventType::WorkflowExecutionTerminated
    );
    assert_eq!(
        last_run(&o, "wf-2").events.last().unwrap().event_type(),
        EventType::WorkflowExecutionCompleted
    );
    // The same outcome, had nobody asked: expected-outcome names the wrong ending.
    let mut unasked = o.clone();
    unasked.requested_closes.clear();
    let v = violations(&unasked);
    assert_eq!(v.len(), 1, "{v:?}");
    assert!(
        v[0].contains("expected-outcome") && v[0].contains("wf-1 ended Terminated"),
        "{v:?}"
    );
}

#[test]
fn a_plan_naming_a_workflow_the_scenario_does_not_start_is_refused() {
    let plan = FaultPlan {
        events: vec![at(
            1_000,
            Fault::Terminate {
                workflow_id: "wf-9".into(),
                reason: "typo".into(),
            },
        )],
        heal_at_ms: 2_000,
    };
    let err = plan.validate(&scenario().topology()).unwrap_err();
    assert_eq!(
        err,
        "event 1 (at 1000ms: terminate workflow wf-9 (typo)): no workflow \"wf-9\" is started \
         by the scenario (its workflows: wf-1, wf-2)"
    );
}
