// SPDX-License-Identifier: GPL-2.0
/*
 * The program half of prog_tests/local_storage_alloc_faults.c: armed by user
 * space for one owner kind, a program creates the owner's element of that
 * kind's map with bpf_*_storage_get(F_CREATE), once, inside the system call
 * that user space makes with its fail-nth armed, and records what the get
 * returned. An allocation failure must show as NULL there, nothing else.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char _license[] SEC("license") = "GPL";

#define NOT_RUN		(-100000)
#define INIT_V		42

/* Which program runs on the next trigger; the same values as user space's. */
#define ARM_NONE	0
#define ARM_TASK	1
#define ARM_CGRP	2
#define ARM_INODE	3
#define ARM_SK		4

struct val {
	int v;
};

/* A value with a lock, for the BPF_F_LOCK updates of the system calls. */
struct lval {
	struct bpf_spin_lock lock;
	int v;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct val);
} task_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct lval);
} task_lmap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_CGRP_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct val);
} cgrp_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_CGRP_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct lval);
} cgrp_lmap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_INODE_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct val);
} inode_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_INODE_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct lval);
} inode_lmap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct val);
} sk_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct lval);
} sk_lmap SEC(".maps");

/* Set by user space: the thread that triggers, and the getpgid() number. */
int target_tid;
long trigger_nr = -1;
/* ARM_*: set by user space right before the trigger, cleared by the program. */
int armed;

/* What the armed program's get returned: 0 (NULL), 1 (an element), or NOT_RUN. */
int got = NOT_RUN;
/* The value read through the returned pointer: INIT_V for a new element. */
int got_value = NOT_RUN;

static __always_inline void record(struct val *p)
{
	got = !!p;
	got_value = p ? p->v : NOT_RUN;
}

/* Task and cgroup storage: the trigger is a getpgid() of the target thread. */
SEC("tp_btf/sys_enter")
int BPF_PROG(on_sys_enter, struct pt_regs *regs, long id)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct val init = { .v = INIT_V };
	struct val *p;

	if (id != trigger_nr || task->pid != target_tid)
		return 0;
	if (armed == ARM_TASK) {
		armed = ARM_NONE;
		p = bpf_task_storage_get(&task_map, task, &init,
					 BPF_LOCAL_STORAGE_GET_F_CREATE);
		record(p);
	} else if (armed == ARM_CGRP) {
		armed = ARM_NONE;
		p = bpf_cgrp_storage_get(&cgrp_map, task->cgroups->dfl_cgrp, &init,
					 BPF_LOCAL_STORAGE_GET_F_CREATE);
		record(p);
	}
	return 0;
}

/* Inode storage: the trigger is an fstat() of the file. */
SEC("lsm/inode_getattr")
int BPF_PROG(on_inode_getattr, const struct path *path)
{
	struct val init = { .v = INIT_V };
	struct val *p;

	if (armed != ARM_INODE || (__u32)bpf_get_current_pid_tgid() != target_tid)
		return 0;
	armed = ARM_NONE;
	p = bpf_inode_storage_get(&inode_map, path->dentry->d_inode, &init,
				  BPF_LOCAL_STORAGE_GET_F_CREATE);
	record(p);
	return 0;
}

/* Socket storage: the trigger is a getsockopt() on the socket. */
SEC("lsm/socket_getsockopt")
int BPF_PROG(on_socket_getsockopt, struct socket *sock, int level, int optname)
{
	struct val init = { .v = INIT_V };
	struct sock *sk = sock->sk;
	struct val *p;

	if (armed != ARM_SK || (__u32)bpf_get_current_pid_tgid() != target_tid)
		return 0;
	armed = ARM_NONE;
	/* Never NULL for the test's socket; the verifier wants the check. */
	if (!sk)
		return 0;
	p = bpf_sk_storage_get(&sk_map, sk, &init, BPF_LOCAL_STORAGE_GET_F_CREATE);
	record(p);
	return 0;
}
