/*
 * check_sitecheck.c — the strict checks of a website's parts (sitecheck.h),
 * valid and invalid rows side by side (the panel's fields and the helper's
 * arguments both use them), and the unified line diff (textdiff.h).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "aapanel/sitecheck.h"
#include "aapanel/textdiff.h"

static const struct {
	const char *(*fn)(const char *, size_t);
	const char *val;
	bool ok;
} rows[] = {
	{ ap_check_domain, "example.com", true },
	{ ap_check_domain, "www.example-1.co.uk", true },
	{ ap_check_domain, "xn--mnchen-3ya.de", true },
	{ ap_check_domain, "example.test", true },
	{ ap_check_domain, "example", false },
	{ ap_check_domain, "EXAMPLE.com", false },
	{ ap_check_domain, "exаmple.com", false }, /* Cyrillic а */
	{ ap_check_domain, "a.com; rm -rf /", false },
	{ ap_check_domain, "$(id).com", false },
	{ ap_check_domain, "`id`.com", false },
	{ ap_check_domain, "a..com", false },
	{ ap_check_domain, "-a.com", false },
	{ ap_check_domain, "a-.com", false },
	{ ap_check_domain, "a.com.", false },
	{ ap_check_domain, "1.2.3.4", false },
	{ ap_check_domain, "a_b.com", false },
	{ ap_check_domain, "../etc", false },
	{ ap_check_domain, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com", false },
	{ ap_check_domain_list, "www.example.com", true },
	{ ap_check_domain_list, "www.example.com a.example.com", true },
	{ ap_check_domain_list, "www.example.com  a.example.com", false },
	{ ap_check_domain_list, "www.example.com ", false },
	{ ap_check_domain_list, " www.example.com", false },
	{ ap_check_domain_list, "a.com;b.com", false },
	{ ap_check_domain_list, "a.com\nb.com", false },
	{ ap_check_domain_list, "a.com b", false },
	{ ap_check_site_path, "public", true },
	{ ap_check_site_path, "public/app_1/web-root.v2", true },
	{ ap_check_site_path, "..", false },
	{ ap_check_site_path, "public/../..", false },
	{ ap_check_site_path, "./public", false },
	{ ap_check_site_path, "/public", false },
	{ ap_check_site_path, "public/", false },
	{ ap_check_site_path, "a//b", false },
	{ ap_check_site_path, "a b", false },
	{ ap_check_site_path, "a;b", false },
	{ ap_check_site_path, "a/b/c/d/e/f/g/h/i", false },
	{ ap_check_index_files, "index.html", true },
	{ ap_check_index_files, "index.php index.html default.htm", true },
	{ ap_check_index_files, ".htaccess", false },
	{ ap_check_index_files, "-x", false },
	{ ap_check_index_files, "a/b", false },
	{ ap_check_index_files, "a  b", false },
	{ ap_check_index_files, "a;b", false },
	{ ap_check_index_files, "a b c d e f g h i", false },
	{ ap_check_uri_path, "/404.html", true },
	{ ap_check_uri_path, "/errors/50x.html", true },
	{ ap_check_uri_path, "/", false },
	{ ap_check_uri_path, "404.html", false },
	{ ap_check_uri_path, "//x", false },
	{ ap_check_uri_path, "/a/../b", false },
	{ ap_check_uri_path, "/a b", false },
	{ ap_check_uri_path, "/a\"b", false },
	{ ap_check_uri_path, "/a{b}", false },
	{ ap_check_php_version, "8.2", true },
	{ ap_check_php_version, "7.4", true },
	{ ap_check_php_version, "8.10", true },
	{ ap_check_php_version, "8", false },
	{ ap_check_php_version, "8.x", false },
	{ ap_check_php_version, "4.4", false },
	{ ap_check_php_version, "8.2;", false },
	{ ap_check_upstream, "http://127.0.0.1:3000", true },
	{ ap_check_upstream, "http://app.internal", true },
	{ ap_check_upstream, "http://localhost:8080/api/v1", true },
	{ ap_check_upstream, "http://[::1]:8080/", true },
	{ ap_check_upstream, "unix:/run/app/app.sock", true },
	{ ap_check_upstream, "https://a.com", false },
	{ ap_check_upstream, "http://", false },
	{ ap_check_upstream, "http://a.com:0", false },
	{ ap_check_upstream, "http://a.com:65536", false },
	{ ap_check_upstream, "http://a.com:080", false },
	{ ap_check_upstream, "http://a.com/$(id)", false },
	{ ap_check_upstream, "http://a.com;b", false },
	{ ap_check_upstream, "http://A.com", false },
	{ ap_check_upstream, "http://a.com/?x=1", false },
	{ ap_check_upstream, "http://[::g]", false },
	{ ap_check_upstream, "unix:run/app.sock", false },
	{ ap_check_upstream, "unix:/a/../etc/x", false },
	{ ap_check_upstream, "unix:/a b", false },
};

START_TEST(test_rows)
{
	const char *why = rows[_i].fn(rows[_i].val, strlen(rows[_i].val));

	ck_assert_msg((why == NULL) == rows[_i].ok, "row %d '%s': %s", _i, rows[_i].val,
	    why ? why : "accepted");
}
END_TEST

START_TEST(test_embedded_nul_refused)
{
	/* The checks take a length: a NUL inside the value is one more bad byte. */
	ck_assert_ptr_nonnull(ap_check_domain("a.com\0x.com", 11));
	ck_assert_ptr_nonnull(ap_check_site_path("a\0b", 3));
	ck_assert_ptr_nonnull(ap_check_upstream("http://a.com\0", 13));
	ck_assert_ptr_nonnull(ap_check_index_files("a\0b", 3));
}
END_TEST

static const char *
diff_of(const char *a, const char *b, enum ap_err *rc)
{
	static struct ap_buf out;

	ap_buf_free(&out);
	*rc = ap_textdiff(a, strlen(a), b, strlen(b), "panel", "disk", &out);
	return ap_buf_cstr(&out);
}

START_TEST(test_textdiff)
{
	enum ap_err rc;

	ck_assert_str_eq(diff_of("a\nb\n", "a\nb\n", &rc), "");
	ck_assert_int_eq(rc, AP_OK);
	ck_assert_str_eq(diff_of("a\nb\nc\n", "a\nB\nc\n", &rc),
	    "--- panel\n+++ disk\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n");
	ck_assert_str_eq(diff_of("a\n", "a\nadded\n", &rc), "--- panel\n+++ disk\n@@ -1,1 +1,2 @@\n a\n+added\n");
	ck_assert_str_eq(diff_of("x\n", "", &rc), "--- panel\n+++ disk\n@@ -1,1 +0,0 @@\n-x\n");
	/* Far apart changes: two hunks, each with three lines of context (as GNU diff -u). */
	ck_assert_str_eq(diff_of("1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n", "0\n1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n",
			     &rc),
	    "--- panel\n+++ disk\n@@ -1,3 +1,4 @@\n+0\n 1\n 2\n 3\n@@ -9,4 +10,3 @@\n 9\n 10\n 11\n-12\n");
}
END_TEST

START_TEST(test_textdiff_too_long)
{
	size_t n = 3000 * 2;
	char *a = malloc(n + 1), *b;
	struct ap_buf out = { 0 };

	for (size_t i = 0; i < n; i += 2)
		memcpy(a + i, "x\n", 2);
	a[n] = '\0';
	b = strdup(a);
	b[0] = 'y';
	ck_assert_int_eq(ap_textdiff(a, n, b, n, "a", "b", &out), AP_ERR_TOOBIG);
	ck_assert_ptr_nonnull(strstr(ap_buf_cstr(&out), "too long"));
	ap_buf_free(&out);
	free(a);
	free(b);
}
END_TEST

/* files.roots: "name:/path" lists, and finding a root by name. */
START_TEST(test_file_roots)
{
	static const char *const good[] = { "", "www:/srv/www", "www:/srv/www, data:/srv/data",
		" a-1:/x/y_z.d ,b:/q/ ", NULL };
	static const char *const bad[] = { "www", "www:srv", "www:/", "Www:/srv", "1a:/srv", "www:/srv/../etc",
		"www:/srv/./x", "www:/srv//x", "www:/srv/a b", "a:/x, a:/y", "www:/srv,", ":/srv", NULL };
	char path[64], name[40];

	for (size_t i = 0; good[i] != NULL; i++)
		ck_assert_msg(ap_check_file_roots(good[i], strlen(good[i])) == NULL, "refused '%s'", good[i]);
	for (size_t i = 0; bad[i] != NULL; i++)
		ck_assert_msg(ap_check_file_roots(bad[i], strlen(bad[i])) != NULL, "took '%s'", bad[i]);
	ck_assert(ap_file_root_find("www:/srv/www, data:/srv/data", "data", path, sizeof(path)));
	ck_assert_str_eq(path, "/srv/data");
	ck_assert(!ap_file_root_find("www:/srv/www", "dat", path, sizeof(path)));
	ck_assert(!ap_file_root_find("www:/srv/www, bad", "www", path, sizeof(path))); /* an invalid list: none */
	ck_assert(ap_file_root_at("www:/srv/www, data:/srv/data", 0, name, sizeof(name), path, sizeof(path)));
	ck_assert_str_eq(name, "www");
	ck_assert(!ap_file_root_at("www:/srv/www", 1, name, sizeof(name), path, sizeof(path)));
	ck_assert_ptr_nonnull(ap_check_file_root_name("../x", 4));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("sitecheck");
	TCase *tc = tcase_create("checks");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, test_rows, 0, (int)(sizeof(rows) / sizeof(rows[0])));
	tcase_add_test(tc, test_embedded_nul_refused);
	tcase_add_test(tc, test_textdiff);
	tcase_add_test(tc, test_textdiff_too_long);
	tcase_add_test(tc, test_file_roots);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
