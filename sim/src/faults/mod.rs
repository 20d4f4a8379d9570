//! Fault plans: explicit, serialisable lists of fault events, timed or triggered by what
//! happens in the run. A seed generates a plan from a profile (`generate`); the shrinker
//! reduces a failing plan (`shrink`); `--plan FILE` replays one exactly.
//!
//! Invariant: a plan is plain data. Applying the same plan to the same seed gives the same run.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::history::json::parse_event_type;

pub mod generate;
mod repr;
pub mod shrink;
mod supervisor;
/// The message kinds a `{"message": KIND}` target may name.
pub use crate::wire::MESSAGE_KINDS;
pub use generate::{generate, Profile, Topology};
pub use shrink::{shrink, ShrinkStats};
pub(crate) use supervisor::{Cluster, Supervisor, SupervisorReport};

use repr::FaultRepr;

/// Which messages a network fault applies to, by node name (`server`, `worker-1`, `bank`,
/// `client`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Target {
    /// Every message of every node.
    All,
    /// Every message to or from this node.
    Node(String),
    /// Messages from one node to another (that direction only).
    Link {
        /// The sending node.
        from: String,
        /// The receiving node.
        to: String,
    },
    /// Every message of one kind (`CompleteActivityTask`, `Signal`, `ServiceOk`...), between
    /// any nodes: a fault aimed at one protocol step (see `sim run --coverage`).
    Message(String),
}

/// Which node a kill applies to.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeRef {
    /// The node of this name (`server`, `worker-2`, `bank`, `client`).
    Named(String),
    /// The worker whose activity made the call that triggered this fault.
    Caller,
}

/// One fault.
///
/// Serialised through a private flat representation (`repr.rs`), the shape plans have always
/// had on disk (`"kind": "drop"`, `"kind": "delay"`, ...): saved `plan.json` files keep
/// loading, byte for byte.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(into = "FaultRepr", from = "FaultRepr")]
pub enum Fault {
    /// A fault on the messages of `target` (see [`MessageFault`]).
    Message {
        /// Which messages.
        target: Target,
        /// What happens to them, and for how long.
        effect: MessageFault,
    },
    /// Cut the listed nodes off from every other node, both ways.
    Partition {
        /// The nodes on the cut-off side.
        nodes: Vec<String>,
        /// How long the partition lasts (cut short by the heal).
        duration_ms: u64,
    },
    /// Messages from `from` to `to` are lost; the other direction works.
    OneWayPartition {
        /// The node whose messages are lost.
        from: String,
        /// The node that does not receive them.
        to: String,
        /// How long the partition lasts (cut short by the heal).
        duration_ms: u64,
    },
    /// Kill a node (its memory is lost; the server loses unsynced writes) and restart it later.
    Kill {
        /// The node to kill.
        node: NodeRef,
        /// Virtual time until it restarts (it restarts at the heal at the latest).
        restart_after_ms: u64,
    },
    /// A worker's clock runs `skew_ms` ahead (negative: behind) of everyone else's. Workers use
    /// their clock for local activity deadlines: a worker behind keeps running attempts the
    /// server already timed out; one ahead abandons attempts early.
    ClockSkew {
        /// The worker whose clock is skewed.
        node: String,
        /// How far ahead (negative: behind) its clock runs, in milliseconds.
        skew_ms: i64,
        /// How long the skew lasts (cut short by the heal).
        duration_ms: u64,
    },
    /// An operator terminates a workflow: the client node asks the server to terminate the
    /// workflow id's current run (WorkflowExecutionTerminated; none of its code runs, nothing
    /// is compensated). Liveness and expected-outcome accept the run ending Terminated.
    Terminate {
        /// The workflow (one the scenario starts).
        workflow_id: String,
        /// Why, as the event's `reason`.
        reason: String,
    },
    /// An operator cancels a workflow: the client node asks the server to cancel the workflow
    /// id's current run (WorkflowExecutionCancelRequested; its code decides what to do).
    /// Expected-outcome accepts the run ending Canceled.
    Cancel {
        /// The workflow (one the scenario starts).
        workflow_id: String,
        /// Why, as the event's `cause`.
        reason: String,
    },
}

/// What a workflow fault asks of the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseRequest {
    /// TerminateWorkflowExecution.
    Terminate,
    /// RequestCancelWorkflowExecution.
    Cancel,
}

/// What a message fault does to each message of its target, and for how long. The timed ones
/// last `duration_ms` (cut short by the heal); `DropNext` lasts until it has dropped `count`
/// messages or the heal comes.
#[derive(Clone, Debug, PartialEq)]
pub enum MessageFault {
    /// Drop each message with probability `rate`.
    Drop {
        /// Probability in (0, 1].
        rate: f64,
        /// How long it lasts.
        duration_ms: u64,
    },
    /// Deliver each message twice with probability `rate`.
    Duplicate {
        /// Probability in (0, 1].
        rate: f64,
        /// How long it lasts.
        duration_ms: u64,
    },
    /// Add a random extra delay in `[min_ms, max_ms)` to each message (reorders).
    Delay {
        /// Shortest extra delay.
        min_ms: u64,
        /// Longest extra delay (excluded).
        max_ms: u64,
        /// How long it lasts.
        duration_ms: u64,
    },
    /// Drop the next `count` messages.
    DropNext {
        /// How many messages, 1 to 1,000,000.
        count: u32,
    },
}

impl MessageFault {
    /// A short name of the effect (the fault's kind in plans and reports).
    pub fn kind(&self) -> &'static str {
        match self {
            MessageFault::Drop { .. } => "drop",
            MessageFault::Duplicate { .. } => "duplicate",
            MessageFault::Delay { .. } => "delay",
            MessageFault::DropNext { .. } => "drop_next",
        }
    }

    /// Checks the effect's own bounds (a delay range, a count); returns its rate, if it has
    /// one, for the plan's common checks.
    fn check(&self) -> Result<Option<f64>, String> {
        match *self {
            MessageFault::Drop { rate, .. } | MessageFault::Duplicate { rate, .. } => {
                Ok(Some(rate))
            }
            MessageFault::Delay { min_ms, max_ms, .. } => {
                if min_ms > max_ms || max_ms > FaultPlan::MAX_MS {
                    return Err(format!(
                        "delay range {min_ms}..{max_ms}ms is empty or too long"
                    ));
                }
                Ok(None)
            }
            MessageFault::DropNext { count } => {
                if count == 0 || count > 1_000_000 {
                    return Err(format!("count {count} is not in 1..=1000000"));
                }
                Ok(None)
            }
        }
    }

    /// How long the fault lasts; `None` for `DropNext` (until its count or the heal).
    pub fn duration_ms(&self) -> Option<u64> {
        match self {
            MessageFault::Drop { duration_ms, .. }
            | MessageFault::Duplicate { duration_ms, .. }
            | MessageFault::Delay { duration_ms, .. } => Some(*duration_ms),
            MessageFault::DropNext { .. } => None,
        }
    }
}

impl Fault {
    /// A short name of the fault's kind (for swarm mode and reports); a message fault is named
    /// by its effect (`drop`, `duplicate`, `delay`, `drop_next`).
    pub fn kind(&self) -> &'static str {
        match self {
            Fault::Message { effect, .. } => effect.kind(),
            Fault::Partition { .. } => "partition",
            Fault::OneWayPartition { .. } => "one_way_partition",
            Fault::Kill { .. } => "kill",
            Fault::ClockSkew { .. } => "clock_skew",
            Fault::Terminate { .. } => "terminate",
            Fault::Cancel { .. } => "cancel",
        }
    }

    /// For a workflow fault: the workflow it names and what it asks of the server.
    pub fn close_request(&self) -> Option<(&str, CloseRequest)> {
        match self {
            Fault::Terminate { workflow_id, .. } => Some((workflow_id, CloseRequest::Terminate)),
            Fault::Cancel { workflow_id, .. } => Some((workflow_id, CloseRequest::Cancel)),
            _ => None,
        }
    }
}

/// When a fault happens.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "on", rename_all = "snake_case", deny_unknown_fields)]
pub enum When {
    /// At a virtual time (milliseconds since the run started).
    At {
        /// Milliseconds since the run started.
        ms: u64,
    },
    /// When a service applies (or deduplicates) the `nth` (1-based) effect of `operation`.
    Effect {
        /// The service (`bank`).
        service: String,
        /// One of its effect operations (`deposit`).
        operation: String,
        /// Which call of that operation, 1-based.
        nth: u32,
    },
    /// When the server has appended the `nth` event of this type (e.g. `ActivityTaskScheduled`).
    History {
        /// Temporal's event type name, without the `EVENT_TYPE_` prefix.
        event_type: String,
        /// Which event of that type across all runs, 1-based.
        nth: u32,
    },
    /// When the server has written (not yet synced) its `nth` batch.
    StoreWrite {
        /// Which batch, 1-based.
        nth: u32,
    },
}

/// One entry of a plan: a fault and when it happens.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultEvent {
    /// When it happens: a virtual time or a trigger.
    pub when: When,
    /// What happens.
    pub fault: Fault,
}

/// A run's faults. Every fault ends by `heal_at_ms` (killed nodes restart, partitions heal,
/// message faults stop), so liveness can be checked afterwards.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultPlan {
    /// The faults, in the order they were drawn or written.
    pub events: Vec<FaultEvent>,
    /// Virtual time (ms) by which every fault has ended: nodes restarted, links healed.
    pub heal_at_ms: u64,
}

impl FaultPlan {
    /// The plan without faults.
    pub fn none() -> Self {
        FaultPlan::default()
    }

    /// Whether the plan has no fault events.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// How many fault events the plan has.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// The plan as pretty JSON (what `plan.json` holds).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".to_string())
    }

    /// Reads a plan from JSON; the error names the line and column. Does not check that a run
    /// can carry it out: see [`FaultPlan::validate`].
    pub fn from_json(text: &str) -> Result<FaultPlan, String> {
        serde_json::from_str(text).map_err(|e| {
            let (line, column) = (e.line(), e.column());
            let message = crate::history::json::json_error_message(&e);
            // serde_json reads a whole number past u64 (or one with a fraction) as a float and
            // then names the float (`1.8446744073709552e+19`): quote the number as written.
            if message.starts_with("invalid type: floating point") {
                if let Some((start, number)) = number_ending_at(text, line, column) {
                    return format!(
                        "line {line} column {start}: {number} is not a whole number from 0 to \
                         18446744073709551615 (times, counts and durations are whole numbers, \
                         within the limits `validate` names)"
                    );
                }
            }
            format!("line {line} column {column}: {message}")
        })
    }

    /// The longest virtual time a plan may span (faults, heal, restarts): 30 days.
    pub const MAX_MS: u64 = 30 * 24 * 3600 * 1000;

    /// Checks that the plan is one a run can carry out and finish: rates in (0, 1], times and
    /// durations within [`FaultPlan::MAX_MS`], nodes that exist. Names the event that is not.
    pub fn validate(&self, topology: &Topology) -> Result<(), String> {
        let nodes = topology.nodes();
        if self.heal_at_ms > Self::MAX_MS {
            return Err(format!(
                "heal_at_ms {} is over the limit of {} (30 days)",
                self.heal_at_ms,
                Self::MAX_MS
            ));
        }
        for (i, e) in self.events.iter().enumerate() {
            self.check_event(e, topology, &nodes)
                .map_err(|what| format!("event {} ({e}): {what}", i + 1))?;
        }
        Ok(())
    }

    /// What is wrong with one event of this plan, if anything.
    fn check_event(&self, e: &FaultEvent, topo: &Topology, nodes: &[String]) -> Result<(), String> {
        let node_ok = |n: &str| nodes.iter().any(|x| x == n);
        match &e.when {
            When::At { ms } if *ms > self.heal_at_ms => {
                return Err(format!("at {ms}ms is after heal_at_ms {}", self.heal_at_ms));
            }
            When::Effect { nth: 0, .. }
            | When::History { nth: 0, .. }
            | When::StoreWrite { nth: 0 } => {
                return Err("nth counts from 1".into());
            }
            When::Effect { service, .. } if !node_ok(service) => {
                return Err(format!("no service named {service:?}"));
            }
            When::Effect {
                service, operation, ..
            } => {
                let ops = topo
                    .effect_operations
                    .get(service)
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                if !ops.iter().any(|o| o == operation) {
                    return Err(format!(
                        "{service} records no effect {operation:?} (its effect operations: {}), \
                         so the trigger could never fire",
                        if ops.is_empty() {
                            "none".to_string()
                        } else {
                            ops.join(", ")
                        }
                    ));
                }
            }
            When::History { event_type, .. } if parse_event_type(event_type).is_none() => {
                return Err(format!(
                    "{event_type:?} is not a history event type (e.g. \"ActivityTaskStarted\"), \
                     so the trigger could never fire"
                ));
            }
            _ => {}
        }
        if let Some((workflow_id, _)) = e.fault.close_request() {
            if !topo.workflows.iter().any(|w| w == workflow_id) {
                return Err(format!(
                    "no workflow {workflow_id:?} is started by the scenario (its workflows: {})",
                    if topo.workflows.is_empty() {
                        "none".to_string()
                    } else {
                        topo.workflows.join(", ")
                    }
                ));
            }
            return Ok(());
        }
        let target_ok = |t: &Target| match t {
            Target::All => None,
            Target::Node(n) => (!node_ok(n)).then(|| n.clone()),
            Target::Link { from, to } => [from, to].into_iter().find(|n| !node_ok(n)).cloned(),
            Target::Message(_) => None,
        };
        if let Fault::Message {
            target: Target::Message(kind),
            ..
        } = &e.fault
        {
            if !crate::wire::MESSAGE_KINDS.contains(&kind.as_str()) {
                return Err(format!(
                    "{kind:?} is not a message kind, so the fault could never apply (the \
                     kinds: {})",
                    crate::wire::MESSAGE_KINDS.join(", ")
                ));
            }
        }
        // The fault's own bounds first, then its rate, duration and nodes.
        let (rate, duration, unknown) = match &e.fault {
            Fault::Message { target, effect } => {
                (effect.check()?, effect.duration_ms(), target_ok(target))
            }
            Fault::Partition {
                nodes: members,
                duration_ms,
            } => {
                if members.is_empty() {
                    return Err("a partition of no nodes cuts nothing off".into());
                }
                (
                    None,
                    Some(*duration_ms),
                    members.iter().find(|n| !node_ok(n)).cloned(),
                )
            }
            Fault::OneWayPartition {
                from,
                to,
                duration_ms,
            } => (
                None,
                Some(*duration_ms),
                [from, to].into_iter().find(|n| !node_ok(n)).cloned(),
            ),
            Fault::Kill {
                node,
                restart_after_ms,
            } => {
                let unknown = match node {
                    NodeRef::Named(n) => (!node_ok(n)).then(|| n.clone()),
                    NodeRef::Caller => None,
                };
                (None, Some(*restart_after_ms), unknown)
            }
            Fault::ClockSkew {
                node,
                skew_ms,
                duration_ms,
            } => {
                if skew_ms.unsigned_abs() > 24 * 3600 * 1000 {
                    return Err(format!("skew {skew_ms}ms is over one day"));
                }
                (
                    None,
                    Some(*duration_ms),
                    (!node_ok(node)).then(|| node.clone()),
                )
            }
            // Checked above.
            Fault::Terminate { .. } | Fault::Cancel { .. } => (None, None, None),
        };
        if let Some(r) = rate {
            if !(r > 0.0 && r <= 1.0) {
                return Err(format!("rate {r} is not in (0, 1]"));
            }
        }
        if let Some(d) = duration {
            if d > Self::MAX_MS {
                return Err(format!(
                    "duration {d}ms is over the limit of {} (30 days)",
                    Self::MAX_MS
                ));
            }
        }
        if let Some(n) = unknown {
            return Err(format!("no node named {n:?} (nodes: {})", nodes.join(", ")));
        }
        Ok(())
    }
}

impl fmt::Display for When {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            When::At { ms } => write!(f, "at {ms}ms"),
            When::Effect {
                service,
                operation,
                nth,
            } => write!(f, "on {service}.{operation} effect #{nth}"),
            When::History { event_type, nth } => write!(f, "on {event_type} #{nth}"),
            When::StoreWrite { nth } => write!(f, "on store write #{nth}"),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::All => write!(f, "all links"),
            Target::Node(n) => write!(f, "{n}"),
            Target::Link { from, to } => write!(f, "{from}->{to}"),
            Target::Message(kind) => write!(f, "{kind} messages"),
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Message { target, effect } => match effect {
                MessageFault::Drop { rate, duration_ms } => write!(
                    f,
                    "drop {:.0}% on {target} for {duration_ms}ms",
                    rate * 100.0
                ),
                MessageFault::Duplicate { rate, duration_ms } => write!(
                    f,
                    "duplicate {:.0}% on {target} for {duration_ms}ms",
                    rate * 100.0
                ),
                MessageFault::Delay {
                    min_ms,
                    max_ms,
                    duration_ms,
                } => write!(
                    f,
                    "delay {min_ms}-{max_ms}ms on {target} for {duration_ms}ms"
                ),
                MessageFault::DropNext { count } => {
                    write!(f, "drop next {count} message(s) on {target}")
                }
            },
            Fault::Partition { nodes, duration_ms } => {
                write!(f, "partition {{{}}} for {duration_ms}ms", nodes.join(","))
            }
            Fault::OneWayPartition {
                from,
                to,
                duration_ms,
            } => write!(f, "one-way partition {from}->{to} for {duration_ms}ms"),
            Fault::Kill {
                node,
                restart_after_ms,
            } => {
                let n = match node {
                    NodeRef::Named(n) => n.as_str(),
                    NodeRef::Caller => "the calling worker",
                };
                write!(f, "kill {n}, restart after {restart_after_ms}ms")
            }
            Fault::ClockSkew {
                node,
                skew_ms,
                duration_ms,
            } => {
                write!(
                    f,
                    "skew {node}'s clock by {skew_ms:+}ms for {duration_ms}ms"
                )
            }
            Fault::Terminate {
                workflow_id,
                reason,
            } => write!(f, "terminate workflow {workflow_id} ({reason})"),
            Fault::Cancel {
                workflow_id,
                reason,
            } => write!(f, "cancel workflow {workflow_id} ({reason})"),
        }
    }
}

impl fmt::Display for FaultEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.when, self.fault)
    }
}

/// The number literal that ends at 1-based byte `column` of `line` (where serde_json reports a
/// value it has read), with the column where it starts.
fn number_ending_at(text: &str, line: usize, column: usize) -> Option<(usize, &str)> {
    let line = text.split('\n').nth(line.checked_sub(1)?)?;
    let head = line.get(..column)?;
    let in_number = |c: char| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E');
    let start = head.rfind(|c: char| !in_number(c)).map_or(0, |i| i + 1);
    let number = &head[start..];
    (!number.is_empty()).then_some((start + 1, number))
}

#[cfg(test)]
mod tests {
    use crate::faults::{Fault, FaultEvent, FaultPlan, When};

    /// `Terminate` and `Cancel` are flat objects in a plan, like every fault, and load back.
    #[test]
    fn workflow_faults_serialise_flat_and_load_back() {
        let plan = FaultPlan {
            events: vec![
                FaultEvent {
                    when: When::At { ms: 5 },
                    fault: Fault::Terminate {
                        workflow_id: "transfer-1".into(),
                        reason: "operator".into(),
                    },
                },
                FaultEvent {
                    when: When::History {
                        event_type: "ActivityTaskScheduled".into(),
                        nth: 1,
                    },
                    fault: Fault::Cancel {
                        workflow_id: "transfer-1".into(),
                        reason: "changed my mind".into(),
                    },
                },
            ],
            heal_at_ms: 10,
        };
        let json = plan.to_json();
        assert!(
            json.contains(
                r#""fault": {
        "kind": "terminate",
        "workflow_id": "transfer-1",
        "reason": "operator"
      }"#
            ),
            "{json}"
        );
        assert!(json.contains(r#""kind": "cancel""#), "{json}");
        assert_eq!(FaultPlan::from_json(&json).unwrap(), plan);
        let missing = json.replace(r#""reason": "operator""#, r#""why": "operator""#);
        let e = FaultPlan::from_json(&missing).unwrap_err();
        assert!(e.contains("why") || e.contains("reason"), "{e}");
    }

    #[test]
    fn a_number_past_u64_is_named_as_such_not_as_a_float() {
        let e =
            FaultPlan::from_json(r#"{"events":[],"heal_at_ms":18446744073709551616}"#).unwrap_err();
        assert!(
            e.starts_with(
                "line 1 column 27: 18446744073709551616 is not a whole number from 0 to \
                 18446744073709551615"
            ),
            "{e}"
        );
        assert!(!e.contains("e+19") && !e.contains("floating"), "{e}");
        let e = FaultPlan::from_json("{\"events\":[],\n  \"heal_at_ms\": 2.5}").unwrap_err();
        assert!(
            e.starts_with("line 2 column 17: 2.5 is not a whole number"),
            "{e}"
        );
        // serde_json's own position is not repeated.
        let e = FaultPlan::from_json("hello").unwrap_err();
        assert_eq!(e, "line 1 column 1: expected value");
    }
}
