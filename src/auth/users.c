/* users.c — panel accounts and API tokens (users.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aapanel/config.h"
#include "aapanel/auth.h"
#include "aapanel/log.h"
#include "aapanel/netaddr.h"
#include "aapanel/password.h"
#include "aapanel/totp.h"
#include "aapanel/users.h"

bool
ap_username_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n < 3 || n > 32)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			(i > 0 && (c == '_' || c == '.' || c == '-'))))
			return false;
	}
	return true;
}

void
ap_user_pw_params(const struct ap_config *cfg, void *params)
{
	struct ap_pw_params *p = params;

	p->m_kib = (uint32_t)cfg->argon2_memory_kib;
	p->t = (uint32_t)cfg->argon2_iterations;
	p->p = (uint32_t)cfg->argon2_parallelism;
}

static void
copy_text(struct ap_db_stmt *st, int col, char *dst, size_t n)
{
	const char *t = ap_db_col_text(st, col, NULL);

	snprintf(dst, n, "%s", t ? t : "");
}

enum ap_db_rc
ap_user_create(struct ap_db *db, const struct ap_config *cfg, const char *name, const char *role,
    const char *password, int64_t *id, struct ap_problem *pb)
{
	struct ap_pw_params prm;
	struct ap_db_stmt *st = NULL;
	char *hash = NULL;
	time_t now = time(NULL);
	enum ap_db_rc rc;

	if (!ap_username_valid(name)) {
		ap_problem_set(pb, AP_PB_INVALID, "username",
		    "must be 3 to 32 of a-z, 0-9, _ . - starting with a letter or digit");
		return AP_DB_EINVAL;
	}
	if (!ap_role_valid(role)) {
		ap_problem_set(pb, AP_PB_INVALID, "role", "must be admin, operator or viewer");
		return AP_DB_EINVAL;
	}
	if (!ap_pw_check_policy(password, name, (size_t)cfg->password_min_length, "password", pb))
		return AP_DB_EINVAL;
	ap_user_pw_params(cfg, &prm);
	if (ap_pw_hash(password, &prm, &hash) != AP_OK) {
		ap_problem_set(pb, AP_PB_INTERNAL, NULL, "password hashing failed");
		return AP_DB_EOTHER;
	}
	rc = ap_db_prepare_insert(db,
	    "INSERT INTO users (username, password_hash, role, disabled, created_at, updated_at, "
	    "password_changed_at) VALUES (?, ?, ?, 0, ?, ?, ?)",
	    "id", &st);
	if (rc == AP_DB_OK) {
		ap_db_bind_text(st, 1, name, -1);
		ap_db_bind_text(st, 2, hash, -1);
		ap_db_bind_text(st, 3, role, -1);
		ap_db_bind_int64(st, 4, now);
		ap_db_bind_int64(st, 5, now);
		ap_db_bind_int64(st, 6, now);
		rc = ap_db_step(st);
		if (rc == AP_DB_DONE) {
			*id = ap_db_last_insert_id(st);
			rc = AP_DB_OK;
		} else if (rc == AP_DB_ECONSTRAINT)
			ap_problem_set(pb, AP_PB_EXISTS, "username", "a user with this name already exists");
	}
	ap_db_finalize(st);
	explicit_bzero(hash, strlen(hash));
	free(hash);
	return rc;
}

static const char user_cols[] =
    "id, username, role, disabled, totp_enabled, created_at, last_login_at, last_login_addr, password_hash";

static void
fill_user(struct ap_db_stmt *st, struct ap_user_row *u)
{
	memset(u, 0, sizeof(*u));
	u->id = ap_db_col_int64(st, 0);
	copy_text(st, 1, u->username, sizeof(u->username));
	copy_text(st, 2, u->role, sizeof(u->role));
	u->disabled = ap_db_col_int64(st, 3) != 0;
	u->totp_enabled = ap_db_col_int64(st, 4) != 0;
	u->created_at = ap_db_col_int64(st, 5);
	u->last_login_at = ap_db_col_is_null(st, 6) ? 0 : ap_db_col_int64(st, 6);
	copy_text(st, 7, u->last_login_addr, sizeof(u->last_login_addr));
}

static enum ap_db_rc
get_one(struct ap_db *db, const char *where, const char *s, int64_t i, struct ap_user_row *out,
    char **password_hash)
{
	struct ap_db_stmt *st = NULL;
	char sql[512];
	enum ap_db_rc rc;

	snprintf(sql, sizeof(sql), "SELECT %s FROM users WHERE %s", user_cols, where);
	rc = ap_db_prepare(db, sql, &st);
	if (rc != AP_DB_OK)
		return rc;
	if (s)
		ap_db_bind_text(st, 1, s, -1);
	else
		ap_db_bind_int64(st, 1, i);
	rc = ap_db_step(st);
	if (rc == AP_DB_ROW) {
		fill_user(st, out);
		if (password_hash) {
			const char *h = ap_db_col_text(st, 8, NULL);
			*password_hash = ap_xstrdup(h ? h : "");
		}
		rc = AP_DB_OK;
	} else if (rc == AP_DB_DONE)
		rc = AP_DB_ENOTFOUND;
	ap_db_finalize(st);
	return rc;
}

enum ap_db_rc
ap_user_find(struct ap_db *db, const char *name, struct ap_user_row *out, char **password_hash)
{
	return get_one(db, "username = ?", name, 0, out, password_hash);
}

enum ap_db_rc
ap_user_get(struct ap_db *db, int64_t id, struct ap_user_row *out)
{
	return get_one(db, "id = ?", NULL, id, out, NULL);
}

/* Run an UPDATE with an int64 id as the last bind; ENOTFOUND when no row matched. */
static enum ap_db_rc
update_one(struct ap_db *db, const char *sql, const char *s1, int64_t i1, bool has_i1, int64_t id)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc = ap_db_prepare(db, sql, &st);
	int k = 1;

	if (rc != AP_DB_OK)
		return rc;
	if (s1)
		ap_db_bind_text(st, k++, s1, -1);
	if (has_i1)
		ap_db_bind_int64(st, k++, i1);
	ap_db_bind_int64(st, k, id);
	rc = ap_db_step(st);
	if (rc == AP_DB_DONE)
		rc = ap_db_changes(st) > 0 ? AP_DB_OK : AP_DB_ENOTFOUND;
	ap_db_finalize(st);
	return rc;
}

enum ap_db_rc
ap_user_store_hash(struct ap_db *db, int64_t id, const char *hash)
{
	return update_one(db, "UPDATE users SET password_hash = ? WHERE id = ?", hash, 0, false, id);
}

enum ap_db_rc
ap_user_set_password(struct ap_db *db, const struct ap_config *cfg, int64_t id,
    const char *username, const char *password, struct ap_problem *pb)
{
	struct ap_pw_params prm;
	char *hash = NULL;
	enum ap_db_rc rc;

	if (!ap_pw_check_policy(password, username, (size_t)cfg->password_min_length, "password", pb))
		return AP_DB_EINVAL;
	ap_user_pw_params(cfg, &prm);
	if (ap_pw_hash(password, &prm, &hash) != AP_OK) {
		ap_problem_set(pb, AP_PB_INTERNAL, NULL, "password hashing failed");
		return AP_DB_EOTHER;
	}
	{
		struct ap_db_stmt *st = NULL;
		time_t now = time(NULL);

		rc = ap_db_prepare(db,
		    "UPDATE users SET password_hash = ?, password_changed_at = ?, updated_at = ? WHERE id = ?",
		    &st);
		if (rc == AP_DB_OK) {
			ap_db_bind_text(st, 1, hash, -1);
			ap_db_bind_int64(st, 2, now);
			ap_db_bind_int64(st, 3, now);
			ap_db_bind_int64(st, 4, id);
			rc = ap_db_step(st);
			if (rc == AP_DB_DONE)
				rc = ap_db_changes(st) > 0 ? AP_DB_OK : AP_DB_ENOTFOUND;
		}
		ap_db_finalize(st);
	}
	explicit_bzero(hash, strlen(hash));
	free(hash);
	return rc;
}

enum ap_db_rc
ap_user_set_disabled(struct ap_db *db, int64_t id, bool disabled)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc;

	if (!disabled)
		return update_one(db, "UPDATE users SET disabled = 0 WHERE id = ?", NULL, 0, false, id);
	/* Disabling revokes the user's API tokens (enabling does not bring them
	 * back): a token that leaked while the account was in use must not come
	 * back to life with it. */
	if ((rc = ap_db_begin(db)) != AP_DB_OK)
		return rc;
	rc = update_one(db, "UPDATE users SET disabled = 1 WHERE id = ?", NULL, 0, false, id);
	if (rc == AP_DB_OK)
		rc = ap_db_prepare(db, "UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
		    &st);
	if (rc == AP_DB_OK) {
		ap_db_bind_int64(st, 1, time(NULL));
		ap_db_bind_int64(st, 2, id);
		rc = ap_db_step(st);
		rc = rc == AP_DB_DONE ? AP_DB_OK : rc;
	}
	ap_db_finalize(st);
	if (rc == AP_DB_OK)
		return ap_db_commit(db);
	ap_db_rollback(db);
	return rc;
}

enum ap_db_rc
ap_user_set_role(struct ap_db *db, int64_t id, const char *role)
{
	if (!ap_role_valid(role))
		return AP_DB_EINVAL;
	return update_one(db, "UPDATE users SET role = ? WHERE id = ?", role, 0, false, id);
}

enum ap_db_rc
ap_user_record_login(struct ap_db *db, int64_t id, const char *addr, time_t now)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc = ap_db_prepare(db,
	    "UPDATE users SET last_login_at = ?, last_login_addr = ? WHERE id = ?", &st);

	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_int64(st, 1, now);
	ap_db_bind_text(st, 2, addr ? addr : "", -1);
	ap_db_bind_int64(st, 3, id);
	rc = ap_db_step(st);
	ap_db_finalize(st);
	return rc == AP_DB_DONE ? AP_DB_OK : rc;
}

enum ap_db_rc
ap_user_each(struct ap_db *db, bool (*fn)(void *ctx, const struct ap_user_row *u), void *ctx)
{
	struct ap_db_stmt *st = NULL;
	struct ap_user_row u;
	char sql[256];
	enum ap_db_rc rc;

	snprintf(sql, sizeof(sql), "SELECT %s FROM users ORDER BY username", user_cols);
	rc = ap_db_prepare(db, sql, &st);
	if (rc != AP_DB_OK)
		return rc;
	while ((rc = ap_db_step(st)) == AP_DB_ROW) {
		fill_user(st, &u);
		if (!fn(ctx, &u)) {
			rc = AP_DB_DONE;
			break;
		}
	}
	ap_db_finalize(st);
	return rc == AP_DB_DONE ? AP_DB_OK : rc;
}

enum ap_db_rc
ap_user_page(struct ap_db *db, const struct ap_user_filter *f, int64_t after, int64_t limit,
    bool (*fn)(void *ctx, const struct ap_user_row *u), void *ctx, bool *more)
{
	const char *role = f && f->role && f->role[0] ? f->role : "";
	int64_t disabled = f ? f->disabled : -1;
	struct ap_db_stmt *st = NULL;
	struct ap_user_row u;
	char sql[384];
	int64_t n = 0;
	enum ap_db_rc rc;

	if (more)
		*more = false;
	if (limit < 1 || limit > 10000)
		return AP_DB_EINVAL;
	/* One row more than the page: it only says that another page follows. */
	snprintf(sql, sizeof(sql),
	    "SELECT %s FROM users WHERE id > ? AND (? = '' OR role = ?) AND (? < 0 OR disabled = ?) "
	    "ORDER BY id LIMIT ?", user_cols);
	if ((rc = ap_db_prepare(db, sql, &st)) != AP_DB_OK)
		return rc;
	if ((rc = ap_db_bind_int64(st, 1, after)) != AP_DB_OK ||
	    (rc = ap_db_bind_text(st, 2, role, -1)) != AP_DB_OK ||
	    (rc = ap_db_bind_text(st, 3, role, -1)) != AP_DB_OK ||
	    (rc = ap_db_bind_int64(st, 4, disabled)) != AP_DB_OK ||
	    (rc = ap_db_bind_int64(st, 5, disabled)) != AP_DB_OK ||
	    (rc = ap_db_bind_int64(st, 6, limit + 1)) != AP_DB_OK)
		goto out;
	while ((rc = ap_db_step(st)) == AP_DB_ROW) {
		if (n++ == limit) {
			if (more)
				*more = true;
			rc = AP_DB_DONE;
			break;
		}
		fill_user(st, &u);
		if (!fn(ctx, &u)) {
			rc = AP_DB_DONE;
			break;
		}
	}
out:
	ap_db_finalize(st);
	return rc == AP_DB_DONE ? AP_DB_OK : rc;
}

enum ap_db_rc
ap_user_count(struct ap_db *db, int64_t *n)
{
	return ap_db_query_int64(db, "SELECT COUNT(*) FROM users", n);
}

enum ap_db_rc
ap_user_count_without_2fa(struct ap_db *db, int64_t *n)
{
	return ap_db_query_int64(db, "SELECT COUNT(*) FROM users WHERE totp_enabled = 0 AND disabled = 0", n);
}

enum ap_db_rc
ap_user_set_language(struct ap_db *db, int64_t id, const char *lang)
{
	return update_one(db, "UPDATE users SET language = ? WHERE id = ?", lang, 0, false, id);
}
