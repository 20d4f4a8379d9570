//! Search attributes and memo as workflow code and clients write them: typed search attribute
//! values encoded as Temporal's SDKs encode them (a `json/plain` payload with the attribute's
//! type in its `type` metadata), memo fields as JSON with `null` meaning "remove this key"
//! (encoded `binary/null`, as the Python SDK does). [`WorkflowContext::upsert_search_attributes`]
//! and [`WorkflowContext::upsert_memo`] send them as the commands UpsertWorkflowSearchAttributes
//! and ModifyWorkflowProperties; [`search_attributes`] and [`memo`] build a start's.
//!
//! [`WorkflowContext::upsert_search_attributes`]: super::WorkflowContext::upsert_search_attributes
//! [`WorkflowContext::upsert_memo`]: super::WorkflowContext::upsert_memo

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::history::{Extra, Memo, Payload, SearchAttributes, Timestamp};

/// A search attribute's value, typed as Temporal indexes it.
#[derive(Clone, Debug, PartialEq)]
pub enum SearchAttributeValue {
    /// An exact-match string (`Keyword`).
    Keyword(String),
    /// Full-text searchable string (`Text`).
    Text(String),
    /// A 64-bit integer (`Int`).
    Int(i64),
    /// A floating-point number (`Double`).
    Double(f64),
    /// A boolean (`Bool`).
    Bool(bool),
    /// A point in time (`Datetime`, RFC 3339).
    Datetime(Timestamp),
    /// A list of exact-match strings (`KeywordList`).
    KeywordList(Vec<String>),
    /// No value: the upsert removes the attribute from the run (what the SDKs send to unset
    /// one, an empty list).
    Unset,
}

impl SearchAttributeValue {
    /// Temporal's name of the value's type (the payload's `type` metadata).
    pub fn type_name(&self) -> Option<&'static str> {
        Some(match self {
            SearchAttributeValue::Keyword(_) => "Keyword",
            SearchAttributeValue::Text(_) => "Text",
            SearchAttributeValue::Int(_) => "Int",
            SearchAttributeValue::Double(_) => "Double",
            SearchAttributeValue::Bool(_) => "Bool",
            SearchAttributeValue::Datetime(_) => "Datetime",
            SearchAttributeValue::KeywordList(_) => "KeywordList",
            SearchAttributeValue::Unset => return None,
        })
    }

    /// The payload the SDKs send for this value.
    pub fn to_payload(&self) -> Payload {
        let data = match self {
            SearchAttributeValue::Keyword(s) | SearchAttributeValue::Text(s) => {
                serde_json::Value::from(s.as_str())
            }
            SearchAttributeValue::Int(i) => serde_json::Value::from(*i),
            SearchAttributeValue::Double(d) => serde_json::Value::from(*d),
            SearchAttributeValue::Bool(b) => serde_json::Value::from(*b),
            SearchAttributeValue::Datetime(t) => {
                serde_json::Value::from(crate::history::format_timestamp(*t))
            }
            SearchAttributeValue::KeywordList(l) => serde_json::Value::from(l.clone()),
            SearchAttributeValue::Unset => serde_json::Value::Array(Vec::new()),
        };
        let mut metadata = BTreeMap::new();
        metadata.insert(
            "encoding".to_string(),
            crate::history::JSON_PLAIN.as_bytes().to_vec(),
        );
        if let Some(t) = self.type_name() {
            metadata.insert("type".to_string(), t.as_bytes().to_vec());
        }
        Payload {
            metadata: Arc::new(metadata),
            data: data.to_string().into_bytes(),
        }
    }
}

/// Search attributes from `(name, value)` pairs (a start's, or an upsert's).
pub fn search_attributes<K: Into<String>>(
    attrs: impl IntoIterator<Item = (K, SearchAttributeValue)>,
) -> SearchAttributes {
    SearchAttributes {
        indexed_fields: attrs
            .into_iter()
            .map(|(k, v)| (k.into(), v.to_payload()))
            .collect(),
        extra: Extra::new(),
    }
}

/// A memo from `(key, JSON value)` pairs; `null` removes the key when upserted.
pub fn memo<K: Into<String>>(fields: impl IntoIterator<Item = (K, serde_json::Value)>) -> Memo {
    Memo {
        fields: fields
            .into_iter()
            .map(|(k, v)| (k.into(), memo_payload(&v)))
            .collect(),
        extra: Extra::new(),
    }
}

/// A memo value: JSON, or `binary/null` for `null`.
fn memo_payload(v: &serde_json::Value) -> Payload {
    if v.is_null() {
        let mut metadata = BTreeMap::new();
        metadata.insert("encoding".to_string(), b"binary/null".to_vec());
        return Payload {
            metadata: Arc::new(metadata),
            data: Vec::new(),
        };
    }
    Payload::json_bytes(v.to_string().into_bytes())
}
