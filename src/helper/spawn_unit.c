/*
 * spawn_unit.c — run one program as a transient systemd service (spawn.h,
 * ap_spawn.unit): the helper asks PID 1 over its private socket
 * (org.freedesktop.systemd1.Manager.StartTransientUnit) to start it with
 * the fixed argv, User=/Group=, RuntimeMaxSec= for the timeout, resource
 * limits, the sandbox of ap_spawn.unit_sandbox, and two pipes as its
 * stdout and stderr; then it reads the pipes, follows the unit until it
 * ends and reads its exit status (ExecMainCode, ExecMainStatus, Result).
 *
 * Why: the helper's own unit (conf/systemd/aapanel-helper.service) has no
 * CAP_SETUID/CAP_SETGID, no setuid calls and no IP network; systemd does
 * the switch and the program lives in the server's namespaces, so the
 * helper's sandbox stays tight (docs/helper.md, "Sandbox and what each
 * operation needs").
 *
 * The unit stays loaded once its program has ended (RemainAfterExit=yes:
 * "active (exited)" or "failed"; systemd's AddRef= needs a bus name, which
 * a connection to the private socket has not), so its status can be read;
 * then the helper stops it or resets its failure and systemd collects it.
 * Its program keeps running to its RuntimeMaxSec= if the helper dies first,
 * and a new unit of that name is refused until then (no overlap); a unit
 * left over by a helper that died after its program ended is cleaned up by
 * the next run.
 *
 * Cancelled: a job is cancelled with SIGTERM to its process group
 * (job.cancel), which the unit is not in. While the unit runs, SIGTERM only
 * marks the run stopping: the helper asks systemd to stop the unit
 * (StopUnit: SIGTERM to the unit's processes, SIGKILL after its stop
 * timeout), waits for it to end and collects it, then takes the SIGTERM as
 * it would have (the job ends, recorded as cancelled).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-login.h>

#include "aapanel/log.h"
#include "spawn.h"

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
#define SD_UNIT_IF "org.freedesktop.systemd1.Unit"
#define SD_SERVICE_IF "org.freedesktop.systemd1.Service"
#define SD_PRIVATE "/run/systemd/private"
#define DRAIN_AFTER_END_MS 200
/* Past the unit's own RuntimeMaxSec= and stop timeout: the helper kills it itself. */
#define BACKSTOP_MS 10000
#define UNIT_NAME_MAX 64

static volatile sig_atomic_t U_term;

static void
on_term(int sig)
{
	(void)sig;
	U_term = 1;
}

bool
ap_spawn_units_available(char *why, size_t whylen)
{
	static int known = -1;
	static char reason[160];
	char *unit = NULL;
	size_t n;

	if (known < 0) {
		known = 0;
		if (sd_booted() <= 0)
			snprintf(reason, sizeof(reason), "systemd is not PID 1 here");
		else if (geteuid() != 0)
			snprintf(reason, sizeof(reason), "the helper is not root");
		else if (access(SD_PRIVATE, F_OK) != 0)
			snprintf(reason, sizeof(reason), "%s: %s", SD_PRIVATE, strerror(errno));
		else if (sd_pid_get_unit(0, &unit) < 0 || (n = strlen(unit)) < 9 ||
		    strcmp(unit + n - 8, ".service") != 0)
			snprintf(reason, sizeof(reason), "the helper does not run as a systemd service");
		else
			known = 1;
		free(unit);
	}
	if (why != NULL && whylen > 0)
		snprintf(why, whylen, "%s", known ? "transient systemd units" : reason);
	return known == 1;
}

static bool
unit_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > UNIT_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
			return false;
	return true;
}

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000ULL + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- the unit's properties ---------------------------------------------- */

static int
p_bool(sd_bus_message *m, const char *name, bool v)
{
	return sd_bus_message_append(m, "(sv)", name, "b", (int)v);
}

static int
p_str(sd_bus_message *m, const char *name, const char *v)
{
	return sd_bus_message_append(m, "(sv)", name, "s", v);
}

static int
p_u64(sd_bus_message *m, const char *name, uint64_t v)
{
	return sd_bus_message_append(m, "(sv)", name, "t", v);
}

static int
p_fd(sd_bus_message *m, const char *name, int fd)
{
	return sd_bus_message_append(m, "(sv)", name, "h", fd);
}

/* The restrictions of each sandbox level (spawn.h), as unit properties. */
static int
p_sandbox(sd_bus_message *m, enum ap_spawn_sandbox sb)
{
	int r = 0;

	if (sb == AP_SPAWN_SB_NONE)
		return 0;
	if ((r = p_bool(m, "NoNewPrivileges", true)) < 0 || (r = p_u64(m, "CapabilityBoundingSet", 0)) < 0 ||
	    (r = p_u64(m, "AmbientCapabilities", 0)) < 0 || (r = p_bool(m, "PrivateTmp", true)) < 0 ||
	    (r = p_bool(m, "PrivateDevices", true)) < 0 ||
	    (r = p_str(m, "ProtectSystem", sb == AP_SPAWN_SB_FETCH ? "strict" : "full")) < 0 ||
	    (r = p_bool(m, "ProtectKernelTunables", true)) < 0 ||
	    (r = p_bool(m, "ProtectKernelModules", true)) < 0 || (r = p_bool(m, "ProtectKernelLogs", true)) < 0 ||
	    (r = p_bool(m, "ProtectControlGroups", true)) < 0 || (r = p_bool(m, "ProtectClock", true)) < 0 ||
	    (r = p_bool(m, "ProtectHostname", true)) < 0 || (r = p_bool(m, "RestrictSUIDSGID", true)) < 0 ||
	    (r = p_bool(m, "RestrictRealtime", true)) < 0 || (r = p_bool(m, "LockPersonality", true)) < 0 ||
	    (r = sd_bus_message_append(m, "(sv)", "SystemCallArchitectures", "as", 1, "native")) < 0)
		return r;
	if (sb == AP_SPAWN_SB_FETCH &&
	    ((r = p_str(m, "ProtectHome", "yes")) < 0 || (r = p_bool(m, "MemoryDenyWriteExecute", true)) < 0 ||
		(r = sd_bus_message_append(m, "(sv)", "RestrictAddressFamilies", "(bas)", 1, 3, "AF_UNIX",
		     "AF_INET", "AF_INET6")) < 0))
		return r;
	return 0;
}

/*
 * StartTransientUnit's message: the unit's name, mode "fail" (a unit of that
 * name that exists is an error, not replaced), its properties, no auxiliary
 * units.
 */
static int
build_start(sd_bus *b, sd_bus_message **out, const struct ap_spawn *sp, const char *name,
    const char *const *envp, int fd_in, int fd_out, int fd_err, const char *cred_path, int timeout,
    int grace, unsigned cpu)
{
	sd_bus_message *m = NULL;
	char desc[160], uid[16], gid[16];
	int r;

	snprintf(desc, sizeof(desc), "aaPanel: %s", sp->path);
	if ((r = sd_bus_message_new_method_call(b, &m, SD_DEST, SD_PATH, SD_MANAGER, "StartTransientUnit")) < 0 ||
	    (r = sd_bus_message_append(m, "ss", name, "fail")) < 0 ||
	    (r = sd_bus_message_open_container(m, 'a', "(sv)")) < 0)
		goto out;
	if ((r = p_str(m, "Description", desc)) < 0 || (r = p_str(m, "Type", "exec")) < 0 ||
	    (r = p_bool(m, "RemainAfterExit", true)) < 0 ||
	    (r = p_u64(m, "RuntimeMaxUSec", (uint64_t)timeout * 1000ULL)) < 0 ||
	    (r = p_u64(m, "TimeoutStopUSec", (uint64_t)grace * 1000ULL)) < 0 ||
	    (r = p_str(m, "KillMode", "control-group")) < 0 || (r = p_u64(m, "LimitCORE", 0)) < 0 ||
	    (r = p_u64(m, "LimitCPU", cpu)) < 0 ||
	    (r = p_u64(m, "LimitAS", sp->max_memory ? sp->max_memory : AP_SPAWN_DEFAULT_MAX_MEMORY)) < 0 ||
	    (r = p_u64(m, "LimitNOFILE", sp->max_files ? sp->max_files : AP_SPAWN_DEFAULT_MAX_FILES)) < 0 ||
	    (r = sd_bus_message_append(m, "(sv)", "UMask", "u", (uint32_t)022)) < 0 ||
	    (r = p_str(m, "WorkingDirectory", sp->cwd != NULL ? sp->cwd : sp->switch_user ? "-~" : "/")) < 0)
		goto out;
	if (sp->switch_user) {
		snprintf(uid, sizeof(uid), "%u", (unsigned)sp->uid);
		snprintf(gid, sizeof(gid), "%u", (unsigned)sp->gid);
		if ((r = p_str(m, "User", uid)) < 0 || (r = p_str(m, "Group", gid)) < 0)
			goto out;
	}
	if ((r = fd_in >= 0 ? p_fd(m, "StandardInputFileDescriptor", fd_in) : p_str(m, "StandardInput", "null")) < 0 ||
	    (r = fd_out >= 0 ? p_fd(m, "StandardOutputFileDescriptor", fd_out) : p_str(m, "StandardOutput", "null")) < 0 ||
	    (r = fd_err >= 0 ? p_fd(m, "StandardErrorFileDescriptor", fd_err) : p_str(m, "StandardError", "null")) < 0)
		goto out;
	/* The credential: only its name and the socket's path are properties (readable over D-Bus);
	 * its bytes come through the socket. */
	if (cred_path != NULL &&
	    (r = sd_bus_message_append(m, "(sv)", "LoadCredential", "a(ss)", 1, sp->cred_name, cred_path)) < 0)
		goto out;
	/* Environment: the clean set of spawn.c (systemd adds HOME, USER, LOGNAME, SHELL for User=). */
	if ((r = sd_bus_message_open_container(m, 'r', "sv")) < 0 ||
	    (r = sd_bus_message_append(m, "s", "Environment")) < 0 ||
	    (r = sd_bus_message_open_container(m, 'v', "as")) < 0 ||
	    (r = sd_bus_message_append_strv(m, (char **)envp)) < 0 ||
	    (r = sd_bus_message_close_container(m)) < 0 || (r = sd_bus_message_close_container(m)) < 0)
		goto out;
	/* ExecStart: a(sasb) — the path, the argv exactly, and "a failure is not ignored". */
	if ((r = sd_bus_message_open_container(m, 'r', "sv")) < 0 ||
	    (r = sd_bus_message_append(m, "s", "ExecStart")) < 0 ||
	    (r = sd_bus_message_open_container(m, 'v', "a(sasb)")) < 0 ||
	    (r = sd_bus_message_open_container(m, 'a', "(sasb)")) < 0 ||
	    (r = sd_bus_message_open_container(m, 'r', "sasb")) < 0 ||
	    (r = sd_bus_message_append(m, "s", sp->path)) < 0 ||
	    (r = sd_bus_message_append_strv(m, (char **)sp->argv)) < 0 ||
	    (r = sd_bus_message_append(m, "b", 0)) < 0 || (r = sd_bus_message_close_container(m)) < 0 ||
	    (r = sd_bus_message_close_container(m)) < 0 || (r = sd_bus_message_close_container(m)) < 0 ||
	    (r = sd_bus_message_close_container(m)) < 0)
		goto out;
	if ((r = p_sandbox(m, sp->unit_sandbox)) < 0 || (r = sd_bus_message_close_container(m)) < 0 ||
	    (r = sd_bus_message_append(m, "a(sa(sv))", 0)) < 0)
		goto out;
	*out = m;
	m = NULL;
	r = 0;
out:
	sd_bus_message_unref(m);
	return r;
}

/* ---- following it -------------------------------------------------------- */

struct follow {
	char *job;          /* StartTransientUnit's job (owned) */
	char job_result[32];
	bool job_done;
	bool changed;       /* the unit's properties changed: read its state again */
};

static int
on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
	struct follow *f = userdata;
	const char *path, *unit, *result;
	uint32_t id;

	(void)err;
	if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) >= 0 && f->job != NULL &&
	    strcmp(path, f->job) == 0) {
		snprintf(f->job_result, sizeof(f->job_result), "%s", result);
		f->job_done = true;
	}
	return 0;
}

static int
on_changed(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
	(void)m;
	(void)err;
	((struct follow *)userdata)->changed = true;
	return 0;
}

/*
 * Has the unit's program ended? "active" with SubState "exited"
 * (RemainAfterExit=), "failed", "inactive", or the unit gone.
 */
static bool
unit_ended(sd_bus *b, const char *path)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	char *as = NULL, *ss = NULL;
	bool ended;

	(void)sd_bus_get_property_string(b, SD_DEST, path, SD_UNIT_IF, "ActiveState", &e, &as);
	sd_bus_error_free(&e);
	(void)sd_bus_get_property_string(b, SD_DEST, path, SD_UNIT_IF, "SubState", &e, &ss);
	sd_bus_error_free(&e);
	ended = as == NULL || strcmp(as, "failed") == 0 || strcmp(as, "inactive") == 0 ||
	    (strcmp(as, "active") == 0 && ss != NULL && strcmp(ss, "exited") == 0);
	free(as);
	free(ss);
	return ended;
}

/* Let systemd collect the unit: stop it (active, exited) and reset its failure. */
static void
unit_release(sd_bus *b, const char *name)
{
	(void)sd_bus_call_method(b, SD_DEST, SD_PATH, SD_MANAGER, "StopUnit", NULL, NULL, "ss", name, "replace");
	(void)sd_bus_call_method(b, SD_DEST, SD_PATH, SD_MANAGER, "ResetFailedUnit", NULL, NULL, "s", name);
}

/* The unit's end as ap_spawn_result: ExecMainCode (CLD_*), ExecMainStatus, Result. */
static void
unit_status(sd_bus *b, const char *path, struct ap_spawn_result *res, char *result, size_t rlen)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	int32_t code = 0, status = 0;
	char *v = NULL;

	result[0] = '\0';
	if (sd_bus_get_property_string(b, SD_DEST, path, SD_SERVICE_IF, "Result", &e, &v) >= 0 && v != NULL)
		snprintf(result, rlen, "%s", v);
	free(v);
	sd_bus_error_free(&e);
	(void)sd_bus_get_property_trivial(b, SD_DEST, path, SD_SERVICE_IF, "ExecMainCode", &e, 'i', &code);
	sd_bus_error_free(&e);
	(void)sd_bus_get_property_trivial(b, SD_DEST, path, SD_SERVICE_IF, "ExecMainStatus", &e, 'i', &status);
	sd_bus_error_free(&e);
	if (code == CLD_EXITED) {
		res->exited = true;
		res->exit_code = status;
	} else if (code == CLD_KILLED || code == CLD_DUMPED) {
		res->signal = status;
	}
	res->timed_out = strcmp(result, "timeout") == 0;
}

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/*
 * The credential's socket: a unix stream socket in sp->cred_dir that PID 1
 * connects to once when it sets the unit up (LoadCredential=ID:PATH), served
 * by cred_serve. Its path in *path (owned by the caller's buffer).
 */
static int
cred_listen(const struct ap_spawn *sp, char *path, size_t pathlen, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char hex[17];
	int fd = -1;

	path[0] = '\0';
	if (ap_random_hex(hex, 8) != AP_OK) {
		ap_errf(err, errlen, "cannot start %s: no random bytes", sp->path);
		return -1;
	}
	if ((size_t)snprintf(path, pathlen, "%s/cred-%s.sock", sp->cred_dir, hex) >= pathlen ||
	    strlen(path) >= sizeof(sa.sun_path)) {
		ap_errf(err, errlen, "cannot start %s: the credentials' directory %s is too long a path "
		    "for a socket", sp->path, sp->cred_dir);
		path[0] = '\0';
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || chmod(path, 0600) != 0 ||
	    listen(fd, 1) != 0) {
		ap_errf(err, errlen, "cannot start %s: the credentials' socket: %s", sp->path, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(path);
		path[0] = '\0';
		return -1;
	}
	return fd;
}

/* One connection: root's (PID 1 setting the unit up) gets the bytes; true once served. */
static bool
cred_serve(const struct ap_spawn *sp, int lfd)
{
	struct ucred uc;
	socklen_t ul = sizeof(uc);
	size_t off = 0;
	int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	if (c < 0)
		return false;
	if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &uc, &ul) != 0 || uc.uid != 0) {
		close(c);
		return false;
	}
	while (off < sp->cred_len) {
		struct pollfd pf = { .fd = c, .events = POLLOUT };
		ssize_t w = write(c, (const char *)sp->cred_data + off, sp->cred_len - off);

		if (w > 0)
			off += (size_t)w;
		else if (w < 0 && (errno == EAGAIN || errno == EINTR))
			(void)poll(&pf, 1, 1000);
		else
			break;
	}
	close(c);
	return off == sp->cred_len;
}

/*
 * Run sp as its unit. given: NULL, the program's stdout and stderr are pipes
 * read into res (ap_spawn_run); else given[0..2] are its stdin, stdout and
 * stderr (-1: /dev/null) and nothing is read; its stdin and stdout are
 * closed here once systemd holds its copies. *started_fd >= 0: "S" is
 * written there once systemd has started the program, then it is closed
 * and set to -1 (left open when the program never started).
 */
static enum ap_err
unit_run(const struct ap_spawn *sp, int *given, int *started_fd, struct ap_spawn_result *res,
    char *err, size_t errlen)
{
	const char *envp[AP_SPAWN_MAX_ENV + 3];
	char cpath[sizeof(((struct sockaddr_un *)0)->sun_path) + 64];
	int lfd = -1;
	char name[UNIT_NAME_MAX + 16], result[32];
	int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, perr[2] = { -1, -1 };
	int timeout = sp->timeout_ms > 0 ? sp->timeout_ms : AP_SPAWN_DEFAULT_TIMEOUT_MS;
	int grace = sp->grace_ms > 0 ? sp->grace_ms : AP_SPAWN_DEFAULT_GRACE_MS;
	size_t max = sp->max_output ? sp->max_output : AP_SPAWN_DEFAULT_MAX_OUTPUT, written = 0, ne = 0;
	uint64_t start = ap_now_ms(), t0 = mono_ms(), backstop, drain_until = 0;
	sd_bus *b = NULL;
	sd_bus_message *m = NULL, *reply = NULL;
	sd_bus_slot *s_job = NULL, *s_props = NULL;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	struct follow f = { 0 };
	char *upath = NULL;
	const char *jp;
	bool ended = false, killed = false, stopping = false, trapped = false;
	struct sigaction old_term, on = { .sa_handler = on_term };
	enum ap_err rc = AP_ERR_IO;
	int r;

	if (!unit_name_ok(sp->unit)) {
		ap_errf(err, errlen, "%s: the unit name '%s' is not [a-z0-9-]{1,64}", sp->path, sp->unit);
		return AP_ERR_INVAL;
	}
	snprintf(name, sizeof(name), "%s.service", sp->unit);
	signal(SIGPIPE, SIG_IGN);
	envp[ne++] = AP_SPAWN_PATH;
	envp[ne++] = AP_SPAWN_LANG;
	for (size_t i = 0; sp->env != NULL && sp->env[i] != NULL; i++)
		envp[ne++] = sp->env[i];
	envp[ne] = NULL;
	cpath[0] = '\0';
	if (given == NULL && ((sp->stdin_data != NULL && pipe2(pin, O_CLOEXEC) != 0) ||
	    pipe2(pout, O_CLOEXEC) != 0 || pipe2(perr, O_CLOEXEC) != 0)) {
		ap_errf(err, errlen, "cannot start %s: pipe: %s", sp->path, strerror(errno));
		goto out;
	}
	if (sp->cred_name != NULL && (lfd = cred_listen(sp, cpath, sizeof(cpath), err, errlen)) < 0)
		goto out;
	if ((r = sd_bus_new(&b)) < 0 || (r = sd_bus_set_address(b, "unix:path=" SD_PRIVATE)) < 0 ||
	    (r = sd_bus_negotiate_fds(b, 1)) < 0 || (r = sd_bus_start(b)) < 0) {
		ap_errf(err, errlen, "cannot start %s: systemd (%s): %s", sp->path, SD_PRIVATE, strerror(-r));
		goto out;
	}
	if (sd_bus_match_signal(b, &s_job, SD_DEST, SD_PATH, SD_MANAGER, "JobRemoved", on_job_removed, &f) < 0 ||
	    sd_bus_path_encode("/org/freedesktop/systemd1/unit", name, &upath) < 0 ||
	    sd_bus_match_signal(b, &s_props, SD_DEST, upath, "org.freedesktop.DBus.Properties", "PropertiesChanged",
		on_changed, &f) < 0) {
		ap_errf(err, errlen, "cannot start %s: cannot watch systemd's signals", sp->path);
		goto out;
	}
	(void)sd_bus_call_method(b, SD_DEST, SD_PATH, SD_MANAGER, "Subscribe", NULL, NULL, "");
	if ((r = build_start(b, &m, sp, name, envp, given ? given[0] : pin[0], given ? given[1] : pout[1],
		 given ? given[2] : perr[1], lfd >= 0 ? cpath : NULL, timeout, grace,
		 sp->cpu_seconds ? sp->cpu_seconds : (unsigned)(timeout / 1000 + 1))) < 0) {
		ap_errf(err, errlen, "cannot start %s: the unit's properties: %s", sp->path, strerror(-r));
		goto out;
	}
	r = sd_bus_call(b, m, 0, &e, &reply);
	if (r < 0 && sd_bus_error_has_name(&e, "org.freedesktop.systemd1.UnitExists") && unit_ended(b, upath)) {
		/* Left over by a helper that died after its program ended: clean, once more. */
		unit_release(b, name);
		sd_bus_error_free(&e);
		r = sd_bus_call(b, m, 0, &e, &reply);
	}
	if (r < 0 || sd_bus_message_read(reply, "o", &jp) < 0) {
		if (sd_bus_error_has_name(&e, "org.freedesktop.systemd1.UnitExists")) {
			ap_errf(err, errlen, "%s is still running", name);
			rc = AP_ERR_UNAVAIL;
		} else
			ap_errf(err, errlen, "cannot start %s: systemd: %s", sp->path,
			    e.message ? e.message : "no answer");
		goto out;
	}
	if ((f.job = strdup(jp)) == NULL)
		abort();
	/* From now on a SIGTERM (job.cancel) stops the unit before it is taken (no SA_RESTART:
	 * poll returns at once). */
	sigemptyset(&on.sa_mask);
	U_term = 0;
	trapped = sigaction(SIGTERM, &on, &old_term) == 0;
	/* systemd holds its own copies now: EOF comes when the unit's processes are gone. */
	close_fd(&pin[0]);
	close_fd(&pout[1]);
	close_fd(&perr[1]);
	if (given != NULL) {
		close_fd(&given[0]);
		close_fd(&given[1]);
	}
	if (pin[1] >= 0) {
		fcntl(pin[1], F_SETFL, fcntl(pin[1], F_GETFL) | O_NONBLOCK);
		if (sp->stdin_len == 0)
			close_fd(&pin[1]);
	}
	if (pout[0] >= 0)
		fcntl(pout[0], F_SETFL, fcntl(pout[0], F_GETFL) | O_NONBLOCK);
	if (perr[0] >= 0)
		fcntl(perr[0], F_SETFL, fcntl(perr[0], F_GETFL) | O_NONBLOCK);
	backstop = t0 + (uint64_t)timeout + (uint64_t)grace + BACKSTOP_MS;
	f.changed = true;
	for (;;) {
		struct pollfd p[5];
		uint64_t now = mono_ms(), usec = 0;
		int np = 0, wait_ms = 500, io = -1, ie = -1, ii = -1, il = -1, ib;

		while ((r = sd_bus_process(b, NULL)) > 0)
			;
		if (r < 0) {
			ap_errf(err, errlen, "%s: the connection to systemd was lost", name);
			goto out;
		}
		if (f.job_done && started_fd != NULL && *started_fd >= 0 && strcmp(f.job_result, "done") == 0) {
			/* Type=exec: "done" once execve succeeded (the credential was loaded before). */
			(void)!write(*started_fd, "S", 1);
			close_fd(started_fd);
		}
		if (f.job_done && lfd >= 0) {
			close_fd(&lfd);
			unlink(cpath);
			cpath[0] = '\0';
		}
		if (!ended && f.job_done && f.changed) {
			f.changed = false;
			if (unit_ended(b, upath)) {
				ended = true;
				unit_status(b, upath, res, result, sizeof(result));
				if (strcmp(f.job_result, "done") != 0 && res->exited &&
				    (res->exit_code == 203 || res->exit_code == 217 || res->exit_code == 200 ||
					res->exit_code == 243)) {
					/* systemd's EXIT_EXEC, EXIT_USER, EXIT_CHDIR, EXIT_CREDENTIALS: it never ran. */
					ap_errf(err, errlen, "%s %s: systemd could not start it (%s, status %d)",
					    res->exit_code == 217 ? "switch to the user" :
					    res->exit_code == 200 ? "chdir" :
					    res->exit_code == 243 ? "load the credential for" : "execve", sp->path,
					    result, res->exit_code);
					goto out;
				}
				drain_until = now + DRAIN_AFTER_END_MS;
			}
		}
		if (ended && ((pout[0] < 0 && perr[0] < 0) || now >= drain_until))
			break;
		if (U_term && !stopping && !ended) {
			AP_INFO("%s (%s): cancelled, stopping the unit", name, sp->path);
			(void)sd_bus_call_method(b, SD_DEST, SD_PATH, SD_MANAGER, "StopUnit", NULL, NULL, "ss",
			    name, "replace");
			stopping = f.changed = true;
			backstop = now + (uint64_t)grace + BACKSTOP_MS;
		}
		if (!ended && now >= backstop) {
			if (killed) {
				ap_errf(err, errlen, "%s did not end after SIGKILL", name);
				goto out;
			}
			(void)sd_bus_call_method(b, SD_DEST, SD_PATH, SD_MANAGER, "KillUnit", NULL, NULL, "ssi",
			    name, "all", SIGKILL);
			res->timed_out = killed = true;
			backstop = now + BACKSTOP_MS;
		}
		if (pout[0] >= 0) {
			io = np;
			p[np++] = (struct pollfd){ .fd = pout[0], .events = POLLIN };
		}
		if (perr[0] >= 0) {
			ie = np;
			p[np++] = (struct pollfd){ .fd = perr[0], .events = POLLIN };
		}
		if (pin[1] >= 0) {
			ii = np;
			p[np++] = (struct pollfd){ .fd = pin[1], .events = POLLOUT };
		}
		if (lfd >= 0) {
			il = np;
			p[np++] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		}
		ib = np;
		p[np++] = (struct pollfd){ .fd = sd_bus_get_fd(b), .events = (short)sd_bus_get_events(b) };
		if (sd_bus_get_timeout(b, &usec) >= 0 && usec != UINT64_MAX) {
			struct timespec ts;
			uint64_t mono;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			mono = (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
			if (usec <= mono)
				wait_ms = 0;
			else if ((usec - mono) / 1000 < (uint64_t)wait_ms)
				wait_ms = (int)((usec - mono) / 1000);
		}
		if (ended && drain_until > now && drain_until - now < (uint64_t)wait_ms)
			wait_ms = (int)(drain_until - now);
		if (poll(p, (nfds_t)np, wait_ms) < 0 && errno != EINTR) {
			ap_errf(err, errlen, "poll: %s", strerror(errno));
			goto out;
		}
		if (io >= 0 && p[io].revents)
			ap_spawn_drain(sp, 1, &pout[0], &res->out, &res->out_dropped, max, 64);
		if (ie >= 0 && p[ie].revents)
			ap_spawn_drain(sp, 2, &perr[0], &res->err, &res->err_dropped, max, 64);
		if (il >= 0 && p[il].revents && cred_serve(sp, lfd)) {
			/* Served once: nobody else may connect. */
			close_fd(&lfd);
			unlink(cpath);
			cpath[0] = '\0';
		}
		if (ii >= 0 && p[ii].revents) {
			ssize_t w = write(pin[1], (const char *)sp->stdin_data + written, sp->stdin_len - written);

			if (w > 0)
				written += (size_t)w;
			if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == sp->stdin_len)
				close_fd(&pin[1]);
		}
		/* A missed signal costs at most half a second. */
		if (p[ib].revents == 0 || (pout[0] < 0 && perr[0] < 0))
			f.changed = true;
	}
	if (pout[0] >= 0)
		ap_spawn_drain(sp, 1, &pout[0], &res->out, &res->out_dropped, max, 64);
	if (perr[0] >= 0)
		ap_spawn_drain(sp, 2, &perr[0], &res->err, &res->err_dropped, max, 64);
	rc = AP_OK;
out:
	res->elapsed_ms = ap_now_ms() - start;
	if (b != NULL && f.job != NULL && ended)
		unit_release(b, name);
	close_fd(&lfd);
	if (cpath[0] != '\0')
		unlink(cpath);
	close_fd(&pin[0]);
	close_fd(&pin[1]);
	close_fd(&pout[0]);
	close_fd(&pout[1]);
	close_fd(&perr[0]);
	close_fd(&perr[1]);
	free(f.job);
	free(upath);
	sd_bus_error_free(&e);
	sd_bus_message_unref(reply);
	sd_bus_message_unref(m);
	sd_bus_slot_unref(s_job);
	sd_bus_slot_unref(s_props);
	sd_bus_flush_close_unref(b);
	if (rc == AP_OK)
		AP_INFO("%s (%s): %s %d in %llu ms%s", name, sp->path, res->exited ? "exit" : "signal",
		    res->exited ? res->exit_code : res->signal, (unsigned long long)res->elapsed_ms,
		    res->timed_out ? " (timed out)" : stopping ? " (cancelled)" : "");
	if (trapped) {
		sigaction(SIGTERM, &old_term, NULL);
		/* the unit is gone: the SIGTERM now does what it came for */
		if (U_term) {
			U_term = 0;
			raise(SIGTERM);
		}
	}
	return rc;
}

enum ap_err
ap_spawn_unit_run(const struct ap_spawn *sp, struct ap_spawn_result *res, char *err, size_t errlen)
{
	return unit_run(sp, NULL, NULL, res, err, errlen);
}

/* ---- started, waited for later: a supervisor process ----------------------- */

/* Move fd to slot (>= 3) after every source was moved out of the way; -1 stays -1. */
static int
high_dup(int fd)
{
	return fd >= 0 ? fcntl(fd, F_DUPFD, 100) : -1;
}

/*
 * The supervisor: a child of the caller (its own process group, SIGTERM when
 * the caller dies) that starts the unit with the caller's descriptors,
 * reports "started" on the pipe, follows the unit to its end, lets systemd
 * collect it (which closes systemd's copies of the descriptors: the caller's
 * pipes see their end) and exits as the program did: its exit code, or
 * killed by its signal. A SIGTERM (ap_spawn_stop, the caller's death) stops
 * the unit first (StopUnit) and then ends the supervisor by SIGTERM.
 */
static _Noreturn void
supervise(const struct ap_spawn *sp, const int fds_in[3], int report, pid_t parent)
{
	struct ap_spawn_result res = { 0 };
	char err[400];
	int moved[4], given[3], started;
	sigset_t none;
	enum ap_err rc;

	setpgid(0, 0);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent)
		_exit(127);
	for (int i = 0; i < 3; i++)
		moved[i] = high_dup(fds_in[i]);
	moved[3] = high_dup(report);
	for (int i = 0; i < 4; i++) {
		int slot = 3 + i;

		if (moved[i] >= 0 && dup2(moved[i], slot) != slot)
			_exit(127);
	}
	/* Nothing else of the caller's: a pipe end kept here would hold off its reader's EOF. */
	if (close_range(7, ~0U, 0) != 0)
		_exit(127);
	for (int i = 0; i < 3; i++)
		given[i] = moved[i] >= 0 ? 3 + i : -1;
	started = 6;
	rc = unit_run(sp, given, &started, &res, err, sizeof(err));
	if (rc == AP_OK && started >= 0)
		snprintf(err, sizeof(err), "systemd did not start %s (%s %d)", sp->path,
		    res.exited ? "exit status" : "signal", res.exited ? res.exit_code : res.signal);
	if (rc != AP_OK || started >= 0) {
		/* Not started: the caller reads the reason from the report pipe; started and then
		 * lost: the program's stderr says it. */
		if (started >= 0) {
			(void)!write(started, "F", 1);
			(void)!write(started, err, strlen(err));
		} else if (given[2] >= 0)
			dprintf(given[2], "\nerror: %s\n", err);
		_exit(127);
	}
	if (res.timed_out && given[2] >= 0)
		dprintf(given[2], "\nerror: %s.service ran out of time (%d ms)\n", sp->unit,
		    sp->timeout_ms > 0 ? sp->timeout_ms : AP_SPAWN_DEFAULT_TIMEOUT_MS);
	if (res.exited)
		_exit(res.exit_code & 0xff);
	signal(res.signal > 0 ? res.signal : SIGKILL, SIG_DFL);
	raise(res.signal > 0 ? res.signal : SIGKILL);
	_exit(128 + res.signal);
}

enum ap_err
ap_spawn_unit_start(const struct ap_spawn *sp, const int fds[4], struct ap_spawn_proc *p, char *err,
    size_t errlen)
{
	int rp[2] = { -1, -1 }, status = 0;
	char msg[400];
	ssize_t n, got = 0;
	pid_t pid, self = getpid();

	if (!unit_name_ok(sp->unit)) {
		ap_errf(err, errlen, "%s: the unit name '%s' is not [a-z0-9-]{1,64}", sp->path, sp->unit);
		return AP_ERR_INVAL;
	}
	if (sp->cred_name != NULL && (sp->cred_dir == NULL || sp->cred_dir[0] != '/' || sp->cred_data == NULL)) {
		ap_errf(err, errlen, "%s: a credential needs an absolute directory and its bytes", sp->path);
		return AP_ERR_INVAL;
	}
	if (pipe2(rp, O_CLOEXEC) != 0) {
		ap_errf(err, errlen, "cannot start %s: pipe: %s", sp->path, strerror(errno));
		return AP_ERR_IO;
	}
	signal(SIGPIPE, SIG_IGN);
	pid = fork();
	if (pid < 0) {
		ap_errf(err, errlen, "cannot start %s: fork: %s", sp->path, strerror(errno));
		close(rp[0]);
		close(rp[1]);
		return AP_ERR_IO;
	}
	if (pid == 0) {
		close(rp[0]);
		supervise(sp, fds, rp[1], self);
	}
	setpgid(pid, pid);
	close(rp[1]);
	while ((size_t)got < sizeof(msg) - 1) {
		n = read(rp[0], msg + got, sizeof(msg) - 1 - (size_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
		if (msg[0] == 'S')
			break;
	}
	close(rp[0]);
	msg[got] = '\0';
	if (got < 1 || msg[0] != 'S') {
		kill(-pid, SIGTERM);
		waitpid(pid, &status, 0);
		ap_errf(err, errlen, "%s", got > 1 ? msg + 1 : "cannot start the unit: its supervisor ended");
		return AP_ERR_IO;
	}
	memset(p, 0, sizeof(*p));
	p->pidfd = pidfd_open(pid, 0);
	if (p->pidfd < 0) {
		ap_errf(err, errlen, "pidfd_open: %s", strerror(errno));
		kill(-pid, SIGTERM);
		waitpid(pid, &status, 0);
		return AP_ERR_IO;
	}
	p->pid = pid;
	p->start_ms = ap_now_ms();
	return AP_OK;
}
