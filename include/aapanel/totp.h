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

/* A new random 160-bit secret, base32 (RFC 4648, no padding), NUL-terminated. */
enum ap_err ap_totp_new_secret(char out[AP_TOTP_SECRET_LEN + 1]);
/* The 6-digit code for time t (tests, and to show nothing else). */
enum ap_err ap_totp_code(const char *b32, time_t t, char out[7]);
/*
 * Verify a 6-digit code at time now within ±window 30-second steps. A code
 * whose step counter is <= last_counter is refused (no replay); on success
 * *counter gets the matched step for the caller to store. Non-digits,
 * wrong length or a bad secret → false.
 */
bool ap_totp_verify(const char *b32, const char *code, time_t now, int window,
    int64_t last_counter, int64_t *counter);
/* otpauth://totp/ISSUER:ACCOUNT?secret=…&issuer=…&algorithm=SHA1&digits=6&period=30 (malloc'd). */
char *ap_totp_uri(const char *issuer, const char *account, const char *b32);
/* QR code of text as a standalone <svg> element (malloc'd), or NULL on failure. */
char *ap_qr_svg(const char *text);
/* Ten random recovery codes "xxxx-xxxx-xxxx" (lowercase, no ambiguous characters). */
enum ap_err ap_recovery_codes_new(char codes[AP_RECOVERY_CODES][AP_RECOVERY_LEN + 1]);
/* Canonical form of a typed recovery code (lowercase, no spaces or dashes) into out. */
void ap_recovery_normalize(const char *in, char *out, size_t outlen);

#endif
