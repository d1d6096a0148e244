//! The qemu builder end to end, under whatever accelerator the machine has
//! (TCG here): real VMs booted from the `debootstrap` base image, provisioned
//! over SSH, and the output booted again to check the change is in it.
//!
//! Each test boots at least one VM, which takes a minute or more under TCG,
//! so the templates are small and the timeouts generous.

mod util;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use util::{signal, TestDir};

/// The source block every test starts from: the cached Debian base image,
/// UEFI, a generated key, outputs under `output/NAME`.
fn template(name: &str, source_extra: &str, provisioners: &str) -> String {
    format!(
        r#"
data "debootstrap" "base" {{
  suite = "bookworm"
}}

source "qemu" "{name}" {{
  disk_image        = true
  iso_url           = data.debootstrap.base.path
  iso_checksum      = "none"
  efi_boot          = true
  efi_firmware_code = data.debootstrap.base.efi_firmware_code
  efi_firmware_vars = data.debootstrap.base.efi_firmware_vars
  memory            = 1024
  cpus              = 1
  headless          = true
  ssh_username      = "debian"
  ssh_timeout       = "15m"
  output_directory  = "output/{name}"
  vm_name           = "{name}.qcow2"
{source_extra}
}}

build {{
  sources = ["source.qemu.{name}"]
{provisioners}
}}
"#
    )
}

/// A test directory whose temp files (bake's runtime directories, scripts)
/// go to its own `tmp`, so a test can check that nothing was left there.
fn test_dir(name: &str) -> TestDir {
    let dir = TestDir::new(name);
    std::fs::create_dir_all(dir.path.join("tmp")).unwrap();
    dir
}

fn env(dir: &TestDir) -> Vec<(String, String)> {
    vec![("TMPDIR".into(), dir.path.join("tmp").display().to_string())]
}

fn bake(dir: &TestDir, args: &[&str]) -> util::Run {
    let env = env(dir);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    dir.bake_env(args, &env)
}

fn spawn_bake(dir: &TestDir, args: &[&str]) -> Child {
    let env = env(dir);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    dir.command(args, &env).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start bake")
}

/// Processes whose command line mentions `needle` (a test directory), other
/// than zombies.
fn processes_mentioning(needle: &Path) -> Vec<String> {
    let needle = needle.display().to_string();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        if pid == std::process::id() {
            continue;
        }
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else { continue };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        let zombie = std::fs::read_to_string(entry.path().join("stat")).is_ok_and(|s| s.rsplit(')').next().is_some_and(|r| r.trim_start().starts_with('Z')));
        if cmdline.contains(&needle) && !zombie {
            found.push(format!("{pid}: {cmdline}"));
        }
    }
    found
}

/// Asserts a failed or interrupted build left nothing: no process, no temp
/// file, no output (final or partial), no open journal entry.
#[track_caller]
fn assert_nothing_left(dir: &TestDir, name: &str) {
    let procs = processes_mentioning(&dir.path);
    assert!(procs.is_empty(), "processes left behind: {procs:#?}");
    let tmp: Vec<_> = std::fs::read_dir(dir.path.join("tmp")).unwrap().flatten().map(|e| e.path()).collect();
    assert!(tmp.is_empty(), "temp files left behind: {tmp:?}");
    let outputs: Vec<_> = std::fs::read_dir(dir.path.join("output")).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    assert!(outputs.is_empty(), "outputs left behind for {name}: {outputs:?}");
    let open = bake(dir, &["cleanup", "--dry-run"]);
    assert!(!open.all().contains("qemu"), "the journal still holds resources: {}", open.all());
}

/// Reads a child's progress (stdout) on a thread, collecting it with its
/// stderr and signalling when a line contains `marker`.
fn watch(child: &mut Child, marker: &'static str) -> (std::sync::mpsc::Receiver<()>, std::thread::JoinHandle<String>) {
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let err_thread = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    let handle = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains(marker) {
                let _ = tx.send(());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all + &err_thread.join().unwrap_or_default()
    });
    (rx, handle)
}

#[test]
fn provisioned_image_boots_with_the_file_the_package_and_the_service() {
    let dir = test_dir("qemu-web");
    dir.write("files/motd", "baked by bake\n");
    dir.write("files/site/index.html", "<h1>hello from bake</h1>\n");
    let provisioners = r#"
  provisioner "file" {
    source      = "files/motd"
    destination = "/tmp/motd"
  }
  provisioner "file" {
    source      = "files/site"
    destination = "/tmp"
  }
  provisioner "shell" {
    environment_vars = ["DEBIAN_FRONTEND=noninteractive", "GREETING=it's baked"]
    inline = [
      "sudo install -m 0644 /tmp/motd /etc/motd",
      "echo \"$GREETING\" | sudo tee /etc/bake-greeting",
      "sudo -E apt-get update -q",
      "sudo -E apt-get install -y -q --no-install-recommends nginx",
      "sudo install -m 0644 /tmp/site/index.html /var/www/html/index.html",
      "sudo systemctl enable nginx",
      "cat /proc/sys/kernel/random/boot_id > /var/tmp/boot-id-before",
    ]
  }
  provisioner "shell" {
    inline            = ["sudo systemctl reboot"]
    expect_disconnect = true
  }
  provisioner "shell" {
    inline = [
      "systemctl is-active nginx",
      "test \"$(cat /proc/sys/kernel/random/boot_id)\" != \"$(cat /var/tmp/boot-id-before)\" && echo rebooted-and-back",
      "sudo rm /var/tmp/boot-id-before",
      "sudo cloud-init clean --logs",
    ]
  }
  post-processor "manifest" {
    output = "manifest.json"
  }
"#;
    dir.write("web.pkr.hcl", &template("web", "", provisioners));
    let run = bake(&dir, &["build", "web.pkr.hcl"]);
    run.success().contains("rebooted-and-back").contains("active");
    // Under TCG the reboot is a fresh qemu process (see crates/qemu-machine/src/vm.rs).
    if run.all().contains("Accelerator: tcg") {
        run.contains("The guest rebooted; starting qemu again");
    }

    let image = dir.path.join("output/web/web.qcow2");
    let info = Command::new("qemu-img").args(["info", "--output=json"]).arg(&image).output().unwrap();
    let info: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    assert_eq!(info["format"], "qcow2");
    assert!(info["virtual-size"].as_u64().unwrap() >= 3 << 30);
    assert!(Command::new("qemu-img").arg("check").arg(&image).status().unwrap().success());

    // The manifest names the image with its size and checksum.
    let manifest: serde_json::Value = serde_json::from_str(&dir.read("manifest.json")).unwrap();
    let files = manifest["builds"][0]["files"].as_array().unwrap();
    assert!(files.iter().any(|f| f["name"].as_str().unwrap().ends_with("web.qcow2")), "{manifest}");

    // Boot the output in a fresh VM, with a seed of our own, and look.
    let vm = Vm::boot(&dir, &image);
    assert_eq!(vm.ssh("cat /etc/motd"), "baked by bake\n");
    assert_eq!(vm.ssh("cat /etc/bake-greeting"), "it's baked\n");
    assert!(vm.ssh("dpkg-query -W -f '${Status}' nginx").contains("install ok installed"));
    assert_eq!(vm.ssh("systemctl is-enabled nginx").trim(), "enabled");
    assert_eq!(vm.ssh("systemctl is-active nginx").trim(), "active");
    assert_eq!(vm.ssh("cat /var/www/html/index.html"), "<h1>hello from bake</h1>\n");
    drop(vm);

    imports_as_an_ami(&dir, &image);
}

/// The provisioned image, imported to an AMI by amazon-import (against
/// moto): the snapshot read back is the disk, block for block, no zero
/// block was sent, the AMI boots with UEFI as the disk needs, and the SSM
/// parameter names it.
fn imports_as_an_ami(dir: &TestDir, image: &Path) {
    let moto = util::moto::Moto::start();
    let template = format!(
        r#"
source "file" "web" {{
  source = "{image}"
  target = "imported/web.qcow2"
}}

build {{
  sources = ["source.file.web"]
  post-processors {{
    post-processor "amazon-import" {{
      region        = "us-east-1"
      ami_name      = "web-imported"
      ssm_parameter = "/images/web/latest"
    }}
    post-processor "manifest" {{
      output = "import-manifest.json"
    }}
  }}
}}
"#,
        image = image.display()
    );
    dir.write("import.pkr.hcl", &template);
    let mut env = env(dir);
    env.extend(moto.env().into_iter().map(|(k, v)| (k.to_string(), v)));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    dir.bake_env(&["build", "-color=false", "import.pkr.hcl"], &env)
        .success()
        .contains("a qcow2 disk")
        .contains("boot mode uefi")
        .contains("zero blocks skipped");
    let manifest: serde_json::Value = serde_json::from_str(&dir.read("import-manifest.json")).unwrap();
    let ami = manifest["builds"][0]["bake"]["region_images"]["us-east-1"].as_str().expect("the AMI").to_string();
    let raw = dir.path.join("tmp/web.raw");
    assert!(Command::new("qemu-img").args(["convert", "-q", "-O", "raw"]).arg(image).arg(&raw).status().unwrap().success());
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        let sdk = moto.sdk("us-east-1").await;
        let ec2 = aws_sdk_ec2::Client::new(&sdk);
        let registered = ec2.describe_images().image_ids(&ami).send().await.unwrap().images()[0].clone();
        assert_eq!(registered.boot_mode().map(|m| m.as_str()), Some("uefi"), "the debootstrap disk boots with UEFI");
        let snapshot = registered.block_device_mappings()[0].ebs().and_then(|e| e.snapshot_id()).unwrap().to_string();
        let blocks = util::moto::snapshot_blocks(&sdk, &snapshot).await;
        let sent = util::moto::assert_snapshot_is_the_disk(&blocks, &raw);
        let size = std::fs::metadata(&raw).unwrap().len();
        assert!((sent as u64) < size / 524_288 / 2, "only the blocks with data were sent: {sent} of {}", size / 524_288);
        let ssm = aws_sdk_ssm::Client::new(&sdk);
        assert_eq!(ssm.get_parameter().name("/images/web/latest").send().await.unwrap().parameter().and_then(|p| p.value()), Some(ami.as_str()));
    });
    let _ = std::fs::remove_file(&raw);
}

#[test]
fn failing_provisioner_fails_the_build_and_leaves_nothing() {
    let dir = test_dir("qemu-fail");
    let provisioners = r#"
  provisioner "shell" {
    inline = ["echo about to fail", "ls /no/such/path"]
  }
"#;
    dir.write("t.pkr.hcl", &template("fail", "", provisioners));
    let run = bake(&dir, &["build", "t.pkr.hcl"]);
    run.failure().contains("about to fail").contains("/no/such/path").contains("exit status: 2");
    assert_nothing_left(&dir, "fail");
}

#[test]
fn wrong_ssh_credentials_name_the_cause() {
    let dir = test_dir("qemu-auth");
    // The guest authorizes one key (through our own cidata seed); bake
    // offers another.
    for key in ["authorized", "offered"] {
        let status = Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", "", "-f"]).arg(dir.path.join(key)).status().unwrap();
        assert!(status.success());
    }
    let public = std::fs::read_to_string(dir.path.join("authorized.pub")).unwrap();
    let source_extra = format!(
        r#"
  ssh_private_key_file   = "offered"
  ssh_handshake_attempts = 3
  cd_label               = "cidata"
  cd_content = {{
    "meta-data" = "instance-id: auth-test\n"
    "user-data" = <<-EOT
      #cloud-config
      users:
        - name: debian
          ssh_authorized_keys: ["{}"]
      EOT
  }}
"#,
        public.trim()
    );
    dir.write("t.pkr.hcl", &template("auth", &source_extra, "  provisioner \"shell\" { inline = [\"true\"] }\n"));
    let run = bake(&dir, &["build", "t.pkr.hcl"]);
    run.failure();
    let out = run.all().to_lowercase();
    assert!(out.contains("authentication") && out.contains("publickey"), "the error does not name the cause:\n{}", run.all());
    assert_nothing_left(&dir, "auth");
}

#[test]
fn ctrl_c_during_a_build_leaves_nothing_and_parallel_vms_get_their_own_ports() {
    let dir = test_dir("qemu-sigint");
    let mut text = template("one", "", "  provisioner \"shell\" { inline = [\"sleep 600\"] }\n");
    // A second source in the same build: both VMs run at once.
    text = text.replace(r#"sources = ["source.qemu.one"]"#, r#"sources = ["source.qemu.one", "source.qemu.two"]"#);
    let second = template("two", "", "").split("build {").next().unwrap().split("source \"qemu\"").nth(1).unwrap().to_string();
    text.push_str(&format!("source \"qemu\"{second}"));
    dir.write("t.pkr.hcl", &text);
    let mut child = spawn_bake(&dir, &["build", "t.pkr.hcl"]);
    let (started, output) = watch(&mut child, "Waiting for SSH");
    for _ in 0..2 {
        started.recv_timeout(Duration::from_secs(600)).expect("both VMs start");
    }
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(processes_mentioning(&dir.path).iter().filter(|p| p.contains("qemu-system")).count(), 2);
    signal(child.id(), 2);
    let status = child.wait().unwrap();
    let output = output.join().unwrap();
    assert_eq!(status.code(), Some(1), "{output}");
    let ports: Vec<&str> = output.lines().filter_map(|l| l.split("hostfwd=tcp:127.0.0.1:").nth(1)).map(|r| r.split('-').next().unwrap()).collect();
    assert_eq!(ports.len(), 2, "{output}");
    assert_ne!(ports[0], ports[1], "two VMs were given the same SSH port");
    assert_nothing_left(&dir, "one");
}

#[test]
fn kill_9_then_cleanup_leaves_nothing() {
    let dir = test_dir("qemu-kill9");
    dir.write("t.pkr.hcl", &template("k", "", "  provisioner \"shell\" { inline = [\"sleep 600\"] }\n"));
    let mut child = spawn_bake(&dir, &["build", "t.pkr.hcl"]);
    let (started, output) = watch(&mut child, "Waiting for SSH");
    started.recv_timeout(Duration::from_secs(600)).expect("the VM starts");
    std::thread::sleep(Duration::from_secs(2));
    signal(child.id(), 9);
    child.wait().unwrap();
    drop(output);
    // bake is gone; its VM is not.
    assert!(processes_mentioning(&dir.path).iter().any(|p| p.contains("qemu-system")), "qemu should outlive a killed bake");
    let run = bake(&dir, &["cleanup"]);
    run.success();
    std::thread::sleep(Duration::from_millis(500));
    assert_nothing_left(&dir, "k");
}

/// A VM booted by hand (not by bake) from an image, with its own NoCloud
/// seed and key, reached with the OpenSSH client.
struct Vm {
    qemu: Child,
    port: u16,
    key: PathBuf,
    _work: PathBuf,
}

impl Vm {
    fn boot(dir: &TestDir, image: &Path) -> Vm {
        let work = dir.path.join("check-vm");
        std::fs::create_dir_all(work.join("seed")).unwrap();
        let key = work.join("key");
        assert!(Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", "", "-f"]).arg(&key).status().unwrap().success());
        let public = std::fs::read_to_string(work.join("key.pub")).unwrap();
        std::fs::write(work.join("seed/meta-data"), "instance-id: check-vm\n").unwrap();
        std::fs::write(
            work.join("seed/user-data"),
            format!("#cloud-config\nusers:\n  - name: checker\n    sudo: ALL=(ALL) NOPASSWD:ALL\n    ssh_authorized_keys: [\"{}\"]\n", public.trim()),
        )
        .unwrap();
        let ok = Command::new("xorriso")
            .args(["-as", "genisoimage", "-quiet", "-rock", "-joliet", "-volid", "cidata", "-output"])
            .arg(work.join("seed.iso"))
            .arg(work.join("seed"))
            .status()
            .unwrap();
        assert!(ok.success());
        // An overlay, so the checked image stays as bake wrote it.
        let overlay = work.join("overlay.qcow2");
        assert!(Command::new("qemu-img").args(["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b"]).arg(image).arg(&overlay).status().unwrap().success());
        std::fs::copy("/usr/share/OVMF/OVMF_VARS_4M.fd", work.join("vars.fd")).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let qemu = Command::new("qemu-system-x86_64")
            .args(["-machine", "q35,accel=tcg", "-m", "1024", "-display", "none", "-serial"])
            .arg(format!("file:{}", work.join("serial.log").display()))
            .args(["-netdev", &format!("user,id=n0,hostfwd=tcp:127.0.0.1:{port}-:22"), "-device", "virtio-net,netdev=n0"])
            .arg("-drive")
            .arg(format!("file={},if=virtio,format=qcow2", overlay.display()))
            .arg("-drive")
            .arg(format!("file={},media=cdrom,readonly=on", work.join("seed.iso").display()))
            .args(["-drive", "file=/usr/share/OVMF/OVMF_CODE_4M.fd,if=pflash,unit=0,format=raw,readonly=on", "-drive"])
            .arg(format!("file={},if=pflash,unit=1,format=raw", work.join("vars.fd").display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start qemu");
        let vm = Vm { qemu, port, key, _work: work.clone() };
        let deadline = Instant::now() + Duration::from_secs(900);
        loop {
            if vm.try_ssh("true").is_some() {
                return vm;
            }
            if Instant::now() > deadline {
                let serial = std::fs::read_to_string(work.join("serial.log")).unwrap_or_default();
                panic!("the output image did not come up with SSH; serial console:\n{serial}");
            }
            std::thread::sleep(Duration::from_secs(3));
        }
    }

    fn try_ssh(&self, command: &str) -> Option<String> {
        let out = Command::new("ssh")
            .args([
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
                "-o",
                "BatchMode=yes",
                "-o",
                "ConnectTimeout=10",
                "-o",
                "LogLevel=ERROR",
                "-i",
            ])
            .arg(&self.key)
            .args(["-p", &self.port.to_string(), "checker@127.0.0.1", command])
            .stdin(Stdio::null())
            .output()
            .ok()?;
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    #[track_caller]
    fn ssh(&self, command: &str) -> String {
        self.try_ssh(command).unwrap_or_else(|| panic!("`{command}` failed in the booted output image"))
    }
}

impl Drop for Vm {
    fn drop(&mut self) {
        let _ = self.qemu.kill();
        let _ = self.qemu.wait();
    }
}

#[test]
fn the_templates_own_cloud_init_seed_authorizes_the_generated_key() {
    let dir = test_dir("qemu-own-seed");
    // No ssh_password, no ssh_private_key_file: bake generates a key, and
    // this cidata CD (not a seed of bake's) must hand it to cloud-init.
    let seed = r#"
  cd_label   = "cidata"
  cd_content = {
    "meta-data" = "instance-id: own-seed-test\nlocal-hostname: ownseed\n"
    "user-data" = <<-EOT
      #cloud-config
      users:
        - name: debian
          sudo: ALL=(ALL) NOPASSWD:ALL
          shell: /bin/bash
          lock_passwd: true
          ssh_authorized_keys:
            - {{ .SSHPublicKey }}
      write_files:
        - path: /etc/own-seed
          content: "from the template's own seed\n"
      EOT
  }
"#;
    let provisioners = r#"
  provisioner "shell" {
    inline = [
      "cat /etc/own-seed",
      "echo host=$(hostname)",
      "echo cidata-volumes=$(sudo blkid -o device -t LABEL=cidata | wc -l)",
      "echo key=$(cut -d' ' -f1,2 ~/.ssh/authorized_keys)",
    ]
  }
"#;
    dir.write("seed.pkr.hcl", &template("seed", seed, provisioners));
    let run = bake(&dir, &["build", "seed.pkr.hcl"]);
    let out = run.success().all();
    assert!(out.contains("from the template's own seed"), "{out}");
    assert!(out.contains("host=ownseed"), "{out}");
    // Only the template's seed reached the guest.
    assert!(out.contains("cidata-volumes=1"), "{out}");
    assert!(out.contains("key=ssh-ed25519 AAAA"), "{out}");
    assert_eq!(out.matches("so bake adds none").count(), 1, "the warning once:\n{out}");
    let procs = processes_mentioning(&dir.path);
    assert!(procs.is_empty(), "processes left behind: {procs:#?}");
}
