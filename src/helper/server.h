/*
 * server.h — the helper's socket and event loop: one process, one epoll
 * loop, non-blocking connections. Every connection's peer is checked with
 * SO_PEERCRED once, at accept; request lines are bounded by
 * helper.max_message and must be complete within helper.timeout_ms; a slow
 * or stuck client only ever holds its own connection.
 */
#ifndef AAPANEL_HELPER_SERVER_H
#define AAPANEL_HELPER_SERVER_H

#include <sys/types.h>

#include "aapanel/config.h"

/*
 * The listening socket: the one systemd passed (LISTEN_FDS, socket
 * activation; it must be a listening unix socket bound to path), else a new
 * one bound at path. A stale socket file is replaced; a live one (another
 * helper answers) or a non-socket file is an error. A socket we bind gets
 * mode 0600 when the panel runs as the helper's own uid, else 0660 with the
 * panel user's group. *activated: the socket is systemd's (never unlinked).
 */
enum ap_err ap_server_listen(const char *path, uid_t panel_uid, gid_t panel_gid, int *fd,
    bool *activated, char *err, size_t errlen);

struct ap_server_opts {
	const struct ap_config *cfg;
	int listen_fd;
	bool activated;  /* the socket came from systemd */
	const char *socket_path;
	uid_t panel_uid; /* the only uid served */
	int sandbox_fd;
};

/* Serve until SIGTERM or SIGINT; returns the process exit status. */
int ap_server_run(const struct ap_server_opts *o);

#endif
