/*
 * tcplisten.h — whether something listens on a TCP port, read from the
 * kernel's tables (/proc/net/tcp and tcp6), not by connecting: the helper
 * checks that nginx really took a port after a reload (nginx -s reload
 * only signals; a port in use makes nginx keep its old configuration and
 * say so only in its error log), whatever network the helper may reach.
 */
#ifndef AAPANEL_TCPLISTEN_H
#define AAPANEL_TCPLISTEN_H

#include "aapanel/common.h"

/*
 * True when text (the contents of /proc/net/tcp, family 4, or tcp6,
 * family 6) has a socket in LISTEN on port bound to address addr: "*"
 * matches any address; an IP literal matches itself and the wildcard
 * (0.0.0.0, ::) of its family. Lines that do not parse are skipped.
 */
bool ap_tcp_listening_in(const char *text, int family, int port, const char *addr);
/* The same over the running kernel's two tables under proc ("/proc" normally). */
bool ap_tcp_listening(const char *proc, int port, const char *addr);

#endif
