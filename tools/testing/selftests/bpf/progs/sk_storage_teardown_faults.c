// SPDX-License-Identifier: GPL-2.0
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

/*
 * Each subtest opens this object twice: one instance creates sk_map_a and
 * sk_map_b and loads no program, the other loads the programs and creates
 * neither map, so that the maps can be freed while the programs watch.
 */

/* The socket under test, by SO_COOKIE, and what its destroy left behind. */
__u64 cookie;
int destroyed;
int omem_after_destroy = -1;

/*
 * The last owner destroy (bpf_local_storage_destroy()) since the socket was
 * set: how long it took, and how many injected lock failures it met
 * (bpf_local_storage_lock_fault() calls by its task while it ran). The time
 * is the call's: it includes the destroy work's if the work, which destroy
 * queues last, preempts it on its CPU; the count does not.
 */
__u64 destroy_ns;
int destroy_faults = -1;
/* Not static: clang would shrink a static flag to one byte, which BTF rejects. */
__u64 destroy_start_ns;
__u64 destroy_task;
int in_destroy;

/* The maps under test, by id, set before their elements are created. */
__u32 map_a_id;
__u32 map_b_id;
/* The sdata of the element created in each map; 0 once it was freed. */
__u64 elem_sdata[2];
/* How many of those elements were freed (passed to kvfree_call_rcu()). */
int elems_freed;

struct value {
	__u64 data[8];
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct value);
} sk_map_a SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct value);
} sk_map_b SEC(".maps");

SEC("fexit/bpf_sk_storage_free")
int BPF_PROG(sk_storage_freed, struct sock *sk)
{
	if (!cookie || sk->__sk_common.skc_cookie.counter != cookie)
		return 0;

	destroyed++;
	omem_after_destroy = sk->sk_omem_alloc.counter;
	return 0;
}

SEC("fentry/bpf_local_storage_destroy")
int BPF_PROG(destroy_entry, struct bpf_local_storage *local_storage)
{
	if (!cookie)
		return 0;
	destroy_faults = 0;
	destroy_task = bpf_get_current_task();
	in_destroy = 1;
	destroy_start_ns = bpf_ktime_get_ns();
	return 0;
}

SEC("fexit/bpf_local_storage_destroy")
int BPF_PROG(destroy_exit, struct bpf_local_storage *local_storage, u32 charge)
{
	if (!in_destroy)
		return 0;
	destroy_ns = bpf_ktime_get_ns() - destroy_start_ns;
	in_destroy = 0;
	return 0;
}

/* Only destroy's own: its work may run before destroy returns. */
SEC("fentry/bpf_local_storage_lock_fault")
int BPF_PROG(lock_fault, int lock)
{
	if (in_destroy && bpf_get_current_task() == destroy_task)
		__sync_fetch_and_add(&destroy_faults, 1);
	return 0;
}

/* Records the element that a bpf_map_update_elem() on a map under test created. */
SEC("fexit/bpf_local_storage_update")
int BPF_PROG(elem_created, void *owner, struct bpf_local_storage_map *smap,
	     void *value, u64 map_flags, bool swap_uptrs,
	     struct bpf_local_storage_data *sdata)
{
	__u32 id = smap->map.id;

	/* Map ids start at 1: an unset id matches no map. */
	if (id == map_a_id)
		elem_sdata[0] = (__u64)sdata;
	else if (id == map_b_id)
		elem_sdata[1] = (__u64)sdata;
	return 0;
}

static __always_inline void count_free(__u64 *slot, __u64 sdata)
{
	if (*slot != sdata)
		return;
	/* Counted once: the memory may be reused and freed again later. */
	*slot = 0;
	__sync_fetch_and_add(&elems_freed, 1);
}

/*
 * Every free of an element, by either teardown, ends in kfree_rcu(), i.e.
 * kvfree_call_rcu(&selem->rcu, selem).
 */
SEC("fentry/kvfree_call_rcu")
int BPF_PROG(elem_freed, void *head, void *ptr)
{
	struct bpf_local_storage_elem *selem = ptr;
	__u64 sdata = (__u64)&selem->sdata;

	count_free(&elem_sdata[0], sdata);
	count_free(&elem_sdata[1], sdata);
	return 0;
}

char _license[] SEC("license") = "GPL";
