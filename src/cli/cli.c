/*
 * cli.c — what every command shares (cli.h): opening the configured
 * database, recording an action in the audit log, and printing a problem
 * with the exit status it means.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <json-c/json.h>

#include "aapanel/audit.h"
#include "aapanel/cli.h"
#include "aapanel/common.h"
#include "aapanel/dbconn.h"
#include "aapanel/hostkey.h"

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

bool
ap_cli_hostkey_check(const struct ap_config *cfg, struct ap_db *db)
{
	char host[256] = "", who[600], why[768];

	if (cfg->secret_key_len == 0)
		return true; /* nothing keyed with it in this process */
	if (gethostname(host, sizeof(host) - 1) != 0)
		snprintf(host, sizeof(host), "unknown");
	snprintf(who, sizeof(who), "%s (%s)", host, cfg->var_dir ? cfg->var_dir : "?");
	if (ap_hostkey_check(db, cfg->secret_key, cfg->secret_key_len, who, why, sizeof(why)) ==
	    AP_DB_OK)
		return true;
	fprintf(stderr, "aapanel: %s (this host's key: %s)\n", why,
	    cfg->secret_key_source ? cfg->secret_key_source : "?");
	return false;
}

struct ap_db *
ap_cli_db_open(const struct ap_config *cfg)
{
	struct ap_db *db;

	if (!ap_dbconn_startup(cfg))
		return NULL;
	if ((db = ap_dbconn_open_cli(cfg)) != NULL && !ap_cli_hostkey_check(cfg, db)) {
		ap_db_close(db);
		db = NULL;
	}
	return db;
}

/* Who ran the command, for the audit log: "cli:<unix user>". */
static const char *
cli_actor(void)
{
	static char actor[80];
	struct passwd *pw = getpwuid(getuid());

	snprintf(actor, sizeof(actor), "cli:%s", pw ? pw->pw_name : "unknown");
	return actor;
}

/* A change of this process is open (ap_cli_change): its audit row ends it. */
static bool in_change;

void
ap_cli_change(struct ap_db *db)
{
	ap_db_unit_begin(db);
	in_change = true;
}

/*
 * The change's end (cli.h): its audit row written, then the unit committed
 * with it; when either fails, the unit rolled back — neither is recorded —
 * and the command ends here with exit 1, so nothing after it says it was
 * done. Without ap_cli_change before (a change of the helper's alone), the
 * row is written on its own and a refused one ends the command the same way,
 * saying the change was made.
 */
void
ap_cli_audit_write(struct ap_db *db, const char *action, const char *target, const char *outcome,
    const char *before, const char *after)
{
	struct ap_audit a = {
		.actor = cli_actor(), .via = "cli", .action = action, .target = target,
		.outcome = outcome, .before_json = before, .after_json = after,
	};
	enum ap_db_rc rc = ap_audit_record(db, &a);
	bool unit = in_change;
	char why[512];

	in_change = false;
	if (rc == AP_DB_OK && (rc = ap_db_unit_end(db, true)) == AP_DB_OK)
		return;
	snprintf(why, sizeof(why), "%s", ap_db_errmsg(db));
	(void)ap_db_unit_end(db, false);
	if (unit)
		fprintf(stderr, "aapanel: %s%s%s: not done: the audit log could not be written (%s); "
		    "nothing of this change was recorded\n", action, target ? " " : "", target ? target : "", why);
	else /* a change of the helper's alone (docs/security.md): made, not audited */
		fprintf(stderr, "aapanel: %s%s%s: the helper made this change, but the audit log could not "
		    "be written (%s)\n", action, target ? " " : "", target ? target : "", why);
	ap_db_close(db);
	exit(1);
}

void
ap_cli_audit_json(struct ap_db *db, const char *action, const char *target, const char *outcome,
    struct json_object *before, struct json_object *after)
{
	char *b = before ? ap_xstrdup(json_object_to_json_string_ext(before, JSON_C_TO_STRING_PLAIN)) : NULL;
	char *f = after ? ap_xstrdup(json_object_to_json_string_ext(after, JSON_C_TO_STRING_PLAIN)) : NULL;

	json_object_put(before);
	json_object_put(after);
	ap_cli_audit_write(db, action, target, outcome, b, f);
	free(b);
	free(f);
}
