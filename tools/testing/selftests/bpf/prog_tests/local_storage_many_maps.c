// SPDX-License-Identifier: GPL-2.0
/*
 * Owners with more elements than a storage has cache slots (16): each of
 * NR_THREADS threads owns an element in each of NR_MAPS task storage maps,
 * which share the cache slots, and for RUN_SECS
 *  - a tracing program (fentry on getpgid) gets every map's element of the
 *    current thread with F_CREATE, and deletes some of them;
 *  - the thread itself creates, updates, looks up and deletes elements of
 *    random maps through the syscalls;
 * so that elements are created and deleted all the time, by programs and
 * syscalls, on several owners at once. Every element of thread t in map i
 * holds expected(t, i), whoever wrote it: a lookup that returns another
 * owner's element, another map's, or a deleted one, sees a wrong value.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <test_progs.h>
#include "local_storage_many_maps.skel.h"

#define NR_MAPS 100
#define NR_THREADS 4
#define RUN_SECS 3

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

static __u64 expected(__u32 tid, __u32 i)
{
	return (__u64)tid << 16 | i;
}

struct worker {
	pthread_t thread;
	int *map_fds;
	int setup_err;
	__u64 loops;
	__u64 wrong_values;
	__u64 found_deleted;
	__u64 errors;
	int last_err;
};

static bool go, stop;

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	__u32 tid = syscall(SYS_gettid);
	unsigned int seed = tid;
	int pidfd, i;
	__u64 v;

	pidfd = syscall(SYS_pidfd_open, tid, PIDFD_THREAD);
	if (pidfd < 0)
		w->setup_err = -errno;
	while (!READ_ONCE(go) && !READ_ONCE(stop))
		sched_yield();
	while (!w->setup_err && !READ_ONCE(stop)) {
		i = rand_r(&seed) % NR_MAPS;
		v = expected(tid, i);
		switch (rand_r(&seed) % 4) {
		case 0:
			/* Creates or replaces the element (a new one, same value). */
			if (bpf_map_update_elem(w->map_fds[i], &pidfd, &v, BPF_ANY))
				goto err;
			/* Only this thread changes its elements: it is there. */
			v = 0;
			if (bpf_map_lookup_elem(w->map_fds[i], &pidfd, &v))
				goto err;
			if (v != expected(tid, i))
				w->wrong_values++;
			break;
		case 1:
			if (bpf_map_delete_elem(w->map_fds[i], &pidfd) && errno != ENOENT)
				goto err;
			/* And now it is not. */
			if (!bpf_map_lookup_elem(w->map_fds[i], &pidfd, &v))
				w->found_deleted++;
			else if (errno != ENOENT)
				goto err;
			break;
		default:
			v = 0;
			if (bpf_map_lookup_elem(w->map_fds[i], &pidfd, &v)) {
				if (errno != ENOENT)
					goto err;
			} else if (v != expected(tid, i)) {
				w->wrong_values++;
			}
			break;
		}
		/* The tracing program's turn: all maps of this thread. */
		if (w->loops % 8 == 0)
			syscall(SYS_getpgid, 0);
		w->loops++;
		continue;
err:
		w->errors++;
		w->last_err = -errno;
	}
	if (pidfd >= 0)
		close(pidfd);
	return NULL;
}

void test_local_storage_many_maps(void)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_NO_PREALLOC);
	struct worker workers[NR_THREADS] = {};
	struct local_storage_many_maps *skel;
	int map_fds[NR_MAPS], i, err, started = 0;
	struct bpf_map *inner;
	__u64 loops = 0;

	for (i = 0; i < NR_MAPS; i++)
		map_fds[i] = -1;
	skel = local_storage_many_maps__open();
	if (!ASSERT_OK_PTR(skel, "open"))
		return;
	/* The inner map's BTF types, as libbpf knows them before the load. */
	inner = bpf_map__inner_map(skel->maps.task_maps);
	opts.btf_key_type_id = bpf_map__btf_key_type_id(inner);
	opts.btf_value_type_id = bpf_map__btf_value_type_id(inner);
	err = local_storage_many_maps__load(skel);
	if (!ASSERT_OK(err, "load"))
		goto out;
	opts.btf_fd = bpf_object__btf_fd(skel->obj);
	for (i = 0; i < NR_MAPS; i++) {
		map_fds[i] = bpf_map_create(BPF_MAP_TYPE_TASK_STORAGE, NULL, sizeof(int),
					    sizeof(__u64), 0, &opts);
		if (!ASSERT_GE(map_fds[i], 0, "task storage map"))
			goto out;
		err = bpf_map_update_elem(bpf_map__fd(skel->maps.task_maps), &i,
					  &map_fds[i], BPF_ANY);
		if (!ASSERT_OK(err, "array of maps"))
			goto out;
	}
	skel->bss->target_tgid = getpid();
	skel->bss->delete_every = 7;
	err = local_storage_many_maps__attach(skel);
	if (!ASSERT_OK(err, "attach"))
		goto out;

	for (i = 0; i < NR_THREADS; i++) {
		workers[i].map_fds = map_fds;
		err = pthread_create(&workers[i].thread, NULL, worker_run, &workers[i]);
		if (!ASSERT_OK(err, "pthread_create"))
			break;
		started++;
	}
	WRITE_ONCE(go, started == NR_THREADS);
	if (started == NR_THREADS)
		sleep(RUN_SECS);
	WRITE_ONCE(stop, true);
	for (i = 0; i < started; i++)
		pthread_join(workers[i].thread, NULL);
	if (started < NR_THREADS)
		goto out;

	for (i = 0; i < NR_THREADS; i++) {
		ASSERT_OK(workers[i].setup_err, "pidfd_open");
		ASSERT_EQ(workers[i].errors, 0, "syscall errors");
		if (workers[i].errors)
			printf("worker %d: last error %d\n", i, workers[i].last_err);
		ASSERT_EQ(workers[i].wrong_values, 0, "syscall lookups of another element");
		ASSERT_EQ(workers[i].found_deleted, 0, "syscall lookups of a deleted element");
		loops += workers[i].loops;
	}
	ASSERT_GT(loops, NR_THREADS, "syscall loops");
	ASSERT_GT(skel->bss->gets, NR_MAPS, "program gets");
	ASSERT_GT(skel->bss->deletes, 0, "program deletes");
	ASSERT_EQ(skel->bss->get_fails, 0, "program get failures");
	ASSERT_EQ(skel->bss->delete_fails, 0, "program delete failures");
	ASSERT_EQ(skel->bss->wrong_values, 0, "program gets of another element");
	ASSERT_EQ(skel->bss->found_deleted, 0, "program gets of a deleted element");
	if (env.verbosity >= VERBOSE_NORMAL)
		printf("%llu syscall loops, %llu program gets, %llu program deletes\n",
		       (unsigned long long)loops, (unsigned long long)skel->bss->gets,
		       (unsigned long long)skel->bss->deletes);
out:
	for (i = 0; i < NR_MAPS; i++)
		if (map_fds[i] >= 0)
			close(map_fds[i]);
	local_storage_many_maps__destroy(skel);
}
