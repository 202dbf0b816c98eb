/*
 * sitefs.c — directories, bounded reads and atomic swaps beneath the sandbox
 * root (sitefs.h).
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/openat2.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sandbox.h"
#include "sitefs.h"

#define TREE_DEPTH_MAX 64

enum ap_err
ap_fs_dir(int rootfd, const char *rel, bool create, mode_t mode, int *fd, const char **why)
{
	char buf[PATH_MAX];
	size_t n = strlen(rel);
	enum ap_err rc;

	*fd = -1;
	rc = ap_sandbox_open(rootfd, rel, O_RDONLY | O_DIRECTORY, 0, fd, why);
	if (rc != AP_ERR_NOTFOUND || !create)
		return rc;
	if (n == 0 || n >= sizeof(buf)) {
		*why = "must be a path of 1 to 4095 bytes";
		return AP_ERR_INVAL;
	}
	memcpy(buf, rel, n + 1);
	/* Each prefix resolved beneath the root again: a symlink met on the way cannot lead out. */
	for (char *p = buf;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char save = *p;
		char *slash;
		int pfd = -1;

		*p = '\0';
		slash = strrchr(buf, '/');
		if (slash == NULL) {
			if (mkdirat(rootfd, buf, mode) != 0 && errno != EEXIST)
				goto io;
		} else {
			*slash = '\0';
			rc = ap_sandbox_open(rootfd, buf, O_RDONLY | O_DIRECTORY, 0, &pfd, why);
			*slash = '/';
			if (rc != AP_OK)
				return rc;
			if (mkdirat(pfd, slash + 1, mode) != 0 && errno != EEXIST) {
				close(pfd);
				goto io;
			}
			close(pfd);
		}
		*p = save;
		if (save == '\0')
			break;
	}
	return ap_sandbox_open(rootfd, rel, O_RDONLY | O_DIRECTORY, 0, fd, why);
io:
	*why = "cannot be created";
	return AP_ERR_IO;
}

static int
open_strict(int base, const char *rel)
{
	struct open_how how = {
		.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int r;

	do {
		r = (int)syscall(SYS_openat2, base, rel, &how, sizeof(how));
	} while (r < 0 && (errno == EINTR || errno == EAGAIN));
	return r;
}

static enum ap_err
strict_fail(const char **why)
{
	switch (errno) {
	case ELOOP:
	case EXDEV:
		*why = "is or passes through a symbolic link";
		return AP_ERR_PERM;
	case ENOENT:
		*why = "does not exist";
		return AP_ERR_NOTFOUND;
	default:
		*why = NULL;
		return AP_ERR_IO;
	}
}

enum ap_err
ap_fs_dir_nofollow(int base, const char *rel, bool create, mode_t mode, int *fd, const char **why)
{
	char buf[PATH_MAX];
	size_t n = strlen(rel);

	*fd = open_strict(base, rel);
	if (*fd >= 0)
		return AP_OK;
	if (errno != ENOENT || !create)
		return strict_fail(why);
	if (n == 0 || n >= sizeof(buf)) {
		*why = "must be a path of 1 to 4095 bytes";
		return AP_ERR_INVAL;
	}
	memcpy(buf, rel, n + 1);
	for (char *p = buf;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char save = *p, *slash;
		int pfd;

		*p = '\0';
		slash = strrchr(buf, '/');
		if (slash == NULL) {
			pfd = dup(base);
		} else {
			*slash = '\0';
			pfd = open_strict(base, buf);
			*slash = '/';
		}
		if (pfd < 0)
			return strict_fail(why);
		if (mkdirat(pfd, slash ? slash + 1 : buf, mode) != 0 && errno != EEXIST) {
			close(pfd);
			*why = "cannot be created";
			return AP_ERR_IO;
		}
		close(pfd);
		*p = save;
		if (save == '\0')
			break;
	}
	*fd = open_strict(base, rel);
	return *fd >= 0 ? AP_OK : strict_fail(why);
}

enum ap_err
ap_fs_read(int dirfd, const char *name, size_t max, struct ap_buf *out)
{
	char chunk[8192];
	struct stat st;
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	enum ap_err rc = AP_ERR_IO;

	if (fd < 0)
		return errno == ENOENT ? AP_ERR_NOTFOUND : AP_ERR_IO;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		goto out;
	for (;;) {
		ssize_t r = read(fd, chunk, sizeof(chunk));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto out;
		if (r == 0)
			break;
		if (out->len + (size_t)r > max) {
			rc = AP_ERR_TOOBIG;
			goto out;
		}
		ap_buf_append(out, chunk, (size_t)r);
	}
	rc = AP_OK;
out:
	close(fd);
	return rc;
}

static char *
suffixed(char *buf, size_t len, const char *name, const char *suffix)
{
	snprintf(buf, len, "%s%s", name, suffix);
	return buf;
}

static void
sync_dir(int dirfd)
{
	fsync(dirfd);
}

/* name.aapanel-new with data, complete and on disk. */
static enum ap_err
write_new(int dirfd, const char *tmp, const char *data, size_t len, mode_t mode)
{
	size_t off = 0;
	int fd;

	unlinkat(dirfd, tmp, 0);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return AP_ERR_IO;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		off += (size_t)w;
	}
	if (fchmod(fd, mode) != 0 || fsync(fd) != 0)
		goto fail;
	close(fd);
	return AP_OK;
fail:
	close(fd);
	unlinkat(dirfd, tmp, 0);
	return AP_ERR_IO;
}

enum ap_err
ap_fs_write(int dirfd, const char *name, const char *data, size_t len, mode_t mode)
{
	char tmp[NAME_MAX + 1];

	if (strlen(name) + sizeof(AP_FS_NEW_SUFFIX) > sizeof(tmp))
		return AP_ERR_INVAL;
	suffixed(tmp, sizeof(tmp), name, AP_FS_NEW_SUFFIX);
	if (write_new(dirfd, tmp, data, len, mode) != AP_OK)
		return AP_ERR_IO;
	if (renameat(dirfd, tmp, dirfd, name) != 0) {
		unlinkat(dirfd, tmp, 0);
		return AP_ERR_IO;
	}
	sync_dir(dirfd);
	return AP_OK;
}

enum ap_err
ap_fs_swap_begin(int dirfd, const char *name, const char *data, size_t len, mode_t mode)
{
	char tmp[NAME_MAX + 1], prev[NAME_MAX + 1];
	struct stat st;
	bool had;
	int fd;

	if (strlen(name) + sizeof(AP_FS_PREV_SUFFIX) > sizeof(prev)) {
		errno = ENAMETOOLONG;
		return AP_ERR_IO;
	}
	suffixed(tmp, sizeof(tmp), name, AP_FS_NEW_SUFFIX);
	suffixed(prev, sizeof(prev), name, AP_FS_PREV_SUFFIX);
	if (data != NULL && write_new(dirfd, tmp, data, len, mode) != AP_OK)
		return AP_ERR_IO;
	had = fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
	unlinkat(dirfd, prev, 0);
	/* The old file stays reachable as .aapanel-prev until commit or rollback. */
	if (had) {
		if (linkat(dirfd, name, dirfd, prev, 0) != 0)
			goto fail;
	} else {
		if ((fd = openat(dirfd, prev, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
			goto fail;
		close(fd);
	}
	sync_dir(dirfd);
	if (data != NULL ? renameat(dirfd, tmp, dirfd, name) != 0
			 : (had && unlinkat(dirfd, name, 0) != 0)) {
		unlinkat(dirfd, prev, 0);
		goto fail;
	}
	sync_dir(dirfd);
	return AP_OK;
fail:
	if (data != NULL)
		unlinkat(dirfd, tmp, 0);
	return AP_ERR_IO;
}

void
ap_fs_swap_commit(int dirfd, const char *name)
{
	char prev[NAME_MAX + 1];

	unlinkat(dirfd, suffixed(prev, sizeof(prev), name, AP_FS_PREV_SUFFIX), 0);
	sync_dir(dirfd);
}

void
ap_fs_swap_rollback(int dirfd, const char *name)
{
	char prev[NAME_MAX + 1];
	struct stat st;

	suffixed(prev, sizeof(prev), name, AP_FS_PREV_SUFFIX);
	if (fstatat(dirfd, prev, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return;
	/* An empty .aapanel-prev: there was no file before. No managed file is ever empty. */
	if (st.st_size == 0) {
		unlinkat(dirfd, name, 0);
		unlinkat(dirfd, prev, 0);
	} else {
		renameat(dirfd, prev, dirfd, name);
	}
	sync_dir(dirfd);
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && strcmp(s + n - m, suffix) == 0;
}

int
ap_fs_recover(int dirfd)
{
	int dfd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), n = 0;
	struct dirent *e;
	DIR *d;

	if (dfd < 0 || (d = fdopendir(dfd)) == NULL) {
		if (dfd >= 0)
			close(dfd);
		return 0;
	}
	while ((e = readdir(d)) != NULL) {
		char name[NAME_MAX + 1];
		size_t len = strlen(e->d_name);

		if (ends_with(e->d_name, AP_FS_NEW_SUFFIX)) {
			unlinkat(dirfd, e->d_name, 0);
		} else if (ends_with(e->d_name, AP_FS_PREV_SUFFIX)) {
			snprintf(name, sizeof(name), "%.*s", (int)(len - strlen(AP_FS_PREV_SUFFIX)),
			    e->d_name);
			ap_fs_swap_rollback(dirfd, name);
			n++;
		}
	}
	closedir(d);
	return n;
}

static enum ap_err
remove_in(int parent, const char *name, int depth)
{
	struct stat st;
	struct dirent *e;
	enum ap_err rc = AP_OK;
	DIR *d;
	int fd;

	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? AP_OK : AP_ERR_IO;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(parent, name, 0) == 0 || errno == ENOENT ? AP_OK : AP_ERR_IO;
	if (depth >= TREE_DEPTH_MAX)
		return AP_ERR_TOOBIG;
	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return AP_ERR_IO;
	}
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if ((rc = remove_in(dirfd(d), e->d_name, depth + 1)) != AP_OK)
			break;
	}
	closedir(d);
	if (rc == AP_OK && unlinkat(parent, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
		rc = AP_ERR_IO;
	return rc;
}

enum ap_err
ap_fs_remove_tree(int dirfd, const char *name)
{
	if (strchr(name, '/') != NULL || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return AP_ERR_INVAL;
	return remove_in(dirfd, name, 0);
}

void
ap_fs_unlink(int dirfd, const char *name)
{
	unlinkat(dirfd, name, 0);
}

int
ap_fs_lock(int dirfd, const char *name, int timeout_ms)
{
	uint64_t deadline = ap_now_ms() + (uint64_t)timeout_ms;
	int fd = openat(dirfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0)
		return -1;
	while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno != EWOULDBLOCK || ap_now_ms() >= deadline) {
			close(fd);
			return -1;
		}
		usleep(5000);
	}
	return fd;
}
