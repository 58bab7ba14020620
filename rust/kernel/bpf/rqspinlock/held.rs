// SPDX-License-Identifier: GPL-2.0

//! The per-CPU table of held rqspinlocks.
//!
//! `rqspinlock_held_locks` records, per CPU, the locks it holds or is acquiring: the C fast path
//! (`grab_held_lock_entry()` in `include/asm-generic/rqspinlock.h`) pushes the lock before its
//! cmpxchg, `res_spin_unlock()` pops it, and the slow path pops it with
//! `release_held_lock_entry()` when the acquisition fails. Only the first `RES_NR_HELD` (31)
//! entries are stored; `cnt` keeps counting past them. The deadlock checks read the current
//! CPU's table (AA) and every CPU's top entry (ABBA).
//!
//! The per-CPU variable is defined in C (`kernel/bpf/rqspinlock_common.c`) and shared with the C
//! fast path, so this is only a view of it, through the accessors of
//! `kernel/bpf/rqspinlock_rust.h`.
//!
//! C header: [`include/asm-generic/rqspinlock.h`](srctree/include/asm-generic/rqspinlock.h)

use crate::{
    bindings,
    cpu::CpuId,
    prelude::*,
    sync::atomic::{
        Atomic,
        Relaxed, //
    },
    types::NotThreadSafe,
};

/// `RES_NR_HELD`: the number of entries of a table.
pub(super) const RES_NR_HELD: i32 = bindings::RES_NR_HELD as i32;

/// A CPU's table of held locks, `struct rqspinlock_held`.
///
/// All reads are marked (`READ_ONCE()`): the current CPU's table is written by interrupts and
/// NMIs that nest lock acquisitions, and other CPUs' tables are written concurrently by their
/// owners (`this_cpu_*()` operations and `WRITE_ONCE()`).
///
/// # Invariants
///
/// `self.0` points to the `rqspinlock_held_locks` instance of a possible CPU. Per-CPU memory is
/// never freed, so it is valid for the lifetime of the kernel, and every access to it is a
/// marked access.
pub(super) struct HeldLocks(*mut bindings::rqspinlock_held);

impl HeldLocks {
    /// `this_cpu_ptr(&rqspinlock_held_locks)`.
    ///
    /// # Safety
    ///
    /// Preemption is disabled for as long as the result is used as this CPU's table.
    #[inline(always)]
    pub(super) unsafe fn this_cpu() -> Self {
        // SAFETY: The caller keeps preemption disabled, as `this_cpu_ptr()` requires.
        let rqh = unsafe { bindings::rqspinlock_held_locks_this_cpu_ptr() };
        // INVARIANT: `rqh` is the table of the current, possible, CPU.
        Self(rqh)
    }

    /// `per_cpu_ptr(&rqspinlock_held_locks, cpu)`.
    ///
    /// # Safety
    ///
    /// `cpu` is a possible CPU.
    #[inline(always)]
    pub(super) unsafe fn of_cpu(cpu: CpuId) -> Self {
        // SAFETY: `cpu` is a possible CPU, so it has a per-CPU area.
        let rqh = unsafe { bindings::rqspinlock_held_locks_ptr(i32::from(cpu)) };
        // INVARIANT: `rqh` is the table of the possible CPU `cpu`.
        Self(rqh)
    }

    /// `READ_ONCE(rqh->cnt)`: the number of locks held or being acquired, which may exceed
    /// [`RES_NR_HELD`].
    #[inline(always)]
    pub(super) fn cnt(&self) -> i32 {
        // SAFETY: By the type invariant `self.0` is valid and `cnt` is only accessed with marked
        // accesses.
        unsafe { Atomic::from_ptr(&raw mut (*self.0).cnt) }.load(Relaxed)
    }

    /// `READ_ONCE(rqh->locks[i])`, or NULL if `i` is not a valid index.
    ///
    /// Callers only pass indices below `min(RES_NR_HELD, cnt)`; the bounds check only keeps the
    /// function safe (and panic-free) for any `i`.
    #[inline(always)]
    pub(super) fn entry(&self, i: i32) -> *mut c_void {
        if !(0..RES_NR_HELD).contains(&i) {
            return core::ptr::null_mut();
        }
        // SAFETY: By the type invariant `self.0` is valid; `i` is within the `locks` array,
        // whose elements are only accessed with marked accesses.
        unsafe {
            let locks = (&raw mut (*self.0).locks).cast::<*mut c_void>();
            Atomic::from_ptr(locks.add(i as usize))
        }
        .load(Relaxed)
    }

    /// Whether `lock` is one of the entries below the top one, i.e. held rather than being
    /// acquired, given `cnt` = `min(RES_NR_HELD, rqh->cnt)` read by the caller.
    ///
    /// The loop `for (i = 0; i < cnt - 1; i++) if (rqh->locks[i] == lock)` of the C checks.
    #[inline(always)]
    pub(super) fn holds(&self, cnt: i32, lock: *mut c_void) -> bool {
        (0..cnt.wrapping_sub(1)).any(|i| self.entry(i) == lock)
    }
}

/// The held-locks entry of the acquisition in progress on this CPU.
///
/// The C fast path pushed it with `grab_held_lock_entry()` before calling the slow path. If the
/// acquisition fails, the slow path pops it with [`HeldEntry::release`]; if it succeeds, the
/// entry stays until `res_spin_unlock()` and the [`HeldEntry`] is simply dropped.
///
/// # Invariants
///
/// Preemption is disabled, the top entry of this CPU's table belongs to the acquisition, and
/// it was not popped yet.
pub(super) struct HeldEntry {
    table: HeldLocks,
    _not_send: NotThreadSafe,
}

impl HeldEntry {
    /// Takes charge of the entry that the caller of the slow path pushed.
    ///
    /// # Safety
    ///
    /// Preemption is disabled for the lifetime of the result, and the current CPU pushed the
    /// lock being acquired with `grab_held_lock_entry()` and did not pop it.
    #[inline(always)]
    pub(super) unsafe fn assume_grabbed() -> Self {
        // INVARIANT: Guaranteed by the caller.
        Self {
            // SAFETY: The caller keeps preemption disabled.
            table: unsafe { HeldLocks::this_cpu() },
            _not_send: NotThreadSafe,
        }
    }

    /// This CPU's table.
    #[inline(always)]
    pub(super) fn table(&self) -> &HeldLocks {
        &self.table
    }

    /// `release_held_lock_entry()`: pops the entry after a failed acquisition.
    ///
    /// Clears the top entry, then `smp_wmb()`, then `this_cpu_dec(cnt)`: the barrier keeps a
    /// later acquisition's entry from being observed before the cleared one, see the comment
    /// of the C inline, which this calls.
    #[inline(always)]
    pub(super) fn release(self) {
        // SAFETY: By the type invariant preemption is disabled and the top entry of this CPU's
        // table is ours, not popped yet; `self` is consumed, so it is popped only once.
        unsafe { bindings::release_held_lock_entry() };
    }
}
