#!/bin/bash
# Runs in the guest (cwd: the exchange directory): the allowlisted BPF
# selftests of tree $1. Writes test_progs.json, test_maps.log and
# allowlist-check.txt for scripts/report.py.
set -u
tree=${1:?tree}
allow=${2:?allowlist}
st=$tree/tools/testing/selftests/bpf
out=$PWD
rc=0

sel() { rfl-allowlist-sel "$1" "$allow"; }

# A selector that matches no built test means its program was skipped at
# build time (BPF_STRICT_BUILD=0): that is a failure, not a pass.
cd "$st"
./test_progs -l > "$out/test_progs.list" 2>&1
: > "$out/allowlist-check.txt"
for s in $(sel test_progs); do
	t=${s%%/*}
	grep -q -- "$t" "$out/test_progs.list" ||
		{ echo "missing-at-build test_progs $s" >> "$out/allowlist-check.txt"; rc=1; }
done

tp=$(sel test_progs | paste -sd, -)
if [ -n "$tp" ]; then
	echo "== test_progs -t $tp"
	./test_progs -t "$tp" -J "$out/test_progs.json" || rc=1
fi

# RFL_TEST_MAPS=all (make check): the whole test_maps binary, a superset
# of the allowlisted map tests. =allowlisted (make check-debug): only those,
# through test_maps_one, because the whole binary takes over an hour there.
if [ -n "$(sel test_maps)" ]; then
	if [ "${RFL_TEST_MAPS:-all}" = allowlisted ]; then
		echo "== test_maps_one" $(sel test_maps)
		./test_maps_one $(sel test_maps) > "$out/test_maps.log" 2>&1
	else
		echo "== test_maps"
		./test_maps > "$out/test_maps.log" 2>&1
	fi
	r=$?
	tail -n 20 "$out/test_maps.log"
	echo "$r" > "$out/test_maps.rc"
	[ "$r" = 0 ] || rc=1
fi

# A kmemleak kernel (make check-debug): look for leaks once everything ran.
# An object must be unreferenced in two scans, and at least 5 s old, before
# kmemleak reports it; report.py counts what kmemleak.txt lists.
kml=/sys/kernel/debug/kmemleak
if [ -w "$kml" ]; then
	echo "== kmemleak"
	sleep 6
	echo scan > "$kml" && echo scan > "$kml"
	cat "$kml" > "$out/kmemleak.txt"
	grep -c '^unreferenced object' "$out/kmemleak.txt"
fi
exit $rc
