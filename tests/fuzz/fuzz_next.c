/*
 * fuzz_next.c — libFuzzer target for the sign-in page's next parameter
 * (ap_url_local_path) and the origin parser (ap_origin_parse). The first
 * byte picks the base path and what is parsed. Every value the panel
 * would redirect to is read again the way a browser reads a Location
 * header (WHATWG URL: tabs and newlines removed, C0 controls and spaces
 * trimmed, '\' as '/', dot segments resolved, %2e as '.'): it must stay a
 * path of this panel under the base path, unchanged by that reading.
 * A violation aborts, so `make check` (tests/fuzz/replay.c over
 * tests/fuzz/corpus/next) fails on a regression.
 *
 *   make fuzz   (clang, libFuzzer; see the Makefile)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aapanel/weburl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const bases[] = { "", "/x7Kp2", "/panel/a-b" };

static void
violation(const char *what, const char *s)
{
	fprintf(stderr, "fuzz_next: %s: accepted \"", what);
	for (const char *p = s; *p; p++)
		fprintf(stderr, (*p >= 0x20 && *p < 0x7f) ? "%c" : "\\x%02x", (unsigned char)*p);
	fprintf(stderr, "\"\n");
	abort();
}

/* A browser's reading of the value as a relative URL on https://panel.example/. */
static void
browser_check(const char *base, const char *s)
{
	size_t n = strlen(s), k = 0, a = 0, b = n;
	char *t = malloc(n + 1), *path, *out;
	size_t pl, o = 0;

	while (a < n && (unsigned char)s[a] <= 0x20)
		a++;
	while (b > a && (unsigned char)s[b - 1] <= 0x20)
		b--;
	for (size_t i = a; i < b; i++) {
		if (s[i] == '\t' || s[i] == '\n' || s[i] == '\r')
			continue;
		t[k++] = s[i] == '\\' ? '/' : s[i];
	}
	t[k] = '\0';
	if (strcmp(t, s) != 0)
		violation("a browser reads it differently", s);
	if (t[0] != '/' || t[1] == '/')
		violation("not a path of this origin", s);
	pl = strcspn(t, "?#");
	path = malloc(pl + 1);
	memcpy(path, t, pl);
	path[pl] = '\0';
	out = malloc(pl + 2);
	/* RFC 3986 5.2.4 remove_dot_segments, with %2e read as '.'. */
	for (char *seg = path + 1, *end; seg <= path + pl; seg = end + 1) {
		size_t len;
		char dec[8];
		size_t dl = 0, j = 0;

		end = strchr(seg, '/');
		if (end == NULL)
			end = path + pl;
		len = (size_t)(end - seg);
		for (; j < len && dl < 4; j++) {
			if (seg[j] == '%' && len - j >= 3 && seg[j + 1] == '2' &&
			    (seg[j + 2] == 'e' || seg[j + 2] == 'E')) {
				dec[dl++] = '.';
				j += 2;
			} else
				dec[dl++] = seg[j];
		}
		dec[dl] = '\0';
		if (j == len && (strcmp(dec, ".") == 0 || strcmp(dec, "..") == 0))
			violation("a dot segment", s);
		out[o++] = '/';
		memcpy(out + o, seg, len);
		o += len;
	}
	out[o] = '\0';
	if (strcmp(out, path) != 0)
		violation("not normalised", s);
	if (base[0] && !(strncmp(path, base, strlen(base)) == 0 &&
			   (path[strlen(base)] == '\0' || path[strlen(base)] == '/')))
		violation("outside the base path", s);
	free(out);
	free(path);
	free(t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;
	const char *base;
	unsigned mode;

	if (size == 0)
		return 0;
	mode = data[0];
	base = bases[mode % AP_NELEM(bases)];
	s = malloc(size);
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	if (mode & 0x80) {
		struct ap_origin o;
		const char *rest = NULL;

		if (ap_origin_parse(s, strlen(s), &o, (mode & 0x40) ? &rest : NULL)) {
			if (o.port < 1 || o.port > 65535 || o.host[0] == '\0')
				violation("origin with a bad port or no host", s);
			for (const char *p = o.host; *p; p++)
				if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || strchr(".-[]:", *p)))
					violation("origin host with a character hosts do not have", s);
			if (rest && *rest && *rest != '/' && *rest != '?' && *rest != '#')
				violation("referer with something after the authority", s);
		}
	} else if (ap_url_local_path(base, s)) {
		browser_check(base, s);
	}
	free(s);
	return 0;
}
