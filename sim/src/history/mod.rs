//! The event-history model: events, commands, payloads, failures, and the codecs for
//! Temporal's JSON export and `temporal workflow show` text.
//!
//! Invariant: nothing in `history/` reads a clock, does I/O, or draws randomness. Callers pass
//! bytes in and get bytes out.

pub mod attributes;
mod check;
pub mod command;
pub mod event;
pub mod exec;
pub mod failure;
pub mod json;
mod lifecycle;
pub mod payload;
pub mod protocol;
pub mod render;
mod shared;
pub mod time;

pub use attributes::*;
pub use command::{
    Command, ContinueAsNewWorkflowExecution, RequestCancelExternalWorkflowExecution,
    ScheduleActivityTask, SignalExternalWorkflowExecution, StartChildWorkflowExecution,
};
pub use event::*;
pub use exec::ExecKey;
pub use failure::{Failure, FailureInfo};
pub use json::{parse_history, read_history, to_json, HistoryError};
pub use payload::{Payload, PayloadError, Payloads, JSON_PLAIN};
pub use protocol::{MessageBody, ProtocolMessage};
pub use render::{show, show_pieces};
pub use time::{format_duration, format_timestamp, parse_duration, parse_timestamp};
