//! The box's directory while it is put together: a hidden directory beside
//! the output, removed when dropped (after the box is written, or on any
//! failure or Ctrl-C).
//!
//! Big files are not copied in: a symlink to the disk (or an include) is
//! enough, because the tar writer opens each entry, following links, and
//! names it by the link's own name. Only what bake makes (metadata.json,
//! the Vagrantfile, a converted disk) is a real file here.

use std::io;
use std::path::{Path, PathBuf};

pub struct Staging {
    dir: PathBuf,
    /// The box's entries, in the order they go into the tar.
    entries: Vec<PathBuf>,
}

impl Staging {
    /// A fresh directory beside `output`.
    pub fn beside(output: &Path) -> io::Result<Staging> {
        let parent = match output.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent)?;
        static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let base = output.file_name().map_or_else(|| "box".into(), |n| n.to_string_lossy().into_owned());
        let dir = parent.join(format!(".{base}.bake-box-{}-{seq}", std::process::id()));
        std::fs::create_dir(&dir)?;
        Ok(Staging { dir, entries: Vec::new() })
    }

    /// Where an entry named `name` lives.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    pub fn has(&self, name: &str) -> bool {
        self.entries.iter().any(|e| e.file_name().is_some_and(|n| n == name))
    }

    /// Writes a small entry.
    pub fn write(&mut self, name: &str, text: &str) -> io::Result<()> {
        std::fs::write(self.path(name), text)?;
        self.add(name);
        Ok(())
    }

    /// Makes `name` an entry with the contents of `file`, without a copy.
    pub fn link(&mut self, name: &str, file: &Path) -> io::Result<()> {
        let meta = std::fs::metadata(file)?;
        if !meta.is_file() {
            return Err(io::Error::other(format!("{} is not a regular file", file.display())));
        }
        std::os::unix::fs::symlink(std::fs::canonicalize(file)?, self.path(name))?;
        self.add(name);
        Ok(())
    }

    /// Records an entry written at [`Staging::path`] by someone else.
    pub fn add(&mut self, name: &str) {
        self.entries.push(self.path(name));
    }

    pub fn entries(&self) -> Vec<PathBuf> {
        self.entries.clone()
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
