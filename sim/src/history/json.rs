//! Temporal's JSON history export (`temporal workflow show -o json`): [`parse_history`] reads
//! it, [`to_json`] writes it.
//!
//! # One declaration per message
//!
//! Every protobuf message we model (each event type's attributes, the failure and its infos,
//! the retry policy, the task queue) is declared once, in `json/messages.rs`: all of its keys
//! in protobuf declaration order, each modelled (`"key" => field`) or bare (`"key"`: a field of
//! Temporal's that we do not model). Reading, writing and key order all come from it:
//!
//! ```text
//! TimerStarted {
//!     "timerId" => timer_id (required),
//!     "startToFireTimeout" => start_to_fire_timeout (required),
//!     "workflowTaskCompletedEventId" => workflow_task_completed_event_id,
//! }
//! ```
//!
//! The field's Rust type picks its JSON form through the `Codec` trait (`String`; `i64` as a
//! decimal string; `Option<Duration>` as `"5s"`; enums by long name; `Option<Failure>`, a
//! declared message; ...). `as Named` picks another form (`{"name": ...}` read into a
//! `String`). `(required)` makes reading fail when the key is missing or null, and writing emit
//! the key even when it holds the default value (so every history we write reads back).
//! `message!` declares a struct with an `extra` map, `oneof!` an enum of `*FailureInfo`-like
//! cases, `events!` the event attributes plus the dispatch on the event type; a key declared
//! twice, or a struct field left undeclared, does not compile.
//!
//! Every event type of Temporal's `HistoryEvent` is declared. Adding one (a newer API): its
//! struct (in `event.rs` or `attributes.rs`), one line in `event_types!` (its name and
//! Temporal's number: the `EventType` and `EventAttributes` variants), and one declaration in
//! `events!`. Adding a field: one line. A value type the
//! codec does not know yet needs one `Codec` impl (one line in `scalars!` or `enums!` for a
//! scalar or an enum).
//!
//! # Reading
//!
//! Reading goes through `serde_json::Value` (one linear pass to build it, one to convert it).
//! Keys we do not model, and nulls, go to the `extra` map of the struct they appear in, in
//! input order. Two places have no `extra` map of their own and use the enclosing one instead,
//! under the same key, holding only the leftover keys: `{name, ...}` objects (`workflowType`,
//! `activityType`) and the `*FailureInfo` objects. The writer merges them back.
//!
//! # Writing
//!
//! The writer emits keys in declaration order (as Go's protojson does), leaving out default
//! values, with unmodelled keys from `extra` at their declared place and undeclared ones after
//! all declared ones; for the Temporal fixtures the output is byte-identical to the input.
//!
//! Invariant: pure functions from `&str` to values and back; no I/O, clock or randomness.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Map, Number, Value};

use super::attributes::*;
use super::event::*;
use super::failure::{Failure, FailureInfo};
use super::payload::{Payload, Payloads};
use super::time::{format_duration, format_timestamp, parse_duration, parse_timestamp};

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Why a history could not be read. Names the input position: the event (index in the
/// `events` array, and its `eventId` when that was readable), the field path inside the
/// event, or the line and column for malformed JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryError {
    /// Index of the event in the `events` array (0-based).
    pub event_index: Option<usize>,
    /// The event's `eventId`, when it could be read.
    pub event_id: Option<EventId>,
    /// Dotted path of the offending field inside the event (or the document), e.g.
    /// `activityTaskScheduledEventAttributes.startToCloseTimeout`. Empty when not applicable.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// For malformed JSON: 1-based line, as serde_json reports it.
    pub line: Option<usize>,
    /// For malformed JSON: 1-based column.
    pub column: Option<usize>,
}

impl HistoryError {
    fn document(path: impl Into<String>, message: impl Into<String>) -> Self {
        HistoryError {
            event_index: None,
            event_id: None,
            path: path.into(),
            message: message.into(),
            line: None,
            column: None,
        }
    }

    fn in_event(index: usize, id: Option<EventId>, e: FieldError) -> Self {
        HistoryError {
            event_index: Some(index),
            event_id: id,
            path: e.path,
            message: e.message,
            line: None,
            column: None,
        }
    }
}

impl fmt::Display for HistoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let (Some(line), Some(column)) = (self.line, self.column) {
            return write!(
                f,
                "malformed JSON at line {line} column {column}: {}",
                self.message
            );
        }
        let mut sep = "";
        match (self.event_id, self.event_index) {
            (Some(id), Some(i)) => {
                write!(f, "event {id} (index {i})")?;
                sep = ": ";
            }
            (None, Some(i)) => {
                write!(f, "event at index {i}")?;
                sep = ": ";
            }
            _ => {}
        }
        if !self.path.is_empty() {
            write!(f, "{sep}{}", self.path)?;
            sep = ": ";
        }
        write!(f, "{sep}{}", self.message)
    }
}

impl std::error::Error for HistoryError {}

/// An error inside one event, before the event position is attached.
#[derive(Debug)]
struct FieldError {
    path: String,
    message: String,
}

type Res<T> = Result<T, FieldError>;

/// A field path, built on the stack and rendered only when an error is reported.
#[derive(Clone, Copy)]
struct Path<'a> {
    parent: Option<&'a Path<'a>>,
    seg: Seg<'a>,
}

#[derive(Clone, Copy)]
enum Seg<'a> {
    Root,
    Key(&'a str),
    Index(usize),
}

impl<'a> Path<'a> {
    const ROOT: Path<'static> = Path {
        parent: None,
        seg: Seg::Root,
    };

    fn key<'b>(&'b self, k: &'b str) -> Path<'b> {
        Path {
            parent: Some(self),
            seg: Seg::Key(k),
        }
    }

    fn index(&'a self, i: usize) -> Path<'a> {
        Path {
            parent: Some(self),
            seg: Seg::Index(i),
        }
    }

    fn render(&self) -> String {
        let mut segs = Vec::new();
        let mut cur = Some(self);
        while let Some(p) = cur {
            segs.push(p.seg);
            cur = p.parent;
        }
        let mut out = String::new();
        for seg in segs.iter().rev() {
            match seg {
                Seg::Root => {}
                Seg::Key(k) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(&truncated(k, 80));
                }
                Seg::Index(i) => {
                    out.push_str(&format!("[{i}]"));
                }
            }
        }
        out
    }

    fn err<T>(&self, message: impl Into<String>) -> Res<T> {
        Err(FieldError {
            path: self.render(),
            message: message.into(),
        })
    }
}

/// `s` quoted, shortened to about `max` characters so a 100 MB value cannot flood a message.
fn quoted(s: &str) -> String {
    format!("{:?}", truncated(s, 64))
}

pub(crate) fn truncated(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some((cut, _)) => format!("{}... ({} bytes)", &s[..cut], s.len()),
    }
}

fn describe(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

// ---------------------------------------------------------------------------------------------
// Enums: long proto names, short PascalCase names, or numbers
// ---------------------------------------------------------------------------------------------

struct EnumDef {
    what: &'static str,
    prefix: &'static str,
    /// (number, name without prefix in UPPER_SNAKE)
    values: &'static [(i32, &'static str)],
}

const TIMEOUT_TYPE: EnumDef = EnumDef {
    what: "timeout type",
    prefix: "TIMEOUT_TYPE_",
    values: &[
        (0, "UNSPECIFIED"),
        (1, "START_TO_CLOSE"),
        (2, "SCHEDULE_TO_START"),
        (3, "SCHEDULE_TO_CLOSE"),
        (4, "HEARTBEAT"),
    ],
};

const RETRY_STATE: EnumDef = EnumDef {
    what: "retry state",
    prefix: "RETRY_STATE_",
    values: &[
        (0, "UNSPECIFIED"),
        (1, "IN_PROGRESS"),
        (2, "NON_RETRYABLE_FAILURE"),
        (3, "TIMEOUT"),
        (4, "MAXIMUM_ATTEMPTS_REACHED"),
        (5, "RETRY_POLICY_NOT_SET"),
        (6, "INTERNAL_SERVER_ERROR"),
        (7, "CANCEL_REQUESTED"),
    ],
};

const TASK_QUEUE_KIND: EnumDef = EnumDef {
    what: "task queue kind",
    prefix: "TASK_QUEUE_KIND_",
    values: &[(0, "UNSPECIFIED"), (1, "NORMAL"), (2, "STICKY")],
};

const WFT_FAILED_CAUSE: EnumDef = EnumDef {
    what: "workflow task failed cause",
    prefix: "WORKFLOW_TASK_FAILED_CAUSE_",
    values: &[
        (0, "UNSPECIFIED"),
        (1, "UNHANDLED_COMMAND"),
        (2, "BAD_SCHEDULE_ACTIVITY_ATTRIBUTES"),
        (3, "BAD_REQUEST_CANCEL_ACTIVITY_ATTRIBUTES"),
        (4, "BAD_START_TIMER_ATTRIBUTES"),
        (5, "BAD_CANCEL_TIMER_ATTRIBUTES"),
        (6, "BAD_RECORD_MARKER_ATTRIBUTES"),
        (7, "BAD_COMPLETE_WORKFLOW_EXECUTION_ATTRIBUTES"),
        (8, "BAD_FAIL_WORKFLOW_EXECUTION_ATTRIBUTES"),
        (9, "BAD_CANCEL_WORKFLOW_EXECUTION_ATTRIBUTES"),
        (
            10,
            "BAD_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_ATTRIBUTES",
        ),
        (11, "BAD_CONTINUE_AS_NEW_ATTRIBUTES"),
        (12, "START_TIMER_DUPLICATE_ID"),
        (13, "RESET_STICKY_TASK_QUEUE"),
        (14, "WORKFLOW_WORKER_UNHANDLED_FAILURE"),
        (15, "BAD_SIGNAL_WORKFLOW_EXECUTION_ATTRIBUTES"),
        (16, "BAD_START_CHILD_EXECUTION_ATTRIBUTES"),
        (17, "FORCE_CLOSE_COMMAND"),
        (18, "FAILOVER_CLOSE_COMMAND"),
        (19, "BAD_SIGNAL_INPUT_SIZE"),
        (20, "RESET_WORKFLOW"),
        (21, "BAD_BINARY"),
        (22, "SCHEDULE_ACTIVITY_DUPLICATE_ID"),
        (23, "BAD_SEARCH_ATTRIBUTES"),
        (24, "NON_DETERMINISTIC_ERROR"),
        (25, "BAD_MODIFY_WORKFLOW_PROPERTIES_ATTRIBUTES"),
        (26, "PENDING_CHILD_WORKFLOWS_LIMIT_EXCEEDED"),
        (27, "PENDING_ACTIVITIES_LIMIT_EXCEEDED"),
        (28, "PENDING_SIGNALS_LIMIT_EXCEEDED"),
        (29, "PENDING_REQUEST_CANCEL_LIMIT_EXCEEDED"),
        (30, "BAD_UPDATE_WORKFLOW_EXECUTION_MESSAGE"),
        (31, "UNHANDLED_UPDATE"),
        (32, "BAD_SCHEDULE_NEXUS_OPERATION_ATTRIBUTES"),
        (33, "PENDING_NEXUS_OPERATIONS_LIMIT_EXCEEDED"),
        (34, "BAD_REQUEST_CANCEL_NEXUS_OPERATION_ATTRIBUTES"),
        (35, "FEATURE_DISABLED"),
        (36, "GRPC_MESSAGE_TOO_LARGE"),
        (37, "PAYLOADS_TOO_LARGE"),
        (38, "EXTERNAL_STORAGE_FAILURE"),
        (39, "WORKFLOW_PAUSE_REQUESTED_BEFORE_TASK_STARTED"),
    ],
};

const PARENT_CLOSE_POLICY: EnumDef = EnumDef {
    what: "parent close policy",
    prefix: "PARENT_CLOSE_POLICY_",
    values: &[
        (0, "UNSPECIFIED"),
        (1, "TERMINATE"),
        (2, "ABANDON"),
        (3, "REQUEST_CANCEL"),
    ],
};

const START_CHILD_FAILED_CAUSE: EnumDef = EnumDef {
    what: "start child workflow failed cause",
    prefix: "START_CHILD_WORKFLOW_EXECUTION_FAILED_CAUSE_",
    values: &[
        (0, "UNSPECIFIED"),
        (1, "WORKFLOW_ALREADY_EXISTS"),
        (2, "NAMESPACE_NOT_FOUND"),
        (3, "INVALID_VERSIONING_OVERRIDE"),
    ],
};

const SIGNAL_EXTERNAL_FAILED_CAUSE: EnumDef = EnumDef {
    what: "signal external workflow failed cause",
    prefix: "SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_",
    values: &[
        (0, "UNSPECIFIED"),
        (1, "EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND"),
        (2, "NAMESPACE_NOT_FOUND"),
        (3, "SIGNAL_COUNT_LIMIT_EXCEEDED"),
    ],
};

const CANCEL_EXTERNAL_FAILED_CAUSE: EnumDef = EnumDef {
    what: "cancel external workflow failed cause",
    prefix: "CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_",
    values: &[
        (0, "UNSPECIFIED"),
        (1, "EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND"),
        (2, "NAMESPACE_NOT_FOUND"),
    ],
};

/// `pascal` (`ActivityTaskScheduled`) equals `snake` (`ACTIVITY_TASK_SCHEDULED`), allocation-free.
fn pascal_matches_snake(pascal: &str, snake: &str) -> bool {
    let mut p = pascal.bytes();
    let mut first = true;
    for s in snake.bytes() {
        if s == b'_' {
            // A word boundary: the next PascalCase byte must start a word.
            first = true;
            continue;
        }
        match p.next() {
            Some(c) if c.to_ascii_uppercase() == s => {
                if first != c.is_ascii_uppercase() && !c.is_ascii_digit() {
                    return false;
                }
                first = false;
            }
            _ => return false,
        }
    }
    p.next().is_none()
}

impl EnumDef {
    fn name_of(&self, n: i32) -> Option<&'static str> {
        self.values.iter().find(|(v, _)| *v == n).map(|(_, s)| *s)
    }

    fn lookup(&self, s: &str) -> Option<i32> {
        let found = match s.strip_prefix(self.prefix) {
            Some(rest) => self.values.iter().find(|(_, name)| *name == rest),
            None => self
                .values
                .iter()
                .find(|(_, name)| pascal_matches_snake(s, name) || *name == s),
        };
        found.map(|(n, _)| *n)
    }

    /// Reads a string (long or short name) or a number. Unknown numbers are accepted only
    /// when `open` (the enum has an `Other` case).
    fn read(&self, v: &Value, p: &Path, open: bool) -> Res<i32> {
        match v {
            Value::String(s) => match self.lookup(s) {
                Some(n) => Ok(n),
                None => p.err(format!("unknown {} {}", self.what, quoted(s))),
            },
            Value::Number(num) => {
                let n = num.as_i64().and_then(|n| i32::try_from(n).ok());
                match n {
                    Some(n) if open || self.name_of(n).is_some() => Ok(n),
                    _ => p.err(format!("unknown {} {num}", self.what)),
                }
            }
            other => p.err(format!(
                "expected a {} name or number, found {}",
                self.what,
                describe(other)
            )),
        }
    }

    fn long_name(&self, n: i32) -> Value {
        match self.name_of(n) {
            Some(name) => Value::String(format!("{}{}", self.prefix, name)),
            None => Value::from(n),
        }
    }
}

fn task_queue_kind_from(n: i32) -> TaskQueueKind {
    match n {
        1 => TaskQueueKind::Normal,
        2 => TaskQueueKind::Sticky,
        _ => TaskQueueKind::Unspecified,
    }
}

fn cause_from(n: i32) -> WorkflowTaskFailedCause {
    use WorkflowTaskFailedCause as C;
    match n {
        0 => C::Unspecified,
        1 => C::UnhandledCommand,
        2 => C::BadScheduleActivityAttributes,
        4 => C::BadStartTimerAttributes,
        6 => C::BadRecordMarkerAttributes,
        12 => C::StartTimerDuplicateId,
        14 => C::WorkflowWorkerUnhandledFailure,
        22 => C::ScheduleActivityDuplicateId,
        24 => C::NonDeterministicError,
        27 => C::PendingActivitiesLimitExceeded,
        28 => C::PendingSignalsLimitExceeded,
        n => C::Other(n),
    }
}

/// Parses an event type from its long (`EVENT_TYPE_ACTIVITY_TASK_SCHEDULED`) or short
/// (`ActivityTaskScheduled`) name, without allocating.
pub fn parse_event_type(s: &str) -> Option<EventType> {
    match s.strip_prefix("EVENT_TYPE_") {
        Some(rest) => EventType::ALL
            .iter()
            .copied()
            .find(|t| pascal_matches_snake(t.name(), rest)),
        None => EventType::ALL.iter().copied().find(|t| t.name() == s),
    }
}

// ---------------------------------------------------------------------------------------------
// Reading scalars
// ---------------------------------------------------------------------------------------------

fn obj<'v>(v: &'v Value, p: &Path) -> Res<&'v Map<String, Value>> {
    match v {
        Value::Object(m) => Ok(m),
        other => p.err(format!("expected an object, found {}", describe(other))),
    }
}

fn string(v: &Value, p: &Path) -> Res<String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        other => p.err(format!("expected a string, found {}", describe(other))),
    }
}

fn boolean(v: &Value, p: &Path) -> Res<bool> {
    match v {
        Value::Bool(b) => Ok(*b),
        other => p.err(format!("expected a boolean, found {}", describe(other))),
    }
}

/// An integral JSON number within `[min, max]`.
fn integral(n: &Number, min: i64, max: i64) -> Option<i64> {
    if let Some(i) = n.as_i64() {
        return (min..=max).contains(&i).then_some(i);
    }
    if n.is_u64() {
        return None;
    }
    let f = n.as_f64()?;
    // Exactly representable integers only; beyond 2^53 floats are not trustworthy ids.
    (f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_992.0 && f >= min as f64 && f <= max as f64)
        .then_some(f as i64)
}

/// int64 as protobuf JSON writes it (a decimal string); plain numbers are accepted too.
fn int64(v: &Value, p: &Path) -> Res<i64> {
    match v {
        Value::String(s) => match s.parse::<i64>() {
            Ok(n) => Ok(n),
            Err(_) => p.err(format!("invalid int64 {}", quoted(s))),
        },
        Value::Number(n) => match integral(n, i64::MIN, i64::MAX) {
            Some(i) => Ok(i),
            None => p.err(format!("invalid int64 {n} (not an integer in range)")),
        },
        other => p.err(format!("expected an int64, found {}", describe(other))),
    }
}

fn int32(v: &Value, p: &Path) -> Res<i32> {
    let n = match v {
        Value::Number(n) => integral(n, i32::MIN.into(), i32::MAX.into()),
        Value::String(s) => s.parse::<i32>().ok().map(i64::from),
        other => {
            return p.err(format!("expected an int32, found {}", describe(other)));
        }
    };
    match n.and_then(|n| i32::try_from(n).ok()) {
        Some(n) => Ok(n),
        None => p.err(format!(
            "invalid int32 {}",
            match v {
                Value::String(s) => quoted(s),
                other => other.to_string(),
            }
        )),
    }
}

fn double(v: &Value, p: &Path) -> Res<f64> {
    match v {
        Value::Number(n) => match n.as_f64() {
            Some(f) => Ok(f),
            None => p.err(format!("invalid number {n}")),
        },
        Value::String(s) => match s.as_str() {
            "NaN" => Ok(f64::NAN),
            "Infinity" => Ok(f64::INFINITY),
            "-Infinity" => Ok(f64::NEG_INFINITY),
            _ => match s.parse::<f64>() {
                Ok(f) if f.is_finite() => Ok(f),
                _ => p.err(format!("invalid number {}", quoted(s))),
            },
        },
        other => p.err(format!("expected a number, found {}", describe(other))),
    }
}

fn duration(v: &Value, p: &Path) -> Res<Duration> {
    match v {
        Value::String(s) => match parse_duration(s) {
            Ok(d) => Ok(d),
            Err(e) => p.err(format!("invalid duration {} ({e})", quoted(s))),
        },
        other => p.err(format!(
            "expected a duration string like \"5s\", found {}",
            describe(other)
        )),
    }
}

fn timestamp(v: &Value, p: &Path) -> Res<Timestamp> {
    match v {
        Value::String(s) => match parse_timestamp(s) {
            Ok(t) => Ok(t),
            Err(e) => p.err(format!("invalid RFC 3339 timestamp {} ({e})", quoted(s))),
        },
        other => p.err(format!(
            "expected an RFC 3339 timestamp string, found {}",
            describe(other)
        )),
    }
}

/// Protobuf `bytes`: standard base64, also URL-safe and unpadded as protojson accepts.
fn bytes(v: &Value, p: &Path) -> Res<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let s = match v {
        Value::String(s) => s.as_str(),
        other => {
            return p.err(format!(
                "expected a base64 string, found {}",
                describe(other)
            ))
        }
    };
    let url = s.contains(['-', '_']);
    let padded = s.len() % 4 == 0;
    let engine = match (url, padded) {
        (false, true) => &STANDARD,
        (false, false) => &STANDARD_NO_PAD,
        (true, true) => &URL_SAFE,
        (true, false) => &URL_SAFE_NO_PAD,
    };
    match engine.decode(s) {
        Ok(b) => Ok(b),
        Err(e) => p.err(format!("invalid base64 {}: {e}", quoted(s))),
    }
}

fn strings(v: &Value, p: &Path) -> Res<Vec<String>> {
    let Value::Array(items) = v else {
        return p.err(format!(
            "expected an array of strings, found {}",
            describe(v)
        ));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| string(item, &p.index(i)))
        .collect()
}

/// Fails unless every key in `required` is present and not null.
fn require(m: &Map<String, Value>, p: &Path, required: &[&str]) -> Res<()> {
    for key in required {
        if !matches!(m.get(*key), Some(v) if !v.is_null()) {
            return p.key(key).err("missing required field");
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Reading structures
// ---------------------------------------------------------------------------------------------

fn payload(v: &Value, p: &Path) -> Res<Payload> {
    let m = obj(v, p)?;
    let mut out = Payload::default();
    for (k, v) in m {
        let q = p.key(k);
        match k.as_str() {
            _ if v.is_null() => {}
            "metadata" => {
                let mut metadata = std::collections::BTreeMap::new();
                for (mk, mv) in obj(v, &q)? {
                    metadata.insert(mk.clone(), bytes(mv, &q.key(mk))?);
                }
                out.metadata = std::sync::Arc::new(metadata);
            }
            "data" => out.data = bytes(v, &q)?,
            _ => {
                return q.err("unsupported payload field (a payload holds only metadata and data)")
            }
        }
    }
    Ok(out)
}

fn payloads(v: &Value, p: &Path) -> Res<Payloads> {
    let m = obj(v, p)?;
    let mut out = Payloads::default();
    for (k, v) in m {
        let q = p.key(k);
        match k.as_str() {
            _ if v.is_null() => {}
            "payloads" => {
                let Value::Array(items) = v else {
                    return q.err(format!("expected an array, found {}", describe(v)));
                };
                let mut list = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    list.push(payload(item, &q.index(i))?);
                }
                out = Payloads::from_vec(list);
            }
            _ => return q.err("unsupported field (payloads hold only \"payloads\")"),
        }
    }
    Ok(out)
}

/// `{"name": ...}` (workflowType, activityType); other keys go to `extra[key]`.
fn marker_details(v: &Value, p: &Path) -> Res<MarkerDetails> {
    let mut out = MarkerDetails::new();
    for (k, v) in obj(v, p)? {
        if !v.is_null() {
            out.insert(k.clone(), payloads(v, &p.key(k))?);
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Field codecs: how a value of one Rust type is read and written
// ---------------------------------------------------------------------------------------------

/// Where a field's leftover keys go when its value has no `extra` map of its own: the
/// enclosing message's `extra`, under the field's key (see [`Named`]).
struct Spill<'a> {
    key: &'a str,
    extra: &'a mut Extra,
}

/// How a field of type `T` is read and written. [`Plain`] is each type's usual protobuf JSON
/// form; a declaration picks another codec with `as` (`"activityType" => activity_type as
/// Named`).
trait Codec<T> {
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
struct Plain;

/// `{"name": ...}` (`workflowType`, `activityType`) read into a `String`. Its other keys spill
/// into the enclosing `extra`; the writer merges them back.
struct Named;

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
        let short = shorthand && t.encoding() == Some(super::payload::JSON_PLAIN);
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

// ---------------------------------------------------------------------------------------------
// Declaring messages
// ---------------------------------------------------------------------------------------------

/// A protobuf `oneof` whose cases carry leftovers in the enclosing message's `extra` (the
/// `*FailureInfo` objects); declared with `oneof!`. Its `None` variant is the absent case.
trait OneOf: Sized {
    /// The value when no case is present.
    fn empty() -> Self;
    /// The key of the case `self` holds, if any.
    fn key(&self) -> Option<&'static str>;
    /// Reads the case under key `k`, or `None` when `k` is no modelled case. `prev` is the case
    /// already read (an error: a oneof holds one case).
    fn read(
        k: &str,
        v: &Value,
        p: &Path,
        extra: &mut Extra,
        prev: Option<&str>,
    ) -> Res<Option<Self>>;
    /// Writes every case key in declaration order: the one `self` holds, the others from
    /// `extra`.
    fn write(&self, out: &mut Out<'_>, shorthand: bool);
}

/// `codec!()` is [`Plain`], `codec!(C)` is `C`.
macro_rules! codec {
    () => {
        Plain
    };
    ($codec:ident) => {
        $codec
    };
}

/// `is_required!()` is false, `is_required!(required)` true (any other word does not compile).
macro_rules! is_required {
    () => {
        false
    };
    (required) => {
        true
    };
}

/// `required_key!(required "key")` is `"key"`.
macro_rules! required_key {
    (required $key:literal) => {
        $key
    };
}

/// Reads one declared key of `$a`: a modelled field (a null goes to `extra`), or (a bare key)
/// into `extra`.
macro_rules! read_entry {
    ($a:ident, $k:ident, $v:ident, $q:ident, $key:literal) => {{
        $a.extra.insert($k.clone(), $v.clone());
    }};
    ($a:ident, $k:ident, $v:ident, $q:ident, $key:literal => $field:ident $(as $codec:ident)? $(($flag:ident))?) => {
        if $v.is_null() {
            $a.extra.insert($k.clone(), Value::Null);
        } else {
            $a.$field = <codec!($($codec)?) as Codec<_>>::read(
                $v,
                &$q,
                Spill { key: $key, extra: &mut $a.extra },
            )?;
        }
    };
}

/// Writes one declared key: a modelled field, or (a bare key) whatever `extra` holds for it.
macro_rules! write_entry {
    ($out:ident, $a:ident, $shorthand:ident, $key:literal) => {
        $out.known($key)
    };
    ($out:ident, $a:ident, $shorthand:ident, $key:literal => $field:ident $(as $codec:ident)? $(($flag:ident))?) => {
        $out.field(
            $key,
            <codec!($($codec)?) as Codec<_>>::write(&$a.$field, $shorthand, is_required!($($flag)?)),
        )
    };
}

/// Declares the codec of a message struct that has an `extra` map: every key of the protobuf
/// message in declaration order, each either modelled (`"key" => field`, optionally `as Codec`
/// and `(required)`) or bare (`"key"`: not modelled, kept in `extra` and written back at this
/// place). An optional trailing `oneof field: Type` reads and writes a [`OneOf`].
///
/// Generates `impl Codec<Struct> for Plain`: reading fails on a missing `required` key,
/// reads each modelled key, and keeps all others (and nulls) in `extra`, in input order;
/// writing emits the keys in declaration order, leaving out default values except for
/// `required` fields, then any undeclared keys from `extra`.
macro_rules! message {
    ($name:ident {
        $( $key:literal $( => $field:ident $(as $codec:ident)? $(($flag:ident))? )? ),* $(,)?
    } $( oneof $ofield:ident: $oty:ident )?) => {
        impl Codec<$name> for Plain {
            fn empty() -> $name {
                $name {
                    $($( $field: <codec!($($codec)?) as Codec<_>>::empty(), )?)*
                    $( $ofield: <$oty as OneOf>::empty(), )?
                    extra: Extra::new(),
                }
            }

            // A key declared twice is an unreachable pattern: it does not compile.
            #[deny(unreachable_patterns)]
            fn read(v: &Value, p: &Path, _: Spill) -> Res<$name> {
                let m = obj(v, p)?;
                require(m, p, &[$($($( required_key!($flag $key), )?)?)*])?;
                let mut a = <Plain as Codec<$name>>::empty();
                for (k, v) in m {
                    let q = p.key(k);
                    match k.as_str() {
                        $( $key => read_entry!(a, k, v, q, $key $(=> $field $(as $codec)? $(($flag))?)?), )*
                        _ => {
                            $(
                                if !v.is_null() {
                                    let prev = a.$ofield.key();
                                    if let Some(x) = <$oty as OneOf>::read(k, v, &q, &mut a.extra, prev)? {
                                        a.$ofield = x;
                                        continue;
                                    }
                                }
                            )?
                            a.extra.insert(k.clone(), v.clone());
                        }
                    }
                }
                Ok(a)
            }

            fn write(a: &$name, shorthand: bool, _: bool) -> Option<Value> {
                let modelled = [$($(stringify!($field),)?)*].len();
                let mut out = Out::new(&a.extra, modelled);
                $( write_entry!(out, a, shorthand, $key $(=> $field $(as $codec)? $(($flag))?)?); )*
                $( <$oty as OneOf>::write(&a.$ofield, &mut out, shorthand); )?
                Some(out.finish())
            }
        }
    };
}

/// Writes one case of a [`OneOf`]: the case `self` holds, or whatever `extra` holds.
macro_rules! write_case {
    ($this:ident, $out:ident, $shorthand:ident, $name:ident, $key:literal) => {
        $out.known($key)
    };
    ($this:ident, $out:ident, $shorthand:ident, $name:ident, $key:literal =>
        $variant:ident { $( $fkey:literal => $field:ident $(as $codec:ident)? ),* }) => {
        match $this {
            $name::$variant { $($field),* } => {
                #[allow(unused_mut)] // a case without fields
                let mut m = Map::new();
                $(
                    if let Some(v) = <codec!($($codec)?) as Codec<_>>::write($field, $shorthand, false) {
                        m.insert($fkey.to_string(), v);
                    }
                )*
                $out.field($key, Some(Value::Object(m)));
            }
            _ => $out.known($key),
        }
    };
}

/// Declares a [`OneOf`] enum: every case key in protobuf declaration order, each either
/// modelled (`"key" => Variant { "subKey" => field, ... }`) or bare. A case has no `extra`
/// map: its leftover keys go to the enclosing message's `extra` under the case key, and are
/// written back after its modelled keys. `$one` names the rule a second case breaks.
macro_rules! oneof {
    ($name:ident ($one:literal) {
        $( $key:literal $( => $variant:ident { $( $fkey:literal => $field:ident $(as $codec:ident)? ),* $(,)? } )? ),* $(,)?
    }) => {
        impl OneOf for $name {
            fn empty() -> Self {
                $name::None
            }

            fn key(&self) -> Option<&'static str> {
                match self {
                    $($( $name::$variant { .. } => Some($key), )?)*
                    $name::None => None,
                }
            }

            // A key declared twice is an unreachable pattern: it does not compile.
            #[deny(unreachable_patterns)]
            fn read(
                k: &str,
                v: &Value,
                p: &Path,
                extra: &mut Extra,
                prev: Option<&str>,
            ) -> Res<Option<Self>> {
                match k {
                    $($( $key => {
                        if let Some(prev) = prev {
                            return p.err(format!("{}, already read {prev}", $one));
                        }
                        let mut left = Extra::new();
                        $( let mut $field = <codec!($($codec)?) as Codec<_>>::empty(); )*
                        for (k, v) in obj(v, p)? {
                            match k.as_str() {
                                $( $fkey if v.is_null() => {
                                    left.insert(k.clone(), Value::Null);
                                }
                                $fkey => {
                                    $field = <codec!($($codec)?) as Codec<_>>::read(
                                        v,
                                        &p.key(k),
                                        Spill { key: $fkey, extra: &mut left },
                                    )?;
                                } )*
                                _ => {
                                    left.insert(k.clone(), v.clone());
                                }
                            }
                        }
                        if !left.is_empty() {
                            extra.insert($key.to_string(), Value::Object(std::mem::take(&mut *left)));
                        }
                        Ok(Some($name::$variant { $($field),* }))
                    } )?)*
                    _ => Ok(None),
                }
            }

            fn write(&self, out: &mut Out<'_>, shorthand: bool) {
                let this = self;
                $( write_case!(this, out, shorthand, $name, $key $(=> $variant { $( $fkey => $field $(as $codec)? ),* })?); )*
            }
        }
    };
}

/// Declares every event type's attributes message (see [`message!`]) and the two dispatches
/// on the event type: [`attributes`] (reading) and [`write_attributes`]. Each name is the
/// attributes struct, its `EventType` and its `EventAttributes` variant.
macro_rules! events {
    ($( $name:ident { $($body:tt)* } )*) => {
        $( message!($name { $($body)* }); )*

        /// Reads the attribute object of an event of type `ty`.
        pub(super) fn attributes(ty: EventType, v: &Value, p: &Path) -> Res<EventAttributes> {
            let mut none = Extra::new();
            let spill = Spill { key: "", extra: &mut none };
            Ok(match ty {
                $( EventType::$name => EventAttributes::$name(Arc::new(
                    <Plain as Codec<$name>>::read(v, p, spill)?,
                )), )*
            })
        }

        /// An event's attribute object.
        pub(super) fn write_attributes(a: &EventAttributes, shorthand: bool) -> Value {
            let v = match a {
                $( EventAttributes::$name(a) => <Plain as Codec<$name>>::write(a, shorthand, true), )*
            };
            v.unwrap_or_default()
        }
    };
}

// The declarations, after the macros (a `macro_rules!` is in scope below its definition).
mod messages;
use messages::{attributes, write_attributes};

// ---------------------------------------------------------------------------------------------
// Reading events
// ---------------------------------------------------------------------------------------------

fn event_type(v: &Value, p: &Path) -> Res<EventType> {
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
fn is_attributes_key(ty: EventType, key: &str) -> bool {
    let name = ty.name();
    match key.strip_suffix("EventAttributes") {
        Some(k) if k.len() == name.len() => {
            let (k, name) = (k.as_bytes(), name.as_bytes());
            k[0] == name[0].to_ascii_lowercase() && k[1..] == name[1..]
        }
        _ => false,
    }
}

fn event(v: &Value, index: usize) -> Result<HistoryEvent, HistoryError> {
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
    let doc: Value = serde_json::from_str(text).map_err(|e| HistoryError {
        event_index: None,
        event_id: None,
        path: String::new(),
        message: e.to_string(),
        line: Some(e.line()),
        column: Some(e.column()),
    })?;
    let events = match &doc {
        Value::Array(items) => items,
        Value::Object(m) => {
            if let Some(k) = m.keys().find(|k| k.as_str() != "events") {
                return Err(HistoryError::document(
                    truncated(k, 80),
                    "unexpected top-level key (a history holds only \"events\")",
                ));
            }
            match m.get("events") {
                None | Some(Value::Null) => return Ok(History::default()),
                Some(Value::Array(items)) => items,
                Some(other) => {
                    return Err(HistoryError::document(
                        "events",
                        format!("expected an array, found {}", describe(other)),
                    ))
                }
            }
        }
        other => {
            return Err(HistoryError::document(
                "",
                format!(
                    "expected {{\"events\": [...]}} or an array of events, found {}",
                    describe(other)
                ),
            ))
        }
    };
    let mut out = Vec::with_capacity(events.len());
    for (i, v) in events.iter().enumerate() {
        out.push(event(v, i)?);
    }
    Ok(History::new(out))
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

/// Merges leftover keys (`extra`) into a modelled object, recursively.
fn merge(target: &mut Value, extra: &Value) {
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
struct Out<'a> {
    map: Map<String, Value>,
    extra: &'a Extra,
}

impl<'a> Out<'a> {
    /// `modelled`: how many keys the message models (a capacity hint).
    fn new(extra: &'a Extra, modelled: usize) -> Self {
        Out {
            map: Map::with_capacity(modelled + extra.len()),
            extra,
        }
    }

    /// A modelled key: its value, or `None` when left out.
    fn field(&mut self, key: &str, value: Option<Value>) {
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
    fn known(&mut self, key: &str) {
        if let Some(x) = self.leftover(key) {
            self.map.insert(key.to_string(), x.clone());
        }
    }

    fn leftover(&self, key: &str) -> Option<&'a Value> {
        let extra: &'a Extra = self.extra;
        if extra.is_empty() {
            None
        } else {
            extra.get(key)
        }
    }

    fn finish(mut self) -> Value {
        for (k, v) in self.extra.iter() {
            if !self.map.contains_key(k) {
                self.map.insert(k.clone(), v.clone());
            }
        }
        Value::Object(self.map)
    }
}

/// A double as protobuf JSON writes it: integers without a fraction, non-finite as strings.
fn double_value(c: f64) -> Value {
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

fn b64(b: &[u8]) -> Value {
    Value::String(base64::engine::general_purpose::STANDARD.encode(b))
}

fn write_payload_long(p: &Payload) -> Value {
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
        Some(super::payload::JSON_PLAIN) if p.metadata.len() == 1 => {
            serde_json::from_slice::<Value>(&p.data).ok().map(go_value)
        }
        _ => None,
    }
}

/// What Go's `encoding/json` makes of a value decoded into `any`: every number a float64,
/// an empty array written as null.
fn go_value(v: Value) -> Value {
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

fn write_payloads(p: &Payloads, shorthand: bool) -> Value {
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
    fn enum_names() {
        assert_eq!(TIMEOUT_TYPE.lookup("TIMEOUT_TYPE_START_TO_CLOSE"), Some(1));
        assert_eq!(TIMEOUT_TYPE.lookup("StartToClose"), Some(1));
        assert_eq!(TIMEOUT_TYPE.lookup("START_TO_CLOSE"), Some(1));
        assert_eq!(TIMEOUT_TYPE.lookup("Starttoclose"), None);
        assert_eq!(RETRY_STATE.lookup("NonRetryableFailure"), Some(2));
        assert_eq!(WFT_FAILED_CAUSE.lookup("NonDeterministicError"), Some(24));
        assert_eq!(WFT_FAILED_CAUSE.lookup("GrpcMessageTooLarge"), Some(36));
        assert_eq!(TASK_QUEUE_KIND.lookup("Sticky"), Some(2));
        for t in EventType::ALL {
            assert_eq!(parse_event_type(t.name()), Some(t));
            assert_eq!(parse_event_type(&t.proto_name()), Some(t));
        }
        assert_eq!(parse_event_type("EVENT_TYPE_TIMERSTARTED"), None);
        assert_eq!(parse_event_type("timerStarted"), None);
    }

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
    fn doubles_written_like_protojson() {
        assert_eq!(double_value(2.0).to_string(), "2");
        assert_eq!(double_value(1.5).to_string(), "1.5");
        assert_eq!(double_value(f64::NAN), Value::String("NaN".into()));
    }
}
