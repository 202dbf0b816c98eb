/*
 * twofactor.c — two-factor state of an account (users.h): the TOTP check
 * with replay protection, single-use recovery codes, and enrolment (a
 * pending secret kept until the first valid code turns it on, in one
 * transaction with ten fresh recovery codes).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "aapanel/auth.h"
#include "aapanel/log.h"
#include "aapanel/totp.h"
#include "aapanel/users.h"

enum ap_db_rc
ap_user_check_totp(struct ap_db *db, int64_t user_id, const char *code, bool *ok)
{
	struct ap_db_stmt *st = NULL;
	char secret[AP_TOTP_SECRET_LEN + 8] = "";
	int64_t last = 0, counter = 0;
	enum ap_db_rc rc;

	*ok = false;
	rc = ap_db_prepare(db,
	    "SELECT totp_secret, totp_last_counter FROM users WHERE id = ? AND totp_enabled = 1", &st);
	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_int64(st, 1, user_id);
	rc = ap_db_step(st);
	if (rc == AP_DB_ROW) {
		const char *t = ap_db_col_text(st, 0, NULL);

		snprintf(secret, sizeof(secret), "%s", t ? t : "");
		last = ap_db_col_int64(st, 1);
	}
	ap_db_finalize(st);
	st = NULL;
	if (rc != AP_DB_ROW) {
		rc = rc == AP_DB_DONE ? AP_DB_OK : rc;
		goto out;
	}
	rc = AP_DB_OK;
	if (!ap_totp_verify(secret, code, time(NULL), 1, last, &counter))
		goto out;
	rc = ap_db_prepare(db,
	    "UPDATE users SET totp_last_counter = ? WHERE id = ? AND totp_last_counter < ?", &st);
	if (rc != AP_DB_OK)
		goto out;
	ap_db_bind_int64(st, 1, counter);
	ap_db_bind_int64(st, 2, user_id);
	ap_db_bind_int64(st, 3, counter);
	rc = ap_db_step(st);
	*ok = rc == AP_DB_DONE && ap_db_changes(st) == 1;
	rc = rc == AP_DB_DONE ? AP_DB_OK : rc;
	ap_db_finalize(st);
out:
	explicit_bzero(secret, sizeof(secret));
	return rc;
}

/* Consume one unused recovery code of the user. */
enum ap_db_rc
ap_user_use_recovery_code(struct ap_db *db, const struct ap_config *cfg, int64_t user_id,
    const char *typed, bool *ok)
{
	struct ap_db_stmt *st = NULL;
	char norm[64], hash[65];
	enum ap_db_rc rc;

	*ok = false;
	ap_recovery_normalize(typed, norm, sizeof(norm));
	if (strlen(norm) != 12)
		return AP_DB_OK;
	ap_auth_hash(cfg, norm, hash);
	explicit_bzero(norm, sizeof(norm));
	rc = ap_db_prepare(db,
	    "UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL",
	    &st);
	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_int64(st, 1, time(NULL));
	ap_db_bind_int64(st, 2, user_id);
	ap_db_bind_text(st, 3, hash, -1);
	rc = ap_db_step(st);
	if (rc == AP_DB_DONE) {
		*ok = ap_db_changes(st) == 1;
		rc = AP_DB_OK;
	}
	ap_db_finalize(st);
	return rc;
}

enum ap_db_rc
ap_user_totp_state(struct ap_db *db, int64_t user_id, struct ap_totp_state *out)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc;

	memset(out, 0, sizeof(*out));
	rc = ap_db_prepare(db,
	    "SELECT totp_enabled, totp_pending_secret, "
	    "(SELECT COUNT(*) FROM recovery_codes r WHERE r.user_id = u.id AND r.used_at IS NULL) "
	    "FROM users u WHERE u.id = ?",
	    &st);
	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_int64(st, 1, user_id);
	rc = ap_db_step(st);
	if (rc == AP_DB_ROW) {
		const char *t = ap_db_col_text(st, 1, NULL);

		out->enabled = ap_db_col_int64(st, 0) != 0;
		if (t != NULL && strlen(t) == AP_TOTP_SECRET_LEN)
			memcpy(out->pending, t, AP_TOTP_SECRET_LEN + 1);
		out->recovery_left = ap_db_col_int64(st, 2);
		rc = AP_DB_OK;
	} else if (rc == AP_DB_DONE) {
		rc = AP_DB_ENOTFOUND;
	}
	ap_db_finalize(st);
	return rc;
}

enum ap_db_rc
ap_user_totp_pending_new(struct ap_db *db, int64_t user_id, char secret[AP_TOTP_SECRET_LEN + 1])
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc;

	if (ap_totp_new_secret(secret) != AP_OK) {
		AP_ERROR("two-factor: no random secret");
		return AP_DB_EOTHER;
	}
	rc = ap_db_prepare(db, "UPDATE users SET totp_pending_secret = ? WHERE id = ?", &st);
	if (rc != AP_DB_OK)
		goto out;
	ap_db_bind_text(st, 1, secret, -1);
	ap_db_bind_int64(st, 2, user_id);
	rc = ap_db_step(st);
	if (rc == AP_DB_DONE)
		rc = ap_db_changes(st) == 1 ? AP_DB_OK : AP_DB_ENOTFOUND;
	ap_db_finalize(st);
out:
	if (rc != AP_DB_OK)
		explicit_bzero(secret, AP_TOTP_SECRET_LEN + 1);
	return rc;
}

/* Store the hashes of new recovery codes (old ones go); inside the caller's transaction. */
static enum ap_db_rc
store_recovery_codes(struct ap_db *db, const struct ap_config *cfg, int64_t user_id,
    char codes[AP_RECOVERY_CODES][AP_RECOVERY_LEN + 1])
{
	struct ap_db_stmt *st = NULL;
	char norm[32], hash[65];
	enum ap_db_rc rc;

	rc = ap_db_prepare(db, "DELETE FROM recovery_codes WHERE user_id = ?", &st);
	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_int64(st, 1, user_id);
	rc = ap_db_step(st);
	ap_db_finalize(st);
	st = NULL;
	if (rc != AP_DB_DONE)
		return rc;
	rc = ap_db_prepare(db, "INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)", &st);
	if (rc != AP_DB_OK)
		return rc;
	for (int i = 0; i < AP_RECOVERY_CODES && rc == AP_DB_OK; i++) {
		/* Stored as typed at sign-in: normalized, then keyed-hashed. */
		ap_recovery_normalize(codes[i], norm, sizeof(norm));
		ap_auth_hash(cfg, norm, hash);
		ap_db_bind_int64(st, 1, user_id);
		ap_db_bind_text(st, 2, hash, -1);
		rc = ap_db_step(st);
		rc = rc == AP_DB_DONE ? AP_DB_OK : rc;
		ap_db_reset(st);
	}
	ap_db_finalize(st);
	explicit_bzero(norm, sizeof(norm));
	return rc;
}

/* In one transaction: the pending secret becomes the secret (if still off), new recovery codes. */
static enum ap_db_rc
enable_tx(struct ap_db *db, const struct ap_config *cfg, int64_t user_id, const char *secret,
    int64_t counter, time_t now, char codes[AP_RECOVERY_CODES][AP_RECOVERY_LEN + 1])
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc;

	if ((rc = ap_db_begin(db)) != AP_DB_OK)
		return rc;
	rc = ap_db_prepare(db,
	    "UPDATE users SET totp_secret = ?, totp_enabled = 1, totp_last_counter = ?, "
	    "totp_pending_secret = NULL, updated_at = ? WHERE id = ? AND totp_enabled = 0",
	    &st);
	if (rc == AP_DB_OK) {
		ap_db_bind_text(st, 1, secret, -1);
		ap_db_bind_int64(st, 2, counter);
		ap_db_bind_int64(st, 3, now);
		ap_db_bind_int64(st, 4, user_id);
		rc = ap_db_step(st);
		/* Two tabs racing: only one enables. */
		if (rc == AP_DB_DONE)
			rc = ap_db_changes(st) == 1 ? AP_DB_OK : AP_DB_ENOTFOUND;
		ap_db_finalize(st);
	}
	if (rc == AP_DB_OK)
		rc = store_recovery_codes(db, cfg, user_id, codes);
	if (rc == AP_DB_OK)
		rc = ap_db_commit(db);
	if (rc != AP_DB_OK)
		ap_db_rollback(db);
	return rc;
}

enum ap_db_rc
ap_user_totp_enable(struct ap_db *db, const struct ap_config *cfg, int64_t user_id, const char *code,
    time_t now, char codes[AP_RECOVERY_CODES][AP_RECOVERY_LEN + 1], struct ap_problem *pb)
{
	struct ap_totp_state ts;
	int64_t counter = 0;
	enum ap_db_rc rc;

	memset(codes, 0, sizeof(char[AP_RECOVERY_CODES][AP_RECOVERY_LEN + 1]));
	if ((rc = ap_user_totp_state(db, user_id, &ts)) != AP_DB_OK)
		goto out;
	if (ts.enabled) {
		ap_problem_set(pb, AP_PB_CONFLICT, "code", "two-factor authentication is already on");
		rc = AP_DB_EINVAL;
		goto out;
	}
	if (ts.pending[0] == '\0') {
		ap_problem_set(pb, AP_PB_CONFLICT, "code", "no enrolment in progress; scan the new QR code");
		rc = AP_DB_EINVAL;
		goto out;
	}
	if (!ap_totp_verify(ts.pending, code, now, 1, 0, &counter)) {
		ap_problem_set(pb, AP_PB_INVALID, "code", "is not valid; check the time on your device");
		rc = AP_DB_EINVAL;
		goto out;
	}
	if (ap_recovery_codes_new(codes) != AP_OK) {
		AP_ERROR("two-factor: no random recovery codes");
		rc = AP_DB_EOTHER;
		goto out;
	}
	rc = enable_tx(db, cfg, user_id, ts.pending, counter, now, codes);
	if (rc == AP_DB_ENOTFOUND) {
		ap_problem_set(pb, AP_PB_CONFLICT, "code", "two-factor authentication is already on");
		rc = AP_DB_EINVAL;
	}
out:
	if (rc != AP_DB_OK)
		memset(codes, 0, sizeof(char[AP_RECOVERY_CODES][AP_RECOVERY_LEN + 1]));
	explicit_bzero(&ts, sizeof(ts));
	return rc;
}

enum ap_db_rc
ap_user_totp_disable(struct ap_db *db, int64_t user_id, time_t now)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc;

	if ((rc = ap_db_begin(db)) != AP_DB_OK)
		return rc;
	rc = ap_db_prepare(db,
	    "UPDATE users SET totp_secret = NULL, totp_enabled = 0, totp_pending_secret = NULL, "
	    "totp_last_counter = 0, updated_at = ? WHERE id = ?",
	    &st);
	if (rc == AP_DB_OK) {
		ap_db_bind_int64(st, 1, now);
		ap_db_bind_int64(st, 2, user_id);
		rc = ap_db_step(st);
		rc = rc == AP_DB_DONE ? AP_DB_OK : rc;
		ap_db_finalize(st);
		st = NULL;
	}
	if (rc == AP_DB_OK && (rc = ap_db_prepare(db, "DELETE FROM recovery_codes WHERE user_id = ?",
				   &st)) == AP_DB_OK) {
		ap_db_bind_int64(st, 1, user_id);
		rc = ap_db_step(st);
		rc = rc == AP_DB_DONE ? AP_DB_OK : rc;
		ap_db_finalize(st);
	}
	if (rc == AP_DB_OK)
		rc = ap_db_commit(db);
	if (rc != AP_DB_OK)
		ap_db_rollback(db);
	return rc;
}

enum ap_db_rc
ap_user_recovery_regenerate(struct ap_db *db, const struct ap_config *cfg, int64_t user_id,
    char codes[AP_RECOVERY_CODES][AP_RECOVERY_LEN + 1])
{
	struct ap_totp_state ts;
	bool on;
	enum ap_db_rc rc;

	memset(codes, 0, sizeof(char[AP_RECOVERY_CODES][AP_RECOVERY_LEN + 1]));
	if ((rc = ap_user_totp_state(db, user_id, &ts)) != AP_DB_OK)
		return rc;
	on = ts.enabled;
	explicit_bzero(&ts, sizeof(ts));
	if (!on)
		return AP_DB_ENOTFOUND;
	if (ap_recovery_codes_new(codes) != AP_OK)
		return AP_DB_EOTHER;
	if ((rc = ap_db_begin(db)) != AP_DB_OK)
		goto out;
	rc = store_recovery_codes(db, cfg, user_id, codes);
	if (rc == AP_DB_OK)
		rc = ap_db_commit(db);
	if (rc != AP_DB_OK)
		ap_db_rollback(db);
out:
	if (rc != AP_DB_OK)
		memset(codes, 0, sizeof(char[AP_RECOVERY_CODES][AP_RECOVERY_LEN + 1]));
	return rc;
}
