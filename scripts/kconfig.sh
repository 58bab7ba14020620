#!/bin/bash
# Write .config for a prepared tree: allnoconfig plus the BPF selftests'
# config (minus config/selftests-exclude.txt), then config/guest.config and
# config/$ARCH.config; config/expert.config goes on top (merge_config.sh -m,
# then olddefconfig).
# Runs inside the root; TREE and ARCH are set.
set -euo pipefail
cd "$TREE"
cfg=/build/config
frag=.rfl-kconfig-fragment
ours=("$cfg/guest.config" "$cfg/$ARCH.config")
# The patched trees also get our own options.
[ -n "${PATCHED:-}" ] && ours+=("$cfg/rust.config")
[ -n "${EXTRA_KCONFIG:-}" ] && ours+=("$EXTRA_KCONFIG")
# The selftests' options, less the excluded ones and those ours set.
upstream() {
	local sym val
	grep -E '^CONFIG_' tools/testing/selftests/bpf/config |
	while IFS='=' read -r sym val; do
		grep -q -E -f <(sed -e 's/#.*//' -e '/^\s*$/d' "$cfg/selftests-exclude.txt") <<< "$sym" && continue
		grep -q -E "^(# )?$sym[= ]" "${ours[@]}" && continue
		echo "$sym=$val"
	done
}
# A variant's EXTRA_KCONFIG may switch options off ("# CONFIG_X is not set"):
# they are then neither asked for by the other fragments nor required.
off=$(sed -n -E 's/^# CONFIG_([A-Z0-9_]+) is not set$/\1/p' ${EXTRA_KCONFIG:+"$EXTRA_KCONFIG"} < /dev/null)
off_re="^CONFIG_(${off//$'\n'/|})="
[ -n "$off" ] || off_re='^$'
late=$cfg/expert.config
wanted() { cat "${ours[@]}" "$late" | grep -v -E "$off_re"; }
# One file, so that a change to either part reconfigures: the allnoconfig
# fragment, then the late part after a marker line.
{
	upstream | grep -v -E "$off_re"
	cat "${ours[@]}" | grep -v -E "$off_re"
	echo '# rfl: after allnoconfig'
	grep -v -E "$off_re" "$late"
} > "$frag.new"
if cmp -s "$frag.new" "$frag" && [ -e .config ]; then
	rm "$frag.new"
	exit 0
fi
mv "$frag.new" "$frag"
sed '/^# rfl: after allnoconfig$/,$d' "$frag" > "$frag.early"
make -s LLVM=1 ARCH="$ARCH" KCONFIG_ALLCONFIG="$frag.early" allnoconfig
rm "$frag.early"
sed '1,/^# rfl: after allnoconfig$/d' "$frag" > "$frag.late"
scripts/kconfig/merge_config.sh -m -Q .config "$frag.late" > /dev/null
rm "$frag.late"
make -s LLVM=1 ARCH="$ARCH" olddefconfig

# Report what the fragments asked for and did not get; fail on the
# options the whole harness depends on.
missing=$(wanted | grep -E '^CONFIG_' |
	while IFS= read -r want; do
		grep -qxF "$want" .config || echo "$want"
	done)
[ -z "$missing" ] || printf 'kconfig: requested but not set:\n%s\n' "$missing" >&2
must=(RUST RUST_INLINE_HELPERS DEBUG_INFO_BTF BPF_SYSCALL BPF_LSM KUNIT MODULES KEYS)
[ -n "${PATCHED:-}" ] && must+=($(sed -n -E 's/^CONFIG_([A-Z0-9_]+)=y$/\1/p' "$cfg/rust.config"))
# A step of the series (SERIES_STEP, series-build.sh) may come before the
# patch that adds one of our options: the options the tree defines are
# required, the others cannot be.
defined() { [ -z "${SERIES_STEP:-}" ] || grep -rqx --include='Kconfig*' "config $1" .; }
for opt in "${must[@]}"; do
	grep -qxF "$opt" <<< "$off" && continue
	defined "$opt" || continue
	grep -qx "CONFIG_$opt=y" .config || { echo "kconfig: CONFIG_$opt is not y" >&2; rm -f "$frag"; exit 1; }
done
