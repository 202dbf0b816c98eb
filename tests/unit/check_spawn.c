/*
 * check_spawn.c — the one function that starts programs, against real
 * programs: argv passed exactly (no shell), a clean environment, nothing
 * inherited but 0, 1, 2, limits, timeouts that kill the whole group,
 * bounded output, stdin through a pipe, and refusals before anything runs.
 */
#include <check.h>
#include <pwd.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spawn.h"

static char errbuf[256];

/* Run argv[0] as the program with argv; assert it ran. */
static void
run_ok(struct ap_spawn *sp, struct ap_spawn_result *res)
{
	enum ap_err rc = ap_spawn_run(sp, res, errbuf, sizeof(errbuf));

	ck_assert_msg(rc == AP_OK, "spawn %s: %s", sp->path, errbuf);
}

START_TEST(test_argv_passed_exactly_without_a_shell)
{
	/* Each hostile value must come back byte for byte, one per line. */
	static const char *const argv[] = { "printf", "%s\\n", "a.com; rm -rf /", "$(id)", "`id`",
		"/*", "it's \"quoted\"", "a\\nb", "$HOME", "x > /tmp/f", "|", "&&", "", NULL };
	struct ap_spawn sp = { .path = "/usr/bin/printf", .argv = argv };
	struct ap_spawn_result res;
	struct ap_buf want = { 0 };

	run_ok(&sp, &res);
	for (int i = 2; argv[i] != NULL; i++) {
		/* printf's %s does not interpret its argument: "a\nb" stays a backslash n. */
		ap_buf_puts(&want, argv[i]);
		ap_buf_putc(&want, '\n');
	}
	ck_assert(res.exited);
	ck_assert_int_eq(res.exit_code, 0);
	ck_assert_str_eq(ap_buf_cstr(&res.out), ap_buf_cstr(&want));
	ap_buf_free(&want);
	ap_spawn_result_free(&res);
}
END_TEST

START_TEST(test_glob_is_not_expanded)
{
	static const char *const argv[] = { "echo", "/*", "/etc/pass*", NULL };
	struct ap_spawn sp = { .path = "/bin/echo", .argv = argv };
	struct ap_spawn_result res;

	run_ok(&sp, &res);
	ck_assert_str_eq(ap_buf_cstr(&res.out), "/* /etc/pass*\n");
	ap_spawn_result_free(&res);
}
END_TEST

START_TEST(test_environment_is_clean)
{
	static const char *const argv[] = { "env", NULL };
	struct ap_spawn sp = { .path = "/usr/bin/env", .argv = argv };
	struct ap_spawn_result res;

	setenv("AAPANEL_LEAK", "must-not-pass", 1);
	setenv("LD_PRELOAD", "/nonexistent.so", 1);
	run_ok(&sp, &res);
	ck_assert_str_eq(ap_buf_cstr(&res.out), AP_SPAWN_PATH "\n" AP_SPAWN_LANG "\n");
	ap_spawn_result_free(&res);
	unsetenv("LD_PRELOAD");
}
END_TEST

START_TEST(test_environment_extra_entries_given_explicitly)
{
	static const char *const argv[] = { "env", NULL };
	static const char *const env[] = { "HOME=/root", "CERTBOT_DOMAIN=a.example", NULL };
	struct ap_spawn sp = { .path = "/usr/bin/env", .argv = argv, .env = env };
	struct ap_spawn_result res;

	run_ok(&sp, &res);
	ck_assert_str_eq(ap_buf_cstr(&res.out),
	    AP_SPAWN_PATH "\n" AP_SPAWN_LANG "\nHOME=/root\nCERTBOT_DOMAIN=a.example\n");
	ap_spawn_result_free(&res);
}
END_TEST

/* Entries that would override the fixed ones or the loader, or are not NAME=value. */
static const char *const bad_env[] = {
	"PATH=/tmp", "LANG=C", "LD_PRELOAD=/x.so", "LD_LIBRARY_PATH=/tmp", "1X=y", "=y",
	"NOEQUALS", "A-B=c", "A B=c",
};

START_TEST(test_environment_bad_entries_refused)
{
	static const char *const argv[] = { "env", NULL };
	const char *env[] = { "OK=1", bad_env[_i], NULL };
	struct ap_spawn sp = { .path = "/usr/bin/env", .argv = argv, .env = env };
	struct ap_spawn_result res;

	ck_assert_int_eq(ap_spawn_run(&sp, &res, errbuf, sizeof(errbuf)), AP_ERR_INVAL);
	ck_assert_ptr_nonnull(strstr(errbuf, "environment entry 1"));
	ap_spawn_result_free(&res);
}
END_TEST

START_TEST(test_only_stdio_descriptors_are_inherited)
{
	static const char *const argv[] = { "ls", "-l", "/proc/self/fd", NULL };
	struct ap_spawn sp = { .path = "/bin/ls", .argv = argv };
	struct ap_spawn_result res;
	char marker[] = "/tmp/check-spawn-leak.XXXXXX";
	int leak = mkstemp(marker), leak2, noclo;
	const char *out, *line;
	int n = 0;

	/* Descriptors without close-on-exec, as a careless caller would hold them. */
	ck_assert_int_ge(leak, 0);
	ck_assert_int_ge(fcntl(leak, F_SETFD, 0), 0);
	leak2 = dup(leak);
	noclo = open("/dev/null", O_RDONLY);
	ck_assert_int_ge(leak2, 0);
	ck_assert_int_ge(noclo, 0);
	run_ok(&sp, &res);
	out = ap_buf_cstr(&res.out);
	ck_assert_msg(strstr(out, marker) == NULL, "a descriptor leaked into the program:\n%s", out);
	/* Lines "lrwx... N -> target": only 0, 1, 2 and ls's own directory fd 3. */
	for (line = out; (line = strstr(line, " -> ")) != NULL; line += 4) {
		const char *p = line;

		while (p > out && p[-1] != ' ')
			p--;
		ck_assert_msg(atoi(p) <= 3, "fd %d is open in the program:\n%s", atoi(p), out);
		n++;
	}
	ck_assert_int_eq(n, 4);
	ck_assert_ptr_nonnull(strstr(out, " 0 -> /dev/null"));
	ck_assert_ptr_nonnull(strstr(out, " 1 -> pipe:"));
	ck_assert_ptr_nonnull(strstr(out, " 2 -> pipe:"));
	unlink(marker);
	close(leak);
	close(leak2);
	close(noclo);
	ap_spawn_result_free(&res);
}
END_TEST

START_TEST(test_limits_applied)
{
	static const char *const argv[] = { "cat", "/proc/self/limits", NULL };
	struct ap_spawn sp = { .path = "/bin/cat", .argv = argv, .timeout_ms = 5000,
		.max_files = 64, .max_memory = 512ULL * 1024 * 1024 };
	struct ap_spawn_result res;
	const char *out;

	run_ok(&sp, &res);
	out = ap_buf_cstr(&res.out);
	ck_assert_msg(strstr(out, "Max core file size        0                    0") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "Max open files            64                   64") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "Max cpu time              6                    6") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "Max address space         536870912            536870912") != NULL,
	    "%s", out);
	ap_spawn_result_free(&res);
}
END_TEST

START_TEST(test_signals_reset_for_the_program)
{
	static const char *const argv[] = { "cat", "/proc/self/status", NULL };
	struct ap_spawn sp = { .path = "/bin/cat", .argv = argv };
	struct ap_spawn_result res;
	sigset_t s;

	/*
	 * What a daemon's main loop typically holds: ignored and blocked
	 * signals; and what make passes on: glibc's own real-time signals 32
	 * and 33 ignored (set here with the raw system call, as glibc refuses).
	 */
	struct { void *handler; unsigned long flags; void *restorer; unsigned long mask; } ign = {
		.handler = (void *)SIG_IGN };

	ck_assert_int_eq(syscall(SYS_rt_sigaction, 32, &ign, NULL, 8), 0);
	ck_assert_int_eq(syscall(SYS_rt_sigaction, 33, &ign, NULL, 8), 0);
	signal(SIGUSR1, SIG_IGN);
	sigemptyset(&s);
	sigaddset(&s, SIGUSR2);
	sigaddset(&s, SIGCHLD);
	sigprocmask(SIG_BLOCK, &s, NULL);
	run_ok(&sp, &res);
	ck_assert_msg(strstr(ap_buf_cstr(&res.out), "SigBlk:\t0000000000000000\n") != NULL,
	    "signals blocked in the program:\n%s", ap_buf_cstr(&res.out));
	ck_assert_msg(strstr(ap_buf_cstr(&res.out), "SigIgn:\t0000000000000000\n") != NULL,
	    "signals ignored in the program:\n%s", ap_buf_cstr(&res.out));
	sigprocmask(SIG_UNBLOCK, &s, NULL);
	ap_spawn_result_free(&res);
}
END_TEST

START_TEST(test_working_directory)
{
	static const char *const argv[] = { "pwd", NULL };
	struct ap_spawn sp = { .path = "/bin/pwd", .argv = argv };
	struct ap_spawn_result res;

	run_ok(&sp, &res);
	ck_assert_str_eq(ap_buf_cstr(&res.out), "/\n");
	ap_spawn_result_free(&res);
	sp.cwd = "/tmp";
	run_ok(&sp, &res);
	ck_assert_str_eq(ap_buf_cstr(&res.out), "/tmp\n");
	ap_spawn_result_free(&res);
	sp.cwd = "tmp";
	ck_assert_int_eq(ap_spawn_run(&sp, &res, errbuf, sizeof(errbuf)), AP_ERR_INVAL);
	ap_spawn_result_free(&res);
}
END_TEST

/* Scheduled tasks run as their user: groups, group and user switched, no way back to root. */
START_TEST(test_switch_user)
{
	static const char *const argv[] = { "id", NULL };
	struct passwd *pw = getpwnam("nobody");
	struct ap_spawn sp = { .path = "/usr/bin/id", .argv = argv, .switch_user = true };
	struct ap_spawn_result res;
	char want[128];

	ck_assert_ptr_nonnull(pw);
	sp.uid = pw->pw_uid;
	sp.gid = pw->pw_gid;
	if (geteuid() != 0) {
		/* Unprivileged: the switch fails and says so; nothing runs. */
		char err[256];

		ck_assert_int_ne(ap_spawn_run(&sp, &res, err, sizeof(err)), AP_OK);
		ck_assert_ptr_nonnull(strstr(err, "switch to the user"));
		ap_spawn_result_free(&res);
		return;
	}
	run_ok(&sp, &res);
	snprintf(want, sizeof(want), "uid=%u(nobody) gid=%u(", (unsigned)pw->pw_uid, (unsigned)pw->pw_gid);
	ck_assert_msg(strncmp(ap_buf_cstr(&res.out), want, strlen(want)) == 0, "%s", ap_buf_cstr(&res.out));
	ck_assert_msg(strstr(ap_buf_cstr(&res.out), "groups=") == NULL ||
	    strstr(ap_buf_cstr(&res.out), "(root)") == NULL, "%s", ap_buf_cstr(&res.out));
	ap_spawn_result_free(&res);
}
END_TEST

START_TEST(test_exit_codes_and_stderr)
{
	static const char *const f[] = { "false", NULL };
	static const char *const ls[] = { "ls", "/nonexistent-check-spawn", NULL };
	struct ap_spawn sp = { .path = "/bin/false", .argv = f };
	struct ap_spawn_result res;

	run_ok(&sp, &res);
	ck_assert(res.exited);
	ck_assert_int_eq(res.exit_code, 1);
	ck_assert(!res.timed_out);
	ap_spawn_result_free(&res);
	sp = (struct ap_spawn){ .path = "/bin/ls", .argv = ls };
	run_ok(&sp, &res);
	ck_assert_int_eq(res.exit_code, 2);
	ck_assert_str_eq(ap_buf_cstr(&res.out), "");
	ck_assert_ptr_nonnull(strstr(ap_buf_cstr(&res.err), "No such file or directory"));
	ap_spawn_result_free(&res);
}
END_TEST

START_TEST(test_timeout_kills_with_sigterm)
{
	static const char *const argv[] = { "sleep", "10", NULL };
	struct ap_spawn sp = { .path = "/bin/sleep", .argv = argv, .timeout_ms = 300 };
	struct ap_spawn_result res;

	run_ok(&sp, &res);
	ck_assert(res.timed_out);
	ck_assert(!res.exited);
	ck_assert_int_eq(res.signal, SIGTERM);
	ck_assert_uint_ge(res.elapsed_ms, 290);
	ck_assert_uint_lt(res.elapsed_ms, 2000);
	ap_spawn_result_free(&res);
}
END_TEST

START_TEST(test_timeout_sigkill_when_sigterm_is_ignored)
{
	/* perl is Essential on Debian; it ignores SIGTERM here, so SIGKILL must follow. */
	static const char *const argv[] = { "perl", "-e", "$SIG{TERM} = 'IGNORE'; sleep 10", NULL };
	struct ap_spawn sp = { .path = "/usr/bin/perl", .argv = argv, .timeout_ms = 300,
		.grace_ms = 300 };
	struct ap_spawn_result res;

	run_ok(&sp, &res);
	ck_assert(res.timed_out);
	ck_assert_int_eq(res.signal, SIGKILL);
	ck_assert_uint_ge(res.elapsed_ms, 590);
	ck_assert_uint_lt(res.elapsed_ms, 3000);
	ap_spawn_result_free(&res);
}
END_TEST

/* True when pid is gone or a zombie waiting for init. */
static bool
pid_dead(long pid)
{
	char path[64], st[256] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return true;
	if (fgets(st, sizeof(st), f) == NULL)
		st[0] = '\0';
	fclose(f);
	return strstr(st, ") Z ") != NULL || strstr(st, ") X ") != NULL;
}

START_TEST(test_timeout_kills_the_whole_group)
{
	/* The program starts a child of its own and prints its pid. */
	static const char *const argv[] = { "perl", "-e",
		"$| = 1; my $p = fork; if (!$p) { exec '/bin/sleep', '30' } print \"$p\\n\"; sleep 30",
		NULL };
	struct ap_spawn sp = { .path = "/usr/bin/perl", .argv = argv, .timeout_ms = 500 };
	struct ap_spawn_result res;
	long grandchild;

	run_ok(&sp, &res);
	ck_assert(res.timed_out);
	grandchild = atol(ap_buf_cstr(&res.out));
	ck_assert_int_gt(grandchild, 1);
	for (int i = 0; i < 100 && !pid_dead(grandchild); i++)
		usleep(10000);
	ck_assert_msg(pid_dead(grandchild), "the program's child %ld survived the timeout",
	    grandchild);
	ap_spawn_result_free(&res);
}
END_TEST

static size_t seen_bytes;

static void
count_output(void *ctx, int stream, const char *data, size_t len)
{
	(void)data;
	ck_assert_ptr_eq(ctx, &seen_bytes);
	ck_assert_int_eq(stream, 1);
	seen_bytes += len;
}

START_TEST(test_output_bounded_rest_counted)
{
	static const char *const argv[] = { "head", "-c", "1000000", "/dev/zero", NULL };
	struct ap_spawn sp = { .path = "/usr/bin/head", .argv = argv, .max_output = 4096,
		.on_output = count_output, .on_output_ctx = &seen_bytes };
	struct ap_spawn_result res;

	seen_bytes = 0;
	run_ok(&sp, &res);
	ck_assert_int_eq(res.exit_code, 0);
	ck_assert_uint_eq(res.out.len, 4096);
	ck_assert_uint_eq(res.out_dropped, 1000000 - 4096);
	ck_assert_uint_eq(seen_bytes, 1000000);
	ap_spawn_result_free(&res);
}
END_TEST

START_TEST(test_stdin_through_a_pipe)
{
	static const char *const argv[] = { "cat", NULL };
	const char secret[] = "s3cret passphrase\n";
	struct ap_spawn sp = { .path = "/bin/cat", .argv = argv, .stdin_data = secret,
		.stdin_len = sizeof(secret) - 1 };
	struct ap_spawn_result res;

	run_ok(&sp, &res);
	ck_assert_str_eq(ap_buf_cstr(&res.out), secret);
	ap_spawn_result_free(&res);
}
END_TEST

START_TEST(test_stdin_large_with_bounded_output_does_not_deadlock)
{
	static const char *const argv[] = { "cat", NULL };
	size_t n = 4 * 1024 * 1024;
	char *data = ap_xmalloc(n);
	struct ap_spawn sp = { .path = "/bin/cat", .argv = argv, .stdin_data = data, .stdin_len = n,
		.max_output = 1000, .timeout_ms = 10000 };
	struct ap_spawn_result res;

	memset(data, 'x', n);
	run_ok(&sp, &res);
	ck_assert(!res.timed_out);
	ck_assert_int_eq(res.exit_code, 0);
	ck_assert_uint_eq(res.out.len + res.out_dropped, n);
	free(data);
	ap_spawn_result_free(&res);
}
END_TEST

START_TEST(test_stdin_ignored_by_the_program)
{
	/* true never reads: the write fails with EPIPE, which must not kill us. */
	static const char *const argv[] = { "true", NULL };
	size_t n = 1024 * 1024;
	char *data = ap_xcalloc(1, n);
	struct ap_spawn sp = { .path = "/bin/true", .argv = argv, .stdin_data = data, .stdin_len = n };
	struct ap_spawn_result res;

	run_ok(&sp, &res);
	ck_assert_int_eq(res.exit_code, 0);
	free(data);
	ap_spawn_result_free(&res);
}
END_TEST

START_TEST(test_no_stdin_is_dev_null)
{
	static const char *const argv[] = { "cat", NULL };
	struct ap_spawn sp = { .path = "/bin/cat", .argv = argv, .timeout_ms = 2000 };
	struct ap_spawn_result res;

	run_ok(&sp, &res);
	ck_assert(!res.timed_out);
	ck_assert_str_eq(ap_buf_cstr(&res.out), "");
	ap_spawn_result_free(&res);
}
END_TEST

/* Refused before anything runs. */
static const char *const bad_paths[] = { "echo", "bin/echo", "./echo", "../bin/echo", "" };

START_TEST(test_relative_path_refused)
{
	static const char *const argv[] = { "echo", "x", NULL };
	struct ap_spawn sp = { .path = bad_paths[_i], .argv = argv };
	struct ap_spawn_result res;

	ck_assert_int_eq(ap_spawn_run(&sp, &res, errbuf, sizeof(errbuf)), AP_ERR_INVAL);
	ck_assert_ptr_nonnull(strstr(errbuf, "must be absolute"));
	ck_assert_uint_eq(res.out.len, 0);
	ap_spawn_result_free(&res);
}
END_TEST

/* Here PID 1 is not systemd: no transient units, the plain fork/exec serves (and says why). */
START_TEST(test_units_unavailable_outside_systemd)
{
	char why[160];

	ck_assert(!ap_spawn_units_available(why, sizeof(why)));
	ck_assert_msg(strstr(why, "systemd") != NULL || strstr(why, "root") != NULL, "%s", why);
}
END_TEST

/* A transient unit's name is [a-z0-9-]{1,64}: anything else is refused before systemd is asked. */
START_TEST(test_unit_name_refused)
{
	static const char *const bad[] = { "", "Task-1", "task.1", "task 1", "a/b", "x;y", "../x",
		"aapanel-task-1.service", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" };
	static const char *const argv[] = { "true", NULL };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ap_spawn sp = { .path = "/bin/true", .argv = argv, .unit = bad[i] };
		struct ap_spawn_result res;

		ck_assert_int_eq(ap_spawn_run(&sp, &res, errbuf, sizeof(errbuf)), AP_ERR_INVAL);
		ck_assert_msg(strstr(errbuf, "unit name") != NULL, "%s: %s", bad[i], errbuf);
		ap_spawn_result_free(&res);
	}
}
END_TEST

START_TEST(test_missing_argv_refused)
{
	static const char *const empty[] = { NULL };
	struct ap_spawn sp = { .path = "/bin/echo", .argv = NULL };
	struct ap_spawn_result res;

	ck_assert_int_eq(ap_spawn_run(&sp, &res, errbuf, sizeof(errbuf)), AP_ERR_INVAL);
	sp.argv = empty;
	ck_assert_int_eq(ap_spawn_run(&sp, &res, errbuf, sizeof(errbuf)), AP_ERR_INVAL);
	ap_spawn_result_free(&res);
}
END_TEST

START_TEST(test_missing_program_is_an_error)
{
	static const char *const argv[] = { "nope", NULL };
	struct ap_spawn sp = { .path = "/nonexistent/nope", .argv = argv };
	struct ap_spawn_result res;

	ck_assert_int_eq(ap_spawn_run(&sp, &res, errbuf, sizeof(errbuf)), AP_ERR_IO);
	ck_assert_msg(strstr(errbuf, "execve /nonexistent/nope: No such file or directory") != NULL,
	    "%s", errbuf);
	ap_spawn_result_free(&res);
}
END_TEST

START_TEST(test_directory_is_not_a_program)
{
	static const char *const argv[] = { "tmp", NULL };
	struct ap_spawn sp = { .path = "/tmp", .argv = argv };
	struct ap_spawn_result res;

	ck_assert_int_eq(ap_spawn_run(&sp, &res, errbuf, sizeof(errbuf)), AP_ERR_IO);
	ck_assert_ptr_nonnull(strstr(errbuf, "execve /tmp: Permission denied"));
	ap_spawn_result_free(&res);
}
END_TEST


/* ---- ap_spawn_start: the caller's descriptors, waited for later ---- */

START_TEST(test_start_streams_through_the_callers_descriptors)
{
	/* stdin from a pipe, stdout to another, descriptor 3 readable as /dev/fd/3, nothing else. */
	static const char *const argv[] = { "perl", "-e",
		"open(my $c, '<', '/dev/fd/3') or die; print <$c>; local $/; my $in = <STDIN>; "
		"print uc $in; opendir(my $d, '/proc/self/fd'); my @f = grep { /^\\d+$/ } readdir $d; "
		"print STDERR scalar(@f)", NULL };
	struct ap_spawn sp = { .path = "/usr/bin/perl", .argv = argv };
	struct ap_spawn_proc p;
	struct ap_spawn_result res;
	int in[2], out[2], err = memfd_create("e", 0), cred = memfd_create("c", 0);
	int fds[4];
	char buf[256] = "", ebuf[32] = "";
	ssize_t n, k = 0;

	ck_assert(pipe(in) == 0 && pipe(out) == 0 && err >= 0 && cred >= 0);
	ck_assert(write(cred, "secret\n", 7) == 7 && lseek(cred, 0, SEEK_SET) == 0);
	fds[0] = in[0];
	fds[1] = out[1];
	fds[2] = err;
	fds[3] = cred;
	ck_assert_msg(ap_spawn_start(&sp, fds, &p, errbuf, sizeof(errbuf)) == AP_OK, "%s", errbuf);
	close(in[0]);
	close(out[1]);
	ck_assert(p.pid > 0);
	ck_assert(write(in[1], "hello", 5) == 5);
	close(in[1]);
	while ((n = read(out[0], buf + k, sizeof(buf) - 1 - (size_t)k)) > 0)
		k += n;
	buf[k] = '\0';
	close(out[0]);
	ck_assert_int_eq(ap_spawn_wait(&p, 5000, &res), AP_OK);
	ck_assert(res.exited && res.exit_code == 0);
	ck_assert_str_eq(buf, "secret\nHELLO");
	ck_assert(pread(err, ebuf, sizeof(ebuf) - 1, 0) > 0);
	/* 0, 1, 2, 3, the credentials file perl opened and its directory handle: nothing of ours. */
	ck_assert_int_eq(atoi(ebuf), 6);
	ck_assert_int_eq(p.pid, 0);
	close(err);
	close(cred);
}
END_TEST

START_TEST(test_start_wait_times_out_then_stop_kills_the_group)
{
	static const char *const argv[] = { "perl", "-e", "$SIG{TERM} = 'IGNORE'; sleep 30", NULL };
	struct ap_spawn sp = { .path = "/usr/bin/perl", .argv = argv };
	struct ap_spawn_proc p;
	struct ap_spawn_result res;
	int fds[4] = { -1, -1, -1, -1 };
	uint64_t t0;

	ck_assert(ap_spawn_start(&sp, fds, &p, errbuf, sizeof(errbuf)) == AP_OK);
	ck_assert_int_eq(ap_spawn_wait(&p, 100, &res), AP_ERR_UNAVAIL);
	ck_assert(p.pid > 0);
	t0 = ap_now_ms();
	ap_spawn_stop(&p, 300, &res);
	ck_assert(ap_now_ms() - t0 < 3000);
	ck_assert(!res.exited && res.signal == SIGKILL);
	ck_assert_int_eq(p.pid, 0);
}
END_TEST

START_TEST(test_start_refuses_and_reports_like_run)
{
	static const char *const argv[] = { "nope", NULL };
	struct ap_spawn sp = { .path = "/nonexistent/nope", .argv = argv };
	struct ap_spawn rel = { .path = "nope", .argv = argv };
	struct ap_spawn_proc p;
	int fds[4] = { -1, -1, -1, -1 };

	ck_assert_int_eq(ap_spawn_start(&rel, fds, &p, errbuf, sizeof(errbuf)), AP_ERR_INVAL);
	ck_assert_int_eq(ap_spawn_start(&sp, fds, &p, errbuf, sizeof(errbuf)), AP_ERR_IO);
	ck_assert_msg(strstr(errbuf, "execve") != NULL && strstr(errbuf, "No such file") != NULL, "%s", errbuf);
	ck_assert_int_eq(p.pid, 0);
}
END_TEST

/*
 * ap_spawn_start with a unit: a bad name or a credential without an absolute
 * directory is refused before anything starts; without systemd (its private
 * socket absent: never the machine's manager here) the supervisor reports
 * why and is reaped, nothing left.
 */
START_TEST(test_start_unit_refused_then_reported_without_systemd)
{
	static const char *const argv[] = { "true", NULL };
	struct ap_spawn bad = { .path = "/bin/true", .argv = argv, .unit = "Bad.Name" };
	struct ap_spawn rel = { .path = "/bin/true", .argv = argv, .unit = "aapanel-t-1",
		.cred_name = "c", .cred_data = "x", .cred_len = 1, .cred_dir = "var/x" };
	struct ap_spawn ok = { .path = "/bin/true", .argv = argv, .unit = "aapanel-t-2" };
	struct ap_spawn_proc p;
	int fds[4] = { -1, -1, -1, -1 }, status;

	ck_assert_int_eq(ap_spawn_start(&bad, fds, &p, errbuf, sizeof(errbuf)), AP_ERR_INVAL);
	ck_assert_msg(strstr(errbuf, "unit name") != NULL, "%s", errbuf);
	ck_assert_int_eq(ap_spawn_start(&rel, fds, &p, errbuf, sizeof(errbuf)), AP_ERR_INVAL);
	ck_assert_msg(strstr(errbuf, "absolute") != NULL, "%s", errbuf);
	ck_assert_msg(access("/run/systemd/private", F_OK) != 0, "a systemd manager answers here");
	ck_assert_int_eq(ap_spawn_start(&ok, fds, &p, errbuf, sizeof(errbuf)), AP_ERR_IO);
	ck_assert_msg(strstr(errbuf, "systemd") != NULL, "%s", errbuf);
	ck_assert_int_eq(p.pid, 0);
	ck_assert_int_eq(waitpid(-1, &status, WNOHANG), -1); /* the supervisor was reaped */
}
END_TEST

static Suite *
spawn_suite(void)
{
	Suite *s = suite_create("spawn");
	TCase *tc = tcase_create("spawn");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_argv_passed_exactly_without_a_shell);
	tcase_add_test(tc, test_glob_is_not_expanded);
	tcase_add_test(tc, test_environment_is_clean);
	tcase_add_test(tc, test_environment_extra_entries_given_explicitly);
	tcase_add_loop_test(tc, test_environment_bad_entries_refused, 0, (int)AP_NELEM(bad_env));
	tcase_add_test(tc, test_only_stdio_descriptors_are_inherited);
	tcase_add_test(tc, test_limits_applied);
	tcase_add_test(tc, test_signals_reset_for_the_program);
	tcase_add_test(tc, test_working_directory);
	tcase_add_test(tc, test_switch_user);
	tcase_add_test(tc, test_exit_codes_and_stderr);
	tcase_add_test(tc, test_timeout_kills_with_sigterm);
	tcase_add_test(tc, test_timeout_sigkill_when_sigterm_is_ignored);
	tcase_add_test(tc, test_timeout_kills_the_whole_group);
	tcase_add_test(tc, test_output_bounded_rest_counted);
	tcase_add_test(tc, test_stdin_through_a_pipe);
	tcase_add_test(tc, test_stdin_large_with_bounded_output_does_not_deadlock);
	tcase_add_test(tc, test_stdin_ignored_by_the_program);
	tcase_add_test(tc, test_no_stdin_is_dev_null);
	tcase_add_loop_test(tc, test_relative_path_refused, 0, (int)AP_NELEM(bad_paths));
	tcase_add_test(tc, test_missing_argv_refused);
	tcase_add_test(tc, test_units_unavailable_outside_systemd);
	tcase_add_test(tc, test_unit_name_refused);
	tcase_add_test(tc, test_missing_program_is_an_error);
	tcase_add_test(tc, test_directory_is_not_a_program);
	tcase_add_test(tc, test_start_streams_through_the_callers_descriptors);
	tcase_add_test(tc, test_start_wait_times_out_then_stop_kills_the_group);
	tcase_add_test(tc, test_start_refuses_and_reports_like_run);
	tcase_add_test(tc, test_start_unit_refused_then_reported_without_systemd);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(spawn_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
