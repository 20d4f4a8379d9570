//! Building a scenario's nodes, and reaching them by name.
//!
//! [`Shared`] is what lives outside the nodes and survives kills (the trace, the network
//! environment, the server's store, the effect ledger, the client log); [`Nodes::build`] starts
//! the services, the server, the workers and the client as madsim nodes, each with a fixed
//! address, and [`Nodes`] is the fault supervisor's [`Cluster`]: what a kill, a restart or a
//! partition means for these nodes.
//!
//! Invariants: node `init` closures only clone what they capture (madsim re-runs them on a
//! restart, and whatever must survive lives in `Shared`); nodes are created in a fixed order
//! (services, server, workers, client) and kept in a name-ordered map; a run ends with
//! [`Nodes::kill_all`].

use std::collections::BTreeMap;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use madsim::runtime::{Handle, NodeHandle};

use super::{Scenario, SERVER_ADDR};
use crate::client::{run_client, ClientConfig, ClientLog};
use crate::clock::SimClock;
use crate::engine::{run_server, ServerConfig, SimStore};
use crate::faults::{CloseRequest, Cluster, Topology};
use crate::service::{run_service, EffectLedger, ServiceLogic};
use crate::trace::{Trace, TraceKind};
use crate::transport::{Injector, MessageRule, NetEnv};
use crate::worker::{run_worker, WorkerConfig};

fn worker_ip(i: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 0, 1, (i + 1) as u8))
}

fn service_ip(i: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 0, 2, (i + 1) as u8))
}

const CLIENT_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 3, 1));
/// The test script's node: not a node fault plans name (a script restarted from its first line
/// would be a different test).
const TESTER_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 3, 2));

/// What lives outside the nodes: shared with every node and with the harness, it survives
/// kills, and the outcome is collected from it.
pub(super) struct Shared {
    pub clock: SimClock,
    pub trace: Trace,
    /// The trace, the message-fault injector, process deaths and clock skews.
    pub env: NetEnv,
    pub store: SimStore,
    pub ledger: EffectLedger,
    pub log: ClientLog,
}

impl Shared {
    /// Fresh records for one run, with the clock starting now.
    pub fn new(
        record_trace: bool,
        record_coverage: bool,
        latency: (std::time::Duration, std::time::Duration),
    ) -> Self {
        let clock = SimClock::start();
        let max_entries = if record_trace {
            Trace::DEFAULT_MAX_ENTRIES
        } else {
            0
        };
        let trace = Trace::with_limit(clock, max_entries);
        let env = NetEnv {
            net: crate::transport::net::Net::new(latency),
            trace: trace.clone(),
            injector: Injector::default(),
            deaths: Default::default(),
            clocks: Default::default(),
            acks: Default::default(),
            attempts: Default::default(),
            coverage: if record_coverage {
                crate::record::CoverageLog::enabled_with_clock(clock)
            } else {
                Default::default()
            },
        };
        Shared {
            clock,
            ledger: EffectLedger::new(trace.clone(), clock),
            trace,
            env,
            store: SimStore::new(),
            log: ClientLog::default(),
        }
    }
}

/// A scenario's running nodes, by name.
pub(super) struct Nodes {
    handle: Handle,
    by_name: BTreeMap<String, (NodeHandle, IpAddr)>,
    /// The services' logic, whose state outlives their nodes (for the outcome's snapshots).
    pub services: Vec<Arc<dyn ServiceLogic>>,
    /// Workflows the client starts (the work is done when all have closed).
    expected_workflows: usize,
    /// Updates the client sends: the run goes on until it has learned every outcome.
    expected_updates: usize,
    /// The test script's node, when the scenario has one (the work is done when it returns).
    tester: Option<NodeHandle>,
    clock: SimClock,
    trace: Trace,
    env: NetEnv,
    store: SimStore,
    log: ClientLog,
    /// Fault-plan requests sent from the client node so far (each binds a port of its own).
    operator_requests: std::cell::Cell<u16>,
}

impl Nodes {
    /// Creates every node of `sc` in the current simulation (they start when the caller next
    /// yields).
    pub fn build(sc: &Scenario, shared: &Shared) -> Nodes {
        let mut nodes = Nodes {
            handle: Handle::current(),
            by_name: BTreeMap::new(),
            services: (sc.services)(),
            expected_workflows: sc.starts.len(),
            expected_updates: sc.updates.len(),
            tester: None,
            clock: shared.clock,
            trace: shared.trace.clone(),
            env: shared.env.clone(),
            store: shared.store.clone(),
            log: shared.log.clone(),
            operator_requests: std::cell::Cell::new(0),
        };
        let service_addrs = nodes.start_services(shared);
        nodes.start_server(sc, shared);
        for i in 0..sc.workers {
            nodes.start_worker(sc, shared, i, &service_addrs);
        }
        nodes.start_client(sc, shared);
        if let Some(script) = &sc.script {
            nodes.start_tester(sc, shared, script.clone());
        }
        nodes
    }

    /// Starts the test script's node: the script runs once (the node is never killed or
    /// restarted by a plan) and marks the client log when it returns.
    fn start_tester(&mut self, sc: &Scenario, shared: &Shared, script: super::Script) {
        let (env, log, clock) = (shared.env.clone(), shared.log.clone(), shared.clock);
        let queue = sc.task_queue.clone();
        let node = self
            .handle
            .create_node()
            .name("tester")
            .ip(TESTER_IP)
            .init(move || {
                let (env, log, queue, script) =
                    (env.clone(), log.clone(), queue.clone(), script.clone());
                async move {
                    let addr = SocketAddr::new(TESTER_IP, 6000);
                    match crate::client::TestClient::connect(
                        addr,
                        SERVER_ADDR,
                        env.clone(),
                        clock,
                        queue,
                    )
                    .await
                    {
                        Ok(client) => {
                            env.trace.record(TraceKind::NodeStart {
                                node: "tester".into(),
                            });
                            script(client).await;
                        }
                        Err(e) => env.trace.note(format!("tester failed to bind: {e}")),
                    }
                    log.finish_script();
                }
            })
            .build();
        self.tester = Some(node);
    }

    /// Creates one node; `init` runs its main task (again on every restart).
    fn add<F>(&mut self, name: String, ip: IpAddr, init: impl Fn() -> F + Send + Sync + 'static)
    where
        F: Future<Output = ()> + 'static,
    {
        let node = self
            .handle
            .create_node()
            .name(name.clone())
            .ip(ip)
            .init(init)
            .build();
        self.env.coverage.name_node(ip, &name);
        self.by_name.insert(name, (node, ip));
    }

    /// Starts each service on its address; returns the addresses by service name.
    fn start_services(&mut self, shared: &Shared) -> BTreeMap<String, SocketAddr> {
        let mut addrs = BTreeMap::new();
        for (i, svc) in self.services.clone().into_iter().enumerate() {
            let ip = service_ip(i);
            let addr = SocketAddr::new(ip, 8000);
            let name = svc.name().to_string();
            addrs.insert(name.clone(), addr);
            let (env, ledger, clock) = (shared.env.clone(), shared.ledger.clone(), shared.clock);
            self.add(name, ip, move || {
                run_service(svc.clone(), addr, env.clone(), clock, ledger.clone())
            });
        }
        addrs
    }

    fn start_server(&mut self, sc: &Scenario, shared: &Shared) {
        let mut cfg = ServerConfig::new(SERVER_ADDR);
        cfg.engine = sc.engine.clone();
        let (env, store, clock) = (shared.env.clone(), shared.store.clone(), shared.clock);
        self.add(Topology::SERVER.into(), SERVER_ADDR.ip(), move || {
            run_server(cfg.clone(), store.clone(), env.clone(), clock)
        });
    }

    /// Starts `worker-{i + 1}`.
    fn start_worker(
        &mut self,
        sc: &Scenario,
        shared: &Shared,
        i: usize,
        services: &BTreeMap<String, SocketAddr>,
    ) {
        let name = format!("worker-{}", i + 1);
        let ip = worker_ip(i);
        let mut cfg = WorkerConfig::new(
            name.clone(),
            SocketAddr::new(ip, 9000),
            SERVER_ADDR,
            sc.task_queue.clone(),
        );
        cfg.activity_slots = sc.activity_slots;
        cfg.max_eager_activities = sc.max_eager_activities;
        cfg.evict_every_task = sc.evict_every_task;
        cfg.services = services.clone();
        let (env, registry, clock) = (shared.env.clone(), sc.registry.clone(), shared.clock);
        self.add(name, ip, move || {
            run_worker(cfg.clone(), registry.clone(), env.clone(), clock)
        });
    }

    fn start_client(&mut self, sc: &Scenario, shared: &Shared) {
        let cfg = ClientConfig {
            addr: SocketAddr::new(CLIENT_IP, 6000),
            server: SERVER_ADDR,
            starts: sc.starts.clone(),
            signals: sc.signals.clone(),
            cancels: sc.cancels.clone(),
            terminations: sc.terminations.clone(),
            updates: sc.updates.clone(),
            queries: sc.queries.clone(),
        };
        let (env, log, clock) = (shared.env.clone(), shared.log.clone(), shared.clock);
        self.add(Topology::CLIENT.into(), CLIENT_IP, move || {
            run_client(cfg.clone(), env.clone(), clock, log.clone())
        });
    }

    fn node(&self, name: &str) -> Option<&NodeHandle> {
        self.by_name.get(name).map(|(h, _)| h)
    }

    /// Stops every node, which drops its tasks: madsim does not cancel the tasks still pending
    /// when a runtime is dropped, and tasks that hold handles to their own node (as ours do)
    /// would otherwise leak with everything they own (~400 KB per seed; madsim issue #242).
    pub fn kill_all(&self) {
        for (h, _) in self.by_name.values() {
            self.handle.kill(h.id());
        }
        if let Some(t) = &self.tester {
            self.handle.kill(t.id());
        }
    }
}

impl Cluster for Nodes {
    fn node_names(&self) -> Vec<String> {
        self.by_name.keys().cloned().collect()
    }

    fn ip(&self, node: &str) -> Option<IpAddr> {
        self.by_name.get(node).map(|(_, ip)| *ip)
    }

    fn kill(&self, node: &str) {
        let Some((h, ip)) = self.by_name.get(node) else {
            return;
        };
        // The windows the node is inside are cut now.
        self.env.coverage.crash(node);
        self.handle.kill(h.id());
        // Its sockets close with it: what is in flight to it is lost.
        self.env.net.close_ip(*ip);
        self.env.deaths.record(*ip, self.clock.now());
        if node == Topology::SERVER {
            let lost = self.store.lose_unsynced();
            if lost > 0 {
                self.trace.record(TraceKind::Note(format!(
                    "server store lost {lost} unsynced batch(es)"
                )));
            }
        }
    }

    fn restart(&self, node: &str) {
        if let Some(h) = self.node(node) {
            self.handle.restart(h.id());
        }
    }

    fn clog(&self, from: &str, to: &str) {
        if let (Some(a), Some(b)) = (self.ip(from), self.ip(to)) {
            self.env.net.cut(a, b);
            self.env.coverage.clog(a, b);
        }
    }

    fn unclog(&self, from: &str, to: &str) {
        if let (Some(a), Some(b)) = (self.ip(from), self.ip(to)) {
            self.env.net.heal(a, b);
            self.env.coverage.unclog(a, b);
        }
    }

    fn add_message_rule(&self, rule: MessageRule) {
        self.env.injector.add(rule);
    }

    fn remove_message_rule(&self, id: u64) {
        self.env.injector.remove(id);
    }

    fn set_clock_skew(&self, node: &str, skew_ms: i64) {
        self.env.clocks.set(node, skew_ms);
    }

    fn request_close(&self, workflow_id: &str, reason: &str, request: CloseRequest) {
        let Some(node) = self.node(Topology::CLIENT) else {
            return;
        };
        // Each request binds a port of its own on the client node.
        let n = self.operator_requests.get();
        self.operator_requests.set(n + 1);
        let addr = SocketAddr::new(CLIENT_IP, 7000u16.wrapping_add(n));
        let (env, workflow_id, reason) = (
            self.env.clone(),
            workflow_id.to_string(),
            reason.to_string(),
        );
        // The request's future is the node's own (not `Send`): spawned from inside the node.
        node.spawn(async move {
            madsim::task::spawn_local(crate::client::operator_request(
                addr,
                SERVER_ADDR,
                env,
                workflow_id,
                reason,
                request,
            ));
        });
    }

    fn finished(&self) -> bool {
        self.log.all_closed(self.expected_workflows)
            && self.log.updates_answered(self.expected_updates)
            && (self.tester.is_none() || self.log.script_done())
    }

    fn progress(&self) -> impl Future<Output = ()> + '_ {
        self.log.closed_notify().notified()
    }
}
