/*
 * backup_browse.c — a destination's snapshots, a snapshot's folders with
 * breadcrumbs, and one file downloaded from it (docs/backups.md, "Browse and
 * download"), in the browser and the API. Reading a snapshot is a helper job
 * (a slow remote never holds the helper), the file comes as a descriptor
 * streamed to the client (at most backups.download_max bytes).
 * Looking needs backups.read; downloading a file needs backups.admin (a
 * site's files hold its secrets, the panel's its accounts'); audited.
 *
 *   GET /backups/snapshots?dest=D[&kind=site|database|panel&target=T]
 *   GET /backups/snapshots/{snapshot}/tree?dest=D[&path=/…]
 *   GET /backups/snapshots/{snapshot}/file?dest=D&path=/…
 */
#include <stdio.h>
#include <string.h>

#include "aapanel/auth.h"
#include "aapanel/backups.h"
#include "aapanel/pages.h"
#include "aapanel/req.h"

static const char *const kinds[] = { "site", "database", "panel", NULL };

static const char *
check_target(const char *s, size_t n)
{
	if (n < 1 || n > 253)
		return "must be a site's domain or a database's name";
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
			s[i] == '-' || s[i] == '_'))
			return "must be a site's domain or a database's name";
	return NULL;
}

#define DEST_FIELD { .name = "dest", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE, \
	.max = 32, .check = ap_check_backup_dest_name, \
	.desc = "the destination's name (default: the first one, by name)" }
#define SNAP_FIELD { .name = "snapshot", .type = AP_FIELD_TEXT, .flags = AP_FIELD_PATH | \
	AP_FIELD_REQUIRED | AP_FIELD_SINGLELINE, .min = 6, .max = 64, \
	.check = ap_check_backup_snapshot, .desc = "the snapshot's id (8 to 64 hexadecimal digits)" }

enum { SL_DEST, SL_KIND, SL_TARGET, SL__MAX };
const struct ap_field ap_backup_snapshots_fields[SL__MAX + 1] = {
	[SL_DEST] = DEST_FIELD,
	[SL_KIND] = { .name = "kind", .type = AP_FIELD_ENUM, .choices = kinds,
	    .desc = "only the snapshots of this site, database or the panel (with target)" },
	[SL_TARGET] = { .name = "target", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE,
	    .max = 253, .check = check_target, .desc = "the site's domain or the database's name" },
	[SL__MAX] = AP_FIELD_END,
};

/* The path field last: a bad query field is a 400 before the snapshot's id is looked at. */
enum { ST_DEST, ST_PATH, ST_SNAPSHOT, ST__MAX };
const struct ap_field ap_backup_tree_fields[ST__MAX + 1] = {
	[ST_SNAPSHOT] = SNAP_FIELD,
	[ST_DEST] = DEST_FIELD,
	[ST_PATH] = { .name = "path", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE,
	    .max = 4096, .check = ap_check_backup_inner_path,
	    .desc = "a folder inside the snapshot, absolute (default /)" },
	[ST__MAX] = AP_FIELD_END,
};
/* dest, then the snapshot, then the required path: a bare URL with a bad id is a 404, a bad dest a 400. */
enum { FI_DEST, FI_SNAPSHOT, FI_PATH, FI__MAX };
const struct ap_field ap_backup_file_fields[FI__MAX + 1] = {
	[FI_DEST] = DEST_FIELD,
	[FI_SNAPSHOT] = SNAP_FIELD,
	[FI_PATH] = { .name = "path", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED |
	    AP_FIELD_SINGLELINE, .min = 1, .max = 4096, .check = ap_check_backup_inner_path,
	    .desc = "the file inside the snapshot, absolute" },
	[FI__MAX] = AP_FIELD_END,
};

static const struct ap_prop snap_props[] = {
	{ .name = "id", .type = AP_J_STRING },
	{ .name = "short_id", .type = AP_J_STRING },
	{ .name = "time", .type = AP_J_STRING, .desc = "when it was made (restic's RFC 3339 time)" },
	{ .name = "tags", .type = AP_J_ARRAY, .items = AP_J_STRING,
	    .desc = "site:DOMAIN, database:NAME or panel" },
	{ .name = "paths", .type = AP_J_ARRAY, .items = AP_J_STRING },
	AP_PROP_END,
};
static const struct ap_schema snap_schema = { .name = "BackupSnapshot",
	.desc = "a restic snapshot", .props = snap_props };
static const struct ap_prop snap_list_props[] = {
	{ .name = "dest", .type = AP_J_STRING },
	{ .name = "items", .type = AP_J_ARRAY, .of = &snap_schema, .desc = "oldest first" },
	{ .name = "next", .type = AP_J_STRING, .flags = AP_J_NULL, .desc = "always null: one page" },
	AP_PROP_END,
};
const struct ap_schema ap_backup_snapshot_list_schema = { .name = "BackupSnapshotList",
	.desc = "a destination's snapshots", .props = snap_list_props };

static const struct ap_prop entry_props[] = {
	{ .name = "name", .type = AP_J_STRING },
	{ .name = "type", .type = AP_J_STRING, .desc = "file, dir or symlink" },
	{ .name = "path", .type = AP_J_STRING, .desc = "absolute, inside the snapshot" },
	{ .name = "size", .type = AP_J_INT, .flags = AP_J_NULL },
	{ .name = "mtime", .type = AP_J_STRING, .flags = AP_J_NULL },
	AP_PROP_END,
};
static const struct ap_schema entry_schema = { .name = "BackupEntry",
	.desc = "a file or folder in a snapshot", .props = entry_props };
static const struct ap_prop tree_props[] = {
	{ .name = "dest", .type = AP_J_STRING },
	{ .name = "snapshot", .type = AP_J_STRING },
	{ .name = "path", .type = AP_J_STRING },
	{ .name = "parent", .type = AP_J_STRING, .flags = AP_J_NULL, .desc = "null at /" },
	{ .name = "items", .type = AP_J_ARRAY, .of = &entry_schema, .desc = "the folder's entries, folders first" },
	AP_PROP_END,
};
const struct ap_schema ap_backup_tree_schema = { .name = "BackupTree",
	.desc = "one folder of a snapshot", .props = tree_props };

static bool
allowed(struct ap_ctx *ctx, const char *perm)
{
	return ctx->user != NULL && ap_role_allows(ctx->user->role, perm) &&
	    (ctx->token_scope == NULL || ap_scope_allows(ctx->token_scope, perm));
}

/* A link to a page of a snapshot: PAGE?dest=D&path=P, every value URL-encoded. */
static const char *
snap_link(struct ap_ctx *ctx, const char *snap, const char *page, const char *dest, const char *path)
{
	struct ap_buf b = { 0 };
	const char *out;

	ap_buf_printf(&b, "/backups/snapshots/%s/%s?dest=", snap, page);
	ap_url_encode(&b, dest);
	if (path != NULL) {
		ap_buf_puts(&b, "&path=");
		ap_url_encode(&b, path);
	}
	out = ap_arena_strdup(ctx->arena, ap_buf_cstr(&b));
	ap_buf_free(&b);
	return out;
}

static bool
first_dest(void *p, const struct ap_backup_dest *d)
{
	char *out = p;

	if (out[0] == '\0')
		snprintf(out, 33, "%s", d->name);
	return false;
}

/* The dest field, or the first destination by name; NULL with a 400 naming dest when none. */
static const char *
dest_of(struct ap_ctx *ctx, const struct ap_sites_env *env, const struct ap_fieldval *f)
{
	char *name;
	struct ap_problem pb;

	if (f->present && f->len > 0)
		return f->s;
	name = ap_arena_alloc(ctx->arena, 33);
	name[0] = '\0';
	if (ap_backup_dest_list(env, first_dest, name, &pb) != AP_OK || name[0] == '\0')
		return NULL;
	return name;
}

static const char *
str_of(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) && v != NULL ? json_object_get_string(v) : NULL;
}

int
ap_page_backup_snapshots(struct ap_ctx *ctx)
{
	struct ap_sites_env env = ap_page_backup_env(ctx);
	const struct ap_fieldval *f = ctx->fields;
	const char *dest = dest_of(ctx, &env, &f[SL_DEST]), *tag = NULL;
	struct json_object *res = NULL, *list, *items;
	struct ap_problem pb;

	if (dest == NULL)
		return ap_ctx_fail(ctx, AP_PB_INVALID, "dest", "no destination yet: add one first");
	items = json_object_new_array();

	if (f[SL_KIND].present && strcmp(kinds[f[SL_KIND].i], "panel") == 0)
		tag = "panel";
	else if (f[SL_KIND].present) {
		if (!f[SL_TARGET].present || f[SL_TARGET].len == 0) {
			json_object_put(items);
			return ap_ctx_fail(ctx, AP_PB_INVALID, "target", "is required with kind site or database");
		}
		tag = ap_arena_printf(ctx->arena, "%s:%s", kinds[f[SL_KIND].i], f[SL_TARGET].s);
	}
	ctx->title = ap_ctx_tr(ctx, "Snapshots");
	env.job_wait_ms = 60000;
	if (ap_backup_snapshots(&env, dest, tag, &res, &pb) != AP_OK) {
		json_object_put(items);
		return ap_page_backup_fail(ctx, &pb);
	}
	if (json_object_object_get_ex(res, "snapshots", &list))
		for (size_t i = 0; i < json_object_array_length(list); i++) {
			struct json_object *s = json_object_array_get_idx(list, i), *o = json_object_new_object(), *v;
			const char *id = str_of(s, "id");

			if (id == NULL || ap_check_backup_snapshot(id, strlen(id)) != NULL) {
				json_object_put(o);
				continue;
			}
			ap_model_str(o, "id", id);
			ap_model_str(o, "short_id", str_of(s, "short_id") ? str_of(s, "short_id") : id);
			ap_model_str(o, "time", str_of(s, "time") ? str_of(s, "time") : "");
			ap_model_add(o, "tags", json_object_object_get_ex(s, "tags", &v) && v != NULL
			    ? json_object_get(v) : json_object_new_array());
			ap_model_add(o, "paths", json_object_object_get_ex(s, "paths", &v) && v != NULL
			    ? json_object_get(v) : json_object_new_array());
			if (!ctx->req->wants_json)
				ap_model_str(o, "href", snap_link(ctx, id, "tree", dest, NULL));
			json_object_array_add(items, o);
		}
	json_object_put(res);
	ap_model_str(ctx->model, "dest", dest);
	if (!ctx->req->wants_json)
		ap_model_add(ctx->model, "has_items", json_object_new_boolean(json_object_array_length(items) > 0));
	ap_model_add(ctx->model, "items", items);
	ap_model_add(ctx->model, "next", NULL);
	return 200;
}

static int
entry_cmp(const void *a, const void *b)
{
	struct json_object *x = *(struct json_object *const *)a, *y = *(struct json_object *const *)b;
	const char *tx = str_of(x, "type"), *ty = str_of(y, "type");
	bool dx = tx != NULL && strcmp(tx, "dir") == 0, dy = ty != NULL && strcmp(ty, "dir") == 0;

	if (dx != dy)
		return dx ? -1 : 1;
	return strcmp(str_of(x, "name") ? str_of(x, "name") : "", str_of(y, "name") ? str_of(y, "name") : "");
}

int
ap_page_backup_tree(struct ap_ctx *ctx)
{
	struct ap_sites_env env = ap_page_backup_env(ctx);
	const struct ap_fieldval *f = ctx->fields;
	const char *snap = f[ST_SNAPSHOT].s, *dest = dest_of(ctx, &env, &f[ST_DEST]);
	const char *path = f[ST_PATH].present && f[ST_PATH].len > 0 ? f[ST_PATH].s : "/";
	struct json_object *res = NULL, *list, *items, *crumbs;
	struct ap_problem pb;
	size_t plen;
	bool can_dl = allowed(ctx, "backups.admin");

	if (dest == NULL)
		return ap_ctx_fail(ctx, AP_PB_INVALID, "dest", "no destination yet: add one first");
	items = json_object_new_array();

	/* the folder without a trailing slash (but "/") */
	path = ap_arena_strdup(ctx->arena, path);
	plen = strlen(path);
	while (plen > 1 && path[plen - 1] == '/')
		((char *)path)[--plen] = '\0';
	ctx->title = ap_ctx_tr(ctx, "Snapshot");
	env.job_wait_ms = 60000;
	if (ap_backup_ls(&env, dest, snap, path, &res, &pb) != AP_OK) {
		json_object_put(items);
		return ap_page_backup_fail(ctx, &pb);
	}
	if (json_object_object_get_ex(res, "entries", &list))
		for (size_t i = 0; i < json_object_array_length(list); i++) {
			struct json_object *e = json_object_array_get_idx(list, i), *o, *v;
			const char *p = str_of(e, "path"), *name = str_of(e, "name"), *type = str_of(e, "type");
			const char *slash;

			/* restic lists the folder itself too: only its children */
			if (p == NULL || name == NULL || strcmp(p, path) == 0 ||
			    (slash = strrchr(p, '/')) == NULL ||
			    (size_t)(slash - p) != (plen == 1 ? 0 : plen) || strncmp(p, path, (size_t)(slash - p)) != 0)
				continue;
			o = json_object_new_object();
			ap_model_str(o, "name", name);
			ap_model_str(o, "type", type != NULL ? type : "file");
			ap_model_str(o, "path", p);
			ap_model_add(o, "size", json_object_object_get_ex(e, "size", &v) && v != NULL
			    ? json_object_new_int64(json_object_get_int64(v)) : NULL);
			ap_model_opt(o, "mtime", str_of(e, "mtime"));
			if (!ctx->req->wants_json) {
				bool dir = type != NULL && strcmp(type, "dir") == 0;

				ap_model_add(o, "is_dir", json_object_new_boolean(dir));
				if (dir)
					ap_model_str(o, "href", snap_link(ctx, snap, "tree", dest, p));
				else if (can_dl && type != NULL && strcmp(type, "file") == 0)
					ap_model_str(o, "download", snap_link(ctx, snap, "file", dest, p));
			}
			json_object_array_add(items, o);
		}
	json_object_put(res);
	json_object_array_sort(items, entry_cmp);
	ap_model_str(ctx->model, "dest", dest);
	ap_model_str(ctx->model, "snapshot", snap);
	ap_model_str(ctx->model, "path", path);
	if (plen > 1) {
		const char *slash = strrchr(path, '/');

		ap_model_str(ctx->model, "parent", slash == path ? "/" :
		    ap_arena_strndup(ctx->arena, path, (size_t)(slash - path)));
	} else
		ap_model_add(ctx->model, "parent", NULL);
	ap_model_add(ctx->model, "items", items);
	if (ctx->req->wants_json)
		return 200;
	/* breadcrumbs: / then each folder down to this one (names escaped by the template) */
	crumbs = json_object_new_array();
	{
		struct json_object *c = json_object_new_object();
		char *p = ap_arena_strdup(ctx->arena, path), *save = NULL, *seg;
		struct ap_buf acc = { 0 };

		ap_model_str(c, "name", "/");
		ap_model_str(c, "href", snap_link(ctx, snap, "tree", dest, "/"));
		json_object_array_add(crumbs, c);
		for (seg = strtok_r(p, "/", &save); seg != NULL; seg = strtok_r(NULL, "/", &save)) {
			ap_buf_putc(&acc, '/');
			ap_buf_puts(&acc, seg);
			c = json_object_new_object();
			ap_model_str(c, "name", seg);
			ap_model_str(c, "href", snap_link(ctx, snap, "tree", dest, ap_buf_cstr(&acc)));
			json_object_array_add(crumbs, c);
		}
		ap_buf_free(&acc);
	}
	ap_model_add(ctx->model, "crumbs", crumbs);
	ap_model_add(ctx->model, "has_items", json_object_new_boolean(json_object_array_length(items) > 0));
	ap_model_str(ctx->model, "snapshots_href", ap_arena_printf(ctx->arena, "/backups/snapshots?dest=%s", dest));
	ap_model_add(ctx->model, "can_download", json_object_new_boolean(can_dl));
	return 200;
}

int
ap_page_backup_file(struct ap_ctx *ctx)
{
	struct ap_sites_env env = ap_page_backup_env(ctx);
	const struct ap_fieldval *f = ctx->fields;
	const char *path = f[FI_PATH].s, *base = strrchr(path, '/');
	const char *dest = dest_of(ctx, &env, &f[FI_DEST]);
	struct json_object *a;
	struct ap_problem pb;
	struct ap_buf disp = { 0 };
	int64_t size = 0;
	int fd = -1;

	if (dest == NULL)
		return ap_ctx_fail(ctx, AP_PB_INVALID, "dest", "no destination yet: add one first");
	a = json_object_new_object();
	ap_model_str(a, "dest", dest);
	ap_model_str(a, "snapshot", f[FI_SNAPSHOT].s);
	ap_model_str(a, "path", path);
	env.job_wait_ms = 120000;
	if (ap_backup_dump(&env, dest, f[FI_SNAPSHOT].s, path, &fd, &size, &pb) != AP_OK) {
		ap_model_str(a, "reason", pb.reason);
		ap_ctx_audit(ctx, "backup.download", path, "failed", NULL, ap_ctx_json_text(ctx, a));
		return ap_page_backup_fail(ctx, &pb);
	}
	ap_model_add(a, "size", json_object_new_int64(size));
	ap_ctx_audit(ctx, "backup.download", path, "ok", NULL, ap_ctx_json_text(ctx, a));
	ctx->raw_from_fd = true;
	ctx->raw_fd = fd;
	ctx->raw_len = size;
	ctx->raw_type = "application/octet-stream";
	/* The name as an RFC 5987 parameter: any byte of it percent-encoded, nothing to escape. */
	ap_url_encode(&disp, base != NULL && base[1] ? base + 1 : "file");
	ap_ctx_header(ctx, "Content-Disposition",
	    ap_arena_printf(ctx->arena, "attachment; filename*=UTF-8''%s", ap_buf_cstr(&disp)));
	ap_buf_free(&disp);
	return 200;
}
