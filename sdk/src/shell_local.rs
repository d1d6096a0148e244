//! Packer's `shell-local`: running commands and scripts on the machine
//! running bake. The provisioner and the post-processor of that name are
//! one configuration and one way of running it, which lives here so that
//! neither plugin depends on the other; each adds only its own environment
//! (the HTTP server's address, the artifact's id and files).

use crate::config::decode;
use crate::lang::diag::{Diagnostic, Diagnostics};
use crate::lang::eval::EvalBody;
use crate::plugin::BuildInfo;
use crate::{placeholders, process, shell};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    /// A single command (Packer's older spelling of a one-line `inline`).
    command: Option<String>,
    inline: Option<Vec<String>>,
    script: Option<String>,
    scripts: Option<Vec<String>>,
    #[serde(default)]
    environment_vars: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    execute_command: Option<Vec<String>>,
    inline_shebang: Option<String>,
    #[serde(default)]
    only_on: Vec<String>,
    valid_exit_codes: Option<Vec<i32>>,
    env_var_format: Option<String>,
    tempfile_extension: Option<String>,
    /// Windows-only in Packer; accepted and meaningless here.
    #[serde(default)]
    use_linux_pathing: bool,
}

/// One prepared shell-local configuration.
pub struct ShellLocal {
    config: Config,
}

impl ShellLocal {
    /// Decodes and checks the configuration (`what` names the block in
    /// messages); touches nothing.
    pub fn prepare(body: &EvalBody, what: &str) -> Result<ShellLocal, Diagnostics> {
        let config: Config = decode(body, what)?;
        let _ = config.use_linux_pathing;
        let given = [config.command.is_some(), config.inline.is_some(), config.script.is_some(), config.scripts.is_some()];
        let count = given.iter().filter(|g| **g).count();
        if count == 0 {
            let d = Diagnostic::error("Nothing to run", format!("{what} needs one of \"inline\", \"script\", \"scripts\" or \"command\"."));
            return Err(d.at(body.span).into());
        }
        if count > 1 {
            // Point at the second of them: the first one set is not the mistake.
            let second = body.attributes.iter().filter(|(k, _)| ["command", "inline", "script", "scripts"].contains(&k.as_str())).nth(1);
            let d = Diagnostic::error("Conflicting arguments", format!("{what} takes only one of \"inline\", \"script\", \"scripts\" and \"command\"."));
            return Err(d.at(second.map_or(body.span, |(_, a)| a.name_span)).into());
        }
        let mut diags = Diagnostics::new();
        for ev in &config.environment_vars {
            if let Err(e) = shell::check_environment_var(ev) {
                diags.push(Diagnostic::error("Invalid environment_vars entry", e).at(body.attributes.get("environment_vars").map_or(body.span, |a| a.span)));
            }
        }
        for script in config.script.iter().chain(config.scripts.iter().flatten()) {
            if !Path::new(script).is_file() {
                diags.push(
                    Diagnostic::error("Script not found", format!("The script \"{script}\" does not exist or is not a file.")).at(body
                        .attributes
                        .get("script")
                        .or(body.attributes.get("scripts"))
                        .map_or(body.span, |a| a.span)),
                );
            }
        }
        if diags.has_errors() {
            return Err(diags);
        }
        Ok(ShellLocal { config })
    }

    /// Runs every script in order with Packer's `PACKER_*` variables and
    /// `extra_env` added; stops at the first failure.
    pub async fn run(&self, build: &BuildInfo, extra_env: &BTreeMap<String, String>) -> anyhow::Result<()> {
        let ui = &build.ui;
        let os = std::env::consts::OS;
        if !self.config.only_on.is_empty() && !self.config.only_on.iter().any(|o| o == os) {
            ui.say(format!("Skipping shell-local: only_on {:?} does not include {os}", self.config.only_on));
            return Ok(());
        }
        let mut base: BTreeMap<String, String> = BTreeMap::from([
            ("PACKER_BUILD_NAME".to_string(), build.source_name.clone()),
            ("PACKER_BUILDER_TYPE".to_string(), build.builder_type.clone()),
            ("PACKER_RUN_UUID".to_string(), build.run_uuid.clone()),
        ]);
        base.extend(extra_env.iter().map(|(k, v)| (k.clone(), v.clone())));
        let env = shell::environment(base, &self.config.environment_vars, &self.config.env);

        let temp = tempdir()?;
        let result = self.run_scripts(build, &env, &temp).await;
        let _ = std::fs::remove_dir_all(&temp);
        result
    }

    async fn run_scripts(&self, build: &BuildInfo, env: &BTreeMap<String, String>, temp: &Path) -> anyhow::Result<()> {
        let ext = self.config.tempfile_extension.clone().unwrap_or_default();
        let mut scripts: Vec<PathBuf> = Vec::new();
        let inline = self.config.inline.clone().or_else(|| self.config.command.clone().map(|c| vec![c]));
        if let Some(lines) = inline {
            let shebang = self.config.inline_shebang.clone().unwrap_or_else(|| "/bin/sh -e".to_string());
            let path = temp.join(format!("inline{ext}"));
            process::write_script(&path, &shell::inline_script(&shebang, &lines))?;
            scripts.push(path);
        }
        scripts.extend(self.config.script.iter().chain(self.config.scripts.iter().flatten()).map(PathBuf::from));

        let vars = shell::render_vars(self.config.env_var_format.as_deref().unwrap_or("%s='%s' "), env);
        let execute = self.config.execute_command.clone().unwrap_or_else(|| vec!["/bin/sh".into(), "-c".into(), "{{.Vars}} {{.Script}}".into()]);
        let valid = self.config.valid_exit_codes.clone().unwrap_or_else(|| vec![0]);
        for script in scripts {
            build.ui.say(format!("Running local shell script: {}", script.display()));
            make_executable(&script);
            let values =
                BTreeMap::from([("Vars", vars.trim_end().to_string()), ("Script", script.display().to_string()), ("Command", script.display().to_string())]);
            let argv: Vec<String> = execute.iter().map(|a| placeholders::render(a, &values)).collect::<Result<_, _>>().map_err(anyhow::Error::msg)?;
            let (program, args) = argv.split_first().ok_or_else(|| anyhow::anyhow!("execute_command is empty"))?;
            let code = run_command(build, program, args, env).await?;
            if !valid.contains(&code) {
                anyhow::bail!("Erroneous exit code {code} while executing script: {}", script.display());
            }
        }
        Ok(())
    }
}

fn tempdir() -> std::io::Result<PathBuf> {
    let base = std::env::temp_dir();
    for i in 0.. {
        let dir = base.join(format!("bake-shell-local-{}-{i}", std::process::id()));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    unreachable!("the loop returns")
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path) {
        let mut perms = meta.permissions();
        perms.set_mode(perms.mode() | 0o755);
        let _ = std::fs::set_permissions(path, perms);
    }
}

/// Runs one command, its output lines shown as they come; stops it and its
/// children (its own process group) when the build is cancelled.
async fn run_command(build: &BuildInfo, program: &str, args: &[String], env: &BTreeMap<String, String>) -> anyhow::Result<i32> {
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args).envs(env);
    let how = process::Streaming { own_group: true, ..Default::default() };
    match process::run_streaming(&mut cmd, &how, &build.cancel, |stream, line| build.ui.output(stream, line)).await {
        Ok(done) => Ok(done.status.code().unwrap_or(-1)),
        Err(process::StreamError::Spawn(e)) => anyhow::bail!("cannot start {program}: {e}"),
        Err(process::StreamError::Cancelled) => Err(crate::Cancelled::new().into()),
        Err(process::StreamError::Io(e)) => Err(e.into()),
    }
}
