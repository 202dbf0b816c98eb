/*
 * crypto.c — SHA-256, HMAC-SHA-256 and constant-time comparison on top of
 * OpenSSL's libcrypto.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>

#include "aapanel/crypto.h"

static void
to_hex(const unsigned char *md, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[2 * n] = '\0';
}

/*
 * libcrypto fails here only when it cannot allocate or its provider is
 * missing. The functions return void and their output is compared against
 * stored digests, so a placeholder could make two failures compare equal:
 * abort instead, as the ap_x* allocators do.
 */
static void
die(const char *what)
{
	fprintf(stderr, "aapanel: %s failed in libcrypto\n", what);
	abort();
}

void
ap_sha256_hex(const void *p, size_t n, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	static const unsigned char empty;

	if (p == NULL)
		p = &empty;
	if (EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
		die("SHA-256");
	to_hex(md, mdlen, out);
}

/*
 * HMAC() fetches the algorithm from the provider on every call (EVP_Q_mac):
 * that was a twentieth of a page view, which checks the session cookie's
 * HMAC. The algorithm is fetched once per process, and a context keyed
 * with the last key used (the panel's secret key, on every request) is
 * kept: a call copies it, feeds the message and takes the digest.
 */
static EVP_MAC *hmac_alg;
static EVP_MAC_CTX *hmac_keyed;
static unsigned char *hmac_key;
static size_t hmac_keylen;

static EVP_MAC_CTX *
hmac_context(const void *key, size_t keylen)
{
	OSSL_PARAM params[] = { OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
		OSSL_PARAM_construct_end() };

	if (hmac_keyed != NULL && keylen == hmac_keylen && CRYPTO_memcmp(key, hmac_key, keylen) == 0)
		return hmac_keyed;
	if (hmac_alg == NULL && (hmac_alg = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL)
		die("HMAC-SHA-256 (fetch)");
	EVP_MAC_CTX_free(hmac_keyed);
	if (hmac_key != NULL)
		OPENSSL_clear_free(hmac_key, hmac_keylen);
	hmac_key = NULL;
	hmac_keylen = 0;
	if ((hmac_keyed = EVP_MAC_CTX_new(hmac_alg)) == NULL ||
	    EVP_MAC_init(hmac_keyed, key, keylen, params) != 1)
		die("HMAC-SHA-256 (key)");
	if ((hmac_key = OPENSSL_memdup(key, keylen)) == NULL)
		die("HMAC-SHA-256 (key copy)");
	hmac_keylen = keylen;
	return hmac_keyed;
}

void
ap_hmac_sha256_hex(const void *key, size_t keylen, const void *p, size_t n, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t outl = 0;
	static const unsigned char empty;
	EVP_MAC_CTX *c;

	/* A NULL key means "keep the previous key" to parts of the HMAC API; never pass one. */
	if (key == NULL)
		key = &empty;
	if (p == NULL)
		p = &empty;
	if (keylen > INT_MAX)
		die("HMAC-SHA-256 (key too long)");
	if (keylen == 0) { /* EVP_MAC_init refuses an empty key; HMAC() takes it */
		if (HMAC(EVP_sha256(), key, 0, p, n, md, &mdlen) == NULL || mdlen != 32)
			die("HMAC-SHA-256");
		to_hex(md, mdlen, out);
		OPENSSL_cleanse(md, sizeof(md));
		return;
	}
	if ((c = EVP_MAC_CTX_dup(hmac_context(key, keylen))) == NULL || EVP_MAC_update(c, p, n) != 1 ||
	    EVP_MAC_final(c, md, &outl, sizeof(md)) != 1 || outl != 32)
		die("HMAC-SHA-256");
	EVP_MAC_CTX_free(c);
	to_hex(md, outl, out);
	OPENSSL_cleanse(md, sizeof(md));
}

bool
ap_ct_equal(const void *a, const void *b, size_t n)
{
	if (n == 0)
		return true;
	return CRYPTO_memcmp(a, b, n) == 0;
}

/*
 * Walks max(len a, len b) + 1 bytes whatever the contents: past its end a
 * string contributes its NUL (the index is clamped, never read out of
 * bounds), and every byte is folded into diff without an early exit, so
 * neither the position of the first difference nor the shorter length
 * shows in the running time beyond the strlen() of each input. A NULL
 * argument equals nothing, not even another NULL.
 */
bool
ap_ct_streq(const char *a, const char *b)
{
	const volatile unsigned char *ua, *ub;
	size_t la, lb, len, i;
	unsigned int diff;

	if (a == NULL || b == NULL)
		return false;
	ua = (const volatile unsigned char *)a;
	ub = (const volatile unsigned char *)b;
	la = strlen(a);
	lb = strlen(b);
	len = la > lb ? la : lb;
	diff = (la != lb);
	for (i = 0; i < len; i++) {
		size_t ia = i < la ? i : la;
		size_t ib = i < lb ? i : lb;

		diff |= ua[ia] ^ ub[ib];
	}
	return diff == 0;
}
