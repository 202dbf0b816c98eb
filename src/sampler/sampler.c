/*
 * sampler.c — the sampler process (sampler.h): one event loop (epoll) with
 * the listening socket, a timer for the readings and a signalfd; every
 * client a non-blocking socket with its own output buffer. A reading is
 * taken on the loop (reading /proc never blocks), turned into JSON once and
 * written to every stream; the database and the notifications are the
 * store thread's (store.h).
 */
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "aapanel/helper.h"
#include "aapanel/log.h"
#include "aapanel/sampler.h"
#include "aapanel/scoreboard.h"
#include "certwatch.h"
#include "follow.h"
#include "jfollow.h"
#include "relay.h"
#include "store.h"

#define HEAD_MAX 4096
#define OUT_MAX (1024 * 1024) /* a stream this far behind is a dead client: dropped */
#define PING_MS 15000

struct client {
	int fd;
	char in[HEAD_MAX];
	size_t inlen;
	struct ap_buf out;
	size_t off;
	bool stream;  /* receives every event */
	bool closing; /* close once out is written */
	bool want_out;
	int passed_fd;            /* a descriptor that came with the request (POST /hand), or -1 */
	struct ap_follow *follow; /* a log's stream (GET /events/log, follow.h) */
	uint64_t follow_sent;
	struct ap_jfollow *jfollow; /* or a journal's (jfollow.h) */
};

struct loop {
	const struct ap_config *cfg;
	int ep, lfd, tfd, sfd;
	struct client **c;
	size_t n, cap;
	struct ap_sysread *reader;
	struct ap_sys *sys;   /* the latest reading */
	bool have_sys;
	char *latest;         /* its JSON (without every process) */
	char host[256];
	struct ap_store *store;
	struct ap_certwatch *certs; /* certificates' jobs and certbot's renewals (certwatch.h) */
	struct ap_relay *relay;     /* jobs' progress from every host (relay.h) */
	int rfd;                    /* its descriptor (readable: events wait), or -1 */
	uint64_t last_send_ms;
	struct ap_follow_pending *pending; /* logs handed by workers, waiting for their stream */
	int ffd;                           /* the follow streams' timer (armed while there are any) */
	size_t nfollow;
	struct ap_helper_client *helper; /* reopens a followed log after its rotation (made on need) */
	struct ap_jfollow_pending *jpending; /* journal streams handed, waiting (jfollow.h) */
	struct ap_helper_client *jhelper;    /* their polls (made on need) */
	bool stop;
};

static void
set_nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

int
ap_sampler_listen(const struct ap_config *cfg)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd = -1;
	mode_t old;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(cfg->monitor_socket) >= sizeof(sa.sun_path)) {
		AP_ERROR("monitor.socket: path too long");
		return -1;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", cfg->monitor_socket);
	if (lstat(cfg->monitor_socket, &st) == 0) {
		int probe;

		if (!S_ISSOCK(st.st_mode)) {
			AP_ERROR("monitor.socket: %s exists and is not a socket", cfg->monitor_socket);
			return -1;
		}
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(probe);
			AP_ERROR("monitor.socket: %s is in use by another running instance", cfg->monitor_socket);
			return -1;
		}
		if (probe >= 0)
			close(probe);
		unlink(cfg->monitor_socket);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		AP_ERROR("socket: %s", strerror(errno));
		return -1;
	}
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		umask(old);
		AP_ERROR("bind %s: %s", cfg->monitor_socket, strerror(errno));
		close(fd);
		return -1;
	}
	umask(old);
	if (cfg->socket_group && cfg->socket_group[0]) {
		struct group *g = getgrnam(cfg->socket_group);

		if (g == NULL || chown(cfg->monitor_socket, (uid_t)-1, g->gr_gid) != 0)
			AP_WARN("monitor.socket: cannot give %s to group %s", cfg->monitor_socket, cfg->socket_group);
	}
	if (chmod(cfg->monitor_socket, (mode_t)cfg->socket_mode) != 0 || listen(fd, 511) != 0) {
		AP_ERROR("%s: %s", cfg->monitor_socket, strerror(errno));
		close(fd);
		unlink(cfg->monitor_socket);
		return -1;
	}
	set_nonblock(fd);
	return fd;
}

/* ---------------------------------------------------------------- clients */

/* The follow streams' timer: every 250 ms while any is open. */
static void
follow_arm(struct loop *l, bool on)
{
	struct itimerspec its;

	memset(&its, 0, sizeof(its));
	if (on) {
		its.it_interval.tv_nsec = 250000000L;
		its.it_value.tv_nsec = 250000000L;
	}
	timerfd_settime(l->ffd, 0, &its, NULL);
}

/* The value of header name in the request head in (NUL-terminated) into out, or false. */
static bool
header_of(const char *in, const char *name, char *out, size_t outsz)
{
	size_t n = strlen(name);

	for (const char *p = strstr(in, "\r\n"); p != NULL; p = strstr(p + 2, "\r\n")) {
		const char *v = p + 2, *e;
		size_t k;

		if (strncasecmp(v, name, n) != 0 || v[n] != ':')
			continue;
		v += n + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		if ((e = strstr(v, "\r\n")) == NULL || (k = (size_t)(e - v)) >= outsz)
			return false;
		memcpy(out, v, k);
		out[k] = '\0';
		return true;
	}
	return false;
}

static void
client_close(struct loop *l, size_t i)
{
	struct client *c = l->c[i];

	epoll_ctl(l->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	if (c->passed_fd >= 0)
		close(c->passed_fd);
	if (c->follow != NULL || c->jfollow != NULL) {
		ap_follow_free(c->follow);
		ap_jfollow_free(c->jfollow);
		follow_arm(l, --l->nfollow > 0);
	}
	ap_buf_free(&c->out);
	free(c);
	l->c[i] = l->c[--l->n];
}

static size_t
client_index(struct loop *l, struct client *c)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->c[i] == c)
			return i;
	return (size_t)-1;
}

/* Write what is pending; false when the client is gone (closed here). */
static bool
client_flush(struct loop *l, struct client *c)
{
	while (c->off < c->out.len) {
		ssize_t w = send(c->fd, c->out.data + c->off, c->out.len - c->off, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (w <= 0) {
			client_close(l, client_index(l, c));
			return false;
		}
		c->off += (size_t)w;
	}
	if (c->off == c->out.len) {
		ap_buf_reset(&c->out);
		c->off = 0;
		if (c->closing) {
			client_close(l, client_index(l, c));
			return false;
		}
	} else if (c->out.len - c->off > OUT_MAX) {
		client_close(l, client_index(l, c));
		return false;
	}
	{
		bool want = c->off < c->out.len;

		if (want != c->want_out) {
			struct epoll_event ev = { .events = EPOLLIN | (want ? EPOLLOUT : 0), .data.ptr = c };

			epoll_ctl(l->ep, EPOLL_CTL_MOD, c->fd, &ev);
			c->want_out = want;
		}
	}
	return true;
}

static void
answer(struct loop *l, struct client *c, int status, const char *reason, const char *type, const char *body)
{
	size_t n = body ? strlen(body) : 0;

	ap_buf_printf(&c->out,
	    "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nCache-Control: no-store\r\n"
	    "Connection: close\r\n\r\n",
	    status, reason, type, n);
	if (n)
		ap_buf_append(&c->out, body, n);
	c->closing = true;
	client_flush(l, c);
}

static void
event_to(struct ap_buf *b, const char *json)
{
	ap_buf_puts(b, "event: metrics\ndata: ");
	ap_buf_puts(b, json);
	ap_buf_puts(b, "\n\n");
}

/* The request head is complete: answer it. */
static void
serve(struct loop *l, struct client *c)
{
	char method[8] = "", path[256] = "";
	char *q;

	c->in[c->inlen] = '\0';
	if (sscanf(c->in, "%7s %255s HTTP/1.", method, path) != 2) {
		answer(l, c, 400, "Bad Request", "text/plain", "bad request\n");
		return;
	}
	if ((q = strchr(path, '?')) != NULL)
		*q++ = '\0';
	if (strcmp(method, "POST") == 0 && strcmp(path, "/hand") == 0 &&
	    strstr(c->in, "\r\nX-Journal:") != NULL) {
		/* A journal to follow (jfollow.h): no descriptor, the unit and its filters. */
		char tok[AP_FOLLOW_TOKEN_LEN + 8], which[8], level[8] = "";
		char search[2 * AP_JFOLLOW_SEARCH_MAX + 1] = "", cur[AP_JFOLLOW_CURSOR_MAX + 1] = "";
		bool ok = header_of(c->in, "X-Token", tok, sizeof(tok)) &&
		    header_of(c->in, "X-Journal", which, sizeof(which)) &&
		    (!strstr(c->in, "\r\nX-Level:") || header_of(c->in, "X-Level", level, sizeof(level))) &&
		    (!strstr(c->in, "\r\nX-Search:") || header_of(c->in, "X-Search", search, sizeof(search))) &&
		    (!strstr(c->in, "\r\nX-Cursor:") || header_of(c->in, "X-Cursor", cur, sizeof(cur))) &&
		    ap_jfollow_pending_add(l->jpending, tok, which, level, search, cur, ap_now_ms());

		if (c->passed_fd >= 0)
			close(c->passed_fd);
		c->passed_fd = -1;
		answer(l, c, ok ? 204 : 400, ok ? "No Content" : "Bad Request", "text/plain", NULL);
		return;
	}
	if (strcmp(method, "POST") == 0 && strcmp(path, "/hand") == 0) {
		char tok[AP_FOLLOW_TOKEN_LEN + 8];
		char dom[254], which[8];
		bool named = header_of(c->in, "X-Domain", dom, sizeof(dom)) &&
		    header_of(c->in, "X-Which", which, sizeof(which));
		bool ok = c->passed_fd >= 0 && header_of(c->in, "X-Token", tok, sizeof(tok)) &&
		    ap_follow_pending_add_log(l->pending, tok, c->passed_fd, named ? dom : NULL,
			named ? which : NULL, ap_now_ms());

		if (!ok && c->passed_fd >= 0)
			close(c->passed_fd);
		c->passed_fd = -1;
		answer(l, c, ok ? 204 : 400, ok ? "No Content" : "Bad Request", "text/plain", NULL);
		return;
	}
	if (strcmp(method, "GET") == 0 && strcmp(path, "/events/log") == 0) {
		char tok[AP_FOLLOW_TOKEN_LEN + 8] = "", last[32], dom[254] = "", which[8] = "";
		long long from = -1;
		int fd = header_of(c->in, "X-Aapanel-Stream", tok, sizeof(tok)) ?
		    ap_follow_pending_take_log(l->pending, tok, ap_now_ms(), dom, which) : -1;
		const char *errstr;

		if (fd < 0 && tok[0] != '\0') {
			/* A journal's stream (jfollow.h), from the browser's last event on a reconnection. */
			char jlast[AP_JFOLLOW_CURSOR_MAX + 1];
			bool has_last = header_of(c->in, "Last-Event-ID", jlast, sizeof(jlast));

			c->jfollow = ap_jfollow_take(l->jpending, tok, has_last ? jlast : NULL, ap_now_ms());
		}
		if (c->jfollow != NULL) {
			c->follow_sent = ap_now_ms();
			if (++l->nfollow == 1)
				follow_arm(l, true);
			ap_buf_puts(&c->out, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
					     "Cache-Control: no-store\r\nX-Accel-Buffering: no\r\nConnection: close\r\n\r\n"
					     "retry: 2000\n\n");
			client_flush(l, c);
			return;
		}
		if (fd < 0) {
			answer(l, c, 403, "Forbidden", "text/plain", "no log was handed for this stream\n");
			return;
		}
		/* Where to start: the browser's last event (a reconnection), else the page's from=. */
		if (header_of(c->in, "Last-Event-ID", last, sizeof(last)))
			(void)ap_strtonum(last, 0, INT64_MAX, &from, &errstr);
		else if (q != NULL && strncmp(q, "from=", 5) == 0)
			(void)ap_strtonum(strtok(q + 5, "&"), 0, INT64_MAX, &from, &errstr);
		c->follow = ap_follow_new(fd, from);
		if (dom[0] != '\0') {
			/* Where the helper opens it (ops_logs.c): watched for logrotate's rename. */
			const char *root = l->cfg->helper_sandbox_root, *dir = l->cfg->sites_log_dir;
			char lp[4096];
			size_t rn = strlen(root);

			while (rn > 0 && root[rn - 1] == '/')
				rn--;
			while (*dir == '/')
				dir++;
			snprintf(lp, sizeof(lp), "%.*s/%s/%s.%s.log", (int)rn, root, dir, dom, which);
			ap_follow_watch(c->follow, lp, dom, which);
		}
		c->follow_sent = ap_now_ms();
		if (++l->nfollow == 1)
			follow_arm(l, true);
		ap_buf_puts(&c->out, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
				     "Cache-Control: no-store\r\nX-Accel-Buffering: no\r\nConnection: close\r\n\r\n"
				     "retry: 2000\n\n");
		(void)ap_follow_read(c->follow, &c->out);
		client_flush(l, c);
		return;
	}
	if (strcmp(method, "GET") == 0 && strcmp(path, "/events/metrics") == 0) {
		c->stream = true;
		/* Until close: no length. nginx passes it on at once (X-Accel-Buffering). */
		ap_buf_puts(&c->out, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
				     "Cache-Control: no-store\r\nX-Accel-Buffering: no\r\nConnection: close\r\n\r\n"
				     "retry: 3000\n\n");
		if (l->latest)
			event_to(&c->out, l->latest);
		client_flush(l, c);
		return;
	}
	if (strcmp(method, "GET") == 0 && strcmp(path, "/system") == 0) {
		if (l->latest)
			answer(l, c, 200, "OK", "application/json", l->latest);
		else
			answer(l, c, 503, "Service Unavailable", "application/json", "{\"error\":\"no reading yet\"}");
		return;
	}
	if (strcmp(method, "GET") == 0 && strcmp(path, "/processes") == 0) {
		struct json_object *o;

		if (!l->have_sys) {
			answer(l, c, 503, "Service Unavailable", "application/json", "{\"error\":\"no reading yet\"}");
			return;
		}
		o = ap_sys_json(l->sys, l->host, true);
		answer(l, c, 200, "OK", "application/json", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
		return;
	}
	if (strcmp(method, "POST") == 0 && strcmp(path, "/wake") == 0) {
		ap_store_wake(l->store);
		answer(l, c, 204, "No Content", "text/plain", NULL);
		return;
	}
	answer(l, c, 404, "Not Found", "text/plain", "not found\n");
}

/* Read the request head; a descriptor sent with it (SCM_RIGHTS) is kept in c->passed_fd (one). */
static ssize_t
recv_head(struct client *c, char *buf, size_t n)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * 4)];
	} cm;
	struct iovec iov = { .iov_base = buf, .iov_len = n };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.b, .msg_controllen = sizeof(cm.b) };
	ssize_t r = recvmsg(c->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

	for (struct cmsghdr *h = r >= 0 ? CMSG_FIRSTHDR(&msg) : NULL; h != NULL; h = CMSG_NXTHDR(&msg, h)) {
		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i < (h->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(h) + i * sizeof(int), sizeof(int));
			if (c->passed_fd < 0)
				c->passed_fd = fd;
			else
				close(fd);
		}
	}
	return r;
}

static void
client_read(struct loop *l, struct client *c)
{
	for (;;) {
		char junk[512];
		ssize_t r;

		if (c->stream || c->closing || c->follow != NULL || c->jfollow != NULL)
			r = recv(c->fd, junk, sizeof(junk), MSG_DONTWAIT);
		else
			r = recv_head(c, c->in + c->inlen, sizeof(c->in) - 1 - c->inlen);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (r == 0 || r < 0) {
			client_close(l, client_index(l, c));
			return;
		}
		if (c->stream || c->closing || c->follow != NULL || c->jfollow != NULL)
			continue;
		c->inlen += (size_t)r;
		c->in[c->inlen] = '\0';
		if (strstr(c->in, "\r\n\r\n") != NULL) {
			serve(l, c);
			return;
		}
		if (c->inlen >= sizeof(c->in) - 1) {
			answer(l, c, 431, "Request Header Fields Too Large", "text/plain", "too large\n");
			return;
		}
	}
}

static void
accept_clients(struct loop *l)
{
	for (;;) {
		int fd = accept4(l->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct client *c;
		struct epoll_event ev;

		if (fd < 0) {
			if (errno == EINTR)
				continue;
			return; /* EAGAIN, or out of descriptors: the next round */
		}
		c = ap_xcalloc(1, sizeof(*c));
		c->fd = fd;
		c->passed_fd = -1;
		if (l->n == l->cap) {
			l->cap = l->cap ? l->cap * 2 : 64;
			l->c = ap_xrealloc(l->c, l->cap * sizeof(*l->c));
		}
		l->c[l->n++] = c;
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
			client_close(l, l->n - 1);
			continue;
		}
		if (l->n > (size_t)l->cfg->monitor_max_clients)
			answer(l, c, 503, "Service Unavailable", "text/plain", "too many streams\n");
	}
}

/* A followed log opened again through the helper (logs.open, SCM_RIGHTS); -1 when it cannot be. */
static int
follow_reopen(struct loop *l, struct ap_follow *f)
{
	struct json_object *a = json_object_new_object(), *res = NULL;
	struct ap_problem pb;
	int fd = -1;

	if (l->helper == NULL)
		l->helper = ap_helper_client_new(l->cfg->helper_socket, 1000, 1 << 16);
	json_object_object_add(a, "domain", json_object_new_string(ap_follow_domain(f)));
	json_object_object_add(a, "which", json_object_new_string(ap_follow_which(f)));
	if (l->helper == NULL || ap_helper_call_fd(l->helper, "logs.open", a, &res, &fd, &pb) != AP_OK) {
		AP_WARN("follow: the rotated log of %s (%s) cannot be opened again: %s", ap_follow_domain(f),
		    ap_follow_which(f), l->helper != NULL ? pb.reason : "no helper");
		fd = -1;
	} else {
		AP_INFO("follow: %s's %s log rotated: following the new one", ap_follow_domain(f),
		    ap_follow_which(f));
	}
	json_object_put(res);
	json_object_put(a);
	return fd;
}

/* Every follow stream: its log's new lines, or a comment now and then. */
static void
follow_tick(struct loop *l)
{
	uint64_t now = ap_now_ms();

	for (size_t i = l->n; i-- > 0;) {
		struct client *c = l->c[i];

		bool got;

		if (c->jfollow != NULL && !c->closing) {
			if (l->jhelper == NULL)
				l->jhelper = ap_helper_client_new(l->cfg->helper_socket, 1000, 1 << 20);
			got = ap_jfollow_poll(c->jfollow, l->jhelper, now, &c->out);
		} else if (c->follow == NULL || c->closing) {
			continue;
		} else {
			got = ap_follow_read(c->follow, &c->out);
		}
		if (c->follow != NULL && ap_follow_rotated(c->follow, now)) {
			/* Renamed by logrotate and a new log made: the old one's end, then the new one. */
			int nfd = follow_reopen(l, c->follow);

			if (nfd >= 0) {
				got = ap_follow_read(c->follow, &c->out) || got;
				ap_follow_switch(c->follow, nfd);
				got = ap_follow_read(c->follow, &c->out) || got;
			}
		}
		if (got)
			c->follow_sent = now;
		else if (now - c->follow_sent >= PING_MS) {
			ap_buf_puts(&c->out, ": ping\n\n");
			c->follow_sent = now;
		} else
			continue;
		client_flush(l, c);
	}
}

/* ---------------------------------------------------------------- readings */

static void
broadcast(struct loop *l, const char *text)
{
	for (size_t i = l->n; i-- > 0;) {
		struct client *c = l->c[i];

		if (!c->stream || c->closing)
			continue;
		ap_buf_puts(&c->out, text);
		client_flush(l, c);
	}
	l->last_send_ms = ap_now_ms();
}

static struct ap_sb *announce_sb;

void
ap_sampler_announce_to(struct ap_sb *sb)
{
	announce_sb = sb;
}

static void
take_reading(struct loop *l)
{
	struct json_object *o;
	struct ap_buf ev = { 0 };

	if (!ap_sysread_sample(l->reader, (int64_t)time(NULL), true, l->sys)) {
		AP_WARN("cannot read /proc/stat");
		return;
	}
	l->have_sys = true;
	o = ap_sys_json(l->sys, l->host, false);
	free(l->latest);
	l->latest = ap_xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	if (announce_sb != NULL)
		ap_sb_reading_published(announce_sb);
	event_to(&ev, l->latest);
	broadcast(l, ap_buf_cstr(&ev));
	ap_buf_free(&ev);
	if (l->sys->rates)
		ap_store_push(l->store, l->sys);
}

static bool
open_loop(struct loop *l)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct itimerspec its;
	sigset_t mask;

	l->ep = epoll_create1(EPOLL_CLOEXEC);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	l->sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	l->ffd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (l->ep < 0 || l->sfd < 0 || l->tfd < 0 || l->ffd < 0) {
		AP_ERROR("epoll/signalfd/timerfd: %s", strerror(errno));
		return false;
	}
	memset(&its, 0, sizeof(its));
	its.it_interval.tv_sec = l->cfg->monitor_interval;
	its.it_value.tv_sec = l->cfg->monitor_interval;
	timerfd_settime(l->tfd, 0, &its, NULL);
	ev.data.ptr = &l->lfd;
	epoll_ctl(l->ep, EPOLL_CTL_ADD, l->lfd, &ev);
	ev.data.ptr = &l->tfd;
	epoll_ctl(l->ep, EPOLL_CTL_ADD, l->tfd, &ev);
	ev.data.ptr = &l->sfd;
	epoll_ctl(l->ep, EPOLL_CTL_ADD, l->sfd, &ev);
	ev.data.ptr = &l->ffd;
	epoll_ctl(l->ep, EPOLL_CTL_ADD, l->ffd, &ev);
	return true;
}

int
ap_sampler_main(const struct ap_config *cfg, int lfd, int log_fd)
{
	struct loop l;
	struct sigaction sa;
	enum ap_log_level lvl;
	int rc = 1;

	ap_log_init("sampler", AP_LOG_INFO, log_fd);
	if (ap_log_level_parse(cfg->log_level, &lvl))
		ap_log_set_level(lvl);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	prctl(PR_SET_NAME, "aapanel-sampler");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	memset(&l, 0, sizeof(l));
	l.cfg = cfg;
	l.lfd = lfd;
	l.ep = l.tfd = l.sfd = l.ffd = -1;
	l.pending = ap_follow_pending_new();
	l.jpending = ap_jfollow_pending_new();
	if (gethostname(l.host, sizeof(l.host)) != 0)
		snprintf(l.host, sizeof(l.host), "localhost");
	l.host[sizeof(l.host) - 1] = '\0';
	set_nonblock(lfd);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		AP_ERROR("libcurl cannot start");
		return 1;
	}
	l.reader = ap_sysread_new("/proc", true);
	l.sys = ap_xcalloc(1, sizeof(*l.sys));
	if (!open_loop(&l) || (l.store = ap_store_start(cfg, l.host)) == NULL)
		goto out;
	l.certs = ap_certwatch_start(cfg);
	l.rfd = -1;
	if ((l.relay = ap_relay_start(cfg, l.host)) != NULL) {
		struct epoll_event rev = { .events = EPOLLIN };

		l.rfd = ap_relay_fd(l.relay);
		rev.data.ptr = &l.rfd;
		epoll_ctl(l.ep, EPOLL_CTL_ADD, l.rfd, &rev);
	}
	take_reading(&l); /* rates start with the next one */
	AP_INFO("sampling every %d s, stream on %s", cfg->monitor_interval, cfg->monitor_socket);
	while (!l.stop) {
		struct epoll_event evs[64];
		int n = epoll_wait(l.ep, evs, 64, PING_MS);

		if (n < 0 && errno != EINTR) {
			AP_ERROR("epoll_wait: %s", strerror(errno));
			goto out;
		}
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;

			if (p == &l.lfd) {
				accept_clients(&l);
			} else if (p == &l.tfd) {
				uint64_t ticks;

				if (read(l.tfd, &ticks, sizeof(ticks)) == (ssize_t)sizeof(ticks))
					take_reading(&l);
			} else if (p == &l.ffd) {
				uint64_t ticks;

				if (read(l.ffd, &ticks, sizeof(ticks)) == (ssize_t)sizeof(ticks))
					follow_tick(&l);
			} else if (p == &l.rfd) {
				char *text = ap_relay_take(l.relay);

				if (text != NULL)
					broadcast(&l, text);
				free(text);
			} else if (p == &l.sfd) {
				struct signalfd_siginfo si;

				while (read(l.sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
					l.stop = true;
			} else {
				struct client *c = p;

				/* A client closed earlier in this round is no longer listed. */
				if (client_index(&l, c) == (size_t)-1)
					continue;
				if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
					client_read(&l, c);
				if (client_index(&l, c) != (size_t)-1 && (evs[i].events & EPOLLOUT))
					client_flush(&l, c);
			}
		}
		/* Proxies and browsers drop a silent connection: a comment now and then. */
		if (ap_now_ms() - l.last_send_ms >= PING_MS)
			broadcast(&l, ": ping\n\n");
	}
	rc = 0;
out:
	while (l.n > 0)
		client_close(&l, l.n - 1);
	free(l.c);
	ap_certwatch_stop(l.certs);
	ap_relay_stop(l.relay);
	ap_store_stop(l.store);
	if (l.ep >= 0)
		close(l.ep);
	if (l.tfd >= 0)
		close(l.tfd);
	if (l.sfd >= 0)
		close(l.sfd);
	if (l.ffd >= 0)
		close(l.ffd);
	ap_follow_pending_free(l.pending);
	ap_jfollow_pending_free(l.jpending);
	ap_helper_client_free(l.helper);
	ap_helper_client_free(l.jhelper);
	ap_sysread_free(l.reader);
	free(l.sys);
	free(l.latest);
	curl_global_cleanup();
	AP_INFO("stopped");
	return rc;
}

/* ---------------------------------------------------------------- clients of the sampler */

/* Connect to the sampler, send req, read the answer (at most max bytes) until it closes. */
static enum ap_err
roundtrip(const char *socket_path, const char *req, int timeout_ms, size_t max, struct ap_buf *resp)
{
	struct sockaddr_un sa;
	uint64_t deadline = ap_now_ms() + (uint64_t)timeout_ms;
	size_t off = 0, len = strlen(req);
	int fd;
	enum ap_err err = AP_ERR_IO;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (socket_path == NULL || strlen(socket_path) >= sizeof(sa.sun_path))
		return AP_ERR_IO;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", socket_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return AP_ERR_IO;
	/* A unix socket connects at once (or fails: nobody listens). */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		goto out;
	set_nonblock(fd);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = off < len ? POLLOUT : POLLIN };
		uint64_t now = ap_now_ms();
		int pr;

		if (now >= deadline)
			goto out;
		pr = poll(&p, 1, (int)(deadline - now));
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			goto out;
		if (off < len) {
			ssize_t w = send(fd, req + off, len - off, MSG_NOSIGNAL);

			if (w < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (w <= 0)
				goto out;
			off += (size_t)w;
			continue;
		} else {
			char buf[8192];
			ssize_t r = recv(fd, buf, sizeof(buf), 0);

			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (r < 0)
				goto out;
			if (r == 0)
				break;
			if (resp->len + (size_t)r > max)
				goto out;
			ap_buf_append(resp, buf, (size_t)r);
		}
	}
	err = AP_OK;
out:
	close(fd);
	return err;
}

enum ap_err
ap_sampler_fetch(const char *socket_path, const char *path, int timeout_ms, struct ap_buf *body)
{
	struct ap_buf req = { 0 }, resp = { 0 };
	const char *b;
	enum ap_err err;

	ap_buf_reset(body);
	ap_buf_printf(&req, "GET %s HTTP/1.1\r\nHost: sampler\r\n\r\n", path);
	err = roundtrip(socket_path, ap_buf_cstr(&req), timeout_ms, 16 * 1024 * 1024, &resp);
	ap_buf_free(&req);
	if (err != AP_OK)
		goto out;
	b = strstr(ap_buf_cstr(&resp), "\r\n\r\n");
	if (strncmp(ap_buf_cstr(&resp), "HTTP/1.1 200 ", 13) != 0 || b == NULL) {
		err = AP_ERR_IO;
		goto out;
	}
	ap_buf_puts(body, b + 4);
out:
	ap_buf_free(&resp);
	return err;
}

enum ap_err
ap_sampler_get(const char *socket_path, const char *path, int timeout_ms, struct json_object **out)
{
	struct ap_buf body = { 0 };
	enum ap_err err;

	*out = NULL;
	err = ap_sampler_fetch(socket_path, path, timeout_ms, &body);
	if (err != AP_OK)
		goto out;
	*out = json_tokener_parse(ap_buf_cstr(&body));
	if (*out == NULL || !json_object_is_type(*out, json_type_object)) {
		json_object_put(*out);
		*out = NULL;
		err = AP_ERR_PARSE;
	}
out:
	ap_buf_free(&body);
	return err;
}

enum ap_err
ap_sampler_hand(const char *socket_path, int fd, const char *domain, const char *which,
    char token[static AP_SAMPLER_TOKEN_SIZE])
{
	struct sockaddr_un sa;
	struct ap_buf req = { 0 };
	char resp[64];
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec iov;
	struct msghdr msg;
	struct pollfd p;
	ssize_t r;
	int s = -1;
	enum ap_err err = AP_ERR_IO;

	token[0] = '\0';
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (socket_path == NULL || strlen(socket_path) >= sizeof(sa.sun_path))
		return AP_ERR_IO;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", socket_path);
	if (ap_random_hex(token, AP_FOLLOW_TOKEN_LEN / 2) != AP_OK)
		return AP_ERR_IO;
	ap_buf_printf(&req, "POST /hand HTTP/1.1\r\nHost: sampler\r\nX-Token: %s\r\n", token);
	if (domain != NULL && which != NULL)
		ap_buf_printf(&req, "X-Domain: %s\r\nX-Which: %s\r\n", domain, which);
	ap_buf_puts(&req, "Content-Length: 0\r\n\r\n");
	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(s, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		goto out;
	/* The head is short: one message, the descriptor with its first byte. */
	memset(&msg, 0, sizeof(msg));
	memset(&cm, 0, sizeof(cm));
	iov.iov_base = req.data;
	iov.iov_len = req.len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.b;
	msg.msg_controllen = sizeof(cm.b);
	CMSG_FIRSTHDR(&msg)->cmsg_level = SOL_SOCKET;
	CMSG_FIRSTHDR(&msg)->cmsg_type = SCM_RIGHTS;
	CMSG_FIRSTHDR(&msg)->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(CMSG_FIRSTHDR(&msg)), &fd, sizeof(int));
	if (sendmsg(s, &msg, MSG_NOSIGNAL) != (ssize_t)req.len)
		goto out;
	p.fd = s;
	p.events = POLLIN;
	if (poll(&p, 1, 2000) != 1 || (r = recv(s, resp, sizeof(resp) - 1, 0)) < 13)
		goto out;
	resp[r] = '\0';
	if (strncmp(resp, "HTTP/1.1 204 ", 13) == 0)
		err = AP_OK;
out:
	if (s >= 0)
		close(s);
	ap_buf_free(&req);
	if (err != AP_OK)
		token[0] = '\0';
	return err;
}

enum ap_err
ap_sampler_hand_journal(const char *socket_path, const char *which, const char *level, const char *search,
    const char *cursor, char token[static AP_SAMPLER_TOKEN_SIZE])
{
	struct ap_buf req = { 0 }, resp = { 0 };
	enum ap_err err;

	token[0] = '\0';
	if (ap_random_hex(token, AP_FOLLOW_TOKEN_LEN / 2) != AP_OK)
		return AP_ERR_IO;
	ap_buf_printf(&req, "POST /hand HTTP/1.1\r\nHost: sampler\r\nX-Token: %s\r\nX-Journal: %s\r\n", token,
	    which);
	if (level != NULL && level[0] != '\0')
		ap_buf_printf(&req, "X-Level: %s\r\n", level);
	if (search != NULL && search[0] != '\0') {
		/* Any text of one line, as hexadecimal: nothing of it can end the header. */
		ap_buf_puts(&req, "X-Search: ");
		for (const unsigned char *p = (const unsigned char *)search; *p; p++)
			ap_buf_printf(&req, "%02x", *p);
		ap_buf_puts(&req, "\r\n");
	}
	if (cursor != NULL && cursor[0] != '\0')
		ap_buf_printf(&req, "X-Cursor: %s\r\n", cursor);
	ap_buf_puts(&req, "Content-Length: 0\r\n\r\n");
	err = roundtrip(socket_path, ap_buf_cstr(&req), 2000, 4096, &resp);
	if (err == AP_OK && strncmp(ap_buf_cstr(&resp), "HTTP/1.1 204 ", 13) != 0)
		err = AP_ERR_IO;
	ap_buf_free(&req);
	ap_buf_free(&resp);
	if (err != AP_OK)
		token[0] = '\0';
	return err;
}

void
ap_sampler_wake(const char *socket_path)
{
	struct ap_buf resp = { 0 };

	(void)roundtrip(socket_path, "POST /wake HTTP/1.1\r\nHost: sampler\r\nContent-Length: 0\r\n\r\n", 1000, 4096,
	    &resp);
	ap_buf_free(&resp);
}

struct json_object *
ap_sampler_read_now(const char *host, int gap_ms, bool all_procs)
{
	struct ap_sysread *r = ap_sysread_new("/proc", true);
	struct ap_sys *s = ap_xcalloc(1, sizeof(*s));
	struct json_object *o = NULL;
	bool ok = ap_sysread_sample(r, (int64_t)time(NULL), true, s);

	if (ok && gap_ms > 0) {
		struct timespec ts = { gap_ms / 1000, (long)(gap_ms % 1000) * 1000000L };

		nanosleep(&ts, NULL);
		ok = ap_sysread_sample(r, (int64_t)time(NULL), true, s);
	}
	if (ok)
		o = ap_sys_json(s, host, all_procs);
	ap_sysread_free(r);
	free(s);
	return o;
}
