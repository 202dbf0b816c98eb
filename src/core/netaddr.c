/* netaddr.c — address and CIDR parsing and matching (netaddr.h). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "aapanel/netaddr.h"

/* Parse an address literal into 16 bytes; IPv4-mapped IPv6 becomes IPv4. */
static bool
addr_parse(const char *s, int *family, unsigned char out[16])
{
	struct in6_addr a6;

	memset(out, 0, 16);
	if (inet_pton(AF_INET, s, out) == 1) {
		*family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, s, &a6) == 1) {
		static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

		if (memcmp(a6.s6_addr, mapped, 12) == 0) {
			*family = AF_INET;
			memcpy(out, a6.s6_addr + 12, 4);
		} else {
			*family = AF_INET6;
			memcpy(out, a6.s6_addr, 16);
		}
		return true;
	}
	return false;
}

bool
ap_addr_valid(const char *s)
{
	unsigned char b[16];
	int f;

	return s != NULL && strlen(s) < 64 && addr_parse(s, &f, b);
}

static void
mask(unsigned char *a, int prefix, int len)
{
	for (int i = 0; i < len; i++) {
		int bits = prefix - i * 8;

		if (bits >= 8)
			continue;
		a[i] &= bits <= 0 ? 0 : (unsigned char)(0xff << (8 - bits));
	}
}

bool
ap_cidr_parse(const char *s, struct ap_cidr *out)
{
	char buf[64];
	char *slash;
	long long prefix = -1;
	const char *e;

	if (s == NULL || strlen(s) >= sizeof(buf) || *s == '\0')
		return false;
	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash != NULL) {
		*slash = '\0';
		if (!ap_strtonum(slash + 1, 0, 128, &prefix, &e))
			return false;
	}
	memset(out, 0, sizeof(*out));
	if (!addr_parse(buf, &out->family, out->addr))
		return false;
	if (strchr(buf, ':') != NULL && out->family == AF_INET && prefix >= 0) {
		/* ::ffff:10.0.0.0/104 → 10.0.0.0/8 */
		if (prefix < 96)
			return false;
		prefix -= 96;
	}
	if (prefix < 0)
		prefix = out->family == AF_INET ? 32 : 128;
	if ((out->family == AF_INET && prefix > 32))
		return false;
	out->prefix = (int)prefix;
	mask(out->addr, out->prefix, out->family == AF_INET ? 4 : 16);
	return true;
}

bool
ap_cidr_list_parse(const char *s, struct ap_cidr **out, size_t *n, char *bad, size_t badlen)
{
	char *copy = ap_xstrdup(s ? s : ""), *save = NULL, *tok;
	bool ok = true;

	*out = NULL;
	*n = 0;
	for (tok = strtok_r(copy, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		struct ap_cidr c;

		if (!ap_cidr_parse(tok, &c)) {
			snprintf(bad, badlen, "%s", tok);
			ok = false;
			break;
		}
		*out = ap_xrealloc(*out, (*n + 1) * sizeof(**out));
		(*out)[(*n)++] = c;
	}
	free(copy);
	if (!ok) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return ok;
}

bool
ap_cidr_match(const struct ap_cidr *net, const char *addr)
{
	unsigned char a[16];
	int family;

	if (addr == NULL || !addr_parse(addr, &family, a) || family != net->family)
		return false;
	mask(a, net->prefix, family == AF_INET ? 4 : 16);
	return memcmp(a, net->addr, family == AF_INET ? 4 : 16) == 0;
}

bool
ap_cidr_list_match(const struct ap_cidr *nets, size_t n, const char *addr)
{
	for (size_t i = 0; i < n; i++)
		if (ap_cidr_match(&nets[i], addr))
			return true;
	return false;
}
