/*
 * helper.h — the privileged helper's protocol as the workers see it: the
 * problem codes every error carries, and a small client that sends one
 * request over the helper's unix socket and reads its one response with a
 * per-call timeout (docs/helper.md).
 *
 * Wire format: one JSON object per line.
 *   request  {"id":N,"op":"name","args":{...}}
 *   response {"id":N,"ok":true,"result":{...}}
 *            {"id":N,"ok":false,"error":{"code":"invalid","field":"domain","reason":"..."}}
 *
 * Core layer: used by the workers (web tier) and by the helper itself for
 * the code names; it knows nothing of the helper's operations.
 */
#ifndef AAPANEL_HELPER_H
#define AAPANEL_HELPER_H

#include <json-c/json.h>

#include "aapanel/common.h"

/*
 * The helper protocol's problem codes: a small fixed set a caller branches
 * on, never on the wording of the reason. AP_HELPER_UNAVAILABLE never
 * travels on the wire: the client reports it when the helper cannot be
 * reached or did not answer.
 */
enum ap_helper_code {
	AP_HELPER_INVALID,     /* "invalid": the request or an argument is malformed (field says which) */
	AP_HELPER_NOT_FOUND,   /* "not_found": the named thing does not exist */
	AP_HELPER_EXISTS,      /* "exists": it already exists */
	AP_HELPER_UNSUPPORTED, /* "unsupported": unknown operation, or not available here */
	AP_HELPER_FAILED,      /* "failed": the operation ran and failed (reason: the tool's message) */
	AP_HELPER_TOO_LARGE,   /* "too_large": the message exceeds helper.max_message */
	AP_HELPER_DENIED,      /* "denied": the peer's uid is not the panel's */
	AP_HELPER_BUSY,        /* "busy": too many connections or jobs; try again later */
	AP_HELPER_TIMEOUT,     /* "timeout": a request or a program took too long */
	AP_HELPER_UNAVAILABLE, /* "unavailable": client side only — no helper, or no answer in time */
	AP_HELPER_CODE__MAX
};

/* The wire name of a code ("invalid", ...); "failed" for out-of-range values. */
const char *ap_helper_code_name(enum ap_helper_code c);
/* Parse a wire name; false when unknown ("unavailable" is not a wire name). */
bool ap_helper_code_parse(const char *s, enum ap_helper_code *out);

/* One problem, as the helper reported it (or the client, for "unavailable"). */
struct ap_helper_problem {
	enum ap_helper_code code;
	char field[64];   /* the argument it is about ("domain", "op", "id"), "" when none */
	char reason[192]; /* untranslated, e.g. "must be a valid domain name" */
};

/* Fill pb (NULL is ignored); field may be NULL for none. */
void ap_helper_problem_set(struct ap_helper_problem *pb, enum ap_helper_code code,
    const char *field, const char *fmt, ...) AP_PRINTF(4, 5);

/*
 * A client: one connection to the helper, opened on the first call and kept
 * for the following ones (the helper serves many requests per connection).
 * A connection the helper closed meanwhile (idle timeout, restart) is noticed
 * before the next request is written and replaced. Not thread-safe; one per
 * worker. Owned; free with ap_helper_client_free (NULL is a no-op).
 *
 * socket_path: the helper's socket (helper.socket); copied.
 * timeout_ms:  per call, from connect to the last byte of the response.
 * max_response: largest response line accepted, in bytes (>= 1024).
 */
struct ap_helper_client;
struct ap_helper_client *ap_helper_client_new(const char *socket_path, int timeout_ms,
    size_t max_response);
void ap_helper_client_free(struct ap_helper_client *h);

/*
 * Ask the helper for one operation. args: an object (borrowed, not
 * modified) or NULL for {}. On success returns AP_OK and *result is the
 * response's "result" object (owned: json_object_put). Otherwise *result is
 * NULL, pb says what happened, and the return value is:
 *   AP_ERR_UNAVAIL  code AP_HELPER_UNAVAILABLE: no socket, connection
 *                   refused or reset, or no complete answer within the
 *                   timeout (never blocks longer); also BUSY and TIMEOUT
 *   AP_ERR_INVAL    INVALID (pb->field names the argument), UNSUPPORTED
 *   AP_ERR_NOTFOUND NOT_FOUND;  AP_ERR_PERM DENIED;  AP_ERR_TOOBIG TOO_LARGE
 *   AP_ERR_IO       EXISTS, FAILED, or a response that is not the protocol
 * Branch on pb->code; the reason is for people.
 */
enum ap_err ap_helper_call(struct ap_helper_client *h, const char *op, struct json_object *args,
    struct json_object **result, struct ap_helper_problem *pb);

/* Whether the client holds an open connection (for tests). */
bool ap_helper_client_connected(const struct ap_helper_client *h);

#endif
