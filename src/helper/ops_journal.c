/*
 * ops_journal.c — the panel's and the helper's own log read from the systemd
 * journal (docs/files.md, "Logs"), when they log to their standard error
 * (log.file = "", journald under systemd): logs.journal answers the newest
 * `lines` entries of the unit (_SYSTEMD_UNIT=aapanel.service or
 * aapanel-helper.service: log.panel_unit and log.helper_unit), oldest first, that contain `search` and are of
 * `level` or more severe (PRIORITY 0..7 is the index of the level: emerg ..
 * debug); `before` (the answer's `older` cursor) reads the page before it. It is bounded: at most LINES_MAX lines, SCAN_MAX entries read from
 * the end, BYTES_MAX bytes of text and MSG_MAX bytes a line. The request
 * names a unit by an enum only, never a match or a path. The answer's
 * `newest` is the cursor of the unit's last entry (whatever the filters).
 *
 * The follow view (the sampler's journal streams, src/sampler/jfollow.c)
 * reads forward instead: `after` a cursor (an answer's `newest`), or from
 * the unit's first entry with `head` (a unit that had none when the stream
 * began): the matching entries after it, oldest first, at most `lines` and
 * FWD_BYTES_MAX bytes, and `newest` the cursor of the last entry read (the
 * next poll's `after`; filtered entries are not read again).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-journal.h>

#include "ops.h"

#define LINES_MAX 5000
#define SCAN_MAX 200000
#define BYTES_MAX (512 * 1024)
#define MSG_MAX 2048
#define FWD_BYTES_MAX (256 * 1024)
#define CURSOR_MAX 512

static const char *const systems[] = {"panel", "helper", NULL};
static const char *const levels[] = {"emerg",  "alert", "crit",	 "error", "warn",
				     "notice", "info",	"debug", NULL};

/* A cursor the journal gave ("s=…;i=…;b=…;m=…;t=…;x=…"): lowercase letters, digits, '=' and
 * ';', nothing else (no match, no path, no second field). */
static const char *
check_cursor(const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'z') || v[i] == '=' ||
		      v[i] == ';'))
			return "is not a cursor of the journal";
	return NULL;
}

enum { LJ_WHICH, LJ_LINES, LJ_SEARCH, LJ_LEVEL, LJ_BEFORE, LJ_AFTER, LJ_HEAD, LJ__MAX };
const struct ap_field ap_ops_logs_journal_args[LJ__MAX + 1] = {
    [LJ_WHICH] = {.name = "which",
		  .type = AP_FIELD_ENUM,
		  .flags = AP_FIELD_REQUIRED,
		  .choices = systems},
    [LJ_LINES] = {.name = "lines", .type = AP_FIELD_INT, .min = 1, .max = LINES_MAX},
    [LJ_SEARCH] = {.name = "search", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE, .max = 200},
    [LJ_LEVEL] = {.name = "level", .type = AP_FIELD_ENUM, .choices = levels},
    [LJ_BEFORE] = {.name = "before",
		   .type = AP_FIELD_TEXT,
		   .flags = AP_FIELD_SINGLELINE,
		   .max = CURSOR_MAX,
		   .check = check_cursor},
    [LJ_AFTER] = {.name = "after",
		  .type = AP_FIELD_TEXT,
		  .flags = AP_FIELD_SINGLELINE,
		  .max = CURSOR_MAX,
		  .check = check_cursor},
    [LJ_HEAD] = {.name = "head", .type = AP_FIELD_BOOL},
    [LJ__MAX] = AP_FIELD_END,
};

/* The field's value (data, "NAME=value") without its name, its length in *n. */
static const char *
field_of(sd_journal *j, const char *name, size_t *n)
{
	const void *d;
	size_t len, k = strlen(name);

	if (sd_journal_get_data(j, name, &d, &len) < 0 || len <= k)
		return NULL;
	*n = len - k - 1;
	return (const char *)d + k + 1;
}

/* A log.c line ("2026-01-01T00:00:00.000Z ...") is shown as it is; any other is given the
 * entry's time first. */
static bool
has_time(const char *m, size_t n)
{
	return n > 24 && m[4] == '-' && m[7] == '-' && m[10] == 'T' && m[23] == 'Z';
}

/* The current entry as a line into line (MSG_MAX + 64 bytes), its length; -1 when it has no
 * message or does not match level (-1: any) and search (NULL: any). */
static int
entry_line(sd_journal *j, int level, const char *search, char *line, size_t size)
{
	const char *m, *p;
	size_t n, pn;
	int len;

	if ((m = field_of(j, "MESSAGE", &n)) == NULL)
		return -1;
	if (n > MSG_MAX)
		n = MSG_MAX;
	if (level >= 0) {
		p = field_of(j, "PRIORITY", &pn);
		if (p == NULL || pn != 1 || p[0] < '0' || p[0] > '7' || p[0] - '0' > level)
			return -1;
	}
	if (has_time(m, n)) {
		len = snprintf(line, size, "%.*s", (int)n, m);
	} else {
		uint64_t us = 0;
		time_t t;
		struct tm tm;
		char ts[32];

		sd_journal_get_realtime_usec(j, &us);
		t = (time_t)(us / 1000000);
		gmtime_r(&t, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
		len = snprintf(line, size, "%s.%03dZ %.*s", ts, (int)(us / 1000 % 1000), (int)n, m);
	}
	if (len < 0)
		return -1;
	if ((size_t)len >= size)
		len = (int)size - 1;
	/* Control characters (a journal message may hold them) shown as spaces. */
	for (int i = 0; i < len; i++)
		if ((unsigned char)line[i] < 0x20)
			line[i] = ' ';
	if (search != NULL && strstr(line, search) == NULL)
		return -1;
	return len;
}

static enum ap_err
open_unit(struct helper_ctx *ctx, sd_journal **j)
{
	const char *unit = ctx->args[LJ_WHICH].i == 0 ? ctx->cfg->log_panel_unit : ctx->cfg->log_helper_unit;
	char match[160];
	int r;

	/* The configuration checked the name (one .service unit, unitname.h): one match, nothing else. */
	if (unit == NULL || unit[0] == '\0' || strchr(unit, '=') != NULL ||
	    snprintf(match, sizeof(match), "_SYSTEMD_UNIT=%s", unit) >= (int)sizeof(match)) {
		*j = NULL;
		return ap_problem_set(ctx->pb, AP_PB_FAILED, "which", "no unit is configured for it");
	}
	if ((r = sd_journal_open(j, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM)) < 0) {
		*j = NULL;
		ap_problem_set(ctx->pb, AP_PB_FAILED, "which", "the journal cannot be opened: %s",
			       strerror(-r));
		return AP_ERR_IO;
	}
	sd_journal_set_data_threshold(*j, MSG_MAX + 16);
	if ((r = sd_journal_add_match(*j, match, 0)) < 0) {
		sd_journal_close(*j);
		*j = NULL;
		ap_problem_set(ctx->pb, AP_PB_FAILED, "which", "the journal cannot be read: %s",
			       strerror(-r));
		return AP_ERR_IO;
	}
	return AP_OK;
}

/* Forward from `after` (or the unit's first entry: `head`): the follow view's poll. */
static enum ap_err
journal_forward(struct helper_ctx *ctx, int want, int level, const char *search)
{
	const struct ap_fieldval *a = ctx->args;
	const char *after = a[LJ_AFTER].present && a[LJ_AFTER].s[0] ? a[LJ_AFTER].s : NULL;
	struct json_object *lines;
	char *newest = NULL;
	size_t bytes = 0;
	long scanned = 0;
	bool cut = false;
	sd_journal *j;
	int r;

	if (after != NULL && a[LJ_HEAD].present && a[LJ_HEAD].b)
		return ap_problem_set(ctx->pb, AP_PB_INVALID, "head", "cannot be given with after");
	if (open_unit(ctx, &j) != AP_OK)
		return AP_ERR_IO;
	if ((r = after != NULL ? sd_journal_seek_cursor(j, after) : sd_journal_seek_head(j)) < 0) {
		sd_journal_close(j);
		return ap_problem_set(ctx->pb, AP_PB_INVALID, "after", "is not a cursor of the journal: %s",
				      strerror(-r));
	}
	lines = json_object_new_array();
	while ((int)json_object_array_length(lines) < want) {
		char line[MSG_MAX + 64];
		char *cur = NULL;
		int len;

		if (sd_journal_next(j) <= 0)
			break;
		/* The cursor's own entry was the last poll's newest. */
		if (after != NULL && scanned == 0 && sd_journal_test_cursor(j, after) > 0) {
			scanned++;
			continue;
		}
		if (++scanned > SCAN_MAX) {
			cut = true;
			break;
		}
		if ((len = entry_line(j, level, search, line, sizeof(line))) >= 0) {
			if (bytes + (size_t)len > FWD_BYTES_MAX) {
				cut = true;
				break; /* this one comes with the next poll: newest stays before it */
			}
			bytes += (size_t)len;
			json_object_array_add(lines, json_object_new_string_len(line, len));
		}
		if (sd_journal_get_cursor(j, &cur) >= 0) {
			free(newest);
			newest = cur;
		}
	}
	sd_journal_close(j);
	json_object_object_add(ctx->result, "lines", lines);
	json_object_object_add(ctx->result, "scanned", json_object_new_int64(scanned));
	json_object_object_add(ctx->result, "cut", json_object_new_boolean(cut));
	/* Where the next poll goes on: the last entry read, or where this one began. */
	if (newest != NULL)
		json_object_object_add(ctx->result, "newest", json_object_new_string(newest));
	else if (after != NULL)
		json_object_object_add(ctx->result, "newest", json_object_new_string(after));
	free(newest);
	return AP_OK;
}

enum ap_err
ap_ops_logs_journal(struct helper_ctx *ctx)
{
	const struct ap_fieldval *a = ctx->args;
	int want = a[LJ_LINES].present ? (int)a[LJ_LINES].i : 200;
	int level = a[LJ_LEVEL].present ? (int)a[LJ_LEVEL].i : -1;
	const char *search = a[LJ_SEARCH].present && a[LJ_SEARCH].s[0] ? a[LJ_SEARCH].s : NULL;
	struct json_object *found, *lines;
	size_t bytes = 0;
	long scanned = 0;
	bool cut = false;
	const char *before = a[LJ_BEFORE].present && a[LJ_BEFORE].s[0] ? a[LJ_BEFORE].s : NULL;
	char *older = NULL, *newest = NULL;
	bool more = false;
	sd_journal *j = NULL;
	int r;

	if (before != NULL && check_cursor(before, strlen(before)) != NULL)
		return ap_problem_set(ctx->pb, AP_PB_INVALID, "before", "is not a cursor of the journal");
	if ((a[LJ_AFTER].present && a[LJ_AFTER].s[0]) || (a[LJ_HEAD].present && a[LJ_HEAD].b)) {
		if (before != NULL)
			return ap_problem_set(ctx->pb, AP_PB_INVALID, "after", "cannot be given with before");
		return journal_forward(ctx, want, level, search);
	}
	if (open_unit(ctx, &j) != AP_OK)
		return AP_ERR_IO;
	if ((r = before != NULL ? sd_journal_seek_cursor(j, before) : sd_journal_seek_tail(j)) < 0) {
		sd_journal_close(j);
		ap_problem_set(ctx->pb, AP_PB_FAILED, "which", "the journal cannot be read: %s",
			       strerror(-r));
		return AP_ERR_IO;
	}
	found = json_object_new_array();
	lines = json_object_new_array();
	for (;;) {
		char line[MSG_MAX + 64];
		int len;

		if ((int)json_object_array_length(found) >= want) {
			more = sd_journal_previous(j) > 0;
			break;
		}
		if (sd_journal_previous(j) <= 0)
			break;
		/* The unit's last entry: where a follower starts (the answer's newest). */
		if (before == NULL && scanned == 0 && sd_journal_get_cursor(j, &newest) < 0)
			newest = NULL;
		/* The cursor's own entry was the last page's oldest. */
		if (before != NULL && scanned == 0 && sd_journal_test_cursor(j, before) > 0) {
			scanned++;
			continue;
		}
		if (++scanned > SCAN_MAX) {
			/* The next page goes on from the last entry read here. */
			cut = true;
			free(older);
			older = NULL;
			if (sd_journal_next(j) <= 0 || sd_journal_get_cursor(j, &older) < 0)
				older = NULL;
			break;
		}
		if ((len = entry_line(j, level, search, line, sizeof(line))) < 0)
			continue;
		if (bytes + (size_t)len > BYTES_MAX) {
			cut = true;
			break;
		}
		bytes += (size_t)len;
		json_object_array_add(found, json_object_new_string_len(line, len));
		free(older);
		older = NULL;
		if (sd_journal_get_cursor(j, &older) < 0)
			older = NULL;
	}
	sd_journal_close(j);
	for (size_t i = json_object_array_length(found); i > 0; i--)
		json_object_array_add(lines, json_object_get(json_object_array_get_idx(found, i - 1)));
	json_object_put(found);
	json_object_object_add(ctx->result, "lines", lines);
	json_object_object_add(ctx->result, "scanned", json_object_new_int64(scanned));
	json_object_object_add(ctx->result, "cut", json_object_new_boolean(cut));
	/* The oldest entry's cursor when there may be older ones: the next page's `before`. */
	if ((more || cut) && older != NULL)
		json_object_object_add(ctx->result, "older", json_object_new_string(older));
	if (newest != NULL)
		json_object_object_add(ctx->result, "newest", json_object_new_string(newest));
	free(older);
	free(newest);
	return AP_OK;
}
