/*
 * cert.c — `aapanel cert …`: the command-line form of the Certificates
 * screen, through the same data functions (src/data/certs.c) and the same
 * helper (docs/certificates.md).
 *
 *   aapanel cert issue DOMAIN [--no-wait] [--json]
 *   aapanel cert renew DOMAIN [--no-wait] [--json]
 *   aapanel cert sync [--json]     what the sampler does: jobs settled, certbot's renewals read back
 *   aapanel cert upload DOMAIN --cert FILE --key FILE [--chain FILE] [--json]
 *   aapanel cert list [--json]
 *   aapanel cert show DOMAIN [--json]
 *   aapanel cert remove DOMAIN
 *
 * Key material comes from files only (never an argument: argv is visible
 * to every user in ps), read whole, at most certs' 16 KiB each; the key
 * goes to the helper and nowhere else. issue and renew wait for certbot's
 * job (its progress on stderr) unless --no-wait.
 *
 * --json prints what the API answers, made by the same functions
 * (src/pages/certs.c): a Certificate (issue, renew, upload), a
 * CertificateList with every certificate and next null (list), a
 * CertificateDetail (show).
 *
 * Exit 0 on success, 2 for invalid input (the field and the reason on
 * stderr: an unknown site or certificate, a file that cannot be read or is
 * too large, an upload the checks refuse), 1 for anything else (the helper
 * unavailable, certbot failing: its reason on stderr).
 */
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aapanel/audit.h"
#include "aapanel/certs.h"
#include "aapanel/cli.h"
#include "aapanel/dbconn.h"
#include "aapanel/pages.h"

static const char cert_usage[] =
    "usage: aapanel cert issue DOMAIN [--no-wait] [--json]\n"
    "       aapanel cert renew DOMAIN [--no-wait] [--json]\n"
    "       aapanel cert upload DOMAIN --cert FILE --key FILE [--chain FILE] [--json]\n"
    "       aapanel cert list [--json]\n"
    "       aapanel cert show DOMAIN [--json]\n"
    "       aapanel cert remove DOMAIN\n"
    "       aapanel cert sync [--json]\n";

/* How long issue and renew wait for certbot (its own limit is 300 s in the helper). */
#define WAIT_S 330

static void
audit(struct ap_db *db, const char *action, const char *target, const char *outcome,
    struct json_object *before, struct json_object *after)
{
	ap_cli_audit_json(db, action, target, outcome, before, after);
}

/* A refusal as the audit log keeps it: the problem's code and reason (never a key). */
static struct json_object *
pb_json(const struct ap_problem *pb)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string(ap_pb_name(pb->code)));
	json_object_object_add(o, "reason", json_object_new_string(pb->reason));
	return o;
}

static void
print_json(struct json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static const char *
when(int64_t t, char *buf, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0)
		return "-";
	gmtime_r(&tt, &tm);
	strftime(buf, n, "%Y-%m-%d %H:%M UTC", &tm);
	return buf;
}

/*
 * Read FILE whole into buf (NUL-terminated); false and the field with the
 * reason on stderr (exit 2) when it cannot be read or holds more than max
 * bytes. Never printed, never logged.
 */
static bool
read_pem(const char *field, const char *path, char *buf, size_t max, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "aapanel cert upload: %s: cannot read %s: %s\n", field, path, strerror(errno));
		return false;
	}
	n = fread(buf, 1, max + 1, f);
	if (ferror(f)) {
		fprintf(stderr, "aapanel cert upload: %s: cannot read %s: %s\n", field, path, strerror(errno));
		fclose(f);
		return false;
	}
	fclose(f);
	if (n > max) {
		fprintf(stderr, "aapanel cert upload: %s: %s is larger than %zu bytes\n", field, path, max);
		return false;
	}
	buf[n] = '\0';
	*len = n;
	return true;
}

/* Follow the certificate's job until it is over (or WAIT_S): its progress on stderr. */
static void
wait_job(const struct ap_sites_env *env, struct ap_cert *c, bool quiet)
{
	time_t end = time(NULL) + WAIT_S;
	int shown = -1;

	while (strcmp(c->state, "pending") == 0 && time(NULL) < end) {
		struct json_object *job = NULL, *v;

		ap_cert_settle(env, c, &job);
		if (job != NULL && json_object_object_get_ex(job, "progress", &v) && !quiet &&
		    json_object_get_int(v) != shown) {
			shown = json_object_get_int(v);
			fprintf(stderr, "  %3d %%\n", shown);
		}
		json_object_put(job);
		if (job == NULL && strcmp(c->state, "pending") == 0)
			break; /* the helper cannot tell: look again later (aapanel cert show) */
		if (strcmp(c->state, "pending") == 0)
			usleep(300 * 1000);
	}
}

struct list_ctx {
	const struct ap_sites_env *env;
	bool json;
	struct json_object *arr;
	int64_t last;
};

static bool
list_row(void *p, const struct ap_cert *row)
{
	struct list_ctx *l = p;
	struct ap_cert c = *row;
	char t[32];

	l->last = row->id;
	if (strcmp(c.state, "pending") == 0)
		ap_cert_settle(l->env, &c, NULL);
	if (l->json) {
		json_object_array_add(l->arr, ap_cert_resource(l->env, &c));
		return true;
	}
	printf("%-5lld %-32s %-7s %-8s %-20s %s\n", (long long)c.id, c.domain, c.source, c.state,
	    when(c.not_after, t, sizeof(t)), c.issuer[0] ? c.issuer : "-");
	return true;
}

static void
show(const struct ap_sites_env *env, struct ap_cert *c, bool json)
{
	struct json_object *d = ap_cert_detail(env, c), *job, *v;
	char t1[32], t2[32];

	if (json) {
		print_json(d);
		return;
	}
	printf("domain:     %s\nnames:      %s\nsource:     %s\nstate:      %s\nissuer:     %s\n"
	       "serial:     %s\nvalid from: %s\nexpires:    %s\n",
	    c->domain, c->names, c->source, c->state, c->issuer[0] ? c->issuer : "-",
	    c->serial[0] ? c->serial : "-", when(c->not_before, t1, sizeof(t1)),
	    when(c->not_after, t2, sizeof(t2)));
	if (strcmp(c->state, "failed") == 0)
		printf("error:      %s\n", c->last_error);
	if (c->last_renewal_at > 0)
		printf("renewed:    %s (%s%s)\n", when(c->last_renewal_at, t1, sizeof(t1)),
		    c->last_renewal_ok == 1 ? "ok" : "failed",
		    strcmp(c->renewal_by, "certbot") == 0 ? ", by certbot's schedule" : "");
	if (json_object_object_get_ex(d, "job", &job) && job != NULL) {
		printf("job:        %lld (%s, %d %%)\n",
		    json_object_object_get_ex(job, "id", &v) ? (long long)json_object_get_int64(v) : 0LL,
		    json_object_object_get_ex(job, "state", &v) ? json_object_get_string(v) : "?",
		    json_object_object_get_ex(job, "progress", &v) ? json_object_get_int(v) : 0);
		if (json_object_object_get_ex(job, "output", &v) && json_object_get_string_len(v) > 0)
			printf("output:\n%s%s", json_object_get_string(v),
			    json_object_get_string(v)[json_object_get_string_len(v) - 1] == '\n' ? "" : "\n");
	}
	json_object_put(d);
}

/* After issue or renew: the outcome said, the Certificate printed with --json. */
static int
finish(const struct ap_sites_env *env, const char *cmd, struct ap_cert *c, bool json, bool nowait)
{
	char t[32];
	int status = 0;

	if (strcmp(c->state, "failed") == 0) {
		fprintf(stderr, "aapanel cert %s: certbot failed: %s\n", cmd, c->last_error);
		status = 1;
	}
	if (json) {
		print_json(ap_cert_resource(env, c));
		return status;
	}
	if (strcmp(c->state, "ok") == 0)
		printf("certificate for %s %s: %s, serial %s, expires %s; nginx serves it\n", c->domain,
		    strcmp(cmd, "renew") == 0 ? "renewed" : "issued", c->issuer, c->serial,
		    when(c->not_after, t, sizeof(t)));
	else if (strcmp(c->state, "pending") == 0)
		printf("certificate for %s: job %lld %s (aapanel cert show %s)\n", c->domain,
		    (long long)c->job_id, nowait ? "started" : "still running", c->domain);
	return status;
}

int
ap_cli_cert(const struct ap_config *cfg, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "chain", required_argument, NULL, 'C' },
		{ "no-wait", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	static char cert[AP_CERT_PEM_MAX + 2], key[AP_CERT_PEM_MAX + 2], chain[AP_CERT_PEM_MAX + 2];
	struct ap_sites_env env = { .cfg = cfg, .job_wait_ms = 120000 };
	const char *sub, *domain = NULL, *cert_f = NULL, *key_f = NULL, *chain_f = NULL;
	size_t cert_len = 0, key_len = 0, chain_len = 0;
	bool json = false, nowait = false;
	struct ap_problem pb;
	struct ap_site s;
	struct ap_cert c, before;
	char cmd[32];
	int status = 1, ch;

	if (argc < 2) {
		fputs(cert_usage, stderr);
		return 2;
	}
	sub = argv[1];
	snprintf(cmd, sizeof(cmd), "cert %s", sub);
	optind = 0; /* glibc: 0 re-initialises getopt after main's own parsing */
	while ((ch = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': cert_f = optarg; break;
		case 'k': key_f = optarg; break;
		case 'C': chain_f = optarg; break;
		case 'n': nowait = true; break;
		case 'j': json = true; break;
		default: fputs(cert_usage, stderr); return 2;
		}
	}
	if (optind < argc - 1)
		domain = argv[optind + 1];
	if (strcmp(sub, "list") != 0 && strcmp(sub, "show") != 0 && strcmp(sub, "issue") != 0 &&
	    strcmp(sub, "renew") != 0 && strcmp(sub, "upload") != 0 && strcmp(sub, "remove") != 0 &&
	    strcmp(sub, "sync") != 0) {
		fputs(cert_usage, stderr);
		return 2;
	}
	bool whole = strcmp(sub, "list") == 0 || strcmp(sub, "sync") == 0; /* no DOMAIN */
	if ((whole && domain != NULL) || (!whole && (domain == NULL || optind + 2 != argc))) {
		fputs(cert_usage, stderr);
		return 2;
	}
	if ((cert_f || key_f || chain_f) && strcmp(sub, "upload") != 0) {
		fprintf(stderr, "aapanel %s: --cert, --key and --chain are for cert upload\n", cmd);
		return 2;
	}
	if (strcmp(sub, "upload") == 0) {
		/* Everything is read before anything runs: a file that cannot be read is refused here. */
		if (cert_f == NULL || key_f == NULL) {
			fprintf(stderr, "aapanel cert upload: %s: is required (a file)\n", cert_f == NULL ? "cert" : "key");
			return 2;
		}
		if (!read_pem("cert", cert_f, cert, AP_CERT_PEM_MAX, &cert_len) ||
		    !read_pem("key", key_f, key, AP_CERT_PEM_MAX, &key_len) ||
		    (chain_f != NULL && !read_pem("chain", chain_f, chain, AP_CERT_PEM_MAX, &chain_len)))
			return 2;
	}
	if (!ap_dbconn_startup(cfg) || (env.db = ap_dbconn_open_cli(cfg)) == NULL)
		return 1;
	env.helper = ap_helper_client_new(cfg->helper_socket, cfg->helper_timeout_ms, 1 << 20);
	if (strcmp(sub, "sync") == 0) {
		/* What the sampler does every certs.watch_interval: jobs settled, certbot's schedule read back. */
		struct ap_cert_sync_stats st;
		int settled = 0;

		if (ap_cert_settle_pending(&env, &settled, &pb) != AP_OK || ap_cert_sync(&env, 0, &st, &pb) != AP_OK) {
			status = ap_cli_problem(cmd, &pb);
			goto out;
		}
		if (json)
			printf("{\"settled\": %d, \"renewed\": %d, \"failed\": %d}\n", settled, st.renewed, st.failed);
		else
			printf("%d job(s) settled, %d renewal(s) by certbot read back, %d failure(s)\n", settled,
			    st.renewed, st.failed);
		status = 0;
		goto out;
	}
	if (strcmp(sub, "list") == 0) {
		struct list_ctx l = { &env, json, json_object_new_array(), 0 };
		enum ap_err e = AP_OK;
		bool more = true;

		if (!json)
			printf("%-5s %-32s %-7s %-8s %-20s %s\n", "ID", "DOMAIN", "SOURCE", "STATE", "EXPIRES", "ISSUER");
		while (e == AP_OK && more) /* as the API's pages: by id, oldest first */
			e = ap_cert_page(&env, l.last, 500, list_row, &l, &more, &pb);
		if (e != AP_OK) {
			json_object_put(l.arr);
			status = ap_cli_problem(cmd, &pb);
			goto out;
		}
		if (json) {
			/* The CertificateList of GET /certificates, every certificate on one page. */
			struct json_object *o = json_object_new_object();

			json_object_object_add(o, "items", l.arr);
			json_object_object_add(o, "next", NULL);
			print_json(o);
		} else
			json_object_put(l.arr);
		status = 0;
		goto out;
	}
	if (strcmp(sub, "upload") == 0 || strcmp(sub, "issue") == 0) {
		if (ap_site_find(&env, domain, &s, &pb) != AP_OK) {
			status = ap_cli_problem(cmd, &pb);
			goto out;
		}
		ap_cli_change(env.db);
		if (strcmp(sub, "upload") == 0 ? ap_cert_upload(&env, &s, cert, cert_len, key, key_len,
						     chain_f ? chain : NULL, chain_len, &c, &pb) != AP_OK
					       : ap_cert_issue_start(&env, &s, &c, &pb) != AP_OK) {
			audit(env.db, strcmp(sub, "upload") == 0 ? "cert.upload" : "cert.issue", domain, "failed",
			    NULL, pb_json(&pb));
			status = ap_cli_problem(cmd, &pb);
			goto out;
		}
		explicit_bzero(key, sizeof(key));
		audit(env.db, strcmp(sub, "upload") == 0 ? "cert.upload" : "cert.issue", domain, "ok", NULL,
		    ap_cert_json(&c));
		if (strcmp(sub, "upload") == 0) {
			char t[32];

			if (json)
				print_json(ap_cert_resource(&env, &c));
			else
				printf("certificate for %s installed: %s, serial %s, expires %s; nginx serves it\n",
				    c.domain, c.issuer, c.serial, when(c.not_after, t, sizeof(t)));
			status = 0;
			goto out;
		}
		if (!nowait)
			wait_job(&env, &c, json);
		status = finish(&env, "issue", &c, json, nowait);
		goto out;
	}
	if (ap_cert_find(&env, domain, &before, &pb) != AP_OK) {
		status = ap_cli_problem(cmd, &pb);
		goto out;
	}
	if (strcmp(sub, "show") == 0) {
		show(&env, &before, json);
		status = 0;
		goto out;
	}
	if (strcmp(sub, "renew") == 0) {
		ap_cert_settle(&env, &before, NULL);
		ap_cli_change(env.db);
		if (ap_cert_renew_start(&env, &before, &c, &pb) != AP_OK) {
			audit(env.db, "cert.renew", domain, "failed", ap_cert_json(&before), pb_json(&pb));
			status = ap_cli_problem(cmd, &pb);
			goto out;
		}
		audit(env.db, "cert.renew", domain, "ok", ap_cert_json(&before), ap_cert_json(&c));
		if (!nowait)
			wait_job(&env, &c, json);
		status = finish(&env, "renew", &c, json, nowait);
		goto out;
	}
	/* remove */
	{
		bool has_site = ap_site_find(&env, domain, &s, &pb) == AP_OK;

		ap_cli_change(env.db);
		if (ap_cert_remove(&env, &before, has_site ? &s : NULL, &pb) != AP_OK) {
			audit(env.db, "cert.remove", domain, "failed", ap_cert_json(&before), pb_json(&pb));
			status = ap_cli_problem(cmd, &pb);
			goto out;
		}
		audit(env.db, "cert.remove", domain, "ok", ap_cert_json(&before),
		    json_tokener_parse("{\"removed\":true}"));
		printf("certificate of %s removed; the site is served over plain HTTP only\n", domain);
		status = 0;
	}
out:
	explicit_bzero(key, sizeof(key));
	ap_helper_client_free(env.helper);
	ap_db_close(env.db);
	return status;
}
