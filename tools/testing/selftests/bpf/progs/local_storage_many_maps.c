// SPDX-License-Identifier: GPL-2.0

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "bpf_misc.h"

char _license[] SEC("license") = "GPL";

#define NR_MAPS 100

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, NR_MAPS);
	__type(key, int);
	__type(value, int);
	__array(values, struct {
		__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
		__uint(map_flags, BPF_F_NO_PREALLOC);
		__type(key, int);
		__type(value, __u64);
	});
} task_maps SEC(".maps");

/* Set from user space: the test's process, and how often a program deletes. */
int target_tgid;
__u32 delete_every;

__u64 gets;
__u64 get_fails;
__u64 deletes;
__u64 delete_fails;
__u64 wrong_values;
__u64 found_deleted;

/* What a thread's element of map i holds, whoever created it. */
static __u64 expected(__u32 tid, __u32 i)
{
	return (__u64)tid << 16 | i;
}

struct loop_ctx {
	struct task_struct *task;
	__u32 tid;
	__u32 round;
};

static long visit(__u32 i, void *arg)
{
	struct loop_ctx *ctx = arg;
	__u64 *v, want = expected(ctx->tid, i);
	void *map;

	map = bpf_map_lookup_elem(&task_maps, &i);
	if (!map)
		return 1;
	v = bpf_task_storage_get(map, ctx->task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!v) {
		__sync_fetch_and_add(&get_fails, 1);
		return 0;
	}
	__sync_fetch_and_add(&gets, 1);
	/* 0: created by this get; else by the owner, its programs or syscalls. */
	if (*v == 0)
		*v = want;
	else if (*v != want)
		__sync_fetch_and_add(&wrong_values, 1);
	if (!delete_every || (i + ctx->round) % delete_every)
		return 0;
	if (bpf_task_storage_delete(map, ctx->task)) {
		__sync_fetch_and_add(&delete_fails, 1);
		return 0;
	}
	__sync_fetch_and_add(&deletes, 1);
	/* Gone for every lookup that starts after the delete. */
	if (bpf_task_storage_get(map, ctx->task, 0, 0))
		__sync_fetch_and_add(&found_deleted, 1);
	return 0;
}

SEC("fentry/" SYS_PREFIX "sys_getpgid")
int BPF_PROG(get_all)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct loop_ctx lctx = { .task = task, .tid = task->pid };

	if (task->tgid != target_tgid)
		return 0;
	lctx.round = bpf_get_prandom_u32();
	bpf_loop(NR_MAPS, visit, &lctx, 0);
	return 0;
}
