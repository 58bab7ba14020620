// SPDX-License-Identifier: GPL-2.0

#include <linux/cgroup.h>

#ifdef CONFIG_CGROUPS
__rust_helper void rust_helper_cgroup_put(struct cgroup *cgrp)
{
	cgroup_put(cgrp);
}
#endif
