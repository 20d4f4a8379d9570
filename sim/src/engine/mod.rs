//! The durable-execution server: Temporal's history and matching services as one state
//! machine (`Engine`), the durable store, and the server node that ties them to the simulated
//! network.
//!
//! Invariants: the engine does no I/O and reads no clock (time is passed in); every state
//! change is one atomic store write, synced before any reply (unless a deliberate defect says
//! otherwise); iterated state is ordered (`BTreeMap`), so the same inputs give the same history.
//!
//! Map (each file opens with the Temporal concept it implements and its invariants):
//! - `core.rs`: the `Engine`, its config and limits, `handle`/`tick`, and the end of a step
//!   (limits, reindexing, matching, writes) with its consistency assertions.
//! - `runs.rs`: runs (history + mutable state), the interned handle `RunIdx`, look-ups, and the
//!   derived indexes (`reindex`: a run's ready tasks and its earliest deadline).
//! - `history_builder.rs`: appending events (ids, times, closed runs asserted), buffering while a
//!   workflow task runs and flushing after it, closing and terminating a run, the history limit.
//! - `matching.rs`: task queues, parked long polls, dispatch (a poll meets a ready task).
//! - `workflow_task.rs`: workflow tasks: schedule (sticky or normal), start, complete, fail,
//!   time out; transient retries; UnhandledCommand.
//! - `commands.rs`: validating a completed task's commands, then one function per command kind.
//! - `activities.rs`: activity attempts: start, heartbeat, complete/fail/cancel, retries and
//!   backoff, the four timeouts.
//! - `activity_rules.rs`: Temporal's rules for an activity's timeouts (the values written on
//!   ActivityTaskScheduled, heartbeat timer timing) and the failures timeouts end with.
//! - `timers.rs`: durable timers and the deadline index `tick` drains (`on_time`).
//! - `children.rs`: child workflows: start (or start failed), the parent told of the child's
//!   close, parent close policies.
//! - `external.rs`: signals and cancel requests to other workflows, and the transfers every
//!   cross-run command leaves for after its batch.
//! - `properties.rs`: search attributes and memo: as started, upserted by the commands
//!   UpsertWorkflowSearchAttributes and ModifyWorkflowProperties, inherited by continue-as-new.
//! - `signal_with_start.rs`: signal-with-start (signal the open run, or start one with the
//!   signal right after WorkflowExecutionStarted), idempotent by request id.
//! - `run_timeouts.rs`: workflow run and execution timeouts (WorkflowExecutionTimedOut), the
//!   execution's expiration carried across continue-as-new, and the force-closed workflow task.
//! - `frontend.rs`: client calls: start (id reuse), signal, cancel, terminate, describe, history
//!   (and its wait-for-close long poll); creating a run (also continue-as-new's).
//! - `state.rs`: per-run mutable state (data); `store.rs`: the durable store; `server.rs`: the
//!   node loop (receive, step, write, sync, reply; group commit).
//!
//! Where is ...?
//! - activity retries decided -> `activities.rs` `attempt_failed` (policy: `RetryPolicy` in
//!   `history`); their backoff is a deadline in `runs.rs` `index_entries`;
//! - a workflow task's timeout or retry backoff -> `workflow_task.rs` `workflow_task_timeouts`,
//!   `record_wft_failure`;
//! - which history a worker gets (sticky, transient) -> `workflow_task.rs` `start_wft`;
//! - a command turned into an event -> `commands.rs` `apply_command` and the function it names;
//! - a signal or timer arriving while a task runs -> `history_builder.rs` `append_or_buffer`;
//! - a child started, or its parent told of its close -> `children.rs` `start_child`,
//!   `after_close` (called from `history_builder.rs` `close`);
//! - a poll answered -> `matching.rs` `poll`, `match_pollers`;
//! - what a step writes, and what is checked at its end -> `core.rs` `finish_step`.

mod activities;
mod activity_rules;
mod children;
mod commands;
mod core;
mod external;
mod frontend;
mod history_builder;
mod matching;
mod properties;
mod queries;
mod run_timeouts;
mod runs;
pub mod server;
mod signal_with_start;
pub mod state;
pub mod store;
#[cfg(test)]
mod tests;
mod timers;
mod updates;
mod workflow_task;

pub use core::{Defects, EngineConfig, Limits};
pub use server::{run_server, ServerConfig};
pub use store::SimStore;
