#!/bin/bash
# The rqspinlock checks on both of its contended paths: one boot with the
# default CPU model (QEMU's hypervisor bit set: x86 guests without paravirt
# spinlocks take the test-and-set fallback) and one with the hypervisor bit
# hidden (the queued MCS path). Each boot runs the KUnit suite
# rust_bpf_rqspinlock (which logs the path it saw), test_progs -t
# res_spin_lock and locktorture on raw_res_spin_lock and
# raw_res_spin_lock_irq with two writers, TORTURE_SECS (60) seconds each.
#   torture.sh TREE OUTDIR
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
. "$here/guest-root.sh"
name=${1:?tree}
out=${2:?outdir}
secs=${TORTURE_SECS:-60}
arch=${ARCH:-x86_64}
install -m 755 "$here/guest/run-torture.sh" "$guest_root/sbin/rfl-run-torture"

case $arch in
x86_64) paths=("test-and-set:max" "queued:max,-hypervisor") ;;
*) paths=("queued:max") ;;
esac

rc=0
for p in "${paths[@]}"; do
	path=${p%%:*} cpu=${p#*:}
	o=$out/$path
	rm -rf "$o" && mkdir -p "$o"
	set +e
	VM_CPU=$cpu "$here/vm-run.sh" -t $((4 * secs + 900)) -o "$o" \
		-a "kunit.enable=1 kunit.autorun=1 kunit.filter_glob=rust_bpf_rqspinlock" \
		"$name" -- bash -c "
		cd /build/$name/tools/testing/selftests/bpf &&
		./test_progs -t res_spin_lock; r=\$?
		rfl-run-torture /build/$name $secs raw_res_spin_lock:2 raw_res_spin_lock_irq:2 || r=1
		exit \$r" > /dev/null
	vmrc=$?
	set -e
	echo "== $path path (-cpu $cpu), guest exited with $vmrc"
	# Every line the suite logs (the owner rounds, retries included), so a
	# failure can be read from this output alone.
	grep -h -o -E 'rust_kernel: rqspinlock: .*' "$o/dmesg" | sed 's/^rust_kernel: //' || true
	# The path is what the guest reports, not what the QEMU flags suggest.
	ran=$(sed -n -E 's/.*rqspinlock: contended acquisitions take the (.*) path.*/\1/p' "$o/dmesg" | head -n 1)
	if [ "$ran" != "$path" ]; then
		echo "FAIL: this boot should take the $path path; the guest reports '${ran:-nothing}'"
		vmrc=1
	fi
	# The suite must report cases, all passing (report.py's KUnit accounting).
	echo rust_bpf_rqspinlock > "$o/kunit-suites"
	python3 "$here/report.py" "$o" --kunit-only --tags "$path,$arch" \
		--expected "$(dirname "$here")/config/expected-results" | sed -n -E '/^  (kunit|FAIL|unexpected|expected)/p; /^    /p' ||
		vmrc=1
	grep -h -E '^Summary: ' "$o/output" || echo "test_progs: no summary"
	grep -h -E '^#[0-9/]+ +res_spin_lock' "$o/output" || true
	grep -h '^TORTURE ' "$o/output" | awk '$4 ~ /^[0-9]+$/ {
		printf "locktorture %s, %s writers: %d acquisitions in %d s (%s M/s), Fail: %s, %s\n",
			$2, $3, $4, $5, $8, $6, $7; next } { print }'
	[ "$vmrc" = 0 ] || rc=1
done
exit $rc
