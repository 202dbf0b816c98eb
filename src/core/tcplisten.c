/*
 * tcplisten.c — LISTEN sockets from /proc/net/tcp{,6} (tcplisten.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aapanel/tcplisten.h"

#define TABLE_MAX (16u << 20)

static int
hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10
	    : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/*
 * The kernel prints each 32-bit word of the address in host order (%08X of
 * the word): on this little-endian machine the bytes of each word reversed.
 */
static bool
parse_addr(const char *s, size_t hexlen, unsigned char *out)
{
	for (size_t w = 0; w < hexlen / 8; w++) {
		uint32_t v = 0;

		for (size_t i = 0; i < 8; i++) {
			int h = hexval(s[w * 8 + i]);

			if (h < 0)
				return false;
			v = v << 4 | (uint32_t)h;
		}
		memcpy(out + w * 4, &v, 4);
	}
	return true;
}

bool
ap_tcp_listening_in(const char *text, int family, int port, const char *addr)
{
	size_t alen = family == 6 ? 16 : 4;
	unsigned char want[16] = { 0 }, any[16] = { 0 };
	bool star = strcmp(addr, "*") == 0;

	if (!star && inet_pton(family == 6 ? AF_INET6 : AF_INET, addr, want) != 1)
		return false;
	for (const char *line = text; line != NULL && *line != '\0';) {
		const char *nl = strchr(line, '\n'), *p = strchr(line, ':');
		unsigned char got[16];
		int lport = 0;

		/* "  0: 0100007F:1F90 00000000:0000 0A ..." */
		if (p != NULL && (nl == NULL || p < nl)) {
			p++;
			while (*p == ' ')
				p++;
			if (strlen(p) > alen * 2 + 5 + 1 + 8 && p[alen * 2] == ':' && parse_addr(p, alen * 2, got)) {
				const char *q = p + alen * 2 + 1, *st;
				bool ok = true;

				for (int i = 0; i < 4; i++) {
					int h = hexval(q[i]);

					ok &= h >= 0;
					lport = lport << 4 | (h < 0 ? 0 : h);
				}
				st = q + 4;
				/* the remote address and port, then the state */
				if (ok && *st == ' ' && (st = strchr(st + 1, ' ')) != NULL && st[1] == '0' &&
				    st[2] == 'A' && lport == port &&
				    (star || memcmp(got, want, alen) == 0 || memcmp(got, any, alen) == 0))
					return true;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	return false;
}

/* A /proc table to its end (its size is 0 to stat): NULL when unreadable. */
static char *
read_table(const char *path)
{
	size_t len = 0, cap = 1 << 16;
	char *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	buf = ap_xmalloc(cap);
	for (;;) {
		ssize_t r;

		if (cap - len < 4096) {
			if (cap >= TABLE_MAX)
				break; /* the rest is not read: a table this size is not a panel's host */
			cap *= 2;
			buf = ap_xrealloc(buf, cap);
		}
		r = read(fd, buf + len, cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	buf[len] = '\0';
	close(fd);
	return buf;
}

static bool
table_has(const char *proc, const char *name, int family, int port, const char *addr)
{
	char path[512], *text;
	bool yes;

	snprintf(path, sizeof(path), "%s/net/%s", proc, name);
	if ((text = read_table(path)) == NULL)
		return false;
	yes = ap_tcp_listening_in(text, family, port, addr);
	free(text);
	return yes;
}

bool
ap_tcp_listening(const char *proc, int port, const char *addr)
{
	bool v6 = strchr(addr, ':') != NULL, star = strcmp(addr, "*") == 0;

	return ((star || !v6) && table_has(proc, "tcp", 4, port, addr)) ||
	    ((star || v6) && table_has(proc, "tcp6", 6, port, addr));
}
