#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# A/B benchmarks: boot the patched tree and the baseline in turn, ROUNDS
# (3) rounds of one boot each, in alternating order (round 1: ours, then
# the baseline; round 2: the baseline, then ours; ...), run a benchmark
# list (BENCH_LIST, default config/bench) in each boot with the same
# binaries, and print per row the median of each kernel, their ratio, the
# spreads, and per kernel how many runs the median used and how many
# failed. VM_CPU selects the guest's CPU model. BENCH_TREE (default TREE)
# is the tree whose bench binary runs in both kernels' boots: the patched
# tree's, when TREE is a kernel-only variant of it (make bench boots
# TREE-bench, see config/variants/bench.config). BENCH_APPEND: kernel
# parameters of every boot, both kernels.
#   bench.sh TREE BASE OUTDIR
#
# raw.txt has one line per row of the list and boot, "<kernel> <label>
# <value>", in boot order. A value that is not a number is a failed run:
# "error" (the row gave no result, see guest/run-bench.sh) or "missing"
# (the boot ended before the row's result: the guest died or timed out).
# A failed run is counted in the table, not dropped; a failed boot does not
# stop the other boots.
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
# shellcheck source=guest-root.sh
. "$here/guest-root.sh"
repo=$(dirname "$here")
tree=${1:?tree} base=${2:?base} out=${3:?outdir}
rounds=${ROUNDS:-3}
mkdir -p "$out"
cp "${BENCH_LIST:-$repo/config/bench}" "$out/bench.list"
install -m 755 "$here/guest/run-bench.sh" "$guest_root/sbin/rfl-run-bench"
install -m 755 "$here/guest/run-torture.sh" "$guest_root/sbin/rfl-run-torture"

# The rows of one boot, "<kernel> <label> <value>" in the list's order:
# each row's first result in the boot's output, "missing" for a row
# without one.
#   rows KERNEL LIST OUTPUT
rows() {
	awk -v k="$1" '
		FILENAME == ARGV[1] { sub(/#.*/, ""); if (NF) label[++n] = $1; next }
		$1 == "BENCH" && NF >= 3 && !($2 in val) { val[$2] = $3 }
		END {
			for (i = 1; i <= n; i++) {
				v = "missing"
				if (label[i] in val) v = val[label[i]]
				print k, label[i], v
			}
		}
	' "$2" "$3"
}

: > "$out/raw.txt"
for r in $(seq "$rounds"); do
	order=("$tree" "$base")
	[ $((r % 2)) = 0 ] && order=("$base" "$tree")
	for k in "${order[@]}"; do
		echo "bench: round $r, kernel $k"
		o=$out/$k.$r
		mkdir -p "$o" && cp "$out/bench.list" "$o/"
		vmrc=0
		"$here/vm-run.sh" -t 1800 -o "$o" -a "${BENCH_APPEND:-}" "$k" -- \
			rfl-run-bench "/build/${BENCH_TREE:-$tree}" /mnt/rfl/bench.list "/build/$k" > /dev/null || vmrc=$?
		[ "$vmrc" = 0 ] || echo "bench: round $r, kernel $k: guest exited with $vmrc (console log: $o/console.log)" >&2
		output=$o/output
		[ -e "$output" ] || output=/dev/null
		rows "$k" "$out/bench.list" "$output" | tee -a "$out/raw.txt"
	done
done
python3 - "$out/raw.txt" "$tree" "$base" <<'PY' | tee "$out/table.txt"
import math, statistics, sys
raw, tree, base = sys.argv[1:]
vals = {}
failed = {}
order = []
for line in open(raw):
    k, label, v = line.split()
    if label not in order:
        order.append(label)
    try:
        x = float(v)
    except ValueError:
        x = math.nan
    if math.isfinite(x):
        vals.setdefault((k, label), []).append(x)
    else:
        failed[(k, label)] = failed.get((k, label), 0) + 1
counts = [h + " " + k for k in (tree, base) for h in ("runs", "failed")]
w = max(12, 1 + max(map(len, counts)))
print(f"{'benchmark':<18} {tree:>12} {base:>12} {'ratio':>7}   {'spread ' + tree:>16} {'spread ' + base:>16}"
      "   " + " ".join(f"{h:>{w}}" for h in counts))
print("  (median of runs; creates k/s, gets and locktorture M/s; spread = (max - min) / median;")
print("   runs: in the median; failed: runs without a result, not in the median)")
nfail = 0
for label in order:
    a, b = vals.get((tree, label), []), vals.get((base, label), [])
    fa, fb = failed.get((tree, label), 0), failed.get((base, label), 0)
    nfail += fa + fb
    ma = statistics.median(a) if a else float("nan")
    mb = statistics.median(b) if b else float("nan")
    ratio = ma / mb if a and b and mb else float("nan")
    sa = (max(a) - min(a)) / ma if a and ma else float("nan")
    sb = (max(b) - min(b)) / mb if b and mb else float("nan")
    print(f"{label:<18} {ma:12.3f} {mb:12.3f} {ratio:7.3f}x   {sa:15.1%} {sb:15.1%}"
          "   " + " ".join(f"{n:{w}d}" for n in (len(a), fa, len(b), fb)))
if nfail:
    print(f"  {nfail} failed run{'s' if nfail > 1 else ''}: see each boot's output and console.log (<kernel>.<round>/)")
PY
