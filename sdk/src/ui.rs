//! What plugins tell the user. Plugins emit events for their build; the engine
//! decides how they look (prefixed lines, timings, machine-readable records)
//! and masks sensitive values in all of them, in one place.

use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// A headline: a step or provisioner starting something.
    Say(String),
    /// A detail under the current headline.
    Message(String),
    Error(String),
    /// One line of a command's output.
    Output {
        stream: Stream,
        line: String,
    },
    StepStarted {
        name: String,
    },
    StepFinished {
        name: String,
        elapsed: Duration,
        ok: bool,
    },
}

/// Receives every event of every build; implemented by the engine.
pub trait UiSink: Send + Sync {
    fn emit(&self, build: &str, event: Event);

    /// The text with every sensitive value replaced by `<sensitive>`: what
    /// a plugin writes for the user outside the UI (a manifest) goes
    /// through this too.
    fn mask(&self, text: &str) -> String {
        text.to_string()
    }

    /// Adds a value known only during the build (a generated password or
    /// key) to those masked from now on.
    fn add_secret(&self, _secret: &str) {}
}

/// A build's handle on the user interface.
#[derive(Clone)]
pub struct Ui {
    build: Arc<str>,
    sink: Arc<dyn UiSink>,
}

impl Ui {
    pub fn new(build: &str, sink: Arc<dyn UiSink>) -> Ui {
        Ui { build: build.into(), sink }
    }

    pub fn build(&self) -> &str {
        &self.build
    }

    /// See [`UiSink::mask`].
    pub fn mask(&self, text: &str) -> String {
        self.sink.mask(text)
    }

    /// See [`UiSink::add_secret`].
    pub fn add_secret(&self, secret: &str) {
        self.sink.add_secret(secret)
    }

    pub fn say(&self, msg: impl Into<String>) {
        self.sink.emit(&self.build, Event::Say(msg.into()));
    }

    pub fn message(&self, msg: impl Into<String>) {
        self.sink.emit(&self.build, Event::Message(msg.into()));
    }

    pub fn error(&self, msg: impl Into<String>) {
        self.sink.emit(&self.build, Event::Error(msg.into()));
    }

    pub fn output(&self, stream: Stream, line: impl Into<String>) {
        self.sink.emit(&self.build, Event::Output { stream, line: line.into() });
    }

    /// Announces a step and returns a guard; call [`StepTimer::finish`] with
    /// the outcome. A guard dropped without finishing reports a failure.
    pub fn step(&self, name: impl Into<String>) -> StepTimer {
        let name = name.into();
        self.sink.emit(&self.build, Event::StepStarted { name: name.clone() });
        StepTimer { ui: self.clone(), name, started: Instant::now(), done: false }
    }
}

pub struct StepTimer {
    ui: Ui,
    name: String,
    started: Instant,
    done: bool,
}

impl StepTimer {
    pub fn finish(mut self, ok: bool) -> Duration {
        self.done = true;
        let elapsed = self.started.elapsed();
        self.ui.sink.emit(&self.ui.build, Event::StepFinished { name: self.name.clone(), elapsed, ok });
        elapsed
    }
}

impl Drop for StepTimer {
    fn drop(&mut self) {
        if !self.done {
            let elapsed = self.started.elapsed();
            self.ui.sink.emit(&self.ui.build, Event::StepFinished { name: self.name.clone(), elapsed, ok: false });
        }
    }
}

/// Collects events in memory; for tests of plugins.
#[derive(Default)]
pub struct RecordingSink {
    pub events: std::sync::Mutex<Vec<(String, Event)>>,
}

impl UiSink for RecordingSink {
    fn emit(&self, build: &str, event: Event) {
        self.events.lock().expect("events lock").push((build.to_string(), event));
    }
}

/// Progress of a long copy (a download, hashing, compressing) told
/// through the [`Ui`] every few seconds, as `LABEL 1.2 GiB of 3.0 GiB (40%),
/// 85.0 MiB/s` (without `of …` when the total is unknown). Counting is
/// cheap, so callers advance it for every block they move.
pub struct ByteProgress {
    ui: Ui,
    label: String,
    total: Option<u64>,
    done: u64,
    started: Instant,
    last: Instant,
    every: Duration,
}

impl ByteProgress {
    /// How often a line is written unless [`ByteProgress::every`] says otherwise.
    pub const EVERY: Duration = Duration::from_secs(5);

    pub fn new(ui: &Ui, label: impl Into<String>, total: Option<u64>) -> ByteProgress {
        let now = Instant::now();
        ByteProgress { ui: ui.clone(), label: label.into(), total, done: 0, started: now, last: now, every: Self::EVERY }
    }

    /// Reports at most once per `every` instead of [`ByteProgress::EVERY`].
    pub fn every(mut self, every: Duration) -> ByteProgress {
        self.every = every;
        self
    }

    /// Counts `n` more bytes; writes a line when the last one is old enough.
    pub fn advance(&mut self, n: u64) {
        self.done += n;
        if self.last.elapsed() >= self.every {
            self.last = Instant::now();
            self.ui.message(self.line());
        }
    }

    /// The bytes counted so far.
    pub fn done(&self) -> u64 {
        self.done
    }

    /// The time since the copy started.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// The line as it would be written now.
    pub fn line(&self) -> String {
        let rate = human_size((self.done as f64 / self.elapsed().as_secs_f64().max(0.001)) as u64);
        match self.total {
            Some(total) => {
                let pct = (self.done * 100).checked_div(total).unwrap_or(100);
                format!("{} {} of {} ({pct}%), {rate}/s", self.label, human_size(self.done), human_size(total))
            }
            None => format!("{} {}, {rate}/s", self.label, human_size(self.done)),
        }
    }
}

/// A byte count for people: `512 B`, `1.5 KiB`, `3.2 GiB`.
pub fn human_size(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(sink: &RecordingSink) -> Vec<String> {
        let events = sink.events.lock().expect("events lock");
        events.iter().filter_map(|(_, e)| if let Event::Message(m) = e { Some(m.clone()) } else { None }).collect()
    }

    #[test]
    fn byte_progress_says_how_far_and_how_fast_at_most_every_interval() {
        let sink = Arc::new(RecordingSink::default());
        let ui = Ui::new("b", sink.clone());
        let mut quiet = ByteProgress::new(&ui, "Compressed", Some(2048));
        quiet.advance(1024);
        quiet.advance(1024);
        assert!(messages(&sink).is_empty(), "nothing within the first five seconds: {:?}", messages(&sink));
        assert_eq!(quiet.done(), 2048);

        let mut each = ByteProgress::new(&ui, "Compressed", Some(2048)).every(Duration::ZERO);
        each.advance(1024);
        let lines = messages(&sink);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].starts_with("Compressed 1.0 KiB of 2.0 KiB (50%), ") && lines[0].ends_with("/s"), "{lines:?}");

        let unknown = ByteProgress::new(&ui, "Downloaded", None);
        assert!(unknown.line().starts_with("Downloaded 0 B, "), "{}", unknown.line());
        assert!(ByteProgress::new(&ui, "Hashed", Some(0)).line().contains("(100%)"));
    }
}
