/*
 * arena.h — per-request bump allocator. Everything allocated from an arena
 * lives until ap_arena_reset() (end of request) or ap_arena_free(); nothing
 * is freed one by one. Allocation never fails: it aborts on out-of-memory
 * like ap_xmalloc. Not thread-safe: one arena per request at a time.
 */
#ifndef AAPANEL_ARENA_H
#define AAPANEL_ARENA_H

#include "aapanel/common.h"

struct ap_arena;

/* A new arena holding one 64 KiB chunk; owned, free with ap_arena_free. */
struct ap_arena *ap_arena_new(void);
void ap_arena_free(struct ap_arena *a); /* NULL is a no-op */
/*
 * Release everything allocated so far (every pointer from a is invalid
 * afterwards). One standard-size chunk is kept for the next request; the
 * others, oversized ones included, are freed.
 */
void ap_arena_reset(struct ap_arena *a);
/* 16-byte aligned, uninitialised; n = 0 still gives a block. Larger than a chunk is fine. */
void *ap_arena_alloc(struct ap_arena *a, size_t n);
/* Zeroed; aborts when nmemb * size overflows. */
void *ap_arena_calloc(struct ap_arena *a, size_t nmemb, size_t size);
/*
 * NUL-terminated copies. ap_arena_strndup copies exactly n bytes, NULs
 * included (s must have n readable bytes), unlike ap_xstrndup which stops
 * at a NUL.
 */
char *ap_arena_strdup(struct ap_arena *a, const char *s);
char *ap_arena_strndup(struct ap_arena *a, const char *s, size_t n);
/* Copy of p[0..n), not terminated. */
void *ap_arena_memdup(struct ap_arena *a, const void *p, size_t n);
/* Formatted string; "" on a formatting error. */
char *ap_arena_printf(struct ap_arena *a, const char *fmt, ...) AP_PRINTF(2, 3);
/* Bytes handed out since creation or the last reset, each rounded up to 16 (scoreboard, tests). */
size_t ap_arena_used(const struct ap_arena *a);

#endif
