//! What the integration tests of `sim` share.

use sim::history::{json::parse_history, History};

/// A history recorded from a real Temporal server (`fixtures/temporal-histories/NAME.json`).
pub fn fixture(name: &str) -> History {
    let path = format!(
        "{}/../fixtures/temporal-histories/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    parse_history(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}
