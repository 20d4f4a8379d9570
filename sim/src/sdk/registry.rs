//! Workflow and activity functions by type name.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::activity::ActivityContext;
use super::context::WorkflowContext;
use super::error::{ActivityError, WorkflowError};
use super::machine::{WorkflowMachine, WorkflowTaskError};
use super::runtime::{WorkflowExecutor, WorkflowRuntime};
use super::LocalBoxFuture;
use crate::history::{EventAttributes, Failure, HistoryEvent, Payloads};

pub(crate) type WorkflowRun = LocalBoxFuture<'static, Result<Option<Payloads>, WorkflowError>>;

type WorkflowFn =
    Arc<dyn Fn(WorkflowContext, Option<&Payloads>) -> Result<WorkflowRun, String> + Send + Sync>;

/// An activity at the payload level: what [`Registry::register_activity_payloads`] takes.
pub type RawActivityFn = ActivityFn;

type ActivityFn = Arc<
    dyn Fn(
            ActivityContext,
            Option<Payloads>,
        ) -> LocalBoxFuture<'static, Result<Option<Payloads>, Failure>>
        + Send
        + Sync,
>;

#[derive(Clone, Default)]
struct Inner {
    workflows: BTreeMap<String, WorkflowFn>,
    /// Workflow types run by another SDK's runtime.
    runtimes: BTreeMap<String, Arc<dyn WorkflowRuntime>>,
    activities: BTreeMap<String, ActivityFn>,
}

/// Workflow and activity functions by type name. Cheap to clone (an `Arc` inside).
#[derive(Clone, Default)]
pub struct Registry {
    inner: Arc<Inner>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("workflows", &self.workflow_types())
            .field("activities", &self.activity_types())
            .finish()
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Registry::default()
    }

    /// Registers `f` as workflow type `workflow_type` (replacing an earlier registration).
    pub fn register_workflow<I, O, F, Fut>(&mut self, workflow_type: &str, f: F) -> &mut Self
    where
        F: Fn(WorkflowContext, I) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<O, WorkflowError>> + 'static,
        I: DeserializeOwned + 'static,
        O: Serialize + 'static,
    {
        let wf: WorkflowFn = Arc::new(move |ctx: WorkflowContext, input: Option<&Payloads>| {
            let input: I = match input {
                Some(p) => p.decode_args().map_err(|e| e.0)?,
                None => serde_json::from_value(serde_json::Value::Null)
                    .map_err(|e| format!("workflow input missing: {e}"))?,
            };
            let fut = f(ctx, input);
            Ok(Box::pin(async move {
                let out = fut.await?;
                Payloads::json(&out).map(Some).map_err(WorkflowError::from)
            }) as WorkflowRun)
        });
        let inner = Arc::make_mut(&mut self.inner);
        inner.runtimes.remove(workflow_type);
        inner.workflows.insert(workflow_type.to_string(), wf);
        self
    }

    /// Registers every workflow type `runtime` runs (replacing earlier registrations of those
    /// types): workflows written against another SDK, e.g. Temporal's official one.
    pub fn register_runtime(&mut self, runtime: Arc<dyn WorkflowRuntime>) -> &mut Self {
        let inner = Arc::make_mut(&mut self.inner);
        for ty in runtime.workflow_types() {
            inner.workflows.remove(&ty);
            inner.runtimes.insert(ty, Arc::clone(&runtime));
        }
        self
    }

    /// Registers an activity that works on payloads directly (replacing an earlier
    /// registration): for activities of another SDK, which decode and encode their own values.
    pub fn register_activity_payloads(
        &mut self,
        activity_type: &str,
        f: RawActivityFn,
    ) -> &mut Self {
        Arc::make_mut(&mut self.inner)
            .activities
            .insert(activity_type.to_string(), f);
        self
    }

    /// Registers `f` as activity type `activity_type` (replacing an earlier registration).
    pub fn register_activity<I, O, F, Fut>(&mut self, activity_type: &str, f: F) -> &mut Self
    where
        F: Fn(ActivityContext, I) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<O, ActivityError>> + 'static,
        I: DeserializeOwned + 'static,
        O: Serialize + 'static,
    {
        let f = Arc::new(f);
        let act: ActivityFn = Arc::new(move |ctx: ActivityContext, input: Option<Payloads>| {
            let f = Arc::clone(&f);
            Box::pin(async move {
                let decoded: Result<I, _> = match &input {
                    Some(p) => p.decode_args(),
                    None => serde_json::from_value(serde_json::Value::Null)
                        .map_err(|e| crate::history::PayloadError(e.to_string())),
                };
                let input = decoded.map_err(|e| {
                    Failure::application(format!("activity input: {e}"), "PayloadDecodeError", true)
                })?;
                let out = f(ctx, input).await.map_err(ActivityError::into_failure)?;
                Payloads::json(&out).map(Some).map_err(|e| {
                    Failure::application(
                        format!("activity result: {e}"),
                        "PayloadEncodeError",
                        true,
                    )
                })
            })
        });
        Arc::make_mut(&mut self.inner)
            .activities
            .insert(activity_type.to_string(), act);
        self
    }

    /// Whether a workflow is registered under `workflow_type`.
    pub fn has_workflow(&self, workflow_type: &str) -> bool {
        self.inner.workflows.contains_key(workflow_type)
            || self.inner.runtimes.contains_key(workflow_type)
    }

    /// Whether an activity is registered under `activity_type`.
    pub fn has_activity(&self, activity_type: &str) -> bool {
        self.inner.activities.contains_key(activity_type)
    }

    /// Registered workflow types, sorted.
    pub fn workflow_types(&self) -> Vec<String> {
        let mut types: Vec<String> = self
            .inner
            .workflows
            .keys()
            .chain(self.inner.runtimes.keys())
            .cloned()
            .collect();
        types.sort();
        types
    }

    /// Registered activity types, sorted.
    pub fn activity_types(&self) -> Vec<String> {
        let mut types: Vec<String> = self.inner.activities.keys().cloned().collect();
        types.sort();
        types
    }

    /// The foreign runtime that runs `workflow_type`, if one does.
    pub(crate) fn runtime_for(&self, workflow_type: &str) -> Option<&Arc<dyn WorkflowRuntime>> {
        self.inner.runtimes.get(workflow_type)
    }

    /// An executor for the run `started` (its WorkflowExecutionStarted event) began: this
    /// crate's [`WorkflowMachine`], or the executor of the runtime that registered its type.
    pub fn start_run(
        &self,
        workflow_id: &str,
        run_id: &str,
        started: &HistoryEvent,
    ) -> Result<Box<dyn WorkflowExecutor>, WorkflowTaskError> {
        if let EventAttributes::WorkflowExecutionStarted(s) = &started.attributes {
            if let Some(rt) = self.runtime_for(&s.workflow_type) {
                return rt.start(workflow_id, run_id, started);
            }
        }
        WorkflowMachine::new(self, workflow_id, run_id, started)
            .map(|m| Box::new(m) as Box<dyn WorkflowExecutor>)
    }

    pub(crate) fn start_workflow(
        &self,
        workflow_type: &str,
        ctx: WorkflowContext,
        input: Option<&Payloads>,
    ) -> Option<Result<WorkflowRun, String>> {
        self.inner
            .workflows
            .get(workflow_type)
            .map(|f| f(ctx, input))
    }

    /// Runs one activity attempt: decodes the input, calls the function, encodes the output.
    /// Never panics: a panic in the activity becomes an application failure of type
    /// `PanicError`; an unregistered type a (retryable) `ActivityNotRegistered` failure.
    pub fn run_activity(
        &self,
        ctx: ActivityContext,
        input: Option<Payloads>,
    ) -> LocalBoxFuture<'static, Result<Option<Payloads>, Failure>> {
        let activity_type = ctx.info().activity_type.clone();
        let Some(f) = self.inner.activities.get(&activity_type).cloned() else {
            let types = self.activity_types();
            let known = types.join(", ");
            let guess = crate::suggest::closest(&activity_type, types.iter().map(|s| s.as_str()))
                .map(|g| format!(" (did you mean {g:?}?)"))
                .unwrap_or_default();
            return Box::pin(std::future::ready(Err(Failure::application(
                format!(
                    "Activity function {activity_type} is not registered on this worker, available activities: {known}{guess}"
                ),
                "ActivityNotRegistered",
                false,
            ))));
        };
        let fut = match catch_unwind(AssertUnwindSafe(|| f(ctx, input))) {
            Ok(fut) => fut,
            Err(p) => return Box::pin(std::future::ready(Err(panic_failure(p.as_ref())))),
        };
        Box::pin(CatchUnwind { inner: fut })
    }
}

pub(crate) fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_string()
    }
}

fn panic_failure(p: &(dyn std::any::Any + Send)) -> Failure {
    let mut message = panic_message(p);
    if let Some(hint) = setup_hint("PanicError", &message) {
        message.push_str(" [hint: ");
        message.push_str(hint);
        message.push(']');
    }
    Failure::application(message, "PanicError", false)
}

/// What to do about an activity failure that is a known setup mistake rather than a bug in the
/// activity: the real tokio runtime used inside the simulation, an activity type that is not
/// registered. `None` for any other failure.
pub fn setup_hint(failure_type: &str, message: &str) -> Option<&'static str> {
    if message.contains("no reactor running") || message.contains("context of a Tokio 1.x") {
        Some(
            "the activity used the real tokio runtime (directly or through a client library), \
             which does not run inside the simulation: depend on tokio as `tokio = { package = \
             \"madsim-tokio\", version = \"0.2\" }` so it resolves to madsim's, and reach the \
             outside world through `ctx.call_service` to a simulated service",
        )
    } else if failure_type == "ActivityNotRegistered" {
        Some("register the activity under the name the workflow schedules it by")
    } else {
        None
    }
}

/// Turns a panic while polling an activity into a `PanicError` failure.
struct CatchUnwind {
    inner: LocalBoxFuture<'static, Result<Option<Payloads>, Failure>>,
}

impl Future for CatchUnwind {
    type Output = Result<Option<Payloads>, Failure>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = &mut self.inner;
        match catch_unwind(AssertUnwindSafe(|| inner.as_mut().poll(cx))) {
            Ok(p) => p,
            Err(p) => Poll::Ready(Err(panic_failure(p.as_ref()))),
        }
    }
}
