// SPDX-License-Identifier: GPL-2.0
/*
 * BPF local storage: the C side of the Rust core
 *
 * With CONFIG_BPF_LOCAL_STORAGE_RUST the core is in Rust, in
 * rust/kernel/bpf/local_storage/, and Kbuild builds this file in place of
 * bpf_local_storage.c. These wrappers keep the functions of
 * include/linux/bpf_local_storage.h as C functions, with BTF: Rust objects
 * are left out of vmlinux BTF, and tracing programs attach to these
 * functions by name and read their arguments.
 */
#include <linux/bpf.h>
#include <linux/bpf_local_storage.h>
#include <linux/btf.h>
#include <linux/rcupdate_wait.h>
#include <linux/workqueue.h>

#include "bpf_local_storage_rust.h"

void __bpf_local_storage_insert_cache(struct bpf_local_storage *local_storage,
				      struct bpf_local_storage_map *smap,
				      struct bpf_local_storage_elem *selem)
{
	rust_bpf_local_storage_insert_cache(local_storage, smap, selem);
}

struct bpf_local_storage_data *
bpf_local_storage_lookup_slow(struct bpf_local_storage *local_storage,
			      struct bpf_local_storage_map *smap,
			      bool cacheit_lockit)
{
	return rust_bpf_local_storage_lookup_slow(local_storage, smap,
						  cacheit_lockit);
}

/*
 * An fentry/fexit target of the selftests (task_ls_recursion,
 * cgrp_ls_sleepable, task_local_storage): keep it a real function of its own.
 */
noinline struct bpf_local_storage_data *
bpf_local_storage_update(void *owner, struct bpf_local_storage_map *smap,
			 void *value, u64 map_flags, bool swap_uptrs)
{
	return rust_bpf_local_storage_update(owner, smap, value, map_flags,
					     swap_uptrs);
}

int bpf_local_storage_map_alloc_check(union bpf_attr *attr)
{
	return rust_bpf_local_storage_map_alloc_check(attr);
}

int bpf_local_storage_map_check_btf(struct bpf_map *map,
				    const struct btf *btf,
				    const struct btf_type *key_type,
				    const struct btf_type *value_type)
{
	return rust_bpf_local_storage_map_check_btf(map, btf, key_type,
						    value_type);
}

u32 bpf_local_storage_destroy(struct bpf_local_storage *local_storage)
{
	return rust_bpf_local_storage_destroy(local_storage);
}

static LLIST_HEAD(bpf_local_storage_deferred);

static void bpf_local_storage_destroy_workfn(struct work_struct *work)
{
	struct llist_node *list = llist_del_all(&bpf_local_storage_deferred);
	struct bpf_local_storage *local_storage, *tmp;

	/* _safe: destroy_node shares its place with the rcu_head of the free. */
	llist_for_each_entry_safe(local_storage, tmp, list, destroy_node)
		rust_bpf_local_storage_destroy_deferred(local_storage);
}

static DECLARE_WORK(bpf_local_storage_destroy_work, bpf_local_storage_destroy_workfn);

void bpf_local_storage_queue_destroy(struct bpf_local_storage *local_storage)
{
	if (llist_add(&local_storage->destroy_node, &bpf_local_storage_deferred))
		queue_work(system_dfl_wq, &bpf_local_storage_destroy_work);
}

u64 bpf_local_storage_map_mem_usage(const struct bpf_map *map)
{
	return rust_bpf_local_storage_map_mem_usage(map);
}

struct bpf_map *
bpf_local_storage_map_alloc(union bpf_attr *attr,
			    struct bpf_local_storage_cache *cache)
{
	/*
	 * The helpers' flags are checked in Rust, so no C code uses them any
	 * more: keep their enum in vmlinux BTF, where programs built on
	 * vmlinux.h find BPF_LOCAL_STORAGE_GET_F_CREATE.
	 */
	BTF_TYPE_EMIT_ENUM(BPF_LOCAL_STORAGE_GET_F_CREATE);
	return rust_bpf_local_storage_map_alloc(attr, cache);
}

void bpf_local_storage_map_free(struct bpf_map *map,
				struct bpf_local_storage_cache *cache)
{
	rust_bpf_local_storage_map_free(map, cache);
}
