/*
 * main.c — the aapanel command: `aapanel serve` runs the pool; every other
 * subcommand is the CLI form of a panel action.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

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
static int cmd_reload(struct cli *, int, char **);
static int cmd_help(struct cli *, int, char **);
static int cmd_db(struct cli *, int, char **);
static int cmd_user(struct cli *, int, char **);
static int cmd_token(struct cli *, int, char **);
static int cmd_audit(struct cli *, int, char **);
static int cmd_alert(struct cli *, int, char **);
static int cmd_routes(struct cli *, int, char **);
static int cmd_settings(struct cli *, int, char **);
static int cmd_openapi(struct cli *, int, char **);
static int cmd_site(struct cli *, int, char **);
static int cmd_cert(struct cli *, int, char **);
static int cmd_dbserver(struct cli *, int, char **);
static int cmd_database(struct cli *, int, char **);
static int cmd_files(struct cli *, int, char **);
static int cmd_logs(struct cli *, int, char **);
static int cmd_task(struct cli *, int, char **);
static int cmd_service(struct cli *, int, char **);
static int cmd_firewall(struct cli *, int, char **);
static int cmd_backup_dest(struct cli *, int, char **);
static int cmd_backup(struct cli *, int, char **);
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
	    "usage: aapanel [OPTIONS] status [--json]\n"
	    "       aapanel [OPTIONS] status --system [--json]\n\n"
	    "--system: this server now (CPU, load, memory, filesystems, disks,\n"
	    "network, busiest processes), as GET /api/v1/system shows it: from the\n"
	    "running sampler, else read here over half a second.\n\n"
	    "Reads the shared scoreboard of the running pool: the listening socket (ok,\n"
	    "or LOST when its path was deleted), and for each worker its pid, state,\n"
	    "requests served, current request and its age, resident memory and the age\n"
	    "of its last heartbeat. When the configuration on disk is invalid, the\n"
	    "problems go to stderr and the running master of that configuration is\n"
	    "still found (from /proc: needs root or the pool's user) and shown.\n"
	    "Exit 0 when the pool runs, 4 when it runs but the configuration on disk is\n"
	    "invalid (a reload would be refused), 3 when it does not run.\n" },
	{ "reload", cmd_reload, "re-read the configuration of the running pool (SIGHUP)",
	    "usage: aapanel [OPTIONS] reload\n\n"
	    "Sends SIGHUP to the master of the running pool (found through its\n"
	    "scoreboard, never by process name) and waits up to 10 s for the new\n"
	    "generation of workers. Exit 0 when the pool reloaded, 1 when the\n"
	    "configuration on disk is invalid (nothing is sent: the pool keeps\n"
	    "serving with what it has) or the master refused it, 3 when no pool runs.\n"
	    "Under systemd, 'systemctl reload aapanel' does the same.\n" },
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
	{ "settings", cmd_settings, "show or change the panel's port, address, entrance, access, sessions",
	    "usage: aapanel [OPTIONS] settings show [--json]\n"
	    "       aapanel [OPTIONS] settings set KEY VALUE [KEY VALUE...]\n\n"
	    "Keys: panel.address (* or an IP address), panel.port, panel.base_path,\n"
	    "access.allow, session.idle_timeout, session.absolute_timeout. Checked\n"
	    "first, all of them; then the helper rewrites nginx's include\n"
	    "(nginx.listen_file: tested, reloaded, rolled back when nginx refuses) and\n"
	    "the settings layer (panel.settings_file), and the running pool reloads.\n"
	    "Run it as the panel's user (the helper answers only that uid).\n"
	    "Exit 0 done, 2 a bad key or value (KEY: REASON on stderr), 1 otherwise.\n" },
	{ "token", cmd_token, "create, list or revoke API tokens",
	    "usage: aapanel [OPTIONS] token create --user NAME --scope read|write|admin\n"
	    "                                      [--name LABEL] [--allow CIDR,...] [--expires DAYS]\n"
	    "       aapanel [OPTIONS] token list [--user NAME]\n"
	    "       aapanel [OPTIONS] token revoke ID\n\n"
	    "The token is printed once and stored only as a keyed hash. Use it as\n"
	    "'Authorization: Bearer TOKEN' on /api/v1/...; its scope caps the user's role\n"
	    "(read: reading only; write: no administration; admin: everything the user may\n"
	    "do) and --allow limits the client addresses it works from.\n" },
	{ "alert", cmd_alert, "list, add, enable, disable or remove alert rules and channels; the history",
	    "usage: aapanel [OPTIONS] alert list [--json]\n"
	    "       aapanel [OPTIONS] alert rule list [--json] | rule show ID [--json]\n"
	    "       aapanel [OPTIONS] alert rule add --metric METRIC --threshold N [--target T]\n"
	    "                                    [--duration MINUTES] [--channel ID] [--json]\n"
	    "       aapanel [OPTIONS] alert rule enable ID | rule disable ID [--json]\n"
	    "       aapanel [OPTIONS] alert rule remove ID\n"
	    "       aapanel [OPTIONS] alert channel list [--json] | channel show ID [--json]\n"
	    "       aapanel [OPTIONS] alert channel add NAME --email ADDRESS [--json]\n"
	    "       aapanel [OPTIONS] alert channel add NAME --webhook URL --secret-file FILE|- [--json]\n"
	    "       aapanel [OPTIONS] alert channel test ID | channel remove ID\n"
	    "       aapanel [OPTIONS] alert history [--limit N] [--cursor C] [--json]\n\n"
	    "What /alerts and /alerts/history do, checked by the same rules as the API\n"
	    "(exit 2 naming the field and the reason, also for an ID that does not\n"
	    "exist) and recorded in the audit log. METRIC: cpu, memory, swap, load,\n"
	    "disk_space, disk_inodes, cert_expiry, site_down, backup_age (hours since the\n"
	    "last successful backup); --target a mount point, a domain or a database\n"
	    "(none: each of them); --duration minutes the condition must hold; --channel\n"
	    "the channel it goes to (none: every channel). A webhook's secret (16 or more\n"
	    "characters; it signs every call) is the first line of FILE, or of standard\n"
	    "input with '-': never an argument, never printed. 'channel test' queues a\n"
	    "test message that the sampler sends; 'channel show' tells the outcome.\n"
	    "--json prints what the API answers: an AlertRule, an AlertChannel, an array\n"
	    "of them (list), the Alerts resource (alert list), an AlertEventList (history).\n" },
	{ "site", cmd_site, "add, list, show, disable, enable or remove websites",
	    "usage: aapanel [OPTIONS] site add DOMAIN --type static|php|proxy [--alias NAME]...\n"
	    "                              [--root DIR] [--php VERSION] [--upstream URL]\n"
	    "                              [--index \"FILE...\"] [--https-redirect]\n"
	    "                              [--error-404 PATH] [--error-50x PATH] [--json]\n"
	    "       aapanel [OPTIONS] site list [--json]\n"
	    "       aapanel [OPTIONS] site show DOMAIN [--json]\n"
	    "       aapanel [OPTIONS] site disable DOMAIN | enable DOMAIN | reapply DOMAIN\n"
	    "       aapanel [OPTIONS] site remove DOMAIN [--delete-files]\n\n"
	    "The same work as the Websites screen, through the privileged helper: the\n"
	    "vhost is written, tested with nginx -t and swapped in, nginx reloaded, the\n"
	    "site probed over loopback. --root is relative to the site's home (or an\n"
	    "absolute path beneath it). Exit 0 on success, 2 for invalid input (field\n"
	    "and reason on stderr), 1 otherwise (nginx's own message on stderr).\n"
	    "Every change is recorded in the audit log.\n" },
	{ "cert", cmd_cert, "issue, renew, upload, list, show or remove the sites' certificates",
	    "usage: aapanel [OPTIONS] cert issue DOMAIN [--no-wait] [--json]\n"
	    "       aapanel [OPTIONS] cert renew DOMAIN [--no-wait] [--json]\n"
	    "       aapanel [OPTIONS] cert upload DOMAIN --cert FILE --key FILE [--chain FILE] [--json]\n"
	    "       aapanel [OPTIONS] cert list [--json]\n"
	    "       aapanel [OPTIONS] cert show DOMAIN [--json]\n"
	    "       aapanel [OPTIONS] cert remove DOMAIN\n"
	    "       aapanel [OPTIONS] cert sync [--json]\n\n"
	    "The same work as the Certificates screen, through the privileged helper:\n"
	    "issue asks the ACME server (certs.acme_server) for the site and its aliases\n"
	    "with certbot and waits for the job (progress on stderr; --no-wait returns at\n"
	    "once), renew forces a renewal, upload installs PEM files after checking them\n"
	    "(the key is read from its file only, never an argument). --json prints the\n"
	    "API's Certificate, CertificateList or CertificateDetail. Exit 0 on success,\n"
	    "2 for invalid input (field and reason on stderr), 1 otherwise (certbot's\n"
	    "reason on stderr). Every change is recorded in the audit log.\n" },
	{ "dbserver", cmd_dbserver, "add, list or remove the database servers the panel manages",
	    "usage: aapanel [OPTIONS] dbserver add NAME --dsn DSN [--password-file FILE] [--json]\n"
	    "       aapanel [OPTIONS] dbserver list [--json]\n"
	    "       aapanel [OPTIONS] dbserver remove NAME\n\n"
	    "The same work as the Database servers screen: the helper checks the server\n"
	    "answers and keeps its admin password (read from FILE, never an argument) in\n"
	    "a root-only file; it is never shown again. Exit 0 on success, 2 for invalid\n"
	    "input (field and reason on stderr), 1 otherwise. Audited.\n" },
	{ "database", cmd_database, "add, list, passwd, reader, remove, export or import databases",
	    "usage: aapanel [OPTIONS] database add NAME --server SERVER [--user U] [--hosts H]\n"
	    "           [--charset C] [--collation C] [--encoding E] [--locale L] [--site DOMAIN] [--json]\n"
	    "       aapanel [OPTIONS] database list [--json]\n"
	    "       aapanel [OPTIONS] database passwd NAME --server SERVER [--json]\n"
	    "       aapanel [OPTIONS] database reader NAME --server SERVER [--user U] [--json]\n"
	    "       aapanel [OPTIONS] database remove NAME --server SERVER\n"
	    "       aapanel [OPTIONS] database export NAME [--server SERVER] [--out FILE] [--format sql|sql.gz]\n"
	    "       aapanel [OPTIONS] database import NAME FILE [--server SERVER]\n"
	    "       aapanel [OPTIONS] database history NAME [--server SERVER] [--json]\n\n"
	    "The same work as the Databases screen: add makes the database and its own\n"
	    "user with a generated password, printed once (--json: name, server, user,\n"
	    "password); passwd gives the user a new one. export writes a dump (FILE or\n"
	    "stdout) made by the server's own client as a helper job; import feeds FILE\n"
	    "(.sql, or gzip) to it and waits. Exit 0 on success, 2 for invalid input\n"
	    "(field and reason on stderr), 1 otherwise (a failed job: the client's error).\n"
	    "Audited, never a password.\n" },
	{ "files", cmd_files, "list, read, write or delete a site's files",
	    "usage: aapanel [OPTIONS] files ls SITE [PATH] [--json]\n"
	    "       aapanel [OPTIONS] files get SITE PATH\n"
	    "       aapanel [OPTIONS] files put SITE PATH [--no-overwrite]\n"
	    "       aapanel [OPTIONS] files rm SITE PATH\n"
	    "       aapanel [OPTIONS] files chown SITE PATH site|site-web [--recursive] [--no-wait] [--json]\n"
	    "       aapanel [OPTIONS] files copy SITE PATH TO [--no-wait] [--json]\n"
	    "       aapanel [OPTIONS] files job|job-cancel SITE JOB [--json]\n\n"
	    "copy and chown --recursive are helper jobs followed to their end (progress on a\n"
	    "terminal's stderr; --no-wait prints the job's id; Ctrl-C stops the waiting, not\n"
	    "the job: job-cancel cancels it).\n"
	    "The file manager's work through the privileged helper: PATH is relative to\n"
	    "the site's document root and opened beneath it by the kernel; get writes the\n"
	    "file to stdout, put reads it from stdin (atomically: a temporary file, fsync,\n"
	    "rename), rm moves it to the site's trash. Exit 0 on success, 2 for a refused\n"
	    "path or other invalid input (the reason on stderr), 1 otherwise. put and rm\n"
	    "are recorded in the audit log. --root NAME in place of SITE: one of the\n"
	    "admins' other roots (files.roots), e.g. files ls --root www conf.\n" },
	{ "logs", cmd_logs, "show the last lines of a site's access or error log",
	    "usage: aapanel [OPTIONS] logs SITE access|error [--lines N] [--search TEXT]\n\n"
	    "The last N lines (200 by default, 5000 at most) of the site's nginx log that\n"
	    "contain TEXT, oldest first, as the log viewer shows them. Exit 0, 2 for an\n"
	    "unknown site or log, 1 otherwise.\n" },
	{ "task", cmd_task, "add, list, show, run, enable, disable or remove scheduled tasks",
	    "usage: aapanel [OPTIONS] task add NAME --schedule CRON (--command CMD | --url URL)\n"
	    "                         [--user U] [--timeout SECONDS] [--disabled] [--json]\n"
	    "       aapanel [OPTIONS] task add NAME --kind backup (--site DOMAIN | --database NAME)\n"
	    "                         --to DEST --schedule CRON [--keep-last N] [--keep-daily N]\n"
	    "                         [--keep-weekly N] [--keep-monthly N] [--disabled] [--json]\n"
	    "       aapanel [OPTIONS] task add NAME --kind backup_check --to DEST [--subset PERCENT]\n"
	    "                         [--schedule CRON (default @weekly)] [--disabled] [--json]\n"
	    "       aapanel [OPTIONS] task list [--json]\n"
	    "       aapanel [OPTIONS] task show NAME [--json]\n"
	    "       aapanel [OPTIONS] task run NAME|ID [--json]\n"
	    "       aapanel [OPTIONS] task enable NAME | disable NAME | remove NAME\n\n"
	    "The same work as the Tasks screen, through the privileged helper, which\n"
	    "writes the cron file (tasks.cron_dir) and runs each task without a shell,\n"
	    "as its user (default nobody), with its timeout and never twice at once.\n"
	    "CMD is split into words (quotes and backslashes only; nothing is expanded);\n"
	    "its first word is the program's absolute path. `task run ID` is what the\n"
	    "cron lines call: it runs the task and records its run (output, status).\n"
	    "Exit 0 on success, 2 for invalid input (field and reason on stderr), 1\n"
	    "otherwise (also a run that failed). Every change is audited.\n" },
	{ "backup-dest", cmd_backup_dest, "add, list or remove backup destinations (restic repositories)",
	    "usage: aapanel [OPTIONS] backup-dest add NAME --url local:/PATH|sftp:USER@HOST:/PATH|s3:https://HOST/BUCKET\n"
	    "                         [--keys-file FILE] [--region R] [--ssh-key-file FILE]\n"
	    "                         [--known-hosts-file FILE] [--password-file FILE] [--ca-file FILE] [--json]\n"
	    "       aapanel [OPTIONS] backup-dest list [--json]\n"
	    "       aapanel [OPTIONS] backup-dest remove NAME\n\n"
	    "A destination is checked when it is added: the helper opens the restic\n"
	    "repository there, or creates it with a password it generates and keeps in\n"
	    "its own 0600 file (backups.dir). Keys come from files only. Exit 0, 2 for\n"
	    "invalid input, 1 otherwise. Every change is audited.\n" },
	{ "backup", cmd_backup, "back up, list, browse, restore or check sites' and databases' backups",
	    "usage: aapanel [OPTIONS] backup run (--site DOMAIN | --database NAME) --to DEST\n"
	    "                         [--keep-last N] [--keep-daily N] [--keep-weekly N] [--keep-monthly N]\n"
	    "                         [--no-wait] [--json]\n"
	    "       aapanel [OPTIONS] backup list [--site DOMAIN | --database NAME] [--json]\n"
	    "       aapanel [OPTIONS] backup snapshots --from DEST [--site DOMAIN | --database NAME] [--json]\n"
	    "       aapanel [OPTIONS] backup ls --from DEST --snapshot ID [--path PATH] [--json]\n"
	    "       aapanel [OPTIONS] backup get --from DEST --snapshot ID --path PATH\n"
	    "       aapanel [OPTIONS] backup restore --from DEST --snapshot ID (--site DOMAIN [--to-dir NAME]\n"
	    "                         [--files-only] | --database NAME [--into NEWNAME]) [--no-wait] [--json]\n"
	    "       aapanel [OPTIONS] backup check --from DEST [--subset PERCENT] [--json]\n"
	    "       aapanel [OPTIONS] backup run --panel [--with-secret] --to DEST   (the panel itself)\n"
	    "       aapanel [OPTIONS] backup restore --panel --from DEST --snapshot ID --to-dir NAME\n"
	    "       aapanel [OPTIONS] backup cancel RUN\n\n"
	    "Backups are restic snapshots made by the helper: a site's files with its\n"
	    "linked databases' dumps in one snapshot tagged site:DOMAIN, or a database\n"
	    "alone; the retention given is applied after each backup. A restore into\n"
	    "place moves the site's current files to its trash first. Exit 0, 2 for\n"
	    "invalid input, 1 otherwise (a run that failed: its reason on stderr).\n" },
	{ "service", cmd_service, "list, inspect, start, stop or restart the whitelisted systemd units",
	    "usage: aapanel [OPTIONS] service list [--json]\n"
	    "       aapanel [OPTIONS] service status NAME [--json]\n"
	    "       aapanel [OPTIONS] service start|stop|restart|reload|enable|disable NAME\n"
	    "                                 [--confirm NAME] [--json]\n\n"
	    "The same work as the Services screen, through the privileged helper and\n"
	    "systemd's D-Bus API: only units of services.units; stopping or disabling\n"
	    "one of services.protected needs --confirm with its name. Where systemd is\n"
	    "not available, list and status say so. Exit 0 on success, 2 for invalid\n"
	    "input (field and reason on stderr), 1 otherwise. Every action is recorded\n"
	    "in the audit log with the unit's state before and after.\n" },
	{ "firewall", cmd_firewall, "list, allow, deny, remove, apply or confirm the firewall's rules",
	    "usage: aapanel [OPTIONS] firewall list [--json]\n"
	    "       aapanel [OPTIONS] firewall allow|deny PORTS[/tcp|udp|both] [--from CIDRS] [--rate N]\n"
	    "                                   [--comment TEXT] [--position N] [--json]\n"
	    "       aapanel [OPTIONS] firewall remove ID\n"
	    "       aapanel [OPTIONS] firewall block ADDRESS [--comment TEXT] [--json] | unblock ID\n"
	    "       aapanel [OPTIONS] firewall policy accept|drop [--icmp-echo on|off]\n"
	    "       aapanel [OPTIONS] firewall apply [--override] [--operator ADDRESS] [--panel-port N] [--json]\n"
	    "       aapanel [OPTIONS] firewall confirm [--json]\n\n"
	    "The same work as the Firewall screen (docs/firewall.md): rules are stored, then\n"
	    "apply puts them in nftables table inet aapanel in one transaction, and the old\n"
	    "rules come back after firewall.confirm_seconds unless confirm follows. apply\n"
	    "refuses rules that would lock out your address (--operator, else the client of\n"
	    "$SSH_CONNECTION) from SSH or --panel-port, unless --override. Exit 0 on\n"
	    "success, 2 for invalid input or a refusal (field and reason on stderr), 1\n"
	    "otherwise. Every change is recorded in the audit log.\n" },
	{ "audit", cmd_audit, "verify the audit log's hash chain",
	    "usage: aapanel [OPTIONS] audit verify\n\n"
	    "Recomputes every row's hash and link. Exit 0 when the chain is intact;\n"
	    "1 and the first broken row when a row was edited, inserted or removed.\n" },
	{ "routes", cmd_routes, "list the routes the panel answers",
	    "usage: aapanel routes [--json]\n\n"
	    "Every route of the panel: methods, path, the permission it needs and its\n"
	    "template; with --json also its declared fields (type, limits, choices),\n"
	    "whether it needs the database and whether it has a form page. Every route\n"
	    "but the sign-in pages also answers as JSON under /api/v1/.\n" },
	{ "openapi", cmd_openapi, "print the API's OpenAPI 3.1 document",
	    "usage: aapanel openapi [--base PATH] [--testing]\n\n"
	    "The document a panel serves at /api/v1/openapi.json, made from the route\n"
	    "table: every route with its fields, permission, token scopes and answer.\n"
	    "--base sets the default of its base path variable (the security entrance);\n"
	    "--testing adds the test profile's routes. docs/openapi.json is its output.\n" },
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

/* Several hosts on one database share one secret key (hostkey.h). */
static bool
serve_hostkey_ok(const struct ap_config *cfg)
{
	struct ap_db *db = ap_dbconn_open_cli(cfg);
	bool ok = db != NULL && ap_cli_hostkey_check(cfg, db);

	ap_db_close(db);
	return ok;
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
	if (!ap_dbconn_startup(cfg) || !serve_hostkey_ok(cfg)) {
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

/* Exit statuses of `aapanel status` (see its help). */
enum status_exit {
	STATUS_RUNNING = 0,
	STATUS_NOT_RUNNING = 3,
	STATUS_RUNNING_CONFIG_INVALID = 4,
};

/* What status knows about the configuration on disk. */
struct status_conf {
	struct ap_config *cfg;            /* NULL when invalid */
	struct ap_config_problems probs;  /* why, when invalid */
	enum ap_profile profile;
	char base[PATH_MAX];              /* absolute base file, as the master records it */
};

/* Like load_config, but keeps the problems and the identity of the pool to
 * look for when the configuration cannot be loaded. */
static bool
status_load(struct cli *cli, struct status_conf *sc)
{
	struct ap_config_opts opts;
	enum ap_profile_source src;
	const char *file;

	memset(&opts, 0, sizeof(opts));
	opts.root_dir = cli->root;
	opts.config_file = default_config(cli);
	if (ap_profile_detect(cli->profile_flag, getenv("AAPANEL_ENV"), cli->root, &opts.profile,
		&src, cli->reason, sizeof(cli->reason)) != AP_OK) {
		fprintf(stderr, "aapanel: %s\n", cli->reason);
		return false;
	}
	sc->profile = opts.profile;
	/* The same file ap_config_load reads (and the master records). */
	if (opts.config_file != NULL)
		file = opts.config_file;
	else {
		snprintf(sc->base, sizeof(sc->base), "%s/conf/aapanel.cfg", cli->root);
		file = sc->base;
	}
	if (realpath(file, sc->base) == NULL)
		snprintf(sc->base, sizeof(sc->base), "%s", file);
	if (ap_config_load(&opts, &sc->cfg, &sc->probs) != AP_OK)
		sc->cfg = NULL;
	return true;
}

/* Open path as the scoreboard of a running master (pid alive); NULL if not. */
static struct ap_sb *
open_live(const char *path)
{
	struct ap_sb *sb = NULL;
	struct ap_sb_header *h;

	if (ap_sb_open(path, &sb) != AP_OK)
		return NULL;
	h = ap_sb_header(sb);
	if (h->master_pid <= 0 || (kill((pid_t)h->master_pid, 0) != 0 && errno == ESRCH)) {
		ap_sb_close(sb);
		return NULL;
	}
	return sb;
}

/*
 * Without a valid configuration the run directory is unknown: find the
 * running master of this configuration instead. Every master maps its
 * scoreboard, so /proc/PID/maps names it; the scoreboard's header records
 * the master's pid, base configuration file and profile, which must match.
 * Reading another user's maps needs root (or the same user).
 */
static struct ap_sb *
find_master(const struct status_conf *sc, char *path, size_t pathlen)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	struct ap_sb *found = NULL;

	if (d == NULL)
		return NULL;
	while (found == NULL && (de = readdir(d)) != NULL) {
		char file[64], comm[32] = "", line[PATH_MAX + 128];
		long pid;
		char *end;
		FILE *f;

		pid = strtol(de->d_name, &end, 10);
		if (*end != '\0' || pid <= 0)
			continue;
		snprintf(file, sizeof(file), "/proc/%ld/comm", pid);
		f = fopen(file, "re");
		if (f == NULL)
			continue;
		if (fgets(comm, sizeof(comm), f) == NULL)
			comm[0] = '\0';
		fclose(f);
		if (strcmp(comm, "aapanel\n") != 0)
			continue;
		snprintf(file, sizeof(file), "/proc/%ld/maps", pid);
		f = fopen(file, "re");
		if (f == NULL)
			continue;
		while (found == NULL && fgets(line, sizeof(line), f) != NULL) {
			char *p = strchr(line, '/');
			size_t n;
			struct ap_sb *sb;
			struct ap_sb_header *h;

			if (p == NULL)
				continue;
			p[strcspn(p, "\n")] = '\0';
			n = strlen(p);
			if (n < 11 || strcmp(p + n - 11, "/scoreboard") != 0)
				continue; /* also skips "… (deleted)" */
			if ((sb = open_live(p)) == NULL)
				continue;
			h = ap_sb_header(sb);
			if (h->master_pid == (int32_t)pid && strcmp(h->config, sc->base) == 0 &&
			    strcmp(h->profile, ap_profile_name(sc->profile)) == 0) {
				snprintf(path, pathlen, "%s", p);
				found = sb;
			} else
				ap_sb_close(sb);
		}
		fclose(f);
	}
	closedir(d);
	return found;
}

static json_object *
status_config_json(const struct status_conf *sc)
{
	json_object *c = json_object_new_object(), *probs = json_object_new_array();

	json_object_object_add(c, "valid", json_object_new_boolean(sc->cfg != NULL));
	json_object_object_add(c, "file", json_object_new_string(sc->base));
	for (size_t i = 0; i < sc->probs.n; i++) {
		char *p = ap_config_problem_str(&sc->probs.v[i]);

		json_object_array_add(probs, json_object_new_string(p));
		free(p);
	}
	json_object_object_add(c, "problems", probs);
	return c;
}

static void
print_json(json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static int
cmd_status(struct cli *cli, int argc, char **argv)
{
	struct status_conf sc;
	struct ap_sb *sb = NULL;
	struct ap_sb_header *h;
	char path[PATH_MAX] = "";
	uint64_t now = ap_now_ms(), total;
	json_object *o = NULL, *workers = NULL, *sock;
	int rc = STATUS_NOT_RUNNING;
	bool system = false;

	memset(&sc, 0, sizeof(sc));
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			cli->json = true;
		else if (strcmp(argv[i], "--system") == 0)
			system = true;
		else {
			fprintf(stderr, "%s", commands[2].help);
			return 2;
		}
	}
	if (!status_load(cli, &sc))
		return 1;
	if (system) {
		rc = sc.cfg != NULL ? ap_cli_status_system(sc.cfg, cli->json) : 1;
		goto out;
	}
	if (sc.cfg != NULL) {
		char *p = ap_pool_scoreboard_path(sc.cfg);

		snprintf(path, sizeof(path), "%s", p);
		free(p);
		sb = open_live(path);
	} else {
		/* The operator needs to know now whether the old pool still serves. */
		fprintf(stderr, "aapanel: the configuration on disk is INVALID (profile %s, %s); a reload "
				"(SIGHUP) would be refused and a restart would fail:\n",
		    ap_profile_name(sc.profile), sc.base);
		for (size_t i = 0; i < sc.probs.n; i++) {
			char *p = ap_config_problem_str(&sc.probs.v[i]);
			fprintf(stderr, "  %s\n", p);
			free(p);
		}
		sb = find_master(&sc, path, sizeof(path));
		if (sb != NULL)
			fprintf(stderr, "aapanel: the running pool (below) keeps the configuration it "
					"loaded last\n");
	}
	if (sb == NULL) {
		if (cli->json) {
			o = json_object_new_object();
			json_object_object_add(o, "running", json_object_new_boolean(false));
			json_object_object_add(o, "config", status_config_json(&sc));
			print_json(o);
		} else if (sc.cfg != NULL)
			printf("aapanel is not running (no running master with a scoreboard at %s)\n", path);
		else
			printf("aapanel is not running (no running master of %s found)\n", sc.base);
		goto out;
	}
	h = ap_sb_header(sb);
	if (h->socket_lost)
		fprintf(stderr, "aapanel: the listening socket %s was deleted or replaced: requests "
				"cannot reach the pool until it is re-created\n",
		    h->socket_path);
	total = h->total_requests;
	for (unsigned i = 0; i < ap_sb_nslots(sb); i++)
		total += ap_sb_slot(sb, i)->requests;
	if (cli->json) {
		o = json_object_new_object();
		json_object_object_add(o, "running", json_object_new_boolean(true));
		json_object_object_add(o, "master", json_object_new_int(h->master_pid));
		json_object_object_add(o, "profile", json_object_new_string(h->profile));
		json_object_object_add(o, "version", json_object_new_string(h->version_str));
		json_object_object_add(o, "uptime_s", json_object_new_int64((int64_t)((now - h->started_ms) / 1000u)));
		json_object_object_add(o, "generation", json_object_new_int64(h->generation));
		json_object_object_add(o, "target_workers", json_object_new_int64(h->target_workers));
		json_object_object_add(o, "requests", json_object_new_int64((int64_t)total));
		json_object_object_add(o, "scoreboard", json_object_new_string(path));
		sock = json_object_new_object();
		json_object_object_add(sock, "path", json_object_new_string(h->socket_path));
		json_object_object_add(sock, "inherited", json_object_new_boolean(h->socket_inherited != 0));
		json_object_object_add(sock, "lost", json_object_new_boolean(h->socket_lost != 0));
		json_object_object_add(o, "socket", sock);
		json_object_object_add(o, "config", status_config_json(&sc));
		workers = json_object_new_array();
		json_object_object_add(o, "workers", workers);
	} else
		/* Two lines, then one per worker: scripts count on that shape. */
		printf("aapanel %s, profile %s, master %d, up %llu s, generation %u, %u/%u workers, "
		       "%llu requests, socket %s%s, configuration %s\n%-8s %-9s %4s %9s %9s %8s %8s  %s\n",
		    h->version_str, h->profile, h->master_pid,
		    (unsigned long long)((now - h->started_ms) / 1000u), h->generation,
		    ap_sb_live(sb, NULL), h->target_workers, (unsigned long long)total,
		    h->socket_path[0] ? h->socket_path : "(abstract)", h->socket_lost ? " LOST" : " ok",
		    sc.cfg ? "valid" : "INVALID", "PID", "STATE", "GEN", "REQUESTS", "RSS_KIB", "AGE_MS",
		    "BEAT_MS", "CURRENT");
	for (unsigned i = 0; i < ap_sb_nslots(sb); i++) {
		struct ap_sb_slot s = *ap_sb_slot(sb, i);
		uint64_t age = 0, beat = 0;
		bool busy;

		if (s.state == AP_SB_FREE || s.pid <= 0)
			continue;
		busy = s.state == AP_SB_BUSY;
		if (busy && s.req_start_ms && now >= s.req_start_ms)
			age = now - s.req_start_ms;
		if (s.heartbeat_ms && now >= s.heartbeat_ms)
			beat = now - s.heartbeat_ms;
		s.method[sizeof(s.method) - 1] = s.path[sizeof(s.path) - 1] = '\0';
		if (cli->json) {
			json_object *w = json_object_new_object();

			json_object_object_add(w, "pid", json_object_new_int(s.pid));
			json_object_object_add(w, "state", json_object_new_string(ap_sb_state_name(s.state)));
			json_object_object_add(w, "generation", json_object_new_int64(s.generation));
			json_object_object_add(w, "requests", json_object_new_int64((int64_t)s.requests));
			json_object_object_add(w, "rss_kib", json_object_new_int64((int64_t)rss_kib(s.pid)));
			if (busy) {
				char *cur = ap_xasprintf("%s %s", s.method, s.path);

				json_object_object_add(w, "current", json_object_new_string(cur));
				free(cur);
			} else
				json_object_object_add(w, "current", NULL);
			json_object_object_add(w, "age_ms", json_object_new_int64((int64_t)age));
			json_object_object_add(w, "heartbeat_age_ms", json_object_new_int64((int64_t)beat));
			json_object_array_add(workers, w);
		} else {
			printf("%-8d %-9s %4u %9llu %9lu %8llu %8llu  %s%s%s\n", s.pid,
			    ap_sb_state_name(s.state), s.generation, (unsigned long long)s.requests,
			    rss_kib(s.pid), (unsigned long long)age, (unsigned long long)beat,
			    busy ? s.method : "-", busy ? " " : "", busy ? s.path : "");
		}
	}
	if (cli->json)
		print_json(o);
	rc = sc.cfg != NULL ? STATUS_RUNNING : STATUS_RUNNING_CONFIG_INVALID;
out:
	ap_sb_close(sb);
	ap_config_problems_free(&sc.probs);
	ap_config_free(sc.cfg);
	return rc;
}

static int
cmd_reload(struct cli *cli, int argc, char **argv)
{
	struct status_conf sc;
	struct ap_sb *sb = NULL;
	struct ap_sb_header *h;
	char *path = NULL;
	uint32_t gen;
	pid_t master;
	int rc = STATUS_NOT_RUNNING;

	memset(&sc, 0, sizeof(sc));
	(void)argv;
	if (argc > 1) {
		fputs(find_command("reload")->help, stderr);
		return 2;
	}
	if (!status_load(cli, &sc))
		return 1;
	if (sc.cfg == NULL) {
		fprintf(stderr, "aapanel reload: the configuration on disk is invalid; nothing sent, the "
				"pool keeps serving with the configuration it has:\n");
		for (size_t i = 0; i < sc.probs.n; i++) {
			char *p = ap_config_problem_str(&sc.probs.v[i]);
			fprintf(stderr, "  %s\n", p);
			free(p);
		}
		rc = 1;
		goto out;
	}
	path = ap_pool_scoreboard_path(sc.cfg);
	if ((sb = open_live(path)) == NULL) {
		fprintf(stderr, "aapanel reload: no running pool (no live master with a scoreboard at %s)\n",
		    path);
		goto out;
	}
	h = ap_sb_header(sb);
	gen = h->generation;
	master = (pid_t)h->master_pid;
	if (kill(master, SIGHUP) != 0) {
		fprintf(stderr, "aapanel reload: cannot signal the master %d: %s\n", (int)master, strerror(errno));
		rc = 1;
		goto out;
	}
	/* The master answers by starting a new generation, or logs why it refused. */
	for (int i = 0; i < 200 && h->generation == gen; i++)
		usleep(50000);
	if (h->generation == gen) {
		fprintf(stderr, "aapanel reload: master %d kept generation %u: it refused the change (its log "
				"says why)\n", (int)master, gen);
		rc = 1;
		goto out;
	}
	printf("reloaded: master %d, generation %u → %u\n", (int)master, gen, h->generation);
	rc = 0;
out:
	free(path);
	ap_sb_close(sb);
	ap_config_problems_free(&sc.probs);
	ap_config_free(sc.cfg);
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
cmd_alert(struct cli *cli, int argc, char **argv)
{
	return with_config(cli, ap_cli_alert, argc, argv);
}

static int
cmd_settings(struct cli *cli, int argc, char **argv)
{
	struct ap_config_opts opts;
	struct ap_config *cfg = NULL;
	bool reload = false;
	int rc;

	if (load_config(cli, true, true, &opts, &cfg) != 0)
		return 1;
	ap_log_set_level(AP_LOG_WARN);
	rc = ap_cli_settings(cfg, argc, argv, &reload);
	ap_config_free(cfg);
	if (rc == 0 && reload) {
		char *rargv[] = { (char *)"reload", NULL };
		int r = cmd_reload(cli, 1, rargv);

		if (r == STATUS_NOT_RUNNING)
			puts("no pool runs: the new values apply at its next start");
		else if (r != 0)
			rc = 1;
	}
	return rc;
}

static int
cmd_site(struct cli *cli, int argc, char **argv)
{
	return with_config(cli, ap_cli_site, argc, argv);
}

static int
cmd_cert(struct cli *cli, int argc, char **argv)
{
	return with_config(cli, ap_cli_cert, argc, argv);
}

static int
cmd_dbserver(struct cli *cli, int argc, char **argv)
{
	return with_config(cli, ap_cli_dbserver, argc, argv);
}

static int
cmd_database(struct cli *cli, int argc, char **argv)
{
	return with_config(cli, ap_cli_database, argc, argv);
}

static int
cmd_logs(struct cli *cli, int argc, char **argv)
{
	return with_config(cli, ap_cli_logs, argc, argv);
}

static int
cmd_files(struct cli *cli, int argc, char **argv)
{
	return with_config(cli, ap_cli_files, argc, argv);
}

static int
cmd_task(struct cli *cli, int argc, char **argv)
{
	return with_config(cli, ap_cli_task, argc, argv);
}

static int
cmd_backup_dest(struct cli *cli, int argc, char **argv)
{
	return with_config(cli, ap_cli_backup_dest, argc, argv);
}

static int
cmd_backup(struct cli *cli, int argc, char **argv)
{
	return with_config(cli, ap_cli_backup, argc, argv);
}

static int
cmd_service(struct cli *cli, int argc, char **argv)
{
	return with_config(cli, ap_cli_service, argc, argv);
}

static int
cmd_firewall(struct cli *cli, int argc, char **argv)
{
	return with_config(cli, ap_cli_firewall, argc, argv);
}

static int
cmd_routes(struct cli *cli, int argc, char **argv)
{
	(void)cli;
	return ap_cli_routes(argc, argv);
}

static int
cmd_openapi(struct cli *cli, int argc, char **argv)
{
	(void)cli;
	return ap_cli_openapi(argc, argv);
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
