//! durasim: the glue between the two tools and their command lines.
//!
//! - `sim` (the simulation harness) lives in the `sim` crate; its CLI is `src/bin/sim.rs`, whose
//!   testable parts are in [`cli`].
//! - `workflowcheck` (the determinism linter) lives in the `workflowcheck` crate with its own
//!   binaries.
//!
//! The root package's tests (`tests/`) use both tools as a user would.

pub mod cli;
