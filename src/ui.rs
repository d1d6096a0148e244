//! How builds look on the terminal and to CI: lines prefixed with the build
//! name (coloured per build), per-step timings, or Packer's machine-readable
//! `timestamp,target,type,data` records. Every line passes through the secret
//! filter first.
//!
//! The streams are Packer's: progress and the closing summary go to stdout
//! (`bake build t.pkr.hcl > build.log` keeps the log, `| tee` shows it), errors
//! to stderr, as Packer's `BasicUi` writes `Error` to its error writer. With
//! `-machine-readable` every record, errors included, is on stdout.

use bake_sdk::ui::{Event, Stream, UiSink};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

#[derive(Clone, Copy, Debug, Default)]
pub struct UiOptions {
    pub machine_readable: bool,
    pub color: bool,
    pub timestamps: bool,
}

/// Replaces sensitive values with `<sensitive>`.
#[derive(Clone, Debug, Default)]
pub struct Masker {
    /// Longest first, so a secret that contains another is masked whole.
    secrets: Arc<std::sync::RwLock<Vec<String>>>,
}

impl Masker {
    pub fn new(secrets: Vec<String>) -> Masker {
        let masker = Masker { secrets: Default::default() };
        for s in secrets {
            masker.add(s);
        }
        masker
    }

    /// Masks `secret` from now on; a multi-line one (a private key) line by
    /// line too, since output arrives a line at a time.
    pub fn add(&self, secret: String) {
        let mut all = self.secrets.write().unwrap_or_else(|e| e.into_inner());
        let lines: Vec<String> =
            if secret.contains('\n') { secret.lines().map(str::trim).filter(|l| l.len() >= 8).map(String::from).collect() } else { Vec::new() };
        for s in std::iter::once(secret).chain(lines) {
            if !s.is_empty() && !all.contains(&s) {
                all.push(s);
            }
        }
        all.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }

    pub fn mask(&self, text: &str) -> String {
        let mut out = text.to_string();
        for s in self.secrets.read().unwrap_or_else(|e| e.into_inner()).iter() {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), "<sensitive>");
            }
        }
        out
    }
}

pub struct TerminalUi {
    opts: UiOptions,
    masker: Masker,
    /// Builds in order of first appearance, for stable colours.
    builds: Mutex<Vec<String>>,
}

const COLORS: &[&str] = &["\x1b[32m", "\x1b[36m", "\x1b[35m", "\x1b[33m", "\x1b[34m"];
const RED: &str = "\x1b[31m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

impl TerminalUi {
    pub fn new(opts: UiOptions, masker: Masker) -> Arc<TerminalUi> {
        Arc::new(TerminalUi { opts, masker, builds: Mutex::new(Vec::new()) })
    }

    fn color_of(&self, build: &str) -> &'static str {
        let mut builds = self.builds.lock().expect("ui lock");
        let i = builds.iter().position(|b| b == build).unwrap_or_else(|| {
            builds.push(build.to_string());
            builds.len() - 1
        });
        COLORS[i % COLORS.len()]
    }

    /// A machine-readable record: Packer escapes commas in data as
    /// `%!(PACKER_COMMA)` and newlines as `\n`.
    pub fn machine(&self, target: &str, kind: &str, data: &[&str]) {
        let ts = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let fields: Vec<String> = data.iter().map(|d| self.masker.mask(d).replace(',', "%!(PACKER_COMMA)").replace('\n', "\\n").replace('\r', "\\r")).collect();
        let line = format!("{ts},{target},{kind},{}\n", fields.join(","));
        let _ = std::io::stdout().lock().write_all(line.as_bytes());
    }

    /// A line of progress for the user, on stdout.
    pub fn line(&self, text: &str) {
        self.write_line(&mut std::io::stdout().lock(), text);
    }

    /// An error for the user, on stderr.
    pub fn error_line(&self, text: &str) {
        self.write_line(&mut std::io::stderr().lock(), text);
    }

    fn write_line(&self, out: &mut dyn Write, text: &str) {
        let text = self.masker.mask(text);
        let stamp = if self.opts.timestamps { format!("{} ", chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ")) } else { String::new() };
        // A closed stream (`bake build | head`) is not worth a panic.
        let _ = writeln!(out, "{stamp}{text}");
    }

    fn paint(&self, color: &str, text: &str) -> String {
        if self.opts.color {
            format!("{color}{text}{RESET}")
        } else {
            text.to_string()
        }
    }

    pub fn is_machine_readable(&self) -> bool {
        self.opts.machine_readable
    }

    pub fn bold(&self, text: &str) -> String {
        self.paint(BOLD, text)
    }

    pub fn red(&self, text: &str) -> String {
        self.paint(RED, text)
    }
}

impl UiSink for TerminalUi {
    fn mask(&self, text: &str) -> String {
        self.masker.mask(text)
    }

    fn add_secret(&self, secret: &str) {
        self.masker.add(secret.to_string())
    }

    fn emit(&self, build: &str, event: Event) {
        if self.opts.machine_readable {
            match &event {
                Event::Say(m) => self.machine(build, "ui", &["say", &format!("==> {build}: {m}")]),
                Event::Message(m) => self.machine(build, "ui", &["message", &format!("    {build}: {m}")]),
                Event::Error(m) => self.machine(build, "ui", &["error", &format!("==> {build}: {m}")]),
                Event::Output { stream: Stream::Stdout, line } => self.machine(build, "ui", &["message", &format!("    {build}: {line}")]),
                Event::Output { stream: Stream::Stderr, line } => self.machine(build, "ui", &["error", &format!("    {build}: {line}")]),
                Event::StepStarted { name } => self.machine(build, "step-started", &[name]),
                Event::StepFinished { name, elapsed, ok } => {
                    self.machine(build, "step-finished", &[name, &format!("{:.3}", elapsed.as_secs_f64()), if *ok { "ok" } else { "failed" }])
                }
            }
            return;
        }
        let color = self.color_of(build);
        let is_error = matches!(event, Event::Error(_) | Event::Output { stream: Stream::Stderr, .. } | Event::StepFinished { ok: false, .. });
        let text = match event {
            Event::Say(m) => self.paint(color, &format!("==> {build}: {m}")),
            Event::Message(m) => self.paint(color, &format!("    {build}: {m}")),
            Event::Error(m) => self.paint(RED, &format!("==> {build}: {m}")),
            Event::Output { stream: Stream::Stdout, line } => format!("{} {line}", self.paint(color, &format!("    {build}:"))),
            Event::Output { stream: Stream::Stderr, line } => format!("{} {}", self.paint(color, &format!("    {build}:")), self.paint(RED, &line)),
            Event::StepStarted { name } => self.paint(color, &format!("==> {build}: {name} …")),
            Event::StepFinished { name, elapsed, ok } => {
                let mark = if ok { "done" } else { "FAILED" };
                self.paint(if ok { color } else { RED }, &format!("==> {build}: {name} {mark} in {}", human_duration(elapsed)))
            }
        };
        // A remote command's stderr is an error line too, as Packer's
        // `RunWithUi` sends it through `ui.Error`.
        if is_error {
            self.error_line(&text);
        } else {
            self.line(&text);
        }
    }
}

pub fn human_duration(d: std::time::Duration) -> String {
    let s = d.as_secs_f64();
    if s < 60.0 {
        format!("{s:.2}s")
    } else {
        let m = (s / 60.0).floor();
        format!("{}m{:.0}s", m as u64, s - m * 60.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_longest_secret_first() {
        let m = Masker::new(vec!["abc".into(), "abcdef".into()]);
        assert_eq!(m.mask("x abcdef y abc"), "x <sensitive> y <sensitive>");
    }
}
