/*
 * arena.h — per-request bump allocator. Everything allocated from an arena
 * lives until ap_arena_reset() (end of request) or ap_arena_free().
 * Allocation aborts on out-of-memory like ap_xmalloc.
 */
#ifndef AAPANEL_ARENA_H
#define AAPANEL_ARENA_H

#include "aapanel/common.h"

struct ap_arena;

struct ap_arena *ap_arena_new(void);
void ap_arena_free(struct ap_arena *a); /* NULL is a no-op */
/* Release everything allocated since creation; keeps the first chunk. */
void ap_arena_reset(struct ap_arena *a);
/* 16-byte aligned, uninitialised. */
void *ap_arena_alloc(struct ap_arena *a, size_t n);
void *ap_arena_calloc(struct ap_arena *a, size_t nmemb, size_t size);
char *ap_arena_strdup(struct ap_arena *a, const char *s);
char *ap_arena_strndup(struct ap_arena *a, const char *s, size_t n);
void *ap_arena_memdup(struct ap_arena *a, const void *p, size_t n);
char *ap_arena_printf(struct ap_arena *a, const char *fmt, ...) AP_PRINTF(2, 3);
/* Bytes currently held (for the scoreboard / tests). */
size_t ap_arena_used(const struct ap_arena *a);

#endif
