#!/bin/bash
# Count the unsafe blocks and unsafe functions of a Rust directory, at a
# commit or in the working tree:
#   unsafe-count.sh [-x REGEX] DIR [COMMIT]
# -x leaves out the files whose path matches REGEX (an extended regular
# expression), to compare like with like across commits: e.g. the
# local_storage core without the modules added after a given commit,
#   unsafe-count.sh -x '/(backend|index)' rust/kernel/bpf/local_storage
set -euo pipefail
exclude=
if [ "${1:-}" = -x ]; then exclude=${2:?regex}; shift 2; fi
dir=${1:?directory} rev=${2:-}
if [ -n "$rev" ]; then
	files=$(git ls-tree -r --name-only "$rev" -- "$dir" | grep '\.rs$' || true)
	cat_f() { git show "$rev:$1"; }
else
	files=$(find "$dir" -name '*.rs' | sort)
	cat_f() { cat "$1"; }
fi
[ -z "$exclude" ] || files=$(grep -vE -- "$exclude" <<< "$files" || true)
blocks=0 fns=0 lines=0 nfiles=0
for f in $files; do
	t=$(cat_f "$f")
	blocks=$((blocks + $(grep -cE '\bunsafe \{' <<< "$t" || true)))
	fns=$((fns + $(grep -cE '\bunsafe (extern "C" )?fn\b' <<< "$t" || true)))
	lines=$((lines + $(wc -l <<< "$t")))
	nfiles=$((nfiles + 1))
done
echo "$dir${rev:+ at $rev}${exclude:+ (without files matching '$exclude')}: $blocks unsafe blocks, $fns unsafe fns, $lines lines in $nfiles files"
