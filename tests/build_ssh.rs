//! The null builder with `communicator = "ssh"`, against a real OpenSSH
//! server started by the test.

#[path = "../sdk/tests/sshd/mod.rs"]
mod sshd;
mod util;

use sshd::Sshd;
use util::TestDir;

fn template(server: &Sshd, key: &std::path::Path, extra: &str, provisioner: &str) -> String {
    format!(
        r#"
source "null" "remote" {{
  communicator         = "ssh"
  ssh_host             = "127.0.0.1"
  ssh_port             = {port}
  ssh_username         = "{user}"
  ssh_private_key_file = "{key}"
  {extra}
}}

build {{
  sources = ["source.null.remote"]
  {provisioner}
}}
"#,
        port = server.port,
        user = server.user,
        key = key.display(),
    )
}

#[test]
fn provisions_over_ssh_with_the_generated_connection_data() {
    let server = Sshd::start();
    let dir = TestDir::new("null-ssh");
    // shell-local sees where the builder connected, and can use the same
    // credentials itself: it logs in with OpenSSH's client.
    let provisioner = r#"
  provisioner "shell-local" {
    inline = [
      "echo connected to ${build.Host}:${build.Port} as ${build.User} id=${build.ID}",
      "echo \"the key is ${build.SSHPrivateKey}\"",
      "printf '%s\n' \"${build.SSHPrivateKey}\" > key && chmod 600 key",
      "ssh -q -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -i key -p ${build.Port} ${build.User}@${build.Host} 'echo remote says $(id -un)'",
    ]
  }
"#;
    dir.write("t.pkr.hcl", &template(&server, &server.client_key, r#"ssh_timeout = "20s""#, provisioner));
    let run = dir.bake(&["build", "-color=false", "t.pkr.hcl"]);
    run.success()
        .contains("Waiting for SSH to become available")
        .contains("Connected to SSH!")
        .contains(&format!("connected to 127.0.0.1:{} as {} id=Null", server.port, server.user))
        .contains(&format!("remote says {}", server.user));
    // The generated credentials are as secret as sensitive variables.
    let key = std::fs::read_to_string(&server.client_key).unwrap();
    let body = key.lines().nth(1).unwrap();
    run.lacks(body).contains("the key is <sensitive>");
    // The builder's own login, and then the provisioner's.
    let log = server.log();
    assert!(log.matches(&format!("Accepted publickey for {}", server.user)).count() >= 2, "sshd log:\n{log}");
}

#[test]
fn wrong_credentials_fail_the_build_with_the_cause() {
    let server = Sshd::start();
    let stranger = server.keygen("stranger", "ed25519", "");
    let dir = TestDir::new("null-ssh-wrong");
    dir.write(
        "t.pkr.hcl",
        &template(
            &server,
            &stranger,
            r#"ssh_timeout = "20s"
  ssh_handshake_attempts = 2"#,
            r#"provisioner "shell-local" { inline = ["echo should not run"] }"#,
        ),
    );
    let run = dir.bake(&["build", "-color=false", "t.pkr.hcl"]);
    run.failure()
        .contains(&format!("could not connect over SSH to {}@127.0.0.1:{}", server.user, server.port))
        .contains("authentication was refused (tried: publickey; server accepts: publickey, password)")
        .contains("ssh_handshake_attempts (2) used up")
        .lacks("should not run");
}

#[test]
fn missing_ssh_settings_are_reported_at_validate_time() {
    let dir = TestDir::new("null-ssh-validate");
    dir.write(
        "t.pkr.hcl",
        r#"
source "null" "remote" {
  communicator = "ssh"
  ssh_timeout  = "soon"
}
build { sources = ["source.null.remote"] }
"#,
    );
    let run = dir.bake(&["validate", "t.pkr.hcl"]);
    assert_ne!(run.code, 0, "{}", run.all());
    run.contains("\"ssh_host\" is required")
        .contains("\"ssh_username\" is required")
        .contains("ssh_password or ssh_private_key_file")
        .contains("ssh_timeout: \"soon\" is not a duration")
        .lacks("not available yet");
}

#[test]
fn shell_and_file_provisioners_run_over_ssh_and_survive_an_expected_disconnect() {
    let server = Sshd::start();
    let dir = TestDir::new("null-ssh-shell");
    dir.write("files/conf/app.conf", "listen 8080\n");
    dir.write("files/conf/nested/x.txt", "nested\n");
    let remote = server.home.display().to_string();
    let provisioners = format!(
        r#"
  provisioner "file" {{
    source      = "files/conf/"
    destination = "{remote}/etc"
  }}
  provisioner "file" {{
    content     = "from content"
    destination = "{remote}/content.txt"
  }}
  provisioner "shell" {{
    environment_vars = ["GREETING=it's me", "EMPTY="]
    inline = [
      "echo \"$GREETING as $(id -un), empty=[$EMPTY]\"",
      "cat {remote}/etc/app.conf {remote}/etc/nested/x.txt {remote}/content.txt; echo",
    ]
  }}
  # Drops its own SSH connection as a reboot would: kills the sshd
  # process that serves it (the parent of the shell that runs the script).
  # The pause lets sshd pass "going down" on before it dies.
  provisioner "shell" {{
    expect_disconnect = true
    inline = ["read -r _ _ _ sshd_pid _ < /proc/$PPID/stat; echo going down; sleep 0.5; kill -9 $sshd_pid; sleep 5; echo not reached"]
  }}
  provisioner "shell" {{
    inline = ["echo back again"]
  }}
  provisioner "file" {{
    direction   = "download"
    source      = "{remote}/content.txt"
    destination = "downloaded.txt"
  }}
"#
    );
    dir.write("t.pkr.hcl", &template(&server, &server.client_key, r#"ssh_timeout = "20s""#, &provisioners));
    let run = dir.bake(&["build", "-color=false", "t.pkr.hcl"]);
    run.success()
        .contains(&format!("it's me as {}, empty=[]", server.user))
        .contains("listen 8080")
        .contains("nested")
        .contains("from content")
        .contains("going down")
        .contains("disconnected, as expected")
        .lacks("not reached")
        .contains("back again");
    assert_eq!(dir.read("downloaded.txt"), "from content");
}

#[test]
fn a_build_reaches_its_host_through_a_bastion_with_the_packer_options() {
    let bastion = Sshd::with(sshd::Options { extra: "LogLevel DEBUG1".into(), ..sshd::Options::default() });
    let server = Sshd::start();
    // One key for both, as the bastion uses ssh_private_key_file too.
    bastion.authorize(&std::fs::read_to_string(server.client_key.with_extension("pub")).unwrap());
    let dir = TestDir::new("null-ssh-bastion");
    // Packer templates carry winrm_* options even when they use SSH.
    let extra = format!(
        r#"ssh_timeout             = "20s"
  ssh_bastion_host        = "127.0.0.1"
  ssh_bastion_port        = {port}
  ssh_bastion_username    = "{user}"
  ssh_keep_alive_interval = "1s"
  ssh_read_write_timeout  = "30s"
  ssh_pty                 = true
  winrm_username          = "Administrator"
  winrm_use_ssl           = true"#,
        port = bastion.port,
        user = bastion.user,
    );
    let provisioner = r#"provisioner "shell" { inline = ["echo terminal=$(tty)"] }"#;
    dir.write("t.pkr.hcl", &template(&server, &server.client_key, &extra, provisioner));
    dir.bake(&["validate", "t.pkr.hcl"]).success();
    dir.bake(&["build", "-color=false", "t.pkr.hcl"]).success().contains("terminal=/dev/pts/");
    // The bastion (which falls back to ssh_private_key_file, as in Packer)
    // opened the connection to the host.
    let log = bastion.log();
    assert!(log.contains(&format!("server_request_direct_tcpip: originator 127.0.0.1 port 0, target 127.0.0.1 port {}", server.port)), "bastion log:\n{log}");
}
