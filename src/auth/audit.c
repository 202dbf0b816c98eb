/*
 * audit.c — the append-only, hash-chained audit log: recording (one row
 * per state change, serialised on the audit_head row), verification of
 * the chain, the filtered query behind the audit page and its CSV export.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aapanel/audit.h"
#include "aapanel/crypto.h"
#include "aapanel/log.h"

static const char zero_hash[] =
    "0000000000000000000000000000000000000000000000000000000000000000";

/* Statements of the recorder, in the order it runs them. */
static const char sql_lock_head[] =
    "UPDATE audit_head SET rows_count = rows_count + 1 WHERE id = 1";
static const char sql_last_hash[] = "SELECT last_hash FROM audit_head WHERE id = 1";
static const char sql_insert[] =
    "INSERT INTO audit_log (at, actor, actor_user_id, addr, via, action, target, outcome, "
    "before_json, after_json, prev_hash, row_hash, request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char sql_set_head[] = "UPDATE audit_head SET last_hash = ? WHERE id = 1";
static const char sql_read_head[] = "SELECT last_hash, rows_count FROM audit_head WHERE id = 1";

/* Column order shared by the query and the verifier (read_row). */
#define AUDIT_COLS \
	"id, at, actor, actor_user_id, addr, via, action, target, outcome, before_json, after_json, request_id"

static bool
via_ok(const char *via)
{
	static const char *const vias[] = { "ui", "api", "cli", "system" };

	if (via == NULL)
		return false;
	for (size_t i = 0; i < AP_NELEM(vias); i++)
		if (strcmp(via, vias[i]) == 0)
			return true;
	return false;
}

/* action and outcome: machine words, so filters and reports can rely on them. */
static bool
word_ok(const char *s)
{
	size_t n;

	if (s == NULL || s[0] == '\0')
		return false;
	for (n = 0; s[n] != '\0'; n++) {
		unsigned char c = (unsigned char)s[n];

		if (n >= AP_AUDIT_WORD_MAX)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
			c == '-'))
			return false;
	}
	return true;
}

/*
 * NULL is fine unless required; otherwise valid UTF-8 within maxbytes and,
 * when maxchars > 0, within maxchars code points: a longer value would be
 * refused (strict mode) or silently cut (otherwise) by a MariaDB
 * VARCHAR(255), and a cut value no longer matches its hash.
 */
static bool
text_ok(const char *s, bool required, size_t maxbytes, size_t maxchars)
{
	size_t n, chars = 0;

	if (s == NULL)
		return !required;
	n = strnlen(s, maxbytes + 1);
	if (n > maxbytes || (required && n == 0) || !ap_utf8_valid(s, n))
		return false;
	if (maxchars > 0) {
		for (size_t i = 0; i < n; i++)
			if (((unsigned char)s[i] & 0xc0) != 0x80)
				chars++;
		if (chars > maxchars)
			return false;
	}
	return true;
}

static bool
audit_valid(const struct ap_audit *a)
{
	return a != NULL && via_ok(a->via) && word_ok(a->action) && word_ok(a->outcome) &&
	    a->actor_user_id >= 0 &&
	    text_ok(a->actor, true, AP_AUDIT_TEXT_MAX, AP_AUDIT_TEXT_CHARS) &&
	    text_ok(a->addr, false, AP_AUDIT_TEXT_MAX, AP_AUDIT_TEXT_CHARS) &&
	    text_ok(a->target, false, AP_AUDIT_TEXT_MAX, AP_AUDIT_TEXT_CHARS) &&
	    text_ok(a->before_json, false, AP_AUDIT_JSON_MAX, 0) &&
	    text_ok(a->after_json, false, AP_AUDIT_JSON_MAX, 0);
}

/* A request id worth keeping: 8..39 hex digits (nginx's $request_id, or the worker's own). */
static bool
reqid_ok(const char *s)
{
	size_t n = 0;

	if (s == NULL)
		return false;
	for (; s[n] != '\0'; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')) || n >= 39)
			return false;
	return n >= 8;
}

/*
 * Canonical field encoding: "N" for SQL NULL, "S<len>:<bytes>" otherwise.
 * The length prefix makes the concatenation unambiguous (no separator can
 * be forged from inside a value) and keeps NULL apart from "".
 */
static void
put_field(struct ap_buf *b, const char *s)
{
	if (s == NULL) {
		ap_buf_putc(b, 'N');
		return;
	}
	ap_buf_printf(b, "S%zu:", strlen(s));
	ap_buf_puts(b, s);
}

static void
put_int(struct ap_buf *b, int64_t v, bool null)
{
	char num[24];

	if (null) {
		put_field(b, NULL);
		return;
	}
	snprintf(num, sizeof(num), "%lld", (long long)v);
	put_field(b, num);
}

/*
 * row_hash of a row: SHA-256 over a version tag and every field in a fixed
 * order. b is scratch space (reused by the verifier across rows).
 */
static void
row_hash(struct ap_buf *b, const char *prev, const struct ap_audit_row *r, char out[65])
{
	ap_buf_reset(b);
	/* v2 (0013): a row with its request's id covers it too; rows without one hash as before. */
	ap_buf_puts(b, r->request_id != NULL ? "aapanel-audit-v2\n" : "aapanel-audit-v1\n");
	put_field(b, prev);
	put_int(b, r->at, false);
	put_field(b, r->actor);
	put_int(b, r->actor_user_id, r->actor_user_id == 0);
	put_field(b, r->addr);
	put_field(b, r->via);
	put_field(b, r->action);
	put_field(b, r->target);
	put_field(b, r->outcome);
	put_field(b, r->before_json);
	put_field(b, r->after_json);
	if (r->request_id != NULL)
		put_field(b, r->request_id);
	ap_sha256_hex(b->data, b->len, out);
}

/* Prepare, step once to completion, finalize: for statements without rows. */
static enum ap_db_rc
exec_done(struct ap_db_stmt *st, int64_t *changes)
{
	enum ap_db_rc rc = ap_db_step(st);

	if (rc == AP_DB_ROW)
		rc = AP_DB_EOTHER;
	else if (rc == AP_DB_DONE) {
		rc = AP_DB_OK;
		if (changes)
			*changes = ap_db_changes(st);
	}
	return rc;
}

static enum ap_db_rc
bind_opt_text(struct ap_db_stmt *st, int idx, const char *s)
{
	return s ? ap_db_bind_text(st, idx, s, -1) : ap_db_bind_null(st, idx);
}

enum ap_db_rc
ap_audit_record(struct ap_db *db, const struct ap_audit *a)
{
	struct ap_db_stmt *st = NULL;
	struct ap_buf scratch = { 0 };
	struct ap_audit_row r = { 0 };
	char *prev = NULL;
	char hash[65];
	bool began = false;
	int64_t changes = 0;
	enum ap_db_rc rc;
	int i = 1;

	if (!audit_valid(a))
		return AP_DB_EINVAL;
	/* In a request's unit of work: one savepoint for the four statements. */
	if (!ap_db_in_transaction(db) || ap_db_unit_open(db)) {
		if ((rc = ap_db_begin(db)) != AP_DB_OK)
			goto out;
		began = true;
	}
	/* Lock the head first: from here to COMMIT no other writer can read it. */
	if ((rc = ap_db_prepare(db, sql_lock_head, &st)) != AP_DB_OK ||
	    (rc = exec_done(st, &changes)) != AP_DB_OK)
		goto out;
	if (changes != 1) {
		rc = AP_DB_ENOTFOUND; /* the head row is missing: migration 0002 not applied */
		goto out;
	}
	ap_db_finalize(st);
	st = NULL;
	if ((rc = ap_db_prepare(db, sql_last_hash, &st)) != AP_DB_OK)
		goto out;
	rc = ap_db_step(st);
	if (rc != AP_DB_ROW) {
		rc = rc == AP_DB_DONE ? AP_DB_ENOTFOUND : rc;
		goto out;
	}
	prev = ap_xstrdup(ap_db_col_text(st, 0, NULL) ? ap_db_col_text(st, 0, NULL) : "");
	ap_db_finalize(st);
	st = NULL;

	r.at = (int64_t)time(NULL);
	r.actor = a->actor;
	r.actor_user_id = a->actor_user_id;
	r.addr = a->addr;
	r.via = a->via;
	r.action = a->action;
	r.target = a->target;
	r.outcome = a->outcome;
	r.before_json = a->before_json;
	r.after_json = a->after_json;
	r.request_id = reqid_ok(ap_log_reqid()) ? ap_log_reqid() : NULL;
	row_hash(&scratch, prev, &r, hash);

	if ((rc = ap_db_prepare(db, sql_insert, &st)) != AP_DB_OK)
		goto out;
	if ((rc = ap_db_bind_int64(st, i++, r.at)) != AP_DB_OK ||
	    (rc = ap_db_bind_text(st, i++, r.actor, -1)) != AP_DB_OK ||
	    (rc = r.actor_user_id ? ap_db_bind_int64(st, i++, r.actor_user_id) :
				    ap_db_bind_null(st, i++)) != AP_DB_OK ||
	    (rc = bind_opt_text(st, i++, r.addr)) != AP_DB_OK ||
	    (rc = ap_db_bind_text(st, i++, r.via, -1)) != AP_DB_OK ||
	    (rc = ap_db_bind_text(st, i++, r.action, -1)) != AP_DB_OK ||
	    (rc = bind_opt_text(st, i++, r.target)) != AP_DB_OK ||
	    (rc = ap_db_bind_text(st, i++, r.outcome, -1)) != AP_DB_OK ||
	    (rc = bind_opt_text(st, i++, r.before_json)) != AP_DB_OK ||
	    (rc = bind_opt_text(st, i++, r.after_json)) != AP_DB_OK ||
	    (rc = ap_db_bind_text(st, i++, prev, -1)) != AP_DB_OK ||
	    (rc = ap_db_bind_text(st, i++, hash, 64)) != AP_DB_OK ||
	    (rc = bind_opt_text(st, i++, r.request_id)) != AP_DB_OK ||
	    (rc = exec_done(st, NULL)) != AP_DB_OK)
		goto out;
	ap_db_finalize(st);
	st = NULL;

	if ((rc = ap_db_prepare(db, sql_set_head, &st)) != AP_DB_OK ||
	    (rc = ap_db_bind_text(st, 1, hash, 64)) != AP_DB_OK ||
	    (rc = exec_done(st, NULL)) != AP_DB_OK)
		goto out;
	ap_db_finalize(st);
	st = NULL;
	if (began) {
		began = false; /* ap_db_commit closes the transaction either way */
		rc = ap_db_commit(db);
	}
	/* A line in the panel's log with the request's id (req=): the audit page links to it. */
	if (rc == AP_DB_OK && r.request_id != NULL)
		AP_INFO("audit: %s %s", r.action, r.outcome);
out:
	ap_db_finalize(st);
	if (rc != AP_DB_OK && began && ap_db_in_transaction(db))
		ap_db_rollback(db);
	free(prev);
	ap_buf_free(&scratch);
	return rc;
}

/* The first 12 columns of a SELECT AUDIT_COLS row; strings borrowed from st. */
static void
read_row(struct ap_db_stmt *st, struct ap_audit_row *r)
{
	r->id = ap_db_col_int64(st, 0);
	r->at = ap_db_col_int64(st, 1);
	r->actor = ap_db_col_text(st, 2, NULL);
	r->actor_user_id = ap_db_col_is_null(st, 3) ? 0 : ap_db_col_int64(st, 3);
	r->addr = ap_db_col_text(st, 4, NULL);
	r->via = ap_db_col_text(st, 5, NULL);
	r->action = ap_db_col_text(st, 6, NULL);
	r->target = ap_db_col_text(st, 7, NULL);
	r->outcome = ap_db_col_text(st, 8, NULL);
	r->before_json = ap_db_col_text(st, 9, NULL);
	r->after_json = ap_db_col_text(st, 10, NULL);
	r->request_id = ap_db_col_text(st, 11, NULL);
}

struct head {
	char hash[65]; /* "" when the stored value is not a 64-char hash */
	int64_t count;
};

static enum ap_db_rc
read_head(struct ap_db *db, struct head *h)
{
	struct ap_db_stmt *st = NULL;
	const char *s;
	size_t len = 0;
	enum ap_db_rc rc;

	if ((rc = ap_db_prepare(db, sql_read_head, &st)) != AP_DB_OK)
		goto out;
	rc = ap_db_step(st);
	if (rc != AP_DB_ROW) {
		rc = rc == AP_DB_DONE ? AP_DB_ENOTFOUND : rc;
		goto out;
	}
	s = ap_db_col_text(st, 0, &len);
	h->hash[0] = '\0';
	if (s != NULL && len == 64)
		memcpy(h->hash, s, 65);
	h->count = ap_db_col_int64(st, 1);
	rc = AP_DB_OK;
out:
	ap_db_finalize(st);
	return rc;
}

static const char why_hash[] = "hash does not match its contents";
static const char why_link[] = "does not link to the previous row";
static const char why_short[] = "the chain ends early: rows were removed from the end";
static const char why_extra[] =
    "the chain head does not match the last row: rows were added at the end";

/*
 * The walk. *reason gets a static explanation (without the row) when the
 * chain is broken. Runs without a transaction, so writers are never
 * blocked; the head is read before the walk, and rows appended while it
 * runs are told apart from tampering by reading the head again.
 */
static enum ap_db_rc
verify_chain(struct ap_db *db, int64_t *rows, int64_t *first_bad, const char **reason)
{
	struct ap_db_stmt *st = NULL;
	struct ap_buf scratch = { 0 };
	struct ap_audit_row r;
	struct head h1, h2;
	char last[65], at_count[65] = "", hash[65];
	int64_t n = 0;
	enum ap_db_rc rc;

	*rows = 0;
	*first_bad = 0;
	*reason = NULL;
	memcpy(last, zero_hash, sizeof(last));
	if ((rc = read_head(db, &h1)) != AP_DB_OK)
		goto out;
	if ((rc = ap_db_prepare(db,
		 "SELECT " AUDIT_COLS ", prev_hash, row_hash FROM audit_log ORDER BY id", &st)) !=
	    AP_DB_OK)
		goto out;
	while ((rc = ap_db_step(st)) == AP_DB_ROW) {
		const char *prev = ap_db_col_text(st, 12, NULL);
		const char *stored = ap_db_col_text(st, 13, NULL);

		read_row(st, &r);
		n++;
		row_hash(&scratch, prev, &r, hash);
		if (stored == NULL || strcmp(hash, stored) != 0) {
			*first_bad = r.id;
			*reason = why_hash;
			break;
		}
		if (prev == NULL || strcmp(prev, last) != 0) {
			*first_bad = r.id;
			*reason = why_link;
			break;
		}
		memcpy(last, hash, sizeof(last));
		if (n == h1.count)
			memcpy(at_count, hash, sizeof(at_count));
	}
	if (rc != AP_DB_ROW && rc != AP_DB_DONE)
		goto out;
	rc = AP_DB_OK;
	*rows = n;
	if (*first_bad != 0)
		goto out;
	if (n == h1.count && strcmp(last, h1.hash) == 0)
		goto out;
	if (n > h1.count && strcmp(h1.count == 0 ? zero_hash : at_count, h1.hash) == 0) {
		/* More rows than the head counted when the walk began: fine if a
		 * writer appended them meanwhile, which the head now shows. */
		if ((rc = read_head(db, &h2)) != AP_DB_OK)
			goto out;
		if (h2.count > n || (h2.count == n && strcmp(last, h2.hash) == 0))
			goto out;
		*first_bad = -1;
		*reason = h2.count < n ? why_extra : why_short;
		goto out;
	}
	*first_bad = -1;
	*reason = n > h1.count ? why_extra : why_short;
out:
	ap_db_finalize(st);
	ap_buf_free(&scratch);
	return rc;
}

enum ap_db_rc
ap_audit_verify(struct ap_db *db, int64_t *rows, int64_t *first_bad, char *why, size_t whylen)
{
	const char *reason = NULL;
	enum ap_db_rc rc = verify_chain(db, rows, first_bad, &reason);

	if (why == NULL || whylen == 0)
		return rc;
	if (rc != AP_DB_OK)
		snprintf(why, whylen, "cannot read the audit log: %s", ap_db_rc_str(rc));
	else if (*first_bad > 0)
		snprintf(why, whylen, "row %lld: %s", (long long)*first_bad, reason);
	else if (*first_bad < 0)
		snprintf(why, whylen, "%s", reason);
	else
		snprintf(why, whylen, "intact");
	return rc;
}

int
ap_auditcli_verify(struct ap_db *db, FILE *out)
{
	int64_t rows = 0, bad = 0;
	const char *reason = NULL;
	enum ap_db_rc rc = verify_chain(db, &rows, &bad, &reason);

	if (rc != AP_DB_OK) {
		fprintf(out, "audit log: cannot read the database: %s (%s)\n", ap_db_rc_str(rc),
		    ap_db_errmsg(db));
		return 2;
	}
	if (bad == 0) {
		fprintf(out, "audit log intact: %lld rows\n", (long long)rows);
		return 0;
	}
	if (bad > 0)
		fprintf(out, "audit log BROKEN at row %lld: %s\n", (long long)bad, reason);
	else
		fprintf(out, "audit log BROKEN at the end: %s\n", reason);
	return 1;
}

static bool
filter_set(const char *s)
{
	return s != NULL && s[0] != '\0';
}

enum ap_db_rc
ap_audit_query(struct ap_db *db, const struct ap_audit_filter *f, ap_audit_row_fn fn, void *arg,
    int64_t *nrows)
{
	struct ap_db_stmt *st = NULL;
	struct ap_buf sql = { 0 };
	struct ap_audit_row r;
	int64_t n = 0;
	int i = 1;
	enum ap_db_rc rc;

	if (nrows)
		*nrows = 0;
	if (f->limit < 1 || f->limit > 100000 || f->offset < 0)
		return AP_DB_EINVAL;
	/* Constant fragments only: the input decides which, never what. */
	ap_buf_puts(&sql, "SELECT " AUDIT_COLS " FROM audit_log WHERE 1 = 1");
	if (filter_set(f->actor))
		ap_buf_puts(&sql, " AND actor = ?");
	if (filter_set(f->action))
		ap_buf_puts(&sql, " AND action = ?");
	if (filter_set(f->outcome))
		ap_buf_puts(&sql, " AND outcome = ?");
	if (f->from != 0)
		ap_buf_puts(&sql, " AND at >= ?");
	if (f->to != 0)
		ap_buf_puts(&sql, " AND at <= ?");
	if (f->before_id > 0)
		ap_buf_puts(&sql, " AND id < ?");
	if (filter_set(f->request))
		ap_buf_puts(&sql, " AND request_id = ?");
	ap_buf_puts(&sql, " ORDER BY id DESC LIMIT ? OFFSET ?");

	if ((rc = ap_db_prepare(db, ap_buf_cstr(&sql), &st)) != AP_DB_OK)
		goto out;
	/* Binds in the order the fragments were added above. */
	if ((filter_set(f->actor) && (rc = ap_db_bind_text(st, i++, f->actor, -1)) != AP_DB_OK) ||
	    (filter_set(f->action) && (rc = ap_db_bind_text(st, i++, f->action, -1)) != AP_DB_OK) ||
	    (filter_set(f->outcome) &&
		(rc = ap_db_bind_text(st, i++, f->outcome, -1)) != AP_DB_OK) ||
	    (f->from != 0 && (rc = ap_db_bind_int64(st, i++, f->from)) != AP_DB_OK) ||
	    (f->to != 0 && (rc = ap_db_bind_int64(st, i++, f->to)) != AP_DB_OK) ||
	    (f->before_id > 0 && (rc = ap_db_bind_int64(st, i++, f->before_id)) != AP_DB_OK) ||
	    (filter_set(f->request) && (rc = ap_db_bind_text(st, i++, f->request, -1)) != AP_DB_OK) ||
	    (rc = ap_db_bind_int64(st, i++, f->limit)) != AP_DB_OK ||
	    (rc = ap_db_bind_int64(st, i++, f->offset)) != AP_DB_OK)
		goto out;
	while ((rc = ap_db_step(st)) == AP_DB_ROW) {
		read_row(st, &r);
		n++;
		if (!fn(arg, &r))
			break;
	}
	if (rc == AP_DB_ROW || rc == AP_DB_DONE)
		rc = AP_DB_OK;
out:
	if (nrows)
		*nrows = n;
	ap_db_finalize(st);
	ap_buf_free(&sql);
	return rc;
}

void
ap_audit_csv_cell(struct ap_buf *b, const char *s)
{
	bool formula, quote;

	if (s == NULL || s[0] == '\0')
		return;
	formula = strchr("=+-@\t\r", s[0]) != NULL;
	quote = strpbrk(s, ",\"\r\n") != NULL;
	if (quote)
		ap_buf_putc(b, '"');
	if (formula)
		ap_buf_putc(b, '\'');
	for (; *s != '\0'; s++) {
		if (*s == '"')
			ap_buf_putc(b, '"');
		ap_buf_putc(b, *s);
	}
	if (quote)
		ap_buf_putc(b, '"');
}

void
ap_audit_csv_header(struct ap_buf *b)
{
	ap_buf_puts(b, "id,at,actor,actor_user_id,addr,via,action,target,outcome,before,after\r\n");
}

void
ap_audit_iso8601(int64_t at, char out[21])
{
	time_t t = (time_t)at;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, 21, "%s", "1970-01-01T00:00:00Z");
}

void
ap_audit_csv_row(struct ap_buf *b, const struct ap_audit_row *r)
{
	char iso[21];

	ap_audit_iso8601(r->at, iso);
	ap_buf_printf(b, "%lld,%s,", (long long)r->id, iso);
	ap_audit_csv_cell(b, r->actor);
	ap_buf_putc(b, ',');
	if (r->actor_user_id != 0)
		ap_buf_printf(b, "%lld", (long long)r->actor_user_id);
	ap_buf_putc(b, ',');
	ap_audit_csv_cell(b, r->addr);
	ap_buf_putc(b, ',');
	ap_audit_csv_cell(b, r->via);
	ap_buf_putc(b, ',');
	ap_audit_csv_cell(b, r->action);
	ap_buf_putc(b, ',');
	ap_audit_csv_cell(b, r->target);
	ap_buf_putc(b, ',');
	ap_audit_csv_cell(b, r->outcome);
	ap_buf_putc(b, ',');
	ap_audit_csv_cell(b, r->before_json);
	ap_buf_putc(b, ',');
	ap_audit_csv_cell(b, r->after_json);
	ap_buf_puts(b, "\r\n");
}
