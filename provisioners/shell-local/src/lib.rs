//! `shell-local`: runs commands and scripts on the machine running bake, as a
//! provisioner or as a post-processor, with Packer's options and semantics.

use bake_sdk::config::decode;
use bake_sdk::lang::diag::{Diagnostic, Diagnostics};
use bake_sdk::lang::eval::EvalBody;
use bake_sdk::{async_trait, Artifact, BuildInfo, PostProcessed, PostProcessor, ProvisionContext, Provisioner, Stream};
use bake_sdk::{placeholders, shell};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader};

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

/// One prepared shell-local configuration, shared by both plugin kinds.
pub struct ShellLocal {
    config: Config,
}

pub fn prepare_provisioner(body: &EvalBody, what: &str) -> Result<Box<dyn Provisioner>, Diagnostics> {
    Ok(Box::new(ShellLocal::prepare(body, what)?))
}

pub fn prepare_post_processor(body: &EvalBody, what: &str) -> Result<Box<dyn PostProcessor>, Diagnostics> {
    Ok(Box::new(ShellLocal::prepare(body, what)?))
}

impl ShellLocal {
    fn prepare(body: &EvalBody, what: &str) -> Result<ShellLocal, Diagnostics> {
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
            if !std::path::Path::new(script).is_file() {
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

    /// Runs every script in order with `env` added; stops at the first failure.
    async fn run(&self, build: &BuildInfo, extra_env: &BTreeMap<String, String>) -> anyhow::Result<()> {
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

    async fn run_scripts(&self, build: &BuildInfo, env: &BTreeMap<String, String>, temp: &std::path::Path) -> anyhow::Result<()> {
        let ext = self.config.tempfile_extension.clone().unwrap_or_default();
        let mut scripts: Vec<PathBuf> = Vec::new();
        let inline = self.config.inline.clone().or_else(|| self.config.command.clone().map(|c| vec![c]));
        if let Some(lines) = inline {
            let shebang = self.config.inline_shebang.clone().unwrap_or_else(|| "/bin/sh -e".to_string());
            let path = temp.join(format!("inline{ext}"));
            bake_sdk::process::write_script(&path, &shell::inline_script(&shebang, &lines))?;
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
            let code = run_streaming(build, program, args, env).await?;
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

fn make_executable(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path) {
        let mut perms = meta.permissions();
        perms.set_mode(perms.mode() | 0o755);
        let _ = std::fs::set_permissions(path, perms);
    }
}

/// Runs a process, streaming its output lines to the UI; kills it when the
/// build is cancelled.
async fn run_streaming(build: &BuildInfo, program: &str, args: &[String], env: &BTreeMap<String, String>) -> anyhow::Result<i32> {
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .envs(env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        // Its own process group, so that cancelling kills the script's
        // children too, not only the shell that started them.
        .process_group(0);
    // Through the sdk, so that no other build forks while a script is being
    // written (which would make executing it fail with "Text file busy").
    let mut child = bake_sdk::process::spawn(&mut cmd).map_err(|e| anyhow::anyhow!("cannot start {program}: {e}"))?;
    let stdout = child.stdout.take().expect("piped stdout");
    let stderr = child.stderr.take().expect("piped stderr");
    let ui_out = build.ui.clone();
    let ui_err = build.ui.clone();
    let out_task = tokio::spawn(async move {
        let mut lines = BufReader::new(stdout).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            ui_out.output(Stream::Stdout, line);
        }
    });
    let err_task = tokio::spawn(async move {
        let mut lines = BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            ui_err.output(Stream::Stderr, line);
        }
    });
    let status = tokio::select! {
        s = child.wait() => s?,
        _ = build.cancel.cancelled() => {
            kill_group(&mut child).await;
            anyhow::bail!("cancelled");
        }
    };
    let _ = out_task.await;
    let _ = err_task.await;
    Ok(status.code().unwrap_or(-1))
}

/// Stops a process group: SIGTERM, then SIGKILL after a grace period.
async fn kill_group(child: &mut tokio::process::Child) {
    let Some(pid) = child.id() else { return };
    // SAFETY: killpg(2) on the group we created for this child; no memory is involved.
    unsafe { libc::killpg(pid as libc::pid_t, libc::SIGTERM) };
    if tokio::time::timeout(std::time::Duration::from_secs(3), child.wait()).await.is_err() {
        // SAFETY: as above.
        unsafe { libc::killpg(pid as libc::pid_t, libc::SIGKILL) };
        let _ = child.wait().await;
    }
}

#[async_trait]
impl Provisioner for ShellLocal {
    async fn provision(&self, ctx: &ProvisionContext<'_>) -> anyhow::Result<()> {
        let mut env = BTreeMap::new();
        for (key, var) in [("PackerHTTPAddr", "PACKER_HTTP_ADDR"), ("PackerHTTPIP", "PACKER_HTTP_IP"), ("PackerHTTPPort", "PACKER_HTTP_PORT")] {
            if let Some(v) = ctx.generated.get(key) {
                env.insert(var.to_string(), v.clone());
            }
        }
        self.run(ctx.build, &env).await
    }
}

#[async_trait]
impl PostProcessor for ShellLocal {
    async fn post_process(&self, build: &BuildInfo, input: Artifact) -> anyhow::Result<PostProcessed> {
        let files: Vec<String> = input.files.iter().map(|f| f.path.display().to_string()).collect();
        let env = BTreeMap::from([
            ("PACKER_ARTIFACT_ID".to_string(), input.id.clone()),
            ("PACKER_ARTIFACT_FILES".to_string(), files.join(" ")),
            ("PACKER_ARTIFACT_BUILDER_TYPE".to_string(), input.builder_type.clone()),
        ]);
        self.run(build, &env).await?;
        // Like Packer's, this post-processor passes its input through.
        Ok(PostProcessed { artifact: input, keep_input: Some(true) })
    }
}
