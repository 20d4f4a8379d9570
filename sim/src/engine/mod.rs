//! The durable-execution server: request API, the engine state machine, the durable store, and
//! the server node that ties them to the simulated network.
//!
//! Invariants: `core` does no I/O and reads no clock (time is passed in); every state change is
//! one atomic store write, synced before any reply (unless a deliberate defect says otherwise);
//! iterated state is ordered (`BTreeMap`), so the same inputs give the same history.

pub mod core;
pub mod server;
pub mod state;
pub mod store;

pub use core::{Defects, Engine, EngineConfig, Execution, Limits, ReplyHandle, Step};
pub use server::{run_server, ServerConfig};
pub use store::{SimStore, Store, StoreSnapshot, StoreWrite};
