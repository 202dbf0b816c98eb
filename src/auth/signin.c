/*
 * signin.c — checking what a person types to sign in (users.h): the
 * password, then the second factor. Both are throttled and recorded the
 * same way wherever they are asked for (the sign-in form, re-entering a
 * password to change it or to turn two-factor off), so a stolen session
 * cannot guess faster than a stranger.
 */
#include <stdlib.h>
#include <string.h>

#include "aapanel/auth.h"
#include "aapanel/password.h"
#include "aapanel/users.h"

/*
 * Every attempt is recorded before it is checked and finished after, the
 * same two writes whether it was right or wrong. regression: a failure to
 * record was ignored, so with a database that cannot write no throttle
 * applied, and a right password (500 from the session insert) answered
 * differently from a wrong one (401). Now an attempt that cannot be
 * recorded is refused before the password is looked at: the same error,
 * in the same time, for every password.
 */
/*
 * The attempt is recorded first, then the throttle counts every other one —
 * those still being checked on any worker of any host included. regression
 * (issue 19): the count was read, the password checked (tens of ms), and
 * only then the attempt recorded, so N guesses sent at once all saw the old
 * count and got through per lockout step as many times as there were
 * workers. Now of N at once, each sees at least those recorded before it.
 * An attempt the throttle refuses is withdrawn: waiting does not lengthen
 * the wait.
 */
static enum ap_db_rc
reserve(struct ap_db *db, const struct ap_config *cfg, const char *username, const char *addr, time_t now,
    int64_t *attempt, int64_t *wait_s)
{
	/* Committed at once, outside the request's unit of work: the other
	 * workers and hosts must count it while this password is checked. */
	bool paused = ap_db_unit_pause(db), began;
	enum ap_db_rc rc;

	*wait_s = 0;
	/* One at a time on every host (login_gate, migration 0015): recorded and
	 * counted under the row's lock, so an attempt never misses one recorded
	 * before it, nor two refuse each other (each counting the other and both
	 * withdrawn). regression (issue 19): 12 guesses at once over two hosts on
	 * PostgreSQL got 5 checked with lockout_threshold 3 */
	began = ap_db_begin(db) == AP_DB_OK;
	rc = ap_db_exec(db, "UPDATE login_gate SET attempts = attempts + 1 WHERE id = 1");
	if (rc == AP_DB_OK)
		rc = ap_login_attempt_begin(db, username, addr, now, attempt);
	if (rc == AP_DB_OK)
		rc = ap_login_throttle(db, cfg, username, addr ? addr : "", now, *attempt, wait_s);
	if (rc == AP_DB_OK && *wait_s > 0)
		rc = ap_login_attempt_withdraw(db, *attempt);
	if (began)
		rc = rc == AP_DB_OK ? ap_db_commit(db) : (ap_db_rollback(db), rc);
	else if (rc == AP_DB_OK)
		rc = AP_DB_EOTHER; /* no transaction: not counted, not checked (fail closed) */
	ap_db_unit_resume(db, paused);
	return rc;
}

enum ap_db_rc
ap_signin_password(struct ap_db *db, const struct ap_config *cfg, const char *username,
    const char *password, const char *addr, time_t now, struct ap_signin *res)
{
	struct ap_pw_params prm;
	char *hash = NULL;
	bool rehash = false;
	int64_t attempt = 0;
	enum ap_db_rc rc;

	memset(res, 0, sizeof(*res));
	rc = reserve(db, cfg, username, addr, now, &attempt, &res->wait_s);
	if (rc != AP_DB_OK || res->wait_s > 0)
		return rc;
	ap_user_pw_params(cfg, &prm);
	rc = ap_user_find(db, username, &res->user, &hash);
	if (rc == AP_DB_OK && !res->user.disabled)
		res->ok = ap_pw_verify(password, hash, &prm, &rehash);
	else if (rc == AP_DB_OK || rc == AP_DB_ENOTFOUND)
		ap_pw_verify_dummy(password, &prm); /* same time for unknown and disabled users */
	free(hash);
	if (rc != AP_DB_OK && rc != AP_DB_ENOTFOUND) {
		res->ok = false;
		memset(&res->user, 0, sizeof(res->user));
		return rc;
	}
	rc = ap_login_attempt_finish(db, attempt, res->ok);
	if (rc != AP_DB_OK || !res->ok) {
		res->ok = false;
		memset(&res->user, 0, sizeof(res->user));
		return rc;
	}
	if (rehash) {
		char *nh = NULL;

		/* The cost was raised since this hash was made: store one at today's cost. */
		if (ap_pw_hash(password, &prm, &nh) == AP_OK)
			ap_user_store_hash(db, res->user.id, nh);
		free(nh);
	}
	return AP_DB_OK;
}

enum ap_db_rc
ap_signin_code(struct ap_db *db, const struct ap_config *cfg, int64_t user_id, const char *username,
    const char *code, const char *addr, time_t now, struct ap_signin *res)
{
	int64_t attempt = 0;
	enum ap_db_rc rc;

	memset(res, 0, sizeof(*res));
	/* Codes are throttled like passwords (six digits are guessable otherwise),
	 * and reserved first, like a password: a code the database cannot count is
	 * not checked. */
	rc = reserve(db, cfg, username, addr, now, &attempt, &res->wait_s);
	if (rc != AP_DB_OK || res->wait_s > 0)
		return rc;
	if (strlen(code) == 6) {
		rc = ap_user_check_totp(db, user_id, code, &res->ok);
	} else {
		rc = ap_user_use_recovery_code(db, cfg, user_id, code, &res->ok);
		res->recovery = res->ok;
	}
	if (rc == AP_DB_OK)
		rc = ap_login_attempt_finish(db, attempt, res->ok);
	if (rc != AP_DB_OK) {
		res->ok = res->recovery = false;
		return rc;
	}
	return AP_DB_OK;
}
