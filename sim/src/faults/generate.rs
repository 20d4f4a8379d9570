//! Fault plans from seeds: a profile says which kinds of faults a seed may draw, the seed draws
//! the plan. Generation runs outside the simulation, with its own small RNG (splitmix64 seeding
//! xoshiro256**): the same `(profile, seed, topology)` always gives the same plan.
//!
//! Faults sit mostly in the first seconds of a run (a fault-free `money-transfer` finishes in a
//! few hundred milliseconds of virtual time; activity timeouts are 5 s, workflow task timeouts
//! 10 s, retry backoff starts at 1 s) and everything heals by `heal_at_ms` (5-20 s). Besides timed
//! faults, `Crash`, `Chaos` and `Swarm` draw faults triggered by what happens in the run
//! (FoundationDB's BUGGIFY): "when the bank applies the 3rd deposit, kill the calling worker",
//! "when the server writes its 7th batch, kill it" (losing what was not synced), "when the 2nd
//! `ActivityTaskStarted` is appended, kill worker-2".

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{Fault, FaultEvent, FaultPlan, MessageFault, NodeRef, Target, When};
use crate::rng::Rng;

/// Which faults a seed may draw.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// No faults.
    None,
    /// Message faults only: drops, duplicates, delays, partitions. Never kills.
    Network,
    /// Node kills only, timed or triggered by run events. Never touches messages.
    Crash,
    /// Network and Crash together.
    Chaos,
    /// Each seed enables its own subset of fault kinds, with its own rates, then draws from
    /// those only (swarm testing).
    Swarm,
}

impl Profile {
    /// Every profile, mildest first.
    pub const ALL: [Profile; 5] = [
        Profile::None,
        Profile::Network,
        Profile::Crash,
        Profile::Chaos,
        Profile::Swarm,
    ];

    /// Case-insensitive name -> profile.
    pub fn parse(s: &str) -> Option<Profile> {
        let s = s.trim();
        Profile::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(s))
    }

    /// The profile's name, as `--faults` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Profile::None => "none",
            Profile::Network => "network",
            Profile::Crash => "crash",
            Profile::Chaos => "chaos",
            Profile::Swarm => "swarm",
        }
    }

    fn salt(self) -> u64 {
        match self {
            Profile::None => 0x6e6f_6e65,
            Profile::Network => 0x006e_6574_776f_726b,
            Profile::Crash => 0x0063_7261_7368,
            Profile::Chaos => 0x0063_6861_6f73,
            Profile::Swarm => 0x0073_7761_726d,
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Profile {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Profile::parse(s).ok_or_else(|| {
            let names: Vec<&str> = Profile::ALL.iter().map(|p| p.name()).collect();
            format!(
                "unknown profile {s:?} (expected one of {})",
                names.join(", ")
            )
        })
    }
}

/// The nodes a plan may name. `server` and `client` are implicit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Topology {
    /// Worker node names (`worker-1`, ...).
    pub workers: Vec<String>,
    /// Service node names.
    pub services: Vec<String>,
    /// Per service, the operations it records as effects (what `When::Effect` can match), most
    /// important first; services without effects are absent.
    pub effect_operations: BTreeMap<String, Vec<String>>,
    /// The workflow ids the scenario's client starts (what `Fault::Terminate` and
    /// `Fault::Cancel` may name; plans are never drawn with them).
    pub workflows: Vec<String>,
}

impl Topology {
    /// The server node's name.
    pub const SERVER: &'static str = "server";
    /// The client node's name.
    pub const CLIENT: &'static str = "client";

    /// Every node name: server, workers, services, client.
    pub fn nodes(&self) -> Vec<String> {
        let mut all = vec![Topology::SERVER.to_string()];
        all.extend(self.workers.iter().cloned());
        all.extend(self.services.iter().cloned());
        all.push(Topology::CLIENT.to_string());
        all
    }

    /// Whether `name` is one of this topology's nodes.
    pub fn has(&self, name: &str) -> bool {
        name == Topology::SERVER
            || name == Topology::CLIENT
            || self.workers.iter().any(|w| w == name)
            || self.services.iter().any(|s| s == name)
    }
}

/// History event types worth triggering kills on.
const TRIGGER_EVENTS: [&str; 8] = [
    "ActivityTaskScheduled",
    "ActivityTaskStarted",
    "ActivityTaskCompleted",
    "WorkflowTaskScheduled",
    "WorkflowTaskStarted",
    "WorkflowTaskCompleted",
    "WorkflowExecutionStarted",
    "TimerStarted",
];

/// A rate in `[lo, hi]`, rounded to two decimals, always in `(0, 1]`.
fn rate(rng: &mut Rng, lo: f64, hi: f64) -> f64 {
    round_rate(lo + (hi - lo) * rng.f64())
}

fn round_rate(r: f64) -> f64 {
    ((r * 100.0).round() / 100.0).clamp(0.01, 1.0)
}

/// A virtual time for a timed fault: mostly while the work is in flight (the first few hundred
/// milliseconds), sometimes during retries (up to 3 s).
fn fault_time(rng: &mut Rng) -> u64 {
    match rng.weighted(&[60, 25, 15]) {
        0 => rng.below(300),
        1 => rng.range(300, 1_500),
        _ => rng.range(1_500, 3_000),
    }
}

fn duration(rng: &mut Rng) -> u64 {
    rng.log_range(50, 5_000)
}

fn restart_delay(rng: &mut Rng, max: u64) -> u64 {
    rng.log_range(10, max.max(10))
}

/// The fault kinds a profile draws from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Drop,
    Duplicate,
    Delay,
    DropNext,
    Partition,
    OneWayPartition,
    /// A kill at a virtual time.
    TimedKill,
    /// A kill triggered by an effect, a history event or a store write (BUGGIFY).
    TriggeredKill,
    /// A worker whose clock is ahead or behind.
    ClockSkew,
}

const NETWORK_KINDS: [Kind; 6] = [
    Kind::Drop,
    Kind::Duplicate,
    Kind::Delay,
    Kind::DropNext,
    Kind::Partition,
    Kind::OneWayPartition,
];
const CRASH_KINDS: [Kind; 2] = [Kind::TimedKill, Kind::TriggeredKill];
const ALL_KINDS: [Kind; 9] = [
    Kind::Drop,
    Kind::Duplicate,
    Kind::Delay,
    Kind::DropNext,
    Kind::Partition,
    Kind::OneWayPartition,
    Kind::TimedKill,
    Kind::TriggeredKill,
    Kind::ClockSkew,
];

/// How a kind's events are drawn: its weight among the enabled kinds and its intensity.
#[derive(Clone, Copy, Debug)]
struct Knobs {
    weight: u32,
    /// Rates of drops / duplicates.
    rate: (f64, f64),
    /// Largest extra delay.
    max_delay_ms: u64,
    /// Longest restart delay of a kill.
    max_restart_ms: u64,
}

impl Knobs {
    fn standard(kind: Kind) -> Knobs {
        Knobs {
            weight: match kind {
                Kind::Drop | Kind::Duplicate | Kind::Delay => 3,
                Kind::DropNext | Kind::Partition | Kind::OneWayPartition => 2,
                Kind::TimedKill => 2,
                Kind::TriggeredKill => 3,
                Kind::ClockSkew => 1,
            },
            rate: (0.05, 0.5),
            max_delay_ms: 50,
            max_restart_ms: 5_000,
        }
    }
}

/// Draws plans for one topology.
struct Gen<'a> {
    rng: Rng,
    topo: &'a Topology,
    nodes: Vec<String>,
    /// Services that record effects, with their operations.
    effect_services: Vec<(&'a str, &'a [String])>,
}

impl<'a> Gen<'a> {
    fn new(rng: Rng, topo: &'a Topology) -> Self {
        // In the topology's service order, as the plans drawn so far were.
        let effect_services = topo
            .services
            .iter()
            .filter_map(|s| {
                let ops = topo.effect_operations.get(s)?;
                (!ops.is_empty()).then_some((s.as_str(), ops.as_slice()))
            })
            .collect();
        Gen {
            rng,
            topo,
            nodes: topo.nodes(),
            effect_services,
        }
    }

    fn any_node(&mut self) -> String {
        self.rng.pick(&self.nodes).clone()
    }

    fn worker_or_server(&mut self) -> String {
        if self.topo.workers.is_empty() {
            Topology::SERVER.to_string()
        } else {
            self.rng.pick(&self.topo.workers).clone()
        }
    }

    /// Two distinct nodes; usually one of them is the server (most traffic goes through it).
    fn link(&mut self) -> (String, String) {
        let a = if self.rng.chance(0.6) {
            Topology::SERVER.to_string()
        } else {
            self.any_node()
        };
        let others: Vec<String> = self.nodes.iter().filter(|n| **n != a).cloned().collect();
        let b = if others.is_empty() {
            a.clone()
        } else {
            self.rng.pick(&others).clone()
        };
        if self.rng.chance(0.5) {
            (a, b)
        } else {
            (b, a)
        }
    }

    fn target(&mut self) -> Target {
        match self.rng.weighted(&[3, 4, 3]) {
            0 => Target::All,
            1 => Target::Node(self.any_node()),
            _ => {
                let (from, to) = self.link();
                Target::Link { from, to }
            }
        }
    }

    fn at(&mut self) -> When {
        When::At {
            ms: fault_time(&mut self.rng),
        }
    }

    /// A trigger deep in the run: an effect (when a service records effects), a history event
    /// or a store write.
    fn trigger(&mut self) -> When {
        let has_effects = !self.effect_services.is_empty();
        let choice = self
            .rng
            .weighted(&[if has_effects { 45 } else { 0 }, 35, 20]);
        match choice {
            0 => {
                let i = self.rng.below(self.effect_services.len() as u64) as usize;
                let (service, ops) = self.effect_services[i];
                // The service lists its most important operation first (the bank: deposits,
                // where idempotency matters most); bias towards it.
                let operation = if self.rng.chance(0.65) {
                    &ops[0]
                } else {
                    self.rng.pick(ops)
                };
                When::Effect {
                    service: service.to_string(),
                    operation: operation.clone(),
                    nth: self.rng.range(1, 10) as u32,
                }
            }
            1 => When::History {
                event_type: self.rng.pick(&TRIGGER_EVENTS).to_string(),
                nth: self.rng.range(1, 10) as u32,
            },
            _ => When::StoreWrite {
                nth: self.rng.range(1, 40) as u32,
            },
        }
    }

    fn event(&mut self, kind: Kind, k: &Knobs) -> FaultEvent {
        match kind {
            Kind::Drop | Kind::Duplicate | Kind::Delay | Kind::DropNext => {
                self.message_event(kind, k)
            }
            Kind::Partition => {
                let mut members: Vec<String> = Vec::new();
                while members.is_empty() || members.len() == self.nodes.len() {
                    members = self
                        .nodes
                        .clone()
                        .into_iter()
                        .filter(|_| self.rng.chance(0.35))
                        .collect();
                    if self.nodes.len() < 2 {
                        break;
                    }
                }
                FaultEvent {
                    when: self.at(),
                    fault: Fault::Partition {
                        nodes: members,
                        duration_ms: duration(&mut self.rng),
                    },
                }
            }
            Kind::OneWayPartition => {
                let (from, to) = self.link();
                FaultEvent {
                    when: self.at(),
                    fault: Fault::OneWayPartition {
                        from,
                        to,
                        duration_ms: duration(&mut self.rng),
                    },
                }
            }
            Kind::TimedKill => {
                let has_services = !self.topo.services.is_empty();
                let node = match self.rng.weighted(&[5, 3, if has_services { 2 } else { 0 }]) {
                    0 => self.worker_or_server(),
                    1 => Topology::SERVER.to_string(),
                    _ => self.rng.pick(&self.topo.services).clone(),
                };
                FaultEvent {
                    when: self.at(),
                    fault: Fault::Kill {
                        node: NodeRef::Named(node),
                        restart_after_ms: restart_delay(&mut self.rng, k.max_restart_ms),
                    },
                }
            }
            Kind::ClockSkew => self.clock_skew(),
            Kind::TriggeredKill => {
                let when = self.trigger();
                let node = match &when {
                    When::Effect { service, .. } => match self.rng.weighted(&[75, 15, 10]) {
                        0 => NodeRef::Caller,
                        1 => NodeRef::Named(Topology::SERVER.to_string()),
                        _ => NodeRef::Named(service.clone()),
                    },
                    When::StoreWrite { .. } => NodeRef::Named(Topology::SERVER.to_string()),
                    _ => {
                        if self.rng.chance(0.6) {
                            NodeRef::Named(self.worker_or_server())
                        } else {
                            NodeRef::Named(Topology::SERVER.to_string())
                        }
                    }
                };
                FaultEvent {
                    when,
                    fault: Fault::Kill {
                        node,
                        restart_after_ms: restart_delay(&mut self.rng, k.max_restart_ms),
                    },
                }
            }
        }
    }

    /// A message fault of `kind`. Each draws its trigger, then its target, then the effect's
    /// fields, in that order (a delay draws its bounds first).
    fn message_event(&mut self, kind: Kind, k: &Knobs) -> FaultEvent {
        match kind {
            Kind::Drop => FaultEvent {
                when: self.at(),
                fault: Fault::Message {
                    target: self.target(),
                    effect: MessageFault::Drop {
                        rate: rate(&mut self.rng, k.rate.0, k.rate.1),
                        duration_ms: duration(&mut self.rng),
                    },
                },
            },
            Kind::Duplicate => FaultEvent {
                when: self.at(),
                fault: Fault::Message {
                    target: self.target(),
                    effect: MessageFault::Duplicate {
                        rate: rate(&mut self.rng, k.rate.0, k.rate.1),
                        duration_ms: duration(&mut self.rng),
                    },
                },
            },
            Kind::Delay => {
                let max_ms = self.rng.range(1, k.max_delay_ms.max(1));
                let min_ms = self.rng.below(max_ms.min(10));
                FaultEvent {
                    when: self.at(),
                    fault: Fault::Message {
                        target: self.target(),
                        effect: MessageFault::Delay {
                            min_ms,
                            max_ms,
                            duration_ms: duration(&mut self.rng),
                        },
                    },
                }
            }
            Kind::DropNext => {
                // Half the time right after a deep event: "the bank applied the deposit, and
                // its answer is lost" / "the server appended the event, and its next message is
                // lost".
                if self.rng.chance(0.5) {
                    let when = self.trigger();
                    let node = match &when {
                        When::Effect { service, .. } => service.clone(),
                        _ => Topology::SERVER.to_string(),
                    };
                    FaultEvent {
                        when,
                        fault: Fault::Message {
                            target: Target::Node(node),
                            effect: MessageFault::DropNext {
                                count: self.rng.range(1, 3) as u32,
                            },
                        },
                    }
                } else {
                    FaultEvent {
                        when: self.at(),
                        fault: Fault::Message {
                            target: self.target(),
                            effect: MessageFault::DropNext {
                                count: self.rng.range(1, 5) as u32,
                            },
                        },
                    }
                }
            }
            _ => unreachable!("{kind:?} is not a message fault"),
        }
    }

    fn clock_skew(&mut self) -> FaultEvent {
        let node = if self.topo.workers.is_empty() {
            Topology::SERVER.to_string()
        } else {
            self.rng.pick(&self.topo.workers).clone()
        };
        // Up to 20 s either way: beyond an activity's start-to-close timeout (5 s in the fixtures).
        let magnitude = self.rng.log_range(100, 20_000) as i64;
        let skew_ms = if self.rng.chance(0.5) {
            -magnitude
        } else {
            magnitude
        };
        FaultEvent {
            when: self.at(),
            fault: Fault::ClockSkew {
                node,
                skew_ms,
                duration_ms: duration(&mut self.rng).max(1_000),
            },
        }
    }

    /// `count` events drawn from `kinds` by weight.
    fn events(&mut self, kinds: &[(Kind, Knobs)], count: usize) -> Vec<FaultEvent> {
        let weights: Vec<u32> = kinds.iter().map(|(_, k)| k.weight).collect();
        (0..count)
            .map(|_| {
                let (kind, knobs) = kinds[self.rng.weighted(&weights)];
                self.event(kind, &knobs)
            })
            .collect()
    }

    fn standard(kinds: &[Kind]) -> Vec<(Kind, Knobs)> {
        kinds.iter().map(|k| (*k, Knobs::standard(*k))).collect()
    }

    /// Swarm: each kind on with p = 0.5 (at least one), each with its own weight and
    /// intensity, then 1-10 events from the enabled kinds only.
    fn swarm(&mut self) -> Vec<FaultEvent> {
        let mut enabled: Vec<Kind> = ALL_KINDS
            .into_iter()
            .filter(|_| self.rng.chance(0.5))
            .collect();
        if enabled.is_empty() {
            enabled.push(*self.rng.pick(&ALL_KINDS));
        }
        let kinds: Vec<(Kind, Knobs)> = enabled
            .into_iter()
            .map(|kind| {
                let lo = rate(&mut self.rng, 0.02, 0.4);
                let hi = round_rate(lo + (1.0 - lo) * self.rng.f64() * 0.6);
                let knobs = Knobs {
                    weight: self.rng.range(1, 4) as u32,
                    rate: (lo, hi.max(lo)),
                    max_delay_ms: self.rng.range(5, 50),
                    max_restart_ms: self.rng.log_range(20, 5_000),
                };
                (kind, knobs)
            })
            .collect();
        let count = self.rng.range(1, 10) as usize;
        self.events(&kinds, count)
    }

    fn heal_at(&mut self, events: &[FaultEvent]) -> u64 {
        (self.rng.range(50, 200) * 100).max(last_timed(events))
    }
}

/// The time of the latest timed event (0 when none).
pub(crate) fn last_timed(events: &[FaultEvent]) -> u64 {
    events
        .iter()
        .filter_map(|e| match e.when {
            When::At { ms } => Some(ms),
            _ => None,
        })
        .max()
        .unwrap_or(0)
}

/// Timed events first, in time order, then triggered ones (stable: their order so far), as
/// every generated plan has them.
pub(crate) fn order_events(events: &mut [FaultEvent]) {
    events.sort_by_key(|e| match e.when {
        When::At { ms } => (0, ms),
        _ => (1, 0),
    });
}

/// A seed's plan for a profile. Deterministic: the same `(profile, seed, topology)` gives the
/// same plan. Every event names only the topology's nodes, every timed event is at or before
/// `heal_at_ms`, every rate is in `(0, 1]`.
pub fn generate(profile: Profile, seed: u64, topo: &Topology) -> FaultPlan {
    let mut g = Gen::new(Rng::new(seed ^ profile.salt()), topo);
    let mut events = match profile {
        Profile::None => return FaultPlan::none(),
        Profile::Network => {
            let n = g.rng.range(1, 6) as usize;
            g.events(&Gen::standard(&NETWORK_KINDS), n)
        }
        Profile::Crash => {
            let n = g.rng.range(1, 4) as usize;
            g.events(&Gen::standard(&CRASH_KINDS), n)
        }
        Profile::Chaos => {
            // At least one network fault and one kill, 2-10 events in all.
            let n = g.rng.range(2, 10) as usize;
            let net = g.rng.range(1, n as u64 - 1) as usize;
            let mut ev = g.events(&Gen::standard(&NETWORK_KINDS), net);
            ev.extend(g.events(&Gen::standard(&CRASH_KINDS), n - net));
            // Everything: sometimes a worker with a skewed clock too.
            if g.rng.chance(0.25) && !g.topo.workers.is_empty() {
                ev.push(g.clock_skew());
            }
            ev
        }
        Profile::Swarm => g.swarm(),
    };
    order_events(&mut events);
    let heal_at_ms = g.heal_at(&events);
    FaultPlan { events, heal_at_ms }
}

/// Every node name an event mentions.
pub fn named_nodes(event: &FaultEvent) -> Vec<&str> {
    let mut out = Vec::new();
    if let When::Effect { service, .. } = &event.when {
        out.push(service.as_str());
    }
    fn push_target<'a>(t: &'a Target, out: &mut Vec<&'a str>) {
        match t {
            Target::All | Target::Message(_) => {}
            Target::Node(n) => out.push(n),
            Target::Link { from, to } => {
                out.push(from);
                out.push(to);
            }
        }
    }
    match &event.fault {
        Fault::Message { target, .. } => push_target(target, &mut out),
        Fault::Partition { nodes, .. } => out.extend(nodes.iter().map(String::as_str)),
        Fault::OneWayPartition { from, to, .. } => {
            out.push(from);
            out.push(to);
        }
        Fault::Kill { node, .. } => {
            if let NodeRef::Named(n) = node {
                out.push(n);
            }
        }
        Fault::ClockSkew { node, .. } => out.push(node),
        // Sent from the client node.
        Fault::Terminate { .. } | Fault::Cancel { .. } => out.push(Topology::CLIENT),
    }
    out
}

#[cfg(test)]
mod tests;
