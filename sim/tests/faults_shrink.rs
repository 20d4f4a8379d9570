//! Shrinking fault plans against synthetic predicates (no simulation needed). (The probes of
//! `shrink_with_probes`, which only the harness calls, are tested inside the crate.)

use std::cell::Cell;

use sim::faults::{
    generate, shrink, Fault, FaultEvent, FaultPlan, MessageFault, NodeRef, Profile, Target,
    Topology, When,
};

fn topo() -> Topology {
    Topology {
        workers: vec!["worker-1".into(), "worker-2".into(), "worker-3".into()],
        services: vec!["bank".into()],
        effect_operations: [(
            "bank".to_string(),
            vec!["deposit".into(), "withdraw".into()],
        )]
        .into(),
        workflows: vec!["transfer-1".into()],
    }
}

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

fn drop_on(target: Target, rate: f64, duration_ms: u64) -> Fault {
    Fault::Message {
        target,
        effect: MessageFault::Drop { rate, duration_ms },
    }
}

/// The rate of a drop fault.
fn drop_rate(f: &Fault) -> Option<f64> {
    match f {
        Fault::Message {
            effect: MessageFault::Drop { rate, .. },
            ..
        } => Some(*rate),
        _ => None,
    }
}

fn kills_worker_2(p: &FaultPlan) -> bool {
    p.events
        .iter()
        .any(|e| matches!(&e.fault, Fault::Kill { node: NodeRef::Named(n), .. } if n == "worker-2"))
}

fn drops_over_30(p: &FaultPlan) -> bool {
    p.events
        .iter()
        .any(|e| drop_rate(&e.fault).is_some_and(|rate| rate > 0.3))
}

/// A plan with ten events, two of which matter.
fn noisy_plan() -> FaultPlan {
    FaultPlan {
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
            at(120, drop_on(Target::Node("bank".into()), 0.2, 700)),
            at(
                250,
                Fault::Partition {
                    nodes: vec!["server".into(), "worker-3".into()],
                    duration_ms: 1_200,
                },
            ),
            at(1_337, kill("worker-2", 2_345)),
            at(
                1_500,
                Fault::Message {
                    target: Target::All,
                    effect: MessageFault::Delay {
                        min_ms: 3,
                        max_ms: 40,
                        duration_ms: 2_000,
                    },
                },
            ),
            at(
                2_222,
                drop_on(
                    Target::Link {
                        from: "server".into(),
                        to: "worker-2".into(),
                    },
                    0.37,
                    4_321,
                ),
            ),
            FaultEvent {
                when: When::StoreWrite { nth: 17 },
                fault: kill("server", 1_000),
            },
            at(
                2_500,
                Fault::OneWayPartition {
                    from: "client".into(),
                    to: "server".into(),
                    duration_ms: 600,
                },
            ),
            at(
                2_900,
                Fault::Message {
                    target: Target::Node("server".into()),
                    effect: MessageFault::DropNext { count: 4 },
                },
            ),
        ],
        heal_at_ms: 12_345,
    }
}

#[test]
fn shrinks_to_the_two_events_that_matter_simplified() {
    let plan = noisy_plan();
    let pred = |p: &FaultPlan| kills_worker_2(p) && drops_over_30(p);
    assert!(pred(&plan));
    let calls = Cell::new(0usize);
    let (small, stats) = shrink(&plan, 200, |p| {
        calls.set(calls.get() + 1);
        pred(p)
    });
    assert!(pred(&small), "{}", small.to_json());
    assert_eq!(stats.runs, calls.get());
    assert!(stats.runs <= 200, "{stats:?}");
    assert_eq!(stats.original_events, 10);
    assert_eq!(stats.final_events, 2);
    // Exactly those two, simplified: at time 0, the shortest restart and drop, the drop rate
    // 1.0 on all links, healed as early as possible.
    assert_eq!(
        small,
        FaultPlan {
            events: vec![
                at(0, kill("worker-2", 10)),
                at(0, drop_on(Target::All, 1.0, 1)),
            ],
            heal_at_ms: 0,
        },
        "{}",
        small.to_json()
    );
}

#[test]
fn simplification_stops_where_the_failure_stops() {
    // Fails only while the kill comes after 1 s, the restart takes at least 700 ms, the drop
    // rate is below 0.5 and the heal is after 5 s.
    let plan = noisy_plan();
    let pred = |p: &FaultPlan| {
        let kill_ok = p.events.iter().any(|e| {
            matches!((&e.when, &e.fault),
                (When::At { ms }, Fault::Kill { node: NodeRef::Named(n), restart_after_ms })
                    if n == "worker-2" && *ms > 1_000 && *restart_after_ms >= 700)
        });
        let drop_ok = p
            .events
            .iter()
            .any(|e| drop_rate(&e.fault).is_some_and(|rate| rate > 0.3 && rate < 0.5));
        kill_ok && drop_ok && p.heal_at_ms > 5_000
    };
    let (small, stats) = shrink(&plan, 300, pred);
    assert!(pred(&small));
    assert_eq!(stats.final_events, 2, "{}", small.to_json());
    let Fault::Kill {
        restart_after_ms, ..
    } = small.events[0].fault
    else {
        panic!("{}", small.to_json())
    };
    assert!(
        (700..1_400).contains(&restart_after_ms),
        "{restart_after_ms}"
    );
    let When::At { ms } = small.events[0].when else {
        panic!()
    };
    assert!((1_001..1_337).contains(&ms), "{ms}");
    let Fault::Message {
        effect: MessageFault::Drop { rate, duration_ms },
        ..
    } = small.events[1].fault
    else {
        panic!("{}", small.to_json())
    };
    // 0.37 -> 0.4 (one decimal), never 1.0 or 0.5 (those pass).
    assert_eq!(rate, 0.4);
    assert_eq!(duration_ms, 1);
    assert!(
        (5_001..=10_000).contains(&small.heal_at_ms),
        "{}",
        small.heal_at_ms
    );
}

#[test]
fn triggered_events_shrink_towards_the_first_occurrence_and_the_caller() {
    let plan = FaultPlan {
        events: vec![
            at(5, kill("server", 50)),
            FaultEvent {
                when: When::Effect {
                    service: "bank".into(),
                    operation: "deposit".into(),
                    nth: 9,
                },
                fault: kill("worker-3", 4_000),
            },
            FaultEvent {
                when: When::History {
                    event_type: "ActivityTaskStarted".into(),
                    nth: 6,
                },
                fault: kill("worker-1", 100),
            },
        ],
        heal_at_ms: 9_000,
    };
    // Fails when some worker dies after a deposit.
    let pred = |p: &FaultPlan| {
        p.events
            .iter()
            .any(|e| matches!(&e.when, When::Effect { operation, .. } if operation == "deposit"))
    };
    let (small, stats) = shrink(&plan, 100, pred);
    assert_eq!(
        small,
        FaultPlan {
            events: vec![FaultEvent {
                when: When::Effect {
                    service: "bank".into(),
                    operation: "deposit".into(),
                    nth: 1,
                },
                fault: Fault::Kill {
                    node: NodeRef::Caller,
                    restart_after_ms: 10,
                },
            }],
            heal_at_ms: 0,
        },
        "{}",
        small.to_json()
    );
    assert!(stats.runs <= 30, "{stats:?}");
}

#[test]
fn a_plan_failing_without_faults_shrinks_to_no_events() {
    let plan = generate(Profile::Chaos, 3, &topo());
    let (small, stats) = shrink(&plan, 50, |_| true);
    assert!(small.is_empty());
    assert_eq!(small.heal_at_ms, 0);
    assert_eq!(stats.final_events, 0);
    assert!(stats.runs <= 3, "{stats:?}");
}

#[test]
fn the_budget_bounds_the_runs_and_the_result_still_fails() {
    // A predicate that fails on a pseudo-random half of the plans: whatever the shrinker
    // returns must be one it saw fail (or the original).
    for seed in 0..40 {
        let plan = generate(Profile::Chaos, seed, &topo());
        let pred = |p: &FaultPlan| {
            let h = p.to_json().bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
            });
            h % 2 == 0 || *p == plan
        };
        for budget in [0, 1, 5, 40] {
            let calls = Cell::new(0usize);
            let (small, stats) = shrink(&plan, budget, |p| {
                calls.set(calls.get() + 1);
                pred(p)
            });
            assert!(pred(&small), "seed {seed} budget {budget}");
            assert!(
                calls.get() <= budget,
                "seed {seed}: {} > {budget}",
                calls.get()
            );
            assert_eq!(stats.runs, calls.get());
            assert!(stats.final_events <= stats.original_events);
            if budget == 0 {
                assert_eq!(small, plan);
            }
        }
    }
}

#[test]
fn shrinking_is_deterministic_and_never_reruns_a_plan() {
    let plan = generate(Profile::Swarm, 11, &topo());
    let mut seen = std::collections::BTreeSet::new();
    let pred = |p: &FaultPlan| {
        p.events
            .iter()
            .filter(|e| e.fault.kind() != "delay")
            .count()
            >= 1
    };
    assert!(pred(&plan), "{}", plan.to_json());
    let (a, sa) = shrink(&plan, 500, |p| {
        assert!(seen.insert(p.to_json()), "re-ran {}", p.to_json());
        pred(p)
    });
    let (b, sb) = shrink(&plan, 500, pred);
    assert_eq!(a, b);
    assert_eq!(sa, sb);
    assert_eq!(sa.final_events, 1);
}

#[test]
fn every_generated_plan_shrinks_to_a_minimal_failing_core() {
    // For many generated plans: fails iff there is a kill and a message fault. The result has
    // exactly one of each (ddmin gives 1-minimality).
    for seed in 0..60 {
        let plan = generate(Profile::Chaos, seed, &topo());
        let pred = |p: &FaultPlan| {
            let kills = p
                .events
                .iter()
                .filter(|e| matches!(e.fault, Fault::Kill { .. }))
                .count();
            kills >= 1 && kills < p.events.len()
        };
        assert!(pred(&plan));
        let (small, stats) = shrink(&plan, 400, pred);
        assert!(pred(&small), "seed {seed}");
        assert_eq!(small.len(), 2, "seed {seed}: {}", small.to_json());
        assert!(stats.runs < 400, "seed {seed}: {stats:?}");
    }
}

/// A failure that needs an operator's termination keeps it, whole, through shrinking: the noise
/// around it goes, the termination's workflow and reason stay.
#[test]
fn a_termination_the_failure_needs_is_kept_whole() {
    let terminate = Fault::Terminate {
        workflow_id: "transfer-1".into(),
        reason: "operator".into(),
    };
    let plan = FaultPlan {
        events: vec![
            at(100, kill("worker-2", 3000)),
            at(200, drop_on(Target::All, 0.2, 2000)),
            at(300, terminate.clone()),
            at(400, kill("worker-3", 1000)),
        ],
        heal_at_ms: 10_000,
    };
    plan.validate(&topo()).unwrap();
    let (min, _) = shrink(&plan, 200, |p| {
        p.events.iter().any(|e| e.fault == terminate)
    });
    assert_eq!(min.events.len(), 1, "{min:?}");
    assert_eq!(min.events[0].fault, terminate);
    min.validate(&topo()).unwrap();
}
