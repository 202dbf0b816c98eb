/*
 * cli.h — the command-line forms of the panel's actions: `aapanel user …`,
 * `aapanel token …`, `aapanel audit verify`, `aapanel db …`. Each returns
 * the exit status (0 success, 2 invalid input with the field and reason on
 * stderr, 1 any other failure; exceptions are said below) and records its
 * changes in the audit log (via "cli", each in the change's transaction:
 * a failed audit write undoes the change, exit 1). argv[0] is the command word ("user").
 */
#ifndef AAPANEL_CLI_H
#define AAPANEL_CLI_H

#include <stdio.h>

#include "aapanel/config.h"
#include "aapanel/db.h"
#include "aapanel/problem.h"

/*
 * user, token and audit first apply the start-up migration policy
 * (ap_dbconn_startup), so they can migrate a development database. `user
 * passwd` and `user disable` also sign the account out everywhere. audit
 * returns ap_auditcli_verify's status (1 broken, 2 unreadable database).
 */
int ap_cli_user(const struct ap_config *cfg, int argc, char **argv);
int ap_cli_token(const struct ap_config *cfg, int argc, char **argv);
int ap_cli_audit(const struct ap_config *cfg, int argc, char **argv);
/*
 * `settings show [--json]`, `settings set KEY VALUE...` (src/cli/settings.c):
 * exit 0, 2 for a bad key or value (KEY: REASON on stderr), 1 otherwise.
 * *reload is set when the pool must re-read its configuration.
 */
int ap_cli_settings(const struct ap_config *cfg, int argc, char **argv, bool *reload);
/* `site add|list|show|disable|enable|reapply|remove` (src/cli/site.c, docs/sites.md). */
int ap_cli_site(const struct ap_config *cfg, int argc, char **argv);
/* `cert issue|renew|upload|list|show|remove` (src/cli/cert.c, docs/certificates.md). */
int ap_cli_cert(const struct ap_config *cfg, int argc, char **argv);
/* `dbserver add|list|remove`, `database add|list|passwd|remove` (src/cli/database.c, docs/databases.md). */
int ap_cli_dbserver(const struct ap_config *cfg, int argc, char **argv);
int ap_cli_database(const struct ap_config *cfg, int argc, char **argv);
/* database export|import (src/cli/dbio.c); argv[1] is the subcommand. */
int ap_cli_database_dbio(const struct ap_config *cfg, int argc, char **argv);
/* The managed database NAME on SERVER, or the one of that name when SERVER is NULL; exit status
 * 0, else 2 (no such database; several servers have one: names them and --server) or 1. */
struct ap_sites_env;
struct ap_database;
int ap_cli_database_pick(const char *cmd, struct ap_sites_env *env, const char *server,
    const char *name, struct ap_database *d);
/* `files ls|get|put|rm SITE PATH` (src/cli/files.c, docs/files.md). */
int ap_cli_files(const struct ap_config *cfg, int argc, char **argv);
/* `logs SITE access|error [--lines N] [--search TEXT]` (src/cli/logs.c). */
int ap_cli_logs(const struct ap_config *cfg, int argc, char **argv);
/* `task add|list|show|run|enable|disable|remove` (src/cli/task.c, docs/tasks.md). */
int ap_cli_task(const struct ap_config *cfg, int argc, char **argv);
/* `backup-dest add|list|remove`, `backup run|list|snapshots|ls|get|restore|check|cancel`
 * (src/cli/backup.c, docs/backups.md). */
int ap_cli_backup_dest(const struct ap_config *cfg, int argc, char **argv);
int ap_cli_backup(const struct ap_config *cfg, int argc, char **argv);
/* `service list|status|start|stop|restart|reload|enable|disable` (src/cli/service.c, docs/services.md). */
int ap_cli_service(const struct ap_config *cfg, int argc, char **argv);
/* `firewall list|allow|deny|remove|block|unblock|policy|apply|confirm` (src/cli/firewall.c, docs/firewall.md). */
int ap_cli_firewall(const struct ap_config *cfg, int argc, char **argv);
/* `routes [--json]` (src/cli/routes.c): the route table; needs no configuration. */
int ap_cli_routes(int argc, char **argv);
/* aapanel openapi [--base PATH] [--testing]: the OpenAPI 3.1 document on stdout. */
int ap_cli_openapi(int argc, char **argv);
/* `aapanel status --system [--json]` (src/cli/system.c): the server as GET /api/v1/system shows it. */
int ap_cli_status_system(const struct ap_config *cfg, bool json);

/*
 * For commands: open the configured database, or print why not on stderr
 * and return NULL. Owned: close it with ap_db_close.
 */
struct ap_db *ap_dbconn_open_cli(const struct ap_config *cfg);

/*
 * For commands that change data: apply the start-up migration policy
 * (ap_dbconn_startup, so a development database is migrated) and open the
 * database; NULL after saying why on stderr. Owned: ap_db_close.
 */
struct ap_db *ap_cli_db_open(const struct ap_config *cfg);

/*
 * The secret key shared by every host of the database (hostkey.h): true
 * when this process has no key or it is the recorded one (recorded now if
 * none was); else false after saying why on stderr, naming the setting.
 */
bool ap_cli_hostkey_check(const struct ap_config *cfg, struct ap_db *db);

/*
 * A change and its audit row in one transaction (issue 19, as a request's
 * unit of work: db.h): ap_cli_change before the change's first write opens
 * the unit (BEGIN at that write); ap_cli_audit_write records the row and
 * commits both. When the row or the commit fails, the unit is rolled back
 * — neither the change nor its row is recorded — and the command ends
 * there: "aapanel: ACTION TARGET: not done: the audit log could not be
 * written (REASON) …" on stderr, exit 1 (what a helper had done already is
 * said in docs/security.md, "The CLI's changes"). Actor "cli:<unix user>",
 * via "cli"; before/after JSON text or NULL, never secrets. Without
 * ap_cli_change (the helper's change alone: files, services, settings) the
 * row is written on its own; refused, exit 1 with "…: the helper made this
 * change, but the audit log could not be written (REASON)".
 * ap_cli_audit_json: the same with json-c values (released, NULL for none).
 */
void ap_cli_change(struct ap_db *db);
void ap_cli_audit_write(struct ap_db *db, const char *action, const char *target, const char *outcome,
    const char *before, const char *after);
struct json_object;
void ap_cli_audit_json(struct ap_db *db, const char *action, const char *target, const char *outcome,
    struct json_object *before, struct json_object *after);

/*
 * `aapanel alert …` (src/cli/alert.c): rules, channels and the history,
 * as /alerts and its forms and /api/v1/alerts offer them, validated by the
 * same field tables (so both refuse the same values for the same
 * reasons), audited the same way, and with --json the same resources. A
 * webhook's secret is read from a file or stdin, never from argv, and is
 * never printed or audited. Exit 2 also for an id that does not exist.
 */
int ap_cli_alert(const struct ap_config *cfg, int argc, char **argv);

/*
 * Print pb (not NULL) as "aapanel CMD: FIELD: REASON" (or without the
 * field; the code's name when there is no reason) on stderr and return the
 * exit status it means: 2 for a problem with the caller's input (a 4xx
 * status), 1 for anything else.
 */
int ap_cli_problem(const char *cmd, const struct ap_problem *pb);

/*
 * `db migrate`, `db status`, `db copy` (src/cli/db.c), reports to out,
 * errors to stderr. Return the exit status: status is 2 when migrations
 * are pending (scripts tell that from up to date, 0); copy is 1 for any
 * failure, including a non-empty target without force or counts that do
 * not match afterwards.
 */
int ap_dbcli_migrate(const struct ap_config *cfg, FILE *out);
int ap_dbcli_status(const struct ap_config *cfg, FILE *out);
int ap_dbcli_copy(const struct ap_config *cfg, const char *from, const char *from_pw,
    const char *to, const char *to_pw, bool force, FILE *out);

#endif
