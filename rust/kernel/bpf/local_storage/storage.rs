// SPDX-License-Identifier: GPL-2.0

//! An owner's local storage: `struct bpf_local_storage`.
//!
//! A storage is allocated with an owner's first element and published through the owner's
//! pointer (`task->bpf_storage`, ...) with a `cmpxchg()`, which works from any context, so two
//! racing first updates are settled without a lock of the owner: the loser gets `EAGAIN`. From
//! then on the owner's pointer is only cleared under the storage lock, by the removal of the
//! last element.
//!
//! The storage lock `S` protects the element list, the cache, `mem_charge` and the owner
//! pointers; it nests outside the bucket locks ([`StorageGuard::lock_bucket`]).
//!
//! C header: [`include/linux/bpf_local_storage.h`](srctree/include/linux/bpf_local_storage.h)

use super::{
    cache_idx::CacheIdx,
    element::{
        self,
        NewSelem,
        Selem, //
    },
    hlist::{
        Head,
        Iter,
        Locked,
        OnList,
        Snode, //
    },
    index::{
        self,
        Index,
        Retired,
        Writer, //
    },
    map::{
        Bucket,
        BucketGuard,
        Map, //
    },
    owner::MapOwner,
    STORAGE_SIZE, //
};
use crate::{
    bindings,
    prelude::*,
    processor::cpu_relax,
    sync::{
        atomic::{
            Atomic,
            Full,
            Relaxed,
            Release, //
        },
        barrier::smp_mb,
        lock::Lock,
        new_rqspinlock_irqsave,
        Refcount,
        RqSpinLockIrqSave,
        RqSpinLockIrqSaveGuard, //
    },
    types::Opaque,
};
use core::{
    mem::offset_of,
    ptr, //
};

// `kfree_rcu()`'s `BUILD_BUG_ON()`: the `rcu_head` must be in the first 4 KiB of the object.
// `rcu` is a member of the anonymous union (with `destroy_node`), so it is at the union's start.
static_assert!(offset_of!(bindings::bpf_local_storage, __bindgen_anon_1) < 4096);

/// An owner's local storage, `struct bpf_local_storage`.
///
/// # Invariants
///
/// The storage was initialised by [`alloc`] (list, lock, `owner`, `mem_charge`, `owner_refcnt`)
/// and stays allocated while the reference exists: the caller holds its lock, or is in an RCU
/// read-side critical section that began while the storage was reachable (storages are freed
/// after a grace period), or it is not published yet.
#[repr(transparent)]
pub(super) struct Storage(Opaque<bindings::bpf_local_storage>);

impl Storage {
    /// Creates a reference to a [`Storage`] from a raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` points to a storage initialised by [`alloc`] that stays allocated for `'a` (see the
    /// type invariants).
    #[inline]
    pub(super) unsafe fn from_raw<'a>(ptr: *mut bindings::bpf_local_storage) -> &'a Self {
        // SAFETY: `Storage` is `repr(transparent)` over `Opaque<bpf_local_storage>`, and the
        // caller guarantees that `ptr` is valid for `'a`.
        unsafe { &*ptr.cast() }
    }

    /// The raw pointer to the storage.
    #[inline]
    pub(super) fn as_raw(&self) -> *mut bindings::bpf_local_storage {
        self.0.get()
    }

    /// `&local_storage->list`: the owner's elements, through their `snode`.
    #[inline]
    pub(super) fn list(&self) -> &Head<Snode> {
        // SAFETY: The list head of the valid storage, initialised by `alloc()`.
        unsafe { Head::from_raw(&raw mut (*self.as_raw()).list) }
    }

    /// `&local_storage->lock`.
    #[inline]
    fn lock(&self) -> &RqSpinLockIrqSave<()> {
        // SAFETY: By the type invariant the lock was initialised by `alloc()` and lives as long
        // as the storage; it is only taken through the rqspinlock API.
        unsafe { Lock::from_raw(&raw mut (*self.as_raw()).lock) }
    }

    /// Takes the storage lock with interrupts saved and disabled. Fails with `EDEADLK` or
    /// `ETIMEDOUT`.
    ///
    /// Never call it with a bucket lock held: `S` nests outside `B`.
    #[inline]
    pub(super) fn lock_irqsave(&self) -> Result<StorageGuard<'_>> {
        let guard = self.lock().lock()?;
        // INVARIANT: `guard` holds the storage's lock.
        Ok(StorageGuard {
            storage: self,
            _guard: guard,
        })
    }

    /// `bpf_local_storage_lookup(local_storage, smap, false)`: the element of `smap` in the
    /// storage, through its cache slot, its index or its list, without the lock and without
    /// caching it.
    ///
    /// Elements found stay allocated as long as the storage: the reasons that keep it allocated
    /// (the lock, an RCU read section) keep them allocated too. A map of another storage type
    /// just matches no element.
    #[inline]
    pub(super) fn lookup(&self, smap: &Map) -> Option<Selem<'_>> {
        self.cached(smap).or_else(|| self.lookup_uncached(smap))
    }

    /// `bpf_local_storage_lookup(local_storage, smap, cacheit_lockit)`: the element of `smap`
    /// through its cache slot, else as [`Storage::lookup_slow`] finds it (and caches it).
    #[inline]
    pub(super) fn lookup_caching(&self, smap: &Map, cacheit_lockit: bool) -> Option<Selem<'_>> {
        self.cached(smap)
            .or_else(|| self.lookup_slow(smap, cacheit_lockit))
    }

    /// The element of `smap` if it is in the map's cache slot.
    #[inline]
    pub(super) fn cached(&self, smap: &Map) -> Option<Selem<'_>> {
        let sdata = self.cache_slot(smap.cache_idx()).load(Relaxed);
        if sdata.is_null() {
            return None;
        }
        // SAFETY: A cache slot holds an element of the storage, or one unlinked since the
        // reasons that keep the storage allocated began (it is cleared under the lock before the
        // element is freed), which they keep allocated.
        let selem = unsafe { Selem::from_sdata(sdata) };
        selem.is_of(smap).then_some(selem)
    }

    /// The element of `smap` through the index if the storage has one, else through its list.
    #[inline]
    fn lookup_uncached(&self, smap: &Map) -> Option<Selem<'_>> {
        match self.index() {
            Some(index) => index.find(smap),
            None => self.walk(smap),
        }
    }

    /// The element of `smap` on the list.
    #[inline]
    fn walk(&self, smap: &Map) -> Option<Selem<'_>> {
        // SAFETY: The lock or the RCU read section that keeps the storage allocated (type
        // invariant) keeps the walk safe.
        unsafe { self.list().iter_unguarded() }.find(|selem| selem.is_of(smap))
    }

    /// `bpf_local_storage_lookup_slow()`: the lookup of an element that is not in the map's
    /// cache slot, through the index if the storage has one, else through its list.
    ///
    /// With `cacheit_lockit`, the element found is cached, which takes the storage lock,
    /// unless the storage has an index and the map's slot holds another map's element: maps
    /// that share a slot then stop evicting each other, and the lookup takes no lock.
    pub(super) fn lookup_slow(&self, smap: &Map, cacheit_lockit: bool) -> Option<Selem<'_>> {
        // Two arms that each decide on caching: one test less on the indexed path than a
        // shared tail that asks again whether the storage has an index.
        match self.index() {
            Some(index) => {
                let selem = index.find(smap)?;
                if cacheit_lockit && self.cache_slot(smap.cache_idx()).load(Relaxed).is_null() {
                    self.cache(selem, smap);
                }
                Some(selem)
            }
            None => {
                let selem = self.walk(smap)?;
                if cacheit_lockit {
                    self.cache(selem, smap);
                }
                Some(selem)
            }
        }
    }

    /// Caches `selem`, an element of `smap` found on the storage's list without the lock, in
    /// the map's cache slot: `__bpf_local_storage_insert_cache()`. Skipped if the lock cannot
    /// be taken: the lookup that found the element succeeds anyway.
    pub(super) fn cache(&self, selem: Selem<'_>, smap: &Map) {
        let Ok(guard) = self.lock_irqsave() else {
            return;
        };
        if let Some(on_storage) = guard.claim(selem) {
            guard.cache_insert(&on_storage, smap);
        }
    }

    /// `&local_storage->index`, or `None` without `CONFIG_BPF_LOCAL_STORAGE_INDEX`.
    #[inline]
    fn index_slot(&self) -> Option<&Atomic<*mut index::Root>> {
        #[cfg(CONFIG_BPF_LOCAL_STORAGE_INDEX)]
        // SAFETY: `index` is a pointer member of the valid storage, written with marked stores
        // under the lock and read with marked loads; the index module gives it its type.
        return Some(unsafe { Atomic::from_ptr((&raw mut (*self.as_raw()).index).cast()) });
        #[cfg(not(CONFIG_BPF_LOCAL_STORAGE_INDEX))]
        None
    }

    /// The storage's index, if it has one that is not disabled.
    #[inline]
    fn index(&self) -> Option<Index<'_>> {
        // SAFETY: The storage stays allocated while `self` is borrowed, for the reasons of the
        // type invariant, which are those of `Index`'s.
        unsafe { Index::get(self.index_slot()?) }
    }

    /// `hlist_empty(&local_storage->list)` without the lock: a hint.
    #[inline]
    pub(super) fn is_empty_lockless(&self) -> bool {
        self.list().is_empty()
    }

    /// `local_storage->cache[idx]`, as a marked pointer.
    ///
    /// Written under the lock, read by lookups without it.
    #[inline]
    fn cache_slot(&self, idx: CacheIdx) -> &Atomic<*mut bindings::bpf_local_storage_data> {
        // SAFETY: `idx` is within `cache[]` (type invariant of `CacheIdx`), a member of the valid
        // storage. C reads it with `rcu_dereference_check()`/`rcu_access_pointer()` and writes it
        // with `rcu_assign_pointer()`/`RCU_INIT_POINTER()`, all marked.
        unsafe {
            Atomic::from_ptr(
                (&raw mut (*self.as_raw()).cache)
                    .cast::<*mut bindings::bpf_local_storage_data>()
                    .add(idx.index()),
            )
        }
    }

    /// `local_storage->owner`, as a marked pointer.
    ///
    /// Written under the lock (cleared with the last element); C readers outside the lock
    /// (the socket diag and iterator) use plain loads of a pointer-sized, aligned field.
    #[inline]
    fn owner_slot(&self) -> &Atomic<*mut c_void> {
        // SAFETY: A pointer member of the valid storage.
        unsafe { Atomic::from_ptr(&raw mut (*self.as_raw()).owner) }
    }

    /// `local_storage->mem_charge`: the bytes of the storage and its elements charged to the
    /// owner. Changed under the lock, or before the storage is published; `destroy()` reads it
    /// once no map free can change it any more.
    #[inline]
    fn mem_charge(&self) -> &Atomic<u64> {
        // SAFETY: A `u64` member of the valid storage. Its changes and reads are ordered by the
        // lock or by `destroy()`'s wait for map frees, so they do not race with the plain
        // store that initialises it.
        unsafe { Atomic::from_ptr(&raw mut (*self.as_raw()).mem_charge) }
    }

    /// `local_storage->teardown`: how destroy, the destroy work and map free agree on who frees
    /// the storage (see [`teardown`](super::teardown)).
    #[inline]
    pub(super) fn teardown(&self) -> &Atomic<i32> {
        // SAFETY: `teardown` is an `atomic_t` of the valid storage, only accessed atomically.
        unsafe { Atomic::from_ptr(&raw mut (*self.as_raw()).teardown.counter) }
    }

    /// Clears `local_storage->owner` of a storage whose owner is gone while elements may still be
    /// found through it: destroy left them to the destroy work. The socket storage iterator
    /// hands programs the owner of every element it finds on a bucket with a `local_storage`;
    /// it must hand them NULL rather than a freed socket.
    pub(super) fn forget_owner(&self) {
        self.owner_slot().store(ptr::null_mut(), Relaxed);
    }

    /// `&local_storage->owner_refcnt`: 1 while the owner lives, plus one per map free that has
    /// pinned the owner to uncharge it.
    #[inline]
    fn owner_refcnt(&self) -> &Refcount {
        // SAFETY: `owner_refcnt` is an initialised `refcount_t` of the valid storage, only
        // accessed as a refcount.
        unsafe { Refcount::from_raw(&raw mut (*self.as_raw()).owner_refcnt) }
    }

    /// Pins the owner: `refcount_inc_not_zero(&owner_refcnt)`. Fails once `destroy()` has
    /// released the owner's reference, after which the owner may be gone.
    ///
    /// No ordering is needed on success: the owner stays alive because `destroy()` waits for
    /// the count to drop to 0 ([`Dying::release_owner_and_wait`]).
    #[inline]
    fn pin_owner(&self) -> bool {
        self.owner_refcnt().inc_not_zero()
    }

    /// Releases a pin of [`Storage::pin_owner`]: `refcount_dec()`, a release operation that
    /// orders our updates of `mem_charge` before `destroy()` reads it.
    #[inline]
    fn unpin_owner(&self) {
        // We hold a pin, so the count does not reach 0 here.
        self.owner_refcnt().dec();
    }

    /// Adds `selem` to the storage list and counts `elem_size`: what every link does, before
    /// the index. Returns the list, locked for the borrow of `self`.
    ///
    /// # Safety
    ///
    /// As for [`Storage::link_nolock`].
    #[inline(always)]
    unsafe fn link_to_list(&self, selem: Selem<'_>, elem_size: u32) -> Locked<'_, Snode> {
        // Lock held or storage private, by the safety requirements: nobody changes
        // `mem_charge` concurrently. Wrapping, as the C `u64` arithmetic.
        let charge = self.mem_charge();
        charge.store(
            charge.load(Relaxed).wrapping_add(u64::from(elem_size)),
            Relaxed,
        );
        selem.set_local_storage(self.as_raw());
        // SAFETY: Lock held or storage private, by the safety requirements, while `list` lives.
        let list = unsafe { Locked::new(self.list()) };
        // SAFETY: `selem` is on no list, and this is its storage. The `rcu_assign_pointer()`
        // inside publishes `local_storage` (set just above) with the element.
        unsafe { list.add(selem) };
        list
    }

    /// Adds `selem` to the storage list and the index, and counts the `elem_size` of `smap`, its
    /// map: `bpf_selem_link_storage_nolock()`.
    ///
    /// With `past_cache` (the list had at least as many elements as there are cache slots), the
    /// link builds an index if the storage has none. Returns an index to retire once the lock
    /// is released, if linking the element rebuilt the index.
    ///
    /// # Safety
    ///
    /// - The caller holds the storage lock, or the storage is not visible to anybody else yet.
    /// - `selem` is on no storage list, `smap` is its map and is alive, and `selem` stays
    ///   allocated until unlinked and a grace period has elapsed.
    #[inline(always)]
    pub(super) unsafe fn link_nolock(
        &self,
        selem: Selem<'_>,
        smap: &Map,
        past_cache: bool,
    ) -> Option<Retired> {
        // SAFETY: By the safety requirements.
        let list = unsafe { self.link_to_list(selem, smap.elem_size()) };
        // SAFETY: `index_slot()` is the index of this storage, whose list `list` is.
        let index = unsafe { Writer::new(self.index_slot()?, list) };
        // SAFETY: `selem` was just linked and stays allocated as long as the list holds it, and
        // `smap` is its map.
        unsafe { index.linked(selem, smap, past_cache, &|size| smap.alloc_zeroed(size)) }
    }

    /// Links `selem`, an element of `smap`, to a storage that nobody else sees yet and that has
    /// no index: a new storage's first element, or a clone's copies. Such a link builds no
    /// index (the first update past the cache does), so it skips the index's writer, which
    /// `link_nolock()` would load and prepare for nothing.
    ///
    /// # Safety
    ///
    /// As for [`Storage::link_nolock`], and the storage has no index.
    #[inline(always)]
    pub(super) unsafe fn link_unindexed(&self, selem: Selem<'_>, smap: &Map) {
        // SAFETY: By the safety requirements.
        let _ = unsafe { self.link_to_list(selem, smap.elem_size()) };
    }

    /// The RCU callback of [`Storage::free`], of either kind: frees the storage and its index.
    /// `bpf_local_storage_free_trace_rcu()`.
    ///
    /// # Safety
    ///
    /// `rcu` is the `rcu` member of a storage passed to `call_rcu_tasks_trace()` or `call_rcu()`
    /// by [`Storage::free`].
    unsafe extern "C" fn free_rcu(rcu: *mut bindings::callback_head) {
        use crate::container_of;

        let anon = rcu.cast::<bindings::bpf_local_storage__bindgen_ty_1>();
        // SAFETY: `rcu` is the `rcu` member of a storage, at the start of its anonymous union.
        let ls = unsafe { container_of!(anon, bindings::bpf_local_storage, __bindgen_anon_1) };
        // SAFETY: The storage is ours to free, valid until we do.
        let storage = unsafe { Self::from_raw(ls) };
        if let Some(slot) = storage.index_slot() {
            // SAFETY: After the grace period (a Tasks Trace one implies a regular one) nobody
            // can reach the storage, nor its index.
            unsafe { index::free_unreachable(slot) };
        }
        // SAFETY: As above; the storage came from `bpf_map_kmalloc_nolock()`.
        unsafe { bindings::kfree(ls.cast()) };
    }

    /// Frees a storage after a grace period: `bpf_local_storage_free()`.
    ///
    /// With `reuse_now == false` after an RCU Tasks Trace grace period, with `reuse_now == true`
    /// after a regular one (`kfree_rcu()`).
    ///
    /// # Safety
    ///
    /// The storage is not reachable any more (the owner's pointer was cleared, or never pointed
    /// to it, or the owner is gone), and not used after this call but by RCU readers that found
    /// it before; not in NMI with `reuse_now == false`, nor under a raw spinlock.
    pub(super) unsafe fn free(&self, reuse_now: bool) {
        let storage = self.as_raw();
        // Its `rcu_head` is within its first 4 KiB (asserted above), and it came from
        // `bpf_map_kmalloc_nolock()`.
        let rcu = crate::ptr::project!(mut storage, .__bindgen_anon_1.rcu);
        let indexed = self
            .index_slot()
            .is_some_and(|slot| !slot.load(Relaxed).is_null());
        if reuse_now && !indexed {
            // SAFETY: As above; `kfree_rcu(local_storage, rcu)`.
            unsafe { bindings::kvfree_call_rcu(rcu.cast(), storage.cast()) };
        } else if reuse_now {
            // SAFETY: The callback frees this storage and its index through its `rcu_head`.
            unsafe { bindings::call_rcu(rcu, Some(Self::free_rcu)) };
        } else {
            // SAFETY: As above.
            unsafe { bindings::bpf_local_storage_call_rcu_tasks_trace(rcu, Some(Self::free_rcu)) };
        }
    }
}

/// The storage of an owner that is being freed: what `bpf_local_storage_destroy()` destroys.
///
/// # Invariants
///
/// The owner is being freed: no program or system call can add or remove the storage's elements
/// any more, and nobody else destroys the storage. The current CPU is in a regular RCU
/// read-side critical section for `'a`, entered before it read the owner's pointer to the
/// storage, so the storage stays allocated for `'a`.
pub(super) struct Dying<'a>(&'a Storage);

impl<'a> Dying<'a> {
    /// Starts the destruction of `storage`.
    ///
    /// # Safety
    ///
    /// `storage` is the storage of an owner that is being freed, whose destruction is not
    /// started elsewhere; the caller is in a regular RCU read-side critical section for `'a`,
    /// entered before it read the owner's pointer to `storage`.
    #[inline]
    pub(super) unsafe fn new(storage: &'a Storage) -> Self {
        // INVARIANT: By the safety requirements.
        Self(storage)
    }

    /// The storage.
    #[inline]
    pub(super) fn storage(&self) -> &'a Storage {
        self.0
    }

    /// The elements of the storage list: `hlist_for_each_entry_rcu()` in the caller's RCU read
    /// section, which `bpf_local_storage_destroy()` requires, rather than one of our own.
    #[inline]
    pub(super) fn elems(&self) -> Iter<'a, Snode> {
        // SAFETY: The current CPU is in an RCU read-side critical section for `'a` (type
        // invariant).
        unsafe { self.0.list().iter_unguarded() }
    }

    /// Drops the owner's reference and waits for the pins of concurrent map frees, then returns
    /// the charge left on the owner (`mem_charge`): the end of `bpf_local_storage_destroy()`.
    ///
    /// Afterwards no map free touches the owner or `mem_charge` any more, and this CPU sees their
    /// updates of `mem_charge`.
    pub(super) fn release_owner_and_wait(self) -> u64 {
        let storage = self.0;
        if !storage.owner_refcnt().dec_and_test() {
            // A map free holds a pin: spin, as it only holds it for a few instructions under the
            // storage lock (interrupts off), and we cannot sleep (we are in an RCU read section).
            while storage.owner_refcnt().read() != 0 {
                cpu_relax();
            }
            // Pairs with the release of `unpin_owner()`: the loads of the loop read its store,
            // and the barrier orders our read of `mem_charge` below after them (as `smp_mb()` in
            // C; an acquire read would do).
            smp_mb(Full);
        }
        // Otherwise the count reached 0 here, with acquire ordering: every unpin (release)
        // happened before.
        // No map free updates `mem_charge` any more (above), and no program or system call
        // does: the owner is being freed (type invariant), and `self` is consumed.
        storage.mem_charge().load(Relaxed)
    }
}

/// An element just unlinked from its storage (and its map) under their locks, to free with
/// `reuse_now == false` once the locks are released: the `free_node` list of the C, which never
/// holds more than one element.
///
/// Dropping it frees the element, so it must be dropped after the lock guards:
/// `call_rcu_tasks_trace()` takes `spinlock_t`s, which sleep on `PREEMPT_RT`.
///
/// # Invariants
///
/// The element is on no list, that only RCU readers and programs that found it before can
/// still see, owned by `self`. `_index`, if any, is an index that the unlink took out of the
/// storage (to shrink or drop it), to retire at the same time.
#[must_use = "dropping frees the element: drop it after releasing the locks"]
pub(super) struct Unlinked {
    selem: *mut bindings::bpf_local_storage_elem,
    _index: Option<Retired>,
}

impl Drop for Unlinked {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: By the type invariant the element is unlinked and ours. We are not in NMI:
        // the delete path returns `EOPNOTSUPP` there before unlinking, and an update only
        // replaces an element for system calls (the helpers create with `BPF_NOEXIST`), as in
        // C. The guards of the raw locks were dropped before us.
        unsafe { element::free(self.selem, false) }
    }
}

/// The storage lock, held.
///
/// # Invariants
///
/// The current CPU holds the lock of `storage`, through `_guard`.
#[must_use = "the storage lock is released when the guard is dropped"]
pub(super) struct StorageGuard<'a> {
    storage: &'a Storage,
    _guard: RqSpinLockIrqSaveGuard<'a, ()>,
}

impl StorageGuard<'_> {
    /// Takes the lock of `bucket` inside the storage lock: `S` then `B`.
    ///
    /// The bucket guard borrows `self`, so it is released first, as the per-CPU table of held
    /// rqspinlocks requires.
    #[inline(always)]
    pub(super) fn lock_bucket<'g>(&'g self, bucket: &'g Bucket) -> Result<BucketGuard<'g>> {
        bucket.lock_irqsave()
    }

    /// Subtracts `delta` from `local_storage->mem_charge` (wrapping, as the C `u64`
    /// arithmetic).
    #[inline]
    fn sub_mem_charge(&self, delta: u64) {
        // We hold the lock (type invariant), which protects `mem_charge`.
        let charge = self.storage.mem_charge();
        charge.store(charge.load(Relaxed).wrapping_sub(delta), Relaxed);
    }

    /// The writers' side of the index, if the storage can have one.
    #[inline(always)]
    fn index_writer(&self) -> Option<Writer<'_>> {
        // SAFETY: `index_slot()` is the index of the storage whose list `list()` is.
        Some(unsafe { Writer::new(self.storage.index_slot()?, self.list()) })
    }

    /// The storage list, locked.
    #[inline]
    fn list(&self) -> Locked<'_, Snode> {
        // SAFETY: We hold the storage's lock (type invariant) while `self` is borrowed.
        unsafe { Locked::new(self.storage.list()) }
    }

    /// `selem` as an element on the storage list (`selem_linked_to_storage()`, exact under the
    /// lock), or `None` if it is not on it.
    ///
    /// An element names its storage in `local_storage` from before it is linked until after it
    /// is unlinked, and is linked to one storage list at most once: an element that names this
    /// storage is on its list or on none, and one that does not is not on it. The test costs a
    /// load from the element's first cache line, which `selem_linked_to_storage()` reads too.
    #[inline]
    pub(super) fn claim<'e>(&self, selem: Selem<'e>) -> Option<OnList<'_, 'e, Snode>> {
        if !ptr::eq(selem.local_storage(), self.storage.as_raw()) {
            return None;
        }
        // SAFETY: `selem` names this storage, so it is on its list or on none (above).
        unsafe { self.list().claim(selem) }
    }

    /// `hlist_empty(&local_storage->list)`, exact under the lock.
    #[inline]
    pub(super) fn is_empty(&self) -> bool {
        self.list().is_empty()
    }

    /// Publishes a new element on the storage list and in the index:
    /// `bpf_selem_link_storage_nolock()` with the lock held. The list owns the element from now
    /// on. Also returns the index to retire once the lock is released, if the link rebuilt it.
    ///
    /// Link it to its bucket first ([`BucketGuard::link`]): bucket walkers must not meet an
    /// element of a storage without it.
    #[inline(always)]
    pub(super) fn link<'a>(
        &self,
        new: NewSelem<'a>,
        past_cache: bool,
    ) -> (Selem<'a>, Option<Retired>) {
        let smap = new.owner().map();
        let selem = new.into_owned_by_lists();
        // SAFETY: We hold the lock (type invariant); a new element is on no storage list, its map
        // `smap` is alive (its owner's), and the list owns it from now on.
        let retired = unsafe { self.storage.link_nolock(selem, smap, past_cache) };
        (selem, retired)
    }

    /// The bookkeeping of removing `selem` from the storage:
    /// `bpf_selem_unlink_storage_nolock_misc()`.
    ///
    /// Clears the map's cache slot if it points to `selem` and takes `selem` out of the index,
    /// uncharges `selem` (and the storage itself if `free_storage`: `selem` is the last
    /// element), then, if `free_storage`, detaches the storage from its owner: after that store
    /// the owner may be freed.
    ///
    /// With `pin_owner` (map free), the owner is first pinned so that it cannot be freed while
    /// we uncharge it; if `destroy()` already released it, the owner may be gone and only the
    /// cache slot is cleared.
    ///
    /// # Safety
    ///
    /// `smap` is the map of `selem`. Without `pin_owner`, the owner is alive.
    #[inline(always)]
    pub(super) unsafe fn unlink_misc(
        &self,
        selem: &OnList<'_, '_, Snode>,
        smap: &Map,
        free_storage: bool,
        pin_owner: bool,
    ) {
        let selem = selem.selem();
        let storage = self.storage;
        let owner = storage.owner_slot().load(Relaxed);

        // The cache slot is cleared even when the owner cannot be pinned: a later lookup must
        // not find the element through it. Lookups read the slot without the lock, hence the
        // marked accesses; a NULL needs no ordering.
        let slot = storage.cache_slot(smap.cache_idx());
        if slot.load(Relaxed) == selem.sdata() {
            slot.store(ptr::null_mut(), Relaxed);
        }
        // Likewise for the index.
        if let Some(index) = self.index_writer() {
            index.unlinking(selem, smap);
        }

        if pin_owner && !storage.pin_owner() {
            return;
        }

        let mut uncharge = smap.elem_size();
        if free_storage {
            uncharge += STORAGE_SIZE;
        }
        // SAFETY: The owner is alive until `unpin_owner()` below: pinned, or alive by the
        // safety requirements; it is an owner of `smap`'s type, and we are in the RCU read
        // section of the caller of the lock. `owner` does not leave this function.
        let owner = unsafe { MapOwner::new(smap, owner) };
        // It was charged with the element (and the storage).
        owner.uncharge(uncharge);
        self.sub_mem_charge(u64::from(uncharge));

        if free_storage {
            storage.owner_slot().store(ptr::null_mut(), Relaxed);
            // From now on only the storage lock protects the owner's pointer, which we clear:
            // the last element is going, nobody may find the storage through the owner. After
            // this store the owner may be freed: it is not used below.
            // The owner is alive (above) until this store.
            if let Some(slot) = owner.storage_slot() {
                slot.store(ptr::null_mut(), Relaxed);
            }
        }

        if pin_owner {
            storage.unpin_owner();
        }
    }

    /// Removes `selem` from the storage, with its bookkeeping: `bpf_selem_unlink_storage_nolock()`.
    ///
    /// Returns the element, to free once the locks are released, and whether it was the last
    /// one, in which case the storage is detached from the owner and must be freed too.
    ///
    /// # Safety
    ///
    /// `selem` is on this storage's list, is unlinked from its map (or is being, under the
    /// bucket lock held inside this one), `smap` is its map, and the owner is alive. Nobody else
    /// frees the element.
    #[inline(always)]
    pub(super) unsafe fn unlink(
        &self,
        selem: OnList<'_, '_, Snode>,
        smap: &Map,
    ) -> (Unlinked, bool) {
        let free_storage = selem.is_last();
        // SAFETY: By the safety requirements; the owner is alive, no pin needed.
        unsafe { self.unlink_misc(&selem, smap, free_storage, false) };
        let selem = selem.del();
        let index = match self.index_writer() {
            Some(index) => index.shrink(&|size| smap.alloc_zeroed(size)),
            None => None,
        };
        // INVARIANT: Unlinked from both sides now; the caller leaves the free to us.
        let unlinked = Unlinked {
            selem: selem.as_raw(),
            _index: index,
        };
        (unlinked, free_storage)
    }

    /// Caches `selem`, an element on the storage list, in the slot of `smap`, its map: the
    /// locked part of `__bpf_local_storage_insert_cache()`.
    ///
    /// The caller found the element without the lock; [`StorageGuard::claim`] under the lock
    /// makes the check that it is still linked and this store atomic with respect to deletes,
    /// which clear the slot under the lock: a deleted element is never published in the cache.
    ///
    /// Lookups through a slot check the map of the element they find there, so an element
    /// cached for another map only makes them miss. The caller passes the map it looked up,
    /// which spares a load of the element's `smap` on every cache miss; should map free have
    /// cleared that since, it clears the slot too when it unlinks the element from the storage.
    pub(super) fn cache_insert(&self, selem: &OnList<'_, '_, Snode>, smap: &Map) {
        // `rcu_assign_pointer()`: lookups that load the slot see the initialised element.
        self.storage
            .cache_slot(smap.cache_idx())
            .store(selem.selem().sdata(), Release);
    }

    /// `bpf_local_storage_lookup(local_storage, smap, false)` with the lock held, for an
    /// update: the element of `smap` on the storage list, which stays there while the guard is
    /// borrowed, and whether a new element would take a storage without an index past the
    /// cache, which the walk of the list counts when it finds no element.
    #[inline(always)]
    pub(super) fn lookup_for_update(&self, smap: &Map) -> (Option<Selem<'_>>, bool) {
        let storage = self.storage;
        if let Some(selem) = storage.cached(smap) {
            return (Some(selem), false);
        }
        if let Some(index) = storage.index() {
            return (index.find(smap), false);
        }
        let mut walked = 0;
        for selem in self.list().iter() {
            if selem.is_of(smap) {
                return (Some(selem), false);
            }
            walked += 1;
        }
        (None, walked >= index::BUILD_ABOVE)
    }
}

/// Allocates a storage for `first`'s owner with `first` as its first element and publishes it:
/// `bpf_local_storage_alloc()`.
///
/// Charges and allocates the storage, links `first` to it and to its bucket, and publishes it
/// with a `cmpxchg()` of the owner's pointer from NULL, which orders the initialisation before
/// the pointer for lockless readers. Returns the element, now owned by the lists. Fails with
/// the charge's error, `ENOMEM`, a bucket lock error, or `EAGAIN` if another storage was
/// published first (or an empty one is still there); everything is then undone, and `first`
/// freed and uncharged (dropped) after the storage: the error is all the callers need.
///
/// The caller has the owner's pointer to its storage, `slot`, from its check that there was no
/// storage: the storage type's hook is not called twice (C's update and alloc each call it).
/// Inlined: it is the rest of the first update of every new owner.
///
/// # Safety
///
/// `slot` is the pointer to its storage of `first`'s owner (its [`MapOwner::storage_slot`]): the
/// storage published there names that owner, which it is unlinked from when it goes.
#[inline(always)]
pub(super) unsafe fn alloc<'a>(
    first: NewSelem<'a>,
    slot: &'a Atomic<*mut bindings::bpf_local_storage>,
) -> Result<Selem<'a>> {
    let owner = first.owner();
    let smap = owner.map();

    owner.charge(STORAGE_SIZE)?;

    let raw = smap
        .alloc_zeroed(STORAGE_SIZE as usize)
        .cast::<bindings::bpf_local_storage>();
    if raw.is_null() {
        owner.uncharge(STORAGE_SIZE);
        return Err(ENOMEM);
    }

    // SAFETY: `raw` is a new, zeroed allocation of a storage, only known to us. The lock is
    // reached as an `RqSpinLockIrqSave<()>` by `Storage::lock()` (`Lock::from_raw()`), which
    // has the layout of the `rqspinlock_t` it initialises in place; the storage does not move.
    unsafe {
        bindings::INIT_HLIST_HEAD(&raw mut (*raw).list);
        pin_init::raw_init(
            (&raw mut (*raw).lock).cast::<RqSpinLockIrqSave<()>>(),
            new_rqspinlock_irqsave!(()),
        );
        (*raw).owner = owner.as_ptr();
        (*raw).mem_charge = u64::from(STORAGE_SIZE);
        (&raw mut (*raw).owner_refcnt)
            .cast::<Refcount>()
            .write(Refcount::new(1));
    }
    // INVARIANT: Initialised just above.
    // SAFETY: `raw` is valid until freed below, by us.
    let storage = unsafe { Storage::from_raw(raw) };
    let selem = first.selem();

    // SAFETY: The storage is new (no index) and not published yet; `first` is on no list
    // (`NewSelem` invariant), of the live `smap`.
    unsafe { storage.link_unindexed(selem, smap) };

    // A block rather than a closure, which the compiler keeps out of line.
    let published = 'publish: {
        let bucket = match smap.bucket(raw).lock_irqsave() {
            Ok(bucket) => bucket,
            Err(e) => break 'publish Err(e),
        };
        // SAFETY: `first` is on no bucket list and its storage hashes to this bucket.
        let on_map = unsafe { bucket.link(selem) };

        // Publish the storage to the owner with a `cmpxchg()` rather than a lock of the owner,
        // which works whatever the context. From now on the owner's pointer is protected by the
        // storage lock: it is only cleared under it (`unlink_misc()`). Fully ordered, like C's
        // `cmpxchg()`: the initialisation above is visible before the pointer.
        if slot.cmpxchg(ptr::null_mut(), raw, Full).is_err() {
            on_map.del();
            break 'publish Err(EAGAIN);
        }
        Ok(())
        // The bucket lock is released here, before the free below.
    };

    if let Err(e) = published {
        // `first` may have been visible to RCU walkers of the bucket for a moment, and the
        // storage to them through `first->local_storage`: free after a regular grace period.
        // `first` still points to the storage, but its owner frees it without looking.
        // SAFETY: The storage was never published to the owner.
        unsafe { storage.free(true) };
        owner.uncharge(STORAGE_SIZE);
        return Err(e);
    }
    // The lists own the element and its charge now.
    Ok(first.into_owned_by_lists())
}
