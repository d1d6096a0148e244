//! Load: template files, var files, environment and `-var` flags become a
//! [`Loaded`] template whose variables and locals are evaluated, in
//! dependency order, with every value's origin kept for diagnostics.

mod locals;
mod meta;
pub mod template;
mod values;
mod version;

use bake_lang::diag::{Diagnostic, Diagnostics};
use bake_lang::eval::Evaluator;
use bake_lang::source::display_path;
use bake_lang::{SourceMap, Value};
use indexmap::IndexMap;
pub use locals::DataResolver;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::SystemTime;
pub use template::Template;

/// The Packer version whose language bake speaks (`packer.version`, and what
/// `required_version` is checked against).
pub const PACKER_COMPAT_VERSION: &str = "1.14.3";

#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// A template file or a directory of them.
    pub path: PathBuf,
    /// `-var-file`, in the order given.
    pub var_files: Vec<PathBuf>,
    /// `-var name=value`, in the order given.
    pub vars: Vec<String>,
    /// The process environment (`PKR_VAR_*`, `BAKE_VAR_*`).
    pub env: Vec<(String, String)>,
    /// Only parse and check structure (`validate -syntax-only`).
    pub syntax_only: bool,
    /// A variable with no value is unknown instead of an error, and so is
    /// everything computed from it (`inspect`, as in Packer).
    pub unset_is_unknown: bool,
}

/// A variable's final value and where it came from.
#[derive(Clone, Debug)]
pub struct VariableValue {
    pub value: Value,
    pub sensitive: bool,
    pub description: Option<String>,
    pub type_name: Option<String>,
    /// `default`, `env PKR_VAR_x`, `file.pkrvars.hcl`, `-var`.
    pub origin: String,
    /// Unset, with [`LoadOptions::unset_is_unknown`]: `value` is null.
    pub unknown: bool,
}

#[derive(Clone, Debug)]
pub struct LocalValue {
    pub value: Value,
    pub sensitive: bool,
    /// Computed from an unknown variable: `value` is null.
    pub unknown: bool,
}

pub struct Loaded {
    pub sources: SourceMap,
    pub template: Template,
    /// `path.root`: the template's directory.
    pub root_dir: PathBuf,
    pub template_path: PathBuf,
    pub files: Vec<PathBuf>,
    pub variables: IndexMap<String, VariableValue>,
    pub locals: IndexMap<String, LocalValue>,
    /// Evaluates expressions with `var`, `local`, `path`, `packer`, `bake` set.
    pub evaluator: Evaluator,
    /// The string forms of every sensitive value, masked in all output.
    pub secrets: Vec<String>,
    /// Warnings worth showing even when loading succeeded.
    pub warnings: Diagnostics,
}

/// Why loading failed, with the sensitive values known so far, so that the
/// diagnostics can be printed masked.
#[derive(Debug, Default)]
pub struct LoadFailure {
    pub diags: Diagnostics,
    pub secrets: Vec<String>,
}

impl From<Diagnostics> for LoadFailure {
    fn from(diags: Diagnostics) -> LoadFailure {
        LoadFailure { diags, secrets: Vec::new() }
    }
}

/// Reads and parses the template files (no evaluation).
pub fn parse_files(path: &Path, sources: &SourceMap) -> Result<(Template, Vec<PathBuf>, PathBuf), Diagnostics> {
    let (files, root_dir) = template_files(path)?;
    let mut template = Template::default();
    let mut diags = Diagnostics::new();
    for file in &files {
        match parse_one(file, sources) {
            Ok(body) => template.add_file(&body, &mut diags),
            Err(d) => diags.extend(d),
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }
    Ok((template, files, root_dir))
}

/// Loads a template; `sources` collects every file read, so that diagnostics
/// can be rendered whether loading succeeded or not.
pub fn load(opts: &LoadOptions, sources: &SourceMap, resolve_data: &DataResolver) -> Result<Loaded, LoadFailure> {
    let sources = sources.clone();
    let (template, files, root_dir) = parse_files(&opts.path, &sources)?;
    let mut warnings = Diagnostics::new();
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let mut evaluator = Evaluator::new(sources.clone(), cwd.clone(), SystemTime::now());
    evaluator.root.insert(
        "path".to_string(),
        Value::Object([("root".to_string(), Value::from(display_path(&root_dir))), ("cwd".to_string(), Value::from(cwd.display().to_string()))].into()),
    );
    let version = Value::from(PACKER_COMPAT_VERSION);
    evaluator.root.insert("packer".to_string(), Value::Object([("version".to_string(), version)].into()));
    evaluator.root.insert("bake".to_string(), Value::Object([("version".to_string(), Value::from(env!("CARGO_PKG_VERSION")))].into()));

    let mut diags = Diagnostics::new();
    for p in &template.packer {
        version::check_packer_block(p, &evaluator, &mut diags, &mut warnings);
    }
    if opts.syntax_only {
        if diags.has_errors() {
            return Err(diags.into());
        }
        return Ok(Loaded {
            sources,
            template,
            template_path: opts.path.clone(),
            root_dir,
            files,
            variables: IndexMap::new(),
            locals: IndexMap::new(),
            evaluator,
            secrets: Vec::new(),
            warnings,
        });
    }

    let auto_var_files = auto_var_files(&opts.path);
    // Every value given to a sensitive variable, even one rejected by its
    // type or validation, is masked in what follows, errors included.
    let mut sensitive_values = Vec::new();
    let variables = values::evaluate_variables(&template, &evaluator, opts, &auto_var_files, &mut diags, &mut warnings, &mut sensitive_values);
    let mut secrets = Vec::new();
    for v in &sensitive_values {
        collect_secrets(v, &mut secrets);
    }
    let var_object: Value = Value::Object(variables.iter().map(|(k, v)| (k.clone(), v.value.clone())).collect());
    evaluator.root.insert("var".to_string(), var_object);
    let fail = |mut diags: Diagnostics, mut secrets: Vec<String>, warnings: Diagnostics| {
        diags.extend(warnings);
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        LoadFailure { diags, secrets }
    };
    if diags.has_errors() {
        return Err(fail(diags, secrets, warnings));
    }
    let mut unknown: BTreeSet<String> = variables.iter().filter(|(_, v)| v.unknown).map(|(name, _)| format!("var.{name}")).collect();
    let mut locals = locals::evaluate(&template, &mut evaluator, resolve_data, &secrets, &mut unknown, &mut diags);
    for l in locals.values().filter(|l| l.sensitive) {
        collect_secrets(&l.value, &mut secrets);
    }
    if diags.has_errors() {
        return Err(fail(diags, secrets, warnings));
    }
    mark_derived_sensitive(&template, &variables, &mut locals, &secrets);
    let mut template = template;
    meta::resolve(&mut template, &evaluator, &unknown, &mut diags);
    if diags.has_errors() {
        return Err(fail(diags, secrets, warnings));
    }
    if let Some(first) = template.hcp_registry_blocks.first() {
        warnings.push(
            Diagnostic::warning("HCP Packer is not used", "bake publishes nothing to HCP Packer: the hcp_packer_registry block is accepted and ignored.")
                .at(*first)
                .with_help("bake's manifest and `bake artifacts` record what each build made"),
        );
    }
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets.dedup();
    Ok(Loaded { sources, template, template_path: opts.path.clone(), root_dir, files, variables, locals, evaluator, secrets, warnings })
}

/// A local computed from a sensitive variable or local is sensitive too, as
/// Packer's sensitivity marks propagate; so is one whose value holds a
/// secret. Such locals are shown as `<sensitive>` (their own values are not
/// added to the secrets: `length(var.password)` would mask every number).
fn mark_derived_sensitive(template: &Template, variables: &IndexMap<String, VariableValue>, locals: &mut IndexMap<String, LocalValue>, secrets: &[String]) {
    let holds_secret = |v: &Value| {
        let mut strings = Vec::new();
        collect_secrets(v, &mut strings);
        strings.iter().any(|s| secrets.iter().any(|secret| s.contains(secret.as_str())))
    };
    loop {
        let mut changed = false;
        for decl in &template.locals {
            let refers_to_sensitive = bake_lang::eval::references(&decl.expr).iter().any(|r| {
                let Some(name) = r.path.first() else { return false };
                match r.root.as_str() {
                    "var" => variables.get(name).is_some_and(|v| v.sensitive),
                    "local" => locals.get(name).is_some_and(|l| l.sensitive),
                    _ => false,
                }
            });
            if let Some(l) = locals.get_mut(&decl.name) {
                if !l.sensitive && (refers_to_sensitive || holds_secret(&l.value)) {
                    l.sensitive = true;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
}

/// Every string inside a sensitive value. Very short strings are left out:
/// masking every "a" in the output would hide more than it protects.
fn collect_secrets(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) if s.len() >= 3 => out.push(s.clone()),
        Value::Number(_) | Value::Bool(_) | Value::String(_) | Value::Null => {
            if let Some(s) = v.to_string_lossless().filter(|s| s.len() >= 3) {
                out.push(s);
            }
        }
        Value::List(items) => items.iter().for_each(|i| collect_secrets(i, out)),
        Value::Object(map) => map.values().for_each(|i| collect_secrets(i, out)),
    }
}

fn parse_one(file: &Path, sources: &SourceMap) -> Result<bake_lang::ast::Body, Diagnostics> {
    let text = std::fs::read_to_string(file).map_err(|e| Diagnostics::from(Diagnostic::error("Cannot read file", format!("{}: {e}", display_path(file)))))?;
    let id = sources.add(file, text);
    let name = file.to_string_lossy();
    if name.ends_with(".json") {
        bake_lang::json::parse_json_file(sources, id, &bake_lang::json::packer_schema).map_err(Diagnostics::from)
    } else {
        bake_lang::parse::parse_file(sources, id).map_err(Diagnostics::from)
    }
}

/// The template files: the file itself, or a directory's `*.pkr.hcl` and
/// `*.pkr.json` in name order. Also returns `path.root`.
fn template_files(path: &Path) -> Result<(Vec<PathBuf>, PathBuf), Diagnostics> {
    let meta = std::fs::metadata(path).map_err(|e| {
        Diagnostics::from(
            Diagnostic::error("Template not found", format!("Cannot read \"{}\": {e}.", display_path(path)))
                .with_help("give a .pkr.hcl file or a directory that holds some; `bake init` writes a starter template"),
        )
    })?;
    if meta.is_file() {
        let root = path.parent().filter(|p| !p.as_os_str().is_empty()).map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        return Ok((vec![path.to_path_buf()], root));
    }
    let files = files_with_suffix(path, &[".pkr.hcl", ".pkr.json"]);
    if files.is_empty() {
        return Err(Diagnostics::from(
            Diagnostic::error("No template files", format!("The directory \"{}\" holds no *.pkr.hcl or *.pkr.json file.", display_path(path)))
                .with_help("`bake init` writes a starter template"),
        ));
    }
    Ok((files, path.to_path_buf()))
}

/// `*.auto.pkrvars.hcl` / `*.auto.pkrvars.json` beside a template directory
/// (not beside a single file, as in Packer).
fn auto_var_files(path: &Path) -> Vec<PathBuf> {
    if path.is_dir() {
        files_with_suffix(path, &[".auto.pkrvars.hcl", ".auto.pkrvars.json"])
    } else {
        Vec::new()
    }
}

fn files_with_suffix(dir: &Path, suffixes: &[&str]) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.file_name().and_then(|n| n.to_str()).is_some_and(|n| suffixes.iter().any(|s| n.ends_with(s))))
        .collect();
    files.sort();
    files
}
