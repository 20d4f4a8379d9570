//! A catalogue: the scenarios `sim run NAME` runs (with the invariants each is held to) and the
//! workflow implementations `sim replay --workflow NAME` replays against.

use std::sync::Arc;

use sim::{Invariant, Registry, Scenario};

type BuildScenario = Arc<dyn Fn() -> Scenario + Send + Sync>;
type BuildInvariants = Arc<dyn Fn() -> Vec<Arc<dyn Invariant>> + Send + Sync>;
type BuildRegistry = Arc<dyn Fn(&str) -> Registry + Send + Sync>;

/// One scenario of a catalogue.
#[derive(Clone)]
pub struct ScenarioEntry {
    /// Its name on the command line (`sim run NAME`).
    pub name: String,
    /// One line about it, for `sim list`.
    pub about: String,
    /// The workflow types it starts, for `sim list`.
    pub workflows: Vec<String>,
    build: BuildScenario,
    invariants: BuildInvariants,
}

impl ScenarioEntry {
    /// A scenario entry: `build` makes a fresh copy (its name is set to `name`); `workflows`
    /// lists the workflow types it starts, for `sim list`.
    pub fn new(
        name: &str,
        about: &str,
        workflows: &[&str],
        build: impl Fn() -> Scenario + Send + Sync + 'static,
    ) -> Self {
        ScenarioEntry {
            name: name.to_string(),
            about: about.to_string(),
            workflows: workflows.iter().map(|w| w.to_string()).collect(),
            build: Arc::new(build),
            invariants: Arc::new(Vec::new),
        }
    }

    /// A fresh copy of the scenario.
    pub fn scenario(&self) -> Scenario {
        let mut s = (self.build)();
        s.name = self.name.clone();
        s
    }

    /// The invariants it is held to beyond the defaults.
    pub fn extra_invariants(&self) -> Vec<Arc<dyn Invariant>> {
        (self.invariants)()
    }

    /// Adds invariants this scenario is held to beyond the defaults (e.g. conservation of a
    /// bank's money).
    pub fn with_invariants(
        mut self,
        f: impl Fn() -> Vec<Arc<dyn Invariant>> + Send + Sync + 'static,
    ) -> Self {
        self.invariants = Arc::new(f);
        self
    }
}

/// One workflow implementation that histories can be replayed against.
#[derive(Clone)]
pub struct WorkflowEntry {
    /// Its name on the command line (`sim replay --workflow NAME`).
    pub name: String,
    /// One line about it, for `sim list`.
    pub about: String,
    /// The workflow type whose histories it replays (a changed version of `Transfer` still
    /// implements `Transfer`).
    pub implements: String,
    registry: BuildRegistry,
}

impl WorkflowEntry {
    /// A registry with this implementation registered under `as_type` (with the activities it
    /// schedules, if replay needs them).
    pub fn registry(&self, as_type: &str) -> Registry {
        (self.registry)(as_type)
    }
}

/// The scenarios and workflows a `sim` command knows.
///
/// ```no_run
/// use sim_cli::Catalogue;
/// # fn my_checkout_scenario() -> sim::Scenario { unimplemented!() }
/// # fn my_registry(_as_type: &str) -> sim::Registry { unimplemented!() }
/// // src/bin/sim.rs of your crate:
/// fn main() -> std::process::ExitCode {
///     sim_cli::main(
///         Catalogue::new()
///             .scenario("checkout", "an order saga under faults", &["Checkout"], my_checkout_scenario)
///             .workflow("Checkout", "the order saga", "Checkout", my_registry),
///     )
/// }
/// ```
#[derive(Clone, Default)]
pub struct Catalogue {
    scenarios: Vec<ScenarioEntry>,
    workflows: Vec<WorkflowEntry>,
}

impl Catalogue {
    /// An empty catalogue.
    pub fn new() -> Self {
        Catalogue::default()
    }

    /// Adds a scenario: `build` makes a fresh copy (its name is set to `name`); `workflows`
    /// lists the workflow types it starts, for `sim list`.
    pub fn scenario(
        self,
        name: &str,
        about: &str,
        workflows: &[&str],
        build: impl Fn() -> Scenario + Send + Sync + 'static,
    ) -> Self {
        self.scenario_entry(ScenarioEntry::new(name, about, workflows, build))
    }

    /// Adds a scenario entry (built with [`Catalogue::scenario`] and changed, e.g. with
    /// [`ScenarioEntry::with_invariants`]); a later entry of the same name replaces an earlier
    /// one.
    pub fn scenario_entry(mut self, entry: ScenarioEntry) -> Self {
        self.scenarios.retain(|e| e.name != entry.name);
        self.scenarios.push(entry);
        self
    }

    /// Adds invariants to the scenario named `name` (no-op when there is none).
    pub fn invariants(
        mut self,
        name: &str,
        f: impl Fn() -> Vec<Arc<dyn Invariant>> + Send + Sync + 'static,
    ) -> Self {
        if let Some(e) = self.scenarios.iter_mut().find(|e| e.name == name) {
            e.invariants = Arc::new(f);
        }
        self
    }

    /// Adds a workflow implementation for `sim replay --workflow NAME`: `registry(as_type)`
    /// returns a registry with it registered under `as_type`; `implements` is the workflow type
    /// of the histories it replays.
    pub fn workflow(
        mut self,
        name: &str,
        about: &str,
        implements: &str,
        registry: impl Fn(&str) -> Registry + Send + Sync + 'static,
    ) -> Self {
        self.workflows.retain(|e| e.name != name);
        self.workflows.push(WorkflowEntry {
            name: name.to_string(),
            about: about.to_string(),
            implements: implements.to_string(),
            registry: Arc::new(registry),
        });
        self
    }

    /// The scenarios, in the order they were added.
    pub fn scenarios(&self) -> &[ScenarioEntry] {
        &self.scenarios
    }

    /// The workflow implementations, in the order they were added.
    pub fn workflows(&self) -> &[WorkflowEntry] {
        &self.workflows
    }

    /// The scenario named `name`.
    pub fn find_scenario(&self, name: &str) -> Option<&ScenarioEntry> {
        self.scenarios.iter().find(|e| e.name == name)
    }

    /// The workflow implementation named `name`.
    pub fn find_workflow(&self, name: &str) -> Option<&WorkflowEntry> {
        self.workflows.iter().find(|e| e.name == name)
    }
}
