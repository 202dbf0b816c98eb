/*
 * check_certcheck.c — the PEM and upload checks of certcheck.h, on
 * certificates made here with OpenSSL (EC P-256 keys: fast): a root, an
 * intermediate and leaves signed by it; each refusal names its field with
 * its reason, and nothing of a key is ever in a reason.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "aapanel/certcheck.h"

#define DAY 86400L
/* The fixtures are made before the tests run: a failure there stops the suite. */
#define NEED(c) do { if (!(c)) { fprintf(stderr, "check_certcheck: fixture: %s\n", #c); exit(1); } } while (0)

/* PEM texts made once in main (the forked tests inherit them). */
static char root_pem[4096], int_pem[4096], leaf_pem[4096], leaf_key[1024], other_key[1024],
    enc_key[1024], wild_pem[4096], wild_key[1024], cn_only_pem[4096], cn_only_key[1024];
static int64_t leaf_from, leaf_to;
static char leaf_serial[80];

static EVP_PKEY *
key_new(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

	NEED(k != NULL);
	return k;
}

static void
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX c;
	X509_EXTENSION *e;

	X509V3_set_ctx_nodb(&c);
	X509V3_set_ctx(&c, issuer, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &c, nid, value);
	NEED(e != NULL);
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
}

/* A certificate for key, signed by ikey (issuer: its subject; NULL: self-signed). */
static X509 *
cert_new(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *ikey, long from, long to,
    const char *san, bool ca, long serial)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_get_subject_name(x);

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_gmtime_adj(X509_getm_notBefore(x), from);
	X509_gmtime_adj(X509_getm_notAfter(x), to);
	X509_set_pubkey(x, key);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
	if (san != NULL)
		add_ext(x, issuer ? issuer : x, NID_subject_alt_name, san);
	if (ca)
		add_ext(x, issuer ? issuer : x, NID_basic_constraints, "critical,CA:TRUE");
	NEED(X509_sign(x, ikey ? ikey : key, EVP_sha256()) > 0);
	return x;
}

static void
pem_of(BIO *b, char *out, size_t n)
{
	char *p = NULL;
	long l = BIO_get_mem_data(b, &p);

	NEED(l > 0 && l < (long)n);
	memcpy(out, p, (size_t)l);
	out[l] = '\0';
	BIO_free(b);
}

static void
cert_pem(X509 *x, char *out, size_t n)
{
	BIO *b = BIO_new(BIO_s_mem());

	PEM_write_bio_X509(b, x);
	pem_of(b, out, n);
}

static void
key_pem(EVP_PKEY *k, char *out, size_t n, bool encrypted)
{
	BIO *b = BIO_new(BIO_s_mem());

	if (encrypted)
		PEM_write_bio_PrivateKey(b, k, EVP_aes_128_cbc(), (unsigned char *)"secret", 6, NULL, NULL);
	else
		PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
	pem_of(b, out, n);
}

static void
make_fixtures(void)
{
	EVP_PKEY *rk = key_new(), *ik = key_new(), *lk = key_new(), *ok = key_new(), *wk = key_new(),
		 *ck = key_new();
	X509 *root = cert_new(rk, "Unit Root", NULL, NULL, -DAY, 30 * DAY, NULL, true, 1);
	X509 *inter = cert_new(ik, "Unit Intermediate", root, rk, -DAY, 30 * DAY, NULL, true, 2);
	X509 *leaf = cert_new(lk, "a.test", inter, ik, -DAY, 20 * DAY, "DNS:a.test,DNS:www.a.test", false,
	    0x0A1B2C);
	X509 *wild = cert_new(wk, "*.w.test", inter, ik, -DAY, 20 * DAY, "DNS:*.w.test", false, 4);
	X509 *cn_only = cert_new(ck, "cn.test", inter, ik, -DAY, 20 * DAY, NULL, false, 5);
	struct ap_cert_info in;
	char why[256];

	cert_pem(root, root_pem, sizeof(root_pem));
	cert_pem(inter, int_pem, sizeof(int_pem));
	cert_pem(leaf, leaf_pem, sizeof(leaf_pem));
	cert_pem(wild, wild_pem, sizeof(wild_pem));
	cert_pem(cn_only, cn_only_pem, sizeof(cn_only_pem));
	key_pem(lk, leaf_key, sizeof(leaf_key), false);
	key_pem(ok, other_key, sizeof(other_key), false);
	key_pem(lk, enc_key, sizeof(enc_key), true);
	key_pem(wk, wild_key, sizeof(wild_key), false);
	key_pem(ck, cn_only_key, sizeof(cn_only_key), false);
	NEED(ap_cert_info_pem(leaf_pem, strlen(leaf_pem), &in, why, sizeof(why)) == AP_OK);
	leaf_from = in.not_before;
	leaf_to = in.not_after;
	snprintf(leaf_serial, sizeof(leaf_serial), "%s", in.serial);
	X509_free(root), X509_free(inter), X509_free(leaf), X509_free(wild), X509_free(cn_only);
	EVP_PKEY_free(rk), EVP_PKEY_free(ik), EVP_PKEY_free(lk), EVP_PKEY_free(ok), EVP_PKEY_free(wk),
	    EVP_PKEY_free(ck);
}

/* ---- ap_check_pem_text */

START_TEST(test_pem_text)
{
	static const char big[AP_CERT_PEM_MAX + 1] = { 0 };
	char buf[AP_CERT_PEM_MAX + 2];

	ck_assert_ptr_null(ap_check_pem_text(leaf_pem, strlen(leaf_pem)));
	ck_assert_ptr_null(ap_check_pem_text("a\tb\r\nc", 6));
	ck_assert_ptr_nonnull(ap_check_pem_text("a\0b", 3));
	ck_assert_ptr_nonnull(ap_check_pem_text("\x01", 1));
	ck_assert_ptr_nonnull(ap_check_pem_text("caf\xc3\xa9", 5));
	ck_assert_ptr_nonnull(ap_check_pem_text("\x7f", 1));
	memset(buf, 'a', sizeof(buf));
	ck_assert_ptr_null(ap_check_pem_text(buf, AP_CERT_PEM_MAX));
	ck_assert_str_eq(ap_check_pem_text(buf, AP_CERT_PEM_MAX + 1), "is too long for a PEM text");
	(void)big;
}
END_TEST

/* ---- ap_cert_info_pem */

START_TEST(test_info)
{
	struct ap_cert_info in;
	char why[256];
	char two[8192];

	ck_assert_int_eq(ap_cert_info_pem(leaf_pem, strlen(leaf_pem), &in, why, sizeof(why)), AP_OK);
	ck_assert_str_eq(in.names, "a.test www.a.test");
	ck_assert_str_eq(in.subject, "a.test");
	ck_assert_str_eq(in.issuer, "Unit Intermediate");
	ck_assert_str_eq(in.serial, "0A1B2C");
	ck_assert_int_lt(in.not_before, (int64_t)time(NULL));
	ck_assert_int_eq(in.not_after - in.not_before, 21 * DAY);
	/* The first certificate of a full chain. */
	snprintf(two, sizeof(two), "%s%s", leaf_pem, int_pem);
	ck_assert_int_eq(ap_cert_info_pem(two, strlen(two), &in, why, sizeof(why)), AP_OK);
	ck_assert_str_eq(in.subject, "a.test");
	/* No subjectAltName: the names are the CN. */
	ck_assert_int_eq(ap_cert_info_pem(cn_only_pem, strlen(cn_only_pem), &in, why, sizeof(why)), AP_OK);
	ck_assert_str_eq(in.names, "cn.test");
	ck_assert_int_eq(ap_cert_info_pem("garbage", 7, &in, why, sizeof(why)), AP_ERR_INVAL);
	ck_assert_int_eq(ap_cert_info_pem(leaf_key, strlen(leaf_key), &in, why, sizeof(why)), AP_ERR_INVAL);
	ck_assert_ptr_null(strstr(why, "PRIVATE"));
}
END_TEST

/* ---- ap_cert_check_upload: one row per case */

enum { NOW_OK, NOW_EXPIRED, NOW_EARLY };

static const struct {
	const char *name;
	const char *cert[3]; /* concatenated: the cert field */
	const char *key;
	const char *chain[3]; /* concatenated: the chain field */
	const char *names;
	int now;
	const char *field; /* NULL: accepted */
	const char *reason;
} rows[] = {
	{ "leaf, key, chain", { "leaf" }, "leaf", { "int" }, "a.test www.a.test", NOW_OK, NULL, NULL },
	{ "full chain in cert", { "leaf", "int" }, "leaf", { NULL }, "a.test", NOW_OK, NULL, NULL },
	{ "chain up to the root", { "leaf" }, "leaf", { "int", "root" }, "www.a.test", NOW_OK, NULL, NULL },
	{ "no chain", { "leaf" }, "leaf", { NULL }, "a.test", NOW_OK, NULL, NULL },
	{ "no names asked", { "leaf" }, "leaf", { NULL }, "", NOW_OK, NULL, NULL },
	{ "empty cert", { "" }, "leaf", { NULL }, "a.test", NOW_OK, "cert", "is required" },
	{ "garbage cert", { "garbage" }, "leaf", { NULL }, "a.test", NOW_OK, "cert", "is not a PEM certificate" },
	{ "a key as the cert", { "key" }, "leaf", { NULL }, "a.test", NOW_OK, "cert", "is not a PEM certificate" },
	{ "binary cert", { "binary" }, "leaf", { NULL }, "a.test", NOW_OK, "cert", "is not PEM text" },
	{ "garbage chain", { "leaf" }, "leaf", { "garbage" }, "a.test", NOW_OK, "chain", "is not PEM certificates" },
	{ "no key", { "leaf" }, "", { NULL }, "a.test", NOW_OK, "key", "is required" },
	{ "garbage key", { "leaf" }, "garbage", { NULL }, "a.test", NOW_OK, "key", "is not a PEM private key" },
	{ "encrypted key", { "leaf" }, "encrypted", { NULL }, "a.test", NOW_OK, "key", "encrypted" },
	{ "another key", { "leaf" }, "other", { NULL }, "a.test", NOW_OK, "key", "does not match the certificate" },
	{ "chain reversed", { "leaf" }, "leaf", { "root", "int" }, "a.test", NOW_OK, "chain",
	    "is in the wrong order: certificate 3 must come right after the one it signs (certificate 1)" },
	{ "chain without the intermediate", { "leaf" }, "leaf", { "root" }, "a.test", NOW_OK, "chain",
	    "is in the wrong order or incomplete: certificate 1" },
	{ "chain first", { "int", "leaf" }, "leaf", { NULL }, "a.test", NOW_OK, "key", "does not match" },
	{ "expired", { "leaf" }, "leaf", { "int" }, "a.test", NOW_EXPIRED, "cert", "expired on " },
	{ "not yet valid", { "leaf" }, "leaf", { "int" }, "a.test", NOW_EARLY, "cert", "is not valid before " },
	{ "an alias not covered", { "leaf" }, "leaf", { "int" }, "a.test b.a.test", NOW_OK, "cert",
	    "does not cover b.a.test (it is for: a.test www.a.test)" },
	{ "the domain not covered", { "leaf" }, "leaf", { NULL }, "b.test", NOW_OK, "cert", "does not cover b.test" },
	{ "wildcard covers one label", { "wild" }, "wild", { "int" }, "x.w.test www.w.test", NOW_OK, NULL, NULL },
	{ "wildcard not the bare domain", { "wild" }, "wild", { NULL }, "w.test", NOW_OK, "cert", "does not cover w.test" },
	{ "wildcard not two labels", { "wild" }, "wild", { NULL }, "a.b.w.test", NOW_OK, "cert", "does not cover a.b.w.test" },
	{ "CN only", { "cn" }, "cn", { NULL }, "cn.test", NOW_OK, NULL, NULL },
};

static const char *
pem_named(const char *n)
{
	if (n == NULL)
		return "";
	if (strcmp(n, "leaf") == 0)
		return leaf_pem;
	if (strcmp(n, "int") == 0)
		return int_pem;
	if (strcmp(n, "root") == 0)
		return root_pem;
	if (strcmp(n, "wild") == 0)
		return wild_pem;
	if (strcmp(n, "cn") == 0)
		return cn_only_pem;
	if (strcmp(n, "key") == 0)
		return leaf_key;
	if (strcmp(n, "binary") == 0)
		return "-----BEGIN CERTIFICATE-----\n\x80\x81\n-----END CERTIFICATE-----\n";
	if (strcmp(n, "garbage") == 0)
		return "this is not a certificate\n";
	return n;
}

static const char *
key_named(const char *n)
{
	if (strcmp(n, "leaf") == 0)
		return leaf_key;
	if (strcmp(n, "other") == 0)
		return other_key;
	if (strcmp(n, "encrypted") == 0)
		return enc_key;
	if (strcmp(n, "wild") == 0)
		return wild_key;
	if (strcmp(n, "cn") == 0)
		return cn_only_key;
	if (strcmp(n, "garbage") == 0)
		return "not a key\n";
	return n;
}

static size_t
count_certs(const char *s)
{
	size_t n = 0;

	for (const char *p = s; (p = strstr(p, "-----BEGIN CERTIFICATE-----")) != NULL; p++)
		n++;
	return n;
}

START_TEST(test_upload_rows)
{
	static char cert[16384], chain[16384];
	struct ap_cert_info in;
	struct ap_buf full = { 0 };
	const char *field = "unset", *key = key_named(rows[_i].key);
	char why[512] = "";
	int64_t now = rows[_i].now == NOW_EXPIRED ? leaf_to + 1
	    : rows[_i].now == NOW_EARLY		  ? leaf_from - 1
						  : (int64_t)time(NULL);
	enum ap_err rc;

	cert[0] = chain[0] = '\0';
	for (int k = 0; k < 3 && rows[_i].cert[k]; k++)
		strcat(cert, pem_named(rows[_i].cert[k]));
	for (int k = 0; k < 3 && rows[_i].chain[k]; k++)
		strcat(chain, pem_named(rows[_i].chain[k]));
	rc = ap_cert_check_upload(cert, strlen(cert), key, strlen(key), chain, strlen(chain), rows[_i].names,
	    now, &in, &full, &field, why, sizeof(why));
	if (rows[_i].field == NULL) {
		ck_assert_msg(rc == AP_OK, "%s: refused: %s: %s", rows[_i].name, field ? field : "-", why);
		ck_assert_ptr_null(field);
		/* The full chain: the certificate first, then each issuer, as many as were given. */
		ck_assert_uint_eq(count_certs(ap_buf_cstr(&full)), count_certs(cert) + count_certs(chain));
		ck_assert_ptr_nonnull(strstr(ap_buf_cstr(&full), pem_named(rows[_i].cert[0])));
		ck_assert_ptr_null(strstr(ap_buf_cstr(&full), "PRIVATE KEY"));
	} else {
		ck_assert_msg(rc == AP_ERR_INVAL, "%s: accepted", rows[_i].name);
		ck_assert_msg(field != NULL && strcmp(field, rows[_i].field) == 0, "%s: field %s, wanted %s (%s)",
		    rows[_i].name, field ? field : "NULL", rows[_i].field, why);
		ck_assert_msg(strstr(why, rows[_i].reason) != NULL, "%s: reason '%s', wanted '%s'", rows[_i].name,
		    why, rows[_i].reason);
		ck_assert_uint_eq(full.len, 0);
	}
	ck_assert_ptr_null(strstr(why, "PRIVATE"));
	ap_buf_free(&full);
}
END_TEST

START_TEST(test_upload_info)
{
	struct ap_cert_info in;
	const char *field;
	char why[256];

	ck_assert_int_eq(ap_cert_check_upload(leaf_pem, strlen(leaf_pem), leaf_key, strlen(leaf_key), int_pem,
			     strlen(int_pem), "a.test", (int64_t)time(NULL), &in, NULL, &field, why, sizeof(why)),
	    AP_OK);
	ck_assert_str_eq(in.serial, leaf_serial);
	ck_assert_str_eq(in.issuer, "Unit Intermediate");
	ck_assert_str_eq(in.names, "a.test www.a.test");
	/* At the second it ends it is expired; the second before, valid. */
	ck_assert_int_eq(ap_cert_check_upload(leaf_pem, strlen(leaf_pem), leaf_key, strlen(leaf_key), NULL, 0,
			     "a.test", leaf_to - 1, &in, NULL, &field, why, sizeof(why)),
	    AP_OK);
	ck_assert_int_eq(ap_cert_check_upload(leaf_pem, strlen(leaf_pem), leaf_key, strlen(leaf_key), NULL, 0,
			     "a.test", leaf_to, &in, NULL, &field, why, sizeof(why)),
	    AP_ERR_INVAL);
}
END_TEST

/* More than 8 certificates in either field is refused, also when the other has a few. */
START_TEST(test_too_many)
{
	static char many[16384 * 2];
	struct ap_cert_info in;
	const char *field;
	char why[256];

	snprintf(many, sizeof(many), "%s", leaf_pem);
	for (int i = 0; i < 8; i++)
		strcat(many, int_pem);
	ck_assert_int_eq(ap_cert_check_upload(many, strlen(many), leaf_key, strlen(leaf_key), NULL, 0, "a.test",
			     (int64_t)time(NULL), &in, NULL, &field, why, sizeof(why)),
	    AP_ERR_INVAL);
	ck_assert_str_eq(field, "cert");
	ck_assert_ptr_nonnull(strstr(why, "more than 8 certificates"));
	ck_assert_int_eq(ap_cert_check_upload(many, strlen(many), leaf_key, strlen(leaf_key), root_pem,
			     strlen(root_pem), "a.test", (int64_t)time(NULL), &in, NULL, &field, why, sizeof(why)),
	    AP_ERR_INVAL);
	ck_assert_str_eq(field, "cert");
	ck_assert_ptr_nonnull(strstr(why, "more than 8 certificates"));
	/* In the chain field: 8 are counted (refused for their order only), 9 are too many. */
	ck_assert_int_eq(ap_cert_check_upload(leaf_pem, strlen(leaf_pem), leaf_key, strlen(leaf_key),
			     many + strlen(leaf_pem), strlen(many) - strlen(leaf_pem), "a.test", (int64_t)time(NULL),
			     &in, NULL, &field, why, sizeof(why)),
	    AP_ERR_INVAL);
	ck_assert_ptr_null(strstr(why, "more than"));
	strcat(many, int_pem);
	ck_assert_int_eq(ap_cert_check_upload(leaf_pem, strlen(leaf_pem), leaf_key, strlen(leaf_key),
			     many + strlen(leaf_pem), strlen(many) - strlen(leaf_pem), "a.test", (int64_t)time(NULL),
			     &in, NULL, &field, why, sizeof(why)),
	    AP_ERR_INVAL);
	ck_assert_str_eq(field, "chain");
	ck_assert_ptr_nonnull(strstr(why, "more than 8 certificates"));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("certcheck");
	TCase *tc = tcase_create("checks");
	SRunner *sr;
	int failed;

	make_fixtures();
	tcase_add_test(tc, test_pem_text);
	tcase_add_test(tc, test_info);
	tcase_add_loop_test(tc, test_upload_rows, 0, (int)(sizeof(rows) / sizeof(rows[0])));
	tcase_add_test(tc, test_upload_info);
	tcase_add_test(tc, test_too_many);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
