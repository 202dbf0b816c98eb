/*
 * dbnames.h — the strict checks for what the databases feature sends to a
 * database server (docs/databases.md): names of databases and users, the
 * hosts a user may connect from, collations. Shared by the workers (a 400
 * naming the field) and the helper (which checks again before it quotes
 * anything). Each is an ap_field_check_fn: NULL when fine, else the reason.
 */
#ifndef AAPANEL_DBNAMES_H
#define AAPANEL_DBNAMES_H

#include <stdbool.h>
#include <stddef.h>

/* Most hosts one user may have. */
#define AP_DB_HOSTS_MAX 8

/* [a-z][a-z0-9_]{0,31} and not a reserved name (ap_db_name_reserved). */
const char *ap_check_db_ident(const char *s, size_t n);
/* The system's own databases and users: mysql, information_schema,
 * performance_schema, sys, postgres, template0, template1, root,
 * mariadb_sys, aapanel (the panel's default database). */
bool ap_db_name_reserved(const char *s);
/*
 * A list of hosts, separated by commas or spaces, 1..AP_DB_HOSTS_MAX:
 * localhost, an IP address, or an IPv4 pattern whose last parts are % (10.0.%),
 * or % alone (anywhere). Nothing else: no names that need DNS.
 */
const char *ap_check_db_hosts(const char *s, size_t n);
/* Split a checked host list into hosts (at most max, pointers into buf, which
 * receives a copy of s). Returns how many. */
size_t ap_db_hosts_split(const char *s, char *buf, size_t buflen, const char **hosts, size_t max);
/* A collation name: [a-z0-9_]{1,64}. */
const char *ap_check_db_collation(const char *s, size_t n);
/* A PostgreSQL locale name: C, POSIX, or ll[l][_TT][.codeset][@modifier] (C.UTF-8, de_DE.UTF-8). */
const char *ap_check_db_locale(const char *s, size_t n);
/*
 * A generated password: 24 characters of [A-Za-z0-9] from getrandom (about
 * 143 bits) into out (at least 25 bytes). false when getrandom fails.
 */
bool ap_db_password_new(char *out, size_t n);

/*
 * A database server's DSN as the DB layer takes it: a MariaDB/MySQL DSN
 * with no database (mysql://root@localhost/?socket=PATH) connects to the
 * mysql database. Anything else is returned as it is. malloc'd.
 */
char *ap_dbserver_dsn_normalize(const char *dsn);

#endif
