/*
 * check_helper_client.c — the workers' client library (helper.h) against
 * the real helper binary, started by each test in the test profile on a
 * temp socket: results, problems with their codes, the kept connection,
 * "unavailable" without hanging (no socket, a helper that stopped, one
 * that never answers), and protocol violations from a fake helper.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aapanel/helper.h"

static char dir[64];
static char sock[128];
static pid_t helper = -1;

static const char *
srcdir(void)
{
	const char *s = getenv("AAPANEL_SRCDIR");

	return s != NULL ? s : ".";
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* Copy the shipped base configuration and add a test overlay pointing into dir. */
static void
write_config(void)
{
	char p[256];
	size_t n;
	FILE *in, *out;
	char buf[4096];

	snprintf(p, sizeof(p), "%s/conf", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/conf/profiles", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/conf/aapanel.cfg", srcdir());
	in = fopen(p, "r");
	ck_assert_ptr_nonnull(in);
	snprintf(p, sizeof(p), "%s/conf/aapanel.cfg", dir);
	out = fopen(p, "w");
	ck_assert_ptr_nonnull(out);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, n, out);
	fclose(in);
	fclose(out);
	snprintf(p, sizeof(p), "%s/conf/profiles/test.cfg", dir);
	snprintf(buf, sizeof(buf),
	    "paths = { var_dir = \"%s/var\"; run_dir = \"%s/var\"; log_dir = \"%s/var\"; };\n"
	    "log = { level = \"warn\"; };\n"
	    "helper = { socket = \"%s\"; sandbox_root = \"%s/sandbox\"; timeout_ms = 1000; };\n"
	    "sites = { system_users = false; };\n",
	    dir, dir, dir, sock, dir);
	write_file(p, buf);
}

static enum ap_err
ping(struct ap_helper_client *h, struct ap_problem *pb)
{
	struct json_object *res = NULL;
	enum ap_err rc = ap_helper_call(h, "helper.ping", NULL, &res, pb);

	json_object_put(res);
	return rc;
}

static void
start_helper(void)
{
	char exe[256], cfgp[256], logp[256];
	struct ap_helper_client *h;
	struct ap_problem pb;

	snprintf(exe, sizeof(exe), "%s/build/aapanel-helper", srcdir());
	snprintf(cfgp, sizeof(cfgp), "%s/conf/aapanel.cfg", dir);
	snprintf(logp, sizeof(logp), "%s/helper.log", dir);
	helper = fork();
	ck_assert_int_ge(helper, 0);
	if (helper == 0) {
		char *const argv[] = { "aapanel-helper", "--profile", "test", "--config", cfgp,
			"--root", (char *)srcdir(), NULL };
		int fd = open(logp, O_WRONLY | O_CREAT | O_APPEND, 0600);

		/* A failed test exits without its teardown: the helper must not outlive it. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);

		if (fd >= 0)
			dup2(fd, 2);
		execv(exe, argv);
		_exit(127);
	}
	h = ap_helper_client_new(sock, 500, 65536);
	for (int i = 0; i < 200 && ping(h, &pb) != AP_OK; i++)
		usleep(20000);
	ck_assert_msg(ping(h, &pb) == AP_OK, "the helper did not start: %s", pb.reason);
	ap_helper_client_free(h);
}

static void
stop_helper(void)
{
	int st;

	if (helper > 0) {
		kill(helper, SIGTERM);
		waitpid(helper, &st, 0);
	}
	helper = -1;
}

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/check-helper-client.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(sock, sizeof(sock), "%s/h.sock", dir);
	write_config();
	start_helper();
}

static void
teardown(void)
{
	stop_helper();
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

START_TEST(test_ping_result_and_kept_connection)
{
	struct ap_helper_client *h = ap_helper_client_new(sock, 2000, 65536);
	struct ap_problem pb;
	struct json_object *res = NULL, *v;

	ck_assert(!ap_helper_client_connected(h));
	ck_assert_int_eq(ap_helper_call(h, "helper.ping", NULL, &res, &pb), AP_OK);
	ck_assert(json_object_object_get_ex(res, "version", &v));
	ck_assert_str_eq(json_object_get_string(v), AP_VERSION);
	ck_assert(json_object_object_get_ex(res, "uid", &v));
	ck_assert_int_eq(json_object_get_int64(v), (int64_t)geteuid());
	json_object_put(res);
	ck_assert(ap_helper_client_connected(h));
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(ping(h, &pb), AP_OK);
	ap_helper_client_free(h);
}
END_TEST

START_TEST(test_arguments_passed_and_problems_reported)
{
	struct ap_helper_client *h = ap_helper_client_new(sock, 2000, 65536);
	struct ap_problem pb;
	struct json_object *args = json_object_new_object(), *res = NULL, *v;

	json_object_object_add(args, "text", json_object_new_string("hello there"));
	ck_assert_int_eq(ap_helper_call(h, "test.echo", args, &res, &pb), AP_OK);
	ck_assert(json_object_object_get_ex(res, "stdout", &v));
	ck_assert_str_eq(json_object_get_string(v), "hello there\n");
	json_object_put(res);
	/* args is borrowed: still ours, unchanged. */
	ck_assert_str_eq(json_object_get_string(json_object_object_get(args, "text")), "hello there");

	json_object_object_add(args, "text", json_object_new_string("a; rm -rf /"));
	ck_assert_int_eq(ap_helper_call(h, "test.echo", args, &res, &pb), AP_ERR_INVAL);
	ck_assert_ptr_null(res);
	ck_assert_int_eq(pb.code, AP_PB_INVALID);
	ck_assert_str_eq(pb.field, "text");
	ck_assert_ptr_nonnull(strstr(pb.reason, "may only contain"));
	ck_assert(ap_helper_client_connected(h)); /* an invalid argument keeps the connection */
	json_object_put(args);

	args = json_object_new_object();
	json_object_object_add(args, "id", json_object_new_int64(1));
	ck_assert_int_eq(ap_helper_call(h, "job.status", args, &res, &pb), AP_ERR_NOTFOUND);
	ck_assert_int_eq(pb.code, AP_PB_NOT_FOUND);
	ck_assert_str_eq(pb.field, "id");
	json_object_put(args);

	ck_assert_int_eq(ap_helper_call(h, "no.such", NULL, &res, &pb), AP_ERR_INVAL);
	ck_assert_int_eq(pb.code, AP_PB_UNSUPPORTED);
	ck_assert_str_eq(pb.field, "op");
	/* The helper closes after an unknown operation, and so does the client; the next call reconnects. */
	ck_assert(!ap_helper_client_connected(h));
	ck_assert_int_eq(ping(h, &pb), AP_OK);
	/* An op name the helper would refuse is refused here, without a round trip. */
	ck_assert_int_eq(ap_helper_call(h, "", NULL, &res, &pb), AP_ERR_INVAL);
	ck_assert_str_eq(pb.field, "op");
	ck_assert(ap_helper_client_connected(h));
	ap_helper_client_free(h);
}
END_TEST

START_TEST(test_no_socket_is_unavailable_at_once)
{
	char other[160];
	struct ap_helper_client *h;
	struct ap_problem pb;
	uint64_t t0 = ap_now_ms();

	snprintf(other, sizeof(other), "%s/none.sock", dir);
	h = ap_helper_client_new(other, 5000, 65536);
	ck_assert_int_eq(ping(h, &pb), AP_ERR_UNAVAIL);
	ck_assert_int_eq(pb.code, AP_PB_UNAVAILABLE);
	ck_assert_ptr_nonnull(strstr(pb.reason, "No such file"));
	ck_assert_uint_lt(ap_now_ms() - t0, 1000);
	ap_helper_client_free(h);
	h = ap_helper_client_new("", 100, 0);
	ck_assert_int_eq(ping(h, &pb), AP_ERR_UNAVAIL);
	ap_helper_client_free(h);
}
END_TEST

START_TEST(test_stopped_helper_is_unavailable_and_restart_recovers)
{
	struct ap_helper_client *h = ap_helper_client_new(sock, 2000, 65536);
	struct ap_problem pb;
	uint64_t t0;

	ck_assert_int_eq(ping(h, &pb), AP_OK);
	ck_assert(ap_helper_client_connected(h));
	kill(helper, SIGKILL);
	waitpid(helper, NULL, 0);
	helper = -1;
	t0 = ap_now_ms();
	ck_assert_int_eq(ping(h, &pb), AP_ERR_UNAVAIL);
	ck_assert_int_eq(pb.code, AP_PB_UNAVAILABLE);
	ck_assert_uint_lt(ap_now_ms() - t0, 1000);
	start_helper();
	ck_assert_int_eq(ping(h, &pb), AP_OK); /* the same client, a new connection */
	ap_helper_client_free(h);
}
END_TEST

/* A "helper" that takes connections and does something wrong with them. */
static pid_t
fake_helper(const char *path, const char *answer)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	pid_t pid;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(s, 8), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		for (;;) {
			int c = accept(s, NULL, NULL);
			char buf[4096];

			if (c < 0)
				_exit(0);
			if (answer == NULL) {
				pause(); /* never answers */
				_exit(0);
			}
			(void)!read(c, buf, sizeof(buf));
			(void)!write(c, answer, strlen(answer));
			close(c);
		}
	}
	close(s);
	return pid;
}

START_TEST(test_silent_helper_times_out)
{
	char p[160];
	pid_t f;
	struct ap_helper_client *h;
	struct ap_problem pb;
	uint64_t t0, dt;

	snprintf(p, sizeof(p), "%s/silent.sock", dir);
	f = fake_helper(p, NULL);
	h = ap_helper_client_new(p, 300, 65536);
	t0 = ap_now_ms();
	ck_assert_int_eq(ping(h, &pb), AP_ERR_UNAVAIL);
	dt = ap_now_ms() - t0;
	ck_assert_int_eq(pb.code, AP_PB_UNAVAILABLE);
	ck_assert_ptr_nonnull(strstr(pb.reason, "did not answer within 300 ms"));
	ck_assert_uint_ge(dt, 290);
	ck_assert_uint_lt(dt, 1500);
	ck_assert(!ap_helper_client_connected(h));
	ap_helper_client_free(h);
	kill(f, SIGKILL);
	waitpid(f, NULL, 0);
}
END_TEST

static const struct {
	const char *answer;
	const char *reason;
} bad_answers[] = {
	{ "garbage\n", "not the protocol" },
	{ "{\"id\":999,\"ok\":true,\"result\":{}}\n", "another request" },
	{ "{\"id\":1,\"ok\":true}\n", "no result object" },
	{ "{\"id\":1,\"ok\":false,\"error\":{\"code\":\"weird\"}}\n", "no known code" },
	{ "{\"id\":1,\"ok\":true,\"result\":{}}\n{\"id\":2}\n", "more than one" },
	{ "{\"id\":1,\"ok\":true,\"result\":{}}", "closed the connection" },
};

START_TEST(test_bad_answers_are_problems)
{
	char p[160];
	pid_t f;
	struct ap_helper_client *h;
	struct ap_problem pb;

	snprintf(p, sizeof(p), "%s/bad.sock", dir);
	f = fake_helper(p, bad_answers[_i].answer);
	h = ap_helper_client_new(p, 1000, 65536);
	ck_assert_int_ne(ping(h, &pb), AP_OK);
	ck_assert_msg(strstr(pb.reason, bad_answers[_i].reason) != NULL, "reason: %s", pb.reason);
	ck_assert(!ap_helper_client_connected(h));
	ap_helper_client_free(h);
	kill(f, SIGKILL);
	waitpid(f, NULL, 0);
}
END_TEST

START_TEST(test_response_bound)
{
	char p[160], big[3000];
	pid_t f;
	struct ap_helper_client *h;
	struct ap_problem pb;

	memset(big, 'x', sizeof(big) - 2);
	big[sizeof(big) - 2] = '\n';
	big[sizeof(big) - 1] = '\0';
	snprintf(p, sizeof(p), "%s/big.sock", dir);
	f = fake_helper(p, big);
	h = ap_helper_client_new(p, 1000, 1024);
	ck_assert_int_eq(ping(h, &pb), AP_ERR_IO);
	ck_assert_ptr_nonnull(strstr(pb.reason, "exceeds 1024 bytes"));
	ap_helper_client_free(h);
	kill(f, SIGKILL);
	waitpid(f, NULL, 0);
}
END_TEST

/* Descriptors this process holds (a leak shows as a higher count). */
static int
open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

static void
mkpath(const char *fmt, const char *arg)
{
	char p[256], *q;

	snprintf(p, sizeof(p), fmt, dir, arg);
	for (q = p + 1; *q; q++)
		if (*q == '/') {
			*q = '\0';
			mkdir(p, 0755);
			*q = '/';
		}
	mkdir(p, 0755);
}

/*
 * files.open and files.begin pass a descriptor with the answer (SCM_RIGHTS):
 * ap_helper_call_fd gets it, ap_helper_call closes it, a refusal passes none,
 * and the connection stays in step for the calls after them.
 */
START_TEST(test_descriptor_passed_with_the_answer)
{
	struct ap_helper_client *h = ap_helper_client_new(sock, 1000, 65536);
	struct json_object *a = json_object_new_object(), *res = NULL, *v;
	struct ap_problem pb;
	char p[256], buf[64];
	int fd = -1, before;
	ssize_t n;

	mkpath("%s/sandbox/var/www/%s/public", "fd.test");
	snprintf(p, sizeof(p), "%s/sandbox/var/www/fd.test/public/hello.txt", dir);
	write_file(p, "hello from the site\n");
	snprintf(p, sizeof(p), "%s/sandbox/var/www/canary.txt", dir);
	write_file(p, "canary\n");
	json_object_object_add(a, "domain", json_object_new_string("fd.test"));
	json_object_object_add(a, "path", json_object_new_string("hello.txt"));
	ck_assert_int_eq(ping(h, &pb), AP_OK);
	before = open_fds();
	ck_assert_msg(ap_helper_call_fd(h, "files.open", a, &res, &fd, &pb) == AP_OK, "%s", pb.reason);
	ck_assert_int_ge(fd, 0);
	ck_assert(json_object_object_get_ex(res, "size", &v) && json_object_get_int(v) == 20);
	json_object_put(res);
	n = read(fd, buf, sizeof(buf) - 1);
	ck_assert_int_eq(n, 20);
	buf[n] = '\0';
	ck_assert_str_eq(buf, "hello from the site\n");
	ck_assert_int_ne(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
	close(fd);
	/* Not asked for: closed by the client, nothing left open. */
	ck_assert_int_eq(ap_helper_call(h, "files.open", a, &res, &pb), AP_OK);
	json_object_put(res);
	ck_assert_int_eq(open_fds(), before);
	/* Refused beneath the root: no descriptor, the field named, the connection kept. */
	json_object_object_add(a, "path", json_object_new_string("../canary.txt"));
	ck_assert_int_eq(ap_helper_call_fd(h, "files.open", a, &res, &fd, &pb), AP_ERR_INVAL);
	ck_assert_int_eq(fd, -1);
	ck_assert_str_eq(pb.field, "path");
	ck_assert(ap_helper_client_connected(h));
	/* A write descriptor on a temporary file beside the target, then the rename. */
	json_object_object_add(a, "path", json_object_new_string("new.txt"));
	ck_assert_msg(ap_helper_call_fd(h, "files.begin", a, &res, &fd, &pb) == AP_OK, "%s", pb.reason);
	ck_assert_int_eq(write(fd, "written\n", 8), 8);
	close(fd);
	ck_assert(json_object_object_get_ex(res, "temp", &v));
	json_object_object_add(a, "temp", json_object_get(v));
	json_object_put(res);
	ck_assert_msg(ap_helper_call(h, "files.commit", a, &res, &pb) == AP_OK, "%s", pb.reason);
	json_object_put(res);
	snprintf(p, sizeof(p), "%s/sandbox/var/www/fd.test/public/new.txt", dir);
	fd = open(p, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ck_assert_int_eq(n, 8);
	ck_assert_int_eq(ping(h, &pb), AP_OK);
	ck_assert_int_eq(open_fds(), before);
	json_object_put(a);
	ap_helper_client_free(h);
}
END_TEST

static Suite *
client_suite(void)
{
	Suite *s = suite_create("helper_client");
	TCase *tc = tcase_create("client");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_ping_result_and_kept_connection);
	tcase_add_test(tc, test_arguments_passed_and_problems_reported);
	tcase_add_test(tc, test_no_socket_is_unavailable_at_once);
	tcase_add_test(tc, test_stopped_helper_is_unavailable_and_restart_recovers);
	tcase_add_test(tc, test_silent_helper_times_out);
	tcase_add_loop_test(tc, test_bad_answers_are_problems, 0, (int)AP_NELEM(bad_answers));
	tcase_add_test(tc, test_response_bound);
	tcase_add_test(tc, test_descriptor_passed_with_the_answer);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(client_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
