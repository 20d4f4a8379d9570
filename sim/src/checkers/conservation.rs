//! `conservation`: a bank-like service neither creates nor destroys money.
//!
//! What it proves: at the end of the run, the service's durable state reports
//! `total == initial_total`. Transfers only move money, so any difference is a transfer applied
//! in part (withdrawn, never deposited nor refunded) or an effect applied twice.
//!
//! What it reads: `outcome.services[service]`, the service's snapshot
//! `{"balances": {account: n}, "total": n, "initial_total": n}` (as the fixtures crate's `Bank`
//! writes it).
//!
//! Known limits: only for scenarios whose workflows only move money (the catalog's
//! `conserves_money`); it is not in [`super::default_invariants`]. It checks the end state only:
//! a run that ends with an open transfer (money withdrawn, not yet deposited) fails it too, and
//! liveness will say why. Two compensating errors (one extra deposit, one extra withdrawal of
//! the same amount) cancel out; exactly-once catches those.

use serde_json::Value;

use super::{Invariant, Outcome, Violation};

/// The `conservation` invariant for one service (usually `"bank"`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conservation {
    /// The service whose end state must hold the same total as its start state.
    pub service: String,
}

impl Conservation {
    /// The conservation invariant of `service`.
    pub fn new(service: impl Into<String>) -> Self {
        Conservation {
            service: service.into(),
        }
    }

    /// The conservation invariant of the fixtures' bank.
    pub fn bank() -> Self {
        Conservation::new("bank")
    }
}

fn balances(snapshot: &Value) -> String {
    match snapshot.get("balances").and_then(Value::as_object) {
        Some(m) if !m.is_empty() => m
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", "),
        Some(_) => "no accounts".to_string(),
        None => "no balances recorded".to_string(),
    }
}

impl Invariant for Conservation {
    fn name(&self) -> &str {
        "conservation"
    }

    fn check(&self, outcome: &Outcome) -> Result<(), Violation> {
        let fail = |m: String| Err(Violation::new(self.name(), m));
        let Some(snap) = outcome.services.get(&self.service) else {
            return fail(format!(
                "service {:?} recorded no state (services: {})",
                self.service,
                outcome
                    .services
                    .keys()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        };
        let (Some(total), Some(initial)) = (
            snap.get("total").and_then(Value::as_i64),
            snap.get("initial_total").and_then(Value::as_i64),
        ) else {
            return fail(format!(
                "service {:?} state has no integer \"total\" and \"initial_total\": {snap}",
                self.service
            ));
        };
        if total == initial {
            return Ok(());
        }
        let diff = total - initial;
        let what = if diff > 0 { "created" } else { "destroyed" };
        fail(format!(
            "{} {what} {}: total {total} != initial total {initial} (balances: {})",
            self.service,
            diff.abs(),
            balances(snap)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::*;
    use serde_json::json;

    fn check(o: &Outcome) -> Result<(), Violation> {
        Conservation::bank().check(o)
    }

    #[test]
    fn passes_when_money_only_moved() {
        assert_eq!(check(&outcome()), Ok(()));
    }

    #[test]
    fn money_created_is_a_violation_with_both_totals_and_the_balances() {
        let mut o = outcome();
        o.services.insert(
            "bank".into(),
            json!({"balances": {"A-1": 900, "A-2": 1200}, "total": 2100, "initial_total": 2000}),
        );
        let v = check(&o).unwrap_err();
        assert_eq!(
            v.to_string(),
            "conservation: bank created 100: total 2100 != initial total 2000 \
             (balances: A-1=900, A-2=1200)"
        );
    }

    #[test]
    fn money_destroyed_is_a_violation() {
        let mut o = outcome();
        o.services.insert(
            "bank".into(),
            json!({"balances": {"A-1": 900, "A-2": 1000}, "total": 1900, "initial_total": 2000}),
        );
        let v = check(&o).unwrap_err();
        assert!(v.message.starts_with("bank destroyed 100:"), "{v}");
    }

    #[test]
    fn missing_service_or_malformed_state_is_a_violation() {
        let mut o = outcome();
        o.services.clear();
        o.services.insert("translation".into(), json!({}));
        let v = check(&o).unwrap_err();
        assert_eq!(
            v.message,
            "service \"bank\" recorded no state (services: translation)"
        );
        o.services.insert("bank".into(), json!({"balances": {}}));
        let v = check(&o).unwrap_err();
        assert!(v.message.contains("no integer \"total\""), "{v}");
    }
}
