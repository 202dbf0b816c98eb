/* pages.h — the handlers of src/pages/ (one file per screen or resource) and their route table. */
#ifndef AAPANEL_PAGES_H
#define AAPANEL_PAGES_H

#include <time.h>

#include "aapanel/app.h"

/* The panel's route table (routes.c): what the entry point hands to the pool. */
extern const struct ap_route ap_routes[];
extern const size_t ap_nroutes;

int ap_page_home(struct ap_ctx *ctx);    /* GET / — server overview */
int ap_page_healthz(struct ap_ctx *ctx); /* GET /healthz — JSON health */
int ap_page_lang(struct ap_ctx *ctx);    /* POST /lang — language preference */

int ap_page_test_sleep(struct ap_ctx *ctx); /* GET /_test/sleep — test profile only */
int ap_page_test_table(struct ap_ctx *ctx); /* GET /_test/table — test profile only */

/* Sign-in (src/pages/login.c) */
int ap_page_login_form(struct ap_ctx *ctx);   /* GET /login */
int ap_page_login(struct ap_ctx *ctx);        /* POST /login */
int ap_page_login_2fa_form(struct ap_ctx *ctx); /* GET /login/2fa */
int ap_page_login_2fa(struct ap_ctx *ctx);    /* POST /login/2fa */
int ap_page_logout(struct ap_ctx *ctx);       /* POST /logout */

/* The signed-in user's own account (src/pages/account.c) */
int ap_page_account(struct ap_ctx *ctx);                 /* GET /account */
int ap_page_account_password(struct ap_ctx *ctx);        /* POST /account/password */
int ap_page_account_revoke_others(struct ap_ctx *ctx);   /* POST /account/sessions/revoke-others */
int ap_page_account_revoke_session(struct ap_ctx *ctx);  /* POST /account/sessions/{id}/revoke */
int ap_page_account_2fa(struct ap_ctx *ctx);             /* GET /account/2fa */
int ap_page_account_2fa_enable(struct ap_ctx *ctx);      /* POST /account/2fa/enable */
int ap_page_account_2fa_disable(struct ap_ctx *ctx);     /* POST /account/2fa/disable */
int ap_page_account_token_create(struct ap_ctx *ctx);    /* POST /account/tokens */
int ap_page_account_token_revoke(struct ap_ctx *ctx);    /* POST /account/tokens/{id}/revoke */

/* Administration (src/pages/users.c, src/pages/settings.c) */
int ap_page_users(struct ap_ctx *ctx);                /* GET /users */
int ap_page_user_create(struct ap_ctx *ctx);          /* POST /users */
int ap_page_user_role(struct ap_ctx *ctx);            /* POST /users/{id}/role */
int ap_page_user_disable(struct ap_ctx *ctx);         /* POST /users/{id}/disable */
int ap_page_user_enable(struct ap_ctx *ctx);          /* POST /users/{id}/enable */
int ap_page_user_password(struct ap_ctx *ctx);        /* POST /users/{id}/password */
int ap_page_tokens(struct ap_ctx *ctx);               /* GET /tokens (every user's) */
int ap_page_token_revoke(struct ap_ctx *ctx);         /* POST /tokens/{id}/revoke */
int ap_page_settings(struct ap_ctx *ctx);             /* GET /settings */
int ap_page_settings_security(struct ap_ctx *ctx);    /* POST /settings/security */

/* One API token as the account and tokens pages show it (templates/partials/token_cells.html). */
struct ap_token_row;
struct json_object *ap_page_token_json(const struct ap_token_row *t, time_t now);

/* Audit log (src/pages/audit.c) */
int ap_page_audit(struct ap_ctx *ctx);     /* GET /audit */
int ap_page_audit_csv(struct ap_ctx *ctx); /* GET /audit.csv */

#endif
