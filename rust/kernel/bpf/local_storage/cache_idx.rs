// SPDX-License-Identifier: GPL-2.0

//! The cache index allocator of a storage type.
//!
//! Every storage has 16 cache slots (`cache[]`); every map of a storage type uses one of them,
//! its `cache_idx`, to find its element of an owner without walking the owner's list. With more
//! than 16 maps, maps share slots, and the map that used a slot last wins it (lookups check
//! `sdata->smap`). To spread maps over the slots, each storage type counts how many of its maps
//! use each slot (`struct bpf_local_storage_cache`, one static instance per storage type, defined
//! in C by `DEFINE_BPF_STORAGE_CACHE()`), and a new map takes the least used slot.
//!
//! The choice is [`UsageCounts`], a plain type tested below; [`Cache`] applies it to the C
//! object under its spinlock, as `bpf_local_storage_cache_idx_get()` and `_free()` do. A slot is
//! a [`CacheIdx`], which is in range by construction: the lookups and cache inserts that index
//! `cache[]` with it need no bounds check.
//!
//! C header: [`include/linux/bpf_local_storage.h`](srctree/include/linux/bpf_local_storage.h)

use super::CACHE_SIZE;
use crate::{
    bindings,
    prelude::*,
    sync::SpinLock,
    types::Opaque, //
};

/// A cache slot: an index of a storage's `cache[]`, kept in `smap->cache_idx`.
///
/// # Invariants
///
/// The index is below [`CACHE_SIZE`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) struct CacheIdx(u16);

// `from_raw()` reduces an index to a slot with a mask.
static_assert!(CACHE_SIZE.is_power_of_two() && CACHE_SIZE <= 1 << 16);

impl CacheIdx {
    /// The slot of the C `smap->cache_idx`.
    ///
    /// C stores only indexes taken from a [`CacheIdx`], which the mask leaves as they are; it
    /// makes the invariant hold without trusting the C side, for the price of one `and`.
    #[inline]
    pub(super) const fn from_raw(idx: u16) -> Self {
        // CAST: `CACHE_SIZE` fits in a `u16` (asserted above).
        // INVARIANT: The mask keeps the index below `CACHE_SIZE`, a power of two.
        Self(idx & (CACHE_SIZE as u16 - 1))
    }

    /// The slot as the C `u16`, to store in `smap->cache_idx`.
    #[inline]
    pub(super) const fn as_raw(self) -> u16 {
        self.0
    }

    /// The slot as an index of `cache[]`.
    #[inline]
    pub(super) fn index(self) -> usize {
        // The type invariant, restated as a mask the compiler can see: it drops the range checks
        // of the callers, and the mask is no instruction where the index is a known constant.
        usize::from(self.0) & (CACHE_SIZE - 1)
    }
}

/// How many maps of a storage type use each cache slot: `idx_usage_counts[]`.
#[repr(transparent)]
#[derive(PartialEq, Eq)]
pub(super) struct UsageCounts([u64; CACHE_SIZE]);

impl UsageCounts {
    /// Counts with no slot in use.
    #[cfg(CONFIG_RUST_BPF_KUNIT_TEST)]
    const fn new() -> Self {
        Self([0; CACHE_SIZE])
    }

    /// Views the C array as [`UsageCounts`].
    #[inline]
    pub(super) fn from_mut(counts: &mut [u64; CACHE_SIZE]) -> &mut Self {
        // SAFETY: `UsageCounts` is `repr(transparent)` over `[u64; CACHE_SIZE]`, and the result
        // borrows `counts` mutably for as long as it lives.
        unsafe { &mut *core::ptr::from_mut(counts).cast::<Self>() }
    }

    /// Takes the least used slot, the lowest one on a tie, and counts one more user of it:
    /// `bpf_local_storage_cache_idx_get()`.
    ///
    /// The scan stops at the first unused slot, which no other slot can beat.
    pub(super) fn get(&mut self) -> CacheIdx {
        let mut min_usage = u64::MAX;
        let mut res = 0;

        for (i, &usage) in self.0.iter().enumerate() {
            if usage < min_usage {
                min_usage = usage;
                res = i;
                if min_usage == 0 {
                    break;
                }
            }
        }
        // `res` is an index of the array; the C counter is a `u64` that 2^64 maps cannot
        // overflow, but wrap like C rather than panic.
        self.0[res] = self.0[res].wrapping_add(1);
        // CAST: `res < CACHE_SIZE`, which fits in a `u16` (asserted below).
        // INVARIANT: `res` is an index of the array, so it is below `CACHE_SIZE`.
        CacheIdx(res as u16)
    }

    /// Counts one user less of slot `idx`: `bpf_local_storage_cache_idx_free()`.
    pub(super) fn put(&mut self, idx: CacheIdx) {
        let usage = &mut self.0[idx.index()];
        // Like the C `--`: a `put()` without its `get()` is a bug elsewhere, not a reason to panic
        // here.
        *usage = usage.wrapping_sub(1);
    }

    /// The counts, for the tests.
    #[cfg(CONFIG_RUST_BPF_KUNIT_TEST)]
    fn counts(&self) -> &[u64; CACHE_SIZE] {
        &self.0
    }
}

// A [`CacheIdx`] is a `u16` below `CACHE_SIZE`, as `cache_idx` is a `u16` in C.
static_assert!(CACHE_SIZE > 0 && CACHE_SIZE <= u16::MAX as usize);

/// The cache index allocator of a storage type, `struct bpf_local_storage_cache`.
///
/// # Invariants
///
/// The C object is initialised (its `idx_lock` by `DEFINE_BPF_STORAGE_CACHE()`), lives as long
/// as the kernel (it is a static of the storage type's file), and `idx_usage_counts` is only
/// accessed with `idx_lock` held.
#[repr(transparent)]
pub(super) struct Cache(Opaque<bindings::bpf_local_storage_cache>);

impl Cache {
    /// Creates a reference to a [`Cache`] from a pointer to the C object.
    ///
    /// # Safety
    ///
    /// `ptr` points to a `struct bpf_local_storage_cache` defined with
    /// `DEFINE_BPF_STORAGE_CACHE()`, valid for `'a`, whose counts are only accessed through
    /// [`Cache`] (with `CONFIG_BPF_LOCAL_STORAGE_RUST`, the C accessors are not built).
    #[inline]
    pub(super) unsafe fn from_raw<'a>(ptr: *mut bindings::bpf_local_storage_cache) -> &'a Self {
        // SAFETY: `Cache` is `repr(transparent)` over `Opaque<bpf_local_storage_cache>`, and the
        // caller guarantees that `ptr` is valid for `'a`.
        unsafe { &*ptr.cast() }
    }

    /// Runs `f` on the usage counts with `idx_lock` held.
    ///
    /// `idx_lock` is a plain `spinlock_t`: maps are created and freed in process context only.
    fn with_counts<T>(&self, f: impl FnOnce(&mut UsageCounts) -> T) -> T {
        // SAFETY: By the type invariant, `idx_lock` is an initialised `spinlock_t` that lives as
        // long as `self`.
        let lock = unsafe { SpinLock::<()>::from_raw(&raw mut (*self.0.get()).idx_lock) };
        let _guard = lock.lock();
        // SAFETY: By the type invariant the counts are only accessed with `idx_lock` held, which
        // we hold until `_guard` is dropped, after the last use of `counts`.
        let counts = unsafe { &mut (*self.0.get()).idx_usage_counts };
        f(UsageCounts::from_mut(counts))
    }

    /// Picks the cache slot of a new map: `bpf_local_storage_cache_idx_get()`.
    pub(super) fn idx_get(&self) -> CacheIdx {
        self.with_counts(UsageCounts::get)
    }

    /// Releases the cache slot of a map being freed: `bpf_local_storage_cache_idx_free()`.
    pub(super) fn idx_free(&self, idx: CacheIdx) {
        self.with_counts(|counts| counts.put(idx))
    }
}

#[cfg(CONFIG_RUST_BPF_KUNIT_TEST)]
#[kunit_tests(rust_bpf_local_storage_cache_idx)]
mod tests {
    use super::*;

    /// Takes `N` slots in a row.
    fn take<const N: usize>(counts: &mut UsageCounts) -> [CacheIdx; N] {
        core::array::from_fn(|_| counts.get())
    }

    #[test]
    fn fresh_counts_hand_out_every_slot_in_order() {
        let mut counts = UsageCounts::new();
        for i in 0..CACHE_SIZE {
            assert_eq!(counts.get().index(), i);
        }
        assert!(counts.counts().iter().all(|&n| n == 1));
    }

    #[test]
    fn seventeenth_map_shares_the_first_slot() {
        let mut counts = UsageCounts::new();
        take::<CACHE_SIZE>(&mut counts);
        // All slots are used once: the tie goes to the lowest slot.
        assert_eq!(counts.get().index(), 0);
        assert_eq!(counts.get().index(), 1);
        assert_eq!(counts.counts()[0], 2);
        assert_eq!(counts.counts()[1], 2);
        assert_eq!(counts.counts()[2], 1);
    }

    #[test]
    fn freed_slot_is_reused_first() {
        let mut counts = UsageCounts::new();
        let held = take::<CACHE_SIZE>(&mut counts);
        counts.put(held[7]);
        assert_eq!(counts.get(), held[7]);
        counts.put(held[3]);
        counts.put(held[12]);
        // The first unused slot wins.
        assert_eq!(counts.get(), held[3]);
        assert_eq!(counts.get(), held[12]);
    }

    #[test]
    fn least_used_slot_wins() {
        let mut counts = UsageCounts::new();
        // Three rounds over all slots, then free two users of slot 9 and one of slot 4.
        let held = take::<{ 3 * CACHE_SIZE }>(&mut counts);
        counts.put(held[4]);
        counts.put(held[9]);
        counts.put(held[CACHE_SIZE + 9]);
        assert_eq!(counts.get().index(), 9);
        // Slots 4 and 9 are now both used twice: the lower one wins.
        assert_eq!(counts.get().index(), 4);
        assert_eq!(counts.counts()[4], 3);
        assert_eq!(counts.counts()[9], 2);
    }

    #[test]
    fn get_then_put_restores_the_counts() {
        let mut counts = UsageCounts::new();
        for slot in take::<40>(&mut counts) {
            counts.put(slot);
        }
        assert_eq!(counts, UsageCounts::new());
    }

    #[test]
    fn slots_stay_in_range_under_churn() {
        let mut counts = UsageCounts::new();
        let mut held = take::<{ 2 * CACHE_SIZE + 5 }>(&mut counts);
        // Free and retake every third slot a few times: the counts become uneven, and every slot
        // handed out must still index `cache[]`.
        for round in 0..4 {
            for slot in held.iter_mut().skip(round).step_by(3) {
                counts.put(*slot);
                *slot = counts.get();
                assert!(usize::from(slot.as_raw()) < CACHE_SIZE);
            }
        }
        assert_eq!(counts.counts().iter().sum::<u64>(), held.len() as u64);
    }

    #[test]
    fn view_of_the_c_array_is_the_same_memory() {
        let mut raw = [5u64; CACHE_SIZE];
        raw[6] = 2;
        assert_eq!(UsageCounts::from_mut(&mut raw).get().index(), 6);
        assert_eq!(raw[6], 3);
    }
}
