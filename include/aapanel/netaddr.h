/*
 * netaddr.h — IPv4/IPv6 addresses and networks (CIDR), for the access
 * allowlist, trusted proxies and per-token address limits.
 */
#ifndef AAPANEL_NETADDR_H
#define AAPANEL_NETADDR_H

#include "aapanel/common.h"

struct ap_cidr {
	int family;             /* AF_INET or AF_INET6 */
	unsigned char addr[16]; /* network address (masked) */
	int prefix;             /* 0..32 or 0..128 */
};

/*
 * Parse "192.0.2.1", "2001:db8::1" (a host: /32 or /128) or "10.0.0.0/8"
 * into *out. Host bits are masked off ("10.1.2.3/8" is 10.0.0.0/8) and
 * IPv4-mapped IPv6 becomes IPv4 ("::ffff:10.0.0.0/104" is 10.0.0.0/8).
 * False for NULL, "", 64 bytes or more, or bad syntax; *out may then be
 * partly written.
 */
bool ap_cidr_parse(const char *s, struct ap_cidr *out);
/*
 * Parse a list separated by commas, spaces or tabs; NULL or "" is an empty
 * list (*out NULL, *n 0). On success *out is owned (free with free()). On
 * error returns false with *out NULL and *n 0, and copies the offending
 * item into bad (cut to badlen).
 */
bool ap_cidr_list_parse(const char *s, struct ap_cidr **out, size_t *n, char *bad, size_t badlen);
/*
 * True when the textual address addr is inside net (IPv4-mapped IPv6
 * matches IPv4 nets); false for a NULL or unparsable addr. The list form:
 * inside any of nets[0..n), false for n = 0.
 */
bool ap_cidr_match(const struct ap_cidr *net, const char *addr);
bool ap_cidr_list_match(const struct ap_cidr *nets, size_t n, const char *addr);
/* True when s is a literal IPv4 or IPv6 address (no prefix or zone, < 64 bytes); false for NULL. */
bool ap_addr_valid(const char *s);

#endif
