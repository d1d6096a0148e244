use super::*;
use bake_sdk::testing;
use bake_sdk::ArtifactFile;
use std::process::Command;

fn prepare_src(src: &str) -> Result<Vagrant, String> {
    let (sources, body) = testing::eval_body(src);
    Vagrant::prepare(&body, "post-processor \"vagrant\"").map_err(|d| d.render(&sources))
}

/// Runs a real tool; asserts success; returns its stdout.
fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd).args(args).output().unwrap_or_else(|e| panic!("{cmd}: {e}"));
    assert!(out.status.success(), "{cmd} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What the qemu builder returns for `vm_name = "web.qcow2"` built under TCG.
fn qemu_artifact(disk: &Path, extra: &Path) -> Artifact {
    Artifact {
        builder_type: "qemu".into(),
        id: "VM".into(),
        files: vec![ArtifactFile::from_path(extra).unwrap(), ArtifactFile::from_path(disk).unwrap()],
        state: BTreeMap::from([
            ("diskName".to_string(), serde_json::json!("web.qcow2")),
            ("diskPath".to_string(), serde_json::json!(disk.display().to_string())),
            ("diskType".to_string(), serde_json::json!("qcow2")),
            ("diskSize".to_string(), serde_json::json!("1536M")),
            ("domainType".to_string(), serde_json::json!("tcg")),
        ]),
        ..Default::default()
    }
}

#[test]
fn a_qemu_artifact_means_libvirt_without_an_override() {
    let dir = Path::new("/nonexistent");
    let qemu = Artifact {
        builder_type: "qemu".into(),
        files: vec![ArtifactFile { path: dir.join("efivars.fd"), ..Default::default() }, ArtifactFile { path: dir.join("web.qcow2"), ..Default::default() }],
        state: BTreeMap::from([("diskName".to_string(), serde_json::json!("web.qcow2")), ("diskType".to_string(), serde_json::json!("qcow2"))]),
        ..Default::default()
    };
    assert_eq!(Provider::for_artifact(None, &qemu).unwrap(), Provider::Libvirt);
    // The disk is the one the builder names, not its other files.
    assert_eq!(provider::find_disk(&qemu).unwrap(), dir.join("web.qcow2"));
    assert_eq!(provider::libvirt_driver(&qemu).unwrap(), "kvm", "no accelerator recorded: vagrant-libvirt's default");

    let artifice = Artifact { builder_type: "packer.post-processor.artifice".into(), ..Default::default() };
    let err = Provider::for_artifact(None, &artifice).unwrap_err().to_string();
    assert!(err.contains("provider_override"), "{err}");
    assert_eq!(Provider::for_artifact(Some(Provider::Libvirt), &artifice).unwrap(), Provider::Libvirt);
    let unknown = Provider::for_artifact(None, &Artifact { builder_type: "null".into(), ..Default::default() }).unwrap_err().to_string();
    assert!(unknown.contains("can't build box: null"), "{unknown}");
    let file = Artifact { builder_type: "file".into(), ..Default::default() };
    assert_eq!(Provider::for_artifact(None, &file).unwrap(), Provider::File);
}

#[test]
fn drivers_and_sizes_follow_packer() {
    let with = |accel: &str| Artifact { state: BTreeMap::from([("domainType".to_string(), serde_json::json!(accel))]), ..Default::default() };
    assert_eq!(provider::libvirt_driver(&with("kvm")).unwrap(), "kvm");
    for accel in ["tcg", "none", "hvf"] {
        assert_eq!(provider::libvirt_driver(&with(accel)).unwrap(), "qemu");
    }
    assert!(provider::libvirt_driver(&with("whpx")).unwrap_err().to_string().contains("unknown libvirt domain type: whpx"));
    assert_eq!(provider::size_in_gib(1), 1);
    assert_eq!(provider::size_in_gib(2 << 30), 2);
    assert_eq!(provider::size_in_gib((2 << 30) + 1), 3);
    assert_eq!(provider::size_in_gib(1536 << 20), 2);
}

#[test]
fn mistakes_are_reported_at_their_arguments() {
    let level = prepare_src("compression_level = 12\n").err().unwrap();
    assert!(level.contains("t.pkr.hcl:1:21") && level.contains("0 (no compression) to 9"), "{level}");
    let not_ours = prepare_src("\nprovider_override = \"virtualbox\"\n").err().unwrap();
    assert!(not_ours.contains("t.pkr.hcl:2:21") && not_ours.contains("\"virtualbox\" provider is not implemented"), "{not_ours}");
    let typo = prepare_src("provider_override = \"libvrit\"\n").err().unwrap();
    assert!(typo.contains("did you mean \"libvirt\""), "{typo}");
    let missing = prepare_src("vagrantfile_template = \"no/such/Vagrantfile.tpl\"\n").err().unwrap();
    assert!(missing.contains("cannot be read") && missing.contains("vagrantfile_template_generated"), "{missing}");
    assert!(prepare_src("vagrantfile_template = \"no/such/Vagrantfile.tpl\"\nvagrantfile_template_generated = true\n").is_ok());
    let own = prepare_src("include = [\"x/Vagrantfile\"]\n").err().unwrap();
    assert!(own.contains("which the post-processor writes itself"), "{own}");
    let twice = prepare_src("include = [\"a/README\", \"b/README\"]\n").err().unwrap();
    assert!(twice.contains("two includes would be \"README\""), "{twice}");
    let placeholder = prepare_src("output = \"{{ .BoxName }}.box\"\n").err().unwrap();
    assert!(placeholder.contains("{{ .BoxName }}") && placeholder.contains("{{ .Provider }}"), "{placeholder}");
    let unknown = prepare_src("outptu = \"x.box\"\n").err().unwrap();
    assert!(unknown.contains("did you mean \"output\""), "{unknown}");
}

#[tokio::test]
async fn a_qemu_builder_artifact_becomes_a_libvirt_box() {
    let dir = testing::scratch_dir("vagrant-qemu");
    let disk = dir.join("output-web/web.qcow2");
    std::fs::create_dir_all(disk.parent().unwrap()).unwrap();
    run("qemu-img", &["create", "-q", "-f", "qcow2", &disk.display().to_string(), "1536M"]);
    let vars = dir.join("output-web/efivars.fd");
    std::fs::write(&vars, b"vars").unwrap();
    let template = dir.join("Vagrantfile.tpl");
    std::fs::write(&template, "# box {{ .BuildName }} for {{ .Provider }} ({{ .Architecture }})\n").unwrap();
    let pp = prepare_src(&format!(
        "output = \"{}/{{{{ .BuildName }}}}-{{{{ .Provider }}}}.box\"\ncompression_level = 1\nvagrantfile_template = \"{}\"\ninclude = [\"{}\"]\n",
        dir.display(),
        template.display(),
        vars.display()
    ))
    .unwrap();
    let out = pp.post_process(&testing::build_info("vagrant"), qemu_artifact(&disk, &vars)).await.unwrap();
    let boxfile = dir.join("web-libvirt.box");
    assert_eq!(out.artifact.files[0].path, boxfile);
    assert_eq!((out.artifact.builder_type.as_str(), out.artifact.id.as_str()), ("vagrant", "libvirt"));
    assert_eq!(run("tar", &["-tzf", &boxfile.display().to_string()]), "metadata.json\nVagrantfile\nefivars.fd\nbox.img\n");
    let extract = |name: &str| run("tar", &["-xzOf", &boxfile.display().to_string(), name]);
    let metadata: serde_json::Value = serde_json::from_str(&extract("metadata.json")).unwrap();
    assert_eq!(metadata, serde_json::json!({ "architecture": host_architecture(), "format": "qcow2", "provider": "libvirt", "virtual_size": 2 }));
    let vagrantfile = extract("Vagrantfile");
    assert!(vagrantfile.contains("config.vm.provider :libvirt do |libvirt|\n    libvirt.driver = \"qemu\"\n"), "{vagrantfile}");
    assert!(vagrantfile.contains(&format!("# box web for libvirt ({})\n", host_architecture())), "{vagrantfile}");
    assert_eq!(extract("efivars.fd"), "vars");
    // A standalone qcow2 goes in byte for byte.
    assert_eq!(run("sh", &["-c", &format!("tar -xzOf {} box.img | cmp - {}", boxfile.display(), disk.display())]), "");
    // Nothing left beside the box but the inputs.
    let mut left: Vec<String> = std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    left.sort();
    assert_eq!(left, ["Vagrantfile.tpl", "output-web", "web-libvirt.box"]);
    std::fs::remove_dir_all(&dir).unwrap();
}
