/* check_password.c — argon2id PHC hashes, rehash detection, policy, common list. */
#include <argon2.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "aapanel/password.h"

/* Cheap parameters so the suite stays fast; the default ones are tested once. */
static const struct ap_pw_params cheap = { 256, 1, 1 };

START_TEST(test_hash_verify_default_params)
{
	char *phc = NULL;
	bool rehash = true;

	ck_assert_int_eq(ap_pw_hash("correct horse battery", &ap_pw_default, &phc), AP_OK);
	ck_assert_ptr_nonnull(phc);
	ck_assert_int_eq(strncmp(phc, "$argon2id$v=19$m=19456,t=2,p=1$", 31), 0);
	ck_assert(ap_pw_verify("correct horse battery", phc, &ap_pw_default, &rehash));
	ck_assert(!rehash);
	ck_assert(!ap_pw_verify("correct horse batterY", phc, &ap_pw_default, &rehash));
	ck_assert(!ap_pw_verify("", phc, &ap_pw_default, NULL));
	free(phc);
}
END_TEST

START_TEST(test_null_params_mean_default)
{
	char *phc = NULL;
	bool rehash = true;

	ck_assert_int_eq(ap_pw_hash("x", NULL, &phc), AP_OK);
	ck_assert_int_eq(strncmp(phc, "$argon2id$v=19$m=19456,t=2,p=1$", 31), 0);
	ck_assert(ap_pw_verify("x", phc, NULL, &rehash));
	ck_assert(!rehash);
	free(phc);
}
END_TEST

START_TEST(test_salt_makes_hashes_differ)
{
	char *a = NULL, *b = NULL;

	ck_assert_int_eq(ap_pw_hash("same password", &cheap, &a), AP_OK);
	ck_assert_int_eq(ap_pw_hash("same password", &cheap, &b), AP_OK);
	ck_assert_str_ne(a, b);
	/* Same parameters, so only salt and hash differ: the prefix up to the salt is equal. */
	ck_assert_int_eq(strncmp(a, b, strlen("$argon2id$v=19$m=256,t=1,p=1$")), 0);
	ck_assert(ap_pw_verify("same password", a, &cheap, NULL));
	ck_assert(ap_pw_verify("same password", b, &cheap, NULL));
	free(a);
	free(b);
}
END_TEST

static const struct {
	struct ap_pw_params want;
	bool rehash;
} rehash_rows[] = {
	{ { 256, 1, 1 }, false },
	{ { 256, 3, 1 }, true },
	{ { 512, 1, 1 }, true },
	{ { 256, 1, 2 }, true },
	{ { 19456, 2, 1 }, true },
};

START_TEST(test_rehash_flag)
{
	char *phc = NULL;
	bool rehash = !rehash_rows[_i].rehash;

	ck_assert_int_eq(ap_pw_hash("rehash me please", &cheap, &phc), AP_OK);
	ck_assert(ap_pw_verify("rehash me please", phc, &rehash_rows[_i].want, &rehash));
	ck_assert(rehash == rehash_rows[_i].rehash);
	/* A failed login never asks for a rehash. */
	rehash = true;
	ck_assert(!ap_pw_verify("wrong", phc, &rehash_rows[_i].want, &rehash));
	ck_assert(!rehash);
	free(phc);
}
END_TEST

/*
 * Known answers from the reference implementation's src/test.c
 * (phc-winner-argon2): password "password", salt "somesalt". Built here
 * with libargon2's own encoder so a miscompiled library is noticed, then
 * verified through ap_pw_verify. Older formats must verify and ask for a
 * rehash (argon2i, and version 1.0 without "v=").
 */
static const struct {
	argon2_type type;
	uint32_t m, t, p;
	const char *phc;
} kat_rows[] = {
	{ Argon2_id, 256, 2, 1,
	    "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4" },
	{ Argon2_id, 65536, 2, 1,
	    "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc" },
	{ Argon2_i, 65536, 2, 1,
	    "$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$wWKIMhR9lyDFvRz9YTZweHKfbftvj+qf+YFY4NeBbtA" },
};

START_TEST(test_known_answer)
{
	char enc[128];
	bool rehash = false;
	struct ap_pw_params want = { kat_rows[_i].m, kat_rows[_i].t, kat_rows[_i].p };
	int rc;

	rc = argon2_hash(kat_rows[_i].t, kat_rows[_i].m, kat_rows[_i].p, "password", 8, "somesalt",
	    8, NULL, 32, enc, sizeof(enc), kat_rows[_i].type, ARGON2_VERSION_13);
	ck_assert_int_eq(rc, ARGON2_OK);
	ck_assert_str_eq(enc, kat_rows[_i].phc);
	ck_assert(ap_pw_verify("password", kat_rows[_i].phc, &want, &rehash));
	ck_assert(rehash == (kat_rows[_i].type != Argon2_id));
	ck_assert(!ap_pw_verify("passwore", kat_rows[_i].phc, &want, NULL));
}
END_TEST

START_TEST(test_version_10_asks_rehash)
{
	/* Reference test.c, version 0x10 argon2i (no "v=" field). */
	const char *phc = "$argon2i$m=65536,t=2,p=1$c29tZXNhbHQ$9sTbSlTio3Biev89thdrlKKiCaYsjjYVJxGAL3swxpQ";
	struct ap_pw_params want = { 65536, 2, 1 };
	bool rehash = false;

	ck_assert(ap_pw_verify("password", phc, &want, &rehash));
	ck_assert(rehash);
}
END_TEST

/* Each must be refused without a crash (ASan and UBSan watch). */
static const char *const bad_phc[] = {
	"",
	"$",
	"$argon2id",
	"$argon2id$",
	"$argon2id$v=19",
	"$argon2id$v=19$m=256,t=1,p=1",
	"$argon2id$v=19$m=256,t=1,p=1$",
	"$argon2id$v=19$m=256,t=1,p=1$c29tZXNhbHQ",
	"$argon2id$v=19$m=256,t=1,p=1$c29tZXNhbHQ$",
	"$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/",
	"$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4$",
	"$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4=",
	"$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4 ",
	"$argon2id$v=20$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
	"$argon2id$v=019$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
	"$argon2id$v=19$m=-256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
	"$argon2id$v=19$m=256,t=0,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
	"$argon2id$v=19$m=256,t=2,p=0$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
	"$argon2id$v=19$m=99999999999,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
	"$argon2id$v=19$m=4294967295,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
	"$argon2id$v=19$m=256,t=4294967295,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
	"$argon2id$v=19$t=2,m=256,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
	"$argon2id$v=19$m=256,t=2,p=1$c29t$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
	"$argon2id$v=19$m=256,t=2,p=1$$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
	"$argon2x$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
	"$argon2$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
	"argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
	"$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
	"$6$rounds=5000$salt$hash",
	"plaintext-password",
};

START_TEST(test_malformed_phc_refused)
{
	bool rehash = true;

	ck_assert(!ap_pw_verify("password", bad_phc[_i], NULL, &rehash));
	ck_assert(!rehash);
}
END_TEST

START_TEST(test_null_and_long_inputs)
{
	char *phc = NULL, *big;

	ck_assert(!ap_pw_verify("password", NULL, NULL, NULL));
	ck_assert(!ap_pw_verify(NULL, kat_rows[0].phc, NULL, NULL));
	ck_assert_int_eq(ap_pw_hash(NULL, NULL, &phc), AP_ERR_INVAL);
	ck_assert_ptr_null(phc);
	big = malloc(AP_PW_MAX_BYTES + 2);
	memset(big, 'a', AP_PW_MAX_BYTES + 1);
	big[AP_PW_MAX_BYTES + 1] = '\0';
	ck_assert_int_eq(ap_pw_hash(big, &cheap, &phc), AP_ERR_TOOBIG);
	ck_assert_ptr_null(phc);
	big[AP_PW_MAX_BYTES] = '\0';
	ck_assert_int_eq(ap_pw_hash(big, &cheap, &phc), AP_OK);
	ck_assert(ap_pw_verify(big, phc, &cheap, NULL));
	free(phc);
	free(big);
	/* Parameters the verifier would refuse are never written. */
	{
		struct ap_pw_params huge = { 1u << 30, 1, 1 }, zero = { 256, 0, 1 };

		ck_assert_int_eq(ap_pw_hash("x", &huge, &phc), AP_ERR_INVAL);
		ck_assert_int_eq(ap_pw_hash("x", &zero, &phc), AP_ERR_INVAL);
		ck_assert_ptr_null(phc);
	}
}
END_TEST

START_TEST(test_dummy_costs_a_hash)
{
	/* Nothing to observe but that it runs the KDF without crashing or leaking. */
	ap_pw_verify_dummy("whatever", &cheap);
	ap_pw_verify_dummy(NULL, NULL);
}
END_TEST

/* "كلمةسرطويلةجدا" is 14 code points in 28 bytes; "كلمةسرطويلة" is 11 in 22. */
static const struct {
	const char *pw, *user;
	size_t min;
	const char *reason; /* NULL: accepted */
} policy_rows[] = {
	{ "Xq7#pL2@wZ9!", "admin", 12, NULL },
	{ "كلمةسرطويلةجدا", "admin", 12, NULL },
	{ "كلمةسرطويلة", "admin", 12, "must be at least 12 characters" },
	{ "Xq7#pL2@wZ9", "admin", 12, "must be at least 12 characters" },
	{ "Xq7#pL2@wZ9", "admin", 11, NULL },
	{ "Xq7#pL2@wZ9", "admin", 16, "must be at least 16 characters" },
	{ "", "admin", 12, "must not be empty" },
	{ "Operator-Jane-1", "operator-jane-1", 12, "must not be the username" },
	{ "OPERATOR-JANE-1", "Operator-Jane-1", 12, "must not be the username" },
	{ "operator-jane-12", "operator-jane-1", 12, NULL },
	{ "Password123", "admin", 8, "must not be a commonly used password" },
	{ "PASSWORD123", "admin", 8, "must not be a commonly used password" },
	{ "aapanel", "admin", 6, "must not be a commonly used password" },
	{ "admin@123", "root", 6, "must not be a commonly used password" },
	{ "1qaz2wsx3edc", "root", 12, "must not be a commonly used password" },
	{ "Xq7#pL2\n@wZ9!", "admin", 12, "must not contain control characters" },
	{ "Xq7#pL2\t@wZ9!", "admin", 12, "must not contain control characters" },
	{ "Xq7#pL2\x7f@wZ9!", "admin", 12, "must not contain control characters" },
	{ "Xq7#pL2\xc2\x85@wZ9!", "admin", 12, "must not contain control characters" },
	{ "Xq7#pL2\xff@wZ9!", "admin", 12, "must be valid UTF-8" },
	{ "Xq7#pL2\xc3@wZ9!", "admin", 12, "must be valid UTF-8" },
	{ "Xq7#pL2\xc0\xaf@wZ9!", "admin", 12, "must be valid UTF-8" },
	{ "Xq7#pL2@wZ9!", NULL, 12, NULL },
};

START_TEST(test_policy_table)
{
	struct ap_problem pb = { 0 };
	bool ok = ap_pw_check_policy(policy_rows[_i].pw, policy_rows[_i].user, policy_rows[_i].min,
	    "password", &pb);
	const char *r = ok ? NULL : pb.reason;

	/* The problem names the field, and its msgid translates with the minimum as argument. */
	if (!ok) {
		ck_assert_str_eq(pb.field, "password");
		ck_assert_int_eq(pb.code, AP_PB_INVALID);
	}

	if (policy_rows[_i].reason == NULL)
		ck_assert_msg(r == NULL, "row %d refused: %s", _i, r);
	else
		ck_assert_msg(r != NULL && strcmp(r, policy_rows[_i].reason) == 0,
		    "row %d: got %s", _i, r ? r : "(accepted)");
}
END_TEST

START_TEST(test_policy_byte_limit)
{
	char *pw = malloc(AP_PW_MAX_BYTES + 2);
	size_t i;

	/* A varied string, so only the length can be the reason. */
	for (i = 0; i < AP_PW_MAX_BYTES + 1; i++)
		pw[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[i % 36];
	pw[AP_PW_MAX_BYTES + 1] = '\0';
	{
		struct ap_problem pb = { 0 };

		ck_assert(!ap_pw_check_policy(pw, "admin", 12, "password", &pb));
		ck_assert_str_eq(pb.reason, "must be at most 1024 bytes");
	}
	pw[AP_PW_MAX_BYTES] = '\0';
	ck_assert(ap_pw_check_policy(pw, "admin", 12, "password", NULL));
	free(pw);
}
END_TEST

static const struct {
	const char *pw;
	bool common;
} common_rows[] = {
	{ "123456", true },
	{ "password", true },
	{ "PassWord", true },
	{ "qwerty", true },
	{ "12345678", true },
	{ "111111", true },
	{ "iloveyou", true },
	{ "letmein", true },
	{ "monkey", true },
	{ "dragon", true },
	{ "trustno1", true },
	{ "1q2w3e4r", true },
	{ "Passw0rd", true },
	{ "aapanel", true },
	{ "bt.cn", true },
	{ "toor", true },
	{ "changeme", true },
	{ "Administrator", true },
	{ "P@ssw0rd", true },
	{ "admin@123", true },
	{ "password123", true },
	{ "qwerty123", true },
	{ "zaq12wsx", true },
	{ "1qaz2wsx", true },
	{ "123qwe", true },
	{ "v7#Kq!2mZp@9wLx", false },
	{ "correct horse battery staple", false },
	{ "كلمةسرطويلةجدا", false },
	{ "Tr0ub4dor&3-aaPanel-9", false },
	{ "mY-h0st1ng-p4nel-2024!", false },
	{ "", false },
	{ "password ", false },
};

START_TEST(test_is_common_table)
{
	ck_assert_msg(ap_pw_is_common(common_rows[_i].pw) == common_rows[_i].common, "row %d (%s)",
	    _i, common_rows[_i].pw);
}
END_TEST

/* bsearch silently misses rows that are out of order: prove the data sorted and clean. */
START_TEST(test_common_list_sorted_lowercase_unique)
{
	const char *prev = NULL, *row, *c;
	size_t i;

	for (i = 0; (row = ap_pw_common_row(i)) != NULL; i++) {
		ck_assert_msg(row[0] != '\0', "row %zu empty", i);
		ck_assert_msg(strlen(row) < 64, "row %zu (%s) too long for the lookup", i, row);
		for (c = row; *c != '\0'; c++)
			ck_assert_msg(!(*c >= 'A' && *c <= 'Z') && (unsigned char)*c > 0x20 &&
				(unsigned char)*c < 0x7f,
			    "row %zu (%s) not lowercase printable ASCII", i, row);
		if (prev != NULL)
			ck_assert_msg(strcmp(prev, row) < 0, "row %zu (%s) not after %s", i, row, prev);
		ck_assert_msg(ap_pw_is_common(row), "row %zu (%s) not found", i, row);
		prev = row;
	}
	ck_assert_uint_ge(i, 1000);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("password");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	/* Argon2 at 64 MiB under ASan takes seconds, not the default 4. */
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_hash_verify_default_params);
	tcase_add_test(tc, test_null_params_mean_default);
	tcase_add_test(tc, test_salt_makes_hashes_differ);
	tcase_add_loop_test(tc, test_rehash_flag, 0, (int)AP_NELEM(rehash_rows));
	tcase_add_loop_test(tc, test_known_answer, 0, (int)AP_NELEM(kat_rows));
	tcase_add_test(tc, test_version_10_asks_rehash);
	tcase_add_loop_test(tc, test_malformed_phc_refused, 0, (int)AP_NELEM(bad_phc));
	tcase_add_test(tc, test_null_and_long_inputs);
	tcase_add_test(tc, test_dummy_costs_a_hash);
	tcase_add_loop_test(tc, test_policy_table, 0, (int)AP_NELEM(policy_rows));
	tcase_add_test(tc, test_policy_byte_limit);
	tcase_add_loop_test(tc, test_is_common_table, 0, (int)AP_NELEM(common_rows));
	tcase_add_test(tc, test_common_list_sorted_lowercase_unique);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
