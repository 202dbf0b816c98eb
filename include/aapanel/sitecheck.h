/*
 * sitecheck.h — the strict checks of a website's parts, as ap_field_check_fn
 * (route.h): NULL when the value is fine, else the reason (a constant
 * msgid). Used by the panel's field tables (src/pages/sites.c), the data
 * module and, again, the helper's argument tables (ops_sites.c), so the two
 * sides accept exactly the same values.
 */
#ifndef AAPANEL_SITECHECK_H
#define AAPANEL_SITECHECK_H

#include <stddef.h>

#include "aapanel/common.h"

/* Lowercase, two labels or more (each 1..63, no leading or trailing -), not an IP; punycode fine. */
const char *ap_check_domain(const char *s, size_t n);
/* Domain names (each as ap_check_domain) separated by single spaces, at most 20. */
const char *ap_check_domain_list(const char *s, size_t n);
/* A relative path: up to 8 segments of [A-Za-z0-9._-], none "." or "..". */
const char *ap_check_site_path(const char *s, size_t n);
/* Up to 8 file names of [A-Za-z0-9._-] (not starting with . or -) separated by spaces. */
const char *ap_check_index_files(const char *s, size_t n);
/* A URI path: "/" and segments of [A-Za-z0-9._-] (no . or .. segments, no //). */
const char *ap_check_uri_path(const char *s, size_t n);
/* A PHP version: 5..9, ".", digits ("8.2"). */
const char *ap_check_php_version(const char *s, size_t n);
/* http://host[:port][/path] (host: lowercase name, IPv4 or [IPv6]) or unix:/abs/path. */
const char *ap_check_upstream(const char *s, size_t n);

/*
 * files.roots: the admins' other roots, "name:/abs/path" separated by commas
 * (spaces around allowed): names [a-z][a-z0-9_-] up to 32, paths absolute of
 * segments [A-Za-z0-9._-] without . or .. (not "/" itself), at most
 * AP_FILE_ROOTS_MAX, names unique. ap_check_file_roots: NULL or the reason;
 * ap_file_root_find: the path of name (in out, outsz bytes) or false.
 */
#define AP_FILE_ROOTS_MAX 16
const char *ap_check_file_roots(const char *s, size_t n);
const char *ap_check_file_root_name(const char *s, size_t n);
bool ap_file_root_find(const char *roots, const char *name, char *out, size_t outsz);
/* The i-th root (0-based) of a valid list: its name and path; false past the end. */
bool ap_file_root_at(const char *roots, size_t i, char *name, size_t namesz, char *path, size_t pathsz);

#endif
