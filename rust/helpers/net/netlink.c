// SPDX-License-Identifier: GPL-2.0

#include <net/netlink.h>

#ifdef CONFIG_NET

__rust_helper int rust_helper_nla_total_size(int payload)
{
	return nla_total_size(payload);
}

__rust_helper int rust_helper_nla_total_size_64bit(int payload)
{
	return nla_total_size_64bit(payload);
}

__rust_helper int rust_helper_nla_type(const struct nlattr *nla)
{
	return nla_type(nla);
}

__rust_helper void *rust_helper_nla_data(const struct nlattr *nla)
{
	return nla_data(nla);
}

__rust_helper u16 rust_helper_nla_len(const struct nlattr *nla)
{
	return nla_len(nla);
}

__rust_helper int rust_helper_nla_ok(const struct nlattr *nla, int remaining)
{
	return nla_ok(nla, remaining);
}

__rust_helper
struct nlattr *rust_helper_nla_next(const struct nlattr *nla, int *remaining)
{
	return nla_next(nla, remaining);
}

__rust_helper u32 rust_helper_nla_get_u32(const struct nlattr *nla)
{
	return nla_get_u32(nla);
}

__rust_helper
int rust_helper_nla_put_u32(struct sk_buff *skb, int attrtype, u32 value)
{
	return nla_put_u32(skb, attrtype, value);
}

__rust_helper
struct nlattr *rust_helper_nla_nest_start(struct sk_buff *skb, int attrtype)
{
	return nla_nest_start(skb, attrtype);
}

__rust_helper
int rust_helper_nla_nest_end(struct sk_buff *skb, struct nlattr *start)
{
	return nla_nest_end(skb, start);
}

__rust_helper
void rust_helper_nla_nest_cancel(struct sk_buff *skb, struct nlattr *start)
{
	nla_nest_cancel(skb, start);
}

#endif
