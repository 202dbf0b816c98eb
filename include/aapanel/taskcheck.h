/*
 * taskcheck.h — the strict checks of a scheduled task's parts, as
 * ap_field_check_fn (route.h): NULL when fine, else the reason (a constant
 * msgid). Used by the panel's fields (src/pages/tasks.c), the data module
 * and again by the helper's argument tables (ops_tasks.c).
 *
 * A command is never given to a shell. Its text is split into words here,
 * the same way on both sides: words are separated by spaces or tabs; '...'
 * keeps everything literally, "..." too except \" and \\; a backslash
 * outside quotes keeps the next character. Nothing else is special: $, `,
 * ;, |, &, <, >, * and ~ are ordinary bytes. The first word is the program,
 * an absolute path.
 */
#ifndef AAPANEL_TASKCHECK_H
#define AAPANEL_TASKCHECK_H

#include <stddef.h>

#include <json-c/json.h>

#define AP_TASK_MAX_COMMAND 4096
#define AP_TASK_MAX_ARGS 64
#define AP_TASK_MAX_URL 2048

/* [a-z][a-z0-9_.-]{0,63} (never all digits: `task run 12` means the task of id 12). */
const char *ap_check_task_name(const char *s, size_t n);
/* A command as above: at most 64 words, the first an absolute path without . or .. parts. */
const char *ap_check_task_command(const char *s, size_t n);
/* http:// or https://, a host, an optional port and path, no spaces or quotes, at most 2048. */
const char *ap_check_task_url(const char *s, size_t n);
/* A user name: [a-z_][a-z0-9_-]{0,31}. */
const char *ap_check_task_user(const char *s, size_t n);

/*
 * Split a command into its words: a new JSON array of strings (owned), or
 * NULL with *why set (the same reasons as ap_check_task_command).
 */
struct json_object *ap_task_argv(const char *s, size_t n, const char **why);

#endif
