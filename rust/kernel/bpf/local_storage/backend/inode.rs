// SPDX-License-Identifier: GPL-2.0

//! Inode storage (`BPF_MAP_TYPE_INODE_STORAGE`): local storage owned by inodes, for the BPF
//! LSM.
//!
//! An inode keeps its storage pointer in the BPF LSM's security blob (`bpf_inode()`), which an
//! inode created before the BPF LSM was initialised does not have: such an inode has no
//! storage, and an update of one fails with `EBADF`. Programs reach an inode's storage with
//! `bpf_inode_storage_get()` and `_delete()`, which may only be called where the inode is
//! referenced, so they may always create it; user space with the map system calls on any file
//! descriptor of the inode (`O_PATH` ones included). The BPF LSM's `inode_free_security` hook
//! destroys the storage (`bpf_inode_storage_free()`). Maps can only be created once the BPF LSM
//! is initialised: before, the blob's offset is not set.
//!
//! The C side is `kernel/bpf/bpf_inode_storage_rust.c`: the map operations and helper
//! prototypes, the helpers' `BPF_CALL` shells, and `bpf_inode_storage_free()`, the LSM hook's
//! free.
//!
//! C header: [`kernel/bpf/bpf_local_storage_rust.h`](srctree/kernel/bpf/bpf_local_storage_rust.h)

use super::{
    KeyRef,
    Owner,
    OwnerKind, //
};
use crate::{
    bindings,
    prelude::*, //
};
use core::{
    marker::PhantomData,
    ptr::NonNull, //
};

use super::super::{
    cache_idx::Cache,
    map, //
};

/// The owners of inode storage, `struct inode`.
pub(super) struct Inode;

// SAFETY: `storage_ptr()` returns `&bpf_inode(inode)->storage`, the pointer that
// `inode_storage_ptr()` returns, in the inode's security blob, which is freed with the inode.
unsafe impl OwnerKind for Inode {
    type Raw = bindings::inode;

    /// `&bpf_inode(inode)->storage`; `None` for an inode without the BPF LSM's blob.
    #[inline]
    fn storage_ptr(owner: &Owner<'_, Self>) -> Option<NonNull<*mut bindings::bpf_local_storage>> {
        // SAFETY: The inode stays allocated during the call (the `Owner` invariant).
        let blob = unsafe { bindings::bpf_inode(owner.as_ptr()) };
        if blob.is_null() {
            return None;
        }
        NonNull::new(crate::ptr::project!(mut blob, .storage))
    }

    /// Nothing to hold: the helpers are only called where the inode is referenced, so it does
    /// not go away during the call.
    type Pin = ();

    /// When the inode has the BPF LSM's blob.
    #[inline]
    fn pin_for_create(owner: &Owner<'_, Self>) -> Option<()> {
        Self::storage_ptr(owner).map(|_| ())
    }

    /// Always: a delete leaves nothing behind for the inode's free to miss.
    #[inline]
    fn pin_for_delete(_owner: &Owner<'_, Self>) -> Option<()> {
        Some(())
    }

    const FREE_DISABLES_MIGRATION: bool = true;
}

/// A reference to a file, taken from a descriptor and put on drop: `CLASS(fd_raw)`, which takes
/// `O_PATH` descriptors too.
///
/// # Invariants
///
/// We hold a reference to the file.
pub(super) struct FileRef(NonNull<bindings::file>);

impl KeyRef for FileRef {
    type Kind = Inode;

    /// `fget_raw()`. Fails with `EBADF` for a descriptor that is not open.
    fn from_fd(fd: c_int) -> Result<Self> {
        // CAST: `fget_raw()` takes the descriptor unsigned, as C converted the key; a negative
        // one becomes one that is not open.
        // SAFETY: Any descriptor is a valid argument.
        let file = unsafe { bindings::fget_raw(fd as c_uint) };
        // INVARIANT: A file, with a reference for us.
        NonNull::new(file).map(Self).ok_or(EBADF)
    }

    /// `file_inode()`.
    #[inline]
    unsafe fn owner(&self) -> Result<Owner<'_, Inode>> {
        // SAFETY: Our reference keeps the file, and its inode, while `self` is borrowed;
        // `f_inode`, at the offset C computes, does not change in a file's life.
        let inode = unsafe {
            self.0
                .byte_add(bindings::FILE_INODE_OFFSET)
                .cast::<*mut bindings::inode>()
                .read()
        };
        // INVARIANT: As above; the caller is in an RCU read section.
        Ok(Owner {
            ptr: NonNull::new(inode).ok_or(EBADF)?,
            _p: PhantomData,
        })
    }
}

impl Drop for FileRef {
    fn drop(&mut self) {
        // SAFETY: We hold a reference (type invariant), and give it back.
        unsafe { bindings::fput(self.0.as_ptr()) }
    }
}

/// `inode_storage_map_alloc()`: refuses a map with `EOPNOTSUPP` before the BPF LSM is
/// initialised, as the blob's offset is not set then.
///
/// # Safety
///
/// As for `rust_bpf_local_storage_map_alloc()`.
#[export]
unsafe extern "C" fn rust_bpf_inode_storage_map_alloc(
    attr: *mut bindings::bpf_attr,
    cache: *mut bindings::bpf_local_storage_cache,
) -> *mut bindings::bpf_map {
    // SAFETY: Set once at boot, before user space runs.
    if !unsafe { bindings::bpf_lsm_initialized } {
        return EOPNOTSUPP.to_ptr();
    }
    // SAFETY: By the safety requirements; map creation uses the first member of the union.
    let (attr, cache) = unsafe { (&(*attr).__bindgen_anon_1, Cache::from_raw(cache)) };
    map::map_alloc(attr, cache).unwrap_or_else(|e| e.to_ptr())
}

export_storage_type!(inode, Inode, FileRef);
