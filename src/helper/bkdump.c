/*
 * bkdump.c — databases' dumps for backups (bkdump.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aapanel/db.h"
#include "aapanel/dsn.h"
#include "aapanel/log.h"
#include "bkdump.h"
#include "sitefs.h"
#include "spawn.h"

#define SRV_FILE_MAX 4096
#define MARIADB_DUMP "/usr/bin/mariadb-dump"
#define MARIADB "/usr/bin/mariadb"
#define PG_DUMP "/usr/bin/pg_dump"
#define PSQL "/usr/bin/psql"

struct login {
	enum ap_db_backend backend;
	char user[128], host[256], socket[256];
	int port;
	char password[260];
};

static enum ap_err
dfail(struct helper_ctx *ctx, enum ap_pb_code code, const char *reason, enum ap_err rc)
{
	ap_problem_set(ctx->pb, code, "databases", "%s", reason);
	return rc;
}

/* The server's admin login from <databases.dir>/<server>.conf ("dsn=…\npassword=…"). */
static enum ap_err
login_load(struct helper_ctx *ctx, const char *server, struct login *l)
{
	struct ap_buf b = { 0 };
	struct ap_db_dsn d = { 0 };
	char file[64], why[160], dsn[520] = "";
	const char *w = NULL;
	int dfd = -1;
	char *line, *save = NULL;
	enum ap_err rc;

	memset(l, 0, sizeof(*l));
	rc = ap_fs_dir(ctx->sandbox_fd, ctx->cfg->databases_dir, false, 0, &dfd, &w);
	if (rc != AP_OK)
		return dfail(ctx, AP_PB_NOT_FOUND, "no such database server", AP_ERR_NOTFOUND);
	snprintf(file, sizeof(file), "%s.conf", server);
	rc = ap_fs_read(dfd, file, SRV_FILE_MAX, &b);
	close(dfd);
	if (rc != AP_OK) {
		ap_buf_free(&b);
		return dfail(ctx, AP_PB_NOT_FOUND, "no such database server", AP_ERR_NOTFOUND);
	}
	for (line = strtok_r((char *)ap_buf_cstr(&b), "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "dsn=", 4) == 0)
			snprintf(dsn, sizeof(dsn), "%s", line + 4);
		else if (strncmp(line, "password=", 9) == 0)
			snprintf(l->password, sizeof(l->password), "%s", line + 9);
	}
	explicit_bzero(b.data, b.cap);
	ap_buf_free(&b);
	if (ap_db_dsn_parse(dsn, &d, why, sizeof(why)) != AP_DB_OK || d.backend == AP_DB_SQLITE) {
		ap_db_dsn_free(&d);
		explicit_bzero(l->password, sizeof(l->password));
		return dfail(ctx, AP_PB_INTERNAL, "the server's file is damaged", AP_ERR_IO);
	}
	l->backend = d.backend;
	snprintf(l->user, sizeof(l->user), "%s", d.user != NULL ? d.user : "");
	snprintf(l->host, sizeof(l->host), "%s", d.host != NULL ? d.host : "");
	snprintf(l->socket, sizeof(l->socket), "%s", d.socket != NULL ? d.socket : "");
	l->port = d.port;
	ap_db_dsn_free(&d);
	return AP_OK;
}

/* value escaped for a MariaDB option file ("…" with \ and " escaped) or a .pgpass field (\ and :). */
static const char *
esc(struct helper_ctx *ctx, const char *s, bool pg)
{
	struct ap_buf b = { 0 };
	const char *out;

	for (; *s; s++) {
		if (*s == '\\' || (pg ? *s == ':' : *s == '"'))
			ap_buf_putc(&b, '\\');
		ap_buf_putc(&b, *s);
	}
	out = ap_arena_strdup(ctx->arena, ap_buf_cstr(&b));
	explicit_bzero(b.data, b.cap);
	ap_buf_free(&b);
	return out;
}

/* Write the login's option file (MariaDB) or password file (PostgreSQL) as name in dirfd. */
static enum ap_err
login_file(struct helper_ctx *ctx, const struct login *l, int dirfd, const char *name)
{
	const char *text;
	enum ap_err rc;

	if (l->backend == AP_DB_PGSQL)
		text = ap_arena_printf(ctx->arena, "*:*:*:%s:%s\n", esc(ctx, l->user, true),
		    esc(ctx, l->password, true));
	else {
		text = ap_arena_printf(ctx->arena, "[client]\nuser=\"%s\"\npassword=\"%s\"\n",
		    esc(ctx, l->user, false), esc(ctx, l->password, false));
		if (l->socket[0] != '\0')
			text = ap_arena_printf(ctx->arena, "%ssocket=\"%s\"\n", text, esc(ctx, l->socket, false));
		else {
			text = ap_arena_printf(ctx->arena, "%shost=\"%s\"\n", text,
			    esc(ctx, l->host[0] ? l->host : "localhost", false));
			if (l->port > 0)
				text = ap_arena_printf(ctx->arena, "%sport=%d\n", text, l->port);
		}
	}
	rc = ap_fs_write(dirfd, name, text, strlen(text), 0600);
	explicit_bzero((char *)text, strlen(text));
	if (rc != AP_OK)
		return dfail(ctx, AP_PB_FAILED, strerror(errno), AP_ERR_IO);
	return AP_OK;
}

/* PostgreSQL's -h: the socket directory or the host. */
static const char *
pg_host(const struct login *l)
{
	if (l->socket[0] != '\0')
		return l->socket;
	return l->host[0] != '\0' ? l->host : "localhost";
}

struct sink {
	int fd;
	bool failed;
	int err;
};

static void
sink_out(void *p, int stream, const char *data, size_t len)
{
	struct sink *s = p;

	if (stream != 1 || s->failed)
		return;
	while (len > 0) {
		ssize_t w = write(s->fd, data, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			s->failed = true;
			s->err = errno;
			return;
		}
		data += w;
		len -= (size_t)w;
	}
}

/* The tool's last line on stderr as the reason. */
static enum ap_err
tool_fail(struct helper_ctx *ctx, const char *tool, const struct ap_spawn_result *res)
{
	const char *e = res->err.data != NULL ? res->err.data : "";
	size_t end = res->err.len, start;

	while (end > 0 && (e[end - 1] == '\n' || e[end - 1] == ' '))
		end--;
	start = end;
	while (start > 0 && e[start - 1] != '\n')
		start--;
	if (end - start > 300)
		start = end - 300;
	if (res->timed_out)
		ap_problem_set(ctx->pb, AP_PB_TIMEOUT, "databases", "%s ran out of time", tool);
	else
		ap_problem_set(ctx->pb, AP_PB_FAILED, "databases", "%s: %.*s", tool,
		    (int)(end - start), end > start ? e + start : "failed");
	return AP_ERR_IO;
}

static enum ap_err
run(struct helper_ctx *ctx, const char *path, const char *const *argv, const char *const *env,
    int out_fd, const void *in, size_t in_len)
{
	struct ap_spawn sp = { 0 };
	struct ap_spawn_result res = { 0 };
	struct sink s = { .fd = out_fd };
	char err[256];
	enum ap_err rc;

	sp.path = path;
	sp.argv = argv;
	sp.env = env;
	sp.stdin_data = in;
	sp.stdin_len = in_len;
	sp.timeout_ms = ctx->cfg->helper_job_timeout * 1000;
	sp.max_output = out_fd >= 0 ? 1 : 0;
	sp.max_memory = 4ULL * 1024 * 1024 * 1024;
	if (out_fd >= 0) {
		sp.on_output = sink_out;
		sp.on_output_ctx = &s;
	}
	rc = ap_spawn_run(&sp, &res, err, sizeof(err));
	if (rc != AP_OK)
		rc = dfail(ctx, AP_PB_FAILED, err, AP_ERR_IO);
	else if (!res.exited || res.exit_code != 0)
		rc = tool_fail(ctx, argv[0], &res);
	else if (s.failed)
		rc = dfail(ctx, AP_PB_FAILED, strerror(s.err), AP_ERR_IO);
	ap_spawn_result_free(&res);
	return rc;
}

enum ap_err
ap_bkdump_write(struct helper_ctx *ctx, int dirfd, const char *dirpath, const char *server,
    const char *db, const char *name)
{
	struct login l;
	const char *cred = ".login", *credpath = ap_arena_printf(ctx->arena, "%s/%s", dirpath, cred);
	const char *tmp = ap_arena_printf(ctx->arena, "%s.part", name);
	int fd = -1;
	enum ap_err rc;

	if ((rc = login_load(ctx, server, &l)) != AP_OK)
		return rc;
	if ((rc = login_file(ctx, &l, dirfd, cred)) != AP_OK)
		goto out;
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = dfail(ctx, AP_PB_FAILED, strerror(errno), AP_ERR_IO);
		goto out;
	}
	if (l.backend == AP_DB_PGSQL) {
		const char *env[] = { ap_arena_printf(ctx->arena, "PGPASSFILE=%s", credpath), NULL };
		const char *argv[] = { "pg_dump", "--no-password", "--clean", "--if-exists",
			"--host", pg_host(&l), "--port", ap_arena_printf(ctx->arena, "%d",
			l.port > 0 ? l.port : 5432), "--username", l.user, "--dbname", db, NULL };

		rc = run(ctx, PG_DUMP, argv, env, fd, NULL, 0);
	} else {
		const char *argv[] = { "mariadb-dump", ap_arena_printf(ctx->arena,
			"--defaults-extra-file=%s", credpath), "--single-transaction", "--routines",
			"--triggers", "--hex-blob", "--default-character-set=utf8mb4", db, NULL };

		rc = run(ctx, MARIADB_DUMP, argv, NULL, fd, NULL, 0);
	}
	if (rc == AP_OK && (fsync(fd) != 0 || renameat(dirfd, tmp, dirfd, name) != 0))
		rc = dfail(ctx, AP_PB_FAILED, strerror(errno), AP_ERR_IO);
out:
	if (fd >= 0)
		close(fd);
	if (rc != AP_OK)
		unlinkat(dirfd, tmp, 0);
	unlinkat(dirfd, cred, 0);
	explicit_bzero(l.password, sizeof(l.password));
	return rc;
}

enum ap_err
ap_bkdump_load(struct helper_ctx *ctx, int dirfd, const char *dirpath, const char *server,
    const char *db, const void *data, size_t len)
{
	struct login l;
	const char *cred = ".login", *credpath = ap_arena_printf(ctx->arena, "%s/%s", dirpath, cred);
	enum ap_err rc;

	if ((rc = login_load(ctx, server, &l)) != AP_OK)
		return rc;
	if ((rc = login_file(ctx, &l, dirfd, cred)) != AP_OK)
		goto out;
	if (l.backend == AP_DB_PGSQL) {
		const char *env[] = { ap_arena_printf(ctx->arena, "PGPASSFILE=%s", credpath), NULL };
		const char *argv[] = { "psql", "--no-password", "--no-psqlrc", "--quiet",
			"--set", "ON_ERROR_STOP=1", "--host", pg_host(&l), "--port",
			ap_arena_printf(ctx->arena, "%d", l.port > 0 ? l.port : 5432), "--username",
			l.user, "--dbname", db, NULL };

		rc = run(ctx, PSQL, argv, env, -1, data, len);
	} else {
		const char *argv[] = { "mariadb", ap_arena_printf(ctx->arena,
			"--defaults-extra-file=%s", credpath), "--default-character-set=utf8mb4",
			"--batch", db, NULL };

		rc = run(ctx, MARIADB, argv, NULL, -1, data, len);
	}
out:
	unlinkat(dirfd, cred, 0);
	explicit_bzero(l.password, sizeof(l.password));
	return rc;
}
