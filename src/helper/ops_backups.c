/*
 * ops_backups.c — backups and restores with restic (docs/backups.md).
 *
 * A destination is a directory <backups.dir>/<name>/ beneath the sandbox
 * root, mode 0700, that only the helper reads:
 *   url          the destination's URL (backupcheck.h)
 *   password     the repository's password (0600), generated here, or the
 *                one an admin gave for an existing repository
 *   region       S3: the region, when given
 *   credentials  S3: the keys in the AWS shared-credentials format (0600)
 *   ssh_key      SFTP: the private key (0600)
 *   known_hosts  SFTP: the server's host key, the only one accepted
 *   ca.pem       S3: the CA that signed the endpoint's certificate, when it is
 *                not one the system trusts (restic --cacert)
 *
 * restic runs only through spawn (spawn.h) with a fixed argv. Secrets are
 * never in argv or a log: the password goes as --password-file PATH, the S3
 * keys as AWS_SHARED_CREDENTIALS_FILE=PATH in restic's own environment
 * (minio-go's FileAWSCredentials reads it), SFTP as -o sftp.command=ssh ...
 * with the key file and the panel's own known_hosts (restic splits that
 * value on spaces itself; no shell; every path in it is made of
 * [A-Za-z0-9._/-]).
 *
 * Jobs (backup.dest_add, backup.run, backup.restore, backup.forget,
 * backup.check) report restic's --json status lines as progress. A job that
 * is cancelled (job.cancel) or killed leaves at most a stale lock, which
 * `restic unlock` (run before every change) removes.
 */
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aapanel/backupcheck.h"
#include "aapanel/log.h"
#include "bkprogress.h"
#include "jobs.h"
#include "ops.h"
#include "sandbox.h"
#include "sitefs.h"
#include "spawn.h"
#include "valid.h"
#include "bkdump.h"
#include "ops_backups.h"

#define BK_FILE_MAX 16384
#define BK_ERR_MAX 400
#define TRASH_DIR ".aapanel-trash"
#define RESTORE_PREFIX ".aapanel-restore-"

static const char *const bk_kinds[] = { "site", "database", NULL };
static const char *const bk_targets[] = { "inplace", "path", NULL };

static const char *
check_name(const char *s, size_t n)
{
	return ap_check_backup_dest_name(s, n);
}

static const char *
check_key_text(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] < 0x20 && s[i] != '\n' && s[i] != '\r') || s[i] == 0x7f)
			return "may not contain control characters";
	return NULL;
}

static const char *
check_s3_key(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f || s[i] == '=')
			return "must be printable ASCII without spaces or =";
	return NULL;
}

static const char *
check_region(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return "may only contain a-z, 0-9 and -";
	return NULL;
}

static const char *
check_db_list(const char *s, size_t n)
{
	/* server/name,server/name: both [a-z][a-z0-9_-]{0,31} / [a-z][a-z0-9_]{0,31} */
	size_t start = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == ',') {
			const char *p = s + start, *slash = memchr(p, '/', i - start);

			if (slash == NULL || ap_check_backup_dest_name(p, (size_t)(slash - p)) != NULL ||
			    ap_valid_identifier(slash + 1, (size_t)(s + i - slash - 1)) != NULL)
				return "must be a list of SERVER/DATABASE separated by commas";
			start = i + 1;
		}
	}
	return NULL;
}

/* SERVER/DB[=SERVER/NEWDB],...: each part as check_db_list's (checked again item by item). */
static const char *
check_restore_dbs(const char *s, size_t n)
{
	size_t start = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == ',' || s[i] == '=') {
			if (check_db_list(s + start, i - start) != NULL)
				return "must be a list of SERVER/DATABASE[=SERVER/NEWDATABASE] separated by commas";
			start = i + 1;
		}
	}
	return NULL;
}

static const char *
check_new_dir(const char *s, size_t n)
{
	return ap_check_backup_new_dir(s, n);
}

static const char *
check_docroot(const char *s, size_t n)
{
	return check_new_dir(s, n);
}

/* ---- argument tables ---------------------------------------------------- */

enum { DA_NAME, DA_URL, DA_REGION, DA_ACCESS_KEY, DA_SECRET_KEY, DA_SSH_KEY, DA_KNOWN_HOSTS,
	DA_PASSWORD, DA_CA_CERT, DA__MAX };
const struct ap_field ap_ops_backup_dest_add_args[DA__MAX + 1] = {
	[DA_NAME] = { .name = "name", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED |
	    AP_FIELD_SINGLELINE, .min = 1, .max = 32, .check = check_name },
	[DA_URL] = { .name = "url", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED |
	    AP_FIELD_SINGLELINE, .min = 1, .max = AP_BK_URL_MAX, .check = ap_check_backup_url },
	[DA_REGION] = { .name = "region", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE,
	    .max = 32, .check = check_region },
	[DA_ACCESS_KEY] = { .name = "access_key", .type = AP_FIELD_TEXT, .flags =
	    AP_FIELD_SINGLELINE | AP_FIELD_SECRET, .max = 256, .check = check_s3_key },
	[DA_SECRET_KEY] = { .name = "secret_key", .type = AP_FIELD_TEXT, .flags =
	    AP_FIELD_SINGLELINE | AP_FIELD_SECRET, .max = 256, .check = check_s3_key },
	[DA_SSH_KEY] = { .name = "ssh_key", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SECRET,
	    .max = 16384, .check = check_key_text },
	[DA_KNOWN_HOSTS] = { .name = "known_hosts", .type = AP_FIELD_TEXT, .max = 16384,
	    .check = check_key_text },
	[DA_PASSWORD] = { .name = "password", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE |
	    AP_FIELD_SECRET, .max = 1024 },
	[DA_CA_CERT] = { .name = "ca_cert", .type = AP_FIELD_TEXT, .max = 16384,
	    .check = check_key_text },
	[DA__MAX] = AP_FIELD_END,
};

enum { DN_NAME, DN__MAX };
const struct ap_field ap_ops_backup_dest_name_args[DN__MAX + 1] = {
	[DN_NAME] = { .name = "name", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED |
	    AP_FIELD_SINGLELINE, .min = 1, .max = 32, .check = check_name },
	[DN__MAX] = AP_FIELD_END,
};

enum { BR_DEST, BR_KIND, BR_DOMAIN, BR_ROOT, BR_DATABASES, BR_KEEP_LAST, BR_KEEP_DAILY,
	BR_KEEP_WEEKLY, BR_KEEP_MONTHLY, BR__MAX };
#define KEEP_FIELD(n) { .name = n, .type = AP_FIELD_INT, .min = 0, .max = AP_BK_KEEP_MAX }
const struct ap_field ap_ops_backup_run_args[BR__MAX + 1] = {
	[BR_DEST] = { .name = "dest", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED |
	    AP_FIELD_SINGLELINE, .min = 1, .max = 32, .check = check_name },
	[BR_KIND] = { .name = "kind", .type = AP_FIELD_ENUM, .flags = AP_FIELD_REQUIRED,
	    .choices = bk_kinds },
	[BR_DOMAIN] = { .name = "domain", .type = AP_FIELD_HOSTNAME, .check = ap_valid_domain },
	[BR_ROOT] = { .name = "root", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE,
	    .max = 64, .check = check_docroot },
	[BR_DATABASES] = { .name = "databases", .type = AP_FIELD_TEXT, .flags =
	    AP_FIELD_SINGLELINE, .max = 4096, .check = check_db_list },
	[BR_KEEP_LAST] = KEEP_FIELD("keep_last"),
	[BR_KEEP_DAILY] = KEEP_FIELD("keep_daily"),
	[BR_KEEP_WEEKLY] = KEEP_FIELD("keep_weekly"),
	[BR_KEEP_MONTHLY] = KEEP_FIELD("keep_monthly"),
	[BR__MAX] = AP_FIELD_END,
};

enum { BF_DEST, BF_TAG, BF_KEEP_LAST, BF_KEEP_DAILY, BF_KEEP_WEEKLY, BF_KEEP_MONTHLY, BF__MAX };
const struct ap_field ap_ops_backup_forget_args[BF__MAX + 1] = {
	[BF_DEST] = { .name = "dest", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED |
	    AP_FIELD_SINGLELINE, .min = 1, .max = 32, .check = check_name },
	[BF_TAG] = { .name = "tag", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED |
	    AP_FIELD_SINGLELINE, .min = 1, .max = 300, .check = ap_check_backup_tag },
	[BF_KEEP_LAST] = KEEP_FIELD("keep_last"),
	[BF_KEEP_DAILY] = KEEP_FIELD("keep_daily"),
	[BF_KEEP_WEEKLY] = KEEP_FIELD("keep_weekly"),
	[BF_KEEP_MONTHLY] = KEEP_FIELD("keep_monthly"),
	[BF__MAX] = AP_FIELD_END,
};

enum { BS_DEST, BS_TAG, BS__MAX };
const struct ap_field ap_ops_backup_snapshots_args[BS__MAX + 1] = {
	[BS_DEST] = { .name = "dest", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED |
	    AP_FIELD_SINGLELINE, .min = 1, .max = 32, .check = check_name },
	[BS_TAG] = { .name = "tag", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE,
	    .max = 300, .check = ap_check_backup_tag },
	[BS__MAX] = AP_FIELD_END,
};

enum { BL_DEST, BL_SNAPSHOT, BL_PATH, BL__MAX };
const struct ap_field ap_ops_backup_ls_args[BL__MAX + 1] = {
	[BL_DEST] = { .name = "dest", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED |
	    AP_FIELD_SINGLELINE, .min = 1, .max = 32, .check = check_name },
	[BL_SNAPSHOT] = { .name = "snapshot", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED |
	    AP_FIELD_SINGLELINE, .min = 6, .max = 64, .check = ap_check_backup_snapshot },
	[BL_PATH] = { .name = "path", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE,
	    .max = 4096, .check = ap_check_backup_inner_path },
	[BL__MAX] = AP_FIELD_END,
};

enum { RS_DEST, RS_SNAPSHOT, RS_DOMAIN, RS_ROOT, RS_TARGET, RS_NEW_DIR, RS_DATABASES,
	RS_FILES, RS__MAX };
const struct ap_field ap_ops_backup_restore_args[RS__MAX + 1] = {
	[RS_DEST] = { .name = "dest", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED |
	    AP_FIELD_SINGLELINE, .min = 1, .max = 32, .check = check_name },
	[RS_SNAPSHOT] = { .name = "snapshot", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED |
	    AP_FIELD_SINGLELINE, .min = 6, .max = 64, .check = ap_check_backup_snapshot },
	[RS_DOMAIN] = { .name = "domain", .type = AP_FIELD_HOSTNAME, .check = ap_valid_domain },
	[RS_ROOT] = { .name = "root", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE,
	    .max = 64, .check = check_docroot },
	[RS_TARGET] = { .name = "target", .type = AP_FIELD_ENUM, .flags = AP_FIELD_REQUIRED,
	    .choices = bk_targets },
	[RS_NEW_DIR] = { .name = "new_dir", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE,
	    .max = 64, .check = check_new_dir },
	/* SERVER/DB[=SERVER/NEWDB],...: which dumps to load, and where (default: where they came from). */
	[RS_DATABASES] = { .name = "databases", .type = AP_FIELD_TEXT, .flags =
	    AP_FIELD_SINGLELINE, .max = 4096, .check = check_restore_dbs },
	[RS_FILES] = { .name = "files", .type = AP_FIELD_BOOL },
	[RS__MAX] = AP_FIELD_END,
};

enum { BC_DEST, BC_SUBSET, BC__MAX };
const struct ap_field ap_ops_backup_check_args[BC__MAX + 1] = {
	[BC_DEST] = { .name = "dest", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED |
	    AP_FIELD_SINGLELINE, .min = 1, .max = 32, .check = check_name },
	[BC_SUBSET] = { .name = "subset", .type = AP_FIELD_INT, .min = 0, .max = 100 },
	[BC__MAX] = AP_FIELD_END,
};

/* ---- small helpers ------------------------------------------------------ */

static enum ap_err
fail(struct helper_ctx *ctx, enum ap_pb_code code, const char *field, const char *reason,
    enum ap_err rc)
{
	ap_problem_set(ctx->pb, code, field, "%s", reason);
	return rc;
}

/* The absolute path of rel (beneath the sandbox root), in the arena. */
static const char *
abs_path(struct helper_ctx *ctx, const char *rel)
{
	const char *root = ctx->cfg->helper_sandbox_root;
	size_t n = strlen(root);

	while (n > 0 && root[n - 1] == '/')
		n--;
	while (rel[0] == '/')
		rel++;
	return ap_arena_printf(ctx->arena, "%.*s/%s", (int)n, root, rel);
}

/* A path restic or ssh may get in a value it splits on spaces: [A-Za-z0-9._/-] only. */
static bool
plain_path(const char *p)
{
	for (; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			*p == '.' || *p == '_' || *p == '/' || *p == '-'))
			return false;
	return true;
}

/* ---- a destination ------------------------------------------------------ */

struct bkdest {
	const char *name;
	struct ap_bk_url u;
	char repo[AP_BK_URL_MAX + 64];
	const char *dir; /* absolute */
	const char *pw, *cred, *key, *kh;
	const char *sftp_opt; /* "sftp.command=ssh ..." or NULL */
	const char *region_opt;
	const char *cacert; /* S3: --cacert PATH, or NULL */
	const char *env[4];
};

static enum ap_err
dest_dir(struct helper_ctx *ctx, const char *name, bool create, int *fd)
{
	const char *why = NULL;
	const char *rel = name != NULL ? ap_arena_printf(ctx->arena, "%s/%s", ctx->cfg->backups_dir,
	    name) : ctx->cfg->backups_dir;
	enum ap_err rc = ap_fs_dir(ctx->sandbox_fd, rel, create, 0700, fd, &why);

	if (rc == AP_ERR_NOTFOUND)
		return fail(ctx, AP_PB_NOT_FOUND, "dest", "no such backup destination", rc);
	if (rc != AP_OK) {
		ap_problem_set(ctx->pb, AP_PB_INTERNAL, NULL, "%s: %s", rel,
		    why != NULL ? why : strerror(errno));
		return AP_ERR_IO;
	}
	return AP_OK;
}

/* Fill d's paths and options for name, its files in the directory dir (absolute). */
static enum ap_err
dest_fill(struct helper_ctx *ctx, struct bkdest *d, const char *name, const char *url,
    const char *dir, bool has_region, const char *region, bool has_ca)
{
	const char *why;
	size_t ne = 0;

	memset(d, 0, sizeof(*d));
	d->name = name;
	if ((why = ap_bk_url_parse(url, &d->u)) != NULL)
		return fail(ctx, AP_PB_INVALID, "url", why, AP_ERR_INVAL);
	d->dir = dir;
	if (!plain_path(dir))
		return fail(ctx, AP_PB_INTERNAL, NULL,
		    "backups.dir must be made of A-Z, a-z, 0-9 and . _ - / only", AP_ERR_INVAL);
	d->pw = ap_arena_printf(ctx->arena, "%s/password", dir);
	d->cred = ap_arena_printf(ctx->arena, "%s/credentials", dir);
	d->key = ap_arena_printf(ctx->arena, "%s/ssh_key", dir);
	d->kh = ap_arena_printf(ctx->arena, "%s/known_hosts", dir);
	if (d->u.kind == AP_BK_LOCAL) {
		/* A local folder is a system path: beneath the sandbox root like every other. */
		const char *p = abs_path(ctx, d->u.path);

		if (strlen(p) >= sizeof(d->repo) || !plain_path(p))
			return fail(ctx, AP_PB_INVALID, "url", "the folder's path is too long",
			    AP_ERR_INVAL);
		snprintf(d->repo, sizeof(d->repo), "%s", p);
	} else if (!ap_bk_url_repo(&d->u, d->repo, sizeof(d->repo)))
		return fail(ctx, AP_PB_INVALID, "url", "is too long", AP_ERR_INVAL);
	if (d->u.kind == AP_BK_SFTP)
		d->sftp_opt = ap_arena_printf(ctx->arena,
		    "sftp.command=/usr/bin/ssh -F /dev/null -i %s -o IdentitiesOnly=yes "
		    "-o UserKnownHostsFile=%s -o GlobalKnownHostsFile=/dev/null "
		    "-o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=10 "
		    "-o ServerAliveInterval=5 -o ServerAliveCountMax=2 -p %d -l %s %s -s sftp",
		    d->key, d->kh, d->u.port, d->u.user, d->u.host);
	if (d->u.kind == AP_BK_S3) {
		d->env[ne++] = ap_arena_printf(ctx->arena, "AWS_SHARED_CREDENTIALS_FILE=%s", d->cred);
		d->env[ne++] = "AWS_PROFILE=default";
		if (has_region)
			d->region_opt = ap_arena_printf(ctx->arena, "s3.region=%s", region);
		if (has_ca)
			d->cacert = ap_arena_printf(ctx->arena, "%s/ca.pem", dir);
	}
	d->env[ne++] = "RESTIC_PROGRESS_FPS=2";
	d->env[ne] = NULL;
	return AP_OK;
}

/* Load the destination name from its directory. */
static enum ap_err
dest_load(struct helper_ctx *ctx, const char *name, struct bkdest *d)
{
	struct ap_buf url = { 0 }, region = { 0 };
	int fd = -1;
	enum ap_err rc;
	bool has_region;

	if ((rc = dest_dir(ctx, name, false, &fd)) != AP_OK)
		return rc;
	if (ap_fs_read(fd, "url", 1024, &url) != AP_OK) {
		rc = fail(ctx, AP_PB_FAILED, "dest", "the destination's files are incomplete", AP_ERR_IO);
		goto out;
	}
	ap_buf_cstr(&url);
	while (url.len > 0 && (url.data[url.len - 1] == '\n' || url.data[url.len - 1] == '\0'))
		url.data[--url.len] = '\0';
	has_region = ap_fs_read(fd, "region", 64, &region) == AP_OK;
	ap_buf_cstr(&region);
	rc = dest_fill(ctx, d, ap_arena_strdup(ctx->arena, url.data),
	    ap_arena_strdup(ctx->arena, url.data), abs_path(ctx,
		ap_arena_printf(ctx->arena, "%s/%s", ctx->cfg->backups_dir, name)),
	    has_region && region.len > 0, ap_buf_cstr(&region),
	    faccessat(fd, "ca.pem", F_OK, AT_SYMLINK_NOFOLLOW) == 0);
	d->name = ap_arena_strdup(ctx->arena, name);
out:
	ap_buf_free(&url);
	ap_buf_free(&region);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* ---- running restic ----------------------------------------------------- */

struct rrun {
	struct helper_ctx *ctx;
	struct ap_buf line;   /* stdout's incomplete line */
	bool progress;        /* parse status lines into the job's progress */
	int lo, hi;           /* the job's progress range for this run */
	int out_fd;           /* stdout into this descriptor (dump), or -1 */
	size_t out_max, out_len;
	bool out_over;
	struct json_object *summary; /* the last "summary" line (owned) */
	int64_t ls_bytes;            /* `ls --json`: the sizes of the files listed (bkprogress.h) */
};

static void
rrun_line(struct rrun *r, const char *s, size_t n)
{
	struct json_object *o, *t, *p;

	if (n == 0 || s[0] != '{')
		return;
	o = json_tokener_parse(ap_arena_printf(r->ctx->arena, "%.*s", (int)n, s));
	if (o == NULL)
		return;
	if (json_object_object_get_ex(o, "message_type", &t)) {
		const char *mt = json_object_get_string(t);

		if (strcmp(mt, "status") == 0 && r->ctx->job != NULL &&
		    json_object_object_get_ex(o, "percent_done", &p)) {
			double f = json_object_get_double(p);

			if (f >= 0 && f <= 1)
				ap_job_progress(r->ctx->job, r->lo + (int)(f * (r->hi - r->lo)));
		} else if (strcmp(mt, "summary") == 0) {
			json_object_put(r->summary);
			r->summary = json_object_get(o);
		}
	} else if (json_object_object_get_ex(o, "struct_type", &t) && strcmp(json_object_get_string(t), "node") == 0 &&
	    json_object_object_get_ex(o, "type", &t) && strcmp(json_object_get_string(t), "file") == 0 &&
	    json_object_object_get_ex(o, "size", &p)) {
		r->ls_bytes += json_object_get_int64(p);
	}
	json_object_put(o);
}

static void
rrun_output(void *p, int stream, const char *data, size_t len)
{
	struct rrun *r = p;

	if (stream != 1)
		return;
	if (r->out_fd >= 0) {
		if (r->out_len + len > r->out_max) {
			r->out_over = true;
			return;
		}
		while (len > 0) {
			ssize_t w = write(r->out_fd, data, len);

			if (w < 0) {
				if (errno == EINTR)
					continue;
				r->out_over = true;
				return;
			}
			data += w;
			len -= (size_t)w;
			r->out_len += (size_t)w;
		}
		return;
	}
	if (!r->progress)
		return;
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\n') {
			rrun_line(r, r->line.data != NULL ? r->line.data : "", r->line.len);
			r->line.len = 0;
		} else if (r->line.len < 65536)
			ap_buf_putc(&r->line, data[i]);
	}
}

/*
 * Run restic SUBCOMMAND args... against d. res is filled (free it); on a
 * failure to start or a non-zero exit, pb gets restic's last error line.
 * max_output: what stdout keeps (0 = spawn's default); r may be NULL.
 */
static enum ap_err
restic(struct helper_ctx *ctx, const struct bkdest *d, const char *const *args, struct rrun *r,
    size_t max_output, const char *cwd, struct ap_spawn_result *res)
{
	const char *argv[AP_SPAWN_MAX_ARGS];
	struct ap_spawn sp = { 0 };
	char err[256];
	size_t n = 0;
	enum ap_err rc;

	argv[n++] = "restic";
	for (size_t i = 0; args[i] != NULL && n < AP_SPAWN_MAX_ARGS - 16; i++)
		argv[n++] = args[i];
	argv[n++] = "--repo";
	argv[n++] = d->repo;
	argv[n++] = "--password-file";
	argv[n++] = d->pw;
	argv[n++] = "--no-cache";
	if (d->sftp_opt != NULL) {
		argv[n++] = "-o";
		argv[n++] = d->sftp_opt;
	}
	if (d->region_opt != NULL) {
		argv[n++] = "-o";
		argv[n++] = d->region_opt;
	}
	if (d->cacert != NULL) {
		argv[n++] = "--cacert";
		argv[n++] = d->cacert;
	}
	argv[n] = NULL;
	sp.path = ctx->cfg->backups_restic;
	sp.argv = argv;
	sp.env = d->env;
	sp.cwd = cwd;
	sp.timeout_ms = ctx->job != NULL ? ctx->cfg->helper_job_timeout * 1000
					 : ctx->cfg->helper_timeout_ms > 2000 ? ctx->cfg->helper_timeout_ms - 1000 : 1000;
	sp.max_output = max_output;
	sp.max_memory = 4ULL * 1024 * 1024 * 1024;
	if (r != NULL) {
		sp.on_output = rrun_output;
		sp.on_output_ctx = r;
	}
	/*
	 * Under systemd the helper's own unit reaches neither the network (IP to
	 * localhost only) nor a local repository outside its ReadWritePaths=:
	 * restic runs as a transient unit of its own, as root in the server's
	 * namespaces (docs/helper.md, "Sandbox and what each operation needs").
	 */
	if (ap_spawn_units_available(NULL, 0)) {
		static unsigned seq;

		sp.unit = ap_arena_printf(ctx->arena, "aapanel-restic-%ld-%u", (long)getpid(), ++seq);
		sp.unit_sandbox = AP_SPAWN_SB_NONE;
	}
	rc = ap_spawn_run(&sp, res, err, sizeof(err));
	if (rc != AP_OK)
		return fail(ctx, AP_PB_FAILED, NULL, err, AP_ERR_IO);
	if (!res->exited || res->exit_code != 0) {
		/* restic's last line on stderr: "Fatal: ..." says what went wrong. */
		const char *e = res->err.data != NULL ? res->err.data : "";
		size_t len = res->err.len, end = len, start;

		while (end > 0 && (e[end - 1] == '\n' || e[end - 1] == ' '))
			end--;
		start = end;
		while (start > 0 && e[start - 1] != '\n')
			start--;
		if (end - start > BK_ERR_MAX)
			start = end - BK_ERR_MAX;
		if (res->timed_out)
			ap_problem_set(ctx->pb, AP_PB_TIMEOUT, NULL, "restic %s ran out of time",
			    args[0]);
		else if (end > start)
			ap_problem_set(ctx->pb, AP_PB_FAILED, NULL, "restic %s: %.*s", args[0],
			    (int)(end - start), e + start);
		else
			ap_problem_set(ctx->pb, AP_PB_FAILED, NULL, "restic %s ended with status %d",
			    args[0], res->exited ? res->exit_code : 128 + res->signal);
		return AP_ERR_IO;
	}
	return AP_OK;
}

/* restic with no output kept but errors: for unlock, init, forget. */
static enum ap_err
restic_simple(struct helper_ctx *ctx, const struct bkdest *d, const char *const *args)
{
	struct ap_spawn_result res;
	enum ap_err rc = restic(ctx, d, args, NULL, 0, NULL, &res);

	ap_spawn_result_free(&res);
	return rc;
}

/* ---- backup.dest_add (a job): write the files, open or create the repository ---- */

static enum ap_err
write_secret(struct helper_ctx *ctx, int fd, const char *name, const char *data, size_t len)
{
	if (ap_fs_write(fd, name, data, len, 0600) != AP_OK)
		return fail(ctx, AP_PB_FAILED, NULL, strerror(errno), AP_ERR_IO);
	return AP_OK;
}

enum ap_err
ap_ops_backup_dest_add(struct helper_ctx *ctx)
{
	const struct ap_fieldval *a = ctx->args;
	const char *name = a[DA_NAME].s, *tmpname, *url = a[DA_URL].s;
	struct bkdest d;
	struct ap_bk_url u;
	struct ap_spawn_result res = { 0 };
	int top = -1, fd = -1;
	bool created = false, made = false;
	enum ap_err rc;

	if (ap_bk_url_parse(url, &u) != NULL)
		return fail(ctx, AP_PB_INVALID, "url", "is not a destination URL", AP_ERR_INVAL);
	if (u.kind == AP_BK_S3 && (!a[DA_ACCESS_KEY].present || a[DA_ACCESS_KEY].len == 0))
		return fail(ctx, AP_PB_INVALID, "access_key", "is required for an S3 destination",
		    AP_ERR_INVAL);
	if (u.kind == AP_BK_S3 && (!a[DA_SECRET_KEY].present || a[DA_SECRET_KEY].len == 0))
		return fail(ctx, AP_PB_INVALID, "secret_key", "is required for an S3 destination",
		    AP_ERR_INVAL);
	if (u.kind == AP_BK_SFTP && (!a[DA_SSH_KEY].present || a[DA_SSH_KEY].len == 0))
		return fail(ctx, AP_PB_INVALID, "ssh_key", "is required for an SFTP destination",
		    AP_ERR_INVAL);
	if (u.kind == AP_BK_SFTP && (!a[DA_KNOWN_HOSTS].present || a[DA_KNOWN_HOSTS].len == 0))
		return fail(ctx, AP_PB_INVALID, "known_hosts",
		    "is required for an SFTP destination (the server's host key, as ssh-keyscan prints it)",
		    AP_ERR_INVAL);
	if ((rc = dest_dir(ctx, NULL, true, &top)) != AP_OK)
		return rc;
	if (faccessat(top, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		rc = fail(ctx, AP_PB_EXISTS, "name", "a destination with this name exists", AP_ERR_IO);
		goto out;
	}
	tmpname = ap_arena_printf(ctx->arena, ".%s.new", name);
	ap_fs_remove_tree(top, tmpname);
	if (mkdirat(top, tmpname, 0700) != 0 ||
	    (fd = openat(top, tmpname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		rc = fail(ctx, AP_PB_FAILED, NULL, strerror(errno), AP_ERR_IO);
		goto out;
	}
	made = true;
	if (ap_fs_write(fd, "url", url, strlen(url), 0600) != AP_OK) {
		rc = fail(ctx, AP_PB_FAILED, NULL, strerror(errno), AP_ERR_IO);
		goto out;
	}
	if (a[DA_PASSWORD].present && a[DA_PASSWORD].len > 0)
		rc = write_secret(ctx, fd, "password", a[DA_PASSWORD].s, a[DA_PASSWORD].len);
	else {
		unsigned char rnd[32];
		char hex[65];

		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
			rc = fail(ctx, AP_PB_FAILED, NULL, "no random bytes", AP_ERR_IO);
			goto out;
		}
		for (size_t i = 0; i < sizeof(rnd); i++)
			snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
		rc = write_secret(ctx, fd, "password", hex, 64);
		explicit_bzero(hex, sizeof(hex));
		explicit_bzero(rnd, sizeof(rnd));
	}
	if (rc != AP_OK)
		goto out;
	if (u.kind == AP_BK_S3) {
		const char *c = ap_arena_printf(ctx->arena,
		    "[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n",
		    a[DA_ACCESS_KEY].s, a[DA_SECRET_KEY].s);

		rc = write_secret(ctx, fd, "credentials", c, strlen(c));
		explicit_bzero((char *)c, strlen(c));
		if (rc == AP_OK && a[DA_REGION].present && a[DA_REGION].len > 0)
			rc = write_secret(ctx, fd, "region", a[DA_REGION].s, a[DA_REGION].len);
		if (rc == AP_OK && a[DA_CA_CERT].present && a[DA_CA_CERT].len > 0)
			rc = write_secret(ctx, fd, "ca.pem", a[DA_CA_CERT].s, a[DA_CA_CERT].len);
	}
	if (u.kind == AP_BK_SFTP) {
		const char *k = a[DA_SSH_KEY].s;
		size_t kl = a[DA_SSH_KEY].len;
		const char *key = kl > 0 && k[kl - 1] != '\n' ? ap_arena_printf(ctx->arena, "%s\n", k) : k;

		rc = write_secret(ctx, fd, "ssh_key", key, strlen(key));
		if (rc == AP_OK) {
			/* The host key line, written for the host as ssh names it ([host]:port). */
			const char *kh = a[DA_KNOWN_HOSTS].s;

			rc = write_secret(ctx, fd, "known_hosts", kh, strlen(kh));
		}
	}
	if (rc != AP_OK)
		goto out;
	ap_job_progress(ctx->job, 10);
	rc = dest_fill(ctx, &d, name, url, abs_path(ctx, ap_arena_printf(ctx->arena, "%s/%s",
	    ctx->cfg->backups_dir, tmpname)), a[DA_REGION].present && a[DA_REGION].len > 0,
	    a[DA_REGION].s, u.kind == AP_BK_S3 && a[DA_CA_CERT].present && a[DA_CA_CERT].len > 0);
	if (rc != AP_OK)
		goto out;
	if (u.kind == AP_BK_LOCAL) {
		/* The folder itself, made beneath the sandbox root when missing (0700). */
		int lfd = -1;
		const char *why = NULL;

		if (ap_fs_dir(ctx->sandbox_fd, u.path + 1, true, 0700, &lfd, &why) != AP_OK) {
			/* Under systemd the helper's own unit writes only its ReadWritePaths=:
			 * restic's transient unit makes the folder (restic init). */
			if (errno != EROFS || !ap_spawn_units_available(NULL, 0)) {
				rc = fail(ctx, AP_PB_FAILED, "url", why != NULL ? why : strerror(errno),
				    AP_ERR_IO);
				goto out;
			}
		} else {
			close(lfd);
		}
	}
	/* Open it: an existing repository answers `cat config`. */
	rc = restic(ctx, &d, (const char *const[]){ "cat", "config", NULL }, NULL, 0, NULL, &res);
	if (rc != AP_OK) {
		const char *why = ctx->pb->reason;

		if (strstr(why, "wrong password") != NULL || strstr(why, "no key found") != NULL) {
			ap_problem_set(ctx->pb, AP_PB_FAILED, "password",
			    "a repository exists there and this password does not open it");
			goto out;
		}
		if (a[DA_PASSWORD].present && a[DA_PASSWORD].len > 0) {
			rc = fail(ctx, AP_PB_FAILED, "url",
			    ap_arena_printf(ctx->arena, "no repository to open there: %s", why),
			    AP_ERR_IO);
			goto out;
		}
		ap_job_progress(ctx->job, 40);
		ap_spawn_result_free(&res);
		ctx->pb->code = AP_PB_NONE;
		rc = restic(ctx, &d, (const char *const[]){ "init", NULL }, NULL, 0, NULL, &res);
		if (rc != AP_OK) {
			snprintf(ctx->pb->field, sizeof(ctx->pb->field), "url");
			goto out;
		}
		created = true;
	}
	if (renameat2(top, tmpname, top, name, RENAME_NOREPLACE) != 0) {
		rc = fail(ctx, errno == EEXIST ? AP_PB_EXISTS : AP_PB_FAILED, "name", strerror(errno),
		    AP_ERR_IO);
		goto out;
	}
	made = false;
	json_object_object_add(ctx->result, "name", json_object_new_string(name));
	json_object_object_add(ctx->result, "kind", json_object_new_string(ap_bk_kind_name(u.kind)));
	json_object_object_add(ctx->result, "created", json_object_new_boolean(created));
	AP_INFO("backup destination %s (%s) %s", name, ap_bk_kind_name(u.kind),
	    created ? "created" : "opened");
	rc = AP_OK;
out:
	ap_spawn_result_free(&res);
	if (fd >= 0)
		close(fd);
	if (made)
		ap_fs_remove_tree(top, tmpname);
	if (top >= 0)
		close(top);
	return rc;
}

/* ---- backup.dest_remove: forget the destination's files (the repository stays) ---- */

enum ap_err
ap_ops_backup_dest_remove(struct helper_ctx *ctx)
{
	const char *name = ctx->args[DN_NAME].s;
	int top = -1;
	enum ap_err rc;

	if ((rc = dest_dir(ctx, NULL, true, &top)) != AP_OK)
		return rc;
	if (faccessat(top, name, F_OK, AT_SYMLINK_NOFOLLOW) != 0)
		rc = fail(ctx, AP_PB_NOT_FOUND, "name", "no such backup destination", AP_ERR_NOTFOUND);
	else if (ap_fs_remove_tree(top, name) != AP_OK)
		rc = fail(ctx, AP_PB_FAILED, "name", strerror(errno), AP_ERR_IO);
	close(top);
	return rc;
}

/* ---- retention ---------------------------------------------------------- */

static bool
keep_any(const struct ap_fieldval *v, int first)
{
	for (int i = 0; i < 4; i++)
		if (v[first + i].present && v[first + i].i > 0)
			return true;
	return false;
}

/* restic forget --prune for tag with keep_last..keep_monthly at v[first..first+3]. */
static enum ap_err
forget(struct helper_ctx *ctx, const struct bkdest *d, const char *tag,
    const struct ap_fieldval *v, int first, struct json_object *result)
{
	static const char *const flags[] = { "--keep-last", "--keep-daily", "--keep-weekly",
		"--keep-monthly" };
	const char *args[24];
	struct ap_spawn_result res = { 0 };
	struct json_object *o = NULL;
	size_t n = 0;
	int removed = 0, kept = 0;
	enum ap_err rc;

	args[n++] = "forget";
	args[n++] = "--prune";
	args[n++] = "--json";
	args[n++] = "--tag";
	args[n++] = tag;
	args[n++] = "--group-by";
	args[n++] = "tags";
	for (int i = 0; i < 4; i++)
		if (v[first + i].present && v[first + i].i > 0) {
			args[n++] = flags[i];
			args[n++] = ap_arena_printf(ctx->arena, "%lld", (long long)v[first + i].i);
		}
	args[n] = NULL;
	rc = restic(ctx, d, args, NULL, 4 << 20, NULL, &res);
	if (rc != AP_OK)
		goto out;
	/* --json prints the groups' decisions on the first line, prune's text after it. */
	if (res.out.data != NULL) {
		char *nl = memchr(res.out.data, '\n', res.out.len);

		o = json_tokener_parse(ap_arena_printf(ctx->arena, "%.*s",
		    (int)(nl != NULL ? (size_t)(nl - res.out.data) : res.out.len), res.out.data));
	}
	for (size_t g = 0; o != NULL && json_object_is_type(o, json_type_array) &&
	     g < json_object_array_length(o); g++) {
		struct json_object *grp = json_object_array_get_idx(o, g), *k, *r;

		if (json_object_object_get_ex(grp, "keep", &k) && json_object_is_type(k, json_type_array))
			kept += (int)json_object_array_length(k);
		if (json_object_object_get_ex(grp, "remove", &r) && json_object_is_type(r, json_type_array))
			removed += (int)json_object_array_length(r);
	}
	json_object_object_add(result, "kept", json_object_new_int(kept));
	json_object_object_add(result, "removed", json_object_new_int(removed));
out:
	json_object_put(o);
	ap_spawn_result_free(&res);
	return rc;
}

enum ap_err
ap_ops_backup_forget(struct helper_ctx *ctx)
{
	struct bkdest d;
	enum ap_err rc;

	if (!keep_any(ctx->args, BF_KEEP_LAST))
		return fail(ctx, AP_PB_INVALID, "keep_last",
		    "a retention policy keeps at least one snapshot (keep_last, _daily, _weekly or _monthly)",
		    AP_ERR_INVAL);
	if ((rc = dest_load(ctx, ctx->args[BF_DEST].s, &d)) != AP_OK)
		return rc;
	if ((rc = restic_simple(ctx, &d, (const char *const[]){ "unlock", NULL })) != AP_OK)
		return rc;
	ap_job_progress(ctx->job, 10);
	return forget(ctx, &d, ctx->args[BF_TAG].s, ctx->args, BF_KEEP_LAST, ctx->result);
}

/* ---- database dumps (bkdump.c) ------------------------------------------ */

/* Dump every SERVER/DB of list into a fresh directory rel (beneath the sandbox). */
static enum ap_err
dump_all(struct helper_ctx *ctx, const char *rel, const char *list, int *count)
{
	char *l = ap_arena_strdup(ctx->arena, list), *save = NULL, *item;
	const char *why = NULL, *parent = ap_arena_printf(ctx->arena, "%s/.dumps",
	    ctx->cfg->backups_dir);
	int top = -1, fd = -1;
	enum ap_err rc;

	*count = 0;
	if (ap_fs_dir(ctx->sandbox_fd, parent, true, 0700, &top, &why) != AP_OK)
		return fail(ctx, AP_PB_FAILED, NULL, why != NULL ? why : strerror(errno), AP_ERR_IO);
	ap_fs_remove_tree(top, strrchr(rel, '/') + 1);
	close(top);
	if (ap_fs_dir(ctx->sandbox_fd, rel, true, 0700, &fd, &why) != AP_OK)
		return fail(ctx, AP_PB_FAILED, NULL, why != NULL ? why : strerror(errno), AP_ERR_IO);
	rc = AP_OK;
	for (item = strtok_r(l, ",", &save); item != NULL && rc == AP_OK;
	     item = strtok_r(NULL, ",", &save)) {
		char *slash = strchr(item, '/');

		*slash = '\0';
		rc = ap_bkdump_write(ctx, fd, item, slash + 1, NULL,
		    ap_arena_printf(ctx->arena, "%s.%s.sql", item, slash + 1));
		if (rc == AP_OK)
			(*count)++;
		ap_job_progress(ctx->job, 2 + *count);
	}
	close(fd);
	return rc;
}

/* ---- backup.run (a job) -------------------------------------------------- */

enum ap_err
ap_ops_backup_run(struct helper_ctx *ctx)
{
	const struct ap_fieldval *a = ctx->args;
	const char *kind = a[BR_KIND].s, *tag, *paths[8], *dumpdir = NULL, *dumprel = NULL;
	const char *args[32];
	struct bkdest d;
	struct rrun r = { .ctx = ctx, .progress = true, .out_fd = -1 };
	struct ap_spawn_result res = { 0 };
	struct json_object *v;
	size_t n = 0, np = 0;
	int dumps = 0;
	enum ap_err rc;

	if ((rc = dest_load(ctx, a[BR_DEST].s, &d)) != AP_OK)
		return rc;
	if (strcmp(kind, "site") == 0) {
		const char *root = a[BR_ROOT].present && a[BR_ROOT].len > 0 ? a[BR_ROOT].s : "public";
		const char *rel;
		int fd = -1;
		const char *why = NULL;

		if (!a[BR_DOMAIN].present)
			return fail(ctx, AP_PB_INVALID, "domain", "is required to back up a site",
			    AP_ERR_INVAL);
		rel = ap_arena_printf(ctx->arena, "%s/%s/%s", ctx->cfg->sites_web_root,
		    a[BR_DOMAIN].s, root);
		if (ap_fs_dir(ctx->sandbox_fd, rel, false, 0, &fd, &why) != AP_OK)
			return fail(ctx, AP_PB_NOT_FOUND, "domain",
			    "the site's document root does not exist", AP_ERR_NOTFOUND);
		close(fd);
		paths[np++] = abs_path(ctx, rel);
		tag = ap_arena_printf(ctx->arena, "site:%s", a[BR_DOMAIN].s);
	} else if (strcmp(kind, "database") == 0) {
		if (!a[BR_DATABASES].present || a[BR_DATABASES].len == 0 ||
		    strchr(a[BR_DATABASES].s, ',') != NULL)
			return fail(ctx, AP_PB_INVALID, "databases",
			    "names the one database to back up, as SERVER/DATABASE", AP_ERR_INVAL);
		tag = ap_arena_printf(ctx->arena, "database:%s", strchr(a[BR_DATABASES].s, '/') + 1);
	} else
		return fail(ctx, AP_PB_INVALID, "kind", "must be site or database", AP_ERR_INVAL);
	if (a[BR_DATABASES].present && a[BR_DATABASES].len > 0) {
		dumprel = ap_arena_printf(ctx->arena, "%s/.dumps/%s", ctx->cfg->backups_dir,
		    ap_arena_strdup(ctx->arena, tag));
		for (char *p = (char *)dumprel + strlen(ctx->cfg->backups_dir); *p; p++)
			if (*p == ':')
				*p = '_';
		dumpdir = abs_path(ctx, dumprel);
		if ((rc = dump_all(ctx, dumprel, a[BR_DATABASES].s, &dumps)) != AP_OK)
			goto out;
		paths[np++] = dumpdir;
	}
	ap_job_progress(ctx->job, 5);
	if ((rc = restic_simple(ctx, &d, (const char *const[]){ "unlock", NULL })) != AP_OK)
		goto out;
	r.lo = 10;
	r.hi = 90;
	args[n++] = "backup";
	args[n++] = "--json";
	args[n++] = "--host";
	args[n++] = "aapanel";
	args[n++] = "--tag";
	args[n++] = tag;
	args[n++] = "--exclude";
	args[n++] = TRASH_DIR;
	for (size_t i = 0; i < np; i++)
		args[n++] = paths[i];
	args[n] = NULL;
	if ((rc = restic(ctx, &d, args, &r, 0, NULL, &res)) != AP_OK)
		goto out;
	if (r.summary == NULL || !json_object_object_get_ex(r.summary, "snapshot_id", &v)) {
		rc = fail(ctx, AP_PB_FAILED, NULL, "restic backup printed no summary", AP_ERR_IO);
		goto out;
	}
	json_object_object_add(ctx->result, "snapshot", json_object_get(v));
	json_object_object_add(ctx->result, "tag", json_object_new_string(tag));
	json_object_object_add(ctx->result, "databases", json_object_new_int(dumps));
	if (json_object_object_get_ex(r.summary, "total_bytes_processed", &v))
		json_object_object_add(ctx->result, "bytes", json_object_get(v));
	if (json_object_object_get_ex(r.summary, "data_added", &v))
		json_object_object_add(ctx->result, "data_added", json_object_get(v));
	if (json_object_object_get_ex(r.summary, "total_files_processed", &v))
		json_object_object_add(ctx->result, "files", json_object_get(v));
	ap_job_progress(ctx->job, 90);
	if (keep_any(a, BR_KEEP_LAST) &&
	    (rc = forget(ctx, &d, tag, a, BR_KEEP_LAST, ctx->result)) != AP_OK)
		goto out;
	rc = AP_OK;
out:
	if (dumprel != NULL) {
		int top = -1;
		const char *why = NULL;

		if (ap_fs_dir(ctx->sandbox_fd, ap_arena_printf(ctx->arena, "%s/.dumps",
		    ctx->cfg->backups_dir), false, 0, &top, &why) == AP_OK) {
			ap_fs_remove_tree(top, strrchr(dumprel, '/') + 1);
			close(top);
		}
	}
	json_object_put(r.summary);
	ap_buf_free(&r.line);
	ap_spawn_result_free(&res);
	return rc;
}

/* ---- backup.snapshots ---------------------------------------------------- */

enum ap_err
ap_ops_backup_snapshots(struct helper_ctx *ctx)
{
	struct bkdest d;
	struct ap_spawn_result res = { 0 };
	struct json_object *o = NULL, *list = json_object_new_array();
	const char *args[8];
	size_t n = 0;
	enum ap_err rc;

	if ((rc = dest_load(ctx, ctx->args[BS_DEST].s, &d)) != AP_OK)
		goto out;
	args[n++] = "snapshots";
	args[n++] = "--json";
	if (ctx->args[BS_TAG].present && ctx->args[BS_TAG].len > 0) {
		args[n++] = "--tag";
		args[n++] = ctx->args[BS_TAG].s;
	}
	args[n] = NULL;
	if ((rc = restic(ctx, &d, args, NULL, 8 << 20, NULL, &res)) != AP_OK)
		goto out;
	o = res.out.data != NULL ? json_tokener_parse(ap_arena_printf(ctx->arena, "%.*s",
	    (int)res.out.len, res.out.data)) : NULL;
	if (o == NULL || !json_object_is_type(o, json_type_array)) {
		rc = fail(ctx, AP_PB_FAILED, NULL, "restic snapshots printed no list", AP_ERR_IO);
		goto out;
	}
	for (size_t i = 0; i < json_object_array_length(o); i++) {
		struct json_object *s = json_object_array_get_idx(o, i), *e = json_object_new_object(), *v;
		static const char *const keep[] = { "id", "short_id", "time", "paths", "tags",
			"hostname" };

		for (size_t k = 0; k < AP_NELEM(keep); k++)
			if (json_object_object_get_ex(s, keep[k], &v))
				json_object_object_add(e, keep[k], json_object_get(v));
		json_object_array_add(list, e);
	}
	rc = AP_OK;
out:
	json_object_object_add(ctx->result, "snapshots", list);
	json_object_put(o);
	ap_spawn_result_free(&res);
	return rc;
}

/* ---- backup.ls: one folder of a snapshot --------------------------------- */

enum ap_err
ap_ops_backup_ls(struct helper_ctx *ctx)
{
	const struct ap_fieldval *a = ctx->args;
	struct bkdest d;
	struct ap_spawn_result res = { 0 };
	struct json_object *list = json_object_new_array();
	const char *args[8];
	size_t n = 0, i = 0;
	enum ap_err rc;

	if ((rc = dest_load(ctx, a[BL_DEST].s, &d)) != AP_OK)
		goto out;
	args[n++] = "ls";
	args[n++] = "--json";
	args[n++] = a[BL_SNAPSHOT].s;
	args[n++] = a[BL_PATH].present && a[BL_PATH].len > 0 ? a[BL_PATH].s : "/";
	args[n] = NULL;
	if ((rc = restic(ctx, &d, args, NULL, 16 << 20, NULL, &res)) != AP_OK)
		goto out;
	if (res.out_dropped > 0) {
		rc = fail(ctx, AP_PB_TOO_LARGE, "path", "the folder has too many entries to list",
		    AP_ERR_TOOBIG);
		goto out;
	}
	/* One JSON object per line: the snapshot first, then its nodes. */
	while (res.out.data != NULL && i < res.out.len) {
		char *nl = memchr(res.out.data + i, '\n', res.out.len - i);
		size_t len = nl != NULL ? (size_t)(nl - (res.out.data + i)) : res.out.len - i;
		struct json_object *o = json_tokener_parse(ap_arena_printf(ctx->arena, "%.*s",
		    (int)len, res.out.data + i)), *t, *v;

		i += len + 1;
		if (o == NULL)
			continue;
		if (json_object_object_get_ex(o, "struct_type", &t) &&
		    strcmp(json_object_get_string(t), "node") == 0) {
			struct json_object *e = json_object_new_object();
			static const char *const keep[] = { "name", "type", "path", "size", "mtime",
				"mode" };

			for (size_t k = 0; k < AP_NELEM(keep); k++)
				if (json_object_object_get_ex(o, keep[k], &v))
					json_object_object_add(e, keep[k], json_object_get(v));
			json_object_array_add(list, e);
		}
		json_object_put(o);
	}
	rc = AP_OK;
out:
	json_object_object_add(ctx->result, "entries", list);
	ap_spawn_result_free(&res);
	return rc;
}

/* ---- backup.dump: one file of a snapshot — a job, in ops_bkbrowse.c ---------- */

/* ---- backup.restore (a job) --------------------------------------------- */

/* The snapshot's paths: the files' one and the dumps' one (either may be NULL). */
static enum ap_err
snapshot_paths(struct helper_ctx *ctx, const struct bkdest *d, const char *snap,
    const char **files, const char **dumps, const char **id)
{
	struct ap_spawn_result res = { 0 };
	struct json_object *o = NULL, *s, *p, *v;
	const char *dprefix = ap_arena_printf(ctx->arena, "%s/.dumps/",
	    abs_path(ctx, ctx->cfg->backups_dir));
	enum ap_err rc;

	*files = *dumps = NULL;
	rc = restic(ctx, d, (const char *const[]){ "snapshots", "--json", snap, NULL }, NULL,
	    1 << 20, NULL, &res);
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
	if (json_object_object_get_ex(s, "id", &v))
		*id = ap_arena_strdup(ctx->arena, json_object_get_string(v));
	if (json_object_object_get_ex(s, "paths", &p) && json_object_is_type(p, json_type_array))
		for (size_t i = 0; i < json_object_array_length(p); i++) {
			const char *x = json_object_get_string(json_object_array_get_idx(p, i));

			if (strncmp(x, dprefix, strlen(dprefix)) == 0)
				*dumps = ap_arena_strdup(ctx->arena, x);
			else if (*files == NULL)
				*files = ap_arena_strdup(ctx->arena, x);
		}
	rc = AP_OK;
out:
	json_object_put(o);
	ap_spawn_result_free(&res);
	return rc;
}

/* Move home/root into the site's trash (as files.delete does), origin "name". */
static enum ap_err
to_trash(struct helper_ctx *ctx, int home, const char *root, const char *origin, const char **tid)
{
	char id[18];
	unsigned char rnd[2];
	int tfd = -1, ifd = -1;
	const char *why = NULL;
	enum ap_err rc = AP_OK;

	if (ap_fs_dir_nofollow(home, TRASH_DIR, true, 0700, &tfd, &why) != AP_OK)
		return fail(ctx, AP_PB_FAILED, NULL, why != NULL ? why : "the trash cannot be opened",
		    AP_ERR_IO);
	if (getrandom(rnd, sizeof(rnd), 0) != 2)
		rnd[0] = rnd[1] = 0;
	snprintf(id, sizeof(id), "%013llu%02x%02x", (unsigned long long)ap_now_ms() % 10000000000000ULL,
	    rnd[0], rnd[1]);
	if (mkdirat(tfd, id, 0700) != 0 ||
	    (ifd = openat(tfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		rc = fail(ctx, AP_PB_FAILED, NULL, strerror(errno), AP_ERR_IO);
		goto out;
	}
	if (ap_fs_write(ifd, "origin", origin, strlen(origin), 0600) != AP_OK ||
	    renameat2(home, root, ifd, "item", RENAME_NOREPLACE) != 0) {
		rc = fail(ctx, AP_PB_FAILED, NULL, strerror(errno), AP_ERR_IO);
		ap_fs_remove_tree(tfd, id);
		goto out;
	}
	*tid = ap_arena_strdup(ctx->arena, id);
out:
	if (ifd >= 0)
		close(ifd);
	close(tfd);
	return rc;
}

static enum ap_err
restore_files(struct helper_ctx *ctx, const struct bkdest *d, const char *snap, const char *from)
{
	const struct ap_fieldval *a = ctx->args;
	const char *root = a[RS_ROOT].present && a[RS_ROOT].len > 0 ? a[RS_ROOT].s : "public";
	const char *homerel, *homeabs, *stage = NULL, *why = NULL, *tid = NULL, *dest, *inner;
	char rnd_s[20];
	unsigned char rnd[4];
	struct ap_spawn_result res = { 0 };
	int home = -1, sfd = -1;
	bool inplace = strcmp(a[RS_TARGET].s, "inplace") == 0;
	enum ap_err rc;

	if (!a[RS_DOMAIN].present)
		return fail(ctx, AP_PB_INVALID, "domain", "is required to restore a site's files",
		    AP_ERR_INVAL);
	if (!inplace && (!a[RS_NEW_DIR].present || a[RS_NEW_DIR].len == 0))
		return fail(ctx, AP_PB_INVALID, "new_dir", "is required to restore to a new folder",
		    AP_ERR_INVAL);
	homerel = ap_arena_printf(ctx->arena, "%s/%s", ctx->cfg->sites_web_root, a[RS_DOMAIN].s);
	if (ap_sandbox_open(ctx->sandbox_fd, homerel, O_RDONLY | O_DIRECTORY, 0, &home, &why) != AP_OK)
		return fail(ctx, AP_PB_NOT_FOUND, "domain", "the site has no home directory",
		    AP_ERR_NOTFOUND);
	homeabs = abs_path(ctx, homerel);
	dest = inplace ? root : a[RS_NEW_DIR].s;
	if (!inplace && faccessat(home, dest, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		rc = fail(ctx, AP_PB_EXISTS, "new_dir", "exists in the site's home", AP_ERR_IO);
		goto out;
	}
	if (getrandom(rnd, sizeof(rnd), 0) != 4)
		memset(rnd, 0, sizeof(rnd));
	snprintf(rnd_s, sizeof(rnd_s), "%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3]);
	stage = ap_arena_printf(ctx->arena, "%s%s", RESTORE_PREFIX, rnd_s);
	if (mkdirat(home, stage, 0700) != 0) {
		rc = fail(ctx, AP_PB_FAILED, NULL, strerror(errno), AP_ERR_IO);
		goto out;
	}
	ap_job_progress(ctx->job, 20);
	{
		/* restic 0.14 prints no progress for restores: the bytes written into the
		 * staging folder against the files' size in the snapshot (bkprogress.h). */
		struct rrun lr = { .ctx = ctx, .progress = true, .out_fd = -1 };
		struct ap_spawn_result lres = { 0 };
		struct ap_bk_watch *w = NULL;

		if (ctx->job != NULL && restic(ctx, d, (const char *const[]){ "ls", "--json", "--recursive", snap,
			from, NULL }, &lr, 4096, NULL, &lres) == AP_OK &&
		    (sfd = openat(home, stage, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0)
			w = ap_bk_watch_start(ctx->job, sfd, lr.ls_bytes, 20, 70);
		ap_problem_clear(ctx->pb);
		ap_buf_free(&lr.line);
		json_object_put(lr.summary);
		ap_spawn_result_free(&lres);
		/* restic 0.14 restores FROM at its full path beneath the target: STAGE/FROM. */
		rc = restic(ctx, d, (const char *const[]){ "restore", snap, "--include", from, "--target",
		    ap_arena_printf(ctx->arena, "%s/%s", homeabs, stage), NULL }, NULL, 0, NULL, &res);
		ap_bk_watch_stop(w);
	}
	if (rc != AP_OK)
		goto out;
	ap_job_progress(ctx->job, 70);
	inner = ap_arena_printf(ctx->arena, "%s%s", stage, from);
	if (faccessat(home, inner, F_OK, AT_SYMLINK_NOFOLLOW) != 0) {
		rc = fail(ctx, AP_PB_FAILED, "snapshot", "restic restored nothing", AP_ERR_IO);
		goto out;
	}
	if (inplace && faccessat(home, root, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		const char *origin = ap_arena_printf(ctx->arena, "before-restore-%s", rnd_s);

		if ((rc = to_trash(ctx, home, root, origin, &tid)) != AP_OK)
			goto out;
	}
	if (renameat2(home, inner, home, dest, RENAME_NOREPLACE) != 0) {
		rc = fail(ctx, AP_PB_FAILED, NULL, strerror(errno), AP_ERR_IO);
		goto out;
	}
	json_object_object_add(ctx->result, "restored_to", json_object_new_string(dest));
	json_object_object_add(ctx->result, "trash_id", tid != NULL ? json_object_new_string(tid) : NULL);
out:
	if (stage != NULL && home >= 0)
		ap_fs_remove_tree(home, stage);
	if (sfd >= 0)
		close(sfd);
	if (home >= 0)
		close(home);
	ap_spawn_result_free(&res);
	return rc;
}

/* One SERVER/DB as the list names it: false when malformed. */
static bool
split_db(char *s, char **server, char **db)
{
	char *slash = strchr(s, '/');

	if (slash == NULL)
		return false;
	*slash = '\0';
	*server = s;
	*db = slash + 1;
	return ap_check_backup_dest_name(s, strlen(s)) == NULL &&
	    ap_valid_identifier(*db, strlen(*db)) == NULL;
}

/*
 * Load each dump list names (SERVER/DB[=SERVER/NEWDB], comma-separated) from
 * the snapshot's dumps folder into its database, or the one after "=".
 */
static enum ap_err
restore_dbs(struct helper_ctx *ctx, const struct bkdest *d, const char *snap, const char *dumps,
    const char *list, int *loaded)
{
	char *l = ap_arena_strdup(ctx->arena, list), *save = NULL, *item;
	enum ap_err rc = AP_OK;

	*loaded = 0;
	for (item = l; *item; item++)
		if (*item != ',' && *item != '/' && *item != '=' && *item != '_' && *item != '-' &&
		    !(*item >= 'a' && *item <= 'z') && !(*item >= '0' && *item <= '9'))
			return fail(ctx, AP_PB_INVALID, "databases",
			    "must be a list of SERVER/DATABASE[=SERVER/NEWDATABASE]", AP_ERR_INVAL);
	for (item = strtok_r(l, ",", &save); item != NULL && rc == AP_OK;
	     item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '='), *srv, *db, *tsrv, *tdb;
		struct ap_spawn_result res = { 0 };
		struct rrun r = { .ctx = ctx, .out_fd = -1 };
		int mfd;

		if (eq != NULL)
			*eq = '\0';
		if (!split_db(item, &srv, &db) || (eq != NULL && !split_db(eq + 1, &tsrv, &tdb))) {
			rc = fail(ctx, AP_PB_INVALID, "databases",
			    "must be a list of SERVER/DATABASE[=SERVER/NEWDATABASE]", AP_ERR_INVAL);
			break;
		}
		if (eq == NULL) {
			tsrv = srv;
			tdb = db;
		}
		/* The dump from the snapshot into a memory file, loaded from there (dbdump.h). */
		mfd = memfd_create("aapanel-restic-dump", MFD_CLOEXEC);
		if (mfd < 0) {
			rc = fail(ctx, AP_PB_FAILED, NULL, strerror(errno), AP_ERR_IO);
			break;
		}
		r.out_fd = mfd;
		r.out_max = (size_t)ctx->cfg->backups_download_max;
		rc = restic(ctx, d, (const char *const[]){ "dump", snap, ap_arena_printf(ctx->arena,
		    "%s/%s.%s.sql", dumps, srv, db), NULL }, &r, 0, NULL, &res);
		ap_spawn_result_free(&res);
		if (rc == AP_OK && r.out_over)
			rc = fail(ctx, AP_PB_TOO_LARGE, "databases",
			    "the dump is larger than backups.download_max", AP_ERR_TOOBIG);
		if (rc == AP_OK && lseek(mfd, 0, SEEK_SET) != 0)
			rc = fail(ctx, AP_PB_FAILED, NULL, strerror(errno), AP_ERR_IO);
		if (rc == AP_OK) {
			rc = ap_bkdump_load(ctx, tsrv, tdb, mfd);
			if (rc == AP_OK)
				(*loaded)++;
		} else if (ctx->pb->field[0] == '\0')
			snprintf(ctx->pb->field, sizeof(ctx->pb->field), "databases");
		close(mfd);
	}
	return rc;
}

enum ap_err
ap_ops_backup_restore(struct helper_ctx *ctx)
{
	const struct ap_fieldval *a = ctx->args;
	const char *files = NULL, *dumps = NULL, *id = NULL;
	struct bkdest d;
	bool want_files = a[RS_FILES].present ? a[RS_FILES].b : true;
	enum ap_err rc;

	if ((rc = dest_load(ctx, a[RS_DEST].s, &d)) != AP_OK)
		return rc;
	if ((rc = snapshot_paths(ctx, &d, a[RS_SNAPSHOT].s, &files, &dumps, &id)) != AP_OK)
		return rc;
	ap_job_progress(ctx->job, 10);
	json_object_object_add(ctx->result, "snapshot", json_object_new_string(id != NULL ? id : ""));
	if (want_files && a[RS_DOMAIN].present) {
		if (files == NULL)
			return fail(ctx, AP_PB_INVALID, "snapshot", "holds no site files", AP_ERR_INVAL);
		if ((rc = restore_files(ctx, &d, id, files)) != AP_OK)
			return rc;
	}
	if (a[RS_DATABASES].present && a[RS_DATABASES].len > 0) {
		int loaded = 0;

		if (dumps == NULL)
			return fail(ctx, AP_PB_INVALID, "databases", "the snapshot holds no database",
			    AP_ERR_INVAL);
		ap_job_progress(ctx->job, 80);
		if ((rc = restore_dbs(ctx, &d, id, dumps, a[RS_DATABASES].s, &loaded)) != AP_OK)
			return rc;
		json_object_object_add(ctx->result, "databases", json_object_new_int(loaded));
	}
	return AP_OK;
}

/* ---- backup.check (a job) ------------------------------------------------ */

enum ap_err
ap_ops_backup_check(struct helper_ctx *ctx)
{
	struct bkdest d;
	enum ap_err rc;
	int subset = ctx->args[BC_SUBSET].present ? (int)ctx->args[BC_SUBSET].i : 5;

	if ((rc = dest_load(ctx, ctx->args[BC_DEST].s, &d)) != AP_OK)
		return rc;
	if ((rc = restic_simple(ctx, &d, (const char *const[]){ "unlock", NULL })) != AP_OK)
		return rc;
	ap_job_progress(ctx->job, 10);
	if (subset > 0)
		rc = restic_simple(ctx, &d, (const char *const[]){ "check", ap_arena_printf(ctx->arena,
		    "--read-data-subset=%d%%", subset), NULL });
	else
		rc = restic_simple(ctx, &d, (const char *const[]){ "check", NULL });
	if (rc != AP_OK)
		return rc;
	json_object_object_add(ctx->result, "ok", json_object_new_boolean(true));
	json_object_object_add(ctx->result, "read_subset", json_object_new_int(subset));
	return AP_OK;
}

/* ---- for the panel's own backup (ops_backups.h, ops_bkpanel.c) ------------------ */

struct bkdest *
ap_bk_dest_load(struct helper_ctx *ctx, const char *name)
{
	struct bkdest *d = ap_arena_alloc(ctx->arena, sizeof(*d));

	return dest_load(ctx, name, d) == AP_OK ? d : NULL;
}

enum ap_err
ap_bk_restic(struct helper_ctx *ctx, const struct bkdest *d, const char *const *args, int lo,
    int hi, struct json_object **summary, size_t max_output, struct ap_spawn_result *res)
{
	struct rrun r = { .ctx = ctx, .progress = lo < hi, .lo = lo, .hi = hi, .out_fd = -1 };
	enum ap_err rc = restic(ctx, d, args, &r, max_output, NULL, res);

	if (summary != NULL)
		*summary = r.summary;
	else
		json_object_put(r.summary);
	ap_buf_free(&r.line);
	return rc;
}

bool
ap_bk_keep_any(const struct ap_fieldval *v, int first)
{
	return keep_any(v, first);
}

enum ap_err
ap_bk_forget(struct helper_ctx *ctx, const struct bkdest *d, const char *tag,
    const struct ap_fieldval *v, int first)
{
	return forget(ctx, d, tag, v, first, ctx->result);
}

const char *
ap_bk_abs(struct helper_ctx *ctx, const char *rel)
{
	return abs_path(ctx, rel);
}

enum ap_err
ap_bk_restic_fd(struct helper_ctx *ctx, const struct bkdest *d, const char *const *args, int fd,
    size_t max, size_t *len, bool *over)
{
	struct ap_spawn_result res = { 0 };
	struct rrun r = { .ctx = ctx, .out_fd = fd, .out_max = max };
	enum ap_err rc = restic(ctx, d, args, &r, 0, NULL, &res);

	ap_spawn_result_free(&res);
	*len = r.out_len;
	*over = r.out_over;
	return rc;
}
