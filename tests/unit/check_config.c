/* check_config.c — configuration loading, overlay, validation, secrets, show. */
#include <sys/stat.h>

#include <check.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libconfig.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aapanel/config.h"
#include "aapanel/listenconf.h"

static char root[PATH_MAX];
static char nocred[PATH_MAX + 16];

static int
rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
write_at(const char *rel, const char *text, mode_t mode)
{
	char path[PATH_MAX + 64];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
}

static void
mkdir_at(const char *rel)
{
	char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	ck_assert_int_eq(mkdir(path, 0755), 0);
}

static void
setup(void)
{
	strcpy(root, "/tmp/ap-config-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(root));
	snprintf(nocred, sizeof(nocred), "%s/nocred", root);
	mkdir_at("conf");
	mkdir_at("conf/profiles");
	mkdir_at("templates");
	mkdir_at("static");
	mkdir_at("po");
	mkdir_at("sql");
}

static void
teardown(void)
{
	nftw(root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static char *
at(const char *rel)
{
	return ap_xasprintf("%s/%s", root, rel);
}

/* Load with conf/aapanel.cfg = base and conf/profiles/<p>.cfg = overlay (NULL = none). */
static enum ap_err
load_opts(struct ap_config_opts *o, const char *base, const char *overlay,
    struct ap_config **c, struct ap_config_problems *pr)
{
	char rel[64];

	write_at("conf/aapanel.cfg", base, 0644);
	if (overlay != NULL) {
		snprintf(rel, sizeof(rel), "conf/profiles/%s.cfg",
		    ap_profile_name(o->profile));
		write_at(rel, overlay, 0644);
	}
	o->root_dir = root;
	if (o->credentials_dir == NULL)
		o->credentials_dir = nocred;
	memset(pr, 0, sizeof(*pr));
	return ap_config_load(o, c, pr);
}

static enum ap_err
load(enum ap_profile p, const char *base, const char *overlay,
    struct ap_config **c, struct ap_config_problems *pr)
{
	struct ap_config_opts o = { .profile = p };

	return load_opts(&o, base, overlay, c, pr);
}

/* The first problem for key, or NULL. */
static const struct ap_config_problem *
find(const struct ap_config_problems *pr, const char *key)
{
	for (size_t i = 0; i < pr->n; i++)
		if (pr->v[i].key != NULL && strcmp(pr->v[i].key, key) == 0)
			return &pr->v[i];
	return NULL;
}

static void
dump(const struct ap_config_problems *pr)
{
	for (size_t i = 0; i < pr->n; i++) {
		char *s = ap_config_problem_str(&pr->v[i]);

		fprintf(stderr, "  problem: %s\n", s);
		free(s);
	}
}

/* Assert a problem for key whose reason contains want. */
static void
expect_problem(const struct ap_config_problems *pr, const char *key,
    const char *want)
{
	const struct ap_config_problem *p = find(pr, key);

	if (p == NULL)
		dump(pr);
	ck_assert_msg(p != NULL, "no problem for %s", key);
	ck_assert_msg(strstr(p->reason, want) != NULL, "%s: '%s' lacks '%s'", key,
	    p->reason, want);
}

static struct ap_config *
load_ok(enum ap_profile p, const char *base, const char *overlay)
{
	struct ap_config *c = NULL;
	struct ap_config_problems pr;
	enum ap_err e = load(p, base, overlay, &c, &pr);

	if (e != AP_OK)
		dump(&pr);
	ck_assert_int_eq(e, AP_OK);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(pr.n, 0);
	return c;
}

static void
good_key_hex(char *hex65)
{
	ck_assert_int_eq(ap_random_hex(hex65, 32), AP_OK);
}

static char *
problems_joined(const struct ap_config_problems *pr)
{
	struct ap_buf b = { 0 };

	for (size_t i = 0; i < pr->n; i++) {
		char *s = ap_config_problem_str(&pr->v[i]);

		ap_buf_puts(&b, s);
		ap_buf_putc(&b, '\n');
		free(s);
	}
	return b.data != NULL ? b.data : ap_xstrdup("");
}

/* ---- profile names and detection -------------------------------------- */

static const struct {
	const char *in;
	bool ok;
	enum ap_profile p;
} parse_rows[] = {
	{ "development", true, AP_PROFILE_DEVELOPMENT },
	{ "dev", true, AP_PROFILE_DEVELOPMENT },
	{ "DEV", true, AP_PROFILE_DEVELOPMENT },
	{ "production", true, AP_PROFILE_PRODUCTION },
	{ "prod", true, AP_PROFILE_PRODUCTION },
	{ "Production", true, AP_PROFILE_PRODUCTION },
	{ "test", true, AP_PROFILE_TEST },
	{ "TEST", true, AP_PROFILE_TEST },
	{ "", false, 0 },
	{ "staging", false, 0 },
	{ "testing", false, 0 },
	{ "prod ", false, 0 },
	{ "develop", false, 0 },
};

START_TEST(test_profile_parse_table)
{
	enum ap_profile p = AP_PROFILE__MAX;

	ck_assert_msg(ap_profile_parse(parse_rows[_i].in, &p) == parse_rows[_i].ok,
	    "row %d '%s'", _i, parse_rows[_i].in);
	if (parse_rows[_i].ok)
		ck_assert_int_eq(p, parse_rows[_i].p);
}
END_TEST

START_TEST(test_profile_names)
{
	ck_assert_str_eq(ap_profile_name(AP_PROFILE_DEVELOPMENT), "development");
	ck_assert_str_eq(ap_profile_name(AP_PROFILE_PRODUCTION), "production");
	ck_assert_str_eq(ap_profile_name(AP_PROFILE_TEST), "test");
	ck_assert_str_eq(ap_profile_name(AP_PROFILE__MAX), "unknown");
}
END_TEST

static const struct {
	const char *flag, *env;
	bool checkout;
	enum ap_err err;
	enum ap_profile p;
	enum ap_profile_source src;
	const char *reason;
} detect_rows[] = {
	{ "production", "test", true, AP_OK, AP_PROFILE_PRODUCTION,
	    AP_PROFILE_FROM_FLAG, "--profile flag" },
	{ "dev", NULL, false, AP_OK, AP_PROFILE_DEVELOPMENT, AP_PROFILE_FROM_FLAG,
	    "--profile flag" },
	{ "PROD", NULL, true, AP_OK, AP_PROFILE_PRODUCTION, AP_PROFILE_FROM_FLAG,
	    "--profile flag" },
	{ NULL, "test", true, AP_OK, AP_PROFILE_TEST, AP_PROFILE_FROM_ENV,
	    "AAPANEL_ENV=test" },
	{ NULL, "Development", false, AP_OK, AP_PROFILE_DEVELOPMENT,
	    AP_PROFILE_FROM_ENV, "AAPANEL_ENV=Development" },
	{ NULL, "prod", true, AP_OK, AP_PROFILE_PRODUCTION, AP_PROFILE_FROM_ENV,
	    "AAPANEL_ENV=prod" },
	{ NULL, "", true, AP_OK, AP_PROFILE_DEVELOPMENT, AP_PROFILE_FROM_SOURCE,
	    "source checkout" },
	{ NULL, NULL, true, AP_OK, AP_PROFILE_DEVELOPMENT, AP_PROFILE_FROM_SOURCE,
	    "source checkout" },
	{ NULL, NULL, false, AP_OK, AP_PROFILE_PRODUCTION, AP_PROFILE_FROM_DEFAULT,
	    "installed copy" },
	{ NULL, "", false, AP_OK, AP_PROFILE_PRODUCTION, AP_PROFILE_FROM_DEFAULT,
	    "installed copy" },
	{ NULL, "staging", true, AP_ERR_INVAL, 0, 0,
	    "unknown profile 'staging' from AAPANEL_ENV (expected development, "
	    "production or test)" },
	{ "x", "test", true, AP_ERR_INVAL, 0, 0,
	    "unknown profile 'x' from --profile (expected development, "
	    "production or test)" },
	{ "", NULL, true, AP_ERR_INVAL, 0, 0, "unknown profile '' from --profile" },
};

START_TEST(test_profile_detect_table)
{
	enum ap_profile p = AP_PROFILE__MAX;
	enum ap_profile_source src = AP_PROFILE_FROM_DEFAULT;
	char reason[256] = "";
	enum ap_err e;

	mkdir_at("src");
	mkdir_at("src/cli");
	if (detect_rows[_i].checkout) {
		write_at("src/cli/main.c", "int main(void) { return 0; }\n", 0644);
		write_at("Makefile", "all:\n", 0644);
	}
	e = ap_profile_detect(detect_rows[_i].flag, detect_rows[_i].env, root, &p,
	    &src, reason, sizeof(reason));
	ck_assert_msg(e == detect_rows[_i].err, "row %d: err %d", _i, e);
	ck_assert_msg(strstr(reason, detect_rows[_i].reason) != NULL,
	    "row %d: reason '%s'", _i, reason);
	if (e == AP_OK) {
		ck_assert_int_eq(p, detect_rows[_i].p);
		ck_assert_int_eq(src, detect_rows[_i].src);
	}
}
END_TEST

START_TEST(test_detect_needs_both_checkout_files)
{
	enum ap_profile p;
	enum ap_profile_source src;
	char reason[256];

	write_at("Makefile", "all:\n", 0644);
	ck_assert_int_eq(ap_profile_detect(NULL, NULL, root, &p, &src, reason,
	    sizeof(reason)), AP_OK);
	ck_assert_int_eq(p, AP_PROFILE_PRODUCTION);
	mkdir_at("src");
	mkdir_at("src/cli");
	write_at("src/cli/main.c", "\n", 0644);
	ck_assert_int_eq(ap_profile_detect(NULL, NULL, root, &p, &src, reason,
	    sizeof(reason)), AP_OK);
	ck_assert_int_eq(p, AP_PROFILE_DEVELOPMENT);
}
END_TEST

START_TEST(test_detect_reason_sanitizes_env)
{
	enum ap_profile p;
	enum ap_profile_source src;
	char reason[256];

	ck_assert_int_eq(ap_profile_detect(NULL, "x\ny\033", root, &p, &src,
	    reason, sizeof(reason)), AP_ERR_INVAL);
	ck_assert_ptr_null(strchr(reason, '\n'));
	ck_assert_ptr_null(strchr(reason, '\033'));
}
END_TEST

/* ---- defaults ---------------------------------------------------------- */

START_TEST(test_empty_base_gives_defaults)
{
	struct ap_config *c = load_ok(AP_PROFILE_TEST, "", NULL);
	char *p;

	ck_assert_str_eq(c->panel_name, "aaPanel");
	ck_assert_str_eq(c->default_language, "en");
	ck_assert_str_eq(c->base_path, "/");
	ck_assert(!c->debug);
	p = at("var/run/aapanel.sock");
	ck_assert_str_eq(c->socket_path, p);
	free(p);
	ck_assert_int_eq(c->socket_mode, 0660);
	ck_assert_str_eq(c->socket_group, "");
	ck_assert_int_eq(c->backlog, 511);
	ck_assert_int_eq(c->workers, 0);
	ck_assert_int_eq(c->max_workers, 32);
	ck_assert_int_eq(c->max_requests, 10000);
	ck_assert_int_eq(c->max_requests_jitter, 1000);
	ck_assert_int_eq(c->request_timeout, 30);
	ck_assert_int_eq(c->shutdown_timeout, 30);
	ck_assert_int_eq(c->crash_limit, 10);
	ck_assert_int_eq(c->max_body, 1048576);
	ck_assert_int_eq(c->max_upload, 67108864);
	ck_assert_int_eq(c->max_fields, 256);
	ck_assert_int_eq(c->max_field_len, 65536);
	ck_assert_int_eq(c->max_header_len, 8192);
	ck_assert_str_eq(c->log_level, "info");
	ck_assert_str_eq(c->log_file, "");
	ck_assert_str_eq(c->secret_key_file, "");
	ck_assert_str_eq(c->db_password_file, "");
	ck_assert(!c->db_auto_migrate);
	ck_assert_int_eq(c->nginx_read_timeout, 60);
	p = ap_xasprintf("sqlite:%s/var/aapanel.db", root);
	ck_assert_str_eq(c->db_dsn, p);
	free(p);
	ap_config_free(c);
}
END_TEST

START_TEST(test_paths_resolve_against_root)
{
	struct ap_config *c = load_ok(AP_PROFILE_TEST,
	    "paths = { var_dir = \"./state//x/\"; log_dir = \"/abs/log\"; };\n"
	    "log = { file = \"var/log/panel.log\"; };\n",
	    NULL);
	char *p;

	p = at("state/x");
	ck_assert_str_eq(c->var_dir, p);
	free(p);
	ck_assert_str_eq(c->log_dir, "/abs/log");
	p = at("templates");
	ck_assert_str_eq(c->templates_dir, p);
	free(p);
	p = at("var/log/panel.log");
	ck_assert_str_eq(c->log_file, p);
	free(p);
	p = at("conf/aapanel.cfg");
	ck_assert_str_eq(c->base_file, p);
	free(p);
	ck_assert_str_eq(c->root_dir, root);
	ck_assert_ptr_null(c->profile_file);
	ap_config_free(c);
}
END_TEST

START_TEST(test_relative_root_becomes_absolute)
{
	struct ap_config_opts o = { .profile = AP_PROFILE_TEST };
	struct ap_config_problems pr = { 0 };
	struct ap_config *c = NULL;
	char cwd[PATH_MAX];
	char *p;

	write_at("conf/aapanel.cfg", "", 0644);
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_int_eq(chdir(root), 0);
	o.root_dir = ".";
	o.credentials_dir = nocred;
	ck_assert_int_eq(ap_config_load(&o, &c, &pr), AP_OK);
	ck_assert_str_eq(c->root_dir, root);
	p = at("static");
	ck_assert_str_eq(c->static_dir, p);
	free(p);
	ck_assert_int_eq(chdir(cwd), 0);
	ap_config_free(c);
}
END_TEST

/* ---- types ------------------------------------------------------------- */

static const struct {
	const char *group, *name, *value, *reason;
} type_rows[] = {
	{ "panel", "name", "5", "must be a string" },
	{ "panel", "default_language", "true", "must be a string" },
	{ "panel", "base_path", "1", "must be a string" },
	{ "panel", "debug", "\"yes\"", "must be true or false" },
	{ "panel", "debug", "1", "must be true or false" },
	{ "server", "socket", "0", "must be a string" },
	{ "server", "socket_mode", "0660", "must be a string" },
	{ "server", "socket_group", "33", "must be a string" },
	{ "server", "backlog", "\"511\"", "must be an integer" },
	{ "server", "backlog", "511.0", "must be an integer" },
	{ "pool", "workers", "true", "must be an integer" },
	{ "pool", "max_workers", "\"8\"", "must be an integer" },
	{ "pool", "max_requests", "1e4", "must be an integer" },
	{ "pool", "max_requests_jitter", "[1]", "must be an integer" },
	{ "pool", "request_timeout", "\"30s\"", "must be an integer" },
	{ "pool", "shutdown_timeout", "(30)", "must be an integer" },
	{ "pool", "crash_limit", "false", "must be an integer" },
	{ "limits", "max_body", "\"1M\"", "must be an integer" },
	{ "limits", "max_upload", "6.4e7", "must be an integer" },
	{ "limits", "max_fields", "\"256\"", "must be an integer" },
	{ "limits", "max_field_len", "{ }", "must be an integer" },
	{ "limits", "max_header_len", "8192.5", "must be an integer" },
	{ "paths", "var_dir", "1", "must be a string" },
	{ "paths", "templates", "false", "must be a string" },
	{ "log", "level", "1", "must be a string" },
	{ "log", "file", "[\"a\"]", "must be a string" },
	{ "security", "secret_key_file", "1", "must be a string" },
	{ "db", "dsn", "0", "must be a string" },
	{ "db", "password_file", "true", "must be a string" },
	{ "db", "auto_migrate", "\"false\"", "must be true or false" },
	{ "nginx", "fastcgi_read_timeout", "\"60\"", "must be an integer" },
};

START_TEST(test_type_errors_table)
{
	struct ap_config *c = NULL;
	struct ap_config_problems pr;
	char *base = ap_xasprintf("\n%s = {\n  %s = %s;\n};\n", type_rows[_i].group,
	    type_rows[_i].name, type_rows[_i].value);
	char *key = ap_xasprintf("%s.%s", type_rows[_i].group, type_rows[_i].name);
	const struct ap_config_problem *p;

	ck_assert_int_eq(load(AP_PROFILE_TEST, base, NULL, &c, &pr), AP_ERR_INVAL);
	ck_assert_ptr_null(c);
	expect_problem(&pr, key, type_rows[_i].reason);
	p = find(&pr, key);
	ck_assert_int_eq(p->line, 3);
	free(base);
	free(key);
	ap_config_problems_free(&pr);
}
END_TEST

/* ---- integer ranges ---------------------------------------------------- */

static const struct {
	const char *key, *value;
	const char *reason; /* NULL: accepted */
} range_rows[] = {
	{ "server.backlog", "510", "must be between 511 and 65535" },
	{ "server.backlog", "65536", "must be between 511 and 65535" },
	{ "server.backlog", "511", NULL },
	{ "server.backlog", "65535", NULL },
	{ "pool.workers", "-1", "must be between 0 and 256" },
	{ "pool.workers", "257", "must be between 0 and 256" },
	{ "pool.workers", "0", NULL },
	{ "pool.max_workers", "0", "must be between 1 and 256" },
	{ "pool.max_workers", "257", "must be between 1 and 256" },
	{ "pool.max_workers", "256", NULL },
	{ "pool.max_requests", "-1", "must be between 0 and 10000000" },
	{ "pool.max_requests", "10000001", "must be between 0 and 10000000" },
	{ "pool.max_requests", "10000000", NULL },
	{ "pool.max_requests_jitter", "-1", "must be between 0 and 1000000" },
	{ "pool.max_requests_jitter", "1000001", "must be between 0 and 1000000" },
	{ "pool.request_timeout", "0", "must be between 1 and 3600" },
	{ "pool.request_timeout", "3601", "must be between 1 and 3600" },
	{ "pool.request_timeout", "1", NULL },
	{ "pool.shutdown_timeout", "0", "must be between 1 and 3600" },
	{ "pool.shutdown_timeout", "3601", "must be between 1 and 3600" },
	{ "pool.shutdown_timeout", "3600", NULL },
	{ "pool.crash_limit", "0", "must be between 1 and 1000" },
	{ "pool.crash_limit", "1001", "must be between 1 and 1000" },
	{ "pool.crash_limit", "1000", NULL },
	{ "limits.max_body", "1023", "must be between 1024 and 1073741824" },
	{ "limits.max_body", "1073741825", "must be between 1024 and 1073741824" },
	{ "limits.max_body", "1024", NULL },
	{ "limits.max_upload", "1023", "must be between 1024 and 17179869184" },
	{ "limits.max_upload", "17179869185L", "must be between 1024 and 17179869184" },
	{ "limits.max_upload", "17179869184L", NULL },
	{ "limits.max_fields", "0", "must be between 1 and 10000" },
	{ "limits.max_fields", "10001", "must be between 1 and 10000" },
	{ "limits.max_fields", "10000", NULL },
	{ "limits.max_field_len", "0", "must be between 1 and 1048576" },
	{ "limits.max_field_len", "1048577", "must be between 1 and 1048576" },
	{ "limits.max_field_len", "1048576", NULL },
	{ "limits.max_header_len", "255", "must be between 256 and 65536" },
	{ "limits.max_header_len", "65537", "must be between 256 and 65536" },
	{ "limits.max_header_len", "256", NULL },
	{ "nginx.fastcgi_read_timeout", "1", "must be between 2 and 7200" },
	{ "nginx.fastcgi_read_timeout", "7201", "must be between 2 and 7200" },
	{ "nginx.fastcgi_read_timeout", "7200", NULL },
};

/* "group.key" + value → a base file setting just that key. */
static char *
one_key(const char *dotted, const char *value)
{
	const char *dot = strchr(dotted, '.');

	return ap_xasprintf("%.*s = {\n  %s = %s;\n};\n", (int)(dot - dotted),
	    dotted, dot + 1, value);
}

START_TEST(test_int_ranges_table)
{
	struct ap_config *c = NULL;
	struct ap_config_problems pr;
	char *base = one_key(range_rows[_i].key, range_rows[_i].value);

	load(AP_PROFILE_TEST, base, NULL, &c, &pr);
	if (range_rows[_i].reason != NULL) {
		ck_assert_ptr_null(c);
		expect_problem(&pr, range_rows[_i].key, range_rows[_i].reason);
		ck_assert_int_eq(find(&pr, range_rows[_i].key)->line, 2);
	} else {
		if (find(&pr, range_rows[_i].key) != NULL)
			dump(&pr);
		ck_assert_ptr_null(find(&pr, range_rows[_i].key));
	}
	ap_config_free(c);
	ap_config_problems_free(&pr);
	free(base);
}
END_TEST

START_TEST(test_wide_int_without_suffix_rejected)
{
	struct ap_config *c = NULL;
	struct ap_config_problems pr;

	/* libconfig would silently read this as 0. */
	ck_assert_int_eq(load(AP_PROFILE_TEST,
	    "limits = {\n  max_upload = 17179869184;\n};\n", NULL, &c, &pr),
	    AP_ERR_INVAL);
	expect_problem(&pr, "limits.max_upload", "L suffix (17179869184L)");
	ck_assert_int_eq(find(&pr, "limits.max_upload")->line, 2);
	ap_config_problems_free(&pr);
}
END_TEST

START_TEST(test_wide_int_with_suffix_loads)
{
	struct ap_config *c = load_ok(AP_PROFILE_TEST,
	    "# 99999999999 in a comment is fine\n"
	    "limits = { max_upload = 17179869184L; max_body = 1073741824; };\n"
	    "panel = { name = \"99999999999\"; };\n",
	    NULL);

	ck_assert_int_eq(c->max_upload, 17179869184LL);
	ck_assert_int_eq(c->max_body, 1073741824LL);
	ap_config_free(c);
}
END_TEST

/* ---- cross-key rules --------------------------------------------------- */

static const struct {
	const char *base, *key, *reason;
} relation_rows[] = {
	{ "pool = { workers = 40; max_workers = 32; };", "pool.workers",
	    "must not exceed pool.max_workers (32)" },
	{ "pool = { max_requests = 100; max_requests_jitter = 101; };",
	    "pool.max_requests_jitter", "must not exceed pool.max_requests (100)" },
	{ "limits = { max_body = 2048; max_upload = 2047; };", "limits.max_upload",
	    "must be at least limits.max_body (2048)" },
	{ "pool = { request_timeout = 60; };\nnginx = { fastcgi_read_timeout = 60; };",
	    "nginx.fastcgi_read_timeout",
	    "must be greater than pool.request_timeout (60)" },
	{ "pool = { request_timeout = 90; };", "nginx.fastcgi_read_timeout",
	    "must be greater than pool.request_timeout (90)" },
	/* accepted */
	{ "pool = { workers = 32; max_workers = 32; };", "pool.workers", NULL },
	{ "pool = { max_requests = 0; max_requests_jitter = 5000; };",
	    "pool.max_requests_jitter", NULL },
	{ "pool = { max_requests = 100; max_requests_jitter = 100; };",
	    "pool.max_requests_jitter", NULL },
	{ "limits = { max_body = 2048; max_upload = 2048; };", "limits.max_upload",
	    NULL },
	{ "pool = { request_timeout = 59; };", "nginx.fastcgi_read_timeout", NULL },
};

START_TEST(test_relations_table)
{
	struct ap_config *c = NULL;
	struct ap_config_problems pr;
	enum ap_err e = load(AP_PROFILE_TEST, relation_rows[_i].base, NULL, &c, &pr);

	if (relation_rows[_i].reason != NULL) {
		ck_assert_int_eq(e, AP_ERR_INVAL);
		expect_problem(&pr, relation_rows[_i].key, relation_rows[_i].reason);
	} else {
		if (e != AP_OK)
			dump(&pr);
		ck_assert_int_eq(e, AP_OK);
	}
	ap_config_free(c);
	ap_config_problems_free(&pr);
}
END_TEST

/* ---- string values ----------------------------------------------------- */

static const struct {
	const char *key, *value;
	const char *reason; /* NULL: accepted */
} string_rows[] = {
	{ "panel.name", "\"\"", "must be 1 to 64 characters long" },
	{ "panel.name", "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"",
	    "must be 1 to 64 characters long" },
	{ "panel.name", "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"", NULL },
	{ "panel.name", "\"لوحة التحكم\"", NULL },
	{ "panel.name", "\"a\\nb\"", "control characters" },
	{ "panel.name", "\"\\xff\"", "valid UTF-8" },
	{ "panel.default_language", "\"en\"", NULL },
	{ "panel.default_language", "\"ar\"", NULL },
	{ "panel.default_language", "\"fr\"", "must be \"en\" or \"ar\"" },
	{ "panel.default_language", "\"EN\"", "must be \"en\" or \"ar\"" },
	{ "panel.default_language", "\"\"", "must be \"en\" or \"ar\"" },
	{ "server.socket_mode", "\"0600\"", NULL },
	{ "server.socket_mode", "\"0777\"", NULL },
	{ "server.socket_mode", "\"660\"", NULL },
	{ "server.socket_mode", "\"0500\"", "octal mode between \"0600\" and \"0777\"" },
	{ "server.socket_mode", "\"0800\"", "octal mode" },
	{ "server.socket_mode", "\"1777\"", "octal mode" },
	{ "server.socket_mode", "\"rw-rw----\"", "octal mode" },
	{ "server.socket_mode", "\"\"", "octal mode" },
	{ "server.socket_group", "\"\"", NULL },
	{ "server.socket_group", "\"www-data\"", NULL },
	{ "server.socket_group", "\"_nginx\"", NULL },
	{ "server.socket_group", "\"1www\"", "must be empty or a group name" },
	{ "server.socket_group", "\"www data\"", "must be empty or a group name" },
	{ "server.socket_group", "\"root;id\"", "must be empty or a group name" },
	{ "server.socket_group", "\"abcdefghijklmnopqrstuvwxyzabcdefg\"",
	    "must be empty or a group name" },
	{ "server.socket", "\"\"", "must not be empty" },
	{ "server.socket", "\"/run/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock\"",
	    "a unix socket path is at most 107" },
	{ "log.level", "\"debug\"", NULL },
	{ "log.level", "\"info\"", NULL },
	{ "log.level", "\"warn\"", NULL },
	{ "log.level", "\"error\"", NULL },
	{ "log.level", "\"verbose\"", "must be debug, info, warn or error" },
	{ "log.level", "\"INFO\"", "must be debug, info, warn or error" },
	{ "paths.var_dir", "\"\"", "must not be empty" },
	{ "paths.run_dir", "\"\"", "must not be empty" },
	{ "paths.var_dir", "\"does/not/exist/yet\"", NULL },
	{ "paths.templates", "\"nope\"", "No such file or directory" },
	{ "paths.static", "\"conf/aapanel.cfg\"", "is not a directory" },
	{ "paths.po", "\"\"", "must not be empty" },
	{ "paths.po", "\"conf\"", NULL },
	{ "log.file", "\"\"", NULL },
	{ "db.password_file", "\"\"", NULL },
};

START_TEST(test_string_values_table)
{
	struct ap_config *c = NULL;
	struct ap_config_problems pr;
	char *base = one_key(string_rows[_i].key, string_rows[_i].value);

	load(AP_PROFILE_TEST, base, NULL, &c, &pr);
	if (string_rows[_i].reason != NULL) {
		ck_assert_ptr_null(c);
		expect_problem(&pr, string_rows[_i].key, string_rows[_i].reason);
		ck_assert_int_eq(find(&pr, string_rows[_i].key)->line, 2);
	} else {
		if (pr.n > 0)
			dump(&pr);
		ck_assert_uint_eq(pr.n, 0);
		ck_assert_ptr_nonnull(c);
	}
	ap_config_free(c);
	ap_config_problems_free(&pr);
	free(base);
}
END_TEST

START_TEST(test_socket_mode_parsed_octal)
{
	struct ap_config *c = load_ok(AP_PROFILE_TEST,
	    "server = { socket_mode = \"0600\"; socket_group = \"www-data\"; };", NULL);

	ck_assert_int_eq(c->socket_mode, 0600);
	ck_assert_str_eq(c->socket_group, "www-data");
	ap_config_free(c);
}
END_TEST

static const struct {
	const char *value;
	bool ok;
} base_path_rows[] = {
	{ "/", true },
	{ "/panel", true },
	{ "/a/b-c_d", true },
	{ "/Panel2", true },
	{ "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", true },
	{ "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false },
	{ "", false },
	{ "panel", false },
	{ "/panel/", false },
	{ "//", false },
	{ "/a//b", false },
	{ "/../x", false },
	{ "/a.b", false },
	{ "/a b", false },
	{ "/a?x=1", false },
	{ "/é", false },
	{ "/a%2f", false },
};

START_TEST(test_base_path_table)
{
	struct ap_config *c = NULL;
	struct ap_config_problems pr;
	char *val = ap_xasprintf("\"%s\"", base_path_rows[_i].value);
	char *base = one_key("panel.base_path", val);

	load(AP_PROFILE_TEST, base, NULL, &c, &pr);
	if (base_path_rows[_i].ok) {
		if (pr.n > 0)
			dump(&pr);
		ck_assert_ptr_nonnull(c);
		ck_assert_str_eq(c->base_path, base_path_rows[_i].value);
	} else {
		ck_assert_ptr_null(c);
		expect_problem(&pr, "panel.base_path", "must be \"/\" or");
	}
	ap_config_free(c);
	ap_config_problems_free(&pr);
	free(base);
	free(val);
}
END_TEST

/* ---- DSN --------------------------------------------------------------- */

static const struct {
	const char *dsn;
	const char *want; /* stored form ("@" = root prefix) or the reason */
	bool ok;
} dsn_rows[] = {
	{ "sqlite:var/a.db", "sqlite:@/var/a.db", true },
	{ "sqlite:./x/../a.db", "sqlite:@/x/../a.db", true },
	{ "sqlite:///srv/panel/a.db", "sqlite:/srv/panel/a.db", true },
	{ "sqlite:/srv/a.db", "sqlite:/srv/a.db", true },
	{ "mysql://panel@localhost/aapanel", "mysql://panel@localhost/aapanel", true },
	{ "mysql://panel@db.example.com:3306/panel", "mysql://panel@db.example.com:3306/panel", true },
	{ "mysql://panel@localhost/aapanel?socket=/run/mysqld/mysqld.sock",
	    "mysql://panel@localhost/aapanel?socket=/run/mysqld/mysqld.sock", true },
	{ "postgresql://panel@127.0.0.1/aapanel", "postgresql://panel@127.0.0.1/aapanel", true },
	{ "postgres://panel@db:5432/aapanel?sslmode=require",
	    "postgres://panel@db:5432/aapanel?sslmode=require", true },
	{ "postgresql://panel@[::1]:5433/aapanel", "postgresql://panel@[::1]:5433/aapanel", true },
	{ "postgresql://panel@h/db?sslmode=verify-full&connect_timeout=5",
	    "postgresql://panel@h/db?sslmode=verify-full&connect_timeout=5", true },
	/* regression: two DSN parsers — the driver's accepted mariadb://, the configuration refused it */
	{ "mariadb://panel@localhost/aapanel", "mariadb://panel@localhost/aapanel", true },
	/* regression: the configuration accepted a DSN without a user that the driver then refused */
	{ "mysql://localhost/aapanel", "missing the user name", false },
	/* regression: the configuration refused libpq's socket directory as a host, the driver took it */
	{ "postgresql://panel@%2Frun%2Fpostgresql/aapanel", "postgresql://panel@%2Frun%2Fpostgresql/aapanel", true },
	{ "oracle://u@h/db", "unknown scheme 'oracle'", false },
	{ "mysql://u@h", "missing the database name", false },
	{ "mysql://u@h/", "missing the database name", false },
	{ "postgresql://u@h?sslmode=require", "missing the database name", false },
	{ "mysql://u@h:0/db", "port must be between 1 and 65535", false },
	{ "mysql://u@h:65536/db", "port must be between 1 and 65535", false },
	{ "postgresql://u@h:5x/db", "port must be between 1 and 65535", false },
	{ "mysql://u@h:/db", "port must be between 1 and 65535", false },
	{ "mysql://u:hunter2@h/db",
	    "passwords are never written in the DSN; use db.password_file", false },
	{ "postgresql://u:@h/db", "passwords are never written in the DSN", false },
	{ "postgresql://u@h/db?password=hunter2", "passwords are never written in the DSN",
	    false },
	{ "postgresql://u@/db", "empty host", false },
	{ "mysql://u@:3306/db", "empty host", false },
	{ "mysql://@h/db", "empty user name", false },
	{ "mysql://u@h/db?socket=run/x.sock", "socket= must be an absolute path", false },
	{ "mysql://u@db.example.com/db?socket=/run/x.sock", "requires the host localhost",
	    false },
	{ "mysql://u@localhost/db?sslmode=require", "unknown parameter 'sslmode'", false },
	{ "postgresql://u@h/db?frobnicate=1", "unknown parameter 'frobnicate'", false },
	{ "postgresql://u@h/db?sslmode", "name=value", false },
	{ "postgresql://u@h/my db", "must not contain spaces", false },
	{ "postgresql://u@h/db;drop", "database name may only contain", false },
	{ "sqlite:", "missing the database file path", false },
	{ "sqlite://host/a.db", "sqlite DSNs have no host", false },
	{ "sqlite:a.db?mode=ro", "query parameters are not supported", false },
	{ "", "missing scheme", false },
	{ "var/aapanel.db", "missing scheme", false },
};

START_TEST(test_dsn_table)
{
	struct ap_config *c = NULL;
	struct ap_config_problems pr;
	char *val = ap_xasprintf("\"%s\"", dsn_rows[_i].dsn);
	char *base = one_key("db.dsn", val);

	load(AP_PROFILE_TEST, base, NULL, &c, &pr);
	if (dsn_rows[_i].ok) {
		const char *w = dsn_rows[_i].want;
		char *want = w[7] == '@' ? ap_xasprintf("sqlite:%s%s", root, w + 8)
		    : ap_xstrdup(w);

		if (pr.n > 0)
			dump(&pr);
		ck_assert_ptr_nonnull(c);
		ck_assert_str_eq(c->db_dsn, want);
		free(want);
	} else {
		char *all;

		ck_assert_ptr_null(c);
		expect_problem(&pr, "db.dsn", dsn_rows[_i].want);
		ck_assert_int_eq(find(&pr, "db.dsn")->line, 2);
		/* The password itself never reaches a message. */
		all = problems_joined(&pr);
		ck_assert_ptr_null(strstr(all, "hunter2"));
		free(all);
	}
	ap_config_free(c);
	ap_config_problems_free(&pr);
	free(base);
	free(val);
}
END_TEST

/* ---- unknown keys, suggestions, inline secrets ------------------------- */

static const struct {
	const char *base, *key, *reason;
} unknown_rows[] = {
	{ "pool = { wokers = 3; };", "pool.wokers",
	    "unknown key 'pool.wokers' (did you mean 'pool.workers'?)" },
	{ "server = { backlogg = 600; };", "server.backlogg",
	    "unknown key 'server.backlogg' (did you mean 'server.backlog'?)" },
	{ "server = { workers = 3; };", "server.workers",
	    "(did you mean 'pool.workers'?)" },
	{ "pool = { colour = 3; };", "pool.colour", "unknown key 'pool.colour'" },
	{ "path = { var_dir = \"x\"; };", "path",
	    "unknown group 'path' (did you mean 'paths'?)" },
	{ "zzzzzz = { a = 1; };", "zzzzzz", "unknown group 'zzzzzz'" },
	{ "workers = 3;", "workers", "unknown key 'workers' (did you mean 'pool.workers'?)" },
	{ "pool = 3;", "pool", "must be a group" },
	{ "pool = { nested = { workers = 1; }; };", "pool.nested", "unknown key" },
	{ "security = { secret_key = \"s3cr3t-value-never-shown\"; };",
	    "security.secret_key",
	    "secrets are never written in the configuration; use "
	    "security.secret_key_file or the systemd credential aapanel-secret" },
	{ "db = { password = \"s3cr3t-value-never-shown\"; };", "db.password",
	    "secrets are never written in the configuration" },
	{ "panel = { admin_password = \"s3cr3t-value-never-shown\"; };",
	    "panel.admin_password", "secrets are never written in the configuration" },
	{ "api_token = \"s3cr3t-value-never-shown\";", "api_token",
	    "secrets are never written in the configuration" },
	{ "security = { SECRET = \"s3cr3t-value-never-shown\"; };", "security.SECRET",
	    "secrets are never written in the configuration" },
};

START_TEST(test_unknown_keys_table)
{
	struct ap_config *c = NULL;
	struct ap_config_problems pr;
	char *all;

	ck_assert_int_eq(load(AP_PROFILE_TEST, unknown_rows[_i].base, NULL, &c, &pr),
	    AP_ERR_INVAL);
	expect_problem(&pr, unknown_rows[_i].key, unknown_rows[_i].reason);
	ck_assert_int_eq(find(&pr, unknown_rows[_i].key)->line, 1);
	all = problems_joined(&pr);
	ck_assert_ptr_null(strstr(all, "s3cr3t"));
	free(all);
	ap_config_problems_free(&pr);
}
END_TEST

START_TEST(test_no_suggestion_for_distant_key)
{
	struct ap_config *c = NULL;
	struct ap_config_problems pr;

	load(AP_PROFILE_TEST, "pool = { colour = 3; };", NULL, &c, &pr);
	ck_assert_ptr_null(strstr(find(&pr, "pool.colour")->reason, "did you mean"));
	ap_config_problems_free(&pr);
}
END_TEST

/* ---- overlay ----------------------------------------------------------- */

START_TEST(test_overlay_overrides_base)
{
	struct ap_config *c = load_ok(AP_PROFILE_TEST,
	    "server = { backlog = 600; };\npool = { crash_limit = 5; };\n",
	    "server = { backlog = 700; };\n");
	char *p = at("conf/profiles/test.cfg");

	ck_assert_int_eq(c->backlog, 700);
	ck_assert_int_eq(c->crash_limit, 5); /* overlay silent: base value */
	ck_assert_int_eq(c->max_workers, 32); /* both silent: default */
	ck_assert_str_eq(c->profile_file, p);
	free(p);
	ap_config_free(c);
}
END_TEST

START_TEST(test_overlay_of_other_profile_ignored)
{
	struct ap_config *c;

	write_at("conf/profiles/production.cfg", "this is { not libconfig", 0644);
	write_at("conf/profiles/development.cfg", "server = { backlog = 9999; };", 0644);
	c = load_ok(AP_PROFILE_TEST, "server = { backlog = 600; };", NULL);
	ck_assert_int_eq(c->backlog, 600);
	ck_assert_ptr_null(c->profile_file);
	ap_config_free(c);
}
END_TEST

START_TEST(test_overlay_unknown_key_has_overlay_location)
{
	struct ap_config *c = NULL;
	struct ap_config_problems pr;
	char *s, *want;

	ck_assert_int_eq(load(AP_PROFILE_TEST, "pool = { workers = 2; };\n",
	    "# test overlay\n\npool = { wokers = 3; };\n", &c, &pr), AP_ERR_INVAL);
	ck_assert_uint_eq(pr.n, 1);
	s = ap_config_problem_str(&pr.v[0]);
	want = ap_xasprintf("%s/conf/profiles/test.cfg:3: pool.wokers: unknown key "
	    "'pool.wokers' (did you mean 'pool.workers'?)", root);
	ck_assert_str_eq(s, want);
	free(s);
	free(want);
	ap_config_problems_free(&pr);
}
END_TEST

/* log.panel_unit, log.helper_unit: one .service unit's name each, nothing a journal match could
 * be made of (the helper builds _SYSTEMD_UNIT=<name> from it). */
START_TEST(test_log_units)
{
	struct ap_config *c = NULL;
	struct ap_config_problems pr;
	static const char *const bad[] = { "aapanel.service; id", "../aapanel.service", "aapanel",
		"aapanel.socket", "aapanel.service\\n_SYSTEMD_UNIT=sshd.service", "_SYSTEMD_UNIT=sshd.service",
		"\xd0\xb0" "apanel.service", "$(id).service", "", NULL };

	ck_assert_int_eq(load(AP_PROFILE_TEST, "", "", &c, &pr), AP_OK);
	ck_assert_str_eq(c->log_panel_unit, "aapanel.service");
	ck_assert_str_eq(c->log_helper_unit, "aapanel-helper.service");
	ap_config_free(c);
	ap_config_problems_free(&pr);
	ck_assert_int_eq(load(AP_PROFILE_TEST, "log = { panel_unit = \"panel@2.service\"; };", "", &c, &pr),
	    AP_OK);
	ck_assert_str_eq(c->log_panel_unit, "panel@2.service");
	ap_config_free(c);
	ap_config_problems_free(&pr);
	for (int i = 0; bad[i] != NULL; i++) {
		char *text = ap_xasprintf("log = { helper_unit = \"%s\"; };", bad[i]);
		char *str;

		c = NULL;
		ck_assert_msg(load(AP_PROFILE_TEST, text, "", &c, &pr) != AP_OK, "accepted %s", bad[i]);
		ck_assert_uint_ge(pr.n, 1);
		str = ap_config_problem_str(&pr.v[0]);
		ck_assert_msg(strstr(str, "log.helper_unit") != NULL, "%s", str);
		free(str);
		free(text);
		ap_config_free(c);
		ap_config_problems_free(&pr);
	}
}
END_TEST

START_TEST(test_overlay_bad_value_has_overlay_location)
{
	struct ap_config *c = NULL;
	struct ap_config_problems pr;
	char *s, *want;

	load(AP_PROFILE_DEVELOPMENT, "server = { backlog = 600; };\n",
	    "\nserver = {\n  backlog = 5;\n};\n", &c, &pr);
	ck_assert_uint_eq(pr.n, 1);
	s = ap_config_problem_str(&pr.v[0]);
	want = ap_xasprintf("%s/conf/profiles/development.cfg:3: server.backlog: "
	    "must be between 511 and 65535 (got 5)", root);
	ck_assert_str_eq(s, want);
	free(s);
	free(want);
	ap_config_problems_free(&pr);
}
END_TEST

START_TEST(test_base_error_reported_even_when_overridden)
{
	struct ap_config *c = NULL;
	struct ap_config_problems pr;
	const struct ap_config_problem *p;
	char *file = at("conf/aapanel.cfg");

	/* The base is shared by every profile: a bad value there is a defect. */
	load(AP_PROFILE_TEST, "server = { backlog = \"x\"; };",
	    "server = { backlog = 600; };", &c, &pr);
	ck_assert_ptr_null(c);
	p = find(&pr, "server.backlog");
	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(p->file, file);
	free(file);
	ap_config_problems_free(&pr);
}
END_TEST

START_TEST(test_overlay_syntax_error_location)
{
	struct ap_config *c = NULL;
	struct ap_config_problems pr;
	char *file = at("conf/profiles/production.cfg");

	load(AP_PROFILE_PRODUCTION, "", "pool = {\n  workers = ;\n};\n", &c, &pr);
	ck_assert_uint_eq(pr.n, 1);
	ck_assert_str_eq(pr.v[0].file, file);
	ck_assert_int_eq(pr.v[0].line, 2);
	ck_assert_ptr_nonnull(strstr(pr.v[0].reason, "syntax error"));
	free(file);
	ap_config_problems_free(&pr);
}
END_TEST

/* ---- syntax, files, formatting ----------------------------------------- */

static const struct {
	const char *text;
	int line;
	const char *reason;
} syntax_rows[] = {
	{ "pool = {\n  workers = ;\n};\n", 2, "syntax error" },
	{ "pool = {\n  workers = 1;\n", 3, "syntax error" },
	{ "pool = {\n  workers = 1;\n  workers = 2;\n};\n", 3, "duplicate setting name" },
	{ "panel = { name = \"unterminated; };\n", 2, "syntax error" },
	{ "\n\n\n= 4;\n", 4, "syntax error" },
};

START_TEST(test_syntax_errors_table)
{
	struct ap_config *c = NULL;
	struct ap_config_problems pr;
	char *s, *want;

	ck_assert_int_eq(load(AP_PROFILE_TEST, syntax_rows[_i].text, NULL, &c, &pr),
	    AP_ERR_INVAL);
	ck_assert_uint_eq(pr.n, 1);
	want = ap_xasprintf("%s/conf/aapanel.cfg:%d: %s", root, syntax_rows[_i].line,
	    syntax_rows[_i].reason);
	s = ap_config_problem_str(&pr.v[0]);
	ck_assert_str_eq(s, want);
	free(s);
	free(want);
	ap_config_problems_free(&pr);
}
END_TEST

START_TEST(test_missing_base_file)
{
	struct ap_config_opts o = { .profile = AP_PROFILE_TEST, .root_dir = root,
		.credentials_dir = nocred };
	struct ap_config_problems pr = { 0 };
	struct ap_config *c = NULL;
	char *s, *want;

	ck_assert_int_eq(ap_config_load(&o, &c, &pr), AP_ERR_INVAL);
	ck_assert_uint_eq(pr.n, 1);
	s = ap_config_problem_str(&pr.v[0]);
	want = ap_xasprintf("%s/conf/aapanel.cfg: cannot read: No such file or "
	    "directory", root);
	ck_assert_str_eq(s, want);
	free(s);
	free(want);
	ap_config_problems_free(&pr);
}
END_TEST

START_TEST(test_config_file_option_and_its_profiles_dir)
{
	struct ap_config_opts o = { .profile = AP_PROFILE_TEST, .root_dir = root,
		.credentials_dir = nocred };
	struct ap_config_problems pr = { 0 };
	struct ap_config *c = NULL;
	char *cfg = at("etc/panel.cfg");

	mkdir_at("etc");
	mkdir_at("etc/profiles");
	write_at("etc/panel.cfg", "server = { backlog = 1000; };", 0644);
	write_at("etc/profiles/test.cfg", "pool = { workers = 3; };", 0644);
	write_at("conf/aapanel.cfg", "server = { backlog = 2000; };", 0644);
	o.config_file = cfg;
	ck_assert_int_eq(ap_config_load(&o, &c, &pr), AP_OK);
	ck_assert_int_eq(c->backlog, 1000);
	ck_assert_int_eq(c->workers, 3);
	ck_assert_str_eq(c->base_file, cfg);
	free(cfg);
	ap_config_free(c);
}
END_TEST

START_TEST(test_unreadable_overlay_directory_is_problem)
{
	struct ap_config *c = NULL;
	struct ap_config_problems pr;

	/* A directory where the overlay should be: present but not loadable. */
	mkdir_at("conf/profiles/test.cfg");
	ck_assert_int_eq(load(AP_PROFILE_TEST, "", NULL, &c, &pr), AP_ERR_INVAL);
	ck_assert_uint_ge(pr.n, 1);
	ck_assert_ptr_nonnull(strstr(pr.v[0].file, "profiles/test.cfg"));
	ap_config_problems_free(&pr);
}
END_TEST

static const struct {
	const char *file;
	int line;
	const char *key, *reason, *want;
} fmt_rows[] = {
	{ "conf/aapanel.cfg", 3, "pool.workers", "must be an integer",
	    "conf/aapanel.cfg:3: pool.workers: must be an integer" },
	{ "/etc/aapanel/aapanel.cfg", 0, "pool.workers", "x",
	    "/etc/aapanel/aapanel.cfg: pool.workers: x" },
	{ NULL, 0, "security.secret_key_file", "production requires a secret key",
	    "security.secret_key_file: production requires a secret key" },
	{ "a.cfg", 2, NULL, "syntax error", "a.cfg:2: syntax error" },
	{ NULL, 0, NULL, "no root directory given", "no root directory given" },
};

START_TEST(test_problem_str_table)
{
	struct ap_config_problem p = {
		.file = (char *)fmt_rows[_i].file,
		.line = fmt_rows[_i].line,
		.key = (char *)fmt_rows[_i].key,
		.reason = (char *)fmt_rows[_i].reason,
	};
	char *s = ap_config_problem_str(&p);

	ck_assert_str_eq(s, fmt_rows[_i].want);
	free(s);
}
END_TEST

START_TEST(test_all_problems_collected_in_order)
{
	struct ap_config *c = NULL;
	struct ap_config_problems pr;

	ck_assert_int_eq(load(AP_PROFILE_TEST,
	    "server = {\n"
	    "  backlog = 5;\n"
	    "  socket_mode = \"0999\";\n"
	    "};\n"
	    "pool = {\n"
	    "  wokers = 1;\n"
	    "  max_workers = \"many\";\n"
	    "};\n"
	    "log = { level = \"loud\"; };\n",
	    NULL, &c, &pr), AP_ERR_INVAL);
	if (pr.n != 5)
		dump(&pr);
	ck_assert_uint_eq(pr.n, 5);
	/* Unknown keys first, then the schema in file order. */
	ck_assert_str_eq(pr.v[0].key, "pool.wokers");
	ck_assert_int_eq(pr.v[0].line, 6);
	ck_assert_str_eq(pr.v[1].key, "server.socket_mode");
	ck_assert_int_eq(pr.v[1].line, 3);
	ck_assert_str_eq(pr.v[2].key, "server.backlog");
	ck_assert_int_eq(pr.v[2].line, 2);
	ck_assert_str_eq(pr.v[3].key, "pool.max_workers");
	ck_assert_int_eq(pr.v[3].line, 7);
	ck_assert_str_eq(pr.v[4].key, "log.level");
	ck_assert_int_eq(pr.v[4].line, 9);
	ap_config_problems_free(&pr);
}
END_TEST

START_TEST(test_problems_appended_not_replaced)
{
	struct ap_config *c = NULL;
	struct ap_config_problems pr;

	ck_assert_int_eq(load(AP_PROFILE_TEST, "pool = { workers = 999; };", NULL,
	    &c, &pr), AP_ERR_INVAL);
	ck_assert_uint_eq(pr.n, 1);
	ap_config_problems_free(&pr);
	ck_assert_uint_eq(pr.n, 0);
	ck_assert_ptr_null(pr.v);
	ap_config_problems_free(NULL);
}
END_TEST

START_TEST(test_missing_root_is_problem)
{
	struct ap_config_opts o = { .profile = AP_PROFILE_TEST };
	struct ap_config_problems pr = { 0 };
	struct ap_config *c = (struct ap_config *)&o; /* must be reset to NULL */

	ck_assert_int_eq(ap_config_load(&o, &c, &pr), AP_ERR_INVAL);
	ck_assert_ptr_null(c);
	ck_assert_uint_eq(pr.n, 1);
	ck_assert_str_eq(pr.v[0].reason, "no root directory given");
	ap_config_problems_free(&pr);
}
END_TEST

/* ---- secret key -------------------------------------------------------- */

static char *
key_base(const char *file)
{
	return ap_xasprintf("security = {\n  secret_key_file = \"%s\";\n};\n", file);
}

START_TEST(test_secret_hex_file_decodes)
{
	char hex[65];
	char *text, *base, *src, *path = at("key");
	struct ap_config *c;

	good_key_hex(hex);
	text = ap_xasprintf("%s\n", hex);
	write_at("key", text, 0600);
	base = key_base("key");
	c = load_ok(AP_PROFILE_TEST, base, NULL);
	ck_assert_uint_eq(c->secret_key_len, 32);
	for (int i = 0; i < 32; i++) {
		unsigned v;

		sscanf(hex + 2 * i, "%2x", &v);
		ck_assert_uint_eq(c->secret_key[i], v);
	}
	src = ap_xasprintf("file %s", path);
	ck_assert_str_eq(c->secret_key_source, src);
	ck_assert_str_eq(c->secret_key_file, path);
	free(src);
	free(path);
	free(text);
	free(base);
	ap_config_free(c);
}
END_TEST

START_TEST(test_secret_128_hex_gives_64_bytes)
{
	char hex[129];
	char *base = key_base("key");
	struct ap_config *c;

	ck_assert_int_eq(ap_random_hex(hex, 64), AP_OK);
	write_at("key", hex, 0600);
	c = load_ok(AP_PROFILE_TEST, base, NULL);
	ck_assert_uint_eq(c->secret_key_len, 64);
	free(base);
	ap_config_free(c);
}
END_TEST

START_TEST(test_secret_raw_bytes_newline_stripped)
{
	const char *raw = "Xk9#mP2$vL8@nQ5!wR3&tY7*bZ4^cF6%hJ\n";
	char *base = key_base("key");
	struct ap_config *c;

	write_at("key", raw, 0600);
	c = load_ok(AP_PROFILE_TEST, base, NULL);
	ck_assert_uint_eq(c->secret_key_len, strlen(raw) - 1);
	ck_assert(memcmp(c->secret_key, raw, strlen(raw) - 1) == 0);
	free(base);
	ap_config_free(c);
}
END_TEST

static const struct {
	const char *content;
	const char *reason;
} bad_key_rows[] = {
	{ "", "is empty" },
	{ "\n", "is empty" },
	{ "Xk9#mP2$vL8@nQ5!wR3&\n", "is too short (20 bytes" },
	{ "changeme", "well-known placeholder" },
	{ "CHANGEME\n", "well-known placeholder" },
	{ "your-secret-key-here", "well-known placeholder" },
	{ "changemechangemechangemechangeme", "well-known placeholder" },
	{ "secret00000000000000000000000000000000", "well-known placeholder" },
	{ "development-development-development", "well-known placeholder" },
	{ "insecure-insecure-insecure-insecure-key", "well-known placeholder" },
	{ "Replace-Me", "well-known placeholder" },
	{ "password", "well-known placeholder" },
	{ "dev", "well-known placeholder" },
	/* "changemechangemechangemechangeme" hex-encoded */
	{ "6368616e67656d656368616e67656d656368616e67656d656368616e67656d65",
	    "well-known placeholder" },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "fewer than 12 distinct" },
	{ "abababababababababababababababababab", "fewer than 12 distinct" },
	/* 000102..0f twice: 16 distinct, 4 bits/byte, but periodic */
	{ "000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f",
	    "a short pattern repeated" },
	/* 00..1f: 32 distinct, a plain counter */
	{ "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
	    "a simple sequence" },
	/* 21 x 'q' plus 11 singles: 12 distinct, about 2.1 bits/byte */
	{ "qqqqqqqqqqqqqqqqqqqqqABCDEFGHIJK", "below 3.5 bits per byte" },
	{ "Xk9#mP2$vL8@nQ5!wR3&tY7*bZ4^cF6%hJXk9#mP2$vL8@nQ5!wR3&tY7*bZ4^cF6%hJ",
	    "is too long" },
};

START_TEST(test_secret_rejected_table)
{
	struct ap_config *c = NULL;
	struct ap_config_problems pr;
	char *base = key_base("key");
	char *all, *path = at("key");
	char head[9];

	write_at("key", bad_key_rows[_i].content, 0600);
	ck_assert_int_eq(load(AP_PROFILE_TEST, base, NULL, &c, &pr), AP_ERR_INVAL);
	expect_problem(&pr, "security.secret_key_file", bad_key_rows[_i].reason);
	ck_assert_int_eq(find(&pr, "security.secret_key_file")->line, 2);
	ck_assert_ptr_nonnull(strstr(find(&pr, "security.secret_key_file")->reason,
	    path));
	/* No part of the key reaches the message. */
	all = problems_joined(&pr);
	snprintf(head, sizeof(head), "%s", bad_key_rows[_i].content);
	if (strlen(head) >= 6)
		ck_assert_ptr_null(strstr(all, head));
	free(all);
	free(path);
	free(base);
	ap_config_problems_free(&pr);
}
END_TEST

START_TEST(test_secret_62_hex_chars_is_raw_and_accepted)
{
	char hex[65];
	char *base = key_base("key");
	struct ap_config *c;

	good_key_hex(hex);
	hex[62] = '\0';
	write_at("key", hex, 0600);
	c = load_ok(AP_PROFILE_TEST, base, NULL);
	ck_assert_uint_eq(c->secret_key_len, 62);
	free(base);
	ap_config_free(c);
}
END_TEST

START_TEST(test_secret_file_missing)
{
	struct ap_config *c = NULL;
	struct ap_config_problems pr;
	char *base = key_base("/nonexistent/aapanel/key");

	ck_assert_int_eq(load(AP_PROFILE_TEST, base, NULL, &c, &pr), AP_ERR_INVAL);
	expect_problem(&pr, "security.secret_key_file",
	    "/nonexistent/aapanel/key: cannot read: No such file or directory");
	free(base);
	ap_config_problems_free(&pr);
}
END_TEST

START_TEST(test_secret_not_regular_file)
{
	struct ap_config *c = NULL;
	struct ap_config_problems pr;
	char *base = key_base("templates");

	ck_assert_int_eq(load(AP_PROFILE_TEST, base, NULL, &c, &pr), AP_ERR_INVAL);
	expect_problem(&pr, "security.secret_key_file", "is not a regular file");
	free(base);
	ap_config_problems_free(&pr);
}
END_TEST

static const struct {
	mode_t mode;
	enum ap_profile profile;
	const char *reason; /* NULL: accepted */
} key_mode_rows[] = {
	{ 0600, AP_PROFILE_PRODUCTION, NULL },
	{ 0400, AP_PROFILE_PRODUCTION, NULL },
	{ 0644, AP_PROFILE_PRODUCTION,
	    "must not be readable by group or others (chmod 600)" },
	{ 0640, AP_PROFILE_PRODUCTION,
	    "must not be readable by group or others (chmod 600)" },
	{ 0604, AP_PROFILE_PRODUCTION,
	    "must not be readable by group or others (chmod 600)" },
	{ 0620, AP_PROFILE_PRODUCTION,
	    "must not be writable by group or others (chmod 600)" },
	{ 0644, AP_PROFILE_DEVELOPMENT, NULL },
	{ 0644, AP_PROFILE_TEST, NULL },
};

START_TEST(test_secret_file_mode_table)
{
	struct ap_config *c = NULL;
	struct ap_config_problems pr;
	char hex[65];
	char *base = key_base("key");

	good_key_hex(hex);
	write_at("key", hex, key_mode_rows[_i].mode);
	load(key_mode_rows[_i].profile, base, NULL, &c, &pr);
	if (key_mode_rows[_i].reason != NULL) {
		ck_assert_ptr_null(c);
		expect_problem(&pr, "security.secret_key_file", key_mode_rows[_i].reason);
	} else {
		if (pr.n > 0)
			dump(&pr);
		ck_assert_ptr_nonnull(c);
		ck_assert_uint_eq(c->secret_key_len, 32);
	}
	ap_config_free(c);
	ap_config_problems_free(&pr);
	free(base);
}
END_TEST

START_TEST(test_secret_from_credentials_dir)
{
	struct ap_config_opts o = { .profile = AP_PROFILE_PRODUCTION };
	struct ap_config_problems pr;
	struct ap_config *c = NULL;
	char hex[65];
	char *cred = at("creds");

	mkdir_at("creds");
	good_key_hex(hex);
	/* systemd decides the credential's mode; 0644 is not second-guessed. */
	write_at("creds/aapanel-secret", hex, 0644);
	o.credentials_dir = cred;
	ck_assert_int_eq(load_opts(&o, "", NULL, &c, &pr), AP_OK);
	ck_assert_uint_eq(c->secret_key_len, 32);
	ck_assert_str_eq(c->secret_key_source, "credential aapanel-secret");
	free(cred);
	ap_config_free(c);
}
END_TEST

START_TEST(test_secret_credential_from_env)
{
	struct ap_config_opts o = { .profile = AP_PROFILE_PRODUCTION };
	struct ap_config_problems pr = { 0 };
	struct ap_config *c = NULL;
	char hex[65];
	char *cred = at("creds");

	mkdir_at("creds");
	good_key_hex(hex);
	write_at("creds/aapanel-secret", hex, 0400);
	write_at("conf/aapanel.cfg", "", 0644);
	setenv("CREDENTIALS_DIRECTORY", cred, 1);
	o.root_dir = root;
	ck_assert_int_eq(ap_config_load(&o, &c, &pr), AP_OK);
	unsetenv("CREDENTIALS_DIRECTORY");
	ck_assert_str_eq(c->secret_key_source, "credential aapanel-secret");
	free(cred);
	ap_config_free(c);
}
END_TEST

START_TEST(test_secret_credential_preferred_over_file)
{
	struct ap_config_opts o = { .profile = AP_PROFILE_PRODUCTION };
	struct ap_config_problems pr;
	struct ap_config *c = NULL;
	char hex[65];
	char *cred = at("creds");
	/* The unit's LoadCredential= hands over a file the service can't read. */
	char *base = key_base("/nonexistent/etc/aapanel/secret_key");

	mkdir_at("creds");
	good_key_hex(hex);
	write_at("creds/aapanel-secret", hex, 0400);
	o.credentials_dir = cred;
	ck_assert_int_eq(load_opts(&o, base, NULL, &c, &pr), AP_OK);
	ck_assert_str_eq(c->secret_key_source, "credential aapanel-secret");
	free(cred);
	free(base);
	ap_config_free(c);
}
END_TEST

START_TEST(test_secret_credential_dir_without_credential_falls_through)
{
	struct ap_config_opts o = { .profile = AP_PROFILE_TEST };
	struct ap_config_problems pr;
	struct ap_config *c = NULL;
	char hex[65];
	char *cred = at("creds");
	char *base = key_base("key");

	mkdir_at("creds");
	good_key_hex(hex);
	write_at("key", hex, 0600);
	o.credentials_dir = cred;
	ck_assert_int_eq(load_opts(&o, base, NULL, &c, &pr), AP_OK);
	ck_assert_ptr_nonnull(strstr(c->secret_key_source, "file "));
	free(cred);
	free(base);
	ap_config_free(c);
}
END_TEST

START_TEST(test_secret_bad_credential_rejected)
{
	struct ap_config_opts o = { .profile = AP_PROFILE_PRODUCTION };
	struct ap_config_problems pr;
	struct ap_config *c = NULL;
	char *cred = at("creds");
	char *path = at("creds/aapanel-secret");
	char *s, *want;

	mkdir_at("creds");
	write_at("creds/aapanel-secret", "changeme\n", 0400);
	o.credentials_dir = cred;
	ck_assert_int_eq(load_opts(&o, "", NULL, &c, &pr), AP_ERR_INVAL);
	ck_assert_uint_eq(pr.n, 1);
	s = ap_config_problem_str(&pr.v[0]);
	want = ap_xasprintf("%s: security.secret_key: is a well-known placeholder; "
	    "generate a key with: openssl rand -hex 32", path);
	ck_assert_str_eq(s, want);
	free(s);
	free(want);
	free(cred);
	free(path);
	ap_config_problems_free(&pr);
}
END_TEST

START_TEST(test_secret_generated_in_development_and_reused)
{
	struct ap_config_opts o = { .profile = AP_PROFILE_DEVELOPMENT,
		.generate_secret = true };
	struct ap_config_problems pr;
	struct ap_config *c = NULL, *c2 = NULL;
	char *path = at("var/secret_key"), *dir = at("var");
	char *src = ap_xasprintf("generated %s", path);
	struct stat st;

	ck_assert_int_eq(load_opts(&o, "", NULL, &c, &pr), AP_OK);
	ck_assert_uint_eq(c->secret_key_len, 32);
	ck_assert_str_eq(c->secret_key_source, src);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(st.st_size, 65);
	ck_assert_int_eq(stat(dir, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	ck_assert_int_eq(load_opts(&o, "", NULL, &c2, &pr), AP_OK);
	ck_assert_uint_eq(c2->secret_key_len, 32);
	ck_assert(memcmp(c->secret_key, c2->secret_key, 32) == 0);
	free(path);
	free(dir);
	free(src);
	ap_config_free(c);
	ap_config_free(c2);
}
END_TEST

START_TEST(test_secret_generated_in_test_profile_nested_var_dir)
{
	struct ap_config_opts o = { .profile = AP_PROFILE_TEST, .generate_secret = true };
	struct ap_config_problems pr;
	struct ap_config *c = NULL;
	char *path = at("state/deep/secret_key");

	ck_assert_int_eq(load_opts(&o, "paths = { var_dir = \"state/deep\"; };",
	    NULL, &c, &pr), AP_OK);
	ck_assert_uint_eq(c->secret_key_len, 32);
	ck_assert_int_eq(access(path, R_OK), 0);
	free(path);
	ap_config_free(c);
}
END_TEST

START_TEST(test_secret_not_generated_when_config_invalid)
{
	struct ap_config_opts o = { .profile = AP_PROFILE_DEVELOPMENT,
		.generate_secret = true };
	struct ap_config_problems pr;
	struct ap_config *c = NULL;
	char *path = at("var/secret_key");

	ck_assert_int_eq(load_opts(&o, "pool = { workers = 999; };", NULL, &c, &pr),
	    AP_ERR_INVAL);
	ck_assert_int_eq(access(path, F_OK), -1);
	free(path);
	ap_config_problems_free(&pr);
}
END_TEST

START_TEST(test_secret_not_generated_in_production)
{
	struct ap_config_opts o = { .profile = AP_PROFILE_PRODUCTION,
		.generate_secret = true };
	struct ap_config_problems pr;
	struct ap_config *c = NULL;
	char *path = at("var/secret_key");

	ck_assert_int_eq(load_opts(&o, "", NULL, &c, &pr), AP_ERR_INVAL);
	expect_problem(&pr, "security.secret_key_file",
	    "production requires a secret key: set security.secret_key_file or "
	    "provide the systemd credential aapanel-secret");
	ck_assert_int_eq(access(path, F_OK), -1);
	free(path);
	ap_config_problems_free(&pr);
}
END_TEST

START_TEST(test_secret_generated_file_invalid_is_problem)
{
	struct ap_config_opts o = { .profile = AP_PROFILE_DEVELOPMENT,
		.generate_secret = true };
	struct ap_config_problems pr;
	struct ap_config *c = NULL;

	mkdir_at("var");
	write_at("var/secret_key", "short\n", 0600);
	ck_assert_int_eq(load_opts(&o, "", NULL, &c, &pr), AP_ERR_INVAL);
	expect_problem(&pr, "security.secret_key", "delete the file");
	ap_config_problems_free(&pr);
}
END_TEST

START_TEST(test_no_secret_in_development_is_fine)
{
	struct ap_config *c = load_ok(AP_PROFILE_DEVELOPMENT, "", NULL);

	ck_assert_uint_eq(c->secret_key_len, 0);
	ck_assert_ptr_null(c->secret_key_source);
	ap_config_free(c);
}
END_TEST

/* ---- production rules -------------------------------------------------- */

/* A production base with a good key file; extra is appended. */
static char *
prod_base(const char *extra)
{
	char hex[65];

	good_key_hex(hex);
	write_at("key", hex, 0600);
	return ap_xasprintf("security = { secret_key_file = \"key\"; };\n%s", extra);
}

static const struct {
	const char *extra, *key, *reason;
} prod_rows[] = {
	{ "panel = { debug = true; };", "panel.debug", "must be false in production" },
	{ "log = { level = \"debug\"; };", "log.level",
	    "must not be debug in production" },
	{ "panel = { debug = false; };", NULL, NULL },
	{ "log = { level = \"warn\"; };", NULL, NULL },
};

START_TEST(test_production_rules_table)
{
	struct ap_config *c = NULL;
	struct ap_config_problems pr;
	char *base = prod_base(prod_rows[_i].extra);
	enum ap_err e = load(AP_PROFILE_PRODUCTION, base, NULL, &c, &pr);

	if (prod_rows[_i].key != NULL) {
		ck_assert_int_eq(e, AP_ERR_INVAL);
		expect_problem(&pr, prod_rows[_i].key, prod_rows[_i].reason);
		ck_assert_int_eq(find(&pr, prod_rows[_i].key)->line, 2);
	} else {
		if (e != AP_OK)
			dump(&pr);
		ck_assert_int_eq(e, AP_OK);
	}
	/* The same settings are fine in development. */
	ap_config_free(c);
	ap_config_problems_free(&pr);
	ck_assert_int_eq(load(AP_PROFILE_DEVELOPMENT, base, NULL, &c, &pr), AP_OK);
	ap_config_free(c);
	free(base);
}
END_TEST

START_TEST(test_production_missing_key_exact)
{
	struct ap_config *c = NULL;
	struct ap_config_problems pr;
	char *s, *want;

	ck_assert_int_eq(load(AP_PROFILE_PRODUCTION,
	    "\nsecurity = {\n  secret_key_file = \"\";\n};\n", NULL, &c, &pr),
	    AP_ERR_INVAL);
	ck_assert_uint_eq(pr.n, 1);
	s = ap_config_problem_str(&pr.v[0]);
	want = ap_xasprintf("%s/conf/aapanel.cfg:3: security.secret_key_file: "
	    "production requires a secret key: set security.secret_key_file or "
	    "provide the systemd credential aapanel-secret", root);
	ck_assert_str_eq(s, want);
	free(s);
	free(want);
	ap_config_problems_free(&pr);
}
END_TEST

START_TEST(test_production_overlay_turns_debug_off)
{
	char *base = prod_base("panel = { debug = true; };\n");
	struct ap_config *c = load_ok(AP_PROFILE_PRODUCTION, base,
	    "panel = { debug = false; };\n");

	ck_assert(!c->debug);
	free(base);
	ap_config_free(c);
}
END_TEST

START_TEST(test_production_collects_debug_and_key_together)
{
	struct ap_config *c = NULL;
	struct ap_config_problems pr;

	ck_assert_int_eq(load(AP_PROFILE_PRODUCTION,
	    "panel = { debug = true; };\nlog = { level = \"debug\"; };\n", NULL, &c,
	    &pr), AP_ERR_INVAL);
	ck_assert_uint_eq(pr.n, 3);
	ck_assert_ptr_nonnull(find(&pr, "panel.debug"));
	ck_assert_ptr_nonnull(find(&pr, "log.level"));
	ck_assert_ptr_nonnull(find(&pr, "security.secret_key_file"));
	ap_config_problems_free(&pr);
}
END_TEST

/* ---- show -------------------------------------------------------------- */

START_TEST(test_show_masks_secret)
{
	char hex[65];
	char *base = key_base("key");
	struct ap_buf b = { 0 };
	struct ap_config *c;
	char *want;

	good_key_hex(hex);
	write_at("key", hex, 0600);
	c = load_ok(AP_PROFILE_TEST, base, NULL);
	ap_config_show(c, &b);
	ck_assert_ptr_null(strstr(ap_buf_cstr(&b), hex));
	hex[16] = '\0';
	ck_assert_ptr_null(strstr(ap_buf_cstr(&b), hex));
	want = ap_xasprintf("  secret_key = \"(hidden: 32 bytes from file %s/key)\";\n",
	    root);
	ck_assert_ptr_nonnull(strstr(ap_buf_cstr(&b), want));
	free(want);
	free(base);
	ap_buf_free(&b);
	ap_config_free(c);
}
END_TEST

START_TEST(test_show_layout)
{
	struct ap_config *c = load_ok(AP_PROFILE_TEST,
	    "pool = { workers = 3; };\nlimits = { max_upload = 8589934592L; };\n",
	    "panel = { name = \"My \\\"Panel\\\"\"; };\n");
	struct ap_buf b = { 0 };
	char *first;
	const char *s;

	ap_config_show(c, &b);
	s = ap_buf_cstr(&b);
	first = ap_xasprintf("# profile test; base %s/conf/aapanel.cfg; overlay "
	    "%s/conf/profiles/test.cfg\n", root, root);
	ck_assert_msg(strncmp(s, first, strlen(first)) == 0, "%s", s);
	ck_assert_ptr_nonnull(strstr(s, "pool = {\n  workers = 3;\n  max_workers = 32;\n"));
	ck_assert_ptr_nonnull(strstr(s, "  name = \"My \\\"Panel\\\"\";\n"));
	ck_assert_ptr_nonnull(strstr(s, "  socket_mode = \"0660\";\n"));
	ck_assert_ptr_nonnull(strstr(s, "  max_upload = 8589934592L;\n"));
	ck_assert_ptr_nonnull(strstr(s, "  secret_key = \"(not loaded)\";\n"));
	ck_assert_ptr_nonnull(strstr(s, "nginx = {\n  fastcgi_read_timeout = 60;\n  listen_file = \"\";\n"
					"  binary = \"/usr/sbin/nginx\";\n  prefix = \"\";\n  conf = \"\";\n};\n"));
	free(first);
	ap_buf_free(&b);
	ap_config_free(c);
}
END_TEST

START_TEST(test_show_output_is_libconfig)
{
	struct ap_config *c = load_ok(AP_PROFILE_TEST,
	    "limits = { max_upload = 8589934592L; };\n", NULL);
	struct ap_buf b = { 0 };
	config_t cfg;
	long long v = 0;
	const char *sv = NULL;

	ap_config_show(c, &b);
	config_init(&cfg);
	ck_assert_int_eq(config_read_string(&cfg, ap_buf_cstr(&b)), CONFIG_TRUE);
	ck_assert_int_eq(config_lookup_int64(&cfg, "limits.max_upload", &v), CONFIG_TRUE);
	ck_assert_int_eq(v, 8589934592LL);
	ck_assert_int_eq(config_lookup_string(&cfg, "paths.templates", &sv), CONFIG_TRUE);
	ck_assert_str_eq(sv, c->templates_dir);
	config_destroy(&cfg);
	ap_buf_free(&b);
	ap_config_free(c);
}
END_TEST

/* ---- worker count ------------------------------------------------------ */

static const struct {
	int workers, max, ncpu, want;
} wc_rows[] = {
	{ 0, 32, 2, 5 },
	{ 0, 32, 1, 3 },
	{ 0, 32, 16, 32 },
	{ 0, 3, 4, 3 },
	{ 4, 32, 64, 4 },
	{ 40, 32, 1, 32 },
	{ 0, 32, 0, 3 },
	{ 0, 256, -5, 3 },
	{ 0, 256, 100000, 256 },
};

START_TEST(test_worker_count_table)
{
	struct ap_config c = { .workers = wc_rows[_i].workers,
		.max_workers = wc_rows[_i].max };

	ck_assert_int_eq(ap_config_worker_count(&c, wc_rows[_i].ncpu), wc_rows[_i].want);
}
END_TEST

/* ---- the shipped files ------------------------------------------------- */

static const char *
srcdir(void)
{
	const char *s = getenv("AAPANEL_SRCDIR");

	return s != NULL && s[0] != '\0' ? s : ".";
}

static const char *const all_keys[] = {
	"panel.name", "panel.default_language", "panel.base_path", "panel.debug",
	"server.socket", "server.socket_mode", "server.socket_group",
	"server.backlog", "pool.workers", "pool.max_workers", "pool.max_requests",
	"pool.max_requests_jitter", "pool.request_timeout", "pool.shutdown_timeout",
	"pool.crash_limit", "limits.max_body", "limits.max_upload",
	"limits.max_fields", "limits.max_field_len", "limits.max_header_len",
	"paths.var_dir", "paths.run_dir", "paths.log_dir", "paths.templates",
	"paths.static", "paths.po", "log.level", "log.file",
	"security.secret_key_file", "db.dsn", "db.password_file", "db.auto_migrate",
	"nginx.fastcgi_read_timeout",
};

START_TEST(test_shipped_base_lists_every_key)
{
	char *path = ap_xasprintf("%s/conf/aapanel.cfg", srcdir());
	config_t cfg;

	config_init(&cfg);
	ck_assert_msg(config_read_file(&cfg, path) == CONFIG_TRUE, "%s:%d: %s", path,
	    config_error_line(&cfg), config_error_text(&cfg));
	ck_assert_ptr_nonnull(config_lookup(&cfg, all_keys[_i]));
	config_destroy(&cfg);
	free(path);
}
END_TEST

START_TEST(test_shipped_base_matches_builtin_defaults)
{
	char *shipped = ap_xasprintf("%s/conf/aapanel.cfg", srcdir());
	char *text = NULL;
	size_t len = 0;
	FILE *f = fopen(shipped, "r");
	struct ap_config *a, *b;
	struct ap_buf sa = { 0 }, sb = { 0 };
	const char *ta, *tb;

	ck_assert_ptr_nonnull(f);
	text = ap_xcalloc(1, 65536);
	len = fread(text, 1, 65535, f);
	fclose(f);
	ck_assert_uint_gt(len, 0);
	a = load_ok(AP_PROFILE_TEST, text, NULL);
	b = load_ok(AP_PROFILE_TEST, "", NULL);
	ap_config_show(a, &sa);
	ap_config_show(b, &sb);
	/* The documented defaults in the file are the built-in ones. */
	ta = ap_buf_cstr(&sa);
	tb = ap_buf_cstr(&sb);
	ck_assert_str_eq(ta, tb);
	ap_buf_free(&sa);
	ap_buf_free(&sb);
	ap_config_free(a);
	ap_config_free(b);
	free(text);
	free(shipped);
}
END_TEST

static const enum ap_profile shipped_profiles[] = {
	AP_PROFILE_DEVELOPMENT, AP_PROFILE_TEST, AP_PROFILE_PRODUCTION,
};

START_TEST(test_shipped_profiles_load)
{
	struct ap_config_opts o = { .profile = shipped_profiles[_i],
		.root_dir = srcdir() };
	struct ap_config_problems pr = { 0 };
	struct ap_config *c = NULL;
	char hex[65];
	char *cred = at("creds");
	char *want;

	mkdir_at("creds");
	good_key_hex(hex);
	write_at("creds/aapanel-secret", hex, 0400);
	/* Production gets its key as systemd would hand it over. */
	o.credentials_dir = o.profile == AP_PROFILE_PRODUCTION ? cred : nocred;
	if (ap_config_load(&o, &c, &pr) != AP_OK)
		dump(&pr);
	ck_assert_uint_eq(pr.n, 0);
	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_nonnull(c->profile_file);
	want = ap_xasprintf("%s/templates", c->root_dir);
	ck_assert_str_eq(c->templates_dir, want);
	free(want);
	switch (o.profile) {
	case AP_PROFILE_DEVELOPMENT:
		ck_assert(c->debug);
		ck_assert_str_eq(c->log_level, "debug");
		want = ap_xasprintf("sqlite:%s/var/aapanel.db", c->root_dir);
		ck_assert_str_eq(c->db_dsn, want);
		free(want);
		break;
	case AP_PROFILE_TEST:
		ck_assert(!c->debug);
		ck_assert_str_eq(c->log_level, "warn");
		ck_assert_int_ge(c->max_workers, 4);
		break;
	default:
		ck_assert(!c->debug);
		ck_assert_str_eq(c->socket_path, "/run/aapanel/aapanel.sock");
		ck_assert_str_eq(c->socket_group, "www-data");
		ck_assert_str_eq(c->var_dir, "/var/lib/aapanel");
		ck_assert_str_eq(c->run_dir, "/run/aapanel");
		ck_assert_str_eq(c->log_dir, "/var/log/aapanel");
		ck_assert_str_eq(c->secret_key_file, "/etc/aapanel/secret_key");
		ck_assert_str_eq(c->db_dsn, "sqlite:/var/lib/aapanel/aapanel.db");
		ck_assert(!c->db_auto_migrate);
		ck_assert_uint_eq(c->secret_key_len, 32);
		break;
	}
	free(cred);
	ap_config_free(c);
}
END_TEST

START_TEST(test_shipped_production_without_key_rejected)
{
	struct ap_config_opts o = { .profile = AP_PROFILE_PRODUCTION,
		.root_dir = srcdir(), .credentials_dir = nocred };
	struct ap_config_problems pr = { 0 };
	struct ap_config *c = NULL;

	/* Unless this machine happens to have /etc/aapanel/secret_key. */
	if (access("/etc/aapanel/secret_key", F_OK) == 0)
		return;
	ck_assert_int_eq(ap_config_load(&o, &c, &pr), AP_ERR_INVAL);
	expect_problem(&pr, "security.secret_key_file",
	    "/etc/aapanel/secret_key: cannot read");
	ap_config_problems_free(&pr);
}
END_TEST

/* ---- more edges -------------------------------------------------------- */

START_TEST(test_wide_int_single_problem)
{
	struct ap_config *c = NULL;
	struct ap_config_problems pr;

	load(AP_PROFILE_TEST, "limits = { max_upload = 17179869184; };", NULL, &c,
	    &pr);
	ck_assert_uint_eq(pr.n, 1);
	ap_config_problems_free(&pr);
}
END_TEST

START_TEST(test_wide_negative_int_rejected)
{
	struct ap_config *c = NULL;
	struct ap_config_problems pr;

	ck_assert_int_eq(load(AP_PROFILE_TEST,
	    "pool = { workers = -3000000000; };", NULL, &c, &pr), AP_ERR_INVAL);
	expect_problem(&pr, "pool.workers", "does not fit in 32 bits");
	ap_config_problems_free(&pr);
}
END_TEST

START_TEST(test_include_relative_to_including_file)
{
	struct ap_config *c = NULL;
	struct ap_config_problems pr;
	char *inc = at("conf/extra.cfg");

	write_at("conf/extra.cfg", "pool = { workers = 3; };\n", 0644);
	c = load_ok(AP_PROFILE_TEST, "@include \"extra.cfg\"\n", NULL);
	ck_assert_int_eq(c->workers, 3);
	ap_config_free(c);
	c = NULL;
	/* Problems in an included file name that file. */
	write_at("conf/extra.cfg", "\npool = { wokers = 3; };\n", 0644);
	ck_assert_int_eq(load(AP_PROFILE_TEST, "@include \"extra.cfg\"\n", NULL, &c,
	    &pr), AP_ERR_INVAL);
	ck_assert_str_eq(pr.v[0].file, inc);
	ck_assert_int_eq(pr.v[0].line, 2);
	free(inc);
	ap_config_problems_free(&pr);
}
END_TEST

START_TEST(test_nul_byte_in_config_rejected)
{
	struct ap_config *c = NULL;
	struct ap_config_problems pr;
	char *path = at("conf/aapanel.cfg");
	int fd;

	load(AP_PROFILE_TEST, "", NULL, &c, &pr);
	ap_config_free(c);
	fd = open(path, O_WRONLY | O_TRUNC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "pool = {}\0;", 11), 11);
	close(fd);
	memset(&pr, 0, sizeof(pr));
	{
		struct ap_config_opts o = { .profile = AP_PROFILE_TEST, .root_dir = root,
			.credentials_dir = nocred };

		ck_assert_int_eq(ap_config_load(&o, &c, &pr), AP_ERR_INVAL);
	}
	ck_assert_str_eq(pr.v[0].reason, "file contains a NUL byte");
	free(path);
	ap_config_problems_free(&pr);
}
END_TEST

START_TEST(test_huge_config_rejected)
{
	struct ap_config *c = NULL;
	struct ap_config_problems pr;
	char *big = ap_xmalloc(1024 * 1024 + 2);

	memset(big, '#', 1024 * 1024 + 1);
	big[1024 * 1024 + 1] = '\0';
	ck_assert_int_eq(load(AP_PROFILE_TEST, big, NULL, &c, &pr), AP_ERR_INVAL);
	ck_assert_ptr_nonnull(strstr(pr.v[0].reason, "file is larger than"));
	free(big);
	ap_config_problems_free(&pr);
}
END_TEST

START_TEST(test_key_file_too_large)
{
	struct ap_config *c = NULL;
	struct ap_config_problems pr;
	char *big = ap_xcalloc(1, 5001);
	char *base = key_base("key");

	memset(big, 'k', 5000);
	write_at("key", big, 0600);
	ck_assert_int_eq(load(AP_PROFILE_TEST, base, NULL, &c, &pr), AP_ERR_INVAL);
	expect_problem(&pr, "security.secret_key_file", "is larger than 4096 bytes");
	free(big);
	free(base);
	ap_config_problems_free(&pr);
}
END_TEST

START_TEST(test_key_crlf_and_uppercase_hex)
{
	char hex[65];
	char *text, *base = key_base("key");
	struct ap_config *c;
	unsigned v;

	good_key_hex(hex);
	for (int i = 0; i < 64; i++)
		hex[i] = (char)toupper((unsigned char)hex[i]);
	text = ap_xasprintf("%s\r\n", hex);
	write_at("key", text, 0600);
	c = load_ok(AP_PROFILE_TEST, base, NULL);
	ck_assert_uint_eq(c->secret_key_len, 32);
	sscanf(hex + 62, "%2x", &v);
	ck_assert_uint_eq(c->secret_key[31], v);
	free(text);
	free(base);
	ap_config_free(c);
}
END_TEST

START_TEST(test_inline_secret_in_overlay_located_there)
{
	struct ap_config *c = NULL;
	struct ap_config_problems pr;
	char *file = at("conf/profiles/production.cfg");
	const struct ap_config_problem *p;

	load(AP_PROFILE_PRODUCTION, "", "\n\nsecurity = { secret_key = \"abc\"; };\n",
	    &c, &pr);
	p = find(&pr, "security.secret_key");
	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(p->file, file);
	ck_assert_int_eq(p->line, 3);
	free(file);
	ap_config_problems_free(&pr);
}
END_TEST

START_TEST(test_unknown_key_in_both_files_reported_twice)
{
	struct ap_config *c = NULL;
	struct ap_config_problems pr;

	load(AP_PROFILE_TEST, "pool = { wokers = 1; };", "pool = { wokers = 2; };",
	    &c, &pr);
	ck_assert_uint_eq(pr.n, 2);
	ck_assert_ptr_nonnull(strstr(pr.v[0].file, "conf/aapanel.cfg"));
	ck_assert_ptr_nonnull(strstr(pr.v[1].file, "conf/profiles/test.cfg"));
	ap_config_problems_free(&pr);
}
END_TEST

START_TEST(test_syntax_errors_in_both_files_collected)
{
	struct ap_config *c = NULL;
	struct ap_config_problems pr;

	ck_assert_int_eq(load(AP_PROFILE_TEST, "pool = {", "server = ;", &c, &pr),
	    AP_ERR_INVAL);
	ck_assert_uint_eq(pr.n, 2);
	ck_assert_ptr_nonnull(strstr(pr.v[0].file, "conf/aapanel.cfg"));
	ck_assert_ptr_nonnull(strstr(pr.v[1].file, "conf/profiles/test.cfg"));
	ap_config_problems_free(&pr);
}
END_TEST

START_TEST(test_default_dir_missing_located_at_base)
{
	struct ap_config *c = NULL;
	struct ap_config_problems pr;
	char *s, *want, *tpl = at("templates");

	ck_assert_int_eq(rmdir(tpl), 0);
	ck_assert_int_eq(load(AP_PROFILE_TEST, "", NULL, &c, &pr), AP_ERR_INVAL);
	ck_assert_uint_eq(pr.n, 1);
	s = ap_config_problem_str(&pr.v[0]);
	want = ap_xasprintf("%s/conf/aapanel.cfg: paths.templates: directory %s: "
	    "No such file or directory", root, tpl);
	ck_assert_str_eq(s, want);
	free(s);
	free(want);
	free(tpl);
	ap_config_problems_free(&pr);
}
END_TEST

START_TEST(test_relative_socket_too_long_after_resolution)
{
	struct ap_config *c = NULL;
	struct ap_config_problems pr;
	char name[120];
	char *base;

	/* Short as written, too long once joined to the root directory. */
	memset(name, 's', 95);
	name[95] = '\0';
	base = ap_xasprintf("server = { socket = \"var/%s\"; };", name);
	ck_assert_int_eq(load(AP_PROFILE_TEST, base, NULL, &c, &pr), AP_ERR_INVAL);
	expect_problem(&pr, "server.socket", "a unix socket path is at most 107");
	free(base);
	ap_config_problems_free(&pr);
}
END_TEST

START_TEST(test_optional_paths_resolved_when_set)
{
	struct ap_config *c = load_ok(AP_PROFILE_TEST,
	    "db = { password_file = \"conf/dbpass\"; };\n", NULL);
	char *want = at("conf/dbpass");

	ck_assert_str_eq(c->db_password_file, want);
	ck_assert_str_eq(c->log_file, "");
	free(want);
	ap_config_free(c);
}
END_TEST

START_TEST(test_invalid_profile_option)
{
	struct ap_config_opts o = { .profile = AP_PROFILE__MAX, .root_dir = root };
	struct ap_config_problems pr = { 0 };
	struct ap_config *c = NULL;

	ck_assert_int_eq(ap_config_load(&o, &c, &pr), AP_ERR_INVAL);
	ck_assert_str_eq(pr.v[0].reason, "unknown profile");
	ap_config_problems_free(&pr);
	ap_config_free(NULL);
}
END_TEST

START_TEST(test_opts_credentials_dir_overrides_env)
{
	struct ap_config_opts o = { .profile = AP_PROFILE_TEST };
	struct ap_config_problems pr;
	struct ap_config *c = NULL;
	char *cred = at("creds");

	mkdir_at("creds");
	write_at("creds/aapanel-secret", "changeme", 0400);
	setenv("CREDENTIALS_DIRECTORY", cred, 1);
	/* load_opts points credentials_dir at an empty place. */
	ck_assert_int_eq(load_opts(&o, "", NULL, &c, &pr), AP_OK);
	unsetenv("CREDENTIALS_DIRECTORY");
	ck_assert_uint_eq(c->secret_key_len, 0);
	free(cred);
	ap_config_free(c);
}
END_TEST

START_TEST(test_show_generated_key_source)
{
	struct ap_config_opts o = { .profile = AP_PROFILE_DEVELOPMENT,
		.generate_secret = true };
	struct ap_config_problems pr;
	struct ap_config *c = NULL;
	struct ap_buf b = { 0 };
	char *want;

	ck_assert_int_eq(load_opts(&o, "", NULL, &c, &pr), AP_OK);
	ap_config_show(c, &b);
	want = ap_xasprintf("(hidden: 32 bytes from generated %s/var/secret_key)",
	    root);
	ck_assert_ptr_nonnull(strstr(ap_buf_cstr(&b), want));
	free(want);
	ap_buf_free(&b);
	ap_config_free(c);
}
END_TEST

START_TEST(test_show_auto_workers_comment)
{
	struct ap_config *c = load_ok(AP_PROFILE_TEST, "", NULL);
	struct ap_buf b = { 0 };

	ap_config_show(c, &b);
	ck_assert_ptr_nonnull(strstr(ap_buf_cstr(&b), "  workers = 0;  # 0 = auto: "));
	ap_buf_free(&b);
	ap_config_free(c);
}
END_TEST

START_TEST(test_show_dsn_resolved)
{
	struct ap_config *c = load_ok(AP_PROFILE_TEST, "db = { dsn = \"sqlite:db/x.db\"; };",
	    NULL);
	struct ap_buf b = { 0 };
	char *want = ap_xasprintf("  dsn = \"sqlite:%s/db/x.db\";\n", root);

	ap_config_show(c, &b);
	ck_assert_ptr_nonnull(strstr(ap_buf_cstr(&b), want));
	free(want);
	ap_buf_free(&b);
	ap_config_free(c);
}
END_TEST

START_TEST(test_bool_values_loaded)
{
	struct ap_config *c = load_ok(AP_PROFILE_DEVELOPMENT,
	    "panel = { debug = true; };\ndb = { auto_migrate = TRUE; };\n", NULL);

	ck_assert(c->debug);
	ck_assert(c->db_auto_migrate);
	ap_config_free(c);
}
END_TEST


/* ---- the settings layer (panel.settings_file) and its validators -------- */

static const struct {
	const char *key, *value;
	bool ok;
	const char *why; /* part of the reason when refused */
} setting_rows[] = {
	{ "panel.base_path", "/", true, NULL },
	{ "panel.base_path", "/my-panel_7", true, NULL },
	{ "panel.base_path", "/a/b", true, NULL },
	{ "panel.base_path", "", false, "must be" },
	{ "panel.base_path", "/a/", false, "trailing slash" },
	{ "panel.base_path", "/a b", false, "must be" },
	{ "panel.base_path", "/../etc", false, "must be" },
	{ "panel.base_path", "a", false, "must be" },
	{ "access.allow", "", true, NULL },
	{ "access.allow", "127.0.0.1, 10.0.0.0/8, 2001:db8::/32", true, NULL },
	{ "access.allow", "10.0.0.0/33", false, "not an address" },
	{ "access.allow", "example.com", false, "not an address" },
	{ "session.idle_timeout", "60", true, NULL },
	{ "session.idle_timeout", "86400", true, NULL },
	{ "session.idle_timeout", "59", false, "between 60 and 86400" },
	{ "session.idle_timeout", "1e3", false, "between 60 and 86400" },
	{ "session.idle_timeout", "", false, "between 60 and 86400" },
	{ "session.absolute_timeout", "604801", false, "between 300 and 604800" },
	{ "session.absolute_timeout", "300", true, NULL },
	{ "pool.workers", "2", false, "not a setting of the panel" },
	{ "security.secret_key_file", "/x", false, "not a setting of the panel" },
};

START_TEST(test_setting_check_rows)
{
	char why[192];
	bool ok = ap_config_setting_check(setting_rows[_i].key, setting_rows[_i].value, why, sizeof(why));

	ck_assert_msg(ok == setting_rows[_i].ok, "%s = '%s': %s", setting_rows[_i].key,
	    setting_rows[_i].value, why);
	if (!ok)
		ck_assert_msg(strstr(why, setting_rows[_i].why) != NULL, "%s: '%s'", setting_rows[_i].key, why);
}
END_TEST

START_TEST(test_settings_layer_overrides_profile)
{
	struct ap_config *c = NULL;
	struct ap_config_problems pr;
	char *over = ap_xasprintf("panel = { settings_file = \"var/settings.cfg\"; };\n"
				  "session = { idle_timeout = 900; };\n");

	mkdir_at("var");
	write_at("var/settings.cfg", "panel = { base_path = \"/hidden\"; };\n"
				     "access = { allow = \"127.0.0.1\"; };\n"
				     "session = { idle_timeout = 120; absolute_timeout = 600; };\n", 0644);
	ck_assert_int_eq(load(AP_PROFILE_TEST, "", over, &c, &pr), AP_OK);
	ck_assert_str_eq(c->base_path, "/hidden");
	ck_assert_str_eq(c->access_allow, "127.0.0.1");
	ck_assert_int_eq(c->session_idle_timeout, 120);
	ck_assert_int_eq(c->session_absolute_timeout, 600);
	ap_config_free(c);
	free(over);
}
END_TEST

START_TEST(test_settings_layer_missing_file_is_fine)
{
	struct ap_config *c = NULL;
	struct ap_config_problems pr;

	ck_assert_int_eq(load(AP_PROFILE_TEST, "panel = { settings_file = \"var/none.cfg\"; };\n", NULL, &c, &pr),
	    AP_OK);
	ck_assert_str_eq(c->base_path, "/");
	ap_config_free(c);
}
END_TEST

START_TEST(test_settings_layer_only_its_keys)
{
	struct ap_config *c = NULL;
	struct ap_config_problems pr;

	mkdir_at("var");
	write_at("var/settings.cfg", "pool = { workers = 3; };\nsession = { idle_timeout = 5; };\n", 0644);
	ck_assert_int_eq(load(AP_PROFILE_TEST, "panel = { settings_file = \"var/settings.cfg\"; };\n", NULL, &c, &pr),
	    AP_ERR_INVAL);
	ck_assert_ptr_null(c);
	ck_assert_ptr_nonnull(find(&pr, "pool.workers"));
	ck_assert_ptr_nonnull(strstr(find(&pr, "pool.workers")->reason, "only panel.base_path"));
	ck_assert_ptr_nonnull(find(&pr, "session.idle_timeout"));
	ap_config_problems_free(&pr);
}
END_TEST

static const struct {
	const char *text;
	bool ok;
	const char *address;
	int port;
	const char *base;
	bool tls;
} listen_rows[] = {
	{ "# aapanel-listen: address=127.0.0.1 port=8080 base=/ tls=0 certificate=-\nlisten 127.0.0.1:8080;\n",
	    true, "127.0.0.1", 8080, "/", false },
	{ "# aapanel-listen: address=* port=443 base=/p tls=1 certificate=/etc/letsencrypt/live/a.example/fullchain.pem\n",
	    true, "*", 443, "/p", true },
	{ "# aapanel-listen: address=2001:db8::1 port=9000 base=/ tls=0 certificate=-", true, "2001:db8::1", 9000, "/",
	    false },
	{ "# aapanel-listen: address=127.0.0.1 port=0 base=/ tls=0 certificate=-\n", false, NULL, 0, NULL, false },
	{ "# aapanel-listen: address=127.0.0.1 port=65536 base=/ tls=0 certificate=-\n", false, NULL, 0, NULL, false },
	{ "# aapanel-listen: address=localhost port=80 base=/ tls=0 certificate=-\n", false, NULL, 0, NULL, false },
	{ "# aapanel-listen: address=127.0.0.1 port=80 base=/a/ tls=0 certificate=-\n", false, NULL, 0, NULL, false },
	{ "# aapanel-listen: address=127.0.0.1 port=80 base=/ tls=2 certificate=-\n", false, NULL, 0, NULL, false },
	{ "# aapanel-listen: address=127.0.0.1 port=80 base=/ tls=1 certificate=/etc/../x\n", false, NULL, 0, NULL,
	    false },
	{ "# aapanel-listen: address=127.0.0.1 port=80 base=/ tls=1 certificate=a;b\n", false, NULL, 0, NULL, false },
	{ "# aapanel-listen: address=127.0.0.1 base=/ tls=0 certificate=-\n", false, NULL, 0, NULL, false },
	{ "listen 127.0.0.1:8080;\n", false, NULL, 0, NULL, false },
	{ "", false, NULL, 0, NULL, false },
};

START_TEST(test_listen_header_rows)
{
	struct ap_listen l;
	bool ok = ap_listen_parse(listen_rows[_i].text, &l);

	ck_assert_msg(ok == listen_rows[_i].ok, "row %d", _i);
	if (!ok)
		return;
	ck_assert_str_eq(l.address, listen_rows[_i].address);
	ck_assert_int_eq(l.port, listen_rows[_i].port);
	ck_assert_str_eq(l.base, listen_rows[_i].base);
	ck_assert(l.tls == listen_rows[_i].tls);
}
END_TEST

START_TEST(test_listen_address_rows)
{
	ck_assert(ap_listen_address_ok("*"));
	ck_assert(ap_listen_address_ok("0.0.0.0"));
	ck_assert(ap_listen_address_ok("::1"));
	ck_assert(!ap_listen_address_ok(""));
	ck_assert(!ap_listen_address_ok("127.0.0.1:80"));
	ck_assert(!ap_listen_address_ok("[::1]"));
	ck_assert(!ap_listen_address_ok("1.2.3"));
	ck_assert(!ap_listen_address_ok("127.0.0.1; include /etc/passwd"));
}
END_TEST

static Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *t;

	t = tcase_create("detect");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_loop_test(t, test_profile_parse_table, 0, (int)AP_NELEM(parse_rows));
	tcase_add_test(t, test_profile_names);
	tcase_add_loop_test(t, test_profile_detect_table, 0, (int)AP_NELEM(detect_rows));
	tcase_add_test(t, test_detect_needs_both_checkout_files);
	tcase_add_test(t, test_detect_reason_sanitizes_env);
	suite_add_tcase(s, t);

	t = tcase_create("schema");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_empty_base_gives_defaults);
	tcase_add_test(t, test_paths_resolve_against_root);
	tcase_add_test(t, test_relative_root_becomes_absolute);
	tcase_add_loop_test(t, test_type_errors_table, 0, (int)AP_NELEM(type_rows));
	tcase_add_loop_test(t, test_int_ranges_table, 0, (int)AP_NELEM(range_rows));
	tcase_add_test(t, test_wide_int_without_suffix_rejected);
	tcase_add_test(t, test_wide_int_with_suffix_loads);
	tcase_add_loop_test(t, test_relations_table, 0, (int)AP_NELEM(relation_rows));
	tcase_add_loop_test(t, test_string_values_table, 0, (int)AP_NELEM(string_rows));
	tcase_add_test(t, test_socket_mode_parsed_octal);
	tcase_add_loop_test(t, test_base_path_table, 0, (int)AP_NELEM(base_path_rows));
	tcase_add_loop_test(t, test_dsn_table, 0, (int)AP_NELEM(dsn_rows));
	tcase_add_loop_test(t, test_unknown_keys_table, 0, (int)AP_NELEM(unknown_rows));
	tcase_add_test(t, test_no_suggestion_for_distant_key);
	suite_add_tcase(s, t);

	t = tcase_create("files");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_overlay_overrides_base);
	tcase_add_test(t, test_overlay_of_other_profile_ignored);
	tcase_add_test(t, test_overlay_unknown_key_has_overlay_location);
	tcase_add_test(t, test_overlay_bad_value_has_overlay_location);
	tcase_add_test(t, test_log_units);
	tcase_add_test(t, test_base_error_reported_even_when_overridden);
	tcase_add_test(t, test_overlay_syntax_error_location);
	tcase_add_loop_test(t, test_syntax_errors_table, 0, (int)AP_NELEM(syntax_rows));
	tcase_add_test(t, test_missing_base_file);
	tcase_add_test(t, test_config_file_option_and_its_profiles_dir);
	tcase_add_test(t, test_unreadable_overlay_directory_is_problem);
	tcase_add_loop_test(t, test_problem_str_table, 0, (int)AP_NELEM(fmt_rows));
	tcase_add_test(t, test_all_problems_collected_in_order);
	tcase_add_test(t, test_problems_appended_not_replaced);
	tcase_add_test(t, test_missing_root_is_problem);
	suite_add_tcase(s, t);

	t = tcase_create("secret");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_secret_hex_file_decodes);
	tcase_add_test(t, test_secret_128_hex_gives_64_bytes);
	tcase_add_test(t, test_secret_raw_bytes_newline_stripped);
	tcase_add_loop_test(t, test_secret_rejected_table, 0, (int)AP_NELEM(bad_key_rows));
	tcase_add_test(t, test_secret_62_hex_chars_is_raw_and_accepted);
	tcase_add_test(t, test_secret_file_missing);
	tcase_add_test(t, test_secret_not_regular_file);
	tcase_add_loop_test(t, test_secret_file_mode_table, 0, (int)AP_NELEM(key_mode_rows));
	tcase_add_test(t, test_secret_from_credentials_dir);
	tcase_add_test(t, test_secret_credential_from_env);
	tcase_add_test(t, test_secret_credential_preferred_over_file);
	tcase_add_test(t, test_secret_credential_dir_without_credential_falls_through);
	tcase_add_test(t, test_secret_bad_credential_rejected);
	tcase_add_test(t, test_secret_generated_in_development_and_reused);
	tcase_add_test(t, test_secret_generated_in_test_profile_nested_var_dir);
	tcase_add_test(t, test_secret_not_generated_when_config_invalid);
	tcase_add_test(t, test_secret_not_generated_in_production);
	tcase_add_test(t, test_secret_generated_file_invalid_is_problem);
	tcase_add_test(t, test_no_secret_in_development_is_fine);
	suite_add_tcase(s, t);

	t = tcase_create("production");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_loop_test(t, test_production_rules_table, 0, (int)AP_NELEM(prod_rows));
	tcase_add_test(t, test_production_missing_key_exact);
	tcase_add_test(t, test_production_overlay_turns_debug_off);
	tcase_add_test(t, test_production_collects_debug_and_key_together);
	suite_add_tcase(s, t);

	t = tcase_create("show");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_show_masks_secret);
	tcase_add_test(t, test_show_layout);
	tcase_add_test(t, test_show_output_is_libconfig);
	tcase_add_loop_test(t, test_worker_count_table, 0, (int)AP_NELEM(wc_rows));
	suite_add_tcase(s, t);

	t = tcase_create("shipped");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_loop_test(t, test_shipped_base_lists_every_key, 0, (int)AP_NELEM(all_keys));
	tcase_add_test(t, test_shipped_base_matches_builtin_defaults);
	tcase_add_loop_test(t, test_shipped_profiles_load, 0, (int)AP_NELEM(shipped_profiles));
	tcase_add_test(t, test_shipped_production_without_key_rejected);
	suite_add_tcase(s, t);

	t = tcase_create("edges");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_wide_int_single_problem);
	tcase_add_test(t, test_wide_negative_int_rejected);
	tcase_add_test(t, test_include_relative_to_including_file);
	tcase_add_test(t, test_nul_byte_in_config_rejected);
	tcase_add_test(t, test_huge_config_rejected);
	tcase_add_test(t, test_key_file_too_large);
	tcase_add_test(t, test_key_crlf_and_uppercase_hex);
	tcase_add_test(t, test_inline_secret_in_overlay_located_there);
	tcase_add_test(t, test_unknown_key_in_both_files_reported_twice);
	tcase_add_test(t, test_syntax_errors_in_both_files_collected);
	tcase_add_test(t, test_default_dir_missing_located_at_base);
	tcase_add_test(t, test_relative_socket_too_long_after_resolution);
	tcase_add_test(t, test_optional_paths_resolved_when_set);
	tcase_add_test(t, test_invalid_profile_option);
	tcase_add_test(t, test_opts_credentials_dir_overrides_env);
	tcase_add_test(t, test_show_generated_key_source);
	tcase_add_test(t, test_show_auto_workers_comment);
	tcase_add_test(t, test_show_dsn_resolved);
	tcase_add_test(t, test_bool_values_loaded);
	tcase_add_loop_test(t, test_setting_check_rows, 0, (int)AP_NELEM(setting_rows));
	tcase_add_test(t, test_settings_layer_overrides_profile);
	tcase_add_test(t, test_settings_layer_missing_file_is_fine);
	tcase_add_test(t, test_settings_layer_only_its_keys);
	tcase_add_loop_test(t, test_listen_header_rows, 0, (int)AP_NELEM(listen_rows));
	tcase_add_test(t, test_listen_address_rows);
	suite_add_tcase(s, t);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
