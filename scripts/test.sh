#!/usr/bin/env bash
# Runs every test of bake: unit tests next to the code and the integration
# tests under tests/ that drive the real binary. Installs what they need first.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cargo test --workspace --locked "$@"
