/*
 * ops_tasks.c — scheduled tasks (docs/tasks.md): task.put, task.remove,
 * task.exec.
 *
 * The helper keeps its own copy of each task, <tasks.spec_dir>/<id>.json
 * (what runs, as whom, how long), and one cron file, <tasks.cron_dir>/aapanel,
 * rebuilt from those copies after every change. Each of its lines is made
 * of fixed, validated parts only:
 *
 *   M H DOM MON DOW <panel user> <recorder> --profile P --config C --root R task run ID
 *
 * cron gives the line to /bin/sh; nothing in it comes from a request but the
 * schedule (cron.h's strict grammar: digits, names, * / , -) and the id. The
 * recorder (aapanel task run ID, src/cli/task.c) asks for task.exec, which
 * runs the command from the copy here, without a shell, as its user, with
 * its timeout, holding <id>.lock so that two runs never overlap.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aapanel/cron.h"
#include "aapanel/taskcheck.h"
#include "jobs.h"
#include "ops.h"
#include "sitefs.h"
#include "spawn.h"

#define TASK_OUTPUT_MAX (64 * 1024)
#define CRON_FILE "aapanel"

/* backup, backup_check: the panel's own kinds (src/data/backup_tasks.c). The helper
 * writes their cron line only; the recorder runs them as backup.run / backup.check
 * jobs, so task.exec refuses them. */
static const char *const task_kinds[] = { "command", "url", "backup", "backup_check", NULL };
enum { KIND_COMMAND, KIND_URL, KIND_BACKUP, KIND_BACKUP_CHECK };

enum { TP_ID, TP_NAME, TP_KIND, TP_COMMAND, TP_URL, TP_USER, TP_SCHEDULE, TP_TIMEOUT,
	TP_ENABLED, TP__MAX };
const struct ap_field ap_ops_task_put_args[TP__MAX + 1] = {
	[TP_ID] = { .name = "id", .type = AP_FIELD_INT, .flags = AP_FIELD_REQUIRED, .min = 1,
	    .max = 2147483647 },
	[TP_NAME] = { .name = "name", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED |
	    AP_FIELD_SINGLELINE, .min = 1, .max = 64, .check = ap_check_task_name },
	[TP_KIND] = { .name = "kind", .type = AP_FIELD_ENUM, .flags = AP_FIELD_REQUIRED,
	    .choices = task_kinds },
	[TP_COMMAND] = { .name = "command", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE,
	    .max = AP_TASK_MAX_COMMAND, .check = ap_check_task_command },
	[TP_URL] = { .name = "url", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE,
	    .max = AP_TASK_MAX_URL, .check = ap_check_task_url },
	[TP_USER] = { .name = "user", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE,
	    .max = 32, .check = ap_check_task_user },
	[TP_SCHEDULE] = { .name = "schedule", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED |
	    AP_FIELD_SINGLELINE, .min = 1, .max = AP_CRON_MAX_LEN, .check = ap_check_cron },
	[TP_TIMEOUT] = { .name = "timeout", .type = AP_FIELD_INT, .flags = AP_FIELD_REQUIRED,
	    .min = 1, .max = 86400 },
	[TP_ENABLED] = { .name = "enabled", .type = AP_FIELD_BOOL },
	[TP__MAX] = AP_FIELD_END,
};

enum { TI_ID, TI__MAX };
const struct ap_field ap_ops_task_id_args[TI__MAX + 1] = {
	[TI_ID] = { .name = "id", .type = AP_FIELD_INT, .flags = AP_FIELD_REQUIRED, .min = 1,
	    .max = 2147483647 },
	[TI__MAX] = AP_FIELD_END,
};

/* Absolute and made of [A-Za-z0-9._/+-] only: safe to write into a line sh reads. */
static bool
shell_safe_path(const char *p)
{
	if (p == NULL || p[0] != '/')
		return false;
	for (; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("._/+-", *p) != NULL))
			return false;
	return true;
}

/* The user the cron lines run the recorder as: helper.panel_user, else the helper's own. */
static const char *
recorder_user(const struct ap_config *cfg, char *buf, size_t n)
{
	const char *u = cfg->helper_panel_user;
	struct passwd *pw;

	if (u != NULL && u[0] != '\0') {
		if (u[0] >= '0' && u[0] <= '9') {
			if ((pw = getpwuid((uid_t)strtoul(u, NULL, 10))) == NULL)
				return NULL;
			u = pw->pw_name;
		}
		snprintf(buf, n, "%s", u);
	} else {
		if ((pw = getpwuid(geteuid())) == NULL)
			return NULL;
		snprintf(buf, n, "%s", pw->pw_name);
	}
	return ap_check_task_user(buf, strlen(buf)) == NULL ? buf : NULL;
}

static enum ap_err
dirs(struct helper_ctx *ctx, int *spec, int *cron)
{
	const char *why = NULL;

	*spec = *cron = -1;
	if (ap_fs_dir(ctx->sandbox_fd, ctx->cfg->tasks_spec_dir, true, 0700, spec, &why) != AP_OK ||
	    ap_fs_dir(ctx->sandbox_fd, ctx->cfg->tasks_cron_dir, true, 0755, cron, &why) != AP_OK) {
		if (*spec >= 0)
			close(*spec);
		*spec = -1;
		return ap_problem_set(ctx->pb, AP_PB_FAILED, NULL, "cannot open the task directories: %s",
		    why ? why : strerror(errno));
	}
	return AP_OK;
}

/* The cron file from every enabled task in spec_dir, ids in order. */
static enum ap_err
rebuild_cron(struct helper_ctx *ctx, int specfd, int cronfd)
{
	struct ap_buf out = { 0 };
	char user[64];
	DIR *d = NULL;
	struct dirent *e;
	int64_t ids[4096];
	size_t n = 0;
	int dfd = dup(specfd);
	enum ap_err rc = AP_OK;
	const struct ap_config *c = ctx->cfg;

	if (recorder_user(c, user, sizeof(user)) == NULL || !shell_safe_path(c->tasks_recorder) ||
	    !shell_safe_path(c->base_file) || !shell_safe_path(c->root_dir)) {
		if (dfd >= 0)
			close(dfd);
		return ap_problem_set(ctx->pb, AP_PB_FAILED, NULL,
		    "the recorder's user, program, configuration or root is not a plain name or path");
	}
	if (dfd < 0 || (d = fdopendir(dfd)) == NULL) {
		if (dfd >= 0)
			close(dfd);
		return ap_problem_set(ctx->pb, AP_PB_FAILED, NULL, "cannot read the task directory");
	}
	while ((e = readdir(d)) != NULL && n < AP_NELEM(ids)) {
		char *end;
		long long id = strtoll(e->d_name, &end, 10);

		if (id > 0 && strcmp(end, ".json") == 0)
			ids[n++] = id;
	}
	closedir(d);
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && ids[j - 1] > ids[j]; j--) {
			int64_t t = ids[j];
			ids[j] = ids[j - 1];
			ids[j - 1] = t;
		}
	ap_buf_puts(&out, "# aaPanel's scheduled tasks: written by aapanel-helper from its copies in\n"
	    "# tasks.spec_dir; changes made here are lost. Each line runs the recorder,\n"
	    "# which runs the task without a shell (docs/tasks.md).\n"
	    "SHELL=/bin/sh\nPATH=/usr/sbin:/usr/bin:/sbin:/bin\nMAILTO=\"\"\n");
	for (size_t i = 0; i < n; i++) {
		char name[32];
		struct ap_buf b = { 0 };
		struct json_object *j, *v;
		struct ap_cron cr;
		const char *f, *w;

		snprintf(name, sizeof(name), "%lld.json", (long long)ids[i]);
		if (ap_fs_read(specfd, name, 65536, &b) != AP_OK) {
			ap_buf_free(&b);
			continue;
		}
		j = json_tokener_parse(ap_buf_cstr(&b));
		ap_buf_free(&b);
		if (j == NULL)
			continue;
		if (json_object_object_get_ex(j, "enabled", &v) && json_object_get_boolean(v) &&
		    json_object_object_get_ex(j, "schedule", &v) &&
		    ap_cron_parse(json_object_get_string(v), &cr, &f, &w))
			ap_buf_printf(&out, "%s %s %s --profile %s --config %s --root %s task run %lld\n",
			    cr.text, user, c->tasks_recorder, ap_profile_name(c->profile), c->base_file,
			    c->root_dir, (long long)ids[i]);
		json_object_put(j);
	}
	if (ap_fs_write(cronfd, CRON_FILE, out.data, out.len, 0644) != AP_OK)
		rc = ap_problem_set(ctx->pb, AP_PB_FAILED, NULL, "cannot write the cron file: %s",
		    strerror(errno));
	ap_buf_free(&out);
	return rc;
}

static void
result_paths(struct helper_ctx *ctx)
{
	char p[4096];

	snprintf(p, sizeof(p), "%s/%s/%s", ctx->cfg->helper_sandbox_root, ctx->cfg->tasks_cron_dir,
	    CRON_FILE);
	json_object_object_add(ctx->result, "cron_file", json_object_new_string(p));
}

enum ap_err
ap_ops_task_put(struct helper_ctx *ctx)
{
	const struct ap_fieldval *a = ctx->args;
	struct json_object *spec = NULL;
	struct passwd *pw = NULL;
	char name[32];
	const char *js;
	int specfd = -1, cronfd = -1;
	bool cmd = a[TP_KIND].i == KIND_COMMAND, panel = a[TP_KIND].i >= KIND_BACKUP;
	enum ap_err rc;

	if (panel && (a[TP_COMMAND].present || a[TP_URL].present || a[TP_USER].present))
		return ap_problem_set(ctx->pb, AP_PB_INVALID, a[TP_USER].present ? "user" : a[TP_URL].present
		    ? "url" : "command", "a backup task runs no command, URL or user");
	if (cmd && !a[TP_COMMAND].present)
		return ap_problem_set(ctx->pb, AP_PB_INVALID, "command", "is required");
	if (!cmd && !panel && !a[TP_URL].present)
		return ap_problem_set(ctx->pb, AP_PB_INVALID, "url", "is required");
	if (cmd && !a[TP_USER].present)
		return ap_problem_set(ctx->pb, AP_PB_INVALID, "user", "is required");
	if (a[TP_USER].present) {
		if ((pw = getpwnam(a[TP_USER].s)) == NULL)
			return ap_problem_set(ctx->pb, AP_PB_INVALID, "user", "no such user on this server");
		if (pw->pw_uid == 0 && !ctx->cfg->tasks_allow_root)
			return ap_problem_set(ctx->pb, AP_PB_INVALID, "user",
			    "root is not allowed (tasks.allow_root is off)");
	}
	if (a[TP_TIMEOUT].i > ctx->cfg->tasks_max_timeout ||
	    a[TP_TIMEOUT].i > ctx->cfg->helper_job_timeout)
		return ap_problem_set(ctx->pb, AP_PB_INVALID, "timeout",
		    "must be at most tasks.max_timeout (and helper.job_timeout) seconds");
	spec = json_object_new_object();
	json_object_object_add(spec, "id", json_object_new_int64(a[TP_ID].i));
	json_object_object_add(spec, "name", json_object_new_string(a[TP_NAME].s));
	json_object_object_add(spec, "kind", json_object_new_string(task_kinds[a[TP_KIND].i]));
	if (cmd) {
		const char *why;
		struct json_object *argv = ap_task_argv(a[TP_COMMAND].s, a[TP_COMMAND].len, &why);

		json_object_object_add(spec, "argv", argv);
	} else if (!panel) {
		json_object_object_add(spec, "url", json_object_new_string(a[TP_URL].s));
	}
	if (pw != NULL)
		json_object_object_add(spec, "user", json_object_new_string(pw->pw_name));
	json_object_object_add(spec, "schedule", json_object_new_string(a[TP_SCHEDULE].s));
	json_object_object_add(spec, "timeout", json_object_new_int64(a[TP_TIMEOUT].i));
	json_object_object_add(spec, "enabled", json_object_new_boolean(a[TP_ENABLED].b));
	if ((rc = dirs(ctx, &specfd, &cronfd)) != AP_OK)
		goto out;
	snprintf(name, sizeof(name), "%lld.json", a[TP_ID].i);
	js = json_object_to_json_string_ext(spec, JSON_C_TO_STRING_PLAIN);
	if (ap_fs_write(specfd, name, js, strlen(js), 0600) != AP_OK) {
		rc = ap_problem_set(ctx->pb, AP_PB_FAILED, NULL, "cannot write the task: %s",
		    strerror(errno));
		goto out;
	}
	if ((rc = rebuild_cron(ctx, specfd, cronfd)) != AP_OK)
		goto out;
	result_paths(ctx);
	json_object_object_add(ctx->result, "id", json_object_new_int64(a[TP_ID].i));
out:
	json_object_put(spec);
	if (specfd >= 0)
		close(specfd);
	if (cronfd >= 0)
		close(cronfd);
	return rc;
}

enum ap_err
ap_ops_task_remove(struct helper_ctx *ctx)
{
	char name[32];
	int specfd = -1, cronfd = -1;
	enum ap_err rc;

	if ((rc = dirs(ctx, &specfd, &cronfd)) != AP_OK)
		return rc;
	snprintf(name, sizeof(name), "%lld.json", ctx->args[TI_ID].i);
	ap_fs_unlink(specfd, name);
	snprintf(name, sizeof(name), "%lld.lock", ctx->args[TI_ID].i);
	ap_fs_unlink(specfd, name);
	rc = rebuild_cron(ctx, specfd, cronfd);
	if (rc == AP_OK) {
		result_paths(ctx);
		json_object_object_add(ctx->result, "id", json_object_new_int64(ctx->args[TI_ID].i));
	}
	close(specfd);
	close(cronfd);
	return rc;
}

/* The last TASK_OUTPUT_MAX bytes of stdout and stderr together, in order. */
struct tail {
	char buf[TASK_OUTPUT_MAX];
	size_t start, len;
	size_t total;
	struct ap_job_ctx *job;
};

static void
tail_add(void *p, int stream, const char *data, size_t n)
{
	struct tail *t = p;

	(void)stream;
	t->total += n;
	if (t->job != NULL)
		ap_job_output(t->job, data, n);
	for (size_t i = 0; i < n; i++) {
		t->buf[(t->start + t->len) % TASK_OUTPUT_MAX] = data[i];
		if (t->len < TASK_OUTPUT_MAX)
			t->len++;
		else
			t->start = (t->start + 1) % TASK_OUTPUT_MAX;
	}
}

/* The tail as a JSON string: invalid UTF-8 bytes become '?', NULs too. */
static struct json_object *
tail_json(const struct tail *t)
{
	char *s = malloc(t->len + 1);
	size_t i = 0, o = 0;
	struct json_object *j;

	if (s == NULL)
		abort();
	while (i < t->len) {
		unsigned char c = (unsigned char)t->buf[(t->start + i) % TASK_OUTPUT_MAX];
		size_t need = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 :
		    (c & 0xf8) == 0xf0 ? 3 : 9;
		bool ok = need != 9 && i + need < t->len && c != 0 && !(c >= 0xc0 && c < 0xc2) && c < 0xf5;

		for (size_t k = 1; ok && k <= need; k++)
			ok = ((unsigned char)t->buf[(t->start + i + k) % TASK_OUTPUT_MAX] & 0xc0) == 0x80;
		if (!ok) {
			s[o++] = '?';
			i++;
			continue;
		}
		for (size_t k = 0; k <= need; k++)
			s[o++] = t->buf[(t->start + i + k) % TASK_OUTPUT_MAX];
		i += need + 1;
	}
	s[o] = '\0';
	j = json_object_new_string_len(s, (int)o);
	free(s);
	return j;
}

enum ap_err
ap_ops_task_exec(struct helper_ctx *ctx)
{
	struct ap_buf b = { 0 };
	struct json_object *spec = NULL, *v, *argvj = NULL;
	struct ap_spawn sp = { 0 };
	struct ap_spawn_result res = { 0 };
	struct tail *t = NULL;
	const char *argv[AP_TASK_MAX_ARGS + 8];
	char name[32], err[256], tbuf[16], url[AP_TASK_MAX_URL + 1];
	int specfd = -1, cronfd = -1, lockfd = -1;
	int64_t started = (int64_t)time(NULL), timeout;
	enum ap_err rc;
	struct passwd *pw = NULL;
	char unit[64];
	bool in_unit, is_url = false;
	enum ap_err src;

	if ((rc = dirs(ctx, &specfd, &cronfd)) != AP_OK)
		return rc;
	close(cronfd);
	snprintf(name, sizeof(name), "%lld.json", ctx->args[TI_ID].i);
	if (ap_fs_read(specfd, name, 65536, &b) != AP_OK ||
	    (spec = json_tokener_parse(ap_buf_cstr(&b))) == NULL) {
		rc = ap_problem_set(ctx->pb, AP_PB_NOT_FOUND, "id", "no such task");
		goto out;
	}
	if (json_object_object_get_ex(spec, "kind", &v) &&
	    (strcmp(json_object_get_string(v), "backup") == 0 ||
		strcmp(json_object_get_string(v), "backup_check") == 0)) {
		rc = ap_problem_set(ctx->pb, AP_PB_INVALID, "id",
		    "a backup task runs as backup.run or backup.check, not task.exec");
		goto out;
	}
	/* No overlap: the lock is held for the whole run; a second run gives up at once. */
	snprintf(name, sizeof(name), "%lld.lock", ctx->args[TI_ID].i);
	lockfd = openat(specfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (lockfd < 0 || flock(lockfd, LOCK_EX | LOCK_NB) != 0) {
		rc = ap_problem_set(ctx->pb, AP_PB_BUSY, "id", "the task's previous run is still going");
		goto out;
	}
	timeout = json_object_object_get_ex(spec, "timeout", &v) ? json_object_get_int64(v) : 60;
	if (timeout < 1 || timeout > ctx->cfg->tasks_max_timeout)
		timeout = ctx->cfg->tasks_max_timeout;
	if (json_object_object_get_ex(spec, "user", &v) &&
	    (pw = getpwnam(json_object_get_string(v))) == NULL) {
		rc = ap_problem_set(ctx->pb, AP_PB_FAILED, "user", "the task's user no longer exists");
		goto out;
	}
	if (pw != NULL && pw->pw_uid == 0 && !ctx->cfg->tasks_allow_root) {
		rc = ap_problem_set(ctx->pb, AP_PB_FAILED, "user", "root is not allowed (tasks.allow_root is off)");
		goto out;
	}
	if (json_object_object_get_ex(spec, "url", &v)) {
		is_url = true;
		snprintf(url, sizeof(url), "%s", json_object_get_string(v));
		snprintf(tbuf, sizeof(tbuf), "%lld", (long long)timeout);
		argv[0] = "/usr/bin/curl";
		argv[1] = "--silent";
		argv[2] = "--show-error";
		argv[3] = "--fail";
		argv[4] = "--proto";
		argv[5] = "=http,https";
		argv[6] = "--max-time";
		argv[7] = tbuf;
		argv[8] = "--";
		argv[9] = url;
		argv[10] = NULL;
		/* Nobody needs to be root to fetch a URL. */
		if (geteuid() == 0 && pw == NULL)
			pw = getpwnam("nobody");
	} else {
		size_t n;

		if (!json_object_object_get_ex(spec, "argv", &argvj) ||
		    (n = json_object_array_length(argvj)) < 1 || n > AP_TASK_MAX_ARGS) {
			rc = ap_problem_set(ctx->pb, AP_PB_FAILED, "command", "the task has no command");
			goto out;
		}
		for (size_t i = 0; i < n; i++)
			argv[i] = json_object_get_string(json_object_array_get_idx(argvj, i));
		argv[n] = NULL;
	}
	/*
	 * Under systemd the run is a transient unit of its own (spawn_unit.c):
	 * systemd switches to the user and the run has the server's network,
	 * neither of which the helper's unit allows. Otherwise (development,
	 * tests outside systemd) the helper switches itself when it is root;
	 * unprivileged, everything runs as the helper's own user.
	 */
	in_unit = ap_spawn_units_available(NULL, 0);
	if (pw != NULL && geteuid() == 0 && pw->pw_uid != 0) {
		sp.switch_user = true;
		sp.uid = pw->pw_uid;
		sp.gid = pw->pw_gid;
	}
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		abort();
	t->job = ctx->job;
	sp.path = argv[0];
	sp.argv = argv;
	sp.timeout_ms = (int)(timeout * 1000);
	sp.on_output = tail_add;
	sp.on_output_ctx = t;
	sp.max_output = 1;
	if (in_unit) {
		snprintf(unit, sizeof(unit), "aapanel-task-%lld", ctx->args[TI_ID].i);
		sp.unit = unit;
		sp.unit_sandbox = is_url ? AP_SPAWN_SB_FETCH : sp.switch_user ? AP_SPAWN_SB_USER : AP_SPAWN_SB_NONE;
	} else if (pw != NULL && sp.switch_user && pw->pw_dir[0] == '/' && access(pw->pw_dir, X_OK) == 0)
		sp.cwd = pw->pw_dir;
	ap_job_progress(ctx->job, 1);
	if ((src = ap_spawn_run(&sp, &res, err, sizeof(err))) == AP_ERR_UNAVAIL) {
		/* Its unit from a run whose helper died is still going: no overlap. */
		rc = ap_problem_set(ctx->pb, AP_PB_BUSY, "id", "the task's previous run is still going");
		goto out;
	} else if (src != AP_OK) {
		/* It did not start (no such program, a user that cannot be switched to). */
		tail_add(t, 2, err, strlen(err));
		tail_add(t, 2, "\n", 1);
		res.exited = true;
		res.exit_code = 127;
	}
	json_object_object_add(ctx->result, "id", json_object_new_int64(ctx->args[TI_ID].i));
	json_object_object_add(ctx->result, "started_at", json_object_new_int64(started));
	json_object_object_add(ctx->result, "ended_at", json_object_new_int64((int64_t)time(NULL)));
	json_object_object_add(ctx->result, "elapsed_ms", json_object_new_int64((int64_t)res.elapsed_ms));
	json_object_object_add(ctx->result, "exit_code",
	    res.exited ? json_object_new_int(res.exit_code) : NULL);
	json_object_object_add(ctx->result, "signal", res.signal ? json_object_new_int(res.signal) : NULL);
	json_object_object_add(ctx->result, "timed_out", json_object_new_boolean(res.timed_out));
	json_object_object_add(ctx->result, "output", tail_json(t));
	json_object_object_add(ctx->result, "output_bytes", json_object_new_int64((int64_t)t->total));
	json_object_object_add(ctx->result, "run_as",
	    json_object_new_string(sp.switch_user ? pw->pw_name : "(the helper's own user)"));
	json_object_object_add(ctx->result, "unit", in_unit ? json_object_new_string(unit) : NULL);
	/* The job itself succeeded: the task's own status is in the result. */
	ctx->exit_code = 0;
	rc = AP_OK;
out:
	free(t);
	ap_spawn_result_free(&res);
	json_object_put(spec);
	ap_buf_free(&b);
	if (lockfd >= 0)
		close(lockfd);
	if (specfd >= 0)
		close(specfd);
	return rc;
}
