/*
 * logs.c — logs read from the end through a descriptor the helper passes
 * (logs.h); compressed rotations through zlib, in-process.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "aapanel/log.h"
#include "aapanel/logs.h"

#define SCAN_MAX (8LL * 1024 * 1024)
#define GZ_MAX (1024LL * 1024 * 1024)

const char *const ap_log_kinds[] = {"access", "error", NULL};
const char *const ap_log_systems[] = {"panel", "helper", NULL};
const char *const ap_log_levels[] = {"emerg",  "alert", "crit",	 "error", "warn",
				     "notice", "info",	"debug", NULL};

static enum ap_err
open_call(const struct ap_sites_env *env, const char *op, struct json_object *a,
	  struct ap_log_file *lf, struct ap_problem *pb)
{
	struct json_object *res = NULL, *v;
	enum ap_err rc;

	memset(lf, 0, sizeof(*lf));
	lf->fd = -1;
	if (env->helper == NULL) {
		json_object_put(a);
		return ap_problem_set(pb, AP_PB_UNAVAILABLE, NULL, "the helper is not configured");
	}
	rc = ap_helper_call_fd(env->helper, op, a, &res, &lf->fd, pb);
	json_object_put(a);
	if (rc == AP_OK) {
		if (json_object_object_get_ex(res, "size", &v))
			lf->size = json_object_get_int64(v);
		if (json_object_object_get_ex(res, "gzip", &v))
			lf->gzip = json_object_get_boolean(v);
		if (json_object_object_get_ex(res, "rotations", &v))
			lf->rotations = json_object_get(v);
	}
	if (lf->rotations == NULL)
		lf->rotations = json_object_new_array();
	json_object_put(res);
	return rc;
}

enum ap_err
ap_logs_open(const struct ap_sites_env *env, const struct ap_site *s, int which, int rotation,
	     struct ap_log_file *lf, struct ap_problem *pb)
{
	struct json_object *a = json_object_new_object();
	enum ap_err rc;

	json_object_object_add(a, "domain", json_object_new_string(s->spec.domain));
	json_object_object_add(a, "which", json_object_new_string(ap_log_kinds[which]));
	json_object_object_add(a, "rotation", json_object_new_int(rotation));
	rc = open_call(env, "logs.open", a, lf, pb);
	lf->rotation = rotation;
	return rc;
}

enum ap_err
ap_logs_system_open(const struct ap_sites_env *env, int rotation, struct ap_log_file *lf,
		    struct ap_problem *pb)
{
	struct json_object *a = json_object_new_object();
	enum ap_err rc;

	json_object_object_add(a, "which", json_object_new_string("panel"));
	json_object_object_add(a, "rotation", json_object_new_int(rotation));
	rc = open_call(env, "logs.system", a, lf, pb);
	lf->rotation = rotation;
	return rc;
}

void
ap_logs_close(struct ap_log_file *lf)
{
	if (lf == NULL)
		return;
	if (lf->fd >= 0)
		close(lf->fd);
	lf->fd = -1;
	json_object_put(lf->rotations);
	lf->rotations = NULL;
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
contains(const char *line, size_t n, const char *s)
{
	size_t k = strlen(s);

	if (k > n)
		return false;
	for (size_t i = 0; i + k <= n; i++)
		if (memcmp(line + i, s, k) == 0)
			return true;
	return false;
}

/* A log.file line is the helper's when its process is "helper[pid]" (log.c's format). */
static bool
helper_line(const char *line, size_t n)
{
	return contains(line, n < 48 ? n : 48, " helper[");
}

static bool
matches(const char *line, size_t n, const struct ap_log_query *q)
{
	if (q->level >= 0) {
		int l = level_of(line, n);

		if (l < 0 || l > q->level)
			return false;
	}
	if (q->tag >= 0 && helper_line(line, n) != (q->tag == 1))
		return false;
	if (q->search != NULL && q->search[0] != '\0' && !contains(line, n, q->search))
		return false;
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

/*
 * The decompressed end of a .gz (at most SCAN_MAX kept, *cut when more came
 * before it) into a malloc'd buffer. false when it is not gzip.
 */
static bool
gz_tail(int fd, char **out, size_t *outlen, bool *cut)
{
	int d = dup(fd);
	gzFile g = d >= 0 ? gzdopen(d, "rb") : NULL;
	size_t cap = (size_t)SCAN_MAX * 2, len = 0;
	char *buf;
	int64_t total = 0;
	bool ok = true;

	*cut = false;
	if (g == NULL) {
		if (d >= 0)
			close(d);
		return false;
	}
	buf = ap_xmalloc(cap);
	gzbuffer(g, 128 * 1024);
	for (;;) {
		int r;

		if (cap - len < 65536) {
			/* Keep the last SCAN_MAX: the rest is before the window. */
			memmove(buf, buf + len - (size_t)SCAN_MAX, (size_t)SCAN_MAX);
			len = (size_t)SCAN_MAX;
			*cut = true;
		}
		r = gzread(g, buf + len, 65536);
		if (r < 0) {
			ok = false;
			break;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if ((total += r) > GZ_MAX)
			break;
	}
	if (ok && !gzdirect(g)) {
		int err;

		gzerror(g, &err);
		ok = err == Z_OK || err == Z_BUF_ERROR;
	} else if (gzdirect(g))
		ok = false; /* not compressed at all */
	gzclose(g);
	if (!ok) {
		free(buf);
		return false;
	}
	if (len > (size_t)SCAN_MAX) {
		memmove(buf, buf + len - (size_t)SCAN_MAX, (size_t)SCAN_MAX);
		len = (size_t)SCAN_MAX;
		*cut = true;
	}
	*out = buf;
	*outlen = len;
	return true;
}

enum ap_err
ap_logs_read(struct ap_log_file *lf, const struct ap_log_query *q, struct json_object **out,
	     struct ap_problem *pb)
{
	struct json_object *rev;
	char *data = NULL;
	size_t end = 0;
	bool cut = false;
	int got = 0;

	*out = NULL;
	if (lf->gzip) {
		if (!gz_tail(lf->fd, &data, &end, &cut))
			return ap_problem_set(pb, AP_PB_INVALID, "rotation",
					      "the rotation is not a gzip file");
	} else {
		/* The end of the log (at most SCAN_MAX). */
		int64_t start = lf->size > SCAN_MAX ? lf->size - SCAN_MAX : 0,
			len = lf->size - start;
		ssize_t k;

		data = ap_xmalloc((size_t)len + 1);
		k = len > 0 ? pread(lf->fd, data, (size_t)len, start) : 0;
		end = k > 0 ? (size_t)k : 0;
		cut = start > 0;
	}
	rev = json_object_new_array();
	/* Its lines taken backwards. */
	while (end > 0 && got < q->lines) {
		size_t e = end, st;

		if (data[e - 1] == '\n')
			e--;
		st = e;
		while (st > 0 && data[st - 1] != '\n')
			st--;
		/* A first line cut by the scan's bound is not a line. */
		if (st == 0 && cut)
			break;
		if (e > st && matches(data + st, e - st, q)) {
			json_object_array_add(rev, line_json(data + st, e - st));
			got++;
		}
		end = st;
	}
	free(data);
	*out = json_object_new_array();
	for (size_t i = json_object_array_length(rev); i > 0; i--)
		json_object_array_add(*out, json_object_get(json_object_array_get_idx(rev, i - 1)));
	json_object_put(rev);
	return AP_OK;
}

enum ap_err
ap_logs_tail(const struct ap_sites_env *env, const struct ap_site *s, int which, int rotation,
	     int lines, const char *search, const char *level, struct json_object **out,
	     int64_t *size, struct ap_problem *pb)
{
	struct ap_log_query q = {.lines = lines, .search = search, .level = -1, .tag = -1};
	struct ap_log_file lf;
	enum ap_err rc;

	*out = NULL;
	if (level != NULL && which == 1)
		for (int i = 0; ap_log_levels[i] != NULL; i++)
			if (strcmp(level, ap_log_levels[i]) == 0)
				q.level = i;
	if ((rc = ap_logs_open(env, s, which, rotation, &lf, pb)) != AP_OK) {
		ap_logs_close(&lf);
		return rc;
	}
	*size = lf.size;
	rc = ap_logs_read(&lf, &q, out, pb);
	ap_logs_close(&lf);
	return rc;
}

bool
ap_logs_reqid(const char *line, size_t *off, size_t *len)
{
	const char *p = strstr(line, " req=");
	size_t n = 0;

	if (p == NULL)
		return false;
	p += 5;
	while ((p[n] >= '0' && p[n] <= '9') || (p[n] >= 'a' && p[n] <= 'f'))
		n++;
	if (n < 8 || n > 39 || (p[n] != ' ' && p[n] != '\0'))
		return false;
	*off = (size_t)(p - line);
	*len = n;
	return true;
}

enum ap_err
ap_logs_journal(const struct ap_sites_env *env, int which, const struct ap_log_query *q,
		const char *before, struct json_object **out, struct json_object **older,
		struct json_object **newest, struct ap_problem *pb)
{
	struct json_object *a, *res = NULL, *v;
	enum ap_err rc;

	*out = NULL;
	*older = NULL;
	if (newest != NULL)
		*newest = NULL;
	if (env->helper == NULL)
		return ap_problem_set(pb, AP_PB_UNAVAILABLE, NULL, "the helper is not configured");
	a = json_object_new_object();
	json_object_object_add(a, "which", json_object_new_string(ap_log_systems[which]));
	json_object_object_add(a, "lines", json_object_new_int(q->lines));
	if (q->search != NULL && q->search[0] != '\0')
		json_object_object_add(a, "search", json_object_new_string(q->search));
	if (q->level >= 0)
		json_object_object_add(a, "level", json_object_new_string(ap_log_levels[q->level]));
	if (before != NULL && before[0] != '\0')
		json_object_object_add(a, "before", json_object_new_string(before));
	rc = ap_helper_call(env->helper, "logs.journal", a, &res, pb);
	json_object_put(a);
	if (rc == AP_OK) {
		if (json_object_object_get_ex(res, "lines", &v) &&
		    json_object_is_type(v, json_type_array))
			*out = json_object_get(v);
		else
			*out = json_object_new_array();
		if (json_object_object_get_ex(res, "older", &v) &&
		    json_object_is_type(v, json_type_string))
			*older = json_object_get(v);
		if (newest != NULL && json_object_object_get_ex(res, "newest", &v) &&
		    json_object_is_type(v, json_type_string))
			*newest = json_object_get(v);
	}
	json_object_put(res);
	return rc;
}
