//! `bake cleanup` finishes what a dead run left behind, from its journal.

mod util;
use util::TestDir;

#[test]
fn cleanup_removes_what_dead_runs_left_and_spares_live_ones() {
    let dir = TestDir::new("cleanup");
    let leftover = dir.path.join("leftover-dir");
    std::fs::create_dir_all(leftover.join("inside")).unwrap();
    // A real process standing in for an orphaned VM.
    let mut orphan = std::process::Command::new("sleep").arg("300").spawn().unwrap();
    let pidfile = dir.write("vm.pid", &orphan.id().to_string());
    // A journal whose owner is dead (pid 2^22 + 1 cannot exist on Linux).
    let journal = format!(
        "{{\"op\":\"start\",\"pid\":4194305,\"run_uuid\":\"dead-run\"}}\n\
         {{\"op\":\"create\",\"id\":1,\"build\":\"b\",\"resource\":{{\"kind\":\"path\",\"path\":{:?}}}}}\n\
         {{\"op\":\"create\",\"id\":2,\"build\":\"b\",\"resource\":{{\"kind\":\"process\",\"pidfile\":{:?},\"pid\":null,\"what\":\"qemu\"}}}}\n",
        leftover.display().to_string(),
        pidfile.display().to_string()
    );
    dir.write(".bake-state/journal/dead-run.jsonl", &journal);
    // And one of a live run (this test process), which must be left alone.
    let kept = dir.path.join("kept");
    std::fs::create_dir_all(&kept).unwrap();
    let live = format!(
        "{{\"op\":\"start\",\"pid\":{},\"run_uuid\":\"live-run\"}}\n{{\"op\":\"create\",\"id\":1,\"build\":\"b\",\"resource\":{{\"kind\":\"path\",\"path\":{:?}}}}}\n",
        std::process::id(),
        kept.display().to_string()
    );
    dir.write(".bake-state/journal/live-run.jsonl", &live);

    dir.bake(&["cleanup", "-dry-run"]).success().contains("would remove qemu process").contains("leftover-dir");
    assert!(leftover.exists(), "a dry run removes nothing");

    dir.bake(&["cleanup"]).success().contains("removed qemu process").contains("still going").contains("2 removed, 0 left");
    assert!(!leftover.exists());
    assert!(kept.exists());
    let status = orphan.try_wait().unwrap().or_else(|| {
        std::thread::sleep(std::time::Duration::from_millis(500));
        orphan.try_wait().unwrap()
    });
    assert!(status.is_some(), "the orphaned process was killed");
    assert!(!dir.exists(".bake-state/journal/dead-run.jsonl"), "a finished journal is removed");
    assert!(dir.exists(".bake-state/journal/live-run.jsonl"));
}
