#!/bin/bash
# Print the selectors config/allowlist gives runner $1, one per line:
# comments and blank lines dropped. Used on the host (build-selftests.sh)
# and in the guest (run-tests.sh, installed as rfl-allowlist-sel).
#   allowlist-sel.sh RUNNER ALLOWLIST
set -euo pipefail
sed -e 's/#.*//' -e '/^\s*$/d' "${2:?allowlist}" | awk -v r="${1:?runner}" '$1 == r { print $2 }'
