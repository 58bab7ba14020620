// SPDX-License-Identifier: GPL-2.0

#include <linux/preempt.h>

__rust_helper int rust_helper_preempt_count(void)
{
	return preempt_count();
}

__rust_helper bool rust_helper_in_nmi(void)
{
	return in_nmi();
}
