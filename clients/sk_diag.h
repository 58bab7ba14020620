/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SK_DIAG_H
#define SK_DIAG_H

/*
 * The values of sk_diag's socket storage maps, shared by the BPF object,
 * whose BTF describes them to ss, and the program that stores them. The
 * includer provides __u32, __u64 and struct bpf_spin_lock (linux/bpf.h).
 */

/* Map A. The 4-byte hole after magic is copied but not printed. */
struct sk_diag_a {
	__u32 magic;
	__u64 cookie;	/* the socket's own SO_COOKIE, which ss -e prints */
};

/*
 * Map B. The diag copies a value with a spin lock under that lock, and
 * zeroes the lock word in its copy.
 */
struct sk_diag_b {
	struct bpf_spin_lock lock;
	__u32 tag;
	__u64 counter;
};

/* Map C: no socket has an element in it. */
struct sk_diag_c {
	__u64 unused;
};

/*
 * Maps D0 to D4, each with a value as large as a socket storage element can
 * be. An element is allocated with kmalloc_nolock(), which fails above
 * KMALLOC_MAX_CACHE_SIZE (2 * PAGE_SIZE: 8192 bytes with 4 KiB pages), and
 * holds a 72-byte header before the value (offsetof(struct
 * bpf_local_storage_elem, sdata.data), with 64-byte cache lines): a value
 * takes at most 8120 bytes, as sk_diag_big does (seq, a 4-byte hole, 1014
 * words). Update fails with ENOMEM above that.
 *
 * In a diag reply each value takes 8136 bytes (its nest, map id and value
 * attributes), so a socket with a value in all five maps has a nest of
 * 4 + 5 * 8136 = 40684 bytes: more than the 32448 bytes of the skbs of a
 * dump, which the kernel must grow for it.
 *
 * ss prints each word on a line of its own, as 4 tabs, its digits and ",\n",
 * and cuts what it prints for a socket at 65535 bytes. The words are single
 * digits (7 bytes a line) but for every 100th, which tells the socket, the
 * map and its index (at most 12 digits, 18 bytes a line): with the lines of
 * seq and the brackets, a value prints as at most 7333 bytes (with a 10-digit
 * map id), five as 36665, and with A, B and the socket's details a socket
 * as less than 37.5 KiB.
 */
#define SK_DIAG_NR_BIG		5
#define SK_DIAG_BIG_WORDS	1014
/* The header of an element, and the most kmalloc_nolock() allocates. */
#define SK_DIAG_ELEM_HEADER	72
#define SK_DIAG_ELEM_MAX	8192

struct sk_diag_big {
	__u32 seq;
	__u64 words[SK_DIAG_BIG_WORDS];
};

#endif
