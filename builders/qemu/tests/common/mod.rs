//! Cheap VMs for the tests: Debian's kernel with a busybox initramfs whose
//! `init` is the test's shell script, booting to userspace in about 2 s
//! under TCG. Needs linux-image-amd64 (which also brings the modules an
//! init may load) and busybox-static.

#![allow(dead_code)] // Each test file uses its own part.

use std::path::{Path, PathBuf};

/// A directory removed at the end of the test.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A fresh `bake-NAME-PID` directory under the system temp dir.
    pub fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("bake-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One entry of a `newc` cpio archive.
fn cpio_entry(out: &mut Vec<u8>, ino: u32, name: &str, mode: u32, rdev: (u32, u32), data: &[u8]) {
    let header = format!(
        "070701{ino:08x}{mode:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}",
        0,
        0,
        1,
        0,
        data.len(),
        0,
        0,
        rdev.0,
        rdev.1,
        name.len() + 1,
        0
    );
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    out.resize(out.len().next_multiple_of(4), 0);
    out.extend_from_slice(data);
    out.resize(out.len().next_multiple_of(4), 0);
}

/// An initramfs with busybox, `init`, and `files` (name in the root → bytes).
pub fn initramfs(init: &str, files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    let dir = 0o040755;
    for (i, d) in ["bin", "dev", "proc", "sys", "mnt"].iter().enumerate() {
        cpio_entry(&mut out, i as u32 + 1, d, dir, (0, 0), &[]);
    }
    cpio_entry(&mut out, 10, "dev/console", 0o020600, (5, 1), &[]);
    cpio_entry(&mut out, 11, "init", 0o100755, (0, 0), init.as_bytes());
    cpio_entry(&mut out, 12, "bin/busybox", 0o100755, (0, 0), &busybox());
    for (i, (name, data)) in files.iter().enumerate() {
        cpio_entry(&mut out, 20 + i as u32, name, 0o100644, (0, 0), data);
    }
    cpio_entry(&mut out, 0, "TRAILER!!!", 0, (0, 0), &[]);
    out
}

pub fn kernel() -> PathBuf {
    let mut kernels: Vec<PathBuf> = std::fs::read_dir("/boot")
        .map(|rd| rd.flatten().map(|e| e.path()).filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("vmlinuz-"))).collect())
        .unwrap_or_default();
    kernels.sort();
    kernels.pop().expect("no /boot/vmlinuz-*: apt-get install --no-install-recommends linux-image-amd64")
}

/// The `.ko` of `kernel()`'s module `relative` (under `kernel/`), named by
/// its file name, for `insmod /NAME` in the init.
pub fn module(relative: &str) -> (String, Vec<u8>) {
    let kernel = kernel();
    let version = kernel.file_name().unwrap().to_string_lossy().trim_start_matches("vmlinuz-").to_string();
    let path = Path::new("/lib/modules").join(&version).join("kernel").join(relative);
    let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}; the modules come with linux-image-amd64", path.display()));
    (Path::new(relative).file_name().unwrap().to_string_lossy().into_owned(), data)
}

pub fn busybox() -> Vec<u8> {
    let data = std::fs::read("/bin/busybox").expect("no /bin/busybox: apt-get install --no-install-recommends busybox-static");
    let dynamic = data.windows(b"/lib64/ld-linux".len()).any(|w| w == b"/lib64/ld-linux");
    assert!(!dynamic, "/bin/busybox is linked dynamically; install busybox-static instead of busybox");
    data
}
