//! `data "amazon-ami"` and `data "amazon-parameterstore"` through the real
//! binary, against moto over HTTP: the images and parameters a test puts in
//! its own moto are what the template reads.

mod util;
use util::moto::Moto;
use util::TestDir;

const REGION: &str = "eu-west-1";

/// Registers an AMI named `name` in moto, tagged role=web, and returns its id.
async fn register(ec2: &aws_sdk_ec2::Client, name: &str) -> String {
    let root = aws_sdk_ec2::types::BlockDeviceMapping::builder()
        .device_name("/dev/xvda")
        .ebs(aws_sdk_ec2::types::EbsBlockDevice::builder().volume_size(8).build())
        .build();
    let id = ec2
        .register_image()
        .name(name)
        .root_device_name("/dev/xvda")
        .block_device_mappings(root)
        .send()
        .await
        .expect("register an image")
        .image_id
        .expect("an image id");
    let tag = aws_sdk_ec2::types::Tag::builder().key("role").value("web").build();
    ec2.create_tags().resources(&id).tags(tag).send().await.expect("tag the image");
    id
}

/// Two images a second apart (moto's creation dates have whole seconds),
/// a plain parameter naming the newer, and a SecureString.
async fn seed(moto: &Moto) -> (String, String) {
    let sdk = moto.sdk(REGION).await;
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let older = register(&ec2, "web-base-1").await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let newer = register(&ec2, "web-base-2").await;
    let ssm = aws_sdk_ssm::Client::new(&sdk);
    ssm.put_parameter().name("/images/web/base").value(&newer).r#type(aws_sdk_ssm::types::ParameterType::String).send().await.expect("put a parameter");
    ssm.put_parameter()
        .name("/ci/token")
        .value("s3cr3t-from-ssm")
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .expect("put a secure parameter");
    (older, newer)
}

fn template(most_recent: bool) -> String {
    format!(
        r#"
data "amazon-ami" "base" {{
  region      = "{REGION}"
  filters     = {{ name = "web-base-*" }}
  owners      = ["self"]
  most_recent = {most_recent}
}}

data "amazon-parameterstore" "base" {{
  region = "{REGION}"
  name   = "/images/web/base"
}}

data "amazon-parameterstore" "token" {{
  region          = "{REGION}"
  name            = "/ci/token"
  with_decryption = true
}}

source "null" "x" {{
  communicator = "none"
}}

build {{
  sources = ["null.x"]
  provisioner "shell-local" {{
    inline = [
      "echo ami=${{data.amazon-ami.base.id}} name=${{data.amazon-ami.base.name}} role=${{data.amazon-ami.base.tags.role}} owner=${{data.amazon-ami.base.owner}}",
      "echo param=${{data.amazon-parameterstore.base.value}} version=${{data.amazon-parameterstore.base.version}}",
      "echo token=${{data.amazon-parameterstore.token.value}}",
    ]
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

#[tokio::test(flavor = "multi_thread")]
async fn a_template_reads_the_newest_ami_and_the_parameters() {
    let moto = Moto::start();
    let (older, newer) = seed(&moto).await;
    let dir = TestDir::new("amazon-data");
    dir.write("t.pkr.hcl", &template(true));
    let run = bake(&dir, &moto, &["build", "t.pkr.hcl"]);
    run.success();
    run.contains(&format!("ami={newer} name=web-base-2 role=web owner=123456789012"));
    run.contains(&format!("param={newer} version=1"));
    run.lacks(&older);
    // The decrypted SecureString is masked like a sensitive variable.
    run.contains("token=<sensitive>").lacks("s3cr3t-from-ssm");
}

#[tokio::test(flavor = "multi_thread")]
async fn two_matches_without_most_recent_is_an_error_that_names_the_way_out() {
    let moto = Moto::start();
    seed(&moto).await;
    let dir = TestDir::new("amazon-data-ambiguous");
    dir.write("t.pkr.hcl", &template(false));
    let run = bake(&dir, &moto, &["build", "t.pkr.hcl"]);
    run.failure();
    run.contains("2 AMIs match").contains("most_recent = true").contains("name=web-base-* owned by self");
}

#[test]
fn validate_catches_a_filter_without_owners_at_its_block() {
    let dir = TestDir::new("amazon-data-owners");
    dir.write("t.pkr.hcl", "source \"null\" \"x\" {\n  communicator = \"none\"\n}\n\ndata \"amazon-ami\" \"base\" {\n  filters = { name = \"debian-12-*\" }\n}\n\nbuild {\n  sources = [\"null.x\"]\n}\n");
    let run = dir.bake(&["validate", "t.pkr.hcl"]);
    run.failure();
    run.contains("Missing owners").contains("t.pkr.hcl:5:").contains("owners = [\"amazon\"]");
}
