//! One module per subcommand; each returns the process exit code.

mod build;
mod fmt;
mod init;
mod inspect;
mod validate;

use crate::cli::{Command, VarArgs};
use crate::load::{self, LoadOptions, Loaded};
use crate::ui::Masker;
use bake_lang::diag::Diagnostics;
use bake_lang::SourceMap;
use std::path::Path;

pub fn dispatch(command: Command) -> i32 {
    match command {
        Command::Build(a) => build::run(a),
        Command::Validate(a) => validate::run(a),
        Command::Inspect(a) => inspect::run(a),
        Command::Fmt(a) => fmt::run(a),
        Command::Init(a) => init::run(a),
        Command::Version => {
            println!("bake {} (speaks the template language of Packer {})", env!("CARGO_PKG_VERSION"), load::PACKER_COMPAT_VERSION);
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
    }
}

/// Loads a template, printing its warnings; on error prints the diagnostics
/// and returns `None`.
pub fn load_or_report(opts: &LoadOptions) -> Option<Loaded> {
    let sources = SourceMap::new();
    match load::load(opts, &sources) {
        Ok(loaded) => {
            print_diagnostics(&loaded.warnings, &loaded.sources, &Masker::new(loaded.secrets.clone()));
            Some(loaded)
        }
        Err(diags) => {
            // Sensitive values are not known when loading failed part-way;
            // error messages never print variable values marked sensitive.
            print_diagnostics(&diags, &sources, &Masker::default());
            None
        }
    }
}

pub fn print_diagnostics(diags: &Diagnostics, sources: &SourceMap, masker: &Masker) {
    for d in diags.iter() {
        eprintln!("{}", masker.mask(&d.render(sources)));
    }
}
