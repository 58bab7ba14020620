// SPDX-License-Identifier: GPL-2.0
/*
 * The accounting half of prog_tests/local_storage_teardown_race.c: which
 * elements of the maps under test were created, and which of them were
 * freed, by owner destroy or by map free, whichever got there.
 *
 * The test creates its maps with bpf_map_create() and the BTF of the
 * templates below, which are never created themselves: no program uses a
 * map under test, so closing its last fd frees it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "err.h"

#define EEXIST 17

char _license[] SEC("license") = "GPL";

/* The value of every element; user space has the same struct. */
struct race_val {
	__u64 round;
	__u64 owner;
};

#define TEMPLATE(name, map_type)				\
	struct {						\
		__uint(type, map_type);				\
		__uint(map_flags, BPF_F_NO_PREALLOC);		\
		__type(key, int);				\
		__type(value, struct race_val);			\
	} name SEC(".maps")

TEMPLATE(task_tmpl, BPF_MAP_TYPE_TASK_STORAGE);
TEMPLATE(cgrp_tmpl, BPF_MAP_TYPE_CGRP_STORAGE);
TEMPLATE(inode_tmpl, BPF_MAP_TYPE_INODE_STORAGE);
TEMPLATE(sk_tmpl, BPF_MAP_TYPE_SK_STORAGE);

/*
 * Sized by user space before the load (each must hold what one subtest
 * can have in flight: map frees and owner frees may lag the rounds).
 */

/* Ids of the maps being filled: their updates are tracked. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} round_ids SEC(".maps");

/*
 * Maps under test that got an element, by address, until their free
 * starts. A freed map has no id any more (bpf_map_free_id() cleared it),
 * so map free is matched by address, at its entry, before the address can
 * be reused.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u64);
	__type(value, __u32);
} live_maps SEC(".maps");

/* Elements of the maps under test, by sdata address, until freed. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u64);
	__type(value, __u32);
} live_elems SEC(".maps");

/* Sockets under test, by SO_COOKIE, until their bpf_sk_storage_free(). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u64);
	__type(value, __u32);
} sk_cookies SEC(".maps");

/*
 * Tasks inside bpf_local_storage_destroy() (task_struct address -> depth).
 * By task, not by CPU: destroy may be preempted (its RCU read section is
 * preemptible) by a map free on the same CPU; a destroy in softirq (an RCU
 * callback freeing a task or a socket) nests in the task it interrupted,
 * which does not run meanwhile.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, int);
} destroying SEC(".maps");

int elems_created;
int elems_freed;
/* Freed while the freeing task was in an owner's destroy */
int freed_in_destroy;
/*
 * Elements created at an address live_elems still held: the element there
 * before was freed, by a free this program did not see (a missed run).
 */
int frees_unseen;
/* live_elems or live_maps was full */
int track_errors;
/* Maps under test whose free started */
int map_frees;
/* Sockets under test that went through bpf_sk_storage_free() */
int sk_freed;
/* ... and those that kept some optmem charge afterwards, with the last one */
int sk_omem_left;
int sk_omem_last;

SEC("fexit/bpf_local_storage_update")
int BPF_PROG(elem_created, void *owner, struct bpf_local_storage_map *smap,
	     void *value, u64 map_flags, bool swap_uptrs,
	     struct bpf_local_storage_data *sdata)
{
	__u32 id = smap->map.id;
	__u32 one = 1;
	__u64 key;
	long err;

	if (IS_ERR_OR_NULL(sdata) || !bpf_map_lookup_elem(&round_ids, &id))
		return 0;
	key = (__u64)sdata;
	err = bpf_map_update_elem(&live_elems, &key, &one, BPF_NOEXIST);
	if (err == -EEXIST) {
		__sync_fetch_and_add(&frees_unseen, 1);
	} else if (err) {
		__sync_fetch_and_add(&track_errors, 1);
		return 0;
	}
	__sync_fetch_and_add(&elems_created, 1);
	/* The updates of the maps under test come from one thread. */
	key = (__u64)smap;
	if (!bpf_map_lookup_elem(&live_maps, &key) &&
	    bpf_map_update_elem(&live_maps, &key, &one, BPF_NOEXIST))
		__sync_fetch_and_add(&track_errors, 1);
	return 0;
}

/*
 * An element is freed through one of two RCU calls, each seen here before
 * its grace period starts, so before the address can be reused:
 *  - kfree_rcu(), i.e. kvfree_call_rcu(&selem->rcu, selem): both
 *    teardowns, and updates' error paths, with reuse_now;
 *  - call_rcu_tasks_trace(&selem->rcu, ...), i.e. call_srcu() on the RCU
 *    Tasks Trace srcu_struct: a delete or a replaced element, which a
 *    sleepable program may still hold.
 * Only elements of live_elems count, so the kfree_rcu()s and call_srcu()s
 * of the rest of the system (and of storages, whose rcu_head is elsewhere
 * in their object) pass through.
 */
static __always_inline void elem_freed(struct bpf_local_storage_elem *selem)
{
	__u64 key = (__u64)&selem->sdata;
	__u64 task;

	/* Lookup first: this runs for every kfree_rcu() of the system. */
	if (!bpf_map_lookup_elem(&live_elems, &key) ||
	    bpf_map_delete_elem(&live_elems, &key))
		return;
	__sync_fetch_and_add(&elems_freed, 1);
	task = bpf_get_current_task();
	if (bpf_map_lookup_elem(&destroying, &task))
		__sync_fetch_and_add(&freed_in_destroy, 1);
}

SEC("fentry/kvfree_call_rcu")
int BPF_PROG(elem_kfree_rcu, void *head, void *ptr)
{
	elem_freed(ptr);
	return 0;
}

SEC("fentry/call_srcu")
int BPF_PROG(elem_call_srcu, void *ssp, struct callback_head *rhp, void *func)
{
	elem_freed(container_of(rhp, struct bpf_local_storage_elem, rcu));
	return 0;
}

SEC("fentry/bpf_local_storage_destroy")
int BPF_PROG(destroy_enter, struct bpf_local_storage *local_storage)
{
	__u64 task = bpf_get_current_task();
	int one = 1, *depth;

	depth = bpf_map_lookup_elem(&destroying, &task);
	if (depth)
		(*depth)++;
	else
		bpf_map_update_elem(&destroying, &task, &one, BPF_NOEXIST);
	return 0;
}

SEC("fexit/bpf_local_storage_destroy")
int BPF_PROG(destroy_exit, struct bpf_local_storage *local_storage, u32 charge)
{
	__u64 task = bpf_get_current_task();
	int *depth;

	depth = bpf_map_lookup_elem(&destroying, &task);
	if (depth && --(*depth) <= 0)
		bpf_map_delete_elem(&destroying, &task);
	return 0;
}

SEC("fentry/bpf_local_storage_map_free")
int BPF_PROG(map_free_start, struct bpf_map *map, struct bpf_local_storage_cache *cache)
{
	__u64 key = (__u64)map;

	if (!bpf_map_delete_elem(&live_maps, &key))
		__sync_fetch_and_add(&map_frees, 1);
	return 0;
}

/* Whatever the teardowns did, a socket's storage leaves no optmem charge. */
SEC("fexit/bpf_sk_storage_free")
int BPF_PROG(sk_storage_freed, struct sock *sk)
{
	__u64 cookie = sk->__sk_common.skc_cookie.counter;
	int omem;

	if (!cookie || bpf_map_delete_elem(&sk_cookies, &cookie))
		return 0;
	__sync_fetch_and_add(&sk_freed, 1);
	omem = sk->sk_omem_alloc.counter;
	if (omem) {
		__sync_fetch_and_add(&sk_omem_left, 1);
		sk_omem_last = omem;
	}
	return 0;
}
