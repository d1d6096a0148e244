//! The UEFI firmware on this machine: Debian's `ovmf` package.

use std::path::{Path, PathBuf};

/// OVMF's firmware code and the template of its variable store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ovmf {
    pub code: PathBuf,
    pub vars: PathBuf,
}

/// Debian's OVMF builds, the 4 MiB ones first (what bookworm ships).
const CANDIDATES: [(&str, &str); 2] =
    [("/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_VARS_4M.fd"), ("/usr/share/OVMF/OVMF_CODE.fd", "/usr/share/OVMF/OVMF_VARS.fd")];

/// The first installed OVMF build (code and variables both present); when
/// none is, the preferred one's paths, so that the error that follows
/// names a file to install.
pub fn ovmf() -> Ovmf {
    let (code, vars) = CANDIDATES.into_iter().find(|(code, vars)| Path::new(code).is_file() && Path::new(vars).is_file()).unwrap_or(CANDIDATES[0]);
    Ovmf { code: code.into(), vars: vars.into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_installed_build_or_the_preferred_paths() {
        let fw = ovmf();
        let installed = fw.code.is_file() && fw.vars.is_file();
        assert!(installed || fw == Ovmf { code: CANDIDATES[0].0.into(), vars: CANDIDATES[0].1.into() }, "{fw:?}");
        assert!(CANDIDATES.iter().any(|(code, vars)| fw.code == Path::new(code) && fw.vars == Path::new(vars)), "{fw:?}");
    }
}
