#!/usr/bin/env bash
# Benchmark: `bake validate` of a generated 1,000-line template (goal: under
# 20 ms wall). Prints the mean, min and max of RUNS runs.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-50}
cargo build --release --locked -q
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 bench/gen_template.py 1000 > "$dir/big.pkr.hcl"
echo "template: $(wc -l < "$dir/big.pkr.hcl") lines, $(grep -c '^build' "$dir/big.pkr.hcl") builds"
./target/release/bake validate "$dir/big.pkr.hcl" >/dev/null
python3 - "$RUNS" "$dir/big.pkr.hcl" <<'PY'
import subprocess, sys, time
runs, path = int(sys.argv[1]), sys.argv[2]
times = []
for _ in range(runs):
    t = time.perf_counter()
    subprocess.run(["./target/release/bake", "validate", path], check=True, stdout=subprocess.DEVNULL)
    times.append((time.perf_counter() - t) * 1000)
times.sort()
print(f"bake validate: mean {sum(times)/len(times):.2f} ms, median {times[len(times)//2]:.2f} ms, min {times[0]:.2f} ms, max {times[-1]:.2f} ms over {runs} runs")
PY
