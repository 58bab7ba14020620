/* SPDX-License-Identifier: GPL-2.0 */
/*
 * BPF local storage: the entry points of the Rust implementation.
 *
 * With CONFIG_BPF_LOCAL_STORAGE_RUST, the functions of
 * include/linux/bpf_local_storage.h are implemented in
 * rust/kernel/bpf/local_storage/, as these rust_-prefixed functions, and
 * kernel/bpf/bpf_local_storage_rust.c keeps the C names as thin wrappers
 * around them: the C functions keep their BTF (Rust objects are left out of vmlinux
 * BTF), which fentry/fexit programs need. Each has the prototype and the
 * contract of the function it implements.
 *
 * Included by kernel/bpf/bpf_local_storage_rust.c and, for the signature checks
 * of #[export], by rust/bindings/bindings_helper.h.
 */
#ifndef __KERNEL_BPF_LOCAL_STORAGE_RUST_H
#define __KERNEL_BPF_LOCAL_STORAGE_RUST_H

#include <linux/bpf_local_storage.h>
#include <linux/fault-inject.h>
#include <linux/sched.h>

int rust_bpf_local_storage_map_alloc_check(union bpf_attr *attr);

struct bpf_map *
rust_bpf_local_storage_map_alloc(union bpf_attr *attr,
				 struct bpf_local_storage_cache *cache);

void rust_bpf_local_storage_map_free(struct bpf_map *map,
				     struct bpf_local_storage_cache *cache);

int rust_bpf_local_storage_map_check_btf(struct bpf_map *map,
					 const struct btf *btf,
					 const struct btf_type *key_type,
					 const struct btf_type *value_type);

u64 rust_bpf_local_storage_map_mem_usage(const struct bpf_map *map);

void rust_bpf_local_storage_insert_cache(struct bpf_local_storage *local_storage,
					 struct bpf_local_storage_map *smap,
					 struct bpf_local_storage_elem *selem);

u32 rust_bpf_local_storage_destroy(struct bpf_local_storage *local_storage);

void rust_bpf_selem_link_storage_nolock(struct bpf_local_storage *local_storage,
					struct bpf_local_storage_elem *selem);

int rust_bpf_selem_unlink(struct bpf_local_storage_elem *selem);

int rust_bpf_selem_link_map(struct bpf_local_storage_map *smap,
			    struct bpf_local_storage *local_storage,
			    struct bpf_local_storage_elem *selem);

struct bpf_local_storage_elem *
rust_bpf_selem_alloc(struct bpf_local_storage_map *smap, void *owner,
		     void *value, bool swap_uptrs);

void rust_bpf_selem_free(struct bpf_local_storage_elem *selem, bool reuse_now);

int rust_bpf_local_storage_alloc(void *owner,
				 struct bpf_local_storage_map *smap,
				 struct bpf_local_storage_elem *first_selem);

struct bpf_local_storage_data *
rust_bpf_local_storage_update(void *owner, struct bpf_local_storage_map *smap,
			      void *value, u64 map_flags, bool swap_uptrs);

/*
 * The locks of the teardown that fault injection can fail, one per party
 * (owner destroy, map free) and lock: see bpf_local_storage_fail.c.
 */
enum bpf_local_storage_fail_lock {
	BPF_LOCAL_STORAGE_FAIL_DESTROY_BUCKET,
	BPF_LOCAL_STORAGE_FAIL_DESTROY_STORAGE,
	BPF_LOCAL_STORAGE_FAIL_MAP_FREE_BUCKET,
	BPF_LOCAL_STORAGE_FAIL_MAP_FREE_STORAGE,
};

#ifdef CONFIG_FAIL_BPF_LOCAL_STORAGE_LOCK
extern struct fault_attr *const bpf_local_storage_fail_attrs[];

/*
 * Whether the next acquisition of @lock fails. The teardown asks on every
 * lock attempt, so should_fail_ex()'s own early out (no fail-nth countdown
 * on the task, probability 0) is done here, inline, and the call is only
 * made once an attribute or the task's fail-nth is armed.
 */
static inline bool
bpf_local_storage_should_fail_lock(enum bpf_local_storage_fail_lock lock)
{
	struct fault_attr *attr = bpf_local_storage_fail_attrs[lock];

	if (likely(!READ_ONCE(attr->probability) &&
		   !READ_ONCE(current->fail_nth)))
		return false;
	return should_fail(attr, 1);
}
#endif

/*
 * RCU Tasks Trace is for BPF and core RCU code only, and inline in 7.3: the
 * Rust code reaches it through these, defined in kernel/bpf/.
 */
void bpf_local_storage_call_rcu_tasks_trace(struct rcu_head *rhp,
					    rcu_callback_t func);

void bpf_local_storage_rcu_barrier_tasks_trace(void);

#endif /* __KERNEL_BPF_LOCAL_STORAGE_RUST_H */
