//! Runs workflows and activities written with Temporal's official Rust SDK (`temporalio-sdk`
//! 1.1.1, `temporalio-workflow`/`temporalio-macros` 1.1.2), unmodified, in durasim's simulation.
//!
//! - [`OfficialSdk`] collects `#[workflow]` types and `#[activities]` functions and registers them
//!   in a durasim [`sim::Registry`], next to workflows written against durasim's own
//!   SDK. Scenarios, sweeps, fault plans and every invariant then apply to them as they are.
//! - `run.rs`: one run's executor, what sdk-core does between history and workflow code
//!   (history events to activation jobs, the SDK's commands to durasim's, non-determinism checks).
//! - `activity.rs`: official activities run through the SDK's own `ActivityContext`.
//! - `convert.rs`: payloads, failures, durations and retry policies between the two models.
//!
//! The SDK's host interface (`temporalio_workflow::__private::sdk`) is doc-hidden, so the SDK
//! crates are pinned to exact versions.
//!
//! ```
//! use std::time::Duration;
//! use sim_official::OfficialSdk;
//! use temporalio_macros::{activities, workflow, workflow_methods};
//! use temporalio_sdk::{
//!     activities::{ActivityContext, ActivityError},
//!     ActivityOptions, WorkflowContext, WorkflowResult,
//! };
//!
//! // The team's code, as deployed with the official SDK.
//! #[workflow]
//! #[derive(Default)]
//! pub struct Hello;
//!
//! #[workflow_methods]
//! impl Hello {
//!     #[run]
//!     pub async fn run(ctx: &mut WorkflowContext<Self>, name: String) -> WorkflowResult<String> {
//!         let opts = ActivityOptions::start_to_close_timeout(Duration::from_secs(5));
//!         Ok(ctx.execute_activity(Greeter::greet, name, opts).await?)
//!     }
//! }
//!
//! pub struct Greeter;
//!
//! #[activities]
//! impl Greeter {
//!     #[activity]
//!     pub async fn greet(_ctx: ActivityContext, name: String) -> Result<String, ActivityError> {
//!         Ok(format!("Hello, {name}!"))
//!     }
//! }
//!
//! fn main() {
//!     let mut registry = sim::Registry::new();
//!     OfficialSdk::new()
//!         .workflow::<Hello>()
//!         .activity(Greeter::greet)
//!         .register(&mut registry);
//!     let mut scenario = sim::Scenario::new("hello", registry, "greetings");
//!     scenario.starts = vec![sim::StartSpec {
//!         workflow_id: "hello-1".into(),
//!         workflow_type: "Hello".into(),
//!         task_queue: "greetings".into(),
//!         input: sim_official::encode(&"Ana".to_string()).unwrap(),
//!         delay: Duration::ZERO,
//!     }];
//!     let report = sim::Harness::new(scenario)
//!         .profile(sim::Profile::Chaos)
//!         .seeds(0..20)
//!         .run()
//!         .unwrap();
//!     assert!(report.ok(), "{}", report.render());
//! }
//! ```

#![warn(missing_docs)]

mod activity;
mod convert;
mod prost_history;
mod run;

use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

use sim::history::{History, HistoryEvent};
use sim::sdk::WorkflowTaskError;
use sim::sdk::{RawActivityFn, Registry, ReplayOutcome, WorkflowExecutor, WorkflowRuntime};
use temporalio_common::data_converters::DataConverter;
use temporalio_common::protos::coresdk::workflow_activation::InitializeWorkflow;
use temporalio_common::WorkflowDefinition;
use temporalio_sdk::activities::ExecutableActivity;
use temporalio_workflow::__private::sdk::{
    GuestWorkflowInstance, WorkflowHost, WorkflowImplementation, WorkflowInit, WorkflowInstance,
};
use temporalio_workflow::BaseWorkflowContext;

pub use activity::ActivityDouble;
pub use prost_history::{history_from_prost, history_to_prost, ProstHistoryError};

/// The SDK versions this crate hosts (its host interface is pinned to them).
pub const SDK_VERSION: &str = "temporalio-sdk 1.1.1 / temporalio-workflow 1.1.2";

type Instantiate = dyn Fn(
        &str,
        &str,
        InitializeWorkflow,
        Rc<dyn WorkflowHost>,
    ) -> Result<Box<dyn WorkflowInstance>, String>
    + Send
    + Sync;

/// One registered workflow type: how to instantiate it for a run.
pub(crate) struct WorkflowDef {
    pub(crate) instantiate: Box<Instantiate>,
}

/// Official-SDK workflows and activities to register with durasim.
pub struct OfficialSdk {
    workflows: BTreeMap<String, Arc<WorkflowDef>>,
    activities: BTreeMap<String, RawActivityFn>,
    heartbeat_types: activity::DetailEncoders,
}

impl Default for OfficialSdk {
    fn default() -> Self {
        OfficialSdk {
            workflows: BTreeMap::new(),
            activities: BTreeMap::new(),
            heartbeat_types: Arc::new(std::sync::RwLock::new(activity::builtin_encoders())),
        }
    }
}

impl std::fmt::Debug for OfficialSdk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OfficialSdk")
            .field("workflows", &self.workflows.keys().collect::<Vec<_>>())
            .field("activities", &self.activities.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl OfficialSdk {
    /// Nothing registered yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers the `#[workflow]` type `W` under its workflow type name (the struct name, or
    /// `#[run(name = ...)]`), as the SDK's `WorkflowDefinitions::register_workflow` does.
    pub fn workflow<W>(self) -> Self
    where
        W: WorkflowImplementation,
        <W::Run as WorkflowDefinition>::Input: Send,
    {
        let workflow_type = W::definition().workflow_type;
        self.workflow_named::<W>(&workflow_type)
    }

    /// Registers `W` under `workflow_type` instead of its own name: a changed version replays
    /// the histories of the original type (`sim replay --workflow`).
    pub fn workflow_named<W>(mut self, workflow_type: &str) -> Self
    where
        W: WorkflowImplementation,
        <W::Run as WorkflowDefinition>::Input: Send,
    {
        let workflow_type = workflow_type.to_string();
        let instantiate = move |task_queue: &str,
                                run_id: &str,
                                init: InitializeWorkflow,
                                host: Rc<dyn WorkflowHost>| {
            let data_converter = DataConverter::default();
            let payloads = init.arguments.clone();
            let converter = data_converter.payload_converter().clone();
            let init = WorkflowInit {
                namespace: "default".to_string(),
                task_queue: task_queue.to_string(),
                run_id: run_id.to_string(),
                initialize_workflow: init,
            };
            let ctx = BaseWorkflowContext::from_raw(init, data_converter, host, None, Vec::new());
            GuestWorkflowInstance::<W>::instantiate(payloads, converter, ctx)
                .map_err(|e| format!("cannot decode the workflow input: {e}"))
        };
        self.workflows.insert(
            workflow_type,
            Arc::new(WorkflowDef {
                instantiate: Box::new(instantiate),
            }),
        );
        self
    }

    /// Registers an `#[activities]` function that needs no instance (`async fn f(ctx, input)`)
    /// under its activity type name (`Struct::function`). It runs as written, through the SDK's
    /// `ActivityContext`: use this for activities whose effects stay inside the process.
    pub fn activity<A>(mut self, activity: A) -> Self
    where
        A: ExecutableActivity + Send + Sync + 'static,
        A::Input: Send,
        A::Output: Send,
    {
        let name = activity.name().to_string();
        self.activities.insert(
            name,
            activity::official_static_activity::<A>(Arc::clone(&self.heartbeat_types)),
        );
        self
    }

    /// Registers an `#[activities]` method that takes `self: Arc<Self>`, run on `instance`.
    pub fn activity_with<A>(mut self, activity: A, instance: A::Implementer) -> Self
    where
        A: ExecutableActivity + Send + Sync + 'static,
        A::Implementer: Clone,
        A::Input: Send,
        A::Output: Send,
    {
        let name = activity.name().to_string();
        self.activities.insert(
            name,
            activity::official_activity::<A>(Some(instance), Arc::clone(&self.heartbeat_types)),
        );
        self
    }

    /// Declares a type activities record heartbeat details with (`ctx.record_heartbeat(d)`), so
    /// those details reach the server and the next attempt. Numbers, `bool`, `String`, `()`,
    /// `Vec<u8>` and `serde_json::Value` are known already.
    pub fn heartbeat_details<D>(self) -> Self
    where
        D: temporalio_common::data_converters::TemporalSerializable + 'static,
    {
        self.heartbeat_types
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(activity::detail_encoder::<D>());
        self
    }

    /// Replaces the activity `activity` (by its type name) with a simulation double: a durasim
    /// activity that receives the official activity's decoded input and calls durasim services,
    /// so its effects are recorded and faults can hit them.
    pub fn double<A>(mut self, activity: A, double: ActivityDouble<A>) -> Self
    where
        A: ExecutableActivity + 'static,
    {
        let name = activity.name().to_string();
        self.activities.insert(name, double.into_raw());
        self
    }

    /// The registered workflow types, sorted.
    pub fn workflow_types(&self) -> Vec<String> {
        self.workflows.keys().cloned().collect()
    }

    /// Registers everything with `registry`.
    pub fn register(self, registry: &mut Registry) {
        for (name, f) in &self.activities {
            registry.register_activity_payloads(name, f.clone());
        }
        registry.register_runtime(Arc::new(Runtime {
            workflows: self.workflows,
        }));
    }
}

/// Runs `f` with the official SDK's default payload converter in a workflow context.
fn with_converter<R>(
    f: impl FnOnce(
        &temporalio_common::data_converters::PayloadConverter,
        &temporalio_common::data_converters::SerializationContext<'_>,
    ) -> R,
) -> R {
    use temporalio_common::data_converters::{
        SerializationContext, SerializationContextData, WorkflowSerializationContext,
    };
    let dc = DataConverter::default();
    let pc = dc.payload_converter();
    let data = SerializationContextData::Workflow(WorkflowSerializationContext::new());
    f(pc, &SerializationContext::new(&data, pc))
}

/// Encodes `value` as the official SDK's default data converter encodes a workflow or activity
/// argument (what a starter passes to `start_workflow` or `signal`).
pub fn encode<T>(value: &T) -> Result<Option<sim::history::Payloads>, String>
where
    T: temporalio_common::data_converters::TemporalSerializable + 'static,
{
    use temporalio_common::data_converters::GenericPayloadConverter;
    with_converter(|pc, ctx| {
        pc.to_payloads(ctx, value)
            .map(|p| convert::payload_list_in(&p))
            .map_err(|e| e.to_string())
    })
}

/// Decodes a workflow result (or any payload list) as the official SDK's default data
/// converter would.
pub fn decode<T>(payloads: Option<&sim::history::Payloads>) -> Result<T, String>
where
    T: temporalio_common::data_converters::TemporalDeserializable + 'static,
{
    use temporalio_common::data_converters::GenericPayloadConverter;
    with_converter(|pc, ctx| {
        pc.from_payloads(ctx, convert::payload_list_out(payloads))
            .map_err(|e| e.to_string())
    })
}

/// The [`WorkflowRuntime`] durasim's workers call for official-SDK workflow types.
struct Runtime {
    workflows: BTreeMap<String, Arc<WorkflowDef>>,
}

impl Runtime {
    fn def(&self, started: &HistoryEvent) -> Result<Arc<WorkflowDef>, WorkflowTaskError> {
        let ty = match &started.attributes {
            sim::history::EventAttributes::WorkflowExecutionStarted(s) => &s.workflow_type,
            _ => {
                return Err(WorkflowTaskError::BadHistory(format!(
                    "event {} is {}, not WorkflowExecutionStarted",
                    started.event_id,
                    started.event_type()
                )))
            }
        };
        self.workflows
            .get(ty)
            .cloned()
            .ok_or_else(|| WorkflowTaskError::UnknownWorkflowType(ty.clone()))
    }
}

impl WorkflowRuntime for Runtime {
    fn name(&self) -> String {
        SDK_VERSION.to_string()
    }

    fn workflow_types(&self) -> Vec<String> {
        self.workflows.keys().cloned().collect()
    }

    fn start(
        &self,
        workflow_id: &str,
        run_id: &str,
        started: &HistoryEvent,
    ) -> Result<Box<dyn WorkflowExecutor>, WorkflowTaskError> {
        let def = self.def(started)?;
        let run = run::OfficialRun::new(def, workflow_id, run_id, started, true)?;
        Ok(Box::new(run))
    }

    fn replay(&self, history: &History) -> ReplayOutcome {
        match replay(self, history) {
            Ok(o) => o,
            Err(e) => ReplayOutcome::Failed(e),
        }
    }

    /// Replays the whole history into a fresh instance, then asks it the query (a
    /// `QueryWorkflow` activation, as core sends for a legacy query task).
    fn query(
        &self,
        history: &History,
        query_type: &str,
        args: Option<&sim::history::Payloads>,
    ) -> Result<Option<sim::history::Payloads>, sim::history::Failure> {
        let mut run = replayed_run(self, history).map_err(|e| {
            sim::history::Failure::application(
                format!("query {query_type:?}: the history does not replay: {e}"),
                "QueryFailed",
                true,
            )
        })?;
        run.query(query_type, args)
    }
}

/// A run that has replayed the whole of `history`.
fn replayed_run(rt: &Runtime, history: &History) -> Result<run::OfficialRun, WorkflowTaskError> {
    let Some(first) = history.events.first() else {
        return Err(WorkflowTaskError::BadHistory("empty history".to_string()));
    };
    let Some(started) = history.started() else {
        return Err(WorkflowTaskError::BadHistory(
            "history does not start with WorkflowExecutionStarted".to_string(),
        ));
    };
    for (k, e) in history.events.iter().enumerate() {
        if e.event_id != k as sim::history::EventId + 1 {
            return Err(WorkflowTaskError::BadHistory(format!(
                "event at position {} has id {}",
                k + 1,
                e.event_id
            )));
        }
    }
    let run_id = if started.original_execution_run_id.is_empty() {
        started.first_execution_run_id.clone()
    } else {
        started.original_execution_run_id.clone()
    };
    let def = rt.def(first)?;
    let mut run = run::OfficialRun::new(def, &started.workflow_id, &run_id, first, false)?;
    run.process(&history.events[1..])?;
    run.end_of_history()?;
    Ok(run)
}

fn replay(rt: &Runtime, history: &History) -> Result<ReplayOutcome, WorkflowTaskError> {
    let mut run = replayed_run(rt, history)?;
    let Some(close) = history.close_event() else {
        return Ok(ReplayOutcome::Open);
    };
    let close_type = close.event_type();
    let result = match run.outcome.take() {
        Some(run::CodeOutcome::Completed(r)) => Ok(r),
        Some(run::CodeOutcome::Failed(f)) => Err(*f),
        Some(run::CodeOutcome::Cancelled) => {
            Err(sim::history::Failure::canceled("workflow cancelled"))
        }
        Some(run::CodeOutcome::ContinuedAsNew) => Ok(None),
        None => Err(sim::history::Failure::application(
            format!("workflow closed by {close_type}"),
            close_type.to_string(),
            true,
        )),
    };
    Ok(ReplayOutcome::Closed {
        result,
        close: close_type,
    })
}
