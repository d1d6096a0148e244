//! `bake fmt`: canonical formatting, as `packer fmt`.

use crate::cli::FmtArgs;

pub fn run(_args: FmtArgs) -> i32 {
    eprintln!("Error: bake fmt is not available yet.");
    1
}
