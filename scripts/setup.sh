#!/usr/bin/env bash
# Installs what bake's tests and examples need on a fresh Debian machine.
# Idempotent: does nothing that is already done.
set -euo pipefail

need_apt=()
for tool in tar gzip; do
  command -v "$tool" >/dev/null 2>&1 || need_apt+=("$tool")
done
if ((${#need_apt[@]})); then
  echo "setup: installing ${need_apt[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
command -v cargo >/dev/null || { echo "setup: cargo is missing; install Rust (rustup) first" >&2; exit 1; }
