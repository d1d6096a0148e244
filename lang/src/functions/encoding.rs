//! Encoding functions: base64, CSV, JSON, text encodings, URLs and YAML,
//! producing the same text as Packer's Go implementations.

use super::string::{go_quote, string_arg};
use super::{arity, FuncContext, FuncError, FuncResult};
use crate::number::Number;
use crate::value::Value;
use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use std::collections::BTreeMap;

pub const NAMES: &[&str] = &[
    "base64decode",
    "base64encode",
    "base64gzip",
    "csvdecode",
    "jsondecode",
    "jsonencode",
    "textdecodebase64",
    "textencodebase64",
    "urlencode",
    "yamldecode",
    "yamlencode",
];

pub fn call(name: &str, args: &[Value], _ctx: &FuncContext) -> FuncResult {
    match name {
        "base64encode" => {
            arity(name, args, 1, Some(1))?;
            Ok(Value::String(STANDARD.encode(string_arg(args, 0, "str")?)))
        }
        "base64decode" => base64decode(name, args),
        "base64gzip" => base64gzip(name, args),
        "csvdecode" => {
            arity(name, args, 1, Some(1))?;
            csv_decode(&string_arg(args, 0, "str")?).map_err(|e| FuncError::arg(0, e))
        }
        "jsondecode" => {
            arity(name, args, 1, Some(1))?;
            let text = string_arg(args, 0, "str")?;
            let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| FuncError::arg(0, e.to_string()))?;
            Ok(Value::from_json(&json))
        }
        "jsonencode" => {
            arity(name, args, 1, Some(1))?;
            json_encode(&args[0]).map(Value::String).map_err(|e| FuncError::arg(0, e))
        }
        "textencodebase64" => textencodebase64(name, args),
        "textdecodebase64" => textdecodebase64(name, args),
        "urlencode" => {
            arity(name, args, 1, Some(1))?;
            Ok(Value::String(query_escape(&string_arg(args, 0, "str")?)))
        }
        "yamldecode" => {
            arity(name, args, 1, Some(1))?;
            yaml_decode(&string_arg(args, 0, "src")?).map_err(|e| FuncError::arg(0, e))
        }
        "yamlencode" => {
            arity(name, args, 1, Some(1))?;
            Ok(Value::String(yaml_encode(&args[0])))
        }
        _ => Err(FuncError::new(format!("there is no function named \"{name}\""))),
    }
}

// ---------------------------------------------------------------------------
// Base64
// ---------------------------------------------------------------------------

/// Go's base64.StdEncoding: padding is required but, unlike the base64
/// crate's strict engine, stray bits in the last symbol are tolerated.
const GO_STD: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true).with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

/// Decodes like Go, which also skips line breaks inside the input.
fn go_base64_decode(s: &str) -> Result<Vec<u8>, base64::DecodeError> {
    let cleaned: String = s.chars().filter(|c| *c != '\r' && *c != '\n').collect();
    GO_STD.decode(cleaned)
}

fn base64decode(name: &str, args: &[Value]) -> FuncResult {
    arity(name, args, 1, Some(1))?;
    let s = string_arg(args, 0, "str")?;
    let bytes = go_base64_decode(&s).map_err(|_| FuncError::arg(0, format!("failed to decode base64 data '{s}'")))?;
    String::from_utf8(bytes).map(Value::String).map_err(|_| FuncError::arg(0, "the result of decoding the provided string is not valid UTF-8"))
}

/// Gzip then base64. The header matches Go's (no name, zero time, unknown
/// OS) but the compressed bytes come from a different deflate encoder.
fn base64gzip(name: &str, args: &[Value]) -> FuncResult {
    arity(name, args, 1, Some(1))?;
    let s = string_arg(args, 0, "str")?;
    gzip_like_go(s.as_bytes()).map(|bytes| Value::String(STANDARD.encode(bytes))).map_err(|e| FuncError::new(format!("failed to write gzip raw data: {e}")))
}

/// Gzip framed as Packer's Go code writes it (`Write`, `Flush`, `Close`):
/// the data in non-final blocks ended by a sync flush, then an empty final
/// stored block; a header with no name and no time, and OS "unknown". The
/// same input then gives the same text as in Packer.
fn gzip_like_go(data: &[u8]) -> Result<Vec<u8>, flate2::CompressError> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    let mut deflate = flate2::Compress::new(flate2::Compression::default(), false);
    let mut body = Vec::with_capacity(data.len() + 64);
    loop {
        let consumed = deflate.total_in() as usize;
        body.reserve(data.len() + 64);
        deflate.compress_vec(&data[consumed..], &mut body, flate2::FlushCompress::Sync)?;
        // A sync flush ends with an empty stored block: 00 00 ff ff.
        if deflate.total_in() as usize == data.len() && body.ends_with(&[0, 0, 0xff, 0xff]) {
            break;
        }
    }
    out.extend_from_slice(&body);
    out.extend_from_slice(&[0x01, 0x00, 0x00, 0xff, 0xff]);
    let mut crc = flate2::Crc::new();
    crc.update(data);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    Ok(out)
}

// ---------------------------------------------------------------------------
// Text encodings
// ---------------------------------------------------------------------------

/// The character encodings `textencodebase64` and `textdecodebase64`
/// support, by their IANA names and aliases.
#[derive(Clone, Copy, Debug, PartialEq)]
enum TextEncoding {
    Utf8,
    /// UTF-16 with a byte order mark: written big-endian, read either way.
    Utf16,
    Utf16Be,
    Utf16Le,
    Latin1,
    Windows1252,
    Ascii,
}

impl TextEncoding {
    fn lookup(name: &str) -> Option<TextEncoding> {
        use TextEncoding::*;
        let table: &[(&[&str], TextEncoding)] = &[
            (&["utf-8", "utf8", "csutf8"], Utf8),
            (&["utf-16", "csutf16"], Utf16),
            (&["utf-16be", "csutf16be"], Utf16Be),
            (&["utf-16le", "csutf16le"], Utf16Le),
            (&["iso-8859-1", "iso_8859-1:1987", "iso-ir-100", "iso_8859-1", "latin1", "l1", "ibm819", "cp819", "csisolatin1"], Latin1),
            (&["windows-1252", "cswindows1252", "cp1252"], Windows1252),
            (
                &["us-ascii", "ascii", "iso-ir-6", "ansi_x3.4-1968", "ansi_x3.4-1986", "iso_646.irv:1991", "iso646-us", "us", "ibm367", "cp367", "csascii"],
                Ascii,
            ),
        ];
        let wanted = name.to_ascii_lowercase();
        table.iter().find(|(names, _)| names.contains(&wanted.as_str())).map(|(_, e)| *e)
    }

    /// The bytes of `s`, or None when a character has no representation.
    fn encode(self, s: &str) -> Option<Vec<u8>> {
        use TextEncoding::*;
        match self {
            Utf8 => Some(s.as_bytes().to_vec()),
            Utf16 => Some([0xfe, 0xff].into_iter().chain(s.encode_utf16().flat_map(u16::to_be_bytes)).collect()),
            Utf16Be => Some(s.encode_utf16().flat_map(u16::to_be_bytes).collect()),
            Utf16Le => Some(s.encode_utf16().flat_map(u16::to_le_bytes).collect()),
            Latin1 => s.chars().map(|c| u8::try_from(c as u32).ok()).collect(),
            Ascii => s.chars().map(|c| c.is_ascii().then_some(c as u8)).collect(),
            Windows1252 => s.chars().map(windows_1252_byte).collect(),
        }
    }

    /// The text in `bytes`, or None when they do not decode cleanly.
    fn decode(self, bytes: &[u8]) -> Option<String> {
        use TextEncoding::*;
        let text = match self {
            Utf8 => String::from_utf8(bytes.to_vec()).ok()?,
            Utf16 => match bytes {
                [0xfe, 0xff, rest @ ..] => decode_utf16(rest, u16::from_be_bytes)?,
                [0xff, 0xfe, rest @ ..] => decode_utf16(rest, u16::from_le_bytes)?,
                _ => decode_utf16(bytes, u16::from_be_bytes)?,
            },
            Utf16Be => decode_utf16(bytes, u16::from_be_bytes)?,
            Utf16Le => decode_utf16(bytes, u16::from_le_bytes)?,
            Latin1 => bytes.iter().map(|&b| b as char).collect(),
            Ascii => bytes.iter().map(|&b| b.is_ascii().then_some(b as char)).collect::<Option<_>>()?,
            Windows1252 => bytes.iter().map(|&b| windows_1252_char(b)).collect(),
        };
        // Terraform rejects any replacement character in the result, since
        // that is how Go's decoders report undecodable input.
        (!text.contains('\u{fffd}')).then_some(text)
    }
}

fn decode_utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Option<String> {
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    let units = bytes.chunks_exact(2).map(|p| unit([p[0], p[1]]));
    char::decode_utf16(units).collect::<Result<String, _>>().ok()
}

/// Windows-1252 differs from ISO-8859-1 in 0x80..0x9F; the five unassigned
/// bytes there map to the C1 controls, as in the WHATWG table Go uses.
const WINDOWS_1252_HIGH: [u16; 32] = [
    0x20ac, 0x0081, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008d, 0x017d, 0x008f, 0x0090, 0x2018, 0x2019,
    0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x009d, 0x017e, 0x0178,
];

fn windows_1252_char(b: u8) -> char {
    match b {
        0x80..=0x9f => char::from_u32(WINDOWS_1252_HIGH[(b - 0x80) as usize] as u32).unwrap_or('\u{fffd}'),
        _ => b as char,
    }
}

fn windows_1252_byte(c: char) -> Option<u8> {
    let code = c as u32;
    if let Some(i) = WINDOWS_1252_HIGH.iter().position(|&u| u as u32 == code) {
        return Some(0x80 + i as u8);
    }
    match code {
        0x00..=0x7f | 0xa0..=0xff => Some(code as u8),
        _ => None,
    }
}

fn encoding_arg(args: &[Value]) -> Result<(String, TextEncoding), FuncError> {
    let name = string_arg(args, 1, "encoding")?;
    let enc = TextEncoding::lookup(&name).ok_or_else(|| FuncError::arg(1, format!("{} is not a supported IANA encoding name or alias", go_quote(&name))))?;
    Ok((name, enc))
}

fn textencodebase64(name: &str, args: &[Value]) -> FuncResult {
    arity(name, args, 2, Some(2))?;
    let s = string_arg(args, 0, "string")?;
    let (enc_name, enc) = encoding_arg(args)?;
    let bytes = enc.encode(&s).ok_or_else(|| FuncError::arg(0, format!("the given string contains characters that cannot be represented in {enc_name}")))?;
    Ok(Value::String(STANDARD.encode(bytes)))
}

fn textdecodebase64(name: &str, args: &[Value]) -> FuncResult {
    arity(name, args, 2, Some(2))?;
    let s = string_arg(args, 0, "source")?;
    let (enc_name, enc) = encoding_arg(args)?;
    let bytes = go_base64_decode(&s).map_err(|e| {
        let offset = match e {
            base64::DecodeError::InvalidByte(i, _) | base64::DecodeError::InvalidLastSymbol(i, _) => i,
            _ => s.len(),
        };
        FuncError::arg(0, format!("the given value is has an invalid base64 symbol at offset {offset}"))
    })?;
    let text = enc.decode(&bytes).ok_or_else(|| FuncError::arg(0, format!("the given string contains symbols that are not defined for {enc_name}")))?;
    Ok(Value::String(text))
}

// ---------------------------------------------------------------------------
// URLs
// ---------------------------------------------------------------------------

/// Go's url.QueryEscape: unreserved characters stay, spaces become `+`,
/// every other byte is percent-encoded in upper case.
fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

// ---------------------------------------------------------------------------
// CSV
// ---------------------------------------------------------------------------

/// Parses CSV the way Go's encoding/csv does (RFC 4180, blank lines
/// skipped, strict quoting) into a list of objects keyed by the header row.
fn csv_decode(text: &str) -> Result<Value, String> {
    let mut reader = CsvReader::new(text);
    let headers = match reader.record().map_err(|e| e.to_string())? {
        Some((_, headers)) => headers,
        None => return Err("missing header line".to_string()),
    };
    for (i, h) in headers.iter().enumerate() {
        if headers[..i].contains(h) {
            return Err(format!("duplicate column name {}", go_quote(h)));
        }
    }
    let mut rows = Vec::new();
    while let Some((line, fields)) = reader.record().map_err(|e| e.to_string())? {
        if fields.len() != headers.len() {
            return Err(CsvError { line, msg: "wrong number of fields" }.to_string());
        }
        let row: BTreeMap<String, Value> = headers.iter().cloned().zip(fields.into_iter().map(Value::String)).collect();
        rows.push(Value::Object(row));
    }
    Ok(Value::List(rows))
}

struct CsvError {
    line: usize,
    msg: &'static str,
}

impl std::fmt::Display for CsvError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CSV parse error on line {}: {}", self.line, self.msg)
    }
}

struct CsvReader<'a> {
    rest: &'a str,
    line: usize,
}

const BARE_QUOTE: &str = "bare \" in non-quoted-field";
const BAD_QUOTE: &str = "extraneous or missing \" in quoted-field";

impl<'a> CsvReader<'a> {
    fn new(text: &'a str) -> Self {
        CsvReader { rest: text, line: 0 }
    }

    /// The next physical line with its line ending normalized to "\n"; a
    /// last line without one keeps none (and loses a trailing "\r").
    fn next_line(&mut self) -> Option<String> {
        if self.rest.is_empty() {
            return None;
        }
        self.line += 1;
        let (line, rest) = match self.rest.find('\n') {
            Some(i) => (&self.rest[..=i], &self.rest[i + 1..]),
            None => (self.rest, ""),
        };
        self.rest = rest;
        Some(match line.strip_suffix("\r\n") {
            Some(body) => format!("{body}\n"),
            None if rest.is_empty() && !line.ends_with('\n') => line.strip_suffix('\r').unwrap_or(line).to_string(),
            None => line.to_string(),
        })
    }

    /// The next record and the line it starts on.
    fn record(&mut self) -> Result<Option<(usize, Vec<String>)>, CsvError> {
        let mut line = loop {
            match self.next_line() {
                None => return Ok(None),
                Some(l) if l == "\n" => continue,
                Some(l) => break l,
            }
        };
        let start = self.line;
        let mut fields = Vec::new();
        loop {
            if !line.starts_with('"') {
                let end = line.find(',');
                let field = match end {
                    Some(i) => &line[..i],
                    None => line.strip_suffix('\n').unwrap_or(&line),
                };
                if field.contains('"') {
                    return Err(CsvError { line: self.line, msg: BARE_QUOTE });
                }
                fields.push(field.to_string());
                match end {
                    Some(i) => line = line[i + 1..].to_string(),
                    None => return Ok(Some((start, fields))),
                }
                continue;
            }
            // A quoted field, which may continue over several lines.
            let mut field = String::new();
            line = line[1..].to_string();
            loop {
                if let Some(i) = line.find('"') {
                    field.push_str(&line[..i]);
                    let after = &line[i + 1..];
                    if let Some(more) = after.strip_prefix('"') {
                        field.push('"');
                        line = more.to_string();
                    } else if let Some(more) = after.strip_prefix(',') {
                        fields.push(field);
                        line = more.to_string();
                        break;
                    } else if after.is_empty() || after == "\n" {
                        fields.push(field);
                        return Ok(Some((start, fields)));
                    } else {
                        return Err(CsvError { line: self.line, msg: BAD_QUOTE });
                    }
                } else if !line.is_empty() {
                    field.push_str(&line);
                    line = self.next_line().unwrap_or_default();
                } else {
                    return Err(CsvError { line: self.line, msg: BAD_QUOTE });
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------

/// Compact JSON as cty writes it: object keys sorted, integers without a
/// fraction, and strings escaped like Go's encoding/json (which also
/// escapes `<`, `>`, `&`, U+2028 and U+2029).
pub(crate) fn json_encode(v: &Value) -> Result<String, String> {
    let mut out = String::new();
    write_json(&mut out, v)?;
    Ok(out)
}

fn write_json(out: &mut String, v: &Value) -> Result<(), String> {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) if n.is_infinite() => return Err("cannot serialize infinity as JSON".to_string()),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => out.push_str(&json_quote(s)),
        Value::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(out, item)?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&json_quote(k));
                out.push(':');
                write_json(out, item)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

/// A JSON string literal escaped the way Go's encoding/json escapes it.
pub(crate) fn json_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

// ---------------------------------------------------------------------------
// YAML decoding
// ---------------------------------------------------------------------------

/// Decodes one YAML document, applying `<<` merge keys. Scalars resolve
/// with YAML 1.2 core rules (serde_yaml's), so unlike go-cty-yaml a plain
/// `yes`/`on` stays a string and timestamps stay as written.
fn yaml_decode(text: &str) -> Result<Value, String> {
    let mut doc: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| e.to_string())?;
    doc.apply_merge().map_err(|e| e.to_string())?;
    yaml_to_value(doc)
}

/// A YAML number as cty reads its text: integers exactly, decimals at the
/// literal precision (serde_yaml keeps them as f64, whose shortest text is
/// the text written for any decimal of up to 15 digits).
fn yaml_number(n: &serde_yaml::Number) -> Result<Value, String> {
    if let Some(i) = n.as_i64() {
        return Ok(Value::from(i));
    }
    if let Some(u) = n.as_u64() {
        return Ok(Value::from(u));
    }
    let f = n.as_f64().ok_or_else(|| format!("cannot represent {n} as a number"))?;
    match Number::parse(&f.to_string()) {
        Some(Ok(parsed)) => Ok(Value::Number(parsed)),
        _ => Number::from_f64(f).map(Value::Number).ok_or_else(|| "floating point NaN is not supported".to_string()),
    }
}

fn yaml_to_value(y: serde_yaml::Value) -> Result<Value, String> {
    use serde_yaml::Value as Y;
    Ok(match y {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => yaml_number(&n)?,
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::List(items.into_iter().map(yaml_to_value).collect::<Result<_, _>>()?),
        Y::Mapping(map) => {
            let mut out = BTreeMap::new();
            for (k, v) in map {
                out.insert(yaml_key(k)?, yaml_to_value(v)?);
            }
            Value::Object(out)
        }
        Y::Tagged(tagged) => return Err(format!("unsupported tag {}", go_quote(&tagged.tag.to_string()))),
    })
}

/// Mapping keys become object attribute names, so they must be scalars.
fn yaml_key(k: serde_yaml::Value) -> Result<String, String> {
    match yaml_to_value(k)? {
        Value::Null => Err("mapping keys must not be null".to_string()),
        key => key.to_string_lossless().ok_or_else(|| "mapping keys must be strings".to_string()),
    }
}

// ---------------------------------------------------------------------------
// YAML encoding
// ---------------------------------------------------------------------------

/// Writes YAML exactly as go-cty-yaml does: block style, every string
/// double-quoted unless it spans lines (then a literal block), empty
/// collections in flow style, and the layout rules of its libyaml-derived
/// emitter (indentless sequences in mappings, folding long quoted strings at
/// column 80, "..." after a bare top-level scalar).
fn yaml_encode(v: &Value) -> String {
    let mut e = YamlEmitter::default();
    e.node(v, Context { root: true, mapping: false, simple_key: false });
    e.write_indent(); // document end
    if e.open_ended {
        e.write_indicator("...", true, false, false);
        e.write_indent();
    }
    e.out
}

const BEST_INDENT: i64 = 2;
const BEST_WIDTH: usize = 80;

#[derive(Clone, Copy)]
struct Context {
    root: bool,
    mapping: bool,
    simple_key: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum ScalarStyle {
    Plain,
    DoubleQuoted,
    Literal,
}

/// The emitter's layout state, named as in libyaml.
struct YamlEmitter {
    out: String,
    column: usize,
    indent: i64,
    indents: Vec<i64>,
    whitespace: bool,
    indention: bool,
    open_ended: bool,
}

impl Default for YamlEmitter {
    fn default() -> Self {
        YamlEmitter { out: String::new(), column: 0, indent: -1, indents: Vec::new(), whitespace: true, indention: true, open_ended: false }
    }
}

fn yaml_is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// What libyaml will print unescaped (it escapes everything above the
/// Basic Multilingual Plane).
fn yaml_is_printable(c: char) -> bool {
    match c as u32 {
        0x0a | 0x20..=0x7e | 0xa0..=0xd7ff => true,
        0xe000..=0xfffd => c != '\u{feff}',
        _ => false,
    }
}

/// The facts about a scalar's text that decide its style.
struct ScalarInfo {
    multiline: bool,
    block_allowed: bool,
}

fn analyze_scalar(s: &str) -> ScalarInfo {
    if s.is_empty() {
        return ScalarInfo { multiline: false, block_allowed: false };
    }
    let (mut line_breaks, mut special, mut space_break) = (false, false, false);
    let mut previous_space = false;
    for c in s.chars() {
        special |= !yaml_is_printable(c);
        if c == ' ' {
            previous_space = true;
        } else if yaml_is_break(c) {
            line_breaks = true;
            space_break |= previous_space;
            previous_space = false;
        } else {
            previous_space = false;
        }
    }
    let trailing_space = s.ends_with(' ');
    ScalarInfo { multiline: line_breaks, block_allowed: !(trailing_space || space_break || special) }
}

impl YamlEmitter {
    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    fn increase_indent(&mut self, flow: bool, indentless: bool) {
        self.indents.push(self.indent);
        if self.indent < 0 {
            self.indent = if flow { BEST_INDENT } else { 0 };
        } else if !indentless {
            self.indent += BEST_INDENT;
        }
    }

    fn pop_indent(&mut self) {
        self.indent = self.indents.pop().unwrap_or(-1);
    }

    fn write_indent(&mut self) {
        let indent = self.indent.max(0) as usize;
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
        self.indention = true;
    }

    fn write_indicator(&mut self, indicator: &str, need_whitespace: bool, is_whitespace: bool, is_indention: bool) {
        if need_whitespace && !self.whitespace {
            self.put(' ');
        }
        indicator.chars().for_each(|c| self.put(c));
        self.whitespace = is_whitespace;
        self.indention = self.indention && is_indention;
        self.open_ended = false;
    }

    fn node(&mut self, v: &Value, ctx: Context) {
        match v {
            Value::List(items) if items.is_empty() => self.empty_flow("[", "]"),
            Value::Object(map) if map.is_empty() => self.empty_flow("{", "}"),
            Value::List(items) => self.block_sequence(items, ctx),
            Value::Object(map) => self.block_mapping(map),
            scalar => self.scalar(scalar, ctx),
        }
    }

    fn empty_flow(&mut self, open: &str, close: &str) {
        self.write_indicator(open, true, true, false);
        self.write_indicator(close, false, false, false);
    }

    fn block_sequence(&mut self, items: &[Value], ctx: Context) {
        // A sequence that is a mapping value sits at the key's indentation.
        self.increase_indent(false, ctx.mapping && !self.indention);
        for item in items {
            self.write_indent();
            self.write_indicator("-", true, false, true);
            self.node(item, Context { root: false, mapping: false, simple_key: false });
        }
        self.pop_indent();
    }

    fn block_mapping(&mut self, map: &BTreeMap<String, Value>) {
        self.increase_indent(false, false);
        let in_mapping = Context { root: false, mapping: true, simple_key: false };
        for (key, value) in map {
            self.write_indent();
            let info = analyze_scalar(key);
            let key_value = Value::String(key.clone());
            if !info.multiline && key.len() <= 128 {
                self.node(&key_value, Context { simple_key: true, ..in_mapping });
                self.write_indicator(":", false, false, false);
            } else {
                self.write_indicator("?", true, false, true);
                self.node(&key_value, in_mapping);
                self.write_indent();
                self.write_indicator(":", true, false, true);
            }
            self.node(value, in_mapping);
        }
        self.pop_indent();
    }

    fn scalar(&mut self, v: &Value, ctx: Context) {
        let (text, requested) = match v {
            Value::String(s) if s.contains('\n') => (s.clone(), ScalarStyle::Literal),
            Value::String(s) => (s.clone(), ScalarStyle::DoubleQuoted),
            Value::Number(n) if n.is_infinite() => ((if n.is_sign_negative() { "-.Inf" } else { "+.Inf" }).to_string(), ScalarStyle::Plain),
            Value::Number(n) => (n.to_string(), ScalarStyle::Plain),
            Value::Bool(b) => (b.to_string(), ScalarStyle::Plain),
            _ => ("null".to_string(), ScalarStyle::Plain),
        };
        let info = analyze_scalar(&text);
        let mut style = requested;
        if style == ScalarStyle::Literal && (!info.block_allowed || ctx.simple_key) {
            style = ScalarStyle::DoubleQuoted;
        }
        self.increase_indent(true, false);
        match style {
            ScalarStyle::Plain => self.write_plain(&text, ctx.root),
            ScalarStyle::DoubleQuoted => self.write_double_quoted(&text, !ctx.simple_key),
            ScalarStyle::Literal => self.write_literal(&text),
        }
        self.pop_indent();
    }

    fn write_plain(&mut self, text: &str, root: bool) {
        if !self.whitespace {
            self.put(' ');
        }
        text.chars().for_each(|c| self.put(c));
        self.whitespace = false;
        self.indention = false;
        if root {
            self.open_ended = true;
        }
    }

    fn write_double_quoted(&mut self, text: &str, allow_breaks: bool) {
        self.write_indicator("\"", true, false, false);
        // libyaml checks for a byte order mark at the start of the whole
        // value rather than at each character, so such a value is escaped
        // throughout.
        let starts_with_bom = text.starts_with('\u{feff}');
        let mut spaces = false;
        let mut chars = text.char_indices().peekable();
        while let Some((pos, c)) = chars.next() {
            if starts_with_bom || !yaml_is_printable(c) || yaml_is_break(c) || c == '"' || c == '\\' {
                self.put_escaped(c);
                spaces = false;
            } else if c == ' ' {
                let foldable = pos > 0 && pos + 1 < text.len();
                if allow_breaks && !spaces && self.column > BEST_WIDTH && foldable {
                    self.write_indent();
                    if matches!(chars.peek(), Some((_, ' '))) {
                        self.put('\\');
                    }
                } else {
                    self.put(c);
                }
                spaces = true;
            } else {
                self.put(c);
                spaces = false;
            }
        }
        self.write_indicator("\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn put_escaped(&mut self, c: char) {
        self.put('\\');
        let short = match c {
            '\0' => Some('0'),
            '\u{7}' => Some('a'),
            '\u{8}' => Some('b'),
            '\t' => Some('t'),
            '\n' => Some('n'),
            '\u{b}' => Some('v'),
            '\u{c}' => Some('f'),
            '\r' => Some('r'),
            '\u{1b}' => Some('e'),
            '"' => Some('"'),
            '\\' => Some('\\'),
            '\u{85}' => Some('N'),
            '\u{a0}' => Some('_'),
            '\u{2028}' => Some('L'),
            '\u{2029}' => Some('P'),
            _ => None,
        };
        if let Some(s) = short {
            self.put(s);
            return;
        }
        let code = c as u32;
        let hex = match code {
            0..=0xff => format!("x{code:02X}"),
            0x100..=0xffff => format!("u{code:04X}"),
            _ => format!("U{code:08X}"),
        };
        hex.chars().for_each(|h| self.put(h));
    }

    fn write_literal(&mut self, text: &str) {
        self.write_indicator("|", true, false, false);
        if text.starts_with(' ') || text.starts_with(yaml_is_break) {
            self.write_indicator(&BEST_INDENT.to_string(), false, false, false);
        }
        // Chomping: strip a missing final newline, keep extra ones.
        let mut tail = text.chars().rev();
        let chomp = match (tail.next(), tail.next()) {
            (Some(last), _) if !yaml_is_break(last) => Some("-"),
            (Some(_), None) => Some("+"),
            (Some(_), Some(prev)) if yaml_is_break(prev) => Some("+"),
            _ => None,
        };
        if let Some(hint) = chomp {
            self.write_indicator(hint, false, false, false);
        }
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        for c in text.chars() {
            if yaml_is_break(c) {
                if c == '\n' {
                    self.put_break();
                } else {
                    self.out.push(c);
                    self.column = 0;
                }
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.put(c);
                self.indention = false;
                breaks = false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::string::testutil::{err, list, n, object, ok, s};
    use super::*;

    fn yaml(v: Value) -> String {
        match ok("yamlencode", vec![v]) {
            Value::String(s) => s,
            other => panic!("yamlencode returned {other}"),
        }
    }

    #[test]
    fn base64_round_trips() {
        assert_eq!(ok("base64encode", vec![s("Hello World")]), s("SGVsbG8gV29ybGQ="));
        assert_eq!(ok("base64encode", vec![s("")]), s(""));
        assert_eq!(ok("base64decode", vec![s("SGVsbG8gV29ybGQ=")]), s("Hello World"));
        assert_eq!(ok("base64decode", vec![s("SGVs\nbG8=")]), s("Hello"));
        assert_eq!(ok("base64decode", vec![s("YR==")]), s("a")); // stray bits are tolerated
        assert_eq!(err("base64decode", vec![s("SGVsbG8")]), "failed to decode base64 data 'SGVsbG8'");
        assert_eq!(err("base64decode", vec![s("/w==")]), "the result of decoding the provided string is not valid UTF-8");
    }

    #[test]
    fn base64gzip_decompresses_to_the_input() {
        use std::io::Read as _;
        let Value::String(encoded) = ok("base64gzip", vec![s("test")]) else { panic!() };
        let bytes = STANDARD.decode(&encoded).unwrap();
        assert_eq!(&bytes[..4], &[0x1f, 0x8b, 8, 0]);
        let mut text = String::new();
        flate2::read::GzDecoder::new(&bytes[..]).read_to_string(&mut text).unwrap();
        assert_eq!(text, "test");
        // Byte for byte what Packer gives (its own test vectors).
        assert_eq!(encoded, "H4sIAAAAAAAA/ypJLS4BAAAA//8BAAD//wx+f9gEAAAA");
        assert_eq!(ok("base64gzip", vec![s("helloworld")]), s("H4sIAAAAAAAA/8pIzcnJL88vykkBAAAA//8BAAD//60g6/kKAAAA"));
        assert_eq!(ok("base64gzip", vec![s("")]), s("H4sIAAAAAAAA/wAAAP//AQAA//8AAAAAAAAAAA=="));
        let long = "a fairly long line of text that repeats, ".repeat(200);
        let Value::String(encoded) = ok("base64gzip", vec![s(&long)]) else { panic!() };
        let mut text = String::new();
        flate2::read::GzDecoder::new(&STANDARD.decode(encoded).unwrap()[..]).read_to_string(&mut text).unwrap();
        assert_eq!(text, long);
    }

    #[test]
    fn csvdecode_rows() {
        assert_eq!(
            ok("csvdecode", vec![s("a,b,c\n1,2,3\n4,5,6")]),
            Value::List(vec![object(&[("a", s("1")), ("b", s("2")), ("c", s("3"))]), object(&[("a", s("4")), ("b", s("5")), ("c", s("6"))]),])
        );
        assert_eq!(
            ok("csvdecode", vec![s("k,v\r\n\r\n\"x,\"\"y\"\"\",\"two\nlines\"\r\n")]),
            Value::List(vec![object(&[("k", s("x,\"y\"")), ("v", s("two\nlines"))])])
        );
        assert_eq!(ok("csvdecode", vec![s("a,b\n")]), Value::List(vec![]));
        assert_eq!(err("csvdecode", vec![s("")]), "missing header line");
        assert_eq!(err("csvdecode", vec![s("a,a\n1,2")]), "duplicate column name \"a\"");
        assert_eq!(err("csvdecode", vec![s("a,b\n1,2,3")]), "CSV parse error on line 2: wrong number of fields");
        assert_eq!(err("csvdecode", vec![s("a,b\n1,x\"y")]), "CSV parse error on line 2: bare \" in non-quoted-field");
        assert_eq!(err("csvdecode", vec![s("a\n\"x\"y")]), "CSV parse error on line 2: extraneous or missing \" in quoted-field");
        assert_eq!(err("csvdecode", vec![s("a\n\"open")]), "CSV parse error on line 2: extraneous or missing \" in quoted-field");
    }

    #[test]
    fn jsonencode_matches_go() {
        let v = object(&[("b", Value::List(vec![n(1.0), n(2.5), Value::Bool(true), Value::Null])), ("a", s("<tag> & \"q\"\n\u{2028}\u{1}"))]);
        assert_eq!(ok("jsonencode", vec![v]), s("{\"a\":\"\\u003ctag\\u003e \\u0026 \\\"q\\\"\\n\\u2028\\u0001\",\"b\":[1,2.5,true,null]}"));
        assert_eq!(ok("jsonencode", vec![n(1e20)]), s("100000000000000000000"));
        assert_eq!(ok("jsonencode", vec![s("é")]), s("\"é\""));
        assert_eq!(err("jsonencode", vec![n(f64::INFINITY)]), "cannot serialize infinity as JSON");
    }

    #[test]
    fn jsondecode_values() {
        assert_eq!(
            ok("jsondecode", vec![s("{\"hello\": \"world\", \"n\": [1, 2.5, null, false]}")]),
            object(&[("hello", s("world")), ("n", Value::List(vec![n(1.0), n(2.5), Value::Null, Value::Bool(false)]))])
        );
        assert_eq!(ok("jsondecode", vec![s("true")]), Value::Bool(true));
        assert!(!err("jsondecode", vec![s("{")]).is_empty());
        assert!(!err("jsondecode", vec![s("1 2")]).is_empty());
    }

    #[test]
    fn text_encodings() {
        assert_eq!(ok("textencodebase64", vec![s("Hello World"), s("UTF-16LE")]), s("SABlAGwAbABvACAAVwBvAHIAbABkAA=="));
        assert_eq!(ok("textencodebase64", vec![s("hé"), s("utf-16be")]), s("AGgA6Q=="));
        assert_eq!(ok("textencodebase64", vec![s("hi"), s("UTF-16")]), s("/v8AaABp"));
        assert_eq!(ok("textencodebase64", vec![s("café"), s("ISO-8859-1")]), s("Y2Fm6Q=="));
        assert_eq!(ok("textencodebase64", vec![s("€"), s("windows-1252")]), s("gA=="));
        assert_eq!(ok("textencodebase64", vec![s("hi"), s("UTF-8")]), s("aGk="));
        assert_eq!(ok("textdecodebase64", vec![s("SABlAGwAbABvACAAVwBvAHIAbABkAA=="), s("UTF-16LE")]), s("Hello World"));
        assert_eq!(ok("textdecodebase64", vec![s("//5oAGkA"), s("utf-16")]), s("hi"));
        assert_eq!(ok("textdecodebase64", vec![s("Y2Fm6Q=="), s("latin1")]), s("café"));
        assert_eq!(ok("textdecodebase64", vec![s("gIE="), s("cp1252")]), s("€\u{81}"));
        assert_eq!(err("textencodebase64", vec![s("€"), s("ISO-8859-1")]), "the given string contains characters that cannot be represented in ISO-8859-1");
        assert_eq!(err("textencodebase64", vec![s("x"), s("EBCDIC-XX")]), "\"EBCDIC-XX\" is not a supported IANA encoding name or alias");
        assert_eq!(err("textdecodebase64", vec![s("/w=="), s("UTF-8")]), "the given string contains symbols that are not defined for UTF-8");
        assert_eq!(err("textdecodebase64", vec![s("ab!d"), s("UTF-8")]), "the given value is has an invalid base64 symbol at offset 2");
    }

    #[test]
    fn urlencode_like_query_escape() {
        assert_eq!(ok("urlencode", vec![s("Hello World!")]), s("Hello+World%21"));
        assert_eq!(ok("urlencode", vec![s("a-b_c.d~e/f?g=h&i")]), s("a-b_c.d~e%2Ff%3Fg%3Dh%26i"));
        assert_eq!(ok("urlencode", vec![s("☃")]), s("%E2%98%83"));
    }

    #[test]
    fn yamldecode_documents() {
        assert_eq!(
            ok("yamldecode", vec![s("hello: world\nlist: [1, 2.5, true, ~]\n")]),
            object(&[("hello", s("world")), ("list", Value::List(vec![n(1.0), n(2.5), Value::Bool(true), Value::Null]))])
        );
        assert_eq!(
            ok("yamldecode", vec![s("a: &x\n  k: v\nb:\n  <<: *x\n  j: w\n")]),
            object(&[("a", object(&[("k", s("v"))])), ("b", object(&[("j", s("w")), ("k", s("v"))]))])
        );
        assert_eq!(ok("yamldecode", vec![s("")]), Value::Null);
        assert_eq!(ok("yamldecode", vec![s("- 0x10\n- \"1\"\n- 1: one\n")]), Value::List(vec![n(16.0), s("1"), object(&[("1", s("one"))])]));
        assert!(err("yamldecode", vec![s(".nan")]).contains("NaN"));
        assert!(!err("yamldecode", vec![s("a: [")]).is_empty());
        assert!(err("yamldecode", vec![s("!custom x")]).contains("unsupported tag"));
    }

    #[test]
    fn yamlencode_scalars() {
        assert_eq!(yaml(Value::Bool(true)), "true\n...\n");
        assert_eq!(yaml(n(0.0)), "0\n...\n");
        assert_eq!(yaml(n(1.5)), "1.5\n...\n");
        assert_eq!(yaml(Value::Null), "null\n...\n");
        assert_eq!(yaml(s("")), "\"\"\n");
        assert_eq!(yaml(s("hello")), "\"hello\"\n");
        assert_eq!(yaml(s("true")), "\"true\"\n");
        assert_eq!(yaml(s("tab\there \"q\" \\ é 😀")), "\"tab\\there \\\"q\\\" \\\\ é \\U0001F600\"\n");
        assert_eq!(yaml(s("a\nb")), "|-\n  a\n  b\n");
        assert_eq!(yaml(s("a\nb\n")), "|\n  a\n  b\n");
        assert_eq!(yaml(s("a\n\n")), "|+\n  a\n\n");
        assert_eq!(yaml(s(" lead\n")), "|2\n   lead\n");
        assert_eq!(yaml(s("trail \nx")), "\"trail \\nx\"\n");
    }

    #[test]
    fn yamlencode_collections() {
        assert_eq!(yaml(object(&[("a", s("b")), ("c", s("d"))])), "\"a\": \"b\"\n\"c\": \"d\"\n");
        assert_eq!(yaml(object(&[("foo", Value::List(vec![n(1.0), n(2.0), n(3.0)])), ("bar", s("baz"))])), "\"bar\": \"baz\"\n\"foo\":\n- 1\n- 2\n- 3\n");
        assert_eq!(
            yaml(object(&[("foo", Value::List(vec![n(1.0), object(&[("a", s("b")), ("c", s("d"))]), n(3.0)])), ("bar", s("baz")),])),
            "\"bar\": \"baz\"\n\"foo\":\n- 1\n- \"a\": \"b\"\n  \"c\": \"d\"\n- 3\n"
        );
        assert_eq!(yaml(object(&[("a", object(&[("b", object(&[("c", n(1.0))]))]))])), "\"a\":\n  \"b\":\n    \"c\": 1\n");
        assert_eq!(yaml(Value::List(vec![list(&["a", "b"]), list(&[])])), "- - \"a\"\n  - \"b\"\n- []\n");
        assert_eq!(yaml(object(&[("e", object(&[])), ("l", list(&[]))])), "\"e\": {}\n\"l\": []\n");
        assert_eq!(yaml(list(&[])), "[]\n");
        assert_eq!(yaml(object(&[])), "{}\n");
        assert_eq!(yaml(object(&[("script", s("echo hi\nexit 0\n"))])), "\"script\": |\n  echo hi\n  exit 0\n");
        assert_eq!(yaml(object(&[("k\nx", n(1.0))])), "? |-\n  k\n  x\n: 1\n");
        assert_eq!(yaml(Value::List(vec![s("x\ny"), n(2.0)])), "- |-\n  x\n  y\n- 2\n");
    }

    #[test]
    fn yamlencode_folds_long_strings() {
        let long = "word ".repeat(20) + "end";
        let expected = format!("\"k\": \"{}word\n  {}end\"\n", "word ".repeat(15), "word ".repeat(4));
        assert_eq!(yaml(object(&[("k", s(&long))])), expected);
    }
}
