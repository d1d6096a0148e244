//! moto, the AWS API emulator, as a process of the test's own: started on a
//! free 127.0.0.1 port (scripts/setup.sh installs it), stopped when
//! dropped, so every test has an AWS account of its own with nothing in it.

use std::io::{Read, Write};
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

/// moto's server, started from Python (`moto_server.py`, which the
/// benchmark runs too) so that gaps of moto can be filled first; every
/// call still goes over HTTP, to moto's own implementation but for VM
/// Import.
///
/// - moto's RegisterImage keeps only the name and description (and gives
///   the AMI a snapshot of its own): the launcher also keeps the root
///   snapshot, boot mode, architecture, virtualization type, ENA support and
///   tags the request names, as EC2 does, so that a test can read back what
///   bake registered.
/// - moto's ListSnapshotBlocks writes block indexes as strings, which the
///   SDK (rightly) refuses: the launcher writes them as numbers. And moto
///   says EBS blocks are 512 bytes, not 512 KiB: tools that believe it
///   (coldsnap, in bench/amazon-import.sh) would send a thousand times the
///   requests.
/// - moto makes an AMI available the moment CreateImage or CopyImage
///   returns; with `HOLD_IMAGES` set, new AMIs stay `pending`, as a large
///   AMI does for a long time on AWS, so that a test can interrupt the wait
///   or see it give up.
/// - moto has no VM Import: the launcher answers ImportImage,
///   DescribeImportImageTasks and CancelImportTask as AWS does (a task
///   advances one stage per look, the S3 object becomes a snapshot with the
///   disk's blocks and an AMI named after the task, a disk without a
///   partition table fails "Unknown OS"), the one service the tests of the
///   S3 route emulate. And its CopyImage gives the copy an empty snapshot:
///   the launcher copies the blocks, the boot mode and ENA support, as EC2
///   does.
const LAUNCHER: &str = include_str!("moto_server.py");

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
                if answers_http(port) {
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

/// Whether an HTTP server answers on the port. A bare connect is not enough:
/// polling a port of the ephemeral range can connect the socket to itself
/// (TCP simultaneous open) before moto listens, and the test then finds
/// nobody there (a CI run failed so, "Connection refused" on its first call).
fn answers_http(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(500)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut status = [0u8; 5];
    stream.write_all(b"GET /moto-api/ HTTP/1.0\r\n\r\n").is_ok() && stream.read_exact(&mut status).is_ok() && &status == b"HTTP/"
}

/// A snapshot's blocks as the EBS direct APIs read them back
/// (ListSnapshotBlocks, then GetSnapshotBlock for each): block index →
/// its 512 KiB.
pub async fn snapshot_blocks(sdk: &aws_config::SdkConfig, snapshot: &str) -> std::collections::BTreeMap<u64, Vec<u8>> {
    let ebs = aws_sdk_ebs::Client::new(sdk);
    let mut blocks = std::collections::BTreeMap::new();
    let mut next: Option<String> = None;
    loop {
        let out = ebs.list_snapshot_blocks().snapshot_id(snapshot).set_next_token(next.clone()).send().await.expect("ListSnapshotBlocks");
        for b in out.blocks() {
            let index = b.block_index().expect("a block index");
            let got = ebs
                .get_snapshot_block()
                .snapshot_id(snapshot)
                .block_index(index)
                .block_token(b.block_token().unwrap_or_default())
                .send()
                .await
                .expect("GetSnapshotBlock");
            let data = got.block_data.collect().await.expect("the block's data").into_bytes().to_vec();
            blocks.insert(index as u64, data);
        }
        next = out.next_token().map(str::to_string);
        if next.is_none() {
            return blocks;
        }
    }
}

/// Checks that `blocks` (a snapshot read back) are exactly the raw disk
/// at `raw`: each block equal, every block not in the snapshot all zeros
/// (so no zero block was sent). Returns the number of blocks.
pub fn assert_snapshot_is_the_disk(blocks: &std::collections::BTreeMap<u64, Vec<u8>>, raw: &std::path::Path) -> usize {
    use std::io::Read;
    const BLOCK: usize = 524_288;
    let mut file = std::fs::File::open(raw).expect("the raw disk");
    let mut buf = vec![0u8; BLOCK];
    let mut index = 0u64;
    let mut seen = 0;
    loop {
        buf.fill(0);
        let mut got = 0;
        while got < BLOCK {
            match file.read(&mut buf[got..]).expect("read the raw disk") {
                0 => break,
                n => got += n,
            }
        }
        if got == 0 {
            break;
        }
        match blocks.get(&index) {
            Some(data) => {
                assert!(data[..] == buf[..], "block {index} differs from the disk");
                assert!(buf.iter().any(|b| *b != 0), "block {index} is all zeros, and was sent anyway");
                seen += 1;
            }
            None => assert!(buf.iter().all(|b| *b == 0), "block {index} holds data but is not in the snapshot"),
        }
        index += 1;
    }
    assert_eq!(seen, blocks.len(), "the snapshot has blocks beyond the disk");
    seen
}
