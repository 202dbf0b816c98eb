/*
 * weburl.h — what a URL a browser sent may be: the origin of a request
 * (Origin, the origin part of Referer) compared with the panel's own
 * configured origins, and a local path the panel may redirect to (the
 * sign-in page's next). Pure string checks, no configuration: callers pass
 * the configured values.
 */
#ifndef AAPANEL_WEBURL_H
#define AAPANEL_WEBURL_H

#include "aapanel/common.h"

/* scheme://host[:port], normalised: host in lower case, the default port filled in. */
struct ap_origin {
	bool https;
	char host[256]; /* a name, an IPv4 address, or an IPv6 address in brackets */
	int port;       /* 1..65535; 80 or 443 when the text had none */
};

/*
 * Parse s[0..n) as an origin: "http" or "https" (any case), "://", a host
 * (letters, digits, '.', '-', at most 253 bytes; or [IPv6]), an optional
 * ":port" (1..65535). With rest NULL nothing may follow (an Origin header,
 * a configured origin); otherwise *rest points at what follows the
 * authority, which must be "", or start with '/', '?' or '#' (a Referer).
 * No user information, no other schemes. False when s is not one.
 */
bool ap_origin_parse(const char *s, size_t n, struct ap_origin *o, const char **rest);
/* Same scheme, host and port. */
bool ap_origin_eq(const struct ap_origin *a, const struct ap_origin *b);
/* The host is this machine: localhost, 127.0.0.0/8 or [::1] (any scheme and port). */
bool ap_origin_is_loopback(const struct ap_origin *o);
/*
 * A list of origins separated by commas, spaces or tabs; "" is an empty
 * list (*out NULL, *n 0). On success *out is owned (free with free()). On
 * error false, *out NULL, *n 0, and the offending item copied into bad.
 */
bool ap_origin_list_parse(const char *s, struct ap_origin **out, size_t *n, char *bad, size_t badlen);

/*
 * The longest value ap_url_local_path accepts, in bytes.
 */
#define AP_LOCAL_PATH_MAX 2048

/*
 * True when s is a normalised path of the panel a browser can only read as
 * one: it starts with exactly one '/', holds only printable ASCII (no
 * control characters, no white space, no '\', nothing above 0x7e), its
 * path part has no empty, "." or ".." segments (percent-encoded dots
 * count: browsers decode them), it is base itself or lies under it (base
 * is "" for the root, else "/x" without a trailing slash) and it is at
 * most AP_LOCAL_PATH_MAX bytes. A query ('?') may follow; a fragment
 * ('#') may not. False for NULL.
 */
bool ap_url_local_path(const char *base, const char *s);

#endif
