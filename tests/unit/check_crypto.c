/* check_crypto.c — SHA-256 (FIPS 180-2), HMAC-SHA-256 (RFC 4231), constant-time equality. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "aapanel/crypto.h"

static const struct {
	const char *in, *hex;
} sha_rows[] = {
	{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
	{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	{ "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlm"
	  "nopqrsmnopqrstnopqrstu",
	    "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
};

START_TEST(test_sha256_vectors)
{
	char out[65];

	ap_sha256_hex(sha_rows[_i].in, strlen(sha_rows[_i].in), out);
	ck_assert_str_eq(out, sha_rows[_i].hex);
}
END_TEST

START_TEST(test_sha256_million_a)
{
	char *a = malloc(1000000), out[65];

	ck_assert_ptr_nonnull(a);
	memset(a, 'a', 1000000);
	ap_sha256_hex(a, 1000000, out);
	ck_assert_str_eq(out, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(a);
}
END_TEST

/* RFC 4231 section 4: keys and data given as (byte, count) runs or literal text. */
struct hmac_row {
	unsigned char key[131];
	size_t keylen;
	const char *data;
	unsigned char fill;
	size_t datalen;
	const char *hex;
};

static struct hmac_row hmac_rows[7];

static void
hmac_setup(void)
{
	static const char big[] = "This is a test using a larger than block-size key and a larger "
				  "than block-size data. The key needs to be hashed before being "
				  "used by the HMAC algorithm.";
	struct hmac_row *r = hmac_rows;
	size_t i;

	memset(hmac_rows, 0, sizeof(hmac_rows));
	/* Case 1 */
	memset(r->key, 0x0b, 20);
	r->keylen = 20;
	r->data = "Hi There";
	r->hex = "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7";
	r++;
	/* Case 2: key shorter than the output */
	memcpy(r->key, "Jefe", 4);
	r->keylen = 4;
	r->data = "what do ya want for nothing?";
	r->hex = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
	r++;
	/* Case 3: 50 bytes 0xdd */
	memset(r->key, 0xaa, 20);
	r->keylen = 20;
	r->fill = 0xdd;
	r->datalen = 50;
	r->hex = "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe";
	r++;
	/* Case 4: key 0x01..0x19, 50 bytes 0xcd */
	for (i = 0; i < 25; i++)
		r->key[i] = (unsigned char)(i + 1);
	r->keylen = 25;
	r->fill = 0xcd;
	r->datalen = 50;
	r->hex = "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b";
	r++;
	/* Case 6: key longer than the block size */
	memset(r->key, 0xaa, 131);
	r->keylen = 131;
	r->data = "Test Using Larger Than Block-Size Key - Hash Key First";
	r->hex = "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54";
	r++;
	/* Case 7 */
	memset(r->key, 0xaa, 131);
	r->keylen = 131;
	r->data = big;
	r->hex = "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2";
	r++;
	/* Empty key and message (a common keyed-hash edge), checked with openssl mac and Python hmac. */
	r->keylen = 0;
	r->data = "";
	r->hex = "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad";
}

/* The context kept for the last key is never used for another: A, B, A, then A again. */
START_TEST(test_hmac_sha256_key_changes)
{
	char a1[65], b1[65], a2[65], a3[65], a0[65];

	ap_hmac_sha256_hex("key A", 5, "message", 7, a1);
	ap_hmac_sha256_hex("key B", 5, "message", 7, b1);
	ap_hmac_sha256_hex("key A", 5, "message", 7, a2);
	ap_hmac_sha256_hex("key A", 5, "message", 7, a3);
	ap_hmac_sha256_hex("key A", 4, "message", 7, a0); /* a prefix of the kept key is another key */
	ck_assert_str_ne(a1, b1);
	ck_assert_str_eq(a1, a2);
	ck_assert_str_eq(a1, a3);
	ck_assert_str_ne(a1, a0);
	/* openssl mac -digest SHA256 -macopt key:"key A" HMAC <<< -n message */
	ck_assert_str_eq(a1, "ad726c28ba6416726eaa02868e057f7b4fa0b9800860d677bedcb988bb21e4ae");
}
END_TEST

START_TEST(test_hmac_sha256_rfc4231)
{
	const struct hmac_row *r = &hmac_rows[_i];
	unsigned char data[50];
	char out[65];

	if (r->data != NULL) {
		ap_hmac_sha256_hex(r->key, r->keylen, r->data, strlen(r->data), out);
	} else {
		memset(data, r->fill, r->datalen);
		ap_hmac_sha256_hex(r->key, r->keylen, data, r->datalen, out);
	}
	ck_assert_str_eq(out, r->hex);
}
END_TEST

static const struct {
	const char *a, *b;
	size_t n;
	bool eq;
} ct_rows[] = {
	{ "abcdef", "abcdef", 6, true },
	{ "abcdef", "xbcdef", 6, false }, /* first byte */
	{ "abcdef", "abcdex", 6, false }, /* last byte */
	{ "abcdef", "abcdef", 0, true },  /* empty: nothing differs */
	{ "\x00\x01", "\x00\x02", 2, false },
	{ "\x80\x00", "\x80\x00", 2, true },
};

START_TEST(test_ct_equal_table)
{
	ck_assert(ap_ct_equal(ct_rows[_i].a, ct_rows[_i].b, ct_rows[_i].n) == ct_rows[_i].eq);
}
END_TEST

static const struct {
	const char *a, *b;
	bool eq;
} streq_rows[] = {
	{ "token-1234", "token-1234", true },
	{ "token-1234", "Token-1234", false }, /* first byte */
	{ "token-1234", "token-1235", false }, /* last byte */
	{ "token", "token-1234", false },      /* prefix, shorter first */
	{ "token-1234", "token", false },      /* prefix, longer first */
	{ "", "", true },
	{ "", "a", false },
	{ "a", "", false },
	{ "é", "e", false },
	{ NULL, "a", false },
	{ "a", NULL, false },
};

START_TEST(test_ct_streq_table)
{
	ck_assert(ap_ct_streq(streq_rows[_i].a, streq_rows[_i].b) == streq_rows[_i].eq);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("crypto");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_unchecked_fixture(tc, hmac_setup, NULL);
	tcase_add_loop_test(tc, test_sha256_vectors, 0, (int)AP_NELEM(sha_rows));
	tcase_add_test(tc, test_sha256_million_a);
	tcase_add_loop_test(tc, test_hmac_sha256_rfc4231, 0, (int)AP_NELEM(hmac_rows));
	tcase_add_test(tc, test_hmac_sha256_key_changes);
	tcase_add_loop_test(tc, test_ct_equal_table, 0, (int)AP_NELEM(ct_rows));
	tcase_add_loop_test(tc, test_ct_streq_table, 0, (int)AP_NELEM(streq_rows));
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
