/*
 * unitname.c — unit names and the lists of them the configuration holds
 * (unitname.h). Allow-lists of ASCII bytes only: ';', '$', '(', '/',
 * spaces, quotes, NUL and look-alikes never reach systemd.
 */
#include <fnmatch.h>
#include <string.h>

#include "aapanel/common.h"
#include "aapanel/unitname.h"

static const char *const suffixes[] = { ".service", ".socket", ".timer", ".target" };

static bool
name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '_' || c == '.' || c == '@' || c == ':' || c == '-';
}

static bool
alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* The suffix s ends with (one of suffixes[]), or NULL. */
static const char *
suffix_of(const char *s, size_t n)
{
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		size_t l = strlen(suffixes[i]);

		if (n > l && memcmp(s + n - l, suffixes[i], l) == 0)
			return suffixes[i];
	}
	return NULL;
}

/* The shared check; star: '*' allowed (list entries), and then a suffix is required. */
static const char *
check(const char *s, size_t n, bool star)
{
	if (n == 0)
		return N_("is required");
	if (n > AP_UNIT_NAME_MAX)
		return N_("must be at most 96 characters");
	if (!alnum((unsigned char)s[0]) && !(star && s[0] == '*'))
		return N_("must start with a letter or a digit");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!name_char(c) && !(star && c == '*'))
			return N_("may only contain letters, digits and _ . @ : - (a systemd unit name)");
		if (c == '.' && i + 1 < n && s[i + 1] == '.')
			return N_("may only contain letters, digits and _ . @ : - (a systemd unit name)");
	}
	/* a bare name ("nginx", "php8.2-fpm") means NAME.service; a list entry says what it is */
	if (star && suffix_of(s, n) == NULL)
		return N_("must end in .service, .socket, .timer or .target");
	return NULL;
}

const char *
ap_check_unit_name(const char *s, size_t n)
{
	if (s == NULL || memchr(s, '\0', n) != NULL)
		return N_("may only contain letters, digits and _ . @ : - (a systemd unit name)");
	return check(s, n, false);
}

bool
ap_unit_full_name(const char *s, char *out, size_t outlen)
{
	size_t n = strlen(s);
	const char *add = suffix_of(s, n) != NULL ? "" : ".service";

	if (n + strlen(add) + 1 > outlen)
		return false;
	memcpy(out, s, n);
	memcpy(out + n, add, strlen(add) + 1);
	return true;
}

void
ap_unit_list_each(const char *list, bool (*fn)(void *ctx, const char *entry), void *ctx)
{
	const char *p = list;

	while (p != NULL && *p != '\0') {
		char entry[AP_UNIT_NAME_MAX + 1];
		size_t n;

		p += strspn(p, ", \t");
		n = strcspn(p, ", \t");
		if (n == 0)
			break;
		if (n <= AP_UNIT_NAME_MAX) {
			memcpy(entry, p, n);
			entry[n] = '\0';
			if (!fn(ctx, entry))
				return;
		}
		p += n;
	}
}

struct list_check {
	const char *why;
	char *bad;
	size_t bad_len;
};

static bool
check_entry(void *p, const char *entry)
{
	struct list_check *c = p;

	c->why = check(entry, strlen(entry), true);
	if (c->why != NULL && c->bad_len > 0) {
		strncpy(c->bad, entry, c->bad_len - 1);
		c->bad[c->bad_len - 1] = '\0';
	}
	return c->why == NULL;
}

const char *
ap_unit_list_check(const char *list, char *bad, size_t bad_len)
{
	struct list_check c = { NULL, bad, bad_len };
	const char *p = list;

	if (bad_len > 0)
		bad[0] = '\0';
	/* An over-long entry is skipped by the walk: find it here. */
	while (*p != '\0') {
		size_t n;

		p += strspn(p, ", \t");
		n = strcspn(p, ", \t");
		if (n > AP_UNIT_NAME_MAX) {
			if (bad_len > 0) {
				size_t k = n < bad_len - 1 ? n : bad_len - 1;

				memcpy(bad, p, k);
				bad[k] = '\0';
			}
			return N_("must be at most 96 characters");
		}
		p += n;
	}
	ap_unit_list_each(list, check_entry, &c);
	return c.why;
}

struct list_has {
	const char *name;
	bool found;
};

static bool
has_entry(void *p, const char *entry)
{
	struct list_has *h = p;

	h->found = fnmatch(entry, h->name, 0) == 0;
	return !h->found;
}

bool
ap_unit_list_has(const char *list, const char *name)
{
	struct list_has h = { name, false };

	if (ap_check_unit_name(name, strlen(name)) != NULL)
		return false;
	ap_unit_list_each(list, has_entry, &h);
	return h.found;
}
