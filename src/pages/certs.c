/*
 * certs.c — the sites' certificates (sites.read to look, sites.write to
 * change; docs/certificates.md): the list with names, issuer, expiry (a
 * warning under certs.warn_days), the site that uses it and the last
 * failure; a certificate's page with its job's progress while certbot runs;
 * upload, issue (ACME), renew (forced), remove. The data module
 * (src/data/certs.c) does the work; every change is audited, never with a
 * key.
 *
 * Resources: Certificate, CertificateList (paged by id), CertificateDetail
 * (a certificate with its job). Upload and issue answer 201 with the
 * Certificate (issue: pending, with its job), renew 200, remove 204.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "aapanel/auth.h"
#include "aapanel/certs.h"
#include "aapanel/pages.h"
#include "aapanel/rows.h"

static const char *const sources[] = { "acme", "upload", NULL };
static const char *const states[] = { "pending", "ok", "failed", NULL };
static const char *const renewers[] = { "panel", "certbot", NULL };

enum { CL_LIMIT, CL_CURSOR, CL__MAX };
const struct ap_field ap_cert_list_fields[CL__MAX + 1] = {
	[CL_LIMIT] = AP_FIELD_LIMIT,
	[CL_CURSOR] = AP_FIELD_CURSOR,
	[CL__MAX] = AP_FIELD_END,
};

enum { CU_DOMAIN, CU_CERT, CU_KEY, CU_CHAIN, CU__MAX };
const struct ap_field ap_cert_upload_fields[CU__MAX + 1] = {
	[CU_DOMAIN] = { .name = "domain", .type = AP_FIELD_HOSTNAME, .flags = AP_FIELD_REQUIRED,
	    .desc = "the site's domain: the certificate must cover it and its aliases" },
	[CU_CERT] = { .name = "cert", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED, .min = 1,
	    .max = AP_CERT_PEM_MAX, .check = ap_check_pem_text,
	    .desc = "the certificate, PEM (it may be followed by its chain)" },
	[CU_KEY] = { .name = "key", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED | AP_FIELD_SECRET, .min = 1,
	    .max = AP_CERT_PEM_MAX, .check = ap_check_pem_text,
	    .desc = "its private key, PEM, not encrypted; written for root and nginx only, never shown" },
	[CU_CHAIN] = { .name = "chain", .type = AP_FIELD_TEXT, .max = AP_CERT_PEM_MAX,
	    .check = ap_check_pem_text, .desc = "intermediate certificates, PEM, each followed by its issuer" },
	[CU__MAX] = AP_FIELD_END,
};

enum { CI_DOMAIN, CI__MAX };
const struct ap_field ap_cert_issue_fields[CI__MAX + 1] = {
	[CI_DOMAIN] = { .name = "domain", .type = AP_FIELD_HOSTNAME, .flags = AP_FIELD_REQUIRED,
	    .desc = "the site's domain: a certificate for it and its aliases" },
	[CI__MAX] = AP_FIELD_END,
};

static const struct ap_prop cert_props[] = {
	{ .name = "id", .type = AP_J_INT },
	{ .name = "domain", .type = AP_J_STRING, .desc = "the site it is for" },
	{ .name = "names", .type = AP_J_STRING, .desc = "the names it covers, space-separated" },
	{ .name = "issuer", .type = AP_J_STRING, .flags = AP_J_NULL, .desc = "who signed it; null: not issued yet" },
	{ .name = "serial", .type = AP_J_STRING, .flags = AP_J_NULL, .desc = "hex; null: not issued yet" },
	{ .name = "not_before", .type = AP_J_TIME, .flags = AP_J_NULL },
	{ .name = "not_after", .type = AP_J_TIME, .flags = AP_J_NULL, .desc = "when it expires; null: not issued yet" },
	{ .name = "expires_soon", .type = AP_J_BOOL, .desc = "it expires within certs.warn_days (or has)" },
	{ .name = "source", .type = AP_J_STRING, .choices = sources, .desc = "issued by ACME (certbot) or uploaded" },
	{ .name = "state", .type = AP_J_STRING, .choices = states,
	    .desc = "pending while a job issues or renews it, failed when the last one did" },
	{ .name = "job", .type = AP_J_INT, .flags = AP_J_NULL, .desc = "the helper's job of the last issuance or renewal" },
	{ .name = "error", .type = AP_J_STRING, .flags = AP_J_NULL, .desc = "why the last job failed (certbot's reason)" },
	{ .name = "renewed", .type = AP_J_TIME, .flags = AP_J_NULL,
	    .desc = "the last renewal or renewal attempt, the panel's or certbot's own schedule's" },
	{ .name = "renewal_ok", .type = AP_J_BOOL, .flags = AP_J_NULL, .desc = "whether it worked; null: none yet" },
	{ .name = "renewed_by", .type = AP_J_STRING, .flags = AP_J_NULL, .choices = renewers,
	    .desc = "who made it: the panel (its job) or certbot (its timer, read back by the sampler); null: none yet" },
	{ .name = "site", .type = AP_J_INT, .flags = AP_J_NULL, .desc = "the site that uses it; null: none" },
	{ .name = "created", .type = AP_J_TIME },
	{ .name = "updated", .type = AP_J_TIME, .flags = AP_J_NULL },
	AP_PROP_END,
};
const struct ap_schema ap_cert_schema = { .name = "Certificate",
	.desc = "a site's TLS certificate", .props = cert_props };
AP_SCHEMA_LIST(ap_cert_list_schema, "CertificateList", ap_cert_schema);

static const struct ap_prop job_props[] = {
	{ .name = "id", .type = AP_J_INT },
	{ .name = "op", .type = AP_J_STRING },
	{ .name = "state", .type = AP_J_STRING, .desc = "queued, running, done, failed or timeout" },
	{ .name = "progress", .type = AP_J_INT, .desc = "percent" },
	{ .name = "output", .type = AP_J_STRING, .desc = "the end of certbot's output" },
	AP_PROP_END,
};
static const struct ap_schema job_schema = { .name = "CertificateJob", .desc = "a helper job", .props = job_props };

static const struct ap_prop detail_props[] = {
	{ .name = "certificate", .type = AP_J_OBJECT, .of = &ap_cert_schema },
	{ .name = "job", .type = AP_J_OBJECT, .of = &job_schema, .flags = AP_J_NULL,
	    .desc = "its last job as the helper tells it; null: none, or the helper forgot it" },
	AP_PROP_END,
};
const struct ap_schema ap_cert_detail_schema = { .name = "CertificateDetail",
	.desc = "a certificate with its job's progress", .props = detail_props };

static struct ap_helper_client *H_client;

static struct ap_sites_env
env_of(struct ap_ctx *ctx)
{
	const struct ap_config *c = ctx->app->cfg;
	struct ap_sites_env e = { .db = ctx->db, .cfg = c };
	int wait = c->request_timeout * 1000 - 2000;

	if (H_client == NULL)
		H_client = ap_helper_client_new(c->helper_socket, c->helper_timeout_ms, 1 << 20);
	e.helper = H_client;
	e.job_wait_ms = wait < 1000 ? 1000 : wait > 25000 ? 25000 : wait;
	return e;
}

static int
fail_pb(struct ap_ctx *ctx, const struct ap_problem *pb)
{
	if (pb->code == AP_PB_INTERNAL && ctx->db != NULL)
		return ap_ctx_fail(ctx, AP_PB_INTERNAL, NULL, "an internal error occurred");
	return ap_ctx_problem(ctx, pb);
}

static bool
can_write(struct ap_ctx *ctx)
{
	return ctx->user != NULL && ap_role_allows(ctx->user->role, "sites.write") &&
	    (ctx->token_scope == NULL || ap_scope_allows(ctx->token_scope, "sites.write"));
}

struct json_object *
ap_cert_resource(const struct ap_sites_env *env, const struct ap_cert *c)
{
	struct json_object *o = json_object_new_object();
	int64_t warn = (int64_t)env->cfg->certs_warn_days * 86400, now = (int64_t)time(NULL);
	struct ap_problem pb;
	struct ap_site s;
	bool has_site = env->db != NULL && ap_site_find(env, c->domain, &s, &pb) == AP_OK;

	ap_model_add(o, "id", json_object_new_int64(c->id));
	ap_model_str(o, "domain", c->domain);
	ap_model_str(o, "names", c->names);
	ap_model_opt(o, "issuer", c->issuer);
	ap_model_opt(o, "serial", c->serial);
	ap_model_add(o, "not_before", ap_model_time(c->not_before));
	ap_model_add(o, "not_after", ap_model_time(c->not_after));
	ap_model_add(o, "expires_soon", json_object_new_boolean(c->not_after > 0 && c->not_after - now < warn));
	ap_model_str(o, "source", strcmp(c->source, "acme") == 0 ? "acme" : "upload");
	ap_model_str(o, "state", c->state);
	ap_model_add(o, "job", c->job_id > 0 ? json_object_new_int64(c->job_id) : NULL);
	ap_model_opt(o, "error", strcmp(c->state, "failed") == 0 ? c->last_error : NULL);
	ap_model_add(o, "renewed", ap_model_time(c->last_renewal_at));
	ap_model_add(o, "renewal_ok", c->last_renewal_ok < 0 ? NULL : json_object_new_boolean(c->last_renewal_ok == 1));
	ap_model_opt(o, "renewed_by", c->last_renewal_ok < 0 ? NULL : c->renewal_by);
	ap_model_add(o, "site", has_site ? json_object_new_int64(s.id) : NULL);
	ap_model_add(o, "created", ap_model_time(c->created_at));
	ap_model_add(o, "updated", ap_model_time(c->updated_at));
	return o;
}

struct json_object *
ap_cert_detail(const struct ap_sites_env *env, struct ap_cert *c)
{
	struct json_object *o = json_object_new_object(), *job = NULL;

	ap_cert_settle(env, c, &job);
	ap_model_add(o, "certificate", ap_cert_resource(env, c));
	ap_model_add(o, "job", job);
	return o;
}

static struct json_object *
resource(struct ap_ctx *ctx, const struct ap_sites_env *env, const struct ap_cert *c)
{
	(void)ctx;
	return ap_cert_resource(env, c);
}

/* The page's labels beside the resource (never under its members). */
static void
labels(struct ap_ctx *ctx, struct json_object *o, const struct ap_cert *c)
{
	ap_model_str(o, "source_label", ap_ctx_tr(ctx, strcmp(c->source, "acme") == 0
	    ? N_("ACME (certbot)") : N_("Uploaded")));
	ap_model_str(o, "state_label", ap_ctx_tr(ctx, strcmp(c->state, "pending") == 0 ? N_("In progress")
	    : strcmp(c->state, "failed") == 0 ? N_("Failed") : N_("Valid")));
	ap_model_add(o, "is_pending", json_object_new_boolean(strcmp(c->state, "pending") == 0));
	ap_model_add(o, "is_failed", json_object_new_boolean(strcmp(c->state, "failed") == 0));
	ap_model_add(o, "is_acme", json_object_new_boolean(strcmp(c->source, "acme") == 0));
	/* The last failure was certbot's own schedule's (read back), not a job of the panel. */
	ap_model_add(o, "failed_by_certbot", json_object_new_boolean(strcmp(c->state, "failed") == 0 &&
	    c->last_renewal_ok == 0 && strcmp(c->renewal_by, "certbot") == 0));
	if (c->last_renewal_ok >= 0)
		ap_model_str(o, "renewal_label", ap_ctx_tr(ctx, strcmp(c->renewal_by, "certbot") == 0
		    ? (c->last_renewal_ok ? N_("renewed by certbot's schedule") : N_("failed (certbot's schedule)"))
		    : (c->last_renewal_ok ? N_("renewed by the panel") : N_("failed (the panel)"))));
	ap_model_add(o, "site_domain", json_object_new_string(c->domain));
}

/*
 * Without the sampler (monitor.enabled false) nothing reads back what
 * certbot's own schedule did: the list and a certificate's page do it
 * then, at most every certs.watch_interval seconds per worker.
 */
static void
read_back(struct ap_ctx *ctx, const struct ap_sites_env *env)
{
	static uint64_t last_ms;
	static int64_t since;
	struct ap_cert_sync_stats st;
	struct ap_problem pb;
	uint64_t now = ap_now_ms();

	if (ctx->app->cfg->monitor_enabled || env->db == NULL ||
	    (last_ms != 0 && now - last_ms < (uint64_t)ctx->app->cfg->certs_watch_interval * 1000))
		return;
	last_ms = now;
	if (ap_cert_sync(env, since, &st, &pb) == AP_OK && st.log_at > since)
		since = st.log_at;
}

/* ---------------------------------------------------------------- GET /certificates */

struct list_ctx {
	struct ap_ctx *ctx;
	struct ap_sites_env env;
	struct json_object *arr;
	int64_t last;
};

/*
 * The list's rows (rows.h): ap_cert_resource's members and labels', read
 * from structs — the same bytes as those objects give.
 */
struct cert_view {
	int64_t id, not_before, not_after, job, renewed, site, created, updated;
	const char *domain, *names, *issuer, *serial, *source, *state, *error, *renewed_by,
	    *source_label, *state_label, *renewal_label, *site_domain;
	bool expires_soon, is_pending, is_failed, is_acme, failed_by_certbot;
	struct json_object *renewal_ok; /* a boolean, NULL: never renewed */
};
static const struct ap_col cert_cols[] = {
	AP_COL(struct cert_view, id, AP_COL_INT),
	AP_COL(struct cert_view, domain, AP_COL_STR),
	AP_COL(struct cert_view, names, AP_COL_STR),
	AP_COL(struct cert_view, issuer, AP_COL_STR),
	AP_COL(struct cert_view, serial, AP_COL_STR),
	AP_COL(struct cert_view, not_before, AP_COL_TIME),
	AP_COL(struct cert_view, not_after, AP_COL_TIME),
	AP_COL(struct cert_view, expires_soon, AP_COL_BOOL),
	AP_COL(struct cert_view, source, AP_COL_STR),
	AP_COL(struct cert_view, state, AP_COL_STR),
	AP_COL(struct cert_view, job, AP_COL_INTN),
	AP_COL(struct cert_view, error, AP_COL_STR),
	AP_COL(struct cert_view, renewed, AP_COL_TIME),
	AP_COL(struct cert_view, renewal_ok, AP_COL_JSON),
	AP_COL(struct cert_view, renewed_by, AP_COL_STR),
	AP_COL(struct cert_view, site, AP_COL_INTN),
	AP_COL(struct cert_view, created, AP_COL_TIME),
	AP_COL(struct cert_view, updated, AP_COL_TIME),
	AP_COL(struct cert_view, source_label, AP_COL_STR),
	AP_COL(struct cert_view, state_label, AP_COL_STR),
	AP_COL(struct cert_view, is_pending, AP_COL_BOOL),
	AP_COL(struct cert_view, is_failed, AP_COL_BOOL),
	AP_COL(struct cert_view, is_acme, AP_COL_BOOL),
	AP_COL(struct cert_view, failed_by_certbot, AP_COL_BOOL),
	AP_COL(struct cert_view, renewal_label, AP_COL_STR),
	AP_COL(struct cert_view, site_domain, AP_COL_STR),
	AP_COL_END,
};

/* ap_model_opt's rule: NULL or "" is null. */
static const char *
opt_str(struct json_object *rows, const char *v)
{
	return v != NULL && v[0] != '\0' ? ap_rows_strdup(rows, v) : NULL;
}

/* One row: ap_cert_resource(env, c) with labels(ctx, …, c). */
static void
cert_row(struct ap_ctx *ctx, const struct ap_sites_env *env, struct json_object *rows, const struct ap_cert *c)
{
	struct cert_view *v = ap_rows_add(rows);
	int64_t warn = (int64_t)env->cfg->certs_warn_days * 86400, now = (int64_t)time(NULL);
	struct ap_problem pb;
	struct ap_site s;
	bool has_site = env->db != NULL && ap_site_find(env, c->domain, &s, &pb) == AP_OK;
	bool acme = strcmp(c->source, "acme") == 0, failed = strcmp(c->state, "failed") == 0;
	bool pending = strcmp(c->state, "pending") == 0;

	v->id = c->id;
	v->domain = ap_rows_strdup(rows, c->domain);
	v->names = ap_rows_strdup(rows, c->names);
	v->issuer = opt_str(rows, c->issuer);
	v->serial = opt_str(rows, c->serial);
	v->not_before = c->not_before;
	v->not_after = c->not_after;
	v->expires_soon = c->not_after > 0 && c->not_after - now < warn;
	v->source = acme ? "acme" : "upload";
	v->state = ap_rows_strdup(rows, c->state);
	v->job = c->job_id > 0 ? c->job_id : AP_ROWS_NULL;
	v->error = opt_str(rows, failed ? c->last_error : NULL);
	v->renewed = c->last_renewal_at;
	v->renewal_ok = c->last_renewal_ok < 0 ? NULL : json_object_new_boolean(c->last_renewal_ok == 1);
	v->renewed_by = opt_str(rows, c->last_renewal_ok < 0 ? NULL : c->renewal_by);
	v->site = has_site ? s.id : AP_ROWS_NULL;
	v->created = c->created_at;
	v->updated = c->updated_at;
	/* labels' */
	v->source_label = ap_ctx_tr(ctx, acme ? N_("ACME (certbot)") : N_("Uploaded"));
	v->state_label = ap_ctx_tr(ctx, pending ? N_("In progress") : failed ? N_("Failed") : N_("Valid"));
	v->is_pending = pending;
	v->is_failed = failed;
	v->is_acme = acme;
	v->failed_by_certbot = failed && c->last_renewal_ok == 0 && strcmp(c->renewal_by, "certbot") == 0;
	if (c->last_renewal_ok >= 0)
		v->renewal_label = ap_ctx_tr(ctx, strcmp(c->renewal_by, "certbot") == 0
		    ? (c->last_renewal_ok ? N_("renewed by certbot's schedule") : N_("failed (certbot's schedule)"))
		    : (c->last_renewal_ok ? N_("renewed by the panel") : N_("failed (the panel)")));
	v->site_domain = v->domain;
}

static bool
list_row(void *p, const struct ap_cert *c)
{
	struct list_ctx *l = p;
	struct ap_cert copy = *c;

	if (strcmp(copy.state, "pending") == 0)
		ap_cert_settle(&l->env, &copy, NULL);
	cert_row(l->ctx, &l->env, l->arr, &copy);
	l->last = c->id;
	return true;
}

int
ap_page_certs(struct ap_ctx *ctx)
{
	struct list_ctx l = { .ctx = ctx, .env = env_of(ctx), .arr = ap_rows_new(cert_cols, sizeof(struct cert_view)) };
	struct ap_problem pb;
	struct ap_page pg;
	bool more = false;

	ctx->title = ap_ctx_tr(ctx, "Certificates");
	read_back(ctx, &l.env);
	ap_ctx_page(ctx, &pg);
	if (ap_cert_page(&l.env, pg.cursor, pg.limit, list_row, &l, &more, &pb) != AP_OK) {
		json_object_put(l.arr);
		return fail_pb(ctx, &pb);
	}
	ap_ctx_page_done(ctx, "/certificates", l.arr, more, l.last);
	if (!ctx->req->wants_json) {
		ap_model_add(ctx->model, "can_write", json_object_new_boolean(can_write(ctx)));
		ap_model_add(ctx->model, "warn_days", json_object_new_int(ctx->app->cfg->certs_warn_days));
	}
	/* The page again after a refused form: which of its two forms, what was typed (never the key). */
	if (ctx->form_again && ctx->route != NULL) {
		static const char *const kept[] = { "domain", "cert", "chain" };
		bool issue = strcmp(ctx->route->pattern, "/certificate-requests") == 0;

		ap_model_add(ctx->model, issue ? "form_issue" : "form_upload", json_object_new_boolean(true));
		for (size_t i = 0; i < AP_NELEM(kept); i++) {
			const char *v = ap_ctx_kept(ctx, kept[i]);

			if (v != NULL && (i == 0 || !issue))
				ap_model_str(ctx->model, ap_arena_printf(ctx->arena, "kept_%s", kept[i]), v);
		}
	}
	return 200;
}

/* ---------------------------------------------------------------- GET /certificates/{id} */

int
ap_page_cert(struct ap_ctx *ctx)
{
	struct ap_sites_env env = env_of(ctx);
	struct json_object *job = NULL, *o;
	struct ap_problem pb;
	struct ap_cert c;

	read_back(ctx, &env);
	if (ap_cert_get(&env, ctx->fields[AP_ID].i, &c, &pb) != AP_OK)
		return fail_pb(ctx, &pb);
	ap_cert_settle(&env, &c, &job);
	/* The domain is the page's heading; the title is words only (as a site's page). */
	ctx->title = ap_ctx_tr(ctx, "Certificate");
	o = resource(ctx, &env, &c);
	labels(ctx, o, &c);
	ap_model_add(ctx->model, "certificate", o);
	ap_model_add(ctx->model, "job", job);
	if (!ctx->req->wants_json)
		ap_model_add(ctx->model, "can_write", json_object_new_boolean(can_write(ctx)));
	return 200;
}

/* ---------------------------------------------------------------- changes */

static void
audit(struct ap_ctx *ctx, const char *action, const char *domain, const char *outcome,
    const struct ap_cert *before, const struct ap_cert *after, const struct ap_problem *pb)
{
	struct json_object *a = after ? ap_cert_json(after) : NULL;

	if (a == NULL && pb != NULL) {
		a = json_object_new_object();
		ap_model_str(a, "error", ap_pb_name(pb->code));
		ap_model_str(a, "reason", pb->reason);
	}
	ap_ctx_audit(ctx, action, domain, outcome,
	    before ? ap_ctx_json_text(ctx, ap_cert_json(before)) : NULL,
	    a ? ap_ctx_json_text(ctx, a) : NULL);
}

static int
done(struct ap_ctx *ctx, const struct ap_sites_env *env, const struct ap_cert *c, int status)
{
	if (!ctx->req->wants_json)
		return ap_ctx_back(ctx, ap_arena_printf(ctx->arena, "/certificates/%lld", (long long)c->id));
	return ap_ctx_answer(ctx, status, resource(ctx, env, c));
}

int
ap_page_cert_upload(struct ap_ctx *ctx)
{
	struct ap_sites_env env = env_of(ctx);
	const struct ap_fieldval *f = ctx->fields;
	struct ap_problem pb;
	struct ap_site s;
	struct ap_cert c;

	if (ap_site_find(&env, f[CU_DOMAIN].s, &s, &pb) != AP_OK)
		return fail_pb(ctx, &pb);
	if (ap_cert_upload(&env, &s, f[CU_CERT].s, f[CU_CERT].len, f[CU_KEY].s, f[CU_KEY].len,
		f[CU_CHAIN].present ? f[CU_CHAIN].s : NULL, f[CU_CHAIN].present ? f[CU_CHAIN].len : 0,
		&c, &pb) != AP_OK) {
		audit(ctx, "cert.upload", s.spec.domain, "failed", NULL, NULL, &pb);
		return fail_pb(ctx, &pb);
	}
	audit(ctx, "cert.upload", c.domain, "ok", NULL, &c, NULL);
	if (!ctx->req->wants_json)
		ap_ctx_flash(ctx, "ok", "The certificate for %s was installed; nginx serves it.", c.domain);
	return done(ctx, &env, &c, 201);
}

int
ap_page_cert_issue(struct ap_ctx *ctx)
{
	struct ap_sites_env env = env_of(ctx);
	struct ap_problem pb;
	struct ap_site s;
	struct ap_cert c;

	if (ap_site_find(&env, ctx->fields[CI_DOMAIN].s, &s, &pb) != AP_OK)
		return fail_pb(ctx, &pb);
	if (ap_cert_issue_start(&env, &s, &c, &pb) != AP_OK) {
		audit(ctx, "cert.issue", s.spec.domain, "failed", NULL, NULL, &pb);
		return fail_pb(ctx, &pb);
	}
	audit(ctx, "cert.issue", c.domain, "ok", NULL, &c, NULL); /* started: state pending, its job */
	if (!ctx->req->wants_json)
		ap_ctx_flash(ctx, "ok", "Issuing a certificate for %s: certbot is running.", c.domain);
	return done(ctx, &env, &c, 201);
}

int
ap_page_cert_renew(struct ap_ctx *ctx)
{
	struct ap_sites_env env = env_of(ctx);
	struct ap_problem pb;
	struct ap_cert before, c;

	if (ap_cert_get(&env, ctx->fields[AP_ID].i, &before, &pb) != AP_OK)
		return fail_pb(ctx, &pb);
	ap_cert_settle(&env, &before, NULL);
	if (ap_cert_renew_start(&env, &before, &c, &pb) != AP_OK) {
		audit(ctx, "cert.renew", before.domain, "failed", &before, NULL, &pb);
		return fail_pb(ctx, &pb);
	}
	audit(ctx, "cert.renew", c.domain, "ok", &before, &c, NULL);
	if (!ctx->req->wants_json)
		ap_ctx_flash(ctx, "ok", "Renewing the certificate for %s: certbot is running.", c.domain);
	return done(ctx, &env, &c, 200);
}

int
ap_page_cert_remove(struct ap_ctx *ctx)
{
	struct ap_sites_env env = env_of(ctx);
	struct ap_problem pb;
	struct ap_cert c;
	struct ap_site s;
	bool has_site;

	if (ap_cert_get(&env, ctx->fields[AP_ID].i, &c, &pb) != AP_OK)
		return fail_pb(ctx, &pb);
	if (ap_ctx_unconfirmed(ctx, "Remove the certificate of %s? The site is then served over plain HTTP only.",
		    c.domain))
		return 200;
	has_site = ap_site_find(&env, c.domain, &s, &pb) == AP_OK;
	if (ap_cert_remove(&env, &c, has_site ? &s : NULL, &pb) != AP_OK) {
		audit(ctx, "cert.remove", c.domain, "failed", &c, NULL, &pb);
		return fail_pb(ctx, &pb);
	}
	ap_ctx_audit(ctx, "cert.remove", c.domain, "ok", ap_ctx_json_text(ctx, ap_cert_json(&c)),
	    "{\"removed\":true}");
	if (ctx->req->wants_json)
		return 204;
	ap_ctx_flash(ctx, "ok", "The certificate of %s was removed.", c.domain);
	return ap_ctx_back(ctx, "/certificates");
}
