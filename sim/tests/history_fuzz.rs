//! No input makes the history reader (or the writers on what it read) panic.

use proptest::prelude::*;
use sim::history::{parse_history, show, to_json};

const FIXTURES: [&str; 9] = [
    "transfer-completed",
    "transfer-retried",
    "transfer-failed",
    "transfer-worker-killed",
    "greeting-sleep-30d",
    "children",
    "messenger",
    "updates",
    "properties",
];

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/../fixtures/temporal-histories/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path}: {e}"))
}

/// Reads `text`; whatever was read must write back to JSON that reads to the same JSON again,
/// and must render.
fn check(text: &str) {
    if let Ok(h) = parse_history(text) {
        let out = to_json(&h);
        let again = parse_history(&out).unwrap_or_else(|e| panic!("re-read failed: {e}\n{out}"));
        assert_eq!(to_json(&again), out);
        let _ = show(&h, false);
        let _ = show(&h, true);
    }
}

/// Tokens that push the reader into its edge cases when spliced into a fixture.
const TOKENS: [&str; 24] = [
    "null", "{}", "[]", "\"\"", "0", "-1", "1e30", "1000000000000000000000000000000",
    "\"1000000000000000000000000000000\"", "\"9223372036854775808\"", "1.5", "true",
    "\"5x\"", "\"-1s\"", "\"NaN\"", "\"EVENT_TYPE_TIMER_FIRED\"", "\"TimerStarted\"", "99",
    "\"9999-12-31T23:59:59Z\"", "\"!!\"", "\"\\u0000\"", "{\"payloads\": [{}]}",
    "\"TASK_QUEUE_KIND_STICKY\"", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]",
];

#[derive(Debug, Clone)]
enum Edit {
    /// Replace the JSON value after the n-th `": "` with a token.
    Value(usize, usize),
    /// Overwrite one byte.
    Byte(usize, u8),
    /// Delete a range.
    Delete(usize, usize),
    /// Truncate.
    Truncate(usize),
}

fn edit_strategy() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (any::<usize>(), 0..TOKENS.len()).prop_map(|(a, b)| Edit::Value(a, b)),
        2 => (any::<usize>(), any::<u8>()).prop_map(|(a, b)| Edit::Byte(a, b)),
        1 => (any::<usize>(), 0usize..64).prop_map(|(a, b)| Edit::Delete(a, b)),
        1 => any::<usize>().prop_map(Edit::Truncate),
    ]
}

fn apply(text: &str, edit: &Edit) -> Vec<u8> {
    let mut b = text.as_bytes().to_vec();
    match *edit {
        Edit::Value(n, t) => {
            let starts: Vec<usize> = text.match_indices("\": ").map(|(i, _)| i + 3).collect();
            let start = starts[n % starts.len()];
            // The value runs to the end of the line (minus a trailing comma) or is a container.
            let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
            let end = if text[start..end].ends_with(',') {
                end - 1
            } else {
                end
            };
            b.splice(start..end, TOKENS[t].bytes());
        }
        Edit::Byte(i, v) => {
            let i = i % b.len();
            b[i] = v;
        }
        Edit::Delete(i, n) => {
            let i = i % b.len();
            let j = (i + n).min(b.len());
            b.drain(i..j);
        }
        Edit::Truncate(i) => b.truncate(i % b.len()),
    }
    b
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings_never_panic(s in ".{0,200}") {
        check(&s);
    }

    #[test]
    fn json_shaped_strings_never_panic(s in r#"[\[\]{}":,0-9a-zA-Z_ .\-]{0,120}"#) {
        check(&s);
        check(&format!("{{\"events\": [{{\"eventId\": \"1\", {s}}}]}}"));
    }

    #[test]
    fn mutated_fixtures_never_panic(
        f in 0..FIXTURES.len(),
        edits in proptest::collection::vec(edit_strategy(), 1..4),
    ) {
        let mut text = fixture(FIXTURES[f]);
        for edit in &edits {
            let bytes = apply(&text, edit);
            text = String::from_utf8_lossy(&bytes).into_owned();
            if text.is_empty() || !text.contains("\": ") {
                break;
            }
        }
        check(&text);
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(parse_history(&deep).is_err());
    let nested = |depth: usize| {
        let mut cause = String::from("{\"message\": \"x\"}");
        for _ in 0..depth {
            cause = format!("{{\"message\": \"x\", \"cause\": {cause}}}");
        }
        format!(
            "[{{\"eventId\": \"1\", \"eventTime\": \"2026-11-25T09:42:43Z\", \
             \"eventType\": \"ActivityTaskStarted\", \"activityTaskStartedEventAttributes\": \
             {{\"scheduledEventId\": \"1\", \"lastFailure\": {cause}}}}}]"
        )
    };
    let h = parse_history(&nested(100)).unwrap();
    check(&nested(100));
    assert_eq!(to_json(&h).matches("\"cause\"").count(), 100);
    assert!(parse_history(&nested(1000)).is_err());
}

/// Regression (found by `mutated_fixtures_never_panic`): required fields holding their default
/// value (`scheduledEventId: "0"`, an empty timer id) were left out on writing, as proto3 JSON
/// does, and the written history then failed to read back.
#[test]
fn required_fields_with_default_values_round_trip() {
    let text = fixture("transfer-completed")
        .replacen(
            "\"scheduledEventId\": \"2\"",
            "\"scheduledEventId\": \"0\"",
            1,
        )
        .replacen("\"activityId\": \"1\"", "\"activityId\": \"\"", 1);
    assert!(text.contains("\"scheduledEventId\": \"0\""));
    check(&text);
}
