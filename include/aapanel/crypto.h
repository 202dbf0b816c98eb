/*
 * crypto.h — the few primitives the panel needs, from OpenSSL's libcrypto:
 * SHA-256, HMAC-SHA-256 (tokens, session ids and recovery codes are stored
 * as keyed hashes), and constant-time comparison.
 */
#ifndef AAPANEL_CRYPTO_H
#define AAPANEL_CRYPTO_H

#include "aapanel/common.h"

/*
 * Lowercase hex SHA-256 of p[0..n) into out (65 bytes with NUL); p may be
 * NULL when n is 0. Never fails: if libcrypto cannot compute it the
 * process aborts, since a placeholder digest could compare equal.
 */
void ap_sha256_hex(const void *p, size_t n, char out[65]);
/* Lowercase hex HMAC-SHA-256(key, p[0..n)) into out; NULL key = empty key. Never fails (above). */
void ap_hmac_sha256_hex(const void *key, size_t keylen, const void *p, size_t n, char out[65]);
/* Constant-time equality of two n-byte buffers (true for n = 0). */
bool ap_ct_equal(const void *a, const void *b, size_t n);
/*
 * Constant-time equality of two strings: the time depends on their lengths
 * only, not on where they differ. A NULL argument equals nothing, not even
 * another NULL.
 */
bool ap_ct_streq(const char *a, const char *b);

#endif
