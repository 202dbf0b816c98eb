/* check_audit.c — the audit log: recording, the hash chain and what
 * tampering it finds, validation, the filtered query and the CSV export
 * (SQLite with the real migrations). */
#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "aapanel/audit.h"
#include "aapanel/crypto.h"
#include "aapanel/log.h"
#include "aapanel/migrate.h"

static const char zeros[] = "0000000000000000000000000000000000000000000000000000000000000000";

static char tmp[64];
static char dsn[128];
static struct ap_db *db;

static int
rm_cb(const char *p, const struct stat *st, int fl, struct FTW *f)
{
	(void)st;
	(void)fl;
	(void)f;
	return remove(p);
}

static struct ap_db *
open_db(void)
{
	struct ap_db_opts o = { 0 };
	struct ap_db *d = NULL;

	o.dsn = dsn;
	ck_assert_int_eq(ap_db_open(&o, &d), AP_DB_OK);
	return d;
}

static void
setup(void)
{
	const char *srcdir = getenv("AAPANEL_SRCDIR") ? getenv("AAPANEL_SRCDIR") : ".";
	struct ap_migrations m;
	char sqldir[512], err[512];
	size_t applied = 0;

	snprintf(sqldir, sizeof(sqldir), "%s/sql", srcdir);
	strcpy(tmp, "/tmp/ap-audit-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
	snprintf(dsn, sizeof(dsn), "sqlite:%s/a.db", tmp);
	db = open_db();
	ck_assert_msg(ap_migrate_load(sqldir, AP_DB_SQLITE, &m, err, sizeof(err)) == AP_OK, "%s", err);
	ck_assert_msg(ap_migrate_apply(db, &m, &applied, err, sizeof(err)) == AP_DB_OK, "%s", err);
	ap_migrations_free(&m);
}

static void
teardown(void)
{
	ap_db_close(db);
	db = NULL;
	nftw(tmp, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static int64_t
count_rows(void)
{
	int64_t n = -1;

	ck_assert_int_eq(ap_db_query_int64(db, "SELECT COUNT(*) FROM audit_log", &n), AP_DB_OK);
	return n;
}

static int64_t
head_count(void)
{
	int64_t n = -1;

	ck_assert_int_eq(ap_db_query_int64(db, "SELECT rows_count FROM audit_head WHERE id = 1", &n),
	    AP_DB_OK);
	return n;
}

/* Raw SQL standing in for someone editing the table behind the panel's back. */
static void
tamper(const char *sql)
{
	ck_assert_int_eq(ap_db_exec(db, sql), AP_DB_OK);
}

static void
record(const char *actor, const char *action, const char *target, const char *outcome)
{
	struct ap_audit a = {
		.actor = actor, .via = "ui", .action = action, .target = target, .outcome = outcome,
		.addr = "192.0.2.7",
	};

	ck_assert_int_eq(ap_audit_record(db, &a), AP_DB_OK);
}

/* Five ordinary rows, ids 1..5. */
static void
record_five(void)
{
	for (int i = 0; i < 5; i++)
		record("admin", "site.add", "example.org", "ok");
}

static void
assert_broken(int64_t want_bad, const char *want_why)
{
	int64_t rows = -1, bad = 0;
	char why[256];

	ck_assert_int_eq(ap_audit_verify(db, &rows, &bad, why, sizeof(why)), AP_DB_OK);
	ck_assert_msg(bad == want_bad, "first_bad %lld, want %lld (%s)", (long long)bad,
	    (long long)want_bad, why);
	ck_assert_str_eq(why, want_why);
}

static void
assert_intact(int64_t want_rows)
{
	int64_t rows = -1, bad = 99;
	char why[256];

	ck_assert_int_eq(ap_audit_verify(db, &rows, &bad, why, sizeof(why)), AP_DB_OK);
	ck_assert_msg(bad == 0, "chain broken: %s", why);
	ck_assert_int_eq(rows, want_rows);
}

START_TEST(test_recorded_rows_verify_and_read_back)
{
	struct ap_audit a = {
		.actor = "مدير", .actor_user_id = 7, .addr = "2001:db8::1", .via = "api",
		.action = "site.edit", .target = "موقع.مثال", .outcome = "ok",
		.before_json = "{\"php\":\"8.1\",\"name\":\"قديم\"}",
		.after_json = "{\"php\":\"8.2\",\"name\":\"جديد\"}",
	};
	struct ap_audit b = { .actor = "system", .via = "system", .action = "cron.run", .outcome = "failed" };
	struct ap_db_stmt *st = NULL;
	int64_t before = (int64_t)time(NULL);

	assert_intact(0);
	ck_assert_int_eq(ap_audit_record(db, &a), AP_DB_OK);
	ck_assert_int_eq(ap_audit_record(db, &b), AP_DB_OK);
	assert_intact(2);
	ck_assert_int_eq(head_count(), 2);

	ck_assert_int_eq(ap_db_prepare(db,
			     "SELECT at, actor, actor_user_id, addr, via, action, target, outcome, "
			     "before_json, after_json, prev_hash, row_hash FROM audit_log ORDER BY id",
			     &st),
	    AP_DB_OK);
	ck_assert_int_eq(ap_db_step(st), AP_DB_ROW);
	ck_assert_int_ge(ap_db_col_int64(st, 0), before);
	ck_assert_int_le(ap_db_col_int64(st, 0), (int64_t)time(NULL));
	ck_assert_str_eq(ap_db_col_text(st, 1, NULL), "مدير");
	ck_assert_int_eq(ap_db_col_int64(st, 2), 7);
	ck_assert_str_eq(ap_db_col_text(st, 3, NULL), "2001:db8::1");
	ck_assert_str_eq(ap_db_col_text(st, 4, NULL), "api");
	ck_assert_str_eq(ap_db_col_text(st, 6, NULL), "موقع.مثال");
	ck_assert_str_eq(ap_db_col_text(st, 8, NULL), a.before_json);
	ck_assert_str_eq(ap_db_col_text(st, 9, NULL), a.after_json);
	ck_assert_str_eq(ap_db_col_text(st, 10, NULL), zeros);
	ck_assert_int_eq(ap_db_step(st), AP_DB_ROW);
	/* NULLs stay NULL: 0 user id, no address, no target, no JSON. */
	ck_assert(ap_db_col_is_null(st, 2));
	ck_assert(ap_db_col_is_null(st, 3));
	ck_assert(ap_db_col_is_null(st, 6));
	ck_assert(ap_db_col_is_null(st, 8));
	ck_assert(ap_db_col_is_null(st, 9));
	ap_db_finalize(st);
}
END_TEST

/*
 * The serialisation is part of the stored data: every existing chain
 * depends on it. This pins it, byte for byte, for one row.
 */
START_TEST(test_row_hash_format_is_pinned)
{
	struct ap_audit a = {
		.actor = "أحمد", .actor_user_id = 12, .addr = NULL, .via = "cli",
		.action = "user.add", .target = "", .outcome = "ok", .before_json = NULL,
		.after_json = "{\"role\":\"viewer\"}",
	};
	struct ap_db_stmt *st = NULL;
	struct ap_buf want = { 0 };
	char hash[65];
	int64_t at;

	ck_assert_int_eq(ap_audit_record(db, &a), AP_DB_OK);
	ck_assert_int_eq(ap_db_prepare(db, "SELECT at, row_hash FROM audit_log WHERE id = 1", &st),
	    AP_DB_OK);
	ck_assert_int_eq(ap_db_step(st), AP_DB_ROW);
	at = ap_db_col_int64(st, 0);
	ap_buf_printf(&want, "aapanel-audit-v1\nS64:%sS%d:%lldS8:أحمدS2:12NS3:cliS8:user.addS0:S2:okN"
			     "S17:{\"role\":\"viewer\"}",
	    zeros, (int)snprintf(NULL, 0, "%lld", (long long)at), (long long)at);
	ap_sha256_hex(want.data, want.len, hash);
	ck_assert_str_eq(ap_db_col_text(st, 1, NULL), hash);
	ap_db_finalize(st);
	ap_buf_free(&want);
}
END_TEST

START_TEST(test_edited_target_is_named)
{
	record_five();
	tamper("UPDATE audit_log SET target = 'evil.example' WHERE id = 3");
	assert_broken(3, "row 3: hash does not match its contents");
}
END_TEST

START_TEST(test_edited_before_json_is_named)
{
	struct ap_audit a = { .actor = "admin", .via = "ui", .action = "firewall.edit",
		.outcome = "ok", .before_json = "{\"port\":22}", .after_json = "{\"port\":2222}" };

	record_five();
	ck_assert_int_eq(ap_audit_record(db, &a), AP_DB_OK);
	record_five();
	assert_intact(11);
	tamper("UPDATE audit_log SET before_json = '{\"port\":23}' WHERE id = 6");
	assert_broken(6, "row 6: hash does not match its contents");
}
END_TEST

START_TEST(test_null_and_empty_are_different)
{
	record("admin", "login", NULL, "ok");
	record("admin", "login", NULL, "ok");
	tamper("UPDATE audit_log SET target = '' WHERE id = 2");
	assert_broken(2, "row 2: hash does not match its contents");
}
END_TEST

/* Moving bytes from one field to the next must not keep the hash. */
START_TEST(test_field_boundaries_are_unambiguous)
{
	struct ap_audit a = { .actor = "a", .via = "ui", .action = "x", .target = "bc", .outcome = "ok" };

	ck_assert_int_eq(ap_audit_record(db, &a), AP_DB_OK);
	tamper("UPDATE audit_log SET actor = 'ab', target = 'c' WHERE id = 1");
	assert_broken(1, "row 1: hash does not match its contents");
}
END_TEST

START_TEST(test_deleted_middle_row_names_the_next)
{
	record_five();
	tamper("DELETE FROM audit_log WHERE id = 3");
	assert_broken(4, "row 4: does not link to the previous row");
}
END_TEST

START_TEST(test_deleted_first_row_names_the_next)
{
	record_five();
	tamper("DELETE FROM audit_log WHERE id = 1");
	assert_broken(2, "row 2: does not link to the previous row");
}
END_TEST

START_TEST(test_deleted_last_row_is_found_by_the_head)
{
	record_five();
	tamper("DELETE FROM audit_log WHERE id = 5");
	assert_broken(-1, "the chain ends early: rows were removed from the end");
}
END_TEST

/* Even with the count adjusted, the head's hash still names the lost row. */
START_TEST(test_deleted_last_row_with_count_fixed_is_found)
{
	record_five();
	tamper("DELETE FROM audit_log WHERE id IN (4, 5)");
	tamper("UPDATE audit_head SET rows_count = 3 WHERE id = 1");
	assert_broken(-1, "the chain ends early: rows were removed from the end");
}
END_TEST

START_TEST(test_all_rows_deleted_is_found)
{
	record_five();
	tamper("DELETE FROM audit_log");
	assert_broken(-1, "the chain ends early: rows were removed from the end");
}
END_TEST

/* A row copied in at the end without moving the head is not accepted. */
START_TEST(test_row_added_behind_the_head_is_found)
{
	record_five();
	tamper("INSERT INTO audit_log (at, actor, actor_user_id, addr, via, action, target, outcome, "
	       "before_json, after_json, prev_hash, row_hash) "
	       "SELECT at, actor, actor_user_id, addr, via, action, target, outcome, before_json, "
	       "after_json, prev_hash, row_hash FROM audit_log WHERE id = 5");
	/* The copy's prev_hash is row 4's hash, not row 5's. */
	assert_broken(6, "row 6: does not link to the previous row");
}
END_TEST

START_TEST(test_changed_prev_hash_is_named)
{
	record_five();
	tamper("UPDATE audit_log SET prev_hash = '" "1111111111111111111111111111111111111111111111111111111111111111"
	       "' WHERE id = 2");
	assert_broken(2, "row 2: hash does not match its contents");
}
END_TEST

static void
put(struct ap_buf *b, struct ap_db_stmt *st, int col)
{
	const char *v = ap_db_col_text(st, col, NULL);

	if (v == NULL)
		ap_buf_putc(b, 'N');
	else
		ap_buf_printf(b, "S%zu:%s", strlen(v), v);
}

/*
 * What someone who knows the format does after editing a row: store a
 * fresh row_hash for it (written here independently of src/audit.c).
 */
static void
rehash_row(int64_t id)
{
	struct ap_db_stmt *st = NULL;
	struct ap_buf b = { 0 };
	char hash[65];

	ck_assert_int_eq(ap_db_prepare(db,
			     "SELECT prev_hash, at, actor, actor_user_id, addr, via, action, target, "
			     "outcome, before_json, after_json FROM audit_log WHERE id = ?",
			     &st),
	    AP_DB_OK);
	ck_assert_int_eq(ap_db_bind_int64(st, 1, id), AP_DB_OK);
	ck_assert_int_eq(ap_db_step(st), AP_DB_ROW);
	ap_buf_puts(&b, "aapanel-audit-v1\n");
	for (int col = 0; col < 11; col++)
		put(&b, st, col);
	ap_sha256_hex(b.data, b.len, hash);
	ap_db_finalize(st);
	ck_assert_int_eq(ap_db_prepare(db, "UPDATE audit_log SET row_hash = ? WHERE id = ?", &st),
	    AP_DB_OK);
	ck_assert_int_eq(ap_db_bind_text(st, 1, hash, -1), AP_DB_OK);
	ck_assert_int_eq(ap_db_bind_int64(st, 2, id), AP_DB_OK);
	ck_assert_int_eq(ap_db_step(st), AP_DB_DONE);
	ap_db_finalize(st);
	ap_buf_free(&b);
}

/* An edited row given a matching row_hash still breaks the next link. */
START_TEST(test_rehashed_row_breaks_the_next_link)
{
	record_five();
	rehash_row(3); /* the test's own serialiser agrees with the recorder */
	assert_intact(5);
	tamper("UPDATE audit_log SET target = 'evil.example' WHERE id = 3");
	rehash_row(3);
	assert_broken(4, "row 4: does not link to the previous row");
}
END_TEST

/* Rewriting the last row and the head together is beyond a keyless chain,
 * but rewriting only the row is found by the head. */
START_TEST(test_rehashed_last_row_is_found_by_the_head)
{
	record_five();
	tamper("UPDATE audit_log SET outcome = 'denied' WHERE id = 5");
	rehash_row(5);
	assert_broken(-1, "the chain ends early: rows were removed from the end");
}
END_TEST

/* A well-formed row appended behind the panel's back: the head did not move. */
START_TEST(test_linked_row_added_behind_the_head_is_found)
{
	record_five();
	tamper("INSERT INTO audit_log (at, actor, via, action, outcome, prev_hash, row_hash) "
	       "SELECT at, 'intruder', via, action, outcome, row_hash, '' FROM audit_log WHERE id = 5");
	rehash_row(6);
	assert_broken(-1, "the chain head does not match the last row: rows were added at the end");
}
END_TEST

START_TEST(test_cli_reports_intact_and_broken)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	record_five();
	f = open_memstream(&text, &len);
	ck_assert_int_eq(ap_auditcli_verify(db, f), 0);
	fclose(f);
	ck_assert_str_eq(text, "audit log intact: 5 rows\n");
	free(text);

	tamper("UPDATE audit_log SET actor = 'someone' WHERE id = 2");
	f = open_memstream(&text, &len);
	ck_assert_int_eq(ap_auditcli_verify(db, f), 1);
	fclose(f);
	ck_assert_str_eq(text, "audit log BROKEN at row 2: hash does not match its contents\n");
	free(text);

	tamper("UPDATE audit_log SET actor = 'admin' WHERE id = 2");
	tamper("DELETE FROM audit_log WHERE id = 5");
	f = open_memstream(&text, &len);
	ck_assert_int_eq(ap_auditcli_verify(db, f), 1);
	fclose(f);
	ck_assert_str_eq(text,
	    "audit log BROKEN at the end: the chain ends early: rows were removed from the end\n");
	free(text);
}
END_TEST

static char long_word[66];
static char long_text[AP_AUDIT_TEXT_CHARS + 2];
static char *huge_json;

static const struct {
	const char *name;
	struct ap_audit a;
} invalid[] = {
	{ "via web", { .actor = "admin", .via = "web", .action = "x", .outcome = "ok" } },
	{ "via NULL", { .actor = "admin", .via = NULL, .action = "x", .outcome = "ok" } },
	{ "via upper", { .actor = "admin", .via = "UI", .action = "x", .outcome = "ok" } },
	{ "empty action", { .actor = "admin", .via = "ui", .action = "", .outcome = "ok" } },
	{ "NULL action", { .actor = "admin", .via = "ui", .action = NULL, .outcome = "ok" } },
	{ "upper action", { .actor = "admin", .via = "ui", .action = "User.add", .outcome = "ok" } },
	{ "space action", { .actor = "admin", .via = "ui", .action = "user add", .outcome = "ok" } },
	{ "long action", { .actor = "admin", .via = "ui", .action = long_word, .outcome = "ok" } },
	{ "empty outcome", { .actor = "admin", .via = "ui", .action = "x", .outcome = "" } },
	{ "odd outcome", { .actor = "admin", .via = "ui", .action = "x", .outcome = "OK!" } },
	{ "NULL actor", { .actor = NULL, .via = "ui", .action = "x", .outcome = "ok" } },
	{ "empty actor", { .actor = "", .via = "ui", .action = "x", .outcome = "ok" } },
	{ "bad UTF-8 actor", { .actor = "ad\xffmin", .via = "ui", .action = "x", .outcome = "ok" } },
	{ "overlong UTF-8 target", { .actor = "a", .via = "ui", .action = "x", .target = "\xc0\xaf", .outcome = "ok" } },
	{ "bad UTF-8 addr", { .actor = "a", .via = "ui", .action = "x", .addr = "\xe2\x82", .outcome = "ok" } },
	{ "bad UTF-8 before", { .actor = "a", .via = "ui", .action = "x", .outcome = "ok", .before_json = "{\"a\":\"\xfe\"}" } },
	{ "bad UTF-8 after", { .actor = "a", .via = "ui", .action = "x", .outcome = "ok", .after_json = "\xed\xa0\x80" } },
	{ "target too long", { .actor = "a", .via = "ui", .action = "x", .outcome = "ok", .target = long_text } },
	{ "JSON too big", { .actor = "a", .via = "ui", .action = "x", .outcome = "ok", .after_json = NULL } },
	{ "negative user id", { .actor = "a", .actor_user_id = -1, .via = "ui", .action = "x", .outcome = "ok" } },
};

static void
fill_long(void)
{
	memset(long_word, 'a', 65);
	long_word[65] = '\0';
	memset(long_text, 'x', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
}

START_TEST(test_invalid_rows_are_refused_and_nothing_is_written)
{
	struct ap_audit a = invalid[_i].a;

	fill_long();
	if (strcmp(invalid[_i].name, "JSON too big") == 0) {
		huge_json = malloc(AP_AUDIT_JSON_MAX + 2);
		memset(huge_json, ' ', AP_AUDIT_JSON_MAX + 1);
		huge_json[AP_AUDIT_JSON_MAX + 1] = '\0';
		a.after_json = huge_json;
	}
	ck_assert_msg(ap_audit_record(db, &a) == AP_DB_EINVAL, "%s accepted", invalid[_i].name);
	free(huge_json);
	huge_json = NULL;
	ck_assert_int_eq(count_rows(), 0);
	ck_assert_int_eq(head_count(), 0);
	ck_assert(!ap_db_in_transaction(db));
	assert_intact(0);
}
END_TEST

/* The limits themselves are allowed: 64-byte words, 255 Arabic letters, 64 KiB - 1 of JSON. */
START_TEST(test_values_at_the_limits_are_accepted)
{
	char word[65], *arabic = malloc(255 * 2 + 1), *json = malloc(AP_AUDIT_JSON_MAX + 1);
	struct ap_audit a = { .actor = "a", .via = "cli", .outcome = "ok" };

	memset(word, 'z', 64);
	word[64] = '\0';
	for (int i = 0; i < 255; i++)
		memcpy(arabic + 2 * i, "\xd8\xb3", 2); /* س */
	arabic[510] = '\0';
	memset(json, ' ', AP_AUDIT_JSON_MAX);
	json[0] = '[';
	json[AP_AUDIT_JSON_MAX - 1] = ']';
	json[AP_AUDIT_JSON_MAX] = '\0';
	a.action = word;
	a.target = arabic;
	a.before_json = json;
	ck_assert_int_eq(ap_audit_record(db, &a), AP_DB_OK);
	assert_intact(1);
	free(arabic);
	free(json);
}
END_TEST

START_TEST(test_row_joins_the_callers_transaction)
{
	record("admin", "user.add", "bob", "ok");
	ck_assert_int_eq(ap_db_begin(db), AP_DB_OK);
	record("admin", "user.delete", "bob", "ok");
	ck_assert(ap_db_in_transaction(db));
	ck_assert_int_eq(ap_db_rollback(db), AP_DB_OK);
	ck_assert_int_eq(count_rows(), 1);
	ck_assert_int_eq(head_count(), 1);
	assert_intact(1);

	ck_assert_int_eq(ap_db_begin(db), AP_DB_OK);
	record("admin", "user.delete", "bob", "ok");
	ck_assert(ap_db_in_transaction(db));
	ck_assert_int_eq(ap_db_commit(db), AP_DB_OK);
	record("admin", "user.add", "carol", "ok");
	assert_intact(3);
}
END_TEST

/* A refused row inside the caller's transaction leaves that transaction to the caller. */
START_TEST(test_invalid_row_keeps_the_callers_transaction_open)
{
	struct ap_audit bad = { .actor = "admin", .via = "web", .action = "x", .outcome = "ok" };

	ck_assert_int_eq(ap_db_begin(db), AP_DB_OK);
	ck_assert_int_eq(ap_audit_record(db, &bad), AP_DB_EINVAL);
	ck_assert(ap_db_in_transaction(db));
	ck_assert_int_eq(ap_db_rollback(db), AP_DB_OK);
}
END_TEST

struct collected {
	int64_t ids[64];
	int n;
	int stop_after; /* 0 = never */
};

static bool
collect(void *arg, const struct ap_audit_row *r)
{
	struct collected *c = arg;

	if (c->n < 64)
		c->ids[c->n] = r->id;
	c->n++;
	return c->stop_after == 0 || c->n < c->stop_after;
}

static struct collected
run_query(struct ap_audit_filter f)
{
	struct collected c = { .n = 0 };
	int64_t n = -1;

	if (f.limit == 0)
		f.limit = 100;
	ck_assert_int_eq(ap_audit_query(db, &f, collect, &c, &n), AP_DB_OK);
	ck_assert_int_eq(n, c.n);
	return c;
}

static void
assert_ids(struct collected c, const int64_t *want, int nwant)
{
	ck_assert_int_eq(c.n, nwant);
	for (int i = 0; i < nwant; i++)
		ck_assert_int_eq(c.ids[i], want[i]);
}

/* Rows 1..6 at three days in June 2024 (times set afterwards: the chain is not the point here). */
static void
filter_rows(void)
{
	record("admin", "user.add", "bob", "ok");         /* 1: 2024-06-01 00:00:00 */
	record("admin", "login", NULL, "denied");         /* 2: 2024-06-01 23:59:59 */
	record("مدير", "site.add", "مثال.كوم", "ok");     /* 3: 2024-06-02 12:00:00 */
	record("bob", "login", NULL, "ok");               /* 4: 2024-06-02 12:00:01 */
	record("bob", "site.delete", "a.example", "failed"); /* 5: 2024-06-03 00:00:00 */
	record("admin", "login", NULL, "ok");             /* 6: 2024-06-03 08:00:00 */
	tamper("UPDATE audit_log SET at = CASE id WHEN 1 THEN 1717200000 WHEN 2 THEN 1717286399 "
	       "WHEN 3 THEN 1717329600 WHEN 4 THEN 1717329601 WHEN 5 THEN 1717372800 "
	       "ELSE 1717401600 END");
}

START_TEST(test_query_filters)
{
	static const int64_t all[] = { 6, 5, 4, 3, 2, 1 };
	static const int64_t admin[] = { 6, 2, 1 };
	static const int64_t arabic[] = { 3 };
	static const int64_t logins[] = { 6, 4, 2 };
	static const int64_t ok_logins_admin[] = { 6 };
	static const int64_t denied[] = { 2 };
	static const int64_t june1[] = { 2, 1 };
	static const int64_t june2_on[] = { 6, 5, 4, 3 };
	static const int64_t to_june2[] = { 4, 3, 2, 1 };
	static const int64_t page2[] = { 4, 3 };
	static const int64_t last[] = { 1 };

	filter_rows();
	assert_ids(run_query((struct ap_audit_filter){ 0 }), all, 6);
	assert_ids(run_query((struct ap_audit_filter){ .actor = "admin" }), admin, 3);
	assert_ids(run_query((struct ap_audit_filter){ .actor = "مدير" }), arabic, 1);
	assert_ids(run_query((struct ap_audit_filter){ .actor = "adm" }), NULL, 0);
	assert_ids(run_query((struct ap_audit_filter){ .actor = "" }), all, 6);
	assert_ids(run_query((struct ap_audit_filter){ .action = "login" }), logins, 3);
	assert_ids(run_query((struct ap_audit_filter){ .action = "login", .outcome = "ok",
		       .actor = "admin" }),
	    ok_logins_admin, 1);
	assert_ids(run_query((struct ap_audit_filter){ .outcome = "denied" }), denied, 1);
	assert_ids(run_query((struct ap_audit_filter){ .from = 1717200000, .to = 1717286399 }), june1, 2);
	assert_ids(run_query((struct ap_audit_filter){ .from = 1717286400 }), june2_on, 4);
	assert_ids(run_query((struct ap_audit_filter){ .to = 1717372799 }), to_june2, 4);
	assert_ids(run_query((struct ap_audit_filter){ .limit = 2, .offset = 2 }), page2, 2);
	assert_ids(run_query((struct ap_audit_filter){ .limit = 2, .offset = 5 }), last, 1);
	assert_ids(run_query((struct ap_audit_filter){ .limit = 2, .offset = 6 }), NULL, 0);
	/* Text that looks like SQL is only ever a value. */
	assert_ids(run_query((struct ap_audit_filter){ .actor = "admin' OR '1'='1" }), NULL, 0);
}
END_TEST

START_TEST(test_query_stops_when_asked_and_refuses_bad_paging)
{
	struct collected c = { .stop_after = 2 };
	struct ap_audit_filter f = { .limit = 100 };
	int64_t n = -1;

	filter_rows();
	ck_assert_int_eq(ap_audit_query(db, &f, collect, &c, &n), AP_DB_OK);
	ck_assert_int_eq(c.n, 2);
	ck_assert_int_eq(n, 2);
	f.limit = 0;
	ck_assert_int_eq(ap_audit_query(db, &f, collect, &c, NULL), AP_DB_EINVAL);
	f.limit = 100001;
	ck_assert_int_eq(ap_audit_query(db, &f, collect, &c, NULL), AP_DB_EINVAL);
	f.limit = 10;
	f.offset = -1;
	ck_assert_int_eq(ap_audit_query(db, &f, collect, &c, NULL), AP_DB_EINVAL);
}
END_TEST

static const struct {
	const char *in, *out;
} csv_cells[] = {
	{ NULL, "" },
	{ "", "" },
	{ "plain", "plain" },
	{ "a,b", "\"a,b\"" },
	{ "say \"hi\"", "\"say \"\"hi\"\"\"" },
	{ "\"", "\"\"\"\"" },
	{ "line1\nline2", "\"line1\nline2\"" },
	{ "a\r\nb", "\"a\r\nb\"" },
	{ "=1+2", "'=1+2" },
	{ "+1", "'+1" },
	{ "-1", "'-1" },
	{ "@SUM(A1)", "'@SUM(A1)" },
	{ "\tx", "'\tx" },
	{ "\rx", "\"'\rx\"" },
	{ "=HYPERLINK(\"http://x\",\"y\")", "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"" },
	{ "a=1", "a=1" },
	{ "مدير النظام", "مدير النظام" },
	{ "مثال, \"عربي\"", "\"مثال, \"\"عربي\"\"\"" },
	{ "{\"a\":1,\"b\":2}", "\"{\"\"a\"\":1,\"\"b\"\":2}\"" },
};

START_TEST(test_csv_cell)
{
	struct ap_buf b = { 0 };

	ap_audit_csv_cell(&b, csv_cells[_i].in);
	ck_assert_str_eq(ap_buf_cstr(&b), csv_cells[_i].out);
	ap_buf_free(&b);
}
END_TEST

START_TEST(test_csv_row)
{
	struct ap_audit_row r = { .id = 42, .at = 1717243200, .actor = "مدير", .actor_user_id = 3,
		.addr = NULL, .via = "ui", .action = "user.add", .target = "=cmd", .outcome = "ok",
		.before_json = NULL, .after_json = "{\"a\":1}" };
	struct ap_buf b = { 0 };

	ap_audit_csv_header(&b);
	ap_audit_csv_row(&b, &r);
	r.actor_user_id = 0;
	r.target = NULL;
	r.after_json = NULL;
	ap_audit_csv_row(&b, &r);
	ck_assert_str_eq(ap_buf_cstr(&b),
	    "id,at,actor,actor_user_id,addr,via,action,target,outcome,before,after\r\n"
	    "42,2024-06-01T12:00:00Z,مدير,3,,ui,user.add,'=cmd,ok,,\"{\"\"a\"\":1}\"\r\n"
	    "42,2024-06-01T12:00:00Z,مدير,,,ui,user.add,,ok,,\r\n");
	ap_buf_free(&b);
}
END_TEST

START_TEST(test_iso8601)
{
	char s[21];

	ap_audit_iso8601(0, s);
	ck_assert_str_eq(s, "1970-01-01T00:00:00Z");
	ap_audit_iso8601(1717243200, s);
	ck_assert_str_eq(s, "2024-06-01T12:00:00Z");
	ap_audit_iso8601(1709251199, s);
	ck_assert_str_eq(s, "2024-02-29T23:59:59Z");
}
END_TEST

#define WRITERS 8
#define PER_WRITER 25

/* Eight processes, each with its own connection, append at once. */
START_TEST(test_concurrent_writers_keep_one_chain)
{
	pid_t pids[WRITERS];
	int status;

	for (int w = 0; w < WRITERS; w++) {
		pids[w] = fork();
		ck_assert_int_ge(pids[w], 0);
		if (pids[w] == 0) {
			struct ap_db *mine = NULL;
			struct ap_db_opts o = { .dsn = dsn };
			char actor[32];
			int fails = 0;

			if (ap_db_open(&o, &mine) != AP_DB_OK)
				_exit(2);
			snprintf(actor, sizeof(actor), "writer%d", w);
			for (int i = 0; i < PER_WRITER; i++) {
				struct ap_audit a = { .actor = actor, .via = "system", .action = "bench.write",
					.target = "t", .outcome = "ok" };

				if (ap_audit_record(mine, &a) != AP_DB_OK)
					fails++;
			}
			ap_db_close(mine);
			_exit(fails ? 1 : 0);
		}
	}
	for (int w = 0; w < WRITERS; w++) {
		ck_assert_int_eq(waitpid(pids[w], &status, 0), pids[w]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer %d failed", w);
	}
	ck_assert_int_eq(count_rows(), WRITERS * PER_WRITER);
	ck_assert_int_eq(head_count(), WRITERS * PER_WRITER);
	assert_intact(WRITERS * PER_WRITER);
}
END_TEST

/* The audit page verifies while workers append: that must never look like tampering. */
START_TEST(test_verify_during_writes_sees_no_tampering)
{
	pid_t pids[4];
	int status, running = 4, checks = 0;

	for (int w = 0; w < 4; w++) {
		pids[w] = fork();
		ck_assert_int_ge(pids[w], 0);
		if (pids[w] == 0) {
			struct ap_db *mine = NULL;
			struct ap_db_opts o = { .dsn = dsn };
			int fails = 0;

			if (ap_db_open(&o, &mine) != AP_DB_OK)
				_exit(2);
			for (int i = 0; i < 50; i++) {
				struct ap_audit a = { .actor = "w", .via = "api", .action = "x", .outcome = "ok" };

				if (ap_audit_record(mine, &a) != AP_DB_OK)
					fails++;
			}
			ap_db_close(mine);
			_exit(fails ? 1 : 0);
		}
	}
	while (running > 0) {
		int64_t rows = 0, bad = 0;
		char why[256];
		pid_t p;

		ck_assert_int_eq(ap_audit_verify(db, &rows, &bad, why, sizeof(why)), AP_DB_OK);
		ck_assert_msg(bad == 0, "after %d checks, %lld rows: %s", checks, (long long)rows, why);
		checks++;
		while ((p = waitpid(-1, &status, WNOHANG)) > 0) {
			ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a writer failed");
			running--;
		}
	}
	assert_intact(200);
}
END_TEST

static Suite *
audit_suite(void)
{
	Suite *s = suite_create("audit");
	TCase *tc = tcase_create("chain");
	TCase *tq = tcase_create("query");
	TCase *tcsv = tcase_create("csv");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_recorded_rows_verify_and_read_back);
	tcase_add_test(tc, test_row_hash_format_is_pinned);
	tcase_add_test(tc, test_edited_target_is_named);
	tcase_add_test(tc, test_edited_before_json_is_named);
	tcase_add_test(tc, test_null_and_empty_are_different);
	tcase_add_test(tc, test_field_boundaries_are_unambiguous);
	tcase_add_test(tc, test_deleted_middle_row_names_the_next);
	tcase_add_test(tc, test_deleted_first_row_names_the_next);
	tcase_add_test(tc, test_deleted_last_row_is_found_by_the_head);
	tcase_add_test(tc, test_deleted_last_row_with_count_fixed_is_found);
	tcase_add_test(tc, test_all_rows_deleted_is_found);
	tcase_add_test(tc, test_row_added_behind_the_head_is_found);
	tcase_add_test(tc, test_changed_prev_hash_is_named);
	tcase_add_test(tc, test_rehashed_row_breaks_the_next_link);
	tcase_add_test(tc, test_rehashed_last_row_is_found_by_the_head);
	tcase_add_test(tc, test_linked_row_added_behind_the_head_is_found);
	tcase_add_test(tc, test_cli_reports_intact_and_broken);
	tcase_add_loop_test(tc, test_invalid_rows_are_refused_and_nothing_is_written, 0,
	    (int)AP_NELEM(invalid));
	tcase_add_test(tc, test_values_at_the_limits_are_accepted);
	tcase_add_test(tc, test_row_joins_the_callers_transaction);
	tcase_add_test(tc, test_invalid_row_keeps_the_callers_transaction_open);
	tcase_add_test(tc, test_concurrent_writers_keep_one_chain);
	tcase_add_test(tc, test_verify_during_writes_sees_no_tampering);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(tq, setup, teardown);
	tcase_add_test(tq, test_query_filters);
	tcase_add_test(tq, test_query_stops_when_asked_and_refuses_bad_paging);
	suite_add_tcase(s, tq);

	tcase_add_loop_test(tcsv, test_csv_cell, 0, (int)AP_NELEM(csv_cells));
	tcase_add_test(tcsv, test_csv_row);
	tcase_add_test(tcsv, test_iso8601);
	suite_add_tcase(s, tcsv);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(audit_suite());
	int failed;

	/* Every test migrates a fresh database; those lines are noise here. */
	ap_log_set_level(AP_LOG_WARN);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
