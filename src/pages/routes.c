/*
 * routes.c — the panel's route table. Every route declares its methods,
 * its permission (checked by the gate in src/authmw.c before the handler
 * runs), its template and the fields it reads; nothing else reaches a
 * handler. Public routes are the short, explicit list flagged
 * AP_ROUTE_PUBLIC. Every route also answers under /api/v1/ as JSON.
 */
#include "aapanel/app.h"
#include "aapanel/pages.h"

#define F_END { .name = NULL }
#define TEXT(n, lo, hi, fl) { .name = n, .type = AP_FIELD_TEXT, .flags = (fl), .min = lo, .max = hi }

static const char *const lang_choices[] = { "en", "ar", NULL };
static const char *const role_choices[] = { "admin", "operator", "viewer", NULL };
static const char *const scope_choices[] = { "read", "write", "admin", NULL };
static const char *const outcome_choices[] = { "ok", "denied", "failed", NULL };

static const struct ap_field lang_fields[] = {
	{ .name = "lang", .type = AP_FIELD_ENUM, .flags = AP_FIELD_REQUIRED, .choices = lang_choices },
	F_END,
};
static const struct ap_field sleep_fields[] = {
	{ .name = "ms", .type = AP_FIELD_INT, .flags = AP_FIELD_REQUIRED, .min = 0, .max = 600000 },
	F_END,
};
static const struct ap_field table_fields[] = {
	{ .name = "rows", .type = AP_FIELD_INT, .min = 0, .max = 1000 },
	F_END,
};
static const struct ap_field login_form_fields[] = {
	TEXT("next", 1, 2048, AP_FIELD_SINGLELINE),
	F_END,
};
static const struct ap_field login_fields[] = {
	TEXT("username", 1, 64, AP_FIELD_REQUIRED | AP_FIELD_SINGLELINE),
	TEXT("password", 1, 1024, AP_FIELD_REQUIRED),
	TEXT("next", 1, 2048, AP_FIELD_SINGLELINE),
	F_END,
};
static const struct ap_field code_fields[] = {
	TEXT("code", 6, 20, AP_FIELD_REQUIRED | AP_FIELD_SINGLELINE),
	F_END,
};
static const struct ap_field password_change_fields[] = {
	TEXT("current", 1, 1024, AP_FIELD_REQUIRED),
	TEXT("password", 1, 1024, AP_FIELD_REQUIRED),
	TEXT("confirm", 1, 1024, AP_FIELD_REQUIRED),
	F_END,
};
static const struct ap_field twofa_disable_fields[] = {
	TEXT("password", 1, 1024, AP_FIELD_REQUIRED),
	TEXT("code", 6, 20, AP_FIELD_REQUIRED | AP_FIELD_SINGLELINE),
	F_END,
};
static const struct ap_field token_fields[] = {
	TEXT("name", 1, 64, AP_FIELD_REQUIRED | AP_FIELD_SINGLELINE),
	{ .name = "scope", .type = AP_FIELD_ENUM, .flags = AP_FIELD_REQUIRED, .choices = scope_choices },
	TEXT("allow", 0, 255, AP_FIELD_SINGLELINE),
	{ .name = "expires_days", .type = AP_FIELD_INT, .min = 0, .max = 3650 },
	F_END,
};
static const struct ap_field user_create_fields[] = {
	{ .name = "username", .type = AP_FIELD_NAME, .flags = AP_FIELD_REQUIRED, .min = 3, .max = 32 },
	{ .name = "role", .type = AP_FIELD_ENUM, .flags = AP_FIELD_REQUIRED, .choices = role_choices },
	TEXT("password", 1, 1024, AP_FIELD_REQUIRED),
	F_END,
};
static const struct ap_field role_fields[] = {
	{ .name = "role", .type = AP_FIELD_ENUM, .flags = AP_FIELD_REQUIRED, .choices = role_choices },
	F_END,
};
static const struct ap_field user_password_fields[] = {
	TEXT("password", 1, 1024, AP_FIELD_REQUIRED),
	F_END,
};
static const struct ap_field security_fields[] = {
	{ .name = "require_2fa", .type = AP_FIELD_BOOL },
	F_END,
};
static const char *ap_audit_date_check(const char *v, size_t len);
static const struct ap_field audit_fields[] = {
	TEXT("actor", 1, 64, AP_FIELD_SINGLELINE),
	TEXT("action", 1, 64, AP_FIELD_SINGLELINE),
	{ .name = "outcome", .type = AP_FIELD_ENUM, .choices = outcome_choices },
	{ .name = "from", .type = AP_FIELD_TEXT, .min = 10, .max = 10, .check = ap_audit_date_check },
	{ .name = "to", .type = AP_FIELD_TEXT, .min = 10, .max = 10, .check = ap_audit_date_check },
	{ .name = "page", .type = AP_FIELD_INT, .min = 1, .max = 100000 },
	{ .name = "verify", .type = AP_FIELD_BOOL },
	F_END,
};

/* "YYYY-MM-DD" with a plausible month and day. */
static const char *
ap_audit_date_check(const char *v, size_t len)
{
	if (len != 10 || v[4] != '-' || v[7] != '-')
		return "must be a date YYYY-MM-DD";
	for (size_t i = 0; i < len; i++)
		if (i != 4 && i != 7 && (v[i] < '0' || v[i] > '9'))
			return "must be a date YYYY-MM-DD";
	if ((v[5] - '0') * 10 + (v[6] - '0') < 1 || (v[5] - '0') * 10 + (v[6] - '0') > 12 ||
	    (v[8] - '0') * 10 + (v[9] - '0') < 1 || (v[8] - '0') * 10 + (v[9] - '0') > 31)
		return "must be a date YYYY-MM-DD";
	return NULL;
}

#define PUB AP_ROUTE_PUBLIC

const struct ap_route ap_routes[] = {
	{ AP_M_GET, "/", ap_page_home, "overview.read", 0, "home", NULL },
	{ AP_M_GET, "/healthz", ap_page_healthz, NULL, PUB, NULL, NULL },
	{ AP_M_POST, "/lang", ap_page_lang, NULL, PUB, NULL, lang_fields },

	{ AP_M_GET, "/login", ap_page_login_form, NULL, PUB, "login", login_form_fields },
	{ AP_M_POST, "/login", ap_page_login, NULL, PUB | AP_ROUTE_LOGIN, "login", login_fields },
	{ AP_M_GET, "/login/2fa", ap_page_login_2fa_form, NULL, PUB, "login_2fa", NULL },
	{ AP_M_POST, "/login/2fa", ap_page_login_2fa, NULL, PUB, "login_2fa", code_fields },
	{ AP_M_POST, "/logout", ap_page_logout, "account.self", 0, NULL, NULL },

	{ AP_M_GET, "/account", ap_page_account, "account.self", 0, "account", NULL },
	{ AP_M_POST, "/account/password", ap_page_account_password, "account.self", 0, "account",
	    password_change_fields },
	{ AP_M_POST, "/account/sessions/revoke-others", ap_page_account_revoke_others, "account.self", 0,
	    NULL, NULL },
	{ AP_M_POST, "/account/sessions/{id}/revoke", ap_page_account_revoke_session, "account.self", 0,
	    NULL, NULL },
	{ AP_M_GET, "/account/2fa", ap_page_account_2fa, "account.self", 0, "account_2fa", NULL },
	{ AP_M_POST, "/account/2fa/enable", ap_page_account_2fa_enable, "account.self", 0, "account_2fa",
	    code_fields },
	{ AP_M_POST, "/account/2fa/disable", ap_page_account_2fa_disable, "account.self", 0, "account_2fa",
	    twofa_disable_fields },
	{ AP_M_POST, "/account/tokens", ap_page_account_token_create, "account.self", 0, "account",
	    token_fields },
	{ AP_M_POST, "/account/tokens/{id}/revoke", ap_page_account_token_revoke, "account.self", 0, NULL,
	    NULL },

	{ AP_M_GET, "/users", ap_page_users, "users.read", 0, "users", NULL },
	{ AP_M_POST, "/users", ap_page_user_create, "users.write", 0, "users", user_create_fields },
	{ AP_M_POST, "/users/{id}/role", ap_page_user_role, "users.write", 0, NULL, role_fields },
	{ AP_M_POST, "/users/{id}/disable", ap_page_user_disable, "users.write", 0, NULL, NULL },
	{ AP_M_POST, "/users/{id}/enable", ap_page_user_enable, "users.write", 0, NULL, NULL },
	{ AP_M_POST, "/users/{id}/password", ap_page_user_password, "users.write", 0, "users",
	    user_password_fields },
	{ AP_M_GET, "/tokens", ap_page_tokens, "users.read", 0, "tokens", NULL },
	{ AP_M_POST, "/tokens/{id}/revoke", ap_page_token_revoke, "users.write", 0, NULL, NULL },
	{ AP_M_GET, "/settings", ap_page_settings, "settings.read", 0, "settings", NULL },
	{ AP_M_POST, "/settings/security", ap_page_settings_security, "settings.write", 0, "settings",
	    security_fields },

	{ AP_M_GET, "/audit", ap_page_audit, "audit.read", 0, "audit", audit_fields },
	{ AP_M_GET, "/audit.csv", ap_page_audit_csv, "audit.read", AP_ROUTE_RAW, NULL, audit_fields },

	{ AP_M_GET, "/_test/sleep", ap_page_test_sleep, NULL, PUB, NULL, sleep_fields },
	{ AP_M_GET, "/_test/table", ap_page_test_table, NULL, PUB, "testing/table", table_fields },
};

const size_t ap_nroutes = AP_NELEM(ap_routes);
