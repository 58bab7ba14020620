// SPDX-License-Identifier: GPL-2.0

#include <linux/bpf.h>

#ifdef CONFIG_BPF_SYSCALL
#include <asm/rqspinlock.h>

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
#endif /* CONFIG_BPF_SYSCALL */
