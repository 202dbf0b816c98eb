/*
 * storage.h — can the panel write? The database accepts a write and the
 * directories the panel writes have room. Probed at start (ap_dbconn_startup)
 * and by GET /healthz, at most every AP_STORAGE_PROBE_MS per process; an
 * episode of trouble is logged when it starts and when it ends, once for
 * all the processes of a panel (a marker file in paths.run_dir says which
 * process saw it first).
 */
#ifndef AAPANEL_STORAGE_H
#define AAPANEL_STORAGE_H

#include "aapanel/config.h"
#include "aapanel/db.h"

/* How often one process probes at most; between probes the last answer stands. */
#define AP_STORAGE_PROBE_MS 3000
/* Less free space than this (for the panel's user) in a directory it writes is "full". */
#define AP_STORAGE_MIN_FREE (1024 * 1024)

enum ap_storage_db {
	AP_STORAGE_DB_OK,
	AP_STORAGE_DB_DOWN,     /* no connection, or it does not answer */
	AP_STORAGE_DB_READONLY, /* it answers, but refuses writes */
};

struct ap_storage {
	enum ap_storage_db db;
	bool disk_full;
	char full_dir[256];      /* the directory that is full, "" when none */
	unsigned long long free; /* its free bytes */
	uint64_t checked_ms;     /* when this was probed (ap_now_ms) */
};

/*
 * The storage's state into *out. db NULL or failing a round trip is down,
 * asked every time. The rest comes from the cache when this process probed
 * less than AP_STORAGE_PROBE_MS ago (unless at_start), else is probed now:
 * failing ap_db_probe_write with
 * AP_DB_EREADONLY is read-only (AP_DB_EFULL: full); paths.var_dir, the
 * SQLite file's directory and paths.log_dir (when log.file is set) each
 * need AP_STORAGE_MIN_FREE bytes and a free inode. db is borrowed.
 * at_start (the start-up check): what is wrong is logged even when an
 * earlier run's marker says it was already, and the markers are set right.
 */
void ap_storage_check(const struct ap_config *cfg, struct ap_db *db, bool at_start, struct ap_storage *out);
/* "ok", "down", "read-only". */
const char *ap_storage_db_name(enum ap_storage_db s);

#endif
