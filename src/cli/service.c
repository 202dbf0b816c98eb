/*
 * service.c — `aapanel service …`: the command-line form of the Services
 * screen, through the same data functions (src/data/services.c) and the
 * same helper operations (docs/services.md).
 *
 *   aapanel service list [--json]
 *   aapanel service status NAME [--json]
 *   aapanel service start|stop|restart|reload|enable|disable NAME [--confirm NAME] [--json]
 *
 * Stopping or disabling a unit of services.protected needs --confirm with
 * its name again. Where systemd is not available, list and status say so
 * ("systemd is not available here: REASON") and exit 0 (--json: available
 * false); an action exits 1 with that reason.
 *
 * Exit 0 on success, 2 for invalid input (the field and the reason on
 * stderr: a name outside services.units, a hostile name, a missing
 * confirmation), 1 for anything else (the helper unavailable, systemd's
 * job failing). Every action is recorded in the audit log with the unit's
 * state before and after.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "aapanel/cli.h"
#include "aapanel/dbconn.h"
#include "aapanel/pages.h"
#include "aapanel/services.h"

static const char service_usage[] =
    "usage: aapanel service list [--json]\n"
    "       aapanel service status NAME [--json]\n"
    "       aapanel service start|stop|restart|reload|enable|disable NAME [--confirm NAME] [--json]\n";

static void
print_json(struct json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static const char *
str(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string)
	    ? json_object_get_string(v) : "";
}

static bool
available(struct json_object *res)
{
	struct json_object *v;

	return json_object_object_get_ex(res, "available", &v) && json_object_get_boolean(v);
}

static void
line(struct json_object *u)
{
	struct json_object *v;
	char pid[24] = "-";

	if (json_object_object_get_ex(u, "main_pid", &v) && v != NULL)
		snprintf(pid, sizeof(pid), "%lld", (long long)json_object_get_int64(v));
	printf("%-32s %-10s %-10s %-10s %8s%s\n", str(u, "name"), str(u, "active_state"), str(u, "sub_state"),
	    str(u, "unit_file_state")[0] ? str(u, "unit_file_state") : "-", pid,
	    json_object_object_get_ex(u, "protected", &v) && json_object_get_boolean(v) ? "  protected" : "");
}

static int
list(const struct ap_sites_env *env, bool json)
{
	struct json_object *res = NULL, *units, *out;
	struct ap_problem pb;

	if (ap_service_list(env, &res, &pb) != AP_OK)
		return ap_cli_problem("service list", &pb);
	if (json) {
		out = json_object_new_object();
		json_object_object_add(out, "available", json_object_new_boolean(available(res)));
		json_object_object_add(out, "reason", available(res) ? NULL : json_object_new_string(str(res, "reason")));
		units = json_object_new_array();
		if (available(res)) {
			struct json_object *a;

			json_object_object_get_ex(res, "units", &a);
			for (size_t i = 0; a != NULL && i < json_object_array_length(a); i++)
				json_object_array_add(units, ap_service_resource(json_object_array_get_idx(a, i)));
		}
		json_object_object_add(out, "units", units);
		print_json(out);
	} else if (!available(res)) {
		printf("systemd is not available here: %s\n", str(res, "reason"));
	} else {
		printf("%-32s %-10s %-10s %-10s %8s\n", "UNIT", "STATE", "SUB", "AT BOOT", "PID");
		json_object_object_get_ex(res, "units", &units);
		for (size_t i = 0; units != NULL && i < json_object_array_length(units); i++)
			line(json_object_array_get_idx(units, i));
	}
	json_object_put(res);
	return 0;
}

static int
status(const struct ap_sites_env *env, const char *name, bool json)
{
	struct json_object *res = NULL, *v, *out;
	struct ap_problem pb;

	if (ap_service_status(env, name, &res, &pb) != AP_OK)
		return ap_cli_problem("service status", &pb);
	if (json) {
		out = json_object_new_object();
		json_object_object_add(out, "available", json_object_new_boolean(available(res)));
		json_object_object_add(out, "reason", available(res) ? NULL : json_object_new_string(str(res, "reason")));
		json_object_object_add(out, "unit", available(res) && json_object_object_get_ex(res, "unit", &v)
		    ? ap_service_resource(v) : NULL);
		json_object_object_add(out, "journal", json_object_object_get_ex(res, "journal", &v)
		    ? json_object_get(v) : json_object_new_array());
		print_json(out);
	} else if (!available(res)) {
		printf("systemd is not available here: %s\n", str(res, "reason"));
	} else {
		json_object_object_get_ex(res, "unit", &v);
		printf("%-32s %-10s %-10s %-10s %8s\n", "UNIT", "STATE", "SUB", "AT BOOT", "PID");
		line(v);
		if (json_object_object_get_ex(res, "journal", &v) && json_object_array_length(v) > 0) {
			printf("\n");
			for (size_t i = 0; i < json_object_array_length(v); i++) {
				struct json_object *l = json_object_array_get_idx(v, i), *t;
				time_t tt = json_object_object_get_ex(l, "time", &t) ? (time_t)json_object_get_int64(t) : 0;
				struct tm tm;
				char when[32];

				gmtime_r(&tt, &tm);
				strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
				printf("%s  %s\n", when, str(l, "message"));
			}
		}
	}
	json_object_put(res);
	return 0;
}

static int
action(const struct ap_config *cfg, const struct ap_sites_env *env, const char *act, const char *name,
    const char *confirm, bool json)
{
	struct json_object *res = NULL, *before = NULL, *v, *st = NULL;
	char cmd[64], target[AP_SERVICE_NAME_LEN];
	struct ap_problem pb;
	struct ap_db *db;
	int rc;

	snprintf(cmd, sizeof(cmd), "service %s", act);
	snprintf(target, sizeof(target), "%s", name);
	/* The audit log first: a panel database that cannot be written to refuses
	 * before the service is touched (docs/security.md, "The CLI's changes"). */
	if ((db = ap_cli_db_open(cfg)) == NULL)
		return 1;
	if (ap_service_status(env, name, &st, &pb) == AP_OK && json_object_object_get_ex(st, "unit", &v))
		before = ap_service_resource(v);
	json_object_put(st);
	st = NULL;
	if (ap_service_control(env, name, act, confirm, &res, &pb) != AP_OK) {
		rc = ap_cli_problem(cmd, &pb);
		if (pb.code != AP_PB_INVALID) {
			struct json_object *after = NULL;

			if (ap_service_status(env, name, &st, &pb) == AP_OK && json_object_object_get_ex(st, "unit", &v))
				after = ap_service_resource(v);
			json_object_put(st);
			ap_cli_audit_write(db, strchr(cmd, ' ') != NULL ? "service.control" : cmd, target, "failed",
			    before ? json_object_to_json_string(before) : NULL, after ? json_object_to_json_string(after) : NULL);
			json_object_put(after);
		}
		ap_db_close(db);
		json_object_put(before);
		return rc;
	}
	json_object_put(before);
	{
		struct json_object *b = NULL, *a = NULL;

		if (json_object_object_get_ex(res, "before", &v))
			b = ap_service_resource(v);
		if (json_object_object_get_ex(res, "after", &v))
			a = ap_service_resource(v);
		snprintf(cmd, sizeof(cmd), "service.%s", act);
		ap_cli_audit_write(db, cmd, target, "ok", b ? json_object_to_json_string(b) : NULL,
		    a ? json_object_to_json_string(a) : NULL);
		json_object_put(b);
		json_object_put(a);
		ap_db_close(db);
	}
	if (json) {
		struct json_object *out = json_object_new_object();

		json_object_object_add(out, "name", json_object_new_string(name));
		json_object_object_add(out, "action", json_object_new_string(act));
		json_object_object_add(out, "result", json_object_new_string(str(res, "result")));
		json_object_object_add(out, "before", json_object_object_get_ex(res, "before", &v) ? ap_service_resource(v) : NULL);
		json_object_object_add(out, "after", json_object_object_get_ex(res, "after", &v) ? ap_service_resource(v) : NULL);
		print_json(out);
	} else if (json_object_object_get_ex(res, "after", &v)) {
		printf("%s: %s done; now %s (%s)\n", name, act, str(v, "active_state"), str(v, "sub_state"));
	}
	json_object_put(res);
	return 0;
}

int
ap_cli_service(const struct ap_config *cfg, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "confirm", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ap_sites_env env = { .cfg = cfg, .job_wait_ms = (cfg->services_action_timeout + 10) * 1000 };
	const char *sub, *confirm = NULL;
	char name[AP_SERVICE_NAME_LEN];
	struct ap_problem pb;
	bool json = false, known = false;
	int c, rc = 1;

	optind = 0; /* glibc: 0 re-initialises getopt after main's own parsing */
	opterr = 0;
	if (argc < 2) {
		fputs(service_usage, stderr);
		return 2;
	}
	sub = argv[1];
	while ((c = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 'c': confirm = optarg; break;
		case 'h': fputs(service_usage, stdout); return 0;
		default:
			fprintf(stderr, "aapanel service: unknown option\n%s", service_usage);
			return 2;
		}
	}
	/* getopt ran over argv+1 (permuting): (argv+1)[optind] is the name */
	for (size_t i = 0; ap_service_actions[i] != NULL; i++)
		known = known || strcmp(sub, ap_service_actions[i]) == 0;
	if (strcmp(sub, "list") != 0 && strcmp(sub, "status") != 0 && !known) {
		fprintf(stderr, "aapanel service: unknown command '%s'\n%s", sub, service_usage);
		return 2;
	}
	env.helper = ap_helper_client_new(cfg->helper_socket, cfg->helper_timeout_ms, 1 << 20);
	if (strcmp(sub, "list") == 0) {
		rc = list(&env, json);
		goto out;
	}
	if (optind >= argc - 1 || optind + 1 < argc - 1) {
		fprintf(stderr, "aapanel service %s: name: one unit name is required\n", sub);
		rc = 2;
		goto out;
	}
	if (ap_service_name(cfg, "name", argv[1 + optind], name, &pb) != AP_OK) {
		char cmd[32];

		snprintf(cmd, sizeof(cmd), "service %s", sub);
		rc = ap_cli_problem(cmd, &pb);
		goto out;
	}
	rc = strcmp(sub, "status") == 0 ? status(&env, name, json) : action(cfg, &env, sub, name, confirm, json);
out:
	ap_helper_client_free(env.helper);
	return rc;
}
