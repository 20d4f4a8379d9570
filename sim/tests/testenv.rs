//! `TestEnv`: a script drives workflows inside the simulation (start, signal, cancel,
//! terminate, skip time, typed results, histories, inline activities), with and without faults.
#![cfg(madsim)]

use std::sync::Arc;
use std::time::Duration;

use sim::faults::{Fault, FaultEvent, FaultPlan, NodeRef, When};
use sim::history::EventType;
use sim::sdk::{select2, Either};
use sim::{
    ActivityContext, ActivityError, ActivityOptions, Registry, ServiceLogic, TestClientError,
    TestEnv, WorkflowContext, WorkflowError, WorkflowStatus,
};

mod common;
use common::OncePerKey;

const HOUR: Duration = Duration::from_secs(3600);

/// Waits up to a day for `approve` (the approver's name) and pays; `reject` or the deadline
/// fail the workflow.
async fn approval(ctx: WorkflowContext, amount: i64) -> Result<String, WorkflowError> {
    let approve = ctx.signal_channel::<String>("approve");
    let mut deadline = ctx.timer(24 * HOUR);
    match select2(approve.recv(), &mut deadline).await {
        Either::Left(by) => {
            let opts = ActivityOptions::start_to_close(Duration::from_secs(10));
            let receipt: String = ctx.start_activity("pay", &amount, opts).await?;
            Ok(format!("{receipt} approved by {}", by?))
        }
        Either::Right(_) => Err(WorkflowError::application(
            "NoDecision",
            "no approval within a day",
        )),
    }
}

async fn pay(ctx: ActivityContext, amount: i64) -> Result<String, ActivityError> {
    let body = serde_json::json!({ "amount": amount, "key": ctx.idempotency_key() });
    let v = ctx.call_service("payments", "pay", body).await?;
    Ok(v.as_str().unwrap_or_default().to_string())
}

fn env() -> TestEnv {
    let mut registry = Registry::new();
    registry
        .register_workflow("Approval", approval)
        .register_activity("pay", pay);
    TestEnv::new(registry).services(|| {
        vec![Arc::new(OncePerKey::new("payments", "pay", "paid")) as Arc<dyn ServiceLogic>]
    })
}

#[test]
fn a_signal_after_skipped_time_gives_the_typed_result_and_the_history() {
    let run = env().run(|client| async move {
        let h = client.start("Approval", "exp-1", &250).await.unwrap();
        client.sleep(3 * HOUR).await; // virtual: nothing real waits
        h.signal("approve", "grace").await.unwrap();
        let r: String = h.result().await.unwrap();
        let history = h.history().await.unwrap();
        (r, client.elapsed(), history)
    });
    assert!(run.violations.is_empty(), "{:?}", run.violations);
    let recorded = run.history("exp-1").unwrap().clone();
    let (result, elapsed, history) = run.value();
    assert_eq!(result, "paid 250 approved by grace");
    assert!(elapsed >= 3 * HOUR && elapsed < 4 * HOUR, "{elapsed:?}");
    let types: Vec<EventType> = history.events.iter().map(|e| e.event_type()).collect();
    assert!(
        types.contains(&EventType::WorkflowExecutionSignaled),
        "{types:?}"
    );
    assert_eq!(types.last(), Some(&EventType::WorkflowExecutionCompleted));
    assert_eq!(history.events.len(), recorded.events.len());
}

#[test]
fn the_deadline_timer_fires_in_virtual_time_and_the_failure_comes_back() {
    let run = env().run(|client| async move {
        let h = client.start("Approval", "exp-2", &10).await.unwrap();
        (h.result::<String>().await, client.elapsed())
    });
    let (result, elapsed) = run.value();
    match result {
        Err(TestClientError::Closed {
            status: WorkflowStatus::Failed,
            failure: Some(f),
        }) => assert_eq!(f.message, "no approval within a day"),
        other => panic!("{other:?}"),
    }
    assert!(elapsed >= 24 * HOUR, "{elapsed:?}");
}

#[test]
fn cancel_and_terminate_close_the_run_as_temporal_does() {
    let run = env().run(|client| async move {
        let a = client.start("Approval", "exp-3", &1).await.unwrap();
        let b = client.start("Approval", "exp-4", &1).await.unwrap();
        client.sleep(Duration::from_secs(60)).await;
        a.terminate("test over").await.unwrap();
        b.cancel("no longer needed").await.unwrap();
        (a.result::<String>().await, b.history().await.unwrap())
    });
    let (terminated, b_history) = run.value();
    assert!(
        matches!(
            terminated,
            Err(TestClientError::Closed {
                status: WorkflowStatus::Terminated,
                ..
            })
        ),
        "{terminated:?}"
    );
    assert!(b_history
        .events
        .iter()
        .any(|e| e.event_type() == EventType::WorkflowExecutionCancelRequested));
}

#[test]
fn an_inline_activity_replaces_the_registered_one() {
    let run = env()
        .activity("pay", |_ctx: ActivityContext, amount: i64| async move {
            Ok::<_, ActivityError>(format!("mock-paid {amount}"))
        })
        .run(|client| async move {
            let h = client.start("Approval", "exp-5", &7).await.unwrap();
            h.signal("approve", "ada").await.unwrap();
            h.result::<String>().await.unwrap()
        });
    assert!(run.outcome.effects.is_empty(), "the mock calls no service");
    assert_eq!(run.value(), "mock-paid 7 approved by ada");
}

#[test]
fn under_a_fault_plan_the_script_still_sees_one_payment() {
    // Kill the worker right after the payment applies: the retried activity is deduplicated.
    let plan = FaultPlan {
        events: vec![FaultEvent {
            when: When::Effect {
                service: "payments".into(),
                operation: "pay".into(),
                nth: 1,
            },
            fault: Fault::Kill {
                node: NodeRef::Caller,
                restart_after_ms: 2000,
            },
        }],
        heal_at_ms: 30_000,
    };
    let run = env().seed(3).plan(plan).run(|client| async move {
        let h = client.start("Approval", "exp-6", &99).await.unwrap();
        h.signal("approve", "lin").await.unwrap();
        h.result::<String>().await.unwrap()
    });
    assert!(
        !run.outcome.applied_faults.is_empty(),
        "the kill happened: {:?}",
        run.outcome.applied_faults
    );
    let applied = run.outcome.effects.iter().filter(|e| e.applied).count();
    assert_eq!(applied, 1, "{:?}", run.outcome.effects);
    assert_eq!(run.value(), "paid 99 approved by lin");
}

#[test]
fn a_script_that_waits_forever_is_cut_off_and_says_what_is_open() {
    let run = env()
        .deadline(Duration::from_secs(2 * 24 * 3600))
        .run(|client| async move {
            let h = client.handle("never-started");
            let _ = client.start("Approval", "exp-7", &1).await;
            // Waits on a workflow that does not exist, forever.
            loop {
                if h.result::<String>().await.is_ok() {
                    break;
                }
                client.sleep(HOUR).await;
            }
        });
    assert!(run.try_value().is_none());
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run.value())).unwrap_err();
    let text = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        text.contains("did not finish within 172800s of virtual time"),
        "{text}"
    );
}

#[test]
fn the_same_seed_gives_the_same_run() {
    let script = |client: sim::TestClient| async move {
        let h = client.start("Approval", "exp-8", &5).await.unwrap();
        h.signal("approve", "kim").await.unwrap();
        h.result::<String>().await.unwrap()
    };
    let a = env().seed(11).run(script);
    let b = env().seed(11).run(script);
    assert_eq!(a.outcome.trace_hash, b.outcome.trace_hash);
}

/// Traces read in run time, and message lines say which workflow, activity and attempt they
/// carry; the details are kept only with the entries and leave the trace's hash alone.
#[test]
fn trace_lines_name_workflow_activity_and_attempt_without_changing_the_hash() {
    let mut registry = Registry::new();
    registry
        .register_workflow("Approval", approval)
        .register_activity("pay", pay);
    let mut sc = sim::Scenario::new("trace", registry, "q");
    sc.services = Arc::new(|| {
        vec![Arc::new(OncePerKey::new("payments", "pay", "paid")) as Arc<dyn ServiceLogic>]
    });
    sc.starts.push(sim::StartSpec {
        workflow_id: "exp-9".into(),
        workflow_type: "Approval".into(),
        task_queue: "q".into(),
        input: Some(sim::history::Payloads::json(&3).unwrap()),
        delay: Duration::ZERO,
    });
    sc.signals.push(sim::SignalSpec {
        workflow_id: "exp-9".into(),
        signal_name: "approve".into(),
        input: Some(sim::history::Payloads::json("bo").unwrap()),
        delay: Duration::from_secs(1),
        with_start: false,
    });
    sc.record_trace = true;
    let kept = sim::run(&Arc::new(sc.clone()), 4, &FaultPlan::none());
    sc.record_trace = false;
    let hashed = sim::run(&Arc::new(sc.clone()), 4, &FaultPlan::none());
    assert_eq!(kept.trace_hash, hashed.trace_hash);
    let text = kept.trace_text();
    assert!(text.starts_with("     0.00"), "{}", &text[..200]);
    assert!(
        text.contains("WorkflowTaskCompleted #")
            && text.contains("(eager activities 1)")
            && text.contains("ServiceCall #")
            && text.contains("(pay from exp-9 activity 1 (pay) attempt 1)")
            && text.contains("Signal #")
            && text.contains("(exp-9 signal approve)"),
        "{text}"
    );
    // Without eager execution the attempt comes through the queue: its task names it.
    sc.record_trace = true;
    sc.max_eager_activities = 0;
    let queued = sim::run(&Arc::new(sc), 4, &FaultPlan::none()).trace_text();
    assert!(
        queued.contains("ActivityTask #") && queued.contains("(exp-9 activity 1 (pay) attempt 1)"),
        "{queued}"
    );
}
