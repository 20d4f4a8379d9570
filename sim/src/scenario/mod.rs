//! The composition root: a scenario (what runs) + a seed + a fault plan -> an `Outcome` (what
//! was recorded). `run(scenario, seed, plan)` is a function: same inputs, same outcome, same
//! trace hash.
//!
//! Inside madsim nodes: the server, each worker, each service, the client. Outside (shared,
//! surviving kills): the server's store, each service's state, the effect ledger, the client
//! log, and the trace.
//!
//! A run reads as its pieces: `nodes` builds the nodes (and is the fault supervisor's view of
//! them), `faults::Supervisor` carries out the plan until the work is done, `outcome` collects
//! what was recorded. Invariant: a run ends by killing every node.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use crate::client::{CancelSpec, QuerySpec, SignalSpec, StartSpec, TerminateSpec, UpdateSpec};
use crate::engine::EngineConfig;
use crate::faults::{FaultPlan, Supervisor, Topology};
pub use crate::record::Outcome;
use crate::sdk::Registry;
use crate::service::ServiceLogic;

mod nodes;
mod outcome;

use nodes::{Nodes, Shared};

/// Builds a scenario's services with fresh state (called once per run).
pub type ServiceFactory = Arc<dyn Fn() -> Vec<Arc<dyn ServiceLogic>> + Send + Sync>;

/// What runs: workflows and activities, workers, services, what the client starts.
#[derive(Clone)]
pub struct Scenario {
    /// The scenario's name (in reports and reproduction lines).
    pub name: String,
    /// The workflow and activity code every worker runs.
    pub registry: Registry,
    /// The task queue the workers poll.
    pub task_queue: String,
    /// How many worker nodes (`worker-1` ...).
    pub workers: usize,
    /// Activity attempts a worker runs at once.
    pub activity_slots: usize,
    /// Most activities a worker asks to run eagerly per workflow task (3, as Temporal's
    /// SDKs; 0: none). The server side is `engine.activity_eager_execution`.
    pub max_eager_activities: usize,
    /// Evict cached workflow state before every workflow task (replay every time).
    pub evict_every_task: bool,
    /// Builds the services, with fresh state, for each run.
    pub services: ServiceFactory,
    /// The workflows the client starts.
    pub starts: Vec<StartSpec>,
    /// The signals the client sends.
    pub signals: Vec<SignalSpec>,
    /// The cancellation requests the client sends.
    pub cancels: Vec<CancelSpec>,
    /// The terminations the client sends.
    pub terminations: Vec<TerminateSpec>,
    /// The updates the client sends (each waits for its outcome).
    pub updates: Vec<UpdateSpec>,
    /// The queries the client asks.
    pub queries: Vec<QuerySpec>,
    /// How workflows must end (checked by `expected-outcome`; none: nothing stated).
    pub expectations: Vec<crate::record::Expectation>,
    /// The server's configuration.
    pub engine: EngineConfig,
    /// Virtual time allowed after the faults heal for every workflow to close.
    pub liveness_deadline: Duration,
    /// Network latency range (madsim's send latency).
    pub latency: (Duration, Duration),
    /// Keep the trace's entries in the outcome (the hash is always computed). Sweeps turn this
    /// off and re-run failing seeds with it on.
    pub record_trace: bool,
    /// Record which fault kinds hit which protocol steps (`Outcome::coverage`; the sweep's
    /// `--coverage`). Off by default: it costs a map update per message.
    pub record_coverage: bool,
    /// Test code that drives the run from a client node of its own (what [`crate::TestEnv`]
    /// runs); the run ends when it returns (and the faults have healed).
    pub(crate) script: Option<Script>,
}

/// A test script: given the client, the future the tester node runs.
pub(crate) type Script = Arc<
    dyn Fn(crate::client::TestClient) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>
        + Send
        + Sync,
>;

impl Scenario {
    /// What a fault plan can name: `worker-1..=workers` and the services, with the operations
    /// each service declares as effects, and the workflows the client starts.
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
            workflows: self.starts.iter().map(|s| s.workflow_id.clone()).collect(),
        }
    }

    /// A scenario with one worker polling `task_queue`, 4 activity slots, no services, nothing
    /// to start, the default engine, a 600 s liveness deadline and 1-5 ms of network latency.
    pub fn new(name: impl Into<String>, registry: Registry, task_queue: impl Into<String>) -> Self {
        Scenario {
            name: name.into(),
            registry,
            task_queue: task_queue.into(),
            workers: 1,
            activity_slots: 4,
            max_eager_activities: 3,
            evict_every_task: false,
            services: Arc::new(Vec::new),
            starts: Vec::new(),
            signals: Vec::new(),
            cancels: Vec::new(),
            updates: Vec::new(),
            queries: Vec::new(),
            terminations: Vec::new(),
            expectations: Vec::new(),
            engine: EngineConfig::default(),
            liveness_deadline: Duration::from_secs(600),
            latency: (Duration::from_millis(1), Duration::from_millis(5)),
            record_trace: true,
            record_coverage: false,
            script: None,
        }
    }
}

pub const SERVER_ADDR: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 7233);

/// Runs one seed on this thread's seed runner: a thread of its own (4 MB of stack, madsim's
/// context to itself) that the calling thread keeps for its later runs, so a run costs two
/// channel hand-overs instead of an OS thread's creation. A panic in the run is resumed here,
/// and the runner that saw it is retired (the next run gets a fresh one).
///
/// Reusing the thread is safe for determinism because nothing in a run iterates a std
/// `HashMap` (whose per-thread keys would differ from run to run): engine, SDKs and harness
/// keep ordered maps or `LookupMap` (fixed hasher). `--check-determinism` sweeps run each seed
/// twice at different points of a runner's life and compare the traces.
///
/// A sweep's own thread (the harness vouches for it) runs the seed itself, saving the two
/// hand-overs (two context switches: ~6% of a seed's wall time on one core, ~13% when the two
/// threads ran on two cores).
pub fn run(scenario: &Arc<Scenario>, seed: u64, plan: &FaultPlan) -> Outcome {
    // Cleared while the run goes on: a run started from inside it goes to a runner.
    if RUN_HERE.with(|h| h.replace(false)) {
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run_on_this_thread(scenario, seed, plan)
        }));
        match run {
            Ok(outcome) => {
                RUN_HERE.with(|h| h.set(true));
                return outcome;
            }
            // A panic may have left madsim's thread-local context half torn down: this
            // thread's later runs go to a runner, as a runner that saw a panic is retired.
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
    let job = Job {
        scenario: scenario.clone(),
        seed,
        plan: plan.clone(),
    };
    match runner::run(job) {
        Ok(o) => o,
        Err(runner::Failed::Panicked(p)) => std::panic::resume_unwind(p),
        Err(runner::Failed::NoThread(e)) => {
            panic!("cannot start a thread to run seed {seed}: {e}")
        }
    }
}

/// The stack a thread that runs seeds itself must have (as a runner has).
pub(crate) const RUN_STACK_BYTES: usize = 4 * 1024 * 1024;

thread_local! {
    /// Set on threads that run seeds themselves (see [`run_seeds_here`]).
    static RUN_HERE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Lets [`run`] run seeds on the calling thread itself instead of handing them to a runner.
/// Only for a thread the caller started for sweeping: [`RUN_STACK_BYTES`] of stack and no
/// madsim runtime around it (a run builds its own and leaves the thread's madsim context).
pub(crate) fn run_seeds_here() {
    RUN_HERE.with(|h| h.set(true));
}

/// One run for a seed runner.
struct Job {
    scenario: Arc<Scenario>,
    seed: u64,
    plan: FaultPlan,
}

/// The seed runners: one per calling thread, kept in a thread-local until that thread ends
/// (the runner's channel closes and it ends too).
mod runner {
    use std::cell::RefCell;
    use std::sync::mpsc;

    use super::{run_on_this_thread, Job, Outcome};

    pub(super) enum Failed {
        Panicked(Box<dyn std::any::Any + Send>),
        NoThread(std::io::Error),
    }

    type Answer = std::thread::Result<Outcome>;

    struct Runner {
        jobs: mpsc::Sender<Job>,
        answers: mpsc::Receiver<Answer>,
    }

    thread_local! {
        static RUNNER: RefCell<Option<Runner>> = const { RefCell::new(None) };
    }

    fn start() -> std::io::Result<Runner> {
        let (jobs, inbox) = mpsc::channel::<Job>();
        let (outbox, answers) = mpsc::channel::<Answer>();
        std::thread::Builder::new()
            .name("durasim-seeds".into())
            .stack_size(super::RUN_STACK_BYTES)
            .spawn(move || {
                for job in inbox {
                    let answer = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        run_on_this_thread(&job.scenario, job.seed, &job.plan)
                    }));
                    // Before answering: the caller may count on holding the only reference to
                    // its scenario once it has its outcome.
                    drop(job);
                    let panicked = answer.is_err();
                    if outbox.send(answer).is_err() || panicked {
                        // A panic may have left madsim's thread-local context half torn down.
                        return;
                    }
                }
            })?;
        Ok(Runner { jobs, answers })
    }

    pub(super) fn run(job: Job) -> Result<Outcome, Failed> {
        // Taken out while the run goes on: a run started from inside this one (none does today)
        // would get a runner of its own instead of finding this one busy.
        let runner = match RUNNER.with(|r| r.borrow_mut().take()) {
            Some(r) => r,
            None => start().map_err(Failed::NoThread)?,
        };
        if runner.jobs.send(job).is_err() {
            unreachable_runner_gone();
        }
        match runner.answers.recv() {
            Ok(Ok(outcome)) => {
                RUNNER.with(|r| *r.borrow_mut() = Some(runner));
                Ok(outcome)
            }
            Ok(Err(panic)) => Err(Failed::Panicked(panic)),
            Err(_) => unreachable_runner_gone(),
        }
    }

    /// A runner ends only after answering a panic (and is then dropped), or when its caller's
    /// thread ends: a live caller never finds it gone.
    fn unreachable_runner_gone() -> ! {
        panic!("durasim's seed runner thread ended without answering")
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

/// One run, inside the simulation: build the nodes, let the supervisor carry out the plan
/// until the work is done (or the liveness deadline), collect the outcome, stop every node.
async fn simulate(sc: Arc<Scenario>, seed: u64, plan: FaultPlan) -> Outcome {
    let _clock = crate::clock::RunClock::enter();
    let shared = Shared::new(sc.record_trace, sc.record_coverage, sc.latency);
    let postman = shared.env.net.spawn_postman();
    // Before the nodes: the supervisor's triggers watch the trace from its first entry.
    let supervisor = Supervisor::new(plan.clone(), shared.trace.clone(), shared.clock);
    let nodes = Nodes::build(&sc, &shared);
    let report = supervisor.run(&nodes, sc.liveness_deadline).await;
    let outcome = outcome::collect(&sc, seed, plan, &shared, &nodes.services, report);
    // A run ends by killing every node (see `Nodes::kill_all`) and closing the network.
    nodes.kill_all();
    shared.env.net.close();
    let _ = postman.await;
    outcome
}
