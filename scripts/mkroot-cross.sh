#!/bin/bash
# Add what cross-building the selftests for ARCH needs to the build root:
# Debian's cross gcc (its crt files and libgcc; the compiler is clang, which
# the selftests point at the gcc installation) and the arm64 (multiarch)
# development libraries test_progs, test_maps, bench, sign-file and
# bpftool link against.
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
arch=${1:?arch}
case $arch in
arm64) deb=arm64 triplet=aarch64-linux-gnu ;;
*) echo "mkroot-cross: no cross setup for $arch" >&2; exit 2 ;;
esac
root=${CACHE:?}/root
stamp=$root/.rfl-cross-$arch-$(sha256sum "$0" | cut -c1-12)
[ -e "$stamp" ] && exit 0
"$here/inroot.sh" bash -c "
	set -e
	export DEBIAN_FRONTEND=noninteractive
	dpkg --add-architecture $deb
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends gcc-$triplet libc6-dev:$deb \
		libelf-dev:$deb zlib1g-dev:$deb libzstd-dev:$deb libssl-dev:$deb libcap-dev:$deb >/dev/null
	apt-get clean
"
rm -f "$root"/.rfl-cross-"$arch"-*
touch "$stamp"
