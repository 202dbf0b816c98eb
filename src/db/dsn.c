/*
 * dsn.c — the one DSN parser (dsn.h). Strict on purpose: a DSN is written
 * once by an operator, and a typo found at `aapanel config check` is
 * cheaper than one found by a driver at three in the morning.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aapanel/dsn.h"

static const char PASSWORD_IN_DSN[] =
    "passwords are never written in the DSN; use db.password_file";

void
ap_db_dsn_free(struct ap_db_dsn *d)
{
	free(d->path);
	free(d->user);
	free(d->host);
	free(d->dbname);
	free(d->socket);
	free(d->params);
	memset(d, 0, sizeof(*d));
}

bool
ap_db_dsn_backend(const char *dsn, enum ap_db_backend *out)
{
	if (strncmp(dsn, "sqlite:", 7) == 0)
		*out = AP_DB_SQLITE;
	else if (strncmp(dsn, "mysql://", 8) == 0 || strncmp(dsn, "mariadb://", 10) == 0)
		*out = AP_DB_MYSQL;
	else if (strncmp(dsn, "postgresql://", 13) == 0 || strncmp(dsn, "postgres://", 11) == 0)
		*out = AP_DB_PGSQL;
	else
		return false;
	return true;
}

static bool
has_control_or_space(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == ' ' || *s == '#')
			return true;
	return false;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decode %XX in place; false on a malformed escape or an encoded NUL. */
static bool
pct_decode(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (*r == '%') {
			int hi = r[1] ? hexval(r[1]) : -1, lo = hi >= 0 && r[2] ? hexval(r[2]) : -1;

			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return false;
			*w++ = (char)(hi * 16 + lo);
			r += 2;
		} else
			*w++ = *r;
	}
	*w = '\0';
	return true;
}

/* A user name after decoding: [A-Za-z0-9_.-], 1..63. */
static bool
user_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '-' || s[i] == '.'))
			return false;
	return true;
}

static bool
host_ok(const char *h, size_t n)
{
	if (n == 0)
		return false;
	if (h[0] == '[')
		return n > 2 && h[n - 1] == ']' && strspn(h + 1, "0123456789abcdefABCDEF:.") == n - 2;
	for (size_t i = 0; i < n; i++)
		if (!(isalnum((unsigned char)h[i]) || h[i] == '.' || h[i] == '-' || h[i] == '_'))
			return false;
	return true;
}

static bool
pg_param_known(const char *k, size_t n)
{
	static const char *const known[] = {
		"sslmode", "sslcert", "sslkey", "sslrootcert", "sslcrl", "sslpassword",
		"connect_timeout", "application_name", "target_session_attrs", "keepalives",
		"keepalives_idle", "keepalives_interval", "keepalives_count", "host", "hostaddr",
		"options", "gssencmode", "channel_binding", "client_encoding", "passfile",
		"sslcompression", "requiressl", "krbsrvname",
	};

	for (size_t i = 0; i < AP_NELEM(known); i++)
		if (strlen(known[i]) == n && memcmp(known[i], k, n) == 0)
			return true;
	return false;
}

static enum ap_db_rc
fail(struct ap_db_dsn *out, char *why, size_t whylen, const char *reason)
{
	snprintf(why, whylen, "%s", reason);
	ap_db_dsn_free(out);
	return AP_DB_EINVAL;
}

static enum ap_db_rc
parse_sqlite(const char *rest, struct ap_db_dsn *out, char *why, size_t whylen)
{
	if (strncmp(rest, "//", 2) == 0) {
		if (rest[2] != '/')
			return fail(out, why, whylen,
			    "sqlite DSNs have no host; use sqlite:PATH or sqlite:///absolute/path");
		rest += 2;
	}
	if (rest[0] == '\0')
		return fail(out, why, whylen, "missing the database file path");
	if (strchr(rest, '?') != NULL)
		return fail(out, why, whylen, "query parameters are not supported for sqlite");
	out->path = ap_xstrdup(rest);
	out->relative = rest[0] != '/';
	return AP_DB_OK;
}

/* One name=value of the query string; p[0..n). */
static enum ap_db_rc
parse_param(const char *p, size_t n, struct ap_db_dsn *out, struct ap_buf *other, char *why,
    size_t whylen)
{
	const char *eq = memchr(p, '=', n);
	size_t kn = eq != NULL ? (size_t)(eq - p) : n;
	char *v;

	if (eq == NULL || kn == 0 || eq + 1 == p + n)
		return fail(out, why, whylen, "query parameters must be name=value");
	if (kn == 8 && memcmp(p, "password", 8) == 0)
		return fail(out, why, whylen, PASSWORD_IN_DSN);
	if (out->backend == AP_DB_MYSQL) {
		if (kn != 6 || memcmp(p, "socket", 6) != 0) {
			snprintf(why, whylen, "unknown parameter '%.*s' (mysql DSNs accept only socket=)",
			    (int)(kn > 32 ? 32 : kn), p);
			ap_db_dsn_free(out);
			return AP_DB_EINVAL;
		}
	} else if (!pg_param_known(p, kn)) {
		snprintf(why, whylen, "unknown parameter '%.*s'", (int)(kn > 32 ? 32 : kn), p);
		ap_db_dsn_free(out);
		return AP_DB_EINVAL;
	}
	if (out->backend == AP_DB_MYSQL || (kn == 4 && memcmp(p, "host", 4) == 0)) {
		/* A unix socket: mysql's file, or libpq's host=/directory. */
		v = ap_xstrndup(eq + 1, n - kn - 1);
		if (!pct_decode(v) || v[0] != '/') {
			free(v);
			return fail(out, why, whylen,
			    out->backend == AP_DB_MYSQL ? "socket= must be an absolute path"
							: "host= must be an absolute path (a socket directory)");
		}
		free(out->socket);
		out->socket = v;
		return AP_DB_OK;
	}
	if (other->len)
		ap_buf_putc(other, '&');
	ap_buf_append(other, p, n);
	return AP_DB_OK;
}

enum ap_db_rc
ap_db_dsn_parse(const char *dsn, struct ap_db_dsn *out, char *why, size_t whylen)
{
	const char *auth, *slash, *q, *at, *host, *colon;
	struct ap_buf other = { 0 };
	size_t hostlen;
	enum ap_db_rc rc;

	memset(out, 0, sizeof(*out));
	if (dsn == NULL || dsn[0] == '\0')
		return fail(out, why, whylen, "missing scheme (expected sqlite:, mysql:// or postgresql://)");
	if (has_control_or_space(dsn))
		return fail(out, why, whylen, "must not contain spaces, control characters or #");
	if (strncmp(dsn, "sqlite:", 7) == 0) {
		out->backend = AP_DB_SQLITE;
		return parse_sqlite(dsn + 7, out, why, whylen);
	}
	if (strncmp(dsn, "mysql://", 8) == 0 || strncmp(dsn, "mariadb://", 10) == 0)
		out->backend = AP_DB_MYSQL;
	else if (strncmp(dsn, "postgresql://", 13) == 0 || strncmp(dsn, "postgres://", 11) == 0)
		out->backend = AP_DB_PGSQL;
	else {
		const char *c = strchr(dsn, ':');
		int n = c != NULL ? (int)(c - dsn) : 0;

		if (n > 0 && n <= 20)
			snprintf(why, whylen,
			    "unknown scheme '%.*s' (expected sqlite:, mysql:// or postgresql://)", n, dsn);
		else
			snprintf(why, whylen, "missing scheme (expected sqlite:, mysql:// or postgresql://)");
		return AP_DB_EINVAL;
	}
	auth = strstr(dsn, "://") + 3;
	slash = strchr(auth, '/');
	q = strchr(auth, '?');
	if (slash == NULL || (q != NULL && q < slash))
		return fail(out, why, whylen, "missing the database name (.../dbname)");

	/* User: the last @ before the path separates it from the host. */
	at = NULL;
	for (const char *p = auth; p < slash; p++)
		if (*p == '@')
			at = p;
	if (at == NULL)
		return fail(out, why, whylen, "missing the user name (scheme://user@host/dbname)");
	if (memchr(auth, ':', (size_t)(at - auth)) != NULL)
		return fail(out, why, whylen, PASSWORD_IN_DSN);
	if (at == auth)
		return fail(out, why, whylen, "empty user name before @");
	out->user = ap_xstrndup(auth, (size_t)(at - auth));
	if (!pct_decode(out->user) || !user_ok(out->user))
		return fail(out, why, whylen, "user name may only contain letters, digits, _ . and -");

	/* Host and port. */
	host = at + 1;
	hostlen = (size_t)(slash - host);
	colon = NULL;
	if (hostlen > 0 && host[0] == '[') {
		const char *rb = memchr(host, ']', hostlen);

		if (rb != NULL && rb + 1 < slash && rb[1] == ':')
			colon = rb + 1;
	} else {
		colon = memchr(host, ':', hostlen);
	}
	if (colon != NULL) {
		char port[8];
		size_t pn = (size_t)(slash - colon - 1);
		long long v;
		const char *errstr;

		hostlen = (size_t)(colon - host);
		if (pn == 0 || pn >= sizeof(port))
			return fail(out, why, whylen, "port must be between 1 and 65535");
		memcpy(port, colon + 1, pn);
		port[pn] = '\0';
		if (!ap_strtonum(port, 1, 65535, &v, &errstr))
			return fail(out, why, whylen, "port must be between 1 and 65535");
		out->port = (int)v;
	}
	if (hostlen == 0)
		return fail(out, why, whylen, "empty host");
	if (out->backend == AP_DB_PGSQL && hostlen > 3 && host[0] == '%' && host[1] == '2' &&
	    (host[2] == 'F' || host[2] == 'f')) {
		/* postgresql://user@%2Frun%2Fpostgresql/db: libpq's socket directory. */
		out->socket = ap_xstrndup(host, hostlen);
		if (!pct_decode(out->socket))
			return fail(out, why, whylen, "invalid host name");
		out->host = ap_xstrdup("");
	} else if (!host_ok(host, hostlen)) {
		return fail(out, why, whylen, "invalid host name");
	} else if (host[0] == '[') {
		out->host = ap_xstrndup(host + 1, hostlen - 2);
	} else {
		out->host = ap_xstrndup(host, hostlen);
	}

	/* Database name: up to ? or the end. */
	{
		const char *db = slash + 1;
		size_t dn = q != NULL ? (size_t)(q - db) : strlen(db);

		if (dn == 0)
			return fail(out, why, whylen, "missing the database name (.../dbname)");
		if (dn > 63)
			return fail(out, why, whylen, "database name is longer than 63 characters");
		for (size_t i = 0; i < dn; i++)
			if (!(isalnum((unsigned char)db[i]) || db[i] == '_' || db[i] == '-' || db[i] == '$' ||
			    db[i] == '.'))
				return fail(out, why, whylen,
				    "database name may only contain letters, digits, _ - . and $");
		out->dbname = ap_xstrndup(db, dn);
	}

	/* Query parameters. */
	for (const char *p = q != NULL ? q + 1 : NULL; p != NULL && *p != '\0';) {
		const char *amp = strchr(p, '&');
		size_t n = amp != NULL ? (size_t)(amp - p) : strlen(p);

		if ((rc = parse_param(p, n, out, &other, why, whylen)) != AP_DB_OK) {
			ap_buf_free(&other);
			return rc;
		}
		p = amp != NULL ? amp + 1 : NULL;
	}
	if (other.len)
		out->params = ap_xstrdup(ap_buf_cstr(&other));
	ap_buf_free(&other);
	if (out->backend == AP_DB_MYSQL && out->socket != NULL && strcmp(out->host, "localhost") != 0)
		return fail(out, why, whylen, "socket= requires the host localhost");
	return AP_DB_OK;
}
