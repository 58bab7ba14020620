// SPDX-License-Identifier: GPL-2.0

#include <linux/bpf.h>

#ifdef CONFIG_BPF_RQSPINLOCK_RUST
#include <linux/atomic.h>
#include <trace/events/lock.h>
#include "../../kernel/bpf/rqspinlock_rust.h"
#endif

#ifdef CONFIG_BPF_SYSCALL
__rust_helper void rust_helper_raw_res_spin_lock_init(rqspinlock_t *lock)
{
	raw_res_spin_lock_init(lock);
}

__rust_helper int rust_helper_raw_res_spin_lock(rqspinlock_t *lock)
{
	return raw_res_spin_lock(lock);
}

__rust_helper void rust_helper_raw_res_spin_unlock(rqspinlock_t *lock)
{
	raw_res_spin_unlock(lock);
}

__rust_helper int
rust_helper_raw_res_spin_lock_irqsave(rqspinlock_t *lock, unsigned long *flags)
{
	return raw_res_spin_lock_irqsave(lock, *flags);
}

__rust_helper void
rust_helper_raw_res_spin_unlock_irqrestore(rqspinlock_t *lock,
					   unsigned long flags)
{
	raw_res_spin_unlock_irqrestore(lock, flags);
}

__rust_helper bool rust_helper_resilient_virt_spin_lock_enabled(void)
{
	return resilient_virt_spin_lock_enabled();
}

#ifdef CONFIG_BPF_RQSPINLOCK_RUST
/* For the slow path in rust/kernel/bpf/rqspinlock/. */

__rust_helper void rust_helper_release_held_lock_entry(void)
{
	release_held_lock_entry();
}

__rust_helper int rust_helper_resilient_virt_spin_lock(rqspinlock_t *lock)
{
	return resilient_virt_spin_lock(lock);
}

/*
 * The wait step of smp_cond_load_{relaxed,acquire}() on the architectures
 * whose loop uses __cmpwait_relaxed(); it is type-generic, so one helper per
 * type waited on.
 */
#if defined(CONFIG_ARM64) || defined(CONFIG_RISCV_ISA_ZAWRS)
__rust_helper void rust_helper___cmpwait_relaxed_u8(u8 *ptr, u8 val)
{
	__cmpwait_relaxed(ptr, val);
}

__rust_helper void rust_helper___cmpwait_relaxed_u32(u32 *ptr, u32 val)
{
	__cmpwait_relaxed(ptr, val);
}

__rust_helper void rust_helper___cmpwait_relaxed_ptr(void **ptr, void *val)
{
	__cmpwait_relaxed(ptr, val);
}
#endif

__rust_helper void
rust_helper_trace_contention_begin(void *lock, unsigned int flags)
{
	trace_contention_begin(lock, flags);
}

__rust_helper void rust_helper_trace_contention_end(void *lock, int ret)
{
	trace_contention_end(lock, ret);
}

#ifdef CONFIG_QUEUED_SPINLOCKS
__rust_helper u32 rust_helper_queued_fetch_set_pending_acquire(struct qspinlock *lock)
{
	return queued_fetch_set_pending_acquire(lock);
}

__rust_helper int rust_helper_arch_mcs_spin_lock_contended(int *l)
{
	return arch_mcs_spin_lock_contended(l);
}

__rust_helper void rust_helper_arch_mcs_spin_unlock_contended(int *l)
{
	arch_mcs_spin_unlock_contended(l);
}

#ifdef CONFIG_LOCK_EVENT_COUNTS
__rust_helper void rust_helper___lockevent_inc(enum lock_events event, bool cond)
{
	__lockevent_inc(event, cond);
}
#endif
#endif /* CONFIG_QUEUED_SPINLOCKS */
#endif /* CONFIG_BPF_RQSPINLOCK_RUST */
#endif
