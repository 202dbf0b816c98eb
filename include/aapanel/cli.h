/*
 * cli.h — the command-line forms of the panel's actions: `aapanel user …`,
 * `aapanel token …`, `aapanel audit verify`, `aapanel db …`. Each returns
 * the exit status (0 success, 2 invalid input with the field and reason on
 * stderr, 1 any other failure) and records its changes in the audit log
 * (via "cli").
 */
#ifndef AAPANEL_CLI_H
#define AAPANEL_CLI_H

#include <stdio.h>

#include "aapanel/config.h"
#include "aapanel/db.h"
#include "aapanel/problem.h"

int ap_cli_user(const struct ap_config *cfg, int argc, char **argv);
int ap_cli_token(const struct ap_config *cfg, int argc, char **argv);
int ap_cli_audit(const struct ap_config *cfg, int argc, char **argv);
/* `routes [--json]` (src/cli/routes.c): the route table; needs no configuration. */
int ap_cli_routes(int argc, char **argv);

/*
 * For commands: open the configured database, or print why not on stderr
 * and return NULL. Close it with ap_db_close.
 */
struct ap_db *ap_dbconn_open_cli(const struct ap_config *cfg);

/*
 * Print pb as "aapanel CMD: FIELD: REASON" (or without the field) on
 * stderr and return the exit status it means: 2 for a problem with the
 * caller's input (a 4xx code), 1 for anything else.
 */
int ap_cli_problem(const char *cmd, const struct ap_problem *pb);

/* `db migrate`, `db status`, `db copy` (src/cli/db.c). Return the exit status. */
int ap_dbcli_migrate(const struct ap_config *cfg, FILE *out);
int ap_dbcli_status(const struct ap_config *cfg, FILE *out);
int ap_dbcli_copy(const struct ap_config *cfg, const char *from, const char *from_pw,
    const char *to, const char *to_pw, bool force, FILE *out);

#endif
