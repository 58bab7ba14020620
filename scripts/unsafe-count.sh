#!/bin/bash
# Count the unsafe blocks and unsafe functions of a Rust directory, at a
# commit or in the working tree:  unsafe-count.sh DIR [COMMIT]
set -euo pipefail
dir=${1:?directory} rev=${2:-}
if [ -n "$rev" ]; then
	files=$(git ls-tree -r --name-only "$rev" -- "$dir" | grep '\.rs$')
	cat_f() { git show "$rev:$1"; }
else
	files=$(find "$dir" -name '*.rs' | sort)
	cat_f() { cat "$1"; }
fi
blocks=0 fns=0 lines=0
for f in $files; do
	t=$(cat_f "$f")
	blocks=$((blocks + $(grep -cE '\bunsafe \{' <<< "$t" || true)))
	fns=$((fns + $(grep -cE '\bunsafe (extern "C" )?fn\b' <<< "$t" || true)))
	lines=$((lines + $(wc -l <<< "$t")))
done
echo "$dir${rev:+ at $rev}: $blocks unsafe blocks, $fns unsafe fns, $lines lines"
