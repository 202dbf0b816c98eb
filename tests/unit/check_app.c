/*
 * check_app.c — the response layer end to end without FastCGI: requests go
 * through ap_app_serve with the real route table, templates and catalogs.
 */
#include <sys/stat.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aapanel/app.h"
#include "aapanel/auth.h"
#include "aapanel/dbconn.h"
#include "aapanel/gate.h"
#include "aapanel/pages.h"
#include "aapanel/users.h"

static const char *srcdir;
static char tmpdir[64];
static struct ap_config *cfg;
static struct ap_app app;
static struct ap_arena *arena;
static struct ap_buf out;
/* Session cookies of one user per role, made in setup; auto_cookie is sent by serve(). */
static char cookie_admin[80], cookie_operator[80], cookie_viewer[80];
static char csrf_admin[80], csrf_operator[80], csrf_viewer[80];
static const char *auto_cookie;

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

/*
 * The users and sessions every test starts with are made once, in a template
 * var/ (migrated database, its secret key), and each test's setup copies it:
 * three password hashes per test made check_app the longest unit suite.
 */
static char template_dir[64];

static void
copy_file(const char *from, const char *to, mode_t mode)
{
	char buf[65536];
	ssize_t n;
	int in = open(from, O_RDONLY | O_CLOEXEC), o;

	ck_assert_msg(in >= 0, "%s: %s", from, strerror(errno));
	o = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 07777);
	ck_assert_msg(o >= 0, "%s: %s", to, strerror(errno));
	while ((n = read(in, buf, sizeof(buf))) > 0)
		ck_assert_int_eq(write(o, buf, (size_t)n), n);
	ck_assert_int_eq(n, 0);
	close(in);
	close(o);
}

/* Copy the tree from (files and directories) into to, which must not exist. */
static void
copy_tree(const char *from, const char *to)
{
	DIR *d = opendir(from);
	struct dirent *e;
	struct stat st;

	ck_assert_msg(d != NULL, "%s: %s", from, strerror(errno));
	ck_assert_int_eq(stat(from, &st), 0);
	ck_assert_int_eq(mkdir(to, st.st_mode & 07777), 0);
	while ((e = readdir(d)) != NULL) {
		char a[512], b[512];

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(a, sizeof(a), "%s/%s", from, e->d_name);
		snprintf(b, sizeof(b), "%s/%s", to, e->d_name);
		ck_assert_int_eq(lstat(a, &st), 0);
		if (S_ISDIR(st.st_mode))
			copy_tree(a, b);
		else if (S_ISREG(st.st_mode))
			copy_file(a, b, st.st_mode);
	}
	closedir(d);
}

/* The template (an unchecked fixture: it runs in the process that forks the
 * tests): migrations, a user per role and a session of each (cookies and
 * CSRF tokens kept in the globals, which every test inherits). */
static void
make_template(void)
{
	static const char *const roles[] = { "admin", "operator", "viewer" };
	char *cookies[] = { cookie_admin, cookie_operator, cookie_viewer };
	char *csrfs[] = { csrf_admin, csrf_operator, csrf_viewer };
	struct ap_db *db = NULL;

	srcdir = getenv("AAPANEL_SRCDIR") ? getenv("AAPANEL_SRCDIR") : ".";
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ap-app-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(template_dir, sizeof(template_dir), "%s", tmpdir);
	cfg = load_cfg("panel = { origins = \"http://panel.test\"; };");
	ck_assert_msg(ap_dbconn_startup(cfg), "migrations failed");
	ck_assert_int_eq(ap_dbconn_open(cfg, &db), AP_DB_OK);
	for (int i = 0; i < 3; i++) {
		struct ap_session sess;
		char c[AP_SESSION_ID_HEX + 1], name[32];
		struct ap_problem pb = { 0 };
		int64_t id = 0;

		snprintf(name, sizeof(name), "%s1", roles[i]);
		ck_assert_msg(ap_user_create(db, cfg, name, roles[i], "a long enough passphrase", &id, &pb) == AP_DB_OK,
		    "%s %s", pb.reason, ap_db_errmsg(db));
		ck_assert_int_eq(ap_session_create(db, cfg, id, false, "127.0.0.1", "check", c, &sess), AP_DB_OK);
		snprintf(cookies[i], 80, "aapanel=%s", c);
		snprintf(csrfs[i], 80, "%s", sess.csrf);
	}
	ap_db_close(db); /* the last connection: the WAL is checkpointed into the file */
	ap_config_free(cfg);
	cfg = NULL;
}

static void
setup_with(const char *extra)
{
	char err[512] = "", from[128], to[128];

	srcdir = getenv("AAPANEL_SRCDIR") ? getenv("AAPANEL_SRCDIR") : ".";
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ap-app-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(from, sizeof(from), "%s/var", template_dir);
	snprintf(to, sizeof(to), "%s/var", tmpdir);
	copy_tree(from, to);
	cfg = load_cfg(extra);
	ck_assert_msg(ap_dbconn_startup(cfg), "migrations failed");
	ck_assert_msg(ap_app_init(&app, cfg, ap_routes, ap_nroutes, err, sizeof(err)) == AP_OK, "%s", err);
	arena = ap_arena_new();
	memset(&out, 0, sizeof(out));
	auto_cookie = cookie_admin;
}

static void
setup(void)
{
	setup_with("panel = { origins = \"http://panel.test\"; };");
}

static void
setup_base(void)
{
	setup_with("panel = { base_path = \"/x7Kp2\"; origins = \"http://panel.test\"; };");
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
remove_template(void)
{
	nftw(template_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
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
	{
		static char merged[1024];
		bool had_cookie = false;

		for (; extra && *extra && n < 30; extra++) {
			if (auto_cookie && strncmp(*extra, "HTTP_COOKIE=", 12) == 0) {
				snprintf(merged, sizeof(merged), "%s; %s", *extra, auto_cookie);
				env[n++] = merged;
				had_cookie = true;
			} else
				env[n++] = (char *)*extra;
		}
		if (auto_cookie && !had_cookie) {
			snprintf(merged, sizeof(merged), "HTTP_COOKIE=%s", auto_cookie);
			env[n++] = merged;
		}
	}
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
	auto_cookie = NULL;
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
	/* The error document is {"error": {...}} and nothing else; its request id inside. */
	ck_assert(json_object_object_get_ex(e, "request_id", &v));
	ck_assert_int_ge(json_object_get_string_len(v), 16);
	ck_assert_int_eq(json_object_object_length(j), 1);
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
		unsigned all = 0;

		for (size_t k = 0; k < ap_nroutes; k++)
			if (strcmp(ap_routes[k].pattern, rt->pattern) == 0)
				all |= ap_routes[k].methods;
		if (all & AP_M_GET)
			all |= AP_M_HEAD;
		for (int m = 0; m < AP_METHOD__MAX; m++) {
			const char *r;

			if (all & AP_M(m))
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

/* Regression (gcc -fanalyzer): a permission without ".action" in an area an
 * operator may write crashed ap_role_allows (strcmp on strchr's NULL). */
START_TEST(test_role_allows_permission_without_dot)
{
	ck_assert(!ap_role_allows("operator", "sites"));
	ck_assert(!ap_role_allows("viewer", "sites"));
	ck_assert(ap_role_allows("admin", "sites"));
	ck_assert(ap_role_allows("operator", "sites.write"));
	ck_assert(!ap_role_allows("viewer", "sites.write"));
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
	auto_cookie = NULL;
	static const char *const h[] = { "CONTENT_TYPE=application/x-www-form-urlencoded",
		"HTTP_REFERER=http://evil.example/phish", NULL };
	const char *r = serve("POST", "/lang", "lang=ar", h);

	ck_assert_int_eq(status_of(r), 303);
	ck_assert_ptr_nonnull(strstr(r, "Set-Cookie: lang=ar; Path=/;"));
	ck_assert_ptr_nonnull(strstr(r, "\r\nLocation: /\r\n"));
}
END_TEST

START_TEST(test_refused_post_of_a_signed_in_user_renders)
{
	/* regression: a signed-in POST refused by the gate (no CSRF token on the
	 * public /lang) crashed the worker while rendering the error page */
	static const char *const h[] = { "CONTENT_TYPE=application/x-www-form-urlencoded",
		"HTTP_ORIGIN=http://panel.test", NULL };
	const char *r = serve("POST", "/lang", "lang=ar", h);

	ck_assert_int_eq(status_of(r), 403);
	ck_assert_ptr_nonnull(strstr(r, "class=\"sidebar\""));
}
END_TEST

START_TEST(test_field_refused_before_the_database_stage)
{
	/* regression: a field refused by its validator rebuilt the form page
	 * before the database was opened: the worker crashed (ctx->db NULL) */
	static char body[2048], hdr[128];
	static const char *h[] = { "CONTENT_TYPE=application/x-www-form-urlencoded",
		"HTTP_ORIGIN=http://panel.test", hdr, NULL };
	const char *r;
	size_t n;

	snprintf(hdr, sizeof(hdr), "HTTP_X_CSRF_TOKEN=%s", csrf_admin);
	n = (size_t)snprintf(body, sizeof(body), "password=long+enough+pass&confirm=long+enough+pass&current=");
	memset(body + n, 'x', 1100);
	body[n + 1100] = '\0';
	r = serve("POST", "/account/password", body, h);
	ck_assert_int_eq(status_of(r), 400);
	ck_assert_ptr_nonnull(strstr(r, "id=\"f-current-error\""));
}
END_TEST

/*
 * The arguments of a translated reason are marked apart from the sentence
 * (a code in <code>, a name in <bdi>), so a right-to-left page does not run
 * them into its words: the 403 page names the permission, the confirmation
 * page and the message after it the user. regression: they were plain text
 * inside the Arabic sentence
 */
START_TEST(test_reason_arguments_are_marked_apart)
{
	static char hdr[128], path[64];
	static const char *const get[] = { "HTTP_COOKIE=lang=ar", NULL };
	static const char *post[] = { "CONTENT_TYPE=application/x-www-form-urlencoded",
		"HTTP_ORIGIN=http://panel.test", "HTTP_COOKIE=lang=ar", hdr, NULL };
	static char flash[512];
	static const char *const again[] = { flash, NULL };
	struct ap_db *db = NULL;
	struct ap_user_row row;
	const char *r, *p;

	auto_cookie = cookie_viewer;
	r = serve("GET", "/users", NULL, get);
	ck_assert_int_eq(status_of(r), 403);
	ck_assert_ptr_nonnull(strstr(body_of(r), "يلزم الإذن <code dir=\"ltr\">users.read</code>"));

	ck_assert_int_eq(ap_dbconn_open(cfg, &db), AP_DB_OK);
	ck_assert_int_eq(ap_user_find(db, "operator1", &row, NULL), AP_DB_OK);
	ap_db_close(db);
	auto_cookie = cookie_admin;
	snprintf(hdr, sizeof(hdr), "HTTP_X_CSRF_TOKEN=%s", csrf_admin);
	snprintf(path, sizeof(path), "/users/%lld/disable", (long long)row.id);
	r = serve("POST", path, "", post);
	ck_assert_int_eq(status_of(r), 200);
	ck_assert_ptr_nonnull(strstr(body_of(r), "<p class=\"confirm-question\">تعطيل المستخدم <bdi>operator1</bdi>؟"));

	/* Confirmed: the one-time message on the next page names the user apart too. */
	r = serve("POST", path, "confirmed=yes", post);
	ck_assert_int_eq(status_of(r), 303);
	ck_assert_ptr_nonnull(p = strstr(r, "Set-Cookie: aapanel_flash="));
	snprintf(flash, sizeof(flash), "HTTP_COOKIE=lang=ar; %.*s", (int)strcspn(p + 12, ";\r"), p + 12);
	r = serve("GET", "/users", NULL, again);
	ck_assert_int_eq(status_of(r), 200);
	ck_assert_ptr_nonnull(strstr(body_of(r), "<p>عُطّل المستخدم <bdi>operator1</bdi> وأُنهيت جلساته.</p>"));
}
END_TEST

START_TEST(test_lang_post_returns_to_same_host_page)
{
	auto_cookie = NULL;
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
	ck_assert_int_ne(ap_app_init(&a2, cfg, ap_routes, ap_nroutes, err, sizeof(err)), AP_OK);
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
	ck_assert_int_ne(ap_app_init(&a2, cfg, ap_routes, ap_nroutes, err, sizeof(err)), AP_OK);
	cfg->templates_dir = saved;
	ck_assert_msg(strstr(err, "home.html") != NULL, "error was: %s", err);
}
END_TEST


/* A concrete path for a pattern: every {param} becomes "1". */
static const char *
concrete(const char *pattern, char *buf, size_t n)
{
	size_t o = 0;

	for (const char *p = pattern; *p && o + 2 < n; p++) {
		if (*p == '{') {
			while (*p && *p != '}')
				p++;
			buf[o++] = '1';
			continue;
		}
		buf[o++] = *p;
	}
	buf[o] = '\0';
	return buf;
}

static const char *const role_names[] = { "admin", "operator", "viewer" };

static void
fresh_admin_session(char cookie[80], char csrf[80])
{
	struct ap_db *db = NULL;
	struct ap_user_row row;
	struct ap_session sess;
	char c[AP_SESSION_ID_HEX + 1];

	ck_assert_int_eq(ap_dbconn_open(cfg, &db), AP_DB_OK);
	ck_assert_int_eq(ap_user_find(db, "admin1", &row, NULL), AP_DB_OK);
	ck_assert_int_eq(ap_session_create(db, cfg, row.id, false, "127.0.0.1", "check", c, &sess), AP_DB_OK);
	ap_db_close(db);
	snprintf(cookie, 80, "aapanel=%s", c);
	snprintf(csrf, 80, "%s", sess.csrf);
}

static const char *
cookie_for(int role)
{
	return role == 0 ? cookie_admin : role == 1 ? cookie_operator : cookie_viewer;
}

static const char *
csrf_for(int role)
{
	return role == 0 ? csrf_admin : role == 1 ? csrf_operator : csrf_viewer;
}

/* The body a state-changing request needs to get past the fields: none, on purpose. */
static const char *
unsafe_request(int method, const char *path, const char *cookie, const char *csrf, const char *origin,
    bool json)
{
	static char c[128], o[160], t[160];
	const char *h[6];
	int k = 0;

	auto_cookie = cookie;
	h[k++] = "CONTENT_TYPE=application/x-www-form-urlencoded";
	if (json)
		h[k++] = "HTTP_ACCEPT=application/json";
	if (origin) {
		snprintf(o, sizeof(o), "HTTP_ORIGIN=%s", origin);
		h[k++] = o;
	}
	if (csrf) {
		snprintf(t, sizeof(t), "HTTP_X_CSRF_TOKEN=%s", csrf);
		h[k++] = t;
	}
	h[k] = NULL;
	(void)c;
	return serve(ap_method_name((enum ap_method)method), path, "", h);
}

/*
 * The whole route table x every method: every non-public route rejects an
 * anonymous request, a role without its permission, a missing or wrong
 * CSRF token and a foreign Origin. New routes are covered automatically.
 */
START_TEST(test_gate_walks_the_route_table)
{
	static const char *const json[] = { "HTTP_ACCEPT=application/json", NULL };
	char path[256], fresh_cookie[80], fresh_csrf[80];
	int checked = 0;

	for (size_t i = 0; i < ap_nroutes; i++) {
		const struct ap_route *rt = &ap_routes[i];

		concrete(rt->pattern, path, sizeof(path));
		for (int m = 0; m < AP_METHOD__MAX; m++) {
			unsigned mask = rt->methods | ((rt->methods & AP_M_GET) ? AP_M_HEAD : 0);
			bool unsafe = m != AP_METHOD_GET && m != AP_METHOD_HEAD && m != AP_METHOD_OPTIONS;
			const char *r;
			int st;

			if (!(mask & AP_M(m)) || (rt->flags & AP_ROUTE_PUBLIC))
				continue;
			/* anonymous: 401 for JSON clients (and via /api/v1) */
			auto_cookie = NULL;
			r = unsafe ? unsafe_request(m, path, NULL, NULL, NULL, true)
				   : serve(ap_method_name((enum ap_method)m), path, NULL, json);
			ck_assert_msg(status_of(r) == 401, "anonymous %s %s got %d", ap_method_name((enum ap_method)m),
			    path, status_of(r));
			/* browsers get sent to the login page for GET */
			if (m == AP_METHOD_GET) {
				r = serve("GET", path, NULL, NULL);
				ck_assert_msg(status_of(r) == 303 && strstr(r, "Location: /login?next=") != NULL,
				    "anonymous browser GET %s: %d", path, status_of(r));
			}
			/* every role without the permission: 403 */
			for (int role = 1; role < 3; role++) {
				if (ap_role_allows(role_names[role], rt->perm))
					continue;
				r = unsafe ? unsafe_request(m, path, cookie_for(role), csrf_for(role), "http://panel.test", true)
					   : (auto_cookie = cookie_for(role), serve(ap_method_name((enum ap_method)m), path, NULL, json));
				ck_assert_msg(status_of(r) == 403, "%s %s %s got %d", role_names[role],
				    ap_method_name((enum ap_method)m), path, status_of(r));
			}
			if (unsafe) {
				/* signed in as admin (a fresh session: handlers run before may have ended
				 * others), but no CSRF token / a wrong one / a foreign origin / no origin */
				fresh_admin_session(fresh_cookie, fresh_csrf);
				st = status_of(unsafe_request(m, path, fresh_cookie, NULL, "http://panel.test", true));
				ck_assert_msg(st == 403, "no csrf %s %s got %d", ap_method_name((enum ap_method)m), path, st);
				st = status_of(unsafe_request(m, path, fresh_cookie, "0000", "http://panel.test", true));
				ck_assert_msg(st == 403, "wrong csrf %s %s got %d", ap_method_name((enum ap_method)m), path, st);
				st = status_of(unsafe_request(m, path, fresh_cookie, fresh_csrf, "https://evil.example", true));
				ck_assert_msg(st == 403, "foreign origin %s %s got %d", ap_method_name((enum ap_method)m), path, st);
				st = status_of(unsafe_request(m, path, fresh_cookie, fresh_csrf, NULL, true));
				ck_assert_msg(st == 403, "no origin or referer %s %s got %d", ap_method_name((enum ap_method)m), path, st);
				/* and with everything right the gate lets it through (whatever the handler says) */
				st = status_of(unsafe_request(m, path, fresh_cookie, fresh_csrf, "http://panel.test", true));
				ck_assert_msg(st != 401 && st != 403, "admin with csrf %s %s got %d",
				    ap_method_name((enum ap_method)m), path, st);
			}
			checked++;
		}
	}
	ck_assert_int_gt(checked, 20);
	auto_cookie = cookie_admin;
}
END_TEST

START_TEST(test_public_routes_are_the_short_list)
{
	static const char *const allowed[] = { "/healthz", "/lang", "/login", "/login/2fa", "/_test/sleep", "/_test/table" };

	for (size_t i = 0; i < ap_nroutes; i++) {
		bool listed = false;

		if (!(ap_routes[i].flags & AP_ROUTE_PUBLIC))
			continue;
		for (size_t k = 0; k < AP_NELEM(allowed); k++)
			listed |= strcmp(ap_routes[i].pattern, allowed[k]) == 0;
		ck_assert_msg(listed, "route %s became public", ap_routes[i].pattern);
	}
}
END_TEST

START_TEST(test_api_prefix_and_bearer)
{
	struct ap_db *db = NULL;
	char token[80], auth[120];
	struct ap_problem pb = { 0 };
	struct ap_user_row row;
	int64_t id = 0;
	const char *h[3] = { auth, NULL, NULL };
	const char *r;

	auto_cookie = NULL;
	ck_assert_int_eq(ap_dbconn_open(cfg, &db), AP_DB_OK);
	ck_assert_int_eq(ap_user_find(db, "viewer1", &row, NULL), AP_DB_OK);
	ck_assert_int_eq(ap_token_create(db, cfg, row.id, "t", "read", "", 0, token, &id, &pb), AP_DB_OK);
	ap_db_close(db);
	snprintf(auth, sizeof(auth), "HTTP_AUTHORIZATION=Bearer %s", token);
	r = serve("GET", "/api/v1/", NULL, h);
	ck_assert_int_eq(status_of(r), 200);
	ck_assert_ptr_nonnull(strstr(r, "Content-Type: application/json"));
	/* a Bearer token outside /api/v1 is not a credential */
	r = serve("GET", "/", NULL, h);
	ck_assert_int_eq(status_of(r), 303);
	/* a viewer's token cannot read the admin area */
	r = serve("GET", "/api/v1/users", NULL, h);
	ck_assert_int_eq(status_of(r), 403);
	/* no token: 401 with a challenge */
	r = serve("GET", "/api/v1/", NULL, NULL);
	ck_assert_int_eq(status_of(r), 401);
	ck_assert_ptr_nonnull(strstr(r, "WWW-Authenticate: Bearer"));
	snprintf(auth, sizeof(auth), "HTTP_AUTHORIZATION=Bearer apn_%064d", 0);
	ck_assert_int_eq(status_of(serve("GET", "/api/v1/", NULL, h)), 401);
	auto_cookie = cookie_admin;
}
END_TEST

START_TEST(test_forwarded_for_is_not_trusted_by_default)
{
	static const char *const h[] = { "HTTP_X_FORWARDED_FOR=10.9.9.9", "HTTP_ACCEPT=application/json", NULL };
	char *saved = cfg->access_allow;

	cfg->access_allow = (char *)"10.0.0.0/8";
	/* REMOTE_ADDR is 127.0.0.1: a forged header must not get it in */
	ck_assert_str_eq(body_of(serve("GET", "/", NULL, h)), "Not Found\n");
	cfg->access_allow = (char *)"127.0.0.1";
	ck_assert_int_eq(status_of(serve("GET", "/", NULL, h)), 200);
	cfg->access_allow = saved;
}
END_TEST

START_TEST(test_trusted_proxy_forwarded_for)
{
	static const char *const h[] = { "HTTP_X_FORWARDED_FOR=203.0.113.7, 10.9.9.9", "HTTP_ACCEPT=application/json", NULL };
	char *saved_p = cfg->trusted_proxies, *saved_a = cfg->access_allow;

	/* 127.0.0.1 is a trusted proxy, 10.9.9.9 too: the client is 203.0.113.7 */
	cfg->trusted_proxies = (char *)"127.0.0.1, 10.0.0.0/8";
	cfg->access_allow = (char *)"203.0.113.0/24";
	ck_assert_int_eq(status_of(serve("GET", "/", NULL, h)), 200);
	cfg->access_allow = (char *)"10.0.0.0/8";
	ck_assert_str_eq(body_of(serve("GET", "/", NULL, h)), "Not Found\n");
	cfg->trusted_proxies = saved_p;
	cfg->access_allow = saved_a;
}
END_TEST

/* ---- security: the tests below pin the fixes of issue 11 (one block each) */

/* POST /login as a browser: the double-submit token, the user's password, next (urlencoded). */
static const char *
login_post(const char *user, const char *password, const char *next_enc, const char *const *more)
{
	static char body[4096], ck[160];
	static const char tok[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	const char *h[12];
	int k = 0;

	snprintf(body, sizeof(body), "csrf=%s&username=%s&password=%s%s%s", tok, user, password,
	    next_enc ? "&next=" : "", next_enc ? next_enc : "");
	snprintf(ck, sizeof(ck), "HTTP_COOKIE=aapanel_login=%s", tok);
	h[k++] = "CONTENT_TYPE=application/x-www-form-urlencoded";
	h[k++] = ck;
	for (; more && *more && k < 11; more++)
		h[k++] = *more;
	h[k] = NULL;
	auto_cookie = NULL;
	return serve("POST", "/login", body, h);
}

static const struct {
	const char *next_enc; /* as the form sends it */
	const char *location; /* NULL: refused by the field's validator (400, no redirect) */
} next_rows[] = {
	{ "%2Fsites%3Fpage%3D2", "/sites?page=2" },
	{ "%2F", "/" },
	/* regression: a control character after the first slash was passed into
	 * Location and a browser read it as the scheme-relative //evil.example */
	{ "%2F%09%2Fevil.example", "/" },
	{ "%2F%0B%2Fevil.example", NULL },
	{ "%2F%01%2Fevil.example", NULL },
	{ "%2F%20%2Fevil.example", "/" },
	{ "%2F%5Cevil.example", "/" },
	{ "%2F%2Fevil.example", "/" },
	{ "https%3A%2F%2Fevil.example%2F", "/" },
	{ "%2Fa%2F..%2F..%2Fevil", "/" },
	{ "%2Fa%2F%252e%252e%2Fb", "/" },
	{ "%2Flogin%2F2fa", "/" },
	{ "%2Flogin", "/" },
	{ "%2Flogins", "/logins" },
};

START_TEST(test_login_next_stays_on_the_panel)
{
	const char *r = login_post("admin1", "a+long+enough+passphrase", next_rows[_i].next_enc, NULL);
	char want[256];

	if (next_rows[_i].location == NULL) {
		ck_assert_msg(status_of(r) == 400, "row %d: %d", _i, status_of(r));
		ck_assert_ptr_null(strstr(r, "\r\nLocation:"));
		auto_cookie = cookie_admin;
		return;
	}
	ck_assert_msg(status_of(r) == 303, "row %d: %d", _i, status_of(r));
	snprintf(want, sizeof(want), "\r\nLocation: %s\r\n", next_rows[_i].location);
	ck_assert_msg(strstr(r, want) != NULL, "row %d: wanted %s in\n%.400s", _i, next_rows[_i].location, r);
	auto_cookie = cookie_admin;
}
END_TEST

/* The client address the gate settles on for a request with these params ("REFUSED": bare 404). */
static const char *
client_of(const char *remote, const char *const *params)
{
	static char addr[64];
	char *env[80], ra[80];
	struct ap_req req;
	struct ap_ctx ctx;
	int n = 0;

	snprintf(ra, sizeof(ra), "REMOTE_ADDR=%s", remote);
	env[n++] = (char *)"REQUEST_METHOD=GET";
	env[n++] = (char *)"REQUEST_URI=/";
	env[n++] = ra;
	for (; params && *params && n < 78; params++)
		env[n++] = (char *)*params;
	env[n] = NULL;
	memset(&req, 0, sizeof(req));
	memset(&ctx, 0, sizeof(ctx));
	ap_arena_reset(arena);
	ck_assert_int_eq(ap_req_parse(&req, arena, env, NULL, NULL,
	    &(struct ap_req_limits){ .max_body = 1024, .max_upload = 1024, .max_fields = 16,
		.max_field_len = 1024, .max_header_len = (size_t)cfg->max_header_len }, NULL), AP_OK);
	ctx.app = &app;
	ctx.req = &req;
	ctx.arena = arena;
	snprintf(addr, sizeof(addr), "%s", ap_auth_admit(&ctx) == 0 ? ctx.client_addr : "REFUSED");
	ap_req_clear(&req);
	return addr;
}

static char long_list[2048], half_a[5200], half_b[5200];

static const struct {
	const char *header; /* access.forwarded_header */
	const char *remote;
	const char *params[4];
	const char *client;
} fwd_rows[] = {
	{ "X-Forwarded-For", "127.0.0.1", { "HTTP_X_FORWARDED_FOR=203.0.113.7" }, "203.0.113.7" },
	{ "X-Forwarded-For", "127.0.0.1", { "HTTP_X_FORWARDED_FOR=203.0.113.7, 10.9.9.9" }, "203.0.113.7" },
	/* what the client sent itself is left of what our proxy appended */
	{ "X-Forwarded-For", "127.0.0.1", { "HTTP_X_FORWARDED_FOR=198.51.100.1, 203.0.113.7" }, "203.0.113.7" },
	/* regression: a long list pushed the real client out of the 32 entries parsed */
	{ "X-Forwarded-For", "127.0.0.1", { long_list }, "203.0.113.7" },
	/* regression: of a repeated header line only the first (the client's) was read */
	{ "X-Forwarded-For", "127.0.0.1", { "HTTP_X_FORWARDED_FOR=198.51.100.1", "HTTP_X_FORWARDED_FOR=203.0.113.7" },
	    "203.0.113.7" },
	{ "X-Forwarded-For", "127.0.0.1", { "HTTP_X_FORWARDED_FOR=not-an-address, 203.0.113.7" }, "203.0.113.7" },
	/* malformed where only trusted proxies write: unusable, REMOTE_ADDR stands */
	{ "X-Forwarded-For", "127.0.0.1", { "HTTP_X_FORWARDED_FOR=203.0.113.7, not-an-address" }, "127.0.0.1" },
	{ "X-Forwarded-For", "127.0.0.1", { "HTTP_X_FORWARDED_FOR=203.0.113.7," }, "127.0.0.1" },
	{ "X-Forwarded-For", "127.0.0.1", { "HTTP_X_FORWARDED_FOR=10.1.1.1, 10.2.2.2" }, "10.1.1.1" },
	{ "X-Forwarded-For", "127.0.0.1", { "HTTP_X_FORWARDED_FOR=" }, "127.0.0.1" },
	{ "X-Forwarded-For", "127.0.0.1", { "HTTP_X_FORWARDED_FOR=2001:db8::1" }, "2001:db8::1" },
	/* regression: the client's own X-Real-IP was read when the proxy set X-Forwarded-For */
	{ "X-Forwarded-For", "127.0.0.1", { "HTTP_X_REAL_IP=198.51.100.9" }, "127.0.0.1" },
	{ "X-Forwarded-For", "127.0.0.1", { "HTTP_X_REAL_IP=198.51.100.9", "HTTP_X_FORWARDED_FOR=203.0.113.7" },
	    "203.0.113.7" },
	/* joined lines longer than limits.max_header_len: refused, never cut */
	{ "X-Forwarded-For", "127.0.0.1", { half_a, half_b }, "REFUSED" },
	/* a direct client is not a proxy: its header means nothing */
	{ "X-Forwarded-For", "203.0.113.50", { "HTTP_X_FORWARDED_FOR=10.9.9.9" }, "203.0.113.50" },
	{ "X-Real-IP", "127.0.0.1", { "HTTP_X_REAL_IP=203.0.113.7", "HTTP_X_FORWARDED_FOR=198.51.100.1" },
	    "203.0.113.7" },
	{ "X-Real-IP", "127.0.0.1", { "HTTP_X_REAL_IP=198.51.100.1", "HTTP_X_REAL_IP=203.0.113.7" }, "REFUSED" },
	{ "X-Real-IP", "127.0.0.1", { "HTTP_X_REAL_IP=203.0.113.7, 10.9.9.9" }, "127.0.0.1" },
	{ "X-Real-IP", "127.0.0.1", { "HTTP_X_FORWARDED_FOR=203.0.113.7" }, "127.0.0.1" },
	{ "", "127.0.0.1", { "HTTP_X_FORWARDED_FOR=203.0.113.7", "HTTP_X_REAL_IP=203.0.113.8" }, "127.0.0.1" },
};

START_TEST(test_forwarded_header_rows)
{
	char *saved_p = cfg->trusted_proxies, *saved_h = cfg->forwarded_header;
	size_t n;

	n = (size_t)snprintf(long_list, sizeof(long_list), "HTTP_X_FORWARDED_FOR=");
	for (int i = 0; i < 40; i++)
		n += (size_t)snprintf(long_list + n, sizeof(long_list) - n, "198.51.100.%d, ", i + 1);
	snprintf(long_list + n, sizeof(long_list) - n, "203.0.113.7");
	memset(half_a, '1', sizeof(half_a) - 1);
	memcpy(half_a, "HTTP_X_FORWARDED_FOR=", 21);
	memcpy(half_b, half_a, sizeof(half_b));
	half_a[5000] = half_b[5000] = '\0';
	cfg->trusted_proxies = (char *)"127.0.0.1, 10.0.0.0/8";
	cfg->forwarded_header = (char *)fwd_rows[_i].header;
	ck_assert_str_eq(client_of(fwd_rows[_i].remote, fwd_rows[_i].params), fwd_rows[_i].client);
	cfg->trusted_proxies = saved_p;
	cfg->forwarded_header = saved_h;
}
END_TEST

/* The address the gate settled on is the one the allowlist, the throttle and the audit log see. */
START_TEST(test_forwarded_client_reaches_the_allowlist)
{
	static const char *const repeated[] = { "HTTP_X_FORWARDED_FOR=10.9.9.9", "HTTP_X_FORWARDED_FOR=203.0.113.7",
		"HTTP_ACCEPT=application/json", NULL };
	char *saved_p = cfg->trusted_proxies, *saved_a = cfg->access_allow;

	cfg->trusted_proxies = (char *)"127.0.0.1";
	cfg->access_allow = (char *)"10.0.0.0/8";
	/* regression: the first line (the client's own) let it in */
	ck_assert_str_eq(body_of(serve("GET", "/", NULL, repeated)), "Not Found\n");
	cfg->access_allow = (char *)"203.0.113.0/24";
	ck_assert_int_eq(status_of(serve("GET", "/", NULL, repeated)), 200);
	cfg->trusted_proxies = saved_p;
	cfg->access_allow = saved_a;
}
END_TEST

/* A state-changing request (Host: panel.test) with this Origin and Referer: its status. */
static int
post_from(const char *origin, const char *referer)
{
	static char h2[160], h3[300], t[120];
	const char *h[6];
	int k = 0;

	snprintf(t, sizeof(t), "HTTP_X_CSRF_TOKEN=%s", csrf_admin);
	h[k++] = "CONTENT_TYPE=application/x-www-form-urlencoded";
	h[k++] = t;
	if (origin) {
		snprintf(h2, sizeof(h2), "HTTP_ORIGIN=%s", origin);
		h[k++] = h2;
	}
	if (referer) {
		snprintf(h3, sizeof(h3), "HTTP_REFERER=%s", referer);
		h[k++] = h3;
	}
	h[k] = NULL;
	auto_cookie = cookie_admin;
	return status_of(serve("POST", "/lang", "lang=en", h));
}

START_TEST(test_origin_is_the_configured_one_not_host)
{
	char *saved = cfg->panel_origins;

	ck_assert_int_eq(post_from("http://panel.test", NULL), 303);
	ck_assert_int_eq(post_from(NULL, "http://panel.test/sites"), 303);
	/* regression: Origin was compared with scheme://Host of the request itself,
	 * so an Origin equal to whatever Host the client sent passed */
	cfg->panel_origins = (char *)"https://panel.example.com";
	ck_assert_int_eq(post_from("http://panel.test", NULL), 403);
	ck_assert_int_eq(post_from(NULL, "http://panel.test/sites"), 403);
	ck_assert_int_eq(post_from("https://panel.example.com", NULL), 303);
	ck_assert_int_eq(post_from("https://panel.example.com:443", NULL), 303);
	ck_assert_int_eq(post_from(NULL, "https://panel.example.com/account"), 303);
	ck_assert_int_eq(post_from("https://panel.example.com.evil.example", NULL), 403);
	ck_assert_int_eq(post_from(NULL, "https://panel.example.com@evil.example/"), 403);
	ck_assert_int_eq(post_from("http://panel.example.com", NULL), 403);
	ck_assert_int_eq(post_from("null", NULL), 403);
	/* "" = this machine only, any port and scheme */
	cfg->panel_origins = (char *)"";
	ck_assert_int_eq(post_from("http://127.0.0.1:8080", NULL), 303);
	ck_assert_int_eq(post_from("https://localhost", NULL), 303);
	ck_assert_int_eq(post_from("http://[::1]:1234", NULL), 303);
	ck_assert_int_eq(post_from("http://panel.test", NULL), 403);
	ck_assert_int_eq(post_from("http://localhost.evil.example", NULL), 403);
	cfg->panel_origins = saved;
}
END_TEST

START_TEST(test_lang_returns_only_to_our_origin)
{
	static const char *const h[] = { "CONTENT_TYPE=application/x-www-form-urlencoded",
		"HTTP_REFERER=http://panel.test.evil.example/phish", NULL };
	static const char *const h2[] = { "CONTENT_TYPE=application/x-www-form-urlencoded",
		"HTTP_REFERER=http://panel.test/\t/evil.example", NULL };

	auto_cookie = NULL;
	ck_assert_ptr_nonnull(strstr(serve("POST", "/lang", "lang=en", h), "\r\nLocation: /\r\n"));
	ck_assert_ptr_nonnull(strstr(serve("POST", "/lang", "lang=en", h2), "\r\nLocation: /\r\n"));
	auto_cookie = cookie_admin;
}
END_TEST

/* Requests that fail parsing, outside and inside the entrance and the allowlist. */
static const struct {
	const char *method, *uri, *ctype, *body;
} unparsable_rows[] = {
	{ "GET", "/x7Kp2/?a=%G1", NULL, NULL },
	{ "GET", "/x7Kp2/?a=%00", NULL, NULL },
	{ "POST", "/x7Kp2/lang", "text/plain", "lang=ar" },
	{ "POST", "/x7Kp2/lang", "application/json", "[1," },
};

/* regression: a request that failed parsing got the full branded page, with
 * the security entrance in its links, outside the base path and the allowlist */
START_TEST(test_unparsable_requests_are_bare_before_the_entrance)
{
	const char *h[3] = { NULL, NULL, NULL };
	char ct[128], outside[256];
	const char *r;
	char *saved = cfg->access_allow;

	if (unparsable_rows[_i].ctype) {
		snprintf(ct, sizeof(ct), "CONTENT_TYPE=%s", unparsable_rows[_i].ctype);
		h[0] = ct;
	}
	/* inside the entrance and the allowlist: the real error page */
	r = serve(unparsable_rows[_i].method, unparsable_rows[_i].uri, unparsable_rows[_i].body, h);
	ck_assert_int_ge(status_of(r), 400);
	ck_assert_int_ne(status_of(r), 404);
	ck_assert_ptr_nonnull(strstr(r, "text/html"));
	/* outside the entrance: bare, nothing of the panel */
	snprintf(outside, sizeof(outside), "%s", unparsable_rows[_i].uri + strlen("/x7Kp2"));
	r = serve(unparsable_rows[_i].method, outside, unparsable_rows[_i].body, h);
	ck_assert_int_eq(status_of(r), 404);
	ck_assert_str_eq(body_of(r), "Not Found\n");
	ck_assert_ptr_null(strstr(r, "x7Kp2"));
	/* inside the entrance, outside access.allow: bare too */
	cfg->access_allow = (char *)"10.0.0.0/8";
	r = serve(unparsable_rows[_i].method, unparsable_rows[_i].uri, unparsable_rows[_i].body, h);
	ck_assert_int_eq(status_of(r), 404);
	ck_assert_str_eq(body_of(r), "Not Found\n");
	ck_assert_ptr_null(strstr(r, "x7Kp2"));
	cfg->access_allow = saved;
	/* a path that cannot be decoded is not known to be inside the entrance */
	r = serve("GET", "/x7Kp2/%2e%2e/etc/passwd", NULL, NULL);
	ck_assert_str_eq(body_of(r), "Not Found\n");
}
END_TEST

/* regression: a method a route lacks got the full 405 page, with Allow, outside access.allow */
START_TEST(test_method_not_allowed_is_bare_outside_the_allowlist)
{
	char *saved = cfg->access_allow;
	const char *r;

	cfg->access_allow = (char *)"10.0.0.0/8";
	r = serve("PUT", "/lang", NULL, NULL);
	ck_assert_int_eq(status_of(r), 404);
	ck_assert_str_eq(body_of(r), "Not Found\n");
	ck_assert_ptr_null(strstr(r, "Allow:"));
	cfg->access_allow = saved;
	ck_assert_int_eq(status_of(serve("PUT", "/lang", NULL, NULL)), 405);
}
END_TEST

/* regression: a success for any account cleared the failures counted for its
 * address, so an account holder could spray passwords at every other account */
START_TEST(test_address_throttle_ignores_successes)
{
	static const char *const json[] = { "HTTP_ACCEPT=application/json", NULL };
	static const char *const other[] = { "HTTP_X_FORWARDED_FOR=203.0.113.9", NULL };
	int saved_t = cfg->address_threshold, saved_w = cfg->address_window;
	char *saved_p = cfg->trusted_proxies;
	const char *r, *ra;
	int wait = 0;

	cfg->address_threshold = 3;
	cfg->address_window = 900;
	ck_assert_int_eq(status_of(login_post("viewer1", "guess+one", NULL, json)), 401);
	ck_assert_int_eq(status_of(login_post("admin1", "a+long+enough+passphrase", NULL, NULL)), 303);
	ck_assert_int_eq(status_of(login_post("operator1", "guess+two", NULL, json)), 401);
	ck_assert_int_eq(status_of(login_post("admin1", "a+long+enough+passphrase", NULL, NULL)), 303);
	ck_assert_int_eq(status_of(login_post("nosuchuser", "guess+three", NULL, json)), 401);
	/* three failures from this address in the window: even its own account waits */
	r = login_post("admin1", "a+long+enough+passphrase", NULL, json);
	ck_assert_int_eq(status_of(r), 429);
	ck_assert_ptr_nonnull(ra = strstr(r, "\r\nRetry-After: "));
	sscanf(ra, "\r\nRetry-After: %d", &wait);
	ck_assert_int_gt(wait, 800);
	ck_assert_int_le(wait, 900);
	/* per address: another client (through a trusted proxy) is not affected */
	cfg->trusted_proxies = (char *)"127.0.0.1";
	ck_assert_int_eq(status_of(login_post("admin1", "a+long+enough+passphrase", NULL, other)), 303);
	cfg->trusted_proxies = saved_p;
	cfg->address_threshold = saved_t;
	cfg->address_window = saved_w;
	auto_cookie = cookie_admin;
}
END_TEST

/* Median of n timings (ms); sorts v. */
static uint64_t
median_ms(uint64_t *v, int n)
{
	for (int i = 1; i < n; i++)
		for (int k = i; k > 0 && v[k - 1] > v[k]; k--) {
			uint64_t t = v[k];
			v[k] = v[k - 1];
			v[k - 1] = t;
		}
	return v[n / 2];
}

/* The JSON error document of a response without its request id. */
static char *
error_doc(const char *r)
{
	struct json_object *j = json_tokener_parse(body_of(r)), *e = NULL;
	char *s;

	ck_assert_ptr_nonnull(j);
	ck_assert(json_object_object_get_ex(j, "error", &e));
	json_object_object_del(e, "request_id");
	s = ap_xstrdup(json_object_to_json_string(j));
	json_object_put(j);
	return s;
}

/* regression: with a database that could not write, no throttle applied and a
 * right password answered 500 where a wrong one answered 401 */
START_TEST(test_signin_refused_alike_when_attempts_cannot_be_recorded)
{
	static const char *const json[] = { "HTTP_ACCEPT=application/json", NULL };
	uint64_t right[5], wrong[5], verify[3], t0;
	char *doc_right = NULL, *doc_wrong = NULL;
	struct ap_db *db = NULL;
	int64_t before = 0, after = 0;

	/* what checking a password costs, with a database that works */
	for (int i = 0; i < 3; i++) {
		t0 = ap_now_ms();
		ck_assert_int_eq(status_of(login_post("operator1", "not+the+password", NULL, json)), 401);
		verify[i] = ap_now_ms() - t0;
	}
	ck_assert_int_eq(ap_dbconn_open(cfg, &db), AP_DB_OK);
	ck_assert_int_eq(ap_db_query_int64(db, "SELECT COUNT(*) FROM login_attempts", &before), AP_DB_OK);
	ck_assert_ptr_nonnull(app.db);
	for (int i = 0; i < 5; i++) {
		const char *r;

		/* The worker's own connection refuses writes (as a read-only file would). */
		ck_assert_int_eq(ap_db_exec(app.db, "PRAGMA query_only = 1"), AP_DB_OK);
		t0 = ap_now_ms();
		r = login_post("admin1", "a+long+enough+passphrase", NULL, json);
		right[i] = ap_now_ms() - t0;
		ck_assert_int_eq(status_of(r), 503);
		free(doc_right);
		doc_right = error_doc(r);
		ck_assert_int_eq(ap_db_exec(app.db, "PRAGMA query_only = 1"), AP_DB_OK);
		t0 = ap_now_ms();
		r = login_post("admin1", "the+wrong+passphrase", NULL, json);
		wrong[i] = ap_now_ms() - t0;
		ck_assert_int_eq(status_of(r), 503);
		free(doc_wrong);
		doc_wrong = error_doc(r);
		ck_assert_str_eq(doc_right, doc_wrong);
	}
	ck_assert_msg(strstr(doc_right, "\"code\": \"unavailable\"") != NULL, "%s", doc_right);
	/* no password was checked: both far below the cost of one check, and alike */
	{
		uint64_t v = median_ms(verify, 3), mr = median_ms(right, 5), mw = median_ms(wrong, 5);

		ck_assert_msg(mr * 2 < v && mw * 2 < v, "right %llu ms, wrong %llu ms, a check %llu ms",
		    (unsigned long long)mr, (unsigned long long)mw, (unsigned long long)v);
		ck_assert_msg((mr > mw ? mr - mw : mw - mr) * 4 < v, "right %llu ms, wrong %llu ms",
		    (unsigned long long)mr, (unsigned long long)mw);
	}
	ck_assert_int_eq(ap_db_query_int64(db, "SELECT COUNT(*) FROM login_attempts", &after), AP_DB_OK);
	ck_assert_int_eq(after, before);
	ap_db_close(db);
	free(doc_right);
	free(doc_wrong);
	/* the connection reopens by itself: the next sign-in works */
	ck_assert_int_eq(status_of(login_post("admin1", "a+long+enough+passphrase", NULL, NULL)), 303);
	auto_cookie = cookie_admin;
}
END_TEST

/*
 * A snapshot of every table: its name, then each row's columns as text,
 * in the order of the first column. Left out: the gate's own bookkeeping of who used what
 * when (a session's last request, a token's last use).
 */
static char *
db_snapshot(void)
{
	static const char *const bookkeeping[] = { "sessions.last_seen_at", "api_tokens.last_used_at",
		"api_tokens.last_used_addr" };
	struct ap_buf b = { 0 };
	struct ap_db *db = NULL;
	struct ap_db_stmt *tl = NULL;
	char **names = NULL;
	size_t n = 0;

	ck_assert_int_eq(ap_dbconn_open(cfg, &db), AP_DB_OK);
	ck_assert_int_eq(ap_db_prepare(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name", &tl),
	    AP_DB_OK);
	while (ap_db_step(tl) == AP_DB_ROW) {
		names = ap_xrealloc(names, (n + 1) * sizeof(*names));
		names[n++] = ap_xstrdup(ap_db_col_text(tl, 0, NULL));
	}
	ap_db_finalize(tl);
	for (size_t i = 0; i < n; i++) {
		struct ap_db_stmt *st = NULL;
		/* ORDER BY 1: tables WITHOUT ROWID (the metrics history) have no rowid. */
		char *sql = ap_xasprintf("SELECT * FROM \"%s\" ORDER BY 1", names[i]);

		ck_assert_int_eq(ap_db_prepare(db, sql, &st), AP_DB_OK);
		ap_buf_printf(&b, "[%s]\n", names[i]);
		while (ap_db_step(st) == AP_DB_ROW) {
			for (int c = 0; c < ap_db_col_count(st); c++) {
				char *key = ap_xasprintf("%s.%s", names[i], ap_db_col_name(st, c));
				const char *v = ap_db_col_text(st, c, NULL);
				bool skip = false;

				for (size_t k = 0; k < AP_NELEM(bookkeeping); k++)
					skip |= strcmp(key, bookkeeping[k]) == 0;
				ap_buf_printf(&b, "%s=%s|", ap_db_col_name(st, c), skip ? "*" : (v ? v : "NULL"));
				free(key);
			}
			ap_buf_putc(&b, '\n');
		}
		ap_db_finalize(st);
		free(sql);
		free(names[i]);
	}
	free(names);
	ap_db_close(db);
	return b.data ? b.data : ap_xstrdup("");
}

static int64_t
audit_rows(void)
{
	struct ap_db *db = NULL;
	int64_t n = -1;

	ck_assert_int_eq(ap_dbconn_open(cfg, &db), AP_DB_OK);
	ck_assert_int_eq(ap_db_query_int64(db, "SELECT COUNT(*) FROM audit_log", &n), AP_DB_OK);
	ap_db_close(db);
	return n;
}

/* A body of valid values for a route's declared fields (path parameters come from concrete()). */
static const char *
valid_body(const struct ap_route *rt)
{
	static char body[2048];
	size_t o = 0;

	body[0] = '\0';
	for (size_t i = 0; rt->fields && i < ap_fields_count(rt->fields); i++) {
		const struct ap_field *f = &rt->fields[i];
		char v[160];
		long long len = f->min > 1 ? f->min : 1;

		if (f->flags & AP_FIELD_PATH)
			continue;
		if (len > 100)
			len = 100;
		switch (f->type) {
		case AP_FIELD_INT:
			snprintf(v, sizeof(v), "%lld", f->min > 0 ? f->min : (f->max >= 1 ? 1 : 0));
			break;
		case AP_FIELD_BOOL:
			snprintf(v, sizeof(v), "1");
			break;
		case AP_FIELD_ENUM: {
			size_t k = 0;

			while (f->choices[k + 1])
				k++;
			snprintf(v, sizeof(v), "%s", f->choices[k]); /* the last: least likely the default */
			break;
		}
		case AP_FIELD_HOSTNAME:
			snprintf(v, sizeof(v), "example.com");
			break;
		case AP_FIELD_EMAIL:
			snprintf(v, sizeof(v), "a@example.com");
			break;
		default:
			memset(v, 'x', (size_t)len);
			v[len] = '\0';
			break;
		}
		o += (size_t)snprintf(body + o, sizeof(body) - o, "%s%s=%s", o ? "&" : "", f->name, v);
	}
	return body;
}

/*
 * regression: a read-scope token changed the user's stored language through
 * the public /lang, unaudited. Every route of the table x every method it
 * has, with valid values for its fields: a read-scope token (under /api/v1)
 * changes no table, whatever the route; a signed-in viewer (CSRF token and
 * our Origin) and an anonymous visitor change nothing through a public route
 * unless the change is in the audit log.
 */
START_TEST(test_no_route_writes_for_a_caller_without_permission)
{
	char token[80], auth[120], path[300], api[320], t[120];
	struct ap_problem pb = { 0 };
	struct ap_user_row row;
	struct ap_db *db = NULL;
	int64_t id = 0;
	int checked = 0;

	ck_assert_int_eq(ap_dbconn_open(cfg, &db), AP_DB_OK);
	ck_assert_int_eq(ap_user_find(db, "viewer1", &row, NULL), AP_DB_OK);
	ck_assert_int_eq(ap_token_create(db, cfg, row.id, "walk", "read", "", 0, token, &id, &pb), AP_DB_OK);
	ap_db_close(db);
	snprintf(auth, sizeof(auth), "HTTP_AUTHORIZATION=Bearer %s", token);
	snprintf(t, sizeof(t), "HTTP_X_CSRF_TOKEN=%s", csrf_viewer);
	for (size_t i = 0; i < ap_nroutes; i++) {
		const struct ap_route *rt = &ap_routes[i];

		concrete(rt->pattern, path, sizeof(path));
		snprintf(api, sizeof(api), "/api/v1%s", path);
		for (int m = 0; m < AP_METHOD__MAX; m++) {
			unsigned mask = rt->methods | ((rt->methods & AP_M_GET) ? AP_M_HEAD : 0);
			const char *mn = ap_method_name((enum ap_method)m), *body = valid_body(rt);
			const char *h[6] = { "CONTENT_TYPE=application/x-www-form-urlencoded", "HTTP_ORIGIN=http://panel.test",
				NULL, NULL, NULL, NULL };
			char *before, *after;
			int64_t a0;
			bool get = m == AP_METHOD_GET || m == AP_METHOD_HEAD;

			if (!(mask & AP_M(m)))
				continue;
			/* a read-scope token: nothing at all */
			before = db_snapshot();
			h[2] = auth;
			auto_cookie = NULL;
			serve(mn, api, get ? NULL : body, h);
			after = db_snapshot();
			ck_assert_msg(strcmp(before, after) == 0, "a read-scope token changed the database: %s %s", mn, api);
			free(before);
			free(after);
			if (!(rt->flags & AP_ROUTE_PUBLIC))
				continue;
			/* a signed-in viewer, and nobody: only what the audit log records */
			for (int who = 0; who < 2; who++) {
				before = db_snapshot();
				a0 = audit_rows();
				h[2] = who == 0 ? t : NULL;
				auto_cookie = who == 0 ? cookie_viewer : NULL;
				serve(mn, path, get ? NULL : body, h);
				after = db_snapshot();
				ck_assert_msg(strcmp(before, after) == 0 || audit_rows() > a0,
				    "%s %s %s changed the database without an audit record", who == 0 ? "a viewer" : "anonymous",
				    mn, path);
				free(before);
				free(after);
			}
			checked++;
		}
	}
	ck_assert_int_gt(checked, 5);
	/* and the viewer's language did change, audited, through the cookie session */
	ck_assert_int_eq(ap_dbconn_open(cfg, &db), AP_DB_OK);
	{
		int64_t n = 0;

		ck_assert_int_eq(ap_db_query_int64(db, "SELECT COUNT(*) FROM audit_log WHERE action = 'account.language' "
		    "AND actor = 'viewer1'", &n), AP_DB_OK);
		ck_assert_int_ge(n, 1);
	}
	ap_db_close(db);
	auto_cookie = cookie_admin;
}
END_TEST

/* regression: last_seen_at was written at most once a minute, so a session
 * with a one-minute idle timeout ended while it was being used */
START_TEST(test_session_in_use_never_idles_out)
{
	struct ap_db *db = NULL;
	struct ap_user_row row;
	struct ap_session s, got;
	struct ap_user u;
	char c[AP_SESSION_ID_HEX + 1];
	int saved = cfg->session_idle_timeout;
	time_t t0 = time(NULL);

	cfg->session_idle_timeout = 60;
	ck_assert_int_eq(ap_dbconn_open(cfg, &db), AP_DB_OK);
	ck_assert_int_eq(ap_user_find(db, "viewer1", &row, NULL), AP_DB_OK);
	ck_assert_int_eq(ap_session_create(db, cfg, row.id, false, "127.0.0.1", "check", c, &s), AP_DB_OK);
	/* a request every 59 s, for ten minutes: always alive */
	for (int i = 1; i <= 10; i++)
		ck_assert_msg(ap_session_lookup(db, cfg, c, t0 + 59 * i, arena, &got, &u) == AP_DB_OK,
		    "ended at request %d, %d s after the previous one", i, 59);
	/* unused for longer than the timeout and its slack: gone */
	ck_assert_int_eq(ap_session_lookup(db, cfg, c, t0 + 590 + 60 + 6, arena, &got, &u), AP_DB_ENOTFOUND);
	ap_db_close(db);
	cfg->session_idle_timeout = saved;
}
END_TEST

/* regression: a session waiting for its second factor could not sign out */
START_TEST(test_pending_session_signs_out)
{
	struct ap_db *db = NULL;
	struct ap_user_row row;
	struct ap_session s, got;
	struct ap_user u;
	char c[AP_SESSION_ID_HEX + 1], ck[120], t[120];
	const char *h[5] = { "CONTENT_TYPE=application/x-www-form-urlencoded", "HTTP_ORIGIN=http://panel.test", t, NULL,
		NULL };
	const char *r;

	ck_assert_int_eq(ap_dbconn_open(cfg, &db), AP_DB_OK);
	ck_assert_int_eq(ap_user_find(db, "operator1", &row, NULL), AP_DB_OK);
	ck_assert_int_eq(ap_session_create(db, cfg, row.id, true, "127.0.0.1", "check", c, &s), AP_DB_OK);
	snprintf(ck, sizeof(ck), "aapanel=%s", c);
	auto_cookie = ck;
	/* the code page offers it */
	r = serve("GET", "/login/2fa", NULL, NULL);
	ck_assert_int_eq(status_of(r), 200);
	ck_assert_ptr_nonnull(strstr(r, "action=\"/logout\""));
	/* still no page of the panel, and no sign-out without the session's CSRF token */
	ck_assert_int_eq(status_of(serve("GET", "/account", NULL, (const char *const[]){ "HTTP_ACCEPT=application/json",
	    NULL })), 401);
	snprintf(t, sizeof(t), "HTTP_X_CSRF_TOKEN=%s", "0000");
	ck_assert_int_eq(status_of(serve("POST", "/logout", "", h)), 403);
	snprintf(t, sizeof(t), "HTTP_X_CSRF_TOKEN=%s", s.csrf);
	r = serve("POST", "/logout", "", h);
	ck_assert_int_eq(status_of(r), 303);
	ck_assert_ptr_nonnull(strstr(r, "\r\nLocation: /login\r\n"));
	ck_assert_ptr_nonnull(strstr(r, "Set-Cookie: aapanel=; Path=/; Max-Age=0"));
	ck_assert_int_eq(ap_session_lookup(db, cfg, c, time(NULL), arena, &got, &u), AP_DB_ENOTFOUND);
	ap_db_close(db);
	auto_cookie = cookie_admin;
}
END_TEST

/* regression: API tokens were unlimited */
START_TEST(test_tokens_per_user_are_capped)
{
	static const char *const h[] = { "CONTENT_TYPE=application/x-www-form-urlencoded", "HTTP_ORIGIN=http://panel.test",
		"HTTP_ACCEPT=application/json", NULL, NULL };
	const char *hh[5];
	struct ap_db *db = NULL;
	struct ap_problem pb = { 0 };
	struct ap_user_row row;
	char token[80], t[120];
	int64_t id = 0, first = 0;
	int saved = cfg->max_tokens_per_user;
	const char *r;

	cfg->max_tokens_per_user = 2;
	ck_assert_int_eq(ap_dbconn_open(cfg, &db), AP_DB_OK);
	ck_assert_int_eq(ap_user_find(db, "operator1", &row, NULL), AP_DB_OK);
	ck_assert_int_eq(ap_token_create(db, cfg, row.id, "a", "read", "", 0, token, &first, &pb), AP_DB_OK);
	ck_assert_int_eq(ap_token_create(db, cfg, row.id, "b", "read", "", 0, token, &id, &pb), AP_DB_OK);
	ck_assert_int_eq(ap_token_create(db, cfg, row.id, "c", "read", "", 0, token, &id, &pb), AP_DB_EINVAL);
	ck_assert_int_eq(pb.code, AP_PB_CONFLICT);
	/* through the account page: a clear 409 */
	memcpy(hh, h, sizeof(hh));
	snprintf(t, sizeof(t), "HTTP_X_CSRF_TOKEN=%s", csrf_operator);
	hh[3] = t;
	auto_cookie = cookie_operator;
	r = serve("POST", "/account/tokens", "name=d&scope=read", hh);
	ck_assert_int_eq(status_of(r), 409);
	ck_assert_ptr_nonnull(strstr(r, "the most one user may hold"));
	/* a revoked token no longer counts */
	ck_assert_int_eq(ap_token_revoke(db, first, row.id), AP_DB_OK);
	ck_assert_int_eq(ap_token_create(db, cfg, row.id, "e", "read", "", 0, token, &id, &pb), AP_DB_OK);
	ap_db_close(db);
	cfg->max_tokens_per_user = saved;
	auto_cookie = cookie_admin;
}
END_TEST

/* regression: the version was shown to anonymous visitors */
START_TEST(test_version_only_for_the_signed_in)
{
	static const char *const remote[] = { "HTTP_X_FORWARDED_FOR=203.0.113.5", NULL };
	char *saved = cfg->trusted_proxies;
	struct json_object *j;
	const char *r;

	auto_cookie = NULL;
	r = serve("GET", "/login", NULL, NULL);
	ck_assert_int_eq(status_of(r), 200);
	ck_assert_ptr_null(strstr(body_of(r), AP_VERSION));
	auto_cookie = cookie_viewer;
	ck_assert_ptr_nonnull(strstr(body_of(serve("GET", "/", NULL, NULL)), AP_VERSION));
	/* /healthz: the version for this machine's monitoring, not for others */
	auto_cookie = NULL;
	j = json_tokener_parse(body_of(serve("GET", "/healthz", NULL, NULL)));
	ck_assert(json_object_object_get_ex(j, "version", NULL));
	json_object_put(j);
	cfg->trusted_proxies = (char *)"127.0.0.1";
	j = json_tokener_parse(body_of(serve("GET", "/healthz", NULL, remote)));
	ck_assert_ptr_nonnull(j);
	ck_assert(!json_object_object_get_ex(j, "version", NULL));
	ck_assert(json_object_object_get_ex(j, "status", NULL));
	json_object_put(j);
	cfg->trusted_proxies = saved;
	auto_cookie = cookie_admin;
}
END_TEST

/* regression: disabling a user only suspended their tokens (they worked again once enabled).
 * Decided: disabling revokes them; enabling does not bring them back. */
START_TEST(test_disabling_a_user_revokes_their_tokens)
{
	struct ap_db *db = NULL;
	struct ap_problem pb = { 0 };
	struct ap_user_row row;
	struct ap_token_row tr;
	struct ap_user u;
	char token[80];
	int64_t id = 0, uid = 0;

	ck_assert_int_eq(ap_dbconn_open(cfg, &db), AP_DB_OK);
	ck_assert_int_eq(ap_user_create(db, cfg, "leaver", "operator", "a long enough passphrase", &uid, &pb), AP_DB_OK);
	ck_assert_int_eq(ap_user_find(db, "leaver", &row, NULL), AP_DB_OK);
	ck_assert_int_eq(ap_token_create(db, cfg, row.id, "cron", "write", "", 0, token, &id, &pb), AP_DB_OK);
	ck_assert_int_eq(ap_token_auth(db, cfg, token, "127.0.0.1", time(NULL), arena, &tr, &u), AP_DB_OK);
	ck_assert_int_eq(ap_user_set_disabled(db, row.id, true), AP_DB_OK);
	ck_assert_int_eq(ap_token_auth(db, cfg, token, "127.0.0.1", time(NULL), arena, &tr, &u), AP_DB_ENOTFOUND);
	ck_assert_int_eq(ap_user_set_disabled(db, row.id, false), AP_DB_OK);
	ck_assert_int_eq(ap_token_auth(db, cfg, token, "127.0.0.1", time(NULL), arena, &tr, &u), AP_DB_ENOTFOUND);
	ck_assert_int_ne(tr.revoked_at, 0);
	ap_db_close(db);
}
END_TEST

/* regression: /healthz only read, so it said "ok" whatever the storage; now it says what it probed */
START_TEST(test_healthz_says_whether_the_panel_can_write)
{
	const char *r = serve("GET", "/healthz", NULL, NULL);
	struct json_object *j = json_tokener_parse(body_of(r)), *v = NULL;

	ck_assert_int_eq(status_of(r), 200);
	ck_assert(json_object_object_get_ex(j, "disk", &v));
	ck_assert_str_eq(json_object_get_string(v), "ok");
	ck_assert(json_object_object_get_ex(j, "db", &v));
	ck_assert_str_eq(json_object_get_string(v), "ok");
	json_object_put(j);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("app");

	TCase *tc = tcase_create("serve"), *tb = tcase_create("base_path"), *tp = tcase_create("perm");
	SRunner *sr;
	int failed;

	/* once per test case, in the process that forks its tests */
	tcase_add_unchecked_fixture(tc, make_template, remove_template);
	tcase_add_unchecked_fixture(tb, make_template, remove_template);
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
	tcase_add_test(tc, test_refused_post_of_a_signed_in_user_renders);
	tcase_add_test(tc, test_field_refused_before_the_database_stage);
	tcase_add_test(tc, test_lang_post_returns_to_same_host_page);
	tcase_add_test(tc, test_reason_arguments_are_marked_apart);
	tcase_add_test(tc, test_test_route_absent_outside_test_profile);
	tcase_add_test(tc, test_ctx_header_refuses_crlf);
	tcase_add_loop_test(tc, test_redirects_stay_local, 0, (int)AP_NELEM(redirect_rows));
	tcase_add_test(tc, test_init_fails_on_template_error_with_file_line);
	tcase_add_test(tc, test_init_fails_when_route_template_missing);
	tcase_add_test(tc, test_gate_walks_the_route_table);
	tcase_add_test(tc, test_public_routes_are_the_short_list);
	tcase_add_test(tc, test_api_prefix_and_bearer);
	tcase_add_test(tc, test_forwarded_for_is_not_trusted_by_default);
	tcase_add_test(tc, test_trusted_proxy_forwarded_for);
	tcase_add_loop_test(tc, test_login_next_stays_on_the_panel, 0, (int)AP_NELEM(next_rows));
	tcase_add_loop_test(tc, test_forwarded_header_rows, 0, (int)AP_NELEM(fwd_rows));
	tcase_add_test(tc, test_forwarded_client_reaches_the_allowlist);
	tcase_add_test(tc, test_origin_is_the_configured_one_not_host);
	tcase_add_test(tc, test_lang_returns_only_to_our_origin);
	tcase_add_test(tc, test_method_not_allowed_is_bare_outside_the_allowlist);
	tcase_add_test(tc, test_address_throttle_ignores_successes);
	tcase_add_test(tc, test_signin_refused_alike_when_attempts_cannot_be_recorded);
	tcase_add_test(tc, test_no_route_writes_for_a_caller_without_permission);
	tcase_add_test(tc, test_session_in_use_never_idles_out);
	tcase_add_test(tc, test_pending_session_signs_out);
	tcase_add_test(tc, test_tokens_per_user_are_capped);
	tcase_add_test(tc, test_version_only_for_the_signed_in);
	tcase_add_test(tc, test_disabling_a_user_revokes_their_tokens);
	tcase_add_test(tc, test_healthz_says_whether_the_panel_can_write);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tp, test_role_allows_permission_without_dot);
	tcase_add_checked_fixture(tb, setup_base, teardown);
	tcase_add_test(tb, test_base_path_security_entrance);
	tcase_add_loop_test(tb, test_unparsable_requests_are_bare_before_the_entrance, 0,
	    (int)AP_NELEM(unparsable_rows));
	suite_add_tcase(s, tc);
	suite_add_tcase(s, tb);
	suite_add_tcase(s, tp);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
