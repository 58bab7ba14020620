#!/bin/bash
# Check the series: write it (series.sh, which already compares its last
# tree with mktree.sh's), apply it with git am to the base in a fresh
# directory and compare that tree with the one mktree.sh builds, then run
# checkpatch --strict on every patch, with config/checkpatch-exceptions,
# and build Documentation/bpf/ of that tree with htmldocs (docs.sh).
#
#   series-check.sh OUTDIR
#
# The git am tree is $CACHE/root/build/series-am, made anew each run; the
# mktree.sh tree is series-tree. Neither is a tree anything builds in.
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
repo=$(dirname "$here")
out=${1:?outdir}
build=${CACHE:?}/root/build
. "$repo/config/series.env"
start=$(date +%s)

lap() { echo "series-check: $1 in $(( $(date +%s) - t )) s"; t=$(date +%s); }
t=$start
"$here/series.sh" "$out"
lap "series.sh (mktree.sh series-tree, the history, format-patch)"
mapfile -t patches < <(ls "$out"/[0-9][0-9][0-9][0-9]-*.patch | grep -v '/0000-')

am=$build/series-am
rm -rf "$am"
git clone -q --shared --no-checkout "$build/src.git" "$am"
git -C "$am" checkout -q -b series base
git -C "$am" -c user.name="$SERIES_NAME" -c user.email="$SERIES_EMAIL" am -q "${patches[@]}"
applied=$(git -C "$am" rev-parse HEAD^{tree})
made=$(git -C "$build/series-tree" rev-parse HEAD^{tree})
echo "series-check: git am of ${#patches[@]} patches on base: tree $applied"
echo "series-check: mktree.sh (make tree's script):        tree $made"
git -C "$am" fetch -q "$build/series-tree" HEAD
if ! git -C "$am" diff --exit-code --stat FETCH_HEAD HEAD; then
	echo "series-check: the series and make tree differ (above)" >&2
	exit 1
fi
echo "series-check: no difference"
lap "git am in a fresh clone"

rc=0
for p in "${patches[@]}"; do
	# spdxcheck.py, which checkpatch runs on SPDX lines, needs Debian's
	# python3-ply and python3-git (host-setup.sh): the system python3.
	report=$( (cd "$am" && PATH=/usr/bin:$PATH ./scripts/checkpatch.pl --strict --quiet \
		--show-types "$p") || true)
	if left=$(python3 "$here/checkpatch-filter.py" "$repo/config/checkpatch-exceptions" <<< "$report"); then
		echo "checkpatch: $(basename "$p"): clean${left:+ ($left)}"
	else
		echo "checkpatch: $(basename "$p"):"
		echo "$left" | sed 's/^/    /'
		rc=1
	fi
done
lap "checkpatch"

# Documentation/bpf/ of the applied series, built by the kernel's htmldocs.
"$here/docs.sh" series-am "$(dirname "$out")/docs" || rc=1
lap "htmldocs"
echo "series-check: $(( $(date +%s) - start )) s in all"
exit $rc
