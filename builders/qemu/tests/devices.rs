//! The builder's floppy and software TPM, seen from inside a real VM: the
//! whole qemu builder runs (communicator "none") on Debian's kernel with a
//! busybox initramfs, whose init mounts the floppy, reads the TPM's version
//! from sysfs, prints both to the serial console (a file the test names in
//! qemuargs) and powers off. And swtpm is gone afterwards on every path:
//! success, a qemu that fails to start, a cancelled (Ctrl-C) build.
//!
//! Needs qemu-system-x86, linux-image-amd64, busybox-static, mtools, swtpm
//! (scripts/setup.sh). Runs under TCG.

mod common;

use bake_sdk::{BuildInfo, GeneratedData, ProvisionHook, ProvisionerStep};
use common::{initramfs, kernel, module, TempDir};
use std::path::Path;
use std::time::{Duration, Instant};

const INIT: &str = r#"#!/bin/busybox sh
B=/bin/busybox
$B mount -t proc proc /proc
$B mount -t sysfs sys /sys
$B mount -t devtmpfs dev /dev
for m in floppy fat vfat nls_cp437 nls_ascii; do $B insmod /$m.ko; done
$B mount -t vfat -o ro /dev/fd0 /mnt && echo "FLOPPY-LIST $($B ls /mnt | $B tr '\n' ' ')"
echo "FLOPPY-HELLO $($B cat /mnt/hello.txt)"
echo "FLOPPY-NESTED $($B cat /mnt/tools/nested.txt)"
echo "TPM $($B ls /sys/class/tpm) $($B cat /sys/class/tpm/tpm0/tpm_version_major)"
echo READY
[ -e /hold ] && $B sleep 600
$B poweroff -f
"#;

struct NoProvisioners;

impl ProvisionHook for NoProvisioners {
    fn machine_ready(&self, _generated: &GeneratedData) {}
    fn provisioners(&self) -> Vec<Box<dyn ProvisionerStep + '_>> {
        Vec::new()
    }
}

/// What one test's VM needs: a disk, the initramfs, floppy sources.
struct Fixture {
    dir: TempDir,
}

impl Fixture {
    fn new(name: &str, hold: bool) -> Fixture {
        Fixture::with_init(name, INIT, hold)
    }

    fn with_init(name: &str, init: &str, hold: bool) -> Fixture {
        let dir = TempDir::new(name);
        let p = &dir.0;
        let modules = ["drivers/block/floppy.ko", "fs/fat/fat.ko", "fs/fat/vfat.ko", "fs/nls/nls_cp437.ko", "fs/nls/nls_ascii.ko"];
        let mut files: Vec<(String, Vec<u8>)> = modules.iter().map(|m| module(m)).collect();
        if hold {
            files.push(("hold".into(), Vec::new()));
        }
        std::fs::write(p.join("initrd.cpio"), initramfs(init, &files)).unwrap();
        let out = std::process::Command::new("qemu-img")
            .args(["create", "-q", "-f", "qcow2"])
            .arg(p.join("disk.qcow2"))
            .arg("16M")
            .output()
            .expect("qemu-img: apt-get install qemu-utils");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        std::fs::create_dir_all(p.join("tools")).unwrap();
        std::fs::write(p.join("tools/nested.txt"), "from floppy_dirs").unwrap();
        Fixture { dir }
    }

    fn path(&self, name: &str) -> String {
        self.dir.0.join(name).display().to_string()
    }

    /// The source body: the initramfs VM with a floppy and a TPM; `extra`
    /// appended, replacing the one-line settings it sets again.
    fn source(&self, extra: &str) -> String {
        let key = |line: &str| line.split('=').next().unwrap_or_default().trim().to_string();
        let replaced: Vec<String> = extra.lines().filter(|l| l.contains('=')).map(key).collect();
        let base = format!(
            r#"
iso_url           = "{disk}"
iso_checksum      = "none"
disk_image        = true
skip_resize_disk  = true
skip_compaction   = true
accelerator       = "tcg"
communicator      = "none"
headless          = true
disable_vnc       = true
memory            = 256
boot_wait         = "0s"
shutdown_timeout  = "2m"
output_directory  = "{out}"
floppy_label      = "bakefloppy"
floppy_content    = {{ "hello.txt" = "hello from floppy_content" }}
floppy_dirs       = ["{tools}"]
vtpm              = true
qemuargs = [
  ["-kernel", "{kernel}"],
  ["-initrd", "{initrd}"],
  ["-append", "console=ttyS0 panic=-1 quiet"],
  ["-serial", "file:{console}"],
]
"#,
            disk = self.path("disk.qcow2"),
            out = self.path("out"),
            tools = self.path("tools"),
            kernel = kernel().display(),
            initrd = self.path("initrd.cpio"),
            console = self.path("console.log"),
        );
        let kept: Vec<&str> = base.lines().filter(|l| !(l.contains(" = ") && replaced.contains(&key(l)))).collect();
        format!("{}\n{extra}\n", kept.join("\n"))
    }

    fn console(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(self.dir.0.join("console.log")).unwrap_or_default()).into_owned()
    }
}

/// The build's UI: on stderr, for a failing test's story, and its
/// messages kept for the test to check.
#[derive(Default)]
struct TestSink(std::sync::Mutex<Vec<String>>);

impl bake_sdk::ui::UiSink for TestSink {
    fn emit(&self, build: &str, event: bake_sdk::ui::Event) {
        eprintln!("{build}: {event:?}");
        if let bake_sdk::ui::Event::Message(m) = event {
            self.0.lock().unwrap().push(m);
        }
    }
}

fn build_info(tag: &str) -> BuildInfo {
    build_info_with(tag, Default::default())
}

fn build_info_with(tag: &str, sink: std::sync::Arc<TestSink>) -> BuildInfo {
    let mut b = bake_sdk::testing::build_info(tag);
    b.ui = bake_sdk::Ui::new(&b.name, sink);
    // Its own runtime directory name (bake-qemu-RUNUUID-BUILD), so that
    // parallel tests do not share one and the process checks below see only
    // this test's swtpm.
    let tag_hash = tag.bytes().fold(2166136261u32, |h, c| (h ^ u32::from(c)).wrapping_mul(16777619));
    b.run_uuid = format!("{:08x}", std::process::id() ^ tag_hash);
    b
}

/// swtpm processes whose command line mentions this build's runtime dir.
fn swtpms_of(b: &BuildInfo) -> Vec<String> {
    let needle = format!("bake-qemu-{}", &b.run_uuid[..8]);
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else { continue };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        let state = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        if cmdline.starts_with("swtpm ") && cmdline.contains(&needle) && !state.contains(") Z ") {
            found.push(cmdline);
        }
    }
    found
}

/// One VM at a time: six TCG guests at once on a loaded 2-core machine
/// boot slowly enough to miss boot_wait.
static ONE_VM: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn run(source: &str, b: &BuildInfo) -> anyhow::Result<Option<bake_sdk::Artifact>> {
    let _one_vm = ONE_VM.lock().await;
    let (_, body) = bake_sdk::testing::eval_body(source);
    let builder = bake_builder_qemu::prepare(&body, "source \"qemu.devices\"").unwrap_or_else(|d| panic!("{d:?}"));
    builder.run(b, &NoProvisioners).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guest_reads_the_floppy_and_sees_a_tpm2() {
    let f = Fixture::new("devices-floppy-tpm", false);
    let b = build_info("floppy-tpm");
    let started = Instant::now();
    let artifact = run(&f.source(""), &b).await.unwrap().expect("an artifact");
    let console = f.console();
    eprintln!("built in {:?}; console:\n{console}", started.elapsed());
    assert!(console.contains("FLOPPY-HELLO hello from floppy_content"), "console:\n{console}");
    assert!(console.contains("FLOPPY-NESTED from floppy_dirs"), "console:\n{console}");
    assert!(console.contains("FLOPPY-LIST hello.txt tools "), "console:\n{console}");
    assert!(console.contains("TPM tpm0 2"), "console:\n{console}");
    assert!(artifact.files.iter().any(|f| f.path.ends_with("packer-web")), "{:?}", artifact.files);
    assert_eq!(swtpms_of(&b), Vec::<String>::new(), "swtpm outlived the build");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swtpm_stops_when_qemu_cannot_start() {
    let f = Fixture::new("devices-qemu-fails", false);
    let b = build_info("qemu-fails");
    let e = run(&f.source("qemu_binary = \"qemu-system-x86_64\"\ncpu_model = \"no-such-cpu\""), &b).await.unwrap_err();
    assert!(format!("{e:#}").contains("no-such-cpu"), "{e:#}");
    assert_eq!(swtpms_of(&b), Vec::<String>::new(), "swtpm outlived the failed build");
    assert!(!Path::new(&f.path("out")).exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_build_stops_swtpm() {
    let f = Fixture::new("devices-cancelled", true);
    let b = build_info("cancelled");
    let cancel = b.cancel.clone();
    let console = f.dir.0.join("console.log");
    let watcher = tokio::spawn({
        let b_swtpm = format!("bake-qemu-{}", &b.run_uuid[..8]);
        async move {
            // Generous: the build may first wait for another test's VM (ONE_VM).
            let deadline = Instant::now() + Duration::from_secs(600);
            while !std::fs::read_to_string(&console).unwrap_or_default().contains("READY") {
                assert!(Instant::now() < deadline, "the VM never got READY");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let running = std::fs::read_dir("/proc").unwrap().flatten().any(|e| {
                let c = String::from_utf8_lossy(&std::fs::read(e.path().join("cmdline")).unwrap_or_default()).replace('\0', " ");
                c.starts_with("swtpm ") && c.contains(&b_swtpm)
            });
            cancel.cancel();
            running
        }
    });
    let e = run(&f.source(""), &b).await.unwrap_err();
    assert!(watcher.await.unwrap(), "swtpm was not running while the VM was up");
    assert!(format!("{e:#}").contains("cancelled"), "{e:#}");
    assert_eq!(swtpms_of(&b), Vec::<String>::new(), "swtpm outlived the cancelled build");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qemu_boots_with_pflash_firmware_and_scsi_cdroms() {
    let f = Fixture::new("devices-pflash", false);
    let b = build_info("pflash");
    let extra = r#"
firmware        = "/usr/share/seabios/bios-256k.bin"
use_pflash      = true
cdrom_interface = "virtio-scsi"
cd_content      = { "note.txt" = "a CD on virtio-scsi" }
"#;
    run(&f.source(extra), &b).await.unwrap();
    // SeaBIOS from pflash booted the kernel, and the guest got as far.
    assert!(f.console().contains("FLOPPY-HELLO hello from floppy_content"), "console:\n{}", f.console());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn efi_drop_efivars_keeps_the_variables_out_of_the_output() {
    let f = Fixture::new("devices-efivars", false);
    let b = build_info("efivars");
    run(&f.source("efi_boot = true\nefi_drop_efivars = true"), &b).await.unwrap();
    assert!(f.console().contains("READY"), "console:\n{}", f.console());
    let mut outputs: Vec<String> = std::fs::read_dir(f.path("out")).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    outputs.sort();
    assert_eq!(outputs, ["packer-web"]);
}

/// Reads what the keyboard types on the first terminal, line by line, onto
/// the console, and powers off after the line "done".
const TYPING_INIT: &str = r#"#!/bin/busybox sh
B=/bin/busybox
$B mount -t proc proc /proc
$B mount -t sysfs sys /sys
$B mount -t devtmpfs dev /dev
exec </dev/tty1
$B stty -echo
echo READY
while read -r line; do
  echo "TYPED [$line]"
  # A moment for the last key's release to arrive before qemu is gone.
  [ "$line" = done ] && $B sleep 1 && $B poweroff -f
done
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boot_steps_are_typed_in_order_with_their_descriptions() {
    let f = Fixture::with_init("devices-boot-steps", TYPING_INIT, false);
    let sink = std::sync::Arc::new(TestSink::default());
    let b = build_info_with("boot-steps", sink.clone());
    // The VM must be at READY before the first key: a generous boot_wait
    // (a loaded 2-core machine boots this in 3-20 s).
    let extra = r#"
vtpm = false
boot_wait = "30s"
boot_steps = [
  ["first {{ .Name }}<enter>", "Typing the first line"],
  ["second<enter>"],
  ["done<enter>", "Finishing"],
]
"#;
    run(&f.source(extra), &b).await.unwrap();
    let console = f.console();
    let ready = console.find("READY").unwrap_or_else(|| panic!("console:\n{console}"));
    let typed: Vec<&str> = console[ready..].lines().filter(|l| l.starts_with("TYPED")).collect();
    assert_eq!(typed, ["TYPED [first packer-web]", "TYPED [second]", "TYPED [done]"], "console:\n{console}");
    let messages = sink.0.lock().unwrap().clone();
    let steps: Vec<&String> = messages.iter().filter(|m| m.starts_with("Boot step: ")).collect();
    assert_eq!(steps, ["Boot step: Typing the first line", "Boot step: Finishing"], "{messages:#?}");
}
