#!/bin/bash
# Run a command inside the trixie root, in a private mount namespace so
# that nothing needs unmounting afterwards. The host's rustup toolchain and
# cargo binaries (bindgen) are bind-mounted read-only at the same paths.
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
. "$here/versions.env"
root=${CACHE:?}/root
exec unshare --mount --propagation private -- bash -c '
	set -e
	root=$1 toolchain=$2; shift 2
	mount -t proc proc "$root/proc"
	mount --rbind /dev "$root/dev"
	mount -t sysfs sys "$root/sys"
	mount -t tmpfs tmp "$root/tmp"
	for d in /root/.rustup /root/.cargo; do
		[ -d "$d" ] || continue
		mkdir -p "$root$d"
		mount --bind "$d" "$root$d"
		mount -o remount,bind,ro "$root$d"
	done
	exec chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
		RUSTUP_TOOLCHAIN="$toolchain" \
		PATH=/usr/local/bin:/root/.cargo/bin:/usr/bin:/bin:/usr/sbin:/sbin \
		CCACHE_DIR=/build/ccache CCACHE_BASEDIR=/build CCACHE_NOHASHDIR=true "$@"
' inroot "$root" "$RUST_VERSION" "$@"
