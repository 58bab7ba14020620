#!/bin/bash
# Runs in the guest: every benchmark of the list $2 once, with the bench
# binary of tree $1 and the modules of tree $3 (the booted kernel's; default
# $1); prints "BENCH <label> <value>" per benchmark. A row is either
# arguments of the selftests' bench (run as ./bench -p 1 <arguments>) or
# "locktorture <type> <writers> <seconds>" (value: M acquisitions/s).
set -u
tree=${1:?tree}
ktree=${3:-$tree}
cd "$tree/tools/testing/selftests/bpf"
sed -e 's/#.*//' -e '/^\s*$/d' "${2:?list}" | while read -r label args; do
	set -- $args
	if [ "$1" = locktorture ]; then
		out=$(rfl-run-torture "$ktree" "$4" "$2:$3" 2>&1)
		v=$(awk '$1 == "TORTURE" && $7 == "SUCCESS" && $6 == 0 { print $8 }' <<< "$out")
	else
		# shellcheck disable=SC2086
		out=$(./bench -p 1 $args 2>&1)
		v=$(sed -n -E 's/^Summary: (creates|hits throughput|hits) +([0-9.]+).*/\2/p' <<< "$out" | head -n 1)
	fi
	echo "BENCH $label ${v:-error}"
	[ -n "$v" ] || echo "$out" | tail -n 5
	# A row's maps are freed after it exits, in work items that wait for
	# RCU grace periods. A row that starts before they are done gets its
	# cache slots allocated around the old maps' and can share slots that
	# a fresh boot would not: int-get-16 right after seq-get-100 ran 11%
	# slower in some boots of either kernel, and never after this pause.
	sleep 10
done
