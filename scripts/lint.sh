#!/bin/bash
# Lint our change in a prepared tree: rustfmtcheck and clippy (CLIPPY=1) over
# the Rust, checkpatch --strict over our C files and our patches.
#   lint.sh TREE
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
repo=$(dirname "$here")
name=${1:?tree}
rc=0

# checkpatch on our patches and on our own C files (as a diff from base).
"$here/inroot.sh" bash -c '
	cd /build/'"$name"'
	git diff base HEAD > /tmp/ours.diff
	./scripts/checkpatch.pl --strict --no-tree --no-signoff --quiet \
		--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG /tmp/ours.diff
' || { echo "lint: checkpatch found problems" >&2; rc=1; }

# rustfmt over the Rust files we add or change; clippy over the kernel crate.
"$here/inroot.sh" bash -c '
	set -e
	cd /build/'"$name"'
	files=$(git diff --name-only --diff-filter=AM base HEAD -- "*.rs")
	[ -z "$files" ] || rustfmt --check --edition 2021 --config-path .rustfmt.toml $files
' || { echo "lint: rustfmt check failed" >&2; rc=1; }

# The kernel build runs clippy (kbuild.sh); any Rust warning or lint in a
# file we own is a lint failure.
warn=$CACHE/root/build/$name-rust-warnings.log
ours=$(cd "$repo" && git ls-files 'rust/*.rs' | paste -sd'|' -)
if [ ! -e "$warn" ]; then
	echo "lint: no build log of rust/kernel.o yet; build the kernel first" >&2
	rc=1
elif [ -n "$ours" ] && grep -E -q -- "--> ($ours)" "$warn"; then
	cat "$warn" >&2
	echo "lint: rustc/clippy warnings in our Rust" >&2
	rc=1
fi
[ $rc = 0 ] && echo "lint: rustfmt, clippy and checkpatch clean"
exit $rc
