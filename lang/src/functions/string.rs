//! String functions with cty's semantics: case, trimming, splitting, regular
//! expressions and Go-style `format`/`formatlist`.
//!
//! This file also holds the small conversion helpers the other function
//! files share (argument conversion the way cty converts primitives, Go-style
//! quoting, grapheme clusters), so their error messages read the same
//! everywhere.

use super::encoding::{json_encode, json_quote};
use super::numeric::{go_format_float, go_format_int, go_shortest, NumSpec};
use super::{arity, check_size, FuncContext, FuncError, FuncResult};
use crate::number::Number;
use crate::types::string_to_number;
use crate::value::Value;
use regex::Regex;
use std::fmt::Display;

pub const NAMES: &[&str] = &[
    "chomp",
    "endswith",
    "format",
    "formatlist",
    "indent",
    "join",
    "lower",
    "regex",
    "regex_replace",
    "regexall",
    "replace",
    "split",
    "startswith",
    "strcontains",
    "strrev",
    "substr",
    "title",
    "trim",
    "trimprefix",
    "trimspace",
    "trimsuffix",
    "upper",
];

pub fn call(name: &str, args: &[Value], _ctx: &FuncContext) -> FuncResult {
    match name {
        "chomp" => unary(name, args, "str", |s| s.trim_end_matches(['\r', '\n']).to_string()),
        "lower" => unary(name, args, "str", |s| s.chars().map(simple_lower).collect()),
        "upper" => unary(name, args, "str", |s| s.chars().map(simple_upper).collect()),
        "title" => unary(name, args, "str", |s| title(&s)),
        "strrev" => unary(name, args, "str", |s| graphemes(&s).into_iter().rev().collect()),
        "trimspace" => unary(name, args, "str", |s| s.trim().to_string()),
        "trim" => binary(name, args, ["str", "cutset"], |s, cut| s.trim_matches(|c| cut.contains(c)).to_string()),
        "trimprefix" => binary(name, args, ["str", "prefix"], |s, p| s.strip_prefix(p.as_str()).unwrap_or(&s).to_string()),
        "trimsuffix" => binary(name, args, ["str", "suffix"], |s, p| s.strip_suffix(p.as_str()).unwrap_or(&s).to_string()),
        "startswith" => predicate(name, args, ["str", "prefix"], |s, p| s.starts_with(p)),
        "endswith" => predicate(name, args, ["str", "suffix"], |s, p| s.ends_with(p)),
        "strcontains" => predicate(name, args, ["str", "substr"], |s, p| s.contains(p)),
        "split" => split(name, args),
        "join" => join(name, args),
        "indent" => indent(name, args),
        "substr" => substr(name, args),
        "replace" => replace(name, args),
        "regex_replace" => regex_replace(name, args),
        "regex" => regex(name, args),
        "regexall" => regexall(name, args),
        "format" => format(name, args),
        "formatlist" => formatlist(name, args),
        _ => Err(FuncError::new(format!("there is no function named \"{name}\""))),
    }
}

// ---------------------------------------------------------------------------
// Shared argument helpers
// ---------------------------------------------------------------------------

/// The error HCL reports for an argument that cannot be used, blaming it.
pub(crate) fn invalid_arg(index: usize, param: &str, msg: impl Display) -> FuncError {
    FuncError::arg(index, format!("invalid value for \"{param}\" parameter: {msg}"))
}

/// Converts a value to a string the way cty converts primitives: numbers in
/// their shortest exact form, bools as `true`/`false`.
pub(crate) fn to_string(v: &Value) -> Result<String, &'static str> {
    match v {
        Value::Null => Err("argument must not be null"),
        Value::List(_) | Value::Object(_) => Err("string required"),
        _ => v.to_string_lossless().ok_or("string required"),
    }
}

/// Converts a value to a number the way cty does: strings must hold a
/// decimal number.
pub(crate) fn to_number(v: &Value) -> Result<Number, &'static str> {
    match v {
        Value::Number(n) => Ok(n.clone()),
        Value::String(s) => string_to_number(s),
        Value::Null => Err("argument must not be null"),
        _ => Err("number required"),
    }
}

/// Converts a value to a bool the way cty does.
pub(crate) fn to_bool(v: &Value) -> Result<bool, &'static str> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::String(s) => match s.as_str() {
            "true" | "1" => Ok(true),
            "false" | "0" => Ok(false),
            _ => Err("a bool is required"),
        },
        Value::Null => Err("argument must not be null"),
        _ => Err("bool required"),
    }
}

pub(crate) fn string_arg(args: &[Value], index: usize, param: &str) -> Result<String, FuncError> {
    to_string(&args[index]).map_err(|msg| invalid_arg(index, param, msg))
}

pub(crate) fn number_arg(args: &[Value], index: usize, param: &str) -> Result<Number, FuncError> {
    to_number(&args[index]).map_err(|msg| invalid_arg(index, param, msg))
}

/// A number argument that must be a whole number fitting Go's `int`, which
/// is how cty functions receive counts and offsets.
pub(crate) fn int_arg(args: &[Value], index: usize, param: &str) -> Result<i64, FuncError> {
    number_arg(args, index, param)?
        .to_i64()
        .ok_or_else(|| invalid_arg(index, param, "value must be a whole number, between -9223372036854775808 and 9223372036854775807"))
}

/// Quotes a string the way Go's `%q` does, for error messages that name a
/// user's input.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        push_go_escaped(&mut out, c, '"');
    }
    out.push('"');
    out
}

/// Quotes a single character the way Go's `%q` quotes a rune.
pub(crate) fn go_quote_rune(c: char) -> String {
    let mut out = String::from("'");
    push_go_escaped(&mut out, c, '\'');
    out.push('\'');
    out
}

fn push_go_escaped(out: &mut String, c: char, quote: char) {
    match c {
        '\\' => out.push_str("\\\\"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{7}' => out.push_str("\\a"),
        '\u{8}' => out.push_str("\\b"),
        '\u{b}' => out.push_str("\\v"),
        '\u{c}' => out.push_str("\\f"),
        c if c == quote => {
            out.push('\\');
            out.push(c);
        }
        c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\x{:02x}", c as u32)),
        c => out.push(c),
    }
}

fn unary(name: &str, args: &[Value], param: &str, f: impl Fn(String) -> String) -> FuncResult {
    arity(name, args, 1, Some(1))?;
    Ok(Value::String(f(string_arg(args, 0, param)?)))
}

fn binary(name: &str, args: &[Value], params: [&str; 2], f: impl Fn(String, String) -> String) -> FuncResult {
    arity(name, args, 2, Some(2))?;
    Ok(Value::String(f(string_arg(args, 0, params[0])?, string_arg(args, 1, params[1])?)))
}

fn predicate(name: &str, args: &[Value], params: [&str; 2], f: impl Fn(&str, &str) -> bool) -> FuncResult {
    arity(name, args, 2, Some(2))?;
    let (a, b) = (string_arg(args, 0, params[0])?, string_arg(args, 1, params[1])?);
    Ok(Value::Bool(f(&a, &b)))
}

// ---------------------------------------------------------------------------
// Grapheme clusters
// ---------------------------------------------------------------------------

/// Splits a string into user-perceived characters. cty counts and slices
/// strings by extended grapheme clusters; without the Unicode tables we
/// approximate them: CR LF, a base character followed by combining marks,
/// variation selectors, emoji modifiers and ZWJ sequences, regional
/// indicator pairs and Hangul syllable sequences each form one cluster.
pub(crate) fn graphemes(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        let n = cluster_len(rest);
        out.push(&rest[..n]);
        rest = &rest[n..];
    }
    out
}

/// The length in bytes of the cluster `s` starts with; `s` is not empty.
fn cluster_len(s: &str) -> usize {
    let mut chars = s.char_indices().peekable();
    let Some((_, first)) = chars.next() else { return 0 };
    if first == '\r' {
        return if s[1..].starts_with('\n') { 2 } else { 1 };
    }
    if is_control(first) {
        return first.len_utf8();
    }
    let mut end = first.len_utf8();
    let mut prev = first;
    if is_regional_indicator(first) {
        if let Some(&(i, c)) = chars.peek() {
            if is_regional_indicator(c) {
                chars.next();
                end = i + c.len_utf8();
                prev = c;
            }
        }
    } else if let Some(mut jamo) = hangul_kind(first) {
        while let Some(&(i, c)) = chars.peek() {
            match hangul_kind(c) {
                Some(next) if jamo.continues_with(next) => {
                    chars.next();
                    end = i + c.len_utf8();
                    prev = c;
                    jamo = next;
                }
                _ => break,
            }
        }
    }
    let pictographic = is_pictographic(first);
    while let Some(&(i, c)) = chars.peek() {
        let joins = is_extend(c) || (prev == '\u{200d}' && pictographic && is_pictographic(c));
        if !joins {
            break;
        }
        chars.next();
        end = i + c.len_utf8();
        prev = c;
    }
    end
}

fn in_ranges(c: char, ranges: &[(u32, u32)]) -> bool {
    let c = c as u32;
    ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&c))
}

fn is_control(c: char) -> bool {
    c.is_control() || c == '\u{2028}' || c == '\u{2029}'
}

fn is_regional_indicator(c: char) -> bool {
    ('\u{1f1e6}'..='\u{1f1ff}').contains(&c)
}

/// Combining marks, spacing marks of the common scripts, joiners, variation
/// selectors, emoji modifiers and tags: the characters that extend a cluster.
fn is_extend(c: char) -> bool {
    const EXTEND: &[(u32, u32)] = &[
        (0x0300, 0x036f),
        (0x0483, 0x0489),
        (0x0591, 0x05bd),
        (0x05bf, 0x05bf),
        (0x05c1, 0x05c2),
        (0x05c4, 0x05c5),
        (0x05c7, 0x05c7),
        (0x0610, 0x061a),
        (0x064b, 0x065f),
        (0x0670, 0x0670),
        (0x06d6, 0x06dc),
        (0x06df, 0x06e4),
        (0x06e7, 0x06e8),
        (0x06ea, 0x06ed),
        (0x0711, 0x0711),
        (0x0730, 0x074a),
        (0x0900, 0x0903),
        (0x093a, 0x093c),
        (0x093e, 0x094f),
        (0x0951, 0x0957),
        (0x0962, 0x0963),
        (0x0981, 0x0983),
        (0x09bc, 0x09bc),
        (0x09be, 0x09cd),
        (0x09d7, 0x09d7),
        (0x0a01, 0x0a03),
        (0x0a3c, 0x0a51),
        (0x0a70, 0x0a71),
        (0x0a81, 0x0a83),
        (0x0abc, 0x0abc),
        (0x0abe, 0x0acd),
        (0x0b01, 0x0b03),
        (0x0b3c, 0x0b3c),
        (0x0b3e, 0x0b57),
        (0x0bbe, 0x0bcd),
        (0x0c00, 0x0c04),
        (0x0c3e, 0x0c56),
        (0x0cbc, 0x0cbc),
        (0x0cbe, 0x0cd6),
        (0x0d00, 0x0d03),
        (0x0d3e, 0x0d4d),
        (0x0d57, 0x0d57),
        (0x0e31, 0x0e31),
        (0x0e34, 0x0e3a),
        (0x0e47, 0x0e4e),
        (0x0eb1, 0x0eb1),
        (0x0eb4, 0x0ebc),
        (0x0ec8, 0x0ecd),
        (0x0f71, 0x0f84),
        (0x102b, 0x103e),
        (0x1ab0, 0x1aff),
        (0x1dc0, 0x1dff),
        (0x200c, 0x200d),
        (0x20d0, 0x20ff),
        (0x302a, 0x302f),
        (0x3099, 0x309a),
        (0xfe00, 0xfe0f),
        (0xfe20, 0xfe2f),
        (0x1f3fb, 0x1f3ff),
        (0xe0020, 0xe007f),
        (0xe0100, 0xe01ef),
    ];
    in_ranges(c, EXTEND)
}

/// Emoji and pictographs that ZWJ sequences join.
fn is_pictographic(c: char) -> bool {
    const PICTOGRAPHIC: &[(u32, u32)] = &[
        (0x00a9, 0x00a9),
        (0x00ae, 0x00ae),
        (0x203c, 0x203c),
        (0x2049, 0x2049),
        (0x2122, 0x2122),
        (0x2139, 0x2139),
        (0x2194, 0x21aa),
        (0x2300, 0x23ff),
        (0x25a0, 0x27bf),
        (0x2934, 0x2935),
        (0x2b00, 0x2bff),
        (0x3030, 0x3030),
        (0x303d, 0x303d),
        (0x3297, 0x3299),
        (0x1f000, 0x1faff),
    ];
    in_ranges(c, PICTOGRAPHIC)
}

/// The Hangul jamo classes that combine into one syllable cluster.
#[derive(Clone, Copy, PartialEq)]
enum Jamo {
    Leading,
    Vowel,
    Trailing,
    SyllableLv,
    SyllableLvt,
}

impl Jamo {
    fn continues_with(self, next: Jamo) -> bool {
        use Jamo::*;
        match self {
            Leading => matches!(next, Leading | Vowel | SyllableLv | SyllableLvt),
            Vowel | SyllableLv => matches!(next, Vowel | Trailing),
            Trailing | SyllableLvt => next == Trailing,
        }
    }
}

fn hangul_kind(c: char) -> Option<Jamo> {
    let c = c as u32;
    match c {
        0x1100..=0x115f | 0xa960..=0xa97c => Some(Jamo::Leading),
        0x1160..=0x11a7 | 0xd7b0..=0xd7c6 => Some(Jamo::Vowel),
        0x11a8..=0x11ff | 0xd7cb..=0xd7fb => Some(Jamo::Trailing),
        0xac00..=0xd7a3 if (c - 0xac00).is_multiple_of(28) => Some(Jamo::SyllableLv),
        0xac00..=0xd7a3 => Some(Jamo::SyllableLvt),
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// Case mapping
// ---------------------------------------------------------------------------

/// Go maps case one rune at a time with the simple (single character)
/// mappings, so characters whose full mapping expands (ß → SS) stay as they
/// are.
fn simple_upper(c: char) -> char {
    single(c.to_uppercase()).unwrap_or(c)
}

fn simple_lower(c: char) -> char {
    // U+0130 is the one character whose full lowercase mapping expands; its
    // simple mapping is a plain "i", the first character of the expansion.
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => l,
        (Some(l), Some(_)) if c == '\u{130}' => l,
        _ => c,
    }
}

fn single(mut it: impl Iterator<Item = char>) -> Option<char> {
    let first = it.next()?;
    it.next().is_none().then_some(first)
}

/// Title case differs from upper case only for the Latin digraphs.
fn simple_title(c: char) -> char {
    match c {
        '\u{1c4}'..='\u{1c6}' => '\u{1c5}',
        '\u{1c7}'..='\u{1c9}' => '\u{1c8}',
        '\u{1ca}'..='\u{1cc}' => '\u{1cb}',
        '\u{1f1}'..='\u{1f3}' => '\u{1f2}',
        _ => simple_upper(c),
    }
}

/// Go's `strings.Title`: the first letter after each separator is put in
/// title case. ASCII punctuation and Unicode spaces separate words; other
/// non-ASCII characters do not.
fn title(s: &str) -> String {
    fn is_separator(c: char) -> bool {
        if c.is_ascii() {
            return !(c.is_ascii_alphanumeric() || c == '_');
        }
        if c.is_alphabetic() || c.is_numeric() {
            return false;
        }
        c.is_whitespace()
    }
    let mut prev = ' ';
    s.chars()
        .map(|c| {
            let mapped = if is_separator(prev) { simple_title(c) } else { c };
            prev = c;
            mapped
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Splitting, joining, slicing
// ---------------------------------------------------------------------------

fn split(name: &str, args: &[Value]) -> FuncResult {
    arity(name, args, 2, Some(2))?;
    let sep = string_arg(args, 0, "separator")?;
    let s = string_arg(args, 1, "str")?;
    // Go's strings.Split with an empty separator splits after each UTF-8
    // sequence, and yields nothing at all for an empty string.
    let parts: Vec<Value> =
        if sep.is_empty() { s.chars().map(|c| Value::String(c.to_string())).collect() } else { s.split(sep.as_str()).map(Value::from).collect() };
    Ok(Value::List(parts))
}

fn join(name: &str, args: &[Value]) -> FuncResult {
    arity(name, args, 1, None)?;
    let sep = string_arg(args, 0, "separator")?;
    let lists = &args[1..];
    if lists.is_empty() {
        return Err(FuncError::new("at least one list is required"));
    }
    let mut items = Vec::new();
    for (li, list) in lists.iter().enumerate() {
        let arg = li + 1;
        let elems = list.as_list().ok_or_else(|| invalid_arg(arg, "lists", "list of string required"))?;
        for (ei, elem) in elems.iter().enumerate() {
            if elem.is_null() {
                let which = if lists.len() > 1 { format!("element {ei} of list {arg}") } else { format!("element {ei}") };
                return Err(FuncError::arg(arg, format!("{which} is null; cannot concatenate null values")));
            }
            let s = to_string(elem).map_err(|msg| invalid_arg(arg, "lists", format!("element {ei}: {msg}")))?;
            items.push(s);
        }
    }
    let total = items.iter().map(String::len).fold(sep.len().saturating_mul(items.len()), usize::saturating_add);
    check_size(total)?;
    Ok(Value::String(items.join(&sep)))
}

fn indent(name: &str, args: &[Value]) -> FuncResult {
    arity(name, args, 2, Some(2))?;
    let spaces = int_arg(args, 0, "spaces")?;
    let s = string_arg(args, 1, "str")?;
    let spaces = usize::try_from(spaces).map_err(|_| invalid_arg(0, "spaces", "must not be negative"))?;
    check_size(s.matches('\n').count().saturating_mul(spaces).saturating_add(s.len()))?;
    Ok(Value::String(s.replace('\n', &format!("\n{}", " ".repeat(spaces)))))
}

/// cty's substr, measured in grapheme clusters. A negative offset counts
/// from the end; a negative length takes the rest of the string. As in cty,
/// a zero length short-circuits to "" only for a non-negative offset.
fn substr(name: &str, args: &[Value]) -> FuncResult {
    arity(name, args, 3, Some(3))?;
    let s = string_arg(args, 0, "str")?;
    let mut offset = int_arg(args, 1, "offset")?;
    let length = int_arg(args, 2, "length")?;
    let clusters = graphemes(&s);
    if offset < 0 {
        offset += clusters.len() as i64;
    } else if length == 0 {
        return Ok(Value::string(""));
    }
    let start = usize::try_from(offset).unwrap_or(0);
    if start >= clusters.len() && start > 0 {
        return Ok(Value::string(""));
    }
    let rest = &clusters[start.min(clusters.len())..];
    // cty counts clusters until it has `length` of them, so a length of
    // zero (reachable only with a negative offset) takes everything.
    let take = match usize::try_from(length) {
        Ok(0) | Err(_) => rest.len(),
        Ok(n) => n.min(rest.len()),
    };
    Ok(Value::String(rest[..take].concat()))
}

// ---------------------------------------------------------------------------
// Regular expressions
// ---------------------------------------------------------------------------

/// Compiles a pattern with Go's RE2 semantics as far as the regex crate
/// allows. Go's Perl classes (`\d`, `\w`, `\s`) and word boundaries are
/// ASCII-only where Rust's are Unicode-aware, so those are rewritten.
pub(crate) fn go_regex(pattern: &str) -> Result<Regex, String> {
    Regex::new(&ascii_perl_classes(pattern)).map_err(|e| regex_error_summary(&e))
}

fn ascii_perl_classes(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    let mut class_depth = 0usize;
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('d') => out.push_str("[0-9]"),
                Some('D') => out.push_str("[^0-9]"),
                Some('w') => out.push_str("[0-9A-Za-z_]"),
                Some('W') => out.push_str("[^0-9A-Za-z_]"),
                Some('s') => out.push_str("[\\t\\n\\f\\r ]"),
                Some('S') => out.push_str("[^\\t\\n\\f\\r ]"),
                Some(b @ ('b' | 'B')) if class_depth == 0 => {
                    out.push_str("(?-u:\\");
                    out.push(b);
                    out.push(')');
                }
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            },
            '[' => {
                class_depth += 1;
                out.push(c);
                // A ']' right after '[' or '[^' is a literal member.
                let mut look = chars.clone();
                let mut lead = String::new();
                if let Some('^') = look.next() {
                    lead.push('^');
                } else {
                    look = chars.clone();
                }
                if let Some(']') = look.next() {
                    lead.push(']');
                    out.push_str(&lead);
                    chars = look;
                }
            }
            ']' if class_depth > 0 => {
                class_depth -= 1;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// The regex crate's errors span several lines with a caret diagram; the
/// last line says what is wrong.
fn regex_error_summary(e: &regex::Error) -> String {
    let text = e.to_string();
    let last = text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or(&text);
    last.trim().trim_start_matches("error: ").to_string()
}

/// What `regex` returns for each match, decided by the pattern's groups.
enum MatchShape {
    Whole,
    Tuple,
    Object(Vec<String>),
}

fn match_shape(re: &Regex) -> Result<MatchShape, String> {
    let names: Vec<Option<&str>> = re.capture_names().skip(1).collect();
    let named = names.iter().filter(|n| n.is_some()).count();
    match (named, names.len() - named) {
        (0, 0) => Ok(MatchShape::Whole),
        (0, _) => Ok(MatchShape::Tuple),
        (_, 0) => Ok(MatchShape::Object(names.into_iter().flatten().map(String::from).collect())),
        _ => Err("invalid regexp pattern: cannot mix both named and unnamed capture groups".to_string()),
    }
}

fn match_value(caps: &regex::Captures, shape: &MatchShape) -> Value {
    let group = |i: usize| caps.get(i).map_or(Value::Null, |m| Value::string(m.as_str()));
    match shape {
        MatchShape::Whole => group(0),
        MatchShape::Tuple => Value::List((1..caps.len()).map(group).collect()),
        MatchShape::Object(names) => {
            Value::Object(names.iter().map(|n| (n.clone(), caps.name(n).map_or(Value::Null, |m| Value::string(m.as_str())))).collect())
        }
    }
}

fn compile_pattern_arg(args: &[Value]) -> Result<(Regex, MatchShape), FuncError> {
    let pattern = string_arg(args, 0, "pattern")?;
    let re = go_regex(&pattern).map_err(|e| FuncError::arg(0, format!("invalid regexp pattern: {e}")))?;
    let shape = match_shape(&re).map_err(|e| FuncError::arg(0, e))?;
    Ok((re, shape))
}

fn regex(name: &str, args: &[Value]) -> FuncResult {
    arity(name, args, 2, Some(2))?;
    let (re, shape) = compile_pattern_arg(args)?;
    let s = string_arg(args, 1, "string")?;
    let caps = re.captures(&s).ok_or_else(|| FuncError::new("pattern did not match any part of the given string"))?;
    Ok(match_value(&caps, &shape))
}

fn regexall(name: &str, args: &[Value]) -> FuncResult {
    arity(name, args, 2, Some(2))?;
    let (re, shape) = compile_pattern_arg(args)?;
    let s = string_arg(args, 1, "string")?;
    Ok(Value::List(re.captures_iter(&s).map(|c| match_value(&c, &shape)).collect()))
}

fn regex_replace(name: &str, args: &[Value]) -> FuncResult {
    arity(name, args, 3, Some(3))?;
    let s = string_arg(args, 0, "str")?;
    let pattern = string_arg(args, 1, "substr")?;
    let replacement = string_arg(args, 2, "replace")?;
    let re = go_regex(&pattern).map_err(|e| FuncError::arg(1, format!("error parsing regexp: {e}")))?;
    replace_all(&re, &s, &replacement)
}

/// Terraform's replace: a substring wrapped in slashes is a regular
/// expression whose replacement may use `$1` and `${name}`.
fn replace(name: &str, args: &[Value]) -> FuncResult {
    arity(name, args, 3, Some(3))?;
    let s = string_arg(args, 0, "str")?;
    let substr = string_arg(args, 1, "substr")?;
    let replacement = string_arg(args, 2, "replace")?;
    if substr.len() > 1 && substr.starts_with('/') && substr.ends_with('/') {
        let re = go_regex(&substr[1..substr.len() - 1]).map_err(|e| FuncError::arg(1, format!("error parsing regexp: {e}")))?;
        return replace_all(&re, &s, &replacement);
    }
    // An empty substring matches between every two characters, as in Go.
    let matches = if substr.is_empty() { s.chars().count() + 1 } else { s.matches(substr.as_str()).count() };
    check_size(matches.saturating_mul(replacement.len()).saturating_add(s.len()))?;
    Ok(Value::String(s.replace(&substr, &replacement)))
}

/// `Regex::replace_all`, refusing to build a result larger than the limit:
/// `$0$0…` in the replacement can multiply the input.
fn replace_all(re: &Regex, s: &str, replacement: &str) -> FuncResult {
    let mut out = String::new();
    let mut last = 0;
    for caps in re.captures_iter(s) {
        let Some(m) = caps.get(0) else { continue };
        out.push_str(&s[last..m.start()]);
        caps.expand(replacement, &mut out);
        last = m.end();
        check_size(out.len())?;
    }
    out.push_str(&s[last..]);
    Ok(Value::String(out))
}

// ---------------------------------------------------------------------------
// format and formatlist
// ---------------------------------------------------------------------------

fn format(name: &str, args: &[Value]) -> FuncResult {
    arity(name, args, 1, None)?;
    let fmt = string_arg(args, 0, "format")?;
    go_format(&fmt, &args[1..]).map(Value::String)
}

/// Formats once per element of the list arguments, which must all have the
/// same length; other arguments are repeated for every element.
fn formatlist(name: &str, args: &[Value]) -> FuncResult {
    arity(name, args, 1, None)?;
    let fmt = string_arg(args, 0, "format")?;
    let rest = &args[1..];
    let mut length: Option<(usize, usize)> = None; // (length, argument it came from)
    for (i, arg) in rest.iter().enumerate() {
        let Some(list) = arg.as_list() else { continue };
        match length {
            None => length = Some((list.len(), i)),
            Some((len, from)) if len != list.len() => {
                return Err(FuncError::arg(
                    i + 1,
                    format!("argument {} has length {}, which is inconsistent with argument {} of length {}", i + 1, list.len(), from + 1, len),
                ))
            }
            Some(_) => {}
        }
    }
    let iterations = length.map_or(1, |(len, _)| len);
    let mut out = Vec::with_capacity(iterations);
    let mut total = 0;
    for n in 0..iterations {
        let call_args: Vec<Value> = rest.iter().map(|a| a.as_list().map_or_else(|| a.clone(), |l| l[n].clone())).collect();
        let s =
            go_format(&fmt, &call_args).map_err(
                |e| {
                    if rest.is_empty() {
                        e
                    } else {
                        FuncError::new(format!("error on format iteration {n}: {}", e.message))
                    }
                },
            )?;
        total += s.len();
        check_size(total)?;
        out.push(Value::String(s));
    }
    Ok(Value::List(out))
}

/// One `%` directive of a format string, as cty's scanner reads it:
/// `%` flags `[n]` width `.prec` verb.
#[derive(Default)]
struct Verb<'a> {
    raw: &'a str,
    offset: usize,
    arg_num: usize,
    mode: char,
    zero: bool,
    sharp: bool,
    plus: bool,
    minus: bool,
    space: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

/// Formats `args` with cty's Go-like format syntax.
pub(crate) fn go_format(fmt: &str, args: &[Value]) -> Result<String, FuncError> {
    let mut out = String::new();
    let mut next_arg = 1;
    let mut highest = 0;
    let mut i = 0;
    while i < fmt.len() {
        let rest = &fmt[i..];
        if !rest.starts_with('%') {
            let end = rest.find('%').unwrap_or(rest.len());
            out.push_str(&rest[..end]);
            i += end;
        } else if rest.starts_with("%%") {
            out.push('%');
            i += 2;
        } else {
            let verb = scan_verb(fmt, i, next_arg)?;
            highest = highest.max(verb.arg_num);
            append_verb(&mut out, &verb, args)?;
            check_size(out.len())?;
            next_arg = verb.arg_num + 1;
            i += verb.raw.len();
        }
    }
    if highest < args.len() {
        let msg = if highest == 0 {
            "too many arguments; no verbs in format string".to_string()
        } else {
            format!("too many arguments; only {highest} used by format string")
        };
        return Err(FuncError::arg(highest + 1, msg));
    }
    Ok(out)
}

/// Reads the directive starting with the `%` at `start`.
fn scan_verb(fmt: &str, start: usize, next_arg: usize) -> Result<Verb<'_>, FuncError> {
    let b = fmt.as_bytes();
    let mut v = Verb { offset: start, arg_num: next_arg, ..Verb::default() };
    let mut i = start + 1;
    while let Some(&c) = b.get(i) {
        match c {
            b'0' => v.zero = true,
            b'#' => v.sharp = true,
            b'-' => v.minus = true,
            b'+' => v.plus = true,
            b' ' => v.space = true,
            _ => break,
        }
        i += 1;
    }
    if b.get(i) == Some(&b'[') {
        i += 1;
        if !matches!(b.get(i), Some(b'1'..=b'9')) {
            return Err(bad_format_char(fmt, i));
        }
        let (n, end) = scan_digits(b, i);
        if b.get(end) != Some(&b']') {
            return Err(bad_format_char(fmt, end));
        }
        v.arg_num = n;
        i = end + 1;
    }
    if matches!(b.get(i), Some(b'1'..=b'9')) {
        let (n, end) = scan_digits(b, i);
        v.width = Some(too_large(start, n, "width")?);
        i = end;
    }
    if b.get(i) == Some(&b'.') {
        let (n, end) = scan_digits(b, i + 1);
        v.prec = Some(too_large(start, n, "precision")?);
        i = end;
    }
    match b.get(i) {
        Some(c) if c.is_ascii_alphabetic() => {
            v.mode = *c as char;
            v.raw = &fmt[start..=i];
            Ok(v)
        }
        _ => Err(bad_format_char(fmt, i)),
    }
}

/// Go's fmt refuses widths and precisions above a million (`%!(BADWIDTH)`);
/// so does bake, rather than try to allocate whatever a typo asks for.
fn too_large(start: usize, n: usize, what: &str) -> Result<usize, FuncError> {
    const MAX: usize = 1_000_000;
    if n > MAX {
        return Err(FuncError::new(format!("{what} {n} at offset {start} is too large; the limit is {MAX}")));
    }
    Ok(n)
}

fn scan_digits(b: &[u8], mut i: usize) -> (usize, usize) {
    let mut n: usize = 0;
    while let Some(d @ b'0'..=b'9') = b.get(i) {
        n = n.saturating_mul(10).saturating_add((d - b'0') as usize);
        i += 1;
    }
    (n, i)
}

fn bad_format_char(fmt: &str, i: usize) -> FuncError {
    match fmt[i..].chars().next() {
        Some(c) => FuncError::new(format!("unrecognized format character {} at offset {i}", go_quote_rune(c))),
        None => FuncError::new(format!("invalid format string starting at offset {}", fmt.len())),
    }
}

fn unsupported(v: &Verb, msg: impl Display) -> FuncError {
    FuncError::new(format!("unsupported value for {} at {}: {msg}", go_quote(v.raw), v.offset))
}

fn append_verb(out: &mut String, v: &Verb, args: &[Value]) -> Result<(), FuncError> {
    let Some(arg) = args.get(v.arg_num - 1) else {
        return Err(FuncError::new(format!(
            "not enough arguments for {} at {}: need index {} but have {} total",
            go_quote(v.raw),
            v.offset,
            v.arg_num,
            args.len()
        )));
    };
    if v.mode != 'v' && arg.is_null() {
        return Err(unsupported(v, "null value cannot be formatted"));
    }
    let spec = || NumSpec { verb: v.mode, plus: v.plus, space: v.space, zero: v.zero, minus: v.minus, sharp: v.sharp, width: v.width, prec: v.prec };
    let formatted = match v.mode {
        'v' => format_as_is(v, arg)?,
        't' => to_bool(arg).map_err(|m| unsupported(v, m))?.to_string(),
        'b' | 'd' | 'o' | 'x' | 'X' => {
            let n = to_number(arg).map_err(|m| unsupported(v, m))?;
            go_format_int(&n, &spec()).ok_or_else(|| unsupported(v, "an integer is required"))?
        }
        'e' | 'E' | 'f' | 'g' | 'G' => go_format_float(&to_number(arg).map_err(|m| unsupported(v, m))?, &spec()),
        's' | 'q' => format_string(v, arg)?,
        other => return Err(FuncError::new(format!("unsupported format verb {} in {} at offset {}", go_quote_rune(other), go_quote(v.raw), v.offset))),
    };
    out.push_str(&formatted);
    Ok(())
}

/// `%v`: strings as they are, numbers like `%g`, everything else (and
/// everything with `%#v`) as JSON.
fn format_as_is(v: &Verb, arg: &Value) -> Result<String, FuncError> {
    let text = match arg {
        Value::String(s) if !v.sharp => s.clone(),
        Value::Number(n) if !v.sharp => go_shortest(n),
        _ => json_encode(arg).map_err(|e| unsupported(v, e))?,
    };
    Ok(pad_width(v, text))
}

/// `%s` and `%q`: the precision limits the input, in characters.
fn format_string(v: &Verb, arg: &Value) -> Result<String, FuncError> {
    let mut s = to_string(arg).map_err(|m| unsupported(v, m))?;
    if let Some(prec) = v.prec.filter(|p| *p > 0) {
        s = graphemes(&s).into_iter().take(prec).collect();
    }
    if v.mode == 'q' {
        s = json_quote(&s);
    }
    Ok(pad_width(v, s))
}

/// Pads to the verb's width, counted in characters, with cty's own rules:
/// `0` pads with zeros even on the right.
fn pad_width(v: &Verb, s: String) -> String {
    let Some(width) = v.width else { return s };
    let len = graphemes(&s).len();
    if len >= width {
        return s;
    }
    let pad = (if v.zero { "0" } else { " " }).repeat(width - len);
    if v.minus {
        s + &pad
    } else {
        pad + &s
    }
}

#[cfg(test)]
pub(crate) mod testutil {
    //! A function context for tests: a private temporary working directory,
    //! a fixed clock and a template renderer that returns the text as is.

    use super::super::{FuncContext, FuncResult};
    use crate::value::Value;
    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    /// 2026-11-22T07:20:32Z
    pub const NOW_SECS: u64 = 1_795_332_032;

    pub fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(NOW_SECS)
    }

    /// A fresh, empty directory under the workspace's `target/test-scratch`
    /// (not the system temp dir, where every run of the tests would leave
    /// its files behind).
    pub fn temp_dir(tag: &str) -> PathBuf {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("lang/ sits in the workspace");
        let scratch = workspace.join("target/test-scratch");
        let dir = scratch.join(format!("funcs-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create test directory");
        dir
    }

    fn render(_: &Path, text: &str, _: &BTreeMap<String, Value>) -> Result<Value, String> {
        Ok(Value::string(text))
    }

    /// Calls `f` with a context whose working directory is `cwd`.
    pub fn with_ctx<R>(cwd: &Path, f: impl FnOnce(&FuncContext) -> R) -> R {
        let ctx = FuncContext { cwd, now: now(), render_template: &render };
        f(&ctx)
    }

    /// Calls a function by name in a throwaway context.
    pub fn call(name: &str, args: Vec<Value>) -> FuncResult {
        let dir = std::env::temp_dir();
        with_ctx(&dir, |ctx| super::super::call(name, &args, ctx))
    }

    pub fn s(v: &str) -> Value {
        Value::string(v)
    }

    pub fn n(v: f64) -> Value {
        Value::from(v)
    }

    pub fn list(items: &[&str]) -> Value {
        Value::List(items.iter().map(|i| s(i)).collect())
    }

    pub fn object(pairs: &[(&str, Value)]) -> Value {
        Value::Object(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
    }

    /// The result of a call that must succeed.
    pub fn ok(name: &str, args: Vec<Value>) -> Value {
        match call(name, args) {
            Ok(v) => v,
            Err(e) => panic!("{name} failed: {}", e.message),
        }
    }

    /// The message of a call that must fail.
    pub fn err(name: &str, args: Vec<Value>) -> String {
        match call(name, args) {
            Ok(v) => panic!("{name} unexpectedly returned {v}"),
            Err(e) => e.message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testutil::{err, list, n, object, ok, s};
    use super::*;

    fn fmt(f: &str, args: Vec<Value>) -> String {
        let mut all = vec![s(f)];
        all.extend(args);
        match ok("format", all) {
            Value::String(s) => s,
            other => panic!("format returned {other}"),
        }
    }

    #[test]
    fn chomp_removes_all_trailing_newlines() {
        assert_eq!(ok("chomp", vec![s("hello\n")]), s("hello"));
        assert_eq!(ok("chomp", vec![s("hello\r\n\n\r")]), s("hello"));
        assert_eq!(ok("chomp", vec![s("a\nb")]), s("a\nb"));
        assert_eq!(ok("chomp", vec![s("")]), s(""));
    }

    #[test]
    fn case_mapping() {
        assert_eq!(ok("lower", vec![s("HELLO Ünïcode İ")]), s("hello ünïcode i"));
        assert_eq!(ok("upper", vec![s("hello straße")]), s("HELLO STRAßE"));
        assert_eq!(ok("upper", vec![n(5.0)]), s("5"));
    }

    #[test]
    fn title_follows_go() {
        assert_eq!(ok("title", vec![s("hello world")]), s("Hello World"));
        assert_eq!(ok("title", vec![s("o'neil is_here-now")]), s("O'Neil Is_here-Now"));
        assert_eq!(ok("title", vec![s("ǆemal ünter")]), s("ǅemal Ünter"));
        assert_eq!(ok("title", vec![s("a—b")]), s("A—b"));
    }

    #[test]
    fn strrev_keeps_clusters() {
        assert_eq!(ok("strrev", vec![s("hello")]), s("olleh"));
        assert_eq!(ok("strrev", vec![s("e\u{301}a")]), s("ae\u{301}"));
        assert_eq!(ok("strrev", vec![s("a🇩🇪b")]), s("b🇩🇪a"));
        assert_eq!(ok("strrev", vec![s("")]), s(""));
    }

    #[test]
    fn trimming() {
        assert_eq!(ok("trim", vec![s("?!hello?!"), s("!?")]), s("hello"));
        assert_eq!(ok("trim", vec![s("abc"), s("")]), s("abc"));
        assert_eq!(ok("trimprefix", vec![s("helloworld"), s("hello")]), s("world"));
        assert_eq!(ok("trimprefix", vec![s("hellohello"), s("hello")]), s("hello"));
        assert_eq!(ok("trimprefix", vec![s("world"), s("hello")]), s("world"));
        assert_eq!(ok("trimsuffix", vec![s("helloworld"), s("world")]), s("hello"));
        assert_eq!(ok("trimspace", vec![s(" \t\n hello \r\n")]), s("hello"));
        assert_eq!(ok("trimspace", vec![s("\u{a0}\u{3000}hi\u{2003}\u{85}")]), s("hi"));
    }

    #[test]
    fn predicates() {
        assert_eq!(ok("startswith", vec![s("hello world"), s("hello")]), Value::Bool(true));
        assert_eq!(ok("startswith", vec![s("hello"), s("")]), Value::Bool(true));
        assert_eq!(ok("startswith", vec![s("hello"), s("world")]), Value::Bool(false));
        assert_eq!(ok("endswith", vec![s("hello world"), s("world")]), Value::Bool(true));
        assert_eq!(ok("endswith", vec![s("hello"), s("x")]), Value::Bool(false));
        assert_eq!(ok("strcontains", vec![s("hello world"), s("o w")]), Value::Bool(true));
        assert_eq!(ok("strcontains", vec![s("hello"), s("z")]), Value::Bool(false));
    }

    #[test]
    fn split_follows_go() {
        assert_eq!(ok("split", vec![s(","), s("a,b,c")]), list(&["a", "b", "c"]));
        assert_eq!(ok("split", vec![s(","), s("")]), list(&[""]));
        assert_eq!(ok("split", vec![s(","), s("a,,b,")]), list(&["a", "", "b", ""]));
        assert_eq!(ok("split", vec![s(""), s("añb")]), list(&["a", "ñ", "b"]));
        assert_eq!(ok("split", vec![s(""), s("")]), list(&[]));
        assert_eq!(ok("split", vec![s("::"), s("a::b")]), list(&["a", "b"]));
    }

    #[test]
    fn join_lists() {
        assert_eq!(ok("join", vec![s(", "), list(&["a", "b"])]), s("a, b"));
        assert_eq!(ok("join", vec![s("-"), list(&["a"]), list(&[]), list(&["b", "c"])]), s("a-b-c"));
        assert_eq!(ok("join", vec![s("-"), Value::List(vec![n(1.0), Value::Bool(true)])]), s("1-true"));
        assert_eq!(err("join", vec![s(",")]), "at least one list is required");
        assert_eq!(err("join", vec![s(","), Value::List(vec![s("a"), Value::Null])]), "element 1 is null; cannot concatenate null values");
        assert_eq!(err("join", vec![s(","), list(&["a"]), Value::List(vec![Value::Null])]), "element 0 of list 2 is null; cannot concatenate null values");
    }

    #[test]
    fn indent_pads_all_but_the_first_line() {
        assert_eq!(ok("indent", vec![n(2.0), s("a\nb\n\nc")]), s("a\n  b\n  \n  c"));
        assert_eq!(ok("indent", vec![s("1"), s("a\n")]), s("a\n "));
        assert_eq!(ok("indent", vec![n(4.0), s("single")]), s("single"));
        assert!(err("indent", vec![n(1.5), s("x")]).contains("whole number"));
    }

    #[test]
    fn substr_offsets_and_lengths() {
        assert_eq!(ok("substr", vec![s("hello world"), n(1.0), n(4.0)]), s("ello"));
        assert_eq!(ok("substr", vec![s("hello"), n(0.0), n(-1.0)]), s("hello"));
        assert_eq!(ok("substr", vec![s("hello"), n(-3.0), n(-1.0)]), s("llo"));
        assert_eq!(ok("substr", vec![s("hello"), n(-3.0), n(2.0)]), s("ll"));
        assert_eq!(ok("substr", vec![s("hello"), n(1.0), n(100.0)]), s("ello"));
        assert_eq!(ok("substr", vec![s("hello"), n(10.0), n(2.0)]), s(""));
        assert_eq!(ok("substr", vec![s("hello"), n(5.0), n(2.0)]), s(""));
        assert_eq!(ok("substr", vec![s("hello"), n(2.0), n(0.0)]), s(""));
        assert_eq!(ok("substr", vec![s("hello"), n(-10.0), n(2.0)]), s("he"));
        // cty's quirk: a zero length with a negative offset takes the rest.
        assert_eq!(ok("substr", vec![s("hello"), n(-2.0), n(0.0)]), s("lo"));
        assert_eq!(ok("substr", vec![s("🤔e\u{301}x"), n(1.0), n(1.0)]), s("e\u{301}"));
        assert!(err("substr", vec![s("x"), n(0.5), n(1.0)]).contains("\"offset\""));
    }

    #[test]
    fn replace_plain_and_regex() {
        assert_eq!(ok("replace", vec![s("1 + 2 + 3"), s("+"), s("-")]), s("1 - 2 - 3"));
        assert_eq!(ok("replace", vec![s("hello world"), s("/w.*d/"), s("everybody")]), s("hello everybody"));
        assert_eq!(ok("replace", vec![s("a1b22"), s("/([a-z])(\\d+)/"), s("$2$1")]), s("1a22b"));
        assert_eq!(ok("replace", vec![s("x/y"), s("/"), s("|")]), s("x|y"));
        assert_eq!(ok("replace", vec![s("abc"), s(""), s("-")]), s("-a-b-c-"));
        assert_eq!(ok("replace", vec![s("a.b"), s("."), s("!")]), s("a!b"));
        assert!(err("replace", vec![s("x"), s("/(/"), s("")]).starts_with("error parsing regexp"));
    }

    #[test]
    fn regex_replace_uses_go_expansion() {
        assert_eq!(ok("regex_replace", vec![s("hello world"), s("o(\\w)"), s("0$1")]), s("hello w0rld"));
        assert_eq!(ok("regex_replace", vec![s("k=v"), s("(?P<k>\\w)=(?P<v>\\w)"), s("${v}=${k} $$")]), s("v=k $"));
        assert_eq!(ok("regex_replace", vec![s("ab"), s("(a)"), s("$1x")]), s("b"));
    }

    #[test]
    fn regex_results_depend_on_groups() {
        assert_eq!(ok("regex", vec![s("[a-z]+"), s("53453453.345345aaabbbccc23454")]), s("aaabbbccc"));
        assert_eq!(ok("regex", vec![s("(\\d\\d\\d\\d)-(\\d\\d)-(\\d\\d)"), s("2019-02-01")]), list(&["2019", "02", "01"]));
        assert_eq!(
            ok("regex", vec![s("^(?:(?P<scheme>[^:/?#]+):)?(?://(?P<authority>[^/?#]*))?"), s("https://x.io/a")]),
            object(&[("authority", s("x.io")), ("scheme", s("https"))])
        );
        assert_eq!(ok("regex", vec![s("(a)|(b)"), s("b")]), Value::List(vec![Value::Null, s("b")]));
        assert_eq!(err("regex", vec![s("x"), s("abc")]), "pattern did not match any part of the given string");
        assert!(err("regex", vec![s("(?P<a>x)(y)"), s("xy")]).contains("cannot mix"));
        assert!(err("regex", vec![s("(x"), s("xy")]).starts_with("invalid regexp pattern"));
        // Go's \d is ASCII only.
        assert_eq!(err("regex", vec![s("\\d"), s("٣")]), "pattern did not match any part of the given string");
        assert_eq!(ok("regex", vec![s("\\bfoo\\b"), s("a foo b")]), s("foo"));
    }

    #[test]
    fn regexall_lists_every_match() {
        assert_eq!(ok("regexall", vec![s("[a-z]+"), s("1234abcd5678efgh9")]), list(&["abcd", "efgh"]));
        assert_eq!(ok("regexall", vec![s("[a-z]+"), s("123")]), list(&[]));
        assert_eq!(ok("regexall", vec![s("a*"), s("baaab")]), list(&["", "aaa", ""]));
        assert_eq!(ok("regexall", vec![s("(\\w)=(\\w)"), s("a=1 b=2")]), Value::List(vec![list(&["a", "1"]), list(&["b", "2"])]));
    }

    #[test]
    fn format_strings_and_numbers() {
        assert_eq!(fmt("Hello, %s!", vec![s("Ander")]), "Hello, Ander!");
        assert_eq!(fmt("There are %d lights", vec![n(4.0)]), "There are 4 lights");
        assert_eq!(fmt("%d", vec![s("12")]), "12");
        assert_eq!(fmt("%s", vec![n(1.5)]), "1.5");
        assert_eq!(fmt("%s %s", vec![Value::Bool(true), n(100000000.0)]), "true 100000000");
        assert_eq!(fmt("%.2f", vec![n(1.23456)]), "1.23");
        assert_eq!(fmt("%f", vec![n(1.0)]), "1.000000");
        assert_eq!(fmt("%8.3f|%-8.2f|%08.3f", vec![n(1.23456), n(2.5), n(-1.23456)]), "   1.235|2.50    |-001.235");
        assert_eq!(fmt("%+d % d %+.1f", vec![n(5.0), n(5.0), n(2.0)]), "+5  5 +2.0");
        assert_eq!(fmt("%x %X %o %b %#x %#o", vec![n(255.0), n(255.0), n(8.0), n(5.0), n(255.0), n(8.0)]), "ff FF 10 101 0xff 010");
        assert_eq!(fmt("%05d|%-5d|%5d|%.3d", vec![n(42.0), n(42.0), n(-42.0), n(7.0)]), "00042|42   |  -42|007");
        assert_eq!(fmt("%e %E %.2e", vec![n(123456.789), n(0.000123), n(0.0)]), "1.234568e+05 1.230000E-04 0.00e+00");
        assert_eq!(fmt("%g %g %g %G %.3g", vec![n(100000.0), n(1000000.0), n(0.00001), n(1e-7), n(1.23456)]), "100000 1e+06 1e-05 1E-07 1.23");
        assert_eq!(fmt("%d", vec![n(1e20)]), "100000000000000000000");
        assert_eq!(fmt("%.0f %.0f %.1f", vec![n(2.5), n(3.5), n(0.25)]), "2 4 0.2");
    }

    #[test]
    fn format_v_q_t_and_widths() {
        assert_eq!(fmt("%v %v %v", vec![s("x"), n(1.5), Value::Bool(true)]), "x 1.5 true");
        assert_eq!(fmt("%v", vec![n(1000000.0)]), "1e+06");
        assert_eq!(fmt("%v", vec![Value::Null]), "null");
        assert_eq!(fmt("%v", vec![list(&["a", "<b>"])]), "[\"a\",\"\\u003cb\\u003e\"]");
        assert_eq!(fmt("%#v", vec![s("x")]), "\"x\"");
        assert_eq!(fmt("%#v", vec![object(&[("b", n(2.0)), ("a", Value::Null)])]), "{\"a\":null,\"b\":2}");
        assert_eq!(fmt("%q", vec![s("say \"hi\"\n")]), "\"say \\\"hi\\\"\\n\"");
        assert_eq!(fmt("%t %t", vec![Value::Bool(false), s("true")]), "false true");
        assert_eq!(fmt("[%5s][%-5s][%05s][%.2s]", vec![s("ab"), s("ab"), s("ab"), s("abcdef")]), "[   ab][ab   ][000ab][ab]");
        assert_eq!(fmt("[%4s]", vec![s("né")]), "[  né]");
        assert_eq!(fmt("%%d%s%%", vec![s("x")]), "%dx%");
        assert_eq!(fmt("no verbs", vec![]), "no verbs");
    }

    #[test]
    fn functions_that_multiply_their_input_refuse_huge_results() {
        let big = "x".repeat(1 << 20);
        let limit = "the result would take more than 64 MiB";
        assert_eq!(err("indent", vec![n(1e12), s("a\nb")]), limit);
        assert_eq!(err("join", vec![s(&big), list(&["a"; 100])]), limit);
        assert_eq!(err("replace", vec![s(&"ab".repeat(100)), s(""), s(&big)]), limit);
        assert_eq!(err("replace", vec![s(&"ab".repeat(100)), s("/b/"), s(&big)]), limit);
        assert_eq!(err("regex_replace", vec![s(&big), s("x"), s("$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0")]), limit);
        assert!(err("formatlist", vec![s("%1000000s"), list(&["a"; 100])]).ends_with(limit));
        assert_eq!(ok("replace", vec![s("abc"), s(""), s("-")]), s("-a-b-c-"));
        assert_eq!(ok("replace", vec![s("a1b22"), s("/[0-9]+/"), s("<$0>")]), s("a<1>b<22>"));
    }

    #[test]
    fn format_refuses_huge_widths_and_precisions() {
        assert_eq!(fmt("%1000000s|", vec![s("x")]).len(), 1_000_001);
        assert_eq!(err("format", vec![s("%1000001d"), n(1.0)]), "width 1000001 at offset 0 is too large; the limit is 1000000");
        assert!(err("format", vec![s("x %.99999999999999999999f"), n(1.0)]).starts_with("precision 18446744073709551615 at offset 2"));
    }

    #[test]
    fn format_argument_indexes() {
        assert_eq!(fmt("%[2]s %[1]s", vec![s("a"), s("b")]), "b a");
        assert_eq!(fmt("%[2]s %s", vec![s("a"), s("b"), s("c")]), "b c");
        assert_eq!(fmt("%[1]d %[1]x", vec![n(255.0)]), "255 ff");
    }

    #[test]
    fn format_errors() {
        let e = |f: &str, args: Vec<Value>| {
            let mut all = vec![s(f)];
            all.extend(args);
            err("format", all)
        };
        assert_eq!(e("%s %s", vec![s("a")]), "not enough arguments for \"%s\" at 3: need index 2 but have 1 total");
        assert_eq!(e("%d", vec![s("x")]), "unsupported value for \"%d\" at 0: a number is required");
        assert_eq!(e("%d", vec![n(1.5)]), "unsupported value for \"%d\" at 0: an integer is required");
        assert_eq!(e("%s", vec![Value::Null]), "unsupported value for \"%s\" at 0: null value cannot be formatted");
        assert_eq!(e("%s", vec![list(&[])]), "unsupported value for \"%s\" at 0: string required");
        assert_eq!(e("%z", vec![s("x")]), "unsupported format verb 'z' in \"%z\" at offset 0");
        assert_eq!(e("abc%", vec![]), "invalid format string starting at offset 4");
        assert_eq!(e("%!", vec![]), "unrecognized format character '!' at offset 1");
        assert_eq!(e("x", vec![s("a")]), "too many arguments; no verbs in format string");
        assert_eq!(e("%s", vec![s("a"), s("b")]), "too many arguments; only 1 used by format string");
        assert_eq!(e("%[0]d", vec![n(1.0)]), "unrecognized format character '0' at offset 2");
    }

    #[test]
    fn formatlist_broadcasts() {
        assert_eq!(ok("formatlist", vec![s("Hello, %s!"), list(&["Valentina", "Ander"])]), list(&["Hello, Valentina!", "Hello, Ander!"]));
        assert_eq!(ok("formatlist", vec![s("%s, %s!"), s("Salutations"), list(&["a", "b"])]), list(&["Salutations, a!", "Salutations, b!"]));
        assert_eq!(ok("formatlist", vec![s("%s"), list(&[])]), list(&[]));
        assert_eq!(ok("formatlist", vec![s("x")]), list(&["x"]));
        assert_eq!(ok("formatlist", vec![s("%s-%s"), s("a"), s("b")]), list(&["a-b"]));
        assert_eq!(
            err("formatlist", vec![s("%s%s"), list(&["a"]), list(&["b", "c"])]),
            "argument 2 has length 2, which is inconsistent with argument 1 of length 1"
        );
        assert_eq!(err("formatlist", vec![s("%d"), list(&["a"])]), "error on format iteration 0: unsupported value for \"%d\" at 0: a number is required");
    }

    #[test]
    fn conversions() {
        assert_eq!(go_quote("a\"b\n\u{1}"), "\"a\\\"b\\n\\x01\"");
        assert_eq!(graphemes("a\r\nb\u{1f469}\u{200d}\u{1f4bb}c"), vec!["a", "\r\n", "b", "\u{1f469}\u{200d}\u{1f4bb}", "c"]);
        assert_eq!(graphemes("\u{1100}\u{1161}\u{11a8}x").len(), 2);
        assert!(err("upper", vec![Value::Null]).contains("must not be null"));
        assert!(err("upper", vec![list(&[])]).contains("string required"));
    }
}
