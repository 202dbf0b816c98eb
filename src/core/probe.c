/*
 * probe.c — one HTTP/1.0 request over loopback with a deadline (probe.h).
 * Non-blocking connect, write, read until the peer closes or the buffer is
 * full; nothing here blocks past the deadline.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aapanel/probe.h"

static int
wait_for(int fd, short ev, uint64_t deadline)
{
	for (;;) {
		uint64_t now = ap_now_ms();
		struct pollfd p = { .fd = fd, .events = ev };
		int r;

		if (now >= deadline)
			return 0;
		r = poll(&p, 1, (int)(deadline - now));
		if (r < 0 && errno == EINTR)
			continue;
		return r;
	}
}

enum ap_err
ap_probe_http(int port, const char *host, const char *path, int timeout_ms,
    struct ap_probe_result *res)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	uint64_t start = ap_now_ms(), deadline = start + (uint64_t)timeout_ms;
	char req[768], buf[4096];
	size_t len = 0, off = 0, reqlen;
	enum ap_err rc = AP_ERR_UNAVAIL;
	const char *body;
	int fd, err = 0;
	socklen_t el = sizeof(err);

	memset(res, 0, sizeof(*res));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	reqlen = (size_t)snprintf(req, sizeof(req),
	    "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: aapanel-probe\r\nConnection: close\r\n\r\n",
	    path, host);
	if (reqlen >= sizeof(req)) {
		snprintf(res->error, sizeof(res->error), "host name too long");
		return AP_ERR_INVAL;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(res->error, sizeof(res->error), "socket: %s", strerror(errno));
		return AP_ERR_UNAVAIL;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 && errno != EINPROGRESS) {
		snprintf(res->error, sizeof(res->error), "%s", strerror(errno));
		goto out;
	}
	if (wait_for(fd, POLLOUT, deadline) <= 0) {
		snprintf(res->error, sizeof(res->error), "timed out connecting");
		goto out;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err != 0) {
		snprintf(res->error, sizeof(res->error), "%s", strerror(err ? err : errno));
		goto out;
	}
	while (off < reqlen) {
		ssize_t w = write(fd, req + off, reqlen - off);

		if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (wait_for(fd, POLLOUT, deadline) <= 0)
				break;
			continue;
		}
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	while (len < sizeof(buf) - 1) {
		ssize_t r = read(fd, buf + len, sizeof(buf) - 1 - len);

		if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (wait_for(fd, POLLIN, deadline) <= 0)
				break;
			continue;
		}
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	buf[len] = '\0';
	if (len < 12 || strncmp(buf, "HTTP/1.", 7) != 0) {
		snprintf(res->error, sizeof(res->error), "%s", len ? "not an HTTP answer" : "timed out");
		goto out;
	}
	/* "HTTP/1.x NNN": three digits, nothing else taken. */
	if (buf[8] != ' ' || buf[9] < '1' || buf[9] > '5' || buf[10] < '0' || buf[10] > '9' ||
	    buf[11] < '0' || buf[11] > '9') {
		snprintf(res->error, sizeof(res->error), "not an HTTP answer");
		goto out;
	}
	res->status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
	body = strstr(buf, "\r\n\r\n");
	if (body != NULL)
		snprintf(res->body, sizeof(res->body), "%s", body + 4);
	rc = AP_OK;
out:
	res->elapsed_ms = ap_now_ms() - start;
	close(fd);
	return rc;
}
