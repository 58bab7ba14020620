// SPDX-License-Identifier: GPL-2.0
/*
 * Demo: count the system calls of each thread in BPF task local storage.
 *
 * Starts a few threads that each make a known number of getppid() calls,
 * then reads every thread's counter back through the task storage map
 * (keyed by a pidfd) and checks it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>
#include "task_count.h"
#include "task_count.skel.h"

#define NR_THREADS 4

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

struct worker {
	pthread_t thread;
	pid_t tid;
	long calls;
};

static pthread_barrier_t started, counted;

static void *work(void *arg)
{
	struct worker *w = arg;

	w->tid = syscall(SYS_gettid);
	for (long i = 0; i < w->calls; i++)
		syscall(SYS_getppid);
	pthread_barrier_wait(&started);
	/* stay alive until the counters are read: the storage dies with us */
	pthread_barrier_wait(&counted);
	return NULL;
}

int main(void)
{
	struct worker workers[NR_THREADS];
	struct task_count_bpf *skel;
	int err = 1;

	skel = task_count_bpf__open();
	if (!skel) {
		perror("open");
		return 1;
	}
	skel->rodata->target_tgid = getpid();
	if (task_count_bpf__load(skel) || task_count_bpf__attach(skel)) {
		fprintf(stderr, "load/attach failed: %s\n", strerror(errno));
		goto out;
	}

	pthread_barrier_init(&started, NULL, NR_THREADS + 1);
	pthread_barrier_init(&counted, NULL, NR_THREADS + 1);
	for (int i = 0; i < NR_THREADS; i++) {
		workers[i].calls = 1000 * (i + 1);
		pthread_create(&workers[i].thread, NULL, work, &workers[i]);
	}
	pthread_barrier_wait(&started);

	err = 0;
	printf("%-8s %10s %10s\n", "tid", "getppid", "syscalls");
	for (int i = 0; i < NR_THREADS; i++) {
		struct task_count c = {};
		int pidfd = syscall(SYS_pidfd_open, workers[i].tid, PIDFD_THREAD);

		if (pidfd < 0 ||
		    bpf_map_lookup_elem(bpf_map__fd(skel->maps.task_counts),
					&pidfd, &c)) {
			fprintf(stderr, "tid %d: no storage: %s\n",
				workers[i].tid, strerror(errno));
			err = 1;
		}
		printf("%-8d %10ld %10llu\n", workers[i].tid, workers[i].calls,
		       (unsigned long long)c.syscalls);
		/* each thread made at least its getppid() calls */
		if (c.syscalls < (unsigned long long)workers[i].calls)
			err = 1;
		close(pidfd);
	}
	pthread_barrier_wait(&counted);
	for (int i = 0; i < NR_THREADS; i++)
		pthread_join(workers[i].thread, NULL);

	printf("bpf_task_storage_get(F_CREATE) failures: %llu\n",
	       (unsigned long long)skel->bss->create_failures);
	if (skel->bss->create_failures)
		err = 1;
	printf("demo: %s\n", err ? "FAILED" : "OK");
out:
	task_count_bpf__destroy(skel);
	return err;
}
