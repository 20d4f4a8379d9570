//! The composition root: a scenario (what runs) + a seed + a fault plan -> an `Outcome` (what
//! was recorded). `run(scenario, seed, plan)` is a function: same inputs, same outcome, same
//! trace hash.
//!
//! Inside madsim nodes: the server, each worker, each service, the client. Outside (shared,
//! surviving kills): the server's store, each service's state, the effect ledger, the client
//! log, and the trace.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use madsim::runtime::{Handle, NodeHandle};

use crate::alarm::Alarm;
use crate::client::{run_client, ClientConfig, ClientLog, SignalSpec, StartSpec};
use crate::clock::SimClock;
use crate::engine::{run_server, EngineConfig, ServerConfig, SimStore};
use crate::faults::{Fault, FaultEvent, FaultPlan, MessageFault, NodeRef, Target, Topology, When};
use crate::history::{EventType, History};
pub use crate::record::Outcome;
use crate::sdk::Registry;
use crate::service::{run_service, EffectLedger, ServiceLogic};
use crate::trace::{Trace, TraceEntry, TraceKind};
use crate::transport::{Injector, LinkScope, MessageRule, NetEnv};
use crate::worker::{run_worker, WorkerConfig};

/// Builds a scenario's services with fresh state (called once per run).
pub type ServiceFactory = Arc<dyn Fn() -> Vec<Arc<dyn ServiceLogic>> + Send + Sync>;

/// What runs: workflows and activities, workers, services, what the client starts.
#[derive(Clone)]
pub struct Scenario {
    pub name: String,
    pub registry: Registry,
    pub task_queue: String,
    pub workers: usize,
    pub activity_slots: usize,
    /// Evict cached workflow state before every workflow task (replay every time).
    pub evict_every_task: bool,
    pub services: ServiceFactory,
    pub starts: Vec<StartSpec>,
    pub signals: Vec<SignalSpec>,
    pub engine: EngineConfig,
    /// Virtual time allowed after the faults heal for every workflow to close.
    pub liveness_deadline: Duration,
    /// Network latency range (madsim's send latency).
    pub latency: (Duration, Duration),
    /// Keep the trace's entries in the outcome (the hash is always computed). Sweeps turn this
    /// off and re-run failing seeds with it on.
    pub record_trace: bool,
}

impl Scenario {
    /// The nodes a fault plan can name: `worker-1..=workers` and the services, with the
    /// operations each service declares as effects.
    pub fn topology(&self) -> Topology {
        let services = (self.services)();
        Topology {
            workers: (1..=self.workers).map(|i| format!("worker-{i}")).collect(),
            services: services.iter().map(|s| s.name().to_string()).collect(),
            effect_operations: services
                .iter()
                .filter(|s| !s.effect_operations().is_empty())
                .map(|s| {
                    let ops = s
                        .effect_operations()
                        .iter()
                        .map(|o| o.to_string())
                        .collect();
                    (s.name().to_string(), ops)
                })
                .collect(),
        }
    }

    pub fn new(name: impl Into<String>, registry: Registry, task_queue: impl Into<String>) -> Self {
        Scenario {
            name: name.into(),
            registry,
            task_queue: task_queue.into(),
            workers: 1,
            activity_slots: 4,
            evict_every_task: false,
            services: Arc::new(Vec::new),
            starts: Vec::new(),
            signals: Vec::new(),
            engine: EngineConfig::default(),
            liveness_deadline: Duration::from_secs(600),
            latency: (Duration::from_millis(1), Duration::from_millis(5)),
            record_trace: true,
        }
    }
}

pub const SERVER_ADDR: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 7233);

fn worker_ip(i: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 0, 1, (i + 1) as u8))
}

fn service_ip(i: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 0, 2, (i + 1) as u8))
}

const CLIENT_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 3, 1));

/// Runs one seed on a fresh OS thread (std `HashMap` seeding and madsim's context are
/// per-thread; see the madsim notes).
pub fn run(scenario: &Arc<Scenario>, seed: u64, plan: &FaultPlan) -> Outcome {
    let sc = scenario.clone();
    let plan = plan.clone();
    let handle = std::thread::Builder::new()
        .name(format!("seed-{seed}"))
        .stack_size(4 * 1024 * 1024)
        .spawn(move || run_on_this_thread(&sc, seed, &plan));
    match handle.map(|h| h.join()) {
        Ok(Ok(o)) => o,
        Ok(Err(p)) => std::panic::resume_unwind(p),
        Err(e) => panic!("cannot spawn a thread for seed {seed}: {e}"),
    }
}

/// Runs one seed on the current thread.
pub fn run_on_this_thread(scenario: &Arc<Scenario>, seed: u64, plan: &FaultPlan) -> Outcome {
    let mut cfg = madsim::Config::default();
    cfg.net.send_latency = scenario.latency.0
        ..scenario
            .latency
            .1
            .max(scenario.latency.0 + Duration::from_micros(1));
    let rt = madsim::runtime::Runtime::with_seed_and_config(seed, cfg);
    let sc = scenario.clone();
    let plan = plan.clone();
    rt.block_on(async move { simulate(sc, seed, plan).await })
}

struct Nodes {
    by_name: BTreeMap<String, (NodeHandle, IpAddr)>,
}

impl Nodes {
    fn ip(&self, name: &str) -> Option<IpAddr> {
        self.by_name.get(name).map(|(_, ip)| *ip)
    }

    fn scope(&self, t: &Target) -> Option<LinkScope> {
        Some(match t {
            Target::All => LinkScope::Any,
            Target::Node(n) => LinkScope::Node(self.ip(n)?),
            Target::Link { from, to } => LinkScope::Link {
                from: self.ip(from)?,
                to: self.ip(to)?,
            },
        })
    }
}

/// A fault in force that must be undone later.
enum Undo {
    Rule(u64),
    Skew(String),
    Clog(Vec<(madsim::task::NodeId, madsim::task::NodeId)>),
    Restart(String),
}

async fn simulate(sc: Arc<Scenario>, seed: u64, plan: FaultPlan) -> Outcome {
    let clock = SimClock::start();
    let trace = Trace::with_limit(
        clock,
        if sc.record_trace {
            Trace::DEFAULT_MAX_ENTRIES
        } else {
            0
        },
    );
    let injector = Injector::default();
    let env = NetEnv {
        trace: trace.clone(),
        injector: injector.clone(),
        deaths: Default::default(),
        clocks: Default::default(),
    };
    let store = SimStore::new();
    let ledger = EffectLedger::new(trace.clone(), clock);
    let log = ClientLog::default();
    let handle = Handle::current();

    // Fault triggers watch the trace.
    let (trig_tx, mut trig_rx) = tokio::sync::mpsc::unbounded_channel::<(usize, Option<String>)>();
    {
        let watched: Vec<(usize, When)> = plan
            .events
            .iter()
            .enumerate()
            .filter(|(_, e)| !matches!(e.when, When::At { .. }))
            .map(|(i, e)| (i, e.when.clone()))
            .collect();
        if !watched.is_empty() {
            let trig_tx = trig_tx.clone();
            let mut counts: BTreeMap<usize, u32> = BTreeMap::new();
            trace.set_watcher(Box::new(move |entry: &TraceEntry| {
                for (i, when) in &watched {
                    let (hit, caller) = match (when, &entry.kind) {
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
                        ) => (s == service && o == operation, Some(caller.clone())),
                        (
                            When::History { event_type, .. },
                            TraceKind::HistoryAppend { event_type: t, .. },
                        ) => (t == event_type, None),
                        (When::StoreWrite { .. }, TraceKind::StoreWrite { .. }) => (true, None),
                        _ => (false, None),
                    };
                    if !hit {
                        continue;
                    }
                    let nth = match when {
                        When::Effect { nth, .. }
                        | When::History { nth, .. }
                        | When::StoreWrite { nth } => *nth,
                        When::At { .. } => 0,
                    };
                    let c = counts.entry(*i).or_insert(0);
                    *c += 1;
                    if *c == nth.max(1) {
                        let _ = trig_tx.send((*i, caller));
                    }
                }
            }));
        }
    }

    // Nodes.
    let mut nodes = Nodes {
        by_name: BTreeMap::new(),
    };
    let services = (sc.services)();
    let mut service_addrs = BTreeMap::new();
    let mut service_state: Vec<Arc<dyn ServiceLogic>> = Vec::new();
    for (i, svc) in services.into_iter().enumerate() {
        let ip = service_ip(i);
        let addr = SocketAddr::new(ip, 8000);
        let name = svc.name().to_string();
        service_addrs.insert(name.clone(), addr);
        service_state.push(svc.clone());
        let (env, ledger) = (env.clone(), ledger.clone());
        let node = handle
            .create_node()
            .name(name.clone())
            .ip(ip)
            .init(move || run_service(svc.clone(), addr, env.clone(), clock, ledger.clone()))
            .build();
        nodes.by_name.insert(name, (node, ip));
    }
    {
        let mut cfg = ServerConfig::new(SERVER_ADDR);
        cfg.engine = sc.engine.clone();
        let (env, store) = (env.clone(), store.clone());
        let node = handle
            .create_node()
            .name("server")
            .ip(SERVER_ADDR.ip())
            .init(move || run_server(cfg.clone(), store.clone(), env.clone(), clock))
            .build();
        nodes
            .by_name
            .insert("server".into(), (node, SERVER_ADDR.ip()));
    }
    for i in 0..sc.workers {
        let name = format!("worker-{}", i + 1);
        let ip = worker_ip(i);
        let mut cfg = WorkerConfig::new(
            name.clone(),
            SocketAddr::new(ip, 9000),
            SERVER_ADDR,
            sc.task_queue.clone(),
        );
        cfg.activity_slots = sc.activity_slots;
        cfg.evict_every_task = sc.evict_every_task;
        cfg.services = service_addrs.clone();
        let (env, registry) = (env.clone(), sc.registry.clone());
        let node = handle
            .create_node()
            .name(name.clone())
            .ip(ip)
            .init(move || run_worker(cfg.clone(), registry.clone(), env.clone(), clock))
            .build();
        nodes.by_name.insert(name, (node, ip));
    }
    {
        let cfg = ClientConfig {
            addr: SocketAddr::new(CLIENT_IP, 6000),
            server: SERVER_ADDR,
            starts: sc.starts.clone(),
            signals: sc.signals.clone(),
        };
        let (env, log) = (env.clone(), log.clone());
        let node = handle
            .create_node()
            .name("client")
            .ip(CLIENT_IP)
            .init(move || run_client(cfg.clone(), env.clone(), clock, log.clone()))
            .build();
        nodes.by_name.insert("client".into(), (node, CLIENT_IP));
    }

    // The supervisor: applies faults, heals, and waits for every workflow to close.
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
    let mut timed = std::collections::VecDeque::from(timed);
    // Undo actions, by the virtual time they are due.
    let mut undo: Vec<(Duration, u64, Undo)> = Vec::new();
    let mut undo_seq = 0u64;
    let applied: Arc<Mutex<Vec<(Duration, String)>>> = Arc::default();
    let mut healed = plan.events.is_empty();
    let expected = sc.starts.len();
    let deadline = heal_at + sc.liveness_deadline;
    let mut rule_id = 0u64;
    // Kept across iterations: every workflow close wakes this loop, and a fresh sleep per wake
    // would leave a simulation timer behind each time.
    let mut alarm = Alarm::at(clock.instant_after(deadline));
    let mut pruned_at = Duration::ZERO;
    loop {
        let now = clock.elapsed();
        if log.all_closed(expected) && (healed || undo.is_empty()) {
            break;
        }
        // madsim keeps a weak handle to every task a node ever spawned until the node dies, and
        // with it the task's bookkeeping (~150 bytes); counting the tasks drops the finished
        // ones. Once per virtual second, on a wake-up this loop has anyway.
        if now >= pruned_at + Duration::from_secs(1) {
            pruned_at = now;
            let _ = handle.metrics().num_tasks();
        }
        if now >= deadline {
            break;
        }
        // Next wake-up: a timed fault, an undo, the heal, the deadline, or a periodic check.
        let mut next = deadline;
        if let Some((t, _)) = timed.front() {
            next = next.min(*t);
        }
        if let Some(t) = undo.iter().map(|(t, _, _)| *t).min() {
            next = next.min(t);
        }
        if !healed {
            next = next.min(heal_at);
        }
        alarm.reset(clock.instant_after(next));
        let fired = tokio::select! {
            biased;
            t = trig_rx.recv() => t,
            _ = log.closed_notify().notified() => None,
            _ = &mut alarm => None,
        };
        let now = clock.elapsed();
        let mut due: Vec<(usize, Option<String>)> = Vec::new();
        if let Some(f) = fired {
            if !healed {
                due.push(f);
            }
        }
        while timed.front().is_some_and(|(t, _)| *t <= now) {
            let (_, i) = timed.pop_front().expect("front");
            if !healed {
                due.push((i, None));
            }
        }
        for (i, caller) in due {
            let ev: &FaultEvent = &plan.events[i];
            let desc = format!("{ev}");
            trace.record(TraceKind::Fault(desc.clone()));
            applied
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((now, desc));
            let until = |d: u64| (now + Duration::from_millis(d)).min(heal_at.max(now));
            if let Some((target, mut rule, duration_ms)) = message_rule(&ev.fault) {
                let Some(scope) = nodes.scope(target) else {
                    continue;
                };
                rule_id += 1;
                rule.id = rule_id;
                rule.scope = scope;
                injector.add(rule);
                let ends = duration_ms.map_or(heal_at.max(now), until);
                undo_seq += 1;
                undo.push((ends, undo_seq, Undo::Rule(rule_id)));
                continue;
            }
            match &ev.fault {
                Fault::Message { .. } => unreachable!("message faults are handled above"),
                Fault::Partition {
                    nodes: members,
                    duration_ms,
                } => {
                    let net = madsim::net::NetSim::current();
                    let mut links = Vec::new();
                    for (name, (h, _)) in &nodes.by_name {
                        let inside = members.contains(name);
                        for (other, (h2, _)) in &nodes.by_name {
                            if inside != members.contains(other) {
                                net.clog_link(h.id(), h2.id());
                                links.push((h.id(), h2.id()));
                            }
                        }
                    }
                    undo_seq += 1;
                    undo.push((until(*duration_ms), undo_seq, Undo::Clog(links)));
                }
                Fault::OneWayPartition {
                    from,
                    to,
                    duration_ms,
                } => {
                    let (Some((a, _)), Some((b, _))) =
                        (nodes.by_name.get(from), nodes.by_name.get(to))
                    else {
                        continue;
                    };
                    madsim::net::NetSim::current().clog_link(a.id(), b.id());
                    undo_seq += 1;
                    undo.push((
                        until(*duration_ms),
                        undo_seq,
                        Undo::Clog(vec![(a.id(), b.id())]),
                    ));
                }
                Fault::ClockSkew {
                    node,
                    skew_ms,
                    duration_ms,
                } => {
                    if !nodes.by_name.contains_key(node) {
                        continue;
                    }
                    env.clocks.set(node, *skew_ms);
                    undo_seq += 1;
                    undo.push((until(*duration_ms), undo_seq, Undo::Skew(node.clone())));
                }
                Fault::Kill {
                    node,
                    restart_after_ms,
                } => {
                    let name = match node {
                        NodeRef::Named(n) => n.clone(),
                        NodeRef::Caller => match caller.clone().filter(|c| !c.is_empty()) {
                            Some(c) => c,
                            None => continue,
                        },
                    };
                    let Some((h, ip)) = nodes.by_name.get(&name) else {
                        continue;
                    };
                    if undo
                        .iter()
                        .any(|(_, _, u)| matches!(u, Undo::Restart(n) if *n == name))
                    {
                        continue; // already down
                    }
                    handle.kill(h.id());
                    env.deaths.record(*ip, clock.now());
                    if name == "server" {
                        let lost = store.lose_unsynced();
                        if lost > 0 {
                            trace.record(TraceKind::Note(format!(
                                "server store lost {lost} unsynced batch(es)"
                            )));
                        }
                    }
                    undo_seq += 1;
                    undo.push((until(*restart_after_ms), undo_seq, Undo::Restart(name)));
                }
            }
        }
        // Heal everything at the heal time.
        if !healed && now >= heal_at {
            healed = true;
            for (t, _, _) in undo.iter_mut() {
                *t = (*t).min(now);
            }
            trace.record(TraceKind::Fault("heal: all faults end".into()));
        }
        undo.sort_by_key(|(t, s, _)| (*t, *s));
        while undo.first().is_some_and(|(t, _, _)| *t <= now) {
            let (_, _, u) = undo.remove(0);
            match u {
                Undo::Rule(id) => injector.remove(id),
                Undo::Skew(node) => env.clocks.set(&node, 0),
                Undo::Clog(links) => {
                    let net = madsim::net::NetSim::current();
                    for (a, b) in links {
                        net.unclog_link(a, b);
                    }
                }
                Undo::Restart(name) => {
                    if let Some((h, _)) = nodes.by_name.get(&name) {
                        handle.restart(h.id());
                        trace.record(TraceKind::Fault(format!("restart {name}")));
                    }
                }
            }
        }
    }
    drop(trig_tx);
    let ended_at = clock.elapsed();
    // Pending restarts still happen in the record (a node left dead is reported by liveness).
    let histories = store
        .take_histories()
        .into_iter()
        .map(|(k, events)| (k, History::new(events)))
        .collect();
    let services = service_state
        .iter()
        .map(|s| (s.name().to_string(), s.snapshot()))
        .collect();
    let applied_faults = applied.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let outcome = Outcome {
        scenario: sc.name.clone(),
        seed,
        plan,
        histories,
        acked: store.acked(),
        effects: ledger.effects(),
        services,
        client: log.results(),
        expected_workflows: sc.starts.iter().map(|s| s.workflow_id.clone()).collect(),
        trace_hash: trace.hash(),
        trace: trace.take_entries(),
        messages_sent: trace.sends(),
        heal_at,
        ended_at,
        liveness_deadline: sc.liveness_deadline,
        applied_faults,
    };
    // Stop every node, which drops its tasks: madsim does not cancel the tasks still pending
    // when a runtime is dropped, and tasks that hold handles to their own node (as ours do)
    // would otherwise leak with everything they own (~400 KB per seed; madsim issue #242).
    for (h, _) in nodes.by_name.values() {
        handle.kill(h.id());
    }
    outcome
}

/// The transport rule a message fault installs (id and scope filled in by the caller), with
/// how long it lasts (`None`: until the heal).
fn message_rule(fault: &Fault) -> Option<(&Target, MessageRule, Option<u64>)> {
    let base = MessageRule {
        id: 0,
        scope: LinkScope::Any,
        drop_rate: 0.0,
        duplicate_rate: 0.0,
        extra_delay: None,
        remaining: None,
    };
    let Fault::Message { target, effect } = fault else {
        return None;
    };
    let rule = match *effect {
        MessageFault::Drop { rate, .. } => MessageRule {
            drop_rate: rate,
            ..base
        },
        MessageFault::Duplicate { rate, .. } => MessageRule {
            duplicate_rate: rate,
            ..base
        },
        MessageFault::Delay { min_ms, max_ms, .. } => MessageRule {
            extra_delay: Some((
                Duration::from_millis(min_ms),
                Duration::from_millis(max_ms.max(min_ms)),
            )),
            ..base
        },
        MessageFault::DropNext { count } => MessageRule {
            drop_rate: 1.0,
            remaining: Some(count.max(1)),
            ..base
        },
    };
    Some((target, rule, effect.duration_ms()))
}

/// The event types of one history (for comparisons with Temporal's).
pub fn event_types(h: &History) -> Vec<EventType> {
    h.event_types()
}
