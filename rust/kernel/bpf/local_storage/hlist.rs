// SPDX-License-Identifier: GPL-2.0

//! The RCU hash lists of local storage.
//!
//! Storages and buckets keep their elements on C `hlist`s that lookups, iterators and the
//! teardown walk under RCU while writers add and remove entries under the list's lock. The
//! writers' side is the C inlines of `include/linux/rculist.h` (through `rust/helpers/bpf.c`),
//! so both languages update the lists with the same `WRITE_ONCE()`s and
//! `rcu_assign_pointer()`s; the RCU walk is done here, with the marked loads of
//! `hlist_for_each_entry_rcu()`.
//!
//! C headers: [`include/linux/list.h`](srctree/include/linux/list.h) and
//! [`include/linux/rculist.h`](srctree/include/linux/rculist.h)

use crate::{
    bindings,
    sync::atomic::{
        Atomic,
        Relaxed, //
    },
};

/// `rcu_dereference(hlist_first_rcu(head))`: the first node of `head`, or NULL.
///
/// # Safety
///
/// `head` points to an initialised `hlist_head` that stays valid for the call. The caller is in
/// an RCU read-side critical section that keeps the returned node valid, or holds the list's
/// lock.
#[inline]
pub(super) unsafe fn first_rcu(head: *mut bindings::hlist_head) -> *mut bindings::hlist_node {
    // SAFETY: `head` is valid by the safety requirements, and `first` is only written with
    // marked stores (`rcu_assign_pointer()`, `WRITE_ONCE()`) by the C list primitives.
    // `READ_ONCE()` is all that `rcu_dereference()` is outside Alpha, whose `READ_ONCE()`
    // includes the barrier.
    unsafe { Atomic::from_ptr(&raw mut (*head).first) }.load(Relaxed)
}

/// `rcu_dereference(hlist_next_rcu(node))`: the node after `node`, or NULL.
///
/// A node that was removed with [`del_init_rcu`] keeps its `next`, so a walker that is on it
/// can go on, as with `hlist_for_each_entry_rcu()`.
///
/// # Safety
///
/// `node` points to a node that stays valid for the call. The caller is in an RCU read-side
/// critical section that keeps the returned node valid, or holds the list's lock.
#[inline]
pub(super) unsafe fn next_rcu(node: *mut bindings::hlist_node) -> *mut bindings::hlist_node {
    // SAFETY: As for `first_rcu()`: `next` is only written with marked stores by the list
    // primitives while the node is reachable by RCU walkers.
    unsafe { Atomic::from_ptr(&raw mut (*node).next) }.load(Relaxed)
}

/// `INIT_HLIST_HEAD()`.
///
/// # Safety
///
/// `head` is valid for writes and not reachable by anybody else.
#[inline]
pub(super) unsafe fn init_head(head: *mut bindings::hlist_head) {
    // SAFETY: By the safety requirements.
    unsafe { bindings::INIT_HLIST_HEAD(head) }
}

/// `hlist_empty()`: whether `head` has no node, read with `READ_ONCE()`, so also without the
/// list's lock.
///
/// # Safety
///
/// `head` points to an initialised `hlist_head` that stays valid for the call.
#[inline]
pub(super) unsafe fn empty(head: *mut bindings::hlist_head) -> bool {
    // SAFETY: By the safety requirements.
    unsafe { bindings::hlist_empty(head) != 0 }
}

/// `hlist_unhashed()`: whether `node` is on no list.
///
/// # Safety
///
/// `node` points to a valid node, and the caller holds the lock of the list the node is or was
/// on (the plain read must not race with a writer).
#[inline]
pub(super) unsafe fn unhashed(node: *mut bindings::hlist_node) -> bool {
    // Read here rather than through the C helper: this runs under the storage lock on every
    // lookup that misses the cache (`__bpf_local_storage_insert_cache()`), where C inlines it.
    // SAFETY: `node` is valid, and the lock we hold excludes writers of `pprev`.
    unsafe { (*node).pprev.is_null() }
}

/// `hlist_unhashed_lockless()`: [`unhashed`] without the lock, a hint that may be stale as soon
/// as it is returned.
///
/// # Safety
///
/// `node` points to a valid node.
#[inline]
pub(super) unsafe fn unhashed_lockless(node: *mut bindings::hlist_node) -> bool {
    // SAFETY: By the safety requirements; `pprev` is read with `READ_ONCE()`.
    unsafe { bindings::hlist_unhashed_lockless(node) != 0 }
}

/// `hlist_is_singular_node()`: whether `node` is the only node of `head`.
///
/// # Safety
///
/// `node` is on the list `head`, and the caller holds the list's lock.
#[inline]
pub(super) unsafe fn is_singular_node(
    node: *mut bindings::hlist_node,
    head: *mut bindings::hlist_head,
) -> bool {
    // SAFETY: By the safety requirements.
    unsafe { bindings::hlist_is_singular_node(node, head) }
}

/// `hlist_add_head_rcu()`: publishes `node` at the head of `head` to RCU walkers.
///
/// # Safety
///
/// - The caller holds the list's lock.
/// - `node` is on no list, and the object it is part of stays valid until it is removed from
///   the list and an RCU grace period has elapsed.
#[inline]
pub(super) unsafe fn add_head_rcu(
    node: *mut bindings::hlist_node,
    head: *mut bindings::hlist_head,
) {
    // SAFETY: By the safety requirements.
    unsafe { bindings::hlist_add_head_rcu(node, head) }
}

/// `hlist_del_init_rcu()`: removes `node` from its list if it is on one, leaving it unhashed;
/// RCU walkers that are on it can still go on.
///
/// # Safety
///
/// `node` is on no list, or the caller holds the lock of the list it is on.
#[inline]
pub(super) unsafe fn del_init_rcu(node: *mut bindings::hlist_node) {
    // SAFETY: By the safety requirements.
    unsafe { bindings::hlist_del_init_rcu(node) }
}
