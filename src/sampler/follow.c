/*
 * follow.c — the log follow streams of the sampler (follow.h).
 */
#include <sys/stat.h>

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
};

struct ap_follow_pending {
	struct pending p[PENDING_MAX];
	size_t n;
};

struct ap_follow {
	int fd;
	int64_t off;
	bool skip_partial; /* started inside a line: drop it */
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

bool
ap_follow_pending_add(struct ap_follow_pending *p, const char *token, int fd, uint64_t now_ms)
{
	expire(p, now_ms);
	if (!token_ok(token) || p->n == PENDING_MAX) {
		close(fd);
		return false;
	}
	memcpy(p->p[p->n].token, token, AP_FOLLOW_TOKEN_LEN + 1);
	p->p[p->n].fd = fd;
	p->p[p->n].at = now_ms;
	p->n++;
	return true;
}

int
ap_follow_pending_take(struct ap_follow_pending *p, const char *token, uint64_t now_ms)
{
	expire(p, now_ms);
	if (!token_ok(token))
		return -1;
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->p[i].token, token) == 0) {
			int fd = p->p[i].fd;

			p->p[i] = p->p[--p->n];
			return fd;
		}
	return -1;
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
	free(f);
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
