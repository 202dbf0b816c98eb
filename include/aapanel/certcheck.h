/*
 * certcheck.h — TLS certificates read and judged with OpenSSL's library
 * (docs/certificates.md): what a PEM certificate says (names, issuer,
 * validity, serial) and whether an upload can be installed for a site —
 * the certificate parses, the key is a private key that matches it, the
 * chain is in order (each certificate issued by the next), the names cover
 * the site's domain and aliases, it is valid now. Core layer: the panel's
 * data module refuses early with it, the helper checks again before it
 * writes anything. A private key is parsed here and nothing of it is kept,
 * copied or printed.
 */
#ifndef AAPANEL_CERTCHECK_H
#define AAPANEL_CERTCHECK_H

#include <stddef.h>
#include <stdint.h>

#include "aapanel/common.h"

#define AP_CERT_PEM_MAX 16384 /* bytes per PEM text (certificate, key, chain) */

struct ap_cert_info {
	char names[2048];   /* DNS names of the subjectAltName, space-separated (else the CN) */
	char subject[256];  /* the subject's CN, or the whole name */
	char issuer[256];   /* the issuer's CN (or O), else the whole name */
	char serial[80];    /* hex, uppercase */
	int64_t not_before, not_after; /* Unix seconds */
};

/* A PEM text's bytes: printable ASCII, tab, CR and LF only. NULL or the reason (route.h check). */
const char *ap_check_pem_text(const char *s, size_t n);

/* The first certificate of a PEM text into *out. AP_ERR_INVAL with why when there is none. */
enum ap_err ap_cert_info_pem(const char *pem, size_t len, struct ap_cert_info *out, char *why,
    size_t whylen);

/*
 * Judge an upload: cert (the site's certificate, optionally followed by its
 * chain), key (its private key, not encrypted), chain (more intermediates,
 * may be NULL or empty), names (the domain and aliases, space-separated) and
 * now (Unix seconds). AP_OK with *info and, when fullchain is not NULL, the
 * certificate and the chain in order as PEM text appended to it. Otherwise
 * AP_ERR_INVAL, *field ("cert", "key" or "chain") and why: the first reason.
 */
enum ap_err ap_cert_check_upload(const char *cert, size_t cert_len, const char *key,
    size_t key_len, const char *chain, size_t chain_len, const char *names, int64_t now,
    struct ap_cert_info *info, struct ap_buf *fullchain, const char **field, char *why,
    size_t whylen);

#endif
