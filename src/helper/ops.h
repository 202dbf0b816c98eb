/*
 * ops.h — the helper's operations: one table row each (name, argument
 * table, handler, flags), declared in ops.c. Nothing else dispatches.
 *
 * Adding an operation (docs/helper.md, "Adding an operation"):
 *   1. an argument table, same field types as the route table (route.h),
 *      strict checks from valid.h where a type is not strict enough;
 *   2. a handler `enum ap_err op_x(struct helper_ctx *ctx)` that reads
 *      ctx->args[...] (validated before it runs), fills ctx->result, or sets
 *      ctx->pb and returns an error;
 *   3. one row in ops[] in ops.c (HELPER_OP_JOB when it can take more than
 *      a second: it then runs in its own process and reports progress).
 */
#ifndef AAPANEL_HELPER_OPS_H
#define AAPANEL_HELPER_OPS_H

#include <sys/types.h>

#include <json-c/json.h>

#include "aapanel/config.h"
#include "aapanel/db.h"
#include "aapanel/helper.h"
#include "aapanel/route.h"

struct ap_job_ctx; /* jobs.h */

/* What a handler gets. Everything is borrowed and valid while it runs. */
struct helper_ctx {
	const struct ap_config *cfg;
	struct ap_arena *arena;         /* per request (per job for jobs) */
	const struct ap_fieldval *args; /* validated, parallel to the op's argument table */
	struct json_object *result;     /* an empty object to fill (owned by the caller) */
	struct ap_problem *pb;   /* set it when returning an error */
	int sandbox_fd;                 /* the sandbox root (sandbox.h) */
	uid_t peer_uid;                 /* who asked (the panel's uid) */
	struct ap_job_ctx *job;         /* set when running as a job (progress, output) */
	int exit_code;                  /* jobs: the job's exit code (default 0, or 1 on error) */
	int pass_fd;                    /* a descriptor to pass with the answer (SCM_RIGHTS), or -1;
					 * owned by the caller once set (closed on an error) */
};

typedef enum ap_err (*helper_op_fn)(struct helper_ctx *ctx);

#define HELPER_OP_JOB 0x1u  /* answers {"job":ID} at once and runs in its own process */
#define HELPER_OP_TEST 0x2u /* exists in the test profile only */
#define HELPER_OP_ASYNC 0x4u /* may wait on another server: runs in a child of its own, the answer
			      * comes when it is done (that connection's next requests wait) */

struct helper_op {
	const char *name;             /* "site.apply": [a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+ */
	const struct ap_field *args;  /* enum-indexed, ending with AP_FIELD_END ({ AP_FIELD_END } for none) */
	helper_op_fn fn;
	unsigned flags;
};

/* The operation named name that this profile offers, or NULL. */
const struct helper_op *ap_ops_find(const char *name, enum ap_profile profile);
/* The whole table (for the table check and the docs). */
const struct helper_op *ap_ops_table(size_t *n);

/*
 * Check the table once at start: names well-formed and unique, handlers
 * set, argument tables well-formed (names unique, types known, ranges
 * sane). AP_ERR_INVAL with the first problem in err.
 */
enum ap_err ap_ops_check(char *err, size_t errlen);

/* The panel's own serving (panel.c). */
extern const struct ap_field ap_ops_panel_listen_args[];
extern const struct ap_field ap_ops_panel_settings_args[];
extern const struct ap_field ap_ops_panel_tls_args[];
enum ap_err ap_ops_panel_listen(struct helper_ctx *ctx);
enum ap_err ap_ops_panel_settings(struct helper_ctx *ctx);
enum ap_err ap_ops_panel_tls(struct helper_ctx *ctx);

/* The test profile's operations (ops_test.c). */
extern const struct ap_field ap_ops_test_echo_args[];
extern const struct ap_field ap_ops_test_sleep_args[];
extern const struct ap_field ap_ops_test_read_args[];
enum ap_err ap_ops_test_echo(struct helper_ctx *ctx);
enum ap_err ap_ops_test_sleep(struct helper_ctx *ctx);
enum ap_err ap_ops_test_read(struct helper_ctx *ctx);

/* Websites (ops_sites.c). site.apply renders, tests, swaps and reloads (a
 * disabled site gets the 503 vhost); site.remove undoes it; site.inspect
 * compares the files on disk with the panel's version. */
extern const struct ap_field ap_ops_site_apply_args[];
extern const struct ap_field ap_ops_site_remove_args[];
enum ap_err ap_ops_site_apply(struct helper_ctx *ctx);
enum ap_err ap_ops_site_remove(struct helper_ctx *ctx);
enum ap_err ap_ops_site_inspect(struct helper_ctx *ctx);
enum ap_err ap_ops_php_versions(struct helper_ctx *ctx);

/* Certificates (ops_sites.c, docs/certificates.md): cert.upload checks and installs an
 * upload, cert.issue runs certbot and installs, cert.renew forces a renewal, cert.remove
 * takes the TLS server away, cert.inspect reads the certificate in use. */
extern const struct ap_field ap_ops_cert_upload_args[];
extern const struct ap_field ap_ops_cert_domain_args[];
enum ap_err ap_ops_cert_upload(struct helper_ctx *ctx);
enum ap_err ap_ops_cert_issue(struct helper_ctx *ctx);
enum ap_err ap_ops_cert_renew(struct helper_ctx *ctx);
enum ap_err ap_ops_cert_remove(struct helper_ctx *ctx);
enum ap_err ap_ops_cert_inspect(struct helper_ctx *ctx);
/* cert.lineages (ops_renewals.c): certbot's lineages and its logged renewal failures. */
extern const struct ap_field ap_ops_cert_lineages_args[];
enum ap_err ap_ops_cert_lineages(struct helper_ctx *ctx);

/* Database servers, databases and users (ops_dbs.c, docs/databases.md). */
extern const struct ap_field ap_ops_dbserver_add_args[];
extern const struct ap_field ap_ops_dbserver_name_args[];
extern const struct ap_field ap_ops_dbserver_names_args[]; /* dbserver.statuses: "a b c" */
extern const struct ap_field ap_ops_database_create_args[];
extern const struct ap_field ap_ops_database_drop_args[];
extern const struct ap_field ap_ops_database_passwd_args[];
extern const struct ap_field ap_ops_database_list_args[];
extern const struct ap_field ap_ops_database_reader_args[];
enum ap_err ap_ops_dbserver_add(struct helper_ctx *ctx);
enum ap_err ap_ops_dbserver_remove(struct helper_ctx *ctx);
enum ap_err ap_ops_dbserver_status(struct helper_ctx *ctx);
enum ap_err ap_ops_dbserver_statuses(struct helper_ctx *ctx);
enum ap_err ap_ops_database_lists(struct helper_ctx *ctx); /* {names}: database.list of each, at once */
enum ap_err ap_ops_database_create(struct helper_ctx *ctx);
enum ap_err ap_ops_database_drop(struct helper_ctx *ctx);
enum ap_err ap_ops_database_passwd(struct helper_ctx *ctx);
enum ap_err ap_ops_database_list(struct helper_ctx *ctx);
enum ap_err ap_ops_database_reader(struct helper_ctx *ctx);
/* A server's DSN and admin password for a client program (dbdump.c); database, when not
 * NULL, is refused when it is the panel's own. Wipe password with explicit_bzero after use. */
struct ap_dbserver_login {
	char dsn[520];
	char password[260];
	enum ap_db_backend backend;
};
enum ap_err ap_ops_dbserver_login(struct helper_ctx *ctx, const char *server, const char *database,
    struct ap_dbserver_login *out);
/* An import's confined login on that database only (ops_dbs.c), dropped by ap_ops_dbimport_logout. */
struct ap_dbimport_login {
	char user[33];
	char password[32];
	char role[64]; /* PostgreSQL: the database's owner, taken by the session */
	int64_t size;  /* the database's size in bytes, before the import */
	enum ap_db_backend backend;
};
enum ap_err ap_ops_dbimport_login(struct helper_ctx *ctx, const char *server, const char *name,
    struct ap_dbimport_login *out);
void ap_ops_dbimport_logout(struct helper_ctx *ctx, const char *server, const char *user);
void ap_ops_database_size(struct helper_ctx *ctx, const char *server, const char *name, int64_t *size);
/* A database's export and import (ops_dbio.c): jobs through dbdump.h, the dumps in
 * databases.spool_dir, passed as descriptors (export_open, import_begin). */
extern const struct ap_field ap_ops_database_export_args[];
extern const struct ap_field ap_ops_database_token_args[];
extern const struct ap_field ap_ops_database_import_args[];
enum ap_err ap_ops_database_export(struct helper_ctx *ctx);
enum ap_err ap_ops_database_export_open(struct helper_ctx *ctx);
enum ap_err ap_ops_database_import_begin(struct helper_ctx *ctx);
enum ap_err ap_ops_database_import_abort(struct helper_ctx *ctx);
enum ap_err ap_ops_database_import(struct helper_ctx *ctx);

/* Files (ops_files.c, docs/files.md): every path opened beneath the site's document
 * root with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS); contents travel as
 * descriptors passed with the answer (files.open, files.begin), never through JSON. */
extern const struct ap_field ap_ops_files_args[];
enum ap_err ap_ops_files_list(struct helper_ctx *ctx);
enum ap_err ap_ops_files_stat(struct helper_ctx *ctx);
enum ap_err ap_ops_files_open(struct helper_ctx *ctx);
enum ap_err ap_ops_files_begin(struct helper_ctx *ctx);
enum ap_err ap_ops_files_commit(struct helper_ctx *ctx);
enum ap_err ap_ops_files_abort(struct helper_ctx *ctx);
enum ap_err ap_ops_files_mkdir(struct helper_ctx *ctx);
enum ap_err ap_ops_files_rename(struct helper_ctx *ctx);
enum ap_err ap_ops_files_copy(struct helper_ctx *ctx);
enum ap_err ap_ops_files_delete(struct helper_ctx *ctx);
enum ap_err ap_ops_files_trash(struct helper_ctx *ctx);
enum ap_err ap_ops_files_restore(struct helper_ctx *ctx);
enum ap_err ap_ops_files_empty(struct helper_ctx *ctx);
enum ap_err ap_ops_files_chmod(struct helper_ctx *ctx);
enum ap_err ap_ops_files_extract(struct helper_ctx *ctx); /* job: an archive into a new folder */
enum ap_err ap_ops_files_archive(struct helper_ctx *ctx);
/* files.pack: an archive streamed through a pipe (its read end passed): a folder downloaded in one step. */
enum ap_err ap_ops_files_pack(struct helper_ctx *ctx);
/* files.chown: a file or folder given to the site's user (with its group or nginx's). */
enum ap_err ap_ops_files_chown(struct helper_ctx *ctx); /* job: a file or folder into a new archive */
enum ap_err ap_ops_files_chown_tree(struct helper_ctx *ctx); /* job: a folder and everything in it */
/* A site's nginx logs (ops_logs.c): logs.open passes a read descriptor on its access or error log. */
extern const struct ap_field ap_ops_logs_args[];
enum ap_err ap_ops_logs_open(struct helper_ctx *ctx);
/* The panel's and the helper's own log (log.file), for admins: logs.system passes a read descriptor. */
extern const struct ap_field ap_ops_logs_system_args[];
enum ap_err ap_ops_logs_system(struct helper_ctx *ctx);
/* Their journal (log.file = ""): logs.journal answers the unit's newest lines (ops_journal.c). */
extern const struct ap_field ap_ops_logs_journal_args[];
enum ap_err ap_ops_logs_journal(struct helper_ctx *ctx);
/* Who owns a site's files (ops_sites.c): its system user with sites.system_users (made for
 * that site, never another account), else the helper's own; *chown_needed says whether new
 * files must be given to it. AP_ERR_NOTFOUND when the site has no such user. */
enum ap_err ap_ops_site_owner(const struct ap_config *cfg, const char *domain, uid_t *uid,
    gid_t *gid, bool *chown_needed);

/* Scheduled tasks (ops_tasks.c, docs/tasks.md): task.put writes the helper's copy of a task
 * and rebuilds the cron file, task.remove takes it away, task.exec (a job) runs it. */
extern const struct ap_field ap_ops_task_put_args[];
extern const struct ap_field ap_ops_task_id_args[];
enum ap_err ap_ops_task_put(struct helper_ctx *ctx);
enum ap_err ap_ops_task_remove(struct helper_ctx *ctx);
enum ap_err ap_ops_task_exec(struct helper_ctx *ctx);

/* Services (ops_services.c, docs/services.md): the whitelisted systemd units through
 * sd-bus and sd-journal; service.control is a job (systemd's job is waited for). */
extern const struct ap_field ap_ops_service_list_args[];
extern const struct ap_field ap_ops_service_status_args[];
extern const struct ap_field ap_ops_service_control_args[];
enum ap_err ap_ops_service_list(struct helper_ctx *ctx);
enum ap_err ap_ops_service_status(struct helper_ctx *ctx);
enum ap_err ap_ops_service_control(struct helper_ctx *ctx);

/* The firewall (ops_firewall.c, docs/firewall.md): table inet aapanel through libnftables,
 * applied with a rollback unless confirmed, read back. */
extern const struct ap_field ap_ops_firewall_apply_args[];
extern const struct ap_field ap_ops_firewall_confirm_args[];
extern const struct ap_field ap_ops_firewall_show_args[];
enum ap_err ap_ops_firewall_apply(struct helper_ctx *ctx);
enum ap_err ap_ops_firewall_confirm(struct helper_ctx *ctx);
enum ap_err ap_ops_firewall_show(struct helper_ctx *ctx);
/* Backups with restic (ops_backups.c, docs/backups.md): destinations, backup and restore
 * jobs, snapshots, one file of a snapshot by descriptor, retention and checks. */
extern const struct ap_field ap_ops_backup_dest_add_args[];
extern const struct ap_field ap_ops_backup_dest_name_args[];
extern const struct ap_field ap_ops_backup_run_args[];
extern const struct ap_field ap_ops_backup_forget_args[];
extern const struct ap_field ap_ops_backup_snapshots_args[];
extern const struct ap_field ap_ops_backup_ls_args[];
extern const struct ap_field ap_ops_backup_restore_args[];
extern const struct ap_field ap_ops_backup_check_args[];
enum ap_err ap_ops_backup_dest_add(struct helper_ctx *ctx);
enum ap_err ap_ops_backup_dest_remove(struct helper_ctx *ctx);
enum ap_err ap_ops_backup_run(struct helper_ctx *ctx);
enum ap_err ap_ops_backup_forget(struct helper_ctx *ctx);
enum ap_err ap_ops_backup_snapshots(struct helper_ctx *ctx);
enum ap_err ap_ops_backup_ls(struct helper_ctx *ctx);
enum ap_err ap_ops_backup_restore(struct helper_ctx *ctx);
enum ap_err ap_ops_backup_check(struct helper_ctx *ctx);
/* The panel's own backup and its restore into a new folder (ops_bkpanel.c). */
extern const struct ap_field ap_ops_backup_panel_run_args[];
extern const struct ap_field ap_ops_backup_panel_restore_args[];
enum ap_err ap_ops_backup_panel_run(struct helper_ctx *ctx);
enum ap_err ap_ops_backup_panel_restore(struct helper_ctx *ctx);
/* One file of a snapshot through a spool file, as a job (ops_bkbrowse.c). */
extern const struct ap_field ap_ops_backup_spool_take_args[];
enum ap_err ap_ops_backup_fetch(struct helper_ctx *ctx);
enum ap_err ap_ops_backup_spool_take(struct helper_ctx *ctx);

/* When the helper stops: an unconfirmed change is rolled back at once (nobody could confirm it). */
void ap_ops_firewall_stop(const struct ap_config *cfg);

#endif
