/*
 * common.h — error codes, allocation wrappers and a growable byte buffer
 * shared by every module.
 */
#ifndef AAPANEL_COMMON_H
#define AAPANEL_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AP_VERSION "0.1.0"

#define AP_NELEM(a) (sizeof(a) / sizeof((a)[0]))
/* Marks a constant as a text people read, translated where it is shown
 * (scripts/check-msgids.sh finds it; every catalog in po/ translates it). */
#define N_(s) (s)
#define AP_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define AP_UNUSED __attribute__((unused))

enum ap_err {
	AP_OK = 0,
	AP_ERR_INVAL,    /* invalid argument or input */
	AP_ERR_IO,       /* read/write/open failed (errno kept) */
	AP_ERR_NOTFOUND, /* named thing does not exist */
	AP_ERR_TOOBIG,   /* exceeds a configured limit */
	AP_ERR_PARSE,    /* syntax error in a file or body */
	AP_ERR_PERM,     /* permission denied */
	AP_ERR_DB,       /* database error */
	AP_ERR_UNAVAIL,  /* a dependency is down */
	AP_ERR__MAX
};

/* Static, human-readable description of e. Never NULL. */
const char *ap_strerror(enum ap_err e);

/*
 * Allocation wrappers: abort (with a message on stderr) when memory is
 * exhausted, so callers never check for NULL. Free with free().
 */
void *ap_xmalloc(size_t n);
void *ap_xcalloc(size_t nmemb, size_t size);
void *ap_xrealloc(void *p, size_t n);
char *ap_xstrdup(const char *s);
char *ap_xstrndup(const char *s, size_t n);
char *ap_xasprintf(const char *fmt, ...) AP_PRINTF(1, 2);

/*
 * A growable byte buffer, always NUL-terminated after data[len] once any
 * byte was appended (data may be NULL while empty). Owns data; release with
 * ap_buf_free(), which leaves an empty reusable buffer.
 */
struct ap_buf {
	char *data;
	size_t len;
	size_t cap;
};

void ap_buf_append(struct ap_buf *b, const void *p, size_t n);
void ap_buf_puts(struct ap_buf *b, const char *s);
void ap_buf_putc(struct ap_buf *b, char c);
void ap_buf_printf(struct ap_buf *b, const char *fmt, ...) AP_PRINTF(2, 3);
void ap_buf_vprintf(struct ap_buf *b, const char *fmt, va_list ap);
/* Append s with & < > " ' replaced by their HTML entities. */
void ap_buf_html_escape(struct ap_buf *b, const char *s, size_t n);
/* Keep the allocation, drop the contents. */
void ap_buf_reset(struct ap_buf *b);
void ap_buf_free(struct ap_buf *b);
/* Return data (never NULL: "" when empty); valid until the next append. */
const char *ap_buf_cstr(struct ap_buf *b);

/*
 * Bounded integer parsing (OpenBSD strtonum): whole string must be a
 * decimal integer within [min, max]. On failure returns false and sets
 * *errstr to "invalid", "too small" or "too large".
 */
bool ap_strtonum(const char *s, long long min, long long max, long long *out,
    const char **errstr);

/* True if s[0..n) is well-formed UTF-8 without NUL bytes or overlongs. */
bool ap_utf8_valid(const char *s, size_t n);

/*
 * Read the regular file rel (relative to directory fd dfd, or AT_FDCWD; not
 * following a final symlink) into a malloc'd NUL-terminated buffer of at
 * most max bytes. AP_ERR_IO with errno set, or AP_ERR_TOOBIG for a larger
 * file or one that is not regular.
 */
enum ap_err ap_read_file_at(int dfd, const char *rel, size_t max, char **out, size_t *outlen);

/* printf into a caller's error buffer; NULL or zero-sized buffers are ignored. */
void ap_errf(char *err, size_t errlen, const char *fmt, ...) AP_PRINTF(3, 4);

/* Last component of a path, trailing slashes ignored ("a/po/" → "po"); malloc'd. */
char *ap_path_last(const char *path);

/* Monotonic clock in milliseconds / microseconds. */
uint64_t ap_now_ms(void);
uint64_t ap_now_us(void);

/* Fill buf with n cryptographically random bytes (getrandom). */
enum ap_err ap_random_bytes(void *buf, size_t n);

/* Write n random bytes as 2n lowercase hex chars + NUL into out. */
enum ap_err ap_random_hex(char *out, size_t n);

#endif
