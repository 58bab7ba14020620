// SPDX-License-Identifier: GPL-2.0

//! Lock event counters and contention tracepoints of the rqspinlock slow path.
//!
//! Both are C macros (`lockevent_inc()` of the private `kernel/locking/lock_events.h`, the
//! `trace_contention_*()` inlines of `include/trace/events/lock.h`), reached through helpers in
//! `rust/helpers/bpf.c`. The counters only exist with `CONFIG_LOCK_EVENT_COUNTS`; without it,
//! like in C, nothing is emitted.
//!
//! C headers: [`kernel/locking/lock_events.h`](srctree/kernel/locking/lock_events.h),
//! [`include/trace/events/lock.h`](srctree/include/trace/events/lock.h)

use super::word::LockWord;
use crate::{
    bindings,
    prelude::*, //
};

/// A lock event counter, `enum lock_events`.
pub(super) type LockEvent = bindings::lock_events;

/// `LOCKEVENT_lock_pending`: locked through the pending bit.
pub(super) const LOCK_PENDING: LockEvent = bindings::lock_events_LOCKEVENT_lock_pending;
/// `LOCKEVENT_lock_slowpath`: went through the MCS queue.
pub(super) const LOCK_SLOWPATH: LockEvent = bindings::lock_events_LOCKEVENT_lock_slowpath;
/// `LOCKEVENT_lock_use_node2`: used the second per-CPU node; `+ 1` and `+ 2` are the third
/// and fourth.
pub(super) const LOCK_USE_NODE2: LockEvent = bindings::lock_events_LOCKEVENT_lock_use_node2;
/// `LOCKEVENT_lock_no_node`: no node left (or in NMI with a node in use): trylock only.
pub(super) const LOCK_NO_NODE: LockEvent = bindings::lock_events_LOCKEVENT_lock_no_node;
/// `LOCKEVENT_rqspinlock_lock_timeout`: gave up on a timeout or deadlock.
pub(super) const RQSPINLOCK_LOCK_TIMEOUT: LockEvent =
    bindings::lock_events_LOCKEVENT_rqspinlock_lock_timeout;

/// `lockevent_cond_inc(event, cond)`.
#[inline(always)]
pub(super) fn lockevent_cond_inc(event: LockEvent, cond: bool) {
    #[cfg(CONFIG_LOCK_EVENT_COUNTS)]
    {
        // SAFETY: `__lockevent_inc()` only does a `raw_cpu_inc()` of the per-CPU counter
        // `event`, a valid `enum lock_events` value; a lost update is accepted by design.
        unsafe { bindings::__lockevent_inc(event, cond) };
    }
    #[cfg(not(CONFIG_LOCK_EVENT_COUNTS))]
    {
        let _ = (event, cond);
    }
}

/// `lockevent_inc(event)`.
#[inline(always)]
pub(super) fn lockevent_inc(event: LockEvent) {
    lockevent_cond_inc(event, true);
}

/// `trace_contention_begin(lock, flags)`.
#[inline(always)]
pub(super) fn trace_contention_begin(lock: LockWord<'_>, flags: u32) {
    // SAFETY: The tracepoint only records the address of the lock; any value is fine.
    unsafe { bindings::trace_contention_begin(lock.as_ptr().cast::<c_void>(), flags) };
}

/// `trace_contention_end(lock, ret)`.
#[inline(always)]
pub(super) fn trace_contention_end(lock: LockWord<'_>, ret: c_int) {
    // SAFETY: The tracepoint only records the address of the lock; any value is fine.
    unsafe { bindings::trace_contention_end(lock.as_ptr().cast::<c_void>(), ret) };
}
