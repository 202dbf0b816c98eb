/*
 * sandbox.c — paths beneath a root, resolved by openat2(2). The kernel
 * walks the path and refuses any step out of the root, including through
 * symlinks met on the way, so there is no window between a check and the
 * use (no realpath + open).
 */
#include <sys/stat.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sandbox.h"

/* glibc 2.36 has no wrapper for openat2. */
static int
sys_openat2(int dfd, const char *path, struct open_how *how)
{
	return (int)syscall(SYS_openat2, dfd, path, how, sizeof(*how));
}

/* mkdir -p of an absolute path, 0750 for the directories it creates. */
static bool
mkdirs(const char *path)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char save = *p;

			*p = '\0';
			if (mkdir(buf, 0750) != 0 && errno != EEXIST)
				return false;
			*p = save;
			if (save == '\0')
				return true;
		}
	}
}

enum ap_err
ap_sandbox_open_root(const char *path, bool create, int *fd, char *err, size_t errlen)
{
	*fd = -1;
	if (path == NULL || path[0] != '/') {
		ap_errf(err, errlen, "sandbox root must be an absolute path");
		return AP_ERR_INVAL;
	}
	if (create && !mkdirs(path)) {
		ap_errf(err, errlen, "cannot create the sandbox root %s: %s", path, strerror(errno));
		return AP_ERR_IO;
	}
	*fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*fd < 0) {
		ap_errf(err, errlen, "cannot open the sandbox root %s: %s", path, strerror(errno));
		return errno == ENOENT ? AP_ERR_NOTFOUND : AP_ERR_IO;
	}
	return AP_OK;
}

enum ap_err
ap_sandbox_check(int rootfd, char *err, size_t errlen)
{
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	int fd = sys_openat2(rootfd, ".", &how);

	if (fd >= 0) {
		close(fd);
		return AP_OK;
	}
	if (errno == ENOSYS)
		ap_errf(err, errlen,
		    "openat2() is not available (Linux >= 5.6 is needed, and no seccomp filter "
		    "that refuses it, such as systemd's RestrictSUIDSGID=): paths could not be "
		    "confined to the sandbox root");
	else
		ap_errf(err, errlen, "openat2() on the sandbox root: %s", strerror(errno));
	return AP_ERR_UNAVAIL;
}

enum ap_err
ap_sandbox_open(int rootfd, const char *rel, int flags, mode_t mode, int *fd, const char **why)
{
	struct open_how how = {
		.flags = (unsigned long long)(flags | O_CLOEXEC),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	const char *dummy;
	int r;

	if (why == NULL)
		why = &dummy;
	*fd = -1;
	*why = NULL;
	if (rel == NULL || rel[0] == '\0' || strlen(rel) >= PATH_MAX) {
		*why = "must be a path of 1 to 4095 bytes";
		return AP_ERR_INVAL;
	}
	/* The mode is only meaningful (and only allowed) when creating. */
	if (flags & (O_CREAT | O_TMPFILE))
		how.mode = mode;
	do {
		r = sys_openat2(rootfd, rel, &how);
	} while (r < 0 && (errno == EINTR || errno == EAGAIN));
	if (r >= 0) {
		*fd = r;
		return AP_OK;
	}
	switch (errno) {
	case EXDEV: /* absolute, "..", or a symlink out of the root */
	case ELOOP: /* a magic link (/proc/.../fd/N), or a symlink loop */
		*why = "escapes the sandbox root";
		return AP_ERR_PERM;
	case ENOENT:
		*why = "does not exist";
		return AP_ERR_NOTFOUND;
	default:
		return AP_ERR_IO;
	}
}
