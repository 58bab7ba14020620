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

/// `GOLDEN_RATIO_64` of `include/linux/hash.h`.
const GOLDEN_RATIO_64: u64 = 0x61c8_8646_80b5_83eb;

/// Hashes `val` into `bits` bits: the generic C `hash_64()` (multiplication by
/// `GOLDEN_RATIO_64`, keeping the high bits).
///
/// The result is below `1 << bits`, for `bits` from 1 to 32. Computed in Rust, so it inlines
/// where a call to C would not; architectures with their own `hash_64()` (none of the 64-bit
/// ones Rust supports) may give other values in C.
///
/// # Examples
///
/// ```
/// use kernel::hash::hash_64;
///
/// assert!(hash_64(0x1234, 6) < 64);
/// assert_eq!(hash_64(0, 10), 0);
/// // Nearby values spread over the table.
/// assert_ne!(hash_64(0x1000, 6), hash_64(0x1040, 6));
/// ```
#[inline]
pub const fn hash_64(val: u64, bits: u32) -> u32 {
    (val.wrapping_mul(GOLDEN_RATIO_64) >> (64 - bits)) as u32
}
