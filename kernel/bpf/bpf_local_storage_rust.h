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
#include <linux/bpf_lsm.h>
#include <linux/rcupdate_trace.h>
#include "bpf_local_storage_fail.h"

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

struct bpf_local_storage_data *
rust_bpf_local_storage_lookup_slow(struct bpf_local_storage *local_storage,
				   struct bpf_local_storage_map *smap,
				   bool cacheit_lockit);

u32 rust_bpf_local_storage_destroy(struct bpf_local_storage *local_storage);

void rust_bpf_local_storage_destroy_deferred(struct bpf_local_storage *local_storage);

struct bpf_local_storage_data *
rust_bpf_local_storage_update(void *owner, struct bpf_local_storage_map *smap,
			      void *value, u64 map_flags, bool swap_uptrs);

/*
 * The storage types in Rust, rust/kernel/bpf/local_storage/backend/, for
 * their C files (bpf_cgrp_storage_rust.c, ...): the free function, the map
 * operations and the helpers of the C file whose names they carry. The
 * helpers take a NULL owner, as the BPF helpers do. The free functions
 * enter the RCU read section the destroy needs themselves.
 */
void rust_bpf_cgrp_storage_free(struct cgroup *cgroup);

void *rust_bpf_cgrp_storage_lookup_elem(struct bpf_map *map, void *key);

long rust_bpf_cgrp_storage_update_elem(struct bpf_map *map, void *key,
				       void *value, u64 map_flags);

long rust_bpf_cgrp_storage_delete_elem(struct bpf_map *map, void *key);

void *rust_bpf_cgrp_storage_get(struct bpf_map *map, struct cgroup *cgroup,
				void *value, u64 flags);

int rust_bpf_cgrp_storage_delete(struct bpf_map *map, struct cgroup *cgroup);

struct bpf_map *
rust_bpf_inode_storage_map_alloc(union bpf_attr *attr,
				 struct bpf_local_storage_cache *cache);

void rust_bpf_inode_storage_free(struct inode *inode);

void *rust_bpf_inode_storage_lookup_elem(struct bpf_map *map, void *key);

long rust_bpf_inode_storage_update_elem(struct bpf_map *map, void *key,
					void *value, u64 map_flags);

long rust_bpf_inode_storage_delete_elem(struct bpf_map *map, void *key);

void *rust_bpf_inode_storage_get(struct bpf_map *map, struct inode *inode,
				 void *value, u64 flags);

int rust_bpf_inode_storage_delete(struct bpf_map *map, struct inode *inode);

struct bpf_sk_storage_diag;
struct nlattr;
struct sk_buff;
struct sock;

void rust_bpf_sk_storage_free(struct sock *sk);

int rust_bpf_sk_storage_clone(const struct sock *sk, struct sock *newsk);

void *rust_bpf_sk_storage_lookup_elem(struct bpf_map *map, void *key);

long rust_bpf_sk_storage_update_elem(struct bpf_map *map, void *key,
				     void *value, u64 map_flags);

long rust_bpf_sk_storage_delete_elem(struct bpf_map *map, void *key);

void *rust_bpf_sk_storage_get(struct bpf_map *map, struct sock *sk,
			      void *value, u64 flags);

int rust_bpf_sk_storage_delete(struct bpf_map *map, struct sock *sk);

int rust_bpf_sk_storage_charge(struct bpf_local_storage_map *smap, void *owner,
			       u32 size);

void rust_bpf_sk_storage_uncharge(struct bpf_local_storage_map *smap,
				  void *owner, u32 size);

/*
 * The socket diag's request, struct bpf_sk_storage_diag, is a Rust object
 * that C only passes around.
 */
struct bpf_sk_storage_diag *
rust_bpf_sk_storage_diag_alloc(const struct nlattr *nla_stgs);

void rust_bpf_sk_storage_diag_free(struct bpf_sk_storage_diag *diag);

int rust_bpf_sk_storage_diag_put(struct bpf_sk_storage_diag *diag,
				 struct sock *sk, struct sk_buff *skb,
				 int stg_array_type,
				 unsigned int *res_diag_size);

/*
 * The state of a bpf_sk_storage_map iterator, the seq_file's private data:
 * its map, and the position of the element it is at (the bucket, and the
 * elements before it in the bucket). An element that start or next returns
 * stays in an RCU read-side critical section until the next call to next
 * or stop.
 */
struct bpf_iter_seq_sk_storage_map_info {
	struct bpf_map *map;
	unsigned int bucket_id;
	unsigned int skip_elems;
};

struct bpf_local_storage_elem *
rust_bpf_sk_storage_map_seq_start(struct bpf_iter_seq_sk_storage_map_info *info);

struct bpf_local_storage_elem *
rust_bpf_sk_storage_map_seq_next(struct bpf_iter_seq_sk_storage_map_info *info,
				 struct bpf_local_storage_elem *prev);

void rust_bpf_sk_storage_map_seq_stop(void);

void rust_bpf_task_storage_free(struct task_struct *task);

void *rust_bpf_task_storage_lookup_elem(struct bpf_map *map, void *key);

long rust_bpf_task_storage_update_elem(struct bpf_map *map, void *key,
				       void *value, u64 map_flags);

long rust_bpf_task_storage_delete_elem(struct bpf_map *map, void *key);

void *rust_bpf_task_storage_get(struct bpf_map *map, struct task_struct *task,
				void *value, u64 flags);

int rust_bpf_task_storage_delete(struct bpf_map *map, struct task_struct *task);

/*
 * RCU Tasks Trace is for BPF and core RCU code only (checkpatch's
 * RCU_TASKS_TRACE), and inline in 7.3: the Rust code reaches it through
 * these, which rust/helpers/bpf.c forwards, so that the delete path's
 * call_rcu_tasks_trace() is inlined into Rust as it is into C.
 */
static inline void
bpf_local_storage_call_rcu_tasks_trace(struct rcu_head *rhp,
				       rcu_callback_t func)
{
	call_rcu_tasks_trace(rhp, func);
}

static inline void bpf_local_storage_rcu_barrier_tasks_trace(void)
{
	rcu_barrier_tasks_trace();
}

/*
 * Queues a storage that rust_bpf_local_storage_destroy() stopped on for the
 * destroy work, which calls rust_bpf_local_storage_destroy_deferred() on it
 * in process context: a static work item and an llist, defined in C.
 */
void bpf_local_storage_queue_destroy(struct bpf_local_storage *local_storage);

#endif /* __KERNEL_BPF_LOCAL_STORAGE_RUST_H */
