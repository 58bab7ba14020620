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
# CLIENTS names the checks to run, default all of them:
#   sk_diag   iproute2's ss dumps socket storage through inet_diag
#             (bpf_sk_storage_diag_alloc/put/free); needs CONFIG_INET_DIAG
#             and CONFIG_INET_TCP_DIAG.
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
		if [ -e $c.bpf.c ]; then
			clang -g -O2 -Wall --target=bpf -D__TARGET_ARCH_'"$bpf_arch"' \
				$inc -c $c.bpf.c -o $c.bpf.o
			$bpftool gen skeleton $c.bpf.o name ${c}_bpf > $c.skel.h
		fi
		clang '"$target"' -g -O2 -Wall $inc -I. $c.c $st/tools/build/libbpf/libbpf.a \
			-lelf -lz -lzstd -lpthread -o $c
	done
'

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
