/*
 * problem.h — the one type for a failure a user or a client is told about.
 * Every validator (request parsing, declared fields, the data modules, the
 * helper's operations) fills one; the response layer renders it as a form
 * error or the JSON error document, the CLI prints it, the helper protocol
 * sends it. Callers branch on the code, never on the wording, so rewording
 * a message can never move an error to another field.
 *
 *	if (!ap_username_valid(name))
 *		return ap_problem_set(pb, AP_PB_INVALID, "username",
 *		    "must be 3 to 32 of a-z, 0-9, _ . -");
 *
 * The reason is kept twice: as the untranslated printf format (msgid, a
 * constant: what po/ catalogs translate) with its arguments already
 * formatted, and as the English text (logs, API, CLI). A translated
 * reason is the translated format with the same arguments substituted in
 * order (ap_problem_format).
 */
#ifndef AAPANEL_PROBLEM_H
#define AAPANEL_PROBLEM_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "aapanel/common.h"

/* Stable machine codes (the API documents them; never renumber, only add). */
enum ap_pb_code {
	AP_PB_NONE = 0,        /* no problem */
	AP_PB_INVALID,         /* 400: a field's value is not acceptable */
	AP_PB_MALFORMED,       /* 400: the request cannot be read (encoding, syntax) */
	AP_PB_UNAUTHENTICATED, /* 401: sign in or a valid token is needed */
	AP_PB_DENIED,          /* 403: permission, token scope, two-factor required */
	AP_PB_CSRF,            /* 403: missing or wrong CSRF token, foreign origin */
	AP_PB_NOT_FOUND,       /* 404: no such page or item */
	AP_PB_METHOD,          /* 405: method not allowed here */
	AP_PB_EXISTS,          /* 409: an item with this name already exists */
	AP_PB_CONFLICT,        /* 409: the item's state does not allow it */
	AP_PB_LENGTH_REQUIRED, /* 411 */
	AP_PB_TOO_LARGE,       /* 413: body, upload or field too large */
	AP_PB_MEDIA_TYPE,      /* 415: unsupported Content-Type */
	AP_PB_THROTTLED,       /* 429: too many attempts; wait */
	AP_PB_HEADERS_TOO_LARGE, /* 431 */
	AP_PB_INTERNAL,        /* 500: a bug or an unexpected failure (logged) */
	AP_PB_UNAVAILABLE,     /* 503: the database or the helper is down */
	AP_PB_TIMEOUT,         /* 504: an operation took too long */
	AP_PB_UNSUPPORTED,     /* 501: an operation unknown or not available here */
	AP_PB_FAILED,          /* 422: the operation ran and failed (reason: the tool's own message) */
	AP_PB_BUSY,            /* 503: too many at once; try again in a moment */
	AP_PB__MAX
};

#define AP_PB_MAXARGS 3

struct ap_problem {
	enum ap_pb_code code;
	int status;             /* the HTTP status the code maps to (ap_pb_status) */
	char field[64];         /* the input it is about ("username", "body", "id"); "" when none */
	const char *msgid;      /* untranslated printf format, a constant; NULL when none */
	char args[AP_PB_MAXARGS][128]; /* msgid's arguments, formatted, in order */
	int nargs;
	char reason[256];       /* msgid with its arguments, in English; "" when none */
};

/*
 * Wipe pb (which may be NULL: then nothing happens) and fill it with code,
 * its status, field (NULL = none; copied, cut at 63 bytes) and the reason
 * msgid formatted with its arguments (cut at 255 bytes). msgid must be a
 * constant string: it is kept by pointer as the translation key. Its
 * conversions are limited to %s %d %i %u %x %c with the length modifiers
 * l ll z and a precision for %s (%.Ns, %.*s), at most AP_PB_MAXARGS of
 * them (each kept cut at 127 bytes); anything else is formatted into
 * reason, but then nargs is -1 and every translation falls back to the
 * English reason. Always returns AP_ERR_INVAL, whatever the code, so
 * callers can `return ap_problem_set(...)`.
 */
enum ap_err ap_problem_set(struct ap_problem *pb, enum ap_pb_code code, const char *field,
    const char *msgid, ...) AP_PRINTF(4, 5);
/* The same with a va_list (for validators with their own printf-like helpers); ap is used up. */
enum ap_err ap_problem_vset(struct ap_problem *pb, enum ap_pb_code code, const char *field,
    const char *msgid, va_list ap) AP_PRINTF(4, 0);
/* The same for a msgid chosen at run time from constants, taken as is (no conversions, nargs 0). */
enum ap_err ap_problem_msg(struct ap_problem *pb, enum ap_pb_code code, const char *field,
    const char *msgid);
/* Reset to AP_PB_NONE with no field or reason (all zero); NULL is a no-op. */
void ap_problem_clear(struct ap_problem *pb);
/* True when pb is not NULL and holds a problem (code other than AP_PB_NONE). */
bool ap_problem_is_set(const struct ap_problem *pb);
/* Copy src into dst (neither NULL; dst may equal src). msgid stays shared: it is a constant. */
void ap_problem_copy(struct ap_problem *dst, const struct ap_problem *src);

/* "invalid", "not_found", ... (a constant); "none" for AP_PB_NONE, "internal" for unknown codes. */
const char *ap_pb_name(enum ap_pb_code code);
/* The code of a name ("not_found" → AP_PB_NOT_FOUND); false when unknown. */
bool ap_pb_parse(const char *name, enum ap_pb_code *out);
/* The code's HTTP status (400, 404, ...; 200 for AP_PB_NONE, 500 for an unknown code). */
int ap_pb_status(enum ap_pb_code code);
/*
 * The code for an HTTP status: the first one listed with it (400 →
 * AP_PB_INVALID, 403 → AP_PB_DENIED, 409 → AP_PB_EXISTS); an unknown status
 * gives AP_PB_INTERNAL from 500 up, AP_PB_INVALID below.
 */
enum ap_pb_code ap_pb_for_status(int status);

/*
 * Write pb's reason into out using fmt, a translation of pb->msgid: its
 * conversions are replaced, in order, by pb's formatted arguments. When
 * fmt is NULL, or does not have the same number of conversions as msgid
 * (a broken translation), the English reason is written instead. Never
 * fails; out is always terminated (truncated to outlen) unless outlen is 0;
 * a NULL pb writes "".
 */
void ap_problem_format(const struct ap_problem *pb, const char *fmt, char *out, size_t outlen);

#endif
