/*
 * ops_dbio.c — a database's export and import as helper jobs
 * (docs/databases.md, "Import and export"), through dbdump.h.
 *
 * Dumps wait in databases.spool_dir (beneath the sandbox root, 0700, files
 * 0600, root's) between the job and the worker:
 *
 *   database.export (job)    the client's SQL, gzip-compressed here when the
 *                            format is sql.gz, into export-<token>.<fmt>;
 *                            result {token, format, size, sha256}
 *   database.export_open     passes a read descriptor on it (SCM_RIGHTS) and
 *                            removes its name: one download per export
 *   database.import_begin    passes a write descriptor on a new
 *                            import-<token>.part for the worker to stream an
 *                            upload into; result {token}
 *   database.import_abort    removes it (an upload that failed)
 *   database.import (job)    feeds it to the client (gzip decoded here with
 *                            zlib), progress by the bytes fed; the file is
 *                            consumed; result {size, bytes, sha256}
 *
 * An import logs in as a user of its own on that one database
 * (ap_ops_dbimport_login), dropped afterwards. Files older than an hour are
 * swept at every export and upload.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "aapanel/dbnames.h"
#include "aapanel/log.h"
#include "dbdump.h"
#include "jobs.h"
#include "ops.h"
#include "sitefs.h"
#include "valid.h"

#define CHUNK (128 * 1024)
#define SPOOL_MAX_AGE (60 * 60)

static const char *const formats[] = { "sql", "sql.gz", NULL };
enum { FMT_SQL, FMT_GZ };

static const char *
check_token(const char *s, size_t n)
{
	if (n != 32 || strspn(s, "0123456789abcdef") != n)
		return "must be 32 lowercase hex digits";
	return NULL;
}

enum { EX_SERVER, EX_NAME, EX_FORMAT, EX__MAX };
const struct ap_field ap_ops_database_export_args[EX__MAX + 1] = {
	[EX_SERVER] = { .name = "server", .type = AP_FIELD_NAME, .flags = AP_FIELD_REQUIRED, .min = 1,
	    .max = 32, .check = ap_valid_identifier },
	[EX_NAME] = { .name = "name", .type = AP_FIELD_NAME, .flags = AP_FIELD_REQUIRED, .min = 1,
	    .max = 32, .check = ap_check_db_ident },
	[EX_FORMAT] = { .name = "format", .type = AP_FIELD_ENUM, .flags = AP_FIELD_REQUIRED,
	    .choices = formats },
	[EX__MAX] = AP_FIELD_END,
};

enum { TK_TOKEN, TK_FORMAT, TK__MAX };
const struct ap_field ap_ops_database_token_args[TK__MAX + 1] = {
	[TK_TOKEN] = { .name = "token", .type = AP_FIELD_NAME, .flags = AP_FIELD_REQUIRED, .min = 32,
	    .max = 32, .check = check_token },
	[TK_FORMAT] = { .name = "format", .type = AP_FIELD_ENUM, .choices = formats },
	[TK__MAX] = AP_FIELD_END,
};

enum { IM_SERVER, IM_NAME, IM_FORMAT, IM_TOKEN, IM__MAX };
const struct ap_field ap_ops_database_import_args[IM__MAX + 1] = {
	[IM_SERVER] = { .name = "server", .type = AP_FIELD_NAME, .flags = AP_FIELD_REQUIRED, .min = 1,
	    .max = 32, .check = ap_valid_identifier },
	[IM_NAME] = { .name = "name", .type = AP_FIELD_NAME, .flags = AP_FIELD_REQUIRED, .min = 1,
	    .max = 32, .check = ap_check_db_ident },
	[IM_FORMAT] = { .name = "format", .type = AP_FIELD_ENUM, .flags = AP_FIELD_REQUIRED,
	    .choices = formats },
	[IM_TOKEN] = { .name = "token", .type = AP_FIELD_NAME, .flags = AP_FIELD_REQUIRED, .min = 32,
	    .max = 32, .check = check_token },
	[IM__MAX] = AP_FIELD_END,
};

/* ---------------------------------------------------------------- the spool */

/* Remove the spool's files older than SPOOL_MAX_AGE (abandoned downloads and uploads). */
static void
sweep(int dfd)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	time_t now = time(NULL);

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		struct stat sb;

		if (strncmp(e->d_name, "export-", 7) != 0 && strncmp(e->d_name, "import-", 7) != 0)
			continue;
		if (fstatat(dfd, e->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(sb.st_mode) &&
		    now - sb.st_mtime > SPOOL_MAX_AGE)
			unlinkat(dfd, e->d_name, 0);
	}
	closedir(d);
}

static enum ap_err
spool(struct helper_ctx *ctx, int *dfd)
{
	const char *why = NULL;
	enum ap_err rc = ap_fs_dir(ctx->sandbox_fd, ctx->cfg->databases_spool_dir, true, 0700, dfd, &why);

	if (rc != AP_OK)
		return ap_problem_set(ctx->pb, AP_PB_INTERNAL, NULL, "%s: %s",
		    ctx->cfg->databases_spool_dir, why ? why : "cannot open");
	return AP_OK;
}

static bool
write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		c += w;
		n -= (size_t)w;
	}
	return true;
}

static void
hex_digest(EVP_MD_CTX *md, char out[65])
{
	unsigned char h[32];
	unsigned hl = 0;

	EVP_DigestFinal_ex(md, h, &hl);
	for (unsigned i = 0; i < 32 && hl == 32; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}

/* The job's first output line names its database: the panel checks a job id against it. */
static void
job_says(struct helper_ctx *ctx, const char *server, const char *name)
{
	char line[96];
	int n = snprintf(line, sizeof(line), "database %s/%s\n", server, name);

	ap_job_output(ctx->job, line, (size_t)n);
}

/* ---------------------------------------------------------------- export */

enum ap_err
ap_ops_database_export(struct helper_ctx *ctx)
{
	const struct ap_fieldval *a = ctx->args;
	bool gz = a[EX_FORMAT].i == FMT_GZ;
	struct ap_dbdump *dd = NULL;
	struct ap_dbdump_status st;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	z_stream z;
	bool z_on = false;
	char token[33], part[112], name[96], sha[65] = "";
	static unsigned char in[CHUNK], zout[CHUNK];
	int dfd = -1, out = -1, p[2] = { -1, -1 };
	int64_t size = 0, raw = 0, est = 0;
	enum ap_err rc;

	job_says(ctx, a[EX_SERVER].s, a[EX_NAME].s);
	if ((rc = spool(ctx, &dfd)) != AP_OK)
		goto out;
	sweep(dfd);
	ap_ops_database_size(ctx, a[EX_SERVER].s, a[EX_NAME].s, &est);
	if (ap_random_hex(token, 16) != AP_OK) {
		rc = ap_problem_set(ctx->pb, AP_PB_INTERNAL, NULL, "no random bytes");
		goto out;
	}
	snprintf(name, sizeof(name), "export-%s.%s", token, formats[a[EX_FORMAT].i]);
	snprintf(part, sizeof(part), "%s.part", name);
	out = openat(dfd, part, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0 || pipe2(p, O_CLOEXEC) != 0) {
		rc = ap_problem_set(ctx->pb, AP_PB_FAILED, NULL, "cannot make the dump's file: %s",
		    strerror(errno));
		goto out;
	}
	struct ap_dbdump_req req = { .server = a[EX_SERVER].s, .database = a[EX_NAME].s,
		.dir = AP_DBDUMP_EXPORT, .fd = p[1] };

	if ((rc = ap_dbdump_start(ctx, &req, &dd)) != AP_OK)
		goto out;
	close(p[1]);
	p[1] = -1;
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	if (gz) {
		memset(&z, 0, sizeof(z));
		if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
			rc = ap_problem_set(ctx->pb, AP_PB_INTERNAL, NULL, "zlib: cannot start");
			goto out;
		}
		z_on = true;
	}
	for (;;) {
		ssize_t r = read(p[0], in, sizeof(in));
		bool eof = r == 0;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = ap_problem_set(ctx->pb, AP_PB_FAILED, NULL, "reading the dump: %s", strerror(errno));
			goto out;
		}
		raw += r;
		if (!gz) {
			EVP_DigestUpdate(md, in, (size_t)r);
			if (r > 0 && !write_all(out, in, (size_t)r))
				goto write_fail;
			size += r;
		} else {
			z.next_in = in;
			z.avail_in = (uInt)r;
			do {
				z.next_out = zout;
				z.avail_out = sizeof(zout);
				deflate(&z, eof ? Z_FINISH : Z_NO_FLUSH);
				size_t n = sizeof(zout) - z.avail_out;

				EVP_DigestUpdate(md, zout, n);
				if (n > 0 && !write_all(out, zout, n))
					goto write_fail;
				size += (int64_t)n;
			} while (z.avail_out == 0);
		}
		if (eof)
			break;
		/* The SQL text runs about as large as the data (hex-blob: twice the blobs). */
		if (est > 0)
			ap_job_progress(ctx->job, (int)(raw * 90 / (est + est / 4 + 1)));
	}
	ap_dbdump_wait(dd, -1, &st);
	if (!st.ok) {
		rc = ap_problem_set(ctx->pb, AP_PB_FAILED, NULL, "the export failed: %s", st.reason);
		goto out;
	}
	if (fsync(out) != 0 || renameat(dfd, part, dfd, name) != 0) {
		rc = ap_problem_set(ctx->pb, AP_PB_FAILED, NULL, "cannot keep the dump: %s", strerror(errno));
		goto out;
	}
	part[0] = '\0';
	hex_digest(md, sha);
	json_object_object_add(ctx->result, "server", json_object_new_string(a[EX_SERVER].s));
	json_object_object_add(ctx->result, "name", json_object_new_string(a[EX_NAME].s));
	json_object_object_add(ctx->result, "token", json_object_new_string(token));
	json_object_object_add(ctx->result, "format", json_object_new_string(formats[a[EX_FORMAT].i]));
	json_object_object_add(ctx->result, "size", json_object_new_int64(size));
	json_object_object_add(ctx->result, "bytes", json_object_new_int64(raw));
	json_object_object_add(ctx->result, "sha256", json_object_new_string(sha));
	rc = AP_OK;
	goto out;
write_fail:
	rc = ap_problem_set(ctx->pb, AP_PB_FAILED, NULL, "cannot write the dump: %s", strerror(errno));
out:
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	ap_dbdump_free(dd);
	if (z_on)
		deflateEnd(&z);
	EVP_MD_CTX_free(md);
	if (out >= 0)
		close(out);
	if (rc != AP_OK && dfd >= 0 && part[0] != '\0')
		unlinkat(dfd, part, 0);
	if (dfd >= 0)
		close(dfd);
	return rc;
}

enum ap_err
ap_ops_database_export_open(struct helper_ctx *ctx)
{
	const struct ap_fieldval *a = ctx->args;
	char name[96];
	struct stat sb;
	int dfd = -1, fd;
	enum ap_err rc;

	if (!a[TK_FORMAT].present)
		return ap_problem_set(ctx->pb, AP_PB_INVALID, "format", "is required");
	if ((rc = spool(ctx, &dfd)) != AP_OK)
		return rc;
	snprintf(name, sizeof(name), "export-%s.%s", a[TK_TOKEN].s, formats[a[TK_FORMAT].i]);
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		if (fd >= 0)
			close(fd);
		close(dfd);
		return ap_problem_set(ctx->pb, AP_PB_NOT_FOUND, "token",
		    "no such export (each is downloaded once, within an hour)");
	}
	unlinkat(dfd, name, 0);
	close(dfd);
	json_object_object_add(ctx->result, "size", json_object_new_int64((int64_t)sb.st_size));
	ctx->pass_fd = fd;
	return AP_OK;
}

/* ---------------------------------------------------------------- import */

enum ap_err
ap_ops_database_import_begin(struct helper_ctx *ctx)
{
	char token[33], name[96];
	int dfd = -1, fd;
	enum ap_err rc;

	if ((rc = spool(ctx, &dfd)) != AP_OK)
		return rc;
	sweep(dfd);
	if (ap_random_hex(token, 16) != AP_OK) {
		close(dfd);
		return ap_problem_set(ctx->pb, AP_PB_INTERNAL, NULL, "no random bytes");
	}
	snprintf(name, sizeof(name), "import-%s.part", token);
	fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	close(dfd);
	if (fd < 0)
		return ap_problem_set(ctx->pb, AP_PB_FAILED, NULL, "cannot make the upload's file: %s",
		    strerror(errno));
	json_object_object_add(ctx->result, "token", json_object_new_string(token));
	ctx->pass_fd = fd;
	return AP_OK;
}

enum ap_err
ap_ops_database_import_abort(struct helper_ctx *ctx)
{
	char name[96];
	int dfd = -1;
	enum ap_err rc;

	if ((rc = spool(ctx, &dfd)) != AP_OK)
		return rc;
	snprintf(name, sizeof(name), "import-%s.part", ctx->args[TK_TOKEN].s);
	unlinkat(dfd, name, 0);
	close(dfd);
	json_object_object_add(ctx->result, "token", json_object_new_string(ctx->args[TK_TOKEN].s));
	return AP_OK;
}

/* Write n bytes to the client's stdin; false when it went away (it ended: its status says why). */
static bool
feed(int fd, const unsigned char *p, size_t n, int64_t *fed)
{
	if (!write_all(fd, p, n))
		return false;
	*fed += (int64_t)n;
	return true;
}

enum ap_err
ap_ops_database_import(struct helper_ctx *ctx)
{
	const struct ap_fieldval *a = ctx->args;
	bool gz = a[IM_FORMAT].i == FMT_GZ, logged_in = false, z_on = false, ended = false;
	bool gone = false;
	struct ap_dbimport_login login;
	struct ap_dbdump *dd = NULL;
	struct ap_dbdump_status st;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	static unsigned char in[CHUNK], zout[CHUNK];
	char name[96], sha[65] = "", bad[160] = "";
	int dfd = -1, src = -1, p[2] = { -1, -1 };
	int64_t consumed = 0, fed = 0, total;
	struct stat sb;
	z_stream z;
	enum ap_err rc;

	job_says(ctx, a[IM_SERVER].s, a[IM_NAME].s);
	if ((rc = spool(ctx, &dfd)) != AP_OK)
		goto out;
	snprintf(name, sizeof(name), "import-%s.part", a[IM_TOKEN].s);
	src = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (src < 0 || fstat(src, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		rc = ap_problem_set(ctx->pb, AP_PB_NOT_FOUND, "token", "no such upload");
		goto out;
	}
	/* Consumed: whatever happens, a second import needs a second upload. */
	unlinkat(dfd, name, 0);
	total = (int64_t)sb.st_size;
	if ((rc = ap_ops_dbimport_login(ctx, a[IM_SERVER].s, a[IM_NAME].s, &login)) != AP_OK)
		goto out;
	logged_in = true;
	if (pipe2(p, O_CLOEXEC) != 0) {
		rc = ap_problem_set(ctx->pb, AP_PB_FAILED, NULL, "pipe: %s", strerror(errno));
		goto out;
	}
	struct ap_dbdump_req req = { .server = a[IM_SERVER].s, .database = a[IM_NAME].s,
		.dir = AP_DBDUMP_IMPORT, .fd = p[0], .user = login.user, .password = login.password,
		.role = login.role[0] ? login.role : NULL };

	if ((rc = ap_dbdump_start(ctx, &req, &dd)) != AP_OK)
		goto out;
	close(p[0]);
	p[0] = -1;
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	if (gz) {
		memset(&z, 0, sizeof(z));
		if (inflateInit2(&z, 15 + 16) != Z_OK) {
			rc = ap_problem_set(ctx->pb, AP_PB_INTERNAL, NULL, "zlib: cannot start");
			goto out;
		}
		z_on = true;
	}
	for (;;) {
		ssize_t r = read(src, in, sizeof(in));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(bad, sizeof(bad), "reading the upload: %s", strerror(errno));
			break;
		}
		if (r == 0) {
			if (gz && !ended)
				snprintf(bad, sizeof(bad), "is not complete gzip data (it ends in the middle)");
			break;
		}
		EVP_DigestUpdate(md, in, (size_t)r);
		if (gz && consumed == 0 && (r < 2 || in[0] != 0x1f || in[1] != 0x8b)) {
			snprintf(bad, sizeof(bad), "is not gzip data");
			break;
		}
		consumed += r;
		if (!gz) {
			if (!feed(p[1], in, (size_t)r, &fed))
				break; /* the client ended: its status says why */
		} else {
			z.next_in = in;
			z.avail_in = (uInt)r;
			for (;;) {
				int zr;
				size_t n;

				if (ended && z.avail_in == 0)
					break;
				if (ended) {
					/* Another gzip member follows (concatenated files). */
					inflateReset(&z);
					ended = false;
				}
				z.next_out = zout;
				z.avail_out = sizeof(zout);
				zr = inflate(&z, Z_NO_FLUSH);
				if (zr != Z_OK && zr != Z_STREAM_END) {
					snprintf(bad, sizeof(bad), "is not valid gzip data: %s",
					    z.msg ? z.msg : "corrupt");
					break;
				}
				n = sizeof(zout) - z.avail_out;
				if (n > 0 && !feed(p[1], zout, n, &fed)) {
					gone = true;
					break;
				}
				ended = zr == Z_STREAM_END;
				if (!ended && z.avail_in == 0 && z.avail_out > 0)
					break;
			}
			if (bad[0] != '\0' || gone)
				break;
		}
		ap_job_progress(ctx->job, total > 0 ? (int)(consumed * 99 / total) : 0);
	}
	if (bad[0] != '\0') {
		/* Stop the client before it sees an end: PostgreSQL rolls the whole import back. */
		ap_dbdump_cancel(dd);
		rc = ap_problem_set(ctx->pb, AP_PB_INVALID, "file", "%s", bad);
		goto out;
	}
	close(p[1]);
	p[1] = -1;
	ap_dbdump_wait(dd, -1, &st);
	if (!st.ok) {
		rc = ap_problem_set(ctx->pb, AP_PB_FAILED, "file", "the import failed: %s", st.reason);
		goto out;
	}
	hex_digest(md, sha);
	json_object_object_add(ctx->result, "server", json_object_new_string(a[IM_SERVER].s));
	json_object_object_add(ctx->result, "name", json_object_new_string(a[IM_NAME].s));
	json_object_object_add(ctx->result, "size", json_object_new_int64(total));
	json_object_object_add(ctx->result, "bytes", json_object_new_int64(fed));
	json_object_object_add(ctx->result, "sha256", json_object_new_string(sha));
	rc = AP_OK;
out:
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	/* The client ends before its login goes; a cancelled job's SIGTERM is taken by the free. */
	ap_dbdump_cancel(dd);
	if (z_on)
		inflateEnd(&z);
	EVP_MD_CTX_free(md);
	if (logged_in)
		ap_ops_dbimport_logout(ctx, a[IM_SERVER].s, login.user);
	explicit_bzero(login.password, sizeof(login.password));
	ap_dbdump_free(dd);
	if (src >= 0)
		close(src);
	if (dfd >= 0)
		close(dfd);
	return rc;
}
