// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Resilient Queued Spin Lock: the C side of the Rust slow path
 *
 * With CONFIG_BPF_RQSPINLOCK_RUST, resilient_queued_spin_lock_slowpath() and
 * resilient_tas_spin_lock() are implemented in rust/kernel/bpf/rqspinlock/.
 * Rust cannot name per-CPU variables: it reaches the held-locks table
 * (rqspinlock_common.c) and its queue nodes, defined here, through these
 * accessors. The _this_cpu_ variants must be called with preemption
 * disabled. Like the slow path, this file is built without ftrace: a traced
 * accessor could run a BPF program in the middle of an acquisition.
 */
#include <linux/percpu.h>
#include <asm/rqspinlock.h>

#include "rqspinlock_rust.h"

struct rqspinlock_held *rqspinlock_held_locks_ptr(int cpu)
{
	return per_cpu_ptr(&rqspinlock_held_locks, cpu);
}

struct rqspinlock_held *rqspinlock_held_locks_this_cpu_ptr(void)
{
	return this_cpu_ptr(&rqspinlock_held_locks);
}

#ifdef CONFIG_QUEUED_SPINLOCKS
/*
 * The queue nodes of the Rust slow path, one per nesting level (task,
 * softirq, hardirq, NMI), as in rqspinlock.c for the C one.
 */
static DEFINE_PER_CPU_ALIGNED(struct qnode, rqnodes[_Q_MAX_NODES]);

/* The queue nodes of a CPU: &rqnodes[0]. */
struct qnode *rqspinlock_qnodes_ptr(int cpu)
{
	return per_cpu_ptr(&rqnodes[0], cpu);
}

struct qnode *rqspinlock_qnodes_this_cpu_ptr(void)
{
	return this_cpu_ptr(&rqnodes[0]);
}
#endif /* CONFIG_QUEUED_SPINLOCKS */
