// SPDX-License-Identifier: GPL-2.0
/*
 * The helper half of prog_tests/local_storage_errno.c: each program runs
 * once, when the test arms it, and stores the result of every
 * bpf_*_storage_get() (0 = NULL, 1 = a pointer) and bpf_*_storage_delete()
 * (an errno) in a global named after the case.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char _license[] SEC("license") = "GPL";

#define NOT_RUN	(-100000)
#define INIT_V	42

struct val {
	int v;
};

struct big {
	char b[4096];
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct val);
} task_map SEC(".maps"), task_map2 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_CGRP_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct val);
} cgrp_map SEC(".maps"), cgrp_map2 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_INODE_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct val);
} inode_map SEC(".maps"), inode_map2 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct val);
} sk_map SEC(".maps"), sk_map2 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct big);
} sk_big_map SEC(".maps");

/* Set by user space. Flags are variables so that no check sees constants. */
int target_tid;
long trigger_nr = -1;
int inode_armed;
int sk_armed;
int req_armed;
int listen_port;
__u64 bad_flags = 2;
__u64 create_bad_flags = BPF_LOCAL_STORAGE_GET_F_CREATE | 2;
__u64 high_flags = 1ULL << 32;
__u64 create_flags = BPF_LOCAL_STORAGE_GET_F_CREATE;

/*
 * One set of results per owner kind. X_get_* are 0/1 (NULL or not),
 * X_*_value the int read through the returned pointer, X_delete_* errnos.
 */
#define DEFINE_RESULTS(x)					\
	int x##_h_get_bad_flags_absent = NOT_RUN;		\
	int x##_h_get_create_bad_flags_absent = NOT_RUN;	\
	int x##_h_get_high_flags_absent = NOT_RUN;		\
	int x##_h_get_absent = NOT_RUN;				\
	int x##_h_delete_absent = NOT_RUN;			\
	int x##_h_get_create_init = NOT_RUN;			\
	int x##_h_get_create_init_value = NOT_RUN;		\
	int x##_h_get_create_other_map = NOT_RUN;		\
	int x##_h_delete_other_map = NOT_RUN;			\
	int x##_h_get_create_present = NOT_RUN;			\
	int x##_h_get_create_present_value = NOT_RUN;		\
	int x##_h_get_present = NOT_RUN;			\
	int x##_h_get_bad_flags_present = NOT_RUN;		\
	int x##_h_delete_present = NOT_RUN;			\
	int x##_h_delete_again = NOT_RUN;			\
	int x##_h_get_create_no_init = NOT_RUN;			\
	int x##_h_get_create_no_init_value = NOT_RUN;		\
	int x##_h_delete_no_init = NOT_RUN

DEFINE_RESULTS(task);
DEFINE_RESULTS(cgrp);
DEFINE_RESULTS(inode);
DEFINE_RESULTS(sk);

int task_h_get_null_owner = NOT_RUN;
int task_h_delete_null_owner = NOT_RUN;
int cgrp_h_get_null_owner = NOT_RUN;
int cgrp_h_delete_null_owner = NOT_RUN;
int inode_h_get_null_owner = NOT_RUN;
int inode_h_delete_null_owner = NOT_RUN;
int sk_h_get_create_kept = NOT_RUN;
int sk_h_get_create_over_optmem = NOT_RUN;
int sk_h_get_kept_value = NOT_RUN;
int sk_h_get_reqsk = NOT_RUN;
int sk_h_get_create_reqsk = NOT_RUN;
int sk_h_delete_reqsk = NOT_RUN;

/*
 * The same sequence for every owner kind x, on its maps x_map and x_map2
 * and the owner in the variable owner:
 * get/delete with bad flags and on an absent element, create with an
 * init value, a second map's element beside it, create again on a
 * present element (the init value must not overwrite it), delete, create
 * without an init value, delete it.
 */
#define RUN_CASES(x)							\
	do {								\
		struct val init = { .v = INIT_V };			\
		struct val *p;						\
									\
		p = bpf_##x##_storage_get(&x##_map, owner, 0, bad_flags); \
		x##_h_get_bad_flags_absent = !!p;			\
		p = bpf_##x##_storage_get(&x##_map, owner, &init, create_bad_flags); \
		x##_h_get_create_bad_flags_absent = !!p;		\
		p = bpf_##x##_storage_get(&x##_map, owner, &init, high_flags); \
		x##_h_get_high_flags_absent = !!p;			\
		p = bpf_##x##_storage_get(&x##_map, owner, 0, 0);	\
		x##_h_get_absent = !!p;					\
		x##_h_delete_absent = bpf_##x##_storage_delete(&x##_map, owner); \
		p = bpf_##x##_storage_get(&x##_map, owner, &init, create_flags); \
		x##_h_get_create_init = !!p;				\
		x##_h_get_create_init_value = p ? p->v : NOT_RUN;	\
		p = bpf_##x##_storage_get(&x##_map2, owner, &init, create_flags); \
		x##_h_get_create_other_map = !!p;			\
		x##_h_delete_other_map = bpf_##x##_storage_delete(&x##_map2, owner); \
		init.v = INIT_V + 1;					\
		p = bpf_##x##_storage_get(&x##_map, owner, &init, create_flags); \
		x##_h_get_create_present = !!p;				\
		x##_h_get_create_present_value = p ? p->v : NOT_RUN;	\
		p = bpf_##x##_storage_get(&x##_map, owner, 0, 0);	\
		x##_h_get_present = !!p;				\
		p = bpf_##x##_storage_get(&x##_map, owner, 0, bad_flags); \
		x##_h_get_bad_flags_present = !!p;			\
		x##_h_delete_present = bpf_##x##_storage_delete(&x##_map, owner); \
		x##_h_delete_again = bpf_##x##_storage_delete(&x##_map, owner); \
		p = bpf_##x##_storage_get(&x##_map, owner, 0, create_flags); \
		x##_h_get_create_no_init = !!p;				\
		x##_h_get_create_no_init_value = p ? p->v : NOT_RUN;	\
		x##_h_delete_no_init = bpf_##x##_storage_delete(&x##_map, owner); \
	} while (0)

SEC("tp_btf/sys_enter")
int BPF_PROG(on_sys_enter, struct pt_regs *regs, long id)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct cgroup *cgrp;
	struct val init = { .v = INIT_V };

	if (trigger_nr < 0 || id != trigger_nr || task->pid != target_tid)
		return 0;
	trigger_nr = -1;

	{
		struct task_struct *owner = task;

		RUN_CASES(task);
	}
	task_h_get_null_owner = !!bpf_task_storage_get(&task_map, NULL, &init,
						       create_flags);
	task_h_delete_null_owner = bpf_task_storage_delete(&task_map, NULL);

	cgrp = task->cgroups->dfl_cgrp;
	{
		struct cgroup *owner = cgrp;

		RUN_CASES(cgrp);
	}
	cgrp_h_get_null_owner = !!bpf_cgrp_storage_get(&cgrp_map, NULL, &init,
						       create_flags);
	cgrp_h_delete_null_owner = bpf_cgrp_storage_delete(&cgrp_map, NULL);
	return 0;
}

SEC("lsm/file_open")
int BPF_PROG(on_file_open, struct file *file)
{
	struct inode *inode = file->f_inode;
	struct val init = { .v = INIT_V };

	if (!inode_armed || (__u32)bpf_get_current_pid_tgid() != target_tid)
		return 0;
	inode_armed = 0;

	{
		struct inode *owner = inode;

		RUN_CASES(inode);
	}
	inode_h_get_null_owner = !!bpf_inode_storage_get(&inode_map, NULL,
							 &init, create_flags);
	inode_h_delete_null_owner = bpf_inode_storage_delete(&inode_map, NULL);
	return 0;
}

/* Runs with net.core.optmem_max lowered below sizeof(struct big). */
SEC("fentry/inet_csk_listen_start")
int BPF_PROG(on_listen, struct sock *sk)
{
	struct val init = { .v = INIT_V };
	struct val *p;

	if (!sk_armed || (__u32)bpf_get_current_pid_tgid() != target_tid)
		return 0;
	sk_armed = 0;

	{
		struct sock *owner = sk;

		RUN_CASES(sk);
	}
	/* An element user space looks up after listen() returns */
	sk_h_get_create_kept = !!bpf_sk_storage_get(&sk_map, sk, &init,
						    create_flags);
	sk_h_get_create_over_optmem =
		!!bpf_sk_storage_get(&sk_big_map, sk, 0, create_flags);
	/* The failed create left the element of sk_map alone. */
	p = bpf_sk_storage_get(&sk_map, sk, 0, 0);
	sk_h_get_kept_value = p ? p->v : NOT_RUN;
	return 0;
}

/* A request sock (TCP_NEW_SYN_RECV) is not a full sock. */
SEC("fexit/inet_reqsk_alloc")
int BPF_PROG(on_reqsk_alloc, const struct request_sock_ops *ops,
	     struct sock *sk_listener, bool attach_listener,
	     struct request_sock *req)
{
	struct val init = { .v = INIT_V };

	if (!req_armed || !req ||
	    sk_listener->__sk_common.skc_num != listen_port)
		return 0;
	req_armed = 0;

	sk_h_get_reqsk = !!bpf_sk_storage_get(&sk_map, req, 0, 0);
	sk_h_get_create_reqsk = !!bpf_sk_storage_get(&sk_map, req, &init,
						     create_flags);
	sk_h_delete_reqsk = bpf_sk_storage_delete(&sk_map, req);
	return 0;
}
