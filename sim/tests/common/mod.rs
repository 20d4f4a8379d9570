//! What the integration tests of `sim` share (each test crate uses part of it).
#![allow(dead_code)]

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

/// A service that applies each effect once per idempotency key (`body.key`), records it in
/// the ledger, and answers `"<reply> <amount>"`.
pub struct OncePerKey {
    name: &'static str,
    operation: [&'static str; 1],
    reply: &'static str,
    keys: std::sync::Mutex<std::collections::BTreeSet<String>>,
}

impl OncePerKey {
    pub fn new(name: &'static str, operation: &'static str, reply: &'static str) -> Self {
        OncePerKey {
            name,
            operation: [operation],
            reply,
            keys: Default::default(),
        }
    }
}

impl sim::ServiceLogic for OncePerKey {
    fn name(&self) -> &str {
        self.name
    }
    fn effect_operations(&self) -> &[&str] {
        &self.operation
    }
    fn handle(
        &self,
        ctx: &sim::ServiceCtx<'_>,
        operation: &str,
        body: &serde_json::Value,
        caller: Option<&sim::Caller>,
    ) -> Result<serde_json::Value, (String, String)> {
        let key = body["key"].as_str().unwrap_or_default().to_string();
        let applied = self.keys.lock().unwrap().insert(key.clone());
        ctx.ledger
            .record(self.name, operation, &key, applied, caller, body.clone());
        Ok(serde_json::json!(format!(
            "{} {}",
            self.reply, body["amount"]
        )))
    }
    fn snapshot(&self) -> serde_json::Value {
        serde_json::json!(self.keys.lock().unwrap().len())
    }
}
