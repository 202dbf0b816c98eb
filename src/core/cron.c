/*
 * cron.c — 5-field cron expressions and their next run times (cron.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "aapanel/cron.h"

struct cron_field {
	const char *name;
	int min, max;
	const char *const *names; /* names for min, min+1, ... or NULL */
};

static const char *const month_names[] = { "jan", "feb", "mar", "apr", "may", "jun", "jul",
	"aug", "sep", "oct", "nov", "dec", NULL };
static const char *const day_names[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat",
	NULL };

static const struct cron_field fields[5] = {
	{ "minute", 0, 59, NULL },
	{ "hour", 0, 23, NULL },
	{ "day_of_month", 1, 31, NULL },
	{ "month", 1, 12, month_names },
	{ "day_of_week", 0, 7, day_names },
};

static const struct {
	const char *macro, *fields;
} macros[] = {
	{ "@hourly", "0 * * * *" },
	{ "@daily", "0 0 * * *" },
	{ "@midnight", "0 0 * * *" },
	{ "@weekly", "0 0 * * 0" },
	{ "@monthly", "0 0 1 * *" },
	{ "@yearly", "0 0 1 1 *" },
	{ "@annually", "0 0 1 1 *" },
};

/* A number or (for fields with names) a three-letter name; advances *p. -1 if none. */
static int
read_value(const char **p, const struct cron_field *f)
{
	const char *s = *p;
	int v = 0, digits = 0;

	if (f->names != NULL && isalpha((unsigned char)s[0])) {
		for (int i = 0; f->names[i] != NULL; i++)
			if (strncasecmp(s, f->names[i], 3) == 0 && !isalpha((unsigned char)s[3])) {
				*p = s + 3;
				return f->min + i;
			}
		return -1;
	}
	while (isdigit((unsigned char)*s)) {
		if (++digits > 2)
			return -1;
		v = v * 10 + (*s - '0');
		s++;
	}
	if (digits == 0)
		return -1;
	*p = s;
	return v;
}

/* One field's text [s, e) into a bit set; NULL or the reason. */
static const char *
parse_field(const char *s, const char *e, const struct cron_field *f, uint64_t *bits,
    bool *star)
{
	*bits = 0;
	*star = (s < e && *s == '*');
	while (s < e) {
		int lo, hi, step = 1;
		bool span = true; /* '*' or a-b: a step may follow */

		if (*s == '*') {
			lo = f->min;
			hi = f->max;
			s++;
		} else {
			if ((lo = read_value(&s, f)) < 0)
				return "must be *, a number, a range a-b or a list of them";
			hi = lo;
			span = false;
			if (s < e && *s == '-') {
				span = true;
				s++;
				if ((hi = read_value(&s, f)) < 0)
					return "a range needs an end: a-b";
			}
			if (lo < f->min || hi > f->max || lo > f->max)
				return "value out of range";
			if (lo > hi)
				return "a range must go upwards (a-b with a <= b)";
		}
		if (s < e && *s == '/') {
			const char *d = ++s;

			if (!span)
				return "a step needs * or a range before it: */5 or 10-50/5";

			step = 0;
			while (s < e && isdigit((unsigned char)*s) && s - d < 3)
				step = step * 10 + (*s++ - '0');
			if (s == d || step < 1 || step > f->max)
				return "a step must be a number from 1 up to the field's largest value";
		}
		for (int v = lo; v <= hi; v += step)
			*bits |= 1ULL << v;
		if (s == e)
			break;
		if (*s != ',' || s + 1 == e)
			return "must be *, a number, a range a-b or a list of them";
		s++;
	}
	if (*bits == 0)
		return "must not be empty";
	return NULL;
}

bool
ap_cron_parse(const char *s, struct ap_cron *c, const char **field, const char **why)
{
	const char *start[5], *end[5], *p;
	char buf[AP_CRON_MAX_LEN + 1];
	int n = 0;
	size_t len;

	memset(c, 0, sizeof(*c));
	*field = "schedule";
	len = strnlen(s, AP_CRON_MAX_LEN + 1);
	if (len == 0) {
		*why = "is required";
		return false;
	}
	if (len > AP_CRON_MAX_LEN) {
		*why = "is too long";
		return false;
	}
	for (size_t i = 0; i < len; i++)
		if (!(isalnum((unsigned char)s[i]) || strchr(" */,-@", s[i]) != NULL)) {
			*why = "may only contain digits, names, spaces and * / , -";
			return false;
		}
	while (*s == ' ')
		s++;
	if (*s == '@') {
		char m[16];
		size_t k = strcspn(s, " ");

		if (k >= sizeof(m) || s[k + strspn(s + k, " ")] != '\0') {
			*why = "unknown macro (use @hourly, @daily, @weekly, @monthly or @yearly)";
			return false;
		}
		memcpy(m, s, k);
		m[k] = '\0';
		for (size_t i = 0; i < sizeof(macros) / sizeof(macros[0]); i++)
			if (strcasecmp(m, macros[i].macro) == 0)
				return ap_cron_parse(macros[i].fields, c, field, why);
		*why = "unknown macro (use @hourly, @daily, @weekly, @monthly or @yearly)";
		return false;
	}
	for (p = s; *p != '\0';) {
		if (n == 5) {
			*why = "must have exactly five fields: minute hour day month weekday";
			return false;
		}
		start[n] = p;
		while (*p != '\0' && *p != ' ')
			p++;
		end[n++] = p;
		while (*p == ' ')
			p++;
	}
	if (n != 5) {
		*why = "must have exactly five fields: minute hour day month weekday";
		return false;
	}
	for (int i = 0; i < 5; i++) {
		uint64_t bits;
		bool star;
		const char *r = parse_field(start[i], end[i], &fields[i], &bits, &star);

		if (r != NULL) {
			*field = fields[i].name;
			*why = r;
			return false;
		}
		switch (i) {
		case 0: c->minute = bits; break;
		case 1: c->hour = (uint32_t)bits; break;
		case 2: c->dom = (uint32_t)bits; c->dom_star = star; break;
		case 3: c->month = (uint16_t)bits; break;
		default:
			if (bits & (1ULL << 7))
				bits = (bits | 1) & 0x7f;
			c->dow = (uint8_t)bits;
			c->dow_star = star;
			break;
		}
	}
	buf[0] = '\0';
	for (int i = 0; i < 5; i++) {
		size_t o = strlen(buf);

		snprintf(buf + o, sizeof(buf) - o, "%s%.*s", i ? " " : "", (int)(end[i] - start[i]),
		    start[i]);
	}
	memcpy(c->text, buf, sizeof(c->text));
	*field = NULL;
	*why = NULL;
	return true;
}

static bool
day_matches(const struct ap_cron *c, const struct tm *tm)
{
	bool d = (c->dom >> tm->tm_mday) & 1, w = (c->dow >> tm->tm_wday) & 1;

	if (c->dom_star || c->dow_star)
		return d && w;
	return d || w;
}

time_t
ap_cron_next(const struct ap_cron *c, time_t after)
{
	struct tm tm;
	time_t t = after - (after % 60) + 60, limit = after + 8 * 366 * 86400L;

	/* Each step moves to the start of the next month, day, hour or minute that could match;
	 * mktime normalises (and settles daylight saving time: tm_isdst = -1). */
	for (int steps = 0; steps < 200000 && t <= limit; steps++) {
		time_t r;

		if (localtime_r(&t, &tm) == NULL)
			return -1;
		tm.tm_isdst = -1;
		if (!((c->month >> (tm.tm_mon + 1)) & 1)) {
			tm.tm_mon++;
			tm.tm_mday = 1;
			tm.tm_hour = 0;
			tm.tm_min = 0;
		} else if (!day_matches(c, &tm)) {
			tm.tm_mday++;
			tm.tm_hour = 0;
			tm.tm_min = 0;
		} else if (!((c->hour >> tm.tm_hour) & 1)) {
			tm.tm_hour++;
			tm.tm_min = 0;
		} else if (!((c->minute >> tm.tm_min) & 1)) {
			tm.tm_min++;
		} else {
			return t;
		}
		tm.tm_sec = 0;
		r = mktime(&tm);
		if (r == (time_t)-1)
			return -1;
		/* A daylight-saving fold can normalise backwards: never go back. */
		t = r > t ? r : t + 60;
	}
	return -1;
}

const char *
ap_check_cron(const char *s, size_t n)
{
	static const struct {
		const char *field, *reason;
	} reasons[] = {
		{ "minute", "the minute (1st part) must be 0-59: *, n, a-b, */n, a-b/n or a list of them" },
		{ "hour", "the hour (2nd part) must be 0-23: *, n, a-b, */n, a-b/n or a list of them" },
		{ "day_of_month", "the day of the month (3rd part) must be 1-31: *, n, a-b, */n, a-b/n or a list of them" },
		{ "month", "the month (4th part) must be 1-12 or jan-dec: *, n, a-b, */n, a-b/n or a list of them" },
		{ "day_of_week", "the day of the week (5th part) must be 0-7 or sun-sat: *, n, a-b, */n, a-b/n or a list of them" },
	};
	char buf[AP_CRON_MAX_LEN + 1];
	struct ap_cron c;
	const char *field, *why;

	if (n > AP_CRON_MAX_LEN)
		return "must be at most 100 characters";
	if (memchr(s, '\0', n) != NULL)
		return "may only contain digits, names, spaces and * / , -";
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (ap_cron_parse(buf, &c, &field, &why))
		return NULL;
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (strcmp(field, reasons[i].field) == 0)
			return reasons[i].reason;
	return strcmp(why, "is required") == 0 || strcmp(why, "is too long") == 0 ||
		strncmp(why, "may only", 8) == 0 || strncmp(why, "unknown macro", 13) == 0
	    ? why
	    : "must have five parts: minute hour day-of-month month day-of-week (or @hourly, @daily, @weekly, @monthly, @yearly)";
}
