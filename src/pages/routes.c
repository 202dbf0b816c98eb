/*
 * routes.c — the panel's route table. Every route declares its methods,
 * its permission (checked by the gate in src/web/gate.c before the handler
 * runs), its template, the fields it reads (an enum-indexed table beside
 * its handler, path parameters included) and the page that holds its form;
 * nothing else reaches a handler. Public routes are the short, explicit
 * list flagged AP_ROUTE_PUBLIC. Every route but the AP_ROUTE_BROWSER pages
 * also answers under /api/v1/ as JSON: its answer schema is the resource
 * (the model projected onto it), its summary the API document's line
 * (src/web/openapi.c makes the document from this table).
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
#define BROWSER AP_ROUTE_BROWSER
#define CREATE AP_ROUTE_CREATE

const struct ap_route ap_routes[] = {
	{ .methods = AP_M_GET, .pattern = "/", .handler = ap_page_home, .perm = "overview.read",
	    .tpl = "home", .summary = "The server at a glance: host, load, memory, the panel's workers",
	    .answer = &ap_overview_schema },
	{ .methods = AP_M_GET, .pattern = "/healthz", .handler = ap_page_healthz, .flags = PUB | AP_ROUTE_PROBE,
	    .summary = "Health of the panel and its database (for probes)", .answer = &ap_health_schema },
	{ .methods = AP_M_GET, .pattern = "/openapi.json", .handler = ap_page_openapi, .perm = "api.read",
	    .flags = AP_ROUTE_RAW, .media = "application/json",
	    .summary = "This document: the API as OpenAPI 3.1, made from the route table" },
	{ .methods = AP_M_POST, .pattern = "/lang", .handler = ap_page_lang, .flags = PUB,
	    .fields = ap_lang_fields, .summary = "Choose the interface language (a cookie; kept for a signed-in user)",
	    .answer = &ap_lang_schema },

	{ .methods = AP_M_GET, .pattern = "/login", .handler = ap_page_login_form, .flags = PUB | BROWSER,
	    .tpl = "login", .fields = ap_login_form_fields, .summary = "The sign-in form" },
	{ .methods = AP_M_POST, .pattern = "/login", .handler = ap_page_login,
	    .flags = PUB | AP_ROUTE_LOGIN | DB | BROWSER, .tpl = "login", .fields = ap_login_fields,
	    .form = ap_page_login_form, .summary = "Sign in with a user name and password",
	    .answer = &ap_signed_in_schema },
	{ .methods = AP_M_GET, .pattern = "/login/2fa", .handler = ap_page_login_2fa_form,
	    .flags = PUB | BROWSER, .tpl = "login_2fa", .summary = "The two-factor code form, after the password" },
	{ .methods = AP_M_POST, .pattern = "/login/2fa", .handler = ap_page_login_2fa,
	    .flags = PUB | DB | BROWSER, .tpl = "login_2fa", .fields = ap_login_2fa_fields,
	    .form = ap_page_login_2fa_form, .summary = "Finish signing in with a TOTP or recovery code" },
	{ .methods = AP_M_POST, .pattern = "/logout", .handler = ap_page_logout, .perm = "account.self",
	    .flags = DB | BROWSER | AP_ROUTE_PENDING, .summary = "Sign out (end this session)" },

	{ .methods = AP_M_GET, .pattern = "/account", .handler = ap_page_account, .perm = "account.self",
	    .flags = DB, .tpl = "account", .summary = "Your account: profile, live sessions, API tokens",
	    .answer = &ap_account_schema },
	{ .methods = AP_M_POST, .pattern = "/account/password", .handler = ap_page_account_password,
	    .perm = "account.self", .flags = DB, .tpl = "account", .fields = ap_account_password_fields,
	    .form = ap_page_account, .summary = "Change your password (your other sessions are signed out)",
	    .answer = &ap_password_changed_schema },
	{ .methods = AP_M_POST, .pattern = "/account/sessions/revoke-others",
	    .handler = ap_page_account_revoke_others, .perm = "account.self", .flags = DB | CONFIRM,
	    .summary = "Sign out your other sessions", .answer = &ap_sessions_revoked_schema },
	{ .methods = AP_M_POST, .pattern = "/account/sessions/{id}/revoke",
	    .handler = ap_page_account_revoke_session, .perm = "account.self", .flags = DB | CONFIRM,
	    .fields = ap_id_fields, .summary = "Sign out one of your sessions" },
	{ .methods = AP_M_GET, .pattern = "/account/2fa", .handler = ap_page_account_2fa,
	    .perm = "account.self", .flags = DB, .tpl = "account_2fa",
	    .summary = "Your two-factor authentication: its state, or the secret to enrol with",
	    .answer = &ap_twofa_schema },
	{ .methods = AP_M_POST, .pattern = "/account/2fa/enable", .handler = ap_page_account_2fa_enable,
	    .perm = "account.self", .flags = DB, .tpl = "account_2fa", .fields = ap_2fa_enable_fields,
	    .form = ap_page_account_2fa, .summary = "Turn two-factor on with a first code; answers the recovery codes",
	    .answer = &ap_recovery_codes_schema },
	{ .methods = AP_M_POST, .pattern = "/account/2fa/disable", .handler = ap_page_account_2fa_disable,
	    .perm = "account.self", .flags = DB, .tpl = "account_2fa", .fields = ap_2fa_disable_fields,
	    .form = ap_page_account_2fa, .summary = "Turn two-factor off (password and a code)" },
	{ .methods = AP_M_POST, .pattern = "/account/2fa/recovery", .handler = ap_page_account_2fa_recovery,
	    .perm = "account.self", .flags = DB, .tpl = "account_2fa", .fields = ap_2fa_recovery_fields,
	    .form = ap_page_account_2fa, .summary = "Make new recovery codes (the old ones stop working)",
	    .answer = &ap_recovery_codes_schema },
	{ .methods = AP_M_POST, .pattern = "/account/tokens", .handler = ap_page_account_token_create,
	    .perm = "account.self", .flags = DB | CREATE, .tpl = "account", .fields = ap_token_create_fields,
	    .form = ap_page_account, .summary = "Make an API token (its secret is answered once)",
	    .answer = &ap_new_token_schema },
	{ .methods = AP_M_POST, .pattern = "/account/tokens/{id}/revoke",
	    .handler = ap_page_account_token_revoke, .perm = "account.self", .flags = DB | CONFIRM,
	    .fields = ap_id_fields, .summary = "Revoke one of your API tokens" },

	{ .methods = AP_M_GET, .pattern = "/users", .handler = ap_page_users, .perm = "users.read",
	    .flags = DB, .tpl = "users", .fields = ap_user_list_fields,
	    .summary = "The panel's users, oldest first", .answer = &ap_user_list_schema },
	{ .methods = AP_M_POST, .pattern = "/users", .handler = ap_page_user_create, .perm = "users.write",
	    .flags = DB | CREATE, .tpl = "users", .fields = ap_user_create_fields, .form = ap_page_users,
	    .summary = "Add a user", .answer = &ap_user_schema },
	{ .methods = AP_M_POST, .pattern = "/users/{id}/role", .handler = ap_page_user_role,
	    .perm = "users.write", .flags = DB, .tpl = "users", .fields = ap_user_role_fields,
	    .form = ap_page_users, .summary = "Change a user's role", .answer = &ap_user_schema },
	{ .methods = AP_M_POST, .pattern = "/users/{id}/disable", .handler = ap_page_user_disable,
	    .perm = "users.write", .flags = DB | CONFIRM, .tpl = "users", .fields = ap_id_fields,
	    .form = ap_page_users, .summary = "Disable a user (signed out everywhere)", .answer = &ap_user_schema },
	{ .methods = AP_M_POST, .pattern = "/users/{id}/enable", .handler = ap_page_user_enable,
	    .perm = "users.write", .flags = DB, .tpl = "users", .fields = ap_id_fields,
	    .form = ap_page_users, .summary = "Let a disabled user sign in again", .answer = &ap_user_schema },
	{ .methods = AP_M_POST, .pattern = "/users/{id}/password", .handler = ap_page_user_password,
	    .perm = "users.write", .flags = DB, .tpl = "users", .fields = ap_user_password_fields,
	    .form = ap_page_users, .summary = "Set a new password for a user (their sessions end)",
	    .answer = &ap_user_schema },
	{ .methods = AP_M_GET, .pattern = "/tokens", .handler = ap_page_tokens, .perm = "users.read",
	    .flags = DB, .tpl = "tokens", .fields = ap_token_list_fields,
	    .summary = "Every user's API tokens, newest first", .answer = &ap_token_list_schema },
	{ .methods = AP_M_POST, .pattern = "/tokens/{id}/revoke", .handler = ap_page_token_revoke,
	    .perm = "users.write", .flags = DB | CONFIRM, .fields = ap_id_fields,
	    .summary = "Revoke any user's API token" },
	{ .methods = AP_M_GET, .pattern = "/settings", .handler = ap_page_settings, .perm = "settings.read",
	    .flags = DB, .tpl = "settings", .summary = "The panel's settings", .answer = &ap_settings_schema },
	{ .methods = AP_M_POST, .pattern = "/settings/security", .handler = ap_page_settings_security,
	    .perm = "settings.write", .flags = DB, .tpl = "settings", .fields = ap_settings_security_fields,
	    .form = ap_page_settings, .summary = "Change the security settings", .answer = &ap_settings_schema },

	{ .methods = AP_M_GET, .pattern = "/audit", .handler = ap_page_audit, .perm = "audit.read",
	    .flags = DB, .tpl = "audit", .fields = ap_audit_fields, .form = ap_page_audit_blank,
	    .summary = "The audit log, filtered, newest first", .answer = &ap_audit_list_schema },
	{ .methods = AP_M_GET, .pattern = "/audit.csv", .handler = ap_page_audit_csv, .perm = "audit.read",
	    .flags = AP_ROUTE_RAW | DB, .fields = ap_audit_csv_fields, .media = "text/csv",
	    .summary = "The audit log, filtered, as a CSV file" },

	{ .methods = AP_M_GET, .pattern = "/_test/sleep", .handler = ap_page_test_sleep,
	    .flags = PUB | AP_ROUTE_TESTING, .fields = ap_test_sleep_fields,
	    .summary = "Take ms milliseconds (the tests' slow request)", .answer = &ap_test_slept_schema },
	{ .methods = AP_M_GET, .pattern = "/_test/table", .handler = ap_page_test_table,
	    .flags = PUB | AP_ROUTE_TESTING, .tpl = "testing/table", .fields = ap_test_table_fields,
	    .summary = "A list page of made-up rows (the benchmark's)", .answer = &ap_test_table_schema },
};

const size_t ap_nroutes = AP_NELEM(ap_routes);
