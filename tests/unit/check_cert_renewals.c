/*
 * check_cert_renewals.c — the helper's cert.lineages (ops_renewals.c)
 * through the protocol, against a certbot directory made in the test: the
 * lineages with their live certificate's facts (a name that is not a host
 * name skipped), and certbot's "Failed to renew certificate NAME with
 * error: REASON" lines in its log, as certbot 2.1 writes them (the CA's
 * problems of the lineage added, the newest failure of each lineage kept,
 * since honoured, a rotated log read, nothing from another lineage's
 * problems), table-driven.
 */
#include <sys/stat.h>

#include <check.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aapanel/log.h"
#include "ops.h"
#include "proto.h"

static struct ap_config cfg;
static struct ap_arena *A;
static char dir[64];
static char serial_hex[80];

static void
put_file(const char *rel, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* A self-signed certificate for name with the given serial, as live/NAME/fullchain.pem. */
static void
put_lineage(const char *name, long serial)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	X509_NAME *n = X509_get_subject_name(x);
	char path[512];
	FILE *f;

	ck_assert_ptr_nonnull(k);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 90);
	X509_set_pubkey(x, k);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)name, -1, -1, 0);
	X509_set_issuer_name(x, n);
	ck_assert_int_gt(X509_sign(x, k, EVP_sha256()), 0);
	snprintf(path, sizeof(path), "%s/live/%s", dir, name);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/live/%s/fullchain.pem", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	PEM_write_X509(f, x);
	fclose(f);
	snprintf(path, sizeof(path), "renewal/%s.conf", name);
	put_file(path, "version = 2.1.0\n[renewalparams]\nauthenticator = webroot\n");
	X509_free(x);
	EVP_PKEY_free(k);
}

static void
setup(void)
{
	char p[128];

	memset(&cfg, 0, sizeof(cfg));
	cfg.profile = AP_PROFILE_TEST;
	cfg.helper_max_message = 8192;
	cfg.helper_max_jobs = 2;
	cfg.helper_job_timeout = 60;
	cfg.log_level = "warn";
	ap_log_init("test", AP_LOG_WARN, STDERR_FILENO);
	A = ap_arena_new();
	snprintf(dir, sizeof(dir), "/tmp/check-renewals.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	cfg.certs_certbot_dir = dir;
	snprintf(p, sizeof(p), "%s/renewal", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/live", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/logs", dir);
	mkdir(p, 0700);
	snprintf(serial_hex, sizeof(serial_hex), "%X", 0x1234ABu);
}

static void
teardown(void)
{
	ap_arena_free(A);
	A = NULL;
	/* The test's own directory only (made by mkdtemp above), file by file. */
	if (strncmp(dir, "/tmp/check-renewals.", 20) == 0) {
		const char *rm[] = { "renewal/a.test.conf", "renewal/b.test.conf", "renewal/not a name.conf",
			"live/a.test/fullchain.pem", "live/b.test/fullchain.pem", "logs/letsencrypt.log",
			"logs/letsencrypt.log.1", "live/a.test", "live/b.test", "renewal", "live", "logs", NULL };
		char p[512];

		for (int i = 0; rm[i] != NULL; i++) {
			snprintf(p, sizeof(p), "%s/%s", dir, rm[i]);
			if (unlink(p) != 0)
				rmdir(p);
		}
		rmdir(dir);
	}
}

static struct json_object *
lineages(long long since)
{
	struct ap_proto_env env = { .cfg = &cfg, .sandbox_fd = -1, .peer_uid = getuid(), .arena = A };
	struct ap_buf out = { 0 };
	struct json_object *o, *r;
	char line[128];

	snprintf(line, sizeof(line), "{\"id\":1,\"op\":\"cert.lineages\",\"args\":{\"since\":%lld}}", since);
	ap_proto_handle(&env, line, strlen(line), &out);
	o = json_tokener_parse(out.data);
	ck_assert_msg(o != NULL, "not JSON: %s", out.data);
	ck_assert_msg(json_object_object_get_ex(o, "result", &r), "no result: %s", out.data);
	json_object_get(r);
	json_object_put(o);
	ap_buf_free(&out);
	ap_arena_reset(A);
	return r;
}

/* The failure of name in r, or NULL. */
static struct json_object *
failure_of(struct json_object *r, const char *name)
{
	struct json_object *fails, *v;

	ck_assert(json_object_object_get_ex(r, "failures", &fails));
	for (size_t i = 0; i < json_object_array_length(fails); i++) {
		struct json_object *f = json_object_array_get_idx(fails, i);

		if (json_object_object_get_ex(f, "name", &v) && strcmp(json_object_get_string(v), name) == 0)
			return f;
	}
	return NULL;
}

static const char *
str(struct json_object *o, const char *k)
{
	struct json_object *v;

	return o != NULL && json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : NULL;
}

static long long
num(struct json_object *o, const char *k)
{
	struct json_object *v;

	return o != NULL && json_object_object_get_ex(o, k, &v) ? (long long)json_object_get_int64(v) : -1;
}

/* A line stamped as certbot's logging writes it, t seconds after the epoch (local time). */
static const char *
stamp(time_t t)
{
	static char b[4][40];
	static int i;
	struct tm tm;

	i = (i + 1) % 4;
	localtime_r(&t, &tm);
	strftime(b[i], sizeof(b[i]), "%Y-%m-%d %H:%M:%S,123", &tm);
	return b[i];
}

START_TEST(test_lineages_with_their_live_certificate)
{
	struct json_object *r, *arr, *l;

	put_lineage("a.test", 0x1234AB);
	put_file("renewal/not a name.conf", "x\n");
	r = lineages(0);
	ck_assert(json_object_object_get_ex(r, "lineages", &arr));
	ck_assert_uint_eq(json_object_array_length(arr), 1); /* "not a name" skipped */
	l = json_object_array_get_idx(arr, 0);
	ck_assert_str_eq(str(l, "name"), "a.test");
	ck_assert_str_eq(str(l, "serial"), serial_hex);
	ck_assert_str_eq(str(l, "issuer"), "a.test");
	ck_assert_int_gt(num(l, "not_after"), (long long)time(NULL) + 86400LL * 89);
	ck_assert_int_ge(num(l, "renewed_at"), (long long)time(NULL) - 60);
	ck_assert_ptr_null(strstr(json_object_to_json_string(r), "PRIVATE"));
	json_object_put(r);
}
END_TEST

/* Rows: a log's text (@N = the stamp N seconds ago), since (seconds ago, -1 = 0), the lineage, what its reason must hold (NULL: no failure). */
static const struct {
	const char *log;
	long since_ago;
	const char *name, *reason, *not_in;
} rows[] = {
	/* certbot 2.1's own lines: the CA's problem of the lineage joins the error */
	{ "@100:DEBUG:certbot._internal.display.obj:Notifying user: Processing /x/renewal/a.test.conf\n"
	  "@99:DEBUG:certbot._internal.display.obj:Notifying user: \n"
	  "Certbot failed to authenticate some domains (authenticator: webroot). The Certificate Authority reported these problems:\n"
	  "  Domain: a.test\n  Type:   connection\n  Detail: 127.0.0.2: Connection refused\n\n"
	  "@98:ERROR:certbot._internal.renewal:Failed to renew certificate a.test with error: Some challenges have failed.\n"
	  "@98:DEBUG:certbot._internal.renewal:Traceback was:\nTraceback (most recent call last):\n  File \"x\", line 1\n"
	  "Domain: not-a-problem.test\n",
	  -1, "a.test", "Some challenges have failed. Domain: a.test, Type: connection, Detail: 127.0.0.2: Connection refused",
	  "not-a-problem" },
	/* a reason over several lines */
	{ "@50:ERROR:certbot._internal.renewal:Failed to renew certificate a.test with error: first line\nsecond line\n",
	  -1, "a.test", "first line second line", NULL },
	/* the problems of the lineage before are not this one's */
	{ "@60:DEBUG:x:Notifying user: Processing /x/renewal/b.test.conf\n  Domain: b.test\n  Type:   dns\n  Detail: no\n"
	  "@59:DEBUG:x:Notifying user: Processing /x/renewal/a.test.conf\n"
	  "@58:ERROR:certbot._internal.renewal:Failed to renew certificate a.test with error: HTTPSConnectionPool timed out\n",
	  -1, "a.test", "HTTPSConnectionPool timed out", "b.test" },
	/* the newest failure of the lineage wins */
	{ "@300:ERROR:certbot._internal.renewal:Failed to renew certificate a.test with error: old reason\n"
	  "@30:ERROR:certbot._internal.renewal:Failed to renew certificate a.test with error: new reason\n",
	  -1, "a.test", "new reason", "old" },
	/* before since: not read */
	{ "@300:ERROR:certbot._internal.renewal:Failed to renew certificate a.test with error: long ago\n",
	  100, "a.test", NULL, NULL },
	/* another message, or a broken line: no failure */
	{ "@10:ERROR:certbot._internal.renewal:Renewal configuration file x produced an unexpected error\n"
	  "@10:ERROR:x:Failed to renew certificate with error: \n"
	  "garbage Failed to renew certificate a.test with error: not stamped\n",
	  -1, "a.test", NULL, NULL },
};

static void
put_log(const char *rel, const char *tmpl)
{
	char out[8192];
	size_t n = 0;
	time_t now = time(NULL);

	for (const char *p = tmpl; *p && n < sizeof(out) - 64;) {
		if (*p == '@' && (p == tmpl || p[-1] == '\n')) {
			char *end;
			long ago = strtol(p + 1, &end, 10);

			n += (size_t)snprintf(out + n, sizeof(out) - n, "%s", stamp(now - ago));
			p = end;
		} else {
			out[n++] = *p++;
		}
	}
	out[n] = '\0';
	put_file(rel, out);
}

START_TEST(test_failure_rows)
{
	struct json_object *r, *f;
	time_t now = time(NULL);

	put_lineage("a.test", 0x1234AB);
	put_log("logs/letsencrypt.log", rows[_i].log);
	r = lineages(rows[_i].since_ago < 0 ? 0 : (long long)(now - rows[_i].since_ago));
	f = failure_of(r, rows[_i].name);
	if (rows[_i].reason == NULL) {
		ck_assert_msg(f == NULL, "row %d: a failure found: %s", _i, json_object_to_json_string(f));
	} else {
		ck_assert_msg(f != NULL, "row %d: no failure in %s", _i, json_object_to_json_string(r));
		ck_assert_msg(strcmp(str(f, "reason"), rows[_i].reason) == 0, "row %d: reason '%s'", _i,
		    str(f, "reason"));
		ck_assert_int_gt(num(f, "at"), (long long)now - 400);
		ck_assert_int_le(num(f, "at"), (long long)now);
	}
	if (rows[_i].not_in != NULL && f != NULL)
		ck_assert_ptr_null(strstr(str(f, "reason"), rows[_i].not_in));
	ck_assert_int_ge(num(r, "log_at"), (long long)now - 5);
	json_object_put(r);
}
END_TEST

START_TEST(test_rotated_log_is_read_newest_first)
{
	struct json_object *r, *f;

	put_lineage("a.test", 0x1234AB);
	put_lineage("b.test", 0x99);
	put_log("logs/letsencrypt.log.1",
	    "@200:ERROR:certbot._internal.renewal:Failed to renew certificate b.test with error: in the older file\n");
	put_log("logs/letsencrypt.log",
	    "@20:ERROR:certbot._internal.renewal:Failed to renew certificate a.test with error: in the newest\n");
	r = lineages(0);
	ck_assert_str_eq(str(failure_of(r, "a.test"), "reason"), "in the newest");
	f = failure_of(r, "b.test");
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(str(f, "reason"), "in the older file");
	json_object_put(r);
}
END_TEST

START_TEST(test_bad_since_refused)
{
	struct ap_proto_env env = { .cfg = &cfg, .sandbox_fd = -1, .peer_uid = getuid(), .arena = A };
	struct ap_buf out = { 0 };
	const char *line = "{\"id\":1,\"op\":\"cert.lineages\",\"args\":{\"since\":-1}}";

	ap_proto_handle(&env, line, strlen(line), &out);
	ck_assert_ptr_nonnull(strstr(out.data, "\"field\":\"since\""));
	ap_buf_free(&out);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("cert_renewals");
	TCase *tc = tcase_create("lineages");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_lineages_with_their_live_certificate);
	tcase_add_loop_test(tc, test_failure_rows, 0, (int)(sizeof(rows) / sizeof(rows[0])));
	tcase_add_test(tc, test_rotated_log_is_read_newest_first);
	tcase_add_test(tc, test_bad_since_refused);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *r = srunner_create(suite());
	int failed;

	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
