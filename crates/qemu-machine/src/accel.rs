//! Choosing the accelerator. "kvm when /dev/kvm exists" is wrong on nested
//! hosts where /dev/kvm opens but guests hang or die (measured: the Linux
//! kernel stops after "Probing EDD", OVMF dies with "KVM internal error"),
//! so bake probes for real: it boots a tiny long-mode kernel and, when UEFI
//! firmware is installed, the firmware itself, each for a few seconds. The
//! verdict is cached per boot of the host.
//!
//! `accelerator = "…"` in the template or `BAKE_QEMU_ACCEL` force a choice.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::AsyncReadExt;

const PROBE_KERNEL: &[u8] = include_bytes!("../probe/accel-probe.bin");
const PROBE_OK: &str = "BAKE-ACCEL-OK";
const PROBE_TIME: Duration = Duration::from_secs(4);

/// The accelerator to use, and why (for the log).
pub async fn choose(configured: Option<&str>, qemu: &str, firmware: Option<&Path>, cache_dir: &Path) -> (String, String) {
    if let Some(a) = configured {
        return (a.to_string(), "set in the template".into());
    }
    if let Ok(a) = std::env::var("BAKE_QEMU_ACCEL") {
        if !a.is_empty() {
            return (a, "set by BAKE_QEMU_ACCEL".into());
        }
    }
    if std::fs::OpenOptions::new().read(true).write(true).open("/dev/kvm").is_err() {
        return ("tcg".into(), "/dev/kvm is not usable".into());
    }
    let verdict_file = cache_dir.join(format!("accel-{}.txt", boot_id()));
    if let Ok(v) = std::fs::read_to_string(&verdict_file) {
        let v = v.trim().to_string();
        if v == "kvm" || v == "tcg" {
            return (v, "probed earlier on this boot".into());
        }
    }
    let works = kvm_runs_guests(qemu, firmware).await;
    let choice = if works { "kvm" } else { "tcg" };
    let _ = std::fs::create_dir_all(cache_dir);
    let _ = std::fs::write(&verdict_file, choice);
    let why = if works { "KVM ran a probe guest" } else { "KVM is present but cannot run guests here (nested virtualisation?)" };
    (choice.into(), why.into())
}

fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id").map(|s| s.trim().to_string()).unwrap_or_else(|_| "unknown".into())
}

async fn kvm_runs_guests(qemu: &str, firmware: Option<&Path>) -> bool {
    let dir = std::env::temp_dir().join(format!("bake-accel-probe-{}", std::process::id()));
    if std::fs::create_dir_all(&dir).is_err() {
        return false;
    }
    let ok = probe_kernel(qemu, &dir).await
        && match firmware {
            Some(fw) => probe_firmware(qemu, fw, &dir).await,
            None => true,
        };
    let _ = std::fs::remove_dir_all(&dir);
    ok
}

/// Boots the long-mode probe kernel; it must print its line.
async fn probe_kernel(qemu: &str, dir: &Path) -> bool {
    let kernel = dir.join("probe.bin");
    if std::fs::write(&kernel, PROBE_KERNEL).is_err() {
        return false;
    }
    let args = ["-accel", "kvm", "-m", "64", "-display", "none", "-nodefaults", "-no-reboot", "-serial", "stdio", "-kernel"];
    let out = run_for(qemu, &args, &[kernel], PROBE_TIME).await;
    out.contains(PROBE_OK)
}

/// Runs the UEFI firmware; it must not die (a broken KVM kills it within a
/// second with "KVM internal error").
async fn probe_firmware(qemu: &str, code: &Path, dir: &Path) -> bool {
    let vars_template = code.with_file_name(code.file_name().map_or("OVMF_VARS.fd".into(), |n| n.to_string_lossy().replace("CODE", "VARS")));
    let vars = dir.join("vars.fd");
    if std::fs::copy(&vars_template, &vars).is_err() {
        return true;
    }
    let code_arg = format!("if=pflash,format=raw,readonly=on,file={}", code.display());
    let vars_arg = format!("if=pflash,format=raw,file={}", vars.display());
    let args = [
        "-machine",
        "q35",
        "-accel",
        "kvm",
        "-m",
        "128",
        "-display",
        "none",
        "-nodefaults",
        "-serial",
        "none",
        "-monitor",
        "none",
        "-drive",
        &code_arg,
        "-drive",
        &vars_arg,
    ];
    let out = run_for(qemu, &args, &[], PROBE_TIME).await;
    !out.contains("KVM internal error") && !out.contains("PROBE-EXITED")
}

/// Runs qemu for at most `time` and returns what it printed; "PROBE-EXITED"
/// is appended when it stopped by itself before the time was up.
async fn run_for(qemu: &str, args: &[&str], extra: &[PathBuf], time: Duration) -> String {
    let child = bake_sdk::process::spawn(
        tokio::process::Command::new(qemu).args(args).args(extra).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true),
    );
    let Ok(mut child) = child else { return "PROBE-EXITED".into() };
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let mut out = Vec::new();
    let mut err = Vec::new();
    let exited = tokio::select! {
        _ = child.wait() => true,
        _ = tokio::time::sleep(time) => false,
        _ = wait_for(&mut stdout, &mut out, PROBE_OK) => false,
    };
    let _ = child.start_kill();
    let _ = child.wait().await;
    let _ = tokio::time::timeout(Duration::from_millis(200), stderr.read_to_end(&mut err)).await;
    let _ = tokio::time::timeout(Duration::from_millis(200), stdout.read_to_end(&mut out)).await;
    let mut text = String::from_utf8_lossy(&out).into_owned();
    text.push_str(&String::from_utf8_lossy(&err));
    if exited && !text.contains(PROBE_OK) {
        text.push_str("PROBE-EXITED");
    }
    text
}

/// Reads until `needle` appears (so a healthy probe returns at once).
async fn wait_for(r: &mut tokio::process::ChildStdout, buf: &mut Vec<u8>, needle: &str) {
    let mut chunk = [0u8; 256];
    loop {
        match r.read(&mut chunk).await {
            Ok(0) | Err(_) => return std::future::pending().await,
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                if String::from_utf8_lossy(buf).contains(needle) {
                    return;
                }
            }
        }
    }
}
