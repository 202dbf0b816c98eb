/* stubs.c — TEMPORARY: handlers being written in account.c, users.c, settings.c. */
#include "pages.h"

int
ap_page_account(struct ap_ctx *ctx)
{
	(void)ctx;
	return 404;
}

int
ap_page_account_password(struct ap_ctx *ctx)
{
	(void)ctx;
	return 404;
}

int
ap_page_account_revoke_others(struct ap_ctx *ctx)
{
	(void)ctx;
	return 404;
}

int
ap_page_account_revoke_session(struct ap_ctx *ctx)
{
	(void)ctx;
	return 404;
}

int
ap_page_account_2fa(struct ap_ctx *ctx)
{
	(void)ctx;
	return 404;
}

int
ap_page_account_2fa_enable(struct ap_ctx *ctx)
{
	(void)ctx;
	return 404;
}

int
ap_page_account_2fa_disable(struct ap_ctx *ctx)
{
	(void)ctx;
	return 404;
}

int
ap_page_account_token_create(struct ap_ctx *ctx)
{
	(void)ctx;
	return 404;
}

int
ap_page_account_token_revoke(struct ap_ctx *ctx)
{
	(void)ctx;
	return 404;
}

int
ap_page_users(struct ap_ctx *ctx)
{
	(void)ctx;
	return 404;
}

int
ap_page_user_create(struct ap_ctx *ctx)
{
	(void)ctx;
	return 404;
}

int
ap_page_user_role(struct ap_ctx *ctx)
{
	(void)ctx;
	return 404;
}

int
ap_page_user_disable(struct ap_ctx *ctx)
{
	(void)ctx;
	return 404;
}

int
ap_page_user_enable(struct ap_ctx *ctx)
{
	(void)ctx;
	return 404;
}

int
ap_page_user_password(struct ap_ctx *ctx)
{
	(void)ctx;
	return 404;
}

int
ap_page_tokens(struct ap_ctx *ctx)
{
	(void)ctx;
	return 404;
}

int
ap_page_token_revoke(struct ap_ctx *ctx)
{
	(void)ctx;
	return 404;
}

int
ap_page_settings(struct ap_ctx *ctx)
{
	(void)ctx;
	return 404;
}

int
ap_page_settings_security(struct ap_ctx *ctx)
{
	(void)ctx;
	return 404;
}

