use super::*;
use bake_sdk::testing;

fn prepare_src(src: &str) -> Result<FileBuilder, String> {
    let (sources, body) = testing::eval_body(src);
    FileBuilder::prepare(&body, "source \"file.a\"").map_err(|d| d.render(&sources))
}

/// Counts the provisioning runs and checks the target exists by then.
struct Hook(PathBuf, std::sync::atomic::AtomicUsize);

impl ProvisionHook for Hook {
    fn machine_ready(&self, generated: &GeneratedData) {
        assert!(self.0.is_file() && generated["ID"] == "File");
        self.1.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
    fn provisioners(&self) -> Vec<Box<dyn bake_sdk::ProvisionerStep + '_>> {
        Vec::new()
    }
}

async fn build(builder: &FileBuilder, target: &std::path::Path) -> Artifact {
    let hook = Hook(target.to_path_buf(), Default::default());
    let artifact = builder.run(&testing::build_info("file"), &hook).await.unwrap().unwrap();
    assert_eq!(hook.1.load(std::sync::atomic::Ordering::SeqCst), 1);
    artifact
}

#[tokio::test]
async fn content_source_and_neither_make_the_target() {
    let dir = testing::scratch_dir("file-builder");
    let target = dir.join("deep/new/dir/out.txt");
    let b = prepare_src(&format!("target = \"{}\"\ncontent = \"Lorem ipsum\\n\"\n", target.display())).unwrap();
    let a = build(&b, &target).await;
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "Lorem ipsum\n");
    assert_eq!((a.builder_type.as_str(), a.id.as_str(), a.files.len()), ("file", "File", 1));
    assert_eq!(a.files[0].sha256.as_deref(), Some(bake_sdk::artifact::sha256_hex(b"Lorem ipsum\n").as_str()));

    let source = dir.join("src.bin");
    let bytes: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&source, &bytes).unwrap();
    let copy = dir.join("copy.bin");
    let b = prepare_src(&format!("target = \"{}\"\nsource = \"{}\"\n", copy.display(), source.display())).unwrap();
    let a = build(&b, &copy).await;
    assert_eq!(std::fs::read(&copy).unwrap(), bytes);
    assert_eq!(a.files[0].size, bytes.len() as u64);

    // Neither: an empty file, as Packer documents.
    let empty = dir.join("empty");
    let b = prepare_src(&format!("target = \"{}\"\ncontent = \"\"\n", empty.display())).unwrap();
    assert_eq!(b.input, Input::Nothing);
    build(&b, &empty).await;
    assert_eq!(std::fs::read(&empty).unwrap(), b"");
    // Nothing but the targets and the source: no temp files left.
    let mut left: Vec<String> = std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    left.sort();
    assert_eq!(left, ["copy.bin", "deep", "empty", "src.bin"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn mistakes_are_reported_at_their_arguments() {
    let both = prepare_src("target = \"t\"\nsource = \"Cargo.toml\"\ncontent = \"x\"\n").err().unwrap();
    assert!(both.contains("t.pkr.hcl:3:11") && both.contains("both source and content"), "{both}");
    let missing = prepare_src("target = \"t\"\n\nsource = \"no/such/file\"\n").err().unwrap();
    assert!(missing.contains("t.pkr.hcl:3:10") && missing.contains("\"no/such/file\"") && missing.contains("relative to"), "{missing}");
    let dir = prepare_src("target = \"t\"\nsource = \"src\"\n").err().unwrap();
    assert!(dir.contains("not a regular file"), "{dir}");
    let no_target = prepare_src("content = \"x\"\n").err().unwrap();
    assert!(no_target.contains("\"target\" is required"), "{no_target}");
    let typo = prepare_src("target = \"t\"\ncontnet = \"x\"\n").err().unwrap();
    assert!(typo.contains("did you mean \"content\""), "{typo}");
}
