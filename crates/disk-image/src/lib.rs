//! Assembling a GPT disk from partition images without mounting anything:
//! `sfdisk` writes the table, and the images are copied in at their offsets,
//! skipping zero blocks so the result stays sparse.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

pub const SECTOR: u64 = 512;
/// Partitions start at 1 MiB, as every modern tool aligns them.
pub const FIRST_LBA: u64 = 2048;
pub const ESP_TYPE: &str = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";
/// "Linux root (x86-64)" in the Discoverable Partitions Specification.
pub const ROOT_TYPE: &str = "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709";

/// Where each partition goes, in sectors.
pub struct Layout {
    pub esp_start: u64,
    pub esp_sectors: u64,
    pub root_start: u64,
    pub root_sectors: u64,
    pub total_bytes: u64,
}

pub fn layout(esp_bytes: u64, root_bytes: u64) -> Layout {
    let esp_sectors = esp_bytes / SECTOR;
    let root_sectors = root_bytes / SECTOR;
    let root_start = FIRST_LBA + esp_sectors;
    // Room for the backup GPT at the end.
    let total_bytes = (root_start + root_sectors + FIRST_LBA) * SECTOR;
    Layout { esp_start: FIRST_LBA, esp_sectors, root_start, root_sectors, total_bytes }
}

/// The `sfdisk` script for the layout.
pub fn sfdisk_script(l: &Layout) -> String {
    format!(
        "label: gpt\nstart={}, size={}, type={ESP_TYPE}, name=\"ESP\"\nstart={}, size={}, type={ROOT_TYPE}, name=\"root\"\n",
        l.esp_start, l.esp_sectors, l.root_start, l.root_sectors
    )
}

/// Copies `src` into `dst` at byte `offset`, leaving holes where `src` is zero.
pub fn copy_sparse(src: &Path, dst: &Path, offset: u64) -> std::io::Result<()> {
    let mut input = File::open(src)?;
    let mut output = OpenOptions::new().write(true).open(dst)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut pos = offset;
    loop {
        let n = read_full(&mut input, &mut buf)?;
        if n == 0 {
            break;
        }
        if buf[..n].iter().any(|b| *b != 0) {
            output.seek(SeekFrom::Start(pos))?;
            output.write_all(&buf[..n])?;
        }
        pos += n as u64;
    }
    output.sync_all()
}

fn read_full(r: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_aligned_and_ordered() {
        let l = layout(256 << 20, 3 << 30);
        assert_eq!(l.esp_start, 2048);
        assert_eq!(l.root_start, 2048 + 524288);
        assert_eq!(l.root_start % 2048, 0, "1 MiB alignment");
        assert!(l.total_bytes > (l.root_start + l.root_sectors) * SECTOR);
        assert!(sfdisk_script(&l).contains(ROOT_TYPE));
    }

    #[test]
    fn sparse_copy_lands_at_the_offset() {
        let dir = std::env::temp_dir().join(format!("bake-disk-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let src = dir.join("src");
        let dst = dir.join("dst");
        let mut data = vec![0u8; 3 << 20];
        data[(2 << 20) + 5] = 7;
        std::fs::write(&src, &data).unwrap();
        File::create(&dst).unwrap().set_len(8 << 20).unwrap();
        copy_sparse(&src, &dst, 1 << 20).unwrap();
        let out = std::fs::read(&dst).unwrap();
        assert_eq!(out[(3 << 20) + 5], 7);
        assert_eq!(out.iter().filter(|b| **b != 0).count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
