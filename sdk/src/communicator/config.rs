//! The communicator options every builder takes: Packer's
//! `communicator.Config` (`communicator`, `pause_before_connecting`, the
//! `ssh_*` and `winrm_*` keys), decoded once for all builders.
//!
//! A builder's own options are a serde struct with `deny_unknown_fields`,
//! and serde's `flatten` does not work with that. So the body is split by
//! key instead: [`decode_with_communicator`] takes the communicator keys out,
//! decodes them here and the rest into the builder's struct, and an unknown
//! key is compared with both key sets for its "did you mean".
//!
//! Every option Packer has is accepted. Those bake does not implement yet
//! are an error at their attribute when set to anything but their default,
//! never silently ignored.

use crate::config::{decode_part, decode_split, field_names};
use crate::ssh::{Bastion, PrivateKeySource, SshAuth, SshConfig};
use bake_lang::diag::{Diagnostic, Diagnostics};
use bake_lang::eval::EvalBody;
use bake_lang::Span;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The kinds of communicator a template can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    None,
    Ssh,
    WinRm,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::None => "none",
            Kind::Ssh => "ssh",
            Kind::WinRm => "winrm",
        }
    }
}

/// What a builder offers, and what it fills in itself.
#[derive(Clone, Copy, Debug)]
pub struct Support {
    /// The communicators the builder can use.
    pub kinds: &'static [Kind],
    /// Without `communicator`.
    pub default: Kind,
    /// The builder knows the machine's address (a VM's forwarded port), so
    /// `ssh_host` may be left out.
    pub host_from_builder: bool,
    /// The builder makes a key pair for the build when no credential is
    /// given, so none is required.
    pub generates_key: bool,
    /// The builder's machines get their key from a cloud key pair (EC2's),
    /// so `ssh_keypair_name` and the `temporary_key_pair_*` options are its
    /// own ([`CommunicatorConfig::key_pair`]); elsewhere they are refused.
    pub cloud_key_pairs: bool,
}

/// The cloud key pair options (Packer's `ssh_keypair_name`,
/// `temporary_key_pair_name`, `temporary_key_pair_type`,
/// `temporary_key_pair_bits`), for builders with [`Support::cloud_key_pairs`].
#[derive(Clone, Debug, Default)]
pub struct KeyPairOptions {
    /// An existing key pair the machine is started with; its private key is
    /// `ssh_private_key_file` (or the agent's).
    pub existing: Option<String>,
    /// The name of the temporary key pair, when the template chooses it.
    pub temporary_name: Option<String>,
    /// `rsa` (Packer's default) or `ed25519`.
    pub temporary_type: String,
}

/// The decoded communicator options.
#[derive(Clone, Debug)]
pub struct CommunicatorConfig {
    pub kind: Kind,
    /// The SSH settings, checked when `kind` is SSH. `host` is empty when
    /// `ssh_host` was not set (the builder fills it in).
    pub ssh: SshConfig,
    /// The WinRM options: decoded so that templates written for Packer
    /// validate, but bake has no WinRM communicator yet.
    pub winrm: WinRm,
    /// The cloud key pair options; all unset unless the builder has
    /// [`Support::cloud_key_pairs`].
    pub key_pair: KeyPairOptions,
}

impl CommunicatorConfig {
    /// No password, key or agent: the builder's generated key is the only
    /// way in (when `generates_key`).
    pub fn needs_generated_key(&self) -> bool {
        self.kind == Kind::Ssh && self.ssh.auth.is_empty()
    }
}

/// Packer's `communicator.WinRM` options.
#[derive(Clone, Debug, Default)]
pub struct WinRm {
    pub username: Option<String>,
    pub password: Option<String>,
    pub host: Option<String>,
    pub port: u16,
    pub timeout: Duration,
    pub use_ssl: bool,
    pub insecure: bool,
    pub use_ntlm: bool,
    pub no_proxy: bool,
}

/// The template's keys, as Packer names them (its `FlatConfig`).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Raw {
    communicator: Option<String>,
    pause_before_connecting: Option<String>,
    screenshot_dir: Option<String>,

    ssh_host: Option<String>,
    ssh_port: Option<u16>,
    ssh_username: Option<String>,
    ssh_password: Option<String>,
    ssh_private_key_file: Option<String>,
    ssh_certificate_file: Option<String>,
    #[serde(default)]
    ssh_agent_auth: bool,
    ssh_timeout: Option<String>,
    ssh_wait_timeout: Option<String>,
    ssh_handshake_attempts: Option<u32>,
    ssh_keep_alive_interval: Option<String>,
    ssh_read_write_timeout: Option<String>,
    #[serde(default)]
    ssh_pty: bool,
    #[serde(default)]
    ssh_disable_agent_forwarding: bool,
    ssh_file_transfer_method: Option<String>,
    #[serde(default)]
    ssh_ciphers: Vec<String>,
    #[serde(default)]
    ssh_key_exchange_algorithms: Vec<String>,
    #[serde(default)]
    ssh_clear_authorized_keys: bool,

    ssh_bastion_host: Option<String>,
    ssh_bastion_port: Option<u16>,
    ssh_bastion_username: Option<String>,
    ssh_bastion_password: Option<String>,
    ssh_bastion_private_key_file: Option<String>,
    ssh_bastion_certificate_file: Option<String>,
    #[serde(default)]
    ssh_bastion_agent_auth: bool,
    #[serde(default)]
    ssh_bastion_interactive: bool,

    ssh_proxy_host: Option<String>,
    ssh_proxy_port: Option<u16>,
    ssh_proxy_username: Option<String>,
    ssh_proxy_password: Option<String>,
    #[serde(default)]
    ssh_local_tunnels: Vec<String>,
    #[serde(default)]
    ssh_remote_tunnels: Vec<String>,

    ssh_keypair_name: Option<String>,
    temporary_key_pair_name: Option<String>,
    temporary_key_pair_type: Option<String>,
    temporary_key_pair_bits: Option<u32>,
    /// Packer internals (the key pair as bytes), settable in a template.
    #[serde(default)]
    ssh_public_key: Vec<u8>,
    #[serde(default)]
    ssh_private_key: Vec<u8>,

    winrm_username: Option<String>,
    winrm_password: Option<String>,
    winrm_host: Option<String>,
    winrm_port: Option<u16>,
    winrm_timeout: Option<String>,
    #[serde(default)]
    winrm_use_ssl: bool,
    #[serde(default)]
    winrm_insecure: bool,
    #[serde(default)]
    winrm_use_ntlm: bool,
    #[serde(default)]
    winrm_no_proxy: bool,
}

/// Every communicator key a template may set.
pub fn keys() -> &'static [&'static str] {
    field_names::<Raw>()
}

/// Decodes a builder's body: the communicator keys here, the rest into
/// `T`. Every problem of both is reported, each at its attribute.
pub fn decode_with_communicator<T: DeserializeOwned>(body: &EvalBody, what: &str, support: &Support) -> Result<(T, CommunicatorConfig), Diagnostics> {
    decode_with_communicator_among(body, what, support, &[])
}

/// As [`decode_with_communicator`], for a body whose other shared groups
/// were taken out already (`also_known`: their keys, for "did you mean").
pub fn decode_with_communicator_among<T: DeserializeOwned>(
    body: &EvalBody,
    what: &str,
    support: &Support,
    also_known: &[&'static str],
) -> Result<(T, CommunicatorConfig), Diagnostics> {
    let known: Vec<&'static str> = keys().iter().chain(also_known).copied().collect();
    decode_split(
        body,
        keys(),
        |ours| decode_part::<Raw>(ours, what, &[]).and_then(|raw| Checker::new(body, what).check(raw, support)),
        |rest| decode_part::<T>(rest, what, &known),
    )
}

/// Checks the decoded keys, collecting every problem.
struct Checker<'a> {
    body: &'a EvalBody,
    what: &'a str,
    diags: Diagnostics,
}

impl<'a> Checker<'a> {
    fn new(body: &'a EvalBody, what: &'a str) -> Checker<'a> {
        Checker { body, what, diags: Diagnostics::new() }
    }

    fn at(&self, key: &str) -> Span {
        crate::config::span_of(self.body, key)
    }

    fn error(&mut self, key: &str, summary: &str, detail: String) -> &mut Diagnostic {
        let d = Diagnostic::error(summary, detail).at(self.at(key));
        self.diags.push(d);
        self.diags.0.last_mut().expect("just pushed")
    }

    /// An option bake does not implement yet, set to something else than
    /// its default.
    fn unsupported(&mut self, key: &str, help: &str) {
        let what = self.what.to_string();
        self.error(key, "Option not supported yet", format!("bake does not support \"{key}\" yet (in {what}).")).help = Some(help.to_string());
    }

    fn missing(&mut self, key: &str, kind: Kind, help: &str) {
        let detail = format!("The argument \"{key}\" is required in {} with communicator = \"{}\".", self.what, kind.name());
        self.error("communicator", "Missing required argument", detail).help = Some(help.to_string());
    }

    fn duration(&mut self, key: &str, value: &Option<String>) -> Option<Duration> {
        let text = value.as_ref()?;
        match crate::duration::parse(text) {
            Ok(d) => Some(d),
            Err(e) => {
                self.error(key, "Invalid duration", format!("{key}: {e}"));
                None
            }
        }
    }

    /// A file that must exist; `None` when unset.
    fn file(&mut self, key: &str, value: &Option<String>) -> Option<PathBuf> {
        let path = expand_user(value.as_ref()?);
        if !path.is_file() {
            self.error(key, "File not found", format!("{key} \"{}\" does not exist or is not a file.", path.display()));
        }
        Some(path)
    }

    fn check(mut self, raw: Raw, support: &Support) -> Result<CommunicatorConfig, Diagnostics> {
        let kind = self.kind(raw.communicator.as_deref(), support);
        let ssh = self.ssh(&raw, kind, support);
        if !support.cloud_key_pairs {
            self.unsupported_key_pairs(&raw);
        }
        let winrm = self.winrm(&raw);
        let key_pair = if support.cloud_key_pairs { self.key_pair(&raw) } else { KeyPairOptions::default() };
        if kind == Some(Kind::WinRm) {
            let detail = format!("{} sets communicator = \"winrm\", but bake has no WinRM communicator yet.", self.what);
            self.error("communicator", "WinRM is not supported yet", detail).help = Some(
                "use communicator = \"ssh\" (Windows Server 2019 and later ship OpenSSH Server), or \"none\" with provisioners that need no connection".into(),
            );
        }
        if self.diags.has_errors() {
            return Err(self.diags);
        }
        Ok(CommunicatorConfig { kind: kind.unwrap_or(support.default), ssh, winrm, key_pair })
    }

    fn kind(&mut self, name: Option<&str>, support: &Support) -> Option<Kind> {
        let Some(name) = name else { return Some(support.default) };
        let kind = [Kind::None, Kind::Ssh, Kind::WinRm].into_iter().find(|k| k.name() == name);
        match kind {
            // WinRM is reported by `check` with what to do instead.
            Some(k) if support.kinds.contains(&k) || k == Kind::WinRm => Some(k),
            _ => {
                let names: Vec<String> = support.kinds.iter().map(|k| format!("\"{}\"", k.name())).collect();
                let detail = format!("communicator must be {}, not \"{name}\" (in {}).", or_list(&names), self.what);
                self.error("communicator", "Invalid communicator", detail);
                None
            }
        }
    }

    fn ssh(&mut self, raw: &Raw, kind: Option<Kind>, support: &Support) -> SshConfig {
        let defaults = SshConfig::default();
        if kind == Some(Kind::Ssh) {
            if raw.ssh_username.as_deref().is_none_or(str::is_empty) {
                self.missing("ssh_username", Kind::Ssh, "set ssh_username to the user to log in as");
            }
            if !support.host_from_builder && raw.ssh_host.as_deref().is_none_or(str::is_empty) {
                self.missing("ssh_host", Kind::Ssh, "set ssh_host to the address of the machine to provision");
            }
            if !support.generates_key && raw.ssh_password.is_none() && raw.ssh_private_key_file.is_none() && !raw.ssh_agent_auth {
                self.missing(
                    "ssh_password or ssh_private_key_file",
                    Kind::Ssh,
                    "set ssh_private_key_file to a private key the host accepts, ssh_password, or ssh_agent_auth = true",
                );
            }
        }
        let (private_key, certificate) =
            self.key_files(("ssh_private_key_file", &raw.ssh_private_key_file), ("ssh_certificate_file", &raw.ssh_certificate_file));
        let auth = SshAuth {
            password: raw.ssh_password.clone(),
            private_key: private_key.map(PrivateKeySource::File),
            certificate,
            agent: self.agent("ssh_agent_auth", raw.ssh_agent_auth),
        };
        // Packer: ssh_timeout defaults to 5m and ssh_handshake_attempts to
        // 10 only when neither is set; with one set, the other is no limit.
        // The old name ssh_wait_timeout wins over ssh_timeout, as there.
        let timeout = self.duration("ssh_wait_timeout", &raw.ssh_wait_timeout).or(self.duration("ssh_timeout", &raw.ssh_timeout));
        let (timeout, handshake_attempts) = match (timeout, raw.ssh_handshake_attempts) {
            (None, None) => (defaults.timeout, defaults.handshake_attempts),
            (Some(t), attempts) => (t, attempts.unwrap_or(0)),
            (None, Some(attempts)) => (crate::ssh::NO_TIMEOUT, attempts),
        };
        let keepalive_interval = self.keepalive(&raw.ssh_keep_alive_interval).unwrap_or(defaults.keepalive_interval);
        let read_write_timeout = self.duration("ssh_read_write_timeout", &raw.ssh_read_write_timeout).filter(|d| !d.is_zero());
        let pause_before_connecting = self.duration("pause_before_connecting", &raw.pause_before_connecting).unwrap_or_default();
        let ciphers = self.algorithms("ssh_ciphers", &raw.ssh_ciphers, crate::ssh::supported_ciphers());
        let key_exchange_algorithms = self.algorithms("ssh_key_exchange_algorithms", &raw.ssh_key_exchange_algorithms, crate::ssh::supported_key_exchanges());
        match raw.ssh_file_transfer_method.as_deref() {
            None | Some("sftp") => {}
            Some("scp") => self.unsupported("ssh_file_transfer_method", "bake copies files with SFTP: remove the option or set it to \"sftp\""),
            Some(other) => {
                self.error(
                    "ssh_file_transfer_method",
                    "Invalid ssh_file_transfer_method",
                    format!("ssh_file_transfer_method must be \"sftp\" or \"scp\", not \"{other}\"."),
                );
            }
        }
        let bastion = self.bastion(raw, &auth);
        let proxy = self.proxy(raw, bastion.is_some());
        self.unsupported_options(raw);
        SshConfig {
            host: raw.ssh_host.clone().unwrap_or_default(),
            port: raw.ssh_port.unwrap_or(defaults.port),
            username: raw.ssh_username.clone().unwrap_or_default(),
            auth,
            timeout,
            handshake_attempts,
            pause_before_connecting,
            keepalive_interval,
            read_write_timeout,
            pty: raw.ssh_pty,
            ciphers,
            key_exchange_algorithms,
            bastion,
            // As Packer: the running agent, if any, unless disabled.
            forward_agent: (!raw.ssh_disable_agent_forwarding).then(agent_socket).flatten(),
            proxy,
        }
    }

    /// A private key and its certificate, for the machine or the bastion:
    /// each file must exist, and be what it says.
    fn key_files(&mut self, key: (&str, &Option<String>), certificate: (&str, &Option<String>)) -> (Option<PathBuf>, Option<PathBuf>) {
        let private_key = self.file(key.0, key.1);
        let certificate_file = self.file(certificate.0, certificate.1);
        match (&private_key, &certificate_file) {
            (None, Some(_)) => {
                let detail = format!("{} is the certificate of a private key: set {} too.", certificate.0, key.0);
                self.error(certificate.0, "Certificate without its key", detail);
            }
            (Some(k), Some(c)) if k.is_file() && c.is_file() => {
                if let Err(e) = crate::ssh::check_certificate(k, c) {
                    self.error(certificate.0, "Invalid certificate", format!("{}: {e}", certificate.0));
                }
            }
            (Some(k), None) if k.is_file() => {
                if let Err(e) = crate::ssh::check_private_key(k) {
                    self.error(key.0, "Invalid private key", e.to_string());
                }
            }
            _ => {}
        }
        (private_key, certificate_file)
    }

    /// `ssh_agent_auth` / `ssh_bastion_agent_auth`: the agent's socket.
    fn agent(&mut self, name: &str, wanted: bool) -> Option<PathBuf> {
        if !wanted {
            return None;
        }
        let socket = agent_socket();
        if socket.is_none() {
            self.error(name, "No SSH agent", format!("{name} = true, but SSH_AUTH_SOCK is not set.")).help =
                Some("start an agent and add the key (eval $(ssh-agent); ssh-add KEY) in the shell that runs bake".into());
        }
        socket
    }

    /// Packer: zero means the default (5s), a negative value disables.
    fn keepalive(&mut self, value: &Option<String>) -> Option<Duration> {
        match value.as_deref().map(str::trim) {
            Some(negative) if negative.starts_with('-') => self.duration("ssh_keep_alive_interval", &Some(negative[1..].to_string())).map(|_| Duration::ZERO),
            _ => self.duration("ssh_keep_alive_interval", value).filter(|d| !d.is_zero()),
        }
    }

    fn algorithms(&mut self, key: &str, names: &[String], supported: Vec<&'static str>) -> Vec<String> {
        for name in names {
            if !supported.contains(&name.as_str()) {
                let detail = format!("{key}: bake does not support \"{name}\". Supported: {}.", supported.join(", "));
                self.error(key, "Unsupported algorithm", detail);
            }
        }
        names.to_vec()
    }

    fn bastion(&mut self, raw: &Raw, machine: &SshAuth) -> Option<Bastion> {
        let host = raw.ssh_bastion_host.clone().filter(|h| !h.is_empty());
        let Some(host) = host else {
            for key in ["ssh_bastion_username", "ssh_bastion_password", "ssh_bastion_private_key_file", "ssh_bastion_certificate_file"] {
                if self.body.attributes.contains_key(key) {
                    let detail = format!("{key} is set, but no ssh_bastion_host to use it with.");
                    self.error(key, "Bastion option without a bastion", detail).help = Some("set ssh_bastion_host, or remove the ssh_bastion_* options".into());
                }
            }
            return None;
        };
        if raw.ssh_bastion_interactive {
            self.unsupported(
                "ssh_bastion_interactive",
                "bake cannot ask for keyboard-interactive answers; use ssh_bastion_password, ssh_bastion_private_key_file or ssh_bastion_agent_auth",
            );
        }
        // Packer: the bastion falls back to the machine's key and
        // certificate (checked already, when both are the machine's).
        let (key, certificate) = match (&raw.ssh_bastion_private_key_file, &raw.ssh_bastion_certificate_file) {
            (None, None) => (machine.private_key.clone(), machine.certificate.clone()),
            (key, cert) => {
                let key = if key.is_some() { ("ssh_bastion_private_key_file", key) } else { ("ssh_private_key_file", &raw.ssh_private_key_file) };
                let cert = if cert.is_some() { ("ssh_bastion_certificate_file", cert) } else { ("ssh_certificate_file", &raw.ssh_certificate_file) };
                let (key, cert) = self.key_files(key, cert);
                (key.map(PrivateKeySource::File), cert)
            }
        };
        if raw.ssh_bastion_password.is_none() && key.is_none() && !raw.ssh_bastion_agent_auth {
            self.error("ssh_bastion_host", "Missing bastion credentials", "ssh_bastion_host needs credentials for the bastion.".into()).help =
                Some("set ssh_bastion_password, ssh_bastion_private_key_file or ssh_bastion_agent_auth = true".into());
        }
        let agent = self.agent("ssh_bastion_agent_auth", raw.ssh_bastion_agent_auth);
        let auth = SshAuth { password: raw.ssh_bastion_password.clone(), private_key: key, certificate, agent };
        let username = raw.ssh_bastion_username.clone().unwrap_or_default();
        if username.is_empty() {
            self.error(
                "ssh_bastion_host",
                "Missing ssh_bastion_username",
                "ssh_bastion_host needs ssh_bastion_username, the user to log in to the bastion as.".into(),
            );
        }
        Some(Bastion { host, port: raw.ssh_bastion_port.unwrap_or(22), username, auth })
    }

    /// `ssh_proxy_host` and `ssh_proxy_port` (default 1080).
    fn proxy(&mut self, raw: &Raw, bastion: bool) -> Option<(String, u16)> {
        let Some(host) = raw.ssh_proxy_host.clone().filter(|h| !h.is_empty()) else {
            if raw.ssh_proxy_port.is_some() {
                self.error("ssh_proxy_port", "Proxy port without a proxy", "ssh_proxy_port is set, but no ssh_proxy_host.".into());
            }
            return None;
        };
        if bastion {
            self.error("ssh_proxy_host", "Conflicting arguments", "Set either ssh_bastion_host or ssh_proxy_host, not both.".into());
        }
        Some((host, raw.ssh_proxy_port.unwrap_or(1080)))
    }

    /// Packer's options bake does not implement: only their defaults pass.
    fn unsupported_options(&mut self, raw: &Raw) {
        for (key, value) in [("ssh_proxy_username", &raw.ssh_proxy_username), ("ssh_proxy_password", &raw.ssh_proxy_password)] {
            if value.is_some() {
                self.unsupported(
                    key,
                    "bake speaks to SOCKS proxies without authentication: remove the proxy's user name and password, or use ssh_bastion_host",
                );
            }
        }
        if !raw.ssh_local_tunnels.is_empty() {
            self.unsupported("ssh_local_tunnels", "remove ssh_local_tunnels; a provisioner can open its own tunnel with ssh -L");
        }
        if !raw.ssh_remote_tunnels.is_empty() {
            self.unsupported("ssh_remote_tunnels", "remove ssh_remote_tunnels; a provisioner can open its own tunnel with ssh -R");
        }
        if raw.ssh_clear_authorized_keys {
            self.unsupported("ssh_clear_authorized_keys", "remove it, or end with a shell provisioner that removes the key from ~/.ssh/authorized_keys");
        }
        if !raw.ssh_public_key.is_empty() || !raw.ssh_private_key.is_empty() {
            let key = if raw.ssh_public_key.is_empty() { "ssh_private_key" } else { "ssh_public_key" };
            self.unsupported(key, "give the key with ssh_private_key_file");
        }
        if raw.screenshot_dir.is_some() {
            self.unsupported("screenshot_dir", "remove screenshot_dir");
        }
    }

    /// The key pair options where no cloud key pair exists: bake's own
    /// generated key is an ed25519 key without a name.
    fn unsupported_key_pairs(&mut self, raw: &Raw) {
        if raw.ssh_keypair_name.is_some() {
            self.unsupported("ssh_keypair_name", "ssh_keypair_name names a cloud key pair; give the key with ssh_private_key_file");
        }
        if raw.temporary_key_pair_name.is_some() {
            self.unsupported("temporary_key_pair_name", "remove it: bake's generated key pair has no name");
        }
        match raw.temporary_key_pair_type.as_deref() {
            None | Some("ed25519") => {}
            Some(_) => self.unsupported("temporary_key_pair_type", "bake generates ed25519 key pairs: remove the option or set it to \"ed25519\""),
        }
        // Packer ignores the bits of an ed25519 key; bake's are always ed25519.
        if raw.temporary_key_pair_bits.is_some() && raw.temporary_key_pair_type.as_deref() != Some("ed25519") {
            self.unsupported("temporary_key_pair_bits", "bake generates ed25519 key pairs, which have a fixed size: remove temporary_key_pair_bits");
        }
    }

    /// The key pair options of a builder whose machines get a cloud key
    /// pair: its types are EC2's.
    fn key_pair(&mut self, raw: &Raw) -> KeyPairOptions {
        let temporary_type = raw.temporary_key_pair_type.clone().unwrap_or_else(|| "rsa".into());
        if !["rsa", "ed25519"].contains(&temporary_type.as_str()) {
            self.error(
                "temporary_key_pair_type",
                "Invalid temporary_key_pair_type",
                format!("temporary_key_pair_type must be \"rsa\" or \"ed25519\", not \"{temporary_type}\" (in {}).", self.what),
            );
        }
        if raw.temporary_key_pair_bits.is_some_and(|bits| temporary_type == "rsa" && bits != 2048) {
            self.unsupported(
                "temporary_key_pair_bits",
                "EC2 makes 2048-bit RSA key pairs: remove temporary_key_pair_bits, or use temporary_key_pair_type = \"ed25519\"",
            );
        }
        if raw.ssh_keypair_name.is_some() && raw.ssh_private_key_file.is_none() && !raw.ssh_agent_auth {
            self.error(
                "ssh_keypair_name",
                "Key pair without its private key",
                format!("{} names the key pair \"{}\" but not its private key.", self.what, raw.ssh_keypair_name.as_deref().unwrap_or_default()),
            )
            .help = Some("set ssh_private_key_file to the key pair's private key, or ssh_agent_auth = true when an agent holds it".into());
        }
        KeyPairOptions { existing: raw.ssh_keypair_name.clone(), temporary_name: raw.temporary_key_pair_name.clone(), temporary_type }
    }

    fn winrm(&mut self, raw: &Raw) -> WinRm {
        let port = raw.winrm_port.unwrap_or(if raw.winrm_use_ssl { 5986 } else { 5985 });
        WinRm {
            username: raw.winrm_username.clone(),
            password: raw.winrm_password.clone(),
            host: raw.winrm_host.clone(),
            port,
            timeout: self.duration("winrm_timeout", &raw.winrm_timeout).unwrap_or(Duration::from_secs(30 * 60)),
            use_ssl: raw.winrm_use_ssl,
            insecure: raw.winrm_insecure,
            use_ntlm: raw.winrm_use_ntlm,
            no_proxy: raw.winrm_no_proxy,
        }
    }
}

/// The running agent's socket (`SSH_AUTH_SOCK`).
fn agent_socket() -> Option<PathBuf> {
    std::env::var_os("SSH_AUTH_SOCK").filter(|s| !s.is_empty()).map(PathBuf::from)
}

/// `"a"`, `"a" or "b"`, `"a", "b" or "c"`.
fn or_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// `~/x` as Packer expands it: in the home directory of the current user.
fn expand_user(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => Path::new(&home).join(rest),
        _ => PathBuf::from(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bake_lang::eval::Evaluator;
    use bake_lang::parse::parse_file;
    use bake_lang::SourceMap;

    /// A builder's own options, for the split.
    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    struct Builder {
        #[serde(default)]
        disk_size: u64,
    }

    const NULL_LIKE: Support =
        Support { kinds: &[Kind::None, Kind::Ssh], default: Kind::None, host_from_builder: false, generates_key: false, cloud_key_pairs: false };
    const VM_LIKE: Support =
        Support { kinds: &[Kind::None, Kind::Ssh], default: Kind::Ssh, host_from_builder: true, generates_key: true, cloud_key_pairs: false };

    fn decode(src: &str, support: &Support) -> Result<(Builder, CommunicatorConfig), String> {
        let sources = SourceMap::new();
        let file = sources.add("c.pkr.hcl", src);
        let body = parse_file(&sources, file).unwrap();
        let ev = Evaluator::new(sources.clone(), std::env::temp_dir(), std::time::SystemTime::UNIX_EPOCH);
        let body = ev.eval_body(&body).unwrap();
        decode_with_communicator(&body, "source \"x.y\"", support).map_err(|d| d.render(&sources))
    }

    fn ssh(src: &str) -> SshConfig {
        decode(src, &VM_LIKE).unwrap_or_else(|e| panic!("{e}")).1.ssh
    }

    fn error(src: &str, support: &Support) -> String {
        match decode(src, support) {
            Ok(_) => panic!("decoded, but should not have:\n{src}"),
            Err(e) => e,
        }
    }

    #[test]
    fn splits_the_body_and_suggests_from_both_key_sets() {
        let (b, c) = decode("disk_size = 4\nssh_username = \"u\"\nssh_port = 2200\n", &VM_LIKE).unwrap();
        assert_eq!((b.disk_size, c.kind, c.ssh.username.as_str(), c.ssh.port), (4, Kind::Ssh, "u", 2200));
        let e = error("ssh_username = \"u\"\nssh_usrname = \"u\"\n", &VM_LIKE);
        assert!(e.contains("c.pkr.hcl:2:1") && e.contains("did you mean \"ssh_username\"?"), "{e}");
        let e = error("ssh_username = \"u\"\ndisk_sise = 1\n", &VM_LIKE);
        assert!(e.contains("c.pkr.hcl:2:1") && e.contains("did you mean \"disk_size\"?"), "{e}");
    }

    #[test]
    fn errors_of_both_parts_are_reported_together() {
        let e = error("disk_size = \"big\"\ncommunicator = \"ssh\"\nssh_username = \"u\"\nssh_timeout = \"soon\"\n", &VM_LIKE);
        assert!(e.contains("c.pkr.hcl:1:13") && e.contains("a number is required"), "{e}");
        assert!(e.contains("c.pkr.hcl:4:15") && e.contains("ssh_timeout: \"soon\" is not a duration"), "{e}");
    }

    #[test]
    fn one_message_for_an_invalid_communicator() {
        let e = error("communicator = \"telnet\"\n", &NULL_LIKE);
        assert!(e.contains("Invalid communicator") && e.contains("c.pkr.hcl:1:16"), "{e}");
        assert!(e.contains("communicator must be \"none\" or \"ssh\", not \"telnet\""), "{e}");
    }

    #[test]
    fn winrm_options_decode_but_the_winrm_communicator_is_refused() {
        let src = "ssh_username = \"u\"\nwinrm_username = \"Administrator\"\nwinrm_password = \"p\"\nwinrm_use_ssl = true\nwinrm_insecure = true\nwinrm_timeout = \"1h\"\nwinrm_use_ntlm = true\nwinrm_no_proxy = true\nwinrm_host = \"h\"\n";
        let (_, c) = decode(src, &VM_LIKE).unwrap();
        assert_eq!((c.kind, c.winrm.port, c.winrm.timeout, c.winrm.username.as_deref()), (Kind::Ssh, 5986, Duration::from_secs(3600), Some("Administrator")));
        let e = error(&format!("communicator = \"winrm\"\n{src}"), &VM_LIKE);
        assert!(e.contains("WinRM is not supported yet") && e.contains("c.pkr.hcl:1:16") && e.contains("communicator = \"ssh\""), "{e}");
    }

    #[test]
    fn missing_settings_are_named_at_the_communicator() {
        let e = error("communicator = \"ssh\"\n", &NULL_LIKE);
        for needed in ["\"ssh_username\" is required", "\"ssh_host\" is required", "ssh_password or ssh_private_key_file"] {
            assert!(e.contains(needed), "{needed}: {e}");
        }
        assert!(e.contains("c.pkr.hcl:1:16"), "{e}");
        // A VM builder knows the host and makes a key.
        let c = decode("ssh_username = \"u\"\n", &VM_LIKE).unwrap().1;
        assert!(c.needs_generated_key() && c.ssh.host.is_empty());
        // No communicator, nothing required.
        assert_eq!(decode("", &NULL_LIKE).unwrap().1.kind, Kind::None);
    }

    #[test]
    fn packer_timeout_and_attempt_defaults() {
        let both = ssh("ssh_username = \"u\"\n");
        assert_eq!((both.timeout, both.handshake_attempts), (Duration::from_secs(300), 10));
        let timeout = ssh("ssh_username = \"u\"\nssh_timeout = \"20m\"\n");
        assert_eq!((timeout.timeout, timeout.handshake_attempts), (Duration::from_secs(1200), 0));
        let attempts = ssh("ssh_username = \"u\"\nssh_handshake_attempts = 3\n");
        assert_eq!((attempts.timeout, attempts.handshake_attempts), (crate::ssh::NO_TIMEOUT, 3));
        let old = ssh("ssh_username = \"u\"\nssh_timeout = \"20m\"\nssh_wait_timeout = \"7m\"\n");
        assert_eq!(old.timeout, Duration::from_secs(420));
    }

    #[test]
    fn keepalive_read_write_timeout_pty() {
        let c = ssh("ssh_username = \"u\"\n");
        assert_eq!((c.keepalive_interval, c.read_write_timeout, c.pty), (Duration::from_secs(5), None, false));
        assert_eq!(ssh("ssh_username = \"u\"\nssh_keep_alive_interval = \"-1s\"\n").keepalive_interval, Duration::ZERO);
        assert_eq!(ssh("ssh_username = \"u\"\nssh_keep_alive_interval = \"0s\"\n").keepalive_interval, Duration::from_secs(5));
        assert_eq!(ssh("ssh_username = \"u\"\nssh_keep_alive_interval = \"30s\"\n").keepalive_interval, Duration::from_secs(30));
        let c = ssh("ssh_username = \"u\"\nssh_read_write_timeout = \"2m\"\nssh_pty = true\nssh_disable_agent_forwarding = true\n");
        assert_eq!((c.read_write_timeout, c.pty, c.forward_agent), (Some(Duration::from_secs(120)), true, None));
        let e = error("ssh_username = \"u\"\nssh_keep_alive_interval = \"-x\"\n", &VM_LIKE);
        assert!(e.contains("c.pkr.hcl:2:27") && e.contains("Invalid duration"), "{e}");
    }

    #[test]
    fn algorithms_are_checked_at_their_attribute() {
        let c = ssh("ssh_username = \"u\"\nssh_ciphers = [\"aes256-ctr\"]\nssh_key_exchange_algorithms = [\"curve25519-sha256\"]\n");
        assert_eq!((c.ciphers, c.key_exchange_algorithms), (vec!["aes256-ctr".to_string()], vec!["curve25519-sha256".to_string()]));
        let e = error("ssh_username = \"u\"\nssh_ciphers = [\"arcfour\"]\n", &VM_LIKE);
        assert!(e.contains("c.pkr.hcl:2:15") && e.contains("does not support \"arcfour\"") && e.contains("aes256-ctr"), "{e}");
    }

    #[test]
    fn options_not_implemented_fail_only_when_set() {
        let defaults = "ssh_username = \"u\"\nssh_clear_authorized_keys = false\nssh_file_transfer_method = \"sftp\"\nssh_local_tunnels = []\nssh_disable_agent_forwarding = true\ntemporary_key_pair_type = \"ed25519\"\ntemporary_key_pair_bits = 256\n";
        decode(defaults, &VM_LIKE).unwrap();
        for (line, col) in [
            ("ssh_proxy_username = \"someone\"\nssh_proxy_host = \"proxy\"", 22),
            ("ssh_local_tunnels = [\"8080:localhost:80\"]", 21),
            ("ssh_remote_tunnels = [\"8080:localhost:80\"]", 22),
            ("ssh_clear_authorized_keys = true", 29),
            ("ssh_file_transfer_method = \"scp\"", 28),
            ("ssh_keypair_name = \"k\"", 20),
            ("temporary_key_pair_type = \"rsa\"", 27),
            ("temporary_key_pair_bits = 4096", 27),
            ("ssh_bastion_interactive = true\nssh_bastion_host = \"b\"\nssh_bastion_username = \"u\"\nssh_bastion_password = \"p\"", 27),
            ("screenshot_dir = \"shots\"", 18),
        ] {
            let e = error(&format!("ssh_username = \"u\"\n{line}\n"), &VM_LIKE);
            let key = line.split(' ').next().unwrap();
            assert!(e.contains(&format!("c.pkr.hcl:2:{col}")) && e.contains(&format!("bake does not support \"{key}\" yet")), "{line}: {e}");
        }
        let e = error("ssh_username = \"u\"\nssh_file_transfer_method = \"ftp\"\n", &VM_LIKE);
        assert!(e.contains("must be \"sftp\" or \"scp\", not \"ftp\""), "{e}");
    }

    const CLOUD_LIKE: Support = Support { cloud_key_pairs: true, ..VM_LIKE };

    #[test]
    fn cloud_key_pairs_are_the_options_of_builders_that_have_them() {
        let (_, c) = decode("ssh_username = \"u\"\n", &CLOUD_LIKE).unwrap();
        assert_eq!((c.key_pair.existing, c.key_pair.temporary_type.as_str()), (None, "rsa"), "Packer's default type is rsa");
        let (_, c) = decode("ssh_username = \"u\"\ntemporary_key_pair_type = \"ed25519\"\ntemporary_key_pair_name = \"k\"\n", &CLOUD_LIKE).unwrap();
        assert_eq!((c.key_pair.temporary_name.as_deref(), c.key_pair.temporary_type.as_str()), (Some("k"), "ed25519"));
        let e = error("ssh_username = \"u\"\ntemporary_key_pair_type = \"dsa\"\n", &CLOUD_LIKE);
        assert!(e.contains("c.pkr.hcl:2:27") && e.contains("must be \"rsa\" or \"ed25519\", not \"dsa\""), "{e}");
        let e = error("ssh_username = \"u\"\nssh_keypair_name = \"deploy\"\n", &CLOUD_LIKE);
        assert!(e.contains("c.pkr.hcl:2:20") && e.contains("names the key pair \"deploy\" but not its private key"), "{e}");
    }

    #[test]
    fn proxy_options() {
        assert_eq!(ssh("ssh_username = \"u\"\nssh_proxy_host = \"socks\"\n").proxy, Some(("socks".to_string(), 1080)));
        assert_eq!(ssh("ssh_username = \"u\"\nssh_proxy_host = \"socks\"\nssh_proxy_port = 1081\n").proxy, Some(("socks".to_string(), 1081)));
        let e = error(
            "ssh_username = \"u\"\nssh_proxy_host = \"socks\"\nssh_bastion_host = \"b\"\nssh_bastion_username = \"u\"\nssh_bastion_password = \"p\"\n",
            &VM_LIKE,
        );
        assert!(e.contains("c.pkr.hcl:2:18") && e.contains("either ssh_bastion_host or ssh_proxy_host, not both"), "{e}");
        let e = error("ssh_username = \"u\"\nssh_proxy_port = 1081\n", &VM_LIKE);
        assert!(e.contains("c.pkr.hcl:2:18") && e.contains("no ssh_proxy_host"), "{e}");
    }

    #[test]
    fn bastion_options() {
        let dir = std::env::temp_dir().join(format!("bake-comm-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (private, _) = crate::ssh::generate_ed25519().unwrap();
        let key = dir.join("key");
        std::fs::write(&key, private).unwrap();
        let src = format!("ssh_username = \"u\"\nssh_private_key_file = \"{}\"\nssh_bastion_host = \"jump\"\nssh_bastion_username = \"b\"\n", key.display());
        let b = ssh(&src).bastion.expect("a bastion");
        // Packer: the bastion falls back to the machine's key.
        assert_eq!((b.host.as_str(), b.port, b.username.as_str()), ("jump", 22, "b"));
        assert!(matches!(&b.auth.private_key, Some(PrivateKeySource::File(p)) if *p == key));

        let e = error("ssh_username = \"u\"\nssh_bastion_host = \"jump\"\n", &VM_LIKE);
        assert!(e.contains("Missing bastion credentials") && e.contains("Missing ssh_bastion_username") && e.contains("c.pkr.hcl:2:20"), "{e}");
        let e = error("ssh_username = \"u\"\nssh_bastion_username = \"b\"\n", &VM_LIKE);
        assert!(e.contains("no ssh_bastion_host to use it with") && e.contains("c.pkr.hcl:2:24"), "{e}");
        let e = error(
            "ssh_username = \"u\"\nssh_bastion_host = \"jump\"\nssh_bastion_username = \"b\"\nssh_bastion_private_key_file = \"/nonexistent/k\"\n",
            &VM_LIKE,
        );
        assert!(e.contains("c.pkr.hcl:4:32") && e.contains("does not exist"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn key_and_certificate_files_are_checked_early() {
        let e = error("ssh_username = \"u\"\nssh_private_key_file = \"/nonexistent/key\"\n", &VM_LIKE);
        assert!(e.contains("c.pkr.hcl:2:24") && e.contains("\"/nonexistent/key\" does not exist"), "{e}");
        let dir = std::env::temp_dir().join(format!("bake-comm-cert-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (private, public) = crate::ssh::generate_ed25519().unwrap();
        std::fs::write(dir.join("key"), private).unwrap();
        std::fs::write(dir.join("not-a-key"), "hello").unwrap();
        std::fs::write(dir.join("key.pub"), public).unwrap();
        let e = error(&format!("ssh_username = \"u\"\nssh_private_key_file = \"{}\"\n", dir.join("not-a-key").display()), &VM_LIKE);
        assert!(e.contains("Invalid private key") && e.contains("not a private key"), "{e}");
        let src = format!(
            "ssh_username = \"u\"\nssh_private_key_file = \"{}\"\nssh_certificate_file = \"{}\"\n",
            dir.join("key").display(),
            dir.join("key.pub").display()
        );
        let e = error(&src, &VM_LIKE);
        assert!(e.contains("c.pkr.hcl:3:24") && e.contains("not an OpenSSH certificate"), "{e}");
        let e = error(&format!("ssh_username = \"u\"\nssh_certificate_file = \"{}\"\n", dir.join("key.pub").display()), &VM_LIKE);
        assert!(e.contains("Certificate without its key"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
