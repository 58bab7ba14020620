#!/bin/bash
# The root filesystem of a guest of another architecture than the build
# root's: Debian trixie for ARCH, with what the test runner and the
# selftests need at run time. debootstrap's first stage only unpacks
# packages, so it needs no emulation on the host; the second stage (the
# package scripts) runs in the guest itself on its first boot, see
# vm-run.sh.
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
arch=${1:?arch}
root=${CACHE:?}/root-$arch
mirror=http://deb.debian.org/debian
pkgs=bash,kmod,iproute2,procps,util-linux,mount,libelf1t64,zlib1g,libzstd1
stamp=$root/.rfl-root-$(cat "$0" | sha256sum | cut -c1-12)
[ -e "$stamp" ] && exit 0
rm -rf "$root" "$root.tmp"
debootstrap --arch="$arch" --foreign --variant=minbase --include="$pkgs" \
	trixie "$root.tmp" "$mirror" >&2
mkdir -p "$root.tmp/build" "$root.tmp/mnt/rfl"
mv "$root.tmp" "$root"
touch "$stamp"
