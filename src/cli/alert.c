/*
 * alert.c — `aapanel alert`: the command-line form of /alerts, its forms
 * and /alerts/history. Arguments are checked by the routes' own field
 * tables (ap_alert_rule_fields, ap_alert_channel_fields,
 * ap_alert_history_fields, ap_id_fields) through ap_fields_validate, and
 * a channel's kind-dependent checks by the function the handler calls, so
 * the command and the API refuse the same values with the same field and
 * reason. Changes go to the audit log with the handlers' actions and
 * values; --json prints the API's resources, projected onto their schemas.
 *
 * A webhook's secret is read from a file (or stdin, "-"): there is no
 * option that takes it, and long options must be spelt out, so getopt
 * cannot take "--secret X" for "--secret-file X" and print X in an error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "aapanel/alerts.h"
#include "aapanel/cli.h"
#include "aapanel/metrics.h"
#include "aapanel/notify.h"
#include "aapanel/pages.h"
#include "aapanel/sampler.h"

static const char alert_usage[] =
    "usage: aapanel alert list [--json]\n"
    "       aapanel alert rule list [--json]\n"
    "       aapanel alert rule show ID [--json]\n"
    "       aapanel alert rule add --metric METRIC --threshold N [--target T]\n"
    "                              [--duration MINUTES] [--channel ID] [--json]\n"
    "       aapanel alert rule enable ID [--json] | rule disable ID [--json]\n"
    "       aapanel alert rule remove ID\n"
    "       aapanel alert channel list [--json]\n"
    "       aapanel alert channel show ID [--json]\n"
    "       aapanel alert channel add NAME --email ADDRESS [--json]\n"
    "       aapanel alert channel add NAME --webhook URL --secret-file FILE|- [--json]\n"
    "       aapanel alert channel test ID | channel remove ID\n"
    "       aapanel alert history [--limit N] [--cursor C] [--json]\n";

/* The options, one bit each, so every subcommand says which it takes. */
enum opt {
	O_JSON, O_METRIC, O_THRESHOLD, O_TARGET, O_DURATION, O_CHANNEL, O_EMAIL, O_WEBHOOK, O_SECRET_FILE,
	O_LIMIT, O_CURSOR, O__MAX
};
static const struct option longopts[] = {
	[O_JSON] = { "json", no_argument, NULL, O_JSON },
	[O_METRIC] = { "metric", required_argument, NULL, O_METRIC },
	[O_THRESHOLD] = { "threshold", required_argument, NULL, O_THRESHOLD },
	[O_TARGET] = { "target", required_argument, NULL, O_TARGET },
	[O_DURATION] = { "duration", required_argument, NULL, O_DURATION },
	[O_CHANNEL] = { "channel", required_argument, NULL, O_CHANNEL },
	[O_EMAIL] = { "email", required_argument, NULL, O_EMAIL },
	[O_WEBHOOK] = { "webhook", required_argument, NULL, O_WEBHOOK },
	[O_SECRET_FILE] = { "secret-file", required_argument, NULL, O_SECRET_FILE },
	[O_LIMIT] = { "limit", required_argument, NULL, O_LIMIT },
	[O_CURSOR] = { "cursor", required_argument, NULL, O_CURSOR },
	[O__MAX] = { NULL, 0, NULL, 0 },
};
#define BIT(o) (1u << (o))

struct args {
	const char *cmd;            /* "alert rule add", for messages */
	const char *val[O__MAX];    /* each option's argument (O_JSON: "1"), NULL when not given */
	unsigned given;             /* BIT(o) of the options given */
	const char *pos[4];         /* the words: group, verb, ID or NAME */
	int npos;
	const struct ap_config *cfg;
	struct ap_arena *arena;
	struct ap_db *db;
};

/*
 * Every "--name" must be one of longopts, spelt out: getopt_long would
 * take an abbreviation, and its messages quote the whole argument. The
 * message names the option only (its value may be a secret).
 */
static bool
exact_options(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		size_t n;
		bool known = false;

		if (strcmp(a, "--") == 0)
			break;
		if (a[0] != '-' || a[1] == '\0')
			continue;
		if (a[1] != '-') {
			fprintf(stderr, "aapanel alert: unknown option (only long options such as --json)\n");
			return false;
		}
		n = strcspn(a + 2, "=");
		for (int o = 0; o < O__MAX && !known; o++)
			known = strlen(longopts[o].name) == n && strncmp(longopts[o].name, a + 2, n) == 0;
		if (!known) {
			fprintf(stderr, "aapanel alert: unknown option --%.*s\n", (int)(n > 40 ? 40 : n), a + 2);
			return false;
		}
		/* An option with a value skips it (--target -x would otherwise be read as an option). */
		for (int o = 0; o < O__MAX; o++)
			if (strlen(longopts[o].name) == n && strncmp(longopts[o].name, a + 2, n) == 0 &&
			    longopts[o].has_arg == required_argument && a[2 + n] != '=')
				i++;
	}
	return true;
}

static int
usage_error(void)
{
	fputs(alert_usage, stderr);
	return 2;
}

/* A form of name=value pairs for the field tables, as a request would bring it. */
struct form {
	struct ap_kv kv[8];
	size_t n;
};

static void
form_add(struct form *f, const char *key, const char *val)
{
	if (val == NULL || f->n >= AP_NELEM(f->kv))
		return;
	f->kv[f->n].key = key;
	f->kv[f->n].val = val;
	f->kv[f->n].len = strlen(val);
	f->n++;
}

/* Validate form against fields exactly as a POST (or GET) to the route would be. */
static int
validate(struct args *a, const struct ap_field *fields, bool get, struct form *f, struct ap_fieldval **out)
{
	struct ap_problem pb;
	struct ap_req r;

	memset(&r, 0, sizeof(r));
	r.arena = a->arena;
	r.method = get ? AP_METHOD_GET : AP_METHOD_POST;
	for (size_t i = 0; i < f->n; i++)
		if (!ap_utf8_valid(f->kv[i].val, f->kv[i].len)) {
			ap_problem_set(&pb, AP_PB_MALFORMED, f->kv[i].key, "'%s' is not valid UTF-8 text",
			    f->kv[i].key);
			return ap_cli_problem(a->cmd, &pb);
		}
	if (get) {
		r.query = f->kv;
		r.nquery = f->n;
	} else {
		r.form = f->kv;
		r.nform = f->n;
	}
	if (ap_fields_validate(fields, &r, NULL, (size_t)a->cfg->max_field_len, out, &pb) != AP_OK)
		return ap_cli_problem(a->cmd, &pb);
	return 0;
}

/* The value of the field called name after validate (NULL when absent). */
static const struct ap_fieldval *
field_of(const struct ap_field *fields, const struct ap_fieldval *vals, const char *name)
{
	for (size_t i = 0; vals != NULL && fields[i].type != AP_FIELD__MAX; i++)
		if (strcmp(fields[i].name, name) == 0)
			return vals[i].present ? &vals[i] : NULL;
	return NULL;
}

/* The ID word, checked like the routes' {id}. */
static int
parse_id(struct args *a, int64_t *id)
{
	struct ap_fieldval v;
	struct ap_problem pb;
	const char *s = a->npos == 3 ? a->pos[2] : "";

	if (ap_field_check(&ap_id_fields[AP_ID], s, strlen(s), (size_t)a->cfg->max_field_len, &v, &pb) != AP_OK)
		return ap_cli_problem(a->cmd, &pb);
	*id = v.i;
	return 0;
}

/* o as the audit log's compact text, as the handlers write it (borrowed from o). */
static const char *
json_text(struct json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

static int
db_failed(struct args *a, enum ap_db_rc rc)
{
	(void)rc; /* the backend's message says more than the code */
	fprintf(stderr, "aapanel %s: %s\n", a->cmd, ap_db_errmsg(a->db));
	return 1;
}

static int
not_found(struct args *a, const char *what)
{
	struct ap_problem pb;

	ap_problem_set(&pb, AP_PB_NOT_FOUND, "id", "%s", what);
	return ap_cli_problem(a->cmd, &pb);
}

/* Print o (taken) projected onto s, as the API would answer it. */
static int
print_resource(const struct ap_schema *s, struct json_object *o)
{
	struct json_object *out = NULL;
	char err[256] = "";
	bool ok = ap_schema_project(s, o, true, &out, err, sizeof(err));
	int status = 0;

	if (!ok) {
		fprintf(stderr, "aapanel alert: the %s does not match its schema: %s\n", s->name, err);
		status = 1;
	} else
		puts(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(out);
	json_object_put(o);
	return status;
}

static const char *
when(char *b, size_t n, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL)
		return "-";
	strftime(b, n, "%Y-%m-%d %H:%M UTC", &tm);
	return b;
}

/* ---------------------------------------------------------------- rules */

static void
print_rule(const struct ap_alert_rule *r)
{
	char text[256], ch[24] = "all";

	ap_alert_rule_text(r, text, sizeof(text));
	if (r->channel_id)
		snprintf(ch, sizeof(ch), "%lld", (long long)r->channel_id);
	printf("%-6lld %-5s %-7s %s\n", (long long)r->id, r->enabled ? "on" : "off", ch, text);
}

static bool
rule_row(void *arg, const struct ap_alert_rule *r)
{
	struct json_object *items = arg;

	if (items != NULL)
		json_object_array_add(items, ap_alert_rule_resource(r));
	else
		print_rule(r);
	return true;
}

static bool
channel_row(void *arg, const struct ap_alert_channel *c)
{
	struct json_object *items = arg, *o = ap_alert_channel_resource(c), *t = NULL;
	char b[32];

	if (items != NULL) {
		json_object_array_add(items, o);
		return true;
	}
	/* The webhook's target as the API shows it: its scheme and host. */
	json_object_object_get_ex(o, "target", &t);
	printf("%-6lld %-20s %-8s %-40s %s%s\n", (long long)c->id, c->name, ap_alert_channel_kinds[c->kind],
	    json_object_get_string(t),
	    c->last_test_at == 0 || c->last_test_ok < 0 ? "-" : c->last_test_ok == 1 ? "delivered " : "failed ",
	    c->last_test_at == 0 || c->last_test_ok < 0 ? "" : when(b, sizeof(b), c->last_test_at));
	if (c->last_test_at != 0 && c->last_test_ok == 0 && c->last_test_error[0])
		printf("       last test: %s\n", c->last_test_error);
	json_object_put(o);
	return true;
}

/* Each element of a (taken) projected onto item; printed as one array. */
static int
print_array(const struct ap_schema *item, struct json_object *a)
{
	struct json_object *out = json_object_new_array();
	char err[256] = "";
	int status = 0;

	for (size_t i = 0; i < json_object_array_length(a); i++) {
		struct json_object *p = NULL;

		if (!ap_schema_project(item, json_object_array_get_idx(a, i), true, &p, err, sizeof(err)) &&
		    status == 0) {
			fprintf(stderr, "aapanel alert: an %s does not match its schema: %s\n", item->name, err);
			status = 1;
		}
		json_object_array_add(out, p);
	}
	if (status == 0)
		puts(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(out);
	json_object_put(a);
	return status;
}

static int
rule_list(struct args *a)
{
	bool json = a->given & BIT(O_JSON);
	struct json_object *items = json ? json_object_new_array() : NULL;
	enum ap_db_rc rc;

	if (!json)
		printf("%-6s %-5s %-7s %s\n", "ID", "STATE", "CHANNEL", "RULE");
	if ((rc = ap_alert_rules_each(a->db, rule_row, items)) != AP_DB_OK) {
		json_object_put(items);
		return db_failed(a, rc);
	}
	return json ? print_array(&ap_alert_rule_schema, items) : 0;
}

static int
get_rule(struct args *a, struct ap_alert_rule *r)
{
	int64_t id = 0;
	int st;
	enum ap_db_rc rc;

	if ((st = parse_id(a, &id)) != 0)
		return st;
	rc = ap_alert_rule_get(a->db, id, r);
	if (rc == AP_DB_ENOTFOUND)
		return not_found(a, "no such alert rule");
	if (rc != AP_DB_OK)
		return db_failed(a, rc);
	return 0;
}

static int
rule_show(struct args *a)
{
	struct ap_alert_rule r;
	int st;

	if ((st = get_rule(a, &r)) != 0)
		return st;
	if (a->given & BIT(O_JSON))
		return print_resource(&ap_alert_rule_schema, ap_alert_rule_resource(&r));
	printf("%-6s %-5s %-7s %s\n", "ID", "STATE", "CHANNEL", "RULE");
	print_rule(&r);
	return 0;
}

static int
rule_add(struct args *a)
{
	struct ap_fieldval *vals = NULL;
	struct ap_alert_rule r;
	struct ap_problem pb;
	struct form f = { 0 };
	enum ap_db_rc rc;
	char text[256];
	int st;

	form_add(&f, "metric", a->val[O_METRIC]);
	form_add(&f, "target", a->val[O_TARGET]);
	form_add(&f, "threshold", a->val[O_THRESHOLD]);
	form_add(&f, "duration", a->val[O_DURATION]);
	form_add(&f, "channel", a->val[O_CHANNEL]);
	if ((st = validate(a, ap_alert_rule_fields, false, &f, &vals)) != 0)
		return st;
	ap_alert_rule_from_fields(vals, &r);
	ap_cli_change(a->db);
	rc = ap_alert_rule_create(a->db, &r, (int64_t)time(NULL), &pb);
	if (rc == AP_DB_EINVAL)
		return ap_cli_problem(a->cmd, &pb);
	if (rc != AP_DB_OK)
		return db_failed(a, rc);
	{
		char target[24];
		struct json_object *after = ap_alert_rule_audit_json(&r);

		snprintf(target, sizeof(target), "%lld", (long long)r.id);
		ap_cli_audit_write(a->db, "alert.rule.add", target, "ok", NULL, json_text(after));
		json_object_put(after);
	}
	if (a->given & BIT(O_JSON))
		return print_resource(&ap_alert_rule_schema, ap_alert_rule_resource(&r));
	ap_alert_rule_text(&r, text, sizeof(text));
	printf("alert rule %lld added: %s\n", (long long)r.id, text);
	return 0;
}

static int
rule_enable(struct args *a, bool on)
{
	struct ap_alert_rule r;
	char target[24], text[256];
	int st;
	enum ap_db_rc rc;

	if ((st = get_rule(a, &r)) != 0)
		return st;
	ap_cli_change(a->db);
	if ((rc = ap_alert_rule_set_enabled(a->db, r.id, on)) != AP_DB_OK)
		return db_failed(a, rc);
	snprintf(target, sizeof(target), "%lld", (long long)r.id);
	ap_cli_audit_write(a->db, on ? "alert.rule.enable" : "alert.rule.disable", target, "ok",
	    r.enabled ? "{\"enabled\":true}" : "{\"enabled\":false}", on ? "{\"enabled\":true}" : "{\"enabled\":false}");
	r.enabled = on;
	if (a->given & BIT(O_JSON))
		return print_resource(&ap_alert_rule_schema, ap_alert_rule_resource(&r));
	ap_alert_rule_text(&r, text, sizeof(text));
	printf("alert rule %lld is %s: %s\n", (long long)r.id, on ? "on" : "off", text);
	return 0;
}

static int
rule_remove(struct args *a)
{
	struct ap_alert_rule r;
	struct json_object *before;
	char target[24], text[256];
	int st;
	enum ap_db_rc rc;

	if ((st = get_rule(a, &r)) != 0)
		return st;
	ap_cli_change(a->db);
	if ((rc = ap_alert_rule_delete(a->db, r.id)) != AP_DB_OK && rc != AP_DB_ENOTFOUND)
		return db_failed(a, rc);
	snprintf(target, sizeof(target), "%lld", (long long)r.id);
	before = ap_alert_rule_audit_json(&r);
	ap_cli_audit_write(a->db, "alert.rule.delete", target, "ok", json_text(before), NULL);
	json_object_put(before);
	ap_alert_rule_text(&r, text, sizeof(text));
	printf("alert rule %lld removed (its past alerts stay in the history): %s\n", (long long)r.id, text);
	return 0;
}

/* ---------------------------------------------------------------- channels */

static int
channel_list(struct args *a)
{
	bool json = a->given & BIT(O_JSON);
	struct json_object *items = json ? json_object_new_array() : NULL;
	enum ap_db_rc rc;

	if (!json)
		printf("%-6s %-20s %-8s %-40s %s\n", "ID", "NAME", "KIND", "TARGET", "LAST TEST");
	if ((rc = ap_alert_channels_each(a->db, channel_row, items)) != AP_DB_OK) {
		json_object_put(items);
		return db_failed(a, rc);
	}
	return json ? print_array(&ap_alert_channel_schema, items) : 0;
}

static int
get_channel(struct args *a, struct ap_alert_channel *c)
{
	int64_t id = 0;
	int st;
	enum ap_db_rc rc;

	if ((st = parse_id(a, &id)) != 0)
		return st;
	rc = ap_alert_channel_get(a->db, id, c);
	if (rc == AP_DB_ENOTFOUND)
		return not_found(a, "no such channel");
	if (rc != AP_DB_OK)
		return db_failed(a, rc);
	return 0;
}

static int
channel_show(struct args *a)
{
	struct ap_alert_channel *c = ap_arena_calloc(a->arena, 1, sizeof(*c));
	int st = get_channel(a, c);

	explicit_bzero(c->secret, sizeof(c->secret));
	if (st != 0)
		return st;
	if (a->given & BIT(O_JSON))
		return print_resource(&ap_alert_channel_schema, ap_alert_channel_resource(c));
	printf("%-6s %-20s %-8s %-40s %s\n", "ID", "NAME", "KIND", "TARGET", "LAST TEST");
	channel_row(NULL, c);
	return 0;
}

/*
 * The first line of path ("-": stdin; on a terminal without echo) into
 * out, without its line end. A line longer than out is kept cut, which the
 * secret field's length limit then refuses. False with why.
 */
static bool
read_secret(const char *path, char *out, size_t outlen, char *why, size_t whylen)
{
	bool from_stdin = strcmp(path, "-") == 0;
	bool tty = from_stdin && isatty(STDIN_FILENO);
	struct termios old, quiet;
	FILE *f = from_stdin ? stdin : fopen(path, "re");
	bool ok = false;

	if (f == NULL) {
		snprintf(why, whylen, "cannot read %s: %s", path, strerror(errno));
		return false;
	}
	if (tty) {
		fprintf(stderr, "Webhook secret: ");
		tcgetattr(STDIN_FILENO, &old);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
	}
	if (fgets(out, (int)outlen, f) != NULL) {
		out[strcspn(out, "\r\n")] = '\0';
		ok = true;
	} else {
		out[0] = '\0';
		snprintf(why, whylen, "%s is empty", from_stdin ? "standard input" : path);
	}
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSANOW, &old);
		fputc('\n', stderr);
	}
	if (!from_stdin)
		fclose(f);
	return ok;
}

static int
channel_add(struct args *a)
{
	struct ap_alert_channel *c = ap_arena_calloc(a->arena, 1, sizeof(*c));
	bool email = a->given & BIT(O_EMAIL), webhook = a->given & BIT(O_WEBHOOK);
	struct ap_fieldval *vals = NULL;
	struct json_object *after;
	struct ap_problem pb;
	struct form f = { 0 };
	char secret[1024] = "", why[300];
	enum ap_db_rc rc;
	int st = 1;

	if (email == webhook) {
		fprintf(stderr, "aapanel %s: kind: give --email ADDRESS or --webhook URL --secret-file FILE\n", a->cmd);
		return 2;
	}
	if (email && (a->given & BIT(O_SECRET_FILE))) {
		fprintf(stderr, "aapanel %s: secret: only a webhook has a secret\n", a->cmd);
		return 2;
	}
	if (webhook && a->val[O_SECRET_FILE] != NULL &&
	    !read_secret(a->val[O_SECRET_FILE], secret, sizeof(secret), why, sizeof(why))) {
		fprintf(stderr, "aapanel %s: secret: %s\n", a->cmd, why);
		return 2;
	}
	form_add(&f, "name", a->npos == 3 ? a->pos[2] : NULL);
	form_add(&f, "kind", email ? "email" : "webhook");
	form_add(&f, "email", a->val[O_EMAIL]);
	form_add(&f, "url", a->val[O_WEBHOOK]);
	if (webhook && a->val[O_SECRET_FILE] != NULL)
		form_add(&f, "secret", secret);
	if ((st = validate(a, ap_alert_channel_fields, false, &f, &vals)) != 0)
		goto out;
	if (ap_alert_channel_from_fields(vals, c, &pb) != AP_OK) {
		st = ap_cli_problem(a->cmd, &pb);
		goto out;
	}
	ap_cli_change(a->db);
	rc = ap_alert_channel_create(a->db, c, (int64_t)time(NULL), &pb);
	explicit_bzero(c->secret, sizeof(c->secret));
	if (rc == AP_DB_EINVAL || rc == AP_DB_ECONSTRAINT) {
		st = ap_cli_problem(a->cmd, &pb);
		goto out;
	}
	if (rc != AP_DB_OK) {
		st = db_failed(a, rc);
		goto out;
	}
	after = ap_alert_channel_audit_json(c);
	ap_cli_audit_write(a->db, "alert.channel.add", c->name, "ok", NULL, json_text(after));
	json_object_put(after);
	if (a->given & BIT(O_JSON))
		st = print_resource(&ap_alert_channel_schema, ap_alert_channel_resource(c));
	else {
		printf("channel %lld (%s) added; send it a test message: aapanel alert channel test %lld\n",
		    (long long)c->id, c->name, (long long)c->id);
		st = 0;
	}
out:
	explicit_bzero(secret, sizeof(secret));
	explicit_bzero(c->secret, sizeof(c->secret));
	return st;
}

static int
channel_test(struct args *a)
{
	struct ap_alert_channel *c = ap_arena_calloc(a->arena, 1, sizeof(*c));
	char *subject = NULL, *body = NULL, *payload = NULL, host[256] = "";
	int64_t now = (int64_t)time(NULL);
	int st;
	enum ap_db_rc rc;

	st = get_channel(a, c);
	explicit_bzero(c->secret, sizeof(c->secret));
	if (st != 0)
		return st;
	/* The host the workers and the sampler name themselves by. */
	if (gethostname(host, sizeof(host) - 1) != 0)
		snprintf(host, sizeof(host), "localhost");
	ap_notify_test_message(host, c, now, &subject, &body, &payload);
	ap_cli_change(a->db);
	rc = ap_alert_outbox_add(a->db, host, 0, c->id, "test", subject, body, payload, now);
	free(subject);
	free(body);
	free(payload);
	if (rc != AP_DB_OK)
		return db_failed(a, rc);
	ap_cli_audit_write(a->db, "alert.channel.test", c->name, "ok", NULL, NULL);
	if (a->cfg->monitor_enabled) /* after the commit: the sampler sees the queued message */
		ap_sampler_wake(a->cfg->monitor_socket);
	printf("a test message to %s is queued; the sampler sends it (see: aapanel alert channel show %lld)\n",
	    c->name, (long long)c->id);
	return 0;
}

static int
channel_remove(struct args *a)
{
	struct ap_alert_channel *c = ap_arena_calloc(a->arena, 1, sizeof(*c));
	int st;
	enum ap_db_rc rc;

	st = get_channel(a, c);
	explicit_bzero(c->secret, sizeof(c->secret));
	if (st != 0)
		return st;
	ap_cli_change(a->db);
	if ((rc = ap_alert_channel_delete(a->db, c->id)) != AP_DB_OK && rc != AP_DB_ENOTFOUND)
		return db_failed(a, rc);
	ap_cli_audit_write(a->db, "alert.channel.delete", c->name, "ok", NULL, NULL);
	printf("channel %lld (%s) removed; rules sent only to it go to every channel now\n", (long long)c->id,
	    c->name);
	return 0;
}

/* ---------------------------------------------------------------- both, history */

static int
alert_list(struct args *a)
{
	struct json_object *o, *rules = json_object_new_array(), *channels = json_object_new_array();
	enum ap_db_rc rc;

	if (!(a->given & BIT(O_JSON))) {
		json_object_put(rules);
		json_object_put(channels);
		printf("Rules\n");
		if ((rc = rule_list(a)) != 0)
			return rc;
		printf("\nChannels\n");
		return channel_list(a);
	}
	if ((rc = ap_alert_rules_each(a->db, rule_row, rules)) != AP_DB_OK ||
	    (rc = ap_alert_channels_each(a->db, channel_row, channels)) != AP_DB_OK) {
		json_object_put(rules);
		json_object_put(channels);
		return db_failed(a, rc);
	}
	o = json_object_new_object();
	json_object_object_add(o, "rules", rules);
	json_object_object_add(o, "channels", channels);
	return print_resource(&ap_alerts_schema, o);
}

struct hist {
	struct json_object *items; /* NULL: print lines */
	int64_t last;
};

static bool
event_row(void *arg, const struct ap_alert_event *e)
{
	struct hist *h = arg;
	char b1[32], b2[32];

	h->last = e->id;
	if (h->items != NULL) {
		json_object_array_add(h->items, ap_alert_event_resource(e));
		return true;
	}
	printf("%-6lld %-20s %-20s %8.1f %8.1f  %s%s%s\n", (long long)e->id, when(b1, sizeof(b1), e->started_at),
	    e->resolved_at ? when(b2, sizeof(b2), e->resolved_at) : "still firing", e->value, e->peak, e->rule_text,
	    e->subject[0] ? ": " : "", e->subject);
	return true;
}

static int
history(struct args *a)
{
	const struct ap_fieldval *lim, *cur;
	struct ap_fieldval *vals = NULL;
	struct hist h = { NULL, 0 };
	struct form f = { 0 };
	int64_t limit = AP_PAGE_LIMIT_DEFAULT, cursor = 0;
	bool more = false, json = a->given & BIT(O_JSON);
	enum ap_db_rc rc;
	int st;

	form_add(&f, "limit", a->val[O_LIMIT]);
	form_add(&f, "cursor", a->val[O_CURSOR]);
	if ((st = validate(a, ap_alert_history_fields, true, &f, &vals)) != 0)
		return st;
	if ((lim = field_of(ap_alert_history_fields, vals, "limit")) != NULL)
		limit = lim->i;
	if ((cur = field_of(ap_alert_history_fields, vals, "cursor")) != NULL)
		cursor = strtoll(cur->s, NULL, 10); /* checked by ap_cursor_check */
	if (json)
		h.items = json_object_new_array();
	else
		printf("%-6s %-20s %-20s %8s %8s  %s\n", "ID", "STARTED", "RESOLVED", "VALUE", "PEAK", "RULE");
	rc = ap_alert_events_page(a->db, cursor, limit, event_row, &h, &more);
	if (rc != AP_DB_OK) {
		json_object_put(h.items);
		return db_failed(a, rc);
	}
	if (json) {
		/* The list as GET /api/v1/alerts/history answers it: next is that route's next page. */
		struct json_object *o = json_object_new_object();
		const char *base = strcmp(a->cfg->base_path, "/") == 0 ? "" : a->cfg->base_path;

		json_object_object_add(o, "items", h.items);
		if (more) {
			char next[512];

			if (lim != NULL)
				snprintf(next, sizeof(next), "%s/api/v1/alerts/history?limit=%lld&cursor=%lld", base,
				    (long long)limit, (long long)h.last);
			else
				snprintf(next, sizeof(next), "%s/api/v1/alerts/history?cursor=%lld", base,
				    (long long)h.last);
			json_object_object_add(o, "next", json_object_new_string(next));
		} else
			json_object_object_add(o, "next", NULL);
		return print_resource(&ap_alert_event_list_schema, o);
	}
	if (more)
		printf("(older: aapanel alert history --limit %lld --cursor %lld)\n", (long long)limit, (long long)h.last);
	return 0;
}

/* ---------------------------------------------------------------- the command */

struct sub {
	const char *group, *verb; /* verb NULL: the group alone ("list", "history") */
	int words;                /* how many words: group, verb, and an ID or NAME */
	unsigned opts;            /* the options it takes */
	int (*run)(struct args *a);
};

static int
rule_enable_on(struct args *a)
{
	return rule_enable(a, true);
}

static int
rule_enable_off(struct args *a)
{
	return rule_enable(a, false);
}

static const struct sub subs[] = {
	{ "list", NULL, 1, BIT(O_JSON), alert_list },
	{ "history", NULL, 1, BIT(O_JSON) | BIT(O_LIMIT) | BIT(O_CURSOR), history },
	{ "rule", "list", 2, BIT(O_JSON), rule_list },
	{ "rule", "show", 3, BIT(O_JSON), rule_show },
	{ "rule", "add", 2, BIT(O_JSON) | BIT(O_METRIC) | BIT(O_THRESHOLD) | BIT(O_TARGET) | BIT(O_DURATION) |
	    BIT(O_CHANNEL), rule_add },
	{ "rule", "enable", 3, BIT(O_JSON), rule_enable_on },
	{ "rule", "disable", 3, BIT(O_JSON), rule_enable_off },
	{ "rule", "remove", 3, 0, rule_remove },
	{ "channel", "list", 2, BIT(O_JSON), channel_list },
	{ "channel", "show", 3, BIT(O_JSON), channel_show },
	{ "channel", "add", 3, BIT(O_JSON) | BIT(O_EMAIL) | BIT(O_WEBHOOK) | BIT(O_SECRET_FILE), channel_add },
	{ "channel", "test", 3, 0, channel_test },
	{ "channel", "remove", 3, 0, channel_remove },
};

int
ap_cli_alert(const struct ap_config *cfg, int argc, char **argv)
{
	struct args a;
	const struct sub *s = NULL;
	char cmd[48];
	int ch, status;

	memset(&a, 0, sizeof(a));
	a.cfg = cfg;
	if (!exact_options(argc, argv))
		return 2;
	optind = 0; /* glibc: 0 re-initialises getopt after main's own parsing */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		if (ch == ':' && optopt >= 0 && optopt < O__MAX) {
			fprintf(stderr, "aapanel alert: --%s needs a value\n", longopts[optopt].name);
			return 2;
		}
		if (ch < 0 || ch >= O__MAX) {
			fprintf(stderr, "aapanel alert: unknown option\n");
			return usage_error();
		}
		if (a.given & BIT(ch)) {
			fprintf(stderr, "aapanel alert: --%s given twice\n", longopts[ch].name);
			return 2;
		}
		a.given |= BIT(ch);
		a.val[ch] = optarg ? optarg : "1";
	}
	for (int i = optind; i < argc; i++) {
		if (a.npos == (int)AP_NELEM(a.pos))
			return usage_error();
		a.pos[a.npos++] = argv[i];
	}
	for (size_t i = 0; a.npos > 0 && i < AP_NELEM(subs) && s == NULL; i++)
		if (strcmp(subs[i].group, a.pos[0]) == 0 &&
		    (subs[i].verb == NULL || (a.npos > 1 && strcmp(subs[i].verb, a.pos[1]) == 0)))
			s = &subs[i];
	if (s == NULL)
		return usage_error();
	snprintf(cmd, sizeof(cmd), "alert %s%s%s", s->group, s->verb ? " " : "", s->verb ? s->verb : "");
	a.cmd = cmd;
	if (a.given & ~s->opts) {
		for (int o = 0; o < O__MAX; o++)
			if ((a.given & ~s->opts) & BIT(o))
				fprintf(stderr, "aapanel %s: --%s is not an option of this command\n", cmd, longopts[o].name);
		return 2;
	}
	if (a.npos != s->words) {
		fprintf(stderr, "aapanel %s: %s\n", cmd,
		    a.npos < s->words ? (strcmp(s->verb ? s->verb : "", "add") == 0 ? "the channel needs a NAME" :
		    "which one? give its ID") : "too many arguments");
		return usage_error();
	}
	if ((a.db = ap_cli_db_open(cfg)) == NULL)
		return 1;
	a.arena = ap_arena_new();
	status = s->run(&a);
	ap_arena_free(a.arena);
	ap_db_close(a.db);
	return status;
}
