//! The qemu build, step by step. Every step records what it creates in the
//! state (and the journal) before it can be interrupted, and its cleanup
//! removes exactly that.
//!
//! One file per step, named after the step as the builder's list in
//! `lib.rs` reads it; this file holds the state they share and the helpers
//! more than one step uses.

mod compact;
mod connect_ssh;
mod create_cdroms;
mod create_disks;
mod create_floppy;
mod fetch_source;
mod finalize;
mod generate_key;
mod prepare_dirs;
mod prepare_firmware;
mod provision;
mod run_qemu;
mod shutdown;
mod start_http;
mod start_tpm;
mod type_boot_command;

pub use compact::Compact;
pub use connect_ssh::ConnectSsh;
pub use create_cdroms::CreateCdroms;
pub use create_disks::CreateDisks;
pub use create_floppy::CreateFloppy;
pub use fetch_source::FetchSource;
pub use finalize::Finalize;
pub use generate_key::GenerateKey;
pub use prepare_dirs::PrepareDirs;
pub use prepare_firmware::PrepareFirmware;
pub use provision::provision_steps;
pub use run_qemu::RunQemu;
pub use shutdown::Shutdown;
pub use start_http::StartHttp;
pub use start_tpm::StartTpm;
pub use type_boot_command::TypeBootCommand;

use crate::config::Prepared;
use crate::seed;
use bake_qemu_machine::vm::VmHandle;
use bake_sdk::journal::EntryId;
use bake_sdk::ssh::SshCommunicator;
use bake_sdk::ArtifactFile;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// The guest's view of the host under QEMU user networking.
pub const HTTP_IP: &str = "10.0.2.2";

#[derive(Default)]
pub struct State {
    /// Where outputs are assembled; renamed to `output_dir` at the very end
    /// so a failed build leaves nothing under the final name.
    pub partial_dir: PathBuf,
    pub output_dir: PathBuf,
    /// Sockets, logs, seeds: everything that is not an output.
    pub runtime_dir: PathBuf,
    pub vm_name: String,
    pub source_image: Option<PathBuf>,
    pub disks: Vec<PathBuf>,
    pub cdroms: Vec<PathBuf>,
    pub floppy: Option<PathBuf>,
    pub efi: Option<(PathBuf, PathBuf)>,
    pub swtpm: Option<crate::tpm::Swtpm>,
    pub http: Option<crate::http::HttpServer>,
    pub ssh_host_port: Option<u16>,
    pub vnc_port: Option<u16>,
    /// A key made for this build: (private OpenSSH text, public line).
    pub generated_key: Option<(String, String)>,
    pub accelerator: String,
    pub vm: Option<VmHandle>,
    pub comm: Option<Arc<SshCommunicator>>,
    pub files: Vec<ArtifactFile>,
    journal_ids: Vec<EntryId>,
}

impl State {
    fn serial_log(&self) -> PathBuf {
        self.runtime_dir.join("serial.log")
    }
}

/// Where SSH reaches the guest: `ssh_host` as given, or the host port
/// forwarded to the guest's SSH port.
fn ssh_address(p: &Prepared, s: &State) -> (String, u16) {
    let ssh = &p.comm.ssh;
    match (ssh.host.as_str(), s.ssh_host_port) {
        ("", Some(port)) => ("127.0.0.1".to_string(), port),
        ("", None) => ("127.0.0.1".to_string(), ssh.port),
        (host, _) => (host.to_string(), ssh.port),
    }
}

fn sanitize(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect()
}

/// The template's contents with `{{ .SSHPublicKey }}` filled in (empty
/// without a generated key, as in boot_command).
fn with_public_key(content: &BTreeMap<String, String>, s: &State) -> BTreeMap<String, String> {
    seed::with_public_key(content, s.generated_key.as_ref().map_or("", |k| k.1.as_str()))
}

/// Values for `{{ .Name }}` placeholders in boot_command and qemuargs.
fn template_values(s: &State) -> BTreeMap<&'static str, String> {
    let http_port = s.http.as_ref().map_or(0, |h| h.port());
    BTreeMap::from([
        ("HTTPIP", HTTP_IP.to_string()),
        ("HTTPPort", http_port.to_string()),
        ("Name", s.vm_name.clone()),
        ("SSHHostPort", s.ssh_host_port.map_or(String::new(), |p| p.to_string())),
        ("OutputDir", s.partial_dir.display().to_string()),
        ("SSHPublicKey", s.generated_key.as_ref().map_or(String::new(), |k| k.1.clone())),
    ])
}
