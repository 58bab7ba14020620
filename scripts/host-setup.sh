#!/bin/bash
# Install the host-side tools, idempotently and without asking.
# The build toolchain itself lives in a Debian trixie root (see mkroot.sh);
# the host needs only debootstrap, QEMU and the Rust toolchain.
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
. "$here/versions.env"
stamp=${CACHE:?}/stamps/host-setup-$(sha256sum "$0" "$here/versions.env" | sha256sum | cut -c1-12)
[ -e "$stamp" ] && exit 0
export DEBIAN_FRONTEND=noninteractive

src=/etc/apt/sources.list.d/rfl-bpf.sources
if [ ! -e "$src" ]; then
	cat > "$src" <<'SRC'
# Added by rfl-bpf: bookworm-backports for qemu-system (matches qemu-utils),
# trixie-backports deb-src for the kernel tarball. Both pinned low below.
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
	cat > /etc/apt/preferences.d/rfl-bpf <<'PIN'
Package: *
Pin: release a=bookworm-backports
Pin-Priority: 100

Package: *
Pin: release a=trixie-backports
Pin-Priority: 50
PIN
fi
apt-get update -qq
apt-get install -y -qq -t bookworm-backports qemu-system-x86 qemu-system-arm >/dev/null
apt-get install -y -qq debootstrap xz-utils dpkg-dev zstd >/dev/null

rustup toolchain install "$RUST_VERSION" --profile minimal -c rust-src,clippy,rustfmt
if ! bindgen --version 2>/dev/null | grep -q "$BINDGEN_VERSION"; then
	cargo install --locked bindgen-cli --version "$BINDGEN_VERSION"
fi
mkdir -p "$(dirname "$stamp")" && touch "$stamp"
