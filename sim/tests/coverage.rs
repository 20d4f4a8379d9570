//! Fault-space coverage attributes each fault to the protocol step it hit: a worker killed
//! right after its activity's effect is a crash in the window between the effect and the
//! acknowledged result; a partition of a worker loses the messages of that worker's links.
#![cfg(madsim)]

use std::sync::Arc;
use std::time::Duration;

use sim::coverage::{windows, CoverageReport, FaultKind, Step};
use sim::faults::{Fault, FaultEvent, FaultPlan, NodeRef, When};
use sim::{ActivityContext, ActivityError, ActivityOptions, Harness, Registry, Scenario};
use sim::{ServiceLogic, StartSpec, WorkflowContext, WorkflowError};

mod common;
use common::OncePerKey;

async fn pay(ctx: ActivityContext, amount: i64) -> Result<i64, ActivityError> {
    let body = serde_json::json!({ "amount": amount, "key": ctx.idempotency_key() });
    ctx.call_service("ledger", "pay", body).await?;
    Ok(amount)
}

async fn payment(ctx: WorkflowContext, amount: i64) -> Result<i64, WorkflowError> {
    let opts = ActivityOptions::start_to_close(Duration::from_secs(5));
    Ok(ctx.start_activity::<i64, _>("pay", &amount, opts).await?)
}

fn scenario() -> Scenario {
    let mut r = Registry::new();
    r.register_workflow("Payment", payment)
        .register_activity("pay", pay);
    let mut s = Scenario::new("coverage", r, "q");
    s.services = Arc::new(|| {
        vec![Arc::new(OncePerKey::new("ledger", "pay", "paid")) as Arc<dyn ServiceLogic>]
    });
    s.starts.push(StartSpec {
        workflow_id: "pay-1".into(),
        workflow_type: "Payment".into(),
        task_queue: "q".into(),
        input: Some(sim::history::Payloads::json(&5).unwrap()),
        delay: Duration::ZERO,
    });
    s
}

fn coverage_of(plan: FaultPlan) -> CoverageReport {
    let report = Harness::new(scenario())
        .plan(plan)
        .seeds(3..4)
        .coverage(true)
        .run()
        .expect("the sweep starts");
    assert!(report.ok(), "{}", report.render());
    report.coverage.expect("coverage asked for")
}

#[test]
fn a_kill_right_after_the_effect_hits_the_effect_to_acknowledgement_window() {
    let plan = FaultPlan {
        events: vec![FaultEvent {
            when: When::Effect {
                service: "ledger".into(),
                operation: "pay".into(),
                nth: 1,
            },
            fault: Fault::Kill {
                node: NodeRef::Caller,
                restart_after_ms: 500,
            },
        }],
        heal_at_ms: 2_000,
    };
    let c = coverage_of(plan);
    let crashes: Vec<Step> = c
        .pairs
        .keys()
        .filter(|(k, _)| *k == FaultKind::Crash)
        .map(|(_, s)| *s)
        .collect();
    assert_eq!(
        crashes,
        vec![windows::ACTIVITY_AFTER_CALL],
        "{}",
        c.render()
    );
    assert_eq!(
        c.pairs[&(FaultKind::Crash, windows::ACTIVITY_AFTER_CALL)].seeds,
        1
    );
}

#[test]
fn without_faults_steps_are_seen_and_nothing_is_hit() {
    let c = coverage_of(FaultPlan::none());
    assert!(c.pairs.is_empty(), "{}", c.render());
    assert!(c.steps.contains_key(&Step::Message("CompleteActivityTask")));
    assert!(c.steps.contains_key(&windows::WORKFLOW_TASK));
    assert!(c.steps.contains_key(&windows::ACTIVITY_AFTER_CALL));
    assert_eq!(c.unreached().len(), c.possible());
}

/// A scenario of three payments, two workers: room for crashes in different windows.
fn three_payments() -> Scenario {
    let mut s = scenario();
    s.workers = 2;
    for i in 2..=3 {
        s.starts.push(StartSpec {
            workflow_id: format!("pay-{i}"),
            workflow_type: "Payment".into(),
            task_queue: "q".into(),
            input: Some(sim::history::Payloads::json(&i).unwrap()),
            delay: Duration::from_millis(100 * i as u64),
        });
    }
    s
}

fn guided_sweep(jobs: usize) -> sim::Report {
    Harness::new(three_payments())
        .profile(sim::Profile::Swarm)
        .seeds(0..48)
        .jobs(jobs)
        .guided(true)
        .run()
        .expect("the sweep starts")
}

#[test]
fn a_guided_sweep_is_the_same_whatever_the_jobs_and_its_corpus_changes_later_plans() {
    let one = guided_sweep(1);
    let two = guided_sweep(2);
    assert!(one.ok(), "{}", one.render());
    assert_eq!(
        one.coverage, two.coverage,
        "plans depend on the seeds and the corpus only"
    );
    let guided = one.coverage.expect("guided sweeps record coverage");
    let plain = Harness::new(three_payments())
        .profile(sim::Profile::Swarm)
        .seeds(0..48)
        .coverage(true)
        .run()
        .expect("the sweep starts")
        .coverage
        .expect("asked for");
    // The first round (16 seeds) has the same plans; later rounds derive from the corpus.
    assert_ne!(guided, plain, "the corpus changed later plans");
}

/// A plan that drops the next message of `kind`, as a plan file would say it.
fn drop_next_of(kind: &str) -> FaultPlan {
    let json = format!(
        r#"{{"events": [{{"when": {{"on": "at", "ms": 0}},
             "fault": {{"kind": "drop_next", "target": {{"message": "{kind}"}}, "count": 1}}}}],
            "heal_at_ms": 20000}}"#
    );
    FaultPlan::from_json(&json).expect("the plan parses")
}

#[test]
fn a_fault_aimed_at_a_message_kind_hits_that_kind_only() {
    let c = coverage_of(drop_next_of("CompleteActivityTask"));
    let hit: Vec<_> = c.pairs.keys().copied().collect();
    assert_eq!(
        hit,
        vec![(FaultKind::Drop, Step::Message("CompleteActivityTask"))],
        "{}",
        c.render()
    );
}

#[test]
fn a_message_kind_no_message_has_is_refused() {
    let err = drop_next_of("CompleteActivtyTask")
        .validate(&scenario().topology())
        .expect_err("no message has that kind");
    assert!(
        err.contains("\"CompleteActivtyTask\" is not a message kind") && err.contains("event 1"),
        "{err}"
    );
}

#[test]
fn every_message_kind_seen_on_the_network_can_be_named_in_a_plan() {
    let report = Harness::new(three_payments())
        .profile(sim::Profile::Chaos)
        .seeds(0..32)
        .coverage(true)
        .run()
        .expect("the sweep starts");
    let c = report.coverage.expect("asked for");
    let kinds: Vec<&str> = c
        .steps
        .keys()
        .filter_map(|s| match s {
            Step::Message(k) => Some(*k),
            Step::Window { .. } => None,
        })
        .collect();
    assert!(kinds.len() > 10, "{kinds:?}");
    for k in kinds {
        assert!(sim::faults::MESSAGE_KINDS.contains(&k), "{k} is not listed");
    }
}

#[test]
fn a_guided_sweep_reaches_more_pairs_than_plain_seeds() {
    let reached = |guided: bool| {
        let r = Harness::new(three_payments())
            .profile(sim::Profile::Swarm)
            .seeds(0..64)
            .coverage(true)
            .guided(guided)
            .run()
            .expect("the sweep starts");
        assert!(r.ok(), "{}", r.render());
        r.coverage.expect("asked for").pairs.len()
    };
    let (plain, guided) = (reached(false), reached(true));
    eprintln!("pairs reached over 64 seeds: plain {plain}, guided {guided}");
    assert!(guided > plain, "guided {guided}, plain {plain}");
}
