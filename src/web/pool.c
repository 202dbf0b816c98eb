/*
 * pool.c — master and workers (see pool.h).
 *
 * The master serves no request. Workers accept on the shared listening
 * socket, which is non-blocking so that a worker that loses the accept race
 * goes back to epoll_pwait(): SIGTERM is blocked everywhere except inside
 * that wait, so a worker asked to stop always finishes the request it is
 * serving and never stops in the middle of one. EPOLLEXCLUSIVE keeps a new
 * connection from waking every idle worker.
 */
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "aapanel/app.h"
#include "aapanel/crypto.h"
#include "aapanel/log.h"
#include "aapanel/pool.h"
#include "aapanel/sampler.h"

#define CRASH_WINDOW_MS 60000u
#define TICK_MS 100
/* An idle worker waits for a connection at most this long, then beats. */
#define WORKER_BEAT_MS 1000
/* A starting or idle worker silent this long is hung (stopped, deadlocked):
 * it is killed and replaced. Five missed beats. */
#define WORKER_SILENT_MS 5000u
/* A lost listening socket we bound ourselves is re-created at once; when
 * that keeps failing this long, the master gives up (exit 1). */
#define LISTENER_RETRY_MS 10000u

struct master {
	struct ap_config *cfg;
	const struct ap_config_opts *opts;
	const struct ap_route *routes; /* the panel's route table, for every generation */
	size_t nroutes;
	struct ap_app app;
	int sfd;            /* signalfd for SIGCHLD, SIGHUP, SIGTERM, SIGINT, SIGQUIT */
	int lfd;
	bool lfd_owned;     /* false: systemd passed it (LISTEN_FDS) and keeps owning it */
	char *sock_created; /* path we bound (unlinked at exit if still ours), NULL when inherited */
	/* The listening socket's path and the inode it had when we got it: the
	 * tick loop compares, so a deleted or replaced socket is noticed. */
	char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	bool sock_watch;    /* false: no path to watch (abstract socket) */
	dev_t sock_dev;
	ino_t sock_ino;
	int ifd, iwd;       /* inotify on the socket's directory: notice at once */
	uint64_t sock_lost_ms; /* when the loss was noticed; 0 = not lost */
	uint64_t sock_retry_ms;
	int exit_status;    /* returned by run_loop once stopped */
	struct ap_sb *sb;
	char *sb_path;
	uint32_t gen;
	int target;
	uint64_t *crashes; /* ring of abnormal-exit times (ms) */
	unsigned ncrash_cap, crash_head;
	bool stopping;
	uint64_t stop_deadline;
	uint64_t watchdog_ms; /* 0 = off */
	uint64_t last_watchdog, last_status;
	int log_fd;
	/* The sampler (monitor.enabled): its socket, held here so that a
	 * restarted sampler serves on the same one; its pid, 0 when none runs;
	 * when to start it again after it died (backoff doubles, up to 30 s). */
	int efd;
	pid_t sampler_pid;
	uint64_t sampler_at;
	unsigned sampler_backoff_ms;
	uint64_t sampler_started;
	char *efd_path;     /* the path bound (a reload may name another: it waits for a restart) */
};

/* ---------------------------------------------------------------- worker */

static volatile sig_atomic_t worker_stop;

static void
worker_on_term(int sig)
{
	/* SIGUSR2: the pool stops for good and nobody else will accept what
	 * is queued on the socket; serve it before leaving (worker_drain). */
	worker_stop = sig == SIGUSR2 ? 2 : 1;
}

static ssize_t
fcgx_read(void *p, void *buf, size_t n)
{
	FCGX_Request *r = p;
	int got = FCGX_GetStr(buf, n > INT_MAX ? INT_MAX : (int)n, r->in);

	return got < 0 ? -1 : got;
}

/*
 * Large pieces (a download's 256 KiB reads) as whole FastCGI stdout records
 * written straight to the connection, several in one writev: libfcgi's
 * stream copies into an 8 KiB buffer and writes a record of each, which made
 * a 200 MiB download 25,600 writes. What it buffered is flushed first, so the
 * order of the bytes is kept. Small pieces (headers, pages) go through it.
 */
#define REC_DATA 65528 /* a record's content: at most 65535, a multiple of 8 (no padding) */
#define DIRECT_MIN 32768

/* false: nothing was written (the caller uses the stream); true: written, or dropped on a write error. */
static bool
direct_write(FCGX_Request *r, const char *p, size_t n)
{
	unsigned char hdr[8][8];
	struct iovec iov[16];

	if (FCGX_FFlush(r->out) != 0 || r->ipcFd < 0)
		return false;
	while (n > 0) {
		int k = 0;
		ssize_t w;

		for (; n > 0 && k < 16; k += 2) {
			size_t c = n < REC_DATA ? n : REC_DATA;
			unsigned char *h = hdr[k / 2];

			h[0] = 1;		   /* FCGI_VERSION_1 */
			h[1] = 6;		   /* FCGI_STDOUT */
			h[2] = (unsigned char)((r->requestId >> 8) & 0xff);
			h[3] = (unsigned char)(r->requestId & 0xff);
			h[4] = (unsigned char)((c >> 8) & 0xff);
			h[5] = (unsigned char)(c & 0xff);
			h[6] = h[7] = 0;
			iov[k].iov_base = h;
			iov[k].iov_len = 8;
			iov[k + 1].iov_base = (void *)p;
			iov[k + 1].iov_len = c;
			p += c;
			n -= c;
		}
		for (int i = 0; i < k;) {
			do
				w = writev(r->ipcFd, iov + i, k - i);
			while (w < 0 && errno == EINTR);
			if (w <= 0)
				return true; /* the client is gone: the rest is dropped (never sent twice) */
			while (i < k && (size_t)w >= iov[i].iov_len)
				w -= (ssize_t)iov[i++].iov_len;
			if (i < k) {
				iov[i].iov_base = (char *)iov[i].iov_base + w;
				iov[i].iov_len -= (size_t)w;
			}
		}
	}
	return true;
}

static void
fcgx_write(void *p, const void *buf, size_t n)
{
	FCGX_Request *r = p;

	if (n >= DIRECT_MIN && direct_write(r, buf, n))
		return;
	(void)FCGX_PutStr(buf, (int)n, r->out);
}

static const char *
env_get(char *const *envp, const char *name)
{
	size_t n = strlen(name);

	for (; envp && *envp; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

static long
recycle_after(const struct ap_config *cfg)
{
	uint32_t r = 0;
	long j = cfg->max_requests_jitter, n = cfg->max_requests;

	if (n <= 0)
		return 0;
	if (j > 0) {
		ap_random_bytes(&r, sizeof(r));
		n += (long)(r % (uint32_t)(2 * j + 1)) - j;
	}
	return n < 1 ? 1 : n;
}

static bool listener_present(const struct master *m);

static void
serve_one(struct master *m, unsigned slot, FCGX_Request *req, struct ap_arena *arena)
{
	ap_sb_begin(m->sb, slot, env_get(req->envp, "REQUEST_METHOD"), env_get(req->envp, "REQUEST_URI"),
	    env_get(req->envp, "REQUEST_ID"));
	ap_app_serve(&m->app, arena, req->envp, fcgx_read, req, fcgx_write, req);
	FCGX_Finish_r(req);
	ap_sb_end(m->sb, slot);
	ap_arena_reset(arena);
}

/*
 * The pool stops for good: answer every connection already queued on the
 * listening socket instead of leaving it to be reset when the last
 * descriptor closes (nginx answers 502 to a POST it had sent, and does not
 * send it elsewhere). The master unlinked the socket's path first, so no
 * connection joins the queue and this ends at the first EAGAIN; when the
 * master itself was killed, the first worker here unlinks it. Bounded by
 * pool.shutdown_timeout: the master kills what is left after it.
 */
static void
worker_drain(struct master *m, unsigned slot, FCGX_Request *req, struct ap_arena *arena, pid_t master)
{
	long n = 0;
	int rc;

	if (getppid() != master && m->lfd_owned && m->sock_watch && listener_present(m))
		unlink(m->sock_path);
	for (;;) {
		rc = FCGX_Accept_r(req);
		if (rc == -EINTR || rc == -ECONNABORTED)
			continue;
		if (rc < 0)
			break;
		serve_one(m, slot, req, arena);
		n++;
	}
	if (n > 0)
		AP_INFO("stopping: answered %ld queued request(s) first", n);
}

static void __attribute__((noreturn))
worker_main(struct master *m, unsigned slot)
{
	struct ap_app *app = &m->app;
	struct sigaction sa;
	sigset_t block, waitmask;
	FCGX_Request req;
	struct ap_arena *arena;
	long limit = recycle_after(m->cfg), served = 0;
	struct ap_sb_slot *s;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE };
	pid_t master = getppid();
	int epfd;

	ap_log_init("worker", AP_LOG_INFO, m->log_fd);
	{
		enum ap_log_level lvl;
		if (ap_log_level_parse(m->cfg->log_level, &lvl))
			ap_log_set_level(lvl);
	}
	/* The master killed: drain what is queued on a socket of our own (a
	 * systemd socket keeps its queue for the next master). */
	prctl(PR_SET_PDEATHSIG, m->lfd_owned ? SIGUSR2 : SIGTERM);
	prctl(PR_SET_NAME, "aapanel-worker");

	/* Ctrl-C reaches the whole process group: only the master reacts. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = worker_on_term;
	sigaction(SIGTERM, &sa, NULL); /* no SA_RESTART: ppoll returns EINTR */
	sigaction(SIGUSR2, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGUSR2);
	sigprocmask(SIG_SETMASK, &block, NULL);
	sigemptyset(&waitmask);

	if (m->efd >= 0)
		close(m->efd); /* the sampler's, not a worker's */
	app->sb = m->sb;
	app->slot = (int)slot;
	s = ap_sb_slot(m->sb, slot);
	s->pid = (int32_t)getpid();
	ap_sb_set_state(m->sb, slot, AP_SB_IDLE);

	/* EPOLLEXCLUSIVE: a new connection wakes one idle worker, not all of them. */
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, m->lfd, &ev) != 0) {
		AP_ERROR("epoll: %s", strerror(errno));
		_exit(3);
	}
	FCGX_InitRequest(&req, m->lfd, 0);
	arena = ap_arena_new();
	while (!worker_stop) {
		struct epoll_event got;
		int rc, n;

		/* Bounded wait: an idle worker beats at least once a second, so
		 * the master can tell a hung idle worker from a quiet one. */
		ap_sb_heartbeat(m->sb, slot);
		n = epoll_pwait(epfd, &got, 1, WORKER_BEAT_MS, &waitmask);
		ap_sb_heartbeat(m->sb, slot);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			AP_ERROR("epoll_pwait: %s", strerror(errno));
			break;
		}
		if (worker_stop)
			break;
		if (n == 0)
			continue;
		rc = FCGX_Accept_r(&req);
		if (rc == -EAGAIN || rc == -EWOULDBLOCK || rc == -EINTR || rc == -ECONNABORTED)
			continue;
		if (rc < 0) {
			AP_ERROR("accept: %s", strerror(-rc));
			break;
		}
		serve_one(m, slot, &req, arena);
		if (limit > 0 && ++served >= limit) {
			AP_INFO("recycling after %ld requests", served);
			break;
		}
	}
	if (worker_stop == 2)
		worker_drain(m, slot, &req, arena, master);
	ap_sb_set_state(m->sb, slot, AP_SB_EXITING);
	ap_arena_free(arena);
	_exit(0);
}

/* ---------------------------------------------------------------- master */

/*
 * Watch the socket's directory: an unlink or rename there wakes the tick
 * loop at once, so the socket comes back within milliseconds instead of at
 * the next tick. Best effort: the tick's lstat is what decides, and still
 * runs every TICK_MS when inotify is unavailable.
 */
static void
watch_directory(struct master *m)
{
	char *dir = ap_xstrdup(m->sock_path), *slash = strrchr(dir, '/');

	if (m->ifd < 0)
		m->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (m->ifd >= 0 && m->iwd >= 0)
		inotify_rm_watch(m->ifd, m->iwd);
	m->iwd = -1;
	if (m->ifd >= 0 && slash != NULL) {
		*slash = '\0';
		m->iwd = inotify_add_watch(m->ifd, slash == dir ? "/" : dir,
		    IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE_SELF | IN_MOVE_SELF |
			IN_ONLYDIR);
	}
	free(dir);
}

/* Remember the inode now at the socket's path: the tick loop compares. */
static void
watch_listener(struct master *m, const char *path)
{
	struct stat st;

	snprintf(m->sock_path, sizeof(m->sock_path), "%s", path);
	m->sock_watch = path[0] != '\0';
	m->sock_lost_ms = 0;
	if (m->sock_watch)
		watch_directory(m);
	if (m->sock_watch && lstat(path, &st) == 0) {
		m->sock_dev = st.st_dev;
		m->sock_ino = st.st_ino;
	} else if (m->sock_watch) {
		/* Already gone (systemd passed a socket whose path was deleted). */
		m->sock_dev = 0;
		m->sock_ino = 0;
	}
}

static bool
set_nonblock(int fd)
{
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
		AP_ERROR("fcntl O_NONBLOCK: %s", strerror(errno));
		return false;
	}
	return true;
}

/*
 * The socket systemd passed (fd 3). It stays systemd's: on any failure it
 * is left open, and the master never closes it (m->lfd_owned false).
 */
static int
inherit_listener(struct master *m)
{
	int fd = SD_LISTEN_FDS_START;
	struct sockaddr_un sa;
	socklen_t len = sizeof(sa);

	m->lfd_owned = false;
	if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) <= 0) {
		AP_ERROR("the socket passed by systemd is not a listening unix stream socket");
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	if (getsockname(fd, (struct sockaddr *)&sa, &len) != 0 || len <= offsetof(struct sockaddr_un, sun_path))
		sa.sun_path[0] = '\0';
	sa.sun_path[sizeof(sa.sun_path) - 1] = '\0';
	if (!set_nonblock(fd))
		return -1; /* not ours to close */
	watch_listener(m, sa.sun_path);
	AP_INFO("listening on the socket passed by systemd (fd %d, %s)", fd,
	    sa.sun_path[0] ? sa.sun_path : "abstract");
	return fd;
}

/* Our own socket at server.socket (mode, group, backlog from cfg). */
static int
bind_listener(struct master *m)
{
	const struct ap_config *cfg = m->cfg;
	struct sockaddr_un sa;
	struct stat st;
	int fd = -1;

	m->lfd_owned = true;
	if (strlen(cfg->socket_path) >= sizeof(sa.sun_path)) {
		AP_ERROR("server.socket: path too long (max %zu bytes)", sizeof(sa.sun_path) - 1);
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", cfg->socket_path);
	if (lstat(cfg->socket_path, &st) == 0) {
		int probe;

		if (!S_ISSOCK(st.st_mode)) {
			AP_ERROR("server.socket: %s exists and is not a socket", cfg->socket_path);
			return -1;
		}
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(probe);
			AP_ERROR("server.socket: %s is in use by another running instance", cfg->socket_path);
			return -1;
		}
		if (probe >= 0)
			close(probe);
		unlink(cfg->socket_path); /* stale socket of a previous run */
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		AP_ERROR("socket: %s", strerror(errno));
		return -1;
	}
	{
		mode_t old = umask(0177); /* never world-connectable, even briefly */
		int b = bind(fd, (struct sockaddr *)&sa, sizeof(sa));

		umask(old);
		if (b != 0) {
			AP_ERROR("bind %s: %s", cfg->socket_path, strerror(errno));
			goto fail;
		}
	}
	free(m->sock_created);
	m->sock_created = ap_xstrdup(cfg->socket_path);
	if (cfg->socket_group && cfg->socket_group[0]) {
		struct group *g = getgrnam(cfg->socket_group);

		if (g == NULL || chown(cfg->socket_path, (uid_t)-1, g->gr_gid) != 0) {
			AP_ERROR("server.socket_group: cannot give %s to group %s: %s", cfg->socket_path,
			    cfg->socket_group, g ? strerror(errno) : "no such group");
			goto fail;
		}
	}
	if (chmod(cfg->socket_path, (mode_t)cfg->socket_mode) != 0) {
		AP_ERROR("chmod %s: %s", cfg->socket_path, strerror(errno));
		goto fail;
	}
	if (listen(fd, cfg->backlog) != 0) {
		AP_ERROR("listen: %s", strerror(errno));
		goto fail;
	}
	if (!set_nonblock(fd))
		goto fail;
	watch_listener(m, cfg->socket_path);
	AP_INFO("listening on %s (mode %04o, backlog %d)", cfg->socket_path, cfg->socket_mode,
	    cfg->backlog);
	return fd;
fail:
	close(fd); /* ours: we created it above */
	if (m->sock_created) {
		unlink(m->sock_created);
		free(m->sock_created);
		m->sock_created = NULL;
	}
	return -1;
}

static int
open_listener(struct master *m)
{
	if (sd_listen_fds(1) >= 1)
		return inherit_listener(m);
	return bind_listener(m);
}

/* True while the path still holds the socket we listen on. */
static bool
listener_present(const struct master *m)
{
	struct stat st;

	if (lstat(m->sock_path, &st) != 0)
		return errno != ENOENT; /* only "gone" counts; EACCES and such do not */
	return S_ISSOCK(st.st_mode) && st.st_dev == m->sock_dev && st.st_ino == m->sock_ino;
}

char *
ap_pool_scoreboard_path(const struct ap_config *cfg)
{
	return ap_xasprintf("%s/scoreboard", cfg->run_dir);
}

static void
mkdir_p(const char *path, mode_t mode)
{
	char *p = ap_xstrdup(path);

	for (char *s = p + 1; *s; s++) {
		if (*s == '/') {
			*s = '\0';
			mkdir(p, mode);
			*s = '/';
		}
	}
	mkdir(p, mode);
	free(p);
}

static void
spawn_worker(struct master *m)
{
	int slot = ap_sb_claim(m->sb, m->gen);
	pid_t pid;

	if (slot < 0) {
		AP_ERROR("scoreboard full (%u slots); not starting a worker", ap_sb_nslots(m->sb));
		return;
	}
	pid = fork();
	if (pid < 0) {
		AP_ERROR("fork: %s", strerror(errno));
		ap_sb_release(m->sb, (unsigned)slot);
		return;
	}
	if (pid == 0)
		worker_main(m, (unsigned)slot);
	ap_sb_slot(m->sb, (unsigned)slot)->pid = (int32_t)pid;
	AP_DEBUG("started worker %d (slot %d, generation %u)", (int)pid, slot, m->gen);
}

/* Start the sampler (monitor.enabled): a child that serves on m->efd. */
static void
spawn_sampler(struct master *m)
{
	pid_t pid;

	if (m->efd < 0 || m->sampler_pid > 0 || m->stopping)
		return;
	pid = fork();
	if (pid < 0) {
		AP_ERROR("fork (sampler): %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		sigset_t none;

		/* Not the master's: its descriptors and its blocked signals. */
		if (m->lfd >= 0)
			close(m->lfd);
		if (m->sfd >= 0)
			close(m->sfd);
		if (m->ifd >= 0)
			close(m->ifd);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGCHLD, SIG_DFL);
		ap_sampler_announce_to(m->sb);
		_exit(ap_sampler_main(m->cfg, m->efd, m->log_fd));
	}
	m->sampler_pid = pid;
	m->sampler_started = ap_now_ms();
	AP_DEBUG("started the sampler %d", (int)pid);
}

/* The sampler exited: start it again, at once when it was asked to (reload), else after a pause. */
static void
sampler_exited(struct master *m, int status, bool asked)
{
	m->sampler_pid = 0;
	if (m->stopping)
		return;
	if (asked) {
		m->sampler_at = 0;
		return;
	}
	/* A sampler that ran a while starts again quickly. */
	if (ap_now_ms() - m->sampler_started > 60000)
		m->sampler_backoff_ms = 1000;
	if (WIFSIGNALED(status))
		AP_WARN("the sampler died from signal %d; starting it again in %.1f s", WTERMSIG(status),
		    (double)m->sampler_backoff_ms / 1000.0);
	else
		AP_WARN("the sampler exited with status %d; starting it again in %.1f s", WEXITSTATUS(status),
		    (double)m->sampler_backoff_ms / 1000.0);
	m->sampler_at = ap_now_ms() + m->sampler_backoff_ms;
	m->sampler_backoff_ms = m->sampler_backoff_ms >= 15000 ? 30000 : m->sampler_backoff_ms * 2;
}

/* Live workers of the current generation that are not on their way out. */
static int
current_workers(struct master *m)
{
	int n = 0;

	for (unsigned i = 0; i < ap_sb_nslots(m->sb); i++) {
		struct ap_sb_slot *s = ap_sb_slot(m->sb, i);

		if (s->state != AP_SB_FREE && s->generation == m->gen && s->state != AP_SB_EXITING &&
		    !s->killed)
			n++;
	}
	return n;
}

static int
all_workers(struct master *m)
{
	int n = 0;

	for (unsigned i = 0; i < ap_sb_nslots(m->sb); i++)
		if (ap_sb_slot(m->sb, i)->state != AP_SB_FREE)
			n++;
	return n;
}

static void
signal_workers(struct master *m, int sig, bool old_only)
{
	for (unsigned i = 0; i < ap_sb_nslots(m->sb); i++) {
		struct ap_sb_slot *s = ap_sb_slot(m->sb, i);

		if (s->state == AP_SB_FREE || s->pid <= 0)
			continue;
		if (old_only && s->generation == m->gen)
			continue;
		kill((pid_t)s->pid, sig);
	}
}

/* Record an abnormal exit; true when the crash limit is exceeded. */
static bool
crash_storm(struct master *m)
{
	uint64_t now = ap_now_ms();
	unsigned recent = 0;

	m->crashes[m->crash_head] = now;
	m->crash_head = (m->crash_head + 1) % m->ncrash_cap;
	for (unsigned i = 0; i < m->ncrash_cap; i++)
		if (m->crashes[i] && now - m->crashes[i] < CRASH_WINDOW_MS)
			recent++;
	return recent > (unsigned)m->cfg->crash_limit;
}

/* Returns false when the master must give up (crash storm). */
static bool
reap(struct master *m)
{
	int status;
	pid_t pid;
	bool ok = true;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		int slot;
		bool killed = false, abnormal;

		if (pid == m->sampler_pid) {
			sampler_exited(m, status, m->sampler_at == UINT64_MAX);
			continue;
		}
		slot = ap_sb_find(m->sb, pid);

		if (slot >= 0) {
			killed = ap_sb_slot(m->sb, (unsigned)slot)->killed != 0;
			ap_sb_release(m->sb, (unsigned)slot);
		}
		abnormal = (WIFSIGNALED(status) && !killed) ||
		    (WIFEXITED(status) && WEXITSTATUS(status) != 0);
		if (abnormal) {
			if (WIFSIGNALED(status))
				AP_WARN("worker %d died from signal %d", (int)pid, WTERMSIG(status));
			else
				AP_WARN("worker %d exited with status %d", (int)pid, WEXITSTATUS(status));
			if (!m->stopping && crash_storm(m)) {
				AP_ERROR("more than %d abnormal worker exits in a minute; giving up "
					 "so the service manager can restart the panel",
				    m->cfg->crash_limit);
				ok = false;
			}
		} else {
			AP_DEBUG("worker %d exited", (int)pid);
		}
	}
	return ok;
}

static void
kill_stuck(struct master *m)
{
	uint64_t now = ap_now_ms(), limit = (uint64_t)m->cfg->request_timeout * 1000u;

	for (unsigned i = 0; i < ap_sb_nslots(m->sb); i++) {
		struct ap_sb_slot *s = ap_sb_slot(m->sb, i);
		uint64_t start;

		if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != AP_SB_BUSY || s->killed || s->pid <= 0)
			continue;
		start = __atomic_load_n(&s->req_start_ms, __ATOMIC_ACQUIRE);
		if (start == 0 || now < start || now - start <= limit)
			continue;
		s->killed = 1;
		AP_ERROR("request timeout: killing worker %d serving %.7s %.120s (req=%s) after %.1f s",
		    (int)s->pid, s->method, s->path, s->reqid, (double)(now - start) / 1000.0);
		kill((pid_t)s->pid, SIGKILL);
	}
}

/* Starting or idle workers that stopped beating (SIGSTOP, a deadlock). */
static void
kill_silent(struct master *m, uint64_t now)
{
	for (unsigned i = 0; i < ap_sb_nslots(m->sb); i++) {
		struct ap_sb_slot *s = ap_sb_slot(m->sb, i);
		uint64_t silent = ap_sb_silent_ms(s, now);

		if (silent <= WORKER_SILENT_MS)
			continue;
		s->killed = 1;
		AP_ERROR("worker %d silent for %.1f s while %s (no heartbeat; limit %.1f s): "
			 "killing and replacing it",
		    (int)s->pid, (double)silent / 1000.0, ap_sb_state_name(s->state),
		    (double)WORKER_SILENT_MS / 1000.0);
		kill((pid_t)s->pid, SIGKILL);
	}
}

static void
notify_status(struct master *m)
{
	unsigned busy = 0, live = ap_sb_live(m->sb, &busy);

	sd_notifyf(0, "STATUS=%u workers (%u busy), generation %u", live, busy, m->gen);
}

static bool
init_generation(struct master *m)
{
	struct ap_sb_header *h = ap_sb_header(m->sb);
	int target = ap_config_worker_count(m->cfg, m->app.ncpu);

	if ((unsigned)target > ap_sb_nslots(m->sb) / 2)
		target = (int)(ap_sb_nslots(m->sb) / 2);
	m->target = target;
	h->generation = m->gen;
	h->target_workers = (uint32_t)target;
	snprintf(h->profile, sizeof(h->profile), "%s", ap_profile_name(m->cfg->profile));
	return true;
}

/* Start a full set of workers of a new generation (on the current m->lfd
 * and m->app), then let the old ones finish their request and leave. */
static void
new_generation(struct master *m)
{
	m->gen++;
	init_generation(m);
	for (int i = 0; i < m->target; i++)
		spawn_worker(m);
	signal_workers(m, SIGTERM, true);
}

static void check_listener(struct master *m, uint64_t now);

static void
reload(struct master *m)
{
	struct ap_config_problems probs = { 0 };
	struct ap_config *ncfg = NULL;
	struct ap_app napp;
	char err[512] = "";

	sd_notify(0, "RELOADING=1");
	AP_INFO("SIGHUP: re-reading the configuration");
	if (ap_config_load(m->opts, &ncfg, &probs) != AP_OK) {
		for (size_t i = 0; i < probs.n; i++) {
			char *s = ap_config_problem_str(&probs.v[i]);
			AP_ERROR("reload refused: %s", s);
			free(s);
		}
		ap_config_problems_free(&probs);
		AP_ERROR("configuration invalid; keeping the old configuration and workers");
		goto out;
	}
	/* The other hosts of the database go on with the key this one started
	 * with (hostkey.h): a new key needs every host restarted with it. */
	if (ncfg->secret_key_len != m->cfg->secret_key_len ||
	    !ap_ct_equal(ncfg->secret_key, m->cfg->secret_key, ncfg->secret_key_len)) {
		AP_ERROR("reload refused: security.secret_key_file: the secret key changed; every host "
			 "of the database must change it together (stop them all, docs/operations.md); "
			 "keeping the old configuration and workers");
		ap_config_free(ncfg);
		goto out;
	}
	if (ap_app_init(&napp, ncfg, m->routes, m->nroutes, err, sizeof(err)) != AP_OK) {
		AP_ERROR("reload refused: %s; keeping the old configuration and workers", err);
		ap_config_free(ncfg);
		goto out;
	}
	if (strcmp(ncfg->socket_path, m->cfg->socket_path) != 0)
		AP_WARN("server.socket changed; the new path takes effect after a restart");
	ap_app_fini(&m->app);
	ap_config_free(m->cfg);
	m->cfg = ncfg;
	m->app = napp;
	new_generation(m);
	/* The sampler takes the new configuration too (same socket). */
	if (m->sampler_pid > 0) {
		m->sampler_at = UINT64_MAX; /* asked: started again at once */
		kill(m->sampler_pid, SIGTERM);
	}
	AP_INFO("reloaded: generation %u with %d workers", m->gen, m->target);
out:
	/* A reload is also the moment an operator expects a lost socket back. */
	check_listener(m, ap_now_ms());
	sd_notify(0, "READY=1");
	notify_status(m);
}

static void
begin_stop(struct master *m, const char *why)
{
	if (m->stopping)
		return;
	AP_INFO("%s: finishing in-flight requests and stopping", why);
	sd_notify(0, "STOPPING=1");
	m->stopping = true;
	m->stop_deadline = ap_now_ms() + (uint64_t)m->cfg->shutdown_timeout * 1000u;
	/*
	 * A socket of our own: unlink its path first (nginx's next connect
	 * fails at once and goes to the next server of its upstream), then the
	 * workers answer what is already queued before they leave. A socket
	 * systemd passed keeps its queue for the next start: finish and go.
	 */
	if (m->lfd_owned && m->sock_watch && listener_present(m)) {
		unlink(m->sock_path);
		signal_workers(m, SIGUSR2, false);
	} else
		signal_workers(m, SIGTERM, false);
	if (m->sampler_pid > 0)
		kill(m->sampler_pid, SIGTERM);
}

/* log.file, when set, instead of stderr; false when it cannot be opened. */
static bool
open_log(struct master *m)
{
	const struct ap_config *cfg = m->cfg;
	enum ap_log_level lvl;
	int fd;

	if (cfg->log_file == NULL || cfg->log_file[0] == '\0')
		return true;
	fd = open(cfg->log_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
		AP_ERROR("log.file %s: %s", cfg->log_file, strerror(errno));
		return false;
	}
	m->log_fd = fd;
	ap_log_init("master", AP_LOG_INFO, fd);
	if (ap_log_level_parse(cfg->log_level, &lvl))
		ap_log_set_level(lvl);
	return true;
}

/* The scoreboard file the workers and `aapanel status` read. */
static bool
open_scoreboard(struct master *m)
{
	const struct ap_config *cfg = m->cfg;
	unsigned nslots = 2u * (unsigned)(cfg->max_workers > 8 ? cfg->max_workers : 8) + 4u;
	struct ap_sb_header *h;

	m->sb_path = ap_pool_scoreboard_path(cfg);
	if (ap_sb_create(m->sb_path, nslots, &m->sb) != AP_OK)
		return false;
	h = ap_sb_header(m->sb);
	h->master_pid = (int32_t)getpid();
	h->started_unix = (uint64_t)time(NULL);
	h->started_ms = ap_now_ms();
	snprintf(h->version_str, sizeof(h->version_str), "%s", AP_VERSION);
	/* What `aapanel status` needs to find and judge this pool without a
	 * valid configuration on disk. */
	{
		char *real = realpath(cfg->base_file, NULL);

		snprintf(h->config, sizeof(h->config), "%s", real ? real : cfg->base_file);
		free(real);
	}
	snprintf(h->socket_path, sizeof(h->socket_path), "%s", m->sock_path);
	h->socket_inherited = !m->lfd_owned;
	return true;
}

/* After a loss, bind server.socket again and move the pool onto it. */
static bool
replace_listener(struct master *m, uint64_t now)
{
	int old = m->lfd, fd;
	char *dir = ap_xstrdup(m->cfg->socket_path), *slash = strrchr(dir, '/');
	uint64_t lost_for = now - m->sock_lost_ms;

	/* The directory may have gone with it (rm -r of the run directory). */
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		mkdir_p(dir, 0755);
	}
	free(dir);
	fd = bind_listener(m);
	if (fd < 0)
		return false;
	m->lfd = fd;
	new_generation(m);
	if (old >= 0)
		close(old); /* ours (bound by us); the old workers hold their own copy */
	ap_sb_header(m->sb)->socket_lost = 0;
	AP_INFO("server.socket %s re-created %.1f s after it was lost; generation %u with %d "
		"workers serves on it",
	    m->cfg->socket_path, (double)lost_for / 1000.0, m->gen, m->target);
	notify_status(m);
	return true;
}

/*
 * The listening socket's path is what nginx connects to: when it is deleted
 * or replaced, no request can arrive although the pool looks healthy. A
 * socket we bound is bound again (new generation, like SIGHUP). A socket
 * systemd passed is not ours to re-create: the master stops with
 * AP_POOL_EXIT_SOCKET_LOST, and the unit's OnFailure= restarts aapanel.socket.
 */
static void
check_listener(struct master *m, uint64_t now)
{
	if (!m->sock_watch || m->stopping)
		return;
	if (m->sock_lost_ms == 0) {
		if (listener_present(m))
			return;
		m->sock_lost_ms = now ? now : 1;
		ap_sb_header(m->sb)->socket_lost = 1;
		if (!m->lfd_owned) {
			AP_ERROR("the listening socket %s was deleted or replaced: nginx cannot reach "
				 "the panel. It belongs to systemd (socket activation), so the panel "
				 "cannot re-create it; stopping with exit status %d so that the service "
				 "manager re-creates the socket (systemctl restart aapanel.socket)",
			    m->sock_path, AP_POOL_EXIT_SOCKET_LOST);
			sd_notifyf(0, "STATUS=listening socket %s lost; stopping", m->sock_path);
			m->exit_status = AP_POOL_EXIT_SOCKET_LOST;
			begin_stop(m, "listening socket lost");
			return;
		}
		AP_ERROR("the listening socket %s was deleted or replaced: nginx cannot reach the "
			 "panel; re-creating it",
		    m->sock_path);
		/* Never unlink at exit what is no longer ours. */
		free(m->sock_created);
		m->sock_created = NULL;
		m->sock_retry_ms = 0;
	}
	if (now < m->sock_retry_ms)
		return;
	if (replace_listener(m, now))
		return;
	if (now - m->sock_lost_ms >= LISTENER_RETRY_MS) {
		AP_ERROR("could not re-create the listening socket %s for %.0f s; stopping so that "
			 "the service manager restarts the panel",
		    m->cfg->socket_path, (double)LISTENER_RETRY_MS / 1000.0);
		m->exit_status = 1;
		begin_stop(m, "listening socket not re-created");
		return;
	}
	m->sock_retry_ms = now + 1000; /* retry once a second */
}

/* Signals arrive on a signalfd, read once per tick of the loop. */
static bool
open_signals(struct master *m)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGQUIT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	m->sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (m->sfd < 0) {
		AP_ERROR("signalfd: %s", strerror(errno));
		return false;
	}
	return true;
}

/* Everything before the first request: templates, socket, scoreboard, signals, workers. */
static bool
start(struct master *m)
{
	char err[512] = "";
	uint64_t usec = 0;

	if (!open_log(m))
		return false;
	if (ap_app_init(&m->app, m->cfg, m->routes, m->nroutes, err, sizeof(err)) != AP_OK) {
		AP_ERROR("%s", err);
		return false;
	}
	mkdir_p(m->cfg->run_dir, 0755);
	if ((m->lfd = open_listener(m)) < 0 || !open_scoreboard(m) || !open_signals(m))
		return false;
	m->ncrash_cap = (unsigned)m->cfg->crash_limit + 1u;
	m->crashes = ap_xcalloc(m->ncrash_cap, sizeof(*m->crashes));
	FCGX_Init();
	m->gen = 1;
	init_generation(m);
	for (int i = 0; i < m->target; i++)
		spawn_worker(m);
	if (m->cfg->monitor_enabled) {
		if ((m->efd = ap_sampler_listen(m->cfg)) < 0)
			return false;
		m->efd_path = ap_xstrdup(m->cfg->monitor_socket);
		m->sampler_backoff_ms = 1000;
		spawn_sampler(m);
	}
	if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0)
		m->watchdog_ms = usec / 2000u;
	AP_INFO("aapanel %s serving: profile %s, %d workers, request timeout %d s", AP_VERSION,
	    ap_profile_name(m->cfg->profile), m->target, m->cfg->request_timeout);
	sd_notifyf(0, "READY=1\nMAINPID=%d", (int)getpid());
	notify_status(m);
	return true;
}

/* Act on the signals that arrived since the last tick. */
static void
handle_signals(struct master *m)
{
	struct signalfd_siginfo si;

	while (read(m->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGHUP:
			if (!m->stopping)
				reload(m);
			break;
		case SIGTERM:
		case SIGINT:
		case SIGQUIT:
			begin_stop(m, strsignal((int)si.ssi_signo));
			break;
		default:
			break;
		}
	}
}

/* While stopping: true once every worker is gone; kills the rest after the timeout. */
static bool
stopped(struct master *m, uint64_t now)
{
	if (all_workers(m) == 0 && m->sampler_pid == 0) {
		AP_INFO("stopped");
		return true;
	}
	if (now > m->stop_deadline) {
		AP_WARN("shutdown timeout: killing the remaining workers");
		signal_workers(m, SIGKILL, false);
		if (m->sampler_pid > 0)
			kill(m->sampler_pid, SIGKILL);
		m->stop_deadline = now + 5000;
	}
	return false;
}

/* Serving: stuck requests, missing workers, the watchdog and the status line. */
static void
supervise(struct master *m, uint64_t now)
{
	check_listener(m, now);
	if (m->stopping)
		return;
	kill_stuck(m);
	kill_silent(m, now);
	for (int n = current_workers(m); n < m->target; n++)
		spawn_worker(m);
	if (m->efd >= 0 && m->sampler_pid == 0 && now >= m->sampler_at) {
		spawn_sampler(m);
		if (m->sampler_pid > 0 && m->sampler_at != 0)
			m->sampler_at = 0;
	}
	if (m->watchdog_ms && now - m->last_watchdog >= m->watchdog_ms) {
		sd_notify(0, "WATCHDOG=1");
		m->last_watchdog = now;
	}
	if (now - m->last_status >= 5000) {
		notify_status(m);
		m->last_status = now;
	}
}

/* One tick every TICK_MS (or sooner on a signal) until stopped; the exit status. */
static int
run_loop(struct master *m)
{
	for (;;) {
		struct pollfd p[2] = { { .fd = m->sfd, .events = POLLIN },
			{ .fd = m->ifd, .events = POLLIN } };
		char ev[4096];
		uint64_t now;

		if (poll(p, m->ifd >= 0 ? 2 : 1, TICK_MS) < 0 && errno != EINTR) {
			AP_ERROR("poll: %s", strerror(errno));
			return 1;
		}
		/* Directory events only wake us; check_listener decides. */
		while (m->ifd >= 0 && read(m->ifd, ev, sizeof(ev)) > 0)
			;
		handle_signals(m);
		if (!reap(m)) {
			/* A crash storm: stop everything, let systemd restart the service. */
			m->stopping = true;
			signal_workers(m, SIGKILL, false);
			if (m->sampler_pid > 0)
				kill(m->sampler_pid, SIGKILL);
			while (waitpid(-1, NULL, 0) > 0)
				;
			return 1;
		}
		now = ap_now_ms();
		if (m->stopping) {
			if (stopped(m, now))
				return m->exit_status;
			continue;
		}
		supervise(m, now);
	}
}

static void
cleanup(struct master *m)
{
	if (m->sfd >= 0)
		close(m->sfd);
	if (m->ifd >= 0)
		close(m->ifd);
	if (m->lfd >= 0 && m->lfd_owned)
		close(m->lfd); /* an inherited socket stays open: systemd owns it */
	if (m->sock_created) {
		/* Only if the path still holds our socket (not a successor's). */
		if (listener_present(m))
			unlink(m->sock_created);
		free(m->sock_created);
	}
	if (m->efd >= 0) {
		close(m->efd);
		unlink(m->efd_path);
	}
	free(m->efd_path);
	if (m->sb) {
		ap_sb_header(m->sb)->master_pid = 0;
		ap_sb_close(m->sb);
	}
	free(m->sb_path);
	free(m->crashes);
	ap_app_fini(&m->app);
	ap_config_free(m->cfg);
	if (m->log_fd != STDERR_FILENO)
		close(m->log_fd);
}

int
ap_pool_run(struct ap_config *cfg, const struct ap_config_opts *opts, const struct ap_route *routes,
    size_t nroutes)
{
	struct master m;
	int rc = 1;

	memset(&m, 0, sizeof(m));
	m.cfg = cfg;
	m.opts = opts;
	m.routes = routes;
	m.nroutes = nroutes;
	m.lfd = -1;
	m.sfd = -1;
	m.ifd = -1;
	m.iwd = -1;
	m.efd = -1;
	m.log_fd = STDERR_FILENO;
	if (start(&m))
		rc = run_loop(&m);
	cleanup(&m);
	return rc;
}
