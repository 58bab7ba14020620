#!/bin/bash
# Show that each hole of the gate is closed: build a copy of the main tree
# broken on purpose by the patches/test/gate-*.patch patches and run the
# gate's own steps on it; every step must go red. Prints, per step, the
# lines that made it red. Takes a kernel build, a selftests build, three
# guest boots and a failed build (about 30 min warm).
#   try-gate.sh TREE
#
#  1. gate-bpf-prog-error + gate-kunit-cfg-typo + gate-late-warn +
#     gate-queued-kunit-failure + gate-clippy-warning: build; check.sh
#     must report the allowlisted test whose BPF program did not compile
#     and the KUnit suite compiled out; a check.sh narrowed to
#     sk_storage_omem_uncharge must catch the WARN that fires 3 s after
#     its maps are released; torture.sh's queued boot must fail; lint.sh
#     must show the clippy warning.
#  2. gate-unrelated-build-error on top: the build fails elsewhere, and
#     lint.sh must still show the clippy warning.
set -uo pipefail
here=$(dirname "$(readlink -f "$0")")
repo=$(dirname "$here")
name=${1:?tree}
bt=$name-gate
build=$CACHE/root/build
out=$repo/out/${ARCH:-x86_64}/try-gate
mkdir -p "$out"
red() { # STEP RC
	if [ "$2" = 0 ]; then echo "try-gate: $1: GREEN (the hole is open)"; fail=1; else echo "try-gate: $1: red, as it must be"; fi
}
fail=0
if [ ! -d "$build/$bt" ]; then
	cp -a "$build/$name" "$build/$bt.tmp" && mv "$build/$bt.tmp" "$build/$bt"
fi
"$here/mktree.sh" "$bt" > /dev/null || exit 1
for p in bpf-prog-error kunit-cfg-typo late-warn queued-kunit-failure clippy-warning; do
	git -C "$build/$bt" apply "$repo/patches/test/gate-$p.patch" || exit 1
done
"$here/kbuild.sh" "$bt" > /dev/null || { echo "try-gate: the broken tree did not build"; exit 1; }
"$here/build-selftests.sh" "$bt" || { echo "try-gate: its selftests did not build"; exit 1; }

"$here/check.sh" "$bt" "$out/check" > "$out/check.txt" 2>&1; rc=$?
grep -E "FAIL|unexpected|passed," "$out/check.txt" | head -n 20
red "check (BPF program that does not compile, KUnit suite compiled out)" $rc

CHECK_SEL=sk_storage_omem_uncharge "$here/check.sh" "$bt" "$out/late-warn" > "$out/late-warn.txt" 2>&1; rc=$?
grep -E "settle|late WARN|FAIL|passed," "$out/late-warn.txt" | head -n 10
red "check narrowed to sk_storage_omem_uncharge (a WARN 3 s after its maps are released)" $rc

TORTURE_SECS=10 "$here/torture.sh" "$bt" "$out/torture" > "$out/torture.txt" 2>&1; rc=$?
grep -E "^==|FAIL|kunit " "$out/torture.txt" | head -n 12
red "torture (a KUnit case that fails on the queued path only)" $rc

"$here/lint.sh" "$bt" > "$out/lint1.txt" 2>&1; rc=$?
grep -E "clone_on_copy|lint:" "$out/lint1.txt" | head -n 5
red "lint (a clippy warning)" $rc

git -C "$build/$bt" apply "$repo/patches/test/gate-unrelated-build-error.patch" || exit 1
"$here/kbuild.sh" "$bt" > /dev/null 2>&1 && echo "try-gate: the unrelated error did not break the build"
"$here/lint.sh" "$bt" > "$out/lint2.txt" 2>&1; rc=$?
grep -E "clone_on_copy|lint:" "$out/lint2.txt" | head -n 5
red "lint after an unrelated failed build (the clippy warning must survive)" $rc

"$here/mktree.sh" "$bt" > /dev/null  # undoes the patches
exit $fail
