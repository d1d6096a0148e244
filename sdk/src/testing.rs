//! For plugin crates' unit tests: a [`BuildInfo`] whose UI is recorded and
//! whose journal and scratch files live under the workspace's `target/`
//! (not the system temp dir: tests leave their journals behind, like any
//! run does), and template snippets evaluated as a plugin's config body.

use crate::lang::eval::{EvalBody, Evaluator};
use crate::lang::parse::parse_file;
use crate::lang::SourceMap;
use crate::ui::RecordingSink;
use crate::{journal::Journal, BuildInfo, OnError, Ui};
use std::path::PathBuf;
use std::sync::Arc;

fn target_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target")
}

/// Build `app.null.web`, its UI recorded, its journal named after `tag` and
/// the test's thread.
pub fn build_info(tag: &str) -> BuildInfo {
    let journal = Journal::create(&target_dir().join("test-journals"), &format!("{tag}-{:?}", std::thread::current().id())).unwrap();
    BuildInfo {
        name: "app.null.web".into(),
        builder_type: "null".into(),
        source_name: "web".into(),
        ui: Ui::new("app.null.web", Arc::new(RecordingSink::default())),
        cancel: Default::default(),
        debug: false,
        force: false,
        on_error: OnError::Cleanup,
        template_dir: ".".into(),
        run_uuid: "u".into(),
        template: Default::default(),
        journal: Arc::new(journal),
    }
}

/// An empty directory `target/test-scratch/NAME-PID`, for the test to
/// remove when it passes.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = target_dir().join("test-scratch").join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `src` parsed and evaluated as a block body, with the sources to render
/// diagnostics against.
pub fn eval_body(src: &str) -> (SourceMap, EvalBody) {
    let sources = SourceMap::new();
    let file = sources.add("t.pkr.hcl", src);
    let parsed = parse_file(&sources, file).unwrap();
    let ev = Evaluator::new(sources.clone(), std::env::temp_dir(), std::time::SystemTime::UNIX_EPOCH);
    let body = ev.eval_body(&parsed).unwrap();
    (sources, body)
}
