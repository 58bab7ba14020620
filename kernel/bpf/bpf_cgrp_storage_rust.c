// SPDX-License-Identifier: GPL-2.0
/*
 * BPF cgroup storage: the C side of the Rust backend
 *
 * With CONFIG_BPF_LOCAL_STORAGE_RUST, cgroup storage is implemented in
 * rust/kernel/bpf/local_storage/backend/cgroup.rs, and Kbuild builds this
 * file in place of bpf_cgrp_storage.c. It keeps what the BPF core and BTF
 * read: the map operations, the helper prototypes and the helpers'
 * BPF_CALL shells, and bpf_cgrp_storage_free(), which the cgroup core calls.
 * Each calls one Rust function; the operations point to C functions, as
 * kCFI wants.
 */
#include <linux/bpf.h>
#include <linux/bpf_local_storage.h>
#include <linux/btf_ids.h>
#include <linux/cgroup.h>

#include "bpf_local_storage_rust.h"

DEFINE_BPF_STORAGE_CACHE(cgroup_cache);

static struct bpf_local_storage __rcu **cgroup_storage_ptr(void *owner)
{
	struct cgroup *cg = owner;

	return &cg->bpf_cgrp_storage;
}

void bpf_cgrp_storage_free(struct cgroup *cgroup)
{
	rust_bpf_cgrp_storage_free(cgroup);
}

static void *bpf_cgrp_storage_lookup_elem(struct bpf_map *map, void *key)
{
	return rust_bpf_cgrp_storage_lookup_elem(map, key);
}

static long bpf_cgrp_storage_update_elem(struct bpf_map *map, void *key,
					 void *value, u64 map_flags)
{
	return rust_bpf_cgrp_storage_update_elem(map, key, value, map_flags);
}

static long bpf_cgrp_storage_delete_elem(struct bpf_map *map, void *key)
{
	return rust_bpf_cgrp_storage_delete_elem(map, key);
}

static int notsupp_get_next_key(struct bpf_map *map, void *key, void *next_key)
{
	return -ENOTSUPP;
}

static struct bpf_map *cgroup_storage_map_alloc(union bpf_attr *attr)
{
	return bpf_local_storage_map_alloc(attr, &cgroup_cache);
}

static void cgroup_storage_map_free(struct bpf_map *map)
{
	bpf_local_storage_map_free(map, &cgroup_cache);
}

BPF_CALL_4(bpf_cgrp_storage_get, struct bpf_map *, map, struct cgroup *, cgroup,
	   void *, value, u64, flags)
{
	WARN_ON_ONCE(!bpf_rcu_lock_held());
	return (unsigned long)rust_bpf_cgrp_storage_get(map, cgroup, value, flags);
}

BPF_CALL_2(bpf_cgrp_storage_delete, struct bpf_map *, map, struct cgroup *, cgroup)
{
	WARN_ON_ONCE(!bpf_rcu_lock_held());
	return rust_bpf_cgrp_storage_delete(map, cgroup);
}

const struct bpf_map_ops cgrp_storage_map_ops = {
	.map_meta_equal = bpf_map_meta_equal,
	.map_alloc_check = bpf_local_storage_map_alloc_check,
	.map_alloc = cgroup_storage_map_alloc,
	.map_free = cgroup_storage_map_free,
	.map_get_next_key = notsupp_get_next_key,
	.map_lookup_elem = bpf_cgrp_storage_lookup_elem,
	.map_update_elem = bpf_cgrp_storage_update_elem,
	.map_delete_elem = bpf_cgrp_storage_delete_elem,
	.map_check_btf = bpf_local_storage_map_check_btf,
	.map_mem_usage = bpf_local_storage_map_mem_usage,
	.map_btf_id = &bpf_local_storage_map_btf_id[0],
	.map_owner_storage_ptr = cgroup_storage_ptr,
};

const struct bpf_func_proto bpf_cgrp_storage_get_proto = {
	.func		= bpf_cgrp_storage_get,
	.gpl_only	= false,
	.ret_type	= RET_PTR_TO_MAP_VALUE_OR_NULL,
	.arg1_type	= ARG_CONST_MAP_PTR,
	.arg2_type	= ARG_PTR_TO_BTF_ID_OR_NULL,
	.arg2_btf_id	= &bpf_cgroup_btf_id[0],
	.arg3_type	= ARG_PTR_TO_MAP_VALUE_OR_NULL,
	.arg4_type	= ARG_ANYTHING,
};

const struct bpf_func_proto bpf_cgrp_storage_delete_proto = {
	.func		= bpf_cgrp_storage_delete,
	.gpl_only	= false,
	.ret_type	= RET_INTEGER,
	.arg1_type	= ARG_CONST_MAP_PTR,
	.arg2_type	= ARG_PTR_TO_BTF_ID_OR_NULL,
	.arg2_btf_id	= &bpf_cgroup_btf_id[0],
};
