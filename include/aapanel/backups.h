/*
 * backups.h — backups and restores (docs/backups.md): the destinations and
 * the runs the panel records, the helper's restic jobs they start
 * (src/helper/ops_backups.c). SQL lives here only (src/data/backups.c); the
 * CLI (src/cli/backup.c) and the pages call the same functions.
 *
 * Secrets (a repository's password, S3 keys, an SSH key) pass through to
 * the helper and are written nowhere on the panel's side: the table holds
 * a destination's name, kind and URL only.
 */
#ifndef AAPANEL_BACKUPS_H
#define AAPANEL_BACKUPS_H

#include <json-c/json.h>

#include "aapanel/backupcheck.h"
#include "aapanel/sites.h"

struct ap_backup_dest {
	int64_t id;
	char name[33];
	char kind[8]; /* "local" | "sftp" | "s3" */
	char url[AP_BK_URL_MAX + 1];
	int64_t created_at;
};

struct ap_backup_dest_spec {
	const char *name, *url;
	const char *region, *access_key, *secret_key; /* S3 */
	const char *ca_cert;                          /* S3: a CA's PEM for a private endpoint */
	const char *ssh_key, *known_hosts;            /* SFTP */
	const char *password;                         /* an existing repository's; NULL = generate */
};

struct ap_backup_run {
	int64_t id;
	char action[16];      /* "backup" | "restore" | "check" */
	char target_kind[16]; /* "site" | "database" | "dest" */
	char target[256];     /* the domain, the database, the destination */
	char dest[33];
	int64_t job_id;
	char state[16]; /* "running" | "done" | "failed" | "lost" */
	char snapshot[65];
	char message[512];
	int64_t started_at, ended_at;
	int progress; /* 0..100, from the helper while running */
};

struct ap_backup_spec {
	const char *kind;   /* "site" | "database" */
	const char *target; /* a site's domain or a database's name */
	const char *dest;
	int keep_last, keep_daily, keep_weekly, keep_monthly; /* 0 = not applied */
};

struct ap_restore_spec {
	const char *dest, *snapshot;
	const char *kind, *target;  /* "site" DOMAIN | "database" NAME */
	const char *to;             /* "inplace" | "path" (site) | "database" (into new_database) */
	const char *new_dir;        /* site, to "path": a new folder in the site's home */
	const char *new_database;   /* database, to "database": an existing database on its server */
	bool files_only;            /* site: leave its databases alone */
};

enum ap_err ap_backup_dest_add(const struct ap_sites_env *env,
    const struct ap_backup_dest_spec *spec, struct ap_backup_dest *out, struct ap_problem *pb);
enum ap_err ap_backup_dest_find(const struct ap_sites_env *env, const char *name,
    struct ap_backup_dest *out, struct ap_problem *pb);
enum ap_err ap_backup_dest_list(const struct ap_sites_env *env,
    bool (*fn)(void *ctx, const struct ap_backup_dest *d), void *ctx, struct ap_problem *pb);
enum ap_err ap_backup_dest_remove(const struct ap_sites_env *env,
    const struct ap_backup_dest *d, struct ap_problem *pb);
struct json_object *ap_backup_dest_json(const struct ap_backup_dest *d);

/* Start a backup job (recorded as a run, state "running"). */
enum ap_err ap_backup_start(const struct ap_sites_env *env, const struct ap_backup_spec *spec,
    struct ap_backup_run *out, struct ap_problem *pb);
/* Start a restore job. */
enum ap_err ap_backup_restore_start(const struct ap_sites_env *env,
    const struct ap_restore_spec *spec, struct ap_backup_run *out, struct ap_problem *pb);
/* Start `restic check --read-data-subset=subset%` (0 = a check without reading data). */
enum ap_err ap_backup_check_start(const struct ap_sites_env *env, const char *dest, int subset,
    struct ap_backup_run *out, struct ap_problem *pb);
/* Ask the helper about a running run's job and record how it ended. */
void ap_backup_settle(const struct ap_sites_env *env, struct ap_backup_run *r);
/* Cancel a running run's job. */
enum ap_err ap_backup_cancel(const struct ap_sites_env *env, struct ap_backup_run *r,
    struct ap_problem *pb);
enum ap_err ap_backup_run_get(const struct ap_sites_env *env, int64_t id,
    struct ap_backup_run *out, struct ap_problem *pb);
/* Runs, newest first: of one target (target_kind and target) or of all (NULL). */
enum ap_err ap_backup_runs(const struct ap_sites_env *env, const char *target_kind,
    const char *target, int64_t limit, bool (*fn)(void *ctx, const struct ap_backup_run *r),
    void *ctx, struct ap_problem *pb);
/* The last backup of the target that ended done; false when none. */
bool ap_backup_last_ok(const struct ap_sites_env *env, const char *target_kind,
    const char *target, struct ap_backup_run *out);
struct json_object *ap_backup_run_json(const struct ap_backup_run *r);
/* Every managed database's name, once each, in order (name borrowed for the call). */
enum ap_err ap_backup_database_names(const struct ap_sites_env *env,
    bool (*fn)(void *ctx, const char *name), void *ctx, struct ap_problem *pb);

/* The destination's snapshots ({"snapshots":[...]}, owned), of one tag or all. */
enum ap_err ap_backup_snapshots(const struct ap_sites_env *env, const char *dest,
    const char *tag, struct json_object **out, struct ap_problem *pb);
/* One folder of a snapshot ({"entries":[...]}, owned). */
enum ap_err ap_backup_ls(const struct ap_sites_env *env, const char *dest, const char *snapshot,
    const char *path, struct json_object **out, struct ap_problem *pb);
/* One file of a snapshot: *fd a descriptor on its contents (owned), *size its length. */
enum ap_err ap_backup_dump(const struct ap_sites_env *env, const char *dest,
    const char *snapshot, const char *path, int *fd, int64_t *size, struct ap_problem *pb);

/* ---- the panel itself (src/data/backup_panel.c; target_kind and target "panel") ---- */

/* Back the panel up to spec->dest (spec->kind and target ignored); with_secret: the secret
 * key (and db.password_file) too. */
enum ap_err ap_backup_panel_start(const struct ap_sites_env *env,
    const struct ap_backup_spec *spec, bool with_secret, struct ap_backup_run *out,
    struct ap_problem *pb);
/* Restore a panel snapshot into <backups.dir>/.panel-restores/NEW_DIR (a new folder). */
enum ap_err ap_backup_panel_restore_start(const struct ap_sites_env *env, const char *dest,
    const char *snapshot, const char *new_dir, struct ap_backup_run *out, struct ap_problem *pb);
/* NEW_DIR's check (NULL when fine, else the reason). */
const char *ap_backup_check_new_dir(const char *s);
/* Used by backup_panel.c: record and start a helper job as a run; a destination's name. */
enum ap_err ap_backup_job_start(const struct ap_sites_env *env, const char *op,
    struct json_object *args, struct ap_backup_run *r, struct ap_problem *pb);
enum ap_err ap_backup_dest_check(const struct ap_sites_env *env, const char *dest,
    struct ap_problem *pb);
/* spec's keep_* (those above 0) into the helper's arguments a. */
void ap_backup_keep_args(struct json_object *a, const struct ap_backup_spec *spec);

#endif
