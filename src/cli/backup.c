/*
 * backup.c — `aapanel backup-dest …` and `aapanel backup …`: backups and
 * restores with restic through the helper (docs/backups.md), the same data
 * functions as the API (src/data/backups.c).
 *
 *   aapanel backup-dest add NAME --url local:/PATH|sftp:USER@HOST:/PATH|s3:https://HOST/BUCKET
 *                      [--keys-file FILE] [--region R] [--ssh-key-file FILE]
 *                      [--known-hosts-file FILE] [--password-file FILE] [--ca-file FILE] [--json]
 *   aapanel backup-dest list [--json]
 *   aapanel backup-dest remove NAME
 *   aapanel backup run (--site DOMAIN | --database NAME) --to DEST [--keep-last N]
 *                      [--keep-daily N] [--keep-weekly N] [--keep-monthly N] [--no-wait] [--json]
 *   aapanel backup list [--site DOMAIN | --database NAME] [--json]
 *   aapanel backup snapshots --from DEST [--site DOMAIN | --database NAME] [--json]
 *   aapanel backup ls --from DEST --snapshot ID [--path PATH] [--json]
 *   aapanel backup get --from DEST --snapshot ID --path PATH   (the file on stdout)
 *   aapanel backup restore --from DEST --snapshot ID (--site DOMAIN [--to-dir NAME] [--files-only]
 *                      | --database NAME [--into NEWNAME]) [--no-wait] [--json]
 *   aapanel backup check --from DEST [--subset PERCENT] [--no-wait] [--json]
 *   aapanel backup cancel RUN
 *
 * Secrets come from files only (argv is visible to every user in ps): the
 * S3 keys file holds the access key id on its first line and the secret key
 * on its second; they go to the helper and nowhere else (not the audit log).
 *
 * Exit 0 on success, 2 for invalid input (the field and the reason on
 * stderr), 1 for anything else (a run that failed: its reason on stderr).
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
#include "aapanel/backups.h"
#include "aapanel/cli.h"
#include "aapanel/dbconn.h"

#define SECRET_MAX 16384
#define WAIT_S 3600

static const char dest_usage[] =
    "usage: aapanel backup-dest add NAME --url local:/PATH|sftp:USER@HOST:/PATH|s3:https://HOST/BUCKET\n"
    "                          [--keys-file FILE] [--region R] [--ssh-key-file FILE]\n"
    "                          [--known-hosts-file FILE] [--password-file FILE] [--ca-file FILE] [--json]\n"
    "       aapanel backup-dest list [--json]\n"
    "       aapanel backup-dest remove NAME\n";

static const char backup_usage[] =
    "usage: aapanel backup run (--site DOMAIN | --database NAME | --panel [--with-secret]) --to DEST [--keep-last N]\n"
    "                          [--keep-daily N] [--keep-weekly N] [--keep-monthly N] [--no-wait] [--json]\n"
    "       aapanel backup list [--site DOMAIN | --database NAME | --panel] [--json]\n"
    "       aapanel backup snapshots --from DEST [--site DOMAIN | --database NAME | --panel] [--json]\n"
    "       aapanel backup ls --from DEST --snapshot ID [--path PATH] [--json]\n"
    "       aapanel backup get --from DEST --snapshot ID --path PATH\n"
    "       aapanel backup restore --from DEST --snapshot ID (--site DOMAIN [--to-dir NAME] [--files-only]\n"
    "                          | --database NAME [--into NEWNAME] | --panel --to-dir NAME) [--no-wait] [--json]\n"
    "       aapanel backup check --from DEST [--subset PERCENT] [--no-wait] [--json]\n"
    "       aapanel backup cancel RUN\n";

static void
audit(struct ap_db *db, const char *action, const char *target, const char *outcome,
    struct json_object *before, struct json_object *after)
{
	ap_cli_audit_json(db, action, target, outcome, before, after);
}

static struct json_object *
pb_json(const struct ap_problem *pb)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string(ap_pb_name(pb->code)));
	json_object_object_add(o, "field", json_object_new_string(pb->field));
	json_object_object_add(o, "reason", json_object_new_string(pb->reason));
	return o;
}

static void
print_json(struct json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
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
	strftime(buf, n, "%Y-%m-%d %H:%M:%S UTC", &tm);
	return buf;
}

/* FILE whole into a new string (owned), at most SECRET_MAX bytes; NULL and the reason (exit 2). */
static char *
read_secret(const char *cmd, const char *field, const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "aapanel %s: %s: cannot read %s: %s\n", cmd, field, path, strerror(errno));
		return NULL;
	}
	buf = ap_xmalloc(SECRET_MAX + 2);
	n = fread(buf, 1, SECRET_MAX + 1, f);
	fclose(f);
	if (n > SECRET_MAX) {
		fprintf(stderr, "aapanel %s: %s: %s is larger than %d bytes\n", cmd, field, path, SECRET_MAX);
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

static void
wipe_free(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* ---- backup-dest --------------------------------------------------------- */

static bool
dest_row(void *p, const struct ap_backup_dest *d)
{
	struct json_object *arr = p;
	char t[40];

	if (arr != NULL)
		json_object_array_add(arr, ap_backup_dest_json(d));
	else
		printf("%-20s %-6s %-50s %s\n", d->name, d->kind, d->url, when(d->created_at, t, sizeof(t)));
	return true;
}

int
ap_cli_backup_dest(const struct ap_config *cfg, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "keys-file", required_argument, NULL, 'k' },
		{ "region", required_argument, NULL, 'r' },
		{ "ssh-key-file", required_argument, NULL, 's' },
		{ "known-hosts-file", required_argument, NULL, 'h' },
		{ "password-file", required_argument, NULL, 'p' },
		{ "ca-file", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct ap_sites_env env = { .cfg = cfg, .job_wait_ms = 120000 };
	struct ap_backup_dest_spec spec = { 0 };
	struct ap_backup_dest d;
	struct ap_problem pb = { 0 };
	const char *sub, *name = NULL, *keys_f = NULL, *ssh_f = NULL, *kh_f = NULL, *pw_f = NULL;
	const char *ca_f = NULL;
	char *keys = NULL, *ssh = NULL, *kh = NULL, *pw = NULL, *ca = NULL, cmd[40];
	bool json = false;
	int status = 1, ch;

	if (argc < 2) {
		fputs(dest_usage, stderr);
		return 2;
	}
	sub = argv[1];
	snprintf(cmd, sizeof(cmd), "backup-dest %.20s", sub);
	optind = 0;
	while ((ch = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'u': spec.url = optarg; break;
		case 'k': keys_f = optarg; break;
		case 'r': spec.region = optarg; break;
		case 's': ssh_f = optarg; break;
		case 'h': kh_f = optarg; break;
		case 'p': pw_f = optarg; break;
		case 'c': ca_f = optarg; break;
		case 'j': json = true; break;
		default: fputs(dest_usage, stderr); return 2;
		}
	}
	if (optind < argc - 1)
		name = argv[optind + 1];
	if (strcmp(sub, "list") == 0 ? name != NULL
	    : (strcmp(sub, "add") != 0 && strcmp(sub, "remove") != 0) || name == NULL ||
		optind + 2 != argc) {
		fputs(dest_usage, stderr);
		return 2;
	}
	if (strcmp(sub, "add") == 0) {
		if (spec.url == NULL) {
			fprintf(stderr, "aapanel %s: url: is required\n", cmd);
			return 2;
		}
		if ((keys_f != NULL && (keys = read_secret(cmd, "keys-file", keys_f)) == NULL) ||
		    (ssh_f != NULL && (ssh = read_secret(cmd, "ssh-key-file", ssh_f)) == NULL) ||
		    (kh_f != NULL && (kh = read_secret(cmd, "known-hosts-file", kh_f)) == NULL) ||
		    (pw_f != NULL && (pw = read_secret(cmd, "password-file", pw_f)) == NULL) ||
		    (ca_f != NULL && (ca = read_secret(cmd, "ca-file", ca_f)) == NULL)) {
			status = 2;
			goto out;
		}
		if (keys != NULL) {
			char *nl = strchr(keys, '\n');

			if (nl == NULL) {
				fprintf(stderr, "aapanel %s: keys-file: must hold the access key id on its "
				    "first line and the secret key on its second\n", cmd);
				status = 2;
				goto out;
			}
			*nl = '\0';
			spec.access_key = keys;
			spec.secret_key = nl + 1;
			nl = strchr(nl + 1, '\n');
			if (nl != NULL)
				*nl = '\0';
		}
		if (pw != NULL) {
			char *nl = strchr(pw, '\n');

			if (nl != NULL)
				*nl = '\0';
		}
		spec.ssh_key = ssh;
		spec.known_hosts = kh;
		spec.password = pw;
		spec.ca_cert = ca;
		spec.name = name;
	}
	if (!ap_dbconn_startup(cfg) || (env.db = ap_dbconn_open_cli(cfg)) == NULL)
		goto out;
	env.helper = ap_helper_client_new(cfg->helper_socket, cfg->helper_timeout_ms, 1 << 20);
	if (strcmp(sub, "list") == 0) {
		struct json_object *arr = json ? json_object_new_array() : NULL;

		if (ap_backup_dest_list(&env, dest_row, arr, &pb) != AP_OK) {
			json_object_put(arr);
			status = ap_cli_problem(cmd, &pb);
			goto out;
		}
		if (arr != NULL) {
			struct json_object *o = json_object_new_object();

			json_object_object_add(o, "items", arr);
			json_object_object_add(o, "next", NULL);
			print_json(o);
		}
		status = 0;
	} else if (strcmp(sub, "add") == 0) {
		struct json_object *before = json_object_new_object();

		json_object_object_add(before, "name", json_object_new_string(name));
		json_object_object_add(before, "url", json_object_new_string(spec.url));
		ap_cli_change(env.db);
		if (ap_backup_dest_add(&env, &spec, &d, &pb) != AP_OK) {
			audit(env.db, "backup_dest.add", name, "failed", before, pb_json(&pb));
			status = ap_cli_problem(cmd, &pb);
			goto out;
		}
		audit(env.db, "backup_dest.add", name, "ok", NULL, ap_backup_dest_json(&d));
		json_object_put(before);
		if (json)
			print_json(ap_backup_dest_json(&d));
		else
			printf("backup destination %s (%s) ready: %s\n", d.name, d.kind, d.url);
		status = 0;
	} else {
		if (ap_backup_dest_find(&env, name, &d, &pb) != AP_OK) {
			if (pb.code == AP_PB_NOT_FOUND)
				pb.status = 400;
			status = ap_cli_problem(cmd, &pb);
			goto out;
		}
		ap_cli_change(env.db);
		if (ap_backup_dest_remove(&env, &d, &pb) != AP_OK) {
			audit(env.db, "backup_dest.remove", name, "failed", ap_backup_dest_json(&d),
			    pb_json(&pb));
			status = ap_cli_problem(cmd, &pb);
			goto out;
		}
		audit(env.db, "backup_dest.remove", name, "ok", ap_backup_dest_json(&d), NULL);
		printf("backup destination %s removed (its repository is left as it is)\n", name);
		status = 0;
	}
out:
	wipe_free(keys);
	wipe_free(ssh);
	wipe_free(kh);
	wipe_free(pw);
	wipe_free(ca);
	ap_helper_client_free(env.helper);
	ap_db_close(env.db);
	return status;
}

/* ---- backup --------------------------------------------------------------- */

static bool
run_row(void *p, const struct ap_backup_run *r)
{
	struct json_object *arr = p;
	char t[40];

	if (arr != NULL)
		json_object_array_add(arr, ap_backup_run_json(r));
	else
		printf("%-6lld %-8s %-8s %-28s %-12s %-8s %-10s %s%s%s\n", (long long)r->id, r->action,
		    r->target_kind, r->target, r->dest, r->state, r->snapshot[0] ? r->snapshot : "-",
		    when(r->started_at, t, sizeof(t)), r->message[0] ? "  " : "", r->message);
	return true;
}

/* Follow the run until it ends (or WAIT_S): its progress on stderr. */
static void
wait_run(const struct ap_sites_env *env, struct ap_backup_run *r, bool quiet)
{
	time_t deadline = time(NULL) + WAIT_S;
	int last = -1;

	while (strcmp(r->state, "running") == 0 && time(NULL) < deadline) {
		usleep(250 * 1000);
		ap_backup_settle(env, r);
		if (!quiet && r->progress != last && strcmp(r->state, "running") == 0) {
			fprintf(stderr, "  %d%%\n", r->progress);
			last = r->progress;
		}
	}
}

static bool
parse_keep(const char *cmd, const char *field, const char *s, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || v < 0 || v > AP_BK_KEEP_MAX) {
		fprintf(stderr, "aapanel %s: %s: must be a number from 0 to %d\n", cmd, field,
		    AP_BK_KEEP_MAX);
		return false;
	}
	*out = (int)v;
	return true;
}

/*
 * A started run's audit row, committed with the run's own row before the
 * command follows it (as the pages do: the row says it started, the run's
 * page says how it ended), so no transaction stays open while it runs.
 */
static void
run_started(struct ap_db *db, const char *action, const struct ap_backup_run *r, struct json_object *after)
{
	audit(db, action, r->target, strcmp(r->state, "running") == 0 || strcmp(r->state, "done") == 0 ?
	    "ok" : "failed", NULL, after != NULL ? after : ap_backup_run_json(r));
}

/* What a finished (or started) run prints and exits with. */
static int
run_end(const char *cmd, struct ap_backup_run *r, bool json)
{
	int status = 0;

	if (strcmp(r->state, "failed") == 0 || strcmp(r->state, "lost") == 0) {
		fprintf(stderr, "aapanel %s: the %s failed: %s\n", cmd, r->action, r->message);
		status = 1;
	}
	if (json)
		print_json(ap_backup_run_json(r));
	else if (status == 0)
		printf("%s %lld %s: %s %s%s%s\n", r->action, (long long)r->id, r->state, r->target_kind,
		    r->target, r->snapshot[0] ? ", snapshot " : "", r->snapshot);
	return status;
}

/* backup run --panel / backup restore --panel: the panel itself (src/data/backup_panel.c). */
static int
panel_cmd(const struct ap_config *cfg, const char *cmd, const char *sub, const char *to,
    const char *from, const char *snap, const char *to_dir, bool with_secret, bool nowait,
    bool json, struct ap_backup_spec *bs)
{
	struct ap_sites_env env = { .cfg = cfg, .job_wait_ms = 120000 };
	struct ap_backup_run r;
	struct ap_problem pb = { 0 };
	bool run = strcmp(sub, "run") == 0;
	int status = 1;

	if (run && to == NULL) {
		fprintf(stderr, "aapanel %s: to: --to DEST is required\n", cmd);
		return 2;
	}
	if (!run && (from == NULL || snap == NULL || to_dir == NULL)) {
		fprintf(stderr, "aapanel %s: %s: --from DEST --snapshot ID --to-dir NAME are required "
		    "(the panel is restored into a new folder, never over itself)\n", cmd,
		    from == NULL ? "from" : snap == NULL ? "snapshot" : "to-dir");
		return 2;
	}
	if (!ap_dbconn_startup(cfg) || (env.db = ap_dbconn_open_cli(cfg)) == NULL)
		return 1;
	env.helper = ap_helper_client_new(cfg->helper_socket, cfg->helper_timeout_ms, 1 << 20);
	if (run && with_secret)
		fprintf(stderr, "aapanel %s: warning: this backup holds the panel's secret key: anyone "
		    "with the destination's password can sign in as any user and read every secret "
		    "the panel keeps\n", cmd);
	ap_cli_change(env.db); /* the run's row and its audit row at once */
	if (run) {
		bs->dest = to;
		if (ap_backup_panel_start(&env, bs, with_secret, &r, &pb) != AP_OK) {
			struct json_object *b = json_object_new_object();

			json_object_object_add(b, "dest", json_object_new_string(to));
			json_object_object_add(b, "secret", json_object_new_boolean(with_secret));
			audit(env.db, "backup.run", "panel", "failed", b, pb_json(&pb));
			status = ap_cli_problem(cmd, &pb);
			goto out;
		}
	} else if (ap_backup_panel_restore_start(&env, from, snap, to_dir, &r, &pb) != AP_OK) {
		struct json_object *b = json_object_new_object();

		json_object_object_add(b, "snapshot", json_object_new_string(snap));
		audit(env.db, "backup.restore", "panel", "failed", b, pb_json(&pb));
		status = ap_cli_problem(cmd, &pb);
		goto out;
	}
	if (run) {
		struct json_object *after = ap_backup_run_json(&r);

		json_object_object_add(after, "secret", json_object_new_boolean(with_secret));
		run_started(env.db, "backup.run", &r, after);
	} else
		run_started(env.db, "backup.restore", &r, NULL);
	if (!nowait)
		wait_run(&env, &r, json);
	if (run) {
		if (strcmp(r.state, "failed") == 0 || strcmp(r.state, "lost") == 0) {
			fprintf(stderr, "aapanel %s: the backup failed: %s\n", cmd, r.message);
			status = 1;
		} else
			status = 0;
		if (json)
			print_json(ap_backup_run_json(&r));
		else if (status == 0)
			printf("backup %lld %s: panel%s%s\n", (long long)r.id, r.state,
			    r.snapshot[0] ? ", snapshot " : "", r.snapshot);
	} else {
		status = run_end(cmd, &r, json);
		if (status == 0 && !json && r.message[0])
			printf("%s\n", r.message);
	}
out:
	ap_helper_client_free(env.helper);
	ap_db_close(env.db);
	return status;
}

int
ap_cli_backup(const struct ap_config *cfg, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "site", required_argument, NULL, 's' },
		{ "database", required_argument, NULL, 'd' },
		{ "panel", no_argument, NULL, 'P' },
		{ "with-secret", no_argument, NULL, 'W' },
		{ "to", required_argument, NULL, 't' },
		{ "from", required_argument, NULL, 'f' },
		{ "snapshot", required_argument, NULL, 'S' },
		{ "path", required_argument, NULL, 'p' },
		{ "to-dir", required_argument, NULL, 'D' },
		{ "into", required_argument, NULL, 'i' },
		{ "files-only", no_argument, NULL, 'F' },
		{ "subset", required_argument, NULL, 'u' },
		{ "keep-last", required_argument, NULL, '1' },
		{ "keep-daily", required_argument, NULL, '2' },
		{ "keep-weekly", required_argument, NULL, '3' },
		{ "keep-monthly", required_argument, NULL, '4' },
		{ "no-wait", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct ap_sites_env env = { .cfg = cfg, .job_wait_ms = 120000 };
	struct ap_backup_spec bs = { 0 };
	struct ap_restore_spec rs = { 0 };
	struct ap_backup_run r;
	struct ap_problem pb = { 0 };
	const char *sub, *site = NULL, *database = NULL, *to = NULL, *from = NULL, *snap = NULL;
	const char *path = NULL, *to_dir = NULL, *into = NULL, *arg = NULL;
	bool json = false, nowait = false, files_only = false, panel = false, with_secret = false;
	int status = 1, ch, subset = 5;
	char cmd[40];

	if (argc < 2) {
		fputs(backup_usage, stderr);
		return 2;
	}
	sub = argv[1];
	snprintf(cmd, sizeof(cmd), "backup %.20s", sub);
	optind = 0;
	while ((ch = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
		switch (ch) {
		case 's': site = optarg; break;
		case 'd': database = optarg; break;
		case 'P': panel = true; break;
		case 'W': with_secret = true; break;
		case 't': to = optarg; break;
		case 'f': from = optarg; break;
		case 'S': snap = optarg; break;
		case 'p': path = optarg; break;
		case 'D': to_dir = optarg; break;
		case 'i': into = optarg; break;
		case 'F': files_only = true; break;
		case 'u': if (!parse_keep(cmd, "subset", optarg, &subset) || subset > 100) {
				fprintf(stderr, "aapanel %s: subset: must be a percentage from 0 to 100\n", cmd);
				return 2;
			}
			break;
		case '1': if (!parse_keep(cmd, "keep-last", optarg, &bs.keep_last)) return 2; break;
		case '2': if (!parse_keep(cmd, "keep-daily", optarg, &bs.keep_daily)) return 2; break;
		case '3': if (!parse_keep(cmd, "keep-weekly", optarg, &bs.keep_weekly)) return 2; break;
		case '4': if (!parse_keep(cmd, "keep-monthly", optarg, &bs.keep_monthly)) return 2; break;
		case 'n': nowait = true; break;
		case 'j': json = true; break;
		default: fputs(backup_usage, stderr); return 2;
		}
	}
	if (optind < argc - 1)
		arg = argv[optind + 1];
	if ((arg != NULL && strcmp(sub, "cancel") != 0) || (site != NULL && database != NULL)) {
		fputs(backup_usage, stderr);
		return 2;
	}
	if (panel && (site != NULL || database != NULL)) {
		fprintf(stderr, "aapanel %s: panel: --panel goes without --site and --database\n", cmd);
		return 2;
	}
	if (with_secret && (!panel || strcmp(sub, "run") != 0)) {
		fprintf(stderr, "aapanel %s: with-secret: only with backup run --panel\n", cmd);
		return 2;
	}
	if (panel && (strcmp(sub, "run") == 0 || strcmp(sub, "restore") == 0))
		return panel_cmd(cfg, cmd, sub, to, from, snap, to_dir, with_secret, nowait, json, &bs);
	if (strcmp(sub, "run") == 0 || strcmp(sub, "restore") == 0) {
		if (site == NULL && database == NULL) {
			fprintf(stderr, "aapanel %s: site: --site DOMAIN or --database NAME is required\n", cmd);
			return 2;
		}
	}
	if (strcmp(sub, "run") == 0 && to == NULL) {
		fprintf(stderr, "aapanel %s: to: --to DEST is required\n", cmd);
		return 2;
	}
	if ((strcmp(sub, "restore") == 0 || strcmp(sub, "snapshots") == 0 || strcmp(sub, "ls") == 0 ||
		strcmp(sub, "get") == 0 || strcmp(sub, "check") == 0) && from == NULL) {
		fprintf(stderr, "aapanel %s: from: --from DEST is required\n", cmd);
		return 2;
	}
	if ((strcmp(sub, "restore") == 0 || strcmp(sub, "ls") == 0 || strcmp(sub, "get") == 0) &&
	    snap == NULL) {
		fprintf(stderr, "aapanel %s: snapshot: --snapshot ID is required\n", cmd);
		return 2;
	}
	if (strcmp(sub, "get") == 0 && path == NULL) {
		fprintf(stderr, "aapanel %s: path: --path PATH is required\n", cmd);
		return 2;
	}
	if (strcmp(sub, "cancel") == 0 && arg == NULL) {
		fputs(backup_usage, stderr);
		return 2;
	}
	if (strcmp(sub, "run") != 0 && strcmp(sub, "list") != 0 && strcmp(sub, "snapshots") != 0 &&
	    strcmp(sub, "ls") != 0 && strcmp(sub, "get") != 0 && strcmp(sub, "restore") != 0 &&
	    strcmp(sub, "check") != 0 && strcmp(sub, "cancel") != 0) {
		fputs(backup_usage, stderr);
		return 2;
	}
	if (!ap_dbconn_startup(cfg) || (env.db = ap_dbconn_open_cli(cfg)) == NULL)
		goto out;
	env.helper = ap_helper_client_new(cfg->helper_socket, cfg->helper_timeout_ms, 1 << 20);

	if (strcmp(sub, "run") == 0) {
		bs.kind = site != NULL ? "site" : "database";
		bs.target = site != NULL ? site : database;
		bs.dest = to;
		ap_cli_change(env.db);
		if (ap_backup_start(&env, &bs, &r, &pb) != AP_OK) {
			struct json_object *b = json_object_new_object();

			json_object_object_add(b, "target", json_object_new_string(bs.target));
			json_object_object_add(b, "dest", json_object_new_string(to));
			audit(env.db, "backup.run", bs.target, "failed", b, pb_json(&pb));
			status = ap_cli_problem(cmd, &pb);
			goto out;
		}
		run_started(env.db, "backup.run", &r, NULL);
		if (!nowait)
			wait_run(&env, &r, json);
		status = run_end(cmd, &r, json);
	} else if (strcmp(sub, "restore") == 0) {
		rs.dest = from;
		rs.snapshot = snap;
		rs.kind = site != NULL ? "site" : "database";
		rs.target = site != NULL ? site : database;
		rs.to = site != NULL ? (to_dir != NULL ? "path" : "inplace")
				     : (into != NULL ? "database" : "inplace");
		rs.new_dir = to_dir;
		rs.new_database = into;
		rs.files_only = files_only;
		ap_cli_change(env.db);
		if (ap_backup_restore_start(&env, &rs, &r, &pb) != AP_OK) {
			struct json_object *b = json_object_new_object();

			json_object_object_add(b, "target", json_object_new_string(rs.target));
			json_object_object_add(b, "snapshot", json_object_new_string(snap));
			audit(env.db, "backup.restore", rs.target, "failed", b, pb_json(&pb));
			status = ap_cli_problem(cmd, &pb);
			goto out;
		}
		run_started(env.db, "backup.restore", &r, NULL);
		if (!nowait)
			wait_run(&env, &r, json);
		status = run_end(cmd, &r, json);
	} else if (strcmp(sub, "check") == 0) {
		ap_cli_change(env.db);
		if (ap_backup_check_start(&env, from, subset, &r, &pb) != AP_OK) {
			status = ap_cli_problem(cmd, &pb);
			goto out;
		}
		run_started(env.db, "backup.check", &r, NULL);
		if (!nowait)
			wait_run(&env, &r, json);
		status = run_end(cmd, &r, json);
	} else if (strcmp(sub, "cancel") == 0) {
		char *end;
		long long id = strtoll(arg, &end, 10);

		if (*end != '\0' || id <= 0) {
			fprintf(stderr, "aapanel %s: run: must be a run's number\n", cmd);
			status = 2;
			goto out;
		}
		if (ap_backup_run_get(&env, id, &r, &pb) != AP_OK) {
			if (pb.code == AP_PB_NOT_FOUND)
				pb.status = 400;
			status = ap_cli_problem(cmd, &pb);
			goto out;
		}
		ap_backup_settle(&env, &r);
		/* the helper's job.cancel writes no row: the audit row is the only write */
		if (ap_backup_cancel(&env, &r, &pb) != AP_OK) {
			status = ap_cli_problem(cmd, &pb);
			goto out;
		}
		for (int i = 0; i < 40 && strcmp(r.state, "running") == 0; i++) {
			usleep(250 * 1000);
			ap_backup_settle(&env, &r);
		}
		audit(env.db, "backup.cancel", r.target, "ok", NULL, ap_backup_run_json(&r));
		printf("%s %lld %s: %s\n", r.action, (long long)r.id, r.state, r.message);
		status = 0;
	} else if (strcmp(sub, "list") == 0) {
		struct json_object *arr = json ? json_object_new_array() : NULL;
		const char *tk = panel ? "panel" : site != NULL ? "site" : database != NULL ? "database" : NULL;

		if (ap_backup_runs(&env, tk, panel ? "panel" : site != NULL ? site : database, 500, run_row, arr, &pb) !=
		    AP_OK) {
			json_object_put(arr);
			status = ap_cli_problem(cmd, &pb);
			goto out;
		}
		if (arr != NULL) {
			struct json_object *o = json_object_new_object();

			json_object_object_add(o, "items", arr);
			json_object_object_add(o, "next", NULL);
			print_json(o);
		}
		status = 0;
	} else if (strcmp(sub, "snapshots") == 0) {
		struct json_object *res = NULL, *list;
		char tag[300] = "";

		if (panel)
			snprintf(tag, sizeof(tag), "panel");
		else if (site != NULL || database != NULL)
			snprintf(tag, sizeof(tag), "%s:%s", site != NULL ? "site" : "database",
			    site != NULL ? site : database);
		if (ap_backup_snapshots(&env, from, tag[0] ? tag : NULL, &res, &pb) != AP_OK) {
			status = ap_cli_problem(cmd, &pb);
			goto out;
		}
		if (json)
			print_json(json_object_get(res));
		else if (json_object_object_get_ex(res, "snapshots", &list))
			for (size_t i = 0; i < json_object_array_length(list); i++) {
				struct json_object *s = json_object_array_get_idx(list, i), *v, *tags;

				json_object_object_get_ex(s, "short_id", &v);
				printf("%-10s ", json_object_get_string(v));
				json_object_object_get_ex(s, "time", &v);
				printf("%-32s ", json_object_get_string(v));
				if (json_object_object_get_ex(s, "tags", &tags))
					for (size_t k = 0; k < json_object_array_length(tags); k++)
						printf("%s ", json_object_get_string(json_object_array_get_idx(tags, k)));
				printf("\n");
			}
		json_object_put(res);
		status = 0;
	} else if (strcmp(sub, "ls") == 0) {
		struct json_object *res = NULL, *list;

		if (ap_backup_ls(&env, from, snap, path, &res, &pb) != AP_OK) {
			status = ap_cli_problem(cmd, &pb);
			goto out;
		}
		if (json)
			print_json(json_object_get(res));
		else if (json_object_object_get_ex(res, "entries", &list))
			for (size_t i = 0; i < json_object_array_length(list); i++) {
				struct json_object *e = json_object_array_get_idx(list, i), *t, *p, *sz;

				json_object_object_get_ex(e, "type", &t);
				json_object_object_get_ex(e, "path", &p);
				printf("%-5s %12lld %s\n", json_object_get_string(t),
				    json_object_object_get_ex(e, "size", &sz) ? (long long)json_object_get_int64(sz) : 0LL,
				    json_object_get_string(p));
			}
		json_object_put(res);
		status = 0;
	} else {
		/* get: the file's bytes on stdout, from the helper's descriptor. */
		int fd = -1;
		int64_t size = 0;
		char buf[65536];
		ssize_t n;

		if (ap_backup_dump(&env, from, snap, path, &fd, &size, &pb) != AP_OK) {
			status = ap_cli_problem(cmd, &pb);
			goto out;
		}
		status = 0;
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n) {
				status = 1;
				break;
			}
		if (n < 0)
			status = 1;
		close(fd);
		audit(env.db, "backup.download", path, status == 0 ? "ok" : "failed", NULL, NULL);
	}
out:
	ap_helper_client_free(env.helper);
	ap_db_close(env.db);
	return status;
}
