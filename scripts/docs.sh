#!/bin/bash
# Build Documentation/bpf/ with the kernel's own `make htmldocs`
# (SPHINXDIRS=bpf; Sphinx and PyYAML are Debian packages of the root) in
# TREE and in the base, and fail on any warning that TREE's build gives and
# the base's does not. The base's own warnings (with SPHINXDIRS, a
# cross-reference out of bpf/ cannot resolve) are printed, not counted.
#
#   docs.sh TREE OUTDIR      TREE: a tree under $CACHE/root/build
#
# htmldocs needs no kernel build; the HTML is in OUTDIR/TREE and
# OUTDIR/base, the logs beside them.
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
name=${1:?tree}
out=${2:?outdir}
build=${CACHE:?}/root/build
mkdir -p "$out"

# The warnings of one build, with the tree's path taken out so that two
# trees' lines compare.
htmldocs() {
	local t=$1
	rm -rf "${build:?}/$t/Documentation/output"
	"$here/inroot.sh" bash -c "make -s -C /build/$t LLVM=1 SPHINXDIRS=bpf htmldocs" \
		> "$out/$t.log" 2>&1 || { cat "$out/$t.log" >&2; echo "docs: htmldocs failed in $t" >&2; exit 1; }
	rm -rf "${out:?}/$t" && cp -r "$build/$t/Documentation/output/bpf" "$out/$t"
	grep -i 'warning' "$out/$t.log" | sed -e "s|/build/$t/||g" | sort -u
}

# The base tree, made if this machine has none yet (make base-tree).
"$here/mktree.sh" --base base > /dev/null
base_warnings=$(htmldocs base)
ours=$(htmldocs "$name")
pages=$(find "$out/$name" -maxdepth 1 -name '*.html' | wc -l)
new=$(comm -13 <(echo "$base_warnings") <(echo "$ours") | sed '/^$/d')
if [ -n "$base_warnings" ]; then
	echo "docs: warnings of the base's build too, not counted:"
	echo "$base_warnings" | sed 's/^/    /'
fi
if [ -n "$new" ]; then
	echo "docs: Documentation/bpf/ of $name: warnings the base does not give:" >&2
	echo "$new" | sed 's/^/    /' >&2
	exit 1
fi
echo "docs: Documentation/bpf/ of $name: $pages pages, no warning of its own"
