/*
 * check_tcplisten.c — LISTEN sockets read from /proc/net/tcp{,6} text
 * (tcplisten.h): captured tables, odd lines, and the running kernel's.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "aapanel/tcplisten.h"

static const char tcp4[] =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0\n"
    "   1: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0 100 0 0 10 0\n"
    "   2: 0100007F:2710 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0 100 0 0 10 0\n"
    "   3: 0F02000A:01BB 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4 1 0 100 0 0 10 0\n"
    "   4: garbage\n"
    "   5: 0100007G:1F91 00000000:0000 0A\n";
static const char tcp6[] =
    "  sl  local_address                         remote_address                        st tx_queue rx_queue\n"
    "   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000\n"
    "   1: 00000000000000000000000000000000:0051 00000000000000000000000000000000:0000 0A 00000000:00000000\n";

static const struct {
	const char *text;
	int family, port;
	const char *addr;
	bool want;
} rows[] = {
	{ tcp4, 4, 8080, "127.0.0.1", true },  /* 0100007F:1F90 */
	{ tcp4, 4, 8080, "*", true },
	{ tcp4, 4, 8080, "10.0.2.15", false }, /* bound to loopback only */
	{ tcp4, 4, 80, "10.0.2.15", true },    /* 0.0.0.0:80 takes every address */
	{ tcp4, 4, 80, "*", true },
	{ tcp4, 4, 10000, "127.0.0.1", false }, /* 2710: a connection, not a listener */
	{ tcp4, 4, 443, "10.0.2.15", true },   /* 0F02000A: the word in host order */
	{ tcp4, 4, 443, "127.0.0.1", false },
	{ tcp4, 4, 8081, "*", false },          /* a line with a bad digit */
	{ tcp4, 4, 8080, "not an address", false },
	{ "", 4, 8080, "*", false },
	{ tcp6, 6, 8080, "::1", true },
	{ tcp6, 6, 8080, "::2", false },
	{ tcp6, 6, 81, "2001:db8::1", true },   /* [::]:81 */
	{ tcp6, 6, 82, "*", false },
};

START_TEST(test_table)
{
	ck_assert_int_eq(ap_tcp_listening_in(rows[_i].text, rows[_i].family, rows[_i].port, rows[_i].addr), rows[_i].want);
}
END_TEST

/* A socket of this test's own: seen while it listens, gone once closed. */
START_TEST(test_running_kernel)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin_port);
	ck_assert(!ap_tcp_listening("/proc", port, "127.0.0.1"));
	ck_assert_int_eq(listen(fd, 1), 0);
	ck_assert(ap_tcp_listening("/proc", port, "127.0.0.1"));
	ck_assert(ap_tcp_listening("/proc", port, "*"));
	ck_assert(!ap_tcp_listening("/proc", port, "::1"));
	close(fd);
	ck_assert(!ap_tcp_listening("/proc", port, "127.0.0.1"));
	ck_assert(!ap_tcp_listening("/nonexistent", port, "*"));
}
END_TEST

static Suite *
tcplisten_suite(void)
{
	Suite *s = suite_create("tcplisten");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_table, 0, sizeof(rows) / sizeof(rows[0]));
	tcase_add_test(tc, test_running_kernel);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(tcplisten_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
