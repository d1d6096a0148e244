//! Disk images through `qemu-img`: the one place plugins (the qemu builder,
//! the vagrant post-processor) run it.

use std::path::Path;
use std::process::Stdio;

/// Runs `qemu-img` and returns its stdout; the error carries its stderr.
pub async fn qemu_img(args: &[String]) -> anyhow::Result<String> {
    let out = bake_sdk::process::output(tokio::process::Command::new("qemu-img").args(args).stdin(Stdio::null()).kill_on_drop(true))
        .await
        .map_err(|e| anyhow::anyhow!("cannot run qemu-img ({e}); install it with: apt-get install qemu-utils"))?;
    if !out.status.success() {
        anyhow::bail!("qemu-img {} failed: {}", args.first().map_or("", |s| s.as_str()), String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The format and virtual size of an image.
pub async fn info(path: &Path) -> anyhow::Result<(String, u64)> {
    let json = qemu_img(&["info".into(), "--output=json".into(), path.display().to_string()]).await?;
    let v: serde_json::Value = serde_json::from_str(&json)?;
    let format = v["format"].as_str().unwrap_or("raw").to_string();
    let size = v["virtual-size"].as_u64().unwrap_or(0);
    Ok((format, size))
}

pub async fn create(path: &Path, format: &str, size: &str, backing: Option<(&Path, &str)>) -> anyhow::Result<()> {
    let mut args = vec!["create".to_string(), "-q".into(), "-f".into(), format.into()];
    if let Some((file, fmt)) = backing {
        args.extend(["-b".into(), file.display().to_string(), "-F".into(), fmt.into()]);
    }
    args.extend([path.display().to_string(), size.to_string()]);
    qemu_img(&args).await.map(|_| ())
}

pub async fn convert(src: &Path, dst: &Path, format: &str, compress: bool) -> anyhow::Result<()> {
    let mut args = vec!["convert".to_string(), "-q".into()];
    if compress {
        args.push("-c".into());
        if format == "qcow2" && zstd_supported().await {
            // zstd compresses about as well as zlib in a fraction of the time.
            args.extend(["-o".into(), "compression_type=zstd".into()]);
        }
    }
    args.extend(["-O".into(), format.into(), src.display().to_string(), dst.display().to_string()]);
    qemu_img(&args).await.map(|_| ())
}

pub async fn resize(path: &Path, format: &str, size: &str) -> anyhow::Result<()> {
    qemu_img(&["resize".into(), "-q".into(), "-f".into(), format.into(), path.display().to_string(), size.into()]).await.map(|_| ())
}

/// Whether this qemu-img can write zstd-compressed qcow2 clusters.
async fn zstd_supported() -> bool {
    match qemu_img(&["create".into(), "-f".into(), "qcow2".into(), "-o".into(), "help".into()]).await {
        Ok(help) => help.contains("compression_type"),
        Err(_) => false,
    }
}
