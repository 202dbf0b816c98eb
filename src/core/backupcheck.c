/*
 * backupcheck.c — destinations, snapshots and tags of backups (backupcheck.h).
 */
#include <stdio.h>
#include <string.h>

#include "aapanel/backupcheck.h"

static const char *const kind_names[] = {
	[AP_BK_LOCAL] = "local",
	[AP_BK_SFTP] = "sftp",
	[AP_BK_S3] = "s3",
};

const char *
ap_bk_kind_name(enum ap_bk_kind k)
{
	return k < AP_BK__MAX ? kind_names[k] : "?";
}

static bool
lower_digit(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool
path_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '.' || c == '_' || c == '-';
}

const char *
ap_check_backup_dest_name(const char *s, size_t n)
{
	if (n < 1 || n > 32)
		return "must be 1 to 32 characters";
	if (!(s[0] >= 'a' && s[0] <= 'z'))
		return "must start with a lowercase letter";
	for (size_t i = 1; i < n; i++)
		if (!lower_digit(s[i]) && s[i] != '_' && s[i] != '-')
			return "may only contain a-z, 0-9, _ and -";
	return NULL;
}

/* An absolute path of [A-Za-z0-9._-] segments, no "." or "..", no empty segment but a final /. */
static const char *
abs_path(const char *s, size_t n)
{
	size_t seg = 0;

	if (n < 2 || s[0] != '/')
		return "must name an absolute folder, like /srv/backups";
	if (n > AP_BK_PATH_MAX)
		return "the folder's path is longer than 200 characters";
	for (size_t i = 1; i <= n; i++) {
		if (i == n || s[i] == '/') {
			const char *p = s + i - seg;

			if (seg == 0 && i != n)
				return "the folder's path has an empty part (//)";
			if ((seg == 1 && p[0] == '.') || (seg == 2 && p[0] == '.' && p[1] == '.'))
				return "the folder's path may not contain . or .. parts";
			seg = 0;
			continue;
		}
		if (!path_char(s[i]))
			return "the folder's path may only contain A-Z, a-z, 0-9 and . _ - /";
		seg++;
	}
	return NULL;
}

/* RFC 1123 host name or dotted IPv4, lowercase, at most 253. */
static const char *
host_ok(const char *s, size_t n)
{
	size_t label = 0;

	if (n < 1 || n > 253)
		return "the host must be a host name or an IPv4 address";
	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return "the host must be a host name or an IPv4 address";
			label = 0;
			continue;
		}
		if (!lower_digit(s[i]) && !(s[i] == '-' && label > 0))
			return "the host must be a host name or an IPv4 address (lowercase)";
		label++;
	}
	return NULL;
}

static bool
loopback(const char *h)
{
	return strcmp(h, "localhost") == 0 || strncmp(h, "127.", 4) == 0;
}

/* Digits to a port 1..65535; false otherwise. */
static bool
port_parse(const char *s, size_t n, int *port)
{
	long v = 0;

	if (n < 1 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return false;
	*port = (int)v;
	return true;
}

static bool
copy(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		return false;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return true;
}

/* HOST[:PORT] in s[0..n). */
static const char *
host_port(const char *s, size_t n, struct ap_bk_url *u, const char *port_why)
{
	const char *colon = memchr(s, ':', n), *why;
	size_t hn = colon != NULL ? (size_t)(colon - s) : n;

	if ((why = host_ok(s, hn)) != NULL)
		return why;
	if (!copy(u->host, sizeof(u->host), s, hn))
		return "the host must be a host name or an IPv4 address";
	if (colon != NULL && !port_parse(colon + 1, n - hn - 1, &u->port))
		return port_why;
	return NULL;
}

static const char *
sftp_user(const char *s, size_t n, struct ap_bk_url *u)
{
	if (n < 1 || n > 32 || !((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return "the SFTP user must be a user name: a-z or _, then a-z, 0-9, _ or -";
	for (size_t i = 1; i < n; i++)
		if (!lower_digit(s[i]) && s[i] != '_' && s[i] != '-')
			return "the SFTP user must be a user name: a-z or _, then a-z, 0-9, _ or -";
	copy(u->user, sizeof(u->user), s, n);
	return NULL;
}

static const char *
parse_sftp(const char *s, size_t n, struct ap_bk_url *u)
{
	const char *at, *rest, *why, *slash;
	bool uri = n >= 2 && s[0] == '/' && s[1] == '/';

	if (uri) {
		s += 2;
		n -= 2;
	}
	at = memchr(s, '@', n);
	if (at == NULL)
		return "an SFTP destination must be sftp:USER@HOST:/PATH";
	if ((why = sftp_user(s, (size_t)(at - s), u)) != NULL)
		return why;
	rest = at + 1;
	n -= (size_t)(rest - s);
	u->port = 22;
	if (uri) {
		/* sftp://USER@HOST[:PORT]/PATH */
		slash = memchr(rest, '/', n);
		if (slash == NULL)
			return "an SFTP destination must be sftp://USER@HOST:PORT/PATH";
		if ((why = host_port(rest, (size_t)(slash - rest), u,
			 "the SFTP port must be a number from 1 to 65535")) != NULL)
			return why;
	} else {
		/* sftp:USER@HOST:/PATH */
		slash = memchr(rest, ':', n);
		if (slash == NULL || (size_t)(slash - rest) + 1 >= n || slash[1] != '/')
			return "an SFTP destination must be sftp:USER@HOST:/PATH";
		if ((why = host_ok(rest, (size_t)(slash - rest))) != NULL)
			return why;
		copy(u->host, sizeof(u->host), rest, (size_t)(slash - rest));
		slash++;
	}
	n -= (size_t)(slash - rest);
	if ((why = abs_path(slash, n)) != NULL)
		return why;
	copy(u->path, sizeof(u->path), slash, n);
	return NULL;
}

static const char *
parse_s3(const char *s, size_t n, struct ap_bk_url *u)
{
	const char *slash, *why, *b;
	size_t bn, seg = 0;

	if (n > 8 && memcmp(s, "https://", 8) == 0) {
		u->tls = true;
		s += 8;
		n -= 8;
	} else if (n > 7 && memcmp(s, "http://", 7) == 0) {
		s += 7;
		n -= 7;
	} else
		return "an S3 destination must be s3:https://HOST/BUCKET";
	slash = memchr(s, '/', n);
	if (slash == NULL)
		return "an S3 destination must name a bucket: s3:https://HOST/BUCKET";
	if ((why = host_port(s, (size_t)(slash - s), u,
		 "the S3 port must be a number from 1 to 65535")) != NULL)
		return why;
	if (!u->tls && !loopback(u->host))
		return "an S3 destination must use https:// (http:// only to this machine)";
	b = slash + 1;
	bn = n - (size_t)(b - s);
	while (bn > 0 && b[bn - 1] == '/')
		bn--;
	if (bn == 0 || bn > AP_BK_PATH_MAX)
		return "an S3 destination must name a bucket: s3:https://HOST/BUCKET";
	/* The bucket: [a-z0-9][a-z0-9.-]{2,62}; then an optional prefix of path segments. */
	for (size_t i = 0; i <= bn; i++) {
		if (i == bn || b[i] == '/') {
			if (seg == 0 || (seg == 1 && b[i - 1] == '.') ||
			    (seg == 2 && b[i - 1] == '.' && b[i - 2] == '.'))
				return "the bucket's prefix may not contain empty, . or .. parts";
			if (b + i - seg == b && (seg < 3 || seg > 63))
				return "the bucket's name must be 3 to 63 characters";
			seg = 0;
			continue;
		}
		if (b + i - seg == b ? !lower_digit(b[i]) && b[i] != '.' && b[i] != '-'
				     : !path_char(b[i]))
			return "the bucket may only contain a-z, 0-9, . and -; its prefix A-Z, a-z, 0-9 and . _ - /";
		seg++;
	}
	if (!lower_digit(b[0]))
		return "the bucket's name must start with a letter or a digit";
	copy(u->path, sizeof(u->path), b, bn);
	return NULL;
}

const char *
ap_bk_url_parse(const char *s, struct ap_bk_url *u)
{
	size_t n = strlen(s);

	memset(u, 0, sizeof(*u));
	if (n > AP_BK_URL_MAX)
		return "must be at most 300 characters";
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return "may not contain spaces, control or non-ASCII characters";
	if (n > 6 && memcmp(s, "local:", 6) == 0) {
		const char *why = abs_path(s + 6, n - 6);

		if (why != NULL)
			return why;
		u->kind = AP_BK_LOCAL;
		copy(u->path, sizeof(u->path), s + 6, n - 6);
		return NULL;
	}
	if (n > 5 && memcmp(s, "sftp:", 5) == 0) {
		u->kind = AP_BK_SFTP;
		return parse_sftp(s + 5, n - 5, u);
	}
	if (n > 3 && memcmp(s, "s3:", 3) == 0) {
		u->kind = AP_BK_S3;
		return parse_s3(s + 3, n - 3, u);
	}
	return "must be local:/PATH, sftp:USER@HOST:/PATH or s3:https://HOST/BUCKET";
}

const char *
ap_check_backup_url(const char *s, size_t n)
{
	char buf[AP_BK_URL_MAX + 1];
	struct ap_bk_url u;

	if (n > AP_BK_URL_MAX)
		return "must be at most 300 characters";
	if (memchr(s, '\0', n) != NULL)
		return "may not contain spaces, control or non-ASCII characters";
	memcpy(buf, s, n);
	buf[n] = '\0';
	return ap_bk_url_parse(buf, &u);
}

bool
ap_bk_url_repo(const struct ap_bk_url *u, char *buf, size_t n)
{
	int w;
	char port[8] = "";

	switch (u->kind) {
	case AP_BK_LOCAL:
		w = snprintf(buf, n, "%s", u->path);
		break;
	case AP_BK_SFTP:
		w = snprintf(buf, n, "sftp:%s@%s:%s", u->user, u->host, u->path);
		break;
	case AP_BK_S3:
		if (u->port != 0)
			snprintf(port, sizeof(port), ":%d", u->port);
		w = snprintf(buf, n, "s3:%s://%s%s/%s", u->tls ? "https" : "http", u->host, port,
		    u->path);
		break;
	default:
		return false;
	}
	return w > 0 && (size_t)w < n;
}

const char *
ap_check_backup_snapshot(const char *s, size_t n)
{
	if (n == 6 && memcmp(s, "latest", 6) == 0)
		return NULL;
	if (n < 8 || n > 64)
		return "must be a snapshot id (8 to 64 hexadecimal digits) or latest";
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return "must be a snapshot id (8 to 64 hexadecimal digits) or latest";
	return NULL;
}

const char *
ap_check_backup_inner_path(const char *s, size_t n)
{
	size_t seg = 0;

	if (n < 1 || s[0] != '/')
		return "must be an absolute path inside the snapshot";
	if (n > 4096)
		return "must be at most 4096 bytes";
	for (size_t i = 1; i <= n; i++) {
		if (i == n || s[i] == '/') {
			const char *p = s + i - seg;

			if ((seg == 1 && p[0] == '.') || (seg == 2 && p[0] == '.' && p[1] == '.'))
				return "may not contain . or .. parts";
			seg = 0;
			continue;
		}
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return "may not contain control characters";
		seg++;
	}
	return NULL;
}

const char *
ap_check_backup_tag(const char *s, size_t n)
{
	if (n < 1 || n > 300)
		return "must be 1 to 300 characters";
	for (size_t i = 0; i < n; i++)
		if (!lower_digit(s[i]) && s[i] != '.' && s[i] != '_' && s[i] != ':' && s[i] != '-')
			return "may only contain a-z, 0-9 and . _ : -";
	return NULL;
}

const char *
ap_check_backup_new_dir(const char *s, size_t n)
{
	if (n < 1 || n > 64)
		return "must be a folder name of 1 to 64 characters";
	if (s[0] == '.')
		return "may not start with a dot";
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
			(s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return "may only contain A-Z, a-z, 0-9 and . _ -";
	return NULL;
}
