/*
 * listenconf.h — the panel-managed nginx include (nginx.listen_file): the
 * listen lines of the panel's server block and its entrance
 * ($aapanel_base). Its first line records what it was made from:
 *
 *   # aapanel-listen: address=127.0.0.1 port=8080 base=/ tls=0 certificate=-
 *
 * Written by aapanel-helper (panel.listen) from templates/nginx/listen.conf,
 * and first by scripts/nginx-conf.sh (development, tests) or
 * scripts/setup-https.sh (production); read by the Settings screen.
 */
#ifndef AAPANEL_LISTENCONF_H
#define AAPANEL_LISTENCONF_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

struct ap_listen {
	char address[64];        /* "*" (every IPv4 and IPv6 address) or an IP literal */
	int port;                /* 1..65535 */
	char base[256];          /* panel.base_path it was written for: "/" or "/seg..." */
	bool tls;                /* the panel's server block terminates TLS */
	char certificate[PATH_MAX]; /* the certificate file ("" when none) */
};

/* "*", an IPv4 literal (dotted quad) or an IPv6 literal without brackets. */
bool ap_listen_address_ok(const char *s);
/* "/" or /seg[/seg...] with segments of 1..64 of A-Z a-z 0-9 _ -, at most 255 bytes. */
bool ap_listen_base_ok(const char *s);
/* An absolute path of A-Z a-z 0-9 / . _ - only, no "..", at most PATH_MAX - 1 bytes. */
bool ap_listen_path_ok(const char *s);
/*
 * Parse the header line at the start of text (the file's content, NUL
 * terminated) into *out. false when it is missing or any value is invalid.
 */
bool ap_listen_parse(const char *text, struct ap_listen *out);
/* Read path (at most 64 KiB) and parse it. false when unreadable or invalid. */
bool ap_listen_read(const char *path, struct ap_listen *out);

/*
 * Does a TCP socket listen on port, IPv4 or IPv6, in this network namespace
 * (/proc/net/tcp, /proc/net/tcp6)? The Settings screen's "port in use" guard.
 */
bool ap_listen_port_in_use(int port);

#endif
