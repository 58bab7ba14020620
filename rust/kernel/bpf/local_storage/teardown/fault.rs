// SPDX-License-Identifier: GPL-2.0

//! Lock fault injection for the teardown (`CONFIG_FAIL_BPF_LOCAL_STORAGE`).
//!
//! The teardown's lock failures are rare in practice, but they decide whether anything leaks. With
//! the option on, the attributes under `/sys/kernel/debug/fail_bpf_local_storage/` (one per side
//! and lock) make an acquisition fail as if it had timed out (as slowly, with `stall_us`), before
//! the lock is even tried, so that tests can drive each failure path and check that nothing
//! leaks. Without it, [`injected_failure`] is `Ok(())` and compiles away.
//!
//! C: [`kernel/bpf/bpf_local_storage_fail.c`](srctree/kernel/bpf/bpf_local_storage_fail.c)

use super::protocol::{
    LockKind,
    Side, //
};
use crate::prelude::*;

/// Fails with `ETIMEDOUT` when fault injection says the next acquisition of `lock` by `side`
/// fails. The destroy work shares destroy's attributes: it is destroy's continuation.
#[cfg(CONFIG_FAIL_BPF_LOCAL_STORAGE)]
pub(super) fn injected_failure(side: Side, lock: LockKind) -> Result {
    use crate::bindings;

    let which = match (side, lock) {
        (Side::Destroy | Side::DestroyWork, LockKind::Bucket) => {
            bindings::bpf_local_storage_fail_lock_BPF_LOCAL_STORAGE_FAIL_DESTROY_BUCKET
        }
        (Side::Destroy | Side::DestroyWork, LockKind::Storage) => {
            bindings::bpf_local_storage_fail_lock_BPF_LOCAL_STORAGE_FAIL_DESTROY_STORAGE
        }
        (Side::MapFree, LockKind::Bucket) => {
            bindings::bpf_local_storage_fail_lock_BPF_LOCAL_STORAGE_FAIL_MAP_FREE_BUCKET
        }
        (Side::MapFree, LockKind::Storage) => {
            bindings::bpf_local_storage_fail_lock_BPF_LOCAL_STORAGE_FAIL_MAP_FREE_STORAGE
        }
    };
    // SAFETY: `which` is one of the enum's values, each an index of the C array of attributes;
    // the check may run in any context.
    if unsafe { bindings::bpf_local_storage_should_fail_lock(which) } {
        Err(ETIMEDOUT)
    } else {
        Ok(())
    }
}

/// Without fault injection, no acquisition fails before it is tried.
#[cfg(not(CONFIG_FAIL_BPF_LOCAL_STORAGE))]
#[inline(always)]
pub(super) fn injected_failure(_side: Side, _lock: LockKind) -> Result {
    Ok(())
}
