//! The SSH communicator's options against real OpenSSH servers: a bastion
//! (two sshd processes), an ssh-agent, a user certificate signed by a CA the
//! server trusts, the read/write timeout, keepalives, a pty, and chosen
//! ciphers and key exchanges.

mod sshd;

use bake_sdk::ssh::{self, Bastion, PrivateKeySource, SshAuth, SshCommunicator, SshConfig, SshError};
use bake_sdk::{CancellationToken, Communicator};
use sshd::{Options, Sshd};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn key(path: &Path) -> SshAuth {
    SshAuth { private_key: Some(PrivateKeySource::File(path.to_path_buf())), ..SshAuth::default() }
}

fn config(server: &Sshd, auth: SshAuth) -> SshConfig {
    SshConfig { host: "127.0.0.1".into(), port: server.port, username: server.user.clone(), auth, timeout: Duration::from_secs(20), ..SshConfig::default() }
}

async fn connect(cfg: SshConfig, server: &Sshd) -> SshCommunicator {
    ssh::connect(cfg, &CancellationToken::new(), Vec::new).await.unwrap_or_else(|e| panic!("connect: {e}\nsshd log:\n{}", server.log()))
}

async fn refused(cfg: SshConfig) -> String {
    match ssh::connect(cfg, &CancellationToken::new(), Vec::new).await {
        Ok(_) => panic!("connected, but should not have"),
        Err(e) => e.to_string(),
    }
}

/// The output of `command`, which must succeed.
async fn output(comm: &SshCommunicator, command: &str) -> String {
    let mut out = Vec::new();
    let code = comm.run(command, &mut |_, l| out.push(l.to_string())).await.unwrap_or_else(|e| panic!("{command}: {e:#}"));
    assert_eq!(code, 0, "{command}: {out:?}");
    out.join("\n")
}

fn debug_server() -> Sshd {
    Sshd::with(Options { extra: "LogLevel DEBUG1".into(), ..Options::default() })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bastion_is_the_way_in() {
    let bastion = debug_server();
    // The machine accepts only its own key, the bastion only the client key.
    let target = Sshd::with(Options { password_auth: false, authorize_client_key: false, ..Options::default() });
    let machine_key = target.keygen("machine_key", "ed25519", "");
    target.authorize(&std::fs::read_to_string(machine_key.with_extension("pub")).unwrap());
    let jump = Bastion { host: "127.0.0.1".into(), port: bastion.port, username: bastion.user.clone(), auth: key(&bastion.client_key) };
    let cfg = SshConfig { bastion: Some(jump.clone()), ..config(&target, key(&machine_key)) };

    let comm = connect(cfg.clone(), &target).await;
    assert_eq!(output(&comm, "echo through; id -un").await, format!("through\n{}", target.user));
    comm.upload(b"over the jump", &format!("{}/jumped.txt", target.home.display()), 0o644).await.unwrap();
    assert_eq!(std::fs::read_to_string(target.home.join("jumped.txt")).unwrap(), "over the jump");
    comm.close().await;

    // The bastion opened the connection to the machine for bake.
    let log = bastion.log();
    let forwarded = format!("target 127.0.0.1 port {}", target.port);
    assert!(log.contains("server_request_direct_tcpip") && log.contains(&forwarded), "bastion log:\n{log}");

    // Credentials the bastion refuses: its refusal is named as the bastion's.
    let wrong = Bastion { auth: key(&target.keygen("stranger", "ed25519", "")), ..jump };
    let msg = refused(SshConfig { bastion: Some(wrong), handshake_attempts: 2, ..cfg }).await;
    assert!(msg.contains(&format!("the bastion failed: bastion 127.0.0.1:{}: authentication was refused", bastion.port)), "{msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_machine_the_bastion_cannot_reach_is_retried_then_reported() {
    let bastion = Sshd::start();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let jump = Bastion { host: "127.0.0.1".into(), port: bastion.port, username: bastion.user.clone(), auth: key(&bastion.client_key) };
    let cfg = SshConfig {
        host: "127.0.0.1".into(),
        port: closed,
        username: bastion.user.clone(),
        auth: key(&bastion.client_key),
        timeout: Duration::from_secs(2),
        bastion: Some(jump),
        ..SshConfig::default()
    };
    let msg = refused(cfg).await;
    assert!(msg.contains(&format!("the bastion 127.0.0.1:{} could not connect to 127.0.0.1:{closed}", bastion.port)), "{msg}");
    assert!(msg.contains("ssh_timeout (2.0s) ran out"), "{msg}");
}

/// A running `ssh-agent` on its own socket, killed when dropped.
struct Agent {
    socket: PathBuf,
    child: Child,
}

impl Agent {
    fn start(dir: &Path) -> Agent {
        let socket = dir.join("agent.sock");
        let child = Command::new("ssh-agent").arg("-D").arg("-a").arg(&socket).stdout(Stdio::null()).spawn().expect("start ssh-agent (install openssh-client)");
        let started = Instant::now();
        while !socket.exists() {
            assert!(started.elapsed() < Duration::from_secs(10), "ssh-agent did not create {}", socket.display());
            std::thread::sleep(Duration::from_millis(20));
        }
        Agent { socket, child }
    }

    fn add(&self, key: &Path) {
        let out = Command::new("ssh-add").arg(key).env("SSH_AUTH_SOCK", &self.socket).output().expect("run ssh-add");
        assert!(out.status.success(), "ssh-add: {}", String::from_utf8_lossy(&out.stderr));
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_of_a_running_agent_log_in() {
    let server = Sshd::with(Options { password_auth: false, ..Options::default() });
    let agent = Agent::start(&server.dir);
    let by_agent = |agent: &Agent| SshAuth { agent: Some(agent.socket.clone()), ..SshAuth::default() };

    // An empty agent has nothing to offer, and says so.
    let msg = refused(SshConfig { handshake_attempts: 1, ..config(&server, by_agent(&agent)) }).await;
    assert!(msg.contains("the agent holds no keys"), "{msg}");

    // An unrelated key first, then the one the server takes: each is offered.
    agent.add(&server.keygen("unrelated", "ed25519", ""));
    agent.add(&server.client_key);
    let comm = connect(config(&server, by_agent(&agent)), &server).await;
    assert_eq!(output(&comm, "echo signed by the agent").await, "signed by the agent");
    comm.close().await;
    assert!(server.log().contains("Accepted publickey"), "{}", server.log());

    let gone = SshAuth { agent: Some(server.dir.join("no-agent.sock")), ..SshAuth::default() };
    let msg = refused(config(&server, gone)).await;
    assert!(msg.contains("no SSH agent answers at") && msg.contains("ssh-add"), "{msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_certificate_is_what_the_server_trusts() {
    let dir = std::env::temp_dir().join(format!("bake-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca");
    let keygen = |args: &[&str]| {
        let out = Command::new("ssh-keygen").args(args).output().expect("run ssh-keygen");
        assert!(out.status.success(), "ssh-keygen {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    keygen(&["-q", "-t", "ed25519", "-N", "", "-f", ca.to_str().unwrap()]);
    // The server trusts the CA and lists no key at all.
    let server = Sshd::with(Options {
        password_auth: false,
        authorize_client_key: false,
        extra: format!("TrustedUserCAKeys {}", ca.with_extension("pub").display()),
        ..Options::default()
    });
    let user_key = server.keygen("user_key", "ed25519", "");
    let public = user_key.with_extension("pub");
    keygen(&["-q", "-s", ca.to_str().unwrap(), "-I", "bake-test", "-n", &server.user, "-V", "+1h", public.to_str().unwrap()]);
    let cert = server.dir.join("user_key-cert.pub");
    assert!(cert.is_file());

    let msg = refused(SshConfig { handshake_attempts: 1, ..config(&server, key(&user_key)) }).await;
    assert!(msg.contains("authentication was refused"), "the bare key should not work: {msg}");

    let comm = connect(config(&server, SshAuth { certificate: Some(cert.clone()), ..key(&user_key) }), &server).await;
    assert_eq!(output(&comm, "echo certified").await, "certified");
    comm.close().await;
    assert!(server.log().contains("Accepted publickey") && server.log().contains("ID bake-test"), "{}", server.log());

    // A certificate of another key is caught before any attempt.
    let other = server.keygen("other_key", "ed25519", "");
    let msg = refused(config(&server, SshAuth { certificate: Some(cert), ..key(&other) })).await;
    assert!(msg.contains("it certifies another key"), "{msg}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_command_fails_after_the_read_write_timeout() {
    let server = Sshd::start();
    let cfg = SshConfig { read_write_timeout: Some(Duration::from_secs(1)), ..config(&server, key(&server.client_key)) };
    let comm = connect(cfg, &server).await;
    // Output every half second keeps it going, past the one second.
    assert_eq!(output(&comm, "for i in 1 2 3 4; do echo $i; sleep 0.5; done").await, "1\n2\n3\n4");
    let started = Instant::now();
    let e = comm.run("sleep 20", &mut |_, _| {}).await.unwrap_err();
    assert!(matches!(e.downcast_ref::<SshError>(), Some(SshError::Idle { .. })), "{e:#}");
    assert!(e.to_string().contains("sent nothing for 1.0s (ssh_read_write_timeout)"), "{e:#}");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    // The connection is still good for the next command.
    assert_eq!(output(&comm, "echo next").await, "next");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keepalives_go_out_at_the_interval() {
    let server = debug_server();
    let cfg = SshConfig { keepalive_interval: Duration::from_millis(200), ..config(&server, key(&server.client_key)) };
    let comm = connect(cfg, &server).await;
    output(&comm, "sleep 1.5").await;
    comm.close().await;
    let n = server.log().matches("rtype keepalive@openssh.com").count();
    assert!(n >= 4, "{n} keepalives in 1.5 s at 200 ms:\n{}", server.log());

    let server = debug_server();
    let cfg = SshConfig { keepalive_interval: Duration::ZERO, ..config(&server, key(&server.client_key)) };
    let comm = connect(cfg, &server).await;
    output(&comm, "sleep 1.5").await;
    comm.close().await;
    assert!(!server.log().contains("keepalive@openssh.com"), "keepalives were disabled:\n{}", server.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_run_on_a_pty_when_asked() {
    let server = Sshd::start();
    let plain = connect(config(&server, key(&server.client_key)), &server).await;
    assert_eq!(output(&plain, "tty || true").await, "not a tty");
    let pty = connect(SshConfig { pty: true, ..config(&server, key(&server.client_key)) }, &server).await;
    assert!(output(&pty, "tty").await.starts_with("/dev/pts/"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chosen_ciphers_and_key_exchanges_are_the_ones_offered() {
    let server = Sshd::with(Options { extra: "Ciphers aes256-ctr\nKexAlgorithms diffie-hellman-group14-sha256".into(), ..Options::default() });
    let base = || config(&server, key(&server.client_key));
    let msg = refused(SshConfig { ciphers: vec!["aes128-ctr".into()], handshake_attempts: 1, ..base() }).await;
    assert!(msg.contains("the SSH handshake failed"), "{msg}");
    let msg =
        refused(SshConfig { ciphers: vec!["aes256-ctr".into()], key_exchange_algorithms: vec!["curve25519-sha256".into()], handshake_attempts: 1, ..base() })
            .await;
    assert!(msg.contains("the SSH handshake failed"), "{msg}");
    let cfg = SshConfig { ciphers: vec!["aes256-ctr".into()], key_exchange_algorithms: vec!["diffie-hellman-group14-sha256".into()], ..base() };
    let comm = connect(cfg, &server).await;
    assert_eq!(output(&comm, "echo agreed").await, "agreed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_is_forwarded_to_commands_unless_disabled() {
    let server = Sshd::start();
    let agent = Agent::start(&server.dir);
    agent.add(&server.client_key);
    let listing = |comm: SshCommunicator| async move {
        let mut out = Vec::new();
        let code = comm.run("ssh-add -l; echo \"sock=${SSH_AUTH_SOCK:-none}\"", &mut |_, l| out.push(l.to_string())).await.unwrap();
        (code, out.join("\n"))
    };
    let forwarded = connect(SshConfig { forward_agent: Some(agent.socket.clone()), ..config(&server, key(&server.client_key)) }, &server).await;
    let (_, out) = listing(forwarded).await;
    assert!(out.contains("bake-test (ED25519)") && !out.contains("sock=none"), "{out}");

    let plain = connect(config(&server, key(&server.client_key)), &server).await;
    let (_, out) = listing(plain).await;
    assert!(!out.contains("bake-test") && out.contains("sock=none"), "{out}");
}

/// OpenSSH's client as a SOCKS5 proxy (`ssh -D`) through `through`; killed
/// when dropped.
struct SocksProxy {
    port: u16,
    child: Child,
}

impl SocksProxy {
    fn start(through: &Sshd) -> SocksProxy {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("ssh")
            .args(["-N", "-D", &format!("127.0.0.1:{port}"), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"])
            .arg("-i")
            .arg(&through.client_key)
            .args(["-p", &through.port.to_string(), &format!("{}@127.0.0.1", through.user)])
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("run ssh -D (install openssh-client)");
        let started = Instant::now();
        // A connect that reaches itself (TCP simultaneous open on a port
        // of the ephemeral range) is not ssh listening.
        let listening = || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok_and(|s| s.local_addr().ok() != s.peer_addr().ok());
        while !listening() {
            assert!(started.elapsed() < Duration::from_secs(10), "ssh -D did not listen on {port}");
            std::thread::sleep(Duration::from_millis(20));
        }
        SocksProxy { port, child }
    }
}

impl Drop for SocksProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socks_proxy_carries_the_connection() {
    let relay = debug_server();
    let proxy = SocksProxy::start(&relay);
    let target = Sshd::start();
    let cfg = SshConfig { proxy: Some(("127.0.0.1".into(), proxy.port)), ..config(&target, key(&target.client_key)) };
    let comm = connect(cfg, &target).await;
    assert_eq!(output(&comm, "echo proxied").await, "proxied");
    comm.close().await;
    // The proxy's SSH server opened the connection to the machine.
    let log = relay.log();
    assert!(log.contains("server_request_direct_tcpip") && log.contains(&format!("target 127.0.0.1 port {}", target.port)), "relay log:\n{log}");

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let nowhere =
        SshConfig { port: closed, timeout: Duration::from_secs(2), proxy: Some(("127.0.0.1".into(), proxy.port)), ..config(&target, key(&target.client_key)) };
    let msg = refused(nowhere).await;
    assert!(msg.contains("ssh_timeout (2.0s) ran out"), "{msg}");
}
