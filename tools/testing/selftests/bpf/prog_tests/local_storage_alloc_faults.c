// SPDX-License-Identifier: GPL-2.0
/*
 * Allocation failures during the creates and updates of the four local
 * storage types (task, cgroup, inode and socket storage), injected with
 * the calling thread's fail-nth (/proc/thread-self/fail-nth; see
 * Documentation/fault-injection/fault-injection.rst): after N is written
 * there, the thread's Nth fault point (failslab, fail_page_alloc, any
 * should_fail()) fails, and reading it back gives 0 once that failure was
 * injected. Each operation is swept, the syzkaller way: N = 1, 2, ... until
 * an attempt meets no armed failure and must have done its work. Every
 * attempt must
 *
 *  - fail with exactly -ENOMEM, or succeed: a failure may land where it is
 *    tolerated (an index that is not built, kmemleak's object, which falls
 *    back to its pool);
 *  - if it failed, leave the owner as it was: the element absent after a
 *    failed create, with its old value after a failed replace or delete,
 *    the owner's other elements untouched, and a socket's option memory
 *    (sk_omem_alloc, which its storage is charged to) where it was;
 *  - for bpf_*_storage_get(F_CREATE) in a program run by the system call,
 *    return NULL or an element holding the init value, and NULL only when
 *    a failure was injected.
 *
 * The kernel must log no WARN, BUG or leak meanwhile (read from /dev/kmsg;
 * with CONFIG_DEBUG_KMEMLEAK, a kmemleak scan afterwards finds the rest).
 *
 * The fault points: elements, storages and indexes come from
 * kmalloc_nolock(), which calls neither should_failslab() nor
 * should_fail_alloc_page(), so local storage has an attribute of its own,
 * /sys/kernel/debug/fail_bpf_local_storage/alloc (CONFIG_FAIL_BPF_LOCAL_STORAGE),
 * asked before each of those allocations by both implementations; fail-nth
 * counts it. Where the kernel has failslab too, the sweeps also meet the
 * system calls' own allocations (the copies of the key and the value, map
 * creation). Every operation that allocates an element must meet at least
 * one fault point; each sweep prints how many it met.
 */
#define _GNU_SOURCE
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/sock_diag.h>
#include <test_progs.h>
#include "cgroup_helpers.h"
#include "task_local_storage_helpers.h"
#include "local_storage_test_helpers.h"
#include "local_storage_alloc_faults.skel.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD	O_EXCL
#endif

#define FAIL_NTH	"/proc/thread-self/fail-nth"
#define FAILSLAB_DIR	"/sys/kernel/debug/failslab"
#define ALLOC_ATTR_DIR	"/sys/kernel/debug/fail_bpf_local_storage/alloc"
#define NOT_RUN		(-100000)
#define INIT_V		42
/* More maps than the 16 cache slots of a storage: the owner gets an index. */
#define NR_MAPS		24
/* The map with a bpf_spin_lock in its value, for BPF_F_LOCK updates */
#define LMAP		NR_MAPS
/* The map the armed program creates its element in */
#define HMAP		(NR_MAPS + 1)
#define NR_SLOTS	(NR_MAPS + 2)
/* A value written by the system calls: never INIT_V, nor an errno */
#define VALUE(slot, gen)	(1000 * (gen) + (slot))
/* Past this many attempts, the operation fails however late the failure is. */
#define MAX_NTH		500

/* Which program runs on the next trigger; the same values as the BPF side's. */
#define ARM_NONE	0
#define ARM_TASK	1
#define ARM_CGRP	2
#define ARM_INODE	3
#define ARM_SK		4

struct lval {
	__u32 lock;
	int v;
};

struct owner {
	const char *kind;
	enum bpf_map_type type;
	int key;		/* the owner's fd, the key of the map system calls */
	int arm;		/* ARM_*: the program that creates on the owner */
	int (*trigger)(struct owner *o);	/* runs that program */
	struct local_storage_alloc_faults *skel;
	struct bpf_map *lmap, *hmap;	/* the skeleton's maps of this kind */
	int fail_fd;		/* the fail-nth of the thread that runs the operations */
	int map[NR_SLOTS];
	int want[NR_SLOTS];	/* what each map holds for the owner, or -ENOENT */
	int optmem_base;	/* a socket's option memory without storage */
};

enum op_kind {
	OP_UPDATE,
	OP_DELETE,
	OP_GET_CREATE,		/* the program's bpf_*_storage_get(F_CREATE) */
	OP_MAP_CREATE,		/* a map of the owner's storage type */
};

struct op {
	const char *name;
	enum op_kind kind;
	int slot;		/* the map: an index in owner.map */
	int value;		/* what an update writes */
	__u64 flags;		/* an update's */
};

/* Whether @op allocates an element (a create, or a replace but in place). */
static bool allocates(const struct op *op)
{
	if (op->kind == OP_GET_CREATE)
		return true;
	return op->kind == OP_UPDATE &&
	       (op->flags & (BPF_F_LOCK | BPF_EXIST)) != (BPF_F_LOCK | BPF_EXIST);
}

struct result {
	int err;		/* the system call's: 0 or -errno */
	int left;		/* fail-nth after it: 0 once the failure was injected */
	int map_fd;		/* what OP_MAP_CREATE created, or -1 */
};

static int write_file(const char *path, const char *val)
{
	int fd, len = strlen(val), err = 0;

	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	if (write(fd, val, len) != len)
		err = -errno;
	close(fd);
	return err;
}

/* Reads @path into @buf, at most @size - 1 bytes, NUL terminated. */
static int read_file(const char *path, char *buf, size_t size)
{
	int fd, n;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	buf[n] = '\0';
	return 0;
}

/* Arms the thread's fail-nth: its @n-th fault point from now on fails; 0 disarms. */
static int fail_nth_set(int fd, int n)
{
	char buf[16];
	int len;

	len = snprintf(buf, sizeof(buf), "%d", n);
	return pwrite(fd, buf, len, 0) == len ? 0 : -errno;
}

/* What is left of the countdown: 0 once the armed failure was injected. */
static int fail_nth_left(int fd)
{
	char buf[16] = {};
	int n;

	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	return atoi(buf);
}

/* A socket's option memory (sk_omem_alloc); 0 for the other owners. */
static int optmem(const struct owner *o)
{
	return o->type == BPF_MAP_TYPE_SK_STORAGE ? sk_optmem(o->key) : 0;
}

/* The value of the owner's element of @map, or -errno (-ENOENT: none). */
static int lookup(int map, int key, bool lock)
{
	struct lval lv = { .v = NOT_RUN };
	int err;

	if (lock)
		err = bpf_map_lookup_elem_flags(map, &key, &lv, BPF_F_LOCK);
	else
		err = bpf_map_lookup_elem(map, &key, &lv.v);
	return err ?: lv.v;
}

static int update(int map, int key, int v, bool lock, __u64 flags)
{
	struct lval lv = { .v = v };

	return bpf_map_update_elem(map, &key, lock ? (void *)&lv : (void *)&v, flags);
}

/* A map of the owner's storage type, with the BTF of the program's. */
static int create_map(const struct owner *o)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_NO_PREALLOC);

	opts.btf_fd = bpf_object__btf_fd(o->skel->obj);
	opts.btf_key_type_id = bpf_map__btf_key_type_id(o->hmap);
	opts.btf_value_type_id = bpf_map__btf_value_type_id(o->hmap);
	/* No name: libbpf would probe the kernel for map names first. */
	return bpf_map_create(o->type, NULL, sizeof(int), sizeof(int), 0, &opts);
}

/*
 * One attempt at @op with the thread's @n-th fault point armed (nothing
 * armed if @n is 0). Between arming and reading back, only the operation's
 * one system call runs: everything else the attempt touches is set up
 * before. Returns 0, or the error of fail-nth itself.
 */
static int attempt(struct owner *o, const struct op *op, int n, struct result *r)
{
	struct local_storage_alloc_faults__bss *bss = o->skel->bss;
	int err;

	r->map_fd = -1;
	o->skel->data->got = NOT_RUN;
	o->skel->data->got_value = NOT_RUN;
	/* Only the trigger runs the program: arming first is safe. */
	if (op->kind == OP_GET_CREATE)
		bss->armed = o->arm;
	err = fail_nth_set(o->fail_fd, n);
	if (err) {
		bss->armed = ARM_NONE;
		return err;
	}
	switch (op->kind) {
	case OP_UPDATE:
		r->err = update(o->map[op->slot], o->key, op->value, op->slot == LMAP, op->flags);
		break;
	case OP_DELETE:
		r->err = bpf_map_delete_elem(o->map[op->slot], &o->key);
		break;
	case OP_GET_CREATE:
		r->err = o->trigger(o);
		break;
	case OP_MAP_CREATE:
		r->map_fd = create_map(o);
		r->err = r->map_fd < 0 ? r->map_fd : 0;
		break;
	}
	r->left = fail_nth_left(o->fail_fd);
	/* Disarmed before anything else runs, whether the failure was injected or not. */
	err = fail_nth_set(o->fail_fd, 0);
	bss->armed = ARM_NONE;
	return r->left < 0 ? r->left : err;
}

/* Fails the subtest with a message that names the owner, the operation and N. */
__printf(4, 5)
static bool op_fail(const struct owner *o, const struct op *op, int n, const char *fmt, ...)
{
	va_list ap;

	PRINT_FAIL("%s %s (map %d), fail-nth %d: ", o->kind, op->name, op->slot, n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	return false;
}

/* Checks every element of the owner against what it should hold. */
static bool check_state(const struct owner *o, const struct op *op, int n)
{
	int i, v;

	for (i = 0; i < NR_SLOTS; i++) {
		v = lookup(o->map[i], o->key, i == LMAP);
		if (v != o->want[i])
			return op_fail(o, op, n, "map %d holds %d, not %d", i, v, o->want[i]);
	}
	return true;
}

/* What the map of @op holds for the owner once @op is done. */
static int value_after(const struct op *op)
{
	switch (op->kind) {
	case OP_DELETE:
		return -ENOENT;
	case OP_GET_CREATE:
		return INIT_V;
	default:
		return op->value;
	}
}

/*
 * Undoes an attempt that succeeded although a failure was injected (it
 * landed where a failure is tolerated), for the next attempt to start from
 * the same state: the value @op found comes back.
 */
static int undo(struct owner *o, const struct op *op, int before)
{
	int map = o->map[op->slot], err;

	if (before == -ENOENT)
		err = bpf_map_delete_elem(map, &o->key);
	else
		err = update(map, o->key, before, op->slot == LMAP, BPF_ANY);
	if (!err)
		o->want[op->slot] = before;
	return err;
}

/*
 * Checks one attempt: its result, then the owner's elements, then, after
 * undoing an attempt that succeeded with a failure injected, the elements
 * and option memory as they were before (@before, @omem).
 */
static bool check_attempt(struct owner *o, const struct op *op, int n,
			  const struct result *r, int before, int omem)
{
	bool injected = !r->left, done = !r->err;
	int got = o->skel->data->got, got_value = o->skel->data->got_value, err;

	if (r->map_fd >= 0)
		close(r->map_fd);
	if (r->err && r->err != -ENOMEM)
		return op_fail(o, op, n, "returned %d (%s), not -ENOMEM", r->err,
			       strerror(-r->err));
	if (op->kind == OP_GET_CREATE) {
		/* Its system call may fail before or after the program ran. */
		if (got == NOT_RUN && !r->err)
			return op_fail(o, op, n, "the program did not run");
		if (got == 1 && got_value != INIT_V)
			return op_fail(o, op, n, "get gave an element holding %d, not %d",
				       got_value, INIT_V);
		done = got == 1;
	}
	if (!injected && !done)
		return op_fail(o, op, n, "failed (%d, get %d) with no failure injected",
			       r->err, got);
	if (op->kind == OP_MAP_CREATE)
		return true;

	if (done)
		o->want[op->slot] = value_after(op);
	if (!check_state(o, op, n))
		return false;
	if (!injected)
		return true;
	if (done) {
		err = undo(o, op, before);
		if (err)
			return op_fail(o, op, n, "undo: %d", err);
		if (!check_state(o, op, n))
			return false;
	}
	if (optmem(o) != omem)
		return op_fail(o, op, n, "socket option memory %d, not %d", optmem(o), omem);
	return true;
}

/*
 * Sweeps @op: attempt N has the Nth fault point of its system call fail,
 * for N = 1, 2, ... until an attempt meets no armed failure and does the
 * operation. Returns false on the first check that fails: the rest of the
 * owner's operations would start from an unknown state.
 */
static bool sweep(struct owner *o, const struct op *op)
{
	int before = o->want[op->slot], omem = optmem(o), n, err;
	struct result r;

	for (n = 1; n <= MAX_NTH; n++) {
		err = attempt(o, op, n, &r);
		if (err)
			return op_fail(o, op, n, "fail-nth: %d", err);
		if (!check_attempt(o, op, n, &r, before, omem))
			return false;
		if (!r.left)
			continue;
		printf("%s %s (map %d): %d fault points\n", o->kind, op->name, op->slot,
		       n - r.left);
		/* Nothing was injected at n == 1: no fault point on the way. */
		if (allocates(op) && n == 1)
			return op_fail(o, op, n, "allocated an element past every fault point");
		return true;
	}
	return op_fail(o, op, MAX_NTH, "still failing");
}

static bool sweep_op(struct owner *o, const char *name, enum op_kind kind, int slot,
		     int value, __u64 flags)
{
	struct op op = {
		.name = name,
		.kind = kind,
		.slot = slot,
		.value = value,
		.flags = flags,
	};

	return sweep(o, &op);
}

/*
 * Runs the code of every kind of attempt once with nothing armed and
 * nothing changed, so that none of its pages is first touched while a
 * failure is armed: the page fault would meet the failure itself.
 */
static bool warm_up(struct owner *o)
{
	const struct op ops[] = {
		{ .name = "warm_up", .kind = OP_UPDATE, .value = 1, .flags = BPF_EXIST },
		{ .name = "warm_up", .kind = OP_UPDATE, .slot = LMAP, .value = 1,
		  .flags = BPF_F_LOCK | BPF_EXIST },
		{ .name = "warm_up", .kind = OP_DELETE },
		{ .name = "warm_up", .kind = OP_MAP_CREATE },
	};
	struct result r;
	unsigned int i;
	int err;

	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		err = attempt(o, &ops[i], 0, &r);
		if (r.map_fd >= 0)
			close(r.map_fd);
		/* On an owner without elements: -ENOENT, but for the map. */
		if (!ASSERT_OK(err, "warm up fail-nth") ||
		    !ASSERT_EQ(r.err, ops[i].kind == OP_MAP_CREATE ? 0 : -ENOENT, "warm up"))
			return false;
	}
	/* The trigger, with the program not armed. */
	return ASSERT_OK(o->trigger(o), "warm up trigger");
}

/*
 * The operations, in an order that takes the owner through each state
 * worth failing in: no storage, a few elements, more elements than cache
 * slots (an index), and back to none.
 */
static bool run_ops(struct owner *o)
{
	int i;

	/* Map creation: the map and its buckets (fault points with failslab only). */
	if (!sweep_op(o, "map_create", OP_MAP_CREATE, 0, 0, 0))
		return false;
	/* No storage: a create allocates it and the element; the delete frees both. */
	if (!sweep_op(o, "get_create_first", OP_GET_CREATE, HMAP, 0, 0) ||
	    !sweep_op(o, "delete_last", OP_DELETE, HMAP, 0, 0) ||
	    !sweep_op(o, "update_first", OP_UPDATE, 0, VALUE(0, 1), BPF_NOEXIST))
		return false;
	/* A storage with elements: creates in other maps, replaces, BPF_F_LOCK. */
	if (!sweep_op(o, "update_second", OP_UPDATE, 1, VALUE(1, 1), BPF_NOEXIST) ||
	    !sweep_op(o, "update_exist", OP_UPDATE, 0, VALUE(0, 2), BPF_EXIST) ||
	    !sweep_op(o, "update_lock_create", OP_UPDATE, LMAP, VALUE(LMAP, 1), BPF_F_LOCK) ||
	    !sweep_op(o, "update_lock_in_place", OP_UPDATE, LMAP, VALUE(LMAP, 2),
		      BPF_F_LOCK | BPF_EXIST) ||
	    !sweep_op(o, "update_lock_map_replace", OP_UPDATE, LMAP, VALUE(LMAP, 3), BPF_ANY) ||
	    !sweep_op(o, "get_create_more", OP_GET_CREATE, HMAP, 0, 0))
		return false;
	/* Past the cache slots: the creates build the index, then go in it. */
	for (i = 2; i < NR_MAPS; i++)
		if (!sweep_op(o, "update_many", OP_UPDATE, i, VALUE(i, 1), BPF_NOEXIST))
			return false;
	if (!sweep_op(o, "update_indexed", OP_UPDATE, 0, VALUE(0, 3), BPF_ANY) ||
	    !sweep_op(o, "delete_indexed", OP_DELETE, HMAP, 0, 0) ||
	    !sweep_op(o, "get_create_indexed", OP_GET_CREATE, HMAP, 0, 0))
		return false;
	/* Down to none: the deletes shrink the index, then drop it, then the storage. */
	for (i = NR_SLOTS - 1; i >= 0; i--)
		if (!sweep_op(o, "delete_all", OP_DELETE, i, 0, 0))
			return false;
	return true;
}

/* All of an owner's sweeps, from the thread whose fail-nth they arm. */
static void test_owner(struct owner *o)
{
	int kmsg, i;

	for (i = 0; i < NR_SLOTS; i++) {
		o->map[i] = -1;
		o->want[i] = -ENOENT;
	}
	kmsg = kmsg_open();
	o->fail_fd = open(FAIL_NTH, O_RDWR);
	if (!ASSERT_GE(kmsg, 0, "open /dev/kmsg") || !ASSERT_GE(o->fail_fd, 0, "open fail-nth"))
		goto out;
	for (i = 0; i < NR_MAPS; i++) {
		o->map[i] = create_map(o);
		if (!ASSERT_GE(o->map[i], 0, "create map"))
			goto out;
	}
	o->map[LMAP] = bpf_map__fd(o->lmap);
	o->map[HMAP] = bpf_map__fd(o->hmap);
	o->skel->bss->target_tid = sys_gettid();
	o->optmem_base = optmem(o);
	if (!ASSERT_GE(o->optmem_base, 0, "optmem") || !warm_up(o))
		goto out;

	if (run_ops(o))
		/* Every element is gone, and with the storage all of its charge. */
		ASSERT_EQ(optmem(o), o->optmem_base, "socket option memory at the end");
out:
	if (o->fail_fd >= 0) {
		fail_nth_set(o->fail_fd, 0);
		close(o->fail_fd);
	}
	for (i = 0; i < NR_MAPS; i++)
		if (o->map[i] >= 0)
			close(o->map[i]);
	if (kmsg >= 0) {
		kmsg_check(kmsg);
		close(kmsg);
	}
}

static int trigger_getpgid(struct owner *o)
{
	return syscall(__NR_getpgid, 0) < 0 ? -errno : 0;
}

static int trigger_fstat(struct owner *o)
{
	struct stat st;

	return fstat(o->key, &st) ? -errno : 0;
}

static int trigger_getsockopt(struct owner *o)
{
	socklen_t len = sizeof(int);
	int type;

	return getsockopt(o->key, SOL_SOCKET, SO_TYPE, &type, &len) ? -errno : 0;
}

/* A new thread is an owner that has never had storage. */
static void *task_thread(void *arg)
{
	struct owner *o = arg;

	o->key = sys_pidfd_open(sys_gettid(), PIDFD_THREAD);
	if (ASSERT_GE(o->key, 0, "pidfd_open")) {
		test_owner(o);
		close(o->key);
	}
	return NULL;
}

static void test_task(struct local_storage_alloc_faults *skel)
{
	struct owner o = {
		.kind = "task",
		.type = BPF_MAP_TYPE_TASK_STORAGE,
		.arm = ARM_TASK,
		.trigger = trigger_getpgid,
		.skel = skel,
		.lmap = skel->maps.task_lmap,
		.hmap = skel->maps.task_map,
	};
	pthread_t thread;

	if (ASSERT_OK(pthread_create(&thread, NULL, task_thread, &o), "pthread_create"))
		pthread_join(thread, NULL);
}

/* The program's cgroup is that of the thread: the test's process joins it. */
static void test_cgrp(struct local_storage_alloc_faults *skel)
{
	struct owner o = {
		.kind = "cgrp",
		.type = BPF_MAP_TYPE_CGRP_STORAGE,
		.arm = ARM_CGRP,
		.trigger = trigger_getpgid,
		.skel = skel,
		.lmap = skel->maps.cgrp_lmap,
		.hmap = skel->maps.cgrp_map,
	};

	o.key = test__join_cgroup("/ls_alloc_faults");
	if (!ASSERT_GE(o.key, 0, "join cgroup"))
		return;
	test_owner(&o);
	close(o.key);
}

static void test_inode(struct local_storage_alloc_faults *skel)
{
	struct owner o = {
		.kind = "inode",
		.type = BPF_MAP_TYPE_INODE_STORAGE,
		.arm = ARM_INODE,
		.trigger = trigger_fstat,
		.skel = skel,
		.lmap = skel->maps.inode_lmap,
		.hmap = skel->maps.inode_map,
	};
	char path[] = "/tmp/ls_alloc_faults_XXXXXX";

	o.key = mkstemp(path);
	if (!ASSERT_GE(o.key, 0, "mkstemp"))
		return;
	test_owner(&o);
	close(o.key);
	unlink(path);
}

static void test_sk(struct local_storage_alloc_faults *skel)
{
	struct owner o = {
		.kind = "sk",
		.type = BPF_MAP_TYPE_SK_STORAGE,
		.arm = ARM_SK,
		.trigger = trigger_getsockopt,
		.skel = skel,
		.lmap = skel->maps.sk_lmap,
		.hmap = skel->maps.sk_map,
	};

	o.key = socket(AF_INET, SOCK_STREAM, 0);
	if (!ASSERT_GE(o.key, 0, "socket"))
		return;
	test_owner(&o);
	close(o.key);
}

/*
 * Whether fail-nth and local storage's allocation attribute are there;
 * says why not if they are not.
 */
static bool fault_injection_present(void)
{
	if (access(FAIL_NTH, F_OK)) {
		printf("%s: SKIP: no %s: needs CONFIG_FAULT_INJECTION\n", __func__, FAIL_NTH);
		return false;
	}
	if (access(ALLOC_ATTR_DIR, F_OK)) {
		/* test_progs does not mount debugfs itself. */
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
		if (access(ALLOC_ATTR_DIR, F_OK)) {
			printf("%s: SKIP: no %s: needs CONFIG_FAIL_BPF_LOCAL_STORAGE\n",
			       __func__, ALLOC_ATTR_DIR);
			return false;
		}
	}
	return true;
}

/*
 * The attributes' settings for the sweeps, and the values they had.
 * fail-nth bypasses probability, interval, times and the task filter, but
 * not verbose, which would log each injected failure with a stack trace,
 * nor failslab's ignore-gfp-wait, which leaves out every allocation that
 * may sleep (the system calls' copies among them). failslab's are set
 * where the kernel has it.
 */
static const struct {
	const char *path;
	const char *value;
	bool optional;
} attrs[] = {
	{ ALLOC_ATTR_DIR "/verbose", "0", false },
	{ FAILSLAB_DIR "/ignore-gfp-wait", "N", true },
	{ FAILSLAB_DIR "/verbose", "0", true },
};

static char attrs_saved[ARRAY_SIZE(attrs)][16];

static int attrs_set(bool restore)
{
	unsigned int i;
	int err;

	for (i = 0; i < ARRAY_SIZE(attrs); i++) {
		if (restore) {
			if (attrs_saved[i][0])
				write_file(attrs[i].path, attrs_saved[i]);
			continue;
		}
		if (attrs[i].optional && access(attrs[i].path, F_OK))
			continue;
		err = read_file(attrs[i].path, attrs_saved[i], sizeof(attrs_saved[i])) ?:
		      write_file(attrs[i].path, attrs[i].value);
		if (err)
			return err;
	}
	return 0;
}

void serial_test_local_storage_alloc_faults(void)
{
	struct local_storage_alloc_faults *skel = NULL;

	if (!fault_injection_present()) {
		test__skip();
		return;
	}
	if (!ASSERT_OK(attrs_set(false), "fault attribute settings"))
		goto out;
	skel = local_storage_alloc_faults__open_and_load();
	if (!ASSERT_OK_PTR(skel, "open_and_load") ||
	    !ASSERT_OK(local_storage_alloc_faults__attach(skel), "attach"))
		goto out;
	skel->data->trigger_nr = __NR_getpgid;

	if (test__start_subtest("task"))
		test_task(skel);
	if (test__start_subtest("cgrp"))
		test_cgrp(skel);
	if (test__start_subtest("inode"))
		test_inode(skel);
	if (test__start_subtest("sk"))
		test_sk(skel);
out:
	local_storage_alloc_faults__destroy(skel);
	attrs_set(true);
}
