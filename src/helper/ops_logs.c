/*
 * ops_logs.c — a site's nginx logs for the log viewer (docs/files.md, "Logs"):
 * logs.open passes a read descriptor on <sites.log_dir>/<domain>.<which>.log
 * (or its rotation .1), opened beneath the sandbox root. The name is made
 * here from the validated domain and an enum: a request names no path.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ops.h"
#include "sandbox.h"
#include "valid.h"

static const char *const whiches[] = { "access", "error", NULL };

enum { LO_DOMAIN, LO_WHICH, LO_ROTATED, LO__MAX };
const struct ap_field ap_ops_logs_args[LO__MAX + 1] = {
	[LO_DOMAIN] = { .name = "domain", .type = AP_FIELD_HOSTNAME, .flags = AP_FIELD_REQUIRED,
	    .check = ap_valid_domain },
	[LO_WHICH] = { .name = "which", .type = AP_FIELD_ENUM, .flags = AP_FIELD_REQUIRED, .choices = whiches },
	[LO_ROTATED] = { .name = "rotated", .type = AP_FIELD_BOOL },
	[LO__MAX] = AP_FIELD_END,
};

enum ap_err
ap_ops_logs_open(struct helper_ctx *ctx)
{
	const struct ap_fieldval *a = ctx->args;
	const char *rel = ap_arena_printf(ctx->arena, "%s/%s.%s.log%s", ctx->cfg->sites_log_dir,
	    a[LO_DOMAIN].s, whiches[a[LO_WHICH].i], a[LO_ROTATED].b ? ".1" : "");
	const char *why = NULL;
	struct stat st;
	int fd = -1;
	enum ap_err rc = ap_sandbox_open(ctx->sandbox_fd, rel, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0, &fd, &why);

	if (rc == AP_ERR_NOTFOUND) {
		ap_problem_set(ctx->pb, AP_PB_NOT_FOUND, "which", "the site has no such log yet");
		return rc;
	}
	if (rc != AP_OK) {
		ap_problem_set(ctx->pb, AP_PB_FAILED, "which", "%s", why != NULL ? why : strerror(errno));
		return AP_ERR_IO;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		ap_problem_set(ctx->pb, AP_PB_FAILED, "which", "the log is not a regular file");
		return AP_ERR_IO;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	json_object_object_add(ctx->result, "size", json_object_new_int64((int64_t)st.st_size));
	json_object_object_add(ctx->result, "mtime", json_object_new_int64((int64_t)st.st_mtime));
	ctx->pass_fd = fd;
	return AP_OK;
}
