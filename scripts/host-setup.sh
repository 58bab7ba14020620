#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# Install the host-side tools, idempotently and without asking.
# The build toolchain itself lives in a Debian trixie root (see mkroot.sh);
# the host needs what the scripts run outside it: debootstrap, QEMU, git
# (mktree.sh, lint.sh), python3 (report.py, bench.sh) and the Rust
# toolchain with bindgen-cli, which cargo links with the host's C compiler
# (gcc, libc6-dev). bindgen needs no libclang here: it loads libclang when
# it runs (clang-sys "runtime"), and it runs only in the trixie root, next
# to clang-21's.
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
# shellcheck source=versions.env
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
# Without recommends: the guests need no GUI, SPICE, OpenGL, OVMF or
# qemu-block-extra (-display none, -kernel, 9p).
apt-get install -y -qq --no-install-recommends -t bookworm-backports \
	qemu-system-x86 qemu-system-arm >/dev/null
# debootstrap checks the Release files with gpgv (required) against
# debian-archive-keyring; ca-certificates for rustup and cargo (https);
# python3-ply and python3-git for checkpatch's spdxcheck.py (series-check.sh).
apt-get install -y -qq --no-install-recommends debootstrap debian-archive-keyring \
	xz-utils dpkg-dev zstd git python3 python3-ply python3-git gcc libc6-dev \
	ca-certificates >/dev/null

rustup toolchain install "$RUST_VERSION" --profile minimal -c rust-src,clippy,rustfmt
if ! bindgen --version 2>/dev/null | grep -q "$BINDGEN_VERSION"; then
	cargo +"$RUST_VERSION" install --locked bindgen-cli --version "$BINDGEN_VERSION"
fi
mkdir -p "$(dirname "$stamp")" && touch "$stamp"
