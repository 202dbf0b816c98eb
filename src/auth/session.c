/*
 * session.c — login sessions (auth.h). The cookie carries 256 random bits;
 * the table keeps only their HMAC with the panel's secret key, so a copy of
 * the database does not hand out live sessions.
 */
#include <stdio.h>
#include <string.h>

#include "aapanel/config.h"
#include "aapanel/auth.h"
#include "aapanel/crypto.h"
#include "aapanel/log.h"

void
ap_auth_hash(const struct ap_config *cfg, const char *value, char out[65])
{
	ap_hmac_sha256_hex(cfg->secret_key, cfg->secret_key_len, value, strlen(value), out);
}

static bool
hex_ok(const char *s, size_t n)
{
	size_t i;

	for (i = 0; s[i] && i <= n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return i == n;
}

/*
 * How stale a session's last_seen_at may be: it is written again when a
 * request comes this long after the last write (a tenth of the idle
 * timeout, 1 to 60 s), and a session ends only when it has not been seen
 * for the idle timeout plus this. So a session whose requests come less
 * than session.idle_timeout apart never idles out, and an unused one ends
 * between idle_timeout and idle_timeout + this after its last request.
 * regression: with a fixed minute between writes, a session with a
 * one-minute idle timeout ended while in use
 */
static int64_t
seen_slack(const struct ap_config *cfg)
{
	int64_t s = cfg->session_idle_timeout / 10;

	return s < 1 ? 1 : s > 60 ? 60 : s;
}

enum ap_db_rc
ap_session_create(struct ap_db *db, const struct ap_config *cfg, int64_t user_id, bool mfa_pending,
    const char *addr, const char *user_agent, char cookie[AP_SESSION_ID_HEX + 1],
    struct ap_session *out)
{
	struct ap_db_stmt *st = NULL;
	char hash[65], ua[256];
	time_t now = time(NULL);
	enum ap_db_rc rc;

	memset(out, 0, sizeof(*out));
	if (ap_random_hex(cookie, AP_SESSION_ID_HEX / 2) != AP_OK ||
	    ap_random_hex(out->csrf, AP_SESSION_ID_HEX / 2) != AP_OK)
		return AP_DB_EOTHER; /* getrandom failed */
	ap_auth_hash(cfg, cookie, hash);
	/* Keep the user agent short and printable: it is shown in the session list. */
	snprintf(ua, sizeof(ua), "%s", user_agent ? user_agent : "");
	if (!ap_utf8_valid(ua, strlen(ua)))
		ua[0] = '\0';
	rc = ap_db_prepare_insert(db,
	    "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, expires_at, "
	    "addr, user_agent, mfa_pending) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
	    "id", &st);
	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_text(st, 1, hash, -1);
	ap_db_bind_int64(st, 2, user_id);
	ap_db_bind_text(st, 3, out->csrf, -1);
	ap_db_bind_int64(st, 4, now);
	ap_db_bind_int64(st, 5, now);
	ap_db_bind_int64(st, 6, now + cfg->session_absolute_timeout);
	ap_db_bind_text(st, 7, addr ? addr : "", -1);
	ap_db_bind_text(st, 8, ua, -1);
	ap_db_bind_int64(st, 9, mfa_pending ? 1 : 0);
	rc = ap_db_step(st);
	if (rc == AP_DB_DONE) {
		out->id = ap_db_last_insert_id(st);
		out->user_id = user_id;
		out->created_at = out->last_seen_at = now;
		out->expires_at = now + cfg->session_absolute_timeout;
		out->mfa_pending = mfa_pending;
		rc = AP_DB_OK;
	}
	ap_db_finalize(st);
	return rc;
}

enum ap_db_rc
ap_session_delete(struct ap_db *db, int64_t session_id)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc = ap_db_prepare(db, "DELETE FROM sessions WHERE id = ?", &st);

	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_int64(st, 1, session_id);
	rc = ap_db_step(st);
	ap_db_finalize(st);
	return rc == AP_DB_DONE ? AP_DB_OK : rc;
}

enum ap_db_rc
ap_session_delete_own(struct ap_db *db, int64_t session_id, int64_t user_id)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc = ap_db_prepare(db, "DELETE FROM sessions WHERE id = ? AND user_id = ?", &st);

	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_int64(st, 1, session_id);
	ap_db_bind_int64(st, 2, user_id);
	rc = ap_db_step(st);
	if (rc == AP_DB_DONE)
		rc = ap_db_changes(st) > 0 ? AP_DB_OK : AP_DB_ENOTFOUND;
	ap_db_finalize(st);
	return rc;
}

enum ap_db_rc
ap_session_each_live(struct ap_db *db, const struct ap_config *cfg, int64_t user_id, time_t now,
    bool (*fn)(void *ctx, const struct ap_session_row *s), void *ctx)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc;

	rc = ap_db_prepare(db,
	    "SELECT id, created_at, last_seen_at, addr, user_agent FROM sessions "
	    "WHERE user_id = ? AND mfa_pending = 0 AND expires_at > ? AND last_seen_at > ? "
	    "ORDER BY last_seen_at DESC, id DESC",
	    &st);
	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_int64(st, 1, user_id);
	ap_db_bind_int64(st, 2, now);
	ap_db_bind_int64(st, 3, now - cfg->session_idle_timeout - seen_slack(cfg));
	while ((rc = ap_db_step(st)) == AP_DB_ROW) {
		struct ap_session_row r;
		const char *t;

		memset(&r, 0, sizeof(r));
		r.id = ap_db_col_int64(st, 0);
		r.created_at = ap_db_col_int64(st, 1);
		r.last_seen_at = ap_db_col_int64(st, 2);
		if ((t = ap_db_col_text(st, 3, NULL)) != NULL)
			snprintf(r.addr, sizeof(r.addr), "%s", t);
		if ((t = ap_db_col_text(st, 4, NULL)) != NULL)
			snprintf(r.user_agent, sizeof(r.user_agent), "%s", t);
		if (!fn(ctx, &r)) {
			rc = AP_DB_DONE;
			break;
		}
	}
	ap_db_finalize(st);
	return rc == AP_DB_DONE ? AP_DB_OK : rc;
}

enum ap_db_rc
ap_session_delete_user(struct ap_db *db, int64_t user_id, int64_t keep_id, int64_t *n)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc = ap_db_prepare(db, "DELETE FROM sessions WHERE user_id = ? AND id <> ?", &st);

	if (n)
		*n = 0;
	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_int64(st, 1, user_id);
	ap_db_bind_int64(st, 2, keep_id);
	rc = ap_db_step(st);
	if (rc == AP_DB_DONE && n)
		*n = ap_db_changes(st);
	ap_db_finalize(st);
	return rc == AP_DB_DONE ? AP_DB_OK : rc;
}

/*
 * The session id's hash, kept for the last cookie this process checked: a
 * worker mostly serves one browser's requests in a row, and the HMAC is 7 %
 * of a home page view. Compared in constant time, and only for the key it
 * was made with.
 */
static void
session_hash(const struct ap_config *cfg, const char *cookie, char hash[65])
{
	static char last_cookie[AP_SESSION_ID_HEX + 1], last_hash[65];
	static unsigned char last_key[64];
	static size_t last_keylen;

	if (last_keylen != 0 && last_keylen == cfg->secret_key_len &&
	    ap_ct_equal(last_key, cfg->secret_key, last_keylen) &&
	    ap_ct_equal(last_cookie, cookie, AP_SESSION_ID_HEX)) {
		memcpy(hash, last_hash, 65);
		return;
	}
	ap_auth_hash(cfg, cookie, hash);
	if (cfg->secret_key_len == 0 || cfg->secret_key_len > sizeof(last_key))
		return;
	memcpy(last_key, cfg->secret_key, cfg->secret_key_len);
	last_keylen = cfg->secret_key_len;
	memcpy(last_cookie, cookie, AP_SESSION_ID_HEX);
	last_cookie[AP_SESSION_ID_HEX] = '\0';
	memcpy(last_hash, hash, 65);
}

enum ap_db_rc
ap_session_lookup(struct ap_db *db, const struct ap_config *cfg, const char *cookie, time_t now,
    struct ap_arena *a, struct ap_session *out, struct ap_user *user)
{
	struct ap_db_stmt *st = NULL;
	char hash[65];
	enum ap_db_rc rc;
	const char *t;

	memset(out, 0, sizeof(*out));
	if (cookie == NULL || !hex_ok(cookie, AP_SESSION_ID_HEX))
		return AP_DB_ENOTFOUND;
	session_hash(cfg, cookie, hash);
	rc = ap_db_prepare_cached(db,
	    "SELECT s.id, s.user_id, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at, "
	    "s.mfa_pending, u.username, u.role, u.totp_enabled, u.language, u.disabled "
	    "FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?",
	    &st);
	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_text(st, 1, hash, -1);
	rc = ap_db_step(st);
	if (rc != AP_DB_ROW) {
		ap_db_finalize(st);
		return rc == AP_DB_DONE ? AP_DB_ENOTFOUND : rc;
	}
	out->id = ap_db_col_int64(st, 0);
	out->user_id = ap_db_col_int64(st, 1);
	snprintf(out->csrf, sizeof(out->csrf), "%s", (t = ap_db_col_text(st, 2, NULL)) ? t : "");
	out->created_at = ap_db_col_int64(st, 3);
	out->last_seen_at = ap_db_col_int64(st, 4);
	out->expires_at = ap_db_col_int64(st, 5);
	out->mfa_pending = ap_db_col_int64(st, 6) != 0;
	user->id = out->user_id;
	user->username = ap_arena_strdup(a, (t = ap_db_col_text(st, 7, NULL)) ? t : "");
	user->role = ap_arena_strdup(a, (t = ap_db_col_text(st, 8, NULL)) ? t : "");
	user->totp_enabled = ap_db_col_int64(st, 9) != 0;
	t = ap_db_col_text(st, 10, NULL);
	user->language = t ? ap_arena_strdup(a, t) : NULL;
	{
		bool disabled = ap_db_col_int64(st, 11) != 0;

		ap_db_finalize(st);
		st = NULL;
		if (disabled || now >= out->expires_at ||
		    now - out->last_seen_at >= cfg->session_idle_timeout + seen_slack(cfg)) {
			ap_session_delete(db, out->id);
			memset(out, 0, sizeof(*out));
			return AP_DB_ENOTFOUND;
		}
	}
	/* One write per seen_slack at most: enough for the idle timeout, cheap for the database. */
	if (now - out->last_seen_at >= seen_slack(cfg)) {
		rc = ap_db_prepare_cached(db, "UPDATE sessions SET last_seen_at = ? WHERE id = ?", &st);
		if (rc == AP_DB_OK) {
			ap_db_bind_int64(st, 1, now);
			ap_db_bind_int64(st, 2, out->id);
			rc = ap_db_step(st);
			ap_db_finalize(st);
			if (rc != AP_DB_DONE)
				return rc;
		} else
			return rc;
		out->last_seen_at = now;
	}
	return AP_DB_OK;
}

enum ap_db_rc
ap_session_rotate(struct ap_db *db, const struct ap_config *cfg, struct ap_session *s,
    bool mfa_pending, char cookie[AP_SESSION_ID_HEX + 1])
{
	struct ap_db_stmt *st = NULL;
	char hash[65], csrf[AP_SESSION_ID_HEX + 1];
	enum ap_db_rc rc;

	if (ap_random_hex(cookie, AP_SESSION_ID_HEX / 2) != AP_OK ||
	    ap_random_hex(csrf, AP_SESSION_ID_HEX / 2) != AP_OK)
		return AP_DB_EOTHER; /* getrandom failed */
	ap_auth_hash(cfg, cookie, hash);
	rc = ap_db_prepare(db,
	    "UPDATE sessions SET id_hash = ?, csrf_token = ?, mfa_pending = ?, last_seen_at = ? WHERE id = ?",
	    &st);
	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_text(st, 1, hash, -1);
	ap_db_bind_text(st, 2, csrf, -1);
	ap_db_bind_int64(st, 3, mfa_pending ? 1 : 0);
	ap_db_bind_int64(st, 4, time(NULL));
	ap_db_bind_int64(st, 5, s->id);
	rc = ap_db_step(st);
	ap_db_finalize(st);
	if (rc != AP_DB_DONE)
		return rc;
	memcpy(s->csrf, csrf, sizeof(csrf));
	s->mfa_pending = mfa_pending;
	return AP_DB_OK;
}

/* ---------------------------------------------------------------- login throttling */

/* Failures since the last success for one key column, and the newest failure time. */
static enum ap_db_rc
failures(struct ap_db *db, const char *sql, const char *key, int64_t self, int64_t *n, int64_t *last)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc = ap_db_prepare(db, sql, &st);

	*n = 0;
	*last = 0;
	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_text(st, 1, key, -1);
	ap_db_bind_text(st, 2, key, -1);
	ap_db_bind_int64(st, 3, self);
	rc = ap_db_step(st);
	if (rc == AP_DB_ROW) {
		*n = ap_db_col_int64(st, 0);
		*last = ap_db_col_is_null(st, 1) ? 0 : ap_db_col_int64(st, 1);
		rc = AP_DB_OK;
	}
	ap_db_finalize(st);
	return rc == AP_DB_OK || rc == AP_DB_DONE ? AP_DB_OK : rc;
}

static int64_t
backoff(int64_t fails, int threshold, int64_t last, time_t now)
{
	int64_t delay, until;

	if (fails < threshold)
		return 0;
	delay = fails - threshold >= 10 ? 900 : (int64_t)1 << (fails - threshold);
	if (delay > 900)
		delay = 900;
	until = last + delay;
	return until > now ? until - now : 0;
}

/*
 * The per-address rule: at most auth.address_threshold failures from addr in
 * any auth.address_window seconds, whatever the accounts and whatever
 * succeeded in between. regression: a success for any account cleared the
 * failures counted for its address, so one account holder could spray
 * passwords at every other account. Over the limit: wait until enough of
 * the failures have left the window.
 */
static enum ap_db_rc
address_wait(struct ap_db *db, const struct ap_config *cfg, const char *addr, time_t now, int64_t self,
    int64_t *wait_s)
{
	struct ap_db_stmt *st = NULL;
	int64_t since = now - cfg->address_window, n = 0, at = 0;
	enum ap_db_rc rc;

	*wait_s = 0;
	rc = ap_db_prepare(db,
	    "SELECT COUNT(*) FROM login_attempts WHERE addr = ? AND success = 0 AND at > ? AND id <> ?", &st);
	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_text(st, 1, addr, -1);
	ap_db_bind_int64(st, 2, since);
	ap_db_bind_int64(st, 3, self);
	rc = ap_db_step(st);
	if (rc == AP_DB_ROW)
		n = ap_db_col_int64(st, 0);
	ap_db_finalize(st);
	if (rc != AP_DB_ROW)
		return rc == AP_DB_DONE ? AP_DB_EOTHER : rc;
	if (n < cfg->address_threshold)
		return AP_DB_OK;
	/* The failure whose leaving brings the count below the threshold. */
	rc = ap_db_prepare(db,
	    "SELECT at FROM login_attempts WHERE addr = ? AND success = 0 AND at > ? AND id <> ? "
	    "ORDER BY at, id LIMIT 1 OFFSET ?",
	    &st);
	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_text(st, 1, addr, -1);
	ap_db_bind_int64(st, 2, since);
	ap_db_bind_int64(st, 3, self);
	ap_db_bind_int64(st, 4, n - cfg->address_threshold);
	rc = ap_db_step(st);
	if (rc == AP_DB_ROW)
		at = ap_db_col_int64(st, 0);
	ap_db_finalize(st);
	if (rc != AP_DB_ROW && rc != AP_DB_DONE)
		return rc;
	/* Gone meanwhile (another worker's attempt aged out): one second, then ask again. */
	*wait_s = rc == AP_DB_ROW && at + cfg->address_window > now ? at + cfg->address_window - now : 1;
	return AP_DB_OK;
}

enum ap_db_rc
ap_login_throttle(struct ap_db *db, const struct ap_config *cfg, const char *username,
    const char *addr, time_t now, int64_t self, int64_t *wait_s)
{
	static const char by_user[] =
	    "SELECT COUNT(*), MAX(at) FROM login_attempts WHERE username = ? AND success = 0 AND "
	    "at > COALESCE((SELECT MAX(at) FROM login_attempts WHERE username = ? AND success = 1), 0) "
	    "AND id <> ?";
	struct ap_db_stmt *st = NULL;
	int64_t n = 0, last = 0, w1, w2, hour = 0, oldest = 0;
	enum ap_db_rc rc;

	*wait_s = 0;
	rc = failures(db, by_user, username, self, &n, &last);
	if (rc != AP_DB_OK)
		return rc;
	w1 = backoff(n, cfg->lockout_threshold, last, now);
	rc = address_wait(db, cfg, addr, now, self, &w2);
	if (rc != AP_DB_OK)
		return rc;
	*wait_s = w1 > w2 ? w1 : w2;
	/* The hard hourly cap per account, whatever the address. */
	rc = ap_db_prepare(db,
	    "SELECT COUNT(*), MIN(at) FROM login_attempts WHERE username = ? AND success = 0 AND at > ? "
	    "AND id <> ?",
	    &st);
	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_text(st, 1, username, -1);
	ap_db_bind_int64(st, 2, now - 3600);
	ap_db_bind_int64(st, 3, self);
	rc = ap_db_step(st);
	if (rc == AP_DB_ROW) {
		hour = ap_db_col_int64(st, 0);
		oldest = ap_db_col_is_null(st, 1) ? now : ap_db_col_int64(st, 1);
	}
	ap_db_finalize(st);
	/* regression: a failing query here let every attempt through (fail closed) */
	if (rc != AP_DB_ROW)
		return rc == AP_DB_DONE ? AP_DB_EOTHER : rc;
	if (hour >= cfg->max_failures_per_hour && oldest + 3600 - now > *wait_s)
		*wait_s = oldest + 3600 - now;
	return AP_DB_OK;
}

enum ap_db_rc
ap_login_record(struct ap_db *db, const char *username, const char *addr, time_t now, bool success)
{
	int64_t id = 0;
	enum ap_db_rc rc = ap_login_attempt_begin(db, username, addr, now, &id);

	if (rc == AP_DB_OK && success)
		rc = ap_login_attempt_finish(db, id, true);
	return rc;
}

enum ap_db_rc
ap_login_attempt_begin(struct ap_db *db, const char *username, const char *addr, time_t now, int64_t *id)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc = ap_db_prepare_insert(db,
	    "INSERT INTO login_attempts (username, addr, at, success) VALUES (?, ?, ?, 0)", "id", &st);

	*id = 0;
	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_text(st, 1, username, -1);
	ap_db_bind_text(st, 2, addr ? addr : "", -1);
	ap_db_bind_int64(st, 3, now);
	rc = ap_db_step(st);
	if (rc == AP_DB_DONE) {
		*id = ap_db_last_insert_id(st);
		rc = AP_DB_OK;
	}
	ap_db_finalize(st);
	return rc;
}

enum ap_db_rc
ap_login_attempt_withdraw(struct ap_db *db, int64_t id)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc = ap_db_prepare(db, "DELETE FROM login_attempts WHERE id = ? AND success = 0", &st);

	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_int64(st, 1, id);
	rc = ap_db_step(st);
	ap_db_finalize(st);
	return rc == AP_DB_DONE ? AP_DB_OK : rc;
}

enum ap_db_rc
ap_login_attempt_finish(struct ap_db *db, int64_t id, bool success)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc = ap_db_prepare(db, "UPDATE login_attempts SET success = ? WHERE id = ?", &st);

	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_int64(st, 1, success ? 1 : 0);
	ap_db_bind_int64(st, 2, id);
	rc = ap_db_step(st);
	if (rc == AP_DB_DONE)
		rc = ap_db_changes(st) == 1 ? AP_DB_OK : AP_DB_ENOTFOUND;
	ap_db_finalize(st);
	return rc;
}
