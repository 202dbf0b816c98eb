/* common.c — errors, allocation wrappers, byte buffer, small parsers. */
#include <sys/random.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aapanel/common.h"

static const char *const err_str[AP_ERR__MAX] = {
	[AP_OK] = "ok",
	[AP_ERR_INVAL] = "invalid input",
	[AP_ERR_IO] = "input/output error",
	[AP_ERR_NOTFOUND] = "not found",
	[AP_ERR_TOOBIG] = "too large",
	[AP_ERR_PARSE] = "parse error",
	[AP_ERR_PERM] = "permission denied",
	[AP_ERR_DB] = "database error",
	[AP_ERR_UNAVAIL] = "service unavailable",
};

const char *
ap_strerror(enum ap_err e)
{
	if ((unsigned)e >= AP_ERR__MAX || err_str[e] == NULL)
		return "unknown error";
	return err_str[e];
}

static void
oom(size_t n)
{
	fprintf(stderr, "aapanel: out of memory allocating %zu bytes\n", n);
	abort();
}

void *
ap_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		oom(n);
	return p;
}

void *
ap_xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (p == NULL)
		oom(nmemb * size);
	return p;
}

void *
ap_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		oom(n);
	return q;
}

char *
ap_xstrdup(const char *s)
{
	return ap_xstrndup(s, strlen(s));
}

char *
ap_xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = ap_xmalloc(len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *
ap_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom(0);
	return s;
}

static void
buf_reserve(struct ap_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;

	if (need <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	b->data = ap_xrealloc(b->data, cap);
	b->cap = cap;
}

void
ap_buf_append(struct ap_buf *b, const void *p, size_t n)
{
	buf_reserve(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
ap_buf_puts(struct ap_buf *b, const char *s)
{
	ap_buf_append(b, s, strlen(s));
}

void
ap_buf_putc(struct ap_buf *b, char c)
{
	buf_reserve(b, 1);
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
}

void
ap_buf_vprintf(struct ap_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	size_t avail;
	int n;

	/* Format straight into the spare room; grow and redo only when it did not fit. */
	buf_reserve(b, 128);
	avail = b->cap - b->len;
	va_copy(cp, ap);
	n = vsnprintf(b->data + b->len, avail, fmt, cp);
	va_end(cp);
	if (n < 0) {
		b->data[b->len] = '\0';
		return;
	}
	if ((size_t)n >= avail) {
		buf_reserve(b, (size_t)n);
		vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	}
	b->len += (size_t)n;
}

void
ap_buf_printf(struct ap_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ap_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

/* Non-zero for the five bytes HTML escaping replaces. */
static const unsigned char html_special[256] = {
	['&'] = 1, ['<'] = 1, ['>'] = 1, ['"'] = 1, ['\''] = 1,
};

void
ap_buf_html_escape(struct ap_buf *b, const char *s, size_t n)
{
	size_t i = 0, start = 0;

	/* Worst case every byte becomes 6; reserve once, then copy runs. */
	buf_reserve(b, n + n / 8 + 16);
	b->data[b->len] = '\0';
	while (i < n) {
		const char *rep;
		size_t rl;

		while (i < n && !html_special[(unsigned char)s[i]])
			i++;
		if (i > start)
			ap_buf_append(b, s + start, i - start);
		if (i >= n)
			break;
		switch (s[i]) {
		case '&': rep = "&amp;", rl = 5; break;
		case '<': rep = "&lt;", rl = 4; break;
		case '>': rep = "&gt;", rl = 4; break;
		case '"': rep = "&quot;", rl = 6; break;
		default: rep = "&#39;", rl = 5; break;
		}
		ap_buf_append(b, rep, rl);
		start = ++i;
	}
}

void
ap_buf_reset(struct ap_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void
ap_buf_free(struct ap_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

const char *
ap_buf_cstr(struct ap_buf *b)
{
	return b->data ? b->data : "";
}

bool
ap_strtonum(const char *s, long long min, long long max, long long *out,
    const char **errstr)
{
	char *end = NULL;
	long long v;

	*errstr = NULL;
	if (s == NULL || *s == '\0' || min > max) {
		*errstr = "invalid";
		return false;
	}
	/* strtoll accepts leading space and '+': be strict. */
	if (!((s[0] >= '0' && s[0] <= '9') || (s[0] == '-' && s[1] >= '0' && s[1] <= '9'))) {
		*errstr = "invalid";
		return false;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0') {
		*errstr = "invalid";
		return false;
	}
	if ((errno == ERANGE && v == LLONG_MIN) || v < min) {
		*errstr = "too small";
		return false;
	}
	if ((errno == ERANGE && v == LLONG_MAX) || v > max) {
		*errstr = "too large";
		return false;
	}
	*out = v;
	return true;
}

bool
ap_utf8_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		uint32_t cp;
		size_t len, k;

		if (c == 0)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xE0) == 0xC0) {
			len = 2;
			cp = c & 0x1F;
		} else if ((c & 0xF0) == 0xE0) {
			len = 3;
			cp = c & 0x0F;
		} else if ((c & 0xF8) == 0xF0) {
			len = 4;
			cp = c & 0x07;
		} else
			return false;
		if (i + len > n)
			return false;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		    (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
		    (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += len;
	}
	return true;
}

uint64_t
ap_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t
ap_now_ms(void)
{
	return ap_now_us() / 1000u;
}

enum ap_err
ap_random_bytes(void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n > 0) {
		ssize_t r = getrandom(p, n, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return AP_ERR_IO;
		}
		p += r;
		n -= (size_t)r;
	}
	return AP_OK;
}

enum ap_err
ap_random_hex(char *out, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char tmp[64];
	size_t i;

	if (n > sizeof(tmp))
		return AP_ERR_INVAL;
	if (ap_random_bytes(tmp, n) != AP_OK)
		return AP_ERR_IO;
	for (i = 0; i < n; i++) {
		out[2 * i] = hex[tmp[i] >> 4];
		out[2 * i + 1] = hex[tmp[i] & 15];
	}
	out[2 * n] = '\0';
	return AP_OK;
}

enum ap_err
ap_read_file_at(int dfd, const char *rel, size_t max, char **out, size_t *outlen)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	enum ap_err rc = AP_ERR_IO;
	int fd, saved;

	*out = NULL;
	fd = openat(dfd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0)
		goto out;
	if (!S_ISREG(st.st_mode) || (unsigned long long)st.st_size > max) {
		rc = AP_ERR_TOOBIG;
		goto out;
	}
	buf = ap_xmalloc((size_t)st.st_size + 1);
	while (len < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + len, (size_t)st.st_size - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto out;
		if (r == 0)
			break; /* shrank while reading: take what is there */
		len += (size_t)r;
	}
	buf[len] = '\0';
	*out = buf;
	if (outlen)
		*outlen = len;
	buf = NULL;
	rc = AP_OK;
out:
	saved = errno;
	if (fd >= 0)
		close(fd);
	free(buf);
	errno = saved;
	return rc;
}

char *
ap_path_last(const char *dir)
{
	size_t n = strlen(dir);
	const char *b;

	while (n > 1 && dir[n - 1] == '/')
		n--;
	b = dir + n;
	while (b > dir && b[-1] != '/')
		b--;
	if (b == dir + n)
		return ap_xstrndup(dir, n);
	return ap_xstrndup(b, (size_t)(dir + n - b));
}

void
ap_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}
