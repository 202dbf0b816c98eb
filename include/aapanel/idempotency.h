/*
 * idempotency.h — a create sent again with the same Idempotency-Key
 * answers what the first one answered, instead of making a second
 * resource (the response layer calls this for AP_ROUTE_CREATE routes).
 *
 * A key belongs to one user and lives 24 hours. The table keeps keyed
 * hashes (ap_auth_hash) of the key and of the request's fields, never the
 * values (a password among them), and the first answer without its
 * secrets (schema.h: AP_J_SECRET).
 */
#ifndef AAPANEL_IDEMPOTENCY_H
#define AAPANEL_IDEMPOTENCY_H

#include <time.h>

#include "aapanel/config.h"
#include "aapanel/db.h"

#define AP_IDEM_KEY_MAX 255
#define AP_IDEM_TTL_S 86400 /* how long a key is remembered */
#define AP_IDEM_STALE_S 300 /* a first request still "running" after this died: forgotten */

enum ap_idem_state {
	AP_IDEM_NEW,      /* first use: reserved; run the create, then ap_idem_finish or _release */
	AP_IDEM_REPLAY,   /* used before: *status and *body are the first answer */
	AP_IDEM_RUNNING,  /* the first request with it has not finished yet */
	AP_IDEM_MISMATCH, /* used before for another route or other fields */
};

/* The key is 1 to 255 printable ASCII characters (no spaces). */
bool ap_idem_key_valid(const char *key);

/*
 * Look key up for user_id and route ("POST /users"), request_hash being
 * ap_auth_hash of the request's fields; forget keys older than
 * AP_IDEM_TTL_S first. A key not seen is reserved (AP_IDEM_NEW). On
 * AP_IDEM_REPLAY *status gets the first answer's status and *body a
 * malloc'd copy of its body (the caller frees it). key_hash gets the key's
 * hash for ap_idem_finish/_release.
 */
enum ap_db_rc ap_idem_begin(struct ap_db *db, const struct ap_config *cfg, int64_t user_id,
    const char *key, const char *route, const char *request_hash, time_t now, char key_hash[65],
    enum ap_idem_state *state, int *status, char **body);
/* Keep the first answer of a reserved key. */
enum ap_db_rc ap_idem_finish(struct ap_db *db, int64_t user_id, const char *key_hash, int status,
    const char *body);
/* Forget a reserved key (the create failed: the client may try again with it). */
enum ap_db_rc ap_idem_release(struct ap_db *db, int64_t user_id, const char *key_hash);

#endif
