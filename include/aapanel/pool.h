/*
 * pool.h — the master process of `aapanel serve`: opens (or inherits from
 * systemd) the FastCGI socket, forks and supervises the prefork workers,
 * reloads on SIGHUP and stops gracefully on SIGTERM/SIGINT.
 */
#ifndef AAPANEL_POOL_H
#define AAPANEL_POOL_H

#include "aapanel/config.h"
#include "aapanel/route.h"

/* Exit status when the socket systemd passed lost its path (EX_TEMPFAIL):
 * aapanel.service does not restart on it but re-creates the socket. */
#define AP_POOL_EXIT_SOCKET_LOST 75

/*
 * Run the pool in the foreground until stopped. cfg is owned by the pool
 * from here on; opts is used again to re-read the configuration on SIGHUP.
 * Returns the process exit status: 0 after a clean stop, 1 when start-up
 * failed, a crash storm (more than pool.crash_limit abnormal worker exits
 * in a minute) made the master give up so systemd can restart it, or a
 * lost listening socket could not be bound again for 10 s;
 * AP_POOL_EXIT_SOCKET_LOST when the socket systemd passed lost its path.
 * routes (borrowed for the pool's life) is the table every worker serves:
 * the entry point passes the panel's (src/pages/routes.c).
 */
int ap_pool_run(struct ap_config *cfg, const struct ap_config_opts *opts,
    const struct ap_route *routes, size_t nroutes);

/* Path of the scoreboard file for cfg (malloc'd). */
char *ap_pool_scoreboard_path(const struct ap_config *cfg);

#endif
