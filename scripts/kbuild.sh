#!/bin/bash
# Configure and build one prepared tree inside the root.
#   kbuild.sh NAME [make targets...]
#
# Trees other than the baselines are built with CLIPPY=1 (clippy-driver
# emits the same code as rustc, plus lints): the Rust warnings of the last
# build of rust/kernel.o are kept in NAME-rust-warnings.log for lint.sh.
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
name=${1:?tree name}; shift
arch=${ARCH:-x86_64}
jobs=$(( $(nproc) + 1 ))
build=$CACHE/root/build
clippy=1 patched=1
# One build of a tree at a time: a second make target that needs the same
# tree waits for the first build and then finds it done.
exec 9> "$build/.$name.build.lock"
flock 9
case $name in base*) clippy= patched= ;; esac

# The root sees our config/ at /build/config. Trees may build at the same
# time (a variant beside the main tree), so a build never rewrites a copy
# another may be reading: it makes a fresh one and renames a symlink onto
# it, which is atomic; older copies go once two newer ones exist.
new=$(mktemp -d "$build/config.XXXXXX")
cp -r "$(dirname "$here")/config/." "$new/"
cp "$here/kconfig.sh" "$new/kconfig.sh"
chmod 755 "$new"
[ -L "$build/config" ] || rm -rf "$build/config"
ln -sfn "$(basename "$new")" "$new.link" && mv -T "$new.link" "$build/config"
ls -dt "$build"/config.?????? | tail -n +4 | xargs -r rm -rf

krust=$build/$name/rust/kernel.o
warn=$build/$name-rust-warnings.log
log=$build/$name-build.log
# no diagnostics on record: rebuild the kernel crate to get them
[ -e "$warn" ] || rm -f "$krust"
before=$(stat -c %Y "$krust" 2>/dev/null || echo 0)
set +e
"$here/inroot.sh" env TREE="/build/$name" ARCH="$arch" EXTRA_KCONFIG="${EXTRA_KCONFIG:-}" PATCHED="$patched" \
	SERIES_STEP="${SERIES_STEP:-}" CCACHE_MAXSIZE=8G bash -c '
	set -e
	bash /build/config/kconfig.sh
	cd "$TREE"
	make -s LLVM=1 ARCH="$ARCH" CC="ccache clang" '"${clippy:+CLIPPY=1}"' -j'"$jobs"' "$@"
' kbuild "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
# rustc/clippy diagnostics of the build that last compiled rust/kernel.o:
# kept until the kernel crate is compiled again, so that a build that
# failed elsewhere (and did not touch the crate) cannot empty them.
after=$(stat -c %Y "$krust" 2>/dev/null || echo 0)
if [ "$before" != "$after" ]; then
	awk '/^(warning|error)(\[|:)/ { p = 1 } /^$/ { p = 0 } p' "$log" > "$warn"
fi
exit "$rc"
