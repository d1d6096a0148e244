//! The qemu build, step by step. Every step records what it creates in the
//! state (and the journal) before it can be interrupted, and its cleanup
//! removes exactly that.

use crate::args::{self, Machine};
use crate::config::Prepared;
use crate::seed;
use crate::vm::{Launch, Vm, VmHandle};
use bake_sdk::communicator::config::Kind;
use bake_sdk::journal::{EntryId, Resource};
use bake_sdk::qemu_img;
use bake_sdk::ssh::{PrivateKeySource, SshCommunicator, SshConfig};
use bake_sdk::steps::Step;
use bake_sdk::{async_trait, ArtifactFile, BuildInfo, Communicator, GeneratedData, ProvisionHook};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

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

/// Process-wide reserved ports, so parallel builds in one bake never pick
/// the same one between choosing it and qemu binding it.
static RESERVED: Mutex<Vec<u16>> = Mutex::new(Vec::new());

/// A free TCP port in [min, max), reserved until released.
fn reserve_port(bind: &str, min: u16, max: u16) -> anyhow::Result<u16> {
    let mut reserved = RESERVED.lock().expect("port lock");
    let span = u32::from(max.saturating_sub(min)).max(1);
    let start = (std::process::id() + std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos())) % span;
    for i in 0..span {
        let port = min + ((start + i) % span) as u16;
        if reserved.contains(&port) {
            continue;
        }
        if std::net::TcpListener::bind((bind, port)).is_ok() {
            reserved.push(port);
            return Ok(port);
        }
    }
    anyhow::bail!("no free port between {min} and {max} on {bind}")
}

fn release_port(port: Option<u16>) {
    if let Some(p) = port {
        RESERVED.lock().expect("port lock").retain(|r| *r != p);
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

/// The private key the build logs in with: the generated one, or the
/// `ssh_private_key_file`'s text (for `build.SSHPrivateKey`).
fn private_key_text(p: &Prepared, s: &State) -> String {
    match (&s.generated_key, &p.comm.ssh.auth.private_key) {
        (Some((private, _)), _) => private.clone(),
        (None, Some(PrivateKeySource::File(f))) => std::fs::read_to_string(f).unwrap_or_default(),
        (None, Some(PrivateKeySource::Text(text))) => text.clone(),
        (None, None) => String::new(),
    }
}

fn tail(path: &Path, lines: usize) -> Vec<String> {
    let text = std::fs::read(path).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
    let all: Vec<String> = text.lines().map(|l| l.trim_end_matches('\r').to_string()).filter(|l| !l.trim().is_empty()).collect();
    all[all.len().saturating_sub(lines)..].to_vec()
}

pub struct PrepareDirs {
    pub p: Arc<Prepared>,
}

#[async_trait]
impl Step<State> for PrepareDirs {
    fn name(&self) -> String {
        "Preparing the output directory".into()
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        s.vm_name = self.p.vm_name(&b.source_name);
        s.output_dir = PathBuf::from(self.p.output_directory(&b.source_name));
        if s.output_dir.exists() && !b.force {
            anyhow::bail!("the output directory {} already exists; remove it or run with -force", s.output_dir.display());
        }
        let parent = s.output_dir.parent().filter(|p| !p.as_os_str().is_empty()).map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        std::fs::create_dir_all(&parent)?;
        let parent = std::fs::canonicalize(&parent)?;
        let name = s.output_dir.file_name().map_or("output".into(), |n| n.to_string_lossy().into_owned());
        s.partial_dir = parent.join(format!(".{name}.partial-{}", std::process::id()));
        s.runtime_dir = std::env::temp_dir().join(format!("bake-qemu-{}-{}", &b.run_uuid[..8.min(b.run_uuid.len())], sanitize(&b.name)));
        for dir in [s.partial_dir.clone(), s.runtime_dir.clone()] {
            // Journalled first: after a crash `bake cleanup` removes it.
            s.journal_ids.push(b.journal.record(&b.name, Resource::Path { path: dir.clone() })?);
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir)?;
        }
        Ok(())
    }

    async fn cleanup(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        // The partial directory is gone after a successful rename.
        let _ = std::fs::remove_dir_all(&s.partial_dir);
        let _ = std::fs::remove_dir_all(&s.runtime_dir);
        for id in s.journal_ids.drain(..) {
            let _ = b.journal.release(id);
        }
        Ok(())
    }
}

fn sanitize(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect()
}

pub struct FetchSource {
    pub p: Arc<Prepared>,
}

#[async_trait]
impl Step<State> for FetchSource {
    fn name(&self) -> String {
        "Fetching the source image".into()
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let c = &self.p.config;
        let checksum = crate::download::parse_checksum(c.iso_checksum.as_deref().unwrap_or("none")).map_err(anyhow::Error::msg)?;
        let path =
            crate::download::fetch(&self.p.iso_urls, &checksum, c.iso_target_path.as_deref().map(Path::new), &c.iso_target_extension, &b.ui, &b.cancel).await?;
        b.ui.message(format!("Source image: {}", path.display()));
        s.source_image = Some(std::fs::canonicalize(&path).unwrap_or(path));
        Ok(())
    }
}

pub struct CreateDisks {
    pub p: Arc<Prepared>,
}

#[async_trait]
impl Step<State> for CreateDisks {
    fn name(&self) -> String {
        "Creating the disks".into()
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let c = &self.p.config;
        let main = s.partial_dir.join(&s.vm_name);
        let source = s.source_image.clone().expect("fetched before");
        if c.disk_image {
            let (src_format, src_size) = qemu_img::info(&source).await?;
            if c.use_backing_file {
                b.ui.message(format!("Creating an overlay on {}", source.display()));
                let size = if self.p.disk_size_bytes > src_size { self.p.disk_size.clone() } else { src_size.to_string() };
                qemu_img::create(&main, "qcow2", &size, Some((&source, &src_format))).await?;
            } else {
                b.ui.message(format!("Copying {} ({src_format}) to a new {} disk", source.display(), c.format));
                qemu_img::convert(&source, &main, &c.format, false).await?;
                if !c.skip_resize_disk {
                    if self.p.disk_size_bytes > src_size {
                        qemu_img::resize(&main, &c.format, &self.p.disk_size).await?;
                    } else if self.p.disk_size_bytes < src_size {
                        b.ui.message(format!("disk_size {} is smaller than the image ({} bytes); keeping the image's size", self.p.disk_size, src_size));
                    }
                }
            }
        } else {
            qemu_img::create(&main, &c.format, &self.p.disk_size, None).await?;
            s.cdroms.push(source);
        }
        s.disks.push(main);
        for (i, size) in c.disk_additional_size.iter().enumerate() {
            let extra = s.partial_dir.join(format!("{}-{}", s.vm_name, i + 1));
            qemu_img::create(&extra, &c.format, size, None).await?;
            s.disks.push(extra);
        }
        Ok(())
    }
}

pub struct PrepareFirmware {
    pub p: Arc<Prepared>,
}

#[async_trait]
impl Step<State> for PrepareFirmware {
    fn name(&self) -> String {
        "Preparing UEFI firmware".into()
    }

    async fn run(&self, s: &mut State, _b: &BuildInfo) -> anyhow::Result<()> {
        let c = &self.p.config;
        let code = PathBuf::from(c.efi_firmware_code.clone().unwrap_or_else(|| default_firmware().0));
        let vars = PathBuf::from(c.efi_firmware_vars.clone().unwrap_or_else(|| default_firmware().1));
        for f in [&code, &vars] {
            if !f.is_file() {
                anyhow::bail!("UEFI firmware {} not found; install it with: apt-get install ovmf (or set efi_firmware_code / efi_firmware_vars)", f.display());
            }
        }
        // efi_drop_efivars: the VM's variables live with the runtime files,
        // so they never reach the output directory.
        let dir = if c.efi_drop_efivars { &s.runtime_dir } else { &s.partial_dir };
        let copy = dir.join("efivars.fd");
        std::fs::copy(&vars, &copy)?;
        s.efi = Some((code, copy));
        Ok(())
    }
}

/// Debian's OVMF paths (4M builds first, as bookworm ships).
pub fn default_firmware() -> (String, String) {
    for (code, vars) in
        [("/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_VARS_4M.fd"), ("/usr/share/OVMF/OVMF_CODE.fd", "/usr/share/OVMF/OVMF_VARS.fd")]
    {
        if Path::new(code).exists() {
            return (code.into(), vars.into());
        }
    }
    ("/usr/share/OVMF/OVMF_CODE.fd".into(), "/usr/share/OVMF/OVMF_VARS.fd".into())
}

pub struct GenerateKey {
    pub p: Arc<Prepared>,
}

#[async_trait]
impl Step<State> for GenerateKey {
    fn name(&self) -> String {
        "Generating an SSH key".into()
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let c = &self.p.config;
        let user = &self.p.comm.ssh.username;
        s.generated_key = Some(bake_sdk::ssh::generate_ed25519()?);
        match seed::own_seed(c) {
            Some(seed) => b.ui.message(format!(
                "Generated an SSH key for this build; {seed} is the template's own cloud-init seed, so bake adds none: it must authorize the key for user \"{user}\" ({{{{ .SSHPublicKey }}}} in cd_content, floppy_content or http_content)"
            )),
            None => b.ui.message(format!("Generated an SSH key for this build; cloud-init gives it to user \"{user}\"")),
        }
        Ok(())
    }
}

/// The template's contents with `{{ .SSHPublicKey }}` filled in (empty
/// without a generated key, as in boot_command).
fn with_public_key(content: &BTreeMap<String, String>, s: &State) -> BTreeMap<String, String> {
    seed::with_public_key(content, s.generated_key.as_ref().map_or("", |k| k.1.as_str()))
}

pub struct CreateCdroms {
    pub p: Arc<Prepared>,
    /// Hand the generated key to the guest through bake's own cloud-init
    /// seed (the template has none).
    pub seed_key: bool,
}

#[async_trait]
impl Step<State> for CreateCdroms {
    fn name(&self) -> String {
        "Creating CD-ROM images".into()
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let c = &self.p.config;
        if !c.cd_files.is_empty() || !c.cd_content.is_empty() {
            let iso = s.runtime_dir.join("cd.iso");
            let label = c.cd_label.clone().unwrap_or_else(|| "packer".into());
            seed::make_iso(&iso, &label, &c.cd_files, &with_public_key(&c.cd_content, s), &s.runtime_dir.join("cd")).await?;
            s.cdroms.push(iso);
        }
        if let (true, Some((_, public))) = (self.seed_key, &s.generated_key) {
            let user = self.p.comm.ssh.username.clone();
            let content = BTreeMap::from([
                ("user-data".to_string(), seed::cloud_init_user_data(&user, public)),
                ("meta-data".to_string(), seed::cloud_init_meta_data(&format!("bake-{}", b.run_uuid), &sanitize(&b.source_name))),
            ]);
            let iso = s.runtime_dir.join("cidata.iso");
            seed::make_iso(&iso, "cidata", &[], &content, &s.runtime_dir.join("cidata")).await?;
            s.cdroms.push(iso);
        }
        Ok(())
    }
}

pub struct CreateFloppy {
    pub p: Arc<Prepared>,
}

#[async_trait]
impl Step<State> for CreateFloppy {
    fn name(&self) -> String {
        "Creating the floppy image".into()
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let c = &self.p.config;
        let image = s.runtime_dir.join("floppy.img");
        let label = c.floppy_label.as_deref().unwrap_or(crate::floppy::DEFAULT_LABEL);
        crate::floppy::make(&image, label, &c.floppy_files, &c.floppy_dirs, &with_public_key(&c.floppy_content, s), &s.runtime_dir.join("floppy")).await?;
        b.ui.message(format!("Floppy \"{label}\": {}", image.display()));
        s.floppy = Some(image);
        Ok(())
    }
}

pub struct StartTpm {
    pub p: Arc<Prepared>,
}

#[async_trait]
impl Step<State> for StartTpm {
    fn name(&self) -> String {
        "Starting the software TPM".into()
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let tpm1 = self.p.config.use_tpm1;
        let swtpm = crate::tpm::Swtpm::start(&s.runtime_dir.join("tpm"), tpm1, &b.journal, &b.name).await?;
        b.ui.message(format!("swtpm (TPM {}) on {}", if tpm1 { "1.2" } else { "2.0" }, swtpm.socket.display()));
        s.swtpm = Some(swtpm);
        Ok(())
    }

    async fn cleanup(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        // After RunQemu's cleanup: qemu is gone before its TPM is.
        if let Some(swtpm) = s.swtpm.take() {
            swtpm.stop(&b.journal).await;
        }
        Ok(())
    }
}

pub struct StartHttp {
    pub p: Arc<Prepared>,
}

#[async_trait]
impl Step<State> for StartHttp {
    fn name(&self) -> String {
        "Starting the HTTP server".into()
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let c = &self.p.config;
        let server = crate::http::start(
            c.http_directory.as_ref().map(PathBuf::from),
            with_public_key(&c.http_content, s),
            &c.http_bind_address,
            c.http_port_min,
            c.http_port_max,
        )
        .await?;
        b.ui.message(format!("Serving HTTP on port {} (the guest sees http://{HTTP_IP}:{})", server.port(), server.port()));
        s.http = Some(server);
        Ok(())
    }

    async fn cleanup(&self, s: &mut State, _b: &BuildInfo) -> anyhow::Result<()> {
        s.http = None;
        Ok(())
    }
}

pub struct RunQemu {
    pub p: Arc<Prepared>,
    pub ssh: bool,
}

#[async_trait]
impl Step<State> for RunQemu {
    fn name(&self) -> String {
        "Starting the VM".into()
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let c = &self.p.config;
        let firmware = s.efi.as_ref().map(|(code, _)| code.clone());
        let cache = cache_dir();
        let (accel, why) = crate::accel::choose(c.accelerator.as_deref(), &c.qemu_binary, firmware.as_deref(), &cache).await;
        b.ui.message(format!("Accelerator: {accel} ({why})"));
        s.accelerator = accel;
        // A port can be taken between our check and qemu's bind (another
        // program, another bake): try a few.
        let mut last_error = None;
        for _ in 0..5 {
            s.ssh_host_port = if self.ssh { Some(reserve_port("127.0.0.1", c.host_port_min, c.host_port_max)?) } else { None };
            s.vnc_port = if c.disable_vnc { None } else { Some(reserve_port(&c.vnc_bind_address, c.vnc_port_min, c.vnc_port_max)?) };
            match self.start(s, b).await {
                Ok(()) => return Ok(()),
                Err(e) if format!("{e:#}").contains("host forwarding") || format!("{e:#}").contains("Address already in use") => {
                    release_port(s.ssh_host_port.take());
                    release_port(s.vnc_port.take());
                    last_error = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(last_error.unwrap_or_else(|| anyhow::anyhow!("qemu did not start")))
    }

    async fn cleanup(&self, s: &mut State, _b: &BuildInfo) -> anyhow::Result<()> {
        if let Some(mut vm) = s.vm.take() {
            vm.finish().await.stop().await;
        }
        release_port(s.ssh_host_port);
        release_port(s.vnc_port);
        Ok(())
    }
}

impl RunQemu {
    async fn start(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let c = &self.p.config;
        // A fresh qemu for each boot under TCG: see vm.rs. Not when the
        // user's qemuargs decide what a reset does, nor with a TPM (swtpm
        // ends with the qemu that used it).
        let restart_on_reset = matches!(s.accelerator.as_str(), "tcg" | "none")
            && s.swtpm.is_none()
            && !c.qemuargs.iter().any(|row| matches!(row.first().map(String::as_str), Some("-no-reboot" | "-action")));
        let machine = Machine {
            accelerator: s.accelerator.clone(),
            disks: s.disks.clone(),
            cdroms: s.cdroms.clone(),
            efi: s.efi.clone(),
            floppy: s.floppy.clone(),
            tpm_socket: s.swtpm.as_ref().map(|t| t.socket.clone()),
            qmp_socket: s.runtime_dir.join("qmp.sock"),
            serial_log: s.serial_log(),
            pidfile: s.runtime_dir.join("qemu.pid"),
            restart_on_reset,
            ssh_host_port: s.ssh_host_port,
            vnc_port: s.vnc_port,
            template_values: template_values(s),
        };
        let argv = args::command_line(&self.p, &s.vm_name, &machine).map_err(anyhow::Error::msg)?;
        b.ui.message(format!("{} {}", c.qemu_binary, argv.join(" ")));
        let vm = Vm::start(Launch {
            binary: c.qemu_binary.clone(),
            argv,
            log: s.runtime_dir.join("qemu.log"),
            pidfile: machine.pidfile,
            qmp_socket: machine.qmp_socket,
            serial_log: machine.serial_log,
            restart_on_reset,
            build: b.name.clone(),
            journal: b.journal.clone(),
            ui: b.ui.clone(),
        })
        .await?;
        s.vm = Some(VmHandle::new(vm));
        Ok(())
    }
}

fn cache_dir() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from("/tmp"))
        .join("bake")
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

pub struct TypeBootCommand {
    pub p: Arc<Prepared>,
}

#[async_trait]
impl Step<State> for TypeBootCommand {
    fn name(&self) -> String {
        "Typing the boot command".into()
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let c = &self.p.config;
        b.ui.message(format!("Waiting {:?} (boot_wait)", c.boot_wait));
        tokio::time::sleep(c.boot_wait).await;
        let interval = c
            .boot_key_interval
            .or_else(|| std::env::var("PACKER_KEY_INTERVAL").ok().and_then(|v| bake_sdk::duration::parse(&v).ok()))
            .unwrap_or(Duration::from_millis(100));
        // boot_command is one unnamed step; boot_steps names each.
        let steps: Vec<(String, Option<&String>)> = if c.boot_steps.is_empty() {
            vec![(c.boot_command.concat(), None)]
        } else {
            c.boot_steps.iter().map(|step| (step[0].clone(), step.get(1).filter(|d| !d.is_empty()))).collect()
        };
        let values = template_values(s);
        let mut vm = s.vm.as_ref().expect("qemu started before").lock().await;
        for (keys, description) in steps {
            if let Some(d) = description {
                b.ui.message(format!("Boot step: {d}"));
            }
            let command = bake_sdk::placeholders::render(&keys, &values).map_err(anyhow::Error::msg)?;
            let actions = crate::boot_command::parse(&command).map_err(anyhow::Error::msg)?;
            crate::boot_command::type_command(vm.qmp(), &actions, interval, &b.cancel).await?;
        }
        Ok(())
    }
}

pub struct ConnectSsh {
    pub p: Arc<Prepared>,
}

#[async_trait]
impl Step<State> for ConnectSsh {
    fn name(&self) -> String {
        "Waiting for SSH".into()
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let (host, port) = ssh_address(&self.p, s);
        let mut cfg = SshConfig { host, port, ..self.p.comm.ssh.clone() };
        if let Some((private, _)) = &s.generated_key {
            cfg.auth.private_key = Some(PrivateKeySource::Text(private.clone()));
        }
        b.ui.message(format!("Connecting to {}@{} (timeout {:?})", cfg.username, cfg.address(), cfg.timeout));
        let serial = s.serial_log();
        let comm = bake_sdk::ssh::connect(cfg, &b.cancel, move || {
            let mut lines = vec!["last lines of the VM's serial console:".to_string()];
            lines.extend(tail(&serial, 15));
            lines
        })
        .await?;
        s.comm = Some(Arc::new(comm));
        Ok(())
    }

    async fn cleanup(&self, s: &mut State, _b: &BuildInfo) -> anyhow::Result<()> {
        if let Some(comm) = s.comm.take() {
            comm.close().await;
        }
        Ok(())
    }
}

pub struct Provision<'h> {
    pub p: Arc<Prepared>,
    pub hook: &'h dyn ProvisionHook,
}

#[async_trait]
impl Step<State> for Provision<'_> {
    fn name(&self) -> String {
        "Provisioning".into()
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let mut generated = GeneratedData::new();
        let (host, port) = ssh_address(&self.p, s);
        let ssh = &self.p.comm.ssh;
        for (k, v) in [
            ("ID", s.vm_name.clone()),
            ("Host", host),
            ("Port", port.to_string()),
            ("User", ssh.username.clone()),
            ("Password", ssh.auth.password.clone().unwrap_or_default()),
            ("SSHPrivateKey", private_key_text(&self.p, s)),
            ("SSHPublicKey", s.generated_key.as_ref().map(|k| k.1.clone()).unwrap_or_default()),
            ("PackerRunUUID", b.run_uuid.clone()),
        ] {
            generated.insert(k.to_string(), v);
        }
        // Only when the HTTP server runs, so that provisioners do not pass
        // an address nothing listens on (PACKER_HTTP_ADDR).
        if let Some(http_port) = s.http.as_ref().map(|h| h.port()) {
            generated.insert("PackerHTTPIP".into(), HTTP_IP.to_string());
            generated.insert("PackerHTTPPort".into(), http_port.to_string());
            generated.insert("PackerHTTPAddr".into(), format!("{HTTP_IP}:{http_port}"));
        }
        let comm = s.comm.clone();
        self.hook.provision(comm.as_deref().map(|c| c as &dyn Communicator), &generated).await
    }
}

pub struct Shutdown {
    pub p: Arc<Prepared>,
}

#[async_trait]
impl Step<State> for Shutdown {
    fn name(&self) -> String {
        "Shutting down the VM".into()
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let c = &self.p.config;
        match (&c.shutdown_command, s.comm.clone()) {
            // No communicator: the guest powers itself off (an installer).
            _ if self.p.comm.kind == Kind::None => b.ui.message("Waiting for the VM to power itself off (communicator = \"none\")"),
            (Some(cmd), Some(comm)) => {
                b.ui.message(format!("Running the shutdown command: {cmd}"));
                let ui = b.ui.clone();
                // The connection drops as the machine goes down; that is the
                // expected outcome, not an error.
                let _ = comm.run(cmd, &mut |stream, line: &str| ui.output(stream, line)).await;
            }
            _ => {
                b.ui.message("Sending an ACPI power-down (no shutdown_command)");
                s.vm.as_ref().expect("qemu started before").lock().await.qmp().system_powerdown().await?;
            }
        }
        if let Some(comm) = s.comm.take() {
            comm.close().await;
        }
        let stopped = s.vm.as_ref().expect("qemu started before").lock().await.wait_exit(c.shutdown_timeout).await;
        if !stopped {
            anyhow::bail!("timeout after {:?} waiting for the machine to shut down; check shutdown_command (the VM is stopped by force)", c.shutdown_timeout);
        }
        s.vm = None;
        Ok(())
    }
}

pub struct Compact {
    pub p: Arc<Prepared>,
}

#[async_trait]
impl Step<State> for Compact {
    fn name(&self) -> String {
        "Converting the disk".into()
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let c = &self.p.config;
        let main = s.disks[0].clone();
        let converted = main.with_file_name(format!("{}.convert", s.vm_name));
        b.ui.message(format!("qemu-img convert{} -O {}", if c.disk_compression { " -c" } else { "" }, c.format));
        qemu_img::convert(&main, &converted, &c.format, c.disk_compression).await?;
        std::fs::rename(&converted, &main)?;
        Ok(())
    }
}

pub struct Finalize;

#[async_trait]
impl Step<State> for Finalize {
    fn name(&self) -> String {
        "Writing the artifact".into()
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        if s.output_dir.exists() {
            // Only with -force (checked at the start).
            std::fs::remove_dir_all(&s.output_dir)?;
        }
        std::fs::rename(&s.partial_dir, &s.output_dir)?;
        let mut names: Vec<PathBuf> = std::fs::read_dir(&s.output_dir)?.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect();
        names.sort();
        let files =
            tokio::task::spawn_blocking(move || -> std::io::Result<Vec<ArtifactFile>> { names.into_iter().map(ArtifactFile::from_path).collect() }).await??;
        for f in &files {
            b.ui.message(format!("{} ({} bytes, sha256 {})", f.path.display(), f.size, f.sha256.as_deref().unwrap_or("?")));
        }
        s.files = files;
        Ok(())
    }
}
