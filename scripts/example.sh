#!/usr/bin/env bash
# The main job: a real `bake build` of an example template.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cargo build --release --locked
exec ./target/release/bake build examples/hello.pkr.hcl "$@"
