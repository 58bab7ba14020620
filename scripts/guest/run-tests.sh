#!/bin/bash
# Runs in the guest (cwd: the exchange directory): the selected BPF
# selftests of tree $1. $2 is the selectors file check.sh wrote, one
# "KIND SELECTOR" a line: "substr T[/S]" (config/allowlist's test_progs
# lines, test_progs -t), "exact T" (the derived local-storage set,
# test_progs -a) and "test_maps T". Writes test_progs.json, test_progs.rc,
# test_maps.log and test_maps.rc for scripts/report.py, which checks that
# every selector produced results.
set -u
tree=${1:?tree}
selectors=${2:?selectors}
st=$tree/tools/testing/selftests/bpf
out=$PWD
rc=0

sel() { awk -v k="$1" '$1 == k { print $2 }' "$selectors"; }

cd "$st" || exit 1
t=$(sel substr | paste -sd, -)
a=$(sel exact | paste -sd, -)
if [ -n "$t$a" ]; then
	# RFL_TEST_PROGS_WATCHDOG: test_progs' per-test watchdog (-w), for
	# kernels much slower than test_progs' 120 s assumes.
	w=${RFL_TEST_PROGS_WATCHDOG:-}
	echo "== test_progs${w:+ -w $w}${t:+ -t $t}${a:+ -a $a}"
	./test_progs ${w:+-w "$w"} ${t:+-t "$t"} ${a:+-a "$a"} -J "$out/test_progs.json"
	r=$?
	echo "$r" > "$out/test_progs.rc"
	[ "$r" = 0 ] || rc=1
fi

# The allowlisted map tests run alone, through test_maps_one (the whole
# test_maps binary takes 9 min in a TCG guest, over an hour on the debug
# kernel). RFL_TEST_MAPS=all runs the whole binary, a superset of them.
maps=$(sel test_maps)
if [ -n "$maps" ]; then
	if [ "${RFL_TEST_MAPS:-allowlisted}" = allowlisted ]; then
		echo "== test_maps_one" $maps
		# shellcheck disable=SC2086
		./test_maps_one $maps > "$out/test_maps.log" 2>&1
	else
		echo "== test_maps"
		./test_maps > "$out/test_maps.log" 2>&1
	fi
	r=$?
	tail -n 20 "$out/test_maps.log"
	echo "$r" > "$out/test_maps.rc"
	[ "$r" = 0 ] || rc=1
fi
exit $rc
