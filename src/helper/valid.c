/*
 * valid.c — strict checks on top of the declared field types (valid.h).
 * Allow-lists only: every byte must be one we expect, so anything a shell,
 * a config file or a path would give meaning to (; $ ` ' " \ / newline NUL)
 * never reaches an operation.
 */
#include <stdbool.h>
#include <string.h>

#include "aapanel/sitecheck.h"
#include "valid.h"

static bool
is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

const char *
ap_valid_domain(const char *s, size_t n)
{
	/* One implementation with the panel's own field check (core/sitecheck.c). */
	return ap_check_domain(s, n);
}

const char *
ap_valid_identifier(const char *s, size_t n)
{
	if (n == 0 || n > 32 || !(s[0] >= 'a' && s[0] <= 'z'))
		goto bad;
	for (size_t i = 1; i < n; i++)
		if (!is_lower_alnum(s[i]) && s[i] != '_')
			goto bad;
	return NULL;
bad:
	return "must be 1 to 32 of a-z, 0-9 and _, starting with a letter";
}

const char *
ap_valid_label(const char *s, size_t n)
{
	if (n == 0)
		return "must not be empty";
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			(c != '\0' && strchr(" ._,:@+=-", c) != NULL)))
			return "may only contain letters, digits, spaces and . _ , : @ + = -";
	}
	if (s[0] == '-' || s[0] == ' ' || s[n - 1] == ' ')
		return "must not start with '-' or start or end with a space";
	return NULL;
}
