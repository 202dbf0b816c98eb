/*
 * fuzz_req.c — libFuzzer target for the request parser. The first input
 * byte picks where the rest goes: a body of one of three content types, the
 * query string, the Cookie header, or the request URI and Accept header
 * (from 128 up, a multipart body is streamed as the database's import form's).
 * Limits are small so the limit paths are reached too; parsed requests are
 * also run through the router and field validation. check_req.c includes
 * this file to replay the seed corpus (tests/fuzz/corpus/req) as a test.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude \
 *       -I/usr/include/json-c tests/fuzz/fuzz_req.c src/core/req.c src/core/route.c \
 *       src/core/common.c src/core/arena.c -ljson-c -o fuzz_req
 *   ./fuzz_req tests/fuzz/corpus/req
 */
#include <stdint.h>
#include <string.h>

#include "aapanel/req.h"
#include "aapanel/route.h"

#define FZ_BOUNDARY "fuzzBoundary42"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz_body {
	const uint8_t *p;
	size_t n;
	size_t off;
};

/* Hands out at most 7 bytes per call so the read loop is exercised. */
static ssize_t
fz_read(void *ctx, void *buf, size_t n)
{
	struct fz_body *b = ctx;
	size_t left = b->n - b->off;

	if (n > left)
		n = left;
	if (n > 7)
		n = 7;
	if (n > 0)
		memcpy(buf, b->p + b->off, n);
	b->off += n;
	return (ssize_t)n;
}

static int
fz_handler(struct ap_ctx *ctx)
{
	(void)ctx;
	return 200;
}

static const char *const fz_choices[] = { "a", "b", NULL };

static const struct ap_field fz_fields[] = {
	{ .name = "a", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE, .max = 16 },
	{ .name = "b", .type = AP_FIELD_INT, .min = -5, .max = 500 },
	{ .name = "c", .type = AP_FIELD_BOOL },
	{ .name = "d", .type = AP_FIELD_ENUM, .choices = fz_choices },
	{ .name = "e", .type = AP_FIELD_NAME },
	{ .name = "f", .type = AP_FIELD_HOSTNAME },
	{ .name = "g", .type = AP_FIELD_EMAIL },
	AP_FIELD_END,
};

static const struct ap_route fz_routes[] = {
	{ .methods = AP_M_GET, .pattern = "/", .handler = fz_handler, .flags = AP_ROUTE_PUBLIC },
	{ .methods = AP_M_GET | AP_M_POST, .pattern = "/sites/{id}", .handler = fz_handler, .perm = "sites.read",
	    .fields = fz_fields },
	{ .methods = AP_M_GET, .pattern = "/sites/new", .handler = fz_handler, .perm = "sites.write" },
	{ .methods = AP_M_DELETE, .pattern = "/api/{a}/{b}", .handler = fz_handler, .perm = "x" },
};

static void
fz_exercise(struct ap_req *r, struct ap_arena *a)
{
	struct ap_buf b = { 0 };
	struct ap_fieldval *vals = NULL;
	struct ap_problem err;
	struct ap_route_params params;
	const struct ap_route *rt = NULL;
	unsigned allowed = 0;

	ap_url_encode(&b, r->path);
	ap_url_encode(&b, r->query_string);
	ap_buf_free(&b);
	(void)ap_req_form(r, "a");
	(void)ap_req_query(r, "a");
	(void)ap_req_cookie(r, "a");
	if (ap_fields_validate(fz_fields, r, NULL, 256, &vals, &err) == AP_OK)
		(void)vals[1].i;
	(void)ap_route_match(fz_routes, AP_NELEM(fz_routes), r->method, r->path,
	    a, &rt, &params, &allowed);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ap_req_limits lim = {
		.max_body = 4096,
		.max_upload = 8192,
		.max_fields = 16,
		.max_field_len = 256,
		.max_header_len = 2048,
	};
	struct fz_body body = { NULL, 0, 0 };
	struct ap_arena *a;
	struct ap_req r;
	struct ap_problem err;
	char *env[10];
	size_t ne = 0;
	const char *text;
	unsigned mode;
	bool streamed;

	if (size == 0)
		return 0;
	mode = data[0] % 6;
	/* A first byte from 128 up: a multipart body is streamed (limits.stream_form), its file
	 * read out as a handler would. */
	streamed = data[0] >= 128;
	data++;
	size--;
	a = ap_arena_new();
	/* Params are C strings: the text stops at the first NUL. */
	text = ap_arena_strndup(a, (const char *)data, size);
	env[ne++] = ap_arena_printf(a, "REQUEST_METHOD=%s", mode < 3 ? "POST" : "GET");
	env[ne++] = ap_arena_printf(a, "REMOTE_ADDR=127.0.0.1");
	switch (mode) {
	case 0:
	case 1:
	case 2:
		env[ne++] = ap_arena_printf(a, "REQUEST_URI=/sites/1");
		env[ne++] = ap_arena_printf(a, "CONTENT_LENGTH=%zu", size);
		env[ne++] = ap_arena_printf(a, "CONTENT_TYPE=%s",
		    mode == 0 ? "application/x-www-form-urlencoded" :
		    mode == 1 ? "multipart/form-data; boundary=" FZ_BOUNDARY :
		    "application/json; charset=utf-8");
		body.p = data;
		body.n = size;
		break;
	case 3:
		env[ne++] = ap_arena_printf(a, "REQUEST_URI=/sites/1?%s", text);
		env[ne++] = ap_arena_printf(a, "QUERY_STRING=%s", text);
		break;
	case 4:
		env[ne++] = ap_arena_printf(a, "REQUEST_URI=/");
		env[ne++] = ap_arena_printf(a, "HTTP_COOKIE=%s", text);
		break;
	default:
		env[ne++] = ap_arena_printf(a, "REQUEST_URI=%s", text);
		env[ne++] = ap_arena_printf(a, "HTTP_ACCEPT=%s", text);
		break;
	}
	env[ne] = NULL;
	lim.stream_form = streamed;
	lim.max_stream = 1 << 20;
	if (ap_req_parse(&r, a, env, fz_read, &body, &lim, &err) == AP_OK) {
		char chunk[5];

		fz_exercise(&r, a);
		/* Every file part in turn (ap_req_part_next), each read in small pieces. */
		do {
			while (r.mp != NULL && ap_req_part_read(&r, chunk, sizeof(chunk)) > 0)
				(void)ap_req_part_max(&r);
		} while (ap_req_part_next(&r) > 0);
	}
	ap_req_clear(&r);
	ap_arena_free(a);
	return 0;
}
