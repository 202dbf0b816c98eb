/*
 * password.h — password hashing (argon2id via libargon2, parameters kept in
 * the PHC string so they can be raised later) and the password policy.
 */
#ifndef AAPANEL_PASSWORD_H
#define AAPANEL_PASSWORD_H

#include "aapanel/common.h"
#include "aapanel/problem.h"

struct ap_pw_params {
	uint32_t m_kib; /* memory in KiB */
	uint32_t t;     /* iterations */
	uint32_t p;     /* lanes */
};

/* OWASP minimum for argon2id: m = 19 MiB, t = 2, p = 1. */
extern const struct ap_pw_params ap_pw_default;

/*
 * Hash pw with a fresh 16-byte salt into a PHC string
 * "$argon2id$v=19$m=19456,t=2,p=1$<salt b64>$<hash b64>" (malloc'd, free()).
 */
enum ap_err ap_pw_hash(const char *pw, const struct ap_pw_params *prm, char **out);
/*
 * Verify pw against phc in constant time. *rehash (may be NULL) is set when
 * the stored parameters differ from want, so the caller re-hashes after a
 * successful login. Malformed phc → false.
 */
bool ap_pw_verify(const char *pw, const char *phc, const struct ap_pw_params *want, bool *rehash);
/* Spend the same time as a verify, for unknown users (no user enumeration by timing). */
void ap_pw_verify_dummy(const char *pw, const struct ap_pw_params *prm);
/*
 * The password policy: not empty, at most 1024 bytes of valid UTF-8 without
 * control characters, at least min_len characters (code points), not the
 * username (ASCII case-insensitive), not in the bundled list of common
 * passwords. Returns true when pw passes; otherwise false with pb filled
 * (AP_PB_INVALID, field, the rule it broke, e.g. "must be at least %zu
 * characters"). pb may be NULL.
 */
bool ap_pw_check_policy(const char *pw, const char *username, size_t min_len, const char *field,
    struct ap_problem *pb);
/* True when pw (case-insensitive) is in the bundled list of common passwords. */
bool ap_pw_is_common(const char *pw);

/* Longest password accepted by the policy, ap_pw_hash and ap_pw_verify, in bytes. */
#define AP_PW_MAX_BYTES 1024

/*
 * Row i of the bundled common list (src/pwlist.c), NULL past the end. For the
 * unit test that proves the list sorted, lowercase and unique. Static storage.
 */
const char *ap_pw_common_row(size_t i);

#endif
