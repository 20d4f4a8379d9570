//! Coverage-guided plan search (`sim run --guided`): plans aimed at the fault/step pairs the
//! sweep has reached least (first those it has not reached at all), built from where and when
//! earlier runs exercised each step, besides plans derived from a corpus and fresh ones.
//!
//! Each seed's plan is one of:
//! - **aimed** (half the seeds once anything has run): a pair is picked by a small tournament
//!   (the one reached in the fewest seeds of three drawn), and one fault is built to hit it
//!   from a sighting of its step (`Sighting`: the node, the peer, the time, the store write):
//!   a server kill on the store write that opened the window; the calling worker killed on a
//!   service's effect; a node killed at a time inside the window it was in; a message fault
//!   on the step's message kind (`{"message": KIND}` target) just before it was sent; a
//!   one-way partition of its link. Half of the aimed plans also carry one or two events of
//!   the seed's fresh plan, so faults combine;
//! - **derived** (a quarter): a corpus plan (plans that reached a pair first) with one or two
//!   events of the fresh plan spliced in, two corpus plans crossed, one event dropped, or one
//!   timed event moved;
//! - **fresh** (a quarter, and every seed of the first round): the profile's own plan.
//!
//! Aimed faults stay within the profile: `network` aims no kills, `crash` no message faults,
//! `none` stays fault-free.
//!
//! Invariants: a seed's plan depends only on the seed and what the guide learnt; the guide
//! learns only between rounds, from the round's runs in seed order, so the same sweep gives
//! the same plans however many jobs run it. Plans name only nodes of the topology and keep
//! every timed event at or before their heal.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::faults::generate::{last_timed, order_events};
use crate::faults::{
    generate, Fault, FaultEvent, FaultPlan, MessageFault, NodeRef, Profile, Target, Topology, When,
};
use crate::record::coverage::{FaultKind, Sighting, Step};
use crate::record::CoverageRecord;
use crate::rng::{mix64, Rng};

/// Most plans the corpus keeps (the oldest go first).
const MAX_CORPUS: usize = 256;

/// Sightings kept per step over the sweep (the first ones).
const MAX_SIGHTINGS: usize = 32;

/// The guided search's state over one sweep.
pub(super) struct Guide {
    profile: Profile,
    topo: Topology,
    corpus: Vec<FaultPlan>,
    /// Seeds that reached each pair so far.
    reached: BTreeMap<(FaultKind, Step), u64>,
    /// Where and when runs exercised each step, with the plan of the run that did.
    sightings: BTreeMap<Step, Vec<(Sighting, Arc<FaultPlan>)>>,
    /// Seeds whose runs exercised each step.
    steps_seen: BTreeMap<Step, u64>,
    /// Runs learnt from.
    runs: u64,
}

impl Guide {
    pub(super) fn new(profile: Profile, topo: Topology) -> Guide {
        Guide {
            profile,
            topo,
            corpus: Vec::new(),
            reached: BTreeMap::new(),
            sightings: BTreeMap::new(),
            steps_seen: BTreeMap::new(),
            runs: 0,
        }
    }

    /// The plan for `seed`: aimed at a pair, derived from the corpus, or its fresh plan.
    pub(super) fn plan_for(&self, seed: u64) -> FaultPlan {
        let fresh = generate(self.profile, seed, &self.topo);
        if self.profile == Profile::None || (self.corpus.is_empty() && self.sightings.is_empty()) {
            return fresh;
        }
        let mut rng = Rng::new(mix64(seed ^ 0x6775_6964_6564));
        match rng.weighted(&[1, 2, 1]) {
            0 => fresh,
            1 => match self.aimed(&fresh, &mut rng) {
                Some(plan) => plan,
                None => self.derived(fresh, &mut rng),
            },
            _ => self.derived(fresh, &mut rng),
        }
    }

    /// A plan derived from the corpus (the fresh plan while the corpus is empty).
    fn derived(&self, fresh: FaultPlan, rng: &mut Rng) -> FaultPlan {
        if self.corpus.is_empty() {
            return fresh;
        }
        let pick = |rng: &mut Rng| &self.corpus[rng.below(self.corpus.len() as u64) as usize];
        let parent = pick(rng).clone();
        let derived = match rng.below(4) {
            0 => splice(parent, &fresh, rng),
            1 => {
                let other = pick(rng).clone();
                crossover(parent, other, rng)
            }
            2 if parent.events.len() > 1 => {
                let mut p = parent;
                let i = rng.below(p.events.len() as u64) as usize;
                p.events.remove(i);
                p
            }
            2 => splice(parent, &fresh, rng),
            _ => retime(parent, rng),
        };
        normalized(derived)
    }

    /// A plan aimed at a pair reached in few seeds (`None` when no pair can be aimed at).
    fn aimed(&self, fresh: &FaultPlan, rng: &mut Rng) -> Option<FaultPlan> {
        let candidates: Vec<(FaultKind, Step)> = self
            .sightings
            .keys()
            .filter(|step| !matches!(step, Step::Window { what: "idle", .. }))
            .flat_map(|step| {
                FaultKind::applicable(step)
                    .iter()
                    .filter(|k| self.profile_allows(**k))
                    .map(move |k| (*k, *step))
            })
            .collect();
        if candidates.is_empty() {
            return None;
        }
        let mut plan: Option<FaultPlan> = None;
        for _ in 0..rng.range(1, 3) {
            // A tournament of three: the pair reached in the fewest seeds wins (ties: the
            // first).
            let mut best = *rng.pick(&candidates);
            for _ in 0..2 {
                let other = *rng.pick(&candidates);
                if self.seeds_reaching(&other) < self.seeds_reaching(&best) {
                    best = other;
                }
            }
            let (kind, step) = best;
            let Some((sighting, seen_in)) = self.sightings.get(&step).map(|s| rng.pick(s)) else {
                continue;
            };
            let Some(event) = self.aim(kind, step, sighting, rng) else {
                continue;
            };
            // A step few runs exercise needs what made it happen: the faults of the run that
            // was seen exercising it. Others go on top of the fresh plan.
            let plan = plan.get_or_insert_with(|| {
                let seen = self.steps_seen.get(&step).copied().unwrap_or(0);
                if seen * 4 <= self.runs {
                    (**seen_in).clone()
                } else {
                    fresh.clone()
                }
            });
            plan.events.push(event);
        }
        plan.map(normalized)
    }

    fn seeds_reaching(&self, pair: &(FaultKind, Step)) -> u64 {
        self.reached.get(pair).copied().unwrap_or(0)
    }

    fn profile_allows(&self, kind: FaultKind) -> bool {
        match self.profile {
            Profile::None => false,
            Profile::Network => kind != FaultKind::Crash,
            Profile::Crash => kind == FaultKind::Crash,
            Profile::Chaos | Profile::Swarm => true,
        }
    }

    /// One fault that hits `kind` x `step` where `sighting` saw the step (`None` when the
    /// sighting names a node the plan cannot name).
    fn aim(
        &self,
        kind: FaultKind,
        step: Step,
        sighting: &Sighting,
        rng: &mut Rng,
    ) -> Option<FaultEvent> {
        let at = When::At {
            ms: sighting.at_us / 1000,
        };
        let restart_after_ms = rng.log_range(10, 5_000);
        let known = |n: &str| self.topo.has(n).then(|| n.to_string());
        let message = |effect| match step {
            Step::Message(kind) => Some(Fault::Message {
                target: Target::Message(kind.to_string()),
                effect,
            }),
            // Message faults hit messages only (`FaultKind::applicable`).
            Step::Window { .. } => None,
        };
        Some(match (kind, step) {
            (FaultKind::Crash, Step::Window { role: "server", .. }) => FaultEvent {
                when: When::StoreWrite {
                    nth: sighting.store_write.max(1),
                },
                fault: Fault::Kill {
                    node: NodeRef::Named(Topology::SERVER.to_string()),
                    restart_after_ms,
                },
            },
            (FaultKind::Crash, Step::Window { .. }) => {
                let effects: Vec<(&String, &Vec<String>)> = self
                    .topo
                    .effect_operations
                    .iter()
                    .filter(|(_, ops)| !ops.is_empty())
                    .collect();
                if step == crate::record::coverage::windows::ACTIVITY_AFTER_CALL
                    && !effects.is_empty()
                    && rng.chance(0.5)
                {
                    // The service applying an effect is inside the caller's window.
                    let (service, ops) = *rng.pick(&effects);
                    FaultEvent {
                        when: When::Effect {
                            service: service.clone(),
                            operation: rng.pick(ops).clone(),
                            nth: rng.range(1, 3) as u32,
                        },
                        fault: Fault::Kill {
                            node: NodeRef::Caller,
                            restart_after_ms,
                        },
                    }
                } else {
                    // A millisecond inside the window as the sighting saw it.
                    let first = sighting.at_us.div_ceil(1000);
                    let last = (sighting.until_us / 1000).max(first);
                    FaultEvent {
                        when: When::At {
                            ms: rng.range(first, last),
                        },
                        fault: Fault::Kill {
                            node: NodeRef::Named(known(&sighting.node)?),
                            restart_after_ms,
                        },
                    }
                }
            }
            (FaultKind::Crash, Step::Message(_)) => return None,
            (FaultKind::Drop, _) => FaultEvent {
                when: at,
                fault: message(MessageFault::DropNext {
                    count: rng.range(1, 2) as u32,
                })?,
            },
            (FaultKind::Duplicate, _) => FaultEvent {
                when: at,
                fault: message(MessageFault::Duplicate {
                    rate: 1.0,
                    duration_ms: rng.log_range(1, 500),
                })?,
            },
            (FaultKind::Delay, _) => {
                let min_ms = rng.below(50);
                FaultEvent {
                    when: at,
                    fault: message(MessageFault::Delay {
                        min_ms,
                        max_ms: min_ms + rng.log_range(1, 1_000),
                        duration_ms: rng.log_range(1, 500),
                    })?,
                }
            }
            (FaultKind::Partition, _) => {
                let (from, to) = (known(&sighting.node)?, known(&sighting.peer)?);
                let duration_ms = rng.log_range(20, 3_000);
                FaultEvent {
                    when: at,
                    fault: if rng.chance(0.7) {
                        Fault::OneWayPartition {
                            from,
                            to,
                            duration_ms,
                        }
                    } else {
                        Fault::Partition {
                            nodes: vec![from],
                            duration_ms,
                        }
                    },
                }
            }
        })
    }

    /// Learns from a run of `plan`: which pairs it reached, where it saw each step; a plan
    /// that reached a pair no earlier run reached joins the corpus. Returns whether it did.
    pub(super) fn learn(&mut self, plan: &FaultPlan, record: Option<&CoverageRecord>) -> bool {
        let Some(record) = record else {
            return false;
        };
        let mut new = false;
        for pair in record.hits.keys() {
            let seeds = self.reached.entry(*pair).or_default();
            new |= *seeds == 0;
            *seeds += 1;
        }
        self.runs += 1;
        for step in record.seen.keys() {
            *self.steps_seen.entry(*step).or_default() += 1;
        }
        let plan_ref = Arc::new(plan.clone());
        for (step, seen) in &record.sightings {
            let kept = self.sightings.entry(*step).or_default();
            let room = MAX_SIGHTINGS.saturating_sub(kept.len());
            kept.extend(
                seen.iter()
                    .take(room)
                    .map(|s| (s.clone(), plan_ref.clone())),
            );
        }
        if new && !plan.is_empty() {
            if self.corpus.len() == MAX_CORPUS {
                self.corpus.remove(0);
            }
            self.corpus.push(plan.clone());
        }
        new
    }

    /// Plans in the corpus now.
    #[cfg(test)]
    fn corpus_len(&self) -> usize {
        self.corpus.len()
    }
}

/// `parent` with one or two of `fresh`'s events added.
fn splice(mut parent: FaultPlan, fresh: &FaultPlan, rng: &mut Rng) -> FaultPlan {
    if fresh.events.is_empty() {
        return parent;
    }
    for _ in 0..rng.range(1, 2) {
        let e = &fresh.events[rng.below(fresh.events.len() as u64) as usize];
        parent.events.push(e.clone());
    }
    parent.heal_at_ms = parent.heal_at_ms.max(fresh.heal_at_ms);
    parent
}

/// A random half of `a`'s events with a random half of `b`'s.
fn crossover(a: FaultPlan, b: FaultPlan, rng: &mut Rng) -> FaultPlan {
    let heal_at_ms = a.heal_at_ms.max(b.heal_at_ms);
    let mut events: Vec<_> = a.events.into_iter().filter(|_| rng.chance(0.5)).collect();
    events.extend(b.events.into_iter().filter(|_| rng.chance(0.5)));
    FaultPlan { events, heal_at_ms }
}

/// `p` with one timed event moved by up to half its time, either way.
fn retime(mut p: FaultPlan, rng: &mut Rng) -> FaultPlan {
    let timed: Vec<usize> = (0..p.events.len())
        .filter(|i| matches!(p.events[*i].when, When::At { .. }))
        .collect();
    if timed.is_empty() {
        return p;
    }
    let i = timed[rng.below(timed.len() as u64) as usize];
    if let When::At { ms } = &mut p.events[i].when {
        let span = (*ms / 2).max(1);
        let shift = rng.range(0, span);
        *ms = if rng.chance(0.5) {
            ms.saturating_sub(shift)
        } else {
            (*ms + shift).min(p.heal_at_ms)
        };
    }
    p
}

/// Events ordered as generated plans have them, and a heal no earlier than any timed event.
fn normalized(mut p: FaultPlan) -> FaultPlan {
    order_events(&mut p.events);
    p.heal_at_ms = p.heal_at_ms.max(last_timed(&p.events));
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::coverage::windows;

    fn topo() -> Topology {
        Topology {
            workers: vec!["worker-1".into(), "worker-2".into()],
            services: vec!["bank".into()],
            effect_operations: [("bank".to_string(), vec!["deposit".to_string()])]
                .into_iter()
                .collect(),
            workflows: vec!["w-1".into()],
        }
    }

    fn record(pairs: &[(FaultKind, Step)]) -> CoverageRecord {
        CoverageRecord {
            seen: Default::default(),
            hits: pairs.iter().map(|p| (*p, 1)).collect(),
            sightings: Default::default(),
        }
    }

    fn sighting(at_us: u64, until_us: u64, node: &str, peer: &str, write: u32) -> Sighting {
        Sighting {
            at_us,
            until_us,
            node: node.into(),
            peer: peer.into(),
            store_write: write,
        }
    }

    /// A run that saw a completion sent, a server write and a worker's workflow task, and hit
    /// nothing.
    fn sightings() -> CoverageRecord {
        let complete = Step::Message("CompleteActivityTask");
        let write = windows::server_unsynced("CompleteActivityTask");
        CoverageRecord {
            seen: [(complete, 1), (write, 1), (windows::WORKFLOW_TASK, 1)]
                .into_iter()
                .collect(),
            hits: Default::default(),
            sightings: [
                (
                    complete,
                    vec![sighting(1_234, 1_234, "worker-1", "server", 0)],
                ),
                (write, vec![sighting(1_500, 2_500, "server", "", 3)]),
                (
                    windows::WORKFLOW_TASK,
                    vec![sighting(2_100, 5_900, "worker-2", "", 0)],
                ),
            ]
            .into_iter()
            .collect(),
        }
    }

    #[test]
    fn aimed_plans_hit_the_steps_where_they_were_seen() {
        let mut g = Guide::new(Profile::Swarm, topo());
        g.learn(&FaultPlan::none(), Some(&sightings()));
        let plans: Vec<FaultPlan> = (0..400).map(|s| g.plan_for(s)).collect();
        let has = |f: &dyn Fn(&FaultEvent) -> bool| plans.iter().any(|p| p.events.iter().any(f));
        let kind = |e: &FaultEvent| match &e.fault {
            Fault::Message {
                target: Target::Message(k),
                ..
            } => Some(k.clone()),
            _ => None,
        };
        assert!(has(
            &|e| kind(e).as_deref() == Some("CompleteActivityTask") && e.when == When::At { ms: 1 }
        ));
        assert!(has(&|e| e.when == When::StoreWrite { nth: 3 }
            && matches!(&e.fault, Fault::Kill { node: NodeRef::Named(n), .. } if n == "server")));
        assert!(has(
            &|e| matches!(e.when, When::At { ms } if (3..=5).contains(&ms))
                && matches!(&e.fault, Fault::Kill { node: NodeRef::Named(n), .. } if n == "worker-2")
        ));
        assert!(has(&|e| matches!(&e.fault,
            Fault::OneWayPartition { from, to, .. } if from == "worker-1" && to == "server")));
        for p in &plans {
            p.validate(&topo()).unwrap();
        }
        // Within the profile: no kills under `network`, no message faults under `crash`.
        let learnt = |profile| {
            let mut g = Guide::new(profile, topo());
            g.learn(&FaultPlan::none(), Some(&sightings()));
            g
        };
        let (net, crash, none) = (
            learnt(Profile::Network),
            learnt(Profile::Crash),
            learnt(Profile::None),
        );
        let any = |p: &FaultPlan, f: fn(&Fault) -> bool| p.events.iter().any(|e| f(&e.fault));
        for s in 0..200 {
            let p = net.plan_for(s);
            assert!(!any(&p, |f| matches!(f, Fault::Kill { .. })), "{p:?}");
            let p = crash.plan_for(s);
            assert!(!any(&p, |f| matches!(f, Fault::Message { .. })), "{p:?}");
        }
        assert!((0..50).all(|s| none.plan_for(s).is_empty()));
    }

    #[test]
    fn the_pair_reached_least_is_favoured() {
        let mut g = Guide::new(Profile::Network, topo());
        let complete = Step::Message("CompleteActivityTask");
        let mut seen = sightings();
        // Drops, duplicates and delays of the completion reached in many seeds; partitions never.
        seen.hits = [FaultKind::Drop, FaultKind::Duplicate, FaultKind::Delay]
            .into_iter()
            .map(|k| ((k, complete), 1))
            .collect();
        for _ in 0..20 {
            g.learn(&FaultPlan::none(), Some(&seen));
        }
        let partitions = (0..400)
            .map(|s| g.plan_for(s))
            .filter(|p| {
                p.events.iter().any(|e| match &e.fault {
                    Fault::OneWayPartition { from, .. } => from == "worker-1",
                    Fault::Partition { nodes, .. } => nodes == &["worker-1"],
                    _ => false,
                })
            })
            .count();
        // Half the plans are aimed; a tournament of three among four kinds picks partitions
        // in 1 - (3/4)^3 = 58% of them.
        assert!(partitions > 80, "{partitions} of 400");
    }

    #[test]
    fn plans_reaching_new_pairs_join_the_corpus_and_seed_later_plans() {
        let mut g = Guide::new(Profile::Swarm, topo());
        assert_eq!(g.plan_for(7), generate(Profile::Swarm, 7, &topo()));
        let first = generate(Profile::Swarm, 1, &topo());
        let crash = (FaultKind::Crash, windows::WORKFLOW_TASK);
        assert!(g.learn(&first, Some(&record(&[crash]))));
        assert!(!g.learn(&first, Some(&record(&[crash]))), "nothing new");
        assert_eq!(g.corpus_len(), 1);
        let derived = (100..200)
            .filter(|s| g.plan_for(*s) != generate(Profile::Swarm, *s, &topo()))
            .count();
        assert!(derived > 50, "most plans derive from the corpus: {derived}");
        for s in 100..200 {
            let p = g.plan_for(s);
            assert_eq!(p, g.plan_for(s), "a seed's plan depends on the seed");
            for e in &p.events {
                if let When::At { ms } = e.when {
                    assert!(ms <= p.heal_at_ms, "{p:?}");
                }
            }
        }
    }
}
