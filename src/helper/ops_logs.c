/*
 * ops_logs.c — logs for the log viewer (docs/files.md, "Logs"), each passed
 * as a read descriptor:
 *   logs.open    a site's <sites.log_dir>/<domain>.<which>.log, opened
 *                beneath the sandbox root;
 *   logs.system  the panel's and the helper's own log, log.file of the
 *                helper's configuration (both write there; the worker tells
 *                their lines apart).
 * `rotation` picks the log (0) or one of its rotations: N is "<log>.N" or,
 * compressed, "<log>.N.gz" (1..9; `rotated=true` is rotation 1). The answer
 * names the rotations there are. The names are made here from a validated
 * domain, an enum and a number: a request names no path.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ops.h"
#include "sandbox.h"
#include "valid.h"

#define ROTATIONS_MAX 9

static const char *const whiches[] = {"access", "error", NULL};
static const char *const systems[] = {"panel", "helper", NULL};

enum { LO_DOMAIN, LO_WHICH, LO_ROTATED, LO_ROTATION, LO__MAX };
const struct ap_field ap_ops_logs_args[LO__MAX + 1] = {
    [LO_DOMAIN] = {.name = "domain",
		   .type = AP_FIELD_HOSTNAME,
		   .flags = AP_FIELD_REQUIRED,
		   .check = ap_valid_domain},
    [LO_WHICH] = {.name = "which",
		  .type = AP_FIELD_ENUM,
		  .flags = AP_FIELD_REQUIRED,
		  .choices = whiches},
    [LO_ROTATED] = {.name = "rotated", .type = AP_FIELD_BOOL},
    [LO_ROTATION] = {.name = "rotation", .type = AP_FIELD_INT, .min = 0, .max = ROTATIONS_MAX},
    [LO__MAX] = AP_FIELD_END,
};

enum { LS_WHICH, LS_ROTATION, LS__MAX };
const struct ap_field ap_ops_logs_system_args[LS__MAX + 1] = {
    [LS_WHICH] = {.name = "which",
		  .type = AP_FIELD_ENUM,
		  .flags = AP_FIELD_REQUIRED,
		  .choices = systems},
    [LS_ROTATION] = {.name = "rotation", .type = AP_FIELD_INT, .min = 0, .max = ROTATIONS_MAX},
    [LS__MAX] = AP_FIELD_END,
};

/* Rotation n of base in dirfd: "<base>.n" (gz false) or "<base>.n.gz"; false when neither is a
 * file. */
static bool
rotation_of(int dirfd, const char *base, int n, bool *gz, struct stat *st)
{
	char name[512];

	if (n == 0) {
		*gz = false;
		return fstatat(dirfd, base, st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st->st_mode);
	}
	snprintf(name, sizeof(name), "%s.%d", base, n);
	if (fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st->st_mode)) {
		*gz = false;
		return true;
	}
	snprintf(name, sizeof(name), "%s.%d.gz", base, n);
	*gz = true;
	return fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st->st_mode);
}

/* Open rotation n of base (one name, no slash) in dirfd (taken: closed here) and answer. */
static enum ap_err
open_in(struct helper_ctx *ctx, int dirfd, const char *base, int n, const char *field)
{
	struct json_object *rots = json_object_new_array();
	struct stat st;
	bool gz = false;
	int fd = -1;

	for (int i = 1; i <= ROTATIONS_MAX; i++) {
		bool g;

		if (rotation_of(dirfd, base, i, &g, &st)) {
			struct json_object *o = json_object_new_object();

			json_object_object_add(o, "rotation", json_object_new_int(i));
			json_object_object_add(o, "gzip", json_object_new_boolean(g));
			json_object_object_add(o, "size",
					       json_object_new_int64((int64_t)st.st_size));
			json_object_object_add(o, "modified",
					       json_object_new_int64((int64_t)st.st_mtime));
			json_object_array_add(rots, o);
		}
	}
	if (!rotation_of(dirfd, base, n, &gz, &st)) {
		close(dirfd);
		json_object_put(rots);
		ap_problem_set(ctx->pb, AP_PB_NOT_FOUND, field,
			       n == 0 ? "there is no such log yet"
				      : "there is no such rotation of the log");
		return AP_ERR_NOTFOUND;
	}
	{
		char name[512];

		if (n == 0)
			snprintf(name, sizeof(name), "%s", base);
		else
			snprintf(name, sizeof(name), gz ? "%s.%d.gz" : "%s.%d", base, n);
		/* One name in the folder, never a link (a link put in its place is refused). */
		fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	}
	close(dirfd);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		json_object_put(rots);
		ap_problem_set(ctx->pb, AP_PB_FAILED, field, "the log cannot be opened: %s",
			       fd < 0 ? strerror(errno) : "not a regular file");
		return AP_ERR_IO;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	json_object_object_add(ctx->result, "size", json_object_new_int64((int64_t)st.st_size));
	json_object_object_add(ctx->result, "mtime", json_object_new_int64((int64_t)st.st_mtime));
	json_object_object_add(ctx->result, "gzip", json_object_new_boolean(gz));
	json_object_object_add(ctx->result, "rotations", rots);
	ctx->pass_fd = fd;
	return AP_OK;
}

enum ap_err
ap_ops_logs_open(struct helper_ctx *ctx)
{
	const struct ap_fieldval *a = ctx->args;
	const char *base =
	    ap_arena_printf(ctx->arena, "%s.%s.log", a[LO_DOMAIN].s, whiches[a[LO_WHICH].i]);
	int n = a[LO_ROTATION].present ? (int)a[LO_ROTATION].i : a[LO_ROTATED].b ? 1 : 0;
	const char *why = NULL;
	int dirfd = -1;
	enum ap_err rc = ap_sandbox_open(ctx->sandbox_fd, ctx->cfg->sites_log_dir,
					 O_RDONLY | O_DIRECTORY, 0, &dirfd, &why);

	if (rc == AP_ERR_NOTFOUND) {
		ap_problem_set(ctx->pb, AP_PB_NOT_FOUND, "which", "the site has no such log yet");
		return rc;
	}
	if (rc != AP_OK) {
		ap_problem_set(ctx->pb, AP_PB_FAILED, "which", "%s",
			       why != NULL ? why : strerror(errno));
		return AP_ERR_IO;
	}
	return open_in(ctx, dirfd, base, n, n > 0 ? "rotation" : "which");
}

enum ap_err
ap_ops_logs_system(struct helper_ctx *ctx)
{
	const struct ap_fieldval *a = ctx->args;
	const char *file = ctx->cfg->log_file;
	int n = a[LS_ROTATION].present ? (int)a[LS_ROTATION].i : 0;
	char *d, *b;
	int dirfd;

	if (file == NULL || file[0] != '/') {
		ap_problem_set(ctx->pb, AP_PB_NOT_FOUND, "which",
			       "the panel logs to its standard error (the journal): set log.file "
			       "to read it here");
		return AP_ERR_NOTFOUND;
	}
	d = ap_arena_strdup(ctx->arena, file);
	b = ap_arena_strdup(ctx->arena, file);
	if ((dirfd = open(dirname(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		ap_problem_set(ctx->pb, AP_PB_NOT_FOUND, "which", "the log's folder is not there");
		return AP_ERR_NOTFOUND;
	}
	return open_in(ctx, dirfd, basename(b), n, n > 0 ? "rotation" : "which");
}
