#!/bin/bash
# Build the Debian trixie root that is both our build environment (chroot)
# and the guest's root filesystem (9p, read-only).
#
# Why one root: 7.3's BPF selftests need LLVM >= 20, and Debian's clang-21
# needs trixie's libc. Building the kernel, its test modules and the
# selftests with one compiler (clang-21, pahole from trixie) keeps modules
# and kernel coherent; booting the same root gives the tests the exact
# libraries they were linked against.
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
. "$here/versions.env"
root=${CACHE:?}/root
mirror=http://deb.debian.org/debian
pkgs_file=$here/root-packages.txt
stamp=$root/.rfl-root-$(cat "$0" "$pkgs_file" "$here/versions.env" | sha256sum | cut -c1-12)

[ -e "$stamp" ] && exit 0

if [ ! -x "$root/usr/bin/apt-get" ]; then
	rm -rf "$root.tmp"
	debootstrap --variant=minbase trixie "$root.tmp" "$mirror" >&2
	mv "$root.tmp" "$root"
fi

cat > "$root/etc/apt/sources.list.d/backports.sources" <<SRC
Types: deb
URIs: $mirror
Suites: trixie-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true

mapfile -t pkgs < <(sed -e 's/#.*//' -e '/^\s*$/d' "$pkgs_file")
llvm=(clang-$LLVM_VERSION lld-$LLVM_VERSION llvm-$LLVM_VERSION)
"$here/inroot.sh" bash -c "
	set -e
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends ${pkgs[*]} >/dev/null
	apt-get install -y -qq --no-install-recommends -t trixie-backports ${llvm[*]} >/dev/null
	apt-get clean
	for t in clang ld.lld llvm-ar llvm-nm llvm-objcopy llvm-objdump llvm-readelf llvm-strip llvm-strings llvm-config llvm-link; do
		ln -sf /usr/lib/llvm-$LLVM_VERSION/bin/\$t /usr/local/bin/\$t
	done
"
rm -f "$root"/.rfl-root-*
touch "$stamp"
