//! A real OpenSSH server for tests: `sshd -D -e -f CONFIG` on a free
//! loopback port, run as the current user, with its own host key,
//! `authorized_keys` and log in a temp directory. Killed (with every session
//! it forked) when dropped.
//!
//! Shared by `sdk/tests/ssh.rs` and the root crate's tests (which include
//! this file with `#[path]`); it uses only std so that both can.

#![allow(dead_code)]

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What the server allows.
#[derive(Clone, Debug)]
pub struct Options {
    pub password_auth: bool,
    /// `AcceptEnv` patterns: variables the server takes as SSH env requests.
    pub accept_env: String,
    /// Whether `client_key` is in `authorized_keys` (a server that only
    /// trusts certificates does not list it).
    pub authorize_client_key: bool,
    /// sshd_config lines that come first, and so win over the defaults
    /// (sshd takes the first value of each keyword): `LogLevel DEBUG1`,
    /// `Ciphers …`, `TrustedUserCAKeys …`.
    pub extra: String,
}

impl Default for Options {
    fn default() -> Self {
        Options { password_auth: true, accept_env: "BAKE_ACCEPTED_*".to_string(), authorize_client_key: true, extra: String::new() }
    }
}

/// The user the tests log in as when they run as root: a dedicated one
/// with `/bin/sh`, so that no one's shell start-up files (a `.bashrc` that
/// waits on a lock, say) get into the tests.
pub const TEST_USER: &str = "baketest";

pub struct Sshd {
    pub port: u16,
    pub dir: PathBuf,
    /// The user the tests log in as: [`TEST_USER`] when running as root,
    /// else whoever runs them.
    pub user: String,
    /// The user's password, when it could be set (as root).
    pub password: Option<String>,
    /// A directory inside `dir` that `user` may write to.
    pub home: PathBuf,
    /// An ed25519 private key (made by ssh-keygen) listed in authorized_keys.
    pub client_key: PathBuf,
    opts: Options,
    child: Option<Child>,
}

impl Sshd {
    pub fn start() -> Sshd {
        Sshd::with(Options::default())
    }

    pub fn with(opts: Options) -> Sshd {
        // Fail early, with the install command, when there is no sshd.
        sshd_path();
        let dir = std::env::temp_dir().join(format!("bake-sshd-{}-{}", std::process::id(), unique()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create sshd dir");
        keygen(&dir.join("host_ed25519"), "ed25519", "");
        let client_key = dir.join("client_ed25519");
        keygen(&client_key, "ed25519", "");
        let public = std::fs::read_to_string(client_key.with_extension("pub")).expect("read client public key");
        let authorized = if opts.authorize_client_key { public } else { String::new() };
        std::fs::write(dir.join("authorized_keys"), authorized).expect("write authorized_keys");
        // sshd running as root wants its privilege separation directory.
        if is_root() {
            let _ = std::fs::create_dir_all("/run/sshd");
        }
        let (user, password) = match test_user(TEST_USER) {
            Ok((user, password)) => (user, Some(password)),
            Err(_) => (current_user(), None),
        };
        let home = dir.join("home");
        std::fs::create_dir_all(&home).expect("create home");
        if let Some((uid, gid)) = ids(&user) {
            let _ = std::os::unix::fs::chown(&home, Some(uid), Some(gid));
        }
        let mut sshd = Sshd { port: 0, dir, user, password, home, client_key, opts, child: None };
        // A port found free may be taken before sshd binds it: try a few.
        let mut last = String::new();
        for _ in 0..5 {
            sshd.port = free_port();
            match sshd.spawn() {
                Ok(()) => return sshd,
                Err(e) => last = e,
            }
        }
        panic!("could not start sshd: {last}");
    }

    fn config(&self) -> String {
        let d = self.dir.display();
        format!(
            "{extra}\n\
             Port {port}\n\
             ListenAddress 127.0.0.1\n\
             HostKey {d}/host_ed25519\n\
             PidFile none\n\
             UsePAM no\n\
             StrictModes no\n\
             AuthorizedKeysFile {d}/authorized_keys\n\
             PubkeyAuthentication yes\n\
             PasswordAuthentication {pw}\n\
             KbdInteractiveAuthentication no\n\
             PermitRootLogin yes\n\
             AcceptEnv {env}\n\
             Subsystem sftp internal-sftp\n\
             MaxStartups 100\n\
             MaxAuthTries 10\n\
             LogLevel VERBOSE\n",
            port = self.port,
            pw = if self.opts.password_auth { "yes" } else { "no" },
            env = self.opts.accept_env,
            extra = self.opts.extra,
        )
    }

    /// Starts sshd on `self.port` and waits for its banner.
    fn spawn(&mut self) -> Result<(), String> {
        let cfg = self.dir.join("sshd_config");
        std::fs::write(&cfg, self.config()).expect("write sshd_config");
        let log_path = self.dir.join("sshd.log");
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&log_path).expect("open sshd log");
        let child = Command::new(sshd_path())
            .arg("-D")
            .arg("-e")
            .arg("-f")
            .arg(&cfg)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("spawn sshd: {e}"))?;
        self.child = Some(child);
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                self.child = None;
                return Err(format!("sshd exited with {status}:\n{}", self.log()));
            }
            if banner(self.port) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.stop();
        Err(format!("sshd did not answer on port {} within 10s:\n{}", self.port, self.log()))
    }

    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("sshd.log")).unwrap_or_default()
    }

    /// Adds a public key line to authorized_keys.
    pub fn authorize(&self, public_line: &str) {
        authorize_in(&self.dir, public_line);
    }

    /// Makes a key pair in the server's directory (not authorized); returns
    /// the private key's path.
    pub fn keygen(&self, name: &str, kind: &str, passphrase: &str) -> PathBuf {
        let path = self.dir.join(name);
        keygen(&path, kind, passphrase);
        path
    }

    /// Kills sshd and every session it forked, as a machine going away
    /// would drop every connection.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let pid = child.id();
            let descendants = descendants(pid);
            let _ = child.kill();
            let _ = child.wait();
            for p in descendants {
                // SAFETY: kill(2) has no memory effects; a pid that already
                // exited gives ESRCH, which is fine.
                unsafe {
                    libc_kill(p as i32, 9);
                }
            }
        }
    }

    /// Starts sshd again on the same port (after [`Sshd::stop`]).
    pub fn restart(&mut self) {
        self.stop();
        let started = Instant::now();
        loop {
            match self.spawn() {
                Ok(()) => return,
                Err(e) if started.elapsed() < Duration::from_secs(10) && e.contains("Address already in use") => std::thread::sleep(Duration::from_millis(100)),
                Err(e) => panic!("could not restart sshd: {e}"),
            }
        }
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}

fn sshd_path() -> PathBuf {
    for p in ["/usr/sbin/sshd", "/usr/local/sbin/sshd", "/sbin/sshd"] {
        if Path::new(p).exists() {
            return PathBuf::from(p);
        }
    }
    panic!("sshd is not installed; these tests need a real OpenSSH server: apt-get install -y --no-install-recommends openssh-server openssh-client");
}

fn keygen(path: &Path, kind: &str, passphrase: &str) {
    let mut cmd = Command::new("ssh-keygen");
    cmd.args(["-q", "-t", kind, "-N", passphrase, "-C", "bake-test", "-f"]).arg(path);
    if kind == "rsa" {
        cmd.args(["-b", "2048"]);
    }
    let out = cmd.output().expect("run ssh-keygen (install openssh-client)");
    assert!(out.status.success(), "ssh-keygen failed: {}", String::from_utf8_lossy(&out.stderr));
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("find a free port")
}

/// Whether an SSH banner arrives on the port.
fn banner(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    let mut buf = [0u8; 4];
    s.read_exact(&mut buf).is_ok() && &buf == b"SSH-"
}

/// Every process below `pid`, from /proc.
fn descendants(pid: u32) -> Vec<u32> {
    let mut parents: Vec<(u32, u32)> = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for e in entries.flatten() {
            let Some(p) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else { continue };
            // The command name is in parentheses and may hold spaces: the
            // parent pid is the second field after the last ')'.
            let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else { continue };
            if let Some(ppid) = rest.split_whitespace().nth(1).and_then(|s| s.parse().ok()) {
                parents.push((p, ppid));
            }
        }
    }
    let mut out = Vec::new();
    let mut frontier = vec![pid];
    while let Some(p) = frontier.pop() {
        for &(child, parent) in &parents {
            if parent == p && !out.contains(&child) {
                out.push(child);
                frontier.push(child);
            }
        }
    }
    out
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::SeqCst)
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

fn current_user() -> String {
    Command::new("id")
        .arg("-un")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("USER").ok())
        .expect("who am I")
}

/// A local user with a password, for password authentication: created with
/// `useradd` when running as root. The password is random, made once per
/// machine and kept in a root-only file, so that test processes running at
/// the same time agree on it. `Err` says why it cannot be done.
/// Adds a public key line to the authorized_keys of the server whose
/// directory is `dir` (for a thread that does not own the server).
pub fn authorize_in(dir: &Path, public_line: &str) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().append(true).open(dir.join("authorized_keys")).expect("open authorized_keys");
    writeln!(f, "{}", public_line.trim()).expect("append authorized_keys");
}

pub fn test_user(name: &str) -> Result<(String, String), String> {
    if !is_root() {
        return Err("a user with a known password is needed; creating one needs root".into());
    }
    if ids(name).is_none() {
        let out = Command::new("useradd").args(["-M", "-d", "/tmp", "-s", "/bin/sh", name]).output().map_err(|e| format!("useradd: {e}"))?;
        // Another test process may have created it meanwhile.
        if ids(name).is_none() {
            return Err(format!("useradd {name} failed: {}", String::from_utf8_lossy(&out.stderr)));
        }
    }
    let password = stored_password(name)?;
    let mut child = Command::new("chpasswd").stdin(Stdio::piped()).stderr(Stdio::piped()).spawn().map_err(|e| format!("chpasswd: {e}"))?;
    {
        use std::io::Write;
        let stdin = child.stdin.as_mut().ok_or("chpasswd stdin")?;
        writeln!(stdin, "{name}:{password}").map_err(|e| format!("chpasswd: {e}"))?;
    }
    let out = child.wait_with_output().map_err(|e| format!("chpasswd: {e}"))?;
    if !out.status.success() {
        return Err(format!("chpasswd failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok((name.to_string(), password))
}

fn stored_password(name: &str) -> Result<String, String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let path = std::env::temp_dir().join(format!("bake-test-user-{name}.password"));
    let fresh = format!("bake-{}-{}", std::process::id(), nanos());
    match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path) {
        Ok(mut f) => {
            f.write_all(fresh.as_bytes()).map_err(|e| format!("write {}: {e}", path.display()))?;
            Ok(fresh)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            // The writer may not have finished: wait for the content.
            for _ in 0..50 {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                if !text.is_empty() {
                    return Ok(text);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(format!("{} stays empty", path.display()))
        }
        Err(e) => Err(format!("create {}: {e}", path.display())),
    }
}

/// The uid and gid of `user`.
fn ids(user: &str) -> Option<(u32, u32)> {
    let id = |flag: &str| {
        let out = Command::new("id").arg(flag).arg(user).output().ok()?;
        if !out.status.success() {
            return None;
        }
        String::from_utf8_lossy(&out.stdout).trim().parse().ok()
    };
    Some((id("-u")?, id("-g")?))
}

fn nanos() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
}
