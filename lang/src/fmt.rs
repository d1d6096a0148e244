//! `bake fmt`: the canonical layout of HCL native syntax files.
//!
//! `packer fmt` runs hashicorp/hcl's `hclwrite.Format` over the raw bytes of a
//! file, so this module reproduces that algorithm rather than pretty-printing
//! a syntax tree. `hclwrite.Format` is token based and only ever changes the
//! whitespace *between* tokens:
//!
//! 1. the source is split into tokens exactly as the `hclsyntax` scanner
//!    would split it; every token remembers how many spaces preceded it;
//! 2. the tokens are grouped into lines, and each line into up to three
//!    cells: `lead`, `assign` (from an attribute's `=` on) and `comment`
//!    (a trailing line comment);
//! 3. each line's first token is indented by two spaces per open bracket
//!    level, tokens inside a cell get their spacing from fixed rules, and the
//!    `=` and trailing comments of consecutive lines are aligned.
//!
//! Text inside tokens (string literals, heredoc bodies, comments) is never
//! touched, which is why heredoc lines and comment text stay verbatim. Like
//! `hclwrite`, nothing is added or removed at the end of the file: no final
//! newline is added and blank lines are kept.

use std::fmt;
use std::ops::Range;

/// Why a file could not be formatted, with the 1-based position of the
/// problem so the CLI can print `file:line:col`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormatError {
    pub message: String,
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

impl std::error::Error for FormatError {}

/// Formats an HCL file the way `packer fmt` does.
///
/// Like Packer, refuses input that does not parse: formatting broken input
/// could move tokens the user still has to fix.
pub fn format(source: &str) -> Result<String, FormatError> {
    validate(source)?;
    let tokens = lex(source)?;
    Ok(format_tokens(tokens))
}

/// Formats without checking that the source parses as an HCL body. The
/// hclwrite test-suite formats bare expressions such as `( a+2 )`, which are
/// not valid files, so the tests need this entry point.
#[cfg(test)]
fn format_unchecked(source: &str) -> String {
    match lex(source) {
        Ok(tokens) => format_tokens(tokens),
        Err(_) => source.to_string(),
    }
}

fn format_tokens(mut tokens: Vec<Token<'_>>) -> String {
    let lines = split_lines(&tokens);
    format_indent(&mut tokens, &lines);
    format_spaces(&mut tokens, &lines);
    align_cells(&mut tokens, &lines);
    render(&tokens)
}

/// The UTF-8 byte order mark, which the HCL scanner skips.
const BOM: &str = "\u{feff}";

fn validate(source: &str) -> Result<(), FormatError> {
    let body = source.strip_prefix(BOM).unwrap_or(source);
    if let Some(offset) = operator_nesting(body, false, crate::parse::MAX_OPERATOR_NESTING) {
        return Err(error_at(body, offset, crate::parse::TOO_DEEP));
    }
    hcl_edit::parser::parse_body(body).map(|_| ()).map_err(|err| FormatError {
        message: err.message().to_string(),
        line: err.location().line(),
        column: err.location().column(),
    })
}

// ---------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------

/// Token kinds of the `hclsyntax` scanner. Only the distinctions the
/// formatting rules look at matter, so all invalid input is `Invalid`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    OBrace,
    CBrace,
    OBrack,
    CBrack,
    OParen,
    CParen,
    /// The `"` opening a quoted template.
    OQuote,
    /// The `"` closing a quoted template.
    CQuote,
    /// `<<EOT` or `<<-EOT`, including the line ending after the marker.
    OHeredoc,
    /// The closing marker line of a heredoc, leading blanks included.
    CHeredoc,
    Star,
    Slash,
    Plus,
    Minus,
    Percent,
    Equal,
    EqualOp,
    NotEqual,
    LessThan,
    LessThanEq,
    GreaterThan,
    GreaterThanEq,
    And,
    Or,
    Bang,
    Dot,
    Comma,
    DoubleColon,
    Ellipsis,
    FatArrow,
    Question,
    Colon,
    /// `${` or `${~`.
    TemplateInterp,
    /// `%{` or `%{~`.
    TemplateControl,
    /// `}` or `~}` closing a template sequence.
    TemplateSeqEnd,
    /// Literal text in a quoted template.
    QuotedLit,
    /// Literal text in a heredoc, up to and including a line ending.
    StringLit,
    NumberLit,
    Ident,
    /// `#` and `//` comments include their line ending; `/* */` ones don't.
    Comment,
    Newline,
    Eof,
    Invalid,
}

#[derive(Clone, Debug)]
struct Token<'a> {
    kind: Kind,
    text: &'a str,
    /// Spaces written before the token. The lexer records the gap found in
    /// the source; formatting rewrites it.
    spaces_before: usize,
}

impl Token<'_> {
    /// How this token changes the bracket nesting depth. Template sequences
    /// count as brackets so that multi-line interpolations indent too.
    fn bracket_change(&self) -> i32 {
        match self.kind {
            Kind::OBrace | Kind::OBrack | Kind::OParen | Kind::TemplateInterp | Kind::TemplateControl => 1,
            Kind::CBrace | Kind::CBrack | Kind::CParen | Kind::TemplateSeqEnd => -1,
            _ => 0,
        }
    }

    /// Whether the token ends a line. Single-line comments swallow their
    /// line ending, so they end a line just like a newline does.
    fn ends_line(&self) -> bool {
        match self.kind {
            Kind::Newline => true,
            Kind::Comment => self.text.ends_with('\n'),
            _ => false,
        }
    }

    /// Columns the token takes up: its leading spaces plus its characters
    /// as the user perceives them (grapheme clusters).
    fn columns(&self) -> usize {
        self.spaces_before + grapheme_count(self.text)
    }
}

// ---------------------------------------------------------------------------
// Lexer: a port of the behaviour of hclsyntax's Ragel scanner
// ---------------------------------------------------------------------------

/// What the scanner is inside of. Templates nest: `${` inside a string or
/// heredoc switches back to expression mode until its matching `}`.
enum Mode<'a> {
    Expression,
    Quoted { opened_at: usize },
    Heredoc { marker: &'a str, start_of_line: bool, opened_at: usize },
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    /// End of the previous token, to measure the gap before the next one.
    last_end: usize,
    tokens: Vec<Token<'a>>,
    modes: Vec<Mode<'a>>,
    /// Open `{` count, shared by all modes as in hclsyntax, so that the `}`
    /// closing a `${` can be told apart from one closing an object.
    braces: i32,
    /// Brace depths at which a `}` ends a template sequence.
    template_braces: Vec<i32>,
}

/// Multi-character operators, longest first so that `...` wins over `.`.
const OPERATORS: &[(&str, Kind)] = &[
    ("...", Kind::Ellipsis),
    ("==", Kind::EqualOp),
    ("!=", Kind::NotEqual),
    (">=", Kind::GreaterThanEq),
    ("<=", Kind::LessThanEq),
    ("&&", Kind::And),
    ("||", Kind::Or),
    ("::", Kind::DoubleColon),
    ("=>", Kind::FatArrow),
    ("[", Kind::OBrack),
    ("]", Kind::CBrack),
    ("(", Kind::OParen),
    (")", Kind::CParen),
    (".", Kind::Dot),
    (",", Kind::Comma),
    ("*", Kind::Star),
    ("/", Kind::Slash),
    ("%", Kind::Percent),
    ("+", Kind::Plus),
    ("-", Kind::Minus),
    ("=", Kind::Equal),
    ("<", Kind::LessThan),
    (">", Kind::GreaterThan),
    ("!", Kind::Bang),
    ("?", Kind::Question),
    (":", Kind::Colon),
];

fn lex(src: &str) -> Result<Vec<Token<'_>>, FormatError> {
    scan(src, Mode::Expression).finish()
}

/// Splits `src` into tokens, starting in `mode`.
fn scan<'a>(src: &'a str, mode: Mode<'a>) -> Lexer<'a> {
    let mut lexer = Lexer { src, pos: 0, last_end: 0, tokens: Vec::new(), modes: vec![mode], braces: 0, template_braces: Vec::new() };
    // hclsyntax drops a leading byte order mark; counting it as blank space
    // gives the same spacing as hclwrite, which measures gaps in bytes.
    if src.starts_with(BOM) {
        lexer.pos = BOM.len();
    }
    while lexer.pos < src.len() {
        match lexer.modes.last() {
            Some(Mode::Quoted { .. }) => lexer.scan_quoted(),
            Some(Mode::Heredoc { .. }) => lexer.scan_heredoc(),
            _ => lexer.scan_expression(),
        }
    }
    lexer
}

/// Where `src` first nests more than `limit` brackets, quotes or template
/// sequences that each open right after a binary operator, as in
/// `a + b + (a + b + (…`. `template` reads `src` as a template file.
///
/// hcl-edit's parser backtracks on invalid input of that shape, doubling
/// its work at every level (a few dozen levels take years), so the parser
/// refuses such input before handing it over. Unterminated strings and the
/// like are no obstacle: the scan looks at the tokens found so far.
pub(crate) fn operator_nesting(src: &str, template: bool, limit: usize) -> Option<usize> {
    // A heredoc whose marker no line can match (lines are compared trimmed)
    // reads the rest of the input as a template.
    let mode = if template { Mode::Heredoc { marker: "\n", start_of_line: true, opened_at: 0 } } else { Mode::Expression };
    let lexer = scan(src, mode);
    let mut open: Vec<bool> = Vec::new();
    let mut after_operators = 0;
    let mut previous = Kind::Newline;
    for token in &lexer.tokens {
        match token.kind {
            Kind::OBrace | Kind::OBrack | Kind::OParen | Kind::OQuote | Kind::OHeredoc | Kind::TemplateInterp | Kind::TemplateControl => {
                let after_operator = previous.is_binary_operator();
                after_operators += usize::from(after_operator);
                open.push(after_operator);
                if after_operators > limit {
                    return Some(token.text.as_ptr() as usize - src.as_ptr() as usize);
                }
            }
            Kind::CBrace | Kind::CBrack | Kind::CParen | Kind::CQuote | Kind::CHeredoc | Kind::TemplateSeqEnd => {
                after_operators -= usize::from(open.pop().unwrap_or(false));
            }
            _ => {}
        }
        if !matches!(token.kind, Kind::Newline | Kind::Comment) {
            previous = token.kind;
        }
    }
    None
}

impl Kind {
    fn is_binary_operator(self) -> bool {
        matches!(
            self,
            Kind::Star
                | Kind::Slash
                | Kind::Plus
                | Kind::Minus
                | Kind::Percent
                | Kind::EqualOp
                | Kind::NotEqual
                | Kind::LessThan
                | Kind::LessThanEq
                | Kind::GreaterThan
                | Kind::GreaterThanEq
                | Kind::And
                | Kind::Or
        )
    }
}

impl<'a> Lexer<'a> {
    fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    fn emit(&mut self, kind: Kind, len: usize) {
        let start = self.pos;
        let end = start + len;
        self.tokens.push(Token { kind, text: &self.src[start..end], spaces_before: start - self.last_end });
        self.pos = end;
        self.last_end = end;
    }

    fn finish(mut self) -> Result<Vec<Token<'a>>, FormatError> {
        let unterminated = self.modes.iter().rev().find_map(|mode| match mode {
            Mode::Quoted { opened_at } | Mode::Heredoc { opened_at, .. } => Some(*opened_at),
            Mode::Expression => None,
        });
        if let Some(offset) = unterminated {
            return Err(error_at(self.src, offset, "Unterminated template string; no closing marker was found for the string"));
        }
        self.emit(Kind::Eof, 0);
        Ok(self.tokens)
    }

    fn scan_expression(&mut self) {
        let rest = self.rest();
        let c = rest.chars().next().unwrap_or('\0');
        match c {
            ' ' | '\t' => self.pos += rest.len() - rest.trim_start_matches([' ', '\t']).len(),
            '0'..='9' => self.emit(Kind::NumberLit, number_len(rest)),
            _ if is_ident_start(c) => self.emit(Kind::Ident, ident_len(rest)),
            '#' => self.emit(Kind::Comment, line_comment_len(rest)),
            '/' if rest.starts_with("//") => self.emit(Kind::Comment, line_comment_len(rest)),
            '/' if rest.starts_with("/*") => {
                // The closing `*/` cannot share the `*` of the opening `/*`.
                let len = rest[2..].find("*/").map_or(rest.len(), |i| i + 4);
                self.emit(Kind::Comment, len);
            }
            '\n' => self.emit(Kind::Newline, 1),
            '\r' if rest.starts_with("\r\n") => self.emit(Kind::Newline, 2),
            // hcl-edit takes a lone carriage return for blank space.
            '\r' => self.pos += 1,
            '"' => {
                self.modes.push(Mode::Quoted { opened_at: self.pos });
                self.emit(Kind::OQuote, 1);
            }
            '<' if heredoc_intro(rest).is_some() => self.open_heredoc(),
            '{' => {
                self.braces += 1;
                self.emit(Kind::OBrace, 1);
            }
            '}' => self.close_brace(1),
            '~' if rest.starts_with("~}") => self.close_brace(2),
            _ => match OPERATORS.iter().find(|(op, _)| rest.starts_with(op)) {
                Some(&(op, kind)) => self.emit(kind, op.len()),
                None => self.emit(Kind::Invalid, c.len_utf8()),
            },
        }
    }

    /// A `}` (or `~}`) ends a template sequence when it balances the brace
    /// that opened the sequence, and otherwise closes an object or block.
    fn close_brace(&mut self, len: usize) {
        let ends_sequence = self.template_braces.last() == Some(&self.braces);
        self.braces -= 1;
        if ends_sequence {
            self.template_braces.pop();
            self.modes.pop();
            self.emit(Kind::TemplateSeqEnd, len);
        } else if len == 2 {
            // hclsyntax still calls a stray `~}` a sequence end and lets the
            // parser complain about it.
            self.emit(Kind::TemplateSeqEnd, len);
        } else {
            self.emit(Kind::CBrace, len);
        }
    }

    fn open_heredoc(&mut self) {
        let (len, marker) = heredoc_intro(self.rest()).unwrap_or((2, ""));
        self.modes.push(Mode::Heredoc { marker, start_of_line: true, opened_at: self.pos });
        self.emit(Kind::OHeredoc, len);
    }

    /// `${` or `%{` (optionally with `~`) at the start of `rest`.
    fn template_opener(rest: &str) -> Option<(Kind, usize)> {
        let kind = if rest.starts_with("${") {
            Kind::TemplateInterp
        } else if rest.starts_with("%{") {
            Kind::TemplateControl
        } else {
            return None;
        };
        let len = if rest[2..].starts_with('~') { 3 } else { 2 };
        Some((kind, len))
    }

    fn open_template_sequence(&mut self, kind: Kind, len: usize) {
        // A sequence means the heredoc line no longer starts with literal
        // text, so it cannot be the closing marker line.
        if let Some(Mode::Heredoc { start_of_line, .. }) = self.modes.iter_mut().rev().find(|mode| matches!(mode, Mode::Heredoc { .. })) {
            *start_of_line = false;
        }
        self.braces += 1;
        self.template_braces.push(self.braces);
        self.modes.push(Mode::Expression);
        self.emit(kind, len);
    }

    fn scan_quoted(&mut self) {
        let rest = self.rest();
        if let Some((kind, len)) = Self::template_opener(rest) {
            self.open_template_sequence(kind, len);
        } else if rest.starts_with('"') {
            self.modes.pop();
            self.emit(Kind::CQuote, 1);
        } else {
            self.emit(Kind::QuotedLit, quoted_literal_len(rest));
        }
    }

    fn scan_heredoc(&mut self) {
        let rest = self.rest();
        if let Some((kind, len)) = Self::template_opener(rest) {
            self.open_template_sequence(kind, len);
            return;
        }
        let len = heredoc_literal_len(rest);
        let literal = &rest[..len];
        let Some(Mode::Heredoc { marker, start_of_line, .. }) = self.modes.last_mut() else {
            return;
        };
        if !literal.ends_with('\n') {
            // Text before a template sequence (or the end of the input).
            *start_of_line = false;
            self.emit(Kind::StringLit, len);
        } else if *start_of_line && literal.trim() == *marker {
            // The closing marker; its line ending is a separate newline token
            // so that it still ends the attribute.
            let ending = if literal.ends_with("\r\n") { 2 } else { 1 };
            self.modes.pop();
            self.emit(Kind::CHeredoc, len - ending);
            self.emit(Kind::Newline, ending);
        } else {
            *start_of_line = true;
            self.emit(Kind::StringLit, len);
        }
    }
}

/// Identifier characters as hcl-edit, which validates the input, reads them.
fn is_ident_start(c: char) -> bool {
    c == '_' || unicode_ident::is_xid_start(c)
}

fn is_ident_continue(c: char) -> bool {
    c == '-' || unicode_ident::is_xid_continue(c)
}

fn ident_len(rest: &str) -> usize {
    rest.find(|c: char| !is_ident_continue(c)).unwrap_or(rest.len())
}

/// Length of the number literal at the start of `rest`: digits, `.`, and
/// exponents, but never ending in `.` (so `1..` or `a.0.b` split right).
fn number_len(rest: &str) -> usize {
    let bytes = rest.as_bytes();
    let mut pos = 1;
    let mut end = 1;
    loop {
        let step = match bytes.get(pos) {
            Some(b'0'..=b'9') => 1,
            // `8.e6` is the number 8 and the attribute `e6`, as in hclsyntax.
            Some(b'.') if bytes.get(pos + 1).is_some_and(u8::is_ascii_digit) => 1,
            Some(b'e' | b'E') => exponent_len(&bytes[pos..]),
            _ => 0,
        };
        if step == 0 {
            return end;
        }
        pos += step;
        if bytes[pos - 1] != b'.' {
            end = pos;
        }
    }
}

/// `e5`, `E+5` or `e-5`; zero when no digit follows.
fn exponent_len(bytes: &[u8]) -> usize {
    let sign = usize::from(matches!(bytes.get(1), Some(b'+' | b'-')));
    match bytes.get(1 + sign) {
        Some(b'0'..=b'9') => 2 + sign,
        _ => 0,
    }
}

/// `#` and `//` comments run to the end of the line, line ending included.
fn line_comment_len(rest: &str) -> usize {
    rest.find('\n').map_or(rest.len(), |i| i + 1)
}

/// `<<EOT` or `<<-EOT` followed by a line ending: the introducer's length
/// (line ending included) and the marker that closes the heredoc.
fn heredoc_intro(rest: &str) -> Option<(usize, &str)> {
    let after = rest.strip_prefix("<<")?;
    let dash = usize::from(after.starts_with('-'));
    let name = &after[dash..];
    if !name.starts_with(is_ident_start) {
        return None;
    }
    let marker = &name[..ident_len(name)];
    let tail = &name[marker.len()..];
    let ending = if tail.starts_with('\n') {
        1
    } else if tail.starts_with("\r\n") {
        2
    } else {
        return None;
    };
    Some((2 + dash + marker.len() + ending, marker))
}

/// Length of a `$`/`%` at the start of `rest` that does not open a template
/// sequence: `$${` and `%%{` are escapes and stay literal text.
fn template_escape_len(rest: &str) -> usize {
    let bytes = rest.as_bytes();
    if bytes.get(1) == bytes.first() && bytes.get(2) == Some(&b'{') {
        3
    } else {
        1
    }
}

/// Literal text of a quoted template, up to the closing quote or the next
/// template sequence. A backslash escapes the character after it. (The
/// callers handle a quote or sequence at the very start, so the `max(1)`
/// only guards against an empty token.)
fn quoted_literal_len(rest: &str) -> usize {
    let mut i = 0;
    while i < rest.len() {
        let here = &rest[i..];
        match here.as_bytes()[0] {
            b'"' => return i.max(1),
            b'$' | b'%' if here[1..].starts_with('{') => return i.max(1),
            b'$' | b'%' => i += template_escape_len(here),
            b'\\' => i += 1 + here[1..].chars().next().map_or(0, char::len_utf8),
            _ => i += here.chars().next().map_or(1, char::len_utf8),
        }
    }
    rest.len()
}

/// Literal heredoc text: up to and including the end of the line, or up to
/// the next template sequence.
fn heredoc_literal_len(rest: &str) -> usize {
    let mut i = 0;
    while i < rest.len() {
        let here = &rest[i..];
        match here.as_bytes()[0] {
            b'\n' => return i + 1,
            b'$' | b'%' if here[1..].starts_with('{') => return i.max(1),
            b'$' | b'%' => i += template_escape_len(here),
            _ => i += here.chars().next().map_or(1, char::len_utf8),
        }
    }
    rest.len()
}

fn error_at(src: &str, offset: usize, message: &str) -> FormatError {
    let before = &src[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    FormatError { message: message.to_string(), line: before.matches('\n').count() + 1, column: before[line_start..].chars().count() + 1 }
}

// ---------------------------------------------------------------------------
// Lines and cells
// ---------------------------------------------------------------------------

/// One line of tokens, as index ranges into the token list. `assign` and
/// `comment` follow `lead` directly when present.
#[derive(Clone, Debug)]
struct Line {
    /// Everything before the other cells; always present (maybe empty).
    lead: Range<usize>,
    /// From an attribute's `=` to the end of its value, when the value ends
    /// on this line.
    assign: Option<Range<usize>>,
    /// A `#` or `//` comment ending a line that has other tokens.
    comment: Option<Range<usize>>,
}

/// Splits the tokens (minus the final EOF) into lines and cells. Heredoc
/// bodies hold no newline tokens, so a heredoc is part of the line that
/// opens it and its text is never re-indented.
fn split_lines(tokens: &[Token<'_>]) -> Vec<Line> {
    let end = tokens.len().saturating_sub(1);
    let mut lines = Vec::new();
    let mut start = 0;
    for (i, token) in tokens[..end].iter().enumerate() {
        if token.ends_line() {
            lines.push(split_cells(tokens, start..i + 1));
            start = i + 1;
        }
    }
    lines.push(split_cells(tokens, start..end));
    lines
}

fn split_cells(tokens: &[Token<'_>], mut lead: Range<usize>) -> Line {
    let mut comment = None;
    // A comment alone on its line stays in `lead` so that it is indented
    // like code rather than aligned with trailing comments.
    if lead.len() > 1 && tokens[lead.end - 1].kind == Kind::Comment {
        comment = Some(lead.end - 1..lead.end);
        lead.end -= 1;
    }
    let mut assign = None;
    let equals = (lead.start + 1..lead.end).find(|&i| tokens[i].kind == Kind::Equal);
    // Only a value that closes every bracket it opens is aligned; one that
    // continues on the next lines (`x = {`) is not an assignment cell.
    if let Some(eq) = equals {
        if net_brackets(&tokens[eq..lead.end]) == 0 {
            assign = Some(eq..lead.end);
            lead.end = eq;
        }
    }
    Line { lead, assign, comment }
}

fn net_brackets(tokens: &[Token<'_>]) -> i32 {
    tokens.iter().map(Token::bracket_change).sum()
}

fn cell_columns(tokens: &[Token<'_>], cell: &Range<usize>) -> usize {
    tokens[cell.clone()].iter().map(Token::columns).sum()
}

// ---------------------------------------------------------------------------
// The three formatting passes
// ---------------------------------------------------------------------------

/// Indents each line by two spaces per level. A line that opens brackets
/// adds one level however many it opens, remembering the count; a line that
/// closes brackets pops levels until it has closed that many. Asymmetric
/// lines like `[[` ... `]]` therefore indent once, and unbalanced input
/// cannot drive the indent off either edge.
fn format_indent(tokens: &mut [Token<'_>], lines: &[Line]) {
    let mut levels: Vec<i32> = Vec::new();
    for line in lines {
        let Some(first) = line.lead.clone().next() else { continue };
        if tokens[first].kind == Kind::Newline {
            // Blank lines carry no spaces.
            tokens[first].spaces_before = 0;
            continue;
        }
        let net = line_bracket_change(tokens, line);
        if net < 0 {
            close_levels(&mut levels, -net);
        }
        tokens[first].spaces_before = 2 * levels.len();
        if net > 0 {
            levels.push(net);
        }
    }
}

/// The bracket change of a line for indentation. Counting in `lead` stops
/// at a heredoc opener, as hclwrite does.
fn line_bracket_change(tokens: &[Token<'_>], line: &Line) -> i32 {
    let mut net = 0;
    for token in &tokens[line.lead.clone()] {
        net += token.bracket_change();
        if token.kind == Kind::OHeredoc {
            break;
        }
    }
    if let Some(assign) = &line.assign {
        net += net_brackets(&tokens[assign.clone()]);
    }
    net
}

fn close_levels(levels: &mut Vec<i32>, mut closed: i32) {
    while closed > 0 {
        let Some(top) = levels.last_mut() else { break };
        if closed >= *top {
            closed -= *top;
            levels.pop();
        } else {
            *top -= closed;
            closed = 0;
        }
    }
}

/// Sets the spaces between neighbouring tokens inside each cell.
fn format_spaces(tokens: &mut [Token<'_>], lines: &[Line]) {
    for line in lines {
        space_cell(tokens, line.lead.clone());
        if let Some(assign) = &line.assign {
            // The `=` is separated from the name; alignment may widen this.
            tokens[assign.start].spaces_before = 1;
            space_cell(tokens, assign.clone());
        }
    }
}

fn space_cell(tokens: &mut [Token<'_>], cell: Range<usize>) {
    for i in cell.start..cell.end.saturating_sub(1) {
        let before = (i > cell.start).then(|| &tokens[i - 1]);
        let space = space_after(&tokens[i], before, &tokens[i + 1]);
        tokens[i + 1].spaces_before = usize::from(space);
    }
}

/// Whether `subject` is followed by a space when `after` comes next.
/// `before` is the token preceding `subject` in the same cell, if any.
/// The order of the checks matters: earlier rules win.
fn space_after(subject: &Token<'_>, before: Option<&Token<'_>>, after: &Token<'_>) -> bool {
    use Kind::*;
    let before_kind = before.map(|token| token.kind);
    let subject_kind = subject.kind;
    let after = after.kind;
    if after == Newline {
        return false;
    }
    // Function calls `f(`, namespaced names `a::b`, traversals `a.b`.
    if (subject_kind == Ident && matches!(after, OParen | DoubleColon))
        || (subject_kind == DoubleColon && after == Ident)
        || subject_kind == Dot
        || after == Dot
    {
        return false;
    }
    if matches!(after, Comma | Ellipsis) {
        return false;
    }
    if subject_kind == Comma {
        return true;
    }
    // Template text must not change: nothing is inserted around literals or
    // inside the quotes and heredoc markers.
    if matches!(subject_kind, QuotedLit | StringLit | OQuote | OHeredoc) || matches!(after, QuotedLit | StringLit | CQuote | CHeredoc) {
        return false;
    }
    // `for x in [y]`: `in` after an identifier is the keyword, so keep it
    // apart from a following tuple instead of reading as `in[y]`.
    if subject_kind == Ident && subject.text == "in" && before_kind == Some(Ident) {
        return true;
    }
    // Indexing: `a[0]`, `f()[0]`, `[1][0]`.
    if after == OBrack && (matches!(subject_kind, Ident | NumberLit) || closes_bracket(subject_kind)) {
        return false;
    }
    if subject_kind == Bang {
        return false;
    }
    if subject_kind == Minus {
        return !minus_is_negation(before_kind);
    }
    // Braces get inner spaces (`b { a = 1 }`, `{ a = 1 }`) except `{}`.
    if subject_kind == OBrace || after == CBrace {
        return !(subject_kind == OBrace && after == CBrace);
    }
    // `${ { a = 1 } }` keeps an object inside a sequence readable.
    if matches!(subject_kind, TemplateInterp | TemplateControl) && after == OBrace {
        return true;
    }
    if subject_kind == CBrace && after == TemplateSeqEnd {
        return true;
    }
    // Adjacent sequences `${a}${b}` stay glued together.
    if subject_kind == TemplateSeqEnd && matches!(after, TemplateInterp | TemplateControl) {
        return false;
    }
    if opens_bracket(subject_kind) || closes_bracket(after) {
        return false;
    }
    true
}

/// A minus is a negation unless the token before it can end an operand.
fn minus_is_negation(before: Option<Kind>) -> bool {
    use Kind::*;
    match before {
        None => true,
        Some(kind) => matches!(
            kind,
            OParen
                | OBrace
                | OBrack
                | Equal
                | Colon
                | Comma
                | Question
                | Plus
                | Star
                | Slash
                | Percent
                | Minus
                | EqualOp
                | NotEqual
                | GreaterThan
                | GreaterThanEq
                | LessThan
                | LessThanEq
                | And
                | Or
                | Bang
        ),
    }
}

fn opens_bracket(kind: Kind) -> bool {
    matches!(kind, Kind::OBrace | Kind::OBrack | Kind::OParen | Kind::TemplateInterp | Kind::TemplateControl)
}

fn closes_bracket(kind: Kind) -> bool {
    matches!(kind, Kind::CBrace | Kind::CBrack | Kind::CParen | Kind::TemplateSeqEnd)
}

/// Aligns the `=` of consecutive attribute lines, then the trailing
/// comments of consecutive commented lines. A line without the cell (a
/// blank line, a block header, a multi-line value) ends the run.
fn align_cells(tokens: &mut [Token<'_>], lines: &[Line]) {
    align_column(tokens, lines, |line| line.assign.as_ref().map(|cell| cell.start), |tokens, line| cell_columns(tokens, &line.lead));
    // Runs after the `=` alignment, since that moves the comments too.
    align_column(
        tokens,
        lines,
        |line| line.comment.as_ref().map(|cell| cell.start),
        |tokens, line| {
            let assign = line.assign.as_ref().map_or(0, |cell| cell_columns(tokens, cell));
            cell_columns(tokens, &line.lead) + assign
        },
    );
}

/// For each run of consecutive lines that have the cell starting at
/// `cell_start`, pads that cell to one column past the widest text before
/// it (`width_before`).
fn align_column(tokens: &mut [Token<'_>], lines: &[Line], cell_start: impl Fn(&Line) -> Option<usize>, width_before: impl Fn(&[Token<'_>], &Line) -> usize) {
    for run in lines.split(|line| cell_start(line).is_none()) {
        let widths: Vec<usize> = run.iter().map(|line| width_before(tokens, line)).collect();
        let widest = widths.iter().copied().max().unwrap_or(0);
        for (line, width) in run.iter().zip(widths) {
            if let Some(start) = cell_start(line) {
                tokens[start].spaces_before = widest - width + 1;
            }
        }
    }
}

fn render(tokens: &[Token<'_>]) -> String {
    let mut out = String::new();
    for token in tokens {
        out.push_str(&" ".repeat(token.spaces_before));
        out.push_str(token.text);
    }
    out
}

// ---------------------------------------------------------------------------
// Grapheme clusters
// ---------------------------------------------------------------------------

/// Counts user-perceived characters, which hclwrite uses as column widths
/// when aligning. This approximates Unicode's extended grapheme clusters:
/// CR LF, combining marks, joiners, emoji modifiers and flag pairs join;
/// Hangul syllable composition and Indic spacing marks are not modelled.
fn grapheme_count(text: &str) -> usize {
    let mut count = 0;
    let mut prev: Option<char> = None;
    let mut regional_run = 0;
    for c in text.chars() {
        let joins = match prev {
            None => false,
            Some('\r') => c == '\n',
            Some('\n') => false,
            Some(p) => is_extend(c) || (p == ZWJ && is_pictographic(c)) || (is_regional(p) && is_regional(c) && regional_run % 2 == 1),
        };
        regional_run = if is_regional(c) { regional_run + 1 } else { 0 };
        if !joins {
            count += 1;
        }
        prev = Some(c);
    }
    count
}

const ZWJ: char = '\u{200d}';

/// Characters that attach to the one before them.
fn is_extend(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036f}'
        | '\u{0483}'..='\u{0489}'
        | '\u{0591}'..='\u{05bd}'
        | '\u{0610}'..='\u{061a}'
        | '\u{064b}'..='\u{065f}'
        | '\u{0670}'
        | '\u{06d6}'..='\u{06dc}'
        | '\u{06df}'..='\u{06e4}'
        | '\u{0e31}'
        | '\u{0e34}'..='\u{0e3a}'
        | '\u{0e47}'..='\u{0e4e}'
        | '\u{1ab0}'..='\u{1aff}'
        | '\u{1dc0}'..='\u{1dff}'
        | '\u{200c}'..='\u{200d}'
        | '\u{20d0}'..='\u{20ff}'
        | '\u{302a}'..='\u{302f}'
        | '\u{3099}'..='\u{309a}'
        | '\u{fe00}'..='\u{fe0f}'
        | '\u{fe20}'..='\u{fe2f}'
        | '\u{1f3fb}'..='\u{1f3ff}'
        | '\u{e0020}'..='\u{e007f}'
        | '\u{e0100}'..='\u{e01ef}')
}

fn is_regional(c: char) -> bool {
    matches!(c, '\u{1f1e6}'..='\u{1f1ff}')
}

/// Emoji that a zero-width joiner glues to the previous emoji.
fn is_pictographic(c: char) -> bool {
    matches!(c, '\u{2600}'..='\u{27bf}' | '\u{1f000}'..='\u{1faff}')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Input and expected output pairs from hclwrite's own format tests
    /// (hashicorp/hcl `hclwrite/format_test.go`). Several inputs are bare
    /// expressions rather than files, so they go through `format_unchecked`.
    const HCLWRITE_CASES: &[(&str, &str)] = &[
        ("", ""),
        ("a=1", "a = 1"),
        ("a=b.c", "a = b.c"),
        ("a=b[c]", "a = b[c]"),
        ("a=b()[c]", "a = b()[c]"),
        ("a=[\"hello\"][0]", "a = [\"hello\"][0]"),
        ("( a+2 )", "(a + 2)"),
        ("( a*2 )", "(a * 2)"),
        ("( a+-2 )", "(a + -2)"),
        ("( a*-2 )", "(a * -2)"),
        ("(-2+1)", "(-2 + 1)"),
        ("foo(1, -2,a*b, b,c)", "foo(1, -2, a * b, b, c)"),
        ("foo(a,b...)", "foo(a, b...)"),
        ("! true", "!true"),
        ("a=\"hello ${ name }\"", "a = \"hello ${name}\""),
        ("a=\"hello ${~ name ~}\"", "a = \"hello ${~name~}\""),
        ("a=\"${b}${c}${ d } ${e}\"", "a = \"${b}${c}${d} ${e}\""),
        ("\"%{if true}${var.foo}%{endif}\"", "\"%{if true}${var.foo}%{endif}\""),
        ("b{}", "b {}"),
        ("\n\"${\nhello\n}\"\n", "\n\"${\n  hello\n}\"\n"),
        ("\nfoo(\n1,\n- 2,\na*b,\nb,\nc,\n)\n", "\nfoo(\n  1,\n  -2,\n  a * b,\n  b,\n  c,\n)\n"),
        ("a?b:c", "a ? b : c"),
        ("[ [ ] ]", "[[]]"),
        ("[for x in y : x]", "[for x in y : x]"),
        ("[for x in [y] : x]", "[for x in [y] : x]"),
        ("\n[\n[\na\n]\n]\n", "\n[\n  [\n    a\n  ]\n]\n"),
        ("\n[[\na\n]]\n", "\n[[\n  a\n]]\n"),
        ("\n[[\n[\na\n]\n]]\n", "\n[[\n  [\n    a\n  ]\n]]\n"),
        // Degenerate input with asymmetrical brackets.
        ("\n[[\n[\na\n]]\n]\n", "\n[[\n  [\n    a\n  ]]\n]\n"),
        ("\nb {\na = 1\n}\n", "\nb {\n  a = 1\n}\n"),
        ("\nb {a = 1}\n", "\nb { a = 1 }\n"),
        ("\na = 1\nbungle = 2\n", "\na      = 1\nbungle = 2\n"),
        ("\na = 1\n\nbungle = 2\n", "\na = 1\n\nbungle = 2\n"),
        ("\na = 1 # foo\nbungle = 2\n", "\na      = 1 # foo\nbungle = 2\n"),
        ("\na = 1 # foo\nbungle = \"bonce\" # baz\n", "\na      = 1       # foo\nbungle = \"bonce\" # baz\n"),
        ("\n# here we go\na = 1 # foo\nbungle = \"bonce\" # baz\n", "\n# here we go\na      = 1       # foo\nbungle = \"bonce\" # baz\n"),
        (
            "\nfoo {} # here we go\na = 1 # foo\nbungle = \"bonce\" # baz\n",
            "\nfoo {}           # here we go\na      = 1       # foo\nbungle = \"bonce\" # baz\n",
        ),
        (
            "\na = 1 # foo\nbungle = \"bonce\" # baz\nzebra = \"striped\" # baz\n",
            "\na      = 1         # foo\nbungle = \"bonce\"   # baz\nzebra  = \"striped\" # baz\n",
        ),
        (
            "\na = 1 # foo\nbungle = (\n    \"bonce\"\n) # baz\nzebra = \"striped\" # baz\n",
            "\na = 1 # foo\nbungle = (\n  \"bonce\"\n)                 # baz\nzebra = \"striped\" # baz\n",
        ),
        (
            "\na=\"apple\"# foo\nbungle=(# woo parens\n\"bonce\"\n)# baz\nzebra=\"striped\"# baz\n",
            "\na = \"apple\" # foo\nbungle = (  # woo parens\n  \"bonce\"\n)                 # baz\nzebra = \"striped\" # baz\n",
        ),
        (
            "\n𝒜 = 1 # foo\nbungle = \"🇬🇧\" # baz\nzebra = \"striped\" # baz\n",
            "\n𝒜      = 1         # foo\nbungle = \"🇬🇧\"       # baz\nzebra  = \"striped\" # baz\n",
        ),
        ("\nfoo {\n# ...\n}\n", "\nfoo {\n  # ...\n}\n"),
        ("\nfoo = {\n# ...\n}\n", "\nfoo = {\n  # ...\n}\n"),
        ("\nfoo = [\n# ...\n]\n", "\nfoo = [\n  # ...\n]\n"),
        ("\nfoo = [{\n# ...\n}]\n", "\nfoo = [{\n  # ...\n}]\n"),
        ("\nfoo {\nbar {\n# ...\n}\n}\n", "\nfoo {\n  bar {\n    # ...\n  }\n}\n"),
        ("\nfoo {\nbar = {\n# ...\n}\n}\n", "\nfoo {\n  bar = {\n    # ...\n  }\n}\n"),
        ("\nfoo {\nbar = [\n# ...\n]\n}\n", "\nfoo {\n  bar = [\n    # ...\n  ]\n}\n"),
        ("\nfoo {\nbar = <<EOT\nFoo bar baz\nEOT\n}\n", "\nfoo {\n  bar = <<EOT\nFoo bar baz\nEOT\n}\n"),
        ("\nfoo {\nbar = <<-EOT\nFoo bar baz\nEOT\n}\n", "\nfoo {\n  bar = <<-EOT\nFoo bar baz\nEOT\n}\n"),
        ("\nfoo {\nbar = <<-EOT\n  Foo bar baz\nEOT\n}\n", "\nfoo {\n  bar = <<-EOT\n  Foo bar baz\nEOT\n}\n"),
        ("\nfoo {\nbar = <<-EOT\n  blahblahblah = x\nEOT\n}\n", "\nfoo {\n  bar = <<-EOT\n  blahblahblah = x\nEOT\n}\n"),
        ("\nfoo {\nbar = <<-EOT\n  ${{ blahblahblah = x }}\nEOT\n}\n", "\nfoo {\n  bar = <<-EOT\n  ${ { blahblahblah = x } }\nEOT\n}\n"),
        ("\nfoo {\n  bar = <<-EOT\n  ${a}${b}${ c } ${d}\nEOT\n}\n", "\nfoo {\n  bar = <<-EOT\n  ${a}${b}${c} ${d}\nEOT\n}\n"),
        (
            "\nfoo {\nbar = <<EOT\nFoo bar baz\nEOT\n}\n\nbaz {\ndefault=\"string\"\n}\n",
            "\nfoo {\n  bar = <<EOT\nFoo bar baz\nEOT\n}\n\nbaz {\n  default = \"string\"\n}\n",
        ),
        (
            "\nfoo {\nbar = <<EOT\nFoo bar baz\nEOT\nbaz = <<EOT\nFoo bar baz\nEOT\n}\n\nbar {\nfoo = \"bar\"\n}\n",
            "\nfoo {\n  bar = <<EOT\nFoo bar baz\nEOT\n  baz = <<EOT\nFoo bar baz\nEOT\n}\n\nbar {\n  foo = \"bar\"\n}\n",
        ),
        (
            "\nmodule \"foo\" {\nfoo = <<EOF\n5\nEOF\n}\n\nmodule \"x\" {\na = \"b\"\nabcde = \"456\"\n}",
            "\nmodule \"foo\" {\n  foo = <<EOF\n5\nEOF\n}\n\nmodule \"x\" {\n  a     = \"b\"\n  abcde = \"456\"\n}",
        ),
        // Namespaced function calls keep their `::` tight.
        ("a = provider :: aws :: arn_parse( x )", "a = provider::aws::arn_parse(x)"),
    ];

    #[test]
    fn hclwrite_cases() {
        for (i, &(input, want)) in HCLWRITE_CASES.iter().enumerate() {
            let got = format_unchecked(input);
            assert_eq!(got, want, "case {i}: input {input:?}");
            assert_eq!(format_unchecked(&got), got, "case {i} is not idempotent");
        }
    }

    /// Formats a valid file, checks the result and that formatting again
    /// changes nothing.
    fn check(input: &str, want: &str) {
        let got = format(input).unwrap_or_else(|err| panic!("{err} in {input:?}"));
        assert_eq!(got, want, "input:\n{input}");
        assert_eq!(format(&got).unwrap(), got, "not idempotent:\n{got}");
    }

    #[test]
    fn hclwrite_cases_that_are_files_also_pass_validation() {
        for &(input, want) in HCLWRITE_CASES {
            if hcl_edit::parser::parse_body(input).is_ok() {
                check(input, want);
            }
        }
    }

    #[test]
    fn source_block_with_nested_blocks_and_objects() {
        let input = r#"source "amazon-ebs" "ubuntu" {
ami_name = "packer-${local.ts}"
instance_type="t2.micro"
    region =   var.region
source_ami_filter {
filters = {
name = "ubuntu/images/*ubuntu-jammy-22.04-amd64-server-*"
root-device-type = "ebs"
}
most_recent = true
owners = [ "099720109477" ]
}
ssh_username = "ubuntu"
tags = {
Name = "x" # the name
Environment = "dev"
}
}
"#;
        let want = r#"source "amazon-ebs" "ubuntu" {
  ami_name      = "packer-${local.ts}"
  instance_type = "t2.micro"
  region        = var.region
  source_ami_filter {
    filters = {
      name             = "ubuntu/images/*ubuntu-jammy-22.04-amd64-server-*"
      root-device-type = "ebs"
    }
    most_recent = true
    owners      = ["099720109477"]
  }
  ssh_username = "ubuntu"
  tags = {
    Name        = "x" # the name
    Environment = "dev"
  }
}
"#;
        check(input, want);
    }

    #[test]
    fn build_block_with_provisioners_and_multi_line_lists() {
        let input = r#"build {
name = "learn-packer"
sources = [
"source.amazon-ebs.ubuntu",
"source.docker.ubuntu"
]

provisioner "shell" {
environment_vars = [
"FOO=hello world",
]
inline = [
"echo Installing Redis",
  "sleep 30",
  "sudo apt-get install -y redis-server",
]
only = ["amazon-ebs.ubuntu"]
}



provisioner "shell" {
inline = ["echo This provisioner runs last"]
}
post-processor "manifest" {}
}
"#;
        let want = r#"build {
  name = "learn-packer"
  sources = [
    "source.amazon-ebs.ubuntu",
    "source.docker.ubuntu"
  ]

  provisioner "shell" {
    environment_vars = [
      "FOO=hello world",
    ]
    inline = [
      "echo Installing Redis",
      "sleep 30",
      "sudo apt-get install -y redis-server",
    ]
    only = ["amazon-ebs.ubuntu"]
  }



  provisioner "shell" {
    inline = ["echo This provisioner runs last"]
  }
  post-processor "manifest" {}
}
"#;
        check(input, want);
    }

    #[test]
    fn heredoc_bodies_stay_verbatim_and_align_with_neighbours() {
        let input = "locals {\n\
                     script = <<-EOT\n\
                     \x20   #!/bin/bash\n\
                     \x20     echo \"${ var.x }\"   \n\
                     \x20 EOT\n\
                     \x20     user_data=\"x\"\n\
                     }\n";
        let want = "locals {\n\
                    \x20 script    = <<-EOT\n\
                    \x20   #!/bin/bash\n\
                    \x20     echo \"${var.x}\"   \n\
                    \x20 EOT\n\
                    \x20 user_data = \"x\"\n\
                    }\n";
        check(input, want);
    }

    #[test]
    fn heredoc_inside_a_list() {
        let input = "provisioner \"shell\" {\ninline = [<<EOF\n  echo one\nEOF\n, \"two\"]\n}\n";
        let want = "provisioner \"shell\" {\n  inline = [<<EOF\n  echo one\nEOF\n  , \"two\"]\n}\n";
        check(input, want);
    }

    #[test]
    fn comments_are_kept_and_trailing_ones_aligned() {
        let input = "# leading comment\n\
                     variable \"region\" {\n\
                     type = string # the type\n\
                     default = \"us-east-1\"   // default region\n\
                     \x20     /* inline */ description = \"where\"\n\
                     }\n\
                     /* block\n\
                     \x20    comment */\n\
                     // trailing spaces in a comment are part of it   \n";
        let want = "# leading comment\n\
                    variable \"region\" {\n\
                    \x20 type                     = string      # the type\n\
                    \x20 default                  = \"us-east-1\" // default region\n\
                    \x20 /* inline */ description = \"where\"\n\
                    }\n\
                    /* block\n\
                    \x20    comment */\n\
                    // trailing spaces in a comment are part of it   \n";
        check(input, want);
    }

    #[test]
    fn expressions_get_canonical_spacing() {
        let input = "locals {\n\
                     a = var.list[ 0 ]\n\
                     b = [for s in var.names : upper( s ) if s != \"\"]\n\
                     c = {for k,v in var.map : k=>v}\n\
                     d = var.enabled?1:-1\n\
                     e = !var.x&&var.y||-var.z>2\n\
                     f = concat(var.a,var.b...)\n\
                     g = var.objs[*].id\n\
                     h = var.obj.*.name\n\
                     i = 10%3*2/1-1\n\
                     j = \"%{ for x in var.xs ~}${x}%{ endfor ~}\"\n\
                     }\n";
        let want = "locals {\n\
                    \x20 a = var.list[0]\n\
                    \x20 b = [for s in var.names : upper(s) if s != \"\"]\n\
                    \x20 c = { for k, v in var.map : k => v }\n\
                    \x20 d = var.enabled ? 1 : -1\n\
                    \x20 e = !var.x && var.y || -var.z > 2\n\
                    \x20 f = concat(var.a, var.b...)\n\
                    \x20 g = var.objs[*].id\n\
                    \x20 h = var.obj.*.name\n\
                    \x20 i = 10 % 3 * 2 / 1 - 1\n\
                    \x20 j = \"%{for x in var.xs~}${x}%{endfor~}\"\n\
                    }\n";
        check(input, want);
    }

    #[test]
    fn escapes_inside_strings_are_untouched() {
        check("a = \"$${not.interp} %%{ nor.this } \\\" ${ \"nested ${ x }\" }\"\n", "a = \"$${not.interp} %%{ nor.this } \\\" ${\"nested ${x}\"}\"\n");
    }

    #[test]
    fn multi_line_function_call_and_object() {
        let input = "locals {\n\
                     tags = merge(\n\
                     var.tags,\n\
                     {\n\
                     Name = \"x\"\n\
                     Owner = \"me\"\n\
                     },\n\
                     )\n\
                     }\n";
        let want = "locals {\n\
                    \x20 tags = merge(\n\
                    \x20   var.tags,\n\
                    \x20   {\n\
                    \x20     Name  = \"x\"\n\
                    \x20     Owner = \"me\"\n\
                    \x20   },\n\
                    \x20 )\n\
                    }\n";
        check(input, want);
    }

    #[test]
    fn end_of_file_is_left_as_hclwrite_leaves_it() {
        // hclwrite neither adds a final newline nor drops blank lines.
        check("a = 1", "a = 1");
        check("a = 1\n\n\n", "a = 1\n\n\n");
        check("\n\nb {\n}\n", "\n\nb {\n}\n");
        // Trailing blanks on a line go; blank lines lose their blanks.
        check("a = 1   \n   \nb = 2\n", "a = 1\n\nb = 2\n");
    }

    #[test]
    fn tabs_and_crlf() {
        check("b {\n\ta\t=\t1\n}\n", "b {\n  a = 1\n}\n");
        check("b {\r\na=1 # c\r\n}\r\n", "b {\r\n  a = 1 # c\r\n}\r\n");
    }

    #[test]
    fn byte_order_mark_is_dropped() {
        check("\u{feff}a=1\n", "a = 1\n");
    }

    #[test]
    fn variables_and_dynamic_blocks() {
        let input = r#"variable "tags" {
type = map(string)
default = {}
validation {
condition = length(var.tags)>0
error_message = "Need tags."
}
}

source "docker" "img" {
image = "ubuntu:22.04"
commit = true
dynamic "changes" {
for_each = var.changes
content {
value = changes.value
}
}
}
"#;
        let want = r#"variable "tags" {
  type    = map(string)
  default = {}
  validation {
    condition     = length(var.tags) > 0
    error_message = "Need tags."
  }
}

source "docker" "img" {
  image  = "ubuntu:22.04"
  commit = true
  dynamic "changes" {
    for_each = var.changes
    content {
      value = changes.value
    }
  }
}
"#;
        check(input, want);
    }

    #[test]
    fn heredoc_as_a_function_argument() {
        check("locals {\nx = trimspace(<<EOT\nhello\nEOT\n)\ny = 1\n}\n", "locals {\n  x = trimspace(<<EOT\nhello\nEOT\n  )\n  y = 1\n}\n");
        check("a = <<EOT\r\n  x\r\nEOT\r\nbb=2\r\n", "a  = <<EOT\r\n  x\r\nEOT\r\nbb = 2\r\n");
    }

    #[test]
    fn comments_at_the_edges_of_the_file() {
        check("# only a comment", "# only a comment");
        check("a=1 # c", "a = 1 # c");
        check("a = 1\n/* end */", "a = 1\n/* end */");
        check("", "");
    }

    #[test]
    fn object_colons_and_single_line_objects() {
        check("a = {b:1, \"c\" = 2}\n", "a = { b : 1, \"c\" = 2 }\n");
    }

    #[test]
    fn invalid_input_reports_its_location() {
        let err = format("source \"x\" \"y\" {\n  a = \n}\n").unwrap_err();
        assert_eq!((err.line, err.column), (2, 7), "{err}");
        assert!(!err.message.is_empty());

        let err = format("a = 1\nb = [1, 2\n").unwrap_err();
        assert_eq!((err.line, err.column), (2, 11), "{err}");

        let err = format("a = 1\n  = 2\n").unwrap_err();
        assert_eq!((err.line, err.column), (2, 3), "{err}");
    }

    #[test]
    fn unterminated_heredoc_is_an_error() {
        let err = lex("a = <<EOT\nfoo\nEOT").unwrap_err();
        assert_eq!((err.line, err.column), (1, 5));
    }

    #[test]
    fn lexer_splits_templates_and_heredocs() {
        let kinds = |src| lex(src).unwrap().iter().map(|t| t.kind).collect::<Vec<_>>();
        use Kind::*;
        assert_eq!(
            kinds("a = \"x${ {b = 1}.b }y\"\n"),
            [
                Ident,
                Equal,
                OQuote,
                QuotedLit,
                TemplateInterp,
                OBrace,
                Ident,
                Equal,
                NumberLit,
                CBrace,
                Dot,
                Ident,
                TemplateSeqEnd,
                QuotedLit,
                CQuote,
                Newline,
                Eof
            ]
        );
        assert_eq!(
            kinds("x = <<-EOT\n  a ${b}\n  EOT\n"),
            [Ident, Equal, OHeredoc, StringLit, TemplateInterp, Ident, TemplateSeqEnd, StringLit, CHeredoc, Newline, Eof]
        );
        // `EOT` after a sequence on the same line is text, not the marker.
        assert_eq!(kinds("x = <<EOT\n${a}EOT\nEOT\n"), [Ident, Equal, OHeredoc, TemplateInterp, Ident, TemplateSeqEnd, StringLit, CHeredoc, Newline, Eof]);
        assert_eq!(kinds("1.5e+3 1. a.0"), [NumberLit, NumberLit, Dot, Ident, Dot, NumberLit, Eof]);
    }

    /// Inputs the fuzzer found where the lexer split tokens differently from
    /// hcl-edit, so the output either no longer parsed or changed again when
    /// formatted a second time.
    #[test]
    fn lexer_agrees_with_the_parser_on_fuzzed_inputs() {
        for (input, want) in [
            ("a=/*/* c */a\n", "a = /*/* c */ a\n"),
            ("N= 8.e6E.EEE", "N = 8.e6E.EEE"),
            ("f=h\u{44c}\u{558}\n", "f = h\u{44c}\u{558}\n"),
            ("D = Otro\u{7fd}-EOO\n", "D = Otro\u{7fd}-EOO\n"),
            ("\r\t\r\t\t\n\t", "\n "),
        ] {
            check(input, want);
        }
        let err = format(&format!("L = {}", "a+b+(".repeat(40))).unwrap_err();
        assert!(err.message.starts_with("too many brackets nested right after operators"), "{err}");
    }

    #[test]
    fn grapheme_counting() {
        assert_eq!(grapheme_count("abc"), 3);
        assert_eq!(grapheme_count("𝒜"), 1);
        assert_eq!(grapheme_count("🇬🇧🇫🇷"), 2);
        assert_eq!(grapheme_count("e\u{301}"), 1);
        assert_eq!(grapheme_count("👩\u{200d}💻"), 1);
        assert_eq!(grapheme_count("\r\n"), 1);
    }
}
