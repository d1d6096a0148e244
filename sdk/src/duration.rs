//! Durations as Packer writes them: Go's syntax (`"1h30m"`, `"5s"`, `"250ms"`).

use serde::{Deserialize, Deserializer};
use std::time::Duration;

/// Parses a Go duration string. As Go's `time.ParseDuration`, which Packer
/// uses, a number needs a unit (`"5"` is an error), except `"0"`.
pub fn parse(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("an empty string is not a duration; write e.g. \"30s\" or \"5m\"".to_string());
    }
    if let Ok(n) = s.parse::<f64>() {
        if n == 0.0 {
            return Ok(Duration::ZERO);
        }
        return Err(format!("\"{s}\" has no unit; write \"{s}s\" for seconds (or ms, m, h)"));
    }
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        if num_len == 0 {
            return Err(format!("\"{s}\" is not a duration; write e.g. \"30s\", \"5m\" or \"1h30m\""));
        }
        let n: f64 = rest[..num_len].parse().map_err(|_| format!("\"{s}\" is not a duration"))?;
        rest = &rest[num_len..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            unit => return Err(format!("\"{s}\" has an unknown unit \"{unit}\"; use ns, us, ms, s, m or h")),
        };
        total += n * scale;
        rest = &rest[unit_len..];
    }
    Ok(Duration::from_secs_f64(total))
}

/// A wait as boot commands write it (`<wait5>`): a bare number is seconds,
/// anything else a Go duration.
pub fn parse_wait(s: &str) -> Result<Duration, String> {
    match s.trim().parse::<f64>() {
        Ok(secs) if secs >= 0.0 && secs.is_finite() => Ok(Duration::from_secs_f64(secs)),
        _ => parse(s),
    }
}

/// `1.5s`, `2m3s`: short and exact enough for error messages.
pub fn human(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 60.0 {
        format!("{secs:.1}s")
    } else {
        let (m, s) = (d.as_secs() / 60, d.as_secs() % 60);
        if s == 0 {
            format!("{m}m")
        } else {
            format!("{m}m{s}s")
        }
    }
}

/// For config structs: `#[serde(deserialize_with = "bake_sdk::duration::deserialize")]`.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let s = String::deserialize(d)?;
    parse(&s).map_err(serde::de::Error::custom)
}

/// For `Option<Duration>` fields.
pub fn deserialize_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let s = Option::<String>::deserialize(d)?;
    s.map(|s| parse(&s).map_err(serde::de::Error::custom)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_durations() {
        assert_eq!(parse("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse("0").unwrap(), Duration::ZERO);
        assert!(parse("10").unwrap_err().contains("has no unit"));
        assert_eq!(parse_wait("10").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_wait("1m30s").unwrap(), Duration::from_secs(90));
        assert!(parse("5 minutes").unwrap_err().contains("unknown unit"));
        assert!(parse("").is_err());
    }
}
