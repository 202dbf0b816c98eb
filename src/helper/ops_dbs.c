/*
 * ops_dbs.c — database servers, databases and their users (docs/databases.md).
 *
 * A server is a file <databases.dir>/<name>.conf beneath the sandbox root,
 * mode 0600 in a 0700 directory, holding its DSN and its admin password.
 * Only the helper reads it: workers name a server, never send its DSN again
 * (so a worker cannot point the stored password at another host) and never
 * get the password back. The helper connects with the project's DB layer
 * (libmariadb, libpq), with databases.connect_timeout_ms as the bound of the
 * connect and of every statement, so a server that is down answers at once.
 *
 * Statements that take no placeholders (CREATE USER, GRANT, CREATE DATABASE)
 * are built from names checked again here (dbnames.h) and quoted with the
 * driver's own escaping (ap_db_quote); everything else is prepared with
 * binds. Passwords are generated here (ap_db_password_new), returned once,
 * and written nowhere.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <poll.h>
#include <signal.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aapanel/db.h"
#include "aapanel/dbnames.h"
#include "aapanel/dsn.h"
#include "aapanel/log.h"
#include "ops.h"
#include "sitefs.h"
#include "valid.h"

#define SRV_FILE_MAX 4096

static const char *const charsets[] = { "utf8mb4", "utf8mb3", "latin1", "ascii", NULL };
static const char *const encodings[] = { "UTF8", "LATIN1", "SQL_ASCII", NULL };

static const char *
check_dsn_text(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			return "must be printable ASCII";
	return NULL;
}

static const char *
check_password_text(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return "may not contain control characters";
	return NULL;
}

enum { SA_NAME, SA_DSN, SA_PASSWORD, SA__MAX };
const struct ap_field ap_ops_dbserver_add_args[SA__MAX + 1] = {
	[SA_NAME] = { .name = "name", .type = AP_FIELD_NAME, .flags = AP_FIELD_REQUIRED, .min = 1,
	    .max = 32, .check = ap_valid_identifier },
	[SA_DSN] = { .name = "dsn", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED | AP_FIELD_SINGLELINE,
	    .min = 8, .max = 512, .check = check_dsn_text },
	[SA_PASSWORD] = { .name = "password", .type = AP_FIELD_TEXT,
	    .flags = AP_FIELD_SINGLELINE | AP_FIELD_SECRET, .max = 256, .check = check_password_text },
	[SA__MAX] = AP_FIELD_END,
};

enum { SN_NAME, SN__MAX };
const struct ap_field ap_ops_dbserver_name_args[SN__MAX + 1] = {
	[SN_NAME] = { .name = "name", .type = AP_FIELD_NAME, .flags = AP_FIELD_REQUIRED, .min = 1,
	    .max = 32, .check = ap_valid_identifier },
	[SN__MAX] = AP_FIELD_END,
};

/* "a b c": up to STATUS_MAX server names, one space between. */
#define STATUS_MAX 64
static const char *
check_names(const char *s, size_t n)
{
	size_t count = 0, i = 0;

	while (i < n) {
		size_t j = i;

		while (j < n && s[j] != ' ')
			j++;
		if (j == i || j - i > 32 || ap_valid_identifier(s + i, j - i) != NULL)
			return "must be server names separated by one space";
		if (++count > STATUS_MAX)
			return "names at most 64 servers";
		i = j + 1;
		if (j < n && i == n)
			return "must be server names separated by one space";
	}
	return NULL;
}

enum { SS_NAMES, SS__MAX };
const struct ap_field ap_ops_dbserver_names_args[SS__MAX + 1] = {
	[SS_NAMES] = { .name = "names", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED | AP_FIELD_SINGLELINE,
	    .min = 1, .max = STATUS_MAX * 33, .check = check_names },
	[SS__MAX] = AP_FIELD_END,
};

enum { DC_SERVER, DC_NAME, DC_USER, DC_CHARSET, DC_COLLATION, DC_ENCODING, DC_HOSTS, DC_LOCALE, DC__MAX };
const struct ap_field ap_ops_database_create_args[DC__MAX + 1] = {
	[DC_SERVER] = { .name = "server", .type = AP_FIELD_NAME, .flags = AP_FIELD_REQUIRED, .min = 1,
	    .max = 32, .check = ap_valid_identifier },
	[DC_NAME] = { .name = "name", .type = AP_FIELD_NAME, .flags = AP_FIELD_REQUIRED, .min = 1,
	    .max = 32, .check = ap_check_db_ident },
	[DC_USER] = { .name = "user", .type = AP_FIELD_NAME, .flags = AP_FIELD_REQUIRED, .min = 1,
	    .max = 32, .check = ap_check_db_ident },
	[DC_CHARSET] = { .name = "charset", .type = AP_FIELD_ENUM, .choices = charsets },
	[DC_COLLATION] = { .name = "collation", .type = AP_FIELD_NAME, .min = 1, .max = 64,
	    .check = ap_check_db_collation },
	[DC_ENCODING] = { .name = "encoding", .type = AP_FIELD_ENUM, .choices = encodings },
	[DC_HOSTS] = { .name = "hosts", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE, .min = 1,
	    .max = 400, .check = ap_check_db_hosts },
	[DC_LOCALE] = { .name = "locale", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE, .min = 1,
	    .max = 40, .check = ap_check_db_locale },
	[DC__MAX] = AP_FIELD_END,
};

enum { DR_SERVER, DR_NAME, DR_USER, DR_HOSTS, DR__MAX };
const struct ap_field ap_ops_database_reader_args[DR__MAX + 1] = {
	[DR_SERVER] = { .name = "server", .type = AP_FIELD_NAME, .flags = AP_FIELD_REQUIRED, .min = 1,
	    .max = 32, .check = ap_valid_identifier },
	[DR_NAME] = { .name = "name", .type = AP_FIELD_NAME, .flags = AP_FIELD_REQUIRED, .min = 1,
	    .max = 32, .check = ap_check_db_ident },
	[DR_USER] = { .name = "user", .type = AP_FIELD_NAME, .flags = AP_FIELD_REQUIRED, .min = 1,
	    .max = 32, .check = ap_check_db_ident },
	[DR_HOSTS] = { .name = "hosts", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE, .min = 1,
	    .max = 400, .check = ap_check_db_hosts },
	[DR__MAX] = AP_FIELD_END,
};

enum { DD_SERVER, DD_NAME, DD_USER, DD_READER, DD__MAX };
const struct ap_field ap_ops_database_drop_args[DD__MAX + 1] = {
	[DD_SERVER] = { .name = "server", .type = AP_FIELD_NAME, .flags = AP_FIELD_REQUIRED, .min = 1,
	    .max = 32, .check = ap_valid_identifier },
	[DD_NAME] = { .name = "name", .type = AP_FIELD_NAME, .flags = AP_FIELD_REQUIRED, .min = 1,
	    .max = 32, .check = ap_check_db_ident },
	[DD_USER] = { .name = "user", .type = AP_FIELD_NAME, .min = 1, .max = 32,
	    .check = ap_check_db_ident },
	[DD_READER] = { .name = "reader", .type = AP_FIELD_NAME, .min = 1, .max = 32,
	    .check = ap_check_db_ident },
	[DD__MAX] = AP_FIELD_END,
};

enum { DP_SERVER, DP_USER, DP__MAX };
const struct ap_field ap_ops_database_passwd_args[DP__MAX + 1] = {
	[DP_SERVER] = { .name = "server", .type = AP_FIELD_NAME, .flags = AP_FIELD_REQUIRED, .min = 1,
	    .max = 32, .check = ap_valid_identifier },
	[DP_USER] = { .name = "user", .type = AP_FIELD_NAME, .flags = AP_FIELD_REQUIRED, .min = 1,
	    .max = 32, .check = ap_check_db_ident },
	[DP__MAX] = AP_FIELD_END,
};

enum { DL_SERVER, DL__MAX };
const struct ap_field ap_ops_database_list_args[DL__MAX + 1] = {
	[DL_SERVER] = { .name = "server", .type = AP_FIELD_NAME, .flags = AP_FIELD_REQUIRED, .min = 1,
	    .max = 32, .check = ap_valid_identifier },
	[DL__MAX] = AP_FIELD_END,
};

/* ---------------------------------------------------------------- the servers' files */

static enum ap_err
srv_dir(struct helper_ctx *ctx, bool create, int *fd)
{
	const char *why = NULL;
	enum ap_err rc = ap_fs_dir(ctx->sandbox_fd, ctx->cfg->databases_dir, create, 0700, fd, &why);

	if (rc != AP_OK && rc != AP_ERR_NOTFOUND)
		ap_problem_set(ctx->pb, AP_PB_INTERNAL, NULL, "%s: %s", ctx->cfg->databases_dir,
		    why ? why : "cannot open");
	return rc;
}

/* The panel's own database name (refused as a name here too). */
static bool
is_panel_db(const struct ap_config *cfg, const char *name)
{
	struct ap_db_dsn d = { 0 };
	char why[128];
	bool same = false;

	if (cfg->db_dsn != NULL && ap_db_dsn_parse(cfg->db_dsn, &d, why, sizeof(why)) == AP_DB_OK)
		same = d.dbname != NULL && strcmp(d.dbname, name) == 0;
	ap_db_dsn_free(&d);
	return same;
}

struct srv {
	char dsn[520];
	char password[260];
	enum ap_db_backend backend;
	char admin[64];
};

/* Read <name>.conf: "dsn=…\npassword=…\n". */
static enum ap_err
srv_load(struct helper_ctx *ctx, const char *name, struct srv *s)
{
	struct ap_buf b = { 0 };
	char file[64];
	int dfd = -1;
	enum ap_err rc;
	char *line, *save = NULL;
	struct ap_db_dsn d = { 0 };
	char why[160];

	memset(s, 0, sizeof(*s));
	rc = srv_dir(ctx, false, &dfd);
	if (rc == AP_ERR_NOTFOUND)
		goto missing;
	if (rc != AP_OK)
		return rc;
	snprintf(file, sizeof(file), "%s.conf", name);
	rc = ap_fs_read(dfd, file, SRV_FILE_MAX, &b);
	close(dfd);
	if (rc == AP_ERR_NOTFOUND)
		goto missing;
	if (rc != AP_OK) {
		ap_buf_free(&b);
		return ap_problem_set(ctx->pb, AP_PB_INTERNAL, NULL, "cannot read the server's file");
	}
	for (line = strtok_r((char *)ap_buf_cstr(&b), "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "dsn=", 4) == 0)
			snprintf(s->dsn, sizeof(s->dsn), "%s", line + 4);
		else if (strncmp(line, "password=", 9) == 0)
			snprintf(s->password, sizeof(s->password), "%s", line + 9);
	}
	explicit_bzero(b.data, b.cap);
	ap_buf_free(&b);
	if (ap_db_dsn_parse(s->dsn, &d, why, sizeof(why)) != AP_DB_OK ||
	    !ap_db_dsn_backend(s->dsn, &s->backend) || s->backend == AP_DB_SQLITE) {
		ap_db_dsn_free(&d);
		return ap_problem_set(ctx->pb, AP_PB_INTERNAL, NULL, "the server's file is damaged");
	}
	snprintf(s->admin, sizeof(s->admin), "%s", d.user ? d.user : "");
	ap_db_dsn_free(&d);
	return AP_OK;
missing:
	return ap_problem_set(ctx->pb, AP_PB_NOT_FOUND, "server", "no such database server");
}

static void
srv_wipe(struct srv *s)
{
	explicit_bzero(s->password, sizeof(s->password));
}

/* Connect with the server's admin login; the failure is the driver's message
 * (it never holds the password: libpq and libmariadb do not echo it). */
static enum ap_err
srv_connect(struct helper_ctx *ctx, const struct srv *s, struct ap_db **out)
{
	struct ap_db_opts o = {
		.dsn = s->dsn,
		.password = s->password[0] ? s->password : NULL,
		.connect_timeout_ms = ctx->cfg->databases_connect_timeout_ms,
		.query_timeout_ms = ctx->cfg->databases_connect_timeout_ms * 5,
	};
	struct ap_db *db = NULL;
	enum ap_db_rc rc = ap_db_open(&o, &db);

	if (rc != AP_DB_OK) {
		ap_problem_set(ctx->pb, AP_PB_FAILED, "server", "cannot connect: %s",
		    db ? ap_db_errmsg(db) : "invalid DSN");
		ap_db_close(db);
		*out = NULL;
		return AP_ERR_UNAVAIL;
	}
	*out = db;
	return AP_OK;
}

static enum ap_err
sql_fail(struct helper_ctx *ctx, struct ap_db *db, const char *what)
{
	return ap_problem_set(ctx->pb, AP_PB_INTERNAL, NULL, "%s: %s", what, ap_db_errmsg(db));
}

/* One int64 from sql with one text bind (NULL: none). */
static enum ap_db_rc
query_int(struct ap_db *db, const char *sql, const char *arg, int64_t *out)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc = ap_db_prepare(db, sql, &st);

	*out = 0;
	if (rc != AP_DB_OK)
		return rc;
	if (arg != NULL)
		ap_db_bind_text(st, 1, arg, -1);
	rc = ap_db_step(st);
	if (rc == AP_DB_ROW) {
		const char *t = ap_db_col_text(st, 0, NULL);

		*out = t ? strtoll(t, NULL, 10) : 0;
		rc = AP_DB_OK;
	} else if (rc == AP_DB_DONE)
		rc = AP_DB_OK;
	ap_db_finalize(st);
	return rc;
}

/* Run one DDL statement built with ap_arena_printf from quoted parts. */
static enum ap_err
ddl(struct helper_ctx *ctx, struct ap_db *db, const char *sql)
{
	if (ap_db_exec_ddl(db, sql) != AP_DB_OK)
		return sql_fail(ctx, db, "the server refused");
	return AP_OK;
}

static char *
q(struct helper_ctx *ctx, struct ap_db *db, const char *s, bool ident)
{
	char *r = ap_db_quote(db, s, ident), *out;

	if (r == NULL)
		return NULL;
	out = ap_arena_strdup(ctx->arena, r);
	free(r);
	return out;
}

/* ---------------------------------------------------------------- dbserver.* */

/* The facts the servers page shows. Never fails: reachable false and the error otherwise. */
static void
srv_facts(struct helper_ctx *ctx, const struct srv *s, struct json_object *o)
{
	struct ap_db *db = NULL;
	struct ap_problem pb = { 0 };
	struct ap_problem *saved = ctx->pb;
	int64_t uptime = 0, conns = 0, size = 0;
	enum ap_db_rc r1, r2, r3;

	ctx->pb = &pb;
	if (srv_connect(ctx, s, &db) != AP_OK) {
		ctx->pb = saved;
		json_object_object_add(o, "reachable", json_object_new_boolean(false));
		json_object_object_add(o, "error", json_object_new_string(pb.reason));
		return;
	}
	ctx->pb = saved;
	if (s->backend == AP_DB_MYSQL) {
		r1 = query_int(db, "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS "
				   "WHERE VARIABLE_NAME = 'UPTIME'", NULL, &uptime);
		r2 = query_int(db, "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS "
				   "WHERE VARIABLE_NAME = 'THREADS_CONNECTED'", NULL, &conns);
		r3 = query_int(db, "SELECT CAST(COALESCE(SUM(DATA_LENGTH + INDEX_LENGTH), 0) AS CHAR) "
				   "FROM information_schema.TABLES", NULL, &size);
	} else {
		r1 = query_int(db, "SELECT CAST(CAST(EXTRACT(EPOCH FROM now() - pg_postmaster_start_time()) "
				   "AS bigint) AS text)", NULL, &uptime);
		r2 = query_int(db, "SELECT CAST(count(*) AS text) FROM pg_stat_activity "
				   "WHERE backend_type = 'client backend'", NULL, &conns);
		r3 = query_int(db, "SELECT CAST(COALESCE(sum(CASE WHEN has_database_privilege(datname, 'CONNECT') "
				   "THEN pg_database_size(datname) END), 0) AS text) FROM pg_database", NULL, &size);
	}
	json_object_object_add(o, "reachable", json_object_new_boolean(true));
	json_object_object_add(o, "version", json_object_new_string(ap_db_server_version(db) ?
	    ap_db_server_version(db) : ""));
	json_object_object_add(o, "uptime", r1 == AP_DB_OK ? json_object_new_int64(uptime) : NULL);
	json_object_object_add(o, "connections", r2 == AP_DB_OK ? json_object_new_int64(conns) : NULL);
	json_object_object_add(o, "size", r3 == AP_DB_OK ? json_object_new_int64(size) : NULL);
	ap_db_close(db);
}

enum ap_err
ap_ops_dbserver_add(struct helper_ctx *ctx)
{
	const struct ap_fieldval *a = ctx->args;
	struct ap_db_dsn d = { 0 };
	struct srv s = { 0 };
	struct ap_buf b = { 0 };
	struct ap_db *db = NULL;
	char why[160], file[64];
	enum ap_err rc;
	int dfd = -1;
	struct stat sb;
	char *dsn = ap_dbserver_dsn_normalize(a[SA_DSN].s);

	snprintf(s.dsn, sizeof(s.dsn), "%s", dsn);
	free(dsn);
	if (ap_db_dsn_parse(s.dsn, &d, why, sizeof(why)) != AP_DB_OK) {
		ap_db_dsn_free(&d);
		return ap_problem_set(ctx->pb, AP_PB_INVALID, "dsn", "%s", why);
	}
	ap_db_dsn_free(&d);
	if (!ap_db_dsn_backend(s.dsn, &s.backend) || s.backend == AP_DB_SQLITE)
		return ap_problem_set(ctx->pb, AP_PB_INVALID, "dsn", "must be a mysql:// or postgresql:// DSN");
	if (a[SA_PASSWORD].present)
		snprintf(s.password, sizeof(s.password), "%s", a[SA_PASSWORD].s);
	rc = srv_dir(ctx, true, &dfd);
	if (rc != AP_OK)
		goto out;
	snprintf(file, sizeof(file), "%s.conf", a[SA_NAME].s);
	if (fstatat(dfd, file, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
		rc = ap_problem_set(ctx->pb, AP_PB_EXISTS, "name", "a database server of this name exists");
		goto out;
	}
	/* Only a server that answers is recorded: a typo is found now. */
	if ((rc = srv_connect(ctx, &s, &db)) != AP_OK)
		goto out;
	json_object_object_add(ctx->result, "name", json_object_new_string(a[SA_NAME].s));
	json_object_object_add(ctx->result, "kind",
	    json_object_new_string(s.backend == AP_DB_MYSQL ? "mysql" : "postgresql"));
	json_object_object_add(ctx->result, "version",
	    json_object_new_string(ap_db_server_version(db) ? ap_db_server_version(db) : ""));
	ap_buf_printf(&b, "dsn=%s\npassword=%s\n", s.dsn, s.password);
	rc = ap_fs_write(dfd, file, b.data, b.len, 0600);
	if (rc != AP_OK)
		ap_problem_set(ctx->pb, AP_PB_INTERNAL, NULL, "cannot write the server's file");
out:
	if (b.data)
		explicit_bzero(b.data, b.cap);
	ap_buf_free(&b);
	srv_wipe(&s);
	ap_db_close(db);
	if (dfd >= 0)
		close(dfd);
	return rc;
}

enum ap_err
ap_ops_dbserver_remove(struct helper_ctx *ctx)
{
	char file[64];
	int dfd = -1;
	struct stat sb;
	enum ap_err rc = srv_dir(ctx, false, &dfd);

	if (rc == AP_ERR_NOTFOUND)
		return ap_problem_set(ctx->pb, AP_PB_NOT_FOUND, "name", "no such database server");
	if (rc != AP_OK)
		return rc;
	snprintf(file, sizeof(file), "%s.conf", ctx->args[SN_NAME].s);
	if (fstatat(dfd, file, &sb, AT_SYMLINK_NOFOLLOW) != 0) {
		close(dfd);
		return ap_problem_set(ctx->pb, AP_PB_NOT_FOUND, "name", "no such database server");
	}
	ap_fs_unlink(dfd, file);
	fsync(dfd);
	close(dfd);
	json_object_object_add(ctx->result, "name", json_object_new_string(ctx->args[SN_NAME].s));
	return AP_OK;
}

enum ap_err
ap_ops_dbserver_status(struct helper_ctx *ctx)
{
	struct srv s;
	enum ap_err rc = srv_load(ctx, ctx->args[SN_NAME].s, &s);

	if (rc != AP_OK)
		return rc;
	json_object_object_add(ctx->result, "name", json_object_new_string(ctx->args[SN_NAME].s));
	json_object_object_add(ctx->result, "kind",
	    json_object_new_string(s.backend == AP_DB_MYSQL ? "mysql" : "postgresql"));
	srv_facts(ctx, &s, ctx->result);
	srv_wipe(&s);
	return AP_OK;
}

/*
 * Ask each of the servers named "a b c" at once, each from a child of its
 * own (one(ctx, name, obj) fills obj), so the caller waits for the slowest
 * one, not their sum; budget_ms bounds them all: a child that has not
 * answered by then is killed and its server "no answer within … ms".
 * {servers:[{name, …} in the order asked]}.
 */
typedef void (*fan_fn)(struct helper_ctx *ctx, const char *name, struct json_object *o);

static enum ap_err
fan_out(struct helper_ctx *ctx, const char *p, int budget, fan_fn one)
{
	char names[STATUS_MAX][33];
	struct {
		int fd;
		pid_t pid;
		struct ap_buf buf;
		bool done;
	} w[STATUS_MAX];
	struct json_object *arr = json_object_new_array();
	uint64_t until = ap_now_ms() + (uint64_t)budget;
	size_t n = 0, left = 0;

	while (*p && n < STATUS_MAX) {
		size_t len = strcspn(p, " ");

		snprintf(names[n++], sizeof(names[0]), "%.*s", (int)(len < 32 ? len : 32), p);
		p += len;
		while (*p == ' ')
			p++;
	}
	for (size_t i = 0; i < n; i++) {
		int pp[2] = { -1, -1 };

		memset(&w[i], 0, sizeof(w[i]));
		w[i].fd = -1;
		w[i].pid = -1;
		if (pipe2(pp, O_CLOEXEC) != 0 || (w[i].pid = fork()) < 0) {
			if (pp[0] >= 0) {
				close(pp[0]);
				close(pp[1]);
			}
			w[i].done = true;
			continue;
		}
		if (w[i].pid == 0) {
			struct json_object *o = json_object_new_object();
			const char *line;
			size_t off = 0, len;

			close(pp[0]);
			one(ctx, names[i], o);
			line = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
			len = strlen(line);
			while (off < len) {
				ssize_t r = write(pp[1], line + off, len - off);

				if (r < 0 && errno == EINTR)
					continue;
				if (r <= 0)
					_exit(1);
				off += (size_t)r;
			}
			_exit(0);
		}
		close(pp[1]);
		w[i].fd = pp[0];
		left++;
	}
	while (left > 0) {
		struct pollfd pf[STATUS_MAX];
		size_t map[STATUS_MAX], np = 0;
		uint64_t now = ap_now_ms();
		int r;

		if (now >= until)
			break;
		for (size_t i = 0; i < n; i++)
			if (!w[i].done) {
				pf[np] = (struct pollfd){ .fd = w[i].fd, .events = POLLIN };
				map[np++] = i;
			}
		r = poll(pf, np, (int)(until - now));
		if (r < 0 && errno != EINTR)
			break;
		for (size_t k = 0; r > 0 && k < np; k++) {
			char chunk[4096];
			ssize_t got;
			size_t i = map[k];

			if (!(pf[k].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			got = read(w[i].fd, chunk, sizeof(chunk));
			if (got > 0) {
				if (w[i].buf.len < (size_t)ctx->cfg->helper_max_message)
					ap_buf_append(&w[i].buf, chunk, (size_t)got);
				continue;
			}
			if (got < 0 && errno == EINTR)
				continue;
			w[i].done = true;
			left--;
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = NULL;

		if (w[i].pid > 0) {
			if (!w[i].done)
				kill(w[i].pid, SIGKILL);
			waitpid(w[i].pid, NULL, 0);
		}
		if (w[i].fd >= 0)
			close(w[i].fd);
		if (w[i].done && w[i].buf.len > 0)
			o = json_tokener_parse(ap_buf_cstr(&w[i].buf));
		if (o == NULL || !json_object_is_type(o, json_type_object)) {
			json_object_put(o);
			o = json_object_new_object();
			json_object_object_add(o, "reachable", json_object_new_boolean(false));
			json_object_object_add(o, "error", json_object_new_string(ap_arena_printf(ctx->arena,
			    w[i].done ? "the answer could not be read" : "no answer within %d ms", budget)));
		}
		json_object_object_add(o, "name", json_object_new_string(names[i]));
		json_object_array_add(arr, o);
		ap_buf_free(&w[i].buf);
	}
	json_object_object_add(ctx->result, "servers", arr);
	return AP_OK;
}

static void
status_one(struct helper_ctx *ctx, const char *name, struct json_object *o)
{
	struct ap_problem pb = { 0 };
	struct helper_ctx c2 = *ctx;
	struct srv s;

	c2.pb = &pb;
	c2.result = o;
	if (srv_load(&c2, name, &s) == AP_OK) {
		json_object_object_add(o, "kind",
		    json_object_new_string(s.backend == AP_DB_MYSQL ? "mysql" : "postgresql"));
		srv_facts(&c2, &s, o);
		srv_wipe(&s);
	} else {
		json_object_object_add(o, "reachable", json_object_new_boolean(false));
		json_object_object_add(o, "error", json_object_new_string(pb.reason));
	}
}

/* dbserver.statuses {names}: each as dbserver.status, bounded by connect_timeout_ms + 1 s. */
enum ap_err
ap_ops_dbserver_statuses(struct helper_ctx *ctx)
{
	return fan_out(ctx, ctx->args[SS_NAMES].s, ctx->cfg->databases_connect_timeout_ms + 1000, status_one);
}

static void
list_one(struct helper_ctx *ctx, const char *name, struct json_object *o)
{
	struct ap_problem pb = { 0 };
	struct ap_fieldval args[DL__MAX + 1] = { [DL_SERVER] = { .name = "server", .present = true, .s = name,
		.len = strlen(name) } };
	struct helper_ctx c2 = *ctx;

	c2.pb = &pb;
	c2.result = o;
	c2.args = args;
	if (ap_ops_database_list(&c2) == AP_OK) {
		json_object_object_add(o, "reachable", json_object_new_boolean(true));
	} else {
		json_object_object_add(o, "reachable", json_object_new_boolean(false));
		json_object_object_add(o, "error", json_object_new_string(pb.reason));
	}
}

/* database.lists {names}: each as database.list plus reachable (and error), bounded by a
 * statement's bound (five times connect_timeout_ms) + 1 s. */
enum ap_err
ap_ops_database_lists(struct helper_ctx *ctx)
{
	return fan_out(ctx, ctx->args[SS_NAMES].s, ctx->cfg->databases_connect_timeout_ms * 5 + 1000, list_one);
}

/* ---------------------------------------------------------------- database.* */

/* Shared start: the server's file, the names checked against the server's own
 * admin and the panel's database, a connection. */
static enum ap_err
db_begin(struct helper_ctx *ctx, const char *server, const char *name, const char *user,
    struct srv *s, struct ap_db **db)
{
	enum ap_err rc = srv_load(ctx, server, s);

	if (rc != AP_OK)
		return rc;
	if (name != NULL && is_panel_db(ctx->cfg, name)) {
		srv_wipe(s);
		return ap_problem_set(ctx->pb, AP_PB_INVALID, "name", "is the panel's own database");
	}
	if (user != NULL && (strcmp(user, s->admin) == 0 || is_panel_db(ctx->cfg, user))) {
		srv_wipe(s);
		return ap_problem_set(ctx->pb, AP_PB_INVALID, "user", "is a reserved name");
	}
	rc = srv_connect(ctx, s, db);
	srv_wipe(s);
	return rc;
}

/* MySQL's GRANT ... ON `db`.* reads _ and % as wildcards: escape them so the
 * grant covers this one database only. */
static const char *
grant_db_name(struct helper_ctx *ctx, const char *name)
{
	struct ap_buf b = { 0 };
	char *out;

	for (const char *p = name; *p; p++) {
		if (*p == '_' || *p == '%')
			ap_buf_putc(&b, '\\');
		ap_buf_putc(&b, *p);
	}
	out = ap_arena_strdup(ctx->arena, ap_buf_cstr(&b));
	ap_buf_free(&b);
	return out;
}

static enum ap_err
my_create(struct helper_ctx *ctx, struct ap_db *db, const char *name, const char *user,
    const char *pw)
{
	const struct ap_fieldval *a = ctx->args;
	const char *charset = a[DC_CHARSET].present ? charsets[a[DC_CHARSET].i] : "utf8mb4";
	char hostbuf[512];
	const char *hosts[AP_DB_HOSTS_MAX];
	size_t nh = ap_db_hosts_split(a[DC_HOSTS].present ? a[DC_HOSTS].s : "localhost", hostbuf,
	    sizeof(hostbuf), hosts, AP_DB_HOSTS_MAX);
	char *qn = q(ctx, db, name, true), *qg = q(ctx, db, grant_db_name(ctx, name), true);
	char *qu = q(ctx, db, user, false), *qp = q(ctx, db, pw, false);
	size_t made = 0;
	bool db_made = false;
	enum ap_err rc = AP_OK;
	struct json_object *harr = json_object_new_array();
	int64_t n = 0;

	if (qn == NULL || qg == NULL || qu == NULL || qp == NULL) {
		rc = sql_fail(ctx, db, "quoting");
		goto out;
	}
	if (a[DC_LOCALE].present) {
		rc = ap_problem_set(ctx->pb, AP_PB_INVALID, "locale", "is for PostgreSQL; MariaDB/MySQL takes a collation");
		goto out;
	}
	if (a[DC_COLLATION].present && (strncmp(a[DC_COLLATION].s, charset, strlen(charset)) != 0 ||
	    a[DC_COLLATION].s[strlen(charset)] != '_')) {
		rc = ap_problem_set(ctx->pb, AP_PB_INVALID, "collation", "must be a collation of %s", charset);
		goto out;
	}
	if (query_int(db, "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
		name, &n) != AP_DB_OK || n > 0) {
		rc = n > 0 ? ap_problem_set(ctx->pb, AP_PB_EXISTS, "name", "a database of this name exists")
			   : sql_fail(ctx, db, "list");
		goto out;
	}
	if (query_int(db, "SELECT COUNT(*) FROM mysql.user WHERE User = ?", user, &n) != AP_DB_OK || n > 0) {
		rc = n > 0 ? ap_problem_set(ctx->pb, AP_PB_EXISTS, "user", "a user of this name exists")
			   : sql_fail(ctx, db, "list");
		goto out;
	}
	rc = ddl(ctx, db, ap_arena_printf(ctx->arena, "CREATE DATABASE %s CHARACTER SET %s%s%s", qn,
	    charset, a[DC_COLLATION].present ? " COLLATE " : "",
	    a[DC_COLLATION].present ? a[DC_COLLATION].s : ""));
	if (rc != AP_OK) {
		if (a[DC_COLLATION].present)
			ap_problem_set(ctx->pb, AP_PB_INVALID, "collation", "the server refused it: %s",
			    ap_db_errmsg(db));
		goto out;
	}
	db_made = true;
	for (size_t i = 0; i < nh; i++) {
		char *qh = q(ctx, db, hosts[i], false);

		if (qh == NULL) {
			rc = sql_fail(ctx, db, "quoting");
			goto out;
		}
		rc = ddl(ctx, db, ap_arena_printf(ctx->arena, "CREATE USER %s@%s IDENTIFIED BY %s", qu, qh, qp));
		if (rc != AP_OK)
			goto out;
		made++;
		rc = ddl(ctx, db, ap_arena_printf(ctx->arena, "GRANT ALL PRIVILEGES ON %s.* TO %s@%s", qg, qu, qh));
		if (rc != AP_OK)
			goto out;
		json_object_array_add(harr, json_object_new_string(hosts[i]));
	}
out:
	if (rc != AP_OK) {
		/* Put the server back as it was: nothing half-made stays. */
		for (size_t i = 0; i < made; i++) {
			char *qh = q(ctx, db, hosts[i], false);

			if (qh != NULL)
				ap_db_exec_ddl(db, ap_arena_printf(ctx->arena, "DROP USER IF EXISTS %s@%s", qu, qh));
		}
		if (db_made)
			ap_db_exec_ddl(db, ap_arena_printf(ctx->arena, "DROP DATABASE IF EXISTS %s", qn));
		json_object_put(harr);
	} else
		json_object_object_add(ctx->result, "hosts", harr);
	if (qp)
		explicit_bzero(qp, strlen(qp));
	return rc;
}

static enum ap_err
pg_create(struct helper_ctx *ctx, struct ap_db *db, const char *name, const char *user,
    const char *pw)
{
	const struct ap_fieldval *a = ctx->args;
	const char *enc = a[DC_ENCODING].present ? encodings[a[DC_ENCODING].i] : "UTF8";
	const char *loc = a[DC_LOCALE].present ? a[DC_LOCALE].s : NULL;
	char *qn = q(ctx, db, name, true), *qu = q(ctx, db, user, true), *qp = q(ctx, db, pw, false);
	char *ql = loc != NULL ? q(ctx, db, loc, false) : NULL;
	bool role_made = false, db_made = false;
	enum ap_err rc = AP_OK;
	int64_t n = 0;

	if (qn == NULL || qu == NULL || qp == NULL || (loc != NULL && ql == NULL)) {
		rc = sql_fail(ctx, db, "quoting");
		goto out;
	}
	if (query_int(db, "SELECT CAST(count(*) AS text) FROM pg_database WHERE datname = ?", name, &n) !=
		AP_DB_OK || n > 0) {
		rc = n > 0 ? ap_problem_set(ctx->pb, AP_PB_EXISTS, "name", "a database of this name exists")
			   : sql_fail(ctx, db, "list");
		goto out;
	}
	if (query_int(db, "SELECT CAST(count(*) AS text) FROM pg_roles WHERE rolname = ?", user, &n) !=
		AP_DB_OK || n > 0) {
		rc = n > 0 ? ap_problem_set(ctx->pb, AP_PB_EXISTS, "user", "a user of this name exists")
			   : sql_fail(ctx, db, "list");
		goto out;
	}
	rc = ddl(ctx, db, ap_arena_printf(ctx->arena, "CREATE ROLE %s LOGIN PASSWORD %s", qu, qp));
	if (rc != AP_OK)
		goto out;
	role_made = true;
	/* The locale asked for (the server checks it fits the encoding), else one that fits every
	 * encoding offered when it is not UTF-8, else the server's default. */
	rc = ddl(ctx, db, ap_arena_printf(ctx->arena,
	    "CREATE DATABASE %s OWNER %s ENCODING '%s' TEMPLATE template0%s%s", qn, qu, enc,
	    ql != NULL ? " LOCALE " : strcmp(enc, "UTF8") == 0 ? "" : " LC_COLLATE 'C' LC_CTYPE 'C'",
	    ql != NULL ? ql : ""));
	if (rc != AP_OK) {
		if (loc != NULL)
			ap_problem_set(ctx->pb, AP_PB_INVALID, "locale", "the server refused it: %s",
			    ap_db_errmsg(db));
		goto out;
	}
	db_made = true;
	/* Only its owner (and superusers) may connect to it. */
	rc = ddl(ctx, db, ap_arena_printf(ctx->arena, "REVOKE ALL ON DATABASE %s FROM PUBLIC", qn));
	if (rc != AP_OK)
		goto out;
	json_object_object_add(ctx->result, "hosts", json_object_new_array());
out:
	if (rc != AP_OK) {
		if (db_made)
			ap_db_exec_ddl(db, ap_arena_printf(ctx->arena, "DROP DATABASE IF EXISTS %s", qn));
		if (role_made)
			ap_db_exec_ddl(db, ap_arena_printf(ctx->arena, "DROP ROLE IF EXISTS %s", qu));
	}
	if (qp)
		explicit_bzero(qp, strlen(qp));
	return rc;
}

enum ap_err
ap_ops_database_create(struct helper_ctx *ctx)
{
	const struct ap_fieldval *a = ctx->args;
	struct ap_db *db = NULL;
	struct srv s;
	char pw[32];
	enum ap_err rc = db_begin(ctx, a[DC_SERVER].s, a[DC_NAME].s, a[DC_USER].s, &s, &db);

	if (rc != AP_OK)
		return rc;
	if (!ap_db_password_new(pw, sizeof(pw))) {
		ap_db_close(db);
		return ap_problem_set(ctx->pb, AP_PB_INTERNAL, NULL, "no random bytes for a password");
	}
	rc = s.backend == AP_DB_MYSQL ? my_create(ctx, db, a[DC_NAME].s, a[DC_USER].s, pw)
				      : pg_create(ctx, db, a[DC_NAME].s, a[DC_USER].s, pw);
	if (rc == AP_OK) {
		json_object_object_add(ctx->result, "name", json_object_new_string(a[DC_NAME].s));
		json_object_object_add(ctx->result, "user", json_object_new_string(a[DC_USER].s));
		json_object_object_add(ctx->result, "password", json_object_new_string(pw));
	}
	explicit_bzero(pw, sizeof(pw));
	ap_db_close(db);
	return rc;
}

/* The server's DSN with another database (a validated identifier) in place of its own. */
static const char *
dsn_with_db(struct helper_ctx *ctx, const char *dsn, const char *name)
{
	const char *auth = strstr(dsn, "://"), *slash, *end;

	if (auth == NULL || (slash = strchr(auth + 3, '/')) == NULL)
		return NULL;
	end = strchr(slash, '?');
	return ap_arena_printf(ctx->arena, "%.*s/%s%s", (int)(slash - dsn), dsn, name, end ? end : "");
}

static size_t my_user_hosts(struct ap_db *db, const char *user, char hosts[][64], size_t max);
static enum ap_err drop_user(struct helper_ctx *ctx, struct ap_db *db, enum ap_db_backend be, const char *user,
    const char *qu);

/*
 * database.reader: a second user with read-only rights on one database.
 * MariaDB: SELECT on db.* from the hosts given. PostgreSQL: CONNECT, USAGE
 * and SELECT on the public schema's tables, and the same for the tables its
 * owner makes later (ALTER DEFAULT PRIVILEGES), granted inside the database.
 */
enum ap_err
ap_ops_database_reader(struct helper_ctx *ctx)
{
	const struct ap_fieldval *a = ctx->args;
	struct ap_db *db = NULL, *in = NULL;
	struct srv s;
	char pw[32];
	char *qn = NULL, *qu = NULL, *qp = NULL;
	bool made = false;
	int64_t n = 0;
	enum ap_err rc = db_begin(ctx, a[DR_SERVER].s, a[DR_NAME].s, a[DR_USER].s, &s, &db);

	if (rc != AP_OK)
		return rc;
	if (!ap_db_password_new(pw, sizeof(pw))) {
		rc = ap_problem_set(ctx->pb, AP_PB_INTERNAL, NULL, "no random bytes for a password");
		goto out;
	}
	qn = q(ctx, db, s.backend == AP_DB_MYSQL ? grant_db_name(ctx, a[DR_NAME].s) : a[DR_NAME].s, true);
	qu = q(ctx, db, a[DR_USER].s, s.backend != AP_DB_MYSQL);
	qp = q(ctx, db, pw, false);
	if (qn == NULL || qu == NULL || qp == NULL) {
		rc = sql_fail(ctx, db, "quoting");
		goto out;
	}
	if (query_int(db, s.backend == AP_DB_MYSQL
		? "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?"
		: "SELECT CAST(count(*) AS text) FROM pg_database WHERE datname = ?", a[DR_NAME].s, &n) != AP_DB_OK ||
	    n == 0) {
		rc = ap_problem_set(ctx->pb, AP_PB_NOT_FOUND, "name", "no such database on the server");
		goto out;
	}
	if (query_int(db, s.backend == AP_DB_MYSQL ? "SELECT COUNT(*) FROM mysql.user WHERE User = ?"
		: "SELECT CAST(count(*) AS text) FROM pg_roles WHERE rolname = ?", a[DR_USER].s, &n) != AP_DB_OK ||
	    n > 0) {
		rc = ap_problem_set(ctx->pb, AP_PB_EXISTS, "user", "a user of this name exists");
		goto out;
	}
	if (s.backend == AP_DB_MYSQL) {
		char hostbuf[512];
		const char *hosts[AP_DB_HOSTS_MAX];
		size_t nh = ap_db_hosts_split(a[DR_HOSTS].present ? a[DR_HOSTS].s : "localhost", hostbuf,
		    sizeof(hostbuf), hosts, AP_DB_HOSTS_MAX);

		made = true;
		for (size_t i = 0; i < nh && rc == AP_OK; i++) {
			char *qh = q(ctx, db, hosts[i], false);

			if (qh == NULL) {
				rc = sql_fail(ctx, db, "quoting");
				break;
			}
			rc = ddl(ctx, db, ap_arena_printf(ctx->arena, "CREATE USER %s@%s IDENTIFIED BY %s", qu, qh, qp));
			if (rc == AP_OK)
				rc = ddl(ctx, db, ap_arena_printf(ctx->arena, "GRANT SELECT ON %s.* TO %s@%s", qn, qu, qh));
		}
	} else {
		struct srv s2;
		struct ap_db_opts o = {
			.dsn = dsn_with_db(ctx, s.dsn, a[DR_NAME].s),
			.password = NULL,
			.connect_timeout_ms = ctx->cfg->databases_connect_timeout_ms,
			.query_timeout_ms = ctx->cfg->databases_connect_timeout_ms * 5,
		};
		struct ap_db_stmt *st = NULL;
		char owner[64] = "";
		char *qo;

		if (ap_db_prepare(db, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = ?", &st) ==
		    AP_DB_OK) {
			ap_db_bind_text(st, 1, a[DR_NAME].s, -1);
			if (ap_db_step(st) == AP_DB_ROW)
				snprintf(owner, sizeof(owner), "%s", ap_db_col_text(st, 0, NULL));
			ap_db_finalize(st);
		}
		qo = owner[0] ? q(ctx, db, owner, true) : NULL;
		rc = ddl(ctx, db, ap_arena_printf(ctx->arena, "CREATE ROLE %s LOGIN PASSWORD %s", qu, qp));
		if (rc != AP_OK)
			goto out;
		made = true;
		rc = ddl(ctx, db, ap_arena_printf(ctx->arena, "GRANT CONNECT ON DATABASE %s TO %s", qn, qu));
		/* Inside the database: its schema's tables, now and later. */
		/* db_begin wiped the password once connected: read it again for this one connection. */
		if (rc == AP_OK && (rc = srv_load(ctx, a[DR_SERVER].s, &s2)) == AP_OK) {
			o.password = s2.password[0] ? s2.password : NULL;
			if (o.dsn == NULL || qo == NULL || ap_db_open(&o, &in) != AP_DB_OK)
				rc = ap_problem_set(ctx->pb, AP_PB_FAILED, "server", "cannot connect to the database: %s",
				    in ? ap_db_errmsg(in) : "no DSN");
			srv_wipe(&s2);
		}
		if (rc == AP_OK)
			rc = ddl(ctx, in, ap_arena_printf(ctx->arena, "GRANT USAGE ON SCHEMA public TO %s", qu));
		if (rc == AP_OK)
			rc = ddl(ctx, in, ap_arena_printf(ctx->arena, "GRANT SELECT ON ALL TABLES IN SCHEMA public TO %s", qu));
		if (rc == AP_OK)
			rc = ddl(ctx, in, ap_arena_printf(ctx->arena,
			    "ALTER DEFAULT PRIVILEGES FOR ROLE %s IN SCHEMA public GRANT SELECT ON TABLES TO %s", qo, qu));
		if (rc != AP_OK && in != NULL) {
			/* What was granted inside goes before the role can. */
			ap_db_exec_ddl(in, ap_arena_printf(ctx->arena, "DROP OWNED BY %s", qu));
		}
	}
	if (rc == AP_OK) {
		json_object_object_add(ctx->result, "user", json_object_new_string(a[DR_USER].s));
		json_object_object_add(ctx->result, "password", json_object_new_string(pw));
	}
out:
	if (rc != AP_OK && made && qu != NULL) {
		struct ap_problem keep = *ctx->pb;

		drop_user(ctx, db, s.backend, a[DR_USER].s, qu);
		*ctx->pb = keep;
	}
	if (qp)
		explicit_bzero(qp, strlen(qp));
	explicit_bzero(pw, sizeof(pw));
	ap_db_close(in);
	ap_db_close(db);
	return rc;
}

/* The hosts of a MariaDB user, for DROP USER and ALTER USER. */
static size_t
my_user_hosts(struct ap_db *db, const char *user, char hosts[][64], size_t max)
{
	struct ap_db_stmt *st = NULL;
	size_t n = 0;

	if (ap_db_prepare(db, "SELECT Host FROM mysql.user WHERE User = ?", &st) != AP_DB_OK)
		return 0;
	ap_db_bind_text(st, 1, user, -1);
	while (n < max && ap_db_step(st) == AP_DB_ROW) {
		const char *h = ap_db_col_text(st, 0, NULL);

		snprintf(hosts[n++], 64, "%s", h ? h : "");
	}
	ap_db_finalize(st);
	return n;
}

/* Every host of a MariaDB user, or the PostgreSQL role; absent is fine. qu: its quoted name. */
static enum ap_err
drop_user(struct helper_ctx *ctx, struct ap_db *db, enum ap_db_backend be, const char *user, const char *qu)
{
	enum ap_err rc = AP_OK;
	int64_t n = 0;

	if (be == AP_DB_MYSQL) {
		char hosts[AP_DB_HOSTS_MAX * 2][64];
		size_t nh = my_user_hosts(db, user, hosts, AP_NELEM(hosts));

		for (size_t i = 0; i < nh && rc == AP_OK; i++) {
			char *qh = q(ctx, db, hosts[i], false);

			rc = qh ? ddl(ctx, db, ap_arena_printf(ctx->arena, "DROP USER %s@%s", qu, qh))
				: sql_fail(ctx, db, "quoting");
		}
	} else if (query_int(db, "SELECT CAST(count(*) AS text) FROM pg_roles WHERE rolname = ?", user, &n) ==
		   AP_DB_OK && n > 0) {
		/* Its grants on shared objects (CONNECT on a database) first, or the role cannot go. */
		rc = ddl(ctx, db, ap_arena_printf(ctx->arena, "DROP OWNED BY %s", qu));
		if (rc == AP_OK)
			rc = ddl(ctx, db, ap_arena_printf(ctx->arena, "DROP ROLE %s", qu));
	}
	return rc;
}

enum ap_err
ap_ops_database_drop(struct helper_ctx *ctx)
{
	const struct ap_fieldval *a = ctx->args;
	const char *user = a[DD_USER].present ? a[DD_USER].s : NULL;
	struct ap_db *db = NULL;
	struct srv s;
	int64_t n = 0;
	char *qn, *qu = NULL;
	enum ap_err rc = db_begin(ctx, a[DD_SERVER].s, a[DD_NAME].s, user, &s, &db);

	if (rc != AP_OK)
		return rc;
	qn = q(ctx, db, a[DD_NAME].s, true);
	if (user != NULL)
		qu = q(ctx, db, user, s.backend != AP_DB_MYSQL);
	if (qn == NULL || (user != NULL && qu == NULL)) {
		rc = sql_fail(ctx, db, "quoting");
		goto out;
	}
	if (query_int(db, s.backend == AP_DB_MYSQL
		? "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?"
		: "SELECT CAST(count(*) AS text) FROM pg_database WHERE datname = ?", a[DD_NAME].s, &n) !=
	    AP_DB_OK) {
		rc = sql_fail(ctx, db, "list");
		goto out;
	}
	if (n == 0) {
		rc = ap_problem_set(ctx->pb, AP_PB_NOT_FOUND, "name", "no such database on the server");
		goto out;
	}
	if (s.backend == AP_DB_MYSQL)
		rc = ddl(ctx, db, ap_arena_printf(ctx->arena, "DROP DATABASE %s", qn));
	else /* WITH (FORCE): its sessions are ended first (PostgreSQL 13+). */
		rc = ddl(ctx, db, ap_arena_printf(ctx->arena, "DROP DATABASE %s WITH (FORCE)", qn));
	if (rc == AP_OK && user != NULL)
		rc = drop_user(ctx, db, s.backend, user, qu);
	if (rc == AP_OK && a[DD_READER].present) {
		char *qr = q(ctx, db, a[DD_READER].s, s.backend != AP_DB_MYSQL);

		rc = qr ? drop_user(ctx, db, s.backend, a[DD_READER].s, qr) : sql_fail(ctx, db, "quoting");
	}
	if (rc == AP_OK)
		json_object_object_add(ctx->result, "name", json_object_new_string(a[DD_NAME].s));
out:
	ap_db_close(db);
	return rc;
}

enum ap_err
ap_ops_database_passwd(struct helper_ctx *ctx)
{
	const struct ap_fieldval *a = ctx->args;
	struct ap_db *db = NULL;
	struct srv s;
	char pw[32];
	char *qu, *qp = NULL;
	enum ap_err rc = db_begin(ctx, a[DP_SERVER].s, NULL, a[DP_USER].s, &s, &db);

	if (rc != AP_OK)
		return rc;
	if (!ap_db_password_new(pw, sizeof(pw))) {
		rc = ap_problem_set(ctx->pb, AP_PB_INTERNAL, NULL, "no random bytes for a password");
		goto out;
	}
	qu = q(ctx, db, a[DP_USER].s, s.backend != AP_DB_MYSQL);
	qp = q(ctx, db, pw, false);
	if (qu == NULL || qp == NULL) {
		rc = sql_fail(ctx, db, "quoting");
		goto out;
	}
	if (s.backend == AP_DB_MYSQL) {
		char hosts[AP_DB_HOSTS_MAX * 2][64];
		size_t nh = my_user_hosts(db, a[DP_USER].s, hosts, AP_NELEM(hosts));

		if (nh == 0) {
			rc = ap_problem_set(ctx->pb, AP_PB_NOT_FOUND, "user", "no such user on the server");
			goto out;
		}
		for (size_t i = 0; i < nh && rc == AP_OK; i++) {
			char *qh = q(ctx, db, hosts[i], false);

			rc = qh ? ddl(ctx, db, ap_arena_printf(ctx->arena, "ALTER USER %s@%s IDENTIFIED BY %s", qu,
					  qh, qp))
				: sql_fail(ctx, db, "quoting");
		}
	} else {
		int64_t n = 0;

		if (query_int(db, "SELECT CAST(count(*) AS text) FROM pg_roles WHERE rolname = ?", a[DP_USER].s,
			&n) != AP_DB_OK || n == 0) {
			rc = ap_problem_set(ctx->pb, AP_PB_NOT_FOUND, "user", "no such user on the server");
			goto out;
		}
		rc = ddl(ctx, db, ap_arena_printf(ctx->arena, "ALTER ROLE %s PASSWORD %s", qu, qp));
	}
	if (rc == AP_OK) {
		json_object_object_add(ctx->result, "user", json_object_new_string(a[DP_USER].s));
		json_object_object_add(ctx->result, "password", json_object_new_string(pw));
	}
out:
	if (qp)
		explicit_bzero(qp, strlen(qp));
	explicit_bzero(pw, sizeof(pw));
	ap_db_close(db);
	return rc;
}

/* {databases:[{name, size, owner}], users:[{name, host}]}: what is on the server. */
enum ap_err
ap_ops_database_list(struct helper_ctx *ctx)
{
	struct ap_db *db = NULL;
	struct ap_db_stmt *st = NULL;
	struct srv s;
	struct json_object *dbs = json_object_new_array(), *users = json_object_new_array();
	enum ap_err rc = db_begin(ctx, ctx->args[DL_SERVER].s, NULL, NULL, &s, &db);
	bool my = s.backend == AP_DB_MYSQL;

	if (rc != AP_OK)
		goto out;
	if (ap_db_prepare(db, my
		? "SELECT s.SCHEMA_NAME, CAST((SELECT COALESCE(SUM(t.DATA_LENGTH + t.INDEX_LENGTH), 0) "
		  "FROM information_schema.TABLES t WHERE t.TABLE_SCHEMA = s.SCHEMA_NAME) AS CHAR), "
		  "(SELECT MIN(d.User) FROM mysql.db d WHERE REPLACE(d.Db, '\\\\_', '_') = s.SCHEMA_NAME) "
		  "FROM information_schema.SCHEMATA s ORDER BY 1"
		: "SELECT datname, CAST(CASE WHEN has_database_privilege(datname, 'CONNECT') "
		  "THEN pg_database_size(datname) END AS text), pg_get_userbyid(datdba) "
		  "FROM pg_database WHERE NOT datistemplate ORDER BY 1", &st) != AP_DB_OK) {
		rc = sql_fail(ctx, db, "list");
		goto out;
	}
	while (ap_db_step(st) == AP_DB_ROW) {
		struct json_object *o = json_object_new_object();
		const char *n = ap_db_col_text(st, 0, NULL), *sz = ap_db_col_text(st, 1, NULL),
			   *ow = ap_db_col_text(st, 2, NULL);

		json_object_object_add(o, "name", json_object_new_string(n ? n : ""));
		json_object_object_add(o, "size", sz ? json_object_new_int64(strtoll(sz, NULL, 10)) : NULL);
		json_object_object_add(o, "owner", ow ? json_object_new_string(ow) : NULL);
		json_object_array_add(dbs, o);
	}
	ap_db_finalize(st);
	st = NULL;
	if (ap_db_prepare(db, my ? "SELECT User, Host FROM mysql.user ORDER BY 1, 2"
				 : "SELECT rolname, '' FROM pg_roles WHERE rolcanlogin ORDER BY 1",
		&st) != AP_DB_OK) {
		rc = sql_fail(ctx, db, "list");
		goto out;
	}
	while (ap_db_step(st) == AP_DB_ROW) {
		struct json_object *o = json_object_new_object();
		const char *n = ap_db_col_text(st, 0, NULL), *h = ap_db_col_text(st, 1, NULL);

		json_object_object_add(o, "name", json_object_new_string(n ? n : ""));
		json_object_object_add(o, "host", json_object_new_string(h ? h : ""));
		json_object_array_add(users, o);
	}
	json_object_object_add(ctx->result, "databases", json_object_get(dbs));
	json_object_object_add(ctx->result, "users", json_object_get(users));
out:
	ap_db_finalize(st);
	ap_db_close(db);
	json_object_put(dbs);
	json_object_put(users);
	return rc;
}

/* ---------------------------------------------------------------- for dumps (dbdump.c) */

enum ap_err
ap_ops_dbserver_login(struct helper_ctx *ctx, const char *server, const char *database,
    struct ap_dbserver_login *out)
{
	struct srv s;
	enum ap_err rc;

	memset(out, 0, sizeof(*out));
	if (database != NULL && is_panel_db(ctx->cfg, database))
		return ap_problem_set(ctx->pb, AP_PB_INVALID, "name", "is the panel's own database");
	if ((rc = srv_load(ctx, server, &s)) != AP_OK)
		return rc;
	snprintf(out->dsn, sizeof(out->dsn), "%s", s.dsn);
	memcpy(out->password, s.password, sizeof(out->password));
	out->backend = s.backend;
	srv_wipe(&s);
	return AP_OK;
}

/*
 * An import's own login (dbdump.h: a dump's SQL runs with its rights): a new
 * user ap_imp_<hex> with a generated password, allowed that one database only
 * — MariaDB: ALL ON db.* from '%' (no FILE, no SUPER); PostgreSQL: a LOGIN
 * role, no superuser, member of the database's owner, whose role the session
 * takes (role) so what it creates belongs to the owner. Also the database's
 * size (for progress). AP_PB_NOT_FOUND "name" when there is no such database.
 */
enum ap_err
ap_ops_dbimport_login(struct helper_ctx *ctx, const char *server, const char *name,
    struct ap_dbimport_login *out)
{
	struct ap_db *db = NULL;
	struct srv s;
	char hex[9];
	char *qu = NULL, *qp = NULL, *qg, *qr;
	enum ap_err rc;
	int64_t n = 0;
	struct ap_db_stmt *st = NULL;

	memset(out, 0, sizeof(*out));
	if ((rc = db_begin(ctx, server, name, NULL, &s, &db)) != AP_OK)
		return rc;
	out->backend = s.backend;
	if (ap_random_hex(hex, 4) != AP_OK || !ap_db_password_new(out->password, sizeof(out->password))) {
		rc = ap_problem_set(ctx->pb, AP_PB_INTERNAL, NULL, "no random bytes for a login");
		goto out;
	}
	snprintf(out->user, sizeof(out->user), "ap_imp_%s", hex);
	qu = q(ctx, db, out->user, s.backend != AP_DB_MYSQL);
	qp = q(ctx, db, out->password, false);
	if (qu == NULL || qp == NULL) {
		rc = sql_fail(ctx, db, "quoting");
		goto out;
	}
	if (s.backend == AP_DB_MYSQL) {
		if (query_int(db, "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
			name, &n) != AP_DB_OK || n == 0) {
			rc = n == 0 ? ap_problem_set(ctx->pb, AP_PB_NOT_FOUND, "name", "no such database on the server")
				    : sql_fail(ctx, db, "list");
			goto out;
		}
		query_int(db, "SELECT CAST(COALESCE(SUM(DATA_LENGTH + INDEX_LENGTH), 0) AS CHAR) "
			      "FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?", name, &out->size);
		qg = q(ctx, db, grant_db_name(ctx, name), true);
		if (qg == NULL) {
			rc = sql_fail(ctx, db, "quoting");
			goto out;
		}
		rc = ddl(ctx, db, ap_arena_printf(ctx->arena, "CREATE USER %s@'%%' IDENTIFIED BY %s", qu, qp));
		if (rc == AP_OK &&
		    (rc = ddl(ctx, db, ap_arena_printf(ctx->arena, "GRANT ALL PRIVILEGES ON %s.* TO %s@'%%'",
			 qg, qu))) != AP_OK)
			ap_db_exec_ddl(db, ap_arena_printf(ctx->arena, "DROP USER IF EXISTS %s@'%%'", qu));
		goto out;
	}
	if (ap_db_prepare(db, "SELECT pg_get_userbyid(datdba), CAST(pg_database_size(datname) AS text) "
			      "FROM pg_database WHERE datname = ?", &st) != AP_DB_OK) {
		rc = sql_fail(ctx, db, "list");
		goto out;
	}
	ap_db_bind_text(st, 1, name, -1);
	if (ap_db_step(st) == AP_DB_ROW) {
		const char *ow = ap_db_col_text(st, 0, NULL), *sz = ap_db_col_text(st, 1, NULL);

		snprintf(out->role, sizeof(out->role), "%s", ow ? ow : "");
		out->size = sz ? strtoll(sz, NULL, 10) : 0;
	}
	ap_db_finalize(st);
	if (out->role[0] == '\0') {
		rc = ap_problem_set(ctx->pb, AP_PB_NOT_FOUND, "name", "no such database on the server");
		goto out;
	}
	if (ap_check_db_ident(out->role, strlen(out->role)) != NULL || strcmp(out->role, s.admin) == 0) {
		rc = ap_problem_set(ctx->pb, AP_PB_CONFLICT, "name",
		    "the database is owned by %s, not a user of its own", out->role);
		goto out;
	}
	qr = q(ctx, db, out->role, true);
	if (qr == NULL) {
		rc = sql_fail(ctx, db, "quoting");
		goto out;
	}
	rc = ddl(ctx, db, ap_arena_printf(ctx->arena,
	    "CREATE ROLE %s LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD %s IN ROLE %s",
	    qu, qp, qr));
out:
	if (qp)
		explicit_bzero(qp, strlen(qp));
	if (rc != AP_OK)
		explicit_bzero(out->password, sizeof(out->password));
	ap_db_close(db);
	return rc;
}

/* Drop what ap_ops_dbimport_login made (its session ended; PostgreSQL: it owns nothing). */
void
ap_ops_dbimport_logout(struct helper_ctx *ctx, const char *server, const char *user)
{
	struct ap_problem pb = { 0 }, *saved = ctx->pb;
	struct ap_db *db = NULL;
	struct srv s;
	char *qu;

	ctx->pb = &pb;
	if (db_begin(ctx, server, NULL, NULL, &s, &db) == AP_OK &&
	    (qu = q(ctx, db, user, s.backend != AP_DB_MYSQL)) != NULL) {
		if (s.backend == AP_DB_MYSQL)
			ap_db_exec_ddl(db, ap_arena_printf(ctx->arena, "DROP USER IF EXISTS %s@'%%'", qu));
		else if (ap_db_exec_ddl(db, ap_arena_printf(ctx->arena, "DROP ROLE IF EXISTS %s", qu)) != AP_DB_OK)
			AP_WARN("import login %s on %s not dropped: %s", user, server, ap_db_errmsg(db));
	}
	if (pb.code != AP_PB_NONE)
		AP_WARN("import login %s on %s not dropped: %s", user, server, pb.reason);
	ap_db_close(db);
	ctx->pb = saved;
}

/* The size in bytes of database name on server (0 when it cannot be read): an export's progress. */
void
ap_ops_database_size(struct helper_ctx *ctx, const char *server, const char *name, int64_t *size)
{
	struct ap_problem pb = { 0 }, *saved = ctx->pb;
	struct ap_db *db = NULL;
	struct srv s;

	*size = 0;
	ctx->pb = &pb;
	if (db_begin(ctx, server, name, NULL, &s, &db) == AP_OK)
		query_int(db, s.backend == AP_DB_MYSQL
			? "SELECT CAST(COALESCE(SUM(DATA_LENGTH + INDEX_LENGTH), 0) AS CHAR) "
			  "FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?"
			: "SELECT CAST(pg_database_size(datname) AS text) FROM pg_database WHERE datname = ?",
		    name, size);
	ap_db_close(db);
	ctx->pb = saved;
}
