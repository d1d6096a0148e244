//! `bake cleanup`: finishes the cleanup of runs that died (crash, `kill -9`,
//! power loss), from their journals. Runs that are still alive are left
//! alone.

use crate::cli::CleanupArgs;
use bake_sdk::journal::{self, Journal, Resource};

pub fn run(args: CleanupArgs) -> i32 {
    let dir = journal::state_dir();
    let journals = match journal::all(&dir) {
        Ok(j) => j,
        Err(e) => {
            eprintln!("Error: cannot read the journals in {}: {e}", dir.display());
            return 1;
        }
    };
    let mut failed = 0;
    let mut removed = 0;
    for state in journals {
        if state.owner_alive() {
            outln!("Run {} is still going (pid {}); leaving it alone.", state.run_uuid, state.owner_pid.unwrap_or(0));
            continue;
        }
        let reopened = if args.dry_run { None } else { Journal::reopen(&state.path).ok() };
        let mut left = 0;
        for (id, build, resource) in state.pending.iter().rev() {
            let what = describe(resource);
            if args.dry_run {
                outln!("would remove {what} (build {build}, run {})", state.run_uuid);
                continue;
            }
            match undo(resource) {
                Ok(true) => {
                    removed += 1;
                    outln!("removed {what} (build {build})");
                    if let Some(j) = &reopened {
                        let _ = j.release(*id);
                    }
                }
                Ok(false) => {
                    left += 1;
                    failed += 1;
                    eprintln!("cannot remove {what} (build {build}): no plugin in this bake can; remove it by hand");
                }
                Err(e) => {
                    left += 1;
                    failed += 1;
                    eprintln!("cannot remove {what} (build {build}): {e}");
                }
            }
        }
        if !args.dry_run && left == 0 {
            let _ = std::fs::remove_file(&state.path);
        }
    }
    if !args.dry_run {
        outln!("Cleanup done: {removed} removed, {failed} left.");
    }
    if failed > 0 {
        1
    } else {
        0
    }
}

fn undo(resource: &Resource) -> std::io::Result<bool> {
    journal::undo_local(resource)
}

fn describe(resource: &Resource) -> String {
    match resource {
        Resource::Process { what, pid, pidfile } => match pid {
            Some(pid) => format!("{what} process {pid}"),
            None => format!("{what} process (pid file {})", pidfile.display()),
        },
        Resource::Path { path } => format!("{}", path.display()),
        Resource::Cloud { provider_kind, region, id } => format!("{provider_kind} {id} in {region}"),
    }
}
