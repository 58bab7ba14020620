#!/bin/bash
# Real clients: programs in clients/ that drive our kernel code as a user
# does, through an unmodified tool of the guest root, and check what the
# tool reports. Each is built like the demo (against the tree's libbpf and
# bpftool, its BPF object as a skeleton if it has one); all then run in one
# guest, where each prints "ok N - ..." lines and last "NAME: PASS" or
# "NAME: FAIL (k of n)".
#   clients.sh TREE OUTDIR [KERNEL...]
# builds against TREE's libbpf and boots each KERNEL (a tree's name, default
# TREE) in turn, its output in OUTDIR/KERNEL; all must pass.
#
# CLIENTS names the checks to run, default those the usual config can run:
#   sk_diag     iproute2's ss dumps socket storage through inet_diag
#               (bpf_sk_storage_diag_alloc/put/free); needs CONFIG_INET_DIAG
#               and CONFIG_INET_TCP_DIAG.
# and, on kernels with CONFIG_SCHED_CLASS_EXT (config/variants/scx.config,
# `make clients-scx`), not by default:
#   scx_qmap    tools/sched_ext's scx_qmap schedules a fork-and-exit load:
#               task storage on every scheduling event (clients/scx/run-scx);
#   scx_flatcg  tools/sched_ext's scx_flatcg, the same load in cgroups, with
#               cgroup churn: task and cgroup storage. Flaky under TCG on
#               the baseline too (the watchdog, see the Makefile).
# The schedulers are built from TREE's tools/sched_ext against TREE's
# vmlinux BTF (CO-RE: one build for every KERNEL), with
# clients/scx/scx-bpf-clang as their BPF compiler: it sets the sched_ext
# watchdog timeout (SCX_TIMEOUT_MS, default 30000, the kernel's maximum,
# for both: scx_qmap asks for 5 s, which passed in the one run measured
# under TCG, but leaves a busy host little margin) and works around clang
# 21's arena memset (see there).
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
repo=$(dirname "$here")
name=${1:?tree}
out=${2:?outdir}
shift 2
kernels=("$@")
[ ${#kernels[@]} -gt 0 ] || kernels=("$name")
all=(sk_diag)
read -r -a checks <<< "${CLIENTS:-${all[*]}}"
build=$CACHE/root/build
scx=()
for c in "${checks[@]}"; do
	case $c in scx_*) scx+=("$c") ;; esac
done
scx_timeout=${SCX_TIMEOUT_MS:-30000}

# Cross builds: clang targets ARCH and takes the crt files and libgcc from
# Debian's cross gcc, and the libraries from the root's multiarch packages
# (scripts/mkroot-cross.sh), as the selftests do.
case ${ARCH:-x86_64} in
x86_64) bpf_arch=x86 target= ;;
arm64) bpf_arch=arm64 target=--target=aarch64-linux-gnu ;;
*) echo "clients: unknown ARCH $ARCH" >&2; exit 2 ;;
esac

rm -rf "$build/clients" && cp -r "$repo/clients" "$build/clients"
"$here/inroot.sh" bash -c '
	set -e
	st=/build/'"$name"'/tools/testing/selftests/bpf
	inc="-I$st/tools/include -I/build/'"$name"'/tools/include/uapi"
	# A cross build of the selftests has a bpftool for the build machine.
	bpftool=$st/host-tools/sbin/bpftool
	[ -x $bpftool ] || bpftool=$st/tools/sbin/bpftool
	cd /build/clients
	for c in '"${checks[*]}"'; do
		case $c in scx_*) continue ;; esac
		if [ -e $c.bpf.c ]; then
			clang -g -O2 -Wall --target=bpf -D__TARGET_ARCH_'"$bpf_arch"' \
				$inc -c $c.bpf.c -o $c.bpf.o
			$bpftool gen skeleton $c.bpf.o name ${c}_bpf > $c.skel.h
		fi
		clang '"$target"' -g -O2 -Wall $inc -I. $c.c $st/tools/build/libbpf/libbpf.a \
			-lelf -lz -lzstd -lpthread -o $c
	done
'
# The sched_ext schedulers: upstream's Makefile, unchanged sources, output
# in /build/clients/scx-build (it builds its own libbpf and bpftool; LLVM=1:
# the root has no gcc). clients/scx/run-scx reads the watchdog timeout
# they were built with from scx-build/build/timeout_ms.
if [ ${#scx[@]} -gt 0 ]; then
	[ "${ARCH:-x86_64}" = x86_64 ] || { echo "clients: ${scx[*]}: x86_64 only" >&2; exit 2; }
	"$here/inroot.sh" env SCX_TIMEOUT_MS="$scx_timeout" bash -c '
		set -e
		o=/build/clients/scx-build
		mkdir -p $o
		make -s -C /build/'"$name"'/tools/sched_ext LLVM=1 O=$o -j'"$(( $(nproc) + 1 ))"' \
			VMLINUX_BTF=/build/'"$name"'/vmlinux CLANG=/build/clients/scx/scx-bpf-clang \
			'"${scx[*]}"'
		echo "$SCX_TIMEOUT_MS" > $o/build/timeout_ms
	' > "$build/clients-scx-build.log" 2>&1 ||
		{ cat "$build/clients-scx-build.log" >&2; echo "clients: building ${scx[*]} failed" >&2; exit 1; }
fi
# The guest's clock is host time (unless VM_ICOUNT is set): the sched_ext
# watchdog (30 s, see above) counts host time too, and TCG on a busy host
# could make a runnable task wait that long with nothing wrong. Measured on
# 2 cores under TCG, beside other builds (load average 5 to 12), 2026-12-05:
# scx_qmap was never kicked out (10 runs of 60 s, both kernels); scx_flatcg
# was in 5 of 18, on both kernels (a task waiting 31 to 44 s in a cgroup's
# queue), and on the instruction clock too (the baseline, 1 run: the loops
# made no fork for 30 s of guest time, then the watchdog fired), so that is
# flatcg starving a cgroup, not TCG's slowness.
# VM_ICOUNT=auto makes the guest's time count its instructions instead, so
# that the host's speed cannot trip the watchdog, but runs both vCPUs on
# one host thread at a tenth of real time or less: boot and 10 s of guest
# time took 141 s beside one kernel build (25 s on the host clock), boot
# and 12 s 5.7 min beside two builds, so 10 to 25 min per scheduler's
# minute (raise CLIENTS_TIMEOUT to match).

rc=0
for k in "${kernels[@]}"; do
	o=$out/$k
	rm -rf "$o" && mkdir -p "$o"
	echo "== clients on $k"
	vmrc=0
	"$here/vm-run.sh" -t "${CLIENTS_TIMEOUT:-600}" -o "$o" "$k" -- bash -c '
		rc=0
		for c; do
			echo "== $c"
			/build/clients/$c || rc=1
		done
		exit $rc
	' clients "${checks[@]}" > /dev/null || vmrc=$?
	cat "$o/output" 2>/dev/null || true

	for c in "${checks[@]}"; do
		if grep -q -x "$c: PASS" "$o/output" 2>/dev/null; then
			echo "clients: $c passed on $k"
		else
			echo "clients: $c FAILED on $k" >&2
			rc=1
		fi
	done
	# A kernel warning fails the run even when every check passed: inet_diag,
	# for one, warns when a diag misreports the size a socket's values need.
	if [ -e "$o/dmesg" ]; then
		if grep -E 'BUG:|WARNING:|Oops|Kernel panic|KASAN|UBSAN|general protection fault|Unable to handle kernel' \
			"$o/dmesg" >&2; then
			echo "clients: $k reported problems, see $o/dmesg" >&2
			rc=1
		fi
	else
		echo "clients: the guest saved no dmesg (exit $vmrc), see $o/console.log" >&2
		rc=1
	fi
	[ "$vmrc" = 0 ] || { echo "clients: the guest of $k exited with $vmrc" >&2; rc=1; }
done
exit $rc
