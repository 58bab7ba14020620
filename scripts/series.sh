#!/bin/bash
# Write the series for review: one commit per entry of patches/series on
# the pinned base (the entry's patch, the new files listed under it, our
# MAINTAINERS section as of that commit, its message with the identity of
# config/series.env), then `git format-patch --cover-letter` into OUTDIR
# with patches/cover-letter in place of format-patch's blurb.
#
#   series.sh OUTDIR
#
# The history is built in $CACHE/root/build/series.git (a bare shared clone
# of the base), through a scratch index: nothing is checked out. It then
# proves that the series ends where `make tree` does: mktree.sh builds the
# same list into the tree series-tree, and the two trees must be the same
# object (make series-check also applies OUTDIR with git am).
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
repo=$(dirname "$here")
out=${1:?outdir}
. "$here/versions.env"
. "$repo/config/series.env"
export SERIES_NAME SERIES_EMAIL
build=${CACHE:?}/root/build
git_dir=$build/series.git
S() { python3 "$here/series.py" "$@"; }

# The tree make tree builds (also makes the base repository if missing).
tree=$("$here/mktree.sh" series-tree)
S check

export GIT_AUTHOR_NAME=$SERIES_NAME GIT_AUTHOR_EMAIL=$SERIES_EMAIL
export GIT_COMMITTER_NAME=$SERIES_NAME GIT_COMMITTER_EMAIL=$SERIES_EMAIL
# One date for every commit, the repository's last commit's: the same
# repository commit gives the same patches.
GIT_AUTHOR_DATE=$(git -C "$repo" log -1 --format=%cI)
export GIT_AUTHOR_DATE GIT_COMMITTER_DATE=$GIT_AUTHOR_DATE

if [ ! -d "$git_dir" ]; then
	git clone -q --bare --shared "$build/src.git" "$git_dir"
	git --git-dir="$git_dir" config gc.auto 0
fi
g() { git --git-dir="$git_dir" "$@"; }
g fetch -q "$build/src.git" "refs/tags/base:refs/tags/base"
export GIT_INDEX_FILE=$git_dir/series-index
g read-tree base
head=$(g rev-parse base)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
S plan > "$tmp/plan"

while IFS=$'\t' read -r n kind entry files; do
	if [ "$kind" = patch ]; then
		g apply --cached "$repo/patches/$entry" ||
			{ echo "series: patches/$entry does not apply at commit $n" >&2; exit 1; }
	fi
	for f in $files; do
		# As this commit adds it: later patches may change it.
		blob=$(S first "$f" | g hash-object -w --stdin)
		mode=100644; [ -x "$repo/$f" ] && mode=100755
		g update-index --add --cacheinfo "$mode,$blob,$f"
	done
	g show :MAINTAINERS > "$tmp/maintainers"
	blob=$(S maintainers "$n" < "$tmp/maintainers" | g hash-object -w --stdin)
	g update-index --cacheinfo "100644,$blob,MAINTAINERS"
	S message "$n" > "$tmp/msg"
	head=$(g commit-tree "$(g write-tree)" -p "$head" -F "$tmp/msg")
done < "$tmp/plan"
g update-ref refs/heads/series "$head"
unset GIT_INDEX_FILE

ours=$(g rev-parse "$head^{tree}")
made=$(git -C "$tree" rev-parse HEAD^{tree})
if [ "$ours" != "$made" ]; then
	echo "series: the series ends at tree $ours, mktree.sh at $made:" >&2
	git -C "$tree" diff --stat "$made" "$ours" >&2 || true
	exit 1
fi

rm -rf "$out" && mkdir -p "$out"
g format-patch -q --cover-letter --thread=shallow --subject-prefix="$SERIES_SUBJECT_PREFIX" \
	-o "$out" base..series
# The cover letter's subject and blurb from patches/cover-letter.
cover=$(ls "$out"/0000-*.patch)
# <<REPOSITORY URL>> in it is SERIES_REPO_URL (config/series.env), once set.
python3 - "$cover" "$repo/patches/cover-letter" "${SERIES_REPO_URL-}" <<'EOF'
import sys
cover, src, url = sys.argv[1], open(sys.argv[2]).read(), sys.argv[3]
if url:
    src = src.replace("<<REPOSITORY URL>>", url)
elif "<<REPOSITORY URL>>" in src:
    print("series: the cover letter's <<REPOSITORY URL>> stays: set SERIES_REPO_URL in "
          "config/series.env", file=sys.stderr)
subject, _, blurb = src.partition("\n\n")
assert subject.startswith("Subject: "), "patches/cover-letter: start with Subject:"
text = open(cover).read()
for mark, new in (("*** SUBJECT HERE ***", subject[len("Subject: "):].strip()),
                  ("*** BLURB HERE ***", blurb.strip("\n"))):
    assert mark in text, f"{cover}: no {mark}"
    text = text.replace(mark, new, 1)
open(cover, "w").write(text)
EOF
echo "series: $(ls "$out"/*.patch | wc -l) files in $out (cover letter and $(g rev-list --count base..series) patches); tree $ours, the same as make tree's"
