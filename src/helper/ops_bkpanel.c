/*
 * ops_bkpanel.c — backing up the panel itself, and restoring it into a new
 * folder (docs/backups.md, "The panel itself").
 *
 *   backup.panel_run      {dest, secret, keep_*} (a job): a staging folder
 *                         <backups.dir>/.dumps/panel/ (0700) gets
 *                           database.sqlite  a consistent copy of the panel's
 *                                            SQLite database (VACUUM INTO, on a
 *                                            read-only connection: the running
 *                                            panel keeps writing), or
 *                           database.sql     a MariaDB/PostgreSQL panel
 *                                            database's dump (dbdump.h: memfd
 *                                            credentials, --single-transaction,
 *                                            pg_dump --clean --if-exists);
 *                           config/          the configuration files the helper
 *                                            loaded: the base file, the profile
 *                                            overlay, panel.settings_file,
 *                                            nginx.listen_file (when set);
 *                           secret_key       ONLY when secret is true: the
 *                                            panel's secret key (hex) and, when
 *                                            db.password_file is set, a copy of
 *                                            it as db_password;
 *                           MANIFEST.json    what is in it;
 *                         one `restic backup` of it tagged "panel", the staging
 *                         folder removed; retention as for the others.
 *   backup.panel_restore  {dest, snapshot, new_dir} (a job): the snapshot (it
 *                         must be tagged "panel") restored into
 *                         <backups.dir>/.panel-restores/NEW_DIR/ (0700), a
 *                         folder that must not exist — never over the running
 *                         panel; what an operator does next is documented.
 */
#include <sys/random.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "aapanel/backupcheck.h"
#include "aapanel/dsn.h"
#include "aapanel/log.h"
#include "ops_backups.h"
#include "bkdump.h"
#include "jobs.h"
#include "ops.h"
#include "sitefs.h"
#include "spawn.h"

#define PANEL_TAG "panel"
#define RESTORES_DIR ".panel-restores"
#define CONF_MAX (1 << 20)

static const char *
check_name(const char *s, size_t n)
{
	return ap_check_backup_dest_name(s, n);
}

#define KEEP_FIELD(n) { .name = n, .type = AP_FIELD_INT, .min = 0, .max = AP_BK_KEEP_MAX }
enum { PR_DEST, PR_SECRET, PR_KEEP_LAST, PR_KEEP_DAILY, PR_KEEP_WEEKLY, PR_KEEP_MONTHLY, PR__MAX };
const struct ap_field ap_ops_backup_panel_run_args[PR__MAX + 1] = {
	[PR_DEST] = { .name = "dest", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED |
	    AP_FIELD_SINGLELINE, .min = 1, .max = 32, .check = check_name },
	[PR_SECRET] = { .name = "secret", .type = AP_FIELD_BOOL },
	[PR_KEEP_LAST] = KEEP_FIELD("keep_last"),
	[PR_KEEP_DAILY] = KEEP_FIELD("keep_daily"),
	[PR_KEEP_WEEKLY] = KEEP_FIELD("keep_weekly"),
	[PR_KEEP_MONTHLY] = KEEP_FIELD("keep_monthly"),
	[PR__MAX] = AP_FIELD_END,
};

enum { PS_DEST, PS_SNAPSHOT, PS_NEW_DIR, PS__MAX };
const struct ap_field ap_ops_backup_panel_restore_args[PS__MAX + 1] = {
	[PS_DEST] = { .name = "dest", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED |
	    AP_FIELD_SINGLELINE, .min = 1, .max = 32, .check = check_name },
	[PS_SNAPSHOT] = { .name = "snapshot", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED |
	    AP_FIELD_SINGLELINE, .min = 6, .max = 64, .check = ap_check_backup_snapshot },
	[PS_NEW_DIR] = { .name = "new_dir", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED |
	    AP_FIELD_SINGLELINE, .min = 1, .max = 64, .check = ap_check_backup_new_dir },
	[PS__MAX] = AP_FIELD_END,
};

static enum ap_err
fail(struct helper_ctx *ctx, enum ap_pb_code code, const char *field, const char *reason,
    enum ap_err rc)
{
	ap_problem_set(ctx->pb, code, field, "%s", reason);
	return rc;
}

/* Copy the file at the absolute path (the panel's own, named by the helper's configuration). */
static enum ap_err
copy_file(struct helper_ctx *ctx, const char *path, int dirfd, const char *name,
    struct json_object *files)
{
	char *text = NULL;
	size_t len = 0;
	enum ap_err rc;

	if (path == NULL || path[0] != '/')
		return AP_OK;
	if (ap_read_file_at(AT_FDCWD, path, CONF_MAX, &text, &len) != AP_OK) {
		if (errno == ENOENT)
			return AP_OK;
		return fail(ctx, AP_PB_FAILED, NULL, ap_arena_printf(ctx->arena,
		    "cannot read %s: %s", path, strerror(errno)), AP_ERR_IO);
	}
	rc = ap_fs_write(dirfd, name, text, len, 0600);
	explicit_bzero(text, len);
	free(text);
	if (rc != AP_OK)
		return fail(ctx, AP_PB_FAILED, NULL, strerror(errno), AP_ERR_IO);
	json_object_array_add(files, json_object_new_string(name));
	return AP_OK;
}

/* A consistent copy of the SQLite database at path into dir/name (VACUUM INTO). */
static enum ap_err
sqlite_copy(struct helper_ctx *ctx, const char *path, const char *dir, const char *name)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	const char *to = ap_arena_printf(ctx->arena, "%s/%s", dir, name);
	int rc;
	enum ap_err e = AP_OK;

	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(db, 10000);
		rc = sqlite3_prepare_v2(db, "VACUUM INTO ?1", -1, &st, NULL);
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 1, to, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_DONE)
		rc = SQLITE_OK;
	if (rc != SQLITE_OK)
		e = fail(ctx, AP_PB_FAILED, NULL, ap_arena_printf(ctx->arena,
		    "the panel's database could not be copied: %s",
		    db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc)), AP_ERR_IO);
	sqlite3_finalize(st);
	sqlite3_close(db);
	if (e == AP_OK) {
		int fd = open(to, O_RDONLY | O_CLOEXEC);

		if (fd < 0 || fchmod(fd, 0600) != 0 || fsync(fd) != 0)
			e = fail(ctx, AP_PB_FAILED, NULL, strerror(errno), AP_ERR_IO);
		if (fd >= 0)
			close(fd);
	}
	return e;
}

/* The panel's MariaDB/PostgreSQL database dumped into dirfd/name (bkdump.h, its own login). */
static enum ap_err
sql_dump(struct helper_ctx *ctx, const struct ap_db_dsn *d, int dirfd, const char *name)
{
	struct ap_dbserver_login login = { 0 };
	char *pw = NULL;
	size_t pwlen = 0;
	enum ap_err rc;

	snprintf(login.dsn, sizeof(login.dsn), "%s", ctx->cfg->db_dsn);
	login.backend = d->backend;
	if (ctx->cfg->db_password_file != NULL && ctx->cfg->db_password_file[0] != '\0') {
		if (ap_read_file_at(AT_FDCWD, ctx->cfg->db_password_file, 1024, &pw, &pwlen) != AP_OK)
			return fail(ctx, AP_PB_FAILED, NULL, "db.password_file cannot be read",
			    AP_ERR_IO);
		while (pwlen > 0 && (pw[pwlen - 1] == '\n' || pw[pwlen - 1] == '\r'))
			pw[--pwlen] = '\0';
		snprintf(login.password, sizeof(login.password), "%s", pw);
		explicit_bzero(pw, pwlen);
		free(pw);
	}
	rc = ap_bkdump_write(ctx, dirfd, "panel", d->dbname, &login, name);
	explicit_bzero(login.password, sizeof(login.password));
	return rc;
}

/* Fill the staging folder dirfd (absolute dir). */
static enum ap_err
stage_panel(struct helper_ctx *ctx, int dirfd, const char *dir, bool secret,
    struct json_object *manifest)
{
	const struct ap_config *c = ctx->cfg;
	struct json_object *files = json_object_new_array();
	struct ap_db_dsn d = { 0 };
	char why[200];
	int cfd = -1;
	enum ap_err rc = AP_OK;

	json_object_object_add(manifest, "files", files);
	if (ap_db_dsn_parse(c->db_dsn, &d, why, sizeof(why)) != AP_DB_OK)
		return fail(ctx, AP_PB_INTERNAL, NULL, "db.dsn cannot be read", AP_ERR_INVAL);
	json_object_object_add(manifest, "backend", json_object_new_string(
	    d.backend == AP_DB_SQLITE ? "sqlite" : d.backend == AP_DB_PGSQL ? "postgresql" : "mariadb"));
	if (d.backend == AP_DB_SQLITE) {
		const char *path = d.relative ? ap_arena_printf(ctx->arena, "%s/%s", c->root_dir, d.path)
					      : d.path;

		rc = sqlite_copy(ctx, path, dir, "database.sqlite");
		if (rc == AP_OK)
			json_object_array_add(files, json_object_new_string("database.sqlite"));
	} else {
		rc = sql_dump(ctx, &d, dirfd, "database.sql");
		if (rc == AP_OK)
			json_object_array_add(files, json_object_new_string("database.sql"));
		json_object_object_add(manifest, "database", json_object_new_string(d.dbname));
	}
	ap_db_dsn_free(&d);
	if (rc != AP_OK)
		return rc;
	ap_job_progress(ctx->job, 5);
	if (mkdirat(dirfd, "config", 0700) != 0 ||
	    (cfd = openat(dirfd, "config", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return fail(ctx, AP_PB_FAILED, NULL, strerror(errno), AP_ERR_IO);
	rc = copy_file(ctx, c->base_file, cfd, "aapanel.cfg", files);
	if (rc == AP_OK && c->profile_file != NULL) {
		const char *base = strrchr(c->profile_file, '/');

		rc = copy_file(ctx, c->profile_file, cfd, ap_arena_printf(ctx->arena, "profile-%s",
		    base != NULL ? base + 1 : c->profile_file), files);
	}
	if (rc == AP_OK)
		rc = copy_file(ctx, c->settings_file, cfd, "settings.cfg", files);
	if (rc == AP_OK)
		rc = copy_file(ctx, c->nginx_listen_file, cfd, "listen.conf", files);
	close(cfd);
	/* copy_file's names are relative to config/: say so in the manifest. */
	for (size_t i = 0; i < json_object_array_length(files); i++) {
		const char *f = json_object_get_string(json_object_array_get_idx(files, i));

		if (strncmp(f, "database.", 9) != 0)
			json_object_array_put_idx(files, i, json_object_new_string(
			    ap_arena_printf(ctx->arena, "config/%s", f)));
	}
	if (rc != AP_OK)
		return rc;
	if (secret) {
		/* The key file the panel reads (security.secret_key_file, else development's
		 * generated <var_dir>/secret_key); else the key the helper itself loaded. */
		struct json_object *got = json_object_new_array();
		const char *kf = c->secret_key_file != NULL && c->secret_key_file[0] != '\0'
		    ? c->secret_key_file : ap_arena_printf(ctx->arena, "%s/secret_key", c->var_dir);
		size_t have;

		rc = copy_file(ctx, kf, dirfd, "secret_key", got);
		have = json_object_array_length(got);
		json_object_put(got);
		if (rc != AP_OK)
			return rc;
		if (have == 0) {
			char hex[2 * sizeof(c->secret_key) + 2];

			if (c->secret_key_len == 0)
				return fail(ctx, AP_PB_FAILED, "secret",
				    "the helper cannot read the panel's secret key (set security.secret_key_file)",
				    AP_ERR_IO);
			for (size_t i = 0; i < c->secret_key_len; i++)
				snprintf(hex + 2 * i, 3, "%02x", c->secret_key[i]);
			hex[2 * c->secret_key_len] = '\n';
			rc = ap_fs_write(dirfd, "secret_key", hex, 2 * c->secret_key_len + 1, 0600);
			explicit_bzero(hex, sizeof(hex));
			if (rc != AP_OK)
				return fail(ctx, AP_PB_FAILED, NULL, strerror(errno), AP_ERR_IO);
		}
		json_object_array_add(files, json_object_new_string("secret_key"));
		if (c->db_password_file != NULL && c->db_password_file[0] != '\0') {
			struct json_object *tmp = json_object_new_array();

			rc = copy_file(ctx, c->db_password_file, dirfd, "db_password", tmp);
			json_object_put(tmp);
			if (rc != AP_OK)
				return rc;
			json_object_array_add(files, json_object_new_string("db_password"));
		}
	}
	json_object_object_add(manifest, "secret", json_object_new_boolean(secret));
	json_object_object_add(manifest, "format", json_object_new_int(1));
	json_object_object_add(manifest, "created", json_object_new_int64((int64_t)time(NULL)));
	{
		const char *m = json_object_to_json_string_ext(manifest, JSON_C_TO_STRING_PRETTY |
		    JSON_C_TO_STRING_NOSLASHESCAPE);

		if (ap_fs_write(dirfd, "MANIFEST.json", m, strlen(m), 0600) != AP_OK)
			return fail(ctx, AP_PB_FAILED, NULL, strerror(errno), AP_ERR_IO);
	}
	return AP_OK;
}

enum ap_err
ap_ops_backup_panel_run(struct helper_ctx *ctx)
{
	const struct ap_fieldval *a = ctx->args;
	const char *parent = ap_arena_printf(ctx->arena, "%s/.dumps", ctx->cfg->backups_dir);
	const char *rel = ap_arena_printf(ctx->arena, "%s/panel", parent), *dir, *why = NULL;
	bool secret = a[PR_SECRET].present && a[PR_SECRET].b;
	struct bkdest *d;
	struct json_object *summary = NULL, *manifest = json_object_new_object(), *v;
	struct ap_spawn_result res = { 0 };
	int top = -1, fd = -1;
	enum ap_err rc;

	if ((d = ap_bk_dest_load(ctx, a[PR_DEST].s)) == NULL) {
		json_object_put(manifest);
		return AP_ERR_NOTFOUND;
	}
	if (ap_fs_dir(ctx->sandbox_fd, parent, true, 0700, &top, &why) != AP_OK) {
		json_object_put(manifest);
		return fail(ctx, AP_PB_FAILED, NULL, why != NULL ? why : strerror(errno), AP_ERR_IO);
	}
	ap_fs_remove_tree(top, "panel");
	if (mkdirat(top, "panel", 0700) != 0 ||
	    (fd = openat(top, "panel", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		rc = fail(ctx, AP_PB_FAILED, NULL, strerror(errno), AP_ERR_IO);
		goto out;
	}
	dir = ap_bk_abs(ctx, rel);
	if ((rc = stage_panel(ctx, fd, dir, secret, manifest)) != AP_OK)
		goto out;
	if (secret)
		AP_WARN("panel backup to %s includes the secret key", a[PR_DEST].s);
	ap_job_progress(ctx->job, 8);
	if ((rc = ap_bk_restic(ctx, d, (const char *const[]){ "unlock", NULL }, 0, 0, NULL, 0,
	    &res)) != AP_OK)
		goto out;
	ap_spawn_result_free(&res);
	rc = ap_bk_restic(ctx, d, (const char *const[]){ "backup", "--json", "--host", "aapanel",
	    "--tag", PANEL_TAG, dir, NULL }, 10, 90, &summary, 0, &res);
	if (rc != AP_OK)
		goto out;
	if (summary == NULL || !json_object_object_get_ex(summary, "snapshot_id", &v)) {
		rc = fail(ctx, AP_PB_FAILED, NULL, "restic backup printed no summary", AP_ERR_IO);
		goto out;
	}
	json_object_object_add(ctx->result, "snapshot", json_object_get(v));
	json_object_object_add(ctx->result, "tag", json_object_new_string(PANEL_TAG));
	json_object_object_add(ctx->result, "secret", json_object_new_boolean(secret));
	if (json_object_object_get_ex(manifest, "files", &v))
		json_object_object_add(ctx->result, "files", json_object_get(v));
	if (json_object_object_get_ex(summary, "total_bytes_processed", &v))
		json_object_object_add(ctx->result, "bytes", json_object_get(v));
	ap_job_progress(ctx->job, 90);
	if (ap_bk_keep_any(a, PR_KEEP_LAST))
		rc = ap_bk_forget(ctx, d, PANEL_TAG, a, PR_KEEP_LAST);
out:
	if (fd >= 0)
		close(fd);
	if (top >= 0) {
		ap_fs_remove_tree(top, "panel");
		close(top);
	}
	json_object_put(summary);
	json_object_put(manifest);
	ap_spawn_result_free(&res);
	return rc;
}

/* The snapshot's id and its one path; refused unless it is tagged "panel". */
static enum ap_err
panel_snapshot(struct helper_ctx *ctx, const struct bkdest *d, const char *snap, const char **id,
    const char **path)
{
	struct ap_spawn_result res = { 0 };
	struct json_object *o = NULL, *s, *p, *t, *v;
	bool tagged = false;
	enum ap_err rc;

	rc = ap_bk_restic(ctx, d, (const char *const[]){ "snapshots", "--json", snap, NULL }, 0, 0,
	    NULL, 1 << 20, &res);
	if (rc != AP_OK) {
		snprintf(ctx->pb->field, sizeof(ctx->pb->field), "snapshot");
		goto out;
	}
	o = res.out.data != NULL ? json_tokener_parse(ap_arena_printf(ctx->arena, "%.*s",
	    (int)res.out.len, res.out.data)) : NULL;
	if (o == NULL || !json_object_is_type(o, json_type_array) ||
	    json_object_array_length(o) != 1) {
		rc = fail(ctx, AP_PB_NOT_FOUND, "snapshot", "no such snapshot", AP_ERR_NOTFOUND);
		goto out;
	}
	s = json_object_array_get_idx(o, 0);
	if (json_object_object_get_ex(s, "tags", &t) && json_object_is_type(t, json_type_array))
		for (size_t i = 0; i < json_object_array_length(t); i++)
			if (strcmp(json_object_get_string(json_object_array_get_idx(t, i)), PANEL_TAG) == 0)
				tagged = true;
	if (!tagged || !json_object_object_get_ex(s, "paths", &p) ||
	    !json_object_is_type(p, json_type_array) || json_object_array_length(p) != 1 ||
	    !json_object_object_get_ex(s, "id", &v)) {
		rc = fail(ctx, AP_PB_INVALID, "snapshot", "is not a backup of the panel", AP_ERR_INVAL);
		goto out;
	}
	*id = ap_arena_strdup(ctx->arena, json_object_get_string(v));
	*path = ap_arena_strdup(ctx->arena, json_object_get_string(json_object_array_get_idx(p, 0)));
	if ((*path)[0] != '/' || strstr(*path, "/..") != NULL) {
		rc = fail(ctx, AP_PB_INVALID, "snapshot", "holds an unexpected path", AP_ERR_INVAL);
		goto out;
	}
	rc = AP_OK;
out:
	json_object_put(o);
	ap_spawn_result_free(&res);
	return rc;
}

enum ap_err
ap_ops_backup_panel_restore(struct helper_ctx *ctx)
{
	const struct ap_fieldval *a = ctx->args;
	const char *rel = ap_arena_printf(ctx->arena, "%s/%s", ctx->cfg->backups_dir, RESTORES_DIR);
	const char *name = a[PS_NEW_DIR].s, *id = NULL, *path = NULL, *why = NULL, *stage, *inner;
	struct bkdest *d;
	struct ap_spawn_result res = { 0 };
	unsigned char rnd[4];
	int top = -1;
	enum ap_err rc;

	if ((d = ap_bk_dest_load(ctx, a[PS_DEST].s)) == NULL)
		return AP_ERR_NOTFOUND;
	if (ap_fs_dir(ctx->sandbox_fd, rel, true, 0700, &top, &why) != AP_OK)
		return fail(ctx, AP_PB_FAILED, NULL, why != NULL ? why : strerror(errno), AP_ERR_IO);
	if (faccessat(top, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		close(top);
		return fail(ctx, AP_PB_EXISTS, "new_dir", "the folder exists: the panel is restored into a new folder only",
		    AP_ERR_INVAL);
	}
	if ((rc = panel_snapshot(ctx, d, a[PS_SNAPSHOT].s, &id, &path)) != AP_OK) {
		close(top);
		return rc;
	}
	ap_job_progress(ctx->job, 20);
	if (getrandom(rnd, sizeof(rnd), 0) != 4)
		memset(rnd, 0, sizeof(rnd));
	stage = ap_arena_printf(ctx->arena, ".stage-%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3]);
	if (mkdirat(top, stage, 0700) != 0) {
		rc = fail(ctx, AP_PB_FAILED, NULL, strerror(errno), AP_ERR_IO);
		goto out;
	}
	/* restic 0.14 restores PATH at its full path beneath the target: STAGE/PATH. */
	rc = ap_bk_restic(ctx, d, (const char *const[]){ "restore", id, "--include", path,
	    "--target", ap_arena_printf(ctx->arena, "%s/%s", ap_bk_abs(ctx, rel), stage), NULL },
	    0, 0, NULL, 0, &res);
	if (rc != AP_OK)
		goto out;
	ap_job_progress(ctx->job, 80);
	inner = ap_arena_printf(ctx->arena, "%s%s", stage, path);
	if (faccessat(top, inner, F_OK, AT_SYMLINK_NOFOLLOW) != 0) {
		rc = fail(ctx, AP_PB_FAILED, "snapshot", "restic restored nothing", AP_ERR_IO);
		goto out;
	}
	if (renameat2(top, inner, top, name, RENAME_NOREPLACE) != 0) {
		rc = fail(ctx, errno == EEXIST ? AP_PB_EXISTS : AP_PB_FAILED, "new_dir",
		    strerror(errno), AP_ERR_IO);
		goto out;
	}
	json_object_object_add(ctx->result, "snapshot", json_object_new_string(id));
	json_object_object_add(ctx->result, "restored_to", json_object_new_string(
	    ap_bk_abs(ctx, ap_arena_printf(ctx->arena, "%s/%s", rel, name))));
	AP_INFO("panel snapshot %.12s restored into %s/%s", id, RESTORES_DIR, name);
out:
	ap_fs_remove_tree(top, stage);
	close(top);
	ap_spawn_result_free(&res);
	return rc;
}
