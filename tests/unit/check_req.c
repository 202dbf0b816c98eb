/* check_req.c — request parsing: params, path, query, cookies, bodies, limits. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aapanel/req.h"

/* The fuzz target doubles as the corpus replayer below. */
#include "../fuzz/fuzz_req.c"

static struct ap_arena *A;
static struct ap_req R;
static struct ap_problem E;
static struct ap_req_limits L;

static const struct ap_req_limits default_limits = {
	.max_body = 1024,
	.max_upload = 4096,
	.max_fields = 8,
	.max_field_len = 64,
	.max_header_len = 256,
};

static void
setup(void)
{
	A = ap_arena_new();
	memset(&R, 0, sizeof(R));
	memset(&E, 0, sizeof(E));
	L = default_limits;
}

static void
teardown(void)
{
	ap_req_clear(&R);
	ap_arena_free(A);
	A = NULL;
}

/* Body reader over memory: chunk bytes per call (0 = all), or an error. */
struct mem_body {
	const char *p;
	size_t n;
	size_t off;
	size_t chunk;
	bool fail;
	int calls;
};

static ssize_t
mem_read(void *ctx, void *buf, size_t n)
{
	struct mem_body *b = ctx;
	size_t left = b->n - b->off;

	b->calls++;
	if (b->fail)
		return -1;
	if (n > left)
		n = left;
	if (b->chunk && n > b->chunk)
		n = b->chunk;
	if (n > 0)
		memcpy(buf, b->p + b->off, n);
	b->off += n;
	return (ssize_t)n;
}

static struct mem_body B;
static size_t Cut; /* bytes of the body the client does not send (a short body) */

/*
 * Parse a request built from method, uri (QUERY_STRING derived from it),
 * Content-Type ct (NULL: none), body[0..blen) with a matching
 * CONTENT_LENGTH (body NULL: none) and extra "NAME=value" params.
 */
static enum ap_err
parse_req(const char *method, const char *uri, const char *ct,
    const char *body, size_t blen, const char *const *extra)
{
	char *env[32];
	size_t n = 0;
	const char *q;

	ap_req_clear(&R); /* tests parse more than once per fixture */
	if (method != NULL)
		env[n++] = ap_arena_printf(A, "REQUEST_METHOD=%s", method);
	if (uri != NULL) {
		env[n++] = ap_arena_printf(A, "REQUEST_URI=%s", uri);
		q = strchr(uri, '?');
		env[n++] = ap_arena_printf(A, "QUERY_STRING=%s", q ? q + 1 : "");
	}
	if (ct != NULL)
		env[n++] = ap_arena_printf(A, "CONTENT_TYPE=%s", ct);
	if (body != NULL)
		env[n++] = ap_arena_printf(A, "CONTENT_LENGTH=%zu", blen);
	for (size_t i = 0; extra != NULL && extra[i] != NULL; i++)
		env[n++] = ap_arena_strdup(A, extra[i]);
	env[n] = NULL;
	B.p = body;
	B.n = body ? blen - Cut : 0;
	B.off = 0;
	return ap_req_parse(&R, A, env, mem_read, &B, &L, &E);
}

static enum ap_err
post(const char *ct, const char *body, size_t blen)
{
	return parse_req("POST", "/x", ct, body, blen, NULL);
}

#define ck_err(rc, st, fld, why)                                             \
	do {                                                                 \
		ck_assert_int_ne((rc), AP_OK);                               \
		ck_assert_int_eq(E.status, (st));                            \
		ck_assert_str_eq(E.field, (fld));                            \
		ck_assert_str_eq(E.reason, (why));                           \
	} while (0)

/* ---- methods, decoding, encoding ------------------------------------ */

START_TEST(test_method_names_roundtrip)
{
	static const char *const names[] = { "GET", "HEAD", "POST", "PUT",
		"PATCH", "DELETE", "OPTIONS" };
	static const char *const bad[] = { "get", "", "CONNECT", "GET ", "TRACE" };
	enum ap_method m;

	for (int i = 0; i < AP_METHOD__MAX; i++) {
		ck_assert_str_eq(ap_method_name((enum ap_method)i), names[i]);
		ck_assert(ap_method_parse(names[i], &m));
		ck_assert_int_eq(m, i);
	}
	ck_assert_ptr_null(ap_method_name(AP_METHOD__MAX));
	for (size_t i = 0; i < AP_NELEM(bad); i++)
		ck_assert_msg(!ap_method_parse(bad[i], &m), "accepted '%s'", bad[i]);
}
END_TEST

static const struct {
	const char *in;
	bool plus;
	bool ok;
	const char *out;
} decode_rows[] = {
	{ "abc", false, true, "abc" },
	{ "a%20b", false, true, "a b" },
	{ "a+b", false, true, "a+b" },
	{ "a+b", true, true, "a b" },
	{ "%2B", true, true, "+" },
	{ "%c3%A9", false, true, "\xc3\xa9" },
	{ "%2F%2f", false, true, "//" },
	{ "", false, true, "" },
	{ "100%", false, false, NULL },
	{ "%4", false, false, NULL },
	{ "%zz", false, false, NULL },
	{ "%g0", false, false, NULL },
	{ "a%00b", false, false, NULL },
	{ "%%41", false, false, NULL },
};

START_TEST(test_url_decode_rows)
{
	char *out = (char *)"unchanged";
	size_t len = 99;
	bool ok = ap_url_decode(A, decode_rows[_i].in, strlen(decode_rows[_i].in),
	    decode_rows[_i].plus, &out, &len);

	ck_assert_msg(ok == decode_rows[_i].ok, "row %d '%s'", _i,
	    decode_rows[_i].in);
	if (ok) {
		ck_assert_str_eq(out, decode_rows[_i].out);
		ck_assert_uint_eq(len, strlen(decode_rows[_i].out));
	} else {
		ck_assert_ptr_null(out);
	}
}
END_TEST

START_TEST(test_url_decode_respects_length)
{
	char *out;
	size_t len;

	/* Only the first 3 bytes are input: "%41" decodes, the rest is not read. */
	ck_assert(ap_url_decode(A, "%41%zz", 3, false, &out, &len));
	ck_assert_str_eq(out, "A");
	/* A truncated escape at the end of the given length is malformed. */
	ck_assert(!ap_url_decode(A, "%41", 2, false, &out, &len));
}
END_TEST

START_TEST(test_url_encode_rows)
{
	static const struct {
		const char *in, *out;
	} rows[] = {
		{ "abcXYZ019-._~", "abcXYZ019-._~" },
		{ "a b", "a%20b" },
		{ "a+b&c=d/e?f#g", "a%2Bb%26c%3Dd%2Fe%3Ff%23g" },
		{ "\xc3\xa9", "%C3%A9" },
		{ "%", "%25" },
		{ "", "" },
	};

	for (size_t i = 0; i < AP_NELEM(rows); i++) {
		struct ap_buf b = { 0 };

		ap_url_encode(&b, rows[i].in);
		ck_assert_str_eq(ap_buf_cstr(&b), rows[i].out);
		ap_buf_free(&b);
	}
}
END_TEST

START_TEST(test_url_encode_decode_roundtrip)
{
	const char *in = "x/y z?\xe2\x82\xac+&=%";
	struct ap_buf b = { 0 };
	char *out;
	size_t len;

	ap_url_encode(&b, in);
	ck_assert(ap_url_decode(A, b.data, b.len, true, &out, &len));
	ck_assert_str_eq(out, in);
	ap_buf_free(&b);
}
END_TEST

/* ---- urlencoded ----------------------------------------------------- */

/* Pairs joined as "k=v|k=v" for compact expectations. */
static const char *
join_kv(const struct ap_kv *kv, size_t n)
{
	struct ap_buf b = { 0 };
	char *s;

	for (size_t i = 0; i < n; i++) {
		ap_buf_printf(&b, "%s%s=%s", i ? "|" : "", kv[i].key, kv[i].val);
		ck_assert_uint_eq(kv[i].len, strlen(kv[i].val));
	}
	s = ap_arena_strdup(A, ap_buf_cstr(&b));
	ap_buf_free(&b);
	return s;
}

static const struct {
	const char *in, *out;
} form_rows[] = {
	{ "a=1&b=2", "a=1|b=2" },
	{ "a=1&&b=2&", "a=1|b=2" },
	{ "flag", "flag=" },
	{ "a=", "a=" },
	{ "a=b=c", "a=b=c" },
	{ "first+name=J%C3%B6rg+M", "first name=J\xc3\xb6rg M" },
	{ "%61=%62", "a=b" },
	{ "=orphan&k=v", "k=v" },
	{ "a=1&a=2", "a=1|a=2" },
	{ "", "" },
	{ "&&&", "" },
	{ "tab=%09", "tab=\t" },
};

START_TEST(test_urlencoded_rows)
{
	struct ap_kv *kv;
	size_t n;

	ck_assert_int_eq(ap_parse_urlencoded(A, form_rows[_i].in,
	    strlen(form_rows[_i].in), "query", &L, &kv, &n, &E), AP_OK);
	ck_assert_str_eq(join_kv(kv, n), form_rows[_i].out);
}
END_TEST

static const struct {
	const char *in, *field, *reason;
} form_err_rows[] = {
	{ "a=%zz", "a", "invalid percent-encoding in 'a'" },
	{ "name=%4", "name", "invalid percent-encoding in 'name'" },
	{ "%zz=1", "query", "invalid percent-encoding in a field name" },
	{ "a=x%00y", "a", "'a' contains a NUL byte" },
	{ "%00=1", "query", "a field name contains a NUL byte" },
	{ "a=%ff", "a", "'a' is not valid UTF-8 text" },
	{ "a=%c0%af", "a", "'a' is not valid UTF-8 text" },
	{ "%ff=1", "query", "a field name is not valid UTF-8 text" },
	{ "ok=1&bad=%e2%82", "bad", "'bad' is not valid UTF-8 text" },
};

START_TEST(test_urlencoded_errors)
{
	struct ap_kv *kv = (struct ap_kv *)1;
	size_t n = 7;
	enum ap_err rc = ap_parse_urlencoded(A, form_err_rows[_i].in,
	    strlen(form_err_rows[_i].in), "query", &L, &kv, &n, &E);

	ck_err(rc, 400, form_err_rows[_i].field, form_err_rows[_i].reason);
	ck_assert_ptr_null(kv);
	ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(test_urlencoded_field_count_limit)
{
	struct ap_kv *kv;
	size_t n;
	const char *eight = "a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8";
	const char *nine = "a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&i=9";

	ck_assert_int_eq(ap_parse_urlencoded(A, eight, strlen(eight), "body",
	    &L, &kv, &n, &E), AP_OK);
	ck_assert_uint_eq(n, 8);
	ck_err(ap_parse_urlencoded(A, nine, strlen(nine), "body", &L, &kv, &n,
	    &E), 400, "body", "too many fields (max 8)");
}
END_TEST

START_TEST(test_urlencoded_value_length_limit)
{
	char at[80], over[80];
	struct ap_kv *kv;
	size_t n;

	/* 64 decoded bytes pass even though the raw text is longer. */
	snprintf(at, sizeof(at), "v=%s%%41", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	ck_assert_int_eq(ap_parse_urlencoded(A, at, strlen(at), "body", &L, &kv,
	    &n, &E), AP_OK);
	ck_assert_uint_eq(kv[0].len, 64);
	snprintf(over, sizeof(over), "v=%s", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	ck_err(ap_parse_urlencoded(A, over, strlen(over), "body", &L, &kv, &n,
	    &E), 400, "v", "'v' is longer than 64 bytes");
}
END_TEST

START_TEST(test_urlencoded_key_length_limit)
{
	char key[70];
	struct ap_kv *kv;
	size_t n;

	memset(key, 'k', 65);
	key[65] = '\0';
	ck_err(ap_parse_urlencoded(A, key, strlen(key), "body", &L, &kv, &n,
	    &E), 400, "body", "a field name is longer than 64 bytes");
}
END_TEST

START_TEST(test_error_names_are_sanitised)
{
	struct ap_kv *kv;
	size_t n;
	const char *in = "a%01b=%ff";

	ck_err(ap_parse_urlencoded(A, in, strlen(in), "query", &L, &kv, &n,
	    &E), 400, "a?b", "'a?b' is not valid UTF-8 text");
}
END_TEST

/* ---- params, method, path ------------------------------------------- */

START_TEST(test_parse_basic_get)
{
	static const char *const extra[] = { "REMOTE_ADDR=10.0.0.7",
		"HTTP_HOST=panel.example", "HTTPS=on", "HTTP_ACCEPT=text/html",
		"HTTP_ACCEPT_LANGUAGE=de", "HTTP_USER_AGENT=curl/8",
		"HTTP_REFERER=https://panel.example/", "HTTP_ORIGIN=https://panel.example",
		"SCRIPT_NAME=/index", NULL };

	ck_assert_int_eq(parse_req("GET", "/sites/list?page=2&q=a+b", NULL, NULL,
	    0, extra), AP_OK);
	ck_assert_int_eq(R.method, AP_METHOD_GET);
	ck_assert_str_eq(R.method_name, "GET");
	ck_assert_str_eq(R.uri, "/sites/list?page=2&q=a+b");
	ck_assert_str_eq(R.path, "/sites/list");
	ck_assert_str_eq(R.query_string, "page=2&q=a+b");
	ck_assert_str_eq(ap_req_query(&R, "q"), "a b");
	ck_assert_str_eq(ap_req_query(&R, "page"), "2");
	ck_assert_str_eq(R.remote_addr, "10.0.0.7");
	ck_assert_str_eq(R.host, "panel.example");
	ck_assert(R.https);
	ck_assert_str_eq(R.accept_language, "de");
	ck_assert_str_eq(R.user_agent, "curl/8");
	ck_assert_str_eq(R.referer, "https://panel.example/");
	ck_assert_str_eq(R.origin, "https://panel.example");
	ck_assert_str_eq(ap_req_param(&R, "SCRIPT_NAME"), "/index");
	ck_assert_ptr_eq(R.arena, A);
	ck_assert_ptr_null(R.body);
	ck_assert_uint_eq(R.nform, 0);
	ck_assert(!R.wants_json);
}
END_TEST

START_TEST(test_missing_params_are_empty)
{
	ck_assert_int_eq(parse_req("GET", "/", NULL, NULL, 0, NULL), AP_OK);
	ck_assert_str_eq(R.content_type, "");
	ck_assert_str_eq(R.accept, "");
	ck_assert_str_eq(R.host, "");
	ck_assert_str_eq(R.origin, "");
	ck_assert(!R.https);
	ck_assert_ptr_null(ap_req_param(&R, "HTTP_HOST"));
	ck_assert_ptr_null(ap_req_query(&R, "x"));
	ck_assert_ptr_null(ap_req_form(&R, "x"));
	ck_assert_ptr_null(ap_req_cookie(&R, "x"));
}
END_TEST

START_TEST(test_unknown_method_is_405)
{
	ck_err(parse_req("BREW", "/pot", NULL, NULL, 0, NULL), 405, "method",
	    "method 'BREW' is not supported");
	/* The error page still knows where it is. */
	ck_assert_str_eq(R.path, "/pot");
	ck_assert_str_eq(R.method_name, "GET");
}
END_TEST

START_TEST(test_missing_method_is_405)
{
	ck_err(parse_req(NULL, "/", NULL, NULL, 0, NULL), 405, "method",
	    "method '' is not supported");
}
END_TEST

START_TEST(test_lowercase_method_is_405)
{
	ck_err(parse_req("get", "/", NULL, NULL, 0, NULL), 405, "method",
	    "method 'get' is not supported");
}
END_TEST

START_TEST(test_header_too_long_names_it)
{
	static const char *extra[] = { NULL, "HTTP_ACCEPT=application/json",
		NULL };
	char *cookie = ap_arena_alloc(A, 300);

	memcpy(cookie, "HTTP_COOKIE=", 12);
	memset(cookie + 12, 'c', 257);
	cookie[12 + 257] = '\0';
	extra[0] = cookie;
	ck_err(parse_req("GET", "/dash", NULL, NULL, 0, extra), 400, "cookie",
	    "header too long (max 256 bytes)");
	/* Method, path and the JSON preference survive for the error page. */
	ck_assert_str_eq(R.path, "/dash");
	ck_assert(R.wants_json);
	ck_assert_str_eq(ap_req_param(&R, "HTTP_COOKIE"), "");
}
END_TEST

START_TEST(test_header_exactly_at_limit_passes)
{
	static const char *extra[] = { NULL, NULL };
	char *ua = ap_arena_alloc(A, 300);

	memcpy(ua, "HTTP_USER_AGENT=", 16);
	memset(ua + 16, 'u', 256);
	ua[16 + 256] = '\0';
	extra[0] = ua;
	ck_assert_int_eq(parse_req("GET", "/", NULL, NULL, 0, extra), AP_OK);
	ck_assert_uint_eq(strlen(R.user_agent), 256);
}
END_TEST

START_TEST(test_long_request_uri_is_400)
{
	char uri[300];

	uri[0] = '/';
	memset(uri + 1, 'p', 256);
	uri[257] = '\0';
	ck_err(parse_req("GET", uri, NULL, NULL, 0, NULL), 400, "request-uri",
	    "header too long (max 256 bytes)");
	ck_assert_str_eq(R.path, "/");
}
END_TEST

START_TEST(test_header_line_break_is_400)
{
	static const char *const extra[] = { "HTTP_X_EVIL=a\r\nSet-Cookie: x=1",
		NULL };

	ck_err(parse_req("GET", "/", NULL, NULL, 0, extra), 400, "x-evil",
	    "header contains a line break");
}
END_TEST

static const struct {
	const char *uri, *path;
} path_rows[] = {
	{ "/", "/" },
	{ "/sites", "/sites" },
	{ "/a%20b", "/a b" },
	{ "/a+b", "/a+b" },
	{ "/caf%C3%A9", "/caf\xc3\xa9" },
	{ "/a//b", "/a//b" },
	{ "/a/", "/a/" },
	{ "/a/.well-known/x", "/a/.well-known/x" },
	{ "/a/...", "/a/..." },
	{ "/x?y=%2e%2e/..", "/x" },
};

START_TEST(test_path_rows)
{
	const char *uri = path_rows[_i].uri;

	ck_assert_int_eq(parse_req("GET", uri, NULL, NULL, 0, NULL), AP_OK);
	ck_assert_str_eq(R.path, path_rows[_i].path);
}
END_TEST

static const struct {
	const char *uri, *reason;
} bad_path_rows[] = {
	{ "sites", "path must start with '/'" },
	{ "", "path must start with '/'" },
	{ "?a=1", "path must start with '/'" },
	{ "http://evil/x", "path must start with '/'" },
	{ "/a%zz", "invalid percent-encoding in path" },
	{ "/a%2", "invalid percent-encoding in path" },
	{ "/a%00b", "path contains a NUL byte" },
	{ "/a%ff", "path is not valid UTF-8 text" },
	{ "/a%ed%a0%80", "path is not valid UTF-8 text" },
	{ "/a/../etc", "path must not contain . or .. segments" },
	{ "/a/%2e%2e/etc", "path must not contain . or .. segments" },
	{ "/a%2f..%2fetc", "path must not contain . or .. segments" },
	{ "/.", "path must not contain . or .. segments" },
	{ "/a/.", "path must not contain . or .. segments" },
	{ "/./a", "path must not contain . or .. segments" },
	{ "/..", "path must not contain . or .. segments" },
};

START_TEST(test_bad_path_rows)
{
	static const char *const extra[] = { "HTTP_ACCEPT=application/json",
		NULL };

	ck_err(parse_req("GET", bad_path_rows[_i].uri, NULL, NULL, 0, extra),
	    400, "path", bad_path_rows[_i].reason);
	ck_assert_str_eq(R.path, "/");
	ck_assert(R.wants_json);
}
END_TEST

START_TEST(test_missing_request_uri_is_400)
{
	ck_err(parse_req("GET", NULL, NULL, NULL, 0, NULL), 400, "path",
	    "path must start with '/'");
}
END_TEST

START_TEST(test_query_from_uri_without_query_string_param)
{
	char *env[] = { ap_arena_strdup(A, "REQUEST_METHOD=GET"),
		ap_arena_strdup(A, "REQUEST_URI=/s?x=1&y"), NULL };

	ck_assert_int_eq(ap_req_parse(&R, A, env, NULL, NULL, &L, &E), AP_OK);
	ck_assert_str_eq(R.query_string, "x=1&y");
	ck_assert_str_eq(ap_req_query(&R, "x"), "1");
	ck_assert_str_eq(ap_req_query(&R, "y"), "");
}
END_TEST

START_TEST(test_query_errors_name_source_and_key)
{
	ck_err(parse_req("GET", "/s?ok=1&page=%zz", NULL, NULL, 0, NULL), 400,
	    "page", "invalid percent-encoding in 'page'");
	ck_err(parse_req("GET", "/s?%zz=1", NULL, NULL, 0, NULL), 400, "query",
	    "invalid percent-encoding in a field name");
}
END_TEST

START_TEST(test_query_too_many_fields)
{
	ck_err(parse_req("GET", "/s?a&b&c&d&e&f&g&h&i", NULL, NULL, 0, NULL),
	    400, "query", "too many fields (max 8)");
}
END_TEST

START_TEST(test_lookup_first_match_wins)
{
	ck_assert_int_eq(parse_req("GET", "/s?a=1&a=2&b=", NULL, NULL, 0, NULL),
	    AP_OK);
	ck_assert_str_eq(ap_req_query(&R, "a"), "1");
	ck_assert_uint_eq(R.nquery, 3);
	ck_assert_str_eq(ap_req_query(&R, "b"), "");
	ck_assert_ptr_null(ap_req_query(&R, "A"));
}
END_TEST

/* ---- wants_json ----------------------------------------------------- */

static const struct {
	const char *path, *accept;
	bool json;
} json_rows[] = {
	{ "/", "application/json", true },
	{ "/", "Application/JSON", true },
	{ "/", "application/json, text/plain;q=0.5", true },
	{ "/", "application/json; charset=utf-8", true },
	{ "/", "text/html,application/json", false },
	{ "/", "text/html;q=0.5, application/json", true },
	{ "/", "application/json;q=0.9, text/html", false },
	{ "/", "application/json;q=0, text/plain;q=0.1", false },
	{ "/", "*/*", false },
	{ "/", "application/*", false },
	{ "/", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", false },
	{ "/", "", false },
	{ "/", "application/json;q=bogus, text/html;q=0.1", false },
	{ "/", "  application/json  ", true },
	{ "/api/sites", "", true },
	{ "/api/sites", "text/html", true },
	{ "/apis", "", false },
	{ "/api", "", false },
};

START_TEST(test_wants_json_rows)
{
	char *env[] = { ap_arena_strdup(A, "REQUEST_METHOD=GET"),
		ap_arena_printf(A, "REQUEST_URI=%s", json_rows[_i].path),
		ap_arena_printf(A, "HTTP_ACCEPT=%s", json_rows[_i].accept), NULL };

	ck_assert_int_eq(ap_req_parse(&R, A, env, NULL, NULL, &L, &E), AP_OK);
	ck_assert_msg(R.wants_json == json_rows[_i].json, "row %d: %s %s", _i,
	    json_rows[_i].path, json_rows[_i].accept);
	ck_assert_str_eq(R.accept, json_rows[_i].accept);
}
END_TEST

/* ---- cookies -------------------------------------------------------- */

START_TEST(test_cookies_basic)
{
	static const char *const extra[] = {
		"HTTP_COOKIE=sid=abc123; theme=\"dark\";lang=de; enc=a%20b", NULL };

	ck_assert_int_eq(parse_req("GET", "/", NULL, NULL, 0, extra), AP_OK);
	ck_assert_uint_eq(R.ncookies, 4);
	ck_assert_str_eq(ap_req_cookie(&R, "sid"), "abc123");
	ck_assert_str_eq(ap_req_cookie(&R, "theme"), "dark");
	ck_assert_str_eq(ap_req_cookie(&R, "lang"), "de");
	/* Values are not percent-decoded. */
	ck_assert_str_eq(ap_req_cookie(&R, "enc"), "a%20b");
}
END_TEST

START_TEST(test_cookies_malformed_pairs_skipped)
{
	static const char *const extra[] = {
		"HTTP_COOKIE=novalue; =x; a b=1; ok=1; bad=\xff; \"q\"=2; e=; ;;",
		NULL };

	ck_assert_int_eq(parse_req("GET", "/", NULL, NULL, 0, extra), AP_OK);
	ck_assert_str_eq(join_kv(R.cookies, R.ncookies), "ok=1|e=");
}
END_TEST

START_TEST(test_cookies_limit)
{
	static const char *extra[] = {
		"HTTP_COOKIE=a=1; b=2; c=3; d=4; e=5; f=6; g=7; h=8", NULL };

	ck_assert_int_eq(parse_req("GET", "/", NULL, NULL, 0, extra), AP_OK);
	ck_assert_uint_eq(R.ncookies, 8);
	extra[0] = "HTTP_COOKIE=a=1; b=2; c=3; d=4; e=5; f=6; g=7; h=8; i=9";
	ck_err(parse_req("GET", "/", NULL, NULL, 0, extra), 400, "cookie",
	    "too many cookies (max 8)");
}
END_TEST

/* ---- body framing and limits ---------------------------------------- */

START_TEST(test_content_length_invalid)
{
	static const char *const rows[] = { "CONTENT_LENGTH=abc",
		"CONTENT_LENGTH=-1", "CONTENT_LENGTH= 5", "CONTENT_LENGTH=+5",
		"CONTENT_LENGTH=99999999999999999999999" };

	for (size_t i = 0; i < AP_NELEM(rows); i++) {
		const char *extra[] = { rows[i], "CONTENT_TYPE=application/json",
			NULL };

		ck_err(parse_req("POST", "/x", NULL, NULL, 0, extra), 400,
		    "content-length", "Content-Length is not a valid number");
	}
}
END_TEST

START_TEST(test_post_body_without_length_is_411)
{
	static const char *const extra[] = {
		"CONTENT_TYPE=application/x-www-form-urlencoded", NULL };

	B.p = "a=1";
	B.n = 3;
	B.off = 0;
	{
		char *env[] = { ap_arena_strdup(A, "REQUEST_METHOD=POST"),
			ap_arena_strdup(A, "REQUEST_URI=/x"),
			ap_arena_strdup(A, extra[0]), NULL };

		ck_err(ap_req_parse(&R, A, env, mem_read, &B, &L, &E), 411,
		    "content-length", "Content-Length is required");
	}
}
END_TEST

START_TEST(test_post_without_body_or_length_ok)
{
	ck_assert_int_eq(parse_req("POST", "/logout", NULL, NULL, 0, NULL),
	    AP_OK);
	ck_assert_ptr_null(R.body);
	ck_assert_uint_eq(R.nform, 0);
}
END_TEST

START_TEST(test_body_over_limit_is_413_before_reading)
{
	char body[1100];
	enum ap_err rc;

	memset(body, 'a', sizeof(body));
	B.calls = 0;
	rc = post("application/x-www-form-urlencoded", body, 1025);
	ck_err(rc, 413, "body", "request body is 1025 bytes; the limit is 1024");
	ck_assert_int_eq(rc, AP_ERR_TOOBIG);
	ck_assert_int_eq(B.calls, 0);
	ck_assert_ptr_null(R.body);
	ck_err(post("application/json", body, 1025), 413, "body",
	    "request body is 1025 bytes; the limit is 1024");
}
END_TEST

START_TEST(test_body_exactly_at_limit_passes)
{
	char body[1024];

	memcpy(body, "v=", 2);
	memset(body + 2, 'x', sizeof(body) - 2);
	L.max_field_len = 2000;
	ck_assert_int_eq(post("application/x-www-form-urlencoded", body, 1024),
	    AP_OK);
	ck_assert_uint_eq(R.body_len, 1024);
	ck_assert_uint_eq(strlen(ap_req_form(&R, "v")), 1022);
}
END_TEST

START_TEST(test_multipart_uses_upload_limit)
{
	char *body = ap_arena_alloc(A, 5000);
	const char *head = "--B\r\nContent-Disposition: form-data; name=\"f\"; "
	    "filename=\"a.bin\"\r\n\r\n";
	const char *tail = "\r\n--B--\r\n";
	size_t hl = strlen(head), tl = strlen(tail), n = 4096;

	memcpy(body, head, hl);
	memset(body + hl, 'z', n - hl - tl);
	memcpy(body + n - tl, tail, tl);
	/* 4096 > max_body (1024) but within max_upload (4096). */
	ck_assert_int_eq(post("multipart/form-data; boundary=B", body, n), AP_OK);
	ck_assert_uint_eq(R.nuploads, 1);
	ck_assert_uint_eq(R.uploads[0].len, n - hl - tl);
	ck_err(post("multipart/form-data; boundary=B", body, n + 1), 413, "body",
	    "request body is 4097 bytes; the limit is 4096");
}
END_TEST

START_TEST(test_unsupported_content_type_is_415)
{
	ck_err(post("text/plain", "hello", 5), 415, "content-type",
	    "unsupported Content-Type 'text/plain'");
	ck_err(post("application/jsonx", "{}", 2), 415, "content-type",
	    "unsupported Content-Type 'application/jsonx'");
	ck_err(post(NULL, "a=1", 3), 415, "content-type",
	    "unsupported Content-Type ''");
}
END_TEST

START_TEST(test_unsupported_type_with_empty_body_ok)
{
	ck_assert_int_eq(post("text/plain", "", 0), AP_OK);
	ck_assert_ptr_null(R.body);
}
END_TEST

START_TEST(test_content_type_case_and_params)
{
	ck_assert_int_eq(post("Application/X-WWW-Form-Urlencoded ; charset=UTF-8",
	    "a=1", 3), AP_OK);
	ck_assert_str_eq(ap_req_form(&R, "a"), "1");
	ck_assert_int_eq(post("APPLICATION/JSON;charset=utf-8", "{\"b\":2}", 7),
	    AP_OK);
	ck_assert_str_eq(ap_req_form(&R, "b"), "2");
}
END_TEST

START_TEST(test_short_body_is_400)
{
	char *env[] = { ap_arena_strdup(A, "REQUEST_METHOD=POST"),
		ap_arena_strdup(A, "REQUEST_URI=/x"),
		ap_arena_strdup(A, "CONTENT_TYPE=application/x-www-form-urlencoded"),
		ap_arena_strdup(A, "CONTENT_LENGTH=10"), NULL };

	B.p = "a=1";
	B.n = 3;
	B.off = 0;
	ck_err(ap_req_parse(&R, A, env, mem_read, &B, &L, &E), 400, "body",
	    "body shorter than Content-Length");
}
END_TEST

START_TEST(test_read_error_is_400)
{
	B.fail = true;
	ck_err(post("application/x-www-form-urlencoded", "a=1", 3), 400, "body",
	    "could not read the request body");
	B.fail = false;
}
END_TEST

START_TEST(test_body_read_in_small_chunks)
{
	const char *body = "alpha=1&beta=two&gamma=%E2%82%AC";

	B.chunk = 1;
	B.calls = 0;
	ck_assert_int_eq(post("application/x-www-form-urlencoded", body,
	    strlen(body)), AP_OK);
	B.chunk = 0;
	ck_assert_int_ge(B.calls, (int)strlen(body));
	ck_assert_str_eq(R.body, body);
	ck_assert_str_eq(ap_req_form(&R, "gamma"), "\xe2\x82\xac");
}
END_TEST

START_TEST(test_form_body)
{
	const char *body = "user=ann&pass=s%26cret&remember";

	ck_assert_int_eq(post("application/x-www-form-urlencoded", body,
	    strlen(body)), AP_OK);
	ck_assert_str_eq(join_kv(R.form, R.nform),
	    "user=ann|pass=s&cret|remember=");
	ck_assert_uint_eq(R.body_len, strlen(body));
	ck_assert_ptr_null(R.json);
}
END_TEST

START_TEST(test_form_body_errors_name_body)
{
	ck_err(post("application/x-www-form-urlencoded", "a=1\0b", 5), 400, "a",
	    "'a' contains a NUL byte");
	ck_err(post("application/x-www-form-urlencoded", "a=\xc3", 3), 400, "a",
	    "'a' is not valid UTF-8 text");
	ck_err(post("application/x-www-form-urlencoded", "%zz", 3), 400, "body",
	    "invalid percent-encoding in a field name");
	ck_err(post("application/x-www-form-urlencoded",
	    "a&b&c&d&e&f&g&h&i", 17), 400, "body", "too many fields (max 8)");
}
END_TEST

START_TEST(test_error_status_maps_to_code)
{
	ck_assert_int_eq(post("text/plain", "x", 1), AP_ERR_INVAL);
	ck_assert_int_eq(E.status, 415);
	ck_assert_int_eq(parse_req("BREW", "/", NULL, NULL, 0, NULL),
	    AP_ERR_INVAL);
}
END_TEST

/* ---- multipart ------------------------------------------------------ */

#define MP_CT "multipart/form-data; boundary=XyZ"

static enum ap_err
post_mp(const char *ct, const char *body, size_t len)
{
	return post(ct, body, len);
}

START_TEST(test_multipart_text_fields)
{
	const char body[] =
	    "--XyZ\r\n"
	    "Content-Disposition: form-data; name=\"title\"\r\n"
	    "\r\n"
	    "Hello \xe2\x82\xac\r\n"
	    "--XyZ\r\n"
	    "content-disposition: FORM-DATA; name=multi\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "\r\n"
	    "line1\r\nline2\r\n"
	    "--XyZ\r\n"
	    "Content-Disposition: form-data; name=\"empty\"\r\n"
	    "\r\n"
	    "\r\n"
	    "--XyZ--\r\n";

	ck_assert_int_eq(post_mp(MP_CT, body, sizeof(body) - 1), AP_OK);
	ck_assert_uint_eq(R.nform, 3);
	ck_assert_uint_eq(R.nuploads, 0);
	ck_assert_str_eq(ap_req_form(&R, "title"), "Hello \xe2\x82\xac");
	ck_assert_str_eq(ap_req_form(&R, "multi"), "line1\r\nline2");
	ck_assert_str_eq(ap_req_form(&R, "empty"), "");
}
END_TEST

START_TEST(test_multipart_binary_upload)
{
	const char body[] =
	    "--XyZ\r\n"
	    "Content-Disposition: form-data; name=\"cert\"; filename=\"site.pem\"\r\n"
	    "Content-Type: application/x-pem-file\r\n"
	    "\r\n"
	    "\x00\x01\r\n--XY\r\n\xff\xfe\x00\r\n--XyZW\r\n"
	    "\r\n--XyZ\r\n"
	    "Content-Disposition: form-data; name=\"note\"\r\n"
	    "\r\n"
	    "ok\r\n--XyZ--";
	const char data[] = "\x00\x01\r\n--XY\r\n\xff\xfe\x00\r\n--XyZW\r\n";

	/* regression: "\r\n--XyZW" in the data was taken for boundary XyZ, cutting the upload (400) */
	ck_assert_int_eq(post_mp(MP_CT, body, sizeof(body) - 1), AP_OK);
	ck_assert_uint_eq(R.nuploads, 1);
	ck_assert_str_eq(R.uploads[0].field, "cert");
	ck_assert_str_eq(R.uploads[0].filename, "site.pem");
	ck_assert_str_eq(R.uploads[0].content_type, "application/x-pem-file");
	ck_assert_uint_eq(R.uploads[0].len, sizeof(data) - 1);
	ck_assert_mem_eq(R.uploads[0].data, data, sizeof(data) - 1);
	ck_assert_str_eq(ap_req_form(&R, "note"), "ok");
	/* The upload is not mirrored into the form. */
	ck_assert_ptr_null(ap_req_form(&R, "cert"));
}
END_TEST

START_TEST(test_multipart_quoted_boundary)
{
	const char body[] =
	    "--a'b(c)+_,-./:=?\r\n"
	    "Content-Disposition: form-data; name=\"k\"\r\n\r\nv\r\n"
	    "--a'b(c)+_,-./:=?--\r\n";

	ck_assert_int_eq(post_mp("multipart/form-data; charset=utf-8; "
	    "boundary=\"a'b(c)+_,-./:=?\"", body, sizeof(body) - 1), AP_OK);
	ck_assert_str_eq(ap_req_form(&R, "k"), "v");
}
END_TEST

START_TEST(test_multipart_filename_directories_stripped)
{
	static const struct {
		const char *sent, *kept;
	} rows[] = {
		{ "C:\\Users\\ann\\key.pem", "key.pem" },
		{ "/home/ann/key.pem", "key.pem" },
		{ "../../etc/passwd", "passwd" },
		{ "plain.txt", "plain.txt" },
		{ "", "" },
		{ "dir/", "" },
		{ "caf\xc3\xa9.txt", "caf\xc3\xa9.txt" },
	};

	for (size_t i = 0; i < AP_NELEM(rows); i++) {
		char *body = ap_arena_printf(A,
		    "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; "
		    "filename=\"%s\"\r\n\r\ndata\r\n--XyZ--\r\n", rows[i].sent);

		ck_assert_int_eq(post_mp(MP_CT, body, strlen(body)), AP_OK);
		ck_assert_uint_eq(R.nuploads, 1);
		ck_assert_str_eq(R.uploads[0].filename, rows[i].kept);
		ck_assert_str_eq(R.uploads[0].content_type,
		    "application/octet-stream");
	}
}
END_TEST

START_TEST(test_multipart_bad_filenames)
{
	static const char *const rows[] = { "..", "a/..", ".", "x\x01y",
		"bad\xff.txt" };

	for (size_t i = 0; i < AP_NELEM(rows); i++) {
		char *body = ap_arena_printf(A,
		    "--XyZ\r\nContent-Disposition: form-data; name=\"up\"; "
		    "filename=\"%s\"\r\n\r\ndata\r\n--XyZ--\r\n", rows[i]);

		ck_err(post_mp(MP_CT, body, strlen(body)), 400, "up",
		    "invalid file name");
	}
}
END_TEST

START_TEST(test_multipart_missing_end_boundary)
{
	static const char *const rows[] = {
		"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nabc",
		"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nabc\r\n--XyZ",
		"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nabc\r\n--XyZ\r\n",
		"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n",
	};

	for (size_t i = 0; i < AP_NELEM(rows); i++)
		ck_err(post_mp(MP_CT, rows[i], strlen(rows[i])), 400, "body",
		    "missing closing multipart boundary");
}
END_TEST

/* ---- multipart, the file streamed (limits.stream_form) -------------- */

/* Parse body as a streamed form read chunk bytes at a time, then read the file's content in
 * reads of n bytes into out (cap bytes): its length, or -1 when a read failed. */
static long long
stream_mp(const char *body, size_t len, size_t chunk, size_t n, char *out, size_t cap, enum ap_err *rc)
{
	size_t got = 0;

	L.stream_form = true;
	L.max_stream = 1 << 24;
	B.chunk = chunk;
	*rc = post_mp(MP_CT, body, len);
	B.chunk = 0;
	if (*rc != AP_OK || R.mp == NULL)
		return 0;
	for (;;) {
		ssize_t k = ap_req_part_read(&R, out + got, n < cap - got ? n : cap - got);

		if (k < 0)
			return -1;
		if (k == 0)
			return (long long)got;
		got += (size_t)k;
	}
}

START_TEST(test_mp_stream_csrf_first_then_file)
{
	const char body[] =
	    "--XyZ\r\n"
	    "Content-Disposition: form-data; name=\"csrf\"\r\n"
	    "\r\n"
	    "tok123\r\n"
	    "--XyZ\r\n"
	    "Content-Disposition: form-data; name=\"file\"; filename=\"C:\\\\d\\\\dump.sql\"\r\n"
	    "Content-Type: application/sql\r\n"
	    "\r\n"
	    "\x00\x01\r\n--XY\r\n\xff\xfe\x00\r\n--XyZW\r\n--XyZ-\r\n"
	    "\r\n--XyZ\r\n"
	    "Content-Disposition: form-data; name=\"after\"\r\n"
	    "\r\n"
	    "late\r\n--XyZ--\r\n";
	const char data[] = "\x00\x01\r\n--XY\r\n\xff\xfe\x00\r\n--XyZW\r\n--XyZ-\r\n";
	/* Every read size, so the boundary falls across reads at every offset. */
	static const size_t chunks[] = { 1, 2, 3, 5, 7, 11, 64, 0 };
	char out[256];

	for (size_t i = 0; i < AP_NELEM(chunks); i++)
		for (size_t n = 1; n <= 17; n += 4) {
			enum ap_err rc;
			long long got = stream_mp(body, sizeof(body) - 1, chunks[i], n, out, sizeof(out), &rc);

			ck_assert_int_eq(rc, AP_OK);
			ck_assert_str_eq(ap_req_form(&R, "csrf"), "tok123");
			ck_assert_uint_eq(R.nuploads, 1);
			ck_assert_str_eq(R.uploads[0].field, "file");
			ck_assert_str_eq(R.uploads[0].filename, "dump.sql");
			ck_assert_str_eq(R.uploads[0].content_type, "application/sql");
			ck_assert_int_eq(got, (long long)sizeof(data) - 1);
			ck_assert_mem_eq(out, data, sizeof(data) - 1);
			/* A field after the file is skipped, never seen as the form's. */
			ck_assert_ptr_null(ap_req_form(&R, "after"));
			ck_assert_int_eq(ap_req_part_read(&R, out, sizeof(out)), 0);
		}
}
END_TEST

START_TEST(test_mp_stream_large_file_flat_buffer)
{
	size_t dlen = 300 * 1024 + 13, n;
	const char head[] = "--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nt\r\n"
			    "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.sql\"\r\n\r\n";
	const char tail[] = "\r\n--XyZ--\r\n";
	char *body = malloc(sizeof(head) + dlen + sizeof(tail)), *out = malloc(dlen + 16);
	enum ap_err rc;
	long long got;

	ck_assert_ptr_nonnull(body);
	memcpy(body, head, sizeof(head) - 1);
	for (size_t i = 0; i < dlen; i++)
		body[sizeof(head) - 1 + i] = "\r\n-XyZ"[(i * 7 + i / 5) % 6];
	memcpy(body + sizeof(head) - 1 + dlen, tail, sizeof(tail) - 1);
	n = sizeof(head) - 1 + dlen + sizeof(tail) - 1;
	L.stream_form = true;
	L.max_stream = 1 << 24;
	ck_assert_int_eq(post_mp(MP_CT, body, n), AP_OK);
	/* At most what is left after the fields: the content and the closing boundary. */
	ck_assert_int_eq(ap_req_part_max(&R), (long long)dlen);
	got = stream_mp(body, n, 4099, 1000, out, dlen + 16, &rc);
	ck_assert_int_eq(rc, AP_OK);
	ck_assert_int_eq(got, (long long)dlen);
	ck_assert_mem_eq(out, body + sizeof(head) - 1, dlen);
	/* Bigger than limits.max_upload: a streamed form is not held, so not bound by it. */
	ck_assert_uint_gt(n, L.max_upload);
	free(body);
	free(out);
}
END_TEST

START_TEST(test_mp_stream_csrf_not_first)
{
	/* After the file: not read before the handler, so the gate finds no token (403). */
	const char late[] =
	    "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"d.sql\"\r\n\r\n"
	    "SELECT 1;\r\n--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ntok\r\n--XyZ--\r\n";
	/* After another field but before the file: read (every field before the file is). */
	const char second[] =
	    "--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhi\r\n"
	    "--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ntok\r\n"
	    "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"d.sql\"\r\n\r\n"
	    "SELECT 1;\r\n--XyZ--\r\n";
	/* No file at all: the fields, and no stream for the handler. */
	const char none[] = "--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ntok\r\n--XyZ--\r\n";
	char out[64];
	enum ap_err rc;

	ck_assert_int_eq(stream_mp(late, sizeof(late) - 1, 3, 64, out, sizeof(out), &rc), 9);
	ck_assert_int_eq(rc, AP_OK);
	ck_assert_ptr_null(ap_req_form(&R, "csrf"));
	ck_assert_int_eq(stream_mp(second, sizeof(second) - 1, 0, 64, out, sizeof(out), &rc), 9);
	ck_assert_str_eq(ap_req_form(&R, "csrf"), "tok");
	ck_assert_str_eq(ap_req_form(&R, "note"), "hi");
	ck_assert_int_eq(stream_mp(none, sizeof(none) - 1, 0, 64, out, sizeof(out), &rc), 0);
	ck_assert_int_eq(rc, AP_OK);
	ck_assert_ptr_null(R.mp);
	ck_assert_uint_eq(R.nuploads, 0);
	ck_assert_str_eq(ap_req_form(&R, "csrf"), "tok");
}
END_TEST

START_TEST(test_mp_stream_missing_final_boundary)
{
	static const char *const rows[] = {
		/* the content runs to the body's end */
		"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"d.sql\"\r\n\r\nSELECT 1;",
		/* a delimiter without its end */
		"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"d.sql\"\r\n\r\nSELECT 1;\r\n--XyZ",
		/* a later part never closed */
		"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"d.sql\"\r\n\r\nSELECT 1;\r\n--XyZ\r\n"
		"Content-Disposition: form-data; name=\"x\"\r\n\r\nabc",
	};
	char out[64];

	for (size_t i = 0; i < AP_NELEM(rows); i++) {
		enum ap_err rc;

		ck_assert_int_eq(stream_mp(rows[i], strlen(rows[i]), 2, 64, out, sizeof(out), &rc), -1);
		ck_assert_int_eq(rc, AP_OK);
		ck_assert_str_eq(ap_req_part_error(&R), "missing closing multipart boundary");
	}
	/* Before the file (the fields are read by the parser): a 400. */
	{
		const char b[] = "--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ntok";
		enum ap_err rc;

		stream_mp(b, sizeof(b) - 1, 0, 64, out, sizeof(out), &rc);
		ck_err(rc, 400, "body", "missing closing multipart boundary");
	}
	/* The client sends less than its Content-Length. */
	{
		const char b[] = "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"d.sql\"\r\n\r\n"
				 "SELECT 1;\r\n--XyZ--\r\n";
		enum ap_err rc;

		char big[sizeof(b) + 100];

		memset(big, 'x', sizeof(big));
		memcpy(big, b, sizeof(b) - 1);
		/* Sent: up to the middle of the content; Content-Length: 100 bytes more than the body. */
		Cut = 100 + 20;
		ck_assert_int_eq(stream_mp(big, sizeof(b) - 1 + 100, 0, 64, out, sizeof(out), &rc), -1);
		Cut = 0;
		ck_assert_int_eq(rc, AP_OK);
		ck_assert_str_eq(ap_req_part_error(&R), "body shorter than Content-Length");
	}
}
END_TEST

START_TEST(test_mp_stream_long_headers_and_fields)
{
	size_t n = 9000;
	char *b = malloc(n + 512), out[64];
	enum ap_err rc;
	int k;

	/* A file part's headers over MP_MAX_HEADERS (8192). */
	k = snprintf(b, 512, "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"d.sql\"\r\nX-Pad: ");
	memset(b + k, 'a', n);
	memcpy(b + k + n, "\r\n\r\nSELECT 1;\r\n--XyZ--\r\n", 24);
	stream_mp(b, (size_t)k + n + 24, 100, 64, out, sizeof(out), &rc);
	ck_err(rc, 400, "body", "multipart part headers too long");
	/* A later part's: the handler's read fails. */
	k = snprintf(b, 512, "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"d.sql\"\r\n\r\n"
			     "SELECT 1;\r\n--XyZ\r\nX-Pad: ");
	memset(b + k, 'a', n);
	memcpy(b + k + n, "\r\n\r\nx\r\n--XyZ--\r\n", 16);
	ck_assert_int_eq(stream_mp(b, (size_t)k + n + 16, 0, 64, out, sizeof(out), &rc), -1);
	ck_assert_str_eq(ap_req_part_error(&R), "multipart part headers too long");
	/* A field before the file over max_field_len (64): named. */
	k = snprintf(b, 512, "--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n");
	memset(b + k, 'c', 65);
	memcpy(b + k + 65, "\r\n--XyZ--\r\n", 11);
	stream_mp(b, (size_t)k + 65 + 11, 7, 64, out, sizeof(out), &rc);
	ck_err(rc, 400, "csrf", "'csrf' is longer than 64 bytes");
	/* ... exactly at it: taken. */
	memmove(b + k + 64, b + k + 65, 11);
	stream_mp(b, (size_t)k + 64 + 11, 7, 64, out, sizeof(out), &rc);
	ck_assert_int_eq(rc, AP_OK);
	ck_assert_uint_eq(strlen(ap_req_form(&R, "csrf")), 64);
	free(b);
}
END_TEST

/* Read every file part of a streamed form (ap_req_part_next), each in reads of n bytes: the
 * parts' "field/filename=content;" into out, the count of parts, -1 when a read failed. */
static int
stream_all(const char *body, size_t len, size_t chunk, size_t n, char *out, size_t cap)
{
	size_t got = 0;
	int parts = 0, more;
	enum ap_err rc;

	L.stream_form = true;
	L.max_stream = 1 << 24;
	B.chunk = chunk;
	rc = post_mp(MP_CT, body, len);
	ck_assert_int_eq(rc, AP_OK);
	out[0] = '\0';
	for (more = R.mp != NULL && R.nuploads > 0; more > 0; more = ap_req_part_next(&R)) {
		got += (size_t)snprintf(out + got, cap - got, "%s/%s=", R.uploads[0].field, R.uploads[0].filename);
		for (;;) {
			ssize_t k = ap_req_part_read(&R, out + got, n < cap - got - 1 ? n : cap - got - 1);

			if (k < 0) {
				B.chunk = 0;
				return -1;
			}
			if (k == 0)
				break;
			got += (size_t)k;
		}
		got += (size_t)snprintf(out + got, cap - got, ";");
		parts++;
	}
	B.chunk = 0;
	out[got] = '\0';
	return more < 0 ? -1 : parts;
}

START_TEST(test_mp_stream_several_files)
{
	const char body[] =
	    "--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ntok\r\n"
	    "--XyZ\r\nContent-Disposition: form-data; name=\"path\"\r\n\r\nsub\r\n"
	    "--XyZ\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a.txt\"\r\n"
	    "Content-Type: text/plain\r\n\r\n"
	    "one\r\n--XyZW\r\n--XY\r\n"
	    "\r\n--XyZ\r\nContent-Disposition: form-data; name=\"files\"; filename=\"empty.bin\"\r\n\r\n"
	    "\r\n--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nbetween\r\n"
	    "--XyZ\r\nContent-Disposition: form-data; name=\"files\"; filename=\"C:\\\\x\\\\c.bin\"\r\n\r\n"
	    "\x00\r\n\xff--XyZ-\r\n"
	    "--XyZ--\r\nepilogue";
	const char want[] = "files/a.txt=one\r\n--XyZW\r\n--XY\r\n;files/empty.bin=;files/c.bin=\x00\r\n\xff--XyZ-;";
	static const size_t chunks[] = { 1, 2, 3, 5, 7, 13, 64, 0 };
	char out[512];

	/* Every read size: each boundary falls across the reads at every offset. */
	for (size_t i = 0; i < AP_NELEM(chunks); i++)
		for (size_t n = 1; n <= 9; n += 4) {
			ck_assert_int_eq(stream_all(body, sizeof(body) - 1, chunks[i], n, out, sizeof(out)), 3);
			ck_assert_mem_eq(out, want, sizeof(want) - 1);
			ck_assert_str_eq(ap_req_form(&R, "csrf"), "tok");
			ck_assert_str_eq(ap_req_form(&R, "path"), "sub");
			/* A text field between the files is skipped, never the form's. */
			ck_assert_ptr_null(ap_req_form(&R, "note"));
			ck_assert_int_eq(ap_req_part_next(&R), 0);
		}
}
END_TEST

START_TEST(test_mp_stream_next_skips_unread)
{
	/* The handler leaves a file half read: part_next skips the rest; a part without a
	 * filename (a text field) is not a file; the csrf after a file is not the form's. */
	const char body[] =
	    "--XyZ\r\nContent-Disposition: form-data; name=\"files\"; filename=\"big.bin\"\r\n\r\n"
	    "0123456789abcdef0123456789\r\n"
	    "--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ntok\r\n"
	    "--XyZ\r\nContent-Disposition: form-data; name=\"files\"; filename=\"b.txt\"\r\n\r\nBB\r\n"
	    "--XyZ--\r\n";
	char out[64];
	enum ap_err rc;

	L.stream_form = true;
	L.max_stream = 1 << 24;
	B.chunk = 3;
	rc = post_mp(MP_CT, body, sizeof(body) - 1);
	ck_assert_int_eq(rc, AP_OK);
	ck_assert_ptr_null(ap_req_form(&R, "csrf"));
	ck_assert_str_eq(R.uploads[0].filename, "big.bin");
	ck_assert_int_gt(ap_req_part_read(&R, out, 4), 0);
	ck_assert_int_eq(ap_req_part_next(&R), 1);
	ck_assert_str_eq(R.uploads[0].filename, "b.txt");
	{
		size_t got = 0;
		ssize_t k;

		while ((k = ap_req_part_read(&R, out + got, sizeof(out) - got)) > 0)
			got += (size_t)k;
		ck_assert_int_eq(k, 0);
		ck_assert_uint_eq(got, 2);
		ck_assert_mem_eq(out, "BB", 2);
	}
	ck_assert_int_eq(ap_req_part_next(&R), 0);
	ck_assert_ptr_null(ap_req_form(&R, "csrf"));
	B.chunk = 0;
}
END_TEST

START_TEST(test_mp_stream_next_malformed)
{
	static const struct {
		const char *body, *why;
	} rows[] = {
		/* the second file cut off */
		{ "--XyZ\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a\"\r\n\r\nA\r\n"
		  "--XyZ\r\nContent-Disposition: form-data; name=\"files\"; filename=\"b\"\r\n\r\nBBB",
		    "missing closing multipart boundary" },
		/* a later file part without a name */
		{ "--XyZ\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a\"\r\n\r\nA\r\n"
		  "--XyZ\r\nContent-Disposition: form-data; filename=\"b\"\r\n\r\nB\r\n--XyZ--\r\n",
		    "multipart part without a name" },
		/* a later file name no file system should store */
		{ "--XyZ\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a\"\r\n\r\nA\r\n"
		  "--XyZ\r\nContent-Disposition: form-data; name=\"files\"; filename=\"x/..\"\r\n\r\nB\r\n--XyZ--\r\n",
		    "invalid file name" },
	};
	char out[64];

	for (size_t i = 0; i < AP_NELEM(rows); i++) {
		ck_assert_int_eq(stream_all(rows[i].body, strlen(rows[i].body), 2, 64, out, sizeof(out)), -1);
		ck_assert_str_eq(ap_req_part_error(&R), rows[i].why);
		ck_assert(ap_req_part_failed(&R));
		ck_assert_int_eq(ap_req_part_next(&R), -1);
	}
}
END_TEST

START_TEST(test_mp_stream_malformed_rows)
{
	static const struct {
		const char *body, *field, *why;
	} rows[] = {
		{ "no boundary here", "body", "multipart boundary not found" },
		{ "--XyZ\r\nContent-Disposition: form-data\r\n\r\nx\r\n--XyZ--", "body", "multipart part without a name" },
		{ "--XyZ\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nx\r\n--XyZ--", "body",
		    "malformed multipart part header" },
		{ "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"..\"\r\n\r\nx\r\n--XyZ--", "f",
		    "invalid file name" },
		{ "--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\na\0b\r\n--XyZ--", "csrf",
		    "'csrf' contains a NUL byte" },
	};
	char out[16];

	for (size_t i = 0; i < AP_NELEM(rows); i++) {
		enum ap_err rc;
		size_t len = strlen(rows[i].body);

		if (strstr(rows[i].why, "NUL") != NULL)
			len += 1 + strlen(rows[i].body + len + 1);
		stream_mp(rows[i].body, len, 3, 16, out, sizeof(out), &rc);
		ck_err(rc, 400, rows[i].field, rows[i].why);
	}
}
END_TEST

START_TEST(test_multipart_boundary_absent_from_body)
{
	ck_err(post_mp(MP_CT, "just some text", 14), 400, "body",
	    "multipart boundary not found");
	/* regression: a body starting "--XyZW" was taken for the opening boundary XyZ */
	/* A prefix of a longer line is not the boundary. */
	ck_err(post_mp(MP_CT, "--XyZ", 5), 400, "body",
	    "multipart boundary not found");
	ck_err(post_mp(MP_CT, "--XyZW\r\n", 8), 400, "body",
	    "multipart boundary not found");
}
END_TEST

START_TEST(test_multipart_part_without_name)
{
	static const char *const rows[] = {
		"--XyZ\r\nContent-Disposition: form-data\r\n\r\nv\r\n--XyZ--",
		"--XyZ\r\nContent-Disposition: form-data; name=\"\"\r\n\r\nv\r\n--XyZ--",
		"--XyZ\r\nContent-Type: text/plain\r\n\r\nv\r\n--XyZ--",
		"--XyZ\r\nContent-Disposition: form-data; filename=\"a\"\r\n\r\nv\r\n--XyZ--",
	};

	for (size_t i = 0; i < AP_NELEM(rows); i++)
		ck_err(post_mp(MP_CT, rows[i], strlen(rows[i])), 400, "body",
		    "multipart part without a name");
}
END_TEST

START_TEST(test_multipart_malformed_headers)
{
	static const char *const rows[] = {
		/* not form-data */
		"--XyZ\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nv\r\n--XyZ--",
		/* no colon */
		"--XyZ\r\nContent-Disposition form-data; name=\"a\"\r\n\r\nv\r\n--XyZ--",
		/* unterminated quote */
		"--XyZ\r\nContent-Disposition: form-data; name=\"a\r\n\r\nv\r\n--XyZ--",
	};

	ck_err(post_mp(MP_CT, rows[0], strlen(rows[0])), 400, "body",
	    "malformed multipart part header");
	ck_err(post_mp(MP_CT, rows[1], strlen(rows[1])), 400, "body",
	    "malformed multipart part header");
	ck_err(post_mp(MP_CT, rows[2], strlen(rows[2])), 400, "body",
	    "multipart part without a name");
}
END_TEST

START_TEST(test_multipart_lf_only_is_rejected)
{
	const char *body = "--XyZ\nContent-Disposition: form-data; name=\"a\"\n\nv\n--XyZ--\n";

	ck_err(post_mp(MP_CT, body, strlen(body)), 400, "body",
	    "multipart boundary not found");
	/* regression: a bare LF inside a part's header line was accepted as part of the header */
	body = "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\n\nv\r\n--XyZ--";
	ck_err(post_mp(MP_CT, body, strlen(body)), 400, "body",
	    "malformed multipart part header");
}
END_TEST

START_TEST(test_multipart_boundary_param_rules)
{
	const char *body = "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--B--";
	char ct[200], b70[71], *body70;

	ck_err(post_mp("multipart/form-data", body, strlen(body)), 400,
	    "content-type", "missing or invalid multipart boundary");
	ck_err(post_mp("multipart/form-data; boundary=", body, strlen(body)),
	    400, "content-type", "missing or invalid multipart boundary");
	ck_err(post_mp("multipart/form-data; boundary=\"B", body, strlen(body)),
	    400, "content-type", "missing or invalid multipart boundary");
	ck_err(post_mp("multipart/form-data; boundary=a{b}", body, strlen(body)),
	    400, "content-type", "missing or invalid multipart boundary");
	/* 70 characters is the RFC 2046 maximum; 71 is refused. */
	memset(b70, 'b', 70);
	b70[70] = '\0';
	body70 = ap_arena_printf(A, "--%s\r\nContent-Disposition: form-data; "
	    "name=\"a\"\r\n\r\nv\r\n--%s--", b70, b70);
	snprintf(ct, sizeof(ct), "multipart/form-data; boundary=%s", b70);
	ck_assert_int_eq(post_mp(ct, body70, strlen(body70)), AP_OK);
	ck_assert_str_eq(ap_req_form(&R, "a"), "v");
	snprintf(ct, sizeof(ct), "multipart/form-data; boundary=%sb", b70);
	ck_err(post_mp(ct, body70, strlen(body70)), 400, "content-type",
	    "missing or invalid multipart boundary");
}
END_TEST

START_TEST(test_multipart_preamble_and_epilogue_ignored)
{
	const char body[] =
	    "This is a preamble.\r\n--XyZ-not-it\r\n"
	    "\r\n--XyZ  \r\n"
	    "Content-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n"
	    "--XyZ--\r\nepilogue with --XyZ inside\r\n";

	/* regression: the preamble line "--XyZ-not-it" was taken for the first delimiter (400) */
	ck_assert_int_eq(post_mp(MP_CT, body, sizeof(body) - 1), AP_OK);
	ck_assert_uint_eq(R.nform, 1);
	ck_assert_str_eq(ap_req_form(&R, "a"), "1");
}
END_TEST

START_TEST(test_multipart_too_many_parts)
{
	struct ap_buf b = { 0 };

	for (int i = 0; i < 8; i++)
		ap_buf_printf(&b, "--XyZ\r\nContent-Disposition: form-data; "
		    "name=\"f%d\"\r\n\r\n%d\r\n", i, i);
	ap_buf_puts(&b, "--XyZ--\r\n");
	ck_assert_int_eq(post_mp(MP_CT, b.data, b.len), AP_OK);
	ck_assert_uint_eq(R.nform, 8);
	ap_buf_reset(&b);
	for (int i = 0; i < 9; i++)
		ap_buf_printf(&b, "--XyZ\r\nContent-Disposition: form-data; "
		    "name=\"f%d\"\r\n\r\n%d\r\n", i, i);
	ap_buf_puts(&b, "--XyZ--\r\n");
	ck_err(post_mp(MP_CT, b.data, b.len), 400, "body",
	    "too many parts (max 8)");
	ap_buf_free(&b);
}
END_TEST

START_TEST(test_multipart_text_field_checks)
{
	const char nul[] = "--XyZ\r\nContent-Disposition: form-data; name=\"t\"\r\n\r\na\0b\r\n--XyZ--";
	const char bad[] = "--XyZ\r\nContent-Disposition: form-data; name=\"t\"\r\n\r\na\xff\r\n--XyZ--";
	const char badname[] = "--XyZ\r\nContent-Disposition: form-data; name=\"\xff\"\r\n\r\nv\r\n--XyZ--";
	char *big;

	ck_err(post_mp(MP_CT, nul, sizeof(nul) - 1), 400, "t",
	    "'t' contains a NUL byte");
	ck_err(post_mp(MP_CT, bad, sizeof(bad) - 1), 400, "t",
	    "'t' is not valid UTF-8 text");
	ck_err(post_mp(MP_CT, badname, sizeof(badname) - 1), 400, "body",
	    "a field name is not valid UTF-8 text");
	big = ap_arena_printf(A, "--XyZ\r\nContent-Disposition: form-data; "
	    "name=\"t\"\r\n\r\n%065d\r\n--XyZ--", 0);
	ck_err(post_mp(MP_CT, big, strlen(big)), 400, "t",
	    "'t' is longer than 64 bytes");
}
END_TEST

START_TEST(test_multipart_header_block_bounded)
{
	struct ap_buf b = { 0 };

	L.max_upload = 20000;
	ap_buf_puts(&b, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\nX-Pad: ");
	for (int i = 0; i < 9000; i++)
		ap_buf_putc(&b, 'p');
	ap_buf_puts(&b, "\r\n\r\nv\r\n--XyZ--");
	ck_err(post_mp(MP_CT, b.data, b.len), 400, "body",
	    "multipart part headers too long");
	ap_buf_free(&b);
}
END_TEST

/* ---- JSON ----------------------------------------------------------- */

START_TEST(test_json_object_mirrored_into_form)
{
	const char *body = "{\"name\":\"w\xc3\xb6rld\",\"port\":8080,\"ratio\":1.5,"
	    "\"on\":true,\"off\":false,\"nothing\":null,\"list\":[1,2],"
	    "\"obj\":{\"x\":1},\"\":\"anon\"}";

	ck_assert_int_eq(post("application/json", body, strlen(body)), AP_OK);
	ck_assert_ptr_nonnull(R.json);
	ck_assert_str_eq(join_kv(R.form, R.nform),
	    "name=w\xc3\xb6rld|port=8080|ratio=1.5|on=true|off=false");
	ck_assert_ptr_null(ap_req_form(&R, "nothing"));
	ck_assert_ptr_null(ap_req_form(&R, "list"));
}
END_TEST

START_TEST(test_json_nested_values_kept)
{
	const char *body = "{\"site\":{\"domains\":[\"a.example\",\"b.example\"]}}";
	struct json_object *site, *domains;

	ck_assert_int_eq(post("application/json", body, strlen(body)), AP_OK);
	ck_assert(json_object_object_get_ex(R.json, "site", &site));
	ck_assert(json_object_object_get_ex(site, "domains", &domains));
	ck_assert_uint_eq(json_object_array_length(domains), 2);
	ck_assert_str_eq(json_object_get_string(
	    json_object_array_get_idx(domains, 1)), "b.example");
	ck_assert_uint_eq(R.nform, 0);
}
END_TEST

START_TEST(test_json_top_level_non_object)
{
	ck_assert_int_eq(post("application/json", "[1,2,3]", 7), AP_OK);
	ck_assert(json_object_is_type(R.json, json_type_array));
	ck_assert_uint_eq(R.nform, 0);
	ck_assert_int_eq(post("application/json", "42", 2), AP_OK);
	ck_assert_int_eq(json_object_get_int(R.json), 42);
}
END_TEST

static const struct {
	const char *body, *reason;
} json_err_rows[] = {
	{ "{", "invalid JSON: unexpected end of data" },
	{ "{\"a\":}", "invalid JSON: unexpected character" },
	{ "{\"a\":1}x", "invalid JSON: unexpected character" },
	{ "{\"a\":1}{}", "invalid JSON: unexpected character" },
	{ "{\"a\":1,}", "invalid JSON: unexpected character" },
	{ "tru", "invalid JSON: unexpected end of data" },
	{ "   ", "invalid JSON: unexpected end of data" },
	{ "{\"a\":\"\xff\"}", "invalid JSON: not valid UTF-8 text" },
	{ "{\"a\":\"\xed\xa0\x80\"}", "invalid JSON: not valid UTF-8 text" },
};

START_TEST(test_json_invalid_rows)
{
	const char *body = json_err_rows[_i].body;

	ck_err(post("application/json", body, strlen(body)), 400, "body",
	    json_err_rows[_i].reason);
	ck_assert_ptr_null(R.json);
}
END_TEST

START_TEST(test_json_trailing_whitespace_ok)
{
	const char *body = " {\"a\":\"b\"} \r\n\t";

	ck_assert_int_eq(post("application/json", body, strlen(body)), AP_OK);
	ck_assert_str_eq(ap_req_form(&R, "a"), "b");
}
END_TEST

START_TEST(test_json_raw_nul_rejected)
{
	ck_err(post("application/json", "{\"a\":1}\0", 8), 400, "body",
	    "invalid JSON: contains a NUL byte");
}
END_TEST

START_TEST(test_json_escaped_nul_in_member_rejected)
{
	const char *body = "{\"a\":\"x\\u0000y\"}";

	ck_err(post("application/json", body, strlen(body)), 400, "a",
	    "'a' contains a NUL byte");
}
END_TEST

START_TEST(test_json_depth_limit)
{
	char body[100];
	int n = 0;

	for (int i = 0; i < 32; i++)
		body[n++] = '[';
	for (int i = 0; i < 32; i++)
		body[n++] = ']';
	ck_assert_int_eq(post("application/json", body, (size_t)n), AP_OK);
	n = 0;
	for (int i = 0; i < 33; i++)
		body[n++] = '[';
	for (int i = 0; i < 33; i++)
		body[n++] = ']';
	ck_err(post("application/json", body, (size_t)n), 400, "body",
	    "invalid JSON: nesting too deep");
}
END_TEST

START_TEST(test_json_member_limits)
{
	const char *many = "{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,"
	    "\"g\":7,\"h\":8,\"i\":9}";
	char *longv = ap_arena_printf(A, "{\"v\":\"%065d\"}", 0);

	ck_err(post("application/json", many, strlen(many)), 400, "body",
	    "too many fields (max 8)");
	/* regression: a JSON body refused after parsing (too many fields) stayed in r->json, leaked */
	/* The parsed value is released on failure, not leaked or half-used. */
	ck_assert_ptr_null(R.json);
	ck_err(post("application/json", longv, strlen(longv)), 400, "v",
	    "'v' is longer than 64 bytes");
}
END_TEST

/* ap_req_limits.for_route: a route's own limits (the editor's save), asked only with a body. */
static int for_route_calls;

static void
raise_for_big(void *arg, const struct ap_req *r, struct ap_req_limits *lim)
{
	(void)arg;
	for_route_calls++;
	if (strcmp(r->path, "/big") == 0)
		lim->max_field_len = 1000;
}

START_TEST(test_for_route_raises_limits_per_path)
{
	char *body = ap_arena_printf(A, "v=%0100d", 0);

	L.for_route = raise_for_big;
	for_route_calls = 0;
	ck_assert_int_eq(parse_req("POST", "/big", "application/x-www-form-urlencoded", body, strlen(body), NULL),
	    AP_OK);
	ck_assert_uint_eq(R.form[0].len, 100);
	ck_err(parse_req("POST", "/small", "application/x-www-form-urlencoded", body, strlen(body), NULL), 400, "v",
	    "'v' is longer than 64 bytes");
	ck_assert_int_eq(for_route_calls, 2);
	ck_assert_int_eq(parse_req("GET", "/big?x=1", NULL, NULL, 0, NULL), AP_OK);
	ck_assert_int_eq(for_route_calls, 2); /* no body: not asked */
	L.for_route = NULL;
}
END_TEST

START_TEST(test_req_clear_twice)
{
	ck_assert_int_eq(post("application/json", "{\"a\":[1]}", 9), AP_OK);
	ck_assert_ptr_nonnull(R.json);
	ap_req_clear(&R);
	ck_assert_ptr_null(R.json);
	ap_req_clear(&R);
	ap_req_clear(NULL);
}
END_TEST

/* ---- fuzz corpus replay --------------------------------------------- */

START_TEST(test_fuzz_corpus_replays)
{
	const char *src = getenv("AAPANEL_SRCDIR");
	char dir[4096];
	DIR *d;
	struct dirent *de;
	int files = 0;

	snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/req", src ? src : ".");
	d = opendir(dir);
	ck_assert_msg(d != NULL, "cannot open %s", dir);
	while ((de = readdir(d)) != NULL) {
		char path[4096 + 260], buf[65536];
		FILE *f;
		size_t n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		f = fopen(path, "rb");
		ck_assert_ptr_nonnull(f);
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		ck_assert_int_eq(LLVMFuzzerTestOneInput((const uint8_t *)buf, n), 0);
		files++;
	}
	closedir(d);
	ck_assert_int_ge(files, 10);
}
END_TEST

static Suite *
req_suite(void)
{
	Suite *s = suite_create("req");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_method_names_roundtrip);
	tcase_add_loop_test(tc, test_url_decode_rows, 0, AP_NELEM(decode_rows));
	tcase_add_test(tc, test_url_decode_respects_length);
	tcase_add_test(tc, test_url_encode_rows);
	tcase_add_test(tc, test_url_encode_decode_roundtrip);
	tcase_add_loop_test(tc, test_urlencoded_rows, 0, AP_NELEM(form_rows));
	tcase_add_loop_test(tc, test_urlencoded_errors, 0, AP_NELEM(form_err_rows));
	tcase_add_test(tc, test_urlencoded_field_count_limit);
	tcase_add_test(tc, test_urlencoded_value_length_limit);
	tcase_add_test(tc, test_urlencoded_key_length_limit);
	tcase_add_test(tc, test_error_names_are_sanitised);
	tcase_add_test(tc, test_parse_basic_get);
	tcase_add_test(tc, test_missing_params_are_empty);
	tcase_add_test(tc, test_unknown_method_is_405);
	tcase_add_test(tc, test_missing_method_is_405);
	tcase_add_test(tc, test_lowercase_method_is_405);
	tcase_add_test(tc, test_header_too_long_names_it);
	tcase_add_test(tc, test_header_exactly_at_limit_passes);
	tcase_add_test(tc, test_long_request_uri_is_400);
	tcase_add_test(tc, test_header_line_break_is_400);
	tcase_add_loop_test(tc, test_path_rows, 0, AP_NELEM(path_rows));
	tcase_add_loop_test(tc, test_bad_path_rows, 0, AP_NELEM(bad_path_rows));
	tcase_add_test(tc, test_missing_request_uri_is_400);
	tcase_add_test(tc, test_query_from_uri_without_query_string_param);
	tcase_add_test(tc, test_query_errors_name_source_and_key);
	tcase_add_test(tc, test_query_too_many_fields);
	tcase_add_test(tc, test_lookup_first_match_wins);
	tcase_add_loop_test(tc, test_wants_json_rows, 0, AP_NELEM(json_rows));
	tcase_add_test(tc, test_cookies_basic);
	tcase_add_test(tc, test_cookies_malformed_pairs_skipped);
	tcase_add_test(tc, test_cookies_limit);
	tcase_add_test(tc, test_content_length_invalid);
	tcase_add_test(tc, test_post_body_without_length_is_411);
	tcase_add_test(tc, test_post_without_body_or_length_ok);
	tcase_add_test(tc, test_body_over_limit_is_413_before_reading);
	tcase_add_test(tc, test_body_exactly_at_limit_passes);
	tcase_add_test(tc, test_multipart_uses_upload_limit);
	tcase_add_test(tc, test_unsupported_content_type_is_415);
	tcase_add_test(tc, test_unsupported_type_with_empty_body_ok);
	tcase_add_test(tc, test_content_type_case_and_params);
	tcase_add_test(tc, test_short_body_is_400);
	tcase_add_test(tc, test_read_error_is_400);
	tcase_add_test(tc, test_body_read_in_small_chunks);
	tcase_add_test(tc, test_form_body);
	tcase_add_test(tc, test_form_body_errors_name_body);
	tcase_add_test(tc, test_error_status_maps_to_code);
	tcase_add_test(tc, test_multipart_text_fields);
	tcase_add_test(tc, test_multipart_binary_upload);
	tcase_add_test(tc, test_multipart_quoted_boundary);
	tcase_add_test(tc, test_multipart_filename_directories_stripped);
	tcase_add_test(tc, test_multipart_bad_filenames);
	tcase_add_test(tc, test_multipart_missing_end_boundary);
	tcase_add_test(tc, test_mp_stream_csrf_first_then_file);
	tcase_add_test(tc, test_mp_stream_large_file_flat_buffer);
	tcase_add_test(tc, test_mp_stream_csrf_not_first);
	tcase_add_test(tc, test_mp_stream_missing_final_boundary);
	tcase_add_test(tc, test_mp_stream_long_headers_and_fields);
	tcase_add_test(tc, test_mp_stream_malformed_rows);
	tcase_add_test(tc, test_mp_stream_several_files);
	tcase_add_test(tc, test_mp_stream_next_skips_unread);
	tcase_add_test(tc, test_mp_stream_next_malformed);
	tcase_add_test(tc, test_multipart_boundary_absent_from_body);
	tcase_add_test(tc, test_multipart_part_without_name);
	tcase_add_test(tc, test_multipart_malformed_headers);
	tcase_add_test(tc, test_multipart_lf_only_is_rejected);
	tcase_add_test(tc, test_multipart_boundary_param_rules);
	tcase_add_test(tc, test_multipart_preamble_and_epilogue_ignored);
	tcase_add_test(tc, test_multipart_too_many_parts);
	tcase_add_test(tc, test_multipart_text_field_checks);
	tcase_add_test(tc, test_multipart_header_block_bounded);
	tcase_add_test(tc, test_json_object_mirrored_into_form);
	tcase_add_test(tc, test_json_nested_values_kept);
	tcase_add_test(tc, test_json_top_level_non_object);
	tcase_add_loop_test(tc, test_json_invalid_rows, 0, AP_NELEM(json_err_rows));
	tcase_add_test(tc, test_json_trailing_whitespace_ok);
	tcase_add_test(tc, test_json_raw_nul_rejected);
	tcase_add_test(tc, test_json_escaped_nul_in_member_rejected);
	tcase_add_test(tc, test_json_depth_limit);
	tcase_add_test(tc, test_json_member_limits);
	tcase_add_test(tc, test_req_clear_twice);
	tcase_add_test(tc, test_for_route_raises_limits_per_path);
	tcase_add_test(tc, test_fuzz_corpus_replays);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(req_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
