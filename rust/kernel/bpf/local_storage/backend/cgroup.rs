// SPDX-License-Identifier: GPL-2.0

//! Cgroup storage (`BPF_MAP_TYPE_CGRP_STORAGE`): local storage owned by cgroups.
//!
//! Programs reach a cgroup's storage with `bpf_cgrp_storage_get()` and `_delete()`, user space
//! with the map system calls on a file descriptor of the cgroup's directory (cgroup v1 or v2).
//! A program may create storage for a cgroup until the cgroup's reference count starts dying;
//! the cgroup's release then destroys the storage (`bpf_cgrp_storage_free()`).
//!
//! The C side is `kernel/bpf/bpf_cgrp_storage_rust.c`: the map operations and helper prototypes,
//! the helpers' `BPF_CALL` shells, and `bpf_cgrp_storage_free()`, which the cgroup core calls.
//!
//! C header: [`kernel/bpf/bpf_local_storage_rust.h`](srctree/kernel/bpf/bpf_local_storage_rust.h)

use super::{
    KeyRef,
    Owner,
    OwnerKind, //
};
use crate::{
    bindings,
    error::from_err_ptr,
    prelude::*, //
};
use core::{
    marker::PhantomData,
    ptr::NonNull, //
};

/// The owners of cgroup storage, `struct cgroup`.
pub(super) struct Cgroup;

// SAFETY: `&cgroup->bpf_cgrp_storage` is the cgroup's storage pointer, the one
// `cgroup_storage_ptr()` returns.
//
// The members of `struct cgroup` are reached at the offsets C computes
// (`bindings::CGROUP_*_OFFSET`), which do not depend on bindgen laying the struct out as C does.
unsafe impl OwnerKind for Cgroup {
    type Raw = bindings::cgroup;

    #[inline]
    fn storage_ptr(owner: &Owner<'_, Self>) -> Option<NonNull<*mut bindings::bpf_local_storage>> {
        // SAFETY: The offset of `bpf_cgrp_storage` in `struct cgroup`.
        Some(unsafe { owner.member(bindings::CGROUP_BPF_STORAGE_OFFSET) })
    }

    /// Nothing to hold: a test is enough.
    type Pin = ();

    /// Until `percpu_ref_is_dying(&cgroup->self.refcnt)`: from then on the cgroup is on its way
    /// to its release, which may already have destroyed its storage.
    #[inline]
    fn pin_for_create(owner: &Owner<'_, Self>) -> Option<()> {
        // SAFETY: The offset of `self.refcnt` in `struct cgroup`.
        let refcnt = unsafe { owner.member(bindings::CGROUP_REFCNT_OFFSET) };
        // SAFETY: The reference count of a cgroup that stays allocated during the call (the
        // `Owner` invariant), initialised with it; the test is a load.
        (!unsafe { bindings::percpu_ref_is_dying(refcnt.as_ptr()) }).then_some(())
    }

    /// Always: a delete leaves nothing behind for the cgroup's release to miss.
    #[inline]
    fn pin_for_delete(_owner: &Owner<'_, Self>) -> Option<()> {
        Some(())
    }
}

/// A reference to a cgroup, taken from a file descriptor of its directory and put on drop.
///
/// # Invariants
///
/// We hold a reference to the cgroup.
pub(super) struct CgroupRef(NonNull<bindings::cgroup>);

impl KeyRef for CgroupRef {
    type Kind = Cgroup;

    /// `cgroup_v1v2_get_from_fd()`. Fails with `EBADF` for a bad descriptor or one that is not
    /// a cgroup directory.
    fn from_fd(fd: c_int) -> Result<Self> {
        // SAFETY: Any value is a valid argument; a bad one makes it fail.
        let cgroup = from_err_ptr(unsafe { bindings::cgroup_v1v2_get_from_fd(fd) })?;
        // INVARIANT: On success it returns a cgroup, with a reference for us.
        NonNull::new(cgroup).map(Self).ok_or(EBADF)
    }

    #[inline]
    unsafe fn owner(&self) -> Result<Owner<'_, Cgroup>> {
        // INVARIANT: Our reference keeps the cgroup allocated while `self` is borrowed; the
        // caller is in an RCU read section.
        Ok(Owner {
            ptr: self.0,
            _p: PhantomData,
        })
    }
}

impl Drop for CgroupRef {
    fn drop(&mut self) {
        // SAFETY: We hold a reference (type invariant), and give it back.
        unsafe { bindings::cgroup_put(self.0.as_ptr()) }
    }
}

export_storage_type!(cgrp, Cgroup, CgroupRef);
