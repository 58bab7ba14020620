// SPDX-License-Identifier: GPL-2.0

//! The slow path of resilient queued spinlocks.
//!
//! The lock types are [`RqSpinLock`] and [`RqSpinLockIrqSave`] in [`kernel::sync`]; their
//! fast path is the C inline `res_spin_lock()`. With `CONFIG_BPF_RQSPINLOCK_RUST` the slow path
//! it calls, `resilient_queued_spin_lock_slowpath()` and the test-and-set fallback
//! `resilient_tas_spin_lock()`, are the ones of this module, and Kbuild leaves out
//! `kernel/bpf/rqspinlock.c`; the KUnit tests run against whichever is built.
//!
//! [`RqSpinLock`]: crate::sync::RqSpinLock
//! [`RqSpinLockIrqSave`]: crate::sync::RqSpinLockIrqSave
//! [`kernel::sync`]: crate::sync
//!
//! C header: [`include/asm-generic/rqspinlock.h`](srctree/include/asm-generic/rqspinlock.h)

use crate::bindings;

#[cfg(all(CONFIG_BPF_RQSPINLOCK_RUST, CONFIG_QUEUED_SPINLOCKS))]
mod events;
#[cfg(CONFIG_BPF_RQSPINLOCK_RUST)]
mod held;
#[cfg(all(CONFIG_BPF_RQSPINLOCK_RUST, CONFIG_QUEUED_SPINLOCKS))]
mod node;
#[cfg(CONFIG_BPF_RQSPINLOCK_RUST)]
mod slowpath;
#[cfg(CONFIG_BPF_RQSPINLOCK_RUST)]
mod timeout;
#[cfg(all(CONFIG_BPF_RQSPINLOCK_RUST, CONFIG_QUEUED_SPINLOCKS))]
mod wait;
#[cfg(CONFIG_BPF_RQSPINLOCK_RUST)]
mod word;

/// Whether contended acquisitions take the test-and-set fallback rather than the MCS queue: always
/// without queued spinlocks, and on x86 hypervisor guests without paravirt spinlocks, where
/// `virt_spin_lock_key` is enabled.
#[inline(always)]
fn contended_path_is_tas() -> bool {
    // SAFETY: Only tests a static key.
    !cfg!(CONFIG_QUEUED_SPINLOCKS) || unsafe { bindings::resilient_virt_spin_lock_enabled() }
}

#[cfg(CONFIG_RUST_BPF_KUNIT_TEST)]
mod tests;
