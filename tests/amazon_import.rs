//! The amazon-import post-processor through the real binary, against moto
//! over HTTP: a disk (made here with sfdisk and written with known data,
//! then converted by qemu-img) becomes an AMI through the EBS direct APIs,
//! and the snapshot read back with ListSnapshotBlocks / GetSnapshotBlock is
//! the disk, block for block. (tests/qemu.rs imports the provisioned web
//! image the same way.)

mod util;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use util::moto::{assert_snapshot_is_the_disk, snapshot_blocks, Moto};
use util::TestDir;

const REGION: &str = "us-east-1";
const BLOCK: u64 = 524_288;

/// A 64 MiB GPT disk with an ESP (so it needs UEFI) and data in a few
/// places, the rest zeros; returns its path.
fn make_disk(dir: &TestDir) -> PathBuf {
    let raw = dir.path.join("disk.raw");
    std::fs::File::create(&raw).unwrap().set_len(64 << 20).unwrap();
    let mut sfdisk = Command::new("sfdisk").arg("-q").arg(&raw).stdin(Stdio::piped()).spawn().expect("sfdisk");
    std::io::Write::write_all(
        sfdisk.stdin.as_mut().unwrap(),
        b"label: gpt\nstart=2048, size=16384, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B\ntype=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709\n",
    )
    .unwrap();
    assert!(sfdisk.wait().unwrap().success());
    write_at(&raw, 3 << 20, &pattern(700_000, 1));
    write_at(&raw, 40 << 20, &pattern(BLOCK as usize, 2));
    write_at(&raw, (64 << 20) - 4096, &pattern(4096, 3));
    raw
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| ((i * 31 + seed as usize * 7) % 251) as u8 | 1).collect()
}

fn write_at(path: &Path, offset: u64, data: &[u8]) {
    use std::os::unix::fs::FileExt;
    std::fs::OpenOptions::new().write(true).open(path).unwrap().write_all_at(data, offset).unwrap();
}

fn qemu_img(args: &[&str]) {
    assert!(Command::new("qemu-img").args(args).status().expect("qemu-img (scripts/setup.sh installs qemu-utils)").success(), "qemu-img {args:?}");
}

/// The file builder hands the disk to amazon-import, as the qemu builder's
/// artifact would.
fn template(disk: &str, import: &str) -> String {
    format!(
        r#"
source "file" "disk" {{
  source = "{disk}"
  target = "out/{disk}"
}}

build {{
  sources = ["source.file.disk"]
  post-processors {{
    post-processor "amazon-import" {{
      region = "{REGION}"
      {import}
    }}
    post-processor "manifest" {{
      output = "manifest.json"
    }}
  }}
}}
"#
    )
}

fn bake(dir: &TestDir, moto: &Moto, args: &[&str]) -> util::Run {
    let env = moto.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    dir.bake_env(args, &env)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

/// The region → AMI map of the manifest's last build.
fn images(dir: &TestDir) -> serde_json::Map<String, serde_json::Value> {
    let manifest: serde_json::Value = serde_json::from_str(&dir.read("manifest.json")).unwrap();
    let builds = manifest["builds"].as_array().unwrap();
    builds.last().unwrap()["bake"]["region_images"].as_object().expect("region_images").clone()
}

async fn image(moto: &Moto, region: &str, id: &str) -> aws_sdk_ec2::types::Image {
    let ec2 = aws_sdk_ec2::Client::new(&moto.sdk(region).await);
    ec2.describe_images().image_ids(id).send().await.unwrap().images()[0].clone()
}

fn root_snapshot(image: &aws_sdk_ec2::types::Image) -> String {
    image.block_device_mappings()[0].ebs().and_then(|e| e.snapshot_id()).unwrap().to_string()
}

#[test]
fn a_qcow2_and_a_raw_disk_become_amis_whose_snapshots_are_the_disk() {
    let rt = runtime();
    let moto = Moto::start();
    let dir = TestDir::new("amazon-import");
    let raw = make_disk(&dir);
    // The GPT, the 700 kB over two blocks, the one block, the last block
    // (its data and the backup GPT): of 128.
    let data_blocks = 5;
    qemu_img(&["convert", "-q", "-c", "-f", "raw", "-O", "qcow2", raw.to_str().unwrap(), dir.path.join("disk.qcow2").to_str().unwrap()]);

    for disk in ["disk.qcow2", "disk.raw"] {
        let name = format!("imported-{}", disk.replace('.', "-"));
        let import = format!("ami_name = \"{name}\"\n    ami_regions = [\"eu-west-1\"]\n    ssm_parameter = \"/images/{name}/latest\"\n    tags = {{ Role = \"web\", Built = \"{{{{ .BuildRegion }}}}\" }}");
        dir.write("t.pkr.hcl", &template(disk, &import));
        let run = bake(&dir, &moto, &["build", "-color=false", "t.pkr.hcl"]);
        run.success().contains("boot mode uefi").contains(&format!("{data_blocks} blocks sent")).contains("zero blocks skipped");
        let images = images(&dir);
        assert_eq!(images.keys().cloned().collect::<Vec<_>>(), ["eu-west-1", "us-east-1"], "{disk}");
        for (region, id) in &images {
            let id = id.as_str().unwrap();
            rt.block_on(async {
                let image = image(&moto, region, id).await;
                assert_eq!(image.name(), Some(name.as_str()));
                assert_eq!(image.boot_mode().map(|m| m.as_str()), Some("uefi"), "{disk} in {region}: the boot mode the disk needs");
                assert_eq!(image.virtualization_type().map(|v| v.as_str()), Some("hvm"));
                assert_eq!(image.ena_support(), Some(true));
                let tags: Vec<(String, String)> = image.tags().iter().map(|t| (t.key().unwrap().into(), t.value().unwrap().into())).collect();
                assert!(tags.contains(&("Role".into(), "web".into())) && tags.contains(&("Built".into(), REGION.into())), "{tags:?}");
                assert!(!tags.iter().any(|(k, _)| k == "bake:run"), "a finished AMI is not temporary: {tags:?}");
                let blocks = snapshot_blocks(&moto.sdk(region).await, &root_snapshot(&image)).await;
                assert_eq!(assert_snapshot_is_the_disk(&blocks, &raw), data_blocks, "{disk} in {region}");
                let ssm = aws_sdk_ssm::Client::new(&moto.sdk(region).await);
                let parameter = ssm.get_parameter().name(format!("/images/{name}/latest")).send().await.unwrap();
                assert_eq!(parameter.parameter().and_then(|p| p.value()), Some(id), "the SSM parameter names the AMI");
            });
        }
    }
}

#[test]
fn a_nightly_rebuild_with_a_parent_snapshot_sends_only_its_delta() {
    let rt = runtime();
    let moto = Moto::start();
    let dir = TestDir::new("amazon-import-delta");
    let cache = dir.path.join("cache");
    let raw = make_disk(&dir);
    let env = moto.env();
    let mut env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let cache_str = cache.to_str().unwrap().to_string();
    env.push(("XDG_CACHE_HOME", &cache_str));

    dir.write("t.pkr.hcl", &template("disk.raw", "ami_name = \"web-20261203\"\n    parent_snapshot = \"auto\""));
    dir.bake_env(&["build", "-color=false", "t.pkr.hcl"], &env).success().contains("no earlier snapshot of \"web\"").contains("5 blocks sent");
    let first = images(&dir)[REGION].as_str().unwrap().to_string();
    let parent = rt.block_on(async { root_snapshot(&image(&moto, REGION, &first).await) });

    // The next night: one block changed.
    write_at(&raw, 40 << 20, &pattern(1000, 9));
    dir.write("t.pkr.hcl", &template("disk.raw", "ami_name = \"web-20261204\"\n    parent_snapshot = \"auto\""));
    let run = dir.bake_env(&["build", "-color=false", "t.pkr.hcl"], &env);
    run.success().contains(&format!("parent snapshot {parent}: only the blocks that differ are sent")).contains("1 blocks sent").contains("4 unchanged");
    let second = images(&dir)[REGION].as_str().unwrap().to_string();
    assert_ne!(first, second);
    // moto keeps a child snapshot's own blocks only (it ignores
    // ParentSnapshotId): what was sent is the changed block, as it is now.
    let blocks = rt.block_on(async { snapshot_blocks(&moto.sdk(REGION).await, &root_snapshot(&image(&moto, REGION, &second).await)).await });
    assert_eq!(blocks.keys().copied().collect::<Vec<_>>(), [(40 << 20) / BLOCK]);
    let mut expected = pattern(BLOCK as usize, 2);
    expected[..1000].copy_from_slice(&pattern(1000, 9));
    assert!(blocks[&((40 << 20) / BLOCK)] == expected);
}

#[test]
fn a_name_that_exists_fails_before_any_upload() {
    let rt = runtime();
    let moto = Moto::start();
    let dir = TestDir::new("amazon-import-name");
    make_disk(&dir);
    dir.write("t.pkr.hcl", &template("disk.raw", "ami_name = \"web-1\""));
    bake(&dir, &moto, &["build", "-color=false", "t.pkr.hcl"]).success();
    let run = bake(&dir, &moto, &["build", "-color=false", "t.pkr.hcl"]);
    run.failure().contains("an AMI named \"web-1\" exists already in us-east-1").lacks("blocks sent");
    let snapshots = rt.block_on(async {
        let ec2 = aws_sdk_ec2::Client::new(&moto.sdk(REGION).await);
        let out = ec2
            .describe_snapshots()
            .owner_ids("self")
            .filters(aws_sdk_ec2::types::Filter::builder().name("tag-key").values("bake:family").build())
            .send()
            .await
            .unwrap();
        out.snapshots().len()
    });
    assert_eq!(snapshots, 1, "the second run uploaded nothing");
}

// --- Packer's route: S3, then ImportImage (which moto lacks: the test's
// moto answers that one service, see tests/util/moto_server.py) ---

const BUCKET: &str = "bake-imports";
const ORG: &str = "arn:aws:organizations::123456789012:organization/o-images";

async fn create_bucket(moto: &Moto) {
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&moto.sdk(REGION).await).force_path_style(true).build());
    s3.create_bucket().bucket(BUCKET).send().await.expect("create the bucket");
}

/// What is in moto: AMIs and snapshots in `regions`, objects and
/// unfinished uploads in the bucket, import tasks still active. (moto
/// starts with snapshots of its own: compare with what was there before.)
async fn s3_route_resources(moto: &Moto, regions: &[&str]) -> Vec<String> {
    let mut left = Vec::new();
    for region in regions {
        let ec2 = aws_sdk_ec2::Client::new(&moto.sdk(region).await);
        let images = ec2.describe_images().owners("self").send().await.unwrap();
        left.extend(images.images().iter().map(|i| format!("{region}: AMI {} ({})", i.image_id().unwrap(), i.name().unwrap_or_default())));
        let snapshots = ec2.describe_snapshots().owner_ids("self").send().await.unwrap();
        left.extend(snapshots.snapshots().iter().map(|s| format!("{region}: snapshot {}", s.snapshot_id().unwrap())));
        let tasks = ec2.describe_import_image_tasks().send().await.unwrap();
        left.extend(
            tasks
                .import_image_tasks()
                .iter()
                .filter(|t| t.status() == Some("active"))
                .map(|t| format!("{region}: import task {}", t.import_task_id().unwrap())),
        );
    }
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&moto.sdk(REGION).await).force_path_style(true).build());
    let objects = s3.list_objects_v2().bucket(BUCKET).send().await.unwrap();
    left.extend(objects.contents().iter().map(|o| format!("object {}", o.key().unwrap())));
    let uploads = s3.list_multipart_uploads().bucket(BUCKET).send().await.unwrap();
    left.extend(uploads.uploads().iter().map(|u| format!("unfinished upload of {}", u.key().unwrap())));
    left.sort();
    left
}

/// What the runs since `before` left.
async fn s3_route_leftovers(moto: &Moto, regions: &[&str], before: &[String]) -> Vec<String> {
    s3_route_resources(moto, regions).await.into_iter().filter(|r| !before.contains(r)).collect()
}

const S3_ROUTE: &str = "s3_bucket_name = \"bake-imports\"\n    s3_key_name = \"web/{{timestamp}}.raw\"\n    format = \"raw\"\n    platform = \"linux\"\n    aws_polling {\n      delay_seconds = 1\n    }";

#[test]
fn packers_s3_route_imports_a_qcow2_as_raw_and_leaves_only_the_named_amis() {
    let rt = runtime();
    let moto = Moto::start();
    rt.block_on(create_bucket(&moto));
    let before = rt.block_on(s3_route_resources(&moto, &[REGION, "eu-west-1"]));
    let dir = TestDir::new("amazon-import-s3");
    let raw = make_disk(&dir);
    qemu_img(&["convert", "-q", "-f", "raw", "-O", "qcow2", raw.to_str().unwrap(), dir.path.join("disk.qcow2").to_str().unwrap()]);
    let import = format!(
        "{S3_ROUTE}\n    ami_name = \"web-s3\"\n    ami_regions = [\"eu-west-1\"]\n    ssm_parameter = \"/images/web/latest\"\n    tags = {{ Role = \"web\" }}\n    ami_org_arns = [\"{ORG}\"]"
    );
    dir.write("t.pkr.hcl", &template("disk.qcow2", &import));
    let run = bake(&dir, &moto, &["build", "-color=false", "t.pkr.hcl"]);
    // The whole disk is sent (S3 has no sparse objects): 64 MiB in 4 parts.
    run.success()
        .contains("Uploading the disk to S3")
        .contains("s3://bake-imports/web/")
        .contains("4 parts, 64.0 MiB sent")
        .contains(": active (converting), 40%")
        .contains("imported the disk as ami-")
        .contains("removed the imported ami-")
        .contains("removed s3://bake-imports/web/");
    let images = images(&dir);
    assert_eq!(images.keys().cloned().collect::<Vec<_>>(), ["eu-west-1", "us-east-1"]);
    let mut keep = Vec::new();
    for (region, id) in &images {
        let id = id.as_str().unwrap();
        rt.block_on(async {
            let image = image(&moto, region, id).await;
            assert_eq!(image.name(), Some("web-s3"), "renamed by the copy");
            assert_eq!(image.boot_mode().map(|m| m.as_str()), Some("uefi"), "{region}: the boot mode the disk needs");
            let tags: Vec<(String, String)> = image.tags().iter().map(|t| (t.key().unwrap().into(), t.value().unwrap().into())).collect();
            assert!(tags.contains(&("Role".into(), "web".into())) && !tags.iter().any(|(k, _)| k.starts_with("bake:")), "{tags:?}");
            let snapshot = root_snapshot(&image);
            let ec2 = aws_sdk_ec2::Client::new(&moto.sdk(region).await);
            let described = ec2.describe_snapshots().snapshot_ids(&snapshot).send().await.unwrap();
            let snapshot_tags: Vec<(&str, &str)> = described.snapshots()[0].tags().iter().map(|t| (t.key().unwrap(), t.value().unwrap())).collect();
            assert_eq!(snapshot_tags, [("Role", "web")], "{region}: Packer's amazon-import tags the snapshot alike, and bake's own tags are gone");
            let blocks = snapshot_blocks(&moto.sdk(region).await, &snapshot).await;
            assert_eq!(assert_snapshot_is_the_disk(&blocks, &raw), 5, "{region}: the imported snapshot is the disk");
            let shared = ec2.describe_image_attribute().image_id(id).attribute(aws_sdk_ec2::types::ImageAttributeName::LaunchPermission).send().await.unwrap();
            let orgs: Vec<_> = shared.launch_permissions().iter().filter_map(|p| p.organization_arn()).collect();
            assert_eq!(orgs, [ORG], "{region}: shared with the organization");
            let ssm = aws_sdk_ssm::Client::new(&moto.sdk(region).await);
            let parameter = ssm.get_parameter().name("/images/web/latest").send().await.unwrap();
            assert_eq!(parameter.parameter().and_then(|p| p.value()), Some(id));
            keep.push(format!("{region}: AMI {id} (web-s3)"));
            keep.push(format!("{region}: snapshot {snapshot}"));
        });
    }
    let left = rt.block_on(s3_route_leftovers(&moto, &[REGION, "eu-west-1"], &before));
    keep.sort();
    assert_eq!(left, keep, "the named AMIs and their snapshots, nothing else: no import-ami-…, no object, no upload");
}

#[test]
fn a_disk_vm_import_cannot_boot_fails_with_its_reason_and_leaves_nothing() {
    let rt = runtime();
    let moto = Moto::start();
    rt.block_on(create_bucket(&moto));
    let before = rt.block_on(s3_route_resources(&moto, &[REGION]));
    let dir = TestDir::new("amazon-import-s3-fail");
    // Data, but no partition table: VM Import finds no OS in it. (Its size
    // is no whole number of blocks: one short last part.)
    let raw = dir.path.join("disk.raw");
    std::fs::File::create(&raw).unwrap().set_len((8 << 20) + 1000).unwrap();
    write_at(&raw, 1 << 20, &pattern(4096, 5));
    dir.write("t.pkr.hcl", &template("disk.raw", &format!("{S3_ROUTE}\n    ami_name = \"web-s3\"")));
    let run = bake(&dir, &moto, &["build", "-color=false", "t.pkr.hcl"]);
    run.failure().contains(": 1 parts, 8.0 MiB sent").contains("ClientError: Unknown OS / Missing OS files.").contains("removed s3://bake-imports/web/");
    assert_eq!(rt.block_on(s3_route_leftovers(&moto, &[REGION], &before)), Vec::<String>::new());
}

#[test]
fn ctrl_c_during_the_import_cancels_it_and_kill_9_leaves_it_to_bake_cleanup() {
    let rt = runtime();
    let moto = Moto::start();
    rt.block_on(create_bucket(&moto));
    let before = rt.block_on(s3_route_resources(&moto, &[REGION]));
    let dir = TestDir::new("amazon-import-s3-interrupt");
    make_disk(&dir);
    // Slow polls: the import is still going when the signal comes.
    let slow = S3_ROUTE.replace("delay_seconds = 1", "delay_seconds = 30");
    dir.write("t.pkr.hcl", &template("disk.raw", &format!("{slow}\n    ami_name = \"web-s3\"")));
    let env = moto.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let output = util::interrupt_build_with(&dir, &env, "importing s3://", std::time::Duration::from_millis(500), || {});
    assert!(output.contains("cancelled the import task import-ami-") && output.contains("removed s3://bake-imports/web/"), "{output}");
    assert_eq!(rt.block_on(s3_route_leftovers(&moto, &[REGION], &before)), Vec::<String>::new(), "{output}");

    // kill -9 in the same place: the journal knows the object and the task.
    let mut child = dir.command(&["build", "-color=false", "t.pkr.hcl"], &env).stdout(Stdio::piped()).spawn().unwrap();
    {
        use std::io::BufRead;
        let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        for line in stdout.lines().map_while(Result::ok) {
            if line.contains("importing s3://") {
                break;
            }
        }
    }
    util::signal(child.id(), 9);
    child.wait().unwrap();
    let killed = rt.block_on(s3_route_leftovers(&moto, &[REGION], &before));
    assert!(killed.iter().any(|l| l.contains("import task")) && killed.iter().any(|l| l.contains("object web/")), "kill -9 left them: {killed:?}");
    dir.bake_env(&["cleanup"], &env).success().contains("aws:import_task").contains("aws:s3_object");
    assert_eq!(rt.block_on(s3_route_leftovers(&moto, &[REGION], &before)), Vec::<String>::new());
}
