// SPDX-License-Identifier: GPL-2.0

//! The index of a storage's elements by map: lookups that miss the cache.
//!
//! A storage caches one element per cache slot, and a map owns one of the 16 slots. With more
//! maps than slots, maps share slots and evict each other, and a lookup that misses walks the
//! owner's whole list, then takes the storage lock to cache what it found. An owner with more
//! elements than slots therefore gets an index: an open-addressing hash table of its elements,
//! keyed by the address of their map, published in `local_storage->index` with RCU.
//!
//! - *Readers* ([`Index::find`]) hash the map's address, then probe slots without a lock, in
//!   the RCU read section (regular or Tasks Trace) that keeps the storage and its elements
//!   allocated, until they meet an element of the map or an empty slot. They take the lock
//!   only to fill an empty cache slot; a slot that holds another map's element is left alone,
//!   so maps that share a slot no longer evict each other.
//! - *Writers* hold the storage lock ([`Writer`]): a linked element is put in the index, an
//!   unlinked one becomes a tombstone (a probe goes on past it), an element that replaces one
//!   of the same map takes its slot. An index that would be too full, or whose probes would be
//!   too long, is rebuilt from the storage list into a new one, which is published with a
//!   release store; the old one is retired and freed after an RCU Tasks Trace grace period
//!   ([`Retired`]), once the lock is released.
//!
//! Owners with at most [`BUILD_ABOVE`] elements have no index and pay nothing for it in
//! memory: their lookups walk the list on a cache miss, as without the index. The index is
//! built when an update links an element to a list that its walk counted at [`BUILD_ABOVE`]
//! elements, and dropped when deletes bring the owner down to [`DROP_AT`], so that an owner
//! that hovers around the limit does not build and free an index on every change.
//!
//! The index only speeds lookups up: lookups and writers walk the list when a storage has
//! none. So whatever cannot be done in the context of a change is given up rather than
//! failed: an index that cannot grow (allocation failure, or NMI, where the old one could not
//! be retired) is *disabled*, a tag in the low bit of `local_storage->index` that sends readers
//! to the list until the next writer outside NMI rebuilds or drops it.
//!
//! # Layout
//!
//! A [`Root`] (96 bytes) points to up to [`MAX_TABLES`] tables of up to 512 slots (4 KiB, so
//! that `kmalloc_nolock()`, which works in any context, can allocate them). The high bits of a
//! map's hash choose its table and its first slot; probes stay in that table. An owner with 17
//! elements has one table of 64 slots (608 bytes in all), 100 elements one of 256 slots, 1,000
//! elements four of 512 (16.5 KiB); past 3,072 elements (8 full tables at 3/4) the owner has
//! no index and lookups walk its list.
//!
//! The index is charged to the memory cgroup of the map whose update built it, not to the
//! owner (a socket's `sk_omem_alloc` counts its elements and storage only).

use super::{
    element::Selem,
    hlist::{
        Locked,
        Snode, //
    },
    map::Map,
    CACHE_SIZE, //
};
use crate::{
    bindings,
    hash::hash_64,
    prelude::*,
    sync::atomic::{
        Atomic,
        Relaxed,
        Release, //
    },
    task::in_nmi,
};
use core::{
    marker::PhantomData,
    ptr::{
        self,
        NonNull, //
    },
};

/// Owners with more elements than this get an index: the cache holds up to this many.
pub(super) const BUILD_ABOVE: usize = CACHE_SIZE;

/// An index whose owner is down to this many elements is freed.
const DROP_AT: u32 = CACHE_SIZE as u32 / 2;

/// The fewest slots in an index, as a power of two: 64, enough for 17 elements at 1/4 load.
const MIN_BITS: u32 = 6;

/// The most slots in a table, as a power of two: 512 slots, 4 KiB.
const TABLE_MAX_BITS: u32 = 9;

/// The most tables in an index.
pub(super) const MAX_TABLES: usize = 8;

/// The most slots in an index, as a power of two: 8 tables of 512.
const MAX_BITS: u32 = TABLE_MAX_BITS + MAX_TABLES.trailing_zeros();

/// The slot of an unlinked element: probes go on past it, links may reuse it.
const TOMBSTONE: *mut bindings::bpf_local_storage_elem = ptr::without_provenance_mut(1);

/// The tag of a disabled index in `local_storage->index`.
const DISABLED: usize = 1;

/// A slot: NULL (empty, ends probes), [`TOMBSTONE`], or an element of the storage.
type Slot = Atomic<*mut bindings::bpf_local_storage_elem>;

/// The root of an index.
///
/// # Invariants
///
/// `tables[..1 << dir_bits]` point to zeroed-then-filled arrays of `1 << slot_bits` slots, all
/// allocated by `kmalloc_nolock()` (as is the root), the rest are NULL;
/// `MIN_BITS <= slot_bits + dir_bits <= MAX_BITS`, `slot_bits <= TABLE_MAX_BITS`,
/// `slot_mask == (1 << slot_bits) - 1` and `hash_shift == 64 - slot_bits - dir_bits`. None of
/// these change once the root is published. Only the writer reads or writes `live` and `used`.
#[repr(C)]
pub(super) struct Root {
    /// For the free after a grace period ([`Retired`]).
    rcu: bindings::callback_head,
    /// Elements in the index: slots that hold one.
    live: Atomic<u32>,
    /// Slots that are not empty: elements and tombstones.
    used: Atomic<u32>,
    /// The slots of a table, less one: a slot number's mask.
    slot_mask: u32,
    /// log2 of the slots of a table.
    slot_bits: u8,
    /// log2 of the number of tables.
    dir_bits: u8,
    /// `64 - slot_bits - dir_bits`: the shift of `hash_64()` that leaves a slot number. Kept
    /// with the mask so that a lookup computes neither (measured: 8 instructions of its 60).
    hash_shift: u8,
    /// The tables.
    tables: [*mut Slot; MAX_TABLES],
}

// The size the docs give: the new fields fit where `slot_bits` and `dir_bits` were `u32`s.
#[cfg(CONFIG_64BIT)]
const _: () = assert!(size_of::<Root>() == 96);

/// The total number of slots, as a power of two, for an index of `n` elements: at most half
/// full, so that links can add as many again before a rebuild, but for the largest index,
/// which only has to leave room for one more. `None` if even that is too small.
fn bits_for(n: usize) -> Option<u32> {
    let bits = (2 * n)
        .next_power_of_two()
        .trailing_zeros()
        .clamp(MIN_BITS, MAX_BITS);
    (4 * (n + 1) <= 3 << bits).then_some(bits)
}

impl Root {
    /// log2 of the number of slots.
    #[inline]
    fn bits(&self) -> u32 {
        u32::from(self.slot_bits) + u32::from(self.dir_bits)
    }

    /// The probe of `smap`'s element: the table and the first slot that the map's hash picks.
    #[inline]
    fn probe(&self, smap: &Map) -> Probe<'_> {
        // `64 - (64 - shift)` folds: the hash is one multiplication and one shift.
        let h = hash_64(smap.as_raw().addr() as u64, 64 - u32::from(self.hash_shift));
        // `h >> slot_bits` is below `1 << dir_bits`, within `tables` (type invariant); the
        // mask, a no-op, spares the bounds check.
        let t = (h >> self.slot_bits) as usize & (MAX_TABLES - 1);
        // Slot numbers are `usize`s: no zero extension for each slot's address.
        let mask = self.slot_mask as usize;
        let start = h as usize & mask;
        // INVARIANT: Table `t` has `slot_mask + 1` slots, allocated as long as the root (type
        // invariant); `start` is masked.
        Probe {
            slots: self.tables[t],
            mask,
            start,
            i: start,
            _p: PhantomData,
        }
    }

    /// Frees a root and its tables.
    ///
    /// # Safety
    ///
    /// `root` came from [`NewRoot::alloc`] (its tables may be missing: NULL) and nobody uses
    /// it any more.
    unsafe fn free(root: *mut Root) {
        // SAFETY: By the safety requirements; `kfree(NULL)` does nothing.
        unsafe {
            for table in (*root).tables {
                bindings::kfree(table.cast());
            }
            bindings::kfree(root.cast());
        }
    }

    /// The RCU callback of [`Retired`]: frees the root it is called for.
    ///
    /// # Safety
    ///
    /// `rcu` is the `rcu` member of a root passed to `call_rcu_tasks_trace()` by [`Retired`].
    unsafe extern "C" fn free_rcu(rcu: *mut bindings::callback_head) {
        // SAFETY: `rcu` is the first member of a `repr(C)` root, whose grace period elapsed: a
        // Tasks Trace grace period implies a regular one, so no reader is left.
        unsafe { Self::free(rcu.cast()) }
    }
}

/// A linear probe of one table of a root: its slots in turn, from the one a map's hash picks,
/// wrapping around at the end of the table.
///
/// # Invariants
///
/// `slots` points to `mask + 1` slots, allocated for `'r` and only accessed atomically;
/// `start <= mask` and `i <= mask`.
struct Probe<'r> {
    slots: *mut Slot,
    mask: usize,
    start: usize,
    i: usize,
    _p: PhantomData<&'r [Slot]>,
}

impl<'r> Probe<'r> {
    /// The current slot.
    #[inline]
    fn slot(&self) -> &'r Slot {
        // SAFETY: `i <= mask`: within the table (type invariant).
        unsafe { &*self.slots.add(self.i) }
    }

    /// Moves to the next slot: `false` once the probe is back at its first one.
    #[inline]
    fn advance(&mut self) -> bool {
        // INVARIANT: Masked.
        self.i = (self.i + 1) & self.mask;
        self.i != self.start
    }
}

/// A root being built: allocated, not published yet, and freed if it is dropped so.
///
/// # Invariants
///
/// `0` is a root that only `self` can reach.
struct NewRoot(NonNull<Root>);

impl NewRoot {
    /// Allocates an empty index of `1 << bits` slots with `alloc` (zeroed memory of the given
    /// size, from `kmalloc_nolock()`).
    fn alloc(bits: u32, alloc: &impl Fn(usize) -> *mut c_void) -> Option<Self> {
        let slot_bits = bits.min(TABLE_MAX_BITS);
        let dir_bits = bits - slot_bits;
        // INVARIANT: A new allocation, only known to us; what `Root` requires of its fields is
        // set up below before the root is used, or it is freed.
        let mut new = Self(NonNull::new(alloc(size_of::<Root>()).cast::<Root>())?);
        // SAFETY: Zeroed memory is a valid `Root` (atomics at zero, NULL pointers), which is
        // ours until `new` is published.
        let root = unsafe { new.0.as_mut() };
        // CAST: At most `MAX_BITS` (12), and the shift at most 64 - `MIN_BITS`.
        root.slot_bits = slot_bits as u8;
        root.dir_bits = dir_bits as u8;
        root.hash_shift = (64 - bits) as u8;
        root.slot_mask = (1 << slot_bits) - 1;
        // Stored as they are allocated: on failure, dropping `new` frees those allocated.
        for table in root.tables.iter_mut().take(1 << dir_bits) {
            *table = alloc(size_of::<Slot>() << slot_bits).cast::<Slot>();
            if table.is_null() {
                return None;
            }
        }
        Some(new)
    }

    /// The root.
    #[inline]
    fn root(&self) -> &Root {
        // SAFETY: Ours and initialised (type invariant).
        unsafe { self.0.as_ref() }
    }

    /// Gives up ownership, for a release store that publishes the root.
    fn into_raw(self) -> *mut Root {
        let root = self.0.as_ptr();
        core::mem::forget(self);
        root
    }
}

impl Drop for NewRoot {
    fn drop(&mut self) {
        // SAFETY: Never published (type invariant): nobody else can use it.
        unsafe { Root::free(self.0.as_ptr()) };
    }
}

/// A published index, read in an RCU read section.
///
/// # Invariants
///
/// `root` is published in the storage's `index` and allocated for `'a`: the holder is in an
/// RCU read section (regular or Tasks Trace) that began while the index was reachable, or
/// holds the storage lock. The elements in its slots are allocated for `'a` too: they are
/// elements of the storage, or were unlinked from it during the read section.
#[derive(Clone, Copy)]
pub(super) struct Index<'a> {
    root: &'a Root,
}

impl<'a> Index<'a> {
    /// The index published in `slot`, the `index` member of a storage, if there is one and it
    /// is not disabled.
    ///
    /// # Safety
    ///
    /// `slot` is the `index` of a storage that stays allocated for `'a`, for the reasons of the
    /// type invariants.
    #[inline]
    pub(super) unsafe fn get(slot: &Atomic<*mut Root>) -> Option<Self> {
        // `rcu_dereference()`: the root and its tables were initialised before the release
        // store that published them, and we only follow the pointer (address dependency).
        let root = slot.load(Relaxed);
        if root.addr() & DISABLED != 0 {
            return None;
        }
        // SAFETY: A published root, allocated for `'a` by the safety requirements.
        let root = unsafe { root.as_ref() }?;
        // INVARIANT: As above.
        Some(Self { root })
    }

    /// The element of `smap`, if there is one.
    ///
    /// A concurrent link or unlink of the map's element may or may not be seen, as with a walk
    /// of the list; an element whose map free cleared `smap` is not found.
    #[inline]
    pub(super) fn find(self, smap: &Map) -> Option<Selem<'a>> {
        let mut probe = self.root.probe(smap);
        loop {
            let e = probe.slot().load(Relaxed);
            if e.is_null() {
                return None;
            }
            if e != TOMBSTONE {
                // SAFETY: An element in the index stays allocated for `'a` (type invariant),
                // and so does its map if it is `smap`.
                let selem = unsafe { Selem::from_raw(e) };
                if selem.is_of(smap) {
                    return Some(selem);
                }
            }
            // A writer keeps an empty slot in every table; the wrap-around only guards against a
            // bug.
            if !probe.advance() {
                return None;
            }
        }
    }
}

/// An index taken out of its storage, to free after an RCU Tasks Trace grace period once the
/// storage lock is released: `call_rcu_tasks_trace()` takes `spinlock_t`s, which sleep on
/// `PREEMPT_RT`. Never made in NMI.
///
/// # Invariants
///
/// `0` is a root that nobody can find any more but readers that found it before, owned by
/// `self`.
#[must_use = "dropping frees the index: drop it after releasing the storage lock"]
pub(super) struct Retired(NonNull<Root>);

impl Drop for Retired {
    fn drop(&mut self) {
        let root = self.0.as_ptr();
        // SAFETY: By the type invariant the root is ours and unreachable; its callback frees it
        // after the readers that found it are gone.
        unsafe {
            bindings::bpf_local_storage_call_rcu_tasks_trace(
                &raw mut (*root).rcu,
                Some(Root::free_rcu),
            )
        };
    }
}

/// Frees the index left in a storage that is being freed, if any: the storage's own grace
/// period is over, so nobody can reach the index.
///
/// # Safety
///
/// `slot` is the `index` of a storage whose grace period after it became unreachable has
/// elapsed.
pub(super) unsafe fn free_unreachable(slot: &Atomic<*mut Root>) {
    let root = slot.load(Relaxed).map_addr(|a| a & !DISABLED);
    if !root.is_null() {
        // SAFETY: By the safety requirements nobody uses the index any more.
        unsafe { Root::free(root) };
    }
}

/// The index of a storage whose lock the current CPU holds: the writers' side.
///
/// Links and unlinks of the storage list tell it about each change: after
/// [`Locked::add`](super::hlist::Locked::add), and before
/// [`OnList::del`](super::hlist::OnList::del) respectively.
///
/// # Invariants
///
/// For `'g`, the current CPU holds the lock of the storage whose `index` is `slot` and whose
/// list is `list`, or nobody else can reach the storage yet: it is the only writer of both. If
/// the index is published and not disabled, it holds exactly one slot for each map with an
/// element on the list (the first one on the list, the newest), and no element that is not on
/// the list, but those of maps whose map free cleared `smap` meanwhile.
pub(super) struct Writer<'g> {
    slot: &'g Atomic<*mut Root>,
    list: Locked<'g, Snode>,
}

/// What [`Writer::place`] did.
enum Placed {
    /// The element is in the index.
    Done,
    /// The index is too full: rebuild it.
    Full,
}

impl<'g> Writer<'g> {
    /// The writers' side of the index `slot` of the storage of `list`.
    ///
    /// # Safety
    ///
    /// `slot` is the `index` of the storage whose list is `list`.
    #[inline]
    pub(super) unsafe fn new(slot: &'g Atomic<*mut Root>, list: Locked<'g, Snode>) -> Self {
        // INVARIANT: `list` is locked for `'g` (or its storage private), and `slot` is its
        // storage's index by the safety requirements.
        Self { slot, list }
    }

    /// The published root, disabled or not.
    #[inline]
    fn root(&self) -> Option<(&'g Root, bool)> {
        let raw = self.slot.load(Relaxed);
        let disabled = raw.addr() & DISABLED != 0;
        let root = raw.map_addr(|a| a & !DISABLED);
        // SAFETY: Only we replace the published root (type invariant), and we retire the old
        // one to be freed after a grace period that begins once the lock is released, after
        // `'g`.
        Some((unsafe { root.as_ref() }?, disabled))
    }

    /// Puts `selem`, an element of `smap`, in the index: in the slot of `smap`'s element if
    /// there is one (with `replace`, else that element stays), else in the first tombstone or
    /// empty slot of its probes. An empty slot is only taken if the index stays at most 3/4
    /// full (tombstones included): linear probes stay short, and every probe meets an empty
    /// slot.
    ///
    /// # Safety
    ///
    /// `root` is the writers' (published by us, or not yet); `selem` stays allocated while it
    /// is in the index (it is on the storage list).
    unsafe fn place(root: &Root, selem: Selem<'_>, smap: &Map, replace: bool) -> Placed {
        let mut probe = root.probe(smap);
        let mut tombstone = None;
        let mut empty = None;
        loop {
            let s = probe.slot();
            let e = s.load(Relaxed);
            if e.is_null() {
                empty = Some(s);
                break;
            }
            if e == TOMBSTONE {
                tombstone.get_or_insert(s);
            } else {
                // SAFETY: Elements in the index are on the storage list, whose lock we hold.
                let other = unsafe { Selem::from_raw(e) };
                if other.is_of(smap) {
                    if replace {
                        // `rcu_assign_pointer()`: readers that load the slot see the
                        // initialised element.
                        s.store(selem.as_raw(), Release);
                    }
                    return Placed::Done;
                }
            }
            if !probe.advance() {
                break;
            }
        }
        let used = root.used.load(Relaxed);
        let s = match (tombstone, empty) {
            (Some(s), _) => s,
            (None, Some(s)) if (used + 1) * 4 <= 3 << root.bits() => {
                root.used.store(used + 1, Relaxed);
                s
            }
            _ => return Placed::Full,
        };
        root.live.store(root.live.load(Relaxed) + 1, Relaxed);
        // `rcu_assign_pointer()`, as above.
        s.store(selem.as_raw(), Release);
        Placed::Done
    }

    /// Turns the slot of `selem`, an element of `smap`, into a tombstone, if it is in the
    /// index `root`, the writers'.
    fn take_out(root: &Root, selem: Selem<'_>, smap: &Map) {
        let mut probe = root.probe(smap);
        loop {
            let s = probe.slot();
            let e = s.load(Relaxed);
            if e.is_null() {
                // Not in the index: an update put the element that replaces it in its slot.
                return;
            }
            if e == selem.as_raw() {
                s.store(TOMBSTONE, Relaxed);
                root.live.store(root.live.load(Relaxed) - 1, Relaxed);
                return;
            }
            if !probe.advance() {
                return;
            }
        }
    }

    /// Builds an index of the elements of the list, allocated with `alloc`: `None` if there are
    /// too many of them or the allocation failed.
    fn build(&self, alloc: &impl Fn(usize) -> *mut c_void) -> Option<NewRoot> {
        let elems = || self.list.iter();
        let new = NewRoot::alloc(bits_for(elems().count())?, alloc)?;
        for selem in elems() {
            // An element whose map free cleared `smap` can be left out: it will be found by
            // nobody, and its removal from the index will find nothing to remove.
            let Some(smap) = selem.map() else {
                continue;
            };
            // The newest element of a map comes first on the list: keep it.
            // SAFETY: Our new root; the element is on the list, whose lock we hold.
            if let Placed::Full = unsafe { Self::place(new.root(), selem, smap, false) } {
                // Only if the hash put more than a table's worth of maps in one table.
                return None;
            }
        }
        Some(new)
    }

    /// Replaces the published index by `new` (`None`: no index), returning the old one to
    /// retire. Not in NMI, where the old one could not be retired.
    fn replace(&self, new: Option<NewRoot>) -> Option<Retired> {
        let old = NonNull::new(self.slot.load(Relaxed).map_addr(|a| a & !DISABLED));
        // `rcu_assign_pointer()`: readers that load the pointer see the initialised index.
        self.slot
            .store(new.map_or(ptr::null_mut(), NewRoot::into_raw), Release);
        // INVARIANT: Unpublished just above: only readers that found it before can see it.
        old.map(Retired)
    }

    /// Disables the published index: readers walk the list until a writer rebuilds or drops it.
    fn disable(&self) {
        let raw = self.slot.load(Relaxed);
        if !raw.is_null() {
            self.slot.store(raw.map_addr(|a| a | DISABLED), Relaxed);
        }
    }

    /// Puts `selem`, just linked to the list as an element of `smap`, in the index, which it
    /// builds if there is none and `past_cache` (the list had [`BUILD_ABOVE`] elements or more
    /// before the link, as the caller's walk of it counted), and rebuilds if it is too full or
    /// disabled. `alloc` allocates zeroed memory for a new index.
    ///
    /// Returns the old index to retire after the storage lock is released.
    ///
    /// # Safety
    ///
    /// `selem` was just linked to the list, and stays allocated until a grace period after it
    /// is unlinked; `smap` is its map.
    #[inline(always)]
    pub(super) unsafe fn linked(
        &self,
        selem: Selem<'_>,
        smap: &Map,
        past_cache: bool,
        alloc: &impl Fn(usize) -> *mut c_void,
    ) -> Option<Retired> {
        match self.root() {
            // SAFETY: The published index is ours to change (type invariant); `selem` is on the
            // list.
            Some((root, false)) => match unsafe { Self::place(root, selem, smap, true) } {
                Placed::Done => None,
                Placed::Full => self.rebuild(alloc),
            },
            Some((_, true)) => self.rebuild(alloc),
            None if past_cache => self.rebuild(alloc),
            None => None,
        }
    }

    /// Replaces the index by one built from the list, or disables it (or leaves none) if that
    /// fails. In NMI, where neither `kfree()` nor `call_rcu_tasks_trace()` may be called, only
    /// disables it.
    ///
    /// Cold: a link or an unlink that rebuilds nothing must not pay for preparing the call.
    #[cold]
    fn rebuild(&self, alloc: &impl Fn(usize) -> *mut c_void) -> Option<Retired> {
        if in_nmi() {
            self.disable();
            return None;
        }
        match self.build(alloc) {
            Some(new) => self.replace(Some(new)),
            None => {
                self.disable();
                None
            }
        }
    }

    /// Takes `selem`, an element of `smap` about to be unlinked from the list, out of the index.
    #[inline(always)]
    pub(super) fn unlinking(&self, selem: Selem<'_>, smap: &Map) {
        if let Some((root, false)) = self.root() {
            Self::take_out(root, selem, smap);
        }
    }

    /// After unlinks: drops the index if the owner is down to [`DROP_AT`] elements or the index
    /// is disabled, and rebuilds it smaller, with `alloc`, if it is less than 1/8 full.
    ///
    /// Returns the index to retire after the storage lock is released. Not in NMI: the callers
    /// are deletes (which refuse NMI) and updates that replace an element (system calls).
    #[inline(always)]
    pub(super) fn shrink(&self, alloc: &impl Fn(usize) -> *mut c_void) -> Option<Retired> {
        let (root, disabled) = self.root()?;
        if in_nmi() {
            return None;
        }
        let (live, bits) = (root.live.load(Relaxed), root.bits());
        if disabled || live <= DROP_AT {
            return self.replace(None);
        }
        if bits > MIN_BITS && live << 3 < 1 << bits {
            return self.rebuild(alloc);
        }
        None
    }
}

#[cfg(CONFIG_RUST_BPF_KUNIT_TEST)]
#[kunit_tests(rust_bpf_local_storage_index)]
mod tests {
    use super::super::hlist::Head;
    use super::*;
    use crate::{
        alloc::{
            allocator::Kmalloc,
            flags::{
                GFP_KERNEL,
                __GFP_ZERO, //
            },
            Allocator,
            KBox,
            KVec,
            NumaNode, //
        },
        bpf::test_thread::{
            other_online_cpu,
            PinnedThread, //
        },
        sync::{
            atomic::Acquire,
            rcu, //
        },
    };
    use core::{
        alloc::Layout,
        ops::Range, //
    };

    /// A zeroed `T`: the C structures below are valid all zero.
    fn zeroed<T>() -> Result<KBox<T>> {
        let b = KBox::<T>::new_uninit(GFP_KERNEL | __GFP_ZERO)?;
        // SAFETY: All-zero bytes are a valid `hlist_head`, element or map.
        Ok(unsafe { b.assume_init() })
    }

    /// Zeroed `kfree()`able memory, as the index allocates it.
    fn alloc(size: usize) -> *mut c_void {
        Layout::from_size_align(size, 8)
            .ok()
            .and_then(|layout| {
                Kmalloc::alloc(layout, GFP_KERNEL | __GFP_ZERO, NumaNode::NO_NODE).ok()
            })
            .map_or(ptr::null_mut(), |p| p.as_ptr().cast())
    }

    /// An owner's storage list and index, with made-up maps and elements: nothing but their
    /// addresses and `sdata.smap` is used. Element `use * nr_maps + m` is the `use`-th element
    /// of map `m`; each is linked at most once.
    struct Owner {
        head: KBox<bindings::hlist_head>,
        slot: Atomic<*mut Root>,
        maps: KVec<KBox<bindings::bpf_local_storage_map>>,
        elems: KVec<KBox<bindings::bpf_local_storage_elem>>,
    }

    impl Owner {
        fn new(nr_maps: usize, uses: usize) -> Result<Self> {
            let mut maps = KVec::<KBox<bindings::bpf_local_storage_map>>::new();
            for _ in 0..nr_maps {
                maps.push(zeroed()?, GFP_KERNEL)?;
            }
            let mut elems = KVec::new();
            for e in 0..nr_maps * uses {
                let mut elem = zeroed::<bindings::bpf_local_storage_elem>()?;
                elem.sdata.smap = ptr::from_ref(&*maps[e % nr_maps]).cast_mut();
                elems.push(elem, GFP_KERNEL)?;
            }
            Ok(Self {
                head: zeroed()?,
                slot: Atomic::new(ptr::null_mut()),
                maps,
                elems,
            })
        }

        fn map(&self, m: usize) -> &Map {
            // SAFETY: A zeroed map, allocated as long as `self`; only its address is used.
            unsafe { Map::from_raw(ptr::from_ref(&*self.maps[m]).cast_mut()) }
        }

        /// The list, which only the test changes: it plays the holder of the storage lock.
        fn list(&self) -> Locked<'_, Snode> {
            // SAFETY: An initialised (zeroed) list head, allocated as long as `self`.
            let head = unsafe { Head::from_raw(ptr::from_ref(&*self.head).cast_mut()) };
            // SAFETY: Nobody but the test reaches the list.
            unsafe { Locked::new(head) }
        }

        fn writer(&self) -> Writer<'_> {
            // SAFETY: `slot` is the index of the storage whose list this is.
            unsafe { Writer::new(&self.slot, self.list()) }
        }

        /// The published index, if any.
        fn index(&self) -> Option<Index<'_>> {
            // SAFETY: Published indexes are retired after a grace period, and the elements stay
            // allocated as long as `self`.
            unsafe { Index::get(&self.slot) }
        }

        /// The `use`-th element of map `m`.
        fn selem(&self, m: usize, r#use: usize) -> Selem<'_> {
            let e = &*self.elems[r#use * self.maps.len() + m];
            // SAFETY: Allocated as long as `self`.
            unsafe { Selem::from_raw(ptr::from_ref(e).cast_mut()) }
        }

        fn is(&self, found: Option<Selem<'_>>, m: usize, r#use: usize) -> bool {
            found.map(Selem::as_raw) == Some(self.selem(m, r#use).as_raw())
        }

        /// Links the `use`-th element of map `m`, as an update or a create does.
        fn link(&self, m: usize, r#use: usize) {
            let selem = self.selem(m, r#use);
            let past_cache = self.list().iter().nth(BUILD_ABOVE - 1).is_some();
            // SAFETY: The element was never linked, and stays allocated as long as `self`.
            unsafe { self.list().add(selem) };
            // SAFETY: Just linked, allocated as long as `self`; `m` is its map.
            drop(unsafe { self.writer().linked(selem, self.map(m), past_cache, &alloc) });
        }

        /// Unlinks the `use`-th element of map `m`, as a delete does.
        fn unlink(&self, m: usize, r#use: usize) {
            let selem = self.selem(m, r#use);
            self.writer().unlinking(selem, self.map(m));
            // SAFETY: The element is on the list or on none.
            if let Some(on) = unsafe { self.list().claim(selem) } {
                on.del();
            }
            drop(self.writer().shrink(&alloc));
        }

        /// Whether the first element of each map of `found` is found, and none of `missing`.
        fn finds(&self, found: Range<usize>, missing: Range<usize>) -> bool {
            found.into_iter().all(|m| self.is(self.find(m), m, 0))
                && missing.into_iter().all(|m| self.find(m).is_none())
        }

        fn find(&self, m: usize) -> Option<Selem<'_>> {
            self.index()?.find(self.map(m))
        }

        /// The published root's `live` and total bits, if there is one that is not disabled.
        fn shape(&self) -> Option<(u32, u32)> {
            let root = self.index()?.root;
            Some((root.live.load(Relaxed), root.bits()))
        }
    }

    impl Drop for Owner {
        fn drop(&mut self) {
            // SAFETY: Nobody uses the index any more.
            unsafe { free_unreachable(&self.slot) };
        }
    }

    #[test]
    fn built_past_the_cache_and_finds_every_map() -> Result {
        let o = Owner::new(120, 1)?;
        for m in 0..BUILD_ABOVE {
            o.link(m, 0);
            assert!(o.shape().is_none());
        }
        for m in BUILD_ABOVE..100 {
            o.link(m, 0);
        }
        // Built at 17 (64 slots), grown at 49 (128) and 97 (256).
        assert_eq!(o.shape(), Some((100, 8)));
        assert!(o.finds(0..100, 100..120));
        Ok(())
    }

    #[test]
    fn an_update_takes_the_slot_of_the_element_it_replaces() -> Result {
        let o = Owner::new(40, 2)?;
        for m in 0..40 {
            o.link(m, 0);
        }
        // An update links the new element, then unlinks the old one.
        o.link(7, 1);
        assert!(o.is(o.find(7), 7, 1));
        o.unlink(7, 0);
        assert!(o.is(o.find(7), 7, 1));
        assert_eq!(o.shape().map(|(live, _)| live), Some(40));
        o.unlink(7, 1);
        assert!(o.find(7).is_none());
        assert_eq!(o.shape().map(|(live, _)| live), Some(39));
        for m in (0..40).filter(|&m| m != 7) {
            assert!(o.is(o.find(m), m, 0));
        }
        Ok(())
    }

    #[test]
    fn grows_to_many_tables_then_shrinks_and_goes() -> Result {
        let n = 1000;
        let o = Owner::new(n, 1)?;
        for m in 0..n {
            o.link(m, 0);
        }
        // 2,048 slots: four tables of 512.
        assert_eq!(o.shape(), Some((n as u32, 11)));
        assert!(o.finds(0..n, 0..0));
        for m in 0..n - 20 {
            o.unlink(m, 0);
            let Some((live, bits)) = o.shape() else {
                return Err(EINVAL);
            };
            assert_eq!(live as usize, n - m - 1);
            // At least 1/8 full, but at the smallest size.
            assert!(bits == MIN_BITS || live << 3 >= 1 << bits);
            assert!(o.find(m).is_none());
        }
        // Shrunk to 512 slots at 255 elements, then to 128 at 63.
        assert_eq!(o.shape(), Some((20, 7)));
        assert!(o.finds(n - 20..n, 0..n - 20));
        for m in n - 20..n - 8 {
            o.unlink(m, 0);
        }
        // Down to `DROP_AT` elements: no index any more.
        assert!(o.slot.load(Relaxed).is_null());
        assert!(o.finds(0..0, n - 8..n));
        Ok(())
    }

    #[test]
    fn tombstones_are_reused_and_compacted() -> Result {
        let o = Owner::new(60, 8)?;
        for m in 0..30 {
            o.link(m, 0);
        }
        // Every delete leaves a tombstone, every create takes one or an empty slot; the index
        // is rebuilt at the same size when tombstones fill it.
        for round in 0..210 {
            let (m, r#use) = (30 + round % 30, round / 30);
            o.link(m, r#use);
            o.unlink(m, r#use);
        }
        assert_eq!(o.shape(), Some((30, MIN_BITS)));
        assert!(o.finds(0..30, 30..60));
        Ok(())
    }

    #[test]
    fn a_disabled_index_sends_readers_to_the_list_until_rebuilt() -> Result {
        let o = Owner::new(40, 1)?;
        for m in 0..30 {
            o.link(m, 0);
        }
        o.writer().disable();
        assert!(o.shape().is_none());
        assert!(!o.slot.load(Relaxed).is_null());
        o.link(30, 0);
        assert_eq!(o.shape(), Some((31, MIN_BITS)));
        assert!(o.finds(0..31, 31..40));
        Ok(())
    }

    #[test]
    fn elements_whose_map_free_cleared_smap_are_not_found() -> Result {
        let o = Owner::new(20, 1)?;
        for m in 0..20 {
            o.link(m, 0);
        }
        let selem = o.selem(3, 0);
        selem.clear_smap();
        assert!(o.find(3).is_none());
        // Map free takes it out by its map and address.
        o.writer().unlinking(selem, o.map(3));
        assert_eq!(o.shape().map(|(live, _)| live), Some(19));
        Ok(())
    }

    /// An [`Owner`] shared with a reader thread.
    struct Shared<'a>(&'a Owner);

    // SAFETY: The reader only loads the index, its slots and the elements' `smap`s, all with
    // atomic loads, and the test keeps the owner alive until the reader is done.
    unsafe impl Send for Shared<'_> {}

    /// What the reader found.
    struct Reads {
        stop: Atomic<i32>,
        passes: Atomic<i64>,
        wrong: Atomic<i64>,
    }

    const STABLE: usize = BUILD_ABOVE + 2;
    const CHURNED: usize = 200;
    const ROUNDS: usize = 8;

    impl Shared<'_> {
        /// Looks every map up until told to stop, and once more: the stable ones must be found,
        /// the others may be missing, and whatever is found must be of the map looked up.
        fn read(&self, reads: &Reads) {
            let o = self.0;
            loop {
                let stop = reads.stop.load(Acquire) != 0;
                let _rcu = rcu::read_lock();
                for m in 0..STABLE + CHURNED {
                    let ok = match o.find(m) {
                        Some(selem) => selem.is_of(o.map(m)),
                        None => m >= STABLE,
                    };
                    if !ok {
                        reads.wrong.fetch_add(1, Relaxed);
                    }
                }
                reads.passes.fetch_add(1, Relaxed);
                if stop {
                    break;
                }
            }
        }
    }

    #[test]
    fn a_reader_racing_links_unlinks_and_rebuilds_finds_only_the_right_elements() -> Result {
        let Some(other) = other_online_cpu() else {
            pr_info!("one CPU online: no reader to race with\n");
            return Ok(());
        };
        let o = Owner::new(STABLE + CHURNED, ROUNDS)?;
        for m in 0..STABLE {
            o.link(m, 0);
        }
        let reads = Reads {
            stop: Atomic::new(0),
            passes: Atomic::new(0),
            wrong: Atomic::new(0),
        };
        {
            let shared = Shared(&o);
            let reads = &reads;
            let _reader = PinnedThread::spawn(other, move || shared.read(reads))?;
            // Grow from 19 elements to 219 and back, element by element, eight times: the
            // index is rebuilt (and the old one retired) on the way up and on the way down.
            for r#use in 0..ROUNDS {
                for m in STABLE..STABLE + CHURNED {
                    o.link(m, r#use);
                }
                for m in STABLE..STABLE + CHURNED {
                    o.unlink(m, r#use);
                }
            }
            reads.stop.store(1, Release);
            // The reader is joined here.
        }
        pr_info!(
            "reader: {} passes over {} maps\n",
            reads.passes.load(Relaxed),
            STABLE + CHURNED
        );
        assert!(reads.passes.load(Relaxed) > 0);
        assert_eq!(reads.wrong.load(Relaxed), 0);
        Ok(())
    }
}
