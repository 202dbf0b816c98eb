/* log.c — one line per event: time, level, role[pid], request id, function, message. */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aapanel/log.h"

static const char *log_role = "aapanel";
static enum ap_log_level log_min = AP_LOG_INFO;
static int log_fd = 2;
static char log_reqid[40];
/* fd is journald's stream (JOURNAL_STREAM names its device:inode): each line starts with its
 * syslog priority ("<3>"), which journald takes as the entry's PRIORITY and strips. */
static bool log_journal;

static const char *const level_name[AP_LOG__MAX] = { "debug", "info", "warn", "error" };
static const char *const syslog_prefix[AP_LOG__MAX] = { "<7>", "<6>", "<4>", "<3>" };

void
ap_log_init(const char *role, enum ap_log_level min, int fd)
{
	log_role = role;
	log_min = min;
	log_fd = fd;
	log_journal = false;
	{
		const char *js = getenv("JOURNAL_STREAM");
		unsigned long long dev, ino;
		struct stat st;

		if (js != NULL && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && fstat(fd, &st) == 0 &&
		    (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino)
			log_journal = true;
	}
}

void
ap_log_set_level(enum ap_log_level min)
{
	log_min = min;
}

bool
ap_log_level_parse(const char *s, enum ap_log_level *out)
{
	for (int i = 0; i < AP_LOG__MAX; i++) {
		if (strcmp(s, level_name[i]) == 0) {
			*out = (enum ap_log_level)i;
			return true;
		}
	}
	return false;
}

const char *
ap_log_reqid(void)
{
	return log_reqid[0] ? log_reqid : NULL;
}

void
ap_log_set_reqid(const char *id)
{
	if (id == NULL)
		log_reqid[0] = '\0';
	else
		snprintf(log_reqid, sizeof(log_reqid), "%s", id);
}

void
ap_log(enum ap_log_level lvl, const char *func, const char *fmt, ...)
{
	char line[2048];
	char ts[32];
	struct timespec now;
	struct tm tm;
	va_list ap;
	int n, m;

	if (lvl < log_min || lvl >= AP_LOG__MAX)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "%s%s.%03ldZ %s %s[%d]%s%s %s: ",
	    log_journal ? syslog_prefix[lvl] : "", ts,
	    now.tv_nsec / 1000000, level_name[lvl], log_role, (int)getpid(),
	    log_reqid[0] ? " req=" : "", log_reqid, func);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	/* One write per line so lines from several processes never interleave. */
	for (int i = 0; i < n; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	line[n++] = '\n';
	(void)!write(log_fd, line, (size_t)n);
}
