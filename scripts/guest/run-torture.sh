#!/bin/bash
# Runs in the guest: locktorture with each "type:writers" given, SECS seconds
# each, from tree $1. Prints per run:
#   TORTURE <type> <writers> <acquisitions> <secs> <fail> <end-of-test tag> <M acquisitions/s>
# and exits non-zero unless every run ended in SUCCESS with Fail: 0.
set -u
tree=${1:?tree} secs=${2:?seconds}
shift 2
ko=$tree/kernel/locking/locktorture.ko
rc=0
# locktorture's helpers (torture.ko) when they are a module too.
if [ -e "$tree/kernel/torture.ko" ] && ! grep -q '^torture ' /proc/modules; then
	insmod "$tree/kernel/torture.ko" || exit 1
fi
for spec in "$@"; do
	type=${spec%%:*} writers=${spec#*:}
	seen=$(dmesg | wc -l)
	if ! insmod "$ko" torture_type="$type" nwriters_stress="$writers" stat_interval=0; then
		echo "TORTURE $type $writers - $secs - INSMOD_FAILED -"
		rc=1
		continue
	fi
	sleep "$secs"
	rmmod locktorture
	log=$(dmesg | tail -n +"$((seen + 1))")
	# The final statistics, printed by the module's cleanup.
	stats=$(grep -E 'Writes: +Total:' <<< "$log" | tail -n 1)
	total=$(sed -n -E 's/.*Total: +([0-9]+).*/\1/p' <<< "$stats")
	fail=$(sed -n -E 's/.*Fail: +([0-9]+).*/\1/p' <<< "$stats")
	tag=$(grep -o -E 'End of test: [A-Z_]+' <<< "$log" | tail -n 1)
	tag=${tag#End of test: }
	rate=-
	[ -n "$total" ] && rate=$(awk -v n="$total" -v s="$secs" 'BEGIN { printf "%.3f", n / s / 1e6 }')
	echo "TORTURE $type $writers ${total:--} $secs ${fail:--} ${tag:-NONE} $rate"
	[ "$tag" = SUCCESS ] && [ "$fail" = 0 ] || rc=1
done
exit $rc
