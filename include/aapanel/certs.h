/*
 * certs.h — the sites' certificates (docs/certificates.md): the panel's
 * record (the certificates table, one per site's domain) and the helper's
 * operations that put them on disk and in the vhost: an upload (checked
 * here with certcheck.h, again by the helper), an ACME issuance or a forced
 * renewal (helper jobs: started here, settled when someone looks), removal.
 * No private key is ever stored, logged, audited or returned.
 */
#ifndef AAPANEL_CERTS_H
#define AAPANEL_CERTS_H

#include <json-c/json.h>

#include "aapanel/certcheck.h"
#include "aapanel/sites.h"

struct ap_cert {
	int64_t id;
	char domain[254];
	char names[2048];   /* the names it covers (or is asked for, while pending) */
	char issuer[256];
	char serial[80];
	int64_t not_before, not_after; /* 0: not known yet */
	char source[16];    /* "acme" | "upload" */
	char state[16];     /* "pending" | "ok" | "failed" */
	int64_t job_id;     /* the helper's job while pending (and the last one after) */
	char job_op[16];    /* "issue" | "renew" */
	char last_error[1024];
	int64_t last_renewal_at;
	int last_renewal_ok; /* 1, 0, -1 never renewed */
	char renewal_by[16]; /* who made (or failed) the last renewal: "panel", "certbot" (its schedule), "" */
	int64_t created_at, updated_at;
};

enum ap_err ap_cert_get(const struct ap_sites_env *env, int64_t id, struct ap_cert *out,
    struct ap_problem *pb);
enum ap_err ap_cert_find(const struct ap_sites_env *env, const char *domain, struct ap_cert *out,
    struct ap_problem *pb);
/* One page by id (keyset), as ap_site_page. */
enum ap_err ap_cert_page(const struct ap_sites_env *env, int64_t after, int64_t limit,
    bool (*fn)(void *ctx, const struct ap_cert *c), void *ctx, bool *more, struct ap_problem *pb);

/* Upload for site: checked, installed by the helper (cert.upload), recorded. */
enum ap_err ap_cert_upload(const struct ap_sites_env *env, const struct ap_site *site,
    const char *cert, size_t cert_len, const char *key, size_t key_len, const char *chain,
    size_t chain_len, struct ap_cert *out, struct ap_problem *pb);
/* Start an issuance (cert.issue) or a forced renewal (cert.renew): the row is pending with the job. */
enum ap_err ap_cert_issue_start(const struct ap_sites_env *env, const struct ap_site *site,
    struct ap_cert *out, struct ap_problem *pb);
enum ap_err ap_cert_renew_start(const struct ap_sites_env *env, const struct ap_cert *c,
    struct ap_cert *out, struct ap_problem *pb);
/*
 * A pending certificate's job asked about: finished, the row gets the result
 * (or the failure and certbot's reason). *job (may be NULL; owned) the
 * job's {id, state, progress, output} or NULL when not known.
 */
void ap_cert_settle(const struct ap_sites_env *env, struct ap_cert *c, struct json_object **job);
/* Every pending row settled (the sampler: a job's end audited even when no one looks). */
enum ap_err ap_cert_settle_pending(const struct ap_sites_env *env, int *settled, struct ap_problem *pb);

/*
 * What certbot's own schedule did, read back (the helper's cert.lineages):
 * for each ACME row not pending, a lineage whose live certificate has
 * another serial is a renewal (the row gets its facts, renewal_by
 * "certbot"), a "Failed to renew certificate" in certbot's log since since
 * (Unix time), newer than the certificate in use and than the row's last
 * renewal, is a failure (state failed, certbot's reason). Each is recorded
 * and audited once (actor system, cert.renew ok or failed), however many
 * processes read back the same. *out: the counts and the newest log's time
 * (the next call's since).
 */
struct ap_cert_sync_stats {
	int renewed, failed;
	int64_t log_at;
};
enum ap_err ap_cert_sync(const struct ap_sites_env *env, int64_t since, struct ap_cert_sync_stats *out,
    struct ap_problem *pb);

/* The TLS server and the files gone (cert.remove), then the row. */
enum ap_err ap_cert_remove(const struct ap_sites_env *env, const struct ap_cert *c,
    const struct ap_site *site, struct ap_problem *pb);

/* As the audit log shows it (owned): never a key. */
struct json_object *ap_cert_json(const struct ap_cert *c);

#endif
