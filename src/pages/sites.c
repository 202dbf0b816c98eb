/*
 * sites.c — websites (permissions sites.read: everyone; sites.write:
 * operators and admins): the list with each site's type, state,
 * certificate expiry and whether nginx really serves it; a site's page with
 * its vhost as nginx reads it, drift (a vhost changed by hand) and its
 * diff; create, edit, disable, enable, re-apply, delete. The data module
 * (src/data/sites.c) does the work, the helper makes the changes; every
 * change is audited with before and after.
 */
#include <stdio.h>
#include <string.h>

#include "aapanel/auth.h"
#include "aapanel/pages.h"
#include "aapanel/sitecheck.h"
#include "aapanel/sites.h"

static const char *const kind_labels[] = { N_("Static files"), N_("PHP application"), N_("Reverse proxy") };

/* The fields of a site's form; create has the domain, edit has the {id} instead. */
#define SITE_FORM_FIELDS(FIRST)                                                                     \
	[FIRST + 0] = { .name = "aliases", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE,         \
	    .max = 2048, .check = ap_check_domain_list },                                               \
	[FIRST + 1] = { .name = "kind", .type = AP_FIELD_ENUM, .flags = AP_FIELD_REQUIRED,              \
	    .choices = ap_site_kinds },                                                                 \
	[FIRST + 2] = { .name = "root", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE,            \
	    .max = 255, .check = ap_check_site_path },                                                  \
	[FIRST + 3] = { .name = "index", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE,           \
	    .max = 600, .check = ap_check_index_files },                                                \
	[FIRST + 4] = { .name = "php", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE, .max = 5,   \
	    .check = ap_check_php_version },                                                            \
	[FIRST + 5] = { .name = "upstream", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE,        \
	    .max = 512, .check = ap_check_upstream },                                                   \
	[FIRST + 6] = { .name = "https_redirect", .type = AP_FIELD_BOOL },                              \
	[FIRST + 7] = { .name = "error_404", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE,       \
	    .max = 255, .check = ap_check_uri_path },                                                   \
	[FIRST + 8] = { .name = "error_50x", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE,       \
	    .max = 255, .check = ap_check_uri_path }

/* The spec fields' offsets after the first field (domain or id). */
enum { SF_ALIASES, SF_KIND, SF_ROOT, SF_INDEX, SF_PHP, SF_UPSTREAM, SF_HTTPS, SF_E404, SF_E50X, SF__N };

enum sc_field { SC_DOMAIN, SC__FIRST, SC__MAX = SC__FIRST + SF__N };
const struct ap_field ap_site_create_fields[SC__MAX + 1] = {
	[SC_DOMAIN] = { .name = "domain", .type = AP_FIELD_HOSTNAME, .flags = AP_FIELD_REQUIRED,
	    .check = ap_check_domain },
	SITE_FORM_FIELDS(SC__FIRST),
	[SC__MAX] = AP_FIELD_END,
};

enum su_field { SU_ID, SU__FIRST, SU__MAX = SU__FIRST + SF__N };
const struct ap_field ap_site_update_fields[SU__MAX + 1] = {
	[SU_ID] = { .name = "id", .type = AP_FIELD_INT, .flags = AP_FIELD_PATH | AP_FIELD_REQUIRED,
	    .min = 1, .max = INT64_MAX },
	SITE_FORM_FIELDS(SU__FIRST),
	[SU__MAX] = AP_FIELD_END,
};

enum sd_field { SD_ID, SD_DELETE_FILES, SD__MAX };
const struct ap_field ap_site_delete_fields[SD__MAX + 1] = {
	[SD_ID] = { .name = "id", .type = AP_FIELD_INT, .flags = AP_FIELD_PATH | AP_FIELD_REQUIRED,
	    .min = 1, .max = INT64_MAX },
	[SD_DELETE_FILES] = { .name = "delete_files", .type = AP_FIELD_BOOL },
	[SD__MAX] = AP_FIELD_END,
};

/* ---------------------------------------------------------------- the helper, per worker */

/*
 * One client per worker process, opened on first use (after the fork) and
 * kept: the helper serves many requests per connection (docs/helper.md).
 */
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

/* ---------------------------------------------------------------- models */

static const char *
kind_label(struct ap_ctx *ctx, enum ap_site_kind k)
{
	return ap_ctx_tr(ctx, kind_labels[(unsigned)k < AP_SITE_KIND__MAX ? k : 0]);
}

static struct json_object *
kind_options(struct ap_ctx *ctx, const char *selected)
{
	struct json_object *arr = json_object_new_array();

	for (size_t i = 0; i < AP_NELEM(kind_labels) && ap_site_kinds[i] != NULL; i++) {
		struct json_object *o = json_object_new_object();

		ap_model_str(o, "value", ap_site_kinds[i]);
		ap_model_str(o, "label", ap_ctx_tr(ctx, kind_labels[i]));
		ap_model_add(o, "selected",
		    json_object_new_boolean(selected != NULL && strcmp(selected, ap_site_kinds[i]) == 0));
		json_object_array_add(arr, o);
	}
	return arr;
}

static void
probe_model(struct ap_ctx *ctx, struct json_object *o, const struct ap_site *s)
{
	const char *label = s->probe_ok == 1 ? (s->enabled ? N_("Served") : N_("Disabled page served"))
	    : s->probe_ok == 0 ? N_("Not served") : N_("Not checked");

	ap_model_add(o, "probe_ok", json_object_new_boolean(s->probe_ok == 1));
	ap_model_add(o, "probe_bad", json_object_new_boolean(s->probe_ok == 0));
	ap_model_str(o, "probe_label", ap_ctx_tr(ctx, label));
	ap_model_str(o, "probe_message", s->probe_message);
	ap_model_add(o, "probe_at", ap_model_time(s->probe_at));
}

static struct json_object *
site_model(struct ap_ctx *ctx, const struct ap_site *s)
{
	struct json_object *o = ap_site_json(s);

	ap_model_str(o, "kind_label", kind_label(ctx, s->spec.kind));
	ap_model_str(o, "state_label", ap_ctx_tr(ctx, s->enabled ? "Enabled" : "Disabled"));
	ap_model_add(o, "is_php", json_object_new_boolean(s->spec.kind == AP_SITE_PHP));
	ap_model_add(o, "is_proxy", json_object_new_boolean(s->spec.kind == AP_SITE_PROXY));
	ap_model_add(o, "cert_expiry", ap_model_time(s->cert_not_after));
	ap_model_add(o, "created", ap_model_time(s->created_at));
	ap_model_add(o, "updated", ap_model_time(s->updated_at));
	probe_model(ctx, o, s);
	return o;
}

/* A form's values: what was typed when the form comes back, else the site's (or defaults). */
static const char *
value(struct ap_ctx *ctx, const char *name, const char *stored)
{
	const char *k = ctx->form_again ? ap_ctx_kept(ctx, name) : NULL;

	return k != NULL ? k : stored;
}

static struct json_object *
form_model(struct ap_ctx *ctx, const struct ap_site *s, struct json_object *php_versions)
{
	struct json_object *f = json_object_new_object(), *pv = json_object_new_array();
	const struct ap_site_spec *p = s ? &s->spec : NULL;
	const char *kind = value(ctx, "kind", p ? ap_site_kinds[p->kind] : "static");
	const char *php = value(ctx, "php", p ? p->php : "");
	const char *https = ctx->form_again ? ap_ctx_kept(ctx, "https_redirect") : NULL;
	size_t n = php_versions ? json_object_array_length(php_versions) : 0;

	ap_model_str(f, "domain", value(ctx, "domain", ""));
	ap_model_str(f, "aliases", value(ctx, "aliases", p ? p->aliases : ""));
	ap_model_add(f, "kinds", kind_options(ctx, kind));
	ap_model_str(f, "root", value(ctx, "root", p ? p->root : "public"));
	ap_model_str(f, "index", value(ctx, "index", p ? p->index : ""));
	ap_model_str(f, "upstream", value(ctx, "upstream", p ? p->upstream : ""));
	ap_model_str(f, "error_404", value(ctx, "error_404", p ? p->error_404 : ""));
	ap_model_str(f, "error_50x", value(ctx, "error_50x", p ? p->error_50x : ""));
	ap_model_add(f, "https_redirect", json_object_new_boolean(
	    ctx->form_again ? (https != NULL && https[0] != '\0' && strcmp(https, "0") != 0)
			    : (p && p->https_redirect)));
	for (size_t i = 0; i < n; i++) {
		const char *v = json_object_get_string(json_object_array_get_idx(php_versions, i));
		struct json_object *o = json_object_new_object();

		ap_model_str(o, "value", v);
		ap_model_add(o, "selected", json_object_new_boolean(strcmp(v, php) == 0 ||
		    (php[0] == '\0' && i + 1 == n)));
		json_object_array_add(pv, o);
	}
	ap_model_add(f, "php_versions", pv);
	ap_model_add(f, "no_php", json_object_new_boolean(n == 0));
	return f;
}

static bool
can_write(struct ap_ctx *ctx)
{
	return ctx->user != NULL && ap_role_allows(ctx->user->role, "sites.write") &&
	    (ctx->token_scope == NULL || ap_scope_allows(ctx->token_scope, "sites.write"));
}

/* ---------------------------------------------------------------- GET /sites */

struct list_ctx {
	struct ap_ctx *ctx;
	struct ap_sites_env probe_env; /* db NULL: the list's probes are not recorded */
	struct json_object *arr;
	int port;
	uint64_t budget_end;
};

static bool
list_row(void *p, const struct ap_site *s)
{
	struct list_ctx *l = p;
	struct ap_site copy = *s;

	/* Whether nginx really serves it, now: a quick look each, within a budget for the page. */
	if (l->port > 0 && ap_now_ms() < l->budget_end)
		ap_site_probe(&l->probe_env, l->port, &copy, 0, NULL);
	else if (l->port > 0)
		copy.probe_ok = -1;
	json_object_array_add(l->arr, site_model(l->ctx, &copy));
	return true;
}

int
ap_page_sites(struct ap_ctx *ctx)
{
	struct ap_sites_env env = env_of(ctx);
	struct list_ctx l = { .ctx = ctx, .arr = json_object_new_array() };
	struct json_object *versions = NULL;
	struct ap_problem pb;

	ctx->title = ap_ctx_tr(ctx, "Websites");
	ap_model_add(ctx->model, "sites", l.arr);
	l.port = ap_site_port(&env);
	l.probe_env = env;
	l.probe_env.db = NULL;
	l.budget_end = ap_now_ms() + 2000;
	ap_model_add(ctx->model, "helper_down", json_object_new_boolean(l.port == 0));
	ap_model_add(ctx->model, "port", json_object_new_int(l.port));
	if (ap_site_each(&env, list_row, &l, &pb) != AP_OK)
		return fail_pb(ctx, &pb);
	if (!ctx->req->wants_json) {
		if (l.port > 0)
			ap_site_php_versions(&env, &versions, &pb);
		ap_model_add(ctx->model, "can_write", json_object_new_boolean(can_write(ctx)));
		ap_model_add(ctx->model, "create_form", form_model(ctx, NULL, versions));
		json_object_put(versions);
	}
	return 200;
}

/* ---------------------------------------------------------------- GET /sites/{id} */

int
ap_page_site(struct ap_ctx *ctx)
{
	struct ap_sites_env env = env_of(ctx);
	struct json_object *o, *insp = NULL, *versions = NULL, *v;
	struct ap_problem pb;
	struct ap_site s;
	int port, root_status = 0;

	if (ap_site_get(&env, ctx->fields[AP_ID].i, &s, &pb) != AP_OK)
		return fail_pb(ctx, &pb);
	ctx->title = ap_arena_printf(ctx->arena, "%s — %s", s.spec.domain, ap_ctx_tr(ctx, "Websites"));
	port = ap_site_port(&env);
	if (port > 0)
		ap_site_probe(&env, port, &s, 0, &root_status);
	o = site_model(ctx, &s);
	ap_model_add(o, "root_status", root_status ? json_object_new_int(root_status) : NULL);
	ap_model_add(ctx->model, "site", o);
	ap_model_add(ctx->model, "helper_down", json_object_new_boolean(port == 0));
	ap_model_add(ctx->model, "port", json_object_new_int(port));
	if (port > 0 && ap_site_inspect(&env, &s, &insp, &pb) == AP_OK) {
		bool drift = json_object_object_get_ex(insp, "drift", &v) && json_object_get_boolean(v);

		ap_model_add(ctx->model, "drift", json_object_new_boolean(drift));
		if (json_object_object_get_ex(insp, "diff", &v))
			ap_model_add(ctx->model, "diff", json_object_get(v));
		if (json_object_object_get_ex(insp, "vhost", &v))
			ap_model_add(ctx->model, "vhost", json_object_get(v));
		if (json_object_object_get_ex(insp, "pool", &v))
			ap_model_add(ctx->model, "pool", json_object_get(v));
	}
	json_object_put(insp);
	if (!ctx->req->wants_json) {
		if (port > 0)
			ap_site_php_versions(&env, &versions, &pb);
		ap_model_add(ctx->model, "can_write", json_object_new_boolean(can_write(ctx)));
		ap_model_add(ctx->model, "edit_form", form_model(ctx, &s, versions));
		json_object_put(versions);
	}
	return 200;
}

/* ---------------------------------------------------------------- changes */

static void
spec_from(struct ap_ctx *ctx, int first, struct ap_site_spec *sp)
{
	const struct ap_fieldval *f = ctx->fields;

#define COPY(dst, i) snprintf(dst, sizeof(dst), "%s", f[first + (i)].present ? f[first + (i)].s : "")
	COPY(sp->aliases, SF_ALIASES);
	COPY(sp->root, SF_ROOT);
	COPY(sp->index, SF_INDEX);
	COPY(sp->php, SF_PHP);
	COPY(sp->upstream, SF_UPSTREAM);
	COPY(sp->error_404, SF_E404);
	COPY(sp->error_50x, SF_E50X);
#undef COPY
	sp->kind = (enum ap_site_kind)f[first + SF_KIND].i;
	sp->https_redirect = f[first + SF_HTTPS].b;
	/* A type's own fields only: a proxy keeps no PHP version, a PHP site no upstream. */
	if (sp->kind != AP_SITE_PHP)
		sp->php[0] = '\0';
	if (sp->kind != AP_SITE_PROXY)
		sp->upstream[0] = '\0';
}

static void
audit(struct ap_ctx *ctx, const char *action, const char *domain, const char *outcome,
    const struct ap_site *before, const struct ap_site *after, const struct ap_problem *pb)
{
	struct json_object *a = after ? ap_site_json(after) : NULL;

	if (a == NULL && pb != NULL) {
		a = json_object_new_object();
		ap_model_str(a, "error", ap_pb_name(pb->code));
		ap_model_str(a, "reason", pb->reason);
	}
	ap_ctx_audit(ctx, action, domain, outcome,
	    before ? ap_ctx_json_text(ctx, ap_site_json(before)) : NULL,
	    a ? ap_ctx_json_text(ctx, a) : NULL);
}

/* The answer after a change: JSON gets the site and its probe, a browser its page. */
static int
done(struct ap_ctx *ctx, const struct ap_site *s, int status)
{
	if (!ctx->req->wants_json)
		return ap_ctx_back(ctx, ap_arena_printf(ctx->arena, "/sites/%lld", (long long)s->id));
	ap_model_add(ctx->model, "site", site_model(ctx, s));
	return status;
}

static void
flash_probe(struct ap_ctx *ctx, const struct ap_site *s, const char *msgid_ok)
{
	if (s->probe_ok == 1)
		ap_ctx_flash(ctx, "ok", msgid_ok, s->spec.domain);
	else
		ap_ctx_flash(ctx, "error", "%s was changed, but nginx does not serve it yet: %s",
		    s->spec.domain, s->probe_message);
}

int
ap_page_site_create(struct ap_ctx *ctx)
{
	struct ap_sites_env env = env_of(ctx);
	struct ap_site_spec sp;
	struct ap_problem pb;
	struct ap_site s;

	memset(&sp, 0, sizeof(sp));
	snprintf(sp.domain, sizeof(sp.domain), "%s", ctx->fields[SC_DOMAIN].s);
	spec_from(ctx, SC__FIRST, &sp);
	if (ap_site_create(&env, &sp, &s, &pb) != AP_OK) {
		if (pb.code == AP_PB_FAILED)
			audit(ctx, "site.add", sp.domain, "failed", NULL, NULL, &pb);
		return fail_pb(ctx, &pb);
	}
	audit(ctx, "site.add", s.spec.domain, "ok", NULL, &s, NULL);
	if (!ctx->req->wants_json) {
		if (s.probe_ok == 1)
			ap_ctx_flash(ctx, "ok", "The site %s was created; nginx serves it.", s.spec.domain);
		else
			ap_ctx_flash(ctx, "error", "The site %s was created, but nginx does not serve it yet: %s",
			    s.spec.domain, s.probe_message);
	}
	return done(ctx, &s, 201);
}

int
ap_page_site_update(struct ap_ctx *ctx)
{
	struct ap_sites_env env = env_of(ctx);
	struct ap_site_spec sp;
	struct ap_site before, s;
	struct ap_problem pb;

	memset(&sp, 0, sizeof(sp));
	memset(&before, 0, sizeof(before));
	spec_from(ctx, SU__FIRST, &sp);
	if (ap_site_update(&env, ctx->fields[SU_ID].i, &sp, &before, &s, &pb) != AP_OK) {
		if (pb.code == AP_PB_FAILED)
			audit(ctx, "site.update", before.spec.domain, "failed", &before, NULL, &pb);
		return fail_pb(ctx, &pb);
	}
	audit(ctx, "site.update", s.spec.domain, "ok", &before, &s, NULL);
	if (!ctx->req->wants_json)
		flash_probe(ctx, &s, N_("The site %s was saved; nginx serves the new version."));
	return done(ctx, &s, 200);
}

static int
set_enabled(struct ap_ctx *ctx, bool enabled)
{
	struct ap_sites_env env = env_of(ctx);
	struct ap_site before, s;
	struct ap_problem pb;

	if (ap_site_get(&env, ctx->fields[AP_ID].i, &before, &pb) != AP_OK)
		return fail_pb(ctx, &pb);
	if (!enabled && ap_ctx_unconfirmed(ctx, "Disable the site %s? Visitors get a \"site disabled\" "
						"page until it is enabled again.", before.spec.domain))
		return 200;
	if (ap_site_set_enabled(&env, before.id, enabled, &s, &pb) != AP_OK) {
		audit(ctx, enabled ? "site.enable" : "site.disable", before.spec.domain, "failed", &before,
		    NULL, &pb);
		return fail_pb(ctx, &pb);
	}
	audit(ctx, enabled ? "site.enable" : "site.disable", s.spec.domain, "ok", &before, &s, NULL);
	if (!ctx->req->wants_json)
		flash_probe(ctx, &s, enabled ? N_("The site %s is enabled again.") : N_("The site %s is disabled."));
	return done(ctx, &s, 200);
}

int
ap_page_site_disable(struct ap_ctx *ctx)
{
	return set_enabled(ctx, false);
}

int
ap_page_site_enable(struct ap_ctx *ctx)
{
	return set_enabled(ctx, true);
}

int
ap_page_site_reapply(struct ap_ctx *ctx)
{
	struct ap_sites_env env = env_of(ctx);
	struct ap_site before, s;
	struct ap_problem pb;

	if (ap_site_get(&env, ctx->fields[AP_ID].i, &before, &pb) != AP_OK)
		return fail_pb(ctx, &pb);
	if (ap_site_reapply(&env, before.id, &s, &pb) != AP_OK) {
		audit(ctx, "site.reapply", before.spec.domain, "failed", &before, NULL, &pb);
		return fail_pb(ctx, &pb);
	}
	audit(ctx, "site.reapply", s.spec.domain, "ok", &before, &s, NULL);
	if (!ctx->req->wants_json)
		flash_probe(ctx, &s, N_("The panel's version of %s was written back."));
	return done(ctx, &s, 200);
}

int
ap_page_site_delete(struct ap_ctx *ctx)
{
	struct ap_sites_env env = env_of(ctx);
	bool files = ctx->fields[SD_DELETE_FILES].b;
	struct ap_site before;
	struct ap_problem pb;

	if (ap_site_get(&env, ctx->fields[SD_ID].i, &before, &pb) != AP_OK)
		return fail_pb(ctx, &pb);
	if (files && ap_ctx_unconfirmed(ctx, "Delete the site %s and all its files? This cannot be undone.",
			 before.spec.domain))
		return 200;
	if (!files && ap_ctx_unconfirmed(ctx, "Delete the site %s? Its files stay in its home directory.",
			  before.spec.domain))
		return 200;
	if (ap_site_delete(&env, before.id, files, &before, &pb) != AP_OK) {
		audit(ctx, "site.delete", before.spec.domain, "failed", &before, NULL, &pb);
		return fail_pb(ctx, &pb);
	}
	ap_ctx_audit(ctx, "site.delete", before.spec.domain, "ok",
	    ap_ctx_json_text(ctx, ap_site_json(&before)),
	    files ? "{\"deleted\":true,\"files_deleted\":true}" : "{\"deleted\":true,\"files_deleted\":false}");
	if (ctx->req->wants_json) {
		ap_model_add(ctx->model, "deleted", json_object_new_int64(before.id));
		return 200;
	}
	ap_ctx_flash(ctx, "ok", "The site %s was deleted.", before.spec.domain);
	return ap_ctx_back(ctx, "/sites");
}
