// SPDX-License-Identifier: GPL-2.0

//! Fast hashing of integers and pointers.
//!
//! C header: [`include/linux/hash.h`](srctree/include/linux/hash.h)

use crate::bindings;

/// Hashes the address of `ptr` into `bits` bits: the C side `hash_ptr()`.
///
/// The result is below `1 << bits`, for `bits` from 1 to 32, suited to index a table of
/// `1 << bits` buckets; only the address is read, never what it points to. The hash is the
/// kernel's own (`hash_long()`), so Rust and C pick the same bucket for a pointer.
///
/// # Examples
///
/// ```
/// use kernel::hash::hash_ptr;
///
/// let x = 0u64;
/// assert!(hash_ptr(&raw const x, 4) < 16);
/// assert_eq!(hash_ptr(&raw const x, 4), hash_ptr(&raw const x, 4));
/// ```
#[inline]
pub fn hash_ptr<T>(ptr: *const T, bits: u32) -> u32 {
    // SAFETY: `hash_ptr()` only hashes the pointer's value.
    unsafe { bindings::hash_ptr(ptr.cast(), bits) }
}
