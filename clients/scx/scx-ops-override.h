/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Force-included (clang -include, clients/scx/scx-bpf-clang) ahead of a
 * tools/sched_ext BPF scheduler so that the harness can set struct
 * sched_ext_ops fields without touching the upstream sources: the ops
 * definition macros are redefined to append designated initializers, which
 * take precedence over the scheduler's own (C11 6.7.9p19: the last
 * initializer of a member wins; clang notes it with -Winitializer-overrides,
 * which is silenced here).
 *
 *   -DSCX_OVERRIDE_TIMEOUT_MS=N   ops.timeout_ms (the kernel caps it at 30000)
 */
#include <scx/common.bpf.h>

#ifdef SCX_OVERRIDE_TIMEOUT_MS
#pragma clang diagnostic ignored "-Winitializer-overrides"
/* One body for both ops types; the last initializer of timeout_ms wins. */
#define SCX_OVERRIDE_OPS(__type, __name, ...)					\
	SEC(".struct_ops.link")							\
	struct __type __name = {						\
		__VA_ARGS__,							\
		.timeout_ms = SCX_OVERRIDE_TIMEOUT_MS,				\
	};
#undef SCX_OPS_DEFINE
#define SCX_OPS_DEFINE(__name, ...)						\
	SCX_OVERRIDE_OPS(sched_ext_ops, __name, __VA_ARGS__)
#undef SCX_OPS_CID_DEFINE
#define SCX_OPS_CID_DEFINE(__name, ...)						\
	SCX_OVERRIDE_OPS(sched_ext_ops_cid, __name, __VA_ARGS__)
#endif
