//! Post-processors that live in the engine (they need no heavy dependencies).

pub mod manifest;
