//! The workflow SDK: workflow context, deterministic executor, replay, activity context.
//!
//! Workflows are `async fn(WorkflowContext, Input) -> Result<Output, WorkflowError>`; activities
//! are `async fn(ActivityContext, Input) -> Result<Output, ActivityError>`. Both are registered
//! by type name in a [`Registry`].
//!
//! A [`WorkflowMachine`] holds one run's state (what a worker caches per run). It is fed history
//! events and returns the commands of the current workflow task; completed tasks inside the batch
//! are replayed and their commands are checked against the command events in history, exactly as
//! Temporal's SDKs do ([`NonDeterminismError`]). [`replay`] does the same for a whole history.
//!
//! Invariant: the executor reads no clock, spawns no thread, draws no randomness except the RNG
//! seeded from the run id, iterates no `HashMap`, and never touches tokio. Futures are polled in
//! a fixed order with a no-op waker until nothing makes progress.
//!
//! ```
//! use sim::sdk::{ActivityOptions, Registry, WorkflowContext, WorkflowError};
//! use std::time::Duration;
//!
//! async fn hello(ctx: WorkflowContext, name: String) -> Result<String, WorkflowError> {
//!     ctx.timer(Duration::from_secs(60)).await;
//!     let greeting: String = ctx
//!         .start_activity("greet", &name, ActivityOptions::start_to_close(Duration::from_secs(5)))
//!         .await?;
//!     Ok(greeting)
//! }
//!
//! let mut registry = Registry::new();
//! registry.register_workflow("Hello", hello);
//! assert!(registry.has_workflow("Hello"));
//! ```

mod activity;
mod cancellation;
mod children;
mod combinators;
mod context;
mod error;
mod futures;
mod local_activity;
mod machine;
mod matching;
mod properties;
mod registry;
mod rng;
mod runtime;
#[cfg(test)]
mod tests;
mod updates;

use std::future::Future;
use std::pin::Pin;

pub use activity::{
    ActivityContext, ActivityHost, ActivityInfo, HeartbeatOutcome, ServiceCallError,
    ServiceCallErrorKind,
};
pub use cancellation::ActivityCancellationType;
pub use children::{
    ChildEnd, ChildResultFuture, ChildStartFuture, ChildWorkflow, ChildWorkflowFailed,
    ChildWorkflowOptions, ExternalFailed, ExternalFuture,
};
pub use combinators::{
    join, join_all, select2, select_all, Either, Join, JoinAll, Select2, SelectAll,
};
pub use context::{parse_patch_marker, patch_marker_details};
pub use context::{
    ActivityOptions, ContinueAsNewOptions, TimerResult, WorkflowContext, WorkflowInfo,
    PATCH_MARKER_NAME, SIDE_EFFECT_MARKER_NAME,
};
pub use error::{
    ActivityError, ActivityFailed, WorkflowError, WorkflowErrorKind, CANCELLED_ERROR_TYPE,
};
pub use futures::{
    ActivityFuture, CancelledFuture, ConditionFuture, SignalChannel, SignalFuture, TimerFuture,
};
pub use local_activity::{
    local_activity_marker_details, parse_local_activity_marker, LocalActivityMarkerData,
    LocalActivityOptions, ProtoDuration, ProtoTime, LOCAL_ACTIVITY_MARKER_NAME,
    LOCAL_RETRY_THRESHOLD,
};
pub use machine::{
    query, replay, NonDeterminismError, NonDeterminismKind, ReplayOutcome, WorkflowMachine,
    WorkflowTaskError,
};
pub use matching::{update_message_id, within_task, CommandMatcher};
pub use properties::{memo, search_attributes, SearchAttributeValue};
pub use registry::{setup_hint, RawActivityFn, Registry};
pub use rng::WorkflowRng;
pub use runtime::{
    undoes_live_task, unreplayable_event, unseen_events, LocalActivityRequest, LocalActivityResult,
    WorkflowExecutor, WorkflowRuntime,
};

pub use crate::history::RetryPolicy;

/// A boxed, non-`Send` future (workers run on madsim nodes with `spawn_local`).
pub type LocalBoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;
