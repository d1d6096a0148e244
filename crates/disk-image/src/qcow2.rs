//! Reading a qcow2 image where it holds data, without converting it: the
//! header, the L1 and L2 tables, and each allocated cluster (zlib-compressed
//! ones inflated). An upload reads only the clusters that hold data and
//! never writes a raw copy of the disk first.
//!
//! What bake's images use is supported: versions 2 and 3, any cluster size,
//! compressed clusters (deflate), zero clusters. An image with a backing
//! file, encryption, external data or extended L2 entries is refused with a
//! message saying how to flatten it (`qemu-img convert`).

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

const MAGIC: &[u8; 4] = b"QFI\xfb";
/// Host offsets in L1 and standard L2 entries (bits 9–55).
const OFFSET_MASK: u64 = 0x00ff_ffff_ffff_fe00;
const COMPRESSED: u64 = 1 << 62;
/// A version 3 L2 entry that reads as zeros.
const ZERO: u64 = 1;

/// Where one guest cluster's data is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cluster {
    /// Uncompressed, at this host offset.
    Plain(u64),
    /// Deflated, `len` bytes at this host offset.
    Compressed { offset: u64, len: u64 },
}

pub struct Qcow2 {
    file: File,
    /// The guest disk's size in bytes.
    pub size: u64,
    pub cluster_size: u64,
    /// Guest cluster index → where its data is, for every cluster that
    /// holds data (unallocated and zero clusters read as zeros), sorted.
    clusters: Vec<(u64, Cluster)>,
}

fn be64(b: &[u8], at: usize) -> u64 {
    u64::from_be_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

/// Whether `path` starts with the qcow2 magic.
pub fn is_qcow2(path: &Path) -> io::Result<bool> {
    let mut magic = [0u8; 4];
    let file = File::open(path)?;
    Ok(file.read_exact_at(&mut magic, 0).is_ok() && &magic == MAGIC)
}

impl Qcow2 {
    /// Opens an image and reads its allocation map (the L1 and L2 tables).
    pub fn open(path: &Path) -> io::Result<Qcow2> {
        let file = File::open(path)?;
        let mut h = [0u8; 104];
        file.read_exact_at(&mut h[..72], 0)?;
        if &h[..4] != MAGIC {
            return Err(invalid(format!("{} is not a qcow2 image", path.display())));
        }
        let version = be32(&h, 4);
        if !(2..=3).contains(&version) {
            return Err(invalid(format!("{}: qcow2 version {version} is not supported (2 and 3 are)", path.display())));
        }
        let flatten = |what: &str| invalid(format!("{} has {what}; flatten it first: qemu-img convert -O qcow2 {} flat.qcow2", path.display(), path.display()));
        if be64(&h, 8) != 0 {
            return Err(flatten("a backing file"));
        }
        let cluster_bits = be32(&h, 20);
        if !(9..=21).contains(&cluster_bits) {
            return Err(invalid(format!("{}: cluster_bits {cluster_bits} is out of range", path.display())));
        }
        let size = be64(&h, 24);
        if be32(&h, 32) != 0 {
            return Err(flatten("encryption"));
        }
        let l1_size = u64::from(be32(&h, 36));
        let l1_offset = be64(&h, 40);
        if version == 3 {
            file.read_exact_at(&mut h[72..104], 72)?;
            let incompatible = be64(&h, 72);
            // Bit 0: dirty and bit 1: corrupt are about consistency; refuse
            // corrupt. Bit 2: external data file, 3: compression type, 4:
            // extended L2.
            if incompatible & 0b10 != 0 {
                return Err(invalid(format!("{} is marked corrupt; check it with qemu-img check -r all", path.display())));
            }
            if incompatible & 0b100 != 0 {
                return Err(flatten("an external data file"));
            }
            if incompatible & 0b1_0000 != 0 {
                return Err(flatten("extended L2 entries"));
            }
            let header_length = be32(&h, 100);
            if incompatible & 0b1000 != 0 && header_length > 104 {
                let mut ct = [0u8; 1];
                file.read_exact_at(&mut ct, 104)?;
                if ct[0] != 0 {
                    return Err(flatten("zstd-compressed clusters"));
                }
            }
        }
        let cluster_size = 1u64 << cluster_bits;
        let l2_entries = cluster_size / 8;
        let mut l1 = vec![0u8; usize::try_from(l1_size * 8).map_err(|_| invalid("L1 table too large".into()))?];
        file.read_exact_at(&mut l1, l1_offset)?;
        let guest_clusters = size.div_ceil(cluster_size);
        // Compressed entries: the offset takes 62 - (cluster_bits - 8) bits,
        // the rest (up to bit 61) counts extra 512-byte sectors.
        let offset_bits = 62 - (cluster_bits - 8);
        let mut clusters = Vec::new();
        let mut l2 = vec![0u8; cluster_size as usize];
        for i in 0..l1_size {
            let l2_offset = be64(&l1, (i * 8) as usize) & OFFSET_MASK;
            if l2_offset == 0 {
                continue;
            }
            file.read_exact_at(&mut l2, l2_offset)?;
            for j in 0..l2_entries {
                let guest = i * l2_entries + j;
                if guest >= guest_clusters {
                    break;
                }
                let entry = be64(&l2, (j * 8) as usize);
                if entry & COMPRESSED != 0 {
                    let offset = entry & ((1u64 << offset_bits) - 1);
                    let sectors = ((entry & !COMPRESSED & !(1u64 << 63)) >> offset_bits) + 1;
                    let len = sectors * 512 - (offset & 511);
                    clusters.push((guest, Cluster::Compressed { offset, len }));
                } else if version == 3 && entry & ZERO != 0 {
                    continue;
                } else if entry & OFFSET_MASK != 0 {
                    clusters.push((guest, Cluster::Plain(entry & OFFSET_MASK)));
                }
            }
        }
        Ok(Qcow2 { file, size, cluster_size, clusters })
    }

    /// How many bytes of the guest disk the image holds data for.
    pub fn allocated_bytes(&self) -> u64 {
        self.clusters.len() as u64 * self.cluster_size
    }

    /// The guest ranges `[start, end)` that hold data, merged, in order.
    pub fn allocated_ranges(&self) -> Vec<(u64, u64)> {
        let mut ranges: Vec<(u64, u64)> = Vec::new();
        for (guest, _) in &self.clusters {
            let start = guest * self.cluster_size;
            let end = (start + self.cluster_size).min(self.size);
            match ranges.last_mut() {
                Some(last) if last.1 == start => last.1 = end,
                _ => ranges.push((start, end)),
            }
        }
        ranges
    }

    /// Reads guest bytes `[offset, offset + buf.len())` into `buf`: data
    /// where the image has it, zeros elsewhere.
    pub fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        buf.fill(0);
        let end = offset + buf.len() as u64;
        let first = offset / self.cluster_size;
        let start = self.clusters.partition_point(|(g, _)| *g < first);
        let mut cluster = vec![0u8; self.cluster_size as usize];
        for (guest, place) in &self.clusters[start..] {
            let c_start = guest * self.cluster_size;
            if c_start >= end {
                break;
            }
            self.read_cluster(*place, &mut cluster)?;
            let from = offset.max(c_start);
            let to = end.min(c_start + self.cluster_size);
            buf[(from - offset) as usize..(to - offset) as usize].copy_from_slice(&cluster[(from - c_start) as usize..(to - c_start) as usize]);
        }
        Ok(())
    }

    fn read_cluster(&self, place: Cluster, out: &mut [u8]) -> io::Result<()> {
        match place {
            Cluster::Plain(at) => self.file.read_exact_at(out, at),
            Cluster::Compressed { offset, len } => {
                let mut packed = vec![0u8; len as usize];
                // The last compressed cluster may end before `len` does.
                let mut got = 0;
                while got < packed.len() {
                    match self.file.read_at(&mut packed[got..], offset + got as u64)? {
                        0 => break,
                        n => got += n,
                    }
                }
                let mut inflate = flate2::Decompress::new(false);
                inflate
                    .decompress(&packed[..got], out, flate2::FlushDecompress::Finish)
                    .map_err(|e| invalid(format!("a compressed cluster does not inflate: {e}")))?;
                if inflate.total_out() != out.len() as u64 {
                    return Err(invalid(format!("a compressed cluster inflated to {} bytes, not {}", inflate.total_out(), out.len())));
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn qemu_img(args: &[&str]) -> bool {
        Command::new("qemu-img").args(args).status().is_ok_and(|s| s.success())
    }

    /// A raw disk with data in a few places (and a long run of zeros), as
    /// qemu-img converts it: plain and compressed.
    #[test]
    fn reads_what_qemu_img_wrote_plain_and_compressed() {
        let dir = std::env::temp_dir().join(format!("bake-qcow2-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let raw = dir.join("disk.raw");
        let mut data = vec![0u8; 8 << 20];
        for (i, b) in data[..300_000].iter_mut().enumerate() {
            *b = (i * 7 % 251) as u8;
        }
        data[5 << 20..(5 << 20) + 70_000].fill(0xab);
        let tail = data.len() - 100;
        data[tail..].fill(0x5a);
        std::fs::write(&raw, &data).unwrap();
        for (name, extra) in [("plain.qcow2", None), ("packed.qcow2", Some("-c"))] {
            let out = dir.join(name);
            let mut args = vec!["convert", "-q", "-f", "raw", "-O", "qcow2"];
            args.extend(extra);
            args.extend([raw.to_str().unwrap(), out.to_str().unwrap()]);
            assert!(qemu_img(&args), "qemu-img convert (scripts/setup.sh installs qemu-utils)");
            let image = Qcow2::open(&out).unwrap();
            assert_eq!(image.size, data.len() as u64);
            assert!(image.allocated_bytes() < data.len() as u64 / 4, "{name}: only the data is allocated ({} bytes)", image.allocated_bytes());
            let mut back = vec![0u8; data.len()];
            image.read_at(&mut back, 0).unwrap();
            assert!(back == data, "{name} reads back as the raw disk");
            let mut piece = vec![0u8; 1000];
            image.read_at(&mut piece, (5 << 20) - 500).unwrap();
            assert_eq!(&piece[..], &data[(5 << 20) - 500..(5 << 20) + 500], "{name}: a read across clusters");
        }
        assert!(!is_qcow2(&raw).unwrap() && is_qcow2(&dir.join("plain.qcow2")).unwrap());
        let backed = dir.join("backed.qcow2");
        assert!(qemu_img(&["create", "-q", "-f", "qcow2", "-b", dir.join("plain.qcow2").to_str().unwrap(), "-F", "qcow2", backed.to_str().unwrap()]));
        let e = Qcow2::open(&backed).err().unwrap().to_string();
        assert!(e.contains("a backing file") && e.contains("qemu-img convert"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
