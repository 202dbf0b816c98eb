/*
 * req.h — one parsed HTTP request, built from FastCGI parameters and the
 * request body. Every string is NUL-terminated and lives in the request
 * arena. Parsing enforces the configured limits and rejects malformed input
 * with a status and a message naming the field and the reason.
 */
#ifndef AAPANEL_REQ_H
#define AAPANEL_REQ_H

#include <sys/types.h>

#include <json-c/json.h>

#include "aapanel/arena.h"
#include "aapanel/problem.h"
#include "aapanel/common.h"

enum ap_method {
	AP_METHOD_GET,
	AP_METHOD_HEAD,
	AP_METHOD_POST,
	AP_METHOD_PUT,
	AP_METHOD_PATCH,
	AP_METHOD_DELETE,
	AP_METHOD_OPTIONS,
	AP_METHOD__MAX
};
#define AP_M(m) (1u << (m))
#define AP_M_GET AP_M(AP_METHOD_GET)
#define AP_M_HEAD AP_M(AP_METHOD_HEAD)
#define AP_M_POST AP_M(AP_METHOD_POST)
#define AP_M_PUT AP_M(AP_METHOD_PUT)
#define AP_M_PATCH AP_M(AP_METHOD_PATCH)
#define AP_M_DELETE AP_M(AP_METHOD_DELETE)
#define AP_M_OPTIONS AP_M(AP_METHOD_OPTIONS)

/* "GET", ... (static); NULL for out-of-range. */
const char *ap_method_name(enum ap_method m);
/* Exact, case-sensitive token match into *out; false when unknown or NULL, *out untouched. */
bool ap_method_parse(const char *s, enum ap_method *out);

struct ap_kv {
	const char *key;
	const char *val;
	size_t len; /* length of val (values are also NUL-terminated) */
};

struct ap_upload {
	const char *field;
	const char *filename; /* basename only as sent; may be "" */
	const char *content_type;
	const char *data;
	size_t len;
};

/* Read up to n bytes of the body; 0 at end, -1 on error. */
typedef ssize_t (*ap_req_read_fn)(void *ctx, void *buf, size_t n);

struct ap_req;

struct ap_req_limits {
	size_t max_body;       /* urlencoded and JSON bodies */
	size_t max_upload;     /* multipart bodies */
	size_t max_fields;     /* query + form pairs, and cookies, each */
	size_t max_field_len;  /* one decoded value */
	size_t max_header_len; /* REQUEST_URI, HTTP_COOKIE and other params */
	size_t max_stream;     /* application/octet-stream bodies, left unread (0 = refused) */
	/* NULL, or called once the method and path are known, before a body that is not streamed
	 * is read: may raise the limits for the route the request goes to (the editor's save). */
	void (*for_route)(void *arg, const struct ap_req *r, struct ap_req_limits *lim);
	void *for_route_arg;
	/* Set by for_route for a route that streams its form's file (AP_ROUTE_STREAM_FORM): a
	 * multipart body's text fields before its first file are parsed (at most max_body bytes
	 * of them), the file left unread for the handler (ap_req_part_read); such a body may be
	 * up to max_stream + max_upload bytes. */
	bool stream_form;
};

struct ap_req_mp; /* a multipart body being streamed (req.c) */

struct ap_req {
	struct ap_arena *arena;
	enum ap_method method;
	const char *method_name;
	/* The strings taken from params are "" when the param is absent, never NULL. */
	const char *uri;          /* REQUEST_URI as received */
	const char *path;         /* percent-decoded path, no query; starts with '/' */
	const char *query_string; /* raw, "" when none */
	const char *remote_addr;
	const char *host;
	const char *content_type; /* "" when none */
	const char *accept;       /* "" when none */
	const char *accept_language;
	const char *origin;
	const char *referer;
	const char *user_agent;
	bool https;

	/* FastCGI params (name=value) as received, arena copies. */
	struct ap_kv *params;
	size_t nparams;

	struct ap_kv *query;
	size_t nquery;
	struct ap_kv *form; /* urlencoded or multipart text fields, or top-level JSON scalars */
	size_t nform;
	struct ap_upload *uploads;
	size_t nuploads;
	struct ap_kv *cookies;
	size_t ncookies;

	struct json_object *json; /* JSON body (owned; released by ap_req_clear) or NULL */
	const char *body;         /* raw body (arena) or NULL */
	size_t body_len;

	bool wants_json; /* Accept prefers application/json, or path under /api/ */

	/* An application/octet-stream body is not read by the parser: the handler of a route
	 * that takes one (AP_ROUTE_STREAM) reads it with ap_req_stream_read. */
	bool stream;         /* the body is application/octet-stream (fields then come from the query) */
	size_t stream_len;   /* its Content-Length */
	size_t stream_done;  /* bytes read so far */
	ap_req_read_fn stream_rd;
	void *stream_rdctx;

	/* A multipart body streamed (limits.stream_form): its text fields before the first file
	 * are in form, that file's name in uploads[0] (data NULL, len 0), its content read with
	 * ap_req_part_read. NULL otherwise (no file part either). */
	struct ap_req_mp *mp;
};


/*
 * Parse a request. envp: NULL-terminated "NAME=value" FastCGI params,
 * copied (not kept). rd/rdctx read CONTENT_LENGTH bytes of body, during
 * this call only (rd may be NULL: no body). lim is borrowed for the call.
 * Every string and array in *r comes from arena a. On AP_OK *r is filled.
 * On failure returns AP_ERR_TOOBIG (413) or AP_ERR_INVAL (400, 405, 411,
 * 415) and fills err with the first problem (err may be NULL; it is
 * cleared on entry); r is still usable for the error response (method,
 * path, headers and wants_json are set when they could be parsed, else
 * GET and "/"). A param that is too long or holds CR/LF is a 400 and is
 * stored as "".
 *
 * Body handling by Content-Type:
 *   application/x-www-form-urlencoded → form (≤ max_body)
 *   multipart/form-data; boundary=… → form + uploads (≤ max_upload)
 *   application/json → json; an object's string/number/bool members are
 *     also copied into form as text so declared fields read one place
 *   anything else with a non-empty body → 415
 * Text values (query, form, cookies, path) must be valid UTF-8 with no NUL.
 *
 * *r is zeroed on entry; on failure the JSON body is already released, on
 * success release it with ap_req_clear(). The path refuses "." and ".."
 * segments (400) and keeps "//" as sent (it then matches no route). An
 * unknown method leaves r->method GET. Cookies that cannot be read are
 * skipped, not refused. Upload data points into r->body (not copied, not
 * NUL-terminated). Multipart uploads without a Content-Type get
 * "application/octet-stream".
 */
enum ap_err ap_req_parse(struct ap_req *r, struct ap_arena *a,
    char *const *envp, ap_req_read_fn rd, void *rdctx,
    const struct ap_req_limits *lim, struct ap_problem *err);

/*
 * Read up to n bytes of an octet-stream body left unread by ap_req_parse
 * (the reader given to it must still be valid: the pool keeps it for the
 * whole request). Returns the bytes read, 0 at its end, -1 when the client
 * sent less than its Content-Length.
 */
ssize_t ap_req_stream_read(struct ap_req *r, void *buf, size_t n);

/*
 * Read up to n bytes of the content of a streamed form's file part (r->mp): 0 at its end, once
 * the body was read up to the next file part's headers or the closing boundary (text parts
 * between skipped, never seen as the form's); -1 on a malformed or short body
 * (ap_req_part_error says why). ap_req_part_max: at most how many bytes the content can still
 * have (from Content-Length; a client's closing CRLF assumed).
 */
ssize_t ap_req_part_read(struct ap_req *r, void *buf, size_t n);
/*
 * Go on to the form's next file part (what is left of the current one's content skipped): 1
 * with its field, file name and type in r->uploads[0] (ap_req_part_read reads it), 0 when the
 * body is closed and has no more (or r->mp is NULL), -1 on a malformed or short body.
 */
int ap_req_part_next(struct ap_req *r);
const char *ap_req_part_error(const struct ap_req *r);
bool ap_req_part_failed(const struct ap_req *r); /* a read of the file failed (its error kept) */
long long ap_req_part_max(const struct ap_req *r);

/* Release what the arena does not own (the JSON body; r->json then NULL). NULL-safe, idempotent. */
void ap_req_clear(struct ap_req *r);

/*
 * Lookups by exact, case-sensitive name (params by FastCGI name, e.g.
 * "HTTP_HOST"); NULL when absent or name is NULL. First match wins. The
 * value is borrowed from the request arena.
 */
const char *ap_req_param(const struct ap_req *r, const char *name);
const char *ap_req_query(const struct ap_req *r, const char *name);
const char *ap_req_form(const struct ap_req *r, const char *name);
const char *ap_req_cookie(const struct ap_req *r, const char *name);

/*
 * Percent-decode s[0..n) into a new NUL-terminated arena string (*out,
 * *outlen bytes). plus_is_space for form/query encoding. False on a
 * malformed escape or a decoded NUL, with *out NULL and *outlen 0.
 */
bool ap_url_decode(struct ap_arena *a, const char *s, size_t n,
    bool plus_is_space, char **out, size_t *outlen);

/* Append the C string s percent-encoded to b (RFC 3986 unreserved kept, the rest %XX uppercase). */
void ap_url_encode(struct ap_buf *b, const char *s);

/*
 * Parse s[0..n) "a=1&b=2" into arena pairs (*out, *nout), '+' as space.
 * Empty pairs and "=x" are skipped; "a" alone is a = "". Returns AP_OK, or
 * AP_ERR_INVAL with err (may be NULL) filled: field = source ("query" or
 * "body") for too many pairs or a bad name, the (shortened) key for a bad
 * value. *out and *nout are NULL and 0 on failure.
 */
enum ap_err ap_parse_urlencoded(struct ap_arena *a, const char *s, size_t n,
    const char *source, const struct ap_req_limits *lim, struct ap_kv **out,
    size_t *nout, struct ap_problem *err);

#endif
