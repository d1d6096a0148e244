#!/usr/bin/env bash
# Benchmark: the compress post-processor against single-threaded gzip -6 and
# zstd -3 on the same input, in the same run. The input is a real qcow2 from
# ~/.cache/bake/images when there is one (INPUT=path to choose), otherwise a
# generated 1 GiB disk-like file (random, zero and text blocks).
# Goal: .gz faster than `gzip -6` by at least the number of cores.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -q -p bake-post-processor-compress --example compress
bin=./target/release/examples/compress
dir=$(mktemp -d "${TMPDIR:-/tmp}/bake-bench-compress.XXXXXX")
trap 'rm -rf "$dir"' EXIT

input=${INPUT:-$(ls -S "$HOME"/.cache/bake/images/*.qcow2 2>/dev/null | head -1 || true)}
if [[ -z "$input" ]]; then
  input=$dir/disk.img
  python3 - "$input" <<'PY'
import os, sys
block = 1 << 20
text = b"".join(b"Nov 29 12:00:%02d host systemd[1]: Started unit %d.service\n" % (i % 60, i) for i in range(20000))
with open(sys.argv[1], "wb") as f:
    for i in range(1024):  # 1 GiB: 40% random, 35% zero, 25% text
        k = i % 20
        if k < 8:
            f.write(os.urandom(block))
        elif k < 15:
            f.write(bytes(block))
        else:
            f.write((text * (block // len(text) + 1))[:block])
PY
fi
size=$(stat -c %s "$input")
cores=$(nproc)
echo "input: $input ($((size >> 20)) MiB), $cores cores"
cat "$input" > /dev/null  # warm the page cache for every contender alike

results=()
measure() { # name, output file, command...
  local name=$1 out=$2; shift 2
  local t0 t1
  t0=$(date +%s.%N)
  "$@"
  t1=$(date +%s.%N)
  local secs ratio
  secs=$(echo "$t1 - $t0" | bc -l)
  ratio=$(echo "$(stat -c %s "$out") * 100 / $size" | bc -l)
  results+=("$(printf '%-28s %8.2f s %8.1f MiB/s %7.1f %%' "$name" "$secs" "$(echo "$size / 1048576 / $secs" | bc -l)" "$ratio")")
  eval "secs_${name//[^a-z0-9]/_}=$secs"
}

measure "gzip -6 (1 thread)" "$dir/ref.gz" sh -c "gzip -6 -c '$input' > '$dir/ref.gz'"
measure "bake .gz" "$dir/bake.gz" "$bin" "$dir/bake.gz" "$input"
gzip -t "$dir/bake.gz"
measure "bake .tar.gz" "$dir/bake.tar.gz" "$bin" "$dir/bake.tar.gz" "$input"
tar -tzf "$dir/bake.tar.gz" >/dev/null
measure "zstd -3 (1 thread)" "$dir/ref.zst" zstd -q -3 -T1 "$input" -o "$dir/ref.zst"
measure "bake .zst" "$dir/bake.zst" "$bin" "$dir/bake.zst" "$input"
zstd -q -t "$dir/bake.zst"
cmp <(zstd -dc "$dir/bake.zst") "$input"

echo
printf '%-28s %10s %14s %9s\n' "compressor" "time" "throughput" "size"
printf '%s\n' "${results[@]}"
echo
printf 'speed-up .gz over gzip -6:      %.2fx (goal: >= %d)\n' "$(echo "$secs_gzip__6__1_thread_ / $secs_bake__gz" | bc -l)" "$cores"
printf 'speed-up .tar.gz over gzip -6:  %.2fx\n' "$(echo "$secs_gzip__6__1_thread_ / $secs_bake__tar_gz" | bc -l)"
printf 'speed-up .zst over zstd -3 -T1: %.2fx\n' "$(echo "$secs_zstd__3__1_thread_ / $secs_bake__zst" | bc -l)"
