//! The harness as users run it from `cargo test`: the correct fixtures hold under faults, and
//! every planted bug is caught, shrunk and reproducible.
#![cfg(madsim)]

use std::sync::Arc;

use sim::checkers::Conservation;
use sim::faults::Profile;
use sim::{Harness, Report};

fn scenario(name: &str) -> sim::Scenario {
    fixtures::scenarios::scenario(name).expect("built-in scenario")
}

fn jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn first_failure(report: &Report) -> &sim::SeedFailure {
    report
        .failures
        .first()
        .unwrap_or_else(|| panic!("expected a failure\n{}", report.render()))
}

/// The correct money transfer holds every invariant over many chaos seeds.
#[test]
fn money_transfer_holds_under_chaos() {
    let seeds = if cfg!(debug_assertions) {
        0..2000
    } else {
        0..5000
    };
    Harness::new(scenario("money-transfer"))
        .profile(Profile::Chaos)
        .seeds(seeds)
        .jobs(jobs())
        .invariant(Arc::new(Conservation::bank()))
        .assert_ok();
}

#[test]
fn money_transfer_holds_under_swarm_with_cache_eviction_before_every_task() {
    let mut s = scenario("money-transfer");
    s.evict_every_task = true;
    Harness::new(s)
        .profile(Profile::Swarm)
        .seeds(0..200)
        .jobs(jobs())
        .invariant(Arc::new(Conservation::bank()))
        .assert_ok();
}

#[test]
fn other_scenarios_hold_under_chaos() {
    for name in [
        "transfer-retried",
        "transfer-failed",
        "expense-report",
        "greeting",
    ] {
        let mut h = Harness::new(scenario(name))
            .profile(Profile::Chaos)
            .seeds(0..60)
            .jobs(jobs());
        if fixtures::scenarios::entry(name).unwrap().conserves_money {
            h = h.invariant(Arc::new(Conservation::bank()));
        }
        h.assert_ok();
    }
}

/// Planted bug 1: a deposit that ignores the idempotency key is applied twice after a crash.
#[test]
fn non_idempotent_deposit_is_caught_as_exactly_once_and_shrunk() {
    let report = Harness::new(scenario("money-transfer-buggy"))
        .profile(Profile::Crash)
        .seeds(0..300)
        .jobs(jobs())
        .stop_after(1)
        .run()
        .expect("the sweep starts");
    let f = first_failure(&report);
    assert_eq!(f.invariant, "exactly-once", "{}", report.render());
    assert!(
        f.message.contains("applied bank.deposit 2 times"),
        "{}",
        f.message
    );
    assert!(f.minimal_plan.len() <= 3, "{}", report.render());
    assert!(f.deterministic, "the failing seed must reproduce");
    assert!(
        f.repro.contains(&format!("SIM_SEED={}", f.seed)),
        "{}",
        f.repro
    );
}

/// Planted bug 2: a workflow that reads the wall clock to choose a branch fails replay.
#[test]
fn clock_reading_workflow_is_caught_as_replay_non_determinism() {
    let report = Harness::new(scenario("money-transfer-clock"))
        .profile(Profile::None)
        .seeds(0..20)
        .jobs(jobs())
        .stop_after(1)
        .run()
        .expect("the sweep starts");
    let f = first_failure(&report);
    assert_eq!(f.invariant, "replay", "{}", report.render());
    assert!(f.message.contains("nondeterminism"), "{}", f.message);
}

/// Sweeps `name` under `profile` with a planted engine defect: the first failing seed breaks
/// one of `caught_by`; the correct engine holds on the same seeds.
fn planted_engine_defect_is_caught(
    name: &str,
    plant: impl FnOnce(&mut sim::Defects),
    profile: Profile,
    caught_by: &[&str],
) {
    let mut s = scenario(name);
    plant(&mut s.engine.defects);
    let report = Harness::new(s)
        .profile(profile)
        .seeds(0..300)
        .jobs(jobs())
        .stop_after(1)
        .run()
        .expect("the sweep starts");
    let f = first_failure(&report);
    assert!(
        caught_by.contains(&f.invariant.as_str()),
        "{}",
        report.render()
    );
    Harness::new(scenario(name))
        .profile(profile)
        .seeds(0..300)
        .jobs(jobs())
        .assert_ok();
}

/// Planted bug 3: an engine that accepts stale activity completions.
#[test]
fn engine_accepting_stale_completions_is_caught() {
    planted_engine_defect_is_caught(
        "money-transfer",
        |d| d.accept_stale_activity_completion = true,
        Profile::Chaos,
        &["history-well-formed", "exactly-once", "replay"],
    );
}

/// Planted bug 4: a server that replies before its write is synced loses acknowledged events
/// when it crashes, and may hand a task out again whose start it lost while the first worker
/// still has it (`dispatch` sees that one, often in an earlier seed). `durability` alone
/// catches it too.
#[test]
fn engine_replying_before_sync_is_caught_as_durability() {
    let planted = || {
        let mut s = scenario("money-transfer");
        s.engine.defects.reply_before_sync = true;
        Harness::new(s)
            .profile(Profile::Crash)
            .seeds(0..300)
            .jobs(jobs())
            .stop_after(1)
    };
    let report = planted().run().expect("the sweep starts");
    let f = first_failure(&report);
    assert!(
        ["durability", "dispatch"].contains(&f.invariant.as_str()),
        "{}",
        report.render()
    );
    let report = planted()
        .invariants(vec![Arc::new(sim::checkers::Durability)])
        .run()
        .expect("the sweep starts");
    assert_eq!(
        first_failure(&report).invariant,
        "durability",
        "{}",
        report.render()
    );
}

/// Planted bug 5: a server that forgets an accepted update and admits a retried request with
/// its id again runs the update twice; the client's record of what it was told (one accepted
/// update) shows it.
#[test]
fn engine_running_a_retried_update_twice_is_caught() {
    planted_engine_defect_is_caught(
        "household",
        |d| d.readmit_accepted_updates = true,
        Profile::Chaos,
        &["durability", "expected-outcome", "liveness"],
    );
}

/// `SIM_SEED` re-runs exactly one seed (as the repro line says).
#[test]
fn seed_list_honours_shards() {
    let h = Harness::new(scenario("money-transfer"))
        .seeds(0..10)
        .shard(1, 3);
    if std::env::var("SIM_SEED").is_err() && std::env::var("MADSIM_TEST_SEED").is_err() {
        assert_eq!(h.seed_list(100), Ok(vec![1, 4, 7]));
    }
}

/// Check mode: every seed is run twice and must give the same trace hash (the simulation
/// itself is deterministic under every fault kind).
#[test]
fn every_seed_runs_the_same_twice_under_swarm() {
    Harness::new(scenario("money-transfer"))
        .profile(Profile::Swarm)
        .seeds(0..100)
        .jobs(jobs())
        .check_determinism(true)
        .assert_ok();
}

/// Past the shrink limit a failing seed keeps its whole plan, and the report says it was not
/// shrunk instead of calling that plan minimal.
#[test]
fn failing_seeds_past_the_shrink_limit_are_reported_as_not_shrunk() {
    let report = Harness::new(scenario("money-transfer-buggy"))
        .profile(Profile::Crash)
        .seeds(0..40)
        .jobs(jobs())
        .shrink_limit(1)
        .run()
        .expect("the sweep starts");
    assert!(report.failures.len() >= 2, "{}", report.render());
    let (first, rest) = report.failures.split_first().unwrap();
    assert!(first.shrunk && first.shrink_runs > 0);
    assert!(first.minimal_plan.len() <= 3, "{}", report.render());
    for f in rest {
        assert!(!f.shrunk);
        assert_eq!(f.minimal_plan, f.plan);
    }
    let text = report.render();
    assert_eq!(text.matches("minimal fault plan").count(), 1, "{text}");
    assert_eq!(text.matches("not shrunk").count(), rest.len(), "{text}");
    let json = report.to_json();
    let shrunk: Vec<bool> = json["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["shrunk"].as_bool().unwrap())
        .collect();
    assert!(shrunk[0]);
    assert!(shrunk[1..].iter().all(|s| !s));
}

/// A workflow cancelled by its client cancels an activity no worker has started (the server
/// cancels it at once, between the task's command events) and schedules a cleanup in the same
/// task: replay (every task, `evict_every_task`) must accept the ActivityTaskCanceled written
/// among that task's command events.
#[test]
fn cancelling_an_unstarted_activity_and_scheduling_another_in_one_task_replays() {
    use sim::sdk::{
        ActivityContext, ActivityError, ActivityOptions, Registry, WorkflowContext, WorkflowError,
    };
    use std::time::Duration;

    async fn wf(ctx: WorkflowContext, _: ()) -> Result<String, WorkflowError> {
        let opts = ActivityOptions::start_to_close(Duration::from_secs(5));
        // No worker polls this queue: the activity is never started.
        let stuck =
            ctx.start_activity::<String, _>("slow", &0, opts.clone().with_task_queue("nowhere"));
        ctx.cancelled().await;
        stuck.cancel();
        let cleanup: String = ctx.start_activity("cleanup", &0, opts).await?;
        Ok(cleanup)
    }
    async fn cleanup(_ctx: ActivityContext, _: u32) -> Result<String, ActivityError> {
        Ok("cleaned".into())
    }
    let mut registry = Registry::new();
    registry
        .register_workflow("W", wf)
        .register_activity("cleanup", cleanup);
    let mut s = sim::Scenario::new("cancel-unstarted", registry, "q");
    s.evict_every_task = true;
    s.starts = vec![sim::StartSpec {
        workflow_id: "w".into(),
        workflow_type: "W".into(),
        task_queue: "q".into(),
        input: Some(sim::history::Payloads::json(&()).unwrap()),
        delay: Duration::ZERO,
    }];
    s.cancels = vec![sim::CancelSpec {
        workflow_id: "w".into(),
        reason: "done".into(),
        delay: Duration::from_secs(1),
    }];
    Harness::new(s)
        .profile(Profile::Chaos)
        .seeds(0..40)
        .jobs(jobs())
        .assert_ok();
}

/// An activity that learns of its cancellation through a heartbeat and stops ends Canceled in
/// history (ActivityTaskCanceled), not Failed.
#[test]
fn an_activity_cancelled_through_its_heartbeat_ends_canceled() {
    use sim::history::EventType;
    use sim::sdk::{
        ActivityContext, ActivityError, ActivityOptions, Registry, WorkflowContext, WorkflowError,
    };
    use std::time::Duration;

    async fn wf(ctx: WorkflowContext, _: ()) -> Result<String, WorkflowError> {
        let mut opts = ActivityOptions::start_to_close(Duration::from_secs(60));
        opts.heartbeat_timeout = Some(Duration::from_secs(5));
        let act = ctx.start_activity::<String, _>("beating", &0, opts);
        ctx.timer(Duration::from_secs(1)).await;
        act.cancel();
        let _ = act.await;
        ctx.timer(Duration::from_secs(10)).await;
        Ok("done".into())
    }
    async fn beating(ctx: ActivityContext, _: u32) -> Result<String, ActivityError> {
        loop {
            ctx.heartbeat(&1).await?;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    let mut registry = Registry::new();
    registry
        .register_workflow("W", wf)
        .register_activity("beating", beating);
    let mut s = sim::Scenario::new("heartbeat-cancel", registry, "q");
    s.starts = vec![sim::StartSpec {
        workflow_id: "w".into(),
        workflow_type: "W".into(),
        task_queue: "q".into(),
        input: Some(sim::history::Payloads::json(&()).unwrap()),
        delay: Duration::ZERO,
    }];
    let out = sim::run(&Arc::new(s), 1, &sim::FaultPlan::default());
    let types: Vec<EventType> = out
        .histories
        .values()
        .next()
        .unwrap()
        .events
        .iter()
        .map(|e| e.event_type())
        .collect();
    assert!(
        types.contains(&EventType::ActivityTaskCanceled),
        "{types:?}"
    );
    assert!(!types.contains(&EventType::ActivityTaskFailed), "{types:?}");
}

/// A seed's run is the same on a fresh seed runner, on one that has run other seeds before, and
/// on a sweep's own thread (which runs seeds without a runner)
/// (runners are reused across runs; std `HashMap` keys differ from run to run on one thread, so
/// a run that iterated one would trace differently here). The official SDK's host is included:
/// its crates keep `HashMap`s.
#[test]
fn a_seed_traces_the_same_on_a_fresh_runner_a_used_one_and_a_sweep_thread() {
    for name in ["household", "official-transfer", "official-child-workflows"] {
        let sc = Arc::new(scenario(name));
        let plan = sim::faults::generate(Profile::Swarm, 7, &sc.topology());
        let sc2 = sc.clone();
        let plan2 = plan.clone();
        // A new thread: its first run is on a fresh runner.
        let fresh = std::thread::spawn(move || sim::run(&sc2, 7, &plan2).trace_hash)
            .join()
            .expect("the run finishes");
        for seed in 0..5 {
            let _ = sim::run(&sc, seed, &sim::FaultPlan::none());
        }
        let used = sim::run(&sc, 7, &plan).trace_hash;
        assert_eq!(
            fresh, used,
            "{name}: seed 7 traced differently on a used runner"
        );
        // A sweep runs its seeds on its own threads, without a runner: the same trace.
        let swept = Harness::new(scenario(name))
            .profile(Profile::Swarm)
            .seeds(7..8)
            .jobs(1)
            .run()
            .expect("the sweep starts")
            .trace_hash;
        assert_eq!(
            swept,
            Some(fresh),
            "{name}: seed 7 traced differently in a sweep's own thread"
        );
    }
}

/// The sweep counts effect calls from the services' ledgers: every transfer's withdrawal and
/// deposit applied once per seed, and the duplicates the bank recognised (retried calls after
/// lost replies) reported even though exactly-once holds.
#[test]
fn a_sweep_reports_effect_calls_and_the_duplicates_services_recognised() {
    let calm = Harness::new(scenario("money-transfer"))
        .profile(Profile::None)
        .seeds(0..5)
        .jobs(jobs())
        .assert_ok();
    assert_eq!(
        calm.effect_calls,
        sim::EffectCalls {
            applied: 5 * 20,
            duplicates: 0,
            seeds_with_duplicates: 0
        }
    );
    assert!(!calm.render().contains("effect calls"), "{}", calm.render());
    let stormy = Harness::new(scenario("money-transfer"))
        .profile(Profile::Network)
        .seeds(0..60)
        .jobs(jobs())
        .assert_ok();
    let c = stormy.effect_calls;
    assert_eq!(c.applied, 60 * 20, "{c:?}");
    assert!(c.duplicates > 0 && c.seeds_with_duplicates > 0, "{c:?}");
    assert!(
        stormy.render().contains(&format!(
            "effect calls: 1200 applied, {} recognised as duplicates by the services (in {} seed(s))",
            c.duplicates, c.seeds_with_duplicates
        )),
        "{}",
        stormy.render()
    );
    assert_eq!(stormy.to_json()["effect_calls"]["duplicates"], c.duplicates);
}
