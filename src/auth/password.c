/*
 * password.c — argon2id password hashes in PHC strings (libargon2) and the
 * password policy. The common-password list lives in pwlist.c.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <argon2.h>

#include "aapanel/log.h"
#include "aapanel/password.h"

const struct ap_pw_params ap_pw_default = { 19456, 2, 1 };

#define SALT_LEN 16
#define HASH_LEN 32
/* Far longer than any PHC string we write (~100 bytes); bounds the parser. */
#define PHC_MAXLEN 512
/*
 * Upper bounds on stored parameters. A PHC string edited in the database
 * must not make every login allocate gigabytes or spin for minutes; these
 * leave ample room to raise the defaults later. ap_pw_hash refuses the same.
 */
#define MAX_M_KIB (1024u * 1024u) /* 1 GiB */
#define MAX_T 64u
#define MAX_P 64u

struct phc {
	argon2_type type;
	uint32_t version, m, t, p;
};

static bool
params_ok(uint32_t m, uint32_t t, uint32_t p)
{
	return m >= 8 && m <= MAX_M_KIB && t >= 1 && t <= MAX_T && p >= 1 && p <= MAX_P &&
	    m >= 8 * p;
}

static bool
eat(const char **sp, const char *lit)
{
	size_t n = strlen(lit);

	if (strncmp(*sp, lit, n) != 0)
		return false;
	*sp += n;
	return true;
}

/* Decimal without sign or leading zeros, at most 10 digits and max; advances *sp. */
static bool
eat_u32(const char **sp, uint32_t max, uint32_t *out)
{
	const char *s = *sp;
	uint64_t v = 0;
	size_t n = 0;

	while (s[n] >= '0' && s[n] <= '9') {
		if (n == 10)
			return false;
		v = v * 10 + (uint64_t)(s[n] - '0');
		n++;
	}
	if (n == 0 || (n > 1 && s[0] == '0') || v > max)
		return false;
	*out = (uint32_t)v;
	*sp = s + n;
	return true;
}

/* Length of the run of unpadded standard base64 characters at s; advances *sp. */
static size_t
eat_b64(const char **sp)
{
	const char *s = *sp;
	size_t n = 0;

	while ((s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= 'a' && s[n] <= 'z') ||
	    (s[n] >= '0' && s[n] <= '9') || s[n] == '+' || s[n] == '/')
		n++;
	*sp = s + n;
	return n;
}

/*
 * Parse "$argon2{id,i,d}[$v=16|19]$m=M,t=T,p=P$SALT$HASH" (the forms
 * libargon2 writes and reads). Rejects anything else, including parameters
 * outside params_ok(), so argon2_verify() only ever sees sane input.
 */
static bool
parse_phc(const char *s, struct phc *h)
{
	if (strnlen(s, PHC_MAXLEN + 1) > PHC_MAXLEN)
		return false;
	if (!eat(&s, "$argon2"))
		return false;
	if (eat(&s, "id$"))
		h->type = Argon2_id;
	else if (eat(&s, "i$"))
		h->type = Argon2_i;
	else if (eat(&s, "d$"))
		h->type = Argon2_d;
	else
		return false;
	/* Hashes from before version 1.3 omit v=; libargon2 reads them as 0x10. */
	h->version = ARGON2_VERSION_10;
	if (eat(&s, "v=")) {
		if (!eat_u32(&s, 0xff, &h->version) || !eat(&s, "$"))
			return false;
		if (h->version != ARGON2_VERSION_10 && h->version != ARGON2_VERSION_13)
			return false;
	}
	if (!eat(&s, "m=") || !eat_u32(&s, UINT32_MAX, &h->m) || !eat(&s, ",t=") ||
	    !eat_u32(&s, UINT32_MAX, &h->t) || !eat(&s, ",p=") ||
	    !eat_u32(&s, UINT32_MAX, &h->p) || !eat(&s, "$"))
		return false;
	if (!params_ok(h->m, h->t, h->p))
		return false;
	/* 8-byte minimum salt is 11 base64 chars, 4-byte minimum hash is 6. */
	if (eat_b64(&s) < 11 || !eat(&s, "$") || eat_b64(&s) < 6)
		return false;
	return *s == '\0';
}

static size_t
pw_len(const char *pw)
{
	return strnlen(pw, AP_PW_MAX_BYTES + 1);
}

/*
 * argon2id mallocs its working memory (m_kib: 19 MiB by default) for every
 * hash and frees it after. glibc maps a block that size — until the first
 * one is freed: then it raises its mmap threshold to that size and serves
 * the next from the heap, which it keeps, so a worker that had checked two
 * passwords stayed at 28 MB for its whole life (2.4 MB before; issue 19).
 * Setting the threshold turns that adjustment off: every hash's memory is
 * mapped, and unmapped when argon2 frees it.
 */
static void
hash_memory_returned(void)
{
	static bool set;

	if (!set) {
		mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
		set = true;
	}
}

enum ap_err
ap_pw_hash(const char *pw, const struct ap_pw_params *prm, char **out)
{
	unsigned char salt[SALT_LEN];
	enum ap_err err = AP_ERR_INVAL;
	char *enc = NULL;
	size_t len, enclen;
	int rc;

	if (out == NULL)
		goto out;
	*out = NULL;
	if (prm == NULL)
		prm = &ap_pw_default;
	if (pw == NULL || !params_ok(prm->m_kib, prm->t, prm->p))
		goto out;
	len = pw_len(pw);
	if (len > AP_PW_MAX_BYTES) {
		err = AP_ERR_TOOBIG;
		goto out;
	}
	if (ap_random_bytes(salt, sizeof(salt)) != AP_OK) {
		err = AP_ERR_IO;
		goto out;
	}
	enclen = argon2_encodedlen(prm->t, prm->m_kib, prm->p, SALT_LEN, HASH_LEN, Argon2_id);
	enc = ap_xmalloc(enclen);
	hash_memory_returned();
	rc = argon2id_hash_encoded(prm->t, prm->m_kib, prm->p, pw, len, salt, SALT_LEN, HASH_LEN,
	    enc, enclen);
	if (rc != ARGON2_OK) {
		AP_ERROR("argon2id: %s", argon2_error_message(rc));
		err = rc == ARGON2_MEMORY_ALLOCATION_ERROR ? AP_ERR_UNAVAIL : AP_ERR_INVAL;
		goto out;
	}
	*out = enc;
	enc = NULL;
	err = AP_OK;
out:
	free(enc);
	return err;
}

bool
ap_pw_verify(const char *pw, const char *phc, const struct ap_pw_params *want, bool *rehash)
{
	struct phc h;
	bool ok = false;
	size_t len;

	if (rehash != NULL)
		*rehash = false;
	if (want == NULL)
		want = &ap_pw_default;
	if (pw == NULL || phc == NULL || !parse_phc(phc, &h))
		goto out;
	len = pw_len(pw);
	if (len > AP_PW_MAX_BYTES)
		goto out;
	/* argon2_verify recomputes the hash and compares it in constant time. */
	hash_memory_returned();
	if (argon2_verify(phc, pw, len, h.type) != ARGON2_OK)
		goto out;
	ok = true;
	if (rehash != NULL)
		*rehash = h.type != Argon2_id || h.version != ARGON2_VERSION_13 ||
		    h.m != want->m_kib || h.t != want->t || h.p != want->p;
out:
	return ok;
}

void
ap_pw_verify_dummy(const char *pw, const struct ap_pw_params *prm)
{
	static const unsigned char salt[SALT_LEN];
	unsigned char hash[HASH_LEN];
	size_t len;

	if (prm == NULL)
		prm = &ap_pw_default;
	if (pw == NULL)
		pw = "";
	len = pw_len(pw);
	/* ap_pw_verify refuses these without hashing; so does the dummy. */
	if (len > AP_PW_MAX_BYTES || !params_ok(prm->m_kib, prm->t, prm->p))
		return;
	hash_memory_returned();
	(void)argon2id_hash_raw(prm->t, prm->m_kib, prm->p, pw, len, salt, sizeof(salt), hash,
	    sizeof(hash));
	explicit_bzero(hash, sizeof(hash));
}

static bool
ascii_case_eq(const char *a, const char *b)
{
	for (;; a++, b++) {
		unsigned char ca = (unsigned char)*a, cb = (unsigned char)*b;

		if (ca >= 'A' && ca <= 'Z')
			ca = (unsigned char)(ca - 'A' + 'a');
		if (cb >= 'A' && cb <= 'Z')
			cb = (unsigned char)(cb - 'A' + 'a');
		if (ca != cb)
			return false;
		if (ca == '\0')
			return true;
	}
}

/* C0 controls and DEL, and C1 controls (U+0080..U+009F, encoded C2 80..C2 9F). */
static bool
has_control(const unsigned char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] < 0x20 || s[i] == 0x7f)
			return true;
		if (s[i] == 0xc2 && i + 1 < n && s[i + 1] >= 0x80 && s[i + 1] <= 0x9f)
			return true;
	}
	return false;
}

/* Code points of valid UTF-8: every byte that is not a continuation byte starts one. */
static size_t
code_points(const unsigned char *s, size_t n)
{
	size_t i, cp = 0;

	for (i = 0; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			cp++;
	return cp;
}

bool
ap_pw_check_policy(const char *pw, const char *username, size_t min_len, const char *field,
    struct ap_problem *pb)
{
	const char *why = NULL;
	size_t n = pw != NULL ? pw_len(pw) : 0;

	if (n == 0)
		why = N_("must not be empty");
	else if (n > AP_PW_MAX_BYTES)
		why = N_("must be at most 1024 bytes");
	else if (!ap_utf8_valid(pw, n))
		why = N_("must be valid UTF-8");
	else if (has_control((const unsigned char *)pw, n))
		why = N_("must not contain control characters");
	else if (code_points((const unsigned char *)pw, n) < min_len) {
		ap_problem_set(pb, AP_PB_INVALID, field, "must be at least %zu characters", min_len);
		return false;
	} else if (username != NULL && username[0] != '\0' && ascii_case_eq(pw, username))
		why = N_("must not be the username");
	else if (ap_pw_is_common(pw))
		why = N_("must not be a commonly used password");
	if (why == NULL)
		return true;
	ap_problem_msg(pb, AP_PB_INVALID, field, why);
	return false;
}
