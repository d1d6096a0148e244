//! Run: builds execute concurrently (bounded by `-parallel-builds`); each
//! builder calls back into the engine to run its provisioners, then the
//! artifact flows through the post-processor chains.

use crate::load::template::ProvisionerDecl;
use crate::plan::{self, PlannedBuild};
use crate::ui::TerminalUi;
use bake_lang::eval::Evaluator;
use bake_sdk::steps::StepId;
use bake_sdk::Cancelled;
use bake_sdk::{
    async_trait, Artifact, BuildInfo, CancellationToken, Communicator, GeneratedData, OnError, ProvisionContext, ProvisionHook, ProvisionerStep, Ui,
};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone)]
pub struct RunOptions {
    /// 0 means no limit.
    pub parallel_builds: usize,
    pub on_error: OnError,
    pub debug: bool,
    pub force: bool,
    pub template_dir: PathBuf,
    pub run_uuid: String,
    pub journal: Arc<bake_sdk::journal::Journal>,
    pub template: Arc<bake_sdk::TemplateInfo>,
}

pub struct BuildOutcome {
    pub name: String,
    pub artifacts: Vec<Artifact>,
    /// Why the build failed, if it did.
    pub error: Option<BuildError>,
    pub elapsed: Duration,
}

/// Why a build failed, kept typed so that the summary (and later the step
/// cache) can tell a cancellation from a failure; printed as it always was.
#[derive(Debug)]
pub enum BuildError {
    /// The run was cancelled before this build started.
    Cancelled,
    /// The builder failed (a provisioner's failure included).
    Build(anyhow::Error),
    /// Chains of post-processors failed: each failing one with its label.
    PostProcess(Vec<(String, anyhow::Error)>),
    /// The build's task ended without an outcome (it panicked).
    Task(String),
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BuildError::Cancelled => Cancelled::new().fmt(f),
            BuildError::Build(e) => write!(f, "{e:#}"),
            BuildError::PostProcess(failures) => {
                let each: Vec<String> = failures.iter().map(|(label, e)| format!("post-processor {label}: {e:#}")).collect();
                f.write_str(&each.join("; "))
            }
            BuildError::Task(why) => write!(f, "build task failed: {why}"),
        }
    }
}

impl std::error::Error for BuildError {}

pub async fn run_all(builds: Vec<PlannedBuild>, opts: &RunOptions, ui: Arc<TerminalUi>, cancel: CancellationToken) -> Vec<BuildOutcome> {
    let limit = if opts.parallel_builds == 0 { builds.len().max(1) } else { opts.parallel_builds };
    let permits = Arc::new(tokio::sync::Semaphore::new(limit));
    let mut tasks = Vec::new();
    for build in builds {
        let permits = permits.clone();
        let ui = ui.clone();
        let cancel = cancel.clone();
        let opts = opts.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = permits.acquire_owned().await.expect("semaphore open");
            run_one(build, &opts, ui, cancel).await
        }));
    }
    let mut outcomes = Vec::new();
    for t in tasks {
        match t.await {
            Ok(o) => outcomes.push(o),
            Err(e) => {
                outcomes.push(BuildOutcome { name: "?".into(), artifacts: Vec::new(), error: Some(BuildError::Task(e.to_string())), elapsed: Duration::ZERO })
            }
        }
    }
    outcomes
}

async fn run_one(build: PlannedBuild, opts: &RunOptions, sink: Arc<TerminalUi>, cancel: CancellationToken) -> BuildOutcome {
    let started = Instant::now();
    let ui = Ui::new(&build.name, sink.clone());
    let info = BuildInfo {
        name: build.name.clone(),
        builder_type: build.builder_type.clone(),
        source_name: build.source_name.clone(),
        ui: ui.clone(),
        cancel: cancel.clone(),
        debug: opts.debug,
        force: opts.force,
        on_error: opts.on_error,
        template_dir: opts.template_dir.clone(),
        run_uuid: opts.run_uuid.clone(),
        journal: opts.journal.clone(),
        template: opts.template.clone(),
    };
    if cancel.is_cancelled() {
        return BuildOutcome { name: build.name, artifacts: Vec::new(), error: Some(BuildError::Cancelled), elapsed: Duration::ZERO };
    }
    let hook = EngineHook { build: &build, info: &info, generated: Default::default() };
    let result = build.builder.run(&info, &hook).await;
    let generated = hook.generated.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let mut outcome = BuildOutcome { name: build.name.clone(), artifacts: Vec::new(), error: None, elapsed: Duration::ZERO };
    match result {
        Err(e) => {
            ui.error(format!("Build '{}' errored after {}: {e:#}", build.name, crate::ui::human_duration(started.elapsed())));
            outcome.error = Some(BuildError::Build(e));
        }
        Ok(None) => ui.say(format!("Build '{}' finished after {} and produced no artifact.", build.name, crate::ui::human_duration(started.elapsed()))),
        Ok(Some(artifact)) => {
            ui.say(format!("Build '{}' finished after {}.", build.name, crate::ui::human_duration(started.elapsed())));
            let (artifacts, errors) = post_process(&build, &info, &generated, artifact).await;
            outcome.artifacts = artifacts;
            if !errors.is_empty() {
                outcome.error = Some(BuildError::PostProcess(errors));
            }
        }
    }
    outcome.elapsed = started.elapsed();
    outcome
}

/// Hands the build's provisioners to the builder, which runs them once its
/// machine is reachable.
struct EngineHook<'a> {
    build: &'a PlannedBuild,
    info: &'a BuildInfo,
    /// What the builder generated (`build.Host`, `build.ID`, …), kept for the
    /// post-processors, which see them as provisioners do.
    generated: std::sync::Mutex<GeneratedData>,
}

impl ProvisionHook for EngineHook<'_> {
    fn machine_ready(&self, generated: &GeneratedData) {
        // The builder's credentials are as secret as a sensitive variable.
        for key in ["Password", "SSHPrivateKey", "WinRMPassword"] {
            if let Some(secret) = generated.get(key).filter(|v| !v.is_empty()) {
                self.info.ui.add_secret(secret);
            }
        }
        *self.generated.lock().unwrap_or_else(|e| e.into_inner()) = generated.clone();
    }

    fn provisioners(&self) -> Vec<Box<dyn ProvisionerStep + '_>> {
        self.build
            .provisioners
            .iter()
            .enumerate()
            .map(|(index, decl)| Box::new(EngineProvisioner { hook: self, index, decl }) as Box<dyn ProvisionerStep>)
            .collect()
    }
}

/// One `provisioner` block of the build, prepared when it runs (with the
/// generated values in scope).
struct EngineProvisioner<'a> {
    hook: &'a EngineHook<'a>,
    /// Its place among the build's provisioners, for the step id.
    index: usize,
    decl: &'a ProvisionerDecl,
}

impl EngineProvisioner<'_> {
    fn label(&self) -> String {
        self.decl.name.clone().unwrap_or_else(|| self.decl.kind.clone())
    }
}

#[async_trait]
impl ProvisionerStep for EngineProvisioner<'_> {
    fn id(&self) -> StepId {
        StepId::new(format!("provisioner.{}.{}", self.index, self.decl.kind))
    }

    fn name(&self) -> String {
        format!("Provisioning with {}", self.label())
    }

    async fn run(&self, comm: Option<&dyn Communicator>, generated: &GeneratedData) -> anyhow::Result<()> {
        let hook = self.hook;
        let build = hook.build;
        let build_decl_eval = generated_evaluator(&build.evaluator, generated);
        let Err(e) = hook.run_provisioner(&build_decl_eval, self.decl, comm, generated).await else {
            return Ok(());
        };
        if let Some(cleanup) = &build.error_cleanup {
            if hook.info.on_error != OnError::Abort {
                hook.info.ui.say(format!("Provisioning failed; running error-cleanup-provisioner \"{}\"", cleanup.kind));
                if let Err(ce) = hook.run_provisioner(&build_decl_eval, cleanup, comm, generated).await {
                    hook.info.ui.error(format!("error-cleanup-provisioner failed too: {ce:#}"));
                }
            }
        }
        Err(e)
    }
}

impl EngineHook<'_> {
    /// Runs one provisioner with its `pause_before`, `timeout` and
    /// `max_retries`.
    async fn run_provisioner(&self, ev: &Evaluator, p: &ProvisionerDecl, comm: Option<&dyn Communicator>, generated: &GeneratedData) -> anyhow::Result<()> {
        let build = self.build;
        let ui = &self.info.ui;
        let label = p.name.clone().unwrap_or_else(|| p.kind.clone());
        let plugin = plan::prepare_provisioner(ev, p, &build.source_name, &build.builder_type).map_err(|d| anyhow::anyhow!("{}", d.render(&ev.sources)))?;
        if let Some(pause) = p.pause_before {
            ui.say(format!("Pausing {} before provisioner {label}", crate::ui::human_duration(pause)));
            bake_sdk::cancel::sleep(pause, &self.info.cancel).await?;
        }
        let ctx = ProvisionContext { build: self.info, comm, generated };
        let mut attempt = 0;
        loop {
            let run = plugin.provision(&ctx);
            let result = match p.timeout {
                Some(t) => match tokio::time::timeout(t, run).await {
                    Ok(r) => r,
                    Err(_) => Err(anyhow::anyhow!("provisioner {label} timed out after {}", crate::ui::human_duration(t))),
                },
                None => run.await,
            };
            match result {
                Ok(()) => return Ok(()),
                Err(e) if attempt < p.max_retries && !self.info.cancel.is_cancelled() => {
                    attempt += 1;
                    ui.error(format!("Provisioner {label} failed ({e:#}); retrying ({attempt} of {})", p.max_retries));
                }
                Err(e) => return Err(e.context(format!("provisioner {label} failed"))),
            }
        }
    }
}

fn generated_evaluator(ev: &Evaluator, generated: &GeneratedData) -> Evaluator {
    let mut ev = ev.clone();
    let mut build = match ev.root.get("build") {
        Some(bake_lang::Value::Object(m)) => m.clone(),
        _ => Default::default(),
    };
    for (k, v) in generated {
        build.insert(k.clone(), bake_lang::Value::from(v.as_str()));
    }
    ev.root.insert("build".into(), bake_lang::Value::Object(build));
    ev
}

/// Feeds the artifact through every chain, with Packer's rules: each chain
/// starts from the builder's artifact; an artifact that the next
/// post-processor does not keep is removed; the builder's own artifact is
/// kept only when a chain's first post-processor keeps it (or there are no
/// chains). A failing chain fails the build but not the other chains.
async fn post_process(build: &PlannedBuild, info: &BuildInfo, generated: &GeneratedData, original: Artifact) -> (Vec<Artifact>, Vec<(String, anyhow::Error)>) {
    if build.chains.is_empty() {
        return (vec![original], Vec::new());
    }
    let ev = generated_evaluator(&build.evaluator, generated);
    let mut results = Vec::new();
    let mut errors = Vec::new();
    let mut keep_original = false;
    for chain in &build.chains {
        let mut current = original.clone();
        let mut failed = false;
        for (i, pp) in chain.iter().enumerate() {
            let label = pp.display_name().to_string();
            let step = info.ui.step(format!("Running post-processor {label}"));
            // Prepared now, with the build's generated values in scope; a
            // configuration that fails here fails the chain like a failed run.
            let run = async {
                let plugin = plan::prepare_post_processor(&ev, pp).map_err(|d| anyhow::anyhow!("{}", d.render(&ev.sources)))?;
                let out = plugin.post_process(info, current.clone()).await?;
                anyhow::Ok((out, plugin.keeps_input_by_default()))
            };
            match run.await {
                Ok((out, keeps_by_default)) => {
                    step.finish(true);
                    let keep = out.keep_input.or(pp.keep_input_artifact).unwrap_or(keeps_by_default);
                    if i == 0 {
                        keep_original |= keep;
                    } else if out.artifact == current {
                        // A post-processor that records the artifact
                        // (manifest, terraform) passes it on unchanged: it
                        // is one artifact, not two.
                    } else if keep {
                        results.push(current.clone());
                    } else {
                        destroy(&current, &out.artifact, info).await;
                    }
                    current = out.artifact;
                }
                Err(e) => {
                    step.finish(false);
                    info.ui.error(format!("Post-processor {label} failed: {e:#}"));
                    errors.push((label, e));
                    failed = true;
                    break;
                }
            }
        }
        if !failed && current != original {
            results.push(current);
        }
    }
    if keep_original {
        results.insert(0, original);
    } else {
        for kept in &results {
            if kept.files == original.files {
                return (results, errors);
            }
        }
        destroy(&original, &Artifact::default(), info).await;
    }
    (results, errors)
}

/// Removes an artifact the chain does not keep, through the plugin that made
/// it (its files, except those the next artifact still uses, unless that
/// plugin registered more to do).
async fn destroy(artifact: &Artifact, next: &Artifact, info: &BuildInfo) {
    let destroyer = crate::plugins::artifact_destroyer(&artifact.builder_type);
    if let Err(e) = destroyer.destroy(artifact, next, &info.ui).await {
        info.ui.error(format!("Cannot remove the intermediate artifact {} ({}): {e:#}", artifact.id, artifact.builder_type));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_build_error_prints_as_the_string_it_replaced_and_keeps_its_cause() {
        assert_eq!(BuildError::Cancelled.to_string(), "cancelled");
        let build = BuildError::Build(anyhow::Error::new(Cancelled::in_step("Waiting for SSH")).context("step \"Waiting for SSH\" failed"));
        assert_eq!(build.to_string(), "step \"Waiting for SSH\" failed: cancelled during: Waiting for SSH");
        let BuildError::Build(e) = &build else { unreachable!() };
        assert!(Cancelled::is(e), "the cause is still a Cancelled");
        let chains = BuildError::PostProcess(vec![("checksum".into(), anyhow::anyhow!("disk full")), ("manifest".into(), anyhow::anyhow!("no such dir"))]);
        assert_eq!(chains.to_string(), "post-processor checksum: disk full; post-processor manifest: no such dir");
        assert_eq!(BuildError::Task("panicked".into()).to_string(), "build task failed: panicked");
    }
}
