#!/bin/bash
# Build and check the patched tree in other configurations:
# config/variants/NAME.config on top of the usual fragments. By default the
# two that must behave as upstream (rust-off: our options off, upstream's C;
# no-rust: CONFIG_RUST=n); `make check-debug` runs "debug". Each
# variant tree starts as a copy of TREE with its build output, so only what
# the changed options touch is rebuilt; then check.sh runs the allowlist.
#   variants.sh TREE OUTDIR [VARIANT...]
#   variants.sh --build-only TREE VARIANT...
# With --build-only, only the kernels: each variant tree is seeded (when
# TREE has been built), prepared and built, no selftests and no check (the
# sched_ext clients, `make clients-scx`). A TREE named base* is a baseline:
# its variants are prepared without our changes (mktree.sh --base) and
# built as baselines (kbuild.sh).
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
repo=$(dirname "$here")
build_only=
[ "${1:-}" = --build-only ] && { build_only=1; shift; }
name=${1:?tree}
if [ -n "$build_only" ]; then
	shift
	[ $# -gt 0 ] || { echo "variants: --build-only needs a VARIANT" >&2; exit 2; }
else
	out=${2:?outdir}
	shift 2
fi
[ $# -gt 0 ] || set -- rust-off no-rust
build=$CACHE/root/build
base_opt=
case $name in base*) base_opt=--base ;; esac

rc=0
for v in "$@"; do
	[ -e "$repo/config/variants/$v.config" ] || { echo "variants: no config/variants/$v.config" >&2; exit 2; }
	vt=$name-$v
	# A copy of a built TREE only rebuilds what the options change; without
	# one, mktree.sh makes the tree from scratch.
	if [ ! -d "$build/$vt" ] && [ -e "$build/$name/vmlinux" ]; then
		echo "variants: seeding $vt from $name"
		rm -rf "$build/$vt.tmp"
		cp -a "$build/$name" "$build/$vt.tmp" && mv "$build/$vt.tmp" "$build/$vt"
	fi
	"$here/mktree.sh" $base_opt "$vt" > /dev/null
	echo "== $v: building $vt"
	EXTRA_KCONFIG=/build/config/variants/$v.config "$here/kbuild.sh" "$vt" > /dev/null ||
		{ echo "variants: $v: kernel build failed (log: $build/$vt-build.log)"; rc=1; continue; }
	[ -z "$build_only" ] || continue
	grep -E '^(# )?CONFIG_(RUST|BPF_RQSPINLOCK_RUST|BPF_LOCAL_STORAGE_RUST|KASAN|PROVE_LOCKING|DEBUG_KMEMLEAK)[= ]' "$build/$vt/.config" | sed 's/^/  /'
	"$here/build-selftests.sh" "$vt" > /dev/null ||
		{ echo "variants: $v: selftests build failed"; rc=1; continue; }
	# Kernel parameters of the variant's guests, per architecture, with
	# their reasons: config/variants/NAME.ARCH.cmdline (comments and
	# blank lines ignored).
	append=$(sed -e 's/#.*//' "$repo/config/variants/$v.${ARCH:-x86_64}.cmdline" 2>/dev/null | xargs || true)
	CHECK_APPEND=$append "$here/check.sh" "$vt" "$out/$v" "$v" || rc=1
done
exit $rc
