// SPDX-License-Identifier: GPL-2.0

//! The rqspinlock lock word.
//!
//! With `CONFIG_QUEUED_SPINLOCKS`, an `rqspinlock_t` is a `struct qspinlock`, a 32-bit word of
//! `(tail, pending, locked)` that the C fast path and unlock in
//! `include/asm-generic/rqspinlock.h` operate on as well; without it, it is a bare 32-bit word
//! used as a test-and-set lock. Field positions and masks therefore all come from the C headers
//! (`_Q_*`): they depend on `CONFIG_NR_CPUS`, which selects an 8-bit or a 1-bit pending field.
//!
//! The operations are those of `kernel/locking/qspinlock.h` and `kernel/bpf/rqspinlock.h`, under
//! the same names. Like the C, they mix byte, half-word and word atomics on the one lock word,
//! which is sound on the architectures that select `ARCH_USE_QUEUED_SPINLOCKS` ("N.B." in
//! `kernel/bpf/rqspinlock.c`); every access, from C or Rust, is a marked (atomic) access.
//!
//! C headers:
//! - [`include/asm-generic/qspinlock_types.h`](srctree/include/asm-generic/qspinlock_types.h)
//! - [`kernel/locking/qspinlock.h`](srctree/kernel/locking/qspinlock.h)
//! - [`kernel/bpf/rqspinlock.h`](srctree/kernel/bpf/rqspinlock.h)

use crate::{
    bindings,
    sync::atomic::{
        ordering::Ordering,
        Acquire,
        Atomic,
        Relaxed, //
    },
};
use core::marker::PhantomData;

#[cfg(CONFIG_QUEUED_SPINLOCKS)]
use super::node::McsNode;
#[cfg(CONFIG_QUEUED_SPINLOCKS)]
use crate::{
    cpu::CpuId,
    prelude::*, //
};

// The `_Q_*` constants. bindgen evaluates the plain `#define`s itself; the masks, built with
// the function-like `_Q_SET_MASK()` or (`_Q_LOCKED_PENDING_MASK`) defined in the private
// `kernel/locking/qspinlock.h`, come from `RUST_CONST_HELPER_` entries in
// `rust/bindings/bindings_helper.h`.
#[cfg(CONFIG_QUEUED_SPINLOCKS)]
pub(super) use bindings::{
    _Q_LOCKED_MASK,
    _Q_LOCKED_PENDING_MASK,
    _Q_LOCKED_VAL,
    _Q_PENDING_MASK,
    _Q_PENDING_VAL,
    _Q_TAIL_MASK, //
};
#[cfg(CONFIG_QUEUED_SPINLOCKS)]
use bindings::{
    _Q_LOCKED_OFFSET,
    _Q_PENDING_BITS,
    _Q_PENDING_OFFSET,
    _Q_TAIL_CPU_BITS,
    _Q_TAIL_CPU_OFFSET,
    _Q_TAIL_IDX_MASK,
    _Q_TAIL_IDX_OFFSET,
    _Q_TAIL_OFFSET, //
};

// `BUILD_BUG_ON(CONFIG_NR_CPUS >= (1U << _Q_TAIL_CPU_BITS))` of the C slow path: every CPU
// number plus one must fit in the tail.
#[cfg(CONFIG_QUEUED_SPINLOCKS)]
static_assert!((bindings::NR_CPUS as u64) < (1u64 << _Q_TAIL_CPU_BITS));

// The byte and half-word positions below are those of the anonymous structs in the union of
// `struct qspinlock`, which assume these bit offsets.
#[cfg(CONFIG_QUEUED_SPINLOCKS)]
static_assert!(_Q_LOCKED_OFFSET == 0 && _Q_PENDING_OFFSET == 8);
#[cfg(CONFIG_QUEUED_SPINLOCKS)]
static_assert!(_Q_PENDING_BITS != 8 || _Q_TAIL_OFFSET == 16);
#[cfg(CONFIG_QUEUED_SPINLOCKS)]
static_assert!(size_of::<bindings::qspinlock>() == size_of::<u32>());

/// Byte offsets of the members of `struct qspinlock`'s union, by endianness (`__LITTLE_ENDIAN`
/// in `include/asm-generic/qspinlock_types.h`).
#[cfg(CONFIG_QUEUED_SPINLOCKS)]
mod field {
    /// `u8 locked`.
    #[cfg(target_endian = "little")]
    pub(super) const LOCKED: usize = 0;
    /// `u8 pending`.
    #[cfg(target_endian = "little")]
    pub(super) const PENDING: usize = 1;
    /// `u16 locked_pending`.
    #[cfg(target_endian = "little")]
    pub(super) const LOCKED_PENDING: usize = 0;
    /// `u16 tail`.
    #[cfg(target_endian = "little")]
    pub(super) const TAIL: usize = 2;

    /// `u8 locked`.
    #[cfg(target_endian = "big")]
    pub(super) const LOCKED: usize = 3;
    /// `u8 pending`.
    #[cfg(target_endian = "big")]
    pub(super) const PENDING: usize = 2;
    /// `u16 locked_pending`.
    #[cfg(target_endian = "big")]
    pub(super) const LOCKED_PENDING: usize = 2;
    /// `u16 tail`.
    #[cfg(target_endian = "big")]
    pub(super) const TAIL: usize = 0;
}

/// The 32-bit word of an `rqspinlock_t`.
///
/// # Invariants
///
/// `ptr` points to an initialised `rqspinlock_t` that stays valid for `'a`, and every access to
/// it, from C or Rust, is a marked access: `atomic_*()`, `READ_ONCE()`/`WRITE_ONCE()`,
/// `xchg*()` or `smp_load_acquire()`/`smp_store_release()`.
#[derive(Clone, Copy)]
pub(super) struct LockWord<'a> {
    ptr: *mut bindings::rqspinlock_t,
    _lock: PhantomData<&'a bindings::rqspinlock_t>,
}

impl<'a> LockWord<'a> {
    /// Creates a [`LockWord`] for the lock at `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` points to an initialised `rqspinlock_t` that stays valid for `'a` and that is only
    /// accessed through the rqspinlock API (hence only with marked accesses).
    #[inline(always)]
    pub(super) unsafe fn from_raw(ptr: *mut bindings::rqspinlock_t) -> Self {
        // INVARIANT: Guaranteed by the caller.
        Self {
            ptr,
            _lock: PhantomData,
        }
    }

    /// Returns the C pointer to the lock.
    #[inline(always)]
    pub(super) fn as_ptr(self) -> *mut bindings::rqspinlock_t {
        self.ptr
    }

    /// The whole word, `lock->val`.
    #[inline(always)]
    pub(super) fn val(self) -> &'a Atomic<u32> {
        // SAFETY: By the type invariant `self.ptr` is valid for `'a`; `val.counter` is the
        // naturally aligned 32-bit word of both `struct qspinlock` and `struct rqspinlock`, and
        // all accesses to it are marked, so none races with the atomics on the result. `int`
        // and `u32` have the same size and alignment.
        unsafe {
            Atomic::from_ptr((&raw mut (*self.ptr).__bindgen_anon_1.val.counter).cast::<u32>())
        }
    }

    /// `atomic_read(&lock->val)`.
    #[inline(always)]
    pub(super) fn read(self) -> u32 {
        self.val().load(Relaxed)
    }

    /// `is_lock_released()`: whether none of the `mask` bits of the word is set.
    ///
    /// Acquire, as in C: when the deadlock check sees the lock released it stops looking at the
    /// other CPUs' tables; the caller then reads the lock word again anyway.
    #[inline(always)]
    pub(super) fn is_released(self, mask: u32) -> bool {
        self.val().load(Acquire) & mask == 0
    }

    /// `atomic_try_cmpxchg{,_acquire,_relaxed}(&lock->val, old, new)`, with the ordering given
    /// by the caller.
    ///
    /// On failure, `*old` is updated to the current value, as in C.
    #[inline(always)]
    pub(super) fn try_cmpxchg<O: Ordering>(self, old: &mut u32, new: u32, o: O) -> bool {
        match self.val().cmpxchg(*old, new, o) {
            Ok(_) => true,
            Err(cur) => {
                *old = cur;
                false
            }
        }
    }
}

#[cfg(CONFIG_QUEUED_SPINLOCKS)]
impl<'a> LockWord<'a> {
    /// The byte at offset `off` of the word.
    #[inline(always)]
    fn byte(self, off: usize) -> &'a Atomic<i8> {
        // SAFETY: `off` < 4 (see `field`), so the byte is within the word that the type
        // invariant keeps valid for `'a`, and all accesses to the word are marked. `u8` and `i8`
        // have the same size and alignment.
        unsafe { Atomic::from_ptr(self.val().as_ptr().cast::<i8>().add(off)) }
    }

    /// The half-word at (even) offset `off` of the word.
    #[inline(always)]
    fn half(self, off: usize) -> &'a Atomic<i16> {
        // SAFETY: `off` is 0 or 2 (see `field`), so the half-word is within the 4-byte aligned
        // word that the type invariant keeps valid for `'a`, and is 2-byte aligned; all accesses
        // to the word are marked. `u16` and `i16` have the same size and alignment.
        unsafe { Atomic::from_ptr(self.val().as_ptr().cast::<u8>().add(off).cast::<i16>()) }
    }

    /// The locked byte, `lock->locked`.
    #[inline(always)]
    pub(super) fn locked(self) -> &'a Atomic<i8> {
        self.byte(field::LOCKED)
    }

    /// `clear_pending()`: `*,1,* -> *,0,*`.
    ///
    /// Relaxed (`WRITE_ONCE()` or `atomic_andnot()`): clearing pending only gives up a claim
    /// on the lock, it publishes nothing. The queue head that waits for `!(locked | pending)`
    /// synchronises with the owner's release of the locked byte, not with this store.
    #[inline(always)]
    pub(super) fn clear_pending(self) {
        if _Q_PENDING_BITS == 8 {
            self.byte(field::PENDING).store(0, Relaxed);
        } else {
            self.val().andnot(_Q_PENDING_VAL, Relaxed);
        }
    }

    /// `clear_pending_set_locked()`: take ownership and clear the pending bit, `*,1,0 -> *,0,1`.
    ///
    /// Relaxed (`WRITE_ONCE()` or `atomic_add()`): the caller already has acquire ordering from
    /// `queued_fetch_set_pending_acquire()` or from its load-acquire wait on the locked byte,
    /// which observed the owner's store-release of 0; nothing else in this CPU's past must be
    /// visible to the next owner, which synchronises with our later unlock.
    #[inline(always)]
    pub(super) fn clear_pending_set_locked(self) {
        if _Q_PENDING_BITS == 8 {
            self.half(field::LOCKED_PENDING)
                .store(_Q_LOCKED_VAL as i16, Relaxed);
        } else {
            self.val()
                .add(_Q_LOCKED_VAL.wrapping_sub(_Q_PENDING_VAL), Relaxed);
        }
    }

    /// `set_locked()`: `*,*,0 -> *,0,1`.
    ///
    /// Relaxed (`WRITE_ONCE()`): only the queue head writes it, after its load-acquire wait saw
    /// `locked` and `pending` clear, which gives the acquire ordering of the lock. The store
    /// reaches the next queue head before it can look at the word, because we hand it the MCS
    /// lock afterwards with a store-release.
    #[inline(always)]
    pub(super) fn set_locked(self) {
        self.locked().store(_Q_LOCKED_VAL as i8, Relaxed);
    }

    /// `xchg_tail()`: put in the new tail code word and return the previous one,
    /// `p,*,* -> n,*,*`.
    ///
    /// Relaxed, as in C: the caller initialises its MCS node and issues `smp_wmb()` before
    /// publishing the tail, and the successor reaches the node through an address dependency
    /// on the tail it reads (`decode_tail()`), so the node's initialisation is ordered before
    /// any access of a successor to it.
    #[inline(always)]
    pub(super) fn xchg_tail(self, tail: u32) -> u32 {
        if _Q_PENDING_BITS == 8 {
            let old = self
                .half(field::TAIL)
                .xchg((tail >> _Q_TAIL_OFFSET) as u16 as i16, Relaxed);
            u32::from(old as u16) << _Q_TAIL_OFFSET
        } else {
            // No 16-bit tail field with a 1-bit pending: cmpxchg the whole word.
            let (Ok(old) | Err(old)) = self.cmpxchg_tail_while(tail, |_| true);
            old
        }
    }

    /// `try_cmpxchg_tail()`: replace the tail `tail` by `new_tail`, keeping `locked` and
    /// `pending`; fails if the tail is no longer `tail`.
    ///
    /// Used by the queue head to leave the queue. Relaxed, as in `kernel/bpf/rqspinlock.h`:
    /// observers only rely on the initialised state of the nodes, which was made visible
    /// through `xchg_tail()` and the `smp_wmb()` before it. A whole-word cmpxchg, since 16-bit
    /// cmpxchg is not available everywhere.
    #[inline(always)]
    pub(super) fn try_cmpxchg_tail(self, tail: u32, new_tail: u32) -> bool {
        self.cmpxchg_tail_while(new_tail, |old| old & _Q_TAIL_MASK == tail)
            .is_ok()
    }

    /// Replaces the tail by `new_tail` with relaxed whole-word cmpxchgs that keep the latest
    /// `locked` and `pending`, for as long as `tail_ok` accepts the word last read.
    ///
    /// Returns the word replaced, or the first word that `tail_ok` refused.
    #[inline(always)]
    fn cmpxchg_tail_while(self, new_tail: u32, tail_ok: impl Fn(u32) -> bool) -> Result<u32, u32> {
        let mut old = self.read();
        loop {
            if !tail_ok(old) {
                return Err(old);
            }
            let new = (old & _Q_LOCKED_PENDING_MASK) | new_tail;
            if self.try_cmpxchg(&mut old, new, Relaxed) {
                return Ok(old);
            }
        }
    }

    /// `queued_fetch_set_pending_acquire()`: set pending and return the previous word,
    /// `*,*,* -> *,1,*`.
    ///
    /// Acquire: if the word was `0,0,0` we own the lock right away and need the ordering
    /// against the previous owner's store-release that cleared the locked byte. Calls the C
    /// inline, because x86 implements it with `lock bts` rather than the `atomic_fetch_or()`
    /// cmpxchg loop.
    #[inline(always)]
    pub(super) fn fetch_set_pending_acquire(self) -> u32 {
        // SAFETY: By the type invariant, `self.ptr` is a valid, initialised `struct qspinlock`.
        unsafe { bindings::queued_fetch_set_pending_acquire(self.ptr) }
    }

    /// `queued_spin_trylock()` of `include/asm-generic/qspinlock.h`.
    ///
    /// Relaxed read, then an acquire cmpxchg: a successful cmpxchg is the lock acquisition, and
    /// it pairs with the previous owner's store-release of the locked byte.
    #[inline(always)]
    pub(super) fn trylock(self) -> bool {
        let mut val = self.read();
        if val != 0 {
            return false;
        }
        self.try_cmpxchg(&mut val, _Q_LOCKED_VAL, Acquire)
    }
}

/// `encode_tail()`: the tail code word of node `idx` of `cpu`.
///
/// The CPU number is incremented by one so that "no tail" (0) differs from node 0 of CPU 0.
/// `idx` is assumed to be below `_Q_MAX_NODES`; like in C, the result is computed (and then
/// unused) for larger values as well.
#[cfg(CONFIG_QUEUED_SPINLOCKS)]
#[inline(always)]
pub(super) fn encode_tail(cpu: CpuId, idx: u32) -> u32 {
    (cpu.as_u32().wrapping_add(1) << _Q_TAIL_CPU_OFFSET) | (idx << _Q_TAIL_IDX_OFFSET)
}

/// `decode_tail()`: the MCS node that the non-zero tail code word `tail` designates.
///
/// # Safety
///
/// `tail` (the tail bits of it) was produced by [`encode_tail`] for a node below
/// `_Q_MAX_NODES` of a possible CPU, e.g. it is the tail of the lock word that `xchg_tail()`
/// returned and it is not 0.
#[cfg(CONFIG_QUEUED_SPINLOCKS)]
#[inline(always)]
pub(super) unsafe fn decode_tail(tail: u32) -> McsNode {
    let cpu = (tail >> _Q_TAIL_CPU_OFFSET).wrapping_sub(1);
    let idx = (tail & _Q_TAIL_IDX_MASK) >> _Q_TAIL_IDX_OFFSET;

    // SAFETY: The caller guarantees that `tail` encodes a possible CPU, so `cpu` is below
    // `nr_cpu_ids`.
    let cpu = unsafe { CpuId::from_u32_unchecked(cpu) };
    // SAFETY: `cpu` is a possible CPU, and `idx` < `_Q_MAX_NODES`, both by the caller.
    unsafe { McsNode::of_cpu(cpu, idx) }
}
