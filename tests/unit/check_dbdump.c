/*
 * check_dbdump.c — the error line a failed import or export reports
 * (ap_dbdump_reason): the clients' own first ERROR line, else their last
 * line, trimmed and printable. The clients themselves run in t_dbio.sh.
 */
#include <check.h>
#include <string.h>

#include "dbdump.h"

static const struct {
	const char *in, *want;
} rows[] = {
	{ "ERROR 1064 (42000) at line 2: You have an error in your SQL syntax\n",
	    "ERROR 1064 (42000) at line 2: You have an error in your SQL syntax" },
	{ "psql:<stdin>:12: NOTICE:  table \"x\" does not exist\npsql:<stdin>:13: ERROR:  syntax error at or near \"SELEC\"\nLINE 1: SELEC 1;\n        ^\n",
	    "psql:<stdin>:13: ERROR:  syntax error at or near \"SELEC\"" },
	{ "mariadb-dump: Got error: 1045: \"Access denied\" when trying to connect\n",
	    "mariadb-dump: Got error: 1045: \"Access denied\" when trying to connect" },
	{ "pg_dump: warning: x\npg_dump: error: connection to server failed\n\n\n",
	    "pg_dump: error: connection to server failed" },
	{ "pg_dump: warning: x\npg_dump: last words\n", "pg_dump: last words" },
	{ "  \t spaced out \r\n", "spaced out" },
	{ "a\tb\x01" "c\n", "a b c" },
	{ "", "" },
	{ "\n\n \n", "" },
	{ "no newline at the end", "no newline at the end" },
};

START_TEST(test_reason_row)
{
	char out[512];

	ap_dbdump_reason(rows[_i].in, strlen(rows[_i].in), out, sizeof(out));
	ck_assert_str_eq(out, rows[_i].want);
}
END_TEST

START_TEST(test_reason_is_bounded)
{
	char in[2000], out[64];

	memset(in, 'x', sizeof(in));
	memcpy(in, "ERROR ", 6);
	ap_dbdump_reason(in, sizeof(in), out, sizeof(out));
	ck_assert_uint_eq(strlen(out), sizeof(out) - 1);
	ck_assert(strncmp(out, "ERROR xx", 8) == 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("dbdump");
	TCase *tc = tcase_create("reason");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, test_reason_row, 0, (int)(sizeof(rows) / sizeof(rows[0])));
	tcase_add_test(tc, test_reason_is_bounded);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
