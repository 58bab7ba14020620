#!/bin/bash
# Boot the built tree once and run the KUnit suites (they run at boot), the
# allowlisted BPF selftests and the whole local-storage set; write
# results.json and print the totals (scripts/report.py accounts for every
# result against config/expected-results).
#   [CHECK_SEL=REGEX] check.sh [--kunit-only] TREE OUTDIR [TAG]
# TAG names the configuration for config/expected-results: default (the
# main tree), or the variant's name (rust-off, no-rust, debug); the
# architecture is always a tag too.
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
. "$here/guest-root.sh"
repo=$(dirname "$here")
kunit_only=
[ "${1:-}" = --kunit-only ] && { kunit_only=1; shift; }
name=${1:?tree}
out=${2:?outdir}
tag=${3:-default}
tree=$CACHE/root/build/$name
st=$tree/tools/testing/selftests/bpf
rm -rf "$out" && mkdir -p "$out"

# What the run must report, derived from the tree: the KUnit suites built
# into vmlinux (and those our Rust declares), the local-storage set, which
# test loads which BPF object, and the objects the permissive selftests
# build dropped.
# A suite our Rust declares but vmlinux lacks is listed all the same, and
# report.py fails it for reporting no case.
python3 "$here/kunit-suites.py" "$tree" > "$out/kunit-suites" || true
if [ -z "$kunit_only" ]; then
	{
		"$here/allowlist-sel.sh" test_progs "$repo/config/allowlist" | sed 's/^/substr /'
		python3 "$here/ls-tests.py" "$st" | sed 's/^/exact /'
		"$here/allowlist-sel.sh" test_maps "$repo/config/allowlist" | sed 's/^/test_maps /'
	} > "$out/selectors"
	# CHECK_SEL (an extended regex over the selectors) narrows the run to
	# the matching ones, for a quick loop; make check never sets it.
	if [ -n "${CHECK_SEL:-}" ]; then
		grep -E "^[a-z_]+ ($CHECK_SEL)\$" "$out/selectors" > "$out/selectors.sel" || true
		mv "$out/selectors.sel" "$out/selectors"
	fi
	python3 "$here/ls-tests.py" --objects "$st" > "$out/test-objects"
	cp "$CACHE/root/build/$name-selftests-skips.txt" "$out/build-skips" 2>/dev/null ||
		{ echo "check: no record of the selftests build's skips; build the selftests first" >&2; exit 1; }
	echo "check: $(grep -c . "$out/kunit-suites") KUnit suites," \
		"$(grep -c '^substr ' "$out/selectors") allowlisted and" \
		"$(grep -c '^exact ' "$out/selectors") local-storage test_progs tests"
fi

install -m 755 "$here/guest/run-tests.sh" "$guest_root/sbin/rfl-run-tests"
if [ -n "$kunit_only" ]; then
	cmd=(true)
else
	cmd=(env RFL_TEST_MAPS="${RFL_TEST_MAPS:-allowlisted}" RFL_TEST_PROGS_WATCHDOG="${TEST_PROGS_WATCHDOG:-}"
		rfl-run-tests "/build/$name" /mnt/rfl/selectors)
fi
set +e
"$here/vm-run.sh" -t "${CHECK_TIMEOUT:-2400}" -o "$out" -a "kunit.enable=1 kunit.autorun=1${CHECK_APPEND:+ $CHECK_APPEND}" \
	"$name" -- "${cmd[@]}" > /dev/null
vmrc=$?
set -e
echo "check: guest exited with $vmrc; console log in $out/console.log"

# A config without KUnit tests (the CONFIG_RUST=n variant) reports none.
no_suites=
grep -q -E '^CONFIG_[A-Z0-9_]*KUNIT_TESTS?=y' "$tree/.config" || no_suites=1
python3 "$here/report.py" "$out" --tags "$tag,${ARCH:-x86_64}" --expected "$repo/config/expected-results" \
	${kunit_only:+--kunit-only} ${no_suites:+--no-kunit-suites} --vm-rc "$vmrc"
