//! Writing: events and payloads as protobuf JSON, keys in declaration order with the
//! unmodelled ones from `extra` at their place; the CLI's payload shorthand.

use super::*;

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

/// Merges leftover keys (`extra`) into a modelled object, recursively.
pub(super) fn merge(target: &mut Value, extra: &Value) {
    if let (Value::Object(t), Value::Object(e)) = (target, extra) {
        for (k, v) in e {
            match t.get_mut(k) {
                Some(tv) => merge(tv, v),
                None => {
                    t.insert(k.clone(), v.clone());
                }
            }
        }
    }
}

/// Builds one JSON object key by key in declaration order: modelled values (merged with their
/// leftovers from `extra`), a declared but unmodelled key from `extra`; `finish` appends the
/// keys of `extra` that were declared nowhere, in their input order.
pub(super) struct Out<'a> {
    map: Map<String, Value>,
    extra: &'a Extra,
}

impl<'a> Out<'a> {
    /// `modelled`: how many keys the message models (a capacity hint).
    pub(super) fn new(extra: &'a Extra, modelled: usize) -> Self {
        Out {
            map: Map::with_capacity(modelled + extra.len()),
            extra,
        }
    }

    /// A modelled key: its value, or `None` when left out.
    pub(super) fn field(&mut self, key: &str, value: Option<Value>) {
        match value {
            Some(mut v) => {
                if let Some(x) = self.leftover(key) {
                    merge(&mut v, x);
                }
                self.map.insert(key.to_string(), v);
            }
            None => self.known(key),
        }
    }

    /// A declared key we do not model: written when `extra` holds it.
    pub(super) fn known(&mut self, key: &str) {
        if let Some(x) = self.leftover(key) {
            self.map.insert(key.to_string(), x.clone());
        }
    }

    pub(super) fn leftover(&self, key: &str) -> Option<&'a Value> {
        let extra: &'a Extra = self.extra;
        if extra.is_empty() {
            None
        } else {
            extra.get(key)
        }
    }

    pub(super) fn finish(mut self) -> Value {
        for (k, v) in self.extra.iter() {
            if !self.map.contains_key(k) {
                self.map.insert(k.clone(), v.clone());
            }
        }
        Value::Object(self.map)
    }
}

/// A double as protobuf JSON writes it: integers without a fraction, non-finite as strings.
pub(super) fn double_value(c: f64) -> Value {
    if c.is_nan() {
        Value::String("NaN".to_string())
    } else if c.is_infinite() {
        Value::String(if c > 0.0 { "Infinity" } else { "-Infinity" }.to_string())
    } else if c.fract() == 0.0 && c.abs() < 1e15 {
        Value::from(c as i64)
    } else {
        Value::from(c)
    }
}

pub(super) fn b64(b: &[u8]) -> Value {
    Value::String(base64::engine::general_purpose::STANDARD.encode(b))
}

pub(super) fn write_payload_long(p: &Payload) -> Value {
    let mut m = Map::new();
    if !p.metadata.is_empty() {
        let md = p
            .metadata
            .iter()
            .map(|(k, v)| (k.clone(), b64(v)))
            .collect::<Map<_, _>>();
        m.insert("metadata".to_string(), Value::Object(md));
    }
    if !p.data.is_empty() {
        m.insert("data".to_string(), b64(&p.data));
    }
    Value::Object(m)
}

/// The CLI's "shorthand" for a payload: the decoded JSON value for `json/plain` (only
/// metadata), null for `binary/null`; `None` when the payload has no shorthand.
pub(crate) fn payload_shorthand(p: &Payload) -> Option<Value> {
    match p.encoding() {
        Some("binary/null") => Some(Value::Null),
        Some(crate::history::payload::JSON_PLAIN) if p.metadata.len() == 1 => {
            serde_json::from_slice::<Value>(&p.data).ok().map(go_value)
        }
        _ => None,
    }
}

/// What Go's `encoding/json` makes of a value decoded into `any`: every number a float64,
/// an empty array written as null.
pub(super) fn go_value(v: Value) -> Value {
    match v {
        Value::Number(n) => n
            .as_f64()
            .and_then(Number::from_f64)
            .map_or(Value::Null, Value::Number),
        Value::Array(a) if a.is_empty() => Value::Null,
        Value::Array(a) => Value::Array(a.into_iter().map(go_value).collect()),
        Value::Object(m) => Value::Object(m.into_iter().map(|(k, v)| (k, go_value(v))).collect()),
        other => other,
    }
}

pub(super) fn write_payloads(p: &Payloads, shorthand: bool) -> Value {
    if shorthand {
        if let Some(values) =
            p.0.iter()
                .map(payload_shorthand)
                .collect::<Option<Vec<_>>>()
        {
            return Value::Array(values);
        }
    }
    let mut m = Map::new();
    if !p.0.is_empty() {
        m.insert(
            "payloads".to_string(),
            Value::Array(p.0.iter().map(write_payload_long).collect()),
        );
    }
    Value::Object(m)
}

/// Payloads in protobuf JSON form (`single`: just the first payload, as the CLI prints one).
pub(crate) fn payloads_long(p: &Payloads, single: bool) -> Value {
    match p.0.first() {
        Some(first) if single => write_payload_long(first),
        _ => write_payloads(p, false),
    }
}

/// One event as protobuf JSON. With `shorthand`, payloads are written as the CLI's text
/// views show them (decoded JSON values).
pub(crate) fn event_value(e: &HistoryEvent, shorthand: bool) -> Value {
    let ty = e.event_type();
    let mut out = Out::new(&e.extra, 5);
    out.field("eventId", Some(Value::String(e.event_id.to_string())));
    out.field(
        "eventTime",
        Some(Value::String(format_timestamp(e.event_time))),
    );
    out.field("eventType", Some(Value::String(ty.proto_name())));
    out.known("version");
    out.field(
        "taskId",
        <Plain as Codec<i64>>::write(&e.task_id, shorthand, false),
    );
    for key in [
        "workerMayIgnore",
        "userMetadata",
        "links",
        "principal",
        "eventGroupMarkers",
    ] {
        out.known(key);
    }
    // The attributes come after every declared key (as the Temporal CLI writes them).
    out.field(
        &ty.attributes_key(),
        Some(write_attributes(&e.attributes, shorthand)),
    );
    out.finish()
}

/// The history as `temporal workflow show -o json` writes it: pretty-printed with two-space
/// indentation, long enum names, int64 as strings, durations like `"5s"`, base64 payloads,
/// unmodelled keys included; ends with a newline.
pub fn to_json(history: &History) -> String {
    let mut doc = Map::new();
    if !history.events.is_empty() {
        doc.insert(
            "events".to_string(),
            Value::Array(
                history
                    .events
                    .iter()
                    .map(|e| event_value(e, false))
                    .collect(),
            ),
        );
    }
    let mut out = serde_json::to_string_pretty(&Value::Object(doc))
        .unwrap_or_else(|e| format!("{{\"error\": {:?}}}", e.to_string()));
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_written_like_protojson() {
        assert_eq!(double_value(2.0).to_string(), "2");
        assert_eq!(double_value(1.5).to_string(), "1.5");
        assert_eq!(double_value(f64::NAN), Value::String("NaN".into()));
    }
}
