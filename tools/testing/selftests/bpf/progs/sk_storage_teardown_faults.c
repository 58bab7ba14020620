// SPDX-License-Identifier: GPL-2.0
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

/* The socket under test, by SO_COOKIE, and what its destroy left behind. */
__u64 cookie;
int destroyed;
int omem_after_destroy = -1;

struct value {
	__u64 data[8];
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct value);
} sk_map_a SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct value);
} sk_map_b SEC(".maps");

SEC("fexit/bpf_sk_storage_free")
int BPF_PROG(sk_storage_freed, struct sock *sk)
{
	if (!cookie || sk->__sk_common.skc_cookie.counter != cookie)
		return 0;

	destroyed++;
	omem_after_destroy = sk->sk_omem_alloc.counter;
	return 0;
}

char _license[] SEC("license") = "GPL";
