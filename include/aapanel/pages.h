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
extern const struct ap_field ap_lang_fields[];

int ap_page_test_sleep(struct ap_ctx *ctx); /* GET /_test/sleep — test profile only */
int ap_page_test_table(struct ap_ctx *ctx); /* GET /_test/table — test profile only */
extern const struct ap_field ap_test_sleep_fields[];
extern const struct ap_field ap_test_table_fields[];

/* Sign-in (src/pages/login.c) */
int ap_page_login_form(struct ap_ctx *ctx);     /* GET /login */
int ap_page_login(struct ap_ctx *ctx);          /* POST /login */
int ap_page_login_2fa_form(struct ap_ctx *ctx); /* GET /login/2fa */
int ap_page_login_2fa(struct ap_ctx *ctx);      /* POST /login/2fa */
int ap_page_logout(struct ap_ctx *ctx);         /* POST /logout */
extern const struct ap_field ap_login_form_fields[];
extern const struct ap_field ap_login_fields[];
extern const struct ap_field ap_login_2fa_fields[];

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

/* Administration (src/pages/users.c, src/pages/settings.c) */
int ap_page_users(struct ap_ctx *ctx);             /* GET /users */
int ap_page_user_create(struct ap_ctx *ctx);       /* POST /users */
int ap_page_user_role(struct ap_ctx *ctx);         /* POST /users/{id}/role */
int ap_page_user_disable(struct ap_ctx *ctx);      /* POST /users/{id}/disable */
int ap_page_user_enable(struct ap_ctx *ctx);       /* POST /users/{id}/enable */
int ap_page_user_password(struct ap_ctx *ctx);     /* POST /users/{id}/password */
int ap_page_tokens(struct ap_ctx *ctx);            /* GET /tokens (every user's) */
int ap_page_token_revoke(struct ap_ctx *ctx);      /* POST /tokens/{id}/revoke */
int ap_page_settings(struct ap_ctx *ctx);          /* GET /settings */
int ap_page_settings_security(struct ap_ctx *ctx); /* POST /settings/security */
extern const struct ap_field ap_user_create_fields[];
extern const struct ap_field ap_user_role_fields[];
extern const struct ap_field ap_user_password_fields[];
extern const struct ap_field ap_settings_security_fields[];

/* One API token as the account and tokens pages show it (templates/partials/token_cells.html). */
struct ap_token_row;
struct json_object *ap_page_token_json(const struct ap_token_row *t, time_t now);

/* Websites (src/pages/sites.c) */
int ap_page_sites(struct ap_ctx *ctx);        /* GET /sites */
int ap_page_site_create(struct ap_ctx *ctx);  /* POST /sites */
int ap_page_site(struct ap_ctx *ctx);         /* GET /sites/{id} */
int ap_page_site_update(struct ap_ctx *ctx);  /* POST /sites/{id} */
int ap_page_site_disable(struct ap_ctx *ctx); /* POST /sites/{id}/disable */
int ap_page_site_enable(struct ap_ctx *ctx);  /* POST /sites/{id}/enable */
int ap_page_site_reapply(struct ap_ctx *ctx); /* POST /sites/{id}/reapply */
int ap_page_site_delete(struct ap_ctx *ctx);  /* POST /sites/{id}/delete */
extern const struct ap_field ap_site_create_fields[];
extern const struct ap_field ap_site_update_fields[];
extern const struct ap_field ap_site_delete_fields[];

/* Audit log (src/pages/audit.c) */
int ap_page_audit(struct ap_ctx *ctx);       /* GET /audit */
int ap_page_audit_blank(struct ap_ctx *ctx); /* the audit page unfiltered, its form kept (a bad filter) */
int ap_page_audit_csv(struct ap_ctx *ctx);   /* GET /audit.csv */
extern const struct ap_field ap_audit_fields[];

#endif
