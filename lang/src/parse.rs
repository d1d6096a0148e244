//! Native HCL syntax (`*.pkr.hcl`) parsed by hcl-edit and lowered into our
//! syntax tree, with every span kept.

use crate::ast::*;
use crate::diag::Diagnostic;
use crate::number::Number;
use crate::source::{FileId, SourceMap, Span};
use crate::value::Value;
use hcl_edit::expr::{self as he, Expression, TraversalOperator};
use hcl_edit::structure as hs;
use hcl_edit::template::{self as ht, Strip};
use hcl_edit::Span as _;

/// How many brackets may nest, each opened right after a binary operator,
/// before the parser refuses the input (see [`crate::fmt::operator_nesting`]):
/// hcl-edit would take exponential time on some invalid input nested deeper.
pub(crate) const MAX_OPERATOR_NESTING: usize = 12;

pub(crate) const TOO_DEEP: &str = "too many brackets nested right after operators (as in a + (b + (c + …); split the expression into locals";

/// Refuses input nested deeper than [`MAX_OPERATOR_NESTING`].
fn check_nesting(text: &str, file: FileId, template: bool) -> Result<(), Diagnostic> {
    match crate::fmt::operator_nesting(text, template, MAX_OPERATOR_NESTING) {
        Some(offset) => Err(Diagnostic::error("Expression nested too deeply", format!("There are {TOO_DEEP}.")).at(Span::new(file, offset, offset + 1))),
        None => Ok(()),
    }
}

/// A number literal read from its source text as cty reads it (512 bits:
/// `0.1` is not a float64), falling back to hcl-edit's value. hcl-edit
/// reads `-5` as one literal (with spaces after the sign allowed); HCL
/// negates `5`, which gives the same number, `-0` included.
fn number_literal(n: &hcl_edit::Formatted<hcl_edit::Number>) -> Value {
    let text: String = n.as_repr().map(|r| r.split_whitespace().collect()).unwrap_or_default();
    match Number::parse(&text) {
        Some(Ok(number)) => Value::Number(number),
        _ => n.value().as_f64().map_or(Value::Null, Value::from),
    }
}

/// Parses a whole file that has been added to `sources`.
pub fn parse_file(sources: &SourceMap, file: FileId) -> Result<Body, Diagnostic> {
    let text = sources.get(file).map(|f| f.text.clone()).unwrap_or_default();
    check_nesting(&text, file, false)?;
    let body = hcl_edit::parser::parse_body(&text).map_err(|e| syntax_error(&text, file, &e))?;
    Ok(Lower { file }.body(&body, 0..text.len()))
}

/// Parses one expression, e.g. a `-var` value of a complex type.
pub fn parse_expression(sources: &SourceMap, file: FileId) -> Result<Expr, Diagnostic> {
    let text = sources.get(file).map(|f| f.text.clone()).unwrap_or_default();
    check_nesting(&text, file, false)?;
    // The expression parser rejects trailing white space.
    let expr = hcl_edit::parser::parse_expr(text.trim_end()).map_err(|e| syntax_error(&text, file, &e))?;
    Ok(Lower { file }.expr(&expr))
}

/// Parses a template file's text (as `templatefile` does): the whole text is
/// a template, not a quoted string.
pub fn parse_template(sources: &SourceMap, file: FileId) -> Result<Expr, Diagnostic> {
    let text = sources.get(file).map(|f| f.text.clone()).unwrap_or_default();
    check_nesting(&text, file, true)?;
    let template = hcl_edit::parser::parse_template(&text).map_err(|e| syntax_error(&text, file, &e))?;
    let lower = Lower { file };
    let parts = lower.elements(template.iter(), false, false);
    Ok(Expr { kind: ExprKind::Template(parts), span: Span::new(file, 0, text.len()) })
}

fn syntax_error(text: &str, file: FileId, e: &hcl_edit::parser::Error) -> Diagnostic {
    // hcl-edit reports one-based line and column; turn them back into a byte
    // offset so the diagnostic renders like every other one.
    let loc = e.location();
    // The offset can fall inside a multi-byte character; back up to its start.
    let mut offset = loc.offset().min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    // hcl-edit backtracks on an unterminated string or block and blames
    // where the enclosing item starts; HCL's own diagnostics are clearer.
    if let Some(d) = unterminated(text, file, offset) {
        return d;
    }
    let end = text[offset..].chars().next().map_or(offset, |c| offset + c.len_utf8());
    Diagnostic::error("Invalid HCL syntax", e.message().to_string()).at(Span::new(file, offset, end))
}

/// Finds what HCL reports before any parse error: a quoted string that a
/// line break cuts ("Invalid multi-line string", at the line break), a
/// string or heredoc the end of the file cuts ("Unterminated template
/// string", at the end), and, when the parser failed at the end of the
/// file, a block left open ("Unclosed configuration block", at its brace).
fn unterminated(text: &str, file: FileId, parse_error_at: usize) -> Option<Diagnostic> {
    enum Mode {
        /// Code, with the offsets of the braces opened in it (and whether
        /// each opens a block rather than an object).
        Code(Vec<(usize, bool)>),
        Quoted,
    }
    let unterminated_at_end =
        || Diagnostic::error("Unterminated template string", "No closing marker was found for the string.").at(Span::new(file, text.len(), text.len()));
    let bytes = text.as_bytes();
    let mut stack = vec![Mode::Code(Vec::new())];
    let mut i = 0;
    while i < bytes.len() {
        let rest = &bytes[i..];
        let nested = stack.len() > 1;
        match stack.last_mut()? {
            Mode::Code(braces) => match bytes[i] {
                b'#' => i = skip_line(bytes, i),
                b'/' if rest.starts_with(b"//") => i = skip_line(bytes, i),
                b'/' if rest.starts_with(b"/*") => {
                    i = text[i + 2..].find("*/").map_or(bytes.len(), |e| i + 2 + e + 2);
                }
                b'<' if rest.starts_with(b"<<") => match skip_heredoc(text, i) {
                    Some(next) => i = next,
                    None => return Some(unterminated_at_end()),
                },
                b'"' => {
                    stack.push(Mode::Quoted);
                    i += 1;
                }
                b'{' => {
                    // A block's brace follows its type or a label; an
                    // object's follows `=`, `(`, `,`, `[`, `?` or `:`.
                    let before = text[..i].trim_end().bytes().last();
                    let block = before.is_some_and(|b| b == b'"' || b == b'_' || b == b'-' || b.is_ascii_alphanumeric());
                    braces.push((i, block));
                    i += 1;
                }
                b'}' => {
                    if braces.pop().is_none() && nested {
                        stack.pop();
                    }
                    i += 1;
                }
                _ => i += 1,
            },
            Mode::Quoted => {
                if rest.starts_with(b"$${") || rest.starts_with(b"%%{") {
                    i += 3;
                } else if rest.starts_with(b"${") || rest.starts_with(b"%{") {
                    stack.push(Mode::Code(Vec::new()));
                    i += 2;
                } else if bytes[i] == b'\\' {
                    i += 2;
                } else if bytes[i] == b'"' {
                    stack.pop();
                    i += 1;
                } else if bytes[i] == b'\n' || rest.starts_with(b"\r\n") {
                    return Some(
                        Diagnostic::error(
                            "Invalid multi-line string",
                            "Quoted strings may not be split over multiple lines. To produce a multi-line string, either use the \\n escape to represent a newline character or use the \"heredoc\" multi-line template syntax.",
                        )
                        .at(Span::new(file, i, i + 1)),
                    );
                } else {
                    i += 1;
                }
            }
        }
    }
    match stack.as_slice() {
        [.., Mode::Quoted] => Some(unterminated_at_end()),
        [Mode::Code(braces)] if parse_error_at >= text.trim_end().len() => braces.last().filter(|(_, block)| *block).map(|&(open, _)| {
            Diagnostic::error(
                "Unclosed configuration block",
                "There is no closing brace for this block before the end of the file. This may be caused by incorrect brace nesting elsewhere in this file.",
            )
            .at(Span::new(file, open, open + 1))
        }),
        _ => None,
    }
}

fn skip_line(bytes: &[u8], from: usize) -> usize {
    bytes[from..].iter().position(|b| *b == b'\n').map_or(bytes.len(), |p| from + p)
}

/// Skips `<<EOT` / `<<-EOT` and its lines up to the closing marker; `None`
/// when the file ends first. Anything else starting with `<<` is skipped as
/// two characters.
fn skip_heredoc(text: &str, from: usize) -> Option<usize> {
    let after = text[from + 2..].strip_prefix('-').unwrap_or(&text[from + 2..]);
    let marker: String = after.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
    if marker.is_empty() {
        return Some(from + 2);
    }
    let body_start = text[from..].find('\n').map(|p| from + p + 1)?;
    let mut at = body_start;
    for line in text[body_start..].split_inclusive('\n') {
        at += line.len();
        if line.trim() == marker {
            return Some(at);
        }
    }
    None
}

struct Lower {
    file: FileId,
}

impl Lower {
    fn span(&self, range: Option<std::ops::Range<usize>>) -> Span {
        range.map_or(Span { file: self.file, start: 0, end: 0 }, |r| Span::new(self.file, r.start, r.end))
    }

    fn body(&self, body: &hs::Body, range: std::ops::Range<usize>) -> Body {
        let mut out = Body { span: self.span(body.span().or(Some(range))), ..Body::default() };
        for structure in body.iter() {
            match structure {
                hs::Structure::Attribute(a) => out.attributes.push(Attribute {
                    name: a.key.as_str().to_string(),
                    name_span: self.span(a.key.span()),
                    expr: self.expr(&a.value),
                    span: self.span(a.span()),
                }),
                hs::Structure::Block(b) => out.blocks.push(self.block(b)),
            }
        }
        out
    }

    fn block(&self, b: &hs::Block) -> Block {
        let span = self.span(b.span());
        Block {
            kind: b.ident.as_str().to_string(),
            kind_span: self.span(b.ident.span()),
            labels: b.labels.iter().map(|l| Label { value: l.as_str().to_string(), span: self.span(l.span()) }).collect(),
            body: self.body(&b.body, span.start as usize..span.end as usize),
            span,
        }
    }

    fn expr(&self, e: &Expression) -> Expr {
        let span = self.span(e.span());
        let kind = match e {
            Expression::Null(_) => ExprKind::Literal(Value::Null),
            Expression::Bool(b) => ExprKind::Literal(Value::Bool(*b.value())),
            Expression::Number(n) => ExprKind::Literal(number_literal(n)),
            Expression::String(s) => ExprKind::Literal(Value::String(s.value().clone())),
            Expression::Array(a) => ExprKind::Tuple(a.iter().map(|e| self.expr(e)).collect()),
            Expression::Object(o) => ExprKind::Object(
                o.iter()
                    .map(|(k, v)| {
                        let key = match k {
                            he::ObjectKey::Ident(id) => ObjectKey::Ident(id.as_str().to_string(), self.span(id.span())),
                            he::ObjectKey::Expression(e) => ObjectKey::Expr(self.expr(e)),
                        };
                        (key, self.expr(v.expr()))
                    })
                    .collect(),
            ),
            Expression::StringTemplate(t) => ExprKind::Template(self.elements(t.iter(), false, false)),
            Expression::HeredocTemplate(h) => ExprKind::Template(self.elements(h.template.iter(), false, false)),
            Expression::Parenthesis(p) => ExprKind::Parens(Box::new(self.expr(p.inner()))),
            Expression::Variable(v) => ExprKind::Variable(v.as_str().to_string()),
            Expression::Conditional(c) => {
                ExprKind::Conditional(Box::new(self.expr(&c.cond_expr)), Box::new(self.expr(&c.true_expr)), Box::new(self.expr(&c.false_expr)))
            }
            Expression::FuncCall(f) => {
                let mut name: Vec<&str> = f.name.namespace.iter().map(|n| n.as_str()).collect();
                name.push(f.name.name.as_str());
                ExprKind::Call(Box::new(Call {
                    name: name.join("::"),
                    name_span: self.span(f.name.name.span()),
                    args: f.args.iter().map(|a| self.expr(a)).collect(),
                    expand_final: f.args.expand_final(),
                }))
            }
            Expression::Traversal(t) => ExprKind::Traversal(Box::new(self.expr(&t.expr)), t.operators.iter().map(|op| self.traverser(op)).collect()),
            Expression::UnaryOp(u) => {
                let op = match u.operator.value() {
                    he::UnaryOperator::Neg => UnaryOp::Neg,
                    he::UnaryOperator::Not => UnaryOp::Not,
                };
                ExprKind::Unary(op, Box::new(self.expr(&u.expr)))
            }
            Expression::BinaryOp(b) => {
                use he::BinaryOperator as B;
                let op = match b.operator.value() {
                    B::Eq => BinaryOp::Eq,
                    B::NotEq => BinaryOp::NotEq,
                    B::LessEq => BinaryOp::LtEq,
                    B::GreaterEq => BinaryOp::GtEq,
                    B::Less => BinaryOp::Lt,
                    B::Greater => BinaryOp::Gt,
                    B::Plus => BinaryOp::Add,
                    B::Minus => BinaryOp::Sub,
                    B::Mul => BinaryOp::Mul,
                    B::Div => BinaryOp::Div,
                    B::Mod => BinaryOp::Mod,
                    B::And => BinaryOp::And,
                    B::Or => BinaryOp::Or,
                };
                ExprKind::Binary(op, Box::new(self.expr(&b.lhs_expr)), Box::new(self.expr(&b.rhs_expr)))
            }
            Expression::ForExpr(f) => ExprKind::For(Box::new(ForExpr {
                key_var: f.intro.key_var.as_ref().map(|k| k.as_str().to_string()),
                value_var: f.intro.value_var.as_str().to_string(),
                collection: self.expr(&f.intro.collection_expr),
                key_expr: f.key_expr.as_ref().map(|k| self.expr(k)),
                value_expr: self.expr(&f.value_expr),
                grouping: f.grouping,
                cond: f.cond.as_ref().map(|c| self.expr(&c.expr)),
            })),
        };
        Expr { kind, span }
    }

    fn traverser(&self, op: &hcl_edit::Decorated<TraversalOperator>) -> Traverser {
        let span = self.span(op.span());
        match op.value() {
            TraversalOperator::AttrSplat(_) => Traverser::AttrSplat(span),
            TraversalOperator::FullSplat(_) => Traverser::FullSplat(span),
            TraversalOperator::GetAttr(id) => Traverser::Attr(id.as_str().to_string(), id.span().map_or(span, |r| self.span(Some(r)))),
            TraversalOperator::Index(e) => Traverser::Index(self.expr(e)),
            TraversalOperator::LegacyIndex(i) => Traverser::LegacyIndex(*i.value(), span),
        }
    }

    /// Lowers template elements and applies strip markers (`~`): a marker
    /// removes all white space (newlines included) from the literal next to it.
    /// `trim_start` / `trim_end` come from the markers of the directive that
    /// encloses this sequence.
    fn elements<'a>(&self, elements: impl Iterator<Item = &'a ht::Element>, trim_start: bool, trim_end: bool) -> Vec<TemplatePart> {
        let mut parts = Vec::new();
        let mut trim_next = trim_start;
        for element in elements {
            match element {
                ht::Element::Literal(s) => {
                    let text: &str = s.value();
                    let text = if trim_next { text.trim_start() } else { text };
                    trim_next = false;
                    if !text.is_empty() {
                        parts.push(TemplatePart::Literal(text.to_string()));
                    }
                }
                ht::Element::Interpolation(i) => {
                    if strips_before(i.strip) {
                        trim_last_literal(&mut parts);
                    }
                    parts.push(TemplatePart::Interpolation(self.expr(&i.expr)));
                    trim_next = strips_after(i.strip);
                }
                ht::Element::Directive(d) => match d.as_ref() {
                    ht::Directive::If(d) => {
                        if strips_before(d.if_expr.strip) {
                            trim_last_literal(&mut parts);
                        }
                        let endif_before = strips_before(d.endif_expr.strip);
                        let then_end = d.else_expr.as_ref().map_or(endif_before, |e| strips_before(e.strip));
                        let then = self.elements(d.if_expr.template.iter(), strips_after(d.if_expr.strip), then_end);
                        let otherwise = d.else_expr.as_ref().map(|e| self.elements(e.template.iter(), strips_after(e.strip), endif_before)).unwrap_or_default();
                        parts.push(TemplatePart::If { cond: self.expr(&d.if_expr.cond_expr), then, otherwise });
                        trim_next = strips_after(d.endif_expr.strip);
                    }
                    ht::Directive::For(d) => {
                        let f = &d.for_expr;
                        if strips_before(f.strip) {
                            trim_last_literal(&mut parts);
                        }
                        let body = self.elements(f.template.iter(), strips_after(f.strip), strips_before(d.endfor_expr.strip));
                        parts.push(TemplatePart::For {
                            key_var: f.key_var.as_ref().map(|k| k.as_str().to_string()),
                            value_var: f.value_var.as_str().to_string(),
                            collection: self.expr(&f.collection_expr),
                            body,
                        });
                        trim_next = strips_after(d.endfor_expr.strip);
                    }
                },
            }
        }
        if trim_end {
            trim_last_literal(&mut parts);
        }
        parts
    }
}

fn strips_before(s: Strip) -> bool {
    matches!(s, Strip::Start | Strip::Both)
}

fn strips_after(s: Strip) -> bool {
    matches!(s, Strip::End | Strip::Both)
}

fn trim_last_literal(parts: &mut Vec<TemplatePart>) {
    if let Some(TemplatePart::Literal(s)) = parts.last_mut() {
        let trimmed = s.trim_end().len();
        s.truncate(trimmed);
        if s.is_empty() {
            parts.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_at(src: &str) -> (String, String) {
        let sources = SourceMap::new();
        let file = sources.add("t.pkr.hcl", src);
        let d = parse_file(&sources, file).unwrap_err();
        (d.summary.clone(), sources.location(d.span.unwrap()))
    }

    #[test]
    fn an_unterminated_string_is_reported_at_its_line_break() {
        assert_eq!(error_at("locals {\n  a = \"abc\n}\n"), ("Invalid multi-line string".into(), "t.pkr.hcl:2:11".into()));
        // Braces, escapes and comments before it do not confuse the scan.
        let src = "# \"not a string\n/* \" */\nlocals {\n  b = \"${upper(\"x\")} \\\" $${y}\"\n  a = \"x${local.b}\n}\n";
        assert_eq!(error_at(src), ("Invalid multi-line string".into(), "t.pkr.hcl:5:19".into()));
        // A heredoc's lines are not quoted strings.
        let src = "locals {\n  h = <<EOT\n\"\nEOT\n  a = \"x\n}\n";
        assert_eq!(error_at(src), ("Invalid multi-line string".into(), "t.pkr.hcl:5:9".into()));
        assert_eq!(error_at("a = \"abc"), ("Unterminated template string".into(), "t.pkr.hcl:1:9".into()));
        assert_eq!(error_at("a = <<EOT\nabc\n"), ("Unterminated template string".into(), "t.pkr.hcl:3:1".into()));
    }

    #[test]
    fn an_unclosed_block_is_reported_at_its_brace() {
        let src = "source \"null\" \"a\" {\n  x = { k = 1 }\n\nbuild {\n}\n";
        assert_eq!(error_at(src), ("Unclosed configuration block".into(), "t.pkr.hcl:1:19".into()));
        // An object left open is not a block.
        assert_ne!(error_at("tags = {a = 1\n").0, "Unclosed configuration block");
    }

    fn parse(src: &str) -> Result<Body, String> {
        let sources = SourceMap::new();
        let file = sources.add("t.pkr.hcl", src);
        parse_file(&sources, file).map_err(|d| d.render(&sources))
    }

    #[test]
    fn operator_nesting_that_would_take_exponential_time_is_refused() {
        // Each level doubles hcl-edit's work on this invalid input; 64 levels
        // would not finish.
        let started = std::time::Instant::now();
        let err = parse(&format!("x = {}\n", "a+b+(".repeat(64))).unwrap_err();
        assert!(err.contains("Expression nested too deeply") && err.contains("t.pkr.hcl:1:69"), "{err}");
        let err = parse(&format!("x = \"${{{}\"\n", "a%b%{ ".repeat(64))).unwrap_err();
        assert!(err.contains("Expression nested too deeply"), "{err}");
        assert!(started.elapsed().as_secs() < 5);

        // Valid nesting below the limit, and nesting that is not after
        // operators, still parse.
        let nested = format!("x = {}1{}\n", "a + (".repeat(12), ")".repeat(12));
        parse(&nested).unwrap();
        parse(&format!("x = {}1{}\n", "[(".repeat(30), ")]".repeat(30))).unwrap();
        parse("x = \"((((((((((((((((((((\" + \"a\"\n").unwrap();
    }
}
