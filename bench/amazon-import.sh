#!/usr/bin/env bash
# Benchmark: amazon-import against coldsnap (awslabs' EBS direct uploader,
# `cargo install coldsnap`), in the same run against the same moto:
#
#   1. bake amazon-import of a 1 GiB raw disk
#   2. bake amazon-import of the same disk as qcow2 (read through its
#      allocation map)
#   3. coldsnap upload --omit-zero-blocks of the raw disk
#   4. what a qcow2 costs otherwise: qemu-img convert to raw, then coldsnap
#
# For each: wall time, PutSnapshotBlock requests (counted in moto's request
# log) and the bytes they carried. The disk: GPT with an ESP, then 320 MiB
# of incompressible data in 32 runs spread over the GiB, the rest zeros
# (INPUT=path.raw measures another raw disk). bake's wall time includes
# registering the AMI (the disk is handed over by artifice, not copied);
# coldsnap makes only the snapshot.
#
# COLDSNAP=path/to/coldsnap to use that binary; BAKE=path/to/bake likewise.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
if [[ -z ${BAKE:-} ]]; then
  cargo build --release --locked -q
fi
bake=$(realpath "${BAKE:-$root/target/release/bake}")
coldsnap=${COLDSNAP:-$(command -v coldsnap || true)}
if [[ -z $coldsnap ]]; then
  echo "coldsnap not found: cargo install coldsnap --root /tmp/coldsnap and COLDSNAP=/tmp/coldsnap/bin/coldsnap" >&2
  exit 1
fi
work=$(mktemp -d /tmp/bake-bench-import.XXXXXX)
moto_pid=
cleanup() {
  [[ -n $moto_pid ]] && kill "$moto_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
now() { date +%s.%N; }
elapsed() { python3 -c "print(f'{$2 - $1:.1f}')"; }

# --- the disk ------------------------------------------------------------------
if [[ -n ${INPUT:-} ]]; then
  cp --sparse=always "$INPUT" "$work/disk.raw"
else
  truncate -s 1G "$work/disk.raw"
  printf 'label: gpt\nsize=64MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B\ntype=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709\n' | sfdisk -q "$work/disk.raw"
  for i in $(seq 0 31); do
    head -c 10M /dev/urandom | dd of="$work/disk.raw" bs=1M seek=$((70 + i * 29)) conv=notrunc status=none
  done
fi
qemu-img convert -f raw -O qcow2 "$work/disk.raw" "$work/disk.qcow2"
echo "disk: $(du -h --apparent-size "$work/disk.raw" | cut -f1) raw ($(du -h "$work/disk.raw" | cut -f1) allocated), qcow2 $(du -h "$work/disk.qcow2" | cut -f1)"

# --- moto, one for the whole run (with its gaps filled, see tests/util/moto.rs) --
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 "$root/tests/util/moto_server.py" -H 127.0.0.1 -p "$port" > "$work/moto.log" 2>&1 &
moto_pid=$!
for _ in $(seq 100); do
  curl -s "http://127.0.0.1:$port/moto-api/" > /dev/null && break
  sleep 0.1
done
export AWS_ENDPOINT_URL=http://127.0.0.1:$port AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true

puts_so_far() { grep -c 'PUT /snapshots/.*/blocks/' "$work/moto.log" || true; }
report() { # name seconds puts_before
  local puts=$(( $(puts_so_far) - $3 ))
  printf '%-40s %7s s  %6d PutSnapshotBlock  %8s MiB sent\n' "$1" "$2" "$puts" "$((puts / 2))"
}

import() { # disk name [quiet]
  mkdir -p "$work/$2"
  cat > "$work/$2/t.pkr.hcl" <<EOF
source "null" "disk" {
  communicator = "none"
}
build {
  sources = ["source.null.disk"]
  post-processors {
    post-processor "artifice" {
      files = ["$work/$1"]
    }
    post-processor "amazon-import" {
      ami_name            = "$2"
      keep_input_artifact = true
    }
  }
}
EOF
  local before t0 t1
  before=$(puts_so_far)
  t0=$(now)
  (cd "$work/$2" && "$bake" build -machine-readable t.pkr.hcl > bake.log) || { tail -30 "$work/$2/bake.log" >&2; exit 1; }
  t1=$(now)
  [[ -n ${3:-} ]] && return
  report "bake amazon-import ($1)" "$(elapsed "$t0" "$t1")" "$before"
  grep -o '[0-9]* blocks sent[^,]*, [0-9]* zero blocks skipped' "$work/$2/bake.log" | head -1 | sed 's/^/    /' || true
}

# moto sets up a region's EC2 and EBS on first use, which takes seconds:
# a small import first, so that no measured run pays for it.
head -c 1M /dev/urandom > "$work/warm.raw"
import warm.raw warm-up quiet

echo
import disk.raw import-raw
import disk.qcow2 import-qcow2

before=$(puts_so_far)
t0=$(now)
"$coldsnap" upload --no-progress --omit-zero-blocks --wait "$work/disk.raw" > /dev/null
report "coldsnap upload (raw)" "$(elapsed "$t0" "$(now)")" "$before"

before=$(puts_so_far)
t0=$(now)
qemu-img convert -f qcow2 -O raw "$work/disk.qcow2" "$work/converted.raw"
"$coldsnap" upload --no-progress --omit-zero-blocks --wait "$work/converted.raw" > /dev/null
report "qemu-img convert + coldsnap (qcow2)" "$(elapsed "$t0" "$(now)")" "$before"
