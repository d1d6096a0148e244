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
