#!/bin/bash
# Lint our change in a prepared tree: checkpatch --strict over the diff from
# the base (our files and our patches), rustfmt over the Rust files we add
# or change, the rustc/clippy diagnostics that the kernel build
# (CLIPPY=1, see kbuild.sh) reported for them, and rustdoc's warnings.
#   lint.sh TREE
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
name=${1:?tree}
tree=$CACHE/root/build/$name
rc=0
# make rustdoc builds in the tree: not beside another build of it (kbuild.sh's lock).
exec 9> "$CACHE/root/build/.$name.build.lock"
flock 9

git -C "$tree" diff base HEAD > "$CACHE/root/build/$name-ours.diff"
"$here/inroot.sh" bash -c '
	cd /build/'"$name"'
	./scripts/checkpatch.pl --strict --no-tree --no-signoff --quiet --show-types \
		--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG /build/'"$name"'-ours.diff; exit 0
' > "$CACHE/root/build/$name-checkpatch.txt"
# Warnings in code moved unchanged are excused, each by file and type, in
# config/checkpatch-exceptions; anything else fails.
python3 "$here/checkpatch-filter.py" "$(dirname "$here")/config/checkpatch-exceptions" \
	< "$CACHE/root/build/$name-checkpatch.txt" || { echo; echo "lint: checkpatch found problems" >&2; rc=1; }

mapfile -t rs < <(git -C "$tree" diff --name-only --diff-filter=AM base HEAD -- '*.rs')
if [ ${#rs[@]} -gt 0 ]; then
	(cd "$tree" && rustfmt --check --edition 2021 --config-path .rustfmt.toml "${rs[@]}") ||
		{ echo "lint: rustfmt check failed" >&2; rc=1; }
fi

warn=$CACHE/root/build/$name-rust-warnings.log
ours=$(printf '%s|' "${rs[@]}"); ours=${ours%|}
if [ ! -e "$warn" ]; then
	echo "lint: no diagnostics of rust/kernel.o on record; build the kernel first" >&2
	rc=1
elif [ -n "$ours" ] && grep -E -q -- "--> ($ours)" "$warn"; then
	cat "$warn" >&2
	echo "lint: rustc/clippy warnings in our Rust" >&2
	rc=1
fi
# The kernel crate's documentation, private items included (our code is
# mostly pub(super)): rustdoc's warnings in the Rust files we add or change
# fail (broken or ambiguous intra-doc links). Upstream's own private items
# have some of their own, which are not ours to fix here.
doc=$CACHE/root/build/$name-rustdoc.log
"$here/inroot.sh" env TREE="/build/$name" ARCH="${ARCH:-x86_64}" bash -c '
	cd "$TREE" && make -s LLVM=1 ARCH="$ARCH" CC="ccache clang" \
		RUSTDOC="rustdoc --document-private-items" rustdoc
' > "$doc" 2>&1 || { cat "$doc" >&2; echo "lint: make rustdoc failed" >&2; rc=1; }
if [ -n "$ours" ] && grep -E -q -- "--> ($ours):" "$doc"; then
	cat "$doc" >&2
	echo "lint: rustdoc warnings in our Rust" >&2
	rc=1
fi
[ $rc = 0 ] && echo "lint: checkpatch, rustfmt, clippy and rustdoc clean (${#rs[@]} Rust files)"
exit $rc
