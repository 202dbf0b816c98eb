/*
 * sites.c — websites (permissions sites.read: everyone; sites.write:
 * operators and admins): the list with each site's type, state,
 * certificate expiry and whether nginx really serves it; a site's page with
 * its vhost as nginx reads it, drift (a vhost changed by hand) and its
 * diff; create, edit, disable, enable, re-apply, delete. The data module
 * (src/data/sites.c) does the work, the helper makes the changes; every
 * change is audited with before and after.
 *
 * Resources: Site (what the panel keeps of a site, with the probe's last
 * look and the certificate's expiry), SiteList (paged by id, oldest
 * first), SiteDetail (a site with its files as nginx reads them, drift and
 * the diff). A create answers 201 with the Site, a change 200 with it,
 * delete 204. The labels, the forms and the helper's state are the page's
 * only.
 */
#include <stdio.h>
#include <string.h>

#include "aapanel/auth.h"
#include "aapanel/pages.h"
#include "aapanel/rows.h"
#include "aapanel/sitecheck.h"
#include "aapanel/sites.h"

static const char *const kind_labels[] = { N_("Static files"), N_("PHP application"), N_("Reverse proxy") };

/* The fields of a site's form; create has the domain, edit has the {id} instead. */
#define SITE_FORM_FIELDS(FIRST)                                                                     \
	[FIRST + 0] = { .name = "aliases", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE,         \
	    .max = 2048, .check = ap_check_domain_list,                                                 \
	    .desc = "its other names, space-separated (up to 20, each like the domain)" },              \
	[FIRST + 1] = { .name = "kind", .type = AP_FIELD_ENUM, .flags = AP_FIELD_REQUIRED,              \
	    .choices = ap_site_kinds, .desc = "static files, PHP (its own PHP-FPM pool) or a reverse proxy" }, \
	[FIRST + 2] = { .name = "root", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE,            \
	    .max = 255, .check = ap_check_site_path,                                                    \
	    .desc = "the document root: a folder inside the site's home (default public)" },            \
	[FIRST + 3] = { .name = "index", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE,           \
	    .max = 600, .check = ap_check_index_files,                                                  \
	    .desc = "index files, space-separated (default index.html index.htm; PHP: index.php first)" }, \
	[FIRST + 4] = { .name = "php", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE, .max = 5,   \
	    .check = ap_check_php_version, .desc = "PHP sites: an installed PHP-FPM version (8.2)" },   \
	[FIRST + 5] = { .name = "upstream", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE,        \
	    .max = 512, .check = ap_check_upstream,                                                     \
	    .desc = "reverse proxies: http://host[:port][/path] or unix:/absolute/path" },              \
	[FIRST + 6] = { .name = "https_redirect", .type = AP_FIELD_BOOL,                                \
	    .desc = "send plain HTTP to https:// (301)" },                                              \
	[FIRST + 7] = { .name = "error_404", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE,       \
	    .max = 255, .check = ap_check_uri_path,                                                     \
	    .desc = "the URI path of its own 404 page in the document root (/404.html)" },              \
	[FIRST + 8] = { .name = "error_50x", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE,       \
	    .max = 255, .check = ap_check_uri_path,                                                     \
	    .desc = "the URI path of its own page for 500, 502, 503 and 504" }

/* The spec fields' offsets after the first field (domain or id). */
enum { SF_ALIASES, SF_KIND, SF_ROOT, SF_INDEX, SF_PHP, SF_UPSTREAM, SF_HTTPS, SF_E404, SF_E50X, SF__N };

enum sc_field { SC_DOMAIN, SC__FIRST, SC__MAX = SC__FIRST + SF__N };
const struct ap_field ap_site_create_fields[SC__MAX + 1] = {
	[SC_DOMAIN] = { .name = "domain", .type = AP_FIELD_HOSTNAME, .flags = AP_FIELD_REQUIRED,
	    .check = ap_check_domain,
	    .desc = "lowercase, like example.com (international names in their xn-- form); cannot change later" },
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
	[SD_DELETE_FILES] = { .name = "delete_files", .type = AP_FIELD_BOOL,
	    .desc = "also delete its home (the document root and everything in it), its logs and its system user" },
	[SD__MAX] = AP_FIELD_END,
};

enum sl_field { SL_LIMIT, SL_CURSOR, SL__MAX };
const struct ap_field ap_site_list_fields[SL__MAX + 1] = {
	[SL_LIMIT] = AP_FIELD_LIMIT,
	[SL_CURSOR] = AP_FIELD_CURSOR,
	[SL__MAX] = AP_FIELD_END,
};

/* ---------------------------------------------------------------- resources */

static const struct ap_prop site_props[] = {
	{ .name = "id", .type = AP_J_INT },
	{ .name = "domain", .type = AP_J_STRING, .desc = "the name it is served by; cannot change" },
	{ .name = "aliases", .type = AP_J_STRING, .flags = AP_J_NULL,
	    .desc = "its other names, space-separated; null: none" },
	{ .name = "kind", .type = AP_J_STRING, .choices = ap_site_kinds,
	    .desc = "static files, PHP (its own PHP-FPM pool) or a reverse proxy" },
	{ .name = "root", .type = AP_J_STRING, .desc = "the document root, relative to the site's home" },
	{ .name = "index", .type = AP_J_STRING, .flags = AP_J_NULL,
	    .desc = "index files, space-separated; null: the kind's default" },
	{ .name = "php", .type = AP_J_STRING, .flags = AP_J_NULL,
	    .desc = "PHP sites: the PHP-FPM version; null for the other kinds" },
	{ .name = "upstream", .type = AP_J_STRING, .flags = AP_J_NULL,
	    .desc = "reverse proxies: where requests go; null for the other kinds" },
	{ .name = "https_redirect", .type = AP_J_BOOL, .desc = "plain HTTP is sent to https:// (301)" },
	{ .name = "error_404", .type = AP_J_STRING, .flags = AP_J_NULL,
	    .desc = "the URI path of its own 404 page; null: nginx's" },
	{ .name = "error_50x", .type = AP_J_STRING, .flags = AP_J_NULL,
	    .desc = "the URI path of its own 50x page; null: nginx's" },
	{ .name = "enabled", .type = AP_J_BOOL,
	    .desc = "false: visitors get a \"site disabled\" page (503) and a PHP site has no pool" },
	{ .name = "revision", .type = AP_J_INT,
	    .desc = "of its configuration: every change raises it, and the probe looks for it" },
	{ .name = "system_user", .type = AP_J_STRING, .flags = AP_J_NULL,
	    .desc = "the system user its files and PHP run as; null until the helper made it" },
	{ .name = "created", .type = AP_J_TIME },
	{ .name = "updated", .type = AP_J_TIME },
	{ .name = "served", .type = AP_J_BOOL, .flags = AP_J_NULL,
	    .desc = "whether nginx serves this revision (the \"site disabled\" page while disabled), as the "
		    "probe over loopback saw it; null: not known (not probed, or the helper is down)" },
	{ .name = "probe_message", .type = AP_J_STRING, .flags = AP_J_NULL,
	    .desc = "what the probe saw (\"revision 3 served\", or what answered instead); null: never probed" },
	{ .name = "probed", .type = AP_J_TIME, .flags = AP_J_NULL, .desc = "when the probe looked; null: never" },
	{ .name = "cert_expiry", .type = AP_J_TIME, .flags = AP_J_NULL,
	    .desc = "when its certificate expires; null: it has none" },
	AP_PROP_END,
};
const struct ap_schema ap_site_schema = { .name = "Site", .desc = "a website nginx serves on this server",
	.props = site_props };
AP_SCHEMA_LIST(ap_site_list_schema, "SiteList", ap_site_schema);

static const struct ap_prop file_props[] = {
	{ .name = "path", .type = AP_J_STRING, .desc = "where it is on the server" },
	{ .name = "exists", .type = AP_J_BOOL },
	{ .name = "content", .type = AP_J_STRING, .desc = "as on disk (\"\" when it does not exist)" },
	AP_PROP_END,
};
static const struct ap_schema file_schema = { .name = "SiteFile", .desc = "a configuration file of a site",
	.props = file_props };

static const struct ap_prop detail_props[] = {
	{ .name = "site", .type = AP_J_OBJECT, .of = &ap_site_schema, .desc = "probed just now" },
	{ .name = "root_status", .type = AP_J_INT, .flags = AP_J_NULL,
	    .desc = "the HTTP status the site answers GET / with; null: not served, or not asked" },
	{ .name = "vhost", .type = AP_J_OBJECT, .of = &file_schema, .flags = AP_J_NULL,
	    .desc = "its nginx configuration as nginx reads it; null: the helper is down" },
	{ .name = "pool", .type = AP_J_OBJECT, .of = &file_schema, .flags = AP_J_NULL,
	    .desc = "PHP sites while enabled: its PHP-FPM pool; null otherwise, or when the helper is down" },
	{ .name = "drift", .type = AP_J_BOOL, .flags = AP_J_NULL,
	    .desc = "the files on disk are not the panel's version (changed by hand, or a change was "
		    "interrupted; re-apply writes it back); null: not known, the helper is down" },
	{ .name = "diff", .type = AP_J_STRING, .flags = AP_J_NULL,
	    .desc = "with drift: a unified diff from the panel's version to the files on disk; null without" },
	AP_PROP_END,
};
const struct ap_schema ap_site_detail_schema = { .name = "SiteDetail",
	.desc = "a site with its configuration on disk against the panel's", .props = detail_props };

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

struct json_object *
ap_site_resource(const struct ap_site *s)
{
	struct json_object *o = json_object_new_object();
	const struct ap_site_spec *p = &s->spec;

	ap_model_add(o, "id", json_object_new_int64(s->id));
	ap_model_str(o, "domain", p->domain);
	ap_model_opt(o, "aliases", p->aliases);
	ap_model_str(o, "kind", ap_site_kinds[(unsigned)p->kind < AP_SITE_KIND__MAX ? p->kind : 0]);
	ap_model_str(o, "root", p->root);
	ap_model_opt(o, "index", p->index);
	ap_model_opt(o, "php", p->kind == AP_SITE_PHP ? p->php : NULL);
	ap_model_opt(o, "upstream", p->kind == AP_SITE_PROXY ? p->upstream : NULL);
	ap_model_add(o, "https_redirect", json_object_new_boolean(p->https_redirect));
	ap_model_opt(o, "error_404", p->error_404);
	ap_model_opt(o, "error_50x", p->error_50x);
	ap_model_add(o, "enabled", json_object_new_boolean(s->enabled));
	ap_model_add(o, "revision", json_object_new_int64(s->revision));
	ap_model_opt(o, "system_user", s->system_user);
	ap_model_add(o, "created", ap_model_time(s->created_at));
	ap_model_add(o, "updated", ap_model_time(s->updated_at));
	ap_model_add(o, "served", s->probe_ok < 0 ? NULL : json_object_new_boolean(s->probe_ok == 1));
	ap_model_opt(o, "probe_message", s->probe_message);
	ap_model_add(o, "probed", ap_model_time(s->probe_at));
	ap_model_add(o, "cert_expiry", ap_model_time(s->cert_not_after));
	return o;
}

/* A member of the helper's site.inspect answer, or null. */
static void
inspected(struct json_object *d, struct json_object *insp, const char *const_key)
{
	struct json_object *v = NULL;

	if (insp != NULL && json_object_object_get_ex(insp, const_key, &v) && v != NULL)
		ap_model_add(d, const_key, json_object_get(v));
	else
		ap_model_add(d, const_key, NULL);
}

struct json_object *
ap_site_detail(const struct ap_sites_env *env, int port, struct ap_site *s)
{
	struct json_object *d = json_object_new_object(), *insp = NULL, *v = NULL;
	struct ap_problem pb;
	int root_status = 0;
	bool known, drift;
	const char *diff;

	if (port > 0)
		ap_site_probe(env, port, s, 0, &root_status);
	else {
		/* Not known without the helper: said so, and the last look stays on the row. */
		struct ap_sites_env quiet = *env;

		quiet.db = NULL;
		ap_site_probe(&quiet, 0, s, 0, NULL);
	}
	ap_model_add(d, "site", ap_site_resource(s));
	ap_model_add(d, "root_status", root_status ? json_object_new_int(root_status) : NULL);
	known = port > 0 && ap_site_inspect(env, s, &insp, &pb) == AP_OK;
	if (!known) {
		json_object_put(insp);
		insp = NULL;
	}
	inspected(d, insp, "vhost");
	inspected(d, insp, "pool");
	drift = known && json_object_object_get_ex(insp, "drift", &v) && json_object_get_boolean(v);
	ap_model_add(d, "drift", known ? json_object_new_boolean(drift) : NULL);
	diff = drift && json_object_object_get_ex(insp, "diff", &v) ? json_object_get_string(v) : NULL;
	ap_model_opt(d, "diff", diff);
	json_object_put(insp);
	return d;
}

/* The page's labels beside the resource: never under a member of it. */
static void
page_labels(struct ap_ctx *ctx, struct json_object *o, const struct ap_site *s)
{
	const char *label = s->probe_ok == 1 ? (s->enabled ? N_("Served") : N_("Disabled page served"))
	    : s->probe_ok == 0 ? N_("Not served") : N_("Not checked");

	ap_model_str(o, "kind_label", kind_label(ctx, s->spec.kind));
	ap_model_str(o, "state_label", ap_ctx_tr(ctx, s->enabled ? "Enabled" : "Disabled"));
	ap_model_add(o, "is_php", json_object_new_boolean(s->spec.kind == AP_SITE_PHP));
	ap_model_add(o, "is_proxy", json_object_new_boolean(s->spec.kind == AP_SITE_PROXY));
	ap_model_add(o, "probe_good", json_object_new_boolean(s->probe_ok == 1));
	ap_model_add(o, "probe_bad", json_object_new_boolean(s->probe_ok == 0));
	ap_model_str(o, "probe_label", ap_ctx_tr(ctx, label));
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

/*
 * The list's rows (rows.h): ap_site_resource's members and page_labels',
 * read from structs — the same bytes as ap_site_resource and page_labels give.
 */
struct site_view {
	int64_t id, revision, created, updated, probed, cert_expiry;
	const char *domain, *aliases, *kind, *root, *index, *php, *upstream, *error_404, *error_50x,
	    *system_user, *probe_message, *kind_label, *state_label, *probe_label;
	bool https_redirect, enabled, is_php, is_proxy, probe_good, probe_bad;
	struct json_object *served_json; /* a boolean, NULL: not known */
};
static const struct ap_col site_cols[] = {
	AP_COL(struct site_view, id, AP_COL_INT),
	AP_COL(struct site_view, domain, AP_COL_STR),
	AP_COL(struct site_view, aliases, AP_COL_STR),
	AP_COL(struct site_view, kind, AP_COL_STR),
	AP_COL(struct site_view, root, AP_COL_STR),
	AP_COL(struct site_view, index, AP_COL_STR),
	AP_COL(struct site_view, php, AP_COL_STR),
	AP_COL(struct site_view, upstream, AP_COL_STR),
	AP_COL(struct site_view, https_redirect, AP_COL_BOOL),
	AP_COL(struct site_view, error_404, AP_COL_STR),
	AP_COL(struct site_view, error_50x, AP_COL_STR),
	AP_COL(struct site_view, enabled, AP_COL_BOOL),
	AP_COL(struct site_view, revision, AP_COL_INT),
	AP_COL(struct site_view, system_user, AP_COL_STR),
	AP_COL(struct site_view, created, AP_COL_TIME),
	AP_COL(struct site_view, updated, AP_COL_TIME),
	AP_COL_AS("served", struct site_view, served_json, AP_COL_JSON),
	AP_COL(struct site_view, probe_message, AP_COL_STR),
	AP_COL(struct site_view, probed, AP_COL_TIME),
	AP_COL(struct site_view, cert_expiry, AP_COL_TIME),
	AP_COL(struct site_view, kind_label, AP_COL_STR),
	AP_COL(struct site_view, state_label, AP_COL_STR),
	AP_COL(struct site_view, is_php, AP_COL_BOOL),
	AP_COL(struct site_view, is_proxy, AP_COL_BOOL),
	AP_COL(struct site_view, probe_good, AP_COL_BOOL),
	AP_COL(struct site_view, probe_bad, AP_COL_BOOL),
	AP_COL(struct site_view, probe_label, AP_COL_STR),
	AP_COL_END,
};

struct list_ctx {
	struct ap_ctx *ctx;
	struct ap_sites_env probe_env; /* db NULL: the list's probes are not recorded */
	struct json_object *arr;
	int port;
	uint64_t budget_end;
	int64_t last; /* the page's last id: the next page's cursor */
};

/* ap_model_opt's rule: NULL or "" is null. */
static const char *
opt_str(struct json_object *rows, const char *v)
{
	return v != NULL && v[0] != '\0' ? ap_rows_strdup(rows, v) : NULL;
}

/* One row of the list: ap_site_resource(s) with page_labels(ctx, …, s). */
static void
site_row(struct ap_ctx *ctx, struct json_object *rows, const struct ap_site *s)
{
	const struct ap_site_spec *p = &s->spec;
	struct site_view *v = ap_rows_add(rows);
	const char *label = s->probe_ok == 1 ? (s->enabled ? N_("Served") : N_("Disabled page served"))
	    : s->probe_ok == 0 ? N_("Not served") : N_("Not checked");

	v->id = s->id;
	v->domain = ap_rows_strdup(rows, p->domain);
	v->aliases = opt_str(rows, p->aliases);
	v->kind = ap_site_kinds[(unsigned)p->kind < AP_SITE_KIND__MAX ? p->kind : 0];
	v->root = ap_rows_strdup(rows, p->root);
	v->index = opt_str(rows, p->index);
	v->php = opt_str(rows, p->kind == AP_SITE_PHP ? p->php : NULL);
	v->upstream = opt_str(rows, p->kind == AP_SITE_PROXY ? p->upstream : NULL);
	v->https_redirect = p->https_redirect;
	v->error_404 = opt_str(rows, p->error_404);
	v->error_50x = opt_str(rows, p->error_50x);
	v->enabled = s->enabled;
	v->revision = s->revision;
	v->system_user = opt_str(rows, s->system_user);
	v->created = s->created_at;
	v->updated = s->updated_at;
	v->served_json = s->probe_ok < 0 ? NULL : json_object_new_boolean(s->probe_ok == 1);
	v->probe_message = opt_str(rows, s->probe_message);
	v->probed = s->probe_at;
	v->cert_expiry = s->cert_not_after;
	/* page_labels' */
	v->kind_label = kind_label(ctx, p->kind);
	v->state_label = ap_ctx_tr(ctx, s->enabled ? "Enabled" : "Disabled");
	v->is_php = p->kind == AP_SITE_PHP;
	v->is_proxy = p->kind == AP_SITE_PROXY;
	v->probe_good = s->probe_ok == 1;
	v->probe_bad = s->probe_ok == 0;
	v->probe_label = ap_ctx_tr(ctx, label);
}

static bool
list_row(void *p, const struct ap_site *s)
{
	struct list_ctx *l = p;
	struct ap_site copy = *s;

	/*
	 * Whether nginx really serves it, now: a quick look each, within a budget for
	 * the page. Without the helper (no port) it is not known: served null.
	 */
	if (l->port <= 0 || ap_now_ms() < l->budget_end)
		ap_site_probe(&l->probe_env, l->port, &copy, 0, NULL);
	else {
		copy.probe_ok = -1;
		snprintf(copy.probe_message, sizeof(copy.probe_message), "not checked: the list's time for probes ran out");
	}
	site_row(l->ctx, l->arr, &copy);
	l->last = s->id;
	return true;
}

/* The sites, oldest first, a page at a time (the cursor is the last id shown). */
int
ap_page_sites(struct ap_ctx *ctx)
{
	struct ap_sites_env env = env_of(ctx);
	struct list_ctx l = { .ctx = ctx, .arr = ap_rows_new(site_cols, sizeof(struct site_view)) };
	struct json_object *versions = NULL;
	struct ap_problem pb;
	struct ap_page pg;
	bool more = false;

	ctx->title = ap_ctx_tr(ctx, "Websites");
	l.port = ap_site_port(&env);
	l.probe_env = env;
	l.probe_env.db = NULL;
	l.budget_end = ap_now_ms() + 2000;
	/* For the page only: an API client sees served null. */
	ap_model_add(ctx->model, "helper_down", json_object_new_boolean(l.port == 0));
	/* A form page built again after a problem shows the first page. */
	ap_ctx_page(ctx, &pg);
	if (ap_site_page(&env, pg.cursor, pg.limit, list_row, &l, &more, &pb) != AP_OK) {
		json_object_put(l.arr);
		return fail_pb(ctx, &pb);
	}
	ap_ctx_page_done(ctx, "/sites", l.arr, more, l.last);
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
	struct json_object *d, *versions = NULL;
	struct ap_problem pb;
	struct ap_site s;
	int port;

	if (ap_site_get(&env, ctx->fields[AP_ID].i, &s, &pb) != AP_OK)
		return fail_pb(ctx, &pb);
	/* The domain is the page's heading; the title is words only (a translated page's is all translated). */
	ctx->title = ap_ctx_tr(ctx, "Websites");
	port = ap_site_port(&env);
	/* The SiteDetail, its members the model's; the page's labels on its site. */
	d = ap_site_detail(&env, port, &s);
	json_object_object_foreach(d, key, val) {
		if (strcmp(key, "site") == 0)
			page_labels(ctx, val, &s);
		json_object_object_add(ctx->model, key, json_object_get(val));
	}
	json_object_put(d);
	ap_model_add(ctx->model, "helper_down", json_object_new_boolean(port == 0));
	if (!ctx->req->wants_json) {
		if (port > 0)
			ap_site_php_versions(&env, &versions, &pb);
		ap_model_add(ctx->model, "can_write", json_object_new_boolean(can_write(ctx)));
		ap_model_add(ctx->model, "edit_form", form_model(ctx, &s, versions));
		json_object_put(versions);
		/* Its databases (src/pages/databases.c), linked from their page. */
		ap_model_add(ctx->model, "site_databases", ap_site_databases(ctx, s.id));
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

/* The answer after a change: JSON gets the Site (probed), a browser its page. */
static int
done(struct ap_ctx *ctx, const struct ap_site *s, int status)
{
	if (!ctx->req->wants_json)
		return ap_ctx_back(ctx, ap_arena_printf(ctx->arena, "/sites/%lld", (long long)s->id));
	return ap_ctx_answer(ctx, status, ap_site_resource(s));
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
	if (ctx->req->wants_json)
		return 204;
	ap_ctx_flash(ctx, "ok", "The site %s was deleted.", before.spec.domain);
	return ap_ctx_back(ctx, "/sites");
}
