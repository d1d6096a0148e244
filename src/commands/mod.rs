//! One module per subcommand; each returns the process exit code.

/// `print!` to stdout that stops quietly when stdout is closed early
/// (`bake inspect | head`) instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($arg)*);
    }};
}

/// `println!` likewise.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod artifacts;
mod build;
pub(crate) mod cleanup;
mod console;
mod fmt;
mod init;
mod inspect;
mod validate;

use crate::cli::{Command, VarArgs};
use crate::load::template::DataDecl;
use crate::load::{self, LoadOptions, Loaded};
use crate::ui::{Masker, TerminalUi};
use bake_lang::diag::Diagnostic;
use bake_lang::diag::Diagnostics;
use bake_lang::eval::EvalBody;
use bake_lang::{SourceMap, Value};
use bake_sdk::ui::UiSink;
use std::path::Path;
use std::sync::Arc;

pub fn dispatch(command: Command) -> i32 {
    match command {
        Command::Build(a) => build::run(a),
        Command::Validate(a) => validate::run(a),
        Command::Inspect(a) => inspect::run(a),
        Command::Console(a) => console::run(a),
        Command::Fmt(a) => fmt::run(a),
        Command::Init(a) => init::run(a),
        Command::Cleanup(a) => cleanup::run(a),
        Command::Artifacts(a) => artifacts::run(a),
        Command::Version => {
            outln!("bake {} (speaks the template language of Packer {})", env!("CARGO_PKG_VERSION"), load::PACKER_COMPAT_VERSION);
            0
        }
        Command::Completion { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(shell, &mut crate::cli::Cli::command(), "bake", &mut std::io::stdout());
            0
        }
    }
}

pub fn load_options(template: &Path, vars: &VarArgs, syntax_only: bool) -> LoadOptions {
    LoadOptions {
        path: template.to_path_buf(),
        var_files: vars.var_files.clone(),
        vars: vars.vars.clone(),
        env: std::env::vars().collect(),
        syntax_only,
        unset_is_unknown: false,
    }
}

/// Whether data sources run while loading (`build`, their progress on the
/// run's own UI: its options, its secret masking) or stand in with
/// placeholders (`validate`, `inspect`, `console`).
#[derive(Clone)]
pub enum DataMode {
    Placeholder,
    Execute(Arc<TerminalUi>),
}

/// Loads a template, printing its warnings; on error prints the diagnostics
/// and returns `None`.
pub fn load_or_report(opts: &LoadOptions, data: DataMode) -> Option<Loaded> {
    let sources = SourceMap::new();
    let resolve = |decl: &DataDecl, body: &EvalBody, secrets: &[String]| resolve_data(decl, body, secrets, &data);
    match load::load(opts, &sources, &resolve) {
        Ok(loaded) => {
            print_diagnostics(&loaded.warnings, &loaded.sources, &Masker::new(loaded.secrets.clone()));
            Some(loaded)
        }
        Err(failure) => {
            // The sensitive values known when loading stopped are masked too.
            print_diagnostics(&failure.diags, &sources, &Masker::new(failure.secrets));
            None
        }
    }
}

pub fn print_diagnostics(diags: &Diagnostics, sources: &SourceMap, masker: &Masker) {
    for d in diags.iter() {
        eprintln!("{}", masker.mask(&d.render(sources)));
    }
}

pub(crate) fn resolve_data(decl: &DataDecl, body: &EvalBody, secrets: &[String], mode: &DataMode) -> Result<Value, Diagnostics> {
    let Some(factory) = crate::plugins::data_source(&decl.kind) else {
        let known = crate::plugins::data_source_names();
        let list = if known.is_empty() { "none yet".to_string() } else { known.join(", ") };
        let mut d = Diagnostic::error("Unknown data source type", format!("bake has no data source named \"{}\". Known data sources: {list}.", decl.kind))
            .at(decl.kind_span);
        if let Some(s) = bake_lang::diag::suggest(&decl.kind, known.iter().copied()) {
            d = d.with_help(format!("did you mean \"{s}\"?"));
        }
        return Err(d.into());
    };
    let source = factory(body, &format!("data \"{}.{}\"", decl.kind, decl.name))?;
    let DataMode::Execute(sink) = mode else {
        return Ok(source.placeholder());
    };
    // The run's UI masks what is known sensitive by now, whether or not
    // the build's own secrets have been added yet.
    for secret in secrets {
        sink.add_secret(secret);
    }
    let ui = bake_sdk::Ui::new(&format!("data.{}.{}", decl.kind, decl.name), sink.clone());
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| Diagnostic::error("Cannot start the runtime", e.to_string()))?;
    runtime
        .block_on(source.execute(&ui, &bake_sdk::CancellationToken::new()))
        .map_err(|e| Diagnostic::error("Data source failed", format!("data \"{}.{}\": {e:#}", decl.kind, decl.name)).at(decl.span).into())
}
