#!/bin/bash
# Runs in the guest: every benchmark of the list $2 once, with the bench
# binary of tree $1; prints "BENCH <label> <value>" per benchmark.
set -u
cd "${1:?tree}/tools/testing/selftests/bpf"
sed -e 's/#.*//' -e '/^\s*$/d' "${2:?list}" | while read -r label args; do
	# shellcheck disable=SC2086
	out=$(./bench -p 1 $args 2>&1)
	v=$(sed -n -E 's/^Summary: (creates|hits throughput|hits) +([0-9.]+).*/\2/p' <<< "$out" | head -n 1)
	echo "BENCH $label ${v:-error}"
	[ -n "$v" ] || echo "$out" | tail -n 5
done
