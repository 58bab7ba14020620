// SPDX-License-Identifier: GPL-2.0
/*
 * Threads that share a CPU must not make each other's local storage
 * operations fail. Before the local storage locks became rqspinlocks, task
 * and cgroup storage guarded against recursion with per-CPU "busy"
 * counters: a thread preempted inside a storage operation made every other
 * thread on its CPU fail bpf_{task,cgrp}_storage_get(F_CREATE) with NULL
 * and the syscalls with -EBUSY, although none of them touched its storage.
 *
 * Here NR_THREADS threads pinned to one CPU each own a distinct storage
 * owner (the thread itself, or a cgroup of its own) and, for RUN_SECS,
 * create, look up and delete their entry through the syscalls, then
 * through a tracing program (fentry on getpgid). Nothing is shared between
 * them but the CPU and the map, so every operation must succeed.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <test_progs.h>
#include "cgroup_helpers.h"
#include "local_storage_same_cpu.skel.h"

#define NR_THREADS 4
#define RUN_SECS 3

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

struct worker {
	pthread_t thread;
	struct local_storage_same_cpu *skel;
	bool cgroup;
	int cpu;
	int cgrp_fd;
	__u64 cgrp_id;
	int setup_err;
	__u64 loops;
	__u64 update_errs;
	__u64 lookup_errs;
	__u64 delete_errs;
	int last_err;
};

static bool go, stop;

/* Pins the calling thread, and returns the fd that names its owner. */
static int worker_setup(struct worker *w)
{
	int fd, tid = syscall(SYS_gettid);
	cpu_set_t cpus;

	CPU_ZERO(&cpus);
	CPU_SET(w->cpu, &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus))
		return -errno;
	if (w->cgroup) {
		if (bpf_map_update_elem(bpf_map__fd(w->skel->maps.cgrp_of_tid),
					&tid, &w->cgrp_id, BPF_ANY))
			return -errno;
		return w->cgrp_fd;
	}
	fd = syscall(SYS_pidfd_open, tid, PIDFD_THREAD);
	return fd < 0 ? -errno : fd;
}

static void count_err(__u64 *errs, int *last_err)
{
	(*errs)++;
	*last_err = -errno;
}

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	int map_fd, key_fd;
	long val = 1;

	key_fd = worker_setup(w);
	if (key_fd < 0)
		w->setup_err = key_fd;
	map_fd = w->cgroup ? bpf_map__fd(w->skel->maps.cgrp_map) :
			     bpf_map__fd(w->skel->maps.task_map);
	while (!READ_ONCE(go) && !READ_ONCE(stop))
		sched_yield();
	while (!w->setup_err && !READ_ONCE(stop)) {
		if (bpf_map_update_elem(map_fd, &key_fd, &val, BPF_NOEXIST))
			count_err(&w->update_errs, &w->last_err);
		if (bpf_map_lookup_elem(map_fd, &key_fd, &val))
			count_err(&w->lookup_errs, &w->last_err);
		if (bpf_map_delete_elem(map_fd, &key_fd))
			count_err(&w->delete_errs, &w->last_err);
		/* The tracing program's turn. */
		syscall(SYS_getpgid, 0);
		w->loops++;
	}
	if (!w->cgroup && key_fd >= 0)
		close(key_fd);
	return NULL;
}

static void run(bool cgroup)
{
	struct worker workers[NR_THREADS] = {};
	struct local_storage_same_cpu *skel;
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	__u64 loops = 0;
	int i, err, started = 0, cpu = sched_getcpu();
	char path[64];

	for (i = 0; i < NR_THREADS; i++)
		workers[i].cgrp_fd = -1;

	skel = local_storage_same_cpu__open_and_load();
	if (!ASSERT_OK_PTR(skel, "open_and_load"))
		return;
	skel->bss->target_pid = getpid();
	skel->bss->use_cgroup = cgroup;
	err = local_storage_same_cpu__attach(skel);
	if (!ASSERT_OK(err, "attach"))
		goto out;

	if (cgroup) {
		err = create_and_get_cgroup("/local_storage_same_cpu");
		if (!ASSERT_GE(err, 0, "create_and_get_cgroup"))
			goto out;
		close(err);
	}
	for (i = 0; i < NR_THREADS; i++) {
		workers[i].skel = skel;
		workers[i].cgroup = cgroup;
		workers[i].cpu = cpu;
		if (!cgroup)
			continue;
		snprintf(path, sizeof(path), "/local_storage_same_cpu/%d", i);
		workers[i].cgrp_fd = create_and_get_cgroup(path);
		if (!ASSERT_GE(workers[i].cgrp_fd, 0, "create_and_get_cgroup"))
			goto out_cgroups;
		workers[i].cgrp_id = get_cgroup_id(path);
	}

	WRITE_ONCE(go, false);
	WRITE_ONCE(stop, false);
	for (i = 0; i < NR_THREADS; i++) {
		err = pthread_create(&workers[i].thread, NULL, worker_run, &workers[i]);
		if (!ASSERT_OK(err, "pthread_create"))
			break;
		started++;
	}
	if (started == NR_THREADS) {
		WRITE_ONCE(go, true);
		sleep(RUN_SECS);
	}
	WRITE_ONCE(stop, true);
	for (i = 0; i < started; i++)
		pthread_join(workers[i].thread, NULL);

	for (i = 0; i < started; i++) {
		struct worker *w = &workers[i];

		ASSERT_OK(w->setup_err, "thread setup");
		ASSERT_EQ(w->update_errs, 0, "update errors");
		ASSERT_EQ(w->lookup_errs, 0, "lookup errors");
		ASSERT_EQ(w->delete_errs, 0, "delete errors");
		ASSERT_OK(w->last_err, "last error");
		loops += w->loops;
	}
	ASSERT_GT(loops, NR_THREADS, "loops");
	/*
	 * A thread preempted inside the program makes the others on its CPU
	 * skip it (the trampoline's per-CPU recursion guard): every loop
	 * either ran the program or counted a miss.
	 */
	err = bpf_prog_get_info_by_fd(bpf_program__fd(skel->progs.on_getpgid), &info, &len);
	if (ASSERT_OK(err, "bpf_prog_get_info_by_fd"))
		ASSERT_EQ(skel->bss->runs + info.recursion_misses, loops, "runs + misses");
	ASSERT_GT(skel->bss->runs, 0, "program runs");
	ASSERT_EQ(skel->bss->get_fails, 0, "storage_get(F_CREATE) failures");
	ASSERT_EQ(skel->bss->delete_fails, 0, "storage_delete failures");
	ASSERT_EQ(skel->bss->no_owner, 0, "no owner");
	printf("%s: %d threads on CPU %d: %llu loops, %llu program runs\n",
	       cgroup ? "cgroup" : "task", NR_THREADS, cpu, (unsigned long long)loops,
	       (unsigned long long)skel->bss->runs);

out_cgroups:
	for (i = 0; i < NR_THREADS; i++)
		if (workers[i].cgrp_fd >= 0)
			close(workers[i].cgrp_fd);
out:
	local_storage_same_cpu__destroy(skel);
}

void serial_test_local_storage_same_cpu(void)
{
	if (test__start_subtest("task"))
		run(false);
	if (test__start_subtest("cgroup")) {
		if (!ASSERT_OK(setup_cgroup_environment(), "setup_cgroup_environment"))
			return;
		run(true);
		cleanup_cgroup_environment();
	}
}
