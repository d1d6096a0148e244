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
        tokio::process::Command::new("xorriso").args(["-as", "genisoimage", "-rock", "-joliet", "-volid", label, "-output"]).arg(dest).arg(staging).kill_on_drop(true),
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
