/*
 * ops_renewals.c — what certbot's own schedule did (docs/certificates.md,
 * "Renewals by certbot's schedule"):
 *
 *   cert.lineages  every lineage certbot keeps (<certbot_dir>/renewal/NAME.conf)
 *                  with the facts of its live certificate (serial, issuer,
 *                  names, validity; renewed_at: when certbot wrote the file
 *                  nginx reads), and the renewal failures certbot logged in
 *                  <certbot_dir>/logs/letsencrypt.log* since a time
 *
 * certbot's files are root's (0700 logs, 0700 archive), so the panel asks
 * here. Nothing of a key is read: only fullchain.pem and the logs. The
 * failure is certbot's own line (certbot/_internal/renewal.py, certbot
 * 2.1 in Debian 12):
 *
 *   2026-12-01 15:20:01,123:ERROR:certbot._internal.renewal:Failed to renew
 *   certificate NAME with error: REASON
 *
 * followed by the lines of REASON that have no time stamp; the CA's problems
 * ("Domain: x", "Type: y", "Detail: z", which certbot notifies and logs for
 * the lineage being processed) are added to REASON. A failure's time is its
 * stamp (certbot's local time, read with the helper's: the same machine).
 * certbot rotates its log at each run (letsencrypt.log the newest, .1 the
 * one before, ...) unless max-log-backups is 0, when it appends: either
 * way the files are read newest first while their mtime is at or after
 * since, and each file's lines before since are skipped.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aapanel/certcheck.h"
#include "ops.h"
#include "valid.h"

#define LINEAGES_MAX 2000
#define LOG_FILES_MAX 32          /* newest runs looked at */
#define LOG_BYTES_MAX (2 << 20)   /* of each (certbot rolls over at 1 MiB) */
#define PEM_MAX (64 * 1024)
#define REASON_MAX 1024

enum { CL_SINCE, CL__MAX };
const struct ap_field ap_ops_cert_lineages_args[CL__MAX + 1] = {
	[CL_SINCE] = { .name = "since", .type = AP_FIELD_INT, .min = 0, .max = INT64_MAX,
	    .desc = "only the logs of runs that ended at or after this Unix time" },
	[CL__MAX] = AP_FIELD_END,
};

static const char *
config_dir(const struct ap_config *c)
{
	return c->certs_certbot_dir[0] ? c->certs_certbot_dir : "/etc/letsencrypt";
}

static const char *
logs_dir(const struct ap_config *c, struct ap_arena *a)
{
	return c->certs_certbot_dir[0] ? ap_arena_printf(a, "%s/logs", c->certs_certbot_dir)
				       : "/var/log/letsencrypt";
}

/* Up to max bytes of fd (the end when it is longer) into b. */
static void
read_fd(int fd, size_t max, struct ap_buf *b)
{
	struct stat st;
	char chunk[8192];
	ssize_t n;

	if (fstat(fd, &st) == 0 && st.st_size > (off_t)max)
		lseek(fd, st.st_size - (off_t)max, SEEK_SET);
	while (b->len < max && (n = read(fd, chunk, sizeof(chunk))) > 0)
		ap_buf_append(b, chunk, (size_t)n);
}

/* One lineage's live certificate into the array (skipped when it cannot be read). */
static void
lineage(struct helper_ctx *ctx, const char *name, struct json_object *arr)
{
	const char *path = ap_arena_printf(ctx->arena, "%s/live/%s/fullchain.pem", config_dir(ctx->cfg), name);
	struct ap_buf b = { 0 };
	struct ap_cert_info in;
	struct json_object *o;
	struct stat st;
	char why[128];
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return;
	}
	read_fd(fd, PEM_MAX, &b);
	close(fd);
	if (ap_cert_info_pem(b.data, b.len, &in, why, sizeof(why)) == AP_OK) {
		o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(name));
		json_object_object_add(o, "names", json_object_new_string(in.names));
		json_object_object_add(o, "issuer", json_object_new_string(in.issuer));
		json_object_object_add(o, "serial", json_object_new_string(in.serial));
		json_object_object_add(o, "not_before", json_object_new_int64(in.not_before));
		json_object_object_add(o, "not_after", json_object_new_int64(in.not_after));
		json_object_object_add(o, "renewed_at", json_object_new_int64((int64_t)st.st_mtime));
		json_object_array_add(arr, o);
	}
	ap_buf_free(&b);
}

/* Does line l (n bytes) start with certbot's time stamp, "YYYY-MM-DD HH:MM:SS,mmm:"? */
static bool
stamped(const char *l, size_t n)
{
	static const char shape[] = "0000-00-00 00:00:00,000:";

	if (n < sizeof(shape) - 1)
		return false;
	for (size_t i = 0; i < sizeof(shape) - 1; i++)
		if (shape[i] == '0' ? (l[i] < '0' || l[i] > '9') : l[i] != shape[i])
			return false;
	return true;
}

/* Append text (n bytes, blanks squeezed) to dst (REASON_MAX) with sep before it when dst has some. */
static void
add_text(char *dst, const char *sep, const char *t, size_t n)
{
	size_t l = strlen(dst);

	while (n > 0 && (*t == ' ' || *t == '\t'))
		t++, n--;
	while (n > 0 && (t[n - 1] == ' ' || t[n - 1] == '\r' || t[n - 1] == '\t'))
		n--;
	if (n == 0)
		return;
	if (l > 0 && l + strlen(sep) < REASON_MAX - 1) {
		memcpy(dst + l, sep, strlen(sep));
		l += strlen(sep);
	}
	for (size_t i = 0; i < n && l < REASON_MAX - 1; i++) {
		unsigned char ch = (unsigned char)t[i];

		if (ch == ' ' && l > 0 && dst[l - 1] == ' ')
			continue;
		dst[l++] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
	}
	dst[l] = '\0';
}

struct failure {
	char name[256];
	char reason[REASON_MAX];
	int64_t at;
};

/* n decimal digits at p (stamped() checked they are digits). */
static int
digits(const char *p, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++)
		v = v * 10 + (p[i] - '0');
	return v;
}

/* certbot's stamp (stamped(); local time, as its logging module writes it) as Unix seconds; 0 when out of range. */
static int64_t
stamp_time(const char *l)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = digits(l, 4) - 1900;
	tm.tm_mon = digits(l + 5, 2) - 1;
	tm.tm_mday = digits(l + 8, 2);
	tm.tm_hour = digits(l + 11, 2);
	tm.tm_min = digits(l + 14, 2);
	tm.tm_sec = digits(l + 17, 2);
	tm.tm_isdst = -1;
	if (tm.tm_year < 70 || tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return 0;
	return (int64_t)mktime(&tm);
}

/*
 * A log (text, n bytes; one run or several: certbot rotates at each run
 * unless max-log-backups is 0, then it appends): each "Failed to renew
 * certificate NAME with error: REASON" stamped at or after since into
 * fails, the newest of each lineage kept.
 */
static void
scan_log(const char *text, size_t n, int64_t since, struct failure *fails, size_t *nfails, size_t max)
{
	static const char fail_mark[] = "Failed to renew certificate ";
	static const char with_mark[] = " with error: ";
	char problems[REASON_MAX] = "";
	struct failure *cur = NULL;
	const char *p = text, *end = text + n;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *l = p, *e = nl ? nl : end, *m;
		size_t len = (size_t)(e - l);

		p = nl ? nl + 1 : end;
		if (stamped(l, len)) {
			cur = NULL;
			/* A new lineage is processed, or a new run starts: the problems seen were another's. */
			if ((memmem(l, len, "Processing ", 11) != NULL && memmem(l, len, ".conf", 5) != NULL) ||
			    memmem(l, len, "certbot version:", 16) != NULL)
				problems[0] = '\0';
			if ((m = memmem(l, len, fail_mark, sizeof(fail_mark) - 1)) != NULL) {
				const char *nm = m + sizeof(fail_mark) - 1;
				const char *w = memmem(nm, (size_t)(e - nm), with_mark, sizeof(with_mark) - 1);
				size_t nlen = w ? (size_t)(w - nm) : 0;
				int64_t at = stamp_time(l);
				size_t i;

				if (w == NULL || nlen == 0 || nlen >= sizeof(cur->name) || at < since || at == 0)
					continue;
				for (i = 0; i < *nfails; i++)
					if (strlen(fails[i].name) == nlen && memcmp(fails[i].name, nm, nlen) == 0)
						break;
				if (i < *nfails && fails[i].at > at)
					continue; /* a newer one is known (a later file read before) */
				if (i == *nfails) {
					if (*nfails >= max)
						continue;
					(*nfails)++;
				}
				cur = &fails[i];
				memset(cur, 0, sizeof(*cur));
				memcpy(cur->name, nm, nlen);
				cur->at = at;
				w += sizeof(with_mark) - 1;
				add_text(cur->reason, " ", w, (size_t)(e - w));
				if (problems[0])
					add_text(cur->reason, " ", problems, strlen(problems));
			}
			continue;
		}
		/* A line without a stamp: the message before it goes on. */
		while (len > 0 && (*l == ' ' || *l == '\t'))
			l++, len--;
		if (cur != NULL) {
			add_text(cur->reason, " ", l, len);
		} else if ((len > 7 && strncmp(l, "Domain:", 7) == 0) || (len > 5 && strncmp(l, "Type:", 5) == 0) ||
		    (len > 7 && strncmp(l, "Detail:", 7) == 0)) {
			add_text(problems, strncmp(l, "Domain:", 7) == 0 ? "; " : ", ", l, len);
		}
	}
}

enum ap_err
ap_ops_cert_lineages(struct helper_ctx *ctx)
{
	const struct ap_config *c = ctx->cfg;
	int64_t since = ctx->args[CL_SINCE].present ? ctx->args[CL_SINCE].i : 0, newest = 0;
	struct json_object *arr = json_object_new_array(), *farr = json_object_new_array();
	struct failure *fails = ap_xcalloc(LINEAGES_MAX, sizeof(*fails));
	const char *dir = ap_arena_printf(ctx->arena, "%s/renewal", config_dir(c));
	const char *logs = logs_dir(c, ctx->arena);
	size_t nfails = 0, nlin = 0;
	struct dirent *de;
	DIR *d;

	/* The lineages: renewal/NAME.conf, NAME a host name as the panel gives them. */
	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL && nlin < LINEAGES_MAX) {
			size_t l = strlen(de->d_name);
			char name[256];

			if (l <= 5 || l - 5 >= sizeof(name) || strcmp(de->d_name + l - 5, ".conf") != 0)
				continue;
			memcpy(name, de->d_name, l - 5);
			name[l - 5] = '\0';
			if (ap_valid_domain(name, l - 5) != NULL)
				continue;
			lineage(ctx, name, arr);
			nlin++;
		}
		closedir(d);
	}
	/* The runs since `since`, newest first: letsencrypt.log, .1, .2, ... */
	for (int i = 0; i < LOG_FILES_MAX; i++) {
		const char *path = i == 0 ? ap_arena_printf(ctx->arena, "%s/letsencrypt.log", logs)
					  : ap_arena_printf(ctx->arena, "%s/letsencrypt.log.%d", logs, i);
		struct ap_buf b = { 0 };
		struct stat st;
		int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

		if (fd < 0)
			break;
		if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (int64_t)st.st_mtime < since) {
			close(fd);
			break;
		}
		if ((int64_t)st.st_mtime > newest)
			newest = (int64_t)st.st_mtime;
		read_fd(fd, LOG_BYTES_MAX, &b);
		close(fd);
		if (b.len > 0)
			scan_log(b.data, b.len, since, fails, &nfails, LINEAGES_MAX);
		ap_buf_free(&b);
	}
	for (size_t i = 0; i < nfails; i++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(fails[i].name));
		json_object_object_add(o, "reason", json_object_new_string(fails[i].reason));
		json_object_object_add(o, "at", json_object_new_int64(fails[i].at));
		json_object_array_add(farr, o);
	}
	free(fails);
	json_object_object_add(ctx->result, "lineages", arr);
	json_object_object_add(ctx->result, "failures", farr);
	json_object_object_add(ctx->result, "log_at", json_object_new_int64(newest));
	return AP_OK;
}
