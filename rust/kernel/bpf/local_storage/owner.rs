// SPDX-License-Identifier: GPL-2.0

//! Owners of local storage, and the values callers store for them.
//!
//! An owner is the kernel object a storage hangs off: a task, a cgroup, an inode or a socket.
//! The core never dereferences one. It reaches the owner only through the storage type's hooks
//! in the map's `bpf_map_ops`: `map_owner_storage_ptr` (the owner's pointer to its storage) and,
//! for socket storage, `map_local_storage_charge` and `map_local_storage_uncharge` (the
//! socket's `sk_omem_alloc`, bounded by `optmem_max`).
//!
//! [`MapOwner`] carries the promise that the owner is alive, made once by the exported
//! functions from their C contract, so that the hooks are safe to call everywhere below them.
//! [`OwnerValue`] adds the value a caller stores, so that what reads the value knows its size.
//!
//! C header: [`include/linux/bpf_local_storage.h`](srctree/include/linux/bpf_local_storage.h)

use super::{
    element::Selem,
    map::Map, //
};
use crate::{
    bindings,
    error::to_result,
    prelude::*,
    sync::atomic::Atomic, //
};
use core::ptr;

/// A live owner of local storage, with a map of its storage type.
///
/// # Invariants
///
/// `owner` is an owner of `smap`'s storage type, alive for `'a`, and the current CPU is in an
/// RCU read-side critical section (regular or Tasks Trace) for `'a`.
#[derive(Clone, Copy)]
pub(super) struct MapOwner<'a> {
    smap: &'a Map,
    owner: *mut c_void,
}

impl<'a> MapOwner<'a> {
    /// Pairs `owner` with `smap`.
    ///
    /// # Safety
    ///
    /// `owner` is an owner of `smap`'s storage type that stays alive for `'a` (the caller
    /// holds a reference, checked that it is not dying, or pinned it), and the caller is in an
    /// RCU read-side critical section (regular or Tasks Trace) for `'a`.
    #[inline]
    pub(super) unsafe fn new(smap: &'a Map, owner: *mut c_void) -> Self {
        // INVARIANT: By the safety requirements.
        Self { smap, owner }
    }

    /// The map.
    #[inline]
    pub(super) fn map(&self) -> &'a Map {
        self.smap
    }

    /// The owner, for `storage->owner`: never dereferenced by the core.
    #[inline]
    pub(super) fn as_ptr(&self) -> *mut c_void {
        self.owner
    }

    /// Charges `size` bytes to the owner (`mem_charge()`): only socket storage charges
    /// (`sk_omem_alloc`), and fails with `ENOMEM` over `optmem_max`.
    #[inline]
    pub(super) fn charge(&self, size: u32) -> Result {
        match self.smap.ops().map_local_storage_charge {
            None => Ok(()),
            // SAFETY: The storage type's hook takes a map and a live owner of its type (type
            // invariant).
            Some(charge) => to_result(unsafe { charge(self.smap.as_raw(), self.owner, size) }),
        }
    }

    /// Returns `size` bytes charged to the owner (`mem_uncharge()`).
    ///
    /// `size` must not exceed what this owner was charged for the map's storage type: the hook
    /// subtracts without checking. That is bookkeeping, not memory safety.
    #[inline]
    pub(super) fn uncharge(&self, size: u32) {
        if let Some(uncharge) = self.smap.ops().map_local_storage_uncharge {
            // SAFETY: The storage type's hook takes a map and a live owner of its type (type
            // invariant).
            unsafe { uncharge(self.smap.as_raw(), self.owner, size) }
        }
    }

    /// The owner's `__rcu` pointer to its storage (`owner_storage()`: `&task->bpf_storage`,
    /// `&sk->sk_bpf_storage`, ...).
    ///
    /// Every storage type provides `map_owner_storage_ptr`; `None` would be a bug of the storage
    /// type, and makes the callers fail or skip instead of dereferencing NULL.
    #[inline]
    pub(super) fn storage_slot(&self) -> Option<&'a Atomic<*mut bindings::bpf_local_storage>> {
        let owner_storage_ptr = self.smap.ops().map_owner_storage_ptr?;
        // SAFETY: The storage type's hook takes a live owner of its type (type invariant).
        let slot = unsafe { owner_storage_ptr(self.owner) };
        if slot.is_null() {
            return None;
        }
        // SAFETY: `slot` is a pointer member of the owner, which is alive for `'a`. C reads it
        // with `rcu_dereference()` and writes it with `RCU_INIT_POINTER()` or `cmpxchg()`, all
        // marked accesses, as are ours.
        Some(unsafe { Atomic::from_ptr(slot) })
    }
}

/// A value a caller stores for an owner in a map: what an update or an element allocation
/// copies into the new element.
///
/// # Invariants
///
/// `value` is NULL or points to `value_size` bytes of `owner`'s map, readable for `'a`, and
/// writable for `'a` if `swap_uptrs`.
#[derive(Clone, Copy)]
pub(super) struct OwnerValue<'a> {
    owner: MapOwner<'a>,
    value: *mut c_void,
    swap_uptrs: bool,
}

impl<'a> OwnerValue<'a> {
    /// Pairs `value` with `owner` and its map. With `swap_uptrs`, the element takes the pinned
    /// uptrs of `value`, leaving zeros behind.
    ///
    /// # Safety
    ///
    /// `value` is NULL or points to `value_size` bytes of `owner`'s map that are readable for
    /// `'a`, and writable for `'a` if `swap_uptrs`.
    #[inline]
    pub(super) unsafe fn new(owner: MapOwner<'a>, value: *mut c_void, swap_uptrs: bool) -> Self {
        // INVARIANT: By the safety requirements.
        Self {
            owner,
            value,
            swap_uptrs,
        }
    }

    /// The owner.
    #[inline]
    pub(super) fn owner(&self) -> MapOwner<'a> {
        self.owner
    }

    /// The map.
    #[inline]
    pub(super) fn map(&self) -> &'a Map {
        self.owner.map()
    }

    /// The value, or NULL: for the C functions that copy it.
    #[inline]
    pub(super) fn as_ptr(&self) -> *mut c_void {
        self.value
    }

    /// Whether the element takes the value's uptrs.
    #[inline]
    pub(super) fn swap_uptrs(&self) -> bool {
        self.swap_uptrs
    }

    /// The value for `BPF_F_LOCK` updates: checks that there is one and that the map's value has
    /// a `bpf_spin_lock`. Fails with `EINVAL` otherwise.
    #[inline]
    pub(super) fn for_locked_copy(&self) -> Result<LockedValue<'a>> {
        if self.value.is_null() || !self.map().has_field(bindings::btf_field_type_BPF_SPIN_LOCK) {
            return Err(EINVAL);
        }
        // INVARIANT: Checked just above.
        Ok(LockedValue(*self))
    }
}

/// A value that can be copied into an element under the value's `bpf_spin_lock`
/// (`BPF_F_LOCK`), made by [`OwnerValue::for_locked_copy`].
///
/// # Invariants
///
/// The value is not NULL, and the values of its map have a `bpf_spin_lock`.
#[derive(Clone, Copy)]
pub(super) struct LockedValue<'a>(OwnerValue<'a>);

impl LockedValue<'_> {
    /// Copies the value into `selem`, an existing element, under the spin lock of the element's
    /// value: `copy_map_value_locked()`.
    ///
    /// Fails with `EINVAL` if `selem` is not an element of the value's map (or has lost its map
    /// to map free): its value would have another layout.
    #[inline]
    pub(super) fn copy_to(&self, selem: Selem<'_>) -> Result {
        let smap = self.0.map();
        if !selem.map().is_some_and(|m| ptr::eq(m, smap)) {
            return Err(EINVAL);
        }
        // SAFETY: Both values have `value_size` bytes laid out by the map's record, which has a
        // spin lock (type invariant): ours is not NULL (type invariant) and `OwnerValue`'s
        // invariant makes it readable; the element's because it is an element of the map
        // (checked above), allocated during the borrow of `selem`.
        unsafe {
            bindings::copy_map_value_locked(smap.bpf_map(), selem.data(), self.0.value, false)
        };
        Ok(())
    }
}
