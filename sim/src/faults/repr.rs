//! The on-disk shape of a [`Fault`]: one flat, internally tagged object per fault, as plans
//! have been saved since the first `plan.json` (`{"kind": "drop", "target": "all", "rate":
//! 0.1, "duration_ms": 200}`). `Fault` nests its message faults (`Fault::Message { target,
//! effect }`); this private mirror keeps the file format flat.
//!
//! Invariant: the conversions are total and inverse to each other, and every variant keeps
//! its fields in the order it always had, so a plan serialises to the same bytes as before and
//! every saved plan loads to the same `Fault`.

use serde::{Deserialize, Serialize};

use super::{Fault, MessageFault, NodeRef, Target};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub(super) enum FaultRepr {
    Drop {
        target: Target,
        rate: f64,
        duration_ms: u64,
    },
    Duplicate {
        target: Target,
        rate: f64,
        duration_ms: u64,
    },
    Delay {
        target: Target,
        min_ms: u64,
        max_ms: u64,
        duration_ms: u64,
    },
    DropNext {
        target: Target,
        count: u32,
    },
    Partition {
        nodes: Vec<String>,
        duration_ms: u64,
    },
    OneWayPartition {
        from: String,
        to: String,
        duration_ms: u64,
    },
    Kill {
        node: NodeRef,
        restart_after_ms: u64,
    },
    ClockSkew {
        node: String,
        skew_ms: i64,
        duration_ms: u64,
    },
    Terminate {
        workflow_id: String,
        reason: String,
    },
    Cancel {
        workflow_id: String,
        reason: String,
    },
}

impl From<Fault> for FaultRepr {
    fn from(fault: Fault) -> Self {
        match fault {
            Fault::Message { target, effect } => match effect {
                MessageFault::Drop { rate, duration_ms } => FaultRepr::Drop {
                    target,
                    rate,
                    duration_ms,
                },
                MessageFault::Duplicate { rate, duration_ms } => FaultRepr::Duplicate {
                    target,
                    rate,
                    duration_ms,
                },
                MessageFault::Delay {
                    min_ms,
                    max_ms,
                    duration_ms,
                } => FaultRepr::Delay {
                    target,
                    min_ms,
                    max_ms,
                    duration_ms,
                },
                MessageFault::DropNext { count } => FaultRepr::DropNext { target, count },
            },
            Fault::Partition { nodes, duration_ms } => FaultRepr::Partition { nodes, duration_ms },
            Fault::OneWayPartition {
                from,
                to,
                duration_ms,
            } => FaultRepr::OneWayPartition {
                from,
                to,
                duration_ms,
            },
            Fault::Kill {
                node,
                restart_after_ms,
            } => FaultRepr::Kill {
                node,
                restart_after_ms,
            },
            Fault::ClockSkew {
                node,
                skew_ms,
                duration_ms,
            } => FaultRepr::ClockSkew {
                node,
                skew_ms,
                duration_ms,
            },
            Fault::Terminate {
                workflow_id,
                reason,
            } => FaultRepr::Terminate {
                workflow_id,
                reason,
            },
            Fault::Cancel {
                workflow_id,
                reason,
            } => FaultRepr::Cancel {
                workflow_id,
                reason,
            },
        }
    }
}

impl From<FaultRepr> for Fault {
    fn from(repr: FaultRepr) -> Self {
        let message = |target, effect| Fault::Message { target, effect };
        match repr {
            FaultRepr::Drop {
                target,
                rate,
                duration_ms,
            } => message(target, MessageFault::Drop { rate, duration_ms }),
            FaultRepr::Duplicate {
                target,
                rate,
                duration_ms,
            } => message(target, MessageFault::Duplicate { rate, duration_ms }),
            FaultRepr::Delay {
                target,
                min_ms,
                max_ms,
                duration_ms,
            } => message(
                target,
                MessageFault::Delay {
                    min_ms,
                    max_ms,
                    duration_ms,
                },
            ),
            FaultRepr::DropNext { target, count } => {
                message(target, MessageFault::DropNext { count })
            }
            FaultRepr::Partition { nodes, duration_ms } => Fault::Partition { nodes, duration_ms },
            FaultRepr::OneWayPartition {
                from,
                to,
                duration_ms,
            } => Fault::OneWayPartition {
                from,
                to,
                duration_ms,
            },
            FaultRepr::Kill {
                node,
                restart_after_ms,
            } => Fault::Kill {
                node,
                restart_after_ms,
            },
            FaultRepr::ClockSkew {
                node,
                skew_ms,
                duration_ms,
            } => Fault::ClockSkew {
                node,
                skew_ms,
                duration_ms,
            },
            FaultRepr::Terminate {
                workflow_id,
                reason,
            } => Fault::Terminate {
                workflow_id,
                reason,
            },
            FaultRepr::Cancel {
                workflow_id,
                reason,
            } => Fault::Cancel {
                workflow_id,
                reason,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::faults::{Fault, FaultPlan, MessageFault, NodeRef, Target, When};

    /// A plan with every kind of fault and trigger, as the old flat `Fault` enum wrote it
    /// (`serde_json::to_string_pretty`, the format of `plan.json` and `minimal-plan.json`).
    const SAVED_PLAN: &str = r#"{
  "events": [
    {
      "when": {
        "on": "at",
        "ms": 5
      },
      "fault": {
        "kind": "drop",
        "target": "all",
        "rate": 0.1,
        "duration_ms": 200
      }
    },
    {
      "when": {
        "on": "at",
        "ms": 6
      },
      "fault": {
        "kind": "duplicate",
        "target": {
          "node": "bank"
        },
        "rate": 0.25,
        "duration_ms": 300
      }
    },
    {
      "when": {
        "on": "at",
        "ms": 7
      },
      "fault": {
        "kind": "delay",
        "target": {
          "link": {
            "from": "server",
            "to": "worker-1"
          }
        },
        "min_ms": 1,
        "max_ms": 9,
        "duration_ms": 400
      }
    },
    {
      "when": {
        "on": "at",
        "ms": 8
      },
      "fault": {
        "kind": "partition",
        "nodes": [
          "server",
          "worker-2"
        ],
        "duration_ms": 500
      }
    },
    {
      "when": {
        "on": "at",
        "ms": 9
      },
      "fault": {
        "kind": "one_way_partition",
        "from": "client",
        "to": "server",
        "duration_ms": 600
      }
    },
    {
      "when": {
        "on": "at",
        "ms": 10
      },
      "fault": {
        "kind": "clock_skew",
        "node": "worker-1",
        "skew_ms": -700,
        "duration_ms": 1000
      }
    },
    {
      "when": {
        "on": "history",
        "event_type": "ActivityTaskStarted",
        "nth": 2
      },
      "fault": {
        "kind": "drop_next",
        "target": {
          "node": "server"
        },
        "count": 3
      }
    },
    {
      "when": {
        "on": "effect",
        "service": "bank",
        "operation": "deposit",
        "nth": 1
      },
      "fault": {
        "kind": "kill",
        "node": "caller",
        "restart_after_ms": 800
      }
    },
    {
      "when": {
        "on": "store_write",
        "nth": 4
      },
      "fault": {
        "kind": "kill",
        "node": {
          "named": "server"
        },
        "restart_after_ms": 50
      }
    }
  ],
  "heal_at_ms": 10000
}"#;

    #[test]
    fn a_saved_plan_loads_and_saves_byte_for_byte() {
        let plan = FaultPlan::from_json(SAVED_PLAN).unwrap();
        assert_eq!(plan.to_json(), SAVED_PLAN);
        let faults: Vec<&Fault> = plan.events.iter().map(|e| &e.fault).collect();
        assert_eq!(
            *faults[0],
            Fault::Message {
                target: Target::All,
                effect: MessageFault::Drop {
                    rate: 0.1,
                    duration_ms: 200
                },
            }
        );
        assert_eq!(
            *faults[2],
            Fault::Message {
                target: Target::Link {
                    from: "server".into(),
                    to: "worker-1".into()
                },
                effect: MessageFault::Delay {
                    min_ms: 1,
                    max_ms: 9,
                    duration_ms: 400
                },
            }
        );
        assert_eq!(
            *faults[6],
            Fault::Message {
                target: Target::Node("server".into()),
                effect: MessageFault::DropNext { count: 3 },
            }
        );
        assert_eq!(
            *faults[7],
            Fault::Kill {
                node: NodeRef::Caller,
                restart_after_ms: 800
            }
        );
        assert!(matches!(plan.events[8].when, When::StoreWrite { nth: 4 }));
        let kinds: Vec<&str> = faults.iter().map(|f| f.kind()).collect();
        assert_eq!(
            kinds,
            [
                "drop",
                "duplicate",
                "delay",
                "partition",
                "one_way_partition",
                "clock_skew",
                "drop_next",
                "kill",
                "kill"
            ]
        );
    }

    #[test]
    fn compact_plans_as_the_cli_tests_write_them_load() {
        // The one-line form users (and `tests/cli.rs`) write by hand.
        let text = r#"{"events":[{"when":{"on":"at","ms":5},"fault":{"kind":"drop","target":"all","rate":0.1,"duration_ms":200}},{"when":{"on":"at","ms":50},"fault":{"kind":"duplicate","target":"all","rate":0.2,"duration_ms":300}}],"heal_at_ms":10000}"#;
        let plan = FaultPlan::from_json(text).unwrap();
        assert_eq!(serde_json::to_string(&plan).unwrap(), text);
        assert_eq!(
            plan.events[1].fault.to_string(),
            "duplicate 20% on all links for 300ms"
        );
    }

    #[test]
    fn the_flat_shape_rejects_what_it_always_rejected() {
        for bad in [
            // A message fault without its duration, or a drop-next with a rate.
            r#"{"events":[{"when":{"on":"at","ms":5},"fault":{"kind":"drop","target":"all","rate":0.1}}],"heal_at_ms":1}"#,
            r#"{"events":[{"when":{"on":"at","ms":5},"fault":{"kind":"drop_next","target":"all"}}],"heal_at_ms":1}"#,
            // The in-memory nesting is not a file format.
            r#"{"events":[{"when":{"on":"at","ms":5},"fault":{"kind":"message","target":"all","effect":{"drop_next":{"count":1}}}}],"heal_at_ms":1}"#,
        ] {
            assert!(FaultPlan::from_json(bad).is_err(), "{bad}");
        }
    }
}
