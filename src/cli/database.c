/*
 * database.c — `aapanel dbserver …` and `aapanel database …`: the command-line
 * form of the Databases screens, through the same data functions
 * (src/data/databases.c), validated by the same field tables
 * (src/pages/databases.c), audited the same way (docs/databases.md).
 *
 *   aapanel dbserver add NAME --dsn DSN [--password-file F] [--json]
 *   aapanel dbserver list [--json]
 *   aapanel dbserver remove NAME
 *   aapanel database add NAME --server SERVER [--user U] [--hosts H] [--charset C]
 *       [--collation C] [--encoding E] [--locale L] [--site DOMAIN] [--json]
 *   aapanel database list [--json]
 *   aapanel database passwd NAME [--server SERVER] [--json]
 *   aapanel database reader NAME [--server SERVER] [--user U] [--json]
 *   aapanel database remove NAME [--server SERVER]
 *
 * A name is unique per server (migration 0019): --server may be left out
 * of passwd, reader and remove when one server has a database of that
 * name; when several have one it is exit 2 naming them and --server.
 *
 * The admin password comes from a file (never an argument, which ps shows
 * to everyone) and goes to the helper only. add and passwd print the new
 * password once (with --json {"name","server","user","password"}).
 * Exit 0 on success, 2 for invalid input (the field and the reason on
 * stderr), 1 otherwise.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aapanel/cli.h"
#include "aapanel/databases.h"
#include "aapanel/dbnames.h"
#include "aapanel/pages.h"

static const char dbserver_usage[] =
    "usage: aapanel dbserver add NAME --dsn DSN [--password-file FILE] [--json]\n"
    "       aapanel dbserver list [--json]\n"
    "       aapanel dbserver remove NAME\n";
static const char database_usage[] =
    "usage: aapanel database add NAME --server SERVER [--user U] [--hosts H] [--charset C]\n"
    "           [--collation C] [--encoding E] [--locale L] [--site DOMAIN] [--json]\n"
    "       aapanel database list [--json]\n"
    "       aapanel database passwd NAME [--server SERVER] [--json]\n"
    "       aapanel database reader NAME [--server SERVER] [--user U] [--json]\n"
    "       aapanel database remove NAME [--server SERVER]\n"
    "       aapanel database export NAME [--server SERVER] [--out FILE] [--format sql|sql.gz]\n"
    "       aapanel database import NAME FILE [--server SERVER]\n"
    "       aapanel database history NAME [--server SERVER] [--json]\n";

static void
print_json(struct json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static const char *
jtext(struct json_object *o)
{
	return o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN) : NULL;
}

static void
audit(struct ap_db *db, const char *action, const char *target, const char *outcome,
    struct json_object *before, struct json_object *after)
{
	ap_cli_audit_write(db, action, target, outcome, jtext(before), jtext(after));
	json_object_put(before);
	json_object_put(after);
}

static struct json_object *
pb_json(const struct ap_problem *pb)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string(ap_pb_name(pb->code)));
	json_object_object_add(o, "reason", json_object_new_string(pb->reason));
	return o;
}

/* Check value against the field of the route's table named name; exit status 2 on a refusal. */
static bool
valid(const char *cmd, const struct ap_field *fields, const char *name, const char *value)
{
	struct ap_fieldval v;
	struct ap_problem pb;

	if (value == NULL)
		return true;
	for (size_t i = 0; fields[i].type != AP_FIELD__MAX; i++)
		if (strcmp(fields[i].name, name) == 0) {
			if (ap_field_check(&fields[i], value, strlen(value), 4096, &v, &pb) == AP_OK)
				return true;
			ap_cli_problem(cmd, &pb);
			return false;
		}
	return true;
}

/* The password file's first line (without its newline); false (exit 2) when it cannot be read. */
static bool
read_password(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "r");
	size_t len;

	if (f == NULL) {
		fprintf(stderr, "aapanel dbserver add: password-file: cannot read %s: %s\n", path, strerror(errno));
		return false;
	}
	if (fgets(buf, (int)n, f) == NULL)
		buf[0] = '\0';
	fclose(f);
	len = strcspn(buf, "\r\n");
	if (buf[len] == '\0' && len == n - 1) {
		explicit_bzero(buf, n);
		fprintf(stderr, "aapanel dbserver add: password-file: longer than %zu bytes\n", n - 2);
		return false;
	}
	buf[len] = '\0';
	return true;
}

struct srv_print {
	struct ap_sites_env *env;
	bool json;
	struct json_object *arr;
	struct ap_dbserver rows[64]; /* asked at once (dbserver.statuses), 64 at a time */
	size_t n;
};

static void
srv_flush(struct srv_print *l)
{
	struct json_object *st[64], *v;

	ap_dbserver_statuses(l->env, l->rows, l->n, st);
	for (size_t i = 0; i < l->n; i++) {
		const struct ap_dbserver *s = &l->rows[i];
		struct json_object *o = ap_dbserver_resource(s, st[i]);

		json_object_put(st[i]);
		if (l->json) {
			json_object_array_add(l->arr, o);
			continue;
		}
		printf("%-16s %-10s %-11s %-28s %s\n", s->name, s->engine,
		    json_object_object_get_ex(o, "reachable", &v) && json_object_get_boolean(v) ? "reachable" : "unreachable",
		    json_object_object_get_ex(o, "version", &v) && v ? json_object_get_string(v) : "-", s->dsn);
		json_object_put(o);
	}
	l->n = 0;
}

static bool
srv_row(void *p, const struct ap_dbserver *s)
{
	struct srv_print *l = p;

	l->rows[l->n++] = *s;
	if (l->n == AP_NELEM(l->rows))
		srv_flush(l);
	return true;
}

int
ap_cli_dbserver(const struct ap_config *cfg, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dsn", required_argument, NULL, 'd' },
		{ "password-file", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct ap_sites_env env = { .cfg = cfg };
	const char *sub, *name = NULL, *dsn = NULL, *pwfile = NULL;
	char password[260] = "", cmd[32];
	struct ap_dbserver s;
	struct ap_problem pb;
	bool json = false;
	int status = 1, ch;

	if (argc < 2) {
		fputs(dbserver_usage, stderr);
		return 2;
	}
	sub = argv[1];
	snprintf(cmd, sizeof(cmd), "dbserver %s", sub);
	optind = 0;
	while ((ch = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'd': dsn = optarg; break;
		case 'p': pwfile = optarg; break;
		case 'j': json = true; break;
		default: fputs(dbserver_usage, stderr); return 2;
		}
	}
	if (optind < argc - 1)
		name = argv[optind + 1];
	if ((strcmp(sub, "list") == 0 && name != NULL) ||
	    ((strcmp(sub, "add") == 0 || strcmp(sub, "remove") == 0) && (name == NULL || optind + 2 != argc)) ||
	    (strcmp(sub, "list") != 0 && strcmp(sub, "add") != 0 && strcmp(sub, "remove") != 0)) {
		fputs(dbserver_usage, stderr);
		return 2;
	}
	if (strcmp(sub, "add") == 0) {
		if (dsn == NULL) {
			fprintf(stderr, "aapanel dbserver add: dsn: is required\n");
			return 2;
		}
		if (!valid(cmd, ap_dbserver_add_fields, "name", name) || !valid(cmd, ap_dbserver_add_fields, "dsn", dsn))
			return 2;
		if (pwfile != NULL && !read_password(pwfile, password, sizeof(password)))
			return 2;
	} else if (name != NULL && !valid(cmd, ap_dbserver_add_fields, "name", name))
		return 2;
	if ((env.db = ap_cli_db_open(cfg)) == NULL)
		return 1;
	env.helper = ap_helper_client_new(cfg->helper_socket, cfg->helper_timeout_ms, 1 << 20);
	if (strcmp(sub, "list") == 0) {
		static struct srv_print l;

		l = (struct srv_print){ .env = &env, .json = json, .arr = json_object_new_array() };

		if (!json)
			printf("%-16s %-10s %-11s %-28s %s\n", "NAME", "ENGINE", "STATE", "VERSION", "DSN");
		if (ap_dbserver_each(&env, srv_row, &l, &pb) != AP_OK) {
			json_object_put(l.arr);
			status = ap_cli_problem(cmd, &pb);
			goto out;
		}
		srv_flush(&l);
		if (json) {
			struct json_object *o = json_object_new_object();

			json_object_object_add(o, "items", l.arr);
			json_object_object_add(o, "next", NULL);
			print_json(o);
		} else
			json_object_put(l.arr);
		status = 0;
	} else if (strcmp(sub, "add") == 0) {
		enum ap_err e;

		ap_cli_change(env.db);
		e = ap_dbserver_add(&env, name, dsn, password, &s, &pb);

		explicit_bzero(password, sizeof(password));
		if (e != AP_OK) {
			audit(env.db, "dbserver.add", name, "failed", NULL, pb_json(&pb));
			status = ap_cli_problem(cmd, &pb);
			goto out;
		}
		audit(env.db, "dbserver.add", s.name, "ok", NULL, ap_dbserver_json(&s));
		if (json) {
			struct json_object *st = ap_dbserver_status(&env, &s);

			print_json(ap_dbserver_resource(&s, st));
			json_object_put(st);
		} else
			printf("database server %s added (%s)\n", s.name, s.engine);
		status = 0;
	} else {
		ap_cli_change(env.db);
		if (ap_dbserver_find(&env, name, &s, &pb) != AP_OK || ap_dbserver_remove(&env, &s, &pb) != AP_OK) {
			status = ap_cli_problem(cmd, &pb);
			goto out;
		}
		audit(env.db, "dbserver.remove", s.name, "ok", ap_dbserver_json(&s), NULL);
		printf("database server %s removed\n", s.name);
		status = 0;
	}
out:
	ap_helper_client_free(env.helper);
	ap_db_close(env.db);
	return status;
}

struct db_print {
	bool json;
	struct json_object *arr;
	int64_t last;
};

static bool
db_row(void *p, const struct ap_database *d)
{
	struct db_print *l = p;

	l->last = d->id;
	if (l->json) {
		json_object_array_add(l->arr, ap_database_resource(d, NULL));
		return true;
	}
	printf("%-5lld %-20s %-16s %-20s %s\n", (long long)d->id, d->name, d->server, d->user,
	    d->site[0] ? d->site : "-");
	return true;
}

int
ap_cli_database(const struct ap_config *cfg, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "user", required_argument, NULL, 'u' },
		{ "hosts", required_argument, NULL, 'h' },
		{ "charset", required_argument, NULL, 'c' },
		{ "collation", required_argument, NULL, 'C' },
		{ "encoding", required_argument, NULL, 'e' },
		{ "locale", required_argument, NULL, 'l' },
		{ "site", required_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct ap_sites_env env = { .cfg = cfg };
	struct ap_database_spec sp = { 0 };
	const char *sub, *name = NULL;
	char password[AP_DB_PASSWORD_LEN], cmd[32];
	struct ap_database d;
	struct ap_problem pb;
	bool json = false;
	int status = 1, ch;

	if (argc < 2) {
		fputs(database_usage, stderr);
		return 2;
	}
	sub = argv[1];
	if (strcmp(sub, "export") == 0 || strcmp(sub, "import") == 0 || strcmp(sub, "history") == 0)
		return ap_cli_database_dbio(cfg, argc, argv);
	snprintf(cmd, sizeof(cmd), "database %s", sub);
	optind = 0;
	while ((ch = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
		switch (ch) {
		case 's': sp.server = optarg; break;
		case 'u': sp.user = optarg; break;
		case 'h': sp.hosts = optarg; break;
		case 'c': sp.charset = optarg; break;
		case 'C': sp.collation = optarg; break;
		case 'e': sp.encoding = optarg; break;
		case 'l': sp.locale = optarg; break;
		case 'S': sp.site = optarg; break;
		case 'j': json = true; break;
		default: fputs(database_usage, stderr); return 2;
		}
	}
	if (optind < argc - 1)
		name = argv[optind + 1];
	if ((strcmp(sub, "list") == 0 && name != NULL) ||
	    (strcmp(sub, "list") != 0 && (name == NULL || optind + 2 != argc)) ||
	    (strcmp(sub, "list") != 0 && strcmp(sub, "add") != 0 && strcmp(sub, "passwd") != 0 &&
		strcmp(sub, "remove") != 0 && strcmp(sub, "reader") != 0)) {
		fputs(database_usage, stderr);
		return 2;
	}
	if (strcmp(sub, "add") == 0 && sp.server == NULL) {
		fprintf(stderr, "aapanel %s: server: is required\n", cmd);
		return 2;
	}
	sp.name = name;
	if (!valid(cmd, ap_database_create_fields, "name", name) ||
	    !valid(cmd, ap_database_create_fields, "server", sp.server) ||
	    !valid(cmd, ap_database_create_fields, "user", sp.user) ||
	    !valid(cmd, ap_database_create_fields, "hosts", sp.hosts) ||
	    !valid(cmd, ap_database_create_fields, "charset", sp.charset) ||
	    !valid(cmd, ap_database_create_fields, "collation", sp.collation) ||
	    !valid(cmd, ap_database_create_fields, "encoding", sp.encoding) ||
	    !valid(cmd, ap_database_create_fields, "locale", sp.locale) ||
	    !valid(cmd, ap_database_create_fields, "site", sp.site))
		return 2;
	if ((env.db = ap_cli_db_open(cfg)) == NULL)
		return 1;
	env.helper = ap_helper_client_new(cfg->helper_socket, cfg->helper_timeout_ms, 1 << 20);
	if (strcmp(sub, "list") == 0) {
		struct db_print l = { json, json_object_new_array(), 0 };
		enum ap_err e = AP_OK;
		bool more = true;

		if (!json)
			printf("%-5s %-20s %-16s %-20s %s\n", "ID", "NAME", "SERVER", "USER", "SITE");
		while (e == AP_OK && more)
			e = ap_database_page(&env, 0, l.last, 500, db_row, &l, &more, &pb);
		if (e != AP_OK) {
			json_object_put(l.arr);
			status = ap_cli_problem(cmd, &pb);
			goto out;
		}
		if (json) {
			struct json_object *o = json_object_new_object();

			json_object_object_add(o, "items", l.arr);
			json_object_object_add(o, "next", NULL);
			print_json(o);
		} else
			json_object_put(l.arr);
		status = 0;
	} else if (strcmp(sub, "add") == 0) {
		ap_cli_change(env.db);
		if (ap_database_create(&env, &sp, &d, password, sizeof(password), &pb) != AP_OK) {
			audit(env.db, "database.create", name, "failed", NULL, pb_json(&pb));
			status = ap_cli_problem(cmd, &pb);
			goto out;
		}
		audit(env.db, "database.create", d.name, "ok", NULL, ap_database_json(&d));
		goto print_password;
	} else if (strcmp(sub, "reader") == 0) {
		char ro[40];
		struct ap_database after;

		if (sp.user != NULL)
			snprintf(ro, sizeof(ro), "%s", sp.user);
		else
			snprintf(ro, sizeof(ro), "%s_ro", name);
		if (ap_check_db_ident(ro, strlen(ro)) != NULL) {
			fprintf(stderr, "aapanel %s: user: is required for a name this long\n", cmd);
			status = 2;
			goto out;
		}
		ap_cli_change(env.db);
		if ((status = ap_cli_database_pick(cmd, &env, sp.server, name, &d)) != 0)
			goto out;
		if (ap_database_reader(&env, &d, ro, &after, password, sizeof(password), &pb) != AP_OK) {
			status = ap_cli_problem(cmd, &pb);
			goto out;
		}
		audit(env.db, "database.reader", d.name, "ok", ap_database_json(&d), ap_database_json(&after));
		snprintf(d.user, sizeof(d.user), "%s", ro);
		goto print_password;
	} else if (strcmp(sub, "passwd") == 0) {
		ap_cli_change(env.db);
		if ((status = ap_cli_database_pick(cmd, &env, sp.server, name, &d)) != 0)
			goto out;
		if (ap_database_passwd(&env, &d, password, sizeof(password), &pb) != AP_OK) {
			status = ap_cli_problem(cmd, &pb);
			goto out;
		}
		audit(env.db, "database.passwd", d.name, "ok", NULL, ap_database_json(&d));
		goto print_password;
	} else {
		ap_cli_change(env.db);
		if ((status = ap_cli_database_pick(cmd, &env, sp.server, name, &d)) != 0)
			goto out;
		if (ap_database_drop(&env, &d, &pb) != AP_OK) {
			status = ap_cli_problem(cmd, &pb);
			goto out;
		}
		audit(env.db, "database.drop", d.name, "ok", ap_database_json(&d), NULL);
		printf("database %s on %s and its user %s dropped\n", d.name, d.server, d.user);
		status = 0;
	}
	goto out;
print_password:
	/* Shown once: the panel keeps no copy. */
	if (json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(d.name));
		json_object_object_add(o, "server", json_object_new_string(d.server));
		json_object_object_add(o, "user", json_object_new_string(d.user));
		json_object_object_add(o, "password", json_object_new_string(password));
		print_json(o);
	} else
		printf("database %s on %s\nuser:     %s\npassword: %s\n", d.name, d.server, d.user, password);
	explicit_bzero(password, sizeof(password));
	status = 0;
out:
	ap_helper_client_free(env.helper);
	ap_db_close(env.db);
	return status;
}
