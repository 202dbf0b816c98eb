/*
 * check_helper_proto.c — the helper's protocol without a socket: envelope
 * rows (each mistake and its code, and whether the connection stays),
 * argument validation rows against the real operation tables (valid and
 * invalid side by side, the field named), the strict validators, the
 * operations table check, and a job through its whole life.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aapanel/log.h"
#include "jobs.h"
#include "ops.h"
#include "proto.h"
#include "valid.h"

static struct ap_config cfg;
static struct ap_arena *A;

static void
setup(void)
{
	memset(&cfg, 0, sizeof(cfg));
	cfg.profile = AP_PROFILE_TEST;
	cfg.helper_max_message = 4096;
	cfg.helper_max_jobs = 2;
	cfg.helper_job_timeout = 60;
	cfg.log_level = "warn";
	ap_log_init("test", AP_LOG_WARN, STDERR_FILENO);
	A = ap_arena_new();
}

static void
teardown(void)
{
	ap_arena_free(A);
	A = NULL;
}

/* Send one line through the protocol; returns the parsed answer (owned) and whether it keeps the connection. */
static struct json_object *
handle(const char *line, bool *keep)
{
	struct ap_proto_env env = { .cfg = &cfg, .sandbox_fd = -1, .peer_uid = getuid(),
		.arena = A };
	struct ap_buf out = { 0 };
	struct json_object *o;
	bool k = ap_proto_handle(&env, line, strlen(line), &out);

	ck_assert_uint_gt(out.len, 0);
	ck_assert_msg(out.data[out.len - 1] == '\n', "answer not a line: %s", out.data);
	ck_assert_ptr_null(memchr(out.data, '\n', out.len - 1)); /* exactly one line */
	o = json_tokener_parse(out.data);
	ck_assert_ptr_nonnull(o);
	if (keep != NULL)
		*keep = k;
	ap_buf_free(&out);
	ap_arena_reset(A);
	return o;
}

static const char *
get_s(struct json_object *o, const char *path1, const char *path2)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, path1, &v))
		return NULL;
	if (path2 != NULL && !json_object_object_get_ex(v, path2, &v))
		return NULL;
	return json_object_get_string(v);
}

/* ---- envelope rows -------------------------------------------------- */

static const struct {
	const char *line;
	const char *code;  /* NULL: ok */
	const char *field; /* when code */
	bool keep;         /* the connection stays open after the answer */
	long long id;      /* -1: "id":null */
} envelope[] = {
	{ "{\"id\":1,\"op\":\"helper.ping\",\"args\":{}}", NULL, NULL, true, 1 },
	{ "  {\"id\":2,\"op\":\"helper.ping\",\"args\":{}}\t ", NULL, NULL, true, 2 },
	{ "{\"args\":{},\"op\":\"helper.ping\",\"id\":0}", NULL, NULL, true, 0 },
	{ "{\"id\":9007199254740991,\"op\":\"helper.ping\",\"args\":{}}", NULL, NULL, true,
	    9007199254740991LL },
	{ "", "invalid", "", false, -1 },
	{ "x", "invalid", "", false, -1 },
	{ "{\"id\":1,\"op\":\"helper.ping\",\"args\":{}}}", "invalid", "", false, -1 },
	{ "{\"id\":1,\"op\":\"helper.ping\",\"args\":{}}\r", "invalid", "", false, -1 },
	{ "[]", "invalid", "", false, -1 },
	{ "1", "invalid", "", false, -1 },
	{ "{\"op\":\"helper.ping\",\"args\":{}}", "invalid", "id", false, -1 },
	{ "{\"id\":null,\"op\":\"helper.ping\",\"args\":{}}", "invalid", "id", false, -1 },
	{ "{\"id\":true,\"op\":\"helper.ping\",\"args\":{}}", "invalid", "id", false, -1 },
	{ "{\"id\":-5,\"op\":\"helper.ping\",\"args\":{}}", "invalid", "id", false, -1 },
	{ "{\"id\":9007199254740992,\"op\":\"helper.ping\",\"args\":{}}", "invalid", "id", false, -1 },
	{ "{\"id\":1e3,\"op\":\"helper.ping\",\"args\":{}}", "invalid", "id", false, -1 },
	{ "{\"id\":1,\"args\":{}}", "invalid", "op", false, 1 },
	{ "{\"id\":1,\"op\":[\"helper.ping\"],\"args\":{}}", "invalid", "op", false, 1 },
	{ "{\"id\":1,\"op\":\"helper.ping\\u0000x\",\"args\":{}}", "invalid", "op", false, 1 },
	{ "{\"id\":1,\"op\":\"helper.ping\"}", "invalid", "args", false, 1 },
	{ "{\"id\":1,\"op\":\"helper.ping\",\"args\":null}", "invalid", "args", false, 1 },
	{ "{\"id\":1,\"op\":\"helper.ping\",\"args\":{},\"x\":1}", "invalid", "x", false, -1 },
	{ "{\"id\":1,\"op\":\"helper.ping\",\"args\":{},\"a b\":1}", "invalid", "", false, -1 },
	{ "{\"id\":3,\"op\":\"nope.nope\",\"args\":{}}", "unsupported", "op", false, 3 },
	{ "{\"id\":3,\"op\":\"HELPER.PING\",\"args\":{}}", "unsupported", "op", false, 3 },
	/* Arguments: the envelope is fine, so the connection stays. */
	{ "{\"id\":4,\"op\":\"helper.ping\",\"args\":{\"x\":1}}", "invalid", "x", true, 4 },
	{ "{\"id\":5,\"op\":\"job.status\",\"args\":{}}", "invalid", "id", true, 5 },
	{ "{\"id\":6,\"op\":\"job.status\",\"args\":{\"id\":1}}", "not_found", "id", true, 6 },
};

START_TEST(test_envelope_rows)
{
	bool keep = !envelope[_i].keep;
	struct json_object *o = handle(envelope[_i].line, &keep), *id;
	const char *code = get_s(o, "error", "code");

	ck_assert_msg(keep == envelope[_i].keep, "row %d: keep %d", _i, keep);
	if (envelope[_i].code == NULL) {
		ck_assert_msg(code == NULL, "row %d: error %s: %s", _i, code,
		    get_s(o, "error", "reason"));
		ck_assert_str_eq(get_s(o, "result", "version"), AP_VERSION);
	} else {
		ck_assert_msg(code != NULL && strcmp(code, envelope[_i].code) == 0,
		    "row %d '%s': code %s", _i, envelope[_i].line, code ? code : "(none)");
		ck_assert_str_eq(get_s(o, "error", "field"), envelope[_i].field);
		ck_assert_uint_gt(strlen(get_s(o, "error", "reason")), 0);
	}
	ck_assert(json_object_object_get_ex(o, "id", &id));
	if (envelope[_i].id < 0)
		ck_assert_ptr_null(id);
	else
		ck_assert_int_eq(json_object_get_int64(id), envelope[_i].id);
	json_object_put(o);
}
END_TEST

/* ---- argument rows: the real tables ---------------------------------- */

static const struct {
	const char *op;
	const char *args;
	const char *field;  /* NULL: valid */
	const char *reason; /* a substring of the reason */
} arg_rows[] = {
	{ "test.echo", "{\"text\":\"hello\"}", NULL, NULL },
	{ "test.echo", "{\"text\":5}", "text", "must be a JSON string" },
	{ "test.echo", "{}", "text", "is required" },
	{ "test.echo", "{\"text\":\"\"}", "text", "is required" },
	{ "test.echo", "{\"text\":\"Hello, World 2: a+b=c@d\"}", NULL, NULL },
	{ "test.echo", "{\"text\":\"a.com; rm -rf /\"}", "text", "may only contain" },
	{ "test.echo", "{\"text\":\"$(id)\"}", "text", "may only contain" },
	{ "test.echo", "{\"text\":\"`id`\"}", "text", "may only contain" },
	{ "test.echo", "{\"text\":\"a\\nb\"}", "text", "single line" },
	{ "test.echo", "{\"text\":\"a\\u0000b\"}", "text", "NUL" },
	{ "test.echo", "{\"text\":\"caf\\u00e9\"}", "text", "may only contain" },
	{ "test.echo", "{\"text\":\"\\u0430\"}", "text", "may only contain" }, /* Cyrillic a */
	{ "test.echo", "{\"text\":\" lead\"}", "text", "space" },
	{ "test.echo", "{\"text\":\"-e\"}", "text", "'-'" },
	{ "test.echo",
	    "{\"text\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}", "text",
	    "at most 64" },
	{ "test.echo",
	    "{\"text\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}", NULL, NULL },
	{ "test.echo", "{\"text\":\"x\",\"domain\":\"example.com\"}", NULL, NULL },
	{ "test.echo", "{\"text\":\"x\",\"domain\":\"xn--80ak6aa92e.com\"}", NULL, NULL },
	{ "test.echo", "{\"text\":\"x\",\"domain\":\"Example.com\"}", "domain", "lowercase" },
	{ "test.echo", "{\"text\":\"x\",\"domain\":\"example\"}", "domain", "two labels" },
	{ "test.echo", "{\"text\":\"x\",\"domain\":\"10.0.0.1\"}", "domain", "not an IP" },
	{ "test.echo", "{\"text\":\"x\",\"domain\":\"a;b.com\"}", "domain", "valid host name" },
	{ "test.echo", "{\"text\":\"x\",\"domain\":\"ex\\u0430mple.com\"}", "domain",
	    "valid host name" },
	{ "test.echo", "{\"text\":\"x\",\"domain\":\"\"}", NULL, NULL }, /* absent */
	{ "test.echo", "{\"text\":\"x\",\"domain\":1}", "domain", "JSON string" },
	{ "test.echo", "{\"text\":\"x\",\"name\":\"site_1\"}", NULL, NULL },
	{ "test.echo", "{\"text\":\"x\",\"name\":\"Site\"}", "name", "a-z" },
	{ "test.echo", "{\"text\":\"x\",\"name\":\"a.b\"}", "name", "a-z" },
	{ "test.echo", "{\"text\":\"x\",\"name\":\".x\"}", "name", "must not start" },
	{ "test.echo", "{\"text\":\"x\",\"name\":\"a b\"}", "name", "may only contain" },
	{ "test.echo", "{\"text\":\"x\",\"count\":1}", NULL, NULL },
	{ "test.echo", "{\"text\":\"x\",\"count\":10}", NULL, NULL },
	{ "test.echo", "{\"text\":\"x\",\"count\":0}", "count", "between 1 and 10" },
	{ "test.echo", "{\"text\":\"x\",\"count\":11}", "count", "between 1 and 10" },
	{ "test.echo", "{\"text\":\"x\",\"count\":-99999999999999999999}", "count", "between" },
	{ "test.echo", "{\"text\":\"x\",\"count\":99999999999999999999}", "count", "between" },
	{ "test.echo", "{\"text\":\"x\",\"count\":2.5}", "count", "JSON integer" },
	{ "test.echo", "{\"text\":\"x\",\"count\":\"2\"}", "count", "JSON integer" },
	{ "test.echo", "{\"text\":\"x\",\"mode\":\"plain\"}", NULL, NULL },
	{ "test.echo", "{\"text\":\"x\",\"mode\":\"plain\\u0000x\"}", "mode", "NUL" },
	{ "test.echo", "{\"text\":\"x\",\"mode\":\"other\"}", "mode", "one of: plain, loud" },
	{ "test.echo", "{\"text\":\"x\",\"flag\":false}", NULL, NULL },
	{ "test.echo", "{\"text\":\"x\",\"flag\":\"true\"}", "flag", "true or false" },
	{ "test.echo", "{\"text\":\"x\",\"other\":1}", "other", "not an argument" },
	{ "test.sleep", "{\"seconds\":1}", NULL, NULL },
	{ "test.sleep", "{\"seconds\":61}", "seconds", "between 1 and 60" },
	{ "test.sleep", "{}", "seconds", "is required" },
	{ "test.read", "{\"path\":\"a/b.txt\"}", NULL, NULL },
	{ "test.read", "{\"path\":\"a\\nb\"}", "path", "single line" },
	{ "job.status", "{\"id\":1}", NULL, NULL },
	{ "job.status", "{\"id\":0}", "id", "between 1 and" },
	{ "helper.ping", "{}", NULL, NULL },
	{ "helper.ping", "{\"verbose\":true}", "verbose", "not an argument" },
	/* panel.listen: what reaches nginx's include */
	{ "panel.listen", "{\"address\":\"127.0.0.1\",\"port\":8080,\"base_path\":\"/\"}", NULL, NULL },
	{ "panel.listen", "{\"address\":\"*\",\"port\":443,\"base_path\":\"/p-1/x_2\"}", NULL, NULL },
	{ "panel.listen", "{\"address\":\"2001:db8::1\",\"port\":9000,\"base_path\":\"/\"}", NULL, NULL },
	{ "panel.listen", "{\"address\":\"127.0.0.1; include /etc/shadow\",\"port\":80,\"base_path\":\"/\"}",
	    "address", "IPv4 or IPv6" },
	{ "panel.listen", "{\"address\":\"localhost\",\"port\":80,\"base_path\":\"/\"}", "address", "IPv4 or IPv6" },
	{ "panel.listen", "{\"address\":\"127.0.0.1\",\"port\":0,\"base_path\":\"/\"}", "port", "between 1 and 65535" },
	{ "panel.listen", "{\"address\":\"127.0.0.1\",\"port\":\"80\",\"base_path\":\"/\"}", "port", "JSON integer" },
	{ "panel.listen", "{\"address\":\"127.0.0.1\",\"port\":80,\"base_path\":\"/a\\\";\"}", "base_path", "must be" },
	{ "panel.listen", "{\"address\":\"127.0.0.1\",\"port\":80,\"base_path\":\"/a\\nb\"}", "base_path", "single line" },
	/* the rest of the hostile set, for the panel's own operations */
	{ "panel.listen", "{\"address\":\"127.0.0.1\",\"port\":80,\"base_path\":\"/a/../etc\"}", "base_path", "letters, digits" },
	{ "panel.listen", "{\"address\":\"127.0.0.1\",\"port\":80,\"base_path\":\"/a\\u0000b\"}", "base_path", "NUL bytes" },
	{ "panel.listen", "{\"address\":\"127.0.0.1\",\"port\":80,\"base_path\":\"/p\u0430nel\"}", "base_path", "letters, digits" },
	{ "panel.listen", "{\"address\":\"127.0.0.1\",\"port\":80,\"base_path\":\"/$(id)\"}", "base_path", "letters, digits" },
	{ "panel.listen", "{\"address\":\"127.0.0.1`id`\",\"port\":80,\"base_path\":\"/\"}", "address", "IPv4 or IPv6" },
	{ "panel.settings", "{\"base_path\":\"/\",\"allow\":\"10.0.0.0/8\\n x\",\"idle_timeout\":60,\"absolute_timeout\":300}",
	    "allow", "single line" },
	{ "panel.settings", "{\"base_path\":\"/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"allow\":\"\",\"idle_timeout\":60,\"absolute_timeout\":300}",
	    "base_path", "at most 255" },
	{ "panel.listen", "{\"address\":\"127.0.0.1\",\"port\":80}", "base_path", "is required" },
	/* panel.settings: what reaches the settings layer */
	{ "panel.settings", "{\"base_path\":\"/\",\"allow\":\"\",\"idle_timeout\":60,\"absolute_timeout\":300}", NULL, NULL },
	{ "panel.settings", "{\"base_path\":\"/\",\"allow\":\"10.0.0.0/8, ::1\",\"idle_timeout\":60,\"absolute_timeout\":300}",
	    NULL, NULL },
	{ "panel.settings", "{\"base_path\":\"/\",\"allow\":\"10.0.0.0/8\\\"; x = 1\",\"idle_timeout\":60,\"absolute_timeout\":300}",
	    "allow", "addresses or networks" },
	{ "panel.settings", "{\"base_path\":\"/\",\"allow\":\"\",\"idle_timeout\":59,\"absolute_timeout\":300}",
	    "idle_timeout", "between 60 and 86400" },
	{ "panel.settings", "{\"base_path\":\"/\",\"allow\":\"\",\"idle_timeout\":60,\"absolute_timeout\":604801}",
	    "absolute_timeout", "between 300 and 604800" },
	{ "panel.tls", "{}", NULL, NULL },
	/* site.apply: the spec of a website (ops_sites.c), valid and hostile side by side */
	/* databases (ops_dbs.c): the names checked again, whatever the worker sent */
	{ "database.create", "{\"server\":\"local\",\"name\":\"shop\",\"user\":\"shop\",\"hosts\":\"localhost,127.0.0.1\"}", NULL, NULL },
	{ "database.create", "{\"server\":\"local\",\"name\":\"shop\",\"user\":\"shop\",\"charset\":\"utf8mb4\",\"collation\":\"utf8mb4_bin\"}", NULL, NULL },
	{ "database.create", "{\"server\":\"local\",\"name\":\"x; DROP DATABASE y\",\"user\":\"shop\"}", "name", "may only contain" },
	{ "database.create", "{\"server\":\"local\",\"name\":\"a`b\",\"user\":\"shop\"}", "name", "may only contain" },
	{ "database.create", "{\"server\":\"local\",\"name\":\"mysql\",\"user\":\"shop\"}", "name", "reserved" },
	{ "database.create", "{\"server\":\"local\",\"name\":\"shop\",\"user\":\"postgres\"}", "user", "reserved" },
	{ "database.create", "{\"server\":\"local\",\"name\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"user\":\"shop\"}", "name", "at most 32" },
	{ "database.create", "{\"server\":\"local\",\"name\":\"shop\",\"user\":\"shop\",\"hosts\":\"localhost'; DROP USER root\"}", "hosts", "each host" },
	{ "database.create", "{\"server\":\"local\",\"name\":\"shop\",\"user\":\"shop\",\"charset\":\"utf16\"}", "charset", "one of" },
	{ "database.create", "{\"server\":\"Local\",\"name\":\"shop\",\"user\":\"shop\"}", "server", "" },
	{ "database.drop", "{\"server\":\"local\",\"name\":\"$(id)\"}", "name", "may only contain" },
	{ "database.passwd", "{\"server\":\"local\",\"user\":\"sh\\u00f6p\"}", "user", "may only contain" },
	{ "dbserver.add", "{\"name\":\"local\",\"dsn\":\"mysql://root@localhost/?socket=/run/mysqld/mysqld.sock\"}", NULL, NULL },
	{ "dbserver.add", "{\"name\":\"local\",\"dsn\":\"mysql://root@localhost/\\nx\"}", "dsn", "single line" },
	{ "dbserver.add", "{\"name\":\"local\",\"dsn\":\"mysql://root@localhost/\",\"password\":\"a\\u0001b\"}", "password", "" },
	{ "dbserver.statuses", "{\"names\":\"local remote_1 pg\"}", NULL, NULL },
	{ "dbserver.statuses", "{\"names\":\"local\"}", NULL, NULL },
	{ "dbserver.statuses", "{\"names\":\"local  pg\"}", "names", "separated by one space" },
	{ "dbserver.statuses", "{\"names\":\"local \"}", "names", "separated by one space" },
	{ "dbserver.statuses", "{\"names\":\" local\"}", "names", "separated by one space" },
	{ "dbserver.statuses", "{\"names\":\"lo;cal\"}", "names", "separated by one space" },
	{ "dbserver.statuses", "{\"names\":\"\"}", "names", "" },
	{ "database.lists", "{\"names\":\"local pg\"}", NULL, NULL },
	{ "database.lists", "{\"names\":\"local;pg\"}", "names", "separated by one space" },
	{ "site.apply", "{\"domain\":\"example.com\",\"kind\":\"static\",\"revision\":1,\"enabled\":true}", NULL, NULL },
	{ "site.apply", "{\"domain\":\"example.com\",\"kind\":\"php\",\"php\":\"8.2\",\"revision\":3,\"enabled\":true,\"aliases\":\"www.example.com a.example.com\",\"root\":\"public/app\",\"index\":\"index.php index.html\",\"error_404\":\"/errors/404.html\",\"https_redirect\":true}", NULL, NULL },
	{ "site.apply", "{\"domain\":\"example.com\",\"kind\":\"proxy\",\"upstream\":\"http://127.0.0.1:3000/app\",\"revision\":1}", NULL, NULL },
	{ "site.apply", "{\"domain\":\"example.com\",\"kind\":\"proxy\",\"upstream\":\"unix:/run/app/app.sock\",\"revision\":1}", NULL, NULL },
	{ "site.apply", "{\"domain\":\"example.com\",\"kind\":\"proxy\",\"upstream\":\"http://[::1]:8080\",\"revision\":1}", NULL, NULL },
	{ "site.apply", "{\"domain\":\"a.com; rm -rf /\",\"kind\":\"static\",\"revision\":1}", "domain", "host name" },
	{ "site.apply", "{\"domain\":\"exаmple.com\",\"kind\":\"static\",\"revision\":1}", "domain", "host name" },
	{ "site.apply", "{\"domain\":\"EXAMPLE.com\",\"kind\":\"static\",\"revision\":1}", "domain", "lowercase" },
	{ "site.apply", "{\"domain\":\"1.2.3.4\",\"kind\":\"static\",\"revision\":1}", "domain", "not an IP" },
	{ "site.apply", "{\"domain\":\"example.com\",\"kind\":\"cgi\",\"revision\":1}", "kind", "one of" },
	{ "site.apply", "{\"domain\":\"example.com\",\"kind\":\"static\"}", "revision", "is required" },
	{ "site.apply", "{\"domain\":\"example.com\",\"kind\":\"static\",\"revision\":1,\"aliases\":\"$(id).com\"}", "aliases", "domain names" },
	{ "site.apply", "{\"domain\":\"example.com\",\"kind\":\"static\",\"revision\":1,\"aliases\":\"a.com  b.com\"}", "aliases", "single spaces" },
	{ "site.apply", "{\"domain\":\"example.com\",\"kind\":\"static\",\"revision\":1,\"root\":\"../../etc\"}", "root", "relative path" },
	{ "site.apply", "{\"domain\":\"example.com\",\"kind\":\"static\",\"revision\":1,\"root\":\"/etc\"}", "root", "relative path" },
	{ "site.apply", "{\"domain\":\"example.com\",\"kind\":\"static\",\"revision\":1,\"root\":\"a/./b\"}", "root", "relative path" },
	{ "site.apply", "{\"domain\":\"example.com\",\"kind\":\"static\",\"revision\":1,\"index\":\"index.php;\"}", "index", "file names" },
	{ "site.apply", "{\"domain\":\"example.com\",\"kind\":\"static\",\"revision\":1,\"index\":\"../x\"}", "index", "file names" },
	{ "site.apply", "{\"domain\":\"example.com\",\"kind\":\"static\",\"revision\":1,\"php\":\"8;id\"}", "php", "PHP version" },
	{ "site.apply", "{\"domain\":\"example.com\",\"kind\":\"static\",\"revision\":1,\"upstream\":\"http://a.com`id`\"}", "upstream", "http://" },
	{ "site.apply", "{\"domain\":\"example.com\",\"kind\":\"static\",\"revision\":1,\"upstream\":\"http://a.com:0\"}", "upstream", "http://" },
	{ "site.apply", "{\"domain\":\"example.com\",\"kind\":\"static\",\"revision\":1,\"upstream\":\"http://a.com:65536\"}", "upstream", "http://" },
	{ "site.apply", "{\"domain\":\"example.com\",\"kind\":\"static\",\"revision\":1,\"upstream\":\"https://a.com\"}", "upstream", "http://" },
	{ "site.apply", "{\"domain\":\"example.com\",\"kind\":\"static\",\"revision\":1,\"upstream\":\"unix:/a/../etc\"}", "upstream", "http://" },
	{ "site.apply", "{\"domain\":\"example.com\",\"kind\":\"static\",\"revision\":1,\"error_404\":\"404.html\"}", "error_404", "path like" },
	{ "site.apply", "{\"domain\":\"example.com\",\"kind\":\"static\",\"revision\":1,\"error_50x\":\"/a//b\"}", "error_50x", "path like" },
	{ "site.apply", "{\"domain\":\"example.com\",\"kind\":\"static\",\"revision\":1,\"error_50x\":\"/a\\\"; b\"}", "error_50x", "path like" },
	{ "site.apply", "{\"domain\":\"example.com\",\"kind\":\"static\",\"revision\":1,\"name\":\"root\"}", "name", "not an argument" },
	{ "site.remove", "{\"domain\":\"example.com\",\"delete_files\":true}", NULL, NULL },
	{ "site.remove", "{\"domain\":\"../etc\"}", "domain", "host name" },
	{ "site.remove", "{\"domain\":\"example.com\",\"delete_files\":\"yes\"}", "delete_files", "true or false" },
	{ "php.versions", "{}", NULL, NULL },
	/* files.*: path is the kernel's to judge (no string check), the rest strict. */
	{ "files.open", "{\"domain\":\"example.com\",\"path\":\"../../etc/passwd\"}", NULL, NULL },
	{ "files.open", "{\"domain\":\"example.com\",\"path\":\"a\\u0000b\"}", "path", "NUL" },
	{ "files.open", "{\"domain\":\"example.com\",\"path\":\"a\\nb\"}", "path", "single line" },
	{ "files.open", "{\"domain\":\"../etc\",\"path\":\"a\"}", "domain", "host name" },
	{ "files.list", "{\"domain\":\"example.com\",\"root\":\"../..\"}", "root", "relative path" },
	{ "files.list", "{\"domain\":\"example.com\",\"sort\":\"size\",\"desc\":true,\"limit\":10}", NULL, NULL },
	{ "files.list", "{\"domain\":\"example.com\",\"limit\":100000}", "limit", "" },
	{ "files.chmod", "{\"domain\":\"example.com\",\"path\":\"a\",\"mode\":2541}", "mode", "" },
	{ "files.chmod", "{\"domain\":\"example.com\",\"path\":\"a\",\"mode\":420}", NULL, NULL },
	{ "files.commit", "{\"domain\":\"example.com\",\"path\":\"a\",\"temp\":\"../x\"}", "temp", "temporary name" },
	{ "files.commit", "{\"domain\":\"example.com\",\"path\":\"a\",\"temp\":\".aapanel-up-AbCdEf012345\"}", NULL, NULL },
	{ "files.restore", "{\"domain\":\"example.com\",\"id\":\"../../etc\"}", "id", "trash id" },
	{ "files.begin", "{\"domain\":\"example.com\",\"path\":\"a\",\"kind\":\"cgi\"}", "kind", "" },
	{ "files.begin", "{\"domain\":\"example.com\",\"path\":\"a\",\"user\":\"root\"}", "user", "not an argument" },
	/* files.chown_tree (a job): the owner a choice, the site or root a name, the path the kernel's */
	{ "files.chown_tree", "{\"domain\":\"example.com\",\"path\":\"a/b\",\"owner\":\"site-web\"}", NULL, NULL },
	{ "files.chown_tree", "{\"rootname\":\"www\",\"path\":\"a\",\"owner\":\"site\"}", NULL, NULL },
	{ "files.chown_tree", "{\"domain\":\"example.com\",\"path\":\"a\",\"owner\":\"root\"}", "owner", "one of" },
	{ "files.chown_tree", "{\"domain\":\"example.com\",\"path\":\"a\",\"owner\":\"site; chown -R root /\"}", "owner", "one of" },
	{ "files.chown_tree", "{\"domain\":\"example.com\",\"path\":\"a\\nb\",\"owner\":\"site\"}", "path", "single line" },
	{ "files.chown_tree", "{\"domain\":\"example.com\",\"path\":\"a\\u0000/etc\",\"owner\":\"site\"}", "path", "NUL" },
	{ "files.chown_tree", "{\"domain\":\"example.com;id\",\"path\":\"a\",\"owner\":\"site\"}", "domain", "host name" },
	{ "files.chown_tree", "{\"domain\":\"ex\\u0430mple.com\",\"path\":\"a\",\"owner\":\"site\"}", "domain", "host name" },
	{ "files.chown_tree", "{\"rootname\":\"../etc\",\"path\":\"a\",\"owner\":\"site\"}", "rootname", "a root's name" },
	{ "files.chown_tree", "{\"rootname\":\"$(id)\",\"path\":\"a\",\"owner\":\"site\"}", "rootname", "a root's name" },
	{ "files.chown_tree", "{\"rootname\":\"w\\u0445w\",\"path\":\"a\",\"owner\":\"site\"}", "rootname", "a root's name" },
	{ "files.chown_tree", "{\"rootname\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"path\":\"a\",\"owner\":\"site\"}", "rootname", "at most 32" },
	/* logs.journal: which system a choice; the search is matched as text (never a pattern or a shell) */
	{ "logs.journal", "{\"which\":\"panel\",\"lines\":100,\"search\":\"$(id); rm -rf / `x` | y\",\"level\":\"warn\"}", NULL, NULL },
	{ "logs.journal", "{\"which\":\"helper\"}", NULL, NULL },
	{ "logs.journal", "{\"which\":\"panel; journalctl -f\"}", "which", "one of" },
	{ "logs.journal", "{\"which\":\"../helper\"}", "which", "one of" },
	{ "logs.journal", "{\"which\":\"p\\u0430nel\"}", "which", "one of" },
	{ "logs.journal", "{\"which\":\"sshd\"}", "which", "one of" },
	{ "logs.journal", "{}", "which", "is required" },
	{ "logs.journal", "{\"which\":\"panel\",\"level\":\"warn\\nx\"}", "level", "" },
	{ "logs.journal", "{\"which\":\"panel\",\"search\":\"a\\nb\"}", "search", "single line" },
	{ "logs.journal", "{\"which\":\"panel\",\"search\":\"a\\u0000b\"}", "search", "NUL" },
	{ "logs.journal", "{\"which\":\"panel\",\"before\":\"s=1;i=2\\n_SYSTEMD_UNIT=sshd.service\"}", "before", "single line" },
	{ "logs.journal", "{\"which\":\"panel\",\"lines\":0}", "lines", "between 1 and" },
	{ "logs.journal", "{\"which\":\"panel\",\"lines\":\"10; id\"}", "lines", "JSON integer" },
	/* logs.journal's after (the follow view's poll): a cursor's characters only, never a match */
	{ "logs.journal", "{\"which\":\"panel\",\"after\":\"s=0123abcd;i=1f;b=89ef;m=2a;t=5e1;x=77\",\"level\":\"warn\",\"search\":\"x\"}", NULL, NULL },
	{ "logs.journal", "{\"which\":\"helper\",\"head\":true,\"lines\":500}", NULL, NULL },
	{ "logs.journal", "{\"which\":\"panel\",\"after\":\"s=1;i=2; rm -rf /\"}", "after", "not a cursor" },
	{ "logs.journal", "{\"which\":\"panel\",\"after\":\"$(id)\"}", "after", "not a cursor" },
	{ "logs.journal", "{\"which\":\"panel\",\"after\":\"`id`|x\"}", "after", "not a cursor" },
	{ "logs.journal", "{\"which\":\"panel\",\"after\":\"../../var/log/journal\"}", "after", "not a cursor" },
	{ "logs.journal", "{\"which\":\"panel\",\"after\":\"s=1;i=2+_SYSTEMD_UNIT=sshd.service\"}", "after", "not a cursor" },
	{ "logs.journal", "{\"which\":\"panel\",\"after\":\"s=1;i=2\\n_SYSTEMD_UNIT=sshd.service\"}", "after", "single line" },
	{ "logs.journal", "{\"which\":\"panel\",\"after\":\"s=1\\u0000;i=2\"}", "after", "NUL" },
	{ "logs.journal", "{\"which\":\"panel\",\"after\":\"s=1;\\u0456=2\"}", "after", "not a cursor" },
	{ "logs.journal", "{\"which\":\"panel\",\"after\":\"S=1;I=2\"}", "after", "not a cursor" },
	{ "logs.journal", "{\"which\":\"panel\",\"after\":\"\"}", NULL, NULL }, /* blank: absent, as before */
	{ "logs.journal", "{\"which\":\"panel\",\"after\":\"s=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}", "after", "" },
	{ "logs.journal", "{\"which\":\"panel\",\"after\":42}", "after", "" },
	{ "logs.journal", "{\"which\":\"panel\",\"head\":\"yes; id\"}", "head", "true or false" },
	{ "logs.journal", "{\"which\":\"panel\",\"before\":\"s=1;i=2;$(id)\"}", "before", "not a cursor" },
	/* backup.panel_run (a job): a destination's name, the rest numbers and a flag */
	{ "backup.panel_run", "{\"dest\":\"loc\",\"secret\":false,\"keep_last\":3}", NULL, NULL },
	{ "backup.panel_run", "{\"dest\":\"loc; rm -rf /\"}", "dest", "may only contain" },
	{ "backup.panel_run", "{\"dest\":\"$(id)\"}", "dest", "must start with a lowercase letter" },
	{ "backup.panel_run", "{\"dest\":\"../loc\"}", "dest", "must start with a lowercase letter" },
	{ "backup.panel_run", "{\"dest\":\"l\\u043ec\"}", "dest", "may only contain" },
	{ "backup.panel_run", "{\"dest\":\"loc\\nx\"}", "dest", "single line" },
	{ "backup.panel_run", "{\"dest\":\"loc\\u0000x\"}", "dest", "NUL" },
	{ "backup.panel_run", "{\"dest\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}", "dest", "" },
	{ "backup.panel_run", "{\"dest\":\"loc\",\"secret\":\"yes\"}", "secret", "true or false" },
	{ "backup.panel_run", "{\"dest\":\"loc\",\"keep_last\":-1}", "keep_last", "between 0 and" },
	{ "backup.panel_run", "{}", "dest", "is required" },
	/* backup.panel_restore (a job): into a new folder's name, never a path */
	{ "backup.panel_restore", "{\"dest\":\"loc\",\"snapshot\":\"latest\",\"new_dir\":\"restore-1.2_a\"}", NULL, NULL },
	{ "backup.panel_restore", "{\"dest\":\"loc\",\"snapshot\":\"0123abcd\",\"new_dir\":\"r\"}", NULL, NULL },
	{ "backup.panel_restore", "{\"dest\":\"loc\",\"snapshot\":\"latest\",\"new_dir\":\"../../etc\"}", "new_dir", "may not start with a dot" },
	{ "backup.panel_restore", "{\"dest\":\"loc\",\"snapshot\":\"latest\",\"new_dir\":\"a/../../etc\"}", "new_dir", "may only contain" },
	{ "backup.panel_restore", "{\"dest\":\"loc\",\"snapshot\":\"latest\",\"new_dir\":\"/etc\"}", "new_dir", "may only contain" },
	{ "backup.panel_restore", "{\"dest\":\"loc\",\"snapshot\":\"latest\",\"new_dir\":\"r;id\"}", "new_dir", "may only contain" },
	{ "backup.panel_restore", "{\"dest\":\"loc\",\"snapshot\":\"latest\",\"new_dir\":\"$(id)\"}", "new_dir", "may only contain" },
	{ "backup.panel_restore", "{\"dest\":\"loc\",\"snapshot\":\"latest\",\"new_dir\":\"r\\u0435store\"}", "new_dir", "may only contain" },
	{ "backup.panel_restore", "{\"dest\":\"loc\",\"snapshot\":\"latest\",\"new_dir\":\"r\\nx\"}", "new_dir", "single line" },
	{ "backup.panel_restore", "{\"dest\":\"loc\",\"snapshot\":\"latest; id\",\"new_dir\":\"r\"}", "snapshot", "snapshot id" },
	{ "backup.panel_restore", "{\"dest\":\"loc\",\"snapshot\":\"--password-command=id\",\"new_dir\":\"r\"}", "snapshot", "snapshot id" },
	{ "backup.panel_restore", "{\"dest\":\"loc\",\"snapshot\":\"0123ABCD\",\"new_dir\":\"r\"}", "snapshot", "snapshot id" },
	{ "backup.panel_restore", "{\"dest\":\"loc\",\"snapshot\":\"latest\"}", "new_dir", "is required" },
	{ "backup.panel_restore", "{\"dest\":\"`id`\",\"snapshot\":\"latest\",\"new_dir\":\"r\"}", "dest", "" },
	/* backup.spool_take: a spooled file's id, 16 hexadecimal digits, nothing that can name a path */
	{ "backup.spool_take", "{\"id\":\"0123456789abcdef\"}", NULL, NULL },
	{ "backup.spool_take", "{\"id\":\"../../../etc/pas\"}", "id", "16 hexadecimal digits" },
	{ "backup.spool_take", "{\"id\":\"0123456789ABCDEF\"}", "id", "16 hexadecimal digits" },
	{ "backup.spool_take", "{\"id\":\"0123456789abcde;\"}", "id", "16 hexadecimal digits" },
	{ "backup.spool_take", "{\"id\":\"0123456789abcde\"}", "id", "" },
	{ "backup.spool_take", "{\"id\":\"0123456789abcdef0\"}", "id", "" },
	{ "backup.spool_take", "{\"id\":\"0123456789abcde\\n\"}", "id", "single line" },
	{ "backup.spool_take", "{\"id\":\"0123456789abcd\\u0000f\"}", "id", "NUL" },
	{ "backup.spool_take", "{\"id\":\"0123456789abcd\\u0435\"}", "id", "" },
	{ "backup.spool_take", "{}", "id", "is required" },
	/* services: unit names (unitname.h) before any job; the whitelist is the handler's */
	{ "service.list", "{}", NULL, NULL },
	{ "service.list", "{\"all\":true}", "all", "not an argument" },
	{ "service.status", "{\"name\":\"nginx.service\"}", NULL, NULL },
	{ "service.status", "{\"name\":\"php8.2-fpm\"}", NULL, NULL },
	{ "service.status", "{}", "name", "is required" },
	{ "service.status", "{\"name\":\"nginx; rm\"}", "name", "systemd unit name" },
	{ "service.status", "{\"name\":\"../x\"}", "name", "letter or a digit" },
	{ "service.control", "{\"name\":\"nginx.service\",\"action\":\"restart\"}", NULL, NULL },
	{ "service.control", "{\"name\":\"ssh.service\",\"action\":\"stop\",\"confirm\":\"ssh.service\"}", NULL, NULL },
	{ "service.control", "{\"name\":\"$(id)\",\"action\":\"stop\"}", "name", "letter or a digit" },
	{ "service.control", "{\"name\":\"nginx`id`\",\"action\":\"stop\"}", "name", "systemd unit name" },
	{ "service.control", "{\"name\":\"nginx.service\\u0000x\",\"action\":\"stop\"}", "name", "NUL" },
	{ "service.control", "{\"name\":\"ngіnx.service\",\"action\":\"stop\"}", "name", "systemd unit name" },
	{ "service.control", "{\"name\":\"a\\nb\",\"action\":\"stop\"}", "name", "single line" },
	{ "service.control", "{\"name\":\"nginx.service\",\"action\":\"kill\"}", "action", "one of: start, stop" },
	{ "service.control", "{\"name\":\"nginx.service\"}", "action", "is required" },
	{ "service.control", "{\"name\":\"ssh.service\",\"action\":\"stop\",\"confirm\":\"a;b\"}", "confirm", "systemd unit name" },
	/* The firewall: the document is checked by the handler (check_fwrules); the envelope here. */
	{ "firewall.apply", "{\"ruleset\":\"{}\",\"operator\":\"192.0.2.9\",\"panel_port\":443}", NULL, NULL },
	{ "firewall.apply", "{\"ruleset\":\"{}\",\"operator\":\"2001:db8::1\",\"override\":true}", NULL, NULL },
	{ "firewall.apply", "{}", "ruleset", "is required" },
	{ "firewall.apply", "{\"ruleset\":{}}", "ruleset", "must be a JSON string" },
	{ "firewall.apply", "{\"ruleset\":\"{}\",\"operator\":\"me; reboot\"}", "operator", "address" },
	{ "firewall.apply", "{\"ruleset\":\"{}\",\"operator\":\"192.0.2.0/24\"}", "operator", "address" },
	{ "firewall.apply", "{\"ruleset\":\"{}\",\"confirm_seconds\":1}", "confirm_seconds", "" },
	{ "firewall.apply", "{\"ruleset\":\"{}\",\"panel_port\":70000}", "panel_port", "" },
	{ "firewall.apply", "{\"ruleset\":\"{}\",\"flush\":true}", "flush", "not an argument" },
	{ "firewall.confirm", "{\"serial\":1}", NULL, NULL },
	{ "firewall.confirm", "{\"serial\":\"1\"}", "serial", "integer" },
	{ "firewall.show", "{}", NULL, NULL },
	{ "firewall.show", "{\"table\":\"ip filter\"}", "table", "not an argument" },
};

START_TEST(test_argument_rows)
{
	const struct helper_op *op = ap_ops_find(arg_rows[_i].op, AP_PROFILE_TEST);
	struct json_object *args = json_tokener_parse(arg_rows[_i].args);
	struct ap_problem pb = { 0 };
	struct ap_fieldval *vals = NULL;
	enum ap_err rc;

	ck_assert_ptr_nonnull(op);
	ck_assert_ptr_nonnull(args);
	rc = ap_proto_validate_args(op->args, args, A, 4096, &vals, &pb);
	if (arg_rows[_i].field == NULL) {
		ck_assert_msg(rc == AP_OK, "row %d %s %s: %s: %s", _i, arg_rows[_i].op,
		    arg_rows[_i].args, pb.field, pb.reason);
		ck_assert_ptr_nonnull(vals);
	} else {
		ck_assert_msg(rc == AP_ERR_INVAL, "row %d %s %s: accepted", _i, arg_rows[_i].op,
		    arg_rows[_i].args);
		ck_assert_int_eq(pb.code, AP_PB_INVALID);
		ck_assert_str_eq(pb.field, arg_rows[_i].field);
		ck_assert_msg(strstr(pb.reason, arg_rows[_i].reason) != NULL,
		    "row %d: reason '%s' lacks '%s'", _i, pb.reason, arg_rows[_i].reason);
	}
	json_object_put(args);
}
END_TEST

/* ---- the strict validators, directly -------------------------------- */

static const struct {
	const char *(*fn)(const char *, size_t);
	const char *val;
	bool ok;
} strict[] = {
	{ ap_valid_domain, "example.com", true },
	{ ap_valid_domain, "a.b.c.example.co.uk", true },
	{ ap_valid_domain, "1.example.com", true },
	{ ap_valid_domain, "example.c0m", true },
	{ ap_valid_domain, "example.123", false },
	{ ap_valid_domain, "example", false },
	{ ap_valid_domain, ".example.com", false },
	{ ap_valid_domain, "example.com.", false },
	{ ap_valid_domain, "EXAMPLE.COM", false },
	{ ap_valid_domain, "exa_mple.com", false },
	{ ap_valid_identifier, "a", true },
	{ ap_valid_identifier, "site_01", true },
	{ ap_valid_identifier, "abcdefghijklmnopqrstuvwxyz012345", true },
	{ ap_valid_identifier, "abcdefghijklmnopqrstuvwxyz0123456", false },
	{ ap_valid_identifier, "", false },
	{ ap_valid_identifier, "1a", false },
	{ ap_valid_identifier, "_a", false },
	{ ap_valid_identifier, "a-b", false },
	{ ap_valid_identifier, "aB", false },
	{ ap_valid_label, "Hello world", true },
	{ ap_valid_label, "a.b_c,d:e@f+g=h-i", true },
	{ ap_valid_label, "", false },
	{ ap_valid_label, "a/b", false },
	{ ap_valid_label, "a\\b", false },
	{ ap_valid_label, "a'b", false },
	{ ap_valid_label, "a\"b", false },
	{ ap_valid_label, "a;b", false },
	{ ap_valid_label, "a$b", false },
	{ ap_valid_label, "-a", false },
	{ ap_valid_label, "a ", false },
};

START_TEST(test_strict_rows)
{
	const char *why = strict[_i].fn(strict[_i].val, strlen(strict[_i].val));

	ck_assert_msg((why == NULL) == strict[_i].ok, "row %d '%s': %s", _i, strict[_i].val,
	    why ? why : "accepted");
}
END_TEST

START_TEST(test_strict_rejects_embedded_nul)
{
	/* The checks take a length: a NUL inside the value is one more bad byte. */
	ck_assert_ptr_nonnull(ap_valid_label("ab\0c", 4));
	ck_assert_ptr_nonnull(ap_valid_identifier("ab\0c", 4));
	ck_assert_ptr_nonnull(ap_valid_domain("a.com\0x", 7));
}
END_TEST

/* ---- the table ------------------------------------------------------- */

START_TEST(test_ops_table_is_well_formed)
{
	char err[128] = "";
	size_t n;
	const struct helper_op *t = ap_ops_table(&n);

	ck_assert_msg(ap_ops_check(err, sizeof(err)) == AP_OK, "%s", err);
	ck_assert_uint_ge(n, 3);
	for (size_t i = 0; i < n; i++)
		ck_assert_ptr_eq(ap_ops_find(t[i].name, AP_PROFILE_TEST), &t[i]);
}
END_TEST

/*
 * Every argument of every operation, one at a time, against the hostile
 * set: a NUL inside and an over-long value are refused by every string
 * argument; a newline by every single-line one; shell metacharacters,
 * "../", a newline and a Cyrillic look-alike by every argument that is not
 * free text (names, host names, choices, numbers, booleans). Each refusal
 * names the argument. The rows above add what each operation's own checks
 * refuse beyond this; an operation added to the table is swept with no row.
 */
static const char *const hostile_strict[] = {
	"a; rm -rf /", "$(id)", "`id`", "../etc", "a\nb", "ex\xd0\xb0mple.com", "a|b", NULL,
};

static void
sweep_one(const struct helper_op *op, const struct ap_field *f, struct json_object *v)
{
	struct ap_field one[2] = { *f, AP_FIELD_END };
	struct json_object *args = json_object_new_object();
	struct ap_problem pb = { 0 };
	struct ap_fieldval *vals = NULL;
	const char *shown = json_object_to_json_string(v);
	enum ap_err rc;

	one[0].flags &= ~AP_FIELD_REQUIRED;
	json_object_object_add(args, f->name, v);
	rc = ap_proto_validate_args(one, args, A, 4096, &vals, &pb);
	ck_assert_msg(rc == AP_ERR_INVAL, "%s.%s accepted %.80s", op->name, f->name, shown);
	ck_assert_msg(pb.field != NULL && strcmp(pb.field, f->name) == 0, "%s.%s: refusal names %s", op->name,
	    f->name, pb.field ? pb.field : "nothing");
	json_object_put(args);
}

START_TEST(test_every_argument_refuses_the_hostile_set)
{
	size_t n, swept = 0;
	const struct helper_op *t = ap_ops_table(&n);

	for (size_t i = 0; i < n; i++) {
		for (const struct ap_field *f = t[i].args; f->name != NULL; f++) {
			bool text = f->type == AP_FIELD_TEXT;

			sweep_one(&t[i], f, json_object_new_string_len("ab\0cd", 5));
			if (f->type == AP_FIELD_TEXT || f->type == AP_FIELD_NAME || f->type == AP_FIELD_HOSTNAME ||
			    f->type == AP_FIELD_EMAIL || f->type == AP_FIELD_ENUM) {
				/* one more than its own bound, or than the 4096 the protocol allows a field */
				size_t len = f->max > 0 && f->type != AP_FIELD_ENUM ? (size_t)f->max + 1 : 5000;
				char *longv = malloc(len + 1);

				ck_assert_ptr_nonnull(longv);
				memset(longv, 'a', len);
				longv[len] = '\0';
				sweep_one(&t[i], f, json_object_new_string(longv));
				free(longv);
			}
			if (text && (f->flags & AP_FIELD_SINGLELINE))
				sweep_one(&t[i], f, json_object_new_string("a\nb"));
			if (!text)
				for (size_t k = 0; hostile_strict[k] != NULL; k++)
					sweep_one(&t[i], f, json_object_new_string(hostile_strict[k]));
			swept++;
		}
	}
	ck_assert_uint_ge(swept, 50);
}
END_TEST

START_TEST(test_test_ops_only_in_the_test_profile)
{
	ck_assert_ptr_nonnull(ap_ops_find("helper.ping", AP_PROFILE_PRODUCTION));
	ck_assert_ptr_nonnull(ap_ops_find("job.status", AP_PROFILE_DEVELOPMENT));
	ck_assert_ptr_null(ap_ops_find("test.echo", AP_PROFILE_PRODUCTION));
	ck_assert_ptr_null(ap_ops_find("test.sleep", AP_PROFILE_DEVELOPMENT));
	ck_assert_ptr_nonnull(ap_ops_find("test.sleep", AP_PROFILE_TEST));
	cfg.profile = AP_PROFILE_PRODUCTION;
	struct json_object *o = handle("{\"id\":1,\"op\":\"test.echo\",\"args\":{\"text\":\"x\"}}",
	    NULL);
	ck_assert_str_eq(get_s(o, "error", "code"), "unsupported");
	json_object_put(o);
}
END_TEST

START_TEST(test_codes_round_trip)
{
	/* The protocol's codes are the project's problem codes (problem.h). */
	for (int c = AP_PB_INVALID; c < AP_PB__MAX; c++) {
		enum ap_pb_code back;

		ck_assert(ap_pb_parse(ap_pb_name((enum ap_pb_code)c), &back));
		ck_assert_int_eq(back, c);
	}
	enum ap_pb_code x;

	ck_assert(!ap_pb_parse("none", &x));
	ck_assert(!ap_pb_parse("Invalid", &x));
	ck_assert(!ap_pb_parse(NULL, &x));
	ck_assert_str_eq(ap_pb_name(AP_PB_FAILED), "failed");
	ck_assert_str_eq(ap_pb_name(AP_PB_BUSY), "busy");
}
END_TEST

/* ---- echo runs a program; a job lives and ends ----------------------- */

START_TEST(test_echo_runs_printf_with_the_text)
{
	struct json_object *o = handle(
	    "{\"id\":1,\"op\":\"test.echo\",\"args\":{\"text\":\"a b\",\"count\":2}}", NULL), *v;

	ck_assert_str_eq(get_s(o, "result", "stdout"), "a b\n");
	ck_assert(json_object_object_get_ex(json_object_object_get(o, "result"), "count", &v));
	ck_assert_int_eq(json_object_get_int(v), 2);
	json_object_put(o);
}
END_TEST

/* job.status of id through the protocol. */
static struct json_object *
status_of(int64_t id)
{
	char line[128];

	snprintf(line, sizeof(line), "{\"id\":2,\"op\":\"job.status\",\"args\":{\"id\":%lld}}",
	    (long long)id);
	return handle(line, NULL);
}

START_TEST(test_job_lifecycle)
{
	struct json_object *o, *r, *v;
	int64_t id;
	bool saw_running = false;
	char state[16] = "";

	ck_assert_int_ge(ap_jobs_init(&cfg, -1), 0);
	o = handle("{\"id\":1,\"op\":\"test.sleep\",\"args\":{\"seconds\":1}}", NULL);
	ck_assert(json_object_object_get_ex(json_object_object_get(o, "result"), "job", &v));
	id = json_object_get_int64(v);
	json_object_put(o);
	for (int i = 0; i < 400; i++) {
		ap_jobs_events();
		ap_jobs_reap();
		o = status_of(id);
		r = json_object_object_get(o, "result");
		snprintf(state, sizeof(state), "%s",
		    json_object_get_string(json_object_object_get(r, "state")));
		if (strcmp(state, "running") == 0 &&
		    json_object_get_int(json_object_object_get(r, "progress")) > 0)
			saw_running = true;
		if (strcmp(state, "done") == 0) {
			ck_assert_int_eq(json_object_get_int(json_object_object_get(r, "progress")),
			    100);
			ck_assert_int_eq(json_object_get_int(json_object_object_get(r, "exit_code")),
			    0);
			ck_assert_ptr_nonnull(strstr(
			    json_object_get_string(json_object_object_get(r, "output")), "step 10/10"));
			json_object_put(o);
			break;
		}
		json_object_put(o);
		usleep(10000);
	}
	ck_assert_str_eq(state, "done");
	ck_assert(saw_running);
	ck_assert_uint_eq(ap_jobs_active(), 0);
}
END_TEST

static Suite *
proto_suite(void)
{
	Suite *s = suite_create("helper_proto");
	TCase *tc = tcase_create("proto");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_loop_test(tc, test_envelope_rows, 0, (int)AP_NELEM(envelope));
	tcase_add_loop_test(tc, test_argument_rows, 0, (int)AP_NELEM(arg_rows));
	tcase_add_loop_test(tc, test_strict_rows, 0, (int)AP_NELEM(strict));
	tcase_add_test(tc, test_strict_rejects_embedded_nul);
	tcase_add_test(tc, test_ops_table_is_well_formed);
	tcase_add_test(tc, test_every_argument_refuses_the_hostile_set);
	tcase_add_test(tc, test_test_ops_only_in_the_test_profile);
	tcase_add_test(tc, test_codes_round_trip);
	tcase_add_test(tc, test_echo_runs_printf_with_the_text);
	tcase_add_test(tc, test_job_lifecycle);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(proto_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
