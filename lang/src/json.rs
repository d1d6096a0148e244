//! HCL JSON syntax (`*.pkr.json`, `*.pkrvars.json`), lowered into the same
//! syntax tree as native HCL so the evaluator sees one form.
//!
//! JSON alone cannot tell a block from an attribute whose value is an object,
//! so lowering is driven by a schema: for each key, the caller says whether it
//! is a block type (and how many labels it takes) at that nesting. Labels are
//! nested object keys (`"source": {"qemu": {"web": {...}}}`), and at any label
//! level or at the body itself an array of objects stands for repeated blocks,
//! which is how JSON keeps several blocks of one type in order.
//!
//! serde_json gives no positions, and every node of our tree needs a span, so
//! this module has its own small JSON scanner that records the byte range of
//! every key and value. Strings that are attribute values are HCL templates;
//! they are parsed with the native template parser and their spans are mapped
//! back into the JSON file, through escapes too.

use crate::ast::*;
use crate::diag::Diagnostic;
use crate::number::Number;
use crate::parse;
use crate::source::{FileId, SourceMap, Span};
use crate::value::Value;
use std::collections::HashMap;

/// The key JSON files use for comments: `"//": "why this is here"`.
const COMMENT_KEY: &str = "//";

/// Nesting deeper than this is rejected rather than risking the stack.
const MAX_DEPTH: usize = 512;

/// Parses a `*.pkr.json` file that has been added to `sources`.
///
/// `schema(path, key)` returns `Some(number_of_labels)` when `key` is a block
/// type inside the blocks `path` (block kinds from the root, `[]` at top
/// level), and `None` when it is an attribute. [`packer_schema`] is Packer's.
///
/// One rule is built in rather than asked of the schema: the `type` attribute
/// of a `variable` block is a type expression (`"list(string)"`), so its
/// string is parsed as a native expression instead of a template, as HCL's
/// JSON syntax does for type constraints.
pub fn parse_json_file(sources: &SourceMap, file: FileId, schema: &dyn Fn(&[&str], &str) -> Option<usize>) -> Result<Body, Diagnostic> {
    let text = sources.get(file).map(|f| f.text.clone()).unwrap_or_default();
    let root = Scanner::new(&text, file).document()?;
    let lower = Lower { sources, schema };
    lower.body(&root, &mut Vec::new())
}

/// Parses a `*.pkrvars.json` file: one object of variable names and values.
/// Values are data, not templates (`"${x}"` stays that text), so the returned
/// body holds attributes whose expressions are literals, tuples and objects.
pub fn parse_json_vars(sources: &SourceMap, file: FileId) -> Result<Body, Diagnostic> {
    let text = sources.get(file).map(|f| f.text.clone()).unwrap_or_default();
    let root = Scanner::new(&text, file).document()?;
    let JsonKind::Object(members) = &root.kind else {
        return Err(Diagnostic::error(
            "Invalid variables file",
            format!("A variables file must be a JSON object of variable names and values, not {}.", root.kind.describe()),
        )
        .at(root.span));
    };
    let mut body = Body { span: root.span, ..Body::default() };
    let mut seen = HashMap::new();
    for (key, value) in members.iter().filter(|(k, _)| k.value != COMMENT_KEY) {
        check_duplicate(sources, &mut seen, key, "variable")?;
        body.attributes.push(Attribute { name: key.value.clone(), name_span: key.span, expr: literal_expr(value), span: key.span.to(value.span) });
    }
    Ok(body)
}

/// Which keys are blocks in Packer's HCL language, and how many labels each
/// takes. Everything inside plugin configuration (source, data, provisioner
/// and post-processor bodies) is an attribute: bake's config decoder accepts
/// objects and lists of objects where a plugin expects nested blocks.
pub fn packer_schema(path: &[&str], key: &str) -> Option<usize> {
    match (path, key) {
        ([], "variable" | "local") => Some(1),
        ([], "source" | "data") => Some(2),
        ([], "locals" | "variables" | "build" | "packer") => Some(0),
        (["packer"], "required_plugins") => Some(0),
        (["build"], "source" | "provisioner" | "error-cleanup-provisioner" | "post-processor") => Some(1),
        (["build"], "post-processors" | "hcp_packer_registry") => Some(0),
        (["build", "post-processors"], "post-processor") => Some(1),
        (["variable"], "validation") => Some(0),
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// The JSON scanner: a plain recursive-descent parser over bytes that keeps
// the span of everything it reads and keeps object members in source order,
// duplicates included (HCL gives repeated keys a meaning: repeated blocks).

#[derive(Debug)]
struct JsonValue {
    kind: JsonKind,
    span: Span,
}

#[derive(Debug)]
enum JsonKind {
    Null,
    Bool(bool),
    Number(Number),
    String(JsonString),
    Array(Vec<JsonValue>),
    Object(Vec<(JsonString, JsonValue)>),
}

impl JsonKind {
    /// Names the kind of value for error messages.
    fn describe(&self) -> &'static str {
        match self {
            JsonKind::Null => "null",
            JsonKind::Bool(_) => "a boolean",
            JsonKind::Number(_) => "a number",
            JsonKind::String(_) => "a string",
            JsonKind::Array(_) => "an array",
            JsonKind::Object(_) => "an object",
        }
    }
}

/// A decoded JSON string and how to map positions in it back to the file.
#[derive(Debug)]
struct JsonString {
    value: String,
    /// The string's span, quotes included.
    span: Span,
    /// Only present when the string has escapes: for each byte of `value`,
    /// the file offset of the source text that produced it, plus one final
    /// entry for the closing quote. Without escapes the mapping is a plain
    /// shift by the opening quote's position.
    offsets: Option<Vec<u32>>,
}

impl JsonString {
    /// The file span of a byte range of the decoded value.
    fn map(&self, start: u32, end: u32) -> Span {
        let (start, end) = match &self.offsets {
            None => {
                let base = self.span.start + 1;
                let len = self.value.len() as u32;
                (base + start.min(len), base + end.min(len))
            }
            Some(offsets) => {
                let last = offsets.len() - 1;
                (offsets[(start as usize).min(last)], offsets[(end as usize).min(last)])
            }
        };
        Span { file: self.span.file, start, end: end.max(start) }
    }
}

struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    file: FileId,
    depth: usize,
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str, file: FileId) -> Scanner<'a> {
        // Editors on Windows like to start files with a byte order mark; it
        // is not JSON, but rejecting a file for it helps nobody.
        let pos = if text.starts_with('\u{feff}') { 3 } else { 0 };
        Scanner { text, bytes: text.as_bytes(), pos, file, depth: 0 }
    }

    /// One value, then nothing but white space.
    fn document(mut self) -> Result<JsonValue, Diagnostic> {
        self.skip_ws();
        let value = self.value()?;
        self.skip_ws();
        if self.pos < self.bytes.len() {
            return Err(self.error_here("Extra characters after the end of the JSON value; a file holds exactly one value."));
        }
        Ok(value)
    }

    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.file, start, end)
    }

    /// A syntax error pointing at the character under the cursor (or at the
    /// end of the file).
    fn error_here(&self, detail: impl Into<String>) -> Diagnostic {
        let end = self.text[self.pos..].chars().next().map_or(self.pos, |c| self.pos + c.len_utf8());
        Diagnostic::error("Invalid JSON syntax", detail).at(self.span(self.pos, end))
    }

    /// What is under the cursor, for "expected X, found Y" messages.
    fn found(&self) -> String {
        match self.text[self.pos..].chars().next() {
            None => "the end of the file".to_string(),
            Some(c) => format!("{c:?}"),
        }
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    fn value(&mut self) -> Result<JsonValue, Diagnostic> {
        match self.bytes.get(self.pos) {
            Some(b'{') => self.nested(Scanner::object),
            Some(b'[') => self.nested(Scanner::array),
            Some(b'"') => {
                let s = self.string()?;
                Ok(JsonValue { span: s.span, kind: JsonKind::String(s) })
            }
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b'a'..=b'z' | b'A'..=b'Z') => self.word(),
            Some(b'/') => {
                Err(self.error_here("JSON has no comments.").with_help("HCL JSON files use a \"//\" property for comments: \"//\": \"your comment\""))
            }
            _ => Err(self.error_here(format!("Expected a value (a string, number, object, array, true, false or null), found {}.", self.found()))),
        }
    }

    /// Objects and arrays recurse; the depth limit turns absurd nesting into
    /// an error instead of a stack overflow.
    fn nested(&mut self, parse: fn(&mut Self) -> Result<JsonValue, Diagnostic>) -> Result<JsonValue, Diagnostic> {
        if self.depth >= MAX_DEPTH {
            return Err(self.error_here(format!("Values are nested more than {MAX_DEPTH} levels deep.")));
        }
        self.depth += 1;
        let result = parse(self);
        self.depth -= 1;
        result
    }

    fn object(&mut self) -> Result<JsonValue, Diagnostic> {
        let start = self.pos;
        self.pos += 1; // {
        let mut members = Vec::new();
        self.skip_ws();
        if self.bytes.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            return Ok(JsonValue { kind: JsonKind::Object(members), span: self.span(start, self.pos) });
        }
        loop {
            self.skip_ws();
            if self.bytes.get(self.pos) != Some(&b'"') {
                let detail = if !members.is_empty() && self.bytes.get(self.pos) == Some(&b'}') {
                    "Expected a property name after the comma; JSON does not allow a trailing comma.".to_string()
                } else {
                    format!("Expected a property name in double quotes, found {}.", self.found())
                };
                return Err(self.error_here(detail));
            }
            let key = self.string()?;
            self.skip_ws();
            if self.bytes.get(self.pos) != Some(&b':') {
                return Err(self.error_here(format!("Expected ':' after the property name, found {}.", self.found())));
            }
            self.pos += 1;
            self.skip_ws();
            let value = self.value()?;
            members.push((key, value));
            self.skip_ws();
            match self.bytes.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(JsonValue { kind: JsonKind::Object(members), span: self.span(start, self.pos) });
                }
                _ => return Err(self.error_here(format!("Expected ',' or '}}' after a property, found {}.", self.found()))),
            }
        }
    }

    fn array(&mut self) -> Result<JsonValue, Diagnostic> {
        let start = self.pos;
        self.pos += 1; // [
        let mut items = Vec::new();
        self.skip_ws();
        if self.bytes.get(self.pos) == Some(&b']') {
            self.pos += 1;
            return Ok(JsonValue { kind: JsonKind::Array(items), span: self.span(start, self.pos) });
        }
        loop {
            self.skip_ws();
            if !items.is_empty() && self.bytes.get(self.pos) == Some(&b']') {
                return Err(self.error_here("Expected a value after the comma; JSON does not allow a trailing comma."));
            }
            items.push(self.value()?);
            self.skip_ws();
            match self.bytes.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(JsonValue { kind: JsonKind::Array(items), span: self.span(start, self.pos) });
                }
                _ => return Err(self.error_here(format!("Expected ',' or ']' after an array element, found {}.", self.found()))),
            }
        }
    }

    /// `true`, `false` or `null`; any other bare word is an error that
    /// covers the whole word.
    fn word(&mut self) -> Result<JsonValue, Diagnostic> {
        let start = self.pos;
        let len = self.bytes[start..].iter().take_while(|b| b.is_ascii_alphanumeric() || **b == b'_').count();
        let word = &self.text[start..start + len];
        let kind = match word {
            "true" => JsonKind::Bool(true),
            "false" => JsonKind::Bool(false),
            "null" => JsonKind::Null,
            _ => {
                let d = Diagnostic::error(
                    "Invalid JSON syntax",
                    format!("Expected a value (a string, number, object, array, true, false or null), found {word:?}."),
                )
                .at(self.span(start, start + len));
                return Err(d.with_help("strings, including references such as \"${var.name}\", must be in double quotes"));
            }
        };
        self.pos += len;
        Ok(JsonValue { kind, span: self.span(start, self.pos) })
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    fn number(&mut self) -> Result<JsonValue, Diagnostic> {
        let start = self.pos;
        let digits = |s: &mut Self| {
            let from = s.pos;
            while s.bytes.get(s.pos).is_some_and(u8::is_ascii_digit) {
                s.pos += 1;
            }
            s.pos - from
        };
        if self.bytes[self.pos] == b'-' {
            self.pos += 1;
        }
        match self.bytes.get(self.pos) {
            Some(b'0') => {
                self.pos += 1;
                if self.bytes.get(self.pos).is_some_and(u8::is_ascii_digit) {
                    return Err(self.error_here("Numbers in JSON cannot have leading zeros."));
                }
            }
            Some(b'1'..=b'9') => {
                digits(self);
            }
            _ => return Err(self.error_here(format!("Expected a digit after '-', found {}.", self.found()))),
        }
        if self.bytes.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            if digits(self) == 0 {
                return Err(self.error_here(format!("Expected a digit after the decimal point, found {}.", self.found())));
            }
        }
        if let Some(b'e' | b'E') = self.bytes.get(self.pos) {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.bytes.get(self.pos) {
                self.pos += 1;
            }
            if digits(self) == 0 {
                return Err(self.error_here(format!("Expected a digit in the exponent, found {}.", self.found())));
            }
        }
        let span = self.span(start, self.pos);
        let n = match Number::parse(&self.text[start..self.pos]) {
            Some(Ok(n)) => n,
            Some(Err(e)) => return Err(Diagnostic::error("Invalid JSON syntax", format!("This number cannot be represented: {e}.")).at(span)),
            None => return Err(Diagnostic::error("Invalid JSON syntax", "This number cannot be represented.").at(span)),
        };
        Ok(JsonValue { kind: JsonKind::Number(n), span })
    }

    /// A string, decoded, with the offset table [`JsonString`] needs when it
    /// has escapes.
    fn string(&mut self) -> Result<JsonString, Diagnostic> {
        let start = self.pos;
        self.pos += 1; // "
        let mut value = String::new();
        let mut offsets: Option<Vec<u32>> = None;
        let mut run = self.pos; // start of the current run of plain characters
        loop {
            let Some(&b) = self.bytes.get(self.pos) else {
                return Err(Diagnostic::error("Invalid JSON syntax", "This string is not closed; the file ends inside it.").at(self.span(start, start + 1)));
            };
            match b {
                b'"' | b'\\' => {
                    value.push_str(&self.text[run..self.pos]);
                    if let Some(o) = &mut offsets {
                        o.extend(run as u32..self.pos as u32);
                    }
                    if b == b'"' {
                        self.pos += 1;
                        break;
                    }
                    let escape_start = self.pos;
                    let c = self.escape()?;
                    let o = offsets.get_or_insert_with(|| (start as u32 + 1..escape_start as u32).collect());
                    o.extend(std::iter::repeat_n(escape_start as u32, c.len_utf8()));
                    value.push(c);
                    run = self.pos;
                }
                0x00..=0x1f => {
                    let what = if b == b'\n' { "a line break" } else { "a control character" };
                    return Err(self
                        .error_here(format!("This string contains {what}, which JSON only allows escaped."))
                        .with_help("write a line break as \\n and a tab as \\t"));
                }
                _ => self.pos += 1,
            }
        }
        if let Some(o) = &mut offsets {
            o.push(self.pos as u32 - 1); // the closing quote
        }
        Ok(JsonString { value, span: self.span(start, self.pos), offsets })
    }

    /// One escape sequence; the cursor is on the backslash.
    fn escape(&mut self) -> Result<char, Diagnostic> {
        let start = self.pos;
        self.pos += 1;
        let simple = match self.bytes.get(self.pos) {
            Some(b'"') => Some('"'),
            Some(b'\\') => Some('\\'),
            Some(b'/') => Some('/'),
            Some(b'b') => Some('\u{8}'),
            Some(b'f') => Some('\u{c}'),
            Some(b'n') => Some('\n'),
            Some(b'r') => Some('\r'),
            Some(b't') => Some('\t'),
            Some(b'u') => None,
            _ => {
                self.pos = start;
                return Err(self.error_here(format!(
                    "Invalid escape sequence; JSON allows \\\", \\\\, \\/, \\b, \\f, \\n, \\r, \\t and \\uXXXX, found {}.",
                    self.text[start..].chars().take(2).collect::<String>()
                )));
            }
        };
        if let Some(c) = simple {
            self.pos += 1;
            return Ok(c);
        }
        self.pos += 1; // u
        let high = self.hex4(start)?;
        let code = match high {
            0xd800..=0xdbff => {
                // A UTF-16 surrogate pair: the low half must follow at once.
                if self.bytes.get(self.pos) != Some(&b'\\') || self.bytes.get(self.pos + 1) != Some(&b'u') {
                    return Err(self.bad_unicode(start));
                }
                self.pos += 2;
                let low = self.hex4(start)?;
                if !(0xdc00..=0xdfff).contains(&low) {
                    return Err(self.bad_unicode(start));
                }
                0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00)
            }
            0xdc00..=0xdfff => return Err(self.bad_unicode(start)),
            c => c,
        };
        char::from_u32(code).ok_or_else(|| self.bad_unicode(start))
    }

    fn hex4(&mut self, escape_start: usize) -> Result<u32, Diagnostic> {
        let hex = self.text.get(self.pos..self.pos + 4).filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()));
        let Some(hex) = hex else {
            return Err(Diagnostic::error("Invalid JSON syntax", "A \\u escape needs exactly four hexadecimal digits.").at(self.span(escape_start, self.pos)));
        };
        self.pos += 4;
        Ok(u32::from_str_radix(hex, 16).expect("checked hex digits"))
    }

    fn bad_unicode(&self, escape_start: usize) -> Diagnostic {
        Diagnostic::error("Invalid JSON syntax", "This \\u escape is half of a UTF-16 surrogate pair without its other half.")
            .at(self.span(escape_start, self.pos))
    }
}

// ---------------------------------------------------------------------------
// Lowering JSON into the syntax tree.

struct Lower<'a> {
    sources: &'a SourceMap,
    schema: &'a dyn Fn(&[&str], &str) -> Option<usize>,
}

impl Lower<'_> {
    /// A body is an object, or an array of objects whose members are read in
    /// turn as if they were one object. `path` holds the kinds of the
    /// enclosing blocks, for the schema.
    fn body<'v>(&self, value: &'v JsonValue, path: &mut Vec<&'v str>) -> Result<Body, Diagnostic> {
        let mut out = Body { span: value.span, ..Body::default() };
        let mut seen = HashMap::new();
        let objects: Vec<&Vec<(JsonString, JsonValue)>> = match &value.kind {
            JsonKind::Object(members) => vec![members],
            JsonKind::Array(items) => items
                .iter()
                .map(|item| match &item.kind {
                    JsonKind::Object(members) => Ok(members),
                    other => Err(body_type_error(item, other, path)),
                })
                .collect::<Result<_, _>>()?,
            other => return Err(body_type_error(value, other, path)),
        };
        for (key, value) in objects.into_iter().flatten() {
            if key.value == COMMENT_KEY {
                continue;
            }
            match (self.schema)(path, &key.value) {
                Some(labels) => {
                    path.push(&key.value);
                    let result = self.blocks(key, value, labels, &mut Vec::new(), path, &mut out.blocks);
                    path.pop();
                    result?;
                }
                None => {
                    check_duplicate(self.sources, &mut seen, key, "argument")?;
                    let is_type = path.last() == Some(&"variable") && key.value == "type";
                    let expr = if is_type { self.type_expr(value)? } else { self.expr(value)? };
                    out.attributes.push(Attribute { name: key.value.clone(), name_span: key.span, expr, span: key.span.to(value.span) });
                }
            }
        }
        Ok(out)
    }

    /// The blocks of type `kind` that `value` holds, with `labels_left` labels
    /// still to read as nested object keys. An array at any level repeats what
    /// it contains, so `"provisioner": [{"shell": {...}}, {"file": {...}}]`
    /// keeps its order.
    fn blocks<'v>(
        &self,
        kind: &JsonString,
        value: &'v JsonValue,
        labels_left: usize,
        labels: &mut Vec<Label>,
        path: &mut Vec<&'v str>,
        out: &mut Vec<Block>,
    ) -> Result<(), Diagnostic> {
        match &value.kind {
            JsonKind::Array(items) => {
                for item in items {
                    if !matches!(item.kind, JsonKind::Object(_)) {
                        return Err(block_type_error(kind, item, labels_left));
                    }
                    self.blocks(kind, item, labels_left, labels, path, out)?;
                }
                Ok(())
            }
            JsonKind::Object(members) if labels_left > 0 => {
                for (label, inner) in members.iter().filter(|(k, _)| k.value != COMMENT_KEY) {
                    labels.push(Label { value: label.value.clone(), span: label.span });
                    let result = self.blocks(kind, inner, labels_left - 1, labels, path, out);
                    labels.pop();
                    result?;
                }
                Ok(())
            }
            JsonKind::Object(_) => {
                let body = self.body(value, path)?;
                out.push(Block { kind: kind.value.clone(), kind_span: kind.span, labels: labels.clone(), body, span: kind.span.to(value.span) });
                Ok(())
            }
            _ => Err(block_type_error(kind, value, labels_left)),
        }
    }

    /// An attribute value: strings are templates, arrays tuples, objects
    /// object expressions (whose keys may be templates too).
    fn expr(&self, value: &JsonValue) -> Result<Expr, Diagnostic> {
        let kind = match &value.kind {
            JsonKind::String(s) => return self.template(s),
            JsonKind::Array(items) => ExprKind::Tuple(items.iter().map(|i| self.expr(i)).collect::<Result<_, _>>()?),
            JsonKind::Object(members) => ExprKind::Object(
                members
                    .iter()
                    .filter(|(k, _)| k.value != COMMENT_KEY)
                    .map(|(k, v)| {
                        let key = match self.template(k)? {
                            Expr { kind: ExprKind::Literal(Value::String(name)), span } => ObjectKey::Ident(name, span),
                            e => ObjectKey::Expr(e),
                        };
                        Ok((key, self.expr(v)?))
                    })
                    .collect::<Result<_, Diagnostic>>()?,
            ),
            _ => return Ok(literal_expr(value)),
        };
        Ok(Expr { kind, span: value.span })
    }

    /// A string as an HCL template, with spans pointing into the JSON file.
    fn template(&self, s: &JsonString) -> Result<Expr, Diagnostic> {
        // Most strings are plain text; skip the template parser for them.
        if !s.value.contains("${") && !s.value.contains("%{") {
            return Ok(Expr { kind: ExprKind::Literal(Value::String(s.value.clone())), span: s.span });
        }
        let expr = reparse(s, parse::parse_template)?;
        let ExprKind::Template(parts) = expr.kind else { unreachable!("parse_template returns a template") };
        // `$${` escapes leave a template of literals only: that is a string.
        let literals: Option<String> = parts
            .iter()
            .map(|p| match p {
                TemplatePart::Literal(t) => Some(t.as_str()),
                _ => None,
            })
            .collect();
        let kind = match literals {
            Some(text) => ExprKind::Literal(Value::String(text)),
            None => ExprKind::Template(parts),
        };
        Ok(Expr { kind, span: s.span })
    }

    /// A variable's `type`: the string holds a native type expression.
    fn type_expr(&self, value: &JsonValue) -> Result<Expr, Diagnostic> {
        match &value.kind {
            JsonKind::String(s) => reparse(s, parse::parse_expression),
            other => Err(Diagnostic::error(
                "Invalid type specification",
                format!("A variable's type is written as a string holding a type expression, not as {}.", other.describe()),
            )
            .at(value.span)
            .with_help("for example \"type\": \"list(string)\"")),
        }
    }
}

/// Parses a JSON string's decoded text with one of the native parsers, then
/// moves every span of the result (or of its syntax error) from the scratch
/// file it was parsed in to where the text is in the JSON file.
fn reparse(s: &JsonString, parser: fn(&SourceMap, FileId) -> Result<Expr, Diagnostic>) -> Result<Expr, Diagnostic> {
    let scratch = SourceMap::new();
    let scratch_file = scratch.add("<json string>", s.value.clone());
    let map = |span: Span| s.map(span.start, span.end);
    match parser(&scratch, scratch_file) {
        Ok(mut expr) => {
            remap_expr(&mut expr, &map);
            Ok(expr)
        }
        Err(mut d) => {
            d.span = Some(d.span.map_or(s.span, map));
            Err(d)
        }
    }
}

/// A value as data: what a variables file holds.
fn literal_expr(value: &JsonValue) -> Expr {
    let kind = match &value.kind {
        JsonKind::Null => ExprKind::Literal(Value::Null),
        JsonKind::Bool(b) => ExprKind::Literal(Value::Bool(*b)),
        JsonKind::Number(n) => ExprKind::Literal(Value::Number(n.clone())),
        JsonKind::String(s) => ExprKind::Literal(Value::String(s.value.clone())),
        JsonKind::Array(items) => ExprKind::Tuple(items.iter().map(literal_expr).collect()),
        JsonKind::Object(members) => ExprKind::Object(
            members.iter().filter(|(k, _)| k.value != COMMENT_KEY).map(|(k, v)| (ObjectKey::Ident(k.value.clone(), k.span), literal_expr(v))).collect(),
        ),
    };
    Expr { kind, span: value.span }
}

/// Native HCL rejects setting an argument twice; JSON objects can repeat a
/// key, so the same check is made here.
fn check_duplicate(sources: &SourceMap, seen: &mut HashMap<String, Span>, key: &JsonString, what: &str) -> Result<(), Diagnostic> {
    if let Some(first) = seen.insert(key.value.clone(), key.span) {
        return Err(Diagnostic::error(
            format!("Duplicate {what}"),
            format!("The {what} \"{}\" was already set at {}; each {what} may be set only once.", key.value, sources.location(first)),
        )
        .at(key.span));
    }
    Ok(())
}

fn body_type_error(value: &JsonValue, kind: &JsonKind, path: &[&str]) -> Diagnostic {
    let whose = path.last().map_or("the file".to_string(), |k| format!("a \"{k}\" block"));
    Diagnostic::error("Incorrect JSON value type", format!("The contents of {whose} must be a JSON object, not {}.", kind.describe())).at(value.span)
}

fn block_type_error(kind: &JsonString, value: &JsonValue, labels_left: usize) -> Diagnostic {
    let expected = if labels_left > 0 {
        format!("an object whose keys are the block's labels ({labels_left} more level(s) of nesting)")
    } else {
        "an object holding the block's contents".to_string()
    };
    Diagnostic::error(
        "Incorrect JSON value type",
        format!(
            "\"{}\" is a block type here, so its value must be {expected}, or an array of such objects for several blocks; found {}.",
            kind.value,
            value.kind.describe()
        ),
    )
    .at(value.span)
}

// ---------------------------------------------------------------------------
// Moving spans: the native parsers see a JSON string's text on its own, so
// every span they produce is relative to that text.

fn remap_expr(e: &mut Expr, map: &dyn Fn(Span) -> Span) {
    e.span = map(e.span);
    match &mut e.kind {
        ExprKind::Literal(_) | ExprKind::Variable(_) => {}
        ExprKind::Template(parts) => remap_parts(parts, map),
        ExprKind::Tuple(items) => items.iter_mut().for_each(|i| remap_expr(i, map)),
        ExprKind::Object(items) => {
            for (k, v) in items {
                match k {
                    ObjectKey::Ident(_, span) => *span = map(*span),
                    ObjectKey::Expr(e) => remap_expr(e, map),
                }
                remap_expr(v, map);
            }
        }
        ExprKind::Traversal(base, ops) => {
            remap_expr(base, map);
            for op in ops {
                match op {
                    Traverser::Attr(_, span) | Traverser::LegacyIndex(_, span) | Traverser::AttrSplat(span) | Traverser::FullSplat(span) => *span = map(*span),
                    Traverser::Index(e) => remap_expr(e, map),
                }
            }
        }
        ExprKind::Call(call) => {
            call.name_span = map(call.name_span);
            call.args.iter_mut().for_each(|a| remap_expr(a, map));
        }
        ExprKind::Conditional(a, b, c) => [a, b, c].into_iter().for_each(|e| remap_expr(e, map)),
        ExprKind::Unary(_, e) | ExprKind::Parens(e) => remap_expr(e, map),
        ExprKind::Binary(_, a, b) => {
            remap_expr(a, map);
            remap_expr(b, map);
        }
        ExprKind::For(f) => {
            remap_expr(&mut f.collection, map);
            remap_expr(&mut f.value_expr, map);
            for e in [f.key_expr.as_mut(), f.cond.as_mut()].into_iter().flatten() {
                remap_expr(e, map);
            }
        }
    }
}

fn remap_parts(parts: &mut [TemplatePart], map: &dyn Fn(Span) -> Span) {
    for part in parts {
        match part {
            TemplatePart::Literal(_) => {}
            TemplatePart::Interpolation(e) => remap_expr(e, map),
            TemplatePart::If { cond, then, otherwise } => {
                remap_expr(cond, map);
                remap_parts(then, map);
                remap_parts(otherwise, map);
            }
            TemplatePart::For { collection, body, .. } => {
                remap_expr(collection, map);
                remap_parts(body, map);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::Evaluator;
    use std::collections::BTreeMap;
    use std::time::SystemTime;

    const TEMPLATE: &str = r#"{
  "//": "A Packer template in JSON syntax.",
  "packer": {
    "required_plugins": {
      "qemu": { "version": ">= 1.0.0", "source": "github.com/hashicorp/qemu" }
    }
  },
  "variable": {
    "mirrors": {
      "type": "list(string)",
      "default": ["a.example.com", "b.example.com"],
      "validation": {
        "condition": "${var.mirrors[0] != \"\"}",
        "error_message": "The first mirror must not be empty."
      }
    },
    "name": { "type": "string", "default": "web" }
  },
  "locals": {
    "image": "${var.name}-image",
    "first": "${var.mirrors[0]}",
    "count": 3,
    "tags": { "role": "${var.name}", "//": "not a tag", "${var.name}-key": true }
  },
  "source": {
    "null": {
      "a": { "communicator": "none" }
    }
  },
  "build": {
    "name": "main",
    "sources": ["source.null.a"],
    "provisioner": [
      { "shell-local": { "inline": ["echo \"${local.image}\""] } },
      { "file": { "source": "a.txt", "destination": "/tmp/a.txt" } },
      { "shell-local": { "inline": ["echo done"] } }
    ],
    "post-processors": {
      "post-processor": [
        { "manifest": { "output": "manifest.json" } },
        { "checksum": { "checksum_types": ["sha256"] } }
      ]
    }
  }
}
"#;

    fn parse(text: &str) -> (SourceMap, Result<Body, Diagnostic>) {
        let sources = SourceMap::new();
        let file = sources.add("t.pkr.json", text);
        let result = parse_json_file(&sources, file, &packer_schema);
        (sources, result)
    }

    fn evaluator(sources: &SourceMap) -> Evaluator {
        let mut ev = Evaluator::new(sources.clone(), std::env::temp_dir(), SystemTime::UNIX_EPOCH);
        let var: BTreeMap<String, Value> =
            [("name".to_string(), Value::from("web")), ("mirrors".to_string(), Value::List(vec![Value::from("a.example.com")]))].into();
        let local: BTreeMap<String, Value> = [("image".to_string(), Value::from("web-image"))].into();
        ev.root.insert("var".to_string(), Value::Object(var));
        ev.root.insert("local".to_string(), Value::Object(local));
        ev
    }

    fn labels(b: &Block) -> Vec<&str> {
        b.labels.iter().map(|l| l.value.as_str()).collect()
    }

    #[test]
    fn lowers_a_packer_template() {
        let (sources, body) = parse(TEMPLATE);
        let body = body.unwrap_or_else(|d| panic!("{}", d.render(&sources)));
        let ev = evaluator(&sources);
        let kinds: Vec<&str> = body.blocks.iter().map(|b| b.kind.as_str()).collect();
        assert_eq!(kinds, ["packer", "variable", "variable", "locals", "source", "build"]);
        assert!(body.attributes.is_empty());

        let packer = &body.blocks[0];
        let plugins = packer.body.blocks_of("required_plugins").next().unwrap();
        let qemu = ev.eval(&plugins.body.attribute("qemu").unwrap().expr).unwrap();
        assert_eq!(qemu.as_object().unwrap()["source"], Value::from("github.com/hashicorp/qemu"));

        // Variables: one block per label, type parsed as an expression.
        let mirrors = &body.blocks[1];
        assert_eq!(labels(mirrors), ["mirrors"]);
        let ty = &mirrors.body.attribute("type").unwrap().expr;
        match &ty.kind {
            ExprKind::Call(call) => {
                assert_eq!(call.name, "list");
                assert!(matches!(&call.args[..], [Expr { kind: ExprKind::Variable(v), .. }] if v == "string"));
                assert_eq!(sources.snippet(call.name_span), "list");
            }
            other => panic!("type should be a call, got {other:?}"),
        }
        assert_eq!(sources.snippet(ty.span), "list(string)");
        let default = ev.eval(&mirrors.body.attribute("default").unwrap().expr).unwrap();
        assert_eq!(default, Value::List(vec![Value::from("a.example.com"), Value::from("b.example.com")]));
        let validation = mirrors.body.blocks_of("validation").next().unwrap();
        assert_eq!(ev.eval(&validation.body.attribute("condition").unwrap().expr).unwrap(), Value::Bool(true));
        let name = &body.blocks[2];
        assert_eq!(labels(name), ["name"]);
        assert!(matches!(&name.body.attribute("type").unwrap().expr.kind, ExprKind::Variable(v) if v == "string"));

        // Locals: templates, literals and objects with template keys.
        let locals = &body.blocks[3].body;
        let local = |n: &str| ev.eval(&locals.attribute(n).unwrap().expr).unwrap();
        assert_eq!(local("image"), Value::from("web-image"));
        assert_eq!(local("first"), Value::from("a.example.com"));
        assert_eq!(local("count"), Value::from(3.0));
        let tags = local("tags");
        let tags = tags.as_object().unwrap();
        assert_eq!(tags.keys().collect::<Vec<_>>(), ["role", "web-key"]);
        assert_eq!(tags["role"], Value::from("web"));

        let source = &body.blocks[4];
        assert_eq!(labels(source), ["null", "a"]);
        assert_eq!(ev.eval(&source.body.attribute("communicator").unwrap().expr).unwrap(), Value::from("none"));
        assert_eq!(sources.snippet(source.header_span()), "\"source\": {\n    \"null\": {\n      \"a\"");

        // The build: attributes, provisioners in array order, and the
        // post-processors chain.
        let build = &body.blocks[5].body;
        assert_eq!(ev.eval(&build.attribute("sources").unwrap().expr).unwrap(), Value::List(vec![Value::from("source.null.a")]));
        let provisioners: Vec<_> = build.blocks_of("provisioner").map(labels).collect();
        assert_eq!(provisioners, [["shell-local"], ["file"], ["shell-local"]]);
        let first = build.blocks_of("provisioner").next().unwrap();
        assert_eq!(ev.eval(&first.body.attribute("inline").unwrap().expr).unwrap(), Value::List(vec![Value::from("echo \"web-image\"")]));
        let chain = build.blocks_of("post-processors").next().unwrap();
        let pps: Vec<_> = chain.body.blocks_of("post-processor").map(labels).collect();
        assert_eq!(pps, [["manifest"], ["checksum"]]);

        // Everything evaluates as a whole too.
        let evaluated = ev.eval_body(&body.blocks[5].body).unwrap();
        assert_eq!(evaluated.blocks.len(), 4);
    }

    #[test]
    fn spans_point_into_the_json_file() {
        let (sources, body) = parse(TEMPLATE);
        let body = body.unwrap();
        let locals = &body.blocks[3].body;
        let image = locals.attribute("image").unwrap();
        assert_eq!(sources.snippet(image.name_span), "\"image\"");
        assert!(sources.location(image.name_span).ends_with(":20:5"), "{}", sources.location(image.name_span));
        assert_eq!(sources.snippet(image.expr.span), "\"${var.name}-image\"");
        // Inside the template, the interpolation maps to its text.
        let ExprKind::Template(parts) = &image.expr.kind else { panic!("{:?}", image.expr.kind) };
        let TemplatePart::Interpolation(e) = &parts[0] else { panic!("{parts:?}") };
        assert_eq!(sources.snippet(e.span), "var.name");
        let block = &body.blocks[4];
        assert_eq!(sources.snippet(block.kind_span), "\"source\"");
        assert_eq!(sources.snippet(block.labels[1].span), "\"a\"");
    }

    #[test]
    fn spans_map_through_escapes() {
        // `\"` and `\u00e9` come before the reference: its span must still be exact.
        let text = "{\"locals\": {\"x\": \"\\\"caf\\u00e9\\\" ${var.nosuch}\"}}";
        let (sources, body) = parse(text);
        let body = body.unwrap();
        let attr = body.blocks[0].body.attribute("x").unwrap();
        let err = evaluator(&sources).eval(&attr.expr).unwrap_err();
        let span = err.span.unwrap();
        assert_eq!(sources.snippet(span), "nosuch", "{}", err.render(&sources));
        assert_eq!(sources.location(span), format!("t.pkr.json:1:{}", text.find("nosuch").unwrap() + 1));
        // And the decoded text is right.
        let ok = "{\"locals\": {\"x\": \"\\\"caf\\u00e9\\\" \\ud83d\\ude00 ${var.name}\"}}";
        let (sources, body) = parse(ok);
        let attr = &body.unwrap().blocks[0].body.attributes[0];
        assert_eq!(evaluator(&sources).eval(&attr.expr).unwrap(), Value::from("\"café\" 😀 web"));
    }

    #[test]
    fn template_syntax_errors_point_into_the_string() {
        let (sources, body) = parse("{\n  \"locals\": {\"x\": \"a ${var.name b\"}\n}");
        let err = body.unwrap_err();
        let loc = sources.location(err.span.unwrap());
        assert!(loc.starts_with("t.pkr.json:2:"), "{loc}: {}", err.render(&sources));
        let col: usize = loc.rsplit(':').next().unwrap().parse().unwrap();
        assert!(col > "  \"locals\": {\"x\": \"a ".len(), "{loc}");
    }

    #[test]
    fn syntax_errors_have_locations() {
        let cases = [
            ("{\n  \"a\": 1,\n  \"b\": tru\n}", "t.pkr.json:3:8", "found \"tru\""),
            ("{\"a\": 1,}", "t.pkr.json:1:9", "trailing comma"),
            ("{\"a\": [1, 2,]}", "t.pkr.json:1:13", "trailing comma"),
            ("{\n  a: 1\n}", "t.pkr.json:2:3", "property name in double quotes"),
            ("{\"a\" 1}", "t.pkr.json:1:6", "Expected ':'"),
            ("{\"a\": \"x\ny\"}", "t.pkr.json:1:9", "line break"),
            ("{\"a\": \"\\q\"}", "t.pkr.json:1:8", "Invalid escape"),
            ("{\"a\": 01}", "t.pkr.json:1:8", "leading zeros"),
            ("{\"a\": 1} x", "t.pkr.json:1:10", "Extra characters"),
            ("{\"a\": \"open", "t.pkr.json:1:7", "not closed"),
            ("{\"a\": 1", "t.pkr.json:1:8", "the end of the file"),
            ("{\n  // note\n}", "t.pkr.json:2:3", "property name"),
            ("{\"a\": // note\n1}", "t.pkr.json:1:7", "no comments"),
        ];
        for (text, location, message) in cases {
            let (sources, result) = parse(text);
            let err = result.unwrap_err();
            assert_eq!(sources.location(err.span.unwrap()), location, "{text:?}: {}", err.render(&sources));
            assert!(err.render(&sources).contains(message), "{text:?}: {}", err.render(&sources));
        }
    }

    #[test]
    fn comment_keys_are_ignored() {
        let text = r#"{
          "//": "top-level comment",
          "variable": { "//": "between labels", "a": { "//": "in a body", "default": 1 } },
          "build": [{ "//": "in an array body", "name": "x" }]
        }"#;
        let (sources, body) = parse(text);
        let body = body.unwrap_or_else(|d| panic!("{}", d.render(&sources)));
        assert!(body.attributes.is_empty());
        assert_eq!(body.blocks.len(), 2);
        assert_eq!(labels(&body.blocks[0]), ["a"]);
        let names: Vec<&str> = body.blocks[0].body.attributes.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["default"]);
        let names: Vec<&str> = body.blocks[1].body.attributes.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["name"]);
    }

    #[test]
    fn labelled_blocks_nest_and_repeat() {
        // Two sources of one type in one object, plus an array at the type level.
        let text = r#"{
          "source": {
            "qemu": { "a": {}, "b": { "x": 1 } },
            "null": [ { "c": {} }, { "d": {} } ]
          },
          "build": [ { "name": "one" }, { "name": "two" } ]
        }"#;
        let (_, body) = parse(text);
        let body = body.unwrap();
        let sources: Vec<_> = body.blocks_of("source").map(labels).collect();
        assert_eq!(sources, [["qemu", "a"], ["qemu", "b"], ["null", "c"], ["null", "d"]]);
        assert_eq!(body.blocks_of("build").count(), 2);
    }

    #[test]
    fn wrong_shapes_and_duplicates_are_errors() {
        let (sources, r) = parse(r#"{"build": "x"}"#);
        let err = r.unwrap_err();
        assert!(err.detail.contains("\"build\" is a block type"), "{}", err.render(&sources));
        assert_eq!(sources.location(err.span.unwrap()), "t.pkr.json:1:11");
        let (_, r) = parse(r#"{"source": {"null": {"a": 5}}}"#);
        assert!(r.unwrap_err().detail.contains("found a number"));
        let (sources, r) = parse("{\"locals\": {\"a\": 1,\n \"a\": 2}}");
        let err = r.unwrap_err();
        assert_eq!(err.summary, "Duplicate argument");
        assert_eq!(sources.location(err.span.unwrap()), "t.pkr.json:2:2");
        assert!(err.detail.contains("t.pkr.json:1:13"), "{}", err.detail);
        let (_, r) = parse(r#"{"variable": {"a": {"type": ["string"]}}}"#);
        assert_eq!(r.unwrap_err().summary, "Invalid type specification");
        let (_, r) = parse("[1]");
        assert!(r.unwrap_err().detail.contains("contents of the file must be a JSON object"));
    }

    #[test]
    fn literal_strings_and_escaped_interpolation() {
        let (sources, body) = parse(r#"{"locals": {"a": "plain", "b": "$${not.a.ref}", "c": null, "d": -1.5e2}}"#);
        let locals = &body.unwrap().blocks[0].body;
        assert!(matches!(&locals.attribute("a").unwrap().expr.kind, ExprKind::Literal(Value::String(s)) if s == "plain"));
        assert!(matches!(&locals.attribute("b").unwrap().expr.kind, ExprKind::Literal(Value::String(s)) if s == "${not.a.ref}"));
        let ev = evaluator(&sources);
        assert_eq!(ev.eval(&locals.attribute("c").unwrap().expr).unwrap(), Value::Null);
        assert_eq!(ev.eval(&locals.attribute("d").unwrap().expr).unwrap(), Value::from(-150.0));
    }

    #[test]
    fn variables_files_are_literal_data() {
        let sources = SourceMap::new();
        let file = sources.add(
            "v.pkrvars.json",
            "{\n  \"//\": \"values for dev\",\n  \"name\": \"${not-a-template}\",\n  \"mirrors\": [\"a\", \"b\"],\n  \"sizes\": {\"small\": 1, \"big\": 10},\n  \"debug\": true\n}",
        );
        let body = parse_json_vars(&sources, file).unwrap();
        let names: Vec<&str> = body.attributes.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["name", "mirrors", "sizes", "debug"]);
        assert_eq!(sources.location(body.attributes[0].name_span), "v.pkrvars.json:3:3");
        let ev = evaluator(&sources);
        let value = |i: usize| ev.eval(&body.attributes[i].expr).unwrap();
        assert_eq!(value(0), Value::from("${not-a-template}"));
        assert_eq!(value(1), Value::List(vec![Value::from("a"), Value::from("b")]));
        assert_eq!(value(2).as_object().unwrap()["big"], Value::from(10.0));
        assert_eq!(value(3), Value::Bool(true));

        let bad = sources.add("bad.pkrvars.json", "[]");
        assert_eq!(parse_json_vars(&sources, bad).unwrap_err().summary, "Invalid variables file");
        let dup = sources.add("dup.pkrvars.json", "{\"a\": 1, \"a\": 2}");
        assert_eq!(parse_json_vars(&sources, dup).unwrap_err().summary, "Duplicate variable");
    }

    #[test]
    fn packer_schema_knows_packer_blocks() {
        assert_eq!(packer_schema(&[], "source"), Some(2));
        assert_eq!(packer_schema(&[], "local"), Some(1));
        assert_eq!(packer_schema(&["build"], "source"), Some(1));
        assert_eq!(packer_schema(&["build", "post-processors"], "post-processor"), Some(1));
        assert_eq!(packer_schema(&["source"], "boot_command"), None);
        assert_eq!(packer_schema(&["locals"], "validation"), None);
        assert_eq!(packer_schema(&[], "sources"), None);
    }
}
