#!/bin/bash
# The whole of test_progs (upstream's DENYLIST applied) on the baseline
# (upstream C, same config) and on our kernel; fails on any test or subtest
# that passes on the baseline and does not pass on ours.
#   parity.sh TREE BASE OUTDIR
#
# Each kernel runs the test_progs of its own tree (the same sources, but
# for our two tests, built the same way: its bpf_testmod must match the
# kernel it loads into). The baseline's results are kept in
# $CACHE/parity/<key>, key: the base tree's commit, its .config and the denied
# tests; they change only when one of those does, so a run on a changed
# kernel of ours boots only ours.
#
# PARITY_DENY: the tests denied on both sides (comma list); each one is
# in config/expected-results with its reason. The default:
# fentry_attach_stress, which panics the guest on both kernels.
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
repo=$(dirname "$here")
tree=${1:?tree} base=${2:?base} out=${3:?outdir}
build=$CACHE/root/build
deny=${PARITY_DENY:-fentry_attach_stress}
timeout=${PARITY_TIMEOUT:-5000}
mkdir -p "$out"

run() { # TREE OUTDIR [MORE]: MORE runs after test_progs, in its directory
	local t=$1 o=$2 more=${3:-} rc=0
	rm -rf "$o" && mkdir -p "$o"
	"$here/vm-run.sh" -t "$timeout" -o "$o" -a "kunit.enable=0" "$t" -- bash -c "
		cd /build/$t/tools/testing/selftests/bpf &&
		./test_progs -d @DENYLIST -d $deny -J /mnt/rfl/test_progs.json; echo \$? > /mnt/rfl/test_progs.rc
		$more" \
		> /dev/null || rc=$?
	echo "parity: $t: guest exited with $rc after $SECONDS s (console: $o/console.log)"
}

key=$( { git -C "$build/$base" rev-parse HEAD; cat "$build/$base/.config";
	echo "$deny"; } | sha256sum | cut -c1-16)
cached=$CACHE/parity/$base-$key
if [ -s "$cached/test_progs.rc" ]; then
	echo "parity: baseline results from $cached"
else
	SECONDS=0
	run "$base" "$cached.tmp"
	rm -rf "$cached" && mv "$cached.tmp" "$cached"
fi
# Ours also runs the whole test_maps binary, which make check leaves to its
# allowlisted map tests (9 min in the guest). It has no per-test results:
# it must exit 0.
SECONDS=0
run "$tree" "$out/$tree" './test_maps > /mnt/rfl/test_maps.log 2>&1; echo $? > /mnt/rfl/test_maps.rc'
maps_rc=$(cat "$out/$tree/test_maps.rc" 2>/dev/null || echo missing)
echo "parity: $tree: test_maps exit status $maps_rc: $(tail -n 1 "$out/$tree/test_maps.log" 2>/dev/null)"
rm -rf "$out/$base" && cp -r "$cached" "$out/$base"
rc=0
python3 "$here/parity.py" "$out/$base" "$out/$tree" --expected "$repo/config/expected-results" \
	--tags "parity,default,${ARCH:-x86_64}" || rc=1
[ "$maps_rc" = 0 ] || { echo "parity: FAIL: test_maps exited with $maps_rc"; rc=1; }
exit $rc
