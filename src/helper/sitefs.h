/*
 * sitefs.h — the file work of the site operations, beneath the sandbox root
 * (sandbox.h): directories made step by step through openat2, files read
 * with a bound and without following a final symlink, and the one way a
 * configuration file changes: a transaction on the system.
 *
 *   ap_fs_swap_begin   write NAME.aapanel-new in full (fsync), keep the old
 *                      file as NAME.aapanel-prev (a hard link; an empty file
 *                      when there was none), rename the new one over NAME
 *   ap_fs_swap_commit  drop NAME.aapanel-prev
 *   ap_fs_swap_rollback put NAME.aapanel-prev back over NAME (or remove
 *                      NAME when there was none)
 *
 * rename() is atomic, so whatever kills the helper at any point, NAME is
 * either the old file or the new one, never part of one; the leftovers
 * (.aapanel-new, .aapanel-prev) match no "*.conf" include, and
 * ap_fs_recover rolls an interrupted transaction back on the next
 * operation. The caller serialises transactions with ap_fs_lock.
 */
#ifndef AAPANEL_HELPER_SITEFS_H
#define AAPANEL_HELPER_SITEFS_H

#include <sys/types.h>

#include "aapanel/common.h"

#define AP_FS_NEW_SUFFIX ".aapanel-new"
#define AP_FS_PREV_SUFFIX ".aapanel-prev"

/*
 * Open the directory rel beneath rootfd (O_RDONLY | O_DIRECTORY), creating
 * it and its missing parents with mode when create is true. *fd owned.
 * Errors as ap_sandbox_open, *why a static reason.
 */
enum ap_err ap_fs_dir(int rootfd, const char *rel, bool create, mode_t mode, int *fd,
    const char **why);

/*
 * The same beneath basefd with no symlink followed at all (RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS): for the paths inside a site's home, which its own
 * user can change. A symlink met on the way is AP_ERR_PERM.
 */
enum ap_err ap_fs_dir_nofollow(int basefd, const char *rel, bool create, mode_t mode, int *fd,
    const char **why);

/*
 * Read the regular file name in dirfd (a final symlink is refused) into out,
 * at most max bytes (AP_ERR_TOOBIG beyond). AP_ERR_NOTFOUND when absent.
 */
enum ap_err ap_fs_read(int dirfd, const char *name, size_t max, struct ap_buf *out);

/* Write name in dirfd atomically (name.aapanel-new, fsync, rename). */
enum ap_err ap_fs_write(int dirfd, const char *name, const char *data, size_t len, mode_t mode);

/*
 * Begin a transaction on name in dirfd: data (len bytes) becomes its new
 * content, or data NULL removes it. AP_ERR_IO with errno kept on failure
 * (nothing changed then).
 */
enum ap_err ap_fs_swap_begin(int dirfd, const char *name, const char *data, size_t len,
    mode_t mode);
void ap_fs_swap_commit(int dirfd, const char *name);
void ap_fs_swap_rollback(int dirfd, const char *name);

/*
 * Roll back every transaction left unfinished in dirfd (an .aapanel-prev
 * file) and remove every .aapanel-new file. Returns how many were rolled
 * back.
 */
int ap_fs_recover(int dirfd);

/* Remove name in dirfd and everything beneath it; symlinks are removed, never followed. */
enum ap_err ap_fs_remove_tree(int dirfd, const char *name);

/* Remove the file name in dirfd; absent is fine. */
void ap_fs_unlink(int dirfd, const char *name);

/* Take an exclusive lock on name in dirfd (created 0600); returns the descriptor (close to
 * release) or -1. Waits at most timeout_ms. */
int ap_fs_lock(int dirfd, const char *name, int timeout_ms);

#endif
