// SPDX-License-Identifier: GPL-2.0

//! The rqspinlock slow path and test-and-set fallback.
//!
//! The Rust implementation of `resilient_queued_spin_lock_slowpath()` and
//! `resilient_tas_spin_lock()`, selected by `CONFIG_BPF_RQSPINLOCK_RUST` (Kbuild then builds
//! `kernel/bpf/rqspinlock_rust.c` instead of `kernel/bpf/rqspinlock.c`). They are called by the C
//! fast path `res_spin_lock()` of `include/asm-generic/rqspinlock.h`, which stays an inline used by
//! about ten C files and modules, and they share everything with it: the lock word, the per-CPU
//! table of held locks, the per-CPU MCS nodes and the unlock. The algorithm, structure and names
//! follow the C; the comments explain every memory-ordering choice.
//!
//! A queued spinlock (MCS lock) whose acquisition can fail: -EDEADLK on an AA deadlock (at
//! once) or an ABBA deadlock (checked at most every millisecond), -ETIMEDOUT after 250 ms as the
//! pending waiter, 500 ms as the queue head, or 1 s in the test-and-set fallback. A queue head
//! that times out tears the whole queue down.
//!
//! ```text
//! (queue tail, pending bit, lock value)
//!
//!              fast     :    slow                                  :    unlock
//!                       :                                          :
//! uncontended  (0,0,0) -:--> (0,0,1) ------------------------------:--> (*,*,0)
//!                       :       | ^--------.------.             /  :
//!                       :       v           \      \            |  :
//! pending               :    (0,1,1) +--> (0,1,0)   \           |  :
//!                       :       | ^--'              |           |  :
//!                       :       v                   |           |  :
//! uncontended           :    (n,x,y) +--> (n,0,0) --'           |  :
//!   queue               :       | ^--'                          |  :
//!                       :       v                               |  :
//! contended             :    (*,x,y) +--> (*,0,0) ---> (*,0,1) -'  :
//!   queue               :         ^--'                             :
//! ```
//!
//! C: [`kernel/bpf/rqspinlock.c`](srctree/kernel/bpf/rqspinlock.c)

use super::{
    held::HeldEntry,
    timeout::{
        Timeout,
        NSEC_PER_SEC, //
    },
    word::LockWord,
};
use crate::{
    bindings,
    error::from_result,
    prelude::*,
    processor::cpu_relax,
    sync::atomic::Full, //
};

#[cfg(CONFIG_QUEUED_SPINLOCKS)]
use super::{
    events::{
        lockevent_cond_inc,
        lockevent_inc,
        trace_contention_begin,
        trace_contention_end,
        LOCK_NO_NODE,
        LOCK_PENDING,
        LOCK_SLOWPATH,
        LOCK_USE_NODE2,
        RQSPINLOCK_LOCK_TIMEOUT, //
    },
    node::{
        McsNode,
        RES_TIMEOUT_VAL, //
    },
    timeout::{
        check_deadlock_aa,
        RES_DEF_TIMEOUT, //
    },
    wait::{
        res_smp_cond_load_acquire,
        smp_cond_load_relaxed, //
    },
    word::{
        decode_tail,
        encode_tail,
        _Q_LOCKED_MASK,
        _Q_LOCKED_PENDING_MASK,
        _Q_LOCKED_VAL,
        _Q_PENDING_MASK,
        _Q_PENDING_VAL,
        _Q_TAIL_MASK, //
    },
};
#[cfg(CONFIG_QUEUED_SPINLOCKS)]
use crate::{
    cpu::CpuId,
    sync::{
        atomic::Relaxed,
        barrier::{
            barrier,
            smp_mb,
            Write, //
        },
    },
    task::in_nmi,
};

/// Gives up the acquisition with `err`, popping its held-locks entry (the C labels `out:` and
/// `err_release_entry:`).
#[inline(always)]
fn give_up(entry: HeldEntry, err: Error) -> Result {
    entry.release();
    Err(err)
}

/// Test-and-set fallback for when queued spinlocks are not available: without
/// `CONFIG_QUEUED_SPINLOCKS`, and in hypervisor guests without paravirt spinlocks (x86's
/// `resilient_virt_spin_lock()`).
///
/// Returns 0 with the lock held, -EDEADLK on a detected deadlock, or -ETIMEDOUT.
///
/// # Safety
///
/// - `lock` points to an initialised `rqspinlock_t` that stays valid during the call and is only
///   accessed through the rqspinlock API.
/// - Preemption is disabled.
/// - The caller pushed `lock` onto this CPU's held-locks table with `grab_held_lock_entry()`
///   (as `res_spin_lock()` does), and pops it with `res_spin_unlock()` if this returns 0; on
///   failure this pops it.
#[export]
#[link_section = ".spinlock.text"]
unsafe extern "C" fn resilient_tas_spin_lock(lock: *mut bindings::rqspinlock_t) -> c_int {
    // SAFETY: `lock` is valid and only accessed through the rqspinlock API, by the caller.
    let lock = unsafe { LockWord::from_raw(lock) };
    // SAFETY: Preemption is disabled, and the entry of `lock` was pushed and not popped, by the
    // caller. We are either called directly from `res_spin_lock()`, which grabbed the entry,
    // when queued spinlocks are disabled, or from the slow path, after the fast path grabbed it.
    let entry = unsafe { HeldEntry::assume_grabbed() };

    // 0, -EDEADLK or -ETIMEDOUT.
    from_result(|| tas_spin_lock(lock, entry).map(|()| 0))
}

/// The body of [`resilient_tas_spin_lock`].
#[inline(always)]
fn tas_spin_lock(lock: LockWord<'_>, entry: HeldEntry) -> Result {
    let mut ret: Result = Ok(());
    let mut ts = Timeout::new(entry.table());

    // Since the waiting loop's time depends on the amount of contention, a short timeout unlike
    // the rqspinlock waiting loops isn't enough. Choose a second.
    ts.reset(NSEC_PER_SEC);
    loop {
        // Relaxed read: only a hint to avoid a failing cmpxchg.
        let mut val = lock.read();

        // Fully ordered cmpxchg (`atomic_try_cmpxchg()`), as in C, where acquire would do: it
        // is the acquisition, and pairs with the store-release of `lock->locked` in
        // `res_spin_unlock()` (the whole word without queued spinlocks; with them, its low
        // byte, which holds the 1 written here).
        if val == 0 && lock.try_cmpxchg(&mut val, 1, Full) {
            // The held-locks entry stays until `res_spin_unlock()`.
            return Ok(());
        }
        if ts.check(lock, !0, &mut ret) {
            break;
        }
        cpu_relax();
    }

    // The loop only ends on an error.
    ret.or_else(|err| give_up(entry, err))
}

/// Acquires the queued spinlock `lock` after the fast path failed to.
///
/// `val` is the value of the lock word that the fast path's cmpxchg observed.
///
/// Returns 0 with the lock held, -EDEADLK on an AA or ABBA deadlock, or -ETIMEDOUT.
///
/// # Safety
///
/// - `lock` points to an initialised `rqspinlock_t` that stays valid during the call and is only
///   accessed through the rqspinlock API.
/// - Preemption is disabled.
/// - The caller pushed `lock` onto this CPU's held-locks table with `grab_held_lock_entry()`
///   (as `res_spin_lock()` does), and pops it with `res_spin_unlock()` if this returns 0; on
///   failure this pops it.
#[cfg(CONFIG_QUEUED_SPINLOCKS)]
#[export]
#[link_section = ".spinlock.text"]
unsafe extern "C" fn resilient_queued_spin_lock_slowpath(
    lock: *mut bindings::rqspinlock_t,
    val: u32,
) -> c_int {
    // SAFETY: `lock` is valid and only accessed through the rqspinlock API, by the caller.
    let lock = unsafe { LockWord::from_raw(lock) };

    // `resilient_virt_spin_lock_enabled()`.
    if super::contended_path_is_tas() {
        return resilient_virt_spin_lock(lock);
    }

    // SAFETY: Preemption is disabled, and the entry of `lock` was pushed and not popped, by the
    // caller (the deadlock detection entry is already held after failing the fast path).
    let entry = unsafe { HeldEntry::assume_grabbed() };

    // 0, -EDEADLK or -ETIMEDOUT.
    from_result(|| queued_spin_lock_slowpath(lock, entry, val).map(|()| 0))
}

/// `resilient_virt_spin_lock(lock)`: [`resilient_tas_spin_lock`] on x86 with `CONFIG_PARAVIRT`
/// (through the C inline, to follow the architecture's choice).
#[cfg(CONFIG_QUEUED_SPINLOCKS)]
#[inline(always)]
fn resilient_virt_spin_lock(lock: LockWord<'_>) -> c_int {
    // SAFETY: The requirements of `resilient_tas_spin_lock()` are those of the slow path, which
    // our caller guarantees.
    unsafe { bindings::resilient_virt_spin_lock(lock.as_ptr()) }
}

/// The lock is ours: releases the MCS node (`__this_cpu_dec(rqnodes[0].mcs.count)`; the C label
/// `release:`).
///
/// The held-locks entry stays until `res_spin_unlock()`.
#[cfg(CONFIG_QUEUED_SPINLOCKS)]
#[inline(always)]
fn acquired_from_queue(lock: LockWord<'_>, base: McsNode) -> Result {
    trace_contention_end(lock, 0);
    base.count_dec();
    Ok(())
}

/// Gives up the acquisition with `err`, releasing the MCS node and the held-locks entry (the C
/// label `err_release_node:`).
#[cfg(CONFIG_QUEUED_SPINLOCKS)]
#[inline(always)]
fn give_up_from_queue(lock: LockWord<'_>, base: McsNode, entry: HeldEntry, err: Error) -> Result {
    trace_contention_end(lock, err.to_errno());
    base.count_dec();
    give_up(entry, err)
}

/// The body of [`resilient_queued_spin_lock_slowpath`], after the virtualisation check.
#[cfg(CONFIG_QUEUED_SPINLOCKS)]
#[inline(always)]
fn queued_spin_lock_slowpath(lock: LockWord<'_>, entry: HeldEntry, mut val: u32) -> Result {
    let mut ret: Result = Ok(());
    // RES_INIT_TIMEOUT: `spin` = 0 triggers the AA/ABBA checks at once.
    let mut ts = Timeout::new(entry.table());

    // The pending-bit part; `break 'queue` is the C's `goto queue`.
    'queue: {
        // Wait for in-progress pending->locked hand-overs with a bounded number of spins so
        // that we guarantee forward progress.
        //
        // 0,1,0 -> 0,0,1
        //
        // Relaxed (`atomic_cond_read_relaxed()`): only a heuristic; the value is acted upon
        // through the acquire RMW below.
        if val == _Q_PENDING_VAL {
            let mut cnt = bindings::_Q_PENDING_LOOPS as i32;
            val = smp_cond_load_relaxed(lock.val(), |v| {
                // `(VAL != _Q_PENDING_VAL) || !cnt--`
                let spun_out = cnt == 0;
                cnt = cnt.wrapping_sub(1);
                v != _Q_PENDING_VAL || spun_out
            });
        }

        // If we observe any contention; queue.
        if val & !_Q_LOCKED_MASK != 0 {
            break 'queue;
        }

        // trylock || pending
        //
        // 0,0,* -> 0,1,* -> 0,0,1 pending, trylock
        val = lock.fetch_set_pending_acquire();

        // If we observe contention, there is a concurrent locker.
        //
        // Undo and queue; our setting of PENDING might have made the n,0,0 -> 0,0,0 transition
        // fail and it will now be waiting on @next to become !NULL.
        if val & !_Q_LOCKED_MASK != 0 {
            // Undo PENDING if we set it.
            if val & _Q_PENDING_MASK == 0 {
                lock.clear_pending();
            }
            break 'queue;
        }

        // We're pending, wait for the owner to go away.
        //
        // 0,1,1 -> *,1,0
        //
        // This wait loop must be a load-acquire such that we match the store-release that
        // clears the locked bit and create lock sequentiality; this is because not all
        // clear_pending_set_locked() implementations imply full barriers.
        if val & _Q_LOCKED_MASK != 0 {
            ts.reset(RES_DEF_TIMEOUT);
            res_smp_cond_load_acquire(lock.locked(), |v| {
                v == 0 || ts.check(lock, _Q_LOCKED_MASK, &mut ret)
            });
        }

        if let Err(err) = ret {
            // We waited for the locked bit to go back to 0, as the pending waiter, but timed
            // out (or found a deadlock). We need to clear the pending bit since we own it: once
            // a stuck owner has been recovered, the lock must be restored to a valid state.
            //
            // *,1,* -> *,0,*
            lock.clear_pending();
            lockevent_inc(RQSPINLOCK_LOCK_TIMEOUT);
            return give_up(entry, err);
        }

        // Take ownership and clear the pending bit.
        //
        // 0,1,0 -> 0,0,1
        lock.clear_pending_set_locked();
        lockevent_inc(LOCK_PENDING);
        return Ok(());
    }

    // End of pending bit optimistic spinning and beginning of MCS queuing.

    // Do not queue if we're a waiter and someone is attempting this lock on the same CPU. In
    // case of NMIs, this prevents long timeouts where we interrupt the pending waiter, and the
    // owner, that will eventually signal the head of our queue, both of which are logically but
    // not physically part of the queue, hence outside the scope of the idx > 0 check below for
    // the trylock fallback.
    if let Err(err) = check_deadlock_aa(entry.table(), lock) {
        return give_up(entry, err);
    }

    lockevent_inc(LOCK_SLOWPATH);
    // SAFETY: Preemption is disabled (invariant of `entry`) for the rest of the function, which
    // is where `base` is used as this CPU's node.
    let base = unsafe { McsNode::this_cpu_base() };
    let idx = base.count_inc();
    let tail = encode_tail(CpuId::current(), idx);

    trace_contention_begin(lock, bindings::LCB_F_SPIN);

    // 4 nodes are allocated based on the assumption that there will not be nested NMIs taking
    // spinlocks. That may not be true in some architectures even though the chance of needing
    // more than 4 nodes will still be extremely unlikely. When that happens, we fall back to
    // attempting a trylock operation without using any MCS node. Unlike qspinlock which cannot
    // fail, we have the option of failing the slow path, and under contention, such a trylock
    // spinning will likely be treated unfairly due to lack of queueing, hence do not spin.
    if idx >= bindings::_Q_MAX_NODES || (in_nmi() && idx > 0) {
        lockevent_inc(LOCK_NO_NODE);
        if !lock.trylock() {
            return give_up_from_queue(lock, base, entry, EDEADLK);
        }
        return acquired_from_queue(lock, base);
    }

    // SAFETY: `base` is this CPU's `rqnodes[0]`, and `idx` < `_Q_MAX_NODES` was checked above.
    let node = unsafe { base.grab(idx) };

    // Keep counts of non-zero index values.
    lockevent_cond_inc(LOCK_USE_NODE2.wrapping_add(idx).wrapping_sub(1), idx != 0);

    // Ensure that we increment the head node->count before initialising the actual node. If
    // the compiler is kind enough to reorder these stores, then an IRQ could overwrite our
    // assignments.
    barrier();

    node.init();

    // We touched a (possibly) cold cacheline in the per-cpu queue node; attempt the trylock
    // once more in the hope someone let go while we weren't watching.
    if lock.trylock() {
        return acquired_from_queue(lock, base);
    }

    // Ensure that the initialisation of @node is complete before we publish the updated tail
    // via xchg_tail() and potentially link @node into the waitqueue via
    // WRITE_ONCE(prev->next, node) below.
    smp_mb(Write);

    // Publish the updated tail. We have already touched the queueing cacheline; don't bother
    // with pending stuff.
    //
    // p,*,* -> n,*,*
    let old = lock.xchg_tail(tail);
    let mut next: Option<McsNode> = None;

    // Wait to become the queue head, then for the owner and the pending waiter to go away.
    // `break 'head Err(ETIMEDOUT)` is the C's `goto waitq_timeout`.
    let head: Result<u32> = 'head: {
        // If there was a previous node; link it and wait until reaching the head of the
        // waitqueue.
        if old & _Q_TAIL_MASK != 0 {
            // SAFETY: `old` has a tail, which its owner encoded with `encode_tail()` for one of
            // its nodes below `_Q_MAX_NODES` (others do not queue).
            let prev = unsafe { decode_tail(old) };

            // Link @node into the waitqueue.
            prev.set_next(node);

            if node.spin_lock_contended() == RES_TIMEOUT_VAL {
                break 'head Err(ETIMEDOUT);
            }

            // While waiting for the MCS lock, the next pointer may have been set by another lock
            // waiter. We optimistically load the next pointer & prefetch the cacheline for
            // writing to reduce latency in the upcoming MCS unlock operation.
            next = node.next();
            if let Some(next) = next {
                next.prefetchw();
            }
        }

        // We're at the head of the waitqueue, wait for the owner & pending to go away.
        //
        // *,x,y -> *,0,0
        //
        // This wait loop must use a load-acquire such that we match the store-release that
        // clears the locked bit and create lock sequentiality; this is because the set_locked()
        // function below does not imply a full barrier.
        //
        // We use RES_DEF_TIMEOUT * 2 as the duration, as RES_DEF_TIMEOUT is meant to span
        // maximum allowed time per critical section, and we may have both the owner of the lock
        // and the pending bit waiter ahead of us.
        ts.reset(RES_DEF_TIMEOUT * 2);
        let val = res_smp_cond_load_acquire(lock.val(), |v| {
            v & _Q_LOCKED_PENDING_MASK == 0 || ts.check(lock, _Q_LOCKED_PENDING_MASK, &mut ret)
        });
        ret.map(|()| val)
    };

    let mut val = match head {
        Ok(val) => val,

        // Disable queue destruction when we detect deadlocks: leave the queue, handing the head
        // over to our successor normally if there is one.
        Err(err) if err == EDEADLK => {
            if !lock.try_cmpxchg_tail(tail, 0) {
                node.wait_next().spin_unlock_contended();
            }
            return give_up_from_queue(lock, base, entry, err);
        }

        // waitq_timeout:
        //
        // If the tail is still pointing to us, then we are the final waiter, and are
        // responsible for resetting the tail back to 0. Otherwise, if the cmpxchg operation
        // fails, we signal the next waiter to take exit and try the same. For a waiter with tail
        // node 'n':
        //
        // n,*,* -> 0,*,*
        //
        // When performing cmpxchg for the whole word (NR_CPUS > 16k), it is possible
        // locked/pending bits keep changing and we see failures even when we remain the head of
        // wait queue. However, eventually, pending bit owner will unset the pending bit, and new
        // waiters will queue behind us. This will leave the lock owner in charge, and it will
        // eventually either set locked bit to 0, or leave it as 1, allowing us to make progress.
        //
        // We terminate the whole wait queue for two reasons. Firstly, we eschew per-waiter
        // timeouts with one applied at the head of the wait queue. This allows everyone to break
        // out faster once we've seen the owner / pending waiter not responding for the timeout
        // duration from the head. Secondly, it avoids complicated synchronization, because when
        // not leaving in FIFO order, prev's next pointer needs to be fixed up etc.
        Err(err) => {
            if !lock.try_cmpxchg_tail(tail, 0) {
                node.wait_next().signal_timeout();
            }
            lockevent_inc(RQSPINLOCK_LOCK_TIMEOUT);
            return give_up_from_queue(lock, base, entry, err);
        }
    };

    // Claim the lock:
    //
    // n,0,0 -> 0,0,1 : lock, uncontended
    // *,*,0 -> *,*,1 : lock, contended
    //
    // If the queue head is the only one in the queue (lock value == tail) and nobody is pending,
    // clear the tail code and grab the lock. Otherwise, we only need to grab the lock.
    //
    // Note: at this point: (val & _Q_PENDING_MASK) == 0, because of the above wait condition,
    // therefore any concurrent setting of PENDING will make the uncontended transition fail.
    //
    // Relaxed cmpxchg: the load-acquire of the wait above already ordered us after the previous
    // owner's unlock, and nobody is behind us to publish anything to.
    if val & _Q_TAIL_MASK == tail && lock.try_cmpxchg(&mut val, _Q_LOCKED_VAL, Relaxed) {
        // No contention.
        return acquired_from_queue(lock, base);
    }

    // Either somebody is queued behind us or _Q_PENDING_VAL got set which will then detect the
    // remaining tail and queue behind us ensuring we'll see a @next.
    lock.set_locked();

    // Contended path; wait for next if not observed yet, release.
    let next = match next {
        Some(next) => next,
        None => node.wait_next(),
    };
    next.spin_unlock_contended();

    acquired_from_queue(lock, base)
}
