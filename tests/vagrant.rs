//! The vagrant post-processor through the real binary: qcow2 and raw disks
//! fed in with `artifice` (no VM needed), the box opened with `tar`, its
//! disk compared with `qemu-img compare`, and the box added with Debian's
//! `vagrant` (with vagrant-libvirt, which `vagrant validate` needs to check
//! the box's libvirt settings; both installed by scripts/setup.sh).

mod util;
use std::path::Path;
use std::process::Command;
use util::TestDir;

fn tool(dir: &TestDir, cmd: &str, args: &[&str]) -> String {
    tool_env(dir, cmd, args, &[])
}

fn tool_env(dir: &TestDir, cmd: &str, args: &[&str], env: &[(&str, &Path)]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .envs(env.iter().copied())
        .current_dir(&dir.path)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e} (scripts/setup.sh installs it)"));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{cmd} {args:?}:\n{text}");
    text
}

/// A 1.5 GiB disk (sparse) whose first MiB is known: `disk.raw`, and the
/// same as `disk.qcow2`.
fn make_disks(dir: &TestDir) {
    tool(dir, "sh", &["-c", "{ seq 1 150000; printf 'the end of the known bytes\\n'; } > disk.raw && truncate -s 1536M disk.raw"]);
    tool(dir, "qemu-img", &["convert", "-q", "-f", "raw", "-O", "qcow2", "disk.raw", "disk.qcow2"]);
}

const TEMPLATE: &str = r#"
source "null" "web" {
  communicator = "none"
}

build {
  sources = ["source.null.web"]

  post-processors {
    post-processor "artifice" {
      files = ["disk.qcow2"]
    }
    post-processor "vagrant" {
      provider_override    = "libvirt"
      keep_input_artifact  = true
      output               = "out/{{ .BuildName }}-{{ .Provider }}.box"
      vagrantfile_template = "Vagrantfile.tpl"
      include              = ["docs/README"]
    }
  }

  post-processors {
    post-processor "artifice" {
      files = ["disk.raw"]
    }
    post-processor "vagrant" {
      provider_override   = "libvirt"
      keep_input_artifact = true
      compression_level   = 0
      output              = "out/from-raw.box"
    }
  }
}
"#;

#[test]
fn qcow2_and_raw_disks_become_libvirt_boxes_that_vagrant_adds() {
    let dir = TestDir::new("vagrant-box");
    make_disks(&dir);
    dir.write("t.pkr.hcl", TEMPLATE);
    dir.write("Vagrantfile.tpl", "Vagrant.configure(\"2\") do |config|\n  config.vm.hostname = \"{{ .BuildName }}-box\"\nend\n");
    dir.write("docs/README", "read me\n");
    dir.bake(&["validate", "t.pkr.hcl"]).success();
    let run = dir.bake(&["build", "-color=false", "t.pkr.hcl"]);
    run.success()
        .contains("Creating a Vagrant box for the 'libvirt' provider")
        .contains("Converting disk.raw to qcow2 for box.img: it is raw, and vagrant-libvirt takes qcow2 boxes only");

    // The qcow2 box: Packer's layout, gzip-compressed.
    assert_eq!(tool(&dir, "tar", &["-tzf", "out/web-libvirt.box"]), "metadata.json\nVagrantfile\nREADME\nbox.img\n");
    std::fs::create_dir_all(dir.path.join("x")).unwrap();
    tool(&dir, "tar", &["-xzf", "out/web-libvirt.box", "-C", "x"]);
    let metadata: serde_json::Value = serde_json::from_str(&dir.read("x/metadata.json")).unwrap();
    assert_eq!(metadata["provider"], "libvirt");
    assert_eq!(metadata["format"], "qcow2");
    assert_eq!(metadata["virtual_size"], 2, "1.5 GiB rounds up to 2: {metadata}");
    assert_eq!(metadata["architecture"], "amd64");
    assert_eq!(tool(&dir, "qemu-img", &["compare", "-q", "x/box.img", "disk.qcow2"]), "");
    assert_eq!(tool(&dir, "qemu-img", &["compare", "-q", "-f", "qcow2", "-F", "raw", "x/box.img", "disk.raw"]), "");
    let vagrantfile = dir.read("x/Vagrantfile");
    // artifice says nothing of the accelerator: vagrant-libvirt's default.
    assert!(vagrantfile.contains("config.vm.provider :libvirt do |libvirt|\n    libvirt.driver = \"kvm\"\n  end"), "{vagrantfile}");
    assert!(vagrantfile.contains("config.vm.hostname = \"web-box\""), "the template's placeholders are filled: {vagrantfile}");
    assert_eq!(dir.read("x/README"), "read me\n");

    // The raw disk: converted, in a plain tar (compression_level = 0).
    assert_eq!(tool(&dir, "tar", &["-tf", "out/from-raw.box"]), "metadata.json\nVagrantfile\nbox.img\n");
    tool(&dir, "sh", &["-c", "mkdir raw && tar -xf out/from-raw.box -C raw"]);
    let info: serde_json::Value = serde_json::from_str(&tool(&dir, "qemu-img", &["info", "--output=json", "raw/box.img"])).unwrap();
    assert_eq!(info["format"], "qcow2");
    assert_eq!(info["virtual-size"], 1536u64 << 20);
    assert_eq!(tool(&dir, "qemu-img", &["compare", "-q", "-f", "qcow2", "-F", "raw", "raw/box.img", "disk.raw"]), "");
    assert!(dir.read("raw/metadata.json").contains("\"format\":\"qcow2\""));
    // Nothing but the boxes in out/: no temp file, no staging directory.
    let mut left: Vec<String> = std::fs::read_dir(dir.path.join("out")).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    left.sort();
    assert_eq!(left, ["from-raw.box", "web-libvirt.box"]);

    // Vagrant takes the box, and its Vagrantfile passes vagrant-libvirt's checks.
    let home = dir.path.join("vagrant-home");
    let env = [("VAGRANT_HOME", home.as_path())];
    let added = tool_env(&dir, "vagrant", &["box", "add", "--name", "test", "--provider", "libvirt", "out/web-libvirt.box"], &env);
    assert!(added.contains("Successfully added box 'test' (v0) for 'libvirt'"), "{added}");
    let stored = home.join("boxes/test/0/libvirt");
    assert_eq!(std::fs::read(stored.join("box.img")).unwrap(), std::fs::read(dir.path.join("x/box.img")).unwrap());
    std::fs::create_dir_all(dir.path.join("project")).unwrap();
    let project = dir.path.join("project");
    std::fs::write(project.join("Vagrantfile"), "Vagrant.configure(\"2\") do |config|\n  config.vm.box = \"test\"\nend\n").unwrap();
    let out =
        Command::new("vagrant").arg("validate").current_dir(&project).env("VAGRANT_HOME", &home).env("VAGRANT_DEFAULT_PROVIDER", "libvirt").output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && text.contains("validated successfully"), "vagrant validate:\n{text}");
    tool_env(&dir, "vagrant", &["box", "add", "--name", "raw", "--provider", "libvirt", "out/from-raw.box"], &env);
}

#[test]
fn mistakes_fail_early_and_leave_nothing() {
    let dir = TestDir::new("vagrant-errors");
    make_disks(&dir);
    dir.write(
        "t.pkr.hcl",
        r#"
source "null" "web" {
  communicator = "none"
}

build {
  sources = ["source.null.web"]
  post-processors {
    post-processor "artifice" {
      files = ["disk.qcow2"]
    }
    post-processor "vagrant" {
      keep_input_artifact = true
      output              = "out/web.box"
    }
  }
}
"#,
    );
    dir.bake(&["build", "-color=false", "t.pkr.hcl"])
        .failure()
        .contains("when using an artifact created by the artifice post-processor, you need to set the provider_override option");
    assert!(!dir.exists("out/web.box"));
    assert!(std::fs::read_dir(dir.path.join("out")).map_or(true, |mut d| d.next().is_none()), "out/ has leftovers");

    dir.write(
        "bad.pkr.hcl",
        r#"
source "null" "web" {
  communicator = "none"
}

build {
  sources = ["source.null.web"]
  post-processor "vagrant" {
    compression_level    = 11
    provider_override    = "virtualbox"
    vagrantfile_template = "missing.tpl"
  }
}
"#,
    );
    dir.bake(&["validate", "bad.pkr.hcl"])
        .failure()
        .contains("bad.pkr.hcl:9:28")
        .contains("11 is not a compression level")
        .contains("bad.pkr.hcl:10:28")
        .contains("Packer's \"virtualbox\" provider is not implemented")
        .contains("bad.pkr.hcl:11:28")
        .contains("vagrantfile_template_generated = true");
}

#[test]
fn ctrl_c_while_the_box_is_written_leaves_nothing() {
    use std::time::Duration;
    let dir = TestDir::new("vagrant-sigint");
    // 384 MiB of random bytes at gzip level 9 keeps both cores busy for
    // several seconds: the signal lands while the box is being written.
    tool(&dir, "sh", &["-c", "head -c 402653184 /dev/urandom > big.raw && qemu-img convert -q -f raw -O qcow2 big.raw big.qcow2 && rm big.raw"]);
    dir.write(
        "t.pkr.hcl",
        r#"
source "null" "a" {
  communicator = "none"
}

build {
  sources = ["source.null.a"]
  post-processors {
    post-processor "artifice" {
      files = ["big.qcow2"]
    }
    post-processor "vagrant" {
      provider_override = "libvirt"
      compression_level = 9
      output            = "out/big.box"
    }
  }
}
"#,
    );
    util::interrupt_build(&dir, "Compressing 3 files into out/big.box", Duration::from_secs(1), || {
        let mut temp: Vec<String> = std::fs::read_dir(dir.path.join("out")).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
        temp.sort();
        assert!(
            matches!(&temp[..], [stage, tmp] if stage.starts_with(".big.box.bake-box-") && tmp.starts_with(".big.box.bake-tmp-")),
            "expected the staging directory and the temp box in out/, found {temp:?}"
        );
    });
    assert!(dir.exists("big.qcow2"), "the input is the user's file");
}
