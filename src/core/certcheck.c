/* certcheck.c — PEM certificates and uploads judged with OpenSSL (certcheck.h). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "aapanel/certcheck.h"

#define CHAIN_MAX 8

const char *
ap_check_pem_text(const char *s, size_t n)
{
	if (n > AP_CERT_PEM_MAX)
		return "is too long for a PEM text";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!(c == '\n' || c == '\r' || c == '\t' || (c >= 0x20 && c < 0x7F)))
			return "is not PEM text (only printable ASCII and line breaks)";
	}
	return NULL;
}

static int
no_password(char *buf, int size, int rw, void *u)
{
	(void)buf, (void)size, (void)rw, (void)u;
	return 0;
}

/* Every certificate of a PEM text, up to max; how many (0: none or garbage). */
static size_t
read_certs(const char *pem, size_t len, X509 **out, size_t max, bool *more)
{
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	size_t n = 0;
	X509 *x;

	*more = false;
	if (b == NULL)
		return 0;
	while ((x = PEM_read_bio_X509(b, NULL, no_password, NULL)) != NULL) {
		if (n == max) {
			X509_free(x);
			*more = true;
			break;
		}
		out[n++] = x;
	}
	ERR_clear_error();
	BIO_free(b);
	return n;
}

static void
name_entry(const X509_NAME *nm, int nid, char *out, size_t outlen)
{
	int i = X509_NAME_get_index_by_NID(nm, nid, -1);
	const ASN1_STRING *s;
	unsigned char *u = NULL;
	int n;

	out[0] = '\0';
	if (i < 0 || (s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(nm, i))) == NULL)
		return;
	if ((n = ASN1_STRING_to_UTF8(&u, s)) < 0)
		return;
	snprintf(out, outlen, "%.*s", n, (const char *)u);
	OPENSSL_free(u);
}

static void
name_text(const X509_NAME *nm, char *out, size_t outlen)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL;
	long n;

	name_entry(nm, NID_commonName, out, outlen);
	if (out[0] == '\0')
		name_entry(nm, NID_organizationName, out, outlen);
	if (out[0] != '\0' || b == NULL) {
		BIO_free(b);
		return;
	}
	X509_NAME_print_ex(b, nm, 0, XN_FLAG_RFC2253);
	n = BIO_get_mem_data(b, &p);
	snprintf(out, outlen, "%.*s", (int)(n > 0 ? n : 0), p ? p : "");
	BIO_free(b);
}

static int64_t
asn1_time(const ASN1_TIME *t)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (int64_t)timegm(&tm);
}

static void
fill_info(X509 *x, struct ap_cert_info *o)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	const ASN1_INTEGER *ser = X509_get0_serialNumber(x);
	BIGNUM *bn = ser ? ASN1_INTEGER_to_BN(ser, NULL) : NULL;
	char *hex = bn ? BN_bn2hex(bn) : NULL;
	size_t used = 0;

	memset(o, 0, sizeof(*o));
	name_text(X509_get_subject_name(x), o->subject, sizeof(o->subject));
	name_text(X509_get_issuer_name(x), o->issuer, sizeof(o->issuer));
	snprintf(o->serial, sizeof(o->serial), "%s", hex ? hex : "");
	OPENSSL_free(hex);
	BN_free(bn);
	o->not_before = asn1_time(X509_get0_notBefore(x));
	o->not_after = asn1_time(X509_get0_notAfter(x));
	for (int i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const unsigned char *d;
		int n;

		if (g->type != GEN_DNS)
			continue;
		d = ASN1_STRING_get0_data(g->d.dNSName);
		n = ASN1_STRING_length(g->d.dNSName);
		if (n <= 0 || used + (size_t)n + 2 > sizeof(o->names))
			continue;
		used += (size_t)snprintf(o->names + used, sizeof(o->names) - used, "%s%.*s",
		    used ? " " : "", n, (const char *)d);
	}
	GENERAL_NAMES_free(gens);
	if (o->names[0] == '\0')
		snprintf(o->names, sizeof(o->names), "%s", o->subject);
}

enum ap_err
ap_cert_info_pem(const char *pem, size_t len, struct ap_cert_info *out, char *why, size_t whylen)
{
	X509 *x[1];
	bool more;

	if (read_certs(pem, len, x, 1, &more) != 1) {
		ap_errf(why, whylen, "is not a PEM certificate");
		return AP_ERR_INVAL;
	}
	fill_info(x[0], out);
	X509_free(x[0]);
	return AP_OK;
}

static const char *
day(int64_t t, char *buf, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, n, "%Y-%m-%d %H:%M UTC", &tm);
	return buf;
}

static bool
issued_by(X509 *child, X509 *parent)
{
	EVP_PKEY *pk;
	bool ok;

	if (X509_NAME_cmp(X509_get_issuer_name(child), X509_get_subject_name(parent)) != 0)
		return false;
	pk = X509_get0_pubkey(parent);
	ok = pk != NULL && X509_verify(child, pk) == 1;
	ERR_clear_error();
	return ok;
}

static void
append_pem(struct ap_buf *b, X509 *x)
{
	BIO *m = BIO_new(BIO_s_mem());
	char *p = NULL;
	long n;

	if (m == NULL)
		return;
	PEM_write_bio_X509(m, x);
	n = BIO_get_mem_data(m, &p);
	if (n > 0)
		ap_buf_append(b, p, (size_t)n);
	BIO_free(m);
}

enum ap_err
ap_cert_check_upload(const char *cert, size_t cert_len, const char *key, size_t key_len,
    const char *chain, size_t chain_len, const char *names, int64_t now,
    struct ap_cert_info *info, struct ap_buf *fullchain, const char **field, char *why,
    size_t whylen)
{
	X509 *x[CHAIN_MAX * 2] = { NULL };
	size_t n = 0, m;
	EVP_PKEY *pk = NULL;
	BIO *b = NULL;
	enum ap_err rc = AP_ERR_INVAL;
	char d1[40];
	bool more = false;
	const char *bad;

	*field = "cert";
	if (cert == NULL || cert_len == 0) {
		ap_errf(why, whylen, "is required");
		goto out;
	}
	if ((bad = ap_check_pem_text(cert, cert_len)) != NULL) {
		ap_errf(why, whylen, "%s", bad);
		goto out;
	}
	if ((n = read_certs(cert, cert_len, x, CHAIN_MAX, &more)) == 0) {
		ap_errf(why, whylen, "is not a PEM certificate (-----BEGIN CERTIFICATE-----)");
		goto out;
	}
	/* Each field's own count: a chain read after it must not hide it (check_certcheck). */
	if (more) {
		ap_errf(why, whylen, "has more than %d certificates", CHAIN_MAX);
		goto out;
	}
	if (chain != NULL && chain_len > 0) {
		*field = "chain";
		if ((bad = ap_check_pem_text(chain, chain_len)) != NULL) {
			ap_errf(why, whylen, "%s", bad);
			goto out;
		}
		m = read_certs(chain, chain_len, x + n, CHAIN_MAX, &more);
		if (m == 0) {
			ap_errf(why, whylen, "is not PEM certificates (-----BEGIN CERTIFICATE-----)");
			goto out;
		}
		n += m;
		if (more) {
			ap_errf(why, whylen, "has more than %d certificates", CHAIN_MAX);
			goto out;
		}
	}
	*field = "key";
	if (key == NULL || key_len == 0) {
		ap_errf(why, whylen, "is required");
		goto out;
	}
	if ((bad = ap_check_pem_text(key, key_len)) != NULL) {
		ap_errf(why, whylen, "%s", bad);
		goto out;
	}
	if ((b = BIO_new_mem_buf(key, (int)key_len)) == NULL ||
	    (pk = PEM_read_bio_PrivateKey(b, NULL, no_password, NULL)) == NULL) {
		ERR_clear_error();
		ap_errf(why, whylen, "is not a PEM private key, or it is encrypted (remove the passphrase)");
		goto out;
	}
	if (X509_check_private_key(x[0], pk) != 1) {
		ERR_clear_error();
		ap_errf(why, whylen, "does not match the certificate (it is the key of another certificate)");
		goto out;
	}
	*field = "chain";
	for (size_t i = 0; i + 1 < n; i++) {
		if (issued_by(x[i], x[i + 1]))
			continue;
		for (size_t j = 0; j < n; j++)
			if (j != i && j != i + 1 && issued_by(x[i], x[j])) {
				ap_errf(why, whylen,
				    "is in the wrong order: certificate %zu must come right after the one it "
				    "signs (certificate %zu); the site's certificate first, then each issuer",
				    j + 1, i + 1);
				goto out;
			}
		ap_errf(why, whylen, "is in the wrong order or incomplete: certificate %zu is not issued "
				     "by the certificate after it",
		    i + 1);
		goto out;
	}
	*field = "cert";
	fill_info(x[0], info);
	if (info->not_after <= now) {
		ap_errf(why, whylen, "expired on %s", day(info->not_after, d1, sizeof(d1)));
		goto out;
	}
	if (info->not_before > now) {
		ap_errf(why, whylen, "is not valid before %s", day(info->not_before, d1, sizeof(d1)));
		goto out;
	}
	for (const char *p = names; p != NULL && *p;) {
		size_t l = strcspn(p, " ");

		if (l > 0 && X509_check_host(x[0], p, l, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) != 1) {
			ERR_clear_error();
			ap_errf(why, whylen, "does not cover %.*s (it is for: %s)", (int)l, p, info->names);
			goto out;
		}
		p += l;
		while (*p == ' ')
			p++;
	}
	if (fullchain != NULL)
		for (size_t i = 0; i < n; i++)
			append_pem(fullchain, x[i]);
	*field = NULL;
	rc = AP_OK;
out:
	for (size_t i = 0; i < n; i++)
		X509_free(x[i]);
	EVP_PKEY_free(pk);
	BIO_free(b);
	return rc;
}
