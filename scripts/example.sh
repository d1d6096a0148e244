#!/usr/bin/env bash
# The main job: a real `bake build` of the web example (a Debian base disk →
# nginx and a page → output/web/web.qcow2). Extra arguments go to bake.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cargo build --release --locked
exec ./target/release/bake build "$@" examples/web.pkr.hcl
