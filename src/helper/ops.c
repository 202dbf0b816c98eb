/*
 * ops.c — the operations table: name → argument table → handler → flags.
 * Adding an operation is one row here and one function (ops.h). The core
 * operations every other one stands on live here too: helper.ping,
 * job.status and job.list.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "jobs.h"
#include "ops.h"

/* ---- helper.ping: {} → {"version", "uid", "pid", "profile"} --------- */

static const struct ap_field no_args[] = { AP_FIELD_END };

static enum ap_err
op_ping(struct helper_ctx *ctx)
{
	json_object_object_add(ctx->result, "version", json_object_new_string(AP_VERSION));
	json_object_object_add(ctx->result, "uid", json_object_new_int64((int64_t)geteuid()));
	json_object_object_add(ctx->result, "pid", json_object_new_int64((int64_t)getpid()));
	json_object_object_add(ctx->result, "profile",
	    json_object_new_string(ap_profile_name(ctx->cfg->profile)));
	return AP_OK;
}

/* ---- job.status: {"id"} → the job (jobs.h) -------------------------- */

enum { JOB_ID, JOB__MAX };
static const struct ap_field job_status_args[JOB__MAX + 1] = {
	[JOB_ID] = { .name = "id", .type = AP_FIELD_INT, .flags = AP_FIELD_REQUIRED, .min = 1,
	    .max = INT64_MAX },
	[JOB__MAX] = AP_FIELD_END,
};

static enum ap_err
op_job_status(struct helper_ctx *ctx)
{
	struct json_object *st = ap_jobs_status(ctx->args[JOB_ID].i);

	if (st == NULL) {
		ap_problem_set(ctx->pb, AP_PB_NOT_FOUND, "id",
		    "no such job (finished jobs are kept for an hour; a restarted helper forgets them)");
		return AP_ERR_NOTFOUND;
	}
	json_object_object_foreach(st, key, val) {
		json_object_object_add(ctx->result, key, json_object_get(val));
	}
	json_object_put(st);
	return AP_OK;
}

/* ---- job.cancel: {"id"} → {} (SIGTERM to a running or queued job's process group) ---- */

static enum ap_err
op_job_cancel(struct helper_ctx *ctx)
{
	enum ap_err rc = ap_jobs_cancel(ctx->args[JOB_ID].i);

	if (rc == AP_ERR_NOTFOUND) {
		ap_problem_set(ctx->pb, AP_PB_NOT_FOUND, "id", "no such job");
		return rc;
	}
	if (rc != AP_OK) {
		ap_problem_set(ctx->pb, AP_PB_INVALID, "id", "the job has ended already");
		return rc;
	}
	return AP_OK;
}

/* ---- job.list: {} → {"jobs":[...]} ---------------------------------- */

static enum ap_err
op_job_list(struct helper_ctx *ctx)
{
	struct json_object *l = ap_jobs_list(), *jobs;

	json_object_object_get_ex(l, "jobs", &jobs);
	json_object_object_add(ctx->result, "jobs", json_object_get(jobs));
	json_object_put(l);
	return AP_OK;
}

/* ---- the table ------------------------------------------------------ */

static const struct helper_op ops[] = {
	{ "helper.ping", no_args, op_ping, 0 },
	{ "job.status", job_status_args, op_job_status, 0 },
	{ "job.list", no_args, op_job_list, 0 },
	/* The panel's own serving (panel.c): its nginx listen lines and entrance,
	 * the Settings screen's configuration layer, its certificate. */
	{ "panel.listen", ap_ops_panel_listen_args, ap_ops_panel_listen, 0 },
	{ "panel.settings", ap_ops_panel_settings_args, ap_ops_panel_settings, 0 },
	{ "panel.tls", ap_ops_panel_tls_args, ap_ops_panel_tls, 0 },
	/* Websites (ops_sites.c, docs/sites.md). */
	{ "site.apply", ap_ops_site_apply_args, ap_ops_site_apply, HELPER_OP_JOB },
	{ "site.remove", ap_ops_site_remove_args, ap_ops_site_remove, HELPER_OP_JOB },
	{ "site.inspect", ap_ops_site_apply_args, ap_ops_site_inspect, 0 },
	{ "php.versions", no_args, ap_ops_php_versions, 0 },
	/* Certificates (ops_sites.c, docs/certificates.md). */
	{ "cert.upload", ap_ops_cert_upload_args, ap_ops_cert_upload, HELPER_OP_JOB },
	{ "cert.issue", ap_ops_site_apply_args, ap_ops_cert_issue, HELPER_OP_JOB },
	{ "cert.renew", ap_ops_cert_domain_args, ap_ops_cert_renew, HELPER_OP_JOB },
	{ "cert.remove", ap_ops_site_apply_args, ap_ops_cert_remove, HELPER_OP_JOB },
	{ "cert.inspect", ap_ops_cert_domain_args, ap_ops_cert_inspect, 0 },
	{ "cert.lineages", ap_ops_cert_lineages_args, ap_ops_cert_lineages, 0 }, /* ops_renewals.c */
	{ "dbserver.add", ap_ops_dbserver_add_args, ap_ops_dbserver_add, HELPER_OP_ASYNC },
	{ "dbserver.remove", ap_ops_dbserver_name_args, ap_ops_dbserver_remove, 0 },
	{ "dbserver.status", ap_ops_dbserver_name_args, ap_ops_dbserver_status, HELPER_OP_ASYNC },
	{ "dbserver.statuses", ap_ops_dbserver_names_args, ap_ops_dbserver_statuses, HELPER_OP_ASYNC },
	{ "database.create", ap_ops_database_create_args, ap_ops_database_create, HELPER_OP_ASYNC },
	{ "database.drop", ap_ops_database_drop_args, ap_ops_database_drop, HELPER_OP_ASYNC },
	{ "database.passwd", ap_ops_database_passwd_args, ap_ops_database_passwd, HELPER_OP_ASYNC },
	{ "database.list", ap_ops_database_list_args, ap_ops_database_list, HELPER_OP_ASYNC },
	{ "database.lists", ap_ops_dbserver_names_args, ap_ops_database_lists, HELPER_OP_ASYNC },
	{ "database.reader", ap_ops_database_reader_args, ap_ops_database_reader, HELPER_OP_ASYNC },
	{ "database.export", ap_ops_database_export_args, ap_ops_database_export, HELPER_OP_JOB },
	{ "database.export_open", ap_ops_database_token_args, ap_ops_database_export_open, 0 },
	{ "database.import_begin", no_args, ap_ops_database_import_begin, 0 },
	{ "database.import_abort", ap_ops_database_token_args, ap_ops_database_import_abort, 0 },
	{ "database.import", ap_ops_database_import_args, ap_ops_database_import, HELPER_OP_JOB },
	/* Files (ops_files.c, docs/files.md): contents by descriptor (SCM_RIGHTS). */
	{ "files.list", ap_ops_files_args, ap_ops_files_list, 0 },
	{ "files.stat", ap_ops_files_args, ap_ops_files_stat, 0 },
	{ "files.open", ap_ops_files_args, ap_ops_files_open, 0 },
	{ "files.begin", ap_ops_files_args, ap_ops_files_begin, 0 },
	{ "files.commit", ap_ops_files_args, ap_ops_files_commit, 0 },
	{ "files.abort", ap_ops_files_args, ap_ops_files_abort, 0 },
	{ "files.mkdir", ap_ops_files_args, ap_ops_files_mkdir, 0 },
	{ "files.rename", ap_ops_files_args, ap_ops_files_rename, 0 },
	{ "files.copy", ap_ops_files_args, ap_ops_files_copy, HELPER_OP_JOB },
	{ "files.delete", ap_ops_files_args, ap_ops_files_delete, 0 },
	{ "files.trash", ap_ops_files_args, ap_ops_files_trash, 0 },
	{ "files.restore", ap_ops_files_args, ap_ops_files_restore, 0 },
	{ "files.empty", ap_ops_files_args, ap_ops_files_empty, 0 },
	{ "files.chmod", ap_ops_files_args, ap_ops_files_chmod, 0 },
	{ "files.extract", ap_ops_files_args, ap_ops_files_extract, HELPER_OP_JOB },
	{ "files.archive", ap_ops_files_args, ap_ops_files_archive, HELPER_OP_JOB },
	{ "files.pack", ap_ops_files_args, ap_ops_files_pack, 0 },
	{ "files.chown", ap_ops_files_args, ap_ops_files_chown, 0 },
	{ "files.chown_tree", ap_ops_files_args, ap_ops_files_chown_tree, HELPER_OP_JOB },
	{ "logs.open", ap_ops_logs_args, ap_ops_logs_open, 0 },
	{ "logs.system", ap_ops_logs_system_args, ap_ops_logs_system, 0 },
	{ "logs.journal", ap_ops_logs_journal_args, ap_ops_logs_journal, 0 },
	/* Scheduled tasks (ops_tasks.c, docs/tasks.md). */
	{ "task.put", ap_ops_task_put_args, ap_ops_task_put, 0 },
	{ "task.remove", ap_ops_task_id_args, ap_ops_task_remove, 0 },
	{ "task.exec", ap_ops_task_id_args, ap_ops_task_exec, HELPER_OP_JOB },
	/* Services (ops_services.c, docs/services.md). */
	{ "service.list", ap_ops_service_list_args, ap_ops_service_list, 0 },
	{ "service.status", ap_ops_service_status_args, ap_ops_service_status, 0 },
	{ "service.control", ap_ops_service_control_args, ap_ops_service_control, HELPER_OP_JOB },
	/* The firewall (ops_firewall.c, docs/firewall.md). */
	{ "firewall.apply", ap_ops_firewall_apply_args, ap_ops_firewall_apply, 0 },
	{ "firewall.confirm", ap_ops_firewall_confirm_args, ap_ops_firewall_confirm, 0 },
	{ "firewall.show", ap_ops_firewall_show_args, ap_ops_firewall_show, 0 },
	/* Backups with restic (ops_backups.c, docs/backups.md). */
	{ "backup.dest_add", ap_ops_backup_dest_add_args, ap_ops_backup_dest_add, HELPER_OP_JOB },
	{ "backup.dest_remove", ap_ops_backup_dest_name_args, ap_ops_backup_dest_remove, 0 },
	{ "backup.run", ap_ops_backup_run_args, ap_ops_backup_run, HELPER_OP_JOB },
	{ "backup.forget", ap_ops_backup_forget_args, ap_ops_backup_forget, HELPER_OP_JOB },
	/* Jobs: restic on a slow remote must not hold the loop (ops_bkbrowse.c). */
	{ "backup.snapshots", ap_ops_backup_snapshots_args, ap_ops_backup_snapshots, HELPER_OP_JOB },
	{ "backup.ls", ap_ops_backup_ls_args, ap_ops_backup_ls, HELPER_OP_JOB },
	{ "backup.dump", ap_ops_backup_ls_args, ap_ops_backup_fetch, HELPER_OP_JOB },
	{ "backup.spool_take", ap_ops_backup_spool_take_args, ap_ops_backup_spool_take, 0 },
	{ "backup.restore", ap_ops_backup_restore_args, ap_ops_backup_restore, HELPER_OP_JOB },
	{ "backup.check", ap_ops_backup_check_args, ap_ops_backup_check, HELPER_OP_JOB },
	{ "backup.panel_run", ap_ops_backup_panel_run_args, ap_ops_backup_panel_run, HELPER_OP_JOB },
	{ "backup.panel_restore", ap_ops_backup_panel_restore_args, ap_ops_backup_panel_restore,
	    HELPER_OP_JOB },
	{ "job.cancel", job_status_args, op_job_cancel, 0 },
	/* The test profile's, for the tests of the protocol, validation and jobs. */
	{ "test.echo", ap_ops_test_echo_args, ap_ops_test_echo, HELPER_OP_TEST },
	{ "test.sleep", ap_ops_test_sleep_args, ap_ops_test_sleep, HELPER_OP_TEST | HELPER_OP_JOB },
	{ "test.read", ap_ops_test_read_args, ap_ops_test_read, HELPER_OP_TEST },
};

const struct helper_op *
ap_ops_table(size_t *n)
{
	*n = AP_NELEM(ops);
	return ops;
}

const struct helper_op *
ap_ops_find(const char *name, enum ap_profile profile)
{
	for (size_t i = 0; i < AP_NELEM(ops); i++) {
		if (strcmp(ops[i].name, name) != 0)
			continue;
		if ((ops[i].flags & HELPER_OP_TEST) && profile != AP_PROFILE_TEST)
			return NULL;
		return &ops[i];
	}
	return NULL;
}

/* [a-z][a-z0-9_]* segments joined by '.', at least two. */
static bool
op_name_ok(const char *s)
{
	size_t segs = 0;

	while (*s != '\0') {
		if (!(*s >= 'a' && *s <= 'z'))
			return false;
		while ((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_')
			s++;
		segs++;
		if (*s == '.')
			s++;
		else if (*s != '\0')
			return false;
		else
			break;
		if (*s == '\0')
			return false;
	}
	return segs >= 2;
}

enum ap_err
ap_ops_check(char *err, size_t errlen)
{
	for (size_t i = 0; i < AP_NELEM(ops); i++) {
		const struct helper_op *op = &ops[i];

		if (op->name == NULL || !op_name_ok(op->name) || strlen(op->name) > 64) {
			ap_errf(err, errlen, "op %zu: name must be like site.apply", i);
			return AP_ERR_INVAL;
		}
		if (op->fn == NULL || op->args == NULL) {
			ap_errf(err, errlen, "%s: no handler or no argument table", op->name);
			return AP_ERR_INVAL;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(ops[j].name, op->name) == 0) {
				ap_errf(err, errlen, "%s: listed twice", op->name);
				return AP_ERR_INVAL;
			}
		for (size_t k = 0; k < ap_fields_count(op->args); k++) {
			const struct ap_field *f = &op->args[k];

			if (f->name == NULL || f->min > f->max ||
			    (f->type == AP_FIELD_ENUM && (f->choices == NULL || f->choices[0] == NULL))) {
				ap_errf(err, errlen, "%s: argument %s is malformed", op->name, f->name);
				return AP_ERR_INVAL;
			}
			for (size_t m = 0; m < k; m++)
				if (strcmp(op->args[m].name, f->name) == 0) {
					ap_errf(err, errlen, "%s: argument %s listed twice", op->name,
					    f->name);
					return AP_ERR_INVAL;
				}
		}
	}
	return AP_OK;
}
