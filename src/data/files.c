/*
 * files.c — a site's files through the helper's files.* operations
 * (files.h, docs/files.md). Contents only ever move by descriptor.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "aapanel/files.h"
#include "aapanel/log.h"

#define CHUNK 65536

static void
add_site(struct json_object *a, const struct ap_site *s)
{
	if (s->spec.domain[0] == '\0') {
		/* An admin's other root (files.roots): its name in spec.root, no site, nothing refused by kind. */
		json_object_object_add(a, "rootname", json_object_new_string(s->spec.root));
		json_object_object_add(a, "kind", json_object_new_string("php"));
		return;
	}
	json_object_object_add(a, "domain", json_object_new_string(s->spec.domain));
	if (s->spec.root[0])
		json_object_object_add(a, "root", json_object_new_string(s->spec.root));
	json_object_object_add(a, "kind", json_object_new_string(ap_site_kinds[s->spec.kind]));
}

/* Operations that do not take the site's kind (the helper refuses undeclared members: none here). */
enum ap_err
ap_files_call(const struct ap_sites_env *env, const struct ap_site *s, const char *op,
    struct json_object *args, struct json_object **result, int *fd, struct ap_problem *pb)
{
	struct json_object *a = json_object_new_object();
	enum ap_err rc;

	*result = NULL;
	if (fd != NULL)
		*fd = -1;
	if (args != NULL) {
		json_object_object_foreach(args, k, v) {
			json_object_object_add(a, k, json_object_get(v));
		}
	}
	add_site(a, s);
	if (env->helper == NULL) {
		json_object_put(a);
		return ap_problem_set(pb, AP_PB_UNAVAILABLE, NULL, "the helper is not configured");
	}
	rc = fd != NULL ? ap_helper_call_fd(env->helper, op, a, result, fd, pb)
			: ap_helper_call(env->helper, op, a, result, pb);
	if (rc != AP_OK && pb->code == AP_PB_UNAVAILABLE) {
		char why[sizeof(pb->reason)];

		snprintf(why, sizeof(why), "%s", pb->reason);
		AP_WARN("files: %s: %s", op, why);
		ap_problem_set(pb, AP_PB_UNAVAILABLE, NULL,
		    "the panel's helper is not reachable (%s); nothing was changed", why);
	}
	json_object_put(a);
	return rc;
}

/* The job's state from job.status, or its problem: AP_PB_NOT_FOUND "job" when the helper does not know it. */
static enum ap_err
job_status(const struct ap_sites_env *env, int64_t job, struct json_object **st, struct ap_problem *pb)
{
	struct json_object *a = json_object_new_object();
	enum ap_err rc;

	json_object_object_add(a, "id", json_object_new_int64(job));
	rc = ap_site_helper_call(env, "job.status", a, st, pb);
	json_object_put(a);
	if (rc != AP_OK && pb->code == AP_PB_NOT_FOUND)
		ap_problem_set(pb, AP_PB_NOT_FOUND, "job", "no such job (the helper keeps them an hour)");
	return rc;
}

static const char *
state_of(struct json_object *st)
{
	struct json_object *v;

	return json_object_object_get_ex(st, "state", &v) ? json_object_get_string(v) : "";
}

enum ap_err
ap_files_job_start(const struct ap_sites_env *env, const struct ap_site *s, const char *op,
    struct json_object *args, int wait_ms, struct json_object **result, int64_t *job,
    struct ap_problem *pb)
{
	struct json_object *a = json_object_new_object(), *res = NULL, *v, *st = NULL;
	uint64_t deadline = ap_now_ms() + (uint64_t)(wait_ms > 0 ? wait_ms : 0);
	useconds_t pause = 2000;
	enum ap_err rc;

	*result = NULL;
	*job = 0;
	if (args != NULL) {
		json_object_object_foreach(args, k, val) {
			json_object_object_add(a, k, json_object_get(val));
		}
	}
	add_site(a, s);
	rc = ap_site_helper_call(env, op, a, &res, pb);
	json_object_put(a);
	if (rc != AP_OK)
		return rc;
	if (!json_object_object_get_ex(res, "job", &v)) {
		json_object_put(res);
		return ap_problem_set(pb, AP_PB_INTERNAL, NULL, "the helper answered without a job");
	}
	*job = json_object_get_int64(v);
	json_object_put(res);
	for (;;) {
		const char *state;

		usleep(pause);
		pause = pause < 50000 ? pause * 2 : 50000;
		if ((rc = job_status(env, *job, &st, pb)) != AP_OK)
			return rc;
		state = state_of(st);
		if (strcmp(state, "done") == 0) {
			*result = json_object_object_get_ex(st, "result", &v) && v != NULL ? json_object_get(v)
											 : json_object_new_object();
			break;
		}
		if (strcmp(state, "failed") == 0 || strcmp(state, "timeout") == 0) {
			if (json_object_object_get_ex(st, "error", &v) && v != NULL)
				ap_site_helper_problem(v, pb);
			else
				ap_problem_set(pb, AP_PB_FAILED, NULL, "%s failed", op);
			rc = AP_ERR_IO;
			break;
		}
		json_object_put(st);
		st = NULL;
		if (ap_now_ms() >= deadline)
			break; /* still running: *result NULL, *job its id */
	}
	json_object_put(st);
	return rc;
}

/* The first output line of a files job names its site ("site DOMAIN\n") or root ("root NAME\n"). */
static bool
job_is_of(struct json_object *st, const struct ap_site *s, const char **kind)
{
	static const char *const ops[][2] = { { "files.copy", "copy" }, { "files.chown_tree", "chown" },
		{ "files.extract", "extract" }, { "files.archive", "archive" } };
	struct json_object *v;
	const char *op, *out;
	char want[300];

	*kind = NULL;
	if (!json_object_object_get_ex(st, "op", &v) || (op = json_object_get_string(v)) == NULL)
		return false;
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strcmp(op, ops[i][0]) == 0)
			*kind = ops[i][1];
	if (*kind == NULL)
		return false;
	if (!json_object_object_get_ex(st, "output", &v) || (out = json_object_get_string(v)) == NULL)
		return false;
	/* Queued, or not yet at its first line: shown (the same permission reads every site's files,
	 * and nothing of the job but its state is known yet). */
	if (out[0] == '\0' && (strcmp(state_of(st), "queued") == 0 || strcmp(state_of(st), "running") == 0))
		return true;
	if (s->spec.domain[0] != '\0')
		snprintf(want, sizeof(want), "site %s\n", s->spec.domain);
	else
		snprintf(want, sizeof(want), "root %s\n", s->spec.root);
	return strncmp(out, want, strlen(want)) == 0;
}

enum ap_err
ap_files_job_get(const struct ap_sites_env *env, const struct ap_site *s, int64_t job,
    struct json_object **out, struct ap_problem *pb)
{
	struct json_object *st = NULL, *o, *v, *err;
	const char *kind = NULL;
	enum ap_err rc;

	*out = NULL;
	if ((rc = job_status(env, job, &st, pb)) != AP_OK)
		return rc;
	if (!job_is_of(st, s, &kind)) {
		json_object_put(st);
		return s->spec.domain[0] != '\0' ? ap_problem_set(pb, AP_PB_NOT_FOUND, "job", "no such job of this site")
						: ap_problem_set(pb, AP_PB_NOT_FOUND, "job", "no such job of this root");
	}
	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64(job));
	json_object_object_add(o, "kind", json_object_new_string(kind));
	/* job.cancel ends a job "failed" with its flag "cancelled": shown as its own state. */
	json_object_object_add(o, "state", json_object_new_string(
	    strcmp(state_of(st), "failed") == 0 && json_object_object_get_ex(st, "cancelled", &v) &&
	    json_object_get_boolean(v) ? "cancelled" : state_of(st)));
	json_object_object_add(o, "progress", json_object_object_get_ex(st, "progress", &v)
		? json_object_get(v) : json_object_new_int(0));
	if (json_object_object_get_ex(st, "error", &err) && err != NULL &&
	    json_object_object_get_ex(err, "reason", &v))
		json_object_object_add(o, "error", json_object_get(v));
	else
		json_object_object_add(o, "error", NULL);
	json_object_object_add(o, "result", json_object_object_get_ex(st, "result", &v)
		? json_object_get(v) : NULL);
	json_object_put(st);
	*out = o;
	return AP_OK;
}

enum ap_err
ap_files_job_cancel(const struct ap_sites_env *env, const struct ap_site *s, int64_t job,
    struct json_object **out, struct ap_problem *pb)
{
	struct json_object *st = NULL, *a, *res = NULL, *v;
	const char *state;
	enum ap_err rc;

	*out = NULL;
	if ((rc = ap_files_job_get(env, s, job, &st, pb)) != AP_OK)
		return rc;
	state = json_object_object_get_ex(st, "state", &v) ? json_object_get_string(v) : "";
	if (strcmp(state, "queued") != 0 && strcmp(state, "running") != 0) {
		ap_problem_set(pb, AP_PB_CONFLICT, "job", "job %lld has ended already (%s): nothing to cancel",
		    (long long)job, state);
		json_object_put(st);
		return AP_ERR_INVAL;
	}
	json_object_put(st);
	a = json_object_new_object();
	json_object_object_add(a, "id", json_object_new_int64(job));
	rc = ap_site_helper_call(env, "job.cancel", a, &res, pb);
	json_object_put(a);
	json_object_put(res);
	if (rc != AP_OK) {
		/* It ended between the two calls. */
		if (pb->code == AP_PB_INVALID)
			ap_problem_set(pb, AP_PB_CONFLICT, "job", "job %lld has ended already: nothing to cancel",
			    (long long)job);
		return rc;
	}
	/* SIGTERM, then SIGKILL after the helper's grace (2 s): the job has ended by then. */
	for (int i = 0; i < 60; i++) {
		usleep(50000);
		if ((rc = ap_files_job_get(env, s, job, &st, pb)) != AP_OK)
			return rc;
		state = json_object_object_get_ex(st, "state", &v) ? json_object_get_string(v) : "";
		if (strcmp(state, "queued") != 0 && strcmp(state, "running") != 0)
			break;
		json_object_put(st);
		st = NULL;
	}
	if (st == NULL)
		rc = ap_files_job_get(env, s, job, &st, pb);
	*out = st;
	return rc;
}

bool
ap_files_server_executed(const char *name)
{
	static const char *const exts[] = { ".php", ".php3", ".php4", ".php5", ".php7", ".php8",
		".phtml", ".pht", ".phps", ".phar", NULL };
	size_t n = strlen(name);

	for (size_t i = 0; exts[i] != NULL; i++) {
		size_t e = strlen(exts[i]);

		if (n > e && strcasecmp(name + n - e, exts[i]) == 0)
			return true;
	}
	return false;
}

static bool
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

static void
abort_temp(const struct ap_sites_env *env, const struct ap_site *s, const char *path,
    const char *temp)
{
	struct json_object *a = json_object_new_object(), *res = NULL;
	struct ap_problem pb;

	json_object_object_add(a, "path", json_object_new_string(path));
	json_object_object_add(a, "temp", json_object_new_string(temp));
	if (ap_files_call(env, s, "files.abort", a, &res, NULL, &pb) != AP_OK)
		AP_WARN("files.abort %s: %s", temp, pb.reason);
	json_object_put(res);
	json_object_put(a);
}

enum ap_err
ap_files_put(const struct ap_sites_env *env, const struct ap_site *s, const char *path,
    bool overwrite, ap_files_read_fn rd, void *rdctx, int64_t max, struct json_object **result,
    char *sha256, struct ap_problem *pb)
{
	static char buf[CHUNK];
	struct json_object *a = json_object_new_object(), *res = NULL, *v;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	char temp[64] = "";
	int64_t total = 0;
	enum ap_err rc;
	int fd = -1;

	if (result != NULL)
		*result = NULL;
	json_object_object_add(a, "path", json_object_new_string(path));
	json_object_object_add(a, "overwrite", json_object_new_boolean(overwrite));
	rc = ap_files_call(env, s, "files.begin", a, &res, &fd, pb);
	if (rc != AP_OK)
		goto out;
	if (json_object_object_get_ex(res, "temp", &v))
		snprintf(temp, sizeof(temp), "%s", json_object_get_string(v));
	json_object_put(res);
	res = NULL;
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	for (;;) {
		ssize_t k = rd(rdctx, buf, sizeof(buf));

		if (k == 0)
			break;
		if (k < 0) {
			rc = ap_problem_set(pb, AP_PB_INVALID, "body", "the upload ended before its end");
			goto fail;
		}
		total += k;
		if (total > max) {
			rc = ap_problem_set(pb, AP_PB_TOO_LARGE, "body",
			    "the file is larger than files.max_upload (%lld bytes)", (long long)max);
			goto fail;
		}
		EVP_DigestUpdate(md, buf, (size_t)k);
		if (!write_all(fd, buf, (size_t)k)) {
			rc = ap_problem_set(pb, AP_PB_FAILED, "path", "the file could not be written or read: %s", strerror(errno));
			goto fail;
		}
	}
	if (fsync(fd) != 0) {
		rc = ap_problem_set(pb, AP_PB_FAILED, "path", "the file could not be written or read: %s", strerror(errno));
		goto fail;
	}
	close(fd);
	fd = -1;
	if (sha256 != NULL) {
		unsigned char h[32];
		unsigned hl = 0;

		EVP_DigestFinal_ex(md, h, &hl);
		for (unsigned i = 0; i < 32 && hl == 32; i++)
			snprintf(sha256 + 2 * i, 3, "%02x", h[i]);
	}
	json_object_object_add(a, "temp", json_object_new_string(temp));
	rc = ap_files_call(env, s, "files.commit", a, &res, NULL, pb);
	if (rc != AP_OK)
		goto fail;
	if (result != NULL) {
		*result = res;
		res = NULL;
	}
	goto out;
fail:
	if (temp[0])
		abort_temp(env, s, path, temp);
out:
	if (fd >= 0)
		close(fd);
	EVP_MD_CTX_free(md);
	json_object_put(res);
	json_object_put(a);
	return rc;
}

enum ap_err
ap_files_read_text(const struct ap_sites_env *env, const struct ap_site *s, const char *path,
    int64_t max, struct ap_buf *out, bool *crlf, struct ap_problem *pb)
{
	struct json_object *a = json_object_new_object(), *res = NULL, *v;
	char buf[CHUNK];
	int64_t size = 0;
	const char *nl;
	enum ap_err rc;
	int fd = -1;
	ssize_t k;

	*crlf = false;
	json_object_object_add(a, "path", json_object_new_string(path));
	rc = ap_files_call(env, s, "files.open", a, &res, &fd, pb);
	json_object_put(a);
	if (rc != AP_OK)
		return rc;
	if (json_object_object_get_ex(res, "size", &v))
		size = json_object_get_int64(v);
	json_object_put(res);
	if (size > max) {
		close(fd);
		return ap_problem_set(pb, AP_PB_TOO_LARGE, "path",
		    "is larger than the editor opens (files.edit_max, %lld bytes); download it instead",
		    (long long)max);
	}
	while ((k = read(fd, buf, sizeof(buf))) > 0) {
		if ((int64_t)(out->len + (size_t)k) > max) {
			close(fd);
			return ap_problem_set(pb, AP_PB_TOO_LARGE, "path",
			    "is larger than the editor opens (files.edit_max, %lld bytes); download it instead",
			    (long long)max);
		}
		ap_buf_append(out, buf, (size_t)k);
	}
	close(fd);
	if (k < 0)
		return ap_problem_set(pb, AP_PB_FAILED, "path", "the file could not be written or read: %s", strerror(errno));
	if (memchr(ap_buf_cstr(out), '\0', out->len) != NULL || !ap_utf8_valid(out->data, out->len))
		return ap_problem_set(pb, AP_PB_INVALID, "path",
		    "is not UTF-8 text (another encoding, or a binary file): download it instead");
	nl = out->len > 0 ? memchr(out->data, '\n', out->len) : NULL;
	*crlf = nl != NULL && nl > out->data && nl[-1] == '\r';
	return AP_OK;
}

struct mem_reader {
	const char *p;
	size_t left;
};

static ssize_t
mem_read(void *ctx, void *buf, size_t n)
{
	struct mem_reader *m = ctx;

	if (n > m->left)
		n = m->left;
	memcpy(buf, m->p, n);
	m->p += n;
	m->left -= n;
	return (ssize_t)n;
}

enum ap_err
ap_files_save_text(const struct ap_sites_env *env, const struct ap_site *s, const char *path,
    const char *text, size_t len, bool crlf, struct json_object **result, struct ap_problem *pb)
{
	struct ap_buf b = { 0 };
	struct mem_reader m;
	enum ap_err rc;

	if (!ap_utf8_valid(text, len) || memchr(text, '\0', len) != NULL)
		return ap_problem_set(pb, AP_PB_INVALID, "content", "must be UTF-8 text");
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\r' && i + 1 < len && text[i + 1] == '\n')
			continue; /* the LF that follows writes the line's end */
		if (text[i] == '\n') {
			if (crlf)
				ap_buf_putc(&b, '\r');
			ap_buf_putc(&b, '\n');
			continue;
		}
		ap_buf_putc(&b, text[i]);
	}
	m = (struct mem_reader){ .p = b.data != NULL ? b.data : "", .left = b.len };
	rc = ap_files_put(env, s, path, true, mem_read, &m, INT64_MAX, result, NULL, pb);
	ap_buf_free(&b);
	return rc;
}
