#!/bin/bash
# Runs in the guest: every benchmark of the list $2 once, with the bench
# binary of tree $1 and the modules of tree $3 (the booted kernel's; default
# $1); prints "BENCH <label> <value>" per benchmark, where the value is
# "error" for a run that failed (no result, or a non-zero exit), followed
# by the run's last lines of output. A row is either arguments of the
# selftests' bench (run as ./bench -p 1 <arguments>) or
# "locktorture <type> <writers> <seconds>" (value: M acquisitions/s).
# Exits non-zero if a run failed; bench.sh counts each failed run.
set -u
tree=${1:?tree}
list=${2:?list}
ktree=${3:-$tree}
cd "$tree/tools/testing/selftests/bpf" || exit 1
rc=0
while read -r label args <&3; do
	read -r -a argv <<< "$args"
	v=
	if [ "${argv[0]:-}" = locktorture ]; then
		out=$(rfl-run-torture "$ktree" "${argv[3]:-}" "${argv[1]:-}:${argv[2]:-}" 2>&1)
		v=$(awk '$1 == "TORTURE" && $7 == "SUCCESS" && $6 == 0 { print $8 }' <<< "$out")
	elif out=$(./bench -p 1 "${argv[@]}" 2>&1); then
		v=$(sed -n -E 's/^Summary: (creates|hits throughput|hits) +([0-9.]+).*/\2/p' <<< "$out" | head -n 1)
	else
		out+=$'\n'"run-bench: ./bench exited with $?"
	fi
	echo "BENCH $label ${v:-error}"
	[ -n "$v" ] || { rc=1; tail -n 5 <<< "$out"; }
	# A row's maps are freed after it exits, in work items that wait for
	# RCU grace periods. A row that starts before they are done gets its
	# cache slots allocated around the old maps' and can share slots that
	# a fresh boot would not: int-get-16 right after seq-get-100 ran 11%
	# slower in some boots of either kernel, and never after this pause.
	sleep 10
done 3< <(sed -e 's/#.*//' -e '/^\s*$/d' "$list")
exit $rc
