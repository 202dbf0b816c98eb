/*
 * db.h — one database API over SQLite (embedded default), MariaDB/MySQL and
 * PostgreSQL, chosen by the DSN alone.
 *
 * SQL is written once with `?` placeholders; the PostgreSQL driver rewrites
 * them to $1, $2 … outside quotes. Values only ever travel as typed binds:
 * no SQL text is built from input, and identifiers come from constants.
 *
 * Statements:
 *   ap_db_prepare → ap_db_bind_* (1-based) → ap_db_step until AP_DB_DONE
 *   (AP_DB_ROW: read columns, 0-based) → ap_db_reset to run again →
 *   ap_db_finalize. Column values are borrowed until the next step, reset
 *   or finalize.
 *
 * Errors are mapped to one set of classes across backends; the backend's
 * own message is kept (ap_db_errmsg) for the log, never shown to users.
 *
 * A lost connection is re-established transparently outside a
 * transaction, but a statement is only ever run again when that cannot
 * repeat a write:
 *   - before a statement is sent, an idle connection the server has closed
 *     (restart, idle timeout) is noticed without a round trip and reopened;
 *   - a statement that never left the client (the send itself failed) is
 *     run again once on a new connection;
 *   - a read-only statement (ap_db_sql_is_read_only) is run again once even
 *     when the connection broke after it was sent;
 *   - a write that was sent and whose reply was lost is NOT run again: the
 *     server may have committed it. The caller gets AP_DB_ECONN (the next
 *     statement reconnects) and must not assume either outcome.
 * Inside a transaction the caller gets AP_DB_ECONN and must start over.
 *
 * A connection that cannot write is opened again before the next write
 * outside a transaction (a statement's first step, BEGIN, a unit's first
 * write): one that SQLite opened while the file or its mount refused writes
 * (it stays read-only), and one on which a write was refused (AP_DB_EREADONLY,
 * inside a transaction too). So the first change after a read-only fault
 * ends succeeds, in every process, without a restart.
 */
#ifndef AAPANEL_DB_H
#define AAPANEL_DB_H

#include <sys/types.h>

#include "aapanel/common.h"

enum ap_db_backend {
	AP_DB_SQLITE,
	AP_DB_MYSQL,
	AP_DB_PGSQL,
	AP_DB__MAX
};

/* Result of every call. Values below 0 are errors, by class. */
enum ap_db_rc {
	AP_DB_OK = 0,
	AP_DB_ROW = 1,         /* ap_db_step: a row is available */
	AP_DB_DONE = 2,        /* ap_db_step: no (more) rows */
	AP_DB_ECONSTRAINT = -1, /* unique, foreign key, not null, check violation */
	AP_DB_ENOTFOUND = -2,  /* helpers expecting one row found none */
	AP_DB_ECONN = -3,      /* connection lost / server unreachable */
	AP_DB_ETIMEOUT = -4,   /* query or lock wait timed out */
	AP_DB_EINVAL = -5,     /* misuse: bad DSN, bad index, wrong type */
	AP_DB_EOTHER = -6,     /* anything else (syntax error, ...) */
	AP_DB_EREADONLY = -7,  /* the database refuses writes: a read-only file, mount or server */
	AP_DB_EFULL = -8       /* no room for the write: the disk (or a quota) is full */
};

enum ap_db_type {
	AP_DB_T_NULL,
	AP_DB_T_INT,
	AP_DB_T_DOUBLE,
	AP_DB_T_TEXT,
	AP_DB_T_BLOB
};

struct ap_db;
struct ap_db_stmt;

struct ap_db_opts {
	const char *dsn;        /* sqlite:/abs/path | sqlite:///abs | mysql://… | postgresql://… */
	const char *password;   /* NULL = none; never part of the DSN */
	int connect_timeout_ms; /* 0 = 5000 */
	int query_timeout_ms;   /* per statement; 0 = 10000 */
};

/* Short class name for logs: "constraint", "not found", "connection lost"... */
const char *ap_db_rc_str(enum ap_db_rc rc);
/* "sqlite", "mysql", "postgresql". */
const char *ap_db_backend_name(enum ap_db_backend b);

/*
 * Connect. On failure *out is still set (so ap_db_errmsg works) unless the
 * DSN itself is invalid (AP_DB_EINVAL, *out NULL). Free with ap_db_close.
 * SQLite: WAL, busy timeout = query timeout, foreign keys on.
 */
enum ap_db_rc ap_db_open(const struct ap_db_opts *o, struct ap_db **out);
/* Finalizes remaining statements too. NULL is a no-op. */
void ap_db_close(struct ap_db *db);
enum ap_db_backend ap_db_backend(const struct ap_db *db);
/* The backend's message for the last error (borrowed; "" when none). */
const char *ap_db_errmsg(const struct ap_db *db);
/* True when the connection is believed usable (no check round trip). */
bool ap_db_connected(const struct ap_db *db);
/* Round trip (SELECT 1), reconnecting once if needed. */
enum ap_db_rc ap_db_ping(struct ap_db *db);
/*
 * Whether the database accepts a write, without changing anything: an
 * UPDATE of schema_migrations that matches no row (the table the data
 * layer itself keeps). AP_DB_OK, AP_DB_EREADONLY (a read-only file, mount,
 * transaction or server), or another class. Run again once when the first
 * try finds the connection read-only: SQLite keeps a connection opened on
 * a read-only file read-only, and the first failure reopens it. A full
 * disk is not seen here (nothing is written): check the free space.
 */
enum ap_db_rc ap_db_probe_write(struct ap_db *db);
/* SQLite: the database file's path (borrowed); NULL for a database server. */
const char *ap_db_file(const struct ap_db *db);

/*
 * Prepare sql. Statements belong to db and are re-prepared by it after a
 * reconnect. Free with ap_db_finalize (or ap_db_close). A finalized
 * statement stays prepared in a pool of its connection (the newest 64,
 * without their binds) and the next ap_db_prepare of the same text takes it
 * back: a request's statements are prepared once per connection, not once
 * per request. A reconnect, ap_db_exec_script and DDL (CREATE, ALTER,
 * DROP) empty the pool.
 */
enum ap_db_rc ap_db_prepare(struct ap_db *db, const char *sql, struct ap_db_stmt **out);
/*
 * Prepare an INSERT whose generated key is id_column: PostgreSQL appends
 * RETURNING id_column; the others use the driver's last insert id.
 * After AP_DB_DONE, ap_db_last_insert_id gives the key.
 */
enum ap_db_rc ap_db_prepare_insert(struct ap_db *db, const char *sql, const char *id_column,
    struct ap_db_stmt **out);
void ap_db_finalize(struct ap_db_stmt *st);
/*
 * A statement the connection keeps for reuse (hot paths: one prepare per
 * connection, then only bind/step). It comes back reset, with its old binds;
 * ap_db_finalize on it only resets it. Owned by db; valid until ap_db_close.
 * sql should be a constant: it is the cache key.
 */
enum ap_db_rc ap_db_prepare_cached(struct ap_db *db, const char *sql, struct ap_db_stmt **out);

enum ap_db_rc ap_db_bind_int64(struct ap_db_stmt *st, int idx, int64_t v);
enum ap_db_rc ap_db_bind_double(struct ap_db_stmt *st, int idx, double v);
/* len < 0: strlen. Copied; s may be freed after the call. */
enum ap_db_rc ap_db_bind_text(struct ap_db_stmt *st, int idx, const char *s, ssize_t len);
enum ap_db_rc ap_db_bind_blob(struct ap_db_stmt *st, int idx, const void *p, size_t len);
enum ap_db_rc ap_db_bind_null(struct ap_db_stmt *st, int idx);

/* Run (first call) or advance. AP_DB_ROW, AP_DB_DONE, or an error class
 * (see the header comment for when a lost connection is retried). */
enum ap_db_rc ap_db_step(struct ap_db_stmt *st);
/* True when sql only reads, so running it twice is harmless: its first
 * keyword, after white space and comments, is SELECT. */
bool ap_db_sql_is_read_only(const char *sql);
/* Forget the result so the statement can run again; binds are kept. */
enum ap_db_rc ap_db_reset(struct ap_db_stmt *st);

int ap_db_col_count(struct ap_db_stmt *st);
enum ap_db_type ap_db_col_type(struct ap_db_stmt *st, int col);
bool ap_db_col_is_null(struct ap_db_stmt *st, int col);
int64_t ap_db_col_int64(struct ap_db_stmt *st, int col);
double ap_db_col_double(struct ap_db_stmt *st, int col);
/* NUL-terminated, borrowed; *len (may be NULL) gets the length. NULL for SQL NULL. */
const char *ap_db_col_text(struct ap_db_stmt *st, int col, size_t *len);
const void *ap_db_col_blob(struct ap_db_stmt *st, int col, size_t *len);
/* Column name (borrowed). */
const char *ap_db_col_name(struct ap_db_stmt *st, int col);

/* Rows changed by the last INSERT/UPDATE/DELETE of st. */
int64_t ap_db_changes(struct ap_db_stmt *st);
int64_t ap_db_last_insert_id(struct ap_db_stmt *st);

/* BEGIN; AP_DB_EINVAL when a transaction is open already. */
enum ap_db_rc ap_db_begin(struct ap_db *db);
/* COMMIT; the transaction is over afterwards whether it worked or not. */
enum ap_db_rc ap_db_commit(struct ap_db *db);
/*
 * ROLLBACK an open transaction. With none open (after a failed commit) it
 * does nothing and returns AP_DB_OK, leaving the last error message as it
 * was; AP_DB_ECONN when the connection was lost (the server rolled back).
 */
enum ap_db_rc ap_db_rollback(struct ap_db *db);
bool ap_db_in_transaction(const struct ap_db *db);

/*
 * A unit of work: everything a request writes, and its audit row, in one
 * transaction, so a process killed between a change and its audit row
 * leaves neither (issue 19). ap_db_unit_begin starts nothing yet: BEGIN is
 * sent before the first statement that writes (or the first ap_db_begin),
 * so reads before it hold no lock. Inside the open unit ap_db_begin /
 * commit / rollback become SAVEPOINT / RELEASE / ROLLBACK TO (a data
 * module's own transaction still undoes just its part), and on PostgreSQL
 * every statement outside them gets a savepoint of its own, so a refused
 * statement (a duplicate name) is undone alone, as it was in autocommit,
 * instead of aborting the unit. A lost connection breaks the unit: later
 * writes fail with AP_DB_ECONN and so does ap_db_unit_end.
 */
void ap_db_unit_begin(struct ap_db *db);
/* True while a unit's transaction is open (BEGIN sent): statements in it at
 * the top level each cost a savepoint on PostgreSQL; several in a row go
 * cheaper inside one ap_db_begin/commit. */
bool ap_db_unit_open(const struct ap_db *db);
/* Commit (commit true) or roll back the unit; AP_DB_OK when nothing was
 * written. Savepoints left open are rolled back first. */
enum ap_db_rc ap_db_unit_end(struct ap_db *db, bool commit);
/* For a write other workers and hosts must see at once (a sign-in attempt
 * the throttle counts): true when the unit had not begun and its writes
 * now run on their own until ap_db_unit_resume(db, true); false (nothing
 * changed) when the unit has begun already or there is none. */
bool ap_db_unit_pause(struct ap_db *db);
void ap_db_unit_resume(struct ap_db *db, bool paused);

/*
 * Notifications between connections, for events that must reach every host
 * at once: PostgreSQL's LISTEN/NOTIFY; the other backends have none and
 * their callers poll. ap_db_listen: LISTEN channel (a constant word);
 * AP_DB_EINVAL when the backend has no notifications. ap_db_notify: NOTIFY
 * channel (a no-op returning AP_DB_OK elsewhere). ap_db_wait_notify: wait
 * up to timeout_ms on a listening connection; 1 when notifications came
 * (all consumed), 0 when none, a negative enum ap_db_rc when it failed;
 * elsewhere it sleeps timeout_ms and returns 0.
 */
bool ap_db_has_notify(const struct ap_db *db);
enum ap_db_rc ap_db_listen(struct ap_db *db, const char *channel);
enum ap_db_rc ap_db_notify(struct ap_db *db, const char *channel);
int ap_db_wait_notify(struct ap_db *db, int timeout_ms);

/*
 * Run a script of several statements (migrations), each ending with ';'
 * at the end of a line. Not for data from requests.
 */
enum ap_db_rc ap_db_exec_script(struct ap_db *db, const char *sql);

/*
 * Quote s for the connected server with the driver's own escaping function
 * (MariaDB: mysql_real_escape_string, PostgreSQL: PQescapeIdentifier /
 * PQescapeLiteral, SQLite: sqlite3_mprintf %w / %Q): an identifier (ident)
 * or a string literal, quotes included. For statements that take no
 * placeholders (CREATE USER, GRANT); callers still validate identifiers
 * against a strict pattern first. malloc'd; NULL when not connected or s
 * is not valid text for the server.
 */
char *ap_db_quote(struct ap_db *db, const char *s, bool ident);
/*
 * Run one statement that cannot be prepared (CREATE DATABASE on
 * PostgreSQL) through the simple protocol, outside any transaction. sql
 * is built only from constants and ap_db_quote's output.
 */
enum ap_db_rc ap_db_exec_ddl(struct ap_db *db, const char *sql);
/* The server's version as it reports it (borrowed until ap_db_close); NULL when unknown. */
const char *ap_db_server_version(struct ap_db *db);

/* One-shot helpers: prepare, bind nothing, step once. */
enum ap_db_rc ap_db_exec(struct ap_db *db, const char *sql);
/* First column of the first row as int64; AP_DB_ENOTFOUND when no row. */
enum ap_db_rc ap_db_query_int64(struct ap_db *db, const char *sql, int64_t *out);

#endif
