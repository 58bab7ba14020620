// SPDX-License-Identifier: GPL-2.0

//! Local storage maps and their buckets.
//!
//! A local storage map (`struct bpf_local_storage_map`) stores nothing itself: it fixes the value
//! size (`elem_size`), owns a cache slot index (`cache_idx`), and keeps all its elements in an
//! array of buckets so that freeing the map can find them. The bucket of an element is chosen by
//! the address of its owner's *storage*, so all elements of one owner's storage in one map (the
//! current one and the one replacing it) share a bucket.
//!
//! This file also has the map operations shared by the four storage types: the checks at
//! creation, allocation, freeing and memory accounting. Each storage type's `bpf_map_ops` stays
//! in C and calls them through the C wrappers of `kernel/bpf/bpf_local_storage_rust.c`.
//!
//! C header: [`include/linux/bpf_local_storage.h`](srctree/include/linux/bpf_local_storage.h)

use super::{
    cache_idx::{
        Cache,
        CacheIdx, //
    },
    element::Selem,
    hlist::{
        Head,
        Locked,
        MapNode,
        OnList, //
    },
    teardown, //
};
use crate::{
    bindings,
    cpumask::Cpumask,
    hash,
    prelude::*,
    sync::{
        atomic::{
            Atomic,
            Relaxed, //
        },
        lock::Lock,
        new_rqspinlock_irqsave,
        rcu,
        RqSpinLockIrqSave,
        RqSpinLockIrqSaveGuard, //
    },
    types::Opaque,
};
use core::ptr;

/// The map flags a local storage map may be created with: `BPF_LOCAL_STORAGE_CREATE_FLAG_MASK`.
const CREATE_FLAG_MASK: u32 = bindings::BPF_F_NO_PREALLOC | bindings::BPF_F_CLONE;

/// `BPF_LOCAL_STORAGE_MAX_VALUE_SIZE`, a `min_t()` that bindgen cannot evaluate:
/// `min(KMALLOC_MAX_SIZE - MAX_BPF_STACK - sizeof(elem), U16_MAX - sizeof(elem))`.
///
/// The second bound keeps `elem_size` within its `u16`. Values whose `elem_size` exceeds
/// `KMALLOC_MAX_CACHE_SIZE` pass this check, but `kmalloc_nolock()` cannot allocate their
/// elements, so every creation fails with `ENOMEM`.
pub(super) const MAX_VALUE_SIZE: u32 = {
    let elem = size_of::<bindings::bpf_local_storage_elem>() as u64;
    let by_kmalloc = bindings::KMALLOC_MAX_SIZE as u64 - bindings::MAX_BPF_STACK as u64 - elem;
    let by_u16 = u16::MAX as u64 - elem;
    (if by_kmalloc < by_u16 {
        by_kmalloc
    } else {
        by_u16
    }) as u32
};

// The casts between `struct bpf_map *` and `struct bpf_local_storage_map *` rely on it.
static_assert!(core::mem::offset_of!(bindings::bpf_local_storage_map, map) == 0);

/// `offsetof(struct bpf_local_storage_elem, sdata.data)`: the size of an element without its
/// value.
const ELEM_HEADER_SIZE: usize = core::mem::offset_of!(bindings::bpf_local_storage_elem, sdata)
    + core::mem::offset_of!(bindings::bpf_local_storage_data, data);

// The layout bindgen gave the element is C's (`sdata` is `____cacheline_aligned` in C, which
// `elem_size`, `MAX_VALUE_SIZE` and every projection to the value depend on).
static_assert!(
    core::mem::offset_of!(bindings::bpf_local_storage_elem, sdata)
        == bindings::BPF_LOCAL_STORAGE_ELEM_SDATA_OFFSET
);
static_assert!(
    core::mem::offset_of!(bindings::bpf_local_storage_data, data)
        == bindings::BPF_LOCAL_STORAGE_DATA_DATA_OFFSET
);
static_assert!(
    size_of::<bindings::bpf_local_storage_elem>() == bindings::BPF_LOCAL_STORAGE_ELEM_SIZE
);

/// A local storage map, `struct bpf_local_storage_map`.
///
/// # Invariants
///
/// The map was set up by [`map_alloc`] and is not freed while the reference exists: `buckets`
/// points to `1 << bucket_log` initialised buckets, `bucket_log` is from 1 to 31, `cache_idx`
/// holds a [`CacheIdx`], and `elem_size`, `cache_idx` and `bucket_log` do not change. `map.ops`
/// is the storage type's `bpf_map_ops` (a static) once the map is visible to anybody but
/// [`map_alloc`].
#[repr(transparent)]
pub(super) struct Map(Opaque<bindings::bpf_local_storage_map>);

impl Map {
    /// Creates a reference to a [`Map`] from a raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` points to a map set up by [`map_alloc`] that stays valid for `'a`: the caller holds
    /// a reference to the map, or is in an RCU read-side critical section in which it found the
    /// map through one of its elements (map free waits for RCU readers before freeing the map).
    #[inline]
    pub(super) unsafe fn from_raw<'a>(ptr: *mut bindings::bpf_local_storage_map) -> &'a Self {
        // SAFETY: `Map` is `repr(transparent)` over `Opaque<bpf_local_storage_map>`, and the
        // caller guarantees that `ptr` is valid for `'a`.
        unsafe { &*ptr.cast() }
    }

    /// The raw pointer to the map.
    #[inline]
    pub(super) fn as_raw(&self) -> *mut bindings::bpf_local_storage_map {
        self.0.get()
    }

    /// `&smap->map`.
    #[inline]
    pub(super) fn bpf_map(&self) -> *mut bindings::bpf_map {
        let smap = self.as_raw();
        crate::ptr::project!(mut smap, .map)
    }

    /// `bpf_map_kmalloc_nolock(&smap->map, size, __GFP_ZERO, NUMA_NO_NODE)`: zeroed memory
    /// charged to the map's memory cgroup, from any context (NMI included), or NULL. Freed with
    /// `kfree()`, at most `KMALLOC_MAX_CACHE_SIZE` bytes.
    ///
    /// Every element, storage and index comes from here, so the allocation fault attribute
    /// (`CONFIG_FAIL_BPF_LOCAL_STORAGE`) is asked here: failslab does not reach
    /// `kmalloc_nolock()`.
    #[inline]
    pub(super) fn alloc_zeroed(&self, size: usize) -> *mut c_void {
        // Compiled out without the option: no call on the allocation path of production kernels.
        #[cfg(CONFIG_FAIL_BPF_LOCAL_STORAGE)]
        // SAFETY: The fault check may run in any context.
        if unsafe { bindings::bpf_local_storage_should_fail_alloc(size) } {
            return ptr::null_mut();
        }
        // SAFETY: `smap->map` is a valid map.
        unsafe {
            bindings::bpf_map_kmalloc_nolock(
                self.bpf_map(),
                size,
                bindings::__GFP_ZERO,
                bindings::NUMA_NO_NODE,
            )
        }
    }

    /// `smap->elem_size`: the size of an element of this map, value included.
    #[inline]
    pub(super) fn elem_size(&self) -> u32 {
        // SAFETY: By the type invariant `elem_size` does not change, so a plain read does not
        // race.
        u32::from(unsafe { (*self.as_raw()).elem_size })
    }

    /// `smap->cache_idx`: the cache slot of this map in every storage.
    #[inline]
    pub(super) fn cache_idx(&self) -> CacheIdx {
        // SAFETY: By the type invariant `cache_idx` does not change, so a plain read does not
        // race.
        CacheIdx::from_raw(unsafe { (*self.as_raw()).cache_idx })
    }

    /// `smap->map.record`: the special fields of the value (or NULL or an error pointer when
    /// there are none; the C functions that take it check).
    #[inline]
    pub(super) fn record(&self) -> *mut bindings::btf_record {
        // SAFETY: `record` is set when the map is created and only freed after `map_free`.
        unsafe { (*self.bpf_map()).record }
    }

    /// Whether the value has a field of type `field` (`btf_record_has_field()`).
    #[inline]
    pub(super) fn has_field(&self, field: bindings::btf_field_type) -> bool {
        // SAFETY: `btf_record_has_field()` accepts NULL and error pointers.
        unsafe { bindings::btf_record_has_field(self.record(), field) }
    }

    /// `smap->map.map_flags`: the flags the map was created with (`BPF_F_CLONE`, ...).
    #[inline]
    pub(super) fn flags(&self) -> u32 {
        // SAFETY: Set when the map is created, before anybody else can reach it, and never
        // changed: a plain read does not race.
        unsafe { (*self.bpf_map()).map_flags }
    }

    /// `smap->map.value_size`: the size of a value.
    #[inline]
    pub(super) fn value_size(&self) -> u32 {
        // SAFETY: As for `flags()`.
        unsafe { (*self.bpf_map()).value_size }
    }

    /// `smap->map.id`: the map's id, which user space knows it by.
    ///
    /// Set before the map can be found through a descriptor, cleared to 0 once the map has no
    /// reference left, which a caller that found the map through an element may see.
    #[inline]
    pub(super) fn id(&self) -> u32 {
        let map = self.bpf_map();
        // SAFETY: A `u32` of the valid map. `bpf_map_free_id()` may clear it concurrently with a
        // plain store: a marked load (`READ_ONCE()`) reads the id or 0.
        unsafe { Atomic::from_ptr(&raw mut (*map).id) }.load(Relaxed)
    }

    /// The storage type's operations, `smap->map.ops`.
    #[inline]
    pub(super) fn ops(&self) -> &bindings::bpf_map_ops {
        // SAFETY: By the type invariant `ops` points to the storage type's static, constant
        // `bpf_map_ops`.
        unsafe { &*(*self.bpf_map()).ops }
    }

    /// `bpf_local_storage_map_mem_usage()`: the map and its buckets; elements are not counted.
    pub(super) fn mem_usage(&self) -> u64 {
        size_of::<bindings::bpf_local_storage_map>() as u64
            + size_of::<bindings::bpf_local_storage_map_bucket>() as u64 * self.nbuckets() as u64
    }

    /// `smap->bucket_log`: there are `1 << bucket_log` buckets.
    #[inline]
    fn bucket_log(&self) -> u32 {
        // SAFETY: By the type invariant `bucket_log` does not change, so a plain read does not
        // race.
        unsafe { (*self.as_raw()).bucket_log }
    }

    /// `1 << bucket_log`: the number of buckets.
    #[inline]
    pub(super) fn nbuckets(&self) -> usize {
        1usize << self.bucket_log()
    }

    /// The bucket at index `i`.
    ///
    /// # Safety
    ///
    /// `i` is below [`Map::nbuckets`].
    #[inline]
    unsafe fn bucket_at(&self, i: usize) -> &Bucket {
        // SAFETY: By the type invariant `buckets` has `nbuckets()` initialised buckets, `i` is
        // below it (our contract), and they are freed with the map, after the borrow of `self`
        // ends. `Bucket` is `repr(transparent)` over `Opaque<bpf_local_storage_map_bucket>`.
        unsafe { &*(*self.as_raw()).buckets.add(i).cast::<Bucket>() }
    }

    /// The bucket of the elements of `storage`: `select_bucket()`.
    ///
    /// Keyed by the storage, not the element, so that an element and the one replacing it are
    /// in the same bucket ([`update`](super::update)). `storage` is only hashed.
    #[inline]
    pub(super) fn bucket(&self, storage: *const bindings::bpf_local_storage) -> &Bucket {
        // CAST: `hash_ptr(.., bits)` is below `1 << bits`, a `usize`.
        let i = hash::hash_ptr(storage, self.bucket_log()) as usize;
        // SAFETY: `bucket_log` is from 1 to 31 (type invariant), for which `hash_ptr()` returns
        // a value below `1 << bucket_log`. So no mask, which would cost five instructions on
        // every bucket lock.
        unsafe { self.bucket_at(i) }
    }

    /// The buckets, in order.
    pub(super) fn buckets(&self) -> impl Iterator<Item = &Bucket> {
        // SAFETY: `i` is below `nbuckets()`.
        (0..self.nbuckets()).map(move |i| unsafe { self.bucket_at(i) })
    }
}

/// A bucket of a local storage map, `struct bpf_local_storage_map_bucket`: an RCU list of
/// elements (through `map_node`) and the lock `B` that protects it.
///
/// # Invariants
///
/// The bucket is one of the buckets of a live map, initialised by [`map_alloc`].
#[repr(transparent)]
pub(super) struct Bucket(Opaque<bindings::bpf_local_storage_map_bucket>);

impl Bucket {
    /// `&b->list`: the elements of the bucket, through their `map_node`.
    #[inline]
    pub(super) fn list(&self) -> &Head<MapNode> {
        // SAFETY: The list head of the valid bucket, initialised by `map_alloc`.
        unsafe { Head::from_raw(&raw mut (*self.0.get()).list) }
    }

    /// `&b->lock`.
    #[inline]
    fn lock(&self) -> &RqSpinLockIrqSave<()> {
        // SAFETY: By the type invariant the lock was initialised by `map_alloc`, and it lives as
        // long as the bucket; it is only taken through the rqspinlock API.
        unsafe { Lock::from_raw(&raw mut (*self.0.get()).lock) }
    }

    /// Takes the bucket lock with interrupts saved and disabled.
    ///
    /// Fails with `EDEADLK` or `ETIMEDOUT`. Never call it with the lock of a storage whose
    /// elements may be in this bucket about to be taken: `S` nests outside `B`. With a storage
    /// lock held, use [`StorageGuard::lock_bucket`](super::storage::StorageGuard::lock_bucket).
    #[inline(always)]
    pub(super) fn lock_irqsave(&self) -> Result<BucketGuard<'_>> {
        let guard = self.lock().lock()?;
        // INVARIANT: `guard` holds the bucket's lock.
        Ok(BucketGuard {
            bucket: self,
            _guard: guard,
        })
    }
}

/// The lock of a [`Bucket`], held: the bucket list may be changed.
///
/// # Invariants
///
/// The current CPU holds the lock of `bucket`, through `_guard`.
#[must_use = "the bucket lock is released when the guard is dropped"]
pub(super) struct BucketGuard<'a> {
    bucket: &'a Bucket,
    _guard: RqSpinLockIrqSaveGuard<'a, ()>,
}

impl BucketGuard<'_> {
    /// The bucket list, locked.
    #[inline]
    fn list(&self) -> Locked<'_, MapNode> {
        // SAFETY: We hold the bucket's lock (type invariant) while `self` is borrowed.
        unsafe { Locked::new(self.bucket.list()) }
    }

    /// `selem` as an element on the bucket (`selem_linked_to_map()`, exact under the lock), or
    /// `None` if it is on none.
    ///
    /// # Safety
    ///
    /// `selem` is on this bucket's list or on none.
    #[inline]
    pub(super) unsafe fn claim<'e>(&self, selem: Selem<'e>) -> Option<OnList<'_, 'e, MapNode>> {
        // SAFETY: By the safety requirements.
        unsafe { self.list().claim(selem) }
    }

    /// Adds `selem` to the bucket: `bpf_selem_link_map_nolock()`. Returns it as an element on
    /// the bucket, for a caller that may have to take it off again under the same lock.
    ///
    /// # Safety
    ///
    /// `selem` is on no bucket list, belongs to a storage that hashes to this bucket of its
    /// map, and is not freed before it is unlinked again and an RCU grace period has elapsed.
    #[inline]
    pub(super) unsafe fn link<'e>(&self, selem: Selem<'e>) -> OnList<'_, 'e, MapNode> {
        // SAFETY: By the safety requirements.
        unsafe { self.list().add(selem) }
    }
}

/// Checks the attributes of a new local storage map: `bpf_local_storage_map_alloc_check()`.
///
/// No flags but `BPF_F_NO_PREALLOC` (required) and `BPF_F_CLONE`, no `max_entries`, an `int`
/// key, a non-empty value, and BTF for both (user space dumps socket storage with it).
pub(super) fn map_alloc_check(attr: &bindings::bpf_attr__bindgen_ty_1) -> Result {
    if attr.map_flags & !CREATE_FLAG_MASK != 0
        || attr.map_flags & bindings::BPF_F_NO_PREALLOC == 0
        || attr.max_entries != 0
        || attr.key_size as usize != size_of::<c_int>()
        || attr.value_size == 0
        || attr.btf_key_type_id == 0
        || attr.btf_value_type_id == 0
    {
        return Err(EINVAL);
    }
    if attr.value_size > MAX_VALUE_SIZE {
        return Err(E2BIG);
    }
    Ok(())
}

/// Allocates and initialises a local storage map: `bpf_local_storage_map_alloc()`.
///
/// `attr` is the map creation member of `union bpf_attr` (its first), for attributes that passed
/// [`map_alloc_check`].
pub(super) fn map_alloc(
    attr: &bindings::bpf_attr__bindgen_ty_1,
    cache: &Cache,
) -> Result<*mut bindings::bpf_map> {
    let value_size = attr.value_size;
    // `offsetof(struct bpf_local_storage_elem, sdata.data[attr->value_size])`; the creation
    // check keeps it below `U16_MAX`, so the error is only there not to truncate.
    let elem_size = u16::try_from(ELEM_HEADER_SIZE + value_size as usize).map_err(|_| E2BIG)?;

    // As many buckets as possible CPUs, rounded up to a power of two, and at least 2
    // (`hash_ptr(.., 0)` is undefined).
    let possible = Cpumask::possible().weight();
    let nbuckets = possible.checked_next_power_of_two().ok_or(ENOMEM)?.max(2);
    let bucket_log = nbuckets.ilog2();
    // CAST: `nbuckets` is at most `2^31`.
    let nbuckets = nbuckets as usize;

    // SAFETY: No requirements; the size is that of the map.
    let smap = unsafe {
        bindings::bpf_map_area_alloc(
            size_of::<bindings::bpf_local_storage_map>() as u64,
            bindings::NUMA_NO_NODE,
        )
    }
    .cast::<bindings::bpf_local_storage_map>();
    if smap.is_null() {
        return Err(ENOMEM);
    }
    // The union, for C: its first member is at its start. C only reads it.
    let attr = ptr::from_ref(attr).cast_mut().cast::<bindings::bpf_attr>();
    // SAFETY: `smap` was just allocated, large enough for the map, and `attr` is valid.
    unsafe { bindings::bpf_map_init_from_attr(&raw mut (*smap).map, attr) };

    // SAFETY: `smap->map` is initialised, and the size and count are those of the bucket array.
    let buckets = unsafe {
        bindings::bpf_map_kvcalloc(
            &raw mut (*smap).map,
            nbuckets,
            size_of::<bindings::bpf_local_storage_map_bucket>(),
            bindings::GFP_USER | bindings::__GFP_NOWARN,
        )
    }
    .cast::<bindings::bpf_local_storage_map_bucket>();
    if buckets.is_null() {
        // SAFETY: `smap` came from `bpf_map_area_alloc()` and nobody else knows it.
        unsafe { bindings::bpf_map_area_free(smap.cast()) };
        return Err(ENOMEM);
    }

    for i in 0..nbuckets {
        // SAFETY: `buckets` has `nbuckets` elements, only known to us. The lock is reached as an
        // `RqSpinLockIrqSave<()>` by `Bucket::lock()` (`Lock::from_raw()`), which has the layout
        // of the `rqspinlock_t` it initialises in place; the bucket array does not move.
        unsafe {
            let b = buckets.add(i);
            bindings::INIT_HLIST_HEAD(&raw mut (*b).list);
            pin_init::raw_init(
                (&raw mut (*b).lock).cast::<RqSpinLockIrqSave<()>>(),
                new_rqspinlock_irqsave!(()),
            );
        }
    }

    // INVARIANT: `buckets` has `1 << bucket_log` initialised buckets, `bucket_log` from 1 to 31;
    // `cache_idx` is stored from a `CacheIdx`; the fields set here do not change afterwards.
    // `map.ops` is set by the caller (`map_create()`) before the map is visible.
    // SAFETY: `smap` is valid and only known to us.
    unsafe {
        (*smap).buckets = buckets;
        (*smap).bucket_log = bucket_log;
        (*smap).elem_size = elem_size;
        (*smap).cache_idx = cache.idx_get().as_raw();
        Ok(&raw mut (*smap).map)
    }
}

/// Frees a local storage map: `bpf_local_storage_map_free()`.
///
/// Called from the workqueue of `bpf_map_put()` (process context, migration disabled), once no
/// program and no file descriptor can reach the map.
///
/// # Safety
///
/// `map` is a local storage map of the storage type of `cache`, unreachable by new users, and
/// freed by nobody else.
pub(super) unsafe fn map_free(map: *mut bindings::bpf_map, cache: &Cache) {
    // SAFETY: The map is valid until we free it below, after the last use of `smap`; `map` is
    // the first member of `struct bpf_local_storage_map` (asserted above).
    let smap = unsafe { Map::from_raw(map.cast()) };
    cache.idx_free(smap.cache_idx());

    // The map may still be cloned by `bpf_sk_storage_clone()`, which found it under RCU and
    // takes a reference with `bpf_map_inc_not_zero()` (which now fails). Wait for those RCU
    // read sections before walking the buckets: afterwards nobody adds elements to this map.
    rcu::synchronize_rcu();

    // Unlink and free every element; owners being freed at the same time race with this
    // through the teardown protocol.
    // SAFETY: The map is unreachable and nobody adds elements to it any more (above); we are in
    // process context (the map free workqueue) and hold no lock.
    unsafe { teardown::drain_map(smap) };

    // Owners may still be in `bpf_local_storage_destroy()` with elements of this map that they
    // found before we unlinked them, and read `smap` through them (`elem_size`, `cache_idx`,
    // the bucket lock). They are in RCU read sections: wait for them.
    rcu::synchronize_rcu();

    // The RCU Tasks Trace callbacks of deleted elements read `smap` to free the special fields
    // (`bpf_selem_free()` with `reuse_now == false`), and `kfree_rcu()` callbacks of elements
    // allocated from this map's memcg account may be pending: wait for both kinds, whatever the
    // allocator.
    // SAFETY: Process context; `rcu_barrier_tasks_trace()` may sleep.
    unsafe { bindings::bpf_local_storage_rcu_barrier_tasks_trace() };
    rcu::rcu_barrier();

    let smap = smap.as_raw();
    // SAFETY: Nothing references the map or its buckets any more; they came from
    // `bpf_map_kvcalloc()` and `bpf_map_area_alloc()`.
    unsafe {
        bindings::kvfree((*smap).buckets.cast());
        bindings::bpf_map_area_free(smap.cast());
    }
}

#[cfg(CONFIG_RUST_BPF_KUNIT_TEST)]
#[kunit_tests(rust_bpf_local_storage_map)]
mod tests {
    use super::*;

    /// Attributes that pass the check.
    fn good_attr() -> bindings::bpf_attr__bindgen_ty_1 {
        bindings::bpf_attr__bindgen_ty_1 {
            key_size: 4,
            value_size: 8,
            map_flags: bindings::BPF_F_NO_PREALLOC,
            btf_key_type_id: 1,
            btf_value_type_id: 2,
            ..Default::default()
        }
    }

    #[test]
    fn alloc_check_accepts_the_usual_map() {
        assert!(map_alloc_check(&good_attr()).is_ok());
        let attr = bindings::bpf_attr__bindgen_ty_1 {
            map_flags: CREATE_FLAG_MASK,
            ..good_attr()
        };
        assert!(map_alloc_check(&attr).is_ok());
    }

    #[test]
    fn alloc_check_errors_match_c() {
        let cases = [
            bindings::bpf_attr__bindgen_ty_1 {
                map_flags: 0,
                ..good_attr()
            },
            bindings::bpf_attr__bindgen_ty_1 {
                map_flags: CREATE_FLAG_MASK | bindings::BPF_F_RDONLY,
                ..good_attr()
            },
            bindings::bpf_attr__bindgen_ty_1 {
                max_entries: 1,
                ..good_attr()
            },
            bindings::bpf_attr__bindgen_ty_1 {
                key_size: 8,
                ..good_attr()
            },
            bindings::bpf_attr__bindgen_ty_1 {
                value_size: 0,
                ..good_attr()
            },
            bindings::bpf_attr__bindgen_ty_1 {
                btf_key_type_id: 0,
                ..good_attr()
            },
            bindings::bpf_attr__bindgen_ty_1 {
                btf_value_type_id: 0,
                ..good_attr()
            },
        ];
        for attr in &cases {
            assert_eq!(map_alloc_check(attr), Err(EINVAL));
        }
        let attr = bindings::bpf_attr__bindgen_ty_1 {
            value_size: MAX_VALUE_SIZE,
            ..good_attr()
        };
        assert!(map_alloc_check(&attr).is_ok());
        let attr = bindings::bpf_attr__bindgen_ty_1 {
            value_size: MAX_VALUE_SIZE + 1,
            ..good_attr()
        };
        assert_eq!(map_alloc_check(&attr), Err(E2BIG));
    }

    #[test]
    fn largest_value_still_fits_elem_size() {
        assert!(ELEM_HEADER_SIZE + MAX_VALUE_SIZE as usize <= u16::MAX as usize);
    }
}
