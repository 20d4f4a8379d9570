//! `temporal workflow show` text output: the "Progress:" table (or, detailed, one block of
//! flattened fields per event) and the "Results:" card.
//!
//! Mirrors the Temporal CLI 1.x printer: table columns ID (width 3, right-aligned), Time
//! (width 20) and Type (width 26), each preceded by two spaces, headers centred; times in
//! RFC 3339 truncated to seconds; the results card pads names to the longest one.
//!
//! Invariant: pure functions from a history to a string.

use serde_json::Value;

use super::event::{EventAttributes, EventType, History, HistoryEvent};
use super::failure::Failure;
use super::json::{event_value, payload_shorthand};
use super::payload::Payloads;
use super::time::format_timestamp_seconds;

const INDENT: &str = "  ";

fn pad_right(out: &mut String, s: &str, width: usize) {
    out.push_str(s);
    for _ in s.chars().count()..width {
        out.push(' ');
    }
}

fn pad_left(out: &mut String, s: &str, width: usize) {
    for _ in s.chars().count()..width {
        out.push(' ');
    }
    out.push_str(s);
}

fn pad_center(out: &mut String, s: &str, width: usize) {
    let gap = width.saturating_sub(s.chars().count());
    let left = gap / 2;
    for _ in 0..left {
        out.push(' ');
    }
    out.push_str(s);
    for _ in 0..gap - left {
        out.push(' ');
    }
}

const ID_WIDTH: usize = 3;
const TIME_WIDTH: usize = 20;
const TYPE_WIDTH: usize = 26;

/// Prints the history as `temporal workflow show` does (`detailed`: `--detailed`).
pub fn show(history: &History, detailed: bool) -> String {
    show_pieces(history, detailed).collect()
}

/// [`show`] in pieces: the heading, each event, then the results card, rendered as they are
/// taken, so a long history can be printed without its whole text being held.
pub fn show_pieces(history: &History, detailed: bool) -> impl Iterator<Item = String> + '_ {
    let mut heading = String::from("Progress:\n");
    if !detailed {
        for (name, width) in [("ID", ID_WIDTH), ("Time", TIME_WIDTH), ("Type", TYPE_WIDTH)] {
            heading.push_str(INDENT);
            pad_center(&mut heading, name, width);
        }
        heading.push('\n');
    }
    let events = history.events.iter().enumerate().map(move |(i, e)| {
        let mut out = String::with_capacity(80);
        if detailed {
            if i > 0 {
                out.push('\n');
            }
            push_detailed(&mut out, e);
        } else {
            out.push_str(INDENT);
            pad_left(&mut out, &e.event_id.to_string(), ID_WIDTH);
            out.push_str(INDENT);
            pad_right(
                &mut out,
                &format_timestamp_seconds(e.event_time),
                TIME_WIDTH,
            );
            out.push_str(INDENT);
            pad_right(&mut out, e.event_type().name(), TYPE_WIDTH);
            out.push('\n');
        }
        out
    });
    let results = std::iter::once_with(move || {
        let mut out = String::from("\n");
        let result = history.events.iter().rev().find(|e| {
            matches!(
                e.event_type(),
                EventType::WorkflowExecutionCompleted
                    | EventType::WorkflowExecutionFailed
                    | EventType::WorkflowExecutionTimedOut
                    | EventType::WorkflowExecutionCanceled
            )
        });
        if let Some(e) = result {
            push_results(&mut out, e);
        }
        out
    });
    std::iter::once(heading).chain(events).chain(results)
}

fn push_results(out: &mut String, e: &HistoryEvent) {
    let mut rows: Vec<(&str, String)> = Vec::with_capacity(3);
    match &e.attributes {
        EventAttributes::WorkflowExecutionCompleted(a) => {
            rows.push(("Status", "COMPLETED".to_string()));
            rows.push(("Result", result_text(a.result.as_ref())));
            let encoding = a
                .result
                .as_ref()
                .and_then(Payloads::first)
                .and_then(|p| p.metadata.get("encoding"))
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default();
            if !encoding.is_empty() {
                rows.push(("ResultEncoding", encoding));
            }
        }
        EventAttributes::WorkflowExecutionFailed(a) => {
            rows.push(("Status", "FAILED".to_string()));
            if let Some(f) = &a.failure {
                rows.push(("Failure", failure_text(f, "    ")));
            }
        }
        EventAttributes::WorkflowExecutionTimedOut(_) => {
            rows.push(("Status", "TIMEOUT".to_string()));
        }
        EventAttributes::WorkflowExecutionCanceled(_) => {
            rows.push(("Status", "CANCELED".to_string()));
        }
        _ => return,
    }
    out.push_str("Results:\n");
    let width = rows.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    for (name, value) in rows {
        out.push_str(INDENT);
        pad_right(out, name, width);
        out.push_str(INDENT);
        out.push_str(&value);
        out.push('\n');
    }
}

/// The CLI's failure text: message, stack trace and causes, each cause indented further.
/// Starts with a newline.
pub fn failure_text(f: &Failure, indent: &str) -> String {
    let mut s = String::new();
    let mut indent = indent.to_string();
    for (i, f) in f.chain().enumerate() {
        if i > 0 {
            s.push('\n');
            s.push_str(&indent);
            s.push_str("Cause:");
            indent.push_str("    ");
        }
        s.push('\n');
        s.push_str(&indent);
        s.push_str("Message: ");
        s.push_str(&f.message);
        if !f.stack_trace.is_empty() {
            s.push('\n');
            s.push_str(&indent);
            s.push_str("StackTrace:\n");
            s.push_str(&indent);
            s.push_str("    ");
            let sep = format!("\n{indent}    ");
            s.push_str(&f.stack_trace.replace('\n', &sep));
        }
    }
    s
}

/// The "Result" value: the single payload's JSON value (or all payloads as an array),
/// compact, with keys sorted and `<`, `>`, `&` escaped as Go's `encoding/json` writes it.
/// Payloads without a JSON shorthand are shown in their protobuf JSON form.
fn result_text(result: Option<&Payloads>) -> String {
    let Some(p) = result else {
        return "null".to_string();
    };
    let value = if p.0.len() == 1 {
        payload_shorthand(&p.0[0])
    } else {
        p.0.iter()
            .map(payload_shorthand)
            .collect::<Option<Vec<_>>>()
            .map(Value::Array)
    };
    let mut out = String::new();
    match value {
        Some(v) => go_json(&v, &mut out),
        None => {
            let long = super::json::payloads_long(p, p.0.len() == 1);
            go_json_keep_order(&long, &mut out);
        }
    }
    out
}

/// Writes `v` as Go does for a value decoded into `any` and re-encoded: objects with sorted
/// keys, numbers as float64, HTML-sensitive characters escaped.
fn go_json(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_string(k, out);
                out.push(':');
                go_json(&m[k.as_str()], out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_json(x, out);
            }
            out.push(']');
        }
        other => go_scalar(other, out),
    }
}

/// Like [`go_json`] but keeps object key order (protobuf JSON of a message).
fn go_json_keep_order(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_string(k, out);
                out.push(':');
                go_json_keep_order(x, out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_json_keep_order(x, out);
            }
            out.push(']');
        }
        other => go_scalar(other, out),
    }
}

fn go_scalar(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&go_number(n)),
        Value::String(s) => go_string(s, out),
        Value::Array(_) | Value::Object(_) => go_json(v, out),
    }
}

fn go_number(n: &serde_json::Number) -> String {
    if n.is_f64() {
        n.as_f64().map_or_else(|| n.to_string(), go_float)
    } else {
        n.to_string()
    }
}

/// A float64 as Go's JSON encoders write it (ES6 number formatting).
pub(crate) fn go_float(f: f64) -> String {
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let s = format!("{f:e}");
        match s.split_once('e') {
            Some((mantissa, exp)) if exp.starts_with('-') => format!("{mantissa}e{exp}"),
            Some((mantissa, exp)) => format!("{mantissa}e+{exp}"),
            None => s,
        }
    } else {
        format!("{f}")
    }
}

fn go_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// One `--detailed` block: a heading, then every field of the event (attributes lifted to the
/// top, payloads decoded) flattened to `dotted.path[i]: value`, sorted by path.
fn push_detailed(out: &mut String, e: &HistoryEvent) {
    out.push_str(&format!(
        "--------------- [{}] {} ---------------\n",
        e.event_id,
        e.event_type().name()
    ));
    let Value::Object(mut top) = event_value(e, true) else {
        return;
    };
    top.shift_remove("eventId");
    top.shift_remove("eventType");
    let mut fields: Vec<(String, String)> = Vec::new();
    for (k, v) in &top {
        if k.ends_with("Attributes") {
            if let Value::Object(attrs) = v {
                for (ak, av) in attrs {
                    flatten(ak.clone(), av, &mut fields);
                }
                continue;
            }
        }
        flatten(k.clone(), v, &mut fields);
    }
    fields.sort_by(|a, b| a.0.cmp(&b.0));
    for (field, value) in fields {
        out.push_str(&field);
        out.push_str(": ");
        out.push_str(&value);
        out.push('\n');
    }
}

fn flatten(field: String, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                flatten(format!("{field}.{k}"), x, out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                flatten(format!("{field}[{i}]"), x, out);
            }
        }
        Value::Null => out.push((field, "<nil>".to_string())),
        Value::Bool(b) => out.push((field, b.to_string())),
        Value::Number(n) => out.push((field, go_number(n))),
        Value::String(s) => out.push((field, s.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_float_formatting() {
        assert_eq!(go_float(3.0), "3");
        assert_eq!(go_float(750.0), "750");
        assert_eq!(go_float(0.5), "0.5");
        assert_eq!(go_float(1e21), "1e+21");
        assert_eq!(go_float(1.5e-7), "1.5e-7");
        assert_eq!(go_float(1e20), "100000000000000000000");
        assert_eq!(go_float(0.000001), "0.000001");
    }

    #[test]
    fn go_string_escapes_like_encoding_json() {
        let mut s = String::new();
        go_string("a<b>&\"\\\n\u{1}\u{2028}é", &mut s);
        assert_eq!(s, r#""a\u003cb\u003e\u0026\"\\\n\u0001\u2028é""#);
    }

    #[test]
    fn centred_headers_put_extra_space_right() {
        let mut s = String::new();
        pad_center(&mut s, "ID", 3);
        pad_center(&mut s, "Time", 20);
        assert_eq!(s, "ID         Time        ");
    }
}
