// SPDX-License-Identifier: GPL-2.0
/*
 * Errno parity of the four local storage backends (task, cgroup, inode and
 * socket storage): map creation, the map syscalls and the BPF helpers, each
 * case with the result the C implementation gives. The expected values
 * below were recorded on an unmodified 7.3.4 kernel; a reimplementation of
 * a backend must give the same result for every case.
 *
 * A result is an errno (negative), 0, or for bpf_*_storage_get() 0 (NULL)
 * or 1 (a pointer). Every case prints its actual result, so a run with -v
 * gives the table of a kernel.
 */
#define _GNU_SOURCE
#include <test_progs.h>
#include <bpf/btf.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <linux/netlink.h>
#include "cgroup_helpers.h"
#include "task_local_storage_helpers.h"
#include "local_storage_errno.skel.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

/* An errno no case gives: the case did not run */
#define NOT_RUN		(-100000)
#define INIT_V		42
#define OPTMEM_LOW	2048
#define OMEM_VALUE	1000
#define BIG_VALUE	4096
#define MAX_PAGE_ORDER	10
#define MAX_BPF_STACK	512

struct ls_case {
	const char *name;
	int expected;
	int actual;
};

/*
 * name: <owner>_<what>; <owner>_h_*: a helper case, from the BPF program.
 * To record a kernel's table, set the expected values to anything and run
 * ./test_progs -v -t local_storage_errno: each case prints its actual result.
 *
 * Owners that are gone: task, the pidfd of a reaped child; cgroup, the fd
 * of a directory removed by rmdir. An inode and a socket cannot be gone
 * while the fd that names them is open: dead stands for an unlinked file
 * and for a connected TCP socket after shutdown(). The socket helpers take
 * no NULL sk (the verifier refuses one); a request sock stands for a sock
 * that is not a full one.
 */
static struct ls_case cases[] = {
	/* task storage: map creation */
	{ "task_create_value_size_0",			-EINVAL },
	{ "task_create_value_size_max",			0 },
	{ "task_create_value_size_max_plus_1",		-E2BIG },
	{ "task_create_no_prealloc_missing",		-EINVAL },
	{ "task_create_flags_unknown",			-EINVAL },
	{ "task_create_flags_rdonly_prog",		-EINVAL },
	{ "task_create_flags_clone",			0 },
	{ "task_create_key_size_0",			-EINVAL },
	{ "task_create_key_size_8",			-EINVAL },
	{ "task_create_max_entries_1",			-EINVAL },
	{ "task_create_no_btf",				-EINVAL },
	{ "task_create_btf_key_struct",			-EINVAL },
	{ "task_create_btf_key_unsigned",		0 },
	{ "task_create_spin_lock",			0 },
	{ "task_create_timer",				-EOPNOTSUPP },
	{ "task_create_uptr",				0 },
	/* task storage: syscalls */
	{ "task_lookup_fd_procfs_dir",			-EBADF },
	{ "task_update_zombie",				0 },
	{ "task_lookup_zombie",				0 },
	{ "task_delete_zombie",				0 },
	{ "task_lookup_fd_neg",				-EBADF },
	{ "task_update_fd_neg",				-EBADF },
	{ "task_delete_fd_neg",				-EBADF },
	{ "task_lookup_fd_closed",			-EBADF },
	{ "task_lookup_fd_wrong",			-EBADF },
	{ "task_update_fd_wrong",			-EBADF },
	{ "task_delete_fd_wrong",			-EBADF },
	{ "task_lookup_absent",				-ENOENT },
	{ "task_delete_absent",				-ENOENT },
	{ "task_update_exist_absent",			-ENOENT },
	{ "task_update_noexist_exist",			-EINVAL },
	{ "task_update_flag_unknown",			-EINVAL },
	{ "task_update_lock_no_lock",			-EINVAL },
	{ "task_update_noexist_absent",			0 },
	{ "task_update_noexist_present",		-EEXIST },
	{ "task_update_exist_present",			0 },
	{ "task_update_any_present",			0 },
	{ "task_lookup_present",			0 },
	{ "task_lookup_present_value",			INIT_V + 3 },
	{ "task_update_exist_absent_other",		-ENOENT },
	{ "task_lookup_absent_other",			-ENOENT },
	{ "task_delete_absent_other",			-ENOENT },
	{ "task_update_noexist_absent_other",		0 },
	{ "task_delete_present_other",			0 },
	{ "task_get_next_key",				-ENOTSUPP },
	{ "task_lookup_and_delete",			-ENOTSUPP },
	{ "task_lookup_batch",				-ENOTSUPP },
	{ "task_delete_present",			0 },
	{ "task_delete_again",				-ENOENT },
	{ "task_lookup_deleted",			-ENOENT },
	{ "task_lookup_lock_absent",			-ENOENT },
	{ "task_update_lock_exist_absent",		-ENOENT },
	{ "task_update_lock_any_absent",		0 },
	{ "task_update_lock_noexist_present",		-EEXIST },
	{ "task_update_lock_exist_present",		0 },
	{ "task_update_lock_any_present",		0 },
	{ "task_lookup_lock_present",			0 },
	{ "task_lookup_lock_present_value",		INIT_V + 5 },
	{ "task_update_no_lock_flag_lock_map",		0 },
	{ "task_delete_lock_present",			0 },
	{ "task_update_lock_exist_absent_other",	-ENOENT },
	{ "task_update_lock_any_absent_other",		0 },
	{ "task_delete_lock_other",			0 },
	{ "task_lookup_dead",				-ENOENT },
	{ "task_update_dead",				-ENOENT },
	{ "task_delete_dead",				-ENOENT },
	{ "task_update_uptr",				0 },
	{ "task_lookup_uptr",				0 },
	{ "task_update_uptr_null",			0 },
	{ "task_update_uptr_lock_no_lock",		-EINVAL },
	{ "task_update_uptr_lock",			-EOPNOTSUPP },
	{ "task_update_uptr_spin_lock_no_flag",		0 },
	{ "task_update_uptr_across_pages",		-EOPNOTSUPP },
	{ "task_update_uptr_overflow",			-EFAULT },
	{ "task_update_uptr_prot_none",			-EFAULT },
	{ "task_update_uptr_read_only",			-EFAULT },
	{ "task_update_uptr_exist_absent",		-ENOENT },
	{ "task_delete_uptr",				0 },
	/* task storage: helpers */
	{ "task_h_get_bad_flags_absent",		0 },
	{ "task_h_get_create_bad_flags_absent",		0 },
	{ "task_h_get_high_flags_absent",		0 },
	{ "task_h_get_absent",				0 },
	{ "task_h_delete_absent",			-ENOENT },
	{ "task_h_get_create_init",			1 },
	{ "task_h_get_create_init_value",		INIT_V },
	{ "task_h_get_create_other_map",		1 },
	{ "task_h_delete_other_map",			0 },
	{ "task_h_get_create_present",			1 },
	{ "task_h_get_create_present_value",		INIT_V },
	{ "task_h_get_present",				1 },
	{ "task_h_get_bad_flags_present",		0 },
	{ "task_h_delete_present",			0 },
	{ "task_h_delete_again",			-ENOENT },
	{ "task_h_get_create_no_init",			1 },
	{ "task_h_get_create_no_init_value",		0 },
	{ "task_h_delete_no_init",			0 },
	{ "task_h_get_null_owner",			0 },
	{ "task_h_delete_null_owner",			-EINVAL },
	/* cgroup storage: map creation */
	{ "cgrp_create_value_size_0",			-EINVAL },
	{ "cgrp_create_value_size_max",			0 },
	{ "cgrp_create_value_size_max_plus_1",		-E2BIG },
	{ "cgrp_create_no_prealloc_missing",		-EINVAL },
	{ "cgrp_create_flags_unknown",			-EINVAL },
	{ "cgrp_create_flags_rdonly_prog",		-EINVAL },
	{ "cgrp_create_flags_clone",			0 },
	{ "cgrp_create_key_size_0",			-EINVAL },
	{ "cgrp_create_key_size_8",			-EINVAL },
	{ "cgrp_create_max_entries_1",			-EINVAL },
	{ "cgrp_create_no_btf",				-EINVAL },
	{ "cgrp_create_btf_key_struct",			-EINVAL },
	{ "cgrp_create_btf_key_unsigned",		0 },
	{ "cgrp_create_spin_lock",			0 },
	{ "cgrp_create_timer",				-EOPNOTSUPP },
	{ "cgrp_create_uptr",				-EOPNOTSUPP },
	/* cgroup storage: syscalls */
	{ "cgrp_lookup_fd_cgroup_file",			-EBADF },
	{ "cgrp_update_fd_cgroup_file",			-EBADF },
	{ "cgrp_update_fd_non_cgroup_dir",		-EBADF },
	{ "cgrp_lookup_fd_neg",				-EBADF },
	{ "cgrp_update_fd_neg",				-EBADF },
	{ "cgrp_delete_fd_neg",				-EBADF },
	{ "cgrp_lookup_fd_closed",			-EBADF },
	{ "cgrp_lookup_fd_wrong",			-EBADF },
	{ "cgrp_update_fd_wrong",			-EBADF },
	{ "cgrp_delete_fd_wrong",			-EBADF },
	{ "cgrp_lookup_absent",				-ENOENT },
	{ "cgrp_delete_absent",				-ENOENT },
	{ "cgrp_update_exist_absent",			-ENOENT },
	{ "cgrp_update_noexist_exist",			-EINVAL },
	{ "cgrp_update_flag_unknown",			-EINVAL },
	{ "cgrp_update_lock_no_lock",			-EINVAL },
	{ "cgrp_update_noexist_absent",			0 },
	{ "cgrp_update_noexist_present",		-EEXIST },
	{ "cgrp_update_exist_present",			0 },
	{ "cgrp_update_any_present",			0 },
	{ "cgrp_lookup_present",			0 },
	{ "cgrp_lookup_present_value",			INIT_V + 3 },
	{ "cgrp_update_exist_absent_other",		-ENOENT },
	{ "cgrp_lookup_absent_other",			-ENOENT },
	{ "cgrp_delete_absent_other",			-ENOENT },
	{ "cgrp_update_noexist_absent_other",		0 },
	{ "cgrp_delete_present_other",			0 },
	{ "cgrp_get_next_key",				-ENOTSUPP },
	{ "cgrp_lookup_and_delete",			-ENOTSUPP },
	{ "cgrp_lookup_batch",				-ENOTSUPP },
	{ "cgrp_delete_present",			0 },
	{ "cgrp_delete_again",				-ENOENT },
	{ "cgrp_lookup_deleted",			-ENOENT },
	{ "cgrp_lookup_lock_absent",			-ENOENT },
	{ "cgrp_update_lock_exist_absent",		-ENOENT },
	{ "cgrp_update_lock_any_absent",		0 },
	{ "cgrp_update_lock_noexist_present",		-EEXIST },
	{ "cgrp_update_lock_exist_present",		0 },
	{ "cgrp_update_lock_any_present",		0 },
	{ "cgrp_lookup_lock_present",			0 },
	{ "cgrp_lookup_lock_present_value",		INIT_V + 5 },
	{ "cgrp_update_no_lock_flag_lock_map",		0 },
	{ "cgrp_delete_lock_present",			0 },
	{ "cgrp_update_lock_exist_absent_other",	-ENOENT },
	{ "cgrp_update_lock_any_absent_other",		0 },
	{ "cgrp_delete_lock_other",			0 },
	{ "cgrp_lookup_dead",				-ENOENT },
	{ "cgrp_update_dead",				-ENOENT },
	{ "cgrp_delete_dead",				-ENOENT },
	/* cgroup storage: helpers */
	{ "cgrp_h_get_bad_flags_absent",		0 },
	{ "cgrp_h_get_create_bad_flags_absent",		0 },
	{ "cgrp_h_get_high_flags_absent",		0 },
	{ "cgrp_h_get_absent",				0 },
	{ "cgrp_h_delete_absent",			-ENOENT },
	{ "cgrp_h_get_create_init",			1 },
	{ "cgrp_h_get_create_init_value",		INIT_V },
	{ "cgrp_h_get_create_other_map",		1 },
	{ "cgrp_h_delete_other_map",			0 },
	{ "cgrp_h_get_create_present",			1 },
	{ "cgrp_h_get_create_present_value",		INIT_V },
	{ "cgrp_h_get_present",				1 },
	{ "cgrp_h_get_bad_flags_present",		0 },
	{ "cgrp_h_delete_present",			0 },
	{ "cgrp_h_delete_again",			-ENOENT },
	{ "cgrp_h_get_create_no_init",			1 },
	{ "cgrp_h_get_create_no_init_value",		0 },
	{ "cgrp_h_delete_no_init",			0 },
	{ "cgrp_h_get_null_owner",			0 },
	{ "cgrp_h_delete_null_owner",			-EINVAL },
	/* inode storage: map creation */
	{ "inode_create_value_size_0",			-EINVAL },
	{ "inode_create_value_size_max",		0 },
	{ "inode_create_value_size_max_plus_1",		-E2BIG },
	{ "inode_create_no_prealloc_missing",		-EINVAL },
	{ "inode_create_flags_unknown",			-EINVAL },
	{ "inode_create_flags_rdonly_prog",		-EINVAL },
	{ "inode_create_flags_clone",			0 },
	{ "inode_create_key_size_0",			-EINVAL },
	{ "inode_create_key_size_8",			-EINVAL },
	{ "inode_create_max_entries_1",			-EINVAL },
	{ "inode_create_no_btf",			-EINVAL },
	{ "inode_create_btf_key_struct",		-EINVAL },
	{ "inode_create_btf_key_unsigned",		0 },
	{ "inode_create_spin_lock",			0 },
	{ "inode_create_timer",				-EOPNOTSUPP },
	{ "inode_create_uptr",				-EOPNOTSUPP },
	/* inode storage: syscalls */
	{ "inode_update_o_path",			0 },
	{ "inode_lookup_o_path",			0 },
	{ "inode_lookup_o_path_same_inode",		0 },
	{ "inode_delete_o_path",			0 },
	{ "inode_update_dir",				0 },
	{ "inode_delete_dir",				0 },
	{ "inode_update_socket",			0 },
	{ "inode_delete_socket",			0 },
	{ "inode_lookup_fd_neg",			-EBADF },
	{ "inode_update_fd_neg",			-EBADF },
	{ "inode_delete_fd_neg",			-EBADF },
	{ "inode_lookup_fd_closed",			-EBADF },
	{ "inode_lookup_fd_wrong",			-ENOENT },
	{ "inode_update_fd_wrong",			0 },
	{ "inode_delete_fd_wrong",			0 },
	{ "inode_lookup_absent",			-ENOENT },
	{ "inode_delete_absent",			-ENOENT },
	{ "inode_update_exist_absent",			-ENOENT },
	{ "inode_update_noexist_exist",			-EINVAL },
	{ "inode_update_flag_unknown",			-EINVAL },
	{ "inode_update_lock_no_lock",			-EINVAL },
	{ "inode_update_noexist_absent",		0 },
	{ "inode_update_noexist_present",		-EEXIST },
	{ "inode_update_exist_present",			0 },
	{ "inode_update_any_present",			0 },
	{ "inode_lookup_present",			0 },
	{ "inode_lookup_present_value",			INIT_V + 3 },
	{ "inode_update_exist_absent_other",		-ENOENT },
	{ "inode_lookup_absent_other",			-ENOENT },
	{ "inode_delete_absent_other",			-ENOENT },
	{ "inode_update_noexist_absent_other",		0 },
	{ "inode_delete_present_other",			0 },
	{ "inode_get_next_key",				-ENOTSUPP },
	{ "inode_lookup_and_delete",			-ENOTSUPP },
	{ "inode_lookup_batch",				-ENOTSUPP },
	{ "inode_delete_present",			0 },
	{ "inode_delete_again",				-ENOENT },
	{ "inode_lookup_deleted",			-ENOENT },
	{ "inode_lookup_lock_absent",			-ENOENT },
	{ "inode_update_lock_exist_absent",		-ENOENT },
	{ "inode_update_lock_any_absent",		0 },
	{ "inode_update_lock_noexist_present",		-EEXIST },
	{ "inode_update_lock_exist_present",		0 },
	{ "inode_update_lock_any_present",		0 },
	{ "inode_lookup_lock_present",			0 },
	{ "inode_lookup_lock_present_value",		INIT_V + 5 },
	{ "inode_update_no_lock_flag_lock_map",		0 },
	{ "inode_delete_lock_present",			0 },
	{ "inode_update_lock_exist_absent_other",	-ENOENT },
	{ "inode_update_lock_any_absent_other",		0 },
	{ "inode_delete_lock_other",			0 },
	{ "inode_lookup_dead",				-ENOENT },
	{ "inode_update_dead",				0 },
	{ "inode_delete_dead",				0 },
	/* inode storage: helpers */
	{ "inode_h_get_bad_flags_absent",		0 },
	{ "inode_h_get_create_bad_flags_absent",	0 },
	{ "inode_h_get_high_flags_absent",		0 },
	{ "inode_h_get_absent",				0 },
	{ "inode_h_delete_absent",			-ENOENT },
	{ "inode_h_get_create_init",			1 },
	{ "inode_h_get_create_init_value",		INIT_V },
	{ "inode_h_get_create_other_map",		1 },
	{ "inode_h_delete_other_map",			0 },
	{ "inode_h_get_create_present",			1 },
	{ "inode_h_get_create_present_value",		INIT_V },
	{ "inode_h_get_present",			1 },
	{ "inode_h_get_bad_flags_present",		0 },
	{ "inode_h_delete_present",			0 },
	{ "inode_h_delete_again",			-ENOENT },
	{ "inode_h_get_create_no_init",			1 },
	{ "inode_h_get_create_no_init_value",		0 },
	{ "inode_h_delete_no_init",			0 },
	{ "inode_h_get_null_owner",			0 },
	{ "inode_h_delete_null_owner",			-EINVAL },
	/* socket storage: map creation */
	{ "sk_create_value_size_0",			-EINVAL },
	{ "sk_create_value_size_max",			0 },
	{ "sk_create_value_size_max_plus_1",		-E2BIG },
	{ "sk_create_no_prealloc_missing",		-EINVAL },
	{ "sk_create_flags_unknown",			-EINVAL },
	{ "sk_create_flags_rdonly_prog",		-EINVAL },
	{ "sk_create_flags_clone",			0 },
	{ "sk_create_key_size_0",			-EINVAL },
	{ "sk_create_key_size_8",			-EINVAL },
	{ "sk_create_max_entries_1",			-EINVAL },
	{ "sk_create_no_btf",				-EINVAL },
	{ "sk_create_btf_key_struct",			-EINVAL },
	{ "sk_create_btf_key_unsigned",			0 },
	{ "sk_create_spin_lock",			0 },
	{ "sk_create_timer",				-EOPNOTSUPP },
	{ "sk_create_uptr",				-EOPNOTSUPP },
	/* socket storage: syscalls */
	{ "sk_lookup_fd_pidfd",				-ENOTSOCK },
	{ "sk_update_udp6",				0 },
	{ "sk_update_unix",				0 },
	{ "sk_update_netlink",				0 },
	{ "sk_update_listener",				0 },
	{ "sk_lookup_accepted",				-ENOENT },
	{ "sk_lookup_fd_neg",				-EBADF },
	{ "sk_update_fd_neg",				-EBADF },
	{ "sk_delete_fd_neg",				-EBADF },
	{ "sk_lookup_fd_closed",			-EBADF },
	{ "sk_lookup_fd_wrong",				-ENOTSOCK },
	{ "sk_update_fd_wrong",				-ENOTSOCK },
	{ "sk_delete_fd_wrong",				-ENOTSOCK },
	{ "sk_lookup_absent",				-ENOENT },
	{ "sk_delete_absent",				-ENOENT },
	{ "sk_update_exist_absent",			-ENOENT },
	{ "sk_update_noexist_exist",			-EINVAL },
	{ "sk_update_flag_unknown",			-EINVAL },
	{ "sk_update_lock_no_lock",			-EINVAL },
	{ "sk_update_noexist_absent",			0 },
	{ "sk_update_noexist_present",			-EEXIST },
	{ "sk_update_exist_present",			0 },
	{ "sk_update_any_present",			0 },
	{ "sk_lookup_present",				0 },
	{ "sk_lookup_present_value",			INIT_V + 3 },
	{ "sk_update_exist_absent_other",		-ENOENT },
	{ "sk_lookup_absent_other",			-ENOENT },
	{ "sk_delete_absent_other",			-ENOENT },
	{ "sk_update_noexist_absent_other",		0 },
	{ "sk_delete_present_other",			0 },
	{ "sk_get_next_key",				-ENOTSUPP },
	{ "sk_lookup_and_delete",			-ENOTSUPP },
	{ "sk_lookup_batch",				-ENOTSUPP },
	{ "sk_delete_present",				0 },
	{ "sk_delete_again",				-ENOENT },
	{ "sk_lookup_deleted",				-ENOENT },
	{ "sk_lookup_lock_absent",			-ENOENT },
	{ "sk_update_lock_exist_absent",		-ENOENT },
	{ "sk_update_lock_any_absent",			0 },
	{ "sk_update_lock_noexist_present",		-EEXIST },
	{ "sk_update_lock_exist_present",		0 },
	{ "sk_update_lock_any_present",			0 },
	{ "sk_lookup_lock_present",			0 },
	{ "sk_lookup_lock_present_value",		INIT_V + 5 },
	{ "sk_update_no_lock_flag_lock_map",		0 },
	{ "sk_delete_lock_present",			0 },
	{ "sk_update_lock_exist_absent_other",		-ENOENT },
	{ "sk_update_lock_any_absent_other",		0 },
	{ "sk_delete_lock_other",			0 },
	{ "sk_lookup_dead",				-ENOENT },
	{ "sk_update_dead",				0 },
	{ "sk_delete_dead",				0 },
	{ "sk_update_over_optmem",			-ENOMEM },
	{ "sk_update_under_optmem",			0 },
	{ "sk_update_second_over_optmem",		-ENOMEM },
	{ "sk_delete_under_optmem",			0 },
	{ "sk_update_second_after_delete",		0 },
	{ "sk_update_big_after_restore",		0 },
	{ "sk_update_listener_clone",			0 },
	{ "sk_update_listener_no_clone",		0 },
	{ "sk_lookup_accepted_clone",			0 },
	{ "sk_lookup_accepted_clone_value",		INIT_V },
	{ "sk_lookup_accepted_no_clone",		-ENOENT },
	{ "sk_lookup_client_clone",			-ENOENT },
	{ "sk_lookup_helper_created",			0 },
	{ "sk_lookup_helper_created_value",		INIT_V },
	{ "sk_lookup_helper_created_accepted",		-ENOENT },
	/* socket storage: helpers */
	{ "sk_h_get_bad_flags_absent",			0 },
	{ "sk_h_get_create_bad_flags_absent",		0 },
	{ "sk_h_get_high_flags_absent",			0 },
	{ "sk_h_get_absent",				0 },
	{ "sk_h_delete_absent",				-ENOENT },
	{ "sk_h_get_create_init",			1 },
	{ "sk_h_get_create_init_value",			INIT_V },
	{ "sk_h_get_create_other_map",			1 },
	{ "sk_h_delete_other_map",			0 },
	{ "sk_h_get_create_present",			1 },
	{ "sk_h_get_create_present_value",		INIT_V },
	{ "sk_h_get_present",				1 },
	{ "sk_h_get_bad_flags_present",			0 },
	{ "sk_h_delete_present",			0 },
	{ "sk_h_delete_again",				-ENOENT },
	{ "sk_h_get_create_no_init",			1 },
	{ "sk_h_get_create_no_init_value",		0 },
	{ "sk_h_delete_no_init",			0 },
	{ "sk_h_get_create_kept",			1 },
	{ "sk_h_get_create_over_optmem",		0 },
	{ "sk_h_get_kept_value",			INIT_V },
	{ "sk_h_get_reqsk",				0 },
	{ "sk_h_get_create_reqsk",			0 },
	{ "sk_h_delete_reqsk",				-EINVAL },
};

static struct btf *btf;
static int btf_fd = -1;
static __u32 max_value_size;

static struct {
	__u32 i32, u32, val, val8, lval, big, omem, big4k, k4, timer_val;
	__u32 uval, ulval;
} id;

static struct ls_case *find_case(const char *name)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++)
		if (!strcmp(cases[i].name, name))
			return &cases[i];
	return NULL;
}

static void rec(const char *type, const char *what, int actual)
{
	struct ls_case *c;
	char name[128];

	snprintf(name, sizeof(name), "%s_%s", type, what);
	printf("case %s: actual %d\n", name, actual);
	c = find_case(name);
	if (!ASSERT_OK_PTR(c, "case in the table"))
		return;
	ASSERT_EQ(c->actual, NOT_RUN, "case recorded twice");
	c->actual = actual;
}

/* A helper case, from the global the BPF side stored it in; needs skel */
#define REC_H(type, what) rec(#type, "h_" #what, skel->data->type##_h_##what)

/* The BPF_LOCAL_STORAGE_MAX_VALUE_SIZE of the running kernel */
static __u32 local_storage_max_value_size(void)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();
	__u64 kmalloc_max = (__u64)getpagesize() << MAX_PAGE_ORDER;
	__u32 elem;
	int tid;

	if (!ASSERT_OK_PTR(vmlinux, "btf__load_vmlinux_btf"))
		return 0;
	tid = btf__find_by_name_kind(vmlinux, "bpf_local_storage_elem",
				     BTF_KIND_STRUCT);
	elem = tid > 0 ? btf__resolve_size(vmlinux, tid) : 0;
	btf__free(vmlinux);
	if (!ASSERT_GT(elem, 0, "sizeof(struct bpf_local_storage_elem)"))
		return 0;
	if (kmalloc_max - MAX_BPF_STACK < USHRT_MAX)
		return kmalloc_max - MAX_BPF_STACK - elem;
	return USHRT_MAX - elem;
}

static __u32 add_char_struct(const char *name, const char *field, __u32 char_id, __u32 n)
{
	__u32 arr = btf__add_array(btf, id.i32, char_id, n);
	__u32 s = btf__add_struct(btf, name, n);

	btf__add_field(btf, field, arr, 0, 0);
	return s;
}

/*
 * The BTF of every key and value the syscall cases use: a plain int value,
 * one with a bpf_spin_lock, one with a bpf_timer, values of a given size,
 * and uptr values (struct user_data __uptr *).
 */
static int make_btf(void)
{
	__u32 char_id, u64_id, lock, timer, udata, uptr;

	btf = btf__new_empty();
	if (!ASSERT_OK_PTR(btf, "btf__new_empty"))
		return -1;
	id.i32 = btf__add_int(btf, "int", 4, BTF_INT_SIGNED);
	id.u32 = btf__add_int(btf, "unsigned int", 4, 0);
	char_id = btf__add_int(btf, "char", 1, BTF_INT_SIGNED);
	u64_id = btf__add_int(btf, "long long unsigned int", 8, 0);

	id.val = btf__add_struct(btf, "val", 4);
	btf__add_field(btf, "v", id.i32, 0, 0);
	id.val8 = btf__add_struct(btf, "val8", 8);
	btf__add_field(btf, "v", id.i32, 0, 0);
	btf__add_field(btf, "w", id.i32, 32, 0);
	id.k4 = btf__add_struct(btf, "k4", 4);
	btf__add_field(btf, "k", id.i32, 0, 0);

	lock = btf__add_struct(btf, "bpf_spin_lock", 4);
	btf__add_field(btf, "val", id.u32, 0, 0);
	id.lval = btf__add_struct(btf, "lval", 8);
	btf__add_field(btf, "lock", lock, 0, 0);
	btf__add_field(btf, "v", id.i32, 32, 0);

	timer = btf__add_struct(btf, "bpf_timer", 16);
	btf__add_field(btf, "a", u64_id, 0, 0);
	btf__add_field(btf, "b", u64_id, 64, 0);
	id.timer_val = btf__add_struct(btf, "tval", 16);
	btf__add_field(btf, "t", timer, 0, 0);

	id.big = add_char_struct("big", "b", char_id, max_value_size);
	id.omem = add_char_struct("omem", "b", char_id, OMEM_VALUE);
	id.big4k = add_char_struct("big4k", "b", char_id, BIG_VALUE);

	udata = btf__add_struct(btf, "user_data", 8);
	btf__add_field(btf, "a", id.i32, 0, 0);
	btf__add_field(btf, "b", id.i32, 32, 0);
	uptr = btf__add_ptr(btf, btf__add_type_tag(btf, "uptr", udata));
	id.uval = btf__add_struct(btf, "uval", 8);
	btf__add_field(btf, "udata", uptr, 0, 0);
	id.ulval = btf__add_struct(btf, "ulval", 16);
	btf__add_field(btf, "udata", uptr, 0, 0);
	btf__add_field(btf, "lock", lock, 64, 0);
	btf__add_field(btf, "v", id.i32, 96, 0);

	if (!ASSERT_OK(btf__load_into_kernel(btf), "btf__load_into_kernel"))
		return -1;
	btf_fd = btf__fd(btf);
	return 0;
}

static int create_map(enum bpf_map_type type, __u32 key_size, __u32 value_size,
		      __u32 max_entries, __u32 flags, __u32 key_id, __u32 value_id)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts);

	opts.map_flags = flags;
	opts.btf_fd = btf_fd;
	opts.btf_key_type_id = key_id;
	opts.btf_value_type_id = value_id;

	return bpf_map_create(type, "ls_errno", key_size, value_size,
			      max_entries, &opts);
}

/* 0 if the map could be created, else the errno */
static int try_create(enum bpf_map_type type, __u32 key_size, __u32 value_size,
		      __u32 max_entries, __u32 flags, __u32 key_id, __u32 value_id)
{
	int fd = create_map(type, key_size, value_size, max_entries, flags,
			    key_id, value_id);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

static void create_cases(const char *t, enum bpf_map_type type)
{
	const __u32 np = BPF_F_NO_PREALLOC;

	rec(t, "create_value_size_0", try_create(type, 4, 0, 0, np, id.i32, id.val));
	rec(t, "create_value_size_max",
	    try_create(type, 4, max_value_size, 0, np, id.i32, id.big));
	rec(t, "create_value_size_max_plus_1",
	    try_create(type, 4, max_value_size + 1, 0, np, id.i32, id.big));
	rec(t, "create_no_prealloc_missing", try_create(type, 4, 4, 0, 0, id.i32, id.val));
	rec(t, "create_flags_unknown",
	    try_create(type, 4, 4, 0, np | BPF_F_NO_COMMON_LRU, id.i32, id.val));
	rec(t, "create_flags_rdonly_prog",
	    try_create(type, 4, 4, 0, np | BPF_F_RDONLY_PROG, id.i32, id.val));
	rec(t, "create_flags_clone",
	    try_create(type, 4, 4, 0, np | BPF_F_CLONE, id.i32, id.val));
	rec(t, "create_key_size_0", try_create(type, 0, 4, 0, np, 0, id.val));
	rec(t, "create_key_size_8", try_create(type, 8, 4, 0, np, id.val8, id.val));
	rec(t, "create_max_entries_1", try_create(type, 4, 4, 1, np, id.i32, id.val));
	rec(t, "create_no_btf", try_create(type, 4, 4, 0, np, 0, 0));
	rec(t, "create_btf_key_struct", try_create(type, 4, 4, 0, np, id.k4, id.val));
	rec(t, "create_btf_key_unsigned", try_create(type, 4, 4, 0, np, id.u32, id.val));
	rec(t, "create_spin_lock", try_create(type, 4, 8, 0, np, id.i32, id.lval));
	rec(t, "create_timer", try_create(type, 4, 16, 0, np, id.i32, id.timer_val));
	rec(t, "create_uptr", try_create(type, 4, 8, 0, np, id.i32, id.uval));
}

struct owner {
	const char *t;
	enum bpf_map_type type;
	int fd;		/* a live owner */
	int wrong_fd;	/* an fd of another kind */
	int dead_fd;	/* an owner that is gone, or -1 */
};

struct lval {
	__u32 lock;
	int v;
};

static int update(int map, int key, int v, __u64 flags)
{
	return bpf_map_update_elem(map, &key, &v, flags);
}

static int lookup(int map, int key, __u64 flags)
{
	int v[2];

	return bpf_map_lookup_elem_flags(map, &key, v, flags);
}

static int lookup_value(int map, int key, __u64 flags, int off)
{
	int v[2] = { NOT_RUN, NOT_RUN };
	int err = bpf_map_lookup_elem_flags(map, &key, v, flags);

	return err ?: v[off];
}

static int lupdate(int map, int key, int v, __u64 flags)
{
	struct lval lv = { .v = v };

	return bpf_map_update_elem(map, &key, &lv, flags);
}

static int closed_fd(void)
{
	int fd = open("/dev/null", O_RDONLY);

	close(fd);
	return fd;
}

/* The syscall cases every backend has, on owner o */
static void syscall_cases(const struct owner *o)
{
	const char *t = o->t;
	int map, map2, lmap, key, next, err;
	__u32 count = 1;
	int keys[1], vals[2];

	map = create_map(o->type, 4, 4, 0, BPF_F_NO_PREALLOC, id.i32, id.val);
	map2 = create_map(o->type, 4, 4, 0, BPF_F_NO_PREALLOC, id.i32, id.val);
	lmap = create_map(o->type, 4, 8, 0, BPF_F_NO_PREALLOC, id.i32, id.lval);
	if (!ASSERT_GE(map, 0, "map") || !ASSERT_GE(map2, 0, "map2") ||
	    !ASSERT_GE(lmap, 0, "lmap"))
		goto out;

	rec(t, "lookup_fd_neg", lookup(map, -1, 0));
	rec(t, "update_fd_neg", update(map, -1, 1, 0));
	key = -1;
	rec(t, "delete_fd_neg", bpf_map_delete_elem(map, &key));
	rec(t, "lookup_fd_closed", lookup(map, closed_fd(), 0));
	rec(t, "lookup_fd_wrong", lookup(map, o->wrong_fd, 0));
	rec(t, "update_fd_wrong", update(map, o->wrong_fd, 1, 0));
	rec(t, "delete_fd_wrong", bpf_map_delete_elem(map, &o->wrong_fd));

	/* no element of any map on the owner */
	rec(t, "lookup_absent", lookup(map, o->fd, 0));
	rec(t, "delete_absent", bpf_map_delete_elem(map, &o->fd));
	rec(t, "update_exist_absent", update(map, o->fd, 1, BPF_EXIST));
	rec(t, "update_noexist_exist", update(map, o->fd, 1, BPF_NOEXIST | BPF_EXIST));
	rec(t, "update_flag_unknown", update(map, o->fd, 1, 1ULL << 5));
	rec(t, "update_lock_no_lock", update(map, o->fd, 1, BPF_F_LOCK));

	rec(t, "update_noexist_absent", update(map, o->fd, INIT_V, BPF_NOEXIST));
	rec(t, "update_noexist_present", update(map, o->fd, INIT_V + 1, BPF_NOEXIST));
	rec(t, "update_exist_present", update(map, o->fd, INIT_V + 2, BPF_EXIST));
	rec(t, "update_any_present", update(map, o->fd, INIT_V + 3, BPF_ANY));
	rec(t, "lookup_present", lookup(map, o->fd, 0));
	rec(t, "lookup_present_value", lookup_value(map, o->fd, 0, 0));

	/* the owner has storage, with an element of map but not of map2 */
	rec(t, "update_exist_absent_other", update(map2, o->fd, 1, BPF_EXIST));
	rec(t, "lookup_absent_other", lookup(map2, o->fd, 0));
	rec(t, "delete_absent_other", bpf_map_delete_elem(map2, &o->fd));
	rec(t, "update_noexist_absent_other", update(map2, o->fd, 1, BPF_NOEXIST));
	rec(t, "delete_present_other", bpf_map_delete_elem(map2, &o->fd));

	rec(t, "get_next_key", bpf_map_get_next_key(map, &o->fd, &next));
	key = o->fd;
	rec(t, "lookup_and_delete", bpf_map_lookup_and_delete_elem(map, &key, vals));
	rec(t, "lookup_batch", bpf_map_lookup_batch(map, NULL, &next, keys, vals,
						    &count, NULL));
	rec(t, "delete_present", bpf_map_delete_elem(map, &o->fd));
	rec(t, "delete_again", bpf_map_delete_elem(map, &o->fd));
	rec(t, "lookup_deleted", lookup(map, o->fd, 0));

	/* BPF_F_LOCK on a value with a bpf_spin_lock */
	rec(t, "lookup_lock_absent", lookup(lmap, o->fd, BPF_F_LOCK));
	rec(t, "update_lock_exist_absent",
	    lupdate(lmap, o->fd, 1, BPF_F_LOCK | BPF_EXIST));
	rec(t, "update_lock_any_absent", lupdate(lmap, o->fd, INIT_V, BPF_F_LOCK));
	rec(t, "update_lock_noexist_present",
	    lupdate(lmap, o->fd, 1, BPF_F_LOCK | BPF_NOEXIST));
	rec(t, "update_lock_exist_present",
	    lupdate(lmap, o->fd, INIT_V + 4, BPF_F_LOCK | BPF_EXIST));
	rec(t, "update_lock_any_present", lupdate(lmap, o->fd, INIT_V + 5, BPF_F_LOCK));
	rec(t, "lookup_lock_present", lookup(lmap, o->fd, BPF_F_LOCK));
	rec(t, "lookup_lock_present_value", lookup_value(lmap, o->fd, BPF_F_LOCK, 1));
	rec(t, "update_no_lock_flag_lock_map", lupdate(lmap, o->fd, 1, BPF_ANY));
	rec(t, "delete_lock_present", bpf_map_delete_elem(lmap, &o->fd));
	/* the owner has storage, with an element of map but not of lmap */
	err = update(map, o->fd, 1, BPF_ANY);
	ASSERT_OK(err, "update map");
	rec(t, "update_lock_exist_absent_other",
	    lupdate(lmap, o->fd, 1, BPF_F_LOCK | BPF_EXIST));
	rec(t, "update_lock_any_absent_other", lupdate(lmap, o->fd, 1, BPF_F_LOCK));
	rec(t, "delete_lock_other", bpf_map_delete_elem(lmap, &o->fd));
	bpf_map_delete_elem(map, &o->fd);

	if (o->dead_fd >= 0) {
		rec(t, "lookup_dead", lookup(map, o->dead_fd, 0));
		rec(t, "update_dead", update(map, o->dead_fd, 1, BPF_ANY));
		rec(t, "delete_dead", bpf_map_delete_elem(map, &o->dead_fd));
	}
out:
	close(map);
	close(map2);
	close(lmap);
}

/* A child that has exited: a zombie until reaped. Returns its pidfd. */
static int exited_child(void)
{
	siginfo_t info;
	int pid, pidfd;

	pid = fork();
	if (pid == 0)
		_exit(0);
	if (!ASSERT_GT(pid, 0, "fork"))
		return -1;
	pidfd = sys_pidfd_open(pid, 0);
	if (!ASSERT_GE(pidfd, 0, "pidfd_open")) {
		waitpid(pid, NULL, 0);
		return -1;
	}
	/* wait until it is a zombie, without reaping it */
	if (!ASSERT_OK(waitid(P_PIDFD, pidfd, &info, WEXITED | WNOWAIT), "waitid")) {
		close(pidfd);
		waitpid(pid, NULL, 0);
		return -1;
	}
	return pidfd;
}

static void reap(int pidfd)
{
	siginfo_t info;

	ASSERT_OK(waitid(P_PIDFD, pidfd, &info, WEXITED), "reap");
}

static int uptr_update(int map, int key, void *udata, __u64 flags)
{
	struct {
		void *udata;
		__u32 lock;
		int v;
	} val = { .udata = udata };

	return bpf_map_update_elem(map, &key, &val, flags);
}

static void task_uptr_cases(int self)
{
	long page = getpagesize();
	char *pages, *ro;
	int umap, ulmap;

	umap = create_map(BPF_MAP_TYPE_TASK_STORAGE, 4, 8, 0, BPF_F_NO_PREALLOC,
			  id.i32, id.uval);
	ulmap = create_map(BPF_MAP_TYPE_TASK_STORAGE, 4, 16, 0, BPF_F_NO_PREALLOC,
			   id.i32, id.ulval);
	pages = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ro = mmap(NULL, 2 * page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!ASSERT_GE(umap, 0, "uptr map") || !ASSERT_GE(ulmap, 0, "uptr lock map") ||
	    !ASSERT_NEQ(pages, MAP_FAILED, "mmap") || !ASSERT_NEQ(ro, MAP_FAILED, "mmap ro"))
		goto out;
	/* the second page of ro cannot be accessed at all */
	ASSERT_OK(mprotect(ro + page, page, PROT_NONE), "mprotect");
	pages[0] = 1;

	rec("task", "update_uptr", uptr_update(umap, self, pages, BPF_ANY));
	rec("task", "lookup_uptr", lookup(umap, self, 0));
	rec("task", "update_uptr_null", uptr_update(umap, self, NULL, BPF_ANY));
	rec("task", "update_uptr_lock_no_lock",
	    uptr_update(umap, self, pages, BPF_F_LOCK));
	rec("task", "update_uptr_lock", uptr_update(ulmap, self, pages, BPF_F_LOCK));
	rec("task", "update_uptr_spin_lock_no_flag",
	    uptr_update(ulmap, self, pages, BPF_ANY));
	rec("task", "update_uptr_across_pages",
	    uptr_update(umap, self, pages + page - 4, BPF_ANY));
	rec("task", "update_uptr_overflow", uptr_update(umap, self, (void *)-4L, BPF_ANY));
	rec("task", "update_uptr_prot_none",
	    uptr_update(umap, self, ro + page, BPF_ANY));
	rec("task", "update_uptr_read_only", uptr_update(umap, self, ro, BPF_ANY));
	bpf_map_delete_elem(ulmap, &self);
	bpf_map_delete_elem(umap, &self);
	rec("task", "update_uptr_exist_absent",
	    uptr_update(umap, self, pages, BPF_EXIST));
	uptr_update(umap, self, pages, BPF_ANY);
	rec("task", "delete_uptr", bpf_map_delete_elem(umap, &self));
out:
	if (pages != MAP_FAILED)
		munmap(pages, 2 * page);
	if (ro != MAP_FAILED)
		munmap(ro, 2 * page);
	close(umap);
	close(ulmap);
}

static void task_cases(void)
{
	struct owner o = { .t = "task", .type = BPF_MAP_TYPE_TASK_STORAGE };
	int self, zombie, file, procdir, map;

	self = sys_pidfd_open(getpid(), 0);
	file = open("/proc/self/status", O_RDONLY);
	procdir = open("/proc/self", O_RDONLY | O_DIRECTORY);
	zombie = exited_child();
	if (!ASSERT_GE(self, 0, "pidfd_open") || !ASSERT_GE(file, 0, "open") ||
	    !ASSERT_GE(procdir, 0, "open /proc/self") || zombie < 0)
		goto out;

	map = create_map(o.type, 4, 4, 0, BPF_F_NO_PREALLOC, id.i32, id.val);
	if (ASSERT_GE(map, 0, "map")) {
		rec("task", "lookup_fd_procfs_dir", lookup(map, procdir, 0));
		rec("task", "update_zombie", update(map, zombie, 1, BPF_ANY));
		rec("task", "lookup_zombie", lookup(map, zombie, 0));
		rec("task", "delete_zombie", bpf_map_delete_elem(map, &zombie));
		close(map);
	}
	/* reaped: the pidfd stays, its task is gone */
	reap(zombie);

	o.fd = self;
	o.wrong_fd = file;
	o.dead_fd = zombie;
	create_cases(o.t, o.type);
	syscall_cases(&o);
	task_uptr_cases(self);
out:
	close(self);
	close(file);
	close(procdir);
	if (zombie >= 0)
		close(zombie);
}

static void cgrp_cases(void)
{
	struct owner o = { .t = "cgrp", .type = BPF_MAP_TYPE_CGRP_STORAGE };
	int cg, dead, sock, procs, dir, map;

	cg = test__join_cgroup("/ls_errno");
	dead = create_and_get_cgroup("/ls_errno/dead");
	sock = socket(AF_INET, SOCK_STREAM, 0);
	if (!ASSERT_GE(cg, 0, "join cgroup") || !ASSERT_GE(dead, 0, "cgroup dead") ||
	    !ASSERT_GE(sock, 0, "socket"))
		goto out;
	/* rmdir kills the cgroup; the fd of its directory stays */
	remove_cgroup("/ls_errno/dead");

	map = create_map(o.type, 4, 4, 0, BPF_F_NO_PREALLOC, id.i32, id.val);
	procs = openat(cg, "cgroup.procs", O_RDONLY);
	dir = open("/proc", O_RDONLY | O_DIRECTORY);
	if (ASSERT_GE(map, 0, "map") && ASSERT_GE(procs, 0, "cgroup.procs") &&
	    ASSERT_GE(dir, 0, "open /proc")) {
		rec("cgrp", "lookup_fd_cgroup_file", lookup(map, procs, 0));
		rec("cgrp", "update_fd_cgroup_file", update(map, procs, 1, 0));
		rec("cgrp", "update_fd_non_cgroup_dir", update(map, dir, 1, 0));
	}
	close(procs);
	close(dir);
	close(map);

	o.fd = cg;
	o.wrong_fd = sock;
	o.dead_fd = dead;
	create_cases(o.t, o.type);
	syscall_cases(&o);
out:
	close(cg);
	close(dead);
	close(sock);
}

static void inode_cases(const char *path, int fd)
{
	struct owner o = { .t = "inode", .type = BPF_MAP_TYPE_INODE_STORAGE };
	char dead_path[] = "/tmp/ls_errno_dead_XXXXXX";
	int efd, dead, opath, dir, sock, map;

	efd = eventfd(0, 0);
	dead = mkstemp(dead_path);
	opath = open(path, O_PATH);
	dir = open("/tmp", O_RDONLY | O_DIRECTORY);
	sock = socket(AF_INET, SOCK_STREAM, 0);
	if (!ASSERT_GE(efd, 0, "eventfd") || !ASSERT_GE(dead, 0, "mkstemp") ||
	    !ASSERT_GE(opath, 0, "O_PATH") || !ASSERT_GE(dir, 0, "open /tmp") ||
	    !ASSERT_GE(sock, 0, "socket"))
		goto out;
	/* an unlinked file: its inode lives on while the fd is open */
	unlink(dead_path);

	map = create_map(o.type, 4, 4, 0, BPF_F_NO_PREALLOC, id.i32, id.val);
	if (ASSERT_GE(map, 0, "map")) {
		rec("inode", "update_o_path", update(map, opath, INIT_V, 0));
		rec("inode", "lookup_o_path", lookup(map, opath, 0));
		rec("inode", "lookup_o_path_same_inode", lookup(map, fd, 0));
		rec("inode", "delete_o_path", bpf_map_delete_elem(map, &opath));
		rec("inode", "update_dir", update(map, dir, 1, 0));
		rec("inode", "delete_dir", bpf_map_delete_elem(map, &dir));
		rec("inode", "update_socket", update(map, sock, 1, 0));
		rec("inode", "delete_socket", bpf_map_delete_elem(map, &sock));
		close(map);
	}

	o.fd = fd;
	o.wrong_fd = efd;
	o.dead_fd = dead;
	create_cases(o.t, o.type);
	syscall_cases(&o);
out:
	close(efd);
	close(dead);
	close(opath);
	close(dir);
	close(sock);
}

static int set_optmem_max(int v)
{
	char buf[32];
	int fd, n, ret;

	fd = open("/proc/sys/net/core/optmem_max", O_RDWR);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	ret = n > 0 ? atoi(buf) : -EIO;
	if (v > 0) {
		n = snprintf(buf, sizeof(buf), "%d\n", v);
		if (pwrite(fd, buf, n, 0) != n)
			ret = -errno;
	}
	close(fd);
	return ret;
}

/* A connected TCP pair on the loopback: *listener, *client, *server */
static int tcp_pair(int *listener, int *client, int *server)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t len = sizeof(addr);

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	*client = -1;
	*server = -1;
	*listener = socket(AF_INET, SOCK_STREAM, 0);
	if (*listener < 0 || bind(*listener, (void *)&addr, len) ||
	    listen(*listener, 1) || getsockname(*listener, (void *)&addr, &len))
		return -1;
	*client = socket(AF_INET, SOCK_STREAM, 0);
	if (*client < 0 || connect(*client, (void *)&addr, len))
		return -1;
	*server = accept(*listener, NULL, NULL);
	return *server < 0 ? -1 : 0;
}

static void close3(int a, int b, int c)
{
	close(a);
	close(b);
	close(c);
}

/* An update of a map whose values are up to BIG_VALUE bytes */
static int update_big(int map, int key)
{
	static char value[BIG_VALUE];

	return bpf_map_update_elem(map, &key, value, 0);
}

static void sk_optmem_cases(int optmem)
{
	int big, omem, omem2, sk;

	big = create_map(BPF_MAP_TYPE_SK_STORAGE, 4, BIG_VALUE, 0, BPF_F_NO_PREALLOC,
			 id.i32, id.big4k);
	omem = create_map(BPF_MAP_TYPE_SK_STORAGE, 4, OMEM_VALUE, 0, BPF_F_NO_PREALLOC,
			  id.i32, id.omem);
	omem2 = create_map(BPF_MAP_TYPE_SK_STORAGE, 4, OMEM_VALUE, 0, BPF_F_NO_PREALLOC,
			   id.i32, id.omem);
	sk = socket(AF_INET, SOCK_STREAM, 0);
	if (!ASSERT_GE(big, 0, "big map") || !ASSERT_GE(omem, 0, "omem map") ||
	    !ASSERT_GE(omem2, 0, "omem2 map") || !ASSERT_GE(sk, 0, "socket"))
		goto out;

	/*
	 * With optmem_max at OPTMEM_LOW, one element of OMEM_VALUE bytes
	 * and the storage fit, a second one does not, a BIG_VALUE one
	 * never does.
	 */
	if (!ASSERT_GE(set_optmem_max(OPTMEM_LOW), 0, "lower optmem_max"))
		goto out;
	rec("sk", "update_over_optmem", update_big(big, sk));
	rec("sk", "update_under_optmem", update_big(omem, sk));
	rec("sk", "update_second_over_optmem", update_big(omem2, sk));
	rec("sk", "delete_under_optmem", bpf_map_delete_elem(omem, &sk));
	/* the delete uncharged the first one */
	rec("sk", "update_second_after_delete", update_big(omem2, sk));
	set_optmem_max(optmem);
	rec("sk", "update_big_after_restore", update_big(big, sk));
out:
	close(sk);
	close3(big, omem, omem2);
}

static void sk_clone_cases(void)
{
	int clone, noclone, listener, client, server, v = INIT_V;
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t len = sizeof(addr);

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	clone = create_map(BPF_MAP_TYPE_SK_STORAGE, 4, 4, 0,
			   BPF_F_NO_PREALLOC | BPF_F_CLONE, id.i32, id.val);
	noclone = create_map(BPF_MAP_TYPE_SK_STORAGE, 4, 4, 0, BPF_F_NO_PREALLOC,
			     id.i32, id.val);
	client = socket(AF_INET, SOCK_STREAM, 0);
	listener = socket(AF_INET, SOCK_STREAM, 0);
	server = -1;
	if (!ASSERT_GE(clone, 0, "clone map") || !ASSERT_GE(noclone, 0, "map") ||
	    !ASSERT_GE(listener, 0, "socket") || !ASSERT_GE(client, 0, "socket") ||
	    !ASSERT_OK(bind(listener, (void *)&addr, len), "bind") ||
	    !ASSERT_OK(listen(listener, 1), "listen") ||
	    !ASSERT_OK(getsockname(listener, (void *)&addr, &len), "getsockname"))
		goto out;
	rec("sk", "update_listener_clone", update(clone, listener, v, 0));
	rec("sk", "update_listener_no_clone", update(noclone, listener, v, 0));
	if (!ASSERT_OK(connect(client, (void *)&addr, len), "connect"))
		goto out;
	server = accept(listener, NULL, NULL);
	if (!ASSERT_GE(server, 0, "accept"))
		goto out;
	/* the accepted socket got a copy of the BPF_F_CLONE element only */
	rec("sk", "lookup_accepted_clone", lookup(clone, server, 0));
	rec("sk", "lookup_accepted_clone_value", lookup_value(clone, server, 0, 0));
	rec("sk", "lookup_accepted_no_clone", lookup(noclone, server, 0));
	rec("sk", "lookup_client_clone", lookup(clone, client, 0));
out:
	close3(listener, client, server);
	close(clone);
	close(noclone);
}

static void sk_cases(void)
{
	struct owner o = { .t = "sk", .type = BPF_MAP_TYPE_SK_STORAGE };
	int sk, file, pidfd, udp, unx, nl, map, optmem;
	int listener = -1, client = -1, server = -1;

	optmem = set_optmem_max(0);
	sk = socket(AF_INET, SOCK_STREAM, 0);
	file = open("/proc/self/status", O_RDONLY);
	pidfd = sys_pidfd_open(getpid(), 0);
	udp = socket(AF_INET6, SOCK_DGRAM, 0);
	unx = socket(AF_UNIX, SOCK_STREAM, 0);
	nl = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	if (!ASSERT_GT(optmem, 0, "optmem_max") || !ASSERT_GE(sk, 0, "socket") ||
	    !ASSERT_GE(file, 0, "open") || !ASSERT_GE(pidfd, 0, "pidfd") ||
	    !ASSERT_GE(udp, 0, "udp") || !ASSERT_GE(unx, 0, "unix") ||
	    !ASSERT_GE(nl, 0, "netlink") ||
	    !ASSERT_OK(tcp_pair(&listener, &client, &server), "tcp pair"))
		goto out;
	/* a connected socket after shutdown(): the nearest to a dead sk */
	ASSERT_OK(shutdown(client, SHUT_RDWR), "shutdown");

	map = create_map(o.type, 4, 4, 0, BPF_F_NO_PREALLOC, id.i32, id.val);
	if (ASSERT_GE(map, 0, "map")) {
		rec("sk", "lookup_fd_pidfd", lookup(map, pidfd, 0));
		rec("sk", "update_udp6", update(map, udp, 1, 0));
		rec("sk", "update_unix", update(map, unx, 1, 0));
		rec("sk", "update_netlink", update(map, nl, 1, 0));
		rec("sk", "update_listener", update(map, listener, 1, 0));
		rec("sk", "lookup_accepted", lookup(map, server, 0));
		close(map);
	}

	o.fd = sk;
	o.wrong_fd = file;
	o.dead_fd = client;
	create_cases(o.t, o.type);
	syscall_cases(&o);
	sk_optmem_cases(optmem);
	sk_clone_cases();
out:
	close3(sk, file, pidfd);
	close3(udp, unx, nl);
	close3(listener, client, server);
}

#define REC_HELPER_CASES(type)						\
	do {								\
		REC_H(type, get_bad_flags_absent);			\
		REC_H(type, get_create_bad_flags_absent);		\
		REC_H(type, get_high_flags_absent);			\
		REC_H(type, get_absent);				\
		REC_H(type, delete_absent);				\
		REC_H(type, get_create_init);				\
		REC_H(type, get_create_init_value);			\
		REC_H(type, get_create_other_map);			\
		REC_H(type, delete_other_map);				\
		REC_H(type, get_create_present);			\
		REC_H(type, get_create_present_value);			\
		REC_H(type, get_present);				\
		REC_H(type, get_bad_flags_present);			\
		REC_H(type, delete_present);				\
		REC_H(type, delete_again);				\
		REC_H(type, get_create_no_init);			\
		REC_H(type, get_create_no_init_value);			\
		REC_H(type, delete_no_init);				\
	} while (0)

/*
 * The BPF programs run their cases when armed and triggered: on a
 * getpgid() of this thread (task, and cgroup of this thread), an open()
 * of the file (inode), a listen() with net.core.optmem_max lowered (sk)
 * and the SYN its listener gets (a request sock).
 */
static void helper_cases(const char *path, int optmem)
{
	struct local_storage_errno *skel;
	int fd, listener = -1, client = -1, server = -1, map;
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t len = sizeof(addr);

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	skel = local_storage_errno__open_and_load();
	if (!ASSERT_OK_PTR(skel, "open_and_load"))
		return;
	if (!ASSERT_OK(local_storage_errno__attach(skel), "attach"))
		goto out;
	skel->bss->target_tid = sys_gettid();

	skel->data->trigger_nr = __NR_getpgid;
	syscall(__NR_getpgid, 0);
	ASSERT_EQ(skel->data->trigger_nr, -1, "task and cgrp programs ran");

	skel->bss->inode_armed = 1;
	fd = open(path, O_RDONLY);
	skel->bss->inode_armed = 0;
	if (ASSERT_GE(fd, 0, "open"))
		close(fd);

	listener = socket(AF_INET, SOCK_STREAM, 0);
	client = socket(AF_INET, SOCK_STREAM, 0);
	if (!ASSERT_GE(listener, 0, "socket") || !ASSERT_GE(client, 0, "socket") ||
	    !ASSERT_OK(bind(listener, (void *)&addr, len), "bind"))
		goto out;
	if (!ASSERT_GE(set_optmem_max(OPTMEM_LOW), 0, "lower optmem_max"))
		goto out;
	skel->bss->sk_armed = 1;
	ASSERT_OK(listen(listener, 1), "listen");
	skel->bss->sk_armed = 0;
	set_optmem_max(optmem);
	ASSERT_OK(getsockname(listener, (void *)&addr, &len), "getsockname");
	skel->bss->listen_port = ntohs(addr.sin_port);
	skel->bss->req_armed = 1;
	if (ASSERT_OK(connect(client, (void *)&addr, len), "connect"))
		server = accept(listener, NULL, NULL);
	ASSERT_GE(server, 0, "accept");
	ASSERT_EQ(skel->bss->req_armed, 0, "request sock program ran");
	skel->bss->req_armed = 0;

	REC_HELPER_CASES(task);
	REC_H(task, get_null_owner);
	REC_H(task, delete_null_owner);
	REC_HELPER_CASES(cgrp);
	REC_H(cgrp, get_null_owner);
	REC_H(cgrp, delete_null_owner);
	REC_HELPER_CASES(inode);
	REC_H(inode, get_null_owner);
	REC_H(inode, delete_null_owner);
	REC_HELPER_CASES(sk);
	REC_H(sk, get_create_kept);
	REC_H(sk, get_create_over_optmem);
	REC_H(sk, get_kept_value);
	REC_H(sk, get_reqsk);
	REC_H(sk, get_create_reqsk);
	REC_H(sk, delete_reqsk);
	/* what the program created is seen from user space */
	map = bpf_map__fd(skel->maps.sk_map);
	rec("sk", "lookup_helper_created", lookup(map, listener, 0));
	rec("sk", "lookup_helper_created_value", lookup_value(map, listener, 0, 0));
	rec("sk", "lookup_helper_created_accepted", lookup(map, server, 0));
out:
	close3(listener, client, server);
	local_storage_errno__destroy(skel);
}

void serial_test_local_storage_errno(void)
{
	char path[] = "/tmp/ls_errno_XXXXXX";
	int i, n_fail = 0, file = -1, optmem;

	for (i = 0; i < ARRAY_SIZE(cases); i++)
		cases[i].actual = NOT_RUN;

	max_value_size = local_storage_max_value_size();
	if (!max_value_size || make_btf())
		goto out;

	optmem = set_optmem_max(0);
	file = mkstemp(path);
	if (!ASSERT_GT(optmem, 0, "optmem_max") || !ASSERT_GE(file, 0, "mkstemp"))
		goto out;

	task_cases();
	cgrp_cases();
	inode_cases(path, file);
	sk_cases();
	helper_cases(path, optmem);
	/* in case a case failed with optmem_max lowered */
	set_optmem_max(optmem);

	printf("local_storage_errno: %zu cases\n", ARRAY_SIZE(cases));
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct ls_case *c = &cases[i];

		if (!ASSERT_EQ(c->actual, c->expected, c->name))
			n_fail++;
	}
	printf("local_storage_errno: %d of %zu cases differ\n", n_fail, ARRAY_SIZE(cases));
out:
	if (file >= 0) {
		close(file);
		unlink(path);
	}
	btf__free(btf);
	btf = NULL;
	btf_fd = -1;
}
