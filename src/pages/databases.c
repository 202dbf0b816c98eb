/*
 * databases.c — database servers and databases (docs/databases.md).
 * databases.read to look; databases.write (operators) to create, drop,
 * change a password or link to a site; databases.admin (admins) to add or
 * remove a server, whose admin password goes to the helper and is never
 * shown, logged, audited or answered. The data module
 * (src/data/databases.c) does the work; every change is audited without a
 * password.
 *
 * Resources: DatabaseServer (with what the server says now: reachable,
 * version, uptime, size, connections), Database (with its size and the
 * owner the server reports), NewDatabase / DatabasePassword (the user's
 * password, shown once).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "aapanel/auth.h"
#include "aapanel/databases.h"
#include "aapanel/dbhistory.h"
#include "aapanel/dbio.h"
#include "aapanel/dbnames.h"
#include "aapanel/pages.h"
#include "aapanel/rows.h"

static const char *const engines[] = { "mysql", "postgresql", NULL };
static const char *const charsets[] = { "utf8mb4", "utf8mb3", "latin1", "ascii", NULL };
static const char *const encodings[] = { "UTF8", "LATIN1", "SQL_ASCII", NULL };

static const char *
check_server_name(const char *s, size_t n)
{
	if (n < 1 || n > 32 || !(s[0] >= 'a' && s[0] <= 'z'))
		return "must be 1 to 32 characters, starting with a lowercase letter";
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return "may only contain lowercase letters, digits and _";
	return NULL;
}

static const char *
check_dsn(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] >= 0x7f)
			return "must be printable ASCII without spaces";
	if (strncmp(s, "mysql://", 8) != 0 && strncmp(s, "mariadb://", 10) != 0 &&
	    strncmp(s, "postgresql://", 13) != 0 && strncmp(s, "postgres://", 11) != 0)
		return "must be a mysql:// or postgresql:// DSN";
	return NULL;
}

/* Empty (an untouched form field: the default) or a locale name. */
static const char *
check_locale(const char *s, size_t n)
{
	return n == 0 ? NULL : ap_check_db_locale(s, n);
}

enum { SL_LIMIT, SL_CURSOR, SL__MAX };
const struct ap_field ap_dbserver_list_fields[SL__MAX + 1] = {
	[SL_LIMIT] = AP_FIELD_LIMIT,
	[SL_CURSOR] = AP_FIELD_CURSOR,
	[SL__MAX] = AP_FIELD_END,
};

enum { SA_NAME, SA_DSN, SA_PASSWORD, SA__MAX };
const struct ap_field ap_dbserver_add_fields[SA__MAX + 1] = {
	[SA_NAME] = { .name = "name", .type = AP_FIELD_NAME, .flags = AP_FIELD_REQUIRED, .min = 1, .max = 32,
	    .check = check_server_name, .desc = "the server's name in the panel: [a-z][a-z0-9_]{0,31}" },
	[SA_DSN] = { .name = "dsn", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED | AP_FIELD_SINGLELINE,
	    .min = 8, .max = 512, .check = check_dsn,
	    .desc = "mysql://USER@HOST:PORT/ (or /?socket=PATH), postgresql://USER@HOST:PORT/DB; no password" },
	[SA_PASSWORD] = { .name = "password", .type = AP_FIELD_TEXT,
	    .flags = AP_FIELD_SINGLELINE | AP_FIELD_SECRET, .max = 256,
	    .desc = "the admin login's password: kept by the helper only (root, 0600), never shown again" },
	[SA__MAX] = AP_FIELD_END,
};

enum { DL_LIMIT, DL_CURSOR, DL__MAX };
const struct ap_field ap_database_list_fields[DL__MAX + 1] = {
	[DL_LIMIT] = AP_FIELD_LIMIT,
	[DL_CURSOR] = AP_FIELD_CURSOR,
	[DL__MAX] = AP_FIELD_END,
};

enum { DC_SERVER, DC_NAME, DC_USER, DC_CHARSET, DC_COLLATION, DC_ENCODING, DC_HOSTS, DC_SITE, DC_LOCALE,
	DC__MAX };
const struct ap_field ap_database_create_fields[DC__MAX + 1] = {
	[DC_SERVER] = { .name = "server", .type = AP_FIELD_NAME, .flags = AP_FIELD_REQUIRED, .min = 1,
	    .max = 32, .check = check_server_name, .desc = "the database server's name" },
	[DC_NAME] = { .name = "name", .type = AP_FIELD_NAME, .flags = AP_FIELD_REQUIRED, .min = 1, .max = 32,
	    .check = ap_check_db_ident, .desc = "[a-z][a-z0-9_]{0,31}, not a reserved name" },
	[DC_USER] = { .name = "user", .type = AP_FIELD_NAME, .min = 1, .max = 32, .check = ap_check_db_ident,
	    .desc = "its user (default: the database's name)" },
	[DC_CHARSET] = { .name = "charset", .type = AP_FIELD_ENUM, .choices = charsets,
	    .desc = "MariaDB/MySQL: the character set (default utf8mb4)" },
	[DC_COLLATION] = { .name = "collation", .type = AP_FIELD_NAME, .min = 1, .max = 64,
	    .check = ap_check_db_collation, .desc = "MariaDB/MySQL: a collation of the charset (default: the server's)" },
	[DC_ENCODING] = { .name = "encoding", .type = AP_FIELD_ENUM, .choices = encodings,
	    .desc = "PostgreSQL: the encoding (default UTF8)" },
	[DC_HOSTS] = { .name = "hosts", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE, .min = 0,
	    .max = 400, .check = ap_check_db_hosts,
	    .desc = "MariaDB/MySQL: where the user may connect from, comma-separated (default localhost)" },
	[DC_SITE] = { .name = "site", .type = AP_FIELD_HOSTNAME, .desc = "a site's domain to link it to" },
	[DC_LOCALE] = { .name = "locale", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE, .min = 0, .max = 40,
	    .check = check_locale,
	    .desc = "PostgreSQL: the database's locale, e.g. en_US.UTF-8 or C.UTF-8 (default: the server's)" },
	[DC__MAX] = AP_FIELD_END,
};

enum { DK_ID, DK_SITE, DK__MAX };
const struct ap_field ap_database_link_fields[DK__MAX + 1] = {
	[DK_ID] = { .name = "id", .type = AP_FIELD_INT, .flags = AP_FIELD_PATH | AP_FIELD_REQUIRED, .min = 1,
	    .max = INT64_MAX },
	[DK_SITE] = { .name = "site", .type = AP_FIELD_HOSTNAME,
	    .desc = "the site's domain; absent: unlink" },
	[DK__MAX] = AP_FIELD_END,
};

enum { DU_ID, DU_USER, DU__MAX };
const struct ap_field ap_database_reader_fields[DU__MAX + 1] = {
	[DU_ID] = { .name = "id", .type = AP_FIELD_INT, .flags = AP_FIELD_PATH | AP_FIELD_REQUIRED, .min = 1,
	    .max = INT64_MAX },
	[DU_USER] = { .name = "user", .type = AP_FIELD_NAME, .min = 1, .max = 32, .check = ap_check_db_ident,
	    .desc = "the read-only user's name (default: the database's name and _ro)" },
	[DU__MAX] = AP_FIELD_END,
};

enum { DR_ID, DR_CONFIRM, DR__MAX };
const struct ap_field ap_database_remove_fields[DR__MAX + 1] = {
	[DR_ID] = { .name = "id", .type = AP_FIELD_INT, .flags = AP_FIELD_PATH | AP_FIELD_REQUIRED, .min = 1,
	    .max = INT64_MAX },
	[DR_CONFIRM] = { .name = "confirm_name", .type = AP_FIELD_NAME, .min = 1, .max = 32,
	    .desc = "the database's name typed again: required" },
	[DR__MAX] = AP_FIELD_END,
};

static const struct ap_prop server_props[] = {
	{ .name = "id", .type = AP_J_INT },
	{ .name = "name", .type = AP_J_STRING },
	{ .name = "engine", .type = AP_J_STRING, .choices = engines },
	{ .name = "dsn", .type = AP_J_STRING, .desc = "how the helper connects (never with the password)" },
	{ .name = "databases", .type = AP_J_INT, .desc = "how many databases the panel made on it" },
	{ .name = "reachable", .type = AP_J_BOOL, .desc = "the helper could connect just now" },
	{ .name = "version", .type = AP_J_STRING, .flags = AP_J_NULL },
	{ .name = "uptime", .type = AP_J_INT, .flags = AP_J_NULL, .desc = "seconds" },
	{ .name = "size", .type = AP_J_INT, .flags = AP_J_NULL, .desc = "bytes of every database it has" },
	{ .name = "connections", .type = AP_J_INT, .flags = AP_J_NULL },
	{ .name = "error", .type = AP_J_STRING, .flags = AP_J_NULL, .desc = "why it is not reachable" },
	{ .name = "created", .type = AP_J_TIME },
	AP_PROP_END,
};
const struct ap_schema ap_dbserver_schema = { .name = "DatabaseServer",
	.desc = "a MariaDB/MySQL or PostgreSQL server the panel manages", .props = server_props };
AP_SCHEMA_LIST(ap_dbserver_list_schema, "DatabaseServerList", ap_dbserver_schema);

static const struct ap_prop database_props[] = {
	{ .name = "id", .type = AP_J_INT },
	{ .name = "server", .type = AP_J_STRING },
	{ .name = "engine", .type = AP_J_STRING, .choices = engines },
	{ .name = "name", .type = AP_J_STRING },
	{ .name = "user", .type = AP_J_STRING, .desc = "its own user, with rights on it only" },
	{ .name = "reader", .type = AP_J_STRING, .flags = AP_J_NULL, .desc = "its read-only user; null: none" },
	{ .name = "hosts", .type = AP_J_STRING, .desc = "MariaDB/MySQL: where the user may connect from" },
	{ .name = "charset", .type = AP_J_STRING, .desc = "charset[/collation], or the PostgreSQL encoding" },
	{ .name = "size", .type = AP_J_INT, .flags = AP_J_NULL, .desc = "bytes; null: the server is not reachable" },
	{ .name = "owner", .type = AP_J_STRING, .flags = AP_J_NULL, .desc = "the owner the server reports" },
	{ .name = "site", .type = AP_J_STRING, .flags = AP_J_NULL, .desc = "the linked site's domain" },
	{ .name = "site_id", .type = AP_J_INT, .flags = AP_J_NULL },
	{ .name = "created", .type = AP_J_TIME },
	{ .name = "updated", .type = AP_J_TIME, .flags = AP_J_NULL },
	AP_PROP_END,
};
const struct ap_schema ap_database_schema = { .name = "Database",
	.desc = "a database the panel made, with its own user", .props = database_props };
AP_SCHEMA_LIST(ap_database_list_schema, "DatabaseList", ap_database_schema);

static const struct ap_prop new_db_props[] = {
	{ .name = "id", .type = AP_J_INT },
	{ .name = "name", .type = AP_J_STRING },
	{ .name = "server", .type = AP_J_STRING },
	{ .name = "user", .type = AP_J_STRING },
	{ .name = "password", .type = AP_J_STRING, .flags = AP_J_SECRET,
	    .desc = "the user's generated password: shown once, stored nowhere by the panel" },
	AP_PROP_END,
};
const struct ap_schema ap_new_database_schema = { .name = "NewDatabase",
	.desc = "a database just made and its user's password", .props = new_db_props };

static const struct ap_prop passwd_props[] = {
	{ .name = "id", .type = AP_J_INT },
	{ .name = "user", .type = AP_J_STRING },
	{ .name = "password", .type = AP_J_STRING, .flags = AP_J_SECRET, .desc = "the new password: shown once" },
	AP_PROP_END,
};
static const char *const xfer_kinds[] = { "export", "import", NULL };
static const char *const xfer_formats[] = { "sql", "sql.gz", NULL };
static const char *const xfer_results[] = { "running", "ok", "failed", "unknown", NULL };
static const struct ap_prop transfer_props[] = {
	{ .name = "id", .type = AP_J_INT },
	{ .name = "kind", .type = AP_J_STRING, .choices = xfer_kinds },
	{ .name = "format", .type = AP_J_STRING, .choices = xfer_formats },
	{ .name = "job", .type = AP_J_INT, .flags = AP_J_NULL, .desc = "the helper's job; null: refused before one ran" },
	{ .name = "actor", .type = AP_J_STRING, .desc = "who started it (a user, or cli:USER)" },
	{ .name = "started", .type = AP_J_TIME },
	{ .name = "finished", .type = AP_J_TIME, .flags = AP_J_NULL, .desc = "null: running (or not seen ended yet)" },
	{ .name = "size", .type = AP_J_INT, .flags = AP_J_NULL, .desc = "bytes of the dump (uploaded, or exported)" },
	{ .name = "sha256", .type = AP_J_STRING, .flags = AP_J_NULL, .desc = "of the dump" },
	{ .name = "result", .type = AP_J_STRING, .choices = xfer_results,
	    .desc = "unknown: the helper no longer knew the job when the panel asked" },
	{ .name = "error", .type = AP_J_STRING, .flags = AP_J_NULL, .desc = "why it failed" },
	AP_PROP_END,
};
static const struct ap_schema transfer_schema = { .name = "DatabaseTransfer",
	.desc = "an import or export of a database as the panel recorded it", .props = transfer_props };

static const struct ap_prop detail_props[] = {
	{ .name = "database", .type = AP_J_OBJECT, .of = &ap_database_schema },
	{ .name = "history", .type = AP_J_ARRAY, .of = &transfer_schema,
	    .desc = "its newest 20 imports and exports, newest first" },
	AP_PROP_END,
};
const struct ap_schema ap_database_detail_schema = { .name = "DatabaseDetail",
	.desc = "a database, with what its server says of it now", .props = detail_props };

const struct ap_schema ap_database_password_schema = { .name = "DatabasePassword",
	.desc = "a database user's new password", .props = passwd_props };

static struct ap_helper_client *H_client;

static struct ap_sites_env
env_of(struct ap_ctx *ctx)
{
	const struct ap_config *c = ctx->app->cfg;
	struct ap_sites_env e = { .db = ctx->db, .cfg = c };

	if (H_client == NULL)
		H_client = ap_helper_client_new(c->helper_socket, c->helper_timeout_ms, 1 << 20);
	e.helper = H_client;
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
may(struct ap_ctx *ctx, const char *perm)
{
	return ctx->user != NULL && ap_role_allows(ctx->user->role, perm) &&
	    (ctx->token_scope == NULL || ap_scope_allows(ctx->token_scope, perm));
}

static void
copy_member(struct json_object *dst, struct json_object *src, const char *key)
{
	struct json_object *v = NULL;

	json_object_object_add(dst, key, json_object_object_get_ex(src, key, &v) ? json_object_get(v) : NULL);
}

struct json_object *
ap_dbserver_resource(const struct ap_dbserver *s, struct json_object *status)
{
	struct json_object *o = json_object_new_object(), *r = NULL;

	ap_model_add(o, "id", json_object_new_int64(s->id));
	ap_model_str(o, "name", s->name);
	ap_model_str(o, "engine", s->engine);
	ap_model_str(o, "dsn", s->dsn);
	ap_model_add(o, "databases", json_object_new_int64(s->databases));
	ap_model_add(o, "reachable", json_object_new_boolean(status != NULL &&
	    json_object_object_get_ex(status, "reachable", &r) && json_object_get_boolean(r)));
	copy_member(o, status, "version");
	copy_member(o, status, "uptime");
	copy_member(o, status, "size");
	copy_member(o, status, "connections");
	copy_member(o, status, "error");
	ap_model_add(o, "created", ap_model_time(s->created_at));
	return o;
}

/* The server's own view of one database (from its database.list), or NULL. */
static struct json_object *
on_server(struct json_object *contents, const char *name)
{
	struct json_object *dbs = NULL;

	if (contents == NULL || !json_object_object_get_ex(contents, "databases", &dbs))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(dbs); i++) {
		struct json_object *o = json_object_array_get_idx(dbs, i), *n = NULL;

		if (json_object_object_get_ex(o, "name", &n) && strcmp(json_object_get_string(n), name) == 0)
			return o;
	}
	return NULL;
}

struct json_object *
ap_database_resource(const struct ap_database *d, struct json_object *contents)
{
	struct json_object *o = json_object_new_object(), *seen = on_server(contents, d->name);

	ap_model_add(o, "id", json_object_new_int64(d->id));
	ap_model_str(o, "server", d->server);
	ap_model_str(o, "engine", d->engine);
	ap_model_str(o, "name", d->name);
	ap_model_str(o, "user", d->user);
	ap_model_opt(o, "reader", d->reader[0] ? d->reader : NULL);
	ap_model_str(o, "hosts", d->hosts);
	ap_model_str(o, "charset", d->charset);
	copy_member(o, seen, "size");
	copy_member(o, seen, "owner");
	ap_model_opt(o, "site", d->site[0] ? d->site : NULL);
	ap_model_add(o, "site_id", d->site_id > 0 ? json_object_new_int64(d->site_id) : NULL);
	ap_model_add(o, "created", ap_model_time(d->created_at));
	ap_model_add(o, "updated", ap_model_time(d->updated_at));
	return o;
}

static void
audit(struct ap_ctx *ctx, const char *action, const char *target, const char *outcome,
    struct json_object *before, struct json_object *after, const struct ap_problem *pb)
{
	if (after == NULL && pb != NULL) {
		after = json_object_new_object();
		ap_model_str(after, "error", ap_pb_name(pb->code));
		ap_model_str(after, "reason", pb->reason);
	}
	ap_ctx_audit(ctx, action, target, outcome, before ? ap_ctx_json_text(ctx, before) : NULL,
	    after ? ap_ctx_json_text(ctx, after) : NULL);
}

/* The form's values again after a refusal (never the password). */
static void
keep(struct ap_ctx *ctx, const char *const *names, size_t n)
{
	if (!ctx->form_again)
		return;
	for (size_t i = 0; i < n; i++) {
		const char *v = ap_ctx_kept(ctx, names[i]);

		if (v != NULL)
			ap_model_str(ctx->model, ap_arena_printf(ctx->arena, "kept_%s", names[i]), v);
	}
}

/* ---------------------------------------------------------------- servers */

struct srv_list {
	struct ap_ctx *ctx;
	struct ap_sites_env env;
	struct json_object *arr, *names;
	int64_t after, limit, last, n;
	bool more;
	struct ap_dbserver *rows; /* the page's servers: their statuses are asked at once after */
};

static bool
srv_row(void *p, const struct ap_dbserver *s)
{
	struct srv_list *l = p;

	if (l->names != NULL) {
		struct json_object *opt = json_object_new_object();

		ap_model_str(opt, "name", s->name);
		ap_model_str(opt, "engine", s->engine);
		json_object_array_add(l->names, opt);
	}
	if (l->arr == NULL || s->id <= l->after)
		return true;
	if (l->n == l->limit) {
		l->more = true;
		return l->names != NULL;
	}
	l->rows[l->n] = *s;
	l->last = s->id;
	l->n++;
	return true;
}

/*
 * A server's row as the list shows it (a typed row source, rows.h): the
 * members of ap_dbserver_resource, the status's own values as the helper
 * gave them (references, so their JSON is what copy_member gives), and
 * is_mysql for the page.
 */
struct srv_view {
	int64_t id, databases, created;
	const char *name, *engine, *dsn;
	bool reachable, is_mysql;
	struct json_object *version, *uptime, *size, *connections, *error;
};
static const struct ap_col srv_cols[] = {
	AP_COL(struct srv_view, id, AP_COL_INT),
	AP_COL(struct srv_view, name, AP_COL_STR),
	AP_COL(struct srv_view, engine, AP_COL_STR),
	AP_COL(struct srv_view, dsn, AP_COL_STR),
	AP_COL(struct srv_view, databases, AP_COL_INT),
	AP_COL(struct srv_view, reachable, AP_COL_BOOL),
	AP_COL(struct srv_view, version, AP_COL_JSON),
	AP_COL(struct srv_view, uptime, AP_COL_JSON),
	AP_COL(struct srv_view, size, AP_COL_JSON),
	AP_COL(struct srv_view, connections, AP_COL_JSON),
	AP_COL(struct srv_view, error, AP_COL_JSON),
	AP_COL(struct srv_view, created, AP_COL_TIME),
	AP_COL(struct srv_view, is_mysql, AP_COL_BOOL),
	AP_COL_END,
};

/* A member of o as a reference for the rows (NULL when absent or null). */
static struct json_object *
member_ref(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	return o != NULL && json_object_object_get_ex(o, key, &v) ? json_object_get(v) : NULL;
}

/* The rows with every server's status, asked at once (64 at a time). Their
 * strings are the page's copies (the request's arena): not copied again. */
static void
srv_rows(struct srv_list *l)
{
	for (int64_t i = 0; i < l->n; i += 64) {
		size_t k = (size_t)(l->n - i < 64 ? l->n - i : 64);
		struct json_object *st[64];

		ap_dbserver_statuses(&l->env, l->rows + i, k, st);
		for (size_t j = 0; j < k; j++) {
			const struct ap_dbserver *s = &l->rows[i + (int64_t)j];
			struct srv_view *v = ap_rows_add(l->arr);
			struct json_object *r = NULL;

			v->id = s->id;
			v->name = s->name;
			v->engine = s->engine;
			v->dsn = s->dsn;
			v->databases = s->databases;
			v->reachable = st[j] != NULL && json_object_object_get_ex(st[j], "reachable", &r) &&
			    json_object_get_boolean(r);
			v->version = member_ref(st[j], "version");
			v->uptime = member_ref(st[j], "uptime");
			v->size = member_ref(st[j], "size");
			v->connections = member_ref(st[j], "connections");
			v->error = member_ref(st[j], "error");
			v->created = s->created_at;
			v->is_mysql = strcmp(s->engine, "mysql") == 0;
			json_object_put(st[j]);
		}
	}
}

int
ap_page_dbservers(struct ap_ctx *ctx)
{
	struct srv_list l = { .ctx = ctx, .env = env_of(ctx),
		.arr = ap_rows_new(srv_cols, sizeof(struct srv_view)) };
	static const char *const kept[] = { "name", "dsn" };
	struct ap_problem pb;
	struct ap_page pg;

	ctx->title = ap_ctx_tr(ctx, "Database servers");
	ap_ctx_page(ctx, &pg);
	l.after = pg.cursor;
	l.limit = pg.limit;
	l.rows = ap_arena_alloc(ctx->arena, sizeof(*l.rows) * (size_t)(pg.limit > 0 ? pg.limit : 1));
	if (ap_dbserver_each(&l.env, srv_row, &l, &pb) != AP_OK) {
		json_object_put(l.arr);
		return fail_pb(ctx, &pb);
	}
	srv_rows(&l);
	ap_ctx_page_done(ctx, "/database-servers", l.arr, l.more, l.last);
	if (!ctx->req->wants_json)
		ap_model_add(ctx->model, "can_admin", json_object_new_boolean(may(ctx, "databases.admin")));
	keep(ctx, kept, AP_NELEM(kept));
	return 200;
}

int
ap_page_dbserver_add(struct ap_ctx *ctx)
{
	struct ap_sites_env env = env_of(ctx);
	const struct ap_fieldval *f = ctx->fields;
	struct json_object *st;
	struct ap_dbserver s;
	struct ap_problem pb;

	if (ap_dbserver_add(&env, f[SA_NAME].s, f[SA_DSN].s, f[SA_PASSWORD].present ? f[SA_PASSWORD].s : NULL,
		&s, &pb) != AP_OK) {
		audit(ctx, "dbserver.add", f[SA_NAME].s, "failed", NULL, NULL, &pb);
		return fail_pb(ctx, &pb);
	}
	audit(ctx, "dbserver.add", s.name, "ok", NULL, ap_dbserver_json(&s), NULL);
	if (!ctx->req->wants_json) {
		ap_ctx_flash(ctx, "ok", "The database server %s was added.", s.name);
		return ap_ctx_back(ctx, "/database-servers");
	}
	st = ap_dbserver_status(&env, &s);
	ap_ctx_answer(ctx, 201, ap_dbserver_resource(&s, st));
	json_object_put(st);
	return 201;
}

int
ap_page_dbserver_remove(struct ap_ctx *ctx)
{
	struct ap_sites_env env = env_of(ctx);
	struct ap_dbserver s;
	struct ap_problem pb;

	if (ap_dbserver_get(&env, ctx->fields[AP_ID].i, &s, &pb) != AP_OK)
		return fail_pb(ctx, &pb);
	if (ap_ctx_unconfirmed(ctx, "Remove the database server %s from the panel? Its databases stay on it; "
		    "the panel forgets its admin login.", s.name))
		return 200;
	if (ap_dbserver_remove(&env, &s, &pb) != AP_OK) {
		audit(ctx, "dbserver.remove", s.name, "failed", ap_dbserver_json(&s), NULL, &pb);
		return fail_pb(ctx, &pb);
	}
	ap_ctx_audit(ctx, "dbserver.remove", s.name, "ok", ap_ctx_json_text(ctx, ap_dbserver_json(&s)),
	    "{\"removed\":true}");
	if (ctx->req->wants_json)
		return 204;
	ap_ctx_flash(ctx, "ok", "The database server %s was removed.", s.name);
	return ap_ctx_back(ctx, "/database-servers");
}

/* ---------------------------------------------------------------- databases */

/* Each server's contents asked once per request (an array of {name, contents}). */
struct contents_cache {
	struct ap_sites_env *env;
	struct json_object *by_server; /* object: server name → contents or null */
};

static struct json_object *
contents_of(struct contents_cache *c, const struct ap_database *d)
{
	struct json_object *v = NULL;
	struct ap_dbserver s;
	struct ap_problem pb;

	if (json_object_object_get_ex(c->by_server, d->server, &v))
		return v;
	v = ap_dbserver_find(c->env, d->server, &s, &pb) == AP_OK ? ap_dbserver_contents(c->env, &s, &pb) : NULL;
	json_object_object_add(c->by_server, d->server, v);
	return v;
}

/* A database's row as the list shows it: ap_database_resource's members
 * (the server's own size and owner as it gave them) and unreachable; its
 * strings are the page's copies, as the servers'. */
struct db_view {
	int64_t id, site_id, created, updated;
	const char *server, *engine, *name, *user, *reader, *hosts, *charset, *site;
	struct json_object *size, *owner;
	bool unreachable;
};
static const struct ap_col db_cols[] = {
	AP_COL(struct db_view, id, AP_COL_INT),
	AP_COL(struct db_view, server, AP_COL_STR),
	AP_COL(struct db_view, engine, AP_COL_STR),
	AP_COL(struct db_view, name, AP_COL_STR),
	AP_COL(struct db_view, user, AP_COL_STR),
	AP_COL(struct db_view, reader, AP_COL_STR),
	AP_COL(struct db_view, hosts, AP_COL_STR),
	AP_COL(struct db_view, charset, AP_COL_STR),
	AP_COL(struct db_view, size, AP_COL_JSON),
	AP_COL(struct db_view, owner, AP_COL_JSON),
	AP_COL(struct db_view, site, AP_COL_STR),
	AP_COL(struct db_view, site_id, AP_COL_INTN),
	AP_COL(struct db_view, created, AP_COL_TIME),
	AP_COL(struct db_view, updated, AP_COL_TIME),
	AP_COL(struct db_view, unreachable, AP_COL_BOOL),
	AP_COL_END,
};

struct db_list {
	struct ap_ctx *ctx;
	struct contents_cache cache;
	struct json_object *arr;
	int64_t last;
	struct ap_database *rows; /* the page's databases: their servers are asked at once after */
	int64_t n;
};

static bool
db_row(void *p, const struct ap_database *d)
{
	struct db_list *l = p;

	l->rows[l->n++] = *d;
	l->last = d->id;
	return true;
}

/* Every server of the page's databases asked at once (64 at a time), then the rows. */
static void
db_rows(struct db_list *l)
{
	const char *names[64];
	size_t k = 0;

	for (int64_t i = 0; i <= l->n; i++) {
		if (i < l->n && !json_object_object_get_ex(l->cache.by_server, l->rows[i].server, NULL)) {
			bool dup = false;

			for (size_t j = 0; j < k; j++)
				dup = dup || strcmp(names[j], l->rows[i].server) == 0;
			if (!dup)
				names[k++] = l->rows[i].server;
		}
		if (k > 0 && (k == AP_NELEM(names) || i == l->n)) {
			struct json_object *c[64];

			ap_dbserver_contents_many(l->cache.env, names, k, c);
			for (size_t j = 0; j < k; j++)
				json_object_object_add(l->cache.by_server, names[j], c[j]);
			k = 0;
		}
	}
	for (int64_t i = 0; i < l->n; i++) {
		const struct ap_database *d = &l->rows[i];
		struct json_object *c = contents_of(&l->cache, d), *seen = on_server(c, d->name);
		struct db_view *v = ap_rows_add(l->arr);

		v->id = d->id;
		v->server = d->server;
		v->engine = d->engine;
		v->name = d->name;
		v->user = d->user;
		v->reader = d->reader[0] ? d->reader : NULL;
		v->hosts = d->hosts;
		v->charset = d->charset;
		v->size = member_ref(seen, "size");
		v->owner = member_ref(seen, "owner");
		v->site = d->site[0] ? d->site : NULL;
		v->site_id = d->site_id > 0 ? d->site_id : AP_ROWS_NULL;
		v->created = d->created_at;
		v->updated = d->updated_at;
		v->unreachable = c == NULL;
	}
}

/* The servers as the create form's options. */
static bool
opt_row(void *p, const struct ap_dbserver *s)
{
	struct json_object *arr = p, *o = json_object_new_object();

	ap_model_str(o, "name", s->name);
	ap_model_str(o, "engine", s->engine);
	json_object_array_add(arr, o);
	return true;
}

int
ap_page_databases(struct ap_ctx *ctx)
{
	struct ap_sites_env env = env_of(ctx);
	struct db_list l = { .ctx = ctx, .cache = { .env = &env, .by_server = json_object_new_object() },
		.arr = ap_rows_new(db_cols, sizeof(struct db_view)) };
	static const char *const kept[] = { "server", "name", "user", "charset", "collation", "encoding",
		"hosts", "site", "locale" };
	struct ap_problem pb;
	struct ap_page pg;
	bool more = false;

	ctx->title = ap_ctx_tr(ctx, "Databases");
	ap_ctx_page(ctx, &pg);
	l.rows = ap_arena_alloc(ctx->arena, sizeof(*l.rows) * (size_t)(pg.limit > 0 ? pg.limit : 1));
	if (ap_database_page(&env, 0, pg.cursor, pg.limit, db_row, &l, &more, &pb) != AP_OK) {
		json_object_put(l.arr);
		json_object_put(l.cache.by_server);
		return fail_pb(ctx, &pb);
	}
	db_rows(&l);
	json_object_put(l.cache.by_server);
	ap_ctx_page_done(ctx, "/databases", l.arr, more, l.last);
	if (!ctx->req->wants_json) {
		struct json_object *servers = json_object_new_array();

		ap_dbserver_each(&env, opt_row, servers, &pb);
		ap_model_add(ctx->model, "has_servers", json_object_new_boolean(json_object_array_length(servers) > 0));
		ap_model_add(ctx->model, "servers", servers);
		ap_model_add(ctx->model, "can_write", json_object_new_boolean(may(ctx, "databases.write")));
	}
	keep(ctx, kept, AP_NELEM(kept));
	return 200;
}

/* The database's newest imports and exports (dbhistory.h) as the page and the API show them. */
static struct json_object *
history_of(struct ap_ctx *ctx, const struct ap_database *d)
{
	struct ap_sites_env env = env_of(ctx);
	struct ap_dbhist_row rows[20];
	struct ap_problem pb;
	struct json_object *arr = json_object_new_array();
	int n = ap_dbio_history(&env, d, rows, (int)AP_NELEM(rows), &pb);

	for (int i = 0; i < n; i++) {
		const struct ap_dbhist_row *r = &rows[i];
		struct json_object *o = json_object_new_object();

		ap_model_add(o, "id", json_object_new_int64(r->id));
		ap_model_str(o, "kind", r->kind);
		ap_model_str(o, "format", r->format);
		ap_model_add(o, "job", r->job > 0 ? json_object_new_int64(r->job) : NULL);
		ap_model_str(o, "actor", r->actor);
		ap_model_add(o, "started", ap_model_time(r->started_at));
		ap_model_add(o, "finished", r->finished_at > 0 ? ap_model_time(r->finished_at) : NULL);
		ap_model_add(o, "size", r->size >= 0 ? json_object_new_int64(r->size) : NULL);
		ap_model_add(o, "sha256", r->sha256[0] ? json_object_new_string(r->sha256) : NULL);
		ap_model_str(o, "result", r->result);
		ap_model_add(o, "error", r->error[0] ? json_object_new_string(r->error) : NULL);
		if (!ctx->req->wants_json) {
			ap_model_add(o, "is_ok", json_object_new_boolean(strcmp(r->result, "ok") == 0));
			ap_model_add(o, "is_failed", json_object_new_boolean(strcmp(r->result, "failed") == 0));
			ap_model_add(o, "is_running", json_object_new_boolean(strcmp(r->result, "running") == 0));
			ap_model_add(o, "is_export", json_object_new_boolean(strcmp(r->kind, "export") == 0));
			ap_model_add(o, "job_path", r->job > 0 && strcmp(r->result, "running") == 0
				? json_object_new_string(ap_arena_printf(ctx->arena, "/databases/%lld/jobs/%lld",
				      (long long)d->id, (long long)r->job))
				: NULL);
		}
		json_object_array_add(arr, o);
	}
	return arr;
}

int
ap_page_database(struct ap_ctx *ctx)
{
	struct ap_sites_env env = env_of(ctx);
	struct json_object *c, *o;
	struct ap_dbserver s;
	struct ap_problem pb;
	struct ap_database d;

	if (ap_database_get(&env, ctx->fields[AP_ID].i, &d, &pb) != AP_OK)
		return fail_pb(ctx, &pb);
	ctx->title = ap_ctx_tr(ctx, "Database");
	/* Asked from a child of the helper's with its bound (database.lists), as the servers page
	 * asks: a server that does not answer costs about databases.connect_timeout_ms. */
	c = ap_dbserver_find(&env, d.server, &s, &pb) == AP_OK ? ap_dbserver_contents_bounded(&env, &s, &pb) : NULL;
	o = ap_database_resource(&d, c);
	ap_model_add(o, "unreachable", json_object_new_boolean(c == NULL));
	if (c == NULL && !ctx->req->wants_json)
		ap_model_str(o, "unreachable_reason", pb.reason);
	ap_model_add(o, "is_mysql", json_object_new_boolean(strcmp(d.engine, "mysql") == 0));
	json_object_put(c);
	ap_model_add(ctx->model, "database", o);
	{
		struct json_object *h = history_of(ctx, &d);

		if (!ctx->req->wants_json)
			ap_model_add(ctx->model, "has_history", json_object_new_boolean(json_object_array_length(h) > 0));
		ap_model_add(ctx->model, "history", h);
	}
	if (!ctx->req->wants_json)
		ap_model_add(ctx->model, "can_write", json_object_new_boolean(may(ctx, "databases.write")));
	{
		/* the read-only user's name and the typed name of a drop, after a refusal */
		static const char *const kept[] = { "user", "confirm_name" };

		keep(ctx, kept, AP_NELEM(kept));
	}
	return 200;
}

int
ap_page_database_create(struct ap_ctx *ctx)
{
	struct ap_sites_env env = env_of(ctx);
	const struct ap_fieldval *f = ctx->fields;
	struct ap_database_spec sp = {
		.server = f[DC_SERVER].s,
		.name = f[DC_NAME].s,
		.user = f[DC_USER].present ? f[DC_USER].s : NULL,
		.charset = f[DC_CHARSET].present ? charsets[f[DC_CHARSET].i] : NULL,
		.collation = f[DC_COLLATION].present ? f[DC_COLLATION].s : NULL,
		.encoding = f[DC_ENCODING].present ? encodings[f[DC_ENCODING].i] : NULL,
		/* An untouched form field is "": the default. */
		.hosts = f[DC_HOSTS].present && f[DC_HOSTS].len > 0 ? f[DC_HOSTS].s : NULL,
		.site = f[DC_SITE].present ? f[DC_SITE].s : NULL,
		.locale = f[DC_LOCALE].present && f[DC_LOCALE].len > 0 ? f[DC_LOCALE].s : NULL,
	};
	char password[AP_DB_PASSWORD_LEN];
	struct json_object *nd;
	struct ap_problem pb;
	struct ap_database d;

	if (ap_database_create(&env, &sp, &d, password, sizeof(password), &pb) != AP_OK) {
		audit(ctx, "database.create", sp.name, "failed", NULL, NULL, &pb);
		return fail_pb(ctx, &pb);
	}
	audit(ctx, "database.create", d.name, "ok", NULL, ap_database_json(&d), NULL);
	nd = json_object_new_object();
	ap_model_add(nd, "id", json_object_new_int64(d.id));
	ap_model_str(nd, "name", d.name);
	ap_model_str(nd, "server", d.server);
	ap_model_str(nd, "user", d.user);
	ap_model_str(nd, "password", password);
	explicit_bzero(password, sizeof(password));
	if (ctx->req->wants_json)
		return ap_ctx_answer(ctx, 201, nd);
	ap_ctx_flash(ctx, "ok", "The database %s and its user were created.", d.name);
	ap_ctx_flash_secret(ctx, "new_password", nd);
	return ap_ctx_back(ctx, ap_arena_printf(ctx->arena, "/databases/%lld", (long long)d.id));
}

int
ap_page_database_passwd(struct ap_ctx *ctx)
{
	struct ap_sites_env env = env_of(ctx);
	char password[AP_DB_PASSWORD_LEN];
	struct json_object *np;
	struct ap_problem pb;
	struct ap_database d;

	if (ap_database_get(&env, ctx->fields[AP_ID].i, &d, &pb) != AP_OK)
		return fail_pb(ctx, &pb);
	if (ap_database_passwd(&env, &d, password, sizeof(password), &pb) != AP_OK) {
		audit(ctx, "database.passwd", d.name, "failed", NULL, NULL, &pb);
		return fail_pb(ctx, &pb);
	}
	audit(ctx, "database.passwd", d.name, "ok", NULL, ap_database_json(&d), NULL);
	np = json_object_new_object();
	ap_model_add(np, "id", json_object_new_int64(d.id));
	ap_model_str(np, "user", d.user);
	ap_model_str(np, "password", password);
	explicit_bzero(password, sizeof(password));
	if (ctx->req->wants_json)
		return ap_ctx_answer(ctx, 200, np);
	ap_ctx_flash(ctx, "ok", "The user %s has a new password.", d.user);
	ap_ctx_flash_secret(ctx, "new_password", np);
	return ap_ctx_back(ctx, ap_arena_printf(ctx->arena, "/databases/%lld", (long long)d.id));
}

int
ap_page_database_reader(struct ap_ctx *ctx)
{
	struct ap_sites_env env = env_of(ctx);
	const struct ap_fieldval *f = ctx->fields;
	char password[AP_DB_PASSWORD_LEN], user[40];
	struct json_object *np;
	struct ap_problem pb;
	struct ap_database d, after;

	if (ap_database_get(&env, f[DU_ID].i, &d, &pb) != AP_OK)
		return fail_pb(ctx, &pb);
	if (f[DU_USER].present)
		snprintf(user, sizeof(user), "%s", f[DU_USER].s);
	else if (strlen(d.name) + 3 <= 32)
		snprintf(user, sizeof(user), "%s_ro", d.name);
	else
		return ap_ctx_fail(ctx, AP_PB_INVALID, "user", "is required for a name this long");
	if (ap_check_db_ident(user, strlen(user)) != NULL || strcmp(user, d.user) == 0)
		return ap_ctx_fail(ctx, AP_PB_INVALID, "user", "is a reserved name");
	if (ap_database_reader(&env, &d, user, &after, password, sizeof(password), &pb) != AP_OK) {
		audit(ctx, "database.reader", d.name, "failed", ap_database_json(&d), NULL, &pb);
		return fail_pb(ctx, &pb);
	}
	audit(ctx, "database.reader", d.name, "ok", ap_database_json(&d), ap_database_json(&after), NULL);
	np = json_object_new_object();
	ap_model_add(np, "id", json_object_new_int64(d.id));
	ap_model_str(np, "user", user);
	ap_model_str(np, "password", password);
	explicit_bzero(password, sizeof(password));
	if (ctx->req->wants_json)
		return ap_ctx_answer(ctx, 200, np);
	ap_ctx_flash(ctx, "ok", "The read-only user %s was created.", user);
	ap_ctx_flash_secret(ctx, "new_password", np);
	return ap_ctx_back(ctx, ap_arena_printf(ctx->arena, "/databases/%lld", (long long)d.id));
}

int
ap_page_database_link(struct ap_ctx *ctx)
{
	struct ap_sites_env env = env_of(ctx);
	const struct ap_fieldval *f = ctx->fields;
	struct ap_problem pb;
	struct ap_database d, after;

	if (ap_database_get(&env, f[DK_ID].i, &d, &pb) != AP_OK)
		return fail_pb(ctx, &pb);
	if (ap_database_link(&env, &d, f[DK_SITE].present ? f[DK_SITE].s : NULL, &after, &pb) != AP_OK) {
		audit(ctx, "database.link", d.name, "failed", ap_database_json(&d), NULL, &pb);
		return fail_pb(ctx, &pb);
	}
	audit(ctx, "database.link", d.name, "ok", ap_database_json(&d), ap_database_json(&after), NULL);
	if (!ctx->req->wants_json) {
		ap_ctx_flash(ctx, "ok", "The database %s was linked.", d.name);
		return ap_ctx_back(ctx, ap_arena_printf(ctx->arena, "/databases/%lld", (long long)d.id));
	}
	return ap_ctx_answer(ctx, 200, ap_database_resource(&after, NULL));
}

int
ap_page_database_remove(struct ap_ctx *ctx)
{
	struct ap_sites_env env = env_of(ctx);
	const struct ap_fieldval *f = ctx->fields;
	struct ap_problem pb;
	struct ap_database d;

	if (ap_database_get(&env, f[DR_ID].i, &d, &pb) != AP_OK)
		return fail_pb(ctx, &pb);
	if (ap_ctx_unconfirmed(ctx, "Drop the database %s and its user? Its data is lost for good.", d.name))
		return 200;
	if (!f[DR_CONFIRM].present || strcmp(f[DR_CONFIRM].s, d.name) != 0)
		return ap_ctx_fail(ctx, AP_PB_INVALID, "confirm_name", "type the database's name to drop it");
	if (ap_database_drop(&env, &d, &pb) != AP_OK) {
		audit(ctx, "database.drop", d.name, "failed", ap_database_json(&d), NULL, &pb);
		return fail_pb(ctx, &pb);
	}
	ap_ctx_audit(ctx, "database.drop", d.name, "ok", ap_ctx_json_text(ctx, ap_database_json(&d)),
	    "{\"dropped\":true}");
	if (ctx->req->wants_json)
		return 204;
	ap_ctx_flash(ctx, "ok", "The database %s was dropped.", d.name);
	return ap_ctx_back(ctx, "/databases");
}

/* The site page's list: the databases linked to it (owned array, never NULL). */
struct json_object *
ap_site_databases(struct ap_ctx *ctx, int64_t site_id)
{
	struct ap_sites_env env = env_of(ctx);
	struct db_list l = { .ctx = ctx, .cache = { .env = &env, .by_server = json_object_new_object() },
		.arr = ap_rows_new(db_cols, sizeof(struct db_view)) };
	struct ap_problem pb;
	bool more = false;

	l.rows = ap_arena_alloc(ctx->arena, sizeof(*l.rows) * 100);
	if (ap_database_page(&env, site_id, 0, 100, db_row, &l, &more, &pb) == AP_OK)
		db_rows(&l);
	json_object_put(l.cache.by_server);
	return l.arr;
}
