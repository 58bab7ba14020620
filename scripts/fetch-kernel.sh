#!/bin/bash
# Fetch the pinned kernel source (see versions.env) with the trixie root's
# apt, verify both checksums and print the path of the source tarball.
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
. "$here/versions.env"
dl=${CACHE:?}/dl
pkg=linux-source-$KERNEL_SERIES
deb=$dl/${pkg}_${DEB_VERSION}_all.deb
tarball=$dl/linux-source-$DEB_VERSION.tar.xz

check() { echo "$1  $2" | sha256sum --quiet -c - >/dev/null 2>&1; }

if ! check "$KERNEL_TAR_SHA256" "$tarball"; then
	mkdir -p "$dl"
	if ! check "$KERNEL_DEB_SHA256" "$deb"; then
		"$here/inroot.sh" bash -c "cd /tmp && apt-get download -qq $pkg=$DEB_VERSION && cat ${pkg}_*.deb" > "$deb.tmp"
		check "$KERNEL_DEB_SHA256" "$deb.tmp" || { echo "checksum mismatch: $deb" >&2; exit 1; }
		mv "$deb.tmp" "$deb"
	fi
	dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/src/$pkg.tar.xz" > "$tarball.tmp"
	check "$KERNEL_TAR_SHA256" "$tarball.tmp" || { echo "checksum mismatch: $tarball" >&2; exit 1; }
	mv "$tarball.tmp" "$tarball"
	rm -f "$deb"
fi
echo "$tarball"
