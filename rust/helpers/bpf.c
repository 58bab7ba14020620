// SPDX-License-Identifier: GPL-2.0

#include <linux/bpf.h>

#ifdef CONFIG_BPF_RQSPINLOCK_RUST
#include <linux/atomic.h>
#include <trace/events/lock.h>
#include "../../kernel/bpf/rqspinlock_rust.h"
#endif

#ifdef CONFIG_BPF_LOCAL_STORAGE_RUST
#include <linux/bpf_local_storage.h>
#include <linux/hash.h>
#include <linux/list.h>
#include <linux/rculist.h>
#include <linux/refcount.h>
#include <linux/sched.h>
#include "../../kernel/bpf/bpf_local_storage_rust.h"
#endif

#ifdef CONFIG_BPF_SYSCALL
__rust_helper void rust_helper_raw_res_spin_lock_init(rqspinlock_t *lock)
{
	raw_res_spin_lock_init(lock);
}

__rust_helper int rust_helper_raw_res_spin_lock(rqspinlock_t *lock)
{
	return raw_res_spin_lock(lock);
}

__rust_helper void rust_helper_raw_res_spin_unlock(rqspinlock_t *lock)
{
	raw_res_spin_unlock(lock);
}

__rust_helper int
rust_helper_raw_res_spin_lock_irqsave(rqspinlock_t *lock, unsigned long *flags)
{
	return raw_res_spin_lock_irqsave(lock, *flags);
}

__rust_helper void
rust_helper_raw_res_spin_unlock_irqrestore(rqspinlock_t *lock,
					   unsigned long flags)
{
	raw_res_spin_unlock_irqrestore(lock, flags);
}

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

/* The RCU hash lists of storages and buckets. */
__rust_helper void rust_helper_INIT_HLIST_HEAD(struct hlist_head *h)
{
	INIT_HLIST_HEAD(h);
}

__rust_helper int rust_helper_hlist_empty(const struct hlist_head *h)
{
	return hlist_empty(h);
}

__rust_helper int rust_helper_hlist_unhashed(const struct hlist_node *h)
{
	return hlist_unhashed(h);
}

__rust_helper int rust_helper_hlist_unhashed_lockless(const struct hlist_node *h)
{
	return hlist_unhashed_lockless(h);
}

__rust_helper bool rust_helper_hlist_is_singular_node(struct hlist_node *n,
						      struct hlist_head *h)
{
	return hlist_is_singular_node(n, h);
}

__rust_helper void rust_helper_hlist_add_head_rcu(struct hlist_node *n,
						  struct hlist_head *h)
{
	hlist_add_head_rcu(n, h);
}

__rust_helper void rust_helper_hlist_del_init_rcu(struct hlist_node *n)
{
	hlist_del_init_rcu(n);
}

/* select_bucket() */
__rust_helper u32 rust_helper_hash_ptr(const void *ptr, unsigned int bits)
{
	return hash_ptr(ptr, bits);
}

/* The owner pin, owner_refcnt; the others are in refcount.c. */
__rust_helper bool rust_helper_refcount_inc_not_zero(refcount_t *r)
{
	return refcount_inc_not_zero(r);
}

__rust_helper unsigned int rust_helper_refcount_read(const refcount_t *r)
{
	return refcount_read(r);
}

/* The bucket walk of map free. */
__rust_helper bool rust_helper_need_resched(void)
{
	return need_resched();
}

__rust_helper int rust_helper_cond_resched(void)
{
	return cond_resched();
}

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

/* The lookup stays a C inline in the header. */
__rust_helper struct bpf_local_storage_data *
rust_helper_bpf_local_storage_lookup(struct bpf_local_storage *local_storage,
				     struct bpf_local_storage_map *smap,
				     bool cacheit_lockit)
{
	return bpf_local_storage_lookup(local_storage, smap, cacheit_lockit);
}

#ifdef CONFIG_FAIL_BPF_LOCAL_STORAGE_LOCK
__rust_helper bool
rust_helper_bpf_local_storage_should_fail_lock(enum bpf_local_storage_fail_lock lock)
{
	return bpf_local_storage_should_fail_lock(lock);
}
#endif
#endif /* CONFIG_BPF_LOCAL_STORAGE_RUST */
#endif
