//! The shrinker's internals: probes (`shrink_with_probes`, the harness's entry point) and the
//! order in which a message fault's fields are simplified.

use std::cell::Cell;

use super::{field_candidates, shrink, shrink_with_probes};
use crate::faults::{Fault, FaultEvent, FaultPlan, MessageFault, NodeRef, Target, When};

fn at(ms: u64, fault: Fault) -> FaultEvent {
    FaultEvent {
        when: When::At { ms },
        fault,
    }
}

fn kill(name: &str, restart_after_ms: u64) -> Fault {
    Fault::Kill {
        node: NodeRef::Named(name.into()),
        restart_after_ms,
    }
}

fn kills(p: &FaultPlan, worker: &str) -> bool {
    p.events
        .iter()
        .any(|e| matches!(&e.fault, Fault::Kill { node: NodeRef::Named(n), .. } if n == worker))
}

fn kill_caller_after_deposit(nth: u32) -> FaultPlan {
    FaultPlan {
        events: vec![FaultEvent {
            when: When::Effect {
                service: "bank".into(),
                operation: "deposit".into(),
                nth,
            },
            fault: Fault::Kill {
                node: NodeRef::Caller,
                restart_after_ms: 1000,
            },
        }],
        heal_at_ms: 5000,
    }
}

/// Fails when the plan kills worker-1, worker-2 and worker-3 (a chain where every event is
/// needed), or when it kills the caller right after the second deposit (a single fault that
/// ddmin over the chain cannot reach).
fn chain_or_canonical(p: &FaultPlan) -> bool {
    let canonical = p.events.iter().any(|e| {
        matches!(&e.when, When::Effect { operation, nth: 2, .. } if operation == "deposit")
            && matches!(
                e.fault,
                Fault::Kill {
                    node: NodeRef::Caller,
                    ..
                }
            )
    });
    (kills(p, "worker-1") && kills(p, "worker-2") && kills(p, "worker-3")) || canonical
}

#[test]
fn a_failing_probe_replaces_a_longer_chain() {
    let plan = FaultPlan {
        events: vec![
            at(10, kill("worker-1", 300)),
            at(20, kill("worker-2", 300)),
            at(30, kill("worker-3", 300)),
        ],
        heal_at_ms: 5000,
    };
    let (chain, _) = shrink(&plan, 200, chain_or_canonical);
    assert_eq!(
        chain.len(),
        3,
        "ddmin alone keeps the chain: {}",
        chain.to_json()
    );
    let probes = [kill_caller_after_deposit(1), kill_caller_after_deposit(2)];
    let (small, stats) = shrink_with_probes(&plan, &probes, 200, chain_or_canonical);
    assert_eq!(small.len(), 1, "{}", small.to_json());
    assert!(chain_or_canonical(&small));
    assert!(matches!(small.events[0].when, When::Effect { nth: 2, .. }));
    assert_eq!(stats.final_events, 1);
}

#[test]
fn probes_are_not_run_once_a_single_event_is_left() {
    let plan = FaultPlan {
        events: vec![
            at(10, kill("worker-1", 300)),
            at(
                40,
                Fault::Message {
                    target: Target::All,
                    effect: MessageFault::Duplicate {
                        rate: 0.4,
                        duration_ms: 900,
                    },
                },
            ),
            at(1_337, kill("worker-2", 2_345)),
            FaultEvent {
                when: When::StoreWrite { nth: 17 },
                fault: kill("server", 1_000),
            },
        ],
        heal_at_ms: 12_345,
    };
    let runs = Cell::new(0usize);
    let probe_runs = Cell::new(0usize);
    let probes = [kill_caller_after_deposit(1)];
    let (small, _) = shrink_with_probes(&plan, &probes, 200, |p| {
        runs.set(runs.get() + 1);
        if *p == probes[0] {
            probe_runs.set(probe_runs.get() + 1);
        }
        kills(p, "worker-2")
    });
    assert_eq!(small.len(), 1, "{}", small.to_json());
    assert_eq!(probe_runs.get(), 0, "a probe ran after {} runs", runs.get());
}

/// Every field's candidates of `ev`, in the order the shrinker tries them.
fn all_fields(ev: &FaultEvent) -> Vec<Vec<String>> {
    (0..)
        .map_while(|field| field_candidates(ev, field))
        .map(|cands| cands.iter().map(|c| c.fault.to_string()).collect())
        .collect()
}

#[test]
fn a_message_fault_simplifies_its_effect_then_its_target() {
    // Fields: the trigger, then the effect's own (duration, then rate / bounds / count), then
    // the target; this order decides which minimal plan a greedy shrink reaches.
    let link = Target::Link {
        from: "server".into(),
        to: "worker-2".into(),
    };
    let delay = at(
        0,
        Fault::Message {
            target: link.clone(),
            effect: MessageFault::Delay {
                min_ms: 3,
                max_ms: 40,
                duration_ms: 2_000,
            },
        },
    );
    let fields = all_fields(&delay);
    assert_eq!(fields.len(), 5, "{fields:#?}");
    assert!(fields[0].is_empty(), "at 0ms is as early as it gets");
    assert_eq!(fields[1][0], "delay 3-40ms on server->worker-2 for 1ms");
    assert_eq!(fields[2][0], "delay 0-40ms on server->worker-2 for 2000ms");
    assert_eq!(fields[3][0], "delay 3-3ms on server->worker-2 for 2000ms");
    assert_eq!(
        fields[4],
        [
            "delay 3-40ms on all links for 2000ms",
            "delay 3-40ms on server for 2000ms",
            "delay 3-40ms on worker-2 for 2000ms"
        ]
    );
    let drop_next = at(
        5,
        Fault::Message {
            target: Target::Node("worker-3".into()),
            effect: MessageFault::DropNext { count: 4 },
        },
    );
    let fields = all_fields(&drop_next);
    assert_eq!(fields.len(), 3, "{fields:#?}");
    assert_eq!(fields[1][0], "drop next 1 message(s) on worker-3");
    assert_eq!(
        fields[2],
        [
            "drop next 4 message(s) on all links",
            "drop next 4 message(s) on worker-1",
            "drop next 4 message(s) on worker-2"
        ]
    );
    let duplicate = at(
        5,
        Fault::Message {
            target: Target::All,
            effect: MessageFault::Duplicate {
                rate: 0.37,
                duration_ms: 300,
            },
        },
    );
    let fields = all_fields(&duplicate);
    assert_eq!(fields.len(), 4, "{fields:#?}");
    assert_eq!(fields[2][0], "duplicate 100% on all links for 300ms");
    assert!(fields[3].is_empty(), "all links is the simplest target");
}
