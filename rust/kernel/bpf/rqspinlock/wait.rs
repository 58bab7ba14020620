// SPDX-License-Identifier: GPL-2.0

//! Conditional waits on memory for the rqspinlock slow path.
//!
//! `smp_cond_load_relaxed()`, `smp_cond_load_acquire()` and `res_smp_cond_load_acquire()` take
//! a C expression as their condition, so they cannot be called from Rust. This open-codes their
//! loops with a closure as the condition, per architecture, exactly as the C headers do:
//!
//! - generic (`include/asm-generic/barrier.h`): load with `READ_ONCE()`, test, `cpu_relax()`;
//!   the acquire flavour adds `smp_acquire__after_ctrl_dep()` after the loop;
//! - arm64 (`arch/arm64/include/asm/barrier.h`) and riscv with Zawrs
//!   (`arch/riscv/include/asm/barrier.h`): the wait step is `__cmpwait_relaxed()`, which sleeps
//!   (WFE, WRS.NTO) until the location may have changed; arm64's acquire flavour loads with
//!   `smp_load_acquire()` in the loop instead;
//! - `res_smp_cond_load_acquire()` is `smp_cond_load_acquire()`, except on arm64
//!   (`arch/arm64/include/asm/rqspinlock.h`): there the condition also polls a timeout, and WFE
//!   is only woken by stores to the location or by the event stream, so it uses WFE only if the
//!   event stream is available and spins with `cpu_relax()` otherwise.
//!
//! `kernel/bpf/rqspinlock_rust.h` refuses to build with an architecture-specific
//! `res_smp_cond_load_acquire()` other than arm64's.
//!
//! C headers: [`include/asm-generic/barrier.h`](srctree/include/asm-generic/barrier.h),
//! [`arch/arm64/include/asm/rqspinlock.h`](srctree/arch/arm64/include/asm/rqspinlock.h)

use crate::{
    bindings,
    sync::atomic::{
        Atomic,
        AtomicBasicOps,
        AtomicType,
        Relaxed, //
    },
};

#[cfg(CONFIG_ARM64)]
use crate::sync::atomic::Acquire;

#[cfg(any(CONFIG_ARM64, not(CONFIG_RISCV_ISA_ZAWRS)))]
use crate::processor::cpu_relax;

/// A type that the conditional waits can wait on, with the architecture's wait step for it.
pub(super) trait CondLoad: AtomicType {
    /// The wait step of `smp_cond_load_relaxed()`, after `*v` was read as `val` and did not
    /// satisfy the condition: `__cmpwait_relaxed(v, val)` where the architecture's
    /// `smp_cond_load_relaxed()` uses it, `cpu_relax()` otherwise.
    fn cond_wait(v: &Atomic<Self>, val: Self);
}

/// Defines [`CondLoad`] for `$t`, whose `__cmpwait_relaxed()` helper is `$cmpwait`, which takes
/// the location as `*mut $ct` and the value as `$ct` (converted with `$conv`).
macro_rules! impl_cond_load {
    ($t:ty, $cmpwait:ident, $ct:ty, |$v:ident| $conv:expr) => {
        impl CondLoad for $t {
            #[inline(always)]
            fn cond_wait(v: &Atomic<Self>, val: Self) {
                #[cfg(any(CONFIG_ARM64, CONFIG_RISCV_ISA_ZAWRS))]
                {
                    let $v = val;
                    // SAFETY: `v.as_ptr()` is valid and naturally aligned for `$ct`, which has
                    // the size and alignment of `Self`; `__cmpwait_relaxed()` only loads from
                    // it (exclusively), which cannot race with the atomics on `v`.
                    unsafe { bindings::$cmpwait(v.as_ptr().cast::<$ct>(), $conv) };
                }
                #[cfg(not(any(CONFIG_ARM64, CONFIG_RISCV_ISA_ZAWRS)))]
                {
                    let _ = (v, val);
                    cpu_relax();
                }
            }
        }
    };
}

impl_cond_load!(i8, __cmpwait_relaxed_u8, u8, |val| val as u8);
impl_cond_load!(u32, __cmpwait_relaxed_u32, u32, |val| val);
impl_cond_load!(
    *mut bindings::mcs_spinlock,
    __cmpwait_relaxed_ptr,
    *mut crate::ffi::c_void,
    |val| val.cast::<crate::ffi::c_void>()
);

/// `smp_acquire__after_ctrl_dep()`: upgrades the control dependency of a wait loop that exited
/// to acquire ordering (`smp_rmb()` unless the architecture has something cheaper).
#[doc(alias = "smp_acquire__after_ctrl_dep")]
#[inline(always)]
fn smp_acquire_after_ctrl_dep() {
    // SAFETY: A barrier has no preconditions.
    unsafe { bindings::smp_acquire__after_ctrl_dep() };
}

/// `smp_cond_load_relaxed(v, cond)`: waits until `cond` holds for `*v`, and returns the value
/// that satisfied it. No ordering beyond that of the loads (`READ_ONCE()`).
#[inline(always)]
pub(super) fn smp_cond_load_relaxed<T>(v: &Atomic<T>, mut cond: impl FnMut(T) -> bool) -> T
where
    T: CondLoad,
    T::Repr: AtomicBasicOps,
{
    loop {
        let val = v.load(Relaxed);
        if cond(val) {
            return val;
        }
        T::cond_wait(v, val);
    }
}

/// `smp_cond_load_acquire(v, cond)`: like [`smp_cond_load_relaxed`], and the load that
/// satisfied `cond` has acquire ordering.
#[inline(always)]
pub(super) fn smp_cond_load_acquire<T>(v: &Atomic<T>, cond: impl FnMut(T) -> bool) -> T
where
    T: CondLoad,
    T::Repr: AtomicBasicOps,
{
    #[cfg(CONFIG_ARM64)]
    {
        let mut cond = cond;
        // arm64: every load is a load-acquire (LDAR), then WFE.
        loop {
            let val = v.load(Acquire);
            if cond(val) {
                return val;
            }
            T::cond_wait(v, val);
        }
    }

    #[cfg(not(CONFIG_ARM64))]
    {
        // Generic: relaxed loads, and the acquire barrier once, after the loop.
        let val = smp_cond_load_relaxed(v, cond);
        smp_acquire_after_ctrl_dep();
        val
    }
}

/// `res_smp_cond_load_acquire(v, cond)` (and `res_atomic_cond_read_acquire()`, its use on
/// `lock->val`): [`smp_cond_load_acquire`] whose `cond` may also end the wait on a timeout.
///
/// Acquire, as the waits that use it must be: they wait for the owner's store-release that
/// clears the locked byte, and take the lock with plain stores afterwards
/// (`clear_pending_set_locked()`, `set_locked()`), which do not order anything by themselves.
/// When the wait ends on a timeout instead, the acquire ordering is unneeded and harmless.
#[cfg(not(CONFIG_ARM64))]
#[inline(always)]
pub(super) fn res_smp_cond_load_acquire<T>(v: &Atomic<T>, cond: impl FnMut(T) -> bool) -> T
where
    T: CondLoad,
    T::Repr: AtomicBasicOps,
{
    smp_cond_load_acquire(v, cond)
}

/// `res_smp_cond_load_acquire(v, cond)` of arm64, i.e.
/// `smp_cond_load_acquire_timewait(v, cond, 0, 1)`: [`smp_cond_load_acquire`] whose `cond`
/// may also end the wait on a timeout.
///
/// With the event stream, WFE is woken at least every event-stream period, so `cond` (and the
/// timeout check in it) runs again even if nobody writes the location: this is the regular
/// arm64 loop, with a load-acquire (LDAR) per iteration. Without it, WFE could sleep forever
/// and miss the timeout, so spin with `cpu_relax()` on relaxed loads, then
/// `smp_acquire__after_ctrl_dep()`.
///
/// The `time_expr_ns >= time_limit_ns` exits of the C macro are `0 >= 1` here, never true, and
/// are omitted; so is the then-useless `smp_cond_time_check_count` iteration counter.
///
/// Acquire, for the reasons given on the generic version.
#[cfg(CONFIG_ARM64)]
#[inline(always)]
pub(super) fn res_smp_cond_load_acquire<T>(v: &Atomic<T>, mut cond: impl FnMut(T) -> bool) -> T
where
    T: CondLoad,
    T::Repr: AtomicBasicOps,
{
    // SAFETY: `arch_timer_evtstrm_available()` has no preconditions.
    if unsafe { bindings::arch_timer_evtstrm_available() } {
        return smp_cond_load_acquire(v, cond);
    }

    let val = loop {
        let val = v.load(Relaxed);
        if cond(val) {
            break val;
        }
        cpu_relax();
    };
    smp_acquire_after_ctrl_dep();
    val
}
