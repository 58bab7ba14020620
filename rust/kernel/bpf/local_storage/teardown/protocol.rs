// SPDX-License-Identifier: GPL-2.0

//! The decisions of the teardown protocol, as pure functions.
//!
//! [`super`] runs the protocol on real elements, taking the locks; everything it decides from
//! what it read and from the outcome of each lock attempt is decided here, so that the tests at
//! the end can run every interleaving of the two sides, with every lock outcome, on a model of
//! an element.
//!
//! One pass of one side over one element is:
//!
//! 1. [`skip_revisit`]: map free may meet an element again after restarting a bucket walk.
//! 2. Read `local_storage` and `smap` (without locks).
//! 3. Map side, if [`Pass::wants_map`]: take the bucket lock, retrying while [`retry_lock`]
//!    allows; under it, unlink the element from the bucket and free its special fields if it
//!    is still linked. [`Pass::map_done`] says whether to clear `smap` afterwards.
//! 4. Storage side, if [`Pass::wants_storage`]: the same with the storage lock and
//!    `local_storage` ([`Pass::storage_done`]).
//! 5. [`Pass::finish`]: the bits to set in `selem->state` and how the element is freed.
//!
//! C header: [`include/linux/bpf_local_storage.h`](srctree/include/linux/bpf_local_storage.h)

use crate::{
    bindings,
    prelude::*, //
};

/// `SELEM_MAP_UNLINKED`: map free is done with the element.
pub(super) const MAP_UNLINKED: i32 = bindings::SELEM_MAP_UNLINKED as i32;
/// `SELEM_STORAGE_UNLINKED`: destroy is done with the element.
pub(super) const STORAGE_UNLINKED: i32 = bindings::SELEM_STORAGE_UNLINKED as i32;
/// `SELEM_OFF_MAP`: a party unlinked the element from its bucket.
pub(super) const OFF_MAP: i32 = bindings::SELEM_OFF_MAP;
/// `SELEM_OFF_STORAGE`: a party unlinked the element from its storage's list.
pub(super) const OFF_STORAGE: i32 = bindings::SELEM_OFF_STORAGE;
/// `SELEM_OFF_LISTS`: the element is on neither list. The pass whose `fetch_or()` completes it
/// frees the element ([`completes_lists`]).
///
/// A party sets its bit and the `OFF` bit of each list it unlinked the element from; a party
/// that gave up on a lock sets no `OFF` bit for that list. The other party may still unlink the
/// element from there (it read the pointer to that side before it was cleared), and then the
/// element is freed as usual. If nobody does, the state never gets there and the element is
/// leaked: the price of not freeing memory that is still on a list.
pub(super) const OFF_LISTS: i32 = bindings::SELEM_OFF_LISTS;

static_assert!(OFF_LISTS == OFF_MAP | OFF_STORAGE);
static_assert!(OFF_LISTS & (MAP_UNLINKED | STORAGE_UNLINKED) == 0);

/// Whether the `fetch_or()` of `bits` that returned `old` took the element off its last list,
/// which makes its pass the one that frees it.
///
/// Each list is unlinked once, under its lock, by one party, which then sets that list's `OFF`
/// bit in the same pass: so exactly one `fetch_or()` completes [`OFF_LISTS`], whoever meets the
/// element last, and whatever the other party did or will do.
#[inline]
pub(super) fn completes_lists(old: i32, bits: i32) -> bool {
    old & OFF_LISTS != OFF_LISTS && (old | bits) & OFF_LISTS == OFF_LISTS
}

/// `BPF_LOCAL_STORAGE_DESTROY_DEFERRED`, in `local_storage->teardown`: destroy stopped at a
/// lock failure and queued the storage for the destroy work.
pub(super) const DESTROY_DEFERRED: i32 = bindings::BPF_LOCAL_STORAGE_DESTROY_DEFERRED;
/// `BPF_LOCAL_STORAGE_DESTROY_DONE`: the destroy work is done with the storage.
pub(super) const DESTROY_DONE: i32 = bindings::BPF_LOCAL_STORAGE_DESTROY_DONE;
/// `BPF_LOCAL_STORAGE_EMPTIED`: map free took the last element off the storage.
pub(super) const EMPTIED: i32 = bindings::BPF_LOCAL_STORAGE_EMPTIED;

/// Whether map free, having taken the last element off a storage and set [`EMPTIED`] with a
/// `fetch_or()` that returned `old`, frees the storage.
///
/// It does, unless destroy queued the storage for the destroy work and the work is not done
/// with it: then the work frees it when done ([`work_frees_storage`]).
#[inline]
pub(super) fn map_free_frees_storage(old: i32) -> bool {
    old & DESTROY_DEFERRED == 0 || old & DESTROY_DONE != 0
}

/// Whether destroy, having stopped and set [`DESTROY_DEFERRED`] with a `fetch_or()` that
/// returned `old`, queues the storage for the destroy work.
///
/// Not if map free emptied it before: map free then frees it ([`map_free_frees_storage`]).
#[inline]
pub(super) fn destroy_queues_storage(old: i32) -> bool {
    old & EMPTIED == 0
}

/// Whether the destroy work, done with a storage whose last element it did not take off itself
/// and having set [`DESTROY_DONE`] with a `fetch_or()` that returned `old`, frees the storage.
///
/// It does if map free emptied it meanwhile; otherwise elements are left (given up on, or still
/// to be taken off by map free, which then frees the storage).
#[inline]
pub(super) fn work_frees_storage(old: i32) -> bool {
    old & EMPTIED != 0
}

/// Which teardown is running.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Side {
    /// `bpf_local_storage_destroy()`: the owner is being freed. Walks the storage list; runs in
    /// an RCU read-side critical section of its caller, possibly in softirq, so it never sleeps.
    /// It makes one attempt at each lock and stops at the first failure, leaving the rest of
    /// the storage to [`Side::DestroyWork`]: a failed attempt already spun for the lock's
    /// timeout with interrupts off, and it does not spin for another.
    Destroy,
    /// The destroy work: finishes, in a workqueue, a storage that destroy stopped on. The owner
    /// is gone; it may sleep between RCU read sections.
    DestroyWork,
    /// `bpf_local_storage_map_free()`: the map is being freed. Walks the buckets; runs in a
    /// workqueue, so it may sleep between RCU read sections.
    MapFree,
}

impl Side {
    /// The state bit this side sets when it is done with an element it did not fully unlink.
    #[inline]
    pub(super) const fn bit(self) -> i32 {
        match self {
            Side::Destroy | Side::DestroyWork => STORAGE_UNLINKED,
            Side::MapFree => MAP_UNLINKED,
        }
    }

    /// Whether this is one of the two destroy passes, which walk the storage list.
    #[inline]
    pub(super) const fn destroys(self) -> bool {
        matches!(self, Side::Destroy | Side::DestroyWork)
    }

    /// What the walk does after a pass of this side stopped at a lock failure.
    #[inline]
    pub(super) const fn after_stop(self) -> Visit {
        match self {
            Side::Destroy => Visit::Defer,
            Side::DestroyWork | Side::MapFree => Visit::Retry,
        }
    }
}

/// What a walk does after passing over an element.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Visit {
    /// Go on to the next element.
    Done,
    /// A lock to try again failed: leave the RCU read section, reschedule, and restart the walk
    /// (which meets the element again).
    Retry,
    /// Destroy stopped at a lock failure: queue the storage for the destroy work, which finishes
    /// it.
    Defer,
}

/// A lock of the protocol.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum LockKind {
    /// The bucket lock `B`, of the map side.
    Bucket,
    /// The storage lock `S`, of the storage side.
    Storage,
}

/// What one side of an element gave.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Step {
    /// Not attempted: the pointer to that side was NULL (the other party is done with it).
    Absent,
    /// Lock taken, element unlinked from that side by us.
    Unlinked,
    /// Lock taken, element already unlinked from that side (by the other party).
    AlreadyUnlinked,
    /// The lock could not be taken, retries included: this pass gives up on that side.
    LockFailed,
    /// The lock could not be taken, and the pass stops here: the element is met again, by the
    /// destroy work (after destroy stopped) or by the destroy work's restarted walk.
    Again,
}

/// How the pass ends for the element.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Free {
    /// This pass unlinked both sides: nobody else can free the element; free it.
    Now,
    /// Free it if this pass's `fetch_or()` of its bits [`completes_lists`]: the other party
    /// unlinked the other list.
    IfOffLists,
}

/// The end of a pass: [`Pass::finish`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) struct Finish {
    /// Bits to `atomic_fetch_or()` into `selem->state`; 0 for none.
    pub(super) state_bits: i32,
    /// Whether and how to free the element.
    pub(super) free: Free,
    /// Whether this pass gave up on a lock and left the element on a list that only the other
    /// party could still unlink it from: report it (`WARN_ON_ONCE()`).
    pub(super) leaked: bool,
}

/// Consecutive attempts of a lock by a teardown that may sleep before it gives up on an element:
/// map free on a bucket lock, the destroy work on a storage lock.
///
/// Both run in a workqueue and hold no other lock, so their failures are timeouts (an
/// `EDEADLK` needs a lock held by this CPU). Between attempts they leave the RCU read section,
/// call `cond_resched()`, and restart their walk, which meets the element again. Only teardowns
/// take the locks of a dying map or of a dead owner's storage; five timeouts in a row (over a
/// second of the lock being unavailable) mean something is stuck, and then leaking an element
/// is better than never finishing.
pub(super) const WORK_LOCK_ATTEMPTS: u32 = 5;

/// Whether to try `lock` again after its `failures`-th consecutive failure (1 for the first).
///
/// Only the two failures that would leak are retried, by the teardowns that can sleep: map
/// free's bucket lock (the element would stay on the freed map's bucket, its special fields
/// never freed) and the destroy work's storage lock (the storage would never be freed). Their
/// bucket lock and map free's storage lock are not: a failure there is harmless, the other
/// party finishes the element. Destroy itself never retries: it stops at its first failure and
/// leaves the storage to the destroy work ([`Pass::stopped`]).
#[inline]
pub(super) fn retry_lock(side: Side, lock: LockKind, failures: u32) -> bool {
    match (side, lock) {
        (Side::MapFree, LockKind::Bucket) | (Side::DestroyWork, LockKind::Storage) => {
            failures < WORK_LOCK_ATTEMPTS
        }
        (Side::Destroy, _)
        | (Side::DestroyWork, LockKind::Bucket)
        | (Side::MapFree, LockKind::Storage) => false,
    }
}

/// A sleeping teardown's consecutive failures of a lock, on the element it is at.
///
/// The count belongs to one element: a failure on another element starts a new count, so each
/// element gets all its [`WORK_LOCK_ATTEMPTS`], whatever the elements before it got. An element
/// is named by its address, which cannot be reused while the walk can meet it. One per walk.
pub(super) struct LockFailures {
    side: Side,
    lock: LockKind,
    elem: usize,
    count: u32,
}

impl LockFailures {
    /// Failures of `lock` by `side`, none yet.
    pub(super) fn new(side: Side, lock: LockKind) -> Self {
        Self {
            side,
            lock,
            elem: 0,
            count: 0,
        }
    }

    /// Records a failure of the lock for the element at `elem`. Returns whether to try again
    /// (after rescheduling and restarting the walk, which meets the element again) rather than
    /// give up on the element.
    pub(super) fn failed(&mut self, elem: usize) -> bool {
        if self.elem != elem {
            self.elem = elem;
            self.count = 0;
        }
        self.count += 1;
        retry_lock(self.side, self.lock, self.count)
    }
}

/// Whether map free, restarting a bucket walk, meets an element it already passed over.
///
/// The elements map free leaves on a bucket are those it gave up on; their `MAP_UNLINKED` bit
/// is only ever set by map free itself, so its own earlier store is visible to it. Destroy
/// walks its list once and never revisits.
#[inline]
pub(super) fn skip_revisit(side: Side, state: i32) -> bool {
    side == Side::MapFree && state & MAP_UNLINKED != 0
}

/// One pass of one side over one element.
#[derive(Clone, Copy, Debug)]
pub(super) struct Pass {
    side: Side,
    smap_set: bool,
    storage_set: bool,
    map: Step,
    storage: Step,
}

impl Pass {
    /// Starts a pass, given whether `smap` and `local_storage` were non-NULL when read.
    #[inline]
    pub(super) fn new(side: Side, smap_set: bool, storage_set: bool) -> Self {
        Self {
            side,
            smap_set,
            storage_set,
            map: Step::Absent,
            storage: Step::Absent,
        }
    }

    /// Whether to do the map side.
    ///
    /// Not if `smap` is NULL: the other party (or an earlier pass of map free) is done with the
    /// map side. Destroy also skips it when `local_storage` is NULL: map free cleared it after
    /// its storage side, which comes after its map side, so the map side is done; with weak
    /// memory ordering destroy may still read the old `smap`, and this keeps it from touching a
    /// bucket for nothing.
    #[inline]
    pub(super) fn wants_map(&self) -> bool {
        self.smap_set && (self.side == Side::MapFree || self.storage_set)
    }

    /// Whether the pass stopped at a lock failure, to be passed again later: it does nothing
    /// more to this element, and its walk stops (destroy leaves the rest of the storage to the
    /// destroy work, which restarts its own walk).
    #[inline]
    pub(super) fn stopped(&self) -> bool {
        self.map == Step::Again || self.storage == Step::Again
    }

    /// Records the map side, and returns whether to clear `smap` now.
    ///
    /// Cleared when the bucket lock was taken: the map side is done, and lookups must not match
    /// the element any more. After a lock failure, map free clears it anyway (the map is about
    /// to be freed and destroy must not reach it through the element), while the destroy passes
    /// keep it, so that map free (or the destroy work) still finds the element on its bucket.
    #[inline]
    pub(super) fn map_done(&mut self, step: Step) -> bool {
        self.map = step;
        match step {
            Step::Absent => false,
            Step::Unlinked | Step::AlreadyUnlinked => true,
            Step::LockFailed => self.side == Side::MapFree,
            Step::Again => false,
        }
    }

    /// Whether to do the storage side: if `local_storage` is not NULL and the pass did not stop.
    #[inline]
    pub(super) fn wants_storage(&self) -> bool {
        self.storage_set && !self.stopped()
    }

    /// Records the storage side, and returns whether to clear `local_storage` now.
    ///
    /// Cleared when the storage lock was taken. After a lock failure the destroy work, giving
    /// up, clears it anyway (the owner is gone and map free must not reach the storage through
    /// the element); map free keeps it, so that destroy still finds and finishes the element on
    /// its list, and so does a pass that stops, to be passed again.
    #[inline]
    pub(super) fn storage_done(&mut self, step: Step) -> bool {
        self.storage = step;
        match step {
            Step::Absent | Step::Again => false,
            Step::Unlinked | Step::AlreadyUnlinked => true,
            Step::LockFailed => self.side.destroys(),
        }
    }

    /// Ends the pass.
    ///
    /// A pass that unlinked both sides frees the element: nobody else can. Otherwise it sets its
    /// bit and the `OFF` bits of the lists it unlinked the element from, and the element is
    /// freed by the pass whose bits complete [`OFF_LISTS`]: this one, if the other party
    /// unlinked the other list before, or else the other party's, if it does later. A pass that
    /// gave up on a lock that leaves the element on a list nobody else cleans reports it: map
    /// free on the bucket lock (the bucket array is freed with the map), the destroy work on the
    /// storage lock (the storage is left with the element on it). A pass that stopped gives up
    /// nothing and sets only the `OFF` bits: the element is passed again.
    #[inline]
    pub(super) fn finish(self) -> Finish {
        let off_map = self.map == Step::Unlinked;
        let off_storage = self.storage == Step::Unlinked;
        if off_map && off_storage {
            return Finish {
                state_bits: 0,
                free: Free::Now,
                leaked: false,
            };
        }
        let leaked = match self.side {
            Side::MapFree => self.map == Step::LockFailed,
            Side::Destroy | Side::DestroyWork => self.storage == Step::LockFailed,
        };
        let off = |set, bit| if set { bit } else { 0 };
        let done = if self.stopped() { 0 } else { self.side.bit() };
        Finish {
            state_bits: done | off(off_map, OFF_MAP) | off(off_storage, OFF_STORAGE),
            free: Free::IfOffLists,
            leaked,
        }
    }
}

#[cfg(CONFIG_RUST_BPF_KUNIT_TEST)]
#[kunit_tests(rust_bpf_local_storage_teardown)]
mod tests {
    use super::*;

    /// An element, as the parties see it.
    #[derive(Clone, Copy, Debug)]
    struct Elem {
        /// On its map's bucket list.
        on_map: bool,
        /// On its storage's list.
        on_storage: bool,
        /// `SDATA(selem)->smap != NULL`.
        smap: bool,
        /// `selem->local_storage != NULL`.
        local_storage: bool,
        /// `selem->state`.
        state: i32,
        /// How often `bpf_obj_free_fields()` ran.
        fields_freed: u32,
        /// How often the element was freed.
        freed: u32,
        /// The element was freed while still on a list.
        freed_while_linked: bool,
    }

    impl Elem {
        /// A linked element, as the teardown finds it.
        fn new() -> Self {
            Self {
                on_map: true,
                on_storage: true,
                smap: true,
                local_storage: true,
                state: 0,
                fields_freed: 0,
                freed: 0,
                freed_while_linked: false,
            }
        }

        fn free(&mut self) {
            self.freed += 1;
            self.freed_while_linked |= self.on_map || self.on_storage;
        }
    }

    /// The atomic steps of one pass: each is atomic with respect to the other parties (the lock
    /// steps run under the lock all take for that side, the rest are single accesses).
    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    enum Action {
        /// The destroy work's walk reaches the element, if it is still on the storage list.
        Find,
        /// Read `smap` and `local_storage`.
        Read,
        /// The map side under the bucket lock.
        MapLocked,
        /// Clear `smap` if the protocol says so.
        MapClear,
        /// The storage side under the storage lock.
        StorageLocked,
        /// Clear `local_storage` if the protocol says so.
        StorageClear,
        /// `atomic_fetch_or()` of the state bits.
        Or,
        /// Free, if the pass must (`Free::Now`) or if its `fetch_or()` completed `OFF_LISTS`.
        Free,
    }

    /// A pass, as destroy and map free run it.
    const PASS: [Action; 7] = [
        Action::Read,
        Action::MapLocked,
        Action::MapClear,
        Action::StorageLocked,
        Action::StorageClear,
        Action::Or,
        Action::Free,
    ];

    /// A pass of the destroy work, which first finds the element on the storage list again.
    const WORK_PASS: [Action; 8] = [
        Action::Find,
        Action::Read,
        Action::MapLocked,
        Action::MapClear,
        Action::StorageLocked,
        Action::StorageClear,
        Action::Or,
        Action::Free,
    ];

    /// A pass in progress, with the final outcome of each of its lock attempts (a destroy
    /// failure stops the pass; the others are final, after the retries).
    struct Party {
        side: Side,
        actions: &'static [Action],
        bucket_lock_ok: bool,
        storage_lock_ok: bool,
        pass: Option<Pass>,
        map_step: Step,
        storage_step: Step,
        finish: Option<Finish>,
        /// The `fetch_or()` of the pass completed `OFF_LISTS`.
        completed: bool,
        next: usize,
        skipped: bool,
    }

    impl Party {
        fn new(side: Side, bucket_lock_ok: bool, storage_lock_ok: bool) -> Self {
            let actions: &'static [Action] = if side == Side::DestroyWork {
                &WORK_PASS
            } else {
                &PASS
            };
            Self {
                side,
                actions,
                bucket_lock_ok,
                storage_lock_ok,
                pass: None,
                map_step: Step::Absent,
                storage_step: Step::Absent,
                finish: None,
                completed: false,
                next: 0,
                skipped: false,
            }
        }

        fn done(&self) -> bool {
            self.next == self.actions.len()
        }

        /// What a failed lock attempt gives, as `super::unlink_nofail_*()` decide.
        fn failed(&self) -> Step {
            if self.side == Side::Destroy {
                Step::Again
            } else {
                Step::LockFailed
            }
        }

        /// Runs the next action of the pass on `e`, as `super::unlink_nofail_*()` do.
        fn step(&mut self, e: &mut Elem) {
            let action = self.actions[self.next];
            self.next += 1;
            if self.skipped {
                return;
            }
            match action {
                Action::Find => self.skipped = !e.on_storage,
                Action::Read => {
                    if skip_revisit(self.side, e.state) {
                        self.skipped = true;
                        return;
                    }
                    self.pass = Some(Pass::new(self.side, e.smap, e.local_storage));
                }
                Action::MapLocked => {
                    let Some(pass) = self.pass.as_ref() else {
                        return;
                    };
                    if !pass.wants_map() {
                        return;
                    }
                    self.map_step = if !self.bucket_lock_ok {
                        self.failed()
                    } else if e.on_map {
                        e.on_map = false;
                        e.fields_freed += 1;
                        Step::Unlinked
                    } else {
                        Step::AlreadyUnlinked
                    };
                }
                Action::MapClear => {
                    let Some(pass) = self.pass.as_mut() else {
                        return;
                    };
                    if pass.wants_map() && pass.map_done(self.map_step) {
                        e.smap = false;
                    }
                }
                Action::StorageLocked => {
                    let Some(pass) = self.pass.as_ref() else {
                        return;
                    };
                    if !pass.wants_storage() {
                        return;
                    }
                    self.storage_step = if !self.storage_lock_ok {
                        self.failed()
                    } else if e.on_storage {
                        e.on_storage = false;
                        Step::Unlinked
                    } else {
                        Step::AlreadyUnlinked
                    };
                }
                Action::StorageClear => {
                    let Some(pass) = self.pass.as_mut() else {
                        return;
                    };
                    if pass.wants_storage() && pass.storage_done(self.storage_step) {
                        e.local_storage = false;
                    }
                }
                Action::Or => {
                    let Some(pass) = self.pass else {
                        return;
                    };
                    let finish = pass.finish();
                    if finish.free == Free::IfOffLists {
                        let old = e.state;
                        e.state |= finish.state_bits;
                        self.completed = completes_lists(old, finish.state_bits);
                    }
                    self.finish = Some(finish);
                }
                Action::Free => {
                    let Some(finish) = self.finish else {
                        return;
                    };
                    if finish.free == Free::Now || self.completed {
                        e.free();
                    }
                }
            }
        }

        fn stopped(&self) -> bool {
            self.pass.is_some_and(|p| p.stopped())
        }

        fn leaked(&self) -> bool {
            self.finish.is_some_and(|f| f.leaked)
        }
    }

    /// Runs destroy and map free on one element in the interleaving `order` (bit `i` set: the
    /// `i`-th action overall is map free's), with the given lock outcomes; if destroy stops,
    /// the destroy work passes next, with the outcomes `w_locks`, still interleaved by `order`.
    fn run3(
        order: u32,
        d_locks: (bool, bool),
        m_locks: (bool, bool),
        w_locks: (bool, bool),
    ) -> (Elem, Party, Party, Option<Party>) {
        let mut e = Elem::new();
        let mut d = Party::new(Side::Destroy, d_locks.0, d_locks.1);
        let mut m = Party::new(Side::MapFree, m_locks.0, m_locks.1);
        let mut w: Option<Party> = None;
        let mut i = 0;
        loop {
            // The destroy side: destroy, then the work if destroy stopped.
            if d.done() && w.is_none() && d.stopped() {
                w = Some(Party::new(Side::DestroyWork, w_locks.0, w_locks.1));
            }
            let work_done = match &w {
                None => true,
                Some(w) => w.done(),
            };
            let destroy_done = d.done() && work_done;
            if destroy_done && m.done() {
                break;
            }
            if (order & (1 << i) != 0 && !m.done()) || destroy_done {
                m.step(&mut e);
            } else if !d.done() {
                d.step(&mut e);
            } else if let Some(w) = w.as_mut() {
                w.step(&mut e);
            }
            i += 1;
        }
        (e, d, m, w)
    }

    /// The two-party runs of the scenarios below: destroy does not stop.
    fn run(order: u32, d_locks: (bool, bool), m_locks: (bool, bool)) -> (Elem, Party, Party) {
        let (e, d, m, _) = run3(order, d_locks, m_locks, (true, true));
        (e, d, m)
    }

    /// Checks what must hold after all parties passed, whatever happened.
    fn check(e: &Elem, leaked: bool) -> bool {
        // Never freed twice, never freed while on a list (a walker could reach it).
        let mut ok = e.freed <= 1 && !e.freed_while_linked;
        // The special fields are freed at most once, and only by the unlink from the bucket.
        ok &= e.fields_freed == u32::from(!e.on_map);
        // The map is freed after map free: nothing may point to it any more.
        ok &= !e.smap;
        // An element on no list is freed (nothing else will), one still on a list is not.
        ok &= e.freed == u32::from(!e.on_map && !e.on_storage);
        // Nobody gave up: the element is off both lists (and so freed once).
        ok &= leaked || (!e.on_map && !e.on_storage);
        ok
    }

    fn all_lock_outcomes() -> impl Iterator<Item = ((bool, bool), (bool, bool))> {
        (0..16u32).map(|b| ((b & 1 != 0, b & 2 != 0), (b & 4 != 0, b & 8 != 0)))
    }

    fn outcomes() -> impl Iterator<Item = (bool, bool)> {
        [(true, true), (true, false), (false, true), (false, false)].into_iter()
    }

    /// Every interleaving of map free's pass with destroy's and, when destroy stops, the destroy
    /// work's, with every combination of lock outcomes.
    #[test]
    fn every_interleaving_frees_once_or_leaks() {
        let (m_len, d_len) = (PASS.len(), PASS.len() + WORK_PASS.len());
        let (mut runs, mut bad, mut stops) = (0u32, 0u32, 0u32);
        for order in 0..(1u32 << (m_len + d_len)) {
            if order.count_ones() as usize != m_len {
                continue;
            }
            for (d_locks, m_locks) in all_lock_outcomes() {
                for w_locks in outcomes() {
                    let (e, d, m, w) = run3(order, d_locks, m_locks, w_locks);
                    let leaked = m.leaked() || w.as_ref().is_some_and(|w| w.leaked());
                    bad += u32::from(!check(&e, leaked) || d.leaked());
                    runs += 1;
                    if w.is_none() {
                        // The work's outcomes do not matter when destroy did not stop.
                        break;
                    }
                    stops += u32::from(w_locks == (true, true));
                }
            }
        }
        assert_eq!(bad, 0);
        // C(22, 7) orders times 16 outcomes, and the work's 3 other outcomes when destroy stops.
        assert_eq!(runs, 170544 * 16 + 3 * stops);
    }

    #[test]
    fn destroy_first_frees_at_once() {
        // All of destroy, then all of map free (which still holds a pointer from its walk).
        let (e, d, m) = run(0b11_1111_1000_0000, (true, true), (true, true));
        assert_eq!(d.finish.map(|f| f.free), Some(Free::Now));
        assert_eq!(m.map_step, Step::Absent);
        assert_eq!(m.storage_step, Step::Absent);
        assert_eq!(e.state, MAP_UNLINKED);
        assert_eq!(e.freed, 1);
    }

    #[test]
    fn map_free_first_frees_at_once() {
        let (e, d, m) = run(0b00_0000_0111_1111, (true, true), (true, true));
        assert_eq!(m.finish.map(|f| f.free), Some(Free::Now));
        assert_eq!(d.map_step, Step::Absent);
        assert_eq!(d.storage_step, Step::Absent);
        assert_eq!(e.state, STORAGE_UNLINKED);
        assert_eq!(e.freed, 1);
    }

    #[test]
    fn destroy_stops_at_its_first_lock_failure() {
        // Destroy fails the bucket lock: it stops, keeping both pointers, and sets nothing.
        let (e, d, _m, w) = run3(
            0b11_1111_1000_0000,
            (false, true),
            (true, true),
            (true, true),
        );
        assert_eq!(d.map_step, Step::Again);
        assert_eq!(d.storage_step, Step::Absent);
        assert!(d.stopped() && !d.leaked());
        assert_eq!(d.finish.map(|f| f.state_bits), Some(0));
        // The work then finds it off both lists (map free took it): it does nothing.
        let w = w.expect("destroy stopped, the work ran");
        assert!(w.skipped);
        assert_eq!(e.freed, 1);

        // Destroy fails the storage lock after unlinking the bucket side: it records that.
        let (e, d, m, w) = run3(
            0b11_1111_1000_0000,
            (true, false),
            (true, true),
            (true, true),
        );
        assert_eq!(d.map_step, Step::Unlinked);
        assert_eq!(d.storage_step, Step::Again);
        assert_eq!(d.finish.map(|f| f.state_bits), Some(OFF_MAP));
        // Map free finds `smap` cleared and `local_storage` kept: it unlinks the storage side
        // and completes `OFF_LISTS`.
        assert_eq!(m.storage_step, Step::Unlinked);
        assert!(m.completed);
        assert!(w.is_some_and(|w| w.skipped));
        assert_eq!(e.freed, 1);
    }

    #[test]
    fn the_destroy_work_finishes_what_destroy_left() {
        // Destroy stops at the storage lock, the work runs before map free and gets both locks.
        let order = 0b111_1111_0000_0000_0000_0000;
        let (e, d, m, w) = run3(order, (true, false), (true, true), (true, true));
        assert!(d.stopped());
        let w = w.expect("destroy stopped, the work ran");
        assert_eq!(w.map_step, Step::Absent);
        assert_eq!(w.storage_step, Step::Unlinked);
        assert!(w.completed);
        assert!(m.skipped || m.map_step == Step::Absent);
        assert_eq!(e.freed, 1);
    }

    #[test]
    fn map_free_bucket_lock_failure_leaks_instead_of_freeing_on_the_bucket() {
        // Destroy first, stopping at its bucket lock; the work fails the bucket lock for good
        // too and unlinks the storage side; then map free fails its bucket lock.
        let order = 0b111_1111_0000_0000_0000_0000;
        let (e, _d, m, w) = run3(order, (false, true), (false, true), (false, true));
        assert!(w.is_some_and(|w| w.storage_step == Step::Unlinked));
        assert_eq!(m.map_step, Step::LockFailed);
        assert!(m.leaked());
        // Nobody took the element off the bucket: the state stops short of `OFF_LISTS`, and
        // the element is not freed while on the bucket.
        assert!(e.on_map);
        assert_eq!(e.state, STORAGE_UNLINKED | MAP_UNLINKED | OFF_STORAGE);
        assert_eq!(e.freed, 0);
        assert_eq!(e.fields_freed, 0);
        assert!(!e.smap);
    }

    #[test]
    fn destroy_work_storage_lock_failure_leaks_instead_of_freeing_on_the_storage() {
        // Map free first, failing its storage lock; destroy stops at it, the work fails it for
        // good.
        let (e, d, m, w) = run3(
            0b00_0000_0111_1111,
            (true, false),
            (true, false),
            (true, false),
        );
        assert_eq!(m.storage_step, Step::LockFailed);
        assert_eq!(d.storage_step, Step::Again);
        let w = w.expect("destroy stopped, the work ran");
        assert_eq!(w.storage_step, Step::LockFailed);
        assert!(w.leaked());
        assert!(e.on_storage);
        assert!(!e.local_storage);
        assert_eq!(e.freed, 0);
        assert_eq!(e.fields_freed, 1);
    }

    #[test]
    fn a_list_one_party_gave_up_on_and_the_other_unlinked_frees_the_element() {
        // Map free fails the bucket lock for good, and destroy (which read `smap` before map
        // free cleared it) unlinks the element from the bucket; destroy stops at the storage
        // lock, and map free (which read `local_storage`, kept) unlinks it from the storage.
        let (e, d, m, w) = run3(
            0b00_0000_1111_1011,
            (true, false),
            (false, true),
            (true, true),
        );
        assert_eq!(m.map_step, Step::LockFailed);
        assert_eq!(d.map_step, Step::Unlinked);
        assert_eq!(d.storage_step, Step::Again);
        assert_eq!(m.storage_step, Step::Unlinked);
        assert!(m.leaked());
        assert!(!e.on_map && !e.on_storage);
        assert_eq!(e.fields_freed, 1);
        assert!(m.completed || d.completed);
        assert!(w.is_some_and(|w| w.skipped));
        assert_eq!(e.freed, 1);
    }

    #[test]
    fn map_free_skips_its_leaked_elements_on_restart() {
        assert!(!skip_revisit(Side::MapFree, 0));
        assert!(!skip_revisit(Side::MapFree, STORAGE_UNLINKED));
        assert!(skip_revisit(Side::MapFree, MAP_UNLINKED));
        assert!(skip_revisit(
            Side::MapFree,
            MAP_UNLINKED | STORAGE_UNLINKED | OFF_STORAGE
        ));
        assert!(!skip_revisit(Side::Destroy, MAP_UNLINKED));
        assert!(!skip_revisit(Side::DestroyWork, MAP_UNLINKED));

        // A second map free pass over an element it leaked changes nothing.
        let mut e = Elem::new();
        let mut m = Party::new(Side::MapFree, false, true);
        while !m.done() {
            m.step(&mut e);
        }
        let before = e.state;
        let mut again = Party::new(Side::MapFree, true, true);
        while !again.done() {
            again.step(&mut e);
        }
        assert!(again.skipped);
        assert_eq!(e.state, before);
        assert!(e.on_map);
    }

    #[test]
    fn only_the_sleeping_teardowns_retry_and_only_where_it_avoids_a_leak() {
        for failures in 1..10 {
            assert!(!retry_lock(Side::Destroy, LockKind::Bucket, failures));
            assert!(!retry_lock(Side::Destroy, LockKind::Storage, failures));
            assert!(!retry_lock(Side::DestroyWork, LockKind::Bucket, failures));
            assert!(!retry_lock(Side::MapFree, LockKind::Storage, failures));
            for (side, lock) in [
                (Side::DestroyWork, LockKind::Storage),
                (Side::MapFree, LockKind::Bucket),
            ] {
                assert_eq!(
                    retry_lock(side, lock, failures),
                    failures < WORK_LOCK_ATTEMPTS
                );
            }
        }
        let attempts = |side, lock| (1..).take_while(|&f| retry_lock(side, lock, f)).count() + 1;
        assert_eq!(attempts(Side::DestroyWork, LockKind::Storage), 5);
        assert_eq!(attempts(Side::MapFree, LockKind::Bucket), 5);
        assert_eq!(attempts(Side::Destroy, LockKind::Storage), 1);
    }

    #[test]
    fn destroy_ignores_a_stale_smap_once_map_free_took_the_storage_side() {
        for side in [Side::Destroy, Side::DestroyWork] {
            let pass = Pass::new(side, true, false);
            assert!(!pass.wants_map());
            assert!(!pass.wants_storage());
        }
        // Map free always does its map side when `smap` is set.
        let pass = Pass::new(Side::MapFree, true, false);
        assert!(pass.wants_map());
    }

    #[test]
    fn every_element_gets_all_its_lock_attempts() {
        let mut failures = LockFailures::new(Side::MapFree, LockKind::Bucket);
        let (a, b) = (0x1000, 0x2000);
        // `a` fails every attempt: retried until the last one, then given up on.
        for _ in 1..WORK_LOCK_ATTEMPTS {
            assert!(failures.failed(a));
        }
        assert!(!failures.failed(a));
        // The next element's failures are its own: the first one is retried.
        for _ in 1..WORK_LOCK_ATTEMPTS {
            assert!(failures.failed(b));
        }
        assert!(!failures.failed(b));
        // An element met again after other elements got a count starts over as well.
        assert!(failures.failed(a));
    }

    #[test]
    fn smap_and_storage_are_cleared_once_their_side_is_done() {
        for side in [Side::Destroy, Side::DestroyWork, Side::MapFree] {
            for step in [Step::Unlinked, Step::AlreadyUnlinked] {
                assert!(Pass::new(side, true, true).map_done(step));
                assert!(Pass::new(side, true, true).storage_done(step));
            }
            for step in [Step::Absent, Step::Again] {
                assert!(!Pass::new(side, true, true).map_done(step));
                assert!(!Pass::new(side, true, true).storage_done(step));
            }
        }
        // After a failure for good, `smap` is cleared by map free only, `local_storage` by the
        // destroy work only.
        assert!(!Pass::new(Side::DestroyWork, true, true).map_done(Step::LockFailed));
        assert!(Pass::new(Side::MapFree, true, true).map_done(Step::LockFailed));
        assert!(Pass::new(Side::DestroyWork, true, true).storage_done(Step::LockFailed));
        assert!(!Pass::new(Side::MapFree, true, true).storage_done(Step::LockFailed));
    }

    /// Who frees a storage: destroy's `DESTROY_DEFERRED` (if it stopped), the work's
    /// `DESTROY_DONE` (after it), map free's `EMPTIED` (if it takes the last element off), in
    /// every order, with and without each.
    #[test]
    fn exactly_one_party_frees_an_emptied_storage() {
        for deferred in [false, true] {
            for emptied in [false, true] {
                // Map free's `fetch_or()` before destroy's, between destroy's and the work's, or
                // after the work's.
                for m_at in 0..3 {
                    let (mut word, mut frees, mut queued) = (0, 0u32, false);
                    let map_free = |word: &mut i32, frees: &mut u32| {
                        if emptied {
                            let old = *word;
                            *word |= EMPTIED;
                            *frees += u32::from(map_free_frees_storage(old));
                        }
                    };
                    if m_at == 0 {
                        map_free(&mut word, &mut frees);
                    }
                    if deferred {
                        let old = word;
                        word |= DESTROY_DEFERRED;
                        queued = destroy_queues_storage(old);
                    }
                    if m_at == 1 {
                        map_free(&mut word, &mut frees);
                    }
                    if queued {
                        let old = word;
                        word |= DESTROY_DONE;
                        frees += u32::from(work_frees_storage(old));
                    }
                    if m_at == 2 {
                        map_free(&mut word, &mut frees);
                    }
                    // An emptied storage is freed once; one with elements left is not freed.
                    // (Without deferral and without map free, destroy itself frees it.)
                    assert_eq!(frees, u32::from(emptied));
                    // Destroy queues unless map free emptied it first.
                    assert_eq!(queued, deferred && !(emptied && m_at == 0));
                }
            }
        }
    }
}
