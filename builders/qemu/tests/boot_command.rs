//! Types a boot command into a real VM and checks every byte that arrives.
//!
//! The guest is Debian's kernel with a busybox initramfs whose init puts
//! the first virtual terminal (the one the PS/2 keyboard types into) in
//! non-canonical mode without echo and copies what it reads, byte for byte,
//! to a second serial port that QEMU writes to a file. ttyS0 carries the
//! kernel's console, for diagnosis.
//!
//! Needs qemu-system-x86, linux-image-amd64 and busybox-static. Runs under
//! TCG (nested KVM does not work on the project's machines).

mod common;

use bake_builder_qemu::boot_command::{self, parse, type_command};
use bake_builder_qemu::qmp::Qmp;
use bake_sdk::CancellationToken;
use common::{initramfs, kernel, TempDir};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const INIT: &str = r#"#!/bin/busybox sh
B=/bin/busybox
$B mount -t proc proc /proc
$B mount -t sysfs sys /sys
$B mount -t devtmpfs dev /dev
# Keep the keyboard's terminal open from here on, so that nothing typed
# after READY is lost before cat reads it.
exec </dev/tty1
$B stty -icanon -echo -isig min 1 time 0
$B stty -F /dev/ttyS1 raw -echo
echo READY >/dev/ttyS1
exec $B cat >/dev/ttyS1
"#;

/// The qemu process, killed when the test ends however it ends.
struct Vm(Child);

impl Drop for Vm {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for(path: &Path, what: &[u8], timeout: Duration, vm: &mut Vm, console: &Path) -> Vec<u8> {
    let deadline = Instant::now() + timeout;
    loop {
        let data = std::fs::read(path).unwrap_or_default();
        if data.windows(what.len()).any(|w| w == what) {
            return data;
        }
        if let Ok(Some(status)) = vm.0.try_wait() {
            panic!("qemu exited ({status}); console:\n{}", String::from_utf8_lossy(&std::fs::read(console).unwrap_or_default()));
        }
        if Instant::now() > deadline {
            panic!(
                "no {:?} after {timeout:?}; keys so far: {:?}\nconsole:\n{}",
                String::from_utf8_lossy(what),
                String::from_utf8_lossy(&data),
                String::from_utf8_lossy(&std::fs::read(console).unwrap_or_default())
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test]
async fn typed_keys_arrive_in_the_guest() {
    let started = Instant::now();
    let dir = TempDir::new("boot-command-test");
    let initrd = dir.0.join("initrd.cpio");
    std::fs::write(&initrd, initramfs(INIT, &[])).unwrap();
    let (console, keys, qmp_socket) = (dir.0.join("console.log"), dir.0.join("keys.log"), dir.0.join("qmp.sock"));

    let mut vm = Vm(Command::new("qemu-system-x86_64")
        .args(["-accel", "tcg", "-m", "256", "-nic", "none", "-display", "none", "-monitor", "none", "-no-reboot"])
        .arg("-kernel")
        .arg(kernel())
        .arg("-initrd")
        .arg(&initrd)
        .args(["-append", "console=ttyS0 panic=-1"])
        .arg("-serial")
        .arg(format!("file:{}", console.display()))
        .arg("-serial")
        .arg(format!("file:{}", keys.display()))
        .arg("-qmp")
        .arg(format!("unix:{},server=on,wait=off", qmp_socket.display()))
        .stdin(Stdio::null())
        .spawn()
        .expect("cannot run qemu-system-x86_64: apt-get install --no-install-recommends qemu-system-x86"));

    let mut qmp = Qmp::connect(&qmp_socket, Duration::from_secs(10)).await.unwrap();

    // Every key name a boot command can produce is one this QEMU knows.
    let schema = qmp.execute("query-qmp-schema", serde_json::json!({})).await.unwrap();
    let known: Vec<String> = schema
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["meta-type"] == "enum")
        .map(|t| t["values"].as_array().cloned().unwrap_or_default().iter().filter_map(|v| v.as_str().map(str::to_string)).collect::<Vec<_>>())
        .find(|values| values.iter().any(|v| v == "kp_enter") && values.iter().any(|v| v == "ret"))
        .expect("QKeyCode in the QMP schema");
    for q in boot_command::all_qcodes() {
        assert!(known.iter().any(|k| k == q), "QEMU does not know the key {q}");
    }

    wait_for(&keys, b"READY\n", Duration::from_secs(45), &mut vm, &console);
    let booted = started.elapsed();

    let command = concat!(
        "Hello, World! <><enter>",
        "~!@#$%^&*()_+{}|:\"?`-=[]\\;',./0123456789<enter>",
        "<leftShiftOn>shifted<leftShiftOff> <aOn><aOff><AOn><AOff><tab><bs><esc><up><leftCtrlOn>c<leftCtrlOff><wait500ms>|<enter>",
        "<insert><home><end><pageUp><pageDown><del><down><right><left><spacebar>",
        "<leftAlt><rightAlt><leftCtrl><rightCtrl><leftShift><rightShift><leftSuper><rightSuper>",
        "<f1><f2><f3><f4><f5><f6><f7><f8><f9><f10><f11><f12><return>",
        "done<enter>",
    );
    let expected: &[u8] = concat!(
        "READY\n",
        "Hello, World! <>\n",
        "~!@#$%^&*()_+{}|:\"?`-=[]\\;',./0123456789\n",
        "SHIFTED aA\t\x7f\x1b\x1b[A\x03|\n",
        "\x1b[2~\x1b[1~\x1b[4~\x1b[5~\x1b[6~\x1b[3~\x1b[B\x1b[C\x1b[D ",
        "\x1b[[A\x1b[[B\x1b[[C\x1b[[D\x1b[[E\x1b[17~\x1b[18~\x1b[19~\x1b[20~\x1b[21~\x1b[23~\x1b[24~\n",
        "done\n",
    )
    .as_bytes();
    let actions = parse(command).unwrap();
    let typing = Instant::now();
    type_command(&mut qmp, &actions, Duration::from_millis(15), &CancellationToken::new()).await.unwrap();
    let typed = typing.elapsed();
    let received = wait_for(&keys, b"done\n", Duration::from_secs(15), &mut vm, &console);
    eprintln!("booted to READY in {booted:?}; typed {} actions in {typed:?}; total {:?}", actions.len(), started.elapsed());
    assert_eq!(String::from_utf8_lossy(&received), String::from_utf8_lossy(expected));
}

#[tokio::test]
async fn cancelling_stops_typing() {
    // No VM needed: the token is checked before the first key.
    let cancel = CancellationToken::new();
    cancel.cancel();
    let dir = TempDir::new("boot-command-cancel");
    // A fake QMP peer: greets, accepts capabilities, then records commands.
    let socket = dir.0.join("qmp.sock");
    let listener = tokio::net::UnixListener::bind(&socket).unwrap();
    let server = tokio::spawn(async move {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        let (stream, _) = listener.accept().await.unwrap();
        let (r, mut w) = stream.into_split();
        w.write_all(b"{\"QMP\": {\"version\": {}, \"capabilities\": []}}\n").await.unwrap();
        let mut lines = BufReader::new(r).lines();
        let mut commands = Vec::new();
        while let Ok(Some(line)) = lines.next_line().await {
            commands.push(line);
            w.write_all(b"{\"return\": {}}\n").await.unwrap();
        }
        commands
    });
    let mut qmp = Qmp::connect(&socket, Duration::from_secs(5)).await.unwrap();
    let e = type_command(&mut qmp, &parse("abc<wait10>def").unwrap(), Duration::from_millis(1), &cancel).await.unwrap_err();
    assert!(format!("{e}").contains("cancelled"), "{e}");

    // Cancelled in the middle of a long wait: returns at once.
    let cancel = CancellationToken::new();
    let c = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        c.cancel();
    });
    let t = Instant::now();
    let e = type_command(&mut qmp, &parse("a<wait10>b").unwrap(), Duration::from_millis(1), &cancel).await.unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(2) && format!("{e}").contains("cancelled"), "{e} after {:?}", t.elapsed());
    drop(qmp);
    let commands = server.await.unwrap();
    // Capabilities, then only "a" (down, up) from the second command.
    assert_eq!(commands.len(), 3, "{commands:#?}");
    assert!(commands[1].contains("\"down\":true") && commands[1].contains("\"data\":\"a\""), "{commands:#?}");
}

#[tokio::test]
async fn held_keys_are_released_at_the_end_and_shift_is_not_doubled() {
    let dir = TempDir::new("boot-command-held");
    let socket = dir.0.join("qmp.sock");
    let listener = tokio::net::UnixListener::bind(&socket).unwrap();
    let server = tokio::spawn(async move {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        let (stream, _) = listener.accept().await.unwrap();
        let (r, mut w) = stream.into_split();
        w.write_all(b"{\"QMP\": {\"version\": {}, \"capabilities\": []}}\n").await.unwrap();
        let mut lines = BufReader::new(r).lines();
        let mut events = Vec::new();
        while let Ok(Some(line)) = lines.next_line().await {
            let v: serde_json::Value = serde_json::from_str(&line).unwrap();
            if v["execute"] == "input-send-event" {
                for e in v["arguments"]["events"].as_array().unwrap() {
                    let d = &e["data"];
                    events.push(format!("{}{}", if d["down"] == true { "+" } else { "-" }, d["key"]["data"].as_str().unwrap()));
                }
            }
            w.write_all(b"{\"return\": {}}\n").await.unwrap();
        }
        events
    });
    let mut qmp = Qmp::connect(&socket, Duration::from_secs(5)).await.unwrap();
    type_command(&mut qmp, &parse("<leftShiftOn>A<leftCtrlOn>b").unwrap(), Duration::ZERO, &CancellationToken::new()).await.unwrap();
    drop(qmp);
    let events = server.await.unwrap();
    // "A" with Shift held types no second Shift; Ctrl and Shift are let go.
    assert_eq!(events, ["+shift", "+a", "-a", "+ctrl", "+b", "-b", "-ctrl", "-shift"]);
}
