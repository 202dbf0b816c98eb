/*
 * totp.c — RFC 6238 TOTP with liboath (SHA-1, 6 digits, 30 s steps, the
 * parameters every authenticator app supports), the otpauth:// URI and its
 * QR code as SVG (libqrencode), and recovery codes.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <liboath/oath.h>
#include <qrencode.h>

#include "aapanel/crypto.h"
#include "aapanel/log.h"
#include "aapanel/totp.h"

#define STEP 30
#define DIGITS 6
#define SECRET_BYTES 20
/* Longest base32 secret accepted: 512-bit secrets, with room for spaces. */
#define SECRET_B32_MAX 128
/* A wider window only widens the guessing space; callers use 1. */
#define WINDOW_MAX 10
/* QR quiet zone, in modules, that scanners need around the symbol. */
#define QUIET 4

static pthread_once_t oath_once = PTHREAD_ONCE_INIT;
static int oath_init_rc = OATH_OK;

static void
oath_setup(void)
{
	oath_init_rc = oath_init();
}

/* liboath must be initialised once per process; never torn down (workers exit). */
static bool
oath_ready(void)
{
	pthread_once(&oath_once, oath_setup);
	if (oath_init_rc != OATH_OK) {
		AP_ERROR("oath_init: %s", oath_strerror(oath_init_rc));
		return false;
	}
	return true;
}

/* Decode b32 into a malloc'd key (*key, *keylen); false for a bad secret. */
static bool
decode_secret(const char *b32, char **key, size_t *keylen)
{
	size_t n;

	*key = NULL;
	*keylen = 0;
	if (b32 == NULL || !oath_ready())
		return false;
	n = strnlen(b32, SECRET_B32_MAX + 1);
	if (n == 0 || n > SECRET_B32_MAX)
		return false;
	if (oath_base32_decode(b32, n, key, keylen) != OATH_OK || *key == NULL || *keylen == 0) {
		free(*key);
		*key = NULL;
		return false;
	}
	return true;
}

static void
free_key(char *key, size_t keylen)
{
	if (key != NULL)
		explicit_bzero(key, keylen);
	free(key);
}

enum ap_err
ap_totp_new_secret(char out[AP_TOTP_SECRET_LEN + 1])
{
	unsigned char raw[SECRET_BYTES];
	enum ap_err err = AP_ERR_IO;
	char *b32 = NULL;
	size_t b32len = 0;

	out[0] = '\0';
	if (!oath_ready())
		goto out;
	if (ap_random_bytes(raw, sizeof(raw)) != AP_OK)
		goto out;
	/* 160 bits are exactly 32 base32 characters, so there is no padding to strip. */
	if (oath_base32_encode((const char *)raw, sizeof(raw), &b32, &b32len) != OATH_OK ||
	    b32len != AP_TOTP_SECRET_LEN) {
		err = AP_ERR_INVAL;
		goto out;
	}
	memcpy(out, b32, AP_TOTP_SECRET_LEN);
	out[AP_TOTP_SECRET_LEN] = '\0';
	err = AP_OK;
out:
	explicit_bzero(raw, sizeof(raw));
	free_key(b32, b32len);
	return err;
}

/* Code for step counter c (c >= 0) into out[7]. */
static bool
code_at(const char *key, size_t keylen, int64_t c, char out[DIGITS + 1])
{
	return oath_totp_generate(key, keylen, (time_t)(c * STEP), STEP, 0, DIGITS, out) ==
	    OATH_OK;
}

enum ap_err
ap_totp_code(const char *b32, time_t t, char out[7])
{
	enum ap_err err = AP_ERR_INVAL;
	char *key = NULL;
	size_t keylen = 0;

	out[0] = '\0';
	if (t < 0 || !decode_secret(b32, &key, &keylen))
		goto out;
	if (!code_at(key, keylen, (int64_t)(t / STEP), out)) {
		out[0] = '\0';
		goto out;
	}
	err = AP_OK;
out:
	free_key(key, keylen);
	return err;
}

static bool
six_digits(const char *code)
{
	size_t i;

	for (i = 0; i < DIGITS; i++)
		if (code[i] < '0' || code[i] > '9')
			return false;
	return code[DIGITS] == '\0';
}

/*
 * Every step of the window is computed and compared in constant time, with
 * no early exit, so the time does not tell which step matched. The earliest
 * matching step above last_counter wins.
 */
bool
ap_totp_verify(const char *b32, const char *code, time_t now, int window, int64_t last_counter,
    int64_t *counter)
{
	char *key = NULL, want[DIGITS + 1];
	size_t keylen = 0;
	int64_t base, c, found = -1;
	int i;

	if (code == NULL || !six_digits(code) || now < 0 || window < 0 || window > WINDOW_MAX)
		goto out;
	if (!decode_secret(b32, &key, &keylen))
		goto out;
	base = (int64_t)(now / STEP);
	for (i = -window; i <= window; i++) {
		c = base + i;
		if (c < 0 || c <= last_counter)
			continue;
		if (!code_at(key, keylen, c, want))
			continue;
		if (ap_ct_equal(want, code, DIGITS) && found < 0)
			found = c;
	}
	explicit_bzero(want, sizeof(want));
out:
	free_key(key, keylen);
	if (found >= 0 && counter != NULL)
		*counter = found;
	return found >= 0;
}

/* Percent-encode s, keeping only the RFC 3986 unreserved characters. */
static void
put_pct(struct ap_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			ap_buf_putc(b, (char)c);
		} else {
			ap_buf_putc(b, '%');
			ap_buf_putc(b, hex[c >> 4]);
			ap_buf_putc(b, hex[c & 15]);
		}
	}
}

/* NULL when any argument is NULL; otherwise owned by the caller (free()). */
char *
ap_totp_uri(const char *issuer, const char *account, const char *b32)
{
	struct ap_buf b = { 0 };

	if (issuer == NULL || account == NULL || b32 == NULL)
		return NULL;
	ap_buf_puts(&b, "otpauth://totp/");
	put_pct(&b, issuer);
	/* Key URI format: the label separator stays a literal ':'. */
	ap_buf_putc(&b, ':');
	put_pct(&b, account);
	ap_buf_puts(&b, "?secret=");
	put_pct(&b, b32);
	ap_buf_puts(&b, "&issuer=");
	put_pct(&b, issuer);
	ap_buf_puts(&b, "&algorithm=SHA1&digits=6&period=30");
	return b.data;
}

/*
 * One <path> of unit squares, black on a white rect, sized by viewBox so the
 * page scales it with CSS classes: the CSP forbids style attributes.
 */
char *
ap_qr_svg(const char *text)
{
	struct ap_buf b = { 0 };
	QRcode *qr = NULL;
	char *svg = NULL;
	int x, y, n;

	if (text == NULL || text[0] == '\0')
		goto out;
	qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (qr == NULL || qr->width <= 0) {
		AP_WARN("QRcode_encodeString failed for %zu bytes", strlen(text));
		goto out;
	}
	n = qr->width + 2 * QUIET;
	ap_buf_printf(&b,
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\""
	    " shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"QR code\">"
	    "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path fill=\"#000\" d=\"",
	    n, n, n, n);
	for (y = 0; y < qr->width; y++) {
		for (x = 0; x < qr->width; x++) {
			/* Bit 0 of each module byte is "dark"; the others are encoder metadata. */
			if (qr->data[y * qr->width + x] & 1)
				ap_buf_printf(&b, "M%d %d h1 v1 h-1 z", x + QUIET, y + QUIET);
		}
	}
	ap_buf_puts(&b, "\"/></svg>");
	svg = b.data;
	b.data = NULL;
out:
	ap_buf_free(&b);
	if (qr != NULL)
		QRcode_free(qr);
	return svg;
}

/* Ambiguous characters (0 o 1 l i) are left out: the codes are read off paper. */
static const char recovery_alphabet[] = "abcdefghjkmnpqrstuvwxyz23456789";

/* Fill out[0..n) with uniform picks from recovery_alphabet. */
static enum ap_err
random_chars(char *out, size_t n)
{
	const unsigned k = sizeof(recovery_alphabet) - 1;
	/* Largest multiple of k that fits in a byte: bytes at or above it are redrawn. */
	const unsigned limit = 256 - 256 % k;
	unsigned char pool[32];
	size_t have = 0, used = 0, i = 0;

	while (i < n) {
		if (used == have) {
			if (ap_random_bytes(pool, sizeof(pool)) != AP_OK)
				return AP_ERR_IO;
			have = sizeof(pool);
			used = 0;
		}
		if (pool[used] < limit)
			out[i++] = recovery_alphabet[pool[used] % k];
		used++;
	}
	explicit_bzero(pool, sizeof(pool));
	return AP_OK;
}

enum ap_err
ap_recovery_codes_new(char codes[AP_RECOVERY_CODES][AP_RECOVERY_LEN + 1])
{
	char raw[12];
	int i, j;

	for (i = 0; i < AP_RECOVERY_CODES; i++) {
		if (random_chars(raw, sizeof(raw)) != AP_OK) {
			explicit_bzero(codes, sizeof(codes[0]) * AP_RECOVERY_CODES);
			return AP_ERR_IO;
		}
		memcpy(codes[i], raw, 4);
		codes[i][4] = '-';
		memcpy(codes[i] + 5, raw + 4, 4);
		codes[i][9] = '-';
		memcpy(codes[i] + 10, raw + 8, 4);
		codes[i][14] = '\0';
		/* A repeat (odds ~1e-17) would leave the user one code short: draw again. */
		for (j = 0; j < i; j++)
			if (strcmp(codes[i], codes[j]) == 0)
				break;
		if (j < i)
			i--;
	}
	explicit_bzero(raw, sizeof(raw));
	return AP_OK;
}

/*
 * An input whose canonical form does not fit yields "", never a truncated
 * prefix: a longer string must not match a stored code by being cut short.
 */
void
ap_recovery_normalize(const char *in, char *out, size_t outlen)
{
	size_t n = 0;

	if (out == NULL || outlen == 0)
		return;
	out[0] = '\0';
	if (in == NULL)
		return;
	for (; *in != '\0'; in++) {
		char c = *in;

		if (c == ' ' || c == '-' || c == '\t')
			continue;
		if (n + 1 >= outlen) {
			out[0] = '\0';
			return;
		}
		out[n++] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	out[n] = '\0';
}
