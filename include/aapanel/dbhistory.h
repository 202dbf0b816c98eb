/*
 * dbhistory.h — the imports and exports of a managed database as the panel
 * recorded them (migration 0018, docs/databases.md "History"): who started
 * it, when, the format, the helper's job, the dump's size and SHA-256, the
 * outcome and its reason. A row is written when the transfer starts
 * ("running", or "failed" when it was refused before a job ran) and
 * finished when the panel next sees its job ended: its job page, the CLI's
 * wait, or the history itself (which asks the helper about running rows;
 * a job the helper no longer knows — it keeps them an hour, and forgets
 * them when restarted — is "unknown").
 */
#ifndef AAPANEL_DBHISTORY_H
#define AAPANEL_DBHISTORY_H

#include <json-c/json.h>

#include "aapanel/databases.h"

/* kind "import"|"export"; job > 0 (running) or 0 with failed (the problem that refused it);
 * size/sha256 what is known at the start (an import's upload), 0/NULL otherwise. */
enum ap_err ap_dbhist_add(const struct ap_sites_env *env, const struct ap_database *d,
    const char *kind, const char *format, int64_t job, const char *actor, int64_t size,
    const char *sha256, const struct ap_problem *failed, struct ap_problem *pb);

/* A job of d seen ended: st as ap_dbio_job gives it ({id, state, error, result}). */
void ap_dbhist_seen(const struct ap_sites_env *env, const struct ap_database *d,
    struct json_object *st);

struct ap_dbhist_row {
	int64_t id;
	char kind[8];   /* import | export */
	char format[8]; /* sql | sql.gz */
	int64_t job;    /* the helper's, 0 when none ran */
	char actor[80];
	int64_t started_at, finished_at; /* seconds; finished 0 while running */
	int64_t size;   /* bytes of the dump (-1: not known) */
	char sha256[65];
	char result[8]; /* running | ok | failed | unknown */
	char error[256];
};

/* The newest rows of d (at most max, newest first): how many (-1 with pb on a database error).
 * ap_dbio_history (dbio.h) asks the helper about running rows first. */
int ap_dbhist_list(const struct ap_sites_env *env, const struct ap_database *d,
    struct ap_dbhist_row *rows, int max, struct ap_problem *pb);

/* The running row of (d, job) whose job the helper no longer knows: "unknown". */
void ap_dbhist_unknown(const struct ap_sites_env *env, const struct ap_database *d, int64_t job);

/* The rows of a database the panel forgets (ap_database_remove). */
void ap_dbhist_forget(const struct ap_sites_env *env, int64_t database_id);

#endif
