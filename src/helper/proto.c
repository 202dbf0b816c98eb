/*
 * proto.c — the envelope {"id":N,"op":"name","args":{...}}, checked member
 * by member before anything runs; arguments validated against the
 * operation's own table; the handler (or a job) runs; one line goes back.
 * A client's mistake is answered with a problem code, never a crash.
 */
#include <sys/prctl.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aapanel/log.h"
#include "jobs.h"
#include "ops.h"
#include "proto.h"

#define OP_NAME_MAX 64
/* JSON numbers above 2^53 lose precision in JavaScript clients. */
#define ID_MAX 9007199254740991LL

static const char *
json_line(struct json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

static struct json_object *
problem_json(const struct ap_problem *pb)
{
	struct json_object *e = json_object_new_object();

	json_object_object_add(e, "code", json_object_new_string(ap_pb_name(pb->code)));
	json_object_object_add(e, "field", json_object_new_string(pb->field));
	json_object_object_add(e, "reason", json_object_new_string(pb->reason));
	return e;
}

/* has_id false: "id":null (the request's id could not be read). */
static void
respond(struct ap_buf *out, bool has_id, int64_t id, struct json_object *result,
    const struct ap_problem *pb)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", has_id ? json_object_new_int64(id) : NULL);
	json_object_object_add(o, "ok", json_object_new_boolean(result != NULL));
	if (result != NULL)
		json_object_object_add(o, "result", result);
	else
		json_object_object_add(o, "error", problem_json(pb));
	ap_buf_puts(out, json_line(o));
	ap_buf_putc(out, '\n');
	json_object_put(o);
}

void
ap_proto_error_line(struct ap_buf *out, enum ap_pb_code code, const char *reason)
{
	struct ap_problem pb;

	ap_problem_set(&pb, code, NULL, "%s", reason);
	respond(out, false, 0, NULL, &pb);
}

void
ap_proto_error_for(struct ap_buf *out, int64_t id, enum ap_pb_code code, const char *reason)
{
	struct ap_problem pb;

	ap_problem_set(&pb, code, NULL, "%s", reason);
	respond(out, true, id, NULL, &pb);
}

/* A member name worth echoing as "field": short and plain, else "". */
static const char *
plain_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= sizeof(((struct ap_problem *)0)->field))
		return "";
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
			(s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.' || s[i] == '-'))
			return "";
	return s;
}

static const struct ap_field *
field_named(const struct ap_field *fields, const char *name)
{
	size_t nf = ap_fields_count(fields);

	for (size_t i = 0; i < nf; i++)
		if (strcmp(fields[i].name, name) == 0)
			return &fields[i];
	return NULL;
}

enum ap_err
ap_proto_validate_args(const struct ap_field *fields, struct json_object *args,
    struct ap_arena *a, size_t max_len, struct ap_fieldval **vals, struct ap_problem *pb)
{
	size_t nf = ap_fields_count(fields), nkv = 0;
	struct ap_kv *kv;
	struct ap_req r;

	*vals = NULL;
	kv = ap_arena_calloc(a, nf ? nf : 1, sizeof(*kv));
	json_object_object_foreach(args, key, v) {
		const struct ap_field *f = field_named(fields, key);
		const char *text;
		size_t len;

		if (f == NULL) {
			ap_problem_set(pb, AP_PB_INVALID, plain_name(key),
			    "is not an argument of this operation");
			return AP_ERR_INVAL;
		}
		switch (f->type) {
		case AP_FIELD_INT:
			if (!json_object_is_type(v, json_type_int)) {
				ap_problem_set(pb, AP_PB_INVALID, f->name,
				    "must be a JSON integer");
				return AP_ERR_INVAL;
			}
			/* The number as JSON wrote it back; the validator range-checks the text. */
			text = ap_arena_strdup(a, json_object_to_json_string(v));
			len = strlen(text);
			break;
		case AP_FIELD_BOOL:
			if (!json_object_is_type(v, json_type_boolean)) {
				ap_problem_set(pb, AP_PB_INVALID, f->name,
				    "must be true or false");
				return AP_ERR_INVAL;
			}
			text = json_object_get_boolean(v) ? "true" : "false";
			len = strlen(text);
			break;
		default:
			if (!json_object_is_type(v, json_type_string)) {
				ap_problem_set(pb, AP_PB_INVALID, f->name,
				    "must be a JSON string");
				return AP_ERR_INVAL;
			}
			len = (size_t)json_object_get_string_len(v);
			/* A NUL would cut the value short for every C function after us. */
			if (memchr(json_object_get_string(v), '\0', len) != NULL) {
				ap_problem_set(pb, AP_PB_INVALID, f->name,
				    "must not contain NUL bytes");
				return AP_ERR_INVAL;
			}
			text = ap_arena_memdup(a, json_object_get_string(v), len + 1);
			break;
		}
		kv[nkv++] = (struct ap_kv){ .key = f->name, .val = text, .len = len };
	}
	/*
	 * The route table's validators, unchanged: the arguments become the
	 * form of a POST request. The only call of ap_fields_validate in the
	 * helper (adapt here when route.h's field API changes).
	 */
	memset(&r, 0, sizeof(r));
	r.arena = a;
	r.method = AP_METHOD_POST;
	r.form = kv;
	r.nform = nkv;
	/* The problem it fills is the protocol's error as it is (one problem type). */
	if (ap_fields_validate(fields, &r, NULL, max_len, vals, pb) != AP_OK)
		return AP_ERR_INVAL;
	return AP_OK;
}

/* Only printable text and tabs: a raw control byte is not JSON text we accept. */
static bool
line_plain(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 && s[i] != '\t')
			return false;
	return true;
}

/* The answer of a handler that returned rc. */
static void
answer(const struct ap_proto_env *env, const struct helper_op *op, int64_t id, enum ap_err rc,
    struct json_object *result, struct ap_problem *pb, int pass_fd, uint64_t t0, struct ap_buf *out)
{
	if (pass_fd >= 0) {
		if (rc == AP_OK && env->pass_fd != NULL)
			*env->pass_fd = pass_fd;
		else
			close(pass_fd);
	}
	if (rc == AP_OK) {
		AP_DEBUG("%s id=%lld ok in %llu us", op->name, (long long)id,
		    (unsigned long long)(ap_now_us() - t0));
		respond(out, true, id, result, NULL);
		return;
	}
	json_object_put(result);
	if (pb->code == AP_PB_NONE)
		ap_problem_set(pb, AP_PB_FAILED, NULL, "%s failed: %s", op->name,
		    ap_strerror(rc));
	AP_INFO("%s id=%lld: %s%s%s: %s", op->name, (long long)id, ap_pb_name(pb->code),
	    pb->field[0] ? " " : "", pb->field, pb->reason);
	respond(out, true, id, NULL, pb);
}

/* Close every descriptor above 2 but a and b (-1: none): the child holds no other
 * connection open (a client the loop closes sees its end at once), like a job. */
static void
close_others(int a, int b)
{
	int lo = a < b ? a : b, hi = a < b ? b : a;

	if (lo < 0)
		lo = hi, hi = -1;
	if (lo < 0) {
		close_range(3, ~0U, 0);
		return;
	}
	if (lo > 3)
		close_range(3, (unsigned)lo - 1, 0);
	if (hi > lo) {
		if (hi > lo + 1)
			close_range((unsigned)lo + 1, (unsigned)hi - 1, 0);
		close_range((unsigned)hi + 1, ~0U, 0);
	} else {
		close_range((unsigned)lo + 1, ~0U, 0);
	}
}

/*
 * HELPER_OP_ASYNC: the handler runs in a child of its own, so a database
 * server that does not answer holds that one caller, never the loop. The
 * child is bounded by helper.timeout_ms (a caller gives up then anyway):
 * SIGALRM ends it. false when no child could be made (the caller runs it here).
 */
static bool
run_deferred(const struct ap_proto_env *env, const struct helper_op *op, int64_t id,
    struct helper_ctx *ctx)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) != 0)
		return false;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return false;
	}
	if (pid == 0) {
		struct ap_buf out = { 0 };
		sigset_t all;
		uint64_t t0 = ap_now_us();
		enum ap_err rc;
		size_t off = 0;

		close(p[0]);
		close_others(p[1], env->sandbox_fd);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		sigfillset(&all);
		sigprocmask(SIG_UNBLOCK, &all, NULL);
		signal(SIGALRM, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		alarm((unsigned)(env->cfg->helper_timeout_ms + 999) / 1000 + 1);
		rc = op->fn(ctx);
		answer(env, op, id, rc, ctx->result, ctx->pb, -1, t0, &out);
		if (ctx->pass_fd >= 0)
			close(ctx->pass_fd);
		while (off < out.len) {
			ssize_t w = write(p[1], out.data + off, out.len - off);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				_exit(1);
			off += (size_t)w;
		}
		_exit(0);
	}
	close(p[1]);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	env->defer->fd = p[0];
	env->defer->pid = pid;
	env->defer->id = id;
	return true;
}

static bool
run(const struct ap_proto_env *env, const struct helper_op *op, int64_t id,
    const struct ap_fieldval *vals, struct ap_buf *out)
{
	struct ap_problem pb = { .code = AP_PB_NONE };
	struct json_object *result = json_object_new_object();
	struct helper_ctx ctx = {
		.cfg = env->cfg,
		.arena = env->arena,
		.args = vals,
		.result = result,
		.pb = &pb,
		.sandbox_fd = env->sandbox_fd,
		.peer_uid = env->peer_uid,
		.pass_fd = -1,
	};
	uint64_t t0 = ap_now_us();
	enum ap_err rc;

	if (op->flags & HELPER_OP_JOB) {
		int64_t job;

		rc = ap_jobs_submit(op, vals, env->peer_uid, &job, &pb);
		if (rc == AP_OK)
			json_object_object_add(result, "job", json_object_new_int64(job));
	} else if ((op->flags & HELPER_OP_ASYNC) && env->defer != NULL && run_deferred(env, op, id, &ctx)) {
		json_object_put(result);
		return true;
	} else {
		rc = op->fn(&ctx);
	}
	answer(env, op, id, rc, result, &pb, ctx.pass_fd, t0, out);
	return true;
}

bool
ap_proto_handle(const struct ap_proto_env *env, const char *line, size_t len, struct ap_buf *out)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *req = NULL, *idv = NULL, *opv = NULL, *args = NULL;
	struct ap_problem pb;
	const struct helper_op *op;
	struct ap_fieldval *vals;
	bool has_id = false, keep = false;
	int64_t id = 0;
	size_t end;

	if (!line_plain(line, len)) {
		ap_problem_set(&pb, AP_PB_INVALID, NULL,
		    "the request contains a control character");
		goto bad;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	req = json_tokener_parse_ex(tok, line, (int)len);
	end = json_tokener_get_parse_end(tok);
	while (req != NULL && end < len && (line[end] == ' ' || line[end] == '\t'))
		end++;
	if (req == NULL || end != len) {
		ap_problem_set(&pb, AP_PB_INVALID, NULL, "the request is not valid JSON");
		goto bad;
	}
	if (!json_object_is_type(req, json_type_object)) {
		ap_problem_set(&pb, AP_PB_INVALID, NULL,
		    "the request must be a JSON object {\"id\":N,\"op\":\"name\",\"args\":{}}");
		goto bad;
	}
	json_object_object_foreach(req, key, v) {
		if (strcmp(key, "id") == 0) {
			idv = v;
		} else if (strcmp(key, "op") == 0) {
			opv = v;
		} else if (strcmp(key, "args") == 0) {
			args = v;
		} else {
			ap_problem_set(&pb, AP_PB_INVALID, plain_name(key),
			    "is not a request member (id, op, args)");
			goto bad;
		}
	}
	if (idv == NULL || !json_object_is_type(idv, json_type_int) ||
	    json_object_get_int64(idv) < 0 || json_object_get_int64(idv) > ID_MAX) {
		ap_problem_set(&pb, AP_PB_INVALID, "id",
		    "must be an integer between 0 and %lld", ID_MAX);
		goto bad;
	}
	id = json_object_get_int64(idv);
	has_id = true;
	if (opv == NULL || !json_object_is_type(opv, json_type_string) ||
	    json_object_get_string_len(opv) < 1 || json_object_get_string_len(opv) > OP_NAME_MAX ||
	    memchr(json_object_get_string(opv), '\0', (size_t)json_object_get_string_len(opv))) {
		ap_problem_set(&pb, AP_PB_INVALID, "op",
		    "must be an operation name of 1 to %d characters", OP_NAME_MAX);
		goto bad;
	}
	if (args == NULL || !json_object_is_type(args, json_type_object)) {
		ap_problem_set(&pb, AP_PB_INVALID, "args", "must be a JSON object");
		goto bad;
	}
	op = ap_ops_find(json_object_get_string(opv), env->cfg->profile);
	if (op == NULL) {
		ap_problem_set(&pb, AP_PB_UNSUPPORTED, "op", "unknown operation");
		goto bad;
	}
	keep = true; /* the envelope is fine: whatever happens now, the connection stays */
	if (ap_proto_validate_args(op->args, args, env->arena, (size_t)env->cfg->helper_max_message,
		&vals, &pb) != AP_OK) {
		AP_INFO("%s id=%lld: invalid %s: %s", op->name, (long long)id, pb.field, pb.reason);
		respond(out, true, id, NULL, &pb);
		goto out;
	}
	run(env, op, id, vals, out);
	goto out;
bad:
	AP_INFO("bad request from uid %u: %s%s%s", (unsigned)env->peer_uid, pb.field,
	    pb.field[0] ? ": " : "", pb.reason);
	respond(out, has_id, id, NULL, &pb);
out:
	json_object_put(req);
	json_tokener_free(tok);
	return keep;
}
