/*
 * files.c — `aapanel files …`: a site's files from the command line, through
 * the same data functions (src/data/files.c) and the same helper operations
 * as the file manager (docs/files.md).
 *
 *   aapanel files ls SITE [PATH] [--json]   the folder's entries (PATH "" = the root)
 *   aapanel files get SITE PATH             the file, streamed to stdout
 *   aapanel files put SITE PATH [--no-overwrite]   stdin streamed into the file
 *   aapanel files rm SITE PATH              to the site's trash
 *   aapanel files pack SITE [PATH] [--format zip|tar.gz|tar.xz|tar]
 *                                           the folder (or the root) as an archive, streamed to stdout
 *   aapanel files chown SITE PATH site|site-web [--recursive] [--no-wait] [--json]
 *                                           to the site's user (its group, or nginx's);
 *                                           --recursive: a folder's contents too (a job)
 *   aapanel files copy SITE PATH TO [--no-wait] [--json]   a copy beside it (a job)
 *   aapanel files job SITE JOB [--json]     a files job's state, progress, error, result
 *   aapanel files job-cancel SITE JOB [--json]   cancel it (a copy removes what it made)
 *
 * A job (chown --recursive, copy) is followed to its end: its progress on
 * stderr when stderr is a terminal (one line at its end otherwise), exit 0
 * when done, 1 when it failed or was cancelled (the reason on stderr), 2
 * when the job refused its input (a hard-linked file in the tree, ...).
 * --no-wait prints the job's id and returns; --json prints the job object.
 * Ctrl-C stops the waiting only: the job goes on (job-cancel cancels it).
 *
 * SITE is the site's domain, or --root NAME instead of it: one of the
 * admins' other roots (files.roots; not for chown), e.g.
 * `aapanel files ls --root www conf`. PATH is relative to its document root and
 * resolved beneath it by the kernel (the helper's openat2): a path that
 * leaves it is refused with exit 2 and the reason on stderr, and nothing is
 * read or written. Exit 0 on success, 2 for invalid input, 1 otherwise.
 * put, rm and chown are recorded in the audit log (a .php upload with its hash).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aapanel/cli.h"
#include "aapanel/files.h"
#include "aapanel/sitecheck.h"

static const char files_usage[] =
    "usage: aapanel files ls SITE [PATH] [--json]\n"
    "       aapanel files get SITE PATH\n"
    "       aapanel files put SITE PATH [--no-overwrite]\n"
    "       aapanel files rm SITE PATH\n"
    "       aapanel files pack SITE [PATH] [--format zip|tar.gz|tar.xz|tar] > archive\n"
    "       aapanel files chown SITE PATH site|site-web [--recursive] [--no-wait] [--json]\n"
    "       aapanel files copy SITE PATH TO [--no-wait] [--json]\n"
    "       aapanel files job SITE JOB [--json]\n"
    "       aapanel files job-cancel SITE JOB [--json]\n"
    "       (for one of files.roots: --root NAME in place of SITE, e.g. files ls --root www conf)\n";

static ssize_t
stdin_rd(void *ctx, void *buf, size_t n)
{
	ssize_t k;

	(void)ctx;
	do {
		k = read(STDIN_FILENO, buf, n);
	} while (k < 0 && errno == EINTR);
	return k;
}

static const char *
target(char *buf, size_t n, const struct ap_site *s, const char *path)
{
	if (s->spec.domain[0] == '\0')
		snprintf(buf, n, "root %s:%s", s->spec.root, path[0] ? path : ".");
	else
		snprintf(buf, n, "%s:%s", s->spec.domain, path[0] ? path : ".");
	return buf;
}

static int
ls(const struct ap_sites_env *env, const struct ap_site *s, const char *path, bool json)
{
	struct json_object *a = json_object_new_object(), *res = NULL, *items, *v;
	struct ap_problem pb;

	json_object_object_add(a, "path", json_object_new_string(path));
	if (ap_files_call(env, s, "files.list", a, &res, NULL, &pb) != AP_OK) {
		json_object_put(a);
		return ap_cli_problem("files ls", &pb);
	}
	json_object_put(a);
	if (json) {
		printf("%s\n", json_object_to_json_string_ext(res, JSON_C_TO_STRING_PRETTY |
		    JSON_C_TO_STRING_NOSLASHESCAPE));
	} else if (json_object_object_get_ex(res, "items", &items)) {
		for (size_t i = 0; i < json_object_array_length(items); i++) {
			struct json_object *e = json_object_array_get_idx(items, i);
			const char *type = "", *name = "";
			int64_t size = 0, mode = 0;

			if (json_object_object_get_ex(e, "type", &v))
				type = json_object_get_string(v);
			if (json_object_object_get_ex(e, "name", &v))
				name = json_object_get_string(v);
			if (json_object_object_get_ex(e, "size", &v))
				size = json_object_get_int64(v);
			if (json_object_object_get_ex(e, "mode", &v))
				mode = json_object_get_int64(v);
			printf("%-5s %04llo %12lld  %s%s\n", type, (unsigned long long)mode, (long long)size,
			    name, strcmp(type, "dir") == 0 ? "/" : "");
		}
	}
	json_object_put(res);
	return 0;
}

/* fd (closed here) to stdout to its end; 0, or 1 with the reason on stderr. */
static int
copy_out(int fd, const char *what, const char *path)
{
	char buf[65536];
	ssize_t k;
	int rc = 0;

	while ((k = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off < k;) {
			ssize_t w = write(STDOUT_FILENO, buf + off, (size_t)(k - off));

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				fprintf(stderr, "aapanel files %s: stdout: %s\n", what, strerror(errno));
				close(fd);
				return 1;
			}
			off += w;
		}
	}
	if (k < 0) {
		fprintf(stderr, "aapanel files %s: %s: %s\n", what, path, strerror(errno));
		rc = 1;
	}
	close(fd);
	return rc;
}

static int
get(const struct ap_sites_env *env, const struct ap_site *s, const char *path)
{
	struct json_object *a = json_object_new_object(), *res = NULL;
	struct ap_problem pb;
	int fd = -1;

	json_object_object_add(a, "path", json_object_new_string(path));
	if (ap_files_call(env, s, "files.open", a, &res, &fd, &pb) != AP_OK) {
		json_object_put(a);
		return ap_cli_problem("files get", &pb);
	}
	json_object_put(a);
	json_object_put(res);
	return copy_out(fd, "get", path);
}

static int
pack(const struct ap_sites_env *env, const struct ap_site *s, const char *path, const char *format)
{
	struct json_object *a = json_object_new_object(), *res = NULL;
	struct ap_problem pb;
	int fd = -1;

	json_object_object_add(a, "path", json_object_new_string(path[0] ? path : "."));
	json_object_object_add(a, "format", json_object_new_string(format));
	if (ap_files_call(env, s, "files.pack", a, &res, &fd, &pb) != AP_OK) {
		json_object_put(a);
		return ap_cli_problem("files pack", &pb);
	}
	json_object_put(a);
	json_object_put(res);
	return copy_out(fd, "pack", path);
}

/* ---- jobs: followed to their end ---------------------------------------- */

static volatile sig_atomic_t interrupted;

static void
on_int(int sig)
{
	(void)sig;
	interrupted = 1;
}

static const char *
jstr(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) && v != NULL ? json_object_get_string(v) : "";
}

static int64_t
jint(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) && v != NULL ? json_object_get_int64(v) : 0;
}

static void
print_json(struct json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* The job as the API shows it (FileJob: its site's id added). */
static void
job_json(const struct ap_site *s, struct json_object *st)
{
	json_object_object_add(st, "site", json_object_new_int64(s->id));
	print_json(st);
}

/* A failed job's exit status: 2 when the helper refused its input (a 4xx: a hard link, a name), else 1. */
static int
failed_status(const struct ap_sites_env *env, int64_t job)
{
	struct json_object *a = json_object_new_object(), *st = NULL, *err;
	struct ap_problem pb = { .code = AP_PB_NONE };
	int rc = 1;

	json_object_object_add(a, "id", json_object_new_int64(job));
	if (ap_site_helper_call(env, "job.status", a, &st, &pb) == AP_OK &&
	    json_object_object_get_ex(st, "error", &err) && err != NULL) {
		ap_site_helper_problem(err, &pb);
		rc = pb.status >= 400 && pb.status < 500 ? 2 : 1;
	}
	json_object_put(st);
	json_object_put(a);
	return rc;
}

/*
 * The end of a job (st taken): one line, the exit status (0 done, 1 failed
 * or cancelled, 2 refused input).
 */
static int
job_end(const struct ap_sites_env *env, const char *cmd, const struct ap_site *s, struct json_object *st,
    bool json)
{
	const char *state = jstr(st, "state");
	struct json_object *r = NULL;
	int rc = strcmp(state, "done") == 0 ? 0 : strcmp(state, "failed") == 0 ? failed_status(env, jint(st, "id")) : 1;

	json_object_object_get_ex(st, "result", &r);
	if (rc != 0) {
		fprintf(stderr, "aapanel files %s: job %lld %s: %s", cmd, (long long)jint(st, "id"), state,
		    jstr(st, "error")[0] ? jstr(st, "error") : state);
		if (r != NULL && json_object_object_get_ex(r, "to", NULL))
			fprintf(stderr, json_object_get_boolean(json_object_object_get(r, "removed"))
			    ? " (the partly made copy %s was removed)" : " (the partly made copy %s is left)",
			    jstr(r, "to"));
		else if (r != NULL && json_object_object_get_ex(r, "total", NULL))
			fprintf(stderr, " (%lld of %lld entries were changed)", (long long)jint(r, "entries"),
			    (long long)jint(r, "total"));
		fputc('\n', stderr);
	} else if (!json) {
		fprintf(stderr, "aapanel files %s: job %lld done: %lld entries\n", cmd, (long long)jint(st, "id"),
		    (long long)(r != NULL ? jint(r, "entries") : 0));
	}
	if (json)
		job_json(s, st);
	json_object_put(st);
	return rc;
}

/*
 * Follow job to its end (*st its last state, or NULL when the waiting was
 * interrupted or the job lost): progress on stderr when it is a terminal.
 */
static enum ap_err
follow(const struct ap_sites_env *env, const struct ap_site *s, const char *cmd, int64_t job,
    struct json_object **st, struct ap_problem *pb)
{
	struct sigaction sa = { .sa_handler = on_int }, old_int, old_term;
	bool tty = isatty(STDERR_FILENO) == 1, drawn = false;
	int64_t last = -1;
	enum ap_err rc = AP_OK;

	*st = NULL;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	while (!interrupted) {
		const char *state;

		if ((rc = ap_files_job_get(env, s, job, st, pb)) != AP_OK)
			break;
		state = jstr(*st, "state");
		if (strcmp(state, "queued") != 0 && strcmp(state, "running") != 0)
			break;
		if (tty && jint(*st, "progress") != last) {
			last = jint(*st, "progress");
			fprintf(stderr, "\r%s: job %lld %3lld%%", cmd, (long long)job, (long long)last);
			drawn = true;
		}
		json_object_put(*st);
		*st = NULL;
		usleep(250 * 1000);
	}
	if (drawn)
		fputs(*st != NULL && strcmp(jstr(*st, "state"), "done") == 0 ? "\r\033[K" : "\n", stderr);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (interrupted && *st == NULL) {
		fprintf(stderr, "aapanel files %s: stopped waiting; job %lld goes on "
		    "(aapanel files job %s %lld; aapanel files job-cancel %s %lld)\n", cmd, (long long)job,
		    s->spec.domain, (long long)job, s->spec.domain, (long long)job);
		rc = AP_ERR_IO;
		pb->code = AP_PB_NONE;
	}
	return rc;
}

/*
 * op as a helper job, followed (or not: nowait) to its end; the audit
 * action's row with the result, or the job's id while it still runs.
 */
static int
run_job(const struct ap_sites_env *env, const struct ap_site *s, const char *cmd, const char *op,
    const char *action, const char *path, struct json_object *a, bool nowait, bool json)
{
	struct json_object *res = NULL, *st = NULL, *after;
	struct ap_problem pb;
	char t[4400];
	int64_t job = 0;
	int rc;

	if (ap_files_job_start(env, s, op, a, 0, &res, &job, &pb) != AP_OK) {
		char c[64];

		snprintf(c, sizeof(c), "files %s", cmd);
		rc = ap_cli_problem(c, &pb);
		after = json_object_new_object();
		if (job > 0)
			json_object_object_add(after, "job", json_object_new_int64(job));
		json_object_object_add(after, "reason", json_object_new_string(pb.reason));
		ap_cli_audit_write(env->db, action, target(t, sizeof(t), s, path), "failed", NULL,
		    json_object_to_json_string_ext(after, JSON_C_TO_STRING_PLAIN));
		json_object_put(after);
		return rc;
	}
	json_object_put(res);
	after = json_object_get(a);
	json_object_object_add(after, "job", json_object_new_int64(job));
	if (nowait) {
		if (ap_files_job_get(env, s, job, &st, &pb) == AP_OK)
			json_object_object_add(after, "state", json_object_new_string(jstr(st, "state")));
		ap_cli_audit_write(env->db, action, target(t, sizeof(t), s, path), "ok", NULL,
		    json_object_to_json_string_ext(after, JSON_C_TO_STRING_PLAIN));
		json_object_put(after);
		if (json && st != NULL)
			job_json(s, st);
		else
			printf("%lld\n", (long long)job);
		json_object_put(st);
		return 0;
	}
	if (follow(env, s, cmd, job, &st, &pb) != AP_OK) {
		json_object_object_add(after, "state", json_object_new_string("running"));
		ap_cli_audit_write(env->db, action, target(t, sizeof(t), s, path), "ok", NULL,
		    json_object_to_json_string_ext(after, JSON_C_TO_STRING_PLAIN));
		json_object_put(after);
		if (pb.code != AP_PB_NONE) {
			char c[64];

			snprintf(c, sizeof(c), "files %s", cmd);
			return ap_cli_problem(c, &pb);
		}
		return 1;
	}
	json_object_object_add(after, "state", json_object_new_string(jstr(st, "state")));
	if (json_object_object_get_ex(st, "result", &res) && res != NULL)
		json_object_object_add(after, "result", json_object_get(res));
	if (jstr(st, "error")[0])
		json_object_object_add(after, "reason", json_object_new_string(jstr(st, "error")));
	ap_cli_audit_write(env->db, action, target(t, sizeof(t), s, path),
	    strcmp(jstr(st, "state"), "done") == 0 ? "ok" : "failed", NULL,
	    json_object_to_json_string_ext(after, JSON_C_TO_STRING_PLAIN));
	json_object_put(after);
	return job_end(env, cmd, s, st, json);
}

static bool
job_id(const char *cmd, const char *arg, int64_t *job)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(arg, &end, 10);
	if (errno != 0 || *end != '\0' || end == arg || v <= 0) {
		fprintf(stderr, "aapanel files %s: job: must be a job's number\n", cmd);
		return false;
	}
	*job = v;
	return true;
}

static int
job_show(const struct ap_sites_env *env, const struct ap_site *s, int64_t job, bool json)
{
	struct json_object *st = NULL, *r;
	struct ap_problem pb;

	if (ap_files_job_get(env, s, job, &st, &pb) != AP_OK)
		return ap_cli_problem("files job", &pb);
	if (json) {
		job_json(s, st);
	} else {
		printf("job %lld %s %s %lld%%%s%s\n", (long long)job, jstr(st, "kind"), jstr(st, "state"),
		    (long long)jint(st, "progress"), jstr(st, "error")[0] ? ": " : "", jstr(st, "error"));
		if (json_object_object_get_ex(st, "result", &r) && r != NULL)
			printf("result %s\n", json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN));
	}
	json_object_put(st);
	return 0;
}

static int
job_cancel(const struct ap_sites_env *env, const struct ap_site *s, int64_t job, bool json)
{
	struct json_object *st = NULL, *after = json_object_new_object(), *r;
	struct ap_problem pb;
	char t[4400];
	int rc = 0;

	json_object_object_add(after, "job", json_object_new_int64(job));
	if (ap_files_job_cancel(env, s, job, &st, &pb) != AP_OK) {
		rc = ap_cli_problem("files job-cancel", &pb);
		json_object_object_add(after, "reason", json_object_new_string(pb.reason));
	} else {
		json_object_object_add(after, "state", json_object_new_string(jstr(st, "state")));
		if (json_object_object_get_ex(st, "result", &r) && r != NULL)
			json_object_object_add(after, "result", json_object_get(r));
	}
	ap_cli_audit_write(env->db, "files.job_cancel", target(t, sizeof(t), s, ""), rc ? "failed" : "ok", NULL,
	    json_object_to_json_string_ext(after, JSON_C_TO_STRING_PLAIN));
	json_object_put(after);
	if (rc != 0)
		return rc;
	if (json) {
		job_json(s, st);
	} else {
		printf("job %lld %s%s%s\n", (long long)job, jstr(st, "state"), jstr(st, "error")[0] ? ": " : "",
		    jstr(st, "error"));
		if (json_object_object_get_ex(st, "result", &r) && r != NULL)
			printf("result %s\n", json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN));
	}
	json_object_put(st);
	return 0;
}

static int
chown_to(const struct ap_sites_env *env, const struct ap_site *s, const char *path, const char *owner,
    bool recursive, bool nowait, bool json)
{
	struct json_object *a = json_object_new_object(), *res = NULL;
	struct ap_problem pb;
	char t[4400];
	int rc = 0;

	json_object_object_add(a, "path", json_object_new_string(path));
	json_object_object_add(a, "owner", json_object_new_string(owner));
	if (recursive) {
		rc = run_job(env, s, "chown", "files.chown_tree", "files.chown", path, a, nowait, json);
		json_object_put(a);
		return rc;
	}
	if (ap_files_call(env, s, "files.chown", a, &res, NULL, &pb) != AP_OK)
		rc = ap_cli_problem("files chown", &pb);
	ap_cli_audit_write(env->db, "files.chown", target(t, sizeof(t), s, path), rc ? "failed" : "ok",
	    NULL, rc ? NULL : json_object_to_json_string_ext(res, JSON_C_TO_STRING_PLAIN));
	json_object_put(res);
	json_object_put(a);
	return rc;
}

static int
put(const struct ap_config *cfg, const struct ap_sites_env *env, const struct ap_site *s,
    const char *path, bool overwrite)
{
	struct json_object *res = NULL, *after = json_object_new_object();
	struct ap_problem pb;
	char sha[65] = "", t[4400];
	int rc = 0;

	if (ap_files_server_executed(path) && s->spec.kind != AP_SITE_PHP) {
		ap_problem_set(&pb, AP_PB_INVALID, "path",
		    "a .php file (or another type the web server runs) cannot go into a site that is not a PHP site");
		rc = ap_cli_problem("files put", &pb);
	} else if (ap_files_put(env, s, path, overwrite, stdin_rd, NULL, cfg->files_max_upload, &res, sha,
		       &pb) != AP_OK) {
		rc = ap_cli_problem("files put", &pb);
	}
	if (rc != 0) {
		json_object_object_add(after, "error", json_object_new_string(ap_pb_name(pb.code)));
		json_object_object_add(after, "reason", json_object_new_string(pb.reason));
	} else {
		struct json_object *v;

		json_object_object_add(after, "size", json_object_new_int64(
		    json_object_object_get_ex(res, "size", &v) ? json_object_get_int64(v) : 0));
		json_object_object_add(after, "sha256", json_object_new_string(sha));
	}
	ap_cli_audit_write(env->db, "files.upload", target(t, sizeof(t), s, path), rc ? "failed" : "ok",
	    NULL, json_object_to_json_string_ext(after, JSON_C_TO_STRING_PLAIN));
	json_object_put(after);
	json_object_put(res);
	return rc;
}

static int
rm(const struct ap_sites_env *env, const struct ap_site *s, const char *path)
{
	struct json_object *a = json_object_new_object(), *res = NULL;
	struct ap_problem pb;
	char t[4400];
	int rc = 0;

	json_object_object_add(a, "path", json_object_new_string(path));
	if (ap_files_call(env, s, "files.delete", a, &res, NULL, &pb) != AP_OK)
		rc = ap_cli_problem("files rm", &pb);
	ap_cli_audit_write(env->db, "files.delete", target(t, sizeof(t), s, path), rc ? "failed" : "ok",
	    NULL, rc ? NULL : json_object_to_json_string_ext(res, JSON_C_TO_STRING_PLAIN));
	json_object_put(res);
	json_object_put(a);
	return rc;
}

int
ap_cli_files(const struct ap_config *cfg, int argc, char **argv)
{
	struct ap_sites_env env = { .cfg = cfg };
	const char *cmd, *domain, *path = "", *format = "zip", *rootname = NULL;
	bool json = false, overwrite = true, recursive = false, nowait = false;
	int64_t job = 0;
	struct ap_problem pb;
	struct ap_site s;
	int rc, n = 0;
	char *pos[4];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (strcmp(argv[i], "--format") == 0 && i + 1 < argc) {
			format = argv[++i];
			if (strcmp(format, "zip") && strcmp(format, "tar.gz") && strcmp(format, "tar.xz") &&
			    strcmp(format, "tar")) {
				fprintf(stderr, "aapanel files: --format: must be zip, tar.gz, tar.xz or tar\n");
				return 2;
			}
		}
		else if (strcmp(argv[i], "--no-overwrite") == 0)
			overwrite = false;
		else if (strcmp(argv[i], "--recursive") == 0)
			recursive = true;
		else if (strcmp(argv[i], "--root") == 0 && i + 1 < argc) {
			const char *why = ap_check_file_root_name(argv[i + 1], strlen(argv[i + 1]));

			rootname = argv[++i];
			if (why != NULL) {
				fprintf(stderr, "aapanel files: --root: %s\n", why);
				return 2;
			}
		}
		else if (strcmp(argv[i], "--no-wait") == 0)
			nowait = true;
		else if (argv[i][0] == '-' && argv[i][1] == '-') {
			fprintf(stderr, "aapanel files: unknown option %s\n%s", argv[i], files_usage);
			return 2;
		} else if (n < 4)
			pos[n++] = argv[i];
		else {
			fputs(files_usage, stderr);
			return 2;
		}
	}
	/* --root NAME stands for SITE: the same positions after it. */
	if (rootname != NULL && n >= 1 && n < 4) {
		memmove(pos + 2, pos + 1, (size_t)(n - 1) * sizeof(*pos));
		pos[1] = (char *)rootname;
		n++;
	}
	if (rootname != NULL && n >= 1 && strcmp(pos[0], "chown") == 0) {
		fprintf(stderr, "aapanel files chown: --root: a root of files.roots has no site user\n");
		return 2;
	}
	if (n < 2 || (n < 3 && strcmp(pos[0], "ls") != 0 && strcmp(pos[0], "pack") != 0) ||
	    (n == 4) != (strcmp(pos[0], "chown") == 0 || strcmp(pos[0], "copy") == 0)) {
		fputs(files_usage, stderr);
		return 2;
	}
	cmd = pos[0];
	domain = pos[1];
	if (n >= 3)
		path = pos[2];
	if (strcmp(cmd, "chown") == 0 && strcmp(pos[3], "site") != 0 && strcmp(pos[3], "site-web") != 0) {
		fprintf(stderr, "aapanel files chown: owner: must be site or site-web\n");
		return 2;
	}
	if (strcmp(cmd, "ls") && strcmp(cmd, "get") && strcmp(cmd, "put") && strcmp(cmd, "rm") &&
	    strcmp(cmd, "pack") && strcmp(cmd, "chown") && strcmp(cmd, "copy") && strcmp(cmd, "job") &&
	    strcmp(cmd, "job-cancel")) {
		fprintf(stderr, "aapanel files: unknown command %s\n%s", cmd, files_usage);
		return 2;
	}
	if ((strcmp(cmd, "job") == 0 || strcmp(cmd, "job-cancel") == 0) && !job_id(cmd, path, &job))
		return 2;
	if (nowait && !(strcmp(cmd, "copy") == 0 || (strcmp(cmd, "chown") == 0 && recursive))) {
		fprintf(stderr, "aapanel files %s: --no-wait: only for a job (copy, chown --recursive)\n", cmd);
		return 2;
	}
	if ((env.db = ap_cli_db_open(cfg)) == NULL)
		return 1;
	env.helper = ap_helper_client_new(cfg->helper_socket, cfg->helper_timeout_ms, 4 << 20);
	if (rootname != NULL) {
		char where[1100];

		/* As the pages do (src/pages/files.c): a root is a site without a domain, its name in
		 * spec.root; the helper opens it by name from its own files.roots. */
		memset(&s, 0, sizeof(s));
		if (!ap_file_root_find(cfg->files_roots, rootname, where, sizeof(where))) {
			fprintf(stderr, "aapanel files: --root: %s is not one of files.roots\n", rootname);
			rc = 2;
			goto out;
		}
		snprintf(s.spec.root, sizeof(s.spec.root), "%s", rootname);
		s.spec.kind = AP_SITE_PHP;
	} else if (ap_site_find(&env, domain, &s, &pb) != AP_OK) {
		rc = ap_cli_problem("files", &pb);
		goto out;
	}
	if (strcmp(cmd, "ls") == 0)
		rc = ls(&env, &s, path, json);
	else if (strcmp(cmd, "get") == 0)
		rc = get(&env, &s, path);
	else if (strcmp(cmd, "put") == 0)
		rc = put(cfg, &env, &s, path, overwrite);
	else if (strcmp(cmd, "pack") == 0)
		rc = pack(&env, &s, path, format);
	else if (strcmp(cmd, "chown") == 0)
		rc = chown_to(&env, &s, path, pos[3], recursive, nowait, json);
	else if (strcmp(cmd, "copy") == 0) {
		struct json_object *a = json_object_new_object();

		json_object_object_add(a, "path", json_object_new_string(path));
		json_object_object_add(a, "to", json_object_new_string(pos[3]));
		rc = run_job(&env, &s, "copy", "files.copy", "files.copy", path, a, nowait, json);
		json_object_put(a);
	} else if (strcmp(cmd, "job") == 0)
		rc = job_show(&env, &s, job, json);
	else if (strcmp(cmd, "job-cancel") == 0)
		rc = job_cancel(&env, &s, job, json);
	else
		rc = rm(&env, &s, path);
out:
	ap_helper_client_free(env.helper);
	ap_db_close(env.db);
	return rc;
}
