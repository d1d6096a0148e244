//! The `qemu` builder.

pub mod boot_command;
pub mod download;
pub mod http;
pub mod qmp;
