/*
 * check_db.c — conformance suite for the database API (db.h). The same
 * tests run against every backend; the DSN comes from the environment:
 *
 *   AAPANEL_TEST_DSN               default: sqlite in a fresh temp dir
 *   AAPANEL_TEST_DB_PASSWORD_FILE  optional; first line is the password
 *
 * e.g. after `db_start_postgres` (tests/integration/dbservers.sh):
 *   AAPANEL_TEST_DSN=$PG_DSN AAPANEL_TEST_DB_PASSWORD_FILE=$PG_PASSWORD_FILE \
 *     build/tests/check_db
 *
 * Only db.h is used, never a driver's internals. Every test makes its own
 * ct_* tables (DDL picked by ap_db_backend) and the fixture drops them
 * before and after, so runs can repeat against the same server. An
 * unreachable server fails the suite; nothing is skipped.
 */
#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "aapanel/db.h"
#include "aapanel/dsn.h"

static char g_dsn[1024];
static char *g_password;
static char g_tmpdir[] = "/tmp/aapanel-checkdb.XXXXXX";
static enum ap_db_backend g_backend;

/* The fixture's connection (a fresh one per test). */
static struct ap_db *db;

/* Children before parents (foreign keys). */
static const char *const drop_sql[] = {
    "DROP TABLE IF EXISTS ct_child", "DROP TABLE IF EXISTS ct_parent", "DROP TABLE IF EXISTS ct_t",
    "DROP TABLE IF EXISTS ct_vals",  "DROP TABLE IF EXISTS ct_s2",     "DROP TABLE IF EXISTS ct_s1",
};

/* Same table, three dialects: indexed by enum ap_db_backend. */
struct ddl {
	const char *sql[AP_DB__MAX];
};

static const struct ddl create_sql[] = {
    {{
	"CREATE TABLE ct_t (id INTEGER PRIMARY KEY AUTOINCREMENT, k BIGINT, v TEXT,"
	" n BIGINT NOT NULL DEFAULT 0)",
	"CREATE TABLE ct_t (id BIGINT AUTO_INCREMENT PRIMARY KEY, k BIGINT, v VARCHAR(255),"
	" n BIGINT NOT NULL DEFAULT 0) ENGINE=InnoDB",
	"CREATE TABLE ct_t (id BIGSERIAL PRIMARY KEY, k BIGINT, v TEXT,"
	" n BIGINT NOT NULL DEFAULT 0)",
    }},
    {{
	"CREATE TABLE ct_vals (id INTEGER PRIMARY KEY AUTOINCREMENT, i INTEGER, d REAL,"
	" t TEXT, b BLOB)",
	"CREATE TABLE ct_vals (id BIGINT AUTO_INCREMENT PRIMARY KEY, i BIGINT, d DOUBLE,"
	" t LONGTEXT, b LONGBLOB) ENGINE=InnoDB",
	"CREATE TABLE ct_vals (id BIGSERIAL PRIMARY KEY, i BIGINT, d DOUBLE PRECISION,"
	" t TEXT, b BYTEA)",
    }},
    {{
	"CREATE TABLE ct_parent (id BIGINT PRIMARY KEY, name VARCHAR(64) NOT NULL UNIQUE,"
	" qty BIGINT NOT NULL CHECK (qty >= 0))",
	"CREATE TABLE ct_parent (id BIGINT PRIMARY KEY, name VARCHAR(64) NOT NULL UNIQUE,"
	" qty BIGINT NOT NULL CHECK (qty >= 0)) ENGINE=InnoDB",
	"CREATE TABLE ct_parent (id BIGINT PRIMARY KEY, name VARCHAR(64) NOT NULL UNIQUE,"
	" qty BIGINT NOT NULL CHECK (qty >= 0))",
    }},
    {{
	"CREATE TABLE ct_child (id BIGINT PRIMARY KEY, parent_id BIGINT NOT NULL,"
	" FOREIGN KEY (parent_id) REFERENCES ct_parent (id))",
	"CREATE TABLE ct_child (id BIGINT PRIMARY KEY, parent_id BIGINT NOT NULL,"
	" FOREIGN KEY (parent_id) REFERENCES ct_parent (id)) ENGINE=InnoDB",
	"CREATE TABLE ct_child (id BIGINT PRIMARY KEY, parent_id BIGINT NOT NULL,"
	" FOREIGN KEY (parent_id) REFERENCES ct_parent (id))",
    }},
};

/* ------------------------------------------------------------------ helpers */

static const char *
dialect(const char *lite, const char *my, const char *pg)
{
	switch (g_backend) {
	case AP_DB_SQLITE: return lite;
	case AP_DB_MYSQL: return my;
	default: return pg;
	}
}

#define RC_EQ(h, got, want)                                                                        \
	do {                                                                                       \
		enum ap_db_rc got_ = (got), want_ = (want);                                        \
		ck_assert_msg(got_ == want_, "%s: expected %s, got %s (%s)", #got,                 \
			      ap_db_rc_str(want_), ap_db_rc_str(got_), ap_db_errmsg(h));           \
	} while (0)

#define EXEC_OK(h, sql) RC_EQ((h), ap_db_exec((h), (sql)), AP_DB_OK)

#define PREPARE_OK(h, sql, stp) RC_EQ((h), ap_db_prepare((h), (sql), (stp)), AP_DB_OK)

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static enum ap_db_rc
open_with(const char *dsn, const char *password, int connect_ms, int query_ms, struct ap_db **out)
{
	struct ap_db_opts o = {
	    .dsn = dsn,
	    .password = password,
	    .connect_timeout_ms = connect_ms,
	    .query_timeout_ms = query_ms,
	};

	return ap_db_open(&o, out);
}

/* A second connection to the same database; fails the test if it can't. */
static struct ap_db *
open_db(int query_ms)
{
	struct ap_db *h = NULL;
	enum ap_db_rc rc = open_with(g_dsn, g_password, 0, query_ms, &h);

	ck_assert_msg(rc == AP_DB_OK, "open %s: %s (%s)", g_dsn, ap_db_rc_str(rc), ap_db_errmsg(h));
	ck_assert_ptr_nonnull(h);
	return h;
}

static int64_t
count_rows(struct ap_db *h, const char *sql)
{
	int64_t n = -1;

	RC_EQ(h, ap_db_query_int64(h, sql, &n), AP_DB_OK);
	return n;
}

/* Insert (k, v) into ct_t with binds. */
static void
insert_kv(struct ap_db *h, int64_t k, const char *v)
{
	struct ap_db_stmt *st = NULL;

	PREPARE_OK(h, "INSERT INTO ct_t (k, v) VALUES (?, ?)", &st);
	RC_EQ(h, ap_db_bind_int64(st, 1, k), AP_DB_OK);
	RC_EQ(h, ap_db_bind_text(st, 2, v, -1), AP_DB_OK);
	RC_EQ(h, ap_db_step(st), AP_DB_DONE);
	ck_assert_int_eq(ap_db_changes(st), 1);
	ap_db_finalize(st);
}

/* Port on 127.0.0.1 that nothing listens on (bound, then released). */
static int
unused_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	close(fd);
	return ntohs(a.sin_port);
}

/* A listener that completes TCP handshakes (kernel backlog) but never speaks. */
static int
silent_listener(int *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(fd, 16), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

/* g_dsn with its host:port replaced by 127.0.0.1:port (query string dropped,
 * so a ?socket= cannot win over the port). */
static void
dsn_with_port(int port, char *out, size_t outlen)
{
	const char *scheme_end = strstr(g_dsn, "://");
	const char *auth, *at, *slash, *q;
	int n;

	ck_assert_ptr_nonnull(scheme_end);
	auth = scheme_end + 3;
	at = strchr(auth, '@');
	slash = strchr(auth, '/');
	ck_assert_ptr_nonnull(at);
	ck_assert_ptr_nonnull(slash);
	q = strchr(slash, '?');
	n = snprintf(out, outlen, "%.*s127.0.0.1:%d%.*s", (int)(at + 1 - g_dsn), g_dsn, port,
		     (int)(q ? q - slash : (ptrdiff_t)strlen(slash)), slash);
	ck_assert_int_lt(n, (int)outlen);
}

/* Fill buf with random bytes from the kernel. */
static void
random_bytes(unsigned char *buf, size_t len)
{
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	size_t got = 0;

	ck_assert_int_ge(fd, 0);
	while (got < len) {
		ssize_t r = read(fd, buf + got, len - got);

		ck_assert_int_gt(r, 0);
		got += (size_t)r;
	}
	close(fd);
}

/* ------------------------------------------------------------------ proxy */

/*
 * A TCP proxy on loopback in front of the test server, in a child process:
 * it forwards both ways, and in PX_DROP_REPLY mode, once it has forwarded a
 * client packet holding the marker, it waits for the server's reply (the
 * server has executed, and in autocommit committed, the statement), drops
 * it and closes both sides — a connection lost between commit and reply.
 * SIGUSR1 closes every client connection while idle (a server that went
 * away between requests). The child reports on a pipe: 'C' per accepted
 * connection, 'D' per dropped reply, 'I' when the idle close is done.
 */
enum px_mode { PX_PASS, PX_DROP_REPLY };

struct proxy {
	pid_t pid;
	int port;
	int status; /* read end of the child's report pipe (non-blocking) */
	char seen[64];
	size_t nseen;
};

static volatile sig_atomic_t px_close_all;

static void
px_on_usr1(int sig)
{
	(void)sig;
	px_close_all = 1;
}

static bool
px_write_all(int fd, const char *p, ssize_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, (size_t)n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= w;
	}
	return true;
}

static void __attribute__((noreturn))
px_run(int lfd, int upstream, const char *marker, enum px_mode mode, int status)
{
	struct {
		int c, s;
		bool drop;
	} pr[16];
	int npr = 0;
	bool dropped = false;
	static char buf[1 << 16];
	struct sigaction sa;
	struct timespec idle = {.tv_sec = 15};
	sigset_t block, during;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = px_on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	/* SIGUSR1 only arrives inside ppoll, so it is never missed. */
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &during);
	sigdelset(&during, SIGUSR1);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (;;) {
		struct pollfd p[1 + 2 * 16];
		int np = 1, r;

		p[0].fd = lfd;
		p[0].events = POLLIN;
		for (int i = 0; i < npr; i++) {
			p[np].fd = pr[i].c;
			p[np++].events = POLLIN;
			p[np].fd = pr[i].s;
			p[np++].events = POLLIN;
		}
		r = ppoll(p, (nfds_t)np, &idle, &during);
		if (r == 0)
			_exit(0); /* forgotten: never outlive the test for long */
		if (r < 0) {
			if (px_close_all) {
				for (int i = 0; i < npr; i++) {
					close(pr[i].c);
					close(pr[i].s);
				}
				npr = 0;
				px_close_all = 0;
				(void)!write(status, "I", 1);
			}
			continue;
		}
		if ((p[0].revents & POLLIN) && npr < 16) {
			struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)upstream)};
			int c = accept(lfd, NULL, NULL), sfd = socket(AF_INET, SOCK_STREAM, 0);

			a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			if (c >= 0 && sfd >= 0 && connect(sfd, (struct sockaddr *)&a, sizeof(a)) == 0) {
				pr[npr].c = c;
				pr[npr].s = sfd;
				pr[npr++].drop = false;
				(void)!write(status, "C", 1);
			} else {
				if (c >= 0)
					close(c);
				if (sfd >= 0)
					close(sfd);
			}
			continue; /* the poll set changed */
		}
		for (int i = 0, k = 1; i < npr; i++, k += 2) {
			bool gone = false;
			ssize_t n;

			if (p[k].revents & (POLLIN | POLLHUP | POLLERR)) {
				n = read(pr[i].c, buf, sizeof(buf));
				if (n <= 0 || !px_write_all(pr[i].s, buf, n))
					gone = true;
				else if (mode == PX_DROP_REPLY && !dropped &&
				    memmem(buf, (size_t)n, marker, strlen(marker)) != NULL)
					pr[i].drop = true;
			}
			if (!gone && (p[k + 1].revents & (POLLIN | POLLHUP | POLLERR))) {
				n = read(pr[i].s, buf, sizeof(buf));
				if (n <= 0)
					gone = true;
				else if (pr[i].drop) {
					gone = true; /* executed and committed: the reply is lost */
					dropped = true;
					(void)!write(status, "D", 1);
				} else if (!px_write_all(pr[i].c, buf, n))
					gone = true;
			}
			if (gone) {
				close(pr[i].c);
				close(pr[i].s);
				pr[i] = pr[--npr];
				break; /* indices shifted: poll again */
			}
		}
	}
}

/* The test server's TCP port, from g_dsn (scheme://user@host:port/db). */
static int
server_port(void)
{
	const char *at = strchr(g_dsn, '@'), *colon, *slash;

	ck_assert_msg(at != NULL, "AAPANEL_TEST_DSN has no user@host: %s", g_dsn);
	slash = strchr(at, '/');
	colon = strchr(at, ':');
	ck_assert_msg(colon != NULL && slash != NULL && colon < slash,
		      "the proxy tests need a TCP DSN with a port: %s", g_dsn);
	return atoi(colon + 1);
}

static void
proxy_start(struct proxy *px, const char *marker, enum px_mode mode)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), up = server_port(), pfd[2];

	memset(px, 0, sizeof(*px));
	ck_assert_int_ge(fd, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(fd, 16), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	px->port = ntohs(a.sin_port);
	ck_assert_int_eq(pipe(pfd), 0);
	px->pid = fork();
	ck_assert_int_ge(px->pid, 0);
	if (px->pid == 0) {
		close(pfd[0]);
		px_run(fd, up, marker, mode, pfd[1]);
	}
	close(fd);
	close(pfd[1]);
	px->status = pfd[0];
	fcntl(px->status, F_SETFL, O_NONBLOCK);
}

/* Collect the child's reports; how many times it reported what. */
static int
proxy_saw(struct proxy *px, char what)
{
	int n = 0;
	ssize_t got;

	while (px->nseen < sizeof(px->seen) &&
	       (got = read(px->status, px->seen + px->nseen, sizeof(px->seen) - px->nseen)) > 0)
		px->nseen += (size_t)got;
	for (size_t i = 0; i < px->nseen; i++)
		n += px->seen[i] == what;
	return n;
}

/* Wait up to ms for the child to report what (count times in all). */
static bool
proxy_wait(struct proxy *px, char what, int count, int ms)
{
	for (int waited = 0; waited <= ms; waited += 10) {
		if (proxy_saw(px, what) >= count)
			return true;
		usleep(10000);
	}
	return false;
}

static void
proxy_stop(struct proxy *px)
{
	if (px->pid > 0) {
		kill(px->pid, SIGKILL);
		waitpid(px->pid, NULL, 0);
	}
	close(px->status);
}

/* ------------------------------------------------------------------ fixture */

static void
drop_tables(struct ap_db *h)
{
	for (size_t i = 0; i < AP_NELEM(drop_sql); i++)
		EXEC_OK(h, drop_sql[i]);
}

static void
setup(void)
{
	db = open_db(0);
	drop_tables(db); /* leftovers of a crashed run */
	for (size_t i = 0; i < AP_NELEM(create_sql); i++)
		EXEC_OK(db, create_sql[i].sql[g_backend]);
}

static void
teardown(void)
{
	if (db == NULL)
		return;
	if (ap_db_in_transaction(db))
		ap_db_rollback(db);
	drop_tables(db);
	ap_db_close(db);
	db = NULL;
}

/* ------------------------------------------------------------------ connect */

START_TEST(test_open_reports_backend_and_pings)
{
	enum ap_db_backend b;

	ck_assert(ap_db_dsn_backend(g_dsn, &b));
	ck_assert_int_eq(ap_db_backend(db), b);
	ck_assert(ap_db_connected(db));
	ck_assert_str_eq(ap_db_errmsg(db), "");
	RC_EQ(db, ap_db_ping(db), AP_DB_OK);
	ck_assert_int_eq(count_rows(db, "SELECT 1"), 1);
	ap_db_close(NULL);
}
END_TEST

START_TEST(test_backend_and_rc_names)
{
	static const enum ap_db_rc rcs[] = {AP_DB_OK,	       AP_DB_ROW,	AP_DB_DONE,
					    AP_DB_ECONSTRAINT, AP_DB_ENOTFOUND, AP_DB_ECONN,
					    AP_DB_ETIMEOUT,    AP_DB_EINVAL,	AP_DB_EOTHER};

	ck_assert_str_eq(ap_db_backend_name(AP_DB_SQLITE), "sqlite");
	ck_assert_str_eq(ap_db_backend_name(AP_DB_MYSQL), "mysql");
	ck_assert_str_eq(ap_db_backend_name(AP_DB_PGSQL), "postgresql");
	/* Log lines must tell the classes apart. */
	for (size_t i = 0; i < AP_NELEM(rcs); i++)
		for (size_t j = i + 1; j < AP_NELEM(rcs); j++)
			ck_assert_str_ne(ap_db_rc_str(rcs[i]), ap_db_rc_str(rcs[j]));
}
END_TEST

static const char *const bad_dsns[] = {
    NULL,
    "",
    "sqlite:",
    "sqlite:relative/t.db",
    "nosuch://u@127.0.0.1/db",
    "http://u@127.0.0.1/db",
    "mysql://127.0.0.1/aapanel", /* no user */
    "mysql://u@127.0.0.1",	 /* no database */
    "mysql://u@127.0.0.1:0/db",	 /* port out of range */
    "mysql://u@127.0.0.1:70000/db",
    "postgresql://u@127.0.0.1:54x/db",
    "mysql://u:secret@127.0.0.1/db",	 /* passwords never live in the DSN */
    "postgresql://u@/db",		 /* neither host nor socket */
    "mysql://u@127.0.0.1/db?socket=rel", /* socket must be absolute */
    "postgresql://u@127.0.0.1/d;b",	 /* database names are identifiers */
};

START_TEST(test_bad_dsn_table)
{
	int sentinel;
	struct ap_db *h = (struct ap_db *)(void *)&sentinel;
	enum ap_db_rc rc = open_with(bad_dsns[_i], NULL, 0, 0, &h);

	ck_assert_msg(rc == AP_DB_EINVAL, "%s: got %s", bad_dsns[_i] ? bad_dsns[_i] : "(null)",
		      ap_db_rc_str(rc));
	ck_assert_ptr_null(h);
}
END_TEST

START_TEST(test_wrong_password_is_econn)
{
	struct ap_db *h = NULL;
	enum ap_db_rc rc = open_with(g_dsn, "wrong-7f3a9c2e", 0, 0, &h);

	RC_EQ(h, rc, AP_DB_ECONN);
	ck_assert_ptr_nonnull(h);
	ck_assert_str_ne(ap_db_errmsg(h), "");
	ck_assert(!ap_db_connected(h));
	ap_db_close(h);
}
END_TEST

START_TEST(test_refused_port_is_econn)
{
	char dsn[1100];
	struct ap_db *h = NULL;
	uint64_t t0 = now_ms();
	enum ap_db_rc rc;

	dsn_with_port(unused_port(), dsn, sizeof(dsn));
	rc = open_with(dsn, g_password, 2000, 0, &h);
	RC_EQ(h, rc, AP_DB_ECONN);
	ck_assert_ptr_nonnull(h);
	ck_assert_str_ne(ap_db_errmsg(h), "");
	ck_assert(!ap_db_connected(h));
	ck_assert_uint_lt(now_ms() - t0, 3000);
	ap_db_close(h);
}
END_TEST

/* A server that accepts but never answers must not hang the worker:
 * connect_timeout_ms bounds the wait (libpq rounds up to 2 s). */
START_TEST(test_silent_server_connect_timeout)
{
	char dsn[1100];
	struct ap_db *h = NULL;
	int port, fd = silent_listener(&port);
	uint64_t t0 = now_ms(), took;
	enum ap_db_rc rc;

	dsn_with_port(port, dsn, sizeof(dsn));
	rc = open_with(dsn, g_password, 1000, 0, &h);
	took = now_ms() - t0;
	close(fd);
	RC_EQ(h, rc, AP_DB_ECONN);
	ck_assert_str_ne(ap_db_errmsg(h), "");
	ck_assert_msg(took < 4000, "connect took %llu ms with a 1000 ms timeout",
		      (unsigned long long)took);
	ap_db_close(h);
}
END_TEST

/* SQLite's "server unreachable": the file cannot be opened. */
START_TEST(test_sqlite_unopenable_path_is_econn)
{
	char dsn[256];
	struct ap_db *h = NULL;
	enum ap_db_rc rc;

	snprintf(dsn, sizeof(dsn), "sqlite:%s/no/such/dir/t.db", g_tmpdir);
	rc = open_with(dsn, NULL, 0, 0, &h);
	RC_EQ(h, rc, AP_DB_ECONN);
	ck_assert_ptr_nonnull(h);
	ck_assert_str_ne(ap_db_errmsg(h), "");
	ck_assert(!ap_db_connected(h));
	ap_db_close(h);
}
END_TEST

/* ------------------------------------------------------------------ types */

static const int64_t int_rows[] = {
    INT64_MIN, INT64_MAX, -1, 0, 1, 42, -9007199254740993LL, 2147483648LL, -2147483649LL,
};

START_TEST(test_int64_round_trip_table)
{
	struct ap_db_stmt *st = NULL;
	int64_t v = int_rows[_i];

	PREPARE_OK(db, "INSERT INTO ct_vals (i) VALUES (?)", &st);
	RC_EQ(db, ap_db_bind_int64(st, 1, v), AP_DB_OK);
	RC_EQ(db, ap_db_step(st), AP_DB_DONE);
	ap_db_finalize(st);

	/* Bound in the WHERE too: comparisons must use the exact value. */
	PREPARE_OK(db, "SELECT i FROM ct_vals WHERE i = ?", &st);
	RC_EQ(db, ap_db_bind_int64(st, 1, v), AP_DB_OK);
	RC_EQ(db, ap_db_step(st), AP_DB_ROW);
	ck_assert_int_eq(ap_db_col_count(st), 1);
	ck_assert_int_eq(ap_db_col_type(st, 0), AP_DB_T_INT);
	ck_assert(!ap_db_col_is_null(st, 0));
	ck_assert_msg(ap_db_col_int64(st, 0) == v, "got %lld want %lld",
		      (long long)ap_db_col_int64(st, 0), (long long)v);
	RC_EQ(db, ap_db_step(st), AP_DB_DONE);
	ap_db_finalize(st);
}
END_TEST

static const double double_rows[] = {
    0.1, -2.5e-10, 3.141592653589793, 1.7976931348623157e308, -1e-300, 0.0, 123456789.125,
};

START_TEST(test_double_round_trip_table)
{
	struct ap_db_stmt *st = NULL;
	double v = double_rows[_i];

	PREPARE_OK(db, "INSERT INTO ct_vals (d) VALUES (?)", &st);
	RC_EQ(db, ap_db_bind_double(st, 1, v), AP_DB_OK);
	RC_EQ(db, ap_db_step(st), AP_DB_DONE);
	ap_db_finalize(st);

	PREPARE_OK(db, "SELECT d FROM ct_vals", &st);
	RC_EQ(db, ap_db_step(st), AP_DB_ROW);
	ck_assert_int_eq(ap_db_col_type(st, 0), AP_DB_T_DOUBLE);
	/* Exact: text formats must print enough digits to round-trip. */
	ck_assert_msg(ap_db_col_double(st, 0) == v, "got %.17g want %.17g", ap_db_col_double(st, 0),
		      v);
	RC_EQ(db, ap_db_step(st), AP_DB_DONE);
	ap_db_finalize(st);
}
END_TEST

static const struct {
	const char *name;
	const char *s;
	size_t len;
} text_rows[] = {
    {"empty", "", 0},
    {"ascii", "hello", 5},
    {"arabic", "لوحة تحكم الخادم", sizeof("لوحة تحكم الخادم") - 1},
    {"emoji", "🚀 ✓ 日本語 🇸🇦", sizeof("🚀 ✓ 日本語 🇸🇦") - 1},
    {"controls", "tab\there\nnew\r\nline", sizeof("tab\there\nnew\r\nline") - 1},
    {"quotes", "it's \"q\" `b` \\ %_ ?", sizeof("it's \"q\" `b` \\ %_ ?") - 1},
    {"trailing spaces", "pad  ", 5},
    {"mixed bidi", "Server خادم 1", sizeof("Server خادم 1") - 1},
};

START_TEST(test_text_round_trip_table)
{
	struct ap_db_stmt *st = NULL;
	const char *want = text_rows[_i].s, *got;
	size_t wlen = text_rows[_i].len, glen = 12345;

	PREPARE_OK(db, "INSERT INTO ct_vals (t) VALUES (?)", &st);
	RC_EQ(db, ap_db_bind_text(st, 1, want, -1), AP_DB_OK);
	RC_EQ(db, ap_db_step(st), AP_DB_DONE);
	ap_db_finalize(st);

	PREPARE_OK(db, "SELECT t FROM ct_vals", &st);
	RC_EQ(db, ap_db_step(st), AP_DB_ROW);
	/* An empty string is a value, not NULL. */
	ck_assert_msg(ap_db_col_type(st, 0) == AP_DB_T_TEXT, "%s: type %d", text_rows[_i].name,
		      ap_db_col_type(st, 0));
	ck_assert(!ap_db_col_is_null(st, 0));
	got = ap_db_col_text(st, 0, &glen);
	ck_assert_ptr_nonnull(got);
	ck_assert_uint_eq(glen, wlen);
	ck_assert_msg(memcmp(got, want, wlen) == 0, "%s: got \"%s\"", text_rows[_i].name, got);
	ck_assert_int_eq(got[glen], '\0');
	ck_assert_ptr_nonnull(ap_db_col_text(st, 0, NULL));
	RC_EQ(db, ap_db_step(st), AP_DB_DONE);
	ap_db_finalize(st);

	/* Found again by value (parameter in a comparison, same bytes). */
	PREPARE_OK(db, "SELECT COUNT(*) FROM ct_vals WHERE t = ?", &st);
	RC_EQ(db, ap_db_bind_text(st, 1, want, (ssize_t)wlen), AP_DB_OK);
	RC_EQ(db, ap_db_step(st), AP_DB_ROW);
	ck_assert_int_eq(ap_db_col_int64(st, 0), 1);
	ap_db_finalize(st);
}
END_TEST

START_TEST(test_text_bind_length_and_large)
{
	struct ap_db_stmt *st = NULL;
	const char *unit = "لوحة تحكم الخادم ";
	size_t ulen = strlen(unit), n = 0, glen = 0;
	char *big = malloc(200 * 1024 + 1);
	const char *got;

	ck_assert_ptr_nonnull(big);
	while (n + ulen <= 200 * 1024) {
		memcpy(big + n, unit, ulen);
		n += ulen;
	}
	big[n] = '\0';

	PREPARE_OK(db, "INSERT INTO ct_vals (i, t) VALUES (?, ?)", &st);
	/* Explicit length: only the first 3 bytes are the value. */
	RC_EQ(db, ap_db_bind_int64(st, 1, 1), AP_DB_OK);
	RC_EQ(db, ap_db_bind_text(st, 2, "abcdef", 3), AP_DB_OK);
	RC_EQ(db, ap_db_step(st), AP_DB_DONE);
	RC_EQ(db, ap_db_reset(st), AP_DB_OK);
	RC_EQ(db, ap_db_bind_int64(st, 1, 2), AP_DB_OK);
	RC_EQ(db, ap_db_bind_text(st, 2, big, (ssize_t)n), AP_DB_OK);
	RC_EQ(db, ap_db_step(st), AP_DB_DONE);
	ap_db_finalize(st);

	PREPARE_OK(db, "SELECT t FROM ct_vals ORDER BY i", &st);
	RC_EQ(db, ap_db_step(st), AP_DB_ROW);
	ck_assert_str_eq(ap_db_col_text(st, 0, &glen), "abc");
	ck_assert_uint_eq(glen, 3);
	RC_EQ(db, ap_db_step(st), AP_DB_ROW);
	got = ap_db_col_text(st, 0, &glen);
	ck_assert_uint_eq(glen, n);
	ck_assert(memcmp(got, big, n) == 0);
	RC_EQ(db, ap_db_step(st), AP_DB_DONE);
	ap_db_finalize(st);
	free(big);
}
END_TEST

static const struct {
	const char *name;
	const char *p;
	size_t len;
} blob_rows[] = {
    {"empty", "", 0},
    {"one NUL", "\0", 1},
    {"NULs inside", "a\0b\0\xff\xfe\0", 7},
    {"high bytes", "\x80\x81\xc3\x28\xf0\x9f", 6}, /* invalid UTF-8 is fine in a blob */
    {"backslash and quote", "\\x00'\\", 6},
};

START_TEST(test_blob_round_trip_table)
{
	struct ap_db_stmt *st = NULL;
	const void *got;
	size_t glen = 12345;

	PREPARE_OK(db, "INSERT INTO ct_vals (b) VALUES (?)", &st);
	RC_EQ(db, ap_db_bind_blob(st, 1, blob_rows[_i].p, blob_rows[_i].len), AP_DB_OK);
	RC_EQ(db, ap_db_step(st), AP_DB_DONE);
	ap_db_finalize(st);

	PREPARE_OK(db, "SELECT b FROM ct_vals", &st);
	RC_EQ(db, ap_db_step(st), AP_DB_ROW);
	/* An empty blob is a value, not NULL. */
	ck_assert_msg(ap_db_col_type(st, 0) == AP_DB_T_BLOB, "%s: type %d", blob_rows[_i].name,
		      ap_db_col_type(st, 0));
	ck_assert(!ap_db_col_is_null(st, 0));
	got = ap_db_col_blob(st, 0, &glen);
	ck_assert_uint_eq(glen, blob_rows[_i].len);
	if (glen > 0) {
		ck_assert_ptr_nonnull(got);
		ck_assert_msg(memcmp(got, blob_rows[_i].p, glen) == 0, "%s: bytes differ",
			      blob_rows[_i].name);
	}
	RC_EQ(db, ap_db_step(st), AP_DB_DONE);
	ap_db_finalize(st);
}
END_TEST

START_TEST(test_blob_5mib_random)
{
	enum { N = 5 * 1024 * 1024 };
	unsigned char *buf = malloc(N);
	struct ap_db_stmt *st = NULL;
	const unsigned char *got;
	size_t glen = 0;

	ck_assert_ptr_nonnull(buf);
	random_bytes(buf, N);
	buf[0] = 0; /* at least one NUL, at the very start */
	buf[N / 2] = 0;

	PREPARE_OK(db, "INSERT INTO ct_vals (b) VALUES (?)", &st);
	RC_EQ(db, ap_db_bind_blob(st, 1, buf, N), AP_DB_OK);
	RC_EQ(db, ap_db_step(st), AP_DB_DONE);
	ap_db_finalize(st);

	PREPARE_OK(db, "SELECT b FROM ct_vals", &st);
	RC_EQ(db, ap_db_step(st), AP_DB_ROW);
	ck_assert_int_eq(ap_db_col_type(st, 0), AP_DB_T_BLOB);
	got = ap_db_col_blob(st, 0, &glen);
	ck_assert_uint_eq(glen, N);
	ck_assert_ptr_nonnull(got);
	for (size_t i = 0; i < N; i++)
		if (got[i] != buf[i])
			ck_abort_msg("blob differs at byte %zu: %02x != %02x", i, got[i], buf[i]);
	RC_EQ(db, ap_db_step(st), AP_DB_DONE);
	ap_db_finalize(st);
	free(buf);
}
END_TEST

static void
assert_null_col(struct ap_db_stmt *st, int col)
{
	size_t len = 99;

	ck_assert_msg(ap_db_col_is_null(st, col), "column %d not NULL", col);
	ck_assert_int_eq(ap_db_col_type(st, col), AP_DB_T_NULL);
	ck_assert_ptr_null(ap_db_col_text(st, col, &len));
	ck_assert_uint_eq(len, 0);
	len = 99;
	ck_assert_ptr_null(ap_db_col_blob(st, col, &len));
	ck_assert_uint_eq(len, 0);
}

START_TEST(test_null_in_every_column)
{
	struct ap_db_stmt *st = NULL;

	PREPARE_OK(db, "INSERT INTO ct_vals (i, d, t, b) VALUES (?, ?, ?, ?)", &st);
	/* Bind values first, then NULL over them: the last bind wins. */
	RC_EQ(db, ap_db_bind_int64(st, 1, 7), AP_DB_OK);
	RC_EQ(db, ap_db_bind_double(st, 2, 7.5), AP_DB_OK);
	RC_EQ(db, ap_db_bind_text(st, 3, "x", -1), AP_DB_OK);
	RC_EQ(db, ap_db_bind_blob(st, 4, "y", 1), AP_DB_OK);
	for (int i = 1; i <= 4; i++)
		RC_EQ(db, ap_db_bind_null(st, i), AP_DB_OK);
	RC_EQ(db, ap_db_step(st), AP_DB_DONE);
	ap_db_finalize(st);

	PREPARE_OK(db, "SELECT i, d, t, b FROM ct_vals", &st);
	RC_EQ(db, ap_db_step(st), AP_DB_ROW);
	ck_assert_int_eq(ap_db_col_count(st), 4);
	for (int c = 0; c < 4; c++)
		assert_null_col(st, c);
	RC_EQ(db, ap_db_step(st), AP_DB_DONE);
	ap_db_finalize(st);
	ck_assert_int_eq(count_rows(db, "SELECT COUNT(*) FROM ct_vals WHERE i IS NULL AND"
					" d IS NULL AND t IS NULL AND b IS NULL"),
			 1);
}
END_TEST

START_TEST(test_unbound_params_are_null)
{
	struct ap_db_stmt *st = NULL;

	PREPARE_OK(db, "INSERT INTO ct_vals (i, t) VALUES (?, ?)", &st);
	RC_EQ(db, ap_db_bind_int64(st, 1, 5), AP_DB_OK);
	RC_EQ(db, ap_db_step(st), AP_DB_DONE);
	ap_db_finalize(st);
	ck_assert_int_eq(count_rows(db, "SELECT COUNT(*) FROM ct_vals WHERE i = 5 AND t IS NULL"),
			 1);
}
END_TEST

START_TEST(test_bind_index_out_of_range)
{
	struct ap_db_stmt *st = NULL;

	PREPARE_OK(db, "SELECT v FROM ct_t WHERE k = ? AND n = ?", &st);
	RC_EQ(db, ap_db_bind_int64(st, 0, 1), AP_DB_EINVAL);
	RC_EQ(db, ap_db_bind_int64(st, 3, 1), AP_DB_EINVAL);
	RC_EQ(db, ap_db_bind_double(st, -1, 1.0), AP_DB_EINVAL);
	RC_EQ(db, ap_db_bind_text(st, 3, "x", -1), AP_DB_EINVAL);
	RC_EQ(db, ap_db_bind_blob(st, 3, "x", 1), AP_DB_EINVAL);
	RC_EQ(db, ap_db_bind_null(st, 3), AP_DB_EINVAL);
	RC_EQ(db, ap_db_bind_int64(st, 2, 0), AP_DB_OK);
	ap_db_finalize(st);

	PREPARE_OK(db, "SELECT COUNT(*) FROM ct_t", &st);
	RC_EQ(db, ap_db_bind_int64(st, 1, 1), AP_DB_EINVAL);
	ap_db_finalize(st);
}
END_TEST

START_TEST(test_column_names_and_types)
{
	static const char *const names[] = {"c_int", "c_dbl", "c_txt", "c_blob", "c_null"};
	static const enum ap_db_type row1[] = {AP_DB_T_INT, AP_DB_T_DOUBLE, AP_DB_T_TEXT,
					       AP_DB_T_BLOB, AP_DB_T_NULL};
	struct ap_db_stmt *st = NULL;
	size_t len = 0;

	PREPARE_OK(db, "INSERT INTO ct_vals (id, i, d, t, b) VALUES (?, ?, ?, ?, ?)", &st);
	RC_EQ(db, ap_db_bind_int64(st, 1, 1), AP_DB_OK);
	RC_EQ(db, ap_db_bind_int64(st, 2, -5), AP_DB_OK);
	RC_EQ(db, ap_db_bind_double(st, 3, 2.5), AP_DB_OK);
	RC_EQ(db, ap_db_bind_text(st, 4, "نص", -1), AP_DB_OK);
	RC_EQ(db, ap_db_bind_blob(st, 5, "\0\1", 2), AP_DB_OK);
	RC_EQ(db, ap_db_step(st), AP_DB_DONE);
	RC_EQ(db, ap_db_reset(st), AP_DB_OK);
	RC_EQ(db, ap_db_bind_int64(st, 1, 2), AP_DB_OK);
	for (int i = 2; i <= 5; i++)
		RC_EQ(db, ap_db_bind_null(st, i), AP_DB_OK);
	RC_EQ(db, ap_db_step(st), AP_DB_DONE);
	ap_db_finalize(st);

	PREPARE_OK(db,
		   "SELECT i AS c_int, d AS c_dbl, t AS c_txt, b AS c_blob, NULL AS c_null"
		   " FROM ct_vals ORDER BY id",
		   &st);
	RC_EQ(db, ap_db_step(st), AP_DB_ROW);
	ck_assert_int_eq(ap_db_col_count(st), 5);
	for (int c = 0; c < 5; c++) {
		ck_assert_str_eq(ap_db_col_name(st, c), names[c]);
		ck_assert_msg(ap_db_col_type(st, c) == row1[c], "%s: type %d, want %d", names[c],
			      ap_db_col_type(st, c), row1[c]);
	}
	ck_assert_int_eq(ap_db_col_int64(st, 0), -5);
	ck_assert_double_eq(ap_db_col_double(st, 1), 2.5);
	ck_assert_str_eq(ap_db_col_text(st, 2, NULL), "نص");
	ck_assert(memcmp(ap_db_col_blob(st, 3, &len), "\0\1", 2) == 0);
	ck_assert_uint_eq(len, 2);
	/* col_type describes the value in this row: all NULL now. */
	RC_EQ(db, ap_db_step(st), AP_DB_ROW);
	ck_assert_int_eq(ap_db_col_count(st), 5);
	for (int c = 0; c < 5; c++) {
		ck_assert_str_eq(ap_db_col_name(st, c), names[c]);
		assert_null_col(st, c);
	}
	RC_EQ(db, ap_db_step(st), AP_DB_DONE);
	ap_db_finalize(st);
}
END_TEST

/* ------------------------------------------------------------------ rows */

static const struct {
	int64_t k;
	const char *v;
} seed_rows[] = {
    {5, "five"}, {3, "three"}, {9, "nine"}, {1, "one"}, {7, "seven"},
};

static void
seed(void)
{
	for (size_t i = 0; i < AP_NELEM(seed_rows); i++)
		insert_kv(db, seed_rows[i].k, seed_rows[i].v);
}

START_TEST(test_rows_in_order_then_done)
{
	static const char *const want[] = {"one", "three", "five", "seven", "nine"};
	struct ap_db_stmt *st = NULL;
	int n = 0;
	enum ap_db_rc rc;

	seed();
	PREPARE_OK(db, "SELECT k, v FROM ct_t ORDER BY k", &st);
	while ((rc = ap_db_step(st)) == AP_DB_ROW) {
		ck_assert_int_lt(n, 5);
		ck_assert_int_eq(ap_db_col_int64(st, 0), 2 * n + 1);
		ck_assert_str_eq(ap_db_col_text(st, 1, NULL), want[n]);
		n++;
	}
	RC_EQ(db, rc, AP_DB_DONE);
	ck_assert_int_eq(n, 5);
	ap_db_finalize(st);

	PREPARE_OK(db, "SELECT k FROM ct_t WHERE k > ? ORDER BY k DESC", &st);
	RC_EQ(db, ap_db_bind_int64(st, 1, 4), AP_DB_OK);
	RC_EQ(db, ap_db_step(st), AP_DB_ROW);
	ck_assert_int_eq(ap_db_col_int64(st, 0), 9);
	RC_EQ(db, ap_db_step(st), AP_DB_ROW);
	ck_assert_int_eq(ap_db_col_int64(st, 0), 7);
	RC_EQ(db, ap_db_step(st), AP_DB_ROW);
	ck_assert_int_eq(ap_db_col_int64(st, 0), 5);
	RC_EQ(db, ap_db_step(st), AP_DB_DONE);
	ap_db_finalize(st);
}
END_TEST

START_TEST(test_reset_and_rebind)
{
	struct ap_db_stmt *st = NULL;

	seed();
	PREPARE_OK(db, "SELECT v FROM ct_t WHERE k = ?", &st);
	RC_EQ(db, ap_db_bind_int64(st, 1, 3), AP_DB_OK);
	RC_EQ(db, ap_db_step(st), AP_DB_ROW);
	ck_assert_str_eq(ap_db_col_text(st, 0, NULL), "three");
	RC_EQ(db, ap_db_step(st), AP_DB_DONE);

	RC_EQ(db, ap_db_reset(st), AP_DB_OK);
	RC_EQ(db, ap_db_bind_int64(st, 1, 9), AP_DB_OK);
	RC_EQ(db, ap_db_step(st), AP_DB_ROW);
	ck_assert_str_eq(ap_db_col_text(st, 0, NULL), "nine");
	RC_EQ(db, ap_db_step(st), AP_DB_DONE);

	/* Binds are kept across reset. */
	RC_EQ(db, ap_db_reset(st), AP_DB_OK);
	RC_EQ(db, ap_db_step(st), AP_DB_ROW);
	ck_assert_str_eq(ap_db_col_text(st, 0, NULL), "nine");

	/* Reset before the end, rebind to a key with no row. */
	RC_EQ(db, ap_db_reset(st), AP_DB_OK);
	RC_EQ(db, ap_db_bind_int64(st, 1, 42), AP_DB_OK);
	RC_EQ(db, ap_db_step(st), AP_DB_DONE);
	ap_db_finalize(st);
}
END_TEST

START_TEST(test_reset_mid_result_restarts)
{
	struct ap_db_stmt *st = NULL;

	seed();
	PREPARE_OK(db, "SELECT k FROM ct_t ORDER BY k", &st);
	for (int round = 0; round < 3; round++) {
		RC_EQ(db, ap_db_step(st), AP_DB_ROW);
		ck_assert_int_eq(ap_db_col_int64(st, 0), 1);
		RC_EQ(db, ap_db_step(st), AP_DB_ROW);
		ck_assert_int_eq(ap_db_col_int64(st, 0), 3);
		RC_EQ(db, ap_db_reset(st), AP_DB_OK);
	}
	ap_db_finalize(st);
	/* The abandoned result must not block the connection. */
	ck_assert_int_eq(count_rows(db, "SELECT COUNT(*) FROM ct_t"), 5);
}
END_TEST

/* A page loops over one query and runs another per row. */
START_TEST(test_nested_statements)
{
	struct ap_db_stmt *outer = NULL, *inner = NULL;
	int n = 0;
	enum ap_db_rc rc;

	seed();
	PREPARE_OK(db, "SELECT k FROM ct_t ORDER BY k", &outer);
	PREPARE_OK(db, "SELECT v FROM ct_t WHERE k = ?", &inner);
	while ((rc = ap_db_step(outer)) == AP_DB_ROW) {
		int64_t k = ap_db_col_int64(outer, 0);
		const char *want = NULL;

		for (size_t i = 0; i < AP_NELEM(seed_rows); i++)
			if (seed_rows[i].k == k)
				want = seed_rows[i].v;
		ck_assert_ptr_nonnull(want);
		RC_EQ(db, ap_db_reset(inner), AP_DB_OK);
		RC_EQ(db, ap_db_bind_int64(inner, 1, k), AP_DB_OK);
		RC_EQ(db, ap_db_step(inner), AP_DB_ROW);
		ck_assert_str_eq(ap_db_col_text(inner, 0, NULL), want);
		/* The outer row is still readable after the inner step. */
		ck_assert_int_eq(ap_db_col_int64(outer, 0), k);
		n++;
	}
	RC_EQ(db, rc, AP_DB_DONE);
	ck_assert_int_eq(n, 5);
	ap_db_finalize(inner);
	ap_db_finalize(outer);
}
END_TEST

/* The connection's statement cache: one prepare, reused, survives "finalize", resets on reuse. */
START_TEST(test_prepared_cache)
{
	static const char sql[] = "SELECT v FROM ct_t WHERE k = ?";
	struct ap_db_stmt *a = NULL, *b = NULL;

	insert_kv(db, 1, "one");
	insert_kv(db, 2, "two");
	RC_EQ(db, ap_db_prepare_cached(db, sql, &a), AP_DB_OK);
	RC_EQ(db, ap_db_bind_int64(a, 1, 1), AP_DB_OK);
	RC_EQ(db, ap_db_step(a), AP_DB_ROW);
	ck_assert_str_eq(ap_db_col_text(a, 0, NULL), "one");
	ap_db_finalize(a); /* only resets a cached statement */
	RC_EQ(db, ap_db_prepare_cached(db, sql, &b), AP_DB_OK);
	ck_assert_ptr_eq(a, b);
	/* handed out reset even when the last user left it mid-result */
	RC_EQ(db, ap_db_bind_int64(b, 1, 2), AP_DB_OK);
	RC_EQ(db, ap_db_step(b), AP_DB_ROW);
	RC_EQ(db, ap_db_prepare_cached(db, sql, &b), AP_DB_OK);
	RC_EQ(db, ap_db_step(b), AP_DB_ROW);
	ck_assert_str_eq(ap_db_col_text(b, 0, NULL), "two");
	RC_EQ(db, ap_db_step(b), AP_DB_DONE);
}
END_TEST

/* A finalized statement is kept prepared and handed to the next prepare of
 * the same text, without the values it was given; another text gets its own. */
START_TEST(test_idle_statement_reused)
{
	static const char sql[] = "SELECT v FROM ct_t WHERE k = ?";
	struct ap_db_stmt *a = NULL, *b = NULL, *c = NULL;
	char other[64];

	insert_kv(db, 1, "one");
	PREPARE_OK(db, sql, &a);
	RC_EQ(db, ap_db_bind_int64(a, 1, 1), AP_DB_OK);
	RC_EQ(db, ap_db_step(a), AP_DB_ROW); /* left mid-result */
	ap_db_finalize(a);
	PREPARE_OK(db, sql, &b);
	ck_assert_ptr_eq(a, b);
	/* unbound again: k = NULL matches nothing */
	RC_EQ(db, ap_db_step(b), AP_DB_DONE);
	/* the same text twice at once: two statements */
	PREPARE_OK(db, sql, &c);
	ck_assert_ptr_ne(b, c);
	RC_EQ(db, ap_db_bind_int64(c, 1, 1), AP_DB_OK);
	RC_EQ(db, ap_db_step(c), AP_DB_ROW);
	ck_assert_str_eq(ap_db_col_text(c, 0, NULL), "one");
	ap_db_finalize(c);
	ap_db_finalize(b);
	/* more texts than the pool keeps: the oldest go, every one still works */
	for (int i = 0; i < 100; i++) {
		snprintf(other, sizeof(other), "SELECT v FROM ct_t WHERE k = ? + %d", i);
		PREPARE_OK(db, other, &a);
		RC_EQ(db, ap_db_bind_int64(a, 1, 1 - i), AP_DB_OK);
		RC_EQ(db, ap_db_step(a), AP_DB_ROW);
		ck_assert_str_eq(ap_db_col_text(a, 0, NULL), "one");
		ap_db_finalize(a);
	}
	PREPARE_OK(db, sql, &a);
	RC_EQ(db, ap_db_bind_int64(a, 1, 1), AP_DB_OK);
	RC_EQ(db, ap_db_step(a), AP_DB_ROW);
	ap_db_finalize(a);
}
END_TEST

/* DDL empties the pool: a kept SELECT * would otherwise give the old columns
 * (PostgreSQL: "cached plan must not change result type"). */
START_TEST(test_idle_statement_after_ddl)
{
	static const char sql[] = "SELECT * FROM ct_t WHERE k = ?";
	struct ap_db_stmt *a = NULL;
	int before;

	insert_kv(db, 1, "one");
	PREPARE_OK(db, sql, &a);
	RC_EQ(db, ap_db_bind_int64(a, 1, 1), AP_DB_OK);
	RC_EQ(db, ap_db_step(a), AP_DB_ROW);
	before = ap_db_col_count(a);
	ap_db_finalize(a);
	EXEC_OK(db, "ALTER TABLE ct_t ADD COLUMN extra BIGINT");
	PREPARE_OK(db, sql, &a);
	RC_EQ(db, ap_db_bind_int64(a, 1, 1), AP_DB_OK);
	RC_EQ(db, ap_db_step(a), AP_DB_ROW);
	ck_assert_int_eq(ap_db_col_count(a), before + 1);
	ap_db_finalize(a);
}
END_TEST

START_TEST(test_hot_statement_1000)
{
	struct ap_db_stmt *ins = NULL, *sel = NULL;
	char v[32];

	RC_EQ(db, ap_db_begin(db), AP_DB_OK);
	PREPARE_OK(db, "INSERT INTO ct_t (k, v) VALUES (?, ?)", &ins);
	for (int i = 0; i < 1000; i++) {
		snprintf(v, sizeof(v), "row %d", i);
		RC_EQ(db, ap_db_bind_int64(ins, 1, i), AP_DB_OK);
		RC_EQ(db, ap_db_bind_text(ins, 2, v, -1), AP_DB_OK);
		RC_EQ(db, ap_db_step(ins), AP_DB_DONE);
		ck_assert_int_eq(ap_db_changes(ins), 1);
		RC_EQ(db, ap_db_reset(ins), AP_DB_OK);
	}
	ap_db_finalize(ins);
	RC_EQ(db, ap_db_commit(db), AP_DB_OK);
	ck_assert_int_eq(count_rows(db, "SELECT COUNT(*) FROM ct_t"), 1000);
	ck_assert_int_eq(count_rows(db, "SELECT SUM(k) FROM ct_t"), 499500);

	PREPARE_OK(db, "SELECT v FROM ct_t WHERE k = ?", &sel);
	for (int i = 999; i >= 0; i--) {
		snprintf(v, sizeof(v), "row %d", i);
		RC_EQ(db, ap_db_bind_int64(sel, 1, i), AP_DB_OK);
		RC_EQ(db, ap_db_step(sel), AP_DB_ROW);
		ck_assert_str_eq(ap_db_col_text(sel, 0, NULL), v);
		RC_EQ(db, ap_db_reset(sel), AP_DB_OK);
	}
	ap_db_finalize(sel);
}
END_TEST

START_TEST(test_insert_ids_increase)
{
	struct ap_db_stmt *ins = NULL, *sel = NULL;
	int64_t ids[4] = {0};
	char v[16];

	RC_EQ(db, ap_db_prepare_insert(db, "INSERT INTO ct_t (k, v) VALUES (?, ?)", "id", &ins),
	      AP_DB_OK);
	for (int i = 0; i < 4; i++) {
		snprintf(v, sizeof(v), "id %d", i);
		RC_EQ(db, ap_db_bind_int64(ins, 1, i), AP_DB_OK);
		RC_EQ(db, ap_db_bind_text(ins, 2, v, -1), AP_DB_OK);
		RC_EQ(db, ap_db_step(ins), AP_DB_DONE);
		ck_assert_int_eq(ap_db_changes(ins), 1);
		ids[i] = ap_db_last_insert_id(ins);
		ck_assert_int_gt(ids[i], 0);
		if (i > 0)
			ck_assert_int_gt(ids[i], ids[i - 1]);
		RC_EQ(db, ap_db_reset(ins), AP_DB_OK);
		/* Another insert in between must not change what ins reports. */
		insert_kv(db, 100 + i, "other");
	}
	ap_db_finalize(ins);

	/* Each id names the row that was inserted. */
	PREPARE_OK(db, "SELECT v FROM ct_t WHERE id = ?", &sel);
	for (int i = 0; i < 4; i++) {
		snprintf(v, sizeof(v), "id %d", i);
		RC_EQ(db, ap_db_bind_int64(sel, 1, ids[i]), AP_DB_OK);
		RC_EQ(db, ap_db_step(sel), AP_DB_ROW);
		ck_assert_str_eq(ap_db_col_text(sel, 0, NULL), v);
		RC_EQ(db, ap_db_reset(sel), AP_DB_OK);
	}
	ap_db_finalize(sel);
}
END_TEST

START_TEST(test_prepare_insert_rejects_bad_id_column)
{
	struct ap_db_stmt *st = NULL;

	RC_EQ(
	    db,
	    ap_db_prepare_insert(db, "INSERT INTO ct_t (k) VALUES (?)", "id; DROP TABLE ct_t", &st),
	    AP_DB_EINVAL);
	ck_assert_ptr_null(st);
	ck_assert_int_eq(count_rows(db, "SELECT COUNT(*) FROM ct_t"), 0);
}
END_TEST

static const struct {
	const char *sql;
	int64_t a, b; /* binds; b used when the SQL has two */
	int64_t changes;
	int64_t remaining; /* rows in ct_t afterwards */
} change_rows[] = {
    {"UPDATE ct_t SET n = n + 1 WHERE k <= ?", 3, 0, 2, 5},  /* k 1, 3 */
    {"UPDATE ct_t SET n = n + 1 WHERE k > ?", 100, 0, 0, 5}, /* nothing matched */
    {"UPDATE ct_t SET n = n + 1 WHERE k >= ? AND k <= ?", 1, 9, 5, 5},
    {"DELETE FROM ct_t WHERE k IN (?, ?)", 1, 9, 2, 3},
    {"DELETE FROM ct_t WHERE k = ?", 99, 0, 0, 3}, /* nothing matched */
    {"UPDATE ct_t SET n = ? WHERE k = ?", 7, 5, 1, 3},
    {"DELETE FROM ct_t WHERE k > ?", 0, 0, 3, 0},
};

START_TEST(test_changes_table)
{
	struct ap_db_stmt *st = NULL;

	seed();
	for (size_t i = 0; i < AP_NELEM(change_rows); i++) {
		PREPARE_OK(db, change_rows[i].sql, &st);
		RC_EQ(db, ap_db_bind_int64(st, 1, change_rows[i].a), AP_DB_OK);
		if (strchr(strchr(change_rows[i].sql, '?') + 1, '?'))
			RC_EQ(db, ap_db_bind_int64(st, 2, change_rows[i].b), AP_DB_OK);
		RC_EQ(db, ap_db_step(st), AP_DB_DONE);
		ck_assert_msg(ap_db_changes(st) == change_rows[i].changes,
			      "%s: changes %lld want %lld", change_rows[i].sql,
			      (long long)ap_db_changes(st), (long long)change_rows[i].changes);
		ap_db_finalize(st);
		ck_assert_int_eq(count_rows(db, "SELECT COUNT(*) FROM ct_t"),
				 change_rows[i].remaining);
	}
}
END_TEST

/* Re-running a statement reports its own count, not a running total. */
START_TEST(test_changes_per_execution)
{
	struct ap_db_stmt *st = NULL;

	seed();
	PREPARE_OK(db, "UPDATE ct_t SET n = n + 1 WHERE k < ?", &st);
	RC_EQ(db, ap_db_bind_int64(st, 1, 6), AP_DB_OK);
	RC_EQ(db, ap_db_step(st), AP_DB_DONE);
	ck_assert_int_eq(ap_db_changes(st), 3);
	RC_EQ(db, ap_db_reset(st), AP_DB_OK);
	RC_EQ(db, ap_db_bind_int64(st, 1, 2), AP_DB_OK);
	RC_EQ(db, ap_db_step(st), AP_DB_DONE);
	ck_assert_int_eq(ap_db_changes(st), 1);
	RC_EQ(db, ap_db_reset(st), AP_DB_OK);
	RC_EQ(db, ap_db_bind_int64(st, 1, 0), AP_DB_OK);
	RC_EQ(db, ap_db_step(st), AP_DB_DONE);
	ck_assert_int_eq(ap_db_changes(st), 0);
	ap_db_finalize(st);
	ck_assert_int_eq(count_rows(db, "SELECT n FROM ct_t WHERE k = 1"), 2);
}
END_TEST

/* ------------------------------------------------------------------ errors */

static const struct {
	const char *name;
	const char *sql;
} constraint_rows[] = {
    {"unique", "INSERT INTO ct_parent (id, name, qty) VALUES (2, 'alpha', 1)"},
    {"primary key", "INSERT INTO ct_parent (id, name, qty) VALUES (1, 'other', 1)"},
    {"foreign key insert", "INSERT INTO ct_child (id, parent_id) VALUES (11, 999)"},
    {"foreign key delete", "DELETE FROM ct_parent WHERE id = 1"},
    {"foreign key update", "UPDATE ct_child SET parent_id = 998 WHERE id = 10"},
    {"not null", "INSERT INTO ct_parent (id, name, qty) VALUES (3, NULL, 1)"},
    {"not null update", "UPDATE ct_parent SET name = NULL WHERE id = 1"},
    {"check", "INSERT INTO ct_parent (id, name, qty) VALUES (4, 'neg', -1)"},
    {"unique update", "UPDATE ct_parent SET name = 'alpha' WHERE id = 5"},
};

START_TEST(test_constraint_table)
{
	enum ap_db_rc rc;

	EXEC_OK(db, "INSERT INTO ct_parent (id, name, qty) VALUES (1, 'alpha', 5)");
	EXEC_OK(db, "INSERT INTO ct_parent (id, name, qty) VALUES (5, 'beta', 5)");
	EXEC_OK(db, "INSERT INTO ct_child (id, parent_id) VALUES (10, 1)");
	rc = ap_db_exec(db, constraint_rows[_i].sql);
	ck_assert_msg(rc == AP_DB_ECONSTRAINT, "%s: got %s (%s)", constraint_rows[_i].name,
		      ap_db_rc_str(rc), ap_db_errmsg(db));
	ck_assert_str_ne(ap_db_errmsg(db), "");
	/* Nothing changed, and the connection carries on. */
	ck_assert(ap_db_connected(db));
	ck_assert_int_eq(count_rows(db, "SELECT COUNT(*) FROM ct_parent"), 2);
	ck_assert_int_eq(count_rows(db, "SELECT COUNT(*) FROM ct_parent WHERE name = 'alpha'"
					" AND qty = 5 AND id = 1"),
			 1);
	ck_assert_int_eq(count_rows(db, "SELECT COUNT(*) FROM ct_child WHERE parent_id = 1"), 1);
}
END_TEST

/* The same violation through binds (the usual way a page hits it). */
START_TEST(test_constraint_with_binds)
{
	struct ap_db_stmt *st = NULL;

	PREPARE_OK(db, "INSERT INTO ct_parent (id, name, qty) VALUES (?, ?, ?)", &st);
	RC_EQ(db, ap_db_bind_int64(st, 1, 1), AP_DB_OK);
	RC_EQ(db, ap_db_bind_text(st, 2, "مستخدم", -1), AP_DB_OK);
	RC_EQ(db, ap_db_bind_int64(st, 3, 1), AP_DB_OK);
	RC_EQ(db, ap_db_step(st), AP_DB_DONE);
	RC_EQ(db, ap_db_reset(st), AP_DB_OK);
	RC_EQ(db, ap_db_bind_int64(st, 1, 2), AP_DB_OK);
	RC_EQ(db, ap_db_step(st), AP_DB_ECONSTRAINT);
	ck_assert_str_ne(ap_db_errmsg(db), "");
	/* The statement stays usable after the violation. */
	RC_EQ(db, ap_db_reset(st), AP_DB_OK);
	RC_EQ(db, ap_db_bind_text(st, 2, "آخر", -1), AP_DB_OK);
	RC_EQ(db, ap_db_step(st), AP_DB_DONE);
	ap_db_finalize(st);
	ck_assert_int_eq(count_rows(db, "SELECT COUNT(*) FROM ct_parent"), 2);
}
END_TEST

static const char *const bad_sql_rows[] = {
    "SELEC 1",
    "SELECT * FROM ct_nosuch",
    "SELECT nosuchcol FROM ct_t",
    "INSERT INTO ct_t (k) VALUES (1, 2)",
    "SELECT 1 FROM",
};

START_TEST(test_bad_sql_is_eother_table)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc = ap_db_prepare(db, bad_sql_rows[_i], &st);

	/* Caught at prepare or, for drivers that defer it, at the first step. */
	if (rc == AP_DB_OK) {
		ck_assert_ptr_nonnull(st);
		rc = ap_db_step(st);
		ap_db_finalize(st);
	} else
		ck_assert_ptr_null(st);
	ck_assert_msg(rc == AP_DB_EOTHER, "%s: got %s (%s)", bad_sql_rows[_i], ap_db_rc_str(rc),
		      ap_db_errmsg(db));
	ck_assert_str_ne(ap_db_errmsg(db), "");
	RC_EQ(db, ap_db_exec(db, bad_sql_rows[_i]), AP_DB_EOTHER);
	/* Not a connection problem: the same handle works. */
	RC_EQ(db, ap_db_ping(db), AP_DB_OK);
	ck_assert_int_eq(count_rows(db, "SELECT COUNT(*) FROM ct_t"), 0);
}
END_TEST

START_TEST(test_query_int64_cases)
{
	int64_t out = -1;

	ck_assert_int_eq(count_rows(db, "SELECT COUNT(*) FROM ct_t"), 0);
	RC_EQ(db, ap_db_query_int64(db, "SELECT k FROM ct_t WHERE k = 1", &out), AP_DB_ENOTFOUND);
	RC_EQ(db, ap_db_query_int64(db, "SELECT k FROM ct_nosuch", &out), AP_DB_EOTHER);
	seed();
	RC_EQ(db, ap_db_query_int64(db, "SELECT k FROM ct_t WHERE v = 'seven'", &out), AP_DB_OK);
	ck_assert_int_eq(out, 7);
	RC_EQ(db, ap_db_query_int64(db, "SELECT MAX(k) FROM ct_t", &out), AP_DB_OK);
	ck_assert_int_eq(out, 9);
	RC_EQ(db, ap_db_query_int64(db, "SELECT k FROM ct_t ORDER BY k DESC", &out), AP_DB_OK);
	ck_assert_int_eq(out, 9);
	RC_EQ(db, ap_db_query_int64(db, "SELECT -9223372036854775807 - 1", &out), AP_DB_OK);
	ck_assert(out == INT64_MIN);
}
END_TEST

/* A runaway query is cut at query_timeout_ms, and the handle stays usable. */
START_TEST(test_query_timeout)
{
	struct ap_db *h = open_db(300);
	const char *slow = dialect(
	    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000)"
	    " SELECT COUNT(*) FROM c",
	    "SELECT SLEEP(5)", "SELECT pg_sleep(5)");
	struct ap_db_stmt *st = NULL;
	uint64_t t0, took;
	enum ap_db_rc rc;

	t0 = now_ms();
	rc = ap_db_prepare(h, slow, &st);
	if (rc == AP_DB_OK)
		rc = ap_db_step(st);
	took = now_ms() - t0;
	ap_db_finalize(st);
	RC_EQ(h, rc, AP_DB_ETIMEOUT);
	ck_assert_str_ne(ap_db_errmsg(h), "");
	ck_assert_msg(took >= 250 && took < 2500, "timed out after %llu ms (limit 300 ms)",
		      (unsigned long long)took);
	ck_assert_int_eq(count_rows(h, "SELECT 1"), 1);
	ap_db_close(h);
}
END_TEST

/* A row/database write lock held by another connection: waiting is bounded
 * by the query timeout and reported as a timeout, not a generic error. */
START_TEST(test_lock_wait_timeout)
{
	struct ap_db *h = open_db(300);
	struct ap_db_stmt *st = NULL;
	uint64_t t0, took;
	enum ap_db_rc rc;

	insert_kv(db, 1, "one");
	RC_EQ(db, ap_db_begin(db), AP_DB_OK);
	EXEC_OK(db, "UPDATE ct_t SET n = 1 WHERE k = 1");

	PREPARE_OK(h, "UPDATE ct_t SET n = 2 WHERE k = 1", &st);
	t0 = now_ms();
	rc = ap_db_step(st);
	took = now_ms() - t0;
	RC_EQ(h, rc, AP_DB_ETIMEOUT);
	ck_assert_str_ne(ap_db_errmsg(h), "");
	/* MariaDB's lock wait timeout has 1 s granularity. */
	ck_assert_msg(took >= 250 && took < 2500, "lock wait lasted %llu ms (limit 300 ms)",
		      (unsigned long long)took);

	RC_EQ(db, ap_db_rollback(db), AP_DB_OK);
	/* Lock released: the same statement now goes through. */
	RC_EQ(h, ap_db_reset(st), AP_DB_OK);
	RC_EQ(h, ap_db_step(st), AP_DB_DONE);
	ck_assert_int_eq(ap_db_changes(st), 1);
	ap_db_finalize(st);
	ck_assert_int_eq(count_rows(db, "SELECT n FROM ct_t WHERE k = 1"), 2);
	ap_db_close(h);
}
END_TEST

/* ------------------------------------------------------------------ transactions */

START_TEST(test_rollback_after_failed_commit_keeps_the_error)
{
	/* regression: the rollback that follows a failed commit replaced the
	 * commit's message with "no transaction is open" */
	RC_EQ(db, ap_db_rollback(db), AP_DB_OK);
	ck_assert(!ap_db_in_transaction(db));
	RC_EQ(db, ap_db_commit(db), AP_DB_EINVAL);
	ck_assert_ptr_nonnull(strstr(ap_db_errmsg(db), "no transaction"));
	RC_EQ(db, ap_db_exec(db, "SELECT * FROM no_such_table_here"), AP_DB_EOTHER);
	{
		char before[512];

		snprintf(before, sizeof(before), "%s", ap_db_errmsg(db));
		ck_assert_int_eq(ap_db_rollback(db), AP_DB_OK);
		ck_assert_str_eq(ap_db_errmsg(db), before);
	}
}
END_TEST

START_TEST(test_rollback_discards)
{
	ck_assert(!ap_db_in_transaction(db));
	RC_EQ(db, ap_db_begin(db), AP_DB_OK);
	ck_assert(ap_db_in_transaction(db));
	insert_kv(db, 1, "gone");
	/* Own writes are visible inside the transaction. */
	ck_assert_int_eq(count_rows(db, "SELECT COUNT(*) FROM ct_t"), 1);
	RC_EQ(db, ap_db_rollback(db), AP_DB_OK);
	ck_assert(!ap_db_in_transaction(db));
	ck_assert_int_eq(count_rows(db, "SELECT COUNT(*) FROM ct_t"), 0);
}
END_TEST

START_TEST(test_commit_keeps_and_others_see_it)
{
	struct ap_db *h = open_db(0);

	RC_EQ(db, ap_db_begin(db), AP_DB_OK);
	insert_kv(db, 1, "kept");
	ck_assert_int_eq(count_rows(h, "SELECT COUNT(*) FROM ct_t"), 0); /* not yet */
	RC_EQ(db, ap_db_commit(db), AP_DB_OK);
	ck_assert(!ap_db_in_transaction(db));
	ck_assert_int_eq(count_rows(db, "SELECT COUNT(*) FROM ct_t WHERE v = 'kept'"), 1);
	ck_assert_int_eq(count_rows(h, "SELECT COUNT(*) FROM ct_t WHERE v = 'kept'"), 1);
	ap_db_close(h);
}
END_TEST

START_TEST(test_constraint_in_transaction_then_rollback)
{
	EXEC_OK(db, "INSERT INTO ct_parent (id, name, qty) VALUES (1, 'alpha', 1)");
	RC_EQ(db, ap_db_begin(db), AP_DB_OK);
	EXEC_OK(db, "INSERT INTO ct_parent (id, name, qty) VALUES (2, 'beta', 1)");
	RC_EQ(db, ap_db_exec(db, "INSERT INTO ct_parent (id, name, qty) VALUES (3, 'alpha', 1)"),
	      AP_DB_ECONSTRAINT);
	/* The caller decides: the transaction is still open until rollback. */
	ck_assert(ap_db_in_transaction(db));
	RC_EQ(db, ap_db_rollback(db), AP_DB_OK);
	ck_assert(!ap_db_in_transaction(db));
	ck_assert_int_eq(count_rows(db, "SELECT COUNT(*) FROM ct_parent"), 1);
	ck_assert_int_eq(count_rows(db, "SELECT id FROM ct_parent WHERE name = 'alpha'"), 1);
	/* And the next transaction works normally. */
	RC_EQ(db, ap_db_begin(db), AP_DB_OK);
	EXEC_OK(db, "INSERT INTO ct_parent (id, name, qty) VALUES (2, 'beta', 1)");
	RC_EQ(db, ap_db_commit(db), AP_DB_OK);
	ck_assert_int_eq(count_rows(db, "SELECT COUNT(*) FROM ct_parent"), 2);
}
END_TEST

START_TEST(test_transaction_misuse)
{
	RC_EQ(db, ap_db_commit(db), AP_DB_EINVAL);
	/* Nothing open: a rollback is a no-op (it follows failed commits), a commit is a mistake. */
	RC_EQ(db, ap_db_rollback(db), AP_DB_OK);
	RC_EQ(db, ap_db_begin(db), AP_DB_OK);
	RC_EQ(db, ap_db_begin(db), AP_DB_EINVAL);
	ck_assert(ap_db_in_transaction(db));
	insert_kv(db, 1, "x");
	RC_EQ(db, ap_db_commit(db), AP_DB_OK);
	ck_assert_int_eq(count_rows(db, "SELECT COUNT(*) FROM ct_t"), 1);
}
END_TEST

/* ------------------------------------------------------------------ the unit of work */

/* A change and what follows it (its audit row) in one transaction: nothing
 * before the end is seen by another connection, and nothing at all when
 * the unit is rolled back (the process killed before its end). */
START_TEST(test_unit_is_one_transaction)
{
	struct ap_db *h = open_db(0);

	ap_db_unit_begin(db);
	/* Reads before the first write open nothing. */
	ck_assert_int_eq(count_rows(db, "SELECT COUNT(*) FROM ct_t"), 0);
	ck_assert(!ap_db_in_transaction(db));
	insert_kv(db, 1, "change");
	ck_assert(ap_db_in_transaction(db));
	insert_kv(db, 2, "audit");
	ck_assert_int_eq(count_rows(db, "SELECT COUNT(*) FROM ct_t"), 2);
	ck_assert_int_eq(count_rows(h, "SELECT COUNT(*) FROM ct_t"), 0);
	RC_EQ(db, ap_db_unit_end(db, false), AP_DB_OK);
	ck_assert(!ap_db_in_transaction(db));
	ck_assert_int_eq(count_rows(h, "SELECT COUNT(*) FROM ct_t"), 0);

	ap_db_unit_begin(db);
	insert_kv(db, 1, "change");
	insert_kv(db, 2, "audit");
	RC_EQ(db, ap_db_unit_end(db, true), AP_DB_OK);
	ck_assert_int_eq(count_rows(h, "SELECT COUNT(*) FROM ct_t"), 2);
	/* A unit that wrote nothing ends without a round trip. */
	ap_db_unit_begin(db);
	RC_EQ(db, ap_db_unit_end(db, true), AP_DB_OK);
	ap_db_close(h);
}
END_TEST

/* A data module's own transaction inside the unit becomes a savepoint: its
 * rollback undoes its part only; a refused statement outside any undoes
 * itself only (on PostgreSQL too, where it would abort the transaction). */
START_TEST(test_unit_nests_and_survives_a_refused_statement)
{
	struct ap_db *h = open_db(0);

	EXEC_OK(db, "INSERT INTO ct_parent (id, name, qty) VALUES (1, 'alpha', 1)");
	ap_db_unit_begin(db);
	EXEC_OK(db, "INSERT INTO ct_parent (id, name, qty) VALUES (2, 'beta', 1)");
	RC_EQ(db, ap_db_exec(db, "INSERT INTO ct_parent (id, name, qty) VALUES (3, 'alpha', 1)"),
	      AP_DB_ECONSTRAINT);
	RC_EQ(db, ap_db_begin(db), AP_DB_OK);
	EXEC_OK(db, "INSERT INTO ct_parent (id, name, qty) VALUES (4, 'gamma', 1)");
	RC_EQ(db, ap_db_rollback(db), AP_DB_OK);
	ck_assert(ap_db_in_transaction(db)); /* the unit goes on */
	RC_EQ(db, ap_db_begin(db), AP_DB_OK);
	EXEC_OK(db, "INSERT INTO ct_parent (id, name, qty) VALUES (5, 'delta', 1)");
	RC_EQ(db, ap_db_commit(db), AP_DB_OK);
	/* The unit's end is the only commit. */
	RC_EQ(db, ap_db_commit(db), AP_DB_EINVAL);
	ck_assert_int_eq(count_rows(h, "SELECT COUNT(*) FROM ct_parent"), 1);
	RC_EQ(db, ap_db_unit_end(db, true), AP_DB_OK);
	ck_assert_int_eq(count_rows(h, "SELECT COUNT(*) FROM ct_parent"), 3); /* 1, 2, 5 */
	ck_assert_int_eq(count_rows(h, "SELECT COUNT(*) FROM ct_parent WHERE id IN (3, 4)"), 0);
	ap_db_close(h);
}
END_TEST

/*
 * A write refused as read-only inside a unit (a read-only file or mount, a
 * read-only server or standby; here the session made read-only): the next
 * unit's first write runs on a new connection and succeeds, with no failed
 * try first. regression: a worker whose SQLite connection had been opened
 * read-only answered 503 to every change until it was recycled
 */
START_TEST(test_unit_after_a_read_only_refusal_writes_on_a_new_connection)
{
	static const char *const ro[AP_DB__MAX] = {
		[AP_DB_SQLITE] = "PRAGMA query_only = 1",
		[AP_DB_MYSQL] = "SET SESSION TRANSACTION READ ONLY",
		[AP_DB_PGSQL] = "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",
	};
	struct ap_db *h = open_db(0);

	EXEC_OK(db, ro[g_backend]);
	ap_db_unit_begin(db);
	RC_EQ(db, ap_db_exec(db, "INSERT INTO ct_parent (id, name, qty) VALUES (1, 'alpha', 1)"),
	      AP_DB_EREADONLY);
	ap_db_unit_end(db, false);
	ap_db_unit_begin(db);
	EXEC_OK(db, "INSERT INTO ct_parent (id, name, qty) VALUES (2, 'beta', 1)");
	RC_EQ(db, ap_db_unit_end(db, true), AP_DB_OK);
	/* an explicit transaction after one */
	EXEC_OK(db, ro[g_backend]);
	if (ap_db_begin(db) == AP_DB_OK) { /* SQLite refuses BEGIN itself under query_only */
		RC_EQ(db, ap_db_exec(db, "INSERT INTO ct_parent (id, name, qty) VALUES (3, 'gamma', 1)"),
		      AP_DB_EREADONLY);
		RC_EQ(db, ap_db_rollback(db), AP_DB_OK);
	}
	RC_EQ(db, ap_db_begin(db), AP_DB_OK);
	EXEC_OK(db, "INSERT INTO ct_parent (id, name, qty) VALUES (4, 'delta', 1)");
	RC_EQ(db, ap_db_commit(db), AP_DB_OK);
	ck_assert_int_eq(count_rows(h, "SELECT COUNT(*) FROM ct_parent"), 2);
	ck_assert_int_eq(count_rows(h, "SELECT COUNT(*) FROM ct_parent WHERE id IN (2, 4)"), 2);
	ap_db_close(h);
}
END_TEST

/* Paused before its first write, a unit lets a write through at once (the
 * sign-in attempt the throttle must count on every host). */
START_TEST(test_unit_pause_commits_at_once)
{
	struct ap_db *h = open_db(0);
	bool paused;

	ap_db_unit_begin(db);
	paused = ap_db_unit_pause(db);
	ck_assert(paused);
	insert_kv(db, 1, "attempt");
	ck_assert_int_eq(count_rows(h, "SELECT COUNT(*) FROM ct_t"), 1);
	ap_db_unit_resume(db, paused);
	insert_kv(db, 2, "session");
	ck_assert_int_eq(count_rows(h, "SELECT COUNT(*) FROM ct_t"), 1);
	/* Once begun, a unit does not pause. */
	ck_assert(!ap_db_unit_pause(db));
	RC_EQ(db, ap_db_unit_end(db, true), AP_DB_OK);
	ck_assert_int_eq(count_rows(h, "SELECT COUNT(*) FROM ct_t"), 2);
	ap_db_close(h);
}
END_TEST

/* ------------------------------------------------------------------ scripts, helpers */

START_TEST(test_exec_script_runs_every_statement)
{
	const char *script = dialect(
	    "-- migration 1\n"
	    "CREATE TABLE ct_s1 (id INTEGER PRIMARY KEY, v TEXT NOT NULL);\n"
	    "CREATE TABLE ct_s2 (id INTEGER PRIMARY KEY,\n"
	    "    s1_id INTEGER NOT NULL REFERENCES ct_s1 (id));\n"
	    "INSERT INTO ct_s1 (id, v) VALUES (1, 'a;b'), (2, 'لوحة');\n"
	    "INSERT INTO ct_s2 (id, s1_id)\n"
	    "    VALUES (1, 2);\n",
	    "-- migration 1\n"
	    "CREATE TABLE ct_s1 (id BIGINT PRIMARY KEY, v VARCHAR(64) NOT NULL) ENGINE=InnoDB;\n"
	    "CREATE TABLE ct_s2 (id BIGINT PRIMARY KEY,\n"
	    "    s1_id BIGINT NOT NULL, FOREIGN KEY (s1_id) REFERENCES ct_s1 (id)) ENGINE=InnoDB;\n"
	    "INSERT INTO ct_s1 (id, v) VALUES (1, 'a;b'), (2, 'لوحة');\n"
	    "INSERT INTO ct_s2 (id, s1_id)\n"
	    "    VALUES (1, 2);\n",
	    "-- migration 1\n"
	    "CREATE TABLE ct_s1 (id BIGINT PRIMARY KEY, v TEXT NOT NULL);\n"
	    "CREATE TABLE ct_s2 (id BIGINT PRIMARY KEY,\n"
	    "    s1_id BIGINT NOT NULL REFERENCES ct_s1 (id));\n"
	    "INSERT INTO ct_s1 (id, v) VALUES (1, 'a;b'), (2, 'لوحة');\n"
	    "INSERT INTO ct_s2 (id, s1_id)\n"
	    "    VALUES (1, 2);\n");

	RC_EQ(db, ap_db_exec_script(db, script), AP_DB_OK);
	ck_assert_int_eq(count_rows(db, "SELECT COUNT(*) FROM ct_s1"), 2);
	ck_assert_int_eq(count_rows(db, "SELECT COUNT(*) FROM ct_s1 WHERE v = 'a;b'"), 1);
	ck_assert_int_eq(count_rows(db, "SELECT id FROM ct_s1 WHERE v = 'لوحة'"), 2);
	ck_assert_int_eq(count_rows(db, "SELECT s1_id FROM ct_s2 WHERE id = 1"), 2);
	/* The FK declared in the script is enforced. */
	RC_EQ(db, ap_db_exec(db, "INSERT INTO ct_s2 (id, s1_id) VALUES (2, 77)"),
	      AP_DB_ECONSTRAINT);
}
END_TEST

START_TEST(test_exec_script_stops_at_first_error)
{
	static const char script[] = "INSERT INTO ct_t (k, v) VALUES (1, 'first');\n"
				     "INSERT INTO ct_nosuch (k) VALUES (2);\n"
				     "INSERT INTO ct_t (k, v) VALUES (3, 'third');\n";

	RC_EQ(db, ap_db_exec_script(db, script), AP_DB_EOTHER);
	ck_assert_str_ne(ap_db_errmsg(db), "");
	ck_assert_int_eq(count_rows(db, "SELECT COUNT(*) FROM ct_t WHERE k = 3"), 0);
	RC_EQ(db,
	      ap_db_exec_script(db, "INSERT INTO ct_t (k) VALUES (1);\n"
				    "INSERT INTO ct_t (k, n) VALUES (2, NULL);\n"),
	      AP_DB_ECONSTRAINT);
}
END_TEST

START_TEST(test_exec_helper)
{
	EXEC_OK(db, "INSERT INTO ct_t (k, v) VALUES (1, 'a')");
	EXEC_OK(db, "UPDATE ct_t SET v = 'b' WHERE k = 1");
	/* A query through exec: rows are drained, the result is just OK. */
	EXEC_OK(db, "SELECT k FROM ct_t");
	EXEC_OK(db, "DELETE FROM ct_t WHERE k = 12345");
	ck_assert_int_eq(count_rows(db, "SELECT COUNT(*) FROM ct_t WHERE v = 'b'"), 1);
}
END_TEST

/* Closing a handle with statements still open (one mid-result) releases them. */
START_TEST(test_close_finalizes_open_statements)
{
	struct ap_db *h = open_db(0);
	struct ap_db_stmt *a = NULL, *b = NULL, *c = NULL;

	seed();
	PREPARE_OK(h, "SELECT k FROM ct_t ORDER BY k", &a);
	PREPARE_OK(h, "SELECT v FROM ct_t WHERE k = ?", &b);
	PREPARE_OK(h, "INSERT INTO ct_t (k) VALUES (?)", &c);
	RC_EQ(h, ap_db_step(a), AP_DB_ROW);
	RC_EQ(h, ap_db_bind_text(b, 1, "1", -1), AP_DB_OK);
	ap_db_close(h); /* ASan/valgrind: no leak, no use after free */
	ck_assert_int_eq(count_rows(db, "SELECT COUNT(*) FROM ct_t"), 5);
}
END_TEST

/* ------------------------------------------------------------------ quoting, injection */

static const struct {
	const char *sql; /* inserts v literally and k = ? */
	const char *v;
} quote_rows[] = {
    {"INSERT INTO ct_t (v, k) VALUES ('?', ?)", "?"},
    {"INSERT INTO ct_t (v, k) VALUES ('it''s ?', ?)", "it's ?"},
    {"INSERT INTO ct_t (v, k) VALUES ('?\?', ?)", "?\?"}, /* \? avoids a trigraph */
    {"INSERT INTO ct_t (v, k) VALUES ('$1 ?', ?)", "$1 ?"},
    {"INSERT INTO ct_t (v, k) VALUES ('', ?) -- trailing ? comment", ""},
    {"INSERT INTO ct_t (v, k) VALUES ('a' /* ? */, ?)", "a"},
};

START_TEST(test_placeholders_in_quotes_table)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc;

	PREPARE_OK(db, quote_rows[_i].sql, &st);
	/* Exactly one real placeholder. */
	RC_EQ(db, ap_db_bind_int64(st, 2, 1), AP_DB_EINVAL);
	RC_EQ(db, ap_db_bind_int64(st, 1, 77), AP_DB_OK);
	rc = ap_db_step(st);
	ck_assert_msg(rc == AP_DB_DONE, "%s: %s (%s)", quote_rows[_i].sql, ap_db_rc_str(rc),
		      ap_db_errmsg(db));
	ap_db_finalize(st);

	PREPARE_OK(db, "SELECT v AS \"q?\", k FROM ct_t WHERE k = ? AND v = '?' OR k = ?", &st);
	RC_EQ(db, ap_db_bind_int64(st, 1, -1), AP_DB_OK);
	RC_EQ(db, ap_db_bind_int64(st, 2, 77), AP_DB_OK);
	RC_EQ(db, ap_db_step(st), AP_DB_ROW);
	ck_assert_str_eq(ap_db_col_name(st, 0), "q?");
	ck_assert_str_eq(ap_db_col_text(st, 0, NULL), quote_rows[_i].v);
	ck_assert_int_eq(ap_db_col_int64(st, 1), 77);
	RC_EQ(db, ap_db_step(st), AP_DB_DONE);
	ap_db_finalize(st);
}
END_TEST

static const char *const payloads[] = {
    "x'); DROP TABLE ct_t; --",
    "' OR '1'='1",
    "\\'; DROP TABLE ct_t; -- ",
    "\\",
    "'",
    "\"; DELETE FROM ct_t; --",
    "$1",
    "?",
    "%s%n%x",
    "1; SELECT pg_sleep(5)",
};

START_TEST(test_binds_cannot_inject)
{
	struct ap_db_stmt *ins = NULL, *sel = NULL;
	int64_t ids[AP_NELEM(payloads)];

	RC_EQ(db, ap_db_prepare_insert(db, "INSERT INTO ct_t (k, v) VALUES (?, ?)", "id", &ins),
	      AP_DB_OK);
	for (size_t i = 0; i < AP_NELEM(payloads); i++) {
		RC_EQ(db, ap_db_bind_int64(ins, 1, (int64_t)i), AP_DB_OK);
		RC_EQ(db, ap_db_bind_text(ins, 2, payloads[i], -1), AP_DB_OK);
		RC_EQ(db, ap_db_step(ins), AP_DB_DONE);
		ids[i] = ap_db_last_insert_id(ins);
		RC_EQ(db, ap_db_reset(ins), AP_DB_OK);
	}
	ap_db_finalize(ins);
	/* The table survived and holds every payload verbatim. */
	ck_assert_int_eq(count_rows(db, "SELECT COUNT(*) FROM ct_t"), (int64_t)AP_NELEM(payloads));

	PREPARE_OK(db, "SELECT v FROM ct_t WHERE id = ?", &sel);
	for (size_t i = 0; i < AP_NELEM(payloads); i++) {
		size_t len = 0;

		RC_EQ(db, ap_db_bind_int64(sel, 1, ids[i]), AP_DB_OK);
		RC_EQ(db, ap_db_step(sel), AP_DB_ROW);
		ck_assert_str_eq(ap_db_col_text(sel, 0, &len), payloads[i]);
		ck_assert_uint_eq(len, strlen(payloads[i]));
		RC_EQ(db, ap_db_reset(sel), AP_DB_OK);
	}
	ap_db_finalize(sel);

	/* As a WHERE value a payload matches only its own row. */
	PREPARE_OK(db, "SELECT k FROM ct_t WHERE v = ?", &sel);
	for (size_t i = 0; i < AP_NELEM(payloads); i++) {
		RC_EQ(db, ap_db_bind_text(sel, 1, payloads[i], -1), AP_DB_OK);
		RC_EQ(db, ap_db_step(sel), AP_DB_ROW);
		ck_assert_int_eq(ap_db_col_int64(sel, 0), (int64_t)i);
		RC_EQ(db, ap_db_step(sel), AP_DB_DONE);
		RC_EQ(db, ap_db_reset(sel), AP_DB_OK);
	}
	RC_EQ(db, ap_db_bind_text(sel, 1, "nothing' OR 'a'='a", -1), AP_DB_OK);
	RC_EQ(db, ap_db_step(sel), AP_DB_DONE);
	ap_db_finalize(sel);
}
END_TEST

/* ------------------------------------------------------------------ suite */

/* ------------------------------------------------------------------ reconnect */

static const struct {
	const char *sql;
	bool read_only;
} ro_rows[] = {
    {"SELECT 1", true},
    {"  select v FROM ct_t", true},
    {"\n\t(SELECT 1) UNION (SELECT 2)", true},
    {"-- a comment\nSELECT 1", true},
    {"/* x */ SELECT 1", true},
    {"SELECTED", false},
    {"INSERT INTO ct_t (k) VALUES (1)", false},
    {"UPDATE ct_t SET k = 1", false},
    {"DELETE FROM ct_t WHERE id IN (SELECT id FROM ct_t)", false},
    {"WITH c AS (SELECT 1) SELECT * FROM c", false}, /* may hide a write (PostgreSQL) */
    {"/* unterminated SELECT 1", false},
    {"", false},
};

START_TEST(test_read_only_table)
{
	ck_assert_msg(ap_db_sql_is_read_only(ro_rows[_i].sql) == ro_rows[_i].read_only,
		      "ap_db_sql_is_read_only(\"%s\") should be %d", ro_rows[_i].sql,
		      ro_rows[_i].read_only);
}
END_TEST

/* Connection lost after the server committed an INSERT but before the reply
 * arrived: the write is not run again (it would be written twice). */
START_TEST(test_lost_reply_write_not_repeated)
{
	static const char marker[] = "dup-once-7f3a9c";
	struct proxy px;
	struct ap_db *h = NULL;
	struct ap_db_stmt *st = NULL;
	char dsn[1100], q[128];

	proxy_start(&px, marker, PX_DROP_REPLY);
	dsn_with_port(px.port, dsn, sizeof(dsn));
	RC_EQ(h, open_with(dsn, g_password, 2000, 5000, &h), AP_DB_OK);
	PREPARE_OK(h, "INSERT INTO ct_t (k, v) VALUES (?, ?)", &st);
	RC_EQ(h, ap_db_bind_int64(st, 1, 1), AP_DB_OK);
	RC_EQ(h, ap_db_bind_text(st, 2, marker, -1), AP_DB_OK);
	RC_EQ(h, ap_db_step(st), AP_DB_ECONN);
	ck_assert_msg(proxy_saw(&px, 'D') == 1, "the proxy did not drop the reply");
	snprintf(q, sizeof(q), "SELECT COUNT(*) FROM ct_t WHERE v = '%s'", marker);
	ck_assert_int_eq(count_rows(db, q), 1); /* committed once, not twice */
	ck_assert_int_eq(proxy_saw(&px, 'C'), 1); /* no second attempt */
	/* The handle is usable again: the next statement reconnects. */
	ap_db_finalize(st);
	ck_assert_int_eq(count_rows(h, "SELECT 1"), 1);
	ap_db_close(h);
	proxy_stop(&px);
}
END_TEST

/* The same loss on a SELECT: safe to repeat, so it is, transparently. */
START_TEST(test_lost_reply_read_repeated)
{
	static const char marker[] = "read-again-7f3a9c";
	struct proxy px;
	struct ap_db *h = NULL;
	struct ap_db_stmt *st = NULL;
	char dsn[1100];

	insert_kv(db, 2, marker);
	proxy_start(&px, marker, PX_DROP_REPLY);
	dsn_with_port(px.port, dsn, sizeof(dsn));
	RC_EQ(h, open_with(dsn, g_password, 2000, 5000, &h), AP_DB_OK);
	PREPARE_OK(h, "SELECT k, v FROM ct_t WHERE v = ?", &st);
	RC_EQ(h, ap_db_bind_text(st, 1, marker, -1), AP_DB_OK);
	RC_EQ(h, ap_db_step(st), AP_DB_ROW);
	ck_assert_int_eq(ap_db_col_int64(st, 0), 2);
	ck_assert_str_eq(ap_db_col_text(st, 1, NULL), marker);
	RC_EQ(h, ap_db_step(st), AP_DB_DONE);
	ck_assert_msg(proxy_saw(&px, 'D') == 1, "the proxy did not drop the reply");
	ck_assert_int_eq(proxy_saw(&px, 'C'), 2); /* reconnected once */
	ap_db_finalize(st);
	ap_db_close(h);
	proxy_stop(&px);
}
END_TEST

/* The server closed the connection between requests (restart, idle
 * timeout): noticed before the write is sent, so it runs once and succeeds. */
START_TEST(test_idle_close_reconnects_before_write)
{
	static const char marker[] = "after-idle-7f3a9c";
	struct proxy px;
	struct ap_db *h = NULL;
	struct ap_db_stmt *st = NULL;
	char dsn[1100], q[128];

	proxy_start(&px, marker, PX_PASS);
	dsn_with_port(px.port, dsn, sizeof(dsn));
	RC_EQ(h, open_with(dsn, g_password, 2000, 5000, &h), AP_DB_OK);
	ck_assert_int_eq(count_rows(h, "SELECT 1"), 1);
	PREPARE_OK(h, "INSERT INTO ct_t (k, v) VALUES (?, ?)", &st);
	kill(px.pid, SIGUSR1);
	ck_assert_msg(proxy_wait(&px, 'I', 1, 2000), "the proxy did not close the idle connection");
	usleep(100000); /* the FIN reaches the client */
	RC_EQ(h, ap_db_bind_int64(st, 1, 3), AP_DB_OK);
	RC_EQ(h, ap_db_bind_text(st, 2, marker, -1), AP_DB_OK);
	RC_EQ(h, ap_db_step(st), AP_DB_DONE);
	ck_assert_int_eq(ap_db_changes(st), 1);
	snprintf(q, sizeof(q), "SELECT COUNT(*) FROM ct_t WHERE v = '%s'", marker);
	ck_assert_int_eq(count_rows(db, q), 1);
	ck_assert_int_eq(proxy_saw(&px, 'C'), 2);
	ap_db_finalize(st);
	ap_db_close(h);
	proxy_stop(&px);
}
END_TEST

/* A statement kept from before the server closed the connection is prepared
 * again on the new one. */
START_TEST(test_idle_statement_after_reconnect)
{
	static const char sql[] = "SELECT v FROM ct_t WHERE k = ?";
	struct proxy px;
	struct ap_db *h = NULL;
	struct ap_db_stmt *st = NULL;
	char dsn[1100];

	insert_kv(db, 4, "kept-7f3a9c");
	proxy_start(&px, "kept-7f3a9c", PX_PASS);
	dsn_with_port(px.port, dsn, sizeof(dsn));
	RC_EQ(h, open_with(dsn, g_password, 2000, 5000, &h), AP_DB_OK);
	PREPARE_OK(h, sql, &st);
	RC_EQ(h, ap_db_bind_int64(st, 1, 4), AP_DB_OK);
	RC_EQ(h, ap_db_step(st), AP_DB_ROW);
	ap_db_finalize(st);
	kill(px.pid, SIGUSR1);
	ck_assert_msg(proxy_wait(&px, 'I', 1, 2000), "the proxy did not close the idle connection");
	usleep(100000);
	for (int i = 0; i < 2; i++) {
		PREPARE_OK(h, sql, &st);
		RC_EQ(h, ap_db_bind_int64(st, 1, 4), AP_DB_OK);
		RC_EQ(h, ap_db_step(st), AP_DB_ROW);
		ck_assert_str_eq(ap_db_col_text(st, 0, NULL), "kept-7f3a9c");
		ap_db_finalize(st);
	}
	ck_assert_int_eq(proxy_saw(&px, 'C'), 2);
	ap_db_close(h);
	proxy_stop(&px);
}
END_TEST

static Suite *
db_suite(void)
{
	static char name[64];
	Suite *s;
	TCase *t;
	bool server = g_backend != AP_DB_SQLITE;

	snprintf(name, sizeof(name), "db-%s", ap_db_backend_name(g_backend));
	s = suite_create(name);

	t = tcase_create("connect");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 30);
	tcase_add_test(t, test_open_reports_backend_and_pings);
	tcase_add_test(t, test_backend_and_rc_names);
	tcase_add_loop_test(t, test_bad_dsn_table, 0, (int)AP_NELEM(bad_dsns));
	if (server) {
		tcase_add_test(t, test_wrong_password_is_econn);
		tcase_add_test(t, test_refused_port_is_econn);
		tcase_add_test(t, test_silent_server_connect_timeout);
	} else
		tcase_add_test(t, test_sqlite_unopenable_path_is_econn);
	suite_add_tcase(s, t);

	t = tcase_create("types");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 60);
	tcase_add_loop_test(t, test_int64_round_trip_table, 0, (int)AP_NELEM(int_rows));
	tcase_add_loop_test(t, test_double_round_trip_table, 0, (int)AP_NELEM(double_rows));
	tcase_add_loop_test(t, test_text_round_trip_table, 0, (int)AP_NELEM(text_rows));
	tcase_add_test(t, test_text_bind_length_and_large);
	tcase_add_loop_test(t, test_blob_round_trip_table, 0, (int)AP_NELEM(blob_rows));
	tcase_add_test(t, test_blob_5mib_random);
	tcase_add_test(t, test_null_in_every_column);
	tcase_add_test(t, test_unbound_params_are_null);
	tcase_add_test(t, test_bind_index_out_of_range);
	tcase_add_test(t, test_column_names_and_types);
	suite_add_tcase(s, t);

	t = tcase_create("rows");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 60);
	tcase_add_test(t, test_rows_in_order_then_done);
	tcase_add_test(t, test_reset_and_rebind);
	tcase_add_test(t, test_reset_mid_result_restarts);
	tcase_add_test(t, test_nested_statements);
	tcase_add_test(t, test_hot_statement_1000);
	tcase_add_test(t, test_prepared_cache);
	tcase_add_test(t, test_idle_statement_reused);
	tcase_add_test(t, test_idle_statement_after_ddl);
	tcase_add_test(t, test_insert_ids_increase);
	tcase_add_test(t, test_prepare_insert_rejects_bad_id_column);
	tcase_add_test(t, test_changes_table);
	tcase_add_test(t, test_changes_per_execution);
	suite_add_tcase(s, t);

	t = tcase_create("errors");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 30);
	tcase_add_loop_test(t, test_constraint_table, 0, (int)AP_NELEM(constraint_rows));
	tcase_add_test(t, test_constraint_with_binds);
	tcase_add_loop_test(t, test_bad_sql_is_eother_table, 0, (int)AP_NELEM(bad_sql_rows));
	tcase_add_test(t, test_query_int64_cases);
	tcase_add_test(t, test_query_timeout);
	tcase_add_test(t, test_lock_wait_timeout);
	suite_add_tcase(s, t);

	t = tcase_create("transactions");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 30);
	tcase_add_test(t, test_rollback_after_failed_commit_keeps_the_error);
	tcase_add_test(t, test_rollback_discards);
	tcase_add_test(t, test_commit_keeps_and_others_see_it);
	tcase_add_test(t, test_constraint_in_transaction_then_rollback);
	tcase_add_test(t, test_transaction_misuse);
	tcase_add_test(t, test_unit_is_one_transaction);
	tcase_add_test(t, test_unit_nests_and_survives_a_refused_statement);
	tcase_add_test(t, test_unit_after_a_read_only_refusal_writes_on_a_new_connection);
	tcase_add_test(t, test_unit_pause_commits_at_once);
	suite_add_tcase(s, t);

	t = tcase_create("scripts");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 30);
	tcase_add_test(t, test_exec_script_runs_every_statement);
	tcase_add_test(t, test_exec_script_stops_at_first_error);
	tcase_add_test(t, test_exec_helper);
	tcase_add_test(t, test_close_finalizes_open_statements);
	suite_add_tcase(s, t);

	t = tcase_create("reconnect");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 30);
	tcase_add_loop_test(t, test_read_only_table, 0, (int)AP_NELEM(ro_rows));
	if (server) {
		tcase_add_test(t, test_lost_reply_write_not_repeated);
		tcase_add_test(t, test_lost_reply_read_repeated);
		tcase_add_test(t, test_idle_close_reconnects_before_write);
		tcase_add_test(t, test_idle_statement_after_reconnect);
	}
	suite_add_tcase(s, t);

	t = tcase_create("quoting");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 30);
	tcase_add_loop_test(t, test_placeholders_in_quotes_table, 0, (int)AP_NELEM(quote_rows));
	tcase_add_test(t, test_binds_cannot_inject);
	suite_add_tcase(s, t);
	return s;
}

/* First line of path, without the newline; exits on failure (no skipping). */
static char *
read_password(const char *path)
{
	char buf[4096];
	FILE *f = fopen(path, "re");
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "check_db: %s: %s\n", path, strerror(errno));
		exit(EXIT_FAILURE);
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (buf[0] == '\0') {
		fprintf(stderr, "check_db: %s: empty password file\n", path);
		exit(EXIT_FAILURE);
	}
	return strdup(buf);
}

static void
remove_tmpdir(void)
{
	DIR *d = opendir(g_tmpdir);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
	rmdir(g_tmpdir);
}

int
main(void)
{
	const char *dsn = getenv("AAPANEL_TEST_DSN");
	const char *pwfile = getenv("AAPANEL_TEST_DB_PASSWORD_FILE");
	SRunner *sr;
	int failed;

	if (pwfile != NULL && pwfile[0] != '\0')
		g_password = read_password(pwfile);
	/* Scratch space for every backend (sqlite DB, unopenable paths). */
	if (mkdtemp(g_tmpdir) == NULL) {
		perror("check_db: mkdtemp");
		return EXIT_FAILURE;
	}
	if (dsn != NULL && dsn[0] != '\0')
		snprintf(g_dsn, sizeof(g_dsn), "%s", dsn);
	else
		snprintf(g_dsn, sizeof(g_dsn), "sqlite:%s/t.db", g_tmpdir);
	if (!ap_db_dsn_backend(g_dsn, &g_backend)) {
		fprintf(stderr, "check_db: AAPANEL_TEST_DSN has an unknown scheme\n");
		remove_tmpdir();
		return EXIT_FAILURE;
	}

	sr = srunner_create(db_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	remove_tmpdir();
	free(g_password);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
