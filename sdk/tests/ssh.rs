//! The SSH communicator against a real OpenSSH server (see `sshd/mod.rs`).

mod sshd;

use bake_sdk::ssh::{self, PrivateKeySource, SshAuth, SshCommunicator, SshConfig, SshError};
use bake_sdk::{CancellationToken, Communicator, Stream};
use sshd::Sshd;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn config(server: &Sshd, auth: SshAuth) -> SshConfig {
    SshConfig { host: "127.0.0.1".into(), port: server.port, username: server.user.clone(), auth, timeout: Duration::from_secs(20), ..SshConfig::default() }
}

fn key_auth(path: &Path) -> SshAuth {
    SshAuth { private_key: Some(PrivateKeySource::File(path.to_path_buf())), password: None, ..SshAuth::default() }
}

async fn connect(server: &Sshd) -> SshCommunicator {
    ssh::connect(config(server, key_auth(&server.client_key)), &CancellationToken::new(), Vec::new)
        .await
        .unwrap_or_else(|e| panic!("connect: {e}\nsshd log:\n{}", server.log()))
}

/// Runs `command`, returning (exit code, stdout lines, stderr lines).
async fn run(comm: &SshCommunicator, command: &str) -> (i32, Vec<String>, Vec<String>) {
    run_env(comm, command, &[]).await
}

async fn run_env(comm: &SshCommunicator, command: &str, env: &[(String, String)]) -> (i32, Vec<String>, Vec<String>) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = comm
        .run_with_env(command, env, &mut |s, l| match s {
            Stream::Stdout => out.push(l.to_string()),
            Stream::Stderr => err.push(l.to_string()),
        })
        .await
        .unwrap_or_else(|e| panic!("run {command:?}: {e:#}"));
    (code, out, err)
}

fn connect_error(r: Result<SshCommunicator, SshError>) -> SshError {
    match r {
        Ok(_) => panic!("connected, but should not have"),
        Err(e) => e,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_commands_with_streamed_output_and_exit_codes() {
    let server = Sshd::start();
    let comm = connect(&server).await;
    assert!(comm.is_connected());

    let (code, out, err) = run(&comm, "echo one; echo two; echo oops >&2; printf 'no newline'; exit 3").await;
    assert_eq!(code, 3);
    assert_eq!(out, ["one", "two", "no newline"]);
    assert_eq!(err, ["oops"]);

    let (code, out, _) = run(&comm, "seq 1 5000").await;
    assert_eq!(code, 0);
    assert_eq!(out.len(), 5000);
    assert_eq!(out.last().map(String::as_str), Some("5000"));

    // Through the trait object, as provisioners use it.
    let dyn_comm: &dyn Communicator = &comm;
    let mut lines = Vec::new();
    let code = dyn_comm.run("id -un", &mut |_, l| lines.push(l.to_string())).await.unwrap();
    assert_eq!((code, lines), (0, vec![server.user.clone()]));

    // Killed by a signal: an error that names it.
    let e = comm.run("kill -TERM $$", &mut |_, _| {}).await.unwrap_err();
    assert!(matches!(e.downcast_ref::<SshError>(), Some(SshError::Signal { .. })), "{e:#}");
    assert!(e.to_string().contains("SIGTERM"), "{e:#}");
    comm.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_environment_variables() {
    let server = Sshd::start();
    let comm = connect(&server).await;
    let tricky = r#"it's "quoted" $HOME `id` \ ; done"#;
    let env = vec![
        // Listed in the server's AcceptEnv: goes as an SSH env request.
        ("BAKE_ACCEPTED_A".to_string(), "by env request".to_string()),
        // Refused by sshd: goes as an `export` prefix.
        ("PLAIN".to_string(), tricky.to_string()),
        ("EMPTY".to_string(), String::new()),
    ];
    let (code, out, _) = run_env(&comm, r#"printf '%s\n' "$BAKE_ACCEPTED_A" "$PLAIN" "[$EMPTY]""#, &env).await;
    assert_eq!(code, 0);
    assert_eq!(out, ["by env request", tricky, "[]"]);

    let e = comm.run_with_env("true", &[("NOT-A-NAME".into(), "x".into())], &mut |_, _| {}).await.unwrap_err();
    assert!(e.to_string().contains("not a valid environment variable name"), "{e:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_and_downloads_files_and_directories_with_modes() {
    use std::os::unix::fs::PermissionsExt;
    let server = Sshd::start();
    let comm = connect(&server).await;
    let remote = server.home.join("remote");
    let remote = remote.to_str().unwrap();

    // upload: bytes with a mode, into an existing directory.
    run(&comm, &format!("mkdir -p {remote}")).await;
    comm.upload(b"#!/bin/sh\necho uploaded\n", &format!("{remote}/script.sh"), 0o750).await.unwrap();
    let (_, out, _) = run(&comm, &format!("stat -c %a {remote}/script.sh; {remote}/script.sh")).await;
    assert_eq!(out, ["750", "uploaded"]);

    // A local tree with modes, uploaded into a directory that does not exist yet.
    let local = server.dir.join("local");
    std::fs::create_dir_all(local.join("sub/deeper")).unwrap();
    std::fs::create_dir_all(local.join("private")).unwrap();
    std::fs::write(local.join("top.txt"), "top\n").unwrap();
    std::fs::write(local.join("run.sh"), "#!/bin/sh\n").unwrap();
    std::fs::set_permissions(local.join("run.sh"), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(local.join("sub/secret"), "s3cret").unwrap();
    std::fs::set_permissions(local.join("sub/secret"), std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::write(local.join("sub/deeper/empty"), "").unwrap();
    std::fs::set_permissions(local.join("private"), std::fs::Permissions::from_mode(0o700)).unwrap();
    std::os::unix::fs::symlink("top.txt", local.join("link.txt")).unwrap();

    let dst = format!("{remote}/a/b/tree");
    comm.upload_dir(&local, &dst).await.unwrap();
    let (_, out, _) = run(&comm, &format!("cd {dst} && find . -printf '%p %y %m\\n' | sort")).await;
    assert_eq!(
        out,
        [
            ". d 755",
            "./link.txt f 644",
            "./private d 700",
            "./run.sh f 755",
            "./sub d 755",
            "./sub/deeper d 755",
            "./sub/deeper/empty f 644",
            "./sub/secret f 600",
            "./top.txt f 644",
        ]
    );
    let (_, out, _) = run(&comm, &format!("cat {dst}/sub/secret {dst}/link.txt")).await;
    assert_eq!(out, ["s3crettop"]);

    // Uploading again over the existing tree works (idempotent provisioners).
    comm.upload_dir(&local, &dst).await.unwrap();

    // And back.
    let back = server.dir.join("back");
    comm.download_dir(&dst, &back).await.unwrap();
    for (rel, mode) in [("top.txt", 0o644), ("run.sh", 0o755), ("sub/secret", 0o600), ("sub/deeper/empty", 0o644), ("private", 0o700)] {
        let got = std::fs::metadata(back.join(rel)).unwrap().permissions().mode() & 0o7777;
        assert_eq!(got, mode, "{rel}: {got:o}");
    }
    assert_eq!(std::fs::read_to_string(back.join("sub/secret")).unwrap(), "s3cret");
    assert_eq!(std::fs::read_to_string(back.join("link.txt")).unwrap(), "top\n");

    comm.download_file(&format!("{remote}/script.sh"), &server.dir.join("new/dir/script.sh")).await.unwrap();
    let script = server.dir.join("new/dir/script.sh");
    assert_eq!(std::fs::read_to_string(&script).unwrap(), "#!/bin/sh\necho uploaded\n");
    assert_eq!(std::fs::metadata(&script).unwrap().permissions().mode() & 0o777, 0o750);

    // Errors name the path.
    let e = comm.download_file("/nonexistent/bake/file", &server.dir.join("x")).await.unwrap_err();
    assert!(e.to_string().contains("/nonexistent/bake/file"), "{e:#}");
    assert!(!server.dir.join("x").exists());
    let e = comm.upload_file(Path::new("/nonexistent/local"), &format!("{remote}/x")).await.unwrap_err();
    assert!(e.to_string().contains("/nonexistent/local"), "{e:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_file_arrives_intact() {
    use sha2::{Digest, Sha256};
    let server = Sshd::start();
    let comm = connect(&server).await;
    // 20 MiB of xorshift noise: incompressible, reproducible.
    let mut data = vec![0u8; 20 << 20];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for chunk in data.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
    }
    let local = server.dir.join("big.bin");
    std::fs::write(&local, &data).unwrap();
    let want = format!("{:x}", Sha256::digest(&data));

    let remote = format!("{}/big-remote.bin", server.home.display());
    let t = Instant::now();
    comm.upload_file(&local, &remote).await.unwrap();
    let up = t.elapsed();
    let (_, out, _) = run(&comm, &format!("sha256sum {remote}")).await;
    assert_eq!(out[0].split_whitespace().next(), Some(want.as_str()));

    let back = server.dir.join("big-back.bin");
    let t = Instant::now();
    comm.download_file(&remote, &back).await.unwrap();
    let down = t.elapsed();
    assert!(std::fs::read(&back).unwrap() == data, "downloaded bytes differ");
    eprintln!("20 MiB over SFTP: upload {up:?}, download {down:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_key_says_authentication_was_refused_and_what_the_server_accepts() {
    let server = Sshd::start();
    let stranger = server.keygen("stranger", "ed25519", "");
    let mut cfg = config(&server, key_auth(&stranger));
    cfg.handshake_attempts = 2;
    let t = Instant::now();
    let e = connect_error(ssh::connect(cfg, &CancellationToken::new(), || vec!["hint: check cloud-init".into()]).await);
    let msg = e.to_string();
    eprintln!("{msg}");
    assert!(t.elapsed() < Duration::from_secs(15), "handshake_attempts should stop it early: {:?}", t.elapsed());
    let SshError::ConnectFailed(f) = &e else { panic!("{e:?}") };
    assert_eq!(f.tally.auth_refusals, 2);
    assert!(msg.contains("authentication was refused"), "{msg}");
    assert!(msg.contains("tried: publickey; server accepts: publickey, password"), "{msg}");
    assert!(msg.contains("ssh_handshake_attempts (2) used up"), "{msg}");
    assert!(msg.contains("reached the server (SSH-2.0-OpenSSH"), "{msg}");
    assert!(msg.contains("\n  hint: check cloud-init"), "{msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_against_a_key_only_server_names_the_method_it_wants() {
    let server = Sshd::with(sshd::Options { password_auth: false, ..Default::default() });
    let mut cfg = config(&server, SshAuth { password: Some("whatever".into()), private_key: None, ..SshAuth::default() });
    cfg.handshake_attempts = 1;
    let msg = connect_error(ssh::connect(cfg, &CancellationToken::new(), Vec::new).await).to_string();
    eprintln!("{msg}");
    assert!(msg.contains("tried: password; server accepts: publickey"), "{msg}");
    assert!(msg.contains("configure ssh_private_key_file"), "{msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_authentication() {
    let server = Sshd::start();
    let Some(password) = server.password.clone() else {
        eprintln!("SKIPPED password_authentication: {}", sshd::test_user(sshd::TEST_USER).unwrap_err());
        return;
    };
    let user = server.user.clone();
    let mut cfg = config(&server, SshAuth { password: Some(password.clone()), private_key: None, ..SshAuth::default() });
    cfg.username = user.clone();
    let comm = ssh::connect(cfg.clone(), &CancellationToken::new(), Vec::new).await.unwrap_or_else(|e| panic!("{e}\n{}", server.log()));
    let (_, out, _) = run(&comm, "id -un").await;
    assert_eq!(out, [user]);

    cfg.auth.password = Some("wrong".into());
    cfg.handshake_attempts = 1;
    let msg = connect_error(ssh::connect(cfg, &CancellationToken::new(), Vec::new).await).to_string();
    assert!(msg.contains("authentication was refused (tried: password; server accepts: publickey, password)"), "{msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_listening_says_connection_refused_and_shows_the_hint() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let cfg = SshConfig {
        host: "127.0.0.1".into(),
        port,
        username: "root".into(),
        auth: SshAuth { password: Some("x".into()), private_key: None, ..SshAuth::default() },
        timeout: Duration::from_millis(1500),
        ..SshConfig::default()
    };
    let t = Instant::now();
    let e = connect_error(ssh::connect(cfg, &CancellationToken::new(), || vec!["serial console (last 2 lines):".into(), "  Probing EDD".into()]).await);
    let elapsed = t.elapsed();
    let msg = e.to_string();
    eprintln!("{msg}");
    assert!(elapsed >= Duration::from_millis(1000) && elapsed < Duration::from_secs(5), "{elapsed:?}");
    assert!(msg.starts_with(&format!("could not connect over SSH to root@127.0.0.1:{port}: the TCP port never answered: connection refused")), "{msg}");
    assert!(msg.contains("ssh_timeout (1.5s) ran out"), "{msg}");
    assert!(msg.contains("attempts in"), "{msg}");
    assert!(msg.contains("SSH handshake: never started"), "{msg}");
    assert!(msg.ends_with("\n  serial console (last 2 lines):\n    Probing EDD"), "{msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_port_that_answers_but_is_not_ssh_is_told_apart() {
    // A listener that accepts and closes at once, as QEMU's user networking
    // does while nothing listens inside the guest.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in listener.incoming() {
            drop(s);
        }
    });
    let cfg = SshConfig {
        host: "127.0.0.1".into(),
        port,
        username: "root".into(),
        auth: SshAuth { password: Some("x".into()), private_key: None, ..SshAuth::default() },
        timeout: Duration::from_secs(1),
        ..SshConfig::default()
    };
    let msg = connect_error(ssh::connect(cfg, &CancellationToken::new(), Vec::new).await).to_string();
    eprintln!("{msg}");
    assert!(msg.contains("the TCP port answered but no SSH server greeted"), "{msg}");
    assert!(msg.contains("the server never sent its SSH banner"), "{msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnects_after_the_server_restarts() {
    let mut server = Sshd::start();
    let comm = connect(&server).await;
    assert_eq!(run(&comm, "echo before").await.1, ["before"]);

    server.stop();
    let t = Instant::now();
    while comm.is_connected() && t.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!comm.is_connected(), "the drop should be noticed");
    server.restart();
    comm.reconnect(Duration::from_secs(10), &CancellationToken::new()).await.unwrap();
    assert!(comm.is_connected());
    assert_eq!(run(&comm, "echo after").await.1, ["after"]);

    // Without an explicit reconnect, the next command reconnects by itself.
    server.restart();
    assert_eq!(run(&comm, "echo again").await.1, ["again"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_dying_mid_command_is_a_disconnect() {
    let mut server = Sshd::start();
    let comm = Arc::new(connect(&server).await);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let task = {
        let comm = comm.clone();
        tokio::spawn(async move {
            comm.run("echo started; sleep 30; echo finished", &mut |_, l| {
                let _ = tx.send(l.to_string());
            })
            .await
        })
    };
    assert_eq!(tokio::time::timeout(Duration::from_secs(10), rx.recv()).await.unwrap().as_deref(), Some("started"));
    let t = Instant::now();
    server.stop();
    let result = tokio::time::timeout(Duration::from_secs(10), task).await.expect("run should end soon after the drop").unwrap();
    let e = result.unwrap_err();
    eprintln!("{e:#} (after {:?})", t.elapsed());
    assert!(matches!(e.downcast_ref::<SshError>(), Some(SshError::Disconnected { .. })), "{e:#}");
    assert!(e.to_string().contains("connection to 127.0.0.1"), "{e:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_stops_a_connect_loop_promptly() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let cfg = SshConfig {
        host: "127.0.0.1".into(),
        port,
        username: "root".into(),
        auth: SshAuth { password: Some("x".into()), private_key: None, ..SshAuth::default() },
        timeout: Duration::from_secs(60),
        ..SshConfig::default()
    };
    let cancel = CancellationToken::new();
    let c = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        c.cancel();
    });
    let t = Instant::now();
    let e = connect_error(ssh::connect(cfg, &cancel, Vec::new).await);
    assert!(matches!(e, SshError::Cancelled(_)), "{e}");
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_stops_a_running_command() {
    let server = Sshd::start();
    let cancel = CancellationToken::new();
    let comm = ssh::connect(config(&server, key_auth(&server.client_key)), &cancel, Vec::new).await.unwrap();
    let c = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        c.cancel();
    });
    let t = Instant::now();
    let e = comm.run("sleep 30", &mut |_, _| {}).await.unwrap_err();
    assert!(matches!(e.downcast_ref::<SshError>(), Some(SshError::Cancelled(_))), "{e:#}");
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_ed25519_key_is_accepted_by_sshd() {
    let server = Sshd::start();
    let (private, public) = ssh::generate_ed25519().unwrap();
    server.authorize(&public);

    // OpenSSH reads the private key and derives the same public key.
    let path = server.dir.join("generated");
    std::fs::write(&path, &private).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let out = std::process::Command::new("ssh-keygen").arg("-y").arg("-f").arg(&path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).split_whitespace().nth(1), public.split_whitespace().nth(1));

    let auth = SshAuth { private_key: Some(PrivateKeySource::Text(private)), password: None, ..SshAuth::default() };
    let comm = ssh::connect(config(&server, auth), &CancellationToken::new(), Vec::new).await.unwrap();
    assert_eq!(run(&comm, "echo in").await.1, ["in"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rsa_keys_work() {
    let server = Sshd::start();
    let rsa = server.keygen("client_rsa", "rsa", "");
    server.authorize(&std::fs::read_to_string(rsa.with_extension("pub")).unwrap());
    let comm = ssh::connect(config(&server, key_auth(&rsa)), &CancellationToken::new(), Vec::new).await.unwrap_or_else(|e| panic!("{e}\n{}", server.log()));
    assert_eq!(run(&comm, "echo rsa").await.1, ["rsa"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unusable_private_keys_are_explained() {
    let server = Sshd::start();
    let check = |auth: SshAuth, want: &'static str| {
        let cfg = config(&server, auth);
        async move {
            let msg = connect_error(ssh::connect(cfg, &CancellationToken::new(), Vec::new).await).to_string();
            assert!(msg.contains(want), "{msg}");
            msg
        }
    };
    let missing = server.dir.join("no-such-key");
    let msg = check(key_auth(&missing), "does not exist").await;
    assert!(msg.contains("no-such-key"), "{msg}");
    let encrypted = server.keygen("encrypted", "ed25519", "passphrase");
    check(key_auth(&encrypted), "encrypted with a passphrase").await;
    check(key_auth(&server.client_key.with_extension("pub")), "this is a public key").await;
    check(key_auth(&server.dir.join("sshd_config")), "not a private key").await;
    check(SshAuth::default(), "no SSH credentials").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_commands_and_transfers_share_one_connection() {
    let server = Sshd::start();
    let comm = Arc::new(connect(&server).await);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..12 {
        let comm = comm.clone();
        let dir = server.home.clone();
        tasks.spawn(async move {
            let path = format!("{}/concurrent-{i}", dir.display());
            comm.upload(format!("file {i}\n").as_bytes(), &path, 0o644).await.unwrap();
            let mut lines = Vec::new();
            let code = comm.run(&format!("sleep 0.2; cat {path}"), &mut |_, l| lines.push(l.to_string())).await.unwrap();
            (i, code, lines)
        });
    }
    let t = Instant::now();
    while let Some(r) = tasks.join_next().await {
        let (i, code, lines) = r.unwrap();
        assert_eq!((code, lines), (0, vec![format!("file {i}")]));
    }
    // Twelve 0.2 s sleeps ran side by side (eight channels at a time), not
    // one after another (2.4 s), even on a busy machine.
    assert!(t.elapsed() < Duration::from_millis(2400), "{:?}", t.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_communicator_says_so() {
    let server = Sshd::start();
    let comm = connect(&server).await;
    comm.close().await;
    assert!(!comm.is_connected());
    let e = comm.run("true", &mut |_, _| {}).await.unwrap_err();
    assert!(matches!(e.downcast_ref::<SshError>(), Some(SshError::Closed(_))), "{e:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_host_name_says_it_did_not_resolve() {
    let cfg = SshConfig {
        host: "no-such-host.invalid".into(),
        port: 22,
        username: "root".into(),
        auth: SshAuth { password: Some("x".into()), private_key: None, ..SshAuth::default() },
        // Room for a slow resolver to answer at least once.
        timeout: Duration::from_secs(2),
        ..SshConfig::default()
    };
    let msg = connect_error(ssh::connect(cfg, &CancellationToken::new(), Vec::new).await).to_string();
    assert!(msg.contains("the host name did not resolve"), "{msg}");
}
