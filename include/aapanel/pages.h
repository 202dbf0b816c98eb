/*
 * pages.h — the handlers of src/pages/ (one file per screen or resource),
 * their field tables, and the route table that joins them (routes.c).
 *
 * Each field table is indexed by an enum declared beside its handler, so
 * the handler reads ctx->fields[ENUM]; a misspelled field does not compile.
 * Every handler returns the HTTP status; on a problem it returns
 * ap_ctx_fail(...) and the response layer answers (app.h).
 */
#ifndef AAPANEL_PAGES_H
#define AAPANEL_PAGES_H

#include <time.h>

#include "aapanel/app.h"

/* The panel's route table: what the entry point hands to the pool. */
extern const struct ap_route ap_routes[];
extern const size_t ap_nroutes;

/* {id} of an item, 1..INT64_MAX (anything else is a 404): ctx->fields[AP_ID].i. */
enum ap_id_field { AP_ID, AP_ID__MAX };
extern const struct ap_field ap_id_fields[AP_ID__MAX + 1];

int ap_page_home(struct ap_ctx *ctx);    /* GET / — server overview */
int ap_page_healthz(struct ap_ctx *ctx); /* GET /healthz — JSON health */
int ap_page_lang(struct ap_ctx *ctx);    /* POST /lang — language preference */
int ap_page_openapi(struct ap_ctx *ctx); /* GET /openapi.json — the API document */
extern const struct ap_field ap_lang_fields[];
extern const struct ap_schema ap_health_schema, ap_lang_schema;

int ap_page_test_sleep(struct ap_ctx *ctx); /* GET /_test/sleep — test profile only */
int ap_page_test_table(struct ap_ctx *ctx); /* GET /_test/table — test profile only */
extern const struct ap_field ap_test_sleep_fields[];
extern const struct ap_field ap_test_table_fields[];
extern const struct ap_schema ap_test_slept_schema, ap_test_table_schema;

/* Sign-in (src/pages/login.c) */
int ap_page_login_form(struct ap_ctx *ctx);     /* GET /login */
int ap_page_login(struct ap_ctx *ctx);          /* POST /login */
int ap_page_login_2fa_form(struct ap_ctx *ctx); /* GET /login/2fa */
int ap_page_login_2fa(struct ap_ctx *ctx);      /* POST /login/2fa */
int ap_page_logout(struct ap_ctx *ctx);         /* POST /logout */
extern const struct ap_field ap_login_form_fields[];
extern const struct ap_field ap_login_fields[];
extern const struct ap_field ap_login_2fa_fields[];
extern const struct ap_schema ap_signed_in_schema;

/* The signed-in user's own account (src/pages/account.c, src/pages/twofactor.c) */
int ap_page_account(struct ap_ctx *ctx);                /* GET /account */
int ap_page_account_password(struct ap_ctx *ctx);       /* POST /account/password */
int ap_page_account_revoke_others(struct ap_ctx *ctx);  /* POST /account/sessions/revoke-others */
int ap_page_account_revoke_session(struct ap_ctx *ctx); /* POST /account/sessions/{id}/revoke */
int ap_page_account_2fa(struct ap_ctx *ctx);            /* GET /account/2fa */
int ap_page_account_2fa_enable(struct ap_ctx *ctx);     /* POST /account/2fa/enable */
int ap_page_account_2fa_disable(struct ap_ctx *ctx);    /* POST /account/2fa/disable */
int ap_page_account_2fa_recovery(struct ap_ctx *ctx);   /* POST /account/2fa/recovery */
int ap_page_account_token_create(struct ap_ctx *ctx);   /* POST /account/tokens */
int ap_page_account_token_revoke(struct ap_ctx *ctx);   /* POST /account/tokens/{id}/revoke */
extern const struct ap_field ap_account_password_fields[];
extern const struct ap_field ap_2fa_enable_fields[];
extern const struct ap_field ap_2fa_disable_fields[];
extern const struct ap_field ap_2fa_recovery_fields[];
extern const struct ap_field ap_token_create_fields[];
/* GET /tokens: every user's tokens, filtered (account.c declares, tokens.c reads). */
enum ap_token_list_field { AP_TL_USER, AP_TL_ACTIVE, AP_TL_LIMIT, AP_TL_CURSOR, AP_TL__MAX };
extern const struct ap_field ap_token_list_fields[AP_TL__MAX + 1];
extern const struct ap_schema ap_account_schema, ap_password_changed_schema, ap_sessions_revoked_schema;
extern const struct ap_schema ap_token_schema, ap_token_list_schema, ap_new_token_schema;
extern const struct ap_schema ap_twofa_schema, ap_recovery_codes_schema;

/* Administration (src/pages/users.c, src/pages/settings.c) */
int ap_page_users(struct ap_ctx *ctx);             /* GET /users */
int ap_page_user_create(struct ap_ctx *ctx);       /* POST /users */
int ap_page_user_role(struct ap_ctx *ctx);         /* POST /users/{id}/role */
int ap_page_user_disable(struct ap_ctx *ctx);      /* POST /users/{id}/disable */
int ap_page_user_enable(struct ap_ctx *ctx);       /* POST /users/{id}/enable */
int ap_page_user_password(struct ap_ctx *ctx);     /* POST /users/{id}/password */
int ap_page_tokens(struct ap_ctx *ctx);            /* GET /tokens (every user's; tokens.c) */
int ap_page_token_revoke(struct ap_ctx *ctx);      /* POST /tokens/{id}/revoke (tokens.c) */
int ap_page_settings(struct ap_ctx *ctx);          /* GET /settings */
int ap_page_settings_security(struct ap_ctx *ctx); /* POST /settings/security */
int ap_page_settings_listen(struct ap_ctx *ctx);   /* POST /settings/listen */
int ap_page_settings_entrance(struct ap_ctx *ctx); /* POST /settings/entrance */
int ap_page_settings_access(struct ap_ctx *ctx);   /* POST /settings/access */
int ap_page_settings_sessions(struct ap_ctx *ctx); /* POST /settings/sessions */
extern const struct ap_field ap_user_create_fields[];
extern const struct ap_field ap_user_role_fields[];
extern const struct ap_field ap_user_password_fields[];
extern const struct ap_field ap_settings_security_fields[];
extern const struct ap_field ap_settings_listen_fields[], ap_settings_entrance_fields[];
extern const struct ap_field ap_settings_access_fields[], ap_settings_sessions_fields[];
extern const struct ap_field ap_user_list_fields[];
extern const struct ap_schema ap_user_schema, ap_user_list_schema, ap_settings_schema;

/* One API token as the account and tokens pages show it (templates/partials/token_cells.html). */
struct ap_token_row;
struct json_object *ap_page_token_json(const struct ap_token_row *t, time_t now);
/* The same as rows of a typed row source (rows.h), what the lists use: a new
 * source, and one token added to it. */
struct json_object *ap_page_token_rows(void);
void ap_page_token_add(struct json_object *rows, const struct ap_token_row *t, time_t now);

/* Websites (src/pages/sites.c) */
int ap_page_sites(struct ap_ctx *ctx);        /* GET /sites */
int ap_page_site_create(struct ap_ctx *ctx);  /* POST /sites */
int ap_page_site(struct ap_ctx *ctx);         /* GET /sites/{id} */
int ap_page_site_update(struct ap_ctx *ctx);  /* POST /sites/{id} */
int ap_page_site_disable(struct ap_ctx *ctx); /* POST /sites/{id}/disable */
int ap_page_site_enable(struct ap_ctx *ctx);  /* POST /sites/{id}/enable */
int ap_page_site_reapply(struct ap_ctx *ctx); /* POST /sites/{id}/reapply */
int ap_page_site_delete(struct ap_ctx *ctx);  /* POST /sites/{id}/delete */
extern const struct ap_field ap_site_list_fields[];
extern const struct ap_field ap_site_create_fields[];
extern const struct ap_field ap_site_update_fields[];
extern const struct ap_field ap_site_delete_fields[];
extern const struct ap_schema ap_site_schema, ap_site_list_schema, ap_site_detail_schema;

/* A site's files (src/pages/files.c, docs/files.md). */
int ap_page_files(struct ap_ctx *ctx);             /* GET /sites/{id}/files */
int ap_page_files_download(struct ap_ctx *ctx);    /* GET /sites/{id}/files/content */
int ap_page_files_chown(struct ap_ctx *ctx);       /* POST /sites/{id}/files/chown */
extern const struct ap_field ap_files_chown_fields[];
int ap_page_files_pack(struct ap_ctx *ctx);        /* GET /sites/{id}/files/archive — streamed archive */
extern const struct ap_field ap_files_pack_fields[];
int ap_page_files_upload(struct ap_ctx *ctx);      /* POST /sites/{id}/files/content (stream) */
int ap_page_files_upload_form(struct ap_ctx *ctx); /* POST /sites/{id}/files/upload (multipart) */
int ap_page_files_edit(struct ap_ctx *ctx);        /* GET /sites/{id}/files/edit */
int ap_page_files_save(struct ap_ctx *ctx);        /* POST /sites/{id}/files/edit */
int ap_page_files_create(struct ap_ctx *ctx);      /* POST /sites/{id}/files/create */
int ap_page_files_rename(struct ap_ctx *ctx);      /* POST /sites/{id}/files/rename */
int ap_page_files_copy(struct ap_ctx *ctx);        /* POST /sites/{id}/files/copy */
int ap_page_files_chmod(struct ap_ctx *ctx);       /* POST /sites/{id}/files/chmod */
int ap_page_files_delete(struct ap_ctx *ctx);      /* POST /sites/{id}/files/delete */
int ap_page_files_trash(struct ap_ctx *ctx);       /* GET /sites/{id}/files/trash */
int ap_page_files_restore(struct ap_ctx *ctx);     /* POST /sites/{id}/files/trash/restore */
int ap_page_files_empty(struct ap_ctx *ctx);       /* POST /sites/{id}/files/trash/empty */
int ap_page_files_extract(struct ap_ctx *ctx);     /* POST /sites/{id}/files/extract */
int ap_page_files_archive(struct ap_ctx *ctx);     /* POST /sites/{id}/files/archive */
int ap_page_files_job(struct ap_ctx *ctx);         /* GET /sites/{id}/files/jobs/{job} */
int ap_page_files_job_cancel(struct ap_ctx *ctx);  /* POST /sites/{id}/files/jobs/{job}/cancel */
extern const struct ap_field ap_files_job_fields[];
extern const struct ap_schema ap_files_job_schema;
extern const struct ap_field ap_files_list_fields[], ap_files_path_fields[], ap_files_save_fields[],
    ap_files_create_fields[], ap_files_move_fields[], ap_files_chmod_fields[],
    ap_files_restore_fields[], ap_files_archive_fields[], ap_files_edit_fields[];
extern const struct ap_schema ap_files_list_schema, ap_files_text_schema, ap_files_change_schema,
    ap_files_trash_schema;
/* The admins' other roots (files.roots): the same handlers on /files/roots/{name}… */
int ap_page_file_roots(struct ap_ctx *ctx);        /* GET /files/roots */
extern const struct ap_field ap_roots_list_fields[], ap_roots_path_fields[], ap_roots_edit_fields[],
    ap_roots_save_fields[];
extern const struct ap_field ap_roots_create_fields[], ap_roots_move_fields[], ap_roots_archive_fields[],
    ap_roots_pack_fields[], ap_roots_chmod_fields[], ap_roots_restore_fields[], ap_roots_job_fields[],
    ap_roots_name_fields[]; /* the rest of a root's file manager (files.roots) */
extern const struct ap_schema ap_file_roots_schema;

/* A site's logs (src/pages/logs.c). */
int ap_page_site_log(struct ap_ctx *ctx);          /* GET /sites/{id}/logs/{which} */
int ap_page_site_log_download(struct ap_ctx *ctx); /* GET /sites/{id}/logs/{which}/download */
int ap_page_site_log_stream_auth(struct ap_ctx *ctx); /* GET /sites/{id}/logs/{which}/stream — nginx's auth_request */
int ap_page_system_log(struct ap_ctx *ctx);        /* GET /logs/{which} — the panel's or the helper's log */
int ap_page_logs_index(struct ap_ctx *ctx);        /* GET /logs — the sidebar's Logs: to /logs/panel */
int ap_page_system_log_download(struct ap_ctx *ctx); /* GET /logs/{which}/download — log.file as it is */
extern const struct ap_field ap_logs_fields[], ap_logs_download_fields[], ap_logs_stream_fields[],
    ap_logs_system_fields[];
int ap_page_system_log_stream_auth(struct ap_ctx *ctx); /* GET /logs/{which}/stream — nginx's auth_request */
extern const struct ap_field ap_logs_syslog_stream_fields[];
extern const struct ap_schema ap_log_schema, ap_syslog_schema;
/* Scheduled tasks (src/pages/tasks.c, docs/tasks.md). */
int ap_page_tasks(struct ap_ctx *ctx);        /* GET /tasks */
int ap_page_task_preview(struct ap_ctx *ctx); /* GET /tasks/preview */
int ap_page_task(struct ap_ctx *ctx);         /* GET /tasks/{id} */
int ap_page_task_add(struct ap_ctx *ctx);     /* POST /tasks */
int ap_page_task_run(struct ap_ctx *ctx);     /* POST /tasks/{id}/run */
int ap_page_task_enable(struct ap_ctx *ctx);  /* POST /tasks/{id}/enable */
int ap_page_task_disable(struct ap_ctx *ctx); /* POST /tasks/{id}/disable */
int ap_page_task_remove(struct ap_ctx *ctx);  /* POST /tasks/{id}/remove */
extern const struct ap_field ap_task_list_fields[], ap_task_add_fields[], ap_task_preview_fields[];
extern const struct ap_schema ap_task_schema, ap_task_list_schema, ap_task_detail_schema,
    ap_task_run_schema, ap_task_preview_schema;
/* The Task and TaskRun as the API answers them (owned): also `aapanel task … --json`. */
struct ap_task;
struct ap_task_run;
struct json_object *ap_task_resource(const struct ap_task *t);
struct ap_sites_env;
/* Backup schedules (src/pages/backup_schedules.c): the tasks page's backup forms (destinations,
 * a site or database filled in, the kept values of a refused add) and the backups page's
 * schedules (each backup task, its interval and whether the last backup is overdue). */
void ap_task_backup_form_model(struct ap_ctx *ctx, const struct ap_sites_env *env, const char *site,
    const char *database);
struct json_object *ap_backup_schedules_model(struct ap_ctx *ctx, const struct ap_sites_env *env,
    struct json_object *targets);
extern const struct ap_schema ap_backup_schedule_schema;
struct json_object *ap_task_run_resource(const struct ap_task_run *r);
/* Services (src/pages/services.c, docs/services.md). */
int ap_page_services(struct ap_ctx *ctx);       /* GET /services */
int ap_page_service(struct ap_ctx *ctx);        /* GET /services/{name} */
int ap_page_service_action(struct ap_ctx *ctx); /* POST /service-actions */
extern const struct ap_field ap_service_fields[], ap_service_action_fields[];
extern const struct ap_schema ap_service_schema, ap_service_list_schema, ap_service_detail_schema,
    ap_service_change_schema;
/* The helper's unit as the API's Service (owned; for the CLI's --json too). */
struct json_object *ap_service_resource(struct json_object *unit);

/* Certificates (src/pages/certs.c). */
int ap_page_certs(struct ap_ctx *ctx);       /* GET /certificates */
int ap_page_cert(struct ap_ctx *ctx);        /* GET /certificates/{id} */
int ap_page_cert_upload(struct ap_ctx *ctx); /* POST /certificates */
int ap_page_cert_issue(struct ap_ctx *ctx);  /* POST /certificate-requests */
int ap_page_cert_renew(struct ap_ctx *ctx);  /* POST /certificates/{id}/renew */
int ap_page_cert_remove(struct ap_ctx *ctx); /* POST /certificates/{id}/remove */
extern const struct ap_field ap_cert_list_fields[], ap_cert_upload_fields[], ap_cert_issue_fields[];
extern const struct ap_schema ap_cert_schema, ap_cert_list_schema, ap_cert_detail_schema;
/* The Certificate as the API answers it (owned; env->db NULL: no site looked up, site null). */
struct ap_cert;
struct ap_sites_env;
struct json_object *ap_cert_resource(const struct ap_sites_env *env, const struct ap_cert *c);
/* The CertificateDetail: c settled from its job first (job may be NULL). Owned. */
struct json_object *ap_cert_detail(const struct ap_sites_env *env, struct ap_cert *c);

/* Database servers and databases (src/pages/databases.c, docs/databases.md). */
int ap_page_dbservers(struct ap_ctx *ctx);        /* GET /database-servers */
int ap_page_dbserver_add(struct ap_ctx *ctx);     /* POST /database-servers */
int ap_page_dbserver_remove(struct ap_ctx *ctx);  /* POST /database-servers/{id}/remove */
int ap_page_databases(struct ap_ctx *ctx);        /* GET /databases */
int ap_page_database(struct ap_ctx *ctx);         /* GET /databases/{id} */
int ap_page_database_create(struct ap_ctx *ctx);  /* POST /databases */
int ap_page_database_passwd(struct ap_ctx *ctx);  /* POST /databases/{id}/password */
int ap_page_database_link(struct ap_ctx *ctx);    /* POST /databases/{id}/site */
int ap_page_database_reader(struct ap_ctx *ctx);  /* POST /databases/{id}/reader */
int ap_page_database_remove(struct ap_ctx *ctx);  /* POST /databases/{id}/remove */
/* A database's export and import (src/pages/dbio.c). */
int ap_page_database_export(struct ap_ctx *ctx);      /* POST /databases/{id}/export */
int ap_page_database_import(struct ap_ctx *ctx);      /* POST /databases/{id}/import (octet-stream) */
int ap_page_database_import_form(struct ap_ctx *ctx); /* POST /databases/{id}/import/upload */
int ap_page_database_job(struct ap_ctx *ctx);         /* GET /databases/{id}/jobs/{job} */
int ap_page_database_download(struct ap_ctx *ctx);    /* GET /databases/{id}/jobs/{job}/download */
extern const struct ap_field ap_database_export_fields[], ap_database_import_fields[],
    ap_database_import_form_fields[], ap_database_job_fields[];
extern const struct ap_schema ap_database_job_schema, ap_database_job_detail_schema;
extern const struct ap_field ap_dbserver_list_fields[], ap_dbserver_add_fields[], ap_database_list_fields[],
    ap_database_create_fields[], ap_database_link_fields[], ap_database_remove_fields[],
    ap_database_reader_fields[];
extern const struct ap_schema ap_dbserver_schema, ap_dbserver_list_schema, ap_database_schema,
    ap_database_list_schema, ap_new_database_schema, ap_database_password_schema,
    ap_database_detail_schema;
struct ap_dbserver;
struct ap_database;
/* The resources as the API answers them (owned); status / contents: the helper's answers, may be NULL. */
struct json_object *ap_dbserver_resource(const struct ap_dbserver *s, struct json_object *status);
struct json_object *ap_database_resource(const struct ap_database *d, struct json_object *contents);
/* The databases linked to a site, for its page (owned array). */
struct json_object *ap_site_databases(struct ap_ctx *ctx, int64_t site_id);
/* Firewall (src/pages/firewall.c, docs/firewall.md). */
int ap_page_firewall(struct ap_ctx *ctx);              /* GET /firewall */
int ap_page_firewall_rule_add(struct ap_ctx *ctx);     /* POST /firewall/rules */
int ap_page_firewall_rule_remove(struct ap_ctx *ctx);  /* POST /firewall/rules/{id}/remove */
int ap_page_firewall_block_add(struct ap_ctx *ctx);    /* POST /firewall/block */
int ap_page_firewall_block_remove(struct ap_ctx *ctx); /* POST /firewall/block/{id}/remove */
int ap_page_firewall_settings(struct ap_ctx *ctx);     /* POST /firewall/settings */
int ap_page_firewall_apply(struct ap_ctx *ctx);        /* POST /firewall/apply */
int ap_page_firewall_confirm(struct ap_ctx *ctx);      /* POST /firewall/confirm */
extern const struct ap_field ap_fw_rule_fields[], ap_fw_block_fields[], ap_fw_settings_fields[],
    ap_fw_apply_fields[];
extern const struct ap_schema ap_fw_schema, ap_fw_rule_schema, ap_fw_block_schema, ap_fw_applied_schema,
    ap_fw_confirmed_schema;
/* The Firewall resource (owned; NULL with pb on a database error): stored and read back. */
struct ap_fw_env;
struct json_object *ap_fw_resource(const struct ap_fw_env *env, struct ap_problem *pb);
/*
 * The Site resource of s (new, owned by the caller), and the SiteDetail of
 * GET /sites/{id}: s probed (when port > 0, the helper's port for the
 * sites) and inspected by the helper. What the API answers and what
 * `aapanel site … --json` prints.
 */
struct ap_site;
struct ap_sites_env;
struct json_object *ap_site_resource(const struct ap_site *s);
struct json_object *ap_site_detail(const struct ap_sites_env *env, int port, struct ap_site *s);

/* Audit log (src/pages/audit.c) */
int ap_page_audit(struct ap_ctx *ctx);       /* GET /audit */
int ap_page_audit_blank(struct ap_ctx *ctx); /* the audit page unfiltered, its form kept (a bad filter) */
int ap_page_audit_csv(struct ap_ctx *ctx);   /* GET /audit.csv */
extern const struct ap_field ap_audit_fields[];
extern const struct ap_field ap_audit_csv_fields[];
extern const struct ap_schema ap_audit_list_schema;

/* Monitoring (src/pages/monitor.c): the dashboard is GET / (ap_page_home) */
int ap_page_monitor(struct ap_ctx *ctx);           /* GET /monitor — every disk and interface */
int ap_page_processes(struct ap_ctx *ctx);         /* GET /monitor/processes — search and sort */
int ap_page_system(struct ap_ctx *ctx);            /* GET /system — the latest reading (JSON) */
int ap_page_metrics(struct ap_ctx *ctx);           /* GET /metrics — history (JSON) */
int ap_page_events_auth(struct ap_ctx *ctx);       /* GET /events/auth — nginx auth_request before a stream */
extern const struct ap_field ap_home_fields[];
extern const struct ap_field ap_monitor_fields[];
extern const struct ap_field ap_processes_fields[];
extern const struct ap_field ap_metrics_fields[];
extern const struct ap_schema ap_dashboard_schema, ap_system_schema, ap_metrics_schema, ap_monitor_schema;
extern const struct ap_schema ap_processes_schema;

/* Alerts (src/pages/alerts.c) */
int ap_page_alerts(struct ap_ctx *ctx);                /* GET /alerts */
int ap_page_alert_history(struct ap_ctx *ctx);         /* GET /alerts/history */
int ap_page_alert_rule_create(struct ap_ctx *ctx);     /* POST /alerts/rules */
int ap_page_alert_rule_enable(struct ap_ctx *ctx);     /* POST /alerts/rules/{id}/enable */
int ap_page_alert_rule_disable(struct ap_ctx *ctx);    /* POST /alerts/rules/{id}/disable */
int ap_page_alert_rule_delete(struct ap_ctx *ctx);     /* POST /alerts/rules/{id}/delete */
int ap_page_alert_channel_create(struct ap_ctx *ctx);  /* POST /alerts/channels */
int ap_page_alert_channel_test(struct ap_ctx *ctx);    /* POST /alerts/channels/{id}/test */
int ap_page_alert_channel_delete(struct ap_ctx *ctx);  /* POST /alerts/channels/{id}/delete */
extern const struct ap_field ap_alert_rule_fields[];
extern const struct ap_field ap_alert_channel_fields[];
extern const struct ap_field ap_alert_history_fields[];
extern const struct ap_schema ap_alerts_schema, ap_alert_rule_schema, ap_alert_channel_schema;
extern const struct ap_schema ap_alert_event_list_schema, ap_alert_event_schema;
/*
 * What the handlers and `aapanel alert` (src/cli/alert.c) share, so both
 * refuse the same values and answer the same shapes. The _from_fields
 * functions read fields validated against ap_alert_rule_fields or
 * ap_alert_channel_fields (ap_fields_validate): the rule or channel to
 * create (the channel's kind-dependent checks: an address, a URL and a
 * secret of 16 or more characters; AP_ERR_INVAL with pb naming the field).
 * The _resource functions build the AlertRule, AlertChannel and AlertEvent
 * the API answers (never a secret); the _audit_json ones the before/after
 * values of the audit rows (never a secret). All return a new object
 * owned by the caller.
 */
struct ap_alert_rule;
struct ap_alert_channel;
struct ap_alert_event;
void ap_alert_rule_from_fields(const struct ap_fieldval *f, struct ap_alert_rule *r);
enum ap_err ap_alert_channel_from_fields(const struct ap_fieldval *f, struct ap_alert_channel *c,
    struct ap_problem *pb);
struct json_object *ap_alert_rule_resource(const struct ap_alert_rule *r);
struct json_object *ap_alert_channel_resource(const struct ap_alert_channel *c);
struct json_object *ap_alert_event_resource(const struct ap_alert_event *e);
struct json_object *ap_alert_rule_audit_json(const struct ap_alert_rule *r);
struct json_object *ap_alert_channel_audit_json(const struct ap_alert_channel *c);

/* Charts (src/pages/chart.c): the model templates/partials/chart.html draws as SVG. */
enum ap_chart_unit { AP_CHART_PCT, AP_CHART_PLAIN, AP_CHART_BYTES, AP_CHART_RATE };
struct ap_chart_series {
	const char *label; /* translated */
	const char *cls;   /* CSS class of the line: "s1" .. "s4" */
	size_t n;
	const int64_t *t;
	const double *v;   /* NaN: no value */
	const char *live;  /* the stream's value for this line ("cpu.total"), NULL: none */
};
/* A chart over [from, to] (owned JSON). live: the script appends the stream's values. */
struct json_object *ap_chart_model(struct ap_ctx *ctx, const char *id, const char *title, enum ap_chart_unit unit,
    int64_t from, int64_t to, const struct ap_chart_series *s, int ns, bool live);
/* A value as the charts print it ("12.5 %", "3.2 MiB/s"), in the arena. */
const char *ap_chart_value(struct ap_arena *a, enum ap_chart_unit unit, double v);

/* Backups (src/pages/backups.c, docs/backups.md). */
int ap_page_backups(struct ap_ctx *ctx);            /* GET /backups */
int ap_page_backup_start(struct ap_ctx *ctx);       /* POST /backups */
int ap_page_backup_runs(struct ap_ctx *ctx);        /* GET /backups/runs */
int ap_page_backup_run(struct ap_ctx *ctx);         /* GET /backups/runs/{id} */
int ap_page_backup_cancel(struct ap_ctx *ctx);      /* POST /backups/runs/{id}/cancel */
int ap_page_backup_restore(struct ap_ctx *ctx);     /* POST /backups/restore */
int ap_page_backup_dests(struct ap_ctx *ctx);       /* GET /backup-destinations */
int ap_page_backup_dest_add(struct ap_ctx *ctx);    /* POST /backup-destinations */
int ap_page_backup_dest_remove(struct ap_ctx *ctx); /* POST /backup-destinations/{name}/remove */
extern const struct ap_field ap_backup_run_fields[], ap_backup_restore_fields[],
    ap_backup_dest_add_fields[], ap_backup_dest_name_fields[];
extern const struct ap_schema ap_backup_run_schema, ap_backup_run_list_schema, ap_backup_dest_schema,
    ap_backup_dest_list_schema,
    ap_backup_overview_schema;
/* The panel's own backup (src/pages/backup_panel.c). */
int ap_page_backup_panel_start(struct ap_ctx *ctx);   /* POST /backups/panel */
int ap_page_backup_panel_restore(struct ap_ctx *ctx); /* POST /backups/panel/restore */
struct ap_sites_env;
struct ap_problem;
struct ap_backup_run;
struct json_object *ap_backup_panel_model(struct ap_ctx *ctx, const struct ap_sites_env *env);
/* From backups.c: the screens' helper environment, a problem's answer, a run as the API shows it. */
struct ap_sites_env ap_page_backup_env(struct ap_ctx *ctx);
int ap_page_backup_fail(struct ap_ctx *ctx, const struct ap_problem *pb);
struct json_object *ap_page_backup_run_resource(const struct ap_backup_run *r);
extern const struct ap_field ap_backup_panel_run_fields[], ap_backup_panel_restore_fields[];
extern const struct ap_schema ap_backup_panel_schema;
/* Browsing snapshots, one file downloaded (src/pages/backup_browse.c). */
int ap_page_backup_snapshots(struct ap_ctx *ctx); /* GET /backups/snapshots */
int ap_page_backup_tree(struct ap_ctx *ctx);      /* GET /backups/snapshots/{snapshot}/tree */
int ap_page_backup_file(struct ap_ctx *ctx);      /* GET /backups/snapshots/{snapshot}/file */
extern const struct ap_field ap_backup_snapshots_fields[], ap_backup_tree_fields[],
    ap_backup_file_fields[];
extern const struct ap_schema ap_backup_snapshot_list_schema, ap_backup_tree_schema;

#endif
