/*
 * db_int.h — what the database drivers share with db.c and db_text.c. Each driver
 * implements struct ap_db_driver; its connection struct starts with struct
 * ap_db and its statement struct with struct ap_db_stmt (base first, so
 * the generic code can hold either).
 */
#ifndef AAPANEL_DB_INT_H
#define AAPANEL_DB_INT_H

#include "aapanel/db.h"
#include "aapanel/dsn.h"

struct ap_db_driver;

/* How many finalized statements a connection keeps prepared for reuse. */
#define AP_DB_IDLE_MAX 64


struct ap_db {
	const struct ap_db_driver *drv;
	struct ap_db_dsn dsn;
	char *password;
	int connect_timeout_ms;
	int query_timeout_ms;
	bool connected;
	bool in_tx;
	int unit;  /* enum db_unit (db.c): the request's unit of work */
	int depth; /* savepoints open inside the unit */
	unsigned generation;      /* bumped on every (re)connect; stmts compare */
	struct ap_db_stmt *stmts; /* all live statements (list) */
	struct ap_db_stmt *cache[32]; /* ap_db_prepare_cached, in insertion order */
	int ncache;
	/* Statements finalized by their caller, kept prepared for the next
	 * ap_db_prepare of the same text (oldest first; see park() in db.c). */
	struct ap_db_stmt *idle[AP_DB_IDLE_MAX];
	int nidle;
	bool closing;
	bool reopen_for_write; /* a write was refused (EREADONLY): reopen before the next one */
	char errmsg[512];
};

struct ap_db_stmt {
	struct ap_db *db;
	struct ap_db_stmt *next, *prev;
	char *sql;          /* as given (with ?), for re-prepare */
	char *id_column;    /* prepare_insert: generated key column, else NULL */
	unsigned generation; /* connection generation it was prepared on; 0 = not prepared */
	int nparams;        /* number of ? */
	/* Binds, kept by the generic layer so a re-prepare can re-apply them. */
	struct ap_db_bind {
		enum ap_db_type type;
		int64_t i;
		double d;
		char *p;  /* text (NUL-terminated) or blob, owned */
		size_t len;
	} *binds;
	bool executed;      /* step ran since the last reset */
	bool read_only;     /* ap_db_sql_is_read_only(sql): safe to run twice */
	bool sent;          /* set by the driver's step: the statement left the client */
	bool cached;        /* owned by the connection's statement cache */
	bool parked;        /* finalized, kept in db->idle for reuse */
	uint32_t hash;      /* of sql (and id_column): the idle pool's key */
	int64_t changes;
	int64_t last_id;
};

/*
 * A driver. Every function returns an enum ap_db_rc and, on error, writes
 * the backend's message into db->errmsg (ap_db_set_error). The generic
 * layer owns the base structs' fields; drivers own what follows them.
 */
struct ap_db_driver {
	enum ap_db_backend backend;
	size_t db_size;   /* sizeof the driver's connection struct */
	size_t stmt_size; /* sizeof the driver's statement struct */

	/* Connect using db->dsn, db->password, timeouts. Sets session options
	 * (per-query timeout, UTF-8, SQLite pragmas). */
	enum ap_db_rc (*connect)(struct ap_db *db);
	/* Drop the connection and every backend statement handle (stmts stay
	 * in the list; their generation no longer matches). */
	void (*disconnect)(struct ap_db *db);

	/* Prepare st->sql (id_column set: insert returning a key). */
	enum ap_db_rc (*prepare)(struct ap_db_stmt *st);
	void (*finalize)(struct ap_db_stmt *st); /* backend handle only */

	/* Execute with st->binds (first call after reset) or fetch the next row.
	 * On the first call it sets st->sent once the statement may have reached
	 * the server (and leaves it false when sending itself failed): a write
	 * that was sent is never run again after a lost connection. */
	enum ap_db_rc (*step)(struct ap_db_stmt *st);
	void (*reset)(struct ap_db_stmt *st); /* forget the result */

	int (*col_count)(struct ap_db_stmt *st);
	enum ap_db_type (*col_type)(struct ap_db_stmt *st, int col);
	int64_t (*col_int64)(struct ap_db_stmt *st, int col);
	double (*col_double)(struct ap_db_stmt *st, int col);
	const char *(*col_text)(struct ap_db_stmt *st, int col, size_t *len);
	const void *(*col_blob)(struct ap_db_stmt *st, int col, size_t *len);
	const char *(*col_name)(struct ap_db_stmt *st, int col);

	/* False when the server closed this idle connection (readable or hung
	 * up with no statement running), without a round trip; NULL: no server. */
	bool (*alive)(struct ap_db *db);

	/* BEGIN / COMMIT / ROLLBACK and a multi-statement script. */
	enum ap_db_rc (*exec_simple)(struct ap_db *db, const char *sql);
	enum ap_db_rc (*exec_script)(struct ap_db *db, const char *sql);

	/* The backend's own quoting of s as an identifier (ident) or a string
	 * literal, quotes included; malloc'd, NULL when it cannot (not
	 * connected, invalid text). */
	char *(*quote)(struct ap_db *db, const char *s, bool ident);
	/* The server's version string (borrowed), NULL when not connected. */
	const char *(*server_version)(struct ap_db *db);
	/* Wait up to timeout_ms for a notification (LISTEN) and consume every
	 * one that came: 1 some came, 0 none, AP_DB_ECONN as a negative -rc when
	 * the connection broke. NULL: the backend has none (polling instead). */
	int (*wait_notify)(struct ap_db *db, int timeout_ms);
	/* True when this connection was opened read-only and stays so whatever
	 * the file does now (SQLite); NULL: a server's connection never is. */
	bool (*read_only)(struct ap_db *db);
};

extern const struct ap_db_driver ap_db_sqlite_driver;
extern const struct ap_db_driver ap_db_mysql_driver;
extern const struct ap_db_driver ap_db_pgsql_driver;

/* Record an error message (printf-style) on db. Returns rc for chaining. */
enum ap_db_rc ap_db_set_error(struct ap_db *db, enum ap_db_rc rc, const char *fmt, ...)
    AP_PRINTF(3, 4);

/* Count `?` placeholders outside '…' and "…" quotes. */
int ap_db_count_params(const char *sql);
/* Rewrite ? → $1, $2 … outside quotes (PostgreSQL). malloc'd. */
char *ap_db_rewrite_params_pg(const char *sql);
/* Split a script into statements ending with ';' at end of line. Calls fn
 * for each statement (NUL-terminated, without the ';'). Stops on error. */
enum ap_db_rc ap_db_script_each(struct ap_db *db, const char *sql,
    enum ap_db_rc (*fn)(struct ap_db *db, const char *stmt));

#endif
