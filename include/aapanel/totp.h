/*
 * totp.h — two-factor authentication: TOTP (RFC 6238, liboath), the
 * otpauth:// enrolment URI, its QR code as inline SVG (libqrencode) and
 * single-use recovery codes.
 */
#ifndef AAPANEL_TOTP_H
#define AAPANEL_TOTP_H

#include <time.h>

#include "aapanel/common.h"

#define AP_TOTP_SECRET_LEN 32 /* base32 chars of a 160-bit secret */
#define AP_RECOVERY_CODES 10
#define AP_RECOVERY_LEN 15    /* "xxxx-xxxx-xxxx" + NUL */

/*
 * A new random 160-bit secret, base32 (RFC 4648, no padding),
 * NUL-terminated, into out. AP_ERR_IO when liboath or getrandom fails,
 * AP_ERR_INVAL when encoding fails; out is "" on failure.
 */
enum ap_err ap_totp_new_secret(char out[AP_TOTP_SECRET_LEN + 1]);
/*
 * The 6-digit code for time t into out (tests, and to show nothing else).
 * AP_ERR_INVAL, out "", for a negative t or a secret that is not base32 of
 * 1..128 characters.
 */
enum ap_err ap_totp_code(const char *b32, time_t t, char out[7]);
/*
 * Verify a 6-digit code at time now within ±window 30-second steps
 * (window 0..10). A code whose step counter is <= last_counter is refused
 * (no replay); on success *counter (may be NULL) gets the earliest matching
 * step for the caller to store, and is untouched otherwise. Every step is
 * compared in constant time. Non-digits, wrong length, a bad secret, a
 * negative now or window out of range → false.
 */
bool ap_totp_verify(const char *b32, const char *code, time_t now, int window,
    int64_t last_counter, int64_t *counter);
/*
 * otpauth://totp/ISSUER:ACCOUNT?secret=…&issuer=…&algorithm=SHA1&digits=6&period=30,
 * values percent-encoded. Owned (free()); NULL when any argument is NULL.
 */
char *ap_totp_uri(const char *issuer, const char *account, const char *b32);
/*
 * QR code of text as a standalone <svg> element (owned, free()), or NULL
 * for a NULL or "" text or one too long for a QR code (logged).
 */
char *ap_qr_svg(const char *text);
/*
 * Ten distinct random recovery codes "xxxx-xxxx-xxxx" (lowercase, no
 * ambiguous characters) into codes. AP_ERR_IO when getrandom fails, with
 * every code wiped.
 */
enum ap_err ap_recovery_codes_new(char codes[AP_RECOVERY_CODES][AP_RECOVERY_LEN + 1]);
/*
 * Canonical form of a typed recovery code into out: ASCII lowercased,
 * spaces, tabs and dashes dropped. A form that does not fit gives "", never
 * a cut prefix (it could match a stored code). NULL in gives ""; a NULL
 * out or outlen 0 is left alone.
 */
void ap_recovery_normalize(const char *in, char *out, size_t outlen);

#endif
