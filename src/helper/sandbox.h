/*
 * sandbox.h — every path the helper touches is resolved beneath one root
 * directory (helper.sandbox_root: var/sandbox in development and test, "/"
 * in production) by the kernel itself: openat2() with RESOLVE_BENEATH and
 * RESOLVE_NO_MAGICLINKS (Linux >= 5.6). An absolute path, a ".." that
 * climbs out, a symlink pointing outside and /proc magic links are refused
 * whatever their spelling; nothing here inspects path strings for "..".
 */
#ifndef AAPANEL_HELPER_SANDBOX_H
#define AAPANEL_HELPER_SANDBOX_H

#include <sys/types.h>

#include "aapanel/common.h"

/*
 * Open the root directory at path (absolute), creating it (mode 0750, and
 * missing parents) when create is true. *fd: an O_PATH directory
 * descriptor (close-on-exec) owned by the caller.
 */
enum ap_err ap_sandbox_open_root(const char *path, bool create, int *fd, char *err,
    size_t errlen);

/*
 * Check that openat2 works here: it is missing before Linux 5.6, and a
 * seccomp filter may answer it with ENOSYS (systemd's RestrictSUIDSGID=
 * does). The helper does not start without it.
 */
enum ap_err ap_sandbox_check(int rootfd, char *err, size_t errlen);

/*
 * Open rel beneath the root rootfd, like openat(rootfd, rel, flags, mode)
 * (O_CLOEXEC is always added). Returns AP_OK with *fd (owned), or:
 *   AP_ERR_PERM     rel leaves the root (absolute, "..", a symlink outside,
 *                   a magic link) — reason "escapes the sandbox root"
 *   AP_ERR_NOTFOUND a component does not exist
 *   AP_ERR_INVAL    rel is empty or longer than PATH_MAX
 *   AP_ERR_IO       anything else, errno kept
 * *why (may be NULL) gets a static reason for the first three.
 */
enum ap_err ap_sandbox_open(int rootfd, const char *rel, int flags, mode_t mode, int *fd,
    const char **why);

#endif
