/*
 * db_sqlite.c — the SQLite driver (db_int.h): WAL, busy timeout, foreign
 * keys, and a per-statement deadline through the progress handler.
 */
#include <errno.h>
#include <sqlite3.h>
#include <string.h>

#include "aapanel/log.h"
#include "db_int.h"

struct sq_db {
	struct ap_db base;
	sqlite3 *h;
	uint64_t deadline_ms; /* 0 = none; checked by the progress handler */
	bool timed_out;
	/* Checkpoints (wal_hook): an episode of failures is logged when it
	 * starts and when it ends, not at every commit. */
	bool ckpt_failing;
	uint64_t ckpt_failing_since_ms;
	bool wal_big_told;
};

/* SQLite's own auto-checkpoint threshold: a checkpoint once the WAL holds this many pages. */
#define CKPT_PAGES 1000
/* Past this many pages the WAL is growing for want of complete checkpoints: said once. */
#define WAL_BIG_PAGES (CKPT_PAGES * 16)

struct sq_stmt {
	struct ap_db_stmt base;
	sqlite3_stmt *h;
	bool row;  /* a row is current */
};

static enum ap_db_rc
map_error(struct sq_db *db, int code)
{
	int primary = code & 0xff;
	enum ap_db_rc rc;

	if (primary == SQLITE_CONSTRAINT)
		rc = AP_DB_ECONSTRAINT;
	else if (primary == SQLITE_READONLY ||
	    (primary == SQLITE_IOERR && db->h && sqlite3_system_errno(db->h) == EROFS))
		rc = AP_DB_EREADONLY;
	else if (primary == SQLITE_FULL ||
	    (primary == SQLITE_IOERR && db->h &&
		(sqlite3_system_errno(db->h) == ENOSPC || sqlite3_system_errno(db->h) == EDQUOT ||
		    sqlite3_system_errno(db->h) == EFBIG)))
		rc = AP_DB_EFULL;
	else if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED ||
	    (primary == SQLITE_INTERRUPT && db->timed_out))
		rc = AP_DB_ETIMEOUT;
	else if (primary == SQLITE_CANTOPEN || primary == SQLITE_NOTADB)
		rc = AP_DB_ECONN;
	else
		rc = AP_DB_EOTHER;
	return ap_db_set_error(&db->base, rc, "%s", db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(code));
}

/* Abort a statement that runs past the query timeout. */
static int
progress(void *p)
{
	struct sq_db *db = p;

	if (db->deadline_ms && ap_now_ms() > db->deadline_ms) {
		db->timed_out = true;
		return 1;
	}
	return 0;
}

/*
 * After every commit (in place of SQLite's auto-checkpoint, which ignores
 * its own failures): once the WAL holds CKPT_PAGES pages, a passive
 * checkpoint, whose failure is logged once per episode and retried at the
 * next commit, and whose return is logged too. regression: with the disk
 * full the automatic checkpoints failed silently and the WAL grew without
 * bound
 */
static int
wal_hook(void *p, sqlite3 *h, const char *name, int pages)
{
	struct sq_db *db = p;
	int nlog = 0, nckpt = 0, rc;

	if (pages < CKPT_PAGES)
		return SQLITE_OK;
	rc = sqlite3_wal_checkpoint_v2(h, name, SQLITE_CHECKPOINT_PASSIVE, &nlog, &nckpt);
	if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
		if (!db->ckpt_failing) {
			db->ckpt_failing = true;
			db->ckpt_failing_since_ms = ap_now_ms();
			int e = sqlite3_system_errno(h);

			AP_WARN("sqlite: checkpoint of %s failed: %s%s%s; the WAL holds %d pages and grows "
				"until one succeeds; retrying after every commit",
			    db->base.dsn.path, sqlite3_errstr(rc), e ? ": " : "", e ? strerror(e) : "", pages);
		}
		return SQLITE_OK;
	}
	if (db->ckpt_failing) {
		db->ckpt_failing = false;
		AP_INFO("sqlite: checkpoints of %s work again after %.1f s (%d of %d WAL pages copied)",
		    db->base.dsn.path, (double)(ap_now_ms() - db->ckpt_failing_since_ms) / 1000.0, nckpt, nlog);
	}
	/* Complete or not (a reader may hold older pages), a checkpoint ran. A WAL
	 * far past the threshold means readers keep it from ever completing. */
	if (nlog >= WAL_BIG_PAGES && !db->wal_big_told) {
		db->wal_big_told = true;
		AP_WARN("sqlite: the WAL of %s has grown to %d pages: checkpoints cannot complete "
			"(%d pages copied); a long-running reader keeps it from being reset",
		    db->base.dsn.path, nlog, nckpt);
	} else if (nlog < CKPT_PAGES) {
		db->wal_big_told = false;
	}
	return SQLITE_OK;
}

static enum ap_db_rc
sq_connect(struct ap_db *base)
{
	struct sq_db *db = (struct sq_db *)base;
	static const char *const pragmas[] = {
		"PRAGMA journal_mode=WAL",
		"PRAGMA foreign_keys=ON",
		"PRAGMA synchronous=NORMAL",
	};
	int rc;

	rc = sqlite3_open_v2(base->dsn.path, &db->h,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		enum ap_db_rc r = ap_db_set_error(base, AP_DB_ECONN, "%s: %s", base->dsn.path,
		    db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc));
		sqlite3_close(db->h);
		db->h = NULL;
		return r;
	}
	sqlite3_extended_result_codes(db->h, 1);
	sqlite3_busy_timeout(db->h, base->query_timeout_ms);
	/* Our own checkpoints, with their failures logged (this replaces SQLite's
	 * automatic ones, which run at the same threshold). */
	sqlite3_wal_hook(db->h, wal_hook, db);
	sqlite3_progress_handler(db->h, 1000, progress, db);
	for (size_t i = 0; i < AP_NELEM(pragmas); i++) {
		rc = sqlite3_exec(db->h, pragmas[i], NULL, NULL, NULL);
		if (rc != SQLITE_OK) {
			enum ap_db_rc r = map_error(db, rc);
			sqlite3_close(db->h);
			db->h = NULL;
			return r == AP_DB_ETIMEOUT ? r : AP_DB_ECONN;
		}
	}
	return AP_DB_OK;
}

static void
sq_disconnect(struct ap_db *base)
{
	struct sq_db *db = (struct sq_db *)base;

	for (struct ap_db_stmt *s = base->stmts; s; s = s->next) {
		struct sq_stmt *st = (struct sq_stmt *)s;

		sqlite3_finalize(st->h);
		st->h = NULL;
		st->row = false;
		s->generation = 0;
	}
	sqlite3_close(db->h);
	db->h = NULL;
}

static enum ap_db_rc
sq_prepare(struct ap_db_stmt *s)
{
	struct sq_stmt *st = (struct sq_stmt *)s;
	struct sq_db *db = (struct sq_db *)s->db;
	int rc;

	sqlite3_finalize(st->h);
	st->h = NULL;
	rc = sqlite3_prepare_v3(db->h, s->sql, -1, SQLITE_PREPARE_PERSISTENT, &st->h, NULL);
	if (rc != SQLITE_OK)
		return map_error(db, rc);
	return AP_DB_OK;
}

static void
sq_finalize(struct ap_db_stmt *s)
{
	struct sq_stmt *st = (struct sq_stmt *)s;

	sqlite3_finalize(st->h);
	st->h = NULL;
}

static enum ap_db_rc
apply_binds(struct sq_db *db, struct sq_stmt *st)
{
	struct ap_db_stmt *s = &st->base;
	int rc = SQLITE_OK;

	for (int i = 0; i < s->nparams && rc == SQLITE_OK; i++) {
		const struct ap_db_bind *b = &s->binds[i];

		switch (b->type) {
		case AP_DB_T_NULL: rc = sqlite3_bind_null(st->h, i + 1); break;
		case AP_DB_T_INT: rc = sqlite3_bind_int64(st->h, i + 1, b->i); break;
		case AP_DB_T_DOUBLE: rc = sqlite3_bind_double(st->h, i + 1, b->d); break;
		case AP_DB_T_TEXT:
			rc = sqlite3_bind_text64(st->h, i + 1, b->p, b->len, SQLITE_STATIC, SQLITE_UTF8);
			break;
		case AP_DB_T_BLOB:
			rc = sqlite3_bind_blob64(st->h, i + 1, b->p, b->len, SQLITE_STATIC);
			break;
		}
	}
	return rc == SQLITE_OK ? AP_DB_OK : map_error(db, rc);
}

static enum ap_db_rc
sq_step(struct ap_db_stmt *s)
{
	struct sq_stmt *st = (struct sq_stmt *)s;
	struct sq_db *db = (struct sq_db *)s->db;
	enum ap_db_rc r;
	int rc;

	s->sent = true; /* no server: nothing is ever lost in transit */
	if (!st->row && sqlite3_stmt_busy(st->h) == 0) {
		sqlite3_reset(st->h);
		r = apply_binds(db, st);
		if (r != AP_DB_OK)
			return r;
	}
	db->timed_out = false;
	db->deadline_ms = ap_now_ms() + (uint64_t)s->db->query_timeout_ms;
	rc = sqlite3_step(st->h);
	db->deadline_ms = 0;
	if (rc == SQLITE_ROW) {
		st->row = true;
		return AP_DB_ROW;
	}
	st->row = false;
	if (rc == SQLITE_DONE) {
		s->changes = sqlite3_changes64(db->h);
		s->last_id = sqlite3_last_insert_rowid(db->h);
		return AP_DB_DONE;
	}
	r = map_error(db, rc);
	sqlite3_reset(st->h);
	return r;
}

static void
sq_reset(struct ap_db_stmt *s)
{
	struct sq_stmt *st = (struct sq_stmt *)s;

	if (st->h)
		sqlite3_reset(st->h);
	st->row = false;
}

static int
sq_col_count(struct ap_db_stmt *s)
{
	return sqlite3_column_count(((struct sq_stmt *)s)->h);
}

static enum ap_db_type
sq_col_type(struct ap_db_stmt *s, int col)
{
	switch (sqlite3_column_type(((struct sq_stmt *)s)->h, col)) {
	case SQLITE_INTEGER: return AP_DB_T_INT;
	case SQLITE_FLOAT: return AP_DB_T_DOUBLE;
	case SQLITE_TEXT: return AP_DB_T_TEXT;
	case SQLITE_BLOB: return AP_DB_T_BLOB;
	default: return AP_DB_T_NULL;
	}
}

static int64_t
sq_col_int64(struct ap_db_stmt *s, int col)
{
	return sqlite3_column_int64(((struct sq_stmt *)s)->h, col);
}

static double
sq_col_double(struct ap_db_stmt *s, int col)
{
	return sqlite3_column_double(((struct sq_stmt *)s)->h, col);
}

static const char *
sq_col_text(struct ap_db_stmt *s, int col, size_t *len)
{
	sqlite3_stmt *h = ((struct sq_stmt *)s)->h;
	const char *t;

	if (sqlite3_column_type(h, col) == SQLITE_NULL) {
		if (len)
			*len = 0;
		return NULL;
	}
	t = (const char *)sqlite3_column_text(h, col);
	if (len)
		*len = (size_t)sqlite3_column_bytes(h, col);
	return t ? t : "";
}

static const void *
sq_col_blob(struct ap_db_stmt *s, int col, size_t *len)
{
	sqlite3_stmt *h = ((struct sq_stmt *)s)->h;
	const void *p;

	if (sqlite3_column_type(h, col) == SQLITE_NULL) {
		if (len)
			*len = 0;
		return NULL;
	}
	p = sqlite3_column_blob(h, col);
	if (len)
		*len = (size_t)sqlite3_column_bytes(h, col);
	return p ? p : "";
}

static const char *
sq_col_name(struct ap_db_stmt *s, int col)
{
	return sqlite3_column_name(((struct sq_stmt *)s)->h, col);
}

static enum ap_db_rc
sq_exec_simple(struct ap_db *base, const char *sql)
{
	struct sq_db *db = (struct sq_db *)base;
	int rc;

	/* BEGIN IMMEDIATE: take the write lock up front so a busy database
	 * fails at BEGIN (after the busy timeout), not halfway through. */
	if (strcmp(sql, "BEGIN") == 0)
		sql = "BEGIN IMMEDIATE";
	db->timed_out = false;
	db->deadline_ms = ap_now_ms() + (uint64_t)base->query_timeout_ms;
	rc = sqlite3_exec(db->h, sql, NULL, NULL, NULL);
	db->deadline_ms = 0;
	return rc == SQLITE_OK ? AP_DB_OK : map_error(db, rc);
}

static enum ap_db_rc
sq_exec_script(struct ap_db *base, const char *sql)
{
	struct sq_db *db = (struct sq_db *)base;
	int rc = sqlite3_exec(db->h, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? AP_DB_OK : map_error(db, rc);
}

static char *
sq_quote(struct ap_db *base, const char *s, bool ident)
{
	char *q = sqlite3_mprintf(ident ? "\"%w\"" : "%Q", s), *out;

	(void)base;
	if (q == NULL)
		return NULL;
	out = ap_xstrdup(q);
	sqlite3_free(q);
	return out;
}

/* A connection SQLite opened read-only (the file or its mount refused writes
 * when it was opened) stays so until it is opened again. */
static bool
sq_read_only(struct ap_db *base)
{
	struct sq_db *db = (struct sq_db *)base;

	return db->h != NULL && sqlite3_db_readonly(db->h, "main") == 1;
}

static const char *
sq_server_version(struct ap_db *base)
{
	(void)base;
	return sqlite3_libversion();
}

const struct ap_db_driver ap_db_sqlite_driver = {
	.backend = AP_DB_SQLITE,
	.db_size = sizeof(struct sq_db),
	.stmt_size = sizeof(struct sq_stmt),
	.connect = sq_connect,
	.disconnect = sq_disconnect,
	.prepare = sq_prepare,
	.finalize = sq_finalize,
	.step = sq_step,
	.reset = sq_reset,
	.col_count = sq_col_count,
	.col_type = sq_col_type,
	.col_int64 = sq_col_int64,
	.col_double = sq_col_double,
	.col_text = sq_col_text,
	.col_blob = sq_col_blob,
	.col_name = sq_col_name,
	.exec_simple = sq_exec_simple,
	.exec_script = sq_exec_script,
	.quote = sq_quote,
	.server_version = sq_server_version,
	.read_only = sq_read_only,
};
