/*
 * sitecheck.c — strict checks of what a website is made of (sitecheck.h).
 * Allow-lists of ASCII bytes only: nothing a shell, an nginx or PHP-FPM
 * configuration or a path would give meaning to (; $ ` ' " \\ { } newline
 * NUL, Unicode look-alikes, "..") gets through. The panel's field tables and
 * the helper's argument tables both use them.
 */
#include <stdbool.h>
#include <string.h>

#include "aapanel/sitecheck.h"

static bool
is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

const char *
ap_check_domain(const char *s, size_t n)
{
	const char *last;
	bool digits_only = true;
	size_t labels = 1;

	if (n == 0 || n > 253)
		return N_("must be a domain name of at most 253 characters");
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.')
			labels++;
		else if (!is_lower_alnum(s[i]) && s[i] != '-')
			return N_("must be a lowercase domain name like example.com");
	}
	if (labels < 2 || s[0] == '.' || s[n - 1] == '.')
		return N_("must be a domain name with at least two labels, like example.com");
	for (size_t i = 0; i < n; i++) {
		size_t j = i;

		while (j < n && s[j] != '.')
			j++;
		if (j == i || j - i > 63 || s[i] == '-' || s[j - 1] == '-')
			return N_("must be a lowercase domain name like example.com");
		i = j;
	}
	/* The last label is a TLD: never all digits (that would be an IPv4 address). */
	last = (const char *)memrchr(s, '.', n) + 1;
	for (const char *p = last; p < s + n; p++)
		if (!(*p >= '0' && *p <= '9'))
			digits_only = false;
	if (digits_only)
		return N_("must be a domain name, not an IP address");
	return NULL;
}

static bool
is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '.' || c == '_' || c == '-';
}

const char *
ap_check_domain_list(const char *s, size_t n)
{
	size_t i = 0, count = 0;

	while (i < n) {
		size_t j = i;

		while (j < n && s[j] != ' ')
			j++;
		if (j == i || ap_check_domain(s + i, j - i) != NULL)
			return N_("must be domain names like www.example.com separated by single spaces");
		if (++count > 20)
			return N_("may list at most 20 names");
		i = j + 1;
		if (j < n && i == n)
			return N_("must be domain names like www.example.com separated by single spaces");
	}
	return NULL;
}

/* Segments of [A-Za-z0-9._-] joined by '/', none "." or "..", at most max_segs. */
static bool
segments_ok(const char *s, size_t n, int max_segs)
{
	size_t i = 0;
	int segs = 0;

	while (i < n) {
		size_t j = i;

		while (j < n && s[j] != '/') {
			if (!is_name_char(s[j]))
				return false;
			j++;
		}
		if (j == i || (j - i == 1 && s[i] == '.') || (j - i == 2 && s[i] == '.' && s[i + 1] == '.'))
			return false;
		if (++segs > max_segs)
			return false;
		if (j < n && j + 1 == n)
			return false; /* a trailing slash */
		i = j + 1;
	}
	return segs > 0;
}

const char *
ap_check_site_path(const char *s, size_t n)
{
	if (n > 255 || !segments_ok(s, n, 8))
		return N_("must be a relative path of up to 8 segments of letters, digits and . _ - "
		       "(no . or .. segments)");
	return NULL;
}

const char *
ap_check_index_files(const char *s, size_t n)
{
	size_t i = 0, count = 0;

	while (i < n) {
		size_t j = i;

		while (j < n && s[j] != ' ') {
			if (!is_name_char(s[j]))
				goto bad;
			j++;
		}
		if (j == i || s[i] == '.' || s[i] == '-' || j - i > 64 || ++count > 8)
			goto bad;
		i = j + 1;
		if (j < n && i == n)
			goto bad;
	}
	return NULL;
bad:
	return N_("must be up to 8 file names (letters, digits, . _ -) separated by single spaces");
}

const char *
ap_check_uri_path(const char *s, size_t n)
{
	if (n < 2 || n > 255 || s[0] != '/' || !segments_ok(s + 1, n - 1, 16))
		return N_("must be a path like /404.html (letters, digits, . _ - and /)");
	return NULL;
}

const char *
ap_check_php_version(const char *s, size_t n)
{
	if (n < 3 || n > 5 || !(s[0] >= '5' && s[0] <= '9') || s[1] != '.')
		goto bad;
	for (size_t i = 2; i < n; i++)
		if (!(s[i] >= '0' && s[i] <= '9'))
			goto bad;
	return NULL;
bad:
	return N_("must be a PHP version like 8.2");
}

/* host: a lowercase host name, a dotted IPv4 address or [IPv6]; then :port (1..65535). */
static bool
host_port_ok(const char *s, size_t n, size_t *used)
{
	size_t i = 0;

	if (n > 0 && s[0] == '[') {
		for (i = 1; i < n && s[i] != ']'; i++)
			if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') || s[i] == ':'))
				return false;
		if (i >= n || i == 1 || i > 40)
			return false;
		i++;
	} else {
		while (i < n && (is_lower_alnum(s[i]) || s[i] == '.' || s[i] == '-'))
			i++;
		if (i == 0 || i > 253 || s[0] == '.' || s[0] == '-' || s[i - 1] == '.' || s[i - 1] == '-')
			return false;
	}
	if (i < n && s[i] == ':') {
		size_t p = ++i;
		long port = 0;

		while (i < n && s[i] >= '0' && s[i] <= '9' && i - p < 5)
			port = port * 10 + (s[i++] - '0');
		if (i == p || port < 1 || port > 65535 || s[p] == '0')
			return false;
	}
	*used = i;
	return true;
}

const char *
ap_check_upstream(const char *s, size_t n)
{
	size_t used = 0;

	if (n > 5 && memcmp(s, "unix:", 5) == 0) {
		if (n > 5 + 107 || s[5] != '/' || !segments_ok(s + 6, n - 6, 16))
			return N_("must be http://HOST[:PORT][/PATH] or unix:/absolute/socket/path");
		return NULL;
	}
	if (n <= 7 || memcmp(s, "http://", 7) != 0 || n > 512 ||
	    !host_port_ok(s + 7, n - 7, &used))
		return N_("must be http://HOST[:PORT][/PATH] or unix:/absolute/socket/path");
	s += 7 + used;
	n -= 7 + used;
	if (n == 0 || (n == 1 && s[0] == '/'))
		return NULL;
	if (s[0] != '/' || !segments_ok(s + 1, n - 1, 16))
		return N_("must be http://HOST[:PORT][/PATH] or unix:/absolute/socket/path");
	return NULL;
}

/* ---- files.roots -------------------------------------------------------- */

const char *
ap_check_file_root_name(const char *s, size_t n)
{
	if (n == 0 || n > 32 || !(s[0] >= 'a' && s[0] <= 'z'))
		return "a root's name is a lowercase letter, then up to 31 of a-z 0-9 _ -";
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return "a root's name is a lowercase letter, then up to 31 of a-z 0-9 _ -";
	return NULL;
}

/* One "name:/path" item of [s, s+n) (spaces trimmed): its name and path spans, or the reason. */
static const char *
root_item(const char *s, size_t n, const char **nm, size_t *nl, const char **pt, size_t *pl)
{
	const char *colon, *why;
	size_t i, seg = 0;

	while (n > 0 && *s == ' ')
		s++, n--;
	while (n > 0 && s[n - 1] == ' ')
		n--;
	if ((colon = memchr(s, ':', n)) == NULL)
		return "each root is name:/absolute/path";
	*nm = s;
	*nl = (size_t)(colon - s);
	*pt = colon + 1;
	*pl = n - *nl - 1;
	if ((why = ap_check_file_root_name(*nm, *nl)) != NULL)
		return why;
	if (*pl < 2 || (*pt)[0] != '/' || *pl > 1024)
		return "a root's path is absolute and not / itself";
	for (i = 1; i <= *pl; i++) {
		char c = i < *pl ? (*pt)[i] : '/';

		if (c == '/') {
			size_t len = i - seg - 1;
			const char *p = *pt + seg + 1;

			if (len == 0 && i < *pl)
				return "a root's path has no empty segment (//)";
			if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
				return "a root's path has no . or .. segment";
			seg = i;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
		    c == '_' || c == '-'))
			return "a root's path is segments of letters, digits and . _ -";
	}
	return NULL;
}

const char *
ap_check_file_roots(const char *s, size_t n)
{
	char names[AP_FILE_ROOTS_MAX][33];
	size_t count = 0, start = 0;

	if (n == 0)
		return NULL;
	for (size_t i = 0; i <= n; i++) {
		const char *nm, *pt, *why;
		size_t nl, pl;

		if (i < n && s[i] != ',')
			continue;
		if ((why = root_item(s + start, i - start, &nm, &nl, &pt, &pl)) != NULL)
			return why;
		if (count == AP_FILE_ROOTS_MAX)
			return "at most 16 roots";
		for (size_t k = 0; k < count; k++)
			if (strlen(names[k]) == nl && memcmp(names[k], nm, nl) == 0)
				return "a root's name is used twice";
		memcpy(names[count], nm, nl);
		names[count++][nl] = '\0';
		start = i + 1;
	}
	return NULL;
}

bool
ap_file_root_at(const char *roots, size_t idx, char *name, size_t namesz, char *path, size_t pathsz)
{
	size_t n = roots != NULL ? strlen(roots) : 0, start = 0, count = 0;

	if (n == 0 || ap_check_file_roots(roots, n) != NULL)
		return false;
	for (size_t i = 0; i <= n; i++) {
		const char *nm, *pt;
		size_t nl, pl;

		if (i < n && roots[i] != ',')
			continue;
		if (root_item(roots + start, i - start, &nm, &nl, &pt, &pl) == NULL && count++ == idx) {
			if (nl >= namesz || pl >= pathsz)
				return false;
			memcpy(name, nm, nl);
			name[nl] = '\0';
			memcpy(path, pt, pl);
			path[pl] = '\0';
			return true;
		}
		start = i + 1;
	}
	return false;
}

bool
ap_file_root_find(const char *roots, const char *name, char *out, size_t outsz)
{
	char nm[33];

	for (size_t i = 0; ap_file_root_at(roots, i, nm, sizeof(nm), out, outsz); i++)
		if (strcmp(nm, name) == 0)
			return true;
	return false;
}
