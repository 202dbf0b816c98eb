/*
 * audit.h — the append-only audit log. Every state change from the UI, the
 * API or the CLI is recorded with who, from where, via what, the action,
 * its target, the outcome and before/after values (never secrets). Rows
 * form a hash chain: row_hash = SHA-256 over the previous row's hash and
 * the row's own fields, so an edited, inserted or removed row is found by
 * ap_audit_verify.
 */
#ifndef AAPANEL_AUDIT_H
#define AAPANEL_AUDIT_H

#include <stdio.h>

#include "aapanel/db.h"

struct ap_audit {
	const char *actor;       /* username, or "system" / "anonymous" */
	int64_t actor_user_id;   /* 0 = none */
	const char *addr;        /* client address; NULL for the CLI */
	const char *via;         /* "ui" | "api" | "cli" | "system" */
	const char *action;      /* "user.add", "login", "session.revoke_others", ... */
	const char *target;      /* NULL when none */
	const char *outcome;     /* "ok" | "denied" | "failed" */
	const char *before_json; /* NULL when none; never secrets */
	const char *after_json;
};

/*
 * Append one row stamped time(NULL), serialised against every other writer
 * (any worker, any host) by locking the single audit_head row inside a
 * transaction. If the caller already has a transaction open, the row joins
 * it and the caller commits or rolls back; otherwise it gets its own,
 * rolled back on failure. a and its strings are borrowed for the call.
 * Returns AP_DB_OK; AP_DB_EINVAL, with nothing written, when a is refused
 * (NULL, an unknown via, action or outcome not a word below, no actor, a
 * negative actor_user_id, text over the lengths below or not UTF-8);
 * AP_DB_ENOTFOUND when the audit_head row is missing (migration 0002 not
 * applied); else the error class of the failing call.
 */
enum ap_db_rc ap_audit_record(struct ap_db *db, const struct ap_audit *a);

/*
 * Walk the whole chain in id order, outside any transaction so writers are
 * never blocked (rows appended meanwhile are told apart from tampering).
 * *rows gets the number of rows read, *first_bad the id of the first row
 * whose hash or link is wrong, 0 when the chain is intact, -1 when its end
 * does not match the head (rows removed from the end, or added behind the
 * head). why (may be NULL) gets "intact", "row N: reason", the reason
 * alone for -1, or "cannot read the audit log: …". Returns AP_DB_OK for an
 * intact and for a broken chain alike, or the error class of a failing
 * read (AP_DB_ENOTFOUND without the head row), *rows and *first_bad then 0.
 */
enum ap_db_rc ap_audit_verify(struct ap_db *db, int64_t *rows, int64_t *first_bad, char *why,
    size_t whylen);

/*
 * The `aapanel audit verify` command: runs ap_audit_verify and prints
 * "audit log intact: N rows", "audit log BROKEN at row ID: why" or, when
 * the end does not match the head, "audit log BROKEN at the end: why" to
 * out ("audit log: cannot read the database: …" when it cannot). Returns
 * the exit status: 0 intact, 1 broken, 2 when the database could not be
 * read.
 */
int ap_auditcli_verify(struct ap_db *db, FILE *out);

/* Lengths enforced by ap_audit_record (bytes unless said otherwise). */
#define AP_AUDIT_WORD_MAX 64      /* action, outcome: [a-z0-9_.-]+ */
#define AP_AUDIT_TEXT_MAX 4096    /* actor, addr, target */
#define AP_AUDIT_TEXT_CHARS 255   /* ... and code points: VARCHAR(255) on MariaDB */
#define AP_AUDIT_JSON_MAX 65535   /* before_json, after_json: a MariaDB TEXT */

/* One stored row as read back; every pointer borrowed for the callback only. */
struct ap_audit_row {
	int64_t id;
	int64_t at;            /* unix seconds, UTC */
	const char *actor;
	int64_t actor_user_id; /* 0 = none */
	const char *addr;      /* NULL when none */
	const char *via;
	const char *action;
	const char *target;    /* NULL when none */
	const char *outcome;
	const char *before_json; /* NULL when none */
	const char *after_json;  /* NULL when none */
	const char *request_id;  /* the request that wrote it (hex), NULL when none (0013) */
};

/*
 * Which rows ap_audit_query returns. NULL or "" strings and 0 times mean "any";
 * strings match exactly; from/to are inclusive unix seconds. before_id > 0
 * keeps rows with a smaller id (the keyset of the next page, newest first).
 * limit must be 1..100000, offset >= 0.
 */
struct ap_audit_filter {
	const char *actor;
	const char *action;
	const char *outcome;
	int64_t from, to;
	int64_t before_id;
	int64_t limit, offset;
	const char *request; /* a request id: that request's rows */
};

/* Called once per row; return false to stop early (not an error). */
typedef bool (*ap_audit_row_fn)(void *arg, const struct ap_audit_row *row);

/*
 * Run the filtered SELECT, newest first (id descending), calling fn (not
 * NULL) per row; the row is borrowed for that call. The WHERE clause is
 * assembled from constant fragments only; every value travels as a bind.
 * AP_DB_EINVAL for a bad limit/offset (nothing run), else AP_DB_OK (also
 * when fn stopped early) or the error class of the failing call. *nrows
 * (may be NULL) gets the number of rows passed to fn, on failure too.
 */
enum ap_db_rc ap_audit_query(struct ap_db *db, const struct ap_audit_filter *f,
    ap_audit_row_fn fn, void *arg, int64_t *nrows);

/*
 * CSV export (RFC 4180). ap_audit_csv_cell appends one cell (NULL or "":
 * nothing; the separators are the caller's): quoted when it holds a comma,
 * quote, CR or LF, quotes doubled, and with a leading apostrophe when it
 * starts with = + - @ TAB or CR so spreadsheets never evaluate it as a
 * formula. Rows end with CRLF.
 */
void ap_audit_csv_cell(struct ap_buf *b, const char *s);
/* The header row: id,at,actor,actor_user_id,addr,via,action,target,outcome,before,after + CRLF. */
void ap_audit_csv_header(struct ap_buf *b);
/* One row in header order, `at` as ISO 8601 UTC ("2024-06-01T12:00:00Z"), actor_user_id 0 empty. */
void ap_audit_csv_row(struct ap_buf *b, const struct ap_audit_row *r);

/* Write at as "YYYY-MM-DDTHH:MM:SSZ" into out (21 bytes with NUL); the epoch if gmtime cannot. */
void ap_audit_iso8601(int64_t at, char out[21]);

#endif
