/*
 * dbnames.c — the databases feature's strict checks (dbnames.h). Allow-lists
 * of ASCII bytes: a quote, backtick, semicolon, $( ), white space inside a
 * name or a Unicode look-alike never reaches a server, and the driver's own
 * quoting then applies on top (db.h, ap_db_quote).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "aapanel/common.h"
#include "aapanel/dbnames.h"

static const char *const reserved[] = {
	"mysql", "information_schema", "performance_schema", "sys", "postgres", "template0",
	"template1", "root", "mariadb_sys", "aapanel", "public", "pg_catalog", NULL,
};

bool
ap_db_name_reserved(const char *s)
{
	for (size_t i = 0; reserved[i] != NULL; i++)
		if (strcmp(s, reserved[i]) == 0)
			return true;
	return strncmp(s, "pg_", 3) == 0;
}

const char *
ap_check_db_ident(const char *s, size_t n)
{
	if (n < 1 || n > 32)
		return "must be 1 to 32 characters";
	if (!(s[0] >= 'a' && s[0] <= 'z'))
		return "must start with a lowercase letter";
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return "may only contain lowercase letters, digits and _";
	if (ap_db_name_reserved(s))
		return "is a reserved name";
	return NULL;
}

/* One host: localhost, %, an IP literal, or an IPv4 prefix of 1..3 numbers each followed by a dot then %. */
static bool
host_ok(const char *h, size_t n)
{
	char buf[64];
	unsigned char addr[16];
	size_t parts = 0, i = 0;

	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, h, n);
	buf[n] = '\0';
	if (strcmp(buf, "localhost") == 0 || strcmp(buf, "%") == 0)
		return true;
	if (inet_pton(AF_INET, buf, addr) == 1 || inet_pton(AF_INET6, buf, addr) == 1)
		return true;
	if (n < 3 || buf[n - 1] != '%' || buf[n - 2] != '.')
		return false;
	while (i < n - 2) {
		size_t digits = 0;
		unsigned v = 0;

		while (i < n - 2 && buf[i] >= '0' && buf[i] <= '9' && digits < 3) {
			v = v * 10 + (unsigned)(buf[i] - '0');
			i++;
			digits++;
		}
		if (digits == 0 || v > 255)
			return false;
		parts++;
		if (i < n - 2) {
			if (buf[i] != '.')
				return false;
			i++;
		}
	}
	return parts >= 1 && parts <= 3;
}

const char *
ap_check_db_hosts(const char *s, size_t n)
{
	size_t count = 0, i = 0;

	while (i < n) {
		size_t start;

		while (i < n && (s[i] == ',' || s[i] == ' '))
			i++;
		if (i >= n)
			break;
		start = i;
		while (i < n && s[i] != ',' && s[i] != ' ')
			i++;
		if (!host_ok(s + start, i - start))
			return "each host must be localhost, an IP address, a pattern like 10.0.0.% or %";
		if (++count > AP_DB_HOSTS_MAX)
			return "at most 8 hosts";
	}
	if (count == 0)
		return "must name at least one host";
	return NULL;
}

size_t
ap_db_hosts_split(const char *s, char *buf, size_t buflen, const char **hosts, size_t max)
{
	size_t count = 0;
	char *p, *save = NULL;

	snprintf(buf, buflen, "%s", s);
	for (p = strtok_r(buf, ", ", &save); p != NULL && count < max; p = strtok_r(NULL, ", ", &save)) {
		bool dup = false;

		for (size_t j = 0; j < count; j++)
			dup = dup || strcmp(hosts[j], p) == 0;
		if (!dup)
			hosts[count++] = p;
	}
	return count;
}

const char *
ap_check_db_collation(const char *s, size_t n)
{
	if (n < 1 || n > 64)
		return "must be 1 to 64 characters";
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return "may only contain lowercase letters, digits and _";
	return NULL;
}

const char *
ap_check_db_locale(const char *s, size_t n)
{
	size_t i = 0, k;

	if (n < 1 || n > 40)
		return "must be 1 to 40 characters";
	if ((n == 1 && s[0] == 'C') || (n == 5 && memcmp(s, "POSIX", 5) == 0))
		return NULL;
	/* language: 2 or 3 lowercase letters, or C before .encoding */
	if (s[0] == 'C' && n > 1 && s[1] == '.')
		i = 1;
	else {
		for (k = 0; i < n && s[i] >= 'a' && s[i] <= 'z'; i++, k++)
			;
		if (k < 2 || k > 3)
			return "must look like en_US.UTF-8, C.UTF-8, C or POSIX";
		/* _TERRITORY: 2 uppercase letters */
		if (i < n && s[i] == '_') {
			if (i + 2 >= n || !(s[i + 1] >= 'A' && s[i + 1] <= 'Z') ||
			    !(s[i + 2] >= 'A' && s[i + 2] <= 'Z'))
				return "must look like en_US.UTF-8, C.UTF-8, C or POSIX";
			i += 3;
		}
	}
	/* .codeset: letters, digits and - */
	if (i < n && s[i] == '.') {
		for (k = 0, i++; i < n && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-'); i++, k++)
			;
		if (k < 1 || k > 16)
			return "must look like en_US.UTF-8, C.UTF-8, C or POSIX";
	}
	/* @modifier: lowercase letters */
	if (i < n && s[i] == '@') {
		for (k = 0, i++; i < n && s[i] >= 'a' && s[i] <= 'z'; i++, k++)
			;
		if (k < 1)
			return "must look like en_US.UTF-8, C.UTF-8, C or POSIX";
	}
	return i == n ? NULL : "must look like en_US.UTF-8, C.UTF-8, C or POSIX";
}

bool
ap_db_password_new(char *out, size_t n)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char r[64];
	size_t len = 24, k = 0;

	if (n < len + 1)
		return false;
	while (k < len) {
		if (ap_random_bytes(r, sizeof(r)) != AP_OK)
			return false;
		/* Rejection sampling: 248 = 4 × 62, so every character is equally likely. */
		for (size_t i = 0; i < sizeof(r) && k < len; i++)
			if (r[i] < 248)
				out[k++] = alphabet[r[i] % 62];
	}
	out[len] = '\0';
	return true;
}

char *
ap_dbserver_dsn_normalize(const char *dsn)
{
	const char *auth, *slash;
	size_t n = strlen(dsn);
	char *out;

	if (strncmp(dsn, "mysql://", 8) != 0 && strncmp(dsn, "mariadb://", 10) != 0)
		return ap_xstrdup(dsn);
	auth = strstr(dsn, "://") + 3;
	slash = strchr(auth, '/');
	if (slash == NULL || (slash[1] != '\0' && slash[1] != '?'))
		return ap_xstrdup(dsn);
	out = ap_xmalloc(n + 6);
	memcpy(out, dsn, (size_t)(slash - dsn) + 1);
	memcpy(out + (slash - dsn) + 1, "mysql", 5);
	memcpy(out + (slash - dsn) + 6, slash + 1, n - (size_t)(slash - dsn));
	return out;
}
