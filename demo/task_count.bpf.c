// SPDX-License-Identifier: GPL-2.0
/* Count the system calls of each task in task local storage. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "task_count.h"

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct task_count);
} task_counts SEC(".maps");

/* Only tasks of this thread group are counted (set by the loader). */
const volatile int target_tgid;

__u64 create_failures;

SEC("tp_btf/sys_enter")
int BPF_PROG(count_syscall, struct pt_regs *regs, long id)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct task_count *c;

	if (task->tgid != target_tgid)
		return 0;
	c = bpf_task_storage_get(&task_counts, task, NULL,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!c) {
		__sync_fetch_and_add(&create_failures, 1);
		return 0;
	}
	__sync_fetch_and_add(&c->syscalls, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
