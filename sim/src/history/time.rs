//! RFC 3339 timestamps and protobuf-JSON durations (`"5s"`, `"0.500s"`), as Temporal's JSON
//! export writes them.
//!
//! Invariant: pure functions on strings; no clock is read here.

use std::time::Duration;

use super::event::Timestamp;

const NANOS_PER_SEC: i64 = 1_000_000_000;
const SECS_PER_DAY: i64 = 86_400;

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number (inverse of [`days_from_civil`]).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    // Both values are small and positive by construction.
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

fn push_civil(out: &mut String, secs: i64) {
    use std::fmt::Write;
    let days = secs.div_euclid(SECS_PER_DAY);
    let sod = secs.rem_euclid(SECS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    );
}

/// RFC 3339 in UTC with the fraction protobuf JSON writes: none, or 3, 6 or 9 digits
/// (`2026-11-25T09:42:09.133825693Z`, `2026-11-25T09:42:09.500Z`).
pub fn format_timestamp(ts: Timestamp) -> String {
    let nanos = ts.as_nanos();
    let secs = nanos.div_euclid(NANOS_PER_SEC);
    let frac = nanos.rem_euclid(NANOS_PER_SEC);
    let mut out = String::with_capacity(30);
    push_civil(&mut out, secs);
    push_fraction(&mut out, frac as u32);
    out.push('Z');
    out
}

/// RFC 3339 in UTC truncated to whole seconds (`2026-11-25T09:42:09Z`), as Go's
/// `time.RFC3339` layout prints it in `temporal workflow show`.
pub fn format_timestamp_seconds(ts: Timestamp) -> String {
    let mut out = String::with_capacity(20);
    push_civil(&mut out, ts.as_nanos().div_euclid(NANOS_PER_SEC));
    out.push('Z');
    out
}

/// Appends `.ddd`, `.dddddd` or `.ddddddddd` (nothing for zero), like protobuf JSON.
fn push_fraction(out: &mut String, nanos: u32) {
    use std::fmt::Write;
    let (millis, sub_milli) = (nanos / 1_000_000, nanos % 1_000_000);
    let (micros, sub_micro) = (nanos / 1_000, nanos % 1_000);
    if nanos == 0 {
    } else if sub_milli == 0 {
        let _ = write!(out, ".{millis:03}");
    } else if sub_micro == 0 {
        let _ = write!(out, ".{micros:06}");
    } else {
        let _ = write!(out, ".{nanos:09}");
    }
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn digits(&mut self, n: usize) -> Result<u32, String> {
        let mut v = 0u32;
        for _ in 0..n {
            match self.b.get(self.i) {
                Some(c @ b'0'..=b'9') => v = v * 10 + u32::from(c - b'0'),
                _ => return Err(format!("expected a digit at byte {}", self.i)),
            }
            self.i += 1;
        }
        Ok(v)
    }

    fn byte(&mut self, want: &[u8]) -> Result<u8, String> {
        match self.b.get(self.i) {
            Some(c) if want.contains(c) => {
                self.i += 1;
                Ok(*c)
            }
            _ => Err(format!(
                "expected {:?} at byte {}",
                String::from_utf8_lossy(want),
                self.i
            )),
        }
    }
}

/// Parses RFC 3339 (`2026-11-25T09:42:09.133825693Z`, up to 9 fractional digits, `Z` or a
/// `+hh:mm` / `-hh:mm` offset). Errors for anything else, or outside the range of
/// [`Timestamp`] (years 1677 to 2262).
pub fn parse_timestamp(s: &str) -> Result<Timestamp, String> {
    let mut c = Cursor {
        b: s.as_bytes(),
        i: 0,
    };
    let year = c.digits(4)?;
    c.byte(b"-")?;
    let month = c.digits(2)?;
    c.byte(b"-")?;
    let day = c.digits(2)?;
    c.byte(b"Tt ")?;
    let hour = c.digits(2)?;
    c.byte(b":")?;
    let minute = c.digits(2)?;
    c.byte(b":")?;
    let second = c.digits(2)?;
    let mut nanos = 0u32;
    if c.b.get(c.i) == Some(&b'.') {
        c.i += 1;
        let start = c.i;
        while let Some(d @ b'0'..=b'9') = c.b.get(c.i) {
            if c.i - start >= 9 {
                return Err("more than 9 fractional digits".to_string());
            }
            nanos = nanos * 10 + u32::from(d - b'0');
            c.i += 1;
        }
        let n = c.i - start;
        if n == 0 {
            return Err("expected fractional digits after '.'".to_string());
        }
        nanos *= 10u32.pow(9 - n as u32);
    }
    let offset_secs: i64 = match c.byte(b"Zz+-")? {
        b'Z' | b'z' => 0,
        sign => {
            let oh = c.digits(2)?;
            c.byte(b":")?;
            let om = c.digits(2)?;
            if oh > 23 || om > 59 {
                return Err("offset out of range".to_string());
            }
            let off = i64::from(oh * 3600 + om * 60);
            if sign == b'-' {
                -off
            } else {
                off
            }
        }
    };
    if c.i != c.b.len() {
        return Err(format!("unexpected trailing text at byte {}", c.i));
    }
    let year = i64::from(year);
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return Err("date out of range".to_string());
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Err("time of day out of range".to_string());
    }
    let secs = days_from_civil(year, month, day) * SECS_PER_DAY
        + i64::from(hour * 3600 + minute * 60 + second)
        - offset_secs;
    let total = i128::from(secs) * i128::from(NANOS_PER_SEC) + i128::from(nanos);
    i64::try_from(total)
        .map(Timestamp)
        .map_err(|_| "outside the representable range (years 1677 to 2262)".to_string())
}

/// Parses a protobuf JSON duration: decimal seconds with up to 9 fractional digits and an `s`
/// suffix (`"5s"`, `"0.5s"`, `"2592000s"`, `"1.000000001s"`). Negative durations are errors.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let body = s
        .strip_suffix('s')
        .ok_or_else(|| "expected seconds with an 's' suffix".to_string())?;
    if body.starts_with('-') {
        return Err("negative durations are not supported".to_string());
    }
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
        return Err("expected decimal seconds".to_string());
    }
    let secs: u64 = int
        .parse()
        .map_err(|_| "seconds out of range".to_string())?;
    let mut nanos = 0u32;
    if let Some(f) = frac {
        if f.is_empty() || f.len() > 9 || !f.bytes().all(|b| b.is_ascii_digit()) {
            return Err("expected 1 to 9 fractional digits".to_string());
        }
        for b in f.bytes() {
            nanos = nanos * 10 + u32::from(b - b'0');
        }
        nanos *= 10u32.pow(9 - f.len() as u32);
    }
    Ok(Duration::new(secs, nanos))
}

/// Formats a duration as protobuf JSON does: `"5s"`, `"0.500s"`, `"1.000000001s"`.
pub fn format_duration(d: Duration) -> String {
    let mut out = d.as_secs().to_string();
    push_fraction(&mut out, d.subsec_nanos());
    out.push('s');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip() {
        for s in [
            "2026-11-25T09:42:09.133825693Z",
            "2026-11-25T09:42:09.500Z",
            "2026-11-25T09:42:09.000001Z",
            "1970-01-01T00:00:00Z",
            "1969-12-31T23:59:59.999999999Z",
            "2000-02-29T12:00:00Z",
            "1677-09-21T00:12:43.145224192Z",
            "2262-04-11T23:47:16.854775807Z",
        ] {
            let ts = parse_timestamp(s).unwrap();
            assert_eq!(format_timestamp(ts), s);
        }
        assert_eq!(
            parse_timestamp("2026-11-25T09:42:09.1337Z").unwrap().0 % 1_000_000_000,
            133_700_000
        );
    }

    #[test]
    fn timestamps_with_offsets_and_seconds_view() {
        let a = parse_timestamp("2026-11-25T10:42:09.5+01:00").unwrap();
        let b = parse_timestamp("2026-11-25T09:42:09.500Z").unwrap();
        assert_eq!(a, b);
        assert_eq!(parse_timestamp("2026-11-25T04:12:09.5-05:30").unwrap(), b);
        assert_eq!(format_timestamp_seconds(b), "2026-11-25T09:42:09Z");
        assert_eq!(
            format_timestamp_seconds(Timestamp(-1)),
            "1969-12-31T23:59:59Z"
        );
        assert_eq!(format_timestamp(Timestamp(0)), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn bad_timestamps() {
        for s in [
            "",
            "2026-11-25",
            "2026-11-25T09:42:09",
            "2026-13-25T09:42:09Z",
            "2026-02-29T09:42:09Z",
            "2026-11-25T24:00:00Z",
            "2026-11-25T09:42:60Z",
            "2026-11-25T09:42:09.Z",
            "2026-11-25T09:42:09.1234567890Z",
            "2026-11-25T09:42:09Zx",
            "2026-11-25T09:42:09+1:00",
            "9999-12-31T23:59:59Z",
            "0001-01-01T00:00:00Z",
            "２026-11-25T09:42:09Z",
        ] {
            assert!(parse_timestamp(s).is_err(), "{s:?} should be rejected");
        }
    }

    #[test]
    fn durations() {
        let cases = [
            ("5s", Duration::from_secs(5), "5s"),
            ("0.5s", Duration::from_millis(500), "0.500s"),
            ("0s", Duration::ZERO, "0s"),
            ("2592000s", Duration::from_secs(2_592_000), "2592000s"),
            ("1.000000001s", Duration::new(1, 1), "1.000000001s"),
            ("1.000001s", Duration::new(1, 1000), "1.000001s"),
        ];
        for (input, d, out) in cases {
            assert_eq!(parse_duration(input).unwrap(), d, "{input}");
            assert_eq!(format_duration(d), out);
            assert_eq!(parse_duration(out).unwrap(), d);
        }
        for bad in [
            "",
            "s",
            "5",
            "5x",
            "-1s",
            "1.s",
            ".5s",
            "1.0000000001s",
            "1e3s",
            "+5s",
            "99999999999999999999999s",
            " 5s",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should be rejected");
        }
    }
}
