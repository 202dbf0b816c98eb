/*
 * cron.h — 5-field cron expressions (minute hour day-of-month month
 * day-of-week), as Debian's cron (Vixie cron) reads them, and the times
 * they next fire. Written here because Debian 12 packages no C library for
 * it (CHANGELOG, "Scheduled tasks").
 *
 * Accepted: `*`, numbers, ranges `a-b`, steps `*\/n` and `a-b/n`, lists
 * `a,b-c`, month names jan..dec, day names sun..sat (0 and 7 are Sunday),
 * and the macros @hourly @daily @midnight @weekly @monthly @yearly
 * @annually. When both day fields are restricted (neither starts with `*`)
 * a day matches either of them, as cron does. Not accepted: @reboot, `?`,
 * `L`, `W`, `#` (cron itself does not know them).
 */
#ifndef AAPANEL_CRON_H
#define AAPANEL_CRON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define AP_CRON_MAX_LEN 100

struct ap_cron {
	uint64_t minute; /* bit n: minute n (0..59) */
	uint32_t hour;   /* 0..23 */
	uint32_t dom;    /* 1..31 */
	uint16_t month;  /* 1..12 */
	uint8_t dow;     /* 0..6, Sunday = 0 */
	bool dom_star;   /* the field started with '*' */
	bool dow_star;
	char text[AP_CRON_MAX_LEN + 1]; /* the five fields, normalised (macros expanded, single spaces) */
};

/*
 * Parse s (up to AP_CRON_MAX_LEN bytes, NUL-free). true and *c filled; or
 * false with *field set to the field at fault ("minute", "hour",
 * "day_of_month", "month", "day_of_week", or "schedule" for the whole) and
 * *why to a constant reason.
 */
bool ap_cron_parse(const char *s, struct ap_cron *c, const char **field, const char **why);

/*
 * As ap_field_check_fn (route.h): NULL when s (n bytes) is a valid
 * schedule, else a constant reason that names the part at fault ("the
 * hour (2nd part) must be ...").
 */
const char *ap_check_cron(const char *s, size_t n);

/*
 * The first time strictly after `after`, on a whole minute, that c matches,
 * in the process's local time zone (TZ). -1 when none within eight years
 * (e.g. "0 0 30 2 *", never).
 */
time_t ap_cron_next(const struct ap_cron *c, time_t after);

#endif
