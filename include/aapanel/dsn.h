/*
 * dsn.h — the one parser of database DSNs (data layer). The configuration
 * validates db.dsn with it and the drivers connect with what it returns,
 * so a DSN the configuration accepts is exactly a DSN the panel can open.
 *
 *   sqlite:PATH | sqlite:///abs/path
 *   mysql://user@host[:port]/db[?socket=/abs/path]      (mariadb:// too)
 *   postgresql://user@host[:port]/db[?libpq options]     (postgres:// too)
 *
 * Passwords are never part of a DSN (db.password_file holds them).
 */
#ifndef AAPANEL_DSN_H
#define AAPANEL_DSN_H

#include <stdbool.h>
#include <stddef.h>

#include "aapanel/db.h"

/* A parsed DSN. Every string is owned by the struct: ap_db_dsn_free. */
struct ap_db_dsn {
	enum ap_db_backend backend;
	char *path;     /* sqlite: the file, as written (may be relative, see relative) */
	bool relative;  /* sqlite: path does not start with '/' (the caller resolves it) */
	char *user;     /* mysql/pg: percent-decoded */
	char *host;     /* mysql/pg: host name or address ("" with a pg socket directory) */
	int port;       /* 0 = the backend's default */
	char *dbname;
	char *socket;   /* mysql: ?socket=/path; pg: ?host=/dir or a host of %2F… */
	char *params;   /* pg: the other libpq options ("sslmode=require&…"), NULL when none */
};

/*
 * Parse dsn. On success returns AP_DB_OK and fills *out (free it with
 * ap_db_dsn_free). On failure returns AP_DB_EINVAL, leaves *out zeroed and
 * writes into why a reason that never repeats the DSN itself (it may hold a
 * password typed by mistake), e.g. "port must be between 1 and 65535".
 * dsn may be NULL (a failure).
 */
enum ap_db_rc ap_db_dsn_parse(const char *dsn, struct ap_db_dsn *out, char *why, size_t whylen);
/* The backend of a DSN (not NULL) from its scheme alone; false when unknown, *out untouched. */
bool ap_db_dsn_backend(const char *dsn, enum ap_db_backend *out);
/* Free what ap_db_dsn_parse filled and zero the struct; safe on a zeroed struct. */
void ap_db_dsn_free(struct ap_db_dsn *d);

#endif
