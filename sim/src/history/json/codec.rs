//! The `Codec` trait: how a field of one Rust type is read and written, with one impl per
//! scalar, enum and payload type (`scalars!`, `enums!`).

use super::*;

// ---------------------------------------------------------------------------------------------
// Field codecs: how a value of one Rust type is read and written
// ---------------------------------------------------------------------------------------------

/// Where a field's leftover keys go when its value has no `extra` map of its own: the
/// enclosing message's `extra`, under the field's key (see [`Named`]).
pub(super) struct Spill<'a> {
    pub(super) key: &'a str,
    pub(super) extra: &'a mut Extra,
}

/// How a field of type `T` is read and written. [`Plain`] is each type's usual protobuf JSON
/// form; a declaration picks another codec with `as` (`"activityType" => activity_type as
/// Named`).
pub(super) trait Codec<T> {
    /// The value of an absent (or null) key: protobuf's default.
    fn empty() -> T;
    /// Reads a non-null value found at `p`.
    fn read(v: &Value, p: &Path, spill: Spill) -> Res<T>;
    /// The JSON for `t`, or `None` to leave the key out: protobuf JSON omits default values.
    /// A `required` field is written anyway, so every history we write reads back.
    fn write(t: &T, shorthand: bool, required: bool) -> Option<Value>;
}

/// The usual protobuf JSON form of a type: int64 as a decimal string, durations like `"5s"`,
/// enums by their long name, messages as declared below.
pub(super) struct Plain;

/// `{"name": ...}` (`workflowType`, `activityType`) read into a `String`. Its other keys spill
/// into the enclosing `extra`; the writer merges them back.
pub(super) struct Named;

/// Scalar codecs, one a line: `Type: absent value, reader, |x| when left out => written as;`.
macro_rules! scalars {
    ($( $t:ty: $empty:expr, $read:expr, |$x:ident| $is_default:expr => $write:expr; )*) => {$(
        impl Codec<$t> for Plain {
            fn empty() -> $t {
                $empty
            }
            fn read(v: &Value, p: &Path, _: Spill) -> Res<$t> {
                $read(v, p)
            }
            fn write($x: &$t, _: bool, required: bool) -> Option<Value> {
                (required || !$is_default).then(|| $write)
            }
        }
    )*};
}

scalars! {
    String: String::new(), string, |s| s.is_empty() => Value::String(s.clone());
    i64: 0, int64, |n| *n == 0 => Value::String(n.to_string());
    i32: 0, int32, |n| *n == 0 => Value::from(*n);
    bool: false, boolean, |b| !*b => Value::Bool(*b);
    f64: 0.0, double, |c| *c == 0.0 => double_value(*c);
    Duration: Duration::ZERO, duration, |d| d.is_zero() => Value::String(format_duration(*d));
    Timestamp: Timestamp::UNIX_EPOCH, timestamp, |t| *t == Timestamp::UNIX_EPOCH => {
        Value::String(format_timestamp(*t))
    };
    Vec<String>: Vec::new(), strings, |l| l.is_empty() => {
        Value::Array(l.iter().map(|s| Value::String(s.clone())).collect())
    };
}

/// Enum codecs, one a line: `Type: names, open or closed, from number, |x| to number;`. Written
/// by long name (`TIMEOUT_TYPE_START_TO_CLOSE`), read from long or short names or numbers;
/// `open` keeps unknown numbers (the enum has an `Other` case), `closed` rejects them.
macro_rules! enums {
    (@open open) => { true };
    (@open closed) => { false };
    ($( $t:ty: $def:expr, $open:ident, $from:expr, |$x:ident| $number:expr; )*) => {
        scalars! {$(
            $t: $from(0), |v, p| $def.read(v, p, enums!(@open $open)).map($from),
                |$x| $number == 0 => $def.long_name($number);
        )*}
    };
}

enums! {
    TimeoutType: TIMEOUT_TYPE, closed, TimeoutType::from_number, |t| *t as i32;
    RetryState: RETRY_STATE, closed, RetryState::from_number, |s| *s as i32;
    TaskQueueKind: TASK_QUEUE_KIND, closed, task_queue_kind_from, |k| *k as i32;
    WorkflowTaskFailedCause: WFT_FAILED_CAUSE, open, cause_from, |c| c.number();
    ParentClosePolicy: PARENT_CLOSE_POLICY, closed, ParentClosePolicy::from_number,
        |p| *p as i32;
    StartChildWorkflowExecutionFailedCause: START_CHILD_FAILED_CAUSE, closed,
        StartChildWorkflowExecutionFailedCause::from_number, |c| *c as i32;
    SignalExternalWorkflowExecutionFailedCause: SIGNAL_EXTERNAL_FAILED_CAUSE, closed,
        SignalExternalWorkflowExecutionFailedCause::from_number, |c| *c as i32;
    CancelExternalWorkflowExecutionFailedCause: CANCEL_EXTERNAL_FAILED_CAUSE, closed,
        CancelExternalWorkflowExecutionFailedCause::from_number, |c| *c as i32;
}

impl Codec<Payloads> for Plain {
    fn empty() -> Payloads {
        Payloads::default()
    }
    fn read(v: &Value, p: &Path, _: Spill) -> Res<Payloads> {
        payloads(v, p)
    }
    fn write(t: &Payloads, shorthand: bool, _: bool) -> Option<Value> {
        Some(write_payloads(t, shorthand))
    }
}

/// One payload (`Memo` and `SearchAttributes` values, Nexus inputs and results). In the CLI's
/// shorthand only a `json/plain` payload is decoded; others keep their protobuf JSON form.
impl Codec<Payload> for Plain {
    fn empty() -> Payload {
        Payload::default()
    }
    fn read(v: &Value, p: &Path, _: Spill) -> Res<Payload> {
        payload(v, p)
    }
    fn write(t: &Payload, shorthand: bool, _: bool) -> Option<Value> {
        let short = shorthand && t.encoding() == Some(crate::history::payload::JSON_PLAIN);
        Some(
            short
                .then(|| payload_shorthand(t))
                .flatten()
                .unwrap_or_else(|| write_payload_long(t)),
        )
    }
}

/// A map of payloads by name (`Memo.fields`, `SearchAttributes.indexedFields`), keys sorted as
/// protobuf JSON writes maps.
impl Codec<std::collections::BTreeMap<String, Payload>> for Plain {
    fn empty() -> std::collections::BTreeMap<String, Payload> {
        std::collections::BTreeMap::new()
    }
    fn read(v: &Value, p: &Path, _: Spill) -> Res<std::collections::BTreeMap<String, Payload>> {
        let mut out = std::collections::BTreeMap::new();
        for (k, v) in obj(v, p)? {
            if !v.is_null() {
                out.insert(k.clone(), payload(v, &p.key(k))?);
            }
        }
        Ok(out)
    }
    fn write(
        t: &std::collections::BTreeMap<String, Payload>,
        shorthand: bool,
        required: bool,
    ) -> Option<Value> {
        (required || !t.is_empty()).then(|| {
            Value::Object(
                t.iter()
                    .filter_map(|(k, p)| {
                        Some((
                            k.clone(),
                            <Plain as Codec<Payload>>::write(p, shorthand, true)?,
                        ))
                    })
                    .collect(),
            )
        })
    }
}

impl Codec<MarkerDetails> for Plain {
    fn empty() -> MarkerDetails {
        MarkerDetails::new()
    }
    fn read(v: &Value, p: &Path, _: Spill) -> Res<MarkerDetails> {
        marker_details(v, p)
    }
    fn write(t: &MarkerDetails, shorthand: bool, required: bool) -> Option<Value> {
        (required || !t.is_empty()).then(|| {
            Value::Object(
                t.iter()
                    .map(|(k, p)| (k.clone(), write_payloads(p, shorthand)))
                    .collect(),
            )
        })
    }
}

/// An optional field: written whenever it is set, even to a default value.
impl<T> Codec<Option<T>> for Plain
where
    Plain: Codec<T>,
{
    fn empty() -> Option<T> {
        None
    }
    fn read(v: &Value, p: &Path, spill: Spill) -> Res<Option<T>> {
        <Plain as Codec<T>>::read(v, p, spill).map(Some)
    }
    fn write(t: &Option<T>, shorthand: bool, _: bool) -> Option<Value> {
        t.as_ref()
            .and_then(|t| <Plain as Codec<T>>::write(t, shorthand, true))
    }
}

impl<T> Codec<Box<T>> for Plain
where
    Plain: Codec<T>,
{
    fn empty() -> Box<T> {
        Box::new(<Plain as Codec<T>>::empty())
    }
    fn read(v: &Value, p: &Path, spill: Spill) -> Res<Box<T>> {
        <Plain as Codec<T>>::read(v, p, spill).map(Box::new)
    }
    fn write(t: &Box<T>, shorthand: bool, required: bool) -> Option<Value> {
        <Plain as Codec<T>>::write(t, shorthand, required)
    }
}

impl Codec<String> for Named {
    fn empty() -> String {
        String::new()
    }
    fn read(v: &Value, p: &Path, spill: Spill) -> Res<String> {
        let mut name = String::new();
        let mut left = Map::new();
        for (k, v) in obj(v, p)? {
            match k.as_str() {
                "name" if !v.is_null() => name = string(v, &p.key(k))?,
                _ => {
                    left.insert(k.clone(), v.clone());
                }
            }
        }
        if !left.is_empty() {
            spill
                .extra
                .insert(spill.key.to_string(), Value::Object(left));
        }
        Ok(name)
    }
    fn write(name: &String, _: bool, _: bool) -> Option<Value> {
        let mut m = Map::new();
        if !name.is_empty() {
            m.insert("name".to_string(), Value::String(name.clone()));
        }
        Some(Value::Object(m))
    }
}
