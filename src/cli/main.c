/*
 * main.c — the aapanel command: `aapanel serve` runs the pool; every other
 * subcommand is the CLI form of a panel action.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aapanel/cli.h"
#include "aapanel/config.h"
#include "aapanel/dbconn.h"
#include "aapanel/log.h"
#include "aapanel/pages.h"
#include "aapanel/pool.h"
#include "aapanel/scoreboard.h"

#ifndef AP_SHAREDIR
#define AP_SHAREDIR "/usr/local/share/aapanel"
#endif
#ifndef AP_SYSCONFDIR
#define AP_SYSCONFDIR "/etc/aapanel"
#endif

struct cli {
	const char *profile_flag;
	const char *config_file;
	const char *root;
	bool json;
	char reason[256]; /* why the profile was chosen */
	char rootbuf[PATH_MAX];
	char cfgbuf[PATH_MAX];
};

struct command {
	const char *name;
	int (*run)(struct cli *cli, int argc, char **argv);
	const char *summary;
	const char *help;
};

static int cmd_serve(struct cli *, int, char **);
static int cmd_config(struct cli *, int, char **);
static int cmd_status(struct cli *, int, char **);
static int cmd_help(struct cli *, int, char **);
static int cmd_db(struct cli *, int, char **);
static int cmd_user(struct cli *, int, char **);
static int cmd_token(struct cli *, int, char **);
static int cmd_audit(struct cli *, int, char **);
static int cmd_routes(struct cli *, int, char **);
struct command;
static const struct command *find_command(const char *name);

static const struct command commands[] = {
	{ "serve", cmd_serve, "run the FastCGI worker pool in the foreground",
	    "usage: aapanel [OPTIONS] serve\n\n"
	    "Loads and validates the configuration, opens the FastCGI socket (or takes\n"
	    "the one systemd passes), forks the workers and supervises them until\n"
	    "SIGTERM or SIGINT. SIGHUP re-reads the configuration: when it is valid,\n"
	    "new workers start and the old ones finish their current request; when it\n"
	    "is not, the reasons are logged and the old configuration keeps serving.\n"
	    "Under systemd it reports READY, STATUS and WATCHDOG through sd_notify.\n" },
	{ "config", cmd_config, "check or show the configuration",
	    "usage: aapanel [OPTIONS] config check\n"
	    "       aapanel [OPTIONS] config show\n\n"
	    "check  validate the base file and the profile overlay; exit 0 when valid,\n"
	    "       1 when not, printing each problem as FILE:LINE: KEY: REASON.\n"
	    "show   print the effective configuration (secrets masked).\n" },
	{ "status", cmd_status, "show the workers of the running pool",
	    "usage: aapanel [OPTIONS] status [--json]\n\n"
	    "Reads the shared scoreboard of the running pool: for each worker its pid,\n"
	    "state, requests served, current request and its age, and resident memory.\n"
	    "Exit 0 when the pool runs, 3 when it does not.\n" },
	{ "db", cmd_db, "migrate, inspect or copy the panel's database",
	    "usage: aapanel [OPTIONS] db migrate\n"
	    "       aapanel [OPTIONS] db status\n"
	    "       aapanel [OPTIONS] db copy --from DSN --to DSN [--from-password-file F]\n"
	    "                                 [--to-password-file F] [--force]\n\n"
	    "migrate  apply pending migrations (sql/<dialect>/NNNN_name.sql), each in a\n"
	    "         transaction, recorded in schema_migrations.\n"
	    "status   list migrations as applied or PENDING; exit 0 up to date, 2 pending.\n"
	    "copy     move the panel's data to another database, e.g. from SQLite to\n"
	    "         PostgreSQL or MariaDB: migrates the target, refuses a target that\n"
	    "         already holds rows unless --force, copies every table in one\n"
	    "         transaction and verifies the row counts. Passwords come from files.\n"
	    "DSNs: sqlite:/abs/path.db, mysql://user@host:port/db,\n"
	    "      mysql://user@localhost/db?socket=/run/mysqld/mysqld.sock,\n"
	    "      postgresql://user@host:port/db\n" },
	{ "user", cmd_user, "add, list, disable or enable panel users; set passwords",
	    "usage: aapanel [OPTIONS] user add NAME --role admin|operator|viewer\n"
	    "                                  (--password-stdin | --generate-password)\n"
	    "       aapanel [OPTIONS] user passwd NAME (--password-stdin | --generate-password)\n"
	    "       aapanel [OPTIONS] user list\n"
	    "       aapanel [OPTIONS] user disable NAME | user enable NAME\n\n"
	    "Passwords are read from standard input (one line; not echoed on a terminal)\n"
	    "or generated and printed once. They must meet the password policy\n"
	    "(auth.password_min_length, not a common password, not the user name).\n"
	    "A new password or disabling a user signs out all of that user's sessions.\n"
	    "Every change is recorded in the audit log.\n" },
	{ "token", cmd_token, "create, list or revoke API tokens",
	    "usage: aapanel [OPTIONS] token create --user NAME --scope read|write|admin\n"
	    "                                      [--name LABEL] [--allow CIDR,...] [--expires DAYS]\n"
	    "       aapanel [OPTIONS] token list [--user NAME]\n"
	    "       aapanel [OPTIONS] token revoke ID\n\n"
	    "The token is printed once and stored only as a keyed hash. Use it as\n"
	    "'Authorization: Bearer TOKEN' on /api/v1/...; its scope caps the user's role\n"
	    "(read: reading only; write: no administration; admin: everything the user may\n"
	    "do) and --allow limits the client addresses it works from.\n" },
	{ "audit", cmd_audit, "verify the audit log's hash chain",
	    "usage: aapanel [OPTIONS] audit verify\n\n"
	    "Recomputes every row's hash and link. Exit 0 when the chain is intact;\n"
	    "1 and the first broken row when a row was edited, inserted or removed.\n" },
	{ "routes", cmd_routes, "list the routes the panel answers",
	    "usage: aapanel routes [--json]\n\n"
	    "Every route of the panel: methods, path, the permission it needs and its\n"
	    "template; with --json also its declared fields (type, limits, choices),\n"
	    "whether it needs the database and whether it has a form page. Every route\n"
	    "also answers as JSON under /api/v1/.\n" },
	{ "help", cmd_help, "show help for a command", "usage: aapanel help [COMMAND]\n" },
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: aapanel [OPTIONS] COMMAND [ARGS]\n\n"
		   "aaPanel %s — a server control panel served as FastCGI behind nginx.\n\n"
		   "Commands:\n", AP_VERSION);
	for (size_t i = 0; i < AP_NELEM(commands); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nOptions:\n"
		   "  --profile NAME  development, production or test (default: AAPANEL_ENV,\n"
		   "                  else development in a source checkout, else production)\n"
		   "  --config FILE   base configuration file (default: conf/aapanel.cfg in a\n"
		   "                  checkout, %s/aapanel.cfg when installed)\n"
		   "  --root DIR      directory holding templates/, static/, po/ (default: the\n"
		   "                  checkout, or %s)\n"
		   "  -h, --help      this help;  -V, --version  print the version\n\n"
		   "Run 'aapanel help COMMAND' for the details of a command.\n",
	    AP_SYSCONFDIR, AP_SHAREDIR);
}

static bool
is_checkout(const char *dir)
{
	char p[PATH_MAX];
	struct stat st;

	snprintf(p, sizeof(p), "%s/src/cli/main.c", dir);
	if (stat(p, &st) != 0)
		return false;
	snprintf(p, sizeof(p), "%s/Makefile", dir);
	return stat(p, &st) == 0;
}

/* The root: --root, else AAPANEL_ROOT, else the checkout the binary sits in, else SHAREDIR. */
static void
resolve_root(struct cli *cli)
{
	char exe[PATH_MAX];
	ssize_t n;
	char *slash;

	if (cli->root == NULL)
		cli->root = getenv("AAPANEL_ROOT");
	if (cli->root != NULL && cli->root[0]) {
		if (realpath(cli->root, cli->rootbuf) != NULL)
			cli->root = cli->rootbuf;
		return;
	}
	cli->root = AP_SHAREDIR;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return;
	exe[n] = '\0';
	/* <checkout>/build/aapanel → <checkout> */
	for (int up = 0; up < 2; up++) {
		slash = strrchr(exe, '/');
		if (slash == NULL || slash == exe)
			return;
		*slash = '\0';
	}
	if (is_checkout(exe)) {
		snprintf(cli->rootbuf, sizeof(cli->rootbuf), "%s", exe);
		cli->root = cli->rootbuf;
	}
}

static const char *
default_config(struct cli *cli)
{
	if (cli->config_file)
		return cli->config_file;
	if (getenv("AAPANEL_CONFIG") && getenv("AAPANEL_CONFIG")[0])
		return getenv("AAPANEL_CONFIG");
	if (is_checkout(cli->root))
		return NULL; /* <root>/conf/aapanel.cfg */
	snprintf(cli->cfgbuf, sizeof(cli->cfgbuf), "%s/aapanel.cfg", AP_SYSCONFDIR);
	return cli->cfgbuf;
}

/* Detect the profile and load the configuration; prints problems. */
static int
load_config(struct cli *cli, bool generate, bool quiet, struct ap_config_opts *opts,
    struct ap_config **cfg)
{
	struct ap_config_problems probs = { 0 };
	enum ap_profile_source src;
	char *reason = cli->reason;
	size_t reasonlen = sizeof(cli->reason);

	memset(opts, 0, sizeof(*opts));
	opts->root_dir = cli->root;
	opts->config_file = default_config(cli);
	if (ap_profile_detect(cli->profile_flag, getenv("AAPANEL_ENV"), cli->root, &opts->profile,
		&src, reason, reasonlen) != AP_OK) {
		fprintf(stderr, "aapanel: %s\n", reason);
		return 1;
	}
	if (!quiet)
		AP_INFO("profile %s (%s)", ap_profile_name(opts->profile), reason);
	opts->generate_secret = generate && opts->profile != AP_PROFILE_PRODUCTION;
	if (ap_config_load(opts, cfg, &probs) != AP_OK) {
		for (size_t i = 0; i < probs.n; i++) {
			char *s = ap_config_problem_str(&probs.v[i]);
			fprintf(stderr, "%s\n", s);
			free(s);
		}
		ap_config_problems_free(&probs);
		return 1;
	}
	return 0;
}

static int
cmd_serve(struct cli *cli, int argc, char **argv)
{
	static struct ap_config_opts opts; /* the pool re-reads with it on SIGHUP */
	struct ap_config *cfg = NULL;
	enum ap_log_level lvl;

	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "aapanel serve: unexpected argument '%s'\n", argv[1]);
		return 2;
	}
	if (load_config(cli, true, false, &opts, &cfg) != 0) {
		AP_ERROR("configuration invalid; not starting");
		return 1;
	}
	if (ap_log_level_parse(cfg->log_level, &lvl))
		ap_log_set_level(lvl);
	AP_INFO("configuration: %s%s%s; secret key: %s", cfg->base_file,
	    cfg->profile_file ? " + " : "", cfg->profile_file ? cfg->profile_file : "",
	    cfg->secret_key_source ? cfg->secret_key_source : "none");
	if (!ap_dbconn_startup(cfg)) {
		ap_config_free(cfg);
		return 1;
	}
	return ap_pool_run(cfg, &opts, ap_routes, ap_nroutes);
}

static int
cmd_config(struct cli *cli, int argc, char **argv)
{
	struct ap_config_opts opts;
	struct ap_config *cfg = NULL;
	struct ap_buf b = { 0 };

	if (argc != 2 || (strcmp(argv[1], "check") != 0 && strcmp(argv[1], "show") != 0)) {
		fprintf(stderr, "%s", commands[1].help);
		return 2;
	}
	if (load_config(cli, false, true, &opts, &cfg) != 0) {
		fprintf(stderr, "configuration invalid (profile %s)\n", ap_profile_name(opts.profile));
		return 1;
	}
	if (strcmp(argv[1], "check") == 0) {
		printf("configuration valid: profile %s (%s), %s%s%s\n", ap_profile_name(cfg->profile),
		    cli->reason, cfg->base_file, cfg->profile_file ? " + " : "",
		    cfg->profile_file ? cfg->profile_file : "");
	} else {
		ap_config_show(cfg, &b);
		fputs(ap_buf_cstr(&b), stdout);
		ap_buf_free(&b);
	}
	ap_config_free(cfg);
	return 0;
}

static unsigned long
rss_kib(pid_t pid)
{
	char path[64];
	unsigned long size = 0, res = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/statm", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	if (fscanf(f, "%lu %lu", &size, &res) != 2)
		res = 0;
	fclose(f);
	return res * (unsigned long)(sysconf(_SC_PAGESIZE) / 1024);
}

static int
cmd_status(struct cli *cli, int argc, char **argv)
{
	struct ap_config_opts opts;
	struct ap_config *cfg = NULL;
	struct ap_sb *sb = NULL;
	struct ap_sb_header *h;
	char *path = NULL;
	uint64_t now = ap_now_ms(), total;
	int rc = 3;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			cli->json = true;
		else {
			fprintf(stderr, "%s", commands[2].help);
			return 2;
		}
	}
	if (load_config(cli, false, true, &opts, &cfg) != 0)
		return 1;
	path = ap_pool_scoreboard_path(cfg);
	if (ap_sb_open(path, &sb) != AP_OK) {
		printf(cli->json ? "{\"running\":false}\n" : "aapanel is not running (no scoreboard at %s)\n", path);
		goto out;
	}
	h = ap_sb_header(sb);
	if (h->master_pid <= 0 || (kill((pid_t)h->master_pid, 0) != 0 && errno == ESRCH)) {
		printf(cli->json ? "{\"running\":false}\n" : "aapanel is not running\n");
		goto out;
	}
	total = h->total_requests;
	for (unsigned i = 0; i < ap_sb_nslots(sb); i++)
		total += ap_sb_slot(sb, i)->requests;
	if (cli->json)
		printf("{\"running\":true,\"master\":%d,\"profile\":\"%s\",\"version\":\"%s\","
		       "\"uptime_s\":%llu,\"generation\":%u,\"target_workers\":%u,\"requests\":%llu,"
		       "\"workers\":[",
		    h->master_pid, h->profile, h->version_str,
		    (unsigned long long)((now - h->started_ms) / 1000u), h->generation, h->target_workers,
		    (unsigned long long)total);
	else
		printf("aapanel %s, profile %s, master %d, up %llu s, generation %u, %u/%u workers, "
		       "%llu requests\n%-8s %-9s %4s %9s %9s %8s  %s\n",
		    h->version_str, h->profile, h->master_pid,
		    (unsigned long long)((now - h->started_ms) / 1000u), h->generation,
		    ap_sb_live(sb, NULL), h->target_workers, (unsigned long long)total, "PID", "STATE",
		    "GEN", "REQUESTS", "RSS_KIB", "AGE_MS", "CURRENT");
	for (unsigned i = 0, first = 1; i < ap_sb_nslots(sb); i++) {
		struct ap_sb_slot s = *ap_sb_slot(sb, i);
		uint64_t age = 0;

		if (s.state == AP_SB_FREE || s.pid <= 0)
			continue;
		if (s.state == AP_SB_BUSY && s.req_start_ms && now >= s.req_start_ms)
			age = now - s.req_start_ms;
		s.method[sizeof(s.method) - 1] = s.path[sizeof(s.path) - 1] = '\0';
		if (cli->json) {
			struct ap_buf p = { 0 };
			/* the path is request data: escape it for JSON */
			for (const char *c = s.path; *c; c++) {
				if (*c == '"' || *c == '\\')
					ap_buf_printf(&p, "\\%c", *c);
				else if ((unsigned char)*c < 0x20)
					ap_buf_printf(&p, "\\u%04x", *c);
				else
					ap_buf_putc(&p, *c);
			}
			printf("%s{\"pid\":%d,\"state\":\"%s\",\"generation\":%u,\"requests\":%llu,"
			       "\"rss_kib\":%lu,\"current\":%s%s%s%s%s,\"age_ms\":%llu}",
			    first ? "" : ",", s.pid, ap_sb_state_name(s.state), s.generation,
			    (unsigned long long)s.requests, rss_kib(s.pid),
			    s.state == AP_SB_BUSY ? "\"" : "null", s.state == AP_SB_BUSY ? s.method : "",
			    s.state == AP_SB_BUSY ? " " : "", s.state == AP_SB_BUSY ? ap_buf_cstr(&p) : "",
			    s.state == AP_SB_BUSY ? "\"" : "", (unsigned long long)age);
			ap_buf_free(&p);
		} else {
			printf("%-8d %-9s %4u %9llu %9lu %8llu  %s%s%s\n", s.pid, ap_sb_state_name(s.state),
			    s.generation, (unsigned long long)s.requests, rss_kib(s.pid),
			    (unsigned long long)age, s.state == AP_SB_BUSY ? s.method : "-",
			    s.state == AP_SB_BUSY ? " " : "", s.state == AP_SB_BUSY ? s.path : "");
		}
		first = 0;
	}
	if (cli->json)
		printf("]}\n");
	rc = 0;
out:
	ap_sb_close(sb);
	free(path);
	ap_config_free(cfg);
	return rc;
}

static int
cmd_db(struct cli *cli, int argc, char **argv)
{
	static const struct option copyopts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "from-password-file", required_argument, NULL, 'F' },
		{ "to-password-file", required_argument, NULL, 'T' },
		{ "force", no_argument, NULL, 'x' },
		{ NULL, 0, NULL, 0 },
	};
	const char *from = NULL, *to = NULL, *fpw = NULL, *tpw = NULL;
	struct ap_config_opts opts;
	struct ap_config *cfg = NULL;
	bool force = false;
	int rc = 2, ch;

	if (argc < 2) {
		fputs(find_command("db")->help, stderr);
		return 2;
	}
	if (strcmp(argv[1], "copy") == 0) {
		optind = 0; /* glibc: 0 re-initialises getopt after main's own parsing */
		while ((ch = getopt_long(argc - 1, argv + 1, "", copyopts, NULL)) != -1) {
			switch (ch) {
			case 'f': from = optarg; break;
			case 't': to = optarg; break;
			case 'F': fpw = optarg; break;
			case 'T': tpw = optarg; break;
			case 'x': force = true; break;
			default: fputs(find_command("db")->help, stderr); return 2;
			}
		}
		if (from == NULL || to == NULL || optind != argc - 1) {
			fprintf(stderr, "aapanel db copy: --from DSN and --to DSN are required\n");
			return 2;
		}
	} else if ((strcmp(argv[1], "migrate") != 0 && strcmp(argv[1], "status") != 0) || argc != 2) {
		fputs(find_command("db")->help, stderr);
		return 2;
	}
	if (load_config(cli, false, true, &opts, &cfg) != 0)
		return 1;
	if (strcmp(argv[1], "migrate") == 0)
		rc = ap_dbcli_migrate(cfg, stdout);
	else if (strcmp(argv[1], "status") == 0)
		rc = ap_dbcli_status(cfg, stdout);
	else
		rc = ap_dbcli_copy(cfg, from, fpw, to, tpw, force, stdout);
	ap_config_free(cfg);
	return rc;
}

/* Commands that only need the configuration and then hand over. */
static int
with_config(struct cli *cli, int (*fn)(const struct ap_config *, int, char **), int argc,
    char **argv)
{
	struct ap_config_opts opts;
	struct ap_config *cfg = NULL;
	int rc;

	/* generate: the same secret key as the pool (tokens and sessions are keyed hashes). */
	if (load_config(cli, true, true, &opts, &cfg) != 0)
		return 1;
	ap_log_set_level(AP_LOG_WARN); /* the command's own output is what matters */
	rc = fn(cfg, argc, argv);
	ap_config_free(cfg);
	return rc;
}

static int
cmd_user(struct cli *cli, int argc, char **argv)
{
	return with_config(cli, ap_cli_user, argc, argv);
}

static int
cmd_token(struct cli *cli, int argc, char **argv)
{
	return with_config(cli, ap_cli_token, argc, argv);
}

static int
cmd_routes(struct cli *cli, int argc, char **argv)
{
	(void)cli;
	return ap_cli_routes(argc, argv);
}

static int
cmd_audit(struct cli *cli, int argc, char **argv)
{
	return with_config(cli, ap_cli_audit, argc, argv);
}

static const struct command *
find_command(const char *name)
{
	for (size_t i = 0; i < AP_NELEM(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static int
cmd_help(struct cli *cli, int argc, char **argv)
{
	const struct command *c;

	(void)cli;
	if (argc < 2) {
		usage(stdout);
		return 0;
	}
	c = find_command(argv[1]);
	if (c == NULL) {
		fprintf(stderr, "aapanel: unknown command '%s'\n", argv[1]);
		return 2;
	}
	fputs(c->help, stdout);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "profile", required_argument, NULL, 'p' },
		{ "config", required_argument, NULL, 'c' },
		{ "root", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli cli;
	const struct command *c;
	int ch;

	memset(&cli, 0, sizeof(cli));
	ap_log_init("master", AP_LOG_INFO, STDERR_FILENO);
	/* '+': stop at the command so its own flags (status --json) stay its own. */
	while ((ch = getopt_long(argc, argv, "+hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p': cli.profile_flag = optarg; break;
		case 'c': cli.config_file = optarg; break;
		case 'r': cli.root = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("aapanel %s\n", AP_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	c = find_command(argv[optind]);
	if (c == NULL) {
		fprintf(stderr, "aapanel: unknown command '%s' (see 'aapanel --help')\n", argv[optind]);
		return 2;
	}
	resolve_root(&cli);
	return c->run(&cli, argc - optind, argv + optind);
}
