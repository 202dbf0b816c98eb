/*
 * storage.c — can the panel write (storage.h). regression: with a full
 * disk or a read-only database /healthz said "ok" (it only read), nothing
 * was logged, and every change failed with a 500.
 */
#include <sys/statvfs.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sys/stat.h>
#include <time.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "aapanel/log.h"
#include "aapanel/storage.h"

/* This process's last answer. */
static struct ap_storage last;
static bool have_last;

const char *
ap_storage_db_name(enum ap_storage_db s)
{
	switch (s) {
	case AP_STORAGE_DB_OK: return "ok";
	case AP_STORAGE_DB_DOWN: return "down";
	case AP_STORAGE_DB_READONLY: return "read-only";
	}
	return "down";
}

/* run_dir/storage-NAME: present while an episode of NAME lasts. */
static void
marker(const struct ap_config *cfg, const char *name, char *path, size_t n)
{
	snprintf(path, n, "%s/storage-%s", cfg->run_dir, name);
}

/*
 * An episode of name starts (on) or ends (off): true when this process is
 * the one to say so. The marker file is created exclusively, holding what
 * it is about, so one process says the start; it is removed by whichever
 * process next finds the storage fine, which says the end (*lasted: the
 * seconds since the marker was made, what: what it held), whether or not it
 * saw the start (workers come and go). When the marker cannot be made at
 * all (run_dir on the same full or read-only storage), every process that
 * sees the start says it.
 */
static bool
episode(const struct ap_config *cfg, const char *name, bool on, const char *about, double *lasted,
    char *what, size_t whatlen)
{
	char path[4096];
	struct stat st;
	int fd;

	marker(cfg, name, path, sizeof(path));
	if (!on) {
		if (stat(path, &st) != 0)
			return false;
		if (lasted)
			*lasted = difftime(time(NULL), st.st_mtime);
		if (what && whatlen && (fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
			ssize_t n = read(fd, what, whatlen - 1);

			what[n > 0 ? n : 0] = '\0';
			close(fd);
		}
		return unlink(path) == 0;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0) {
		if (about && write(fd, about, strlen(about)) < 0) {
			/* the marker is what counts; its text only helps the message at the end */
		}
		close(fd);
		return true;
	}
	return errno != EEXIST;
}

/* dir has less than AP_STORAGE_MIN_FREE bytes or no inode for an unprivileged user. */
static bool
dir_full(const char *dir, unsigned long long *free_bytes)
{
	struct statvfs v;

	if (dir == NULL || dir[0] == '\0' || statvfs(dir, &v) != 0)
		return false; /* nothing to say about a directory we cannot see */
	*free_bytes = (unsigned long long)v.f_bavail * v.f_frsize;
	return *free_bytes < AP_STORAGE_MIN_FREE || (v.f_files > 0 && v.f_favail == 0);
}

static void
check_disk(const struct ap_config *cfg, struct ap_db *db, struct ap_storage *s)
{
	const char *file = ap_db_file(db);
	char dbdir[4096] = "", tmp[4096];
	const char *dirs[3];
	size_t n = 0;

	if (file != NULL) {
		snprintf(tmp, sizeof(tmp), "%s", file);
		snprintf(dbdir, sizeof(dbdir), "%s", dirname(tmp));
		dirs[n++] = dbdir;
	}
	dirs[n++] = cfg->var_dir;
	if (cfg->log_file && cfg->log_file[0])
		dirs[n++] = cfg->log_dir;
	for (size_t i = 0; i < n; i++) {
		unsigned long long fb = 0;

		if (dir_full(dirs[i], &fb)) {
			s->disk_full = true;
			s->free = fb;
			snprintf(s->full_dir, sizeof(s->full_dir), "%s", dirs[i]);
			return;
		}
	}
}

/*
 * Log where the state changed since this process's last answer. At start
 * there is no last answer: what is wrong is said whatever the markers say
 * (they may be left from an earlier run), and they are made to match.
 */
static void
tell(const struct ap_config *cfg, struct ap_db *db, const struct ap_storage *now, bool at_start)
{
	bool was_ro = have_last && last.db == AP_STORAGE_DB_READONLY;
	bool was_full = have_last && last.disk_full;
	bool is_ro = now->db == AP_STORAGE_DB_READONLY;
	double lasted = 0;
	char dir[256] = "";

	if (at_start) {
		/* an earlier run's episodes: over if all is well now, said again if not */
		if (!is_ro)
			episode(cfg, "readonly", false, NULL, NULL, NULL, 0);
		if (!now->disk_full)
			episode(cfg, "full", false, NULL, NULL, NULL, 0);
	}
	if (is_ro && !was_ro) {
		if (episode(cfg, "readonly", true, "the database", NULL, NULL, 0) || at_start)
			AP_WARN("storage: the database refuses writes (%s): every change is answered 503 "
				"until it accepts them again",
			    db ? ap_db_errmsg(db) : "no connection");
	} else if (now->db == AP_STORAGE_DB_OK && episode(cfg, "readonly", false, NULL, &lasted, NULL, 0)) {
		AP_INFO("storage: the database accepts writes again, after %.0f s", lasted);
	}
	if (now->disk_full && !was_full) {
		if (episode(cfg, "full", true, now->full_dir, NULL, NULL, 0) || at_start)
			AP_WARN("storage: %s is full (%llu bytes free, the panel needs %d): changes fail with "
				"503 until space is freed",
			    now->full_dir, now->free, AP_STORAGE_MIN_FREE);
	} else if (!now->disk_full && episode(cfg, "full", false, NULL, &lasted, dir, sizeof(dir))) {
		AP_INFO("storage: %s has room again, after %.0f s", dir[0] ? dir : "the disk", lasted);
	}
}

void
ap_storage_check(const struct ap_config *cfg, struct ap_db *db, bool at_start, struct ap_storage *out)
{
	uint64_t t = ap_now_ms();
	struct ap_storage s;
	enum ap_db_rc rc;

	/* Whether it answers is asked every time (a read, as cheap as a request);
	 * only the write probe and the free space come from the cache. */
	if (db == NULL || ap_db_ping(db) != AP_DB_OK) {
		memset(out, 0, sizeof(*out));
		out->db = AP_STORAGE_DB_DOWN;
		out->checked_ms = t;
		return;
	}
	if (!at_start && have_last && last.db != AP_STORAGE_DB_DOWN &&
	    t - last.checked_ms < AP_STORAGE_PROBE_MS) {
		*out = last;
		return;
	}
	memset(&s, 0, sizeof(s));
	s.checked_ms = t;
	{
		rc = ap_db_probe_write(db);
		if (rc == AP_DB_EREADONLY)
			s.db = AP_STORAGE_DB_READONLY;
		else if (rc == AP_DB_EFULL)
			s.disk_full = true;
		else if (rc != AP_DB_OK)
			s.db = AP_STORAGE_DB_DOWN;
	}
	check_disk(cfg, db, &s);
	if (s.disk_full && s.full_dir[0] == '\0')
		snprintf(s.full_dir, sizeof(s.full_dir), "the database's storage");
	tell(cfg, db, &s, at_start && !have_last);
	last = s;
	have_last = true;
	*out = s;
}
