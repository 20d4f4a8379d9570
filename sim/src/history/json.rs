//! Temporal's JSON history export (`temporal workflow show -o json`): [`parse_history`] reads
//! it, [`to_json`] writes it.
//!
//! Reading goes through `serde_json::Value` (one linear pass to build it, one to convert it).
//! Keys we do not model go to the `extra` map of the struct they appear in, in input order.
//! Two places have no `extra` map of their own and use the enclosing one instead, under the
//! same key, holding only the leftover keys: `{name, ...}` objects (`workflowType`,
//! `activityType`) and the `*FailureInfo` objects. The writer merges them back.
//!
//! The writer emits keys in the protobuf declaration order (as Go's protojson does), with
//! unmodelled keys at their declared place when we know it and after the modelled ones
//! otherwise; for the Temporal fixtures the output is byte-identical to the input.
//!
//! Invariant: pure functions from `&str` to values and back; no I/O, clock or randomness.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Map, Number, Value};

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
    /// For malformed JSON: 1-based line and column, as serde_json reports them.
    pub line: Option<usize>,
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

fn truncated(s: &str, max: usize) -> String {
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

fn timeout_type_from(n: i32) -> TimeoutType {
    match n {
        1 => TimeoutType::StartToClose,
        2 => TimeoutType::ScheduleToStart,
        3 => TimeoutType::ScheduleToClose,
        4 => TimeoutType::Heartbeat,
        _ => TimeoutType::Unspecified,
    }
}

fn retry_state_from(n: i32) -> RetryState {
    match n {
        1 => RetryState::InProgress,
        2 => RetryState::NonRetryableFailure,
        3 => RetryState::Timeout,
        4 => RetryState::MaximumAttemptsReached,
        5 => RetryState::RetryPolicyNotSet,
        6 => RetryState::InternalServerError,
        7 => RetryState::CancelRequested,
        _ => RetryState::Unspecified,
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
fn named(v: &Value, p: &Path, extra: &mut JsonMap, key: &str) -> Res<String> {
    let m = obj(v, p)?;
    let mut name = String::new();
    let mut left = Map::new();
    for (k, v) in m {
        match k.as_str() {
            "name" if !v.is_null() => name = string(v, &p.key(k))?,
            _ => {
                left.insert(k.clone(), v.clone());
            }
        }
    }
    if !left.is_empty() {
        extra.insert(key.to_string(), Value::Object(left));
    }
    Ok(name)
}

fn task_queue(v: &Value, p: &Path) -> Res<TaskQueue> {
    let m = obj(v, p)?;
    let mut tq = TaskQueue::default();
    for (k, v) in m {
        let q = p.key(k);
        match k.as_str() {
            _ if v.is_null() => {
                tq.extra.insert(k.clone(), Value::Null);
            }
            "name" => tq.name = string(v, &q)?,
            "kind" => tq.kind = task_queue_kind_from(TASK_QUEUE_KIND.read(v, &q, false)?),
            "normalName" => tq.normal_name = Some(string(v, &q)?),
            _ => {
                tq.extra.insert(k.clone(), v.clone());
            }
        }
    }
    Ok(tq)
}

fn retry_policy(v: &Value, p: &Path) -> Res<RetryPolicy> {
    let m = obj(v, p)?;
    let mut rp = RetryPolicy::default();
    for (k, v) in m {
        let q = p.key(k);
        match k.as_str() {
            _ if v.is_null() => {
                rp.extra.insert(k.clone(), Value::Null);
            }
            "initialInterval" => rp.initial_interval = Some(duration(v, &q)?),
            "backoffCoefficient" => rp.backoff_coefficient = Some(double(v, &q)?),
            "maximumInterval" => rp.maximum_interval = Some(duration(v, &q)?),
            "maximumAttempts" => rp.maximum_attempts = int32(v, &q)?,
            "nonRetryableErrorTypes" => rp.non_retryable_error_types = strings(v, &q)?,
            _ => {
                rp.extra.insert(k.clone(), v.clone());
            }
        }
    }
    Ok(rp)
}

const FAILURE_INFO_KEYS: [&str; 6] = [
    "applicationFailureInfo",
    "timeoutFailureInfo",
    "canceledFailureInfo",
    "terminatedFailureInfo",
    "serverFailureInfo",
    "activityFailureInfo",
];

fn failure(v: &Value, p: &Path) -> Res<Failure> {
    let m = obj(v, p)?;
    let mut f = Failure {
        message: String::new(),
        source: String::new(),
        stack_trace: String::new(),
        cause: None,
        info: FailureInfo::None,
        extra: Extra::new(),
    };
    let mut info_key: Option<&str> = None;
    for (k, v) in m {
        let q = p.key(k);
        match k.as_str() {
            _ if v.is_null() => {
                f.extra.insert(k.clone(), Value::Null);
            }
            "message" => f.message = string(v, &q)?,
            "source" => f.source = string(v, &q)?,
            "stackTrace" => f.stack_trace = string(v, &q)?,
            "cause" => f.cause = Some(Box::new(failure(v, &q)?)),
            key if FAILURE_INFO_KEYS.contains(&key) => {
                if let Some(prev) = info_key {
                    return q.err(format!("a failure has one info, already read {prev}"));
                }
                info_key = Some(key);
                f.info = failure_info(key, v, &q, &mut f.extra)?;
            }
            _ => {
                f.extra.insert(k.clone(), v.clone());
            }
        }
    }
    Ok(f)
}

/// One `*FailureInfo`; unmodelled keys go to `extra[key]` as an object.
fn failure_info(key: &str, v: &Value, p: &Path, extra: &mut Extra) -> Res<FailureInfo> {
    let m = obj(v, p)?;
    let mut left = Map::new();
    let mut error_type = String::new();
    let mut non_retryable = false;
    let mut details = None;
    let mut timeout_type = TimeoutType::Unspecified;
    let (mut scheduled, mut started) = (0, 0);
    let (mut identity, mut activity_type, mut activity_id) =
        (String::new(), String::new(), String::new());
    let mut retry_state = RetryState::Unspecified;
    for (k, v) in m {
        let q = p.key(k);
        match (key, k.as_str()) {
            (_, _) if v.is_null() => {
                left.insert(k.clone(), Value::Null);
            }
            ("applicationFailureInfo", "type") => error_type = string(v, &q)?,
            ("applicationFailureInfo" | "serverFailureInfo", "nonRetryable") => {
                non_retryable = boolean(v, &q)?
            }
            ("applicationFailureInfo" | "canceledFailureInfo", "details")
            | ("timeoutFailureInfo", "lastHeartbeatDetails") => details = Some(payloads(v, &q)?),
            ("timeoutFailureInfo", "timeoutType") => {
                timeout_type = timeout_type_from(TIMEOUT_TYPE.read(v, &q, false)?)
            }
            ("activityFailureInfo", "scheduledEventId") => scheduled = int64(v, &q)?,
            ("activityFailureInfo", "startedEventId") => started = int64(v, &q)?,
            ("activityFailureInfo", "identity") => identity = string(v, &q)?,
            ("activityFailureInfo", "activityType") => {
                activity_type = named(v, &q, &mut left, "activityType")?
            }
            ("activityFailureInfo", "activityId") => activity_id = string(v, &q)?,
            ("activityFailureInfo", "retryState") => {
                retry_state = retry_state_from(RETRY_STATE.read(v, &q, false)?)
            }
            _ => {
                left.insert(k.clone(), v.clone());
            }
        }
    }
    if !left.is_empty() {
        extra.insert(key.to_string(), Value::Object(left));
    }
    Ok(match key {
        "applicationFailureInfo" => FailureInfo::Application {
            error_type,
            non_retryable,
            details,
        },
        "timeoutFailureInfo" => FailureInfo::Timeout {
            timeout_type,
            last_heartbeat_details: details,
        },
        "canceledFailureInfo" => FailureInfo::Canceled { details },
        "terminatedFailureInfo" => FailureInfo::Terminated,
        "serverFailureInfo" => FailureInfo::Server { non_retryable },
        _ => FailureInfo::Activity {
            scheduled_event_id: scheduled,
            started_event_id: started,
            identity,
            activity_type,
            activity_id,
            retry_state,
        },
    })
}

fn marker_details(v: &Value, p: &Path) -> Res<MarkerDetails> {
    let mut out = MarkerDetails::new();
    for (k, v) in obj(v, p)? {
        if !v.is_null() {
            out.insert(k.clone(), payloads(v, &p.key(k))?);
        }
    }
    Ok(out)
}

/// Reads one attribute object. `$a` is the struct, `$m` the map, `$p` the path; each arm maps
/// a key to an assignment; unknown keys (and nulls) go to `$a.extra`.
macro_rules! read_fields {
    ($m:expr, $p:expr, $a:ident, { $($key:literal => |$v:ident, $q:ident| $body:expr),* $(,)? }) => {
        for (k, value) in $m {
            let q = $p.key(k);
            match k.as_str() {
                $($key if !value.is_null() => {
                    let $v = value;
                    let $q = &q;
                    $body;
                })*
                _ => {
                    $a.extra.insert(k.clone(), value.clone());
                }
            }
        }
    };
}

fn attributes(ty: EventType, v: &Value, p: &Path) -> Res<EventAttributes> {
    use EventAttributes as A;
    let m = obj(v, p)?;
    Ok(match ty {
        EventType::WorkflowExecutionStarted => {
            require(m, p, &["workflowType", "taskQueue"])?;
            let mut a = WorkflowExecutionStarted::default();
            read_fields!(m, p, a, {
                "workflowType" => |v, q| a.workflow_type = named(v, q, &mut a.extra, "workflowType")?,
                "workflowId" => |v, q| a.workflow_id = string(v, q)?,
                "taskQueue" => |v, q| a.task_queue = task_queue(v, q)?,
                "input" => |v, q| a.input = Some(payloads(v, q)?),
                "workflowExecutionTimeout" => |v, q| a.workflow_execution_timeout = Some(duration(v, q)?),
                "workflowRunTimeout" => |v, q| a.workflow_run_timeout = Some(duration(v, q)?),
                "workflowTaskTimeout" => |v, q| a.workflow_task_timeout = Some(duration(v, q)?),
                "continuedExecutionRunId" => |v, q| a.continued_execution_run_id = Some(string(v, q)?),
                "originalExecutionRunId" => |v, q| a.original_execution_run_id = string(v, q)?,
                "firstExecutionRunId" => |v, q| a.first_execution_run_id = string(v, q)?,
                "identity" => |v, q| a.identity = string(v, q)?,
                "attempt" => |v, q| a.attempt = int32(v, q)?,
                "firstWorkflowTaskBackoff" => |v, q| a.first_workflow_task_backoff = Some(duration(v, q)?),
                "retryPolicy" => |v, q| a.retry_policy = Some(retry_policy(v, q)?),
            });
            A::WorkflowExecutionStarted(Arc::new(a))
        }
        EventType::WorkflowExecutionCompleted => {
            let mut a = WorkflowExecutionCompleted::default();
            read_fields!(m, p, a, {
                "result" => |v, q| a.result = Some(payloads(v, q)?),
                "workflowTaskCompletedEventId" => |v, q| a.workflow_task_completed_event_id = int64(v, q)?,
                "newExecutionRunId" => |v, q| a.new_execution_run_id = Some(string(v, q)?),
            });
            A::WorkflowExecutionCompleted(Arc::new(a))
        }
        EventType::WorkflowExecutionFailed => {
            let mut a = WorkflowExecutionFailed {
                failure: None,
                retry_state: RetryState::Unspecified,
                workflow_task_completed_event_id: 0,
                new_execution_run_id: None,
                extra: Extra::new(),
            };
            read_fields!(m, p, a, {
                "failure" => |v, q| a.failure = Some(failure(v, q)?),
                "retryState" => |v, q| a.retry_state = retry_state_from(RETRY_STATE.read(v, q, false)?),
                "workflowTaskCompletedEventId" => |v, q| a.workflow_task_completed_event_id = int64(v, q)?,
                "newExecutionRunId" => |v, q| a.new_execution_run_id = Some(string(v, q)?),
            });
            A::WorkflowExecutionFailed(Arc::new(a))
        }
        EventType::WorkflowExecutionTimedOut => {
            let mut a = WorkflowExecutionTimedOut {
                retry_state: RetryState::Unspecified,
                new_execution_run_id: None,
                extra: Extra::new(),
            };
            read_fields!(m, p, a, {
                "retryState" => |v, q| a.retry_state = retry_state_from(RETRY_STATE.read(v, q, false)?),
                "newExecutionRunId" => |v, q| a.new_execution_run_id = Some(string(v, q)?),
            });
            A::WorkflowExecutionTimedOut(Arc::new(a))
        }
        EventType::WorkflowTaskScheduled => {
            let mut a = WorkflowTaskScheduled::default();
            read_fields!(m, p, a, {
                "taskQueue" => |v, q| a.task_queue = task_queue(v, q)?,
                "startToCloseTimeout" => |v, q| a.start_to_close_timeout = Some(duration(v, q)?),
                "attempt" => |v, q| a.attempt = int32(v, q)?,
            });
            A::WorkflowTaskScheduled(Arc::new(a))
        }
        EventType::WorkflowTaskStarted => {
            require(m, p, &["scheduledEventId"])?;
            let mut a = WorkflowTaskStarted::default();
            read_fields!(m, p, a, {
                "scheduledEventId" => |v, q| a.scheduled_event_id = int64(v, q)?,
                "identity" => |v, q| a.identity = string(v, q)?,
                "requestId" => |v, q| a.request_id = string(v, q)?,
                "historySizeBytes" => |v, q| a.history_size_bytes = int64(v, q)?,
            });
            A::WorkflowTaskStarted(Arc::new(a))
        }
        EventType::WorkflowTaskCompleted => {
            require(m, p, &["scheduledEventId"])?;
            let mut a = WorkflowTaskCompleted::default();
            read_fields!(m, p, a, {
                "scheduledEventId" => |v, q| a.scheduled_event_id = int64(v, q)?,
                "startedEventId" => |v, q| a.started_event_id = int64(v, q)?,
                "identity" => |v, q| a.identity = string(v, q)?,
            });
            A::WorkflowTaskCompleted(Arc::new(a))
        }
        EventType::WorkflowTaskTimedOut => {
            require(m, p, &["scheduledEventId"])?;
            let mut a = WorkflowTaskTimedOut {
                scheduled_event_id: 0,
                started_event_id: 0,
                timeout_type: TimeoutType::Unspecified,
                extra: Extra::new(),
            };
            read_fields!(m, p, a, {
                "scheduledEventId" => |v, q| a.scheduled_event_id = int64(v, q)?,
                "startedEventId" => |v, q| a.started_event_id = int64(v, q)?,
                "timeoutType" => |v, q| a.timeout_type = timeout_type_from(TIMEOUT_TYPE.read(v, q, false)?),
            });
            A::WorkflowTaskTimedOut(Arc::new(a))
        }
        EventType::WorkflowTaskFailed => {
            require(m, p, &["scheduledEventId"])?;
            let mut a = WorkflowTaskFailed {
                scheduled_event_id: 0,
                started_event_id: 0,
                cause: WorkflowTaskFailedCause::Unspecified,
                failure: None,
                identity: String::new(),
                extra: Extra::new(),
            };
            read_fields!(m, p, a, {
                "scheduledEventId" => |v, q| a.scheduled_event_id = int64(v, q)?,
                "startedEventId" => |v, q| a.started_event_id = int64(v, q)?,
                "cause" => |v, q| a.cause = cause_from(WFT_FAILED_CAUSE.read(v, q, true)?),
                "failure" => |v, q| a.failure = Some(failure(v, q)?),
                "identity" => |v, q| a.identity = string(v, q)?,
            });
            A::WorkflowTaskFailed(Arc::new(a))
        }
        EventType::ActivityTaskScheduled => {
            require(m, p, &["activityId", "activityType"])?;
            let mut a = ActivityTaskScheduled::default();
            read_fields!(m, p, a, {
                "activityId" => |v, q| a.activity_id = string(v, q)?,
                "activityType" => |v, q| a.activity_type = named(v, q, &mut a.extra, "activityType")?,
                "taskQueue" => |v, q| a.task_queue = task_queue(v, q)?,
                "input" => |v, q| a.input = Some(payloads(v, q)?),
                "scheduleToCloseTimeout" => |v, q| a.schedule_to_close_timeout = Some(duration(v, q)?),
                "scheduleToStartTimeout" => |v, q| a.schedule_to_start_timeout = Some(duration(v, q)?),
                "startToCloseTimeout" => |v, q| a.start_to_close_timeout = Some(duration(v, q)?),
                "heartbeatTimeout" => |v, q| a.heartbeat_timeout = Some(duration(v, q)?),
                "workflowTaskCompletedEventId" => |v, q| a.workflow_task_completed_event_id = int64(v, q)?,
                "retryPolicy" => |v, q| a.retry_policy = Some(retry_policy(v, q)?),
            });
            A::ActivityTaskScheduled(Arc::new(a))
        }
        EventType::ActivityTaskStarted => {
            require(m, p, &["scheduledEventId"])?;
            let mut a = ActivityTaskStarted::default();
            read_fields!(m, p, a, {
                "scheduledEventId" => |v, q| a.scheduled_event_id = int64(v, q)?,
                "identity" => |v, q| a.identity = string(v, q)?,
                "requestId" => |v, q| a.request_id = string(v, q)?,
                "attempt" => |v, q| a.attempt = int32(v, q)?,
                "lastFailure" => |v, q| a.last_failure = Some(failure(v, q)?),
            });
            A::ActivityTaskStarted(Arc::new(a))
        }
        EventType::ActivityTaskCompleted => {
            require(m, p, &["scheduledEventId"])?;
            let mut a = ActivityTaskCompleted::default();
            read_fields!(m, p, a, {
                "result" => |v, q| a.result = Some(payloads(v, q)?),
                "scheduledEventId" => |v, q| a.scheduled_event_id = int64(v, q)?,
                "startedEventId" => |v, q| a.started_event_id = int64(v, q)?,
                "identity" => |v, q| a.identity = string(v, q)?,
            });
            A::ActivityTaskCompleted(Arc::new(a))
        }
        EventType::ActivityTaskFailed => {
            require(m, p, &["scheduledEventId"])?;
            let mut a = ActivityTaskFailed {
                failure: None,
                scheduled_event_id: 0,
                started_event_id: 0,
                identity: String::new(),
                retry_state: RetryState::Unspecified,
                extra: Extra::new(),
            };
            read_fields!(m, p, a, {
                "failure" => |v, q| a.failure = Some(failure(v, q)?),
                "scheduledEventId" => |v, q| a.scheduled_event_id = int64(v, q)?,
                "startedEventId" => |v, q| a.started_event_id = int64(v, q)?,
                "identity" => |v, q| a.identity = string(v, q)?,
                "retryState" => |v, q| a.retry_state = retry_state_from(RETRY_STATE.read(v, q, false)?),
            });
            A::ActivityTaskFailed(Arc::new(a))
        }
        EventType::ActivityTaskTimedOut => {
            require(m, p, &["scheduledEventId"])?;
            let mut a = ActivityTaskTimedOut {
                failure: None,
                scheduled_event_id: 0,
                started_event_id: 0,
                retry_state: RetryState::Unspecified,
                extra: Extra::new(),
            };
            read_fields!(m, p, a, {
                "failure" => |v, q| a.failure = Some(failure(v, q)?),
                "scheduledEventId" => |v, q| a.scheduled_event_id = int64(v, q)?,
                "startedEventId" => |v, q| a.started_event_id = int64(v, q)?,
                "retryState" => |v, q| a.retry_state = retry_state_from(RETRY_STATE.read(v, q, false)?),
            });
            A::ActivityTaskTimedOut(Arc::new(a))
        }
        EventType::ActivityTaskCancelRequested => {
            require(m, p, &["scheduledEventId"])?;
            let mut a = ActivityTaskCancelRequested::default();
            read_fields!(m, p, a, {
                "scheduledEventId" => |v, q| a.scheduled_event_id = int64(v, q)?,
                "workflowTaskCompletedEventId" => |v, q| a.workflow_task_completed_event_id = int64(v, q)?,
            });
            A::ActivityTaskCancelRequested(Arc::new(a))
        }
        EventType::ActivityTaskCanceled => {
            require(m, p, &["scheduledEventId"])?;
            let mut a = ActivityTaskCanceled::default();
            read_fields!(m, p, a, {
                "details" => |v, q| a.details = Some(payloads(v, q)?),
                "latestCancelRequestedEventId" => |v, q| a.latest_cancel_requested_event_id = int64(v, q)?,
                "scheduledEventId" => |v, q| a.scheduled_event_id = int64(v, q)?,
                "startedEventId" => |v, q| a.started_event_id = int64(v, q)?,
                "identity" => |v, q| a.identity = string(v, q)?,
            });
            A::ActivityTaskCanceled(Arc::new(a))
        }
        EventType::TimerStarted => {
            require(m, p, &["timerId", "startToFireTimeout"])?;
            let mut a = TimerStarted::default();
            read_fields!(m, p, a, {
                "timerId" => |v, q| a.timer_id = string(v, q)?,
                "startToFireTimeout" => |v, q| a.start_to_fire_timeout = Some(duration(v, q)?),
                "workflowTaskCompletedEventId" => |v, q| a.workflow_task_completed_event_id = int64(v, q)?,
            });
            A::TimerStarted(Arc::new(a))
        }
        EventType::TimerFired => {
            require(m, p, &["timerId"])?;
            let mut a = TimerFired::default();
            read_fields!(m, p, a, {
                "timerId" => |v, q| a.timer_id = string(v, q)?,
                "startedEventId" => |v, q| a.started_event_id = int64(v, q)?,
            });
            A::TimerFired(Arc::new(a))
        }
        EventType::TimerCanceled => {
            require(m, p, &["timerId"])?;
            let mut a = TimerCanceled::default();
            read_fields!(m, p, a, {
                "timerId" => |v, q| a.timer_id = string(v, q)?,
                "startedEventId" => |v, q| a.started_event_id = int64(v, q)?,
                "workflowTaskCompletedEventId" => |v, q| a.workflow_task_completed_event_id = int64(v, q)?,
                "identity" => |v, q| a.identity = string(v, q)?,
            });
            A::TimerCanceled(Arc::new(a))
        }
        EventType::WorkflowExecutionCancelRequested => {
            let mut a = WorkflowExecutionCancelRequested::default();
            read_fields!(m, p, a, {
                "cause" => |v, q| a.cause = string(v, q)?,
                "identity" => |v, q| a.identity = string(v, q)?,
            });
            A::WorkflowExecutionCancelRequested(Arc::new(a))
        }
        EventType::WorkflowExecutionCanceled => {
            let mut a = WorkflowExecutionCanceled::default();
            read_fields!(m, p, a, {
                "workflowTaskCompletedEventId" => |v, q| a.workflow_task_completed_event_id = int64(v, q)?,
                "details" => |v, q| a.details = Some(payloads(v, q)?),
            });
            A::WorkflowExecutionCanceled(Arc::new(a))
        }
        EventType::MarkerRecorded => {
            require(m, p, &["markerName"])?;
            let mut a = MarkerRecorded::default();
            read_fields!(m, p, a, {
                "markerName" => |v, q| a.marker_name = string(v, q)?,
                "details" => |v, q| a.details = marker_details(v, q)?,
                "workflowTaskCompletedEventId" => |v, q| a.workflow_task_completed_event_id = int64(v, q)?,
                "failure" => |v, q| a.failure = Some(failure(v, q)?),
            });
            A::MarkerRecorded(Arc::new(a))
        }
        EventType::WorkflowExecutionSignaled => {
            require(m, p, &["signalName"])?;
            let mut a = WorkflowExecutionSignaled::default();
            read_fields!(m, p, a, {
                "signalName" => |v, q| a.signal_name = string(v, q)?,
                "input" => |v, q| a.input = Some(payloads(v, q)?),
                "identity" => |v, q| a.identity = string(v, q)?,
            });
            A::WorkflowExecutionSignaled(Arc::new(a))
        }
        EventType::WorkflowExecutionTerminated => {
            let mut a = WorkflowExecutionTerminated::default();
            read_fields!(m, p, a, {
                "reason" => |v, q| a.reason = string(v, q)?,
                "details" => |v, q| a.details = Some(payloads(v, q)?),
                "identity" => |v, q| a.identity = string(v, q)?,
            });
            A::WorkflowExecutionTerminated(Arc::new(a))
        }
        EventType::WorkflowExecutionContinuedAsNew => {
            require(m, p, &["newExecutionRunId"])?;
            let mut a = WorkflowExecutionContinuedAsNew::default();
            read_fields!(m, p, a, {
                "newExecutionRunId" => |v, q| a.new_execution_run_id = string(v, q)?,
                "workflowType" => |v, q| a.workflow_type = named(v, q, &mut a.extra, "workflowType")?,
                "taskQueue" => |v, q| a.task_queue = task_queue(v, q)?,
                "input" => |v, q| a.input = Some(payloads(v, q)?),
                "workflowRunTimeout" => |v, q| a.workflow_run_timeout = Some(duration(v, q)?),
                "workflowTaskTimeout" => |v, q| a.workflow_task_timeout = Some(duration(v, q)?),
                "workflowTaskCompletedEventId" => |v, q| a.workflow_task_completed_event_id = int64(v, q)?,
            });
            A::WorkflowExecutionContinuedAsNew(Arc::new(a))
        }
    })
}

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
    let attrs_key = ty.attributes_key();
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
            key if key == attrs_key => attrs = Some(attributes(ty, v, &q).map_err(fail)?),
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
            path: attrs_key,
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

/// Protobuf declaration order of each message's fields (camelCase), modelled or not.
mod order {
    pub const EVENT: &[&str] = &[
        "eventId",
        "eventTime",
        "eventType",
        "version",
        "taskId",
        "workerMayIgnore",
        "userMetadata",
        "links",
        "principal",
        "eventGroupMarkers",
    ];
    pub const WF_STARTED: &[&str] = &[
        "workflowType",
        "parentWorkflowNamespace",
        "parentWorkflowNamespaceId",
        "parentWorkflowExecution",
        "parentInitiatedEventId",
        "taskQueue",
        "input",
        "workflowExecutionTimeout",
        "workflowRunTimeout",
        "workflowTaskTimeout",
        "continuedExecutionRunId",
        "initiator",
        "continuedFailure",
        "lastCompletionResult",
        "originalExecutionRunId",
        "identity",
        "firstExecutionRunId",
        "retryPolicy",
        "attempt",
        "workflowExecutionExpirationTime",
        "cronSchedule",
        "firstWorkflowTaskBackoff",
        "memo",
        "searchAttributes",
        "prevAutoResetPoints",
        "header",
        "parentInitiatedEventVersion",
        "workflowId",
        "sourceVersionStamp",
        "completionCallbacks",
        "rootWorkflowExecution",
        "inheritedBuildId",
        "versioningOverride",
        "parentPinnedWorkerDeploymentVersion",
        "priority",
        "inheritedPinnedVersion",
        "inheritedAutoUpgradeInfo",
        "eagerExecutionAccepted",
        "declinedTargetVersionUpgrade",
        "timeSkippingConfig",
        "timeSkippingStatePropagation",
    ];
    pub const WF_COMPLETED: &[&str] = &[
        "result",
        "workflowTaskCompletedEventId",
        "newExecutionRunId",
    ];
    pub const WF_FAILED: &[&str] = &[
        "failure",
        "retryState",
        "workflowTaskCompletedEventId",
        "newExecutionRunId",
    ];
    pub const WF_TIMED_OUT: &[&str] = &["retryState", "newExecutionRunId"];
    pub const WF_CONTINUED: &[&str] = &[
        "newExecutionRunId",
        "workflowType",
        "taskQueue",
        "input",
        "workflowRunTimeout",
        "workflowTaskTimeout",
        "workflowTaskCompletedEventId",
        "backoffStartInterval",
        "initiator",
        "failure",
        "lastCompletionResult",
        "header",
        "memo",
        "searchAttributes",
        "inheritBuildId",
        "initialVersioningBehavior",
    ];
    pub const WFT_SCHEDULED: &[&str] = &["taskQueue", "startToCloseTimeout", "attempt"];
    pub const WFT_STARTED: &[&str] = &[
        "scheduledEventId",
        "identity",
        "requestId",
        "suggestContinueAsNew",
        "suggestContinueAsNewReasons",
        "targetWorkerDeploymentVersionChanged",
        "historySizeBytes",
        "workerVersion",
        "buildIdRedirectCounter",
    ];
    pub const WFT_COMPLETED: &[&str] = &[
        "scheduledEventId",
        "startedEventId",
        "identity",
        "binaryChecksum",
        "workerVersion",
        "sdkMetadata",
        "meteringMetadata",
        "deployment",
        "versioningBehavior",
        "workerDeploymentVersion",
        "workerDeploymentName",
        "deploymentVersion",
    ];
    pub const WFT_TIMED_OUT: &[&str] = &["scheduledEventId", "startedEventId", "timeoutType"];
    pub const WFT_FAILED: &[&str] = &[
        "scheduledEventId",
        "startedEventId",
        "cause",
        "failure",
        "identity",
        "baseRunId",
        "newRunId",
        "forkEventVersion",
        "binaryChecksum",
        "workerVersion",
    ];
    pub const AT_SCHEDULED: &[&str] = &[
        "activityId",
        "activityType",
        "taskQueue",
        "header",
        "input",
        "scheduleToCloseTimeout",
        "scheduleToStartTimeout",
        "startToCloseTimeout",
        "heartbeatTimeout",
        "workflowTaskCompletedEventId",
        "retryPolicy",
        "useWorkflowBuildId",
        "priority",
    ];
    pub const AT_STARTED: &[&str] = &[
        "scheduledEventId",
        "identity",
        "requestId",
        "attempt",
        "lastFailure",
        "workerVersion",
        "buildIdRedirectCounter",
    ];
    pub const AT_COMPLETED: &[&str] = &[
        "result",
        "scheduledEventId",
        "startedEventId",
        "identity",
        "workerVersion",
    ];
    pub const AT_FAILED: &[&str] = &[
        "failure",
        "scheduledEventId",
        "startedEventId",
        "identity",
        "retryState",
        "workerVersion",
    ];
    pub const AT_TIMED_OUT: &[&str] = &[
        "failure",
        "scheduledEventId",
        "startedEventId",
        "retryState",
    ];
    pub const AT_CANCEL_REQUESTED: &[&str] = &["scheduledEventId", "workflowTaskCompletedEventId"];
    pub const AT_CANCELED: &[&str] = &[
        "details",
        "latestCancelRequestedEventId",
        "scheduledEventId",
        "startedEventId",
        "identity",
        "workerVersion",
    ];
    pub const TIMER_STARTED: &[&str] = &[
        "timerId",
        "startToFireTimeout",
        "workflowTaskCompletedEventId",
    ];
    pub const TIMER_FIRED: &[&str] = &["timerId", "startedEventId"];
    pub const TIMER_CANCELED: &[&str] = &[
        "timerId",
        "startedEventId",
        "workflowTaskCompletedEventId",
        "identity",
    ];
    pub const WF_CANCEL_REQUESTED: &[&str] = &[
        "cause",
        "externalInitiatedEventId",
        "externalWorkflowExecution",
        "identity",
    ];
    pub const WF_CANCELED: &[&str] = &["workflowTaskCompletedEventId", "details"];
    pub const MARKER: &[&str] = &[
        "markerName",
        "details",
        "workflowTaskCompletedEventId",
        "header",
        "failure",
    ];
    pub const SIGNALED: &[&str] = &[
        "signalName",
        "input",
        "identity",
        "header",
        "skipGenerateWorkflowTask",
        "externalWorkflowExecution",
        "requestId",
    ];
    pub const TERMINATED: &[&str] = &["reason", "details", "identity"];
    pub const FAILURE: &[&str] = &[
        "message",
        "source",
        "stackTrace",
        "encodedAttributes",
        "cause",
        "applicationFailureInfo",
        "timeoutFailureInfo",
        "canceledFailureInfo",
        "terminatedFailureInfo",
        "serverFailureInfo",
        "resetWorkflowFailureInfo",
        "activityFailureInfo",
        "childWorkflowExecutionFailureInfo",
        "nexusOperationExecutionFailureInfo",
        "nexusHandlerFailureInfo",
    ];
    pub const RETRY_POLICY: &[&str] = &[
        "initialInterval",
        "backoffCoefficient",
        "maximumInterval",
        "maximumAttempts",
        "nonRetryableErrorTypes",
    ];
    pub const TASK_QUEUE: &[&str] = &["name", "kind", "normalName"];
}

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

/// Builds one JSON object: keys in `order` (modelled or from `extra`), then any other keys.
fn ordered(order: &[&str], mut modelled: Vec<(&str, Value)>, extra: &Extra) -> Value {
    let mut out = Map::with_capacity(modelled.len() + extra.len());
    for key in order {
        if let Some(pos) = modelled.iter().position(|(k, _)| k == key) {
            let (_, mut v) = modelled.swap_remove(pos);
            if let Some(x) = extra.get(*key) {
                merge(&mut v, x);
            }
            out.insert((*key).to_string(), v);
        } else if let Some(x) = extra.get(*key) {
            out.insert((*key).to_string(), x.clone());
        }
    }
    for (k, mut v) in modelled {
        if let Some(x) = extra.get(k) {
            merge(&mut v, x);
        }
        out.insert(k.to_string(), v);
    }
    for (k, v) in extra.iter() {
        if !out.contains_key(k) {
            out.insert(k.clone(), v.clone());
        }
    }
    Value::Object(out)
}

/// Collects modelled fields, omitting default values as protobuf JSON does.
struct Fields<'a> {
    v: Vec<(&'a str, Value)>,
    shorthand: bool,
}

impl<'a> Fields<'a> {
    fn new(shorthand: bool) -> Self {
        Fields {
            v: Vec::with_capacity(16),
            shorthand,
        }
    }
    fn put(&mut self, k: &'a str, v: Value) {
        self.v.push((k, v));
    }
    fn str(&mut self, k: &'a str, s: &str) {
        if !s.is_empty() {
            self.put(k, Value::String(s.to_string()));
        }
    }
    /// A field the reader requires: written even when empty, so every history we write reads
    /// back (proto3 JSON would omit the default value).
    fn str_req(&mut self, k: &'a str, s: &str) {
        self.put(k, Value::String(s.to_string()));
    }
    /// As `str_req`, for required int64 fields.
    fn i64_req(&mut self, k: &'a str, n: i64) {
        self.put(k, Value::String(n.to_string()));
    }
    fn opt_str(&mut self, k: &'a str, s: &Option<String>) {
        if let Some(s) = s {
            self.put(k, Value::String(s.clone()));
        }
    }
    fn i64(&mut self, k: &'a str, n: i64) {
        if n != 0 {
            self.put(k, Value::String(n.to_string()));
        }
    }
    fn i32(&mut self, k: &'a str, n: i32) {
        if n != 0 {
            self.put(k, Value::from(n));
        }
    }
    fn bool(&mut self, k: &'a str, b: bool) {
        if b {
            self.put(k, Value::Bool(true));
        }
    }
    fn dur(&mut self, k: &'a str, d: Option<Duration>) {
        if let Some(d) = d {
            self.put(k, Value::String(format_duration(d)));
        }
    }
    fn enum_(&mut self, k: &'a str, def: &EnumDef, n: i32) {
        if n != 0 {
            self.put(k, def.long_name(n));
        }
    }
    fn payloads(&mut self, k: &'a str, p: &Option<Payloads>) {
        if let Some(p) = p {
            let v = write_payloads(p, self.shorthand);
            self.put(k, v);
        }
    }
    fn failure(&mut self, k: &'a str, f: &Option<Failure>) {
        if let Some(f) = f {
            let v = write_failure(f, self.shorthand);
            self.put(k, v);
        }
    }
    fn named(&mut self, k: &'a str, name: &str) {
        let mut m = Map::new();
        if !name.is_empty() {
            m.insert("name".to_string(), Value::String(name.to_string()));
        }
        self.put(k, Value::Object(m));
    }
    fn task_queue(&mut self, k: &'a str, tq: &TaskQueue) {
        let mut f = Fields::new(self.shorthand);
        f.str("name", &tq.name);
        f.enum_("kind", &TASK_QUEUE_KIND, tq.kind as i32);
        f.opt_str("normalName", &tq.normal_name);
        let v = ordered(order::TASK_QUEUE, f.v, &tq.extra);
        self.put(k, v);
    }
    fn retry_policy(&mut self, k: &'a str, rp: &Option<RetryPolicy>) {
        let Some(rp) = rp else { return };
        let mut f = Fields::new(self.shorthand);
        f.dur("initialInterval", rp.initial_interval);
        if let Some(c) = rp.backoff_coefficient {
            f.put("backoffCoefficient", double_value(c));
        }
        f.dur("maximumInterval", rp.maximum_interval);
        f.i32("maximumAttempts", rp.maximum_attempts);
        if !rp.non_retryable_error_types.is_empty() {
            f.put(
                "nonRetryableErrorTypes",
                Value::Array(
                    rp.non_retryable_error_types
                        .iter()
                        .map(|s| Value::String(s.clone()))
                        .collect(),
                ),
            );
        }
        let v = ordered(order::RETRY_POLICY, f.v, &rp.extra);
        self.put(k, v);
    }
    fn done(self, order: &[&str], extra: &Extra) -> Value {
        ordered(order, self.v, extra)
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

fn write_failure(fl: &Failure, shorthand: bool) -> Value {
    let mut f = Fields::new(shorthand);
    f.str("message", &fl.message);
    f.str("source", &fl.source);
    f.str("stackTrace", &fl.stack_trace);
    if let Some(c) = &fl.cause {
        f.put("cause", write_failure(c, shorthand));
    }
    let mut i = Fields::new(shorthand);
    let key = match &fl.info {
        FailureInfo::None => None,
        FailureInfo::Application {
            error_type,
            non_retryable,
            details,
        } => {
            i.str("type", error_type);
            i.bool("nonRetryable", *non_retryable);
            i.payloads("details", details);
            Some("applicationFailureInfo")
        }
        FailureInfo::Timeout {
            timeout_type,
            last_heartbeat_details,
        } => {
            i.enum_("timeoutType", &TIMEOUT_TYPE, *timeout_type as i32);
            i.payloads("lastHeartbeatDetails", last_heartbeat_details);
            Some("timeoutFailureInfo")
        }
        FailureInfo::Canceled { details } => {
            i.payloads("details", details);
            Some("canceledFailureInfo")
        }
        FailureInfo::Terminated => Some("terminatedFailureInfo"),
        FailureInfo::Server { non_retryable } => {
            i.bool("nonRetryable", *non_retryable);
            Some("serverFailureInfo")
        }
        FailureInfo::Activity {
            scheduled_event_id,
            started_event_id,
            identity,
            activity_type,
            activity_id,
            retry_state,
        } => {
            i.i64("scheduledEventId", *scheduled_event_id);
            i.i64("startedEventId", *started_event_id);
            i.str("identity", identity);
            i.named("activityType", activity_type);
            i.str("activityId", activity_id);
            i.enum_("retryState", &RETRY_STATE, *retry_state as i32);
            Some("activityFailureInfo")
        }
    };
    if let Some(key) = key {
        f.put(
            key,
            Value::Object(i.v.into_iter().map(|(k, v)| (k.to_string(), v)).collect()),
        );
    }
    f.done(order::FAILURE, &fl.extra)
}

fn write_attributes(a: &EventAttributes, shorthand: bool) -> Value {
    use EventAttributes as A;
    let mut f = Fields::new(shorthand);
    match a {
        A::WorkflowExecutionStarted(a) => {
            f.named("workflowType", &a.workflow_type);
            f.task_queue("taskQueue", &a.task_queue);
            f.payloads("input", &a.input);
            f.dur("workflowExecutionTimeout", a.workflow_execution_timeout);
            f.dur("workflowRunTimeout", a.workflow_run_timeout);
            f.dur("workflowTaskTimeout", a.workflow_task_timeout);
            f.opt_str("continuedExecutionRunId", &a.continued_execution_run_id);
            f.str("originalExecutionRunId", &a.original_execution_run_id);
            f.str("identity", &a.identity);
            f.str("firstExecutionRunId", &a.first_execution_run_id);
            f.retry_policy("retryPolicy", &a.retry_policy);
            f.i32("attempt", a.attempt);
            f.dur("firstWorkflowTaskBackoff", a.first_workflow_task_backoff);
            f.str("workflowId", &a.workflow_id);
            f.done(order::WF_STARTED, &a.extra)
        }
        A::WorkflowExecutionCompleted(a) => {
            f.payloads("result", &a.result);
            f.i64(
                "workflowTaskCompletedEventId",
                a.workflow_task_completed_event_id,
            );
            f.opt_str("newExecutionRunId", &a.new_execution_run_id);
            f.done(order::WF_COMPLETED, &a.extra)
        }
        A::WorkflowExecutionFailed(a) => {
            f.failure("failure", &a.failure);
            f.enum_("retryState", &RETRY_STATE, a.retry_state as i32);
            f.i64(
                "workflowTaskCompletedEventId",
                a.workflow_task_completed_event_id,
            );
            f.opt_str("newExecutionRunId", &a.new_execution_run_id);
            f.done(order::WF_FAILED, &a.extra)
        }
        A::WorkflowExecutionTimedOut(a) => {
            f.enum_("retryState", &RETRY_STATE, a.retry_state as i32);
            f.opt_str("newExecutionRunId", &a.new_execution_run_id);
            f.done(order::WF_TIMED_OUT, &a.extra)
        }
        A::WorkflowTaskScheduled(a) => {
            f.task_queue("taskQueue", &a.task_queue);
            f.dur("startToCloseTimeout", a.start_to_close_timeout);
            f.i32("attempt", a.attempt);
            f.done(order::WFT_SCHEDULED, &a.extra)
        }
        A::WorkflowTaskStarted(a) => {
            f.i64_req("scheduledEventId", a.scheduled_event_id);
            f.str("identity", &a.identity);
            f.str("requestId", &a.request_id);
            f.i64("historySizeBytes", a.history_size_bytes);
            f.done(order::WFT_STARTED, &a.extra)
        }
        A::WorkflowTaskCompleted(a) => {
            f.i64_req("scheduledEventId", a.scheduled_event_id);
            f.i64("startedEventId", a.started_event_id);
            f.str("identity", &a.identity);
            f.done(order::WFT_COMPLETED, &a.extra)
        }
        A::WorkflowTaskTimedOut(a) => {
            f.i64_req("scheduledEventId", a.scheduled_event_id);
            f.i64("startedEventId", a.started_event_id);
            f.enum_("timeoutType", &TIMEOUT_TYPE, a.timeout_type as i32);
            f.done(order::WFT_TIMED_OUT, &a.extra)
        }
        A::WorkflowTaskFailed(a) => {
            f.i64_req("scheduledEventId", a.scheduled_event_id);
            f.i64("startedEventId", a.started_event_id);
            f.enum_("cause", &WFT_FAILED_CAUSE, a.cause.number());
            f.failure("failure", &a.failure);
            f.str("identity", &a.identity);
            f.done(order::WFT_FAILED, &a.extra)
        }
        A::ActivityTaskScheduled(a) => {
            f.str_req("activityId", &a.activity_id);
            f.named("activityType", &a.activity_type);
            f.task_queue("taskQueue", &a.task_queue);
            f.payloads("input", &a.input);
            f.dur("scheduleToCloseTimeout", a.schedule_to_close_timeout);
            f.dur("scheduleToStartTimeout", a.schedule_to_start_timeout);
            f.dur("startToCloseTimeout", a.start_to_close_timeout);
            f.dur("heartbeatTimeout", a.heartbeat_timeout);
            f.i64(
                "workflowTaskCompletedEventId",
                a.workflow_task_completed_event_id,
            );
            f.retry_policy("retryPolicy", &a.retry_policy);
            f.done(order::AT_SCHEDULED, &a.extra)
        }
        A::ActivityTaskStarted(a) => {
            f.i64_req("scheduledEventId", a.scheduled_event_id);
            f.str("identity", &a.identity);
            f.str("requestId", &a.request_id);
            f.i32("attempt", a.attempt);
            f.failure("lastFailure", &a.last_failure);
            f.done(order::AT_STARTED, &a.extra)
        }
        A::ActivityTaskCompleted(a) => {
            f.payloads("result", &a.result);
            f.i64_req("scheduledEventId", a.scheduled_event_id);
            f.i64("startedEventId", a.started_event_id);
            f.str("identity", &a.identity);
            f.done(order::AT_COMPLETED, &a.extra)
        }
        A::ActivityTaskFailed(a) => {
            f.failure("failure", &a.failure);
            f.i64_req("scheduledEventId", a.scheduled_event_id);
            f.i64("startedEventId", a.started_event_id);
            f.str("identity", &a.identity);
            f.enum_("retryState", &RETRY_STATE, a.retry_state as i32);
            f.done(order::AT_FAILED, &a.extra)
        }
        A::ActivityTaskTimedOut(a) => {
            f.failure("failure", &a.failure);
            f.i64_req("scheduledEventId", a.scheduled_event_id);
            f.i64("startedEventId", a.started_event_id);
            f.enum_("retryState", &RETRY_STATE, a.retry_state as i32);
            f.done(order::AT_TIMED_OUT, &a.extra)
        }
        A::ActivityTaskCancelRequested(a) => {
            f.i64_req("scheduledEventId", a.scheduled_event_id);
            f.i64(
                "workflowTaskCompletedEventId",
                a.workflow_task_completed_event_id,
            );
            f.done(order::AT_CANCEL_REQUESTED, &a.extra)
        }
        A::ActivityTaskCanceled(a) => {
            f.payloads("details", &a.details);
            f.i64(
                "latestCancelRequestedEventId",
                a.latest_cancel_requested_event_id,
            );
            f.i64_req("scheduledEventId", a.scheduled_event_id);
            f.i64("startedEventId", a.started_event_id);
            f.str("identity", &a.identity);
            f.done(order::AT_CANCELED, &a.extra)
        }
        A::TimerStarted(a) => {
            f.str_req("timerId", &a.timer_id);
            f.dur("startToFireTimeout", a.start_to_fire_timeout);
            f.i64(
                "workflowTaskCompletedEventId",
                a.workflow_task_completed_event_id,
            );
            f.done(order::TIMER_STARTED, &a.extra)
        }
        A::TimerFired(a) => {
            f.str_req("timerId", &a.timer_id);
            f.i64("startedEventId", a.started_event_id);
            f.done(order::TIMER_FIRED, &a.extra)
        }
        A::TimerCanceled(a) => {
            f.str_req("timerId", &a.timer_id);
            f.i64("startedEventId", a.started_event_id);
            f.i64(
                "workflowTaskCompletedEventId",
                a.workflow_task_completed_event_id,
            );
            f.str("identity", &a.identity);
            f.done(order::TIMER_CANCELED, &a.extra)
        }
        A::WorkflowExecutionCancelRequested(a) => {
            f.str("cause", &a.cause);
            f.str("identity", &a.identity);
            f.done(order::WF_CANCEL_REQUESTED, &a.extra)
        }
        A::WorkflowExecutionCanceled(a) => {
            f.i64(
                "workflowTaskCompletedEventId",
                a.workflow_task_completed_event_id,
            );
            f.payloads("details", &a.details);
            f.done(order::WF_CANCELED, &a.extra)
        }
        A::MarkerRecorded(a) => {
            f.str_req("markerName", &a.marker_name);
            if !a.details.is_empty() {
                let details = a
                    .details
                    .iter()
                    .map(|(k, p)| (k.clone(), write_payloads(p, shorthand)))
                    .collect::<Map<_, _>>();
                f.put("details", Value::Object(details));
            }
            f.i64(
                "workflowTaskCompletedEventId",
                a.workflow_task_completed_event_id,
            );
            f.failure("failure", &a.failure);
            f.done(order::MARKER, &a.extra)
        }
        A::WorkflowExecutionSignaled(a) => {
            f.str_req("signalName", &a.signal_name);
            f.payloads("input", &a.input);
            f.str("identity", &a.identity);
            f.done(order::SIGNALED, &a.extra)
        }
        A::WorkflowExecutionTerminated(a) => {
            f.str("reason", &a.reason);
            f.payloads("details", &a.details);
            f.str("identity", &a.identity);
            f.done(order::TERMINATED, &a.extra)
        }
        A::WorkflowExecutionContinuedAsNew(a) => {
            f.str_req("newExecutionRunId", &a.new_execution_run_id);
            f.named("workflowType", &a.workflow_type);
            f.task_queue("taskQueue", &a.task_queue);
            f.payloads("input", &a.input);
            f.dur("workflowRunTimeout", a.workflow_run_timeout);
            f.dur("workflowTaskTimeout", a.workflow_task_timeout);
            f.i64(
                "workflowTaskCompletedEventId",
                a.workflow_task_completed_event_id,
            );
            f.done(order::WF_CONTINUED, &a.extra)
        }
    }
}

/// One event as protobuf JSON. With `shorthand`, payloads are written as the CLI's text
/// views show them (decoded JSON values).
pub(crate) fn event_value(e: &HistoryEvent, shorthand: bool) -> Value {
    let ty = e.event_type();
    let attrs_key = ty.attributes_key();
    let mut f = Fields::new(shorthand);
    f.put("eventId", Value::String(e.event_id.to_string()));
    f.put("eventTime", Value::String(format_timestamp(e.event_time)));
    f.put("eventType", Value::String(ty.proto_name()));
    f.i64("taskId", e.task_id);
    f.put(&attrs_key, write_attributes(&e.attributes, shorthand));
    ordered(order::EVENT, f.v, &e.extra)
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
    fn doubles_written_like_protojson() {
        assert_eq!(double_value(2.0).to_string(), "2");
        assert_eq!(double_value(1.5).to_string(), "1.5");
        assert_eq!(double_value(f64::NAN), Value::String("NaN".into()));
    }
}
