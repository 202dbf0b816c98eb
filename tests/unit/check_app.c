/*
 * check_app.c — the response layer end to end without FastCGI: requests go
 * through ap_app_serve with the real route table, templates and catalogs.
 */
#include <sys/stat.h>

#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aapanel/app.h"
#include "aapanel/dbconn.h"

static const char *srcdir;
static char tmpdir[64];
static struct ap_config *cfg;
static struct ap_app app;
static struct ap_arena *arena;
static struct ap_buf out;

struct body {
	const char *p;
	size_t n;
};

static ssize_t
rd(void *ctx, void *buf, size_t n)
{
	struct body *b = ctx;
	size_t k = b->n < n ? b->n : n;

	memcpy(buf, b->p, k);
	b->p += k;
	b->n -= k;
	return (ssize_t)k;
}

static void
wr(void *ctx, const void *buf, size_t n)
{
	ap_buf_append(ctx, buf, n);
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* Load the shipped base config with a test overlay (extra appended). */
static struct ap_config *
load_cfg(const char *extra)
{
	struct ap_config_problems probs = { 0 };
	struct ap_config_opts o = { 0 };
	struct ap_config *c = NULL;
	char path[256], cmd[512], text[1024];

	snprintf(path, sizeof(path), "%s/conf/profiles", tmpdir);
	snprintf(cmd, sizeof(cmd), "%s/conf", tmpdir);
	mkdir(cmd, 0700);
	mkdir(path, 0700);
	snprintf(cmd, sizeof(cmd), "%s/conf/aapanel.cfg", srcdir);
	{
		FILE *in = fopen(cmd, "r"), *o2;
		char buf[4096];
		size_t n;

		ck_assert_ptr_nonnull(in);
		snprintf(path, sizeof(path), "%s/conf/aapanel.cfg", tmpdir);
		o2 = fopen(path, "w");
		while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
			fwrite(buf, 1, n, o2);
		fclose(in);
		fclose(o2);
	}
	snprintf(text, sizeof(text),
	    "paths = { var_dir = \"%s/var\"; run_dir = \"%s/var/run\"; log_dir = \"%s/var/log\"; };\n"
	    "db = { dsn = \"sqlite:///%s/var/test.db\"; };\n%s\n",
	    tmpdir, tmpdir, tmpdir, tmpdir, extra ? extra : "");
	snprintf(path, sizeof(path), "%s/conf/profiles/test.cfg", tmpdir);
	write_file(path, text);
	snprintf(path, sizeof(path), "%s/conf/aapanel.cfg", tmpdir);
	o.root_dir = srcdir;
	o.config_file = path;
	o.profile = AP_PROFILE_TEST;
	o.generate_secret = true;
	if (ap_config_load(&o, &c, &probs) != AP_OK) {
		for (size_t i = 0; i < probs.n; i++) {
			char *s = ap_config_problem_str(&probs.v[i]);
			fprintf(stderr, "%s\n", s);
			free(s);
		}
		ap_config_problems_free(&probs);
		ck_abort_msg("test configuration did not load");
	}
	return c;
}

static void
setup_with(const char *extra)
{
	char err[512] = "";

	srcdir = getenv("AAPANEL_SRCDIR") ? getenv("AAPANEL_SRCDIR") : ".";
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ap-app-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	cfg = load_cfg(extra);
	ck_assert_msg(ap_dbconn_startup(cfg), "migrations failed");
	ck_assert_msg(ap_app_init(&app, cfg, err, sizeof(err)) == AP_OK, "%s", err);
	arena = ap_arena_new();
	memset(&out, 0, sizeof(out));
}

static void
setup(void)
{
	setup_with(NULL);
}

static void
setup_base(void)
{
	setup_with("panel = { base_path = \"/x7Kp2\"; };");
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
teardown(void)
{
	ap_buf_free(&out);
	ap_arena_free(arena);
	ap_app_fini(&app);
	ap_config_free(cfg);
	nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Serve one request; envp entries beyond method/uri are NULL-terminated varargs. */
static const char *
serve(const char *method, const char *uri, const char *body, const char *const *extra)
{
	char *env[32];
	char m[64], u[512], q[512], cl[64];
	struct body b = { body ? body : "", body ? strlen(body) : 0 };
	const char *qs = strchr(uri, '?');
	int n = 0;

	snprintf(m, sizeof(m), "REQUEST_METHOD=%s", method);
	snprintf(u, sizeof(u), "REQUEST_URI=%s", uri);
	snprintf(q, sizeof(q), "QUERY_STRING=%s", qs ? qs + 1 : "");
	snprintf(cl, sizeof(cl), "CONTENT_LENGTH=%zu", b.n);
	env[n++] = m;
	env[n++] = u;
	env[n++] = q;
	env[n++] = (char *)"REMOTE_ADDR=127.0.0.1";
	env[n++] = (char *)"HTTP_HOST=panel.test";
	if (body)
		env[n++] = cl;
	for (; extra && *extra && n < 30; extra++)
		env[n++] = (char *)*extra;
	env[n] = NULL;
	ap_buf_reset(&out);
	ap_arena_reset(arena);
	ap_app_serve(&app, arena, env, rd, &b, wr, &out);
	return ap_buf_cstr(&out);
}

static int
status_of(const char *resp)
{
	int s = 0;

	ck_assert_int_eq(sscanf(resp, "Status: %d", &s), 1);
	return s;
}

static const char *
body_of(const char *resp)
{
	const char *p = strstr(resp, "\r\n\r\n");

	ck_assert_ptr_nonnull(p);
	return p + 4;
}

START_TEST(test_home_renders_english_layout)
{
	const char *r = serve("GET", "/", NULL, NULL);

	ck_assert_int_eq(status_of(r), 200);
	ck_assert_ptr_nonnull(strstr(r, "Content-Type: text/html; charset=utf-8\r\n"));
	ck_assert_ptr_nonnull(strstr(r, "<html lang=\"en\" dir=\"ltr\""));
	ck_assert_ptr_nonnull(strstr(r, "X-Request-Id: "));
}
END_TEST

START_TEST(test_arabic_from_accept_language)
{
	static const char *const h[] = { "HTTP_ACCEPT_LANGUAGE=ar-SA,ar;q=0.9,en;q=0.1", NULL };
	const char *r = serve("GET", "/", NULL, h);

	ck_assert_ptr_nonnull(strstr(r, "<html lang=\"ar\" dir=\"rtl\""));
}
END_TEST

START_TEST(test_cookie_beats_accept_language)
{
	static const char *const h[] = { "HTTP_ACCEPT_LANGUAGE=ar", "HTTP_COOKIE=lang=en", NULL };
	const char *r = serve("GET", "/", NULL, h);

	ck_assert_ptr_nonnull(strstr(r, "dir=\"ltr\""));
}
END_TEST

START_TEST(test_unknown_cookie_language_ignored)
{
	static const char *const h[] = { "HTTP_COOKIE=lang=xx\"><script>", NULL };
	const char *r = serve("GET", "/", NULL, h);

	ck_assert_int_eq(status_of(r), 200);
	ck_assert_ptr_nonnull(strstr(r, "lang=\"en\""));
	ck_assert_ptr_null(strstr(r, "<script>"));
}
END_TEST

START_TEST(test_json_representation)
{
	static const char *const h[] = { "HTTP_ACCEPT=application/json", NULL };
	const char *r = serve("GET", "/", NULL, h);
	struct json_object *j = json_tokener_parse(body_of(r)), *host = NULL;

	ck_assert_ptr_nonnull(strstr(r, "Content-Type: application/json\r\n"));
	ck_assert_ptr_nonnull(j);
	ck_assert(json_object_object_get_ex(j, "host", &host));
	ck_assert(!json_object_object_get_ex(j, "langs", NULL)); /* layout fields are HTML only */
	json_object_put(j);
}
END_TEST

START_TEST(test_healthz_fields)
{
	const char *r = serve("GET", "/healthz", NULL, NULL);
	struct json_object *j = json_tokener_parse(body_of(r)), *v = NULL;
	static const char *const keys[] = { "status", "version", "profile", "uptime_s", "workers", "db" };

	ck_assert_int_eq(status_of(r), 200);
	ck_assert_ptr_nonnull(j);
	for (size_t i = 0; i < AP_NELEM(keys); i++)
		ck_assert_msg(json_object_object_get_ex(j, keys[i], &v), "missing %s", keys[i]);
	json_object_object_get_ex(j, "profile", &v);
	ck_assert_str_eq(json_object_get_string(v), "test");
	json_object_object_get_ex(j, "db", &v);
	ck_assert_str_eq(json_object_get_string(v), "ok");
	json_object_put(j);
}
END_TEST

static const struct {
	const char *method, *uri, *ctype, *body;
	int status;
	const char *field;
} error_rows[] = {
	{ "GET", "/nope", NULL, NULL, 404, NULL },
	{ "DELETE", "/", NULL, NULL, 405, NULL },
	{ "BREW", "/", NULL, NULL, 405, "method" },
	{ "GET", "/_test/sleep?ms=abc", NULL, NULL, 400, "ms" },
	{ "GET", "/_test/sleep?ms=700000", NULL, NULL, 400, "ms" },
	{ "GET", "/_test/sleep", NULL, NULL, 400, "ms" },
	{ "POST", "/lang", "application/x-www-form-urlencoded", "lang=de", 400, "lang" },
	{ "POST", "/lang", "application/x-www-form-urlencoded", "lang=%G1", 400, NULL },
	{ "POST", "/lang", "text/plain", "lang=ar", 415, NULL },
	{ "POST", "/lang", "application/json", "[1,", 400, "body" },
	{ "GET", "/%2e%2e/etc/passwd", NULL, NULL, 400, NULL },
	{ "GET", "/?a=%00", NULL, NULL, 400, NULL },
};

START_TEST(test_error_table_json)
{
	const char *h[] = { "HTTP_ACCEPT=application/json", NULL, NULL };
	char ct[128];
	const char *r;
	struct json_object *j, *e = NULL, *v = NULL;

	if (error_rows[_i].ctype) {
		snprintf(ct, sizeof(ct), "CONTENT_TYPE=%s", error_rows[_i].ctype);
		h[1] = ct;
	}
	r = serve(error_rows[_i].method, error_rows[_i].uri, error_rows[_i].body, h);
	ck_assert_msg(status_of(r) == error_rows[_i].status, "row %d: got %d", _i, status_of(r));
	j = json_tokener_parse(body_of(r));
	ck_assert_ptr_nonnull(j);
	ck_assert(json_object_object_get_ex(j, "error", &e));
	ck_assert(json_object_object_get_ex(e, "status", &v));
	ck_assert_int_eq(json_object_get_int(v), error_rows[_i].status);
	ck_assert(json_object_object_get_ex(j, "request_id", NULL));
	if (error_rows[_i].field) {
		ck_assert(json_object_object_get_ex(e, "field", &v));
		ck_assert_str_eq(json_object_get_string(v), error_rows[_i].field);
	}
	json_object_put(j);
}
END_TEST

START_TEST(test_error_pages_html)
{
	const char *r = serve("GET", "/nope", NULL, NULL);

	ck_assert_int_eq(status_of(r), 404);
	ck_assert_ptr_nonnull(strstr(r, "text/html"));
	ck_assert_ptr_nonnull(strstr(r, "dir=\"ltr\""));
	ck_assert_ptr_nonnull(strstr(body_of(r), "404"));
}
END_TEST

START_TEST(test_405_has_allow)
{
	const char *r = serve("PUT", "/lang", NULL, NULL);

	ck_assert_int_eq(status_of(r), 405);
	ck_assert_ptr_nonnull(strstr(r, "\r\nAllow: POST\r\n"));
}
END_TEST

/* Every route × every method: a method the route lacks is 405, never a handler call. */
START_TEST(test_route_table_methods)
{
	for (size_t i = 0; i < ap_nroutes; i++) {
		const struct ap_route *rt = &ap_routes[i];

		if (strchr(rt->pattern, '{'))
			continue;
		for (int m = 0; m < AP_METHOD__MAX; m++) {
			unsigned mask = rt->methods | ((rt->methods & AP_M_GET) ? AP_M_HEAD : 0);
			const char *r;

			if (mask & AP_M(m))
				continue;
			r = serve(ap_method_name((enum ap_method)m), rt->pattern, NULL, NULL);
			ck_assert_msg(status_of(r) == 405, "%s %s answered %d",
			    ap_method_name((enum ap_method)m), rt->pattern, status_of(r));
		}
	}
}
END_TEST

START_TEST(test_every_route_declares_permission_or_public)
{
	char err[256] = "";

	for (size_t i = 0; i < ap_nroutes; i++)
		ck_assert_msg(ap_routes[i].perm != NULL || (ap_routes[i].flags & AP_ROUTE_PUBLIC),
		    "route %s has no permission", ap_routes[i].pattern);
	ck_assert_int_eq(ap_route_table_check(ap_routes, ap_nroutes, err, sizeof(err)), AP_OK);
}
END_TEST

START_TEST(test_head_has_no_body)
{
	const char *r = serve("HEAD", "/", NULL, NULL);
	int len = 0;
	const char *cl = strstr(r, "Content-Length: ");

	ck_assert_int_eq(status_of(r), 200);
	ck_assert_ptr_nonnull(cl);
	sscanf(cl, "Content-Length: %d", &len);
	ck_assert_int_gt(len, 500);
	ck_assert_str_eq(body_of(r), "");
}
END_TEST

START_TEST(test_request_id_from_nginx_or_random)
{
	static const char *const good[] = { "REQUEST_ID=0123456789abcdef0123456789abcdef", NULL };
	static const char *const bad[] = { "REQUEST_ID=../../x\r\nSet-Cookie: a=b", NULL };
	const char *r = serve("GET", "/healthz", NULL, good);

	ck_assert_ptr_nonnull(strstr(r, "X-Request-Id: 0123456789abcdef0123456789abcdef\r\n"));
	r = serve("GET", "/healthz", NULL, bad);
	ck_assert_ptr_null(strstr(r, "Set-Cookie: a=b"));
	ck_assert_ptr_nonnull(strstr(r, "X-Request-Id: "));
}
END_TEST

START_TEST(test_security_headers_everywhere)
{
	static const char *const uris[] = { "/", "/healthz", "/nope" };

	for (size_t i = 0; i < AP_NELEM(uris); i++) {
		const char *r = serve("GET", uris[i], NULL, NULL);

		ck_assert_ptr_nonnull(strstr(r, "Content-Security-Policy: default-src 'self'"));
		ck_assert_ptr_nonnull(strstr(r, "frame-ancestors 'none'"));
		ck_assert_ptr_null(strstr(r, "unsafe-inline"));
		ck_assert_ptr_nonnull(strstr(r, "X-Content-Type-Options: nosniff\r\n"));
		ck_assert_ptr_nonnull(strstr(r, "Referrer-Policy: "));
	}
}
END_TEST

START_TEST(test_lang_post_sets_cookie_and_redirects_locally)
{
	static const char *const h[] = { "CONTENT_TYPE=application/x-www-form-urlencoded",
		"HTTP_REFERER=http://evil.example/phish", NULL };
	const char *r = serve("POST", "/lang", "lang=ar", h);

	ck_assert_int_eq(status_of(r), 303);
	ck_assert_ptr_nonnull(strstr(r, "Set-Cookie: lang=ar; Path=/;"));
	ck_assert_ptr_nonnull(strstr(r, "\r\nLocation: /\r\n"));
}
END_TEST

START_TEST(test_lang_post_returns_to_same_host_page)
{
	static const char *const h[] = { "CONTENT_TYPE=application/x-www-form-urlencoded",
		"HTTP_REFERER=http://panel.test/healthz", NULL };
	const char *r = serve("POST", "/lang", "lang=en", h);

	ck_assert_ptr_nonnull(strstr(r, "\r\nLocation: /healthz\r\n"));
}
END_TEST

START_TEST(test_test_route_absent_outside_test_profile)
{
	cfg->profile = AP_PROFILE_DEVELOPMENT;
	ck_assert_int_eq(status_of(serve("GET", "/_test/sleep?ms=1", NULL, NULL)), 404);
	cfg->profile = AP_PROFILE_TEST;
	ck_assert_int_eq(status_of(serve("GET", "/_test/sleep?ms=1", NULL, NULL)), 200);
}
END_TEST

START_TEST(test_ctx_header_refuses_crlf)
{
	struct ap_ctx ctx;

	memset(&ctx, 0, sizeof(ctx));
	ctx.app = &app;
	ck_assert(!ap_ctx_header(&ctx, "X-A", "b\r\nSet-Cookie: x=y"));
	ck_assert(!ap_ctx_header(&ctx, "X-A\n", "b"));
	ck_assert(ap_ctx_header(&ctx, "X-A", "b"));
	ck_assert_str_eq(ap_buf_cstr(&ctx.headers), "X-A: b\r\n");
	ap_buf_free(&ctx.headers);
}
END_TEST

static const struct {
	const char *in, *out;
} redirect_rows[] = {
	{ "/sites", "/sites" },
	{ "//evil.example/", "/" },
	{ "/\\evil.example", "/" },
	{ "https://evil.example/", "/" },
	{ "/a\r\nX: y", "/" },
	{ NULL, "/" },
};

START_TEST(test_redirects_stay_local)
{
	struct ap_ctx ctx;

	memset(&ctx, 0, sizeof(ctx));
	ck_assert_int_eq(ap_ctx_redirect(&ctx, 0, redirect_rows[_i].in), 303);
	ck_assert_str_eq(ctx.location, redirect_rows[_i].out);
}
END_TEST

START_TEST(test_base_path_security_entrance)
{
	const char *r = serve("GET", "/", NULL, NULL);

	ck_assert_int_eq(status_of(r), 404);
	ck_assert_str_eq(body_of(r), "Not Found\n"); /* reveals nothing */
	ck_assert_int_eq(status_of(serve("GET", "/x7Kp2", NULL, NULL)), 200);
	r = serve("GET", "/x7Kp2/", NULL, NULL);
	ck_assert_int_eq(status_of(r), 200);
	ck_assert_ptr_nonnull(strstr(r, "href=\"/x7Kp2/static/css/app.css\""));
	ck_assert_int_eq(status_of(serve("GET", "/x7Kp2x/", NULL, NULL)), 404);
	ck_assert_str_eq(body_of(serve("GET", "/nope", NULL, NULL)), "Not Found\n");
	ck_assert_int_eq(status_of(serve("GET", "/healthz", NULL, NULL)), 200);
}
END_TEST

START_TEST(test_init_fails_on_template_error_with_file_line)
{
	struct ap_app a2;
	char dir[128], path[256], err[512] = "";
	char *saved = cfg->templates_dir;

	snprintf(dir, sizeof(dir), "%s/badtpl", tmpdir);
	mkdir(dir, 0700);
	snprintf(path, sizeof(path), "%s/error.html", dir);
	write_file(path, "ok\n{{#open}}\nnever closed\n");
	cfg->templates_dir = dir;
	ck_assert_int_ne(ap_app_init(&a2, cfg, err, sizeof(err)), AP_OK);
	cfg->templates_dir = saved;
	ck_assert_msg(strstr(err, "error.html:2") != NULL, "error was: %s", err);
}
END_TEST

START_TEST(test_init_fails_when_route_template_missing)
{
	struct ap_app a2;
	char dir[128], path[256], err[512] = "";
	char *saved = cfg->templates_dir;

	snprintf(dir, sizeof(dir), "%s/onlyerror", tmpdir);
	mkdir(dir, 0700);
	snprintf(path, sizeof(path), "%s/error.html", dir);
	write_file(path, "{{error.title}}\n");
	cfg->templates_dir = dir;
	ck_assert_int_ne(ap_app_init(&a2, cfg, err, sizeof(err)), AP_OK);
	cfg->templates_dir = saved;
	ck_assert_msg(strstr(err, "home.html") != NULL, "error was: %s", err);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("app");

	TCase *tc = tcase_create("serve"), *tb = tcase_create("base_path");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_home_renders_english_layout);
	tcase_add_test(tc, test_arabic_from_accept_language);
	tcase_add_test(tc, test_cookie_beats_accept_language);
	tcase_add_test(tc, test_unknown_cookie_language_ignored);
	tcase_add_test(tc, test_json_representation);
	tcase_add_test(tc, test_healthz_fields);
	tcase_add_loop_test(tc, test_error_table_json, 0, (int)AP_NELEM(error_rows));
	tcase_add_test(tc, test_error_pages_html);
	tcase_add_test(tc, test_405_has_allow);
	tcase_add_test(tc, test_route_table_methods);
	tcase_add_test(tc, test_every_route_declares_permission_or_public);
	tcase_add_test(tc, test_head_has_no_body);
	tcase_add_test(tc, test_request_id_from_nginx_or_random);
	tcase_add_test(tc, test_security_headers_everywhere);
	tcase_add_test(tc, test_lang_post_sets_cookie_and_redirects_locally);
	tcase_add_test(tc, test_lang_post_returns_to_same_host_page);
	tcase_add_test(tc, test_test_route_absent_outside_test_profile);
	tcase_add_test(tc, test_ctx_header_refuses_crlf);
	tcase_add_loop_test(tc, test_redirects_stay_local, 0, (int)AP_NELEM(redirect_rows));
	tcase_add_test(tc, test_init_fails_on_template_error_with_file_line);
	tcase_add_test(tc, test_init_fails_when_route_template_missing);
	tcase_add_checked_fixture(tb, setup_base, teardown);
	tcase_add_test(tb, test_base_path_security_entrance);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, tb);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
