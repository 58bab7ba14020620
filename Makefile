# rfl-bpf: BPF local storage on rqspinlock, in Rust, on Linux 7.3.
#
#   make          set up, build the patched kernel and selftests, run the demo
#   make check    lint, build, KUnit and the allowlisted BPF selftests in QEMU
#
# See README.md for the other targets.

CACHE ?= /var/cache/rfl-bpf
ARCH ?= x86_64
export CACHE ARCH
# The pinned rustc (scripts/versions.env), also for the host-side rustfmt.
include scripts/versions.env
export RUSTUP_TOOLCHAIN := $(RUST_VERSION)

TREE := $(if $(filter x86_64,$(ARCH)),linux,linux-$(ARCH))
BASE := $(if $(filter x86_64,$(ARCH)),base,base-$(ARCH))
OUT ?= $(CURDIR)/out/$(ARCH)
CHECK_TORTURE_SECS ?= 10
S := $(CURDIR)/scripts

.PHONY: check-arm64 all setup tree base-tree kernel baseline selftests demo check check-debug lint \
	kunit test vm bench profile torture variants parity clients try-gate clean

all: demo

setup:
	@mkdir -p $(CACHE)
	@$(S)/host-setup.sh
	@$(S)/mkroot.sh
ifneq ($(ARCH),x86_64)
	@$(S)/mkroot-cross.sh $(ARCH)
	@$(S)/mkroot-guest.sh $(ARCH)
endif

tree: setup
	@$(S)/mktree.sh $(TREE)

kernel: tree
	@$(S)/kbuild.sh $(TREE)

base-tree: setup
	@$(S)/mktree.sh --base $(BASE)

# The same config with none of our changes, for A/B runs.
baseline: base-tree
	@$(S)/kbuild.sh $(BASE)

selftests: kernel
	@$(S)/build-selftests.sh $(TREE)

demo: selftests
	@$(S)/demo.sh $(TREE) $(OUT)/demo

lint: kernel
	@$(S)/lint.sh $(TREE)

# The allowlist runs where QEMU's x86 guests send contended rqspinlocks,
# the test-and-set fallback; torture.sh adds a boot on the queued path.
check: selftests
	@$(S)/lint.sh $(TREE)
	@$(S)/check.sh $(TREE) $(OUT)/check
	@TORTURE_SECS=$(CHECK_TORTURE_SECS) $(S)/torture.sh $(TREE) $(OUT)/check-torture

# The same on arm64 (cross-built, QEMU virt, TCG).
check-arm64:
	@$(MAKE) --no-print-directory ARCH=arm64 check

# One KUnit run (all built-in suites) or one selftest:
#   make kunit;  make test T=task_local_storage
kunit: kernel
	@$(S)/check.sh --kunit-only $(TREE) $(OUT)/kunit

test: selftests
	@$(S)/vm-run.sh -o $(OUT)/test $(TREE) -- \
		bash -c 'cd /build/$(TREE)/tools/testing/selftests/bpf && ./test_progs -t $(T)'

# Any command in the guest: make vm CMD='uname -a'
vm: kernel
	@$(S)/vm-run.sh -o $(OUT)/vm $(TREE) -- bash -c '$(CMD)'

# rqspinlock on both of its contended paths: KUnit, test_progs -t
# res_spin_lock and locktorture (TORTURE_SECS per lock type).
torture: selftests
	@$(S)/torture.sh $(TREE) $(OUT)/torture

# The patched tree in the configurations that must behave as upstream C:
# the C rqspinlock slow path, and CONFIG_RUST=n (config/variants/); each
# builds (from a copy of the main tree's output) and runs the allowlist.
variants: selftests
	@$(S)/variants.sh $(TREE) $(OUT)/variants $(V)

# The allowlist on a debug kernel: KASAN, lockdep, atomic-sleep checks and
# kmemleak (scanned at the end); any report fails (config/variants/debug.config).
# Tests run several times slower there: task_local_data_race took over
# test_progs' 120 s watchdog, which then killed test_progs with every test
# after it; 600 s is per test, and the guest's timeout bounds the whole run.
check-debug: selftests
	@CHECK_TIMEOUT=5400 TEST_PROGS_WATCHDOG=600 $(S)/variants.sh $(TREE) $(OUT)/check-debug debug

# A/B against the baseline: local storage, then rqspinlock on its
# test-and-set path (default CPU model) and its queued path (hypervisor
# bit hidden). ROUNDS (3) alternating boots per kernel. Without KVM the
# local-storage rows run on QEMU's instruction-count clock (VM_ICOUNT=auto),
# where host load cannot move them; the locktorture rows measure contention
# between vCPUs, which needs real parallel vCPUs.
bench: selftests baseline
	@VM_ICOUNT=$${VM_ICOUNT-auto} $(S)/bench.sh $(TREE) $(BASE) $(OUT)/bench/local-storage
	@BENCH_LIST=$(CURDIR)/config/bench-rqspinlock \
		$(S)/bench.sh $(TREE) $(BASE) $(OUT)/bench/rqspinlock-tas
	@BENCH_LIST=$(CURDIR)/config/bench-rqspinlock VM_CPU=max,-hypervisor \
		$(S)/bench.sh $(TREE) $(BASE) $(OUT)/bench/rqspinlock-queued

# Where one bench row's instructions go, per kernel symbol (QEMU plugin,
# exact counts): make profile P='local-storage-create-delete --nr_maps 16'
# [PROFILE_TREE=base]; the bench binary is always ours.
profile: selftests
	@BENCH_TREE=$(TREE) $(S)/profile.sh $(or $(PROFILE_TREE),$(TREE)) \
		$(OUT)/profile/$(or $(PROFILE_TREE),$(TREE)) $(P)

# The whole of test_progs (upstream's DENYLIST) on the baseline and on our
# kernel; fails on anything that passes on the baseline and not on ours.
# Ours also runs the whole test_maps (make check runs its allowlisted tests).
# The baseline's results are cached per base and config (scripts/parity.sh).
parity: selftests baseline
	@$(S)/build-selftests.sh $(BASE)
	@$(S)/parity.sh $(TREE) $(BASE) $(OUT)/parity

# Real clients (clients/, scripts/clients.sh) on our kernel and on the
# baseline: iproute2's ss dumping socket storage through inet_diag.
clients: selftests baseline
	@$(S)/clients.sh $(TREE) $(OUT)/clients $(TREE) $(BASE)

# Each hole the gate closes, shown red on a copy of the tree broken on
# purpose (patches/test/gate-*.patch).
try-gate: selftests
	@$(S)/try-gate.sh $(TREE)

clean:
	rm -rf out
