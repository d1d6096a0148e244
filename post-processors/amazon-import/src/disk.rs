//! The disk to upload, as 512 KiB EBS blocks: a raw file read block by
//! block, or a qcow2 read through its allocation map (only the clusters
//! that hold data are read; no raw copy is written). A block of zeros is
//! never sent: a new snapshot reads as zeros where nothing was written.

use bake_disk_image::qcow2::Qcow2;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// EBS direct's block size.
pub const BLOCK: u64 = 524_288;

pub enum Disk {
    Raw { file: File, size: u64 },
    Qcow2(Qcow2),
}

impl Disk {
    /// Opens `path`, a qcow2 by its magic, else raw.
    pub fn open(path: &Path) -> anyhow::Result<Disk> {
        let fail = |e: std::io::Error| anyhow::anyhow!("cannot read the disk {}: {e}", path.display());
        if bake_disk_image::qcow2::is_qcow2(path).map_err(fail)? {
            return Ok(Disk::Qcow2(Qcow2::open(path).map_err(fail)?));
        }
        let file = File::open(path).map_err(fail)?;
        let size = file.metadata().map_err(fail)?.len();
        Ok(Disk::Raw { file, size })
    }

    pub fn format(&self) -> &'static str {
        match self {
            Disk::Raw { .. } => "raw",
            Disk::Qcow2(_) => "qcow2",
        }
    }

    /// The guest disk's size in bytes.
    pub fn size(&self) -> u64 {
        match self {
            Disk::Raw { size, .. } => *size,
            Disk::Qcow2(q) => q.size,
        }
    }

    /// The snapshot's size: whole GiB.
    pub fn volume_gib(&self) -> i64 {
        (self.size().div_ceil(1 << 30)).max(1) as i64
    }

    /// The blocks that may hold data, in order: those a raw disk's file
    /// system has data for (holes of a sparse file are skipped unread), the
    /// blocks a qcow2 has clusters in.
    pub fn candidate_blocks(&self) -> Vec<u64> {
        match self {
            Disk::Raw { file, size } => {
                let mut blocks: Vec<u64> = Vec::new();
                for (start, end) in data_extents(file, *size) {
                    for b in start / BLOCK..end.div_ceil(BLOCK) {
                        if blocks.last() != Some(&b) {
                            blocks.push(b);
                        }
                    }
                }
                blocks
            }
            Disk::Qcow2(q) => {
                let mut blocks: Vec<u64> = Vec::new();
                for (start, end) in q.allocated_ranges() {
                    for b in start / BLOCK..end.div_ceil(BLOCK) {
                        if blocks.last() != Some(&b) {
                            blocks.push(b);
                        }
                    }
                }
                blocks
            }
        }
    }

    /// Reads block `index` (zeros past the end of the disk).
    pub fn read_block(&self, index: u64, buf: &mut [u8]) -> std::io::Result<()> {
        match self {
            Disk::Raw { file, size } => {
                buf.fill(0);
                let offset = index * BLOCK;
                let len = (size.saturating_sub(offset)).min(BLOCK) as usize;
                file.read_exact_at(&mut buf[..len], offset)
            }
            Disk::Qcow2(q) => {
                let offset = index * BLOCK;
                let len = (q.size.saturating_sub(offset)).min(BLOCK) as usize;
                buf.fill(0);
                q.read_at(&mut buf[..len], offset)
            }
        }
    }

    /// The first MiB, where the partition table is (for the boot mode).
    pub fn head(&self) -> std::io::Result<Vec<u8>> {
        let mut head = vec![0u8; 2 * BLOCK as usize];
        self.read_block(0, &mut head[..BLOCK as usize])?;
        self.read_block(1, &mut head[BLOCK as usize..])?;
        Ok(head)
    }
}

/// The ranges of `file` that hold data, by SEEK_DATA / SEEK_HOLE; the
/// whole file where the file system cannot say.
fn data_extents(file: &File, size: u64) -> Vec<(u64, u64)> {
    use std::os::fd::AsRawFd;
    let fd = file.as_raw_fd();
    let mut extents = Vec::new();
    let mut at: i64 = 0;
    let end = size as i64;
    while at < end {
        // SAFETY: lseek on a file descriptor this File owns; it only moves
        // the descriptor's offset, which nothing else here uses (reads are
        // positional).
        let data = unsafe { libc::lseek(fd, at, libc::SEEK_DATA) };
        if data < 0 {
            if std::io::Error::last_os_error().raw_os_error() == Some(libc::ENXIO) {
                break; // no data after `at`
            }
            return vec![(0, size)];
        }
        // SAFETY: as above.
        let hole = unsafe { libc::lseek(fd, data, libc::SEEK_HOLE) };
        let hole = if hole < 0 { end } else { hole.min(end) };
        extents.push((data as u64, hole as u64));
        at = hole;
    }
    extents
}

pub fn is_zero(block: &[u8]) -> bool {
    block.iter().all(|b| *b == 0)
}
