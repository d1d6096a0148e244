//! `bake build`: load, plan, run every selected build concurrently, and
//! summarise. Exit 1 when anything failed; the other builds still finish.

use super::{load_options, load_or_report, print_diagnostics, DataMode};
use crate::cli::{BuildArgs, OnErrorArg};
use crate::plan::{self, Selection};
use crate::run::{self, RunOptions};
use crate::ui::{Masker, TerminalUi, UiOptions};
use bake_sdk::{CancellationToken, OnError};
use std::io::IsTerminal;

pub fn run(args: BuildArgs) -> i32 {
    // Progress is on stdout: colour when that is a terminal.
    let color = args.color && !args.machine_readable && std::io::stdout().is_terminal();
    let ui_options = UiOptions { machine_readable: args.machine_readable, color, timestamps: args.timestamp_ui };
    let opts = load_options(&args.template, &args.vars, false);
    // One UI for the run, data sources included; its masker learns the
    // template's secrets as loading finds them.
    let masker = Masker::default();
    let ui = TerminalUi::new(ui_options, masker.clone());
    let Some(loaded) = load_or_report(&opts, DataMode::Execute(ui.clone())) else { return 1 };
    for secret in &loaded.secrets {
        masker.add(secret.clone());
    }
    let selection = Selection { only: args.filter.only.clone(), except: args.filter.except.clone() };
    let builds = match plan::plan(&loaded, &selection) {
        Ok(planned) => {
            print_diagnostics(&planned.warnings, &loaded.sources, &masker);
            planned.builds
        }
        Err(diags) => {
            print_diagnostics(&diags, &loaded.sources, &masker);
            return 1;
        }
    };
    if builds.is_empty() {
        eprintln!("Error: no build matches -only / -except; nothing to do.");
        return 1;
    }
    let run_uuid = uuid::Uuid::new_v4().to_string();
    let journal = match bake_sdk::journal::Journal::create(&bake_sdk::journal::state_dir(), &run_uuid) {
        Ok(j) => std::sync::Arc::new(j),
        Err(e) => {
            eprintln!("Error: cannot write the journal in {}: {e}", bake_sdk::journal::state_dir().display());
            eprintln!("Help: set BAKE_STATE_DIR to a writable directory");
            return 1;
        }
    };
    let run_opts = RunOptions {
        parallel_builds: args.parallel_builds,
        on_error: match args.on_error {
            OnErrorArg::Cleanup => OnError::Cleanup,
            OnErrorArg::Abort => OnError::Abort,
            OnErrorArg::Ask => OnError::Ask,
            OnErrorArg::RunCleanupProvisioner => OnError::RunCleanupProvisioner,
        },
        debug: args.debug,
        force: args.force,
        template_dir: loaded.root_dir.clone(),
        run_uuid,
        journal: journal.clone(),
        template: std::sync::Arc::new(crate::provenance::template_info(&loaded)),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("Error: cannot start the runtime: {e}");
            return 1;
        }
    };
    let cancel = CancellationToken::new();
    let outcomes = runtime.block_on(async {
        let interrupted = cancel.clone();
        let signal_ui = ui.clone();
        tokio::spawn(async move {
            wait_for_interrupt().await;
            signal_ui.error_line("Interrupted: cancelling every build and cleaning up…");
            interrupted.cancel();
        });
        run::run_all(builds, &run_opts, ui.clone(), cancel.clone()).await
    });
    // Every build is done; what may be left is a terminal read that Ctrl-C
    // abandoned (a -debug pause, a breakpoint), which must not hold up the
    // exit until someone presses Enter.
    runtime.shutdown_background();
    drop(run_opts);
    summarise(&ui, &outcomes);
    if let Ok(journal) = std::sync::Arc::try_unwrap(journal) {
        if let Err(e) = journal.finish() {
            eprintln!("Warning: cannot tidy the journal: {e}");
        }
    }
    let failed = outcomes.iter().any(|o| o.error.is_some());
    if failed || cancel.is_cancelled() {
        1
    } else {
        0
    }
}

async fn wait_for_interrupt() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
    }
}

fn summarise(ui: &TerminalUi, outcomes: &[run::BuildOutcome]) {
    if ui.is_machine_readable() {
        for o in outcomes {
            if let Some(e) = &o.error {
                ui.machine(&o.name, "error", &[&e.to_string()]);
            }
            ui.machine(&o.name, "artifact-count", &[&o.artifacts.len().to_string()]);
            for (i, a) in o.artifacts.iter().enumerate() {
                let i = i.to_string();
                ui.machine(&o.name, "artifact", &[&i, "builder-id", &a.builder_type]);
                ui.machine(&o.name, "artifact", &[&i, "id", &a.id]);
                ui.machine(&o.name, "artifact", &[&i, "string", &a.description]);
                ui.machine(&o.name, "artifact", &[&i, "files-count", &a.files.len().to_string()]);
                for (j, f) in a.files.iter().enumerate() {
                    ui.machine(&o.name, "artifact", &[&i, "file", &j.to_string(), &f.path.display().to_string()]);
                }
                ui.machine(&o.name, "artifact", &[&i, "end"]);
            }
        }
        return;
    }
    let failed: Vec<_> = outcomes.iter().filter(|o| o.error.is_some()).collect();
    if !failed.is_empty() {
        ui.error_line(&ui.red("Some builds didn't complete successfully and had errors:"));
        for o in &failed {
            ui.error_line(&ui.red(&format!("--> {}: {}", o.name, o.error.as_ref().map(ToString::to_string).unwrap_or_default())));
        }
        ui.error_line("");
    }
    let succeeded: Vec<_> = outcomes.iter().filter(|o| o.error.is_none()).collect();
    if succeeded.is_empty() {
        ui.line("==> Builds finished but no artifacts were created.");
        return;
    }
    ui.line(&ui.bold("==> Builds finished. The artifacts of successful builds are:"));
    for o in succeeded {
        if o.artifacts.is_empty() {
            ui.line(&format!("--> {}: no artifact ({})", o.name, crate::ui::human_duration(o.elapsed)));
        }
        for a in &o.artifacts {
            let text = if a.description.is_empty() { a.id.clone() } else { a.description.clone() };
            ui.line(&format!("--> {}: {text}", o.name));
            for f in &a.files {
                ui.line(&format!("    {} ({} bytes{})", f.path.display(), f.size, f.sha256.as_ref().map(|s| format!(", sha256 {s}")).unwrap_or_default()));
            }
        }
    }
}
