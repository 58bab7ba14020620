#!/bin/bash
# Build and check the patched tree in other configurations:
# config/variants/NAME.config on top of the usual fragments. By default the
# two that must behave as upstream (rust-off: our options off, upstream's C;
# no-rust: CONFIG_RUST=n); `make check-debug` runs "debug". Each
# variant tree starts as a copy of TREE with its build output, so only what
# the changed options touch is rebuilt; then check.sh runs the allowlist.
#   variants.sh TREE OUTDIR [VARIANT...]
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
repo=$(dirname "$here")
name=${1:?tree}
out=${2:?outdir}
shift 2
[ $# -gt 0 ] || set -- rust-off no-rust
build=$CACHE/root/build

rc=0
for v in "$@"; do
	[ -e "$repo/config/variants/$v.config" ] || { echo "variants: no config/variants/$v.config" >&2; exit 2; }
	vt=$name-$v
	if [ ! -d "$build/$vt" ]; then
		echo "variants: seeding $vt from $name"
		cp -a "$build/$name" "$build/$vt.tmp" && mv "$build/$vt.tmp" "$build/$vt"
	fi
	"$here/mktree.sh" "$vt" > /dev/null
	echo "== $v: building $vt"
	EXTRA_KCONFIG=/build/config/variants/$v.config "$here/kbuild.sh" "$vt" > /dev/null ||
		{ echo "variants: $v: kernel build failed (log: $build/$vt-build.log)"; rc=1; continue; }
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
