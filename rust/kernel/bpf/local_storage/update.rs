// SPDX-License-Identifier: GPL-2.0

//! Creating and updating an owner's element of a map: `bpf_local_storage_update()`.
//!
//! The C function `bpf_local_storage_update()` is in `kernel/bpf/bpf_local_storage_rust.c`, a
//! `noinline` wrapper of `rust_bpf_local_storage_update()` ([`export`]): the selftests attach
//! fentry and fexit programs to it by name, and read its arguments through its BTF.
//!
//! C header: [`include/linux/bpf_local_storage.h`](srctree/include/linux/bpf_local_storage.h)
//!
//! [`export`]: mod@super::export

use super::{
    element::NewSelem,
    owner::{
        LockedValue,
        OwnerValue, //
    },
    storage::Storage, //
};
use crate::{
    bindings,
    prelude::*,
    sync::atomic::Relaxed, //
};

/// `BPF_F_LOCK`.
const F_LOCK: u64 = bindings::BPF_F_LOCK as u64;
/// `BPF_NOEXIST`.
const NOEXIST: u64 = bindings::BPF_NOEXIST as u64;
/// `BPF_EXIST`.
const EXIST: u64 = bindings::BPF_EXIST as u64;

/// Checks the update flags against whether an element exists: `check_flags()`.
///
/// `EEXIST` for `BPF_NOEXIST` on an existing element, `ENOENT` for `BPF_EXIST` on a missing
/// one; `BPF_F_LOCK` is ignored here.
fn check_flags(exists: bool, map_flags: u64) -> Result {
    let flags = map_flags & !F_LOCK;
    if exists && flags == NOEXIST {
        return Err(EEXIST);
    }
    if !exists && flags == EXIST {
        return Err(ENOENT);
    }
    Ok(())
}

/// Checks the flags on their own: `BPF_EXIST` and `BPF_NOEXIST` are exclusive, and
/// `BPF_F_LOCK` needs a value with a `struct bpf_spin_lock` in it. Returns that value for
/// `BPF_F_LOCK`.
fn check_update_flags<'a>(new: &OwnerValue<'a>, map_flags: u64) -> Result<Option<LockedValue<'a>>> {
    if map_flags & !F_LOCK > EXIST {
        return Err(EINVAL);
    }
    if map_flags & F_LOCK == 0 {
        return Ok(None);
    }
    new.for_locked_copy().map(Some)
}

/// Creates or replaces the owner's element of the map with the value of `new`:
/// `bpf_local_storage_update()`.
///
/// Returns the element's data (the new element, or the existing one updated in place with
/// `BPF_F_LOCK`). Fails with `EINVAL` (flags), `EEXIST`/`ENOENT` (`BPF_NOEXIST`/`BPF_EXIST`),
/// `ENOMEM` (charge or allocation), `EAGAIN` (a concurrent first update or last delete of the
/// owner's storage), or a lock error (`EDEADLK`, `ETIMEDOUT`).
///
/// The owner must not start going away during the call: its callers hold a reference, or
/// checked that it is not dying (the `MapOwner` promise).
pub(super) fn update(
    new: &OwnerValue<'_>,
    map_flags: u64,
) -> Result<*mut bindings::bpf_local_storage_data> {
    let owner = new.owner();
    let smap = owner.map();
    let locked = check_update_flags(new, map_flags)?;

    let slot = owner.storage_slot().ok_or(EINVAL)?;
    // `rcu_dereference()`: the storage was initialised before the `cmpxchg()` that published
    // it, and we only follow the pointer (address dependency).
    let storage = slot.load(Relaxed);
    let storage = if storage.is_null() {
        None
    } else {
        // SAFETY: A storage read from the owner in our RCU read section (`MapOwner` invariant)
        // stays allocated until the section ends.
        Some(unsafe { Storage::from_raw(storage) })
    };

    // `None`: the owner's first element, to allocate with a new storage. An empty storage is
    // still published while its last delete finishes: the publication then fails with
    // `EAGAIN`, rather than waiting.
    let storage = storage.filter(|storage| !storage.is_empty_lockless());
    match storage {
        None => check_flags(false, map_flags)?,
        Some(storage) => {
            if let Some(locked) = locked.filter(|_| map_flags & NOEXIST == 0) {
                // Try an in-place update without the storage lock or the lists.
                let old = storage.lookup(smap);
                check_flags(old.is_some(), map_flags)?;
                if let Some(old) = old {
                    if old.linked_to_storage_lockless() {
                        locked.copy_to(old)?;
                        return Ok(old.sdata());
                    }
                }
            }
        }
    }

    // Allocate the new element before taking any lock, to keep the critical sections short; a
    // wasted allocation (a flag check failing under the lock) is rare. It is dropped on every error
    // below, after the guards, which uncharges and frees it. (One call for both paths:
    // `NewSelem::alloc()` is inlined.)
    let selem = NewSelem::alloc(new).ok_or(ENOMEM)?;
    let Some(storage) = storage else {
        // On failure it drops the element, which frees and uncharges it.
        // SAFETY: `slot` is `selem`'s owner's, found above.
        let selem = unsafe { super::storage::alloc(selem, slot) }?;
        return Ok(selem.sdata());
    };

    let (sdata, old, retired) = {
        let guard = storage.lock_irqsave()?;

        // A concurrent delete of the last element is detaching the storage: give up with
        // `EAGAIN` rather than retry; it was non-empty a moment ago.
        if guard.is_empty() {
            return Err(EAGAIN);
        }

        let (old, past_cache) = guard.lookup_for_update(smap);
        check_flags(old.is_some(), map_flags)?;

        if let (Some(old), Some(locked)) = (old, locked) {
            locked.copy_to(old)?;
            // `selem` is freed on return.
            return Ok(old.sdata());
        }

        // Old and new elements are in the same bucket: it is chosen by the storage.
        let bucket = guard.lock_bucket(smap.bucket(storage.as_raw()))?;

        // From here on nothing fails. First link the new element to the map, then publish it in
        // the storage, which owns it from then on.
        // SAFETY: A new element is on no list, of the live `smap`, and its storage hashes to
        // this bucket; it is linked to its storage just below, before anything can fail.
        unsafe { bucket.link(selem.selem()) };
        let (linked, retired) = guard.link(selem, past_cache);

        // Then remove the old one. It cannot be the last element: `linked` was just linked.
        // (A `match`, not `Option::and_then()`: the closure made that an out-of-line call on
        // every update, most of which replace nothing.)
        let old = match old {
            None => None,
            Some(old) => {
                // SAFETY: `old`'s storage is ours, which hashes to this bucket.
                if let Some(on_map) = unsafe { bucket.claim(old) } {
                    on_map.del();
                }
                guard.claim(old).map(|on_storage| {
                    // SAFETY: Just unlinked from its map `smap`; the owner is alive. Nobody
                    // else frees it: it is off both lists.
                    let (unlinked, _last) = unsafe { guard.unlink(on_storage, smap) };
                    unlinked
                })
            }
        };

        (linked.sdata(), old, retired)
        // The bucket lock, then the storage lock, are released here, before the frees.
    };
    // Free the replaced element, and the index the link replaced, after an RCU Tasks Trace
    // grace period. (Dropping the `Option` itself was an out-of-line call on every update, most
    // of which replace nothing.)
    if let Some(old) = old {
        drop(old);
    }
    drop(retired);

    Ok(sdata)
}

#[cfg(CONFIG_RUST_BPF_KUNIT_TEST)]
#[kunit_tests(rust_bpf_local_storage_update)]
mod tests {
    use super::*;

    #[test]
    fn check_flags_matches_c() {
        let any = u64::from(bindings::BPF_ANY);
        for lock in [0, F_LOCK] {
            assert_eq!(check_flags(false, any | lock), Ok(()));
            assert_eq!(check_flags(true, any | lock), Ok(()));
            assert_eq!(check_flags(false, NOEXIST | lock), Ok(()));
            assert_eq!(check_flags(true, NOEXIST | lock), Err(EEXIST));
            assert_eq!(check_flags(false, EXIST | lock), Err(ENOENT));
            assert_eq!(check_flags(true, EXIST | lock), Ok(()));
        }
    }
}
