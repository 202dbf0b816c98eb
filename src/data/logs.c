/*
 * logs.c — a site's nginx logs read from the end through a descriptor the
 * helper passes (logs.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aapanel/log.h"
#include "aapanel/logs.h"

#define SCAN_MAX (8LL * 1024 * 1024)

const char *const ap_log_kinds[] = { "access", "error", NULL };
const char *const ap_log_levels[] = { "emerg", "alert", "crit", "error", "warn", "notice", "info",
	"debug", NULL };

enum ap_err
ap_logs_open(const struct ap_sites_env *env, const struct ap_site *s, int which, bool rotated,
    int *fd, int64_t *size, struct ap_problem *pb)
{
	struct json_object *a = json_object_new_object(), *res = NULL, *v;
	enum ap_err rc;

	*fd = -1;
	*size = 0;
	if (env->helper == NULL) {
		json_object_put(a);
		return ap_problem_set(pb, AP_PB_UNAVAILABLE, NULL, "the helper is not configured");
	}
	json_object_object_add(a, "domain", json_object_new_string(s->spec.domain));
	json_object_object_add(a, "which", json_object_new_string(ap_log_kinds[which]));
	json_object_object_add(a, "rotated", json_object_new_boolean(rotated));
	rc = ap_helper_call_fd(env->helper, "logs.open", a, &res, fd, pb);
	json_object_put(a);
	if (rc == AP_OK && json_object_object_get_ex(res, "size", &v))
		*size = json_object_get_int64(v);
	json_object_put(res);
	return rc;
}

/* The level of an error-log line ("... [error] 12#12: ..."): its index, or -1. */
static int
level_of(const char *line, size_t n)
{
	const char *b = memchr(line, '[', n), *e;

	if (b == NULL || (e = memchr(b, ']', n - (size_t)(b - line))) == NULL)
		return -1;
	for (int i = 0; ap_log_levels[i] != NULL; i++)
		if ((size_t)(e - b - 1) == strlen(ap_log_levels[i]) &&
		    memcmp(b + 1, ap_log_levels[i], (size_t)(e - b - 1)) == 0)
			return i;
	return -1;
}

static bool
matches(const char *line, size_t n, const char *search, int level)
{
	if (level >= 0) {
		int l = level_of(line, n);

		if (l < 0 || l > level)
			return false;
	}
	if (search != NULL && search[0] != '\0') {
		size_t k = strlen(search);

		if (k > n)
			return false;
		for (size_t i = 0; i + k <= n; i++)
			if (memcmp(line + i, search, k) == 0)
				return true;
		return false;
	}
	return true;
}

static struct json_object *
line_json(const char *p, size_t n)
{
	char *c;
	struct json_object *o;

	if (n > 0 && p[n - 1] == '\r')
		n--;
	if (ap_utf8_valid(p, n))
		return json_object_new_string_len(p, (int)n);
	c = ap_xmalloc(n + 1);
	for (size_t i = 0; i < n; i++)
		c[i] = (unsigned char)p[i] < 0x80 ? p[i] : '?';
	o = json_object_new_string_len(c, (int)n);
	free(c);
	return o;
}

enum ap_err
ap_logs_tail(const struct ap_sites_env *env, const struct ap_site *s, int which, bool rotated,
    int lines, const char *search, const char *level, struct json_object **out, int64_t *size,
    struct ap_problem *pb)
{
	struct json_object *rev = json_object_new_array();
	int lvl = -1, fd = -1, got = 0;
	enum ap_err rc;

	*out = NULL;
	if (level != NULL)
		for (int i = 0; ap_log_levels[i] != NULL; i++)
			if (strcmp(level, ap_log_levels[i]) == 0)
				lvl = i;
	if ((rc = ap_logs_open(env, s, which, rotated, &fd, size, pb)) != AP_OK) {
		json_object_put(rev);
		return rc;
	}
	/* The end of the log (at most SCAN_MAX), its lines taken backwards. */
	{
		int64_t start = *size > SCAN_MAX ? *size - SCAN_MAX : 0, len = *size - start;
		char *data = ap_xmalloc((size_t)len + 1);
		ssize_t k = len > 0 ? pread(fd, data, (size_t)len, start) : 0;
		size_t end;

		if (k < 0)
			k = 0;
		end = (size_t)k;
		while (end > 0 && got < lines) {
			size_t e = end, st;

			if (data[e - 1] == '\n')
				e--;
			st = e;
			while (st > 0 && data[st - 1] != '\n')
				st--;
			/* A first line cut by the scan's bound is not a line. */
			if (st == 0 && start > 0)
				break;
			if (e > st && matches(data + st, e - st, search, which == 1 ? lvl : -1)) {
				json_object_array_add(rev, line_json(data + st, e - st));
				got++;
			}
			end = st;
		}
		free(data);
	}
	close(fd);
	*out = json_object_new_array();
	for (size_t i = json_object_array_length(rev); i > 0; i--)
		json_object_array_add(*out, json_object_get(json_object_array_get_idx(rev, i - 1)));
	json_object_put(rev);
	return AP_OK;
}
