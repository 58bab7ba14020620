// SPDX-License-Identifier: GPL-2.0

//! The MCS queue nodes of rqspinlock waiters.
//!
//! Each CPU owns `_Q_MAX_NODES` (4) `struct qnode`s, `rqnodes` in `kernel/bpf/rqspinlock_rust.c`:
//! one per context that can nest a lock acquisition (task, softirq, hardirq, NMI). They are
//! defined in C, because Rust cannot define per-CPU variables; Rust reaches them through the
//! accessors declared in `kernel/bpf/rqspinlock_rust.h`. `rqnodes[0].mcs.count` is the
//! number of nodes in use on the CPU.
//!
//! C headers: [`kernel/locking/mcs_spinlock.h`](srctree/kernel/locking/mcs_spinlock.h),
//! [`kernel/locking/qspinlock.h`](srctree/kernel/locking/qspinlock.h)

use super::wait::smp_cond_load_relaxed;
use crate::{
    bindings,
    cpu::CpuId,
    prelude::*,
    sync::atomic::{
        Atomic,
        Relaxed, //
    },
};

/// `node->locked` value with which a queue head that timed out makes its successor leave the
/// queue too (the normal MCS hand-over writes 1).
pub(super) const RES_TIMEOUT_VAL: c_int = 2;

// `grab_mcs_node()` and `decode_tail()` rely on `mcs` being the first member of `struct qnode`.
static_assert!(core::mem::offset_of!(bindings::qnode, mcs) == 0);

/// An MCS queue node: the `struct mcs_spinlock` at the start of a `struct qnode` of some CPU's
/// `rqnodes`.
///
/// # Invariants
///
/// `self.0` points to the `mcs` member of an element of the `rqnodes` array of a possible CPU.
/// Per-CPU memory is never freed, so it is valid for the lifetime of the kernel. `next` and
/// `locked` are only accessed with marked accesses; `count` is only used in `rqnodes[0]`, and
/// only by its own CPU.
#[derive(Clone, Copy)]
pub(super) struct McsNode(*mut bindings::mcs_spinlock);

impl McsNode {
    /// `this_cpu_ptr(&rqnodes[0].mcs)`.
    ///
    /// # Safety
    ///
    /// Preemption is disabled for as long as the result is used as this CPU's node.
    #[inline(always)]
    pub(super) unsafe fn this_cpu_base() -> Self {
        // SAFETY: The caller keeps preemption disabled, as `this_cpu_ptr()` requires.
        let qnodes = unsafe { bindings::rqspinlock_qnodes_this_cpu_ptr() };
        // SAFETY: `qnodes` points to the first element of this CPU's `rqnodes`, so the place
        // expression stays within it; no reference is created.
        let mcs = unsafe { &raw mut (*qnodes).mcs };
        // INVARIANT: `mcs` is the node of `rqnodes[0]` of the current, possible, CPU.
        Self(mcs)
    }

    /// `per_cpu_ptr(&rqnodes[idx].mcs, cpu)`, the lookup of `decode_tail()`.
    ///
    /// # Safety
    ///
    /// `cpu` is a possible CPU and `idx` is below `_Q_MAX_NODES`.
    #[inline(always)]
    pub(super) unsafe fn of_cpu(cpu: CpuId, idx: u32) -> Self {
        // SAFETY: `cpu` is a possible CPU, so it has a per-CPU area.
        let qnodes = unsafe { bindings::rqspinlock_qnodes_ptr(i32::from(cpu)) };
        // SAFETY: `idx` < `_Q_MAX_NODES`, the length of the array at `qnodes`.
        let qnode = unsafe { qnodes.add(idx as usize) };
        // SAFETY: `qnode` points to an element of the array; no reference is created.
        let mcs = unsafe { &raw mut (*qnode).mcs };
        // INVARIANT: `mcs` is the node of `rqnodes[idx]` of the possible CPU `cpu`.
        Self(mcs)
    }

    /// `grab_mcs_node(base, idx)`: node `idx` of the CPU whose `rqnodes[0]` is `self`.
    ///
    /// # Safety
    ///
    /// `self` is the node of `rqnodes[0]` of a CPU, and `idx` is below `_Q_MAX_NODES`.
    #[inline(always)]
    pub(super) unsafe fn grab(self, idx: u32) -> Self {
        // `mcs` is at offset 0 of `struct qnode` (see the static assertion above), so this is
        // the `struct qnode *` of `rqnodes[0]`; the stride is `sizeof(struct qnode)`, which
        // depends on `CONFIG_PARAVIRT_SPINLOCKS`.
        let qnodes = self.0.cast::<bindings::qnode>();
        // SAFETY: `self` is `rqnodes[0]` and `idx` < `_Q_MAX_NODES`, so the result is within
        // the array.
        let qnode = unsafe { qnodes.add(idx as usize) };
        // SAFETY: `qnode` points to an element of the array; no reference is created.
        let mcs = unsafe { &raw mut (*qnode).mcs };
        // INVARIANT: `mcs` is the node of `rqnodes[idx]` of the CPU of `self`.
        Self(mcs)
    }

    /// `node->count`.
    #[inline(always)]
    fn count(&self) -> &Atomic<i32> {
        // SAFETY: By the type invariant the node is valid forever and `count` is only accessed
        // by its own CPU, here with marked accesses.
        unsafe { Atomic::from_ptr(&raw mut (*self.0).count) }
    }

    /// `node->locked`.
    #[inline(always)]
    fn locked(&self) -> &Atomic<i32> {
        // SAFETY: By the type invariant the node is valid forever and `locked` is only accessed
        // with marked accesses.
        unsafe { Atomic::from_ptr(&raw mut (*self.0).locked) }
    }

    /// `node->next`.
    #[inline(always)]
    fn next_ptr(&self) -> &Atomic<*mut bindings::mcs_spinlock> {
        // SAFETY: By the type invariant the node is valid forever and `next` is only accessed
        // with marked accesses.
        unsafe { Atomic::from_ptr(&raw mut (*self.0).next) }
    }

    /// `idx = node->count++` on this CPU's `rqnodes[0]`: claims the next free node and returns
    /// its index.
    ///
    /// Not an atomic RMW, like the C: only this CPU writes the count, and an interrupt or NMI
    /// that lands between the load and the store claims and releases its own node before
    /// returning, so it leaves the count as it found it. The marked accesses keep the compiler
    /// from caching or tearing the count across the interruption.
    #[inline(always)]
    pub(super) fn count_inc(self) -> u32 {
        let count = self.count().load(Relaxed);
        self.count().store(count.wrapping_add(1), Relaxed);
        // The count is never negative: every decrement follows its increment.
        count as u32
    }

    /// `__this_cpu_dec(rqnodes[0].mcs.count)`: releases the node claimed by
    /// [`McsNode::count_inc`]. Same reasoning as there.
    #[inline(always)]
    pub(super) fn count_dec(self) {
        let count = self.count().load(Relaxed);
        self.count().store(count.wrapping_sub(1), Relaxed);
    }

    /// `node->locked = 0; node->next = NULL;`.
    ///
    /// Relaxed: the node is still private; the caller publishes it with `smp_wmb()` followed by
    /// `xchg_tail()`.
    #[inline(always)]
    pub(super) fn init(self) {
        self.locked().store(0, Relaxed);
        self.next_ptr().store(core::ptr::null_mut(), Relaxed);
    }

    /// `WRITE_ONCE(prev->next, node)`: links `next` behind `self`.
    ///
    /// Relaxed: `next` was initialised before its tail was published (`smp_wmb()` and
    /// `xchg_tail()`), and this store comes after that in program order, behind the same
    /// `smp_wmb()`. So `self`'s owner, which reads the pointer and then stores to
    /// `next->locked` through it, cannot have its store overwritten by `next`'s initialisation.
    #[inline(always)]
    pub(super) fn set_next(self, next: McsNode) {
        self.next_ptr().store(next.0, Relaxed);
    }

    /// `READ_ONCE(node->next)`: the successor, if it linked itself already.
    #[inline(always)]
    pub(super) fn next(self) -> Option<McsNode> {
        let next = self.next_ptr().load(Relaxed);
        // INVARIANT: A non-NULL `next` was stored by `set_next()` from an `McsNode`.
        (!next.is_null()).then_some(Self(next))
    }

    /// `smp_cond_load_relaxed(&node->next, (VAL))`: waits for the successor, which has made
    /// itself the tail already, to link itself.
    ///
    /// Relaxed: only the pointer is needed; all accesses to the successor's node through it are
    /// stores to `locked`, ordered by the address dependency.
    #[inline(always)]
    pub(super) fn wait_next(self) -> McsNode {
        let next = smp_cond_load_relaxed(self.next_ptr(), |next| !next.is_null());
        // INVARIANT: A non-NULL `next` was stored by `set_next()` from an `McsNode`.
        Self(next)
    }

    /// `arch_mcs_spin_lock_contended(&node->locked)`: waits until the predecessor hands the
    /// queue head over to us, and returns the `locked` value it wrote: 1, or
    /// [`RES_TIMEOUT_VAL`] if the queue is being torn down.
    ///
    /// Acquire (`smp_cond_load_acquire()`, with WFE on arm64): pairs with the store-release of
    /// `arch_mcs_spin_unlock_contended()`, so that we see the predecessor's `set_locked()` when
    /// we look at the lock word as the new queue head. No timeout: only the queue head applies
    /// one and tears the queue down on expiry.
    #[inline(always)]
    pub(super) fn spin_lock_contended(self) -> c_int {
        // SAFETY: `locked` is a valid `int` (see `Self::locked`), only accessed atomically.
        unsafe { bindings::arch_mcs_spin_lock_contended(self.locked().as_ptr()) }
    }

    /// `arch_mcs_spin_unlock_contended(&node->locked)`: hands the queue head over to `self`.
    ///
    /// Release (`smp_store_release(l, 1)`): the new head must observe our `set_locked()` (or,
    /// for the deadlock exit, our leaving) before it starts waiting on the lock word, or it
    /// could take the lock from under us.
    #[inline(always)]
    pub(super) fn spin_unlock_contended(self) {
        // SAFETY: `locked` is a valid `int` (see `Self::locked`), only accessed atomically.
        unsafe { bindings::arch_mcs_spin_unlock_contended(self.locked().as_ptr()) }
    }

    /// `WRITE_ONCE(next->locked, RES_TIMEOUT_VAL)`: makes `self` leave the queue with
    /// `-ETIMEDOUT`, and tear down the rest of the queue behind it.
    ///
    /// Relaxed: the value carries no data; the woken waiter does not enter a critical section
    /// and only needs to see the value.
    #[inline(always)]
    pub(super) fn signal_timeout(self) {
        self.locked().store(RES_TIMEOUT_VAL, Relaxed);
    }

    /// `prefetchw(next)`: warms the cacheline of the node for the hand-over store.
    #[inline(always)]
    pub(super) fn prefetchw(self) {
        // SAFETY: `prefetchw()` is a hint that never faults, and the node is valid anyway.
        unsafe { bindings::prefetchw(self.0.cast::<c_void>().cast_const()) }
    }
}
