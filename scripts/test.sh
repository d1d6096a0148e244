#!/usr/bin/env bash
# Runs every test of bake: the house rules (formatting, clippy with the
# workspace's lints, warnings as errors), then the unit tests next to the code
# and the integration tests under tests/ that drive the real binary. Installs
# what they need first.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked "$@"
