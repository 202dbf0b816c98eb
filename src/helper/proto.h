/*
 * proto.h — one request line in, one response line out (docs/helper.md):
 * the envelope check, argument validation against the operation's table
 * (the one place arguments are validated), and dispatch through ops.h.
 */
#ifndef AAPANEL_HELPER_PROTO_H
#define AAPANEL_HELPER_PROTO_H

#include <sys/types.h>

#include <json-c/json.h>

#include "aapanel/arena.h"
#include "aapanel/config.h"
#include "aapanel/helper.h"
#include "aapanel/route.h"

/* What a request runs with; borrowed. */
/* An answer that comes later (ops.h HELPER_OP_ASYNC): the operation runs in the child
 * pid, which writes its one response line to fd (non-blocking, close-on-exec) and exits. */
struct ap_proto_defer {
	int fd;   /* -1: the answer was appended at once */
	pid_t pid;
	int64_t id;
};

struct ap_proto_env {
	const struct ap_config *cfg;
	int sandbox_fd;
	uid_t peer_uid;
	struct ap_arena *arena; /* reset by the caller after each request */
	int *pass_fd;           /* where an operation's descriptor to pass goes (-1 when none);
				 * NULL: the caller cannot pass descriptors, they are closed */
	struct ap_proto_defer *defer; /* NULL: HELPER_OP_ASYNC operations run here, at once */
};

/*
 * Handle one request line (without its newline). Appends exactly one
 * response line, newline included, to out. Returns false when the
 * connection is to be closed once the response is written: a malformed
 * envelope (not JSON, not an object, bad id/op/args, unknown member) or an
 * unknown operation. Arguments that fail validation, and operations that
 * fail, keep the connection.
 */
bool ap_proto_handle(const struct ap_proto_env *env, const char *line, size_t len,
    struct ap_buf *out);
/* (With env->defer set, an HELPER_OP_ASYNC operation appends nothing: defer->fd is
 * set and its line comes from there.) The line for a deferred answer that never came. */
void ap_proto_error_for(struct ap_buf *out, int64_t id, enum ap_pb_code code, const char *reason);

/* Append an error line about the connection itself ("id":null): denied, busy, too_large, timeout. */
void ap_proto_error_line(struct ap_buf *out, enum ap_pb_code code, const char *reason);

/*
 * Validate a request's "args" object against an operation's argument table
 * (NULL-name-terminated, route.h field types). JSON types first: INT takes
 * a JSON integer, BOOL a JSON boolean, every other type a JSON string
 * without NUL bytes; a member the table does not declare is refused. Then
 * the route table's validators (ap_fields_validate), then each field's
 * strict check. *vals: an arena array parallel to fields. On failure
 * AP_ERR_INVAL and pb (invalid, the field's name, the reason).
 */
enum ap_err ap_proto_validate_args(const struct ap_field *fields, struct json_object *args,
    struct ap_arena *a, size_t max_len, struct ap_fieldval **vals, struct ap_problem *pb);

#endif
