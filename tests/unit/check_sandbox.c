/*
 * check_sandbox.c — paths resolved beneath a root by the kernel: whatever
 * the spelling, nothing outside the root opens. A temp tree:
 *
 *   outside.txt                      (next to the root, must stay unreachable)
 *   root/a.txt  root/sub/b.txt
 *   root/in_link   -> a.txt          (inside: fine)
 *   root/sub/up_ok -> ../a.txt       (inside: fine)
 *   root/abs_link  -> /etc/passwd    (absolute target)
 *   root/out_link  -> ../outside.txt (relative target outside)
 *   root/sub/deep_out -> ../../outside.txt
 *   root/etc_dir   -> /etc           (a directory outside)
 *   root/loop      -> loop
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox.h"

static char base[64];
static char rootp[128];
static int rootfd = -1;

static void
put(const char *rel, const char *text)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", base, rel);
	f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void
link_at(const char *target, const char *rel)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", base, rel);
	ck_assert_int_eq(symlink(target, p), 0);
}

static void
setup(void)
{
	char p[256], err[128];

	snprintf(base, sizeof(base), "/tmp/check-sandbox.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(base));
	snprintf(rootp, sizeof(rootp), "%s/root", base);
	snprintf(p, sizeof(p), "%s/root/sub", base);
	ck_assert_int_eq(ap_sandbox_open_root(p, true, &rootfd, err, sizeof(err)), AP_OK);
	close(rootfd);
	put("outside.txt", "outside\n");
	put("root/a.txt", "inside a\n");
	put("root/sub/b.txt", "inside b\n");
	link_at("a.txt", "root/in_link");
	link_at("../a.txt", "root/sub/up_ok");
	link_at("/etc/passwd", "root/abs_link");
	link_at("../outside.txt", "root/out_link");
	link_at("../../outside.txt", "root/sub/deep_out");
	link_at("/etc", "root/etc_dir");
	link_at("loop", "root/loop");
	ck_assert_int_eq(ap_sandbox_open_root(rootp, false, &rootfd, err, sizeof(err)), AP_OK);
}

static void
teardown(void)
{
	static const char *const rm[] = { "root/sub/deep_out", "root/sub/up_ok", "root/sub/b.txt",
		"root/sub", "root/in_link", "root/abs_link", "root/out_link", "root/etc_dir",
		"root/loop", "root/a.txt", "root/new.txt", "root", "outside.txt", "" };
	char p[256];

	if (rootfd >= 0)
		close(rootfd);
	rootfd = -1;
	for (size_t i = 0; i < AP_NELEM(rm); i++) {
		snprintf(p, sizeof(p), "%s/%s", base, rm[i]);
		if (remove(p) != 0 && errno != ENOENT)
			fprintf(stderr, "cannot remove %s\n", p);
	}
}

/* Rows: a path beneath the root, and whether it must open (with what content) or why not. */
static const struct {
	const char *rel;
	enum ap_err want;
	const char *content; /* when AP_OK */
} rows[] = {
	{ "a.txt", AP_OK, "inside a\n" },
	{ "sub/b.txt", AP_OK, "inside b\n" },
	{ "./sub/../a.txt", AP_OK, "inside a\n" },
	{ "sub//b.txt", AP_OK, "inside b\n" },
	{ "in_link", AP_OK, "inside a\n" },
	{ "sub/up_ok", AP_OK, "inside a\n" },
	{ "../outside.txt", AP_ERR_PERM, NULL },
	{ "sub/../../outside.txt", AP_ERR_PERM, NULL },
	{ "..", AP_ERR_PERM, NULL },
	{ "/etc/passwd", AP_ERR_PERM, NULL },
	{ "/tmp", AP_ERR_PERM, NULL },
	{ "abs_link", AP_ERR_PERM, NULL },
	{ "out_link", AP_ERR_PERM, NULL },
	{ "sub/deep_out", AP_ERR_PERM, NULL },
	{ "etc_dir/passwd", AP_ERR_PERM, NULL },
	{ "loop", AP_ERR_PERM, NULL },
	{ "missing.txt", AP_ERR_NOTFOUND, NULL },
	{ "sub/missing/x", AP_ERR_NOTFOUND, NULL },
	{ "", AP_ERR_INVAL, NULL },
};

START_TEST(test_open_rows)
{
	const char *why = NULL;
	int fd = -1;
	enum ap_err rc = ap_sandbox_open(rootfd, rows[_i].rel, O_RDONLY, 0, &fd, &why);

	ck_assert_msg(rc == rows[_i].want, "'%s': got %d (%s), want %d", rows[_i].rel, rc,
	    why ? why : strerror(errno), rows[_i].want);
	if (rc == AP_OK) {
		char buf[64] = "";
		ssize_t n = read(fd, buf, sizeof(buf) - 1);

		ck_assert_int_gt(n, 0);
		ck_assert_str_eq(buf, rows[_i].content);
		close(fd);
	} else {
		ck_assert_int_eq(fd, -1);
		ck_assert_ptr_nonnull(why);
	}
	if (rc == AP_ERR_PERM)
		ck_assert_str_eq(why, "escapes the sandbox root");
}
END_TEST

START_TEST(test_create_beneath_and_not_through_a_link)
{
	const char *why;
	int fd;
	struct stat st;
	char p[256];

	ck_assert_int_eq(ap_sandbox_open(rootfd, "new.txt", O_WRONLY | O_CREAT | O_EXCL, 0600, &fd,
			     &why),
	    AP_OK);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	close(fd);
	/* Creating through a link that points out of the root is refused too. */
	ck_assert_int_eq(ap_sandbox_open(rootfd, "etc_dir/aapanel-sandbox-test", O_WRONLY | O_CREAT,
			     0600, &fd, &why),
	    AP_ERR_PERM);
	ck_assert_int_eq(access("/etc/aapanel-sandbox-test", F_OK), -1);
	snprintf(p, sizeof(p), "%s/new.txt", rootp);
	ck_assert_int_eq(access(p, F_OK), 0);
}
END_TEST

START_TEST(test_magic_links_refused)
{
	/* /proc/self/fd/N is a magic link: it would reach any open file. */
	const char *why;
	char rel[32];
	int proc, fd, probe = open("/etc/hostname", O_RDONLY | O_CLOEXEC);

	ck_assert_int_ge(probe, 0);
	proc = open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(proc, 0);
	ck_assert_int_eq(ap_sandbox_open(proc, "status", O_RDONLY, 0, &fd, &why), AP_OK);
	close(fd);
	snprintf(rel, sizeof(rel), "fd/%d", probe);
	ck_assert_int_eq(ap_sandbox_open(proc, rel, O_RDONLY, 0, &fd, &why), AP_ERR_PERM);
	ck_assert_int_eq(ap_sandbox_open(proc, "root/etc/hostname", O_RDONLY, 0, &fd, &why),
	    AP_ERR_PERM);
	close(proc);
	close(probe);
}
END_TEST

START_TEST(test_root_must_be_absolute_and_exist)
{
	char err[128];
	int fd;

	ck_assert_int_eq(ap_sandbox_open_root("var/sandbox", true, &fd, err, sizeof(err)),
	    AP_ERR_INVAL);
	ck_assert_int_eq(ap_sandbox_open_root("/nonexistent/check-sandbox", false, &fd, err,
			     sizeof(err)),
	    AP_ERR_NOTFOUND);
	ck_assert_int_eq(fd, -1);
}
END_TEST

static Suite *
sandbox_suite(void)
{
	Suite *s = suite_create("sandbox");
	TCase *tc = tcase_create("beneath");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_open_rows, 0, (int)AP_NELEM(rows));
	tcase_add_test(tc, test_create_beneath_and_not_through_a_link);
	tcase_add_test(tc, test_magic_links_refused);
	tcase_add_test(tc, test_root_must_be_absolute_and_exist);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(sandbox_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
