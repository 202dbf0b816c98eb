/*
 * ops_journal.c — the panel's and the helper's own log read from the systemd
 * journal (docs/files.md, "Logs"), when they log to their standard error
 * (log.file = "", journald under systemd): logs.journal answers the newest
 * `lines` entries of the unit (_SYSTEMD_UNIT=aapanel.service or
 * aapanel-helper.service), oldest first, that contain `search` and are of
 * `level` or more severe (PRIORITY 0..7 is the index of the level: emerg ..
 * debug); `before` (the answer's `older` cursor) reads the page before it. It is bounded: at most LINES_MAX lines, SCAN_MAX entries read from
 * the end, BYTES_MAX bytes of text and MSG_MAX bytes a line. The request
 * names a unit by an enum only, never a match or a path.
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

static const char *const systems[] = {"panel", "helper", NULL};
static const char *const units[] = {"_SYSTEMD_UNIT=aapanel.service",
				    "_SYSTEMD_UNIT=aapanel-helper.service"};
static const char *const levels[] = {"emerg",  "alert", "crit",	 "error", "warn",
				     "notice", "info",	"debug", NULL};

enum { LJ_WHICH, LJ_LINES, LJ_SEARCH, LJ_LEVEL, LJ_BEFORE, LJ__MAX };
const struct ap_field ap_ops_logs_journal_args[LJ__MAX + 1] = {
    [LJ_WHICH] = {.name = "which",
		  .type = AP_FIELD_ENUM,
		  .flags = AP_FIELD_REQUIRED,
		  .choices = systems},
    [LJ_LINES] = {.name = "lines", .type = AP_FIELD_INT, .min = 1, .max = LINES_MAX},
    [LJ_SEARCH] = {.name = "search", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE, .max = 200},
    [LJ_LEVEL] = {.name = "level", .type = AP_FIELD_ENUM, .choices = levels},
    [LJ_BEFORE] = {.name = "before", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE, .max = 512},
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

enum ap_err
ap_ops_logs_journal(struct helper_ctx *ctx)
{
	const struct ap_fieldval *a = ctx->args;
	int want = a[LJ_LINES].present ? (int)a[LJ_LINES].i : 200;
	int level = a[LJ_LEVEL].present ? (int)a[LJ_LEVEL].i : -1;
	const char *search = a[LJ_SEARCH].present && a[LJ_SEARCH].s[0] ? a[LJ_SEARCH].s : NULL;
	struct json_object *found = json_object_new_array();
	struct json_object *lines = json_object_new_array();
	size_t bytes = 0;
	long scanned = 0;
	bool cut = false;
	const char *before = a[LJ_BEFORE].present && a[LJ_BEFORE].s[0] ? a[LJ_BEFORE].s : NULL;
	char *older = NULL;
	bool more = false;
	sd_journal *j = NULL;
	int r;

	/* A cursor the answer gave ("s=…;i=…;b=…;m=…;t=…;x=…"): letters, digits, '=' and ';'. */
	for (const char *c = before; c != NULL && *c; c++)
		if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') || *c == '=' || *c == ';')) {
			json_object_put(found);
			json_object_put(lines);
			return ap_problem_set(ctx->pb, AP_PB_INVALID, "before",
					      "is not a cursor of the journal");
		}

	if ((r = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM)) < 0) {
		json_object_put(found);
		json_object_put(lines);
		ap_problem_set(ctx->pb, AP_PB_FAILED, "which", "the journal cannot be opened: %s",
			       strerror(-r));
		return AP_ERR_IO;
	}
	sd_journal_set_data_threshold(j, MSG_MAX + 16);
	if ((r = sd_journal_add_match(j, units[a[LJ_WHICH].i], 0)) < 0 ||
	    (r = before != NULL ? sd_journal_seek_cursor(j, before) : sd_journal_seek_tail(j)) < 0) {
		sd_journal_close(j);
		json_object_put(found);
		json_object_put(lines);
		ap_problem_set(ctx->pb, AP_PB_FAILED, "which", "the journal cannot be read: %s",
			       strerror(-r));
		return AP_ERR_IO;
	}
	for (;;) {
		const char *m, *p;
		size_t n, pn;
		char line[MSG_MAX + 64];
		int len;

		if ((int)json_object_array_length(found) >= want) {
			more = sd_journal_previous(j) > 0;
			break;
		}
		if (sd_journal_previous(j) <= 0)
			break;
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
		if ((m = field_of(j, "MESSAGE", &n)) == NULL)
			continue;
		if (n > MSG_MAX)
			n = MSG_MAX;
		if (level >= 0) {
			p = field_of(j, "PRIORITY", &pn);
			if (p == NULL || pn != 1 || p[0] < '0' || p[0] > '7' || p[0] - '0' > level)
				continue;
		}
		if (has_time(m, n)) {
			len = snprintf(line, sizeof(line), "%.*s", (int)n, m);
		} else {
			uint64_t us = 0;
			time_t t;
			struct tm tm;
			char ts[32];

			sd_journal_get_realtime_usec(j, &us);
			t = (time_t)(us / 1000000);
			gmtime_r(&t, &tm);
			strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
			len = snprintf(line, sizeof(line), "%s.%03dZ %.*s", ts,
				       (int)(us / 1000 % 1000), (int)n, m);
		}
		if (len < 0)
			continue;
		if ((size_t)len >= sizeof(line))
			len = (int)sizeof(line) - 1;
		/* Control characters (a journal message may hold them) shown as spaces. */
		for (int i = 0; i < len; i++)
			if ((unsigned char)line[i] < 0x20)
				line[i] = ' ';
		if (search != NULL && strstr(line, search) == NULL)
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
	free(older);
	return AP_OK;
}
