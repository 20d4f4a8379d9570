//! A crate's own scenarios in the `sim` command: `run` (text, `--json`, `--out`, `--shard`,
//! `--max-failures`), `replay` of the histories it wrote, `list`, and the errors a user meets,
//! on a catalogue that knows nothing of durasim's built-in scenarios.
#![cfg(madsim)]

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sim::sdk::ActivityContext;
use sim::{
    ActivityError, ActivityOptions, Caller, Registry, Scenario, ServiceCtx, ServiceLogic,
    StartSpec, WorkflowContext, WorkflowError,
};
use sim_cli::{execute, Catalogue};

async fn checkout(ctx: WorkflowContext, order: String) -> Result<String, WorkflowError> {
    let opts = ActivityOptions::start_to_close(Duration::from_secs(5));
    Ok(ctx.start_activity("charge", &order, opts).await?)
}

async fn charge(ctx: ActivityContext, order: String) -> Result<String, ActivityError> {
    let body = serde_json::json!({ "order": order, "key": ctx.idempotency_key() });
    Ok(ctx
        .call_service("payments", "charge", body)
        .await?
        .to_string())
}

/// The bug a crash finds: a new key per attempt, so a retried charge is applied again.
async fn charge_per_attempt(ctx: ActivityContext, order: String) -> Result<String, ActivityError> {
    let key = format!("{}-{}", ctx.idempotency_key(), ctx.attempt());
    let body = serde_json::json!({ "order": order, "key": key });
    Ok(ctx
        .call_service("payments", "charge", body)
        .await?
        .to_string())
}

#[derive(Default)]
struct Payments {
    keys: Mutex<BTreeSet<String>>,
}

impl ServiceLogic for Payments {
    fn name(&self) -> &str {
        "payments"
    }
    fn effect_operations(&self) -> &[&str] {
        &["charge"]
    }
    fn handle(
        &self,
        ctx: &ServiceCtx<'_>,
        operation: &str,
        body: &serde_json::Value,
        caller: Option<&Caller>,
    ) -> Result<serde_json::Value, (String, String)> {
        let key = body["key"].as_str().unwrap_or_default().to_string();
        let applied = self.keys.lock().unwrap().insert(key.clone());
        ctx.ledger
            .record("payments", operation, &key, applied, caller, body.clone());
        Ok(serde_json::json!("charged"))
    }
    fn snapshot(&self) -> serde_json::Value {
        serde_json::json!(self.keys.lock().unwrap().len())
    }
}

fn registry(as_type: &str, buggy: bool) -> Registry {
    let mut r = Registry::new();
    r.register_workflow(as_type, checkout);
    if buggy {
        r.register_activity("charge", charge_per_attempt);
    } else {
        r.register_activity("charge", charge);
    }
    r
}

fn scenario(buggy: bool) -> Scenario {
    let mut s = Scenario::new("checkout", registry("Checkout", buggy), "orders");
    s.services = Arc::new(|| vec![Arc::new(Payments::default()) as Arc<dyn ServiceLogic>]);
    s.starts = (1..=3)
        .map(|i| StartSpec {
            workflow_id: format!("order-{i}"),
            workflow_type: "Checkout".into(),
            task_queue: "orders".into(),
            input: Some(sim::history::Payloads::json(&format!("order-{i}")).unwrap()),
            delay: Duration::ZERO,
        })
        .collect();
    s
}

fn catalogue() -> Catalogue {
    Catalogue::new()
        .scenario(
            "checkout",
            "three orders charged once",
            &["Checkout"],
            || scenario(false),
        )
        .scenario("checkout-buggy", "a key per attempt", &["Checkout"], || {
            scenario(true)
        })
        .workflow("Checkout", "the order workflow", "Checkout", |t| {
            registry(t, false)
        })
}

fn sim(args: &[&str]) -> sim_cli::CliOutput {
    let mut all = vec!["sim"];
    all.extend_from_slice(args);
    execute(all, &catalogue())
}

#[test]
fn a_users_scenarios_run_gate_and_replay_like_the_built_in_ones() {
    let listed = sim(&["list"]);
    assert_eq!(listed.code, 0);
    assert!(
        listed.stdout.contains("checkout-buggy") && listed.stdout.contains("Checkout"),
        "{}",
        listed.stdout
    );
    assert!(
        !listed.stdout.contains("money-transfer"),
        "{}",
        listed.stdout
    );

    let ok = sim(&["run", "checkout", "--seeds", "0..20", "--faults", "crash"]);
    assert_eq!(ok.code, 0, "{}{}", ok.stdout, ok.stderr);
    assert!(ok
        .stdout
        .starts_with("checkout: 20 seed(s) under crash, 0 failed"));

    // The JSON report of a shard, for CI.
    let shard = sim(&[
        "run", "checkout", "--seeds", "0..20", "--shard", "1/4", "--json",
    ]);
    assert_eq!(shard.code, 0, "{}", shard.stderr);
    let v: serde_json::Value = serde_json::from_str(&shard.stdout).unwrap();
    assert_eq!(v["seeds_run"], 5);
    assert_eq!(v["faults"], "chaos");

    // The buggy variant fails the gate; --max-failures stops early; --out keeps what replays.
    let out = std::env::temp_dir().join(format!("sim-cli-own-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let bad = sim(&[
        "run",
        "checkout-buggy",
        "--seeds",
        "0..400",
        "--faults",
        "crash",
        "--max-failures",
        "1",
        "--jobs",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(bad.code, 1, "{}{}", bad.stdout, bad.stderr);
    assert!(bad.stdout.contains("broke exactly-once"), "{}", bad.stdout);
    assert!(
        bad.stdout
            .contains("cargo run --release --bin sim -- run checkout-buggy --seed"),
        "{}",
        bad.stdout
    );
    let seeds_run = bad
        .stdout
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap();
    assert!(
        seeds_run < 400,
        "--max-failures 1 stops claiming seeds: {}",
        bad.stdout
    );
    let seed_dir = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("seed-")
        })
        .expect("a seed directory");
    let histories = seed_dir.join("histories");
    let replayed = sim(&[
        "replay",
        histories.to_str().unwrap(),
        "--workflow",
        "Checkout",
    ]);
    assert_eq!(replayed.code, 0, "{}{}", replayed.stdout, replayed.stderr);
    assert!(
        replayed.stdout.contains("3 replayed, 0 failed"),
        "{}",
        replayed.stdout
    );
    // The plan it wrote reproduces the failure, and the summary says which plan ran.
    let plan = seed_dir.join("minimal-plan.json");
    let seed = seed_dir.file_name().unwrap().to_string_lossy()["seed-".len()..].to_string();
    let again = sim(&[
        "run",
        "checkout-buggy",
        "--seed",
        &seed,
        "--plan",
        plan.to_str().unwrap(),
    ]);
    assert_eq!(again.code, 1, "{}", again.stdout);
    assert!(
        again.stdout.starts_with(&format!(
            "checkout-buggy: 1 seed(s) under plan {}, 1 failed",
            plan.display()
        )),
        "{}",
        again.stdout
    );
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn misspelt_names_get_a_suggestion_and_exit_2() {
    let o = sim(&["run", "chekout"]);
    assert_eq!(o.code, 2);
    assert_eq!(
        o.stderr,
        "error: unknown scenario \"chekout\"; did you mean \"checkout\"? (`sim list` shows them)\n"
    );
    let o = sim(&["run", "checkout", "--faults", "crahs"]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("did you mean \"crash\"?"), "{}", o.stderr);
    let o = sim(&["replay", ".", "--workflow", "checkout"]);
    assert_eq!(o.code, 2);
    assert!(
        o.stderr.contains("did you mean \"Checkout\"?"),
        "{}",
        o.stderr
    );
    let o = sim(&["run", "checkout", "--max-failures", "0"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    let help = sim(&["run", "--help"]);
    assert_eq!(help.code, 0);
    assert!(help.stdout.contains("[default: 0..100]"), "{}", help.stdout);
}
