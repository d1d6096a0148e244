//! `compress OUTPUT INPUT...`: runs the archive job the compress post-processor runs
//! directly, as `bake build` would, for `bench/compress.sh`.

use bake_archive::{detect, Job};
use bake_sdk::ui::{Event, UiSink};
use bake_sdk::{CancellationToken, Ui};
use std::path::PathBuf;
use std::sync::Arc;

struct Stderr;

impl UiSink for Stderr {
    fn emit(&self, build: &str, event: Event) {
        match event {
            Event::Say(m) | Event::Message(m) | Event::Error(m) => eprintln!("{build}: {m}"),
            _ => {}
        }
    }
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (output, inputs) = args.split_first().ok_or_else(|| anyhow::anyhow!("usage: compress OUTPUT INPUT..."))?;
    let format = detect(output).ok_or_else(|| anyhow::anyhow!("unknown extension: {output}"))?;
    let level = std::env::var("LEVEL").ok().map(|l| l.parse()).transpose()?.unwrap_or(if output.ends_with(".zst") { 3 } else { 6 });
    let threads = std::env::var("THREADS").ok().map(|l| l.parse()).transpose()?.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let job = Job {
        target: PathBuf::from(output),
        files: inputs.iter().map(PathBuf::from).collect(),
        format,
        level,
        threads,
        ui: Ui::new("compress", Arc::new(Stderr)),
        cancel: CancellationToken::new(),
    };
    job.run()?;
    Ok(())
}
