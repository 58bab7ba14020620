// SPDX-License-Identifier: GPL-2.0

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "bpf_misc.h"

char _license[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, long);
} task_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_CGRP_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, long);
} cgrp_map SEC(".maps");

/* Each thread owns one cgroup: thread id -> cgroup id. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, int);
	__type(value, __u64);
} cgrp_of_tid SEC(".maps");

struct cgroup *bpf_cgroup_from_id(u64 cgid) __ksym;
void bpf_cgroup_release(struct cgroup *cgrp) __ksym;

int target_pid;
bool use_cgroup;
__u64 runs;
__u64 get_fails;
__u64 delete_fails;
__u64 no_owner;

static void create_and_delete_cgrp(int tid)
{
	struct cgroup *cgrp;
	__u64 *cgid;
	long *v;

	cgid = bpf_map_lookup_elem(&cgrp_of_tid, &tid);
	if (!cgid) {
		__sync_fetch_and_add(&no_owner, 1);
		return;
	}
	cgrp = bpf_cgroup_from_id(*cgid);
	if (!cgrp) {
		__sync_fetch_and_add(&no_owner, 1);
		return;
	}
	v = bpf_cgrp_storage_get(&cgrp_map, cgrp, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!v) {
		__sync_fetch_and_add(&get_fails, 1);
	} else {
		*v += 1;
		if (bpf_cgrp_storage_delete(&cgrp_map, cgrp))
			__sync_fetch_and_add(&delete_fails, 1);
	}
	bpf_cgroup_release(cgrp);
}

/* Every getpgid() of the test's threads creates and deletes the caller's entry. */
SEC("fentry/" SYS_PREFIX "sys_getpgid")
int BPF_PROG(on_getpgid)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	long *v;

	if (pid_tgid >> 32 != target_pid)
		return 0;
	__sync_fetch_and_add(&runs, 1);

	if (use_cgroup) {
		create_and_delete_cgrp((__u32)pid_tgid);
		return 0;
	}

	v = bpf_task_storage_get(&task_map, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!v) {
		__sync_fetch_and_add(&get_fails, 1);
		return 0;
	}
	*v += 1;
	if (bpf_task_storage_delete(&task_map, task))
		__sync_fetch_and_add(&delete_fails, 1);
	return 0;
}
