/* arena.c — chunked bump allocator, reset once per request. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aapanel/arena.h"

#define ARENA_CHUNK (64 * 1024)
#define ARENA_ALIGN 16

struct chunk {
	struct chunk *next;
	size_t size; /* usable bytes in data */
	size_t used;
	max_align_t data[];
};

struct ap_arena {
	struct chunk *head; /* current chunk; older chunks follow */
	size_t total;
};

static struct chunk *
chunk_new(size_t size)
{
	struct chunk *c = ap_xmalloc(sizeof(*c) + size);

	c->next = NULL;
	c->size = size;
	c->used = 0;
	return c;
}

struct ap_arena *
ap_arena_new(void)
{
	struct ap_arena *a = ap_xcalloc(1, sizeof(*a));

	a->head = chunk_new(ARENA_CHUNK);
	return a;
}

void
ap_arena_free(struct ap_arena *a)
{
	struct chunk *c, *next;

	if (a == NULL)
		return;
	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(a);
}

void
ap_arena_reset(struct ap_arena *a)
{
	struct chunk *c = a->head, *keep = NULL, *next;

	/* Keep one standard-size chunk; free the rest (big one-offs included). */
	for (; c != NULL; c = next) {
		next = c->next;
		if (keep == NULL && c->size == ARENA_CHUNK)
			keep = c;
		else
			free(c);
	}
	if (keep == NULL)
		keep = chunk_new(ARENA_CHUNK);
	keep->next = NULL;
	keep->used = 0;
	a->head = keep;
	a->total = 0;
}

void *
ap_arena_alloc(struct ap_arena *a, size_t n)
{
	struct chunk *c = a->head;
	size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	void *p;

	if (need == 0)
		need = ARENA_ALIGN;
	if (c->size - c->used < need) {
		c = chunk_new(need > ARENA_CHUNK ? need : ARENA_CHUNK);
		c->next = a->head;
		a->head = c;
	}
	p = (char *)c->data + c->used;
	c->used += need;
	a->total += need;
	return p;
}

void *
ap_arena_calloc(struct ap_arena *a, size_t nmemb, size_t size)
{
	if (size && nmemb > SIZE_MAX / size) {
		fprintf(stderr, "aapanel: arena allocation overflow\n");
		abort();
	}
	void *p = ap_arena_alloc(a, nmemb * size);
	memset(p, 0, nmemb * size);
	return p;
}

char *
ap_arena_strndup(struct ap_arena *a, const char *s, size_t n)
{
	char *p = ap_arena_alloc(a, n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
ap_arena_strdup(struct ap_arena *a, const char *s)
{
	return ap_arena_strndup(a, s, strlen(s));
}

void *
ap_arena_memdup(struct ap_arena *a, const void *p, size_t n)
{
	void *q = ap_arena_alloc(a, n);

	memcpy(q, p, n);
	return q;
}

char *
ap_arena_printf(struct ap_arena *a, const char *fmt, ...)
{
	va_list ap;
	char small[256];
	char *p;
	int n;

	/* Most strings are short: format once on the stack, copy into the arena. */
	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return ap_arena_strdup(a, "");
	if ((size_t)n < sizeof(small))
		return ap_arena_memdup(a, small, (size_t)n + 1);
	p = ap_arena_alloc(a, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

size_t
ap_arena_used(const struct ap_arena *a)
{
	return a->total;
}
