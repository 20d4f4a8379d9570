//! Reading events, and the document: `{"events": [...]}` or a bare array, one event at a
//! time.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::*;

// ---------------------------------------------------------------------------------------------
// Reading events
// ---------------------------------------------------------------------------------------------

pub(super) fn event_type(v: &Value, p: &Path) -> Res<EventType> {
    match v {
        Value::String(s) => match parse_event_type(s) {
            Some(t) => Ok(t),
            None => p.err(format!("unknown event type {}", quoted(s))),
        },
        Value::Number(n) => {
            let found = n.as_i64().and_then(|n| {
                EventType::ALL
                    .iter()
                    .copied()
                    .find(|t| i64::from(t.number()) == n)
            });
            match found {
                Some(t) => Ok(t),
                None => p.err(format!("unknown event type {n}")),
            }
        }
        other => p.err(format!(
            "expected an event type name or number, found {}",
            describe(other)
        )),
    }
}

/// Whether `key` is the attributes key of `ty` (`activityTaskScheduledEventAttributes`),
/// without building it.
pub(super) fn is_attributes_key(ty: EventType, key: &str) -> bool {
    let name = ty.name();
    match key.strip_suffix("EventAttributes") {
        Some(k) if k.len() == name.len() => {
            let (k, name) = (k.as_bytes(), name.as_bytes());
            k[0] == name[0].to_ascii_lowercase() && k[1..] == name[1..]
        }
        _ => false,
    }
}

pub(super) fn event(v: &Value, index: usize) -> Result<HistoryEvent, HistoryError> {
    let root = Path::ROOT;
    let fail = |id: Option<EventId>, e: FieldError| HistoryError::in_event(index, id, e);
    let m = obj(v, &root).map_err(|e| fail(None, e))?;
    require(m, &root, &["eventId"]).map_err(|e| fail(None, e))?;
    let id = int64(&m["eventId"], &root.key("eventId")).map_err(|e| fail(None, e))?;
    let fail = |e: FieldError| HistoryError::in_event(index, Some(id), e);
    require(m, &root, &["eventType", "eventTime"]).map_err(fail)?;
    let ty = event_type(&m["eventType"], &root.key("eventType")).map_err(fail)?;
    let event_time = timestamp(&m["eventTime"], &root.key("eventTime")).map_err(fail)?;
    let mut task_id = 0;
    let mut attrs = None;
    let mut extra = Extra::new();
    for (k, v) in m {
        let q = root.key(k);
        match k.as_str() {
            "eventId" | "eventType" | "eventTime" => {}
            _ if v.is_null() => {
                extra.insert(k.clone(), Value::Null);
            }
            "taskId" => task_id = int64(v, &q).map_err(fail)?,
            key if is_attributes_key(ty, key) => attrs = Some(attributes(ty, v, &q).map_err(fail)?),
            key if key.ends_with("EventAttributes") => {
                return Err(fail(FieldError {
                    path: q.render(),
                    message: format!("unexpected attributes for an event of type {}", ty.name()),
                }));
            }
            _ => {
                extra.insert(k.clone(), v.clone());
            }
        }
    }
    let Some(attributes) = attrs else {
        return Err(fail(FieldError {
            path: ty.attributes_key(),
            message: "missing required field".to_string(),
        }));
    };
    Ok(HistoryEvent {
        event_id: id,
        event_time,
        task_id,
        attributes,
        extra,
    })
}

/// Reads Temporal's JSON history export: `{"events": [...]}` as `temporal workflow show -o
/// json` writes it, or a bare array of events. See the module docs for what is accepted.
pub fn parse_history(text: &str) -> Result<History, HistoryError> {
    parse_document(serde_json::Deserializer::from_str(text))
}

/// [`parse_history`] from a reader the caller opened (a file, through a buffer): events are
/// read one at a time and the text is never held, so reading a history takes about the memory
/// the history itself does. An error of the reader comes back as the error's message (no line
/// and column).
pub fn read_history(reader: impl std::io::Read) -> Result<History, HistoryError> {
    parse_document(serde_json::Deserializer::from_reader(reader))
}

fn parse_document<'de, R: serde_json::de::Read<'de>>(
    mut de: serde_json::Deserializer<R>,
) -> Result<History, HistoryError> {
    let mut found = None;
    let read = Document { found: &mut found }
        .deserialize(&mut de)
        .and_then(|events| de.end().map(|()| events));
    match read {
        Ok(events) => Ok(History::new(events)),
        // An error the visitors found is in `found`; anything else is serde_json's.
        Err(e) => Err(found.take().unwrap_or_else(|| malformed(&e))),
    }
}

/// A serde_json error as a history error: malformed JSON at its line and column, or the
/// reader's error as it is.
fn malformed(e: &serde_json::Error) -> HistoryError {
    if e.is_io() {
        return HistoryError::document("", json_error_message(e));
    }
    HistoryError {
        event_index: None,
        event_id: None,
        path: String::new(),
        message: json_error_message(e),
        line: Some(e.line()),
        column: Some(e.column()),
    }
}

/// Keeps `error` for the caller and stops the parse (serde_json's own message is dropped).
fn fail<E: de::Error>(found: &mut Option<HistoryError>, error: HistoryError) -> E {
    *found = Some(error);
    E::custom("history error")
}

/// The `visit_*` methods of a visitor for every JSON value it does not accept: each calls
/// `self.wrong(what was found)`.
macro_rules! refuse_other_values {
    ($($method:ident($($t:ty)?) => $what:literal;)*) => {$(
        fn $method<E: de::Error>(self $(, _: $t)?) -> Result<Self::Value, E> {
            Err(self.wrong($what))
        }
    )*};
}

/// The document: `{"events": [...]}` (no other key; `events` null or absent is no events) or
/// a bare array of events.
struct Document<'a> {
    found: &'a mut Option<HistoryError>,
}

impl Document<'_> {
    fn wrong<E: de::Error>(self, what: &str) -> E {
        let message = format!("expected {{\"events\": [...]}} or an array of events, found {what}");
        fail(self.found, HistoryError::document("", message))
    }
}

impl<'de> DeserializeSeed<'de> for Document<'_> {
    type Value = Vec<HistoryEvent>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Document<'_> {
    type Value = Vec<HistoryEvent>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("{\"events\": [...]} or an array of events")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        events(seq, self.found)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let found = self.found;
        let mut events = None;
        while let Some(key) = map.next_key::<String>()? {
            if key != "events" {
                let e = HistoryError::document(
                    truncated(&key, 80),
                    "unexpected top-level key (a history holds only \"events\")",
                );
                return Err(fail(found, e));
            }
            if events.is_some() {
                let e = HistoryError::document("events", "the key appears twice");
                return Err(fail(found, e));
            }
            events = Some(map.next_value_seed(Events { found: &mut *found })?);
        }
        Ok(events.unwrap_or_default())
    }

    refuse_other_values! {
        visit_unit() => "null";
        visit_bool(bool) => "a boolean";
        visit_i64(i64) => "a number";
        visit_u64(u64) => "a number";
        visit_f64(f64) => "a number";
        visit_str(&str) => "a string";
    }
}

/// The value of `events`: an array of events, or null for none.
struct Events<'a> {
    found: &'a mut Option<HistoryError>,
}

impl Events<'_> {
    fn wrong<E: de::Error>(self, what: &str) -> E {
        let e = HistoryError::document("events", format!("expected an array, found {what}"));
        fail(self.found, e)
    }
}

impl<'de> DeserializeSeed<'de> for Events<'_> {
    type Value = Vec<HistoryEvent>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Events<'_> {
    type Value = Vec<HistoryEvent>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of events")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        events(seq, self.found)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(self.wrong("an object"))
    }

    refuse_other_values! {
        visit_bool(bool) => "a boolean";
        visit_i64(i64) => "a number";
        visit_u64(u64) => "a number";
        visit_f64(f64) => "a number";
        visit_str(&str) => "a string";
    }
}

/// The events of the array, each parsed into a `Value` and converted before the next is read.
fn events<'de, A: SeqAccess<'de>>(
    mut seq: A,
    found: &mut Option<HistoryError>,
) -> Result<Vec<HistoryEvent>, A::Error> {
    let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 12));
    while let Some(v) = seq.next_element::<Value>()? {
        match event(&v, out.len()) {
            Ok(e) => out.push(e),
            Err(e) => return Err(fail(found, e)),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_keys_are_matched_without_building_them() {
        for t in EventType::ALL {
            assert!(is_attributes_key(t, &t.attributes_key()));
            assert!(!is_attributes_key(t, t.name()));
        }
        let ty = EventType::TimerFired;
        assert!(!is_attributes_key(ty, "TimerFiredEventAttributes"));
        assert!(!is_attributes_key(ty, "timerFiredEventAttribute"));
        assert!(!is_attributes_key(ty, "éimerFireEventAttributes"));
    }

    #[test]
    fn a_reader_gives_what_the_text_gives() {
        let text = r#"{"events": [{"eventId": "1", "eventTime": "2026-01-01T00:00:00Z",
            "eventType": "EVENT_TYPE_TIMER_FIRED",
            "timerFiredEventAttributes": {"timerId": "1", "startedEventId": "3"}}]}"#;
        let h = parse_history(text).unwrap();
        assert_eq!(h.len(), 1);
        assert_eq!(read_history(text.as_bytes()), Ok(h));
        for (bad, expect) in [
            (
                "",
                "malformed JSON at line 1 column 0: EOF while parsing a value",
            ),
            (
                "{\"events\": 3}",
                "events: expected an array, found a number",
            ),
            (
                "{\"events\": {}}",
                "events: expected an array, found an object",
            ),
            (
                "\"x\"",
                "expected {\"events\": [...]} or an array of events, found a string",
            ),
            ("{\"events\": [], \"x\": 1}", "x: unexpected top-level key"),
            (
                "{\"events\": [], \"events\": []}",
                "events: the key appears twice",
            ),
            (
                "[] []",
                "malformed JSON at line 1 column 4: trailing characters",
            ),
            ("[{}]", "event at index 0: eventId: missing required field"),
        ] {
            for got in [parse_history(bad), read_history(bad.as_bytes())] {
                let text = got.unwrap_err().to_string();
                assert!(text.starts_with(expect), "{bad}: {text}");
            }
        }
        assert_eq!(parse_history("{\"events\": null}"), Ok(History::default()));
        assert_eq!(parse_history("{}"), Ok(History::default()));
    }
}
