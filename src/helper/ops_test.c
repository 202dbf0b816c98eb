/*
 * ops_test.c — operations offered in the test profile only (HELPER_OP_TEST):
 * they let the tests drive the protocol, the validation, spawn, jobs and the
 * sandbox end to end through the real socket, with nothing touched outside
 * the sandbox.
 *
 *   test.echo  {text, domain?, name?, count?, mode?, flag?} → the validated
 *              values, and text as /usr/bin/printf printed it
 *   test.sleep {seconds, fail?} (job) → ten steps of /bin/sleep, progress
 *              10..100; with fail, /bin/false at the end
 *   test.read  {path} → the first 4 KiB of a file beneath the sandbox root
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "jobs.h"
#include "ops.h"
#include "sandbox.h"
#include "spawn.h"
#include "valid.h"

#define READ_MAX 4096

/* ---- test.echo ------------------------------------------------------ */

enum { ECHO_TEXT, ECHO_DOMAIN, ECHO_NAME, ECHO_COUNT, ECHO_MODE, ECHO_FLAG, ECHO__MAX };
static const char *const echo_modes[] = { "plain", "loud", NULL };

const struct ap_field ap_ops_test_echo_args[ECHO__MAX + 1] = {
	[ECHO_TEXT] = { .name = "text", .type = AP_FIELD_TEXT,
	    .flags = AP_FIELD_REQUIRED | AP_FIELD_SINGLELINE, .min = 1, .max = 64,
	    .check = ap_valid_label },
	[ECHO_DOMAIN] = { .name = "domain", .type = AP_FIELD_HOSTNAME, .check = ap_valid_domain },
	[ECHO_NAME] = { .name = "name", .type = AP_FIELD_NAME, .min = 1, .max = 32,
	    .check = ap_valid_identifier },
	[ECHO_COUNT] = { .name = "count", .type = AP_FIELD_INT, .min = 1, .max = 10 },
	[ECHO_MODE] = { .name = "mode", .type = AP_FIELD_ENUM, .choices = echo_modes },
	[ECHO_FLAG] = { .name = "flag", .type = AP_FIELD_BOOL },
	[ECHO__MAX] = AP_FIELD_END,
};

static void
add_str(struct json_object *o, const char *key, const struct ap_fieldval *v)
{
	if (v->present)
		json_object_object_add(o, key, json_object_new_string_len(v->s, (int)v->len));
}

enum ap_err
ap_ops_test_echo(struct helper_ctx *ctx)
{
	const struct ap_fieldval *a = ctx->args;
	/* A fixed format: the text is an argument, never a format or a shell word. */
	const char *argv[] = { "printf", "%s\\n", a[ECHO_TEXT].s, NULL };
	struct ap_spawn sp = { .path = "/usr/bin/printf", .argv = argv, .timeout_ms = 5000,
		.max_output = 1024 };
	struct ap_spawn_result res;
	char err[256];
	enum ap_err rc;

	rc = ap_spawn_run(&sp, &res, err, sizeof(err));
	if (rc != AP_OK || !res.exited || res.exit_code != 0) {
		ap_problem_set(ctx->pb, AP_PB_FAILED, NULL, "printf: %s",
		    rc != AP_OK ? err : "did not exit 0");
		ap_spawn_result_free(&res);
		return rc != AP_OK ? rc : AP_ERR_IO;
	}
	add_str(ctx->result, "text", &a[ECHO_TEXT]);
	add_str(ctx->result, "domain", &a[ECHO_DOMAIN]);
	add_str(ctx->result, "name", &a[ECHO_NAME]);
	if (a[ECHO_COUNT].present)
		json_object_object_add(ctx->result, "count", json_object_new_int64(a[ECHO_COUNT].i));
	if (a[ECHO_MODE].present)
		json_object_object_add(ctx->result, "mode",
		    json_object_new_string(echo_modes[a[ECHO_MODE].i]));
	json_object_object_add(ctx->result, "flag", json_object_new_boolean(a[ECHO_FLAG].b));
	json_object_object_add(ctx->result, "stdout",
	    json_object_new_string_len(res.out.data != NULL ? res.out.data : "", (int)res.out.len));
	ap_spawn_result_free(&res);
	return AP_OK;
}

/* ---- test.sleep (a job) --------------------------------------------- */

enum { SLEEP_SECONDS, SLEEP_FAIL, SLEEP__MAX };
const struct ap_field ap_ops_test_sleep_args[SLEEP__MAX + 1] = {
	[SLEEP_SECONDS] = { .name = "seconds", .type = AP_FIELD_INT, .flags = AP_FIELD_REQUIRED,
	    .min = 1, .max = 60 },
	[SLEEP_FAIL] = { .name = "fail", .type = AP_FIELD_BOOL },
	[SLEEP__MAX] = AP_FIELD_END,
};

/* Program output goes to the job's output tail. */
static void
to_job(void *job, int stream, const char *data, size_t len)
{
	(void)stream;
	ap_job_output(job, data, len);
}

enum ap_err
ap_ops_test_sleep(struct helper_ctx *ctx)
{
	long long ms = ctx->args[SLEEP_SECONDS].i * 100; /* ten steps */
	char step[32], line[48];
	const char *argv[] = { "sleep", step, NULL };
	struct ap_spawn sp = { .path = "/bin/sleep", .argv = argv, .timeout_ms = (int)ms + 5000 };
	struct ap_spawn_result res;
	char err[256];

	snprintf(step, sizeof(step), "%lld.%03lld", ms / 1000, ms % 1000);
	for (int i = 1; i <= 10; i++) {
		if (ap_spawn_run(&sp, &res, err, sizeof(err)) != AP_OK || !res.exited ||
		    res.exit_code != 0) {
			ap_problem_set(ctx->pb, AP_PB_FAILED, NULL, "sleep: %s",
			    res.timed_out ? "timed out" : err);
			ap_spawn_result_free(&res);
			return AP_ERR_IO;
		}
		ap_spawn_result_free(&res);
		snprintf(line, sizeof(line), "step %d/10\n", i);
		ap_job_output(ctx->job, line, strlen(line));
		ap_job_progress(ctx->job, i * 10 - (i == 10)); /* 100 only once done */
	}
	if (ctx->args[SLEEP_FAIL].b) {
		const char *fargv[] = { "false", NULL };
		struct ap_spawn f = { .path = "/bin/false", .argv = fargv, .on_output = to_job,
			.on_output_ctx = ctx->job };

		if (ap_spawn_run(&f, &res, err, sizeof(err)) != AP_OK) {
			ap_problem_set(ctx->pb, AP_PB_FAILED, NULL, "%s", err);
			ap_spawn_result_free(&res);
			return AP_ERR_IO;
		}
		ctx->exit_code = res.exit_code;
		ap_problem_set(ctx->pb, AP_PB_FAILED, NULL, "/bin/false exited with %d",
		    res.exit_code);
		ap_spawn_result_free(&res);
		return AP_ERR_IO;
	}
	json_object_object_add(ctx->result, "slept_ms", json_object_new_int64(ms * 10));
	return AP_OK;
}

/* ---- test.read ------------------------------------------------------ */

enum { READ_PATH, READ__MAX };
const struct ap_field ap_ops_test_read_args[READ__MAX + 1] = {
	/* No string check on purpose: the kernel decides what is beneath the root. */
	[READ_PATH] = { .name = "path", .type = AP_FIELD_TEXT,
	    .flags = AP_FIELD_REQUIRED | AP_FIELD_SINGLELINE, .min = 1, .max = 4095 },
	[READ__MAX] = AP_FIELD_END,
};

enum ap_err
ap_ops_test_read(struct helper_ctx *ctx)
{
	const char *path = ctx->args[READ_PATH].s, *why;
	char buf[READ_MAX];
	struct stat st;
	ssize_t n;
	int fd;
	enum ap_err rc = ap_sandbox_open(ctx->sandbox_fd, path, O_RDONLY | O_NONBLOCK, 0, &fd, &why);

	switch (rc) {
	case AP_OK:
		break;
	case AP_ERR_NOTFOUND:
		ap_problem_set(ctx->pb, AP_PB_NOT_FOUND, "path", "%s", why);
		return rc;
	case AP_ERR_PERM:
	case AP_ERR_INVAL:
		ap_problem_set(ctx->pb, AP_PB_INVALID, "path", "%s", why);
		return rc;
	default:
		ap_problem_set(ctx->pb, AP_PB_FAILED, "path", "%s", strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		ap_problem_set(ctx->pb, AP_PB_INVALID, "path", "is not a regular file");
		return AP_ERR_INVAL;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0 || !ap_utf8_valid(buf, (size_t)n)) {
		ap_problem_set(ctx->pb, AP_PB_FAILED, "path",
		    n < 0 ? "cannot be read" : "is not UTF-8 text");
		return AP_ERR_IO;
	}
	json_object_object_add(ctx->result, "content", json_object_new_string_len(buf, (int)n));
	json_object_object_add(ctx->result, "size", json_object_new_int64((int64_t)st.st_size));
	return AP_OK;
}
