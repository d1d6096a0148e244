#!/usr/bin/env bash
# Benchmark: the compress post-processor against single-threaded gzip -6 and
# zstd -3 on the same input, in the same run.
# Goal: .gz faster than `gzip -6` by at least the number of cores.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -q -p bake-archive --example compress
bin=./target/release/examples/compress
dir=$(mktemp -d "${TMPDIR:-/tmp}/bake-bench-compress.XXXXXX")
trap 'rm -rf "$dir"' EXIT

# The input: INPUT=path, or else the first GiB of a real Debian disk (a
# cached base image from ~/.cache/bake/images, as raw: partition table, ESP,
# filesystem, free space), or else a generated disk-like GiB.
input=${INPUT:-}
base=$(ls -S "$HOME"/.cache/bake/images/*.qcow2 2>/dev/null | head -1 || true)
if [[ -z "$input" && -n "$base" ]]; then
  input=$dir/disk.img
  qemu-img convert -O raw "$base" "$dir/full.raw"
  head -c 1G "$dir/full.raw" > "$input"
  rm "$dir/full.raw"
elif [[ -z "$input" ]]; then
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

# Each contender runs RUNS times, interleaved; the best wall time counts
# (the machine is shared, so the median of a busy moment says little). CPU
# seconds (user + sys) show the work done whatever the load.
RUNS=${RUNS:-2}
declare -A best cpu sizes
measure() { # name, output file, command...
  local name=$1 out=$2; shift 2
  local t0 t1 secs c
  t0=$(date +%s.%N)
  c=$( { /usr/bin/time -f '%U %S' "$@" 2>&1 >/dev/null | tail -1; } )
  t1=$(date +%s.%N)
  secs=$(echo "$t1 - $t0" | bc -l)
  if [[ -z "${best[$name]:-}" ]] || (( $(echo "$secs < ${best[$name]}" | bc -l) )); then
    best[$name]=$secs
    cpu[$name]=$(echo "$c" | awk '{print $1 + $2}')
  fi
  sizes[$name]=$(stat -c %s "$out")
}
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for ((run = 1; run <= RUNS; run++)); do
  measure "gzip -6 (1 thread)" "$dir/ref.gz" sh -c "gzip -6 -c '$input' > '$dir/ref.gz'"
  measure "bake .gz" "$dir/bake.gz" "$bin" "$dir/bake.gz" "$input"
  measure "bake .tar.gz" "$dir/bake.tar.gz" "$bin" "$dir/bake.tar.gz" "$input"
  measure "zstd -3 (1 thread)" "$dir/ref.zst" zstd -q -f -3 -T1 "$input" -o "$dir/ref.zst"
  measure "bake .zst" "$dir/bake.zst" "$bin" "$dir/bake.zst" "$input"
done
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"
# The outputs are what the real tools read back.
gzip -t "$dir/bake.gz"
cmp <(gunzip -c "$dir/bake.gz") "$input"
tar -tzf "$dir/bake.tar.gz" >/dev/null
zstd -q -t "$dir/bake.zst"
cmp <(zstd -dc "$dir/bake.zst") "$input"

echo
printf '%-22s %9s %12s %9s %8s\n' "compressor" "wall" "throughput" "cpu" "size"
for name in "gzip -6 (1 thread)" "bake .gz" "bake .tar.gz" "zstd -3 (1 thread)" "bake .zst"; do
  printf '%-22s %7.2f s %7.1f MiB/s %7.2f s %6.1f %%\n' "$name" "${best[$name]}" \
    "$(echo "$size / 1048576 / ${best[$name]}" | bc -l)" "${cpu[$name]}" "$(echo "${sizes[$name]} * 100 / $size" | bc -l)"
done
echo
ratio() { echo "${best[$1]} / ${best[$2]}" | bc -l; }
printf 'speed-up .gz over gzip -6:      %.2fx (goal: >= %d, the cores)\n' "$(ratio "gzip -6 (1 thread)" "bake .gz")" "$cores"
printf 'speed-up .tar.gz over gzip -6:  %.2fx\n' "$(ratio "gzip -6 (1 thread)" "bake .tar.gz")"
printf 'speed-up .zst over zstd -3 -T1: %.2fx\n' "$(ratio "zstd -3 (1 thread)" "bake .zst")"
