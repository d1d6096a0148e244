//! `examples/multi-hypervisor/`, a template as multi-hypervisor collections
//! write them: three builder types, one of which bake has; a variables file
//! per OS; `sources` from a variable; a conditional `except`; null-valued
//! options; a `vagrant` post-processor. `validate -only 'qemu.*'` passes for
//! each OS, and a build of the qemu source makes the image and the box, both
//! read back here (the provisioned file from the disk's ext4, the box with
//! tar and its metadata).

mod util;
use std::path::{Path, PathBuf};
use std::process::Command;
use util::TestDir;

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/multi-hypervisor")
}

fn arg(p: &Path) -> String {
    p.display().to_string()
}

fn sh(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?} failed:\n{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn every_os_validates_when_only_qemu_is_selected() {
    let dir = TestDir::new("multi-validate");
    let ex = example();
    for os in ["debian", "windows"] {
        let vars = arg(&ex.join(format!("{os}.pkrvars.hcl")));
        let run = dir.bake(&["validate", "-only", "qemu.*", "-var-file", &vars, &arg(&ex)]);
        run.success().contains("The configuration is valid.");
        assert_eq!(run.all().matches("bake has no builder").count(), 2, "one warning per unavailable type:\n{}", run.all());
    }
    // Without -only, the virtualbox build is selected and is an error at its type.
    let vars = arg(&ex.join("debian.pkrvars.hcl"));
    dir.bake(&["validate", "-var-file", &vars, &arg(&ex)]).failure().contains("sources.pkr.hcl:31:8").contains("virtualbox-iso");
    // The Windows variables skip the Linux provisioner: inspect shows the
    // conditional except resolved.
    let vars = arg(&ex.join("windows.pkrvars.hcl"));
    let report = util::inspect_json(&dir.bake(&["inspect", "--json", "-var-file", &vars, &arg(&ex)]));
    assert_eq!(report["builds"][0]["provisioners"][0]["except"], serde_json::json!(["qemu.vm", "virtualbox-iso.vm", "vmware-iso.vm"]));
}

#[test]
fn building_the_qemu_source_makes_the_image_and_the_box() {
    let dir = TestDir::new("multi-build");
    std::fs::create_dir_all(dir.path.join("tmp")).unwrap();
    let tmp = arg(&dir.path.join("tmp"));
    let ex = example();
    let vars = arg(&ex.join("debian.pkrvars.hcl"));
    let run = dir.bake_env(&["build", "-color=false", "-only", "qemu.*", "-var-file", &vars, &arg(&ex)], &[("TMPDIR", &tmp)]);
    run.success();

    let image = dir.path.join("output/debian-qemu/debian.qcow2");
    let info = sh(Command::new("qemu-img").args(["info", "--output=json", &arg(&image)]));
    assert!(info.contains("\"format\": \"qcow2\""), "{info}");

    // The provisioned file is in the image: read it from the root ext4
    // without booting (qemu-img to raw, the partition table from sfdisk,
    // debugfs to read the file).
    let raw = dir.path.join("disk.raw");
    sh(Command::new("qemu-img").args(["convert", "-O", "raw", &arg(&image), &arg(&raw)]));
    let table: serde_json::Value = serde_json::from_str(&sh(Command::new("sfdisk").args(["-J", &arg(&raw)]))).unwrap();
    let root = table["partitiontable"]["partitions"].as_array().unwrap().iter().max_by_key(|p| p["size"].as_u64()).unwrap().clone();
    let part = dir.path.join("root.img");
    sh(Command::new("dd").args([
        format!("if={}", raw.display()),
        format!("of={}", part.display()),
        "bs=512".into(),
        format!("skip={}", root["start"]),
        format!("count={}", root["size"]),
        "conv=sparse".into(),
        "status=none".into(),
    ]));
    let release = sh(Command::new("debugfs").args(["-R", "cat /etc/bake-release", &arg(&part)]));
    assert_eq!(release.trim(), "baked for debian on qemu");

    // The box: Packer's libvirt layout, its disk the image itself.
    let boxfile = dir.path.join("output/boxes/debian-libvirt.box");
    let listing = sh(Command::new("tar").args(["-tzf", &arg(&boxfile)]));
    let mut names: Vec<&str> = listing.lines().map(|l| l.trim_start_matches("./")).filter(|l| !l.is_empty()).collect();
    names.sort_unstable();
    assert_eq!(names, ["Vagrantfile", "box.img", "metadata.json"], "{listing}");
    let unpacked = dir.path.join("box");
    std::fs::create_dir_all(&unpacked).unwrap();
    sh(Command::new("tar").args(["-xzf", &arg(&boxfile), "-C", &arg(&unpacked)]));
    let metadata: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(unpacked.join("metadata.json")).unwrap()).unwrap();
    assert_eq!(metadata["provider"], "libvirt");
    assert_eq!(metadata["format"], "qcow2");
    assert_eq!(metadata["virtual_size"], 4, "4096 MiB is 4 GB: {metadata}");
    sh(Command::new("qemu-img").args(["compare", &arg(&unpacked.join("box.img")), &arg(&image)]));
    assert!(std::fs::read_to_string(unpacked.join("Vagrantfile")).unwrap().contains("libvirt"));

    // keep_input_artifact: the image is an artifact of its own too.
    run.contains("debian-libvirt.box").contains("debian.qcow2");
    // Nothing left in the temp directory, no VM running.
    let left: Vec<_> = std::fs::read_dir(dir.path.join("tmp")).unwrap().flatten().map(|e| e.path()).collect();
    assert!(left.is_empty(), "left in TMPDIR: {left:?}");
}
