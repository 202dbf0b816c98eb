/*
 * db_mysql.c — the MariaDB/MySQL driver (db_int.h) over libmariadb's
 * prepared-statement (binary) protocol.
 *
 * Every result set is stored client-side (mysql_stmt_store_result) right
 * after execute, so other statements and BEGIN/COMMIT can run while a
 * result is still being read. Columns are fetched in their natural C type:
 * integers as int64, FLOAT/DOUBLE as double, everything else (DECIMAL,
 * strings, blobs, dates) as bytes with a trailing NUL.
 *
 * Session: utf8mb4, strict sql_mode (without ANSI_QUOTES, so "…" stays a
 * string literal as in the rest of our SQL), a server-side statement
 * timeout and an InnoDB lock wait timeout equal to the query timeout, and
 * client read/write timeouts slightly longer so the server's own error
 * normally wins. Auto-reconnect is off: the generic layer reconnects once.
 */
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>

#include "db_int.h"

/* Client I/O timeout beyond the statement timeout: lets the server report
 * its own timeout (1969/3024) before the client gives up on the socket. */
#define MY_IO_MARGIN_S 2
/* Smallest column buffer: dates and times fetched as text fit in it. */
#define MY_COL_MIN 64
/* Column buffers above this are released on reset rather than kept. */
#define MY_COL_KEEP (64 * 1024)

struct my_db {
	struct ap_db base;
	MYSQL *conn;
	bool mariadb;
};

enum my_kind {
	MY_K_INT,
	MY_K_DOUBLE,
	MY_K_DECIMAL, /* fetched as text, reported as DOUBLE */
	MY_K_TEXT,
	MY_K_BLOB
};

/* One result column of the current row; buffers bound to the statement. */
struct my_col {
	enum my_kind kind;
	bool is_unsigned;
	my_bool is_null;
	my_bool error;
	unsigned long len;
	union {
		int64_t i;
		uint64_t u;
		double d;
	} v;
	char *buf; /* MY_K_DECIMAL/TEXT/BLOB: cap bytes, value + NUL */
	size_t cap;
	char num[32]; /* col_text of a number */
};

struct my_stmt {
	struct ap_db_stmt base;
	MYSQL_STMT *h;
	MYSQL_RES *meta;     /* result metadata, NULL without a result set */
	MYSQL_BIND *params;  /* nparams */
	unsigned long *plen; /* nparams */
	MYSQL_BIND *rbind;   /* ncols */
	struct my_col *cols; /* ncols */
	unsigned ncols;	     /* columns the buffers were bound for */
	bool running;	     /* executed since prepare/reset */
	bool stored;	     /* a stored result is open */
};

/* Server and client error codes and their class. */
static const struct {
	unsigned code;
	enum ap_db_rc rc;
} my_errors[] = {
    {1062, AP_DB_ECONSTRAINT}, /* ER_DUP_ENTRY */
    {1169, AP_DB_ECONSTRAINT}, /* ER_DUP_UNIQUE */
    {1586, AP_DB_ECONSTRAINT}, /* ER_DUP_ENTRY_WITH_KEY_NAME */
    {1557, AP_DB_ECONSTRAINT}, /* ER_FOREIGN_DUPLICATE_KEY */
    {1216, AP_DB_ECONSTRAINT}, /* ER_NO_REFERENCED_ROW */
    {1217, AP_DB_ECONSTRAINT}, /* ER_ROW_IS_REFERENCED */
    {1451, AP_DB_ECONSTRAINT}, /* ER_ROW_IS_REFERENCED_2 */
    {1452, AP_DB_ECONSTRAINT}, /* ER_NO_REFERENCED_ROW_2 */
    {1048, AP_DB_ECONSTRAINT}, /* ER_BAD_NULL_ERROR */
    {1263, AP_DB_ECONSTRAINT}, /* ER_WARN_NULL_TO_NOTNULL (strict, multi-row) */
    {1364, AP_DB_ECONSTRAINT}, /* ER_NO_DEFAULT_FOR_FIELD */
    {4025, AP_DB_ECONSTRAINT}, /* ER_CONSTRAINT_FAILED (MariaDB CHECK) */
    {3819, AP_DB_ECONSTRAINT}, /* ER_CHECK_CONSTRAINT_VIOLATED (MySQL) */
    {1040, AP_DB_ECONN},       /* ER_CON_COUNT_ERROR */
    {1053, AP_DB_ECONN},       /* ER_SERVER_SHUTDOWN */
    {1152, AP_DB_ECONN},       /* ER_ABORTING_CONNECTION */
    {1927, AP_DB_ECONN},       /* ER_CONNECTION_KILLED */
    {4031, AP_DB_ECONN},       /* ER_CLIENT_INTERACTION_TIMEOUT (MySQL) */
    {2001, AP_DB_ECONN},       /* CR_SOCKET_CREATE_ERROR */
    {2002, AP_DB_ECONN},       /* CR_CONNECTION_ERROR */
    {2003, AP_DB_ECONN},       /* CR_CONN_HOST_ERROR */
    {2005, AP_DB_ECONN},       /* CR_UNKNOWN_HOST */
    {2006, AP_DB_ECONN},       /* CR_SERVER_GONE_ERROR */
    {2013, AP_DB_ECONN},       /* CR_SERVER_LOST */
    {2026, AP_DB_ECONN},       /* CR_SSL_CONNECTION_ERROR */
    {2055, AP_DB_ECONN},       /* CR_SERVER_LOST_EXTENDED */
    {1290, AP_DB_EREADONLY},   /* ER_OPTION_PREVENTS_STATEMENT (--read-only) */
    {1792, AP_DB_EREADONLY},   /* ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION */
    {1021, AP_DB_EFULL},       /* ER_DISK_FULL */
    {1114, AP_DB_EFULL},       /* ER_RECORD_FILE_FULL */
    {1205, AP_DB_ETIMEOUT},    /* ER_LOCK_WAIT_TIMEOUT */
    {1969, AP_DB_ETIMEOUT},    /* ER_STATEMENT_TIMEOUT (MariaDB max_statement_time) */
    {3024, AP_DB_ETIMEOUT},    /* ER_QUERY_TIMEOUT (MySQL max_execution_time) */
};

static enum ap_db_rc
my_class(unsigned code)
{
	for (size_t i = 0; i < AP_NELEM(my_errors); i++)
		if (my_errors[i].code == code)
			return my_errors[i].rc;
	return AP_DB_EOTHER;
}

static enum ap_db_rc
my_conn_error(struct ap_db *db, const char *what)
{
	MYSQL *conn = ((struct my_db *)db)->conn;
	unsigned code = mysql_errno(conn);

	return ap_db_set_error(db, my_class(code), "mysql %s: %s (%u)", what, mysql_error(conn),
			       code);
}

static enum ap_db_rc
my_stmt_error(struct my_stmt *ms, const char *what)
{
	unsigned code = mysql_stmt_errno(ms->h);

	return ap_db_set_error(ms->base.db, my_class(code), "mysql %s: %s (%u)", what,
			       mysql_stmt_error(ms->h), code);
}

/* ceil(ms / 1000), at least 1. */
static unsigned
my_seconds(int ms)
{
	unsigned s = ms > 0 ? ((unsigned)ms + 999) / 1000 : 1;

	return s ? s : 1;
}

/* ---------------------------------------------------------------- connections */

static enum ap_db_rc
my_session(struct my_db *m)
{
	struct ap_db *db = &m->base;
	unsigned secs = my_seconds(db->query_timeout_ms);
	char sql[320];

	/* Built from integers we own, never from input. MariaDB takes seconds
	 * (decimal) in max_statement_time, MySQL milliseconds in
	 * max_execution_time (SELECT only). The lock wait timeout makes a
	 * blocked write fail as a timeout on both. */
	if (m->mariadb)
		snprintf(sql, sizeof(sql),
			 "SET SESSION sql_mode='STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,"
			 "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION',"
			 " max_statement_time=%d.%03d, innodb_lock_wait_timeout=%u",
			 db->query_timeout_ms / 1000, db->query_timeout_ms % 1000, secs);
	else
		snprintf(sql, sizeof(sql),
			 "SET SESSION sql_mode='STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,"
			 "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION',"
			 " max_execution_time=%d, innodb_lock_wait_timeout=%u",
			 db->query_timeout_ms, secs);
	if (mysql_real_query(m->conn, sql, strlen(sql)) != 0)
		return my_conn_error(db, "session setup");
	return AP_DB_OK;
}

static enum ap_db_rc
my_connect(struct ap_db *db)
{
	static bool lib_ready;
	struct my_db *m = (struct my_db *)db;
	unsigned ctimeo = my_seconds(db->connect_timeout_ms);
	unsigned iotimeo = my_seconds(db->query_timeout_ms) + MY_IO_MARGIN_S;
	unsigned no_infile = 0;
	my_bool off = 0, on = 1;
	const char *host = db->dsn.host;
	enum ap_db_rc rc;

	/* Once per process; workers are single-threaded. mysql_library_end
	 * is never called: the process exit releases it. */
	if (!lib_ready) {
		if (mysql_library_init(0, NULL, NULL) != 0)
			return ap_db_set_error(db, AP_DB_ECONN,
					       "mysql: client library init failed");
		lib_ready = true;
	}
	m->conn = mysql_init(NULL);
	if (m->conn == NULL)
		return ap_db_set_error(db, AP_DB_ECONN, "mysql: mysql_init failed");
	mysql_options(m->conn, MYSQL_OPT_CONNECT_TIMEOUT, &ctimeo);
	mysql_options(m->conn, MYSQL_OPT_READ_TIMEOUT, &iotimeo);
	mysql_options(m->conn, MYSQL_OPT_WRITE_TIMEOUT, &iotimeo);
	mysql_options(m->conn, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	mysql_options(m->conn, MYSQL_OPT_RECONNECT, &off);
	mysql_options(m->conn, MYSQL_REPORT_DATA_TRUNCATION, &on);
	/* A hostile server could otherwise ask us for any local file. */
	mysql_options(m->conn, MYSQL_OPT_LOCAL_INFILE, &no_infile);
	if (host != NULL && host[0] == '\0')
		host = NULL; /* default: localhost through the socket */
	/* CLIENT_FOUND_ROWS: UPDATE reports matched rows like SQLite and
	 * PostgreSQL do, not only the rows whose values changed. */
	if (mysql_real_connect(m->conn, host, db->dsn.user, db->password, db->dsn.dbname,
			       (unsigned)db->dsn.port, db->dsn.socket, CLIENT_FOUND_ROWS) == NULL) {
		rc = ap_db_set_error(db, AP_DB_ECONN, "mysql connect: %s (%u)",
				     mysql_error(m->conn), mysql_errno(m->conn));
		goto fail;
	}
	m->mariadb = strstr(mysql_get_server_info(m->conn), "MariaDB") != NULL;
	rc = my_session(m);
	if (rc != AP_DB_OK) {
		rc = AP_DB_ECONN;
		goto fail;
	}
	return AP_DB_OK;
fail:
	mysql_close(m->conn);
	m->conn = NULL;
	return rc;
}

/* Release the backend side of a statement: handle, metadata, bind
 * arrays and buffers. Leaves the base struct alone. */
static void
my_stmt_release(struct my_stmt *ms)
{
	if (ms->meta != NULL)
		mysql_free_result(ms->meta);
	if (ms->h != NULL) {
		if (ms->stored)
			mysql_stmt_free_result(ms->h);
		mysql_stmt_close(ms->h);
	}
	for (unsigned i = 0; i < ms->ncols; i++)
		free(ms->cols[i].buf);
	free(ms->cols);
	free(ms->rbind);
	free(ms->params);
	free(ms->plen);
	ms->h = NULL;
	ms->meta = NULL;
	ms->cols = NULL;
	ms->rbind = NULL;
	ms->params = NULL;
	ms->plen = NULL;
	ms->ncols = 0;
	ms->running = false;
	ms->stored = false;
}

static void
my_disconnect(struct ap_db *db)
{
	struct my_db *m = (struct my_db *)db;

	/* Statements first: mysql_close would orphan their handles. */
	for (struct ap_db_stmt *s = db->stmts; s; s = s->next) {
		my_stmt_release((struct my_stmt *)s);
		s->generation = 0;
	}
	if (m->conn != NULL)
		mysql_close(m->conn);
	m->conn = NULL;
}

/* ---------------------------------------------------------------- statements */

static enum ap_db_rc
my_prepare(struct ap_db_stmt *st)
{
	struct my_stmt *ms = (struct my_stmt *)st;
	struct my_db *m = (struct my_db *)st->db;
	unsigned long nparams;
	my_bool on = 1;
	enum ap_db_rc rc;

	my_stmt_release(ms);
	if (m->conn == NULL)
		return ap_db_set_error(st->db, AP_DB_ECONN, "mysql: not connected");
	ms->h = mysql_stmt_init(m->conn);
	if (ms->h == NULL)
		return my_conn_error(st->db, "prepare");
	if (mysql_stmt_prepare(ms->h, st->sql, strlen(st->sql)) != 0) {
		rc = my_stmt_error(ms, "prepare");
		goto fail;
	}
	/* The server's count is the truth; ours sized st->binds. They differ
	 * when a ? hides in syntax our scanner does not know (comments). */
	nparams = mysql_stmt_param_count(ms->h);
	if (nparams != (unsigned long)st->nparams) {
		rc = ap_db_set_error(
		    st->db, AP_DB_EINVAL,
		    "mysql prepare: server counts %lu parameters, the statement text %d", nparams,
		    st->nparams);
		goto fail;
	}
	mysql_stmt_attr_set(ms->h, STMT_ATTR_UPDATE_MAX_LENGTH, &on);
	ms->params = ap_xcalloc(nparams, sizeof(*ms->params));
	ms->plen = ap_xcalloc(nparams, sizeof(*ms->plen));
	ms->meta = mysql_stmt_result_metadata(ms->h);
	return AP_DB_OK;
fail:
	my_stmt_release(ms);
	return rc;
}

static void
my_finalize(struct ap_db_stmt *st)
{
	my_stmt_release((struct my_stmt *)st);
}

/* Point the parameter binds at st->binds (owned by the generic layer and
 * stable until the next bind call, which cannot happen mid-execute). */
static enum ap_db_rc
my_bind_params(struct my_stmt *ms)
{
	struct ap_db_stmt *st = &ms->base;

	if (st->nparams == 0)
		return AP_DB_OK;
	memset(ms->params, 0, (size_t)st->nparams * sizeof(*ms->params));
	for (int i = 0; i < st->nparams; i++) {
		struct ap_db_bind *b = &st->binds[i];
		MYSQL_BIND *p = &ms->params[i];

		switch (b->type) {
		case AP_DB_T_NULL: p->buffer_type = MYSQL_TYPE_NULL; break;
		case AP_DB_T_INT:
			p->buffer_type = MYSQL_TYPE_LONGLONG;
			p->buffer = &b->i;
			break;
		case AP_DB_T_DOUBLE:
			p->buffer_type = MYSQL_TYPE_DOUBLE;
			p->buffer = &b->d;
			break;
		case AP_DB_T_TEXT:
		case AP_DB_T_BLOB:
			p->buffer_type =
			    b->type == AP_DB_T_TEXT ? MYSQL_TYPE_STRING : MYSQL_TYPE_BLOB;
			p->buffer = b->p != NULL ? b->p : (char *)"";
			ms->plen[i] = (unsigned long)b->len;
			p->buffer_length = ms->plen[i];
			p->length = &ms->plen[i];
			break;
		}
	}
	if (mysql_stmt_bind_param(ms->h, ms->params) != 0)
		return my_stmt_error(ms, "bind");
	return AP_DB_OK;
}

static enum my_kind
my_kind_of(const MYSQL_FIELD *f)
{
	switch (f->type) {
	case MYSQL_TYPE_TINY:
	case MYSQL_TYPE_SHORT:
	case MYSQL_TYPE_LONG:
	case MYSQL_TYPE_LONGLONG:
	case MYSQL_TYPE_INT24:
	case MYSQL_TYPE_YEAR: return MY_K_INT;
	case MYSQL_TYPE_FLOAT:
	case MYSQL_TYPE_DOUBLE: return MY_K_DOUBLE;
	case MYSQL_TYPE_DECIMAL:
	case MYSQL_TYPE_NEWDECIMAL: return MY_K_DECIMAL;
	case MYSQL_TYPE_TINY_BLOB:
	case MYSQL_TYPE_MEDIUM_BLOB:
	case MYSQL_TYPE_LONG_BLOB:
	case MYSQL_TYPE_BLOB:
	case MYSQL_TYPE_VAR_STRING:
	case MYSQL_TYPE_STRING:
	case MYSQL_TYPE_VARCHAR:
	case MYSQL_TYPE_BIT:
	case MYSQL_TYPE_GEOMETRY:
		/* 63 = the binary pseudo-charset: BLOB, VARBINARY, BINARY. Dates
		 * and numbers carry it too, hence only for these types. */
		return f->charsetnr == 63 ? MY_K_BLOB : MY_K_TEXT;
	default: return MY_K_TEXT; /* dates, times, ENUM, SET, JSON: as text */
	}
}

/* Give column c a buffer of at least need bytes (contents not kept). */
static void
my_col_reserve(struct my_col *c, size_t need)
{
	if (c->cap >= need)
		return;
	free(c->buf);
	c->buf = ap_xmalloc(need);
	c->cap = need;
}

/* Bind result buffers for the stored result, sized from max_length. */
static enum ap_db_rc
my_bind_result(struct my_stmt *ms)
{
	unsigned n = mysql_stmt_field_count(ms->h);

	if (n != ms->ncols) {
		for (unsigned i = 0; i < ms->ncols; i++)
			free(ms->cols[i].buf);
		free(ms->cols);
		free(ms->rbind);
		ms->cols = ap_xcalloc(n, sizeof(*ms->cols));
		ms->rbind = ap_xcalloc(n, sizeof(*ms->rbind));
		ms->ncols = n;
	}
	memset(ms->rbind, 0, n * sizeof(*ms->rbind));
	for (unsigned i = 0; i < n; i++) {
		const MYSQL_FIELD *f = mysql_fetch_field_direct(ms->meta, i);
		struct my_col *c = &ms->cols[i];
		MYSQL_BIND *b = &ms->rbind[i];

		c->kind = my_kind_of(f);
		c->is_unsigned = (f->flags & UNSIGNED_FLAG) != 0;
		b->is_null = &c->is_null;
		b->error = &c->error;
		b->length = &c->len;
		switch (c->kind) {
		case MY_K_INT:
			b->buffer_type = MYSQL_TYPE_LONGLONG;
			b->buffer = &c->v.i;
			b->is_unsigned = c->is_unsigned;
			break;
		case MY_K_DOUBLE:
			b->buffer_type = MYSQL_TYPE_DOUBLE;
			b->buffer = &c->v.d;
			break;
		default:
			my_col_reserve(
			    c, (f->max_length > MY_COL_MIN ? f->max_length : MY_COL_MIN) + 1);
			b->buffer_type = c->kind == MY_K_BLOB ? MYSQL_TYPE_BLOB : MYSQL_TYPE_STRING;
			b->buffer = c->buf;
			b->buffer_length = (unsigned long)(c->cap - 1); /* room for our NUL */
			break;
		}
	}
	if (mysql_stmt_bind_result(ms->h, ms->rbind) != 0)
		return my_stmt_error(ms, "bind result");
	return AP_DB_OK;
}

static enum ap_db_rc
my_fetch(struct my_stmt *ms)
{
	bool rebind = false;
	int r;

	if (!ms->stored)
		return AP_DB_DONE;
	r = mysql_stmt_fetch(ms->h);
	if (r == MYSQL_NO_DATA)
		return AP_DB_DONE;
	if (r != 0 && r != MYSQL_DATA_TRUNCATED)
		return my_stmt_error(ms, "fetch");
	/* max_length should make every buffer big enough; when it does not
	 * (dates rendered as text, ...), fetch that column again. */
	for (unsigned i = 0; i < ms->ncols; i++) {
		struct my_col *c = &ms->cols[i];
		MYSQL_BIND *b = &ms->rbind[i];

		if (c->kind == MY_K_INT || c->kind == MY_K_DOUBLE || c->is_null)
			continue;
		if (c->len >= c->cap) {
			my_col_reserve(c, (size_t)c->len + 1);
			b->buffer = c->buf;
			b->buffer_length = (unsigned long)(c->cap - 1);
			if (mysql_stmt_fetch_column(ms->h, b, i, 0) != 0)
				return my_stmt_error(ms, "fetch column");
			rebind = true;
		}
		c->buf[c->len] = '\0';
	}
	/* Later rows land in the grown buffers. */
	if (rebind && mysql_stmt_bind_result(ms->h, ms->rbind) != 0)
		return my_stmt_error(ms, "bind result");
	return AP_DB_ROW;
}

static enum ap_db_rc
my_execute(struct my_stmt *ms)
{
	struct ap_db_stmt *st = &ms->base;
	struct my_db *m = (struct my_db *)st->db;
	enum ap_db_rc rc;

	if (m->conn == NULL)
		return ap_db_set_error(st->db, AP_DB_ECONN, "mysql: not connected");
	if (ms->h == NULL && (rc = my_prepare(st)) != AP_DB_OK)
		return rc;
	rc = my_bind_params(ms);
	if (rc != AP_DB_OK)
		return rc;
	/* From here the server may run it; libmariadb reports a failed send
	 * (nothing reached the server) as CR_SERVER_GONE_ERROR, a reply lost
	 * after sending as CR_SERVER_LOST. */
	st->sent = true;
	if (mysql_stmt_execute(ms->h) != 0) {
		if (mysql_stmt_errno(ms->h) == 2006 /* CR_SERVER_GONE_ERROR */)
			st->sent = false;
		return my_stmt_error(ms, "execute");
	}
	ms->running = true;
	if (mysql_stmt_field_count(ms->h) == 0) {
		st->changes = (int64_t)mysql_stmt_affected_rows(ms->h);
		st->last_id = (int64_t)mysql_stmt_insert_id(ms->h);
		return AP_DB_DONE;
	}
	/* The metadata may have changed since prepare (ALTER TABLE, SELECT ?). */
	if (ms->meta != NULL)
		mysql_free_result(ms->meta);
	ms->meta = mysql_stmt_result_metadata(ms->h);
	if (ms->meta == NULL)
		return my_stmt_error(ms, "metadata");
	if (mysql_stmt_store_result(ms->h) != 0)
		return my_stmt_error(ms, "store result");
	ms->stored = true;
	rc = my_bind_result(ms);
	if (rc != AP_DB_OK)
		return rc;
	return my_fetch(ms);
}

static enum ap_db_rc
my_step(struct ap_db_stmt *st)
{
	struct my_stmt *ms = (struct my_stmt *)st;

	if (!ms->running)
		return my_execute(ms);
	return my_fetch(ms);
}

/* Drop the stored result. No mysql_stmt_reset: it costs a round trip
 * (COM_STMT_RESET) and we use neither cursors nor long data; execute
 * starts afresh on its own. */
static void
my_reset(struct ap_db_stmt *st)
{
	struct my_stmt *ms = (struct my_stmt *)st;

	if (ms->h != NULL && ms->stored)
		mysql_stmt_free_result(ms->h);
	ms->stored = false;
	ms->running = false;
	for (unsigned i = 0; i < ms->ncols; i++) {
		struct my_col *c = &ms->cols[i];

		if (c->cap > MY_COL_KEEP) {
			free(c->buf);
			c->buf = NULL;
			c->cap = 0;
		}
	}
}

/* ---------------------------------------------------------------- columns */

static struct my_col *
my_col(struct ap_db_stmt *st, int col)
{
	struct my_stmt *ms = (struct my_stmt *)st;

	if (!ms->stored || col < 0 || (unsigned)col >= ms->ncols)
		return NULL;
	return &ms->cols[col];
}

static int
my_col_count(struct ap_db_stmt *st)
{
	struct my_stmt *ms = (struct my_stmt *)st;

	if (ms->stored)
		return (int)ms->ncols;
	return ms->meta != NULL ? (int)mysql_num_fields(ms->meta) : 0;
}

static enum ap_db_type
my_col_type(struct ap_db_stmt *st, int col)
{
	struct my_col *c = my_col(st, col);

	if (c == NULL || c->is_null)
		return AP_DB_T_NULL;
	switch (c->kind) {
	case MY_K_INT: return AP_DB_T_INT;
	case MY_K_DOUBLE:
	case MY_K_DECIMAL: return AP_DB_T_DOUBLE;
	case MY_K_BLOB: return AP_DB_T_BLOB;
	case MY_K_TEXT: break;
	}
	return AP_DB_T_TEXT;
}

static int64_t
my_double_to_int64(double d)
{
	if (isnan(d))
		return 0;
	if (d >= 9223372036854775807.0)
		return INT64_MAX;
	if (d <= -9223372036854775808.0)
		return INT64_MIN;
	return (int64_t)d;
}

static int64_t
my_col_int64(struct ap_db_stmt *st, int col)
{
	struct my_col *c = my_col(st, col);
	char *end;
	long long v;

	if (c == NULL || c->is_null)
		return 0;
	switch (c->kind) {
	case MY_K_INT:
		if (c->is_unsigned && c->v.u > (uint64_t)INT64_MAX)
			return INT64_MAX;
		return c->v.i;
	case MY_K_DOUBLE: return my_double_to_int64(c->v.d);
	default: break;
	}
	v = strtoll(c->buf, &end, 10);
	if (end != c->buf && *end == '\0')
		return v;
	return my_double_to_int64(strtod(c->buf, NULL)); /* "12.50", "1e3" */
}

static double
my_col_double(struct ap_db_stmt *st, int col)
{
	struct my_col *c = my_col(st, col);

	if (c == NULL || c->is_null)
		return 0.0;
	switch (c->kind) {
	case MY_K_INT: return c->is_unsigned ? (double)c->v.u : (double)c->v.i;
	case MY_K_DOUBLE: return c->v.d;
	default: return strtod(c->buf, NULL);
	}
}

static const char *
my_col_text(struct ap_db_stmt *st, int col, size_t *len)
{
	struct my_col *c = my_col(st, col);
	int n;

	if (c == NULL || c->is_null) {
		if (len)
			*len = 0;
		return NULL;
	}
	switch (c->kind) {
	case MY_K_INT:
		if (c->is_unsigned)
			n = snprintf(c->num, sizeof(c->num), "%llu", (unsigned long long)c->v.u);
		else
			n = snprintf(c->num, sizeof(c->num), "%lld", (long long)c->v.i);
		break;
	case MY_K_DOUBLE: n = snprintf(c->num, sizeof(c->num), "%.17g", c->v.d); break;
	default:
		if (len)
			*len = c->len;
		return c->buf;
	}
	if (len)
		*len = (size_t)n;
	return c->num;
}

static const void *
my_col_blob(struct ap_db_stmt *st, int col, size_t *len)
{
	return my_col_text(st, col, len);
}

static const char *
my_col_name(struct ap_db_stmt *st, int col)
{
	struct my_stmt *ms = (struct my_stmt *)st;

	if (ms->meta == NULL || col < 0 || (unsigned)col >= mysql_num_fields(ms->meta))
		return NULL;
	return mysql_fetch_field_direct(ms->meta, (unsigned)col)->name;
}

/* ---------------------------------------------------------------- plain queries */

static enum ap_db_rc
my_exec_simple(struct ap_db *db, const char *sql)
{
	struct my_db *m = (struct my_db *)db;
	MYSQL_RES *res;

	if (m->conn == NULL)
		return ap_db_set_error(db, AP_DB_ECONN, "mysql: not connected");
	if (mysql_real_query(m->conn, sql, strlen(sql)) != 0)
		return my_conn_error(db, "query");
	/* Drain a result so the connection is ready for the next command. */
	res = mysql_store_result(m->conn);
	if (res != NULL)
		mysql_free_result(res);
	else if (mysql_field_count(m->conn) != 0)
		return my_conn_error(db, "store result");
	return AP_DB_OK;
}

/* Statement by statement: MySQL commits DDL implicitly, so a failed
 * migration can leave earlier statements applied (documented for
 * operators); no multi-statement mode, which would also widen injection. */
static enum ap_db_rc
my_exec_script(struct ap_db *db, const char *sql)
{
	return ap_db_script_each(db, sql, my_exec_simple);
}

/* An idle connection has nothing to read: readable or hung up means the
 * server sent its goodbye (shutdown, KILL, wait_timeout) or closed it. */
static bool
my_alive(struct ap_db *db)
{
	struct my_db *m = (struct my_db *)db;
	struct pollfd p = { .events = POLLIN | POLLRDHUP };

	if (m->conn == NULL)
		return false;
	p.fd = (int)mysql_get_socket(m->conn);
	if (p.fd < 0)
		return false;
	return poll(&p, 1, 0) == 0;
}

/* Literals: mysql_real_escape_string, which knows the connection's
 * character set and NO_BACKSLASH_ESCAPES. Identifiers: backticks, each
 * backtick doubled (the server's rule; the library has no function for
 * identifiers), and never a NUL. */
static char *
my_quote(struct ap_db *db, const char *s, bool ident)
{
	struct my_db *m = (struct my_db *)db;
	size_t n = strlen(s);
	char *out, *w;

	if (m->conn == NULL)
		return NULL;
	if (ident) {
		w = out = ap_xmalloc(2 * n + 3);
		*w++ = '`';
		for (const char *r = s; *r; r++) {
			if (*r == '`')
				*w++ = '`';
			*w++ = *r;
		}
		*w++ = '`';
		*w = '\0';
		return out;
	}
	out = ap_xmalloc(2 * n + 3);
	out[0] = '\'';
	w = out + 1 + mysql_real_escape_string(m->conn, out + 1, s, (unsigned long)n);
	*w++ = '\'';
	*w = '\0';
	return out;
}

static const char *
my_server_version(struct ap_db *db)
{
	struct my_db *m = (struct my_db *)db;

	return m->conn ? mysql_get_server_info(m->conn) : NULL;
}

const struct ap_db_driver ap_db_mysql_driver = {
    .backend = AP_DB_MYSQL,
    .db_size = sizeof(struct my_db),
    .stmt_size = sizeof(struct my_stmt),
    .connect = my_connect,
    .disconnect = my_disconnect,
    .prepare = my_prepare,
    .finalize = my_finalize,
    .step = my_step,
    .reset = my_reset,
    .col_count = my_col_count,
    .col_type = my_col_type,
    .col_int64 = my_col_int64,
    .col_double = my_col_double,
    .col_text = my_col_text,
    .col_blob = my_col_blob,
    .col_name = my_col_name,
    .alive = my_alive,
    .exec_simple = my_exec_simple,
    .exec_script = my_exec_script,
    .quote = my_quote,
    .server_version = my_server_version,
};
