# Sourced: guest_root is the root filesystem the guest of ARCH boots (see
# vm-run.sh): the build root itself for the host's architecture, else
# the root made by mkroot-guest.sh.
guest_root=${CACHE:?}/root
[ "${ARCH:-x86_64}" = "$(uname -m)" ] || guest_root=$CACHE/root-$ARCH
