/*
 * spawn.h — the only place a program starts in the whole project.
 *
 * execve() of an absolute path with a fixed argv, in a clean environment
 * (PATH=/usr/sbin:/usr/bin:/sbin:/bin, LANG=C.UTF-8, plus only what the
 * caller names), with every other descriptor closed, resource limits, a
 * wall-clock timeout (SIGTERM, then SIGKILL, to the program's process
 * group), stdout and stderr captured up to a bound (the rest counted and
 * dropped) and optional stdin data through a pipe. No shell ever runs:
 * `;`, `$()`, globs and quotes in an argument are just bytes.
 *
 * Secrets go through stdin_data (a pipe) or a 0600 file named in argv,
 * never argv or the environment themselves (both are visible in /proc).
 */
#ifndef AAPANEL_HELPER_SPAWN_H
#define AAPANEL_HELPER_SPAWN_H

#include <sys/types.h>

#include "aapanel/common.h"

#define AP_SPAWN_PATH "PATH=/usr/sbin:/usr/bin:/sbin:/bin"
#define AP_SPAWN_LANG "LANG=C.UTF-8"
#define AP_SPAWN_DEFAULT_TIMEOUT_MS 30000
#define AP_SPAWN_DEFAULT_GRACE_MS 2000
#define AP_SPAWN_DEFAULT_MAX_OUTPUT (64 * 1024)
#define AP_SPAWN_DEFAULT_MAX_MEMORY (1024ULL * 1024 * 1024)
#define AP_SPAWN_DEFAULT_MAX_FILES 1024
#define AP_SPAWN_MAX_ARGS 256
#define AP_SPAWN_MAX_ENV 32

/*
 * What a transient unit (ap_spawn.unit) may do besides running its program
 * (docs/helper.md, "Sandbox and what each operation needs").
 */
enum ap_spawn_sandbox {
	AP_SPAWN_SB_NONE,   /* nothing added: root's own tasks (tasks.allow_root) */
	AP_SPAWN_SB_USER,   /* another user's program: no capabilities, no new privileges,
			     * /usr /boot /etc read-only, private /tmp and /dev, kernel knobs
			     * and cgroups protected, no setuid/setgid files */
	AP_SPAWN_SB_FETCH,  /* a network client (curl): USER plus the whole system
			     * read-only, no homes, IP and unix sockets only, W^X */
	AP_SPAWN_SB__MAX
};

/* Called with every chunk a program writes (stream 1 = stdout, 2 = stderr), bound or not. */
typedef void (*ap_spawn_output_fn)(void *ctx, int stream, const char *data, size_t len);

struct ap_spawn {
	const char *path;        /* absolute path of the program; a relative one is refused */
	const char *const *argv; /* NULL-terminated, argv[0] included; passed exactly */
	const char *const *env;  /* extra "NAME=value" entries, NULL-terminated, or NULL.
				  * Not PATH, LANG or LD_*: those are fixed. */
	const void *stdin_data;  /* written to the program's stdin through a pipe, then
				  * closed; NULL: stdin is /dev/null */
	size_t stdin_len;
	const char *cwd;              /* NULL = "/" */
	int timeout_ms;               /* wall clock; 0 = AP_SPAWN_DEFAULT_TIMEOUT_MS */
	int grace_ms;                 /* SIGTERM → SIGKILL; 0 = AP_SPAWN_DEFAULT_GRACE_MS */
	size_t max_output;            /* bytes kept per stream; 0 = AP_SPAWN_DEFAULT_MAX_OUTPUT */
	unsigned cpu_seconds;         /* RLIMIT_CPU; 0 = the timeout, rounded up */
	unsigned long long max_memory;/* RLIMIT_AS in bytes; 0 = AP_SPAWN_DEFAULT_MAX_MEMORY */
	unsigned max_files;           /* RLIMIT_NOFILE; 0 = AP_SPAWN_DEFAULT_MAX_FILES */
	bool switch_user;             /* run as uid:gid (groups: only gid); needs root */
	uid_t uid;
	gid_t gid;
	ap_spawn_output_fn on_output; /* optional */
	void *on_output_ctx;
	/*
	 * Not NULL: the program runs as the transient systemd service
	 * "<unit>.service" that PID 1 starts (spawn_unit.c), in the server's
	 * namespaces rather than the helper's sandbox, as uid:gid when
	 * switch_user (systemd switches, the helper needs no CAP_SETUID), with
	 * unit_sandbox's restrictions; the timeout is its RuntimeMaxSec=, its
	 * output comes back through pipes passed as its stdout and stderr. A
	 * unit of that name still running makes the call fail with AP_ERR_UNAVAIL.
	 * A NULL cwd is the user's home when switch_user (systemd's "-~": "/"
	 * when it has none), else "/". Only with ap_spawn_units_available();
	 * the name is [a-z0-9-], at most 64.
	 */
	const char *unit;
	enum ap_spawn_sandbox unit_sandbox;
	/*
	 * With unit, optional: a credential the program reads as the file
	 * $CREDENTIALS_DIRECTORY/<cred_name> (systemd's LoadCredential=), its
	 * bytes never in argv, the environment or a unit property: the helper
	 * serves them once, to root (PID 1 setting the unit up), on a unix
	 * socket it makes in cred_dir — an absolute path PID 1 sees too, a
	 * directory only root can enter — and removes once the unit started.
	 * systemd keeps the file in memory (ramfs), readable by the unit's user
	 * only, and removes it with the unit. An argv entry may name it as
	 * "${CREDENTIALS_DIRECTORY}/<cred_name>" (systemd expands it).
	 */
	const char *cred_name;
	const void *cred_data;
	size_t cred_len;
	const char *cred_dir;
};

struct ap_spawn_result {
	bool exited;        /* ended by exit(): exit_code is valid */
	int exit_code;
	int signal;         /* ended by this signal (0 when exited) */
	bool timed_out;     /* killed because the timeout passed */
	struct ap_buf out;  /* the first max_output bytes of stdout (owned) */
	struct ap_buf err;  /* the same for stderr */
	size_t out_dropped; /* bytes read beyond the bound and dropped */
	size_t err_dropped;
	uint64_t elapsed_ms;
};

/*
 * Run sp to completion (or its timeout) and fill *res (zeroed first; free
 * with ap_spawn_result_free even on failure). Returns AP_OK when the
 * program ran, whatever its exit status; AP_ERR_INVAL for a request that is
 * refused before anything starts (relative path, no argv, bad env entry,
 * too many arguments); AP_ERR_IO when it could not be started (err says
 * why, e.g. "execve /x: No such file or directory").
 *
 * Blocks the caller until the program ends: the helper's event loop calls
 * it only for short programs, jobs call it from their own process. The
 * calling process ignores SIGPIPE from then on (a program that closes its
 * stdin early must not kill the helper). Reaps only its own child.
 */
enum ap_err ap_spawn_run(const struct ap_spawn *sp, struct ap_spawn_result *res, char *err,
    size_t errlen);
void ap_spawn_result_free(struct ap_spawn_result *res);

/*
 * True when programs that must run as another user or in the server's own
 * network should be transient units: the helper is root, runs inside a
 * systemd service (its own cgroup's unit) and reaches PID 1 on
 * /run/systemd/private. False otherwise (development, tests outside
 * systemd), with why; then fork and execve serve, as the helper's own user
 * or switching users itself. Decided once per process.
 */
bool ap_spawn_units_available(char *why, size_t whylen);

/* spawn_unit.c's half of ap_spawn_run (sp already checked); internal. */
enum ap_err ap_spawn_unit_run(const struct ap_spawn *sp, struct ap_spawn_result *res, char *err,
    size_t errlen);
/* Read what is there on *fd into the bounded buffer; closes *fd at EOF; internal. */
void ap_spawn_drain(const struct ap_spawn *sp, int stream, int *fd, struct ap_buf *b,
    size_t *dropped, size_t max, int rounds);

/*
 * A program that runs while its caller does something else (streams a dump
 * through it): started by ap_spawn_start, reaped by ap_spawn_wait or
 * ap_spawn_stop. Zeroed by ap_spawn_start; pid is 0 once reaped.
 */
struct ap_spawn_proc {
	pid_t pid;         /* leader of its own process group; 0 when not running */
	int pidfd;         /* owned; closed once reaped */
	uint64_t start_ms;
	bool reaped;
};

/*
 * Start sp without waiting for it. fds[0], fds[1], fds[2] become the
 * program's stdin, stdout and stderr (-1: /dev/null); fds[3], when >= 0,
 * its descriptor 3 (a credentials file it opens as /dev/fd/3, say). They
 * are duplicated: the caller keeps and closes its own. sp->stdin_data,
 * max_output and on_output are not used (the caller owns the streams), and
 * sp->timeout_ms only sets the CPU limit: the caller's waits bound the wall
 * clock. Same refusals and failures as ap_spawn_run; AP_OK with *p filled.
 * With sp->unit: as a transient unit (ap_spawn_unit_start below); the
 * unit's RuntimeMaxSec= is sp->timeout_ms.
 */
enum ap_err ap_spawn_start(const struct ap_spawn *sp, const int fds[4], struct ap_spawn_proc *p,
    char *err, size_t errlen);
/*
 * Wait up to timeout_ms (-1: as long as it takes) for p to end: AP_OK with
 * res's exited, exit_code, signal and elapsed_ms set (res->out and res->err
 * stay empty), and p reaped; AP_ERR_UNAVAIL while it still runs.
 */
enum ap_err ap_spawn_wait(struct ap_spawn_proc *p, int timeout_ms, struct ap_spawn_result *res);
/* SIGTERM to p's group, SIGKILL after grace_ms (0: the default); reaps it. res may be NULL. */
void ap_spawn_stop(struct ap_spawn_proc *p, int grace_ms, struct ap_spawn_result *res);

/*
 * spawn_unit.c's half of ap_spawn_start (sp already checked); internal. The
 * program runs as its unit, followed by a supervisor process that is
 * p->pid (its own process group; SIGTERM when the caller dies): it exits
 * with the program's exit code, or dies by the program's signal, once the
 * unit is collected (systemd's copies of fds[0..2] closed with it, so the
 * caller's pipes end then). SIGTERM to it (ap_spawn_stop) stops the unit
 * (StopUnit) first; give ap_spawn_stop a grace long enough for that. fds[3]
 * is not used: a unit takes its credential through sp->cred_*. Returns once
 * systemd started the program (AP_OK) or could not (AP_ERR_IO, err says why).
 */
enum ap_err ap_spawn_unit_start(const struct ap_spawn *sp, const int fds[4], struct ap_spawn_proc *p,
    char *err, size_t errlen);

#endif
