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
//! The document is read one event at a time (`read.rs`): each event is parsed into a
//! `serde_json::Value` and converted before the next is read, so reading holds the history
//! being built and one event, never a tree of the whole document (a 200 MB history is read in
//! about its own size; [`read_history`] reads from a reader without holding the text either).
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
//! The code is split along those seams: `mod.rs` (errors and field paths), `enums.rs`,
//! `values.rs` (scalars and payloads from one JSON value), `codec.rs` (the `Codec` trait and
//! its impls), `declare.rs` (the macros), `messages.rs` (the declarations), `read.rs` and
//! `write.rs`.
//!
//! Invariant: pure functions from text (a `&str`, or a reader the caller opened) to values and
//! back; no file is opened, no clock read, no randomness drawn.

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

mod codec;
#[macro_use]
mod declare;
mod enums;
// The declarations, after the macros (a `macro_rules!` is in scope below its definition).
mod messages;
mod read;
mod values;
mod write;

use codec::*;
use declare::*;
use enums::*;
use messages::{attributes, write_attributes};
use values::*;
use write::*;

pub use enums::parse_event_type;
pub use read::{parse_history, read_history};
pub use write::to_json;
pub(crate) use write::{event_value, payload_shorthand, payloads_long};

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

/// serde_json's message without the " at line L column C" it appends: callers name the
/// position once, their way.
pub(crate) fn json_error_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    match text.strip_suffix(&suffix) {
        Some(message) => message.to_string(),
        None => text,
    }
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
