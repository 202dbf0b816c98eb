/*
 * log.h — one-line structured logging to stderr (journald picks it up) or
 * a file. Every line carries the process role and, while a request is being
 * served, its request id. Never log secrets, passwords, tokens or bodies.
 */
#ifndef AAPANEL_LOG_H
#define AAPANEL_LOG_H

#include "aapanel/common.h"

enum ap_log_level {
	AP_LOG_DEBUG,
	AP_LOG_INFO,
	AP_LOG_WARN,
	AP_LOG_ERR,
	AP_LOG__MAX
};

/*
 * role: borrowed for good, so a string literal such as "master" or
 * "worker"; min: the lowest level written; fd: where lines go (borrowed,
 * never closed). Process-wide state, not thread-safe: set it before
 * logging starts, and again in a child that takes another role.
 */
void ap_log_init(const char *role, enum ap_log_level min, int fd);
void ap_log_set_level(enum ap_log_level min);
/* Parse "debug|info|warn|error" (exact) into *out; false when unknown, *out untouched. */
bool ap_log_level_parse(const char *s, enum ap_log_level *out);
/* Request id attached to following lines; NULL clears. Copied (at most 39 bytes). */
void ap_log_set_reqid(const char *id);
/* The request id set now (borrowed until the next ap_log_set_reqid), NULL when none. */
const char *ap_log_reqid(void);
/*
 * One line when lvl reaches the minimum: UTC time, level, role[pid],
 * req=<id>, func, message. CR and LF become spaces and a line is cut at
 * about 2 KiB; it goes out in one write() so lines from several processes
 * never interleave. Never fails: write errors are ignored.
 */
void ap_log(enum ap_log_level lvl, const char *func, const char *fmt, ...)
    AP_PRINTF(3, 4);

#define AP_DEBUG(...) ap_log(AP_LOG_DEBUG, __func__, __VA_ARGS__)
#define AP_INFO(...) ap_log(AP_LOG_INFO, __func__, __VA_ARGS__)
#define AP_WARN(...) ap_log(AP_LOG_WARN, __func__, __VA_ARGS__)
#define AP_ERROR(...) ap_log(AP_LOG_ERR, __func__, __VA_ARGS__)

#endif
