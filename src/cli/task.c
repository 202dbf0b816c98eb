/*
 * task.c — `aapanel task …`: the command-line form of the Tasks screen,
 * through the same data functions (src/data/tasks.c) and the same helper
 * (docs/tasks.md).
 *
 *   aapanel task add NAME --schedule CRON (--command CMD | --url URL) [--user U]
 *                    [--timeout SECONDS] [--disabled] [--json]
 *   aapanel task add NAME --kind backup (--site DOMAIN | --database NAME) --to DEST
 *                    --schedule CRON [--keep-last N] [--keep-daily N] [--keep-weekly N]
 *                    [--keep-monthly N] [--disabled] [--json]
 *   aapanel task add NAME --kind backup_check --to DEST [--subset PERCENT]
 *                    [--schedule CRON (default @weekly)] [--disabled] [--json]
 *   aapanel task list [--json]
 *   aapanel task show NAME [--json]
 *   aapanel task run NAME|ID [--json]
 *   aapanel task enable NAME | disable NAME | remove NAME
 *
 * `task run ID` is the recorder the cron lines call: it asks the helper to
 * run the task (task.exec), waits for it and records start, end, exit
 * status and the last 64 KiB of output (cron_runs; trigger "schedule").
 * `task run NAME` does the same by hand (trigger "manual", audited).
 *
 * Exit 0 on success (for run: the task ran and exited 0, or was skipped), 2
 * for invalid input (field and reason on stderr), 1 otherwise (also a run
 * that failed or timed out).
 */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aapanel/backupcheck.h"
#include "aapanel/cli.h"
#include "aapanel/dbconn.h"
#include "aapanel/pages.h"
#include "aapanel/tasks.h"

static const char task_usage[] =
    "usage: aapanel task add NAME --schedule CRON (--command CMD | --url URL) [--user U]\n"
    "                        [--timeout SECONDS] [--disabled] [--json]\n"
    "       aapanel task add NAME --kind backup (--site DOMAIN | --database NAME) --to DEST\n"
    "                        --schedule CRON [--keep-last N] [--keep-daily N] [--keep-weekly N]\n"
    "                        [--keep-monthly N] [--disabled] [--json]\n"
    "       aapanel task add NAME --kind backup_check --to DEST [--subset PERCENT]\n"
    "                        [--schedule CRON (default @weekly)] [--disabled] [--json]\n"
    "       aapanel task list [--json]\n"
    "       aapanel task show NAME [--json]\n"
    "       aapanel task run NAME|ID [--json]\n"
    "       aapanel task enable NAME | disable NAME | remove NAME\n";

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

	if (t <= 0)
		return "-";
	localtime_r(&tt, &tm);
	strftime(buf, n, "%Y-%m-%d %H:%M %Z", &tm);
	return buf;
}

static void
audit(struct ap_db *db, const char *action, const char *target, const char *outcome,
    struct json_object *before, struct json_object *after)
{
	ap_cli_audit_write(db, action, target, outcome,
	    before ? json_object_to_json_string_ext(before, JSON_C_TO_STRING_PLAIN) : NULL,
	    after ? json_object_to_json_string_ext(after, JSON_C_TO_STRING_PLAIN) : NULL);
	json_object_put(before);
	json_object_put(after);
}

static struct json_object *
pb_json(const struct ap_problem *pb)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string(ap_pb_name(pb->code)));
	if (pb->field[0])
		json_object_object_add(o, "field", json_object_new_string(pb->field));
	json_object_object_add(o, "reason", json_object_new_string(pb->reason));
	return o;
}

struct list_ctx {
	bool json;
	struct json_object *arr;
	int64_t last;
};

static bool
list_row(void *p, const struct ap_task *t)
{
	struct list_ctx *l = p;
	char a[40], b[40], took[24] = "-";
	time_t next[1];

	l->last = t->id;
	if (l->json) {
		json_object_array_add(l->arr, ap_task_resource(t));
		return true;
	}
	ap_task_next_runs(t->schedule, time(NULL), next, 1);
	if (t->last_ended)
		snprintf(took, sizeof(took), "%llds", (long long)(t->last_ended - t->last_started));
	printf("%-5lld %-24s %-16s %-8s %-8s %-22s %-6s %s\n", (long long)t->id, t->name, t->schedule,
	    t->enabled ? "on" : "off", t->last_state[0] ? t->last_state : "-",
	    when(t->last_started, a, sizeof(a)), took,
	    t->enabled && next[0] > 0 ? when(next[0], b, sizeof(b)) : "-");
	return true;
}

struct runs_ctx {
	struct json_object *arr;
	bool json;
};

static bool
run_row(void *p, const struct ap_task_run *r)
{
	struct runs_ctx *c = p;
	char a[40];

	if (c->json) {
		json_object_array_add(c->arr, ap_task_run_resource(r));
		return true;
	}
	printf("  run %-6lld %-9s %-8s %s  %llds  %s\n", (long long)r->id, r->trigger, r->state,
	    when(r->started_at, a, sizeof(a)),
	    (long long)(r->ended_at ? r->ended_at - r->started_at : 0), r->message);
	if (r->output != NULL && r->output[0])
		printf("%s%s", r->output, r->output[strlen(r->output) - 1] == '\n' ? "" : "\n");
	return true;
}

static bool
all_digits(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

int
ap_cli_task(const struct ap_config *cfg, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "schedule", required_argument, NULL, 's' },
		{ "command", required_argument, NULL, 'c' },
		{ "url", required_argument, NULL, 'u' },
		{ "user", required_argument, NULL, 'U' },
		{ "timeout", required_argument, NULL, 't' },
		{ "disabled", no_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "kind", required_argument, NULL, 'k' },
		{ "site", required_argument, NULL, 'S' },
		{ "database", required_argument, NULL, 'D' },
		{ "to", required_argument, NULL, 'T' },
		{ "keep-last", required_argument, NULL, '1' },
		{ "keep-daily", required_argument, NULL, '2' },
		{ "keep-weekly", required_argument, NULL, '3' },
		{ "keep-monthly", required_argument, NULL, '4' },
		{ "subset", required_argument, NULL, '5' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const num_names[] = { "keep-last", "keep-daily", "keep-weekly", "keep-monthly", "subset" };
	const char *kind = NULL, *nums[5] = { NULL };
	bool bkopt = false;
	struct ap_sites_env env = { .cfg = cfg, .job_wait_ms = 30000 };
	struct ap_task_spec spec = { .enabled = true };
	const char *sub, *name = NULL, *timeout_s = NULL;
	bool json = false;
	struct ap_problem pb;
	struct ap_task t;
	char cmd[32];
	int status = 1, ch;

	if (argc < 2) {
		fputs(task_usage, stderr);
		return 2;
	}
	sub = argv[1];
	snprintf(cmd, sizeof(cmd), "task %s", sub);
	optind = 0;
	while ((ch = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
		switch (ch) {
		case 's': spec.schedule = optarg; break;
		case 'c': spec.command = optarg; spec.kind = spec.kind ? "both" : "command"; break;
		case 'u': spec.url = optarg; spec.kind = spec.kind ? "both" : "url"; break;
		case 'U': spec.user = optarg; break;
		case 't': timeout_s = optarg; break;
		case 'd': spec.enabled = false; break;
		case 'j': json = true; break;
		case 'k': kind = optarg; break;
		case 'S': spec.bk_kind = spec.bk_kind ? "both" : "site"; spec.bk_target = optarg; bkopt = true; break;
		case 'D': spec.bk_kind = spec.bk_kind ? "both" : "database"; spec.bk_target = optarg; bkopt = true; break;
		case 'T': spec.dest = optarg; bkopt = true; break;
		case '1': case '2': case '3': case '4': case '5': nums[ch - '1'] = optarg; bkopt = true; break;
		default: fputs(task_usage, stderr); return 2;
		}
	}
	if (optind < argc - 1)
		name = argv[optind + 1];
	if (strcmp(sub, "list") != 0 && strcmp(sub, "show") != 0 && strcmp(sub, "add") != 0 &&
	    strcmp(sub, "run") != 0 && strcmp(sub, "remove") != 0 && strcmp(sub, "enable") != 0 &&
	    strcmp(sub, "disable") != 0) {
		fputs(task_usage, stderr);
		return 2;
	}
	if ((strcmp(sub, "list") == 0 && name != NULL) ||
	    (strcmp(sub, "list") != 0 && (name == NULL || optind + 2 != argc))) {
		fputs(task_usage, stderr);
		return 2;
	}
	if (strcmp(sub, "add") != 0 && (spec.schedule || spec.command || spec.url || spec.user ||
	    timeout_s || !spec.enabled)) {
		fprintf(stderr, "aapanel %s: --schedule, --command, --url, --user, --timeout and --disabled are for task add\n", cmd);
		return 2;
	}
	if (strcmp(sub, "add") != 0 && (kind != NULL || bkopt)) {
		fprintf(stderr, "aapanel %s: --kind, --site, --database, --to, --keep-* and --subset are for task add\n", cmd);
		return 2;
	}
	if (strcmp(sub, "add") == 0 && kind != NULL && strcmp(kind, "command") != 0 && strcmp(kind, "url") != 0) {
		char *end;
		int *dst[5] = { &spec.keep_last, &spec.keep_daily, &spec.keep_weekly, &spec.keep_monthly, &spec.subset };

		if (!ap_task_kind_backup(kind)) {
			fprintf(stderr, "aapanel task add: kind: must be command, url, backup or backup_check\n");
			return 2;
		}
		if (spec.kind != NULL || spec.user != NULL) {
			fprintf(stderr, "aapanel task add: kind: a %s task takes no --command, --url or --user\n", kind);
			return 2;
		}
		if (spec.bk_kind != NULL && strcmp(spec.bk_kind, "both") == 0) {
			fprintf(stderr, "aapanel task add: database: give --site or --database, not both\n");
			return 2;
		}
		spec.subset = -1;
		for (int i = 0; i < 5; i++) {
			long v;

			if (nums[i] == NULL)
				continue;
			v = strtol(nums[i], &end, 10);
			if (*end != '\0' || end == nums[i] || v < 0 || v > (i == 4 ? 100 : AP_BK_KEEP_MAX)) {
				fprintf(stderr, "aapanel task add: %s: must be a number from 0 to %d\n", num_names[i],
				    i == 4 ? 100 : AP_BK_KEEP_MAX);
				return 2;
			}
			*dst[i] = (int)v;
		}
		if (strcmp(kind, "backup") == 0 && nums[4] != NULL) {
			fprintf(stderr, "aapanel task add: subset: only a backup_check task reads a subset\n");
			return 2;
		}
		if (strcmp(kind, "backup_check") == 0 && (spec.bk_kind != NULL || nums[0] || nums[1] || nums[2] || nums[3])) {
			fprintf(stderr, "aapanel task add: %s: a backup_check task checks a destination only\n",
			    spec.bk_kind != NULL ? spec.bk_kind : "keep");
			return 2;
		}
		if (strcmp(kind, "backup_check") == 0 && spec.schedule == NULL)
			spec.schedule = "@weekly";
		if (timeout_s != NULL) {
			long long v = strtoll(timeout_s, &end, 10);

			if (*end != '\0' || v < 1 || v > cfg->tasks_max_timeout) {
				fprintf(stderr, "aapanel task add: timeout: must be 1 to %d seconds\n", cfg->tasks_max_timeout);
				return 2;
			}
			spec.timeout = v;
		}
		spec.kind = kind;
		spec.name = name;
	} else if (strcmp(sub, "add") == 0 && bkopt) {
		fprintf(stderr, "aapanel task add: kind: --site, --database, --to, --keep-* and --subset need --kind backup or backup_check\n");
		return 2;
	} else if (strcmp(sub, "add") == 0) {
		char *end;

		if (spec.kind != NULL && strcmp(spec.kind, "both") == 0) {
			fprintf(stderr, "aapanel task add: url: give --command or --url, not both\n");
			return 2;
		}
		if (spec.kind == NULL) {
			fprintf(stderr, "aapanel task add: command: is required (or --url)\n");
			return 2;
		}
		if (timeout_s != NULL) {
			long long v = strtoll(timeout_s, &end, 10);

			if (*end != '\0' || v < 1 || v > cfg->tasks_max_timeout) {
				fprintf(stderr, "aapanel task add: timeout: must be 1 to %d seconds\n", cfg->tasks_max_timeout);
				return 2;
			}
			spec.timeout = v;
		}
		spec.name = name;
		if (strcmp(spec.kind, "command") == 0 && spec.user == NULL)
			spec.user = "nobody";
	}
	if (!ap_dbconn_startup(cfg) || (env.db = ap_dbconn_open_cli(cfg)) == NULL)
		return 1;
	env.helper = ap_helper_client_new(cfg->helper_socket, cfg->helper_timeout_ms, 1 << 20);
	if (strcmp(sub, "list") == 0) {
		struct list_ctx l = { json, json_object_new_array(), 0 };
		enum ap_err e = AP_OK;
		bool more = true;

		if (!json)
			printf("%-5s %-24s %-16s %-8s %-8s %-22s %-6s %s\n", "ID", "NAME", "SCHEDULE", "ENABLED",
			    "RESULT", "LAST RUN", "TOOK", "NEXT RUN");
		while (e == AP_OK && more)
			e = ap_task_page(&env, l.last, 500, list_row, &l, &more, &pb);
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
		goto out;
	}
	if (strcmp(sub, "add") == 0) {
		ap_cli_change(env.db);
		if (ap_task_create(&env, &spec, &t, &pb) != AP_OK) {
			if (pb.code != AP_PB_INVALID && pb.code != AP_PB_EXISTS)
				audit(env.db, "task.create", name, "failed", NULL, pb_json(&pb));
			status = ap_cli_problem(cmd, &pb);
			goto out;
		}
		audit(env.db, "task.create", t.name, "ok", NULL, ap_task_json(&t));
		if (json)
			print_json(ap_task_resource(&t));
		else
			printf("task %s added (id %lld): %s\n", t.name, (long long)t.id, t.schedule);
		status = 0;
		goto out;
	}
	if ((all_digits(name) ? ap_task_get(&env, strtoll(name, NULL, 10), &t, &pb)
			      : ap_task_find(&env, name, &t, &pb)) != AP_OK) {
		status = ap_cli_problem(cmd, &pb);
		goto out;
	}
	if (strcmp(sub, "show") == 0) {
		struct runs_ctx rc = { json_object_new_array(), json };
		struct json_object *j = ap_task_resource(&t), *n = json_object_new_array(), *d;
		time_t next[5];
		char a[40];

		ap_task_next_runs(t.schedule, time(NULL), next, 5);
		for (int i = 0; i < 5; i++)
			if (next[i] > 0)
				json_object_array_add(n, ap_model_time(next[i]));
		if (!json) {
			printf("task:     %s (id %lld, %s)\nschedule: %s\n%s:  %s\nuser:     %s\ntimeout:  %llds\nnext:    ",
			    t.name, (long long)t.id, t.enabled ? "enabled" : "disabled", t.schedule,
			    strcmp(t.kind, "url") == 0 ? "url    " : "command", t.target,
			    t.user[0] ? t.user : "-", (long long)t.timeout);
			for (int i = 0; i < 5; i++)
				if (next[i] > 0)
					printf(" %s%s", when(next[i], a, sizeof(a)), i < 4 && next[i + 1] > 0 ? "," : "");
			printf("\nruns:\n");
		}
		if (ap_task_runs(&env, t.id, 20, true, run_row, &rc, &pb) != AP_OK) {
			json_object_put(rc.arr);
			json_object_put(j);
			json_object_put(n);
			status = ap_cli_problem(cmd, &pb);
			goto out;
		}
		if (json) {
			/* The TaskDetail of GET /tasks/{id}. */
			ap_task_get(&env, t.id, &t, &pb);
			json_object_put(j);
			d = json_object_new_object();
			json_object_object_add(d, "task", ap_task_resource(&t));
			json_object_object_add(d, "next_runs", t.enabled ? n : (json_object_put(n), json_object_new_array()));
			json_object_object_add(d, "runs", rc.arr);
			print_json(d);
		} else {
			json_object_put(j);
			json_object_put(n);
			json_object_put(rc.arr);
		}
		status = 0;
		goto out;
	}
	if (strcmp(sub, "run") == 0) {
		struct ap_task_run r;
		bool scheduled = all_digits(name);
		enum ap_err e = ap_task_run_wait(&env, &t, scheduled ? "schedule" : "manual", &r, &pb);

		if (!scheduled)
			audit(env.db, "task.run", t.name, e == AP_OK ? "ok" : "failed", NULL,
			    e == AP_OK ? json_tokener_parse("{\"started\":true}") : pb_json(&pb));
		if (e != AP_OK) {
			status = ap_cli_problem(cmd, &pb);
			goto out;
		}
		if (json)
			print_json(ap_task_run_resource(&r));
		else
			printf("task %s: %s%s%s\n", t.name, r.state, r.message[0] ? ": " : "", r.message);
		status = strcmp(r.state, "ok") == 0 || strcmp(r.state, "skipped") == 0 ? 0 : 1;
		ap_task_run_free(&r);
		goto out;
	}
	if (strcmp(sub, "enable") == 0 || strcmp(sub, "disable") == 0) {
		struct json_object *before = ap_task_json(&t);
		bool on = strcmp(sub, "enable") == 0;

		ap_cli_change(env.db);
		if (ap_task_set_enabled(&env, &t, on, &pb) != AP_OK) {
			audit(env.db, on ? "task.enable" : "task.disable", t.name, "failed", before, pb_json(&pb));
			status = ap_cli_problem(cmd, &pb);
			goto out;
		}
		audit(env.db, on ? "task.enable" : "task.disable", t.name, "ok", before, ap_task_json(&t));
		printf("task %s %s\n", t.name, on ? "enabled" : "disabled");
		status = 0;
		goto out;
	}
	/* remove */
	ap_cli_change(env.db);
	if (ap_task_remove(&env, &t, &pb) != AP_OK) {
		audit(env.db, "task.remove", t.name, "failed", ap_task_json(&t), pb_json(&pb));
		status = ap_cli_problem(cmd, &pb);
		goto out;
	}
	audit(env.db, "task.remove", t.name, "ok", ap_task_json(&t), json_tokener_parse("{\"removed\":true}"));
	printf("task %s removed\n", t.name);
	status = 0;
out:
	ap_helper_client_free(env.helper);
	ap_db_close(env.db);
	return status;
}
