/*
 * databases.h — the database servers the panel manages and the databases it
 * made on them (docs/databases.md). The panel's record is in its own
 * database (db_servers, managed_databases); the servers themselves are
 * changed by the helper (dbserver.*, database.*), which alone holds each
 * server's admin password. Passwords a call returns (a new database's, a
 * changed one) are the caller's to show once: never stored, logged or
 * audited.
 */
#ifndef AAPANEL_DATABASES_H
#define AAPANEL_DATABASES_H

#include <json-c/json.h>

#include "aapanel/sites.h"

#define AP_DB_PASSWORD_LEN 32 /* room for a generated password and its NUL */

struct ap_dbserver {
	int64_t id;
	char name[40];
	char engine[16]; /* "mysql" | "postgresql" */
	char dsn[520];   /* as typed, never with a password */
	int64_t created_at;
	int64_t databases; /* how many the panel made on it */
};

struct ap_database {
	int64_t id;
	int64_t server_id;
	char server[40];
	char engine[16];
	char name[40];
	char user[40];
	char reader[40];   /* the read-only user, "" when none */
	char hosts[420];   /* MariaDB: the hosts its user may connect from; "" for PostgreSQL */
	char charset[80];  /* MariaDB: charset[/collation]; PostgreSQL: the encoding[/locale] */
	int64_t site_id;   /* 0: not linked */
	char site[254];    /* the linked site's domain, "" */
	int64_t created_at, updated_at;
};

/* What a new database is made of (checked by the route's fields and again by the helper). */
struct ap_database_spec {
	const char *server, *name, *user; /* user NULL: the database's name */
	const char *charset, *collation, *encoding, *hosts; /* NULL: defaults */
	const char *locale; /* PostgreSQL: the database's locale (NULL: the server's default) */
	const char *site; /* a site's domain to link it to, or NULL */
};

/* Record a server after the helper checked it answers and stored its password. */
enum ap_err ap_dbserver_add(const struct ap_sites_env *env, const char *name, const char *dsn,
    const char *password, struct ap_dbserver *out, struct ap_problem *pb);
enum ap_err ap_dbserver_get(const struct ap_sites_env *env, int64_t id, struct ap_dbserver *out,
    struct ap_problem *pb);
enum ap_err ap_dbserver_find(const struct ap_sites_env *env, const char *name,
    struct ap_dbserver *out, struct ap_problem *pb);
/* Every server by name; fn returns false to stop. */
enum ap_err ap_dbserver_each(const struct ap_sites_env *env,
    bool (*fn)(void *ctx, const struct ap_dbserver *s), void *ctx, struct ap_problem *pb);
/* Forget a server (409 while the panel has databases on it); the helper drops its password. */
enum ap_err ap_dbserver_remove(const struct ap_sites_env *env, const struct ap_dbserver *s,
    struct ap_problem *pb);
/*
 * What the server says now: {reachable, version, uptime, size, connections}
 * or {reachable:false, error}. Owned; never NULL (a helper that is down is
 * reachable:false with its reason).
 */
struct json_object *ap_dbserver_status(const struct ap_sites_env *env, const struct ap_dbserver *s);
/* The same for n servers (n ≤ 64) asked at once (the helper's dbserver.statuses: the slowest
 * one's time, bounded by databases.connect_timeout_ms plus a second): st[i] owned, never NULL. */
void ap_dbserver_statuses(const struct ap_sites_env *env, const struct ap_dbserver *s, size_t n,
    struct json_object **st);
/* The helper's database.list of n servers (n ≤ 64, names) asked at once (database.lists):
 * out[i] owned, NULL when that server could not be asked. */
void ap_dbserver_contents_many(const struct ap_sites_env *env, const char *const *names, size_t n,
    struct json_object **out);
/* The same for one server, from a child of the helper's bounded by its statement's bound (the
 * database's page): owned; NULL when it could not be asked, pb's reason then saying why (the
 * driver's error, "no answer within … ms", or the helper's). */
struct json_object *ap_dbserver_contents_bounded(const struct ap_sites_env *env,
    const struct ap_dbserver *s, struct ap_problem *pb);
/* The helper's database.list of a server (owned; NULL on failure, pb set). */
struct json_object *ap_dbserver_contents(const struct ap_sites_env *env,
    const struct ap_dbserver *s, struct ap_problem *pb);

/* Create the database and its user on the server; password gets the user's new password. */
enum ap_err ap_database_create(const struct ap_sites_env *env, const struct ap_database_spec *spec,
    struct ap_database *out, char *password, size_t pwlen, struct ap_problem *pb);
enum ap_err ap_database_get(const struct ap_sites_env *env, int64_t id, struct ap_database *out,
    struct ap_problem *pb);
enum ap_err ap_database_find(const struct ap_sites_env *env, const char *server, const char *name,
    struct ap_database *out, struct ap_problem *pb);
/* One page by id (keyset), as ap_site_page; site_id > 0: only that site's. */
enum ap_err ap_database_page(const struct ap_sites_env *env, int64_t site_id, int64_t after,
    int64_t limit, bool (*fn)(void *ctx, const struct ap_database *d), void *ctx, bool *more,
    struct ap_problem *pb);
/* Drop the database and its user on the server, then the row. */
enum ap_err ap_database_drop(const struct ap_sites_env *env, const struct ap_database *d,
    struct ap_problem *pb);
/* A new generated password for the database's user. */
enum ap_err ap_database_passwd(const struct ap_sites_env *env, const struct ap_database *d,
    char *password, size_t pwlen, struct ap_problem *pb);
/* A second user with read-only rights (from the database's hosts); password gets its password. */
enum ap_err ap_database_reader(const struct ap_sites_env *env, const struct ap_database *d,
    const char *user, struct ap_database *out, char *password, size_t pwlen, struct ap_problem *pb);
/* Link to the site of that domain, or unlink (domain NULL or ""). */
enum ap_err ap_database_link(const struct ap_sites_env *env, const struct ap_database *d,
    const char *domain, struct ap_database *out, struct ap_problem *pb);

/* As the audit log shows them (owned): never a password. */
struct json_object *ap_database_json(const struct ap_database *d);
struct json_object *ap_dbserver_json(const struct ap_dbserver *s);

#endif
