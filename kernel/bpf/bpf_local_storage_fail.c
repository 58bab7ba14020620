// SPDX-License-Identifier: GPL-2.0
/*
 * Fault injection for the BPF local storage.
 *
 * Owner destroy and map free must not fail, yet every lock they take is an
 * rqspinlock whose acquisition can fail. Real failures there are rare (a
 * timeout against another CPU, or a nested destroy on this one), so these
 * attributes make them happen on demand, one per party and lock:
 *
 *   /sys/kernel/debug/fail_bpf_local_storage/destroy_bucket/
 *   /sys/kernel/debug/fail_bpf_local_storage/destroy_storage/
 *   /sys/kernel/debug/fail_bpf_local_storage/map_free_bucket/
 *   /sys/kernel/debug/fail_bpf_local_storage/map_free_storage/
 *
 * with the usual fault-injection files (probability, interval, times, ...;
 * see Documentation/fault-injection/fault-injection.rst). A failure
 * injected there looks to the teardown like a lock that timed out. It takes
 * no time unless /sys/kernel/debug/fail_bpf_local_storage/stall_us says so:
 * set to rqspinlock's timeout (RES_DEF_TIMEOUT, 250000), each injected
 * failure costs what a real timeout of the teardown's irqsave locks does:
 * that long with interrupts off.
 *
 * A fifth attribute fails allocations:
 *
 *   /sys/kernel/debug/fail_bpf_local_storage/alloc/
 *
 * Elements, storages and indexes come from kmalloc_nolock(), which calls
 * neither failslab nor fail_page_alloc, so without it the error paths of a
 * create or an update that runs out of memory could not be reached. A
 * thread's fail-nth (/proc/thread-self/fail-nth) counts it too.
 */

#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/fault-inject.h>
#include <linux/init.h>
#include <linux/irqflags.h>
#include <linux/minmax.h>

#include "bpf_local_storage_fail.h"

static DECLARE_FAULT_ATTR(fail_destroy_bucket);
static DECLARE_FAULT_ATTR(fail_destroy_storage);
static DECLARE_FAULT_ATTR(fail_map_free_bucket);
static DECLARE_FAULT_ATTR(fail_map_free_storage);
DECLARE_FAULT_ATTR(bpf_local_storage_fail_alloc_attr);

struct fault_attr *const bpf_local_storage_fail_attrs[] = {
	[BPF_LOCAL_STORAGE_FAIL_DESTROY_BUCKET] = &fail_destroy_bucket,
	[BPF_LOCAL_STORAGE_FAIL_DESTROY_STORAGE] = &fail_destroy_storage,
	[BPF_LOCAL_STORAGE_FAIL_MAP_FREE_BUCKET] = &fail_map_free_bucket,
	[BPF_LOCAL_STORAGE_FAIL_MAP_FREE_STORAGE] = &fail_map_free_storage,
};

static u32 stall_us;

/*
 * Called for each injected failure, before the caller sees it. Not inline,
 * so that tests can trace how many failures a teardown pass met, and when.
 */
noinline void
bpf_local_storage_lock_fault(enum bpf_local_storage_fail_lock lock)
{
	u32 left = READ_ONCE(stall_us);
	unsigned long flags;

	if (!left)
		return;
	local_irq_save(flags);
	while (left) {
		u32 us = min(left, 1000U);

		udelay(us);
		left -= us;
	}
	local_irq_restore(flags);
}

static int __init fail_bpf_local_storage_debugfs(void)
{
	static const char *const names[] = {
		[BPF_LOCAL_STORAGE_FAIL_DESTROY_BUCKET] = "destroy_bucket",
		[BPF_LOCAL_STORAGE_FAIL_DESTROY_STORAGE] = "destroy_storage",
		[BPF_LOCAL_STORAGE_FAIL_MAP_FREE_BUCKET] = "map_free_bucket",
		[BPF_LOCAL_STORAGE_FAIL_MAP_FREE_STORAGE] = "map_free_storage",
	};
	struct dentry *dir, *attr_dir;
	int i;

	BUILD_BUG_ON(ARRAY_SIZE(names) !=
		     ARRAY_SIZE(bpf_local_storage_fail_attrs));

	dir = debugfs_create_dir("fail_bpf_local_storage", NULL);
	if (IS_ERR(dir))
		return PTR_ERR(dir);
	debugfs_create_u32("stall_us", 0600, dir, &stall_us);

	for (i = 0; i < ARRAY_SIZE(bpf_local_storage_fail_attrs); i++) {
		attr_dir = fault_create_debugfs_attr(names[i], dir,
						     bpf_local_storage_fail_attrs[i]);
		if (IS_ERR(attr_dir)) {
			debugfs_remove_recursive(dir);
			return PTR_ERR(attr_dir);
		}
	}
	attr_dir = fault_create_debugfs_attr("alloc", dir,
					     &bpf_local_storage_fail_alloc_attr);
	if (IS_ERR(attr_dir)) {
		debugfs_remove_recursive(dir);
		return PTR_ERR(attr_dir);
	}
	return 0;
}
late_initcall(fail_bpf_local_storage_debugfs);
