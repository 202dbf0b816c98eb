/*
 * db.c — the generic half of the database API (see db.h): connections,
 * statements and their binds, reconnect-once, transactions, helpers. The
 * backends live in db_sqlite.c, db_mysql.c and db_pgsql.c (db_int.h); the
 * DSN parser in dsn.c; what the drivers share in db_text.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "aapanel/log.h"
#include "db_int.h"

static const char *const rc_names[] = {
	"ok", "row", "done",
};

const char *
ap_db_rc_str(enum ap_db_rc rc)
{
	switch (rc) {
	case AP_DB_OK:
	case AP_DB_ROW:
	case AP_DB_DONE: return rc_names[rc];
	case AP_DB_ECONSTRAINT: return "constraint violation";
	case AP_DB_ENOTFOUND: return "not found";
	case AP_DB_ECONN: return "connection lost";
	case AP_DB_ETIMEOUT: return "timeout";
	case AP_DB_EINVAL: return "invalid use";
	case AP_DB_EOTHER: return "database error";
	case AP_DB_EREADONLY: return "read-only";
	case AP_DB_EFULL: return "storage full";
	}
	return "unknown";
}

const char *
ap_db_backend_name(enum ap_db_backend b)
{
	static const char *const names[AP_DB__MAX] = { "sqlite", "mysql", "postgresql" };

	return (unsigned)b < AP_DB__MAX ? names[b] : "unknown";
}

static const struct ap_db_driver *
driver_for(enum ap_db_backend b)
{
	switch (b) {
	case AP_DB_SQLITE: return &ap_db_sqlite_driver;
	case AP_DB_MYSQL: return &ap_db_mysql_driver;
	case AP_DB_PGSQL: return &ap_db_pgsql_driver;
	default: return NULL;
	}
}

/* ---------------------------------------------------------------- idle statements */

/*
 * Every statement a caller finalizes goes back, still prepared, to a small
 * pool of its connection (db->idle, oldest first); the next ap_db_prepare of
 * the same text takes it instead of preparing again — on a server that is
 * the Parse round trip and, on PostgreSQL, the DEALLOCATE one. Statements
 * prepared on an older connection are re-prepared by ensure_prepared like
 * any other; a reconnect, a script (migrations) and DDL empty the pool.
 */
static void stmt_free(struct ap_db_stmt *st);

static uint32_t
sql_hash(const char *sql, const char *id_column)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)sql; *p; p++)
		h = (h ^ *p) * 16777619u;
	if (id_column != NULL)
		for (const unsigned char *p = (const unsigned char *)id_column; *p; p++)
			h = (h ^ *p) * 16777619u;
	return h;
}

static void
idle_remove(struct ap_db *db, int i)
{
	db->idle[i]->parked = false;
	memmove(&db->idle[i], &db->idle[i + 1], (size_t)(db->nidle - i - 1) * sizeof(db->idle[0]));
	db->nidle--;
}

static void
idle_flush(struct ap_db *db)
{
	while (db->nidle > 0) {
		struct ap_db_stmt *st = db->idle[db->nidle - 1];

		idle_remove(db, db->nidle - 1);
		stmt_free(st);
	}
}

/* The newest idle statement of this text, taken out of the pool, or NULL. */
static struct ap_db_stmt *
idle_take(struct ap_db *db, const char *sql, const char *id_column, uint32_t h)
{
	for (int i = db->nidle - 1; i >= 0; i--) {
		struct ap_db_stmt *st = db->idle[i];

		if (st->hash != h || strcmp(st->sql, sql) != 0 ||
		    (st->id_column == NULL) != (id_column == NULL) ||
		    (id_column != NULL && strcmp(st->id_column, id_column) != 0))
			continue;
		idle_remove(db, i);
		return st;
	}
	return NULL;
}

/* DDL changes what prepared statements mean (PostgreSQL refuses a plan whose
 * result changed): a connection that ran some forgets its idle ones. */
static bool
sql_is_ddl(const char *sql)
{
	while (*sql == ' ' || *sql == '\t' || *sql == '\n' || *sql == '\r')
		sql++;
	return strncasecmp(sql, "CREATE", 6) == 0 || strncasecmp(sql, "ALTER", 5) == 0 ||
	    strncasecmp(sql, "DROP", 4) == 0;
}

/* ---------------------------------------------------------------- connections */

enum ap_db_rc
ap_db_open(const struct ap_db_opts *o, struct ap_db **out)
{
	struct ap_db_dsn dsn;
	const struct ap_db_driver *drv;
	struct ap_db *db;
	char err[256];
	enum ap_db_rc rc;

	*out = NULL;
	if (ap_db_dsn_parse(o->dsn, &dsn, err, sizeof(err)) != AP_DB_OK) {
		AP_WARN("db.dsn: %s", err);
		return AP_DB_EINVAL;
	}
	if (dsn.relative) {
		/* The configuration resolves relative paths; a driver has no root. */
		AP_WARN("db.dsn: sqlite DSN needs an absolute path");
		ap_db_dsn_free(&dsn);
		return AP_DB_EINVAL;
	}
	drv = driver_for(dsn.backend);
	db = ap_xcalloc(1, drv->db_size);
	db->drv = drv;
	db->dsn = dsn;
	db->password = o->password ? ap_xstrdup(o->password) : NULL;
	db->connect_timeout_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 5000;
	db->query_timeout_ms = o->query_timeout_ms > 0 ? o->query_timeout_ms : 10000;
	*out = db;
	rc = drv->connect(db);
	if (rc == AP_DB_OK) {
		db->connected = true;
		db->generation++;
		db->errmsg[0] = '\0';
	}
	return rc;
}

void
ap_db_close(struct ap_db *db)
{
	if (db == NULL)
		return;
	db->closing = true;
	idle_flush(db);
	while (db->stmts)
		ap_db_finalize(db->stmts);
	if (db->connected)
		db->drv->disconnect(db);
	ap_db_dsn_free(&db->dsn);
	if (db->password) {
		explicit_bzero(db->password, strlen(db->password));
		free(db->password);
	}
	free(db);
}

enum ap_db_backend
ap_db_backend(const struct ap_db *db)
{
	return db->drv->backend;
}

const char *
ap_db_errmsg(const struct ap_db *db)
{
	return db ? db->errmsg : "";
}

bool
ap_db_connected(const struct ap_db *db)
{
	return db != NULL && db->connected;
}

/* The unit of work (db.h): none, asked for, its BEGIN sent, paused, broken. */
enum db_unit { UNIT_NONE, UNIT_PENDING, UNIT_OPEN, UNIT_PAUSED, UNIT_BROKEN };

static enum ap_db_rc
reconnect_as(struct ap_db *db, bool say)
{
	enum ap_db_rc rc;

	if (db->connected)
		db->drv->disconnect(db);
	db->connected = false;
	db->in_tx = false;
	idle_flush(db); /* prepared on the old connection: not worth keeping */
	rc = db->drv->connect(db);
	if (rc == AP_DB_OK) {
		db->connected = true;
		db->generation++;
		db->errmsg[0] = '\0';
		db->reopen_for_write = false;
		if (say)
			AP_INFO("reconnected to the %s database", ap_db_backend_name(db->drv->backend));
	}
	return rc;
}

static enum ap_db_rc
reconnect(struct ap_db *db)
{
	return reconnect_as(db, true);
}

/*
 * Before a write outside a transaction and a unit of work (a statement's
 * first step or prepare, BEGIN), and when a unit begins (a request's change:
 * never in its middle, where a write that worked after one that was refused
 * would make half a change): a connection that cannot write is opened again,
 * so that a database that accepts writes again is written at once, without
 * a restart. It cannot when
 * SQLite opened it while the file or its mount refused writes (SQLite keeps
 * such a connection read-only), or when a write on it was refused, inside a
 * transaction too (a server: a read-only server or standby; a new connection
 * may find the primary). Not while another statement is still being read
 * (reopening drops its rows). Quiet: while the fault lasts this runs before
 * every write, and the storage check (storage.h) says when it starts and ends.
 * regression: a worker that had opened the database while its mount was
 * read-only answered every sign-in with 503 after the mount was writable
 * again, until it was recycled
 */
static enum ap_db_rc
reopen_for_write(struct ap_db *db, const struct ap_db_stmt *self)
{
	if (!db->connected || db->in_tx || db->unit != UNIT_NONE)
		return AP_DB_OK;
	if (!db->reopen_for_write && (db->drv->read_only == NULL || !db->drv->read_only(db)))
		return AP_DB_OK;
	for (const struct ap_db_stmt *s = db->stmts; s != NULL; s = s->next)
		if (s != self && s->executed && s->generation == db->generation)
			return AP_DB_OK;
	return reconnect_as(db, false);
}

/*
 * Before sending: an idle connection the server has closed (it restarted,
 * or dropped us for idleness) is reopened now, while nothing was sent, so
 * that the statement need not be run a second time. Outside transactions
 * only: inside one, a new connection would silently lose its work.
 */
static enum ap_db_rc
revive_idle(struct ap_db *db)
{
	if (!db->connected || db->in_tx || db->drv->alive == NULL || db->drv->alive(db))
		return AP_DB_OK;
	AP_WARN("the %s server closed the idle connection; reconnecting before sending",
	    ap_db_backend_name(db->drv->backend));
	return reconnect(db);
}

/* Make sure st is prepared on the current connection. Preparing runs
 * nothing, so a connection lost while preparing is reopened once. */
static enum ap_db_rc
ensure_prepared(struct ap_db_stmt *st)
{
	struct ap_db *db = st->db;
	enum ap_db_rc rc;

	if (!db->connected) {
		rc = reconnect(db);
		if (rc != AP_DB_OK)
			return rc;
	}
	if (st->generation == db->generation)
		return AP_DB_OK;
	rc = db->drv->prepare(st);
	if (rc == AP_DB_ECONN && !db->in_tx && reconnect(db) == AP_DB_OK)
		rc = db->drv->prepare(st);
	if (rc == AP_DB_OK)
		st->generation = db->generation;
	else if (rc == AP_DB_EREADONLY)
		db->reopen_for_write = true;
	return rc;
}

bool
ap_db_sql_is_read_only(const char *sql)
{
	const char *p = sql;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '(')
			p++;
		if (p[0] == '-' && p[1] == '-') {
			p += strcspn(p, "\n");
			continue;
		}
		if (p[0] == '/' && p[1] == '*') {
			const char *e = strstr(p + 2, "*/");

			if (e == NULL)
				return false;
			p = e + 2;
			continue;
		}
		break;
	}
	return strncasecmp(p, "SELECT", 6) == 0 &&
	    !((p[6] >= 'a' && p[6] <= 'z') || (p[6] >= 'A' && p[6] <= 'Z') ||
		(p[6] >= '0' && p[6] <= '9') || p[6] == '_');
}

enum ap_db_rc
ap_db_probe_write(struct ap_db *db)
{
	static const char sql[] = "UPDATE schema_migrations SET name = name WHERE version = -1";
	enum ap_db_rc rc = ap_db_exec(db, sql);

	if (rc == AP_DB_EREADONLY && !db->in_tx)
		rc = ap_db_exec(db, sql); /* on the reopened connection */
	return rc == AP_DB_DONE ? AP_DB_OK : rc;
}

const char *
ap_db_file(const struct ap_db *db)
{
	return db != NULL && db->drv->backend == AP_DB_SQLITE ? db->dsn.path : NULL;
}

enum ap_db_rc
ap_db_ping(struct ap_db *db)
{
	int64_t one = 0;

	return ap_db_query_int64(db, "SELECT 1", &one);
}

/* ---------------------------------------------------------------- statements */

static void bind_clear(struct ap_db_bind *b);

static enum ap_db_rc
prepare(struct ap_db *db, const char *sql, const char *id_column, struct ap_db_stmt **out)
{
	struct ap_db_stmt *st;
	enum ap_db_rc rc = AP_DB_OK;
	uint32_t h;

	*out = NULL;
	h = sql_hash(sql, id_column);
	if ((st = idle_take(db, sql, id_column, h)) != NULL) {
		*out = st; /* its binds were cleared when it was parked */
		return AP_DB_OK;
	}
	st = ap_xcalloc(1, db->drv->stmt_size);
	st->db = db;
	st->hash = h;
	st->sql = ap_xstrdup(sql);
	st->id_column = id_column ? ap_xstrdup(id_column) : NULL;
	st->nparams = ap_db_count_params(sql);
	st->read_only = ap_db_sql_is_read_only(sql);
	st->binds = ap_xcalloc((size_t)st->nparams + 1, sizeof(*st->binds));
	st->next = db->stmts;
	if (db->stmts)
		db->stmts->prev = st;
	db->stmts = st;
	if (!st->read_only)
		(void)reopen_for_write(db, st); /* a server may refuse the write at its prepare */
	if (db->connected) {
		rc = db->drv->prepare(st);
		if (rc == AP_DB_ECONN && !db->in_tx && reconnect(db) == AP_DB_OK)
			rc = db->drv->prepare(st);
		if (rc == AP_DB_OK)
			st->generation = db->generation;
		else if (rc == AP_DB_EREADONLY)
			db->reopen_for_write = true;
	}
	if (rc != AP_DB_OK && rc != AP_DB_ECONN) {
		/* A statement that can never run (syntax) is an error now. */
		ap_db_finalize(st);
		return rc;
	}
	*out = st;
	return AP_DB_OK;
}

enum ap_db_rc
ap_db_prepare(struct ap_db *db, const char *sql, struct ap_db_stmt **out)
{
	return prepare(db, sql, NULL, out);
}

enum ap_db_rc
ap_db_prepare_cached(struct ap_db *db, const char *sql, struct ap_db_stmt **out)
{
	enum ap_db_rc rc;

	for (int i = 0; i < db->ncache; i++) {
		struct ap_db_stmt *st = db->cache[i];

		if (st->sql == sql || strcmp(st->sql, sql) == 0) {
			ap_db_reset(st);
			*out = st;
			return AP_DB_OK;
		}
	}
	rc = prepare(db, sql, NULL, out);
	if (rc != AP_DB_OK)
		return rc;
	if (db->ncache < (int)AP_NELEM(db->cache)) {
		(*out)->cached = true;
		db->cache[db->ncache++] = *out;
	}
	return AP_DB_OK;
}

/* A column name put into RETURNING: [A-Za-z0-9_], 1..63. */
static bool
column_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
			(s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

enum ap_db_rc
ap_db_prepare_insert(struct ap_db *db, const char *sql, const char *id_column,
    struct ap_db_stmt **out)
{
	if (id_column == NULL || !column_ok(id_column)) {
		*out = NULL;
		return ap_db_set_error(db, AP_DB_EINVAL, "invalid id column");
	}
	return prepare(db, sql, id_column, out);
}

static void
bind_clear(struct ap_db_bind *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

void
ap_db_finalize(struct ap_db_stmt *st)
{
	struct ap_db *db;

	if (st == NULL)
		return;
	db = st->db;
	if (st->cached && !db->closing) {
		ap_db_reset(st);
		return;
	}
	if (st->parked)
		return; /* finalized twice: it is the pool's already */
	if (!db->closing && sql_is_ddl(st->sql))
		idle_flush(db);
	else if (!db->closing && db->connected && st->generation == db->generation) {
		/* Kept prepared for the next ap_db_prepare of its text, without
		 * the values it was given (they may be secrets). */
		ap_db_reset(st);
		for (int i = 0; i < st->nparams; i++)
			bind_clear(&st->binds[i]);
		if (db->nidle == AP_DB_IDLE_MAX) {
			struct ap_db_stmt *old = db->idle[0];

			idle_remove(db, 0);
			stmt_free(old);
		}
		st->parked = true;
		db->idle[db->nidle++] = st;
		return;
	}
	stmt_free(st);
}

static void
stmt_free(struct ap_db_stmt *st)
{
	struct ap_db *db = st->db;

	if (st->generation == db->generation && db->connected)
		db->drv->finalize(st);
	for (int i = 0; i < st->nparams; i++)
		bind_clear(&st->binds[i]);
	if (st->prev)
		st->prev->next = st->next;
	else
		db->stmts = st->next;
	if (st->next)
		st->next->prev = st->prev;
	free(st->binds);
	free(st->sql);
	free(st->id_column);
	free(st);
}

static struct ap_db_bind *
bind_slot(struct ap_db_stmt *st, int idx)
{
	if (st == NULL || idx < 1 || idx > st->nparams) {
		if (st)
			ap_db_set_error(st->db, AP_DB_EINVAL, "bind index %d out of range 1..%d", idx,
			    st->nparams);
		return NULL;
	}
	bind_clear(&st->binds[idx - 1]);
	return &st->binds[idx - 1];
}

enum ap_db_rc
ap_db_bind_int64(struct ap_db_stmt *st, int idx, int64_t v)
{
	struct ap_db_bind *b = bind_slot(st, idx);

	if (b == NULL)
		return AP_DB_EINVAL;
	b->type = AP_DB_T_INT;
	b->i = v;
	return AP_DB_OK;
}

enum ap_db_rc
ap_db_bind_double(struct ap_db_stmt *st, int idx, double v)
{
	struct ap_db_bind *b = bind_slot(st, idx);

	if (b == NULL)
		return AP_DB_EINVAL;
	b->type = AP_DB_T_DOUBLE;
	b->d = v;
	return AP_DB_OK;
}

enum ap_db_rc
ap_db_bind_text(struct ap_db_stmt *st, int idx, const char *s, ssize_t len)
{
	struct ap_db_bind *b = bind_slot(st, idx);
	size_t n;

	if (b == NULL)
		return AP_DB_EINVAL;
	if (s == NULL)
		return AP_DB_OK; /* NULL text binds SQL NULL */
	n = len < 0 ? strlen(s) : (size_t)len;
	b->type = AP_DB_T_TEXT;
	b->p = ap_xmalloc(n + 1);
	memcpy(b->p, s, n);
	b->p[n] = '\0';
	b->len = n;
	return AP_DB_OK;
}

enum ap_db_rc
ap_db_bind_blob(struct ap_db_stmt *st, int idx, const void *p, size_t len)
{
	struct ap_db_bind *b = bind_slot(st, idx);

	if (b == NULL)
		return AP_DB_EINVAL;
	b->type = AP_DB_T_BLOB;
	b->p = ap_xmalloc(len + 1);
	if (len)
		memcpy(b->p, p, len);
	b->p[len] = '\0';
	b->len = len;
	return AP_DB_OK;
}

enum ap_db_rc
ap_db_bind_null(struct ap_db_stmt *st, int idx)
{
	return bind_slot(st, idx) ? AP_DB_OK : AP_DB_EINVAL;
}

static enum ap_db_rc simple(struct ap_db *db, const char *sql);

static enum ap_db_rc
unit_open(struct ap_db *db)
{
	enum ap_db_rc rc = simple(db, "BEGIN");

	if (rc == AP_DB_OK) {
		db->in_tx = true;
		db->unit = UNIT_OPEN;
		db->depth = 0;
	}
	return rc;
}

static enum ap_db_rc
unit_broken(struct ap_db *db)
{
	return ap_db_set_error(db, AP_DB_ECONN,
	    "the database connection was lost during this change; none of it was saved");
}

/* Before a statement's first step inside a unit: open the unit at the first
 * write; *sp: a savepoint of the statement's own was set (PostgreSQL). */
static enum ap_db_rc
unit_before(struct ap_db_stmt *st, bool *sp)
{
	struct ap_db *db = st->db;
	enum ap_db_rc rc;

	*sp = false;
	if (db->unit == UNIT_BROKEN && !st->read_only)
		return unit_broken(db);
	if (db->unit == UNIT_PENDING && !st->read_only && (rc = unit_open(db)) != AP_DB_OK)
		return rc;
	if (db->unit == UNIT_OPEN && db->depth == 0 && db->drv->backend == AP_DB_PGSQL) {
		if ((rc = db->drv->exec_simple(db, "SAVEPOINT ap_stmt")) != AP_DB_OK)
			return rc;
		*sp = true;
	}
	return AP_DB_OK;
}

/* After it: a refused statement undone alone, its savepoint released. The
 * statement's own error message is kept. */
static void
unit_after(struct ap_db *db, bool sp, enum ap_db_rc rc)
{
	char keep[sizeof(db->errmsg)];

	if (!sp || !db->in_tx || !db->connected)
		return;
	memcpy(keep, db->errmsg, sizeof(keep));
	if (rc != AP_DB_ROW && rc != AP_DB_DONE && rc != AP_DB_OK)
		(void)db->drv->exec_simple(db, "ROLLBACK TO SAVEPOINT ap_stmt");
	(void)db->drv->exec_simple(db, "RELEASE SAVEPOINT ap_stmt");
	memcpy(db->errmsg, keep, sizeof(keep));
}

enum ap_db_rc
ap_db_step(struct ap_db_stmt *st)
{
	struct ap_db *db = st->db;
	bool first = !st->executed, sp = false;
	enum ap_db_rc rc;

	if (first) {
		if (!st->read_only && (rc = reopen_for_write(db, st)) != AP_DB_OK)
			return rc;
		rc = revive_idle(db);
		if (rc != AP_DB_OK)
			return rc;
		if (db->unit != UNIT_NONE && (rc = unit_before(st, &sp)) != AP_DB_OK)
			return rc;
		rc = ensure_prepared(st);
		if (rc != AP_DB_OK) {
			unit_after(db, sp, rc);
			return rc;
		}
		st->changes = 0;
		st->last_id = 0;
		st->sent = false;
	}
	st->executed = true;
	rc = db->drv->step(st);
	if (first)
		unit_after(db, sp, rc);
	if (rc == AP_DB_ECONN && first && !db->in_tx && (!st->sent || st->read_only)) {
		/* Once, transparently: the statement never reached the server, or
		 * it only reads. */
		AP_WARN("lost the %s connection (%s); reconnecting and running the %s once more",
		    ap_db_backend_name(db->drv->backend), db->errmsg,
		    st->sent ? "read-only statement" : "unsent statement");
		db->drv->reset(st);
		if (reconnect(db) != AP_DB_OK)
			return AP_DB_ECONN;
		rc = ensure_prepared(st);
		if (rc != AP_DB_OK)
			return rc;
		st->sent = false;
		rc = db->drv->step(st);
	} else if (rc == AP_DB_ECONN && first && !db->in_tx) {
		/* The server may have committed it before the connection broke:
		 * running it again could write twice. */
		AP_WARN("lost the %s connection after sending a write (%s); not running it again, "
			"its outcome is unknown",
		    ap_db_backend_name(db->drv->backend), db->errmsg);
	}
	if (rc == AP_DB_ECONN) {
		db->drv->disconnect(db);
		db->connected = false;
		db->in_tx = false;
		if (db->unit == UNIT_OPEN) {
			db->unit = UNIT_BROKEN;
			db->depth = 0;
		}
	}
	/* SQLite opens a file it may not write read-only, and such a connection
	 * stays read-only: reopen at the next statement, so that a database
	 * made writable again is written without a restart. */
	if (rc == AP_DB_EREADONLY && !db->in_tx && db->drv->backend == AP_DB_SQLITE) {
		db->drv->disconnect(db);
		db->connected = false;
	} else if (rc == AP_DB_EREADONLY) {
		db->reopen_for_write = true; /* at the next write outside a transaction */
	}
	return rc;
}

enum ap_db_rc
ap_db_reset(struct ap_db_stmt *st)
{
	if (st->executed && st->generation == st->db->generation && st->db->connected)
		st->db->drv->reset(st);
	st->executed = false;
	return AP_DB_OK;
}

int
ap_db_col_count(struct ap_db_stmt *st)
{
	return st->db->drv->col_count(st);
}

enum ap_db_type
ap_db_col_type(struct ap_db_stmt *st, int col)
{
	return st->db->drv->col_type(st, col);
}

bool
ap_db_col_is_null(struct ap_db_stmt *st, int col)
{
	return st->db->drv->col_type(st, col) == AP_DB_T_NULL;
}

int64_t
ap_db_col_int64(struct ap_db_stmt *st, int col)
{
	return st->db->drv->col_int64(st, col);
}

double
ap_db_col_double(struct ap_db_stmt *st, int col)
{
	return st->db->drv->col_double(st, col);
}

const char *
ap_db_col_text(struct ap_db_stmt *st, int col, size_t *len)
{
	return st->db->drv->col_text(st, col, len);
}

const void *
ap_db_col_blob(struct ap_db_stmt *st, int col, size_t *len)
{
	return st->db->drv->col_blob(st, col, len);
}

const char *
ap_db_col_name(struct ap_db_stmt *st, int col)
{
	return st->db->drv->col_name(st, col);
}

int64_t
ap_db_changes(struct ap_db_stmt *st)
{
	return st->changes;
}

int64_t
ap_db_last_insert_id(struct ap_db_stmt *st)
{
	return st->last_id;
}

/* ---------------------------------------------------------------- transactions, helpers */

static enum ap_db_rc
simple(struct ap_db *db, const char *sql)
{
	enum ap_db_rc rc;

	if (!db->connected && (rc = reconnect(db)) != AP_DB_OK)
		return rc;
	if ((rc = revive_idle(db)) != AP_DB_OK) /* BEGIN on a closed connection */
		return rc;
	rc = db->drv->exec_simple(db, sql);
	if (rc == AP_DB_ECONN) {
		db->drv->disconnect(db);
		db->connected = false;
	} else if (rc == AP_DB_EREADONLY) {
		db->reopen_for_write = true; /* a COMMIT refused: see reopen_for_write */
	}
	return rc;
}

/* SAVEPOINT / RELEASE / ROLLBACK TO of the unit's nesting level n. */
static enum ap_db_rc
savepoint(struct ap_db *db, const char *verb, int n)
{
	char sql[64];

	snprintf(sql, sizeof(sql), "%s ap_sp%d", verb, n);
	return simple(db, sql);
}

static void
unit_lost(struct ap_db *db)
{
	if (db->unit == UNIT_OPEN && !db->connected) {
		db->unit = UNIT_BROKEN;
		db->depth = 0;
		db->in_tx = false;
	}
}

enum ap_db_rc
ap_db_begin(struct ap_db *db)
{
	enum ap_db_rc rc;

	if (db->unit == UNIT_BROKEN)
		return unit_broken(db);
	if (!db->in_tx && (rc = reopen_for_write(db, NULL)) != AP_DB_OK)
		return rc;
	if (db->unit == UNIT_PENDING && !db->in_tx && (rc = unit_open(db)) != AP_DB_OK)
		return rc;
	if (db->unit == UNIT_OPEN) {
		rc = savepoint(db, "SAVEPOINT", db->depth + 1);
		if (rc == AP_DB_OK)
			db->depth++;
		unit_lost(db);
		return rc;
	}
	if (db->in_tx)
		return ap_db_set_error(db, AP_DB_EINVAL, "a transaction is already open");
	rc = simple(db, "BEGIN");
	if (rc == AP_DB_OK)
		db->in_tx = true;
	return rc;
}

enum ap_db_rc
ap_db_commit(struct ap_db *db)
{
	enum ap_db_rc rc;

	if (db->unit == UNIT_OPEN && db->depth > 0) {
		rc = savepoint(db, "RELEASE SAVEPOINT", db->depth);
		db->depth--;
		unit_lost(db);
		return rc;
	}
	if (db->unit == UNIT_OPEN || db->unit == UNIT_BROKEN)
		return ap_db_set_error(db, AP_DB_EINVAL, "the unit of work commits at its end");
	if (!db->in_tx)
		return ap_db_set_error(db, AP_DB_EINVAL, "no transaction is open");
	rc = simple(db, "COMMIT");
	db->in_tx = false;
	return rc;
}

enum ap_db_rc
ap_db_rollback(struct ap_db *db)
{
	enum ap_db_rc rc;

	/* After a failed COMMIT the transaction is over already: nothing to do, and
	 * the commit's own error message stays for the caller to log.
	 * regression: this replaced it with "no transaction is open" */
	if (db->unit == UNIT_OPEN && db->depth > 0) {
		rc = savepoint(db, "ROLLBACK TO SAVEPOINT", db->depth);
		if (rc == AP_DB_OK)
			rc = savepoint(db, "RELEASE SAVEPOINT", db->depth);
		db->depth--;
		unit_lost(db);
		return rc;
	}
	if (db->unit == UNIT_BROKEN)
		return AP_DB_ECONN;
	if (!db->in_tx)
		return AP_DB_OK;
	db->in_tx = false;
	if (db->unit == UNIT_OPEN)
		db->unit = UNIT_BROKEN; /* rolled back whole: what follows must not autocommit */
	if (!db->connected)
		return AP_DB_ECONN; /* the server rolled back when it dropped us */
	rc = simple(db, "ROLLBACK");
	return rc;
}

void
ap_db_unit_begin(struct ap_db *db)
{
	if (db != NULL && db->unit == UNIT_NONE && !db->in_tx) {
		(void)reopen_for_write(db, NULL); /* failed: the next statement reconnects */
		db->unit = UNIT_PENDING;
		db->depth = 0;
	}
}

enum ap_db_rc
ap_db_unit_end(struct ap_db *db, bool commit)
{
	enum ap_db_rc rc = AP_DB_OK;

	if (db == NULL)
		return AP_DB_OK;
	switch (db->unit) {
	case UNIT_OPEN:
		while (db->depth > 0 && db->unit == UNIT_OPEN) {
			AP_WARN("a transaction of this change was left open; rolling it back");
			ap_db_rollback(db);
		}
		if (db->unit != UNIT_OPEN) {
			rc = unit_broken(db);
			break;
		}
		db->unit = UNIT_NONE;
		if (commit) {
			rc = simple(db, "COMMIT");
			db->in_tx = false;
		} else
			rc = ap_db_rollback(db);
		break;
	case UNIT_BROKEN:
		rc = unit_broken(db);
		break;
	default:
		break;
	}
	db->unit = UNIT_NONE;
	db->depth = 0;
	return rc;
}

bool
ap_db_unit_open(const struct ap_db *db)
{
	return db != NULL && db->unit == UNIT_OPEN;
}

bool
ap_db_unit_pause(struct ap_db *db)
{
	if (db == NULL || db->unit != UNIT_PENDING)
		return false;
	db->unit = UNIT_PAUSED;
	return true;
}

bool
ap_db_has_notify(const struct ap_db *db)
{
	return db != NULL && db->drv->wait_notify != NULL;
}

/* Channel names: constant words only, never input. */
static bool
channel_ok(const char *c)
{
	size_t n = 0;

	for (; c != NULL && c[n] != '\0'; n++)
		if (!((c[n] >= 'a' && c[n] <= 'z') || c[n] == '_') || n >= 63)
			return false;
	return n > 0;
}

enum ap_db_rc
ap_db_listen(struct ap_db *db, const char *channel)
{
	char sql[96];

	if (!ap_db_has_notify(db) || !channel_ok(channel))
		return ap_db_set_error(db, AP_DB_EINVAL, "no notifications on this backend");
	snprintf(sql, sizeof(sql), "LISTEN %s", channel);
	return simple(db, sql);
}

enum ap_db_rc
ap_db_notify(struct ap_db *db, const char *channel)
{
	char sql[96];

	if (!ap_db_has_notify(db))
		return AP_DB_OK;
	if (!channel_ok(channel))
		return ap_db_set_error(db, AP_DB_EINVAL, "bad channel name");
	snprintf(sql, sizeof(sql), "NOTIFY %s", channel);
	return simple(db, sql);
}

int
ap_db_wait_notify(struct ap_db *db, int timeout_ms)
{
	int r;

	if (!ap_db_has_notify(db) || !db->connected) {
		struct timespec ts = { timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L };

		while (nanosleep(&ts, &ts) != 0)
			;
		return ap_db_has_notify(db) ? -(int)AP_DB_ECONN : 0;
	}
	r = db->drv->wait_notify(db, timeout_ms);
	if (r == -(int)AP_DB_ECONN) {
		db->drv->disconnect(db);
		db->connected = false;
		db->in_tx = false;
	}
	return r;
}

void
ap_db_unit_resume(struct ap_db *db, bool paused)
{
	if (db != NULL && paused && db->unit == UNIT_PAUSED)
		db->unit = UNIT_PENDING;
}

bool
ap_db_in_transaction(const struct ap_db *db)
{
	return db->in_tx;
}

enum ap_db_rc
ap_db_exec_script(struct ap_db *db, const char *sql)
{
	enum ap_db_rc rc;

	if (!db->connected && (rc = reconnect(db)) != AP_DB_OK)
		return rc;
	idle_flush(db);
	return db->drv->exec_script(db, sql);
}

char *
ap_db_quote(struct ap_db *db, const char *s, bool ident)
{
	if (db == NULL || s == NULL || db->drv->quote == NULL)
		return NULL;
	if (!db->connected && reconnect(db) != AP_DB_OK)
		return NULL;
	return db->drv->quote(db, s, ident);
}

enum ap_db_rc
ap_db_exec_ddl(struct ap_db *db, const char *sql)
{
	enum ap_db_rc rc;

	if (db->in_tx)
		return ap_db_set_error(db, AP_DB_EINVAL, "DDL inside a transaction");
	if (!db->connected && (rc = reconnect(db)) != AP_DB_OK)
		return rc;
	return db->drv->exec_simple(db, sql);
}

const char *
ap_db_server_version(struct ap_db *db)
{
	if (db == NULL || !db->connected || db->drv->server_version == NULL)
		return NULL;
	return db->drv->server_version(db);
}

enum ap_db_rc
ap_db_exec(struct ap_db *db, const char *sql)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc = ap_db_prepare(db, sql, &st);

	if (rc != AP_DB_OK)
		return rc;
	do
		rc = ap_db_step(st);
	while (rc == AP_DB_ROW);
	ap_db_finalize(st);
	return rc == AP_DB_DONE ? AP_DB_OK : rc;
}

enum ap_db_rc
ap_db_query_int64(struct ap_db *db, const char *sql, int64_t *out)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc = ap_db_prepare(db, sql, &st);

	if (rc != AP_DB_OK)
		return rc;
	rc = ap_db_step(st);
	if (rc == AP_DB_ROW) {
		*out = ap_db_col_int64(st, 0);
		rc = AP_DB_OK;
	} else if (rc == AP_DB_DONE)
		rc = AP_DB_ENOTFOUND;
	ap_db_finalize(st);
	return rc;
}
