#!/bin/bash
# Build the BPF selftests we run (test_progs, test_maps, bench and the
# test kmods) against a built tree, inside the root, with the
# kernel's compiler.
#   build-selftests.sh TREE
#
# BPF_STRICT_BUILD=0 skips BPF programs whose kernel features our small
# config lacks; run-tests.sh fails the run if an allowlisted test was among
# them. Only the plain test_progs flavour is built: no_alu32 and cpuv4
# would compile every BPF program twice more.
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
name=${1:?tree}
arch=${ARCH:-x86_64}
cross=
# Cross builds: clang targets ARCH and takes the crt files and libgcc from
# Debian's cross gcc, and the libraries from the root's multiarch packages
# (scripts/mkroot-cross.sh).
[ "$arch" = arm64 ] && cross="ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-"
jobs=$(( $(nproc) + 1 ))
log=$CACHE/root/build/$name-selftests.log
echo "selftests: building in /build/$name (log: $log)"
# A baseline tree (make parity) needs only test_progs and its modules.
targets="test_progs test_maps bench"
case $name in base*) targets=test_progs ;; esac
if ! "$here/inroot.sh" bash -c '
	set -e
	cd /build/'"$name"'/tools/testing/selftests/bpf
	make -j'"$jobs"' LLVM=1 '"$cross"' BPF_STRICT_BUILD=0 SKIP_DOCS=1 '"$targets"'
	for f in '"$targets"' bpf_testmod.ko bpf_test_rqspinlock.ko; do
		[ -e "$f" ] || { echo "selftests: $f was not built" >&2; exit 1; }
	done
' > "$log" 2>&1; then
	grep -E -i "error|not built" "$log" | tail -n 30 >&2
	echo "selftests: build failed, see $log" >&2
	exit 1
fi
# The permissive build says "  SKIP-BPF x.bpf.o" (or SKIP-SKEL, SKIP-LSKEL,
# SKIP-TEST ...) for each object it dropped: check.sh gives the list to
# report.py, which fails a test of the run that loads one of them.
# A warm build does not always try (and print) a dropped object again, so
# the test objects missing from the output count too.
st=$CACHE/root/build/$name/tools/testing/selftests/bpf
{
	grep -E '^  SKIP-[A-Z]+ ' "$log" | sed 's/^ *//'
	for f in "$st"/prog_tests/*.c; do
		b=$(basename "$f" .c)
		[ -e "$st/$b.test.o" ] || printf 'SKIP-TEST    %s.test.o\n' "$b"
	done
} | sort -u > "$CACHE/root/build/$name-selftests-skips.txt"
n=$(grep -c -E "^  (CLNG-BPF|GEN-SKEL)" "$log" || true)
s=$(grep -c . "$CACHE/root/build/$name-selftests-skips.txt" || true)
echo "selftests: built ($n BPF objects and skeletons compiled now, $s dropped by the permissive build)"
