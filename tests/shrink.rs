//! End to end: the `Crash` profile finds the planted non-idempotent deposit
//! (`money-transfer-buggy`) within a few hundred seeds, and the shrinker reduces the failing
//! plan to at most three fault events that still fail, reproducibly.
#![cfg(madsim)]

use std::sync::Arc;

use sim::checkers::{ExactlyOnce, Invariant};
use sim::faults::{generate, shrink, Fault, FaultEvent, FaultPlan, NodeRef, Profile, When};
use sim::{run, Outcome, Scenario};

fn scenario(name: &str) -> Arc<Scenario> {
    Arc::new(fixtures::scenarios::scenario(name).expect("built-in scenario"))
}

/// The planted bug's signature: exactly-once violated by a deposit applied more than once.
fn duplicate_deposit(o: &Outcome) -> Option<String> {
    let v = ExactlyOnce.check(o).err()?;
    (v.message.contains("applied bank.deposit") && v.message.contains(" times: "))
        .then_some(v.message)
}

fn is_deposit_caller_kill(e: &FaultEvent) -> bool {
    matches!(&e.when, When::Effect { service, operation, .. }
        if service == "bank" && operation == "deposit")
        && matches!(
            e.fault,
            Fault::Kill {
                node: NodeRef::Caller,
                ..
            }
        )
}

/// The first `Crash` seed in `0..300` (whose plan satisfies `want`) that duplicates a deposit.
fn first_failing_seed(
    sc: &Arc<Scenario>,
    want: impl Fn(&FaultPlan) -> bool,
) -> (u64, FaultPlan, String) {
    let topo = sc.topology();
    for seed in 0..300u64 {
        let plan = generate(Profile::Crash, seed, &topo);
        if !want(&plan) {
            continue;
        }
        let o = run(sc, seed, &plan);
        if let Some(v) = duplicate_deposit(&o) {
            return (seed, plan, v);
        }
    }
    panic!(
        "no Crash seed in 0..300 duplicates a deposit in {}",
        sc.name
    );
}

/// Shrinks a failing plan and checks the result: at most three events, still failing with the
/// same signature, the same trace twice and after a JSON round trip.
fn shrink_and_check(sc: &Arc<Scenario>, seed: u64, plan: &FaultPlan) -> FaultPlan {
    let (small, stats) = shrink(plan, 150, |p| {
        duplicate_deposit(&run(sc, seed, p)).is_some()
    });
    eprintln!(
        "seed {seed}: shrunk {} -> {} event(s) in {} run(s):\n{}",
        stats.original_events,
        stats.final_events,
        stats.runs,
        small.to_json()
    );
    assert!(stats.runs <= 150, "{stats:?}");
    assert_eq!(stats.original_events, plan.len());
    assert_eq!(stats.final_events, small.len());
    assert!(small.len() <= 3, "{}", small.to_json());
    assert!(!small.is_empty(), "the bug needs a fault to show");
    let a = run(sc, seed, &small);
    let b = run(sc, seed, &small);
    assert!(duplicate_deposit(&a).is_some(), "{}", a.trace_text());
    assert_eq!(a.trace_hash, b.trace_hash);
    let replayed = FaultPlan::from_json(&small.to_json()).expect("plan JSON");
    assert_eq!(run(sc, seed, &replayed).trace_hash, a.trace_hash);
    small
}

#[test]
fn crash_profile_catches_the_non_idempotent_deposit_and_shrinks_it_to_three_events() {
    let buggy = scenario("money-transfer-buggy");
    let (seed, plan, violation) = first_failing_seed(&buggy, |_| true);
    eprintln!(
        "seed {seed} ({} events): {violation}\n{}",
        plan.len(),
        plan.to_json()
    );
    // The failure is the bug's, not the plan's: the correct deposit survives the same plan.
    let correct = scenario("money-transfer");
    let o = run(&correct, seed, &plan);
    assert_eq!(ExactlyOnce.check(&o), Ok(()), "{}", o.trace_text());
    shrink_and_check(&buggy, seed, &plan);
}

/// The BUGGIFY-style trigger on its own: the first seed whose plan kills the calling worker
/// right after the bank applied a deposit shrinks to that single event (at the first deposit,
/// with the shortest restart).
#[test]
fn a_kill_after_the_deposit_shrinks_to_that_one_event() {
    let buggy = scenario("money-transfer-buggy");
    let (seed, plan, _) = first_failing_seed(&buggy, |p| {
        p.len() >= 2 && p.events.iter().any(is_deposit_caller_kill)
    });
    let small = shrink_and_check(&buggy, seed, &plan);
    assert_eq!(small.len(), 1, "{}", small.to_json());
    assert!(
        is_deposit_caller_kill(&small.events[0]),
        "{}",
        small.to_json()
    );
    assert_eq!(
        small.events[0],
        FaultEvent {
            when: When::Effect {
                service: "bank".into(),
                operation: "deposit".into(),
                nth: 1
            },
            fault: Fault::Kill {
                node: NodeRef::Caller,
                restart_after_ms: 10
            },
        }
    );
    // Healing earlier than the first deposit would cancel the trigger: the heal stays after it.
    assert!(small.heal_at_ms > 0, "{}", small.to_json());
}

/// Crash finds the bug often, not by luck of one seed; and never on the correct deposit.
#[test]
fn crash_seeds_find_the_bug_often_and_only_in_the_buggy_scenario() {
    let buggy = scenario("money-transfer-buggy");
    let correct = scenario("money-transfer");
    let topo = buggy.topology();
    let mut hits = 0;
    for seed in 0..60u64 {
        let plan = generate(Profile::Crash, seed, &topo);
        if duplicate_deposit(&run(&buggy, seed, &plan)).is_some() {
            hits += 1;
            let o = run(&correct, seed, &plan);
            assert_eq!(
                ExactlyOnce.check(&o),
                Ok(()),
                "seed {seed}\n{}",
                o.trace_text()
            );
        }
    }
    // Measured: about a third of the seeds.
    assert!(
        hits >= 10,
        "only {hits} of 60 Crash seeds duplicate a deposit"
    );
}
