/*
 * dbdump.h — a managed database server's own dump and restore clients,
 * streaming to or from a descriptor (docs/databases.md, "Import and export").
 *
 *   export   mariadb-dump --single-transaction --routines --triggers --hex-blob
 *            (utf8mb4), or pg_dump --no-owner --no-privileges (plain SQL, UTF8),
 *            writes the SQL text of one database to req.fd;
 *   import   mariadb --batch --binary-mode --sandbox --local-infile=0, or
 *            psql -X --single-transaction -v ON_ERROR_STOP=1, reads SQL from
 *            req.fd until EOF into one database.
 *
 * The program runs through spawn.h with a fixed argv built from the server's
 * DSN (src/helper/ops_dbs.c keeps it in <databases.dir>/<server>.conf) and
 * checked names only. The password is in neither argv nor the environment:
 * it is written to an anonymous memory file (memfd, mode 0600, owned by the
 * user the program runs as, in no directory) that the program gets as its
 * descriptor 3 and opens as /dev/fd/3 — mariadb's --defaults-extra-file (a
 * [client] group with user, password, host, port, socket), psql's and
 * pg_dump's PGPASSFILE (one "*:*:*:*:password" line) set in that child's
 * environment only. The file is gone when the last descriptor closes (the
 * program's, ap_dbdump_free's): nothing is ever written to disk.
 *
 * Under systemd (ap_spawn_units_available) the client is a transient unit
 * of its own instead (aapanel-db-{import,export}-PID-N.service, User=nobody,
 * sandbox FETCH): the dump on its stdin/stdout descriptor, the option file
 * or pgpass line a LoadCredential= the client reads from
 * $CREDENTIALS_DIRECTORY (spawn.h, cred_*), its socket in
 * databases.spool_dir; an export whose login has no password stays root's
 * (unix_socket/peer authentication). A SIGTERM to the job while it runs
 * stops the unit first; ap_dbdump_free then takes it.
 *
 * Imports run the client as the user "nobody" when the helper is root (a
 * dump's client-side commands — psql's \!, \o |, \copy — reach nothing of
 * root's; mariadb's are refused outright by --sandbox). Give an import a
 * confined login (req.user/password, req.role) rather than the admin's:
 * a dump's SQL runs with its rights.
 *
 * The client's stderr goes to another memfd; ap_dbdump_wait reports its
 * error line. Not thread-safe (a job's process is single-threaded).
 */
#ifndef AAPANEL_HELPER_DBDUMP_H
#define AAPANEL_HELPER_DBDUMP_H

#include <sys/types.h>

#include "aapanel/db.h"
#include "ops.h"

enum ap_dbdump_dir { AP_DBDUMP_EXPORT, AP_DBDUMP_IMPORT, AP_DBDUMP__MAX };

struct ap_dbdump_req {
	const char *server;   /* a managed server's name ([a-z][a-z0-9_]*) */
	const char *database; /* the database (ap_check_db_ident; never the panel's own, except
			       * with login: the panel's, named by db.dsn, [A-Za-z0-9_] only) */
	enum ap_dbdump_dir dir;
	int fd;               /* export: the SQL is written here; import: read from here to EOF.
			       * Borrowed: the program gets a duplicate, the caller closes it. */
	const char *user;     /* NULL: the server's admin login (from its file); else this login */
	const char *password; /* with user; may be NULL for none */
	const char *role;     /* PostgreSQL, NULL for none: the role the session takes at once
			       * (PGOPTIONS -c role=…), which then owns what the import creates */
	const struct ap_dbserver_login *login; /* NULL: the server's file (server names it);
			       * else this DSN and password (the panel's own database: its backup) */
	bool clean;           /* export: a dump that restores in place — pg_dump --clean --if-exists
			       * (owners kept) instead of --no-owner --no-privileges (backups) */
};

struct ap_dbdump_status {
	bool ok;          /* the client exited 0 */
	int exit_code;    /* its exit code, -1 when a signal ended it */
	int signal;       /* that signal, 0 when it exited */
	bool cancelled;   /* ended by ap_dbdump_cancel */
	char reason[512]; /* "" when ok; else the client's error line ("ERROR 1064 (42000) at
			   * line 3: …", "psql:<stdin>:7: ERROR:  …"), or what ended it */
};

struct ap_dbdump; /* opaque: one running client */

/*
 * Start the client for req. ctx supplies the configuration, the sandbox root
 * and the problem to fill. AP_OK with *out (free with ap_dbdump_free) while
 * the program runs; otherwise a problem: AP_PB_NOT_FOUND "server" (no such
 * server), AP_PB_INVALID "name" (a bad name, or the panel's own
 * database's without req->login),
 * AP_PB_UNSUPPORTED "server" (a DSN parameter the clients cannot be given),
 * AP_PB_FAILED (the program could not start: the reason names it).
 */
enum ap_err ap_dbdump_start(struct helper_ctx *ctx, const struct ap_dbdump_req *req,
    struct ap_dbdump **out);

/*
 * Wait up to timeout_ms (-1: until it ends) for the client. AP_OK with *st
 * filled once it has ended (any exit status: look at st->ok); AP_ERR_UNAVAIL
 * while it still runs (call again, or cancel). Once it ended, further calls
 * give the same *st.
 */
enum ap_err ap_dbdump_wait(struct ap_dbdump *d, int timeout_ms, struct ap_dbdump_status *st);

/* Stop the client now (SIGTERM to its group, SIGKILL after 2 s) and reap it; a later
 * ap_dbdump_wait reports it cancelled. Harmless after it ended. */
void ap_dbdump_cancel(struct ap_dbdump *d);

/* Cancel if still running, close the credentials and stderr files, free. NULL is a no-op. */
void ap_dbdump_free(struct ap_dbdump *d);

/* The running client's pid (0 once reaped) and the server's engine. */
pid_t ap_dbdump_pid(const struct ap_dbdump *d);
enum ap_db_backend ap_dbdump_backend(const struct ap_dbdump *d);

/* The error line of a client's stderr text (the first line holding "error" in any
 * case, else the last non-empty one), trimmed, control characters as spaces, into out; "" for none. Exposed for the tests. */
void ap_dbdump_reason(const char *err, size_t len, char *out, size_t outlen);

#endif
