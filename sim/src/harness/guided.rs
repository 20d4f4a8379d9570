//! Coverage-guided plan search (`sim run --guided`): instead of drawing every seed's plan
//! afresh from the profile, keep a corpus of the plans that reached fault/step pairs no earlier
//! seed reached, and derive most new plans from them: a corpus plan with one or two events of
//! the seed's fresh plan spliced in, two corpus plans crossed, one event dropped, or one timed
//! event moved. A quarter of the seeds still get their fresh plan (exploration).
//!
//! Invariants: a seed's plan depends only on the seed and the corpus; the corpus changes only
//! between rounds, from the round's runs in seed order, so the same sweep gives the same plans
//! however many jobs run it. Derived plans name only nodes and effects the fresh plans of the
//! same topology name, and keep every timed event at or before their heal.

use std::collections::BTreeSet;

use crate::faults::generate::{last_timed, order_events};
use crate::faults::{generate, FaultPlan, Profile, Topology, When};
use crate::record::coverage::{FaultKind, Step};
use crate::record::CoverageRecord;
use crate::rng::{mix64, Rng};

/// Most plans the corpus keeps (the oldest go first).
const MAX_CORPUS: usize = 256;

/// The guided search's state over one sweep.
pub(super) struct Guide {
    profile: Profile,
    topo: Topology,
    corpus: Vec<FaultPlan>,
    reached: BTreeSet<(FaultKind, Step)>,
}

impl Guide {
    pub(super) fn new(profile: Profile, topo: Topology) -> Guide {
        Guide {
            profile,
            topo,
            corpus: Vec::new(),
            reached: BTreeSet::new(),
        }
    }

    /// The plan for `seed`: its fresh plan, or one derived from the corpus.
    pub(super) fn plan_for(&self, seed: u64) -> FaultPlan {
        let fresh = generate(self.profile, seed, &self.topo);
        if self.corpus.is_empty() {
            return fresh;
        }
        let mut rng = Rng::new(mix64(seed ^ 0x6775_6964_6564));
        if rng.chance(0.25) {
            return fresh;
        }
        let pick = |rng: &mut Rng| &self.corpus[rng.below(self.corpus.len() as u64) as usize];
        let parent = pick(&mut rng).clone();
        let derived = match rng.below(4) {
            0 => splice(parent, &fresh, &mut rng),
            1 => {
                let other = pick(&mut rng).clone();
                crossover(parent, other, &mut rng)
            }
            2 if parent.events.len() > 1 => {
                let mut p = parent;
                let i = rng.below(p.events.len() as u64) as usize;
                p.events.remove(i);
                p
            }
            2 => splice(parent, &fresh, &mut rng),
            _ => retime(parent, &mut rng),
        };
        normalized(derived)
    }

    /// Learns from a run of `plan`: a plan that reached a pair no earlier run reached joins
    /// the corpus. Returns whether it did.
    pub(super) fn learn(&mut self, plan: &FaultPlan, record: Option<&CoverageRecord>) -> bool {
        let Some(record) = record else {
            return false;
        };
        let mut new = false;
        for pair in record.hits.keys() {
            new |= self.reached.insert(*pair);
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
        }
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
