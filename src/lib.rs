//! `bake`: an immutable-image baker that reads Packer HCL2 templates.
//!
//! The engine is a library so that the binary (`src/main.rs`) and the fuzz
//! targets (`fuzz/`) drive the very same code; nothing here is a stable API.

mod cli;
mod commands;
pub mod load;
pub mod plan;
mod plugins;
mod provenance;
mod run;
mod ui;

/// `bake cleanup` over a registry of the caller's choosing (the binary uses
/// the plugins' one; tests give it a fake owner).
pub use commands::cleanup::{clean_dead_runs, Line as CleanupLine};

/// Runs the command line and returns the process exit code.
pub fn main() -> i32 {
    cli::main()
}

/// What `bake validate TEMPLATE` checks, without printing anything: load
/// (data sources stand in with placeholders), then plan every build.
/// Returns the number of planned builds.
pub fn validate(path: &std::path::Path) -> Result<usize, bake_lang::Diagnostics> {
    let opts = load::LoadOptions { path: path.to_path_buf(), ..load::LoadOptions::default() };
    let sources = bake_lang::SourceMap::new();
    let resolve = |decl: &load::template::DataDecl, body: &bake_lang::eval::EvalBody, secrets: &[String]| {
        commands::resolve_data(decl, body, secrets, &commands::DataMode::Placeholder)
    };
    let loaded = load::load(&opts, &sources, &resolve).map_err(|failure| failure.diags)?;
    Ok(plan::plan(&loaded, &plan::Selection::default())?.builds.len())
}
