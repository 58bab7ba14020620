// SPDX-License-Identifier: GPL-2.0

//! BPF support.
//!
//! C header: [`include/linux/bpf.h`](srctree/include/linux/bpf.h)

#[cfg(CONFIG_BPF_LOCAL_STORAGE_RUST)]
pub mod local_storage;
pub mod rqspinlock;
#[cfg(CONFIG_RUST_BPF_KUNIT_TEST)]
mod test_thread;
