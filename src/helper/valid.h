/*
 * valid.h — the helper's strict checks, for arguments where route.h's field
 * types are not strict enough. Each is an ap_field_check_fn: it runs after
 * the field's type check (so HOSTNAME / NAME / TEXT rules already hold) and
 * returns NULL when the value is fine or the reason it is not. ASCII only:
 * no Unicode look-alikes, no shell or path syntax gets through.
 */
#ifndef AAPANEL_HELPER_VALID_H
#define AAPANEL_HELPER_VALID_H

#include <stddef.h>

/* A domain we may write into a vhost: lowercase, two labels or more, not an IP (with AP_FIELD_HOSTNAME). */
const char *ap_valid_domain(const char *s, size_t n);
/* A system identifier (database, user, job name): [a-z][a-z0-9_]{0,31} (with AP_FIELD_NAME). */
const char *ap_valid_identifier(const char *s, size_t n);
/* A short label shown back to people: letters, digits, space and . _ , : @ + = - (with AP_FIELD_TEXT). */
const char *ap_valid_label(const char *s, size_t n);


#endif
