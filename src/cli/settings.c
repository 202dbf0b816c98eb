/*
 * settings.c — `aapanel settings show [--json]` and `aapanel settings set
 * KEY VALUE...`: the Settings screen's values from the command line, through
 * the same files (nginx.listen_file, panel.settings_file), the same
 * validators and the same helper operations. Run it as the panel's user
 * (the helper answers only that uid), e.g. `sudo -u www aapanel settings …`.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "aapanel/audit.h"
#include "aapanel/cli.h"
#include "aapanel/dbconn.h"
#include "aapanel/helper.h"
#include "aapanel/listenconf.h"

struct values {
	char address[64];
	int port;
	char base[256];
	char allow[1025];
	int idle, absolute;
	bool have_listen;
};

static void
current(const struct ap_config *cfg, struct values *v)
{
	struct ap_listen l;

	memset(v, 0, sizeof(*v));
	v->have_listen = cfg->nginx_listen_file[0] != '\0' && ap_listen_read(cfg->nginx_listen_file, &l);
	if (v->have_listen) {
		snprintf(v->address, sizeof(v->address), "%s", l.address);
		v->port = l.port;
	}
	snprintf(v->base, sizeof(v->base), "%s", cfg->base_path);
	snprintf(v->allow, sizeof(v->allow), "%s", cfg->access_allow);
	v->idle = cfg->session_idle_timeout;
	v->absolute = cfg->session_absolute_timeout;
}

static int
show(const struct ap_config *cfg, bool json)
{
	struct values v;
	struct json_object *o = json_object_new_object();

	current(cfg, &v);
	json_object_object_add(o, "address", v.have_listen ? json_object_new_string(v.address) : NULL);
	json_object_object_add(o, "port", v.have_listen ? json_object_new_int64(v.port) : NULL);
	json_object_object_add(o, "base_path", json_object_new_string(v.base));
	json_object_object_add(o, "allow", json_object_new_string(v.allow));
	json_object_object_add(o, "idle_timeout", json_object_new_int64(v.idle));
	json_object_object_add(o, "absolute_timeout", json_object_new_int64(v.absolute));
	if (json) {
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	} else {
		printf("panel.address             %s\n", v.have_listen ? v.address : "(nginx.listen_file not set)");
		if (v.have_listen)
			printf("panel.port                %d\n", v.port);
		printf("panel.base_path           %s\n", v.base);
		printf("access.allow              %s\n", v.allow[0] ? v.allow : "(everyone)");
		printf("session.idle_timeout      %d\n", v.idle);
		printf("session.absolute_timeout  %d\n", v.absolute);
	}
	json_object_put(o);
	return 0;
}

static int
bad(const char *key, const char *why)
{
	fprintf(stderr, "aapanel settings: %s: %s\n", key, why);
	return 2;
}

static int
call(const struct ap_config *cfg, const char *op, struct json_object *args)
{
	struct ap_helper_client *h = ap_helper_client_new(cfg->helper_socket, cfg->helper_timeout_ms, 1 << 20);
	struct json_object *res = NULL;
	struct ap_problem pb;
	enum ap_err rc = ap_helper_call(h, op, args, &res, &pb);

	json_object_put(res);
	ap_helper_client_free(h);
	if (rc == AP_OK)
		return 0;
	fprintf(stderr, "aapanel settings: %s%s%s\n", pb.field[0] ? pb.field : "", pb.field[0] ? ": " : "",
	    pb.reason[0] ? pb.reason : "the helper failed");
	return rc == AP_ERR_INVAL ? 2 : 1;
}


static char *
values_json(const struct values *v)
{
	struct json_object *o = json_object_new_object();
	char *s;

	json_object_object_add(o, "address", json_object_new_string(v->address));
	json_object_object_add(o, "port", json_object_new_int64(v->port));
	json_object_object_add(o, "base_path", json_object_new_string(v->base));
	json_object_object_add(o, "allow", json_object_new_string(v->allow));
	json_object_object_add(o, "idle_timeout", json_object_new_int64(v->idle));
	json_object_object_add(o, "absolute_timeout", json_object_new_int64(v->absolute));
	s = ap_xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return s;
}

/* Parse and check every KEY VALUE pair into *v before anything changes. */
static int
parse_pairs(const struct values *cur, struct values *v, int argc, char **argv)
{
	char why[192];

	*v = *cur;
	if (argc < 2 || argc % 2 != 0)
		return bad("usage", "aapanel settings set KEY VALUE [KEY VALUE...]");
	for (int i = 0; i < argc; i += 2) {
		const char *k = argv[i], *val = argv[i + 1];

		if (strcmp(k, "panel.address") == 0 || strcmp(k, "panel.port") == 0) {
			if (!cur->have_listen)
				return bad(k, "nginx.listen_file is not set or unreadable");
			if (strcmp(k, "panel.address") == 0) {
				if (!ap_listen_address_ok(val))
					return bad(k, "must be * (every address) or an IPv4 or IPv6 address");
				snprintf(v->address, sizeof(v->address), "%s", val);
			} else {
				char *end = NULL;
				long p = strtol(val, &end, 10);

				if (val[0] == '\0' || *end != '\0' || p < 1 || p > 65535)
					return bad(k, "must be between 1 and 65535");
				if (p != cur->port && p < 1024)
					return bad(k, "ports below 1024 belong to system services; choose 1024 or above");
				if (p != cur->port && ap_listen_port_in_use((int)p))
					return bad(k, "already in use on this server");
				v->port = (int)p;
			}
		} else if (!ap_config_setting_check(k, val, why, sizeof(why))) {
			return bad(k, why);
		} else if (strcmp(k, "panel.base_path") == 0) {
			snprintf(v->base, sizeof(v->base), "%s", val);
		} else if (strcmp(k, "access.allow") == 0) {
			snprintf(v->allow, sizeof(v->allow), "%s", val);
		} else if (strcmp(k, "session.idle_timeout") == 0) {
			v->idle = atoi(val);
		} else {
			v->absolute = atoi(val);
		}
	}
	if (v->absolute < v->idle)
		return bad("session.absolute_timeout", "must be at least session.idle_timeout");
	return 0;
}

int
ap_cli_settings(const struct ap_config *cfg, int argc, char **argv, bool *reload)
{
	struct values cur, v;
	struct json_object *a;
	char *before = NULL, *after = NULL;
	struct ap_db *db = NULL;
	bool listen_changed, layer_changed;
	int rc;

	*reload = false;
	if (argc >= 2 && strcmp(argv[1], "show") == 0 && argc <= 3)
		return show(cfg, argc == 3 && strcmp(argv[2], "--json") == 0);
	if (argc < 2 || strcmp(argv[1], "set") != 0)
		return bad("usage", "aapanel settings show [--json] | aapanel settings set KEY VALUE [KEY VALUE...]");
	current(cfg, &cur);
	if ((rc = parse_pairs(&cur, &v, argc - 2, argv + 2)) != 0)
		return rc;
	listen_changed = cur.have_listen && (strcmp(v.address, cur.address) != 0 || v.port != cur.port ||
	    strcmp(v.base, cur.base) != 0);
	layer_changed = strcmp(v.base, cur.base) != 0 || strcmp(v.allow, cur.allow) != 0 || v.idle != cur.idle ||
	    v.absolute != cur.absolute;
	if (layer_changed && cfg->settings_file[0] == '\0')
		return bad("panel.settings_file", "not set: change these keys in the configuration");
	/* The audit log first: a panel database that cannot be opened refuses
	 * before the helper changes anything (docs/security.md, "The CLI's changes"). */
	if ((listen_changed || layer_changed) && (db = ap_dbconn_open_cli(cfg)) == NULL)
		return 1;
	if (listen_changed) {
		a = json_object_new_object();
		json_object_object_add(a, "address", json_object_new_string(v.address));
		json_object_object_add(a, "port", json_object_new_int64(v.port));
		json_object_object_add(a, "base_path", json_object_new_string(v.base));
		rc = call(cfg, "panel.listen", a);
		json_object_put(a);
		if (rc != 0) {
			ap_db_close(db);
			return rc;
		}
	}
	if (layer_changed) {
		a = json_object_new_object();
		json_object_object_add(a, "base_path", json_object_new_string(v.base));
		json_object_object_add(a, "allow", json_object_new_string(v.allow));
		json_object_object_add(a, "idle_timeout", json_object_new_int64(v.idle));
		json_object_object_add(a, "absolute_timeout", json_object_new_int64(v.absolute));
		rc = call(cfg, "panel.settings", a);
		json_object_put(a);
		if (rc != 0) {
			ap_db_close(db);
			return rc;
		}
		*reload = true;
	}
	before = values_json(&cur);
	after = values_json(&v);
	if (listen_changed || layer_changed) {
		ap_cli_audit_write(db, "settings.cli", "settings", "ok", before, after);
		ap_db_close(db);
	}
	printf(listen_changed || layer_changed ? "saved\n" : "nothing changed\n");
	free(before);
	free(after);
	return 0;
}
