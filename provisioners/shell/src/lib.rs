//! `shell`: uploads scripts to the machine being built and runs them there,
//! with Packer's options and semantics.

use bake_sdk::communicator::Disconnected;
use bake_sdk::config::decode;
use bake_sdk::lang::diag::{Diagnostic, Diagnostics};
use bake_sdk::lang::eval::EvalBody;
use bake_sdk::{async_trait, duration, placeholders, shell, Communicator, ProvisionContext, Provisioner, Ui};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    inline: Option<Vec<String>>,
    script: Option<String>,
    scripts: Option<Vec<String>>,
    #[serde(default)]
    environment_vars: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    env_var_format: Option<String>,
    execute_command: Option<String>,
    #[serde(default = "default_shebang")]
    inline_shebang: String,
    #[serde(default = "default_remote_folder")]
    remote_folder: String,
    remote_file: Option<String>,
    remote_path: Option<String>,
    #[serde(default)]
    expect_disconnect: bool,
    #[serde(default = "default_exit_codes")]
    valid_exit_codes: Vec<i32>,
    #[serde(default = "default_start_retry_timeout", deserialize_with = "duration::deserialize")]
    start_retry_timeout: Duration,
    #[serde(default, deserialize_with = "duration::deserialize_opt")]
    pause_after: Option<Duration>,
    #[serde(default)]
    skip_clean: bool,
    #[serde(default)]
    use_env_var_file: bool,
    /// Packer converts CRLF line endings to LF unless the scripts are binary.
    #[serde(default)]
    binary: bool,
}

fn default_shebang() -> String {
    "/bin/sh -e".into()
}
fn default_remote_folder() -> String {
    "/tmp".into()
}
fn default_exit_codes() -> Vec<i32> {
    vec![0]
}
fn default_start_retry_timeout() -> Duration {
    Duration::from_secs(300)
}

pub struct Shell {
    config: Config,
    /// Where each script is uploaded: `remote_path`, or
    /// `remote_folder/remote_file`.
    remote_path: String,
    /// Where `use_env_var_file` writes the variables.
    env_var_file: String,
}

/// One script to run: its name for messages and its bytes.
struct Script {
    name: String,
    body: Vec<u8>,
}

pub fn prepare(body: &EvalBody, what: &str) -> Result<Box<dyn Provisioner>, Diagnostics> {
    let config: Config = decode(body, what)?;
    let attr = |key: &str| body.attributes.get(key).map_or(body.span, |a| a.span);
    let mut diags = Diagnostics::new();
    let given = [config.inline.is_some(), config.script.is_some(), config.scripts.is_some()];
    match given.iter().filter(|g| **g).count() {
        0 => diags.push(Diagnostic::error("Nothing to run", format!("{what} needs one of \"inline\", \"script\" or \"scripts\".")).at(body.span)),
        1 => {}
        _ => diags.push(Diagnostic::error("Conflicting arguments", format!("{what} takes only one of \"inline\", \"script\" and \"scripts\".")).at(body.span)),
    }
    for entry in &config.environment_vars {
        if let Err(e) = shell::check_environment_var(entry) {
            diags.push(Diagnostic::error("Invalid environment_vars entry", e).at(attr("environment_vars")));
        }
    }
    for script in config.script.iter().chain(config.scripts.iter().flatten()) {
        if !Path::new(script).is_file() {
            let key = if config.script.is_some() { "script" } else { "scripts" };
            diags.push(
                Diagnostic::error("Script not found", format!("The script \"{script}\" does not exist or is not a file."))
                    .at(attr(key))
                    .with_help("paths are relative to the directory bake runs in"),
            );
        }
    }
    if config.remote_path.is_some() && config.remote_file.is_some() {
        diags.push(Diagnostic::error("Conflicting arguments", format!("{what} takes \"remote_path\" or \"remote_file\", not both.")).at(attr("remote_path")));
    }
    if diags.has_errors() {
        return Err(diags);
    }
    // Packer's default names: a random number, so that concurrent
    // provisioners on one machine do not overwrite each other's scripts.
    let n = random_below(10_000);
    let remote_file = config.remote_file.clone().unwrap_or_else(|| format!("script_{n}.sh"));
    let remote_path = config.remote_path.clone().unwrap_or_else(|| format!("{}/{remote_file}", config.remote_folder));
    let env_var_file = format!("{}/varfile_{n}.sh", config.remote_folder);
    Ok(Box::new(Shell { config, remote_path, env_var_file }))
}

fn random_below(n: u32) -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos());
    (h.finish() % u64::from(n)) as u32
}

impl Shell {
    fn scripts(&self) -> anyhow::Result<Vec<Script>> {
        let c = &self.config;
        if let Some(lines) = &c.inline {
            return Ok(vec![Script { name: "inline script".into(), body: shell::inline_script(&c.inline_shebang, lines).into_bytes() }]);
        }
        c.script
            .iter()
            .chain(c.scripts.iter().flatten())
            .map(|path| {
                let mut body = std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read script {path}: {e}"))?;
                if !c.binary {
                    body = unix_line_endings(&body);
                }
                Ok(Script { name: path.clone(), body })
            })
            .collect()
    }

    fn environment(&self, ctx: &ProvisionContext<'_>) -> BTreeMap<String, String> {
        let mut base = BTreeMap::from([
            ("PACKER_BUILD_NAME".to_string(), ctx.build.source_name.clone()),
            ("PACKER_BUILDER_TYPE".to_string(), ctx.build.builder_type.clone()),
        ]);
        for (key, var) in [("PackerHTTPAddr", "PACKER_HTTP_ADDR"), ("PackerHTTPIP", "PACKER_HTTP_IP"), ("PackerHTTPPort", "PACKER_HTTP_PORT")] {
            if let Some(v) = ctx.generated.get(key).filter(|v| !v.is_empty()) {
                base.insert(var.to_string(), v.clone());
            }
        }
        shell::environment(base, &self.config.environment_vars, &self.config.env)
    }

    /// The command that runs the uploaded script, as Packer builds it.
    fn command(&self, vars: &str) -> anyhow::Result<String> {
        let c = &self.config;
        let template = c.execute_command.clone().unwrap_or_else(|| {
            if c.use_env_var_file {
                "chmod +x {{.Path}}; . {{.EnvVarFile}} && {{.Path}}".to_string()
            } else {
                "chmod +x {{.Path}}; {{.Vars}} {{.Path}}".to_string()
            }
        });
        let values = BTreeMap::from([("Path", self.remote_path.clone()), ("Vars", vars.to_string()), ("EnvVarFile", self.env_var_file.clone())]);
        placeholders::render(&template, &values).map_err(|e| anyhow::anyhow!("execute_command: {e}"))
    }

    async fn run_script(&self, ctx: &ProvisionContext<'_>, comm: &dyn Communicator, script: &Script, env: &BTreeMap<String, String>) -> anyhow::Result<()> {
        let c = &self.config;
        let ui = &ctx.build.ui;
        ui.say(format!("Provisioning with shell script: {}", script.name));
        let vars = if c.use_env_var_file {
            let format = c.env_var_format.as_deref().unwrap_or("export %s='%s'\n");
            let file = shell::render_vars(format, env);
            retry(ui, &ctx.build.cancel, c.start_retry_timeout, "upload the environment file", || comm.upload(file.as_bytes(), &self.env_var_file, 0o600))
                .await?;
            String::new()
        } else {
            shell::render_vars(c.env_var_format.as_deref().unwrap_or("%s='%s' "), env).trim_end().to_string()
        };
        let command = self.command(&vars)?;

        // Uploading and starting are retried until start_retry_timeout: the
        // machine may still be coming back from a reboot by a previous script.
        retry(ui, &ctx.build.cancel, c.start_retry_timeout, "upload the script", || comm.upload(&script.body, &self.remote_path, 0o755)).await?;
        let mut output = |stream, line: &str| ui.output(stream, line);
        match comm.run(&command, &mut output).await {
            Ok(code) if c.valid_exit_codes.contains(&code) => {}
            Ok(code) => anyhow::bail!(
                "Script exited with non-zero exit status: {code}. Allowed exit codes are: {:?}\n(script: {}, command: {command})",
                c.valid_exit_codes,
                script.name
            ),
            Err(e) if c.expect_disconnect && Disconnected::is(&e) => {
                ui.message("The machine disconnected, as expected (expect_disconnect); carrying on once it is back");
            }
            Err(e) if Disconnected::is(&e) => {
                return Err(e.context(format!("the machine disconnected while running {}; if the script reboots it, set expect_disconnect = true", script.name)))
            }
            Err(e) => return Err(e.context(format!("running {}", script.name))),
        }

        if !c.skip_clean {
            let mut paths = self.remote_path.clone();
            if c.use_env_var_file {
                paths = format!("{paths} {}", self.env_var_file);
            }
            let rm = format!("rm -f {paths}");
            retry(ui, &ctx.build.cancel, c.start_retry_timeout, "remove the script", || async {
                let mut ignore = |_, _: &str| {};
                match comm.run(&rm, &mut ignore).await? {
                    0 => Ok(()),
                    code => anyhow::bail!("`{rm}` exited with {code}"),
                }
            })
            .await?;
        }
        Ok(())
    }
}

/// Runs `op` until it succeeds, it fails for a reason other than a lost
/// connection, or `timeout` passes.
async fn retry<F, Fut>(ui: &Ui, cancel: &bake_sdk::CancellationToken, timeout: Duration, what: &str, mut op: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let started = Instant::now();
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let err = match op().await {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        if !Disconnected::is(&err) || started.elapsed() >= timeout {
            return Err(err.context(format!("could not {what} (attempt {attempt}, after {:.0?})", started.elapsed())));
        }
        ui.message(format!("Could not {what} yet ({err:#}); retrying"));
        bake_sdk::cancel::sleep(Duration::from_secs(2), cancel).await?;
    }
}

fn unix_line_endings(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        if body[i] == b'\r' && body.get(i + 1) == Some(&b'\n') {
            i += 1;
            continue;
        }
        out.push(body[i]);
        i += 1;
    }
    out
}

#[async_trait]
impl Provisioner for Shell {
    async fn provision(&self, ctx: &ProvisionContext<'_>) -> anyhow::Result<()> {
        let comm = ctx.comm.ok_or_else(|| {
            anyhow::anyhow!("the shell provisioner needs a communicator, and this build has none (communicator = \"none\"); use shell-local to run commands on this machine")
        })?;
        let env = self.environment(ctx);
        for script in self.scripts()? {
            self.run_script(ctx, comm, &script, &env).await?;
        }
        if let Some(pause) = self.config.pause_after {
            ctx.build.ui.message(format!("Pausing {pause:?} after the scripts (pause_after)"));
            bake_sdk::cancel::sleep(pause, &ctx.build.cancel).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_becomes_lf() {
        assert_eq!(unix_line_endings(b"a\r\nb\rc\r\n"), b"a\nb\rc\n");
    }
}
