/*
 * spawn.c — run one program: fork, set the child up (descriptors, process
 * group, death signal, signals, limits, directory), execve with a fixed argv
 * and a clean environment; the parent feeds stdin, collects bounded output
 * and enforces the timeout. See spawn.h for the rules.
 */
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aapanel/log.h"
#include "spawn.h"

/* Once the program has exited, how long its pipes may stay open (a descendant holding them). */
#define DRAIN_AFTER_EXIT_MS 200
/* Child set-up stages, reported with errno through the error pipe. */
enum stage { ST_FDS = 1, ST_PGID, ST_PDEATH, ST_SIGNALS, ST_LIMITS, ST_CWD, ST_EXEC, ST_USER };

static const char *const stage_names[] = {
	[ST_FDS] = "set up descriptors",
	[ST_PGID] = "setpgid",
	[ST_PDEATH] = "set the death signal",
	[ST_SIGNALS] = "reset signals",
	[ST_LIMITS] = "setrlimit",
	[ST_CWD] = "chdir",
	[ST_EXEC] = "execve",
	[ST_USER] = "switch to the user",
};

/* NAME=value with NAME [A-Za-z_][A-Za-z0-9_]*, and not one of the fixed or loader variables. */
static bool
env_entry_ok(const char *e)
{
	const char *eq = strchr(e, '=');
	size_t n;

	if (eq == NULL || eq == e)
		return false;
	n = (size_t)(eq - e);
	for (size_t i = 0; i < n; i++) {
		char c = e[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
			(i > 0 && c >= '0' && c <= '9')))
			return false;
	}
	if ((n == 4 && memcmp(e, "PATH", 4) == 0) || (n == 4 && memcmp(e, "LANG", 4) == 0) ||
	    (n >= 3 && memcmp(e, "LD_", 3) == 0))
		return false;
	return true;
}

/* Tell the parent which stage failed and errno (no allocation, no stdio). */
static void
child_report(int fd, enum stage st)
{
	int msg[2] = { (int)st, errno };
	ssize_t w;

	do {
		w = write(fd, msg, sizeof(msg));
	} while (w < 0 && errno == EINTR);
}

/*
 * Back to SIG_DFL, including the two real-time signals glibc keeps for
 * itself (32 and 33: its sigaction() refuses them, yet an ignored state is
 * inherited through execve; make, for one, passes them on ignored). A
 * zeroed kernel sigaction is SIG_DFL with no flags and an empty mask,
 * whatever the architecture's field order.
 */
static void
default_signal(int s)
{
	static const struct sigaction dfl = { .sa_handler = SIG_DFL };
	static const unsigned char zero[64];

	if (sigaction(s, &dfl, NULL) != 0 && errno == EINVAL)
		syscall(SYS_rt_sigaction, s, zero, NULL, (size_t)((NSIG - 1) / 8));
}

/* The soft and hard limit set to v, or to the current hard limit when that is lower. */
static int
lower_limit(int res, rlim_t v)
{
	struct rlimit rl;

	if (getrlimit(res, &rl) != 0)
		return -1;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < v)
		v = rl.rlim_max;
	rl.rlim_cur = rl.rlim_max = v;
	return setrlimit(res, &rl);
}

static void
close_from(int lowfd)
{
	if (close_range((unsigned)lowfd, ~0U, 0) == 0)
		return;
	/* Kernels before 5.9: close them one by one. */
	for (long fd = lowfd, max = sysconf(_SC_OPEN_MAX); fd < (max > 0 ? max : 65536); fd++)
		close((int)fd);
}

/*
 * In the child, between fork and execve: only async-signal-safe calls (the
 * helper is single-threaded, but a caller may not be). fds[0..2] become the
 * program's stdin, stdout, stderr; errfd reports a failure; nothing else
 * stays open.
 */
static void __attribute__((noreturn))
child(const struct ap_spawn *sp, int fds[4], int errfd, char *const *envp, pid_t parent,
    unsigned cpu)
{
	sigset_t none;
	int hi[5], nfix = fds[3] >= 0 ? 4 : 3;

	/* Out of the way of 0..4 first, so no dup2 below overwrites a source. */
	for (int i = 0; i < nfix; i++)
		if ((hi[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 10)) < 0)
			goto fail_fds;
	if ((hi[4] = fcntl(errfd, F_DUPFD_CLOEXEC, 10)) < 0)
		goto fail_fds;
	errfd = hi[4];
	/* dup2 clears close-on-exec: 0..2 (and 3, when given) reach the program. */
	for (int i = 0; i < nfix; i++)
		if (dup2(hi[i], i) < 0)
			goto fail_fds;
	if (dup2(errfd, nfix) < 0 || fcntl(nfix, F_SETFD, FD_CLOEXEC) < 0)
		goto fail_fds;
	errfd = nfix;
	close_from(nfix + 1);

	if (setpgid(0, 0) != 0) {
		child_report(errfd, ST_PGID);
		_exit(127);
	}
	/* The program dies with the helper (or the job) that started it. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) {
		child_report(errfd, ST_PDEATH);
		_exit(127);
	}
	if (getppid() != parent)
		_exit(127);
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			default_signal(s);
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) != 0) {
		child_report(errfd, ST_SIGNALS);
		_exit(127);
	}
	if (lower_limit(RLIMIT_CORE, 0) != 0 || lower_limit(RLIMIT_CPU, cpu) != 0 ||
	    lower_limit(RLIMIT_AS, sp->max_memory ? sp->max_memory : AP_SPAWN_DEFAULT_MAX_MEMORY) != 0 ||
	    lower_limit(RLIMIT_NOFILE, sp->max_files ? sp->max_files : AP_SPAWN_DEFAULT_MAX_FILES) !=
		0) {
		child_report(errfd, ST_LIMITS);
		_exit(127);
	}
	/* Another user (scheduled tasks): groups, group, then user; no way back. */
	if (sp->switch_user && (setgroups(1, &sp->gid) != 0 || setgid(sp->gid) != 0 ||
	    setuid(sp->uid) != 0 || (sp->uid != 0 && setuid(0) == 0))) {
		child_report(errfd, ST_USER);
		_exit(127);
	}
	if (chdir(sp->cwd != NULL ? sp->cwd : "/") != 0) {
		child_report(errfd, ST_CWD);
		_exit(127);
	}
	umask(022);
	execve(sp->path, (char *const *)sp->argv, envp);
	child_report(errfd, ST_EXEC);
	_exit(127);
fail_fds:
	child_report(errfd, ST_FDS);
	_exit(127);
}

static void
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void
record_status(struct ap_spawn_result *res, int status)
{
	if (WIFEXITED(status)) {
		res->exited = true;
		res->exit_code = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		res->signal = WTERMSIG(status);
	}
}

static enum ap_err
check_request(const struct ap_spawn *sp, char *err, size_t errlen)
{
	size_t n = 0;

	if (sp->path == NULL || sp->path[0] != '/') {
		ap_errf(err, errlen, "program path must be absolute (got '%s')",
		    sp->path != NULL ? sp->path : "(null)");
		return AP_ERR_INVAL;
	}
	if (sp->argv == NULL || sp->argv[0] == NULL) {
		ap_errf(err, errlen, "%s: argv must hold at least argv[0]", sp->path);
		return AP_ERR_INVAL;
	}
	while (sp->argv[n] != NULL)
		if (++n > AP_SPAWN_MAX_ARGS) {
			ap_errf(err, errlen, "%s: more than %d arguments", sp->path,
			    AP_SPAWN_MAX_ARGS);
			return AP_ERR_INVAL;
		}
	for (n = 0; sp->env != NULL && sp->env[n] != NULL; n++) {
		if (n >= AP_SPAWN_MAX_ENV || !env_entry_ok(sp->env[n])) {
			ap_errf(err, errlen, "%s: environment entry %zu is not an allowed NAME=value",
			    sp->path, n);
			return AP_ERR_INVAL;
		}
	}
	if (sp->cwd != NULL && sp->cwd[0] != '/') {
		ap_errf(err, errlen, "%s: working directory must be absolute", sp->path);
		return AP_ERR_INVAL;
	}
	return AP_OK;
}

enum ap_err
ap_spawn_run(const struct ap_spawn *sp, struct ap_spawn_result *res, char *err, size_t errlen)
{
	const char *envp[AP_SPAWN_MAX_ENV + 3];
	int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, perr[2] = { -1, -1 }, pexec[2] = { -1, -1 };
	int pidfd = -1, status = 0, msg[2];
	int timeout = sp->timeout_ms > 0 ? sp->timeout_ms : AP_SPAWN_DEFAULT_TIMEOUT_MS;
	int grace = sp->grace_ms > 0 ? sp->grace_ms : AP_SPAWN_DEFAULT_GRACE_MS;
	size_t max = sp->max_output ? sp->max_output : AP_SPAWN_DEFAULT_MAX_OUTPUT, written = 0;
	uint64_t start = ap_now_ms(), deadline, now;
	bool exited = false, killed = false;
	enum ap_err rc;
	unsigned cpu;
	ssize_t r;
	pid_t pid, self;
	size_t ne = 0;

	memset(res, 0, sizeof(*res));
	if ((rc = check_request(sp, err, errlen)) != AP_OK)
		return rc;
	if (sp->unit != NULL)
		return ap_spawn_unit_run(sp, res, err, errlen);
	rc = AP_ERR_IO;
	signal(SIGPIPE, SIG_IGN);
	envp[ne++] = AP_SPAWN_PATH;
	envp[ne++] = AP_SPAWN_LANG;
	for (size_t i = 0; sp->env != NULL && sp->env[i] != NULL; i++)
		envp[ne++] = sp->env[i];
	envp[ne] = NULL;
	cpu = sp->cpu_seconds ? sp->cpu_seconds : (unsigned)(timeout / 1000 + 1);

	if (sp->stdin_data != NULL) {
		if (pipe2(pin, O_CLOEXEC) != 0)
			goto sys_fail;
	} else if ((pin[0] = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
		goto sys_fail;
	}
	if (pipe2(pout, O_CLOEXEC) != 0 || pipe2(perr, O_CLOEXEC) != 0 ||
	    pipe2(pexec, O_CLOEXEC) != 0)
		goto sys_fail;
	self = getpid();
	pid = fork();
	if (pid < 0)
		goto sys_fail;
	if (pid == 0) {
		int fds[4] = { pin[0], pout[1], perr[1], -1 };

		child(sp, fds, pexec[1], (char *const *)envp, self, cpu);
	}
	close_fd(&pin[0]);
	close_fd(&pout[1]);
	close_fd(&perr[1]);
	close_fd(&pexec[1]);
	/* The error pipe closes on execve (CLOEXEC): nothing read = the program runs. */
	do {
		r = read(pexec[0], msg, sizeof(msg));
	} while (r < 0 && errno == EINTR);
	close_fd(&pexec[0]);
	if (r == (ssize_t)sizeof(msg)) {
		waitpid(pid, &status, 0);
		ap_errf(err, errlen, "%s %s: %s",
		    msg[0] > 0 && msg[0] <= ST_EXEC ? stage_names[msg[0]] : "start", sp->path,
		    strerror(msg[1]));
		goto out;
	}
	pidfd = pidfd_open(pid, 0);
	if (pidfd < 0) {
		ap_errf(err, errlen, "pidfd_open: %s", strerror(errno));
		kill(-pid, SIGKILL);
		waitpid(pid, &status, 0);
		goto out;
	}
	set_nonblock(pout[0]);
	set_nonblock(perr[0]);
	if (pin[1] >= 0) {
		set_nonblock(pin[1]);
		if (sp->stdin_len == 0)
			close_fd(&pin[1]);
	}
	deadline = start + (uint64_t)timeout;
	for (;;) {
		struct pollfd p[4];
		int np = 0, wait_ms, idx_out = -1, idx_err = -1, idx_in = -1, idx_pid = -1;

		now = ap_now_ms();
		if (exited && (pout[0] < 0 && perr[0] < 0))
			break;
		if (now >= deadline) {
			if (exited) {
				/*
				 * What it wrote before exiting is in the pipes: take it
				 * (however late we got here), but stop there — a
				 * descendant still holding them is not waited for.
				 */
				if (pout[0] >= 0)
					ap_spawn_drain(sp, 1, &pout[0], &res->out, &res->out_dropped, max, 64);
				if (perr[0] >= 0)
					ap_spawn_drain(sp, 2, &perr[0], &res->err, &res->err_dropped, max, 64);
				break;
			}
			if (!killed) {
				/* The whole group: a program's own children go too. */
				kill(-pid, SIGTERM);
				killed = true;
				res->timed_out = true;
				deadline = now + (uint64_t)grace;
				continue;
			}
			kill(-pid, SIGKILL);
			waitpid(pid, &status, 0);
			exited = true;
			record_status(res, status);
			break;
		}
		wait_ms = (int)(deadline - now);
		if (pout[0] >= 0) {
			idx_out = np;
			p[np++] = (struct pollfd){ .fd = pout[0], .events = POLLIN };
		}
		if (perr[0] >= 0) {
			idx_err = np;
			p[np++] = (struct pollfd){ .fd = perr[0], .events = POLLIN };
		}
		if (pin[1] >= 0) {
			idx_in = np;
			p[np++] = (struct pollfd){ .fd = pin[1], .events = POLLOUT };
		}
		if (!exited) {
			idx_pid = np;
			p[np++] = (struct pollfd){ .fd = pidfd, .events = POLLIN };
		}
		if (poll(p, (nfds_t)np, wait_ms) < 0) {
			if (errno == EINTR)
				continue;
			ap_errf(err, errlen, "poll: %s", strerror(errno));
			kill(-pid, SIGKILL);
			waitpid(pid, &status, 0);
			goto out;
		}
		if (idx_out >= 0 && p[idx_out].revents)
			ap_spawn_drain(sp, 1, &pout[0], &res->out, &res->out_dropped, max, 64);
		if (idx_err >= 0 && p[idx_err].revents)
			ap_spawn_drain(sp, 2, &perr[0], &res->err, &res->err_dropped, max, 64);
		if (idx_in >= 0 && p[idx_in].revents) {
			ssize_t w = write(pin[1], (const char *)sp->stdin_data + written,
			    sp->stdin_len - written);

			if (w > 0)
				written += (size_t)w;
			/* Done, or the program closed its end (EPIPE): either way, EOF to it. */
			if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == sp->stdin_len)
				close_fd(&pin[1]);
		}
		if (idx_pid >= 0 && p[idx_pid].revents && waitpid(pid, &status, WNOHANG) == pid) {
			exited = true;
			record_status(res, status);
			close_fd(&pin[1]);
			now = ap_now_ms();
			if (!killed || deadline > now + DRAIN_AFTER_EXIT_MS)
				deadline = now + DRAIN_AFTER_EXIT_MS;
		}
	}
	rc = AP_OK;
	goto out;
sys_fail:
	ap_errf(err, errlen, "cannot start %s: %s", sp->path, strerror(errno));
out:
	res->elapsed_ms = ap_now_ms() - start;
	close_fd(&pin[0]);
	close_fd(&pin[1]);
	close_fd(&pout[0]);
	close_fd(&pout[1]);
	close_fd(&perr[0]);
	close_fd(&perr[1]);
	close_fd(&pexec[0]);
	close_fd(&pexec[1]);
	close_fd(&pidfd);
	if (rc == AP_OK)
		AP_DEBUG("%s: %s %d in %llu ms%s", sp->path, res->exited ? "exit" : "signal",
		    res->exited ? res->exit_code : res->signal,
		    (unsigned long long)res->elapsed_ms, res->timed_out ? " (timed out)" : "");
	return rc;
}

void
ap_spawn_result_free(struct ap_spawn_result *res)
{
	if (res == NULL)
		return;
	ap_buf_free(&res->out);
	ap_buf_free(&res->err);
}

/* ---------------------------------------------------------------- started, waited for later */

enum ap_err
ap_spawn_start(const struct ap_spawn *sp, const int fds_in[4], struct ap_spawn_proc *p, char *err,
    size_t errlen)
{
	const char *envp[AP_SPAWN_MAX_ENV + 3];
	int timeout = sp->timeout_ms > 0 ? sp->timeout_ms : AP_SPAWN_DEFAULT_TIMEOUT_MS;
	int fds[4] = { -1, -1, -1, -1 }, opened[3] = { -1, -1, -1 }, pexec[2] = { -1, -1 };
	int status = 0, msg[2];
	enum ap_err rc;
	unsigned cpu;
	ssize_t r;
	pid_t pid, self;
	size_t ne = 0;

	memset(p, 0, sizeof(*p));
	p->pidfd = -1;
	if ((rc = check_request(sp, err, errlen)) != AP_OK)
		return rc;
	if (sp->unit != NULL)
		return ap_spawn_unit_start(sp, fds_in, p, err, errlen);
	rc = AP_ERR_IO;
	signal(SIGPIPE, SIG_IGN);
	envp[ne++] = AP_SPAWN_PATH;
	envp[ne++] = AP_SPAWN_LANG;
	for (size_t i = 0; sp->env != NULL && sp->env[i] != NULL; i++)
		envp[ne++] = sp->env[i];
	envp[ne] = NULL;
	cpu = sp->cpu_seconds ? sp->cpu_seconds : (unsigned)(timeout / 1000 + 1);
	for (int i = 0; i < 3; i++) {
		fds[i] = fds_in[i];
		if (fds[i] < 0 &&
		    (fds[i] = opened[i] = open("/dev/null", (i == 0 ? O_RDONLY : O_WRONLY) | O_CLOEXEC)) < 0)
			goto sys_fail;
	}
	fds[3] = fds_in[3];
	if (pipe2(pexec, O_CLOEXEC) != 0)
		goto sys_fail;
	self = getpid();
	pid = fork();
	if (pid < 0)
		goto sys_fail;
	if (pid == 0)
		child(sp, fds, pexec[1], (char *const *)envp, self, cpu);
	close_fd(&pexec[1]);
	do {
		r = read(pexec[0], msg, sizeof(msg));
	} while (r < 0 && errno == EINTR);
	if (r == (ssize_t)sizeof(msg)) {
		waitpid(pid, &status, 0);
		ap_errf(err, errlen, "%s %s: %s",
		    msg[0] > 0 && msg[0] <= ST_USER ? stage_names[msg[0]] : "start", sp->path,
		    strerror(msg[1]));
		goto out;
	}
	p->pidfd = pidfd_open(pid, 0);
	if (p->pidfd < 0) {
		ap_errf(err, errlen, "pidfd_open: %s", strerror(errno));
		kill(-pid, SIGKILL);
		waitpid(pid, &status, 0);
		goto out;
	}
	p->pid = pid;
	p->start_ms = ap_now_ms();
	rc = AP_OK;
	goto out;
sys_fail:
	ap_errf(err, errlen, "cannot start %s: %s", sp->path, strerror(errno));
out:
	for (int i = 0; i < 3; i++)
		close_fd(&opened[i]);
	close_fd(&pexec[0]);
	close_fd(&pexec[1]);
	return rc;
}

enum ap_err
ap_spawn_wait(struct ap_spawn_proc *p, int timeout_ms, struct ap_spawn_result *res)
{
	uint64_t deadline = timeout_ms >= 0 ? ap_now_ms() + (uint64_t)timeout_ms : 0;
	int status = 0;

	if (p->pid <= 0)
		return p->reaped ? AP_OK : AP_ERR_INVAL;
	for (;;) {
		struct pollfd pf = { .fd = p->pidfd, .events = POLLIN };
		int wait_ms = -1;
		pid_t w = waitpid(p->pid, &status, WNOHANG);

		if (w == p->pid)
			break;
		if (w < 0 && errno != EINTR)
			return AP_ERR_IO;
		if (timeout_ms >= 0) {
			uint64_t now = ap_now_ms();

			if (now >= deadline)
				return AP_ERR_UNAVAIL;
			wait_ms = (int)(deadline - now);
		}
		if (poll(&pf, 1, wait_ms) < 0 && errno != EINTR)
			return AP_ERR_IO;
	}
	memset(res, 0, sizeof(*res));
	record_status(res, status);
	res->elapsed_ms = ap_now_ms() - p->start_ms;
	p->pid = 0;
	p->reaped = true;
	close_fd(&p->pidfd);
	return AP_OK;
}

void
ap_spawn_stop(struct ap_spawn_proc *p, int grace_ms, struct ap_spawn_result *res)
{
	struct ap_spawn_result tmp;

	if (res == NULL)
		res = &tmp;
	if (p->pid <= 0)
		return;
	kill(-p->pid, SIGTERM);
	if (ap_spawn_wait(p, grace_ms > 0 ? grace_ms : AP_SPAWN_DEFAULT_GRACE_MS, res) == AP_OK)
		return;
	kill(-p->pid, SIGKILL);
	ap_spawn_wait(p, -1, res);
}
