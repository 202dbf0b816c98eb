/*
 * listenconf.c — the header of the panel-managed nginx include
 * (listenconf.h): strict parsing, so that what the helper writes and what
 * the Settings screen shows are the same validated values.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aapanel/listenconf.h"

#define LISTEN_HEADER "# aapanel-listen: "
#define LISTEN_MAX_FILE 65536

bool
ap_listen_address_ok(const char *s)
{
	unsigned char buf[16];

	if (strcmp(s, "*") == 0)
		return true;
	if (strlen(s) >= 64)
		return false;
	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

bool
ap_listen_base_ok(const char *s)
{
	size_t seg = 0;

	if (strcmp(s, "/") == 0)
		return true;
	if (s[0] != '/' || strlen(s) > 255)
		return false;
	for (s++; *s != '\0'; s++) {
		if (*s == '/') {
			if (seg == 0)
				return false;
			seg = 0;
		} else if (isalnum((unsigned char)*s) || *s == '_' || *s == '-') {
			if (++seg > 64)
				return false;
		} else {
			return false;
		}
	}
	return seg > 0;
}

bool
ap_listen_path_ok(const char *s)
{
	if (s[0] != '/' || strlen(s) >= PATH_MAX || strstr(s, "/..") != NULL)
		return false;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr("/._-", *s) == NULL)
			return false;
	return true;
}

/* The value of key= in the header's space-separated words, copied into out. */
static bool
word(const char *line, size_t len, const char *key, char *out, size_t outlen)
{
	size_t kl = strlen(key);
	const char *p = line, *end = line + len;

	while (p < end) {
		const char *w = p, *we = memchr(p, ' ', (size_t)(end - p));

		if (we == NULL)
			we = end;
		if ((size_t)(we - w) > kl && strncmp(w, key, kl) == 0 && w[kl] == '=') {
			size_t vl = (size_t)(we - w) - kl - 1;

			if (vl == 0 || vl >= outlen)
				return false;
			memcpy(out, w + kl + 1, vl);
			out[vl] = '\0';
			return true;
		}
		p = we + 1;
	}
	return false;
}

bool
ap_listen_parse(const char *text, struct ap_listen *out)
{
	const char *nl, *line;
	char port[8], tls[4];
	char *end = NULL;
	long v;

	memset(out, 0, sizeof(*out));
	if (strncmp(text, LISTEN_HEADER, strlen(LISTEN_HEADER)) != 0)
		return false;
	line = text + strlen(LISTEN_HEADER);
	nl = strchr(line, '\n');
	if (nl == NULL)
		nl = line + strlen(line);
	if (!word(line, (size_t)(nl - line), "address", out->address, sizeof(out->address)) ||
	    !word(line, (size_t)(nl - line), "port", port, sizeof(port)) ||
	    !word(line, (size_t)(nl - line), "base", out->base, sizeof(out->base)) ||
	    !word(line, (size_t)(nl - line), "tls", tls, sizeof(tls)) ||
	    !word(line, (size_t)(nl - line), "certificate", out->certificate, sizeof(out->certificate)))
		return false;
	errno = 0;
	v = strtol(port, &end, 10);
	if (*end != '\0' || errno != 0 || v < 1 || v > 65535)
		return false;
	out->port = (int)v;
	if (strcmp(tls, "0") != 0 && strcmp(tls, "1") != 0)
		return false;
	out->tls = tls[0] == '1';
	if (strcmp(out->certificate, "-") == 0)
		out->certificate[0] = '\0';
	else if (!ap_listen_path_ok(out->certificate))
		return false;
	return ap_listen_address_ok(out->address) && ap_listen_base_ok(out->base);
}

bool
ap_listen_read(const char *path, struct ap_listen *out)
{
	char *buf = NULL;
	ssize_t n;
	size_t len = 0;
	bool ok = false;
	int fd;

	memset(out, 0, sizeof(*out));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return false;
	buf = malloc(LISTEN_MAX_FILE + 1);
	if (buf == NULL)
		goto out;
	while (len < LISTEN_MAX_FILE && (n = read(fd, buf + len, LISTEN_MAX_FILE - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	ok = ap_listen_parse(buf, out);
out:
	free(buf);
	close(fd);
	return ok;
}

bool
ap_listen_port_in_use(int port)
{
	static const char *const files[] = { "/proc/net/tcp", "/proc/net/tcp6" };
	bool found = false;

	for (size_t i = 0; i < 2 && !found; i++) {
		FILE *f = fopen(files[i], "re");
		char line[512];

		if (f == NULL)
			continue;
		while (!found && fgets(line, sizeof(line), f) != NULL) {
			char local[128];
			unsigned st = 0, p = 0;
			const char *colon;

			if (sscanf(line, " %*d: %127s %*s %x", local, &st) != 2)
				continue;
			if ((colon = strrchr(local, ':')) == NULL || sscanf(colon + 1, "%x", &p) != 1)
				continue;
			found = st == 0x0A && (int)p == port; /* TCP_LISTEN */
		}
		fclose(f);
	}
	return found;
}
