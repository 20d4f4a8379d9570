//! Simulation throughput (prints figures; not a timed test).
//!
//! `cargo bench --bench sim_throughput` (release) and
//! `cargo bench --bench sim_throughput --profile dev` (debug).
//!
//! 1. `money-transfer` under `chaos`: seeds per second on one core (generate plan, run, check
//!    every invariant), median of 5 batches.
//! 2. Cost growth: one simulation with 10, 100, 1,000 and 10,000 concurrent transfers; wall time
//!    per workflow, measured in 7 rounds that each run every size (so host speed changes hit all
//!    sizes alike), and the largest/smallest ratio within a round (median over rounds).
//! 3. The retried transfer (deposit fails 3 times) alone: wall time per run (median of 21), side
//!    by side with Temporal's time-skipping test server when it can be started
//!    (`benches/time_skipping.py`).
//! 4. The `greeting` scenario (a 30-day durable timer): wall time per run (median of 21).
//! 5. `official-transfer` (the same 10 transfers written with Temporal's official Rust SDK)
//!    against `money-transfer` (durasim's SDK), under chaos: seeds per second, batches
//!    alternating side by side, and the ratio within each pair (median of 5).
//! 6. Eager activity execution: `money-transfer` under chaos with it on (the default) and off
//!    (server and workers, every activity through the task queue as before it existed), batches
//!    alternating side by side, and the ratio within each pair (median of 5).
//! 7. Coverage-guided plans (`--guided`) against plain `swarm` plans: seeds to the first
//!    failure for each planted bug, from 8 starting seeds, side by side (`--only guided`).
//! 8. Idle virtual time: one workflow sleeping 30 days against the same workflow sleeping 30 s,
//!    runs alternating side by side: wall time per run (median of 41) and the ratio within each
//!    pair (median) (`--only idle`).

#[path = "../sim/benches/common/external.rs"]
mod external;

use std::sync::Arc;
use std::time::Instant;

use sim::checkers::Conservation;
use sim::faults::{FaultPlan, Profile};
use sim::run;
use sim::{Harness, Repro};

// The same allocator as the `sim` binary, so the figures are the CLI's.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Enough money in every account for every transfer to succeed; the trace hashed but its
/// entries not kept, as a sweep runs them.
fn big_bank(mut s: sim::Scenario) -> sim::Scenario {
    s.record_trace = false;
    s.services = Arc::new(|| {
        let accounts: Vec<(&str, i64)> = fixtures::scenarios::ACCOUNTS
            .iter()
            .map(|a| (*a, 1_000_000_000))
            .collect();
        vec![Arc::new(fixtures::services::Bank::new(&accounts)) as Arc<dyn sim::ServiceLogic>]
    });
    s
}

/// Seeds per second of two scenarios under chaos, in 5 pairs of `batch`-seed sweeps that
/// alternate (so host speed changes hit both alike): both rates and each pair's a/b ratio.
fn side_by_side(
    batch: u64,
    a: impl Fn() -> sim::Scenario,
    b: impl Fn() -> sim::Scenario,
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let sweep = |s: sim::Scenario, round: u64| {
        let start = Instant::now();
        let report = Harness::new(s)
            .profile(Profile::Chaos)
            .seeds(round * batch..(round + 1) * batch)
            .jobs(1)
            .invariant(Arc::new(Conservation::bank()))
            .run()
            .expect("the sweep starts");
        assert!(report.ok(), "{}", report.render());
        batch as f64 / start.elapsed().as_secs_f64()
    };
    let (mut ra, mut rb, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..5u64 {
        let x = sweep(a(), round);
        let y = sweep(b(), round);
        ra.push(x);
        rb.push(y);
        ratios.push(x / y);
    }
    (ra, rb, ratios)
}

fn listed(v: &[f64]) -> String {
    v.iter()
        .map(|r| format!("{r:.2}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    println!("durasim simulation benchmark ({profile} build, 1 thread)");
    let quick = std::env::args().any(|a| a == "--quick");
    // `--only-scale N`: one simulation of N concurrent transfers, nothing else (for profilers).
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--only-scale") {
        let n: usize = args.get(i + 1).and_then(|v| v.parse().ok()).unwrap_or(1000);
        // `--reps R`: R simulations in a row (so small sizes give a profiler enough samples).
        let reps: usize = args
            .iter()
            .position(|a| a == "--reps")
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(1);
        let s = Arc::new(big_bank(fixtures::scenarios::money_transfer_n(n)));
        let start = Instant::now();
        for rep in 0..reps {
            run(&s, rep as u64, &FaultPlan::none());
        }
        let t = start.elapsed().as_secs_f64() / reps as f64;
        println!(
            "{n} transfers: {t:.3} s, {:.1} us per workflow",
            t / n as f64 * 1e6
        );
        return;
    }

    // `--only seeds|growth|official|eager|guided|retried|idle|greeting`: one section.
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let wants = |section: &str| only.as_deref().is_none_or(|o| o == section);

    if wants("seeds") {
        // 1. Seeds per second under chaos: the same path as `sim run --jobs 1` (generate the plan,
        // run the seed on a fresh thread, check every invariant).
        let batch = if quick {
            20
        } else if cfg!(debug_assertions) {
            60
        } else {
            300
        };
        let mut rates = Vec::new();
        let mut failures = 0;
        for b in 0..5u64 {
            let start = Instant::now();
            let report = Harness::new(fixtures::scenarios::scenario("money-transfer").unwrap())
                .profile(Profile::Chaos)
                .seeds(b * batch..(b + 1) * batch)
                .jobs(1)
                .invariant(Arc::new(Conservation::bank()))
                .repro(Repro::Cli {
                    scenario: "money-transfer".into(),
                })
                .run()
                .expect("the sweep starts");
            failures += report.seeds_failed;
            rates.push(batch as f64 / start.elapsed().as_secs_f64());
        }
        println!(
        "money-transfer under chaos: median {:.0} seeds/s (batches of {batch}: {}), {failures} failing seeds",
        median(rates.clone()),
        rates.iter().map(|r| format!("{r:.0}")).collect::<Vec<_>>().join(", ")
    );
    }

    if wants("growth") {
        // 2. Cost growth with concurrency. The sizes are measured side by side, in rounds (each
        // round runs every size once), so a change in the host's speed during the benchmark (this
        // VM's host throttles sustained load) hits every size alike; the ratio is taken within
        // each round, and the figures are medians over rounds.
        let sizes: &[usize] = if quick {
            &[10, 100, 1000]
        } else {
            &[10, 100, 1000, 10_000]
        };
        let rounds = if quick { 3 } else { 7 };
        let scenarios: Vec<_> = sizes
            .iter()
            .map(|&n| Arc::new(big_bank(fixtures::scenarios::money_transfer_n(n))))
            .collect();
        // Per size: simulations per round, so each size runs for a comparable stretch of time.
        let sims_per_round = |n: usize| (2_000 / n).max(1);
        let mut per_wf: Vec<Vec<f64>> = vec![Vec::new(); sizes.len()];
        // The work per workflow, so a reader can see the simulated system does the same work at
        // every size: messages sent per workflow and virtual time of the whole run (last round).
        let mut work = vec![(0.0, 0.0); sizes.len()];
        let mut ratios = Vec::new();
        for round in 0..rounds {
            let mut this_round = Vec::new();
            for (i, &n) in sizes.iter().enumerate() {
                let sims = sims_per_round(n);
                let start = Instant::now();
                for k in 0..sims {
                    let o = run(&scenarios[i], (round * sims + k) as u64, &FaultPlan::none());
                    let closed = o.client.values().filter(|c| c.closed.is_some()).count();
                    assert_eq!(closed, n, "all {n} workflows closed");
                    work[i] = (o.messages_sent as f64 / n as f64, o.ended_at.as_secs_f64());
                }
                let t = start.elapsed().as_secs_f64() / (sims * n) as f64;
                per_wf[i].push(t);
                this_round.push(t);
            }
            let max = this_round.iter().cloned().fold(f64::MIN, f64::max);
            let min = this_round.iter().cloned().fold(f64::MAX, f64::min);
            ratios.push(max / min);
        }
        for (i, &n) in sizes.iter().enumerate() {
            let t = median(per_wf[i].clone());
            println!(
                "{n:>6} concurrent transfers: {:.1} us per workflow (median of {rounds} rounds; {} simulation(s) per round; {:.1} messages per workflow, {:.1} s virtual)",
                t * 1e6,
                sims_per_round(n),
                work[i].0,
                work[i].1,
            );
        }
        println!(
        "cost growth: per-workflow wall time largest/smallest = {:.2}x (median of per-round ratios: {})",
        median(ratios.clone()),
        ratios
            .iter()
            .map(|r| format!("{r:.2}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    }

    let side_batch = if quick {
        20
    } else if cfg!(debug_assertions) {
        60
    } else {
        300
    };
    if wants("official") {
        // 5. The official SDK's host against durasim's own SDK: the same workflow, the same
        // seeds and plans, the same bank.
        let (own, official, ratios) = side_by_side(
            side_batch,
            || fixtures::scenarios::scenario("money-transfer").unwrap(),
            || fixtures::scenarios::scenario("official-transfer").unwrap(),
        );
        println!(
            "official SDK: official-transfer median {:.0} seeds/s, money-transfer (durasim SDK) median {:.0} seeds/s; durasim/official = {:.2}x (median of per-pair ratios: {})",
            median(official),
            median(own),
            median(ratios.clone()),
            listed(&ratios)
        );
    }

    if wants("eager") {
        // 6. Eager activity execution on against off: the same seeds and plans.
        let (on, off, ratios) = side_by_side(
            side_batch,
            || fixtures::scenarios::scenario("money-transfer").unwrap(),
            || {
                let mut s = fixtures::scenarios::scenario("money-transfer").unwrap();
                s.engine.activity_eager_execution = false;
                s.max_eager_activities = 0;
                s
            },
        );
        println!(
            "eager activities: money-transfer under chaos median {:.0} seeds/s with eager execution, {:.0} without; on/off = {:.2}x (median of per-pair ratios: {})",
            median(on),
            median(off),
            median(ratios.clone()),
            listed(&ratios)
        );
    }

    if wants("guided") {
        // 7. Seeds to the first failure, plain swarm plans against guided ones.
        guided_against_plain(if quick { 2 } else { 8 });
    }

    if wants("retried") {
        // 3. The retried transfer alone, side by side with Temporal's time-skipping test server.
        retried_against_time_skipping();
    }

    if wants("idle") {
        // 8. Thirty idle days against thirty idle seconds.
        idle_month_against_half_minute();
    }

    if wants("greeting") {
        // 4. Thirty days of virtual time.
        let greeting = Arc::new(fixtures::scenarios::scenario("greeting").unwrap());
        let mut times = Vec::new();
        let mut virtual_days = 0.0;
        for seed in 0..21 {
            let start = Instant::now();
            let o = run(&greeting, seed, &FaultPlan::none());
            times.push(start.elapsed().as_secs_f64());
            virtual_days = o.ended_at.as_secs_f64() / 86_400.0;
        }
        println!(
        "greeting (30-day timer): median {:.2} ms of wall time for {virtual_days:.1} days of virtual time",
        median(times) * 1e3
    );
    }
}

/// The retried transfer (deposit fails 3 times): wall time per run here (median of 21) and on
/// Temporal's time-skipping test server (`benches/time_skipping.py`, median of 10 runs on one
/// worker), in 5 alternating rounds, and the median per-round ratio. The test server needs
/// `temporalio` in `$DURASIM_PYTHON` (default `python3`) and its executable (downloaded on first
/// use, or `TEMPORAL_TEST_SERVER`); without them only this side is measured, with a note.
fn retried_against_time_skipping() {
    let retried = Arc::new(fixtures::scenarios::scenario("transfer-retried").unwrap());
    let ours = || {
        let mut times = Vec::new();
        for seed in 0..21 {
            let start = Instant::now();
            let o = run(&retried, seed, &FaultPlan::none());
            times.push(start.elapsed().as_secs_f64());
            assert_eq!(o.histories.len(), 1);
        }
        median(times)
    };
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/time_skipping.py");
    let theirs = || -> Result<f64, String> {
        external::median_us(&[script.as_ref(), "10".as_ref()]).map(|us| us / 1e6)
    };
    let (mut a, mut b, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..5 {
        let x = ours();
        a.push(x);
        match theirs() {
            Ok(y) => {
                b.push(y);
                ratios.push(y / x);
            }
            Err(e) => {
                println!(
                    "transfer-retried alone: median {:.3} ms per run; Temporal's time-skipping test \
                     server not measured ({e}). To compare side by side: pip install temporalio \
                     (its test server downloads on first use, or set TEMPORAL_TEST_SERVER to the \
                     executable), then DURASIM_PYTHON=/path/to/python cargo bench --bench \
                     sim_throughput -- --only retried",
                    median(a) * 1e3
                );
                return;
            }
        }
    }
    println!(
        "transfer-retried alone: median {:.3} ms per run; Temporal's time-skipping test server \
         {:.2} ms per run; ratio {:.0}x (median of 5 alternating rounds: {})",
        median(a) * 1e3,
        median(b) * 1e3,
        median(ratios.clone()),
        listed(&ratios)
    );
}

/// Sleeps `secs` seconds of virtual time in one durable timer, then answers.
async fn nap(ctx: sim::WorkflowContext, secs: u64) -> Result<u64, sim::WorkflowError> {
    let _fired = ctx.timer(std::time::Duration::from_secs(secs)).await;
    Ok(secs)
}

/// One `Nap` workflow of `secs` seconds on one worker, no services, the trace hashed only.
fn nap_scenario(secs: u64) -> Arc<sim::Scenario> {
    let mut registry = sim::Registry::new();
    registry.register_workflow("Nap", nap);
    let mut s = sim::Scenario::new("nap", registry, "naps");
    s.record_trace = false;
    s.starts = vec![sim::StartSpec {
        workflow_id: "nap".into(),
        workflow_type: "Nap".into(),
        task_queue: "naps".into(),
        input: Some(sim::history::Payloads::json(&secs).expect("a number serialises")),
        delay: std::time::Duration::ZERO,
    }];
    s.liveness_deadline = std::time::Duration::from_secs(secs + 3600);
    Arc::new(s)
}

/// Wall time per run of a 30-day nap and a 30-second nap, alternating; prints both medians
/// and the median of the per-pair ratios.
fn idle_month_against_half_minute() {
    let month = nap_scenario(30 * 24 * 3600);
    let half_minute = nap_scenario(30);
    let timed = |s: &Arc<sim::Scenario>, seed: u64| {
        let start = Instant::now();
        let o = run(s, seed, &FaultPlan::none());
        let t = start.elapsed().as_secs_f64();
        assert_eq!(o.histories.len(), 1);
        (t, o.messages_sent)
    };
    let (mut a, mut b, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    let (mut sent_a, mut sent_b) = (0, 0);
    for seed in 0..41 {
        let (x, sa) = timed(&month, seed);
        let (y, sb) = timed(&half_minute, seed);
        (sent_a, sent_b) = (sa, sb);
        a.push(x);
        b.push(y);
        ratios.push(x / y);
    }
    println!(
        "idle: 30-day nap median {:.3} ms per run ({sent_a} messages), 30-second nap {:.3} ms \
         ({sent_b} messages); month/half-minute ratio {:.2}x (median of 41 pairs)",
        median(a) * 1e3,
        median(b) * 1e3,
        median(ratios)
    );
}

/// The planted bugs the guided search is measured on: built-in buggy scenarios and engine
/// defects switched on in correct ones.
fn planted_bugs() -> Vec<(&'static str, sim::Scenario)> {
    let named = |n: &str| fixtures::scenarios::scenario(n).unwrap();
    let with_defect = |n: &str, plant: fn(&mut sim::Defects)| {
        let mut s = named(n);
        plant(&mut s.engine.defects);
        s
    };
    vec![
        ("money-transfer-buggy", named("money-transfer-buggy")),
        ("official-transfer-buggy", named("official-transfer-buggy")),
        ("money-transfer-clock", named("money-transfer-clock")),
        (
            "stale activity completion accepted",
            with_defect("money-transfer", |d| {
                d.accept_stale_activity_completion = true
            }),
        ),
        (
            "reply before sync",
            with_defect("money-transfer", |d| d.reply_before_sync = true),
        ),
        (
            "accepted updates readmitted",
            with_defect("household", |d| d.readmit_accepted_updates = true),
        ),
    ]
}

/// Seeds until the first failure (capped at `cap`), from `start`.
fn seeds_to_failure(s: &sim::Scenario, start: u64, cap: u64, guided: bool) -> u64 {
    let report = Harness::new(s.clone())
        .profile(Profile::Swarm)
        .seeds(start..start + cap)
        .jobs(1)
        .stop_after(1)
        .shrink_limit(0)
        .guided(guided)
        .run()
        .expect("the sweep starts");
    report.failures.first().map_or(cap, |f| f.seed - start + 1)
}

fn guided_against_plain(starts: u64) {
    const CAP: u64 = 2000;
    println!("coverage-guided plans against plain swarm plans: seeds to the first failure (cap {CAP}), from {starts} starting seeds");
    let (mut all_plain, mut all_guided) = (Vec::new(), Vec::new());
    for (name, s) in planted_bugs() {
        let (mut plain, mut guided) = (Vec::new(), Vec::new());
        for k in 0..starts {
            let start = 100_000 * (k + 1);
            plain.push(seeds_to_failure(&s, start, CAP, false) as f64);
            guided.push(seeds_to_failure(&s, start, CAP, true) as f64);
        }
        println!(
            "  {name}: plain median {:.0} seeds ({}), guided median {:.0} ({})",
            median(plain.clone()),
            listed0(&plain),
            median(guided.clone()),
            listed0(&guided)
        );
        all_plain.extend(plain);
        all_guided.extend(guided);
    }
    println!(
        "  all bugs: plain median {:.0} seeds, guided median {:.0}; mean {:.1} against {:.1}",
        median(all_plain.clone()),
        median(all_guided.clone()),
        all_plain.iter().sum::<f64>() / all_plain.len() as f64,
        all_guided.iter().sum::<f64>() / all_guided.len() as f64
    );
}

fn listed0(v: &[f64]) -> String {
    v.iter()
        .map(|r| format!("{r:.0}"))
        .collect::<Vec<_>>()
        .join(", ")
}
