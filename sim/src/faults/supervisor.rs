//! The supervisor: carries out a [`FaultPlan`] against a running simulation, then waits for
//! the run's work to finish.
//!
//! It reaches the nodes only through [`Cluster`], which the composition root implements (kill
//! or restart a node by name, cut a link, install a message rule, skew a clock, ask the server
//! through the client to terminate or cancel a workflow, tell whether the work is done), so `faults/` never imports `scenario/`. It watches the trace for the
//! plan's triggers (`When::Effect`, `When::History`, `When::StoreWrite`) and keeps a queue of
//! timed faults and of undo actions (restarts, unclogs, rule removals) by virtual time.
//!
//! Invariants:
//! - Every fault ends by the heal (`heal_at_ms`): at the heal every pending undo comes due, and
//!   no fault is applied after it. The run ends when the work is done and nothing is left to
//!   undo (or once healed), or at the liveness deadline (the heal + the scenario's allowance).
//! - Each applied fault is recorded in the trace (and in the report) before it takes effect,
//!   even when it turns out to name a node that does not exist (then it does nothing).
//! - The supervisor counts madsim's tasks once per virtual second, which drops the finished
//!   ones madsim would otherwise keep until their node dies.
//! - One timer in all (an [`Alarm`] moved between deadlines), and a `biased` select, so the
//!   same seed and plan wake it at the same points.

use std::collections::VecDeque;
use std::future::Future;
use std::net::IpAddr;
use std::time::Duration;

use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

use super::{CloseRequest, Fault, FaultPlan, MessageFault, NodeRef, Target, When};
use crate::alarm::Alarm;
use crate::clock::SimClock;
use crate::trace::{Trace, TraceEntry, TraceKind};
use crate::transport::{LinkScope, MessageRule};

/// The running nodes, as the supervisor reaches them: by name (`server`, `worker-1`, `bank`,
/// `client`). Implemented by the composition root.
pub(crate) trait Cluster {
    /// Every node's name, in a fixed order (a partition cuts links in this order).
    fn node_names(&self) -> Vec<String>;
    /// The node's address (message rules are scoped by address); `None`: no such node.
    fn ip(&self, node: &str) -> Option<IpAddr>;
    /// Kills a running node: it loses its memory, its peers see its connections close, and a
    /// killed server loses what it wrote but did not sync.
    fn kill(&self, node: &str);
    /// Restarts a killed node.
    fn restart(&self, node: &str);
    /// Loses every message from `from` to `to` (one direction) until `unclog`.
    fn clog(&self, from: &str, to: &str);
    fn unclog(&self, from: &str, to: &str);
    /// Installs a message rule in every node's transport.
    fn add_message_rule(&self, rule: MessageRule);
    fn remove_message_rule(&self, id: u64);
    /// Sets a node's clock skew (0: back in step).
    fn set_clock_skew(&self, node: &str, skew_ms: i64);
    /// Asks the server, from the client node, to terminate or cancel `workflow_id`'s current
    /// run (retried through faults until the server answers or the client node dies).
    fn request_close(&self, workflow_id: &str, reason: &str, request: CloseRequest);
    /// Whether the run's work is done (every workflow the client started has closed).
    fn finished(&self) -> bool;
    /// Resolves when `finished` may have changed.
    fn progress(&self) -> impl Future<Output = ()> + '_;
}

/// What the supervisor did, for the outcome.
pub(crate) struct SupervisorReport {
    /// Each fault applied, with its virtual time.
    pub applied: Vec<(Duration, String)>,
    /// Each node killed, with its virtual time.
    pub kills: Vec<(Duration, String)>,
    /// Virtual time when the run ended.
    pub ended_at: Duration,
}

/// A fault in force that must be undone later.
enum Undo {
    Rule(u64),
    Skew(String),
    Clog(Vec<(String, String)>),
    Restart(String),
}

/// Carries out one plan. Build it before the nodes (its trigger watcher must see the whole
/// trace), then [`Supervisor::run`] it.
pub(crate) struct Supervisor {
    plan: FaultPlan,
    trace: Trace,
    clock: SimClock,
    heal_at: Duration,
    /// Triggered events (plan index, calling worker), from the trace watcher.
    triggered: UnboundedReceiver<(usize, Option<String>)>,
    /// Kept so the channel stays open while the supervisor runs.
    _trigger_tx: UnboundedSender<(usize, Option<String>)>,
    /// Timed events (time, plan index), earliest first.
    timed: VecDeque<(Duration, usize)>,
    /// Undo actions by due time, then by the order they were scheduled.
    undo: Vec<(Duration, u64, Undo)>,
    undo_seq: u64,
    rule_id: u64,
    healed: bool,
    applied: Vec<(Duration, String)>,
    kills: Vec<(Duration, String)>,
}

impl Supervisor {
    /// A supervisor for `plan`, watching `trace` for the plan's triggers from now on.
    pub fn new(plan: FaultPlan, trace: Trace, clock: SimClock) -> Self {
        let (trigger_tx, triggered) = unbounded_channel();
        watch_triggers(&plan, &trace, trigger_tx.clone());
        let heal_at = Duration::from_millis(plan.heal_at_ms);
        let mut timed: Vec<(Duration, usize)> = plan
            .events
            .iter()
            .enumerate()
            .filter_map(|(i, e)| match e.when {
                When::At { ms } => Some((Duration::from_millis(ms.min(plan.heal_at_ms)), i)),
                _ => None,
            })
            .collect();
        timed.sort();
        Supervisor {
            healed: plan.events.is_empty(),
            plan,
            trace,
            clock,
            heal_at,
            triggered,
            _trigger_tx: trigger_tx,
            timed: timed.into(),
            undo: Vec::new(),
            undo_seq: 0,
            rule_id: 0,
            applied: Vec::new(),
            kills: Vec::new(),
        }
    }

    /// Applies the plan, heals, and waits for the work to finish: returns when `cluster` is
    /// finished and no fault is left to undo (or the plan has healed), or at `heal_at +
    /// liveness_deadline`.
    pub async fn run(
        mut self,
        cluster: &impl Cluster,
        liveness_deadline: Duration,
    ) -> SupervisorReport {
        let clock = self.clock;
        let deadline = self.heal_at + liveness_deadline;
        let tasks = madsim::runtime::Handle::current();
        // Kept across iterations: every workflow close wakes this loop, and a fresh sleep per
        // wake would leave a simulation timer behind each time.
        let mut alarm = Alarm::at(clock.instant_after(deadline));
        let mut pruned_at = Duration::ZERO;
        loop {
            let now = clock.elapsed();
            if cluster.finished() && (self.healed || self.undo.is_empty()) {
                break;
            }
            // madsim keeps a weak handle to every task a node ever spawned until the node dies,
            // and with it the task's bookkeeping (~150 bytes); counting the tasks drops the
            // finished ones. Once per virtual second, on a wake-up this loop has anyway.
            if now >= pruned_at + Duration::from_secs(1) {
                pruned_at = now;
                let _ = tasks.metrics().num_tasks();
            }
            if now >= deadline {
                break;
            }
            alarm.reset(clock.instant_after(self.next_wake(deadline)));
            let fired = tokio::select! {
                biased;
                t = self.triggered.recv() => t,
                _ = cluster.progress() => None,
                _ = &mut alarm => None,
            };
            let now = clock.elapsed();
            for (i, caller) in self.due(fired, now) {
                self.apply(cluster, i, caller, now);
            }
            if !self.healed && now >= self.heal_at {
                self.healed = true;
                for (t, _, _) in self.undo.iter_mut() {
                    *t = (*t).min(now);
                }
                self.trace
                    .record(TraceKind::Fault("heal: all faults end".into()));
            }
            self.undo_due(cluster, now);
        }
        SupervisorReport {
            applied: self.applied,
            kills: self.kills,
            ended_at: clock.elapsed(),
        }
    }

    /// The next wake-up: a timed fault, an undo, the heal, or the deadline.
    fn next_wake(&self, deadline: Duration) -> Duration {
        let mut next = deadline;
        if let Some((t, _)) = self.timed.front() {
            next = next.min(*t);
        }
        if let Some(t) = self.undo.iter().map(|(t, _, _)| *t).min() {
            next = next.min(t);
        }
        if !self.healed {
            next = next.min(self.heal_at);
        }
        next
    }

    /// The events to apply now: the one a trigger fired, then the timed ones due (none once
    /// healed; timed events due are consumed either way).
    fn due(
        &mut self,
        fired: Option<(usize, Option<String>)>,
        now: Duration,
    ) -> Vec<(usize, Option<String>)> {
        let mut due = Vec::new();
        if let Some(f) = fired {
            if !self.healed {
                due.push(f);
            }
        }
        while self.timed.front().is_some_and(|(t, _)| *t <= now) {
            let (_, i) = self.timed.pop_front().expect("front");
            if !self.healed {
                due.push((i, None));
            }
        }
        due
    }

    fn schedule_undo(&mut self, at: Duration, undo: Undo) {
        self.undo_seq += 1;
        self.undo.push((at, self.undo_seq, undo));
    }

    /// Applies the plan's `i`-th event (`caller`: the worker whose call triggered it).
    fn apply(&mut self, cluster: &impl Cluster, i: usize, caller: Option<String>, now: Duration) {
        let ev = &self.plan.events[i];
        let desc = ev.to_string();
        self.trace.record(TraceKind::Fault(desc.clone()));
        self.applied.push((now, desc));
        // When a fault lasting `d` ms ends: never after the heal (nor before now).
        let heal_at = self.heal_at;
        let until = |d: u64| (now + Duration::from_millis(d)).min(heal_at.max(now));
        match ev.fault.clone() {
            Fault::Message { target, effect } => {
                let Some(scope) = scope(cluster, &target) else {
                    return;
                };
                self.rule_id += 1;
                cluster.add_message_rule(message_rule(self.rule_id, scope, &effect));
                let ends = effect.duration_ms().map_or(heal_at.max(now), until);
                self.schedule_undo(ends, Undo::Rule(self.rule_id));
            }
            Fault::Partition {
                nodes: members,
                duration_ms,
            } => {
                let names = cluster.node_names();
                let mut links = Vec::new();
                for a in &names {
                    let inside = members.contains(a);
                    for b in &names {
                        if inside != members.contains(b) {
                            cluster.clog(a, b);
                            links.push((a.clone(), b.clone()));
                        }
                    }
                }
                self.schedule_undo(until(duration_ms), Undo::Clog(links));
            }
            Fault::OneWayPartition {
                from,
                to,
                duration_ms,
            } => {
                if cluster.ip(&from).is_none() || cluster.ip(&to).is_none() {
                    return;
                }
                cluster.clog(&from, &to);
                self.schedule_undo(until(duration_ms), Undo::Clog(vec![(from, to)]));
            }
            Fault::ClockSkew {
                node,
                skew_ms,
                duration_ms,
            } => {
                if cluster.ip(&node).is_none() {
                    return;
                }
                cluster.set_clock_skew(&node, skew_ms);
                self.schedule_undo(until(duration_ms), Undo::Skew(node));
            }
            Fault::Kill {
                node,
                restart_after_ms,
            } => {
                let name = match node {
                    NodeRef::Named(n) => n,
                    NodeRef::Caller => match caller.filter(|c| !c.is_empty()) {
                        Some(c) => c,
                        None => return,
                    },
                };
                if cluster.ip(&name).is_none() || self.is_down(&name) {
                    return;
                }
                cluster.kill(&name);
                self.kills.push((now, name.clone()));
                self.schedule_undo(until(restart_after_ms), Undo::Restart(name));
            }
            // One request, nothing to undo: a closed run stays closed.
            Fault::Terminate {
                workflow_id,
                reason,
            } => cluster.request_close(&workflow_id, &reason, CloseRequest::Terminate),
            Fault::Cancel {
                workflow_id,
                reason,
            } => cluster.request_close(&workflow_id, &reason, CloseRequest::Cancel),
        }
    }

    /// Whether `node` was killed and awaits its restart.
    fn is_down(&self, node: &str) -> bool {
        self.undo
            .iter()
            .any(|(_, _, u)| matches!(u, Undo::Restart(n) if n == node))
    }

    /// Carries out the undo actions due by `now`, earliest (then first scheduled) first.
    fn undo_due(&mut self, cluster: &impl Cluster, now: Duration) {
        self.undo.sort_by_key(|(t, s, _)| (*t, *s));
        while self.undo.first().is_some_and(|(t, _, _)| *t <= now) {
            let (_, _, u) = self.undo.remove(0);
            match u {
                Undo::Rule(id) => cluster.remove_message_rule(id),
                Undo::Skew(node) => cluster.set_clock_skew(&node, 0),
                Undo::Clog(links) => {
                    for (a, b) in links {
                        cluster.unclog(&a, &b);
                    }
                }
                Undo::Restart(name) => {
                    cluster.restart(&name);
                    self.trace
                        .record(TraceKind::Fault(format!("restart {name}")));
                }
            }
        }
    }
}

/// The addresses a message fault's target covers; `None` when it names an unknown node.
fn scope(cluster: &impl Cluster, target: &Target) -> Option<LinkScope> {
    Some(match target {
        Target::All => LinkScope::Any,
        Target::Node(n) => LinkScope::Node(cluster.ip(n)?),
        Target::Link { from, to } => LinkScope::Link {
            from: cluster.ip(from)?,
            to: cluster.ip(to)?,
        },
        Target::Message(kind) => LinkScope::Message(kind.clone()),
    })
}

/// The transport rule that carries out a message fault's effect (its end is the
/// supervisor's: an undo at the fault's duration, or the heal).
fn message_rule(id: u64, scope: LinkScope, effect: &MessageFault) -> MessageRule {
    let rule = MessageRule {
        id,
        scope,
        drop_rate: 0.0,
        duplicate_rate: 0.0,
        extra_delay: None,
        remaining: None,
    };
    match *effect {
        MessageFault::Drop { rate, .. } => MessageRule {
            drop_rate: rate,
            ..rule
        },
        MessageFault::Duplicate { rate, .. } => MessageRule {
            duplicate_rate: rate,
            ..rule
        },
        MessageFault::Delay { min_ms, max_ms, .. } => MessageRule {
            extra_delay: Some((
                Duration::from_millis(min_ms),
                Duration::from_millis(max_ms.max(min_ms)),
            )),
            ..rule
        },
        MessageFault::DropNext { count } => MessageRule {
            drop_rate: 1.0,
            remaining: Some(count.max(1)),
            ..rule
        },
    }
}

/// Installs a trace watcher that sends `(plan index, caller)` when a triggered event's
/// `nth` matching entry is recorded (the caller: the worker whose call made an effect).
fn watch_triggers(
    plan: &FaultPlan,
    trace: &Trace,
    fired: UnboundedSender<(usize, Option<String>)>,
) {
    let watched: Vec<(usize, When)> = plan
        .events
        .iter()
        .enumerate()
        .filter(|(_, e)| !matches!(e.when, When::At { .. }))
        .map(|(i, e)| (i, e.when.clone()))
        .collect();
    if watched.is_empty() {
        return;
    }
    // Per watched event not yet fired: its matches so far.
    let mut watched: Vec<(usize, When, u32)> =
        watched.into_iter().map(|(i, when)| (i, when, 0)).collect();
    trace.set_watcher(Box::new(move |entry: &TraceEntry| {
        // Most entries are messages, which no trigger watches.
        if !matches!(
            entry.kind,
            TraceKind::Effect { .. }
                | TraceKind::HistoryAppend { .. }
                | TraceKind::StoreWrite { .. }
        ) {
            return;
        }
        watched.retain_mut(|(i, when, count)| {
            let Some(caller) = trigger_hit(when, entry) else {
                return true;
            };
            *count += 1;
            if *count == when_nth(when).max(1) {
                let _ = fired.send((*i, caller));
                return false; // fires once
            }
            true
        });
    }));
}

/// Whether `entry` matches the trigger `when`: `Some(caller)` if so (the calling worker for an
/// effect, `None` otherwise).
fn trigger_hit(when: &When, entry: &TraceEntry) -> Option<Option<String>> {
    match (when, &entry.kind) {
        (
            When::Effect {
                service, operation, ..
            },
            TraceKind::Effect {
                service: s,
                operation: o,
                caller,
                ..
            },
        ) => (s == service && o == operation).then(|| Some(caller.clone())),
        (When::History { event_type, .. }, TraceKind::HistoryAppend { event_type: t, .. }) => {
            (t == event_type).then_some(None)
        }
        (When::StoreWrite { .. }, TraceKind::StoreWrite { .. }) => Some(None),
        _ => None,
    }
}

fn when_nth(when: &When) -> u32 {
    match when {
        When::Effect { nth, .. } | When::History { nth, .. } | When::StoreWrite { nth } => *nth,
        When::At { .. } => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(effect: MessageFault) -> MessageRule {
        message_rule(7, LinkScope::Any, &effect)
    }

    #[test]
    fn each_message_effect_becomes_its_transport_rule() {
        let drop = rule(MessageFault::Drop {
            rate: 0.3,
            duration_ms: 10,
        });
        assert_eq!(
            (drop.id, drop.drop_rate, drop.duplicate_rate),
            (7, 0.3, 0.0)
        );
        assert_eq!((drop.extra_delay, drop.remaining), (None, None));
        let dup = rule(MessageFault::Duplicate {
            rate: 0.4,
            duration_ms: 10,
        });
        assert_eq!((dup.drop_rate, dup.duplicate_rate), (0.0, 0.4));
        // A delay range given backwards is read as the single lower bound.
        let delay = rule(MessageFault::Delay {
            min_ms: 9,
            max_ms: 3,
            duration_ms: 10,
        });
        let nine = Duration::from_millis(9);
        assert_eq!(delay.extra_delay, Some((nine, nine)));
        let next = rule(MessageFault::DropNext { count: 0 });
        assert_eq!((next.drop_rate, next.remaining), (1.0, Some(1)));
    }

    fn entry(kind: TraceKind) -> TraceEntry {
        TraceEntry {
            time: crate::history::Timestamp::from_nanos(0),
            kind,
            detail: None,
        }
    }

    #[test]
    fn triggers_match_their_entries_only() {
        let effect = |service: &str, operation: &str| {
            entry(TraceKind::Effect {
                service: service.into(),
                operation: operation.into(),
                idempotency_key: "k".into(),
                applied: true,
                caller: "worker-2".into(),
            })
        };
        let deposit = When::Effect {
            service: "bank".into(),
            operation: "deposit".into(),
            nth: 2,
        };
        assert_eq!(
            trigger_hit(&deposit, &effect("bank", "deposit")),
            Some(Some("worker-2".into()))
        );
        assert_eq!(trigger_hit(&deposit, &effect("bank", "withdraw")), None);
        let started = When::History {
            event_type: "ActivityTaskStarted".into(),
            nth: 1,
        };
        let append = |event_type| {
            entry(TraceKind::HistoryAppend {
                run: "wf/run".into(),
                event_id: 5,
                event_type,
            })
        };
        assert_eq!(
            trigger_hit(&started, &append("ActivityTaskStarted")),
            Some(None)
        );
        assert_eq!(trigger_hit(&started, &append("TimerStarted")), None);
        let write = When::StoreWrite { nth: 3 };
        assert_eq!(
            trigger_hit(&write, &entry(TraceKind::StoreWrite { batch: 1 })),
            Some(None)
        );
        assert_eq!(trigger_hit(&write, &effect("bank", "deposit")), None);
        assert_eq!(when_nth(&deposit), 2);
        assert_eq!(when_nth(&When::At { ms: 5 }), 0);
    }
}
