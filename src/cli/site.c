/*
 * site.c — `aapanel site …`: the command-line form of the Websites screen,
 * through the same data functions (src/data/sites.c) and the same helper.
 *
 *   aapanel site add DOMAIN --type static|php|proxy [--alias A]... [--root DIR]
 *                    [--php VERSION] [--upstream URL] [--index "a b"]
 *                    [--https-redirect] [--error-404 PATH] [--error-50x PATH] [--json]
 *   aapanel site list [--json]
 *   aapanel site show DOMAIN [--json]
 *   aapanel site disable|enable|reapply DOMAIN [--json]
 *   aapanel site remove DOMAIN [--delete-files]
 *
 * --json prints what the API answers, made by the same functions
 * (src/pages/sites.c): a Site (add, disable, enable, reapply), a SiteList
 * with every site and next null (list), a SiteDetail (show).
 *
 * Exit 0 on success, 2 for invalid input (the field and the reason on
 * stderr; also an unknown or existing domain), 1 for anything else (the
 * helper unavailable, nginx -t refusing the change: its own message).
 */
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aapanel/audit.h"
#include "aapanel/cli.h"
#include "aapanel/dbconn.h"
#include "aapanel/log.h"
#include "aapanel/pages.h"
#include "aapanel/sites.h"

static const char site_usage[] =
    "usage: aapanel site add DOMAIN --type static|php|proxy [--alias NAME]... [--root DIR]\n"
    "                        [--php VERSION] [--upstream URL] [--index \"FILE...\"]\n"
    "                        [--https-redirect] [--error-404 PATH] [--error-50x PATH] [--json]\n"
    "       aapanel site list [--json]\n"
    "       aapanel site show DOMAIN [--json]\n"
    "       aapanel site disable DOMAIN | enable DOMAIN | reapply DOMAIN [--json]\n"
    "       aapanel site remove DOMAIN [--delete-files]\n";

static int
status_of(const char *cmd, const struct ap_problem *pb)
{
	if (pb->field[0])
		fprintf(stderr, "aapanel site %s: %s: %s\n", cmd, pb->field, pb->reason);
	else
		fprintf(stderr, "aapanel site %s: %s\n", cmd, pb->reason[0] ? pb->reason : ap_pb_name(pb->code));
	switch (pb->code) {
	case AP_PB_INVALID:
	case AP_PB_EXISTS:
	case AP_PB_NOT_FOUND:
	case AP_PB_CONFLICT:
		return 2;
	default:
		return 1;
	}
}

static void
audit(struct ap_db *db, const char *action, const char *target, const char *outcome,
    struct json_object *before, struct json_object *after)
{
	ap_cli_audit_json(db, action, target, outcome, before, after);
}

static const char *
when(int64_t t, char *buf, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0)
		return "-";
	gmtime_r(&tt, &tm);
	strftime(buf, n, "%Y-%m-%d", &tm);
	return buf;
}

static const char *
served(const struct ap_site *s)
{
	return s->probe_ok == 1 ? "yes" : s->probe_ok == 0 ? "NO" : "?";
}

struct list_ctx {
	const struct ap_sites_env *env;
	int port;
	bool json;
	struct json_object *arr;
	int64_t last; /* the last id seen (JSON: pages by id) */
};

static bool
list_row(void *p, const struct ap_site *row)
{
	struct list_ctx *l = p;
	struct ap_sites_env quiet = *l->env;
	struct ap_site s = *row;
	char c[16];

	quiet.db = NULL; /* a look, not recorded */
	l->last = row->id;
	if (l->port > 0)
		ap_site_probe(&quiet, l->port, &s, 0, NULL);
	if (l->json) {
		json_object_array_add(l->arr, ap_site_resource(&s));
		return true;
	}
	printf("%-32s %-7s %-9s %-7s %s\n", s.spec.domain, ap_site_kinds[s.spec.kind],
	    s.enabled ? "enabled" : "disabled", served(&s), when(s.cert_not_after, c, sizeof(c)));
	return true;
}

static void
print_json(struct json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static void
show(const struct ap_sites_env *env, struct ap_site *s, bool json)
{
	struct json_object *d = ap_site_detail(env, ap_site_port(env), s), *v;

	if (json) {
		print_json(d);
		return;
	}
	printf("domain:     %s\naliases:    %s\ntype:       %s\nstate:      %s\nroot:       %s\n",
	    s->spec.domain, s->spec.aliases, ap_site_kinds[s->spec.kind],
	    s->enabled ? "enabled" : "disabled", s->spec.root);
	if (s->spec.kind == AP_SITE_PHP)
		printf("php:        %s\n", s->spec.php);
	if (s->spec.kind == AP_SITE_PROXY)
		printf("upstream:   %s\n", s->spec.upstream);
	printf("runs as:    %s\nrevision:   %lld\nserved:     %s (%s)\n", s->system_user,
	    (long long)s->revision, served(s), s->probe_message);
	if (json_object_object_get_ex(d, "drift", &v) && json_object_get_boolean(v) &&
	    json_object_object_get_ex(d, "diff", &v) && v != NULL)
		printf("drift: the vhost on disk differs from the panel's (aapanel site reapply %s):\n%s",
		    s->spec.domain, json_object_get_string(v));
	json_object_put(d);
}

/* Copy an option's value; false (and a message) when it does not fit: refused, never cut. */
static bool
set_opt(char *dst, size_t n, const char *name, const char *v)
{
	if (v == NULL || strlen(v) >= n) {
		fprintf(stderr, "aapanel site: %s: must be at most %zu characters\n", name, n - 1);
		return false;
	}
	snprintf(dst, n, "%s", v);
	return true;
}

/* --root: relative to the site's home, or an absolute path beneath it. */
static void
root_of(const struct ap_config *cfg, const char *domain, const char *arg, char *out, size_t n)
{
	char home[4096];
	size_t hl;

	snprintf(home, sizeof(home), "%s%s%s/%s/", cfg->helper_sandbox_root,
	    strcmp(cfg->helper_sandbox_root, "/") == 0 ? "" : "/", cfg->sites_web_root, domain);
	hl = strlen(home);
	if (strncmp(arg, home, hl) == 0)
		arg += hl;
	snprintf(out, n, "%s", arg);
}

int
ap_cli_site(const struct ap_config *cfg, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "type", required_argument, NULL, 't' },
		{ "alias", required_argument, NULL, 'a' },
		{ "root", required_argument, NULL, 'r' },
		{ "php", required_argument, NULL, 'p' },
		{ "upstream", required_argument, NULL, 'u' },
		{ "index", required_argument, NULL, 'i' },
		{ "https-redirect", no_argument, NULL, 'H' },
		{ "error-404", required_argument, NULL, '4' },
		{ "error-50x", required_argument, NULL, '5' },
		{ "delete-files", no_argument, NULL, 'D' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct ap_site_spec sp;
	struct ap_sites_env env = { .cfg = cfg, .job_wait_ms = 120000 };
	const char *sub, *domain = NULL, *type = NULL, *root = NULL;
	bool json = false, delete_files = false;
	struct ap_problem pb;
	struct ap_site s, before;
	int status = 1, ch;

	memset(&sp, 0, sizeof(sp));
	if (argc < 2) {
		fputs(site_usage, stderr);
		return 2;
	}
	sub = argv[1];
	optind = 0; /* glibc: 0 re-initialises getopt after main's own parsing */
	while ((ch = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
		size_t l;

		switch (ch) {
		case 't': type = optarg; break;
		case 'a':
			l = strlen(sp.aliases);
			if (l + strlen(optarg) + 2 > sizeof(sp.aliases)) {
				fprintf(stderr, "aapanel site: aliases: too many\n");
				return 2;
			}
			snprintf(sp.aliases + l, sizeof(sp.aliases) - l, "%s%s", l ? " " : "", optarg);
			break;
		case 'r': root = optarg; break;
		case 'p':
			if (!set_opt(sp.php, sizeof(sp.php), "php", optarg))
				return 2;
			break;
		case 'u':
			if (!set_opt(sp.upstream, sizeof(sp.upstream), "upstream", optarg))
				return 2;
			break;
		case 'i':
			if (!set_opt(sp.index, sizeof(sp.index), "index", optarg))
				return 2;
			break;
		case 'H': sp.https_redirect = true; break;
		case '4':
			if (!set_opt(sp.error_404, sizeof(sp.error_404), "error_404", optarg))
				return 2;
			break;
		case '5':
			if (!set_opt(sp.error_50x, sizeof(sp.error_50x), "error_50x", optarg))
				return 2;
			break;
		case 'D': delete_files = true; break;
		case 'j': json = true; break;
		default: fputs(site_usage, stderr); return 2;
		}
	}
	if (optind < argc - 1)
		domain = argv[optind + 1];
	if ((strcmp(sub, "list") == 0 && domain != NULL) ||
	    (strcmp(sub, "list") != 0 && (domain == NULL || optind + 2 != argc))) {
		fputs(site_usage, stderr);
		return 2;
	}
	if (strcmp(sub, "add") == 0) {
		if (type == NULL || !ap_site_kind_parse(type, &sp.kind)) {
			fprintf(stderr, "aapanel site add: --type: must be static, php or proxy\n");
			return 2;
		}
		/* Input is checked whole before anything runs: an over-long value is refused, not cut. */
		if (!set_opt(sp.domain, sizeof(sp.domain), "domain", domain))
			return 2;
		if (root != NULL) {
			char rel[4096];

			root_of(cfg, domain, root, rel, sizeof(rel));
			if (strlen(root) >= sizeof(rel) || !set_opt(sp.root, sizeof(sp.root), "root", rel))
				return 2;
		}
	} else if (strcmp(sub, "list") != 0 && strcmp(sub, "show") != 0 && strcmp(sub, "disable") != 0 &&
		   strcmp(sub, "enable") != 0 && strcmp(sub, "reapply") != 0 && strcmp(sub, "remove") != 0) {
		fputs(site_usage, stderr);
		return 2;
	}
	if (!ap_dbconn_startup(cfg) || (env.db = ap_dbconn_open_cli(cfg)) == NULL)
		return 1;
	env.helper = ap_helper_client_new(cfg->helper_socket, cfg->helper_timeout_ms, 1 << 20);
	if (strcmp(sub, "list") == 0) {
		struct list_ctx l = { &env, ap_site_port(&env), json, json_object_new_array(), 0 };
		enum ap_err e;
		bool more = true;

		if (!json) {
			printf("%-32s %-7s %-9s %-7s %s\n", "DOMAIN", "TYPE", "STATE", "SERVED", "CERTIFICATE");
			e = ap_site_each(&env, list_row, &l, &pb);
		} else /* as the API's pages: by id, oldest first */
			for (e = AP_OK; e == AP_OK && more;)
				e = ap_site_page(&env, l.last, 500, list_row, &l, &more, &pb);
		if (e != AP_OK) {
			json_object_put(l.arr);
			status = status_of(sub, &pb);
			goto out;
		}
		if (json) {
			/* The SiteList of GET /sites, every site on one page. */
			struct json_object *o = json_object_new_object();

			json_object_object_add(o, "items", l.arr);
			json_object_object_add(o, "next", NULL);
			print_json(o);
		} else
			json_object_put(l.arr);
		status = 0;
		goto out;
	}
	if (strcmp(sub, "add") == 0) {
		ap_cli_change(env.db);
		if (ap_site_create(&env, &sp, &s, &pb) != AP_OK) {
			status = status_of(sub, &pb);
			goto out;
		}
		audit(env.db, "site.add", s.spec.domain, "ok", NULL, ap_site_json(&s));
		if (json)
			print_json(ap_site_resource(&s));
		else
			printf("site %s created (%s, runs as %s); nginx %s: %s\n", s.spec.domain,
			    ap_site_kinds[s.spec.kind], s.system_user,
			    s.probe_ok == 1 ? "serves it" : "does not serve it yet", s.probe_message);
		status = 0;
		goto out;
	}
	if (ap_site_find(&env, domain, &before, &pb) != AP_OK) {
		status = status_of(sub, &pb);
		goto out;
	}
	if (strcmp(sub, "show") == 0) {
		show(&env, &before, json);
		status = 0;
		goto out;
	}
	if (strcmp(sub, "remove") == 0) {
		ap_cli_change(env.db);
		if (ap_site_delete(&env, before.id, delete_files, &before, &pb) != AP_OK) {
			status = status_of(sub, &pb);
			goto out;
		}
		audit(env.db, "site.delete", domain, "ok", ap_site_json(&before),
		    json_tokener_parse(delete_files ? "{\"deleted\":true,\"files_deleted\":true}"
						    : "{\"deleted\":true,\"files_deleted\":false}"));
		printf("site %s removed%s\n", domain, delete_files ? " with its files" : "");
		status = 0;
		goto out;
	}
	ap_cli_change(env.db);
	if (strcmp(sub, "reapply") == 0 ? ap_site_reapply(&env, before.id, &s, &pb) != AP_OK
					: ap_site_set_enabled(&env, before.id, strcmp(sub, "enable") == 0, &s,
					      &pb) != AP_OK) {
		status = status_of(sub, &pb);
		goto out;
	}
	{
		char action[32];

		snprintf(action, sizeof(action), "site.%s", sub);
		audit(env.db, action, domain, "ok", ap_site_json(&before), ap_site_json(&s));
	}
	if (json) {
		print_json(ap_site_resource(&s));
		status = 0;
		goto out;
	}
	printf("site %s %s (revision %lld); nginx %s: %s\n", domain,
	    strcmp(sub, "reapply") == 0 ? "re-applied" : strcmp(sub, "enable") == 0 ? "enabled" : "disabled",
	    (long long)s.revision, s.probe_ok == 1 ? "serves it" : "does not serve it yet", s.probe_message);
	status = 0;
out:
	ap_helper_client_free(env.helper);
	ap_db_close(env.db);
	return status;
}
