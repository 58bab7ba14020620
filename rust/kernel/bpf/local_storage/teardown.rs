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
//! # Lock failures and retries
//!
//! Two failures would leak: map free failing a bucket lock leaves the element on the bucket with
//! its special fields (kptrs, uptrs) never freed, and destroy failing the storage lock leaves the
//! storage (and its elements) allocated forever. Both are retried, bounded
//! ([`protocol::retry_lock`]):
//!
//! - Map free runs in a workqueue (`bpf_map_free_deferred()`, with migration disabled, which
//!   allows sleeping), holds no other lock, and cannot be nested: its failures are timeouts.
//!   Before touching the element, it leaves the RCU read section, calls `cond_resched()`, and
//!   restarts the bucket walk, up to [`protocol::MAP_FREE_BUCKET_LOCK_ATTEMPTS`] consecutive
//!   failures.
//! - Destroy never sleeps: every caller holds an RCU read lock around it (task and cgroup
//!   `rcu_read_lock()`, inode and socket `rcu_read_lock_dont_migrate()`), and it runs in softirq
//!   for tasks (`delayed_put_task_struct()`, an RCU callback) and sockets (`__sk_destruct()`,
//!   an RCU callback for `SOCK_RCU_FREE` sockets, or the last `sock_put()` in softirq); cgroups
//!   are freed from a workqueue and inodes from process context, but inside the same RCU read
//!   section. It retries the storage lock at once, after `cpu_relax()`, up to
//!   [`protocol::DESTROY_STORAGE_LOCK_ATTEMPTS`] attempts.
//!
//! The two other failures are not retried: they leak nothing, the other party finishes the
//! element. Destroy's bucket lock often fails for good reason: freeing special fields under a
//! bucket lock can drop the last reference of another owner (a kptr to a task or a socket),
//! whose own `destroy()` then needs the same bucket lock on this CPU, an AA deadlock that no
//! retry resolves.
//!
//! What can still leak, with a `WARN_ON_ONCE()`, after all attempts failed:
//!
//! - map free, bucket lock: the element and its special fields. The element is still on the
//!   bucket list, so it must not be freed when destroy also passes: a later restart of the
//!   bucket walk, or a destroy unlinking a neighbour, would touch freed memory. Map free sets no
//!   `SELEM_OFF_MAP`, so the state never completes [`protocol::OFF_LISTS`], and the restarted
//!   walk skips the element.
//! - destroy, storage lock: the storage and the element, still on its list. The element must
//!   not be freed when map free also passes: another map free unlinking a neighbour under the
//!   (then available) storage lock would write into it. No `SELEM_OFF_STORAGE` either.
//!
//! Either is undone if the other party, which read the pointer to that side before it was
//! cleared, takes the element off that list itself: it sets the `OFF` bit, and the element is
//! freed as usual.
//!
//! Each of the four lock attempts can be failed on demand ([`fault`]); the selftest
//! `sk_storage_teardown_faults` fails each of them on socket storage and checks, after each
//! party, that the elements were freed (it counts them as they reach `kvfree_call_rcu()`), that
//! the socket's `sk_omem_alloc` returns to its value before the elements were created, and that
//! the kernel logged no `WARN` during the subtest; `make check-debug` runs it under kmemleak.
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
    processor::cpu_relax,
    sync::{
        atomic::{
            Full,
            Relaxed, //
        },
        rcu,
    },
    warn_on_once,
};
use core::ptr;
use protocol::{
    completes_lists, //
    retry_lock,
    skip_revisit,
    BucketLockFailures,
    Free,
    LockKind,
    Pass,
    Side,
    Step,
};

/// One attempt of `side` at a lock: `lock()`, unless fault injection fails it first.
fn attempt_lock<G>(side: Side, kind: LockKind, lock: impl FnOnce() -> Result<G>) -> Result<G> {
    fault::injected_failure(side, kind)?;
    lock()
}

/// Takes a lock for `side`, retrying at once (after `cpu_relax()`) while
/// [`protocol::retry_lock`] allows. Returns `None` once it gives up.
///
/// For the retries that must not sleep (destroy's) and for single attempts.
fn lock_retrying<G>(side: Side, kind: LockKind, mut lock: impl FnMut() -> Result<G>) -> Option<G> {
    let mut failures = 0u32;
    loop {
        match attempt_lock(side, kind, &mut lock) {
            Ok(guard) => return Some(guard),
            Err(_) => {
                failures += 1;
                if !retry_lock(side, kind, failures) {
                    return None;
                }
                cpu_relax();
            }
        }
    }
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

/// An element that destroy's walk found on the list of the storage it destroys.
///
/// # Invariants
///
/// `selem` was found on the list of the destroyed storage in an RCU read-side critical section
/// that lasts for `'g`: from then on it is on that list or on none, and allocated.
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

/// Destroy's pass over one element of the storage it destroys: `bpf_selem_unlink_nofail(selem,
/// NULL)`.
fn unlink_nofail_destroy(dying: &Dying<'_>, elem: DestroyedElem<'_>) {
    let storage = dying.storage();
    let selem = elem.0;
    // `local_storage` first, as C. Either order works: map free clears `smap` before
    // `local_storage`, and a NULL `local_storage` makes us skip the map side anyway.
    let storage_set = !selem.local_storage().is_null();
    let smap = selem.smap();
    let mut pass = Pass::new(Side::Destroy, !smap.is_null(), storage_set);

    if pass.wants_map() {
        // SAFETY: A non-NULL `smap` is alive: map free clears it before freeing the map, and
        // waits for RCU readers (us) after that.
        let smap = unsafe { Map::from_raw(smap) };
        // The element's bucket is that of its storage, the one we destroy.
        let bucket = smap.bucket(storage.as_raw());
        let step = match lock_retrying(Side::Destroy, LockKind::Bucket, || bucket.lock_irqsave()) {
            // SAFETY: The element's storage hashes to this bucket, and `smap` is its map.
            Some(guard) => unsafe { unlink_from_bucket(&guard, selem, smap) },
            None => Step::LockFailed,
        };
        if pass.map_done(step) {
            selem.clear_smap();
        }
    }

    let mut free_storage = false;
    if pass.wants_storage() {
        let step = match lock_retrying(Side::Destroy, LockKind::Storage, || storage.lock_irqsave())
        {
            Some(guard) => {
                // SAFETY: The element was found on this storage's list.
                if let Some(on_storage) = unsafe { guard.claim(selem) } {
                    free_storage = on_storage.is_last();
                    // No uncharge, no owner pointer update: the owner is going away, and the
                    // charge left is returned by `destroy()` for the owner to drop.
                    on_storage.del();
                    Step::Unlinked
                } else {
                    Step::AlreadyUnlinked
                }
            }
            None => Step::LockFailed,
        };
        if pass.storage_done(step) {
            selem.set_local_storage(ptr::null_mut());
        }
    }

    // Destroy gave up on the storage lock.
    warn_on_once!(finish(selem, pass));

    if free_storage {
        // SAFETY: The last element left the storage of a dying owner: nobody finds the storage
        // any more but RCU readers, among them our caller, which keeps using it until its RCU
        // read section ends.
        unsafe { Storage::free(storage.as_raw(), true) };
    }
}

/// What map free's bucket walk must do after visiting an element.
enum Visit {
    /// Go on to the next element.
    Done,
    /// The bucket lock failed, nothing was done: leave the RCU read section, reschedule, and
    /// restart the bucket walk (which will meet the element again).
    Retry,
}

/// Map free's pass over one element of a bucket of `smap`: `bpf_selem_unlink_nofail(selem, b)`.
///
/// `failures` is the number of consecutive failures of the bucket lock so far.
fn unlink_nofail_map_free(
    smap: &Map,
    elem: FreedElem<'_>,
    failures: &mut BucketLockFailures,
) -> Visit {
    let FreedElem { selem, bucket } = elem;
    if skip_revisit(Side::MapFree, selem.state().load(Relaxed)) {
        return Visit::Done;
    }

    let storage = selem.local_storage();
    let smap_set = !selem.smap().is_null();
    let mut pass = Pass::new(Side::MapFree, smap_set, !storage.is_null());

    if pass.wants_map() {
        let step = match attempt_lock(Side::MapFree, LockKind::Bucket, || bucket.lock_irqsave()) {
            Ok(guard) => {
                // SAFETY: The element was found on this bucket's list, and `smap` is its map.
                unsafe { unlink_from_bucket(&guard, selem, smap) }
            }
            Err(_) if failures.failed(selem.as_raw().addr()) => {
                return Visit::Retry;
            }
            Err(_) => Step::LockFailed,
        };
        if pass.map_done(step) {
            selem.clear_smap();
        }
    }

    let mut free_storage = false;
    if pass.wants_storage() {
        // SAFETY: A non-NULL `local_storage` read in our RCU read section stays allocated until
        // it ends: storages are freed after a grace period.
        let storage = unsafe { Storage::from_raw(storage) };
        let step = match lock_retrying(Side::MapFree, LockKind::Storage, || storage.lock_irqsave())
        {
            Some(guard) => {
                // SAFETY: The element is on this storage's list or on none.
                if let Some(on_storage) = unsafe { guard.claim(selem) } {
                    free_storage = on_storage.is_last();
                    if smap_set {
                        // Clear the cache slot, uncharge, and detach the storage from its
                        // owner if this was the last element, with the owner pinned.
                        // SAFETY: `smap` is the element's map.
                        unsafe { guard.unlink_misc(&on_storage, smap, free_storage, true) };
                    }
                    on_storage.del();
                    Step::Unlinked
                } else {
                    Step::AlreadyUnlinked
                }
            }
            None => Step::LockFailed,
        };
        if pass.storage_done(step) {
            selem.set_local_storage(ptr::null_mut());
        }
    }

    // Map free gave up on the bucket lock.
    warn_on_once!(finish(selem, pass));

    if free_storage {
        // SAFETY: The last element left the storage, whose owner pointer `unlink_misc()`
        // cleared (or whose owner is gone): only RCU readers can still see it.
        unsafe { Storage::free(storage, true) };
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
    // SAFETY: Map free runs in process context (a workqueue) and holds no lock here, outside any
    // RCU read section.
    unsafe { bindings::cond_resched() };
    rcu::Guard::new()
}

/// One walk of `bucket` by map free, in the RCU read section of `rcu`. Returns `false` if the
/// walk must restart after rescheduling: a bucket lock to retry, or a reschedule due.
///
/// # Safety
///
/// As for [`drain_map`], with `bucket` one of `smap`'s buckets.
unsafe fn walk_bucket(
    smap: &Map,
    bucket: &Bucket,
    rcu: &rcu::Guard,
    failures: &mut BucketLockFailures,
) -> bool {
    // The element may be unlinked (it keeps its `next`) and freed (after a grace period, which
    // our RCU read section holds off) before the walk reads its next node.
    for selem in bucket.list().iter(rcu) {
        // INVARIANT: Found on a bucket of the map being freed (our contract), in our RCU read
        // section.
        let elem = FreedElem { selem, bucket };
        if let Visit::Retry = unlink_nofail_map_free(smap, elem, failures) {
            return false;
        }
        // SAFETY: Reads the current task's flags.
        if unsafe { bindings::need_resched() } {
            return false;
        }
    }
    true
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
        let mut failures = BucketLockFailures::default();
        // Walk the bucket until it is done; restart it after leaving the RCU read section, as
        // the element the walk was on may be freed meanwhile.
        // SAFETY: `bucket` is one of the buckets of `smap`, which is being freed (our contract).
        while !unsafe { walk_bucket(smap, bucket, &rcu_guard, &mut failures) } {
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
    // Nested in the caller's: the elements are found in it, the storage was before it.
    let rcu = rcu::Guard::new();
    for selem in dying.storage().list().iter(&rcu) {
        // INVARIANT: Found on the list of the destroyed storage, in our RCU read section.
        unlink_nofail_destroy(&dying, DestroyedElem(selem));
    }
    drop(rcu);

    let charge = dying.release_owner_and_wait();
    // CAST: The C function returns the `u64` as a `u32`; a storage never holds 4 GiB of charge.
    charge as u32
}
