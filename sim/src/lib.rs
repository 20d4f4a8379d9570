//! durasim's simulation harness: a Temporal-style durable-execution engine, workers, clients
//! and the services activities call, all running as madsim nodes in seeded virtual time, with
//! injected faults and invariant checks.
//!
//! Map of the code (dependencies point toward `history`):
//! - [`history`]: events, commands, payloads, failures; Temporal's JSON and `workflow show`
//!   text. Pure data.
//! - [`sdk`]: `WorkflowContext`, `ActivityContext`, the deterministic executor, replay.
//! - [`engine`]: the server state machine, the durable store, the server node.
//! - [`transport`]: request/response over the simulated network, message-fault injection.
//! - [`worker`], [`client`], [`service`]: the other node kinds.
//! - [`faults`]: fault plans (data), generated per seed from a profile, shrunk when failing.
//! - [`scenario`]: the composition root: `run(scenario, seed, plan) -> Outcome`.
//! - [`checkers`]: invariants, each reading only the recorded `Outcome`.
//! - [`harness`]: seed sweeps, shrinking and reproduction lines, for `cargo test` and the CLI.
//! - [`trace`], [`clock`]: the run's fingerprint and virtual wall-clock time; [`alarm`]: a
//!   sleep that costs one simulation timer however often it is polled.
//!
//! A seeded run is a function (this example builds its own tiny scenario):
//!
//! ```
//! use std::sync::Arc;
//! use sim::client::StartSpec;
//! use sim::faults::FaultPlan;
//! use sim::history::Payloads;
//! use sim::scenario::{run, Scenario};
//! use sim::sdk::{Registry, WorkflowContext, WorkflowError};
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
pub mod alarm;
pub mod checkers;
pub mod client;
pub mod clock;
pub mod engine;
pub mod faults;
pub mod harness;
pub mod history;
mod lookup;
pub mod record;
mod rng;
pub mod scenario;
pub mod sdk;
pub mod service;
pub mod trace;
pub mod transport;
pub mod wire;
pub mod worker;
