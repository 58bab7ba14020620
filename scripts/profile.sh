#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# Where the instructions of a bench row go: boot TREE (without KASLR) under
# QEMU with the insn-profile plugin (profile/insn-profile.c, built here
# against the qemu-plugin.h of the installed QEMU's release), run one bench
# row, and print the kernel symbols that ran the most instructions, per
# call of PER (default bpf_task_storage_get: one per operation of the
# task-storage rows). The counts are exact guest instructions; they include
# the boot and the bench's setup, which the per-call figures of the hot
# symbols make negligible.
# profile/insn-annotate.py then shows one function's blocks with their
# disassembly, to set a Rust function beside its C counterpart.
# BENCH_TREE (default TREE) is the tree whose bench binary runs: give ours
# to profile the baseline on the same binary, as bench.sh does.
#   profile.sh TREE OUTDIR <bench arguments...>
#   e.g. profile.sh linux out/profile local-storage-create-delete --nr_maps 16
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
# shellcheck source=guest-root.sh
. "$here/guest-root.sh"
tree=${1:?tree} out=${2:?outdir}
shift 2
[ $# -gt 0 ] || { echo "profile.sh: no bench arguments" >&2; exit 2; }
per=${PER:-bpf_task_storage_get}
secs=${PROFILE_SECS:-5}

# The plugin API header of the QEMU release that runs the guests.
qver=$(qemu-system-x86_64 --version | sed -n -E '1s/.*version ([0-9.]+).*/\1/p')
case $qver in
10.0.2) qsha=0901da33844a331bf8b3602b9c1fbd178e60b737c8e3ade678255bd090c9b9f1 ;;
*) echo "profile.sh: no checksum for QEMU $qver's source (add it here)" >&2; exit 2 ;;
esac
dl=$CACHE/dl qtar=$CACHE/dl/qemu_$qver+ds.orig.tar.xz
plugin=$CACHE/insn-profile-$qver.so
if ! echo "$qsha  $qtar" | sha256sum --quiet -c - >/dev/null 2>&1; then
	mkdir -p "$dl"
	curl -fsS -o "$qtar.tmp" "http://deb.debian.org/debian/pool/main/q/qemu/qemu_$qver+ds.orig.tar.xz"
	echo "$qsha  $qtar.tmp" | sha256sum --quiet -c - || { echo "checksum mismatch: $qtar" >&2; exit 1; }
	mv "$qtar.tmp" "$qtar"
fi
if [ ! -e "$plugin" ] || [ "$here/profile/insn-profile.c" -nt "$plugin" ]; then
	inc=$(mktemp -d)
	tar -xJf "$qtar" -C "$inc" --strip-components=3 --wildcards '*/include/qemu/qemu-plugin.h'
	# qemu-plugin.h names two GLib types, only behind pointers.
	printf 'typedef struct _GArray GArray;\ntypedef struct _GByteArray GByteArray;\n' > "$inc/glib.h"
	gcc -O2 -shared -fPIC -Wall -Werror -I "$inc" -o "$plugin" "$here/profile/insn-profile.c"
	rm -rf "$inc"
fi

rm -rf "$out" && mkdir -p "$out"
VM_PLUGIN="$plugin,out=$out/blocks" "$here/vm-run.sh" -t 3600 -o "$out" -a nokaslr "$tree" -- \
	bash -c "cd /build/${BENCH_TREE:-$tree}/tools/testing/selftests/bpf && ./bench -p 1 -w 1 -d $secs $*" >/dev/null || true
grep -h -E '^Summary' "$out/output" || { echo "profile.sh: the bench gave no summary" >&2; tail -n 20 "$out/output" >&2; exit 1; }
python3 "$here/profile/insn-report.py" --per "$per" --top "${TOP:-40}" \
	"$CACHE/root/build/$tree/System.map" "$out/blocks"
