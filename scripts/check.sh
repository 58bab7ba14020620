#!/bin/bash
# Boot the built tree once and run our KUnit suites (they run at boot) and
# the allowlisted BPF selftests; write results.json and print the totals.
#   check.sh [--kunit-only] TREE OUTDIR
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
. "$here/guest-root.sh"
repo=$(dirname "$here")
kunit_only=
[ "${1:-}" = --kunit-only ] && { kunit_only=1; shift; }
name=${1:?tree}
out=${2:?outdir}
rm -rf "$out" && mkdir -p "$out"

cp "$repo/config/allowlist" "$out/allowlist"
install -m 755 "$here/guest/run-tests.sh" "$guest_root/sbin/rfl-run-tests"
install -m 755 "$here/allowlist-sel.sh" "$guest_root/sbin/rfl-allowlist-sel"
if [ -n "$kunit_only" ]; then
	cmd=(true)
else
	cmd=(env RFL_TEST_MAPS="${RFL_TEST_MAPS:-all}" rfl-run-tests "/build/$name" /mnt/rfl/allowlist)
fi
set +e
"$here/vm-run.sh" -t "${CHECK_TIMEOUT:-2400}" -o "$out" -a "kunit.enable=1 kunit.autorun=1" "$name" -- "${cmd[@]}" > /dev/null
vmrc=$?
set -e
echo "check: guest exited with $vmrc; console log in $out/console.log"


# A config without KUnit tests (the CONFIG_RUST=n variant) reports none.
no_suites=
grep -q -E '^CONFIG_[A-Z0-9_]*KUNIT_TESTS?=y' "$CACHE/root/build/$name/.config" || no_suites=1
python3 "$here/report.py" "$out" ${kunit_only:+--kunit-only} ${no_suites:+--no-kunit-suites} --vm-rc "$vmrc"
