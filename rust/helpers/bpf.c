// SPDX-License-Identifier: GPL-2.0

#include <linux/bpf.h>

#ifdef CONFIG_BPF_RQSPINLOCK_RUST
#include <linux/atomic.h>
#include <trace/events/lock.h>
#include "../../kernel/bpf/rqspinlock_rust.h"
#endif

#ifdef CONFIG_BPF_LOCAL_STORAGE_RUST
#include <linux/bpf_local_storage.h>
#include <linux/bpf_lsm.h>
#include "../../kernel/bpf/bpf_local_storage_rust.h"
#endif

#ifdef CONFIG_BPF_SYSCALL
__rust_helper bool rust_helper_resilient_virt_spin_lock_enabled(void)
{
	return resilient_virt_spin_lock_enabled();
}

#ifdef CONFIG_BPF_RQSPINLOCK_RUST
/* For the slow path in rust/kernel/bpf/rqspinlock/. */

__rust_helper void rust_helper_release_held_lock_entry(void)
{
	release_held_lock_entry();
}

__rust_helper int rust_helper_resilient_virt_spin_lock(rqspinlock_t *lock)
{
	return resilient_virt_spin_lock(lock);
}

/*
 * The wait step of smp_cond_load_{relaxed,acquire}() on the architectures
 * whose loop uses __cmpwait_relaxed(); it is type-generic, so one helper per
 * type waited on.
 */
#if defined(CONFIG_ARM64) || defined(CONFIG_RISCV_ISA_ZAWRS)
__rust_helper void rust_helper___cmpwait_relaxed_u8(u8 *ptr, u8 val)
{
	__cmpwait_relaxed(ptr, val);
}

__rust_helper void rust_helper___cmpwait_relaxed_u32(u32 *ptr, u32 val)
{
	__cmpwait_relaxed(ptr, val);
}

__rust_helper void rust_helper___cmpwait_relaxed_ptr(void **ptr, void *val)
{
	__cmpwait_relaxed(ptr, val);
}
#endif

__rust_helper void
rust_helper_trace_contention_begin(void *lock, unsigned int flags)
{
	trace_contention_begin(lock, flags);
}

__rust_helper void rust_helper_trace_contention_end(void *lock, int ret)
{
	trace_contention_end(lock, ret);
}

#ifdef CONFIG_QUEUED_SPINLOCKS
__rust_helper u32 rust_helper_queued_fetch_set_pending_acquire(struct qspinlock *lock)
{
	return queued_fetch_set_pending_acquire(lock);
}

__rust_helper int rust_helper_arch_mcs_spin_lock_contended(int *l)
{
	return arch_mcs_spin_lock_contended(l);
}

__rust_helper void rust_helper_arch_mcs_spin_unlock_contended(int *l)
{
	arch_mcs_spin_unlock_contended(l);
}

#ifdef CONFIG_LOCK_EVENT_COUNTS
__rust_helper void rust_helper___lockevent_inc(enum lock_events event, bool cond)
{
	__lockevent_inc(event, cond);
}
#endif
#endif /* CONFIG_QUEUED_SPINLOCKS */
#endif /* CONFIG_BPF_RQSPINLOCK_RUST */

#ifdef CONFIG_BPF_LOCAL_STORAGE_RUST
/* For rust/kernel/bpf/local_storage/. */

/*
 * Functions with CONFIG_MEMCG, macros without: bindgen only sees the
 * functions, which then take precedence over these helpers.
 */
__rust_helper void *
rust_helper_bpf_map_kmalloc_nolock(const struct bpf_map *map, size_t size,
				   gfp_t flags, int node)
{
	return bpf_map_kmalloc_nolock(map, size, flags, node);
}

__rust_helper void *rust_helper_bpf_map_kvcalloc(struct bpf_map *map, size_t n,
						 size_t size, gfp_t flags)
{
	return bpf_map_kvcalloc(map, n, size, flags);
}

/* Values and their special fields. */
__rust_helper void rust_helper_copy_map_value(struct bpf_map *map, void *dst,
					      void *src)
{
	copy_map_value(map, dst, src);
}

__rust_helper void rust_helper_bpf_obj_swap_uptrs(const struct btf_record *rec,
						  void *dst, void *src)
{
	bpf_obj_swap_uptrs(rec, dst, src);
}

__rust_helper bool rust_helper_btf_record_has_field(const struct btf_record *rec,
						    enum btf_field_type type)
{
	return btf_record_has_field(rec, type);
}

__rust_helper void rust_helper_check_and_init_map_value(struct bpf_map *map,
							void *dst)
{
	check_and_init_map_value(map, dst);
}

/* RCU Tasks Trace: see bpf_local_storage_rust.h. */
__rust_helper void
rust_helper_bpf_local_storage_call_rcu_tasks_trace(struct rcu_head *rhp,
						   rcu_callback_t func)
{
	bpf_local_storage_call_rcu_tasks_trace(rhp, func);
}

__rust_helper void rust_helper_bpf_local_storage_rcu_barrier_tasks_trace(void)
{
	bpf_local_storage_rcu_barrier_tasks_trace();
}

#ifdef CONFIG_BPF_LSM
/* The BPF LSM's blob of an inode, which holds its storage pointer. */
__rust_helper struct bpf_storage_blob *rust_helper_bpf_inode(const struct inode *inode)
{
	return bpf_inode(inode);
}
#endif

#ifdef CONFIG_FAIL_BPF_LOCAL_STORAGE
__rust_helper bool rust_helper_bpf_local_storage_should_fail_alloc(size_t size)
{
	return bpf_local_storage_should_fail_alloc(size);
}

__rust_helper bool
rust_helper_bpf_local_storage_should_fail_lock(enum bpf_local_storage_fail_lock lock)
{
	return bpf_local_storage_should_fail_lock(lock);
}
#endif
#endif /* CONFIG_BPF_LOCAL_STORAGE_RUST */
#endif
