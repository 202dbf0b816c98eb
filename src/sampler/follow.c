/*
 * follow.c — the log follow streams of the sampler (follow.h).
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "follow.h"

#define PENDING_MAX 256
#define PENDING_MS 10000
#define BEHIND_MAX (1024 * 1024)
#define READ_MAX (256 * 1024)

struct pending {
	char token[AP_FOLLOW_TOKEN_LEN + 1];
	int fd;
	uint64_t at;
	char domain[254];
	char which[8];
};

struct ap_follow_pending {
	struct pending p[PENDING_MAX];
	size_t n;
};

struct ap_follow {
	int fd;
	int64_t off;
	bool skip_partial; /* started inside a line: drop it */
	char *path;        /* watched for a rotation (ap_follow_watch), or NULL */
	char domain[254], which[8];
	uint64_t next_check;
};

struct ap_follow_pending *
ap_follow_pending_new(void)
{
	return ap_xcalloc(1, sizeof(struct ap_follow_pending));
}

void
ap_follow_pending_free(struct ap_follow_pending *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n; i++)
		close(p->p[i].fd);
	free(p);
}

/* Drop what waited too long. */
static void
expire(struct ap_follow_pending *p, uint64_t now)
{
	for (size_t i = p->n; i-- > 0;)
		if (now - p->p[i].at > PENDING_MS) {
			close(p->p[i].fd);
			p->p[i] = p->p[--p->n];
		}
}

static bool
token_ok(const char *t)
{
	size_t n = 0;

	for (; t[n] != '\0'; n++)
		if (!((t[n] >= '0' && t[n] <= '9') || (t[n] >= 'a' && t[n] <= 'f')))
			return false;
	return n == AP_FOLLOW_TOKEN_LEN;
}

/* A log's name as handed: a domain's characters and access|error, else nothing. */
static bool
name_ok(const char *domain, const char *which)
{
	size_t n = strlen(domain);

	if (n == 0 || n > 253 || (strcmp(which, "access") != 0 && strcmp(which, "error") != 0))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((domain[i] >= 'a' && domain[i] <= 'z') || (domain[i] >= '0' && domain[i] <= '9') ||
		    domain[i] == '.' || domain[i] == '-'))
			return false;
	return domain[0] != '.' && domain[0] != '-';
}

bool
ap_follow_pending_add_log(struct ap_follow_pending *p, const char *token, int fd, const char *domain,
    const char *which, uint64_t now_ms)
{
	struct pending *e;

	expire(p, now_ms);
	if (!token_ok(token) || p->n == PENDING_MAX) {
		close(fd);
		return false;
	}
	e = &p->p[p->n];
	memcpy(e->token, token, AP_FOLLOW_TOKEN_LEN + 1);
	e->fd = fd;
	e->at = now_ms;
	e->domain[0] = e->which[0] = '\0';
	if (domain != NULL && which != NULL && name_ok(domain, which)) {
		snprintf(e->domain, sizeof(e->domain), "%s", domain);
		snprintf(e->which, sizeof(e->which), "%s", which);
	}
	p->n++;
	return true;
}

bool
ap_follow_pending_add(struct ap_follow_pending *p, const char *token, int fd, uint64_t now_ms)
{
	return ap_follow_pending_add_log(p, token, fd, NULL, NULL, now_ms);
}

int
ap_follow_pending_take_log(struct ap_follow_pending *p, const char *token, uint64_t now_ms,
    char domain[static 254], char which[static 8])
{
	domain[0] = which[0] = '\0';
	expire(p, now_ms);
	if (!token_ok(token))
		return -1;
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->p[i].token, token) == 0) {
			int fd = p->p[i].fd;

			memcpy(domain, p->p[i].domain, 254);
			memcpy(which, p->p[i].which, 8);
			p->p[i] = p->p[--p->n];
			return fd;
		}
	return -1;
}

int
ap_follow_pending_take(struct ap_follow_pending *p, const char *token, uint64_t now_ms)
{
	char d[254], w[8];

	return ap_follow_pending_take_log(p, token, now_ms, d, w);
}

struct ap_follow *
ap_follow_new(int fd, int64_t from)
{
	struct ap_follow *f = ap_xcalloc(1, sizeof(*f));
	struct stat st;
	int64_t size = fstat(fd, &st) == 0 ? (int64_t)st.st_size : 0;

	f->fd = fd;
	if (from < 0)
		f->off = size;
	else if (from > size)
		f->off = 0;
	else
		f->off = from;
	if (size - f->off > BEHIND_MAX) {
		f->off = size - BEHIND_MAX;
		f->skip_partial = true;
	}
	return f;
}

void
ap_follow_free(struct ap_follow *f)
{
	if (f == NULL)
		return;
	close(f->fd);
	free(f->path);
	free(f);
}

void
ap_follow_watch(struct ap_follow *f, const char *path, const char *domain, const char *which)
{
	free(f->path);
	f->path = ap_xstrdup(path);
	snprintf(f->domain, sizeof(f->domain), "%s", domain);
	snprintf(f->which, sizeof(f->which), "%s", which);
}

bool
ap_follow_rotated(struct ap_follow *f, uint64_t now_ms)
{
	struct stat a, b;

	if (f->path == NULL || now_ms < f->next_check)
		return false;
	f->next_check = now_ms + 1000;
	/* No file there (renamed, the new one not made yet): not yet. */
	if (stat(f->path, &a) != 0 || fstat(f->fd, &b) != 0)
		return false;
	return a.st_ino != b.st_ino || a.st_dev != b.st_dev;
}

const char *
ap_follow_domain(const struct ap_follow *f)
{
	return f->domain;
}

const char *
ap_follow_which(const struct ap_follow *f)
{
	return f->which;
}

void
ap_follow_switch(struct ap_follow *f, int fd)
{
	close(f->fd);
	f->fd = fd;
	f->off = 0;
	f->skip_partial = false;
}

static void
put_line(struct ap_buf *out, const char *p, size_t n)
{
	if (n > 0 && p[n - 1] == '\r')
		n--;
	bool utf8 = ap_utf8_valid(p, n);

	ap_buf_puts(out, "data: ");
	/* A CR inside a line would end the event's line (SSE): as '?', like a NUL. */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		ap_buf_putc(out, c == '\r' || c == '\0' || (!utf8 && c >= 0x80) ? '?' : (char)c);
	}
	ap_buf_putc(out, '\n');
}

bool
ap_follow_read(struct ap_follow *f, struct ap_buf *out)
{
	struct stat st;
	char *data;
	ssize_t k;
	size_t len, s = 0, end;
	bool any = false;

	if (fstat(f->fd, &st) != 0)
		return false;
	if ((int64_t)st.st_size < f->off) /* emptied (copytruncate): from its start */
		f->off = 0;
	if ((int64_t)st.st_size == f->off)
		return false;
	len = (size_t)((int64_t)st.st_size - f->off);
	if (len > READ_MAX)
		len = READ_MAX;
	data = ap_xmalloc(len);
	k = pread(f->fd, data, len, f->off);
	if (k <= 0) {
		free(data);
		return false;
	}
	len = (size_t)k;
	/* Complete lines only; a line longer than a whole read goes as it is. */
	end = len;
	while (end > 0 && data[end - 1] != '\n')
		end--;
	if (end == 0) {
		if (len < READ_MAX) {
			free(data);
			return false;
		}
		end = len;
	}
	if (f->skip_partial) {
		const char *nl = memchr(data, '\n', end);

		s = nl != NULL ? (size_t)(nl - data) + 1 : end;
		f->skip_partial = false;
	}
	{
		struct ap_buf ev = {0};

		ap_buf_puts(&ev, "event: lines\n");
		for (size_t i = s; i < end;) {
			const char *nl = memchr(data + i, '\n', end - i);
			size_t e = nl != NULL ? (size_t)(nl - data) : end;

			put_line(&ev, data + i, e - i);
			any = true;
			i = e + 1;
		}
		f->off += (int64_t)end;
		if (any) {
			ap_buf_printf(&ev, "id: %lld\n\n", (long long)f->off);
			ap_buf_append(out, ev.data, ev.len);
		}
		ap_buf_free(&ev);
	}
	free(data);
	return any;
}
