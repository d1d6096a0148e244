//! Assembling a GPT disk from partition images without mounting anything:
//! `sfdisk` writes the table, and the images are copied in at their offsets,
//! skipping zero blocks so the result stays sparse.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

pub mod qcow2;

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

/// The firmware a disk boots with, as EC2's `BootMode` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BootMode {
    /// GPT with an EFI system partition only.
    Uefi,
    /// GPT with both an EFI system partition and a BIOS boot partition.
    UefiPreferred,
    /// Anything else (MBR).
    LegacyBios,
}

impl BootMode {
    pub fn as_str(self) -> &'static str {
        match self {
            BootMode::Uefi => "uefi",
            BootMode::UefiPreferred => "uefi-preferred",
            BootMode::LegacyBios => "legacy-bios",
        }
    }
}

/// A partition type GUID as GPT stores it (the first three fields little-endian).
fn guid_bytes(text: &str) -> [u8; 16] {
    let hex: String = text.chars().filter(|c| *c != '-').collect();
    let mut b = [0u8; 16];
    for (i, byte) in b.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16).unwrap_or(0);
    }
    b[0..4].reverse();
    b[4..6].reverse();
    b[6..8].reverse();
    b
}

/// The boot mode a disk needs, from its first MiB (the partition table):
/// the debootstrap disks (GPT, an ESP, no BIOS boot partition) need UEFI.
pub fn boot_mode(head: &[u8]) -> BootMode {
    let le32 = |at: usize| head.get(at..at + 4).map_or(0, |b| u32::from_le_bytes(b.try_into().unwrap_or_default()));
    let sector = SECTOR as usize;
    if head.get(sector..sector + 8) != Some(b"EFI PART".as_slice()) {
        return BootMode::LegacyBios;
    }
    let entries_lba = u64::from_le_bytes(head[sector + 72..sector + 80].try_into().unwrap_or_default()) as usize;
    let (count, size) = (le32(sector + 80) as usize, le32(sector + 84) as usize);
    let (esp, bios) = (guid_bytes(ESP_TYPE), guid_bytes(BIOS_BOOT_TYPE));
    let (mut has_esp, mut has_bios) = (false, false);
    for i in 0..count.min(256) {
        let at = entries_lba * sector + i * size;
        let Some(kind) = head.get(at..at + 16) else { break };
        has_esp |= kind == esp;
        has_bios |= kind == bios;
    }
    match (has_esp, has_bios) {
        (true, false) => BootMode::Uefi,
        (true, true) => BootMode::UefiPreferred,
        _ => BootMode::LegacyBios,
    }
}

/// GRUB's BIOS boot partition.
pub const BIOS_BOOT_TYPE: &str = "21686148-6449-6E6F-744E-656564454649";

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

    /// Partition tables written by sfdisk, as the debootstrap disks are.
    #[test]
    fn the_boot_mode_follows_the_partition_table() {
        let dir = std::env::temp_dir().join(format!("bake-boot-mode-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let disk = dir.join("disk");
        let mode = |script: &str| {
            File::create(&disk).unwrap().set_len(64 << 20).unwrap();
            let mut child = std::process::Command::new("sfdisk").arg("-q").arg(&disk).stdin(std::process::Stdio::piped()).spawn().expect("sfdisk");
            Write::write_all(child.stdin.as_mut().unwrap(), script.as_bytes()).unwrap();
            assert!(child.wait().unwrap().success(), "sfdisk {script}");
            boot_mode(&std::fs::read(&disk).unwrap()[..1 << 20])
        };
        assert_eq!(mode(&sfdisk_script(&layout(8 << 20, 32 << 20))), BootMode::Uefi, "bake's own GPT layout");
        assert_eq!(mode(&format!("label: gpt\nsize=1MiB, type={BIOS_BOOT_TYPE}\nsize=8MiB, type={ESP_TYPE}\ntype={ROOT_TYPE}\n")), BootMode::UefiPreferred);
        assert_eq!(mode("label: dos\ntype=83, bootable\n"), BootMode::LegacyBios);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
