use super::*;
use bake_sdk::lang::eval::Evaluator;
use bake_sdk::lang::parse::parse_file;
use bake_sdk::lang::SourceMap;
use bake_sdk::ui::RecordingSink;
use bake_sdk::{OnError, Ui};
use std::sync::Arc;

fn body(src: &str) -> (SourceMap, EvalBody) {
    let sources = SourceMap::new();
    let file = sources.add("t.pkr.hcl", src);
    let parsed = parse_file(&sources, file).unwrap();
    let ev = Evaluator::new(sources.clone(), std::env::temp_dir(), std::time::SystemTime::UNIX_EPOCH);
    let body = ev.eval_body(&parsed).unwrap();
    (sources, body)
}

fn prepare_src(src: &str) -> Result<Checksum, String> {
    let (sources, body) = body(src);
    Checksum::prepare(&body, "post-processor \"checksum\"").map_err(|d| d.render(&sources))
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-scratch").join(format!("checksum-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn info() -> BuildInfo {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-journals");
    BuildInfo {
        name: "app.null.web".into(),
        builder_type: "null".into(),
        source_name: "web".into(),
        ui: Ui::new("app.null.web", Arc::new(RecordingSink::default())),
        cancel: Default::default(),
        debug: false,
        force: false,
        on_error: OnError::Cleanup,
        template_dir: ".".into(),
        run_uuid: "u".into(),
        template: Default::default(),
        journal: Arc::new(bake_sdk::journal::Journal::create(&dir, &format!("checksum-{:?}", std::thread::current().id())).unwrap()),
    }
}

fn input(dir: &Path) -> Artifact {
    let a = dir.join("disk.qcow2");
    let b = dir.join("meta.json");
    std::fs::write(&a, vec![7u8; 3 << 20]).unwrap();
    std::fs::write(&b, b"{\"a\": 1}\n").unwrap();
    Artifact { builder_type: "qemu".into(), id: "x".into(), files: vec![ArtifactFile::from_path(&a).unwrap(), ArtifactFile::from_path(&b).unwrap()], ..Default::default() }
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
    let pp = prepare_src(&format!("checksum_types = [\"md5\", \"sha1\", \"sha224\", \"sha256\", \"sha384\", \"sha512\"]\noutput = \"{}\"\n", out.display())).unwrap();
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
