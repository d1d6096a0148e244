//! CD-ROM images: Packer's `cd_files` / `cd_content`, and the cloud-init
//! NoCloud seed through which bake hands a generated SSH key to the guest.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Writes an ISO 9660 image (Rock Ridge + Joliet) of `files` (copied to the
/// root, directories with their tree) and `content` (path → text).
pub async fn make_iso(dest: &Path, label: &str, files: &[String], content: &BTreeMap<String, String>, staging: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(staging)?;
    for f in files {
        let src = PathBuf::from(f);
        let name = src.file_name().ok_or_else(|| anyhow::anyhow!("cd_files entry \"{f}\" has no file name"))?;
        copy_tree(&src, &staging.join(name)).map_err(|e| anyhow::anyhow!("cd_files: cannot copy {f}: {e}"))?;
    }
    for (path, text) in content {
        let p = staging.join(path.trim_start_matches('/'));
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&p, text)?;
    }
    let out = bake_sdk::process::output(
        tokio::process::Command::new("xorriso")
            .args(["-as", "genisoimage", "-rock", "-joliet", "-volid", label, "-output"])
            .arg(dest)
            .arg(staging)
            .kill_on_drop(true),
    )
    .await
    .map_err(|e| anyhow::anyhow!("cannot run xorriso ({e}); install it with: apt-get install xorriso"))?;
    if !out.status.success() {
        anyhow::bail!("xorriso failed: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

fn copy_tree(src: &Path, dst: &Path) -> std::io::Result<()> {
    let meta = std::fs::metadata(src)?;
    if meta.is_dir() {
        std::fs::create_dir_all(dst)?;
        for e in std::fs::read_dir(src)? {
            let e = e?;
            copy_tree(&e.path(), &dst.join(e.file_name()))?;
        }
        Ok(())
    } else {
        std::fs::copy(src, dst).map(|_| ())
    }
}

/// The NoCloud `user-data` that creates `user` with the build's public key
/// and password-less sudo, as a cloud image expects.
pub fn cloud_init_user_data(user: &str, public_key: &str) -> String {
    format!(
        "#cloud-config\nusers:\n  - name: {user}\n    sudo: ALL=(ALL) NOPASSWD:ALL\n    shell: /bin/bash\n    lock_passwd: true\n    ssh_authorized_keys:\n      - {}\nssh_pwauth: false\nmanage_etc_hosts: true\n",
        public_key.trim()
    )
}

pub fn cloud_init_meta_data(instance_id: &str, hostname: &str) -> String {
    format!("instance-id: {instance_id}\nlocal-hostname: {hostname}\n")
}

/// `{{ .SSHPublicKey }}` (in any spacing) replaced by `public_key` in every
/// value of `content`. Only that placeholder: anything else between braces
/// (a cloud-init Jinja template, say) is the guest's and stays as written.
pub fn with_public_key(content: &BTreeMap<String, String>, public_key: &str) -> BTreeMap<String, String> {
    content.iter().map(|(path, text)| (path.clone(), fill_public_key(text, public_key.trim()))).collect()
}

fn fill_public_key(text: &str, public_key: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start..].find("}}").map(|end| end + 2) else { break };
        let inner = rest[start + 2..start + len - 2].trim().trim_matches('-').trim();
        out.push_str(&rest[..start]);
        out.push_str(if inner == ".SSHPublicKey" { public_key } else { &rest[start..start + len] });
        rest = &rest[start + len..];
    }
    out.push_str(rest);
    out
}

/// Which seed the template gives cloud-init itself, if any: a CD or floppy
/// labelled `cidata` with files on it, or user-data served over HTTP (an
/// `http_content` / `http_directory` file named `user-data`, or a
/// `ds=nocloud…` source named in the boot command or qemuargs).
pub fn own_seed(c: &crate::config::Config) -> Option<&'static str> {
    let cidata = |label: &Option<String>| label.as_deref().is_some_and(|l| l.eq_ignore_ascii_case("cidata"));
    if cidata(&c.cd_label) && (!c.cd_files.is_empty() || !c.cd_content.is_empty()) {
        return Some("the cidata CD (cd_label = \"cidata\")");
    }
    if cidata(&c.floppy_label) && (!c.floppy_files.is_empty() || !c.floppy_dirs.is_empty() || !c.floppy_content.is_empty()) {
        return Some("the cidata floppy (floppy_label = \"cidata\")");
    }
    let serves_user_data =
        c.http_content.keys().any(|k| k.rsplit('/').next() == Some("user-data")) || c.http_directory.as_deref().is_some_and(|d| has_user_data(Path::new(d), 3));
    let names_nocloud =
        c.boot_command.iter().chain(c.boot_steps.iter().flatten()).chain(c.qemuargs.iter().flatten()).any(|s| s.to_ascii_lowercase().contains("ds=nocloud"));
    if (c.http_directory.is_some() || !c.http_content.is_empty()) && (serves_user_data || names_nocloud) {
        return Some("the user-data served over HTTP (http_directory / http_content)");
    }
    None
}

/// Whether `dir` holds a file named `user-data`, `depth` levels down at most.
fn has_user_data(dir: &Path, depth: usize) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else { return false };
    entries.flatten().any(|e| {
        let path = e.path();
        if path.is_dir() {
            depth > 0 && has_user_data(&path, depth - 1)
        } else {
            e.file_name() == "user-data"
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn own_seed_of(extra: &str) -> Option<&'static str> {
        let src = format!("iso_url = \"d.qcow2\"\niso_checksum = \"none\"\ndisk_image = true\nssh_username = \"u\"\n{extra}\n");
        let (_, body) = bake_sdk::testing::eval_body(&src);
        own_seed(&crate::config::prepare(&body, "source").unwrap().config)
    }

    #[test]
    fn the_templates_own_seeds_are_recognised() {
        assert_eq!(own_seed_of(""), None);
        assert!(own_seed_of("cd_label = \"CIDATA\"\ncd_content = { \"user-data\" = \"#cloud-config\" }").unwrap().contains("CD"));
        // A cidata label with nothing on it is no seed.
        assert_eq!(own_seed_of("cd_label = \"cidata\""), None);
        assert!(own_seed_of("floppy_label = \"cidata\"\nfloppy_content = { \"user-data\" = \"#cloud-config\" }").unwrap().contains("floppy"));
        assert!(own_seed_of("http_content = { \"/seed/user-data\" = \"#cloud-config\" }").unwrap().contains("HTTP"));
        assert!(own_seed_of("http_content = { \"/ks.cfg\" = \"x\" }\nqemuargs = [[\"-smbios\", \"type=1,serial=ds=nocloud-net;s=http://10.0.2.2:8000/\"]]")
            .unwrap()
            .contains("HTTP"));
        assert_eq!(own_seed_of("http_content = { \"/ks.cfg\" = \"x\" }"), None);
    }

    #[test]
    fn only_the_public_key_placeholder_is_filled() {
        let content = BTreeMap::from([(
            "user-data".to_string(),
            "keys: [{{ .SSHPublicKey }}, {{.SSHPublicKey}}]\nhost: {{ ds.meta_data.hostname }} {{ unclosed".to_string(),
        )]);
        let filled = with_public_key(&content, "ssh-ed25519 AAAA bake\n");
        assert_eq!(filled["user-data"], "keys: [ssh-ed25519 AAAA bake, ssh-ed25519 AAAA bake]\nhost: {{ ds.meta_data.hostname }} {{ unclosed");
    }
}
