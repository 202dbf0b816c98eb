/*
 * probe.h — ask nginx over loopback what it serves for a Host: one HTTP/1.0
 * GET to 127.0.0.1:port with that Host header, a deadline for the whole
 * exchange, the status and the start of the body read back. The panel uses
 * it after a site changes (which revision of the vhost is live) and for the
 * list of sites (whether nginx really serves each one).
 */
#ifndef AAPANEL_PROBE_H
#define AAPANEL_PROBE_H

#include "aapanel/common.h"

struct ap_probe_result {
	int status;      /* HTTP status, 0 when no answer */
	char body[512];  /* the start of the body, NUL-terminated */
	char error[128]; /* why there was no answer ("connection refused", "timed out") */
	uint64_t elapsed_ms;
};

/*
 * GET path (starting with '/') from 127.0.0.1:port with Host: host, within
 * timeout_ms. AP_OK when an HTTP answer came (any status), AP_ERR_UNAVAIL
 * otherwise (res->error says why). host and path must be plain (the callers
 * pass validated domain names and constant paths).
 */
enum ap_err ap_probe_http(int port, const char *host, const char *path, int timeout_ms,
    struct ap_probe_result *res);

#endif
