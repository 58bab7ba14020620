/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the local storage selftests of ours (prog_tests/local_storage_*.c,
 * prog_tests/sk_storage_teardown_faults.c): the kernel log's splats since a
 * point, and a socket's option memory. Include after test_progs.h.
 */
#ifndef __LOCAL_STORAGE_TEST_HELPERS_H
#define __LOCAL_STORAGE_TEST_HELPERS_H

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/sock_diag.h>

/* Opens /dev/kmsg past its current records: kmsg_check() reads the later ones. */
static inline int kmsg_open(void)
{
	int fd;

	fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (fd >= 0 && lseek(fd, 0, SEEK_END) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/*
 * Fails the subtest on every record since kmsg_open() that reports a splat:
 * a WARN (among them the teardown's WARN_ON_ONCE() when it gives up on a
 * lock and leaks, which adds no message of its own: "WARNING: <file>:<line>
 * at <function>, CPU#<n>: <comm>/<pid>"), a BUG (KASAN's "BUG: KASAN: ..."
 * among them), UBSAN, or a leak (kmemleak's "... new suspected memory
 * leaks", or kmemleak giving up because it could not allocate its object).
 */
static inline void kmsg_check(int fd)
{
	static const char *const splats[] = { "WARNING:", "BUG:", "UBSAN:", "leak" };
	char rec[8192], *msg;
	unsigned int i;
	ssize_t n;
	int err;

	for (;;) {
		/* One record per read(), EAGAIN after the last one. */
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EPIPE) {
			/* Overwritten before they were read: any of them may have been a splat. */
			PRINT_FAIL("kernel log records were lost\n");
			continue;
		}
		if (n <= 0)
			break;
		rec[n] = '\0';
		/* "prio,seq,usec,flags;text\n", then " KEY=value" lines. */
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		msg[strcspn(msg, "\n")] = '\0';
		for (i = 0; i < ARRAY_SIZE(splats); i++) {
			if (strstr(msg, splats[i])) {
				PRINT_FAIL("kernel log: %s\n", msg);
				break;
			}
		}
	}
	err = n < 0 ? errno : 0;
	ASSERT_EQ(err, EAGAIN, "read /dev/kmsg to its end");
}

/* A socket's option memory (sk_omem_alloc), which its storage is charged to, or -errno. */
static inline int sk_optmem(int sk)
{
	__u32 mem[SK_MEMINFO_VARS] = {};
	socklen_t len = sizeof(mem);

	if (getsockopt(sk, SOL_SOCKET, SO_MEMINFO, mem, &len))
		return -errno;
	return mem[SK_MEMINFO_OPTMEM];
}

#endif /* __LOCAL_STORAGE_TEST_HELPERS_H */
