//! durasim: the glue between the two tools and their command lines.
//!
//! - `sim` (the simulation harness) lives in the `sim` crate; its command line is the `sim-cli`
//!   crate, which this package's `sim` binary runs over the built-in [`catalogue`].
//! - `workflowcheck` (the determinism linter) lives in the `workflowcheck` crate with its own
//!   binaries.
//!
//! The root package's tests (`tests/`) use both tools as a user would.

use sim_cli::{Catalogue, ScenarioEntry};

/// The built-in scenarios (`fixtures/`) and the workflow implementations histories replay
/// against, as the `sim` command knows them.
pub fn catalogue() -> Catalogue {
    let mut c = Catalogue::new();
    for e in fixtures::scenarios::CATALOG {
        let name = e.name;
        let entry = ScenarioEntry::new(name, e.about, e.workflows, move || {
            fixtures::scenarios::scenario(name).expect("every catalogue entry builds")
        })
        .with_invariants(move || {
            fixtures::scenarios::entry(name)
                .map(|e| e.extra_invariants())
                .unwrap_or_default()
        });
        c = c.scenario_entry(entry);
    }
    for (name, about) in fixtures::scenarios::WORKFLOWS {
        let implements = fixtures::scenarios::implements(name).unwrap_or(name);
        c = c.workflow(name, about, implements, move |as_type| {
            fixtures::scenarios::registry_for(name, as_type)
                .expect("every listed workflow has a registry")
        });
    }
    c
}
