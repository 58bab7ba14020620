// SPDX-License-Identifier: GPL-2.0

//! The RCU hash lists of local storage, typed by the node they link.
//!
//! An element is on two `hlist`s: its storage's, through `snode`, under the storage lock, and
//! its map's bucket, through `map_node`, under the bucket lock. [`Head<L>`] is the head of one
//! of them; `L` ([`Snode`] or [`MapNode`]) says which node of the element it links. Lookups,
//! iterators and the teardown walk the lists under RCU ([`Head::iter`]) while writers add and
//! remove elements under the list's lock ([`Locked`]).
//!
//! The writers' side is the C inlines of `include/linux/rculist.h` (through
//! `rust/helpers/list.c`), so both languages update the lists with the same `WRITE_ONCE()`s and
//! `rcu_assign_pointer()`s; the RCU walk is done here, with the marked loads of
//! `hlist_for_each_entry_rcu()`.
//!
//! An element's node is linked at most once in its life, to one list, and never again after it
//! is removed: a removed element is freed, a new one is linked once. So an element found on a
//! list is, from then on, on that list or on none; [`Locked::claim`] is where a caller asserts
//! it.
//!
//! C headers: [`include/linux/list.h`](srctree/include/linux/list.h) and
//! [`include/linux/rculist.h`](srctree/include/linux/rculist.h)

use super::element::Selem;
use crate::{
    bindings,
    sync::{
        atomic::{
            Atomic,
            Relaxed, //
        },
        rcu,
    },
    types::Opaque,
};
use core::{
    marker::PhantomData,
    mem::offset_of,
    ptr::NonNull, //
};

mod private {
    pub(crate) trait Sealed {}
}

/// Which node of an element a list links.
///
/// # Safety
///
/// `OFFSET` is the offset of an `hlist_node` member of `struct bpf_local_storage_elem`.
pub(super) unsafe trait Link: private::Sealed {
    /// `offsetof(struct bpf_local_storage_elem, <node>)`.
    const OFFSET: usize;
}

/// The storage list: `selem->snode`, under `local_storage->lock`.
pub(super) enum Snode {}

/// A bucket list: `selem->map_node`, under `b->lock`.
pub(super) enum MapNode {}

impl private::Sealed for Snode {}
impl private::Sealed for MapNode {}

// SAFETY: `snode` is an `hlist_node` member of the element.
unsafe impl Link for Snode {
    const OFFSET: usize = offset_of!(bindings::bpf_local_storage_elem, snode);
}

// SAFETY: `map_node` is an `hlist_node` member of the element.
unsafe impl Link for MapNode {
    const OFFSET: usize = offset_of!(bindings::bpf_local_storage_elem, map_node);
}

/// The head of a storage list or of a bucket list: `struct hlist_head`.
///
/// # Invariants
///
/// Initialised (`INIT_HLIST_HEAD()`); every node on it is the `L` node of an element, linked by
/// [`Locked::add`] and so kept allocated until a grace period after its removal.
#[repr(transparent)]
pub(super) struct Head<L: Link>(Opaque<bindings::hlist_head>, PhantomData<L>);

impl<L: Link> Head<L> {
    /// Creates a reference to a list head from a raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` points to the initialised list head of a storage (for [`Snode`]) or of a bucket
    /// (for [`MapNode`]), valid for `'a`.
    #[inline]
    pub(super) unsafe fn from_raw<'a>(ptr: *mut bindings::hlist_head) -> &'a Self {
        // SAFETY: `Head` is `repr(transparent)` over `Opaque<hlist_head>`, and the caller
        // guarantees that `ptr` is valid for `'a`.
        unsafe { &*ptr.cast() }
    }

    /// `hlist_first_rcu(head)`: the slot that points to the first node.
    #[inline]
    fn first_slot(&self) -> &Atomic<*mut bindings::hlist_node> {
        // SAFETY: `first` is a pointer member of the valid head, only written with marked
        // stores (`rcu_assign_pointer()`, `WRITE_ONCE()`) by the C list primitives.
        unsafe { Atomic::from_ptr(&raw mut (*self.0.get()).first) }
    }

    /// `rcu_dereference(hlist_first_rcu(head))`.
    #[inline]
    fn first(&self) -> *mut bindings::hlist_node {
        // `READ_ONCE()` is all that `rcu_dereference()` is outside Alpha, whose `READ_ONCE()`
        // includes the barrier.
        self.first_slot().load(Relaxed)
    }

    /// `hlist_empty()`, read with `READ_ONCE()`: exact under the list's lock, a hint otherwise.
    #[inline]
    pub(super) fn is_empty(&self) -> bool {
        self.first().is_null()
    }

    /// `hlist_for_each_entry_rcu()`: the elements of the list, allocated for as long as `rcu`
    /// is held.
    ///
    /// The next node is read when the next element is asked for, not before: the body may
    /// unlink the current element (`hlist_del_init_rcu()` keeps its `next`) or free it (after a
    /// grace period), exactly as with the C macro.
    #[inline]
    pub(super) fn iter<'g>(&'g self, _rcu: &'g rcu::Guard) -> Iter<'g, L> {
        // INVARIANT: The head's slot; the caller holds `rcu` for `'g`.
        Iter {
            next: self.first_slot(),
            _list: PhantomData,
        }
    }

    /// `hlist_for_each_entry_rcu()` for a caller that holds no [`rcu::Guard`]: one in a read-side
    /// critical section that C entered (regular RCU or RCU Tasks Trace, as BPF programs and
    /// lookups are), or that holds the list's lock.
    ///
    /// # Safety
    ///
    /// For `'g`, the current CPU is in an RCU read-side critical section of either kind, or
    /// holds the list's lock.
    #[inline]
    pub(super) unsafe fn iter_unguarded<'g>(&'g self) -> Iter<'g, L> {
        // INVARIANT: The head's slot; RCU or the lock by the safety requirements.
        Iter {
            next: self.first_slot(),
            _list: PhantomData,
        }
    }
}

/// The walk of [`Head::iter`], [`Head::iter_unguarded`] and [`Locked::iter`].
///
/// It holds the slot that points to the next node, the head's `first` and then the `next` of
/// the last node yielded, and reads it when the next element is asked for: one load and one
/// test per element, as `hlist_for_each_entry_rcu()`.
///
/// # Invariants
///
/// For `'g`, the current CPU is in an RCU read-side critical section, or holds the list's lock.
/// `next` is the `first` of the list's head or the `next` of a node of the list's, which the
/// critical section or the lock keeps allocated.
pub(super) struct Iter<'g, L: Link> {
    next: &'g Atomic<*mut bindings::hlist_node>,
    _list: PhantomData<&'g Head<L>>,
}

impl<'g, L: Link> Iter<'g, L> {
    /// The rest of a walk that yielded `selem`: the elements after it on its list, read from its
    /// `next` when they are asked for, as `hlist_for_each_entry_continue_rcu()` does.
    ///
    /// `selem` may have been removed from the list since: a removed node keeps its `next`, so
    /// the walk goes on with the elements that followed it.
    ///
    /// # Safety
    ///
    /// `selem` was found on a `Head<L>` in an RCU read-side critical section that the current
    /// CPU is still in for `'g`.
    #[inline]
    pub(super) unsafe fn after(selem: Selem<'g>) -> Self {
        let node = selem.node::<L>();
        // INVARIANT: The `next` of a node of the list, which the RCU read section keeps allocated
        // for `'g`, as it keeps the element.
        // SAFETY: The node is within the element, allocated for `'g` (the safety requirements);
        // `next` is a pointer member of it, only written with marked stores while RCU walkers can
        // reach it.
        let next = unsafe { Atomic::from_ptr(&raw mut (*node).next) };
        Self {
            next,
            _list: PhantomData,
        }
    }
}

impl<'g, L: Link> Iterator for Iter<'g, L> {
    type Item = Selem<'g>;

    #[inline]
    fn next(&mut self) -> Option<Selem<'g>> {
        // The slot is only written with marked stores while RCU walkers can reach it, and a
        // removed node keeps its `next`.
        let node = NonNull::new(self.next.load(Relaxed))?;
        // INVARIANT: The `next` of a node of the list, allocated for `'g` as the node is (below).
        // SAFETY: As below, the node is allocated for `'g`; `next` is a pointer member of it.
        self.next = unsafe { Atomic::from_ptr(&raw mut (*node.as_ptr()).next) };
        // SAFETY: Nodes of a `Head<L>` are `L` nodes of elements (type invariant of `Head`), so
        // the element starts `L::OFFSET` bytes before the node, in the same allocation (`Link`'s
        // safety requirement); the RCU read section or the lock of `'g` keeps it allocated
        // (type invariant).
        Some(unsafe { Selem::from_raw(node.as_ptr().byte_sub(L::OFFSET).cast()) })
    }
}

/// A list that the current CPU may change: it holds the list's lock, or nobody else can reach
/// the list yet.
///
/// # Invariants
///
/// For `'g`, the current CPU holds the lock of the list `head`, or nobody else can reach it.
pub(super) struct Locked<'g, L: Link> {
    head: &'g Head<L>,
}

// Not derived: that would require `L: Copy`.
impl<L: Link> Clone for Locked<'_, L> {
    #[inline]
    fn clone(&self) -> Self {
        *self
    }
}

impl<L: Link> Copy for Locked<'_, L> {}

impl<'g, L: Link> Locked<'g, L> {
    /// Marks `head` as locked.
    ///
    /// # Safety
    ///
    /// For `'g`, the current CPU holds the lock of `head`, or nobody else can reach it (the
    /// list of a storage not published yet).
    #[inline]
    pub(super) unsafe fn new(head: &'g Head<L>) -> Self {
        // INVARIANT: By the safety requirements.
        Self { head }
    }

    /// `hlist_empty()`, exact under the lock.
    #[inline]
    pub(super) fn is_empty(&self) -> bool {
        self.head.is_empty()
    }

    /// `hlist_for_each_entry()`: the elements of the list, which stay on it and allocated while
    /// the lock is held.
    #[inline]
    pub(super) fn iter(&self) -> Iter<'g, L> {
        // INVARIANT: The head's slot; the current CPU holds the list's lock for `'g`, or nobody
        // else can reach the list (type invariant).
        Iter {
            next: self.head.first_slot(),
            _list: PhantomData,
        }
    }

    /// `!hlist_unhashed()`: `selem` as an element on this list, or `None` if it is on none.
    ///
    /// The `pprev` load is a plain one, as in C's `hlist_unhashed()`: the lock excludes
    /// writers. It runs under the storage lock on every lookup that misses the cache, where C
    /// inlines it too.
    ///
    /// # Safety
    ///
    /// `selem`'s `L` node is on this list or on none.
    #[inline]
    pub(super) unsafe fn claim<'e>(&self, selem: Selem<'e>) -> Option<OnList<'g, 'e, L>> {
        // SAFETY: The node is within the live element, on this list or on none; we hold the
        // list's lock (or the list is ours), so no writer races with the read.
        let linked = !unsafe { (*selem.node::<L>()).pprev }.is_null();
        // INVARIANT: On this list, whose lock is held for `'g`.
        linked.then_some(OnList { list: *self, selem })
    }

    /// `hlist_add_head_rcu()`: publishes `selem` at the head of the list.
    ///
    /// # Safety
    ///
    /// - `selem`'s `L` node is on no list, and the element stays allocated until it is removed
    ///   and a grace period has elapsed.
    /// - This is the element's list: for [`Snode`], the list of the storage in its
    ///   `local_storage` (set before, and published by the `rcu_assign_pointer()` inside); for
    ///   [`MapNode`], the bucket of its map that its storage hashes to.
    #[inline]
    pub(super) unsafe fn add<'e>(&self, selem: Selem<'e>) -> OnList<'g, 'e, L> {
        // SAFETY: We hold the lock (type invariant); the caller guarantees the rest.
        unsafe { bindings::hlist_add_head_rcu(selem.node::<L>(), self.head.0.get()) };
        // INVARIANT: Just added, lock held for `'g`.
        OnList { list: *self, selem }
    }
}

/// An element on a [`Locked`] list.
///
/// # Invariants
///
/// `selem`'s `L` node is on `list`, which the current CPU may change (see [`Locked`]).
pub(super) struct OnList<'g, 'e, L: Link> {
    list: Locked<'g, L>,
    selem: Selem<'e>,
}

impl<'e, L: Link> OnList<'_, 'e, L> {
    /// The element.
    #[inline]
    pub(super) fn selem(&self) -> Selem<'e> {
        self.selem
    }

    /// `hlist_is_singular_node()`: whether this is the only element of the list.
    #[inline]
    pub(super) fn is_last(&self) -> bool {
        // SAFETY: The node is on the list whose lock we hold (type invariant).
        unsafe { bindings::hlist_is_singular_node(self.selem.node::<L>(), self.list.head.0.get()) }
    }

    /// `hlist_del_init_rcu()`: removes the element, leaving its node unhashed and its `next`
    /// intact for RCU walkers that are on it.
    #[inline]
    pub(super) fn del(self) -> Selem<'e> {
        // SAFETY: The node is on the list whose lock we hold (type invariant).
        unsafe { bindings::hlist_del_init_rcu(self.selem.node::<L>()) };
        self.selem
    }
}
