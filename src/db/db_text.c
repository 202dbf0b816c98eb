/*
 * db_text.c — what the drivers share below the generic API (db_int.h):
 * the error message of a connection, and walking SQL text (counting and
 * rewriting '?' placeholders, splitting a script into statements). Kept
 * apart from db.c, which calls the drivers, so the drivers' calls into
 * shared code never loop back into it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_int.h"

enum ap_db_rc
ap_db_set_error(struct ap_db *db, enum ap_db_rc rc, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(db->errmsg, sizeof(db->errmsg), fmt, ap);
	va_end(ap);
	/* Backends end messages with newlines; a log line must not. */
	n = strlen(db->errmsg);
	while (n > 0 && (db->errmsg[n - 1] == '\n' || db->errmsg[n - 1] == ' '))
		db->errmsg[--n] = '\0';
	for (char *p = db->errmsg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	return rc;
}

/* ---------------------------------------------------------------- SQL text helpers */

/*
 * Walk sql calling fn at every '?' outside quotes and comments. SQL text is
 * the panel's own (constants): it uses doubled quotes, never backslash
 * escapes, so the same text means the same on every backend.
 */
static int
scan_params(const char *sql, void (*fn)(void *ctx, size_t pos), void *ctx)
{
	int n = 0;
	char q = 0;

	for (size_t i = 0; sql[i]; i++) {
		char c = sql[i];

		if (q) {
			if (c == q) {
				if (sql[i + 1] == q) /* doubled quote */
					i++;
				else
					q = 0;
			}
			continue;
		}
		if (c == '\'' || c == '"' || c == '`')
			q = c;
		else if (c == '-' && sql[i + 1] == '-') {
			while (sql[i + 1] && sql[i + 1] != '\n')
				i++;
		} else if (c == '/' && sql[i + 1] == '*') {
			i += 2;
			while (sql[i] && !(sql[i] == '*' && sql[i + 1] == '/'))
				i++;
			if (sql[i] == '\0')
				break;
			i++;
		} else if (c == '?') {
			if (fn)
				fn(ctx, i);
			n++;
		}
	}
	return n;
}

int
ap_db_count_params(const char *sql)
{
	return scan_params(sql, NULL, NULL);
}

struct rewrite {
	const char *sql;
	size_t last;
	int n;
	struct ap_buf out;
};

static void
rewrite_one(void *p, size_t pos)
{
	struct rewrite *r = p;

	ap_buf_append(&r->out, r->sql + r->last, pos - r->last);
	ap_buf_printf(&r->out, "$%d", ++r->n);
	r->last = pos + 1;
}

char *
ap_db_rewrite_params_pg(const char *sql)
{
	struct rewrite r = { sql, 0, 0, { 0 } };

	scan_params(sql, rewrite_one, &r);
	ap_buf_puts(&r.out, sql + r.last);
	return r.out.data ? r.out.data : ap_xstrdup("");
}

enum ap_db_rc
ap_db_script_each(struct ap_db *db, const char *sql,
    enum ap_db_rc (*fn)(struct ap_db *db, const char *stmt))
{
	struct ap_buf cur = { 0 };
	const char *line = sql;
	enum ap_db_rc rc = AP_DB_OK;

	while (*line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		size_t t = len;

		while (t > 0 && (line[t - 1] == ' ' || line[t - 1] == '\t' || line[t - 1] == '\r'))
			t--;
		ap_buf_append(&cur, line, len);
		ap_buf_putc(&cur, '\n');
		if (t > 0 && line[t - 1] == ';') {
			/* drop the final ';' */
			char *semi = strrchr(cur.data, ';');

			*semi = '\0';
			if (strspn(cur.data, " \t\r\n") != strlen(cur.data)) {
				rc = fn(db, cur.data);
				if (rc < 0)
					goto out;
			}
			ap_buf_reset(&cur);
		}
		line += len + (nl ? 1 : 0);
	}
	if (cur.len && strspn(cur.data, " \t\r\n") != cur.len) {
		/* Allow comments-only tails; anything else needs a ';'. */
		const char *p = cur.data;
		bool only_comments = true;

		while (*p) {
			p += strspn(p, " \t\r\n");
			if (*p == '\0')
				break;
			if (strncmp(p, "--", 2) != 0) {
				only_comments = false;
				break;
			}
			p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p);
		}
		if (!only_comments)
			rc = fn(db, cur.data);
	}
out:
	ap_buf_free(&cur);
	return rc;
}

