#!/bin/bash
# Print the selectors config/allowlist gives runner $1, one per line:
# comments and blank lines dropped. Used on the host by build-selftests.sh
# and check.sh (which writes the guest's selectors file).
#   allowlist-sel.sh RUNNER ALLOWLIST
set -euo pipefail
sed -e 's/#.*//' -e '/^\s*$/d' "${2:?allowlist}" | awk -v r="${1:?runner}" '$1 == r { print $2 }'
