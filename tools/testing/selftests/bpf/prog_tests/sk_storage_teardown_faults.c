// SPDX-License-Identifier: GPL-2.0
/*
 * The two teardowns of local storage, owner destroy and map free, must not
 * fail, yet every lock they take is an rqspinlock whose acquisition can.
 * Here the kernel's fault injection (CONFIG_FAIL_BPF_LOCAL_STORAGE,
 * /sys/kernel/debug/fail_bpf_local_storage/) fails each of their four lock
 * acquisitions in turn, on a socket with an element in each of two socket
 * storage maps, and the test checks that nothing leaked:
 *
 *  - the injected failures were all consumed (the path ran);
 *  - both elements were freed (passed to kvfree_call_rcu(), which an fentry
 *    program watches), each by the party that must free it: by the first
 *    party when it retried its lock until it got it, otherwise by the other
 *    one, after the first party freed none;
 *  - the socket's optmem charge (sk_omem_alloc) came back: to its value
 *    before the elements were created after a map free that unlinked them,
 *    and to 0 after bpf_sk_storage_free() in every case;
 *  - the kernel logged no WARN, BUG or leak during the subtest (read from
 *    /dev/kmsg: the teardown warns when it gives up and leaks);
 *  - and, with CONFIG_DEBUG_KMEMLEAK, a kmemleak scan afterwards finds
 *    nothing.
 *
 * Destroy stops at its first lock failure and queues the rest for its
 * destroy work, which retries the storage lock (5 attempts), as map free
 * retries its bucket lock (5 attempts), instead of leaking: failing all but
 * the last attempt must leak nothing. The two other failures are not
 * retried: the other party finishes the element. Destroy, which may run
 * with interrupts off, must meet no more than one failure, however slow
 * each is.
 */
#include <sys/mount.h>
#include <sys/socket.h>
#include <linux/sock_diag.h>
#include <test_progs.h>
#include "local_storage_test_helpers.h"
#include "sk_storage_teardown_faults.skel.h"

#define FAIL_DIR "/sys/kernel/debug/fail_bpf_local_storage"
#define WAIT_MS 10000
#define NR_ELEMS 2	/* one in each map */

static int write_file(const char *path, long val)
{
	char buf[32];
	int fd, len, err = 0;

	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%ld\n", val);
	if (write(fd, buf, len) != len)
		err = -errno;
	close(fd);
	return err;
}

static int write_attr(const char *lock, const char *file, long val)
{
	char path[128];

	snprintf(path, sizeof(path), FAIL_DIR "/%s/%s", lock, file);
	return write_file(path, val);
}

static long read_attr(const char *lock, const char *file)
{
	char path[128], buf[32] = {};
	int fd, n;

	snprintf(path, sizeof(path), FAIL_DIR "/%s/%s", lock, file);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? strtol(buf, NULL, 10) : -EIO;
}

/* Makes the next @times acquisitions of @lock fail, quietly. */
static int arm(const char *lock, long times)
{
	return write_attr(lock, "verbose", 0) ?:
	       write_attr(lock, "interval", 1) ?:
	       write_attr(lock, "probability", 100) ?:
	       write_attr(lock, "times", times);
}

static void disarm(const char *lock)
{
	write_attr(lock, "times", 0);
}

/* Waits until every failure armed on @lock was injected. */
static long wait_consumed(const char *lock)
{
	long left = -1;
	int ms;

	for (ms = 0; ms < WAIT_MS; ms += 10) {
		left = read_attr(lock, "times");
		if (left <= 0)
			break;
		usleep(10000);
	}
	return left;
}

/* Waits until the BPF side's *@count reaches @want; returns its last value. */
static int wait_count(int *count, int want)
{
	int ms;

	for (ms = 0; ms < WAIT_MS && *count < want; ms += 10)
		usleep(10000);
	return *count;
}

static __u32 map_id(const struct bpf_map *map)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_map_get_info_by_fd(bpf_map__fd(map), &info, &len))
		return 0;
	return info.id;
}

/*
 * Two instances of the BPF object: @maps creates the two socket storage
 * maps and loads no program, @progs loads the programs and creates neither
 * map. Destroying @maps frees the maps while the programs of @progs stay
 * attached and count.
 */
struct fixture {
	struct sk_storage_teardown_faults *maps;
	struct sk_storage_teardown_faults *progs;
	struct sk_storage_teardown_faults__bss *bss;	/* of @progs */
	int sk;
	int omem_before;
	int kmsg;
};

static bool load_maps(struct fixture *f)
{
	struct bpf_program *prog;

	f->maps = sk_storage_teardown_faults__open();
	if (!ASSERT_OK_PTR(f->maps, "open maps"))
		return false;
	bpf_object__for_each_program(prog, f->maps->obj)
		bpf_program__set_autoload(prog, false);
	return ASSERT_OK(sk_storage_teardown_faults__load(f->maps), "load maps");
}

static bool load_progs(struct fixture *f)
{
	f->progs = sk_storage_teardown_faults__open();
	if (!ASSERT_OK_PTR(f->progs, "open progs"))
		return false;
	bpf_map__set_autocreate(f->progs->maps.sk_map_a, false);
	bpf_map__set_autocreate(f->progs->maps.sk_map_b, false);
	if (!ASSERT_OK(sk_storage_teardown_faults__load(f->progs), "load progs"))
		return false;

	f->bss = f->progs->bss;
	f->bss->map_a_id = map_id(f->maps->maps.sk_map_a);
	f->bss->map_b_id = map_id(f->maps->maps.sk_map_b);
	if (!ASSERT_NEQ(f->bss->map_a_id, 0, "map a id") ||
	    !ASSERT_NEQ(f->bss->map_b_id, 0, "map b id"))
		return false;
	return ASSERT_OK(sk_storage_teardown_faults__attach(f->progs), "attach");
}

/* A socket with an element in each map, and its optmem before them. */
static bool setup(struct fixture *f)
{
	struct { __u64 data[8]; } val = {};
	socklen_t len;

	memset(f, 0, sizeof(*f));
	f->sk = -1;
	f->kmsg = kmsg_open();
	if (!ASSERT_GE(f->kmsg, 0, "open /dev/kmsg"))
		return false;
	if (!load_maps(f) || !load_progs(f))
		return false;

	f->sk = socket(AF_INET6, SOCK_STREAM, 0);
	if (!ASSERT_GE(f->sk, 0, "socket"))
		return false;
	len = sizeof(f->bss->cookie);
	if (!ASSERT_OK(getsockopt(f->sk, SOL_SOCKET, SO_COOKIE, &f->bss->cookie, &len),
		       "SO_COOKIE"))
		return false;

	f->omem_before = sk_optmem(f->sk);
	if (!ASSERT_GE(f->omem_before, 0, "optmem before"))
		return false;
	if (!ASSERT_OK(bpf_map_update_elem(bpf_map__fd(f->maps->maps.sk_map_a),
					   &f->sk, &val, BPF_NOEXIST), "update a"))
		return false;
	if (!ASSERT_OK(bpf_map_update_elem(bpf_map__fd(f->maps->maps.sk_map_b),
					   &f->sk, &val, BPF_NOEXIST), "update b"))
		return false;
	if (!ASSERT_NEQ(f->bss->elem_sdata[0], 0, "element a seen") ||
	    !ASSERT_NEQ(f->bss->elem_sdata[1], 0, "element b seen"))
		return false;
	return ASSERT_GT(sk_optmem(f->sk), f->omem_before, "optmem charged");
}

/* Checks that @want of the elements were freed, waiting for them. */
static void check_freed(struct fixture *f, int want, const char *name)
{
	int prog_fd = bpf_program__fd(f->progs->progs.elem_freed);
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (ASSERT_EQ(wait_count(&f->bss->elems_freed, want), want, name))
		return;
	/* A free seen while elem_freed runs on the same CPU is not counted. */
	if (!bpf_prog_get_info_by_fd(prog_fd, &info, &len))
		printf("%s: elem_freed missed %llu runs\n", name,
		       (unsigned long long)info.recursion_misses);
}

/* Checks that the socket's bpf_sk_storage_free() ran and left no charge. */
static void check_sk_freed(struct fixture *f)
{
	ASSERT_EQ(wait_count(&f->bss->destroyed, 1), 1, "bpf_sk_storage_free() calls");
	ASSERT_EQ(f->progs->data->omem_after_destroy, 0, "optmem after destroy");
}

static void teardown(struct fixture *f)
{
	sk_storage_teardown_faults__destroy(f->maps);
	if (f->sk >= 0)
		close(f->sk);
	sk_storage_teardown_faults__destroy(f->progs);
	if (f->kmsg >= 0) {
		kmsg_check(f->kmsg);
		close(f->kmsg);
	}
}

/*
 * The maps go first, with @times failures of map free's @lock; then the
 * socket. @retried: map free retries the lock until it gets it, and then
 * unlinks, uncharges and frees both elements itself; otherwise it cannot
 * unlink them from the socket's storage and leaves them to its destroy.
 */
static void map_free_first(const char *lock, long times, bool retried)
{
	struct fixture f;
	int omem = -1, ms;

	if (!setup(&f))
		goto out;

	if (!ASSERT_OK(arm(lock, times), "arm"))
		goto out;
	sk_storage_teardown_faults__destroy(f.maps);
	f.maps = NULL;
	ASSERT_EQ(wait_consumed(lock), 0, "injected failures left");
	check_freed(&f, retried ? NR_ELEMS : 0, "elements freed by map free");
	if (retried) {
		for (ms = 0; ms < WAIT_MS; ms += 10) {
			omem = sk_optmem(f.sk);
			if (omem == f.omem_before)
				break;
			usleep(10000);
		}
		ASSERT_EQ(omem, f.omem_before, "optmem after map free");
	}

	/* The socket's destroy finishes what map free left. */
	close(f.sk);
	f.sk = -1;
	check_sk_freed(&f);
	check_freed(&f, NR_ELEMS, "elements freed");
out:
	disarm(lock);
	teardown(&f);
}

/*
 * The socket goes first, with @times failures of destroy's @lock; then the
 * maps. @retried: destroy's work retries the lock until it gets it, and then
 * frees both elements itself; otherwise it cannot unlink them from the maps'
 * buckets and leaves them to map free. Destroy itself, which may run with
 * interrupts off, meets one failure and stops there; with @stall_us, each
 * injected failure takes that long with interrupts off, as a real timeout
 * does, and the time destroy took is printed.
 */
static void destroy_first(const char *lock, long times, bool retried, long stall_us)
{
	struct fixture f;

	if (!setup(&f))
		goto out;

	if (!ASSERT_OK(write_file(FAIL_DIR "/stall_us", stall_us), "stall_us") ||
	    !ASSERT_OK(arm(lock, times), "arm"))
		goto out;
	close(f.sk);
	f.sk = -1;
	check_sk_freed(&f);
	ASSERT_EQ(f.progs->data->destroy_faults, 1, "injected failures met by destroy");
	if (stall_us)
		printf("%s: destroy took %llu us, %d injected failure(s) of %ld us\n",
		       __func__, (unsigned long long)f.bss->destroy_ns / 1000,
		       f.progs->data->destroy_faults, stall_us);
	ASSERT_EQ(wait_consumed(lock), 0, "injected failures left");
	check_freed(&f, retried ? NR_ELEMS : 0, "elements freed by destroy");

	/* Map free finishes what destroy left. */
	sk_storage_teardown_faults__destroy(f.maps);
	f.maps = NULL;
	check_freed(&f, NR_ELEMS, "elements freed");
out:
	write_file(FAIL_DIR "/stall_us", 0);
	disarm(lock);
	teardown(&f);
}

void test_sk_storage_teardown_faults(void)
{
	if (access(FAIL_DIR, F_OK)) {
		/* test_progs does not mount debugfs itself. */
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
		if (access(FAIL_DIR, F_OK)) {
			test__skip();
			return;
		}
	}

	/*
	 * Retried: all attempts but the last one fail. Destroy stops at its
	 * first failure and the destroy work retries.
	 */
	if (test__start_subtest("map_free_bucket_retried"))
		map_free_first("map_free_bucket", 4, true);
	if (test__start_subtest("destroy_storage_retried"))
		destroy_first("destroy_storage", 2, true, 0);
	/*
	 * Not retried: the other party finishes the elements. Destroy's bucket
	 * lock fails once in destroy, which stops, and once per element in the
	 * destroy work, which leaves the bucket side to map free.
	 */
	if (test__start_subtest("map_free_storage"))
		map_free_first("map_free_storage", 2, false);
	if (test__start_subtest("destroy_bucket"))
		destroy_first("destroy_bucket", NR_ELEMS + 1, false, 0);
	/*
	 * One failure in destroy: it stops there, spinning through no other
	 * lock timeout, and the destroy work, whose locks work, frees both
	 * elements. A destroy that went on past the failure would leave the
	 * first element's bucket side to map free.
	 */
	if (test__start_subtest("destroy_stops_at_first_failure"))
		destroy_first("destroy_bucket", 1, true, 0);
	/*
	 * Every failure as slow as rqspinlock's timeout (RES_DEF_TIMEOUT,
	 * 250 ms): destroy still meets only one; the work meets the others.
	 */
	if (test__start_subtest("destroy_stall"))
		destroy_first("destroy_bucket", NR_ELEMS + 1, false, 250000);
}
