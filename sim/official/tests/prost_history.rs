//! durasim's histories through the official SDK's prost `History` and back: every history a real
//! server recorded (`fixtures/temporal-histories/`, `fixtures/official-histories/`), which
//! between them hold every event type Temporal writes for the features they exercise.

use std::sync::Arc;

use sim::history::{parse_history, to_json, EventAttributes, History};
use sim_official::{history_from_prost, history_to_prost, ProstHistoryError};

/// `(name, JSON)` of every recorded history, sorted by name.
fn recorded() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for dir in ["temporal-histories", "official-histories"] {
        let dir = format!("{}/../../fixtures/{dir}", env!("CARGO_MANIFEST_DIR"));
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|x| x == "json") {
                let text = std::fs::read_to_string(&path).unwrap();
                out.push((path.display().to_string(), text));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_recorded_history_survives_the_official_prost_history() {
    let histories = recorded();
    assert!(histories.len() >= 31, "{} histories", histories.len());
    for (name, text) in histories {
        let h = parse_history(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let prost = history_to_prost(&h).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(prost.events.len(), h.len(), "{name}");
        for (ours, theirs) in h.events.iter().zip(&prost.events) {
            assert_eq!(theirs.event_id, ours.event_id, "{name}");
            assert_eq!(theirs.event_type, ours.event_type().number(), "{name}");
            assert_eq!(theirs.task_id, ours.task_id, "{name}");
            assert!(
                theirs.attributes.is_some(),
                "{name}: event {}",
                ours.event_id
            );
        }
        let back = history_from_prost(&prost).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            back, h,
            "{name}: the history differs after the prost round trip"
        );
        // The same JSON; nested unmodelled objects may come back in field-number order.
        let a: serde_json::Value = serde_json::from_str(&to_json(&back)).unwrap();
        let b: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(a, b, "{name}: the JSON differs");
    }
}

#[test]
fn a_field_temporals_schema_does_not_have_is_an_error_naming_it() {
    let (_, text) = recorded()
        .into_iter()
        .find(|(name, _)| name.ends_with("children.json"))
        .unwrap();
    let mut h: History = parse_history(&text).unwrap();
    let EventAttributes::ChildWorkflowExecutionStarted(s) = &mut h.events[5].attributes else {
        panic!("event 6 is {}", h.events[5].event_type());
    };
    Arc::make_mut(s)
        .extra
        .insert("notAField".to_string(), serde_json::json!(1));
    match history_to_prost(&h) {
        Err(ProstHistoryError::Schema(m)) => assert!(m.contains("notAField"), "{m}"),
        other => panic!("{other:?}"),
    }
}
