// SPDX-License-Identifier: GPL-2.0

//! The entry points of the local-storage core, for C: the functions of
//! `kernel/bpf/bpf_local_storage_rust.h`, in its order.
//!
//! Each converts the C arguments into the core's types, calls the core, and converts its
//! [`Result`] back into a C return value. `kernel/bpf/bpf_local_storage_rust.c` wraps each in the
//! C function of `include/linux/bpf_local_storage.h` that it implements, which keeps the C name
//! and its BTF.
//!
//! C header: [`kernel/bpf/bpf_local_storage_rust.h`](srctree/kernel/bpf/bpf_local_storage_rust.h)

use super::{
    cache_idx::Cache,
    element::Selem,
    map::{
        self,
        Map, //
    },
    owner::{
        MapOwner,
        OwnerValue, //
    },
    storage::{
        Dying,
        Storage, //
    },
    teardown, update,
};
use crate::{
    bindings,
    error::from_result,
    prelude::*, //
};
use core::ptr;

/// `bpf_local_storage_map_alloc_check()`.
///
/// # Safety
///
/// `attr` points to valid map creation attributes.
#[export]
unsafe extern "C" fn rust_bpf_local_storage_map_alloc_check(
    attr: *mut bindings::bpf_attr,
) -> c_int {
    // SAFETY: `attr` is valid, and map creation uses the first member of the union.
    let attr = unsafe { &(*attr).__bindgen_anon_1 };
    from_result(|| {
        map::map_alloc_check(attr)?;
        Ok(0)
    })
}

/// `bpf_local_storage_map_alloc()`: returns the new map or an `ERR_PTR()`.
///
/// # Safety
///
/// `attr` points to map creation attributes that passed the check; `cache` is the storage
/// type's `DEFINE_BPF_STORAGE_CACHE()` object.
#[export]
unsafe extern "C" fn rust_bpf_local_storage_map_alloc(
    attr: *mut bindings::bpf_attr,
    cache: *mut bindings::bpf_local_storage_cache,
) -> *mut bindings::bpf_map {
    // SAFETY: By the safety requirements; map creation uses the first member of the union.
    let (attr, cache) = unsafe { (&(*attr).__bindgen_anon_1, Cache::from_raw(cache)) };
    match map::map_alloc(attr, cache) {
        Ok(map) => map,
        Err(e) => e.to_ptr(),
    }
}

/// `bpf_local_storage_map_free()`.
///
/// # Safety
///
/// `map` is a local storage map allocated with `cache`, that nothing can reach any more (its
/// `map_free` operation is being called); `cache` is the storage type's cache object.
#[export]
unsafe extern "C" fn rust_bpf_local_storage_map_free(
    map: *mut bindings::bpf_map,
    cache: *mut bindings::bpf_local_storage_cache,
) {
    // SAFETY: By the safety requirements.
    unsafe { map::map_free(map, Cache::from_raw(cache)) }
}

/// `bpf_local_storage_map_check_btf()`: the key must be a 32-bit integer.
///
/// # Safety
///
/// `key_type` points to a valid BTF type.
#[export]
unsafe extern "C" fn rust_bpf_local_storage_map_check_btf(
    _map: *mut bindings::bpf_map,
    _btf: *const bindings::btf,
    key_type: *const bindings::btf_type,
    _value_type: *const bindings::btf_type,
) -> c_int {
    from_result(|| {
        // SAFETY: `key_type` is valid by the safety requirements.
        if !unsafe { bindings::btf_type_is_i32(key_type) } {
            return Err(EINVAL);
        }
        Ok(0)
    })
}

/// `bpf_local_storage_map_mem_usage()`: the map and its buckets; elements are not counted.
///
/// # Safety
///
/// `map` is a valid local storage map.
#[export]
unsafe extern "C" fn rust_bpf_local_storage_map_mem_usage(map: *const bindings::bpf_map) -> u64 {
    // SAFETY: `map` is a valid local storage map by the safety requirements, the first member of
    // its `struct bpf_local_storage_map`.
    let smap = unsafe { Map::from_raw(map.cast_mut().cast()) };
    smap.mem_usage()
}

/// `__bpf_local_storage_insert_cache()`: caches `selem` in `local_storage` for `smap` lookups,
/// under the storage lock; silently skipped if the lock cannot be taken (the lookup that found
/// the element still succeeds).
///
/// # Safety
///
/// Called by `bpf_local_storage_lookup()` on an element of `smap` it found on the list of
/// `local_storage`, in the RCU read-side critical section of the lookup.
#[export]
unsafe extern "C" fn rust_bpf_local_storage_insert_cache(
    local_storage: *mut bindings::bpf_local_storage,
    smap: *mut bindings::bpf_local_storage_map,
    selem: *mut bindings::bpf_local_storage_elem,
) {
    // SAFETY: By the safety requirements the three are valid for the call.
    let (storage, smap, selem) = unsafe {
        (
            Storage::from_raw(local_storage),
            Map::from_raw(smap),
            Selem::from_raw(selem),
        )
    };
    storage.cache(selem, smap);
}

/// `bpf_local_storage_lookup_slow()`: the lookup of `smap`'s element in `local_storage` once
/// it missed the cache, through the index or the list. Returns its data, or NULL.
///
/// # Safety
///
/// Called by `bpf_local_storage_lookup()` on a storage and a live map, in an RCU read-side
/// critical section (regular or Tasks Trace) that keeps the storage allocated.
#[export]
unsafe extern "C" fn rust_bpf_local_storage_lookup_slow(
    local_storage: *mut bindings::bpf_local_storage,
    smap: *mut bindings::bpf_local_storage_map,
    cacheit_lockit: bool,
) -> *mut bindings::bpf_local_storage_data {
    // SAFETY: By the safety requirements both are valid for the call.
    let (storage, smap) = unsafe { (Storage::from_raw(local_storage), Map::from_raw(smap)) };
    storage
        .lookup_slow(smap, cacheit_lockit)
        .map_or(ptr::null_mut(), Selem::sdata)
}

/// `bpf_local_storage_destroy()`.
///
/// # Safety
///
/// `local_storage` is the storage of an owner that is being freed: no program or system call
/// can add or remove its elements any more, and nobody else destroys it. The caller is in a
/// regular RCU read-side critical section that it entered before reading the owner's pointer to
/// `local_storage`.
#[export]
unsafe extern "C" fn rust_bpf_local_storage_destroy(
    local_storage: *mut bindings::bpf_local_storage,
) -> u32 {
    // SAFETY: By the safety requirements: the storage stays allocated during the caller's RCU
    // read section, and its owner is being freed.
    let dying = unsafe { Dying::new(Storage::from_raw(local_storage)) };
    teardown::destroy(dying)
}

/// The destroy work on a storage that `bpf_local_storage_destroy()` queued.
///
/// # Safety
///
/// `local_storage` was queued by `bpf_local_storage_destroy()` (through
/// `bpf_local_storage_queue_destroy()`) and is passed once, by the destroy work: process context,
/// no lock held.
#[export]
unsafe extern "C" fn rust_bpf_local_storage_destroy_deferred(
    local_storage: *mut bindings::bpf_local_storage,
) {
    // SAFETY: A queued storage stays allocated until the destroy work frees it, or until map
    // free does after the work set `DESTROY_DONE`: after this call. The rest is our contract.
    unsafe { teardown::destroy_deferred(Storage::from_raw(local_storage)) }
}

/// `bpf_local_storage_update()`: returns the element's data or an `ERR_PTR()`.
///
/// # Safety
///
/// `smap` is a live local storage map and `owner` a live owner of its storage type that cannot
/// start going away during the call; `value` is NULL or points to `value_size` readable (with
/// `swap_uptrs`, writable) bytes, and is not NULL with `BPF_F_LOCK`. The caller is in an RCU
/// read-side critical section (regular or Tasks Trace).
#[export]
unsafe extern "C" fn rust_bpf_local_storage_update(
    owner: *mut c_void,
    smap: *mut bindings::bpf_local_storage_map,
    value: *mut c_void,
    map_flags: u64,
    swap_uptrs: bool,
) -> *mut bindings::bpf_local_storage_data {
    // SAFETY: By the safety requirements: a live map, a live owner that stays so for the call,
    // a value of the map, in an RCU read section.
    let new = unsafe {
        let owner = MapOwner::new(Map::from_raw(smap), owner);
        OwnerValue::new(owner, value, swap_uptrs)
    };
    match update::update(&new, map_flags) {
        Ok(sdata) => sdata,
        Err(e) => e.to_ptr(),
    }
}
