//! `named_nodes` and generation together: every node a generated event names exists.

use super::{generate, named_nodes, Profile, Topology};
use crate::faults::{Fault, FaultEvent, MessageFault, NodeRef, Target, When};

fn topologies() -> [Topology; 2] {
    [
        Topology {
            workers: vec!["worker-1".into(), "worker-2".into(), "worker-3".into()],
            services: vec!["bank".into()],
            effect_operations: [(
                "bank".to_string(),
                vec!["deposit".into(), "withdraw".into()],
            )]
            .into(),
            workflows: vec!["transfer-1".into()],
        },
        Topology {
            workers: vec!["worker-1".into()],
            services: vec!["translation".into()],
            effect_operations: Default::default(),
            workflows: Vec::new(),
        },
    ]
}

#[test]
fn every_node_a_generated_event_names_is_in_the_topology() {
    for topo in topologies() {
        for p in Profile::ALL {
            for seed in 0..400 {
                for ev in generate(p, seed, &topo).events {
                    for n in named_nodes(&ev) {
                        assert!(topo.has(n), "{p} seed {seed}: {ev} names {n:?}");
                    }
                }
            }
        }
    }
}

#[test]
fn named_nodes_lists_every_node_an_event_mentions() {
    let ev = |when: When, fault: Fault| FaultEvent { when, fault };
    let at0 = || When::At { ms: 0 };
    let message = |target| Fault::Message {
        target,
        effect: MessageFault::DropNext { count: 1 },
    };
    let deposit = When::Effect {
        service: "bank".into(),
        operation: "deposit".into(),
        nth: 1,
    };
    let cases: Vec<(FaultEvent, Vec<&str>)> = vec![
        (ev(at0(), message(Target::All)), vec![]),
        (
            ev(at0(), message(Target::Node("worker-9".into()))),
            vec!["worker-9"],
        ),
        (
            ev(
                deposit.clone(),
                message(Target::Link {
                    from: "bank".into(),
                    to: "worker-1".into(),
                }),
            ),
            vec!["bank", "bank", "worker-1"],
        ),
        (
            ev(
                at0(),
                Fault::Partition {
                    nodes: vec!["server".into(), "client".into()],
                    duration_ms: 1,
                },
            ),
            vec!["server", "client"],
        ),
        (
            ev(
                at0(),
                Fault::OneWayPartition {
                    from: "client".into(),
                    to: "server".into(),
                    duration_ms: 1,
                },
            ),
            vec!["client", "server"],
        ),
        (
            ev(
                deposit,
                Fault::Kill {
                    node: NodeRef::Caller,
                    restart_after_ms: 10,
                },
            ),
            vec!["bank"],
        ),
        (
            ev(
                at0(),
                Fault::ClockSkew {
                    node: "worker-2".into(),
                    skew_ms: -5,
                    duration_ms: 1,
                },
            ),
            vec!["worker-2"],
        ),
    ];
    for (event, names) in cases {
        assert_eq!(named_nodes(&event), names, "{event}");
    }
}
