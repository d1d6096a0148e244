use super::*;
use bake_sdk::testing;

fn prepare_src(src: &str) -> Result<Checksum, String> {
    let (sources, body) = testing::eval_body(src);
    Checksum::prepare(&body, "post-processor \"checksum\"").map_err(|d| d.render(&sources))
}

/// A directory under target/, removed by the test when it passes.
fn scratch(name: &str) -> PathBuf {
    testing::scratch_dir(&format!("checksum-{name}"))
}

fn info() -> BuildInfo {
    testing::build_info("checksum")
}

fn input(dir: &Path) -> Artifact {
    let a = dir.join("disk.qcow2");
    let b = dir.join("meta.json");
    std::fs::write(&a, vec![7u8; 3 << 20]).unwrap();
    std::fs::write(&b, b"{\"a\": 1}\n").unwrap();
    Artifact {
        builder_type: "qemu".into(),
        id: "x".into(),
        files: vec![ArtifactFile::from_path(&a).unwrap(), ArtifactFile::from_path(&b).unwrap()],
        ..Default::default()
    }
}

/// The digest the real coreutils tool prints for `file`.
fn tool(ty: &str, file: &Path) -> String {
    let out = std::process::Command::new(format!("{ty}sum")).arg(file).output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().split_whitespace().next().unwrap().to_string()
}

#[tokio::test]
async fn every_type_matches_coreutils_and_appends() {
    let dir = scratch("types");
    let out = dir.join("sums/{{ .BuildName }}-{{.BuilderType}}.{{ .ChecksumType }}");
    let pp = prepare_src(&format!("checksum_types = [\"md5\", \"sha1\", \"sha224\", \"sha256\", \"sha384\", \"sha512\"]\noutput = \"{}\"\n", out.display()))
        .unwrap();
    let input = input(&dir);
    let res = pp.post_process(&info(), input.clone()).await.unwrap();
    assert_eq!(res.keep_input, Some(true));
    // The input's files, then the six new checksum files.
    assert_eq!(res.artifact.files.len(), 8);
    assert_eq!(res.artifact.files[..2], input.files[..]);
    for ty in TYPES {
        let path = dir.join(format!("sums/web-null.{ty}"));
        let text = std::fs::read_to_string(&path).unwrap();
        let want = format!("{}\tdisk.qcow2\n{}\tmeta.json\n", tool(ty, &dir.join("disk.qcow2")), tool(ty, &dir.join("meta.json")));
        assert_eq!(text, want, "{ty}");
        assert!(res.artifact.files.iter().any(|f| f.path == path));
    }
    // A second run appends, and does not list the files it appended to.
    let again = pp.post_process(&info(), input.clone()).await.unwrap();
    assert_eq!(again.artifact.files, input.files);
    let text = std::fs::read_to_string(dir.join("sums/web-null.sha256")).unwrap();
    assert_eq!(text.lines().count(), 4);
    assert_eq!(text.lines().next(), text.lines().nth(2));
    // No temp files are left behind.
    let names: Vec<String> = std::fs::read_dir(dir.join("sums")).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn defaults_are_packers() {
    let dir = scratch("defaults");
    let pp = prepare_src("").unwrap();
    assert_eq!(pp.types, ["md5"]);
    assert_eq!(pp.output, DEFAULT_OUTPUT);
    // One shared file when the output does not name the type.
    let pp = prepare_src(&format!("checksum_types = [\"sha256\", \"md5\"]\noutput = \"{}/all.sums\"\n", dir.display())).unwrap();
    let input = input(&dir);
    let res = pp.post_process(&info(), input).await.unwrap();
    assert_eq!(res.artifact.files.len(), 3);
    let text = std::fs::read_to_string(dir.join("all.sums")).unwrap();
    let lens: Vec<usize> = text.lines().map(|l| l.split('\t').next().unwrap().len()).collect();
    assert_eq!(lens, [64, 64, 32, 32]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_types_and_placeholders_are_caught_at_validate_time() {
    let err = prepare_src("checksum_types = [\"sha255\"]\n").err().unwrap();
    assert!(err.contains("t.pkr.hcl:1:") && err.contains("\"sha255\"") && err.contains("did you mean \"sha256\"?"), "{err}");
    let err = prepare_src("checksum_types = [\"crc32\"]\n").err().unwrap();
    assert!(err.contains("md5, sha1, sha224, sha256, sha384, sha512"), "{err}");
    let err = prepare_src("output = \"{{ .BuildNam }}.sum\"\n").err().unwrap();
    assert!(err.contains("t.pkr.hcl:1:") && err.contains("{{ .BuildName }}"), "{err}");
    let err = prepare_src("outptu = \"x\"\n").err().unwrap();
    assert!(err.contains("did you mean \"output\"?"), "{err}");
}
