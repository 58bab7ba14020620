#!/bin/bash
# Debian packages of our kernel, for users who boot it on their own
# machine: the kernel's own `make bindeb-pkg` on the tree TREE-deb, which is
# TREE's configuration plus config/variants/deb.config (what a real PC or
# cloud VM needs to boot from its disk), then the check a user's install
# makes: `dpkg -i` of the packages into a scratch Debian trixie root.
#
#   deb.sh TREE OUTDIR
#
# The packages are copied to OUTDIR; the scratch root is $CACHE/deb-root
# (made once with debootstrap, minbase), and each check installs into a
# fresh copy of it.
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
name=${1:?tree}
out=${2:?outdir}
build=${CACHE:?}/root/build
vt=$name-deb
mkdir -p "$out"

# The tree, built as a variant of TREE (seeded from it, only what the
# options change rebuilt).
"$here/variants.sh" --build-only "$name" deb > /dev/null ||
	{ echo "deb: the build failed (log: $build/$vt-build.log)" >&2; exit 1; }
# bindeb-pkg writes the packages next to the tree: start from none.
rm -f "$build"/*.deb "$build"/*.buildinfo "$build"/*.changes
start=$(date +%s)
# bindeb-pkg only packages what the build above made (its debian/rules make
# may run with -j1). dpkg-buildpackage -d: of the build dependencies it
# checks, gcc and libdw-dev are not needed: the kernel is built with the
# root's clang. No linux-headers package yet: it rebuilds the host programs
# with $CC, which is "ccache clang" here, and rustc takes that as its
# linker's name and a second input; no -dbg package (debug info).
profiles=pkg.linux-upstream.nokernelheaders,pkg.linux-upstream.nokerneldbg
EXTRA_KCONFIG=/build/config/variants/deb.config "$here/kbuild.sh" "$vt" bindeb-pkg \
	DPKG_FLAGS="-d -P$profiles" KDEB_CHANGELOG_DIST=trixie > /dev/null ||
	{ echo "deb: make bindeb-pkg failed (log: $build/$vt-build.log)" >&2; exit 1; }
echo "deb: bindeb-pkg in $(( $(date +%s) - start )) s"
rm -f "$out"/*.deb
mv "$build"/*.deb "$out"/
rm -f "$build"/*.buildinfo "$build"/*.changes
for d in "$out"/*.deb; do
	printf 'deb: %s, %s\n' "$(basename "$d")" "$(du -h "$d" | cut -f1)"
done
version=$(dpkg-deb -f "$(ls "$out"/linux-image-[0-9]*.deb)" Package | sed 's/^linux-image-//')

# The install check, in a scratch trixie root: the image and the libc
# headers, as a user installs them.
droot=$CACHE/deb-root
if [ ! -x "$droot/usr/bin/dpkg" ]; then
	rm -rf "$droot.tmp"
	debootstrap --variant=minbase trixie "$droot.tmp" http://deb.debian.org/debian >&2
	mv "$droot.tmp" "$droot"
fi
scratch=$CACHE/deb-root-check
rm -rf "$scratch" && cp -a "$droot" "$scratch"
mkdir -p "$scratch/tmp/debs"
cp "$out"/linux-image-"$version"_*.deb "$out"/linux-libc-dev_*.deb "$scratch/tmp/debs/"
chroot "$scratch" bash -c 'dpkg -i /tmp/debs/*.deb' > "$out/dpkg-i.log" 2>&1 ||
	{ cat "$out/dpkg-i.log" >&2; echo "deb: dpkg -i failed" >&2; exit 1; }
for f in "boot/vmlinuz-$version" "lib/modules/$version/modules.dep" "boot/config-$version"; do
	[ -e "$scratch/$f" ] || [ -e "$scratch/usr/$f" ] ||
		{ echo "deb: /$f missing after dpkg -i" >&2; exit 1; }
done
grep -q '^CONFIG_BPF_LOCAL_STORAGE_RUST=y' "$scratch/boot/config-$version" ||
	{ echo "deb: the packaged kernel is not built with CONFIG_BPF_LOCAL_STORAGE_RUST" >&2; exit 1; }
chroot "$scratch" dpkg-query -W -f '${Package} ${Version} ${Status}\n' \
	"linux-image-$version" linux-libc-dev | sed 's/^/deb: installed: /'
rm -rf "$scratch"
echo "deb: $version installs with dpkg -i into a Debian trixie root"
