/*
 * routes.c — the panel's route table. Every route declares its methods,
 * its permission (checked by the gate in src/web/gate.c before the handler
 * runs), its template, the fields it reads (an enum-indexed table beside
 * its handler, path parameters included) and the page that holds its form;
 * nothing else reaches a handler. Public routes are the short, explicit
 * list flagged AP_ROUTE_PUBLIC. Every route also answers under /api/v1/ as
 * JSON.
 */
#include "aapanel/pages.h"

const struct ap_field ap_id_fields[AP_ID__MAX + 1] = {
	[AP_ID] = { .name = "id", .type = AP_FIELD_INT, .flags = AP_FIELD_PATH | AP_FIELD_REQUIRED,
	    .min = 1, .max = INT64_MAX },
	[AP_ID__MAX] = AP_FIELD_END,
};

#define PUB AP_ROUTE_PUBLIC
#define DB AP_ROUTE_DB
#define CONFIRM AP_ROUTE_CONFIRM

const struct ap_route ap_routes[] = {
	{ .methods = AP_M_GET, .pattern = "/", .handler = ap_page_home, .perm = "overview.read",
	    .tpl = "home" },
	{ .methods = AP_M_GET, .pattern = "/healthz", .handler = ap_page_healthz, .flags = PUB },
	{ .methods = AP_M_POST, .pattern = "/lang", .handler = ap_page_lang, .flags = PUB,
	    .fields = ap_lang_fields },

	{ .methods = AP_M_GET, .pattern = "/login", .handler = ap_page_login_form, .flags = PUB,
	    .tpl = "login", .fields = ap_login_form_fields },
	{ .methods = AP_M_POST, .pattern = "/login", .handler = ap_page_login,
	    .flags = PUB | AP_ROUTE_LOGIN | DB, .tpl = "login", .fields = ap_login_fields,
	    .form = ap_page_login_form },
	{ .methods = AP_M_GET, .pattern = "/login/2fa", .handler = ap_page_login_2fa_form, .flags = PUB,
	    .tpl = "login_2fa" },
	{ .methods = AP_M_POST, .pattern = "/login/2fa", .handler = ap_page_login_2fa, .flags = PUB | DB,
	    .tpl = "login_2fa", .fields = ap_login_2fa_fields, .form = ap_page_login_2fa_form },
	{ .methods = AP_M_POST, .pattern = "/logout", .handler = ap_page_logout, .perm = "account.self",
	    .flags = DB },

	{ .methods = AP_M_GET, .pattern = "/account", .handler = ap_page_account, .perm = "account.self",
	    .flags = DB, .tpl = "account" },
	{ .methods = AP_M_POST, .pattern = "/account/password", .handler = ap_page_account_password,
	    .perm = "account.self", .flags = DB, .tpl = "account", .fields = ap_account_password_fields,
	    .form = ap_page_account },
	{ .methods = AP_M_POST, .pattern = "/account/sessions/revoke-others",
	    .handler = ap_page_account_revoke_others, .perm = "account.self", .flags = DB | CONFIRM },
	{ .methods = AP_M_POST, .pattern = "/account/sessions/{id}/revoke",
	    .handler = ap_page_account_revoke_session, .perm = "account.self", .flags = DB | CONFIRM,
	    .fields = ap_id_fields },
	{ .methods = AP_M_GET, .pattern = "/account/2fa", .handler = ap_page_account_2fa,
	    .perm = "account.self", .flags = DB, .tpl = "account_2fa" },
	{ .methods = AP_M_POST, .pattern = "/account/2fa/enable", .handler = ap_page_account_2fa_enable,
	    .perm = "account.self", .flags = DB, .tpl = "account_2fa", .fields = ap_2fa_enable_fields,
	    .form = ap_page_account_2fa },
	{ .methods = AP_M_POST, .pattern = "/account/2fa/disable", .handler = ap_page_account_2fa_disable,
	    .perm = "account.self", .flags = DB, .tpl = "account_2fa", .fields = ap_2fa_disable_fields,
	    .form = ap_page_account_2fa },
	{ .methods = AP_M_POST, .pattern = "/account/2fa/recovery", .handler = ap_page_account_2fa_recovery,
	    .perm = "account.self", .flags = DB, .tpl = "account_2fa", .fields = ap_2fa_recovery_fields,
	    .form = ap_page_account_2fa },
	{ .methods = AP_M_POST, .pattern = "/account/tokens", .handler = ap_page_account_token_create,
	    .perm = "account.self", .flags = DB, .tpl = "account", .fields = ap_token_create_fields,
	    .form = ap_page_account },
	{ .methods = AP_M_POST, .pattern = "/account/tokens/{id}/revoke",
	    .handler = ap_page_account_token_revoke, .perm = "account.self", .flags = DB | CONFIRM,
	    .fields = ap_id_fields },

	{ .methods = AP_M_GET, .pattern = "/sites", .handler = ap_page_sites, .perm = "sites.read",
	    .flags = DB, .tpl = "sites" },
	{ .methods = AP_M_POST, .pattern = "/sites", .handler = ap_page_site_create, .perm = "sites.write",
	    .flags = DB, .tpl = "sites", .fields = ap_site_create_fields, .form = ap_page_sites },
	{ .methods = AP_M_GET, .pattern = "/sites/{id}", .handler = ap_page_site, .perm = "sites.read",
	    .flags = DB, .tpl = "site", .fields = ap_id_fields },
	{ .methods = AP_M_POST, .pattern = "/sites/{id}", .handler = ap_page_site_update,
	    .perm = "sites.write", .flags = DB, .tpl = "site", .fields = ap_site_update_fields,
	    .form = ap_page_site },
	{ .methods = AP_M_POST, .pattern = "/sites/{id}/disable", .handler = ap_page_site_disable,
	    .perm = "sites.write", .flags = DB | CONFIRM, .tpl = "site", .fields = ap_id_fields,
	    .form = ap_page_site },
	{ .methods = AP_M_POST, .pattern = "/sites/{id}/enable", .handler = ap_page_site_enable,
	    .perm = "sites.write", .flags = DB, .tpl = "site", .fields = ap_id_fields,
	    .form = ap_page_site },
	{ .methods = AP_M_POST, .pattern = "/sites/{id}/reapply", .handler = ap_page_site_reapply,
	    .perm = "sites.write", .flags = DB, .tpl = "site", .fields = ap_id_fields,
	    .form = ap_page_site },
	{ .methods = AP_M_POST, .pattern = "/sites/{id}/delete", .handler = ap_page_site_delete,
	    .perm = "sites.write", .flags = DB | CONFIRM, .tpl = "site", .fields = ap_site_delete_fields,
	    .form = ap_page_site },

	{ .methods = AP_M_GET, .pattern = "/users", .handler = ap_page_users, .perm = "users.read",
	    .flags = DB, .tpl = "users" },
	{ .methods = AP_M_POST, .pattern = "/users", .handler = ap_page_user_create, .perm = "users.write",
	    .flags = DB, .tpl = "users", .fields = ap_user_create_fields, .form = ap_page_users },
	{ .methods = AP_M_POST, .pattern = "/users/{id}/role", .handler = ap_page_user_role,
	    .perm = "users.write", .flags = DB, .tpl = "users", .fields = ap_user_role_fields,
	    .form = ap_page_users },
	{ .methods = AP_M_POST, .pattern = "/users/{id}/disable", .handler = ap_page_user_disable,
	    .perm = "users.write", .flags = DB | CONFIRM, .tpl = "users", .fields = ap_id_fields,
	    .form = ap_page_users },
	{ .methods = AP_M_POST, .pattern = "/users/{id}/enable", .handler = ap_page_user_enable,
	    .perm = "users.write", .flags = DB, .tpl = "users", .fields = ap_id_fields,
	    .form = ap_page_users },
	{ .methods = AP_M_POST, .pattern = "/users/{id}/password", .handler = ap_page_user_password,
	    .perm = "users.write", .flags = DB, .tpl = "users", .fields = ap_user_password_fields,
	    .form = ap_page_users },
	{ .methods = AP_M_GET, .pattern = "/tokens", .handler = ap_page_tokens, .perm = "users.read",
	    .flags = DB, .tpl = "tokens" },
	{ .methods = AP_M_POST, .pattern = "/tokens/{id}/revoke", .handler = ap_page_token_revoke,
	    .perm = "users.write", .flags = DB | CONFIRM, .fields = ap_id_fields },
	{ .methods = AP_M_GET, .pattern = "/settings", .handler = ap_page_settings, .perm = "settings.read",
	    .flags = DB, .tpl = "settings" },
	{ .methods = AP_M_POST, .pattern = "/settings/security", .handler = ap_page_settings_security,
	    .perm = "settings.write", .flags = DB, .tpl = "settings", .fields = ap_settings_security_fields,
	    .form = ap_page_settings },

	{ .methods = AP_M_GET, .pattern = "/audit", .handler = ap_page_audit, .perm = "audit.read",
	    .flags = DB, .tpl = "audit", .fields = ap_audit_fields, .form = ap_page_audit_blank },
	{ .methods = AP_M_GET, .pattern = "/audit.csv", .handler = ap_page_audit_csv, .perm = "audit.read",
	    .flags = AP_ROUTE_RAW | DB, .fields = ap_audit_fields },

	{ .methods = AP_M_GET, .pattern = "/_test/sleep", .handler = ap_page_test_sleep, .flags = PUB,
	    .fields = ap_test_sleep_fields },
	{ .methods = AP_M_GET, .pattern = "/_test/table", .handler = ap_page_test_table, .flags = PUB,
	    .tpl = "testing/table", .fields = ap_test_table_fields },
};

const size_t ap_nroutes = AP_NELEM(ap_routes);
