#!/bin/bash
# Runs in the guest (cwd: the exchange directory): the selected BPF
# selftests of tree $1. $2 is the selectors file check.sh wrote, one
# "KIND SELECTOR" a line: "substr T[/S]" (config/allowlist's test_progs
# lines, test_progs -t), "exact T" (the derived local-storage set,
# test_progs -a) and "test_maps T". Writes test_progs.{log,json,rc} (and
# test_progs.hung and test_progs.rerun.* after a hang, below), test_maps.log
# and test_maps.rc for scripts/report.py, which checks that every selector
# produced results.
set -u
tree=${1:?tree}
selectors=${2:?selectors}
st=$tree/tools/testing/selftests/bpf
out=$PWD
rc=0

sel() { awk -v k="$1" '$1 == k { print $2 }' "$selectors"; }

# test_progs' watchdog (-w, 120 s unless given) only sends the test a
# SIGSEGV, whose handler prints a backtrace and returns: a test looping in
# user space goes on forever, and the whole guest runs into check.sh's
# timeout with no result after that test and no dmesg. map_kptr_race does
# that when it misses what it waits for: it spins with sched_yield() until
# its fexit program has seen the map's free, and a tracing program that
# finds itself already running on its CPU is skipped (recursion_misses).
# This guard kills test_progs once the watchdog has fired and the test
# still runs 30 s later, after recording what the kernel was doing: the
# test's threads' kernel stacks, the maps and the programs' missed runs in
# test_progs$1.hung, blocked tasks and every CPU's backtrace (sysrq w, l)
# in dmesg.
kill_hung() { # PID SUFFIX
	local pid=$1 log=$out/test_progs$2.log fired= now th
	while kill -0 "$pid" 2>/dev/null; do
		sleep 5
		now=$(date +%s)
		if [ -z "$fired" ]; then
			grep -q 'terminating with SIGSEGV' "$log" && fired=$now
			continue
		fi
		[ $((now - fired)) -ge 30 ] || continue
		{
			grep 'terminating with SIGSEGV' "$log" | tail -n 1
			echo "killed $((now - fired)) s after the watchdog fired"
			for th in /proc/"$pid"/task/*; do
				echo "thread $(basename "$th") ($(cat "$th/comm" 2>/dev/null)):" \
					"state $(awk '{print $3}' "$th/stat" 2>/dev/null)," \
					"wchan $(cat "$th/wchan" 2>/dev/null)"
				sed 's/^/    /' "$th/stack" 2>/dev/null
			done
			# Whether the test waits on the kernel (its map still
			# there) or missed an event (a tracing program that did
			# not run, counted in recursion_misses).
			echo "maps:"
			"$st/tools/sbin/bpftool" map show 2>&1 | grep -E '^[0-9]+:' | sed 's/^/    /' | head -n 40
			echo "programs that missed runs:"
			"$st/tools/sbin/bpftool" prog show 2>&1 | grep -E '^[0-9]+:.*recursion_misses' | sed 's/^/    /'
		} > "$out/test_progs$2.hung"
		echo w 2>/dev/null > /proc/sysrq-trigger
		echo l 2>/dev/null > /proc/sysrq-trigger
		kill -KILL "$pid"
		return
	done
}

# One run of the selected test_progs tests: test_progs$1.{log,json,rc} and,
# if the guard killed it, test_progs$1.hung. Returns test_progs' status.
run_test_progs() { # SUFFIX
	local pid tailer guard r
	echo "== test_progs${w:+ -w $w}${t:+ -t $t}${a:+ -a $a}${1:+ ($1)}"
	./test_progs ${w:+-w "$w"} ${t:+-t "$t"} ${a:+-a "$a"} -J "$out/test_progs$1.json" \
		> "$out/test_progs$1.log" 2>&1 &
	pid=$!
	tail -n +1 -f --pid="$pid" "$out/test_progs$1.log" &
	tailer=$!
	kill_hung "$pid" "$1" &
	guard=$!
	wait "$pid"
	r=$?
	kill "$guard" 2>/dev/null
	wait "$tailer"
	if [ -s "$out/test_progs$1.hung" ]; then
		echo "== test_progs killed: a test hung after the watchdog (test_progs$1.hung)"
		cat "$out/test_progs$1.hung"
	fi
	echo "$r" > "$out/test_progs$1.rc"
	return "$r"
}

cd "$st" || exit 1
t=$(sel substr | paste -sd, -)
a=$(sel exact | paste -sd, -)
if [ -n "$t$a" ]; then
	# RFL_TEST_PROGS_WATCHDOG: test_progs' per-test watchdog (-w), for
	# kernels much slower than test_progs' 120 s assumes.
	w=${RFL_TEST_PROGS_WATCHDOG:-}
	run_test_progs "" || rc=1
	# After a hang, the whole selection once more, so that every test
	# still reports; report.py takes the results from this run and
	# accounts for the hang on its own (config/expected-results).
	if [ -s "$out/test_progs.hung" ]; then
		run_test_progs .rerun && rc=0
	fi
fi

# The allowlisted map tests run alone, named to test_maps (the whole
# test_maps binary takes 9 min in a TCG guest, over an hour on the debug
# kernel). RFL_TEST_MAPS=all runs the whole binary, a superset of them.
#
# sk_storage_map's stress_free and stress_change run for this many seconds
# each (upstream's default is 5): long enough for socket close, map free
# and concurrent updates to meet many times on every kernel we run. They
# run one per process (BPF_SK_STORAGE_MAP_TEST_NAME): in one process the
# second starts with the stop flag that the first one's alarm set, which
# 7.3.4's map_tests/sk_storage_map.c never clears, and returns at once.
export BPF_SK_STORAGE_MAP_TEST_RUNTIME_S=${RFL_SK_STORAGE_MAP_RUNTIME_S:-30}
maps=$(sel test_maps)

# One map test, or one of sk_storage_map's tests, timed.
map_test() { # NAME [SK_STORAGE_MAP_TEST]
	local start r
	start=$(date +%s)
	echo "== test_maps $1${2:+ ($2)}" | tee -a "$out/test_maps.log"
	env ${2:+BPF_SK_STORAGE_MAP_TEST_NAME="$2"} ./test_maps "$1" >> "$out/test_maps.log" 2>&1
	r=$?
	echo "== exit $r after $(($(date +%s) - start)) s" | tee -a "$out/test_maps.log"
	return $r
}

if [ -n "$maps" ]; then
	: > "$out/test_maps.log"
	r=0
	if [ "${RFL_TEST_MAPS:-allowlisted}" = allowlisted ]; then
		echo "== sk_storage_map stress runtime: ${BPF_SK_STORAGE_MAP_TEST_RUNTIME_S} s each"
		for m in $maps; do
			if [ "$m" = sk_storage_map ]; then
				for t in basic stress_free stress_change; do
					map_test "$m" "$t" || r=1
				done
			else
				map_test "$m" || r=1
			fi
		done
	else
		echo "== test_maps"
		./test_maps > "$out/test_maps.log" 2>&1
		r=$?
	fi
	tail -n 20 "$out/test_maps.log"
	echo "$r" > "$out/test_maps.rc"
	[ "$r" = 0 ] || rc=1
fi
exit $rc
