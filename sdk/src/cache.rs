//! Where bake keeps what it can fetch or build again (downloaded images,
//! built disk images, the accelerator verdict): one directory for every
//! plugin, so that removing it is the one way to start afresh.

use std::ffi::OsString;
use std::path::PathBuf;

/// `$XDG_CACHE_HOME/bake`, else `$HOME/.cache/bake`. With neither set (a
/// bare service environment) it is `bake` under the system's temporary
/// directory (`std::env::temp_dir()`, usually `/tmp/bake`): the cache is
/// then lost on reboot, which costs time, never correctness.
pub fn root() -> PathBuf {
    root_from(std::env::var_os("XDG_CACHE_HOME"), std::env::var_os("HOME"))
}

/// [`root`] from the two variables' values (empty counts as unset).
fn root_from(xdg_cache_home: Option<OsString>, home: Option<OsString>) -> PathBuf {
    xdg_cache_home
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| home.filter(|v| !v.is_empty()).map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("bake")
}

/// The cache directory for one kind of thing: `dir("downloads")` is
/// [`root()`]`/downloads`. Not created here: whoever writes creates it.
pub fn dir(kind: &str) -> PathBuf {
    root().join(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn under_the_xdg_cache_home_else_home_else_the_temp_dir() {
        let some = |s: &str| Some(OsString::from(s));
        assert_eq!(root_from(some("/xdg"), some("/home/u")), PathBuf::from("/xdg/bake"));
        assert_eq!(root_from(some(""), some("/home/u")), PathBuf::from("/home/u/.cache/bake"));
        assert_eq!(root_from(None, some("/home/u")), PathBuf::from("/home/u/.cache/bake"));
        assert_eq!(root_from(None, None), std::env::temp_dir().join("bake"));
        assert_eq!(dir("downloads"), root().join("downloads"));
    }
}
