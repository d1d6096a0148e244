//! Running QEMU machines, for every plugin that boots or builds one (the
//! qemu builder, the debootstrap data source): the qemu process, recorded
//! in the journal before it starts ([`process`]), a running VM that turns a
//! guest reboot into a fresh process under TCG ([`vm`]), its QMP connection
//! ([`qmp`]), choosing an accelerator that really works ([`accel`]), the
//! UEFI firmware ([`firmware`]) and disk images through `qemu-img`
//! ([`qemu_img`]).

pub mod accel;
pub mod firmware;
pub mod process;
pub mod qemu_img;
pub mod qmp;
pub mod vm;
