/*
 * files.c — a site's file manager (sites.read to browse and read, sites.write
 * to change; docs/files.md): the folder's listing (sort, search by name,
 * breadcrumbs), download and streamed upload, the text editor, create,
 * rename or move, copy, chmod, delete to the site's trash, restore, empty.
 * The data module (src/data/files.c) asks the helper, which opens every path
 * beneath the site's document root (openat2, RESOLVE_BENEATH) and passes the
 * descriptors; every change is audited, an executable type with its hash.
 * The admins' other roots (files.roots, /files/roots/{root}/…) go through the
 * same handlers and templates: a root is a site without a domain (site_of).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aapanel/auth.h"
#include "aapanel/files.h"
#include "aapanel/log.h"
#include "aapanel/pages.h"
#include "aapanel/sitecheck.h"

static const char *const sorts[] = { "name", "size", "mtime", NULL };
static const char *const eols[] = { "lf", "crlf", NULL };
static const char *const new_types[] = { "file", "dir", NULL };
static const char *const entry_types[] = { "file", "dir", "link", "other", NULL };

#define TRASH_LABEL ".aapanel-trash"

#define PATH_FIELD(flags_)                                                                      \
	{ .name = "path", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE | (flags_), .max = 4095, \
	    .desc = "relative to the site's document root (\"\" is the root itself); resolved beneath it by the kernel" }
#define SITE_FIELD                                                                              \
	{ .name = "id", .type = AP_FIELD_INT, .flags = AP_FIELD_PATH | AP_FIELD_REQUIRED, .min = 1,   \
	    .max = INT64_MAX }

/* 3 or 4 octal digits, no set-user-ID, set-group-ID or sticky bit. */
static const char *
mode_check(const char *s, size_t n)
{
	if (n < 3 || n > 4 || (n == 4 && s[0] != '0'))
		return N_("must be 3 octal digits, like 644 or 755");
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '7')
			return N_("must be 3 octal digits, like 644 or 755");
	return NULL;
}

/* A name made in a folder: one segment (no / or backslash), not . or .. */
static const char *
name_check(const char *s, size_t n)
{
	if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.') || memchr(s, '/', n) ||
	    memchr(s, '\\', n))
		return N_("must be one name, without / or backslashes, and not . or ..");
	return NULL;
}

/* The admins' other roots (files.roots): the same tables with the root's name for the site. */
#define ROOT_FIELD                                                                              \
	{ .name = "root", .type = AP_FIELD_TEXT, .flags = AP_FIELD_PATH | AP_FIELD_REQUIRED | AP_FIELD_SINGLELINE, \
	    .max = 32, .check = ap_check_file_root_name, .desc = "one of files.roots" }

enum { FL_ID, FL_PATH, FL_SORT, FL_DESC, FL_SEARCH, FL__MAX };
const struct ap_field ap_files_list_fields[FL__MAX + 1] = {
	[FL_ID] = SITE_FIELD,
	[FL_PATH] = PATH_FIELD(0),
	[FL_SORT] = { .name = "sort", .type = AP_FIELD_ENUM, .choices = sorts, .desc = "the order (folders first)" },
	[FL_DESC] = { .name = "desc", .type = AP_FIELD_BOOL, .desc = "largest, newest or Z first" },
	[FL_SEARCH] = { .name = "search", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE, .max = 255,
	    .desc = "only names containing this (any case)" },
	[FL__MAX] = AP_FIELD_END,
};

enum { FP_ID, FP_PATH, FP_OVERWRITE, FP__MAX };
const struct ap_field ap_files_path_fields[FP__MAX + 1] = {
	[FP_ID] = SITE_FIELD,
	[FP_PATH] = PATH_FIELD(AP_FIELD_REQUIRED),
	[FP_OVERWRITE] = { .name = "overwrite", .type = AP_FIELD_BOOL,
	    .desc = "replace a file that exists (else 409)" },
	[FP__MAX] = AP_FIELD_END,
};

/* The editor: a file's path, or none for a new text file. */
const struct ap_field ap_files_edit_fields[FP__MAX + 1] = {
	[FP_ID] = SITE_FIELD,
	[FP_PATH] = PATH_FIELD(0),
	[FP_OVERWRITE] = { .name = "overwrite", .type = AP_FIELD_BOOL, .desc = "unused here" },
	[FP__MAX] = AP_FIELD_END,
};

enum { FS_ID, FS_PATH, FS_CONTENT, FS_EOL, FS__MAX };
const struct ap_field ap_files_save_fields[FS__MAX + 1] = {
	[FS_ID] = SITE_FIELD,
	[FS_PATH] = PATH_FIELD(AP_FIELD_REQUIRED),
	[FS_CONTENT] = { .name = "content", .type = AP_FIELD_TEXT, .max = 16777216,
	    .desc = "the whole text, UTF-8" },
	[FS_EOL] = { .name = "eol", .type = AP_FIELD_ENUM, .choices = eols,
	    .desc = "line endings to write (the file's, as the editor read them; default lf)" },
	[FS__MAX] = AP_FIELD_END,
};

const struct ap_field ap_roots_list_fields[FL__MAX + 1] = {
	[FL_ID] = ROOT_FIELD,
	[FL_PATH] = PATH_FIELD(0),
	[FL_SORT] = { .name = "sort", .type = AP_FIELD_ENUM, .choices = sorts, .desc = "the order (folders first)" },
	[FL_DESC] = { .name = "desc", .type = AP_FIELD_BOOL, .desc = "largest, newest or Z first" },
	[FL_SEARCH] = { .name = "search", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE, .max = 255,
	    .desc = "only names containing this (any case)" },
	[FL__MAX] = AP_FIELD_END,
};
const struct ap_field ap_roots_path_fields[FP__MAX + 1] = {
	[FP_ID] = ROOT_FIELD,
	[FP_PATH] = PATH_FIELD(AP_FIELD_REQUIRED),
	[FP_OVERWRITE] = { .name = "overwrite", .type = AP_FIELD_BOOL,
	    .desc = "replace a file that exists (else 409)" },
	[FP__MAX] = AP_FIELD_END,
};
const struct ap_field ap_roots_edit_fields[FP__MAX + 1] = {
	[FP_ID] = ROOT_FIELD,
	[FP_PATH] = PATH_FIELD(0),
	[FP_OVERWRITE] = { .name = "overwrite", .type = AP_FIELD_BOOL, .desc = "unused here" },
	[FP__MAX] = AP_FIELD_END,
};
const struct ap_field ap_roots_save_fields[FS__MAX + 1] = {
	[FS_ID] = ROOT_FIELD,
	[FS_PATH] = PATH_FIELD(AP_FIELD_REQUIRED),
	[FS_CONTENT] = { .name = "content", .type = AP_FIELD_TEXT, .max = 16777216,
	    .desc = "the whole text, UTF-8" },
	[FS_EOL] = { .name = "eol", .type = AP_FIELD_ENUM, .choices = eols,
	    .desc = "line endings to write (the file's, as the editor read them; default lf)" },
	[FS__MAX] = AP_FIELD_END,
};


enum { FC_ID, FC_PATH, FC_NAME, FC_TYPE, FC__MAX };
const struct ap_field ap_files_create_fields[FC__MAX + 1] = {
	[FC_ID] = SITE_FIELD,
	[FC_PATH] = PATH_FIELD(0),
	[FC_NAME] = { .name = "name", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED | AP_FIELD_SINGLELINE,
	    .min = 1, .max = 255, .check = name_check, .desc = "the new file's or folder's name, in the folder path" },
	[FC_TYPE] = { .name = "type", .type = AP_FIELD_ENUM, .flags = AP_FIELD_REQUIRED, .choices = new_types },
	[FC__MAX] = AP_FIELD_END,
};

enum { FM_ID, FM_PATH, FM_TO, FM__MAX };
const struct ap_field ap_files_move_fields[FM__MAX + 1] = {
	[FM_ID] = SITE_FIELD,
	[FM_PATH] = PATH_FIELD(AP_FIELD_REQUIRED),
	[FM_TO] = { .name = "to", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED | AP_FIELD_SINGLELINE,
	    .max = 4095, .desc = "the new path, relative to the document root (it must not exist)" },
	[FM__MAX] = AP_FIELD_END,
};

static const char *const formats[] = { "zip", "tar.gz", "tar.xz", "tar", NULL };
enum { FA_ID, FA_PATH, FA_TO, FA_FORMAT, FA__MAX };
const struct ap_field ap_files_archive_fields[FA__MAX + 1] = {
	[FA_ID] = SITE_FIELD,
	[FA_PATH] = PATH_FIELD(AP_FIELD_REQUIRED),
	[FA_TO] = { .name = "to", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED | AP_FIELD_SINGLELINE,
	    .max = 4095, .desc = "the new folder (extract) or archive (archive), relative to the document root" },
	[FA_FORMAT] = { .name = "format", .type = AP_FIELD_ENUM, .choices = formats,
	    .desc = "archive: zip (default), tar.gz, tar.xz or tar; extract reads any of them" },
	[FA__MAX] = AP_FIELD_END,
};

/* GET .../files/archive: a file or folder downloaded as an archive made on the way. */
enum { FD_ID, FD_PATH, FD_FORMAT, FD__MAX };
const struct ap_field ap_files_pack_fields[FD__MAX + 1] = {
	[FD_ID] = SITE_FIELD,
	[FD_PATH] = PATH_FIELD(0),
	[FD_FORMAT] = { .name = "format", .type = AP_FIELD_ENUM, .choices = formats,
	    .desc = "zip (default), tar.gz, tar.xz or tar" },
	[FD__MAX] = AP_FIELD_END,
};

enum { FX_ID, FX_PATH, FX_MODE, FX__MAX };
const struct ap_field ap_files_chmod_fields[FX__MAX + 1] = {
	[FX_ID] = SITE_FIELD,
	[FX_PATH] = PATH_FIELD(AP_FIELD_REQUIRED),
	[FX_MODE] = { .name = "mode", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED | AP_FIELD_SINGLELINE,
	    .min = 3, .max = 4, .check = mode_check, .desc = "octal, like 644" },
	[FX__MAX] = AP_FIELD_END,
};

static const char *const owners[] = { "site", "site-web", NULL };
enum { FO_ID, FO_PATH, FO_OWNER, FO_RECURSIVE, FO__MAX };
const struct ap_field ap_files_chown_fields[FO__MAX + 1] = {
	[FO_ID] = SITE_FIELD,
	[FO_PATH] = PATH_FIELD(AP_FIELD_REQUIRED),
	[FO_OWNER] = { .name = "owner", .type = AP_FIELD_ENUM, .flags = AP_FIELD_REQUIRED, .choices = owners,
	    .desc = "site: the site's system user and its group; site-web: that user with nginx's group" },
	[FO_RECURSIVE] = { .name = "recursive", .type = AP_FIELD_BOOL,
	    .desc = "a folder and everything in it (a helper job; links changed, never followed)" },
	[FO__MAX] = AP_FIELD_END,
};

enum { FR_ID, FR_ENTRY, FR__MAX };
const struct ap_field ap_files_restore_fields[FR__MAX + 1] = {
	[FR_ID] = SITE_FIELD,
	[FR_ENTRY] = { .name = "entry", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED | AP_FIELD_SINGLELINE,
	    .min = 17, .max = 17, .desc = "the trash entry's id" },
	[FR__MAX] = AP_FIELD_END,
};

/* GET /sites/{id}/files/jobs/{job}: a copy, recursive chown or archive job still running. */
enum { FJ_ID, FJ_JOB, FJ_PATH, FJ__MAX };
const struct ap_field ap_files_job_fields[FJ__MAX + 1] = {
	[FJ_ID] = SITE_FIELD,
	[FJ_JOB] = { .name = "job", .type = AP_FIELD_INT, .flags = AP_FIELD_PATH | AP_FIELD_REQUIRED, .min = 1,
	    .max = INT64_MAX },
	[FJ_PATH] = { .name = "path", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE, .max = 4095,
	    .desc = "the folder the page links back to (relative to the document root)" },
	[FJ__MAX] = AP_FIELD_END,
};

/* The same forms on the admins' other roots: {root} for {id}, every index the same. */
const struct ap_field ap_roots_create_fields[FC__MAX + 1] = {
	[FC_ID] = ROOT_FIELD,
	[FC_PATH] = PATH_FIELD(0),
	[FC_NAME] = { .name = "name", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED | AP_FIELD_SINGLELINE,
	    .min = 1, .max = 255, .check = name_check, .desc = "the new file's or folder's name, in the folder path" },
	[FC_TYPE] = { .name = "type", .type = AP_FIELD_ENUM, .flags = AP_FIELD_REQUIRED, .choices = new_types },
	[FC__MAX] = AP_FIELD_END,
};
const struct ap_field ap_roots_move_fields[FM__MAX + 1] = {
	[FM_ID] = ROOT_FIELD,
	[FM_PATH] = PATH_FIELD(AP_FIELD_REQUIRED),
	[FM_TO] = { .name = "to", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED | AP_FIELD_SINGLELINE,
	    .max = 4095, .desc = "the new path, relative to the root (it must not exist)" },
	[FM__MAX] = AP_FIELD_END,
};
const struct ap_field ap_roots_archive_fields[FA__MAX + 1] = {
	[FA_ID] = ROOT_FIELD,
	[FA_PATH] = PATH_FIELD(AP_FIELD_REQUIRED),
	[FA_TO] = { .name = "to", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED | AP_FIELD_SINGLELINE,
	    .max = 4095, .desc = "the new folder (extract) or archive (archive), relative to the root" },
	[FA_FORMAT] = { .name = "format", .type = AP_FIELD_ENUM, .choices = formats,
	    .desc = "archive: zip (default), tar.gz, tar.xz or tar; extract reads any of them" },
	[FA__MAX] = AP_FIELD_END,
};
const struct ap_field ap_roots_pack_fields[FD__MAX + 1] = {
	[FD_ID] = ROOT_FIELD,
	[FD_PATH] = PATH_FIELD(0),
	[FD_FORMAT] = { .name = "format", .type = AP_FIELD_ENUM, .choices = formats,
	    .desc = "zip (default), tar.gz, tar.xz or tar" },
	[FD__MAX] = AP_FIELD_END,
};
const struct ap_field ap_roots_chmod_fields[FX__MAX + 1] = {
	[FX_ID] = ROOT_FIELD,
	[FX_PATH] = PATH_FIELD(AP_FIELD_REQUIRED),
	[FX_MODE] = { .name = "mode", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED | AP_FIELD_SINGLELINE,
	    .min = 3, .max = 4, .check = mode_check, .desc = "octal, like 644" },
	[FX__MAX] = AP_FIELD_END,
};
const struct ap_field ap_roots_restore_fields[FR__MAX + 1] = {
	[FR_ID] = ROOT_FIELD,
	[FR_ENTRY] = { .name = "entry", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED | AP_FIELD_SINGLELINE,
	    .min = 17, .max = 17, .desc = "the trash entry's id" },
	[FR__MAX] = AP_FIELD_END,
};
const struct ap_field ap_roots_job_fields[FJ__MAX + 1] = {
	[FJ_ID] = ROOT_FIELD,
	[FJ_JOB] = { .name = "job", .type = AP_FIELD_INT, .flags = AP_FIELD_PATH | AP_FIELD_REQUIRED, .min = 1,
	    .max = INT64_MAX },
	[FJ_PATH] = { .name = "path", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE, .max = 4095,
	    .desc = "the folder the page links back to (relative to the root)" },
	[FJ__MAX] = AP_FIELD_END,
};
const struct ap_field ap_roots_name_fields[2] = {
	ROOT_FIELD,
	AP_FIELD_END,
};

/* ---- resources -------------------------------------------------------- */

static const char *const job_states[] = { "queued", "running", "done", "failed", "timeout", "cancelled", NULL };
static const char *const job_kinds[] = { "copy", "chown", "extract", "archive", NULL };

static const struct ap_prop job_result_props[] = {
	{ .name = "entries", .type = AP_J_INT, .flags = AP_J_OPT, .desc = "files and folders copied, changed, unpacked or packed" },
	{ .name = "skipped", .type = AP_J_INT, .flags = AP_J_OPT, .desc = "a recursive chown: entries left as they were" },
	{ .name = "size", .type = AP_J_INT, .flags = AP_J_OPT, .desc = "bytes written (extract, archive)" },
	{ .name = "total", .type = AP_J_INT, .flags = AP_J_OPT,
	    .desc = "a cancelled recursive chown: the entries it had to change (entries: those changed)" },
	{ .name = "to", .type = AP_J_STRING, .flags = AP_J_OPT, .desc = "a cancelled copy: the copy it was making" },
	{ .name = "removed", .type = AP_J_BOOL, .flags = AP_J_OPT,
	    .desc = "a cancelled copy: true when what it had made of `to` was removed" },
	AP_PROP_END,
};
static const struct ap_schema job_result_schema = { .name = "FileJobResult",
	.desc = "what a finished files job did", .props = job_result_props };

static const struct ap_prop job_props[] = {
	{ .name = "id", .type = AP_J_INT, .desc = "the helper's job (kept an hour after it ends)" },
	{ .name = "kind", .type = AP_J_STRING, .choices = job_kinds },
	{ .name = "state", .type = AP_J_STRING, .choices = job_states },
	{ .name = "progress", .type = AP_J_INT, .desc = "percent, by the entries done" },
	{ .name = "error", .type = AP_J_STRING, .flags = AP_J_NULL, .desc = "why it failed" },
	{ .name = "result", .type = AP_J_OBJECT, .of = &job_result_schema, .flags = AP_J_NULL },
	{ .name = "site", .type = AP_J_INT, .desc = "0 for a job of an admins' root" },
	{ .name = "root", .type = AP_J_STRING, .flags = AP_J_OPT, .desc = "the admins' root (files.roots) of the job" },
	{ .name = "url", .type = AP_J_STRING, .desc = "the job's resource (under /api/v1, or the panel's base)" },
	AP_PROP_END,
};
static const struct ap_schema job_schema = { .name = "FileJob",
	.desc = "a copy, recursive chown, extraction or packing of a site's files, as a helper job", .props = job_props };
static const struct ap_prop job_detail_props[] = {
	{ .name = "job", .type = AP_J_OBJECT, .of = &job_schema },
	AP_PROP_END,
};
const struct ap_schema ap_files_job_schema = { .name = "FileJobDetail",
	.desc = "a files job as its page shows it", .props = job_detail_props };

static const struct ap_prop entry_props[] = {
	{ .name = "name", .type = AP_J_STRING },
	{ .name = "type", .type = AP_J_STRING, .choices = entry_types },
	{ .name = "size", .type = AP_J_INT, .desc = "bytes" },
	{ .name = "modified", .type = AP_J_TIME },
	{ .name = "mode", .type = AP_J_STRING, .desc = "octal permissions, like 644" },
	{ .name = "target", .type = AP_J_STRING, .flags = AP_J_NULL, .desc = "what a symbolic link points to" },
	AP_PROP_END,
};
static const struct ap_schema entry_schema = { .name = "FileEntry", .desc = "a file or folder", .props = entry_props };

static const struct ap_prop list_props[] = {
	{ .name = "site", .type = AP_J_INT },
	{ .name = "path", .type = AP_J_STRING, .desc = "the folder, relative to the document root" },
	{ .name = "items", .type = AP_J_ARRAY, .of = &entry_schema, .desc = "folders first, then by the sort" },
	{ .name = "total", .type = AP_J_INT, .desc = "entries matching (items holds the first 2000)" },
	{ .name = "truncated", .type = AP_J_BOOL },
	AP_PROP_END,
};
const struct ap_schema ap_files_list_schema = { .name = "FileList", .desc = "a folder of a site", .props = list_props };

static const struct ap_prop text_props[] = {
	{ .name = "path", .type = AP_J_STRING },
	{ .name = "content", .type = AP_J_STRING, .desc = "the text, as it is on disk" },
	{ .name = "eol", .type = AP_J_STRING, .choices = eols, .desc = "its line endings" },
	{ .name = "size", .type = AP_J_INT },
	AP_PROP_END,
};
const struct ap_schema ap_files_text_schema = { .name = "FileText", .desc = "a text file for editing", .props = text_props };

static const struct ap_prop change_props[] = {
	{ .name = "path", .type = AP_J_STRING, .desc = "what is there now" },
	{ .name = "size", .type = AP_J_INT, .flags = AP_J_NULL },
	{ .name = "sha256", .type = AP_J_STRING, .flags = AP_J_NULL,
	    .desc = "the written file's hash (uploads and saves)" },
	{ .name = "trash_entry", .type = AP_J_STRING, .flags = AP_J_NULL, .desc = "a deletion's entry in the trash" },
	{ .name = "job", .type = AP_J_OBJECT, .of = &job_schema, .flags = AP_J_OPT,
	    .desc = "a copy, recursive chown or archive still running after files.job_wait_ms (the answer is 202)" },
	AP_PROP_END,
};
const struct ap_schema ap_files_change_schema = { .name = "FileChange", .desc = "the result of a change", .props = change_props };

static const struct ap_prop trash_entry_props[] = {
	{ .name = "id", .type = AP_J_STRING },
	{ .name = "path", .type = AP_J_STRING, .desc = "where it was" },
	{ .name = "type", .type = AP_J_STRING, .choices = entry_types },
	{ .name = "size", .type = AP_J_INT },
	{ .name = "deleted", .type = AP_J_TIME },
	AP_PROP_END,
};
static const struct ap_schema trash_entry_schema = { .name = "TrashEntry", .props = trash_entry_props };
static const struct ap_prop trash_props[] = {
	{ .name = "site", .type = AP_J_INT, .desc = "0 for an admins' root" },
	{ .name = "root", .type = AP_J_STRING, .flags = AP_J_OPT, .desc = "the admins' root (files.roots)" },
	{ .name = "items", .type = AP_J_ARRAY, .of = &trash_entry_schema, .desc = "what was deleted" },
	AP_PROP_END,
};
const struct ap_schema ap_files_trash_schema = { .name = "Trash", .desc = "a site's trash", .props = trash_props };

/* ---- shared ----------------------------------------------------------- */

static struct ap_helper_client *H_client;

static struct ap_sites_env
env_of(struct ap_ctx *ctx)
{
	const struct ap_config *c = ctx->app->cfg;
	struct ap_sites_env e = { .db = ctx->db, .cfg = c };

	if (H_client == NULL)
		H_client = ap_helper_client_new(c->helper_socket, c->helper_timeout_ms, 4 << 20);
	e.helper = H_client;
	return e;
}

/* A route of the admins' other roots (/files/roots/{root}…) rather than a site's. */
static bool
on_root(const struct ap_ctx *ctx)
{
	return ctx->route != NULL && strncmp(ctx->route->pattern, "/files/roots/", 13) == 0;
}

static bool
can_write(struct ap_ctx *ctx)
{
	const char *perm = on_root(ctx) ? "roots.write" : "sites.write";

	return ctx->user != NULL && ap_role_allows(ctx->user->role, perm) &&
	    (ctx->token_scope == NULL || ap_scope_allows(ctx->token_scope, perm));
}

/*
 * The site of {id}: 0, or the status answered. On the roots' routes: the
 * root {name} of files.roots as a site without a domain (id 0, its name in
 * spec.root): the helper opens it by name, every path beneath it as for a site.
 */
static int
site_of(struct ap_ctx *ctx, struct ap_sites_env *env, struct ap_site *s)
{
	struct ap_problem pb;

	*env = env_of(ctx);
	if (on_root(ctx)) {
		char path[1100];

		memset(s, 0, sizeof(*s));
		if (!ap_file_root_find(ctx->app->cfg->files_roots, ctx->fields[0].s, path, sizeof(path)))
			return ap_ctx_fail(ctx, AP_PB_NOT_FOUND, "root", "is not one of files.roots");
		snprintf(s->spec.root, sizeof(s->spec.root), "%s", ctx->fields[0].s);
		s->spec.kind = AP_SITE_PHP;
		return 0;
	}
	if (ap_site_get(env, ctx->fields[0].i, s, &pb) != AP_OK)
		return ap_ctx_problem(ctx, &pb);
	return 0;
}

static const char *
str_of(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

static int64_t
int_of(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

/* The folder that holds path ("" for the root). Arena. */
static const char *
parent_of(struct ap_ctx *ctx, const char *path)
{
	char *p = ap_arena_strdup(ctx->arena, path != NULL ? path : "");
	size_t n = strlen(p);
	char *slash;

	while (n > 0 && p[n - 1] == '/')
		p[--n] = '\0';
	slash = strrchr(p, '/');
	if (slash == NULL)
		return "";
	*slash = '\0';
	return p;
}

/* "<domain>:<path>": the audit target. */
static const char *
target_of(struct ap_ctx *ctx, const struct ap_site *s, const char *path)
{
	if (s->spec.domain[0] == '\0')
		return ap_arena_printf(ctx->arena, "root %s:%s", s->spec.root, path != NULL && path[0] ? path : ".");
	return ap_arena_printf(ctx->arena, "%s:%s", s->spec.domain, path != NULL && path[0] ? path : ".");
}

static void
audit(struct ap_ctx *ctx, const struct ap_site *s, const char *action, const char *path,
    const char *outcome, struct json_object *before, struct json_object *after,
    const struct ap_problem *pb)
{
	if (after == NULL && pb != NULL) {
		after = json_object_new_object();
		ap_model_str(after, "error", ap_pb_name(pb->code));
		ap_model_str(after, "field", pb->field);
		ap_model_str(after, "reason", pb->reason);
	}
	ap_ctx_audit(ctx, action, target_of(ctx, s, path), outcome,
	    before ? ap_ctx_json_text(ctx, before) : NULL, after ? ap_ctx_json_text(ctx, after) : NULL);
}

/* Where a site's or a root's file pages are: /sites/{id}/files or /files/roots/{root}. Arena. */
static const char *
files_base(struct ap_ctx *ctx, const struct ap_site *s)
{
	if (s->spec.domain[0] == '\0')
		return ap_arena_printf(ctx->arena, "/files/roots/%s", s->spec.root);
	return ap_arena_printf(ctx->arena, "/sites/%lld/files", (long long)s->id);
}

/* What the shared templates need to tell a site from a root: fbase, place, root. */
static void
place_model(struct ap_ctx *ctx, const struct ap_site *s)
{
	ap_model_add(ctx->model, "site", json_object_new_int64(s->id));
	ap_model_str(ctx->model, "domain", s->spec.domain);
	ap_model_str(ctx->model, "fbase", files_base(ctx, s));
	ap_model_str(ctx->model, "place", s->spec.domain[0] ? s->spec.domain : s->spec.root);
	if (s->spec.domain[0] == '\0')
		ap_model_str(ctx->model, "root", s->spec.root);
}

/* The list's link for folder dir (a browser goes back there after a change). */
static const char *
folder_link(struct ap_ctx *ctx, const struct ap_site *s, const char *dir)
{
	struct ap_buf b = { 0 };
	const char *l;

	ap_url_encode(&b, dir != NULL ? dir : "");
	l = ap_arena_printf(ctx->arena, "%s?path=%s", files_base(ctx, s), ap_buf_cstr(&b));
	ap_buf_free(&b);
	return l;
}

static struct json_object *
change(const char *path, struct json_object *res, const char *sha, const char *trash)
{
	struct json_object *o = json_object_new_object();

	ap_model_str(o, "path", path);
	ap_model_add(o, "size", res != NULL && json_object_object_get_ex(res, "size", NULL)
		? json_object_new_int64(int_of(res, "size")) : NULL);
	ap_model_opt(o, "sha256", sha);
	ap_model_opt(o, "trash_entry", trash);
	return o;
}

/* A change done: a browser goes back to the folder with a message, an API client gets the change. */
static int
changed(struct ap_ctx *ctx, const struct ap_site *s, const char *dir, struct json_object *c)
{
	if (!ctx->req->wants_json) {
		json_object_put(c);
		return ap_ctx_back(ctx, folder_link(ctx, s, dir));
	}
	return ap_ctx_answer(ctx, 200, c);
}

static int
refused(struct ap_ctx *ctx, const struct ap_site *s, const char *action, const char *path,
    const struct ap_problem *pb)
{
	audit(ctx, s, action, path, "failed", NULL, NULL, pb);
	return ap_ctx_problem(ctx, pb);
}

/* ---- jobs: a copy, a recursive chown, an extraction, a packing ------------- */

/* The job's link (its page; its resource under /api/v1), back to folder dir. Arena. */
static const char *
job_link(struct ap_ctx *ctx, const struct ap_site *s, int64_t job, const char *dir)
{
	struct ap_buf b = { 0 };
	const char *l;

	ap_url_encode(&b, dir != NULL ? dir : "");
	l = ap_arena_printf(ctx->arena, "%s/jobs/%lld%s%s", files_base(ctx, s), (long long)job,
	    dir != NULL && dir[0] ? "?path=" : "", ap_buf_cstr(&b));
	ap_buf_free(&b);
	return l;
}

/* The FileJob resource from ap_files_job_get's state (taken). */
static struct json_object *
job_resource(struct ap_ctx *ctx, const struct ap_site *s, struct json_object *st, const char *dir)
{
	ap_model_add(st, "site", json_object_new_int64(s->id));
	if (s->spec.domain[0] == '\0')
		ap_model_str(st, "root", s->spec.root);
	ap_model_str(st, "url", job_link(ctx, s, int_of(st, "id"), dir));
	return st;
}

/* op as a job, waited for files.job_wait_ms: see ap_files_job_start (*job set when it still runs). */
static enum ap_err
run_job(struct ap_ctx *ctx, struct ap_sites_env *env, const struct ap_site *s, const char *op,
    struct json_object *args, struct json_object **res, int64_t *job, struct ap_problem *pb)
{
	return ap_files_job_start(env, s, op, args, ctx->app->cfg->files_job_wait_ms, res, job, pb);
}

/*
 * A job still running (audited as started with its id): a browser goes to
 * its page (which links back to dir), an API client gets 202 with the
 * change so far and the job.
 */
static int
job_started(struct ap_ctx *ctx, struct ap_sites_env *env, const struct ap_site *s, const char *action,
    const char *path, struct json_object *args, int64_t job, const char *dir, const char *shown)
{
	struct json_object *after = json_object_get(args), *st = NULL, *c;
	struct ap_problem pb;

	ap_model_add(after, "job", json_object_new_int64(job));
	ap_model_str(after, "state", "running");
	audit(ctx, s, action, path, "ok", NULL, after, NULL);
	if (!ctx->req->wants_json)
		return ap_ctx_back(ctx, job_link(ctx, s, job, dir));
	if (ap_files_job_get(env, s, job, &st, &pb) != AP_OK)
		return ap_ctx_problem(ctx, &pb);
	c = change(shown, NULL, NULL, NULL);
	ap_model_add(c, "job", job_resource(ctx, s, st, dir));
	return ap_ctx_answer(ctx, 202, c);
}

int
ap_page_files_job(struct ap_ctx *ctx)
{
	const struct ap_fieldval *f = ctx->fields;
	const char *dir = f[FJ_PATH].present ? f[FJ_PATH].s : "";
	struct json_object *st = NULL, *o;
	struct ap_sites_env env;
	struct ap_problem pb;
	struct ap_site s;
	const char *state, *kind;
	int rc;

	if ((rc = site_of(ctx, &env, &s)) != 0)
		return rc;
	if (ap_files_job_get(&env, &s, f[FJ_JOB].i, &st, &pb) != AP_OK)
		return ap_ctx_problem(ctx, &pb);
	o = job_resource(ctx, &s, st, dir);
	if (ctx->req->wants_json) {
		ap_model_add(ctx->model, "job", o);
		return 200;
	}
	state = ap_arena_strdup(ctx->arena, str_of(o, "state") ? str_of(o, "state") : "");
	kind = ap_arena_strdup(ctx->arena, str_of(o, "kind") ? str_of(o, "kind") : "");
	ctx->title = ap_ctx_tr(ctx, "Files");
	ap_model_add(o, "is_running", json_object_new_boolean(strcmp(state, "queued") == 0 ||
	    strcmp(state, "running") == 0));
	ap_model_add(o, "is_done", json_object_new_boolean(strcmp(state, "done") == 0));
	ap_model_add(o, "is_cancelled", json_object_new_boolean(strcmp(state, "cancelled") == 0));
	ap_model_add(ctx->model, "can_write", json_object_new_boolean(can_write(ctx)));
	ap_model_add(o, "is_copy", json_object_new_boolean(strcmp(kind, "copy") == 0));
	ap_model_add(o, "is_chown", json_object_new_boolean(strcmp(kind, "chown") == 0));
	ap_model_add(o, "is_extract", json_object_new_boolean(strcmp(kind, "extract") == 0));
	ap_model_add(o, "is_archive", json_object_new_boolean(strcmp(kind, "archive") == 0));
	ap_model_str(o, "poll", ap_arena_printf(ctx->arena, "/api/v1%s", job_link(ctx, &s, f[FJ_JOB].i, dir)));
	ap_model_str(o, "cancel", ap_arena_printf(ctx->arena, "%s/jobs/%lld/cancel", files_base(ctx, &s),
	    (long long)f[FJ_JOB].i));
	ap_model_add(ctx->model, "job", o);
	place_model(ctx, &s);
	ap_model_str(ctx->model, "folder", dir);
	ap_model_str(ctx->model, "back", folder_link(ctx, &s, dir));
	return 200;
}

/* POST /sites/{id}/files/jobs/{job}/cancel (or a root's): job.cancel, then the job as it ended. */
int
ap_page_files_job_cancel(struct ap_ctx *ctx)
{
	const struct ap_fieldval *f = ctx->fields;
	const char *dir = f[FJ_PATH].present ? f[FJ_PATH].s : "";
	struct json_object *st = NULL, *after;
	struct ap_sites_env env;
	struct ap_problem pb;
	struct ap_site s;
	int rc;

	if ((rc = site_of(ctx, &env, &s)) != 0)
		return rc;
	if (ap_files_job_cancel(&env, &s, f[FJ_JOB].i, &st, &pb) != AP_OK) {
		after = json_object_new_object();
		ap_model_add(after, "job", json_object_new_int64(f[FJ_JOB].i));
		ap_model_str(after, "error", ap_pb_name(pb.code));
		ap_model_str(after, "reason", pb.reason);
		audit(ctx, &s, "files.job_cancel", NULL, "failed", NULL, after, NULL); /* after taken */
		return ap_ctx_problem(ctx, &pb);
	}
	after = json_object_new_object();
	ap_model_add(after, "job", json_object_new_int64(f[FJ_JOB].i));
	ap_model_str(after, "state", str_of(st, "state"));
	ap_model_add(after, "result", json_object_object_get_ex(st, "result", NULL)
		? json_object_get(json_object_object_get(st, "result")) : NULL);
	audit(ctx, &s, "files.job_cancel", NULL, "ok", NULL, after, NULL); /* after taken */
	if (!ctx->req->wants_json) {
		json_object_put(st);
		ap_ctx_flash(ctx, "ok", "Cancelled.");
		return ap_ctx_back(ctx, job_link(ctx, &s, f[FJ_JOB].i, dir));
	}
	ap_model_add(ctx->model, "job", job_resource(ctx, &s, st, dir));
	return 200;
}

/*
 * A refused form shown again (ctx->form_again): the failing route's form with
 * what was typed in each of its fields (never a secret), posting to the same
 * address; the response layer adds the reason (form_error_reason).
 */
static void
again(struct ap_ctx *ctx, const struct ap_site *s)
{
	const char *pat = ctx->route != NULL ? strstr(ctx->route->pattern, "/files") : NULL;

	if (s->spec.domain[0] == '\0') {
		const char *rest = ctx->route != NULL ? strstr(ctx->route->pattern, "{root}") : NULL;

		ap_ctx_form_again(ctx, ap_arena_printf(ctx->arena, "/files/roots/%s%s", s->spec.root,
		    rest != NULL ? rest + 6 : ""));
		return;
	}

	ap_ctx_form_again(ctx, ap_arena_printf(ctx->arena, "/sites/%lld%s", (long long)s->id,
	    pat != NULL ? pat : "/files"));
}

/* ---- GET /sites/{id}/files -------------------------------------------- */

static void
crumbs(struct ap_ctx *ctx, const struct ap_site *s, const char *path)
{
	struct json_object *a = json_object_new_array(), *c;
	char *p = ap_arena_strdup(ctx->arena, path), *save = NULL, *seg;
	struct ap_buf acc = { 0 };

	c = json_object_new_object();
	ap_model_str(c, "name", s->spec.domain[0] ? s->spec.domain : s->spec.root);
	ap_model_str(c, "href", folder_link(ctx, s, ""));
	json_object_array_add(a, c);
	for (seg = strtok_r(p, "/", &save); seg != NULL; seg = strtok_r(NULL, "/", &save)) {
		if (acc.len)
			ap_buf_putc(&acc, '/');
		ap_buf_puts(&acc, seg);
		c = json_object_new_object();
		ap_model_str(c, "name", seg);
		ap_model_str(c, "href", folder_link(ctx, s, ap_buf_cstr(&acc)));
		json_object_array_add(a, c);
	}
	ap_buf_free(&acc);
	ap_model_add(ctx->model, "crumbs", a);
}

static const char *
join(struct ap_ctx *ctx, const char *dir, const char *name)
{
	if (dir == NULL || dir[0] == '\0' || strcmp(dir, ".") == 0)
		return name;
	return ap_arena_printf(ctx->arena, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", name);
}

int
ap_page_files(struct ap_ctx *ctx)
{
	/* A refused form's page shows the root: the fields are that form's, not this page's. */
	static const struct ap_fieldval none[FL__MAX];
	const struct ap_fieldval *f = ctx->form_again ? none : ctx->fields;
	struct json_object *args = json_object_new_object(), *res = NULL, *items, *out, *v;
	const char *path = f[FL_PATH].present ? f[FL_PATH].s : "";
	struct ap_sites_env env;
	struct ap_problem pb;
	struct ap_site s;
	int st;

	if ((st = site_of(ctx, &env, &s)) != 0) {
		json_object_put(args);
		return st;
	}
	again(ctx, &s);
	ap_model_str(args, "path", path);
	if (f[FL_SORT].present)
		ap_model_str(args, "sort", sorts[f[FL_SORT].i]);
	if (f[FL_DESC].present)
		ap_model_add(args, "desc", json_object_new_boolean(f[FL_DESC].b));
	if (f[FL_SEARCH].present && f[FL_SEARCH].len > 0)
		ap_model_str(args, "search", f[FL_SEARCH].s);
	if (ap_files_call(&env, &s, "files.list", args, &res, NULL, &pb) != AP_OK) {
		json_object_put(args);
		return ap_ctx_problem(ctx, &pb);
	}
	json_object_put(args);
	out = json_object_new_array();
	if (json_object_object_get_ex(res, "items", &items))
		for (size_t i = 0; i < json_object_array_length(items); i++) {
			struct json_object *e = json_object_array_get_idx(items, i), *o = json_object_new_object();
			const char *name = str_of(e, "name"), *type = str_of(e, "type");
			const char *full = join(ctx, path, name);
			struct ap_buf enc = { 0 };

			ap_model_str(o, "name", name);
			ap_model_str(o, "type", type);
			ap_model_add(o, "size", json_object_new_int64(int_of(e, "size")));
			ap_model_add(o, "modified", ap_model_time(int_of(e, "mtime")));
			ap_model_add(o, "mode", json_object_new_string(ap_arena_printf(ctx->arena, "%03llo",
			    (unsigned long long)int_of(e, "mode") & 0777)));
			ap_model_opt(o, "target", json_object_object_get_ex(e, "target", &v) ? json_object_get_string(v) : NULL);
			if (!ctx->req->wants_json) {
				ap_url_encode(&enc, full);
				ap_model_str(o, "full", full);
				ap_model_str(o, "q", ap_buf_cstr(&enc));
				ap_model_add(o, "is_dir", json_object_new_boolean(strcmp(type, "dir") == 0));
				ap_model_add(o, "is_file", json_object_new_boolean(strcmp(type, "file") == 0));
			}
			ap_buf_free(&enc);
			json_object_array_add(out, o);
		}
	ap_model_add(ctx->model, "site", json_object_new_int64(s.id));
	ap_model_str(ctx->model, "path", path);
	ap_model_add(ctx->model, "items", out);
	ap_model_add(ctx->model, "total", json_object_new_int64(int_of(res, "total")));
	ap_model_add(ctx->model, "truncated", json_object_new_boolean(
	    json_object_object_get_ex(res, "truncated", &v) && json_object_get_boolean(v)));
	json_object_put(res);
	if (!ctx->req->wants_json) {
		ctx->title = ap_ctx_tr(ctx, "Files");
		place_model(ctx, &s);
		ap_model_add(ctx->model, "can_write", json_object_new_boolean(can_write(ctx)));
		ap_model_str(ctx->model, "search", f[FL_SEARCH].present ? f[FL_SEARCH].s : "");
		{
			struct ap_buf pq = { 0 };

			ap_url_encode(&pq, path);
			ap_model_str(ctx->model, "path_q", ap_buf_cstr(&pq));
			ap_buf_free(&pq);
		}
		crumbs(ctx, &s, path);
		{
			struct ap_buf enc = { 0 };

			ap_url_encode(&enc, path);
			ap_model_str(ctx->model, "q", ap_buf_cstr(&enc));
			ap_buf_free(&enc);
		}
	}
	return 200;
}

/* ---- GET /sites/{id}/files/content: download, streamed ----------------- */

int
ap_page_files_download(struct ap_ctx *ctx)
{
	const char *path = ctx->fields[FP_PATH].s, *base = strrchr(path, '/');
	struct json_object *a = json_object_new_object(), *res = NULL;
	struct ap_sites_env env;
	struct ap_problem pb;
	struct ap_site s;
	struct ap_buf disp = { 0 };
	int st, fd = -1;

	if ((st = site_of(ctx, &env, &s)) != 0) {
		json_object_put(a);
		return st;
	}
	ap_model_str(a, "path", path);
	if (ap_files_call(&env, &s, "files.open", a, &res, &fd, &pb) != AP_OK) {
		json_object_put(a);
		return ap_ctx_problem(ctx, &pb);
	}
	json_object_put(a);
	ctx->raw_from_fd = true;
	ctx->raw_fd = fd;
	ctx->raw_len = int_of(res, "size");
	ctx->raw_type = "application/octet-stream";
	json_object_put(res);
	/* The name as an RFC 5987 parameter: any byte of it percent-encoded, nothing to escape. */
	ap_url_encode(&disp, base != NULL ? base + 1 : path);
	ap_ctx_header(ctx, "Content-Disposition",
	    ap_arena_printf(ctx->arena, "attachment; filename*=UTF-8''%s", ap_buf_cstr(&disp)));
	ap_buf_free(&disp);
	return 200;
}

/* ---- GET /sites/{id}/files/archive: a folder as an archive, streamed ---- */

int
ap_page_files_pack(struct ap_ctx *ctx)
{
	const struct ap_fieldval *f = ctx->fields;
	const char *path = f[FD_PATH].present ? f[FD_PATH].s : "", *base = strrchr(path, '/');
	int fmt = f[FD_FORMAT].present ? (int)f[FD_FORMAT].i : 0;
	struct json_object *a = json_object_new_object(), *res = NULL;
	struct ap_sites_env env;
	struct ap_problem pb;
	struct ap_site s;
	struct ap_buf disp = { 0 };
	int st, fd = -1;

	if ((st = site_of(ctx, &env, &s)) != 0) {
		json_object_put(a);
		return st;
	}
	ap_model_str(a, "path", path[0] ? path : ".");
	ap_model_str(a, "format", formats[fmt]);
	if (ap_files_call(&env, &s, "files.pack", a, &res, &fd, &pb) != AP_OK) {
		json_object_put(a);
		return ap_ctx_problem(ctx, &pb);
	}
	json_object_put(a);
	json_object_put(res);
	/* The helper's writer fills the pipe while it is read: no length, nothing stored. */
	ctx->raw_from_fd = true;
	ctx->raw_fd = fd;
	ctx->raw_len = -1;
	ctx->raw_type = fmt == 0 ? "application/zip" : fmt == 1 ? "application/gzip" : fmt == 2 ? "application/x-xz"
												: "application/x-tar";
	ap_url_encode(&disp, path[0] == '\0' ? (s.spec.domain[0] ? s.spec.domain : s.spec.root)
					    : base != NULL ? base + 1 : path);
	ap_ctx_header(ctx, "Content-Disposition",
	    ap_arena_printf(ctx->arena, "attachment; filename*=UTF-8''%s.%s", ap_buf_cstr(&disp), formats[fmt]));
	ap_buf_free(&disp);
	return 200;
}

/* ---- POST /sites/{id}/files/content: upload, streamed ------------------ */

static ssize_t
stream_rd(void *c, void *buf, size_t n)
{
	return ap_req_stream_read(c, buf, n);
}

struct up_reader {
	const char *p;
	size_t left;
};

static ssize_t
up_rd(void *c, void *buf, size_t n)
{
	struct up_reader *u = c;

	if (n > u->left)
		n = u->left;
	memcpy(buf, u->p, n);
	u->p += n;
	u->left -= n;
	return (ssize_t)n;
}

/* One upload: the checks the panel makes before the helper makes them again, the write, the audit. */
static int
put_one(struct ap_ctx *ctx, struct ap_sites_env *env, const struct ap_site *s, const char *path,
    bool overwrite, ap_files_read_fn rd, void *rdctx, struct json_object **change_out)
{
	struct json_object *res = NULL, *after;
	struct ap_problem pb;
	char sha[65] = "";
	bool exec = ap_files_server_executed(path);

	if (exec && s->spec.kind != AP_SITE_PHP) {
		ap_problem_set(&pb, AP_PB_INVALID, "path",
		    "a .php file (or another type the web server runs) cannot go into a site that is not a PHP site");
		return refused(ctx, s, "files.upload", path, &pb);
	}
	if (ap_files_put(env, s, path, overwrite, rd, rdctx, ctx->app->cfg->files_max_upload, &res, sha,
		&pb) != AP_OK) {
		/* A streamed form that broke off: the parser's reason (a constant), not "ended early". */
		if (ctx->req->mp != NULL && ap_req_part_failed(ctx->req))
			ap_problem_msg(&pb, AP_PB_INVALID, "files", ap_req_part_error(ctx->req));
		return refused(ctx, s, "files.upload", path, &pb);
	}
	after = json_object_new_object();
	ap_model_add(after, "size", json_object_new_int64(int_of(res, "size")));
	ap_model_add(after, "replaced", json_object_new_boolean(int_of(res, "replaced") != 0));
	ap_model_str(after, "sha256", sha);
	if (exec)
		ap_model_add(after, "executable", json_object_new_boolean(true));
	audit(ctx, s, "files.upload", path, "ok", NULL, after, NULL);
	*change_out = change(path, res, sha, NULL);
	json_object_put(res);
	return 0;
}

int
ap_page_files_upload(struct ap_ctx *ctx)
{
	const char *path = ctx->fields[FP_PATH].s;
	struct json_object *c = NULL;
	struct ap_sites_env env;
	struct ap_site s;
	int st;

	if ((st = site_of(ctx, &env, &s)) != 0)
		return st;
	if (!ctx->req->stream)
		return ap_ctx_fail(ctx, AP_PB_MEDIA_TYPE, "content-type", "unsupported Content-Type '%s'",
		    ctx->req->content_type);
	if ((st = put_one(ctx, &env, &s, path, ctx->fields[FP_OVERWRITE].b, stream_rd, ctx->req, &c)) != 0)
		return st;
	return changed(ctx, &s, parent_of(ctx, path), c);
}

static ssize_t
part_rd(void *c, void *buf, size_t n)
{
	struct ap_req *r = c;
	ssize_t k = ap_req_part_read(r, buf, n);

	if (k < 0)
		AP_WARN("a files upload's form: %s", ap_req_part_error(r));
	return k;
}

/*
 * POST /sites/{id}/files/upload: a browser's form (multipart, several files, without script).
 * Streamed (AP_ROUTE_STREAM_FORM): the fields before the first file (the csrf token) were
 * checked by the gate; each file part is then read through a fixed buffer into its own upload
 * (files.begin, a temporary file beside the target, files.commit), one after the other. A file
 * refused stops the form there: the files before it stay written (each one whole).
 */
int
ap_page_files_upload_form(struct ap_ctx *ctx)
{
	const struct ap_fieldval *f = ctx->fields;
	const char *dir = f[FL_PATH].present ? f[FL_PATH].s : "";
	struct ap_req *rq = ctx->req;
	struct ap_sites_env env;
	struct ap_site s;
	size_t done = 0;
	int st, more;

	if ((st = site_of(ctx, &env, &s)) != 0)
		return st;
	/* The route's limit, as nginx's client_max_body_size on it: refused before a byte is read. */
	if (rq->mp != NULL && ap_req_part_max(rq) > ctx->app->cfg->files_max_upload)
		return ap_ctx_fail(ctx, AP_PB_TOO_LARGE, "files", "the files are more than files.max_upload (%lld bytes) in all",
		    (long long)ctx->app->cfg->files_max_upload);
	for (more = rq->mp != NULL && rq->nuploads > 0; more > 0; more = ap_req_part_next(rq)) {
		const struct ap_upload *u = &rq->uploads[0];
		struct json_object *c = NULL;

		if (strcmp(u->field, "files") != 0 || u->filename[0] == '\0')
			continue;
		if ((st = put_one(ctx, &env, &s, join(ctx, dir, u->filename), true, part_rd, rq, &c)) != 0)
			return st;
		json_object_put(c);
		done++;
	}
	if (more < 0) {
		struct ap_problem pb;

		ap_problem_msg(&pb, AP_PB_INVALID, "files", ap_req_part_error(rq));
		return ap_ctx_problem(ctx, &pb);
	}
	if (done == 0)
		return ap_ctx_fail(ctx, AP_PB_INVALID, "files", "choose at least one file");
	if (!ctx->req->wants_json)
		ap_ctx_flash(ctx, "ok", "Uploaded %zu file(s).", done);
	return changed(ctx, &s, dir, change(dir, NULL, NULL, NULL));
}

/* ---- the editor ---------------------------------------------------------- */

int
ap_page_files_edit(struct ap_ctx *ctx)
{
	const char *path = ctx->fields[FP_PATH].present ? ctx->fields[FP_PATH].s : "";
	struct ap_sites_env env;
	struct ap_problem pb;
	struct ap_site s;
	struct ap_buf b = { 0 };
	bool crlf;
	int st;

	if ((st = site_of(ctx, &env, &s)) != 0)
		return st;
	if (ctx->form_again) {
		/* A refused save: what was typed, not the file (which may not be readable). */
		const char *kept = ap_ctx_kept(ctx, "content"), *kp = ap_ctx_kept(ctx, "path");

		ap_buf_puts(&b, kept != NULL ? kept : "");
		path = kp != NULL ? kp : "";
		crlf = false;
		again(ctx, &s);
	} else if (path[0] == '\0') {
		crlf = false; /* a new text file: its path is typed in the editor */
	} else if (ap_files_read_text(&env, &s, path, ctx->app->cfg->files_edit_max, &b, &crlf, &pb) != AP_OK) {
		ap_buf_free(&b);
		return ap_ctx_problem(ctx, &pb);
	}
	ap_model_str(ctx->model, "path", path);
	ap_model_add(ctx->model, "content", json_object_new_string_len(b.data ? b.data : "", (int)b.len));
	ap_model_str(ctx->model, "eol", crlf ? "crlf" : "lf");
	ap_model_add(ctx->model, "size", json_object_new_int64((int64_t)b.len));
	ap_buf_free(&b);
	if (!ctx->req->wants_json) {
		ctx->title = ap_ctx_tr(ctx, "Edit file");
		place_model(ctx, &s);
		ap_model_str(ctx->model, "back", folder_link(ctx, &s, parent_of(ctx, path)));
		ap_model_add(ctx->model, "crlf", json_object_new_boolean(crlf));
		ap_model_add(ctx->model, "is_new", json_object_new_boolean(path[0] == '\0'));
		ap_model_add(ctx->model, "can_write", json_object_new_boolean(can_write(ctx)));
	}
	return 200;
}

int
ap_page_files_save(struct ap_ctx *ctx)
{
	const struct ap_fieldval *f = ctx->fields;
	const char *path = f[FS_PATH].s;
	struct json_object *res = NULL, *after;
	struct ap_sites_env env;
	struct ap_problem pb;
	struct ap_site s;
	bool crlf = f[FS_EOL].present && f[FS_EOL].i == 1;
	int st;

	if ((st = site_of(ctx, &env, &s)) != 0)
		return st;
	/* The route lets a larger text through the parser (AP_ROUTE_TEXT): the editor's own cap. */
	if (f[FS_CONTENT].present && f[FS_CONTENT].len > (size_t)ctx->app->cfg->files_edit_max) {
		ap_problem_set(&pb, AP_PB_TOO_LARGE, "content",
		    "is %zu bytes; the editor saves at most %lld bytes (files.edit_max)", f[FS_CONTENT].len,
		    ctx->app->cfg->files_edit_max);
		return refused(ctx, &s, "files.save", path, &pb);
	}
	if (ap_files_server_executed(path) && s.spec.kind != AP_SITE_PHP) {
		ap_problem_set(&pb, AP_PB_INVALID, "path",
		    "a .php file (or another type the web server runs) cannot go into a site that is not a PHP site");
		return refused(ctx, &s, "files.save", path, &pb);
	}
	if (ap_files_save_text(&env, &s, path, f[FS_CONTENT].present ? f[FS_CONTENT].s : "",
		f[FS_CONTENT].present ? f[FS_CONTENT].len : 0, crlf, &res, &pb) != AP_OK)
		return refused(ctx, &s, "files.save", path, &pb);
	after = json_object_new_object();
	ap_model_add(after, "size", json_object_new_int64(int_of(res, "size")));
	ap_model_str(after, "eol", crlf ? "crlf" : "lf");
	ap_model_opt(after, "sha256", str_of(res, "sha256"));
	audit(ctx, &s, "files.save", path, "ok", NULL, after, NULL);
	if (!ctx->req->wants_json)
		ap_ctx_flash(ctx, "ok", "Saved %s.", path);
	after = change(path, res, str_of(res, "sha256"), NULL);
	json_object_put(res);
	return changed(ctx, &s, parent_of(ctx, path), after);
}

/* ---- create, rename, copy, chmod, delete -------------------------------- */

/* One helper operation with args, audited as action on path; 0 or the status answered. */
static int
simple(struct ap_ctx *ctx, struct ap_sites_env *env, const struct ap_site *s, const char *op,
    const char *action, const char *path, struct json_object *args, struct json_object **res)
{
	struct ap_problem pb;
	int64_t job = 0;

	/* A copy is a helper job (a tree of any size, with its progress): waited for briefly,
	 * then shown on its page. */
	if ((strcmp(op, "files.copy") == 0 ? run_job(ctx, env, s, op, args, res, &job, &pb)
					     : ap_files_call(env, s, op, args, res, NULL, &pb)) != AP_OK) {
		audit(ctx, s, action, path, "failed", NULL, json_object_get(args), &pb);
		json_object_put(args);
		return ap_ctx_problem(ctx, &pb);
	}
	if (*res == NULL && job > 0) {
		const char *to = ap_arena_strdup(ctx->arena, str_of(args, "to") ? str_of(args, "to") : path);
		int st = job_started(ctx, env, s, action, path, args, job, parent_of(ctx, to), to);

		json_object_put(args);
		return st;
	}
	audit(ctx, s, action, path, "ok", NULL, json_object_get(args), NULL);
	json_object_put(args);
	return 0;
}

int
ap_page_files_create(struct ap_ctx *ctx)
{
	const struct ap_fieldval *f = ctx->fields;
	const char *dir = f[FC_PATH].present ? f[FC_PATH].s : "";
	const char *path = join(ctx, dir, f[FC_NAME].s);
	struct json_object *res = NULL, *a;
	struct ap_sites_env env;
	struct ap_site s;
	int st;

	if ((st = site_of(ctx, &env, &s)) != 0)
		return st;
	if (f[FC_TYPE].i == 0) {
		/* An empty file: the same way as any write (a temporary file, renamed). */
		struct up_reader r = { "", 0 };
		struct json_object *c = NULL;

		if ((st = put_one(ctx, &env, &s, path, false, up_rd, &r, &c)) != 0)
			return st;
		if (!ctx->req->wants_json)
			ap_ctx_flash(ctx, "ok", "Created %s.", path);
		return changed(ctx, &s, dir, c);
	}
	a = json_object_new_object();
	ap_model_str(a, "path", path);
	if ((st = simple(ctx, &env, &s, "files.mkdir", "files.mkdir", path, a, &res)) != 0)
		return st;
	json_object_put(res);
	if (!ctx->req->wants_json)
		ap_ctx_flash(ctx, "ok", "Created %s.", path);
	return changed(ctx, &s, dir, change(path, NULL, NULL, NULL));
}

static int
move_or_copy(struct ap_ctx *ctx, const char *op)
{
	const struct ap_fieldval *f = ctx->fields;
	struct json_object *res = NULL, *a = json_object_new_object();
	struct ap_sites_env env;
	struct ap_site s;
	int st;

	if ((st = site_of(ctx, &env, &s)) != 0) {
		json_object_put(a);
		return st;
	}
	ap_model_str(a, "path", f[FM_PATH].s);
	ap_model_str(a, "to", f[FM_TO].s);
	if ((st = simple(ctx, &env, &s, op, op, f[FM_PATH].s, a, &res)) != 0)
		return st;
	json_object_put(res);
	if (!ctx->req->wants_json)
		ap_ctx_flash(ctx, "ok", "Done: %s.", f[FM_TO].s);
	return changed(ctx, &s, parent_of(ctx, f[FM_TO].s), change(f[FM_TO].s, NULL, NULL, NULL));
}

int
ap_page_files_rename(struct ap_ctx *ctx)
{
	return move_or_copy(ctx, "files.rename");
}

int
ap_page_files_copy(struct ap_ctx *ctx)
{
	return move_or_copy(ctx, "files.copy");
}

int
ap_page_files_chmod(struct ap_ctx *ctx)
{
	const struct ap_fieldval *f = ctx->fields;
	struct json_object *res = NULL, *a = json_object_new_object();
	struct ap_sites_env env;
	struct ap_problem pb;
	struct ap_site s;
	long mode = strtol(f[FX_MODE].s, NULL, 8);
	int st;

	if ((st = site_of(ctx, &env, &s)) != 0) {
		json_object_put(a);
		return st;
	}
	ap_model_str(a, "path", f[FX_PATH].s);
	ap_model_add(a, "mode", json_object_new_int64(mode));
	if (ap_files_call(&env, &s, "files.chmod", a, &res, NULL, &pb) != AP_OK) {
		json_object_put(a);
		return refused(ctx, &s, "files.chmod", f[FX_PATH].s, &pb);
	}
	json_object_put(a);
	{
		struct json_object *b = json_object_new_object(), *af = json_object_new_object();

		ap_model_str(b, "mode", ap_arena_printf(ctx->arena, "%03llo", (unsigned long long)int_of(res, "before")));
		ap_model_str(af, "mode", ap_arena_printf(ctx->arena, "%03lo", mode));
		audit(ctx, &s, "files.chmod", f[FX_PATH].s, "ok", b, af, NULL);
	}
	if (!ctx->req->wants_json)
		ap_ctx_flash(ctx, "ok", "Done: %s.", f[FX_PATH].s);
	json_object_put(res);
	return changed(ctx, &s, parent_of(ctx, f[FX_PATH].s), change(f[FX_PATH].s, NULL, NULL, NULL));
}

int
ap_page_files_chown(struct ap_ctx *ctx)
{
	const struct ap_fieldval *f = ctx->fields;
	struct json_object *res = NULL, *a = json_object_new_object();
	struct ap_sites_env env;
	struct ap_problem pb;
	struct ap_site s;
	int64_t job = 0;
	int st;

	if ((st = site_of(ctx, &env, &s)) != 0) {
		json_object_put(a);
		return st;
	}
	ap_model_str(a, "path", f[FO_PATH].s);
	ap_model_str(a, "owner", owners[f[FO_OWNER].i]);
	if ((f[FO_RECURSIVE].present && f[FO_RECURSIVE].b ?
		run_job(ctx, &env, &s, "files.chown_tree", a, &res, &job, &pb) :
		ap_files_call(&env, &s, "files.chown", a, &res, NULL, &pb)) != AP_OK) {
		json_object_put(a);
		return refused(ctx, &s, "files.chown", f[FO_PATH].s, &pb);
	}
	if (res == NULL && job > 0) {
		ap_model_add(a, "recursive", json_object_new_boolean(true));
		st = job_started(ctx, &env, &s, "files.chown", f[FO_PATH].s, a, job, parent_of(ctx, f[FO_PATH].s),
		    f[FO_PATH].s);
		json_object_put(a);
		return st;
	}
	json_object_put(a);
	{
		struct json_object *b = json_object_new_object(), *af = json_object_new_object();

		ap_model_add(b, "uid", json_object_new_int64(int_of(res, "before_uid")));
		ap_model_add(b, "gid", json_object_new_int64(int_of(res, "before_gid")));
		ap_model_str(af, "owner", owners[f[FO_OWNER].i]);
		ap_model_add(af, "uid", json_object_new_int64(int_of(res, "uid")));
		ap_model_add(af, "gid", json_object_new_int64(int_of(res, "gid")));
		if (f[FO_RECURSIVE].present && f[FO_RECURSIVE].b) {
			ap_model_add(af, "recursive", json_object_new_boolean(true));
			ap_model_add(af, "entries", json_object_new_int64(int_of(res, "entries")));
			ap_model_add(af, "skipped", json_object_new_int64(int_of(res, "skipped")));
		}
		audit(ctx, &s, "files.chown", f[FO_PATH].s, "ok", b, af, NULL);
	}
	if (!ctx->req->wants_json)
		ap_ctx_flash(ctx, "ok", "Done: %s.", f[FO_PATH].s);
	json_object_put(res);
	return changed(ctx, &s, parent_of(ctx, f[FO_PATH].s), change(f[FO_PATH].s, NULL, NULL, NULL));
}

int
ap_page_files_delete(struct ap_ctx *ctx)
{
	const char *path = ctx->fields[FP_PATH].s;
	struct json_object *res = NULL, *a = json_object_new_object(), *c;
	struct ap_sites_env env;
	struct ap_site s;
	int st;

	if ((st = site_of(ctx, &env, &s)) != 0) {
		json_object_put(a);
		return st;
	}
	ap_model_str(a, "path", path);
	if ((st = simple(ctx, &env, &s, "files.delete", "files.delete", path, a, &res)) != 0)
		return st;
	if (!ctx->req->wants_json)
		ap_ctx_flash(ctx, "ok", "Moved %s to the trash.", path);
	c = change(path, NULL, NULL, str_of(res, "id"));
	json_object_put(res);
	return changed(ctx, &s, parent_of(ctx, path), c);
}

/* ---- archives (helper jobs, libarchive) ---------------------------------- */

static int
archive_op(struct ap_ctx *ctx, const char *op)
{
	const struct ap_fieldval *f = ctx->fields;
	struct json_object *res = NULL, *a = json_object_new_object(), *after;
	struct ap_sites_env env;
	struct ap_problem pb;
	struct ap_site s;
	int64_t job = 0;
	int st;

	if ((st = site_of(ctx, &env, &s)) != 0) {
		json_object_put(a);
		return st;
	}
	ap_model_str(a, "path", f[FA_PATH].s);
	ap_model_str(a, "to", f[FA_TO].s);
	if (f[FA_FORMAT].present)
		ap_model_str(a, "format", formats[f[FA_FORMAT].i]);
	if (run_job(ctx, &env, &s, op, a, &res, &job, &pb) != AP_OK) {
		audit(ctx, &s, op, f[FA_PATH].s, "failed", NULL, json_object_get(a), &pb);
		json_object_put(a);
		return ap_ctx_problem(ctx, &pb);
	}
	if (res == NULL && job > 0) {
		st = job_started(ctx, &env, &s, op, f[FA_PATH].s, a, job, parent_of(ctx, f[FA_TO].s), f[FA_TO].s);
		json_object_put(a);
		return st;
	}
	after = json_object_get(a);
	ap_model_add(after, "entries", json_object_new_int64(int_of(res, "entries")));
	ap_model_add(after, "size", json_object_new_int64(int_of(res, "size")));
	audit(ctx, &s, op, f[FA_PATH].s, "ok", NULL, after, NULL);
	json_object_put(a);
	if (!ctx->req->wants_json)
		ap_ctx_flash(ctx, "ok", "Done: %s.", f[FA_TO].s);
	after = change(f[FA_TO].s, res, NULL, NULL);
	json_object_put(res);
	return changed(ctx, &s, parent_of(ctx, f[FA_TO].s), after);
}

int
ap_page_files_extract(struct ap_ctx *ctx)
{
	return archive_op(ctx, "files.extract");
}

int
ap_page_files_archive(struct ap_ctx *ctx)
{
	return archive_op(ctx, "files.archive");
}

/* ---- the trash ---------------------------------------------------------- */

int
ap_page_files_trash(struct ap_ctx *ctx)
{
	struct json_object *res = NULL, *items, *out = json_object_new_array();
	struct ap_sites_env env;
	struct ap_problem pb;
	struct ap_site s;
	int st;

	if ((st = site_of(ctx, &env, &s)) != 0) {
		json_object_put(out);
		return st;
	}
	if (ap_files_call(&env, &s, "files.trash", NULL, &res, NULL, &pb) != AP_OK) {
		json_object_put(out);
		return ap_ctx_problem(ctx, &pb);
	}
	if (json_object_object_get_ex(res, "items", &items))
		for (size_t i = 0; i < json_object_array_length(items); i++) {
			struct json_object *e = json_object_array_get_idx(items, i), *o = json_object_new_object();

			ap_model_str(o, "id", str_of(e, "id"));
			ap_model_str(o, "path", str_of(e, "path"));
			ap_model_str(o, "type", str_of(e, "type"));
			ap_model_add(o, "size", json_object_new_int64(int_of(e, "size")));
			ap_model_add(o, "deleted", ap_model_time(int_of(e, "deleted_at")));
			json_object_array_add(out, o);
		}
	json_object_put(res);
	ap_model_add(ctx->model, "site", json_object_new_int64(s.id));
	if (s.spec.domain[0] == '\0')
		ap_model_str(ctx->model, "root", s.spec.root);
	ap_model_add(ctx->model, "items", out);
	again(ctx, &s);
	if (!ctx->req->wants_json) {
		ctx->title = ap_ctx_tr(ctx, "Trash");
		place_model(ctx, &s);
		ap_model_add(ctx->model, "can_write", json_object_new_boolean(can_write(ctx)));
		ap_model_add(ctx->model, "empty", json_object_new_boolean(json_object_array_length(out) == 0));
	}
	return 200;
}

int
ap_page_files_restore(struct ap_ctx *ctx)
{
	const char *entry = ctx->fields[FR_ENTRY].s;
	struct json_object *res = NULL, *a = json_object_new_object(), *c;
	struct ap_sites_env env;
	struct ap_site s;
	const char *path;
	int st;

	if ((st = site_of(ctx, &env, &s)) != 0) {
		json_object_put(a);
		return st;
	}
	ap_model_str(a, "id", entry);
	if ((st = simple(ctx, &env, &s, "files.restore", "files.restore", entry, a, &res)) != 0)
		return st;
	path = ap_arena_strdup(ctx->arena, str_of(res, "path") ? str_of(res, "path") : "");
	json_object_put(res);
	if (!ctx->req->wants_json)
		ap_ctx_flash(ctx, "ok", "Restored %s.", path);
	c = change(path, NULL, NULL, NULL);
	return changed(ctx, &s, parent_of(ctx, path), c);
}

int
ap_page_files_empty(struct ap_ctx *ctx)
{
	struct json_object *res = NULL;
	struct ap_sites_env env;
	struct ap_site s;
	int st;

	if ((st = site_of(ctx, &env, &s)) != 0)
		return st;
	if (ap_ctx_unconfirmed(ctx, "Empty the trash of %s? What it holds is deleted for good.",
		s.spec.domain[0] ? s.spec.domain : s.spec.root))
		return 200;
	if ((st = simple(ctx, &env, &s, "files.empty", "files.empty", TRASH_LABEL, json_object_new_object(), &res)) != 0)
		return st;
	json_object_put(res);
	if (ctx->req->wants_json)
		return 204;
	ap_ctx_flash(ctx, "ok", "The trash is empty.");
	return ap_ctx_back(ctx, ap_arena_printf(ctx->arena, "%s/trash", files_base(ctx, &s)));
}

/* ---- GET /files/roots: the admins' other roots (files.roots) -------------- */

static const struct ap_prop root_props[] = {
	{ .name = "name", .type = AP_J_STRING },
	{ .name = "path", .type = AP_J_STRING, .desc = "where it is (the configuration's)" },
	AP_PROP_END,
};
static const struct ap_schema root_schema = { .name = "FileRoot", .props = root_props };
static const struct ap_prop roots_props[] = {
	{ .name = "items", .type = AP_J_ARRAY, .of = &root_schema, .desc = "files.roots, in its order" },
	AP_PROP_END,
};
const struct ap_schema ap_file_roots_schema = { .name = "FileRoots", .desc = "the admins' other roots",
	.props = roots_props };

int
ap_page_file_roots(struct ap_ctx *ctx)
{
	struct json_object *items = json_object_new_array();
	char name[33], path[1100];

	for (size_t i = 0; ap_file_root_at(ctx->app->cfg->files_roots, i, name, sizeof(name), path, sizeof(path));
	    i++) {
		struct json_object *o = json_object_new_object();

		ap_model_str(o, "name", name);
		ap_model_str(o, "path", path);
		json_object_array_add(items, o);
	}
	ap_model_add(ctx->model, "items", items);
	if (!ctx->req->wants_json)
		ctx->title = ap_ctx_tr(ctx, "Other roots");
	return 200;
}
