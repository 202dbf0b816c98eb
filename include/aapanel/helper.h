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
#include "aapanel/problem.h"

/*
 * Errors are the project's one problem type (problem.h): on the wire
 * {"code": ap_pb_name(code), "field": ..., "reason": ...}. The helper uses
 * AP_PB_INVALID (the request or an argument is malformed; field says which),
 * NOT_FOUND, EXISTS, UNSUPPORTED (unknown operation, or not available here),
 * FAILED (the operation ran and failed; the reason is the tool's message),
 * TOO_LARGE (over helper.max_message), DENIED (the peer's uid is not the
 * panel's), BUSY (too many connections or jobs) and TIMEOUT. UNAVAILABLE
 * never travels on the wire: the client reports it when the helper cannot
 * be reached or did not answer.
 */

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
 *   AP_ERR_UNAVAIL  code AP_PB_UNAVAILABLE: no socket, connection
 *                   refused or reset, or no complete answer within the
 *                   timeout (never blocks longer); also BUSY and TIMEOUT
 *   AP_ERR_INVAL    INVALID (pb->field names the argument), UNSUPPORTED
 *   AP_ERR_NOTFOUND NOT_FOUND;  AP_ERR_PERM DENIED;  AP_ERR_TOOBIG TOO_LARGE
 *   AP_ERR_IO       EXISTS, FAILED, or a response that is not the protocol
 * Branch on pb->code; the reason is for people.
 */
enum ap_err ap_helper_call(struct ap_helper_client *h, const char *op, struct json_object *args,
    struct json_object **result, struct ap_problem *pb);

/*
 * The same for an operation that passes a descriptor with its answer
 * (files.open, files.begin: SCM_RIGHTS over the same socket). On AP_OK *fd
 * is that descriptor (owned, close-on-exec); an answer without one is
 * AP_ERR_IO. On failure *fd is -1. ap_helper_call closes any descriptor it
 * is passed.
 */
enum ap_err ap_helper_call_fd(struct ap_helper_client *h, const char *op,
    struct json_object *args, struct json_object **result, int *fd, struct ap_problem *pb);

/* Whether the client holds an open connection (for tests). */
bool ap_helper_client_connected(const struct ap_helper_client *h);

#endif
