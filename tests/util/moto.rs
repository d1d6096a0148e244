//! moto, the AWS API emulator, as a process of the test's own: started on a
//! free 127.0.0.1 port (scripts/setup.sh installs it), stopped when
//! dropped, so every test has an AWS account of its own with nothing in it.

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Moto {
    /// `None` for [`Moto::attach`]: another owner stops it.
    child: Option<Child>,
    pub endpoint: String,
}

/// Which new AMIs a moto keeps pending (see [`LAUNCHER`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Hold {
    /// Those CreateImage and CopyImage make.
    All,
    /// Only copies: the build region's AMI becomes available.
    Copies,
}

/// moto's server, started from Python so that a test may change one
/// behaviour first. moto makes an AMI available the moment CreateImage or
/// CopyImage returns; with `HOLD_IMAGES` set, new AMIs stay `pending`, as a
/// large AMI does for a long time on AWS, so that a test can interrupt
/// the wait or see it give up. That is the one seam: every call still goes
/// over HTTP to moto's own implementation.
const LAUNCHER: &str = r#"
import os, sys
from moto.ec2.models.amis import AmiBackend
hold = os.environ.get("HOLD_IMAGES")
if hold:
    def held(original):
        def call(self, *args, **kwargs):
            ami = original(self, *args, **kwargs)
            ami.state = "pending"
            return ami
        return call
    if hold == "all":
        AmiBackend.create_image = held(AmiBackend.create_image)
    AmiBackend.copy_image = held(AmiBackend.copy_image)
from moto.server import main
main(sys.argv[1:])
"#;

impl Moto {
    pub fn start() -> Moto {
        Moto::launch(None)
    }

    /// A moto whose new AMIs stay pending (see [`LAUNCHER`]).
    pub fn holding(hold: Hold) -> Moto {
        Moto::launch(Some(hold))
    }

    /// The moto at `endpoint`, for a thread of a test that started it.
    pub fn attach(endpoint: String) -> Moto {
        Moto { child: None, endpoint }
    }

    fn launch(hold: Option<Hold>) -> Moto {
        // The port is free when asked; if another process takes it before
        // moto binds, moto exits and the next attempt picks another.
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
            let mut command = Command::new("python3");
            command.args(["-c", LAUNCHER, "-H", "127.0.0.1", "-p", &port.to_string()]);
            match hold {
                Some(Hold::All) => command.env("HOLD_IMAGES", "all"),
                Some(Hold::Copies) => command.env("HOLD_IMAGES", "copies"),
                None => &mut command,
            };
            let mut child =
                command.stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("start moto (python3 -m moto.server; scripts/setup.sh installs it)");
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Moto { child: Some(child), endpoint: format!("http://127.0.0.1:{port}") };
                }
                if child.try_wait().expect("poll moto").is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("moto did not start on any of 5 ports");
    }

    /// The environment that points bake (and the AWS SDK in the test) at
    /// this moto: the standard variables, with moto's fake credentials.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_REGION", "us-east-1".into()),
            // Nothing from the developer's own AWS set-up.
            ("AWS_CONFIG_FILE", "/dev/null".into()),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ]
    }

    /// An SDK configuration for the test's own calls (seeding, checking).
    pub async fn sdk(&self, region: &str) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(region.to_string()))
            .endpoint_url(&self.endpoint)
            .credentials_provider(aws_sdk_ec2::config::Credentials::new("testing", "testing", None, None, "moto"))
            .load()
            .await
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
