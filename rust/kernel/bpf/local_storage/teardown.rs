// SPDX-License-Identifier: GPL-2.0

//! Teardown: freeing all elements of an owner, or of a map, without failing.
//!
//! Two teardowns unlink elements without being allowed to fail:
//!
//! - *destroy* (`bpf_local_storage_destroy()`), when an owner is freed: it walks the owner's
//!   storage list;
//! - *map free* (`bpf_local_storage_map_free()`), when a map is freed: it walks the map's
//!   buckets.
//!
//! No program or system call can reach an element they handle any more (the owner is dying, or
//! the map is unreachable), so they only race with each other, on elements that belong both to
//! a dying owner and to a dying map. But they take the same rqspinlocks as everybody else
//! (other owners' elements share the buckets, other maps' elements the storage), and any
//! acquisition can fail. `bpf_selem_unlink_nofail()` therefore unlinks each side of an element
//! under that side's lock when it can, and otherwise leaves that side to the other party.
//!
//! # The protocol
//!
//! Each party, for each element: the map side under the bucket lock (unlink from the bucket and
//! free the special fields, exactly once), then the storage side under the storage lock (unlink
//! from the storage; map free also uncharges and detaches the storage from the owner, destroy
//! leaves that to the owner). Afterwards `smap` and `local_storage` are cleared, except that
//! destroy keeps `smap` when it failed the bucket lock and map free keeps `local_storage` when
//! it failed the storage lock, so that the other party still finds the element (through the
//! bucket, through the storage list). A party that unlinked both sides frees the element;
//! otherwise it sets its bit in `selem->state` (`SELEM_MAP_UNLINKED` for map free,
//! `SELEM_STORAGE_UNLINKED` for destroy) with `SELEM_OFF_MAP` and `SELEM_OFF_STORAGE` for the
//! lists it unlinked the element from, all in one `fetch_or()`, and the party whose
//! `fetch_or()` completes `SELEM_OFF_LISTS` (off both lists) frees it. The decisions are in
//! [`protocol`], with tests of every interleaving.
//!
//! # Memory ordering
//!
//! - The bits are set with a fully ordered `fetch_or()` ([`Atomic::fetch_or`]), as C's
//!   `atomic_fetch_or()`, though its atomicity alone gives a single winner: each list is unlinked
//!   once, so exactly one `fetch_or()` completes `SELEM_OFF_LISTS`. Both parties are in RCU
//!   read-side critical sections, and the element is freed with `kfree_rcu()`, so whatever a
//!   party still does to the element after its `fetch_or()` completes before the memory is
//!   reused; the list changes were made under the locks, which order them for every later
//!   holder.
//! - The winner frees the element without looking at its special fields ([`element::kfree_rcu`]):
//!   they were freed by the unlink from the bucket, under the bucket lock, or deliberately
//!   leaked. It must not decide from `smap`: map free clears `smap` before its `fetch_or()`, and
//!   nothing orders that store before a winner's read of `smap` on another CPU, which could read
//!   a stale `smap` and free the fields a second time.
//! - `smap` and `local_storage` are read with `READ_ONCE()` and cleared with `WRITE_ONCE()`
//!   (`RCU_INIT_POINTER()`). A stale non-NULL value only leads to taking a lock and finding,
//!   under it, that the element is no longer linked; the objects stay allocated meanwhile (map
//!   free waits for RCU before freeing the map; storages are freed after a grace period).
//!   Destroy hashes the storage it is destroying, never the `local_storage` it read (which may
//!   read NULL, and would select another bucket), and skips the map side when `local_storage` is
//!   NULL.
//! - The owner pin: map free uncharges the owner under the storage lock between a
//!   `refcount_inc_not_zero()` and a `refcount_dec()` (release) of `owner_refcnt`; destroy drops
//!   the owner's reference and waits for the count to reach 0, then `smp_mb()`, before reading
//!   `mem_charge` ([`Dying::release_owner_and_wait`]). If the pin fails, destroy is past that
//!   point and the owner may be gone: map free does not touch it.
//!
//! # Lock failures, deferral and retries
//!
//! Destroy never sleeps: every caller holds an RCU read lock around it (the owners' frees enter
//! it, those of inodes and sockets with migration disabled too, as their C always has), and it
//! runs in softirq for tasks (`delayed_put_task_struct()`, an RCU callback) and sockets
//! (`__sk_destruct()`, an RCU callback for `SOCK_RCU_FREE` sockets, or the last `sock_put()` in
//! softirq); cgroups are freed from a workqueue and inodes from process context, but inside the
//! same RCU read section.
//! A failed acquisition has already spun for the lock's timeout (at least 250 ms) with
//! interrupts off, so destroy makes one attempt at each lock and stops at its first failure: the
//! pass records what it unlinked and keeps the element's pointers ([`protocol::Step::Again`]),
//! destroy drops the owner's reference as usual, and queues the storage for the *destroy work*
//! (`bpf_local_storage_queue_destroy()`), which finishes it in process context
//! ([`destroy_deferred`]). One failure is also all an `EDEADLK` costs: freeing special fields
//! under a bucket lock can drop the last reference of another owner (a kptr), whose nested
//! `destroy()` then fails that bucket lock on this CPU at once and leaves its storage to the
//! work.
//!
//! Two failures would leak, and the teardowns that may sleep retry them, bounded
//! ([`protocol::retry_lock`]): map free's bucket lock (the element would stay on the bucket of the
//! freed map with its special fields, kptrs and uptrs, never freed), and the destroy work's
//! storage lock (the storage and its elements would stay allocated forever). Both run in a
//! workqueue (map free in `bpf_map_free_deferred()`, with migration disabled, which allows
//! sleeping), hold no other lock and cannot be nested, so their failures are timeouts. Before
//! trying again they leave the RCU read section, call `cond_resched()`, and restart their walk,
//! up to [`protocol::WORK_LOCK_ATTEMPTS`] consecutive failures per element. The other failures
//! are not retried: they leak nothing, the other party finishes the element.
//!
//! Who frees a storage whose destroy was deferred is settled by `local_storage->teardown`: the
//! destroy work frees it when it is done, unless elements it gave up on are left; map free,
//! taking the last element off, frees it only if the work is done with it; destroy does not
//! queue a storage that map free emptied ([`protocol::map_free_frees_storage`] and the two next
//! to it).
//!
//! What can still leak, with a `WARN_ON_ONCE()`, after all attempts failed:
//!
//! - map free, bucket lock: the element and its special fields. The element is still on the
//!   bucket list, so it must not be freed when destroy also passes: a later restart of the
//!   bucket walk, or a destroy unlinking a neighbour, would touch freed memory. Map free sets no
//!   `SELEM_OFF_MAP`, so the state never completes [`protocol::OFF_LISTS`], and the restarted
//!   walk skips the element.
//! - destroy work, storage lock: the storage and the element, still on its list. The element
//!   must not be freed when map free also passes: another map free unlinking a neighbour under
//!   the (then available) storage lock would write into it. No `SELEM_OFF_STORAGE` either.
//!
//! Either is undone if the other party, which read the pointer to that side before it was
//! cleared, takes the element off that list itself: it sets the `OFF` bit, and the element is
//! freed as usual.
//!
//! Each of the four locks can be failed on demand ([`fault`]; the destroy work shares destroy's
//! attributes); the selftest
//! `sk_storage_teardown_faults` fails each of them on socket storage and checks, after each
//! party, that the elements were freed (it counts them as they reach `kvfree_call_rcu()`), that
//! the socket's `sk_omem_alloc` returns to its value before the elements were created, and that
//! the kernel logged no `WARN` during the subtest; with `CONFIG_DEBUG_KMEMLEAK`, a kmemleak scan
//! after it finds what else leaked.
//!
//! C: [`kernel/bpf/bpf_local_storage.c`](srctree/kernel/bpf/bpf_local_storage.c)
//!
//! [`Atomic::fetch_or`]: crate::sync::atomic::Atomic::fetch_or

mod fault;
mod protocol;

use super::{
    element::{
        self,
        Selem, //
    },
    map::{
        Bucket,
        BucketGuard,
        Map, //
    },
    storage::{
        Dying,
        Storage, //
    },
};
use crate::{
    bindings,
    prelude::*,
    sync::{
        atomic::{
            Full,
            Relaxed, //
        },
        rcu,
    },
    task, warn_on_once,
};
use core::ptr;
use protocol::{
    completes_lists,
    destroy_queues_storage,
    map_free_frees_storage,
    skip_revisit,
    work_frees_storage,
    Free,
    LockFailures,
    LockKind,
    Pass,
    Side,
    Step,
    Visit,
    DESTROY_DEFERRED,
    DESTROY_DONE,
    EMPTIED, //
};

/// One attempt of `side` at a lock: `lock()`, unless fault injection fails it first.
fn attempt_lock<G>(side: Side, kind: LockKind, lock: impl FnOnce() -> Result<G>) -> Result<G> {
    fault::injected_failure(side, kind)?;
    lock()
}

/// Ends a pass: sets the state bits and frees the element if this pass must. Returns whether
/// the pass leaked the element, for the caller's `WARN_ON_ONCE()`.
#[must_use = "a leak must be reported"]
fn finish(selem: Selem<'_>, pass: Pass) -> bool {
    let end = pass.finish();

    let free = match end.free {
        Free::Now => true,
        // See "Memory ordering" in the module docs.
        Free::IfOffLists => {
            completes_lists(selem.state().fetch_or(end.state_bits, Full), end.state_bits)
        }
    };
    if free {
        // SAFETY: Both sides are unlinked (by this pass, or by the two parties, each under its
        // lock, as the `OFF` bits record), the special fields were freed under the bucket lock,
        // and only RCU readers, the other party among them, can still see the element. Nobody
        // else frees it: the protocol has one winner.
        unsafe { element::kfree_rcu(selem.as_raw()) };
    }
    end.leaked
}

/// The map side of either party's pass, under the bucket lock: unlinks `selem` from the bucket
/// if it is still there, and frees its special fields.
///
/// Whoever unlinks the element from the bucket frees its fields, under the bucket lock, so
/// exactly once; no program can reach the element any more. Freeing them may drop the last
/// reference of another owner (a kptr) and run its `destroy()`, nested, here.
///
/// # Safety
///
/// `selem` is on `guard`'s bucket or on no bucket, and `smap` is its map.
unsafe fn unlink_from_bucket(guard: &BucketGuard<'_>, selem: Selem<'_>, smap: &Map) -> Step {
    // SAFETY: The element is on this bucket's list or on none (our contract).
    let Some(on_map) = (unsafe { guard.claim(selem) }) else {
        return Step::AlreadyUnlinked;
    };
    on_map.del();
    // SAFETY: `smap` is the element's map, and we just unlinked it.
    unsafe { selem.free_fields(smap) };
    Step::Unlinked
}

/// An element that a destroy walk found on the list of the storage it destroys.
///
/// # Invariants
///
/// `selem` was found on the list of a storage being destroyed, in an RCU read-side critical
/// section that lasts for `'g`: from then on it is on that list or on none, and allocated.
struct DestroyedElem<'g>(Selem<'g>);

/// An element that map free's walk found on `bucket`, a bucket of the map it frees.
///
/// # Invariants
///
/// `selem` was found on `bucket`, a bucket of the map being freed, in an RCU read-side critical
/// section that lasts for `'g`: from then on it is on that bucket or on none, and allocated.
struct FreedElem<'g> {
    selem: Selem<'g>,
    bucket: &'g Bucket,
}

/// A destroy pass over one element of `storage`, the storage it destroys:
/// `bpf_selem_unlink_nofail(selem, NULL)`. Without `work`, the pass of [`destroy`] (one
/// attempt per lock, stop at the first failure); with it, that of the destroy work, `work`
/// counting the storage lock's failures.
///
/// Returns what the walk does next, and whether the element was the storage's last: the
/// caller frees the storage then.
fn unlink_nofail_destroy(
    storage: &Storage,
    elem: DestroyedElem<'_>,
    mut work: Option<&mut LockFailures>,
) -> (Visit, bool) {
    let side = if work.is_some() {
        Side::DestroyWork
    } else {
        Side::Destroy
    };
    let selem = elem.0;
    // `local_storage` first, as C. Either order works: map free clears `smap` before
    // `local_storage`, and a NULL `local_storage` makes us skip the map side anyway.
    let storage_set = !selem.local_storage().is_null();
    let smap = selem.map();
    let mut pass = Pass::new(side, smap.is_some(), storage_set);

    if let Some(smap) = smap.filter(|_| pass.wants_map()) {
        // The element's bucket is that of its storage, the one we destroy.
        let bucket = smap.bucket(storage.as_raw());
        let step = match attempt_lock(side, LockKind::Bucket, || bucket.lock_irqsave()) {
            // SAFETY: The element's storage hashes to this bucket, and `smap` is its map.
            Ok(guard) => unsafe { unlink_from_bucket(&guard, selem, smap) },
            // Destroy stops; the destroy work leaves the map side to map free.
            Err(_) if side == Side::Destroy => Step::Again,
            Err(_) => Step::LockFailed,
        };
        if pass.map_done(step) {
            selem.clear_smap();
        }
    }

    let mut emptied = false;
    if pass.wants_storage() {
        let step = match attempt_lock(side, LockKind::Storage, || storage.lock_irqsave()) {
            Ok(guard) => {
                if let Some(on_storage) = guard.claim(selem) {
                    emptied = on_storage.is_last();
                    // No uncharge, no owner pointer update: the owner is going away, and the
                    // charge left is returned by `destroy()` for the owner to drop.
                    on_storage.del();
                    Step::Unlinked
                } else {
                    Step::AlreadyUnlinked
                }
            }
            Err(_)
                if work
                    .as_mut()
                    .is_none_or(|f| f.failed(selem.as_raw().addr())) =>
            {
                Step::Again
            }
            Err(_) => Step::LockFailed,
        };
        if pass.storage_done(step) {
            selem.set_local_storage(ptr::null_mut());
        }
    }

    let visit = if pass.stopped() {
        side.after_stop()
    } else {
        Visit::Done
    };
    // The destroy work gave up on the storage lock.
    warn_on_once!(finish(selem, pass));
    (visit, emptied)
}

/// Map free took the last element off `storage`: frees it, unless the destroy work will
/// ([`protocol::map_free_frees_storage`]).
fn map_free_emptied(storage: &Storage) {
    if map_free_frees_storage(storage.teardown().fetch_or(EMPTIED, Full)) {
        // SAFETY: The last element left the storage, whose owner pointer `unlink_misc()`
        // cleared (or whose owner is gone): only RCU readers can still see it, and the destroy
        // work, if destroy queued it, is done with it.
        unsafe { storage.free(true) };
    }
}

/// Map free's pass over one element of a bucket of `smap`: `bpf_selem_unlink_nofail(selem, b)`.
///
/// `failures` counts the consecutive failures of the bucket lock.
fn unlink_nofail_map_free(smap: &Map, elem: FreedElem<'_>, failures: &mut LockFailures) -> Visit {
    let FreedElem { selem, bucket } = elem;
    if skip_revisit(Side::MapFree, selem.state().load(Relaxed)) {
        return Visit::Done;
    }

    let storage = selem.local_storage();
    let smap_set = selem.map().is_some();
    let mut pass = Pass::new(Side::MapFree, smap_set, !storage.is_null());

    if pass.wants_map() {
        let step = match attempt_lock(Side::MapFree, LockKind::Bucket, || bucket.lock_irqsave()) {
            Ok(guard) => {
                // SAFETY: The element was found on this bucket's list, and `smap` is its map.
                unsafe { unlink_from_bucket(&guard, selem, smap) }
            }
            // Nothing done yet: the restarted walk meets the element again.
            Err(_) if failures.failed(selem.as_raw().addr()) => return Visit::Retry,
            Err(_) => Step::LockFailed,
        };
        if pass.map_done(step) {
            selem.clear_smap();
        }
    }

    let mut emptied = None;
    if pass.wants_storage() {
        // SAFETY: A non-NULL `local_storage` read in our RCU read section stays allocated until
        // it ends: storages are freed after a grace period.
        let storage = unsafe { Storage::from_raw(storage) };
        let step = match attempt_lock(Side::MapFree, LockKind::Storage, || storage.lock_irqsave()) {
            Ok(guard) => {
                if let Some(on_storage) = guard.claim(selem) {
                    let last = on_storage.is_last();
                    if smap_set {
                        // Clear the cache slot, uncharge, and detach the storage from its
                        // owner if this was the last element, with the owner pinned.
                        // SAFETY: `smap` is the element's map.
                        unsafe { guard.unlink_misc(&on_storage, smap, last, true) };
                    }
                    on_storage.del();
                    emptied = last.then_some(storage);
                    Step::Unlinked
                } else {
                    Step::AlreadyUnlinked
                }
            }
            Err(_) => Step::LockFailed,
        };
        if pass.storage_done(step) {
            selem.set_local_storage(ptr::null_mut());
        }
    }

    // Map free gave up on the bucket lock.
    warn_on_once!(finish(selem, pass));

    if let Some(storage) = emptied {
        map_free_emptied(storage);
    }
    Visit::Done
}

/// `cond_resched_rcu()`, always leaving the RCU read section: the RCU read lock is dropped, the
/// CPU given up if needed, and a new RCU read section started.
///
/// Map free uses it to let a bucket lock holder progress and to bound its RCU read sections; it
/// restarts its bucket walk afterwards, as the node it was on may be freed meanwhile.
fn resched_outside_rcu(guard: rcu::Guard) -> rcu::Guard {
    drop(guard);
    // Map free and the destroy work run in process context (workqueues) and hold no lock here.
    task::cond_resched();
    rcu::Guard::new()
}

/// Unlinks and frees every element of `smap`: the bucket walk of `bpf_local_storage_map_free()`.
///
/// # Safety
///
/// `smap` is being freed: no program or system call can reach it, and no element can be added
/// to it any more. Process context, no lock held.
pub(super) unsafe fn drain_map(smap: &Map) {
    for bucket in smap.buckets() {
        let mut rcu_guard = rcu::Guard::new();
        let mut failures = LockFailures::new(Side::MapFree, LockKind::Bucket);
        // Walk the bucket until it is done. The walk stops for a bucket lock to retry or a
        // reschedule due, and restarts after leaving the RCU read section, as the element it
        // was on may be freed meanwhile. An element may also be unlinked (it keeps its `next`)
        // and freed (after a grace period, which our RCU read section holds off) before the
        // walk reads its next node.
        while bucket.list().iter(&rcu_guard).any(|selem| {
            // INVARIANT: Found on a bucket of the map being freed (our contract), in our RCU
            // read section.
            let elem = FreedElem { selem, bucket };
            unlink_nofail_map_free(smap, elem, &mut failures) == Visit::Retry
                || task::need_resched()
        }) {
            rcu_guard = resched_outside_rcu(rcu_guard);
        }
        drop(rcu_guard);
    }
}

/// Destroys the storage of an owner that is being freed: `bpf_local_storage_destroy()`.
///
/// Unlinks and frees every element, racing only with map frees, and never fails. Returns the
/// charge left on the owner (`mem_charge`), which the owner drops itself (sockets from
/// `sk_omem_alloc`): per-element uncharges are skipped here.
///
pub(super) fn destroy(dying: Dying<'_>) -> u32 {
    let storage = dying.storage();
    let mut deferred = false;
    for selem in dying.elems() {
        // INVARIANT: Found on the list of the destroyed storage, in the caller's RCU read
        // section, which lasts as long as `dying`.
        let elem = DestroyedElem(selem);
        let (visit, emptied) = unlink_nofail_destroy(storage, elem, None);
        if emptied {
            // SAFETY: The last element left the storage of a dying owner: nobody finds the
            // storage any more but RCU readers, among them our caller, which keeps using it
            // until its RCU read section ends.
            unsafe { storage.free(true) };
        }
        if visit == Visit::Defer {
            deferred = true;
            break;
        }
    }

    let charge = dying.release_owner_and_wait();
    if deferred {
        // The owner is freed once we return, and the elements left to the work are still on
        // their buckets with their `local_storage`.
        storage.forget_owner();
    }
    if deferred && destroy_queues_storage(storage.teardown().fetch_or(DESTROY_DEFERRED, Full)) {
        // SAFETY: Only the destroy work frees the storage now (map free does not, with
        // `DESTROY_DEFERRED` and without `DESTROY_DONE`), and we queue it once: no destroy runs
        // twice on a storage. We do not touch it afterwards.
        unsafe { bindings::bpf_local_storage_queue_destroy(storage.as_raw()) };
    }
    // CAST: The C function returns the `u64` as a `u32`; a storage never holds 4 GiB of charge.
    charge as u32
}

/// One walk of the storage list by the destroy work, in the RCU read section of `rcu`. Returns
/// `None` if the walk must restart after rescheduling (a storage lock to retry, or a
/// reschedule due), else whether it took the last element off the storage.
fn walk_deferred(storage: &Storage, rcu: &rcu::Guard, failures: &mut LockFailures) -> Option<bool> {
    for selem in storage.list().iter(rcu) {
        // INVARIANT: Found on the list of the destroyed storage, in our RCU read section.
        let elem = DestroyedElem(selem);
        match unlink_nofail_destroy(storage, elem, Some(&mut *failures)) {
            (_, true) => return Some(true),
            (Visit::Done, false) => {}
            (Visit::Retry | Visit::Defer, false) => return None,
        }
        if task::need_resched() {
            return None;
        }
    }
    Some(false)
}

/// The destroy work on one storage that destroy stopped on: finishes its elements, retrying the
/// storage lock after rescheduling, and frees the storage unless map free will
/// ([`protocol::work_frees_storage`]), or it still holds elements given up on.
///
/// # Safety
///
/// `storage` was queued by [`destroy`] and is given to this function once, which owns it: map
/// free does not free it before this function set `DESTROY_DONE`. Process context (the destroy
/// work), no lock held.
pub(super) unsafe fn destroy_deferred(storage: &Storage) {
    let mut failures = LockFailures::new(Side::DestroyWork, LockKind::Storage);
    let mut rcu_guard = rcu::Guard::new();
    let emptied = loop {
        match walk_deferred(storage, &rcu_guard, &mut failures) {
            Some(emptied) => break emptied,
            None => rcu_guard = resched_outside_rcu(rcu_guard),
        }
    };
    drop(rcu_guard);

    if emptied || work_frees_storage(storage.teardown().fetch_or(DESTROY_DONE, Full)) {
        // SAFETY: The storage is empty and its owner gone: only RCU readers that found it
        // before can still see it, and only we free it (our contract, and map free emptied it
        // before our `DESTROY_DONE`, or we did).
        unsafe { storage.free(true) };
    }
}
