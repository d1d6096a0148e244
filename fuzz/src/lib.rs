//! The bodies of the fuzz targets, kept out of `fuzz_targets/` so that the
//! no-panic regression tests (`lang/tests/no_panic.rs`, `tests/no_panic.rs`)
//! include these very files and replay the corpus through the same code on
//! stable Rust.

pub mod lang;
pub mod load;
