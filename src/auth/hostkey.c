/* hostkey.c — the fingerprint of the secret key the hosts share (hostkey.h). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "aapanel/crypto.h"
#include "aapanel/hostkey.h"

/* Versioned, so a later scheme can tell its rows apart. */
static const char fp_label[] = "aapanel secret key fingerprint v1";

void
ap_hostkey_fingerprint(const unsigned char *key, size_t len, char out[65])
{
	ap_hmac_sha256_hex(key, len, fp_label, sizeof(fp_label) - 1, out);
}

struct recorded {
	char fp[65];
	char by[256];
	int64_t at;
	bool found;
};

static enum ap_db_rc
read_recorded(struct ap_db *db, struct recorded *r)
{
	struct ap_db_stmt *st = NULL;
	const char *s;
	enum ap_db_rc rc;

	memset(r, 0, sizeof(*r));
	rc = ap_db_prepare(db, "SELECT fingerprint, recorded_by, recorded_at FROM panel_key WHERE id = 1",
	    &st);
	if (rc != AP_DB_OK)
		return rc;
	rc = ap_db_step(st);
	if (rc == AP_DB_ROW) {
		r->found = true;
		s = ap_db_col_text(st, 0, NULL);
		snprintf(r->fp, sizeof(r->fp), "%s", s ? s : "");
		s = ap_db_col_text(st, 1, NULL);
		snprintf(r->by, sizeof(r->by), "%s", s ? s : "");
		r->at = ap_db_col_int64(st, 2);
		rc = AP_DB_OK;
	} else if (rc == AP_DB_DONE)
		rc = AP_DB_OK;
	ap_db_finalize(st);
	return rc;
}

static enum ap_db_rc
record(struct ap_db *db, const char *fp, const char *host)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc;

	rc = ap_db_prepare(db,
	    "INSERT INTO panel_key (id, fingerprint, recorded_by, recorded_at) VALUES (1, ?, ?, ?)", &st);
	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_text(st, 1, fp, 64);
	ap_db_bind_text(st, 2, host, -1);
	ap_db_bind_int64(st, 3, (int64_t)time(NULL));
	rc = ap_db_step(st);
	ap_db_finalize(st);
	return rc == AP_DB_DONE ? AP_DB_OK : rc;
}

enum ap_db_rc
ap_hostkey_check(struct ap_db *db, const unsigned char *key, size_t len, const char *host,
    char *why, size_t whylen)
{
	struct recorded r;
	char fp[65], when[32] = "?";
	struct tm tm;
	time_t t;
	enum ap_db_rc rc;

	snprintf(why, whylen, "%s", "");
	ap_hostkey_fingerprint(key, len, fp);
	if ((rc = read_recorded(db, &r)) != AP_DB_OK)
		goto dberr;
	if (!r.found) {
		rc = record(db, fp, host && host[0] ? host : "unknown");
		if (rc == AP_DB_OK)
			return AP_DB_OK;
		/* Another host recorded one first: compare with it. */
		if (rc != AP_DB_ECONSTRAINT || (rc = read_recorded(db, &r)) != AP_DB_OK || !r.found)
			goto dberr;
	}
	if (ap_ct_streq(fp, r.fp))
		return AP_DB_OK;
	t = (time_t)r.at;
	if (gmtime_r(&t, &tm) != NULL)
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	snprintf(why, whylen,
	    "security.secret_key_file: this host's secret key is not the one the other hosts of "
	    "this database use (recorded by %s at %s); every host must use the same secret key "
	    "file (docs/operations.md), else it cannot read their sessions and tokens; not starting",
	    r.by, when);
	return AP_DB_EINVAL;
dberr:
	snprintf(why, whylen, "reading the secret key's fingerprint (panel_key): %s (%s)",
	    ap_db_errmsg(db), ap_db_rc_str(rc));
	return rc;
}

enum ap_db_rc
ap_hostkey_forget(struct ap_db *db)
{
	return ap_db_exec(db, "DELETE FROM panel_key WHERE id = 1");
}
