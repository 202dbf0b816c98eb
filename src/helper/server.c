/*
 * server.c — accept, check the peer, read lines, answer, time out (server.h).
 *
 * Why one event loop and not a process per connection: the workers connect
 * once and keep the connection, requests are small and quick (anything
 * slow is a job, in its own process), and the job table must be shared by
 * every connection — one address space, no locks, no IPC. A round trip is a
 * few tens of microseconds; a fork per connection would cost more than the
 * work. A handler must therefore never block for long: operations that run
 * programs for more than a moment are jobs.
 */
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "aapanel/log.h"
#include "jobs.h"
#include "proto.h"
#include "server.h"

#define READ_CHUNK 16384
/* Responses waiting for a client that does not read: stop taking its requests beyond this. */
#define OUT_MAX (1024 * 1024)
/* Descriptors waiting to go out with their answers (SCM_RIGHTS), per connection. */
#define FDS_MAX 8
/* A connection with nothing pending is closed after this long. */
#define IDLE_MS (60 * 1000)
/* Refused peers are logged at most this often (a local flood must not flood the journal). */
#define REFUSE_LOG_MS 1000

enum ev_kind { EV_LISTEN, EV_SIGNAL, EV_JOBS, EV_CONN, EV_ASYNC };

struct ev {
	enum ev_kind kind;
};

struct conn;

/* An answer coming from a child (proto.h's ap_proto_defer). */
struct async {
	struct ev ev; /* first */
	int fd;
	pid_t pid;
	int64_t id;
	struct conn *c; /* NULL once its connection is gone: read to the end, reaped, dropped */
	struct ap_buf buf;
	struct async *next;
};

struct conn {
	struct ev ev; /* first: epoll's data.ptr points here */
	int fd;
	uid_t uid;
	pid_t pid;
	struct ap_buf in;
	size_t in_off;   /* bytes of in already handled */
	struct ap_buf out;
	size_t out_off;  /* bytes of out already written */
	uint64_t line_since; /* when the pending partial line began; 0 = none */
	uint64_t active;     /* last read, or write progress */
	bool closing;        /* close once out is written */
	bool dead;           /* closed; freed after the current batch of events */
	/* Descriptors to pass: fds[i] goes with the byte of out at fd_at[i] (the first of its
	 * answer), in order; closed here once sent. */
	int fds[FDS_MAX];
	size_t fd_at[FDS_MAX];
	size_t nfds;
	uint32_t events;     /* registered epoll events */
	bool eof;            /* the client is done sending (closing once wait is over) */
	struct async *wait;  /* an answer still coming: the next lines wait, nothing is read */
	struct conn *next;
};

struct server {
	const struct ap_server_opts *o;
	int ep;
	struct ev lev, sev, jev;
	struct conn *conns;
	struct conn *dead; /* closed during this batch of events */
	struct async *asyncs;
	size_t nconns;
	struct ap_arena *arena;
	int reserve_fd; /* kept free so EMFILE can still be answered */
	uint64_t refuse_logged;
	unsigned refused_quiet;
	bool stop;
};

/* ---- the listening socket ------------------------------------------- */

static bool
someone_listens(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool yes;

	if (fd < 0)
		return false;
	yes = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
	close(fd);
	return yes;
}

enum ap_err
ap_server_listen(const char *path, uid_t panel_uid, gid_t panel_gid, int *fd, bool *activated,
    char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	char dir[PATH_MAX];
	char *slash;
	mode_t old;
	int n = sd_listen_fds(1), s;

	*fd = -1;
	*activated = false;
	if (path == NULL || path[0] != '/') {
		ap_errf(err, errlen, "helper.socket must be an absolute path");
		return AP_ERR_INVAL;
	}
	if (n < 0 || n > 1) {
		ap_errf(err, errlen, "systemd passed %d sockets; the helper takes one", n);
		return AP_ERR_INVAL;
	}
	if (n == 1) {
		s = SD_LISTEN_FDS_START;
		if (sd_is_socket_unix(s, SOCK_STREAM, 1, path, 0) <= 0) {
			ap_errf(err, errlen,
			    "the socket systemd passed is not a listening unix socket at %s "
			    "(helper.socket and ListenStream= must agree)",
			    path);
			return AP_ERR_INVAL;
		}
		fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK);
		fcntl(s, F_SETFD, FD_CLOEXEC);
		*fd = s;
		*activated = true;
		return AP_OK;
	}
	if (strlen(path) >= sizeof(sa.sun_path) || strlen(path) >= sizeof(dir)) {
		ap_errf(err, errlen, "socket path %s is too long", path);
		return AP_ERR_INVAL;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	memcpy(dir, path, strlen(path) + 1);
	slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
			ap_errf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
			return AP_ERR_IO;
		}
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			ap_errf(err, errlen, "%s exists and is not a socket", path);
			return AP_ERR_INVAL;
		}
		if (someone_listens(&sa)) {
			ap_errf(err, errlen, "another helper is already listening on %s", path);
			return AP_ERR_INVAL;
		}
		unlink(path); /* a stale socket from a helper that was killed */
	}
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0) {
		ap_errf(err, errlen, "socket: %s", strerror(errno));
		return AP_ERR_IO;
	}
	old = umask(0177); /* never briefly world-connectable */
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		umask(old);
		ap_errf(err, errlen, "bind %s: %s", path, strerror(errno));
		close(s);
		return AP_ERR_IO;
	}
	umask(old);
	if (panel_uid != geteuid() &&
	    (chown(path, (uid_t)-1, panel_gid) != 0 || chmod(path, 0660) != 0)) {
		ap_errf(err, errlen, "cannot give %s to group %u: %s", path, (unsigned)panel_gid,
		    strerror(errno));
		close(s);
		unlink(path);
		return AP_ERR_IO;
	}
	if (listen(s, SOMAXCONN) != 0) {
		ap_errf(err, errlen, "listen %s: %s", path, strerror(errno));
		close(s);
		unlink(path);
		return AP_ERR_IO;
	}
	*fd = s;
	return AP_OK;
}

/* ---- connections ---------------------------------------------------- */

static void
set_events(struct server *sv, struct conn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = &c->ev };

	if (c->events == events)
		return;
	if (epoll_ctl(sv->ep, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->events = events;
}

/*
 * Close without leaving unread bytes behind: on AF_UNIX, closing with data
 * still queued makes the peer read ECONNRESET instead of our last line.
 */
static void
close_quietly(int fd)
{
	char sink[4096];

	shutdown(fd, SHUT_WR);
	for (int i = 0; i < 64 && recv(fd, sink, sizeof(sink), MSG_DONTWAIT) > 0; i++)
		;
	close(fd);
}

/*
 * Close a connection now; its memory goes when the current batch of epoll
 * events is done (a later event of the batch may still point at it).
 */
static void
conn_free(struct server *sv, struct conn *c)
{
	for (struct conn **pp = &sv->conns; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	if (c->wait != NULL)
		c->wait->c = NULL;
	c->wait = NULL;
	epoll_ctl(sv->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close_quietly(c->fd);
	for (size_t i = 0; i < c->nfds; i++)
		close(c->fds[i]);
	c->nfds = 0;
	c->fd = -1;
	c->dead = true;
	c->next = sv->dead;
	sv->dead = c;
	sv->nconns--;
}

static void
bury(struct server *sv)
{
	while (sv->dead != NULL) {
		struct conn *c = sv->dead;

		sv->dead = c->next;
		ap_buf_free(&c->in);
		ap_buf_free(&c->out);
		free(c);
	}
}

static size_t
out_pending(const struct conn *c)
{
	return c->out.len - c->out_off;
}

/* Write what is pending; false when the connection is gone. */
static bool
conn_write(struct server *sv, struct conn *c)
{
	while (out_pending(c) > 0) {
		size_t n = out_pending(c);
		bool with_fd = c->nfds > 0 && c->fd_at[0] == c->out_off;
		ssize_t w;

		/* A send never spans the byte a descriptor goes with. */
		if (c->nfds > (with_fd ? 1u : 0u))
			n = c->fd_at[with_fd ? 1 : 0] - c->out_off;
		if (with_fd) {
			union {
				struct cmsghdr h;
				char buf[CMSG_SPACE(sizeof(int))];
			} u;
			struct iovec iov = { .iov_base = c->out.data + c->out_off, .iov_len = n };
			struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				.msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
			struct cmsghdr *cm;

			memset(&u, 0, sizeof(u));
			cm = CMSG_FIRSTHDR(&mh);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(cm), &c->fds[0], sizeof(int));
			w = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (w > 0) {
				close(c->fds[0]);
				c->nfds--;
				memmove(c->fds, c->fds + 1, c->nfds * sizeof(c->fds[0]));
				memmove(c->fd_at, c->fd_at + 1, c->nfds * sizeof(c->fd_at[0]));
			}
		} else {
			w = send(c->fd, c->out.data + c->out_off, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		}
		if (w > 0) {
			c->out_off += (size_t)w;
			c->active = ap_now_ms();
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			/* Too many answers waiting: read no more until the client catches up. */
			bool more = !c->closing && out_pending(c) < OUT_MAX && c->wait == NULL;

			set_events(sv, c, EPOLLOUT | (more ? EPOLLIN : 0));
			return true;
		}
		conn_free(sv, c); /* the client went away */
		return false;
	}
	ap_buf_reset(&c->out);
	c->out_off = 0;
	if (c->wait != NULL) {
		/* Nothing read until the answer is in (a hang-up still shows as EPOLLHUP). */
		set_events(sv, c, 0);
		return true;
	}
	if (c->closing) {
		conn_free(sv, c);
		return false;
	}
	set_events(sv, c, EPOLLIN);
	return true;
}

/* Answer about the connection itself and close it once written. */
static void
conn_refuse(struct conn *c, enum ap_pb_code code, const char *reason)
{
	ap_proto_error_line(&c->out, code, reason);
	c->closing = true;
	ap_buf_reset(&c->in);
	c->in_off = 0;
}

static void
async_start(struct server *sv, struct conn *c, struct ap_proto_defer *d)
{
	struct async *a = calloc(1, sizeof(*a));
	struct epoll_event ev = { .events = EPOLLIN };

	if (a == NULL) {
		/* The child runs on; its answer is lost: say so now (its own end reaps it). */
		close(d->fd);
		kill(d->pid, SIGKILL);
		waitpid(d->pid, NULL, 0);
		ap_proto_error_for(&c->out, d->id, AP_PB_INTERNAL, "out of memory");
		d->fd = -1;
		return;
	}
	a->ev.kind = EV_ASYNC;
	a->fd = d->fd;
	a->pid = d->pid;
	a->id = d->id;
	a->c = c;
	ev.data.ptr = &a->ev;
	epoll_ctl(sv->ep, EPOLL_CTL_ADD, a->fd, &ev);
	a->next = sv->asyncs;
	sv->asyncs = a;
	c->wait = a;
	d->fd = -1;
}

static void conn_lines(struct server *sv, struct conn *c);

/* The child's answer is readable: take it; at its end, give it to the connection. */
static void
async_read(struct server *sv, struct async *a)
{
	char chunk[READ_CHUNK];
	struct conn *c;
	int st = 0;

	for (;;) {
		ssize_t r = read(a->fd, chunk, sizeof(chunk));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return;
		if (r <= 0)
			break;
		if (a->buf.len < (size_t)sv->o->cfg->helper_max_message * 4)
			ap_buf_append(&a->buf, chunk, (size_t)r);
	}
	epoll_ctl(sv->ep, EPOLL_CTL_DEL, a->fd, NULL);
	close(a->fd);
	while (waitpid(a->pid, &st, 0) < 0 && errno == EINTR)
		;
	for (struct async **pp = &sv->asyncs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == a) {
			*pp = a->next;
			break;
		}
	c = a->c;
	if (c != NULL && !c->dead) {
		c->wait = NULL;
		if (a->buf.len > 0 && a->buf.data[a->buf.len - 1] == '\n')
			ap_buf_append(&c->out, a->buf.data, a->buf.len);
		else
			ap_proto_error_for(&c->out, a->id, AP_PB_TIMEOUT,
			    WIFSIGNALED(st) ? "the operation did not finish within helper.timeout_ms"
					    : "the operation ended without an answer");
		conn_lines(sv, c);
		if (c->eof && c->wait == NULL)
			c->closing = true;
		conn_write(sv, c);
	}
	ap_buf_free(&a->buf);
	free(a);
}

/* Handle every complete line buffered, while the client keeps up with the answers. */
static void
conn_lines(struct server *sv, struct conn *c)
{
	const struct ap_config *cfg = sv->o->cfg;
	size_t max = (size_t)cfg->helper_max_message;
	int pass_fd = -1;
	struct ap_proto_defer defer = { .fd = -1 };
	struct ap_proto_env env = { .cfg = cfg, .sandbox_fd = sv->o->sandbox_fd,
		.peer_uid = c->uid, .arena = sv->arena, .pass_fd = &pass_fd, .defer = &defer };

	while (!c->closing && c->wait == NULL && out_pending(c) < OUT_MAX && c->nfds < FDS_MAX) {
		char *start = c->in.data + c->in_off;
		size_t avail = c->in.len - c->in_off;
		char *nl = avail > 0 ? memchr(start, '\n', avail) : NULL;
		size_t len;

		if (nl == NULL) {
			if (avail > max) {
				char why[96];

				snprintf(why, sizeof(why),
				    "the request is larger than helper.max_message (%zu bytes)", max);
				AP_WARN("uid %u pid %d: %s", (unsigned)c->uid, (int)c->pid, why);
				conn_refuse(c, AP_PB_TOO_LARGE, why);
				return;
			}
			break;
		}
		len = (size_t)(nl - start);
		c->in_off += len + 1;
		if (len > max) {
			char why[96];

			snprintf(why, sizeof(why),
			    "the request is larger than helper.max_message (%zu bytes)", max);
			conn_refuse(c, AP_PB_TOO_LARGE, why);
			return;
		}
		size_t at = c->out.len;

		pass_fd = -1;
		if (!ap_proto_handle(&env, start, len, &c->out))
			c->closing = true;
		if (pass_fd >= 0) {
			c->fds[c->nfds] = pass_fd;
			c->fd_at[c->nfds] = at;
			c->nfds++;
		}
		if (defer.fd >= 0)
			async_start(sv, c, &defer);
		ap_arena_reset(sv->arena);
	}
	/*
	 * Keep the unhandled rest at the front of the buffer. The clock of a
	 * partial line starts when it began: now, if a complete line was just
	 * taken before it.
	 */
	if (c->in_off > 0) {
		memmove(c->in.data, c->in.data + c->in_off, c->in.len - c->in_off);
		c->in.len -= c->in_off;
		c->in_off = 0;
		c->line_since = 0;
	}
	if (c->in.len == 0)
		c->line_since = 0;
	else if (c->line_since == 0)
		c->line_since = ap_now_ms();
}

static void
conn_read(struct server *sv, struct conn *c)
{
	char chunk[READ_CHUNK];
	bool eof = false;

	while (!c->closing && c->wait == NULL && out_pending(c) < OUT_MAX) {
		ssize_t r = recv(c->fd, chunk, sizeof(chunk), 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			break;
		if (r <= 0) {
			eof = true;
			break;
		}
		c->active = ap_now_ms();
		ap_buf_append(&c->in, chunk, (size_t)r);
		conn_lines(sv, c);
	}
	/* The client is done sending (half-close): answer what it sent, then close. */
	if (eof) {
		conn_lines(sv, c);
		if (c->wait != NULL)
			c->eof = true; /* closed once the answers still coming are written */
		else
			c->closing = true;
	}
	conn_write(sv, c);
}

/* The client read its answers: handle the lines held back meanwhile. */
static void
conn_resume(struct server *sv, struct conn *c)
{
	if (!conn_write(sv, c) || out_pending(c) > 0)
		return;
	conn_lines(sv, c);
	conn_write(sv, c);
}

static void
refuse_log(struct server *sv, const char *fmt, unsigned uid, int pid)
{
	uint64_t now = ap_now_ms();

	if (now - sv->refuse_logged < REFUSE_LOG_MS) {
		sv->refused_quiet++;
		return;
	}
	if (sv->refused_quiet > 0)
		AP_WARN("%u more connections refused in the last second", sv->refused_quiet);
	sv->refused_quiet = 0;
	sv->refuse_logged = now;
	AP_WARN(fmt, uid, pid);
}

/* Answer a connection we will not serve, without waiting for it. */
static void
refuse_now(int fd, enum ap_pb_code code, const char *reason)
{
	struct ap_buf b = { 0 };

	ap_proto_error_line(&b, code, reason);
	(void)!send(fd, b.data, b.len, MSG_NOSIGNAL | MSG_DONTWAIT);
	ap_buf_free(&b);
	close_quietly(fd);
}

static void
accept_all(struct server *sv)
{
	for (;;) {
		struct ucred cred;
		socklen_t len = sizeof(cred);
		struct epoll_event ev;
		struct conn *c;
		int fd = accept4(sv->o->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0 && errno == EINTR)
			continue;
		if (fd < 0 && (errno == EMFILE || errno == ENFILE) && sv->reserve_fd >= 0) {
			/* Out of descriptors: free the reserve to say "busy" instead of spinning. */
			close(sv->reserve_fd);
			fd = accept4(sv->o->listen_fd, NULL, NULL, SOCK_CLOEXEC);
			if (fd >= 0)
				refuse_now(fd, AP_PB_BUSY, "the helper is out of file descriptors");
			sv->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
			AP_ERROR("out of file descriptors; refusing connections");
			continue;
		}
		if (fd < 0)
			return; /* EAGAIN, or an error the next event retries */
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
			refuse_now(fd, AP_PB_DENIED, "the peer's credentials cannot be read");
			continue;
		}
		if (cred.uid != sv->o->panel_uid) {
			char why[96];

			snprintf(why, sizeof(why), "uid %u may not use the helper",
			    (unsigned)cred.uid);
			refuse_now(fd, AP_PB_DENIED, why);
			refuse_log(sv, "refused uid %u (pid %d): not the panel's user",
			    (unsigned)cred.uid, (int)cred.pid);
			continue;
		}
		if (sv->nconns >= (size_t)sv->o->cfg->helper_max_clients) {
			refuse_now(fd, AP_PB_BUSY, "too many connections (helper.max_clients)");
			refuse_log(sv, "refused a connection of uid %u (pid %d): helper.max_clients",
			    (unsigned)cred.uid, (int)cred.pid);
			continue;
		}
		c = ap_xcalloc(1, sizeof(*c));
		c->ev.kind = EV_CONN;
		c->fd = fd;
		c->uid = cred.uid;
		c->pid = cred.pid;
		c->active = ap_now_ms();
		c->events = EPOLLIN;
		ev = (struct epoll_event){ .events = EPOLLIN, .data.ptr = &c->ev };
		if (epoll_ctl(sv->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
			AP_ERROR("epoll_ctl: %s", strerror(errno));
			close(fd);
			free(c);
			continue;
		}
		c->next = sv->conns;
		sv->conns = c;
		sv->nconns++;
		AP_DEBUG("connection from uid %u pid %d", (unsigned)cred.uid, (int)cred.pid);
	}
}

/* Deadlines of every connection; returns ms to the next one (-1 for none). */
static int
conn_timeouts(struct server *sv)
{
	uint64_t now = ap_now_ms(), next = UINT64_MAX;
	int timeout = sv->o->cfg->helper_timeout_ms;

	for (struct conn *c = sv->conns, *nx; c != NULL; c = nx) {
		uint64_t at;

		nx = c->next;
		if (out_pending(c) > 0) {
			/* Answers nobody reads: give up on the client. */
			at = c->active + 10ULL * (uint64_t)timeout;
			if (now >= at) {
				AP_WARN("uid %u pid %d does not read its answers; closing",
				    (unsigned)c->uid, (int)c->pid);
				conn_free(sv, c);
				continue;
			}
		} else if (c->wait != NULL) {
			continue; /* the child is bounded by itself (proto.c) */
		} else if (c->line_since != 0) {
			at = c->line_since + (uint64_t)timeout;
			if (now >= at) {
				char why[96];

				snprintf(why, sizeof(why),
				    "the request line was not completed within %d ms", timeout);
				AP_INFO("uid %u pid %d: %s", (unsigned)c->uid, (int)c->pid, why);
				conn_refuse(c, AP_PB_TIMEOUT, why);
				conn_write(sv, c);
				continue;
			}
		} else {
			at = c->active + IDLE_MS;
			if (now >= at) {
				conn_free(sv, c);
				continue;
			}
		}
		if (at < next)
			next = at;
	}
	if (next == UINT64_MAX)
		return -1;
	return next <= now ? 0 : (int)(next - now);
}

static void
take_signals(struct server *sv, int sfd)
{
	struct signalfd_siginfo si;

	while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			ap_jobs_reap();
			break;
		case SIGTERM:
		case SIGINT:
			AP_INFO("signal %u: stopping", si.ssi_signo);
			sv->stop = true;
			break;
		case SIGHUP:
			AP_INFO("SIGHUP: the helper does not reload; restart it to read the "
				"configuration again");
			break;
		default:
			break;
		}
	}
}

static int
min_timeout(int a, int b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

int
ap_server_run(const struct ap_server_opts *o)
{
	struct server sv = { .o = o, .ep = -1, .reserve_fd = -1 };
	struct epoll_event ev;
	sigset_t mask;
	uint64_t wd_usec = 0, wd_next = 0;
	int sfd = -1, jfd, rc = 1;

	sv.lev.kind = EV_LISTEN;
	sv.sev.kind = EV_SIGNAL;
	sv.jev.kind = EV_JOBS;
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) != 0 ||
	    (sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
		AP_ERROR("signalfd: %s", strerror(errno));
		goto out;
	}
	sv.ep = epoll_create1(EPOLL_CLOEXEC);
	jfd = ap_jobs_init(o->cfg, o->sandbox_fd);
	if (sv.ep < 0 || jfd < 0) {
		AP_ERROR("epoll_create1: %s", strerror(errno));
		goto out;
	}
	ev = (struct epoll_event){ .events = EPOLLIN, .data.ptr = &sv.lev };
	epoll_ctl(sv.ep, EPOLL_CTL_ADD, o->listen_fd, &ev);
	ev = (struct epoll_event){ .events = EPOLLIN, .data.ptr = &sv.sev };
	epoll_ctl(sv.ep, EPOLL_CTL_ADD, sfd, &ev);
	ev = (struct epoll_event){ .events = EPOLLIN, .data.ptr = &sv.jev };
	epoll_ctl(sv.ep, EPOLL_CTL_ADD, jfd, &ev);
	sv.arena = ap_arena_new();
	sv.reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (sd_watchdog_enabled(0, &wd_usec) <= 0)
		wd_usec = 0;
	AP_INFO("serving %s (%s) for uid %u, sandbox %s, profile %s", o->socket_path,
	    o->activated ? "from systemd" : "bound here", (unsigned)o->panel_uid,
	    o->cfg->helper_sandbox_root, ap_profile_name(o->cfg->profile));
	sd_notifyf(0, "READY=1\nSTATUS=serving %s", o->socket_path);

	while (!sv.stop) {
		struct epoll_event evs[64];
		int n, timeout = min_timeout(conn_timeouts(&sv), ap_jobs_tick());

		if (wd_usec > 0) {
			uint64_t now = ap_now_ms();

			if (now >= wd_next) {
				sd_notify(0, "WATCHDOG=1");
				wd_next = now + wd_usec / 2000;
			}
			timeout = min_timeout(timeout, (int)(wd_next - now));
		}
		n = epoll_wait(sv.ep, evs, (int)AP_NELEM(evs), timeout);
		if (n < 0 && errno != EINTR) {
			AP_ERROR("epoll_wait: %s", strerror(errno));
			goto out;
		}
		for (int i = 0; i < n; i++) {
			struct ev *e = evs[i].data.ptr;

			switch (e->kind) {
			case EV_LISTEN:
				accept_all(&sv);
				break;
			case EV_SIGNAL:
				take_signals(&sv, sfd);
				break;
			case EV_JOBS:
				ap_jobs_events();
				break;
			case EV_ASYNC:
				async_read(&sv, (struct async *)e);
				break;
			case EV_CONN: {
				struct conn *c = (struct conn *)e;

				if (c->dead)
					break;
				if (c->wait != NULL) {
					/* Waiting: nothing is read; earlier answers still go out. A
					 * hang-up means the client is gone. */
					if (evs[i].events & (EPOLLHUP | EPOLLERR))
						conn_free(&sv, c);
					else if (evs[i].events & EPOLLOUT)
						conn_resume(&sv, c);
					break;
				}
				if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
					conn_read(&sv, c);
				else if (evs[i].events & EPOLLOUT)
					conn_resume(&sv, c);
				break;
			}
			}
		}
		bury(&sv);
	}
	rc = 0;
out:
	sd_notify(0, "STOPPING=1");
	ap_jobs_shutdown();
	while (sv.asyncs != NULL) {
		struct async *a = sv.asyncs;

		sv.asyncs = a->next;
		kill(a->pid, SIGKILL);
		waitpid(a->pid, NULL, 0);
		close(a->fd);
		if (a->c != NULL)
			a->c->wait = NULL;
		ap_buf_free(&a->buf);
		free(a);
	}
	while (sv.conns != NULL) {
		struct conn *c = sv.conns;

		if (conn_write(&sv, c))
			conn_free(&sv, c);
	}
	bury(&sv);
	if (!o->activated && o->socket_path != NULL)
		unlink(o->socket_path);
	ap_arena_free(sv.arena);
	if (sv.reserve_fd >= 0)
		close(sv.reserve_fd);
	if (sfd >= 0)
		close(sfd);
	if (sv.ep >= 0)
		close(sv.ep);
	AP_INFO("stopped");
	return rc;
}
