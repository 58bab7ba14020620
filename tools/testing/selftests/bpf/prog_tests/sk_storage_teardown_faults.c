// SPDX-License-Identifier: GPL-2.0
/*
 * The two teardowns of local storage, owner destroy and map free, must not
 * fail, yet every lock they take is an rqspinlock whose acquisition can.
 * Here the kernel's fault injection (CONFIG_FAIL_BPF_LOCAL_STORAGE_LOCK,
 * /sys/kernel/debug/fail_bpf_local_storage/) fails each of their four lock
 * acquisitions in turn, on a socket with an element in each of two socket
 * storage maps, and the test checks that nothing leaked:
 *
 *  - the injected failures were all consumed (the path ran);
 *  - the socket's optmem charge (sk_omem_alloc) came back: to its value
 *    before the elements were created when the maps are freed first, to 0
 *    after bpf_sk_storage_free() when the socket goes first;
 *  - no WARN fired (the teardown warns when it gives up and leaks);
 *  - and, under make check-debug, kmemleak finds nothing afterwards.
 *
 * Destroy retries its storage lock (3 attempts) and map free its bucket
 * lock (5 attempts) instead of leaking, so failing all but the last attempt
 * must leak nothing. The two other failures are not retried: the other
 * party finishes the element.
 */
#include <sys/mount.h>
#include <sys/socket.h>
#include <linux/sock_diag.h>
#include <test_progs.h>
#include "sk_storage_teardown_faults.skel.h"

#define FAIL_DIR "/sys/kernel/debug/fail_bpf_local_storage"
#define TAINT_WARN 9	/* bit of /proc/sys/kernel/tainted */
#define WAIT_MS 10000

static int write_attr(const char *lock, const char *file, long val)
{
	char path[128], buf[32];
	int fd, len, err = 0;

	snprintf(path, sizeof(path), FAIL_DIR "/%s/%s", lock, file);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%ld\n", val);
	if (write(fd, buf, len) != len)
		err = -errno;
	close(fd);
	return err;
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

static unsigned long taint_flags(void)
{
	unsigned long taint = 0;
	FILE *f;

	f = fopen("/proc/sys/kernel/tainted", "r");
	if (!f)
		return 0;
	if (fscanf(f, "%lu", &taint) != 1)
		taint = 0;
	fclose(f);
	return taint;
}

/* Whether a WARN fired since taint_flags() returned @before. */
static bool new_warn(unsigned long before)
{
	return ((taint_flags() & ~before) >> TAINT_WARN) & 1;
}

static int optmem(int sk)
{
	__u32 mem[SK_MEMINFO_VARS] = {};
	socklen_t len = sizeof(mem);

	if (getsockopt(sk, SOL_SOCKET, SO_MEMINFO, mem, &len))
		return -errno;
	return mem[SK_MEMINFO_OPTMEM];
}

struct fixture {
	struct sk_storage_teardown_faults *skel;
	int sk;
	int omem_before;
};

/* A socket with an element in each map, and its optmem before them. */
static bool setup(struct fixture *f)
{
	struct sk_storage_teardown_faults__bss *bss;
	struct { __u64 data[8]; } val = {};
	socklen_t len;

	f->sk = -1;
	f->skel = sk_storage_teardown_faults__open_and_load();
	if (!ASSERT_OK_PTR(f->skel, "open_and_load"))
		return false;
	if (!ASSERT_OK(sk_storage_teardown_faults__attach(f->skel), "attach"))
		return false;

	f->sk = socket(AF_INET6, SOCK_STREAM, 0);
	if (!ASSERT_GE(f->sk, 0, "socket"))
		return false;
	bss = f->skel->bss;
	len = sizeof(bss->cookie);
	if (!ASSERT_OK(getsockopt(f->sk, SOL_SOCKET, SO_COOKIE, &bss->cookie, &len),
		       "SO_COOKIE"))
		return false;

	f->omem_before = optmem(f->sk);
	if (!ASSERT_GE(f->omem_before, 0, "optmem before"))
		return false;
	if (!ASSERT_OK(bpf_map_update_elem(bpf_map__fd(f->skel->maps.sk_map_a),
					   &f->sk, &val, BPF_NOEXIST), "update a"))
		return false;
	if (!ASSERT_OK(bpf_map_update_elem(bpf_map__fd(f->skel->maps.sk_map_b),
					   &f->sk, &val, BPF_NOEXIST), "update b"))
		return false;
	return ASSERT_GT(optmem(f->sk), f->omem_before, "optmem charged");
}

static void teardown(struct fixture *f)
{
	sk_storage_teardown_faults__destroy(f->skel);
	if (f->sk >= 0)
		close(f->sk);
}

/*
 * The maps go first, with @times failures of map free's @lock; then the
 * socket. @uncharged: whether map free itself gives the charge back.
 */
static void map_free_first(const char *lock, long times, bool uncharged)
{
	unsigned long taint = taint_flags();
	struct fixture f;
	int omem = -1, ms;

	if (!setup(&f))
		goto out;

	if (!ASSERT_OK(arm(lock, times), "arm"))
		goto out;
	sk_storage_teardown_faults__destroy(f.skel);
	f.skel = NULL;
	ASSERT_EQ(wait_consumed(lock), 0, "injected failures left");

	if (uncharged) {
		for (ms = 0; ms < WAIT_MS; ms += 10) {
			omem = optmem(f.sk);
			if (omem == f.omem_before)
				break;
			usleep(10000);
		}
		ASSERT_EQ(omem, f.omem_before, "optmem after map free");
	}
	/* The socket's destroy finishes what map free left. */
	close(f.sk);
	f.sk = -1;
	ASSERT_FALSE(new_warn(taint), "new WARN");
out:
	disarm(lock);
	teardown(&f);
}

/* The socket goes first, with @times failures of destroy's @lock; then the maps. */
static void destroy_first(const char *lock, long times)
{
	unsigned long taint = taint_flags();
	struct fixture f;
	int ms;

	if (!setup(&f))
		goto out;

	if (!ASSERT_OK(arm(lock, times), "arm"))
		goto out;
	close(f.sk);
	f.sk = -1;
	for (ms = 0; ms < WAIT_MS && !f.skel->bss->destroyed; ms += 10)
		usleep(10000);
	ASSERT_EQ(f.skel->bss->destroyed, 1, "bpf_sk_storage_free() calls");
	ASSERT_EQ(f.skel->data->omem_after_destroy, 0, "optmem after destroy");
	ASSERT_EQ(wait_consumed(lock), 0, "injected failures left");
	ASSERT_FALSE(new_warn(taint), "new WARN");
out:
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

	/* Retried: all attempts but the last one fail. */
	if (test__start_subtest("map_free_bucket_retried"))
		map_free_first("map_free_bucket", 4, true);
	if (test__start_subtest("destroy_storage_retried"))
		destroy_first("destroy_storage", 2);
	/* Not retried: the other party finishes the elements. */
	if (test__start_subtest("map_free_storage"))
		map_free_first("map_free_storage", 2, false);
	if (test__start_subtest("destroy_bucket"))
		destroy_first("destroy_bucket", 2);
}
