/* check_weburl — origins (Origin, Referer, panel.origins) and the local paths next may name. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "aapanel/weburl.h"

static const struct {
	const char *base, *in;
	bool ok;
} path_rows[] = {
	{ "", "/", true },
	{ "", "/sites", true },
	{ "", "/sites/3/edit?tab=ssl&x=%2F", true },
	{ "", "/a/", true },
	{ "", "/a%2Fb", true }, /* an encoded slash is not a separator */
	{ "", NULL, false },
	{ "", "", false },
	{ "", "sites", false },
	{ "", "//evil.example/", false },
	{ "", "///evil.example/", false },
	{ "", "https://evil.example/", false },
	{ "", "/\\evil.example", false },
	{ "", "/a\\b", false },
	/* regression: a control character after the first slash went into
	 * Location and a browser read it as //evil.example */
	{ "", "/\t/evil.example", false },
	{ "", "/\n/evil.example", false },
	{ "", "/\r/evil.example", false },
	{ "", "/\x01/evil.example", false },
	{ "", "/\x1f/evil.example", false },
	{ "", "/ /evil.example", false },
	{ "", "/\x7f/evil.example", false },
	{ "", "/caf\xc3\xa9", false },
	{ "", "/a//b", false },
	{ "", "/a/./b", false },
	{ "", "/a/../b", false },
	{ "", "/..", false },
	{ "", "/a/%2e%2E/b", false },
	{ "", "/a/.%2e", false },
	{ "", "/%2e/", false },
	{ "", "/a#//evil", false },
	{ "", "/a?next=//evil.example", true }, /* the query is not the path */
	{ "", "/...", true },                    /* a name, not a dot segment */
	{ "/x7Kp2", "/x7Kp2", true },
	{ "/x7Kp2", "/x7Kp2/", true },
	{ "/x7Kp2", "/x7Kp2/sites", true },
	{ "/x7Kp2", "/x7Kp2?a=1", true },
	{ "/x7Kp2", "/x7Kp2evil", false },
	{ "/x7Kp2", "/sites", false },
	{ "/x7Kp2", "/", false },
	{ "/x7Kp2", "/x7Kp2/../sites", false },
	{ "/x7Kp2", "/x7Kp2//evil", false },
};

START_TEST(test_local_paths)
{
	ck_assert_msg(ap_url_local_path(path_rows[_i].base, path_rows[_i].in) == path_rows[_i].ok,
	    "row %d: base \"%s\"", _i, path_rows[_i].base);
}
END_TEST

START_TEST(test_local_path_length_bound)
{
	char *s = malloc(AP_LOCAL_PATH_MAX + 2);

	memset(s, 'a', AP_LOCAL_PATH_MAX + 1);
	s[0] = '/';
	s[AP_LOCAL_PATH_MAX] = '\0';
	ck_assert(ap_url_local_path("", s));
	s[AP_LOCAL_PATH_MAX] = 'a';
	s[AP_LOCAL_PATH_MAX + 1] = '\0';
	ck_assert(!ap_url_local_path("", s));
	free(s);
}
END_TEST

static const struct {
	const char *in;
	bool ok;
	bool https;
	const char *host;
	int port;
} origin_rows[] = {
	{ "https://panel.example.com", true, true, "panel.example.com", 443 },
	{ "HTTPS://Panel.Example.COM:443", true, true, "panel.example.com", 443 },
	{ "http://127.0.0.1:8080", true, false, "127.0.0.1", 8080 },
	{ "http://[::1]:9000", true, false, "[::1]", 9000 },
	{ "http://[2001:db8::1]", true, false, "[2001:db8::1]", 80 },
	{ "https://panel.example.com/", false, false, NULL, 0 },
	{ "https://a@evil.example", false, false, NULL, 0 },
	{ "ftp://panel.example.com", false, false, NULL, 0 },
	{ "null", false, false, NULL, 0 },
	{ "", false, false, NULL, 0 },
	{ "https://", false, false, NULL, 0 },
	{ "https://h:", false, false, NULL, 0 },
	{ "https://h:0", false, false, NULL, 0 },
	{ "https://h:65536", false, false, NULL, 0 },
	{ "https://h:123456", false, false, NULL, 0 },
	{ "https://-h.example", false, false, NULL, 0 },
	{ "https://h.example.", false, false, NULL, 0 },
	{ "http://[::g]", false, false, NULL, 0 },
	{ "http://[]", false, false, NULL, 0 },
	{ "https://h_x.example", false, false, NULL, 0 },
};

START_TEST(test_origins)
{
	struct ap_origin o;
	bool ok = ap_origin_parse(origin_rows[_i].in, strlen(origin_rows[_i].in), &o, NULL);

	ck_assert_msg(ok == origin_rows[_i].ok, "row %d: %s", _i, origin_rows[_i].in);
	if (!ok)
		return;
	ck_assert(o.https == origin_rows[_i].https);
	ck_assert_str_eq(o.host, origin_rows[_i].host);
	ck_assert_int_eq(o.port, origin_rows[_i].port);
}
END_TEST

START_TEST(test_referer_origin_and_rest)
{
	const char *r = NULL, *s = "https://panel.example.com/x/y?z";
	struct ap_origin a, b;

	ck_assert(ap_origin_parse(s, strlen(s), &a, &r));
	ck_assert_str_eq(r, "/x/y?z");
	s = "https://panel.example.com";
	ck_assert(ap_origin_parse(s, strlen(s), &b, &r));
	ck_assert_str_eq(r, "");
	ck_assert(ap_origin_eq(&a, &b));
	/* a host that only starts like ours */
	s = "https://panel.example.com.evil.example/";
	ck_assert(ap_origin_parse(s, strlen(s), &b, &r));
	ck_assert(!ap_origin_eq(&a, &b));
	s = "https://panel.example.com@evil.example/";
	ck_assert(!ap_origin_parse(s, strlen(s), &b, &r));
	s = "http://panel.example.com/";
	ck_assert(ap_origin_parse(s, strlen(s), &b, &r));
	ck_assert(!ap_origin_eq(&a, &b)); /* another scheme, another origin */
}
END_TEST

START_TEST(test_loopback_and_lists)
{
	struct ap_origin *v = NULL, o;
	size_t n = 0;
	char bad[64] = "";
	static const char *const loop[] = { "http://localhost:3000", "https://127.0.0.1", "http://127.9.9.9:1",
		"http://[::1]:8080" };
	static const char *const not_loop[] = { "http://10.0.0.1", "http://localhost.evil.example",
		"http://127.0.0.1.evil.example", "http://[::2]" };

	for (size_t i = 0; i < AP_NELEM(loop); i++) {
		ck_assert(ap_origin_parse(loop[i], strlen(loop[i]), &o, NULL));
		ck_assert_msg(ap_origin_is_loopback(&o), "%s", loop[i]);
	}
	for (size_t i = 0; i < AP_NELEM(not_loop); i++) {
		ck_assert(ap_origin_parse(not_loop[i], strlen(not_loop[i]), &o, NULL));
		ck_assert_msg(!ap_origin_is_loopback(&o), "%s", not_loop[i]);
	}
	ck_assert(ap_origin_list_parse("https://a.example, http://b.example:8080\thttps://[::1]", &v, &n, bad,
	    sizeof(bad)));
	ck_assert_int_eq(n, 3);
	ck_assert_int_eq(v[1].port, 8080);
	free(v);
	ck_assert(ap_origin_list_parse("", &v, &n, bad, sizeof(bad)));
	ck_assert_int_eq(n, 0);
	ck_assert_ptr_null(v);
	ck_assert(!ap_origin_list_parse("https://a.example, https://b.example/", &v, &n, bad, sizeof(bad)));
	ck_assert_str_eq(bad, "https://b.example/");
	ck_assert_ptr_null(v);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("weburl");
	TCase *tc = tcase_create("weburl");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, test_local_paths, 0, (int)AP_NELEM(path_rows));
	tcase_add_test(tc, test_local_path_length_bound);
	tcase_add_loop_test(tc, test_origins, 0, (int)AP_NELEM(origin_rows));
	tcase_add_test(tc, test_referer_origin_and_rest);
	tcase_add_test(tc, test_loopback_and_lists);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
