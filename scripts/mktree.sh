#!/bin/bash
# Prepare a kernel tree: the pinned base, then (unless --base) our patches
# in series order, our files at their kernel paths and our MAINTAINERS
# section, all as patches/series lists them (scripts/series.py reads it,
# and fails on a file of ours that it does not list; scripts/series.sh
# builds the series from the same list).
#
#   mktree.sh [--base] NAME     -> prints the tree's path
#
# The tree is a git repository whose first commit is the base; the overlay
# is a second commit built through a scratch index, and `git reset --hard`
# moves the work tree to it, rewriting only the files whose content changed
# so that an unchanged file keeps its build output.
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
repo=$(dirname "$here")
base_only=
[ "${1:-}" = --base ] && { base_only=1; shift; }
name=${1:?tree name}
tree=${CACHE:?}/root/build/$name
. "$here/versions.env"
. "$repo/config/series.env"

g() { git -C "$tree" -c user.name="$SERIES_NAME" -c user.email="$SERIES_EMAIL" "$@"; }

src=$CACHE/root/build/src.git
mkdir -p "$CACHE/root/build"
# Two make targets at once (check-debug beside a profile) both prepare
# their trees: one at a time, for the shared base repository and for a
# tree's index.
exec 9> "$CACHE/root/build/.mktree.lock"
flock 9
if [ ! -d "$src" ]; then
	# One repository holds the base; every tree is a shared clone of it.
	tarball=$("$here/fetch-kernel.sh")
	tmp=$(mktemp -d "$src.XXXX")
	tar -xJf "$tarball" -C "$tmp" --strip-components=1
	git init -q --bare "$tmp.git"
	# No background auto-gc: it would race with the rename below.
	git --git-dir="$tmp.git" config gc.auto 0
	gs() { git --git-dir="$tmp.git" --work-tree="$tmp" \
		-c user.name="$SERIES_NAME" -c user.email="$SERIES_EMAIL" "$@"; }
	gs add -A -f .
	gs commit -q -m "Debian linux $DEB_VERSION (base)"
	gs tag base
	rm -rf "$tmp" && mv "$tmp.git" "$src"
fi
if [ ! -d "$tree/.git" ]; then
	rm -rf "$tree"
	git clone -q --shared "$src" "$tree"
	g fetch -q --tags
fi

export GIT_INDEX_FILE=$tree/.git/rfl-index
g read-tree base
if [ -z "$base_only" ]; then
	# Fails, naming them, on files of ours that patches/series does not
	# list exactly once.
	patches=$(env -u GIT_INDEX_FILE python3 "$here/series.py" apply)
	env -u GIT_INDEX_FILE python3 "$here/series.py" files > "$tree/.git/rfl-files"
	# Hunks to our own files are in the files already (series.py apply).
	while read -r p excludes; do
		# shellcheck disable=SC2086
		g apply --cached $excludes "$repo/patches/$p" ||
			{ echo "mktree: patches/$p does not apply" >&2; exit 1; }
	done <<< "$patches"

	# Our own files, at their kernel paths, as the series leaves them.
	while IFS= read -r -d '' f; do
		if g cat-file -e "base:$f" 2>/dev/null; then
			echo "mktree: $f exists upstream; change it with a patch" >&2
			exit 1
		fi
		blob=$(g hash-object -w --stdin < "$repo/$f")
		mode=100644; [ -x "$repo/$f" ] && mode=100755
		g update-index --add --cacheinfo "$mode,$blob,$f"
	done < "$tree/.git/rfl-files"

	# Our MAINTAINERS section (patches/maintainers), whole.
	g show :MAINTAINERS > "$tree/.git/rfl-maintainers"
	blob=$(python3 "$here/series.py" maintainers < "$tree/.git/rfl-maintainers" |
		g hash-object -w --stdin)
	g update-index --cacheinfo "100644,$blob,MAINTAINERS"
fi
overlay=$(g write-tree)
unset GIT_INDEX_FILE
commit=HEAD
if [ "$(g rev-parse HEAD^{tree})" != "$overlay" ]; then
	commit=$(g commit-tree "$overlay" -p base -m "rfl-bpf overlay")
fi
# Also undoes local edits to the tree; build output (untracked) stays.
g reset -q --hard "$commit"
echo "$tree"
