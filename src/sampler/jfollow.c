/*
 * jfollow.c — the sampler's journal follow streams (jfollow.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aapanel/helper.h"
#include "aapanel/log.h"
#include "jfollow.h"

#define PENDING_MAX 256
#define PENDING_MS 10000
#define RETRY_MS 2000
#define LINES_PER_POLL 500

static const char *const levels[] = {"emerg",  "alert", "crit", "error", "warn",
				     "notice", "info",  "debug", NULL};

struct ap_jfollow {
	char token[33];
	uint64_t at; /* handed (pending), then the next poll's time */
	char which[8];
	int level; /* an index of levels, -1 any */
	char search[AP_JFOLLOW_SEARCH_MAX + 1];
	char cursor[AP_JFOLLOW_CURSOR_MAX + 1]; /* "": from the unit's first entry */
	bool failing;
};

/* A helper that did not answer blocks the sampler's loop for its timeout: no follower asks it
 * again before this (the loop's one thread only). */
static uint64_t helper_quiet_until;

struct ap_jfollow_pending {
	struct ap_jfollow *p[PENDING_MAX];
	size_t n;
};

struct ap_jfollow_pending *
ap_jfollow_pending_new(void)
{
	return ap_xcalloc(1, sizeof(struct ap_jfollow_pending));
}

void
ap_jfollow_pending_free(struct ap_jfollow_pending *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n; i++)
		free(p->p[i]);
	free(p);
}

void
ap_jfollow_free(struct ap_jfollow *j)
{
	free(j);
}

static void
expire(struct ap_jfollow_pending *p, uint64_t now)
{
	for (size_t i = p->n; i-- > 0;)
		if (now - p->p[i]->at > PENDING_MS) {
			free(p->p[i]);
			p->p[i] = p->p[--p->n];
		}
}

static bool
token_ok(const char *t)
{
	size_t n = 0;

	for (; t[n] != '\0'; n++)
		if (!((t[n] >= '0' && t[n] <= '9') || (t[n] >= 'a' && t[n] <= 'f')))
			return false;
	return n == 32;
}

const char *
ap_jfollow_cursor(const struct ap_jfollow *j)
{
	return j->cursor;
}

bool
ap_jfollow_cursor_ok(const char *c)
{
	size_t n = 0;

	for (; c[n] != '\0'; n++)
		if (!((c[n] >= '0' && c[n] <= '9') || (c[n] >= 'a' && c[n] <= 'z') || c[n] == '=' ||
		      c[n] == ';'))
			return false;
	return n <= AP_JFOLLOW_CURSOR_MAX;
}

static int
hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* search_hex decoded into out: one line of UTF-8 (no control character but TAB). */
static bool
search_of(const char *hex, char out[static AP_JFOLLOW_SEARCH_MAX + 1])
{
	size_t n = strlen(hex);

	if (n % 2 != 0 || n / 2 > AP_JFOLLOW_SEARCH_MAX)
		return false;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (char)(hi << 4 | lo);
		if ((unsigned char)out[i] < 0x20 && out[i] != '\t')
			return false;
		if ((unsigned char)out[i] == 0x7f)
			return false;
	}
	out[n / 2] = '\0';
	return ap_utf8_valid(out, n / 2);
}

bool
ap_jfollow_pending_add(struct ap_jfollow_pending *p, const char *token, const char *which,
		       const char *level, const char *search_hex, const char *cursor,
		       uint64_t now_ms)
{
	struct ap_jfollow *j;
	int lv = -1;

	expire(p, now_ms);
	if (!token_ok(token) || p->n == PENDING_MAX ||
	    (strcmp(which, "panel") != 0 && strcmp(which, "helper") != 0) ||
	    !ap_jfollow_cursor_ok(cursor))
		return false;
	if (level[0] != '\0') {
		for (int i = 0; levels[i] != NULL; i++)
			if (strcmp(levels[i], level) == 0)
				lv = i;
		if (lv < 0)
			return false;
	}
	j = ap_xcalloc(1, sizeof(*j));
	if (!search_of(search_hex, j->search)) {
		free(j);
		return false;
	}
	memcpy(j->token, token, 33);
	snprintf(j->which, sizeof(j->which), "%s", which);
	snprintf(j->cursor, sizeof(j->cursor), "%s", cursor);
	j->level = lv;
	j->at = now_ms;
	p->p[p->n++] = j;
	return true;
}

struct ap_jfollow *
ap_jfollow_take(struct ap_jfollow_pending *p, const char *token, const char *last, uint64_t now_ms)
{
	expire(p, now_ms);
	if (!token_ok(token))
		return NULL;
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->p[i]->token, token) == 0) {
			struct ap_jfollow *j = p->p[i];

			p->p[i] = p->p[--p->n];
			/* A reconnection goes on from the last event the browser had. */
			if (last != NULL && last[0] != '\0' && ap_jfollow_cursor_ok(last))
				snprintf(j->cursor, sizeof(j->cursor), "%s", last);
			j->at = 0; /* the first poll at once */
			return j;
		}
	return NULL;
}

/* One line as an SSE data line: CR and NUL as '?', and every byte >= 0x80 when not UTF-8. */
static void
put_line(struct ap_buf *out, const char *p, size_t n)
{
	bool utf8 = ap_utf8_valid(p, n);

	ap_buf_puts(out, "data: ");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		ap_buf_putc(out, c < 0x20 || (!utf8 && c >= 0x80) ? (c == '\t' ? '\t' : '?') : (char)c);
	}
	ap_buf_putc(out, '\n');
}

/* The unit's newest entry's cursor (a cursor the helper refused: start again from now). */
static void
reset_to_tail(struct ap_jfollow *j, struct ap_helper_client *h)
{
	struct json_object *a = json_object_new_object(), *res = NULL, *v;
	struct ap_problem pb;

	json_object_object_add(a, "which", json_object_new_string(j->which));
	json_object_object_add(a, "lines", json_object_new_int(1));
	j->cursor[0] = '\0';
	if (ap_helper_call(h, "logs.journal", a, &res, &pb) == AP_OK &&
	    json_object_object_get_ex(res, "newest", &v) && json_object_is_type(v, json_type_string) &&
	    ap_jfollow_cursor_ok(json_object_get_string(v)))
		snprintf(j->cursor, sizeof(j->cursor), "%s", json_object_get_string(v));
	json_object_put(res);
	json_object_put(a);
}

bool
ap_jfollow_poll(struct ap_jfollow *j, struct ap_helper_client *h, uint64_t now_ms,
		struct ap_buf *out)
{
	struct json_object *a, *res = NULL, *lines, *v;
	struct ap_problem pb;
	enum ap_err rc;
	bool any = false;

	if (now_ms < j->at || now_ms < helper_quiet_until)
		return false;
	j->at = now_ms + AP_JFOLLOW_POLL_MS;
	if (h == NULL)
		return false;
	a = json_object_new_object();
	json_object_object_add(a, "which", json_object_new_string(j->which));
	json_object_object_add(a, "lines", json_object_new_int(LINES_PER_POLL));
	if (j->cursor[0] != '\0')
		json_object_object_add(a, "after", json_object_new_string(j->cursor));
	else
		json_object_object_add(a, "head", json_object_new_boolean(true));
	if (j->level >= 0)
		json_object_object_add(a, "level", json_object_new_string(levels[j->level]));
	if (j->search[0] != '\0')
		json_object_object_add(a, "search", json_object_new_string(j->search));
	rc = ap_helper_call(h, "logs.journal", a, &res, &pb);
	json_object_put(a);
	if (rc == AP_ERR_INVAL && strcmp(pb.field, "after") == 0) {
		/* Not a cursor of this journal (a stale Last-Event-ID): from the unit's end. */
		reset_to_tail(j, h);
		return false;
	}
	if (rc != AP_OK) {
		/* Said once a streak, not on every poll (the sampler's lines are the panel's log). */
		if (!j->failing)
			AP_WARN("follow: the %s's journal cannot be read: %s", j->which, pb.reason);
		j->failing = true;
		j->at = now_ms + RETRY_MS;
		if (rc == AP_ERR_UNAVAIL)
			helper_quiet_until = now_ms + RETRY_MS;
		return false;
	}
	j->failing = false;
	if (json_object_object_get_ex(res, "newest", &v) && json_object_is_type(v, json_type_string) &&
	    ap_jfollow_cursor_ok(json_object_get_string(v)))
		snprintf(j->cursor, sizeof(j->cursor), "%s", json_object_get_string(v));
	if (json_object_object_get_ex(res, "lines", &lines) &&
	    json_object_is_type(lines, json_type_array) && json_object_array_length(lines) > 0) {
		ap_buf_puts(out, "event: lines\n");
		for (size_t i = 0; i < json_object_array_length(lines); i++) {
			struct json_object *l = json_object_array_get_idx(lines, i);

			if (!json_object_is_type(l, json_type_string))
				continue;
			put_line(out, json_object_get_string(l), (size_t)json_object_get_string_len(l));
			any = true;
		}
		ap_buf_printf(out, "id: %s\n\n", j->cursor);
	}
	/* A poll cut short (a burst): the rest at once on the next tick. */
	if (json_object_object_get_ex(res, "cut", &v) && json_object_get_boolean(v))
		j->at = now_ms;
	json_object_put(res);
	return any;
}
