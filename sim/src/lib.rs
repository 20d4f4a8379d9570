//! durasim's simulation harness: a Temporal-style durable-execution engine, workers, clients
//! and the services activities call, all running as madsim nodes in seeded virtual time, with
//! injected faults and invariant checks.
//!
//! # What you use
//! Everything a test needs is at the crate root: write workflows and activities against
//! [`WorkflowContext`] and [`ActivityContext`] and register them in a [`Registry`]; model the
//! services your activities call with [`ServiceLogic`]; describe what runs in a [`Scenario`];
//! sweep it over seeds and fault [`Profile`]s with a [`Harness`], which checks every
//! [`Invariant`] on each run's [`Outcome`], shrinks a failing seed's [`FaultPlan`] and prints a
//! line that reproduces it. [`replay`] replays a recorded history against your code. Four
//! modules are public for what has many names: [`sdk`] (the workflow SDK), [`history`]
//! (Temporal's event-history model and codecs), [`faults`] (fault plans, their generation and
//! shrinking) and [`checkers`] (the built-in invariants).
//!
//! # Map of the code
//! Dependencies point down this list's bottom half, toward `history`:
//! - `harness`: seed sweeps, shrinking, reports and reproduction lines (`cargo test`, CLI).
//! - `scenario`: the composition root: `run(scenario, seed, plan) -> Outcome`.
//! - [`checkers`]: invariants, each reading only the recorded [`Outcome`].
//! - `engine` (the server), `worker`, `client`, `service`: the node kinds.
//! - [`faults`]: fault plans (data), generated per seed from a profile, shrunk when failing.
//! - [`sdk`]: `WorkflowContext`, `ActivityContext`, the deterministic executor, replay.
//! - `transport`: request/response over the simulated network, message-fault injection;
//!   `alarm`: a sleep that costs one simulation timer however often it is polled.
//! - `wire` (the server's request/response API), `record` (what a run observed: the
//!   [`Outcome`]), `trace` (the run's fingerprint), `clock`, `rng`, `lookup`: shared data and
//!   utilities below every layer.
//! - [`history`]: events, commands, payloads, failures; Temporal's JSON and `workflow show`
//!   text. Pure data.
//!
//! A seeded run is a function (this example builds its own tiny scenario):
//!
//! ```
//! use std::sync::Arc;
//! use sim::history::Payloads;
//! use sim::{run, FaultPlan, Registry, Scenario, StartSpec, WorkflowContext, WorkflowError};
//!
//! async fn hello(ctx: WorkflowContext, name: String) -> Result<String, WorkflowError> {
//!     ctx.timer(std::time::Duration::from_secs(60)).await;
//!     Ok(format!("hello {name}"))
//! }
//!
//! let mut registry = Registry::new();
//! registry.register_workflow("Hello", hello);
//! let mut scenario = Scenario::new("hello", registry, "q");
//! scenario.starts.push(StartSpec {
//!     workflow_id: "hello-1".into(),
//!     workflow_type: "Hello".into(),
//!     task_queue: "q".into(),
//!     input: Some(Payloads::json("world").unwrap()),
//!     delay: std::time::Duration::ZERO,
//! });
//! let scenario = Arc::new(scenario);
//! let a = run(&scenario, 7, &FaultPlan::none());
//! let b = run(&scenario, 7, &FaultPlan::none());
//! assert_eq!(a.trace_hash, b.trace_hash);
//! assert_eq!(a.histories.values().next().unwrap().len(), 10);
//! ```
#![warn(missing_docs)]

// Everything here runs inside madsim's simulation (its network, clock and runtime), which
// exists only under `--cfg madsim`; without it the build would fail with unrelated-looking
// errors about `madsim::runtime` and `NetSim`.
#[cfg(not(madsim))]
compile_error!(
    "durasim's `sim` crate runs inside madsim and needs `--cfg madsim`: add \
     `[build] rustflags = [\"--cfg\", \"madsim\"]` to your crate's `.cargo/config.toml` \
     (a RUSTFLAGS variable in the environment replaces it: include `--cfg madsim` there too)"
);

mod alarm;
pub mod checkers;
mod client;
mod clock;
mod engine;
pub mod faults;
mod harness;
pub mod history;
mod lookup;
mod record;
mod rng;
mod scenario;
pub mod sdk;
mod service;
mod suggest;
mod testenv;
mod trace;
mod transport;
mod wire;
mod worker;

pub use checkers::{Invariant, Violation};
pub use client::{
    CancelSpec, QuerySpec, SignalSpec, StartOptions, StartSpec, TerminateSpec, TestClient,
    TestClientError, UpdateSpec, WorkflowHandle,
};
pub use clock::BASE_NANOS;
pub use engine::{Defects, EngineConfig, Limits};
pub use faults::{FaultPlan, Profile};
pub use harness::{
    load_plan, EffectCalls, Harness, HarnessError, InputReader, Report, Repro, SeedFailure,
    MAX_JOBS,
};
pub use record::coverage;
pub use record::{
    AckedEvent, AckedRequest, AttemptEnd, AttemptFailure, Caller, ClientResult, Effect,
    Expectation, ObservedAck, ObservedAttempt, ObservedWorkflowTask, Outcome, RequestedClose,
    ServiceUse, UnrecordedCall, UpdateRecord,
};
pub use scenario::{run, Scenario, ServiceFactory};
pub use sdk::{
    replay, ActivityContext, ActivityError, ActivityOptions, Registry, ReplayOutcome, RetryPolicy,
    WorkflowContext, WorkflowError,
};
pub use service::{EffectLedger, ServiceCtx, ServiceLogic};
pub use suggest::closest;
pub use testenv::{TestEnv, TestRun};
pub use trace::{TraceEntry, TraceKind};
pub use wire::{Description, WorkflowStatus};
