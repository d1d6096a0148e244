//! Archives and compressed files, written the one way bake writes them:
//! streamed to a temp name beside the target and renamed into place, so a
//! failure or Ctrl-C never leaves half an archive; with progress, and the
//! output's sha256 computed on the way. The `compress` post-processor and
//! the `vagrant` box writer both use it.
//!
//! | extension                         | result                                   |
//! |-----------------------------------|------------------------------------------|
//! | `.tar`                            | tar archive                              |
//! | `.tar.gz` `.tgz` `.tar.zst` `.tar.xz` `.tar.lz4` | compressed tar archive    |
//! | `.zip`                            | zip archive (deflate)                    |
//! | `.gz` `.zst` `.xz` `.lz4`         | the single input file, compressed        |
//!
//! gzip and zstd use every core (gzip as independent members per 1 MiB
//! chunk, zstd with its own worker threads), and xz uses liblzma's threads.

mod pgzip;
mod xz;

use bake_sdk::ui::{human_size, ByteProgress};
use bake_sdk::{ArtifactFile, CancellationToken, Cancelled, Ui};
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::PathBuf;

pub use pgzip::ParGzWriter;

/// The extensions [`detect`] knows, for messages.
pub const EXTENSIONS: &str = ".tar, .tar.gz, .tgz, .tar.zst, .tar.xz, .tar.lz4, .zip, .gz, .zst, .xz, .lz4";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Codec {
    None,
    Gzip,
    Zstd,
    Xz,
    Lz4,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Tar(Codec),
    Zip,
    /// One file, compressed.
    Single(Codec),
}

/// The format a file name asks for, by its extension. As in Packer, a name
/// with no extension at all makes a `.tar.gz` (Packer's documented default
/// output has none); an extension that names no format is `None`.
pub fn detect(name: &str) -> Option<Format> {
    let base = name.rsplit('/').next().unwrap_or(name);
    if !base.contains('.') {
        return Some(Format::Tar(Codec::Gzip));
    }
    let lower = base.to_ascii_lowercase();
    if lower.ends_with(".tgz") {
        return Some(Format::Tar(Codec::Gzip));
    }
    for (ext, codec) in [(".gz", Codec::Gzip), (".zst", Codec::Zstd), (".xz", Codec::Xz), (".lz4", Codec::Lz4)] {
        if let Some(stem) = lower.strip_suffix(ext) {
            return Some(if stem.ends_with(".tar") { Format::Tar(codec) } else { Format::Single(codec) });
        }
    }
    if lower.ends_with(".tar") {
        return Some(Format::Tar(Codec::None));
    }
    if lower.ends_with(".zip") {
        return Some(Format::Zip);
    }
    None
}

/// One compression, run on a blocking thread.
pub struct Job {
    pub target: PathBuf,
    pub files: Vec<PathBuf>,
    pub format: Format,
    pub level: u32,
    pub threads: usize,
    pub ui: Ui,
    pub cancel: CancellationToken,
}

impl Job {
    pub fn run(self) -> anyhow::Result<ArtifactFile> {
        let dir = match self.target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&dir).map_err(|e| anyhow::anyhow!("unable to create directory {}: {e}", dir.display()))?;
        let base = self.target.file_name().map_or_else(|| "archive".into(), |n| n.to_string_lossy().into_owned());
        static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = TempFile(dir.join(format!(".{base}.bake-tmp-{}-{seq}", std::process::id())));
        let mut total = 0;
        for f in &self.files {
            let meta = std::fs::metadata(f).map_err(|e| anyhow::anyhow!("unable to read {}: {e}", f.display()))?;
            if !meta.is_file() {
                anyhow::bail!("{} is not a regular file", f.display());
            }
            total += meta.len();
        }
        let threads = match self.format {
            Format::Tar(Codec::Gzip | Codec::Zstd | Codec::Xz) | Format::Single(Codec::Gzip | Codec::Zstd | Codec::Xz) => self.threads,
            _ => 1,
        };
        self.ui.say(format!(
            "Compressing {} into {} ({}, level {}, {} thread{})",
            describe_inputs(&self.files),
            self.target.display(),
            describe(self.format),
            self.level,
            threads,
            if threads == 1 { "" } else { "s" }
        ));
        let mut progress = Progress { bytes: ByteProgress::new(&self.ui, "Compressed", Some(total)), cancel: self.cancel.clone() };
        let out = File::create(&tmp.0).map_err(|e| anyhow::anyhow!("unable to create {}: {e}", tmp.0.display()))?;
        let written = self.write(out, &mut progress);
        // A cancelled write surfaces as whatever io::Error the codec made of
        // it; the token says what really happened.
        if self.cancel.is_cancelled() {
            return Err(Cancelled::during(format!("compressing into {}", self.target.display())).into());
        }
        let sha256 = written.map_err(|e| anyhow::anyhow!("compressing into {}: {e}", self.target.display()))?;
        std::fs::rename(&tmp.0, &self.target).map_err(|e| anyhow::anyhow!("unable to rename {} to {}: {e}", tmp.0.display(), self.target.display()))?;
        std::mem::forget(tmp);
        let size = std::fs::metadata(&self.target)?.len();
        let elapsed = progress.bytes.elapsed();
        self.ui.message(format!(
            "{} → {} ({:.1}%) in {:.1}s, {}/s",
            human_size(total),
            human_size(size),
            if total > 0 { size as f64 * 100.0 / total as f64 } else { 100.0 },
            elapsed.as_secs_f64(),
            human_size((total as f64 / elapsed.as_secs_f64().max(0.001)) as u64)
        ));
        let sha256 = match sha256 {
            Some(s) => Some(s),
            None => ArtifactFile::from_path(&self.target)?.sha256,
        };
        Ok(ArtifactFile { path: self.target.clone(), size, sha256 })
    }

    /// Writes the archive into `out`; returns the output's sha256 when it
    /// could be computed on the way (every format but zip, which seeks).
    fn write(&self, out: File, progress: &mut Progress) -> io::Result<Option<String>> {
        if let Format::Zip = self.format {
            self.write_zip(out, progress)?;
            return Ok(None);
        }
        let hashed = HashingWriter { inner: BufWriter::with_capacity(1 << 20, out), hasher: sha2::Digest::new() };
        let codec = match self.format {
            Format::Tar(c) | Format::Single(c) => c,
            Format::Zip => unreachable!(),
        };
        let mut sink = Sink::new(codec, hashed, self.level, self.threads, &self.cancel)?;
        match self.format {
            Format::Tar(_) => {
                let mut tar = tar::Builder::new(sink);
                for path in &self.files {
                    let file = File::open(path)?;
                    let meta = file.metadata()?;
                    let mut header = tar::Header::new_gnu();
                    header.set_metadata(&meta);
                    // As Packer: entries are named by the file's base name.
                    let name = path.file_name().ok_or_else(|| io::Error::other(format!("{} has no file name", path.display())))?;
                    tar.append_data(&mut header, name, progress.reader(file))?;
                }
                sink = tar.into_inner()?;
            }
            _ => {
                let file = File::open(&self.files[0])?;
                copy(&mut progress.reader(file), &mut sink)?;
            }
        }
        let mut hashed = sink.finish()?;
        hashed.inner.flush()?;
        let file = hashed.inner.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        Ok(Some(bake_sdk::artifact::hex(&sha2::Digest::finalize(hashed.hasher))))
    }

    fn write_zip(&self, out: File, progress: &mut Progress) -> io::Result<()> {
        use zip::write::SimpleFileOptions;
        let mut zip = zip::ZipWriter::new(BufWriter::with_capacity(1 << 20, out));
        for path in &self.files {
            let file = File::open(path)?;
            let size = file.metadata()?.len();
            let options = SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                .compression_level(Some(self.level as i64))
                .large_file(size >= u32::MAX as u64);
            // As Packer: the path as given, but never absolute inside a zip.
            let name = path.to_string_lossy().replace('\\', "/");
            zip.start_file(name.trim_start_matches('/'), options).map_err(io::Error::other)?;
            copy(&mut progress.reader(file), &mut zip)?;
        }
        let out = zip.finish().map_err(io::Error::other)?;
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()
    }
}

/// Removes a temp file unless forgotten (after the rename).
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn describe(format: Format) -> String {
    let codec = |c: Codec| match c {
        Codec::None => "uncompressed",
        Codec::Gzip => "gzip",
        Codec::Zstd => "zstd",
        Codec::Xz => "xz",
        Codec::Lz4 => "lz4",
    };
    match format {
        Format::Tar(c) => format!("tar, {}", codec(c)),
        Format::Zip => "zip".to_string(),
        Format::Single(c) => codec(c).to_string(),
    }
}

fn describe_inputs(files: &[PathBuf]) -> String {
    match files {
        [one] => one.display().to_string(),
        many => format!("{} files", many.len()),
    }
}

/// A compressing writer over the output.
enum Sink<W: Write> {
    Plain(W),
    Gzip(ParGzWriter<W>),
    Zstd(zstd::stream::write::Encoder<'static, W>),
    Xz(xz::XzWriter<W>),
    Lz4(lz4_flex::frame::FrameEncoder<W>),
}

impl<W: Write> Sink<W> {
    fn new(codec: Codec, out: W, level: u32, threads: usize, cancel: &CancellationToken) -> io::Result<Sink<W>> {
        Ok(match codec {
            Codec::None => Sink::Plain(out),
            Codec::Gzip => Sink::Gzip(ParGzWriter::new(out, level, threads)),
            Codec::Zstd => {
                let mut enc = zstd::stream::write::Encoder::new(out, level as i32)?;
                if threads > 1 {
                    enc.multithread(threads as u32)?;
                }
                enc.include_checksum(true)?;
                Sink::Zstd(enc)
            }
            Codec::Xz => Sink::Xz(xz::XzWriter::new(out, level, threads, cancel.clone())?),
            Codec::Lz4 => Sink::Lz4(lz4_flex::frame::FrameEncoder::new(out)),
        })
    }

    fn finish(self) -> io::Result<W> {
        match self {
            Sink::Plain(w) => Ok(w),
            Sink::Gzip(w) => w.finish(),
            Sink::Zstd(w) => w.finish(),
            Sink::Xz(w) => w.finish(),
            Sink::Lz4(w) => w.finish().map_err(io::Error::other),
        }
    }
}

impl<W: Write> Write for Sink<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Plain(w) => w.write(buf),
            Sink::Gzip(w) => w.write(buf),
            Sink::Zstd(w) => w.write(buf),
            Sink::Xz(w) => w.write(buf),
            Sink::Lz4(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Plain(w) => w.flush(),
            Sink::Gzip(w) => w.flush(),
            Sink::Zstd(w) => w.flush(),
            Sink::Xz(w) => w.flush(),
            Sink::Lz4(w) => w.flush(),
        }
    }
}

/// Hashes what goes through, for the artifact's sha256 without a re-read.
struct HashingWriter<W> {
    inner: W,
    hasher: sha2::Sha256,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        sha2::Digest::update(&mut self.hasher, &buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Copies with a large buffer (the std one is 8 KiB).
fn copy(from: &mut impl Read, to: &mut impl Write) -> io::Result<u64> {
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        let got = match from.read(&mut buf) {
            Ok(0) => return Ok(n),
            Ok(got) => got,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        to.write_all(&buf[..got])?;
        n += got as u64;
    }
}

/// Counts input bytes, reports every few seconds, and stops on Ctrl-C.
struct Progress {
    bytes: ByteProgress,
    cancel: CancellationToken,
}

impl Progress {
    fn reader(&mut self, file: File) -> ProgressReader<'_> {
        ProgressReader { file, progress: self }
    }
}

struct ProgressReader<'a> {
    file: File,
    progress: &'a mut Progress,
}

impl Read for ProgressReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.progress.cancel.is_cancelled() {
            return Err(Cancelled::new().into_io());
        }
        let n = self.file.read(buf)?;
        self.progress.bytes.advance(n as u64);
        Ok(n)
    }
}
