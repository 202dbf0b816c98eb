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
 * "$argon2id$v=19$m=19456,t=2,p=1$<salt b64>$<hash b64>" (*out owned,
 * free()); prm NULL = ap_pw_default. AP_ERR_INVAL for a NULL pw or out,
 * parameters the verifier would refuse (m 8 KiB..1 GiB and >= 8p, t and p
 * 1..64) or an argon2 failure; AP_ERR_TOOBIG for more than
 * AP_PW_MAX_BYTES; AP_ERR_IO without randomness; AP_ERR_UNAVAIL when
 * argon2 cannot get its memory. *out is NULL on failure.
 */
enum ap_err ap_pw_hash(const char *pw, const struct ap_pw_params *prm, char **out);
/*
 * Verify pw against phc (argon2 recomputes the hash and compares in
 * constant time); want NULL = ap_pw_default. *rehash (may be NULL) is false
 * unless the password is right and the hash is not argon2id v=19 with
 * exactly want's parameters, so the caller re-hashes after a successful
 * login. False for a wrong password, a NULL argument, a pw over
 * AP_PW_MAX_BYTES, or a malformed phc or one with out-of-bounds parameters
 * (those are refused without hashing).
 */
bool ap_pw_verify(const char *pw, const char *phc, const struct ap_pw_params *want, bool *rehash);
/*
 * Spend the same time as a verify with prm (NULL = default), for unknown
 * users (no user enumeration by timing). Hashes nothing where ap_pw_verify
 * would refuse without hashing (pw too long, bad prm). Never fails.
 */
void ap_pw_verify_dummy(const char *pw, const struct ap_pw_params *prm);
/*
 * The password policy: not empty (NULL counts as empty), at most 1024 bytes
 * of valid UTF-8 without control characters (C0, DEL, C1), at least
 * min_len characters (code points), not the
 * username (ASCII case-insensitive), not in the bundled list of common
 * passwords. Returns true when pw passes; otherwise false with pb filled
 * (AP_PB_INVALID, field, the rule it broke, e.g. "must be at least %zu
 * characters"). pb may be NULL.
 */
bool ap_pw_check_policy(const char *pw, const char *username, size_t min_len, const char *field,
    struct ap_problem *pb);
/* True when pw (ASCII case-insensitive) is in the bundled common list; false: NULL, >= 64 bytes. */
bool ap_pw_is_common(const char *pw);

/* Longest password accepted by the policy, ap_pw_hash and ap_pw_verify, in bytes. */
#define AP_PW_MAX_BYTES 1024

/*
 * Row i of the bundled common list (src/auth/pwlist.c), NULL past the end.
 * For the unit test that proves the list sorted, lowercase and unique.
 * Static storage.
 */
const char *ap_pw_common_row(size_t i);

#endif
