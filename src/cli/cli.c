/*
 * cli.c — what every command shares (cli.h): opening the configured
 * database, and printing a problem with the exit status it means.
 */
#include <stdio.h>

#include "aapanel/cli.h"
#include "aapanel/dbconn.h"

struct ap_db *
ap_dbconn_open_cli(const struct ap_config *cfg)
{
	struct ap_db *db = NULL;

	if (ap_dbconn_open(cfg, &db) == AP_DB_OK)
		return db;
	fprintf(stderr, "aapanel: cannot connect to the database: %s\n",
	    db ? ap_db_errmsg(db) : "invalid db.dsn");
	ap_db_close(db);
	return NULL;
}

int
ap_cli_problem(const char *cmd, const struct ap_problem *pb)
{
	if (pb->field[0])
		fprintf(stderr, "aapanel %s: %s: %s\n", cmd, pb->field, pb->reason);
	else
		fprintf(stderr, "aapanel %s: %s\n", cmd, pb->reason[0] ? pb->reason : ap_pb_name(pb->code));
	/* The caller's mistake (4xx) is exit 2; anything else 1. */
	return pb->status >= 400 && pb->status < 500 ? 2 : 1;
}
