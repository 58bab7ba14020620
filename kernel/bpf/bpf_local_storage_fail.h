/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fault injection for the BPF local storage (the teardown's locks, the
 * allocations of elements, storages and indexes), shared by the C
 * (bpf_local_storage.c) and the Rust (rust/kernel/bpf/local_storage/)
 * implementations: see bpf_local_storage_fail.c.
 */
#ifndef __KERNEL_BPF_LOCAL_STORAGE_FAIL_H
#define __KERNEL_BPF_LOCAL_STORAGE_FAIL_H

#include <linux/compiler.h>
#include <linux/fault-inject.h>
#include <linux/sched.h>

/* One per party (owner destroy, map free) and lock. */
enum bpf_local_storage_fail_lock {
	BPF_LOCAL_STORAGE_FAIL_DESTROY_BUCKET,
	BPF_LOCAL_STORAGE_FAIL_DESTROY_STORAGE,
	BPF_LOCAL_STORAGE_FAIL_MAP_FREE_BUCKET,
	BPF_LOCAL_STORAGE_FAIL_MAP_FREE_STORAGE,
};

#ifdef CONFIG_FAIL_BPF_LOCAL_STORAGE
extern struct fault_attr *const bpf_local_storage_fail_attrs[];
extern struct fault_attr bpf_local_storage_fail_alloc_attr;

void bpf_local_storage_lock_fault(enum bpf_local_storage_fail_lock lock);

/*
 * Whether the next acquisition of @lock fails. The teardown asks on every
 * lock attempt, so should_fail_ex()'s own early out (no fail-nth countdown
 * on the task, probability 0) is done here, inline, and the call is only
 * made once an attribute or the task's fail-nth is armed.
 *
 * An injected failure has none of the barriers of a real one (a failing
 * rqspinlock ends in release_held_lock_entry(), whose smp_wmb() orders the
 * caller's earlier stores before its later ones): the teardown must not
 * rely on them.
 */
static inline bool
bpf_local_storage_should_fail_lock(enum bpf_local_storage_fail_lock lock)
{
	struct fault_attr *attr = bpf_local_storage_fail_attrs[lock];

	if (likely(!READ_ONCE(attr->probability) &&
		   !READ_ONCE(current->fail_nth)))
		return false;
	if (!should_fail(attr, 1))
		return false;
	bpf_local_storage_lock_fault(lock);
	return true;
}

/*
 * Whether the allocation of @size bytes for an element, a storage or an
 * index fails. They come from kmalloc_nolock(), which failslab does not
 * reach (its hook may take locks), so they have an attribute of their own;
 * a thread's fail-nth counts it as it counts failslab's.
 */
static inline bool bpf_local_storage_should_fail_alloc(size_t size)
{
	struct fault_attr *attr = &bpf_local_storage_fail_alloc_attr;

	if (likely(!READ_ONCE(attr->probability) &&
		   !READ_ONCE(current->fail_nth)))
		return false;
	return should_fail(attr, size);
}
#else
static inline bool
bpf_local_storage_should_fail_lock(enum bpf_local_storage_fail_lock lock)
{
	return false;
}

static inline bool bpf_local_storage_should_fail_alloc(size_t size)
{
	return false;
}
#endif

#endif /* __KERNEL_BPF_LOCAL_STORAGE_FAIL_H */
