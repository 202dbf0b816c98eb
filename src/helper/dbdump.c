/*
 * dbdump.c — mariadb-dump/pg_dump and mariadb/psql on a descriptor
 * (dbdump.h). The argv is fixed; what varies comes from the server's DSN
 * (checked when the server was added, printable ASCII) and names checked
 * again here. The credentials travel in a memfd given as descriptor 3.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "aapanel/dbnames.h"
#include "aapanel/dsn.h"
#include "aapanel/log.h"
#include "dbdump.h"
#include "sitefs.h"
#include "spawn.h"
#include "valid.h"

#define ERR_KEEP (64 * 1024) /* stderr bytes read back for the reason */
#define MAX_ENV 16

struct ap_dbdump {
	enum ap_db_backend backend;
	struct ap_spawn_proc proc;
	int cred_fd, err_fd;
	bool ended, cancelled;
	bool in_unit;              /* the client is a transient unit; proc is its supervisor */
	bool trapped;              /* our SIGTERM handler is in place (old_term saved) */
	struct sigaction old_term;
	struct ap_dbdump_status st;
};

/*
 * A job's SIGTERM (job.cancel, its timeout) while a client runs as a unit:
 * passed on to the supervisor, which stops the unit (StopUnit) and ends; the
 * job goes on to its end (reads see EOF, writes EPIPE once the unit is
 * collected) and ap_dbdump_free takes the SIGTERM as it would have.
 */
static volatile sig_atomic_t D_term;
static volatile pid_t D_sup;

static void
on_term(int sig)
{
	(void)sig;
	D_term = 1;
	if (D_sup > 0)
		kill(D_sup, SIGTERM);
}

/* Unit names: aapanel-db-import-<pid>-<n>, aapanel-db-export-<pid>-<n>. */
static unsigned D_seq;

/* libpq's DSN parameters a client can take, as the environment variable each becomes. */
static const struct {
	const char *key, *env;
} pg_params[] = {
	{ "sslmode", "PGSSLMODE" },
	{ "sslrootcert", "PGSSLROOTCERT" },
	{ "sslcert", "PGSSLCERT" },
	{ "sslkey", "PGSSLKEY" },
	{ "sslcrl", "PGSSLCRL" },
	{ "gssencmode", "PGGSSENCMODE" },
	{ "channel_binding", "PGCHANNELBINDING" },
	{ "target_session_attrs", "PGTARGETSESSIONATTRS" },
	{ "hostaddr", "PGHOSTADDR" },
};

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode s in place; false on a bad escape or a control character. */
static bool
pct_decode(char *s)
{
	char *w = s;

	for (const char *r = s; *r != '\0'; r++) {
		int c = (unsigned char)*r;

		if (c == '%') {
			int hi = hexval(r[1]), lo = hi < 0 ? -1 : hexval(r[2]);

			if (hi < 0 || lo < 0)
				return false;
			c = hi << 4 | lo;
			r += 2;
		}
		if (c < 0x20 || c == 0x7f)
			return false;
		*w++ = (char)c;
	}
	*w = '\0';
	return true;
}

/* A value for a quoted option-file value: \ and " escaped (no control characters reach here). */
static void
my_quoted(struct ap_buf *b, const char *key, const char *v)
{
	ap_buf_printf(b, "%s=\"", key);
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			ap_buf_append(b, "\\", 1);
		ap_buf_append(b, v, 1);
	}
	ap_buf_append(b, "\"\n", 2);
}

/* The pgpass line "*:*:*:*:password" with : and \ escaped. */
static void
pg_passline(struct ap_buf *b, const char *pw)
{
	ap_buf_printf(b, "*:*:*:*:");
	for (; *pw != '\0'; pw++) {
		if (*pw == '\\' || *pw == ':')
			ap_buf_append(b, "\\", 1);
		ap_buf_append(b, pw, 1);
	}
	ap_buf_append(b, "\n", 1);
}

/* An anonymous 0600 file holding b, owned by uid:gid, rewound; -1 on failure. */
static int
secret_file(const struct ap_buf *b, bool chown_to, uid_t uid, gid_t gid)
{
	int fd = memfd_create("aapanel-dbdump", MFD_CLOEXEC);
	size_t off = 0;

	if (fd < 0)
		return -1;
	if (fchmod(fd, 0600) != 0 || (chown_to && fchown(fd, uid, gid) != 0))
		goto fail;
	while (off < b->len) {
		ssize_t w = write(fd, b->data + off, b->len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		off += (size_t)w;
	}
	if (lseek(fd, 0, SEEK_SET) != 0)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

/* The line holds "error" in any case (mariadb's "ERROR 1064", psql's "ERROR:", pg_dump's "error:"). */
static bool
has_error(const char *s, size_t n)
{
	for (size_t i = 0; i + 5 <= n; i++)
		if (strncasecmp(s + i, "error", 5) == 0)
			return true;
	return false;
}

void
ap_dbdump_reason(const char *err, size_t len, char *out, size_t outlen)
{
	const char *first_error = NULL, *last = NULL;
	size_t first_len = 0, last_len = 0;
	const char *p = err, *end = err + len;

	out[0] = '\0';
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end, *s = p;

		while (s < e && (*s == ' ' || *s == '\t' || *s == '\r'))
			s++;
		size_t n = (size_t)(e - s);

		while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
			n--;
		if (n > 0) {
			if (first_error == NULL && has_error(s, n)) {
				first_error = s;
				first_len = n;
			}
			last = s;
			last_len = n;
		}
		p = e + 1;
	}
	if (first_error != NULL) {
		last = first_error;
		last_len = first_len;
	}
	if (last == NULL || outlen == 0)
		return;
	if (last_len >= outlen)
		last_len = outlen - 1;
	/* Printable only: the reason goes into JSON, a page and the audit log. */
	for (size_t i = 0; i < last_len; i++)
		out[i] = (unsigned char)last[i] < 0x20 || last[i] == 0x7f ? ' ' : last[i];
	out[last_len] = '\0';
}

/* The user the client runs as: nobody, when we are root. */
static bool
import_user(uid_t *uid, gid_t *gid)
{
	struct passwd *pw;

	if (geteuid() != 0 || (pw = getpwnam("nobody")) == NULL)
		return false;
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return true;
}

/*
 * The panel's own database (req->login: its name from db.dsn, the helper's
 * configuration, never a request): the default "aapanel" is one of the
 * managed databases' reserved names, so only the bytes are checked — ASCII
 * letters, digits and _, not starting with a digit (never an option or a
 * quote in the client's argv or environment).
 */
static bool
panel_db_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 64 || (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

enum ap_err
ap_dbdump_start(struct helper_ctx *ctx, const struct ap_dbdump_req *req, struct ap_dbdump **out)
{
	struct ap_dbserver_login login;
	struct ap_db_dsn d = { 0 };
	struct ap_buf cred = { 0 };
	struct ap_spawn sp = { 0 };
	const char *argv[24], *env[MAX_ENV + 1];
	char prog[512], why[200], err[300];
	char **envbuf = NULL;
	size_t na = 0, ne = 0;
	const char *user, *password;
	struct ap_dbdump *dd = NULL;
	enum ap_err rc;
	bool as_other = false, in_unit;
	char cred_dir[PATH_MAX], unit[64];
	uid_t uid = 0;
	gid_t gid = 0;
	int fds[4];

	*out = NULL;
	if (req->database == NULL || (req->login != NULL ? !panel_db_name_ok(req->database)
	    : ap_check_db_ident(req->database, strlen(req->database)) != NULL))
		return ap_problem_set(ctx->pb, AP_PB_INVALID, "name", "is not a database name");
	if (req->role != NULL && ap_check_db_ident(req->role, strlen(req->role)) != NULL)
		return ap_problem_set(ctx->pb, AP_PB_INVALID, "role", "is not a role name");
	if (req->user != NULL && ap_check_db_ident(req->user, strlen(req->user)) != NULL)
		return ap_problem_set(ctx->pb, AP_PB_INVALID, "user", "is not a user name");
	if (req->dir != AP_DBDUMP_EXPORT && req->dir != AP_DBDUMP_IMPORT)
		return ap_problem_set(ctx->pb, AP_PB_INVALID, NULL, "unknown direction");
	if (req->login != NULL)
		login = *req->login;
	else if ((rc = ap_ops_dbserver_login(ctx, req->server, req->database, &login)) != AP_OK)
		return rc;
	if (ap_db_dsn_parse(login.dsn, &d, why, sizeof(why)) != AP_DB_OK) {
		rc = ap_problem_set(ctx->pb, AP_PB_INTERNAL, NULL, "the server's file is damaged");
		goto out;
	}
	user = req->user != NULL ? req->user : (d.user ? d.user : "");
	password = req->user != NULL ? (req->password ? req->password : "") : login.password;
	/*
	 * Outside systemd, imports switch to nobody in the child (spawn.c).
	 * Under systemd (the helper's unit has no CAP_SETUID) every client is a
	 * transient unit with User=nobody, its credentials through
	 * LoadCredential= — but an export with a login that has no password
	 * (MariaDB's unix_socket, PostgreSQL's peer: the OS user is the login)
	 * stays root's, in a unit of its own all the same.
	 */
	in_unit = ap_spawn_units_available(NULL, 0);
	if (req->dir == AP_DBDUMP_IMPORT || (in_unit && password[0] != '\0'))
		as_other = import_user(&uid, &gid);
	if (in_unit) {
		const char *root = ctx->cfg->helper_sandbox_root, *why2 = NULL;
		const char *rt = getenv("RUNTIME_DIRECTORY");
		size_t rn = strlen(root);
		int sfd = -1;

		/*
		 * The credentials' socket: in the helper unit's RuntimeDirectory=
		 * (/run/aapanel-helper-creds, root 0700, in nobody else's directory),
		 * else in the spool (0700, root's); PID 1 sees either at that path.
		 */
		if (rt != NULL && rt[0] == '/' && strcspn(rt, ":") < sizeof(cred_dir)) {
			snprintf(cred_dir, sizeof(cred_dir), "%.*s", (int)strcspn(rt, ":"), rt);
		} else {
			while (rn > 1 && root[rn - 1] == '/')
				rn--;
			if (root[0] != '/' || ap_fs_dir(ctx->sandbox_fd, ctx->cfg->databases_spool_dir,
			    true, 0700, &sfd, &why2) != AP_OK) {
				rc = ap_problem_set(ctx->pb, AP_PB_INTERNAL, NULL, "%s: %s",
				    ctx->cfg->databases_spool_dir,
				    why2 ? why2 : "not beneath an absolute root");
				goto out;
			}
			close(sfd);
			snprintf(cred_dir, sizeof(cred_dir), "%.*s%s%s", (int)(rn == 1 ? 0 : rn), root,
			    ctx->cfg->databases_spool_dir[0] == '/' ? "" : "/",
			    ctx->cfg->databases_spool_dir);
		}
		snprintf(unit, sizeof(unit), "aapanel-db-%s-%ld-%u",
		    req->dir == AP_DBDUMP_EXPORT ? "export" : "import", (long)getpid(), ++D_seq);
	}

	envbuf = ap_xcalloc(MAX_ENV + 1, sizeof(*envbuf));
#define ENV(...)                                                                                   \
	do {                                                                                       \
		if (ne < MAX_ENV && asprintf(&envbuf[ne], __VA_ARGS__) > 0)                        \
			env[ne] = envbuf[ne], ne++;                                                \
	} while (0)
	if (login.backend == AP_DB_MYSQL) {
		ap_buf_printf(&cred, "[client]\n");
		my_quoted(&cred, "user", user);
		if (password[0] != '\0')
			my_quoted(&cred, "password", password);
		if (d.socket != NULL && d.socket[0] != '\0')
			my_quoted(&cred, "socket", d.socket);
		else if (d.host != NULL && d.host[0] != '\0')
			my_quoted(&cred, "host", d.host);
		if (d.port > 0)
			ap_buf_printf(&cred, "port=%d\n", d.port);
		/* mariadb-dump has no connect timeout of its own; the job's timeout bounds it. */
		if (req->dir == AP_DBDUMP_IMPORT)
			ap_buf_printf(&cred, "[mysql]\nconnect-timeout=%d\n",
			    (ctx->cfg->databases_connect_timeout_ms + 999) / 1000);
		snprintf(prog, sizeof(prog), "%s/%s", ctx->cfg->databases_mariadb_bindir,
		    req->dir == AP_DBDUMP_EXPORT ? "mariadb-dump" : "mariadb");
		argv[na++] = req->dir == AP_DBDUMP_EXPORT ? "mariadb-dump" : "mariadb";
		/* Must come first: the option file names the login. */
		argv[na++] = in_unit ? "--defaults-extra-file=${CREDENTIALS_DIRECTORY}/my.cnf"
				     : "--defaults-extra-file=/dev/fd/3";
		argv[na++] = "--default-character-set=utf8mb4";
		if (req->dir == AP_DBDUMP_EXPORT) {
			argv[na++] = "--single-transaction";
			argv[na++] = "--routines";
			argv[na++] = "--triggers";
			argv[na++] = "--hex-blob";
			argv[na++] = "--skip-dump-date";
		} else {
			argv[na++] = "--batch";
			argv[na++] = "--binary-mode";
			argv[na++] = "--sandbox";
			argv[na++] = "--local-infile=0";
			argv[na++] = "--database";
		}
		argv[na++] = req->database;
	} else {
		const char *host = d.socket != NULL && d.socket[0] ? d.socket : d.host;

		pg_passline(&cred, password);
		if (!in_unit)
			ENV("PGPASSFILE=/dev/fd/3");
		if (host != NULL && host[0] != '\0')
			ENV("PGHOST=%s", host);
		if (d.port > 0)
			ENV("PGPORT=%d", d.port);
		ENV("PGUSER=%s", user);
		ENV("PGDATABASE=%s", req->database);
		ENV("PGCONNECT_TIMEOUT=%d", (ctx->cfg->databases_connect_timeout_ms + 999) / 1000);
		ENV("PGCLIENTENCODING=UTF8");
		ENV("PGAPPNAME=aapanel");
		if (req->role != NULL)
			ENV("PGOPTIONS=-c role=%s", req->role);
		if (d.params != NULL && d.params[0] != '\0') {
			char *params = ap_xstrdup(d.params), *save = NULL;

			for (char *kv = strtok_r(params, "&", &save); kv != NULL;
			     kv = strtok_r(NULL, "&", &save)) {
				char *eq = strchr(kv, '=');
				const char *var = NULL;

				if (eq != NULL) {
					*eq = '\0';
					for (size_t i = 0; i < AP_NELEM(pg_params); i++)
						if (strcmp(kv, pg_params[i].key) == 0)
							var = pg_params[i].env;
				}
				if (var == NULL || !pct_decode(eq + 1)) {
					rc = ap_problem_set(ctx->pb, AP_PB_UNSUPPORTED, "server",
					    "the DSN parameter %s cannot be given to pg_dump or psql",
					    eq ? kv : "(without a value)");
					free(params);
					goto out;
				}
				ENV("%s=%s", var, eq + 1);
			}
			free(params);
		}
		snprintf(prog, sizeof(prog), "%s/%s", ctx->cfg->databases_pg_bindir,
		    req->dir == AP_DBDUMP_EXPORT ? "pg_dump" : "psql");
		if (req->dir == AP_DBDUMP_EXPORT) {
			argv[na++] = "pg_dump";
			argv[na++] = "--no-password";
			if (in_unit)
				argv[na++] = "--dbname=passfile=${CREDENTIALS_DIRECTORY}/pgpass";
			argv[na++] = "--format=plain";
			argv[na++] = "--encoding=UTF8";
			if (req->clean) {
				argv[na++] = "--clean";
				argv[na++] = "--if-exists";
			} else {
				argv[na++] = "--no-owner";
				argv[na++] = "--no-privileges";
			}
		} else {
			argv[na++] = "psql";
			argv[na++] = "--no-password";
			if (in_unit)
				argv[na++] = "--dbname=passfile=${CREDENTIALS_DIRECTORY}/pgpass";
			argv[na++] = "--no-psqlrc";
			argv[na++] = "--quiet";
			argv[na++] = "--single-transaction";
			argv[na++] = "--set=ON_ERROR_STOP=1";
			argv[na++] = "--file=-";
		}
	}
#undef ENV
	argv[na] = NULL;
	env[ne] = NULL;

	dd = ap_xcalloc(1, sizeof(*dd));
	dd->cred_fd = dd->err_fd = -1;
	dd->backend = login.backend;
	dd->in_unit = in_unit;
	/* A unit's credential goes through systemd (LoadCredential=), not descriptor 3. */
	dd->cred_fd = in_unit ? -1 : secret_file(&cred, as_other, uid, gid);
	dd->err_fd = memfd_create("aapanel-dbdump-err", MFD_CLOEXEC);
	if ((!in_unit && dd->cred_fd < 0) || dd->err_fd < 0) {
		rc = ap_problem_set(ctx->pb, AP_PB_FAILED, NULL, "cannot make the client's files: %s",
		    strerror(errno));
		goto out;
	}
	sp.path = prog;
	sp.argv = argv;
	sp.env = env;
	sp.timeout_ms = ctx->cfg->helper_job_timeout * 1000;
	sp.max_memory = 2ULL * 1024 * 1024 * 1024;
	sp.switch_user = as_other;
	sp.uid = uid;
	sp.gid = gid;
	if (in_unit) {
		sp.unit = unit;
		sp.unit_sandbox = AP_SPAWN_SB_FETCH;
		sp.cred_name = login.backend == AP_DB_MYSQL ? "my.cnf" : "pgpass";
		sp.cred_data = cred.data;
		sp.cred_len = cred.len;
		sp.cred_dir = cred_dir;
	}
	fds[0] = req->dir == AP_DBDUMP_IMPORT ? req->fd : -1;
	fds[1] = req->dir == AP_DBDUMP_EXPORT ? req->fd : -1;
	fds[2] = dd->err_fd;
	fds[3] = dd->cred_fd;
	if (ap_spawn_start(&sp, fds, &dd->proc, err, sizeof(err)) != AP_OK) {
		rc = ap_problem_set(ctx->pb, AP_PB_FAILED, NULL, "%s", err);
		goto out;
	}
	if (in_unit) {
		struct sigaction on = { .sa_handler = on_term };

		/* No SA_RESTART: a blocked read or write of the dump returns EINTR at once. */
		sigemptyset(&on.sa_mask);
		D_term = 0;
		D_sup = dd->proc.pid;
		dd->trapped = sigaction(SIGTERM, &on, &dd->old_term) == 0;
		AP_INFO("%s of %s on %s: %s started as %s.service (%s), supervisor pid %d",
		    req->dir == AP_DBDUMP_EXPORT ? "export" : "import", req->database, req->server,
		    argv[0], unit, as_other ? "nobody" : "root", (int)dd->proc.pid);
	} else
		AP_INFO("%s of %s on %s: %s started, pid %d", req->dir == AP_DBDUMP_EXPORT ? "export" :
		    "import", req->database, req->server, argv[0], (int)dd->proc.pid);
	*out = dd;
	dd = NULL;
	rc = AP_OK;
out:
	if (cred.data != NULL)
		explicit_bzero(cred.data, cred.cap);
	ap_buf_free(&cred);
	explicit_bzero(login.password, sizeof(login.password));
	ap_db_dsn_free(&d);
	for (size_t i = 0; envbuf != NULL && i < MAX_ENV; i++)
		free(envbuf[i]);
	free(envbuf);
	ap_dbdump_free(dd);
	return rc;
}

/* Fill d->st from the reaped result and the stderr file. */
static void
finish(struct ap_dbdump *d, const struct ap_spawn_result *res)
{
	char buf[ERR_KEEP + 1];
	ssize_t r;

	d->ended = true;
	if (d->in_unit && D_term)
		d->cancelled = true;
	d->st.exit_code = res->exited ? res->exit_code : -1;
	d->st.signal = res->exited ? 0 : res->signal;
	d->st.ok = res->exited && res->exit_code == 0;
	d->st.cancelled = d->cancelled;
	d->st.reason[0] = '\0';
	if (d->st.ok)
		return;
	/* The first error is near the start; a long stream of warnings is cut at ERR_KEEP. */
	r = pread(d->err_fd, buf, ERR_KEEP, 0);
	if (r > 0)
		ap_dbdump_reason(buf, (size_t)r, d->st.reason, sizeof(d->st.reason));
	if (d->cancelled)
		snprintf(d->st.reason, sizeof(d->st.reason), "cancelled");
	else if (d->st.reason[0] == '\0' && res->exited)
		snprintf(d->st.reason, sizeof(d->st.reason), "the client exited with status %d",
		    res->exit_code);
	else if (d->st.reason[0] == '\0')
		snprintf(d->st.reason, sizeof(d->st.reason), "the client was killed by signal %d",
		    res->signal);
}

enum ap_err
ap_dbdump_wait(struct ap_dbdump *d, int timeout_ms, struct ap_dbdump_status *st)
{
	struct ap_spawn_result res;
	enum ap_err rc;

	if (!d->ended) {
		rc = ap_spawn_wait(&d->proc, timeout_ms, &res);
		if (rc != AP_OK)
			return rc;
		finish(d, &res);
	}
	*st = d->st;
	return AP_OK;
}

void
ap_dbdump_cancel(struct ap_dbdump *d)
{
	struct ap_spawn_result res;

	if (d == NULL || d->ended || d->proc.pid <= 0)
		return;
	d->cancelled = true;
	memset(&res, 0, sizeof(res));
	/* A unit's supervisor stops it first (StopUnit: its stop timeout, then SIGKILL). */
	ap_spawn_stop(&d->proc, d->in_unit ? 20000 : 0, &res);
	finish(d, &res);
}

void
ap_dbdump_free(struct ap_dbdump *d)
{
	if (d == NULL)
		return;
	ap_dbdump_cancel(d);
	if (d->cred_fd >= 0)
		close(d->cred_fd);
	if (d->err_fd >= 0)
		close(d->err_fd);
	if (d->trapped) {
		bool term = D_term;

		D_sup = 0;
		D_term = 0;
		sigaction(SIGTERM, &d->old_term, NULL);
		free(d);
		/* The unit is gone: the SIGTERM now does what it came for. */
		if (term)
			raise(SIGTERM);
		return;
	}
	free(d);
}

pid_t
ap_dbdump_pid(const struct ap_dbdump *d)
{
	return d->proc.pid;
}

enum ap_db_backend
ap_dbdump_backend(const struct ap_dbdump *d)
{
	return d->backend;
}
