//! durasim's [`History`] to and from the official SDK's prost `History`
//! (`temporal.api.history.v1.History`), for every event type and every field.
//!
//! The mapping goes through Temporal's JSON export, which `sim::history` reads and writes, and the
//! protos' own descriptors (proto3 JSON through prost-reflect): one schema, Temporal's, decides
//! every field, so nothing is mapped by hand. Fields durasim does not model travel in each
//! struct's `extra` map and come back unchanged; a key Temporal's schema does not have is an
//! error naming it, never dropped.
//!
//! Invariant: pure functions; no I/O, clock or randomness.

use std::fmt;
use std::sync::OnceLock;

use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor, SerializeOptions};
use sim::history::json::{parse_history, to_json};
use sim::history::{History, HistoryError};
use temporalio_common::protos::temporal::api::history::v1::History as ProstHistory;

const DESCRIPTORS: &[u8] = include_bytes!(env!("TEMPORAL_API_DESCRIPTORS"));

/// Why a history could not be converted.
#[derive(Clone, Debug, PartialEq)]
pub enum ProstHistoryError {
    /// The history does not fit Temporal's schema (a field it does not have, a value of the
    /// wrong type); the message is prost-reflect's, naming the field.
    Schema(String),
    /// The prost history, written as Temporal's JSON, is not one durasim reads (an event field
    /// out of range, ...).
    History(HistoryError),
}

impl fmt::Display for ProstHistoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProstHistoryError::Schema(m) => write!(f, "not a Temporal history: {m}"),
            ProstHistoryError::History(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ProstHistoryError {}

/// The `temporal.api.history.v1.History` descriptor, decoded once.
fn history_descriptor() -> Result<MessageDescriptor, ProstHistoryError> {
    static POOL: OnceLock<Result<DescriptorPool, String>> = OnceLock::new();
    let pool = POOL
        .get_or_init(|| DescriptorPool::decode(DESCRIPTORS).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| ProstHistoryError::Schema(format!("the protos' descriptors: {e}")))?;
    pool.get_message_by_name("temporal.api.history.v1.History")
        .ok_or_else(|| ProstHistoryError::Schema("no History message in the protos".to_string()))
}

/// `history` as the official prost type.
pub fn history_to_prost(history: &History) -> Result<ProstHistory, ProstHistoryError> {
    let json = to_json(history);
    let mut de = serde_json::Deserializer::from_str(&json);
    let msg = DynamicMessage::deserialize(history_descriptor()?, &mut de)
        .map_err(|e| ProstHistoryError::Schema(e.to_string()))?;
    msg.transcode_to::<ProstHistory>()
        .map_err(|e| ProstHistoryError::Schema(e.to_string()))
}

/// The official prost history as durasim's.
pub fn history_from_prost(history: &ProstHistory) -> Result<History, ProstHistoryError> {
    let mut msg = DynamicMessage::new(history_descriptor()?);
    msg.transcode_from(history)
        .map_err(|e| ProstHistoryError::Schema(e.to_string()))?;
    let mut json = Vec::new();
    msg.serialize_with_options(
        &mut serde_json::Serializer::new(&mut json),
        &SerializeOptions::new(),
    )
    .map_err(|e| ProstHistoryError::Schema(e.to_string()))?;
    let json = String::from_utf8(json).map_err(|e| ProstHistoryError::Schema(e.to_string()))?;
    parse_history(&json).map_err(ProstHistoryError::History)
}
