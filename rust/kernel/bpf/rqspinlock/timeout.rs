// SPDX-License-Identifier: GPL-2.0

//! Timeouts and deadlock checks of the rqspinlock waiting loops.
//!
//! Every waiting loop of the slow path and of the test-and-set fallback evaluates
//! `RES_CHECK_TIMEOUT()` (here [`Timeout::check`]) in its exit condition. The first check of a
//! wait runs the AA check and arms the deadline; later ones fail with [`ETIMEDOUT`] past the
//! deadline and run the ABBA check at most once per millisecond. The deadline is 250 ms
//! (`RES_DEF_TIMEOUT`) for the pending waiter, twice that for the queue head, which may wait for
//! both the owner and the pending waiter, and 1 s for the test-and-set fallback.
//!
//! Time comes from `ktime_get_mono_fast_ns()`, which is NMI-safe.
//!
//! C: [`kernel/bpf/rqspinlock.c`](srctree/kernel/bpf/rqspinlock.c)

use super::{
    held::{
        HeldLocks,
        RES_NR_HELD, //
    },
    word::LockWord,
};
use crate::{
    bindings,
    cpu::{
        nr_cpu_ids,
        CpuId, //
    },
    cpumask::Cpumask,
    prelude::*,
};
use core::cmp::min;

/// `RES_DEF_TIMEOUT`: the default timeout of a waiting loop, 250 ms.
#[cfg(CONFIG_QUEUED_SPINLOCKS)]
pub(super) const RES_DEF_TIMEOUT: u64 = bindings::RES_DEF_TIMEOUT as u64;

/// `NSEC_PER_SEC`: the timeout of the test-and-set fallback.
pub(super) const NSEC_PER_SEC: u64 = bindings::NSEC_PER_SEC as u64;

/// `NSEC_PER_MSEC`: the minimum interval between two ABBA checks.
const NSEC_PER_MSEC: u64 = bindings::NSEC_PER_MSEC as u64;

/// Whether `RES_CHECK_TIMEOUT()` only checks once per 2^16 iterations (when `spin` wraps).
///
/// The C amortises the check unless the architecture defines `res_smp_cond_load_acquire()`,
/// whose waits are slow enough to check every time: only arm64 does (WFE, woken by the event
/// stream), and `kernel/bpf/rqspinlock_rust.h` refuses to build the Rust slow path on any other
/// architecture that would. The test-and-set fallback uses the same macro, hence the same
/// choice.
const RES_CHECK_TIMEOUT_AMORTIZED: bool = !cfg!(CONFIG_ARM64);

/// The state of the timeout of a waiting loop, `struct rqspinlock_timeout`.
pub(super) struct Timeout<'a> {
    /// This CPU's held-locks table, for the deadlock checks.
    rqh: &'a HeldLocks,
    /// The deadline, or 0 if the current wait has not checked yet.
    timeout_end: u64,
    /// The timeout of the current wait.
    duration: u64,
    /// The time of the previous ABBA check (or of the arming).
    cur: u64,
    /// The iteration counter of the amortised check.
    spin: u16,
}

impl<'a> Timeout<'a> {
    /// `RES_INIT_TIMEOUT()`: `spin` = 0, so that the first check of the first wait runs at once.
    ///
    /// `rqh` is this CPU's held-locks table. The other fields are set by [`Timeout::reset`]
    /// before any check; they start at 0 where the C leaves them uninitialised.
    #[inline(always)]
    pub(super) fn new(rqh: &'a HeldLocks) -> Self {
        Self {
            rqh,
            timeout_end: 0,
            duration: 0,
            cur: 0,
            spin: 0,
        }
    }

    /// `RES_RESET_TIMEOUT()`: starts a wait of at most `duration` ns.
    ///
    /// Only `timeout_end` is reset; `spin` just wraps around as necessary.
    #[inline(always)]
    pub(super) fn reset(&mut self, duration: u64) {
        self.timeout_end = 0;
        self.duration = duration;
    }

    /// `RES_CHECK_TIMEOUT(ts, ret, mask)`: the timeout part of a wait condition.
    ///
    /// Runs [`check_timeout`] (every time on arm64, otherwise when `spin` wraps), stores its
    /// result in `*ret` and returns whether `*ret` is an error, i.e. whether the wait must end.
    /// `mask` selects the bits of the lock word whose clearing means that the lock became
    /// available, for the ABBA check.
    #[inline(always)]
    pub(super) fn check(&mut self, lock: LockWord<'_>, mask: u32, ret: &mut Result) -> bool {
        if !RES_CHECK_TIMEOUT_AMORTIZED || self.spin_wrapped() {
            *ret = check_timeout(lock, mask, self);
        }
        ret.is_err()
    }

    /// `!(ts).spin++`.
    #[inline(always)]
    fn spin_wrapped(&mut self) -> bool {
        let spin = self.spin;
        self.spin = spin.wrapping_add(1);
        spin == 0
    }
}

/// `check_timeout()`.
#[inline(never)]
fn check_timeout(lock: LockWord<'_>, mask: u32, ts: &mut Timeout<'_>) -> Result {
    let prev = ts.cur;

    if ts.timeout_end == 0 {
        check_deadlock_aa(ts.rqh, lock)?;
        ts.cur = ktime_get_mono_fast_ns();
        ts.timeout_end = ts.cur.wrapping_add(ts.duration);
        return Ok(());
    }

    let time = ktime_get_mono_fast_ns();
    if time > ts.timeout_end {
        return Err(ETIMEDOUT);
    }

    // A millisecond interval passed from last time? Trigger deadlock checks.
    if prev.wrapping_add(NSEC_PER_MSEC) < time {
        ts.cur = time;
        return check_deadlock_abba(ts.rqh, lock, mask);
    }

    Ok(())
}

/// `ktime_get_mono_fast_ns()`: NMI-safe monotonic time.
#[inline(always)]
fn ktime_get_mono_fast_ns() -> u64 {
    // SAFETY: `ktime_get_mono_fast_ns()` has no preconditions and may be called from any
    // context, NMI included.
    unsafe { bindings::ktime_get_mono_fast_ns() }
}

/// `check_deadlock_AA()`: fails with [`EDEADLK`] if this CPU already holds `lock`.
///
/// `rqh` is this CPU's table. The top entry is the acquisition in progress, so it is not
/// considered. At most 31 entries: no need for `is_lock_released()`.
#[doc(alias = "check_deadlock_AA")]
#[inline(never)]
pub(super) fn check_deadlock_aa(rqh: &HeldLocks, lock: LockWord<'_>) -> Result {
    let cnt = min(RES_NR_HELD, rqh.cnt());

    if rqh.holds(cnt, lock.as_ptr().cast()) {
        return Err(EDEADLK);
    }
    Ok(())
}

/// `check_deadlock_ABBA()`: fails with [`EDEADLK`] on an ABBA deadlock with another CPU.
///
/// This focuses on the most common case of ABBA deadlocks (or ABBA involving more locks, which
/// reduce to ABBA). It is not exhaustive; the timeouts are the final line of defense.
///
/// Finds the CPU holding the lock we want: if there is a deadlock, its table is stable and its
/// top entry is the lock it waits for. If we hold that lock, it is a deadlock. This scans all
/// possible CPUs, as the lock word does not record its owner.
#[doc(alias = "check_deadlock_ABBA")]
#[inline(never)]
fn check_deadlock_abba(rqh: &HeldLocks, lock: LockWord<'_>, mask: u32) -> Result {
    let rqh_cnt = min(RES_NR_HELD, rqh.cnt());
    let lock_ptr: *mut c_void = lock.as_ptr().cast();
    let this_cpu = CpuId::current();
    let possible = Cpumask::possible();

    // `for_each_possible_cpu(cpu)`.
    for cpu in 0..nr_cpu_ids() {
        let Some(cpu) = CpuId::from_u32(cpu) else {
            break;
        };
        if !possible.test(cpu) {
            continue;
        }

        // SAFETY: `cpu` is a possible CPU.
        let rqh_cpu = unsafe { HeldLocks::of_cpu(cpu) };
        let real_cnt = rqh_cpu.cnt();
        let cnt = min(RES_NR_HELD, real_cnt);

        // Break out of this loop if the lock became available for us to potentially acquire.
        if lock.is_released(mask) {
            return Ok(());
        }

        // Skip ourselves, and CPUs whose count is less than 2: they need at least one held lock
        // and one acquisition attempt (the top entry) to take part in an ABBA deadlock. If the
        // count exceeds RES_NR_HELD, the lock being acquired is not in the table, so the CPU
        // cannot be diagnosed.
        if cpu == this_cpu || !(2..=RES_NR_HELD).contains(&real_cnt) {
            continue;
        }

        // The top entry is the lock the remote CPU is attempting to acquire in a deadlock, and
        // would be one we hold. NULL means we raced: inconclusive, skip this CPU.
        let remote_lock = rqh_cpu.entry(cnt.wrapping_sub(1));
        if remote_lock.is_null() {
            continue;
        }

        // Does the remote CPU hold the lock we want (ignoring its top entry)? If so, and if we
        // hold the lock it wants, we have a deadlock to recover from; otherwise it is
        // inconclusive, retry later.
        if rqh_cpu.holds(cnt, lock_ptr) {
            if rqh.holds(rqh_cnt, remote_lock) {
                return Err(EDEADLK);
            }
            return Ok(());
        }
    }
    Ok(())
}
