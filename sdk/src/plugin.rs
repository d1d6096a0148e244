//! The traits builders, provisioners and post-processors implement.
//!
//! A plugin is configured in two stages: `prepare` (a plain function of each
//! plugin crate) decodes and checks its configuration with no side effects, so
//! `bake validate` catches every mistake; then the engine runs it.

use crate::artifact::Artifact;
use crate::communicator::Communicator;
use crate::steps::StepId;
use crate::ui::Ui;
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::path::PathBuf;
use tokio_util::sync::CancellationToken;

/// What every plugin knows about the build it serves.
#[derive(Clone)]
pub struct BuildInfo {
    /// `BUILD.TYPE.NAME`, or `TYPE.NAME` for an unnamed build.
    pub name: String,
    /// The source's type, such as `qemu`.
    pub builder_type: String,
    /// The source's name, such as `web`.
    pub source_name: String,
    pub ui: Ui,
    /// Cancelled on Ctrl-C / SIGTERM: stop, clean up, return an error.
    pub cancel: CancellationToken,
    /// `-debug`: pause between steps.
    pub debug: bool,
    /// `-force`: replace existing outputs.
    pub force: bool,
    /// `-on-error`: what to do with a failed build's machine.
    pub on_error: OnError,
    /// The directory of the template (`path.root`).
    pub template_dir: PathBuf,
    /// The same for every build of one run (`packer_run_uuid`).
    pub run_uuid: String,
    /// Where every external resource is recorded before it is created.
    pub journal: std::sync::Arc<crate::journal::Journal>,
    /// The template this build comes from, for records of provenance (the
    /// manifest's `bake` section).
    pub template: std::sync::Arc<TemplateInfo>,
}

/// Where a run's builds come from: what a manifest records so that an
/// image can be traced back to the template, the variables and the commit
/// that made it.
#[derive(Clone, Debug, Default)]
pub struct TemplateInfo {
    /// The template file or directory, as given on the command line.
    pub path: PathBuf,
    /// Each template file with its hex sha256.
    pub files: Vec<(PathBuf, String)>,
    /// One hash for the whole template: the file's sha256 for a single
    /// file; for a directory, the sha256 of the `sha256sum`-style listing
    /// (`HASH  NAME\n` per file, by name) of its files.
    pub sha256: String,
    /// Every input variable's value, sensitive ones as `"<sensitive>"`.
    pub variables: serde_json::Map<String, serde_json::Value>,
    /// `git rev-parse HEAD` in the template's directory, when it is in a
    /// repository.
    pub git_commit: Option<String>,
    /// Whether the template's directory has uncommitted changes (only
    /// meaningful with `git_commit`).
    pub git_dirty: bool,
}

/// Packer's `-on-error` choices.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OnError {
    /// Clean up everything (the default).
    #[default]
    Cleanup,
    /// Stop without cleaning up, so the machine can be inspected.
    Abort,
    /// Ask the user what to do.
    Ask,
    /// Run the build's error-cleanup-provisioner, then clean up.
    RunCleanupProvisioner,
}

/// Values known only once the machine exists (`build.Host`, `build.User`,
/// …), keyed by their Packer names.
pub type GeneratedData = BTreeMap<String, String>;

/// The engine's side of provisioning, handed to the builder: once its
/// machine is reachable the builder calls [`ProvisionHook::machine_ready`],
/// then runs each of [`ProvisionHook::provisioners`] as a step of its own
/// (so that each has its name and time in the progress, and later its own
/// cache entry). A builder without a step list calls [`provision_all`].
pub trait ProvisionHook: Send + Sync {
    /// The machine is reachable; `generated` is what the builder knows of it
    /// (`build.Host`, `build.Password`, …). Called once, before the first
    /// provisioner and also when there is none: the engine masks the
    /// credentials from now on and keeps the data for the post-processors.
    fn machine_ready(&self, generated: &GeneratedData);

    /// The build's provisioners, in their order in the template.
    fn provisioners(&self) -> Vec<Box<dyn ProvisionerStep + '_>>;
}

/// One provisioner of the build, ready to run as one of the builder's
/// steps. Retries, `timeout`, `pause_before` and the
/// error-cleanup-provisioner are inside `run`; the builder times it.
#[async_trait]
pub trait ProvisionerStep: Send + Sync {
    /// `provisioner.N.TYPE`: its place in the build and its type, stable
    /// across runs of one template.
    fn id(&self) -> StepId;

    /// The progress line: "Provisioning with shell".
    fn name(&self) -> String;

    async fn run(&self, comm: Option<&dyn Communicator>, generated: &GeneratedData) -> anyhow::Result<()>;
}

/// Runs every provisioner, each as a timed step, for a builder that has no
/// step list of its own (`null`, `file`): tells the hook the machine is
/// ready, then runs them in order and stops at the first failure. With
/// `-debug` it pauses after each, as the step runner does between steps.
pub async fn provision_all(hook: &dyn ProvisionHook, build: &BuildInfo, comm: Option<&dyn Communicator>, generated: &GeneratedData) -> anyhow::Result<()> {
    hook.machine_ready(generated);
    for provisioner in hook.provisioners() {
        crate::steps::timed(&build.ui, provisioner.name(), provisioner.run(comm, generated)).await?;
        if build.debug {
            crate::steps::pause(build, "Pausing (-debug): press Enter to go on").await?;
        }
    }
    Ok(())
}

#[async_trait]
pub trait Builder: Send + Sync {
    /// Runs the build; returns its artifact, or `None` when it made nothing
    /// (as the `null` builder).
    async fn run(&self, build: &BuildInfo, hook: &dyn ProvisionHook) -> anyhow::Result<Option<Artifact>>;
}

/// Where and how a provisioner runs.
pub struct ProvisionContext<'a> {
    pub build: &'a BuildInfo,
    /// `None` when the build has no communicator (`communicator = "none"`).
    pub comm: Option<&'a dyn Communicator>,
    pub generated: &'a GeneratedData,
}

#[async_trait]
pub trait Provisioner: Send + Sync {
    async fn provision(&self, ctx: &ProvisionContext<'_>) -> anyhow::Result<()>;
}

/// A post-processor's result.
pub struct PostProcessed {
    pub artifact: Artifact,
    /// `Some(true)` forces the input to be kept whatever the template says;
    /// `Some(false)` forces it removed; `None` leaves it to
    /// `keep_input_artifact`.
    pub keep_input: Option<bool>,
}

#[async_trait]
pub trait PostProcessor: Send + Sync {
    async fn post_process(&self, build: &BuildInfo, input: Artifact) -> anyhow::Result<PostProcessed>;

    /// Whether the input artifact is kept when the template does not set
    /// `keep_input_artifact` and [`PostProcessed::keep_input`] is `None`
    /// (Packer's `keep` without `forceOverride`, as `artifice` returns).
    fn keeps_input_by_default(&self) -> bool {
        false
    }
}

/// A data source: `data "TYPE" "NAME" { … }` whose outputs templates read as
/// `data.TYPE.NAME.*`.
#[async_trait]
pub trait DataSource: Send + Sync {
    /// The value before running (for `validate` and `inspect`): the same
    /// shape as the real outputs, with placeholder strings.
    fn placeholder(&self) -> bake_lang::Value;

    /// Produces the outputs; may take long (it is cached by the plugin where
    /// that makes sense).
    async fn execute(&self, ui: &Ui, cancel: &CancellationToken) -> anyhow::Result<bake_lang::Value>;
}
