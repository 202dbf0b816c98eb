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

#include "aapanel/audit.h"
#include "aapanel/certs.h"
#include "aapanel/log.h"

/* The checker's own reason (certcheck.c), passed through as it is. */
#define CHECK_MSG "%s"

static const char cert_cols[] =
    "id, domain, san, issuer, serial, not_before, not_after, source, state, job_id, job_op, "
    "last_error, last_renewal_at, last_renewal_ok, created_at, updated_at, last_renewal_by";

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
	text_col(st, 16, c->renewal_by, sizeof(c->renewal_by));
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

/*
 * Which row an update may change: any (save), or only the one still in the
 * state the caller saw — so that of several processes settling the same
 * job or reading back the same renewal, one changes the row (and audits).
 */
enum guard { G_NONE, G_JOB, G_SERIAL, G_FAILURE };
struct guard_of {
	enum guard kind;
	int64_t job_id;     /* G_JOB: still pending with this job */
	const char *serial; /* G_SERIAL: not pending, still this serial */
	int64_t at;         /* G_FAILURE: not pending, no renewal or failure at or after at */
};

/* Insert or update the row of c->domain with everything in c; c->id set. *changed: a row was written. */
static enum ap_err
save_if(const struct ap_sites_env *env, struct ap_cert *c, const struct guard_of *g, bool *changed,
    struct ap_problem *pb)
{
	static const char *const guards[] = {
		[G_NONE] = "",
		[G_JOB] = " AND state = 'pending' AND COALESCE(job_id, 0) = ?",
		[G_SERIAL] = " AND state <> 'pending' AND COALESCE(serial, '') = ?",
		[G_FAILURE] = " AND state <> 'pending' AND COALESCE(last_renewal_at, 0) < ?",
	};
	struct ap_cert old;
	struct ap_problem quiet;
	struct ap_db_stmt *st = NULL;
	int64_t now = (int64_t)time(NULL);
	enum guard kind = g ? g->kind : G_NONE;
	bool exists = kind != G_NONE || get_one(env, 0, c->domain, &old, &quiet) == AP_OK;
	char sql[1024];
	enum ap_db_rc rc;

	*changed = false;
	if (exists)
		snprintf(sql, sizeof(sql), "UPDATE certificates SET san = ?, issuer = ?, serial = ?, not_before = ?, "
		    "not_after = ?, source = ?, state = ?, job_id = ?, job_op = ?, last_error = ?, "
		    "last_renewal_at = ?, last_renewal_ok = ?, updated_at = ?, auto_renew = ?, "
		    "last_renewal_by = ? WHERE domain = ?%s", guards[kind]);
	else
		snprintf(sql, sizeof(sql), "INSERT INTO certificates (san, issuer, serial, not_before, not_after, "
		    "source, state, job_id, job_op, last_error, last_renewal_at, last_renewal_ok, updated_at, "
		    "auto_renew, last_renewal_by, domain, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
		    "?, ?, ?, ?, ?, ?)");
	if ((rc = ap_db_prepare(env->db, sql, &st)) != AP_DB_OK)
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
	bind_opt(st, 15, c->renewal_by);
	ap_db_bind_text(st, 16, c->domain, -1);
	if (!exists)
		ap_db_bind_int64(st, 17, now);
	else if (kind == G_JOB)
		ap_db_bind_int64(st, 17, g->job_id);
	else if (kind == G_SERIAL)
		ap_db_bind_text(st, 17, g->serial, -1);
	else if (kind == G_FAILURE)
		ap_db_bind_int64(st, 17, g->at);
	rc = ap_db_step(st);
	if (rc == AP_DB_DONE)
		*changed = ap_db_changes(st) > 0;
	ap_db_finalize(st);
	if (rc != AP_DB_DONE)
		return db_fail(pb, rc);
	return get_one(env, 0, c->domain, c, pb);
}

static enum ap_err
save(const struct ap_sites_env *env, struct ap_cert *c, struct ap_problem *pb)
{
	bool changed;

	return save_if(env, c, NULL, &changed, pb);
}

/*
 * The row written under guard g and, when this process is the one that
 * changed it, one audit row by the system in the same transaction: action
 * on c->domain, outcome, before and after as ap_cert_json shows them. So a
 * job's end or a renewal certbot made is audited exactly once, whoever
 * notices it first (a page, the CLI, the sampler). true when it was this one.
 */
static bool
record(const struct ap_sites_env *env, const struct ap_cert *before, struct ap_cert *c,
    const struct guard_of *g, const char *action, const char *outcome)
{
	struct json_object *bj = ap_cert_json(before), *aj;
	struct ap_audit a = { .actor = "system", .via = "system", .action = action,
		.target = c->domain, .outcome = outcome };
	struct ap_problem pb;
	bool changed = false, began = ap_db_begin(env->db) == AP_DB_OK;
	enum ap_db_rc rc = AP_DB_OK;

	if (save_if(env, c, g, &changed, &pb) != AP_OK) {
		AP_WARN("certificates: %s of %s not recorded: %s", action, c->domain, pb.reason);
		changed = false;
		rc = AP_DB_EOTHER;
	} else if (changed) {
		aj = ap_cert_json(c);
		a.before_json = json_object_to_json_string_ext(bj, JSON_C_TO_STRING_PLAIN);
		a.after_json = json_object_to_json_string_ext(aj, JSON_C_TO_STRING_PLAIN);
		if ((rc = ap_audit_record(env->db, &a)) != AP_DB_OK) {
			AP_WARN("certificates: %s of %s: the audit row cannot be written (%s)", action,
			    c->domain, ap_db_rc_str(rc));
			changed = false;
		}
		json_object_put(aj);
	}
	json_object_put(bj);
	if (began && rc == AP_DB_OK && ap_db_commit(env->db) != AP_DB_OK)
		changed = false;
	else if (began && rc != AP_DB_OK)
		ap_db_rollback(env->db);
	return changed;
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
	struct ap_cert before = *c;
	struct guard_of g = { .kind = G_JOB, .job_id = c->job_id };
	const char *state, *action;
	bool renew = strcmp(c->job_op, "renew") == 0, pending = strcmp(c->state, "pending") == 0;

	action = renew ? "cert.renew" : "cert.issue";
	if (job != NULL)
		*job = NULL;
	if (c->job_id <= 0 || env->helper == NULL)
		return;
	args = json_object_new_object();
	json_object_object_add(args, "id", json_object_new_int64(c->job_id));
	if (ap_site_helper_call(env, "job.status", args, &st, &pb) != AP_OK) {
		json_object_put(args);
		if (pb.code == AP_PB_NOT_FOUND && pending) {
			snprintf(c->state, sizeof(c->state), "failed");
			snprintf(c->last_error, sizeof(c->last_error),
			    "the helper restarted while the job ran; start it again");
			if (renew) {
				c->last_renewal_at = (int64_t)time(NULL);
				c->last_renewal_ok = 0;
				snprintf(c->renewal_by, sizeof(c->renewal_by), "panel");
			}
			if (env->db != NULL)
				record(env, &before, c, &g, action, "failed");
		}
		return;
	}
	json_object_put(args);
	json_object_object_get_ex(st, "state", &v);
	state = v ? json_object_get_string(v) : "";
	if (pending && strcmp(state, "done") == 0) {
		if (json_object_object_get_ex(st, "result", &v))
			from_result(c, v);
		snprintf(c->state, sizeof(c->state), "ok");
		c->last_error[0] = '\0';
		if (renew) {
			c->last_renewal_at = (int64_t)time(NULL);
			c->last_renewal_ok = 1;
			snprintf(c->renewal_by, sizeof(c->renewal_by), "panel");
		}
		if (env->db != NULL)
			record(env, &before, c, &g, action, "ok");
	} else if (pending && (strcmp(state, "failed") == 0 || strcmp(state, "timeout") == 0)) {
		ap_problem_clear(&pb);
		if (json_object_object_get_ex(st, "error", &v))
			ap_site_helper_problem(v, &pb);
		snprintf(c->state, sizeof(c->state), "failed");
		snprintf(c->last_error, sizeof(c->last_error), "%s", pb.reason[0] ? pb.reason
		    : strcmp(state, "timeout") == 0 ? "the job did not finish in time" : "the job failed");
		if (renew) {
			c->last_renewal_at = (int64_t)time(NULL);
			c->last_renewal_ok = 0;
			snprintf(c->renewal_by, sizeof(c->renewal_by), "panel");
		}
		if (env->db != NULL && record(env, &before, c, &g, action, "failed"))
			AP_WARN("certificates: %s of %s failed: %s", before.job_op, c->domain, c->last_error);
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

/* Every pending row's job asked about (ap_cert_settle). */
enum ap_err
ap_cert_settle_pending(const struct ap_sites_env *env, int *settled, struct ap_problem *pb)
{
	struct ap_db_stmt *st = NULL;
	char domains[64][254];
	int n = 0;
	enum ap_db_rc rc;

	*settled = 0;
	if ((rc = ap_db_prepare(env->db, "SELECT domain FROM certificates WHERE state = 'pending' "
				      "ORDER BY id LIMIT 64", &st)) != AP_DB_OK)
		return db_fail(pb, rc);
	while ((rc = ap_db_step(st)) == AP_DB_ROW && n < 64)
		text_col(st, 0, domains[n++], sizeof(domains[0]));
	ap_db_finalize(st);
	if (rc != AP_DB_DONE && rc != AP_DB_ROW)
		return db_fail(pb, rc);
	for (int i = 0; i < n; i++) {
		struct ap_cert c;
		struct ap_problem quiet;

		if (get_one(env, 0, domains[i], &c, &quiet) != AP_OK || strcmp(c.state, "pending") != 0)
			continue;
		ap_cert_settle(env, &c, NULL);
		if (strcmp(c.state, "pending") != 0)
			(*settled)++;
	}
	return AP_OK;
}

/* A lineage's facts (cert.lineages) into c; false when it has no serial. */
static bool
from_lineage(struct ap_cert *c, struct json_object *l)
{
	struct json_object *v;

	from_result(c, l);
	return json_object_object_get_ex(l, "serial", &v) && json_object_get_string_len(v) > 0;
}

static int64_t
int_of(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_int64(v) : 0;
}

static const char *
str_of(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : "";
}

enum ap_err
ap_cert_sync(const struct ap_sites_env *env, int64_t since, struct ap_cert_sync_stats *out,
    struct ap_problem *pb)
{
	struct json_object *args = json_object_new_object(), *res = NULL, *lins, *fails;
	enum ap_err rc;
	size_t nl, nf;

	int64_t acme = 0;
	enum ap_db_rc drc;

	memset(out, 0, sizeof(*out));
	out->log_at = since;
	/* No certificate of certbot's: nothing to read back, the helper is not asked. */
	if ((drc = ap_db_query_int64(env->db, "SELECT COUNT(*) FROM certificates WHERE source = 'acme'", &acme)) != AP_DB_OK) {
		json_object_put(args);
		return db_fail(pb, drc);
	}
	if (acme == 0) {
		json_object_put(args);
		return AP_OK;
	}
	json_object_object_add(args, "since", json_object_new_int64(since));
	rc = ap_site_helper_call(env, "cert.lineages", args, &res, pb);
	json_object_put(args);
	if (rc != AP_OK)
		return rc;
	out->log_at = int_of(res, "log_at");
	if (!json_object_object_get_ex(res, "lineages", &lins) || !json_object_is_type(lins, json_type_array))
		lins = NULL;
	if (!json_object_object_get_ex(res, "failures", &fails) || !json_object_is_type(fails, json_type_array))
		fails = NULL;
	nl = lins ? json_object_array_length(lins) : 0;
	nf = fails ? json_object_array_length(fails) : 0;
	/* A new serial in a lineage the panel issued: certbot renewed it. */
	for (size_t i = 0; i < nl; i++) {
		struct json_object *l = json_object_array_get_idx(lins, i);
		struct ap_cert c, before;
		struct ap_problem quiet;
		struct guard_of g = { .kind = G_SERIAL };

		/* A row that never had a certificate (a failed first issuance) has nothing renewed. */
		if (get_one(env, 0, str_of(l, "name"), &c, &quiet) != AP_OK || strcmp(c.source, "acme") != 0 ||
		    strcmp(c.state, "pending") == 0 || c.serial[0] == '\0' || strcmp(c.serial, str_of(l, "serial")) == 0)
			continue;
		before = c;
		g.serial = before.serial;
		if (!from_lineage(&c, l))
			continue;
		snprintf(c.state, sizeof(c.state), "ok");
		c.last_error[0] = '\0';
		c.last_renewal_at = int_of(l, "renewed_at");
		c.last_renewal_ok = 1;
		snprintf(c.renewal_by, sizeof(c.renewal_by), "certbot");
		snprintf(c.job_op, sizeof(c.job_op), "renew");
		c.job_id = 0;
		if (record(env, &before, &c, &g, "cert.renew", "ok")) {
			out->renewed++;
			AP_INFO("certificates: certbot renewed %s (serial %s, was %s)", c.domain, c.serial,
			    before.serial);
		}
	}
	/* A failure certbot logged after the certificate in use was written and after the panel last saw one. */
	for (size_t i = 0; i < nf; i++) {
		struct json_object *f = json_object_array_get_idx(fails, i);
		int64_t at = int_of(f, "at"), written = 0;
		struct ap_cert c, before;
		struct ap_problem quiet;
		struct guard_of g = { .kind = G_FAILURE, .at = at };

		for (size_t j = 0; j < nl; j++)
			if (strcmp(str_of(json_object_array_get_idx(lins, j), "name"), str_of(f, "name")) == 0)
				written = int_of(json_object_array_get_idx(lins, j), "renewed_at");
		if (get_one(env, 0, str_of(f, "name"), &c, &quiet) != AP_OK || strcmp(c.source, "acme") != 0 ||
		    strcmp(c.state, "pending") == 0 || at <= c.last_renewal_at || at < written)
			continue;
		before = c;
		snprintf(c.state, sizeof(c.state), "failed");
		snprintf(c.last_error, sizeof(c.last_error), "%s", str_of(f, "reason")[0] ? str_of(f, "reason")
		    : "certbot's renewal failed (see its log)");
		c.last_renewal_at = at;
		c.last_renewal_ok = 0;
		snprintf(c.renewal_by, sizeof(c.renewal_by), "certbot");
		snprintf(c.job_op, sizeof(c.job_op), "renew");
		c.job_id = 0;
		if (record(env, &before, &c, &g, "cert.renew", "failed")) {
			out->failed++;
			AP_WARN("certificates: certbot could not renew %s: %s", c.domain, c.last_error);
		}
	}
	json_object_put(res);
	return AP_OK;
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
	if (c->renewal_by[0])
		json_object_object_add(o, "renewed_by", json_object_new_string(c->renewal_by));
	return o;
}
