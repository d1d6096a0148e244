//! `bake cleanup` hands each journal entry to its owner through the cleanup
//! registry. Tested at the library level (`bake::clean_dead_runs`, the code
//! `bake cleanup` runs), because the fake owner must not ship in the binary:
//! a plugin-owned cloud entry goes to its owner, is released, and its
//! journal removed; an entry of a kind nobody owns is left, with its message.

use bake::{clean_dead_runs, CleanupLine};
use bake_sdk::journal::{self, CleanupRegistry, Resource, ResourceOwner};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// A test plugin's undo of its fake `test:thing` resources.
#[derive(Default)]
struct FakeOwner {
    undone: Mutex<Vec<Resource>>,
}

#[bake_sdk::async_trait]
impl ResourceOwner for FakeOwner {
    fn kinds(&self) -> &[&str] {
        &["test:thing"]
    }

    async fn undo(&self, resource: &Resource) -> anyhow::Result<()> {
        self.undone.lock().unwrap().push(resource.clone());
        Ok(())
    }
}

fn state_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bake-cleanup-registry-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("journal")).unwrap();
    dir
}

/// A journal of a dead run (pid 2^22 + 1 cannot exist on Linux) holding one
/// cloud entry.
fn dead_run(dir: &Path, run: &str, kind: &str, id: &str) -> PathBuf {
    let path = dir.join("journal").join(format!("{run}.jsonl"));
    let text = format!(
        "{{\"op\":\"start\",\"pid\":4194305,\"run_uuid\":\"{run}\"}}\n\
         {{\"op\":\"create\",\"id\":1,\"build\":\"b\",\"resource\":{{\"kind\":\"cloud\",\"provider_kind\":\"{kind}\",\"region\":\"r1\",\"id\":\"{id}\"}}}}\n"
    );
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_plugin_owned_entry_goes_to_its_owner_and_an_unowned_one_is_left() {
    let dir = state_dir("owned");
    let owned = dead_run(&dir, "owned-run", "test:thing", "thing-1");
    let unowned = dead_run(&dir, "unowned-run", "other:kind", "x-9");
    let owner = FakeOwner::default();
    let registry = CleanupRegistry::new([&owner as &dyn ResourceOwner]);

    let mut lines = Vec::new();
    let code = clean_dead_runs(&dir, &registry, false, &mut |line| lines.push(line));

    let thing = Resource::Cloud { provider_kind: "test:thing".into(), region: "r1".into(), id: "thing-1".into() };
    assert_eq!(*owner.undone.lock().unwrap(), vec![thing], "the owner was called with its entry, once");
    assert!(lines.contains(&CleanupLine::Out("removed test:thing thing-1 in r1 (build b)".into())), "{lines:?}");
    assert!(!owned.exists(), "the journal whose entries were all undone is removed");

    assert!(
        lines.contains(&CleanupLine::Err("cannot remove other:kind x-9 in r1 (build b): no plugin in this bake can; remove it by hand".into())),
        "{lines:?}"
    );
    assert_eq!(journal::read(&unowned).unwrap().pending.len(), 1, "the unowned entry is still pending");
    assert!(lines.contains(&CleanupLine::Out("Cleanup done: 1 removed, 1 left.".into())), "{lines:?}");
    assert_eq!(code, 1, "something was left");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The entry is released in the journal as soon as its owner undid it, so
/// that a cleanup interrupted later does not undo it twice.
#[test]
fn an_undone_entry_is_released_before_the_journal_goes() {
    let dir = state_dir("release");
    let path = dead_run(&dir, "mixed-run", "test:thing", "thing-2");
    // A second, unowned entry keeps the journal on disk, so the release of
    // the first can be read back.
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(
        "{\"op\":\"create\",\"id\":2,\"build\":\"b\",\"resource\":{\"kind\":\"cloud\",\"provider_kind\":\"other:kind\",\"region\":\"r1\",\"id\":\"x\"}}\n",
    );
    std::fs::write(&path, text).unwrap();
    let owner = FakeOwner::default();
    let registry = CleanupRegistry::new([&owner as &dyn ResourceOwner]);
    clean_dead_runs(&dir, &registry, false, &mut |_| {});
    let pending = journal::read(&path).unwrap().pending;
    assert_eq!(pending.len(), 1);
    assert!(matches!(&pending[0].2, Resource::Cloud { provider_kind, .. } if provider_kind == "other:kind"), "{pending:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
