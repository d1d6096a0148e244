//! Files and directories over SFTP, one SFTP channel per operation.
//!
//! Modes are carried across (`mode & 0o7777`). Symbolic links are followed:
//! a link to a file arrives as a file, a link to a directory as a directory
//! (each real directory is entered once, so a link loop ends).

use super::{SshCommunicator, SshError};
use russh_sftp::client::SftpSession;
use russh_sftp::protocol::{FileAttributes, FileType};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Bytes per read from the source; the SFTP client splits writes into
/// packets and keeps several in flight.
const CHUNK: usize = 256 * 1024;
/// Seconds an SFTP request may wait for its reply. Generous, for guests
/// under software emulation.
const REQUEST_TIMEOUT_SECS: u64 = 60;

pub(crate) struct Sftp {
    sftp: SftpSession,
    /// Keeps the channel's slot until the SFTP session is dropped.
    _permit: tokio::sync::OwnedSemaphorePermit,
}

fn fail(what: impl std::fmt::Display, e: impl std::fmt::Display) -> SshError {
    SshError::Transfer(format!("{what}: {e}"))
}

impl Sftp {
    pub(crate) async fn open(comm: &SshCommunicator) -> Result<Sftp, SshError> {
        let super::client::Lease { channel, permit, .. } = comm.open_channel().await?;
        let address = comm.address();
        channel.request_subsystem(true, "sftp").await.map_err(|e| SshError::Refused(format!("the SSH server at {address} would not start SFTP: {e}")))?;
        let sftp = SftpSession::new(channel.into_stream()).await.map_err(|e| {
            SshError::Refused(format!(
                "the SSH server at {address} did not start SFTP ({e}); bake copies files over SFTP, so the server needs a `Subsystem sftp` line (OpenSSH's default)"
            ))
        })?;
        // ssh_read_write_timeout bounds each request too: a request is
        // answered, or the connection is silent that long.
        let timeout = comm.read_write_timeout().map_or(REQUEST_TIMEOUT_SECS, |d| d.as_secs().max(1));
        sftp.set_timeout(timeout);
        Ok(Sftp { sftp, _permit: permit })
    }

    /// Writes `data` to `dst` and sets its mode.
    pub(crate) async fn upload(&self, data: &[u8], dst: &str, mode: u32) -> Result<(), SshError> {
        let what = || format!("uploading to {dst}");
        let mut file = self.sftp.create(dst).await.map_err(|e| fail(what(), e))?;
        file.write_all(data).await.map_err(|e| fail(what(), e))?;
        file.set_metadata(mode_attrs(mode)).await.map_err(|e| fail(format!("setting the mode of {dst}"), e))?;
        // `close` waits for every write to be acknowledged.
        file.close().await.map_err(|e| fail(what(), e))
    }

    /// Copies the local file `src` to `dst`, with its mode.
    pub(crate) async fn upload_file(&self, src: &Path, dst: &str) -> Result<(), SshError> {
        let what = || format!("uploading {} to {dst}", src.display());
        let mut local = tokio::fs::File::open(src).await.map_err(|e| fail(what(), e))?;
        let mode = local.metadata().await.map_err(|e| fail(what(), e))?.permissions();
        let mut remote = self.sftp.create(dst).await.map_err(|e| fail(what(), e))?;
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = local.read(&mut buf).await.map_err(|e| fail(what(), e))?;
            if n == 0 {
                break;
            }
            remote.write_all(&buf[..n]).await.map_err(|e| fail(what(), e))?;
        }
        use std::os::unix::fs::PermissionsExt;
        remote.set_metadata(mode_attrs(mode.mode())).await.map_err(|e| fail(format!("setting the mode of {dst}"), e))?;
        remote.close().await.map_err(|e| fail(what(), e))
    }

    /// Copies the contents of the local directory `src` into `dst`,
    /// creating `dst` (and its parents) as needed.
    pub(crate) async fn upload_dir(&self, src: &Path, dst: &str) -> Result<(), SshError> {
        let meta = std::fs::metadata(src).map_err(|e| fail(format!("uploading {}", src.display()), e))?;
        if !meta.is_dir() {
            return Err(fail(format!("uploading {}", src.display()), "not a directory"));
        }
        let created = self.mkdir_p(dst).await?;
        // Directory modes are set last, deepest first, so that a read-only
        // directory does not stop its own contents from being written.
        let mut modes: Vec<(String, u32)> = Vec::new();
        if created {
            modes.push((dst.to_string(), unix_mode(&meta)));
        }
        let mut seen = HashSet::new();
        seen.insert(std::fs::canonicalize(src).unwrap_or_else(|_| src.to_path_buf()));
        let mut stack = vec![(src.to_path_buf(), dst.to_string())];
        while let Some((local_dir, remote_dir)) = stack.pop() {
            for (name, path) in sorted_entries(&local_dir)? {
                let remote = remote_join(&remote_dir, &name);
                // `metadata` follows symbolic links.
                let meta = std::fs::metadata(&path).map_err(|e| fail(format!("uploading {}", path.display()), e))?;
                if meta.is_dir() {
                    let real = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
                    if !seen.insert(real) {
                        continue;
                    }
                    self.mkdir(&remote).await?;
                    modes.push((remote.clone(), unix_mode(&meta)));
                    stack.push((path, remote));
                } else if meta.is_file() {
                    self.upload_file(&path, &remote).await?;
                } else {
                    return Err(fail(format!("uploading {}", path.display()), "not a regular file or directory"));
                }
            }
        }
        for (dir, mode) in modes.into_iter().rev() {
            self.sftp.set_metadata(dir.as_str(), mode_attrs(mode)).await.map_err(|e| fail(format!("setting the mode of {dir}"), e))?;
        }
        Ok(())
    }

    /// Copies the remote file `src` to the local path `dst`, with its mode.
    /// Written to a temporary name beside `dst` and renamed into place, so
    /// a failed download leaves no partial file under the final name.
    pub(crate) async fn download_file(&self, src: &str, dst: &Path) -> Result<(), SshError> {
        let what = || format!("downloading {src} to {}", dst.display());
        let mut remote = self.sftp.open(src).await.map_err(|e| fail(what(), e))?;
        let attrs = remote.metadata().await.map_err(|e| fail(what(), e))?;
        if attrs.file_type() == FileType::Dir {
            return Err(fail(what(), "it is a directory"));
        }
        if let Some(parent) = dst.parent().filter(|p| !p.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(parent).await.map_err(|e| fail(what(), e))?;
        }
        let tmp = temp_name(dst);
        let result = async {
            let mut local = tokio::fs::File::create(&tmp).await?;
            let mut buf = vec![0u8; CHUNK];
            loop {
                let n = remote.read(&mut buf).await?;
                if n == 0 {
                    break;
                }
                local.write_all(&buf[..n]).await?;
            }
            local.flush().await?;
            if let Some(mode) = attrs.permissions {
                use std::os::unix::fs::PermissionsExt;
                local.set_permissions(std::fs::Permissions::from_mode(mode & 0o7777)).await?;
            }
            drop(local);
            tokio::fs::rename(&tmp, dst).await
        }
        .await;
        if let Err(e) = result {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(fail(what(), e));
        }
        Ok(())
    }

    /// Copies the contents of the remote directory `src` into the local
    /// directory `dst`, creating it as needed.
    pub(crate) async fn download_dir(&self, src: &str, dst: &Path) -> Result<(), SshError> {
        let what = |p: &str| format!("downloading {p}");
        let top = self.sftp.metadata(src).await.map_err(|e| fail(what(src), e))?;
        if top.file_type() != FileType::Dir {
            return Err(fail(what(src), "not a directory"));
        }
        std::fs::create_dir_all(dst).map_err(|e| fail(what(src), e))?;
        let mut modes: Vec<(PathBuf, u32)> = Vec::new();
        let mut seen = HashSet::new();
        seen.insert(self.sftp.canonicalize(src).await.unwrap_or_else(|_| src.to_string()));
        let mut stack = vec![(src.to_string(), dst.to_path_buf())];
        while let Some((remote_dir, local_dir)) = stack.pop() {
            let mut entries: Vec<_> = self.sftp.read_dir(remote_dir.as_str()).await.map_err(|e| fail(what(&remote_dir), e))?.collect();
            entries.sort_by_key(|e| e.file_name());
            for entry in entries {
                let name = entry.file_name();
                let remote = remote_join(&remote_dir, &name);
                let local = local_dir.join(&name);
                let mut attrs = entry.metadata();
                if attrs.file_type() == FileType::Symlink {
                    attrs = self.sftp.metadata(remote.as_str()).await.map_err(|e| fail(what(&remote), e))?;
                }
                match attrs.file_type() {
                    FileType::Dir => {
                        let real = self.sftp.canonicalize(remote.as_str()).await.unwrap_or_else(|_| remote.clone());
                        if !seen.insert(real) {
                            continue;
                        }
                        std::fs::create_dir_all(&local).map_err(|e| fail(what(&remote), e))?;
                        if let Some(mode) = attrs.permissions {
                            modes.push((local.clone(), mode & 0o7777));
                        }
                        stack.push((remote, local));
                    }
                    FileType::File => self.download_file(&remote, &local).await?,
                    _ => return Err(fail(what(&remote), "not a regular file or directory")),
                }
            }
        }
        for (dir, mode) in modes.into_iter().rev() {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode)).map_err(|e| fail(format!("setting the mode of {}", dir.display()), e))?;
        }
        Ok(())
    }

    /// Creates `path` and its missing parents; true if `path` was created.
    async fn mkdir_p(&self, path: &str) -> Result<bool, SshError> {
        if self.is_dir(path).await? {
            return Ok(false);
        }
        let mut prefix = if path.starts_with('/') { "/".to_string() } else { String::new() };
        for part in path.split('/').filter(|p| !p.is_empty() && *p != ".") {
            prefix = remote_join(&prefix, part);
            if !self.is_dir(&prefix).await? {
                self.mkdir(&prefix).await?;
            }
        }
        Ok(true)
    }

    /// Whether `path` is a directory; an error if it exists as something else.
    async fn is_dir(&self, path: &str) -> Result<bool, SshError> {
        match self.sftp.metadata(path).await {
            Ok(attrs) if attrs.file_type() == FileType::Dir => Ok(true),
            Ok(_) => Err(fail(format!("creating the directory {path}"), "a file of that name exists")),
            Err(_) => Ok(false),
        }
    }

    /// Creates one directory; one that exists already is fine.
    async fn mkdir(&self, path: &str) -> Result<(), SshError> {
        match self.sftp.create_dir(path).await {
            Ok(()) => Ok(()),
            Err(e) => {
                if self.is_dir(path).await? {
                    Ok(())
                } else {
                    Err(fail(format!("creating the directory {path}"), e))
                }
            }
        }
    }
}

fn mode_attrs(mode: u32) -> FileAttributes {
    let mut attrs = FileAttributes::empty();
    attrs.permissions = Some(mode & 0o7777);
    attrs
}

fn unix_mode(meta: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o7777
}

/// Entries of a local directory by name, for a stable order of transfer.
fn sorted_entries(dir: &Path) -> Result<Vec<(String, PathBuf)>, SshError> {
    let what = || format!("reading the directory {}", dir.display());
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| fail(what(), e))? {
        let entry = entry.map_err(|e| fail(what(), e))?;
        let name = entry.file_name().into_string().map_err(|n| fail(what(), format!("{n:?} is not a UTF-8 file name, which SFTP paths need")))?;
        out.push((name, entry.path()));
    }
    out.sort();
    Ok(out)
}

/// Joins remote (POSIX) paths.
fn remote_join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

fn temp_name(dst: &Path) -> PathBuf {
    let name = dst.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "download".into());
    dst.with_file_name(format!(".{name}.bake-partial-{}", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins() {
        assert_eq!(remote_join("/", "a"), "/a");
        assert_eq!(remote_join("/tmp/x", "a"), "/tmp/x/a");
        assert_eq!(remote_join("", "a"), "a");
        assert_eq!(remote_join("rel/", "a"), "rel/a");
    }
}
