//! `sim`: run seeded fault scenarios, show and replay workflow histories (the built-in
//! scenarios; `sim-cli` gives a crate of your own the same command over its scenarios).
//!
//! Exit codes: 0 everything held / replayed, 1 an invariant failed or a replay found
//! non-determinism, 2 usage or input errors.

use std::process::ExitCode;

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    sim_cli::main(durasim::catalogue())
}
