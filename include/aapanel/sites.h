/*
 * sites.h — websites: the panel's record of each site (the sites table) and
 * the changes on the system, which the privileged helper makes (site.apply,
 * site.remove, site.inspect: docs/sites.md). The pages and the CLI call
 * these functions alike; a worker decides, the helper acts, the probe
 * (probe.h) shows whether nginx really serves the result.
 *
 * Every function that fails fills pb: AP_PB_INVALID (field: domain,
 * aliases, kind, root, index, php, upstream, error_404, error_50x),
 * AP_PB_EXISTS (domain), AP_PB_NOT_FOUND, AP_PB_UNAVAILABLE (the helper or
 * the database is down), AP_PB_FAILED (nginx -t, php-fpm -t or another tool
 * refused: the reason is the tool's own message, and nothing changed),
 * AP_PB_INTERNAL.
 */
#ifndef AAPANEL_SITES_H
#define AAPANEL_SITES_H

#include <json-c/json.h>

#include "aapanel/config.h"
#include "aapanel/db.h"
#include "aapanel/helper.h"
#include "aapanel/problem.h"

enum ap_site_kind { AP_SITE_STATIC, AP_SITE_PHP, AP_SITE_PROXY, AP_SITE_KIND__MAX };

/* "static", "php", "proxy" (NULL-terminated, indexed by enum ap_site_kind). */
extern const char *const ap_site_kinds[];

/* What a person sets. Strings are "" when not set. */
struct ap_site_spec {
	char domain[254];
	char aliases[2049];  /* space-separated */
	enum ap_site_kind kind;
	char root[256];      /* relative to the site's home; "" = "public" */
	char index[601];     /* space-separated file names; "" = the kind's default */
	char php[8];         /* PHP sites: the PHP-FPM version */
	char upstream[513];  /* proxies: http://host[:port][/path] or unix:/path */
	bool https_redirect;
	char error_404[256]; /* URI paths of custom error pages */
	char error_50x[256];
};

struct ap_site {
	int64_t id;
	struct ap_site_spec spec;
	bool enabled;
	char system_user[64]; /* who the site runs as (the helper's answer) */
	int64_t revision;     /* of the vhost; the probe looks for it */
	int64_t created_at, updated_at;
	int64_t probe_at;     /* 0 = never probed */
	int probe_ok;         /* 1 nginx serves this revision, 0 not, -1 unknown */
	char probe_message[256];
	int64_t cert_not_after; /* the certificate's expiry (certificates table), 0 = none */
};

/* What the functions work with; everything borrowed. */
struct ap_sites_env {
	struct ap_db *db;
	struct ap_helper_client *helper;
	const struct ap_config *cfg;
	int job_wait_ms; /* how long to wait for the helper's job (0 = 25000) */
};

/* The kind named s into *out; false when unknown. */
bool ap_site_kind_parse(const char *s, enum ap_site_kind *out);

/*
 * Check a spec as a whole (each field as sitecheck.h, plus: PHP sites need
 * an installed version — asked of the helper when it is not NULL —,
 * proxies an upstream, aliases must not repeat the domain). AP_OK or
 * AP_ERR_INVAL with pb.
 */
enum ap_err ap_site_validate(const struct ap_sites_env *env, const struct ap_site_spec *spec,
    struct ap_problem *pb);

/* The site by id or by domain into *out. AP_ERR_NOTFOUND (pb not_found) when none. */
enum ap_err ap_site_get(const struct ap_sites_env *env, int64_t id, struct ap_site *out,
    struct ap_problem *pb);
enum ap_err ap_site_find(const struct ap_sites_env *env, const char *domain, struct ap_site *out,
    struct ap_problem *pb);

/* Every site, by domain; fn gets each (borrowed for the call) and returns false to stop. */
enum ap_err ap_site_each(const struct ap_sites_env *env,
    bool (*fn)(void *ctx, const struct ap_site *s), void *ctx, struct ap_problem *pb);
/*
 * One page of the sites by id (keyset): those with an id above after (0:
 * from the first), limit of them (1..10000), oldest first; *more (may be
 * NULL) says whether another page follows. fn as ap_site_each.
 */
enum ap_err ap_site_page(const struct ap_sites_env *env, int64_t after, int64_t limit,
    bool (*fn)(void *ctx, const struct ap_site *s), void *ctx, bool *more, struct ap_problem *pb);

/*
 * Create a site: validated, recorded, applied by the helper (vhost, pool,
 * user, document root with its first page), probed. *out: the site as
 * stored. On any failure nothing is left: no row, no file.
 */
enum ap_err ap_site_create(const struct ap_sites_env *env, const struct ap_site_spec *spec,
    struct ap_site *out, struct ap_problem *pb);

/*
 * Change site id to spec (its domain cannot change: spec->domain is
 * ignored), a new revision applied and probed. On failure (nginx -t refused
 * it, ...) the old files are back, the record is unchanged and pb has the
 * tool's message. *before and *out: the site before and after.
 */
enum ap_err ap_site_update(const struct ap_sites_env *env, int64_t id,
    const struct ap_site_spec *spec, struct ap_site *before, struct ap_site *out,
    struct ap_problem *pb);

/* Enable or disable (the 503 vhost, no PHP pool); re-apply the stored spec (drift undone). */
enum ap_err ap_site_set_enabled(const struct ap_sites_env *env, int64_t id, bool enabled,
    struct ap_site *out, struct ap_problem *pb);
enum ap_err ap_site_reapply(const struct ap_sites_env *env, int64_t id, struct ap_site *out,
    struct ap_problem *pb);

/* Remove the site's vhost, pool and logs (with delete_files its home and user too), then its row. */
enum ap_err ap_site_delete(const struct ap_sites_env *env, int64_t id, bool delete_files,
    struct ap_site *before, struct ap_problem *pb);

/*
 * The files on disk against the panel's version (the helper's site.inspect):
 * *out (owned) {vhost:{path, exists, content}, pool?, drift, diff}.
 */
enum ap_err ap_site_inspect(const struct ap_sites_env *env, const struct ap_site *s,
    struct json_object **out, struct ap_problem *pb);

/*
 * Probe site s: does nginx serve its current revision (wait up to wait_ms
 * for it)? Records the result on the row (probe_*), updates s. root_status
 * (may be NULL) gets the status of GET / (0 = no answer). port: the sites'
 * port (ap_site_port). Never fails: a probe that gets no answer is a result.
 */
void ap_site_probe(const struct ap_sites_env *env, int port, struct ap_site *s, int wait_ms,
    int *root_status);

/* The port the sites are served on, from the helper (0 when it cannot be asked). */
int ap_site_port(const struct ap_sites_env *env);
/* The PHP-FPM versions installed (the helper's php.versions); *out owned array of strings. */
enum ap_err ap_site_php_versions(const struct ap_sites_env *env, struct json_object **out,
    struct ap_problem *pb);

/* For the certificates module (certs.h): the helper's arguments of a site (owned), one call,
 * a job run to its end, a job's error into pb. */
struct json_object *ap_site_helper_args(const struct ap_site *s);
enum ap_err ap_site_helper_call(const struct ap_sites_env *env, const char *op,
    struct json_object *args, struct json_object **result, struct ap_problem *pb);
enum ap_err ap_site_helper_job(const struct ap_sites_env *env, const char *op,
    struct json_object *args, struct json_object **result, struct ap_problem *pb);
void ap_site_helper_problem(struct json_object *err, struct ap_problem *pb);

/* The site as the API and the audit log show it (owned). */
struct json_object *ap_site_json(const struct ap_site *s);

#endif
