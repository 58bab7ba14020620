#!/bin/bash
# A/B benchmarks: boot the patched tree and the baseline in turn (ROUNDS
# times each, alternating), run a benchmark list (BENCH_LIST, default
# config/bench) in each boot with the same binaries, and print the median
# of each kernel and their ratio. VM_CPU selects the guest's CPU model.
#   bench.sh TREE BASE OUTDIR
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
. "$here/guest-root.sh"
repo=$(dirname "$here")
tree=${1:?tree} base=${2:?base} out=${3:?outdir}
rounds=${ROUNDS:-3}
mkdir -p "$out"
cp "${BENCH_LIST:-$repo/config/bench}" "$out/bench.list"
install -m 755 "$here/guest/run-bench.sh" "$guest_root/sbin/rfl-run-bench"
install -m 755 "$here/guest/run-torture.sh" "$guest_root/sbin/rfl-run-torture"
: > "$out/raw.txt"
for r in $(seq "$rounds"); do
	for k in "$tree" "$base"; do
		echo "bench: round $r, kernel $k"
		mkdir -p "$out/$k.$r" && cp "$out/bench.list" "$out/$k.$r/"
		"$here/vm-run.sh" -t 1800 -o "$out/$k.$r" "$k" -- \
			rfl-run-bench "/build/$tree" /mnt/rfl/bench.list "/build/$k" > /dev/null
		awk -v k="$k" '/^BENCH / { print k, $2, $3 }' "$out/$k.$r/output" | tee -a "$out/raw.txt"
	done
done
python3 - "$out/raw.txt" "$tree" "$base" <<'PY' | tee "$out/table.txt"
import statistics, sys
raw, tree, base = sys.argv[1:]
vals = {}
order = []
for line in open(raw):
    k, label, v = line.split()
    if label not in order:
        order.append(label)
    try:
        vals.setdefault((k, label), []).append(float(v))
    except ValueError:
        pass
print(f"{'benchmark':<18} {tree:>12} {base:>12} {'ratio':>7}   {'spread ' + tree:>16} {'spread ' + base:>16}")
print("  (median of runs; creates k/s, gets and locktorture M/s; spread = (max - min) / median)")
for label in order:
    a, b = vals.get((tree, label), []), vals.get((base, label), [])
    ma = statistics.median(a) if a else float("nan")
    mb = statistics.median(b) if b else float("nan")
    ratio = ma / mb if a and b and mb else float("nan")
    sa = (max(a) - min(a)) / ma if a and ma else float("nan")
    sb = (max(b) - min(b)) / mb if b and mb else float("nan")
    print(f"{label:<18} {ma:12.3f} {mb:12.3f} {ratio:7.3f}x   {sa:15.1%} {sb:15.1%}")
PY
