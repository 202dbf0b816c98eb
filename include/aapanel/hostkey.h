/*
 * hostkey.h — the secret key every host of one database must share. Session
 * ids, API tokens and recovery codes are stored as HMACs keyed with
 * security.secret_key_file's key, so a host with another key silently
 * rejects what the others issued. The first host to start records a
 * fingerprint of its key in the database (panel_key, migration 0015): an
 * HMAC keyed with the key over a fixed label, never the key; every later
 * start compares its own.
 */
#ifndef AAPANEL_HOSTKEY_H
#define AAPANEL_HOSTKEY_H

#include <stddef.h>

#include "aapanel/db.h"

/* The fingerprint of key[0..len) as 64 lowercase hex digits into out. */
void ap_hostkey_fingerprint(const unsigned char *key, size_t len, char out[65]);

/*
 * Record the fingerprint of key if the database has none yet (host names
 * this host in the row), else compare. Two hosts recording at once: one
 * row wins (the primary key), the other compares with it.
 * Returns AP_DB_OK when the key is the recorded one (or was just
 * recorded); AP_DB_EINVAL when it is not, with why (a sentence naming
 * security.secret_key_file, which host recorded the other key and when);
 * else the database's error class, with why saying so.
 */
enum ap_db_rc ap_hostkey_check(struct ap_db *db, const unsigned char *key, size_t len,
    const char *host, char *why, size_t whylen);

/* Forget the recorded fingerprint (all hosts changing their key together):
 * the next host to start records its own. AP_DB_OK or the error class. */
enum ap_db_rc ap_hostkey_forget(struct ap_db *db);

#endif
