/* SPDX-License-Identifier: GPL-2.0 */
#ifndef TASK_COUNT_H
#define TASK_COUNT_H

/* The value of the task storage map, shared by the BPF program and the loader. */
struct task_count {
	__u64 syscalls;
};

#endif
