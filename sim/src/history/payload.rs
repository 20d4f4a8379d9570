//! Payloads: opaque bytes with metadata, as Temporal carries inputs and results.
//!
//! Invariant: pure data, no I/O.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;

/// The encoding every payload we write uses.
pub const JSON_PLAIN: &str = "json/plain";

/// Payload metadata: names to decoded bytes. Shared, since nearly every payload carries the
/// same `encoding: json/plain` (copy on write: `Arc::make_mut`).
pub type Metadata = Arc<BTreeMap<String, Vec<u8>>>;

/// One payload: metadata (decoded bytes) and data (decoded bytes).
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Payload {
    /// Metadata, by key, with values decoded from base64; `encoding` (`json/plain`, `binary/null`,
    /// ...) says how to read `data`.
    pub metadata: Metadata,
    /// The encoded value, decoded from base64 (for `json/plain`, UTF-8 JSON text).
    pub data: Vec<u8>,
}

thread_local! {
    /// `{encoding: json/plain}`, built once per thread and shared by every payload we encode.
    static JSON_PLAIN_METADATA: Metadata = Arc::new(BTreeMap::from([(
        "encoding".to_string(),
        JSON_PLAIN.as_bytes().to_vec(),
    )]));
}

/// Why a payload could not become the requested value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayloadError(pub String);

impl std::fmt::Display for PayloadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PayloadError {}

impl Payload {
    /// Encodes `value` as `json/plain`.
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<Payload, PayloadError> {
        let data = serde_json::to_vec(value).map_err(|e| PayloadError(format!("encode: {e}")))?;
        Ok(Payload::json_bytes(data))
    }

    /// A `json/plain` payload from already-encoded JSON bytes.
    pub fn json_bytes(data: Vec<u8>) -> Payload {
        let metadata = JSON_PLAIN_METADATA.with(Arc::clone);
        Payload { metadata, data }
    }

    /// The `encoding` metadata as text (`json/plain`); `None` when absent or not UTF-8.
    pub fn encoding(&self) -> Option<&str> {
        self.metadata
            .get("encoding")
            .and_then(|b| std::str::from_utf8(b).ok())
    }

    /// Decodes a `json/plain` (or `binary/null`, as JSON null) payload.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, PayloadError> {
        match self.encoding() {
            Some(JSON_PLAIN) | None => serde_json::from_slice(&self.data)
                .map_err(|e| PayloadError(format!("decode json/plain payload: {e}"))),
            Some("binary/null") => serde_json::from_value(serde_json::Value::Null)
                .map_err(|e| PayloadError(format!("decode binary/null payload: {e}"))),
            Some(other) => Err(PayloadError(format!(
                "unsupported payload encoding {other:?}"
            ))),
        }
    }

    /// Size in bytes as Temporal counts it for limits (data plus metadata).
    pub fn size_bytes(&self) -> usize {
        self.data.len()
            + self
                .metadata
                .iter()
                .map(|(k, v)| k.len() + v.len())
                .sum::<usize>()
    }
}

/// A list of payloads (`{"payloads": [...]}` in Temporal's JSON). Immutable and shared:
/// histories, tasks and store writes hold the same payloads, so a clone is a reference count.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Payloads(pub Arc<[Payload]>);

impl Payloads {
    /// A list of the single payload `p` (the usual shape of an input or a result).
    pub fn one(p: Payload) -> Payloads {
        Payloads(Arc::new([p]))
    }

    /// A list of `payloads`, in order.
    pub fn from_vec(payloads: Vec<Payload>) -> Payloads {
        Payloads(payloads.into())
    }

    /// One `json/plain` payload encoding `value`.
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<Payloads, PayloadError> {
        Payload::json(value).map(Payloads::one)
    }

    /// The first payload, if there is one.
    pub fn first(&self) -> Option<&Payload> {
        self.0.first()
    }

    /// Decodes the first payload (workflow and activity inputs/results carry one).
    pub fn decode_first<T: DeserializeOwned>(&self) -> Result<T, PayloadError> {
        match self.0.first() {
            Some(p) => p.decode(),
            None => serde_json::from_value(serde_json::Value::Null)
                .map_err(|_| PayloadError("no payload".to_string())),
        }
    }

    /// Decodes the arguments of a workflow or activity: one payload is the argument itself;
    /// several (the Python SDK's positional arguments) decode as one JSON array, so a tuple
    /// (or a `Vec`) receives them in order.
    pub fn decode_args<T: DeserializeOwned>(&self) -> Result<T, PayloadError> {
        if self.0.len() <= 1 {
            return self.decode_first();
        }
        let values = self
            .0
            .iter()
            .map(Payload::decode::<serde_json::Value>)
            .collect::<Result<Vec<_>, _>>()?;
        serde_json::from_value(serde_json::Value::Array(values))
            .map_err(|e| PayloadError(format!("decode {} arguments: {e}", self.0.len())))
    }

    /// Total [`Payload::size_bytes`] of all payloads: what the payload size limits count.
    pub fn size_bytes(&self) -> usize {
        self.0.iter().map(Payload::size_bytes).sum()
    }
}
