//! Diagnostics: what went wrong, where, and what to do about it.

use crate::source::{SourceMap, Span};
use std::fmt::Write as _;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem found in a template, with where it is and a hint.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// A short title, such as `Unsupported argument`.
    pub summary: String,
    /// The full explanation.
    pub detail: String,
    pub span: Option<Span>,
    /// What the user can do, such as `did you mean "disk_size"?`.
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(summary: impl Into<String>, detail: impl Into<String>) -> Diagnostic {
        Diagnostic { severity: Severity::Error, summary: summary.into(), detail: detail.into(), span: None, help: None }
    }

    pub fn warning(summary: impl Into<String>, detail: impl Into<String>) -> Diagnostic {
        Diagnostic { severity: Severity::Warning, ..Diagnostic::error(summary, detail) }
    }

    pub fn at(mut self, span: Span) -> Diagnostic {
        self.span = Some(span);
        self
    }

    /// Sets the span only when none is set yet: the innermost location wins.
    pub fn or_at(mut self, span: Span) -> Diagnostic {
        if self.span.is_none() {
            self.span = Some(span);
        }
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Renders the diagnostic with its location and a snippet of the source:
    ///
    /// ```text
    /// Error: Unsupported argument
    ///
    ///   on web.pkr.hcl line 12, column 3 (web.pkr.hcl:12:3):
    ///     12 |   disk_sise = 10
    ///        |   ^^^^^^^^^
    ///
    /// An argument named "disk_sise" is not expected here.
    /// Help: did you mean "disk_size"?
    /// ```
    pub fn render(&self, sources: &SourceMap) -> String {
        let mut out = String::new();
        let kind = match self.severity {
            Severity::Error => "Error",
            Severity::Warning => "Warning",
        };
        let _ = writeln!(out, "{kind}: {}", self.summary);
        if let Some(span) = self.span {
            if let Some(file) = sources.get(span.file) {
                let (line, col) = file.line_col(span.start);
                let (end_line, end_col) = file.line_col(span.end);
                let _ = writeln!(out);
                let _ = writeln!(out, "  on {}:", sources.location(span));
                let text = file.line_text(line);
                let gutter = line.to_string().len();
                let _ = writeln!(out, "  {line:>gutter$} | {text}");
                let width = if end_line == line { end_col.saturating_sub(col).max(1) } else { text.chars().count().saturating_sub(col - 1).max(1) };
                let pad: String = text.chars().take(col - 1).map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
                let _ = writeln!(out, "  {:>gutter$} | {pad}{}", "", "^".repeat(width));
            }
        }
        if !self.detail.is_empty() {
            let _ = writeln!(out);
            let _ = writeln!(out, "{}", self.detail);
        }
        if let Some(help) = &self.help {
            let _ = writeln!(out, "Help: {help}");
        }
        out
    }
}

/// A list of diagnostics; an operation fails when any of them is an error.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn new() -> Diagnostics {
        Diagnostics(Vec::new())
    }

    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }

    /// Ok with the warnings when there is no error, Err with everything otherwise.
    pub fn into_result(self) -> Result<Diagnostics, Diagnostics> {
        if self.has_errors() {
            Err(self)
        } else {
            Ok(self)
        }
    }

    pub fn render(&self, sources: &SourceMap) -> String {
        self.0.iter().map(|d| d.render(sources)).collect::<Vec<_>>().join("\n")
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Diagnostics {
        Diagnostics(vec![d])
    }
}

/// The known name closest to `name`, when it is close enough to be a likely typo.
pub fn suggest<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    known.into_iter().map(|k| (edit_distance(name, k), k)).filter(|(d, k)| *d <= (name.len().max(k.len()) / 3).max(2)).min_by_key(|(d, _)| *d).map(|(_, k)| k)
}

/// Levenshtein distance between two strings, in characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let known = ["disk_size", "disk_interface", "memory"];
        assert_eq!(suggest("disk_sise", known), Some("disk_size"));
        assert_eq!(suggest("memroy", known), Some("memory"));
        assert_eq!(suggest("zzzzzz", known), None);
    }

    #[test]
    fn renders_location_and_caret() {
        let sources = SourceMap::new();
        let f = sources.add("t.pkr.hcl", "a = 1\n  disk_sise = 10\n");
        let d = Diagnostic::error("Unsupported argument", "An argument named \"disk_sise\" is not expected here.")
            .at(Span::new(f, 8, 17))
            .with_help("did you mean \"disk_size\"?");
        let text = d.render(&sources);
        assert!(text.contains("on t.pkr.hcl:2:3:"), "{text}");
        assert!(text.contains("2 |   disk_sise = 10"), "{text}");
        assert!(text.contains("  |   ^^^^^^^^^\n"), "{text}");
        assert!(text.contains("Help: did you mean \"disk_size\"?"), "{text}");
    }
}
