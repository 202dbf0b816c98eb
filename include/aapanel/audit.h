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
 * Append one row, serialised against every other writer (any worker, any
 * host) by locking the single audit_head row inside a transaction. If the
 * caller already has a transaction open, the row joins it.
 */
enum ap_db_rc ap_audit_record(struct ap_db *db, const struct ap_audit *a);

/*
 * Walk the whole chain in id order. *rows gets the number of rows checked,
 * *first_bad the id of the first row whose link or hash is wrong (0 when
 * the chain is intact; -1 when rows are missing at the end, i.e. the head
 * does not match the last row), why a human explanation.
 */
enum ap_db_rc ap_audit_verify(struct ap_db *db, int64_t *rows, int64_t *first_bad, char *why,
    size_t whylen);

#endif
