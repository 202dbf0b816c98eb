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

/* Websites (ops_sites.c). */
/* Domain names (each as ap_valid_domain) separated by single spaces, at most 20 (with TEXT). */
const char *ap_valid_domain_list(const char *s, size_t n);
/* A relative path: up to 8 segments of [A-Za-z0-9._-], none "." or ".." (with TEXT). */
const char *ap_valid_site_path(const char *s, size_t n);
/* Up to 8 file names of [A-Za-z0-9._-] (not starting with . or -) separated by spaces. */
const char *ap_valid_index_files(const char *s, size_t n);
/* A URI path: "/" and segments of [A-Za-z0-9._-] (no . or .. segments, no //). */
const char *ap_valid_uri_path(const char *s, size_t n);
/* A PHP version: "8.2", "7.4", "10.0" is refused (5..9 then . and digits). */
const char *ap_valid_php_version(const char *s, size_t n);
/* http://host[:port][/path] (host: lowercase name, IPv4 or [IPv6]) or unix:/abs/path. */
const char *ap_valid_upstream(const char *s, size_t n);

#endif
