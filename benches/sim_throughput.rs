//! Simulation throughput (prints figures; not a timed test).
//!
//! `cargo bench --bench sim_throughput` (release) and
//! `cargo bench --bench sim_throughput --profile dev` (debug).
//!
//! 1. `money-transfer` under `chaos`: seeds per second on one core (generate plan, run, check
//!    every invariant), median of 5 batches.
//! 2. Cost growth: one simulation with 10, 100, 1,000 and 10,000 concurrent transfers; wall time
//!    per workflow (median of 21, 21, 5 and 3 simulations), and the largest/smallest ratio.
//! 3. The retried transfer (deposit fails 3 times) alone: wall time per run (median of 21), to
//!    compare with Temporal's time-skipping test server (~18 ms per run here).
//! 4. The `greeting` scenario (a 30-day durable timer): wall time per run (median of 21).

use std::sync::Arc;
use std::time::Instant;

use sim::checkers::Conservation;
use sim::faults::{FaultPlan, Profile};
use sim::harness::{Harness, Repro};
use sim::scenario::run;

// The same allocator as the `sim` binary, so the figures are the CLI's.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Enough money in every account for every transfer to succeed; the trace hashed but its
/// entries not kept, as a sweep runs them.
fn big_bank(mut s: sim::scenario::Scenario) -> sim::scenario::Scenario {
    s.record_trace = false;
    s.services = Arc::new(|| {
        let accounts: Vec<(&str, i64)> = fixtures::scenarios::ACCOUNTS
            .iter()
            .map(|a| (*a, 1_000_000_000))
            .collect();
        vec![Arc::new(fixtures::services::Bank::new(&accounts))
            as Arc<dyn sim::service::ServiceLogic>]
    });
    s
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
            .run();
        failures += report.seeds_failed;
        rates.push(batch as f64 / start.elapsed().as_secs_f64());
    }
    println!(
        "money-transfer under chaos: median {:.0} seeds/s (batches of {batch}: {}), {failures} failing seeds",
        median(rates.clone()),
        rates.iter().map(|r| format!("{r:.0}")).collect::<Vec<_>>().join(", ")
    );

    // 2. Cost growth with concurrency.
    let sizes: &[usize] = if quick {
        &[10, 100, 1000]
    } else {
        &[10, 100, 1000, 10_000]
    };
    let mut per_wf = Vec::new();
    for &n in sizes {
        let s = Arc::new(big_bank(fixtures::scenarios::money_transfer_n(n)));
        let reps = match n {
            0..=100 => 21,
            101..=1000 => 5,
            _ => 3,
        };
        let mut times = Vec::new();
        for rep in 0..reps {
            let start = Instant::now();
            let o = run(&s, rep as u64, &FaultPlan::none());
            times.push(start.elapsed().as_secs_f64());
            let closed = o.client.values().filter(|c| c.closed.is_some()).count();
            assert_eq!(closed, n, "all {n} workflows closed");
        }
        let t = median(times);
        per_wf.push(t / n as f64);
        println!(
            "{n:>6} concurrent transfers: {:.3} s per simulation, {:.1} us per workflow",
            t,
            t / n as f64 * 1e6
        );
    }
    let max = per_wf.iter().cloned().fold(f64::MIN, f64::max);
    let min = per_wf.iter().cloned().fold(f64::MAX, f64::min);
    println!(
        "cost growth: per-workflow wall time largest/smallest = {:.2}x",
        max / min
    );

    // 3. The retried transfer alone.
    let retried = Arc::new(fixtures::scenarios::scenario("transfer-retried").unwrap());
    let mut times = Vec::new();
    for seed in 0..21 {
        let start = Instant::now();
        let o = run(&retried, seed, &FaultPlan::none());
        times.push(start.elapsed().as_secs_f64());
        assert_eq!(o.histories.len(), 1);
    }
    let t = median(times);
    println!("transfer-retried alone: median {:.3} ms per run (Temporal time-skipping test server: ~18 ms)", t * 1e3);

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
