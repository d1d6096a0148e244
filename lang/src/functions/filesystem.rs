//! Filesystem functions. Paths are handled as Go's path/filepath handles
//! them on Unix (lexical cleaning, `~` expansion from $HOME), and relative
//! paths resolve against the run's working directory, `ctx.cwd`.

use super::string::{go_quote, string_arg};
use super::{arity, FuncContext, FuncError, FuncResult};
use crate::value::Value;
use globset::GlobBuilder;
use std::path::Path;

pub const NAMES: &[&str] = &["abspath", "basename", "dirname", "file", "fileexists", "fileset", "pathexpand", "templatefile"];

pub fn call(name: &str, args: &[Value], ctx: &FuncContext) -> FuncResult {
    match name {
        "abspath" => {
            arity(name, args, 1, Some(1))?;
            Ok(Value::String(absolute(ctx, &string_arg(args, 0, "path")?)))
        }
        "basename" => {
            arity(name, args, 1, Some(1))?;
            Ok(Value::String(base_name(&string_arg(args, 0, "path")?)))
        }
        "dirname" => {
            arity(name, args, 1, Some(1))?;
            Ok(Value::String(dir_name(&string_arg(args, 0, "path")?)))
        }
        "pathexpand" => {
            arity(name, args, 1, Some(1))?;
            expand_home(&string_arg(args, 0, "path")?).map(Value::String).map_err(|e| FuncError::arg(0, e))
        }
        "file" => {
            arity(name, args, 1, Some(1))?;
            read_text(ctx, &string_arg(args, 0, "path")?).map(|(_, text)| Value::String(text))
        }
        "fileexists" => {
            arity(name, args, 1, Some(1))?;
            file_exists(ctx, &string_arg(args, 0, "path")?)
        }
        "fileset" => {
            arity(name, args, 2, Some(2))?;
            fileset(ctx, &string_arg(args, 0, "path")?, &string_arg(args, 1, "pattern")?)
        }
        "templatefile" => templatefile(name, args, ctx),
        _ => Err(FuncError::new(format!("there is no function named \"{name}\""))),
    }
}

// ---------------------------------------------------------------------------
// Lexical path handling, after Go's path/filepath
// ---------------------------------------------------------------------------

/// Go's filepath.Clean: the shortest equivalent path, by purely lexical
/// processing.
fn clean(path: &str) -> String {
    if path.is_empty() {
        return ".".to_string();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            ".." if rooted => {} // ".." at the root is the root
            _ => parts.push(part),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// Go's filepath.Join: the non-empty elements joined and cleaned.
fn join(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => String::new(),
        (true, false) => clean(b),
        (false, true) => clean(a),
        (false, false) => clean(&format!("{a}/{b}")),
    }
}

/// The working directory as an absolute path, so that results such as
/// abspath's are absolute even if the caller gave a relative one.
fn cwd_string(ctx: &FuncContext) -> String {
    let cwd =
        if ctx.cwd.is_absolute() { ctx.cwd.to_path_buf() } else { std::env::current_dir().map(|d| d.join(ctx.cwd)).unwrap_or_else(|_| ctx.cwd.to_path_buf()) };
    clean(&cwd.to_string_lossy())
}

/// Go's filepath.Abs, relative to the run's working directory.
fn absolute(ctx: &FuncContext, path: &str) -> String {
    if path.starts_with('/') {
        clean(path)
    } else {
        join(&cwd_string(ctx), path)
    }
}

/// Go's filepath.Base: the last element, ignoring trailing slashes.
fn base_name(path: &str) -> String {
    if path.is_empty() {
        return ".".to_string();
    }
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/".to_string();
    }
    trimmed.rsplit('/').next().unwrap_or(trimmed).to_string()
}

/// Go's filepath.Dir: everything but the last element, cleaned.
fn dir_name(path: &str) -> String {
    let cut = path.rfind('/').map_or(0, |i| i + 1);
    clean(&path[..cut])
}

/// Expands a leading `~` to the home directory, as go-homedir does; other
/// users' homes (`~name`) are not supported.
fn expand_home(path: &str) -> Result<String, String> {
    let Some(rest) = path.strip_prefix('~') else { return Ok(path.to_string()) };
    if !rest.is_empty() && !rest.starts_with(['/', '\\']) {
        return Err("cannot expand user-specific home dir".to_string());
    }
    let home = std::env::var("HOME").ok().filter(|h| !h.is_empty());
    let home = home.ok_or_else(|| "could not determine the home directory: $HOME is not set".to_string())?;
    Ok(join(&home, rest))
}

/// The cleaned absolute path a file function reads, after `~` expansion.
fn resolve(ctx: &FuncContext, path: &str) -> Result<String, FuncError> {
    let expanded = expand_home(path).map_err(|e| FuncError::arg(0, format!("failed to expand ~: {e}")))?;
    Ok(absolute(ctx, &expanded))
}

/// Go's filepath.Rel for two cleaned absolute paths.
fn relative(base: &str, target: &str) -> String {
    if base == target {
        return ".".to_string();
    }
    let parts = |p: &str| p.split('/').filter(|s| !s.is_empty()).map(String::from).collect::<Vec<_>>();
    let (base, target) = (parts(base), parts(target));
    let common = base.iter().zip(&target).take_while(|(a, b)| a == b).count();
    let mut out: Vec<String> = vec!["..".to_string(); base.len() - common];
    out.extend(target[common..].iter().cloned());
    out.join("/")
}

// ---------------------------------------------------------------------------
// Reading files
// ---------------------------------------------------------------------------

/// Reads a UTF-8 file; returns its resolved path and text.
fn read_text(ctx: &FuncContext, path: &str) -> Result<(String, String), FuncError> {
    let resolved = resolve(ctx, path)?;
    let bytes = std::fs::read(&resolved).map_err(|e| {
        let msg = match e.kind() {
            std::io::ErrorKind::NotFound => format!("no file exists at {resolved}"),
            _ => format!("failed to read {resolved}"),
        };
        FuncError::arg(0, msg)
    })?;
    let text = String::from_utf8(bytes).map_err(|_| {
        FuncError::arg(
            0,
            format!(
                "contents of {path} are not valid UTF-8; use the filebase64 function to obtain the Base64 encoded \
                 contents or the other file functions (e.g. filemd5, filesha256) to obtain file hashing results instead"
            ),
        )
    })?;
    Ok((resolved, text))
}

fn file_exists(ctx: &FuncContext, path: &str) -> FuncResult {
    let resolved = resolve(ctx, path)?;
    match std::fs::metadata(&resolved) {
        Ok(meta) if meta.is_file() => Ok(Value::Bool(true)),
        Ok(meta) => Err(FuncError::arg(0, format!("{resolved} is not a regular file, but {}", go_quote(&mode_string(&meta))))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Value::Bool(false)),
        Err(_) => Err(FuncError::arg(0, format!("failed to stat {resolved}"))),
    }
}

/// Go's FileMode.String, e.g. "drwxr-xr-x".
#[cfg(unix)]
fn mode_string(meta: &std::fs::Metadata) -> String {
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    let ft = meta.file_type();
    let mode = meta.permissions().mode();
    let flags = [
        (ft.is_dir(), 'd'),
        (ft.is_block_device() || ft.is_char_device(), 'D'),
        (ft.is_fifo(), 'p'),
        (ft.is_socket(), 'S'),
        (mode & 0o4000 != 0, 'u'),
        (mode & 0o2000 != 0, 'g'),
        (ft.is_char_device(), 'c'),
        (mode & 0o1000 != 0, 't'),
    ];
    let mut out: String = flags.iter().filter(|(set, _)| *set).map(|(_, c)| c).collect();
    if out.is_empty() {
        out.push('-');
    }
    for (i, c) in "rwxrwxrwx".chars().enumerate() {
        out.push(if mode & (1 << (8 - i)) != 0 { c } else { '-' });
    }
    out
}

#[cfg(not(unix))]
fn mode_string(meta: &std::fs::Metadata) -> String {
    if meta.is_dir() { "drwxrwxrwx" } else { "-rw-rw-rw-" }.to_string()
}

// ---------------------------------------------------------------------------
// fileset
// ---------------------------------------------------------------------------

/// Regular files under `path` matching `pattern`, relative to `path` and
/// with forward slashes, as a set. Pattern syntax follows doublestar:
/// `*`, `?`, `[...]`, `{a,b}` within a path element and `**` across them.
fn fileset(ctx: &FuncContext, path: &str, pattern: &str) -> FuncResult {
    let base = absolute(ctx, path);
    let full = join(&base, &doublestar_as_globset(pattern));
    let bad_pattern = || FuncError::new(format!("failed to glob pattern ({full}): syntax error in pattern"));
    let glob = GlobBuilder::new(&full).literal_separator(true).backslash_escape(true).build().map_err(|_| bad_pattern())?.compile_matcher();

    let (root, depth) = walk_plan(&full);
    let mut files = Vec::new();
    let root_path = Path::new(&root);
    if root_path.is_file() {
        files.push(root.clone());
    } else {
        walk(root_path, depth, &mut files);
    }
    let matches = files.into_iter().filter(|f| glob.is_match(f)).map(|f| Value::String(relative(&base, &f))).collect();
    Ok(Value::set(matches))
}

/// doublestar treats `**` inside a path element as `*`; globset rejects it.
fn doublestar_as_globset(pattern: &str) -> String {
    pattern
        .split('/')
        .map(|part| {
            if part == "**" || !part.contains("**") {
                part.to_string()
            } else {
                let mut p = part.to_string();
                while p.contains("**") {
                    p = p.replace("**", "*");
                }
                p
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Where to start walking for a pattern — its longest prefix of literal
/// elements — and how deep to go (unlimited when `**` appears).
fn walk_plan(full: &str) -> (String, Option<usize>) {
    let is_meta = |part: &str| part.contains(['*', '?', '[', '{', '\\']);
    let parts: Vec<&str> = full.split('/').collect();
    let literal = parts.iter().take_while(|p| !is_meta(p)).count();
    let root = match parts[..literal].join("/") {
        r if r.is_empty() => "/".to_string(),
        r => r,
    };
    let rest = &parts[literal..];
    let depth = (!rest.contains(&"**")).then_some(rest.len());
    (root, depth)
}

/// Collects the regular files (following symlinks to files, not to
/// directories) below `dir`, at most `depth` levels down.
fn walk(dir: &Path, depth: Option<usize>, out: &mut Vec<String>) {
    if depth == Some(0) {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let is_real_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_real_dir {
            walk(&path, depth.map(|d| d - 1), out);
        } else if path.is_file() {
            out.push(path.to_string_lossy().into_owned());
        }
    }
}

// ---------------------------------------------------------------------------
// templatefile
// ---------------------------------------------------------------------------

fn templatefile(name: &str, args: &[Value], ctx: &FuncContext) -> FuncResult {
    arity(name, args, 2, Some(2))?;
    let (resolved, text) = read_text(ctx, &string_arg(args, 0, "path")?)?;
    let Value::Object(vars) = &args[1] else {
        return Err(FuncError::arg(1, "invalid vars value: must be a map"));
    };
    if let Some(bad) = vars.keys().find(|k| !is_identifier(k)) {
        return Err(FuncError::arg(
            1,
            format!("invalid template variable name {}: must start with a letter, followed by zero or more letters, digits, and underscores", go_quote(bad)),
        ));
    }
    (ctx.render_template)(Path::new(&resolved), &text, vars).map_err(FuncError::new)
}

/// An HCL identifier: a letter or underscore, then letters, digits,
/// underscores and dashes.
fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_') && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::super::string::testutil::{list, object, s, temp_dir, with_ctx};
    use super::*;
    use std::fs;

    fn call_in(dir: &Path, name: &str, args: Vec<Value>) -> FuncResult {
        with_ctx(dir, |ctx| call(name, &args, ctx))
    }

    fn ok_in(dir: &Path, name: &str, args: Vec<Value>) -> Value {
        call_in(dir, name, args).unwrap_or_else(|e| panic!("{name} failed: {}", e.message))
    }

    fn err_in(dir: &Path, name: &str, args: Vec<Value>) -> String {
        match call_in(dir, name, args) {
            Ok(v) => panic!("{name} unexpectedly returned {v}"),
            Err(e) => e.message,
        }
    }

    fn dir_str(dir: &Path) -> String {
        dir.to_string_lossy().into_owned()
    }

    #[test]
    fn lexical_paths() {
        assert_eq!(clean("a//b/./c/.."), "a/b");
        assert_eq!(clean("/../x"), "/x");
        assert_eq!(clean("../../x"), "../../x");
        assert_eq!(clean("a/.."), ".");
        assert_eq!(relative("/a/b", "/a/b/c/d"), "c/d");
        assert_eq!(relative("/a/b", "/a/x"), "../x");
        assert_eq!(relative("/a", "/a"), ".");
    }

    #[test]
    fn abspath_basename_dirname() {
        let dir = temp_dir("paths");
        let d = dir_str(&dir);
        assert_eq!(ok_in(&dir, "abspath", vec![s("sub/../x.txt")]), s(&format!("{d}/x.txt")));
        assert_eq!(ok_in(&dir, "abspath", vec![s("/etc//hosts")]), s("/etc/hosts"));
        assert_eq!(ok_in(&dir, "abspath", vec![s(".")]), s(&d));
        assert_eq!(ok_in(&dir, "basename", vec![s("foo/bar/baz.txt")]), s("baz.txt"));
        assert_eq!(ok_in(&dir, "basename", vec![s("foo/bar/")]), s("bar"));
        assert_eq!(ok_in(&dir, "basename", vec![s("/")]), s("/"));
        assert_eq!(ok_in(&dir, "basename", vec![s("")]), s("."));
        assert_eq!(ok_in(&dir, "dirname", vec![s("foo/bar/baz.txt")]), s("foo/bar"));
        assert_eq!(ok_in(&dir, "dirname", vec![s("foo/bar/")]), s("foo/bar"));
        assert_eq!(ok_in(&dir, "dirname", vec![s("baz.txt")]), s("."));
        assert_eq!(ok_in(&dir, "dirname", vec![s("/baz.txt")]), s("/"));
        assert_eq!(ok_in(&dir, "dirname", vec![s("")]), s("."));
    }

    #[test]
    fn pathexpand_uses_home() {
        let dir = temp_dir("home");
        let home = std::env::var("HOME").unwrap_or_default();
        if !home.is_empty() {
            assert_eq!(ok_in(&dir, "pathexpand", vec![s("~/.ssh/id_rsa")]), s(&join(&home, ".ssh/id_rsa")));
            assert_eq!(ok_in(&dir, "pathexpand", vec![s("~")]), s(&clean(&home)));
        }
        assert_eq!(ok_in(&dir, "pathexpand", vec![s("/etc/~x")]), s("/etc/~x"));
        assert_eq!(ok_in(&dir, "pathexpand", vec![s("")]), s(""));
        assert_eq!(err_in(&dir, "pathexpand", vec![s("~bob/x")]), "cannot expand user-specific home dir");
    }

    #[test]
    fn file_reads_utf8() {
        let dir = temp_dir("file");
        fs::write(dir.join("hello.txt"), "Hello World\n").unwrap();
        fs::write(dir.join("bin"), [0xffu8, 0xfe]).unwrap();
        fs::create_dir(dir.join("sub")).unwrap();
        let d = dir_str(&dir);
        assert_eq!(ok_in(&dir, "file", vec![s("hello.txt")]), s("Hello World\n"));
        assert_eq!(ok_in(&dir, "file", vec![s(&format!("{d}/sub/../hello.txt"))]), s("Hello World\n"));
        assert_eq!(err_in(&dir, "file", vec![s("missing.txt")]), format!("no file exists at {d}/missing.txt"));
        assert!(err_in(&dir, "file", vec![s("bin")]).starts_with("contents of bin are not valid UTF-8"));
        assert_eq!(err_in(&dir, "file", vec![s("sub")]), format!("failed to read {d}/sub"));
    }

    #[test]
    fn fileexists_checks_regular_files() {
        let dir = temp_dir("exists");
        fs::write(dir.join("a.txt"), "a").unwrap();
        fs::create_dir(dir.join("sub")).unwrap();
        assert_eq!(ok_in(&dir, "fileexists", vec![s("a.txt")]), Value::Bool(true));
        assert_eq!(ok_in(&dir, "fileexists", vec![s("nope.txt")]), Value::Bool(false));
        let e = err_in(&dir, "fileexists", vec![s("sub")]);
        assert!(e.starts_with(&format!("{}/sub is not a regular file, but \"d", dir_str(&dir))), "{e}");
    }

    #[test]
    fn fileset_globs() {
        let dir = temp_dir("fileset");
        for f in ["a.txt", "b.txt", "c.md", ".hidden.txt", "sub/d.txt", "sub/deep/e.txt", "sub/deep/f.md", "x1.log", "x2.log", "xa.log"] {
            let p = dir.join(f);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, f).unwrap();
        }
        fs::create_dir_all(dir.join("emptydir.txt")).unwrap();
        let set = |path: &str, pattern: &str| ok_in(&dir, "fileset", vec![s(path), s(pattern)]);
        assert_eq!(set(".", "*.txt"), list(&[".hidden.txt", "a.txt", "b.txt"]));
        assert_eq!(set(".", "**/*.txt"), list(&[".hidden.txt", "a.txt", "b.txt", "sub/d.txt", "sub/deep/e.txt"]));
        assert_eq!(set(".", "*.{md,log}"), list(&["c.md", "x1.log", "x2.log", "xa.log"]));
        assert_eq!(set(".", "x?.log"), list(&["x1.log", "x2.log", "xa.log"]));
        assert_eq!(set(".", "x[0-9].log"), list(&["x1.log", "x2.log"]));
        assert_eq!(set(".", "x[!0-9].log"), list(&["xa.log"]));
        assert_eq!(set("sub", "**"), list(&["d.txt", "deep/e.txt", "deep/f.md"]));
        assert_eq!(set("sub", "*/*.md"), list(&["deep/f.md"]));
        assert_eq!(set(".", "sub/d.txt"), list(&["sub/d.txt"]));
        assert_eq!(set("sub", "../*.md"), list(&["../c.md"]));
        assert_eq!(set(&dir_str(&dir), "sub/**/*.txt"), list(&["sub/d.txt", "sub/deep/e.txt"]));
        assert_eq!(set(".", "nothing/*"), list(&[]));
        assert_eq!(set(".", "a**.txt"), list(&["a.txt"]));
        assert!(err_in(&dir, "fileset", vec![s("."), s("[")]).contains("syntax error in pattern"));
    }

    #[test]
    fn templatefile_renders_with_vars() {
        let dir = temp_dir("template");
        fs::write(dir.join("t.tpl"), "Hello ${name}").unwrap();
        let vars = object(&[("name", s("x"))]);
        assert_eq!(ok_in(&dir, "templatefile", vec![s("t.tpl"), vars.clone()]), s("Hello ${name}"));
        // The renderer gets the resolved path and the variables.
        let seen = std::cell::RefCell::new(None);
        let render = |p: &Path, _: &str, v: &std::collections::BTreeMap<String, Value>| {
            *seen.borrow_mut() = Some((p.to_path_buf(), v.len()));
            Ok(Value::Bool(true))
        };
        let ctx = FuncContext { cwd: &dir, now: super::super::string::testutil::now(), render_template: &render };
        assert_eq!(call("templatefile", &[s("t.tpl"), vars], &ctx), Ok(Value::Bool(true)));
        assert_eq!(seen.into_inner(), Some((dir.join("t.tpl"), 1)));

        assert_eq!(err_in(&dir, "templatefile", vec![s("t.tpl"), s("x")]), "invalid vars value: must be a map");
        assert!(err_in(&dir, "templatefile", vec![s("t.tpl"), object(&[("1x", s("v"))])]).starts_with("invalid template variable name \"1x\""));
        assert!(err_in(&dir, "templatefile", vec![s("none.tpl"), object(&[])]).starts_with("no file exists at"));
    }
}
