//! The amazon-ebs builder through the real binary, against moto (the AWS
//! API emulator) over HTTP, each test with a moto of its own.
//!
//! moto's instances do not boot, so SSH goes to a real OpenSSH server the
//! test starts (`ssh_host` / `ssh_port`); the temporary key pair's public
//! key is authorized on it as soon as it exists in EC2, as EC2 hands it to
//! a real instance. After every build the test asks moto, in every region,
//! what is left.

#[path = "../sdk/tests/sshd/mod.rs"]
mod sshd;
mod util;

use aws_sdk_ec2::types::{Filter, InstanceStateName};
use sshd::Sshd;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use util::moto::{Hold, Moto};
use util::TestDir;

const REGION: &str = "us-east-1";
const COPIES: [&str; 2] = ["eu-west-1", "us-west-2"];
const SOURCE_NAME: &str = "debian-12-amd64-20261201";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

async fn ec2(moto: &Moto, region: &str) -> aws_sdk_ec2::Client {
    aws_sdk_ec2::Client::new(&moto.sdk(region).await)
}

/// Registers the source AMI (and, with `name`, an AMI the build's name
/// clashes with); returns its id.
async fn register(moto: &Moto, name: &str) -> String {
    let root = aws_sdk_ec2::types::BlockDeviceMapping::builder()
        .device_name("/dev/xvda")
        .ebs(aws_sdk_ec2::types::EbsBlockDevice::builder().volume_size(8).build())
        .build();
    let out =
        ec2(moto, REGION).await.register_image().name(name).root_device_name("/dev/xvda").block_device_mappings(root).send().await.expect("register an image");
    out.image_id.expect("an image id")
}

/// What bake could have left in one region: instances not terminated, key
/// pairs, security groups other than the default, AMIs and snapshots
/// (but those in `keep`: the source AMI and its snapshot).
async fn leftovers(moto: &Moto, region: &str, keep: &BTreeSet<String>) -> Vec<String> {
    let ec2 = ec2(moto, region).await;
    let mut left = Vec::new();
    let instances = ec2.describe_instances().send().await.unwrap();
    for i in instances.reservations().iter().flat_map(|r| r.instances()) {
        if i.state().and_then(|s| s.name()) != Some(&InstanceStateName::Terminated) {
            left.push(format!("instance {}", i.instance_id().unwrap_or_default()));
        }
    }
    for k in ec2.describe_key_pairs().send().await.unwrap().key_pairs() {
        left.push(format!("key pair {}", k.key_name().unwrap_or_default()));
    }
    for g in ec2.describe_security_groups().send().await.unwrap().security_groups() {
        if g.group_name() != Some("default") {
            left.push(format!("security group {} {}", g.group_id().unwrap_or_default(), g.group_name().unwrap_or_default()));
        }
    }
    for i in ec2.describe_images().owners("self").send().await.unwrap().images() {
        let id = i.image_id().unwrap_or_default().to_string();
        if !keep.contains(&id) {
            left.push(format!("AMI {id} {}", i.name().unwrap_or_default()));
        }
    }
    for s in ec2.describe_snapshots().owner_ids("self").send().await.unwrap().snapshots() {
        let id = s.snapshot_id().unwrap_or_default().to_string();
        if !keep.contains(&id) {
            left.push(format!("snapshot {id}"));
        }
    }
    left.into_iter().map(|l| format!("{region}: {l}")).collect()
}

async fn all_leftovers(moto: &Moto, keep: &BTreeSet<String>) -> Vec<String> {
    let mut left = Vec::new();
    for region in std::iter::once(REGION).chain(COPIES) {
        left.extend(leftovers(moto, region, keep).await);
    }
    left
}

/// What the account holds before bake runs: the source AMI, and the
/// AMIs and snapshots moto starts every region with.
async fn source_resources(moto: &Moto, source: &str) -> BTreeSet<String> {
    let mut keep = BTreeSet::from([source.to_string()]);
    for region in std::iter::once(REGION).chain(COPIES) {
        let ec2 = ec2(moto, region).await;
        for s in ec2.describe_snapshots().owner_ids("self").send().await.unwrap().snapshots() {
            keep.insert(s.snapshot_id().unwrap_or_default().to_string());
        }
        for i in ec2.describe_images().owners("self").send().await.unwrap().images() {
            keep.insert(i.image_id().unwrap_or_default().to_string());
        }
    }
    keep
}

/// Plays EC2's part of a temporary key pair: authorizes each key pair's
/// public key on the test's sshd as soon as it exists, until dropped.
struct KeyPairsToSshd {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl KeyPairsToSshd {
    fn start(moto: &Moto, server: &Sshd) -> KeyPairsToSshd {
        let stop = Arc::new(AtomicBool::new(false));
        let (endpoint, dir, flag) = (moto.endpoint.clone(), server.dir.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                let moto = Moto::attach(endpoint);
                let ec2 = ec2(&moto, REGION).await;
                let mut seen = BTreeSet::new();
                while !flag.load(Ordering::SeqCst) {
                    if let Ok(out) = ec2.describe_key_pairs().include_public_key(true).send().await {
                        for k in out.key_pairs() {
                            if let (Some(name), Some(public)) = (k.key_name(), k.public_key()) {
                                if seen.insert(name.to_string()) {
                                    sshd::authorize_in(&dir, public);
                                }
                            }
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            });
        });
        KeyPairsToSshd { stop, thread: Some(thread) }
    }
}

impl Drop for KeyPairsToSshd {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn template(server: &Sshd, extra: &str, provisioner: &str) -> String {
    format!(
        r#"
source "amazon-ebs" "web" {{
  region        = "{REGION}"
  instance_type = "t3.micro"
  ami_name      = "web-1"
  ami_regions   = ["us-west-2", "eu-west-1"]

  source_ami_filter {{
    filters     = {{ name = "debian-12-amd64-*" }}
    owners      = ["self"]
    most_recent = true
  }}

  ssh_username            = "{user}"
  ssh_host                = "127.0.0.1"
  ssh_port                = {port}
  ssh_timeout             = "60s"
  temporary_key_pair_type = "ed25519"

  tags = {{
    Name       = "web"
    Base       = "{{{{ .SourceAMIName }}}}"
    BuiltIn    = "{{{{ .BuildRegion }}}}"
  }}
  snapshot_tags = {{ Role = "web-root" }}
  aws_polling {{
    delay_seconds = 1
    max_attempts  = 600
  }}
  {extra}
}}

build {{
  sources = ["source.amazon-ebs.web"]
  {provisioner}
  post-processor "manifest" {{
    output = "manifest.json"
  }}
}}
"#,
        user = server.user,
        port = server.port,
    )
}

/// Leaves a marker in the server's directory: proof that it ran there.
const PROVISION: &str = r#"provisioner "shell" { inline = ["echo built from ${build.SourceAMIName} in ${build.BuildRegion} > MARKER"] }"#;

fn provision(server: &Sshd) -> String {
    PROVISION.replace("MARKER", &server.home.join("marker").display().to_string())
}

/// The login's home directory, where the example's provisioner writes.
fn home_of(user: &str) -> std::path::PathBuf {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    let entry = passwd.lines().find(|l| l.split(':').next() == Some(user)).unwrap_or_else(|| panic!("{user} is not in /etc/passwd"));
    std::path::PathBuf::from(entry.split(':').nth(5).unwrap())
}

fn env(moto: &Moto) -> Vec<(&'static str, String)> {
    moto.env()
}

fn bake(dir: &TestDir, moto: &Moto, args: &[&str]) -> util::Run {
    let env = env(moto);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    dir.bake_env(args, &env)
}

#[test]
fn builds_an_ami_copies_it_and_leaves_nothing_else() {
    let rt = runtime();
    let moto = Moto::start();
    let server = Sshd::start();
    let source = rt.block_on(register(&moto, SOURCE_NAME));
    let keep = rt.block_on(source_resources(&moto, &source));
    let dir = TestDir::new("amazon-ebs");
    dir.write("t.pkr.hcl", &template(&server, r#"ssm_parameter = "/images/web/latest""#, &provision(&server)));
    let keys = KeyPairsToSshd::start(&moto, &server);
    let run = bake(&dir, &moto, &["build", "-color=false", "t.pkr.hcl"]);
    drop(keys);
    run.success()
        .contains("Warning: the temporary security group lets SSH")
        .contains("temporary_security_group_source_cidrs")
        .contains("Provisioning with shell")
        .contains("AMIs were created:");

    // Provisioned over SSH with the temporary key pair, and the source
    // AMI's facts reached the provisioner.
    let marker = std::fs::read_to_string(server.home.join("marker")).expect("the provisioner ran on the SSH server");
    assert_eq!(marker.trim(), format!("built from {SOURCE_NAME} in {REGION}"));

    // The AMI in all three regions, tagged, no longer temporary.
    let manifest: serde_json::Value = serde_json::from_str(&dir.read("manifest.json")).unwrap();
    let build = &manifest["builds"][0];
    let images = build["bake"]["region_images"].as_object().expect("region_images").clone();
    assert_eq!(images.keys().cloned().collect::<Vec<_>>(), ["eu-west-1", "us-east-1", "us-west-2"]);
    let expected_id: Vec<String> = images.iter().map(|(r, a)| format!("{r}:{}", a.as_str().unwrap())).collect();
    assert_eq!(build["artifact_id"], expected_id.join(","));
    for (region, ami) in &images {
        let ami = ami.as_str().unwrap();
        let artifacts = bake(&dir, &moto, &["artifacts", "--manifest", "manifest.json", "--region", region]);
        assert_eq!(artifacts.success().stdout.trim(), ami, "bake artifacts --region {region}");
        rt.block_on(async {
            let ec2 = ec2(&moto, region).await;
            let image = ec2.describe_images().image_ids(ami).send().await.unwrap().images()[0].clone();
            assert_eq!(image.name(), Some("web-1"));
            let tags: std::collections::BTreeMap<_, _> = image.tags().iter().map(|t| (t.key().unwrap().to_string(), t.value().unwrap().to_string())).collect();
            assert_eq!(tags.get("Base").map(String::as_str), Some(SOURCE_NAME), "{region}: {tags:?}");
            assert_eq!(tags.get("BuiltIn").map(String::as_str), Some(REGION), "{region}: {tags:?}");
            assert!(!tags.contains_key("bake:run"), "a finished AMI is not temporary: {tags:?}");
            let ssm = aws_sdk_ssm::Client::new(&moto.sdk(region).await);
            let parameter = ssm.get_parameter().name("/images/web/latest").send().await.unwrap();
            assert_eq!(parameter.parameter().and_then(|p| p.value()), Some(ami), "{region}: the SSM parameter names the new AMI");
        });
    }

    // Nothing else is left: no instance, key pair or group, no other AMI.
    let mut keep = keep;
    keep.extend(images.values().map(|v| v.as_str().unwrap().to_string()));
    let left = rt.block_on(async {
        let mut left = all_leftovers(&moto, &keep).await;
        left.retain(|l| !l.contains("snapshot"));
        left
    });
    assert!(left.is_empty(), "left behind: {left:#?}");
    let journal = dir.path.join(".bake-state/journal");
    assert_eq!(std::fs::read_dir(&journal).map(|d| d.count()).unwrap_or(0), 0, "the journal is released");

    // An autoscaling group's launch template takes the manifest's AMI, and
    // the instances it launches run it.
    let ami = images[REGION].as_str().unwrap().to_string();
    rt.block_on(async {
        let sdk = moto.sdk(REGION).await;
        let ec2 = aws_sdk_ec2::Client::new(&sdk);
        let data = aws_sdk_ec2::types::RequestLaunchTemplateData::builder().image_id(&ami).instance_type(aws_sdk_ec2::types::InstanceType::T3Micro).build();
        ec2.create_launch_template().launch_template_name("web").launch_template_data(data).send().await.unwrap();
        let asg = aws_sdk_autoscaling::Client::new(&sdk);
        let template = aws_sdk_autoscaling::types::LaunchTemplateSpecification::builder().launch_template_name("web").version("$Latest").build();
        asg.create_auto_scaling_group()
            .auto_scaling_group_name("web")
            .launch_template(template)
            .min_size(2)
            .max_size(2)
            .desired_capacity(2)
            .availability_zones("us-east-1a")
            .send()
            .await
            .unwrap();
        let groups = asg.describe_auto_scaling_groups().auto_scaling_group_names("web").send().await.unwrap();
        let ids: Vec<String> = groups.auto_scaling_groups()[0].instances().iter().filter_map(|i| i.instance_id()).map(str::to_string).collect();
        assert_eq!(ids.len(), 2, "the group launched its instances");
        let described = ec2.describe_instances().set_instance_ids(Some(ids)).send().await.unwrap();
        for i in described.reservations().iter().flat_map(|r| r.instances()) {
            assert_eq!(i.image_id(), Some(ami.as_str()), "an instance of the group runs the new AMI");
        }
    });
}

#[test]
fn a_failing_provisioner_leaves_nothing() {
    let rt = runtime();
    let moto = Moto::start();
    let server = Sshd::start();
    let source = rt.block_on(register(&moto, SOURCE_NAME));
    let keep = rt.block_on(source_resources(&moto, &source));
    let dir = TestDir::new("amazon-ebs-fail");
    dir.write("t.pkr.hcl", &template(&server, "", r#"provisioner "shell" { inline = ["echo about to fail", "exit 3"] }"#));
    let keys = KeyPairsToSshd::start(&moto, &server);
    let run = bake(&dir, &moto, &["build", "-color=false", "t.pkr.hcl"]);
    drop(keys);
    run.failure().contains("about to fail").contains("Terminated i-").contains("Deleted the key pair").contains("Deleted the security group");
    let left = rt.block_on(all_leftovers(&moto, &keep));
    assert!(left.is_empty(), "left behind: {left:#?}");
}

#[test]
fn ctrl_c_while_the_copies_are_pending_removes_the_partial_amis_in_every_region() {
    let rt = runtime();
    let moto = Moto::holding(Hold::Copies);
    let server = Sshd::start();
    let source = rt.block_on(register(&moto, SOURCE_NAME));
    let keep = rt.block_on(source_resources(&moto, &source));
    let dir = TestDir::new("amazon-ebs-sigint");
    dir.write("t.pkr.hcl", &template(&server, "", &provision(&server)));
    let keys = KeyPairsToSshd::start(&moto, &server);
    let env = env(&moto);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut pending = Vec::new();
    let output = util::interrupt_build_with(&dir, &env, "to become available in us-west-2: pending", Duration::from_millis(500), || {
        pending = rt.block_on(all_leftovers(&moto, &keep));
    });
    drop(keys);
    for region in std::iter::once(REGION).chain(COPIES) {
        assert!(pending.iter().any(|l| l.starts_with(&format!("{region}: AMI"))), "a partial AMI in {region} before Ctrl-C: {pending:#?}");
    }
    assert!(output.contains("deregistered the partial AMI"), "{output}");
    let left = rt.block_on(all_leftovers(&moto, &keep));
    assert!(left.is_empty(), "left behind after Ctrl-C: {left:#?}\n{output}");
}

#[test]
fn after_kill_9_the_tag_sweep_and_the_journal_leave_nothing() {
    let rt = runtime();
    let moto = Moto::holding(Hold::All);
    let server = Sshd::start();
    let source = rt.block_on(register(&moto, SOURCE_NAME));
    let keep = rt.block_on(source_resources(&moto, &source));
    let dir = TestDir::new("amazon-ebs-kill");
    dir.write("t.pkr.hcl", &template(&server, "", &provision(&server)));
    let keys = KeyPairsToSshd::start(&moto, &server);
    let env = env(&moto);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut child = dir.command(&["build", "-color=false", "t.pkr.hcl"], &env).stdout(std::process::Stdio::piped()).spawn().unwrap();
    {
        use std::io::BufRead;
        let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        for line in stdout.lines().map_while(Result::ok) {
            if line.contains("to become available in us-east-1: pending") {
                break;
            }
        }
    }
    util::signal(child.id(), 9);
    child.wait().unwrap();
    drop(keys);
    let before = rt.block_on(all_leftovers(&moto, &keep));
    for what in ["instance", "key pair", "security group", "AMI"] {
        assert!(before.iter().any(|l| l.contains(what)), "kill -9 left a {what}: {before:#?}");
    }

    // Another machine (a state directory without the journal) finds it all
    // by its tags; a sweep of younger resources than an hour takes nothing.
    let other = TestDir::new("amazon-ebs-sweeper");
    let regions = format!("{REGION},{}", COPIES.join(","));
    let young = other.bake_env(&["cleanup", "-aws", "-regions", &regions, "-older-than", "1h"], &env);
    young.success().contains("nothing bake made before");
    assert_eq!(rt.block_on(all_leftovers(&moto, &keep)).len(), before.len(), "nothing younger than an hour is swept");
    let sweep = other.bake_env(&["cleanup", "-aws", "-regions", &regions, "-older-than", "0s"], &env);
    sweep
        .success()
        .contains("removed aws:instance i-")
        .contains("removed aws:image ami-")
        .contains("removed aws:key_pair bake_web_")
        .contains("removed aws:security_group sg-");
    let left = rt.block_on(all_leftovers(&moto, &keep));
    assert!(left.is_empty(), "left after the sweep: {left:#?}\n{}", sweep.all());

    // The dead run's own journal then finds its resources gone, and is done.
    let cleanup = bake(&dir, &moto, &["cleanup"]);
    cleanup.success().contains("Cleanup done:").contains("0 left");
    assert_eq!(std::fs::read_dir(dir.path.join(".bake-state/journal")).map(|d| d.count()).unwrap_or(0), 0);
}

#[test]
fn a_taken_name_fails_before_anything_is_made_unless_force_deregister() {
    let rt = runtime();
    let moto = Moto::start();
    let server = Sshd::start();
    let source = rt.block_on(register(&moto, SOURCE_NAME));
    let old = rt.block_on(register(&moto, "web-1"));
    let mut keep = rt.block_on(source_resources(&moto, &source));
    keep.insert(old.clone());
    let dir = TestDir::new("amazon-ebs-name");
    dir.write("t.pkr.hcl", &template(&server, "", &provision(&server)));
    let run = bake(&dir, &moto, &["build", "-color=false", "t.pkr.hcl"]);
    run.failure().contains("an AMI named \"web-1\" exists already in us-east-1").contains(&old).contains("force_deregister = true");
    let left = rt.block_on(all_leftovers(&moto, &keep));
    assert!(left.is_empty(), "a failed name check made nothing: {left:#?}");

    dir.write("t.pkr.hcl", &template(&server, "force_deregister = true\n  force_delete_snapshot = true", &provision(&server)));
    let keys = KeyPairsToSshd::start(&moto, &server);
    let run = bake(&dir, &moto, &["build", "-color=false", "t.pkr.hcl"]);
    drop(keys);
    run.success().contains(&format!("deregistered {old}"));
    let named = rt.block_on(async {
        let ec2 = ec2(&moto, REGION).await;
        let out = ec2.describe_images().owners("self").filters(Filter::builder().name("name").values("web-1").build()).send().await.unwrap();
        out.images().iter().map(|i| i.image_id().unwrap_or_default().to_string()).collect::<Vec<_>>()
    });
    assert_eq!(named.len(), 1, "one AMI has the name: {named:?}");
    assert_ne!(named[0], old, "it is the new one");
}

#[test]
fn a_wait_that_gives_up_says_what_it_waited_for_and_the_last_state() {
    let rt = runtime();
    let moto = Moto::holding(Hold::All);
    let server = Sshd::start();
    let source = rt.block_on(register(&moto, SOURCE_NAME));
    let keep = rt.block_on(source_resources(&moto, &source));
    let dir = TestDir::new("amazon-ebs-gives-up");
    let text = template(&server, "", &provision(&server)).replace("max_attempts  = 600", "max_attempts  = 3");
    dir.write("t.pkr.hcl", &text);
    let keys = KeyPairsToSshd::start(&moto, &server);
    let run = bake(&dir, &moto, &["build", "-color=false", "t.pkr.hcl"]);
    drop(keys);
    run.failure()
        .contains("gave up waiting for AMI ami-")
        .contains("to become available in us-east-1 after")
        .contains("3 checks (aws_polling.max_attempts)")
        .contains("the last state seen: pending");
    let left = rt.block_on(all_leftovers(&moto, &keep));
    assert!(left.is_empty(), "left behind: {left:#?}");
}

fn repo(rel: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

#[test]
fn the_starter_template_validates_and_the_example_builds() {
    let dir = TestDir::new("amazon-ebs-init");
    dir.bake(&["init", "--list"]).success().contains("amazon-ebs ");
    dir.bake(&["init", "--template", "amazon-ebs", "."]).success();
    assert_eq!(dir.read("amazon-ebs.pkr.hcl"), std::fs::read_to_string(repo("templates/amazon-ebs.pkr.hcl")).unwrap());
    dir.bake(&["validate", "amazon-ebs.pkr.hcl"]).success();

    let rt = runtime();
    let moto = Moto::start();
    let server = Sshd::start();
    let source = rt.block_on(register(&moto, SOURCE_NAME));
    let keep = rt.block_on(source_resources(&moto, &source));
    let keys = KeyPairsToSshd::start(&moto, &server);
    let example = repo("examples/amazon-ebs.pkr.hcl");
    let port = server.port.to_string();
    let run = bake(
        &dir,
        &moto,
        &[
            "build",
            "-color=false",
            "-var",
            "copy_regions=[\"eu-west-1\"]",
            "-var",
            "source_owners=[\"self\"]",
            "-var",
            "ssh_cidrs=[\"127.0.0.1/32\"]",
            "-var",
            "ssh_host=127.0.0.1",
            "-var",
            &format!("ssh_port={port}"),
            "-var",
            &format!("ssh_username={}", server.user),
            example.to_str().unwrap(),
        ],
    );
    drop(keys);
    run.success().lacks("Warning: the temporary security group");
    let marker = home_of(&server.user).join("built-by-bake");
    let built = std::fs::read_to_string(&marker).expect("the example's provisioner ran");
    let _ = std::fs::remove_file(&marker);
    assert_eq!(built.trim(), format!("web built by bake from {SOURCE_NAME}"));
    let ami = bake(&dir, &moto, &["artifacts", "web", "--manifest", "manifest.json", "--region", "eu-west-1"]);
    let ami = ami.success().stdout.trim().to_string();
    assert!(ami.starts_with("ami-"), "{ami}");
    rt.block_on(async {
        let ec2 = ec2(&moto, "eu-west-1").await;
        let image = ec2.describe_images().image_ids(&ami).send().await.unwrap().images()[0].clone();
        assert!(image.name().is_some_and(|n| n.starts_with("web-")), "{image:?}");
        let ssm = aws_sdk_ssm::Client::new(&moto.sdk("eu-west-1").await);
        assert_eq!(ssm.get_parameter().name("/images/web/latest").send().await.unwrap().parameter().and_then(|p| p.value()), Some(ami.as_str()));
    });
    let mut keep = keep;
    keep.insert(ami);
    let left: Vec<String> = rt.block_on(all_leftovers(&moto, &keep)).into_iter().filter(|l| !l.contains("snapshot") && !l.contains("us-east-1: AMI")).collect();
    assert!(left.is_empty(), "left behind: {left:#?}");
}
