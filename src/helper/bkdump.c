/*
 * bkdump.c — databases' dumps for backups (bkdump.h), on dbdump.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bkdump.h"
#include "dbdump.h"

static enum ap_err
dfail(struct helper_ctx *ctx, enum ap_pb_code code, const char *reason, enum ap_err rc)
{
	ap_problem_set(ctx->pb, code, "databases", "%s", reason);
	return rc;
}

/* Run req's client to its end; its error line as the reason (field "databases"). */
static enum ap_err
run(struct helper_ctx *ctx, const struct ap_dbdump_req *req)
{
	struct ap_dbdump *dd = NULL;
	struct ap_dbdump_status st = { 0 };
	enum ap_err rc;

	if ((rc = ap_dbdump_start(ctx, req, &dd)) != AP_OK) {
		snprintf(ctx->pb->field, sizeof(ctx->pb->field), "databases");
		return rc;
	}
	rc = ap_dbdump_wait(dd, -1, &st);
	if (rc == AP_OK && !st.ok)
		rc = dfail(ctx, AP_PB_FAILED, ap_arena_printf(ctx->arena, "%s of %s: %s",
		    req->dir == AP_DBDUMP_EXPORT ? "the dump" : "the load", req->database, st.reason),
		    AP_ERR_IO);
	else if (rc != AP_OK)
		rc = dfail(ctx, AP_PB_FAILED, "the database client did not end", AP_ERR_IO);
	ap_dbdump_free(dd);
	return rc;
}

enum ap_err
ap_bkdump_write(struct helper_ctx *ctx, int dirfd, const char *server, const char *db,
    const struct ap_dbserver_login *login, const char *name)
{
	const char *tmp = ap_arena_printf(ctx->arena, "%s.part", name);
	struct ap_dbdump_req req = { .server = server, .database = db, .dir = AP_DBDUMP_EXPORT,
		.login = login, .clean = true };
	int fd;
	enum ap_err rc;

	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return dfail(ctx, AP_PB_FAILED, strerror(errno), AP_ERR_IO);
	req.fd = fd;
	rc = run(ctx, &req);
	if (rc == AP_OK && (fsync(fd) != 0 || renameat(dirfd, tmp, dirfd, name) != 0))
		rc = dfail(ctx, AP_PB_FAILED, strerror(errno), AP_ERR_IO);
	close(fd);
	if (rc != AP_OK)
		unlinkat(dirfd, tmp, 0);
	return rc;
}

enum ap_err
ap_bkdump_load(struct helper_ctx *ctx, const char *server, const char *db, int fd)
{
	struct ap_dbdump_req req = { .server = server, .database = db, .dir = AP_DBDUMP_IMPORT,
		.fd = fd };

	return run(ctx, &req);
}
