/*
 * sites.c — websites (sites.h): the sites table, and the helper asked for
 * every change on the system. The order makes a failure leave nothing
 * half-done: a new row is written first (the unique domain decides between
 * two creations at once), then the helper applies it, and the row goes
 * again if the helper refuses; a change is applied first and recorded only
 * once the helper made it. If a worker dies in between, the site's page
 * shows the difference (drift) and "re-apply" settles it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aapanel/log.h"
#include "aapanel/probe.h"
#include "aapanel/sitecheck.h"
#include "aapanel/sites.h"

#define JOB_WAIT_MS 25000
#define PROBE_PATH "/.well-known/aapanel-probe"
/* A reason that is a tool's own message (nginx -t), shown as it is: no msgid of its own. */
#define TOOL_MSG "%s"

const char *const ap_site_kinds[] = { "static", "php", "proxy", NULL };

bool
ap_site_kind_parse(const char *s, enum ap_site_kind *out)
{
	for (int i = 0; ap_site_kinds[i] != NULL; i++)
		if (s != NULL && strcmp(s, ap_site_kinds[i]) == 0) {
			*out = (enum ap_site_kind)i;
			return true;
		}
	return false;
}

/* ---- validation ----------------------------------------------------- */

static enum ap_err
check(const char *field, const char *v, const char *(*fn)(const char *, size_t),
    struct ap_problem *pb)
{
	const char *why = v[0] ? fn(v, strlen(v)) : NULL;

	if (why != NULL)
		return ap_problem_msg(pb, AP_PB_INVALID, field, why);
	return AP_OK;
}

static bool
php_installed(const struct ap_sites_env *env, const char *v, struct ap_problem *pb, bool *asked)
{
	struct json_object *vs = NULL;
	bool found = false;

	*asked = false;
	if (env->helper == NULL || ap_site_php_versions(env, &vs, pb) != AP_OK)
		return false;
	*asked = true;
	for (size_t i = 0; i < json_object_array_length(vs); i++)
		found |= strcmp(json_object_get_string(json_object_array_get_idx(vs, i)), v) == 0;
	json_object_put(vs);
	return found;
}

enum ap_err
ap_site_validate(const struct ap_sites_env *env, const struct ap_site_spec *sp,
    struct ap_problem *pb)
{
	size_t dl = strlen(sp->domain);
	bool asked;

	if (sp->domain[0] == '\0')
		return ap_problem_set(pb, AP_PB_INVALID, "domain", "is required");
	if (check("domain", sp->domain, ap_check_domain, pb) != AP_OK ||
	    check("aliases", sp->aliases, ap_check_domain_list, pb) != AP_OK ||
	    check("root", sp->root, ap_check_site_path, pb) != AP_OK ||
	    check("index", sp->index, ap_check_index_files, pb) != AP_OK ||
	    check("php", sp->php, ap_check_php_version, pb) != AP_OK ||
	    check("upstream", sp->upstream, ap_check_upstream, pb) != AP_OK ||
	    check("error_404", sp->error_404, ap_check_uri_path, pb) != AP_OK ||
	    check("error_50x", sp->error_50x, ap_check_uri_path, pb) != AP_OK)
		return AP_ERR_INVAL;
	if ((unsigned)sp->kind >= AP_SITE_KIND__MAX)
		return ap_problem_set(pb, AP_PB_INVALID, "kind", "must be static, php or proxy");
	/* An alias that repeats the domain (or another alias) would make nginx warn and ignore it. */
	for (const char *p = sp->aliases; *p;) {
		const char *e = strchr(p, ' ');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (n == dl && memcmp(p, sp->domain, n) == 0)
			return ap_problem_set(pb, AP_PB_INVALID, "aliases", "must not repeat the domain");
		for (const char *q = e ? e + 1 : p + n; *q;) {
			const char *f = strchr(q, ' ');
			size_t m = f ? (size_t)(f - q) : strlen(q);

			if (m == n && memcmp(p, q, n) == 0)
				return ap_problem_set(pb, AP_PB_INVALID, "aliases", "lists a name twice");
			q = f ? f + 1 : q + m;
		}
		p = e ? e + 1 : p + n;
	}
	if (sp->kind == AP_SITE_PHP) {
		if (sp->php[0] == '\0')
			return ap_problem_set(pb, AP_PB_INVALID, "php", "is required for a PHP site");
		if (!php_installed(env, sp->php, pb, &asked)) {
			if (asked || env->helper == NULL)
				return ap_problem_set(pb, AP_PB_INVALID, "php",
				    "is not an installed PHP-FPM version");
			return AP_ERR_UNAVAIL; /* pb: the helper is unavailable */
		}
	}
	if (sp->kind == AP_SITE_PROXY && sp->upstream[0] == '\0')
		return ap_problem_set(pb, AP_PB_INVALID, "upstream", "is required for a reverse proxy");
	return AP_OK;
}

/* ---- rows ----------------------------------------------------------- */

static const char site_cols[] =
    "s.id, s.domain, s.aliases, s.root_path, s.php_version, s.status, s.created_at, s.updated_at, "
    "s.kind, s.upstream, s.index_files, s.https_redirect, s.error_404, s.error_50x, "
    "s.system_user, s.revision, s.probe_at, s.probe_ok, s.probe_message, c.not_after";
static const char site_from[] = " FROM sites s LEFT JOIN certificates c ON c.domain = s.domain";

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
fill(struct ap_db_stmt *st, struct ap_site *s)
{
	char kind[16], status[16];

	memset(s, 0, sizeof(*s));
	s->id = ap_db_col_int64(st, 0);
	text_col(st, 1, s->spec.domain, sizeof(s->spec.domain));
	text_col(st, 2, s->spec.aliases, sizeof(s->spec.aliases));
	text_col(st, 3, s->spec.root, sizeof(s->spec.root));
	text_col(st, 4, s->spec.php, sizeof(s->spec.php));
	text_col(st, 5, status, sizeof(status));
	s->enabled = strcmp(status, "running") == 0;
	s->created_at = int_col(st, 6);
	s->updated_at = int_col(st, 7);
	text_col(st, 8, kind, sizeof(kind));
	if (!ap_site_kind_parse(kind, &s->spec.kind))
		s->spec.kind = AP_SITE_STATIC;
	text_col(st, 9, s->spec.upstream, sizeof(s->spec.upstream));
	text_col(st, 10, s->spec.index, sizeof(s->spec.index));
	s->spec.https_redirect = int_col(st, 11) != 0;
	text_col(st, 12, s->spec.error_404, sizeof(s->spec.error_404));
	text_col(st, 13, s->spec.error_50x, sizeof(s->spec.error_50x));
	text_col(st, 14, s->system_user, sizeof(s->system_user));
	s->revision = int_col(st, 15);
	s->probe_at = int_col(st, 16);
	s->probe_ok = ap_db_col_is_null(st, 17) ? -1 : (int)ap_db_col_int64(st, 17);
	text_col(st, 18, s->probe_message, sizeof(s->probe_message));
	s->cert_not_after = int_col(st, 19);
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
get_one(const struct ap_sites_env *env, const char *where, int64_t id, const char *domain,
    struct ap_site *out, struct ap_problem *pb)
{
	struct ap_db_stmt *st = NULL;
	char sql[1024];
	enum ap_db_rc rc;

	snprintf(sql, sizeof(sql), "SELECT %s%s WHERE %s", site_cols, site_from, where);
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
		ap_problem_set(pb, AP_PB_NOT_FOUND, domain ? "domain" : "id", "no such site");
		return AP_ERR_NOTFOUND;
	}
	return rc == AP_DB_ROW ? AP_OK : db_fail(pb, rc);
}

enum ap_err
ap_site_get(const struct ap_sites_env *env, int64_t id, struct ap_site *out, struct ap_problem *pb)
{
	return get_one(env, "s.id = ?", id, NULL, out, pb);
}

enum ap_err
ap_site_find(const struct ap_sites_env *env, const char *domain, struct ap_site *out,
    struct ap_problem *pb)
{
	return get_one(env, "s.domain = ?", 0, domain, out, pb);
}

enum ap_err
ap_site_each(const struct ap_sites_env *env, bool (*fn)(void *ctx, const struct ap_site *s),
    void *ctx, struct ap_problem *pb)
{
	struct ap_db_stmt *st = NULL;
	struct ap_site s;
	char sql[1024];
	enum ap_db_rc rc;

	snprintf(sql, sizeof(sql), "SELECT %s%s ORDER BY s.domain", site_cols, site_from);
	if ((rc = ap_db_prepare(env->db, sql, &st)) != AP_DB_OK)
		return db_fail(pb, rc);
	while ((rc = ap_db_step(st)) == AP_DB_ROW) {
		fill(st, &s);
		if (!fn(ctx, &s))
			break;
	}
	ap_db_finalize(st);
	return rc == AP_DB_ROW || rc == AP_DB_DONE ? AP_OK : db_fail(pb, rc);
}

enum ap_err
ap_site_page(const struct ap_sites_env *env, int64_t after, int64_t limit,
    bool (*fn)(void *ctx, const struct ap_site *s), void *ctx, bool *more, struct ap_problem *pb)
{
	struct ap_db_stmt *st = NULL;
	struct ap_site s;
	char sql[1024];
	int64_t n = 0;
	enum ap_db_rc rc;

	if (more != NULL)
		*more = false;
	if (limit < 1 || limit > 10000)
		return ap_problem_set(pb, AP_PB_INVALID, "limit", "must be an integer between %lld and %lld", 1LL, 10000LL);
	/* One row more than the page: it only says that another page follows. */
	snprintf(sql, sizeof(sql), "SELECT %s%s WHERE s.id > ? ORDER BY s.id LIMIT ?", site_cols, site_from);
	if ((rc = ap_db_prepare(env->db, sql, &st)) != AP_DB_OK)
		return db_fail(pb, rc);
	if ((rc = ap_db_bind_int64(st, 1, after)) != AP_DB_OK ||
	    (rc = ap_db_bind_int64(st, 2, limit + 1)) != AP_DB_OK) {
		ap_db_finalize(st);
		return db_fail(pb, rc);
	}
	while ((rc = ap_db_step(st)) == AP_DB_ROW) {
		if (n++ == limit) {
			if (more != NULL)
				*more = true;
			rc = AP_DB_DONE;
			break;
		}
		fill(st, &s);
		if (!fn(ctx, &s)) {
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

/* The row's spec, revision, state and user (everything but id, domain, created_at, probe). */
static enum ap_err
store(const struct ap_sites_env *env, const struct ap_site *s, struct ap_problem *pb)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc = ap_db_prepare(env->db,
	    "UPDATE sites SET aliases = ?, root_path = ?, php_version = ?, status = ?, updated_at = ?, "
	    "kind = ?, upstream = ?, index_files = ?, https_redirect = ?, error_404 = ?, error_50x = ?, "
	    "system_user = ?, revision = ? WHERE id = ?", &st);

	if (rc != AP_DB_OK)
		return db_fail(pb, rc);
	bind_opt(st, 1, s->spec.aliases);
	ap_db_bind_text(st, 2, s->spec.root[0] ? s->spec.root : "public", -1);
	bind_opt(st, 3, s->spec.php);
	ap_db_bind_text(st, 4, s->enabled ? "running" : "stopped", -1);
	ap_db_bind_int64(st, 5, (int64_t)time(NULL));
	ap_db_bind_text(st, 6, ap_site_kinds[s->spec.kind], -1);
	bind_opt(st, 7, s->spec.upstream);
	ap_db_bind_text(st, 8, s->spec.index, -1);
	ap_db_bind_int64(st, 9, s->spec.https_redirect);
	bind_opt(st, 10, s->spec.error_404);
	bind_opt(st, 11, s->spec.error_50x);
	bind_opt(st, 12, s->system_user);
	ap_db_bind_int64(st, 13, s->revision);
	ap_db_bind_int64(st, 14, s->id);
	rc = ap_db_step(st);
	ap_db_finalize(st);
	return rc == AP_DB_DONE ? AP_OK : db_fail(pb, rc);
}

static void
delete_row(const struct ap_sites_env *env, int64_t id)
{
	struct ap_db_stmt *st = NULL;

	if (ap_db_prepare(env->db, "DELETE FROM sites WHERE id = ?", &st) != AP_DB_OK)
		return;
	ap_db_bind_int64(st, 1, id);
	if (ap_db_step(st) != AP_DB_DONE)
		AP_WARN("sites: could not delete row %lld: %s", (long long)id, ap_db_errmsg(env->db));
	ap_db_finalize(st);
}

static void
delete_cert_row(const struct ap_sites_env *env, const char *domain)
{
	struct ap_db_stmt *st = NULL;

	if (ap_db_prepare(env->db, "DELETE FROM certificates WHERE domain = ?", &st) != AP_DB_OK)
		return;
	ap_db_bind_text(st, 1, domain, -1);
	if (ap_db_step(st) != AP_DB_DONE)
		AP_WARN("sites: could not delete the certificate of %s: %s", domain, ap_db_errmsg(env->db));
	ap_db_finalize(st);
}

/* ---- the helper ----------------------------------------------------- */

static void
add_str(struct json_object *o, const char *k, const char *v)
{
	if (v[0])
		json_object_object_add(o, k, json_object_new_string(v));
}

/* The helper's argument object for site.apply / site.inspect. Owned. */
static struct json_object *
apply_args(const struct ap_site *s)
{
	struct json_object *a = json_object_new_object();

	json_object_object_add(a, "domain", json_object_new_string(s->spec.domain));
	add_str(a, "aliases", s->spec.aliases);
	json_object_object_add(a, "kind", json_object_new_string(ap_site_kinds[s->spec.kind]));
	add_str(a, "root", s->spec.root);
	add_str(a, "index", s->spec.index);
	if (s->spec.kind == AP_SITE_PHP)
		add_str(a, "php", s->spec.php);
	if (s->spec.kind == AP_SITE_PROXY)
		add_str(a, "upstream", s->spec.upstream);
	json_object_object_add(a, "https_redirect", json_object_new_boolean(s->spec.https_redirect));
	add_str(a, "error_404", s->spec.error_404);
	add_str(a, "error_50x", s->spec.error_50x);
	json_object_object_add(a, "revision", json_object_new_int64(s->revision));
	json_object_object_add(a, "enabled", json_object_new_boolean(s->enabled));
	return a;
}

/* A problem the helper (or its job) reported, into pb as it is: the tool's message. */
static void
problem_from(struct json_object *err, struct ap_problem *pb)
{
	struct json_object *c = NULL, *f = NULL, *r = NULL;
	enum ap_pb_code code = AP_PB_FAILED;

	json_object_object_get_ex(err, "code", &c);
	json_object_object_get_ex(err, "field", &f);
	json_object_object_get_ex(err, "reason", &r);
	if (c == NULL || !ap_pb_parse(json_object_get_string(c), &code))
		code = AP_PB_FAILED;
	ap_problem_set(pb, code, f && json_object_get_string(f)[0] ? json_object_get_string(f) : NULL,
	    TOOL_MSG, r ? json_object_get_string(r) : "the helper reported a failure");
}

/*
 * One call to the helper. When it cannot be reached, the problem says so in
 * the panel's words (translated; the client's own reason kept as its
 * argument): during: the change was under way.
 */
static enum ap_err
hcall(const struct ap_sites_env *env, const char *op, struct json_object *args,
    struct json_object **result, struct ap_problem *pb, bool during)
{
	enum ap_err rc = ap_helper_call(env->helper, op, args, result, pb);
	char why[sizeof(pb->reason)];

	if (rc == AP_OK || pb->code != AP_PB_UNAVAILABLE)
		return rc;
	snprintf(why, sizeof(why), "%s", pb->reason);
	AP_WARN("sites: %s: %s", op, why);
	if (during)
		ap_problem_set(pb, AP_PB_UNAVAILABLE, NULL,
		    "the panel's helper stopped answering during the change (%s); the site's page shows "
		    "what is on disk", why);
	else
		ap_problem_set(pb, AP_PB_UNAVAILABLE, NULL,
		    "the panel's helper is not reachable (%s); nothing was changed", why);
	return rc;
}

/*
 * Run a job operation and wait for its end: AP_OK with *result (owned, the
 * job's result), or the job's problem.
 */
static enum ap_err
job(const struct ap_sites_env *env, const char *op, struct json_object *args,
    struct json_object **result, struct ap_problem *pb)
{
	int wait = env->job_wait_ms > 0 ? env->job_wait_ms : JOB_WAIT_MS;
	uint64_t deadline = ap_now_ms() + (uint64_t)wait;
	struct json_object *res = NULL, *v = NULL, *st = NULL, *sa;
	useconds_t pause = 2000;
	int64_t id;
	enum ap_err rc;

	*result = NULL;
	if (env->helper == NULL)
		return ap_problem_set(pb, AP_PB_UNAVAILABLE, NULL, "the helper is not configured");
	if ((rc = hcall(env, op, args, &res, pb, false)) != AP_OK)
		return rc;
	if (!json_object_object_get_ex(res, "job", &v)) {
		json_object_put(res);
		return ap_problem_set(pb, AP_PB_INTERNAL, NULL, "the helper answered without a job");
	}
	id = json_object_get_int64(v);
	json_object_put(res);
	sa = json_object_new_object();
	json_object_object_add(sa, "id", json_object_new_int64(id));
	for (;;) {
		const char *state;

		usleep(pause);
		pause = pause < 20000 ? pause * 2 : 20000;
		if ((rc = hcall(env, "job.status", sa, &st, pb, true)) != AP_OK)
			break;
		json_object_object_get_ex(st, "state", &v);
		state = v ? json_object_get_string(v) : "";
		if (strcmp(state, "done") == 0) {
			if (json_object_object_get_ex(st, "result", &v))
				*result = json_object_get(v);
			else
				*result = json_object_new_object();
			break;
		}
		if (strcmp(state, "failed") == 0) {
			if (json_object_object_get_ex(st, "error", &v))
				problem_from(v, pb);
			else
				ap_problem_set(pb, AP_PB_FAILED, NULL, "%s failed", op);
			rc = AP_ERR_IO;
			break;
		}
		json_object_put(st);
		st = NULL;
		if (ap_now_ms() >= deadline) {
			rc = AP_ERR_UNAVAIL;
			ap_problem_set(pb, AP_PB_TIMEOUT, NULL,
			    "the helper did not finish in time; the site's page shows what happened");
			break;
		}
	}
	json_object_put(st);
	json_object_put(sa);
	return rc;
}

static enum ap_err
apply(const struct ap_sites_env *env, struct ap_site *s, struct ap_problem *pb)
{
	struct json_object *args = apply_args(s), *res = NULL, *v;
	enum ap_err rc = job(env, "site.apply", args, &res, pb);

	json_object_put(args);
	if (rc != AP_OK)
		return rc;
	if (json_object_object_get_ex(res, "user", &v))
		snprintf(s->system_user, sizeof(s->system_user), "%s", json_object_get_string(v));
	json_object_put(res);
	return AP_OK;
}

int
ap_site_port(const struct ap_sites_env *env)
{
	struct json_object *res = NULL, *v;
	struct ap_problem pb;
	int port = 0;

	if (env->helper != NULL && ap_helper_call(env->helper, "php.versions", NULL, &res, &pb) == AP_OK &&
	    json_object_object_get_ex(res, "port", &v))
		port = json_object_get_int(v);
	json_object_put(res);
	return port;
}

enum ap_err
ap_site_php_versions(const struct ap_sites_env *env, struct json_object **out,
    struct ap_problem *pb)
{
	struct json_object *res = NULL, *v;
	enum ap_err rc;

	*out = NULL;
	if (env->helper == NULL)
		return ap_problem_set(pb, AP_PB_UNAVAILABLE, NULL, "the helper is not configured");
	if ((rc = hcall(env, "php.versions", NULL, &res, pb, false)) != AP_OK)
		return rc;
	*out = json_object_object_get_ex(res, "versions", &v) ? json_object_get(v)
							       : json_object_new_array();
	json_object_put(res);
	return AP_OK;
}

/* ---- the probe ------------------------------------------------------ */

static void
record_probe(const struct ap_sites_env *env, const struct ap_site *s)
{
	struct ap_db_stmt *st = NULL;

	if (ap_db_prepare(env->db, "UPDATE sites SET probe_at = ?, probe_ok = ?, probe_message = ? "
				   "WHERE id = ?", &st) != AP_DB_OK)
		return;
	ap_db_bind_int64(st, 1, s->probe_at);
	ap_db_bind_int64(st, 2, s->probe_ok);
	ap_db_bind_text(st, 3, s->probe_message, -1);
	ap_db_bind_int64(st, 4, s->id);
	ap_db_step(st);
	ap_db_finalize(st);
}

/*
 * nginx starts the new workers at a reload and stops the old ones 100 ms
 * later: in between both answer. A probe that waits is satisfied only by
 * answers that stay right for STABLE_MS.
 */
#define STABLE_MS 150

void
ap_site_probe(const struct ap_sites_env *env, int port, struct ap_site *s, int wait_ms,
    int *root_status)
{
	char want[400];
	uint64_t now = ap_now_ms(), deadline = now + (uint64_t)(wait_ms > 0 ? wait_ms : 0), since = 0;
	struct ap_probe_result r;
	int per = env->cfg ? env->cfg->sites_probe_timeout_ms : 3000;

	if (root_status != NULL)
		*root_status = 0;
	snprintf(want, sizeof(want), "aapanel-probe %s %lld %s\n", s->spec.domain,
	    (long long)s->revision, s->enabled ? "enabled" : "disabled");
	s->probe_ok = 0;
	if (port <= 0) {
		snprintf(s->probe_message, sizeof(s->probe_message), "the helper is unavailable");
		s->probe_ok = -1;
		goto out;
	}
	for (;;) {
		bool match = ap_probe_http(port, s->spec.domain, PROBE_PATH, per, &r) == AP_OK &&
		    r.status == 200 && strcmp(r.body, want) == 0;

		now = ap_now_ms();
		if (match && since == 0)
			since = now;
		else if (!match)
			since = 0;
		if (match && (wait_ms <= 0 || now - since >= STABLE_MS)) {
			s->probe_ok = 1;
			snprintf(s->probe_message, sizeof(s->probe_message), "revision %lld served",
			    (long long)s->revision);
			break;
		}
		if (now >= deadline + (since ? STABLE_MS : 0)) {
			if (r.status == 0)
				snprintf(s->probe_message, sizeof(s->probe_message), "127.0.0.1:%d: %s", port,
				    r.error);
			else if (strncmp(r.body, "aapanel-probe ", 14) == 0)
				snprintf(s->probe_message, sizeof(s->probe_message), "nginx serves %.*s",
				    (int)strcspn(r.body + 14, "\n"), r.body + 14);
			else
				snprintf(s->probe_message, sizeof(s->probe_message),
				    "127.0.0.1:%d answers %d for this host: not this site", port, r.status);
			break;
		}
		usleep(10000);
	}
	if (root_status != NULL && s->probe_ok == 1 &&
	    ap_probe_http(port, s->spec.domain, "/", per, &r) == AP_OK)
		*root_status = r.status;
out:
	s->probe_at = (int64_t)time(NULL);
	if (env->db != NULL && s->id > 0)
		record_probe(env, s);
}

/* After a removal: until nginx no longer answers as the site (for STABLE_MS), within wait_ms. */
static void
wait_gone(const struct ap_sites_env *env, const char *domain, int wait_ms)
{
	char mark[300];
	uint64_t deadline = ap_now_ms() + (uint64_t)wait_ms, since = 0;
	int port = ap_site_port(env);
	struct ap_probe_result r;

	if (port <= 0)
		return;
	snprintf(mark, sizeof(mark), "aapanel-probe %s ", domain);
	for (;;) {
		uint64_t now;
		bool gone = ap_probe_http(port, domain, PROBE_PATH, 1000, &r) != AP_OK ||
		    strncmp(r.body, mark, strlen(mark)) != 0;

		now = ap_now_ms();
		since = gone ? (since ? since : now) : 0;
		if ((gone && now - since >= STABLE_MS) || now >= deadline)
			return;
		usleep(10000);
	}
}

static void
probe_after(const struct ap_sites_env *env, struct ap_site *s)
{
	ap_site_probe(env, ap_site_port(env), s, env->cfg ? env->cfg->sites_probe_timeout_ms : 3000,
	    NULL);
}

/* ---- changes -------------------------------------------------------- */

static void
normalise(struct ap_site_spec *sp)
{
	if (sp->root[0] == '\0')
		snprintf(sp->root, sizeof(sp->root), "public");
}

enum ap_err
ap_site_create(const struct ap_sites_env *env, const struct ap_site_spec *spec,
    struct ap_site *out, struct ap_problem *pb)
{
	struct ap_db_stmt *st = NULL;
	struct ap_site s;
	time_t now = time(NULL);
	enum ap_db_rc rc;
	enum ap_err e;

	if ((e = ap_site_validate(env, spec, pb)) != AP_OK)
		return e;
	memset(&s, 0, sizeof(s));
	s.spec = *spec;
	normalise(&s.spec);
	s.enabled = true;
	s.revision = 1;
	s.probe_ok = -1;
	rc = ap_db_prepare_insert(env->db,
	    "INSERT INTO sites (domain, root_path, status, created_at, updated_at, kind, index_files, "
	    "revision) VALUES (?, ?, 'running', ?, ?, ?, ?, 1)", "id", &st);
	if (rc != AP_DB_OK)
		return db_fail(pb, rc);
	ap_db_bind_text(st, 1, s.spec.domain, -1);
	ap_db_bind_text(st, 2, s.spec.root, -1);
	ap_db_bind_int64(st, 3, (int64_t)now);
	ap_db_bind_int64(st, 4, (int64_t)now);
	ap_db_bind_text(st, 5, ap_site_kinds[s.spec.kind], -1);
	ap_db_bind_text(st, 6, s.spec.index, -1);
	rc = ap_db_step(st);
	if (rc == AP_DB_DONE)
		s.id = ap_db_last_insert_id(st);
	ap_db_finalize(st);
	if (rc == AP_DB_ECONSTRAINT)
		return ap_problem_set(pb, AP_PB_EXISTS, "domain", "a site with this domain already exists");
	if (rc != AP_DB_DONE)
		return db_fail(pb, rc);
	s.created_at = s.updated_at = now;
	if ((e = apply(env, &s, pb)) != AP_OK) {
		delete_row(env, s.id);
		return e;
	}
	if ((e = store(env, &s, pb)) != AP_OK)
		return e;
	probe_after(env, &s);
	*out = s;
	return AP_OK;
}

enum ap_err
ap_site_update(const struct ap_sites_env *env, int64_t id, const struct ap_site_spec *spec,
    struct ap_site *before, struct ap_site *out, struct ap_problem *pb)
{
	struct ap_site s;
	struct ap_site_spec sp = *spec;
	enum ap_err e;

	if ((e = ap_site_get(env, id, before, pb)) != AP_OK)
		return e;
	memcpy(sp.domain, before->spec.domain, sizeof(sp.domain));
	if ((e = ap_site_validate(env, &sp, pb)) != AP_OK)
		return e;
	s = *before;
	s.spec = sp;
	normalise(&s.spec);
	s.revision = before->revision + 1;
	if ((e = apply(env, &s, pb)) != AP_OK)
		return e;
	if ((e = store(env, &s, pb)) != AP_OK)
		return e;
	probe_after(env, &s);
	*out = s;
	return AP_OK;
}

static enum ap_err
reapply_as(const struct ap_sites_env *env, int64_t id, int enabled, struct ap_site *out,
    struct ap_problem *pb)
{
	struct ap_site s;
	enum ap_err e;

	if ((e = ap_site_get(env, id, &s, pb)) != AP_OK)
		return e;
	if (enabled >= 0)
		s.enabled = enabled != 0;
	s.revision++;
	if ((e = apply(env, &s, pb)) != AP_OK)
		return e;
	if ((e = store(env, &s, pb)) != AP_OK)
		return e;
	probe_after(env, &s);
	*out = s;
	return AP_OK;
}

enum ap_err
ap_site_set_enabled(const struct ap_sites_env *env, int64_t id, bool enabled, struct ap_site *out,
    struct ap_problem *pb)
{
	return reapply_as(env, id, enabled ? 1 : 0, out, pb);
}

enum ap_err
ap_site_reapply(const struct ap_sites_env *env, int64_t id, struct ap_site *out,
    struct ap_problem *pb)
{
	return reapply_as(env, id, -1, out, pb);
}

enum ap_err
ap_site_delete(const struct ap_sites_env *env, int64_t id, bool delete_files,
    struct ap_site *before, struct ap_problem *pb)
{
	struct json_object *args, *res = NULL;
	enum ap_err e;

	if ((e = ap_site_get(env, id, before, pb)) != AP_OK)
		return e;
	args = json_object_new_object();
	json_object_object_add(args, "domain", json_object_new_string(before->spec.domain));
	json_object_object_add(args, "delete_files", json_object_new_boolean(delete_files));
	e = job(env, "site.remove", args, &res, pb);
	json_object_put(args);
	json_object_put(res);
	/* No vhost on disk (a worker died before the first apply): the row goes all the same. */
	if (e != AP_OK && pb->code != AP_PB_NOT_FOUND)
		return e;
	ap_problem_clear(pb);
	delete_row(env, id);
	/* Its certificate went with it (the helper's site.remove): its row too (docs/certificates.md). */
	delete_cert_row(env, before->spec.domain);
	wait_gone(env, before->spec.domain, env->cfg ? env->cfg->sites_probe_timeout_ms : 3000);
	return AP_OK;
}

enum ap_err
ap_site_inspect(const struct ap_sites_env *env, const struct ap_site *s, struct json_object **out,
    struct ap_problem *pb)
{
	struct json_object *args = apply_args(s);
	enum ap_err rc;

	*out = NULL;
	if (env->helper == NULL) {
		json_object_put(args);
		return ap_problem_set(pb, AP_PB_UNAVAILABLE, NULL, "the helper is not configured");
	}
	rc = hcall(env, "site.inspect", args, out, pb, false);
	json_object_put(args);
	return rc;
}

struct json_object *
ap_site_json(const struct ap_site *s)
{
	struct json_object *o = json_object_new_object();
	const struct ap_site_spec *p = &s->spec;

	json_object_object_add(o, "id", json_object_new_int64(s->id));
	json_object_object_add(o, "domain", json_object_new_string(p->domain));
	json_object_object_add(o, "aliases", json_object_new_string(p->aliases));
	json_object_object_add(o, "kind", json_object_new_string(ap_site_kinds[p->kind]));
	json_object_object_add(o, "root", json_object_new_string(p->root));
	json_object_object_add(o, "index", json_object_new_string(p->index));
	json_object_object_add(o, "php", json_object_new_string(p->php));
	json_object_object_add(o, "upstream", json_object_new_string(p->upstream));
	json_object_object_add(o, "https_redirect", json_object_new_boolean(p->https_redirect));
	json_object_object_add(o, "error_404", json_object_new_string(p->error_404));
	json_object_object_add(o, "error_50x", json_object_new_string(p->error_50x));
	json_object_object_add(o, "enabled", json_object_new_boolean(s->enabled));
	json_object_object_add(o, "revision", json_object_new_int64(s->revision));
	json_object_object_add(o, "system_user", json_object_new_string(s->system_user));
	return o;
}

/* ---- for the certificates module (certs.c) -------------------------- */

struct json_object *
ap_site_helper_args(const struct ap_site *s)
{
	return apply_args(s);
}

enum ap_err
ap_site_helper_call(const struct ap_sites_env *env, const char *op, struct json_object *args,
    struct json_object **result, struct ap_problem *pb)
{
	if (env->helper == NULL)
		return ap_problem_set(pb, AP_PB_UNAVAILABLE, NULL, "the helper is not configured");
	return hcall(env, op, args, result, pb, false);
}

enum ap_err
ap_site_helper_job(const struct ap_sites_env *env, const char *op, struct json_object *args,
    struct json_object **result, struct ap_problem *pb)
{
	return job(env, op, args, result, pb);
}

void
ap_site_helper_problem(struct json_object *err, struct ap_problem *pb)
{
	problem_from(err, pb);
}
