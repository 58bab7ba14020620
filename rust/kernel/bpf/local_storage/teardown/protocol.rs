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

/// Which teardown is running.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Side {
    /// `bpf_local_storage_destroy()`: the owner is being freed. Walks the storage list; runs in
    /// an RCU read-side critical section of its caller, possibly in softirq, so it never sleeps.
    Destroy,
    /// `bpf_local_storage_map_free()`: the map is being freed. Walks the buckets; runs in a
    /// workqueue, so it may sleep between RCU read sections.
    MapFree,
}

impl Side {
    /// The state bit this side sets when it is done with an element it did not fully unlink.
    #[inline]
    pub(super) const fn bit(self) -> i32 {
        match self {
            Side::Destroy => STORAGE_UNLINKED,
            Side::MapFree => MAP_UNLINKED,
        }
    }
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
    /// The lock could not be taken, retries included.
    LockFailed,
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

/// Attempts of the storage lock by destroy: the first and two retries.
///
/// Destroy cannot sleep, so it retries at once (`cpu_relax()`). A failed attempt already waited
/// for the lock's timeout (at least 250 ms; up to 1 s on the test-and-set path) with
/// interrupts off, so three attempts bound the stall to about 3 s of spinning, with interrupts
/// enabled between attempts: well below the soft lockup (20 s) and RCU stall (21 s) thresholds.
/// Who could hold `S` that long? Only map free's bookkeeping under `S`, or a program caching a
/// lookup; an `EDEADLK` cannot come from a nested `destroy()` (nothing frees owners under `S`).
pub(super) const DESTROY_STORAGE_LOCK_ATTEMPTS: u32 = 3;

/// Consecutive attempts of a bucket lock by map free before it gives up on an element.
///
/// Map free runs in a workqueue and holds no other lock, so its failures are timeouts (an
/// `EDEADLK` needs a lock held by this CPU); it sleeps between attempts (`cond_resched()`
/// outside the RCU read section, then it restarts the bucket walk). Only owners being destroyed
/// take the lock of a map nobody can reach; five timeouts in a row (over a second of the lock
/// being unavailable) mean something is stuck, and then leaking an element is better than
/// stalling the freeing of maps forever.
pub(super) const MAP_FREE_BUCKET_LOCK_ATTEMPTS: u32 = 5;

/// Whether to try `lock` again after its `failures`-th consecutive failure (1 for the first).
///
/// Only the two failures that would leak are retried: map free's bucket lock (the element would
/// stay on the freed map's bucket, its special fields never freed) and destroy's storage lock
/// (the storage would never be freed). Destroy's bucket lock is not: a failure there is often a
/// nested `destroy()` from `bpf_obj_free_fields()` under the same bucket lock (an AA deadlock
/// that no retry can resolve), and it is harmless: destroy keeps `smap` and map free finishes
/// the element. Map free's storage lock is not either: map free keeps `local_storage` and
/// destroy finishes the element.
#[inline]
pub(super) fn retry_lock(side: Side, lock: LockKind, failures: u32) -> bool {
    match (side, lock) {
        (Side::Destroy, LockKind::Storage) => failures < DESTROY_STORAGE_LOCK_ATTEMPTS,
        (Side::MapFree, LockKind::Bucket) => failures < MAP_FREE_BUCKET_LOCK_ATTEMPTS,
        (Side::Destroy, LockKind::Bucket) | (Side::MapFree, LockKind::Storage) => false,
    }
}

/// Map free's consecutive failures of a bucket lock, on the element it is at.
///
/// The count belongs to one element: a failure on another element starts a new count, so each
/// element gets all its [`MAP_FREE_BUCKET_LOCK_ATTEMPTS`], whatever the elements before it got.
/// An element is named by its address, which cannot be reused while map free's walk can meet
/// it. One per bucket walk.
#[derive(Default)]
pub(super) struct BucketLockFailures {
    elem: usize,
    count: u32,
}

impl BucketLockFailures {
    /// Records a failure of the bucket lock for the element at `elem`. Returns whether to try
    /// again (after rescheduling and restarting the walk, which meets the element again) rather
    /// than give up on the element.
    pub(super) fn failed(&mut self, elem: usize) -> bool {
        if self.elem != elem {
            self.elem = elem;
            self.count = 0;
        }
        self.count += 1;
        retry_lock(Side::MapFree, LockKind::Bucket, self.count)
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

    /// Records the map side, and returns whether to clear `smap` now.
    ///
    /// Cleared when the bucket lock was taken: the map side is done, and lookups must not match
    /// the element any more. After a lock failure, map free clears it anyway (the map is about
    /// to be freed and destroy must not reach it through the element), while destroy keeps it,
    /// so that map free still finds and finishes the element through its bucket.
    #[inline]
    pub(super) fn map_done(&mut self, step: Step) -> bool {
        self.map = step;
        match step {
            Step::Absent => false,
            Step::Unlinked | Step::AlreadyUnlinked => true,
            Step::LockFailed => self.side == Side::MapFree,
        }
    }

    /// Whether to do the storage side: if `local_storage` is not NULL.
    #[inline]
    pub(super) fn wants_storage(&self) -> bool {
        self.storage_set
    }

    /// Records the storage side, and returns whether to clear `local_storage` now.
    ///
    /// Cleared when the storage lock was taken. After a lock failure destroy clears it anyway
    /// (the owner is going away and map free must not reach the storage through the element),
    /// while map free keeps it, so that destroy still finds and finishes the element on its
    /// list.
    #[inline]
    pub(super) fn storage_done(&mut self, step: Step) -> bool {
        self.storage = step;
        match step {
            Step::Absent => false,
            Step::Unlinked | Step::AlreadyUnlinked => true,
            Step::LockFailed => self.side == Side::Destroy,
        }
    }

    /// Ends the pass.
    ///
    /// A pass that unlinked both sides frees the element: nobody else can. Otherwise it sets its
    /// bit and the `OFF` bits of the lists it unlinked the element from, and the element is
    /// freed by the pass whose bits complete [`OFF_LISTS`]: this one, if the other party
    /// unlinked the other list before, or else the other party's, if it does later. A pass that
    /// gave up on a lock that leaves the element on a list nobody else cleans reports it: map
    /// free on the bucket lock (the bucket array is freed with the map), destroy on the storage
    /// lock (the storage is left with the element on it).
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
            Side::Destroy => self.storage == Step::LockFailed,
        };
        let off = |set, bit| if set { bit } else { 0 };
        Finish {
            state_bits: self.side.bit() | off(off_map, OFF_MAP) | off(off_storage, OFF_STORAGE),
            free: Free::IfOffLists,
            leaked,
        }
    }
}

#[cfg(CONFIG_RUST_BPF_KUNIT_TEST)]
#[kunit_tests(rust_bpf_local_storage_teardown)]
mod tests {
    use super::*;

    /// An element, as both sides see it.
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

    /// The atomic steps of one pass: each is atomic with respect to the other party (the lock
    /// steps run under the lock both sides take for that side, the rest are single accesses).
    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    enum Action {
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

    const ACTIONS: [Action; 7] = [
        Action::Read,
        Action::MapLocked,
        Action::MapClear,
        Action::StorageLocked,
        Action::StorageClear,
        Action::Or,
        Action::Free,
    ];

    /// A pass in progress, with the final outcome of each of its lock attempts.
    struct Party {
        side: Side,
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
            Self {
                side,
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
            self.next == ACTIONS.len()
        }

        /// Runs the next action of the pass on `e`, as `super::unlink_nofail()` does.
        fn step(&mut self, e: &mut Elem) {
            let action = ACTIONS[self.next];
            self.next += 1;
            if self.skipped {
                return;
            }
            match action {
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
                        Step::LockFailed
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
                        Step::LockFailed
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

        fn leaked(&self) -> bool {
            self.finish.is_some_and(|f| f.leaked)
        }
    }

    /// Runs destroy and map free on one element in the interleaving `order` (bit `i` set: the
    /// `i`-th action overall is map free's), with the given lock outcomes.
    fn run(order: u32, d_locks: (bool, bool), m_locks: (bool, bool)) -> (Elem, Party, Party) {
        let mut e = Elem::new();
        let mut d = Party::new(Side::Destroy, d_locks.0, d_locks.1);
        let mut m = Party::new(Side::MapFree, m_locks.0, m_locks.1);
        for i in 0..2 * ACTIONS.len() {
            if (order & (1 << i) != 0 && !m.done()) || d.done() {
                m.step(&mut e);
            } else {
                d.step(&mut e);
            }
        }
        (e, d, m)
    }

    /// Checks what must hold after both parties passed, whatever happened.
    fn check(e: &Elem, d: &Party, m: &Party) {
        // Never freed twice, never freed while on a list (a walker could reach it).
        assert!(e.freed <= 1);
        assert!(!e.freed_while_linked);
        // The special fields are freed at most once, and only by the unlink from the bucket.
        assert!(e.fields_freed <= 1);
        assert!(e.fields_freed == u32::from(!e.on_map));
        // The map is freed after map free: nothing may point to it any more.
        assert!(!e.smap);
        if !d.leaked() && !m.leaked() {
            // Nobody gave up: the element is unlinked from both sides and freed exactly once.
            assert!(!e.on_map && !e.on_storage);
            assert_eq!(e.freed, 1);
            assert_eq!(e.fields_freed, 1);
        }
        // Whoever gave up: an element on no list is freed (nothing else will), one still on a
        // list is not (a walker could reach it).
        assert_eq!(e.freed, u32::from(!e.on_map && !e.on_storage));
    }

    fn all_lock_outcomes() -> impl Iterator<Item = ((bool, bool), (bool, bool))> {
        (0..16u32).map(|b| ((b & 1 != 0, b & 2 != 0), (b & 4 != 0, b & 8 != 0)))
    }

    /// Every interleaving of the two passes (the orders with as many map free steps as
    /// destroy steps), with every combination of lock outcomes.
    #[test]
    fn every_interleaving_frees_once_or_leaks() {
        let n = ACTIONS.len();
        let mut runs = 0u32;
        for order in 0..(1u32 << (2 * n)) {
            if order.count_ones() as usize != n {
                continue;
            }
            for (d_locks, m_locks) in all_lock_outcomes() {
                let (e, d, m) = run(order, d_locks, m_locks);
                check(&e, &d, &m);
                runs += 1;
            }
        }
        // C(14, 7) interleavings times 16 lock outcomes.
        assert_eq!(runs, 3432 * 16);
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
    fn destroy_bucket_lock_failure_is_finished_by_map_free() {
        // Destroy first, failing the bucket lock: it keeps `smap` and unlinks the storage side.
        let (e, d, m) = run(0b11_1111_1000_0000, (false, true), (true, true));
        assert_eq!(d.map_step, Step::LockFailed);
        assert_eq!(d.storage_step, Step::Unlinked);
        assert!(!d.leaked());
        // Map free unlinks it from the bucket, frees the fields, and wins the cmpxchg.
        assert_eq!(m.map_step, Step::Unlinked);
        assert_eq!(m.storage_step, Step::Absent);
        assert_eq!(e.fields_freed, 1);
        assert!(m.completed || d.completed);
        assert_eq!(e.state & OFF_LISTS, OFF_LISTS);
        assert_eq!(e.freed, 1);
    }

    #[test]
    fn map_free_storage_lock_failure_is_finished_by_destroy() {
        // Map free first, failing the storage lock: it keeps `local_storage`.
        let (e, d, m) = run(0b00_0000_0111_1111, (true, true), (true, false));
        assert_eq!(m.map_step, Step::Unlinked);
        assert_eq!(m.storage_step, Step::LockFailed);
        assert!(!m.leaked());
        // Destroy skips the map side (no `smap`) and unlinks the storage side.
        assert_eq!(d.map_step, Step::Absent);
        assert_eq!(d.storage_step, Step::Unlinked);
        assert!(m.completed || d.completed);
        assert_eq!(e.state & OFF_LISTS, OFF_LISTS);
        assert_eq!(e.freed, 1);
    }

    #[test]
    fn map_free_bucket_lock_failure_leaks_instead_of_freeing_on_the_bucket() {
        // Destroy first, unlinking the storage side only (its bucket lock fails too).
        let (e, d, m) = run(0b11_1111_1000_0000, (false, true), (false, true));
        assert_eq!(d.storage_step, Step::Unlinked);
        assert_eq!(m.map_step, Step::LockFailed);
        assert!(m.leaked());
        // Both parties are done, but nobody took the element off the bucket: the state stops
        // short of `OFF_LISTS`, and the element is not freed while on the bucket.
        assert!(e.on_map);
        assert_eq!(e.state, STORAGE_UNLINKED | MAP_UNLINKED | OFF_STORAGE);
        assert_eq!(e.freed, 0);
        assert_eq!(e.fields_freed, 0);
        assert!(!e.smap);
    }

    #[test]
    fn destroy_storage_lock_failure_leaks_instead_of_freeing_on_the_storage() {
        // Map free first, failing its storage lock; destroy fails it too.
        let (e, d, m) = run(0b00_0000_0111_1111, (true, false), (true, false));
        assert_eq!(m.storage_step, Step::LockFailed);
        assert_eq!(d.storage_step, Step::LockFailed);
        assert!(d.leaked());
        assert!(e.on_storage);
        assert!(!e.local_storage);
        assert_eq!(e.freed, 0);
        assert_eq!(e.fields_freed, 1);
    }

    #[test]
    fn destroy_storage_lock_failure_before_map_free() {
        // Destroy first: its bucket lock works, its storage lock fails.
        let (e, d, m) = run(0b11_1111_1000_0000, (true, false), (true, true));
        assert_eq!(d.map_step, Step::Unlinked);
        assert!(d.leaked());
        // Map free finds `smap` NULL and `local_storage` NULL: nothing to do.
        assert_eq!(m.map_step, Step::Absent);
        assert_eq!(m.storage_step, Step::Absent);
        assert_eq!(e.freed, 0);
        assert_eq!(e.fields_freed, 1);
    }

    #[test]
    fn a_list_one_party_gave_up_on_and_the_other_unlinked_frees_the_element() {
        // Map free fails the bucket lock, then destroy (which read `smap` before map free
        // cleared it) unlinks the element from the bucket; destroy fails the storage lock, then
        // map free (which read `local_storage` before destroy cleared it) unlinks it from the
        // storage. Each gave up on one list, and the other party took the element off it.
        let (e, d, m) = run(0b00_0000_1111_1011, (true, false), (false, true));
        assert_eq!(m.map_step, Step::LockFailed);
        assert_eq!(d.map_step, Step::Unlinked);
        assert_eq!(d.storage_step, Step::LockFailed);
        assert_eq!(m.storage_step, Step::Unlinked);
        assert!(d.leaked() && m.leaked());
        assert!(!e.on_map && !e.on_storage);
        assert_eq!(e.fields_freed, 1);
        assert!(m.completed || d.completed);
        assert_eq!(e.state & OFF_LISTS, OFF_LISTS);
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
    fn retries_only_where_they_avoid_a_leak() {
        for failures in 1..10 {
            assert!(!retry_lock(Side::Destroy, LockKind::Bucket, failures));
            assert!(!retry_lock(Side::MapFree, LockKind::Storage, failures));
            assert_eq!(
                retry_lock(Side::Destroy, LockKind::Storage, failures),
                failures < DESTROY_STORAGE_LOCK_ATTEMPTS
            );
            assert_eq!(
                retry_lock(Side::MapFree, LockKind::Bucket, failures),
                failures < MAP_FREE_BUCKET_LOCK_ATTEMPTS
            );
        }
        // The bounds: destroy makes 3 attempts, map free 5 per element.
        let attempts = |side, lock| (1..).take_while(|&f| retry_lock(side, lock, f)).count() + 1;
        assert_eq!(attempts(Side::Destroy, LockKind::Storage), 3);
        assert_eq!(attempts(Side::MapFree, LockKind::Bucket), 5);
        assert_eq!(attempts(Side::Destroy, LockKind::Bucket), 1);
        assert_eq!(attempts(Side::MapFree, LockKind::Storage), 1);
    }

    #[test]
    fn destroy_ignores_a_stale_smap_once_map_free_took_the_storage_side() {
        let pass = Pass::new(Side::Destroy, true, false);
        assert!(!pass.wants_map());
        assert!(!pass.wants_storage());
        // Map free always does its map side when `smap` is set.
        let pass = Pass::new(Side::MapFree, true, false);
        assert!(pass.wants_map());
    }

    #[test]
    fn map_free_gives_every_element_all_its_bucket_lock_attempts() {
        let mut failures = BucketLockFailures::default();
        let (a, b) = (0x1000, 0x2000);
        // `a` fails every attempt: retried until the last one, then given up on.
        for _ in 1..MAP_FREE_BUCKET_LOCK_ATTEMPTS {
            assert!(failures.failed(a));
        }
        assert!(!failures.failed(a));
        // The next element's failures are its own: the first one is retried.
        for _ in 1..MAP_FREE_BUCKET_LOCK_ATTEMPTS {
            assert!(failures.failed(b));
        }
        assert!(!failures.failed(b));
        // An element met again after other elements got a count starts over as well.
        assert!(failures.failed(a));
    }

    #[test]
    fn smap_and_storage_are_cleared_once_their_side_is_done() {
        // `smap`: cleared unless destroy failed the bucket lock.
        for side in [Side::Destroy, Side::MapFree] {
            for step in [Step::Unlinked, Step::AlreadyUnlinked] {
                assert!(Pass::new(side, true, true).map_done(step));
                assert!(Pass::new(side, true, true).storage_done(step));
            }
            assert!(!Pass::new(side, true, true).map_done(Step::Absent));
            assert!(!Pass::new(side, true, true).storage_done(Step::Absent));
        }
        assert!(!Pass::new(Side::Destroy, true, true).map_done(Step::LockFailed));
        assert!(Pass::new(Side::MapFree, true, true).map_done(Step::LockFailed));
        // `local_storage`: cleared unless map free failed the storage lock.
        assert!(Pass::new(Side::Destroy, true, true).storage_done(Step::LockFailed));
        assert!(!Pass::new(Side::MapFree, true, true).storage_done(Step::LockFailed));
    }
}
