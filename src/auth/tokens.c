/*
 * tokens.c — API tokens (users.h): created with a random value shown once
 * (the table keeps its keyed hash), authenticated by that hash with the
 * owner's role, scope and address allowlist, revoked, listed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aapanel/auth.h"
#include "aapanel/log.h"
#include "aapanel/netaddr.h"
#include "aapanel/users.h"

static void
copy_text(struct ap_db_stmt *st, int col, char *dst, size_t n)
{
	const char *t = ap_db_col_text(st, col, NULL);

	snprintf(dst, n, "%s", t ? t : "");
}

enum ap_db_rc
ap_token_create(struct ap_db *db, const struct ap_config *cfg, int64_t user_id, const char *name,
    const char *scope, const char *allow, int expires_days, char token[80], int64_t *id,
    struct ap_problem *pb)
{
	struct ap_cidr *nets = NULL;
	struct ap_db_stmt *st = NULL;
	size_t nn = 0;
	char hex[65], hash[65], bad[64];
	time_t now = time(NULL);
	enum ap_db_rc rc;

	if (name == NULL || strlen(name) < 1 || strlen(name) > 64 || !ap_utf8_valid(name, strlen(name))) {
		ap_problem_set(pb, AP_PB_INVALID, "name", "must be 1 to 64 characters");
		return AP_DB_EINVAL;
	}
	if (!ap_scope_valid(scope)) {
		ap_problem_set(pb, AP_PB_INVALID, "scope", "must be read, write or admin");
		return AP_DB_EINVAL;
	}
	if (!ap_cidr_list_parse(allow ? allow : "", &nets, &nn, bad, sizeof(bad))) {
		ap_problem_set(pb, AP_PB_INVALID, "allow", "must be a list of addresses or networks");
		return AP_DB_EINVAL;
	}
	free(nets);
	if (expires_days < 0 || expires_days > 3650) {
		ap_problem_set(pb, AP_PB_INVALID, "expires_days", "must be between 0 (never) and 3650 days");
		return AP_DB_EINVAL;
	}
	/* regression: tokens were unlimited (one user held 1,145 and every page listing them grew) */
	{
		int64_t live = 0;

		rc = ap_db_prepare(db,
		    "SELECT COUNT(*) FROM api_tokens WHERE user_id = ? AND revoked_at IS NULL AND "
		    "(expires_at IS NULL OR expires_at > ?)",
		    &st);
		if (rc != AP_DB_OK)
			return rc;
		ap_db_bind_int64(st, 1, user_id);
		ap_db_bind_int64(st, 2, now);
		rc = ap_db_step(st);
		if (rc == AP_DB_ROW)
			live = ap_db_col_int64(st, 0);
		ap_db_finalize(st);
		st = NULL;
		if (rc != AP_DB_ROW)
			return rc == AP_DB_DONE ? AP_DB_EOTHER : rc;
		if (live >= cfg->max_tokens_per_user) {
			ap_problem_set(pb, AP_PB_CONFLICT, NULL,
			    "You have %d API tokens, the most one user may hold. Revoke one first.",
			    cfg->max_tokens_per_user);
			return AP_DB_EINVAL;
		}
	}
	if (ap_random_hex(hex, 32) != AP_OK)
		return AP_DB_EOTHER;
	snprintf(token, 80, AP_TOKEN_PREFIX "%s", hex);
	ap_auth_hash(cfg, token, hash);
	rc = ap_db_prepare_insert(db,
	    "INSERT INTO api_tokens (user_id, name, token_hash, scope, allow_cidr, created_at, expires_at) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?)",
	    "id", &st);
	if (rc == AP_DB_OK) {
		ap_db_bind_int64(st, 1, user_id);
		ap_db_bind_text(st, 2, name, -1);
		ap_db_bind_text(st, 3, hash, -1);
		ap_db_bind_text(st, 4, scope, -1);
		if (allow && allow[0])
			ap_db_bind_text(st, 5, allow, -1);
		else
			ap_db_bind_null(st, 5);
		ap_db_bind_int64(st, 6, now);
		if (expires_days > 0)
			ap_db_bind_int64(st, 7, now + (int64_t)expires_days * 86400);
		else
			ap_db_bind_null(st, 7);
		rc = ap_db_step(st);
		if (rc == AP_DB_DONE) {
			*id = ap_db_last_insert_id(st);
			rc = AP_DB_OK;
		}
	}
	ap_db_finalize(st);
	explicit_bzero(hex, sizeof(hex));
	return rc;
}

static const char token_cols[] =
    "t.id, t.user_id, u.username, t.name, t.scope, t.allow_cidr, t.created_at, t.expires_at, "
    "t.last_used_at, t.revoked_at, t.last_used_addr, u.role, u.disabled, u.totp_enabled, u.language";

static void
fill_token(struct ap_db_stmt *st, struct ap_token_row *t)
{
	memset(t, 0, sizeof(*t));
	t->id = ap_db_col_int64(st, 0);
	t->user_id = ap_db_col_int64(st, 1);
	copy_text(st, 2, t->username, sizeof(t->username));
	copy_text(st, 3, t->name, sizeof(t->name));
	copy_text(st, 4, t->scope, sizeof(t->scope));
	copy_text(st, 5, t->allow_cidr, sizeof(t->allow_cidr));
	t->created_at = ap_db_col_int64(st, 6);
	t->expires_at = ap_db_col_is_null(st, 7) ? 0 : ap_db_col_int64(st, 7);
	t->last_used_at = ap_db_col_is_null(st, 8) ? 0 : ap_db_col_int64(st, 8);
	t->revoked_at = ap_db_col_is_null(st, 9) ? 0 : ap_db_col_int64(st, 9);
	copy_text(st, 10, t->last_used_addr, sizeof(t->last_used_addr));
}

enum ap_db_rc
ap_token_auth(struct ap_db *db, const struct ap_config *cfg, const char *token, const char *addr,
    time_t now, struct ap_arena *a, struct ap_token_row *row, struct ap_user *user)
{
	struct ap_db_stmt *st = NULL;
	char hash[65], sql[512];
	enum ap_db_rc rc;
	bool usable;

	if (token == NULL || strncmp(token, AP_TOKEN_PREFIX, 4) != 0 || strlen(token) != 4 + 64)
		return AP_DB_ENOTFOUND;
	ap_auth_hash(cfg, token, hash);
	snprintf(sql, sizeof(sql),
	    "SELECT %s FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?", token_cols);
	rc = ap_db_prepare_cached(db, sql, &st);
	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_text(st, 1, hash, -1);
	rc = ap_db_step(st);
	if (rc != AP_DB_ROW) {
		ap_db_finalize(st);
		return rc == AP_DB_DONE ? AP_DB_ENOTFOUND : rc;
	}
	fill_token(st, row);
	user->id = row->user_id;
	user->username = ap_arena_strdup(a, row->username);
	{
		const char *t = ap_db_col_text(st, 11, NULL);
		user->role = ap_arena_strdup(a, t ? t : "");
		t = ap_db_col_text(st, 14, NULL);
		user->language = t ? ap_arena_strdup(a, t) : NULL;
	}
	user->totp_enabled = ap_db_col_int64(st, 13) != 0;
	usable = ap_db_col_int64(st, 12) == 0 && row->revoked_at == 0 &&
	    (row->expires_at == 0 || now < row->expires_at);
	ap_db_finalize(st);
	st = NULL;
	if (usable && row->allow_cidr[0]) {
		struct ap_cidr *nets = NULL;
		size_t nn = 0;
		char bad[64];

		usable = ap_cidr_list_parse(row->allow_cidr, &nets, &nn, bad, sizeof(bad)) &&
		    ap_cidr_list_match(nets, nn, addr);
		free(nets);
	}
	if (!usable)
		return AP_DB_ENOTFOUND;
	rc = ap_db_prepare_cached(db, "UPDATE api_tokens SET last_used_at = ?, last_used_addr = ? WHERE id = ?", &st);
	if (rc == AP_DB_OK) {
		ap_db_bind_int64(st, 1, now);
		ap_db_bind_text(st, 2, addr ? addr : "", -1);
		ap_db_bind_int64(st, 3, row->id);
		rc = ap_db_step(st);
		rc = rc == AP_DB_DONE ? AP_DB_OK : rc;
	}
	ap_db_finalize(st);
	return rc;
}

enum ap_db_rc
ap_token_revoke(struct ap_db *db, int64_t id, int64_t owner_id)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc = ap_db_prepare(db,
	    "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL AND (? = 0 OR user_id = ?)",
	    &st);

	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_int64(st, 1, time(NULL));
	ap_db_bind_int64(st, 2, id);
	ap_db_bind_int64(st, 3, owner_id);
	ap_db_bind_int64(st, 4, owner_id);
	rc = ap_db_step(st);
	if (rc == AP_DB_DONE)
		rc = ap_db_changes(st) > 0 ? AP_DB_OK : AP_DB_ENOTFOUND;
	ap_db_finalize(st);
	return rc;
}

enum ap_db_rc
ap_token_each(struct ap_db *db, int64_t user_id, bool (*fn)(void *ctx, const struct ap_token_row *t),
    void *ctx)
{
	struct ap_db_stmt *st = NULL;
	struct ap_token_row t;
	char sql[512];
	enum ap_db_rc rc;

	snprintf(sql, sizeof(sql),
	    "SELECT %s FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE (? = 0 OR t.user_id = ?) "
	    "ORDER BY t.id DESC",
	    token_cols);
	rc = ap_db_prepare(db, sql, &st);
	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_int64(st, 1, user_id);
	ap_db_bind_int64(st, 2, user_id);
	while ((rc = ap_db_step(st)) == AP_DB_ROW) {
		fill_token(st, &t);
		if (!fn(ctx, &t)) {
			rc = AP_DB_DONE;
			break;
		}
	}
	ap_db_finalize(st);
	return rc == AP_DB_DONE ? AP_DB_OK : rc;
}

enum ap_db_rc
ap_token_page(struct ap_db *db, int64_t user_id, const struct ap_token_filter *f, time_t now,
    int64_t before, int64_t limit, bool (*fn)(void *ctx, const struct ap_token_row *t), void *ctx,
    bool *more)
{
	const char *who = f && f->username && f->username[0] ? f->username : "";
	int64_t active = f ? f->active : -1;
	struct ap_db_stmt *st = NULL;
	struct ap_token_row t;
	char sql[768];
	int64_t n = 0;
	enum ap_db_rc rc;

	if (more)
		*more = false;
	if (limit < 1 || limit > 10000)
		return AP_DB_EINVAL;
	/* Usable: not revoked and not expired at now (what the gate accepts). */
	snprintf(sql, sizeof(sql),
	    "SELECT %s FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE (? = 0 OR t.user_id = ?) "
	    "AND (? = 0 OR t.id < ?) AND (? = '' OR u.username = ?) AND (? < 0 OR "
	    "(CASE WHEN t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > ?) THEN 1 ELSE 0 END) = ?) "
	    "ORDER BY t.id DESC LIMIT ?",
	    token_cols);
	if ((rc = ap_db_prepare(db, sql, &st)) != AP_DB_OK)
		return rc;
	if ((rc = ap_db_bind_int64(st, 1, user_id)) != AP_DB_OK ||
	    (rc = ap_db_bind_int64(st, 2, user_id)) != AP_DB_OK ||
	    (rc = ap_db_bind_int64(st, 3, before)) != AP_DB_OK ||
	    (rc = ap_db_bind_int64(st, 4, before)) != AP_DB_OK ||
	    (rc = ap_db_bind_text(st, 5, who, -1)) != AP_DB_OK ||
	    (rc = ap_db_bind_text(st, 6, who, -1)) != AP_DB_OK ||
	    (rc = ap_db_bind_int64(st, 7, active)) != AP_DB_OK ||
	    (rc = ap_db_bind_int64(st, 8, (int64_t)now)) != AP_DB_OK ||
	    (rc = ap_db_bind_int64(st, 9, active)) != AP_DB_OK ||
	    (rc = ap_db_bind_int64(st, 10, limit + 1)) != AP_DB_OK)
		goto out;
	while ((rc = ap_db_step(st)) == AP_DB_ROW) {
		/* One row more than the page: it only says that another page follows. */
		if (n++ == limit) {
			if (more)
				*more = true;
			rc = AP_DB_DONE;
			break;
		}
		fill_token(st, &t);
		if (!fn(ctx, &t)) {
			rc = AP_DB_DONE;
			break;
		}
	}
out:
	ap_db_finalize(st);
	return rc == AP_DB_DONE ? AP_DB_OK : rc;
}

/* ---------------------------------------------------------------- two-factor checks */

/* A TOTP code against the enrolled secret, moving the replay counter (users.h). */
