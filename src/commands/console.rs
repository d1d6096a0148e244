//! `bake console [TEMPLATE]`: evaluates expressions against a template's
//! variables and locals, as `packer console` does; without a template only
//! functions and literals are there.
//!
//! Packer's two modes, chosen by whether stdin is a terminal:
//! - interactive: a `> ` prompt with line editing and history; each result
//!   is printed, each error too, and the console goes on. `exit` or Ctrl-D
//!   quits; Ctrl-C clears the line, a second one in a row quits (Packer's
//!   Ctrl-C on an empty line).
//! - piped: every line is evaluated and its errors reported on stderr, but
//!   only the last line's result is printed, and the exit code is 1 when any
//!   line failed: what `echo 'upper(var.x)' | packer console t.pkr.hcl`
//!   scripts rely on.
//!
//! Results are printed as Packer's console prints them (its `repl` format):
//! a string bare at the top level and quoted inside collections, lists and
//! maps one element a line. A value computed from a sensitive variable or
//! local is `<sensitive>`; one computed from a variable that has no value,
//! or from a data source (not run here, as in `bake validate`), is
//! `<unknown>`, as Packer prints what it cannot know yet.

use super::{load_options, load_or_report, print_diagnostics, DataMode};
use crate::cli::ConsoleArgs;
use crate::load::{LoadOptions, Loaded};
use crate::ui::Masker;
use bake_lang::diag::Diagnostics;
use bake_lang::eval::{references, Evaluator, Reference};
use bake_lang::functions::{go_quote, go_shortest};
use bake_lang::value::format_number;
use bake_lang::{SourceMap, Value};
use std::collections::BTreeSet;
use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::time::SystemTime;

pub fn run(args: ConsoleArgs) -> i32 {
    let session = match &args.template {
        Some(template) => {
            // As in Packer's console, a variable without a value is unknown.
            let opts = LoadOptions { unset_is_unknown: true, ..load_options(template, &args.vars, false) };
            let Some(loaded) = load_or_report(&opts, DataMode::Placeholder) else { return 1 };
            Session::of_template(loaded)
        }
        None => Session::bare(),
    };
    if std::io::stdin().is_terminal() {
        interactive(&session)
    } else {
        piped(&session)
    }
}

/// What one line of input asks for.
#[derive(Debug, PartialEq)]
enum Reply {
    /// Text to print (a result, the help, the variables).
    Show(String),
    /// An empty line: nothing to do.
    Nothing,
    Exit,
}

struct Session {
    evaluator: Evaluator,
    masker: Masker,
    /// `var.NAME` / `local.NAME` whose values are never shown.
    sensitive: BTreeSet<String>,
    /// `var.NAME` / `local.NAME` / `data` with no value known here.
    unknown: BTreeSet<String>,
    loaded: Option<Loaded>,
}

impl Session {
    /// Functions only, as `packer console` without a template.
    fn bare() -> Session {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        Session {
            evaluator: Evaluator::new(SourceMap::new(), cwd, SystemTime::now()),
            masker: Masker::default(),
            sensitive: BTreeSet::new(),
            unknown: BTreeSet::new(),
            loaded: None,
        }
    }

    fn of_template(loaded: Loaded) -> Session {
        let mut sensitive: BTreeSet<String> = loaded.variables.iter().filter(|(_, v)| v.sensitive).map(|(n, _)| format!("var.{n}")).collect();
        sensitive.extend(loaded.locals.iter().filter(|(_, l)| l.sensitive).map(|(n, _)| format!("local.{n}")));
        // Unset variables and what the loader computed from them are
        // unknown; data sources stand in with placeholders, so they and
        // every local computed from them are unknown too.
        let mut unknown: BTreeSet<String> = loaded.variables.iter().filter(|(_, v)| v.unknown).map(|(n, _)| format!("var.{n}")).collect();
        unknown.extend(loaded.locals.iter().filter(|(_, l)| l.unknown).map(|(n, _)| format!("local.{n}")));
        unknown.insert("data".to_string());
        loop {
            let before = unknown.len();
            for decl in &loaded.template.locals {
                if refers_to(&references(&decl.expr), &unknown) {
                    unknown.insert(format!("local.{}", decl.name));
                }
            }
            if unknown.len() == before {
                break;
            }
        }
        Session { evaluator: loaded.evaluator.clone(), masker: Masker::new(loaded.secrets.clone()), sensitive, unknown, loaded: Some(loaded) }
    }

    fn handle(&self, line: &str) -> Result<Reply, Diagnostics> {
        match line.trim() {
            "" => Ok(Reply::Nothing),
            "exit" => Ok(Reply::Exit),
            "help" => Ok(Reply::Show(HELP.trim_end().to_string())),
            "variables" => Ok(Reply::Show(self.variables())),
            expr => self.evaluate(expr).map(Reply::Show),
        }
    }

    fn evaluate(&self, text: &str) -> Result<String, Diagnostics> {
        let sources = &self.evaluator.sources;
        let file = sources.add("<console-input>", text);
        let expr = bake_lang::parse::parse_expression(sources, file)?;
        let refs = references(&expr);
        if refers_to(&refs, &self.unknown) {
            return Ok("<unknown>".to_string());
        }
        let value = self.evaluator.eval(&expr).map_err(|d| match &self.loaded {
            None if refs.iter().any(|r| TEMPLATE_ROOTS.contains(&r.root.as_str())) => {
                d.with_help("the console was started without a template: give one (`bake console t.pkr.hcl`) to use its variables and locals")
            }
            _ => d,
        })?;
        if refers_to(&refs, &self.sensitive) {
            return Ok("<sensitive>".to_string());
        }
        Ok(self.masker.mask(&format_result(&value)))
    }

    /// Packer's `variables` listing: every variable and local, by name, its
    /// value as a quoted string.
    fn variables(&self) -> String {
        let mut out = String::from("> input-variables:\n\n");
        let Some(loaded) = &self.loaded else { return out + "\n> local-variables:\n" };
        let shown = |name: String, value: Option<&Value>| {
            let text = match value {
                Some(_) if self.unknown.contains(&name) => "<unknown>".to_string(),
                Some(_) if self.sensitive.contains(&name) => "<sensitive>".to_string(),
                Some(v) => self.masker.mask(&format_result(v)),
                None => "<unknown>".to_string(),
            };
            format!("{name}: {}\n", go_quote(&text))
        };
        let mut variables: Vec<&str> = loaded.template.variables.iter().map(|v| v.name.as_str()).collect();
        variables.sort_unstable();
        for name in variables {
            out.push_str(&shown(format!("var.{name}"), loaded.variables.get(name).map(|v| &v.value)));
        }
        out.push_str("\n> local-variables:\n\n");
        let mut locals: Vec<&str> = loaded.template.locals.iter().map(|l| l.name.as_str()).collect();
        locals.sort_unstable();
        for name in locals {
            out.push_str(&shown(format!("local.{name}"), loaded.locals.get(name).map(|l| &l.value)));
        }
        out
    }

    fn report(&self, diags: &Diagnostics) {
        print_diagnostics(diags, &self.evaluator.sources, &self.masker);
    }
}

/// The names only a template defines.
const TEMPLATE_ROOTS: &[&str] = &["var", "local", "data", "path", "source", "build"];

const HELP: &str = "\
bake console: evaluates HCL2 expressions as the template sees them.

  var.NAME, local.NAME   the template's variables and locals
  upper(var.region)      functions, as in the template
  variables              every variable and local with its value
  help                   this text
  exit                   leave (or Ctrl-D)

Sensitive values show as <sensitive>; values that are not known until a
build (an unset variable, what a data source gives) as <unknown>.
";

/// Whether any reference reads one of `names` (`var.x`, `local.y`, or a
/// whole root such as `data`); a bare `var` or `local` reads them all.
fn refers_to(refs: &[Reference], names: &BTreeSet<String>) -> bool {
    refs.iter().any(|r| match r.path.first() {
        Some(first) => names.contains(&r.root) || names.contains(&format!("{}.{first}", r.root)),
        None => names.contains(&r.root) || names.iter().any(|n| n.strip_prefix(r.root.as_str()).is_some_and(|rest| rest.starts_with('.'))),
    })
}

fn piped(session: &Session) -> i32 {
    let mut code = 0;
    let mut last = None;
    for line in std::io::stdin().lock().lines() {
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                eprintln!("Error: cannot read standard input: {e}");
                return 1;
            }
        };
        match session.handle(&line) {
            Ok(Reply::Show(text)) => last = Some(text),
            Ok(Reply::Nothing) => {}
            Ok(Reply::Exit) => break,
            Err(diags) => {
                session.report(&diags);
                last = None;
                code = 1;
            }
        }
    }
    if let Some(text) = last {
        outln!("{text}");
    }
    code
}

fn interactive(session: &Session) -> i32 {
    use rustyline::error::ReadlineError;
    let mut editor = match rustyline::DefaultEditor::new() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("Error: cannot start the console: {e}");
            return 1;
        }
    };
    let mut interrupted = false;
    loop {
        let line = match editor.readline("> ") {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) if !interrupted => {
                interrupted = true;
                continue;
            }
            Err(ReadlineError::Interrupted | ReadlineError::Eof) => return 0,
            Err(e) => {
                eprintln!("Error: cannot read the console's input: {e}");
                return 1;
            }
        };
        interrupted = false;
        if !line.trim().is_empty() {
            let _ = editor.add_history_entry(line.as_str());
        }
        match session.handle(&line) {
            Ok(Reply::Show(text)) => outln!("{text}"),
            Ok(Reply::Nothing) => {}
            Ok(Reply::Exit) => return 0,
            Err(diags) => session.report(&diags),
        }
    }
}

/// A value as Packer's console prints it: a string bare at the top level,
/// quoted (Go's `%q`) inside lists and maps; lists and maps one element a
/// line, indented by two, list elements followed by a comma; map keys sorted
/// and quoted.
fn format_result(value: &Value) -> String {
    format_value(value, false)
}

fn format_value(value: &Value, nested: bool) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => go_number(*n),
        Value::String(s) if nested => go_quote(s),
        Value::String(s) => s.clone(),
        Value::List(items) if items.is_empty() => "[]".to_string(),
        Value::List(items) => {
            let lines: String = items.iter().map(|v| format!("{},\n", indent(&format_value(v, true)))).collect();
            format!("[\n{lines}]")
        }
        Value::Object(map) if map.is_empty() => "{}".to_string(),
        Value::Object(map) => {
            let lines: String = map.iter().map(|(k, v)| format!("{}\n", indent(&format!("{} = {}", go_quote(k), format_value(v, true))))).collect();
            format!("{{\n{lines}}}")
        }
    }
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}")).collect::<Vec<_>>().join("\n")
}

/// A number as Packer's console shows it: a whole number as an integer, any
/// other in Go's shortest `%g` form (`2.5`, `1.2345675e+06`).
fn go_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 9.2e18 {
        format_number(n)
    } else {
        go_shortest(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Object(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
    }

    #[test]
    fn results_print_as_packers_console_prints_them() {
        assert_eq!(format_result(&Value::from("eu-west-1")), "eu-west-1");
        assert_eq!(format_result(&Value::Number(3.0)), "3");
        assert_eq!(format_result(&Value::Null), "null");
        assert_eq!(format_result(&Value::List(vec![])), "[]");
        assert_eq!(format_result(&Value::from(vec!["a", "b\"c"])), "[\n  \"a\",\n  \"b\\\"c\",\n]");
        let nested = obj(&[("b", Value::from(vec![Value::Number(1.0)])), ("a", Value::Bool(true))]);
        assert_eq!(format_result(&nested), "{\n  \"a\" = true\n  \"b\" = [\n    1,\n  ]\n}");
    }

    #[test]
    fn numbers_follow_gos_shortest_g() {
        assert_eq!(go_number(10.0 / 4.0), "2.5");
        assert_eq!(go_number(1.0 / 3.0), "0.3333333333333333");
        assert_eq!(go_number(0.00001), "1e-05");
        assert_eq!(go_number(123456.5), "123456.5");
        assert_eq!(go_number(1234567.5), "1.2345675e+06");
        assert_eq!(go_number(1.5e22), "1.5e+22");
        assert_eq!(go_number(-42.0), "-42");
    }

    #[test]
    fn references_to_a_name_or_its_whole_root_count() {
        let names: BTreeSet<String> = ["var.secret".to_string()].into();
        let sources = SourceMap::new();
        let refs = |text: &str| references(&bake_lang::parse::parse_expression(&sources, sources.add("t", text)).unwrap());
        assert!(refers_to(&refs("upper(var.secret)"), &names));
        assert!(refers_to(&refs("var[\"secret\"]"), &names));
        assert!(refers_to(&refs("keys(var)"), &names));
        assert!(!refers_to(&refs("var.region"), &names));
        assert!(!refers_to(&refs("local.secret"), &names));
    }
}
