/* check_route.c — route matching, table checks, field validation. */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aapanel/route.h"

/* The tables here are positional (methods, pattern, handler, perm, flags,
 * tpl, fields, form): the members after them (summary, answer, media)
 * belong to the API contract, checked in check_app.c, not here. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

static struct ap_arena *A;

static void
setup(void)
{
	A = ap_arena_new();
}

static void
teardown(void)
{
	ap_arena_free(A);
	A = NULL;
}

static int
h_a(struct ap_ctx *ctx)
{
	(void)ctx;
	return 200;
}

static int
h_b(struct ap_ctx *ctx)
{
	(void)ctx;
	return 201;
}

/* ---- matching ------------------------------------------------------- */

/* Path parameter declarations for the tables below (every {name} needs one). */
#define PATH_FIELD(n) { .name = n, .type = AP_FIELD_NAME, .flags = AP_FIELD_PATH | AP_FIELD_REQUIRED }
static const struct ap_field p_id[] = { PATH_FIELD("id"), AP_FIELD_END };
static const struct ap_field p_other[] = { PATH_FIELD("other"), AP_FIELD_END };
static const struct ap_field p_x[] = { PATH_FIELD("x"), AP_FIELD_END };
static const struct ap_field p_kind_id[] = { PATH_FIELD("kind"), PATH_FIELD("id"), AP_FIELD_END };
static const struct ap_field p_id_action[] = { PATH_FIELD("id"), PATH_FIELD("action"), AP_FIELD_END };
static const struct ap_field p_a_h[] = {
	PATH_FIELD("a"), PATH_FIELD("b"), PATH_FIELD("c"), PATH_FIELD("d"),
	PATH_FIELD("e"), PATH_FIELD("f"), PATH_FIELD("g"), PATH_FIELD("h"), AP_FIELD_END,
};

/* Param routes deliberately listed before the literals they overlap. */
static const struct ap_route table[] = {
	{ AP_M_GET, "/", h_a, NULL, AP_ROUTE_PUBLIC, NULL, NULL, NULL },                 /* 0 */
	{ AP_M_GET | AP_M_DELETE, "/sites/{id}", h_a, "sites.read", 0, NULL, p_id, NULL }, /* 1 */
	{ AP_M_GET | AP_M_POST, "/sites/new", h_b, "sites.write", 0, NULL, NULL, NULL },  /* 2 */
	{ AP_M_GET, "/sites", h_a, "sites.read", 0, NULL, NULL, NULL },                   /* 3 */
	{ AP_M_POST, "/sites/{id}/edit", h_a, "sites.write", 0, NULL, p_id, NULL },       /* 4 */
	{ AP_M_GET, "/{kind}/{id}/files", h_a, "files.read", 0, NULL, p_kind_id, NULL },       /* 5 */
	{ AP_M_GET, "/db/{id}/{action}", h_a, "db.read", 0, NULL, p_id_action, NULL },           /* 6 */
	{ AP_M_PUT, "/login", h_a, NULL, AP_ROUTE_PUBLIC, NULL, NULL, NULL },             /* 7 */
	{ AP_M_POST, "/login", h_b, NULL, AP_ROUTE_PUBLIC, NULL, NULL, NULL },            /* 8 */
	{ AP_M_HEAD, "/ping", h_a, NULL, AP_ROUTE_PUBLIC, NULL, NULL, NULL },             /* 9 */
};

static const struct {
	enum ap_method m;
	const char *path;
	enum ap_route_result res;
	int route;        /* index in table, -1 none */
	unsigned allowed; /* on 405 */
	const char *params; /* "name=val,..." */
} match_rows[] = {
	{ AP_METHOD_GET, "/", AP_ROUTE_FOUND, 0, 0, "" },
	{ AP_METHOD_HEAD, "/", AP_ROUTE_FOUND, 0, 0, "" },
	{ AP_METHOD_GET, "/sites/new", AP_ROUTE_FOUND, 2, 0, "" },
	{ AP_METHOD_POST, "/sites/new", AP_ROUTE_FOUND, 2, 0, "" },
	{ AP_METHOD_GET, "/sites/42", AP_ROUTE_FOUND, 1, 0, "id=42" },
	{ AP_METHOD_HEAD, "/sites/42", AP_ROUTE_FOUND, 1, 0, "id=42" },
	{ AP_METHOD_DELETE, "/sites/42", AP_ROUTE_FOUND, 1, 0, "id=42" },
	/* The literal lacks DELETE; the param route that has it answers. */
	{ AP_METHOD_DELETE, "/sites/new", AP_ROUTE_FOUND, 1, 0, "id=new" },
	{ AP_METHOD_GET, "/sites", AP_ROUTE_FOUND, 3, 0, "" },
	{ AP_METHOD_GET, "/sites/", AP_ROUTE_NOT_FOUND, -1, 0, "" },
	{ AP_METHOD_GET, "/sites/new/", AP_ROUTE_NOT_FOUND, -1, 0, "" },
	{ AP_METHOD_GET, "/sites//edit", AP_ROUTE_NOT_FOUND, -1, 0, "" },
	{ AP_METHOD_POST, "/sites/7/edit", AP_ROUTE_FOUND, 4, 0, "id=7" },
	{ AP_METHOD_GET, "/sites/7/edit", AP_ROUTE_METHOD_NOT_ALLOWED, -1, AP_M_POST, "" },
	{ AP_METHOD_PUT, "/sites/7", AP_ROUTE_METHOD_NOT_ALLOWED, -1,
	  AP_M_GET | AP_M_HEAD | AP_M_DELETE, "" },
	/* Union over every matching pattern, GET bringing HEAD. */
	{ AP_METHOD_PUT, "/sites/new", AP_ROUTE_METHOD_NOT_ALLOWED, -1,
	  AP_M_GET | AP_M_HEAD | AP_M_POST | AP_M_DELETE, "" },
	{ AP_METHOD_DELETE, "/login", AP_ROUTE_METHOD_NOT_ALLOWED, -1, AP_M_PUT | AP_M_POST, "" },
	{ AP_METHOD_POST, "/login", AP_ROUTE_FOUND, 8, 0, "" },
	{ AP_METHOD_PUT, "/login", AP_ROUTE_FOUND, 7, 0, "" },
	{ AP_METHOD_HEAD, "/ping", AP_ROUTE_FOUND, 9, 0, "" },
	{ AP_METHOD_GET, "/ping", AP_ROUTE_METHOD_NOT_ALLOWED, -1, AP_M_HEAD, "" },
	/* Literal at the first differing segment wins. */
	{ AP_METHOD_GET, "/db/5/files", AP_ROUTE_FOUND, 6, 0, "id=5,action=files" },
	{ AP_METHOD_GET, "/web/5/files", AP_ROUTE_FOUND, 5, 0, "kind=web,id=5" },
	{ AP_METHOD_GET, "/db/5/backup", AP_ROUTE_FOUND, 6, 0, "id=5,action=backup" },
	{ AP_METHOD_GET, "/caf\xc3\xa9 x/9/files", AP_ROUTE_FOUND, 5, 0,
	  "kind=caf\xc3\xa9 x,id=9" },
	{ AP_METHOD_GET, "/nothing", AP_ROUTE_NOT_FOUND, -1, 0, "" },
	{ AP_METHOD_GET, "", AP_ROUTE_NOT_FOUND, -1, 0, "" },
	{ AP_METHOD_GET, "sites", AP_ROUTE_NOT_FOUND, -1, 0, "" },
	{ AP_METHOD_GET, "//", AP_ROUTE_NOT_FOUND, -1, 0, "" },
	{ AP_METHOD_GET, "/Sites", AP_ROUTE_NOT_FOUND, -1, 0, "" },
};

START_TEST(test_match_rows)
{
	const struct ap_route *rt = (const struct ap_route *)1;
	struct ap_route_params params;
	unsigned allowed = 12345;
	enum ap_route_result res;
	struct ap_buf b = { 0 };

	res = ap_route_match(table, AP_NELEM(table), match_rows[_i].m,
	    match_rows[_i].path, A, &rt, &params, &allowed);
	ck_assert_msg(res == match_rows[_i].res, "row %d (%s): got %d", _i,
	    match_rows[_i].path, res);
	if (match_rows[_i].route >= 0)
		ck_assert_ptr_eq(rt, &table[match_rows[_i].route]);
	else
		ck_assert_ptr_null(rt);
	if (res == AP_ROUTE_METHOD_NOT_ALLOWED)
		ck_assert_uint_eq(allowed, match_rows[_i].allowed);
	else
		ck_assert_uint_eq(allowed, 0);
	for (size_t i = 0; i < params.n; i++)
		ap_buf_printf(&b, "%s%s=%s", i ? "," : "", params.v[i].name,
		    params.v[i].val);
	ck_assert_str_eq(ap_buf_cstr(&b), match_rows[_i].params);
	ap_buf_free(&b);
}
END_TEST

START_TEST(test_match_literal_wins_in_either_order)
{
	const struct ap_route fwd[] = {
		{ AP_M_GET, "/a/{x}", h_a, "p", 0, NULL, NULL, NULL },
		{ AP_M_GET, "/a/b", h_b, "p", 0, NULL, NULL, NULL },
	};
	const struct ap_route rev[] = {
		{ AP_M_GET, "/a/b", h_b, "p", 0, NULL, NULL, NULL },
		{ AP_M_GET, "/a/{x}", h_a, "p", 0, NULL, NULL, NULL },
	};
	const struct ap_route *rt;

	ck_assert_int_eq(ap_route_match(fwd, 2, AP_METHOD_GET, "/a/b", A, &rt,
	    NULL, NULL), AP_ROUTE_FOUND);
	ck_assert_ptr_eq(rt->handler, h_b);
	ck_assert_int_eq(ap_route_match(rev, 2, AP_METHOD_GET, "/a/b", A, &rt,
	    NULL, NULL), AP_ROUTE_FOUND);
	ck_assert_ptr_eq(rt->handler, h_b);
	ck_assert_int_eq(ap_route_match(rev, 2, AP_METHOD_GET, "/a/c", A, &rt,
	    NULL, NULL), AP_ROUTE_FOUND);
	ck_assert_ptr_eq(rt->handler, h_a);
}
END_TEST

START_TEST(test_match_precedence_is_left_to_right)
{
	/* "/{x}/b/c" has more literals but "/a/{y}/c" wins at segment one. */
	const struct ap_route t[] = {
		{ AP_M_GET, "/{x}/b/c", h_a, "p", 0, NULL, NULL, NULL },
		{ AP_M_GET, "/a/{y}/{z}", h_b, "p", 0, NULL, NULL, NULL },
	};
	const struct ap_route *rt;
	struct ap_route_params params;

	ck_assert_int_eq(ap_route_match(t, 2, AP_METHOD_GET, "/a/b/c", A, &rt,
	    &params, NULL), AP_ROUTE_FOUND);
	ck_assert_ptr_eq(rt, &t[1]);
	ck_assert_uint_eq(params.n, 2);
	ck_assert_str_eq(params.v[0].name, "y");
	ck_assert_str_eq(params.v[1].val, "c");
}
END_TEST

START_TEST(test_match_param_never_spans_segments)
{
	const struct ap_route t[] = {
		{ AP_M_GET, "/f/{name}", h_a, "p", 0, NULL, NULL, NULL },
	};

	ck_assert_int_eq(ap_route_match(t, 1, AP_METHOD_GET, "/f/a/b", A, NULL,
	    NULL, NULL), AP_ROUTE_NOT_FOUND);
	ck_assert_int_eq(ap_route_match(t, 1, AP_METHOD_GET, "/f/", A, NULL,
	    NULL, NULL), AP_ROUTE_NOT_FOUND);
	ck_assert_int_eq(ap_route_match(t, 1, AP_METHOD_GET, "/f", A, NULL,
	    NULL, NULL), AP_ROUTE_NOT_FOUND);
	ck_assert_int_eq(ap_route_match(t, 1, AP_METHOD_GET, "/f/a", A, NULL,
	    NULL, NULL), AP_ROUTE_FOUND);
}
END_TEST

START_TEST(test_match_root_only_matches_root)
{
	const struct ap_route t[] = {
		{ AP_M_GET, "/", h_a, NULL, AP_ROUTE_PUBLIC, NULL, NULL, NULL },
	};

	ck_assert_int_eq(ap_route_match(t, 1, AP_METHOD_GET, "/", A, NULL, NULL,
	    NULL), AP_ROUTE_FOUND);
	ck_assert_int_eq(ap_route_match(t, 1, AP_METHOD_GET, "/x", A, NULL,
	    NULL, NULL), AP_ROUTE_NOT_FOUND);
	ck_assert_int_eq(ap_route_match(t, 1, AP_METHOD_POST, "/", A, NULL,
	    NULL, NULL), AP_ROUTE_METHOD_NOT_ALLOWED);
}
END_TEST

START_TEST(test_match_params_are_arena_copies)
{
	char path[] = "/sites/77";
	struct ap_route_params params;
	const struct ap_route *rt;

	ck_assert_int_eq(ap_route_match(table, AP_NELEM(table), AP_METHOD_GET,
	    path, A, &rt, &params, NULL), AP_ROUTE_FOUND);
	path[7] = '9';
	ck_assert_str_eq(params.v[0].val, "77");
	ck_assert_str_eq(params.v[0].name, "id");
}
END_TEST

START_TEST(test_match_empty_table)
{
	unsigned allowed = 5;

	ck_assert_int_eq(ap_route_match(NULL, 0, AP_METHOD_GET, "/", A, NULL,
	    NULL, &allowed), AP_ROUTE_NOT_FOUND);
	ck_assert_uint_eq(allowed, 0);
}
END_TEST

/* ---- table check ---------------------------------------------------- */

START_TEST(test_table_check_accepts_valid_table)
{
	char err[256] = "";

	ck_assert_int_eq(ap_route_table_check(table, AP_NELEM(table), err,
	    sizeof(err)), AP_OK);
	ck_assert_str_eq(err, "");
}
END_TEST

static const char *const no_choices[] = { NULL };
static const struct ap_field f_enum_empty[] = {
	{ .name = "e", .type = AP_FIELD_ENUM, .choices = no_choices },
	AP_FIELD_END,
};
static const struct ap_field f_minmax[] = {
	{ .name = "n", .type = AP_FIELD_INT, .min = 5, .max = 1 },
	AP_FIELD_END,
};
static const struct ap_field f_badflags[] = {
	{ .name = "t", .type = AP_FIELD_TEXT, .flags = 0x80 },
	AP_FIELD_END,
};
static const struct ap_field f_minmax_ok[] = {
	{ .name = "id", .type = AP_FIELD_INT, .min = 1, .max = 9 }, /* not flagged AP_FIELD_PATH */
	AP_FIELD_END,
};
/* A slot its enum names but the initializer forgot (all zeroes). */
enum { H_A, H_FORGOTTEN, H_C, H__MAX };
static const struct ap_field f_hole[H__MAX + 1] = {
	[H_A] = { .name = "a", .type = AP_FIELD_TEXT },
	[H_C] = { .name = "c", .type = AP_FIELD_TEXT },
	[H__MAX] = AP_FIELD_END,
};
static const struct ap_field f_twice[] = {
	{ .name = "a", .type = AP_FIELD_TEXT },
	{ .name = "a", .type = AP_FIELD_INT },
	AP_FIELD_END,
};

static const struct {
	struct ap_route rt;
	const char *err;
} bad_rows[] = {
	{ { AP_M_GET, "x", h_a, "p", 0, NULL, NULL, NULL }, "route 1 (x): pattern must start with '/'" },
	{ { AP_M_GET, "", h_a, "p", 0, NULL, NULL, NULL }, "route 1 (): pattern must start with '/'" },
	{ { AP_M_GET, "/a/", h_a, "p", 0, NULL, NULL, NULL }, "route 1 (/a/): pattern must not end with '/'" },
	{ { AP_M_GET, "/a//b", h_a, "p", 0, NULL, NULL, NULL }, "route 1 (/a//b): pattern has an empty segment" },
	{ { AP_M_GET, "//", h_a, "p", 0, NULL, NULL, NULL }, "route 1 (//): pattern has an empty segment" },
	{ { AP_M_GET, "/a/{Id}", h_a, "p", 0, NULL, NULL, NULL },
	  "route 1 (/a/{Id}): parameter must be {name} with name [a-z_][a-z0-9_]*" },
	{ { AP_M_GET, "/a/{}", h_a, "p", 0, NULL, NULL, NULL },
	  "route 1 (/a/{}): parameter must be {name} with name [a-z_][a-z0-9_]*" },
	{ { AP_M_GET, "/a/{9x}", h_a, "p", 0, NULL, NULL, NULL },
	  "route 1 (/a/{9x}): parameter must be {name} with name [a-z_][a-z0-9_]*" },
	{ { AP_M_GET, "/a/{id", h_a, "p", 0, NULL, NULL, NULL },
	  "route 1 (/a/{id): parameter must be {name} with name [a-z_][a-z0-9_]*" },
	{ { AP_M_GET, "/a/x{id}", h_a, "p", 0, NULL, NULL, NULL },
	  "route 1 (/a/x{id}): literal segment may only contain A-Z a-z 0-9 - . _ ~" },
	{ { AP_M_GET, "/a?b", h_a, "p", 0, NULL, NULL, NULL },
	  "route 1 (/a?b): literal segment may only contain A-Z a-z 0-9 - . _ ~" },
	{ { AP_M_GET, "/a/..", h_a, "p", 0, NULL, NULL, NULL },
	  "route 1 (/a/..): '.' and '..' segments never match" },
	{ { AP_M_GET, "/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}", h_a, "p", 0, NULL, NULL, NULL },
	  "route 1 (/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}): more than 8 parameters" },
	{ { AP_M_GET, "/{a}/x/{a}", h_a, "p", 0, NULL, NULL, NULL },
	  "route 1 (/{a}/x/{a}): duplicate parameter name" },
	{ { AP_M_GET, NULL, h_a, "p", 0, NULL, NULL, NULL }, "route 1 (NULL): pattern is NULL" },
	{ { AP_M_GET, "/h", NULL, "p", 0, NULL, NULL, NULL }, "route 1 (/h): handler is NULL" },
	{ { 0, "/h", h_a, "p", 0, NULL, NULL, NULL },
	  "route 1 (/h): methods must be a non-empty set of AP_M_*" },
	{ { 0x100, "/h", h_a, "p", 0, NULL, NULL, NULL },
	  "route 1 (/h): methods must be a non-empty set of AP_M_*" },
	{ { AP_M_GET, "/h", h_a, "p", 0x8000, NULL, NULL, NULL }, "route 1 (/h): unknown flags 0x8000" },
	{ { AP_M_GET, "/h", h_a, NULL, 0, NULL, NULL, NULL },
	  "route 1 (/h): non-public route without a permission" },
	{ { AP_M_GET, "/h", h_a, "", AP_ROUTE_RAW, NULL, NULL, NULL },
	  "route 1 (/h): non-public route without a permission" },
	/* Duplicates of route 0 ("GET /dup/{id}"). */
	{ { AP_M_GET | AP_M_POST, "/dup/{id}", h_a, "p", 0, NULL, p_id, NULL },
	  "route 1 (/dup/{id}): duplicate of route 0 for GET, HEAD" },
	{ { AP_M_GET, "/dup/{other}", h_a, "p", 0, NULL, p_other, NULL },
	  "route 1 (/dup/{other}): duplicate of route 0 for GET, HEAD" },
	{ { AP_M_HEAD, "/dup/{x}", h_a, "p", 0, NULL, p_x, NULL },
	  "route 1 (/dup/{x}): duplicate of route 0 for HEAD" },
	{ { AP_M_GET, "/e", h_a, "p", 0, NULL, f_enum_empty, NULL },
	  "route 1 (/e): field 'e': enum without choices" },
	{ { AP_M_GET, "/e", h_a, "p", 0, NULL, f_minmax, NULL },
	  "route 1 (/e): field 'n': min is greater than max" },
	{ { AP_M_GET, "/e", h_a, "p", 0, NULL, f_badflags, NULL },
	  "route 1 (/e): field 't': unknown field flags" },
	{ { AP_M_GET, "/e/{id}", h_a, "p", 0, NULL, NULL, NULL },
	  "route 1 (/e/{id}): field 'id': path parameter not declared as an AP_FIELD_PATH field" },
	{ { AP_M_GET, "/e/{id}", h_a, "p", 0, NULL, f_minmax_ok, NULL },
	  "route 1 (/e/{id}): field 'id': path parameter not declared as an AP_FIELD_PATH field" },
	{ { AP_M_GET, "/e", h_a, "p", 0, NULL, p_id, NULL },
	  "route 1 (/e): field 'id': path field without its {name} in the pattern" },
	{ { AP_M_GET, "/e", h_a, "p", 0, NULL, f_hole, NULL },
	  "route 1 (/e): field '(unnamed)': a field has no name (a slot of its enum left out of the table?)" },
	{ { AP_M_GET, "/e", h_a, "p", 0, NULL, f_twice, NULL },
	  "route 1 (/e): field 'a': declared twice" },
};

START_TEST(test_table_check_rejects)
{
	struct ap_route t[2] = {
		{ AP_M_GET, "/dup/{id}", h_a, "p", 0, NULL, p_id, NULL },
		bad_rows[_i].rt,
	};
	char err[256] = "";

	ck_assert_int_eq(ap_route_table_check(t, 2, err, sizeof(err)),
	    AP_ERR_INVAL);
	ck_assert_str_eq(err, bad_rows[_i].err);
}
END_TEST

START_TEST(test_table_check_allows_distinct_methods_and_shapes)
{
	const struct ap_route t[] = {
		{ AP_M_GET, "/dup/{id}", h_a, "p", 0, NULL, p_id, NULL },
		{ AP_M_POST | AP_M_DELETE, "/dup/{id}", h_a, "p", 0, NULL, p_id, NULL },
		{ AP_M_GET, "/dup/new", h_a, "p", 0, NULL, NULL, NULL },
		{ AP_M_GET, "/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}", h_a, "p", 0, NULL, p_a_h, NULL },
		{ AP_M_GET, "/pub", h_a, NULL, AP_ROUTE_PUBLIC | AP_ROUTE_RAW, NULL, NULL, NULL },
		{ AP_M_GET, "/Files.v2/a_b~c", h_a, "p", 0, NULL, NULL, NULL },
	};
	char err[256] = "";

	ck_assert_int_eq(ap_route_table_check(t, AP_NELEM(t), err, sizeof(err)),
	    AP_OK);
}
END_TEST

START_TEST(test_table_check_truncates_message)
{
	const struct ap_route t[] = {
		{ AP_M_GET, "/h", NULL, "p", 0, NULL, NULL, NULL },
	};
	char err[10];

	ck_assert_int_eq(ap_route_table_check(t, 1, err, sizeof(err)),
	    AP_ERR_INVAL);
	ck_assert_str_eq(err, "route 0 (");
	ck_assert_int_eq(ap_route_table_check(t, 1, NULL, 0), AP_ERR_INVAL);
}
END_TEST

/* ---- methods_str ---------------------------------------------------- */

START_TEST(test_methods_str_rows)
{
	static const struct {
		unsigned mask;
		const char *out;
	} rows[] = {
		{ AP_M_GET, "GET" },
		{ AP_M_GET | AP_M_HEAD | AP_M_POST, "GET, HEAD, POST" },
		{ AP_M_DELETE | AP_M_GET, "GET, DELETE" },
		{ AP_M_OPTIONS | AP_M_PATCH | AP_M_PUT, "PUT, PATCH, OPTIONS" },
		{ 0, "" },
		{ 0x80 | AP_M_POST, "POST" },
	};

	for (size_t i = 0; i < AP_NELEM(rows); i++) {
		struct ap_buf b = { 0 };

		ap_methods_str(rows[i].mask, &b);
		ck_assert_str_eq(ap_buf_cstr(&b), rows[i].out);
		ap_buf_free(&b);
	}
}
END_TEST

START_TEST(test_methods_str_appends)
{
	struct ap_buf b = { 0 };

	ap_buf_puts(&b, "Allow: ");
	ap_methods_str(AP_M_GET | AP_M_HEAD, &b);
	ck_assert_str_eq(ap_buf_cstr(&b), "Allow: GET, HEAD");
	ap_buf_free(&b);
}
END_TEST

/* ---- field validation ----------------------------------------------- */

/* Generous parse limits; validation gets its own max_field_len (100). */
static const struct ap_req_limits lim = {
	.max_body = 4096,
	.max_upload = 4096,
	.max_fields = 32,
	.max_field_len = 1000,
	.max_header_len = 1024,
};
#define VAL_MAX 100

/* A request whose query (GET) or form (other methods) holds the pairs. */
static struct ap_req *
mkreq(enum ap_method m, const char *pairs)
{
	struct ap_req *r = ap_arena_calloc(A, 1, sizeof(*r));
	struct ap_problem err;
	struct ap_kv *kv;
	size_t n;

	r->arena = A;
	r->method = m;
	r->method_name = ap_method_name(m);
	r->path = "/";
	ck_assert_int_eq(ap_parse_urlencoded(A, pairs, strlen(pairs), "query",
	    &lim, &kv, &n, &err), AP_OK);
	if (m == AP_METHOD_GET || m == AP_METHOD_HEAD) {
		r->query = kv;
		r->nquery = n;
	} else {
		r->form = kv;
		r->nform = n;
	}
	return r;
}

struct vrow {
	const char *in; /* urlencoded value for field "f"; NULL: not sent */
	const char *reason; /* NULL: valid */
};

/* Validate one field against each row; returns the value of the last row. */
static void
run_rows(const struct ap_field *f, const struct vrow *rows, size_t n)
{
	struct ap_field fields[2] = { *f, AP_FIELD_END };

	for (size_t i = 0; i < n; i++) {
		struct ap_req *r = mkreq(AP_METHOD_POST, rows[i].in ?
		    ap_arena_printf(A, "f=%s", rows[i].in) : "");
		struct ap_fieldval *vals = NULL;
		struct ap_problem err;
		enum ap_err rc;

		memset(&err, 0, sizeof(err));
		rc = ap_fields_validate(fields, r, NULL, VAL_MAX, &vals, &err);
		if (rows[i].reason == NULL) {
			ck_assert_msg(rc == AP_OK, "row %zu '%s' rejected: %s", i,
			    rows[i].in, err.reason);
		} else {
			ck_assert_msg(rc == AP_ERR_INVAL, "row %zu '%s' accepted", i,
			    rows[i].in);
			ck_assert_int_eq(err.status, 400);
			ck_assert_str_eq(err.field, "f");
			ck_assert_str_eq(err.reason, rows[i].reason);
		}
	}
}

START_TEST(test_field_text_rows)
{
	static const struct ap_field f = { .name = "f", .type = AP_FIELD_TEXT,
		.min = 2, .max = 5 };
	static const struct vrow rows[] = {
		{ "ab", NULL },
		{ "abcde", NULL },
		/* five code points, ten bytes */
		{ "%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9", NULL },
		{ "line%0Abreak", "must be at most 5 characters" },
		{ "a", "must be at least 2 characters" },
		{ "abcdef", "must be at most 5 characters" },
		{ "%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9", "must be at most 5 characters" },
		{ "a%0Ab", NULL },
		{ "", NULL }, /* optional text left blank */
		{ NULL, NULL },
	};

	run_rows(&f, rows, AP_NELEM(rows));
}
END_TEST

START_TEST(test_field_text_singleline_rows)
{
	static const struct ap_field f = { .name = "f", .type = AP_FIELD_TEXT,
		.flags = AP_FIELD_SINGLELINE };
	static const struct vrow rows[] = {
		{ "one+line", NULL },
		{ "tab%09ok", NULL },
		{ "%E2%80%A8", NULL }, /* U+2028 is not a C0 control */
		{ "a%0Ab", "must be a single line without control characters" },
		{ "a%0Db", "must be a single line without control characters" },
		{ "a%1Bb", "must be a single line without control characters" },
		{ "a%7Fb", "must be a single line without control characters" },
	};

	run_rows(&f, rows, AP_NELEM(rows));
}
END_TEST

START_TEST(test_field_text_default_limit_is_max_field_len)
{
	static const struct ap_field f = { .name = "f", .type = AP_FIELD_TEXT };
	char at[101], over[102];
	struct vrow rows[2] = { { at, NULL },
		{ over, "must be at most 100 characters" } };

	memset(at, 'a', 100);
	at[100] = '\0';
	memset(over, 'a', 101);
	over[101] = '\0';
	run_rows(&f, rows, AP_NELEM(rows));
}
END_TEST

START_TEST(test_field_int_rows)
{
	static const struct ap_field f = { .name = "f", .type = AP_FIELD_INT,
		.min = 1, .max = 65535 };
	static const struct vrow rows[] = {
		{ "1", NULL },
		{ "65535", NULL },
		{ "8080", NULL },
		{ "", NULL }, /* blank optional → absent */
		{ "0", "must be an integer between 1 and 65535" },
		{ "65536", "must be an integer between 1 and 65535" },
		{ "-1", "must be an integer between 1 and 65535" },
		{ "12a", "must be an integer between 1 and 65535" },
		{ "+5", "must be an integer between 1 and 65535" },
		{ "%205", "must be an integer between 1 and 65535" },
		{ "1.0", "must be an integer between 1 and 65535" },
		{ "99999999999999999999", "must be an integer between 1 and 65535" },
	};

	run_rows(&f, rows, AP_NELEM(rows));
}
END_TEST

START_TEST(test_field_int_unbounded_and_value)
{
	static const struct ap_field fields[] = {
		{ .name = "n", .type = AP_FIELD_INT },
		{ .name = "m", .type = AP_FIELD_INT, .min = -10, .max = 10 },
		AP_FIELD_END,
	};
	struct ap_fieldval *vals;
	struct ap_problem err;

	ck_assert_int_eq(ap_fields_validate(fields, mkreq(AP_METHOD_POST,
	    "n=-9223372036854775808&m=-10"), NULL, 100, &vals, &err), AP_OK);
	ck_assert(vals[0].present);
	ck_assert(vals[0].i == LLONG_MIN);
	ck_assert_int_eq(vals[1].i, -10);
	ck_assert_int_eq(ap_fields_validate(fields, mkreq(AP_METHOD_POST,
	    "n=x"), NULL, 100, &vals, &err), AP_ERR_INVAL);
	ck_assert_str_eq(err.field, "n");
	ck_assert_str_eq(err.reason, "must be an integer");
}
END_TEST

START_TEST(test_field_bool_rows)
{
	static const struct ap_field f = { .name = "f", .type = AP_FIELD_BOOL };
	static const struct {
		const char *in;
		bool ok, present, val;
	} rows[] = {
		{ "1", true, true, true }, { "0", true, true, false },
		{ "true", true, true, true }, { "FALSE", true, true, false },
		{ "on", true, true, true }, { "Off", true, true, false },
		{ "yes", true, true, true }, { "NO", true, true, false },
		{ NULL, true, false, false },
		{ "", false, true, false }, { "2", false, true, false },
		{ "y", false, true, false }, { "truee", false, true, false },
	};
	struct ap_field fields[2] = { f, AP_FIELD_END };

	for (size_t i = 0; i < AP_NELEM(rows); i++) {
		struct ap_req *r = mkreq(AP_METHOD_POST, rows[i].in ?
		    ap_arena_printf(A, "f=%s", rows[i].in) : "other=1");
		struct ap_fieldval *vals;
		struct ap_problem err;
		enum ap_err rc = ap_fields_validate(fields, r, NULL, 100, &vals, &err);

		ck_assert_msg((rc == AP_OK) == rows[i].ok, "row %zu", i);
		if (!rows[i].ok) {
			ck_assert_str_eq(err.reason, "must be true or false");
			continue;
		}
		ck_assert(vals[0].present == rows[i].present);
		ck_assert(vals[0].b == rows[i].val);
	}
}
END_TEST

START_TEST(test_field_enum_rows)
{
	static const char *const choices[] = { "nginx", "apache", "ols", NULL };
	static const struct ap_field f = { .name = "f", .type = AP_FIELD_ENUM,
		.choices = choices };
	static const struct vrow rows[] = {
		{ "nginx", NULL },
		{ "ols", NULL },
		{ "", NULL },
		{ "Nginx", "must be one of: nginx, apache, ols" },
		{ "iis", "must be one of: nginx, apache, ols" },
		{ "nginx%20", "must be one of: nginx, apache, ols" },
	};
	struct ap_field fields[2] = { f, AP_FIELD_END };
	struct ap_fieldval *vals;
	struct ap_problem err;

	run_rows(&f, rows, AP_NELEM(rows));
	ck_assert_int_eq(ap_fields_validate(fields, mkreq(AP_METHOD_POST,
	    "f=apache"), NULL, 100, &vals, &err), AP_OK);
	ck_assert_int_eq(vals[0].i, 1);
}
END_TEST

START_TEST(test_field_name_rows)
{
	static const struct ap_field f = { .name = "f", .type = AP_FIELD_NAME,
		.min = 0, .max = 16 };
	static const struct vrow rows[] = {
		{ "site_1", NULL },
		{ "a.b-c", NULL },
		{ "_x", NULL },
		{ "A9", NULL },
		{ "", NULL },
		{ "0123456789abcdef", NULL },
		{ "0123456789abcdefg", "must be at most 16 characters" },
		{ ".hidden", "must not start with '.' or '-'" },
		{ "-rf", "must not start with '.' or '-'" },
		{ "a/b", "may only contain letters, digits, '_', '.' and '-'" },
		{ "a+b", "may only contain letters, digits, '_', '.' and '-'" },
		{ "caf%C3%A9", "may only contain letters, digits, '_', '.' and '-'" },
	};

	run_rows(&f, rows, AP_NELEM(rows));
}
END_TEST

START_TEST(test_field_name_min_length)
{
	static const struct ap_field f = { .name = "f", .type = AP_FIELD_NAME,
		.min = 3, .max = 8 };
	static const struct vrow rows[] = {
		{ "abc", NULL },
		{ "ab", "must be at least 3 characters" },
	};

	run_rows(&f, rows, AP_NELEM(rows));
}
END_TEST

START_TEST(test_field_hostname_rows)
{
	static const struct ap_field f = { .name = "f",
		.type = AP_FIELD_HOSTNAME };
	static char l63[80], l64[80], long254[300], long253[300];
	struct vrow rows[] = {
		{ "localhost", NULL },
		{ "example.com", NULL },
		{ "WWW.Example-1.COM", NULL },
		{ "xn--bcher-kva.example", NULL },
		{ "1.2.3.4", NULL },
		{ l63, NULL },
		{ long253, NULL },
		{ "", NULL },
		{ l64, "must be a valid host name" },
		{ long254, "must be a valid host name" },
		{ "example.com.", "must be a valid host name" },
		{ ".example.com", "must be a valid host name" },
		{ "a..b", "must be a valid host name" },
		{ "-a.com", "must be a valid host name" },
		{ "a-.com", "must be a valid host name" },
		{ "a_b.com", "must be a valid host name" },
		{ "a%20b.com", "must be a valid host name" },
		{ "b%C3%BCcher.de", "must be a valid host name" },
	};

	memset(l63, 'a', 63);
	memcpy(l63 + 63, ".com", 5);
	memset(l64, 'a', 64);
	memcpy(l64 + 64, ".com", 5);
	/* 4 labels of 63 + 3 dots = 255; trim to exactly 253 and 254. */
	for (int i = 0; i < 4; i++) {
		memset(long253 + i * 64, 'b', 63);
		long253[i * 64 + 63] = '.';
	}
	memcpy(long254, long253, 300);
	long253[253] = '\0';
	long254[254] = '\0';
	long254[253] = 'c';
	run_rows(&f, rows, AP_NELEM(rows));
}
END_TEST

START_TEST(test_field_email_rows)
{
	static const struct ap_field f = { .name = "f", .type = AP_FIELD_EMAIL };
	static char local64[100], local65[100];
	struct vrow rows[] = {
		{ "ann@example.com", NULL },
		{ "a.b%2Btag@mail.example.org", NULL },
		{ "x!%23%24%25%26'*%2F%3D%3F%5E_%60%7B%7C%7D~-@ex.io", NULL },
		{ local64, NULL },
		{ "", NULL },
		{ local65, "must be a valid email address" },
		{ "ann", "must be a valid email address" },
		{ "ann@localhost", "must be a valid email address" },
		{ "@example.com", "must be a valid email address" },
		{ ".ann@example.com", "must be a valid email address" },
		{ "ann.@example.com", "must be a valid email address" },
		{ "a..b@example.com", "must be a valid email address" },
		{ "a@b@example.com", "must be a valid email address" },
		{ "a%20b@example.com", "must be a valid email address" },
		{ "ann@example.com.", "must be a valid email address" },
		{ "ann@-x.com", "must be a valid email address" },
		{ "%22q%22@example.com", "must be a valid email address" },
	};

	memset(local64, 'l', 64);
	memcpy(local64 + 64, "@ex.com", 8);
	memset(local65, 'l', 65);
	memcpy(local65 + 65, "@ex.com", 8);
	run_rows(&f, rows, AP_NELEM(rows));
}
END_TEST

/* local@domain with the given domain label lengths. */
static char *
mkemail(size_t local, const size_t *labels, size_t nlabels)
{
	struct ap_buf b = { 0 };
	char *s;

	for (size_t i = 0; i < local; i++)
		ap_buf_putc(&b, 'l');
	ap_buf_putc(&b, '@');
	for (size_t i = 0; i < nlabels; i++) {
		if (i)
			ap_buf_putc(&b, '.');
		for (size_t k = 0; k < labels[i]; k++)
			ap_buf_putc(&b, 'd');
	}
	s = ap_arena_strdup(A, ap_buf_cstr(&b));
	ap_buf_free(&b);
	return s;
}

START_TEST(test_field_email_length_limit)
{
	static const struct ap_field f = { .name = "f", .type = AP_FIELD_EMAIL };
	static const size_t ok_labels[] = { 62, 62, 63 };     /* 189 */
	static const size_t bad_labels[] = { 62, 62, 61, 2 }; /* 190 */
	struct vrow rows[2] = {
		{ mkemail(64, ok_labels, 3), NULL },
		{ mkemail(64, bad_labels, 4), "must be a valid email address" },
	};

	ck_assert_uint_eq(strlen(rows[0].in), 254);
	ck_assert_uint_eq(strlen(rows[1].in), 255);
	run_rows(&f, rows, AP_NELEM(rows));
}
END_TEST

static const char *
no_admin(const char *val, size_t len)
{
	(void)len;
	return strcmp(val, "admin") == 0 ? "is reserved" : NULL;
}

static const char *
reject_all(const char *val, size_t len)
{
	(void)val;
	(void)len;
	return "no";
}

START_TEST(test_field_custom_check_runs_last)
{
	static const struct ap_field f = { .name = "f", .type = AP_FIELD_NAME,
		.min = 3, .max = 10, .check = no_admin };
	static const struct vrow rows[] = {
		{ "bob", NULL },
		{ "admin", "is reserved" },
		/* the type check fails first, the custom check is not reached */
		{ "ad", "must be at least 3 characters" },
		{ "", NULL }, /* absent: the check is not run */
	};

	run_rows(&f, rows, AP_NELEM(rows));
}
END_TEST

START_TEST(test_field_required)
{
	static const char *const choices[] = { "a", NULL };
	static const enum ap_field_type types[] = { AP_FIELD_TEXT, AP_FIELD_INT,
		AP_FIELD_BOOL, AP_FIELD_ENUM, AP_FIELD_NAME, AP_FIELD_HOSTNAME,
		AP_FIELD_EMAIL };

	for (size_t i = 0; i < AP_NELEM(types); i++) {
		struct ap_field f = { .name = "f", .type = types[i],
			.flags = AP_FIELD_REQUIRED, .max = 10, .choices = choices };
		struct vrow rows[] = {
			{ NULL, "is required" },
			{ "", "is required" },
		};

		if (types[i] == AP_FIELD_INT)
			f.min = 0;
		run_rows(&f, rows, AP_NELEM(rows));
	}
}
END_TEST

START_TEST(test_field_source_follows_method)
{
	static const struct ap_field fields[] = {
		{ .name = "id", .type = AP_FIELD_INT, .min = 1, .max = 99 },
		AP_FIELD_END,
	};
	struct ap_req *r = mkreq(AP_METHOD_GET, "id=5");
	struct ap_fieldval *vals;
	struct ap_problem err;

	/* GET reads the query ... */
	r->form = (struct ap_kv[]){ { "id", "77", 2 } };
	r->nform = 1;
	ck_assert_int_eq(ap_fields_validate(fields, r, NULL, 100, &vals, &err), AP_OK);
	ck_assert_int_eq(vals[0].i, 5);
	/* ... HEAD too, every other method the form. */
	r->method = AP_METHOD_HEAD;
	ck_assert_int_eq(ap_fields_validate(fields, r, NULL, 100, &vals, &err), AP_OK);
	ck_assert_int_eq(vals[0].i, 5);
	r->method = AP_METHOD_POST;
	ck_assert_int_eq(ap_fields_validate(fields, r, NULL, 100, &vals, &err), AP_OK);
	ck_assert_int_eq(vals[0].i, 77);
	r->method = AP_METHOD_DELETE;
	r->nform = 0;
	ck_assert_int_eq(ap_fields_validate(fields, r, NULL, 100, &vals, &err), AP_OK);
	ck_assert(!vals[0].present);
}
END_TEST

START_TEST(test_field_first_failure_reported_and_undeclared_ignored)
{
	static const struct ap_field fields[] = {
		{ .name = "a", .type = AP_FIELD_INT, .min = 1, .max = 2 },
		{ .name = "b", .type = AP_FIELD_INT, .min = 1, .max = 2 },
		AP_FIELD_END,
	};
	struct ap_fieldval *vals;
	struct ap_problem err;

	ck_assert_int_eq(ap_fields_validate(fields, mkreq(AP_METHOD_POST,
	    "zzz=%C3%A9&b=9&a=7"), NULL, 100, &vals, &err), AP_ERR_INVAL);
	ck_assert_str_eq(err.field, "a");
	ck_assert_int_eq(ap_fields_validate(fields, mkreq(AP_METHOD_POST,
	    "junk=1&a=1&a=9"), NULL, 100, &vals, &err), AP_OK);
	ck_assert_int_eq(vals[0].i, 1); /* first value wins */
	ck_assert(!vals[1].present);
	ck_assert_ptr_null(vals[1].s);
}
END_TEST

START_TEST(test_fields_by_enum)
{
	enum { F_NAME, F_PORT, F__MAX };
	static const struct ap_field fields[F__MAX + 1] = {
		[F_NAME] = { .name = "name", .type = AP_FIELD_TEXT },
		[F_PORT] = { .name = "port", .type = AP_FIELD_INT, .min = 1, .max = 9 },
		[F__MAX] = AP_FIELD_END,
	};
	struct ap_fieldval *vals;
	struct ap_problem err;

	ck_assert_uint_eq(ap_fields_count(fields), 2);
	ck_assert_int_eq(ap_fields_validate(fields, mkreq(AP_METHOD_PUT,
	    "name=x+y&port=3"), NULL, 100, &vals, &err), AP_OK);
	ck_assert_str_eq(vals[F_NAME].name, "name");
	ck_assert_str_eq(vals[F_NAME].s, "x y");
	ck_assert_uint_eq(vals[F_NAME].len, 3);
	ck_assert_int_eq(vals[F_PORT].i, 3);
	/* Slots past the table exist and are absent (a handler indexing with
	 * another route's enum reads "not sent", never past the array). */
	for (int i = F__MAX; i < AP_FIELDS_MIN; i++)
		ck_assert(!vals[i].present);
}
END_TEST

START_TEST(test_path_fields)
{
	enum { P_ID, P_ROLE, P__MAX };
	static const struct ap_field fields[P__MAX + 1] = {
		[P_ID] = { .name = "id", .type = AP_FIELD_INT, .flags = AP_FIELD_PATH | AP_FIELD_REQUIRED,
		    .min = 1, .max = INT64_MAX },
		[P_ROLE] = { .name = "role", .type = AP_FIELD_TEXT },
		[P__MAX] = AP_FIELD_END,
	};
	static const struct {
		const char *id;
		bool ok;
	} rows[] = {
		{ "7", true }, { "9223372036854775807", true },
		{ "0", false }, { "-1", false }, { "abc", false }, { "1x", false },
		{ "9223372036854775808", false }, { " 1", false },
	};
	struct ap_route_params params;
	struct ap_fieldval *vals;
	struct ap_problem err;

	for (size_t i = 0; i < AP_NELEM(rows); i++) {
		params.n = 1;
		params.v[0].name = "id";
		params.v[0].val = rows[i].id;
		memset(&err, 0, sizeof(err));
		/* The path wins over a form field of the same name. */
		enum ap_err rc = ap_fields_validate(fields, mkreq(AP_METHOD_POST, "id=5&role=x"), &params,
		    100, &vals, &err);

		if (rows[i].ok) {
			ck_assert_msg(rc == AP_OK, "id %s: %s", rows[i].id, err.reason);
			ck_assert_str_eq(vals[P_ID].s, rows[i].id);
			ck_assert_str_eq(vals[P_ROLE].s, "x");
		} else {
			/* A bad {id} is an item that does not exist: 404, not a form error. */
			ck_assert_msg(rc == AP_ERR_INVAL, "id %s accepted", rows[i].id);
			ck_assert_int_eq(err.code, AP_PB_NOT_FOUND);
			ck_assert_int_eq(err.status, 404);
			ck_assert_str_eq(err.field, "id");
		}
	}
}
END_TEST

START_TEST(test_empty_optional_skips_check)
{
	/* regression: the audit filter's "Apply" failed whenever a date was left empty */
	static const struct ap_field fields[] = {
		{ .name = "from", .type = AP_FIELD_TEXT, .min = 10, .max = 10, .check = reject_all },
		AP_FIELD_END,
	};
	struct ap_fieldval *vals;
	struct ap_problem err;

	ck_assert_int_eq(ap_fields_validate(fields, mkreq(AP_METHOD_GET, "from="), NULL, 100, &vals, &err),
	    AP_OK);
	ck_assert_int_eq(ap_fields_validate(fields, mkreq(AP_METHOD_GET, "from=2024-01-01"), NULL, 100,
	    &vals, &err), AP_ERR_INVAL);
	ck_assert_str_eq(err.reason, "no");
}
END_TEST

START_TEST(test_fields_null_is_ok)
{
	struct ap_fieldval *vals = (struct ap_fieldval *)1;
	struct ap_problem err;

	ck_assert_int_eq(ap_fields_validate(NULL, mkreq(AP_METHOD_GET, "a=1"), NULL,
	    100, &vals, &err), AP_OK);
	ck_assert_ptr_nonnull(vals);
	ck_assert(!vals[0].present);
}
END_TEST

START_TEST(test_match_head_only_through_get)
{
	const struct ap_route t[] = {
		{ AP_M_POST, "/x", h_a, "p", 0, NULL, NULL, NULL },
	};
	unsigned allowed;

	ck_assert_int_eq(ap_route_match(t, 1, AP_METHOD_HEAD, "/x", A, NULL,
	    NULL, &allowed), AP_ROUTE_METHOD_NOT_ALLOWED);
	ck_assert_uint_eq(allowed, AP_M_POST);
}
END_TEST

START_TEST(test_match_optional_outputs)
{
	/* out, params and allowed may each be NULL. */
	ck_assert_int_eq(ap_route_match(table, AP_NELEM(table), AP_METHOD_GET,
	    "/sites/1", NULL, NULL, NULL, NULL), AP_ROUTE_FOUND);
	ck_assert_int_eq(ap_route_match(table, AP_NELEM(table), AP_METHOD_PUT,
	    "/sites/1", NULL, NULL, NULL, NULL), AP_ROUTE_METHOD_NOT_ALLOWED);
}
END_TEST

START_TEST(test_match_rejects_bad_method)
{
	ck_assert_int_eq(ap_route_match(table, AP_NELEM(table), AP_METHOD__MAX,
	    "/", A, NULL, NULL, NULL), AP_ROUTE_NOT_FOUND);
	ck_assert_int_eq(ap_route_match(table, AP_NELEM(table), AP_METHOD_GET,
	    NULL, A, NULL, NULL, NULL), AP_ROUTE_NOT_FOUND);
}
END_TEST

START_TEST(test_table_check_empty_ok)
{
	char err[64] = "";

	ck_assert_int_eq(ap_route_table_check(NULL, 0, err, sizeof(err)), AP_OK);
	ck_assert_str_eq(err, "");
}
END_TEST

START_TEST(test_table_check_reports_first_problem)
{
	const struct ap_route t[] = {
		{ AP_M_GET, "/ok", h_a, "p", 0, NULL, NULL, NULL },
		{ AP_M_GET, "/two", h_a, NULL, 0, NULL, NULL, NULL },
		{ AP_M_GET, "bad", NULL, NULL, 0, NULL, NULL, NULL },
	};
	char err[128];

	ck_assert_int_eq(ap_route_table_check(t, 3, err, sizeof(err)),
	    AP_ERR_INVAL);
	ck_assert_str_eq(err, "route 1 (/two): non-public route without a permission");
}
END_TEST

START_TEST(test_methods_str_all)
{
	struct ap_buf b = { 0 };

	ap_methods_str(0x7F, &b);
	ck_assert_str_eq(ap_buf_cstr(&b),
	    "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
	ap_buf_free(&b);
}
END_TEST

START_TEST(test_field_text_counts_code_points)
{
	/* Three emoji: 12 bytes, 3 characters. */
	static const struct ap_field f = { .name = "f", .type = AP_FIELD_TEXT,
		.max = 3 };
	static const struct vrow rows[] = {
		{ "%F0%9F%98%80%F0%9F%98%80%F0%9F%98%80", NULL },
		{ "%F0%9F%98%80%F0%9F%98%80%F0%9F%98%80a",
		  "must be at most 3 characters" },
	};

	run_rows(&f, rows, AP_NELEM(rows));
}
END_TEST

START_TEST(test_field_text_rejects_invalid_utf8)
{
	static const struct ap_field fields[] = {
		{ .name = "t", .type = AP_FIELD_TEXT },
		AP_FIELD_END,
	};
	struct ap_req *r = mkreq(AP_METHOD_POST, "");
	struct ap_kv kv = { "t", "a\xffz", 3 };
	struct ap_fieldval *vals;
	struct ap_problem err;

	/* Requests built by hand bypass the parser's own check. */
	r->form = &kv;
	r->nform = 1;
	ck_assert_int_eq(ap_fields_validate(fields, r, NULL, 100, &vals, &err),
	    AP_ERR_INVAL);
	ck_assert_str_eq(err.field, "t");
	ck_assert_str_eq(err.reason, "is not valid UTF-8 text");
}
END_TEST

START_TEST(test_field_required_bool_false_is_present)
{
	static const struct ap_field fields[] = {
		{ .name = "agree", .type = AP_FIELD_BOOL, .flags = AP_FIELD_REQUIRED },
		AP_FIELD_END,
	};
	struct ap_fieldval *vals;
	struct ap_problem err;

	ck_assert_int_eq(ap_fields_validate(fields, mkreq(AP_METHOD_POST,
	    "agree=0"), NULL, 100, &vals, &err), AP_OK);
	ck_assert(vals[0].present);
	ck_assert(!vals[0].b);
}
END_TEST

START_TEST(test_field_values_point_at_request_text)
{
	static const struct ap_field fields[] = {
		{ .name = "host", .type = AP_FIELD_HOSTNAME },
		AP_FIELD_END,
	};
	struct ap_req *r = mkreq(AP_METHOD_PATCH, "host=Example.ORG");
	struct ap_fieldval *vals;
	struct ap_problem err;

	ck_assert_int_eq(ap_fields_validate(fields, r, NULL, 100, &vals, &err), AP_OK);
	/* Received text, not normalised: the handler decides about case. */
	ck_assert_str_eq(vals[0].s, "Example.ORG");
	ck_assert_uint_eq(vals[0].len, 11);
	ck_assert_ptr_eq(vals[0].s, r->form[0].val);
}
END_TEST

static ssize_t
str_read(void *ctx, void *buf, size_t n)
{
	const char **p = ctx;
	size_t left = strlen(*p);

	if (n > left)
		n = left;
	memcpy(buf, *p, n);
	*p += n;
	return (ssize_t)n;
}

START_TEST(test_field_validate_json_body)
{
	static const struct ap_field fields[] = {
		{ .name = "port", .type = AP_FIELD_INT, .min = 1, .max = 65535 },
		{ .name = "ssl", .type = AP_FIELD_BOOL },
		{ .name = "name", .type = AP_FIELD_NAME, .flags = AP_FIELD_REQUIRED },
		AP_FIELD_END,
	};
	const char *body = "{\"port\":8443,\"ssl\":true,\"name\":\"blog\"}";
	const char *cursor = body;
	char *env[] = { ap_arena_strdup(A, "REQUEST_METHOD=POST"),
		ap_arena_strdup(A, "REQUEST_URI=/api/sites"),
		ap_arena_strdup(A, "CONTENT_TYPE=application/json"),
		ap_arena_printf(A, "CONTENT_LENGTH=%zu", strlen(body)), NULL };
	struct ap_req r;
	struct ap_problem err;
	struct ap_fieldval *vals;

	ck_assert_int_eq(ap_req_parse(&r, A, env, str_read, &cursor, &lim, &err),
	    AP_OK);
	ck_assert_int_eq(ap_fields_validate(fields, &r, NULL, 100, &vals, &err), AP_OK);
	ck_assert_int_eq(vals[0].i, 8443);
	ck_assert(vals[1].b);
	ck_assert_str_eq(vals[2].s, "blog");
	ap_req_clear(&r);
}
END_TEST

START_TEST(test_field_error_names_declared_field)
{
	static const struct ap_field fields[] = {
		{ .name = "a_rather_long_field_name", .type = AP_FIELD_EMAIL,
		  .flags = AP_FIELD_REQUIRED },
		AP_FIELD_END,
	};
	struct ap_fieldval *vals;
	struct ap_problem err;

	ck_assert_int_eq(ap_fields_validate(fields, mkreq(AP_METHOD_POST, ""), NULL,
	    100, &vals, &err), AP_ERR_INVAL);
	ck_assert_int_eq(err.status, 400);
	ck_assert_str_eq(err.field, "a_rather_long_field_name");
	ck_assert_str_eq(err.reason, "is required");
}
END_TEST

static Suite *
route_suite(void)
{
	Suite *s = suite_create("route");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_match_rows, 0, AP_NELEM(match_rows));
	tcase_add_test(tc, test_match_literal_wins_in_either_order);
	tcase_add_test(tc, test_match_precedence_is_left_to_right);
	tcase_add_test(tc, test_match_param_never_spans_segments);
	tcase_add_test(tc, test_match_root_only_matches_root);
	tcase_add_test(tc, test_match_params_are_arena_copies);
	tcase_add_test(tc, test_match_empty_table);
	tcase_add_test(tc, test_table_check_accepts_valid_table);
	tcase_add_loop_test(tc, test_table_check_rejects, 0, AP_NELEM(bad_rows));
	tcase_add_test(tc, test_table_check_allows_distinct_methods_and_shapes);
	tcase_add_test(tc, test_table_check_truncates_message);
	tcase_add_test(tc, test_methods_str_rows);
	tcase_add_test(tc, test_methods_str_appends);
	tcase_add_test(tc, test_field_text_rows);
	tcase_add_test(tc, test_field_text_singleline_rows);
	tcase_add_test(tc, test_field_text_default_limit_is_max_field_len);
	tcase_add_test(tc, test_field_int_rows);
	tcase_add_test(tc, test_field_int_unbounded_and_value);
	tcase_add_test(tc, test_field_bool_rows);
	tcase_add_test(tc, test_field_enum_rows);
	tcase_add_test(tc, test_field_name_rows);
	tcase_add_test(tc, test_field_name_min_length);
	tcase_add_test(tc, test_field_hostname_rows);
	tcase_add_test(tc, test_field_email_rows);
	tcase_add_test(tc, test_field_email_length_limit);
	tcase_add_test(tc, test_field_custom_check_runs_last);
	tcase_add_test(tc, test_field_required);
	tcase_add_test(tc, test_field_source_follows_method);
	tcase_add_test(tc, test_field_first_failure_reported_and_undeclared_ignored);
	tcase_add_test(tc, test_fields_by_enum);
	tcase_add_test(tc, test_path_fields);
	tcase_add_test(tc, test_empty_optional_skips_check);
	tcase_add_test(tc, test_fields_null_is_ok);
	tcase_add_test(tc, test_match_head_only_through_get);
	tcase_add_test(tc, test_match_optional_outputs);
	tcase_add_test(tc, test_match_rejects_bad_method);
	tcase_add_test(tc, test_table_check_empty_ok);
	tcase_add_test(tc, test_table_check_reports_first_problem);
	tcase_add_test(tc, test_methods_str_all);
	tcase_add_test(tc, test_field_text_counts_code_points);
	tcase_add_test(tc, test_field_text_rejects_invalid_utf8);
	tcase_add_test(tc, test_field_required_bool_false_is_present);
	tcase_add_test(tc, test_field_values_point_at_request_text);
	tcase_add_test(tc, test_field_validate_json_body);
	tcase_add_test(tc, test_field_error_names_declared_field);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(route_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
