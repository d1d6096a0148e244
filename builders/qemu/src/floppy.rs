//! Packer's floppy: a 1.44 MB FAT12 image made without root (mtools'
//! `mformat` and `mcopy` write into the file directly), attached as `-fda`.
//!
//! What goes on it, as Packer puts it there: `floppy_files` flat in the root
//! (a directory given there contributes its files, flattened), `floppy_dirs`
//! with their tree under their own name, and `floppy_content` (path → text)
//! last, so that it wins over a file of the same name. Wildcards (`*`, `?`,
//! `[…]`) match within one path element, as Go's `filepath.Glob` does.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The FAT volume label Packer gives a floppy unless `floppy_label` says.
pub const DEFAULT_LABEL: &str = "packer";

/// A FAT volume label: at most 11 characters, none that FAT forbids.
pub fn check_label(label: &str) -> Result<(), String> {
    if label.is_empty() || label.len() > 11 {
        return Err(format!("a FAT volume label has 1 to 11 characters; \"{label}\" has {}.", label.len()));
    }
    if let Some(c) = label.chars().find(|c| !c.is_ascii() || c.is_ascii_control() || "\"*+,./:;<=>?[\\]|".contains(*c)) {
        return Err(format!("the FAT volume label \"{label}\" contains '{c}', which FAT does not allow."));
    }
    Ok(())
}

fn has_wildcard(path: &str) -> bool {
    path.contains(['*', '?', '['])
}

/// A `floppy_files` / `floppy_dirs` entry: a path that exists (a directory
/// for `floppy_dirs`), or a valid wildcard pattern.
pub fn check_source(path: &str, dirs_only: bool) -> Result<(), String> {
    if has_wildcard(path) {
        return expand(path).map(|_| ());
    }
    match std::fs::metadata(path) {
        Ok(m) if dirs_only && !m.is_dir() => Err(format!("\"{path}\" is not a directory.")),
        Ok(_) => Ok(()),
        Err(e) => Err(format!("\"{path}\": {e}.")),
    }
}

/// A `floppy_content` key: a relative path that stays on the floppy.
pub fn check_content_path(path: &str) -> Result<(), String> {
    let p = Path::new(path.trim_start_matches('/'));
    if p.as_os_str().is_empty() || p.components().any(|c| !matches!(c, std::path::Component::Normal(_))) {
        return Err(format!("the path \"{path}\" must name a file on the floppy, without \"..\" or \".\"."));
    }
    Ok(())
}

/// The paths a pattern matches, sorted; a path without wildcards as is.
fn expand(pattern: &str) -> Result<Vec<PathBuf>, String> {
    if !has_wildcard(pattern) {
        return Ok(vec![PathBuf::from(pattern)]);
    }
    let absolute = pattern.starts_with('/');
    let mut found = vec![if absolute { PathBuf::from("/") } else { PathBuf::new() }];
    for part in pattern.split('/').filter(|p| !p.is_empty()) {
        if !has_wildcard(part) {
            found = found.into_iter().map(|f| f.join(part)).filter(|f| f.exists()).collect();
            continue;
        }
        let matcher = globset::Glob::new(part).map_err(|e| format!("\"{pattern}\" is not a valid pattern: {e}"))?.compile_matcher();
        let mut next = Vec::new();
        for dir in &found {
            let listing = if dir.as_os_str().is_empty() { Path::new(".") } else { dir.as_path() };
            let Ok(entries) = std::fs::read_dir(listing) else { continue };
            for e in entries.flatten() {
                if matcher.is_match(e.file_name()) {
                    next.push(dir.join(e.file_name()));
                }
            }
        }
        found = next;
    }
    found.sort();
    Ok(found)
}

/// Lays out what goes on the floppy in `staging` (floppy path → host file).
fn layout(files: &[String], dirs: &[String], content: &BTreeMap<String, String>, staging: &Path) -> anyhow::Result<BTreeMap<String, PathBuf>> {
    let mut entries = BTreeMap::new();
    for pattern in files {
        for path in expand(pattern).map_err(anyhow::Error::msg)? {
            if path.is_dir() {
                for file in walk(&path)? {
                    entries.insert(file_name(&file)?, file);
                }
            } else {
                entries.insert(file_name(&path)?, path);
            }
        }
    }
    for pattern in dirs {
        for dir in expand(pattern).map_err(anyhow::Error::msg)? {
            let base = dir.parent().map(Path::to_path_buf).unwrap_or_default();
            for file in walk(&dir)? {
                let relative = file.strip_prefix(&base).unwrap_or(&file);
                entries.insert(relative.to_string_lossy().into_owned(), file);
            }
        }
    }
    std::fs::create_dir_all(staging)?;
    for (i, (path, text)) in content.iter().enumerate() {
        let host = staging.join(format!("content-{i}"));
        std::fs::write(&host, text)?;
        entries.insert(path.trim_start_matches('/').to_string(), host);
    }
    Ok(entries)
}

fn file_name(path: &Path) -> anyhow::Result<String> {
    Ok(path.file_name().ok_or_else(|| anyhow::anyhow!("\"{}\" has no file name", path.display()))?.to_string_lossy().into_owned())
}

/// Every file under `dir`, depth first, sorted.
fn walk(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut entries: Vec<PathBuf> =
        std::fs::read_dir(dir).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", dir.display()))?.flatten().map(|e| e.path()).collect();
    entries.sort();
    for e in entries {
        if e.is_dir() {
            out.extend(walk(&e)?);
        } else {
            out.push(e);
        }
    }
    Ok(out)
}

/// Writes the floppy image `dest`.
pub async fn make(dest: &Path, label: &str, files: &[String], dirs: &[String], content: &BTreeMap<String, String>, staging: &Path) -> anyhow::Result<()> {
    let entries = layout(files, dirs, content, staging)?;
    let image = dest.display().to_string();
    mtool("mformat", &["-C", "-i", &image, "-f", "1440", "-v", label, "::"]).await?;
    let mut made = std::collections::BTreeSet::new();
    for (path, host) in &entries {
        // Parent directories first, each once.
        let mut dir = String::new();
        for part in path.split('/').collect::<Vec<_>>().split_last().map_or(&[][..], |(_, dirs)| dirs) {
            dir = if dir.is_empty() { part.to_string() } else { format!("{dir}/{part}") };
            if made.insert(dir.clone()) {
                mtool("mmd", &["-i", &image, &format!("::/{dir}")]).await?;
            }
        }
        let host = host.display().to_string();
        mtool("mcopy", &["-i", &image, "-o", &host, &format!("::/{path}")]).await.map_err(|e| {
            if e.to_string().contains("Disk full") {
                anyhow::anyhow!("the floppy files do not fit on a 1.44 MB floppy; serve large files with http_directory or cd_files")
            } else {
                e
            }
        })?;
    }
    Ok(())
}

async fn mtool(tool: &str, args: &[&str]) -> anyhow::Result<()> {
    // mtools refuses images whose geometry it does not know unless told so.
    let out = bake_sdk::process::output(tokio::process::Command::new(tool).args(args).env("MTOOLS_SKIP_CHECK", "1").kill_on_drop(true))
        .await
        .map_err(|e| anyhow::anyhow!("cannot run {tool} ({e}); install it with: apt-get install mtools"))?;
    if !out.status.success() {
        anyhow::bail!("{tool} failed: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_follow_fat() {
        assert!(check_label("cidata").is_ok());
        assert!(check_label("PACKER 2024").is_ok());
        assert!(check_label("twelve chars").unwrap_err().contains("1 to 11"));
        assert!(check_label("a/b").unwrap_err().contains("'/'"));
    }

    fn mtools(tool: &str, image: &Path, args: &[&str]) -> String {
        let out = std::process::Command::new(tool).arg("-i").arg(image).args(args).env("MTOOLS_SKIP_CHECK", "1").output().unwrap();
        assert!(out.status.success(), "{tool} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    #[tokio::test]
    async fn the_floppy_holds_what_packer_puts_there() {
        let dir = bake_sdk::testing::scratch_dir("floppy");
        let src = dir.join("src");
        std::fs::create_dir_all(src.join("drivers/net")).unwrap();
        std::fs::create_dir_all(src.join("flat/deeper")).unwrap();
        std::fs::write(src.join("Autounattend.xml"), "<unattend/>").unwrap();
        std::fs::write(src.join("a.ps1"), "echo a").unwrap();
        std::fs::write(src.join("b.ps1"), "echo b").unwrap();
        std::fs::write(src.join("drivers/net/e1000.inf"), "[Version]").unwrap();
        std::fs::write(src.join("flat/deeper/one.txt"), "one").unwrap();
        std::fs::write(src.join("meta-data"), "from a file").unwrap();
        let s = |p: &Path| p.display().to_string();
        let files = [s(&src.join("Autounattend.xml")), s(&src.join("*.ps1")), s(&src.join("flat")), s(&src.join("meta-data"))];
        let dirs = [s(&src.join("drive?s"))];
        let content =
            BTreeMap::from([("meta-data".to_string(), "instance-id: x\n".to_string()), ("/config/user-data".to_string(), "#cloud-config\n".to_string())]);
        let image = dir.join("floppy.img");
        make(&image, "cidata", &files, &dirs, &content, &dir.join("staging")).await.unwrap();

        assert_eq!(std::fs::metadata(&image).unwrap().len(), 1440 * 1024);
        let listing = mtools("mdir", &image, &["-/", "-b", "::"]);
        let mut names: Vec<&str> = listing.lines().collect();
        names.sort();
        assert_eq!(
            names,
            [
                "::/Autounattend.xml",
                "::/a.ps1",
                "::/b.ps1",
                "::/config/",
                "::/config/user-data",
                "::/drivers/",
                "::/drivers/net/",
                "::/drivers/net/e1000.inf",
                "::/meta-data",
                "::/one.txt"
            ]
        );
        // floppy_content wins over a file of the same name.
        assert_eq!(mtools("mtype", &image, &["::/meta-data"]), "instance-id: x\n");
        assert_eq!(mtools("mtype", &image, &["::/drivers/net/e1000.inf"]), "[Version]");
        assert_eq!(mtools("mtype", &image, &["::/one.txt"]), "one");
        let info = mtools("minfo", &image, &["::"]);
        // A 1.44 MB floppy's geometry, FAT12, and the label.
        for fact in ["sectors per track: 18", "heads: 2", "cylinders: 80", "small size: 2880 sectors", "disk type=\"FAT12   \"", "disk label=\"cidata     \""] {
            assert!(info.contains(fact), "no {fact:?} in\n{info}");
        }

        // More than a floppy holds is an error that says so.
        std::fs::write(src.join("big.bin"), vec![7u8; 1500 * 1024]).unwrap();
        let e = make(&dir.join("big.img"), "packer", &[s(&src.join("big.bin"))], &[], &BTreeMap::new(), &dir.join("staging2")).await.unwrap_err();
        assert!(e.to_string().contains("do not fit on a 1.44 MB floppy"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn content_paths_stay_on_the_floppy() {
        assert!(check_content_path("user-data").is_ok());
        assert!(check_content_path("/drivers/a.inf").is_ok());
        assert!(check_content_path("../etc/passwd").is_err());
        assert!(check_content_path("").is_err());
    }
}
