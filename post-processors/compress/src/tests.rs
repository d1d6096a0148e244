use super::*;
use bake_sdk::testing;
use bake_sdk::ArtifactFile;
use std::path::Path;
use std::process::Command;

fn prepare_src(src: &str) -> Result<Compress, String> {
    let (sources, body) = testing::eval_body(src);
    Compress::prepare(&body, "post-processor \"compress\"").map_err(|d| d.render(&sources))
}

/// A directory under target/, removed by the test when it passes.
fn scratch(name: &str) -> PathBuf {
    testing::scratch_dir(&format!("compress-{name}"))
}

fn info() -> BuildInfo {
    testing::build_info("compress")
}

/// A disk-like file: pseudo-random, zero and text blocks, a few chunks long.
fn disk_bytes() -> Vec<u8> {
    let mut data = Vec::new();
    let mut x: u64 = 0x9e3779b97f4a7c15;
    for block in 0..40 {
        match block % 4 {
            0 => (0..65536).for_each(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                data.push(x as u8)
            }),
            1 => data.resize(data.len() + 100_000, 0),
            _ => data.extend(format!("line {block} of a config file with some words\n").repeat(1500).bytes()),
        }
    }
    data
}

fn input(dir: &Path) -> Artifact {
    let a = dir.join("in/disk.qcow2");
    let b = dir.join("in/notes.txt");
    std::fs::create_dir_all(dir.join("in")).unwrap();
    std::fs::write(&a, disk_bytes()).unwrap();
    std::fs::write(&b, b"hello\n").unwrap();
    Artifact {
        builder_type: "qemu".into(),
        id: "x".into(),
        files: vec![ArtifactFile::from_path(&a).unwrap(), ArtifactFile::from_path(&b).unwrap()],
        ..Default::default()
    }
}

fn one(a: &Artifact) -> Artifact {
    Artifact { files: a.files[..1].to_vec(), ..a.clone() }
}

/// Runs a real tool; asserts success; returns its stdout.
fn run(cmd: &str, args: &[&str]) -> Vec<u8> {
    let out = Command::new(cmd).args(args).output().unwrap_or_else(|e| panic!("{cmd}: {e}"));
    assert!(out.status.success(), "{cmd} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

async fn compress(dir: &Path, output: &str, input: Artifact) -> Artifact {
    let pp = prepare_src(&format!("output = \"{}/{output}\"\n", dir.display())).unwrap();
    let res = pp.post_process(&info(), input).await.unwrap();
    assert_eq!(res.keep_input, None);
    let file = &res.artifact.files[0];
    assert_eq!(res.artifact.files.len(), 1);
    assert_eq!(file.path, dir.join(output));
    assert_eq!(file.size, std::fs::metadata(&file.path).unwrap().len());
    let sha = String::from_utf8(run("sha256sum", &[file.path.to_str().unwrap()])).unwrap();
    assert_eq!(file.sha256.as_deref(), sha.split_whitespace().next());
    res.artifact
}

#[tokio::test]
async fn archives_read_back_with_the_real_tools() {
    let dir = scratch("archives");
    let input = input(&dir);
    let disk = std::fs::read(&input.files[0].path).unwrap();
    for (output, list, extract) in [
        ("a.tar", vec!["tar", "-tf"], vec!["tar", "-xOf"]),
        ("a.tar.gz", vec!["tar", "-tzf"], vec!["tar", "-xzOf"]),
        ("a.tgz", vec!["tar", "-tzf"], vec!["tar", "-xzOf"]),
        ("a.tar.zst", vec!["tar", "--zstd", "-tf"], vec!["tar", "--zstd", "-xOf"]),
        ("a.tar.xz", vec!["tar", "-tJf"], vec!["tar", "-xJOf"]),
        ("a.zip", vec!["unzip", "-Z1"], vec!["unzip", "-p"]),
    ] {
        let art = compress(&dir, output, input.clone()).await;
        let path = art.files[0].path.to_str().unwrap().to_string();
        let names = String::from_utf8(run(list[0], &[&list[1..], &[path.as_str()]].concat())).unwrap();
        let names: Vec<&str> = names.lines().collect();
        let member = if output.ends_with(".zip") {
            let full = input.files[0].path.to_str().unwrap().trim_start_matches('/').to_string();
            assert_eq!(names, [full.clone(), input.files[1].path.to_str().unwrap().trim_start_matches('/').to_string()], "{output}");
            full
        } else {
            assert_eq!(names, ["disk.qcow2", "notes.txt"], "{output}");
            "disk.qcow2".to_string()
        };
        let back = run(extract[0], &[&extract[1..], &[path.as_str(), member.as_str()]].concat());
        assert!(back == disk, "{output}: content differs");
    }
    run("gzip", &["-t", dir.join("a.tar.gz").to_str().unwrap()]);
    run("python3", &["-m", "zipfile", "-t", dir.join("a.zip").to_str().unwrap()]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn single_files_read_back_with_the_real_tools() {
    let dir = scratch("single");
    let input = input(&dir);
    let disk = std::fs::read(&input.files[0].path).unwrap();
    for (output, tool) in [("d.gz", "gzip"), ("d.zst", "zstd"), ("d.xz", "xz"), ("d.lz4", "lz4")] {
        let art = compress(&dir, output, one(&input)).await;
        let path = art.files[0].path.to_str().unwrap();
        run(tool, &["-t", path]);
        let back = run(tool, &["-dc", path]);
        assert!(back == disk, "{output}: content differs");
        assert!(art.files[0].size < disk.len() as u64 / 2, "{output}: {} bytes", art.files[0].size);
    }
    // Several files need an archive, as in Packer.
    let pp = prepare_src(&format!("output = \"{}/two.gz\"\n", dir.display())).unwrap();
    let err = pp.post_process(&info(), input.clone()).await.err().unwrap().to_string();
    assert!(err.contains("can only have 1 input file when not using tar/zip; found 2"), "{err}");
    assert!(!dir.join("two.gz").exists());
    // No temp files are left behind.
    let names: Vec<String> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn default_output_placeholders_and_format() {
    let dir = scratch("default");
    let input = input(&dir);
    let pp = prepare_src(&format!("output = \"{}/{{{{ .BuildName }}}}-{{{{.BuilderType}}}}\"\nformat = \"tar.gz\"\ncompression_level = 9\n", dir.display()))
        .unwrap();
    assert_eq!(pp.level(Codec::Gzip), 9);
    let res = pp.post_process(&info(), input).await.unwrap();
    // As Packer, `format` picks the format; the file keeps the name given.
    assert_eq!(res.artifact.files[0].path, dir.join("web-null"));
    run("tar", &["-tzf", dir.join("web-null").to_str().unwrap()]);
    let pp = prepare_src("").unwrap();
    assert_eq!(pp.output, DEFAULT_OUTPUT);
    assert_eq!((pp.level(Codec::Gzip), pp.level(Codec::Zstd)), (6, 3));
    let pp = prepare_src("compression_level = 0\n").unwrap();
    assert_eq!(pp.level(Codec::Gzip), 6);
    let pp = prepare_src("compression_level = 19\n").unwrap();
    assert_eq!((pp.level(Codec::Gzip), pp.level(Codec::Zstd)), (9, 19));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn cancellation_leaves_nothing() {
    let dir = scratch("cancel");
    let input = input(&dir);
    let pp = prepare_src(&format!("output = \"{}/c.tar.gz\"\n", dir.display())).unwrap();
    let info = info();
    info.cancel.cancel();
    let err = pp.post_process(&info, input).await.err().unwrap().to_string();
    assert!(err.contains("cancelled"), "{err}");
    let names: Vec<String> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["in"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn validate_time_errors() {
    let err = prepare_src("output = \"out/image.rar\"\n").err().unwrap();
    assert!(err.contains("t.pkr.hcl:1:10") && err.contains("Unknown archive format") && err.contains(".tar.gz"), "{err}");
    let err = prepare_src("output = \"out/image\"\nformat = \"7z\"\n").err().unwrap();
    assert!(err.contains("t.pkr.hcl:2:") && err.contains("image.7z"), "{err}");
    let err = prepare_src("output = \"{{ .Name }}.tar\"\n").err().unwrap();
    assert!(err.contains("{{ .BuildName }}"), "{err}");
    let err = prepare_src("compression_level = 30\n").err().unwrap();
    assert!(err.contains("t.pkr.hcl:1:") && err.contains("30"), "{err}");
    let err = prepare_src("compresion_level = 3\n").err().unwrap();
    assert!(err.contains("did you mean \"compression_level\"?"), "{err}");
    // The extension may come from a placeholder: checked when it runs.
    assert!(prepare_src("output = \"x.{{ .BuilderType }}\"\n").is_ok());
    assert_eq!(detect("a.TAR.GZ"), Some(Format::Tar(Codec::Gzip)));
    assert_eq!(detect("app.null.a.lz4"), Some(Format::Single(Codec::Lz4)));
    assert_eq!(detect("disk.qcow2"), None);
    assert_eq!(detect("out.d/packer_web_qemu"), Some(Format::Tar(Codec::Gzip)));
    assert!(prepare_src("output = \"packer_{{.BuildName}}_{{.BuilderType}}\"\n").is_ok());
}
