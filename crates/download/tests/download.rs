//! The source download against a real HTTP server on 127.0.0.1: checksum
//! forms, the cache, mismatches, checksum files, fallback URLs, local files.

use bake_download::{self as download, fetch_with_cache, parse_checksum, Algorithm, Checksum};
use bake_sdk::ui::{Event, RecordingSink};
use bake_sdk::{CancellationToken, Ui};
use sha2::Digest;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the test server answers for a path.
#[derive(Clone)]
enum Reply {
    Ok(Vec<u8>),
    /// Announces the full length, sends `sent` bytes, closes.
    Truncated {
        body: Vec<u8>,
        sent: usize,
    },
    /// Sends headers, then nothing for a long time.
    Stall,
}

/// A tiny HTTP/1.0-style server in a thread, counting requests per path.
struct Server {
    port: u16,
    hits: Arc<Mutex<HashMap<String, usize>>>,
}

impl Server {
    fn start(routes: Vec<(&str, Reply)>) -> Server {
        let routes: HashMap<String, Reply> = routes.into_iter().map(|(p, r)| (p.to_string(), r)).collect();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits = Arc::new(Mutex::new(HashMap::new()));
        let counted = hits.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let routes = routes.clone();
                let counted = counted.clone();
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut line = String::new();
                    reader.read_line(&mut line).unwrap();
                    let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
                    loop {
                        let mut h = String::new();
                        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                            break;
                        }
                    }
                    *counted.lock().unwrap().entry(path.clone()).or_insert(0) += 1;
                    let head = |len: usize| format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n");
                    match routes.get(&path) {
                        Some(Reply::Ok(body)) => {
                            let _ = stream.write_all(head(body.len()).as_bytes());
                            let _ = stream.write_all(body);
                        }
                        Some(Reply::Truncated { body, sent }) => {
                            let _ = stream.write_all(head(body.len()).as_bytes());
                            let _ = stream.write_all(&body[..*sent]);
                        }
                        Some(Reply::Stall) => {
                            let _ = stream.write_all(head(1 << 20).as_bytes());
                            // Long enough to show that cancelling does not wait for it.
                            std::thread::sleep(Duration::from_secs(4));
                        }
                        None => {
                            let _ = stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 10\r\nConnection: close\r\n\r\nnot found\n");
                        }
                    }
                });
            }
        });
        Server { port, hits }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }
}

/// A directory removed at the end of the test.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("bake-download-test-{}-{name}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn files(&self, sub: &str) -> Vec<String> {
        let mut v: Vec<String> =
            std::fs::read_dir(self.0.join(sub)).map(|rd| rd.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect()).unwrap_or_default();
        v.sort();
        v
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn ui() -> (Ui, Arc<RecordingSink>) {
    let sink = Arc::new(RecordingSink::default());
    (Ui::new("test", sink.clone()), sink)
}

fn messages(sink: &RecordingSink) -> Vec<String> {
    sink.events.lock().unwrap().iter().filter_map(|(_, e)| if let Event::Message(m) = e { Some(m.clone()) } else { None }).collect()
}

fn sha256(data: &[u8]) -> String {
    sha2::Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

fn hex_of(algorithm: Algorithm, data: &[u8]) -> String {
    let mut h = algorithm.hasher();
    h.update(data);
    h.finish()
}

fn image() -> Vec<u8> {
    (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect()
}

async fn fetch(cache: &Path, urls: &[String], checksum: &str) -> anyhow::Result<PathBuf> {
    let (ui, _) = ui();
    fetch_with_cache(cache, urls, &parse_checksum(checksum).unwrap(), None, "iso", &ui, &CancellationToken::new()).await
}

#[test]
fn checksum_forms() {
    let sha = "a".repeat(64);
    assert_eq!(parse_checksum(&format!("sha256:{sha}")).unwrap(), Checksum::Hash { algorithm: Algorithm::Sha256, hex: sha.clone() });
    assert_eq!(parse_checksum(&format!("SHA256:{}", sha.to_uppercase())).unwrap(), Checksum::Hash { algorithm: Algorithm::Sha256, hex: sha.clone() });
    assert_eq!(parse_checksum(&sha).unwrap(), Checksum::Hash { algorithm: Algorithm::Sha256, hex: sha.clone() });
    assert_eq!(parse_checksum(&"b".repeat(32)).unwrap(), Checksum::Hash { algorithm: Algorithm::Md5, hex: "b".repeat(32) });
    assert_eq!(parse_checksum(&"c".repeat(40)).unwrap(), Checksum::Hash { algorithm: Algorithm::Sha1, hex: "c".repeat(40) });
    assert_eq!(parse_checksum(&"d".repeat(128)).unwrap(), Checksum::Hash { algorithm: Algorithm::Sha512, hex: "d".repeat(128) });
    assert_eq!(parse_checksum(&format!("md5:{}", "e".repeat(32))).unwrap(), Checksum::Hash { algorithm: Algorithm::Md5, hex: "e".repeat(32) });
    assert_eq!(parse_checksum(&format!("sha1:{}", "e".repeat(40))).unwrap(), Checksum::Hash { algorithm: Algorithm::Sha1, hex: "e".repeat(40) });
    assert_eq!(parse_checksum(&format!("sha512:{}", "e".repeat(128))).unwrap(), Checksum::Hash { algorithm: Algorithm::Sha512, hex: "e".repeat(128) });
    assert_eq!(parse_checksum("none").unwrap(), Checksum::None);
    assert_eq!(
        parse_checksum("file:https://example.com/SHA256SUMS").unwrap(),
        Checksum::File { url: "https://example.com/SHA256SUMS".into(), algorithm: None }
    );
    assert_eq!(parse_checksum("file:./local/path/file.sum").unwrap(), Checksum::File { url: "./local/path/file.sum".into(), algorithm: None });
    assert_eq!(parse_checksum("file:file://./local/file.sum").unwrap(), Checksum::File { url: "file://./local/file.sum".into(), algorithm: None });
    assert_eq!(
        parse_checksum("sha256:file:https://example.com/SUMS").unwrap(),
        Checksum::File { url: "https://example.com/SUMS".into(), algorithm: Some(Algorithm::Sha256) }
    );

    let e = parse_checksum(&format!("sha256:{}", "a".repeat(63))).unwrap_err();
    assert!(e.contains("a sha256 checksum has 64 hex digits"), "{e}");
    let e = parse_checksum("sha3:abcd").unwrap_err();
    assert!(e.contains("unknown checksum type \"sha3\""), "{e}");
    let e = parse_checksum(&"a".repeat(50)).unwrap_err();
    assert!(e.contains("cannot tell the type of a checksum of 50 hex digits"), "{e}");
    let e = parse_checksum("sha256:xyz").unwrap_err();
    assert!(e.contains("not hexadecimal"), "{e}");
    assert!(parse_checksum("").is_err());
    assert!(parse_checksum("file:").is_err());
    assert!(parse_checksum("latest").is_err());
}

#[test]
fn checksum_files_gnu_and_bsd() {
    let text = "# comment\n\
        0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef  debian.iso\n\
        1111111111111111111111111111111111111111111111111111111111111111 *sub/other.iso\n\
        SHA512 (bsd.img) = ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\n\
        MD5 (name with spaces.iso) = 00000000000000000000000000000000\n\
        -----BEGIN PGP SIGNATURE-----\n";
    let entries = download::parse_checksum_file(text);
    assert_eq!(entries.len(), 4, "{entries:?}");
    let find = |url: &str| download::find_entry(&entries, url, None).map(|e| (e.algorithm, e.name.clone()));
    assert_eq!(find("https://x/y/debian.iso"), Some((Algorithm::Sha256, "debian.iso".into())));
    assert_eq!(find("https://x/y/sub/other.iso?dl=1"), Some((Algorithm::Sha256, "sub/other.iso".into())));
    assert_eq!(find("https://x/bsd.img"), Some((Algorithm::Sha512, "bsd.img".into())));
    assert_eq!(find("https://x/name%20with%20spaces.iso"), Some((Algorithm::Md5, "name with spaces.iso".into())));
    assert_eq!(find("/local/debian.iso"), Some((Algorithm::Sha256, "debian.iso".into())));
    assert_eq!(find("https://x/missing.iso"), None);
    assert!(download::find_entry(&entries, "https://x/bsd.img", Some(Algorithm::Sha256)).is_none());
    // A file holding just a digest applies to the file it accompanies.
    let lone = download::parse_checksum_file(&format!("{}\n", "ab".repeat(32)));
    assert!(download::find_entry(&lone, "https://x/anything.iso", None).is_some());
}

#[tokio::test]
async fn downloads_into_the_cache_and_reuses_it_without_the_network() {
    let data = image();
    let server = Server::start(vec![("/d/debian.iso", Reply::Ok(data.clone()))]);
    let cache = TempDir::new("cache");
    let hex = sha256(&data);
    let (ui, sink) = ui();
    let checksum = parse_checksum(&format!("sha256:{hex}")).unwrap();
    let urls = vec![server.url("/d/debian.iso")];
    let started = Instant::now();
    let path = fetch_with_cache(cache.path(), &urls, &checksum, None, "iso", &ui, &CancellationToken::new()).await.unwrap();
    eprintln!("first fetch: {:?}", started.elapsed());
    assert_eq!(path, cache.path().join(format!("sha256-{hex}.iso")));
    assert_eq!(std::fs::read(&path).unwrap(), data);
    assert_eq!(cache.files(""), vec![format!("sha256-{hex}.iso")], "no temporary file is left");
    assert_eq!(server.hits("/d/debian.iso"), 1);

    let again = fetch_with_cache(cache.path(), &urls, &checksum, None, "iso", &ui, &CancellationToken::new()).await.unwrap();
    assert_eq!(again, path);
    assert_eq!(server.hits("/d/debian.iso"), 1, "a verified cached file is used without the network");
    assert!(messages(&sink).iter().any(|m| m.contains("using the file already downloaded")), "{:?}", messages(&sink));

    // A cached file that no longer matches is downloaded again.
    std::fs::write(&path, b"corrupt").unwrap();
    let third = fetch_with_cache(cache.path(), &urls, &checksum, None, "iso", &ui, &CancellationToken::new()).await.unwrap();
    assert_eq!(std::fs::read(&third).unwrap(), data);
    assert_eq!(server.hits("/d/debian.iso"), 2);
}

#[tokio::test]
async fn every_hash_type_and_bare_hex() {
    let data = image();
    let server = Server::start(vec![("/img", Reply::Ok(data.clone()))]);
    let cache = TempDir::new("types");
    for algorithm in Algorithm::ALL {
        let hex = hex_of(algorithm, &data);
        for checksum in [format!("{algorithm}:{hex}"), hex.clone(), format!("{}:{}", algorithm.name().to_uppercase(), hex.to_uppercase())] {
            let path = fetch(cache.path(), &[server.url("/img")], &checksum).await.unwrap_or_else(|e| panic!("{checksum}: {e:#}"));
            assert_eq!(path.file_name().unwrap().to_string_lossy(), format!("{algorithm}-{hex}.iso"));
            assert_eq!(std::fs::read(&path).unwrap(), data);
        }
    }
    assert_eq!(server.hits("/img"), 4, "one download per hash type, cache hits after");
}

#[tokio::test]
async fn a_mismatch_is_an_error_naming_expected_actual_and_url_and_leaves_nothing() {
    let data = image();
    let server = Server::start(vec![("/img.iso", Reply::Ok(data.clone()))]);
    let cache = TempDir::new("mismatch");
    let wrong = "0".repeat(64);
    let url = server.url("/img.iso");
    let e = fetch(cache.path(), std::slice::from_ref(&url), &format!("sha256:{wrong}")).await.unwrap_err();
    let e = format!("{e:#}");
    eprintln!("mismatch: {e}");
    assert!(e.contains("checksum mismatch"), "{e}");
    assert!(e.contains(&url), "{e}");
    assert!(e.contains(&format!("expected sha256 {wrong}")), "{e}");
    assert!(e.contains(&format!("got {}", sha256(&data))), "{e}");
    assert_eq!(cache.files(""), Vec::<String>::new(), "neither the temporary nor the final file remains");
}

#[tokio::test]
async fn checksum_file_over_http_gnu_and_bsd() {
    let data = image();
    let other = b"other".to_vec();
    let gnu = format!("{}  other.iso\n{} *debian.iso\n", sha256(&other), sha256(&data));
    let bsd = format!("SHA512 (other.iso) = {}\nSHA512 (debian.iso) = {}\n", hex_of(Algorithm::Sha512, &other), hex_of(Algorithm::Sha512, &data));
    let server = Server::start(vec![
        ("/r/debian.iso", Reply::Ok(data.clone())),
        ("/r/SHA256SUMS", Reply::Ok(gnu.into_bytes())),
        ("/r/SHA512SUMS", Reply::Ok(bsd.into_bytes())),
        ("/r/BAD", Reply::Ok(format!("{}  debian.iso\n", "1".repeat(64)).into_bytes())),
    ]);
    let cache = TempDir::new("sums");
    let path = fetch(cache.path(), &[server.url("/r/debian.iso")], &format!("file:{}", server.url("/r/SHA256SUMS"))).await.unwrap();
    assert_eq!(path.file_name().unwrap().to_string_lossy(), format!("sha256-{}.iso", sha256(&data)));
    let path = fetch(cache.path(), &[server.url("/r/debian.iso")], &format!("file:{}", server.url("/r/SHA512SUMS"))).await.unwrap();
    assert_eq!(path.file_name().unwrap().to_string_lossy(), format!("sha512-{}.iso", hex_of(Algorithm::Sha512, &data)));
    assert_eq!(std::fs::read(&path).unwrap(), data);
    // The type-restricted form finds the sha256 entry only.
    let e = fetch(cache.path(), &[server.url("/r/debian.iso")], &format!("sha256:file:{}", server.url("/r/SHA512SUMS"))).await.unwrap_err();
    assert!(format!("{e:#}").contains("has no sha256 entry for \"debian.iso\""), "{e:#}");
    let e = fetch(cache.path(), &[server.url("/r/debian.iso")], &format!("file:{}", server.url("/r/BAD"))).await.unwrap_err();
    assert!(format!("{e:#}").contains("checksum mismatch"), "{e:#}");
    let e = fetch(cache.path(), &[server.url("/r/debian.iso")], &format!("file:{}", server.url("/r/NOPE"))).await.unwrap_err();
    assert!(format!("{e:#}").contains("cannot read the checksum file") && format!("{e:#}").contains("404"), "{e:#}");
}

#[tokio::test]
async fn local_checksum_file() {
    let data = image();
    let server = Server::start(vec![("/debian.iso", Reply::Ok(data.clone()))]);
    let cache = TempDir::new("localsums");
    let sums = cache.path().join("SHA256SUMS");
    std::fs::write(&sums, format!("{}  debian.iso\n", sha256(&data))).unwrap();
    for form in [format!("file:{}", sums.display()), format!("file:file://{}", sums.display())] {
        let path = fetch(&cache.path().join("c"), &[server.url("/debian.iso")], &form).await.unwrap_or_else(|e| panic!("{form}: {e:#}"));
        assert_eq!(std::fs::read(&path).unwrap(), data);
    }
}

#[tokio::test]
async fn falls_back_to_the_next_url() {
    let data = image();
    let server = Server::start(vec![("/good.iso", Reply::Ok(data.clone()))]);
    let cache = TempDir::new("fallback");
    // A port nobody listens on: connection refused.
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let urls = vec![format!("http://127.0.0.1:{closed}/x.iso"), server.url("/missing.iso"), server.url("/good.iso")];
    let (ui, sink) = ui();
    let path = fetch_with_cache(cache.path(), &urls, &parse_checksum(&sha256(&data)).unwrap(), None, "iso", &ui, &CancellationToken::new()).await.unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), data);
    assert_eq!(server.hits("/missing.iso"), 1);
    let m = messages(&sink);
    assert!(m.iter().any(|m| m.contains("/missing.iso: HTTP 404") && m.contains("trying the next URL")), "{m:?}");

    // When all fail, each reason is listed.
    let e = fetch(cache.path(), &urls[..2], &format!("sha256:{}", "2".repeat(64))).await.unwrap_err();
    let e = format!("{e:#}");
    eprintln!("all failed: {e}");
    assert!(e.contains("none of the 2 URLs worked"), "{e}");
    assert!(e.contains("/x.iso: ") && e.contains("/missing.iso: HTTP 404 Not Found"), "{e}");
}

#[tokio::test]
async fn local_files_are_used_in_place() {
    let data = image();
    let dir = TempDir::new("local");
    let file = dir.path().join("my image.qcow2");
    std::fs::write(&file, &data).unwrap();
    let cache = dir.path().join("cache");
    let url = format!("file://{}", file.display().to_string().replace(' ', "%20"));
    let path = fetch(&cache, std::slice::from_ref(&url), &sha256(&data)).await.unwrap();
    assert_eq!(path, file);
    let path = fetch(&cache, &[file.display().to_string()], &format!("md5:{}", hex_of(Algorithm::Md5, &data))).await.unwrap();
    assert_eq!(path, file);
    let path = fetch(&cache, &[file.display().to_string()], "none").await.unwrap();
    assert_eq!(path, file);
    assert!(!cache.exists(), "nothing is copied into the cache");
    let e = fetch(&cache, &[url], &"3".repeat(64)).await.unwrap_err();
    assert!(format!("{e:#}").contains("checksum mismatch"), "{e:#}");
    let e = fetch(&cache, &[dir.path().join("nope.iso").display().to_string()], "none").await.unwrap_err();
    assert!(format!("{e:#}").contains("does not exist"), "{e:#}");
    let e = fetch(&cache, &["ftp://example.com/x.iso".to_string()], "none").await.unwrap_err();
    assert!(format!("{e:#}").contains("unsupported URL scheme"), "{e:#}");
}

#[tokio::test]
async fn no_checksum_downloads_every_time_under_a_url_name() {
    let data = image();
    let server = Server::start(vec![("/any.img", Reply::Ok(data.clone()))]);
    let cache = TempDir::new("none");
    let (ui, _) = ui();
    let urls = vec![server.url("/any.img")];
    let a = fetch_with_cache(cache.path(), &urls, &Checksum::None, None, "img", &ui, &CancellationToken::new()).await.unwrap();
    let b = fetch_with_cache(cache.path(), &urls, &Checksum::None, None, "img", &ui, &CancellationToken::new()).await.unwrap();
    assert_eq!(a, b);
    assert!(a.file_name().unwrap().to_string_lossy().starts_with("url-") && a.extension().unwrap() == "img", "{a:?}");
    assert_eq!(std::fs::read(&a).unwrap(), data);
    assert_eq!(server.hits("/any.img"), 2, "an unverifiable cached file is not trusted");
}

#[tokio::test]
async fn target_path_file_or_directory() {
    let data = image();
    let server = Server::start(vec![("/t.iso", Reply::Ok(data.clone()))]);
    let dir = TempDir::new("target");
    let (ui, _) = ui();
    let checksum = parse_checksum(&sha256(&data)).unwrap();
    let urls = vec![server.url("/t.iso")];
    let target = dir.path().join("isos/debian.iso");
    let path = fetch_with_cache(&dir.path().join("cache"), &urls, &checksum, Some(&target), "iso", &ui, &CancellationToken::new()).await.unwrap();
    assert_eq!(path, target);
    assert_eq!(std::fs::read(&target).unwrap(), data);
    // Present and matching: no second download.
    fetch_with_cache(&dir.path().join("cache"), &urls, &checksum, Some(&target), "iso", &ui, &CancellationToken::new()).await.unwrap();
    assert_eq!(server.hits("/t.iso"), 1);
    let path =
        fetch_with_cache(&dir.path().join("cache"), &urls, &checksum, Some(&dir.path().join("isos")), "iso", &ui, &CancellationToken::new()).await.unwrap();
    assert_eq!(path, dir.path().join("isos").join(format!("sha256-{}.iso", sha256(&data))));
}

#[tokio::test]
async fn a_truncated_download_is_an_error_and_leaves_nothing() {
    let data = image();
    let server = Server::start(vec![("/cut.iso", Reply::Truncated { body: data.clone(), sent: 1000 })]);
    let cache = TempDir::new("cut");
    let e = fetch(cache.path(), &[server.url("/cut.iso")], &sha256(&data)).await.unwrap_err();
    let e = format!("{e:#}");
    eprintln!("truncated: {e}");
    assert!(e.contains("/cut.iso"), "{e}");
    assert_eq!(cache.files(""), Vec::<String>::new());
}

#[tokio::test]
async fn cancelling_stops_a_stalled_download_at_once() {
    let server = Server::start(vec![("/stall.iso", Reply::Stall)]);
    let cache = TempDir::new("cancel");
    let (ui, _) = ui();
    let cancel = CancellationToken::new();
    let c = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        c.cancel();
    });
    let started = Instant::now();
    let e =
        fetch_with_cache(cache.path(), &[server.url("/stall.iso")], &parse_checksum(&"4".repeat(64)).unwrap(), None, "iso", &ui, &cancel).await.unwrap_err();
    assert!(format!("{e:#}").contains("cancelled"), "{e:#}");
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    assert!(!cache.path().join(format!("sha256-{}.iso", "4".repeat(64))).exists());
}

#[tokio::test]
async fn fetch_uses_xdg_cache_home() {
    let data = image();
    let server = Server::start(vec![("/x.iso", Reply::Ok(data.clone()))]);
    let home = TempDir::new("xdg");
    // Only this test reads the environment; the others pass their cache.
    std::env::set_var("XDG_CACHE_HOME", home.path());
    let (ui, _) = ui();
    let path = download::fetch(&[server.url("/x.iso")], &parse_checksum(&sha256(&data)).unwrap(), None, "iso", &ui, &CancellationToken::new()).await.unwrap();
    assert_eq!(path, home.path().join("bake/downloads").join(format!("sha256-{}.iso", sha256(&data))));
}
