/*
 * dbio.c — `aapanel database export|import`: a database's dump through the
 * helper's jobs (src/data/dbio.c), the same work as the database page's
 * Export and Import, audited the same way (docs/databases.md).
 *
 *   aapanel database export NAME [--server S] [--out FILE] [--format sql|sql.gz]
 *   aapanel database import NAME FILE [--server S]
 *   aapanel database history NAME [--server S] [--json]
 *
 * --server may be left out when one server has a database of that name.
 * export writes FILE (FILE.part first, renamed when complete) or stdout;
 * its format is --format, else from FILE's name (.sql.gz or .sql), else
 * sql. import reads FILE (gzip is recognised by its first bytes), waits
 * for the job and prints what it did; a failed import prints the client's
 * error line. Exit 0, 2 for invalid input (field and reason on stderr), 1
 * otherwise (a failed job included).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aapanel/cli.h"
#include "aapanel/databases.h"
#include "aapanel/dbhistory.h"
#include "aapanel/dbio.h"
#include "aapanel/dbnames.h"

static const char usage[] =
    "usage: aapanel database export NAME [--server SERVER] [--out FILE] [--format sql|sql.gz]\n"
    "       aapanel database import NAME FILE [--server SERVER]\n"
    "       aapanel database history NAME [--server SERVER] [--json]\n";

struct one {
	const char *name;
	struct ap_database d;
	int n;
	int64_t last;
	char servers[512]; /* the servers that have one, "a, b" */
};

static bool
match(void *p, const struct ap_database *d)
{
	struct one *o = p;

	o->last = d->id;
	if (strcmp(d->name, o->name) == 0) {
		size_t len = strlen(o->servers);

		if (o->n++ == 0)
			o->d = *d;
		snprintf(o->servers + len, sizeof(o->servers) - len, "%s%s", len ? ", " : "", d->server);
	}
	return true;
}

/* The database by name (and server when given); exit status 0, else 2 or 1 after saying why:
 * a name that several servers have, without a server, is exit 2 naming them (cli.h). */
int
ap_cli_database_pick(const char *cmd, struct ap_sites_env *env, const char *server, const char *name,
    struct ap_database *d)
{
	struct one o = { .name = name };
	struct ap_problem pb;
	bool more = true;
	int64_t after = 0;

	if (server != NULL) {
		if (ap_database_find(env, server, name, d, &pb) != AP_OK)
			return ap_cli_problem(cmd, &pb);
		return 0;
	}
	while (more) {
		if (ap_database_page(env, 0, after, 500, match, &o, &more, &pb) != AP_OK)
			return ap_cli_problem(cmd, &pb);
		after = o.last;
	}
	if (o.n == 0) {
		fprintf(stderr, "aapanel %s: name: no such database\n", cmd);
		return 2;
	}
	if (o.n > 1) {
		fprintf(stderr, "aapanel %s: server: %d servers have a database %s (%s); name one with --server\n",
		    cmd, o.n, name, o.servers);
		return 2;
	}
	*d = o.d;
	return 0;
}

static void
audit(struct ap_db *db, const char *action, const struct ap_database *d, const char *outcome,
    struct json_object *after, const struct ap_problem *pb)
{
	json_object_object_add(after, "server", json_object_new_string(d->server));
	if (pb != NULL) {
		json_object_object_add(after, "error", json_object_new_string(ap_pb_name(pb->code)));
		json_object_object_add(after, "reason", json_object_new_string(pb->reason));
	}
	ap_cli_audit_write(db, action, d->name, outcome, NULL,
	    json_object_to_json_string_ext(after, JSON_C_TO_STRING_PLAIN));
	json_object_put(after);
}

/* Who the history says started it (as the audit log's actor). */
static const char *
actor(void)
{
	static char a[80];
	struct passwd *pw = getpwuid(getuid());

	snprintf(a, sizeof(a), "cli:%s", pw ? pw->pw_name : "unknown");
	return a;
}

static void
record(struct ap_sites_env *env, const struct ap_database *d, const char *kind, const char *format,
    int64_t job, int64_t size, const char *sha, const struct ap_problem *failed)
{
	struct ap_problem pb;

	if (ap_dbhist_add(env, d, kind, format, job, actor(), size, sha, failed, &pb) != AP_OK)
		fprintf(stderr, "aapanel database %s: not recorded in the history: %s\n", kind, pb.reason);
}

static int
do_history(const char *cmd, struct ap_sites_env *env, const struct ap_database *d, bool json)
{
	static struct ap_dbhist_row rows[100];
	struct ap_problem pb;
	struct json_object *arr;
	int n = ap_dbio_history(env, d, rows, (int)AP_NELEM(rows), &pb);

	if (n < 0)
		return ap_cli_problem(cmd, &pb);
	if (!json) {
		printf("%-6s %-20s %-7s %-7s %-16s %12s %-8s %s\n", "ID", "STARTED", "KIND", "FORMAT", "BY", "SIZE",
		    "RESULT", "ERROR");
		for (int i = 0; i < n; i++) {
			char when[32];
			time_t t = (time_t)rows[i].started_at;
			struct tm tm;

			char size[24] = "-";

			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
			if (rows[i].size >= 0)
				snprintf(size, sizeof(size), "%lld", (long long)rows[i].size);
			printf("%-6lld %-20s %-7s %-7s %-16s %12s %-8s %s\n", (long long)rows[i].id, when, rows[i].kind,
			    rows[i].format, rows[i].actor, size, rows[i].result, rows[i].error);
		}
		return 0;
	}
	arr = json_object_new_array();
	for (int i = 0; i < n; i++) {
		const struct ap_dbhist_row *r = &rows[i];
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "id", json_object_new_int64(r->id));
		json_object_object_add(o, "kind", json_object_new_string(r->kind));
		json_object_object_add(o, "format", json_object_new_string(r->format));
		json_object_object_add(o, "job", r->job > 0 ? json_object_new_int64(r->job) : NULL);
		json_object_object_add(o, "actor", json_object_new_string(r->actor));
		json_object_object_add(o, "started", json_object_new_int64(r->started_at));
		json_object_object_add(o, "finished", r->finished_at > 0 ? json_object_new_int64(r->finished_at) : NULL);
		json_object_object_add(o, "size", r->size >= 0 ? json_object_new_int64(r->size) : NULL);
		json_object_object_add(o, "sha256", r->sha256[0] ? json_object_new_string(r->sha256) : NULL);
		json_object_object_add(o, "result", json_object_new_string(r->result));
		json_object_object_add(o, "error", r->error[0] ? json_object_new_string(r->error) : NULL);
		json_object_array_add(arr, o);
	}
	{
		struct json_object *top = json_object_new_object();

		json_object_object_add(top, "database", json_object_new_string(d->name));
		json_object_object_add(top, "server", json_object_new_string(d->server));
		json_object_object_add(top, "items", arr);
		puts(json_object_to_json_string_ext(top, JSON_C_TO_STRING_PLAIN));
		json_object_put(top);
	}
	return 0;
}

static ssize_t
fd_rd(void *c, void *buf, size_t n)
{
	int fd = *(int *)c;
	ssize_t r;

	do {
		r = read(fd, buf, n);
	} while (r < 0 && errno == EINTR);
	return r;
}

static bool
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* The job until it ended; 0 when done, else 1 with the reason on stderr. */
static int
wait_job(const char *cmd, struct ap_sites_env *env, const struct ap_database *d, int64_t job,
    struct json_object **st)
{
	struct ap_problem pb;
	struct json_object *v;
	const char *state;

	if (ap_dbio_job_wait(env, d, job, env->cfg->helper_job_timeout * 1000 + 5000, st, &pb) != AP_OK)
		return ap_cli_problem(cmd, &pb);
	state = json_object_object_get_ex(*st, "state", &v) ? json_object_get_string(v) : "";
	if (strcmp(state, "done") == 0)
		return 0;
	fprintf(stderr, "aapanel %s: job %lld %s: %s\n", cmd, (long long)job, state,
	    json_object_object_get_ex(*st, "error", &v) && v ? json_object_get_string(v) : "no reason given");
	return 1;
}

static int
do_export(const char *cmd, struct ap_sites_env *env, const struct ap_database *d, const char *out,
    const char *format)
{
	struct json_object *st = NULL, *a = json_object_new_object();
	char fmt[16], sha[65], *part = NULL;
	struct ap_problem pb;
	int64_t job, size = 0, got = 0;
	int fd = -1, ofd = STDOUT_FILENO, status;
	static char buf[128 * 1024];

	json_object_object_add(a, "format", json_object_new_string(format));
	ap_cli_change(env->db); /* the history row and the audit row at once */
	if (ap_dbio_export_start(env, d, format, &job, &pb) != AP_OK) {
		record(env, d, "export", format, 0, 0, NULL, &pb);
		audit(env->db, "database.export", d, "failed", a, &pb);
		return ap_cli_problem(cmd, &pb);
	}
	record(env, d, "export", format, job, 0, NULL, NULL);
	json_object_object_add(a, "job", json_object_new_int64(job));
	audit(env->db, "database.export", d, "ok", json_object_get(a), NULL);
	if ((status = wait_job(cmd, env, d, job, &st)) != 0)
		goto out;
	if (ap_dbio_export_open(env, d, job, &fd, &size, fmt, sizeof(fmt), sha, &pb) != AP_OK) {
		status = ap_cli_problem(cmd, &pb);
		goto out;
	}
	if (out != NULL) {
		part = ap_xasprintf("%s.part", out);
		ofd = open(part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (ofd < 0) {
			fprintf(stderr, "aapanel %s: out: %s: %s\n", cmd, part, strerror(errno));
			status = 1;
			goto out;
		}
	}
	for (;;) {
		ssize_t r = fd_rd(&fd, buf, sizeof(buf));

		if (r == 0)
			break;
		if (r < 0 || !write_all(ofd, buf, (size_t)r)) {
			fprintf(stderr, "aapanel %s: the dump could not be copied: %s\n", cmd, strerror(errno));
			status = 1;
			goto out;
		}
		got += r;
	}
	if (got != size || (out != NULL && (fsync(ofd) != 0 || rename(part, out) != 0))) {
		fprintf(stderr, "aapanel %s: the dump is incomplete (%lld of %lld bytes)\n", cmd,
		    (long long)got, (long long)size);
		status = 1;
		goto out;
	}
	{
		struct json_object *b = json_object_new_object();

		json_object_object_add(b, "job", json_object_new_int64(job));
		json_object_object_add(b, "format", json_object_new_string(fmt));
		json_object_object_add(b, "size", json_object_new_int64(size));
		json_object_object_add(b, "sha256", json_object_new_string(sha));
		audit(env->db, "database.download", d, "ok", b, NULL);
	}
	if (out != NULL)
		fprintf(stderr, "database %s exported to %s (%s, %lld bytes, sha256 %s)\n", d->name, out, fmt,
		    (long long)size, sha);
	status = 0;
out:
	if (ofd >= 0 && ofd != STDOUT_FILENO)
		close(ofd);
	if (status != 0 && part != NULL)
		unlink(part);
	free(part);
	if (fd >= 0)
		close(fd);
	json_object_put(st);
	json_object_put(a);
	return status;
}

static int
do_import(const char *cmd, struct ap_sites_env *env, const struct ap_database *d, const char *file)
{
	struct json_object *st = NULL, *a, *r, *v;
	unsigned char magic[2] = { 0, 0 };
	const char *format;
	struct ap_problem pb;
	int64_t job, size = 0;
	char sha[65];
	int fd, status;

	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "aapanel %s: file: %s: %s\n", cmd, file, strerror(errno));
		return 2;
	}
	format = pread(fd, magic, 2, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b ? "sql.gz" : "sql";
	a = json_object_new_object();
	json_object_object_add(a, "format", json_object_new_string(format));
	ap_cli_change(env->db);
	if (ap_dbio_import_start(env, d, format, fd_rd, &fd, env->cfg->databases_import_max, &job, &size,
		sha, &pb) != AP_OK) {
		close(fd);
		record(env, d, "import", format, 0, size, NULL, &pb);
		audit(env->db, "database.import", d, "failed", a, &pb);
		return ap_cli_problem(cmd, &pb);
	}
	close(fd);
	record(env, d, "import", format, job, size, sha, NULL);
	json_object_object_add(a, "size", json_object_new_int64(size));
	json_object_object_add(a, "sha256", json_object_new_string(sha));
	json_object_object_add(a, "job", json_object_new_int64(job));
	audit(env->db, "database.import", d, "ok", a, NULL);
	if ((status = wait_job(cmd, env, d, job, &st)) == 0) {
		int64_t bytes = json_object_object_get_ex(st, "result", &r) && r &&
			json_object_object_get_ex(r, "bytes", &v) ? json_object_get_int64(v) : 0;

		printf("database %s: imported %s (%s, %lld bytes, %lld bytes of SQL, sha256 %s)\n", d->name,
		    file, format, (long long)size, (long long)bytes, sha);
	}
	json_object_put(st);
	return status;
}

int
ap_cli_database_dbio(const struct ap_config *cfg, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "out", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct ap_sites_env env = { .cfg = cfg };
	const char *sub = argv[1], *server = NULL, *out = NULL, *format = NULL, *name, *file = NULL;
	struct ap_database d;
	bool exp = strcmp(sub, "export") == 0, hist = strcmp(sub, "history") == 0, json = false;
	char cmd[32];
	int status, ch;

	snprintf(cmd, sizeof(cmd), "database %s", sub);
	optind = 0;
	while ((ch = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
		switch (ch) {
		case 's': server = optarg; break;
		case 'o': out = optarg; break;
		case 'f': format = optarg; break;
		case 'j': json = true; break;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (argc - 1 - optind != (exp || hist ? 1 : 2) || (!exp && (out != NULL || format != NULL)) ||
	    (json && !hist)) {
		fputs(usage, stderr);
		return 2;
	}
	name = argv[optind + 1];
	if (!exp && !hist)
		file = argv[optind + 2];
	if (ap_check_db_ident(name, strlen(name)) != NULL) {
		fprintf(stderr, "aapanel %s: name: %s\n", cmd, ap_check_db_ident(name, strlen(name)));
		return 2;
	}
	if (format == NULL && out != NULL) {
		size_t n = strlen(out);

		format = n > 7 && strcmp(out + n - 7, ".sql.gz") == 0 ? "sql.gz" : "sql";
	}
	if (format == NULL)
		format = "sql";
	if (!ap_dbio_format_ok(format)) {
		fprintf(stderr, "aapanel %s: format: must be sql or sql.gz\n", cmd);
		return 2;
	}
	if ((env.db = ap_cli_db_open(cfg)) == NULL)
		return 1;
	env.helper = ap_helper_client_new(cfg->helper_socket, cfg->helper_timeout_ms, 1 << 20);
	if ((status = ap_cli_database_pick(cmd, &env, server, name, &d)) == 0)
		status = hist ? do_history(cmd, &env, &d, json)
		    : exp ? do_export(cmd, &env, &d, out, format) : do_import(cmd, &env, &d, file);
	ap_helper_client_free(env.helper);
	ap_db_close(env.db);
	return status;
}
