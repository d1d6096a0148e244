//! The build's HTTP server, exercised with a real HTTP client (ureq) and
//! with raw requests where a client would tidy the path up first.

use bake_builder_qemu::http::{start, HttpServer};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("bake-http-test-{}-{name}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Reply {
    status: u16,
    content_type: String,
    location: Option<String>,
    body: Vec<u8>,
}

async fn request(method: &'static str, url: String) -> Reply {
    tokio::task::spawn_blocking(move || {
        let agent = ureq::AgentBuilder::new().redirects(0).timeout(Duration::from_secs(10)).build();
        let response = match agent.request(method, &url).call() {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{method} {url}: {e}"),
        };
        let status = response.status();
        let content_type = response.header("Content-Type").unwrap_or_default().to_string();
        let location = response.header("Location").map(str::to_string);
        let mut body = Vec::new();
        std::io::Read::read_to_end(&mut response.into_reader(), &mut body).unwrap();
        Reply { status, content_type, location, body }
    })
    .await
    .unwrap()
}

async fn get(server: &HttpServer, path: &str) -> Reply {
    request("GET", format!("http://127.0.0.1:{}{path}", server.port())).await
}

/// Sends `text` as is and reads until the server closes.
async fn raw(port: u16, text: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    s.write_all(text.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out)).await.expect("the server closes").unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

fn site() -> TempDir {
    let dir = TempDir::new("site");
    std::fs::write(dir.path().join("preseed.cfg"), "d-i debian-installer/locale string en_US\n").unwrap();
    std::fs::create_dir_all(dir.path().join("sub/deeper")).unwrap();
    std::fs::write(dir.path().join("sub/deeper/ks.cfg"), "text\n").unwrap();
    std::fs::write(dir.path().join("sub/with space.txt"), "spaced\n").unwrap();
    std::fs::create_dir_all(dir.path().join("www")).unwrap();
    std::fs::write(dir.path().join("www/index.html"), "<h1>hi</h1>").unwrap();
    dir
}

#[tokio::test]
async fn serves_the_directory() {
    let dir = site();
    let server = start(Some(dir.path().to_path_buf()), BTreeMap::new(), "127.0.0.1", 8000, 9000).await.unwrap();
    assert!((8000..9000).contains(&server.port()), "{}", server.port());
    let r = get(&server, "/preseed.cfg").await;
    assert_eq!((r.status, r.body.as_slice()), (200, b"d-i debian-installer/locale string en_US\n".as_slice()));
    assert!(r.content_type.starts_with("text/plain"), "{}", r.content_type);
    assert_eq!(get(&server, "/sub/deeper/ks.cfg").await.body, b"text\n");
    assert_eq!(get(&server, "/sub//deeper/./ks.cfg?ignored=1").await.body, b"text\n");
    assert_eq!(get(&server, "/sub/with%20space.txt").await.body, b"spaced\n");
    assert_eq!(get(&server, "/missing.cfg").await.status, 404);
    // Directories: a redirect to the slash form, then index.html or a listing.
    let r = get(&server, "/www").await;
    assert_eq!((r.status, r.location.as_deref()), (301, Some("/www/")));
    let r = get(&server, "/www/").await;
    assert_eq!((r.status, r.body.as_slice()), (200, b"<h1>hi</h1>".as_slice()));
    let r = get(&server, "/sub/").await;
    let listing = String::from_utf8(r.body).unwrap();
    assert!(r.status == 200 && listing.contains("deeper/") && listing.contains("with space.txt"), "{listing}");
}

#[tokio::test]
async fn http_content_comes_first_and_alone_serves_404_otherwise() {
    let dir = site();
    let content = BTreeMap::from([("/preseed.cfg".to_string(), "from content\n".to_string()), ("/user-data".to_string(), "#cloud-config\n".to_string())]);
    let server = start(Some(dir.path().to_path_buf()), content.clone(), "127.0.0.1", 8000, 9000).await.unwrap();
    assert_eq!(get(&server, "/preseed.cfg").await.body, b"from content\n");
    assert_eq!(get(&server, "/sub/deeper/ks.cfg").await.body, b"text\n", "the directory still serves the rest");
    drop(server);

    let server = start(None, content, "127.0.0.1", 8000, 9000).await.unwrap();
    let r = get(&server, "/user-data").await;
    assert_eq!((r.status, r.body.as_slice()), (200, b"#cloud-config\n".as_slice()));
    assert_eq!(get(&server, "//user-data").await.body, b"#cloud-config\n");
    assert_eq!(get(&server, "/meta-data").await.status, 404);
    assert_eq!(get(&server, "/").await.status, 404);
}

#[tokio::test]
async fn no_escape_from_the_directory() {
    let root = TempDir::new("escape");
    std::fs::write(root.path().join("secret"), "top secret\n").unwrap();
    std::fs::create_dir_all(root.path().join("served")).unwrap();
    std::fs::write(root.path().join("served/ok.txt"), "ok\n").unwrap();
    let server = start(Some(root.path().join("served")), BTreeMap::new(), "127.0.0.1", 8000, 9000).await.unwrap();
    // Raw: a client would remove the dots before sending.
    for path in ["/../secret", "/%2e%2e/secret", "/ok.txt/../../secret", "/..%2fsecret", "/..%5csecret", "/a/%2E%2E/%2E%2E/secret", "/%00"] {
        let reply = raw(server.port(), &format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")).await;
        assert!(!reply.contains("top secret"), "{path}: {reply}");
        assert!(reply.starts_with("HTTP/1.1 400") || reply.starts_with("HTTP/1.1 404"), "{path}: {reply}");
    }
    let reply = raw(server.port(), "GET /ok.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await;
    assert!(reply.starts_with("HTTP/1.1 200 OK") && reply.ends_with("\r\n\r\nok\n"), "{reply}");
}

#[tokio::test]
async fn head_keep_alive_and_other_methods() {
    let dir = site();
    let server = start(Some(dir.path().to_path_buf()), BTreeMap::new(), "127.0.0.1", 8000, 9000).await.unwrap();
    let r = request("HEAD", format!("http://127.0.0.1:{}/preseed.cfg", server.port())).await;
    assert_eq!((r.status, r.body.len()), (200, 0));
    // Two requests on one connection; the second asks to close.
    let reply =
        raw(server.port(), "GET /sub/deeper/ks.cfg HTTP/1.1\r\nHost: x\r\n\r\nHEAD /preseed.cfg HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await;
    assert_eq!(reply.matches("HTTP/1.1 200 OK").count(), 2, "{reply}");
    assert!(reply.contains("Content-Length: 5\r\n") && reply.contains("\r\n\r\ntext\nHTTP/1.1 200 OK"), "{reply}");
    assert!(reply.contains("Content-Length: 41\r\n") && reply.ends_with("Connection: close\r\n\r\n"), "HEAD sends no body: {reply}");
    // HTTP/1.0 closes after one answer.
    let reply = raw(server.port(), "GET /sub/deeper/ks.cfg HTTP/1.0\r\n\r\n").await;
    assert!(reply.ends_with("\r\n\r\ntext\n"), "{reply}");
    let reply = raw(server.port(), "POST /preseed.cfg HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").await;
    assert!(reply.starts_with("HTTP/1.1 405") && reply.contains("Allow: GET, HEAD"), "{reply}");
    let reply = raw(server.port(), "garbage\r\n\r\n").await;
    assert!(reply.starts_with("HTTP/1.1 400"), "{reply}");
    // An endless header line is cut off, not buffered.
    let reply = raw(server.port(), &format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(100_000))).await;
    assert!(reply.starts_with("HTTP/1.1 431"), "{reply}");
}

#[tokio::test]
async fn a_large_file_arrives_whole() {
    let dir = TempDir::new("large");
    let data: Vec<u8> = (0..6_000_000u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(dir.path().join("big.img"), &data).unwrap();
    let server = start(Some(dir.path().to_path_buf()), BTreeMap::new(), "127.0.0.1", 8000, 9000).await.unwrap();
    let r = get(&server, "/big.img").await;
    assert_eq!(r.status, 200);
    assert!(r.body == data, "{} bytes received", r.body.len());
    assert_eq!(r.content_type, "application/octet-stream");
}

#[tokio::test]
async fn ports_come_from_the_range_and_taken_ones_are_skipped() {
    // Occupy all but one port of a small range.
    let base = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port().clamp(20000, 60000)
    };
    let mut held = Vec::new();
    let mut free = None;
    for p in base..base + 6 {
        match std::net::TcpListener::bind(("127.0.0.1", p)) {
            Ok(l) if free.is_none() && p > base => {
                free = Some(p);
                drop(l);
            }
            Ok(l) => held.push(l),
            Err(_) => {}
        }
    }
    let free = free.expect("a free port");
    for _ in 0..3 {
        let server = start(None, BTreeMap::new(), "127.0.0.1", base, base + 6).await.unwrap();
        assert_eq!(server.port(), free);
        drop(server);
        // The listener closes when the runtime runs the aborted task.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A fixed port (min == max).
    let server = start(None, BTreeMap::new(), "127.0.0.1", free, free).await.unwrap();
    assert_eq!(server.port(), free);
    // Two servers at once get different ports.
    let other = start(None, BTreeMap::new(), "127.0.0.1", 8000, 9000).await.unwrap();
    assert_ne!(other.port(), server.port());
    drop(server);
    // A fully taken range is an error that says so.
    let taken = held[0].local_addr().unwrap().port();
    let e = start(None, BTreeMap::new(), "127.0.0.1", taken, taken).await.unwrap_err();
    assert!(format!("{e:#}").contains(&format!("cannot serve HTTP on 127.0.0.1:{taken}")), "{e:#}");
    let e = start(None, BTreeMap::new(), "127.0.0.1", 9000, 8000).await.unwrap_err();
    assert!(format!("{e:#}").contains("above"), "{e:#}");
    let e = start(Some(PathBuf::from("/nonexistent/http")), BTreeMap::new(), "127.0.0.1", 8000, 9000).await.unwrap_err();
    assert!(format!("{e:#}").contains("is not a directory"), "{e:#}");
    // Port 0..0: any free port.
    let any = start(None, BTreeMap::new(), "127.0.0.1", 0, 0).await.unwrap();
    assert_ne!(any.port(), 0);
}

#[tokio::test]
async fn dropping_the_server_stops_it_and_its_connections() {
    let dir = site();
    let server = start(Some(dir.path().to_path_buf()), BTreeMap::new(), "127.0.0.1", 8000, 9000).await.unwrap();
    let port = server.port();
    // An idle keep-alive connection, open when the server is dropped.
    let mut idle = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    idle.write_all(b"GET /preseed.cfg HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = idle.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    drop(server);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(TcpStream::connect(("127.0.0.1", port)).await.is_err(), "nothing listens any more");
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match idle.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the open connection is closed too");
}
