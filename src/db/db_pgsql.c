/*
 * db_pgsql.c — the PostgreSQL driver (libpq).
 *
 * Statements are server-side prepared statements named "s<n>" (unique per
 * connection), with parameter types inferred by the server. Values travel
 * as text, blobs as binary; results come back as text and are read row by
 * row from one PGresult. Every round trip is sent asynchronously and waited
 * for with a deadline (the server's statement_timeout plus a grace period),
 * so a server that stops answering cannot hang a worker.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "aapanel/log.h"
#include "db_int.h"

/* How long past the server-side statement_timeout we still wait for a reply. */
#define PG_REPLY_GRACE_MS 5000
/* Extra libpq parameters accepted from the DSN query string. */
#define PG_MAX_EXTRA 16

/* Type oids (pg_type.h is server-side; these values are fixed). */
#define PG_OID_BOOL 16
#define PG_OID_BYTEA 17
#define PG_OID_INT8 20
#define PG_OID_INT2 21
#define PG_OID_INT4 23
#define PG_OID_FLOAT4 700
#define PG_OID_FLOAT8 701
#define PG_OID_NUMERIC 1700

struct pg_db {
	struct ap_db base;
	PGconn *conn;	    /* NULL while disconnected */
	unsigned next_name; /* statement name counter */
	/* Prepared statements finalized while the transaction was aborted
	 * (DEALLOCATE is refused then); dropped once it is usable again. */
	char **stale;
	size_t nstale;
};

struct pg_stmt {
	struct ap_db_stmt base;
	char name[16]; /* "s<n>" */
	bool prepared; /* name exists on the current connection */
	bool ran;      /* executed since prepare/reset */
	PGresult *res;
	int nrows, ncols;
	int row; /* current row; nrows once done */
	/* col_blob: unescaped bytea of the current row, by column (PQfreemem). */
	unsigned char **blobs;
	size_t *blob_lens;
};

/* DSN parameters the driver sets itself; the DSN may not override them. */
static const char *const pg_reserved[] = {
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "passfile",
    "options",
    "client_encoding",
    "application_name",
    "connect_timeout",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_count",
    "tcp_user_timeout",
    "replication",
    "service",
};

static void pg_disconnect(struct ap_db *db);

/* Length of msg without trailing newlines/spaces (libpq messages end in "\n"). */
static int
msg_len(const char *msg)
{
	size_t n = strlen(msg);

	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		n--;
	return n > 400 ? 400 : (int)n;
}

/* Notices (e.g. "table does not exist, skipping") go to the debug log, not stderr. */
static void
pg_notice(void *arg, const char *msg)
{
	(void)arg;
	ap_log(AP_LOG_DEBUG, "pg_notice", "%.*s", msg_len(msg), msg);
}

/* Error class of a SQLSTATE. */
static enum ap_db_rc
pg_classify(const char *state)
{
	if (state == NULL || strlen(state) != 5)
		return AP_DB_EOTHER;
	if (strncmp(state, "23", 2) == 0)
		return AP_DB_ECONSTRAINT;
	if (strcmp(state, "57014") == 0 || strcmp(state, "55P03") == 0)
		return AP_DB_ETIMEOUT;
	if (strcmp(state, "25006") == 0) /* read_only_sql_transaction (a standby, read-only) */
		return AP_DB_EREADONLY;
	if (strcmp(state, "53100") == 0) /* disk_full */
		return AP_DB_EFULL;
	/* 08P01 (protocol violation) is what a wrong bind count gets: the
	 * connection survives it, so reconnecting would only repeat it. */
	if (strcmp(state, "08P01") == 0)
		return AP_DB_EOTHER;
	if (strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 ||
	    strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0)
		return AP_DB_ECONN;
	return AP_DB_EOTHER;
}

/*
 * Record the error of res (NULL: the connection's own error) on db and
 * return its class. A connection libpq marks bad is always AP_DB_ECONN so
 * the generic layer reconnects.
 */
static enum ap_db_rc
pg_error(struct pg_db *p, const PGresult *res)
{
	const char *msg = NULL;
	enum ap_db_rc rc;

	if (p->conn == NULL)
		return ap_db_set_error(&p->base, AP_DB_ECONN, "not connected");
	if (res != NULL) {
		rc = pg_classify(PQresultErrorField(res, PG_DIAG_SQLSTATE));
		msg = PQresultErrorMessage(res);
	} else
		rc = AP_DB_ECONN;
	if (PQstatus(p->conn) == CONNECTION_BAD)
		rc = AP_DB_ECONN;
	if (msg == NULL || msg[0] == '\0')
		msg = PQerrorMessage(p->conn);
	if (msg[0] == '\0')
		msg = "unknown PostgreSQL error";
	return ap_db_set_error(&p->base, rc, "%.*s", msg_len(msg), msg);
}

/*
 * Wait for every result of what was just sent. Returns the first failed
 * result if any, else the last one (owned by the caller, PQclear); NULL
 * when there is none or the connection broke. *timed_out is set when the
 * server did not answer within the deadline; the connection is then in an
 * unknown state and must be dropped.
 */
static PGresult *
pg_collect(struct pg_db *p, bool *timed_out)
{
	PGconn *conn = p->conn;
	uint64_t deadline = ap_now_ms() + (uint64_t)p->base.query_timeout_ms + PG_REPLY_GRACE_MS;
	PGresult *keep = NULL, *r;

	*timed_out = false;
	for (;;) {
		while (PQisBusy(conn)) {
			struct pollfd pfd = {.fd = PQsocket(conn), .events = POLLIN};
			uint64_t now = ap_now_ms();
			int n;

			if (pfd.fd < 0)
				break;
			if (now >= deadline) {
				*timed_out = true;
				PQclear(keep);
				return NULL;
			}
			n = poll(&pfd, 1, (int)(deadline - now));
			if (n < 0 && errno != EINTR)
				break;
			/* On failure the connection is bad; PQgetResult reports it. */
			if (n > 0 && !PQconsumeInput(conn))
				break;
		}
		r = PQgetResult(conn);
		if (r == NULL)
			break;
		switch (PQresultStatus(r)) {
		case PGRES_COPY_IN:
			/* COPY is not part of this API: refuse it; the server then
			 * answers with an error result. */
			PQputCopyEnd(conn, "COPY FROM STDIN is not supported");
			PQclear(r);
			continue;
		case PGRES_COPY_OUT: {
			char *buf;

			while (PQgetCopyData(conn, &buf, 0) > 0)
				PQfreemem(buf);
			PQclear(r);
			continue;
		}
		case PGRES_COPY_BOTH:
			/* Replication only (refused at connect); cannot continue. */
			PQclear(r);
			PQclear(keep);
			return NULL;
		default: break;
		}
		if (keep != NULL && (PQresultStatus(keep) == PGRES_FATAL_ERROR ||
				     PQresultStatus(keep) == PGRES_BAD_RESPONSE)) {
			PQclear(r);
			continue;
		}
		PQclear(keep);
		keep = r;
		if (PQstatus(conn) == CONNECTION_BAD)
			break; /* PQgetResult would only repeat the error */
	}
	return keep;
}

/*
 * Complete a round trip started with a PQsend* call that returned sent.
 * On success *out gets the result (caller clears it); otherwise the error
 * is recorded and *out is NULL.
 */
static enum ap_db_rc
pg_finish(struct pg_db *p, int sent, PGresult **out)
{
	PGresult *res;
	bool timed_out;
	enum ap_db_rc rc;

	*out = NULL;
	if (!sent) {
		const char *msg = PQerrorMessage(p->conn);

		rc = PQstatus(p->conn) == CONNECTION_BAD ? AP_DB_ECONN : AP_DB_EOTHER;
		return ap_db_set_error(&p->base, rc, "%.*s", msg_len(msg), msg);
	}
	res = pg_collect(p, &timed_out);
	if (timed_out) {
		rc = ap_db_set_error(&p->base, AP_DB_ETIMEOUT,
				     "no reply from PostgreSQL within %d ms; connection dropped",
				     p->base.query_timeout_ms + PG_REPLY_GRACE_MS);
		/* The next statement finds no connection → AP_DB_ECONN → the
		 * generic layer reconnects. */
		pg_disconnect(&p->base);
		return rc;
	}
	if (res == NULL)
		return pg_error(p, NULL);
	switch (PQresultStatus(res)) {
	case PGRES_COMMAND_OK:
	case PGRES_TUPLES_OK:
	case PGRES_EMPTY_QUERY: *out = res; return AP_DB_OK;
	default:
		rc = pg_error(p, res);
		PQclear(res);
		return rc;
	}
}

/* Run sql (simple query protocol, may hold several statements). */
static enum ap_db_rc
pg_simple(struct pg_db *p, const char *sql)
{
	PGresult *res = NULL;
	enum ap_db_rc rc;

	if (p->conn == NULL)
		return ap_db_set_error(&p->base, AP_DB_ECONN, "not connected");
	rc = pg_finish(p, PQsendQuery(p->conn, sql), &res);
	PQclear(res);
	return rc;
}

/* DEALLOCATE name; errors are not recorded (nothing the caller can do). */
static void
pg_deallocate(struct pg_db *p, const char *name)
{
	char sql[32];
	PGresult *res = NULL;
	char saved[sizeof(p->base.errmsg)];

	if (p->conn == NULL)
		return;
	/* name is "s<n>", generated here: safe to put into SQL text. */
	snprintf(sql, sizeof(sql), "DEALLOCATE %s", name);
	memcpy(saved, p->base.errmsg, sizeof(saved));
	if (pg_finish(p, PQsendQuery(p->conn, sql), &res) == AP_DB_OK)
		PQclear(res);
	memcpy(p->base.errmsg, saved, sizeof(saved));
}

/* Drop statements left over from an aborted transaction, once possible. */
static void
pg_flush_stale(struct pg_db *p)
{
	if (p->nstale == 0 || p->conn == NULL || PQtransactionStatus(p->conn) == PQTRANS_INERROR)
		return;
	while (p->nstale > 0 && p->conn != NULL) {
		char *name = p->stale[--p->nstale];

		pg_deallocate(p, name);
		free(name);
	}
}

static void
pg_stale_clear(struct pg_db *p)
{
	for (size_t i = 0; i < p->nstale; i++)
		free(p->stale[i]);
	free(p->stale);
	p->stale = NULL;
	p->nstale = 0;
}

/* ---------------------------------------------------------------- connection */

static bool
pg_key_ok(const char *k, const PQconninfoOption *known)
{
	if (k[0] == '\0' || strspn(k, "abcdefghijklmnopqrstuvwxyz_") != strlen(k))
		return false;
	for (size_t i = 0; i < AP_NELEM(pg_reserved); i++)
		if (strcmp(k, pg_reserved[i]) == 0)
			return false;
	for (; known != NULL && known->keyword != NULL; known++)
		if (strcmp(k, known->keyword) == 0)
			return true;
	return false;
}

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

/* Percent-decode s in place; false on a malformed escape or %00. */
static bool
pct_decode(char *s)
{
	char *w = s;

	for (const char *r = s; *r != '\0'; r++) {
		if (*r == '%') {
			int hi = hexval(r[1]), lo = hi < 0 ? -1 : hexval(r[2]);

			if (hi < 0 || lo < 0 || (hi | lo) == 0)
				return false;
			*w++ = (char)(hi << 4 | lo);
			r += 2;
		} else
			*w++ = *r;
	}
	*w = '\0';
	return true;
}

/*
 * Split buf ("k=v&k=v", modified in place) into kw/val from index *n.
 * Returns false (error recorded) on a bad or disallowed parameter.
 */
static bool
pg_parse_params(struct ap_db *db, char *buf, const char **kw, const char **val, int *n, int max)
{
	PQconninfoOption *known = PQconndefaults();
	char *save = NULL, *kv;
	bool ok = false;

	for (kv = strtok_r(buf, "&", &save); kv != NULL; kv = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(kv, '=');

		if (eq == NULL) {
			ap_db_set_error(db, AP_DB_EINVAL, "DSN parameter without a value");
			goto out;
		}
		*eq = '\0';
		if (!pg_key_ok(kv, known)) {
			ap_db_set_error(db, AP_DB_EINVAL, "DSN parameter not allowed: %.40s", kv);
			goto out;
		}
		if (!pct_decode(eq + 1)) {
			ap_db_set_error(db, AP_DB_EINVAL, "DSN parameter %s: bad %%-escape", kv);
			goto out;
		}
		if (*n >= max) {
			ap_db_set_error(db, AP_DB_EINVAL, "too many DSN parameters");
			goto out;
		}
		kw[*n] = kv;
		val[*n] = eq + 1;
		(*n)++;
	}
	ok = true;
out:
	PQconninfoFree(known);
	return ok;
}

static enum ap_db_rc
pg_connect(struct ap_db *db)
{
	struct pg_db *p = (struct pg_db *)db;
	const char *kw[16 + PG_MAX_EXTRA + 1], *val[16 + PG_MAX_EXTRA + 1];
	char port[16], ctimeout[16], utimeout[16], options[64];
	char *extra = NULL;
	const char *host = db->dsn.socket ? db->dsn.socket : db->dsn.host;
	PGconn *conn = NULL;
	enum ap_db_rc rc = AP_DB_ECONN;
	int n = 0;

#define ADD(k, v)                                                                                  \
	do {                                                                                       \
		kw[n] = (k);                                                                       \
		val[n] = (v);                                                                      \
		n++;                                                                               \
	} while (0)
	if (host != NULL && host[0] != '\0')
		ADD("host", host);
	if (db->dsn.port > 0) {
		snprintf(port, sizeof(port), "%d", db->dsn.port);
		ADD("port", port);
	}
	if (db->dsn.dbname != NULL && db->dsn.dbname[0] != '\0')
		ADD("dbname", db->dsn.dbname);
	if (db->dsn.user != NULL && db->dsn.user[0] != '\0')
		ADD("user", db->dsn.user);
	if (db->password != NULL)
		ADD("password", db->password);
	snprintf(ctimeout, sizeof(ctimeout), "%d",
		 db->connect_timeout_ms > 1000 ? (db->connect_timeout_ms + 999) / 1000 : 1);
	ADD("connect_timeout", ctimeout);
	ADD("client_encoding", "UTF8");
	ADD("application_name", "aapanel");
	snprintf(options, sizeof(options), "-c statement_timeout=%d", db->query_timeout_ms);
	ADD("options", options);
	/* A peer that vanished (no RST) is noticed by keepalives while idle
	 * and by the TCP user timeout while data is unacknowledged. */
	ADD("keepalives", "1");
	ADD("keepalives_idle", "30");
	ADD("keepalives_interval", "10");
	ADD("keepalives_count", "3");
	snprintf(utimeout, sizeof(utimeout), "%d", db->query_timeout_ms + PG_REPLY_GRACE_MS);
	ADD("tcp_user_timeout", utimeout);
#undef ADD
	if (db->dsn.params != NULL && db->dsn.params[0] != '\0') {
		extra = ap_xstrdup(db->dsn.params);
		if (!pg_parse_params(db, extra, kw, val, &n, (int)AP_NELEM(kw) - 1)) {
			rc = AP_DB_EINVAL;
			goto out;
		}
	}
	kw[n] = NULL;
	val[n] = NULL;

	/* expand_dbname 0: dbname is a name, never a conninfo string. */
	conn = PQconnectdbParams(kw, val, 0);
	if (conn == NULL) {
		ap_db_set_error(db, AP_DB_ECONN, "libpq: out of memory");
		goto out;
	}
	if (PQstatus(conn) != CONNECTION_OK) {
		const char *msg = PQerrorMessage(conn);

		ap_db_set_error(db, AP_DB_ECONN, "%.*s", msg_len(msg), msg);
		goto out;
	}
	PQsetNoticeProcessor(conn, pg_notice, NULL);
	p->conn = conn;
	conn = NULL;
	rc = AP_DB_OK;
out:
	PQfinish(conn);
	free(extra);
	return rc;
}

/* ---------------------------------------------------------------- statements */

static void
pg_blobs_clear(struct pg_stmt *ps)
{
	if (ps->blobs == NULL)
		return;
	for (int i = 0; i < ps->ncols; i++)
		PQfreemem(ps->blobs[i]);
	free(ps->blobs);
	free(ps->blob_lens);
	ps->blobs = NULL;
	ps->blob_lens = NULL;
}

/* Forget the result; the prepared statement stays. */
static void
pg_result_clear(struct pg_stmt *ps)
{
	pg_blobs_clear(ps);
	PQclear(ps->res);
	ps->res = NULL;
	ps->nrows = ps->ncols = ps->row = 0;
	ps->ran = false;
}

static void
pg_disconnect(struct ap_db *db)
{
	struct pg_db *p = (struct pg_db *)db;

	/* Statement names die with the connection. */
	for (struct ap_db_stmt *st = db->stmts; st != NULL; st = st->next) {
		struct pg_stmt *ps = (struct pg_stmt *)st;

		pg_result_clear(ps);
		ps->prepared = false;
		ps->name[0] = '\0';
	}
	pg_stale_clear(p);
	PQfinish(p->conn);
	p->conn = NULL;
}

/* True if id is [a-z_][a-z0-9_]*. */
static bool
pg_ident_ok(const char *id)
{
	if (id[0] == '\0' || !((id[0] >= 'a' && id[0] <= 'z') || id[0] == '_'))
		return false;
	return strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(id) &&
	       strlen(id) <= 63;
}

static enum ap_db_rc
pg_prepare(struct ap_db_stmt *st)
{
	struct pg_stmt *ps = (struct pg_stmt *)st;
	struct pg_db *p = (struct pg_db *)st->db;
	char *sql = NULL;
	PGresult *res = NULL;
	enum ap_db_rc rc;

	if (p->conn == NULL)
		return ap_db_set_error(st->db, AP_DB_ECONN, "not connected");
	pg_result_clear(ps);
	if (ps->prepared) {
		pg_deallocate(p, ps->name);
		ps->prepared = false;
	}
	pg_flush_stale(p);
	if (p->conn == NULL)
		return ap_db_set_error(st->db, AP_DB_ECONN, "not connected");

	sql = ap_db_rewrite_params_pg(st->sql);
	if (st->id_column != NULL) {
		size_t len = strlen(sql);
		char *full;

		if (!pg_ident_ok(st->id_column)) {
			rc = ap_db_set_error(st->db, AP_DB_EINVAL, "invalid id column");
			goto out;
		}
		/* "INSERT …;" → "INSERT … RETURNING id" */
		while (len > 0 &&
		       (sql[len - 1] == ';' || sql[len - 1] == ' ' || sql[len - 1] == '\n' ||
			sql[len - 1] == '\t' || sql[len - 1] == '\r'))
			len--;
		full = ap_xasprintf("%.*s RETURNING %s", (int)len, sql, st->id_column);
		free(sql);
		sql = full;
	}
	snprintf(ps->name, sizeof(ps->name), "s%u", ++p->next_name);
	rc = pg_finish(p, PQsendPrepare(p->conn, ps->name, sql, 0, NULL), &res);
	if (rc == AP_DB_OK)
		ps->prepared = true;
out:
	PQclear(res);
	free(sql);
	return rc;
}

static void
pg_finalize(struct ap_db_stmt *st)
{
	struct pg_stmt *ps = (struct pg_stmt *)st;
	struct pg_db *p = (struct pg_db *)st->db;

	pg_result_clear(ps);
	if (!ps->prepared || p->conn == NULL)
		return;
	ps->prepared = false;
	/* Prepared statements live as long as the session: a long-running
	 * worker would otherwise accumulate them on the server. */
	if (PQtransactionStatus(p->conn) == PQTRANS_INERROR) {
		p->stale = ap_xrealloc(p->stale, (p->nstale + 1) * sizeof(*p->stale));
		p->stale[p->nstale++] = ap_xstrdup(ps->name);
	} else
		pg_deallocate(p, ps->name);
}

static void
pg_reset(struct ap_db_stmt *st)
{
	pg_result_clear((struct pg_stmt *)st);
}

/* Text form of a double that float8in accepts (inf/nan spelled its way). */
static void
fmt_double(char *buf, size_t len, double d)
{
	if (isnan(d))
		snprintf(buf, len, "NaN");
	else if (isinf(d))
		snprintf(buf, len, d > 0 ? "Infinity" : "-Infinity");
	else
		snprintf(buf, len, "%.17g", d);
}

/* Run the prepared statement with st->binds; ps->res gets the result. */
static enum ap_db_rc
pg_execute(struct pg_stmt *ps)
{
	struct ap_db_stmt *st = &ps->base;
	struct pg_db *p = (struct pg_db *)st->db;
	int np = st->nparams;
	const char **values = NULL;
	int *lengths = NULL, *formats = NULL;
	char(*num)[32] = NULL;
	enum ap_db_rc rc;

	if (np > 0) {
		values = ap_xcalloc((size_t)np, sizeof(*values));
		lengths = ap_xcalloc((size_t)np, sizeof(*lengths));
		formats = ap_xcalloc((size_t)np, sizeof(*formats));
		num = ap_xcalloc((size_t)np, sizeof(*num));
	}
	for (int i = 0; i < np; i++) {
		const struct ap_db_bind *b = &st->binds[i];

		switch (b->type) {
		case AP_DB_T_NULL: values[i] = NULL; break;
		case AP_DB_T_INT:
			snprintf(num[i], sizeof(num[i]), "%" PRId64, b->i);
			values[i] = num[i];
			break;
		case AP_DB_T_DOUBLE:
			fmt_double(num[i], sizeof(num[i]), b->d);
			values[i] = num[i];
			break;
		case AP_DB_T_TEXT:
			/* Text parameters travel NUL-terminated; PostgreSQL text
			 * cannot hold NUL anyway. */
			if (b->p != NULL && strlen(b->p) != b->len) {
				rc =
				    ap_db_set_error(st->db, AP_DB_EINVAL,
						    "text parameter %d contains a NUL byte", i + 1);
				goto out;
			}
			values[i] = b->p ? b->p : "";
			break;
		case AP_DB_T_BLOB:
			if (b->len > INT32_MAX) {
				rc = ap_db_set_error(st->db, AP_DB_EINVAL,
						     "blob parameter %d is too large", i + 1);
				goto out;
			}
			values[i] = b->p ? b->p : "";
			lengths[i] = (int)b->len;
			formats[i] = 1;
			break;
		}
	}
	/* Sent unless libpq could not write it (then the server has nothing to
	 * run: a partial message is never executed). */
	st->sent = PQsendQueryPrepared(p->conn, ps->name, np, values, lengths, formats, 0) != 0;
	rc = pg_finish(p, st->sent, &ps->res);
out:
	free(values);
	free(lengths);
	free(formats);
	free(num);
	return rc;
}

static enum ap_db_rc
pg_step(struct ap_db_stmt *st)
{
	struct pg_stmt *ps = (struct pg_stmt *)st;
	struct pg_db *p = (struct pg_db *)st->db;
	enum ap_db_rc rc;

	if (ps->ran) {
		pg_blobs_clear(ps);
		if (ps->row < ps->nrows)
			ps->row++;
		return ps->row < ps->nrows ? AP_DB_ROW : AP_DB_DONE;
	}
	if (p->conn == NULL)
		return ap_db_set_error(st->db, AP_DB_ECONN, "not connected");
	pg_result_clear(ps);
	if (!ps->prepared && (rc = pg_prepare(st)) != AP_DB_OK)
		return rc;
	if ((rc = pg_execute(ps)) != AP_DB_OK)
		return rc; /* not ran: the next step executes again */
	ps->ran = true;
	ps->nrows = PQntuples(ps->res);
	ps->ncols = PQnfields(ps->res);
	ps->row = 0;
	/* PQcmdTuples also counts SELECTed rows; "changes" means written rows. */
	if (strncmp(PQcmdStatus(ps->res), "SELECT", 6) == 0)
		st->changes = 0;
	else
		st->changes = strtoll(PQcmdTuples(ps->res), NULL, 10);
	if (st->id_column != NULL) {
		/* The RETURNING row is ours: callers see the INSERT finish. */
		if (ps->nrows > 0 && ps->ncols > 0 && !PQgetisnull(ps->res, 0, 0))
			st->last_id = strtoll(PQgetvalue(ps->res, 0, 0), NULL, 10);
		ps->row = ps->nrows;
	}
	return ps->row < ps->nrows ? AP_DB_ROW : AP_DB_DONE;
}

/* ---------------------------------------------------------------- columns */

/* True when (current row, col) exists. */
static bool
pg_cell(const struct pg_stmt *ps, int col)
{
	return ps->res != NULL && ps->row < ps->nrows && col >= 0 && col < ps->ncols;
}

static int
pg_col_count(struct ap_db_stmt *st)
{
	struct pg_stmt *ps = (struct pg_stmt *)st;

	return ps->res ? ps->ncols : 0;
}

static enum ap_db_type
pg_col_type(struct ap_db_stmt *st, int col)
{
	struct pg_stmt *ps = (struct pg_stmt *)st;

	if (!pg_cell(ps, col) || PQgetisnull(ps->res, ps->row, col))
		return AP_DB_T_NULL;
	switch (PQftype(ps->res, col)) {
	case PG_OID_INT8:
	case PG_OID_INT2:
	case PG_OID_INT4: return AP_DB_T_INT;
	case PG_OID_FLOAT4:
	case PG_OID_FLOAT8:
	case PG_OID_NUMERIC: return AP_DB_T_DOUBLE;
	case PG_OID_BYTEA: return AP_DB_T_BLOB;
	default: return AP_DB_T_TEXT;
	}
}

static int64_t
pg_col_int64(struct ap_db_stmt *st, int col)
{
	struct pg_stmt *ps = (struct pg_stmt *)st;
	const char *v;

	if (!pg_cell(ps, col) || PQgetisnull(ps->res, ps->row, col))
		return 0;
	v = PQgetvalue(ps->res, ps->row, col);
	if (PQftype(ps->res, col) == PG_OID_BOOL)
		return v[0] == 't';
	return strtoll(v, NULL, 10);
}

static double
pg_col_double(struct ap_db_stmt *st, int col)
{
	struct pg_stmt *ps = (struct pg_stmt *)st;

	if (!pg_cell(ps, col) || PQgetisnull(ps->res, ps->row, col))
		return 0;
	return strtod(PQgetvalue(ps->res, ps->row, col), NULL);
}

static const char *
pg_col_text(struct ap_db_stmt *st, int col, size_t *len)
{
	struct pg_stmt *ps = (struct pg_stmt *)st;

	if (len != NULL)
		*len = 0;
	if (!pg_cell(ps, col) || PQgetisnull(ps->res, ps->row, col))
		return NULL;
	if (len != NULL)
		*len = (size_t)PQgetlength(ps->res, ps->row, col);
	return PQgetvalue(ps->res, ps->row, col);
}

static const void *
pg_col_blob(struct ap_db_stmt *st, int col, size_t *len)
{
	struct pg_stmt *ps = (struct pg_stmt *)st;
	const char *v;

	if (len != NULL)
		*len = 0;
	if (!pg_cell(ps, col) || PQgetisnull(ps->res, ps->row, col))
		return NULL;
	v = PQgetvalue(ps->res, ps->row, col);
	if (PQftype(ps->res, col) != PG_OID_BYTEA) {
		if (len != NULL)
			*len = (size_t)PQgetlength(ps->res, ps->row, col);
		return v;
	}
	if (ps->blobs == NULL) {
		ps->blobs = ap_xcalloc((size_t)ps->ncols, sizeof(*ps->blobs));
		ps->blob_lens = ap_xcalloc((size_t)ps->ncols, sizeof(*ps->blob_lens));
	}
	if (ps->blobs[col] == NULL) {
		ps->blobs[col] = PQunescapeBytea((const unsigned char *)v, &ps->blob_lens[col]);
		if (ps->blobs[col] == NULL) {
			fprintf(stderr, "aapanel: out of memory decoding bytea\n");
			abort();
		}
	}
	if (len != NULL)
		*len = ps->blob_lens[col];
	return ps->blobs[col];
}

static const char *
pg_col_name(struct ap_db_stmt *st, int col)
{
	struct pg_stmt *ps = (struct pg_stmt *)st;

	if (ps->res == NULL || col < 0 || col >= ps->ncols)
		return NULL;
	return PQfname(ps->res, col);
}

/* ---------------------------------------------------------------- simple statements */

static enum ap_db_rc
pg_exec_simple(struct ap_db *db, const char *sql)
{
	struct pg_db *p = (struct pg_db *)db;
	enum ap_db_rc rc = pg_simple(p, sql);

	if (rc == AP_DB_OK)
		pg_flush_stale(p);
	return rc;
}

/* The simple query protocol runs a multi-statement script as one implicit
 * transaction: a failing migration leaves nothing half-applied. */
static enum ap_db_rc
pg_exec_script(struct ap_db *db, const char *sql)
{
	return pg_simple((struct pg_db *)db, sql);
}

/* Nothing is due on an idle connection: when the socket is readable, take
 * what came (a notice, or the server's FATAL goodbye and EOF) and ask libpq. */
static bool
pg_alive(struct ap_db *db)
{
	struct pg_db *p = (struct pg_db *)db;
	struct pollfd pfd = { .events = POLLIN | POLLRDHUP };

	if (p->conn == NULL || PQstatus(p->conn) != CONNECTION_OK)
		return false;
	pfd.fd = PQsocket(p->conn);
	if (pfd.fd < 0)
		return false;
	if (poll(&pfd, 1, 0) == 0)
		return true;
	if (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR))
		return false;
	return PQconsumeInput(p->conn) && PQstatus(p->conn) == CONNECTION_OK;
}

/* libpq's own functions, which know the connection's encoding and
 * standard_conforming_strings. */
static char *
pg_quote(struct ap_db *db, const char *s, bool ident)
{
	struct pg_db *p = (struct pg_db *)db;
	char *q, *out;

	if (p->conn == NULL)
		return NULL;
	q = ident ? PQescapeIdentifier(p->conn, s, strlen(s)) : PQescapeLiteral(p->conn, s, strlen(s));
	if (q == NULL)
		return NULL;
	out = ap_xstrdup(q);
	PQfreemem(q);
	return out;
}

static int
pg_wait_notify(struct ap_db *db, int timeout_ms)
{
	struct pg_db *p = (struct pg_db *)db;
	struct pollfd pfd;
	PGnotify *n;
	int got = 0;

	if (p->conn == NULL)
		return -(int)AP_DB_ECONN;
	pfd.fd = PQsocket(p->conn);
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (pfd.fd < 0)
		return -(int)AP_DB_ECONN;
	/* Already read with an earlier result: do not wait for more. */
	if ((n = PQnotifies(p->conn)) != NULL) {
		PQfreemem(n);
		got = 1;
	} else if (poll(&pfd, 1, timeout_ms) < 0 && errno != EINTR)
		return -(int)AP_DB_EOTHER;
	if (PQconsumeInput(p->conn) == 0) {
		ap_db_set_error(db, AP_DB_ECONN, "%s", PQerrorMessage(p->conn));
		return -(int)AP_DB_ECONN;
	}
	while ((n = PQnotifies(p->conn)) != NULL) {
		PQfreemem(n);
		got = 1;
	}
	return got;
}

static const char *
pg_server_version(struct ap_db *db)
{
	struct pg_db *p = (struct pg_db *)db;

	return p->conn ? PQparameterStatus(p->conn, "server_version") : NULL;
}

const struct ap_db_driver ap_db_pgsql_driver = {
    .backend = AP_DB_PGSQL,
    .db_size = sizeof(struct pg_db),
    .stmt_size = sizeof(struct pg_stmt),
    .connect = pg_connect,
    .disconnect = pg_disconnect,
    .prepare = pg_prepare,
    .finalize = pg_finalize,
    .step = pg_step,
    .reset = pg_reset,
    .col_count = pg_col_count,
    .col_type = pg_col_type,
    .col_int64 = pg_col_int64,
    .col_double = pg_col_double,
    .col_text = pg_col_text,
    .col_blob = pg_col_blob,
    .col_name = pg_col_name,
    .alive = pg_alive,
    .exec_simple = pg_exec_simple,
    .exec_script = pg_exec_script,
    .quote = pg_quote,
    .server_version = pg_server_version,
    .wait_notify = pg_wait_notify,
};
