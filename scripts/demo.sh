#!/bin/bash
# Build demo/task_count (a BPF program counting each thread's system calls
# in task local storage, with bpf_task_storage_get()) against the tree's
# libbpf and BTF, and run it in the guest.
#   demo.sh TREE OUTDIR
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
repo=$(dirname "$here")
name=${1:?tree}
out=${2:?outdir}
build=$CACHE/root/build
rm -rf "$build/demo" && cp -r "$repo/demo" "$build/demo"
"$here/inroot.sh" bash -c '
	set -e
	st=/build/'"$name"'/tools/testing/selftests/bpf
	cd /build/demo
	inc="-I$st/tools/include -I$st/tools/include/bpf -I/build/'"$name"'/tools/include/uapi"
	clang -g -O2 --target=bpf -Wno-missing-declarations -D__TARGET_ARCH_'"$( [ "${ARCH:-x86_64}" = arm64 ] && echo arm64 || echo x86)"' \
		$inc -I$st -c task_count.bpf.c -o task_count.bpf.o
	$st/tools/sbin/bpftool gen skeleton task_count.bpf.o name task_count_bpf > task_count.skel.h
	clang -g -O2 -Wall $inc -I. task_count.c $st/tools/build/libbpf/libbpf.a \
		-lelf -lz -lzstd -lpthread -o task_count
'
"$here/vm-run.sh" -t 300 -o "$out" "$name" -- /build/demo/task_count > /dev/null
echo "demo: output in $out/output"
cat "$out/output"
