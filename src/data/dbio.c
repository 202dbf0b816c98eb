/*
 * dbio.c — a database's export and import through the helper (dbio.h).
 * The helper's jobs name their database in their first output line
 * ("database SERVER/NAME"), which is how a job id is checked against the
 * database it is asked for.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "aapanel/dbhistory.h"
#include "aapanel/dbio.h"
#include "aapanel/helper.h"
#include "aapanel/log.h"

#define CHUNK (128 * 1024)
#define POLL_MS 100

bool
ap_dbio_format_ok(const char *format)
{
	return format != NULL && (strcmp(format, "sql") == 0 || strcmp(format, "sql.gz") == 0);
}

static enum ap_err
call(const struct ap_sites_env *env, const char *op, struct json_object *args,
    struct json_object **result, int *fd, struct ap_problem *pb)
{
	enum ap_err rc;

	*result = NULL;
	if (env->helper == NULL)
		return ap_problem_set(pb, AP_PB_UNAVAILABLE, NULL, "the helper is not configured");
	rc = fd != NULL ? ap_helper_call_fd(env->helper, op, args, result, fd, pb)
			: ap_helper_call(env->helper, op, args, result, pb);
	if (rc != AP_OK && pb->code == AP_PB_UNAVAILABLE) {
		char why[sizeof(pb->reason)];

		snprintf(why, sizeof(why), "%s", pb->reason);
		AP_WARN("dbio: %s: %s", op, why);
		ap_problem_set(pb, AP_PB_UNAVAILABLE, NULL,
		    "the panel's helper is not reachable (%s); nothing was changed", why);
	}
	return rc;
}

static struct json_object *
db_args(const struct ap_database *d, const char *format)
{
	struct json_object *a = json_object_new_object();

	json_object_object_add(a, "server", json_object_new_string(d->server));
	json_object_object_add(a, "name", json_object_new_string(d->name));
	if (format != NULL)
		json_object_object_add(a, "format", json_object_new_string(format));
	return a;
}

static enum ap_err
job_of(struct json_object *res, int64_t *job, struct ap_problem *pb)
{
	struct json_object *v;

	if (res == NULL || !json_object_object_get_ex(res, "job", &v))
		return ap_problem_set(pb, AP_PB_INTERNAL, NULL, "the helper answered without a job");
	*job = json_object_get_int64(v);
	return AP_OK;
}

enum ap_err
ap_dbio_export_start(const struct ap_sites_env *env, const struct ap_database *d,
    const char *format, int64_t *job, struct ap_problem *pb)
{
	struct json_object *a = db_args(d, format), *res = NULL;
	enum ap_err rc;

	*job = 0;
	if (!ap_dbio_format_ok(format))
		rc = ap_problem_set(pb, AP_PB_INVALID, "format", "must be sql or sql.gz");
	else if ((rc = call(env, "database.export", a, &res, NULL, pb)) == AP_OK)
		rc = job_of(res, job, pb);
	json_object_put(a);
	json_object_put(res);
	return rc;
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
digest_hex(EVP_MD_CTX *md, char *out)
{
	unsigned char h[32];
	unsigned hl = 0;

	EVP_DigestFinal_ex(md, h, &hl);
	for (unsigned i = 0; i < 32 && hl == 32; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}

enum ap_err
ap_dbio_import_start(const struct ap_sites_env *env, const struct ap_database *d,
    const char *format, ap_dbio_read_fn rd, void *rdctx, int64_t max, int64_t *job, int64_t *size,
    char *sha256, struct ap_problem *pb)
{
	static char buf[CHUNK];
	struct json_object *a = NULL, *res = NULL, *v;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	char token[40] = "";
	int64_t total = 0;
	enum ap_err rc;
	int fd = -1;

	*job = 0;
	*size = 0;
	sha256[0] = '\0';
	if (!ap_dbio_format_ok(format)) {
		rc = ap_problem_set(pb, AP_PB_INVALID, "format", "must be sql or sql.gz");
		goto out;
	}
	a = json_object_new_object();
	if ((rc = call(env, "database.import_begin", a, &res, &fd, pb)) != AP_OK)
		goto out;
	if (json_object_object_get_ex(res, "token", &v))
		snprintf(token, sizeof(token), "%s", json_object_get_string(v));
	json_object_put(res);
	res = NULL;
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	for (;;) {
		ssize_t k = rd(rdctx, buf, sizeof(buf));

		if (k == 0)
			break;
		if (k < 0) {
			rc = ap_problem_set(pb, AP_PB_INVALID, "file", "the upload ended before its end");
			goto fail;
		}
		total += k;
		if (total > max) {
			rc = ap_problem_set(pb, AP_PB_TOO_LARGE, "file",
			    "the dump is larger than databases.import_max (%lld bytes)", (long long)max);
			goto fail;
		}
		EVP_DigestUpdate(md, buf, (size_t)k);
		if (!write_all(fd, buf, (size_t)k)) {
			rc = ap_problem_set(pb, AP_PB_FAILED, "file", "the upload could not be kept: %s",
			    strerror(errno));
			goto fail;
		}
	}
	if (total == 0) {
		rc = ap_problem_set(pb, AP_PB_INVALID, "file", "is empty");
		goto fail;
	}
	if (fsync(fd) != 0) {
		rc = ap_problem_set(pb, AP_PB_FAILED, "file", "the upload could not be kept: %s",
		    strerror(errno));
		goto fail;
	}
	close(fd);
	fd = -1;
	digest_hex(md, sha256);
	*size = total;
	json_object_put(a);
	a = db_args(d, format);
	json_object_object_add(a, "token", json_object_new_string(token));
	if ((rc = call(env, "database.import", a, &res, NULL, pb)) != AP_OK)
		goto fail;
	rc = job_of(res, job, pb);
	goto out;
fail:
	if (fd >= 0) {
		close(fd);
		fd = -1;
	}
	if (token[0] != '\0') {
		struct json_object *ab = json_object_new_object(), *r2 = NULL;
		struct ap_problem p2;

		json_object_object_add(ab, "token", json_object_new_string(token));
		if (call(env, "database.import_abort", ab, &r2, NULL, &p2) != AP_OK)
			AP_WARN("database.import_abort: %s", p2.reason);
		json_object_put(r2);
		json_object_put(ab);
	}
out:
	if (fd >= 0)
		close(fd);
	EVP_MD_CTX_free(md);
	json_object_put(a);
	json_object_put(res);
	return rc;
}

/* The job's first output line names d ("database SERVER/NAME\n"). */
static bool
job_is_of(struct json_object *st, const struct ap_database *d, const char **kind)
{
	struct json_object *v;
	const char *op, *out;
	char want[96];

	if (!json_object_object_get_ex(st, "op", &v) || (op = json_object_get_string(v)) == NULL)
		return false;
	if (strcmp(op, "database.export") == 0)
		*kind = "export";
	else if (strcmp(op, "database.import") == 0)
		*kind = "import";
	else
		return false;
	if (!json_object_object_get_ex(st, "output", &v) || (out = json_object_get_string(v)) == NULL)
		return false;
	/* A job that has not written its first line yet (queued, or just started): the same
	 * permission reads every database's jobs, so nothing is shown that should not be. */
	if (out[0] == '\0' && json_object_object_get_ex(st, "state", &v) &&
	    (strcmp(json_object_get_string(v), "queued") == 0 || strcmp(json_object_get_string(v), "running") == 0))
		return true;
	snprintf(want, sizeof(want), "database %s/%s\n", d->server, d->name);
	return strncmp(out, want, strlen(want)) == 0;
}

enum ap_err
ap_dbio_job(const struct ap_sites_env *env, const struct ap_database *d, int64_t job,
    struct json_object **out, struct ap_problem *pb)
{
	struct json_object *a = json_object_new_object(), *st = NULL, *o, *v, *err;
	const char *kind = NULL;
	enum ap_err rc;

	*out = NULL;
	json_object_object_add(a, "id", json_object_new_int64(job));
	rc = call(env, "job.status", a, &st, NULL, pb);
	json_object_put(a);
	if (rc != AP_OK) {
		if (pb->code == AP_PB_NOT_FOUND)
			ap_problem_set(pb, AP_PB_NOT_FOUND, "job", "no such job (the helper keeps them an hour)");
		return rc;
	}
	if (!job_is_of(st, d, &kind)) {
		json_object_put(st);
		return ap_problem_set(pb, AP_PB_NOT_FOUND, "job", "no such job of this database");
	}
	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64(job));
	json_object_object_add(o, "kind", json_object_new_string(kind));
	json_object_object_add(o, "state", json_object_object_get_ex(st, "state", &v) ? json_object_get(v)
										       : NULL);
	json_object_object_add(o, "progress", json_object_object_get_ex(st, "progress", &v)
		? json_object_get(v) : json_object_new_int(0));
	if (json_object_object_get_ex(st, "error", &err) && json_object_object_get_ex(err, "reason", &v))
		json_object_object_add(o, "error", json_object_get(v));
	else
		json_object_object_add(o, "error", NULL);
	json_object_object_add(o, "result", json_object_object_get_ex(st, "result", &v)
		? json_object_get(v) : NULL);
	json_object_put(st);
	ap_dbhist_seen(env, d, o); /* an ended job finishes its history row */
	*out = o;
	return AP_OK;
}

static const char *
state_of(struct json_object *st)
{
	struct json_object *v;

	return json_object_object_get_ex(st, "state", &v) ? json_object_get_string(v) : "";
}

enum ap_err
ap_dbio_job_wait(const struct ap_sites_env *env, const struct ap_database *d, int64_t job,
    int timeout_ms, struct json_object **st, struct ap_problem *pb)
{
	uint64_t deadline = ap_now_ms() + (uint64_t)timeout_ms;
	enum ap_err rc;

	for (;;) {
		const char *s;

		if ((rc = ap_dbio_job(env, d, job, st, pb)) != AP_OK)
			return rc;
		s = state_of(*st);
		if (strcmp(s, "queued") != 0 && strcmp(s, "running") != 0)
			return AP_OK;
		if (ap_now_ms() >= deadline)
			return ap_problem_set(pb, AP_PB_TIMEOUT, "job", "the job is still %s", s);
		json_object_put(*st);
		*st = NULL;
		struct timespec ts = { 0, POLL_MS * 1000000L };

		nanosleep(&ts, NULL);
	}
}

enum ap_err
ap_dbio_export_open(const struct ap_sites_env *env, const struct ap_database *d, int64_t job,
    int *fd, int64_t *size, char *format, size_t fmtlen, char *sha256, struct ap_problem *pb)
{
	struct json_object *st = NULL, *r, *v, *a = NULL, *res = NULL;
	const char *s;
	enum ap_err rc;

	*fd = -1;
	*size = 0;
	sha256[0] = '\0';
	if ((rc = ap_dbio_job(env, d, job, &st, pb)) != AP_OK)
		return rc;
	json_object_object_get_ex(st, "kind", &v);
	s = state_of(st);
	if (v == NULL || strcmp(json_object_get_string(v), "export") != 0) {
		rc = ap_problem_set(pb, AP_PB_NOT_FOUND, "job", "is not an export");
		goto out;
	}
	if (strcmp(s, "done") != 0) {
		rc = ap_problem_set(pb, AP_PB_CONFLICT, "job", strcmp(s, "failed") == 0 ||
		    strcmp(s, "timeout") == 0 ? "the export failed" : "the export is still running");
		goto out;
	}
	if (!json_object_object_get_ex(st, "result", &r) || r == NULL) {
		rc = ap_problem_set(pb, AP_PB_INTERNAL, NULL, "the export has no result");
		goto out;
	}
	a = json_object_new_object();
	if (json_object_object_get_ex(r, "token", &v))
		json_object_object_add(a, "token", json_object_get(v));
	if (json_object_object_get_ex(r, "format", &v)) {
		json_object_object_add(a, "format", json_object_get(v));
		snprintf(format, fmtlen, "%s", json_object_get_string(v));
	}
	if (json_object_object_get_ex(r, "sha256", &v))
		snprintf(sha256, 65, "%s", json_object_get_string(v));
	if ((rc = call(env, "database.export_open", a, &res, fd, pb)) != AP_OK)
		goto out;
	if (json_object_object_get_ex(res, "size", &v))
		*size = json_object_get_int64(v);
out:
	json_object_put(st);
	json_object_put(a);
	json_object_put(res);
	return rc;
}

int
ap_dbio_history(const struct ap_sites_env *env, const struct ap_database *d, struct ap_dbhist_row *rows,
    int max, struct ap_problem *pb)
{
	int n = ap_dbhist_list(env, d, rows, max, pb);
	bool asked = false;

	for (int i = 0; i < n; i++) {
		struct json_object *st = NULL;
		struct ap_problem jpb = { 0 };

		if (strcmp(rows[i].result, "running") != 0 || rows[i].job <= 0)
			continue;
		asked = true;
		if (ap_dbio_job(env, d, rows[i].job, &st, &jpb) == AP_OK)
			json_object_put(st); /* an ended one is finished there (ap_dbhist_seen) */
		else if (jpb.code == AP_PB_NOT_FOUND)
			ap_dbhist_unknown(env, d, rows[i].job);
	}
	return asked ? ap_dbhist_list(env, d, rows, max, pb) : n;
}
