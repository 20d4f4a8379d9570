//! A test environment in the manner of Temporal's `TestWorkflowEnvironment`, on the simulation:
//! a script starts workflows, signals, cancels and terminates them, lets virtual time pass and
//! awaits their typed results, while the engine, the workers and the services run as nodes
//! (with a fault plan, if one is given). After the script returns, the run is checked with the
//! default invariants.
//!
//! ```
//! use std::time::Duration;
//! use sim::{ActivityContext, ActivityError, ActivityOptions, Registry, TestEnv};
//! use sim::{WorkflowContext, WorkflowError};
//!
//! async fn remind(ctx: WorkflowContext, name: String) -> Result<String, WorkflowError> {
//!     ctx.timer(Duration::from_secs(7 * 24 * 3600)).await; // a week
//!     let opts = ActivityOptions::start_to_close(Duration::from_secs(10));
//!     Ok(ctx.start_activity("send", &name, opts).await?)
//! }
//!
//! let mut registry = Registry::new();
//! registry.register_workflow("Remind", remind);
//! let run = TestEnv::new(registry)
//!     // The activity, replaced inline.
//!     .activity("send", |_ctx: ActivityContext, name: String| async move {
//!         Ok::<_, ActivityError>(format!("sent to {name}"))
//!     })
//!     .run(|client| async move {
//!         let h = client.start("Remind", "remind-1", "ada").await.unwrap();
//!         let sent: String = h.result().await.unwrap();
//!         (sent, client.elapsed())
//!     });
//! let (sent, elapsed) = run.value();
//! assert_eq!(sent, "sent to ada");
//! assert!(elapsed >= Duration::from_secs(7 * 24 * 3600)); // virtual: the test took milliseconds
//! ```
//!
//! Invariant: a script runs once, on a node of its own that no fault plan names; everything
//! else is an ordinary scenario run (same seed, same trace).

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::checkers::{check_all, default_invariants, Invariant, Liveness, Violation};
use crate::client::TestClient;
use crate::faults::{generate, FaultPlan, Profile};
use crate::history::{ExecKey, History};
use crate::record::Outcome;
use crate::scenario::{run, Scenario};
use crate::sdk::{ActivityContext, ActivityError, Registry};
use crate::service::ServiceLogic;

/// A test environment: the workflows and activities of a registry, one worker (by default), the
/// services, a seed and an optional fault plan.
pub struct TestEnv {
    scenario: Scenario,
    seed: u64,
    plan: FaultPlan,
    invariants: Option<Vec<Arc<dyn Invariant>>>,
}

/// What [`TestEnv::run`] recorded: the script's value (when it finished), the run's outcome and
/// the invariants it broke.
pub struct TestRun<T> {
    value: Option<T>,
    /// Everything the run recorded: histories, effects, the trace.
    pub outcome: Outcome,
    /// The invariants the run broke (empty when all held).
    pub violations: Vec<Violation>,
}

impl TestEnv {
    /// An environment running `registry`'s workflows and activities on task queue `test`, one
    /// worker, no services, seed 0, no faults, and 30 days of virtual time for the script.
    pub fn new(registry: Registry) -> Self {
        let mut scenario = Scenario::new("test-env", registry, "test");
        scenario.liveness_deadline = Duration::from_secs(30 * 24 * 3600);
        TestEnv {
            scenario,
            seed: 0,
            plan: FaultPlan::none(),
            invariants: None,
        }
    }

    /// Runs with this seed (the simulation's randomness: latencies, the order of ties).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Injects this fault plan (see [`crate::faults`]); the script's own node is never faulted.
    pub fn plan(mut self, plan: FaultPlan) -> Self {
        self.plan = plan;
        self
    }

    /// Injects the plan profile `p` draws for the seed (as a sweep would for that seed).
    pub fn profile(mut self, p: Profile) -> Self {
        self.plan = generate(p, self.seed, &self.scenario.topology());
        self
    }

    /// The services activities call (built fresh for the run).
    pub fn services(
        mut self,
        f: impl Fn() -> Vec<Arc<dyn ServiceLogic>> + Send + Sync + 'static,
    ) -> Self {
        self.scenario.services = Arc::new(f);
        self
    }

    /// Runs `n` workers (at least 1).
    pub fn workers(mut self, n: usize) -> Self {
        self.scenario.workers = n.max(1);
        self
    }

    /// Activity attempts each worker runs at once (4 unless told).
    pub fn activity_slots(mut self, n: usize) -> Self {
        self.scenario.activity_slots = n.max(1);
        self
    }

    /// Most activities a worker asks to run eagerly per workflow task (3, as Temporal's SDKs;
    /// 0 turns eager activity execution off).
    pub fn max_eager_activities(mut self, n: usize) -> Self {
        self.scenario.max_eager_activities = n;
        self
    }

    /// The task queue workflows are started on and workers poll.
    pub fn task_queue(mut self, q: &str) -> Self {
        self.scenario.task_queue = q.to_string();
        self
    }

    /// How much virtual time the script gets before the run is cut off.
    pub fn deadline(mut self, d: Duration) -> Self {
        self.scenario.liveness_deadline = d;
        self
    }

    /// Evicts cached workflow state before every workflow task (every task replays).
    pub fn evict_every_task(mut self, on: bool) -> Self {
        self.scenario.evict_every_task = on;
        self
    }

    /// Registers (or replaces) activity `name` with `f`, inline: a mock for this test.
    pub fn activity<I, O, F, Fut>(mut self, name: &str, f: F) -> Self
    where
        F: Fn(ActivityContext, I) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<O, ActivityError>> + 'static,
        I: DeserializeOwned + 'static,
        O: Serialize + 'static,
    {
        self.scenario.registry.register_activity(name, f);
        self
    }

    /// Checks the run with these invariants instead of the defaults (exactly-once, history
    /// well-formed, replay, durability; liveness has nothing to check: the script decides
    /// which workflows it waits for).
    pub fn invariants(mut self, invariants: Vec<Arc<dyn Invariant>>) -> Self {
        self.invariants = Some(invariants);
        self
    }

    /// Runs `script` inside the simulation with a client, until it returns (and the plan's
    /// faults have healed) or the deadline passes, then checks the run.
    pub fn run<T, F, Fut>(&self, script: F) -> TestRun<T>
    where
        F: FnOnce(TestClient) -> Fut + Send + 'static,
        Fut: Future<Output = T> + 'static,
        T: Send + 'static,
    {
        let slot: Arc<Mutex<Option<T>>> = Arc::new(Mutex::new(None));
        let script = Mutex::new(Some(script));
        let out = slot.clone();
        let mut sc = self.scenario.clone();
        sc.script = Some(Arc::new(move |client: TestClient| {
            let f = script.lock().unwrap_or_else(|e| e.into_inner()).take();
            let out = out.clone();
            Box::pin(async move {
                if let Some(f) = f {
                    let v = f(client).await;
                    *out.lock().unwrap_or_else(|e| e.into_inner()) = Some(v);
                }
            })
        }));
        let invariants = self.invariants.clone().unwrap_or_else(|| {
            default_invariants(&sc.registry)
                .into_iter()
                .filter(|i| i.name() != Liveness.name())
                .collect()
        });
        let outcome = run(&Arc::new(sc), self.seed, &self.plan);
        let violations = check_all(&invariants, &outcome);
        let value = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
        TestRun {
            value,
            outcome,
            violations,
        }
    }
}

impl<T> TestRun<T> {
    /// The script's value; panics (pointing at the calling test) when the script did not finish
    /// before the deadline or the run broke an invariant, with what happened.
    #[track_caller]
    pub fn value(self) -> T {
        if !self.violations.is_empty() {
            let text: Vec<String> = self.violations.iter().map(|v| v.to_string()).collect();
            panic!(
                "\nthe test run (seed {}) broke {} invariant(s):\n{}",
                self.outcome.seed,
                text.len(),
                text.join("\n")
            );
        }
        match self.value {
            Some(v) => v,
            None => panic!(
                "\nthe test script did not finish within {:.0}s of virtual time (seed {}); \
                 open runs: {}",
                self.outcome.liveness_deadline.as_secs_f64(),
                self.outcome.seed,
                self.open_runs().join(", ")
            ),
        }
    }

    /// The script's value, if it finished (whatever the invariants say).
    pub fn try_value(&self) -> Option<&T> {
        self.value.as_ref()
    }

    /// The latest run's history of `workflow_id`.
    pub fn history(&self, workflow_id: &str) -> Option<&History> {
        let mut runs: Vec<(&ExecKey, &History)> = self
            .outcome
            .histories
            .iter()
            .filter(|(k, _)| k.workflow_id == workflow_id)
            .collect();
        // The latest run started last: its first event is the latest.
        runs.sort_by_key(|(_, h)| h.events.first().map(|e| e.event_time));
        runs.last().map(|(_, h)| *h)
    }

    fn open_runs(&self) -> Vec<String> {
        let open: Vec<String> = self
            .outcome
            .histories
            .iter()
            .filter(|(_, h)| h.close_event().is_none())
            .map(|(k, _)| k.workflow_id.clone())
            .collect();
        if open.is_empty() {
            vec!["none".into()]
        } else {
            open
        }
    }
}
