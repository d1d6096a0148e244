//! Fetching the source image (`iso_url` / `iso_urls` with `iso_checksum`),
//! as Packer does through go-getter: URLs are tried in order; local files
//! are used where they are; remote files land in a cache named by their
//! checksum, so a second build finds them without the network.
//!
//! A download is written to a temporary name next to its final name and
//! renamed only once its checksum matched: an interrupted or corrupt
//! download never looks complete.

use bake_sdk::hash::{self, Hasher};
use bake_sdk::ui::{human_size, ByteProgress};
use bake_sdk::{CancellationToken, Cancelled, Ui};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The checksum types `iso_checksum` takes: go-getter's four, as Packer.
/// (The checksum post-processor writes more; both hash through
/// [`bake_sdk::hash`].)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    Md5,
    Sha1,
    Sha256,
    Sha512,
}

impl Algorithm {
    pub const ALL: [Algorithm; 4] = [Algorithm::Md5, Algorithm::Sha1, Algorithm::Sha256, Algorithm::Sha512];

    /// The same algorithm in the sdk's terms, which does the hashing.
    pub fn hash(self) -> hash::Algorithm {
        match self {
            Algorithm::Md5 => hash::Algorithm::Md5,
            Algorithm::Sha1 => hash::Algorithm::Sha1,
            Algorithm::Sha256 => hash::Algorithm::Sha256,
            Algorithm::Sha512 => hash::Algorithm::Sha512,
        }
    }

    pub fn name(self) -> &'static str {
        self.hash().name()
    }

    /// How many hex digits a digest has.
    pub fn hex_len(self) -> usize {
        self.hash().hex_len()
    }

    /// `sha256`, `SHA256` (BSD checksum files), `sha-256`.
    pub fn from_name(name: &str) -> Option<Algorithm> {
        let algorithm = hash::Algorithm::from_name(name)?;
        Algorithm::ALL.into_iter().find(|a| a.hash() == algorithm)
    }

    /// The algorithm whose digest has `len` hex digits.
    pub fn from_hex_len(len: usize) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|a| a.hex_len() == len)
    }

    pub fn hasher(self) -> Hasher {
        self.hash().hasher()
    }
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What `iso_checksum` says the file must hash to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Checksum {
    /// `none`: not verified.
    None,
    /// `sha256:HEX`, or bare hex (the algorithm told by its length).
    /// `hex` is lower case.
    Hash { algorithm: Algorithm, hex: String },
    /// `file:URL`: a checksum file (GNU `HEX  name` or BSD
    /// `SHA256 (name) = HEX` lines); the entry for the downloaded file's
    /// name is used. `sha256:file:URL` only takes entries of that type.
    File { url: String, algorithm: Option<Algorithm> },
}

impl std::fmt::Display for Checksum {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Checksum::None => f.write_str("none"),
            Checksum::Hash { algorithm, hex } => write!(f, "{algorithm}:{hex}"),
            Checksum::File { url, algorithm: None } => write!(f, "file:{url}"),
            Checksum::File { url, algorithm: Some(a) } => write!(f, "{a}:file:{url}"),
        }
    }
}

const FORMS: &str = "write \"sha256:<hex>\" (or sha512, sha1, md5), bare hex, \"file:<URL or path of a checksum file>\", or \"none\"";

/// Parses `iso_checksum` as Packer does.
pub fn parse_checksum(s: &str) -> Result<Checksum, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err(format!("the checksum is empty; {FORMS}"));
    }
    if s.eq_ignore_ascii_case("none") {
        return Ok(Checksum::None);
    }
    let Some((kind, rest)) = s.split_once(':') else {
        if !is_hex(s) {
            return Err(format!("\"{s}\" is not a checksum: it is not hexadecimal and has no type; {FORMS}"));
        }
        return match Algorithm::from_hex_len(s.len()) {
            Some(algorithm) => Ok(Checksum::Hash { algorithm, hex: s.to_ascii_lowercase() }),
            None => Err(format!(
                "cannot tell the type of a checksum of {} hex digits (md5 has 32, sha1 40, sha256 64, sha512 128); prefix it with its type, e.g. \"sha256:…\"",
                s.len()
            )),
        };
    };
    if kind.eq_ignore_ascii_case("file") {
        if rest.trim().is_empty() {
            return Err("\"file:\" needs the URL or path of a checksum file, e.g. \"file:https://example.com/SHA256SUMS\"".into());
        }
        return Ok(Checksum::File { url: rest.trim().to_string(), algorithm: None });
    }
    let Some(algorithm) = Algorithm::from_name(kind) else {
        return Err(format!("unknown checksum type \"{kind}\"; {FORMS}"));
    };
    if let Some(url) = rest.strip_prefix("file:") {
        if url.trim().is_empty() {
            return Err(format!("\"{kind}:file:\" needs the URL or path of a checksum file"));
        }
        return Ok(Checksum::File { url: url.trim().to_string(), algorithm: Some(algorithm) });
    }
    let hex = rest.trim();
    if !is_hex(hex) {
        return Err(format!("the {algorithm} checksum \"{hex}\" is not hexadecimal"));
    }
    if hex.len() != algorithm.hex_len() {
        return Err(format!("a {algorithm} checksum has {} hex digits, \"{hex}\" has {}", algorithm.hex_len(), hex.len()));
    }
    Ok(Checksum::Hash { algorithm, hex: hex.to_ascii_lowercase() })
}

fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// One line of a checksum file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChecksumEntry {
    pub algorithm: Algorithm,
    pub hex: String,
    /// As written, without a leading `*` (binary mode) or `./`; empty for a
    /// file that holds only a digest.
    pub name: String,
}

/// Reads GNU (`HEX  name`, `HEX *name`) and BSD (`SHA256 (name) = HEX`)
/// lines; other lines (comments, PGP armour) are skipped.
pub fn parse_checksum_file(text: &str) -> Vec<ChecksumEntry> {
    let mut entries = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // BSD: `SHA256 (name) = HEX`.
        if let (Some(open), Some(close)) = (line.find(" ("), line.rfind(") = ")) {
            if open < close {
                let hex = line[close + 4..].trim();
                if let Some(algorithm) = Algorithm::from_name(line[..open].trim()) {
                    if is_hex(hex) && hex.len() == algorithm.hex_len() {
                        entries.push(ChecksumEntry { algorithm, hex: hex.to_ascii_lowercase(), name: clean_name(&line[open + 2..close]) });
                    }
                }
                continue;
            }
        }
        // GNU: `HEX  name`, `HEX *name`, or a lone `HEX`.
        let (hex, name) = match line.find(char::is_whitespace) {
            Some(i) => (&line[..i], line[i..].trim_start()),
            None => (line, ""),
        };
        if !is_hex(hex) {
            continue;
        }
        if let Some(algorithm) = Algorithm::from_hex_len(hex.len()) {
            entries.push(ChecksumEntry { algorithm, hex: hex.to_ascii_lowercase(), name: clean_name(name) });
        }
    }
    entries
}

fn clean_name(name: &str) -> String {
    let name = name.trim();
    let name = name.strip_prefix('*').unwrap_or(name);
    name.strip_prefix("./").unwrap_or(name).to_string()
}

/// The entry of a checksum file for the file at `url`: by its path
/// relative to the checksum file (`sub/x.iso`), else by its file name;
/// a file holding a single bare digest applies to anything.
pub fn find_entry<'a>(entries: &'a [ChecksumEntry], url: &str, only: Option<Algorithm>) -> Option<&'a ChecksumEntry> {
    let path = url_path(url);
    let base = path.rsplit('/').next().unwrap_or(&path).to_string();
    let usable: Vec<&ChecksumEntry> = entries.iter().filter(|e| only.is_none() || only == Some(e.algorithm)).collect();
    usable
        .iter()
        .find(|e| !e.name.is_empty() && e.name.contains('/') && path.ends_with(&format!("/{}", e.name)))
        .or_else(|| usable.iter().find(|e| e.name == base))
        .or_else(|| usable.iter().find(|e| e.name.rsplit('/').next() == Some(base.as_str())))
        .or_else(|| (usable.len() == 1 && usable[0].name.is_empty()).then(|| &usable[0]))
        .copied()
}

/// The path of a URL or file name, percent-decoded, without query or fragment.
fn url_path(url: &str) -> String {
    let rest = match url.find("://") {
        Some(i) => {
            let after = &url[i + 3..];
            after.find('/').map_or("", |j| &after[j..])
        }
        None => url,
    };
    let rest = rest.split(['?', '#']).next().unwrap_or(rest);
    percent_decode(rest)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A URL that names a file on this machine: `file://` or a plain path.
fn local_path(url: &str) -> Option<PathBuf> {
    if let Some(rest) = url.strip_prefix("file://") {
        // `file:///abs`, `file://./rel`, and `file://localhost/abs`.
        let rest = rest.strip_prefix("localhost").filter(|r| r.starts_with('/')).unwrap_or(rest);
        return Some(PathBuf::from(percent_decode(rest)));
    }
    if url.contains("://") {
        return None;
    }
    Some(PathBuf::from(url))
}

fn is_http(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// Where remote images are kept: [`bake_sdk::cache::dir`]`("downloads")`.
pub fn cache_dir() -> PathBuf {
    bake_sdk::cache::dir("downloads")
}

/// Fetches the first of `urls` that works and matches `checksum`, and
/// returns its path: a local file where it is, a remote one in the cache
/// (or at `target_path`, a file or an existing directory).
pub async fn fetch(
    urls: &[String],
    checksum: &Checksum,
    target_path: Option<&Path>,
    target_extension: &str,
    ui: &Ui,
    cancel: &CancellationToken,
) -> anyhow::Result<PathBuf> {
    fetch_with_cache(&cache_dir(), urls, checksum, target_path, target_extension, ui, cancel).await
}

/// [`fetch`] with an explicit cache directory.
pub async fn fetch_with_cache(
    cache: &Path,
    urls: &[String],
    checksum: &Checksum,
    target_path: Option<&Path>,
    target_extension: &str,
    ui: &Ui,
    cancel: &CancellationToken,
) -> anyhow::Result<PathBuf> {
    if urls.is_empty() {
        anyhow::bail!("no URL to fetch the source image from");
    }
    let entries = match checksum {
        Checksum::File { url, .. } => {
            ui.message(format!("Reading the checksum file {url}"));
            let text = read_small(url, cancel).await.map_err(|e| anyhow::anyhow!("cannot read the checksum file {url}: {e:#}"))?;
            let entries = parse_checksum_file(&text);
            if entries.is_empty() {
                anyhow::bail!("the checksum file {url} has no checksum lines (expected \"HEX  name\" or \"SHA256 (name) = HEX\")");
            }
            entries
        }
        _ => Vec::new(),
    };
    let mut failures = Vec::new();
    for url in urls {
        if cancel.is_cancelled() {
            return Err(Cancelled::new().into());
        }
        let expected = match checksum {
            Checksum::None => None,
            Checksum::Hash { algorithm, hex } => Some((*algorithm, hex.clone())),
            Checksum::File { url: sums, algorithm } => match find_entry(&entries, url, *algorithm) {
                Some(e) => Some((e.algorithm, e.hex.clone())),
                None => {
                    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).filter(|n| !n.is_empty()).take(8).collect();
                    let base = url_path(url).rsplit('/').next().unwrap_or_default().to_string();
                    failures.push(format!(
                        "{url}: the checksum file {sums} has no {}entry for \"{base}\" (it lists {})",
                        algorithm.map_or(String::new(), |a| format!("{a} ")),
                        names.join(", ")
                    ));
                    continue;
                }
            },
        };
        match fetch_one(cache, url, expected, target_path, target_extension, ui, cancel).await {
            Ok(path) => return Ok(path),
            Err(e) if cancel.is_cancelled() => return Err(e),
            Err(e) => {
                if urls.len() > 1 {
                    ui.message(format!("{url}: {e:#}; trying the next URL"));
                }
                failures.push(format!("{url}: {e:#}"));
            }
        }
    }
    if failures.len() == 1 {
        anyhow::bail!("{}", failures.remove(0));
    }
    anyhow::bail!("none of the {} URLs worked:\n  - {}", urls.len(), failures.join("\n  - "))
}

async fn fetch_one(
    cache: &Path,
    url: &str,
    expected: Option<(Algorithm, String)>,
    target_path: Option<&Path>,
    ext: &str,
    ui: &Ui,
    cancel: &CancellationToken,
) -> anyhow::Result<PathBuf> {
    if let Some(path) = local_path(url) {
        if !path.is_file() {
            anyhow::bail!("{} does not exist or is not a file", path.display());
        }
        if let Some((algorithm, hex)) = &expected {
            ui.message(format!("Verifying the {algorithm} checksum of {}", path.display()));
            let actual = hash_file(&path, *algorithm, cancel).await?;
            if &actual != hex {
                anyhow::bail!("checksum mismatch: expected {algorithm} {hex}, got {actual}");
            }
        }
        return Ok(path);
    }
    if !is_http(url) {
        anyhow::bail!("unsupported URL scheme (use http://, https://, file:// or a local path)");
    }
    let name = match &expected {
        Some((algorithm, hex)) => format!("{algorithm}-{hex}"),
        None => {
            let mut h = Algorithm::Sha256.hasher();
            h.update(url.as_bytes());
            format!("url-{}", &h.finish()[..32])
        }
    };
    let name = if ext.is_empty() { name } else { format!("{name}.{}", ext.trim_start_matches('.')) };
    let target = match target_path {
        Some(t) if t.is_dir() || t.as_os_str().to_string_lossy().ends_with('/') => t.join(&name),
        Some(t) => t.to_path_buf(),
        None => cache.join(&name),
    };
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    }
    if let Some((algorithm, hex)) = &expected {
        if target.is_file() {
            ui.message(format!("Found {}; verifying its {algorithm} checksum", target.display()));
            let actual = hash_file(&target, *algorithm, cancel).await?;
            if &actual == hex {
                ui.message("The checksum matches: using the file already downloaded");
                return Ok(target);
            }
            ui.message(format!("{} does not match its checksum; downloading it again", target.display()));
            let _ = std::fs::remove_file(&target);
        }
    }
    download(url, &target, expected, ui, cancel).await?;
    Ok(target)
}

/// Hashes a file off the async threads; cancellable between blocks.
async fn hash_file(path: &Path, algorithm: Algorithm, cancel: &CancellationToken) -> anyhow::Result<String> {
    let path = path.to_path_buf();
    let token = cancel.clone();
    let job = tokio::task::spawn_blocking(move || -> anyhow::Result<String> {
        let mut f = std::fs::File::open(&path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        let mut h = algorithm.hasher();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            if token.is_cancelled() {
                return Err(Cancelled::new().into());
            }
            let n = f.read(&mut buf).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
            if n == 0 {
                return Ok(h.finish());
            }
            h.update(&buf[..n]);
        }
    });
    tokio::select! {
        r = job => r?,
        _ = cancel.cancelled() => Err(Cancelled::new().into()),
    }
}

fn agent_for(url: &str) -> anyhow::Result<ureq::Agent> {
    let mut b = ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(30))
        .timeout_read(Duration::from_secs(60))
        .user_agent(concat!("bake/", env!("CARGO_PKG_VERSION")));
    if let Some(proxy) = proxy_for(url) {
        b = b.proxy(ureq::Proxy::new(&proxy).map_err(|e| anyhow::anyhow!("invalid proxy {proxy}: {e}"))?);
    }
    Ok(b.build())
}

/// The proxy for `url` from `HTTP_PROXY` / `HTTPS_PROXY` / `ALL_PROXY`
/// (either case), unless `NO_PROXY` lists its host; like Go, never for
/// loopback addresses.
fn proxy_for(url: &str) -> Option<String> {
    let env = |name: &str| std::env::var(name.to_ascii_lowercase()).ok().or_else(|| std::env::var(name).ok()).filter(|v| !v.is_empty());
    let https = url.to_ascii_lowercase().starts_with("https://");
    let proxy = if https { env("HTTPS_PROXY") } else { env("HTTP_PROXY") }.or_else(|| env("ALL_PROXY"))?;
    let authority = url.split_once("://").map_or("", |(_, r)| r).split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = authority.strip_prefix('[') { v6.split(']').next().unwrap_or("") } else { authority.split(':').next().unwrap_or("") }
        .to_ascii_lowercase();
    if host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback()) {
        return None;
    }
    if let Some(no) = env("NO_PROXY") {
        for entry in no.split(',').map(|e| e.trim().to_ascii_lowercase()).filter(|e| !e.is_empty()) {
            let entry = entry.split(':').next().unwrap_or("").trim_start_matches("*.").trim_start_matches('.').to_string();
            if entry == "*" || host == entry || host.ends_with(&format!(".{entry}")) {
                return None;
            }
        }
    }
    Some(proxy)
}

fn http_error(e: ureq::Error) -> anyhow::Error {
    match e {
        ureq::Error::Status(code, r) => anyhow::anyhow!("HTTP {code} {}", r.status_text()),
        // Not `{t}`: it repeats the URL, which the caller names already.
        ureq::Error::Transport(t) => {
            let mut msg = t.kind().to_string();
            if let Some(m) = t.message() {
                msg.push_str(&format!(": {m}"));
            }
            if let Some(source) = std::error::Error::source(&t) {
                msg.push_str(&format!(": {source}"));
            }
            anyhow::anyhow!("{msg}")
        }
    }
}

/// A checksum file: read whole (at most 16 MiB), from the network or disk.
async fn read_small(url: &str, cancel: &CancellationToken) -> anyhow::Result<String> {
    const LIMIT: u64 = 16 << 20;
    if let Some(path) = local_path(url) {
        return std::fs::read_to_string(&path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()));
    }
    if !is_http(url) {
        anyhow::bail!("unsupported URL scheme (use http://, https://, file:// or a local path)");
    }
    let url = url.to_string();
    let job = tokio::task::spawn_blocking(move || -> anyhow::Result<String> {
        let response = agent_for(&url)?.get(&url).call().map_err(http_error)?;
        let mut text = String::new();
        response.into_reader().take(LIMIT).read_to_string(&mut text)?;
        Ok(text)
    });
    tokio::select! {
        r = job => r?,
        _ = cancel.cancelled() => Err(Cancelled::new().into()),
    }
}

static TEMP_COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Downloads `url` to `target` through a temporary file next to it, hashing
/// on the way, and renames it into place only when the checksum matched.
async fn download(url: &str, target: &Path, expected: Option<(Algorithm, String)>, ui: &Ui, cancel: &CancellationToken) -> anyhow::Result<()> {
    let n = TEMP_COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let file_name = target.file_name().map_or("download".into(), |n| n.to_string_lossy().into_owned());
    let temp = target.with_file_name(format!(".{file_name}.part-{}-{n}", std::process::id()));
    let (url, target, ui, token) = (url.to_string(), target.to_path_buf(), ui.clone(), cancel.clone());
    ui.message(format!("Downloading {url}"));
    let shown = url.clone();
    let job = tokio::task::spawn_blocking(move || {
        let r = download_blocking(&url, &temp, expected.as_ref().map(|(a, _)| *a), &ui, &token).and_then(|actual| {
            if let (Some((algorithm, hex)), Some(actual)) = (&expected, actual) {
                if &actual != hex {
                    anyhow::bail!("checksum mismatch: expected {algorithm} {hex}, got {actual}");
                }
            }
            std::fs::rename(&temp, &target).map_err(|e| anyhow::anyhow!("cannot rename {} to {}: {e}", temp.display(), target.display()))
        });
        if r.is_err() {
            let _ = std::fs::remove_file(&temp);
        }
        r
    });
    // On Ctrl-C, return at once; the download thread sees the token at its
    // next block and removes its temporary file.
    tokio::select! {
        r = job => r?,
        _ = cancel.cancelled() => Err(Cancelled::during(format!("downloading {shown}")).into()),
    }
}

fn download_blocking(url: &str, temp: &Path, algorithm: Option<Algorithm>, ui: &Ui, cancel: &CancellationToken) -> anyhow::Result<Option<String>> {
    let response = agent_for(url)?.get(url).call().map_err(http_error)?;
    let total: Option<u64> = response.header("Content-Length").and_then(|v| v.trim().parse().ok());
    let mut reader = response.into_reader();
    let mut file = std::fs::File::create(temp).map_err(|e| anyhow::anyhow!("cannot create {}: {e}", temp.display()))?;
    let mut hasher = algorithm.map(Algorithm::hasher);
    let mut buf = vec![0u8; 256 << 10];
    let mut progress = ByteProgress::new(ui, "Downloaded", total);
    loop {
        if cancel.is_cancelled() {
            return Err(Cancelled::new().into());
        }
        let n = reader.read(&mut buf).map_err(|e| anyhow::anyhow!("the download broke off after {} bytes: {e}", progress.done()))?;
        if n == 0 {
            break;
        }
        file.write_all(&buf[..n]).map_err(|e| anyhow::anyhow!("writing {}: {e}", temp.display()))?;
        if let Some(h) = hasher.as_mut() {
            h.update(&buf[..n]);
        }
        progress.advance(n as u64);
    }
    let done = progress.done();
    if let Some(total) = total {
        if done != total {
            anyhow::bail!("the download ended after {done} of {total} bytes");
        }
    }
    file.sync_all().map_err(|e| anyhow::anyhow!("writing {}: {e}", temp.display()))?;
    ui.message(format!("Downloaded {} in {:.1}s", human_size(done), progress.elapsed().as_secs_f64()));
    Ok(hasher.map(Hasher::finish))
}
