#!/bin/bash
# Build the tree as it is, without `make tree` (which would undo a patch
# from patches/test/ applied by hand), and run one test_progs selector
# in the guest. Exits with the test's status.
#   CACHE=... ARCH=... try-broken.sh SELECTOR [TREE]
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
sel=${1:?test_progs selector}
name=${2:-linux}
"$here/kbuild.sh" "$name"
"$here/build-selftests.sh" "$name"
exec "$here/vm-run.sh" -o "$(dirname "$here")/out/${ARCH:-x86_64}/broken" "$name" -- \
	bash -c "cd /build/$name/tools/testing/selftests/bpf && ./test_progs -t $sel"
