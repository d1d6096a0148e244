//! The build's HTTP server (`http_directory` / `http_content`), from which
//! an installer in the guest fetches its preseed, kickstart or autoinstall
//! files at `http://{{ .HTTPIP }}:{{ .HTTPPort }}/…`.
//!
//! A small HTTP/1.1 server on tokio: GET and HEAD, keep-alive, nothing
//! else. Installers' fetchers (wget, curl, anaconda, d-i) need no more, and
//! a hand-written server keeps hyper's dependency tree out of the builder.
//!
//! `http_content` maps URL paths to text and is looked up first. Files of
//! `http_directory` are served below it only: a path with a `..` segment
//! is refused (symbolic links inside the directory are followed, as Packer
//! does). Dropping the [`HttpServer`] stops it and every connection.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// A running server; stops when dropped (its port is free again as soon as
/// the runtime has run the abort: at once on a multi-threaded runtime, at
/// the next `.await` on a single-threaded one).
pub struct HttpServer {
    port: u16,
    task: JoinHandle<()>,
}

impl HttpServer {
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        // Aborting the accept loop drops its JoinSet, which aborts every
        // connection still open.
        self.task.abort();
    }
}

impl std::fmt::Debug for HttpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpServer").field("port", &self.port).finish()
    }
}

struct Site {
    dir: Option<PathBuf>,
    content: BTreeMap<String, String>,
}

/// Starts serving on `bind` at a port picked at random in
/// `[port_min, port_max)` (the port itself when they are equal; any free
/// port when both are 0), trying others while ports are taken.
pub async fn start(dir: Option<PathBuf>, content: BTreeMap<String, String>, bind: &str, port_min: u16, port_max: u16) -> anyhow::Result<HttpServer> {
    if let Some(d) = &dir {
        if !d.is_dir() {
            anyhow::bail!("http_directory {} is not a directory", d.display());
        }
    }
    let listener = bind_in_range(bind, port_min, port_max).await?;
    let port = listener.local_addr()?.port();
    let site = Arc::new(Site { dir, content });
    let task = tokio::spawn(async move {
        let mut connections = JoinSet::new();
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        connections.spawn(serve(stream, site.clone()));
                    }
                    // Out of file descriptors and the like: let it pass.
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                },
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
    });
    Ok(HttpServer { port, task })
}

async fn bind_in_range(bind: &str, min: u16, max: u16) -> anyhow::Result<TcpListener> {
    if min > max {
        anyhow::bail!("http_port_min ({min}) is above http_port_max ({max})");
    }
    let candidates: Vec<u16> = if min == max {
        vec![min]
    } else {
        let span = u32::from(max - min);
        let start = random_u32() % span;
        (0..span).map(|i| min + ((start + i) % span) as u16).collect()
    };
    let mut last = None;
    for port in candidates {
        match TcpListener::bind((bind, port)).await {
            Ok(l) => return Ok(l),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::AddrInUse | std::io::ErrorKind::PermissionDenied) => last = Some(e),
            Err(e) => anyhow::bail!("cannot serve HTTP on {bind}:{port}: {e}"),
        }
    }
    match last {
        Some(e) if min == max => anyhow::bail!("cannot serve HTTP on {bind}:{min}: {e}"),
        _ => anyhow::bail!("no free port for the HTTP server between {min} and {max} on {bind}"),
    }
}

fn random_u32() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    // RandomState is seeded from the OS for every instance.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
    h.finish() as u32
}

const MAX_HEAD: usize = 16 << 10;
const IDLE: Duration = Duration::from_secs(60);

/// One connection: requests until the client closes, asks to close, idles
/// or errs.
async fn serve(mut stream: TcpStream, site: Arc<Site>) {
    let (r, mut w) = stream.split();
    let mut reader = BufReader::new(r);
    loop {
        let refusal: (u16, &str, &str) = match tokio::time::timeout(IDLE, read_head(&mut reader)).await {
            Ok(Ok(Some(head))) => match Request::parse(&head) {
                None => (400, "Bad Request", "bad request\n"),
                // GET and HEAD carry none; rather than read one, refuse it.
                Some(r) if r.has_body => (400, "Bad Request", "request bodies are not accepted\n"),
                Some(r) if r.method != "GET" && r.method != "HEAD" => (405, "Method Not Allowed", "method not allowed\n"),
                Some(request) => {
                    if answer(&mut w, &site, &request).await.is_err() || !request.keep_alive {
                        return;
                    }
                    continue;
                }
            },
            Ok(Err(HeadError::TooLarge)) => (431, "Request Header Fields Too Large", "request head too large\n"),
            _ => return,
        };
        let (code, reason, text) = refusal;
        let headers = [("Allow", "GET, HEAD".to_string()), ("Content-Type", "text/plain; charset=utf-8".to_string())];
        let headers = if code == 405 { &headers[..] } else { &headers[1..] };
        if respond(&mut w, code, reason, headers, Body::Text(text.as_bytes()), false, false).await.is_ok() {
            // Close gently: closing with unread input would reset the
            // connection, and the client might lose the answer.
            let _ = w.shutdown().await;
            let _ = tokio::time::timeout(Duration::from_secs(2), tokio::io::copy(&mut (&mut reader).take(1 << 20), &mut tokio::io::sink())).await;
        }
        return;
    }
}

enum HeadError {
    TooLarge,
    Io,
}

/// Reads up to the blank line after the headers; `None` at a clean end of
/// the connection.
async fn read_head<R: AsyncRead + Unpin>(reader: &mut BufReader<R>) -> Result<Option<String>, HeadError> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        // Bounded, so that a line without an end cannot fill the memory.
        let room = (MAX_HEAD - head.len()) as u64;
        let n = (&mut *reader).take(room).read_line(&mut line).await.map_err(|_| HeadError::Io)?;
        if n == 0 {
            return if head.is_empty() { Ok(None) } else { Err(HeadError::Io) };
        }
        if !line.ends_with('\n') {
            return if n as u64 == room { Err(HeadError::TooLarge) } else { Err(HeadError::Io) };
        }
        if head.is_empty() && line.trim().is_empty() {
            // Stray CRLF between requests (RFC 9112 §2.2).
            continue;
        }
        let blank = line.trim_end_matches(['\r', '\n']).is_empty();
        head.push_str(&line);
        if blank {
            return Ok(Some(head));
        }
    }
}

struct Request {
    method: String,
    /// The path, percent-decoded; no query.
    path: String,
    /// As sent, for redirects.
    raw_path: String,
    keep_alive: bool,
    has_body: bool,
}

impl Request {
    fn parse(head: &str) -> Option<Request> {
        let mut lines = head.lines();
        let mut parts = lines.next()?.split_whitespace();
        let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || !version.starts_with("HTTP/1.") {
            return None;
        }
        let mut keep_alive = version == "HTTP/1.1";
        let mut has_body = false;
        for line in lines {
            let Some((name, value)) = line.split_once(':') else { continue };
            let value = value.trim().to_ascii_lowercase();
            match name.trim().to_ascii_lowercase().as_str() {
                "connection" if value.split(',').any(|v| v.trim() == "close") => keep_alive = false,
                "connection" if value.split(',').any(|v| v.trim() == "keep-alive") => keep_alive = true,
                "content-length" => has_body |= value != "0",
                "transfer-encoding" => has_body = true,
                _ => {}
            }
        }
        // Absolute form (`GET http://host/x HTTP/1.1`), as proxies send.
        let target = match target.split_once("://") {
            Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
            None => target,
        };
        if !target.starts_with('/') {
            return None;
        }
        let raw_path = target.split(['?', '#']).next().unwrap_or("/").to_string();
        let path = percent_decode(&raw_path)?;
        Some(Request { method: method.to_string(), path, raw_path, keep_alive, has_body })
    }
}

/// `None` for an encoding that is not UTF-8 or contains NUL.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    let s = String::from_utf8(out).ok()?;
    (!s.contains('\0')).then_some(s)
}

enum Body<'a> {
    Text(&'a [u8]),
    File(tokio::fs::File),
}

async fn respond<W: AsyncWrite + Unpin>(
    w: &mut W,
    code: u16,
    reason: &str,
    headers: &[(&str, String)],
    body: Body<'_>,
    head_only: bool,
    keep_alive: bool,
) -> std::io::Result<()> {
    let len = match &body {
        Body::Text(t) => t.len() as u64,
        Body::File(f) => f.metadata().await?.len(),
    };
    let mut out = format!("HTTP/1.1 {code} {reason}\r\nServer: bake\r\nContent-Length: {len}\r\n");
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(if keep_alive { "Connection: keep-alive\r\n\r\n" } else { "Connection: close\r\n\r\n" });
    w.write_all(out.as_bytes()).await?;
    if !head_only {
        match body {
            Body::Text(t) => w.write_all(t).await?,
            Body::File(f) => {
                // Exactly the announced length, even if the file grows.
                let copied = tokio::io::copy(&mut f.take(len), w).await?;
                if copied != len {
                    return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "file shrank while being sent"));
                }
            }
        }
    }
    w.flush().await
}

async fn respond_text<W: AsyncWrite + Unpin>(w: &mut W, code: u16, reason: &str, text: &str, head_only: bool, keep_alive: bool) -> std::io::Result<()> {
    respond(w, code, reason, &[("Content-Type", "text/plain; charset=utf-8".into())], Body::Text(text.as_bytes()), head_only, keep_alive).await
}

async fn answer<W: AsyncWrite + Unpin>(w: &mut W, site: &Site, req: &Request) -> std::io::Result<()> {
    let head_only = req.method == "HEAD";
    let keep = req.keep_alive;
    if let Some(text) = site.content.get(&req.path).or_else(|| site.content.get(&normalize(&req.path))) {
        return respond(w, 200, "OK", &[("Content-Type", content_type(&req.path).into())], Body::Text(text.as_bytes()), head_only, keep).await;
    }
    let Some(dir) = &site.dir else {
        return respond_text(w, 404, "Not Found", "404 page not found\n", head_only, keep).await;
    };
    let mut segments = Vec::new();
    for seg in req.path.split('/') {
        match seg {
            "" | "." => {}
            ".." => return respond_text(w, 400, "Bad Request", "invalid URL path\n", head_only, keep).await,
            s if s.contains('\\') => return respond_text(w, 400, "Bad Request", "invalid URL path\n", head_only, keep).await,
            s => segments.push(s),
        }
    }
    let path = segments.iter().fold(dir.clone(), |p, s| p.join(s));
    let meta = match tokio::fs::metadata(&path).await {
        Ok(m) => m,
        Err(_) => return respond_text(w, 404, "Not Found", "404 page not found\n", head_only, keep).await,
    };
    if meta.is_dir() {
        if !req.raw_path.ends_with('/') {
            let location = format!("{}/", req.raw_path);
            return respond(
                w,
                301,
                "Moved Permanently",
                &[("Location", location), ("Content-Type", "text/plain; charset=utf-8".into())],
                Body::Text(b"moved\n"),
                head_only,
                keep,
            )
            .await;
        }
        let index = path.join("index.html");
        if let Ok(f) = tokio::fs::File::open(&index).await {
            if f.metadata().await.is_ok_and(|m| m.is_file()) {
                return respond(w, 200, "OK", &[("Content-Type", "text/html; charset=utf-8".into())], Body::File(f), head_only, keep).await;
            }
        }
        let listing = listing(&path, &req.path).await;
        return respond(w, 200, "OK", &[("Content-Type", "text/html; charset=utf-8".into())], Body::Text(listing.as_bytes()), head_only, keep).await;
    }
    match tokio::fs::File::open(&path).await {
        Ok(f) => respond(w, 200, "OK", &[("Content-Type", content_type(&req.path).into())], Body::File(f), head_only, keep).await,
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => respond_text(w, 403, "Forbidden", "403 forbidden\n", head_only, keep).await,
        Err(_) => respond_text(w, 404, "Not Found", "404 page not found\n", head_only, keep).await,
    }
}

/// `/a//b/./c` → `/a/b/c`, for looking up http_content keys.
fn normalize(path: &str) -> String {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty() && *s != ".").collect();
    format!("/{}", segs.join("/"))
}

async fn listing(dir: &Path, url_path: &str) -> String {
    let mut names = Vec::new();
    if let Ok(mut rd) = tokio::fs::read_dir(dir).await {
        while let Ok(Some(e)) = rd.next_entry().await {
            let mut name = e.file_name().to_string_lossy().into_owned();
            if e.file_type().await.is_ok_and(|t| t.is_dir()) {
                name.push('/');
            }
            names.push(name);
        }
    }
    names.sort();
    let mut html = format!("<!doctype html>\n<title>{0}</title>\n<pre>\n", escape_html(url_path));
    for n in names {
        html.push_str(&format!("<a href=\"{}\">{}</a>\n", escape_html(&n), escape_html(&n)));
    }
    html.push_str("</pre>\n");
    html
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn content_type(path: &str) -> &'static str {
    let ext = path.rsplit('/').next().and_then(|n| n.rsplit_once('.')).map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("html" | "htm") => "text/html; charset=utf-8",
        Some("json") => "application/json",
        Some("xml") => "text/xml; charset=utf-8",
        Some("sh" | "cfg" | "ks" | "txt" | "conf" | "seed" | "yaml" | "yml" | "ps1" | "bat" | "cmd" | "pp") => "text/plain; charset=utf-8",
        Some("gz" | "tgz") => "application/gzip",
        Some("iso") => "application/x-iso9660-image",
        None if path.rsplit('/').next().is_some_and(|n| matches!(n, "user-data" | "meta-data" | "vendor-data" | "network-config")) => {
            "text/plain; charset=utf-8"
        }
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests() {
        let r = Request::parse("GET /a%20b/c.cfg?x=1 HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        assert_eq!((r.method.as_str(), r.path.as_str(), r.raw_path.as_str(), r.keep_alive), ("GET", "/a b/c.cfg", "/a%20b/c.cfg", true));
        let r = Request::parse("HEAD http://10.0.2.2:8080/ks.cfg HTTP/1.0\r\n\r\n").unwrap();
        assert_eq!((r.path.as_str(), r.keep_alive), ("/ks.cfg", false));
        assert!(!Request::parse("GET / HTTP/1.1\r\nConnection: close\r\n\r\n").unwrap().keep_alive);
        assert!(Request::parse("GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\n").unwrap().has_body);
        assert!(Request::parse("GET x HTTP/1.1\r\n\r\n").is_none());
        assert!(Request::parse("GET /%zz HTTP/1.1\r\n\r\n").is_none());
        assert!(Request::parse("GET /%00 HTTP/1.1\r\n\r\n").is_none());
        assert!(Request::parse("GET / SPDY/3\r\n\r\n").is_none());
    }

    #[test]
    fn normalizing() {
        assert_eq!(normalize("/a//b/./c"), "/a/b/c");
        assert_eq!(normalize("/"), "/");
    }
}
