#!/bin/bash
# Boot a built kernel in QEMU and run one command in it.
#
#   vm-run.sh [-t SECONDS] [-o OUTDIR] [-a KERNEL_ARGS] TREE -- COMMAND...
#
# The guest's root is the build root ($CACHE/root) over 9p, read-only, so
# the command sees the same paths as the build (/build/TREE/...). A guest of
# another architecture boots its own root ($CACHE/root-ARCH, made by
# mkroot-guest.sh; its first boot runs debootstrap's second stage) with the
# build root's /build shared at /build. OUTDIR
# receives console.log, output (the command's), dmesg and rc. Exits with
# the command's exit code; 124 on timeout; 125 when the guest died without
# reporting one.
#
# Why not virtme-ng or vmtest.sh: vmtest.sh downloads its root image and
# kernel config from the internet, which this environment cannot reach;
# virtme-ng returned 255 for commands that exited 0 ("cannot find script
# I/O ports") and needs extra guest options. What we need is small: a 9p
# root, an exchange directory, an exit code, and a timeout.
#
# Environment: ARCH (x86_64|arm64), VM_ACCEL (kvm|tcg; probed when unset),
# VM_CPU (QEMU -cpu model), VM_CPUS (2), VM_MEM (4G), VM_PLUGIN (a QEMU TCG
# plugin and its arguments, see profile.sh), VM_ROOT_RW (1: the
# guest root is writable), VM_ICOUNT (TCG only: QEMU -icount options; the
# guest clock then counts executed instructions, not host time; "auto" is
# shift=0,sleep=off under TCG and nothing under KVM).
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
timeout=600 outdir= extra=
while getopts t:o:a: opt; do
	case $opt in
	t) timeout=$OPTARG ;;
	o) outdir=$OPTARG ;;
	a) extra=$OPTARG ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
tree=${1:?tree}; shift
[ "${1:-}" = -- ] && shift
[ $# -gt 0 ] || { echo "vm-run: no command" >&2; exit 2; }

build=${CACHE:?}/root/build
arch=${ARCH:-x86_64}
. "$here/guest-root.sh"
root=$guest_root
ro=on rootmode=ro
[ "${VM_ROOT_RW:-}" = 1 ] && ro=off rootmode=rw
cpus=${VM_CPUS:-2}
outdir=${outdir:-$(mktemp -d /tmp/rfl-vm.XXXXXX)}
mkdir -p "$outdir"
rm -f "$outdir"/{rc,output,dmesg,console.log,cmd}
printf '%q ' "$@" > "$outdir/cmd"
echo >> "$outdir/cmd"
install -m 755 "$here/guest/init" "$root/sbin/rfl-init"
install -m 755 "$here/guest/settle" "$root/sbin/rfl-settle"

case $arch in
x86_64)
	qemu=qemu-system-x86_64
	kernel=$build/$tree/arch/x86/boot/bzImage
	machine=(-machine q35)
	console=ttyS0
	;;
arm64)
	qemu=qemu-system-aarch64
	kernel=$build/$tree/arch/arm64/boot/Image
	machine=(-machine virt,gic-version=3)
	console=ttyAMA0
	;;
*) echo "vm-run: unknown ARCH $arch" >&2; exit 2 ;;
esac
[ -e "$kernel" ] || { echo "vm-run: no kernel at $kernel" >&2; exit 2; }

qemu_cmd() { # accel cpu
	local accel=$1 cpu=$2
	echo "$qemu" "${machine[@]}" -accel "$accel" -cpu "$cpu" -smp "$cpus" \
		-m "${VM_MEM:-4G}" -nodefaults -no-reboot -display none -serial stdio \
		-kernel "$kernel" \
		-fsdev "local,id=root,path=$root,security_model=none,readonly=$ro,multidevs=remap" \
		-device virtio-9p-pci,fsdev=root,mount_tag=/dev/root \
		-fsdev "local,id=build,path=$build,security_model=none,readonly=on,multidevs=remap" \
		-device virtio-9p-pci,fsdev=build,mount_tag=build \
		-fsdev "local,id=rfl,path=$outdir,security_model=none,multidevs=remap" \
		-device virtio-9p-pci,fsdev=rfl,mount_tag=rfl \
		${icount:+-icount "$icount"} ${VM_PLUGIN:+-plugin "$VM_PLUGIN"}
}
icount=
cmdline="console=$console root=/dev/root rootfstype=9p $rootmode"
cmdline+=" rootflags=trans=virtio,version=9p2000.L,msize=512000,cache=loose"
# The console shows warnings (loglevel 5: KERN_WARNING and worse), so a
# guest that dies leaves its last WARN in console.log; the log buffer is
# large enough that the dmesg saved at the end still begins at the boot
# banner (report.py checks). The hang detectors' timeouts suit TCG, where
# a vCPU can stall for seconds: a task blocked for 5 minutes panics the
# guest (a hang then costs minutes, not vm-run's timeout), a soft lockup
# (2 x watchdog_thresh) or an RCU stall is reported and fails the run.
cmdline+=" init=/sbin/rfl-init panic=-1 loglevel=5 log_buf_len=32M"
cmdline+=" sysctl.kernel.hung_task_timeout_secs=300 sysctl.kernel.hung_task_panic=1 watchdog_thresh=30"
cmdline+=" rcupdate.rcu_cpu_stall_timeout=60 $extra"

accel=${VM_ACCEL:-}
if [ -z "$accel" ]; then
	accel=tcg
	# /dev/kvm may exist and still not run our guests (a PVM-only host
	# module hangs them at boot): trust it only after a guest booted on it.
	probe=$CACHE/kvm-probe.$arch.$(cat /proc/sys/kernel/random/boot_id)
	if [ -w /dev/kvm ] && [ ! -e "$probe" ]; then
		pdir=$(mktemp -d /tmp/rfl-kvm-probe.XXXXXX)
		echo true > "$pdir/cmd"
		# shellcheck disable=SC2046
		if (timeout -s KILL 30 $(outdir=$pdir; qemu_cmd kvm host) -append "$cmdline" \
			</dev/null >/dev/null 2>&1) 2>/dev/null && [ "$(cat "$pdir/rc" 2>/dev/null)" = 0 ]; then
			echo kvm > "$probe"
		else
			echo tcg > "$probe"
		fi
		rm -rf "$pdir"
	fi
	[ -e "$probe" ] && accel=$(cat "$probe")
fi
cpu=${VM_CPU:-}
# arm64 TCG: QEMU's own pointer-authentication algorithm is much faster to
# emulate than the architected QARMA one.
tcg_cpu=max
[ "$arch" = arm64 ] && tcg_cpu=max,pauth-impdef=on
[ -n "$cpu" ] || { [ "$accel" = kvm ] && cpu=host || cpu=$tcg_cpu; }
icount=${VM_ICOUNT:-}
[ "$icount" = auto ] && icount=shift=0,sleep=off
[ "$accel" = kvm ] && icount=

if [ -d "$root/debootstrap" ] && [ -z "${VM_SETUP:-}" ]; then
	echo "vm-run: first boot of $root: debootstrap's second stage" >&2
	VM_SETUP=1 VM_ROOT_RW=1 "$0" -t 3600 -o "$outdir/setup" "$tree" -- \
		/debootstrap/debootstrap --second-stage > /dev/null
fi

echo "vm-run: $arch $accel${icount:+ (icount $icount)} -cpu $cpu, $cpus CPUs, timeout ${timeout}s, output in $outdir" >&2
set +e
# shellcheck disable=SC2046
timeout -s KILL "$timeout" $(qemu_cmd "$accel" "$cpu") -append "$cmdline" </dev/null 2>&1 |
	tee "$outdir/console.log"
qrc=${PIPESTATUS[0]}
set -e
if [ -e "$outdir/rc" ]; then
	exit "$(cat "$outdir/rc")"
elif [ "$qrc" = 137 ]; then
	echo "vm-run: timed out after ${timeout}s" >&2
	exit 124
fi
echo "vm-run: guest died without an exit code (qemu exit $qrc)" >&2
exit 125
