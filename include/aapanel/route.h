/*
 * route.h — the route table (method + path pattern → handler, permission,
 * template, declared fields) and kcgi-style field validation: every input a
 * handler reads is declared with a validator, decoded and checked once;
 * handlers only read validated values.
 */
#ifndef AAPANEL_ROUTE_H
#define AAPANEL_ROUTE_H

#include "aapanel/arena.h"
#include "aapanel/req.h"
#include "aapanel/schema.h"

struct ap_ctx; /* defined in app.h */
/* Returns the HTTP status; fills ctx->model. */
typedef int (*ap_handler_fn)(struct ap_ctx *ctx);

enum ap_field_type {
	AP_FIELD_TEXT,     /* UTF-8 text, length in code points within [min,max] */
	AP_FIELD_INT,      /* decimal integer within [min,max] */
	AP_FIELD_BOOL,     /* 1/0, true/false, on/off, yes/no (any case); absent = false, "" refused */
	AP_FIELD_ENUM,     /* one of choices[] */
	AP_FIELD_NAME,     /* [A-Za-z0-9_.-], length [min,max], not starting with '.' or '-' */
	AP_FIELD_HOSTNAME, /* RFC 1123 host name, ≤ 253, labels ≤ 63 */
	AP_FIELD_EMAIL,    /* local@hostname, ≤ 254 */
	AP_FIELD__MAX
};

#define AP_FIELD_REQUIRED 0x1u
#define AP_FIELD_SINGLELINE 0x2u /* TEXT: reject CR, LF and other C0 controls (TAB allowed) */
#define AP_FIELD_PATH 0x4u       /* a path parameter {name}: read from the path, a value that
				  * fails its check is a 404 (the item does not exist) */
#define AP_FIELD_SECRET 0x8u     /* never echoed back (passwords, codes): a form shown again
				  * after a problem starts this input empty */

/*
 * The end of a field table. Tables are indexed by an enum next to their
 * handler, so a misspelled field is a compile error:
 *
 *	enum { PW_CURRENT, PW_NEW, PW__MAX };
 *	const struct ap_field pw_fields[PW__MAX + 1] = {
 *		[PW_CURRENT] = { .name = "current", .type = AP_FIELD_TEXT, ... },
 *		[PW_NEW] = { ... },
 *		[PW__MAX] = AP_FIELD_END,
 *	};
 *	... ctx->fields[PW_CURRENT].s ...
 *
 * A slot the initializer forgot is all zeroes (no name, type TEXT), which
 * ap_route_table_check refuses at start-up; the end is recognised by its
 * type, never by a missing name.
 */
#define AP_FIELD_END { .name = NULL, .type = AP_FIELD__MAX }

/* Custom check run after the type check; return NULL when ok or a reason. */
typedef const char *(*ap_field_check_fn)(const char *val, size_t len);

struct ap_field {
	const char *name; /* the input's name (form, query, JSON member or {path} parameter) */
	enum ap_field_type type;
	unsigned flags;
	long long min, max;         /* INT: value range; TEXT/NAME: length range (0,0 = 0..max_field_len) */
	const char *const *choices; /* ENUM: NULL-terminated */
	ap_field_check_fn check;    /* optional */
	const char *desc;           /* one line for the API document (English); optional */
};

/*
 * Paging, the same for every list: the route declares both fields (its
 * answer is an AP_SCHEMA_LIST) and reads them with ap_ctx_page (app.h).
 * The cursor is opaque to clients: the page before's next link carries it.
 */
#define AP_PAGE_LIMIT_DEFAULT 50
#define AP_PAGE_LIMIT_MAX 500
#define AP_FIELD_LIMIT                                                                          \
	{ .name = "limit", .type = AP_FIELD_INT, .min = 1, .max = AP_PAGE_LIMIT_MAX,            \
	    .desc = "items on a page (default 50)" }
#define AP_FIELD_CURSOR                                                                         \
	{ .name = "cursor", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE, .min = 1, .max = 20, \
	    .check = ap_cursor_check, .desc = "where the page starts: from the next link of the page before" }
/* A cursor as the lists make them: a positive decimal integer (a keyset position). */
const char *ap_cursor_check(const char *val, size_t len);

/* One validated value; all members valid only when present. */
struct ap_fieldval {
	const char *name;
	bool present;
	const char *s; /* the text as received (arena) */
	size_t len;
	long long i; /* INT; ENUM: index into choices */
	bool b;      /* BOOL */
};

struct ap_route_params;

/* Number of fields in a table up to AP_FIELD_END; 0 for NULL, 64 at most (then END is missing). */
size_t ap_fields_count(const struct ap_field *fields);

/*
 * Validate the declared fields against the request: AP_FIELD_PATH fields
 * from params (the matched {name} segments), the others from the query
 * string for GET/HEAD and from the form (urlencoded, multipart or JSON
 * object) for other methods; the first input of a name wins. *out is an
 * array from r->arena parallel to fields (so the handler indexes it with
 * the table's enum), with at least AP_FIELDS_MIN slots, every slot beyond
 * the table absent; its strings are borrowed from the request. Undeclared
 * inputs are ignored. fields may be NULL (no fields), params NULL (no path
 * parameters).
 *
 * On failure returns AP_ERR_INVAL, fills pb and leaves *out set (fields
 * after the failing one absent): a path parameter that fails is
 * AP_PB_NOT_FOUND ("no such item"), any other field AP_PB_INVALID with
 * field = its name and a reason such as "is required", "must be at most
 * %lld characters", "must be an integer between %lld and %lld", "must be
 * one of: %s". pb is untouched on success.
 *
 * Absence: a field not sent, or sent empty for INT/ENUM/NAME/HOSTNAME/EMAIL,
 * is absent (present = false); BOOL sent empty is "must be true or false".
 * AP_FIELD_REQUIRED needs a non-empty value ("is required"), so a required
 * BOOL may be false but must be sent. An empty optional TEXT is present as
 * "" and skips the minimum length. INT with min = max = 0 accepts any
 * 64-bit integer. The custom check runs only on present, non-empty values
 * that passed the type check (an optional field left blank is not checked).
 */
#define AP_FIELDS_MIN 16
enum ap_err ap_fields_validate(const struct ap_field *fields, const struct ap_req *r,
    const struct ap_route_params *params, size_t max_field_len, struct ap_fieldval **out,
    struct ap_problem *pb);

/*
 * Check one value against one field (type, length, custom check), for
 * callers whose input is not a request (the helper's operation arguments).
 * s[0..len) is the value, which must be present and NUL-terminated at
 * s[len] (INT, BOOL and ENUM read it as a C string). v is written even on
 * failure: name, present = true, s (borrowed: s itself), len, and i or b
 * when the type sets them. The custom check is skipped for an empty
 * value. Returns AP_OK, or AP_ERR_INVAL with pb filled (AP_PB_INVALID).
 */
enum ap_err ap_field_check(const struct ap_field *f, const char *s, size_t len,
    size_t max_field_len, struct ap_fieldval *v, struct ap_problem *pb);

#define AP_ROUTE_PUBLIC 0x1u /* reachable without authentication */
#define AP_ROUTE_RAW 0x2u    /* handler writes its own body (no template) */
#define AP_ROUTE_LOGIN 0x4u  /* the sign-in form: checks its own pre-session CSRF token, so a
			      * stale or planted session cookie cannot block it */
#define AP_ROUTE_DB 0x8u     /* needs the panel's database: the response layer opens it
			      * before the handler (ctx->db) and answers 503 without it */
#define AP_ROUTE_CONFIRM 0x10u /* destructive: a browser is asked first (ap_ctx_unconfirmed);
				* the tests hold every such route to it */
#define AP_ROUTE_BROWSER 0x20u /* for browsers only (sign-in forms, the language cookie): not
				* under /api/v1/ (404 there); documented at the panel's root */
#define AP_ROUTE_CREATE 0x40u  /* makes a resource: answers 201 with it, and a retry with the
				* same Idempotency-Key header answers the first result again */
#define AP_ROUTE_TESTING 0x80u /* exists in the test profile only (404 elsewhere, and only that
				* profile's document lists it) */
#define AP_ROUTE_PROBE 0x100u  /* asked by infrastructure: health checks, nginx's auth_request;
				* with an answer schema a 503 answers it too (the same resource,
				* saying what is down); without one it answers 204 (the only GET
				* that may have no answer schema) */
#define AP_ROUTE_STREAM 0x400u /* takes an application/octet-stream body, left unread for the
				* handler (ap_req_stream_read); every other route answers 415 */
#define AP_ROUTE_TEXT 0x800u   /* carries one whole text (the editor's save): its body and that
				* field may be larger than limits.max_body / max_field_len, up to
				* what files.edit_max needs; the handler checks the text's size */
#define AP_ROUTE_JOB 0x1000u   /* may answer 202 (a helper job still running) with its answer schema,
				* the job in it */
#define AP_ROUTE_STREAM_FORM 0x2000u /* a multipart form whose file is streamed: the text fields
				* before it (the csrf token first) are parsed, so the gate checks CSRF
				* as for any form before the handler reads a byte of the file
				* (ap_req_part_read); up to limits.max_stream + max_upload bytes */
#define AP_ROUTE_PENDING 0x200u /* a session between its two factors may use it too (sign out);
				* its CSRF token is still required */

struct ap_route {
	unsigned methods;       /* AP_M_GET | ...; GET implies HEAD */
	const char *pattern;    /* "/sites/{id}/edit": literal segments and {name} */
	ap_handler_fn handler;
	const char *perm;       /* required permission, e.g. "sites.read"; NULL only with AP_ROUTE_PUBLIC */
	unsigned flags;
	const char *tpl;        /* template for HTML; NULL = JSON only */
	const struct ap_field *fields; /* NULL or an enum-indexed table ending with AP_FIELD_END;
					* every {name} of the pattern is one of its AP_FIELD_PATH fields */
	ap_handler_fn form;     /* the page that shows this route's form: a browser whose request
				 * has a problem gets that page again, built by this handler, with the
				 * problem next to its field (NULL: the error page) */
	const char *summary;    /* what it does, one line (English): the API document's summary */
	const struct ap_schema *answer; /* the JSON answer of a success: the handler's model is
					 * projected onto it (schema.h); NULL: 204 No Content */
	const char *media;      /* AP_ROUTE_RAW: the type of what it sends ("text/csv") */
};

struct ap_route_params {
	size_t n;
	struct {
		const char *name;
		const char *val; /* arena copy, percent-decoded */
	} v[8];
};

enum ap_route_result {
	AP_ROUTE_FOUND,
	AP_ROUTE_NOT_FOUND,
	AP_ROUTE_METHOD_NOT_ALLOWED
};

/*
 * Match method+path (path already decoded) against the table (n routes).
 * Exact literal segments win over {param} segments regardless of order;
 * a {param} needs a non-empty segment; GET routes answer HEAD. On FOUND
 * *out points into table and params gets the {name} values, names and
 * values copied into arena a (params stays empty when a is NULL). On
 * METHOD_NOT_ALLOWED *allowed gets the union of the methods of every route
 * whose pattern matched (for the Allow header). A NULL path, one not
 * starting with '/' or a method out of range is NOT_FOUND. out, params and
 * allowed may each be NULL and are reset on entry. Trailing slash is not
 * ignored ("/a/" ≠ "/a"); "/" matches only "/".
 */
enum ap_route_result ap_route_match(const struct ap_route *table, size_t n,
    enum ap_method m, const char *path, struct ap_arena *a,
    const struct ap_route **out, struct ap_route_params *params,
    unsigned *allowed);

/*
 * Check a table at startup: patterns well-formed ("/" then non-empty
 * segments of RFC 3986 unreserved characters or {name} with
 * [a-z_][a-z0-9_]*, at most 8 and each once; no "." or ".."), methods a
 * non-empty set of AP_M_*, a handler, known flags, no two routes matching
 * the same paths with a common method (GET implies HEAD), every non-public
 * route has a perm, every field table well-formed (no slot left empty,
 * known types and flags, sane ranges, no name twice), every {name}
 * declared as an AP_FIELD_PATH field and every such field in the pattern.
 * Returns AP_OK, or AP_ERR_INVAL with the first problem in err ("route N
 * (pattern): why"; err may be NULL).
 */
enum ap_err ap_route_table_check(const struct ap_route *table, size_t n,
    char *err, size_t errlen);

/* Append "GET, HEAD, POST" (enum order) for a method mask to b; an empty mask appends "". */
void ap_methods_str(unsigned mask, struct ap_buf *b);

#endif
