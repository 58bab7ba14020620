// SPDX-License-Identifier: GPL-2.0

//! Resilient queued spinlocks: spinlocks whose acquisition can fail.
//!
//! An rqspinlock (`rqspinlock_t`) is the lock of BPF maps and BPF local storage. BPF programs run
//! in any context, NMI included, and may be attached to functions that run with the lock held, so
//! a CPU can try to take a lock it already holds (AA), and two CPUs can wait for each other's
//! locks (ABBA). A spinlock would hang there; an rqspinlock detects both and fails with
//! [`EDEADLK`], and gives up with [`ETIMEDOUT`] when it could not be taken within its timeout.
//! Its acquisition is therefore a [`FallibleBackend`]: [`RqSpinLock::lock`] returns a
//! [`Result`] of a [`Guard`], never a guard of a lock that is not held.
//!
//! # Interrupts
//!
//! [`RqSpinLockIrqSave`] takes the lock with local interrupts saved and disabled, as
//! `raw_res_spin_lock_irqsave()` does. Use it for every lock that a BPF program or an interrupt
//! handler may also take: with interrupts enabled, an interrupt that arrives while this CPU holds
//! the lock and tries to take it again fails with `EDEADLK`, a failure the interrupted holder
//! caused. Disabling interrupts cannot keep NMIs out; an NMI that tries to take a lock its CPU
//! holds still gets `EDEADLK`, and that failure is what keeps it from hanging.
//!
//! # Release order
//!
//! Each CPU records the rqspinlocks it holds in a small table (`rqspinlock_held_locks`, 31
//! entries) that deadlock detection reads, its own and other CPUs'. The table is a stack: an
//! unlock clears its top entry, whichever lock it releases. Guards must therefore be dropped in
//! the reverse order of acquisition. Dropping an outer guard first clears the entry of the inner
//! lock and leaves a stale entry for the outer one, which is no longer held: until the inner guard
//! is dropped too, a waiter for the outer lock, on this CPU or another, can take that entry for a
//! holder and fail with a false `EDEADLK`. Nesting guards by borrowing (an inner guard that
//! borrows the outer one) makes the compiler enforce the order.
//!
//! Rqspinlocks are not tracked by lockdep, which would report the AA and ABBA orders that an
//! rqspinlock resolves by failing; the lock class that [`new_rqspinlock!`] passes is unused.
//!
//! C header: [`include/asm-generic/rqspinlock.h`](srctree/include/asm-generic/rqspinlock.h)

use super::{
    BackendCore,
    FallibleBackend,
    Guard,
    Lock, //
};
use crate::{
    error::to_result,
    prelude::*, //
};

/// Creates an [`RqSpinLock`] initialiser.
///
/// The name and the lock class are accepted for symmetry with the other locks and unused:
/// rqspinlocks are not tracked by lockdep.
#[macro_export]
macro_rules! new_rqspinlock {
    ($inner:expr $(, $name:literal)? $(,)?) => {
        $crate::sync::RqSpinLock::new(
            $inner, $crate::optional_name!($($name)?), $crate::static_lock_class!())
    };
}
pub use new_rqspinlock;

/// Creates an [`RqSpinLockIrqSave`] initialiser.
///
/// As for [`new_rqspinlock!`], the name and the lock class are unused.
#[macro_export]
macro_rules! new_rqspinlock_irqsave {
    ($inner:expr $(, $name:literal)? $(,)?) => {
        $crate::sync::RqSpinLockIrqSave::new(
            $inner, $crate::optional_name!($($name)?), $crate::static_lock_class!())
    };
}
pub use new_rqspinlock_irqsave;

/// A resilient queued spinlock, taken with preemption disabled.
///
/// Its acquisition fails with [`EDEADLK`] when the CPU already holds the lock or waits in a cycle
/// with another CPU, and with [`ETIMEDOUT`] when the lock could not be taken in time. On failure
/// nothing is held and preemption is as it was.
///
/// # Examples
///
/// ```
/// use kernel::sync::{new_rqspinlock, RqSpinLock};
///
/// let lock = KBox::pin_init(new_rqspinlock!(0u32), GFP_KERNEL)?;
/// let mut guard = lock.lock()?;
/// *guard += 1;
/// // This CPU holds the lock already: a second attempt fails at once instead of spinning.
/// assert_eq!(lock.lock().err(), Some(EDEADLK));
/// drop(guard);
/// assert_eq!(*lock.lock()?, 1);
/// # Ok::<(), Error>(())
/// ```
pub type RqSpinLock<T> = Lock<T, RqSpinLockBackend>;

/// A [`Guard`] of a held [`RqSpinLock`]; dropping it releases the lock.
pub type RqSpinLockGuard<'a, T> = Guard<'a, T, RqSpinLockBackend>;

/// The `rqspinlock_t` backend taken with `raw_res_spin_lock()`.
pub struct RqSpinLockBackend;

// SAFETY: `raw_res_spin_lock()` gives the lock to one CPU at a time, until
// `raw_res_spin_unlock()`; when it fails it has undone its held-lock entry and its preemption
// count.
unsafe impl BackendCore for RqSpinLockBackend {
    type State = bindings::rqspinlock_t;
    type GuardState = ();

    #[inline]
    unsafe fn init(
        ptr: *mut Self::State,
        _name: *const crate::ffi::c_char,
        _key: *mut bindings::lock_class_key,
    ) {
        // SAFETY: The safety requirements ensure that `ptr` is valid for writes.
        unsafe { bindings::raw_res_spin_lock_init(ptr) }
    }

    #[inline]
    unsafe fn unlock(ptr: *mut Self::State, _guard_state: &Self::GuardState) {
        // SAFETY: The safety requirements ensure that `ptr` is valid and that the caller owns the
        // lock, taken with `raw_res_spin_lock()`.
        unsafe { bindings::raw_res_spin_unlock(ptr) }
    }

    #[inline]
    unsafe fn assert_is_held(_ptr: *mut Self::State) {}
}

// SAFETY: See the `BackendCore` implementation; a failed `raw_res_spin_lock()` leaves the lock
// untouched and restores the preemption count.
unsafe impl FallibleBackend for RqSpinLockBackend {
    // Always inlined, as C's `raw_res_spin_lock()` is (a macro): the fast path is a few
    // instructions, and an out-of-line call and its `Result` cost more than it.
    #[inline(always)]
    unsafe fn lock(ptr: *mut Self::State) -> Result<Self::GuardState> {
        // SAFETY: The safety requirements ensure that `ptr` points to an initialised lock.
        to_result(unsafe { bindings::raw_res_spin_lock(ptr) })
    }
}

impl<T: ?Sized> RqSpinLock<T> {
    /// Acquires the lock with preemption disabled and gives access to the data it protects.
    ///
    /// Fails with [`EDEADLK`] on a detected deadlock and [`ETIMEDOUT`] when the lock could not be
    /// taken in time.
    #[inline(always)]
    pub fn lock(&self) -> Result<RqSpinLockGuard<'_, T>> {
        self.lock_fallible()
    }
}

/// A resilient queued spinlock, taken with local interrupts saved and disabled.
///
/// See the [module documentation](self) for when interrupts must be disabled.
///
/// # Examples
///
/// Guards nest in the reverse order of acquisition; here the inner guard borrows the outer one,
/// so it cannot outlive it:
///
/// ```
/// use kernel::sync::{new_rqspinlock_irqsave, RqSpinLockIrqSave, RqSpinLockIrqSaveGuard};
///
/// fn both<'a>(
///     outer: &'a RqSpinLockIrqSaveGuard<'a, u32>,
///     inner: &'a RqSpinLockIrqSave<u32>,
/// ) -> Result<u32> {
///     Ok(**outer + *inner.lock()?)
/// }
///
/// let a = KBox::pin_init(new_rqspinlock_irqsave!(1u32), GFP_KERNEL)?;
/// let b = KBox::pin_init(new_rqspinlock_irqsave!(2u32), GFP_KERNEL)?;
/// let ga = a.lock()?;
/// assert_eq!(both(&ga, &b)?, 3);
/// assert_eq!(both(&ga, &a).err(), Some(EDEADLK));
/// # Ok::<(), Error>(())
/// ```
pub type RqSpinLockIrqSave<T> = Lock<T, RqSpinLockIrqSaveBackend>;

/// A [`Guard`] of a held [`RqSpinLockIrqSave`]; dropping it releases the lock and restores the
/// interrupt state.
pub type RqSpinLockIrqSaveGuard<'a, T> = Guard<'a, T, RqSpinLockIrqSaveBackend>;

/// The `rqspinlock_t` backend taken with `raw_res_spin_lock_irqsave()`.
pub struct RqSpinLockIrqSaveBackend;

// SAFETY: `raw_res_spin_lock_irqsave()` gives the lock to one CPU at a time, until
// `raw_res_spin_unlock_irqrestore()`; the guard state is the interrupt state it saved.
unsafe impl BackendCore for RqSpinLockIrqSaveBackend {
    type State = bindings::rqspinlock_t;
    type GuardState = crate::ffi::c_ulong;

    #[inline]
    unsafe fn init(
        ptr: *mut Self::State,
        name: *const crate::ffi::c_char,
        key: *mut bindings::lock_class_key,
    ) {
        // SAFETY: The same lock word as `RqSpinLockBackend`'s, with the same requirements.
        unsafe { RqSpinLockBackend::init(ptr, name, key) }
    }

    #[inline]
    unsafe fn unlock(ptr: *mut Self::State, flags: &Self::GuardState) {
        // SAFETY: The safety requirements ensure that `ptr` is valid and that the caller owns the
        // lock, taken with `raw_res_spin_lock_irqsave()`, which saved `flags`.
        unsafe { bindings::raw_res_spin_unlock_irqrestore(ptr, *flags) }
    }

    #[inline]
    unsafe fn assert_is_held(_ptr: *mut Self::State) {}
}

// SAFETY: See the `BackendCore` implementation; a failed `raw_res_spin_lock_irqsave()` leaves the
// lock untouched and restores the interrupt state and the preemption count.
unsafe impl FallibleBackend for RqSpinLockIrqSaveBackend {
    #[inline(always)]
    unsafe fn lock(ptr: *mut Self::State) -> Result<Self::GuardState> {
        let mut flags = 0;
        // SAFETY: The safety requirements ensure that `ptr` points to an initialised lock, and
        // `flags` is a valid place for the saved interrupt state.
        to_result(unsafe { bindings::raw_res_spin_lock_irqsave(ptr, &mut flags) })?;
        Ok(flags)
    }
}

impl<T: ?Sized> RqSpinLockIrqSave<T> {
    /// Acquires the lock with local interrupts saved and disabled and gives access to the data it
    /// protects.
    ///
    /// Fails with [`EDEADLK`] on a detected deadlock and [`ETIMEDOUT`] when the lock could not be
    /// taken in time; the interrupt state is restored on failure.
    #[inline(always)]
    pub fn lock(&self) -> Result<RqSpinLockIrqSaveGuard<'_, T>> {
        self.lock_fallible()
    }
}
