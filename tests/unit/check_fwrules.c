/* check_fwrules.c — the firewall's ruleset document (core/fwrules.c): the
 * checks (valid and invalid rows side by side), the libnftables batch (one
 * table, inet aapanel, and nothing else), and the lock-out guard. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "aapanel/fwrules.h"

static const struct {
	const char *in;
	bool ok;
	int lo, hi;
	const char *proto;
} port_rows[] = {
	{ "8443", true, 8443, 8443, NULL },
	{ "8443/tcp", true, 8443, 8443, "tcp" },
	{ "53/udp", true, 53, 53, "udp" },
	{ "8000-8100/both", true, 8000, 8100, "both" },
	{ "1-65535", true, 1, 65535, NULL },
	{ "0", false, 0, 0, NULL },
	{ "65536", false, 0, 0, NULL },
	{ "080", false, 0, 0, NULL },
	{ "9000-8000", false, 0, 0, NULL },
	{ "80/icmp", false, 0, 0, NULL },
	{ "80; rm -rf /", false, 0, 0, NULL },
	{ "80-", false, 0, 0, NULL },
	{ "-80", false, 0, 0, NULL },
	{ "", false, 0, 0, NULL },
	{ "８０", false, 0, 0, NULL }, /* full-width digits */
};

START_TEST(test_ports)
{
	for (size_t i = 0; i < sizeof(port_rows) / sizeof(port_rows[0]); i++) {
		int lo = 0, hi = 0;
		const char *proto = "x";
		char why[128] = "";
		bool ok = ap_fw_ports_parse(port_rows[i].in, &lo, &hi, &proto, why, sizeof(why));

		ck_assert_msg(ok == port_rows[i].ok, "%s: %d (%s)", port_rows[i].in, ok, why);
		if (ok) {
			ck_assert_int_eq(lo, port_rows[i].lo);
			ck_assert_int_eq(hi, port_rows[i].hi);
			ck_assert_msg(port_rows[i].proto ? proto && strcmp(proto, port_rows[i].proto) == 0 : proto == NULL,
			    "%s: proto", port_rows[i].in);
		} else
			ck_assert_msg(why[0] != '\0', "%s: no reason", port_rows[i].in);
	}
}
END_TEST

static const struct {
	int kind; /* 0 from, 1 comment, 2 block entry */
	const char *in;
	bool ok;
} text_rows[] = {
	{ 0, "", true },
	{ 0, "192.0.2.0/24", true },
	{ 0, "192.0.2.1 2001:db8::/32, 10.0.0.0/8", true },
	{ 0, "10.0.0.0/33", false },
	{ 0, "1.2.3.4;id", false },
	{ 0, "$(id)", false },
	{ 0, "example.com", false },
	{ 0, "1.2.3.4\n5.6.7.8", false },
	{ 1, "", true },
	{ 1, "web (public) #1: a-b_c.d/e@f+g=h", true },
	{ 1, "a\"b", false },
	{ 1, "a\nb", false },
	{ 1, "a\\b", false },
	{ 1, "0123456789012345678901234567890123456789012345678901234567890123456789", false },
	{ 2, "198.51.100.7", true },
	{ 2, "2001:db8:bad::/48", true },
	{ 2, "", false },
	{ 2, "1.2.3.4 5.6.7.8", false },
	{ 2, "1.2.3.\xd0\xb0", false }, /* a Cyrillic a */
};

START_TEST(test_texts)
{
	for (size_t i = 0; i < sizeof(text_rows) / sizeof(text_rows[0]); i++) {
		char why[160] = "";
		bool ok = text_rows[i].kind == 0 ? ap_fw_from_check(text_rows[i].in, why, sizeof(why))
		    : text_rows[i].kind == 1   ? ap_fw_comment_check(text_rows[i].in, why, sizeof(why))
					       : ap_fw_block_check(text_rows[i].in, why, sizeof(why));

		ck_assert_msg(ok == text_rows[i].ok, "row %zu (%s): %d %s", i, text_rows[i].in, ok, why);
	}
}
END_TEST

static const char good_doc[] =
    "{\"policy\":\"accept\",\"icmp_echo\":false,"
    "\"rules\":[{\"id\":1,\"action\":\"allow\",\"proto\":\"tcp\",\"ports\":\"22\",\"from\":\"192.0.2.0/24\","
    "\"rate\":0,\"comment\":\"ssh\"},"
    "{\"id\":2,\"action\":\"deny\",\"proto\":\"both\",\"ports\":\"1-65535\",\"from\":\"\",\"rate\":0,\"comment\":\"\"}],"
    "\"block\":[\"198.51.100.7\",\"2001:db8:bad::/48\"]}";

static const struct {
	const char *patch_from, *patch_to; /* a change of good_doc */
	const char *field;                 /* NULL: valid */
} doc_rows[] = {
	{ NULL, NULL, NULL },
	{ "\"policy\":\"accept\"", "\"policy\":\"reject\"", "policy" },
	{ "\"icmp_echo\":false", "\"icmp_echo\":\"no\"", "icmp_echo" },
	{ "\"ports\":\"22\"", "\"ports\":\"22/tcp\"", "rules[0].ports" },
	{ "\"from\":\"192.0.2.0/24\"", "\"from\":\"192.0.2.0/24;reboot\"", "rules[0].from" },
	{ "\"action\":\"deny\"", "\"action\":\"reject\"", "rules[1].action" },
	{ "\"proto\":\"both\"", "\"proto\":\"sctp\"", "rules[1].proto" },
	{ "\"comment\":\"ssh\"", "\"comment\":\"a\\\"b\"", "rules[0].comment" },
	{ "\"rate\":0,\"comment\":\"ssh\"", "\"rate\":-1,\"comment\":\"ssh\"", "rules[0].rate" },
	{ "\"id\":2", "\"id\":0", "rules[1].id" },
	{ "\"id\":1,", "\"id\":1,\"extra\":1,", "rules[0].extra" },
	{ "\"198.51.100.7\"", "\"example.com\"", "block[0]" },
	{ "\"block\":", "\"flush\":1,\"block\":", "flush" },
};

static char *
patched(const char *from, const char *to)
{
	const char *at = from ? strstr(good_doc, from) : NULL;
	char *out;

	if (from == NULL)
		return strdup(good_doc);
	ck_assert_ptr_nonnull(at);
	out = malloc(strlen(good_doc) + strlen(to) + 1);
	memcpy(out, good_doc, (size_t)(at - good_doc));
	strcpy(out + (at - good_doc), to);
	strcat(out, at + strlen(from));
	return out;
}

START_TEST(test_doc_check)
{
	for (size_t i = 0; i < sizeof(doc_rows) / sizeof(doc_rows[0]); i++) {
		char *text = patched(doc_rows[i].patch_from, doc_rows[i].patch_to);
		struct json_object *doc = json_tokener_parse(text);
		struct ap_problem pb = { 0 };
		enum ap_err e;

		ck_assert_msg(doc != NULL, "row %zu is JSON", i);
		e = ap_fw_doc_check(doc, &pb);
		if (doc_rows[i].field == NULL)
			ck_assert_msg(e == AP_OK, "row %zu: %s %s", i, pb.field, pb.reason);
		else {
			ck_assert_msg(e != AP_OK, "row %zu accepted", i);
			ck_assert_str_eq(pb.field, doc_rows[i].field);
			ck_assert_msg(pb.reason[0] != '\0', "row %zu: no reason", i);
		}
		json_object_put(doc);
		free(text);
	}
}
END_TEST

/* Every command of the batch names table inet aapanel: no other table is ever touched. */
START_TEST(test_batch_only_own_table)
{
	struct json_object *doc = json_tokener_parse(good_doc), *b = ap_fw_nft_batch(doc), *cmds;
	const char *text = json_object_to_json_string_ext(b, JSON_C_TO_STRING_PLAIN);
	size_t n;

	ck_assert(json_object_object_get_ex(b, "nftables", &cmds));
	n = json_object_array_length(cmds);
	ck_assert_uint_gt(n, 10);
	for (size_t i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(cmds, i);

		json_object_object_foreach(c, verb, obj) {
			ck_assert_msg(strcmp(verb, "add") == 0 || strcmp(verb, "delete") == 0, "verb %s", verb);
			json_object_object_foreach(obj, kind, o) {
				struct json_object *fam, *t;

				ck_assert_msg(strcmp(kind, "flush") != 0 && strcmp(kind, "ruleset") != 0, "%s", kind);
				ck_assert(json_object_object_get_ex(o, "family", &fam));
				ck_assert_str_eq(json_object_get_string(fam), "inet");
				ck_assert(json_object_object_get_ex(o, strcmp(kind, "table") == 0 ? "name" : "table", &t));
				ck_assert_str_eq(json_object_get_string(t), "aapanel");
			}
		}
	}
	/* The first three: add, delete, add the table (one transaction replaces it, existing or not). */
	ck_assert(strstr(text, "{\"nftables\":[{\"add\":{\"table\"") == text);
	ck_assert_ptr_nonnull(strstr(text, "\"comment\":\"aapanel:1 ssh\""));
	ck_assert_ptr_nonnull(strstr(text, "{\"prefix\":{\"addr\":\"2001:db8:bad::\",\"len\":48}}"));
	ck_assert_ptr_nonnull(strstr(text, "{\"range\":[1,65535]}"));
	json_object_put(b);
	json_object_put(doc);
}
END_TEST

/* A rate limit is per source address: a meter keyed by ip saddr and one by ip6 saddr
 * (any source), or by the from list's family only; each before the rule's accept. */
START_TEST(test_rate_per_source)
{
	static const char doc_any[] =
	    "{\"policy\":\"accept\",\"icmp_echo\":true,\"rules\":[{\"id\":7,\"action\":\"allow\","
	    "\"proto\":\"tcp\",\"ports\":\"8082\",\"from\":\"\",\"rate\":2,\"comment\":\"\"}],\"block\":[]}";
	static const char doc_from[] =
	    "{\"policy\":\"accept\",\"icmp_echo\":true,\"rules\":[{\"id\":8,\"action\":\"allow\","
	    "\"proto\":\"udp\",\"ports\":\"53\",\"from\":\"192.0.2.0/24\",\"rate\":9,\"comment\":\"\"}],\"block\":[]}";
	struct json_object *doc = json_tokener_parse(doc_any), *b = ap_fw_nft_batch(doc);
	const char *t = json_object_to_json_string_ext(b, JSON_C_TO_STRING_PLAIN), *m4, *m6, *acc;

	m4 = strstr(t, "{\"meter\":{\"name\":\"rate_7_tcp_ip\",\"key\":{\"payload\":{\"protocol\":\"ip\",\"field\":\"saddr\"}}");
	m6 = strstr(t, "{\"meter\":{\"name\":\"rate_7_tcp_ip6\",\"key\":{\"payload\":{\"protocol\":\"ip6\",\"field\":\"saddr\"}}");
	acc = strstr(t, "\"accept\":null");
	ck_assert_ptr_nonnull(m4);
	ck_assert_ptr_nonnull(m6);
	ck_assert_ptr_nonnull(strstr(m4, "\"limit\":{\"rate\":2,\"per\":\"minute\",\"burst\":2,\"inv\":true}"));
	ck_assert_ptr_nonnull(acc);
	/* the rule's own accept (the last one) after both limits */
	ck_assert_ptr_nonnull(strstr(m6, "\"accept\":null"));
	json_object_put(b);
	json_object_put(doc);
	doc = json_tokener_parse(doc_from);
	b = ap_fw_nft_batch(doc);
	t = json_object_to_json_string_ext(b, JSON_C_TO_STRING_PLAIN);
	ck_assert_ptr_nonnull(strstr(t, "\"name\":\"rate_8_udp_ip\""));
	ck_assert_ptr_null(strstr(t, "rate_8_udp_ip6"));
	json_object_put(b);
	json_object_put(doc);
}
END_TEST

static const struct {
	const char *addr;
	int port;
	bool blocked;
	const char *why_has;
} guard_rows[] = {
	{ "192.0.2.9", 22, false, NULL },              /* rule 1 allows it first */
	{ "203.0.113.5", 22, true, "rule 2" },         /* rule 2 denies everything else */
	{ "203.0.113.5", 8443, true, "rule 2" },
	{ "198.51.100.7", 22, true, "block list" },    /* the block list comes before the rules */
	{ "2001:db8:bad::1", 22, true, "block list" },
	{ "", 22, false, NULL },                       /* not an address (a unix socket) */
};

START_TEST(test_guard)
{
	struct json_object *doc = json_tokener_parse(good_doc);

	for (size_t i = 0; i < sizeof(guard_rows) / sizeof(guard_rows[0]); i++) {
		char why[256] = "";
		bool b = ap_fw_blocks(doc, guard_rows[i].addr, guard_rows[i].port, why, sizeof(why));

		ck_assert_msg(b == guard_rows[i].blocked, "row %zu (%s:%d): %s", i, guard_rows[i].addr,
		    guard_rows[i].port, why);
		if (guard_rows[i].why_has)
			ck_assert_msg(strstr(why, guard_rows[i].why_has) != NULL, "row %zu: %s", i, why);
	}
	json_object_put(doc);
	/* With no rule and the default policy drop, everyone is locked out. */
	doc = json_tokener_parse("{\"policy\":\"drop\",\"icmp_echo\":true,\"rules\":[],\"block\":[]}");
	{
		char why[256];

		ck_assert(ap_fw_blocks(doc, "192.0.2.9", 22, why, sizeof(why)));
		ck_assert_ptr_nonnull(strstr(why, "default policy"));
	}
	json_object_put(doc);
}
END_TEST

static Suite *
fwrules_suite(void)
{
	Suite *s = suite_create("fwrules");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_ports);
	tcase_add_test(tc, test_texts);
	tcase_add_test(tc, test_doc_check);
	tcase_add_test(tc, test_batch_only_own_table);
	tcase_add_test(tc, test_rate_per_source);
	tcase_add_test(tc, test_guard);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(fwrules_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
