//! Variable values (with Packer's precedence and type constraints) and locals
//! (in dependency order, cycles reported).

use super::template::{Template, VariableDecl};
use super::{LoadOptions, VariableValue};
use bake_lang::ast::Body;
use bake_lang::diag::{suggest, Diagnostic, Diagnostics};
use bake_lang::eval::{to_bool, Evaluator};
use bake_lang::source::display_path;
use bake_lang::types::{self, Type};
use bake_lang::{Span, Value};
use indexmap::IndexMap;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// One candidate value for a variable, before type conversion.
struct Candidate {
    value: Value,
    origin: String,
    span: Option<Span>,
}

/// The winning candidate of each variable so far, and every value given to
/// any of them (the values of sensitive ones are masked, winners or not).
#[derive(Default)]
struct Candidates {
    latest: BTreeMap<String, Candidate>,
    given: Vec<(String, Value)>,
    /// Variables given a value that could not be read: not "unset" as well.
    failed: BTreeSet<String>,
    /// A var file could not be parsed: which variables it sets is unknown.
    unreadable_file: bool,
}

impl Candidates {
    fn insert(&mut self, name: &str, c: Candidate) {
        self.given.push((name.to_string(), c.value.clone()));
        self.latest.insert(name.to_string(), c);
    }

    fn fail(&mut self, name: &str) {
        self.failed.insert(name.to_string());
    }
}

pub fn evaluate_variables(
    template: &Template,
    base: &Evaluator,
    opts: &LoadOptions,
    auto_var_files: &[PathBuf],
    diags: &mut Diagnostics,
    warnings: &mut Diagnostics,
    sensitive_values: &mut Vec<Value>,
) -> IndexMap<String, VariableValue> {
    let decls: IndexMap<&str, &VariableDecl> = template.variables.iter().map(|v| (v.name.as_str(), v)).collect();
    let mut types: BTreeMap<&str, Type> = BTreeMap::new();
    for v in &template.variables {
        if let Some(t) = &v.type_expr {
            match types::parse(t) {
                Ok(ty) => {
                    types.insert(&v.name, ty);
                }
                Err(d) => diags.push(d),
            }
        }
    }
    // Candidates in increasing precedence; the last one wins.
    let mut candidates = Candidates::default();

    // Defaults: no references, but env() is allowed (as in Packer).
    let mut default_eval = Evaluator { root: BTreeMap::new(), allow_env: true, ..base.clone() };
    default_eval.root.clear();
    for v in &template.variables {
        if let Some(d) = &v.default {
            match default_eval.eval(d) {
                Ok(value) => {
                    candidates.insert(&v.name, Candidate { value, origin: "default".into(), span: Some(d.span) });
                }
                Err(e) => {
                    candidates.fail(&v.name);
                    diags.push(no_variables(e).with_help("a variable's default cannot refer to other variables or locals; use a local instead"));
                }
            }
        }
    }

    // An untyped variable takes the type of its default, as in Packer: when
    // that is a list or an object, a value given as text is HCL.
    let hcl_text: BTreeSet<&str> = template
        .variables
        .iter()
        .filter(|v| v.type_expr.is_none() && candidates.latest.get(&v.name).is_some_and(|c| matches!(c.value, Value::List(_) | Value::Object(_))))
        .map(|v| v.name.as_str())
        .collect();

    // Environment: PKR_VAR_name, then BAKE_VAR_name (ours wins when both are set).
    for prefix in ["PKR_VAR_", "BAKE_VAR_"] {
        for (key, raw) in &opts.env {
            let Some(name) = key.strip_prefix(prefix) else { continue };
            let Some(decl) = decls.get(name) else { continue };
            let origin = format!("environment variable {key}");
            candidates.given.push((name.to_string(), Value::from(raw.as_str())));
            match raw_value(raw, decl, &types, &hcl_text, &origin, base, diags) {
                Some(value) => candidates.insert(name, Candidate { value, origin, span: None }),
                None => candidates.fail(name),
            }
        }
    }

    // Var files: automatic ones first, then -var-file in order.
    for file in auto_var_files.iter().chain(&opts.var_files) {
        read_var_file(file, base, &decls, &mut candidates, diags, warnings);
    }

    // -var name=value, last.
    for arg in &opts.vars {
        let Some((name, raw)) = arg.split_once('=') else {
            diags
                .push(Diagnostic::error("Invalid -var option", format!("\"{arg}\" is not of the form NAME=VALUE.")).with_help("write it as -var 'name=value'"));
            continue;
        };
        let name = name.trim();
        let Some(decl) = decls.get(name) else {
            let mut d = Diagnostic::error("Undeclared variable", format!("-var sets \"{name}\", but the template declares no such variable."));
            d = match suggest(name, decls.keys().copied()) {
                Some(s) => d.with_help(format!("did you mean \"{s}\"?")),
                None => d.with_help(format!("declare it with variable \"{name}\" {{ }} in the template")),
            };
            diags.push(d);
            continue;
        };
        let origin = format!("-var {name}");
        candidates.given.push((name.to_string(), Value::from(raw)));
        match raw_value(raw, decl, &types, &hcl_text, &origin, base, diags) {
            Some(value) => candidates.insert(name, Candidate { value, origin, span: None }),
            None => candidates.fail(name),
        }
    }

    let mut out = IndexMap::new();
    for v in &template.variables {
        let sensitive = v.sensitive.as_ref().is_some_and(|e| matches!(default_eval.eval(e), Ok(Value::Bool(true))));
        if sensitive {
            sensitive_values.extend(candidates.given.iter().filter(|(name, _)| *name == v.name).map(|(_, value)| value.clone()));
        }
        let Some(c) = candidates.latest.remove(&v.name) else {
            if candidates.failed.contains(&v.name) || candidates.unreadable_file {
                continue;
            }
            if opts.unset_is_unknown {
                let ty = types.get(v.name.as_str()).map(|t| t.to_string());
                out.insert(
                    v.name.clone(),
                    VariableValue { value: Value::Null, sensitive, description: None, type_name: ty, origin: "unset".into(), unknown: true },
                );
                continue;
            }
            diags.push(
                Diagnostic::error("Unset variable", format!("The variable \"{}\" has no default and no value was given.", v.name))
                    .at(v.span)
                    .with_help(format!("set it with -var '{0}=…', in a .pkrvars.hcl file, or with PKR_VAR_{0}", v.name)),
            );
            continue;
        };
        let ty = types.get(v.name.as_str());
        let value = match ty {
            Some(ty) => match types::convert(&c.value, ty) {
                Ok(value) => value,
                Err(m) => {
                    let shown = if sensitive { "<sensitive>".to_string() } else { c.value.to_string() };
                    let d = Diagnostic::error(
                        "Invalid value for variable",
                        format!("The value {shown} for \"{}\" (from {}) does not fit its type {ty}: {m}.", v.name, c.origin),
                    );
                    diags.push(match c.span {
                        Some(s) => d.at(s),
                        None => d.at(v.span),
                    });
                    continue;
                }
            },
            None => c.value,
        };
        if sensitive {
            sensitive_values.push(value.clone());
        }
        if validate(v, &value, base, diags) {
            let description = v.description.as_ref().and_then(|e| default_eval.eval(e).ok()).and_then(|d| d.as_str().map(str::to_string));
            out.insert(v.name.clone(), VariableValue { value, sensitive, description, type_name: ty.map(|t| t.to_string()), origin: c.origin, unknown: false });
        }
    }
    out
}

/// A value given as text (`-var`, environment): a string for string-typed or
/// untyped variables, an HCL expression otherwise (as Packer does).
fn raw_value(
    raw: &str,
    decl: &VariableDecl,
    types: &BTreeMap<&str, Type>,
    hcl_text: &BTreeSet<&str>,
    origin: &str,
    base: &Evaluator,
    diags: &mut Diagnostics,
) -> Option<Value> {
    // As in Packer: the text itself for these types (a number converts
    // from it), an HCL expression for the others.
    let as_text = match types.get(decl.name.as_str()) {
        None => !hcl_text.contains(decl.name.as_str()),
        Some(ty) => matches!(ty, Type::String | Type::Number | Type::Any),
    };
    match as_text {
        true => Some(Value::from(raw)),
        false => {
            let file = base.sources.add(format!("<value for var.{} from {origin}>", decl.name), raw);
            let literal_eval = Evaluator { root: BTreeMap::new(), allow_env: false, ..base.clone() };
            match bake_lang::parse::parse_expression(&base.sources, file).and_then(|e| literal_eval.eval(&e)) {
                Ok(v) => Some(v),
                Err(d) => {
                    diags.push(no_variables(d));
                    None
                }
            }
        }
    }
}

fn read_var_file(
    file: &PathBuf,
    base: &Evaluator,
    decls: &IndexMap<&str, &VariableDecl>,
    candidates: &mut Candidates,
    diags: &mut Diagnostics,
    warnings: &mut Diagnostics,
) {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            diags.push(Diagnostic::error("Cannot read var file", format!("{}: {e}", display_path(file))));
            candidates.unreadable_file = true;
            return;
        }
    };
    let id = base.sources.add(file, text);
    let body: Body = if file.to_string_lossy().ends_with(".json") {
        match bake_lang::json::parse_json_vars(&base.sources, id) {
            Ok(b) => b,
            Err(d) => {
                diags.push(d);
                candidates.unreadable_file = true;
                return;
            }
        }
    } else {
        match bake_lang::parse::parse_file(&base.sources, id) {
            Ok(b) => b,
            Err(d) => {
                diags.push(d);
                candidates.unreadable_file = true;
                return;
            }
        }
    };
    for block in &body.blocks {
        let d = if block.kind == "variable" {
            Diagnostic::error("Variable declaration in a var file", "A var file sets values of variables; it cannot declare them.")
                .with_help("move this variable block into a .pkr.hcl file and set its value here as name = value")
        } else {
            Diagnostic::error("Unexpected block in a var file", format!("A var file holds only name = value lines, not \"{}\" blocks.", block.kind))
        };
        diags.push(d.at(block.header_span()));
    }
    let literal_eval = Evaluator { root: BTreeMap::new(), allow_env: false, ..base.clone() };
    for attr in &body.attributes {
        if !decls.contains_key(attr.name.as_str()) {
            let mut d =
                Diagnostic::warning("Undeclared variable", format!("The var file sets \"{}\", which the template does not declare; it is ignored.", attr.name))
                    .at(attr.name_span);
            if let Some(s) = suggest(&attr.name, decls.keys().copied()) {
                d = d.with_help(format!("did you mean \"{s}\"?"));
            }
            warnings.push(d);
            continue;
        }
        match literal_eval.eval(&attr.expr) {
            Ok(value) => {
                candidates.insert(&attr.name, Candidate { value, origin: display_path(file), span: Some(attr.expr.span) });
            }
            Err(d) => {
                candidates.fail(&attr.name);
                diags.push(no_variables(d));
            }
        }
    }
}

/// Values given outside the template (defaults, var files, `-var`) are
/// evaluated with no variables in scope: say so, as HCL does, rather than
/// "there is no variable named var".
fn no_variables(d: Diagnostic) -> Diagnostic {
    if d.summary != "Unknown variable" {
        return d;
    }
    Diagnostic { summary: "Variables not allowed".into(), detail: "Variables may not be used here.".into(), ..d }
}

/// Runs the variable's validation blocks; false when one failed.
fn validate(v: &VariableDecl, value: &Value, base: &Evaluator, diags: &mut Diagnostics) -> bool {
    let mut ok = true;
    let mut ev = Evaluator { root: BTreeMap::new(), allow_env: false, ..base.clone() };
    ev.root.insert("var".into(), Value::Object([(v.name.clone(), value.clone())].into()));
    for rule in &v.validations {
        // A condition that cannot be evaluated is reported as such, not as
        // a failed rule: its error_message would blame the value wrongly.
        let passed = match ev.eval(&rule.condition) {
            Ok(c) => match to_bool(&c) {
                Some(b) => b,
                None => {
                    diags.push(
                        Diagnostic::error("Invalid validation condition", format!("The condition must be a bool, but it is a {}.", c.type_name()))
                            .at(rule.condition.span),
                    );
                    ok = false;
                    continue;
                }
            },
            Err(d) => {
                let d = if d.help.is_none() { d.with_help(format!("a validation condition can refer only to var.{}", v.name)) } else { d };
                diags.push(d);
                ok = false;
                continue;
            }
        };
        if !passed {
            ok = false;
            let message = ev.eval(&rule.error_message).ok().and_then(|m| m.as_str().map(str::to_string)).unwrap_or_else(|| "the value is not valid".into());
            diags.push(
                Diagnostic::error("Invalid value for variable", format!("{message}\n\nThis was checked by the validation rule for var.{}.", v.name))
                    .at(rule.condition.span),
            );
        }
    }
    ok
}
