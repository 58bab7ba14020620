/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Resilient Queued Spin Lock: what the Rust slow path needs from C.
 *
 * With CONFIG_BPF_RQSPINLOCK_RUST, resilient_queued_spin_lock_slowpath() and
 * resilient_tas_spin_lock() are implemented in rust/kernel/bpf/rqspinlock/.
 * The per-CPU data they share with the inline fast path is defined in C
 * (rqspinlock_common.c, rqspinlock_rust.c); this header declares its
 * accessors, and gathers the private locking headers whose constants, types
 * and inlines the Rust code uses through bindgen and the Rust helpers.
 *
 * Included by kernel/bpf/rqspinlock_rust.c, rust/bindings/bindings_helper.h
 * and the Rust helpers.
 */
#ifndef __KERNEL_BPF_RQSPINLOCK_RUST_H
#define __KERNEL_BPF_RQSPINLOCK_RUST_H

#include <linux/percpu.h>
#include <asm/rqspinlock.h>

struct rqspinlock_held *rqspinlock_held_locks_ptr(int cpu);
struct rqspinlock_held *rqspinlock_held_locks_this_cpu_ptr(void);

#ifdef CONFIG_QUEUED_SPINLOCKS
/*
 * _Q_MAX_NODES, _Q_PENDING_LOOPS, _Q_LOCKED_PENDING_MASK, struct qnode and
 * queued_fetch_set_pending_acquire(); arch_mcs_spin_{lock,unlock}_contended();
 * enum lock_events and __lockevent_inc().
 */
#include "../locking/qspinlock.h"
#include "../locking/mcs_spinlock.h"
#include "../locking/lock_events.h"

struct qnode *rqspinlock_qnodes_ptr(int cpu);
struct qnode *rqspinlock_qnodes_this_cpu_ptr(void);
#endif /* CONFIG_QUEUED_SPINLOCKS */

#endif /* __KERNEL_BPF_RQSPINLOCK_RUST_H */
