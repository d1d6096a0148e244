//! Packer's `boot_command` language, typed into the guest through QMP.
//!
//! A boot command is text typed as it stands, with special keys in angle
//! brackets: `<enter>`, `<f2>`, `<leftCtrlOn>x<leftCtrlOff>`, `<wait5>`.
//! The names are those of Packer's grammar (packer-plugin-sdk `bootcommand`),
//! matched without regard to case. Packer's VNC driver sends X keysyms that
//! QEMU maps through its US keymap; QMP takes physical keys (QKeyCodes), so
//! the US layout is applied here: `A` is Shift+`a`, `<` is Shift+`,`.
//!
//! Two things differ from Packer, on purpose:
//! - `<name>` that is not a key (a typo such as `<entr>` or `<delete>`) is an
//!   error with a suggestion. Packer types such text literally, so a typo
//!   shows up as garbage on the guest's screen half an hour into a build.
//!   A `<` that is not followed by a name and `>` is typed as is.
//! - Line breaks in the command are not typed (Packer's keysyms for them map
//!   to no key either): a heredoc can spread a command over lines, and
//!   `<enter>` says where Enter is pressed. A tab character types Tab.

use crate::qmp::Qmp;
use bake_sdk::{CancellationToken, Cancelled};
use std::time::Duration;

/// What happens to a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyAction {
    /// Pressed and released.
    Press,
    /// Pressed and held (`<leftCtrlOn>`, `<aOn>`) until its `Off`.
    Down,
    /// Released (`<leftCtrlOff>`, `<aOff>`).
    Up,
}

/// A physical key of a US keyboard, by its QMP `QKeyCode` name, and whether
/// Shift is needed to produce the character.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Key {
    pub qcode: &'static str,
    pub shift: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Key { key: Key, action: KeyAction },
    Wait(Duration),
}

/// Special keys: Packer's name (as its documentation spells it) and the
/// QKeyCode. Packer's `<menu>` is keysym Menu, which QEMU's US keymap sends
/// as scancode e0 5d, the PC "application" key: QKeyCode `compose`.
const SPECIALS: &[(&str, &str)] = &[
    ("bs", "backspace"),
    ("del", "delete"),
    ("enter", "ret"),
    ("return", "ret"),
    ("esc", "esc"),
    ("tab", "tab"),
    ("spacebar", "spc"),
    ("insert", "insert"),
    ("home", "home"),
    ("end", "end"),
    ("pageUp", "pgup"),
    ("pageDown", "pgdn"),
    ("up", "up"),
    ("down", "down"),
    ("left", "left"),
    ("right", "right"),
    ("menu", "compose"),
    ("f1", "f1"),
    ("f2", "f2"),
    ("f3", "f3"),
    ("f4", "f4"),
    ("f5", "f5"),
    ("f6", "f6"),
    ("f7", "f7"),
    ("f8", "f8"),
    ("f9", "f9"),
    ("f10", "f10"),
    ("f11", "f11"),
    ("f12", "f12"),
    ("leftAlt", "alt"),
    ("leftCtrl", "ctrl"),
    ("leftShift", "shift"),
    ("leftSuper", "meta_l"),
    ("leftMeta", "meta_l"),
    ("rightAlt", "alt_r"),
    ("rightCtrl", "ctrl_r"),
    ("rightShift", "shift_r"),
    ("rightSuper", "meta_r"),
    ("rightMeta", "meta_r"),
];

fn special(name_lower: &str) -> Option<&'static str> {
    SPECIALS.iter().find(|(n, _)| n.eq_ignore_ascii_case(name_lower)).map(|(_, q)| *q)
}

/// Every QKeyCode a boot command can send (for checking them against a
/// QEMU's QMP schema).
pub fn all_qcodes() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = SPECIALS.iter().map(|(_, q)| *q).collect();
    v.extend((' '..='~').filter_map(char_key).map(|k| k.qcode));
    v.extend(["tab", "shift"]);
    v.sort_unstable();
    v.dedup();
    v
}

/// The key that types `c` on a US keyboard.
pub fn char_key(c: char) -> Option<Key> {
    let plain = |qcode| Some(Key { qcode, shift: false });
    let shifted = |qcode| Some(Key { qcode, shift: true });
    match c {
        'a'..='z' => plain(LETTERS[(c as u8 - b'a') as usize]),
        'A'..='Z' => shifted(LETTERS[(c as u8 - b'A') as usize]),
        '0'..='9' => plain(DIGITS[(c as u8 - b'0') as usize]),
        ' ' => plain("spc"),
        '\t' => plain("tab"),
        '-' => plain("minus"),
        '_' => shifted("minus"),
        '=' => plain("equal"),
        '+' => shifted("equal"),
        '[' => plain("bracket_left"),
        '{' => shifted("bracket_left"),
        ']' => plain("bracket_right"),
        '}' => shifted("bracket_right"),
        '\\' => plain("backslash"),
        '|' => shifted("backslash"),
        ';' => plain("semicolon"),
        ':' => shifted("semicolon"),
        '\'' => plain("apostrophe"),
        '"' => shifted("apostrophe"),
        '`' => plain("grave_accent"),
        '~' => shifted("grave_accent"),
        ',' => plain("comma"),
        '<' => shifted("comma"),
        '.' => plain("dot"),
        '>' => shifted("dot"),
        '/' => plain("slash"),
        '?' => shifted("slash"),
        '!' => shifted("1"),
        '@' => shifted("2"),
        '#' => shifted("3"),
        '$' => shifted("4"),
        '%' => shifted("5"),
        '^' => shifted("6"),
        '&' => shifted("7"),
        '*' => shifted("8"),
        '(' => shifted("9"),
        ')' => shifted("0"),
        _ => None,
    }
}

const LETTERS: [&str; 26] = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r", "s", "t", "u", "v", "w", "x", "y", "z"];
const DIGITS: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

/// Parses a boot command (the elements of `boot_command`, concatenated).
/// Errors name the character offset (counted from 0) of the problem.
pub fn parse(s: &str) -> Result<Vec<Action>, String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '<' {
            if let Some((action, len)) = parse_tag(&chars, i)? {
                out.push(action);
                i += len;
                continue;
            }
        }
        match c {
            '\n' | '\r' => {}
            _ => {
                let key = char_key(c).ok_or_else(|| {
                    format!(
                        "cannot type {c:?} (at offset {i}{}): only the characters of a US keyboard can be typed; use <enter>, <tab> and the other special keys for the rest",
                        context(&chars, i, i + 1)
                    )
                })?;
                out.push(Action::Key { key, action: KeyAction::Press });
            }
        }
        i += 1;
    }
    Ok(out)
}

/// ` near "…text…"`, to show where an offset is.
fn context(chars: &[char], start: usize, end: usize) -> String {
    if chars.len() <= 40 {
        return String::new();
    }
    let from = start.saturating_sub(15);
    let to = (end + 15).min(chars.len());
    let snippet: String = chars[from..to].iter().collect();
    format!(", near \"{}{}{}\"", if from > 0 { "…" } else { "" }, snippet.replace('\n', "\\n"), if to < chars.len() { "…" } else { "" })
}

/// Recognises `<…>` at `start`. `Ok(None)` means the `<` is text.
fn parse_tag(chars: &[char], start: usize) -> Result<Option<(Action, usize)>, String> {
    // `<aOn>` / `<aOff>`: any one character, held or released.
    if let Some(&c) = chars.get(start + 1) {
        for (suffix, action) in [("on>", KeyAction::Down), ("off>", KeyAction::Up)] {
            let n = suffix.chars().count();
            let tail: String = chars.iter().skip(start + 2).take(n).collect();
            if tail.eq_ignore_ascii_case(suffix) {
                let key = char_key(c).ok_or_else(|| format!("cannot hold {c:?} (at offset {}): it is not a key of a US keyboard", start + 1))?;
                return Ok(Some((Action::Key { key, action }, 2 + n)));
            }
        }
    }
    // A name: letters and digits, plus what a wait's duration may contain.
    let mut end = start + 1;
    while end < chars.len() && (chars[end].is_ascii_alphanumeric() || matches!(chars[end], '.' | 'µ' | '-' | '_')) {
        end += 1;
    }
    if end == start + 1 || chars.get(end) != Some(&'>') {
        return Ok(None);
    }
    let name: String = chars[start + 1..end].iter().collect();
    let len = end + 1 - start;
    let lower = name.to_ascii_lowercase();
    let at = || format!("at offset {start}{}", context(chars, start, end + 1));

    if let Some(rest) = lower.strip_prefix("wait") {
        let d = if rest.is_empty() {
            Duration::from_secs(1)
        } else if rest.starts_with('-') {
            return Err(format!("<{name}> ({}) waits a negative time; a wait must be positive", at()));
        } else {
            bake_sdk::duration::parse_wait(rest)
                .map_err(|e| format!("<{name}> ({}) is not a valid wait: {e}; write <wait>, <wait5>, <wait500ms> or <wait1m30s>", at()))?
        };
        if d.is_zero() {
            return Err(format!("<{name}> ({}) waits no time; a wait must be positive", at()));
        }
        return Ok(Some((Action::Wait(d), len)));
    }
    let found = special(&lower)
        .map(|q| (q, KeyAction::Press))
        .or_else(|| lower.strip_suffix("on").and_then(special).map(|q| (q, KeyAction::Down)))
        .or_else(|| lower.strip_suffix("off").and_then(special).map(|q| (q, KeyAction::Up)));
    if let Some((qcode, action)) = found {
        return Ok(Some((Action::Key { key: Key { qcode, shift: false }, action }, len)));
    }
    // Only a plain word is taken for a misspelt key; `<-x>` or `<1.5>` is text.
    let word = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) && name.chars().all(|c| c.is_ascii_alphanumeric());
    if !word {
        return Ok(None);
    }
    let hint = match suggest(&lower) {
        Some(s) => format!("did you mean <{s}>?"),
        None => "keys are <enter>, <tab>, <esc>, <bs>, <del>, <spacebar>, <up>, <down>, <left>, <right>, <home>, <end>, <insert>, <pageUp>, <pageDown>, <menu>, <f1>…<f12>, <leftAlt>, <leftCtrl>, <leftShift>, <leftSuper> and their right… and …On/…Off forms, and <wait>, <wait5>, <wait1m30s>".to_string(),
    };
    Err(format!("unknown key <{name}> ({}); {hint} (to type a \"<\" before a word, write it as <leftShiftOn>,<leftShiftOff>)", at()))
}

/// The closest key name (with its On/Off form, or a wait), if close enough.
fn suggest(lower: &str) -> Option<String> {
    // Names other tools use for the same keys.
    const ALIASES: &[(&str, &str)] = &[
        ("delete", "del"),
        ("backspace", "bs"),
        ("escape", "esc"),
        ("space", "spacebar"),
        ("spc", "spacebar"),
        ("ret", "enter"),
        ("pgup", "pageUp"),
        ("pgdn", "pageDown"),
        ("pgdown", "pageDown"),
        ("ins", "insert"),
        ("ctrl", "leftCtrl"),
        ("control", "leftCtrl"),
        ("alt", "leftAlt"),
        ("shift", "leftShift"),
        ("super", "leftSuper"),
        ("win", "leftSuper"),
        ("meta", "leftSuper"),
        ("apps", "menu"),
        ("sleep", "wait"),
    ];
    for (suffix, form) in [("", ""), ("on", "On"), ("off", "Off")] {
        if let Some(base) = lower.strip_suffix(suffix) {
            if let Some((_, key)) = ALIASES.iter().find(|(a, _)| *a == base) {
                return Some(format!("{key}{form}"));
            }
        }
    }
    let mut candidates: Vec<String> = Vec::new();
    for (n, _) in SPECIALS {
        candidates.push(n.to_string());
        candidates.push(format!("{n}On"));
        candidates.push(format!("{n}Off"));
    }
    candidates.extend(["wait".to_string(), "wait5".to_string(), "wait10".to_string()]);
    let (best, distance) = candidates.iter().map(|c| (c, levenshtein(lower, &c.to_ascii_lowercase()))).min_by_key(|(_, d)| *d)?;
    (distance <= 2.max(lower.len() / 3)).then(|| best.clone())
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// Types `actions` into the guest: each key press and release is one QMP
/// `input-send-event`, followed by `interval` (as Packer's drivers pause
/// after every key event). Shift is pressed around shifted characters unless
/// a Shift is already held. Keys still held at the end are released.
pub async fn type_command(qmp: &mut Qmp, actions: &[Action], interval: Duration, cancel: &CancellationToken) -> anyhow::Result<()> {
    let mut typist = Typist { qmp, interval, cancel, held: Vec::new() };
    let result = typist.run(actions).await;
    if !cancel.is_cancelled() {
        // A modifier left down would disturb everything typed on the guest
        // afterwards (by the installer's user or a later step).
        let held: Vec<_> = typist.held.drain(..).rev().collect();
        for h in held {
            let released = typist.qmp.key_event(h.qcode, false).await;
            if result.is_ok() {
                released?;
            }
        }
    }
    result
}

struct Held {
    qcode: &'static str,
    /// A Shift pressed for a held shifted character (`<AOn>`), released with it.
    auto_shift: bool,
}

struct Typist<'a> {
    qmp: &'a mut Qmp,
    interval: Duration,
    cancel: &'a CancellationToken,
    held: Vec<Held>,
}

impl Typist<'_> {
    async fn run(&mut self, actions: &[Action]) -> anyhow::Result<()> {
        for action in actions {
            if self.cancel.is_cancelled() {
                return Err(Cancelled::during("typing the boot command").into());
            }
            match action {
                Action::Wait(d) => self.pause(*d).await?,
                Action::Key { key, action: KeyAction::Press } => {
                    let shift = key.shift && !self.shift_held();
                    if shift {
                        self.event("shift", true).await?;
                    }
                    self.event(key.qcode, true).await?;
                    self.event(key.qcode, false).await?;
                    if shift {
                        self.event("shift", false).await?;
                    }
                }
                Action::Key { key, action: KeyAction::Down } => {
                    if key.shift && !self.shift_held() {
                        self.event("shift", true).await?;
                        self.held.push(Held { qcode: "shift", auto_shift: true });
                    }
                    self.event(key.qcode, true).await?;
                    self.held.push(Held { qcode: key.qcode, auto_shift: false });
                }
                Action::Key { key, action: KeyAction::Up } => {
                    self.event(key.qcode, false).await?;
                    if let Some(i) = self.held.iter().rposition(|h| h.qcode == key.qcode && !h.auto_shift) {
                        self.held.remove(i);
                    }
                    if key.shift {
                        if let Some(i) = self.held.iter().rposition(|h| h.auto_shift) {
                            self.held.remove(i);
                            self.event("shift", false).await?;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn shift_held(&self) -> bool {
        self.held.iter().any(|h| h.qcode == "shift" || h.qcode == "shift_r")
    }

    async fn event(&mut self, qcode: &str, down: bool) -> anyhow::Result<()> {
        self.qmp.key_event(qcode, down).await?;
        self.pause(self.interval).await
    }

    async fn pause(&self, d: Duration) -> anyhow::Result<()> {
        bake_sdk::cancel::sleep(d, self.cancel).await.map_err(|_| Cancelled::during("typing the boot command").into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(qcode: &'static str, shift: bool) -> Action {
        Action::Key { key: Key { qcode, shift }, action: KeyAction::Press }
    }

    fn keys(s: &str) -> Vec<(&'static str, bool)> {
        parse(s)
            .unwrap()
            .into_iter()
            .map(|a| match a {
                Action::Key { key, action: KeyAction::Press } => (key.qcode, key.shift),
                other => panic!("not a press: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn text_is_typed_with_shift_where_a_us_keyboard_needs_it() {
        assert_eq!(keys("aZ9"), [("a", false), ("z", true), ("9", false)]);
        assert_eq!(
            keys("!@#$%^&*()"),
            [("1", true), ("2", true), ("3", true), ("4", true), ("5", true), ("6", true), ("7", true), ("8", true), ("9", true), ("0", true)]
        );
        assert_eq!(
            keys("-_=+[{]}\\|"),
            [
                ("minus", false),
                ("minus", true),
                ("equal", false),
                ("equal", true),
                ("bracket_left", false),
                ("bracket_left", true),
                ("bracket_right", false),
                ("bracket_right", true),
                ("backslash", false),
                ("backslash", true)
            ]
        );
        assert_eq!(
            keys(";:'\"`~,<./?> "),
            [
                ("semicolon", false),
                ("semicolon", true),
                ("apostrophe", false),
                ("apostrophe", true),
                ("grave_accent", false),
                ("grave_accent", true),
                ("comma", false),
                ("comma", true),
                ("dot", false),
                ("slash", false),
                ("slash", true),
                ("dot", true),
                ("spc", false)
            ]
        );
    }

    #[test]
    fn every_printable_ascii_character_has_a_key() {
        for c in ' '..='~' {
            assert!(char_key(c).is_some(), "{c:?}");
        }
    }

    #[test]
    fn special_keys_ignore_case() {
        assert_eq!(
            parse("<enter><RETURN><Esc><bs><DEL><tab><spacebar>").unwrap(),
            vec![
                press("ret", false),
                press("ret", false),
                press("esc", false),
                press("backspace", false),
                press("delete", false),
                press("tab", false),
                press("spc", false),
            ]
        );
        assert_eq!(
            parse("<pageup><PageDown><f1><F10><f12><menu><insert><home><end>").unwrap(),
            vec![
                press("pgup", false),
                press("pgdn", false),
                press("f1", false),
                press("f10", false),
                press("f12", false),
                press("compose", false),
                press("insert", false),
                press("home", false),
                press("end", false),
            ]
        );
        assert_eq!(parse("<up><down><left><right>").unwrap(), vec![press("up", false), press("down", false), press("left", false), press("right", false)]);
        assert_eq!(
            parse("<leftAlt><leftCtrl><leftShift><leftSuper><rightAlt><rightCtrl><rightShift><rightSuper>").unwrap(),
            vec![
                press("alt", false),
                press("ctrl", false),
                press("shift", false),
                press("meta_l", false),
                press("alt_r", false),
                press("ctrl_r", false),
                press("shift_r", false),
                press("meta_r", false),
            ]
        );
    }

    #[test]
    fn on_and_off_hold_and_release() {
        let down = |qcode, shift| Action::Key { key: Key { qcode, shift }, action: KeyAction::Down };
        let up = |qcode, shift| Action::Key { key: Key { qcode, shift }, action: KeyAction::Up };
        assert_eq!(parse("<leftCtrlOn>x<leftCtrlOff>").unwrap(), vec![down("ctrl", false), press("x", false), up("ctrl", false)]);
        assert_eq!(parse("<LEFTALTON><f2><leftaltoff>").unwrap(), vec![down("alt", false), press("f2", false), up("alt", false)]);
        assert_eq!(parse("<aOn><AOff><<On>").unwrap(), vec![down("a", false), up("a", true), down("comma", true)]);
        assert_eq!(parse("<rightSuperOn><upOff>").unwrap(), vec![down("meta_r", false), up("up", false)]);
    }

    #[test]
    fn waits() {
        let wait = |ms| Action::Wait(Duration::from_millis(ms));
        assert_eq!(parse("<wait>").unwrap(), vec![wait(1000)]);
        assert_eq!(parse("<wait5><wait10>").unwrap(), vec![wait(5000), wait(10_000)]);
        assert_eq!(parse("<wait1m30s><wait250ms><wait1h><wait1.5s>").unwrap(), vec![wait(90_000), wait(250), wait(3_600_000), wait(1500)]);
        assert_eq!(parse("<Wait2>").unwrap(), vec![wait(2000)]);
    }

    #[test]
    fn a_typical_installer_command() {
        let actions = parse("<esc><wait>\ninstall auto=true url=http://10.0.2.2:8123/preseed.cfg<enter>").unwrap();
        assert_eq!(actions[0], press("esc", false));
        assert_eq!(actions[1], Action::Wait(Duration::from_secs(1)));
        assert_eq!(actions[2], press("i", false));
        assert_eq!(*actions.last().unwrap(), press("ret", false));
        // The line break is not typed.
        assert_eq!(actions.len(), 2 + "install auto=true url=http://10.0.2.2:8123/preseed.cfg".len() + 1);
    }

    #[test]
    fn angle_brackets_that_are_not_keys_are_text() {
        assert_eq!(keys("a < b"), [("a", false), ("spc", false), ("comma", true), ("spc", false), ("b", false)]);
        assert_eq!(keys("<>"), [("comma", true), ("dot", true)]);
        assert_eq!(keys("</dev/null>"), keys("<").into_iter().chain(keys("/dev/null>")).collect::<Vec<_>>());
        assert_eq!(keys("<<EOF >"), keys("<").into_iter().chain(keys("<EOF >")).collect::<Vec<_>>());
        assert_eq!(keys("x<-1>"), [("x", false), ("comma", true), ("minus", false), ("1", false), ("dot", true)]);
        assert_eq!(keys("<<"), [("comma", true), ("comma", true)]);
        // Typing "<" before a word: shift + comma.
        let a = parse("<leftShiftOn>,<leftShiftOff>html>").unwrap();
        assert_eq!(a.len(), 2 + 1 + 5);
    }

    #[test]
    fn unknown_keys_are_errors_with_a_suggestion_and_an_offset() {
        let e = parse("hello <entr>").unwrap_err();
        assert!(e.contains("unknown key <entr>"), "{e}");
        assert!(e.contains("at offset 6"), "{e}");
        assert!(e.contains("did you mean <enter>?"), "{e}");
        let e = parse("<delete>").unwrap_err();
        assert!(e.contains("did you mean <del>?"), "{e}");
        let e = parse("<leftCtrlOnn>").unwrap_err();
        assert!(e.contains("did you mean <leftCtrlOn>?"), "{e}");
        let e = parse("<pagedwn>").unwrap_err();
        assert!(e.contains("did you mean <pageDown>?"), "{e}");
        assert!(parse("<escape>").unwrap_err().contains("did you mean <esc>?"));
        assert!(parse("<ctrlOn>").unwrap_err().contains("did you mean <leftCtrlOn>?"));
        let e = parse("<zzzzzzzzzz>").unwrap_err();
        assert!(e.contains("keys are <enter>"), "{e}");
        let e = parse("ab\n<foo>").unwrap_err();
        assert!(e.contains("unknown key <foo> (at offset 3)"), "{e}");
    }

    #[test]
    fn bad_waits_are_errors() {
        let e = parse("<wait5x>").unwrap_err();
        assert!(e.contains("<wait5x> (at offset 0) is not a valid wait"), "{e}");
        assert!(parse("<wait0>").unwrap_err().contains("waits no time"));
        assert!(parse("<wait-1s>").unwrap_err().contains("negative"));
    }

    #[test]
    fn untypable_characters_are_errors() {
        let e = parse("abc\u{e9}").unwrap_err();
        assert!(e.contains("cannot type 'é' (at offset 3"), "{e}");
        assert!(parse("a\u{7}").is_err());
    }

    #[test]
    fn long_commands_show_where_the_error_is() {
        let e = parse("linux /install/vmlinuz auto=true priority=critical <enterr> initrd").unwrap_err();
        assert!(e.contains("near \"…ority=critical <enterr> initrd\""), "{e}");
    }

    #[test]
    fn empty_is_nothing() {
        assert_eq!(parse("").unwrap(), vec![]);
    }
}
