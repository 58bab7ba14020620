#!/bin/bash
# Build the series step by step: check out each commit of the history that
# series.sh wrote (branch series of $CACHE/root/build/series.git) in one
# scratch tree, series-step, and build it there with kbuild.sh, our options
# on (config/rust.config, as make kernel; with SERIES_STEP set, kconfig.sh
# does not require an option that the step's tree does not define yet). The tree is kept between steps, so
# each step rebuilds what its commit changed; C objects come from ccache.
#
#   series-build.sh OUTDIR [FIRST [LAST]]
#
# FIRST and LAST are commit numbers (1 is the first patch; default: all).
# Every step is built, also after one fails; OUTDIR/steps.txt gets one line
# per step (number, result, seconds, subject) and OUTDIR/NN.log the output
# of a step that failed or warned. Exits 1 if any step failed. make series (or
# series-check) must have run: this script does not write the history.
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
out=${1:?outdir}
build=${CACHE:?}/root/build
git_dir=$build/series.git
name=series-step tree=$build/series-step
g() { git --git-dir="$git_dir" "$@"; }
g rev-parse -q --verify refs/heads/series > /dev/null ||
	{ echo "series-build: no series history in $git_dir: run make series first" >&2; exit 2; }
mapfile -t commits < <(g rev-list --reverse base..series)
first=${2:-1} last=${3:-${#commits[@]}}

if [ ! -d "$tree/.git" ]; then
	rm -rf "$tree"
	git clone -q --shared --no-checkout "$git_dir" "$tree"
fi
git -C "$tree" fetch -q "$git_dir" "+refs/heads/series:refs/remotes/origin/series" "+refs/tags/base:refs/tags/base"

mkdir -p "$out"
: > "$out/steps.txt"
failed=0 start=$(date +%s)
for ((i = first; i <= last; i++)); do
	c=${commits[i - 1]}
	subject=$(g log -1 --format=%s "$c")
	git -C "$tree" checkout -q --force --detach "$c"
	# A step may add Kconfig options that config/rust.config asks for:
	# write .config again (kconfig.sh does when its fragment is new).
	rm -f "$tree/.rfl-kconfig-fragment"
	t=$(date +%s)
	log=$(printf '%s/%02d.log' "$out" "$i")
	if SERIES_STEP=$i "$here/kbuild.sh" "$name" > "$log" 2>&1; then
		# make kernel builds the whole series without a warning: a
		# step that warns keeps its log.
		w=$(grep -c -E '(^|: )warning[:[]' "$log" || true)
		if [ "$w" = 0 ]; then r=ok; rm -f "$log"; else r="ok, $w warnings"; fi
	else
		r=FAILED failed=$((failed + 1))
	fi
	line=$(printf '%02d  %-16s %5d s  %s' "$i" "$r" $(( $(date +%s) - t )) "$subject")
	echo "$line" | tee -a "$out/steps.txt"
done
echo "series-build: steps $first to $last, $failed failed, $(( $(date +%s) - start )) s in all" |
	tee -a "$out/steps.txt"
[ "$failed" = 0 ]
