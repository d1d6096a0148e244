//! `bake cleanup`: finishes the cleanup of runs that died (crash, `kill -9`,
//! power loss), from their journals. Runs that are still alive are left
//! alone. Each entry goes to its owner through the cleanup registry
//! (`crate::plugins::cleanup_registry`): local processes and paths to the
//! sdk, cloud resources to the plugin that registered their kind.

use crate::cli::CleanupArgs;
use bake_sdk::journal::{self, CleanupRegistry, Journal, Resource};
use std::path::Path;

/// One line of the report, for stdout or stderr.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Line {
    Out(String),
    Err(String),
}

pub fn run(args: CleanupArgs) -> i32 {
    let registry = crate::plugins::cleanup_registry();
    let mut say = |line| match line {
        Line::Out(text) => outln!("{text}"),
        Line::Err(text) => eprintln!("{text}"),
    };
    let journals = clean_dead_runs(&journal::state_dir(), &registry, args.dry_run, &mut say);
    if !args.aws {
        return journals;
    }
    journals.max(sweep_aws(&args, &mut say))
}

/// `-aws`: the tag sweep over `-regions`, of what is older than
/// `-older-than`.
fn sweep_aws(args: &CleanupArgs, say: &mut dyn FnMut(Line)) -> i32 {
    let older_than = match bake_sdk::duration::parse(&args.older_than) {
        Ok(d) => d,
        Err(e) => {
            say(Line::Err(format!("Error: -older-than: {e}")));
            return 1;
        }
    };
    let regions = match (args.regions.is_empty(), std::env::var("AWS_REGION").or_else(|_| std::env::var("AWS_DEFAULT_REGION"))) {
        (false, _) => args.regions.clone(),
        (true, Ok(region)) => vec![region],
        (true, Err(_)) => {
            say(Line::Err("Error: -aws needs the regions to sweep: -regions us-east-1,eu-west-1 (or AWS_REGION)".into()));
            return 1;
        }
    };
    let Some(runtime) = runtime(say) else { return 1 };
    let (removed, left) = runtime
        .block_on(bake_aws::sweep::sweep(&regions, older_than, args.dry_run, &mut |text, error| say(if error { Line::Err(text) } else { Line::Out(text) })));
    if !args.dry_run {
        say(Line::Out(format!("AWS sweep done: {removed} removed, {left} left.")));
    }
    i32::from(left > 0)
}

/// What `bake cleanup` does, over the journals under `state_dir` and with
/// the owners in `registry`; reports through `say` and returns the exit
/// code (1 when something is left).
pub fn clean_dead_runs(state_dir: &Path, registry: &CleanupRegistry<'_>, dry_run: bool, say: &mut dyn FnMut(Line)) -> i32 {
    let journals = match journal::all(state_dir) {
        Ok(j) => j,
        Err(e) => {
            say(Line::Err(format!("Error: cannot read the journals in {}: {e}", state_dir.display())));
            return 1;
        }
    };
    // Owners are async (a cloud API call); local undos do not need it.
    let Some(runtime) = runtime(say) else { return 1 };
    let mut failed = 0;
    let mut removed = 0;
    for state in journals {
        if state.owner_alive() {
            say(Line::Out(format!("Run {} is still going (pid {}); leaving it alone.", state.run_uuid, state.owner_pid.unwrap_or(0))));
            continue;
        }
        let reopened = if dry_run { None } else { Journal::reopen(&state.path).ok() };
        let mut left = 0;
        for (id, build, resource) in state.pending.iter().rev() {
            let what = describe(resource);
            if dry_run {
                say(Line::Out(format!("would remove {what} (build {build}, run {})", state.run_uuid)));
                continue;
            }
            match runtime.block_on(registry.undo(resource)) {
                Ok(true) => {
                    removed += 1;
                    say(Line::Out(format!("removed {what} (build {build})")));
                    if let Some(j) = &reopened {
                        let _ = j.release(*id);
                    }
                }
                Ok(false) => {
                    left += 1;
                    failed += 1;
                    say(Line::Err(format!("cannot remove {what} (build {build}): no plugin in this bake can; remove it by hand")));
                }
                Err(e) => {
                    left += 1;
                    failed += 1;
                    say(Line::Err(format!("cannot remove {what} (build {build}): {e:#}")));
                }
            }
        }
        if !dry_run && left == 0 {
            let _ = std::fs::remove_file(&state.path);
        }
    }
    if !dry_run {
        say(Line::Out(format!("Cleanup done: {removed} removed, {failed} left.")));
    }
    if failed > 0 {
        1
    } else {
        0
    }
}

/// The runtime the cloud calls run on; `None` (said) when there is none.
fn runtime(say: &mut dyn FnMut(Line)) -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => Some(r),
        Err(e) => {
            say(Line::Err(format!("Error: cannot start the runtime: {e}")));
            None
        }
    }
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
