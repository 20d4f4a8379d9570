//! A panic inside the simulation (here a service model's, as a planted engine bug's assertion
//! would be) fails that seed with `no-panic` and the panic's message; the sweep goes on, shrinks
//! it and reports it like any other failure instead of ending the process.
#![cfg(madsim)]

use std::sync::Arc;
use std::time::Duration;

use sim::{
    ActivityContext, ActivityError, ActivityOptions, Caller, Harness, Registry, Scenario,
    ServiceCtx, ServiceLogic, StartSpec, WorkflowContext, WorkflowError,
};

/// Panics on its second call: only seeds whose faults make the activity call twice hit it.
#[derive(Default)]
struct Fragile {
    calls: std::sync::Mutex<u32>,
}

impl ServiceLogic for Fragile {
    fn name(&self) -> &str {
        "fragile"
    }
    fn effect_operations(&self) -> &[&str] {
        &["poke"]
    }
    fn handle(
        &self,
        ctx: &ServiceCtx<'_>,
        operation: &str,
        body: &serde_json::Value,
        caller: Option<&Caller>,
    ) -> Result<serde_json::Value, (String, String)> {
        let mut calls = self.calls.lock().unwrap();
        *calls += 1;
        assert!(*calls < 2, "fragile service called twice");
        ctx.ledger
            .record("fragile", operation, "k", true, caller, body.clone());
        Ok(serde_json::json!("ok"))
    }
    fn snapshot(&self) -> serde_json::Value {
        serde_json::json!(*self.calls.lock().unwrap())
    }
}

async fn poke(ctx: ActivityContext, _: ()) -> Result<String, ActivityError> {
    Ok(ctx
        .call_service("fragile", "poke", serde_json::json!({}))
        .await?
        .to_string())
}

async fn poker(ctx: WorkflowContext, _: ()) -> Result<String, WorkflowError> {
    let opts = ActivityOptions::start_to_close(Duration::from_secs(2));
    Ok(ctx.start_activity::<String, _>("poke", &(), opts).await?)
}

#[test]
fn a_panic_in_the_simulation_fails_the_seed_and_the_sweep_goes_on() {
    let mut r = Registry::new();
    r.register_workflow("Poker", poker)
        .register_activity("poke", poke);
    let mut s = Scenario::new("fragile", r, "q");
    s.services = Arc::new(|| vec![Arc::new(Fragile::default()) as Arc<dyn ServiceLogic>]);
    s.starts.push(StartSpec {
        workflow_id: "p-1".into(),
        workflow_type: "Poker".into(),
        task_queue: "q".into(),
        input: Some(sim::history::Payloads::json(&()).unwrap()),
        delay: Duration::ZERO,
    });
    let report = Harness::new(s)
        .profile(sim::Profile::Crash)
        .seeds(0..60)
        .shrink_runs(40)
        .run()
        .expect("the sweep starts");
    assert_eq!(report.seeds_run, 60, "every seed ran: {}", report.render());
    let f = report
        .failures
        .iter()
        .find(|f| f.invariant == "no-panic")
        .unwrap_or_else(|| panic!("a seed calls the service twice: {}", report.render()));
    assert!(
        f.message.contains("fragile service called twice"),
        "{}",
        f.message
    );
    assert!(
        f.shrunk && !f.minimal_plan.is_empty(),
        "{}",
        report.render()
    );
}
