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

/* Static, human-readable description of e ("unknown error" out of range). Never NULL. */
const char *ap_strerror(enum ap_err e);

/*
 * Allocation wrappers: never return NULL and never fail; they abort (with a
 * message on stderr) when memory is exhausted, so callers never check. A
 * size of 0 still gives a pointer to free. Results are owned: free with
 * free(). ap_xstrndup copies at most n bytes and stops at a NUL;
 * ap_xasprintf also aborts on a formatting error.
 */
void *ap_xmalloc(size_t n);
void *ap_xcalloc(size_t nmemb, size_t size);
void *ap_xrealloc(void *p, size_t n);
char *ap_xstrdup(const char *s);
char *ap_xstrndup(const char *s, size_t n);
char *ap_xasprintf(const char *fmt, ...) AP_PRINTF(1, 2);

/*
 * A growable byte buffer, always NUL-terminated after data[len] once any
 * byte was appended (data may be NULL while empty). Start from { 0 }. Owns
 * data; release with ap_buf_free(), which leaves an empty reusable buffer.
 */
struct ap_buf {
	char *data;
	size_t len;
	size_t cap;
};

/*
 * Append n bytes, a C string, one byte, formatted text. They never fail
 * (they abort on out-of-memory) but may move data: earlier ap_buf_cstr()
 * pointers become invalid. A printf formatting error appends nothing.
 */
void ap_buf_append(struct ap_buf *b, const void *p, size_t n);
void ap_buf_puts(struct ap_buf *b, const char *s);
void ap_buf_putc(struct ap_buf *b, char c);
void ap_buf_printf(struct ap_buf *b, const char *fmt, ...) AP_PRINTF(2, 3);
void ap_buf_vprintf(struct ap_buf *b, const char *fmt, va_list ap);
/* Append the n bytes of s (no NUL needed) with & < > " ' replaced by their HTML entities. */
void ap_buf_html_escape(struct ap_buf *b, const char *s, size_t n);
/* Keep the allocation, drop the contents (data, if any, becomes ""). */
void ap_buf_reset(struct ap_buf *b);
void ap_buf_free(struct ap_buf *b);
/* Return data (never NULL: "" when empty); borrowed, valid until the next append or ap_buf_free. */
const char *ap_buf_cstr(struct ap_buf *b);

/*
 * Bounded integer parsing (OpenBSD strtonum): the whole string must be a
 * decimal integer within [min, max] (no leading space or '+'). On success
 * sets *out and *errstr = NULL. On failure returns false, leaves *out
 * untouched and sets *errstr to a static "invalid" (also for a NULL or ""
 * s, or min > max), "too small" or "too large".
 */
bool ap_strtonum(const char *s, long long min, long long max, long long *out,
    const char **errstr);

/* True if s[0..n) is well-formed UTF-8 without NUL bytes, overlongs, surrogates or > U+10FFFF. */
bool ap_utf8_valid(const char *s, size_t n);

/*
 * Read the regular file rel (relative to directory fd dfd, or AT_FDCWD; not
 * following a final symlink) of at most max bytes into *out, NUL-terminated
 * and owned (free with free()); *outlen (may be NULL) gets its length. A
 * file that shrinks while read comes back short. AP_ERR_IO with errno set
 * (a missing file is ENOENT, a final symlink ELOOP), or AP_ERR_TOOBIG for
 * a larger file or one that is not regular. On failure *out is NULL and
 * *outlen untouched.
 */
enum ap_err ap_read_file_at(int dfd, const char *rel, size_t max, char **out, size_t *outlen);

/* printf into a caller's error buffer (cut to fit, terminated); NULL or size 0 is ignored. */
void ap_errf(char *err, size_t errlen, const char *fmt, ...) AP_PRINTF(3, 4);

/* Last component of a path, trailing slashes ignored ("a/po/" → "po", "/" → "/"); owned, free(). */
char *ap_path_last(const char *path);

/* Monotonic clock in milliseconds / microseconds: for intervals, not the time of day. */
uint64_t ap_now_ms(void);
uint64_t ap_now_us(void);

/*
 * Fill buf with n cryptographically random bytes (getrandom; may block
 * early at boot until the kernel's pool is ready). AP_OK, or AP_ERR_IO with
 * errno set; buf may then be partly written.
 */
enum ap_err ap_random_bytes(void *buf, size_t n);

/*
 * Write n (at most 64) random bytes as 2n lowercase hex chars + NUL into
 * out (2n + 1 bytes). AP_ERR_INVAL for n > 64, AP_ERR_IO when getrandom
 * fails; out is untouched on failure.
 */
enum ap_err ap_random_hex(char *out, size_t n);

#endif
