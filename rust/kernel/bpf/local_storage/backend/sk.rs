// SPDX-License-Identifier: GPL-2.0

//! Socket storage (`BPF_MAP_TYPE_SK_STORAGE`): local storage owned by sockets.
//!
//! Programs reach a socket's storage with `bpf_sk_storage_get()` and `_delete()` (and their
//! tracing variants), user space with the map system calls on a socket's file descriptor. The
//! owners are full sockets: request and timewait sockets have no storage, and the helpers treat
//! them as no socket. A program creates storage for a socket, or deletes from it, holding a
//! reference to it, which it can only take while the socket is not being destroyed; the
//! socket's destructor then destroys the storage (`bpf_sk_storage_free()`).
//!
//! Socket storage is the one type that charges its owner: each element and the storage itself
//! are charged to the socket's option memory (`sk_omem_alloc`), within `optmem_max`, as
//! `sock_kmalloc()` is. It is also the one whose elements are copied to a new socket: when a
//! socket is cloned (a listener's accepted connection), its elements of the maps created with
//! `BPF_F_CLONE` are copied to the clone (`bpf_sk_storage_clone()`).
//!
//! Two more readers walk the storage: the socket diag (`inet_diag`), which dumps a socket's
//! values of all maps or of the maps its request names (`bpf_sk_storage_diag_*()`), and the
//! map's iterator (`bpf_iter/bpf_sk_storage_map`), which walks the map's buckets and hands each
//! element with a storage to a program.
//!
//! The C side is `net/core/bpf_sk_storage_rust.c`: the map operations and helper prototypes,
//! the helpers' `BPF_CALL` shells (with the tracing variants' context check and their
//! `.allowed` filter), the iterator's registration and `seq_file` operations, the netlink
//! attribute types, and the functions other code calls by name (`bpf_sk_storage_free()`,
//! `bpf_sk_storage_clone()`, the diag functions). Each calls one Rust function here.
//!
//! C header: [`include/net/bpf_sk_storage.h`](srctree/include/net/bpf_sk_storage.h)

use super::{
    free,
    helper_delete,
    helper_get,
    KeyRef,
    Owner,
    OwnerKind, //
};
use crate::{
    bindings,
    error::{
        from_err_ptr,
        from_result,
        to_result, //
    },
    prelude::*,
    sync::{
        atomic::{
            Atomic,
            Relaxed, //
        },
        rcu,
        Refcount, //
    },
};
use core::{
    marker::PhantomData,
    mem::ManuallyDrop,
    ptr::{
        self,
        NonNull, //
    },
};

use super::super::{
    element::{
        NewSelem,
        Selem, //
    },
    hlist::{
        Iter,
        MapNode, //
    },
    map::{
        self,
        Map, //
    },
    owner::{
        MapOwner,
        OwnerValue, //
    },
    storage::{
        self,
        Storage, //
    },
};

/// `BPF_F_CLONE`: the map's elements are copied to the clones of their socket.
const F_CLONE: u32 = bindings::BPF_F_CLONE;

/// `BPF_MAP_TYPE_SK_STORAGE`.
const MAP_TYPE: bindings::bpf_map_type = bindings::bpf_map_type_BPF_MAP_TYPE_SK_STORAGE;

/// `SK_DIAG_BPF_STORAGE_REQ_MAP_FD`: a map a diag request names, by a descriptor (a `u32`).
const REQ_MAP_FD: c_int = bindings::SK_DIAG_BPF_STORAGE_REQ_MAP_FD as c_int;
/// `SK_DIAG_BPF_STORAGE`: the nest of one value in a diag reply.
const REP_STORAGE: c_int = bindings::SK_DIAG_BPF_STORAGE as c_int;
/// `SK_DIAG_BPF_STORAGE_PAD`: the padding before a 64-bit aligned value.
const REP_PAD: c_int = bindings::SK_DIAG_BPF_STORAGE_PAD as c_int;
/// `SK_DIAG_BPF_STORAGE_MAP_ID`: the id of the value's map.
const REP_MAP_ID: c_int = bindings::SK_DIAG_BPF_STORAGE_MAP_ID as c_int;
/// `SK_DIAG_BPF_STORAGE_MAP_VALUE`: the value.
const REP_MAP_VALUE: c_int = bindings::SK_DIAG_BPF_STORAGE_MAP_VALUE as c_int;

/// `NLA_HDRLEN`, a cast that bindgen cannot evaluate: the size of an attribute's header,
/// aligned to `NLA_ALIGNTO`.
const NLA_HDRLEN: u32 = {
    let align = bindings::NLA_ALIGNTO as usize;
    ((size_of::<bindings::nlattr>() + align - 1) & !(align - 1)) as u32
};

// A value fits in the payload of an attribute, whose `nla_len` is a `u16`.
static_assert!(u16::MAX as u32 - NLA_HDRLEN >= map::MAX_VALUE_SIZE);

/// The owners of socket storage: full sockets, `struct sock`.
///
/// Request and timewait sockets are only a `struct sock_common`, without a storage pointer; the
/// helpers treat them as no socket ([`full_sock`]), and descriptors only lead to full sockets.
///
/// Its members are reached at the offsets C computes (`bindings::SOCK_*_OFFSET`), not through
/// bindgen's `struct sock`, whose layout is not C's in every configuration.
pub(super) struct Sock;

// SAFETY: `&sk->sk_bpf_storage` is the socket's storage pointer, the one `bpf_sk_storage_ptr()`
// returns.
unsafe impl OwnerKind for Sock {
    type Raw = bindings::sock;

    #[inline]
    fn storage_ptr(owner: &Owner<'_, Self>) -> Option<NonNull<*mut bindings::bpf_local_storage>> {
        // SAFETY: The offset of `sk_bpf_storage` in `struct sock`.
        Some(unsafe { owner.member(bindings::SOCK_BPF_STORAGE_OFFSET) })
    }

    /// A reference to the socket.
    type Pin = SockRef;

    /// While a reference to the socket can be taken (`refcount_inc_not_zero(&sk->sk_refcnt)`),
    /// holding it: a socket whose count dropped to zero is being destroyed, its destructor may
    /// already have destroyed its storage, and what a program created then would leak.
    #[inline]
    fn pin_for_create(owner: &Owner<'_, Self>) -> Option<SockRef> {
        SockRef::inc_not_zero(owner)
    }

    /// Likewise: the elements of a socket being destroyed are its destructor's to free.
    #[inline]
    fn pin_for_delete(owner: &Owner<'_, Self>) -> Option<SockRef> {
        SockRef::inc_not_zero(owner)
    }

    const FREE_DISABLES_MIGRATION: bool = true;

    /// The storage's charge goes back to the socket's option memory.
    #[inline]
    fn uncharge_destroyed(owner: &Owner<'_, Self>, charge: u32) {
        owner.uncharge(charge);
    }
}

impl<'a> Owner<'a, Sock> {
    /// `&sk->sk_refcnt`: the socket's reference count.
    #[inline]
    fn refcnt(&self) -> &'a Refcount {
        // SAFETY: The offset of `sk_refcnt` in `struct sock`.
        let refcnt = unsafe { self.member(bindings::SOCK_REFCNT_OFFSET) };
        // SAFETY: The reference count of a socket that stays allocated for `'a` (the `Owner`
        // invariant), initialised with it and only accessed as a refcount.
        unsafe { Refcount::from_raw(refcnt.as_ptr()) }
    }

    /// `&sk->sk_omem_alloc`: the socket's option memory, which its storage is charged to.
    #[inline]
    fn omem_alloc(&self) -> &'a Atomic<i32> {
        // SAFETY: The offset of `sk_omem_alloc` in `struct sock`, an `atomic_t`, whose counter
        // is its one member.
        let omem = unsafe { self.member::<i32>(bindings::SOCK_OMEM_ALLOC_OFFSET) };
        // SAFETY: The counter of an `atomic_t` of a socket that stays allocated for `'a` (the
        // `Owner` invariant), only accessed atomically.
        unsafe { Atomic::from_ptr(omem.as_ptr()) }
    }

    /// `READ_ONCE(sock_net(sk)->core.sysctl_optmem_max)`: the limit of the socket's option
    /// memory, a sysctl of its network namespace.
    #[inline]
    fn optmem_max(&self) -> c_int {
        // SAFETY: A socket that stays allocated during the call (the `Owner` invariant).
        let net = unsafe { bindings::sock_net(self.as_ptr()) };
        // SAFETY: `net.core.sysctl_optmem_max`, at its offset, within the namespace.
        let max = unsafe { net.byte_add(bindings::NET_OPTMEM_MAX_OFFSET) }.cast::<c_int>();
        // SAFETY: An `int` of the socket's namespace, which outlives its sockets. The sysctl
        // handler may write it at any time: a marked load, as `READ_ONCE()`.
        unsafe { Atomic::from_ptr(max) }.load(Relaxed)
    }

    /// Charges `size` bytes to the socket's option memory: `bpf_sk_storage_charge()`. Fails
    /// with `ENOMEM` if they do not fit ([`omem_fits`]).
    #[inline]
    fn charge(&self, size: u32) -> Result {
        let optmem_max = self.optmem_max();
        let omem = self.omem_alloc();
        if !omem_fits(omem.load(Relaxed), size, optmem_max) {
            return Err(ENOMEM);
        }
        // CAST: `atomic_add()` takes an `int`, which C converts `size` to.
        omem.add(size as i32, Relaxed);
        Ok(())
    }

    /// Returns `size` bytes charged to the socket's option memory: `bpf_sk_storage_uncharge()`.
    #[inline]
    fn uncharge(&self, size: u32) {
        // CAST: `atomic_sub()` takes an `int`, which C converts `size` to.
        self.omem_alloc().fetch_sub(size as i32, Relaxed);
    }
}

/// Whether `size` more bytes fit in a socket's option memory, which `omem` bytes already take
/// out of `optmem_max`: the test of `sock_kmalloc()`, in its C types.
///
/// `size` is unsigned, so C compares unsigned and the sum wraps: a negative `optmem_max` is a
/// very large limit, and a negative `omem` (more uncharged than charged) a very large use.
fn omem_fits(omem: c_int, size: u32, optmem_max: c_int) -> bool {
    // CAST: `int` to `unsigned int`, as C converts both.
    let (omem, max) = (omem as u32, optmem_max as u32);
    size <= max && omem.wrapping_add(size) < max
}

/// A reference to a full socket, taken with `refcount_inc_not_zero(&sk->sk_refcnt)` and put
/// with `sock_put()` on drop: what a program holds on a socket while it creates its storage or
/// deletes from it.
///
/// # Invariants
///
/// `self.0` is a full socket, and we hold a reference to it.
pub(super) struct SockRef(NonNull<bindings::sock>);

impl SockRef {
    /// Takes a reference to `sk`, unless its count already dropped to zero.
    #[inline]
    fn inc_not_zero(sk: &Owner<'_, Sock>) -> Option<Self> {
        if !sk.refcnt().inc_not_zero() {
            return None;
        }
        // INVARIANT: An owner of kind `Sock` is a full socket, and we just took a reference.
        Some(Self(sk.ptr))
    }
}

impl Drop for SockRef {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: We hold a reference to a full socket (type invariant), and give it back; a
        // full socket is put with `sock_put()`, not `sock_gen_put()`.
        unsafe { bindings::sock_put(self.0.as_ptr()) }
    }
}

/// `sk` if it is a full socket (`sk_fullsock()`), NULL if it is NULL or another kind of socket:
/// the helpers treat request and timewait sockets as no socket.
///
/// # Safety
///
/// `sk` is NULL or points to a socket of any kind (a `struct sock_common`) that stays allocated
/// during the call.
#[inline]
unsafe fn full_sock(sk: *mut bindings::sock) -> *mut bindings::sock {
    // SAFETY: A socket that stays allocated during the call (our contract); `sk_fullsock()` only
    // reads its state, in the `struct sock_common` every kind of socket starts with.
    if sk.is_null() || !unsafe { bindings::sk_fullsock(sk) } {
        return ptr::null_mut();
    }
    sk
}

/// `sk` as an owner for as long as `rcu` is held; `None` if it is NULL.
///
/// # Safety
///
/// `sk` is NULL or a full socket that stays allocated while `rcu` is held.
#[inline]
unsafe fn sock_in<'g>(sk: *mut bindings::sock, _rcu: &'g rcu::Guard) -> Option<Owner<'g, Sock>> {
    // SAFETY: By our contract; `_rcu` keeps the current CPU in an RCU read-side critical section
    // for `'g`.
    unsafe { Owner::from_raw(sk) }
}

/// A reference to a socket's file, taken from a descriptor with `sockfd_lookup()` and put on
/// drop (`sockfd_put()`).
///
/// # Invariants
///
/// `self.0` is a socket whose file we hold a reference to.
pub(super) struct SocketRef(NonNull<bindings::socket>);

impl KeyRef for SocketRef {
    type Kind = Sock;

    /// `sockfd_lookup()`. Fails with `EBADF` for a descriptor that is not open, `ENOTSOCK` for
    /// one that is not a socket.
    fn from_fd(fd: c_int) -> Result<Self> {
        let mut err = 0;
        // SAFETY: Any descriptor is a valid argument; `err` is a valid place for the error.
        let sock = unsafe { bindings::sockfd_lookup(fd, &mut err) };
        // INVARIANT: On success it returns the socket, with a reference to its file for us; on
        // failure NULL, and the error in `err`.
        NonNull::new(sock)
            .map(Self)
            .ok_or_else(|| Error::from_errno(err))
    }

    /// `sock->sk`, the socket's full socket.
    #[inline]
    unsafe fn owner(&self) -> Result<Owner<'_, Sock>> {
        // SAFETY: Our reference to the file keeps the socket, and its `sk`, which the socket's
        // release alone clears, while `self` is borrowed.
        let sk = unsafe { (*self.0.as_ptr()).sk };
        // SAFETY: As above, `sk` stays allocated while `self` is borrowed; the caller is in an
        // RCU read section. A socket with a file always has a full socket: NULL would be a bug,
        // treated as a bad descriptor rather than followed.
        unsafe { Owner::from_raw(sk) }.ok_or(EBADF)
    }
}

impl Drop for SocketRef {
    fn drop(&mut self) {
        let sock = self.0.as_ptr();
        // SAFETY: We hold a reference to the socket's file (type invariant), and give it back:
        // `sockfd_put(sock)`, a macro for `fput(sock->file)`.
        unsafe { bindings::fput((*sock).file) }
    }
}

/// A reference to a BPF map, put with `bpf_map_put()` on drop.
///
/// # Invariants
///
/// We hold a reference to the map.
struct MapRef(NonNull<bindings::bpf_map>);

impl MapRef {
    /// `bpf_map_inc_not_zero()`: a reference to `smap`, unless it has none left, which means
    /// its free has started.
    fn inc_not_zero(smap: &Map) -> Option<Self> {
        // SAFETY: `smap` is a live map while borrowed (the `Map` invariant); the increment fails
        // once the count reached zero.
        let map = unsafe { bindings::bpf_map_inc_not_zero(smap.bpf_map()) };
        // INVARIANT: On success it returns the map, with a reference for us; else
        // `ERR_PTR(-ENOENT)`.
        from_err_ptr(map).ok().and_then(NonNull::new).map(Self)
    }

    /// `bpf_map_get()`: the map that descriptor `fd` refers to. Fails with `EBADF` for a
    /// descriptor that is not open, `EINVAL` for one that is not a map.
    fn get(fd: u32) -> Result<Self> {
        // SAFETY: Any value is a valid argument; a bad one makes it fail.
        let map = from_err_ptr(unsafe { bindings::bpf_map_get(fd) })?;
        // INVARIANT: On success it returns the map, with a reference for us.
        NonNull::new(map).map(Self).ok_or(EBADF)
    }

    /// The raw pointer to the map.
    #[inline]
    fn as_ptr(&self) -> *mut bindings::bpf_map {
        self.0.as_ptr()
    }

    /// `map->map_type`.
    #[inline]
    fn map_type(&self) -> bindings::bpf_map_type {
        // SAFETY: Our reference keeps the map; its type is set at its creation and never
        // changed, so a plain read does not race.
        unsafe { (*self.as_ptr()).map_type }
    }
}

impl Drop for MapRef {
    fn drop(&mut self) {
        // SAFETY: We hold a reference (type invariant), and give it back.
        unsafe { bindings::bpf_map_put(self.as_ptr()) }
    }
}

/// Copies a value of `smap` from `src` to `dst`, under `src`'s `bpf_spin_lock` if the values
/// have one, leaving the special fields of `dst` (kptrs, timers, ...) as they are:
/// `copy_map_value_locked()` or `copy_map_value()`.
///
/// # Safety
///
/// `src` and `dst` point to `value_size` bytes laid out as `smap`'s values, allocated during the
/// call; `src` is the value of an element of `smap`, and `dst` is writable and nobody else's.
unsafe fn copy_value(smap: &Map, dst: *mut c_void, src: *mut c_void) {
    if smap.has_field(bindings::btf_field_type_BPF_SPIN_LOCK) {
        // SAFETY: By our contract; the values have a spin lock, which this takes in `src`.
        unsafe { bindings::copy_map_value_locked(smap.bpf_map(), dst, src, true) }
    } else {
        // SAFETY: By our contract.
        unsafe { bindings::copy_map_value(smap.bpf_map(), dst, src) }
    }
}

/// `bpf_sk_storage_free()`: destroys the storage of a socket being destructed, and returns what
/// the storage still charged to the socket's option memory.
///
/// # Safety
///
/// `sk` is a full socket being destructed (`__sk_destruct()`, also for a clone that
/// `sk_clone()` gave up on): no program or system call can create its storage any more, and
/// this is called once for it, where an RCU read-side critical section may be entered.
#[export]
unsafe extern "C" fn rust_bpf_sk_storage_free(sk: *mut bindings::sock) {
    // SAFETY: Our contract is `free()`'s.
    unsafe { free::<Sock>(sk) }
}

export_storage_syscalls!(sk, SocketRef);

/// The helper `bpf_sk_storage_get()`, and `bpf_sk_storage_get_tracing()` once its C shell has
/// checked the context. NULL for a socket that is not a full one, as for no socket.
///
/// # Safety
///
/// As for [`helper_get`], except that `sk` may be a socket of any kind (the verifier's
/// `ARG_PTR_TO_BTF_ID_SOCK_COMMON`).
#[export]
unsafe extern "C" fn rust_bpf_sk_storage_get(
    map: *mut bindings::bpf_map,
    sk: *mut bindings::sock,
    value: *mut c_void,
    flags: u64,
) -> *mut c_void {
    // SAFETY: `full_sock()` takes a socket of any kind, or NULL, that stays allocated during the
    // program, and gives a full socket or NULL; the rest is our contract, `helper_get()`'s.
    unsafe { helper_get::<Sock>(map, full_sock(sk), value, flags) }
}

/// The helper `bpf_sk_storage_delete()`, and `bpf_sk_storage_delete_tracing()` once its C
/// shell has checked the context. `EINVAL` for a socket that is not a full one, as for no
/// socket; `ENOENT` for one being destroyed.
///
/// # Safety
///
/// As for [`helper_delete`], except that `sk` may be a socket of any kind.
#[export]
unsafe extern "C" fn rust_bpf_sk_storage_delete(
    map: *mut bindings::bpf_map,
    sk: *mut bindings::sock,
) -> c_int {
    // SAFETY: As for `rust_bpf_sk_storage_get()`.
    unsafe { helper_delete::<Sock>(map, full_sock(sk)) }
}

/// `bpf_sk_storage_charge()`, the map's `map_local_storage_charge`: charges `size` bytes to the
/// socket's option memory. Returns 0, or `-ENOMEM` if they do not fit.
///
/// # Safety
///
/// `owner` is a full socket that stays allocated during the call (the core's [`MapOwner`]),
/// and the caller is in an RCU read-side critical section.
#[export]
unsafe extern "C" fn rust_bpf_sk_storage_charge(
    _smap: *mut bindings::bpf_local_storage_map,
    owner: *mut c_void,
    size: u32,
) -> c_int {
    from_result(|| {
        // SAFETY: By our contract: a full socket, so not NULL.
        let sk = unsafe { Owner::<Sock>::from_raw_nonnull(owner.cast()) };
        sk.charge(size)?;
        Ok(0)
    })
}

/// `bpf_sk_storage_uncharge()`, the map's `map_local_storage_uncharge`: returns `size` bytes
/// charged to the socket's option memory.
///
/// # Safety
///
/// As for [`rust_bpf_sk_storage_charge`]; `size` bytes were charged to the socket.
#[export]
unsafe extern "C" fn rust_bpf_sk_storage_uncharge(
    _smap: *mut bindings::bpf_local_storage_map,
    owner: *mut c_void,
    size: u32,
) {
    // SAFETY: By our contract: a full socket, so not NULL.
    unsafe { Owner::<Sock>::from_raw_nonnull(owner.cast()) }.uncharge(size);
}

/// Allocates a copy of `selem` for `owner`, with the value of `selem` (copied under its
/// `bpf_spin_lock` if it has one), charged to `owner`: `bpf_sk_storage_clone_elem()`. `None`
/// if the charge or the allocation fails.
///
/// # Safety
///
/// `selem` is an element of `owner`'s map.
unsafe fn clone_elem<'a>(owner: MapOwner<'a>, selem: Selem<'_>) -> Option<NewSelem<'a>> {
    // SAFETY: No value: the copy below fills it in.
    let new = unsafe { OwnerValue::new(owner, ptr::null_mut(), false) };
    let copy = NewSelem::alloc(&new)?;
    // SAFETY: `selem` is an element of `owner`'s map (our contract), allocated while borrowed;
    // the copy is a new element of the map, ours.
    unsafe { copy_value(owner.map(), copy.selem().data(), selem.data()) };
    Some(copy)
}

/// Links `copy` to `storage`: to its bucket of the map, under the bucket lock, then to the
/// storage list, without the storage lock (`bpf_selem_link_map()`, then
/// `bpf_selem_link_storage_nolock()`). The lists own the element from then on.
///
/// Fails with the bucket lock's error (`EDEADLK`, `ETIMEDOUT`); `copy` is then freed and
/// uncharged.
///
/// # Safety
///
/// `storage` is the storage of `copy`'s owner, a socket being cloned, made by this clone (so it
/// has no index), which nothing else changes during the call, and stays allocated during it.
unsafe fn link_copy(storage: &Storage, copy: NewSelem<'_>) -> Result {
    let smap = copy.owner().map();
    {
        let bucket = smap.bucket(storage.as_raw()).lock_irqsave()?;
        // SAFETY: A new element is on no bucket list, and the storage it is linked to just below
        // hashes to this bucket. Nothing fails between here and that link, so the element is not
        // freed while it is on the bucket.
        unsafe { bucket.link(copy.selem()) };
        // The bucket lock is released here.
    }
    let selem = copy.into_owned_by_lists();
    // SAFETY: Nothing else changes the storage, which has no index (our contract; the socket's
    // first update past the cache builds it); `selem` is on no storage list, and its map is
    // alive (its owner's).
    unsafe { storage.link_unindexed(selem, smap) };
    Ok(())
}

/// Copies `sk`'s elements of the maps created with `BPF_F_CLONE` to `newsk`, its clone:
/// `bpf_sk_storage_clone()`.
///
/// Each copy is charged to `newsk`. The first one comes with `newsk`'s storage
/// ([`storage::alloc`]); the next ones are linked to their bucket, then to that storage, which
/// nothing else changes yet. A map is pinned while its element is copied; a map whose free has
/// started is skipped, as are elements whose map is gone.
///
/// Fails with `ENOMEM` if a copy cannot be charged or allocated, or with the error of a lock or
/// of the storage's allocation. The copy that failed is freed and uncharged; those before it
/// stay in `newsk`'s storage, for `newsk`'s destructor to destroy (`sk_clone()` frees `newsk`
/// on error).
///
/// # Safety
///
/// `sk` is a full socket being cloned, and `newsk` its clone, a full socket without storage that
/// nothing else can reach yet; both stay allocated during the call.
unsafe fn clone_storage(sk: *const bindings::sock, newsk: *mut bindings::sock) -> Result {
    let rcu = rcu::Guard::new();
    // SAFETY: By our contract, while `rcu` is held.
    let Some(sk_storage) = (unsafe { sock_in(sk.cast_mut(), &rcu) }).and_then(|sk| sk.storage())
    else {
        return Ok(());
    };
    if sk_storage.is_empty_lockless() {
        return Ok(());
    }

    let mut new_storage: Option<&Storage> = None;
    for selem in sk_storage.list().iter(&rcu) {
        let Some(smap) = selem.map() else {
            continue;
        };
        if smap.flags() & F_CLONE == 0 {
            continue;
        }
        // Adding an element to a map races with its free, which drains its buckets: pin the map,
        // or skip it if its free has started. Map free waits for the RCU read sections that
        // may have found the map (ours) before it drains the buckets, so a pinned map is not
        // drained before we are done.
        let Some(_map) = MapRef::inc_not_zero(smap) else {
            continue;
        };
        // SAFETY: `newsk` is a full socket that stays allocated during the call (our contract),
        // and `rcu` is held.
        let owner = unsafe { MapOwner::new(smap, newsk.cast()) };
        // SAFETY: `smap` is `selem`'s map, just read from it.
        let copy = unsafe { clone_elem(owner, selem) }.ok_or(ENOMEM)?;
        match new_storage {
            // SAFETY: `newsk`'s storage, the storage of `copy`'s owner, made by this clone,
            // which nothing else changes yet (our contract) and stays allocated until `newsk`'s
            // destructor.
            Some(new) => unsafe { link_copy(new, copy) }?,
            None => {
                // A socket always has the pointer.
                let slot = owner.storage_slot().ok_or(EINVAL)?;
                // On failure it drops the copy, which frees and uncharges it.
                // SAFETY: `slot` is `newsk`'s, the owner of `copy`.
                let first = unsafe { storage::alloc(copy, slot) }?;
                // SAFETY: The storage just published to `newsk`, which nothing else can reach
                // yet: it stays allocated until `newsk`'s destructor destroys it.
                new_storage = Some(unsafe { Storage::from_raw(first.local_storage()) });
            }
        }
        // The map is put here, after the copy is linked or freed.
    }
    Ok(())
}

/// `bpf_sk_storage_clone()`: returns 0 or a negative errno, as [`clone_storage`].
///
/// # Safety
///
/// As for [`clone_storage`] (`sk_clone()` calls it on a listener's clone).
#[export]
unsafe extern "C" fn rust_bpf_sk_storage_clone(
    sk: *const bindings::sock,
    newsk: *mut bindings::sock,
) -> c_int {
    from_result(|| {
        // SAFETY: Our contract is `clone_storage()`'s.
        unsafe { clone_storage(sk, newsk) }?;
        Ok(0)
    })
}

/// A netlink attribute of a request: `struct nlattr`, then its payload.
///
/// # Invariants
///
/// `self.0` points to an attribute whose header and payload (`nla_len` bytes in all) are
/// readable and do not change for `'a`.
#[derive(Clone, Copy)]
struct Attr<'a>(NonNull<bindings::nlattr>, PhantomData<&'a bindings::nlattr>);

impl<'a> Attr<'a> {
    /// Wraps a pointer to an attribute; `None` if it is NULL.
    ///
    /// # Safety
    ///
    /// `nla` is NULL or points to an attribute whose header and payload are readable and do not
    /// change for `'a`.
    unsafe fn from_raw(nla: *const bindings::nlattr) -> Option<Self> {
        // INVARIANT: By the safety requirements.
        Some(Self(NonNull::new(nla.cast_mut())?, PhantomData))
    }

    /// The payload as a `u32` (`nla_get_u32()`), if it is one: `None` unless `nla_len()` is 4.
    fn get_u32(self) -> Option<u32> {
        // SAFETY: A valid attribute (type invariant).
        if unsafe { bindings::nla_len(self.0.as_ptr()) } as usize != size_of::<u32>() {
            return None;
        }
        // SAFETY: A valid attribute (type invariant) with a 4-byte payload (checked above).
        Some(unsafe { bindings::nla_get_u32(self.0.as_ptr()) })
    }

    /// The attributes of type `kind` in the payload: `nla_for_each_nested_type()`.
    fn nested(self, kind: c_int) -> Nested<'a> {
        let nla = self.0.as_ptr();
        // SAFETY: A valid attribute (type invariant).
        let (pos, rem) = unsafe { (bindings::nla_data(nla), bindings::nla_len(nla)) };
        // INVARIANT: The payload of a valid attribute, `rem` bytes from `pos`.
        Nested {
            pos: pos.cast(),
            rem: c_int::from(rem),
            kind,
            _p: PhantomData,
        }
    }
}

/// The walk of [`Attr::nested`].
///
/// # Invariants
///
/// The `rem` bytes from `pos` are within the payload of an [`Attr<'a>`].
struct Nested<'a> {
    pos: *const bindings::nlattr,
    rem: c_int,
    kind: c_int,
    _p: PhantomData<Attr<'a>>,
}

impl<'a> Iterator for Nested<'a> {
    type Item = Attr<'a>;

    fn next(&mut self) -> Option<Attr<'a>> {
        loop {
            // SAFETY: `nla_ok()` reads the header at `pos` only if the `rem` bytes (type
            // invariant) hold one.
            if unsafe { bindings::nla_ok(self.pos, self.rem) } == 0 {
                return None;
            }
            let nla = self.pos;
            // INVARIANT: `nla_next()` steps over the attribute at `pos`, which `nla_ok()` found
            // whole within the `rem` bytes, and takes its aligned size off `rem`.
            // SAFETY: As above.
            self.pos = unsafe { bindings::nla_next(nla, &mut self.rem) };
            // SAFETY: As above, `nla` is a whole attribute within the payload.
            if unsafe { bindings::nla_type(nla) } == self.kind {
                // SAFETY: As above, for `'a`.
                return unsafe { Attr::from_raw(nla) };
            }
        }
    }
}

/// The skb of a socket diag reply, which attributes are put in.
///
/// # Invariants
///
/// `self.0` points to an skb that only the current thread changes for `'a`, and may put
/// attributes in.
struct Reply<'a>(
    NonNull<bindings::sk_buff>,
    PhantomData<&'a mut bindings::sk_buff>,
);

impl<'a> Reply<'a> {
    /// Wraps a pointer to the skb of a reply; `None` if it is NULL.
    ///
    /// # Safety
    ///
    /// `skb` is NULL or an skb that only the current thread changes for `'a`.
    unsafe fn from_raw(skb: *mut bindings::sk_buff) -> Option<Self> {
        // INVARIANT: By the safety requirements.
        Some(Self(NonNull::new(skb)?, PhantomData))
    }

    /// The raw pointer to the skb.
    #[inline]
    fn as_ptr(&self) -> *mut bindings::sk_buff {
        self.0.as_ptr()
    }

    /// `skb->len`: the length of the reply so far.
    #[inline]
    fn len(&self) -> c_uint {
        // SAFETY: `skb->len`, at its offset, of a valid skb that only we change (type
        // invariant).
        unsafe {
            self.as_ptr()
                .byte_add(bindings::SK_BUFF_LEN_OFFSET)
                .cast::<c_uint>()
                .read()
        }
    }

    /// Starts a nest of type `attrtype` (`nla_nest_start()`); `None` if it does not fit.
    fn nest_start(&self, attrtype: c_int) -> Option<Nest<'_, 'a>> {
        // SAFETY: A valid skb that we may put attributes in (type invariant).
        let start = unsafe { bindings::nla_nest_start(self.as_ptr(), attrtype) };
        // INVARIANT: The nest's header, just put in this skb.
        Some(Nest {
            reply: self,
            start: NonNull::new(start)?,
        })
    }

    /// Puts a `u32` attribute (`nla_put_u32()`). Fails with `EMSGSIZE` if it does not fit.
    fn put_u32(&self, attrtype: c_int, value: u32) -> Result {
        // SAFETY: A valid skb that we may put attributes in (type invariant).
        to_result(unsafe { bindings::nla_put_u32(self.as_ptr(), attrtype, value) })
    }

    /// Reserves an attribute with a payload of `len` bytes, 64-bit aligned after a padding
    /// attribute `padattr` if needed (`nla_reserve_64bit()`), and returns its payload, which
    /// the caller fills in; `None` if it does not fit.
    fn reserve_64bit(&self, attrtype: c_int, len: c_int, padattr: c_int) -> Option<*mut c_void> {
        // SAFETY: A valid skb that we may put attributes in (type invariant).
        let nla = unsafe { bindings::nla_reserve_64bit(self.as_ptr(), attrtype, len, padattr) };
        if nla.is_null() {
            return None;
        }
        // SAFETY: An attribute just reserved in the skb, with its payload.
        Some(unsafe { bindings::nla_data(nla) })
    }
}

/// A nest started in a reply (`nla_nest_start()`), which attributes put in the reply go into
/// until it is ended. Dropping it cancels it (`nla_nest_cancel()`): the reply is trimmed back to
/// before the nest.
///
/// # Invariants
///
/// `start` is the header of a nest in `reply`'s skb, which nothing trimmed off since.
struct Nest<'r, 'a> {
    reply: &'r Reply<'a>,
    start: NonNull<bindings::nlattr>,
}

impl Nest<'_, '_> {
    /// Ends the nest (`nla_nest_end()`): it holds what was put in the reply since it started.
    fn end(self) {
        let this = ManuallyDrop::new(self);
        // SAFETY: The header of a nest in the skb (type invariant).
        unsafe { bindings::nla_nest_end(this.reply.as_ptr(), this.start.as_ptr()) };
    }

    /// Cancels the nest, with what was put in it.
    fn cancel(self) {}
}

impl Drop for Nest<'_, '_> {
    fn drop(&mut self) {
        // SAFETY: The header of a nest in the skb (type invariant); trimming back to it drops
        // what was put since, which nothing else points to.
        unsafe { bindings::nla_nest_cancel(self.reply.as_ptr(), self.start.as_ptr()) }
    }
}

/// `nla_total_size()`: the size of an attribute with a payload of `payload` bytes, padding
/// included.
#[inline]
fn nla_total_size(payload: c_int) -> c_int {
    // SAFETY: Arithmetic only.
    unsafe { bindings::nla_total_size(payload) }
}

/// `nla_total_size_64bit()`: as [`nla_total_size`], for a 64-bit aligned payload, with its
/// padding attribute where unaligned access is costly.
#[inline]
fn nla_total_size_64bit(payload: c_int) -> c_int {
    // SAFETY: Arithmetic only.
    unsafe { bindings::nla_total_size_64bit(payload) }
}

/// `nla_value_size()`: the size of the nest of one value in a reply: `SK_DIAG_BPF_STORAGE`
/// with the map's id and the value.
fn value_nest_size(value_size: u32) -> c_int {
    // CAST: C passes `value_size` as an `int`; it is at most `MAX_VALUE_SIZE`.
    nla_total_size(0)
        + nla_total_size(size_of::<u32>() as c_int)
        + nla_total_size_64bit(value_size as c_int)
}

/// Puts `selem`'s value in the reply: a nest of `SK_DIAG_BPF_STORAGE` with the id of `smap`,
/// its map, and a copy of the value, taken under its `bpf_spin_lock` if it has one, with the
/// special fields (kptrs, timers, ...) zeroed: `diag_get()`.
///
/// Fails with `EMSGSIZE` if it does not fit, leaving nothing of it in the reply.
fn put_value(reply: &Reply<'_>, smap: &Map, selem: Selem<'_>) -> Result {
    let nest = reply.nest_start(REP_STORAGE).ok_or(EMSGSIZE)?;
    reply.put_u32(REP_MAP_ID, smap.id())?;
    // CAST: C passes `value_size` as an `int`; it is at most `MAX_VALUE_SIZE`.
    let dst = reply
        .reserve_64bit(REP_MAP_VALUE, smap.value_size() as c_int, REP_PAD)
        .ok_or(EMSGSIZE)?;
    // SAFETY: `dst` is `value_size` bytes just reserved in our reply; `selem` is an element of
    // `smap`, allocated while borrowed.
    unsafe {
        copy_value(smap, dst, selem.data());
        bindings::check_and_init_map_value(smap.bpf_map(), dst);
    }
    nest.end();
    Ok(())
}

/// What a socket diag put in its reply.
struct Dump {
    /// The size of the socket's nest with all the values asked for, 0 if it has none of them.
    size: c_uint,
    /// `EMSGSIZE` if not all of them fit: the caller tries again with a reply of `size`.
    result: Result,
}

/// The maps a socket diag request names, each once (`SK_DIAG_BPF_STORAGE_REQ_MAP_FD`), whose
/// values the diag dumps; none for all maps. C knows it as the opaque
/// `struct bpf_sk_storage_diag`.
struct Diag {
    maps: KVec<SkMap>,
}

impl Diag {
    /// `bpf_sk_storage_diag_alloc()`: takes a reference to each map the request's attribute
    /// `nla_stgs` names.
    ///
    /// Fails with `EPERM` without `CAP_BPF` (or `CAP_SYS_ADMIN`), which creating a socket storage
    /// map needs too; `EINVAL` for a map attribute whose payload is not a `u32` or a map that is
    /// not a socket storage map; `EEXIST` for a map named twice; `ENOMEM`; and as
    /// `bpf_map_get()` for a bad descriptor. All attributes are checked before any map is.
    fn new(nla_stgs: Option<Attr<'_>>) -> Result<KBox<Self>> {
        // SAFETY: No requirements: it checks the current task's capabilities.
        if !unsafe { bindings::bpf_capable() } {
            return Err(EPERM);
        }
        // NULL would be a bug of the caller: an attribute without maps is how it asks for all.
        let nla_stgs = nla_stgs.ok_or(EINVAL)?;

        let mut nr_maps = 0;
        for nla in nla_stgs.nested(REQ_MAP_FD) {
            nla.get_u32().ok_or(EINVAL)?;
            nr_maps += 1;
        }

        let maps = KVec::with_capacity(nr_maps, GFP_KERNEL)?;
        let mut diag = KBox::new(Self { maps }, GFP_KERNEL)?;
        for nla in nla_stgs.nested(REQ_MAP_FD) {
            // Checked by the first walk of the same attributes.
            let fd = nla.get_u32().ok_or(EINVAL)?;
            let map = SkMap::new(MapRef::get(fd)?)?;
            if diag.maps.iter().any(|m| m.is(&map)) {
                return Err(EEXIST);
            }
            diag.maps.push(map, GFP_KERNEL)?;
        }
        Ok(diag)
    }

    /// `bpf_sk_storage_diag_put()`: puts the socket's values of the diag's maps, or all its
    /// values if the diag names no map, in a nest of type `stg_array_type` of the reply.
    ///
    /// The socket's storage is read in one RCU read-side critical section. A value that does
    /// not fit is left out whole, and the nest if none fit; the size counts them all, so that
    /// the caller can try again with a reply that large.
    ///
    /// # Safety
    ///
    /// `sk` is a full socket that stays allocated during the call.
    unsafe fn put(
        &self,
        sk: *mut bindings::sock,
        reply: &Reply<'_>,
        stg_array_type: c_int,
    ) -> Dump {
        let none = Dump {
            size: 0,
            result: Ok(()),
        };
        // CAST: C converts the `int` sizes to the `unsigned int` of the total.
        let empty_size = nla_total_size(0) as c_uint;

        let rcu = rcu::Guard::new();
        // SAFETY: By our contract, while `rcu` is held.
        let Some(storage) = (unsafe { sock_in(sk, &rcu) }).and_then(|sk| sk.storage()) else {
            return none;
        };
        if storage.is_empty_lockless() {
            return none;
        }

        let nest = reply.nest_start(stg_array_type);
        // Without the nest, go on all the same, to learn the size it needs.
        let mut result = if nest.is_some() {
            Ok(())
        } else {
            Err(EMSGSIZE)
        };
        let saved_len = reply.len();
        let mut size = empty_size;
        let mut dump_one = |smap: &Map, selem: Selem<'_>| {
            // CAST: As above.
            size = size.wrapping_add(value_nest_size(smap.value_size()) as c_uint);
            if nest.is_some() && put_value(reply, smap, selem).is_err() {
                result = Err(EMSGSIZE);
            }
        };
        if self.maps.is_empty() {
            for selem in storage.list().iter(&rcu) {
                // Skip the elements whose map is being freed.
                if let Some(smap) = selem.map() {
                    dump_one(smap, selem);
                }
            }
        } else {
            for map in &self.maps {
                let smap = map.map();
                if let Some(selem) = storage.lookup(smap) {
                    dump_one(smap, selem);
                }
            }
        }
        drop(rcu);

        if let Some(nest) = nest {
            if reply.len() == saved_len {
                nest.cancel();
            } else {
                nest.end();
            }
        }
        if size == empty_size {
            return none;
        }
        Dump { size, result }
    }
}

/// A reference to a socket storage map, which a socket diag names.
///
/// # Invariants
///
/// The map is a socket storage map.
struct SkMap(MapRef);

impl SkMap {
    /// Fails with `EINVAL`, dropping `map`, if it is not a socket storage map.
    fn new(map: MapRef) -> Result<Self> {
        if map.map_type() != MAP_TYPE {
            return Err(EINVAL);
        }
        // INVARIANT: Checked just above.
        Ok(Self(map))
    }

    /// The map.
    fn map(&self) -> &Map {
        // SAFETY: A socket storage map (type invariant) is a local storage map, whose `map` is
        // the first member of its `struct bpf_local_storage_map`; our reference keeps it while
        // `self` is borrowed.
        unsafe { Map::from_raw(self.0.as_ptr().cast()) }
    }

    /// Whether both are the same map.
    fn is(&self, other: &Self) -> bool {
        ptr::eq(self.0.as_ptr(), other.0.as_ptr())
    }
}

/// `bpf_sk_storage_diag_alloc()`: returns the diag, or an `ERR_PTR()` ([`Diag::new`]).
///
/// # Safety
///
/// `nla_stgs` is NULL or points to a request's attribute, with its payload, that does not change
/// during the call.
#[export]
unsafe extern "C" fn rust_bpf_sk_storage_diag_alloc(
    nla_stgs: *const bindings::nlattr,
) -> *mut bindings::bpf_sk_storage_diag {
    // SAFETY: By our contract.
    let nla_stgs = unsafe { Attr::from_raw(nla_stgs) };
    match Diag::new(nla_stgs) {
        Ok(diag) => KBox::into_raw(diag).cast(),
        Err(e) => e.to_ptr(),
    }
}

/// `bpf_sk_storage_diag_free()`: puts the diag's maps and frees it. NULL is ignored.
///
/// # Safety
///
/// `diag` is NULL or was returned by [`rust_bpf_sk_storage_diag_alloc`], and is not used after
/// this call.
#[export]
unsafe extern "C" fn rust_bpf_sk_storage_diag_free(diag: *mut bindings::bpf_sk_storage_diag) {
    if diag.is_null() {
        return;
    }
    // SAFETY: A `KBox<Diag>` given up by `rust_bpf_sk_storage_diag_alloc()`, ours from now on.
    drop(unsafe { KBox::from_raw(diag.cast::<Diag>()) });
}

/// `bpf_sk_storage_diag_put()`: returns 0 or `-EMSGSIZE`, and the size the socket's nest needs
/// in `res_diag_size` ([`Diag::put`]).
///
/// # Safety
///
/// `diag` was returned by [`rust_bpf_sk_storage_diag_alloc`] and is not freed during the call;
/// `sk` is a full socket and `skb` a reply that only the current thread changes, both allocated
/// during the call; `res_diag_size` is writable.
#[export]
unsafe extern "C" fn rust_bpf_sk_storage_diag_put(
    diag: *mut bindings::bpf_sk_storage_diag,
    sk: *mut bindings::sock,
    skb: *mut bindings::sk_buff,
    stg_array_type: c_int,
    res_diag_size: *mut c_uint,
) -> c_int {
    // SAFETY: `res_diag_size` is writable (our contract).
    unsafe { res_diag_size.write(0) };
    // SAFETY: A `KBox<Diag>` of `rust_bpf_sk_storage_diag_alloc()`, not freed during the call
    // (our contract).
    let diag = unsafe { &*diag.cast::<Diag>() };
    // SAFETY: By our contract. NULL would be a bug of the caller.
    let Some(reply) = (unsafe { Reply::from_raw(skb) }) else {
        return EINVAL.to_errno();
    };
    // SAFETY: By our contract.
    let dump = unsafe { diag.put(sk, &reply, stg_array_type) };
    // SAFETY: As above.
    unsafe { res_diag_size.write(dump.size) };
    from_result(|| {
        dump.result?;
        Ok(0)
    })
}

/// Leaves the RCU read-side critical section that the iterator's walk kept held when it
/// returned an element.
///
/// # Safety
///
/// The last walk of the iterator ([`find_next`]) returned an element, and its section has not
/// been left: this is the one call that leaves it.
unsafe fn leave_held_section() {
    // SAFETY: The walk kept the guard of its section held (our contract), and this is the one
    // call that takes it back.
    drop(unsafe { rcu::Guard::from_kept() });
}

/// Finds the next element of the iterator's map that has a storage, after `prev` if it is not
/// NULL, else from `info->bucket_id` and `info->skip_elems`:
/// `bpf_sk_storage_map_seq_find_next()`.
///
/// Walks one bucket per RCU read-side critical section. Returns the element and its position
/// (in `info`) with the section held, for the `seq_file` to show the element in it; the next
/// walk or `stop` leaves it. Returns NULL past the last bucket, with no section held.
///
/// The walk after `prev` goes on from `prev`'s `next`, in the section `prev` was found in, even
/// if `prev` has left its bucket since; `info->skip_elems`, the position in the bucket, is
/// only used when a walk starts over from the bucket's head (a new `start`).
///
/// # Safety
///
/// `info` is the state of a `bpf_sk_storage_map` iterator, whose map it holds a reference to.
/// `prev` is NULL, and no section of a walk is held; or the element the last walk returned,
/// whose section is still held.
unsafe fn find_next(
    info: &mut bindings::bpf_iter_seq_sk_storage_map_info,
    prev: *mut bindings::bpf_local_storage_elem,
) -> *mut bindings::bpf_local_storage_elem {
    // SAFETY: The iterator holds a reference to its map (our contract), a socket storage map
    // (`bpf_iter_attach_map()` checked), whose `map` is the first member of its
    // `struct bpf_local_storage_map`.
    let smap = unsafe { Map::from_raw(info.map.cast()) };
    let n_buckets = smap.nbuckets();
    // CAST: `unsigned int` to `usize`, lossless.
    let mut bucket_id = info.bucket_id as usize;
    let mut skip_elems = info.skip_elems;
    if bucket_id >= n_buckets {
        return ptr::null_mut();
    }

    if !prev.is_null() {
        // SAFETY: The element the last walk returned, in the section that is still held (our
        // contract), which keeps it allocated.
        let prev = unsafe { Selem::from_raw(prev) };
        // SAFETY: `prev` was found on its bucket in that section.
        for (count, selem) in unsafe { Iter::<MapNode>::after(prev) }.enumerate() {
            if !selem.local_storage().is_null() {
                // CAST: A position in a bucket, as C counts it, in an `unsigned int`.
                info.skip_elems = skip_elems.wrapping_add(count as c_uint);
                return selem.as_raw();
            }
        }
        // Nothing more in `prev`'s bucket: leave its section, and go on with the next bucket.
        bucket_id += 1;
        // SAFETY: The section the last walk kept held (our contract); nothing found in it is
        // used after this.
        unsafe { leave_held_section() };
        skip_elems = 0;
    }

    for (i, bucket) in smap.buckets().enumerate().skip(bucket_id) {
        let rcu = rcu::Guard::new();
        let found = bucket
            .list()
            .iter(&rcu)
            .enumerate()
            // CAST: `unsigned int` to `usize`, lossless.
            .find(|(count, selem)| {
                !selem.local_storage().is_null() && *count >= skip_elems as usize
            })
            .map(|(count, selem)| (count, selem.as_raw()));
        if let Some((count, selem)) = found {
            // The element is the caller's until the next walk or `stop` leaves the section.
            rcu.keep_held();
            // CAST: Below `n_buckets`, an `unsigned int` in C; a position in a bucket, as C
            // counts it.
            info.bucket_id = i as c_uint;
            info.skip_elems = count as c_uint;
            return selem;
        }
        drop(rcu);
        skip_elems = 0;
    }

    // CAST: As above.
    info.bucket_id = n_buckets as c_uint;
    info.skip_elems = 0;
    ptr::null_mut()
}

/// The `seq_file`'s `start` (`bpf_sk_storage_map_seq_start()`): the first element from the
/// iterator's position, held as [`find_next`] says; NULL past the last one.
///
/// # Safety
///
/// `info` is the state of a `bpf_sk_storage_map` iterator, whose map it holds a reference to,
/// with no section of a walk held (the `seq_file` stopped the last walk).
#[export]
unsafe extern "C" fn rust_bpf_sk_storage_map_seq_start(
    info: *mut bindings::bpf_iter_seq_sk_storage_map_info,
) -> *mut bindings::bpf_local_storage_elem {
    // SAFETY: By our contract; the `seq_file` calls its operations one at a time.
    unsafe { find_next(&mut *info, ptr::null_mut()) }
}

/// The `seq_file`'s `next` (`bpf_sk_storage_map_seq_next()`): the element after `prev`, which
/// the position now counts, held as [`find_next`] says; NULL past the last one.
///
/// # Safety
///
/// As for [`rust_bpf_sk_storage_map_seq_start`], except that `prev` is the element the last
/// `start` or `next` returned, whose section is still held.
#[export]
unsafe extern "C" fn rust_bpf_sk_storage_map_seq_next(
    info: *mut bindings::bpf_iter_seq_sk_storage_map_info,
    prev: *mut bindings::bpf_local_storage_elem,
) -> *mut bindings::bpf_local_storage_elem {
    // SAFETY: By our contract; the `seq_file` calls its operations one at a time.
    let info = unsafe { &mut *info };
    info.skip_elems = info.skip_elems.wrapping_add(1);
    // SAFETY: By our contract.
    unsafe { find_next(info, prev) }
}

/// The `seq_file`'s `stop` after an element (`bpf_sk_storage_map_seq_stop()`): leaves the RCU
/// read-side critical section the element was found in.
///
/// # Safety
///
/// The last `start` or `next` returned an element, whose section is still held.
#[export]
unsafe extern "C" fn rust_bpf_sk_storage_map_seq_stop() {
    // SAFETY: By our contract.
    unsafe { leave_held_section() }
}

#[cfg(CONFIG_RUST_BPF_KUNIT_TEST)]
#[kunit_tests(rust_bpf_sk_storage)]
mod tests {
    use super::*;

    #[test]
    fn omem_fits_below_the_limit_only() {
        assert!(omem_fits(0, 100, 20480));
        assert!(omem_fits(20000, 479, 20480));
        // Strictly below, as `sock_kmalloc()`.
        assert!(!omem_fits(20000, 480, 20480));
        assert!(!omem_fits(0, 20480, 20480));
        assert!(!omem_fits(0, 20481, 20480));
        assert!(!omem_fits(0, 1, 0));
    }

    #[test]
    fn omem_fits_compares_unsigned_as_c() {
        // A negative limit is a very large unsigned one.
        assert!(omem_fits(0, 1 << 20, -1));
        // A negative use (more uncharged than charged) is a very large unsigned one, which
        // the sum wraps around.
        assert!(!omem_fits(-1000, 100, 20480));
        assert!(omem_fits(-100, 1000, 20480));
        // The sum wraps past `u32::MAX`.
        assert!(omem_fits(i32::MAX, u32::MAX / 2 + 10, -1));
    }
}
