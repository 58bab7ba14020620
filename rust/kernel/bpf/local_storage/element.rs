// SPDX-License-Identifier: GPL-2.0

//! Local storage elements: allocation, freeing, linking and the delete path.
//!
//! An element (`struct bpf_local_storage_elem`, "selem") holds the value of one map for one
//! owner. It is linked to its owner's storage list (`snode`, under the storage lock `S`) and to
//! the bucket of its map that the storage hashes to (`map_node`, under the bucket lock `B`).
//! `SDATA(selem)->smap` is the lookup key (the map) and `selem->local_storage` the storage; the
//! teardown sets either to NULL once its side is done ([`teardown`](super::teardown)).
//!
//! Elements are allocated with `bpf_map_kmalloc_nolock()` (any context, NMI included) and freed
//! after a grace period:
//!
//! - `reuse_now == false`: after an RCU Tasks Trace grace period (sleepable programs may still
//!   use the value), then `kfree()`, the special fields (kptrs, uptrs, ...) being freed in the
//!   callback: a program that found the element before the delete may still store a kptr into
//!   it until then. A Tasks Trace grace period implies a regular one.
//! - `reuse_now == true`: the special fields now, the memory after a regular RCU grace period
//!   (`kfree_rcu()`), when only RCU readers can still see the element.
//!
//! C header: [`include/linux/bpf_local_storage.h`](srctree/include/linux/bpf_local_storage.h)

use super::{
    hlist::{
        Link,
        Snode, //
    },
    map::Map,
    owner::{
        MapOwner,
        OwnerValue, //
    },
    storage::Storage, //
};
use crate::{
    bindings,
    prelude::*,
    sync::atomic::{
        Atomic,
        Relaxed, //
    },
    task::in_nmi,
};
use core::{
    marker::PhantomData,
    mem::{
        offset_of,
        ManuallyDrop, //
    },
    ptr::{
        self,
        NonNull, //
    },
};

// `kfree_rcu()`'s `BUILD_BUG_ON()`: the `rcu_head` must be in the first 4 KiB of the object.
static_assert!(offset_of!(bindings::bpf_local_storage_elem, __bindgen_anon_1) < 4096);

/// A local storage element, `struct bpf_local_storage_elem`.
///
/// An element is `smap->elem_size` bytes: the header up to `sdata.data`, then the value. For
/// values smaller than the cache-line padding of the header this is less than
/// `size_of::<bindings::bpf_local_storage_elem>()`, so this is a pointer that only ever projects
/// to fields (which all start within the allocation), never a reference to the whole C struct.
///
/// # Invariants
///
/// `ptr` points to an element allocated by [`NewSelem::alloc`] that is not freed during `'a`:
/// the caller owns it, or holds the lock of a list it is on, or is in an RCU read-side critical
/// section (regular RCU or RCU Tasks Trace) that began while the element was reachable, every
/// free being deferred by a grace period of both kinds or of regular RCU after the element
/// became unreachable (see the module docs).
///
/// Whenever it is read during `'a`, a non-NULL `SDATA(selem)->smap` points to a map that stays
/// alive for `'a`: the holders of elements keep the map alive (the owner's [`MapOwner`], the
/// caller's map reference), or are RCU readers or callbacks of either kind, and map free clears
/// `smap` before it waits for those and frees the map.
#[derive(Clone, Copy)]
pub(super) struct Selem<'a> {
    ptr: NonNull<bindings::bpf_local_storage_elem>,
    _p: PhantomData<&'a bindings::bpf_local_storage_elem>,
}

impl<'a> Selem<'a> {
    /// Wraps a pointer to an element.
    ///
    /// # Safety
    ///
    /// `ptr` points to an element that stays allocated for `'a` (see the type invariants).
    #[inline]
    pub(super) unsafe fn from_raw(ptr: *mut bindings::bpf_local_storage_elem) -> Self {
        // INVARIANT: The element stays allocated for `'a`, by the safety requirements.
        Self {
            // SAFETY: A pointer to an element is not NULL.
            ptr: unsafe { NonNull::new_unchecked(ptr) },
            _p: PhantomData,
        }
    }

    /// The element of `sdata`: `SELEM()`.
    ///
    /// # Safety
    ///
    /// `sdata` is the `sdata` member of an element that stays allocated for `'a`.
    #[inline]
    pub(super) unsafe fn from_sdata(sdata: *mut bindings::bpf_local_storage_data) -> Self {
        // SAFETY: `sdata` is a member of an element that stays allocated for `'a` (the safety
        // requirements), so the element starts `offset_of!(sdata)` bytes before it, in the same
        // allocation.
        unsafe {
            let selem = crate::container_of!(sdata, bindings::bpf_local_storage_elem, sdata);
            Self::from_raw(selem)
        }
    }

    /// The raw pointer to the element.
    #[inline]
    pub(super) fn as_raw(self) -> *mut bindings::bpf_local_storage_elem {
        self.ptr.as_ptr()
    }

    /// `SDATA(selem)`: what lookups return.
    #[inline]
    pub(super) fn sdata(self) -> *mut bindings::bpf_local_storage_data {
        let selem = self.as_raw();
        crate::ptr::project!(mut selem, .sdata)
    }

    /// `SDATA(selem)->data`: the value.
    #[inline]
    pub(super) fn data(self) -> *mut c_void {
        let selem = self.as_raw();
        crate::ptr::project!(mut selem, .sdata.data).cast()
    }

    /// The element's `L` node: `&selem->snode` or `&selem->map_node`.
    #[inline]
    pub(super) fn node<L: Link>(self) -> *mut bindings::hlist_node {
        // `L::OFFSET` is that of an `hlist_node` member (`Link`'s safety requirement), which
        // starts within the allocation: the pointer is in bounds.
        self.as_raw().wrapping_byte_add(L::OFFSET).cast()
    }

    /// `&selem->rcu`, which shares its place with the unused `free_node`.
    #[inline]
    fn rcu_head(self) -> *mut bindings::callback_head {
        let selem = self.as_raw();
        crate::ptr::project!(mut selem, .__bindgen_anon_1.rcu)
    }

    /// `SDATA(selem)->smap`, the map, as a marked pointer.
    ///
    /// Set at allocation, cleared once by the teardown; read without locks by lookups.
    #[inline]
    fn smap_slot(self) -> &'a Atomic<*mut bindings::bpf_local_storage_map> {
        // SAFETY: The member is within the allocation and lives for `'a`; C reads it with
        // `rcu_dereference()`/`rcu_access_pointer()` and writes it with `RCU_INIT_POINTER()`,
        // all marked.
        unsafe { Atomic::from_ptr(&raw mut (*self.as_raw()).sdata.smap) }
    }

    /// `rcu_dereference(SDATA(selem)->smap)`: the element's map, or `None` once the teardown is
    /// done with the map side.
    #[inline]
    pub(super) fn map(self) -> Option<&'a Map> {
        let smap = self.smap_slot().load(Relaxed);
        if smap.is_null() {
            return None;
        }
        // SAFETY: A non-NULL `smap` stays alive for `'a` (type invariant).
        Some(unsafe { Map::from_raw(smap) })
    }

    /// Whether the element is one of `smap`: `rcu_access_pointer(SDATA(selem)->smap) == smap`,
    /// the test of lookups. False once the teardown cleared `smap`.
    #[inline]
    pub(super) fn is_of(self, smap: &Map) -> bool {
        ptr::eq(self.smap_slot().load(Relaxed), smap.as_raw())
    }

    /// `RCU_INIT_POINTER(SDATA(selem)->smap, NULL)`.
    ///
    /// Readers only compare the pointer or, holding RCU, keep using the map they read, which
    /// map free keeps alive for them: no ordering needed.
    #[inline]
    pub(super) fn clear_smap(self) {
        self.smap_slot().store(ptr::null_mut(), Relaxed)
    }

    /// `selem->local_storage` as a marked pointer.
    #[inline]
    fn storage_slot(self) -> &'a Atomic<*mut bindings::bpf_local_storage> {
        // SAFETY: As for `smap_slot()`; C accesses it with `rcu_dereference*()` and
        // `RCU_INIT_POINTER()`.
        unsafe { Atomic::from_ptr(&raw mut (*self.as_raw()).local_storage) }
    }

    /// `rcu_dereference(selem->local_storage)`: the element's storage, or NULL once the teardown
    /// is done with the storage side (or before the element is linked).
    #[inline]
    pub(super) fn local_storage(self) -> *mut bindings::bpf_local_storage {
        self.storage_slot().load(Relaxed)
    }

    /// `RCU_INIT_POINTER(selem->local_storage, storage)`.
    ///
    /// Set before the element is published on the storage list (by `hlist_add_head_rcu()`,
    /// whose `rcu_assign_pointer()` orders it), cleared by the teardown: no ordering needed.
    #[inline]
    pub(super) fn set_local_storage(self, storage: *mut bindings::bpf_local_storage) {
        self.storage_slot().store(storage, Relaxed)
    }

    /// `selem->state`, the teardown state word ([`teardown`](super::teardown)).
    #[inline]
    pub(super) fn state(self) -> &'a Atomic<i32> {
        // SAFETY: `state` is an `atomic_t` within the allocation, only accessed atomically.
        unsafe { Atomic::from_ptr(&raw mut (*self.as_raw()).state.counter) }
    }

    /// `selem_linked_to_storage_lockless()`: a hint, exact only under the storage lock.
    #[inline]
    pub(super) fn linked_to_storage_lockless(self) -> bool {
        // SAFETY: The node is within the live element; `pprev` is read with `READ_ONCE()`.
        unsafe { bindings::hlist_unhashed_lockless(self.node::<Snode>()) == 0 }
    }

    /// Frees the special fields of the value (`bpf_obj_free_fields()`): kptrs are released,
    /// uptrs unpinned, ...
    ///
    /// # Safety
    ///
    /// `smap` is the element's map, and the fields are freed only once: the element is
    /// unreachable by programs, or the caller holds the bucket lock and has just unlinked the
    /// element from the bucket.
    #[inline]
    pub(super) unsafe fn free_fields(self, smap: &Map) {
        // SAFETY: `record` describes the value of `smap`'s elements; the caller guarantees the
        // fields are not freed twice.
        unsafe { bindings::bpf_obj_free_fields(smap.record(), self.data()) }
    }
}

/// The RCU Tasks Trace callback of [`free`] with `reuse_now == false`:
/// `bpf_selem_free_trace_rcu()`.
///
/// # Safety
///
/// `rcu` is the `rcu` member of an element passed to `call_rcu_tasks_trace()` by [`free`].
unsafe extern "C" fn free_trace_rcu(rcu: *mut bindings::callback_head) {
    // `rcu` is a member of the anonymous union, so it is at the union's start.
    let anon = rcu.cast::<bindings::bpf_local_storage_elem__bindgen_ty_1>();
    // SAFETY: `anon` is the anonymous union member of an element, in the element's allocation;
    // the element is ours until we free it below.
    let selem = unsafe {
        let selem = crate::container_of!(anon, bindings::bpf_local_storage_elem, __bindgen_anon_1);
        Selem::from_raw(selem)
    };
    let ptr = selem.as_raw();
    // The map may be gone from the element (the teardown freed the fields then); otherwise it
    // is alive: map free waits for these callbacks with `rcu_barrier_tasks_trace()`.
    if let Some(smap) = selem.map() {
        // SAFETY: `smap` is the element's map; nothing else frees the fields of a deleted
        // element, and no program can reach it after the grace period.
        unsafe { selem.free_fields(smap) };
    }
    // SAFETY: A Tasks Trace grace period implies a regular one, so no reader is left; the
    // element came from `bpf_map_kmalloc_nolock()`.
    unsafe { bindings::kfree(ptr.cast()) };
}

/// `kfree_rcu(selem, rcu)`: frees the element after a regular RCU grace period, not touching
/// its special fields.
///
/// # Safety
///
/// The element is unreachable except by RCU readers, its fields are freed or given up, and it
/// is not used after this call.
pub(super) unsafe fn kfree_rcu(selem: *mut bindings::bpf_local_storage_elem) {
    // SAFETY: The element is valid (the safety requirements); its `rcu_head` is within its first
    // 4 KiB (asserted above), as `kvfree_call_rcu()` needs, and the element came from
    // `bpf_map_kmalloc_nolock()`, which `kfree_rcu()` may free.
    unsafe {
        let selem = Selem::from_raw(selem);
        bindings::kvfree_call_rcu(
            selem.rcu_head().cast::<bindings::kvfree_rcu_head>(),
            selem.as_raw().cast(),
        )
    }
}

/// Frees an element.
///
/// With `reuse_now == false`, after an RCU Tasks Trace grace period, its special fields with it;
/// with `reuse_now == true`, its special fields now and its memory after a regular RCU grace
/// period. The fields are skipped if the teardown already freed them (`smap` is NULL).
///
/// # Safety
///
/// - `selem` is an element that is on no list (or was only briefly on one, removed before this
///   call), not used after this call but by RCU readers that found it before.
/// - With `reuse_now == true`, no program may still hold the element (only regular RCU readers
///   may still find it).
/// - Not in NMI with `reuse_now == false` (`call_rcu_tasks_trace()`), nor under a raw spinlock
///   (it takes `spinlock_t`s on `PREEMPT_RT`).
pub(super) unsafe fn free(selem: *mut bindings::bpf_local_storage_elem, reuse_now: bool) {
    // SAFETY: The element is valid until freed below (the safety requirements).
    let sel = unsafe { Selem::from_raw(selem) };

    if reuse_now {
        if let Some(smap) = sel.map() {
            // SAFETY: `smap` is the element's map; nobody else frees the fields of an
            // unreachable element.
            unsafe { sel.free_fields(smap) };
        }
        // SAFETY: By the safety requirements; the fields are handled above.
        unsafe { kfree_rcu(selem) };
        return;
    }

    // SAFETY: The callback gets this element's `rcu_head` and frees it; the caller is not in
    // NMI.
    unsafe {
        bindings::bpf_local_storage_call_rcu_tasks_trace(sel.rcu_head(), Some(free_trace_rcu))
    };
}

/// A new element that is linked nowhere yet, with `elem_size` charged to its owner.
///
/// Dropping it undoes the allocation: it is freed with `reuse_now == true` (as the C error paths
/// do: [`storage::alloc`](super::storage::alloc) may have shown it to bucket walkers for a
/// moment) and uncharged.
///
/// # Invariants
///
/// `ptr` is an element of `owner`'s map allocated by [`NewSelem::alloc`], whose `elem_size` is
/// charged to `owner`; it is on no list (or was removed from the one it was on), and `self`
/// owns it.
pub(super) struct NewSelem<'a> {
    ptr: NonNull<bindings::bpf_local_storage_elem>,
    owner: MapOwner<'a>,
}

impl<'a> NewSelem<'a> {
    /// Charges and allocates an element of the map for the owner, with the value of `new`:
    /// `bpf_selem_alloc()`.
    ///
    /// The value is copied if there is one, except the special fields, which stay zero (the
    /// allocation is zeroed, so `check_and_init_map_value()` is not needed). With `swap_uptrs`,
    /// the pinned uptrs of the value move into the element, leaving zeros behind.
    ///
    /// Returns `None` if the charge or the allocation fails. Works in any context.
    ///
    /// Inlined: its callers pass the value and take the element back in registers.
    #[inline(always)]
    pub(super) fn alloc(new: &OwnerValue<'a>) -> Option<Self> {
        let owner = new.owner();
        let smap = owner.map();
        let elem_size = smap.elem_size();

        owner.charge(elem_size).ok()?;

        let ptr = smap
            .alloc_zeroed(elem_size as usize)
            .cast::<bindings::bpf_local_storage_elem>();
        let Some(ptr) = NonNull::new(ptr) else {
            owner.uncharge(elem_size);
            return None;
        };

        // INVARIANT: A new, zeroed allocation of `elem_size` bytes, ours; its map is set to the
        // live `smap` just below.
        let selem = Selem {
            ptr,
            _p: PhantomData,
        };
        // Nobody else sees the element yet: plain initialisation, like `RCU_INIT_POINTER()` and
        // `atomic_set()` in C (the allocation is zeroed, `state` already is 0).
        selem.smap_slot().store(smap.as_raw(), Relaxed);
        selem.state().store(0, Relaxed);

        let value = new.as_ptr();
        if !value.is_null() {
            // SAFETY: `value` has `value_size` bytes of `smap` (`OwnerValue` invariant) and the
            // element's value as many; `copy_map_value()` skips the special fields.
            unsafe { bindings::copy_map_value(smap.bpf_map(), selem.data(), value) };
            if new.swap_uptrs() {
                // SAFETY: Both values are laid out by `record`, and `value` is writable
                // (`OwnerValue` invariant).
                unsafe { bindings::bpf_obj_swap_uptrs(smap.record(), selem.data(), value) };
            }
        }

        // INVARIANT: A new element of `smap`, charged to `owner`, on no list.
        Some(Self { ptr, owner })
    }

    /// The owner.
    #[inline]
    pub(super) fn owner(&self) -> MapOwner<'a> {
        self.owner
    }

    /// The element.
    #[inline]
    pub(super) fn selem(&self) -> Selem<'_> {
        // INVARIANT: The element is owned by `self`, so it lives as long as the borrow, and so
        // does its map, that of the owner.
        Selem {
            ptr: self.ptr,
            _p: PhantomData,
        }
    }

    /// Gives the element and its charge up to the lists it was linked to, which own it from
    /// now on: what [`storage::alloc`](super::storage::alloc) does once it published the
    /// storage, and [`StorageGuard::link`](super::storage::StorageGuard::link) after linking.
    ///
    /// An element on no list is leaked. The result stays valid for `'a` either way: a linked
    /// element is only freed a grace period after it is unlinked, which the RCU read section
    /// of `'a` (a [`MapOwner`] invariant) holds off.
    #[inline]
    pub(super) fn into_owned_by_lists(self) -> Selem<'a> {
        let this = ManuallyDrop::new(self);
        // INVARIANT: Allocated for `'a` (above), and so is its map, that of the owner.
        Selem {
            ptr: this.ptr,
            _p: PhantomData,
        }
    }
}

impl Drop for NewSelem<'_> {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the element is ours, on no list, and no program holds
        // it: RCU readers of a bucket are the only ones that may have seen it.
        unsafe { free(self.ptr.as_ptr(), true) };
        // By the type invariant `elem_size` is charged to `owner`.
        self.owner.uncharge(self.owner.map().elem_size());
    }
}

/// Deletes an element: `bpf_selem_unlink()`, the delete of helpers and system calls.
///
/// Unlinks it from its map (nested bucket lock) then from its storage, under the storage lock,
/// and frees it after an RCU Tasks Trace grace period; frees the storage the same way if the
/// element was its last.
///
/// Fails with `EOPNOTSUPP` in NMI (the frees need `call_rcu_tasks_trace()`), and with
/// `EDEADLK` or `ETIMEDOUT` if a lock cannot be taken, leaving the element linked. An element
/// already unlinked is not an error.
///
/// # Safety
///
/// `selem` was found by a lookup of a live map in a live owner's storage, in an RCU read-side
/// critical section that the caller is still in.
pub(super) unsafe fn unlink(selem: Selem<'_>) -> Result {
    if in_nmi() {
        return Err(EOPNOTSUPP);
    }

    if !selem.linked_to_storage_lockless() {
        // Already unlinked from its storage.
        return Ok(());
    }

    let storage = selem.local_storage();
    if storage.is_null() {
        // Only the teardown clears it, and it does not run on an element a live owner's lookup
        // can still find; should it happen, treat the element as already unlinked.
        return Ok(());
    }
    // SAFETY: The storage of an element found in the caller's RCU read section stays allocated
    // until that section ends: it is freed after a grace period once unreachable.
    let storage = unsafe { Storage::from_raw(storage) };

    let guard = storage.lock_irqsave()?;
    let Some(on_storage) = guard.claim(selem) else {
        return Ok(());
    };
    let Some(smap) = selem.map() else {
        // As for `local_storage`: only the teardown clears it.
        return Ok(());
    };
    // Always unlink from the map first: the element is freed once unlinked from the storage.
    {
        let bucket = guard.lock_bucket(smap.bucket(storage.as_raw()))?;
        // SAFETY: The element's storage hashes to this bucket: it is on it or on none.
        if let Some(on_map) = unsafe { bucket.claim(selem) } {
            on_map.del();
        }
    }
    // SAFETY: The element is unlinked from its map just above, `smap` is its map, and the owner
    // is alive (our contract).
    let (unlinked, free_storage) = unsafe { guard.unlink(on_storage, smap) };
    // The storage lock is released before the frees.
    drop(guard);
    drop(unlinked);

    if free_storage {
        // SAFETY: The last element was unlinked and the owner's pointer cleared under the
        // storage lock (`unlink_misc()`), so only readers that found the storage before can see
        // it; we are not in NMI.
        unsafe { storage.free(false) };
    }
    Ok(())
}
