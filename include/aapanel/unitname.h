/*
 * unitname.h — systemd unit names the panel may control (docs/services.md):
 * the strict pattern of a name, the whitelist (services.units) and the
 * protected list (services.protected) as the configuration writes them.
 * Used by the configuration loader, the panel's field tables and data
 * module, and again by the helper's argument tables, so every side accepts
 * exactly the same names.
 */
#ifndef AAPANEL_UNITNAME_H
#define AAPANEL_UNITNAME_H

#include <stdbool.h>
#include <stddef.h>

/* The longest unit name accepted (systemd allows 255; the panel's units are short). */
#define AP_UNIT_NAME_MAX 96

/*
 * A unit name as ap_field_check_fn (route.h): NULL when fine, else the
 * reason (a constant msgid). 1..AP_UNIT_NAME_MAX bytes of [A-Za-z0-9_.@:-],
 * starting with a letter or digit, no "..", and, when it has a suffix, one
 * of .service .socket .timer .target. A bare name means NAME.service.
 */
const char *ap_check_unit_name(const char *s, size_t n);

/*
 * The full unit name of a checked name into out (outlen bytes): s as it
 * is when it has a suffix, else s + ".service". false when it does not fit.
 */
bool ap_unit_full_name(const char *s, char *out, size_t outlen);

/*
 * A list as the configuration writes it: entries separated by commas and
 * spaces, each a full unit name (with its suffix) in which '*' may stand
 * for any run of name characters ("php*-fpm.service"). NULL when fine, else
 * the reason; *bad (bad_len bytes) gets the entry it is about.
 */
const char *ap_unit_list_check(const char *list, char *bad, size_t bad_len);

/* Whether the full unit name matches an entry of list (checked with ap_unit_list_check). */
bool ap_unit_list_has(const char *list, const char *name);

/*
 * Call fn for each entry of list, in order (entry NUL-terminated, borrowed
 * for the call); stop when it returns false. Entries over AP_UNIT_NAME_MAX
 * bytes are skipped (ap_unit_list_check refuses them).
 */
void ap_unit_list_each(const char *list, bool (*fn)(void *ctx, const char *entry), void *ctx);

#endif
