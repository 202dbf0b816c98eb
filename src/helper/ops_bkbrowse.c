/*
 * ops_bkbrowse.c — one file out of a snapshot without holding the helper's
 * loop (docs/backups.md, "Browse and download"). restic may take long on a
 * slow or stalled remote, so reading a snapshot is a job like the others:
 *
 *   backup.dump        {dest, snapshot, path} (a job): `restic dump` of the
 *                      file into a spool file <backups.dir>/.spool/ID (0600,
 *                      at most backups.download_max bytes); result {spool: ID,
 *                      size}. Spool files older than an hour are removed.
 *   backup.spool_take  {id}: the spool file opened, unlinked and passed as
 *                      the answer's descriptor (SCM_RIGHTS), {size}: quick.
 *
 * backup.snapshots and backup.ls are jobs too (ops.c), so a listing of a
 * destination that stalls answers nothing for a while but never delays
 * another client's call.
 */
#include <sys/random.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aapanel/backupcheck.h"
#include "jobs.h"
#include "ops.h"
#include "ops_backups.h"
#include "sitefs.h"

#define SPOOL ".spool"
#define SPOOL_KEEP_S 3600

static const char *
check_spool_id(const char *s, size_t n)
{
	if (n != 16)
		return "must be 16 hexadecimal digits";
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return "must be 16 hexadecimal digits";
	return NULL;
}

enum { ST_ID, ST__MAX };
const struct ap_field ap_ops_backup_spool_take_args[ST__MAX + 1] = {
	[ST_ID] = { .name = "id", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED |
	    AP_FIELD_SINGLELINE, .min = 16, .max = 16, .check = check_spool_id },
	[ST__MAX] = AP_FIELD_END,
};

/* backup.dump's arguments are backup.ls's: dest, snapshot, path. */
enum { BL_DEST, BL_SNAPSHOT, BL_PATH };

static enum ap_err
fail(struct helper_ctx *ctx, enum ap_pb_code code, const char *field, const char *reason,
    enum ap_err rc)
{
	ap_problem_set(ctx->pb, code, field, "%s", reason);
	return rc;
}

static enum ap_err
spool_open(struct helper_ctx *ctx, int *fd)
{
	const char *why = NULL;

	if (ap_fs_dir(ctx->sandbox_fd, ap_arena_printf(ctx->arena, "%s/%s", ctx->cfg->backups_dir,
	    SPOOL), true, 0700, fd, &why) != AP_OK)
		return fail(ctx, AP_PB_FAILED, NULL, why != NULL ? why : strerror(errno), AP_ERR_IO);
	return AP_OK;
}

/* Spool files nobody took within the hour. */
static void
spool_sweep(int dfd)
{
	int d2 = dup(dfd);
	DIR *dir = d2 >= 0 ? fdopendir(d2) : NULL;
	struct dirent *e;
	time_t now = time(NULL);

	if (dir == NULL) {
		if (d2 >= 0)
			close(d2);
		return;
	}
	while ((e = readdir(dir)) != NULL) {
		struct stat st;

		if (e->d_name[0] == '.' || fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (S_ISREG(st.st_mode) && now - st.st_mtime > SPOOL_KEEP_S)
			unlinkat(dfd, e->d_name, 0);
	}
	closedir(dir);
}

enum ap_err
ap_ops_backup_fetch(struct helper_ctx *ctx)
{
	const struct ap_fieldval *a = ctx->args;
	struct bkdest *d;
	unsigned char rnd[8];
	char id[17], part[24];
	size_t len = 0;
	bool over = false;
	int dfd = -1, fd = -1;
	enum ap_err rc;

	if (!a[BL_PATH].present || a[BL_PATH].len == 0)
		return fail(ctx, AP_PB_INVALID, "path", "is required", AP_ERR_INVAL);
	if ((d = ap_bk_dest_load(ctx, a[BL_DEST].s)) == NULL)
		return AP_ERR_NOTFOUND;
	if ((rc = spool_open(ctx, &dfd)) != AP_OK)
		return rc;
	spool_sweep(dfd);
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		close(dfd);
		return fail(ctx, AP_PB_FAILED, NULL, "no random bytes", AP_ERR_IO);
	}
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(id + 2 * i, 3, "%02x", rnd[i]);
	snprintf(part, sizeof(part), ".%s", id);
	fd = openat(dfd, part, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		close(dfd);
		return fail(ctx, AP_PB_FAILED, NULL, strerror(errno), AP_ERR_IO);
	}
	ap_job_progress(ctx->job, 10);
	rc = ap_bk_restic_fd(ctx, d, (const char *const[]){ "dump", a[BL_SNAPSHOT].s, a[BL_PATH].s,
	    NULL }, fd, (size_t)ctx->cfg->backups_download_max, &len, &over);
	if (rc != AP_OK && ctx->pb->field[0] == '\0')
		snprintf(ctx->pb->field, sizeof(ctx->pb->field), "path");
	if (rc == AP_OK && over)
		rc = fail(ctx, AP_PB_TOO_LARGE, "path", "the file is larger than backups.download_max",
		    AP_ERR_TOOBIG);
	if (rc == AP_OK && (fsync(fd) != 0 || renameat(dfd, part, dfd, id) != 0))
		rc = fail(ctx, AP_PB_FAILED, NULL, strerror(errno), AP_ERR_IO);
	close(fd);
	if (rc != AP_OK)
		unlinkat(dfd, part, 0);
	close(dfd);
	if (rc != AP_OK)
		return rc;
	json_object_object_add(ctx->result, "spool", json_object_new_string(id));
	json_object_object_add(ctx->result, "size", json_object_new_int64((int64_t)len));
	return AP_OK;
}

enum ap_err
ap_ops_backup_spool_take(struct helper_ctx *ctx)
{
	const char *id = ctx->args[ST_ID].s;
	struct stat st;
	int dfd = -1, fd;
	enum ap_err rc;

	if ((rc = spool_open(ctx, &dfd)) != AP_OK)
		return rc;
	fd = openat(dfd, id, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		close(dfd);
		return fail(ctx, AP_PB_NOT_FOUND, "id", "no such file waiting (taken, or older than an hour)",
		    AP_ERR_NOTFOUND);
	}
	unlinkat(dfd, id, 0);
	close(dfd);
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return fail(ctx, AP_PB_FAILED, "id", "not a file", AP_ERR_IO);
	}
	json_object_object_add(ctx->result, "size", json_object_new_int64((int64_t)st.st_size));
	ctx->pass_fd = fd;
	return AP_OK;
}
