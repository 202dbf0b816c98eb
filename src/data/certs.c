/*
 * certs.c — the sites' certificates (certs.h, docs/certificates.md): the
 * certificates table and the helper's cert.* operations. Uploads wait for
 * the helper's job (a few hundred milliseconds: files, nginx -t, reload);
 * issuance and renewal only start theirs: the row is pending with the job's
 * id, and whoever looks at it next (the page, the API, the CLI) settles it
 * from job.status. A private key passes through to the helper and nowhere
 * else: not the table, not the audit log, not an answer.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "aapanel/certs.h"
#include "aapanel/log.h"

/* The checker's own reason (certcheck.c), passed through as it is. */
#define CHECK_MSG "%s"

static const char cert_cols[] =
    "id, domain, san, issuer, serial, not_before, not_after, source, state, job_id, job_op, "
    "last_error, last_renewal_at, last_renewal_ok, created_at, updated_at";

static void
text_col(struct ap_db_stmt *st, int col, char *dst, size_t n)
{
	const char *t = ap_db_col_text(st, col, NULL);

	snprintf(dst, n, "%s", t ? t : "");
}

static int64_t
int_col(struct ap_db_stmt *st, int col)
{
	return ap_db_col_is_null(st, col) ? 0 : ap_db_col_int64(st, col);
}

static void
fill(struct ap_db_stmt *st, struct ap_cert *c)
{
	memset(c, 0, sizeof(*c));
	c->id = ap_db_col_int64(st, 0);
	text_col(st, 1, c->domain, sizeof(c->domain));
	text_col(st, 2, c->names, sizeof(c->names));
	text_col(st, 3, c->issuer, sizeof(c->issuer));
	text_col(st, 4, c->serial, sizeof(c->serial));
	c->not_before = int_col(st, 5);
	c->not_after = int_col(st, 6);
	text_col(st, 7, c->source, sizeof(c->source));
	text_col(st, 8, c->state, sizeof(c->state));
	c->job_id = int_col(st, 9);
	text_col(st, 10, c->job_op, sizeof(c->job_op));
	text_col(st, 11, c->last_error, sizeof(c->last_error));
	c->last_renewal_at = int_col(st, 12);
	c->last_renewal_ok = ap_db_col_is_null(st, 13) ? -1 : (int)ap_db_col_int64(st, 13);
	c->created_at = int_col(st, 14);
	c->updated_at = int_col(st, 15);
	if (c->state[0] == '\0')
		snprintf(c->state, sizeof(c->state), "ok");
}

static enum ap_err
db_fail(struct ap_problem *pb, enum ap_db_rc rc)
{
	if (rc == AP_DB_ECONN || rc == AP_DB_ETIMEOUT)
		ap_problem_set(pb, AP_PB_UNAVAILABLE, NULL, "database unavailable");
	else
		ap_problem_set(pb, AP_PB_INTERNAL, NULL, "a database error occurred");
	return AP_ERR_IO;
}

static enum ap_err
get_one(const struct ap_sites_env *env, int64_t id, const char *domain, struct ap_cert *out,
    struct ap_problem *pb)
{
	struct ap_db_stmt *st = NULL;
	char sql[512];
	enum ap_db_rc rc;

	snprintf(sql, sizeof(sql), "SELECT %s FROM certificates WHERE %s", cert_cols,
	    domain ? "domain = ?" : "id = ?");
	if ((rc = ap_db_prepare(env->db, sql, &st)) != AP_DB_OK)
		return db_fail(pb, rc);
	if (domain != NULL)
		ap_db_bind_text(st, 1, domain, -1);
	else
		ap_db_bind_int64(st, 1, id);
	rc = ap_db_step(st);
	if (rc == AP_DB_ROW)
		fill(st, out);
	ap_db_finalize(st);
	if (rc == AP_DB_DONE) {
		ap_problem_set(pb, AP_PB_NOT_FOUND, domain ? "domain" : "id", "no such certificate");
		return AP_ERR_NOTFOUND;
	}
	return rc == AP_DB_ROW ? AP_OK : db_fail(pb, rc);
}

enum ap_err
ap_cert_get(const struct ap_sites_env *env, int64_t id, struct ap_cert *out, struct ap_problem *pb)
{
	return get_one(env, id, NULL, out, pb);
}

enum ap_err
ap_cert_find(const struct ap_sites_env *env, const char *domain, struct ap_cert *out,
    struct ap_problem *pb)
{
	return get_one(env, 0, domain, out, pb);
}

enum ap_err
ap_cert_page(const struct ap_sites_env *env, int64_t after, int64_t limit,
    bool (*fn)(void *ctx, const struct ap_cert *c), void *ctx, bool *more, struct ap_problem *pb)
{
	struct ap_db_stmt *st = NULL;
	struct ap_cert c;
	char sql[512];
	int64_t n = 0;
	enum ap_db_rc rc;

	if (more != NULL)
		*more = false;
	if (limit < 1 || limit > 10000)
		return ap_problem_set(pb, AP_PB_INVALID, "limit", "must be an integer between %lld and %lld", 1LL, 10000LL);
	snprintf(sql, sizeof(sql), "SELECT %s FROM certificates WHERE id > ? ORDER BY id LIMIT ?", cert_cols);
	if ((rc = ap_db_prepare(env->db, sql, &st)) != AP_DB_OK)
		return db_fail(pb, rc);
	ap_db_bind_int64(st, 1, after);
	ap_db_bind_int64(st, 2, limit + 1);
	while ((rc = ap_db_step(st)) == AP_DB_ROW) {
		if (n++ == limit) {
			if (more != NULL)
				*more = true;
			rc = AP_DB_DONE;
			break;
		}
		fill(st, &c);
		if (!fn(ctx, &c)) {
			rc = AP_DB_DONE;
			break;
		}
	}
	ap_db_finalize(st);
	return rc == AP_DB_DONE ? AP_OK : db_fail(pb, rc);
}

static void
bind_opt(struct ap_db_stmt *st, int i, const char *v)
{
	if (v[0])
		ap_db_bind_text(st, i, v, -1);
	else
		ap_db_bind_null(st, i);
}

static void
bind_time(struct ap_db_stmt *st, int i, int64_t v)
{
	if (v)
		ap_db_bind_int64(st, i, v);
	else
		ap_db_bind_null(st, i);
}

/* Insert or update the row of c->domain with everything in c; c->id set. */
static enum ap_err
save(const struct ap_sites_env *env, struct ap_cert *c, struct ap_problem *pb)
{
	struct ap_cert old;
	struct ap_problem quiet;
	struct ap_db_stmt *st = NULL;
	int64_t now = (int64_t)time(NULL);
	bool exists = get_one(env, 0, c->domain, &old, &quiet) == AP_OK;
	enum ap_db_rc rc = ap_db_prepare(env->db, exists
	    ? "UPDATE certificates SET san = ?, issuer = ?, serial = ?, not_before = ?, not_after = ?, "
	      "source = ?, state = ?, job_id = ?, job_op = ?, last_error = ?, last_renewal_at = ?, "
	      "last_renewal_ok = ?, updated_at = ?, auto_renew = ? WHERE domain = ?"
	    : "INSERT INTO certificates (san, issuer, serial, not_before, not_after, source, state, "
	      "job_id, job_op, last_error, last_renewal_at, last_renewal_ok, updated_at, auto_renew, "
	      "domain, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &st);

	if (rc != AP_DB_OK)
		return db_fail(pb, rc);
	bind_opt(st, 1, c->names);
	bind_opt(st, 2, c->issuer);
	bind_opt(st, 3, c->serial);
	bind_time(st, 4, c->not_before);
	bind_time(st, 5, c->not_after);
	ap_db_bind_text(st, 6, c->source, -1);
	ap_db_bind_text(st, 7, c->state, -1);
	bind_time(st, 8, c->job_id);
	bind_opt(st, 9, c->job_op);
	bind_opt(st, 10, c->last_error);
	bind_time(st, 11, c->last_renewal_at);
	if (c->last_renewal_ok < 0)
		ap_db_bind_null(st, 12);
	else
		ap_db_bind_int64(st, 12, c->last_renewal_ok);
	ap_db_bind_int64(st, 13, now);
	ap_db_bind_int64(st, 14, strcmp(c->source, "acme") == 0);
	ap_db_bind_text(st, 15, c->domain, -1);
	if (!exists)
		ap_db_bind_int64(st, 16, now);
	rc = ap_db_step(st);
	ap_db_finalize(st);
	if (rc != AP_DB_DONE)
		return db_fail(pb, rc);
	return get_one(env, 0, c->domain, c, pb);
}

/* The helper's certificate facts into c. */
static void
from_result(struct ap_cert *c, struct json_object *r)
{
	struct json_object *v;

#define S(k, dst) if (json_object_object_get_ex(r, k, &v)) snprintf(dst, sizeof(dst), "%s", json_object_get_string(v))
	S("names", c->names);
	S("issuer", c->issuer);
	S("serial", c->serial);
	S("source", c->source);
#undef S
	if (json_object_object_get_ex(r, "not_before", &v))
		c->not_before = json_object_get_int64(v);
	if (json_object_object_get_ex(r, "not_after", &v))
		c->not_after = json_object_get_int64(v);
}

static const char *
names_of(const struct ap_site *s, char *buf, size_t n)
{
	size_t l = (size_t)snprintf(buf, n, "%s", s->spec.domain);

	if (s->spec.aliases[0] && l + 1 < n) {
		buf[l] = ' ';
		memcpy(buf + l + 1, s->spec.aliases, strnlen(s->spec.aliases, n - l - 2));
		buf[l + 1 + strnlen(s->spec.aliases, n - l - 2)] = '\0';
	}
	return buf;
}

enum ap_err
ap_cert_upload(const struct ap_sites_env *env, const struct ap_site *site, const char *cert,
    size_t cert_len, const char *key, size_t key_len, const char *chain, size_t chain_len,
    struct ap_cert *out, struct ap_problem *pb)
{
	struct json_object *args, *res = NULL;
	struct ap_cert_info info;
	const char *field = NULL;
	char names[2400], why[512];
	enum ap_err rc;

	/* Refused here first, with the reason: nothing reaches the helper. */
	if (ap_cert_check_upload(cert, cert_len, key, key_len, chain, chain_len,
		names_of(site, names, sizeof(names)), (int64_t)time(NULL), &info, NULL, &field, why,
		sizeof(why)) != AP_OK)
		return ap_problem_set(pb, AP_PB_INVALID, field, CHECK_MSG, why);
	args = ap_site_helper_args(site);
	json_object_object_add(args, "cert", json_object_new_string_len(cert, (int)cert_len));
	json_object_object_add(args, "key", json_object_new_string_len(key, (int)key_len));
	if (chain != NULL && chain_len > 0)
		json_object_object_add(args, "chain", json_object_new_string_len(chain, (int)chain_len));
	rc = ap_site_helper_job(env, "cert.upload", args, &res, pb);
	json_object_put(args);
	if (rc != AP_OK)
		return rc;
	memset(out, 0, sizeof(*out));
	snprintf(out->domain, sizeof(out->domain), "%s", site->spec.domain);
	from_result(out, res);
	json_object_put(res);
	snprintf(out->source, sizeof(out->source), "upload");
	snprintf(out->state, sizeof(out->state), "ok");
	out->last_renewal_ok = -1;
	return save(env, out, pb);
}

static enum ap_err
start(const struct ap_sites_env *env, const char *op, struct json_object *args, int64_t *id,
    struct ap_problem *pb)
{
	struct json_object *res = NULL, *v;
	enum ap_err rc = ap_site_helper_call(env, op, args, &res, pb);

	if (rc != AP_OK)
		return rc;
	if (!json_object_object_get_ex(res, "job", &v)) {
		json_object_put(res);
		return ap_problem_set(pb, AP_PB_INTERNAL, NULL, "the helper answered without a job");
	}
	*id = json_object_get_int64(v);
	json_object_put(res);
	return AP_OK;
}

enum ap_err
ap_cert_issue_start(const struct ap_sites_env *env, const struct ap_site *site, struct ap_cert *out,
    struct ap_problem *pb)
{
	struct json_object *args;
	struct ap_problem quiet;
	int64_t id = 0;
	enum ap_err rc;

	if (!site->enabled)
		return ap_problem_set(pb, AP_PB_INVALID, "domain",
		    "the site is disabled: enable it first (the ACME server must reach it)");
	if (ap_cert_find(env, site->spec.domain, out, &quiet) != AP_OK) {
		memset(out, 0, sizeof(*out));
		snprintf(out->domain, sizeof(out->domain), "%s", site->spec.domain);
		out->last_renewal_ok = -1;
	} else if (strcmp(out->state, "pending") == 0) {
		return ap_problem_set(pb, AP_PB_EXISTS, "domain", "a job for this certificate is still running");
	}
	args = ap_site_helper_args(site);
	rc = start(env, "cert.issue", args, &id, pb);
	json_object_put(args);
	if (rc != AP_OK)
		return rc;
	if (out->not_after == 0)
		names_of(site, out->names, sizeof(out->names));
	snprintf(out->source, sizeof(out->source), "acme");
	snprintf(out->state, sizeof(out->state), "pending");
	snprintf(out->job_op, sizeof(out->job_op), "issue");
	out->job_id = id;
	out->last_error[0] = '\0';
	return save(env, out, pb);
}

enum ap_err
ap_cert_renew_start(const struct ap_sites_env *env, const struct ap_cert *c, struct ap_cert *out,
    struct ap_problem *pb)
{
	struct json_object *args;
	int64_t id = 0;
	enum ap_err rc;

	*out = *c;
	if (strcmp(c->state, "pending") == 0)
		return ap_problem_set(pb, AP_PB_EXISTS, "id", "a job for this certificate is still running");
	if (strcmp(c->source, "acme") != 0)
		return ap_problem_set(pb, AP_PB_INVALID, "id",
		    "an uploaded certificate is renewed by uploading a new one");
	args = json_object_new_object();
	json_object_object_add(args, "domain", json_object_new_string(c->domain));
	rc = start(env, "cert.renew", args, &id, pb);
	json_object_put(args);
	if (rc != AP_OK)
		return rc;
	snprintf(out->state, sizeof(out->state), "pending");
	snprintf(out->job_op, sizeof(out->job_op), "renew");
	out->job_id = id;
	return save(env, out, pb);
}

void
ap_cert_settle(const struct ap_sites_env *env, struct ap_cert *c, struct json_object **job)
{
	struct json_object *args, *st = NULL, *v;
	struct ap_problem pb;
	const char *state;
	bool renew = strcmp(c->job_op, "renew") == 0;

	if (job != NULL)
		*job = NULL;
	if (c->job_id <= 0 || env->helper == NULL)
		return;
	args = json_object_new_object();
	json_object_object_add(args, "id", json_object_new_int64(c->job_id));
	if (ap_site_helper_call(env, "job.status", args, &st, &pb) != AP_OK) {
		json_object_put(args);
		if (pb.code == AP_PB_NOT_FOUND && strcmp(c->state, "pending") == 0) {
			snprintf(c->state, sizeof(c->state), "failed");
			snprintf(c->last_error, sizeof(c->last_error),
			    "the helper restarted while the job ran; start it again");
			if (renew) {
				c->last_renewal_at = (int64_t)time(NULL);
				c->last_renewal_ok = 0;
			}
			if (env->db != NULL)
				save(env, c, &pb);
		}
		return;
	}
	json_object_put(args);
	json_object_object_get_ex(st, "state", &v);
	state = v ? json_object_get_string(v) : "";
	if (strcmp(c->state, "pending") == 0 && strcmp(state, "done") == 0) {
		if (json_object_object_get_ex(st, "result", &v))
			from_result(c, v);
		snprintf(c->state, sizeof(c->state), "ok");
		c->last_error[0] = '\0';
		if (renew) {
			c->last_renewal_at = (int64_t)time(NULL);
			c->last_renewal_ok = 1;
		}
		if (env->db != NULL)
			save(env, c, &pb);
	} else if (strcmp(c->state, "pending") == 0 && strcmp(state, "failed") == 0) {
		ap_problem_clear(&pb);
		if (json_object_object_get_ex(st, "error", &v))
			ap_site_helper_problem(v, &pb);
		snprintf(c->state, sizeof(c->state), "failed");
		snprintf(c->last_error, sizeof(c->last_error), "%s", pb.reason[0] ? pb.reason : "the job failed");
		if (renew) {
			c->last_renewal_at = (int64_t)time(NULL);
			c->last_renewal_ok = 0;
		}
		AP_WARN("certificates: %s of %s failed: %s", c->job_op, c->domain, c->last_error);
		if (env->db != NULL)
			save(env, c, &pb);
	}
	if (job != NULL) {
		struct json_object *j = json_object_new_object();
		static const char *const keep[] = { "id", "op", "state", "progress", "output" };

		for (size_t i = 0; i < AP_NELEM(keep); i++)
			if (json_object_object_get_ex(st, keep[i], &v))
				json_object_object_add(j, keep[i], json_object_get(v));
		*job = j;
	}
	json_object_put(st);
}

enum ap_err
ap_cert_remove(const struct ap_sites_env *env, const struct ap_cert *c, const struct ap_site *site,
    struct ap_problem *pb)
{
	struct json_object *args, *res = NULL;
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc drc;
	enum ap_err rc = AP_OK;

	if (site != NULL) {
		args = ap_site_helper_args(site);
		rc = ap_site_helper_job(env, "cert.remove", args, &res, pb);
		json_object_put(args);
		json_object_put(res);
		/* Nothing on disk (a failed issuance): the row goes all the same. */
		if (rc != AP_OK && pb->code != AP_PB_NOT_FOUND)
			return rc;
	}
	if ((drc = ap_db_prepare(env->db, "DELETE FROM certificates WHERE id = ?", &st)) != AP_DB_OK)
		return db_fail(pb, drc);
	ap_db_bind_int64(st, 1, c->id);
	drc = ap_db_step(st);
	ap_db_finalize(st);
	return drc == AP_DB_DONE ? AP_OK : db_fail(pb, drc);
}

struct json_object *
ap_cert_json(const struct ap_cert *c)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_int64(c->id));
	json_object_object_add(o, "domain", json_object_new_string(c->domain));
	json_object_object_add(o, "names", json_object_new_string(c->names));
	json_object_object_add(o, "issuer", json_object_new_string(c->issuer));
	json_object_object_add(o, "serial", json_object_new_string(c->serial));
	json_object_object_add(o, "not_after", json_object_new_int64(c->not_after));
	json_object_object_add(o, "source", json_object_new_string(c->source));
	json_object_object_add(o, "state", json_object_new_string(c->state));
	if (c->job_id > 0)
		json_object_object_add(o, "job", json_object_new_int64(c->job_id));
	if (c->last_error[0])
		json_object_object_add(o, "error", json_object_new_string(c->last_error));
	return o;
}
