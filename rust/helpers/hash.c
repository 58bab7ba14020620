// SPDX-License-Identifier: GPL-2.0

#include <linux/hash.h>

__rust_helper u32 rust_helper_hash_ptr(const void *ptr, unsigned int bits)
{
	return hash_ptr(ptr, bits);
}
