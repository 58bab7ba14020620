// SPDX-License-Identifier: GPL-2.0
/*
 * sk_diag: iproute2's ss as a real client of the socket storage diag.
 *
 * ss asks inet_diag for the socket storage of each TCP socket it lists,
 * of all maps (--bpf-maps) or of the maps it names (--bpf-map-id=ID), and
 * prints each value from its map's BTF. The kernel serves the request with
 * bpf_sk_storage_diag_alloc(), _put() and _free(), which no BPF selftest
 * calls.
 *
 * A listener on 127.0.0.1 and both ends of NR_CONNS connections get values
 * in the socket storage maps of sk_diag.bpf.c: in A only, in A and B (whose
 * value holds a bpf_spin_lock), in B only, or in none; none in C. ss must
 * list each socket with exactly the values it has in the maps asked for.
 * Then eight sockets get a value in each of maps D0 to D4, each as large as
 * a socket storage element can be (8120 bytes, see sk_diag.h): their nest
 * in a reply, 40684 bytes, does not fit in the 32448-byte skbs of a dump,
 * so inet_diag must retry each of these sockets in an skb of the size
 * bpf_sk_storage_diag_put() reports. Some values are deleted. Requests ss
 * does not make (a map named twice, a map of another type, a bad
 * descriptor, no CAP_BPF) are sent by hand. Last, the maps must be freed
 * once our descriptors are closed: no diag may keep a reference to them.
 *
 * Prints "ok N - what" or "not ok N - what" for each check, diagnostics on
 * "#" lines, and last "sk_diag: PASS" or "sk_diag: FAIL (k of n)"; exits 0
 * on PASS.
 */
#define _GNU_SOURCE
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "sk_diag.h"
#include "sk_diag.skel.h"

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif

#define NR_CONNS	32
/* The listener is socket 0, then each connection's client and accepted end. */
#define NR_SOCKS	(1 + 2 * NR_CONNS)
/* At most this many values of one socket are kept to check. */
#define MAX_SHOWN	8
/*
 * The room of each skb of a dump: SKB_WITH_OVERHEAD(32768), with the
 * 320-byte skb_shared_info of x86_64 and arm64. netlink_recvmsg() records
 * the largest read up to that, and netlink_dump() trims each skb to it (to
 * NLMSG_GOODSIZE, 3776 bytes, before the first read). A socket whose
 * storage does not fit (bpf_sk_storage_diag_put() returns -EMSGSIZE and the
 * size it needs) makes inet_sk_diag_fill() raise cb->min_dump_alloc to the
 * socket's message: __inet_diag_dump() grows the skb with
 * pskb_expand_head() if the socket came first in it, else the next skb of
 * the dump is allocated that large. Nothing else makes a datagram longer.
 */
#define DUMP_SKB_SIZE	32448

enum {
	MAP_A, MAP_B, MAP_C,
	MAP_D0, MAP_D1, MAP_D2, MAP_D3, MAP_D4,
	NR_MAPS
};

static_assert(NR_MAPS - MAP_D0 == SK_DIAG_NR_BIG, "maps D0 to D4");
static_assert(SK_DIAG_ELEM_HEADER + sizeof(struct sk_diag_big) ==
	      SK_DIAG_ELEM_MAX, "a D value is as large as an element can be");

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define BIT_OF(m)	(1U << (m))
#define ALL_MAPS	(BIT_OF(NR_MAPS) - 1)
#define BIG_MAPS	(ALL_MAPS & ~(BIT_OF(MAP_D0) - 1))

static const char *const map_names[NR_MAPS] = {
	"A", "B", "C", "D0", "D1", "D2", "D3", "D4",
};

static struct {
	int fd;
	__u32 id;
} maps[NR_MAPS];

static struct sock_info {
	int fd;
	__u64 cookie;
	unsigned short lport;
	unsigned short rport;	/* 0 for the listener */
	unsigned int has;	/* BIT_OF() each map the socket has a value in */
} socks[NR_SOCKS];

static int tests, failed;
/* The largest datagram a direct request's dump has read. */
static int raw_max_len;

/* Each value tells its socket: a value shown for the wrong one fails. */
static __u32 a_magic(int k)
{
	return 0xa5000000 | k;
}

static __u32 b_tag(int k)
{
	return 0xb0000000 | k;
}

/* Above 32 bits, to tell a 64-bit value printed whole from a truncated one. */
static __u64 b_counter(int k)
{
	return (__u64)(k + 1) << 32 | 0xb0b;
}

static bool is_big_map(int m)
{
	return m >= MAP_D0;
}

/* Socket @k's value in map @m, one of D0 to D4. */
static __u32 big_seq(int m, int k)
{
	return 0xd0000000 | (m - MAP_D0) << 8 | k;
}

/*
 * Every 100th word tells its socket, map and index in decimal, above 32
 * bits: socket 17's word 300 in D2 is 18 03 00000300. The others are digits
 * that differ by map and socket, and shift with the index: a copy off by a
 * word or from another value does not match.
 */
static __u64 big_word(int m, int k, int j)
{
	int d = m - MAP_D0;

	if (j % 100)
		return (j + k + d) % 10;
	return (k + 1) * 10000000000ULL + (d + 1) * 100000000ULL + j;
}

static bool check(bool ok, const char *fmt, ...)
{
	va_list ap;

	tests++;
	if (!ok)
		failed++;
	printf("%sok %d - ", ok ? "" : "not ", tests);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	return ok;
}

static void diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* Prints @text as diagnostics, at most @max lines of it. */
static void diag_text(const char *what, const char *text, int max)
{
	const char *line = text;
	int n = 0;

	diag("%s:", what);
	while (*line && n < max) {
		int len = strcspn(line, "\n"), shown = len;

		/* ss pads its last column with spaces. */
		while (shown && line[shown - 1] == ' ')
			shown--;
		printf("# | %.*s\n", shown, line);
		line += len;
		if (*line)
			line++;
		n++;
	}
	if (*line)
		diag("| ... (%zu more bytes)", strlen(line));
}

static const char *sock_desc(int k)
{
	static char buf[96];
	const struct sock_info *s = &socks[k];

	if (!k)
		snprintf(buf, sizeof(buf), "socket 0 (listener :%u, sk:%llx)",
			 s->lport, (unsigned long long)s->cookie);
	else
		snprintf(buf, sizeof(buf), "socket %d (%s :%u -> :%u, sk:%llx)",
			 k, k % 2 ? "client" : "accepted", s->lport, s->rport,
			 (unsigned long long)s->cookie);
	return buf;
}

static const char *maps_str(unsigned int mask)
{
	static char buf[4][32];
	static int next;
	char *p = buf[next++ % 4];
	int m, n = 0;

	if (!mask)
		return "none";
	for (m = 0; m < NR_MAPS; m++)
		if (mask & BIT_OF(m))
			n += sprintf(p + n, "%s%s", n ? "," : "", map_names[m]);
	return p;
}

static int map_of_id(__u32 id)
{
	int m;

	for (m = 0; m < NR_MAPS; m++)
		if (maps[m].id == id)
			return m;
	return -1;
}

static int sock_init(int k, int fd, bool listener)
{
	struct sock_info *s = &socks[k];
	socklen_t clen = sizeof(s->cookie);
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	s->fd = fd;
	if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &s->cookie, &clen) ||
	    getsockname(fd, (struct sockaddr *)&sa, &len))
		return -1;
	s->lport = ntohs(sa.sin_port);
	if (listener)
		return 0;
	len = sizeof(sa);
	if (getpeername(fd, (struct sockaddr *)&sa, &len))
		return -1;
	s->rport = ntohs(sa.sin_port);
	return 0;
}

static int make_sockets(void)
{
	struct sockaddr_in addr = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	socklen_t len = sizeof(addr);
	int lfd, i;

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		return -1;
	socks[0].fd = lfd;
	if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(lfd, NR_CONNS) ||
	    getsockname(lfd, (struct sockaddr *)&addr, &len) ||
	    sock_init(0, lfd, true))
		return -1;
	for (i = 0; i < NR_CONNS; i++) {
		int c, s;

		c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (c < 0)
			return -1;
		socks[1 + 2 * i].fd = c;
		if (connect(c, (struct sockaddr *)&addr, sizeof(addr)))
			return -1;
		s = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (s < 0)
			return -1;
		socks[2 + 2 * i].fd = s;
		if (sock_init(1 + 2 * i, c, false) ||
		    sock_init(2 + 2 * i, s, false))
			return -1;
	}
	return 0;
}

static bool map_update(int m, int k, const void *value, __u64 flags)
{
	if (!bpf_map_update_elem(maps[m].fd, &socks[k].fd, value, flags))
		return true;
	diag("%s: map %s: update (flags %#llx): %s", sock_desc(k),
	     map_names[m], (unsigned long long)flags, strerror(errno));
	return false;
}

/*
 * Socket k has values in A and B as k % 4 is 0: A, 1: A and B, 2: B,
 * 3: none. All sockets are connected by now: none of them was cloned from
 * a listener with storage.
 */
static bool store_small(void)
{
	bool ok = true;
	int k;

	for (k = 0; k < NR_SOCKS; k++) {
		static const unsigned int plan[4] = {
			BIT_OF(MAP_A), BIT_OF(MAP_A) | BIT_OF(MAP_B),
			BIT_OF(MAP_B), 0,
		};
		unsigned int has = plan[k % 4];
		struct sk_diag_a a = { .magic = a_magic(k),
				       .cookie = socks[k].cookie };
		struct sk_diag_b b = { .tag = b_tag(k), .counter = 1 };

		socks[k].has = has;
		if (has & BIT_OF(MAP_A))
			ok &= map_update(MAP_A, k, &a, BPF_NOEXIST);
		if (!(has & BIT_OF(MAP_B)))
			continue;
		/*
		 * Created, then updated under its lock as a program would
		 * (BPF_F_LOCK copies all but the lock), and read back so.
		 */
		ok &= map_update(MAP_B, k, &b, BPF_NOEXIST);
		b.counter = b_counter(k);
		ok &= map_update(MAP_B, k, &b, BPF_EXIST | BPF_F_LOCK);
		memset(&b, 0xff, sizeof(b));
		if (bpf_map_lookup_elem_flags(maps[MAP_B].fd, &socks[k].fd, &b,
					      BPF_F_LOCK) ||
		    b.tag != b_tag(k) || b.counter != b_counter(k)) {
			diag("%s: map B: lookup (BPF_F_LOCK) gives tag %#x counter %#llx: %s",
			     sock_desc(k), b.tag, (unsigned long long)b.counter,
			     strerror(errno));
			ok = false;
		}
	}
	return ok;
}

/*
 * Every 16 sockets, two get a large value in each of D0 to D4: one also has
 * A and B, one none.
 */
static bool is_big(int k)
{
	return k % 16 == 1 || k % 16 == 3;
}

/*
 * Socket storage is charged to the socket's option memory, each element's
 * elem_size and the storage itself, within net.core.optmem_max (128 KiB by
 * default, 20 KiB in older kernels). A socket with all values takes
 * 5 * 8192 bytes for D0 to D4, 2 * 88 for A and B and about 200 for its
 * storage, 41 KiB: raise the limit to 1 MiB, so that it is never what
 * fails here.
 */
static bool raise_optmem_max(void)
{
	FILE *f = fopen("/proc/sys/net/core/optmem_max", "w");
	bool ok;

	if (!f)
		return false;
	ok = fprintf(f, "%d\n", 1 << 20) > 0;
	return !fclose(f) && ok;
}

static bool store_big(void)
{
	static struct sk_diag_big big;
	bool ok = true;
	int k, m, j;

	if (!raise_optmem_max()) {
		diag("raise net.core.optmem_max: %s", strerror(errno));
		return false;
	}
	for (k = 0; k < NR_SOCKS; k++) {
		if (!is_big(k))
			continue;
		for (m = MAP_D0; m < NR_MAPS; m++) {
			big.seq = big_seq(m, k);
			for (j = 0; j < SK_DIAG_BIG_WORDS; j++)
				big.words[j] = big_word(m, k, j);
			ok &= map_update(m, k, &big, BPF_NOEXIST);
			socks[k].has |= BIT_OF(m);
		}
	}
	return ok;
}

static bool map_delete(int m, int k)
{
	socks[k].has &= ~BIT_OF(m);
	if (!bpf_map_delete_elem(maps[m].fd, &socks[k].fd))
		return true;
	diag("%s: map %s: delete: %s", sock_desc(k), map_names[m],
	     strerror(errno));
	return false;
}

/*
 * Deletes A from the sockets with A and B, B from those with B only, and
 * D1 and D3 from the first socket with large values only: they show what
 * is left, if any. That socket's nest then fits in an skb of the dump
 * (4 + 3 * 8136 bytes); the other sockets with large values keep all five.
 */
static bool delete_some(void)
{
	bool ok = true;
	int k;

	for (k = 0; k < NR_SOCKS; k++) {
		if (k % 4 == 1)
			ok &= map_delete(MAP_A, k);
		else if (k % 4 == 2)
			ok &= map_delete(MAP_B, k);
	}
	ok &= map_delete(MAP_D1, 3);
	ok &= map_delete(MAP_D3, 3);
	return ok;
}

static const char *ss_path(void)
{
	static const char *const paths[] = {
		"/usr/bin/ss", "/bin/ss", "/usr/sbin/ss", "/sbin/ss",
	};
	const char *env = getenv("SS");
	size_t i;

	if (env)
		return env;
	for (i = 0; i < ARRAY_SIZE(paths); i++)
		if (!access(paths[i], X_OK))
			return paths[i];
	return "ss";
}

/* The whole content of the file @fd, NUL-terminated; NULL on error. */
static char *slurp(int fd)
{
	off_t len = lseek(fd, 0, SEEK_END);
	size_t done = 0;
	char *buf;

	if (len < 0 || lseek(fd, 0, SEEK_SET) < 0)
		return NULL;
	buf = malloc(len + 1);
	if (!buf)
		return NULL;
	while (done < (size_t)len) {
		ssize_t n = read(fd, buf + done, len - done);

		if (n <= 0) {
			free(buf);
			return NULL;
		}
		done += n;
	}
	buf[len] = '\0';
	return buf;
}

struct ss_out {
	char *out;	/* standard output */
	char *err;	/* standard error */
	int status;	/* as waitpid() reports it */
};

/*
 * Runs ss with @args (NULL-terminated). Its output goes to memory files,
 * not pipes: with the large values it is some 300 KiB, and ss writes it
 * all at the end.
 */
static int run_ss(const char *const args[], struct ss_out *r)
{
	const char *argv[16] = { "ss" };
	int out, err, n;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	for (n = 1; args[n - 1] && n < 15; n++)
		argv[n] = args[n - 1];
	out = memfd_create("ss-stdout", MFD_CLOEXEC);
	err = memfd_create("ss-stderr", MFD_CLOEXEC);
	fflush(stdout);
	pid = out < 0 || err < 0 ? -1 : fork();
	if (!pid) {
		if (dup2(out, STDOUT_FILENO) < 0 || dup2(err, STDERR_FILENO) < 0)
			_exit(126);
		execvp(ss_path(), (char *const *)argv);
		fprintf(stderr, "exec %s: %s\n", ss_path(), strerror(errno));
		_exit(127);
	}
	if (pid > 0 && waitpid(pid, &r->status, 0) == pid) {
		r->out = slurp(out);
		r->err = slurp(err);
	}
	close(out);
	close(err);
	return r->out && r->err ? 0 : -1;
}

/* A socket's line in ss's output, with the lines under it (its storage). */
struct record {
	const char *text;
	__u64 cookie;
	bool has_cookie;
};

/*
 * Splits ss's output @out in place into records, each NUL-terminated: a
 * socket's line starts in the first column, the storage lines under it are
 * indented (ss without -O). The header line is a record without "sk:".
 */
static int split_records(char *out, struct record **recsp)
{
	struct record *recs = NULL;
	int n = 0, cap = 0, i;
	char *line = out;

	while (*line) {
		char *nl = strchr(line, '\n');

		if (!isspace((unsigned char)*line)) {
			if (line > out)
				line[-1] = '\0';
			if (n == cap) {
				cap = cap ? 2 * cap : 64;
				recs = realloc(recs, cap * sizeof(*recs));
				if (!recs)
					return -1;
			}
			recs[n++] = (struct record){ .text = line };
		}
		if (!nl)
			break;
		line = nl + 1;
	}
	for (i = 0; i < n; i++) {
		const char *sk = strstr(recs[i].text, " sk:");
		const char *nl = strchr(recs[i].text, '\n');
		char *end;

		/* ss -e prints the socket's cookie in hex, on its line. */
		if (!sk || (nl && sk > nl))
			continue;
		recs[i].cookie = strtoull(sk + 4, &end, 16);
		recs[i].has_cookie = end != sk + 4;
	}
	*recsp = recs;
	return n;
}

struct shown {
	__u32 id;
	char *body;	/* what follows "map_id:ID", up to the next one */
};

/*
 * The values ss printed in @text: each one is "map_id:ID" then the value
 * as libbpf's btf_dump__dump_type_data() prints it. Returns how many, of
 * which at most @max are kept in @sh.
 */
static int parse_shown(const char *text, struct shown *sh, int max)
{
	static const char key[] = "map_id:";
	const char *p = strstr(text, key);
	int n = 0;

	while (p) {
		const char *next;
		char *end;
		unsigned long id = strtoul(p + strlen(key), &end, 10);

		next = strstr(end, key);
		if (n < max) {
			sh[n].id = id;
			sh[n].body = strndup(end, next ? (size_t)(next - end) :
						   strlen(end));
		}
		n++;
		p = next;
	}
	return n;
}

static void free_shown(struct shown *sh, int n)
{
	int i;

	for (i = 0; i < n && i < MAX_SHOWN; i++)
		free(sh[i].body);
}

/* The number at @p, for a diagnostic. */
static const char *token(const char *p)
{
	static char buf[24];

	while (isspace((unsigned char)*p))
		p++;
	snprintf(buf, sizeof(buf), "\"%.*s\"", (int)strcspn(p, ",\n"), p);
	return buf;
}

/*
 * Where the value of member @name starts in a value btf_dump printed: after
 * ".name = (type)". NULL if there is none.
 */
static const char *member(const char *body, const char *name)
{
	char key[32];
	const char *p;

	snprintf(key, sizeof(key), ".%s = (", name);
	p = strstr(body, key);
	if (!p)
		return NULL;
	p = strchr(p + strlen(key), ')');
	return p ? p + 1 : NULL;
}

static bool expect_member(int k, int m, const char *body, const char *name,
			  __u64 want)
{
	const char *p = member(body, name);
	unsigned long long got;
	char *end;

	if (!p || !isdigit((unsigned char)*p)) {
		diag("%s: map %s: no member .%s in what ss printed",
		     sock_desc(k), map_names[m], name);
		return false;
	}
	errno = 0;
	got = strtoull(p, &end, 10);
	if (errno || *end != ',' || got != want) {
		diag("%s: map %s: .%s is %s, expected %llu", sock_desc(k),
		     map_names[m], name, token(p), (unsigned long long)want);
		return false;
	}
	return true;
}

/*
 * btf_dump prints an array as [e0,e1,...,], with newlines unless -O, and
 * without a type cast for each element.
 */
static bool expect_words(int k, int m, const char *body)
{
	const char *p = member(body, "words");
	int j;

	if (!p || *p != '[') {
		diag("%s: map %s: no member .words in what ss printed",
		     sock_desc(k), map_names[m]);
		return false;
	}
	p++;
	for (j = 0; j < SK_DIAG_BIG_WORDS; j++) {
		unsigned long long got;
		char *end;

		errno = 0;
		got = strtoull(p, &end, 10);
		if (errno || end == p || *end != ',' ||
		    got != big_word(m, k, j)) {
			diag("%s: map %s: .words[%d] is %s, expected %llu",
			     sock_desc(k), map_names[m], j, token(p),
			     (unsigned long long)big_word(m, k, j));
			return false;
		}
		p = end + 1;
	}
	while (isspace((unsigned char)*p))
		p++;
	if (*p != ']') {
		diag("%s: map %s: .words has more than %d words", sock_desc(k),
		     map_names[m], SK_DIAG_BIG_WORDS);
		return false;
	}
	return true;
}

static bool expect_value(int k, int m, const char *body)
{
	switch (m) {
	case MAP_A:
		return expect_member(k, m, body, "magic", a_magic(k)) &&
		       expect_member(k, m, body, "cookie", socks[k].cookie);
	case MAP_B:
		/* The diag zeroes the lock word in its copy. */
		return expect_member(k, m, body, "val", 0) &&
		       expect_member(k, m, body, "tag", b_tag(k)) &&
		       expect_member(k, m, body, "counter", b_counter(k));
	}
	if (is_big_map(m))
		return expect_member(k, m, body, "seq", big_seq(m, k)) &&
		       expect_words(k, m, body);
	diag("%s: map %s has no values to show", sock_desc(k), map_names[m]);
	return false;
}

/* Whether socket @k's record shows exactly its values of the maps @want. */
static bool expect_record(int k, const struct record *rec, unsigned int want)
{
	unsigned int expected = socks[k].has & want, seen = 0;
	struct shown sh[MAX_SHOWN];
	bool ok = true;
	char port[16];
	int n, i;

	/* The cookie found it; its local address must be ours as well. */
	snprintf(port, sizeof(port), "127.0.0.1:%u ", socks[k].lport);
	if (!strstr(rec->text, port)) {
		diag("%s: ss lists it without its local address", sock_desc(k));
		ok = false;
	}
	n = parse_shown(rec->text, sh, MAX_SHOWN);
	if (n > MAX_SHOWN) {
		diag("%s: ss shows %d values", sock_desc(k), n);
		n = MAX_SHOWN;
		ok = false;
	}
	for (i = 0; i < n; i++) {
		int m = map_of_id(sh[i].id);

		if (m < 0 || !(expected & BIT_OF(m)) || (seen & BIT_OF(m))) {
			diag("%s: ss shows a value of map id %u (%s), expected maps: %s",
			     sock_desc(k), sh[i].id,
			     m < 0 ? "not ours" : map_names[m],
			     maps_str(expected));
			ok = false;
			continue;
		}
		seen |= BIT_OF(m);
		ok &= expect_value(k, m, sh[i].body);
	}
	free_shown(sh, n);
	if (seen != expected) {
		diag("%s: ss shows values of maps %s, expected %s", sock_desc(k),
		     maps_str(seen), maps_str(expected));
		ok = false;
	}
	return ok;
}

/*
 * Runs ss -tan -e with @args and checks its listing: every test socket is
 * listed, with exactly the values it has in the maps @want (those the
 * request names, or all), and no other socket shows a value of our maps.
 * With @sample, the records of the first sockets are printed as well.
 */
static void ss_check(const char *what, unsigned int want,
		     const char *const args[], bool sample)
{
	const char *argv[16] = { "-tan", "-e" };
	int listed = 0, with = 0, with_ok = 0, without = 0, without_ok = 0;
	bool others_ok = true, dumped = false, ran;
	struct record *recs = NULL;
	struct ss_out r;
	char cmd[160];
	int nrec, k, i, n;

	for (n = 2; *args && n < 15; n++)
		argv[n] = *args++;
	argv[n] = NULL;
	for (i = 0, n = 0; argv[i] && n < (int)sizeof(cmd); i++)
		n += snprintf(cmd + n, sizeof(cmd) - n, " %s", argv[i]);
	diag("ss%s", cmd);

	ran = !run_ss(argv, &r) && WIFEXITED(r.status) &&
	      !WEXITSTATUS(r.status) && !*r.err;
	check(ran, "%s: ss exits 0, with no error output", what);
	if (!ran) {
		diag("ss status %#x", r.status);
		if (r.err)
			diag_text("its error output", r.err, 20);
	}
	nrec = r.out ? split_records(r.out, &recs) : 0;
	if (nrec < 0)
		nrec = 0;

	for (k = 0; k < NR_SOCKS; k++) {
		const struct record *rec = NULL;
		bool ok;

		for (i = 0; i < nrec && !rec; i++)
			if (recs[i].has_cookie &&
			    recs[i].cookie == socks[k].cookie)
				rec = &recs[i];
		if (!rec) {
			diag("%s: not listed", sock_desc(k));
			continue;
		}
		listed++;
		if (sample && k < 2)
			diag_text(sock_desc(k), rec->text, 20);
		ok = expect_record(k, rec, want);
		if (socks[k].has & want) {
			with++;
			with_ok += ok;
		} else {
			without++;
			without_ok += ok;
		}
		if (!ok && !dumped) {
			diag_text("what ss printed for it", rec->text, 30);
			dumped = true;
		}
	}
	for (i = 0; i < nrec; i++) {
		struct shown sh[MAX_SHOWN];
		bool ours = false;
		int j;

		for (k = 0; k < NR_SOCKS; k++)
			ours |= recs[i].has_cookie &&
				recs[i].cookie == socks[k].cookie;
		if (ours)
			continue;
		n = parse_shown(recs[i].text, sh, MAX_SHOWN);
		for (j = 0; j < n && j < MAX_SHOWN; j++) {
			if (map_of_id(sh[j].id) < 0)
				continue;
			diag("a socket not ours shows a value of map id %u",
			     sh[j].id);
			diag_text("what ss printed for it", recs[i].text, 5);
			others_ok = false;
		}
		free_shown(sh, n);
	}

	check(listed == NR_SOCKS, "%s: lists all %d test sockets", what,
	      NR_SOCKS);
	if (with)
		check(with_ok == with,
		      "%s: %d sockets show exactly their values", what, with);
	check(without_ok == without && others_ok,
	      "%s: %d sockets without values show none, nor do other sockets",
	      what, without);
	free(recs);
	free(r.out);
	free(r.err);
}

/* Whether the inet_diag message @h has socket storage. */
static bool has_storage(const struct nlmsghdr *h)
{
	const struct nlattr *a;
	int len = h->nlmsg_len - NLMSG_LENGTH(sizeof(struct inet_diag_msg));

	a = (const struct nlattr *)((const char *)NLMSG_DATA(h) +
				    NLMSG_ALIGN(sizeof(struct inet_diag_msg)));
	while (len >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN &&
	       a->nla_len <= len) {
		if ((a->nla_type & NLA_TYPE_MASK) == INET_DIAG_SK_BPF_STORAGES)
			return true;
		len -= NLA_ALIGN(a->nla_len);
		a = (const struct nlattr *)((const char *)a +
					    NLA_ALIGN(a->nla_len));
	}
	return false;
}

/*
 * Sends an inet_diag dump request for TCP sockets whose
 * INET_DIAG_REQ_SK_BPF_STORAGES names the maps @fds, each in an attribute
 * with a payload of @size bytes (4 is right), and reads the dump, counting
 * the sockets with storage in @nr_stored if not NULL. Returns 0 if the dump
 * ran to its end, else the error the kernel answered.
 */
static int raw_diag(const int *fds, int nfds, int size, int *nr_stored)
{
	/*
	 * An skb that inet_diag grew for a socket has room for more sockets:
	 * pskb_expand_head() adds the socket's message (41 KiB here) to its
	 * 32448 bytes and rounds up to a 128 KiB allocation, with room for
	 * 130752 bytes. A longer datagram fails the dump.
	 */
	static char buf[256 * 1024];
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
		char attrs[128];
	} msg;
	struct nlattr *nest = (struct nlattr *)msg.attrs;
	int off = NLA_HDRLEN, err = -EIO, sk, i;

	if (nr_stored)
		*nr_stored = 0;
	memset(&msg, 0, sizeof(msg));
	for (i = 0; i < nfds; i++) {
		struct nlattr *a = (struct nlattr *)(msg.attrs + off);
		__u32 payload[2] = { fds[i], 0 };

		a->nla_type = SK_DIAG_BPF_STORAGE_REQ_MAP_FD;
		a->nla_len = NLA_HDRLEN + size;
		memcpy((char *)a + NLA_HDRLEN, payload, size);
		off += NLA_ALIGN(a->nla_len);
	}
	nest->nla_type = NLA_F_NESTED | INET_DIAG_REQ_SK_BPF_STORAGES;
	nest->nla_len = off;
	msg.nlh.nlmsg_len = NLMSG_LENGTH(sizeof(msg.req)) + off;
	msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	msg.req.sdiag_family = AF_INET;
	msg.req.sdiag_protocol = IPPROTO_TCP;
	msg.req.idiag_states = ~0U;

	sk = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (sk < 0)
		return -errno;
	if (send(sk, &msg, msg.nlh.nlmsg_len, 0) < 0) {
		err = -errno;
		goto out;
	}
	for (;;) {
		/* With MSG_TRUNC, the length of the datagram, even if cut. */
		int len = recv(sk, buf, sizeof(buf), MSG_TRUNC);
		struct nlmsghdr *h;

		if (len < 0) {
			err = -errno;
			goto out;
		}
		if (len > raw_max_len)
			raw_max_len = len;
		if (len > (int)sizeof(buf)) {
			diag("a datagram of %d bytes", len);
			err = -EMSGSIZE;
			goto out;
		}
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (__u32)len);
		     h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_type == NLMSG_DONE) {
				/* A dump that failed half-way says why here. */
				err = h->nlmsg_len >= NLMSG_LENGTH(sizeof(int)) ?
				      *(int *)NLMSG_DATA(h) : 0;
				goto out;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				err = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
				goto out;
			}
			if (nr_stored && h->nlmsg_type == SOCK_DIAG_BY_FAMILY)
				*nr_stored += has_storage(h);
		}
	}
out:
	close(sk);
	return err;
}

static const char *err_str(int err)
{
	static char buf[64];

	if (!err)
		return "success";
	snprintf(buf, sizeof(buf), "-%s", strerrorname_np(-err) ?: "?");
	return buf;
}

static void raw_check(const char *what, const int *fds, int nfds, int size,
		      int want)
{
	int err = raw_diag(fds, nfds, size, NULL);

	if (!check(err == want, "direct request, %s: %s", what, err_str(want)))
		diag("the kernel answered %s", err_str(err));
}

/* A request naming map A, from a process without capabilities. */
static int raw_diag_unprivileged(void)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		struct __user_cap_header_struct hdr = {
			.version = _LINUX_CAPABILITY_VERSION_3,
		};
		struct __user_cap_data_struct data[2] = {};

		if (syscall(SYS_capset, &hdr, data))
			_exit(255);
		_exit(-raw_diag(&maps[MAP_A].fd, 1, sizeof(__u32), NULL) & 0xff);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) == 255)
		return -EIO;
	return -WEXITSTATUS(status);
}

/*
 * The requests ss does not send. Each that fails must fail as C does, and
 * drop the references it took (checked once the maps are closed).
 */
static void raw_checks(void)
{
	int a = maps[MAP_A].fd, b = maps[MAP_B].fd, u32 = sizeof(__u32);
	int array, closed, err, n, k, want;

	raw_check("maps A and B", (int[]){ a, b }, 2, u32, 0);

	/*
	 * The nest of a socket with values in all of D0 to D4 does not fit
	 * in the skbs of the dump: inet_diag must retry the socket in an skb
	 * as large as the diag reported, and send it as a longer datagram.
	 */
	raw_max_len = 0;
	err = raw_diag(NULL, 0, u32, &n);
	for (k = 0, want = 0; k < NR_SOCKS; k++)
		want += !!socks[k].has;
	if (!check(!err && n == want,
		   "direct request, all maps: %d sockets have storage", want))
		diag("the kernel answered %s, with %d", err_str(err), n);
	if (!check(raw_max_len > DUMP_SKB_SIZE,
		   "direct request, all maps: a reply grows past the %d bytes of a dump's skb",
		   DUMP_SKB_SIZE))
		diag("the largest reply was %d bytes", raw_max_len);
	raw_check("map A twice", (int[]){ a, a }, 2, u32, -EEXIST);
	raw_check("map B, then A twice", (int[]){ b, a, a }, 3, u32, -EEXIST);
	raw_check("map A in an 8-byte attribute", (int[]){ a }, 1, 8, -EINVAL);

	array = bpf_map_create(BPF_MAP_TYPE_ARRAY, "sk_diag_array", u32, u32,
			       1, NULL);
	if (!check(array >= 0, "create an array map"))
		diag("%s", strerror(errno));
	raw_check("map B, then an array map", (int[]){ b, array }, 2, u32,
		  -EINVAL);
	close(array);
	raw_check("map B, then a socket", (int[]){ b, socks[0].fd }, 2, u32,
		  -EINVAL);
	/* High enough that the request's own socket does not reuse it. */
	closed = fcntl(b, F_DUPFD_CLOEXEC, 900);
	close(closed);
	raw_check("map B, then a closed descriptor", (int[]){ b, closed }, 2,
		  u32, -EBADF);

	err = raw_diag_unprivileged();
	if (!check(err == -EPERM,
		   "direct request without CAP_BPF and CAP_SYS_ADMIN: -EPERM"))
		diag("the kernel answered %s", err_str(err));
}

/* Whether map @id is gone, once its last reference is: waits a little. */
static bool map_gone(__u32 id)
{
	struct timespec ts = { .tv_nsec = 10 * 1000 * 1000 };
	int i, fd;

	for (i = 0; i < 200; i++) {
		fd = bpf_map_get_fd_by_id(id);
		if (fd < 0)
			return errno == ENOENT;
		close(fd);
		nanosleep(&ts, NULL);
	}
	return false;
}

/*
 * Whether no socket has storage any more. A map's values are deleted after
 * its id is released, by a work item that first waits for an RCU grace
 * period: meanwhile the diag still reports them, with map id 0.
 */
static bool storage_gone(void)
{
	struct timespec ts = { .tv_nsec = 10 * 1000 * 1000 };
	int i, n = -1;

	for (i = 0; i < 1000; i++) {
		int err = raw_diag(NULL, 0, sizeof(__u32), &n);

		if (err) {
			diag("a dump of all maps failed: %s", err_str(err));
			return false;
		}
		if (!n)
			return true;
		nanosleep(&ts, NULL);
	}
	diag("%d sockets still have storage", n);
	return false;
}

static void print_ss_version(void)
{
	static const char *const args[] = { "-V", NULL };
	struct ss_out r;

	if (!run_ss(args, &r))
		diag("%s: %s", ss_path(), strtok(r.out, "\n") ?: "(no version)");
	free(r.out);
	free(r.err);
}

int main(void)
{
	static const char *const all[] = { "--bpf-maps", NULL };
	static const char *const all_oneline[] = { "-O", "--bpf-maps", NULL };
	char id_arg[NR_MAPS][32];
	struct sk_diag_bpf *skel;
	bool ok;
	int m, k;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (k = 0; k < NR_SOCKS; k++)
		socks[k].fd = -1;
	print_ss_version();

	skel = sk_diag_bpf__open_and_load();
	if (!check(skel, "load the socket storage maps")) {
		diag("%s", strerror(errno));
		goto out;
	}
	maps[MAP_A].fd = bpf_map__fd(skel->maps.sk_a);
	maps[MAP_B].fd = bpf_map__fd(skel->maps.sk_b);
	maps[MAP_C].fd = bpf_map__fd(skel->maps.sk_c);
	maps[MAP_D0].fd = bpf_map__fd(skel->maps.sk_d0);
	maps[MAP_D1].fd = bpf_map__fd(skel->maps.sk_d1);
	maps[MAP_D2].fd = bpf_map__fd(skel->maps.sk_d2);
	maps[MAP_D3].fd = bpf_map__fd(skel->maps.sk_d3);
	maps[MAP_D4].fd = bpf_map__fd(skel->maps.sk_d4);
	ok = true;
	for (m = 0; m < NR_MAPS; m++) {
		struct bpf_map_info info = {};
		__u32 len = sizeof(info);

		ok &= !bpf_obj_get_info_by_fd(maps[m].fd, &info, &len);
		maps[m].id = info.id;
		snprintf(id_arg[m], sizeof(id_arg[m]), "--bpf-map-id=%u",
			 info.id);
		diag("map %s: id %u, value size %u", map_names[m], info.id,
		     info.value_size);
	}
	if (!check(ok, "get the maps' ids"))
		goto out;

	if (!check(!make_sockets(), "connect %d TCP sockets to a listener",
		   NR_CONNS)) {
		diag("%s", strerror(errno));
		goto out;
	}
	/* Without it, ss would read /proc/net/tcp: no storage, no cookies. */
	k = raw_diag(NULL, 0, sizeof(__u32), NULL);
	if (!check(!k, "inet_diag answers a TCP dump that asks for storage")) {
		diag("the kernel answered %s: CONFIG_INET_DIAG and CONFIG_INET_TCP_DIAG?",
		     err_str(k));
		goto out;
	}
	check(store_small(), "store values in maps A and B");

	ss_check("--bpf-maps", ALL_MAPS, all, true);
	ss_check("--bpf-map-id=A", BIT_OF(MAP_A),
		 (const char *[]){ id_arg[MAP_A], NULL }, false);
	ss_check("--bpf-map-id=B", BIT_OF(MAP_B),
		 (const char *[]){ id_arg[MAP_B], NULL }, false);
	ss_check("--bpf-map-id=B --bpf-map-id=A",
		 BIT_OF(MAP_A) | BIT_OF(MAP_B),
		 (const char *[]){ id_arg[MAP_B], id_arg[MAP_A], NULL }, false);
	ss_check("--bpf-map-id=C (no values)", BIT_OF(MAP_C),
		 (const char *[]){ id_arg[MAP_C], NULL }, false);
	ss_check("-O --bpf-maps", ALL_MAPS, all_oneline, false);

	check(store_big(), "store %zu-byte values (%zu-byte elements) in maps D0 to D4",
	      sizeof(struct sk_diag_big),
	      SK_DIAG_ELEM_HEADER + sizeof(struct sk_diag_big));
	/* The diag of all maps, then of maps it names, grows the reply. */
	ss_check("large values: --bpf-maps", ALL_MAPS, all, false);
	ss_check("large values: -O --bpf-maps", ALL_MAPS, all_oneline, false);
	ss_check("large values: --bpf-map-id=D4 ... --bpf-map-id=D0", BIG_MAPS,
		 (const char *[]){ id_arg[MAP_D4], id_arg[MAP_D3],
				   id_arg[MAP_D2], id_arg[MAP_D1],
				   id_arg[MAP_D0], NULL }, false);
	/* One large value among many maps: the reply fits. */
	ss_check("large values: --bpf-map-id=A --bpf-map-id=D2",
		 BIT_OF(MAP_A) | BIT_OF(MAP_D2),
		 (const char *[]){ id_arg[MAP_A], id_arg[MAP_D2], NULL },
		 false);

	check(delete_some(), "delete some values");
	ss_check("after deletes: --bpf-maps", ALL_MAPS, all, false);

	raw_checks();

	/*
	 * Our descriptors were the maps' last references, unless a diag
	 * leaked one. Freeing them deletes the values the sockets still have.
	 */
	sk_diag_bpf__destroy(skel);
	skel = NULL;
	ok = true;
	for (m = 0; m < NR_MAPS; m++) {
		if (map_gone(maps[m].id))
			continue;
		diag("map %s (id %u) is still there", map_names[m],
		     maps[m].id);
		ok = false;
	}
	check(ok, "the maps are freed once closed: no diag kept a reference");
	check(storage_gone(), "freeing the maps deleted their values");
	for (k = 0; k < NR_SOCKS; k++)
		socks[k].has = 0;
	ss_check("maps freed: --bpf-maps", ALL_MAPS, all, false);

out:
	sk_diag_bpf__destroy(skel);
	for (k = 0; k < NR_SOCKS; k++)
		if (socks[k].fd >= 0)
			close(socks[k].fd);
	printf("1..%d\n", tests);
	if (failed) {
		printf("sk_diag: FAIL (%d of %d)\n", failed, tests);
		return 1;
	}
	printf("sk_diag: PASS\n");
	return 0;
}
