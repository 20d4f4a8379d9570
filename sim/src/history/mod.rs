//! The event-history model: events, commands, payloads, failures, and the codecs for
//! Temporal's JSON export and `temporal workflow show` text.
//!
//! Invariant: nothing in `history/` reads a clock, does I/O, or draws randomness. Callers pass
//! bytes in and get bytes out.

pub mod command;
pub mod event;
pub mod failure;
pub mod payload;

pub use command::{Command, ContinueAsNewWorkflowExecution, ScheduleActivityTask};
pub use event::*;
pub use failure::{Failure, FailureInfo};
pub use payload::{Payload, PayloadError, Payloads, JSON_PLAIN};
