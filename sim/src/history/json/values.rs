//! Reading one JSON value of the history into a scalar (int64 as a string, durations,
//! timestamps, base64 bytes) or a payload, naming the field path of anything wrong.

use super::*;

// ---------------------------------------------------------------------------------------------
// Reading scalars
// ---------------------------------------------------------------------------------------------

pub(super) fn obj<'v>(v: &'v Value, p: &Path) -> Res<&'v Map<String, Value>> {
    match v {
        Value::Object(m) => Ok(m),
        other => p.err(format!("expected an object, found {}", describe(other))),
    }
}

pub(super) fn string(v: &Value, p: &Path) -> Res<String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        other => p.err(format!("expected a string, found {}", describe(other))),
    }
}

pub(super) fn boolean(v: &Value, p: &Path) -> Res<bool> {
    match v {
        Value::Bool(b) => Ok(*b),
        other => p.err(format!("expected a boolean, found {}", describe(other))),
    }
}

/// An integral JSON number within `[min, max]`.
pub(super) fn integral(n: &Number, min: i64, max: i64) -> Option<i64> {
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
pub(super) fn int64(v: &Value, p: &Path) -> Res<i64> {
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

pub(super) fn int32(v: &Value, p: &Path) -> Res<i32> {
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

pub(super) fn double(v: &Value, p: &Path) -> Res<f64> {
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

pub(super) fn duration(v: &Value, p: &Path) -> Res<Duration> {
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

pub(super) fn timestamp(v: &Value, p: &Path) -> Res<Timestamp> {
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
pub(super) fn bytes(v: &Value, p: &Path) -> Res<Vec<u8>> {
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

pub(super) fn strings(v: &Value, p: &Path) -> Res<Vec<String>> {
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
pub(super) fn require(m: &Map<String, Value>, p: &Path, required: &[&str]) -> Res<()> {
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

pub(super) fn payload(v: &Value, p: &Path) -> Res<Payload> {
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

pub(super) fn payloads(v: &Value, p: &Path) -> Res<Payloads> {
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
pub(super) fn marker_details(v: &Value, p: &Path) -> Res<MarkerDetails> {
    let mut out = MarkerDetails::new();
    for (k, v) in obj(v, p)? {
        if !v.is_null() {
            out.insert(k.clone(), payloads(v, &p.key(k))?);
        }
    }
    Ok(out)
}
