// SPDX-License-Identifier: GPL-2.0

//! Resilient queued spinlocks.
//!
//! An rqspinlock is the lock of BPF maps and local storage: a queued spinlock whose acquisition
//! gives up instead of deadlocking. Taking it returns [`EDEADLK`] when the CPU already holds it
//! (AA) or when two CPUs wait on each other's locks (ABBA), and [`ETIMEDOUT`] when it could not
//! be taken within its timeout. It is the first lock in Rust-for-Linux whose acquisition can
//! fail, so it does not implement [`Backend`](crate::sync::lock::Backend), whose `lock` cannot.
//!
//! C header: [`include/asm-generic/rqspinlock.h`](srctree/include/asm-generic/rqspinlock.h)

use crate::{
    bindings,
    error::to_result,
    prelude::*,
    types::{
        NotThreadSafe,
        Opaque, //
    },
};

// The slow path behind the C fast path `res_spin_lock()`, in place of kernel/bpf/rqspinlock.c's.
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

/// A resilient queued spinlock (`rqspinlock_t`).
///
/// # Examples
///
/// ```
/// use kernel::bpf::rqspinlock::RqSpinLock;
///
/// let lock = KBox::pin_init(RqSpinLock::new(), GFP_KERNEL)?;
/// let guard = lock.lock()?;
/// // The CPU holds the lock already: a second attempt fails at once instead of spinning.
/// assert_eq!(lock.lock().err(), Some(EDEADLK));
/// drop(guard);
/// assert!(lock.lock().is_ok());
/// # Ok::<(), Error>(())
/// ```
///
/// # Invariants
///
/// The inner `rqspinlock_t` is initialised.
#[repr(transparent)]
#[pin_data]
pub struct RqSpinLock {
    #[pin]
    inner: Opaque<bindings::rqspinlock_t>,
}

// SAFETY: An `RqSpinLock` is a lock word that any CPU may take or release; it holds no data of
// its own and nothing in it is tied to the thread that created it.
unsafe impl Send for RqSpinLock {}

// SAFETY: Every operation on the lock word is an atomic operation of the C implementation, which
// is designed to be called concurrently from any context, NMI included.
unsafe impl Sync for RqSpinLock {}

impl RqSpinLock {
    /// Returns an initialiser for an unlocked [`RqSpinLock`].
    pub fn new() -> impl PinInit<Self> {
        // INVARIANT: `raw_res_spin_lock_init` initialises the lock.
        pin_init!(Self {
            inner <- Opaque::ffi_init(|slot| {
                // SAFETY: `slot` is valid for writes for the duration of this closure.
                unsafe { bindings::raw_res_spin_lock_init(slot) }
            }),
        })
    }

    /// Creates a reference to an [`RqSpinLock`] from a pointer to a C `rqspinlock_t`.
    ///
    /// # Safety
    ///
    /// `ptr` points to an initialised `rqspinlock_t` that remains valid for `'a`, and that is
    /// only ever taken through the rqspinlock API.
    #[inline]
    pub unsafe fn from_raw<'a>(ptr: *mut bindings::rqspinlock_t) -> &'a Self {
        // SAFETY: `RqSpinLock` is `repr(transparent)` over `Opaque<rqspinlock_t>`, and the caller
        // guarantees that `ptr` is valid and initialised for `'a`.
        unsafe { &*ptr.cast() }
    }

    /// Returns the raw pointer to the C lock.
    #[inline]
    pub fn as_raw(&self) -> *mut bindings::rqspinlock_t {
        self.inner.get()
    }

    /// Acquires the lock with preemption disabled.
    ///
    /// Returns [`EDEADLK`] on a detected deadlock and [`ETIMEDOUT`] when the lock could not be
    /// taken in time; preemption is enabled again on both.
    #[inline]
    pub fn lock(&self) -> Result<Guard<'_>> {
        // SAFETY: By the type invariant the lock is initialised.
        to_result(unsafe { bindings::raw_res_spin_lock(self.as_raw()) })?;
        // INVARIANT: The lock was just acquired, with preemption disabled.
        Ok(Guard {
            lock: self,
            _not_send: NotThreadSafe,
        })
    }

    /// Acquires the lock with local interrupts saved and disabled.
    ///
    /// Returns [`EDEADLK`] on a detected deadlock and [`ETIMEDOUT`] when the lock could not be
    /// taken in time; the interrupt and preemption state are restored on both.
    #[inline]
    pub fn lock_irqsave(&self) -> Result<IrqSaveGuard<'_>> {
        let mut flags: c_ulong = 0;
        // SAFETY: By the type invariant the lock is initialised, and `flags` is a valid place
        // for the saved interrupt state.
        to_result(unsafe { bindings::raw_res_spin_lock_irqsave(self.as_raw(), &mut flags) })?;
        // INVARIANT: The lock was just acquired, with interrupts disabled and their previous
        // state in `flags`.
        Ok(IrqSaveGuard {
            lock: self,
            flags,
            _not_send: NotThreadSafe,
        })
    }
}

/// A held [`RqSpinLock`], taken with [`RqSpinLock::lock`]; dropping it releases the lock.
///
/// The per-CPU table of held locks is a stack: drop guards in the reverse order of acquisition.
///
/// # Invariants
///
/// The current CPU holds `lock`, with preemption disabled by the acquisition.
#[must_use = "the lock is released when the guard is dropped"]
pub struct Guard<'a> {
    lock: &'a RqSpinLock,
    _not_send: NotThreadSafe,
}

impl Drop for Guard<'_> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: By the type invariant this CPU holds the lock, taken with `raw_res_spin_lock`.
        unsafe { bindings::raw_res_spin_unlock(self.lock.as_raw()) }
    }
}

/// A held [`RqSpinLock`], taken with [`RqSpinLock::lock_irqsave`]; dropping it releases the lock
/// and restores the interrupt state.
///
/// # Invariants
///
/// The current CPU holds `lock`, with interrupts disabled by the acquisition and their previous
/// state saved in `flags`.
#[must_use = "the lock is released when the guard is dropped"]
pub struct IrqSaveGuard<'a> {
    lock: &'a RqSpinLock,
    flags: c_ulong,
    _not_send: NotThreadSafe,
}

impl Drop for IrqSaveGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: By the type invariant this CPU holds the lock, taken with
        // `raw_res_spin_lock_irqsave`, which saved the interrupt state in `flags`.
        unsafe { bindings::raw_res_spin_unlock_irqrestore(self.lock.as_raw(), self.flags) }
    }
}

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
