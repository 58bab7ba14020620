// SPDX-License-Identifier: GPL-2.0

#include <linux/percpu-refcount.h>

__rust_helper bool rust_helper_percpu_ref_is_dying(struct percpu_ref *ref)
{
	return percpu_ref_is_dying(ref);
}
