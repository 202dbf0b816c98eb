/*
 * weburl.c — origins and local paths (weburl.h). Strict on purpose: a value
 * a browser could read in two ways is refused, never repaired.
 */
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aapanel/weburl.h"

static bool
host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
	    c == '-';
}

bool
ap_origin_parse(const char *s, size_t n, struct ap_origin *o, const char **rest)
{
	size_t i, h0, hl;
	long port = -1;

	memset(o, 0, sizeof(*o));
	if (s == NULL)
		return false;
	if (n >= 8 && strncasecmp(s, "https://", 8) == 0) {
		o->https = true;
		i = 8;
	} else if (n >= 7 && strncasecmp(s, "http://", 7) == 0) {
		i = 7;
	} else
		return false;
	h0 = i;
	if (i < n && s[i] == '[') {
		char v6[64];
		unsigned char bin[16];

		while (i < n && s[i] != ']')
			i++;
		if (i >= n || i - h0 - 1 >= sizeof(v6) || i - h0 < 3)
			return false;
		memcpy(v6, s + h0 + 1, i - h0 - 1);
		v6[i - h0 - 1] = '\0';
		if (inet_pton(AF_INET6, v6, bin) != 1)
			return false;
		i++; /* past ']' */
	} else {
		while (i < n && host_char(s[i]))
			i++;
	}
	hl = i - h0;
	if (hl == 0 || hl > 253 + 2)
		return false;
	if (s[h0] != '[' && (s[h0] == '.' || s[h0] == '-' || s[i - 1] == '.' || s[i - 1] == '-' ||
				hl > 253))
		return false;
	for (size_t k = 0; k < hl; k++) {
		char c = s[h0 + k];

		o->host[k] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	o->host[hl] = '\0';
	if (i < n && s[i] == ':') {
		size_t p0 = ++i;

		port = 0;
		while (i < n && s[i] >= '0' && s[i] <= '9' && i - p0 < 5)
			port = port * 10 + (s[i++] - '0');
		if (i == p0 || port < 1 || port > 65535 || (i < n && s[i] >= '0' && s[i] <= '9'))
			return false;
	}
	o->port = port > 0 ? (int)port : (o->https ? 443 : 80);
	if (rest == NULL)
		return i == n;
	if (i < n && s[i] != '/' && s[i] != '?' && s[i] != '#')
		return false;
	*rest = s + i;
	return true;
}

bool
ap_origin_eq(const struct ap_origin *a, const struct ap_origin *b)
{
	return a->https == b->https && a->port == b->port && strcmp(a->host, b->host) == 0;
}

bool
ap_origin_is_loopback(const struct ap_origin *o)
{
	struct in_addr v4;

	if (strcmp(o->host, "localhost") == 0 || strcmp(o->host, "[::1]") == 0)
		return true;
	/* inet_pton takes only the four-part dotted form: "127.1" is not an address here. */
	return inet_pton(AF_INET, o->host, &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127;
}

bool
ap_origin_list_parse(const char *s, struct ap_origin **out, size_t *n, char *bad, size_t badlen)
{
	struct ap_origin *v = NULL;
	size_t cnt = 0;
	const char *p = s ? s : "";

	*out = NULL;
	*n = 0;
	for (;;) {
		size_t len;

		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		len = strcspn(p, ", \t");
		v = ap_xrealloc(v, (cnt + 1) * sizeof(*v));
		if (!ap_origin_parse(p, len, &v[cnt], NULL)) {
			if (badlen)
				snprintf(bad, badlen, "%.*s", (int)(len < 200 ? len : 200), p);
			free(v);
			return false;
		}
		cnt++;
		p += len;
	}
	*out = v;
	*n = cnt;
	return true;
}

/* A path segment a browser resolves as "." or ".." (percent-encoded dots included). */
static bool
dot_segment(const char *seg, size_t len)
{
	size_t dots = 0, i = 0;

	while (i < len) {
		if (seg[i] == '.') {
			dots++;
			i++;
		} else if (len - i >= 3 && seg[i] == '%' && seg[i + 1] == '2' &&
		    (seg[i + 2] == 'e' || seg[i + 2] == 'E')) {
			dots++;
			i += 3;
		} else
			return false;
	}
	return dots == 1 || dots == 2;
}

bool
ap_url_local_path(const char *base, const char *s)
{
	size_t n, pathlen, bl;
	const char *seg;

	if (s == NULL || base == NULL || s[0] != '/' || s[1] == '/')
		return false;
	n = strlen(s);
	if (n > AP_LOCAL_PATH_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		/* Printable ASCII only: browsers drop tabs and newlines, read '\' as
		 * '/', and trim or escape the rest, any of which can turn "/x//y"
		 * into "//y". regression: "/\t/evil.example" was sent as Location */
		if (c <= 0x20 || c >= 0x7f || c == '\\' || c == '#')
			return false;
	}
	pathlen = strcspn(s, "?");
	/* Every segment non-empty (but the last: "/a/") and not a dot segment. */
	for (seg = s + 1; seg <= s + pathlen;) {
		size_t len = strcspn(seg, "/?");

		if (seg + len > s + pathlen)
			len = (size_t)(s + pathlen - seg);
		if (len == 0 && seg + len < s + pathlen)
			return false; /* "//" inside the path */
		if (dot_segment(seg, len))
			return false;
		seg += len + 1;
	}
	bl = strlen(base);
	if (bl == 0)
		return true;
	return strncmp(s, base, bl) == 0 && (s[bl] == '\0' || s[bl] == '/' || s[bl] == '?');
}
