// SPDX-License-Identifier: GPL-2.0
/*
 * Owner destroy racing map free, on each of the four local storage types.
 *
 * An element of local storage belongs to an owner (a task, a cgroup, an
 * inode, a socket) and to a map, and two teardowns unlink it: the owner's
 * destroy when the owner is freed (bpf_{task,cgrp,inode,sk}_storage_free())
 * and map free when the map's last reference goes
 * (bpf_local_storage_map_free()). When both go at once, they meet on the
 * same elements and exactly one of them must free each; neither may touch an
 * element, a storage or a map the other one freed.
 *
 * Each subtest runs NR_ROUNDS rounds on its storage type. A round creates
 * NR_MAPS maps and NR_OWNERS owners, gives every owner an element in every
 * map, and the two survivors too (owners that outlive the subtest), and
 * then, from a barrier, one thread closes the maps while the main thread
 * ends the owners. Map free walks the buckets one RCU grace period after the
 * last fd of the map is closed (the map is freed from a workqueue, after a
 * synchronize_rcu()); TCP sockets and inodes are destroyed within close(),
 * tasks and bound UDP sockets (SOCK_RCU_FREE) one grace period after they
 * end, from an RCU callback, and cgroups two or three. So the rounds sweep
 * the delay between the two sides from "owners first by 30 ms" to "maps
 * first by 30 ms", which lines them up in some rounds whatever a grace
 * period takes on the machine. The rounds do not wait for the frees: the
 * map frees of a round also run beside the next round's updates of the
 * survivors.
 *
 * The survivors: the bare one has elements of the round's maps only, so
 * map free takes the last one off its storage and frees the storage, every
 * round; the kept one also has an element of the keeper map, which lives
 * for the subtest, so its storage stays and map free takes elements out of
 * it, round after round, and its owner's destroy meets what map free left
 * at the end.
 *
 * What the test checks itself:
 *  - every update succeeds before the race;
 *  - after each round, the survivors have no element in a new map (a stale
 *    element, or cache slot, whose freed map's address or cache index the
 *    new map got would be found), and work: update, lookup, delete on it;
 *  - every element created in a map under test is freed, by one teardown
 *    or the other, or by the survivors' deletes (a BPF program records
 *    each one created and each one passed to kfree_rcu(), which both
 *    teardowns free with, or to call_rcu_tasks_trace(), which a delete
 *    frees with; a second free is KASAN's to see), and every map under
 *    test was freed;
 *  - sockets: each socket's optmem charge came back: the survivors', as
 *    SO_MEMINFO reads it, once map free unlinked their elements of the
 *    round maps; every socket's, the kept survivor's among them, after
 *    bpf_sk_storage_free() (read by an fexit program), which uncharges what
 *    the storage's mem_charge says is left.
 * On a kernel with KASAN, lockdep and the atomic-sleep checks, they watch
 * both teardowns while they race, and with kmemleak a scan after the run
 * finds whatever they leaked beyond elements (storages, maps).
 *
 * Not serial: the cgroups are in this process's own cgroup work dir and the
 * files in a directory of its own, the sockets use no fixed address, and
 * the BPF programs, though they trace functions every test calls, only
 * count the maps, elements and sockets this test created.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <arpa/inet.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <test_progs.h>
#include "cgroup_helpers.h"
#include "task_local_storage_helpers.h"
#include "local_storage_test_helpers.h"
#include "local_storage_teardown_race.skel.h"

#define NR_ROUNDS	32
#define NR_MAPS		6
#define NR_OWNERS	8
/* The bare survivor and the kept one */
#define NR_SURVIVORS	2
#define BARE		0
#define KEPT		1
/* How much later the owners end than the maps close, over the rounds */
#define OFFSET_MIN_US	(-30000)
#define OFFSET_MAX_US	30000
/*
 * For the frees of the last rounds (map free waits for two RCU grace
 * periods and two barriers); a slow debug guest takes seconds. A bound
 * on a wait for something that must happen, not a speed check: the time
 * taken is printed.
 */
#define WAIT_MS		60000

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

/* As in progs/local_storage_teardown_race.c */
struct race_val {
	__u64 round;
	__u64 owner;
};

struct race;

/* Threads that live until exit_pipe closes; pipes -1 when not open */
struct threads {
	pthread_t ids[NR_OWNERS];
	int nr;
	int ready_pipe[2];
	int exit_pipe[2];
};

struct kind {
	const char *name;
	enum bpf_map_type type;
	/* Makes the survivors, and whatever the rounds need, for the subtest */
	int (*setup)(struct race *r);
	/* Makes the NR_OWNERS owners of a round, in r->owner_fds[] */
	int (*create)(struct race *r);
	/* Ends them; from a failed round too */
	int (*end)(struct race *r);
	void (*cleanup)(struct race *r);
};

struct race {
	const struct kind *kind;
	struct local_storage_teardown_race *skel;
	int btf_fd;
	__u32 key_type_id;
	__u32 value_type_id;
	int round;
	int map_fds[NR_MAPS];
	int owner_fds[NR_OWNERS];
	int survivors[NR_SURVIVORS];
	/* Holds the kept survivor's storage for the subtest */
	int keeper_fd;
	/* Counted as they succeed: what the BPF side must have seen */
	int updates;
	int filled_maps;
	int sockets;
	/* task: the round's owner threads, and the kept survivor's */
	struct threads round_threads;
	struct threads kept_thread;
	/* cgrp, inode: the directory the owners are made in */
	int dir_fd;
	char tmp_dir[64];
	/* sk: the survivors' optmem with no element of a round map */
	int survivor_omem[NR_SURVIVORS];
};

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Reports a failed step of the round; silent otherwise. */
static bool expect(struct race *r, const char *what, int got, int want)
{
	if (got == want)
		return true;
	PRINT_FAIL("%s round %d: %s: %d, expected %d\n", r->kind->name,
		   r->round, what, got, want);
	return false;
}

static int create_map(struct race *r)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts,
		    .map_flags = BPF_F_NO_PREALLOC,
		    .btf_fd = r->btf_fd,
		    .btf_key_type_id = r->key_type_id,
		    .btf_value_type_id = r->value_type_id);

	return bpf_map_create(r->kind->type, "teardown_race", sizeof(int),
			      sizeof(struct race_val), 0, &opts);
}

/* task: threads, by their pidfds */

static void *task_owner(void *arg)
{
	struct threads *t = arg;
	pid_t tid = sys_gettid();
	char c;

	if (write(t->ready_pipe[1], &tid, sizeof(tid)) != sizeof(tid))
		return NULL;
	/* EOF when its end comes: the thread exits, and its task is freed. */
	while (read(t->exit_pipe[0], &c, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

/* Starts @n threads, and opens a pidfd of each in @fds. */
static int start_threads(struct threads *t, int n, int *fds)
{
	pid_t tid;
	int i, err;

	if (pipe(t->ready_pipe))
		return -errno;
	if (pipe(t->exit_pipe))
		return -errno;
	for (i = 0; i < n; i++) {
		err = pthread_create(&t->ids[i], NULL, task_owner, t);
		if (err)
			return -err;
		t->nr++;
		if (read(t->ready_pipe[0], &tid, sizeof(tid)) != sizeof(tid))
			return -EIO;
		fds[i] = sys_pidfd_open(tid, PIDFD_THREAD);
		if (fds[i] < 0)
			return -errno;
	}
	return 0;
}

static void stop_threads(struct threads *t)
{
	int i;

	close_fd(&t->exit_pipe[1]);
	for (i = 0; i < t->nr; i++)
		pthread_join(t->ids[i], NULL);
	t->nr = 0;
	close_fd(&t->exit_pipe[0]);
	close_fd(&t->ready_pipe[0]);
	close_fd(&t->ready_pipe[1]);
}

/* The bare survivor is this thread, the kept one a thread of its own. */
static int task_setup(struct race *r)
{
	r->survivors[BARE] = sys_pidfd_open(sys_gettid(), PIDFD_THREAD);
	if (r->survivors[BARE] < 0)
		return -errno;
	return start_threads(&r->kept_thread, 1, &r->survivors[KEPT]);
}

static int task_create(struct race *r)
{
	return start_threads(&r->round_threads, NR_OWNERS, r->owner_fds);
}

static int task_end(struct race *r)
{
	int i;

	/* A pidfd pins no task_struct, only the struct pid. */
	for (i = 0; i < NR_OWNERS; i++)
		close_fd(&r->owner_fds[i]);
	stop_threads(&r->round_threads);
	return 0;
}

static void task_cleanup(struct race *r)
{
	close_fd(&r->survivors[BARE]);
	close_fd(&r->survivors[KEPT]);
	stop_threads(&r->kept_thread);
}

/*
 * cgroup and inode owners are entries of a directory of ours, r->dir_fd:
 * NR_SURVIVORS named "survivor<i>", made once, and NR_OWNERS named "o<i>",
 * made and removed every round. Each type makes an entry its own way.
 */

/* A cgroup: a directory of the cgroup tree, open. */
static int mkdir_open(int dir_fd, const char *name)
{
	int fd;

	if (mkdirat(dir_fd, name, 0755))
		return -errno;
	fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY);
	return fd < 0 ? -errno : fd;
}

/* An inode: a new regular file, open. */
static int create_file(int dir_fd, const char *name)
{
	int fd = openat(dir_fd, name, O_RDWR | O_CREAT | O_EXCL, 0600);

	return fd < 0 ? -errno : fd;
}

/* Makes entries prefix0 .. prefix<n - 1> with make(), their fds in fds[]. */
static int make_each(struct race *r, int *fds, int n, const char *prefix,
		     int (*make)(int dir_fd, const char *name))
{
	char name[16];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s%d", prefix, i);
		fds[i] = make(r->dir_fd, name);
		if (fds[i] < 0)
			return fds[i];
	}
	return 0;
}

/*
 * Removes entries prefix0 .. prefix<n - 1> (unlinkat() with flags) and
 * closes their fds, each fd before its entry if close_first. Returns the
 * first error but ENOENT (an entry that was never made).
 */
static int remove_each(struct race *r, int *fds, int n, const char *prefix,
		       int flags, bool close_first)
{
	char name[16];
	int i, err = 0;

	for (i = 0; i < n; i++) {
		if (close_first)
			close_fd(&fds[i]);
		snprintf(name, sizeof(name), "%s%d", prefix, i);
		if (r->dir_fd >= 0 && unlinkat(r->dir_fd, name, flags) &&
		    errno != ENOENT && !err)
			err = -errno;
		close_fd(&fds[i]);
	}
	return err;
}

/*
 * cgrp: cgroups under one parent in the cgroup work dir. The parent enables
 * no controller for its children, so that they are cheap to make: a
 * cgroup's storage only needs the cgroup itself.
 */

#define CGRP_PARENT "/local_storage_teardown_race"

static int cgrp_setup(struct race *r)
{
	if (setup_cgroup_environment())
		return -EIO;
	r->dir_fd = create_and_get_cgroup(CGRP_PARENT);
	if (r->dir_fd < 0)
		return -EIO;
	return make_each(r, r->survivors, NR_SURVIVORS, "survivor", mkdir_open);
}

static int cgrp_create(struct race *r)
{
	return make_each(r, r->owner_fds, NR_OWNERS, "o", mkdir_open);
}

/* rmdir: the cgroup goes offline, and is freed once its last reference goes. */
static int cgrp_end(struct race *r)
{
	return remove_each(r, r->owner_fds, NR_OWNERS, "o", AT_REMOVEDIR, true);
}

static void cgrp_cleanup(struct race *r)
{
	remove_each(r, r->survivors, NR_SURVIVORS, "survivor", AT_REMOVEDIR, true);
	close_fd(&r->dir_fd);
	/* Removes what is left, and the work dir. */
	cleanup_cgroup_environment();
}

/* inode: files of a directory of our own; the BPF LSM frees their storage. */

static int inode_setup(struct race *r)
{
	snprintf(r->tmp_dir, sizeof(r->tmp_dir), "/tmp/local_storage_teardown_race_XXXXXX");
	if (!mkdtemp(r->tmp_dir)) {
		r->tmp_dir[0] = '\0';
		return -errno;
	}
	r->dir_fd = open(r->tmp_dir, O_RDONLY | O_DIRECTORY);
	if (r->dir_fd < 0)
		return -errno;
	return make_each(r, r->survivors, NR_SURVIVORS, "survivor", create_file);
}

static int inode_create(struct race *r)
{
	return make_each(r, r->owner_fds, NR_OWNERS, "o", create_file);
}

/* Unlinked, then closed: the inode is evicted and freed in close(). */
static int inode_end(struct race *r)
{
	return remove_each(r, r->owner_fds, NR_OWNERS, "o", 0, false);
}

static void inode_cleanup(struct race *r)
{
	remove_each(r, r->survivors, NR_SURVIVORS, "survivor", 0, true);
	close_fd(&r->dir_fd);
	if (r->tmp_dir[0])
		rmdir(r->tmp_dir);
}

/* sk: sockets, whose destroy the fexit program on bpf_sk_storage_free() sees */

/* Makes the fexit program count the socket's free. */
static int watch_socket(struct race *r, int sk)
{
	__u64 cookie;
	socklen_t len = sizeof(cookie);
	__u32 one = 1;

	if (getsockopt(sk, SOL_SOCKET, SO_COOKIE, &cookie, &len))
		return -errno;
	if (bpf_map_update_elem(bpf_map__fd(r->skel->maps.sk_cookies), &cookie,
				&one, BPF_NOEXIST))
		return -errno;
	r->sockets++;
	return 0;
}

static int sk_setup(struct race *r)
{
	int i, err;

	for (i = 0; i < NR_SURVIVORS; i++) {
		r->survivors[i] = socket(AF_INET6, SOCK_STREAM, 0);
		if (r->survivors[i] < 0)
			return -errno;
		err = watch_socket(r, r->survivors[i]);
		if (err)
			return err;
	}
	return 0;
}

/* Even owners: unbound TCP, freed in close(); odd: bound UDP, SOCK_RCU_FREE. */
static int sk_create(struct race *r)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	int i, sk, err;

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < NR_OWNERS; i++) {
		if (i % 2)
			sk = socket(AF_INET, SOCK_DGRAM, 0);
		else
			sk = socket(AF_INET6, SOCK_STREAM, 0);
		r->owner_fds[i] = sk;
		if (sk < 0)
			return -errno;
		if (i % 2 && bind(sk, (void *)&addr, sizeof(addr)))
			return -errno;
		err = watch_socket(r, sk);
		if (err)
			return err;
	}
	return 0;
}

static int sk_end(struct race *r)
{
	int i;

	for (i = 0; i < NR_OWNERS; i++)
		close_fd(&r->owner_fds[i]);
	return 0;
}

static void sk_cleanup(struct race *r)
{
	close_fd(&r->survivors[BARE]);
	close_fd(&r->survivors[KEPT]);
}

static const struct kind kinds[] = {
	{ "task", BPF_MAP_TYPE_TASK_STORAGE, task_setup, task_create, task_end, task_cleanup },
	{ "cgrp", BPF_MAP_TYPE_CGRP_STORAGE, cgrp_setup, cgrp_create, cgrp_end, cgrp_cleanup },
	{ "inode", BPF_MAP_TYPE_INODE_STORAGE, inode_setup, inode_create, inode_end,
	  inode_cleanup },
	{ "sk", BPF_MAP_TYPE_SK_STORAGE, sk_setup, sk_create, sk_end, sk_cleanup },
};

/* The round's maps, whose updates the BPF side tracks by id. */
static int create_maps(struct race *r)
{
	int ids_fd = bpf_map__fd(r->skel->maps.round_ids);
	struct bpf_map_info info;
	__u32 len, one = 1;
	int i, err;

	for (i = 0; i < NR_MAPS; i++) {
		r->map_fds[i] = create_map(r);
		if (!expect(r, "map create", r->map_fds[i] < 0 ? r->map_fds[i] : 0, 0))
			return r->map_fds[i];
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		err = bpf_map_get_info_by_fd(r->map_fds[i], &info, &len);
		if (!err)
			err = bpf_map_update_elem(ids_fd, &info.id, &one, BPF_NOEXIST);
		if (!expect(r, "map id", err, 0))
			return err;
	}
	return 0;
}

/* Forgets the round's map ids, so that the hash never fills. */
static void forget_maps(struct race *r)
{
	int ids_fd = bpf_map__fd(r->skel->maps.round_ids);
	__u32 key, next;

	while (!bpf_map_get_next_key(ids_fd, NULL, &next)) {
		key = next;
		if (bpf_map_delete_elem(ids_fd, &key))
			break;
	}
}

/* An element for every owner and survivor in every map. */
static int fill(struct race *r)
{
	struct race_val v = { .round = r->round };
	int i, j, fd, err;

	for (j = 0; j < NR_MAPS; j++) {
		for (i = 0; i < NR_OWNERS + NR_SURVIVORS; i++) {
			if (i < NR_OWNERS)
				fd = r->owner_fds[i];
			else
				fd = r->survivors[i - NR_OWNERS];
			v.owner = i;
			err = bpf_map_update_elem(r->map_fds[j], &fd, &v, BPF_NOEXIST);
			if (err) {
				/* Owners NR_OWNERS and up are the survivors. */
				PRINT_FAIL("%s round %d: update of owner %d in map %d: %d\n",
					   r->kind->name, r->round, i, j, err);
				return err;
			}
			r->updates++;
			if (!i)
				r->filled_maps++;
		}
	}
	return 0;
}

struct closer {
	struct race *r;
	pthread_barrier_t *start;
	long delay_us;
};

static void *close_maps(void *arg)
{
	struct closer *c = arg;
	int i;

	pthread_barrier_wait(c->start);
	if (c->delay_us)
		usleep(c->delay_us);
	for (i = 0; i < NR_MAPS; i++)
		close_fd(&c->r->map_fds[i]);
	return NULL;
}

/*
 * Closes the maps on one thread and ends the owners on this one, from a
 * barrier, the owners offset_us later (earlier if negative).
 */
static int race(struct race *r)
{
	long offset_us = OFFSET_MIN_US +
		(long)(OFFSET_MAX_US - OFFSET_MIN_US) * r->round / (NR_ROUNDS - 1);
	pthread_barrier_t start;
	struct closer c = {
		.r = r,
		.start = &start,
		.delay_us = offset_us < 0 ? -offset_us : 0,
	};
	pthread_t thread;
	int err;

	if (!expect(r, "barrier", pthread_barrier_init(&start, NULL, 2), 0))
		return -1;
	err = pthread_create(&thread, NULL, close_maps, &c);
	if (!expect(r, "map closer thread", err, 0)) {
		pthread_barrier_destroy(&start);
		return -err;
	}
	pthread_barrier_wait(&start);
	if (offset_us > 0)
		usleep(offset_us);
	err = r->kind->end(r);
	pthread_join(thread, NULL);
	pthread_barrier_destroy(&start);
	return expect(r, "owner end", err, 0) ? 0 : err;
}

/*
 * Right after the race, while the round's map frees may still be unlinking
 * its elements: a survivor has nothing in a new map, and a new element
 * comes and goes.
 */
static bool expect_survivor(struct race *r, int i, const char *what, int got, int want)
{
	if (got == want)
		return true;
	PRINT_FAIL("%s round %d: %s survivor: %s: %d, expected %d\n", r->kind->name,
		   r->round, i == KEPT ? "kept" : "bare", what, got, want);
	return false;
}

/*
 * An update that finds the survivor's storage emptied under its lock fails
 * with EAGAIN, in 7.3.4's C as in ours ("a parallel del is happening"):
 * the round's map free was taking the survivor's last element off. A user
 * retries; so do we, for up to a second.
 */
static int update_retrying(int map, int *fd, struct race_val *v)
{
	int err, tries = 0;

	while ((err = bpf_map_update_elem(map, fd, v, BPF_NOEXIST)) == -EAGAIN &&
	       ++tries < 1000)
		usleep(1000);
	return err;
}

static int check_survivor(struct race *r, int map, int i)
{
	struct race_val v = { .round = r->round, .owner = NR_OWNERS + i }, got;
	int fd = r->survivors[i];

	if (!expect_survivor(r, i, "lookup in a new map",
			     bpf_map_lookup_elem(map, &fd, &got), -ENOENT) ||
	    !expect_survivor(r, i, "update",
			     update_retrying(map, &fd, &v), 0) ||
	    !expect_survivor(r, i, "lookup", bpf_map_lookup_elem(map, &fd, &got), 0) ||
	    !expect_survivor(r, i, "value", memcmp(&got, &v, sizeof(v)), 0) ||
	    !expect_survivor(r, i, "delete", bpf_map_delete_elem(map, &fd), 0) ||
	    !expect_survivor(r, i, "lookup after delete",
			     bpf_map_lookup_elem(map, &fd, &got), -ENOENT))
		return -1;
	return 0;
}

static int check_survivors(struct race *r)
{
	int map, i, err = 0;

	map = create_map(r);
	if (!expect(r, "new map create", map < 0 ? map : 0, 0))
		return map;
	for (i = 0; i < NR_SURVIVORS && !err; i++)
		err = check_survivor(r, map, i);
	close(map);
	return err;
}

static int run_round(struct race *r)
{
	int err, i;

	for (i = 0; i < NR_MAPS; i++)
		r->map_fds[i] = -1;
	for (i = 0; i < NR_OWNERS; i++)
		r->owner_fds[i] = -1;

	err = create_maps(r);
	if (err)
		goto out;
	err = r->kind->create(r);
	if (!expect(r, "owner create", err, 0))
		goto out;
	err = fill(r);
	if (err)
		goto out;
	err = race(r);
	if (!err)
		err = check_survivors(r);
out:
	forget_maps(r);
	if (err) {
		for (i = 0; i < NR_MAPS; i++)
			close_fd(&r->map_fds[i]);
		r->kind->end(r);
	}
	return err;
}

static __u64 recursion_misses(struct bpf_program *prog)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_prog_get_info_by_fd(bpf_program__fd(prog), &info, &len))
		return 0;
	return info.recursion_misses;
}

/*
 * Every element of every map under test freed, and every map free started.
 * Map free unlinks (and uncharges) each of its elements before freeing it,
 * the survivors' among them.
 */
static bool settled(struct race *r)
{
	struct local_storage_teardown_race__bss *bss = r->skel->bss;

	return READ_ONCE(bss->map_frees) >= r->filled_maps &&
	       READ_ONCE(bss->elems_freed) + READ_ONCE(bss->frees_unseen) >=
	       READ_ONCE(bss->elems_created);
}

static bool sockets_freed(struct race *r)
{
	return READ_ONCE(r->skel->bss->sk_freed) >= r->sockets;
}

/*
 * Waits until @cond holds of the BPF side's counters, or WAIT_MS passed;
 * says how long it waited in *@waited_ms.
 */
static bool wait_for(bool (*cond)(struct race *r), struct race *r, int *waited_ms)
{
	int ms;

	for (ms = 0; ms < WAIT_MS && !cond(r); ms += 10)
		usleep(10000);
	*waited_ms = ms;
	return cond(r);
}

/*
 * A missed run of a counting program (it was already running on that CPU,
 * preempted) loses one count: a shortfall is a failure only beyond them.
 */
static void check_count(const char *name, int got, int want, __u64 misses)
{
	if (misses && got < want && want - got <= misses) {
		printf("%s: %d of %d, %llu program runs missed\n", name, got,
		       want, (unsigned long long)misses);
		return;
	}
	ASSERT_EQ(got, want, name);
}

static bool load(struct race *r)
{
	struct local_storage_teardown_race *skel;
	struct bpf_map *tmpl = NULL;
	int err;

	skel = local_storage_teardown_race__open();
	if (!ASSERT_OK_PTR(skel, "open"))
		return false;
	r->skel = skel;
	/* The templates only give their BTF: no program uses them. */
	bpf_map__set_autocreate(skel->maps.task_tmpl, false);
	bpf_map__set_autocreate(skel->maps.cgrp_tmpl, false);
	bpf_map__set_autocreate(skel->maps.inode_tmpl, false);
	bpf_map__set_autocreate(skel->maps.sk_tmpl, false);
	switch (r->kind->type) {
	case BPF_MAP_TYPE_TASK_STORAGE:
		tmpl = skel->maps.task_tmpl;
		break;
	case BPF_MAP_TYPE_CGRP_STORAGE:
		tmpl = skel->maps.cgrp_tmpl;
		break;
	case BPF_MAP_TYPE_INODE_STORAGE:
		tmpl = skel->maps.inode_tmpl;
		break;
	default:
		tmpl = skel->maps.sk_tmpl;
		break;
	}
	r->key_type_id = bpf_map__btf_key_type_id(tmpl);
	r->value_type_id = bpf_map__btf_value_type_id(tmpl);
	bpf_program__set_autoload(skel->progs.sk_storage_freed,
				  r->kind->type == BPF_MAP_TYPE_SK_STORAGE);
	/* All a subtest can have in flight, if no free ran before the end */
	bpf_map__set_max_entries(skel->maps.round_ids, NR_MAPS);
	bpf_map__set_max_entries(skel->maps.live_maps, NR_ROUNDS * NR_MAPS);
	bpf_map__set_max_entries(skel->maps.live_elems,
				 NR_ROUNDS * NR_MAPS * (NR_OWNERS + NR_SURVIVORS));
	bpf_map__set_max_entries(skel->maps.sk_cookies,
				 NR_ROUNDS * NR_OWNERS + NR_SURVIVORS);

	err = local_storage_teardown_race__load(skel);
	if (!ASSERT_OK(err, "load"))
		return false;
	r->btf_fd = bpf_object__btf_fd(skel->obj);
	if (!ASSERT_GE(r->btf_fd, 0, "btf fd"))
		return false;
	return ASSERT_OK(local_storage_teardown_race__attach(skel), "attach");
}

/*
 * The keeper map's element holds the kept survivor's storage for the
 * subtest. Sockets: what the survivors' optmem comes back to every round.
 */
static int keep(struct race *r)
{
	struct race_val v = { .round = NR_ROUNDS, .owner = NR_OWNERS + KEPT };
	int i, err;

	r->keeper_fd = create_map(r);
	if (r->keeper_fd < 0)
		return r->keeper_fd;
	err = bpf_map_update_elem(r->keeper_fd, &r->survivors[KEPT], &v, BPF_NOEXIST);
	if (err || r->kind->type != BPF_MAP_TYPE_SK_STORAGE)
		return err;
	for (i = 0; i < NR_SURVIVORS; i++) {
		r->survivor_omem[i] = sk_optmem(r->survivors[i]);
		if (r->survivor_omem[i] < 0)
			return r->survivor_omem[i];
	}
	return 0;
}

/* Inode storage maps need the BPF LSM (lsm=...,bpf); skip without it. */
static bool supported(struct race *r)
{
	int fd = create_map(r);

	if (fd == -EOPNOTSUPP) {
		printf("%s: no %s storage maps (-EOPNOTSUPP)\n", __func__, r->kind->name);
		test__skip();
		return false;
	}
	if (!ASSERT_GE(fd, 0, "map create"))
		return false;
	close(fd);
	return true;
}

static void run(const struct kind *kind)
{
	struct race r = {
		.kind = kind,
		.survivors = { -1, -1 },
		.keeper_fd = -1,
		.dir_fd = -1,
		.round_threads = { .ready_pipe = { -1, -1 }, .exit_pipe = { -1, -1 } },
		.kept_thread = { .ready_pipe = { -1, -1 }, .exit_pipe = { -1, -1 } },
	};
	struct local_storage_teardown_race__bss *bss;
	int created, freed;
	__u64 free_misses;
	int waited_ms;
	bool done;

	if (!load(&r) || !supported(&r))
		goto out_destroy;
	bss = r.skel->bss;
	if (!ASSERT_OK(kind->setup(&r), "setup") || !ASSERT_OK(keep(&r), "keeper map"))
		goto out;

	for (r.round = 0; r.round < NR_ROUNDS; r.round++)
		if (run_round(&r))
			break;

	done = wait_for(settled, &r, &waited_ms);
	created = READ_ONCE(bss->elems_created);
	freed = READ_ONCE(bss->elems_freed);
	/*
	 * Which teardown freed what, to see that both did: statistics only
	 * (a destroy whose fexit run was missed counts its task's later frees).
	 */
	printf("%s: %d rounds, %d elements, %d freed in an owner's destroy, ",
	       kind->name, r.round, created, bss->freed_in_destroy);
	printf("%d by map free, the destroy work or a delete, %d unseen; ",
	       freed - bss->freed_in_destroy, bss->frees_unseen);
	printf("%d of %d maps freed %s %d ms after the last round\n", bss->map_frees,
	       r.filled_maps, done ? "within" : "(not all yet)", waited_ms);
	ASSERT_EQ(r.round, NR_ROUNDS, "rounds");
	ASSERT_EQ(bss->track_errors, 0, "tracking errors");
	check_count("elements created", created, r.updates,
		    recursion_misses(r.skel->progs.elem_created));
	/*
	 * A free the programs missed shows when its address comes back: it
	 * counts as freed, if a missed run can explain it.
	 */
	free_misses = recursion_misses(r.skel->progs.elem_kfree_rcu) +
		      recursion_misses(r.skel->progs.elem_call_srcu);
	ASSERT_LE(bss->frees_unseen, free_misses, "frees no program saw");
	check_count("elements freed", freed + bss->frees_unseen, created,
		    free_misses - bss->frees_unseen);
	check_count("map frees", bss->map_frees, r.filled_maps,
		    recursion_misses(r.skel->progs.map_free_start));

	if (kind->type == BPF_MAP_TYPE_SK_STORAGE) {
		/*
		 * Map free uncharged the elements of the round maps, and the bare
		 * survivor's storage each time it took its last element.
		 */
		ASSERT_EQ(sk_optmem(r.survivors[BARE]), r.survivor_omem[BARE],
			  "bare survivor optmem");
		ASSERT_EQ(sk_optmem(r.survivors[KEPT]), r.survivor_omem[KEPT],
			  "kept survivor optmem");
		/*
		 * The kept survivor's destroy meets the keeper map's element, and
		 * returns the storage's mem_charge for bpf_sk_storage_free() to
		 * uncharge: right only if every map free took its elements off
		 * mem_charge as it uncharged them.
		 */
		close_fd(&r.survivors[BARE]);
		close_fd(&r.survivors[KEPT]);
		wait_for(sockets_freed, &r, &waited_ms);
		check_count("sockets freed", bss->sk_freed, r.sockets,
			    recursion_misses(r.skel->progs.sk_storage_freed));
		if (!ASSERT_EQ(bss->sk_omem_left, 0, "sockets with optmem left"))
			printf("last optmem left: %d\n", bss->sk_omem_last);
	}
out:
	/* The survivors go first: the kept one's destroy meets the keeper's element. */
	kind->cleanup(&r);
	close_fd(&r.keeper_fd);
out_destroy:
	local_storage_teardown_race__destroy(r.skel);
}

void test_local_storage_teardown_race(void)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(kinds); i++)
		if (test__start_subtest(kinds[i].name))
			run(&kinds[i]);
}
