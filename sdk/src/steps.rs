//! Builders as a readable list of steps, each with its cleanup (the idea of
//! Packer's multistep, with Rust types). Cleanups run in reverse order on
//! success, on failure and on cancellation (Ctrl-C), for every step that was
//! started — the failed one included, since it may have half-created
//! something. `-on-error=abort` leaves everything for inspection (the journal
//! still knows it, so `bake cleanup` can remove it later); `-on-error=ask`
//! asks; `-debug` pauses between steps.
//!
//! Each step has a stable [`StepId`] (its name is display text and may
//! change) and may say what its result depends on ([`Step::cache_key`]):
//! the seam for a step cache that records finished steps and skips them on
//! the next run. Nothing caches yet — a later issue builds that on these.

use crate::cancel::Cancelled;
use crate::plugin::{BuildInfo, OnError};
use crate::terminal;
use async_trait::async_trait;
use std::fmt;

/// What identifies a step across runs and versions, such as
/// `qemu.run_qemu` or `provisioner.0.shell`: unlike the name, it is not for
/// people, so rewording a progress line does not invalidate a cache.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StepId(String);

impl StepId {
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StepId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a step's result depends on (its inputs, hashed): two runs of a step
/// with the same id and the same key would produce the same result. Only
/// carried for now; the step cache (a later issue) stores and compares it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CacheKey(String);

impl CacheKey {
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[async_trait]
pub trait Step<S: Send>: Send + Sync {
    /// Shown in progress lines: "Starting the VM", "Waiting for SSH".
    fn name(&self) -> String;

    /// Stable across runs and unique within a step list. The default is
    /// the type's path, which is unique but moves with the code: steps a
    /// cache will know give theirs explicitly ("qemu.run_qemu").
    fn id(&self) -> StepId {
        StepId::new(std::any::type_name::<Self>())
    }

    /// What this step's result depends on, given the state it starts from;
    /// `None` (the default) means "always run". No step is skipped yet: the
    /// step cache that reads this comes in a later issue.
    fn cache_key(&self, _state: &S) -> Option<CacheKey> {
        None
    }

    /// Does the work. Must record what it creates in `state` (and the
    /// journal) *before* awaiting anything that could be cancelled.
    async fn run(&self, state: &mut S, build: &BuildInfo) -> anyhow::Result<()>;

    /// Undoes what `run` created; runs even after `run` failed part-way.
    async fn cleanup(&self, _state: &mut S, _build: &BuildInfo) -> anyhow::Result<()> {
        Ok(())
    }
}

/// What the user chose after a failed step under `-on-error=ask`.
enum Choice {
    Cleanup,
    Abort,
    Retry,
}

/// Runs the steps in order and then cleans up. Returns the first error.
/// Refuses, before running anything, a list where two steps share an id.
pub async fn run_steps<S: Send>(steps: &[Box<dyn Step<S> + '_>], state: &mut S, build: &BuildInfo) -> anyhow::Result<()> {
    check_unique_ids(steps)?;
    let mut started = 0;
    let mut failure: Option<anyhow::Error> = None;
    let mut i = 0;
    while i < steps.len() {
        let step = &steps[i];
        if build.cancel.is_cancelled() {
            failure = Some(Cancelled::new().into());
            break;
        }
        started = started.max(i + 1);
        let run = async {
            tokio::select! {
                r = step.run(state, build) => r,
                _ = build.cancel.cancelled() => Err(Cancelled::in_step(step.name()).into()),
            }
        };
        let result = timed(&build.ui, step.name(), run).await;
        match result {
            Ok(()) => {
                if build.debug && i + 1 < steps.len() {
                    // Cancelled here, the loop stops before the next step.
                    let _ = pause(build, &format!("Step \"{}\" done; press Enter for \"{}\"", step.name(), steps[i + 1].name())).await;
                }
                i += 1;
            }
            Err(e) => {
                let e = e.context(format!("step \"{}\" failed", step.name()));
                if build.on_error == OnError::Ask && !build.cancel.is_cancelled() {
                    match ask(build, &e).await {
                        Choice::Retry => continue,
                        Choice::Abort => return Err(leave_for_inspection(build, e)),
                        Choice::Cleanup => {}
                    }
                } else if build.on_error == OnError::Abort && !build.cancel.is_cancelled() {
                    return Err(leave_for_inspection(build, e));
                }
                failure = Some(e);
                break;
            }
        }
    }
    for step in steps[..started].iter().rev() {
        if let Err(e) = step.cleanup(state, build).await {
            build.ui.error(format!("Cleanup of \"{}\" failed: {e:#}", step.name()));
        }
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Runs `work` as one step of the progress: "NAME …", then "NAME done in
/// 1.23s" or "NAME FAILED in 1.23s".
pub async fn timed<T>(ui: &crate::ui::Ui, name: String, work: impl std::future::Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    let timer = ui.step(name);
    let result = work.await;
    timer.finish(result.is_ok());
    result
}

/// A cache keyed by step id would confuse two steps with one id, so a list
/// that has them is a builder's bug, caught before anything runs.
fn check_unique_ids<S: Send>(steps: &[Box<dyn Step<S> + '_>]) -> anyhow::Result<()> {
    let mut seen = std::collections::BTreeMap::new();
    for step in steps {
        if let Some(first) = seen.insert(step.id(), step.name()) {
            anyhow::bail!("steps \"{first}\" and \"{}\" have the same id {}", step.name(), step.id());
        }
    }
    Ok(())
}

fn leave_for_inspection(build: &BuildInfo, e: anyhow::Error) -> anyhow::Error {
    build.ui.error("-on-error=abort: leaving the machine and its files for inspection; `bake cleanup` removes them");
    e
}

async fn ask(build: &BuildInfo, e: &anyhow::Error) -> Choice {
    build.ui.error(format!("{e:#}"));
    build.ui.say("[c] Clean up and exit, [a] abort without cleanup, [r] retry the step:");
    // Ctrl-C while asking: the safe default too.
    let answer = terminal::read_line(&build.cancel).await.unwrap_or_default();
    match answer.trim() {
        "a" | "A" => Choice::Abort,
        "r" | "R" => Choice::Retry,
        // No terminal (EOF) or anything else: the safe default.
        _ => Choice::Cleanup,
    }
}

/// `-debug`: shows `msg` and waits for Enter, or for Ctrl-C.
pub async fn pause(build: &BuildInfo, msg: &str) -> Result<(), Cancelled> {
    build.ui.say(msg);
    terminal::read_line(&build.cancel).await.map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Record {
        name: &'static str,
        fail: bool,
    }

    #[async_trait]
    impl Step<Vec<String>> for Record {
        fn name(&self) -> String {
            self.name.to_string()
        }
        fn id(&self) -> StepId {
            StepId::new(format!("test.record.{}", self.name))
        }
        async fn run(&self, state: &mut Vec<String>, _: &BuildInfo) -> anyhow::Result<()> {
            state.push(format!("run {}", self.name));
            if self.fail {
                anyhow::bail!("{} broke", self.name);
            }
            Ok(())
        }
        async fn cleanup(&self, state: &mut Vec<String>, _: &BuildInfo) -> anyhow::Result<()> {
            state.push(format!("cleanup {}", self.name));
            Ok(())
        }
    }

    fn info(on_error: OnError) -> BuildInfo {
        BuildInfo { on_error, ..crate::testing::build_info("steps") }
    }

    fn steps(fail_at: Option<usize>) -> Vec<Box<dyn Step<Vec<String>>>> {
        ["a", "b", "c"].iter().enumerate().map(|(i, n)| Box::new(Record { name: n, fail: Some(i) == fail_at }) as Box<dyn Step<Vec<String>>>).collect()
    }

    #[tokio::test]
    async fn cleans_up_in_reverse_on_success_and_failure() {
        let mut log = Vec::new();
        run_steps(&steps(None), &mut log, &info(OnError::Cleanup)).await.unwrap();
        assert_eq!(log, ["run a", "run b", "run c", "cleanup c", "cleanup b", "cleanup a"]);

        let mut log = Vec::new();
        let err = run_steps(&steps(Some(1)), &mut log, &info(OnError::Cleanup)).await.unwrap_err();
        assert!(format!("{err:#}").contains("b broke"));
        assert_eq!(log, ["run a", "run b", "cleanup b", "cleanup a"]);
    }

    #[tokio::test]
    async fn abort_leaves_everything() {
        let mut log = Vec::new();
        run_steps(&steps(Some(1)), &mut log, &info(OnError::Abort)).await.unwrap_err();
        assert_eq!(log, ["run a", "run b"]);
    }

    #[tokio::test]
    async fn cancellation_still_cleans_up() {
        let build = info(OnError::Cleanup);
        build.cancel.cancel();
        let mut log = Vec::new();
        assert!(run_steps(&steps(None), &mut log, &build).await.is_err());
        assert!(log.is_empty(), "nothing ran, so nothing to clean: {log:?}");
    }

    #[tokio::test]
    async fn two_steps_with_one_id_are_refused_before_anything_runs() {
        let steps: Vec<Box<dyn Step<Vec<String>>>> =
            vec![Box::new(Record { name: "a", fail: false }), Box::new(Record { name: "b", fail: false }), Box::new(Record { name: "a", fail: false })];
        let mut log = Vec::new();
        let err = run_steps(&steps, &mut log, &info(OnError::Cleanup)).await.unwrap_err();
        assert_eq!(err.to_string(), "steps \"a\" and \"a\" have the same id test.record.a");
        assert!(log.is_empty(), "nothing ran: {log:?}");
    }

    #[test]
    fn ids_default_to_the_type_and_cache_keys_to_none() {
        // `Hang` keeps the defaults; `Record` names its id.
        assert!(Step::<Vec<String>>::id(&Hang).as_str().ends_with("steps::tests::Hang"), "{}", Step::<Vec<String>>::id(&Hang));
        assert_eq!(Step::<Vec<String>>::id(&Record { name: "a", fail: false }), StepId::new("test.record.a"));
        assert_eq!(Hang.cache_key(&Vec::new()), None, "no step is cacheable unless it says what it depends on");
    }

    struct Hang;

    #[async_trait]
    impl Step<Vec<String>> for Hang {
        fn name(&self) -> String {
            "hang".into()
        }
        async fn run(&self, state: &mut Vec<String>, _: &BuildInfo) -> anyhow::Result<()> {
            state.push("run hang".into());
            std::future::pending::<()>().await;
            Ok(())
        }
        async fn cleanup(&self, state: &mut Vec<String>, _: &BuildInfo) -> anyhow::Result<()> {
            state.push("cleanup hang".into());
            Ok(())
        }
    }

    #[tokio::test]
    async fn cancelling_a_running_step_cleans_it_up() {
        let build = info(OnError::Cleanup);
        let cancel = build.cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            cancel.cancel();
        });
        let steps: Vec<Box<dyn Step<Vec<String>>>> =
            vec![Box::new(Record { name: "a", fail: false }), Box::new(Hang), Box::new(Record { name: "c", fail: false })];
        let mut log = Vec::new();
        let err = run_steps(&steps, &mut log, &build).await.unwrap_err();
        assert!(format!("{err:#}").contains("cancelled during: hang"), "{err:#}");
        assert_eq!(log, ["run a", "run hang", "cleanup hang", "cleanup a"]);
    }
}
