#!/usr/bin/env bash
# Installs what bake's tests and examples need on a fresh Debian machine.
# Idempotent: installs only what is missing, so a second run costs a second.
set -euo pipefail

apt_install() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# command → Debian package providing it. qemu-system-x86 is installed on its
# own first: on machines with a backported qemu-utils it replaces it with the
# matching version, so qemu-utils is asked for after it.
declare -A packages=(
  [qemu-system-x86_64]=qemu-system-x86
  [qemu-img]=qemu-utils
  [mmdebstrap]=mmdebstrap
  [xorriso]=xorriso
  [mkfs.vfat]=dosfstools
  [mcopy]=mtools
  [sfdisk]=fdisk
  [sshd]=openssh-server
  [ssh-keygen]=openssh-client
  [busybox]=busybox-static
  [cpio]=cpio
  [tar]=tar
  [gzip]=gzip
  [zstd]=zstd
  [xz]=xz-utils
  [lz4]=lz4
  [unzip]=unzip
  [bc]=bc
  [python3]=python3
  [hyperfine]=hyperfine
  [vagrant]=vagrant
  [tmux]=tmux
  [swtpm]=swtpm
  [debugfs]=e2fsprogs
)
order=(qemu-system-x86_64 qemu-img mmdebstrap xorriso mkfs.vfat mcopy sfdisk sshd ssh-keygen busybox cpio tar gzip zstd xz lz4 unzip bc python3 hyperfine vagrant tmux swtpm debugfs)

missing=()
for cmd in "${order[@]}"; do
  PATH="$PATH:/usr/sbin:/sbin" command -v "$cmd" >/dev/null 2>&1 || missing+=("${packages[$cmd]}")
done
[[ -f /usr/share/OVMF/OVMF_CODE_4M.fd ]] || missing+=(ovmf)
# The kernel the boot_command test boots with its own initramfs.
compgen -G '/boot/vmlinuz-*' >/dev/null || missing+=(linux-image-amd64)
# `vagrant validate` of a libvirt box needs the provider plugin (no libvirt
# daemon: nothing is booted).
[[ -f /usr/share/vagrant-plugins/plugins.d/vagrant-libvirt.json ]] || missing+=(vagrant-libvirt)

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  apt-get update -qq
  for pkg in "${missing[@]}"; do
    # One at a time: qemu-system-x86 may swap qemu-utils' version.
    apt_install "$pkg"
  done
  # Re-check: a package swap above can remove an earlier tool.
  PATH="$PATH:/usr/sbin" command -v qemu-img >/dev/null || apt_install qemu-utils
fi
# moto, the AWS API emulator the AWS plugins' tests start (python3 -m
# moto.server), from PyPI: Debian does not package it. Pinned: the tests'
# launcher (tests/util/moto_server.py) fills gaps of this version's internals.
MOTO_VERSION=5.2.1
if ! python3 -c "import moto.server, sys; sys.exit(moto.__version__ != '$MOTO_VERSION')" >/dev/null 2>&1; then
  echo "setup: installing moto[server]==$MOTO_VERSION (pip)" >&2
  python3 -m pip --version >/dev/null 2>&1 || { apt-get update -qq; apt_install python3-pip; }
  # Debian's python3 refuses system-wide pip installs unless told (PEP 668).
  python3 -m pip install --quiet "moto[server]==$MOTO_VERSION" 2>/dev/null || python3 -m pip install --quiet --break-system-packages "moto[server]==$MOTO_VERSION"
fi
command -v cargo >/dev/null || { echo "setup: cargo is missing; install Rust (rustup) first" >&2; exit 1; }
# The test command checks formatting and lints too.
for tool in rustfmt clippy; do
  if ! cargo "${tool/rustfmt/fmt}" --version >/dev/null 2>&1; then
    command -v rustup >/dev/null || { echo "setup: cargo $tool is missing; install it with your Rust toolchain" >&2; exit 1; }
    echo "setup: installing the $tool component" >&2
    rustup component add "$tool"
  fi
done
