//! The on-disk journal of everything a run creates outside itself: qemu
//! processes, temp directories, cloud instances … Each resource is recorded
//! (and fsynced) *before* it is created and marked released once it is gone,
//! so after a crash or `kill -9`, `bake cleanup` knows exactly what to undo.
//!
//! One file per run, `<state dir>/journal/<run uuid>.jsonl`, one JSON record
//! per line, append-only. The state directory is `$BAKE_STATE_DIR`, else
//! `$XDG_STATE_HOME/bake`, else `~/.local/state/bake`.

use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Something outside bake that a build created and must remove.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Resource {
    /// A process that writes its pid to `pidfile` once started (qemu's
    /// `-pidfile`); `pid` is filled in when known. Cleanup kills it.
    Process { pidfile: PathBuf, pid: Option<u32>, what: String },
    /// A file or directory to remove.
    Path { path: PathBuf },
    /// A cloud resource, undone by the plugin that owns `provider_kind` (for
    /// example `aws:instance`; see [`ResourceOwner`]).
    Cloud { provider_kind: String, region: String, id: String },
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Record {
    /// The run started; `pid` lets `cleanup` leave live runs alone.
    Start {
        pid: u32,
        run_uuid: String,
    },
    Create {
        id: u64,
        build: String,
        resource: Resource,
    },
    Release {
        id: u64,
    },
}

pub type EntryId = u64;

pub struct Journal {
    path: PathBuf,
    file: Mutex<File>,
    next: AtomicU64,
}

/// Where journals live.
pub fn state_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("BAKE_STATE_DIR") {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_STATE_HOME") {
        return PathBuf::from(d).join("bake");
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("/tmp"), PathBuf::from);
    home.join(".local/state/bake")
}

impl Journal {
    /// Starts the journal of one run.
    pub fn create(state_dir: &Path, run_uuid: &str) -> std::io::Result<Journal> {
        let dir = state_dir.join("journal");
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{run_uuid}.jsonl"));
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        let journal = Journal { path, file: Mutex::new(file), next: AtomicU64::new(1) };
        journal.append(&Record::Start { pid: std::process::id(), run_uuid: run_uuid.to_string() })?;
        Ok(journal)
    }

    /// Opens an existing journal to record releases (for `bake cleanup`).
    pub fn reopen(path: &Path) -> std::io::Result<Journal> {
        let file = OpenOptions::new().append(true).open(path)?;
        Ok(Journal { path: path.to_path_buf(), file: Mutex::new(file), next: AtomicU64::new(u64::MAX / 2) })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records a resource before it is created.
    pub fn record(&self, build: &str, resource: Resource) -> std::io::Result<EntryId> {
        let id = self.next.fetch_add(1, Ordering::SeqCst);
        self.append(&Record::Create { id, build: build.to_string(), resource })?;
        Ok(id)
    }

    /// Updates a resource's record (e.g. a process's pid once known).
    pub fn update(&self, id: EntryId, build: &str, resource: Resource) -> std::io::Result<()> {
        self.append(&Record::Create { id, build: build.to_string(), resource })
    }

    /// Marks a resource as gone.
    pub fn release(&self, id: EntryId) -> std::io::Result<()> {
        self.append(&Record::Release { id })
    }

    /// Removes the journal when everything in it was released.
    pub fn finish(self) -> std::io::Result<()> {
        let pending = read(&self.path)?.pending;
        if pending.is_empty() {
            std::fs::remove_file(&self.path)?;
        }
        Ok(())
    }

    fn append(&self, record: &Record) -> std::io::Result<()> {
        let mut line = serde_json::to_string(record).map_err(std::io::Error::other)?;
        line.push('\n');
        let mut file = self.file.lock().map_err(|_| std::io::Error::other("journal lock poisoned"))?;
        file.write_all(line.as_bytes())?;
        // A record that is not on disk when we crash is no record at all.
        file.sync_data()
    }
}

/// A journal read back: who wrote it and what is still outstanding.
#[derive(Debug)]
pub struct JournalState {
    pub path: PathBuf,
    pub owner_pid: Option<u32>,
    pub run_uuid: String,
    /// Unreleased resources, oldest first, with their build.
    pub pending: Vec<(EntryId, String, Resource)>,
}

impl JournalState {
    /// True while the bake that wrote it still runs.
    pub fn owner_alive(&self) -> bool {
        self.owner_pid.is_some_and(|pid| Path::new(&format!("/proc/{pid}")).exists() && pid != std::process::id())
    }
}

pub fn read(path: &Path) -> std::io::Result<JournalState> {
    let file = File::open(path)?;
    let mut state = JournalState { path: path.to_path_buf(), owner_pid: None, run_uuid: String::new(), pending: Vec::new() };
    let mut created: Vec<(EntryId, String, Resource)> = Vec::new();
    let mut released = std::collections::BTreeSet::new();
    for line in BufReader::new(file).lines() {
        let line = line?;
        // A torn last line (crash mid-write) is skipped, not fatal.
        let Ok(record) = serde_json::from_str::<Record>(&line) else { continue };
        match record {
            Record::Start { pid, run_uuid } => {
                state.owner_pid = Some(pid);
                state.run_uuid = run_uuid;
            }
            Record::Create { id, build, resource } => match created.iter_mut().find(|(i, _, _)| *i == id) {
                Some(entry) => *entry = (id, build, resource),
                None => created.push((id, build, resource)),
            },
            Record::Release { id } => {
                released.insert(id);
            }
        }
    }
    state.pending = created.into_iter().filter(|(id, _, _)| !released.contains(id)).collect();
    Ok(state)
}

/// Every journal under the state directory.
pub fn all(state_dir: &Path) -> std::io::Result<Vec<JournalState>> {
    let dir = state_dir.join("journal");
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(&dir) else { return Ok(out) };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "jsonl")).collect();
    paths.sort();
    for p in paths {
        out.push(read(&p)?);
    }
    Ok(out)
}

/// Undoes a local resource: kills a process (SIGTERM, then SIGKILL), removes
/// a path. Cloud resources are for their plugin; this returns `Ok(false)`.
pub fn undo_local(resource: &Resource) -> std::io::Result<bool> {
    match resource {
        Resource::Process { pidfile, pid, .. } => {
            let pid = pid.or_else(|| std::fs::read_to_string(pidfile).ok().and_then(|s| s.trim().parse().ok()));
            if let Some(pid) = pid {
                crate::process::terminate_pid(pid, std::time::Duration::from_secs(5));
            }
            let _ = std::fs::remove_file(pidfile);
            Ok(true)
        }
        Resource::Path { path } => {
            match std::fs::symlink_metadata(path) {
                Ok(m) if m.is_dir() => std::fs::remove_dir_all(path)?,
                Ok(_) => std::fs::remove_file(path)?,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
            Ok(true)
        }
        Resource::Cloud { .. } => Ok(false),
    }
}

/// A plugin's undo of the external resources it creates: the journal's
/// [`Resource::Cloud`] entries of the `provider_kind`s it names. The plugin
/// crate provides one; the engine registers it (`src/plugins.rs`), and
/// `bake cleanup` hands it the entries of its kinds that a dead run left.
#[async_trait::async_trait]
pub trait ResourceOwner: Send + Sync {
    /// The `provider_kind`s it undoes, such as `aws:instance`.
    fn kinds(&self) -> &[&str];

    /// Removes the resource (one of its kinds); `Ok` once it is gone,
    /// including when it was gone already.
    async fn undo(&self, resource: &Resource) -> anyhow::Result<()>;
}

/// Who undoes each journal entry: local processes and paths by
/// [`undo_local`], cloud resources by the owner of their kind.
#[derive(Default)]
pub struct CleanupRegistry<'a> {
    owners: Vec<&'a dyn ResourceOwner>,
}

impl<'a> CleanupRegistry<'a> {
    pub fn new(owners: impl IntoIterator<Item = &'a dyn ResourceOwner>) -> CleanupRegistry<'a> {
        CleanupRegistry { owners: owners.into_iter().collect() }
    }

    /// The owner of a cloud kind, if a registered plugin names it.
    pub fn owner(&self, provider_kind: &str) -> Option<&'a dyn ResourceOwner> {
        self.owners.iter().copied().find(|o| o.kinds().contains(&provider_kind))
    }

    /// Undoes one entry: `Ok(true)` once it is gone, `Ok(false)` when no
    /// plugin here owns its kind.
    pub async fn undo(&self, resource: &Resource) -> anyhow::Result<bool> {
        match resource {
            Resource::Cloud { provider_kind, .. } => match self.owner(provider_kind) {
                Some(owner) => owner.undo(resource).await.map(|()| true),
                None => Ok(false),
            },
            local => Ok(undo_local(local)?),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_survive_and_release_clears() {
        let dir = std::env::temp_dir().join(format!("bake-journal-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let j = Journal::create(&dir, "run-1").unwrap();
        let tmp = dir.join("scratch");
        std::fs::create_dir_all(&tmp).unwrap();
        let a = j.record("b1", Resource::Path { path: tmp.clone() }).unwrap();
        let b = j.record("b1", Resource::Process { pidfile: dir.join("pid"), pid: None, what: "qemu".into() }).unwrap();
        j.update(b, "b1", Resource::Process { pidfile: dir.join("pid"), pid: Some(1234567), what: "qemu".into() }).unwrap();
        j.release(a).unwrap();
        let state = read(j.path()).unwrap();
        assert_eq!(state.owner_pid, Some(std::process::id()));
        assert_eq!(state.pending.len(), 1);
        assert!(matches!(state.pending[0].2, Resource::Process { pid: Some(1234567), .. }));
        assert!(undo_local(&Resource::Path { path: tmp.clone() }).unwrap());
        assert!(!tmp.exists());
        j.release(b).unwrap();
        // A torn last line (a crash mid-write) is ignored.
        OpenOptions::new().append(true).open(j.path()).unwrap().write_all(b"{\"op\":\"rel").unwrap();
        assert_eq!(read(j.path()).unwrap().pending.len(), 0);
        let path = j.path().to_path_buf();
        j.finish().unwrap();
        assert!(!path.exists(), "a fully released journal is removed");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
