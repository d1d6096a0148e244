//! Date and time functions. Timestamps are RFC 3339 strings parsed the way
//! Go's time package parses them (keeping their UTC offset), and the run's
//! clock is `ctx.now`, so every call in a run sees the same instant.

use super::string::{go_quote, string_arg};
use super::{arity, FuncContext, FuncError, FuncResult};
use crate::value::Value;
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, TimeDelta, Timelike, Utc};

pub const NAMES: &[&str] = &["formatdate", "legacy_isotime", "legacy_strftime", "timeadd", "timestamp"];

/// Go's time.RFC3339 layout.
const RFC3339: &str = "2006-01-02T15:04:05Z07:00";

pub fn call(name: &str, args: &[Value], ctx: &FuncContext) -> FuncResult {
    match name {
        "timestamp" => {
            arity(name, args, 0, Some(0))?;
            Ok(Value::String(go_format_time(&now(ctx), RFC3339)))
        }
        "formatdate" => {
            arity(name, args, 2, Some(2))?;
            let spec = string_arg(args, 0, "format")?;
            let t = parse_rfc3339(&string_arg(args, 1, "time")?).map_err(|e| FuncError::arg(1, e))?;
            format_date(&spec, &t).map(Value::String).map_err(|e| FuncError::arg(0, e))
        }
        "timeadd" => {
            arity(name, args, 2, Some(2))?;
            let t = parse_rfc3339(&string_arg(args, 0, "timestamp")?).map_err(|e| FuncError::arg(0, e))?;
            let nanos = parse_duration(&string_arg(args, 1, "duration")?).map_err(|e| FuncError::arg(1, e))?;
            let later = t.checked_add_signed(TimeDelta::nanoseconds(nanos)).ok_or_else(|| FuncError::arg(1, "the resulting time is out of range"))?;
            Ok(Value::String(go_format_time(&later, RFC3339)))
        }
        "legacy_isotime" => {
            arity(name, args, 0, Some(1))?;
            let layout = optional_format(args)?;
            Ok(Value::String(go_format_time(&now(ctx), layout.as_deref().unwrap_or(RFC3339))))
        }
        "legacy_strftime" => {
            arity(name, args, 0, Some(1))?;
            let t = now(ctx);
            Ok(Value::String(match optional_format(args)? {
                Some(format) => strftime(&format, &t),
                None => go_format_time(&t, RFC3339),
            }))
        }
        _ => Err(FuncError::new(format!("there is no function named \"{name}\""))),
    }
}

fn now(ctx: &FuncContext) -> DateTime<FixedOffset> {
    DateTime::<Utc>::from(ctx.now).fixed_offset()
}

fn optional_format(args: &[Value]) -> Result<Option<String>, FuncError> {
    args.first().map(|_| string_arg(args, 0, "format")).transpose()
}

const MONTHS: [&str; 12] = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const WEEKDAYS: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

fn month_name(t: &DateTime<FixedOffset>) -> &'static str {
    MONTHS[t.month0() as usize]
}

fn weekday_name(t: &DateTime<FixedOffset>) -> &'static str {
    WEEKDAYS[t.weekday().num_days_from_sunday() as usize]
}

// ---------------------------------------------------------------------------
// Parsing RFC 3339 as Go does
// ---------------------------------------------------------------------------

/// A failure as Go's time.ParseError describes it: the layout element being
/// parsed, the input that remained, and an optional message.
struct GoParseError {
    layout: &'static str,
    value: String,
    message: &'static str,
}

impl GoParseError {
    fn bad(layout: &'static str, value: &str) -> Self {
        GoParseError { layout, value: value.to_string(), message: "" }
    }

    fn range(layout: &'static str, value: &str, message: &'static str) -> Self {
        GoParseError { layout, value: value.to_string(), message }
    }

    /// The message cty derives from Go's error, naming timestamp parts
    /// rather than Go's reference values.
    fn describe(&self) -> String {
        const PREFIX: &str = "not a valid RFC3339 timestamp";
        if self.layout.is_empty() && self.value.is_empty() && !self.message.is_empty() {
            return format!("{PREFIX}{}", self.message);
        }
        let what = match self.layout {
            "2006" => "year",
            "01" => "month",
            "02" => "day of month",
            "15" => "hour",
            "04" => "minute",
            "05" => "second",
            "Z07:00" => "UTC offset",
            "T" => return format!("{PREFIX}: missing required time introducer 'T'"),
            ":" | "-" if self.value.is_empty() => return format!("{PREFIX}: end of string where {} is expected", go_quote(self.layout)),
            ":" | "-" => return format!("{PREFIX}: found {} where {} is expected", go_quote(&self.value), go_quote(self.layout)),
            _ => "timestamp segment",
        };
        if self.value.is_empty() {
            format!("{PREFIX}: end of string before {what}")
        } else {
            format!("{PREFIX}: cannot use {} as {what}", go_quote(&self.value))
        }
    }
}

/// Go's getnum: one or two digits (exactly two when `fixed`).
fn get_num(s: &str, fixed: bool) -> Option<(u32, &str)> {
    let b = s.as_bytes();
    let digit = |i: usize| b.get(i).filter(|c| c.is_ascii_digit()).map(|c| (c - b'0') as u32);
    let first = digit(0)?;
    match digit(1) {
        Some(second) => Some((first * 10 + second, &s[2..])),
        None if fixed => None,
        None => Some((first, &s[1..])),
    }
}

fn skip<'a>(value: &'a str, literal: &'static str) -> Result<&'a str, GoParseError> {
    value.strip_prefix(literal).ok_or_else(|| GoParseError::bad(literal, value))
}

/// Parses `2006-01-02T15:04:05Z07:00` with Go's rules: one-digit hours and
/// fractional seconds are accepted, the offset is kept.
pub(crate) fn parse_rfc3339(s: &str) -> Result<DateTime<FixedOffset>, String> {
    parse_go_rfc3339(s).map_err(|e| e.describe())
}

fn parse_go_rfc3339(s: &str) -> Result<DateTime<FixedOffset>, GoParseError> {
    let mut value = s;

    let digits4 = value.as_bytes().get(..4).filter(|b| b.iter().all(u8::is_ascii_digit));
    if value.len() < 4 || !value.as_bytes()[0].is_ascii_digit() {
        return Err(GoParseError::bad("2006", value));
    }
    // Go consumes four characters before finding they are not all digits.
    let year: i32 = match digits4 {
        Some(d) => d.iter().fold(0, |acc, c| acc * 10 + (c - b'0') as i32),
        None => return Err(GoParseError::bad("2006", value.get(4..).unwrap_or(""))),
    };
    value = &value[4..];

    value = skip(value, "-")?;
    let (month, rest) = get_num(value, true).ok_or_else(|| GoParseError::bad("01", value))?;
    value = rest;
    if !(1..=12).contains(&month) {
        return Err(GoParseError::range("01", value, ": month out of range"));
    }

    value = skip(value, "-")?;
    let (day, rest) = get_num(value, true).ok_or_else(|| GoParseError::bad("02", value))?;
    value = rest;

    value = skip(value, "T")?;
    let (hour, rest) = get_num(value, false).ok_or_else(|| GoParseError::bad("15", value))?;
    value = rest;
    if hour >= 24 {
        return Err(GoParseError::range("15", value, ": hour out of range"));
    }

    value = skip(value, ":")?;
    let (minute, rest) = get_num(value, true).ok_or_else(|| GoParseError::bad("04", value))?;
    value = rest;
    if minute >= 60 {
        return Err(GoParseError::range("04", value, ": minute out of range"));
    }

    value = skip(value, ":")?;
    let (second, rest) = get_num(value, true).ok_or_else(|| GoParseError::bad("05", value))?;
    value = rest;
    if second >= 60 {
        return Err(GoParseError::range("05", value, ": second out of range"));
    }

    // Fractional seconds are accepted even though the layout has none.
    let mut nanos = 0u32;
    let b = value.as_bytes();
    if b.len() >= 2 && matches!(b[0], b'.' | b',') && b[1].is_ascii_digit() {
        let n = 1 + b[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        let digits = &value[1..n.min(10)];
        nanos = digits.parse::<u32>().unwrap_or(0) * 10u32.pow(9 - digits.len() as u32);
        value = &value[n..];
    }

    let (offset, rest) = parse_zone(value)?;
    value = rest;
    if !value.is_empty() {
        return Err(GoParseError { layout: "", value: value.to_string(), message: ": extra text" });
    }

    let date = NaiveDate::from_ymd_opt(year, month, day).ok_or_else(|| GoParseError::range("", "", ": day out of range"))?;
    let time = date.and_hms_nano_opt(hour, minute, second, nanos).ok_or_else(|| GoParseError::range("", "", ": time out of range"))?;
    let zone = FixedOffset::east_opt(offset).ok_or_else(|| GoParseError::range("", "", ": time zone offset out of range"))?;
    time.and_local_timezone(zone).single().ok_or_else(|| GoParseError::range("", "", ": time out of range"))
}

/// `Z07:00`: "Z" or ±hh:mm; returns the offset in seconds east of UTC.
fn parse_zone(value: &str) -> Result<(i32, &str), GoParseError> {
    if let Some(rest) = value.strip_prefix('Z') {
        return Ok((0, rest));
    }
    let b = value.as_bytes();
    if b.len() < 6 || b[3] != b':' {
        return Err(GoParseError::bad("Z07:00", value));
    }
    let rest = value.get(6..).unwrap_or("");
    let two_digits = |i: usize| (b[i].is_ascii_digit() && b[i + 1].is_ascii_digit()).then(|| ((b[i] - b'0') * 10 + (b[i + 1] - b'0')) as i32);
    let (Some(hours), Some(minutes)) = (two_digits(1), two_digits(4)) else {
        return Err(GoParseError::bad("Z07:00", rest));
    };
    if hours > 24 {
        return Err(GoParseError::range("Z07:00", rest, ": time zone offset hour out of range"));
    }
    if minutes > 60 {
        return Err(GoParseError::range("Z07:00", rest, ": time zone offset minute out of range"));
    }
    let offset = (hours * 60 + minutes) * 60;
    match b[0] {
        b'+' => Ok((offset, rest)),
        b'-' => Ok((-offset, rest)),
        _ => Err(GoParseError::bad("Z07:00", rest)),
    }
}

/// Go's time.ParseDuration: a sequence of decimal numbers with units
/// (ns, us/µs, ms, s, m, h), optionally signed, e.g. "1h30m" or "-1.5h".
/// Returns nanoseconds.
pub(crate) fn parse_duration(orig: &str) -> Result<i64, String> {
    const LIMIT: u64 = 1 << 63;
    let invalid = || format!("time: invalid duration {}", go_quote(orig));
    let (negative, mut s) = match orig.as_bytes().first() {
        Some(b'-') => (true, &orig[1..]),
        Some(b'+') => (false, &orig[1..]),
        _ => (false, orig),
    };
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut total: u64 = 0;
    while !s.is_empty() {
        if !(s.starts_with('.') || s.as_bytes()[0].is_ascii_digit()) {
            return Err(invalid());
        }
        let int_len = s.bytes().take_while(u8::is_ascii_digit).count();
        let mut whole: u64 = 0;
        for d in s[..int_len].bytes() {
            whole = whole.checked_mul(10).and_then(|w| w.checked_add((d - b'0') as u64)).filter(|w| *w <= LIMIT).ok_or_else(invalid)?;
        }
        s = &s[int_len..];
        let (mut fraction, mut scale, mut frac_len) = (0u64, 1f64, 0usize);
        if let Some(rest) = s.strip_prefix('.') {
            frac_len = rest.bytes().take_while(u8::is_ascii_digit).count();
            for d in rest[..frac_len].bytes() {
                // Digits beyond what fits are dropped, as Go does.
                if fraction <= (LIMIT - 1) / 10 {
                    fraction = fraction * 10 + (d - b'0') as u64;
                    scale *= 10.0;
                }
            }
            s = &rest[frac_len..];
        }
        if int_len == 0 && frac_len == 0 {
            return Err(invalid());
        }
        let unit_len = s.bytes().take_while(|c| *c != b'.' && !c.is_ascii_digit()).count();
        if unit_len == 0 {
            return Err(format!("time: missing unit in duration {}", go_quote(orig)));
        }
        let unit_name = &s[..unit_len];
        s = &s[unit_len..];
        let unit: u64 = match unit_name {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return Err(format!("time: unknown unit {} in duration {}", go_quote(unit_name), go_quote(orig))),
        };
        if whole > LIMIT / unit {
            return Err(invalid());
        }
        let mut v = whole * unit;
        if fraction > 0 {
            v += (fraction as f64 * (unit as f64 / scale)) as u64;
            if v > LIMIT {
                return Err(invalid());
            }
        }
        total = total.checked_add(v).filter(|t| *t <= LIMIT).ok_or_else(invalid)?;
    }
    if negative {
        Ok((total as i128).wrapping_neg() as i64)
    } else if total == LIMIT {
        Err(invalid())
    } else {
        Ok(total as i64)
    }
}

// ---------------------------------------------------------------------------
// formatdate
// ---------------------------------------------------------------------------

/// Splits a formatdate spec into tokens: quoted literals, runs of one
/// repeated letter (the verbs), and runs of other characters.
fn date_tokens(spec: &str) -> Vec<&str> {
    let b = spec.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let end = if b[i] == b'\'' {
            quoted_end(b, i)
        } else if b[i].is_ascii_alphabetic() {
            i + b[i..].iter().take_while(|c| **c == b[i]).count()
        } else {
            i + b[i..].iter().take_while(|c| **c != b'\'' && !c.is_ascii_alphabetic()).count()
        };
        tokens.push(&spec[i..end]);
        i = end;
    }
    tokens
}

/// The end of the quoted literal starting at `start`: after its closing
/// quote (doubled quotes are escapes), or the end of the spec.
fn quoted_end(b: &[u8], start: usize) -> usize {
    if b.get(start + 1) == Some(&b'\'') {
        return start + 2;
    }
    let mut i = start + 1;
    while i < b.len() {
        if b[i] == b'\'' {
            if b.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    b.len()
}

/// cty's formatdate: Terraform's letter mnemonics (YYYY, MM, DD, hh, mm,
/// ss, ZZZZZ and friends) and 'quoted literals'.
fn format_date(spec: &str, t: &DateTime<FixedOffset>) -> Result<String, String> {
    let mut out = String::new();
    for tok in date_tokens(spec) {
        let first = tok.as_bytes()[0];
        if first == b'\'' {
            if tok.len() == 1 || !tok.ends_with('\'') {
                return Err("unterminated literal '".to_string());
            }
            if tok.len() == 2 {
                out.push('\'');
            } else {
                out.push_str(&tok[1..tok.len() - 1].replace("''", "'"));
            }
        } else if first.is_ascii_alphabetic() {
            out.push_str(&date_verb(tok, t)?);
        } else {
            out.push_str(tok);
        }
    }
    Ok(out)
}

fn date_verb(tok: &str, t: &DateTime<FixedOffset>) -> Result<String, String> {
    let bad = |rule: &str| format!("invalid date format verb {}: {rule}", go_quote(tok));
    let num = |n: u32, rule: &str| match tok.len() {
        1 => Ok(n.to_string()),
        2 => Ok(format!("{n:02}")),
        _ => Err(bad(rule)),
    };
    let hour12 = match t.hour() % 12 {
        0 => 12,
        h => h,
    };
    match tok.as_bytes()[0] {
        b'Y' => match tok.len() {
            2 => Ok(format!("{:02}", t.year().rem_euclid(100))),
            4 => Ok(format!("{:04}", t.year())),
            _ => Err(bad("year must either be \"YY\" or \"YYYY\"")),
        },
        b'M' => match tok.len() {
            3 => Ok(month_name(t)[..3].to_string()),
            4 => Ok(month_name(t).to_string()),
            _ => num(t.month(), "month must be \"M\", \"MM\", \"MMM\", or \"MMMM\""),
        },
        b'D' => num(t.day(), "day of month must either be \"D\" or \"DD\""),
        b'E' => match tok.len() {
            3 => Ok(weekday_name(t)[..3].to_string()),
            4 => Ok(weekday_name(t).to_string()),
            _ => Err(bad("day of week must either be \"EEE\" or \"EEEE\"")),
        },
        b'h' => num(t.hour(), "24-hour must either be \"h\" or \"hh\""),
        b'H' => num(hour12, "12-hour must either be \"H\" or \"HH\""),
        c @ (b'A' | b'a') => {
            let letter = c as char;
            if tok.len() != 2 {
                return Err(bad(&format!("must be \"{letter}{letter}\"")));
            }
            let marker = if t.hour() < 12 { "AM" } else { "PM" };
            Ok(if c == b'A' { marker.to_string() } else { marker.to_ascii_lowercase() })
        }
        b'm' => num(t.minute(), "minute must either be \"m\" or \"mm\""),
        b's' => num(t.second(), "second must either be \"s\" or \"ss\""),
        b'Z' => match tok.len() {
            1 => Ok(go_format_time(t, "Z07:00")),
            3 => Ok(match go_format_time(t, "-0700").as_str() {
                "+0000" => "UTC".to_string(),
                other => other.to_string(),
            }),
            4 => Ok(go_format_time(t, "-0700")),
            5 => Ok(go_format_time(t, "-07:00")),
            _ => Err(bad("timezone must be Z, ZZZZ, or ZZZZZ")),
        },
        _ => Err(format!("invalid date format verb {}", go_quote(tok))),
    }
}

// ---------------------------------------------------------------------------
// Go reference-time layouts and strftime
// ---------------------------------------------------------------------------

/// The elements of a Go layout, as time.Format recognizes them.
#[derive(Clone, Copy)]
enum Elem {
    LongMonth,
    Month,
    NumMonth,
    ZeroMonth,
    LongWeekDay,
    WeekDay,
    Day,
    UnderDay,
    ZeroDay,
    UnderYearDay,
    ZeroYearDay,
    Hour,
    Hour12,
    ZeroHour12,
    Minute,
    ZeroMinute,
    Second,
    ZeroSecond,
    LongYear,
    Year,
    Pm {
        upper: bool,
    },
    ZoneName,
    /// A numeric offset; `iso` prints "Z" for UTC.
    Offset {
        iso: bool,
        colon: bool,
        minutes: bool,
        seconds: bool,
    },
    /// Fractional seconds with `digits` digits; `trim` drops trailing zeros.
    Fraction {
        separator: char,
        digits: usize,
        trim: bool,
    },
}

/// Finds the next layout element: (where it starts, the element, where it
/// ends), following Go's nextStdChunk.
fn next_elem(l: &[u8]) -> Option<(usize, Elem, usize)> {
    let at = |i: usize, s: &str| l.get(i..).is_some_and(|r| r.starts_with(s.as_bytes()));
    let lower_at = |i: usize| l.get(i).is_some_and(u8::is_ascii_lowercase);
    for i in 0..l.len() {
        let found = match l[i] {
            b'J' if at(i, "January") => Some((Elem::LongMonth, 7)),
            b'J' if at(i, "Jan") && !lower_at(i + 3) => Some((Elem::Month, 3)),
            b'M' if at(i, "Monday") => Some((Elem::LongWeekDay, 6)),
            b'M' if at(i, "Mon") && !lower_at(i + 3) => Some((Elem::WeekDay, 3)),
            b'M' if at(i, "MST") => Some((Elem::ZoneName, 3)),
            b'0' => match l.get(i + 1) {
                Some(b'1') => Some((Elem::ZeroMonth, 2)),
                Some(b'2') => Some((Elem::ZeroDay, 2)),
                Some(b'3') => Some((Elem::ZeroHour12, 2)),
                Some(b'4') => Some((Elem::ZeroMinute, 2)),
                Some(b'5') => Some((Elem::ZeroSecond, 2)),
                Some(b'6') => Some((Elem::Year, 2)),
                _ if at(i, "002") => Some((Elem::ZeroYearDay, 3)),
                _ => None,
            },
            b'1' if at(i, "15") => Some((Elem::Hour, 2)),
            b'1' => Some((Elem::NumMonth, 1)),
            b'2' if at(i, "2006") => Some((Elem::LongYear, 4)),
            b'2' => Some((Elem::Day, 1)),
            // "_2006" is a literal underscore before a year.
            b'_' if at(i, "_2006") => return Some((i + 1, Elem::LongYear, i + 5)),
            b'_' if at(i, "_2") => Some((Elem::UnderDay, 2)),
            b'_' if at(i, "__2") => Some((Elem::UnderYearDay, 3)),
            b'3' => Some((Elem::Hour12, 1)),
            b'4' => Some((Elem::Minute, 1)),
            b'5' => Some((Elem::Second, 1)),
            b'P' if at(i, "PM") => Some((Elem::Pm { upper: true }, 2)),
            b'p' if at(i, "pm") => Some((Elem::Pm { upper: false }, 2)),
            b'-' | b'Z' => offset_elem(l, i),
            b'.' | b',' => fraction_elem(l, i),
            _ => None,
        };
        if let Some((elem, len)) = found {
            return Some((i, elem, i + len));
        }
    }
    None
}

fn offset_elem(l: &[u8], i: usize) -> Option<(Elem, usize)> {
    let iso = l[i] == b'Z';
    let rest = &l[i + 1..];
    let forms: [(&str, bool, bool, bool); 5] = [
        ("070000", false, true, true),
        ("07:00:00", true, true, true),
        ("0700", false, true, false),
        ("07:00", true, true, false),
        ("07", false, false, false),
    ];
    forms
        .iter()
        .find(|(f, ..)| rest.starts_with(f.as_bytes()))
        .map(|&(f, colon, minutes, seconds)| (Elem::Offset { iso, colon, minutes, seconds }, f.len() + 1))
}

fn fraction_elem(l: &[u8], i: usize) -> Option<(Elem, usize)> {
    let ch = *l.get(i + 1).filter(|c| **c == b'0' || **c == b'9')?;
    let run = l[i + 1..].iter().take_while(|c| **c == ch).count();
    if l.get(i + 1 + run).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    Some((Elem::Fraction { separator: l[i] as char, digits: run, trim: ch == b'9' }, run + 1))
}

/// Go's time.Format with a reference-time layout such as
/// "2006-01-02T15:04:05Z07:00".
fn go_format_time(t: &DateTime<FixedOffset>, layout: &str) -> String {
    let mut out = String::new();
    let mut rest = layout;
    while let Some((start, elem, end)) = next_elem(rest.as_bytes()) {
        out.push_str(&rest[..start]);
        push_elem(&mut out, elem, t);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn push_elem(out: &mut String, elem: Elem, t: &DateTime<FixedOffset>) {
    let hour12 = match t.hour() % 12 {
        0 => 12,
        h => h,
    };
    let text = match elem {
        Elem::LongMonth => month_name(t).to_string(),
        Elem::Month => month_name(t)[..3].to_string(),
        Elem::NumMonth => t.month().to_string(),
        Elem::ZeroMonth => format!("{:02}", t.month()),
        Elem::LongWeekDay => weekday_name(t).to_string(),
        Elem::WeekDay => weekday_name(t)[..3].to_string(),
        Elem::Day => t.day().to_string(),
        Elem::UnderDay => format!("{:>2}", t.day()),
        Elem::ZeroDay => format!("{:02}", t.day()),
        Elem::UnderYearDay => format!("{:>3}", t.ordinal()),
        Elem::ZeroYearDay => format!("{:03}", t.ordinal()),
        Elem::Hour => format!("{:02}", t.hour()),
        Elem::Hour12 => hour12.to_string(),
        Elem::ZeroHour12 => format!("{hour12:02}"),
        Elem::Minute => t.minute().to_string(),
        Elem::ZeroMinute => format!("{:02}", t.minute()),
        Elem::Second => t.second().to_string(),
        Elem::ZeroSecond => format!("{:02}", t.second()),
        Elem::LongYear if t.year() < 0 => format!("-{:04}", -t.year()),
        Elem::LongYear => format!("{:04}", t.year()),
        Elem::Year => format!("{:02}", t.year().rem_euclid(100)),
        Elem::Pm { upper } => {
            let marker = if t.hour() >= 12 { "PM" } else { "AM" };
            if upper {
                marker.to_string()
            } else {
                marker.to_ascii_lowercase()
            }
        }
        Elem::ZoneName => zone_name(t.offset().local_minus_utc()),
        Elem::Offset { iso, colon, minutes, seconds } => format_offset(t.offset().local_minus_utc(), iso, colon, minutes, seconds),
        Elem::Fraction { separator, digits, trim } => format_fraction(t.nanosecond(), separator, digits, trim),
    };
    out.push_str(&text);
}

/// A zone without a name prints as its offset, like "-0700".
fn zone_name(offset: i32) -> String {
    if offset == 0 {
        "UTC".to_string()
    } else {
        format_offset(offset, false, false, true, false)
    }
}

fn format_offset(offset: i32, iso: bool, colon: bool, minutes: bool, seconds: bool) -> String {
    if iso && offset == 0 {
        return "Z".to_string();
    }
    let sign = if offset < 0 { '-' } else { '+' };
    let abs = offset.unsigned_abs();
    let sep = if colon { ":" } else { "" };
    let mut out = format!("{sign}{:02}", abs / 3600);
    if minutes {
        out.push_str(&format!("{sep}{:02}", abs / 60 % 60));
    }
    if seconds {
        out.push_str(&format!("{sep}{:02}", abs % 60));
    }
    out
}

fn format_fraction(nanos: u32, separator: char, digits: usize, trim: bool) -> String {
    if trim && (digits == 0 || nanos == 0) {
        return String::new();
    }
    let all = format!("{nanos:09}");
    let mut frac = all[..digits.min(9)].to_string();
    if trim {
        frac = frac.trim_end_matches('0').to_string();
        if frac.is_empty() {
            return String::new();
        }
    }
    format!("{separator}{frac}")
}

/// jehiah/go-strftime as Packer uses it: each supported `%x` becomes a Go
/// layout element; `%%` is a percent sign; anything else is kept as is.
fn strftime(format: &str, t: &DateTime<FixedOffset>) -> String {
    let mut out = String::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(spec) = chars.next() else {
            out.push('%');
            break;
        };
        let layout = match spec {
            'B' => "January",
            'b' => "Jan",
            'm' => "01",
            'A' => "Monday",
            'a' => "Mon",
            'd' => "02",
            'H' => "15",
            'I' => "03",
            'M' => "04",
            'S' => "05",
            'Y' => "2006",
            'y' => "06",
            'p' => "PM",
            'Z' => "MST",
            'z' => "-0700",
            'L' => ".000",
            '%' => {
                out.push('%');
                continue;
            }
            other => {
                out.push('%');
                out.push(other);
                continue;
            }
        };
        out.push_str(&go_format_time(t, layout));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::string::testutil::{err, ok, s};
    use super::*;

    fn date(spec: &str, ts: &str) -> String {
        match ok("formatdate", vec![s(spec), s(ts)]) {
            Value::String(v) => v,
            other => panic!("formatdate returned {other}"),
        }
    }

    const REF: &str = "2006-01-02T15:04:05Z";

    #[test]
    fn timestamp_is_the_run_clock() {
        assert_eq!(ok("timestamp", vec![]), s("2026-11-22T07:20:32Z"));
    }

    #[test]
    fn formatdate_verbs() {
        assert_eq!(date("", REF), "");
        assert_eq!(date("YYYY-MM-DD", REF), "2006-01-02");
        assert_eq!(date("EEE, MMM D ''YY", REF), "Mon, Jan 2 '06");
        assert_eq!(date("hh:mm:ss", REF), "15:04:05");
        assert_eq!(date("H 'o''clock' AA", REF), "3 o'clock PM");
        assert_eq!(date("H 'o''clock'", REF), "3 o'clock");
        assert_eq!(date("hh:mm:ssZZZZ", REF), "15:04:05+0000");
        assert_eq!(date("hh:mm:ssZZZZZ", REF), "15:04:05+00:00");
        assert_eq!(date("MMMM EEEE aa", REF), "January Monday pm");
        assert_eq!(date("YYYY-MM-DD'T'hh:mm:ssZ", REF), "2006-01-02T15:04:05Z");
        assert_eq!(date("DD MMM YYYY hh:mm ZZZ", REF), "02 Jan 2006 15:04 UTC");
        assert_eq!(date("M/D h:m:s H HH", "2020-03-04T00:05:06Z"), "3/4 0:5:6 12 12");
        assert_eq!(date("h'h'mm ZZZ Z", "2020-03-04T10:30:00+05:30"), "10h30 +0530 +05:30");
        assert_eq!(date("DD.MM.YY ~ hh", "2017-11-22T00:00:00.123-08:00"), "22.11.17 ~ 00");
        assert_eq!(date("h", "2017-01-02T1:00:00Z"), "1"); // Go accepts a one-digit hour
    }

    #[test]
    fn formatdate_errors() {
        let e = |spec: &str, ts: &str| err("formatdate", vec![s(spec), s(ts)]);
        assert_eq!(e("Y", REF), "invalid date format verb \"Y\": year must either be \"YY\" or \"YYYY\"");
        assert_eq!(e("YYYYY", REF), "invalid date format verb \"YYYYY\": year must either be \"YY\" or \"YYYY\"");
        assert_eq!(e("A", REF), "invalid date format verb \"A\": must be \"AA\"");
        assert_eq!(e("a", REF), "invalid date format verb \"a\": must be \"aa\"");
        assert_eq!(e("'blah blah", REF), "unterminated literal '");
        assert_eq!(e("'", REF), "unterminated literal '");
        assert_eq!(e("x", REF), "invalid date format verb \"x\"");
        assert_eq!(e("ZZ", REF), "invalid date format verb \"ZZ\": timezone must be Z, ZZZZ, or ZZZZZ");
    }

    #[test]
    fn rfc3339_parse_errors_match_cty() {
        let cases = [
            ("", "not a valid RFC3339 timestamp: end of string before year"),
            ("2017-01-02", "not a valid RFC3339 timestamp: missing required time introducer 'T'"),
            ("2017-12-02t00:00:00Z", "not a valid RFC3339 timestamp: missing required time introducer 'T'"),
            ("2017:01:02", "not a valid RFC3339 timestamp: found \":01:02\" where \"-\" is expected"),
            ("2017", "not a valid RFC3339 timestamp: end of string where \"-\" is expected"),
            ("2017-01-02T", "not a valid RFC3339 timestamp: end of string before hour"),
            ("2017-01-02T00", "not a valid RFC3339 timestamp: end of string where \":\" is expected"),
            ("2017-01-02T00:00:00", "not a valid RFC3339 timestamp: end of string before UTC offset"),
            ("2017-01-02T26:00:00Z", "not a valid RFC3339 timestamp: cannot use \":00:00Z\" as hour"),
            ("2017-13-02T00:00:00Z", "not a valid RFC3339 timestamp: cannot use \"-02T00:00:00Z\" as month"),
            ("2017-02-31T00:00:00Z", "not a valid RFC3339 timestamp: day out of range"),
            ("\"2017-12-02T00:00:00Z\"", "not a valid RFC3339 timestamp: cannot use \"\\\"2017-12-02T00:00:00Z\\\"\" as year"),
            ("2-12-02T00:00:00Z", "not a valid RFC3339 timestamp: cannot use \"-02T00:00:00Z\" as year"),
            ("2017-01-02T00:00:00Zjunk", "not a valid RFC3339 timestamp: cannot use \"junk\" as timestamp segment"),
        ];
        for (ts, want) in cases {
            assert_eq!(err("formatdate", vec![s(""), s(ts)]), want, "for {ts:?}");
        }
    }

    #[test]
    fn timeadd_durations() {
        let add = |ts: &str, d: &str| ok("timeadd", vec![s(ts), s(d)]);
        assert_eq!(add("2017-11-22T00:00:00Z", "10m"), s("2017-11-22T00:10:00Z"));
        assert_eq!(add("2017-11-22T00:00:00Z", "1h30m"), s("2017-11-22T01:30:00Z"));
        assert_eq!(add("2017-11-22T00:00:00Z", "-1.5h"), s("2017-11-21T22:30:00Z"));
        assert_eq!(add("2017-11-22T00:00:00+01:00", "24h"), s("2017-11-23T00:00:00+01:00"));
        assert_eq!(add("2017-11-22T00:00:00.5Z", "500ms"), s("2017-11-22T00:00:01Z"));
        assert_eq!(add("2017-11-22T00:00:00Z", "0"), s("2017-11-22T00:00:00Z"));
        assert_eq!(add("2017-12-31T23:59:59Z", "1µs1s"), s("2018-01-01T00:00:00Z"));
        assert_eq!(err("timeadd", vec![s("2017-11-22T00:00:00Z"), s("1")]), "time: missing unit in duration \"1\"");
        assert_eq!(err("timeadd", vec![s("2017-11-22T00:00:00Z"), s("1d")]), "time: unknown unit \"d\" in duration \"1d\"");
        assert_eq!(err("timeadd", vec![s("2017-11-22T00:00:00Z"), s("")]), "time: invalid duration \"\"");
        assert_eq!(err("timeadd", vec![s("2017-11-22T00:00:00Z"), s(".h")]), "time: invalid duration \".h\"");
        assert!(err("timeadd", vec![s("yesterday"), s("1h")]).starts_with("not a valid RFC3339 timestamp"));
    }

    #[test]
    fn duration_parsing() {
        assert_eq!(parse_duration("1.5s"), Ok(1_500_000_000));
        assert_eq!(parse_duration("+2m3.25s"), Ok(123_250_000_000));
        assert_eq!(parse_duration("-3ns"), Ok(-3));
        assert_eq!(parse_duration("2562047h47m16.854775807s"), Ok(i64::MAX));
        assert_eq!(parse_duration("-2562047h47m16.854775808s"), Ok(i64::MIN));
        assert!(parse_duration("2562047h47m16.854775808s").is_err());
    }

    #[test]
    fn legacy_isotime_layouts() {
        assert_eq!(ok("legacy_isotime", vec![]), s("2026-11-22T07:20:32Z"));
        assert_eq!(ok("legacy_isotime", vec![s("2006-01-02")]), s("2026-11-22"));
        assert_eq!(ok("legacy_isotime", vec![s("Mon Jan _2 15:04:05 MST 2006")]), s("Sun Nov 22 07:20:32 UTC 2026"));
        assert_eq!(ok("legacy_isotime", vec![s("3:04PM -07:00 .000 .999 002 Z0700")]), s("7:20AM +00:00 .000  326 Z"));
        assert_eq!(ok("legacy_isotime", vec![s("January Monday 06 1/2")]), s("November Sunday 26 11/22"));
        assert_eq!(ok("legacy_isotime", vec![s("Janet")]), s("Janet"));
        assert!(err("legacy_isotime", vec![s("a"), s("b")]).contains("expects 0 to 1 arguments"));
    }

    #[test]
    fn legacy_strftime_formats() {
        assert_eq!(ok("legacy_strftime", vec![]), s("2026-11-22T07:20:32Z"));
        assert_eq!(ok("legacy_strftime", vec![s("%Y-%m-%d %H:%M:%S")]), s("2026-11-22 07:20:32"));
        assert_eq!(ok("legacy_strftime", vec![s("%a %A %b %B %y %I%p %Z %z%L")]), s("Sun Sunday Nov November 26 07AM UTC +0000.000"));
        assert_eq!(ok("legacy_strftime", vec![s("%0%1%%%2 100%")]), s("%0%1%%2 100%"));
        assert_eq!(ok("legacy_strftime", vec![s("aaabbb0123456789%Y")]), s("aaabbb01234567892026"));
    }
}
