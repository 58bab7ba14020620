// SPDX-License-Identifier: GPL-2.0

//! BPF local storage.
//!
//! Local storage lets BPF programs and user space attach a value of a map to a kernel object,
//! its *owner*: a task, a cgroup, an inode or a socket
//! (`BPF_MAP_TYPE_{TASK,CGRP,INODE,SK}_STORAGE`).
//! This is the core shared by the four storage types, the Rust implementation of
//! `kernel/bpf/bpf_local_storage.c`, selected by `CONFIG_BPF_LOCAL_STORAGE_RUST`.
//!
//! # Objects
//!
//! - A *map* (`struct bpf_local_storage_map`, `map::Map`) has no keys of its own: it defines
//!   the value size and keeps every element of the map in an array of hashed *buckets*, so that
//!   freeing the map can find them.
//! - An owner's *storage* (`struct bpf_local_storage`, `storage::Storage`), published through
//!   the owner's pointer (`task->bpf_storage`, ...), lists the owner's elements of all maps and
//!   caches up to 16 of them (`cache[]`, one slot per map, the slot chosen by
//!   `cache_idx`). With `CONFIG_BPF_LOCAL_STORAGE_INDEX`, an owner with more elements than
//!   cache slots also has an index of its elements by map (`index`), so that lookups that
//!   miss the cache stay fast.
//! - An *element* (`struct bpf_local_storage_elem`, `element::Selem`) holds one map's value
//!   for one owner. It is on two RCU lists: its owner's storage list (`snode`) and the bucket of
//!   its map selected by the storage's address (`map_node`).
//!
//! The layouts stay in `include/linux/bpf_local_storage.h`: they are part of BTF (CO-RE programs
//! read them) and C reads them too (the inline lookup, the socket iterator's `show`). The
//! Rust code works on them through small wrappers and raw field projections. The submodules are
//! private: the C entry points are the only interface.
//!
//! # Locks
//!
//! Two resilient queued spinlocks, [`RqSpinLockIrqSave`]s (interrupts saved and disabled), both
//! embedded in C structures and reached with [`Lock::from_raw`]: the storage lock `S`
//! (`local_storage->lock`) protects the storage list, its cache and `mem_charge`; the bucket lock
//! `B` (`b->lock`) protects a bucket list. `S` nests outside `B` and never the reverse
//! (`storage::StorageGuard::lock_bucket()` is the only way to take both). Every acquisition can
//! fail with `EDEADLK` or `ETIMEDOUT`; the error is returned to the helper or the system call,
//! except where there is nobody to return it to: the cache insertion (the lookup that found the
//! element succeeds anyway), and the teardown of an owner or a map, which cannot fail
//! (`teardown`).
//!
//! An element of an owner's storage and all its replacements hash to the same bucket (the
//! bucket is chosen by the *storage* pointer), so `update` swaps the old element for the new
//! one under one `S` and one `B`.
//!
//! # Memory
//!
//! Elements and storages come from `bpf_map_kmalloc_nolock()` (any context, memcg-accounted,
//! at most `KMALLOC_MAX_CACHE_SIZE`) and are freed after a grace period: RCU Tasks Trace for
//! normal deletes (`reuse_now == false`: sleepable programs may still read them; the special
//! fields of the value are freed in the callback, as a program holding the element may still
//! store a kptr into it), regular RCU (`kfree_rcu()`) when nothing but RCU readers can see them
//! any more (`reuse_now == true`: special fields freed at once). The socket storage charges
//! `elem_size` per element and `sizeof(struct bpf_local_storage)` per storage to the socket's
//! `sk_omem_alloc`; `mem_charge` mirrors the total. An owner's index is charged to the memory
//! cgroup of the map whose update built it, not to the owner.
//!
//! # C/Rust boundary
//!
//! `kernel/bpf/bpf_local_storage_rust.c` keeps every function of
//! `include/linux/bpf_local_storage.h` as a C wrapper around a `rust_`-prefixed `#[export]`
//! function declared in `kernel/bpf/bpf_local_storage_rust.h`: C functions keep their BTF (Rust
//! objects are left out of vmlinux BTF), and `bpf_local_storage_update()` is an fentry/fexit
//! target of the selftests. `bpf_local_storage_lookup()` stays a C inline in the header for its
//! cache hit; with the index, its miss path calls `bpf_local_storage_lookup_slow()`.
//!
//! The storage types are built on `backend`: where an owner keeps its storage pointer and what
//! keeps it while a program creates storage for it or deletes from it, with the helpers, the
//! system calls and the owner's free written once over that. The four are in Rust
//! (`backend::{cgroup,task,inode,sk}`), with C files for their tables and helper shells
//! (`kernel/bpf/bpf_{cgrp,task,inode}_storage_rust.c`, `net/core/bpf_sk_storage_rust.c`).
//! Socket storage adds its charge to the socket's option memory, the copy of its elements to a
//! clone of the socket, the socket diag's dump and the walk of the map's iterator.
//!
//! # Teardown
//!
//! Freeing an owner (`bpf_local_storage_destroy()`) and freeing a map
//! (`bpf_local_storage_map_free()`) cannot fail, yet race with each other on the elements they
//! share and take the same fallible locks. `teardown` has their protocol (the `selem->state` bits
//! and the owner pin), its memory ordering, the bounded retries of the two lock failures that
//! would leak, and what can still leak when the retries run out.
//!
//! # Tests
//!
//! With `CONFIG_RUST_BPF_KUNIT_TEST`, the KUnit suites `rust_bpf_local_storage_cache_idx`,
//! `rust_bpf_local_storage_index` (the index, on made-up elements),
//! `rust_bpf_local_storage_teardown` (every interleaving of destroy and map free over an
//! element, with every lock outcome, on a model driven by the real decision functions),
//! `rust_bpf_local_storage_map` and `rust_bpf_local_storage_update` test the pure parts. The
//! rest is covered by the BPF selftests (`task_local_storage`, `cgrp_local_storage`,
//! `test_local_storage`, `sk_storage_*`, `map_kptr_race`, `test_maps` `sk_storage_map`).
//!
//! C header: [`include/linux/bpf_local_storage.h`](srctree/include/linux/bpf_local_storage.h)
//!
//! [`RqSpinLockIrqSave`]: crate::sync::RqSpinLockIrqSave
//! [`Lock::from_raw`]: crate::sync::lock::Lock::from_raw

use crate::{
    bindings,
    prelude::*, //
};

mod backend;
mod cache_idx;
mod element;
mod export;
mod hlist;
mod index;
mod map;
mod owner;
mod storage;
mod teardown;
mod update;

/// `BPF_LOCAL_STORAGE_CACHE_SIZE`: the number of cache slots of a storage, and of cache indices
/// a storage type hands out to its maps.
const CACHE_SIZE: usize = bindings::BPF_LOCAL_STORAGE_CACHE_SIZE as usize;

/// `sizeof(struct bpf_local_storage)`: what a storage charges to its owner.
const STORAGE_SIZE: u32 = size_of::<bindings::bpf_local_storage>() as u32;

// `STORAGE_SIZE` must not truncate.
static_assert!(size_of::<bindings::bpf_local_storage>() <= u32::MAX as usize);
