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
	kunit test vm bench bench-kernel profile torture variants parity clients clients-scx try-gate series series-check series-build docs deb clean

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
# between vCPUs, which needs real parallel vCPUs. The local-storage rows
# run one producer, on a guest of one vCPU: under the instruction clock
# QEMU runs all vCPUs in one thread anyway, and with two the socket rows'
# boots fell into two groups 3% apart on both kernels (which CPU the RCU
# callbacks free on moves the slab refills), against 0.1-0.4% on one.
# Their boots have no address randomisation (nokaslr norandmaps): where
# the bench's mappings land moved the fork and exit of create-task-64 by
# 1.7% between boots of one kernel (the maple tree's work), more than the
# local-storage code differs. Our side boots $(TREE)-bench, the tested
# kernel without the fault injection that only the selftests need
# (config/variants/bench.config); both sides run our bench binary.
BENCH_KERNEL := $(TREE)-bench
bench: selftests baseline bench-kernel
	@VM_ICOUNT=$${VM_ICOUNT-auto} VM_CPUS=$${BENCH_CPUS-1} BENCH_TREE=$(TREE) \
		BENCH_APPEND="$${BENCH_APPEND-nokaslr norandmaps}" \
		$(S)/bench.sh $(BENCH_KERNEL) $(BASE) $(OUT)/bench/local-storage
	@BENCH_LIST=$(CURDIR)/config/bench-rqspinlock BENCH_TREE=$(TREE) \
		$(S)/bench.sh $(BENCH_KERNEL) $(BASE) $(OUT)/bench/rqspinlock-tas
	@BENCH_LIST=$(CURDIR)/config/bench-rqspinlock VM_CPU=max,-hypervisor BENCH_TREE=$(TREE) \
		$(S)/bench.sh $(BENCH_KERNEL) $(BASE) $(OUT)/bench/rqspinlock-queued

bench-kernel: kernel
	@$(S)/variants.sh --build-only $(TREE) bench

# Where one bench row's instructions go, per kernel symbol (QEMU plugin,
# exact counts): make profile P='local-storage-create-delete --nr_maps 16'
# [PROFILE_TREE=base]; ours is the bench's kernel, and the bench binary is
# always ours.
profile: selftests bench-kernel
	@BENCH_TREE=$(TREE) $(S)/profile.sh $(or $(PROFILE_TREE),$(BENCH_KERNEL)) \
		$(OUT)/profile/$(or $(PROFILE_TREE),$(BENCH_KERNEL)) $(P)

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

# The sched_ext schedulers of tools/sched_ext as clients of task and cgroup
# storage (scx_flatcg, scx_qmap; clients/scx/run-scx), on our kernel and on
# the baseline. They need CONFIG_SCHED_CLASS_EXT and CONFIG_CGROUP_SCHED,
# which change task_struct: rather than rebuilding the usual trees, a pair
# of variant trees (config/variants/scx.config), seeded from the usual ones
# when those are built. Only the kernels are needed (no selftests). x86_64
# only (clients.sh does not cross-build tools/sched_ext): said before setup.
# scx_flatcg is not run by default: the sched_ext watchdog kicks it out now
# and then, on the baseline as on ours (a task left runnable for 31 to 44 s
# in a cgroup's queue, with the watchdog at its 30 s maximum: 3 of 8 runs on
# the baseline, 2 of 10 on ours, 2026-12-05; also on the instruction clock,
# so not TCG's slowness); run it with SCX_CLIENTS="scx_qmap scx_flatcg".
SCX_CLIENTS ?= scx_qmap
ifneq ($(filter clients-scx,$(MAKECMDGOALS)),)
ifneq ($(ARCH),x86_64)
$(error clients-scx: x86_64 only)
endif
endif
clients-scx: setup
	@$(S)/variants.sh --build-only $(TREE) scx
	@$(S)/variants.sh --build-only $(BASE) scx
	@CLIENTS="$(SCX_CLIENTS)" $(S)/clients.sh $(TREE)-scx $(OUT)/clients-scx $(TREE)-scx $(BASE)-scx

# Each hole the gate closes, shown red on a copy of the tree broken on
# purpose (patches/test/gate-*.patch).
try-gate: selftests
	@$(S)/try-gate.sh $(TREE)

# The series for review, from patches/series: git format-patch
# --cover-letter on the base into out/series/. It fails unless it ends at
# the tree make tree builds (scripts/series.sh).
series: setup
	@$(S)/series.sh $(CURDIR)/out/series

# make series, then git am of out/series/ on the base in a fresh directory,
# whose tree must be make tree's, checkpatch --strict on every patch, and
# Documentation/bpf/ of that tree built by htmldocs (scripts/docs.sh).
series-check: setup
	@$(S)/series-check.sh $(CURDIR)/out/series

# Every step of the series built in one scratch tree (series-step), with
# our options on: a commit checked out, kbuild.sh, the next; the last step
# with the options off and without Rust is make variants' job. Writes
# out/series-build/steps.txt (scripts/series-build.sh).
series-build: series
	@$(S)/series-build.sh $(CURDIR)/out/series-build

# Documentation/bpf/ with the kernel's make htmldocs, on our tree and on the
# base: fails on a warning the base does not give.
docs: tree base-tree
	@$(S)/docs.sh $(TREE) $(OUT)/docs

# Debian packages of our kernel (the kernel's bindeb-pkg; the configuration
# is the guest's plus config/variants/deb.config, what a real machine
# needs), installed with dpkg -i into a scratch trixie root as the check.
deb: kernel
	@$(S)/deb.sh $(TREE) $(OUT)/deb

clean:
	rm -rf out
