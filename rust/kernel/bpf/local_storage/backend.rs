// SPDX-License-Identifier: GPL-2.0

//! What the storage types share: the helpers, the system calls and the owner's free, written
//! once over the owner's kind.
//!
//! An [`OwnerKind`] says where an owner (a cgroup, a task, a socket, ...) keeps its pointer to
//! its storage, and what keeps it from starting to go away while a program creates storage for
//! it or deletes from it: its pin, a reference for a socket, a test or nothing for the others.
//! [`Owner`] is one such owner, alive for a borrow; on it are the lookup of an element, the
//! helpers' get and delete, and the system calls' lookup, update and delete. [`free`] destroys
//! an owner's storage when the owner goes away.
//!
//! A storage type's module instantiates these for its kind and exports them to its C file,
//! which keeps what the BPF core and BTF need to see: the map operations and helper prototypes,
//! the helpers' `BPF_CALL` shells, and the functions other subsystems call by name.
//!
//! Creating storage and destroying it go through the C functions `bpf_local_storage_update()`
//! and `bpf_local_storage_destroy()`, not straight to [`update`](super::update) and
//! [`teardown`](super::teardown): tracing programs attach to those two by name (the selftests
//! count the recursion they see, and fail the teardown's locks through them).

use super::{
    element::{
        self,
        Selem, //
    },
    map::Map,
    storage::Storage, //
};
use crate::{
    bindings,
    error::{
        from_err_ptr,
        from_result, //
    },
    prelude::*,
    sync::{
        atomic::{
            Atomic,
            Relaxed, //
        },
        rcu,
    },
};
use core::{
    marker::PhantomData,
    ptr::{
        self,
        NonNull, //
    },
};

/// Defines a storage type's map system-call operations, the `rust_bpf_<name>_storage_*_elem()`
/// functions of `kernel/bpf/bpf_local_storage_rust.h`, over [`lookup_elem`], [`update_elem`] and
/// [`delete_elem`] for its [`KeyRef`]: part of `export_storage_type!`, and all of them that
/// socket storage, whose helpers and free differ, shares.
macro_rules! export_storage_syscalls {
    ($name:ident, $key:ty) => {
        ::kernel::macros::paste! {
            /// The map's `map_lookup_elem`.
            ///
            /// # Safety
            ///
            /// As for [`lookup_elem`](super::lookup_elem).
            #[export]
            unsafe extern "C" fn [<rust_bpf_ $name _storage_lookup_elem>](
                map: *mut bindings::bpf_map,
                key: *mut c_void,
            ) -> *mut c_void {
                // SAFETY: Our contract is `lookup_elem()`'s.
                unsafe { super::lookup_elem::<$key>(map, key) }
            }

            /// The map's `map_update_elem`.
            ///
            /// # Safety
            ///
            /// As for [`update_elem`](super::update_elem).
            #[export]
            unsafe extern "C" fn [<rust_bpf_ $name _storage_update_elem>](
                map: *mut bindings::bpf_map,
                key: *mut c_void,
                value: *mut c_void,
                map_flags: u64,
            ) -> c_long {
                // SAFETY: Our contract is `update_elem()`'s.
                unsafe { super::update_elem::<$key>(map, key, value, map_flags) }
            }

            /// The map's `map_delete_elem`.
            ///
            /// # Safety
            ///
            /// As for [`delete_elem`](super::delete_elem).
            #[export]
            unsafe extern "C" fn [<rust_bpf_ $name _storage_delete_elem>](
                map: *mut bindings::bpf_map,
                key: *mut c_void,
            ) -> c_long {
                // SAFETY: Our contract is `delete_elem()`'s.
                unsafe { super::delete_elem::<$key>(map, key) }
            }
        }
    };
}

/// Defines a storage type's `#[export]`s, the `rust_bpf_<name>_storage_*()` functions of
/// `kernel/bpf/bpf_local_storage_rust.h`: its owners' free, its map's system-call operations and
/// its two helpers, over [`free`], [`lookup_elem`], [`update_elem`], [`delete_elem`],
/// [`helper_get`] and [`helper_delete`] for its [`OwnerKind`] and [`KeyRef`].
macro_rules! export_storage_type {
    ($name:ident, $kind:ty, $key:ty) => {
        ::kernel::macros::paste! {
            /// The owners' free (`bpf_*_storage_free()`).
            ///
            /// # Safety
            ///
            /// As for [`free`](super::free).
            #[export]
            unsafe extern "C" fn [<rust_bpf_ $name _storage_free>](
                owner: *mut <$kind as super::OwnerKind>::Raw,
            ) {
                // SAFETY: Our contract is `free()`'s.
                unsafe { super::free::<$kind>(owner) };
            }

            export_storage_syscalls!($name, $key);

            /// The helper `bpf_*_storage_get()`.
            ///
            /// # Safety
            ///
            /// As for [`helper_get`](super::helper_get).
            #[export]
            unsafe extern "C" fn [<rust_bpf_ $name _storage_get>](
                map: *mut bindings::bpf_map,
                owner: *mut <$kind as super::OwnerKind>::Raw,
                value: *mut c_void,
                flags: u64,
            ) -> *mut c_void {
                // SAFETY: Our contract is `helper_get()`'s.
                unsafe { super::helper_get::<$kind>(map, owner, value, flags) }
            }

            /// The helper `bpf_*_storage_delete()`.
            ///
            /// # Safety
            ///
            /// As for [`helper_delete`](super::helper_delete).
            #[export]
            unsafe extern "C" fn [<rust_bpf_ $name _storage_delete>](
                map: *mut bindings::bpf_map,
                owner: *mut <$kind as super::OwnerKind>::Raw,
            ) -> c_int {
                // SAFETY: Our contract is `helper_delete()`'s.
                unsafe { super::helper_delete::<$kind>(map, owner) }
            }
        }
    };
}

// Built where their C storage types are: cgroup storage with cgroups, inode storage with the BPF
// LSM (whose blob holds the storage pointer), socket storage with networking.
#[cfg(CONFIG_CGROUPS)]
pub(super) mod cgroup;
#[cfg(CONFIG_BPF_LSM)]
pub(super) mod inode;
#[cfg(CONFIG_NET)]
pub(super) mod sk;
pub(super) mod task;

/// `BPF_F_LOCK`.
const F_LOCK: u64 = bindings::BPF_F_LOCK as u64;
/// `BPF_LOCAL_STORAGE_GET_F_CREATE`.
const GET_F_CREATE: u64 = bindings::BPF_LOCAL_STORAGE_GET_F_CREATE as u64;
/// `BPF_NOEXIST`.
const NOEXIST: u64 = bindings::BPF_NOEXIST as u64;

/// A kind of owner of local storage: what a storage type knows about its owners.
///
/// # Safety
///
/// `storage_ptr()` returns the owner's `struct bpf_local_storage __rcu *`, the pointer that the
/// storage type's `map_owner_storage_ptr` returns, which stays allocated as long as the owner.
pub(super) unsafe trait OwnerKind: Sized {
    /// The owner's C type: `struct cgroup`, ...
    type Raw;

    /// Where the owner keeps its storage pointer (`&cgroup->bpf_cgrp_storage`, ...), or
    /// `None` if it has none (an inode without the BPF LSM's blob).
    fn storage_ptr(owner: &Owner<'_, Self>) -> Option<NonNull<*mut bindings::bpf_local_storage>>;

    /// Whether the system calls' updates move the uptrs of the value into the element (task
    /// storage, the one type whose values may hold uptrs).
    const SWAPS_UPTRS: bool = false;

    /// What a program holds on an owner while it creates storage for it or deletes from it, to
    /// keep the owner from starting to go away meanwhile: a reference for a socket, nothing
    /// (`()`) for the owners that a test or the helpers' callers keep.
    type Pin;

    /// Whether a program may create storage for `owner`, and the pin to hold while it does:
    /// `None` if the owner may be going away already, as its free might then miss what the
    /// program creates.
    fn pin_for_create(owner: &Owner<'_, Self>) -> Option<Self::Pin>;

    /// Whether a program may delete `owner`'s element of a map, and the pin to hold while it
    /// does: `None` fails the delete with `ENOENT`, as for an owner without the element.
    fn pin_for_delete(owner: &Owner<'_, Self>) -> Option<Self::Pin>;

    /// Whether the owner's free destroys its storage with migration disabled, as the C frees of
    /// socket and inode storage always have ([`free`] enters its read section with
    /// `rcu_read_lock_dont_migrate()`, as they do).
    const FREE_DISABLES_MIGRATION: bool = false;

    /// Gives back `charge`, what the destroy of `owner`'s storage left charged to it (not 0):
    /// socket storage returns it to the socket's option memory; the others charge nothing.
    #[inline]
    fn uncharge_destroyed(_owner: &Owner<'_, Self>, _charge: u32) {}
}

/// What the system calls' key, a file descriptor, leads to: a reference that keeps an owner of
/// kind `Kind` (or what finds it) from going away, dropped after the call.
pub(super) trait KeyRef: Sized {
    /// The kind of the owner.
    type Kind: OwnerKind;

    /// Takes the reference from the descriptor. Fails as the storage type's C did for a bad
    /// descriptor (`EBADF`, ...).
    fn from_fd(fd: c_int) -> Result<Self>;

    /// The owner. Fails if it is gone (`ENOENT` for a reaped task).
    ///
    /// # Safety
    ///
    /// The caller is in an RCU read-side critical section while the result is used.
    unsafe fn owner(&self) -> Result<Owner<'_, Self::Kind>>;
}

/// An owner of kind `K`.
///
/// # Invariants
///
/// `ptr` points to an owner of kind `K` that stays allocated for `'a`, and the current CPU is in
/// an RCU read-side critical section (regular or Tasks Trace) for `'a`.
pub(super) struct Owner<'a, K: OwnerKind> {
    ptr: NonNull<K::Raw>,
    _p: PhantomData<&'a K::Raw>,
}

// Not derived: that would require `K: Copy`.
impl<K: OwnerKind> Clone for Owner<'_, K> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<K: OwnerKind> Copy for Owner<'_, K> {}

impl<'a, K: OwnerKind> Owner<'a, K> {
    /// Wraps a pointer to an owner; `None` if it is NULL.
    ///
    /// # Safety
    ///
    /// `ptr` is NULL or points to an owner of kind `K` that stays allocated for `'a`, and the
    /// caller is in an RCU read-side critical section (regular or Tasks Trace) for `'a`.
    #[inline]
    pub(super) unsafe fn from_raw(ptr: *mut K::Raw) -> Option<Self> {
        // INVARIANT: By the safety requirements.
        Some(Self {
            ptr: NonNull::new(ptr)?,
            _p: PhantomData,
        })
    }

    /// Wraps a pointer to an owner that cannot be NULL: what the C entry points get whose callers
    /// never pass NULL and do not test for it either (an owner's free, the charge hooks).
    ///
    /// # Safety
    ///
    /// As for [`Owner::from_raw`], and `ptr` is not NULL.
    #[inline]
    pub(super) unsafe fn from_raw_nonnull(ptr: *mut K::Raw) -> Self {
        // INVARIANT: By the safety requirements.
        Self {
            // SAFETY: `ptr` is not NULL (safety requirements).
            ptr: unsafe { NonNull::new_unchecked(ptr) },
            _p: PhantomData,
        }
    }

    /// The raw pointer to the owner.
    #[inline]
    pub(super) fn as_ptr(&self) -> *mut K::Raw {
        self.ptr.as_ptr()
    }

    /// A member of the owner, at `offset` (an `offset_of!()` of `K::Raw`).
    ///
    /// Not NULL, which spares the lookups a test of the storage pointer of the owners that
    /// always have one.
    ///
    /// # Safety
    ///
    /// `offset` is the offset of a member of `K::Raw`.
    #[inline]
    pub(super) unsafe fn member<T>(&self, offset: usize) -> NonNull<T> {
        // SAFETY: A member of the owner, which is allocated (type invariant): in bounds.
        unsafe { self.ptr.byte_add(offset) }.cast()
    }

    /// The owner's pointer to its storage, as a marked pointer; `None` if it has none.
    #[inline]
    fn storage_slot(&self) -> Option<&'a Atomic<*mut bindings::bpf_local_storage>> {
        let slot = K::storage_ptr(self)?;
        // SAFETY: The owner's storage pointer (`OwnerKind`'s safety requirement), allocated as
        // long as the owner, for `'a` (type invariant). C reads it with `rcu_dereference()` and
        // writes it with `RCU_INIT_POINTER()` or `cmpxchg()`, all marked.
        Some(unsafe { Atomic::from_ptr(slot.as_ptr()) })
    }

    /// The owner's storage, if it has one: `rcu_dereference_check(owner->..._storage,
    /// bpf_rcu_lock_held())`.
    #[inline]
    fn storage(&self) -> Option<&'a Storage> {
        // The storage was initialised before the `cmpxchg()` that published it, and we only
        // follow the pointer (address dependency).
        let storage = self.storage_slot()?.load(Relaxed);
        if storage.is_null() {
            return None;
        }
        // SAFETY: A storage read from the owner in our RCU read section (type invariant) stays
        // allocated until the section ends: storages are freed after a grace period of either
        // kind once unreachable.
        Some(unsafe { Storage::from_raw(storage) })
    }

    /// The owner's element of `smap`: `bpf_local_storage_lookup()`, through the map's cache
    /// slot, then the index or the list. With `cacheit_lockit`, an element found past the cache
    /// slot is cached.
    #[inline]
    pub(super) fn lookup(&self, smap: &Map, cacheit_lockit: bool) -> Option<Selem<'a>> {
        self.storage()?.lookup_caching(smap, cacheit_lockit)
    }

    /// The helpers' get: `bpf_*_storage_get()`. Returns the value of the owner's element of
    /// `smap`; with `BPF_LOCAL_STORAGE_GET_F_CREATE`, creates one (from `value` if not NULL)
    /// if there is none and the owner can be pinned ([`OwnerKind::pin_for_create`]). NULL for
    /// unknown flags, and when there is no element or it cannot be created.
    ///
    /// # Safety
    ///
    /// `smap` is a map of `K`'s storage type; `value` is NULL or points to the map's
    /// `value_size` readable bytes.
    #[inline]
    pub(super) unsafe fn get(self, smap: &Map, value: *mut c_void, flags: u64) -> *mut c_void {
        if flags & !GET_F_CREATE != 0 {
            return ptr::null_mut();
        }
        // Only the cache hit is inline: with the rest out of line, the hit saves and restores
        // no registers.
        if let Some(selem) = self.storage().and_then(|storage| storage.cached(smap)) {
            return selem.data();
        }
        // SAFETY: Our contract.
        unsafe { self.get_uncached(smap, value, flags) }
    }

    /// [`Owner::get`] past the cache slot: the index or the list, then the creation.
    ///
    /// # Safety
    ///
    /// As for [`Owner::get`].
    #[inline(never)]
    unsafe fn get_uncached(self, smap: &Map, value: *mut c_void, flags: u64) -> *mut c_void {
        if let Some(selem) = self
            .storage()
            .and_then(|storage| storage.lookup_slow(smap, true))
        {
            return selem.data();
        }
        if flags & GET_F_CREATE == 0 {
            return ptr::null_mut();
        }
        let Some(_pin) = K::pin_for_create(&self) else {
            return ptr::null_mut();
        };
        // SAFETY: `_pin` keeps the owner from starting to go away until it is dropped, after the
        // call; the rest is our contract.
        unsafe { self.update(smap, value, NOEXIST, false) }.map_or(ptr::null_mut(), data)
    }

    /// Creates or replaces the owner's element of `smap`, through the C function
    /// `bpf_local_storage_update()`. Returns its data.
    ///
    /// # Safety
    ///
    /// `smap` is a map of `K`'s storage type, and the owner does not start going away during
    /// the call (the caller holds a reference, or a pin of [`OwnerKind::pin_for_create`]). `value`
    /// is NULL or points to the map's `value_size` readable bytes (with `swap_uptrs`,
    /// writable), and is not NULL with `BPF_F_LOCK`.
    #[inline]
    pub(super) unsafe fn update(
        &self,
        smap: &Map,
        value: *mut c_void,
        map_flags: u64,
        swap_uptrs: bool,
    ) -> Result<*mut bindings::bpf_local_storage_data> {
        // SAFETY: A live map and a live owner of its type that stays so for the call, in our RCU
        // read section (type invariant); the value is the caller's promise.
        from_err_ptr(unsafe {
            bindings::bpf_local_storage_update(
                self.as_ptr().cast(),
                smap.as_raw(),
                value,
                map_flags,
                swap_uptrs,
            )
        })
    }

    /// Deletes the owner's element of `smap`: the helpers' delete and the system calls'.
    /// Fails with `ENOENT` if there is none, and as [`element::unlink`] does.
    #[inline]
    pub(super) fn delete(&self, smap: &Map) -> Result {
        let selem = self.lookup(smap, false).ok_or(ENOENT)?;
        // SAFETY: Found by a lookup of `smap`, a live map, in the storage of a live owner, in
        // our RCU read section (type invariant), which lasts beyond the call.
        unsafe { element::unlink(selem) }
    }
}

/// `sdata->data`: the value of the element of `sdata`.
#[inline]
fn data(sdata: *mut bindings::bpf_local_storage_data) -> *mut c_void {
    crate::ptr::project!(mut sdata, .data).cast()
}

/// Destroys the storage of an owner that is being freed, if it has one: `bpf_*_storage_free()`.
///
/// The destroy runs in a regular RCU read-side critical section, entered with migration
/// disabled for the kinds of owners whose C free has always disabled it
/// ([`OwnerKind::FREE_DISABLES_MIGRATION`]), and then gives what it leaves charged to the owner
/// back ([`OwnerKind::uncharge_destroyed`]). An owner without storage only costs the section:
/// nothing can give storage to an owner that is being freed.
///
/// # Safety
///
/// `owner` points to an owner of kind `K` that is being freed: no program or system call can
/// create its storage or add elements to it any more, and this is called once for it, where a
/// regular RCU read-side critical section may be entered.
#[inline]
pub(super) unsafe fn free<K: OwnerKind>(owner: *mut K::Raw) {
    if K::FREE_DISABLES_MIGRATION {
        let rcu = rcu::read_lock_dont_migrate();
        // SAFETY: By our safety requirements.
        unsafe { destroy::<K>(owner, &rcu) };
    } else {
        let rcu = rcu::read_lock();
        // SAFETY: By our safety requirements.
        unsafe { destroy::<K>(owner, &rcu) };
    }
}

/// The body of [`free`], in the read-side critical section that `_rcu` holds.
///
/// # Safety
///
/// As for [`free`].
#[inline]
unsafe fn destroy<K: OwnerKind>(owner: *mut K::Raw, _rcu: &rcu::Guard) {
    // SAFETY: The owner (not NULL: it is being freed) stays allocated until its free returns,
    // after this call; `_rcu` keeps us in an RCU read section until we return.
    let owner = unsafe { Owner::<K>::from_raw_nonnull(owner) };
    let Some(storage) = owner.storage() else {
        return;
    };
    // SAFETY: The storage of an owner being freed, destroyed once (our contract), in the RCU
    // read section in which we read the owner's pointer to it.
    let charge = unsafe { bindings::bpf_local_storage_destroy(storage.as_raw()) };
    if charge != 0 {
        K::uncharge_destroyed(&owner, charge);
    }
}

/// The map and the descriptor of a system call's key.
///
/// # Safety
///
/// `map` is a live local storage map and `key` points to its 4-byte key.
#[inline]
unsafe fn map_and_fd<'a>(map: *mut bindings::bpf_map, key: *mut c_void) -> (&'a Map, c_int) {
    // SAFETY: By the safety requirements; `map` is the first member of its
    // `struct bpf_local_storage_map`.
    unsafe { (Map::from_raw(map.cast()), key.cast::<c_int>().read()) }
}

/// The map's `map_lookup_elem`: the value of the owner the descriptor in `key` leads to, NULL
/// if it has none, or an `ERR_PTR()`.
///
/// # Safety
///
/// `map` is a live map of `R::Kind`'s storage type and `key` points to its 4-byte key; the
/// caller (the `BPF_MAP_LOOKUP_ELEM` system call) is in an RCU read-side critical section.
pub(super) unsafe fn lookup_elem<R: KeyRef>(
    map: *mut bindings::bpf_map,
    key: *mut c_void,
) -> *mut c_void {
    // SAFETY: By the safety requirements.
    let (smap, fd) = unsafe { map_and_fd(map, key) };
    let found = R::from_fd(fd).and_then(|key| {
        // SAFETY: In the caller's RCU read section.
        let owner = unsafe { key.owner() }?;
        Ok(owner
            .lookup(smap, true)
            .map_or(ptr::null_mut(), Selem::data))
    });
    found.unwrap_or_else(|e| e.to_ptr())
}

/// The map's `map_update_elem`: creates or replaces the element of the owner the descriptor in
/// `key` leads to. Returns 0 or a negative errno.
///
/// # Safety
///
/// `map` is a live map of `R::Kind`'s storage type, `key` points to its 4-byte key and `value`
/// to its `value_size` writable bytes (the system call's copy); the caller (the
/// `BPF_MAP_UPDATE_ELEM` system call) is in an RCU read-side critical section.
pub(super) unsafe fn update_elem<R: KeyRef>(
    map: *mut bindings::bpf_map,
    key: *mut c_void,
    value: *mut c_void,
    map_flags: u64,
) -> c_long {
    // SAFETY: By the safety requirements.
    let (smap, fd) = unsafe { map_and_fd(map, key) };
    from_result(|| {
        // The copy under the value's spin lock would not move the uptrs: checked before the
        // descriptor, as task storage's C did.
        if R::Kind::SWAPS_UPTRS
            && map_flags & F_LOCK != 0
            && smap.has_field(bindings::btf_field_type_BPF_UPTR)
        {
            return Err(EOPNOTSUPP);
        }
        let key = R::from_fd(fd)?;
        // SAFETY: In the caller's RCU read section.
        let owner = unsafe { key.owner() }?;
        // An owner without a storage pointer (an inode without the BPF LSM's blob) cannot have
        // storage: the descriptor is as bad as one that leads nowhere.
        if owner.storage_slot().is_none() {
            return Err(EBADF);
        }
        // SAFETY: `key` keeps the owner from starting to go away (`KeyRef`); `value` is the
        // map's, not NULL, and writable.
        unsafe { owner.update(smap, value, map_flags, R::Kind::SWAPS_UPTRS) }?;
        Ok(0)
    })
}

/// The map's `map_delete_elem`: deletes the element of the owner the descriptor in `key` leads
/// to. Returns 0 or a negative errno (`ENOENT` if it has none).
///
/// # Safety
///
/// `map` is a live map of `R::Kind`'s storage type and `key` points to its 4-byte key; the
/// caller (the `BPF_MAP_DELETE_ELEM` system call) is in an RCU read-side critical section.
pub(super) unsafe fn delete_elem<R: KeyRef>(
    map: *mut bindings::bpf_map,
    key: *mut c_void,
) -> c_long {
    // SAFETY: By the safety requirements.
    let (smap, fd) = unsafe { map_and_fd(map, key) };
    from_result(|| {
        let key = R::from_fd(fd)?;
        // SAFETY: In the caller's RCU read section.
        unsafe { key.owner() }?.delete(smap)?;
        Ok(0)
    })
}

/// The helper `bpf_*_storage_get()`: the value of `owner`'s element of `map`, created with
/// `BPF_LOCAL_STORAGE_GET_F_CREATE` if there is none; NULL if there is none (or it cannot be
/// created), for a NULL owner, or for unknown flags.
///
/// # Safety
///
/// `map` is a live map of `K`'s storage type, `owner` NULL or an owner the calling program may
/// use (the verifier's `ARG_PTR_TO_BTF_ID_OR_NULL`), and `value` NULL or the map's `value_size`
/// bytes. The caller (a program) is in an RCU read-side critical section of either kind.
#[inline(always)]
pub(super) unsafe fn helper_get<K: OwnerKind>(
    map: *mut bindings::bpf_map,
    owner: *mut K::Raw,
    value: *mut c_void,
    flags: u64,
) -> *mut c_void {
    // SAFETY: By the safety requirements: the owner stays allocated during the program's RCU
    // read section; `map` is the first member of its `struct bpf_local_storage_map`.
    let (smap, owner) = unsafe { (Map::from_raw(map.cast()), Owner::<K>::from_raw(owner)) };
    match owner {
        // SAFETY: A map of `K`'s storage type; the value is the caller's promise.
        Some(owner) => unsafe { owner.get(smap, value, flags) },
        None => ptr::null_mut(),
    }
}

/// The helper `bpf_*_storage_delete()`: deletes `owner`'s element of `map`, holding the pin of
/// [`OwnerKind::pin_for_delete`]. Returns 0 or a negative errno: `EINVAL` for a NULL owner,
/// `ENOENT` if the owner cannot be pinned or has no element.
///
/// # Safety
///
/// `map` is a live map of `K`'s storage type and `owner` NULL or an owner the calling program
/// may use. The caller (a program) is in an RCU read-side critical section of either kind.
pub(super) unsafe fn helper_delete<K: OwnerKind>(
    map: *mut bindings::bpf_map,
    owner: *mut K::Raw,
) -> c_int {
    // SAFETY: As for `helper_get()`.
    let (smap, owner) = unsafe { (Map::from_raw(map.cast()), Owner::<K>::from_raw(owner)) };
    from_result(|| {
        let owner = owner.ok_or(EINVAL)?;
        let _pin = K::pin_for_delete(&owner).ok_or(ENOENT)?;
        // `_pin` is dropped on return, after the delete.
        owner.delete(smap)?;
        Ok(0)
    })
}
