//! Starting a real qemu that exits at once: the port clash is its own
//! variant (the qemu builder retries with other ports on it, and only on
//! it), and the process's journal entry is released either way.

use bake_qemu_machine::vm::{Launch, StartError, Vm};
use bake_sdk::testing::{build_info, scratch_dir};
use std::net::TcpListener;

fn launch(dir: &std::path::Path, tag: &str, extra: &[String]) -> (Launch, bake_sdk::BuildInfo) {
    let info = build_info(tag);
    let qmp_socket = dir.join("qmp.sock");
    let mut argv: Vec<String> = ["-machine", "none", "-display", "none", "-nodefaults"].map(String::from).to_vec();
    argv.extend(["-qmp".into(), format!("unix:{},server=on,wait=off", qmp_socket.display())]);
    argv.extend_from_slice(extra);
    let launch = Launch {
        binary: "qemu-system-x86_64".into(),
        argv,
        log: dir.join("qemu.log"),
        pidfile: dir.join("qemu.pid"),
        qmp_socket,
        serial_log: dir.join("serial.log"),
        restart_on_reset: false,
        build: info.name.clone(),
        journal: info.journal.clone(),
        ui: info.ui.clone(),
    };
    (launch, info)
}

#[tokio::test]
async fn a_taken_forwarded_port_is_a_port_clash() {
    let dir = scratch_dir("qemu-port-clash");
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let netdev = format!("user,id=net0,hostfwd=tcp:127.0.0.1:{port}-:22");
    let (launch, info) = launch(&dir, "port-clash", &["-netdev".into(), netdev]);
    let e = Vm::start(launch).await.err().expect("qemu cannot forward a taken port");
    assert!(StartError::is_port_in_use(&e), "{e:#}");
    assert!(format!("{e}").contains("host forwarding"), "qemu's own words are kept: {e}");
    assert!(bake_sdk::journal::read(info.journal.path()).unwrap().pending.is_empty(), "the qemu process's journal entry is released");
    drop(taken);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn other_early_exits_are_not_port_clashes() {
    let dir = scratch_dir("qemu-bad-argument");
    let (launch, info) = launch(&dir, "bad-argument", &["-no-such-option".into()]);
    let e = Vm::start(launch).await.err().expect("qemu refuses an unknown option");
    assert!(matches!(e.downcast_ref::<StartError>(), Some(StartError::Exited { .. })), "{e:#}");
    assert!(!StartError::is_port_in_use(&e));
    assert!(format!("{e}").contains("-no-such-option"), "{e}");
    assert!(bake_sdk::journal::read(info.journal.path()).unwrap().pending.is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}
