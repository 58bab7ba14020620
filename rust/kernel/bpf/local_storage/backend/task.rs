// SPDX-License-Identifier: GPL-2.0

//! Task storage (`BPF_MAP_TYPE_TASK_STORAGE`): local storage owned by tasks.
//!
//! Programs reach a task's storage with `bpf_task_storage_get()` and `_delete()`, user space
//! with the map system calls on a pidfd of the task. A program may create storage for a task
//! while the task's usage count is not zero; the task's free then destroys the storage
//! (`bpf_task_storage_free()`). Task storage is the one type whose values may hold uptrs
//! (pinned user memory): the system calls' updates move them into the element, and refuse
//! `BPF_F_LOCK` on such values.
//!
//! The C side is `kernel/bpf/bpf_task_storage_rust.c`: the map operations and helper prototypes,
//! the helpers' `BPF_CALL` shells, and `bpf_task_storage_free()`, which `free_task()` calls.
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
    prelude::*,
    sync::Refcount, //
};
use core::ptr::NonNull;

/// The owners of task storage, `struct task_struct`.
pub(super) struct Task;

// SAFETY: `&task->bpf_storage` is the task's storage pointer, the one `task_storage_ptr()`
// returns.
//
// The members of `struct task_struct` are reached at the offsets C computes
// (`bindings::TASK_*_OFFSET`), which do not depend on bindgen laying the struct out as C does.
unsafe impl OwnerKind for Task {
    type Raw = bindings::task_struct;

    #[inline]
    fn storage_ptr(owner: &Owner<'_, Self>) -> Option<NonNull<*mut bindings::bpf_local_storage>> {
        // SAFETY: The offset of `bpf_storage` in `struct task_struct`.
        Some(unsafe { owner.member(bindings::TASK_BPF_STORAGE_OFFSET) })
    }

    const SWAPS_UPTRS: bool = true;

    /// Nothing to hold: a test is enough.
    type Pin = ();

    /// While `refcount_read(&task->usage)` is not zero: a task whose count dropped to zero is
    /// being freed, and its free may already have destroyed its storage.
    #[inline]
    fn pin_for_create(owner: &Owner<'_, Self>) -> Option<()> {
        // SAFETY: The offset of `usage` in `struct task_struct`.
        let usage = unsafe { owner.member(bindings::TASK_USAGE_OFFSET) };
        // SAFETY: The usage count of a task that stays allocated during the call (the `Owner`
        // invariant), initialised with it and only accessed as a refcount.
        (unsafe { Refcount::from_raw(usage.as_ptr()) }.read() != 0).then_some(())
    }

    /// Always: a delete leaves nothing behind for the task's free to miss.
    #[inline]
    fn pin_for_delete(_owner: &Owner<'_, Self>) -> Option<()> {
        Some(())
    }
}

/// A reference to a `struct pid`, taken from a pidfd and put on drop.
///
/// # Invariants
///
/// We hold a reference to the pid.
pub(super) struct PidRef(NonNull<bindings::pid>);

impl KeyRef for PidRef {
    type Kind = Task;

    /// `pidfd_get_pid()`. Fails with `EBADF` for a descriptor that is not a pidfd.
    fn from_fd(fd: c_int) -> Result<Self> {
        let mut f_flags = 0;
        // CAST: `pidfd_get_pid()` takes the descriptor unsigned, as C converted the key.
        // SAFETY: Any descriptor is a valid argument; `f_flags` is a valid place for the flags.
        let pid = from_err_ptr(unsafe { bindings::pidfd_get_pid(fd as c_uint, &mut f_flags) })?;
        // INVARIANT: On success it returns a pid, with a reference for us.
        NonNull::new(pid).map(Self).ok_or(EBADF)
    }

    /// `pid_task(pid, PIDTYPE_PID)`. Fails with `ENOENT` once the task is reaped.
    #[inline]
    unsafe fn owner(&self) -> Result<Owner<'_, Task>> {
        // SAFETY: We hold a reference to the pid (type invariant), and the caller is in an RCU
        // read section, as `pid_task()` requires.
        let task = unsafe { bindings::pid_task(self.0.as_ptr(), bindings::pid_type_PIDTYPE_PID) };
        // SAFETY: A task still attached to its pid is freed, and its storage destroyed, after
        // an RCU grace period at the earliest (`delayed_put_task_struct()`), which the caller's
        // RCU read section holds off.
        unsafe { Owner::from_raw(task) }.ok_or(ENOENT)
    }
}

impl Drop for PidRef {
    fn drop(&mut self) {
        // SAFETY: We hold a reference (type invariant), and give it back.
        unsafe { bindings::put_pid(self.0.as_ptr()) }
    }
}

export_storage_type!(task, Task, PidRef);
