/*
 * scoreboard.h — shared-memory table the master and the workers keep: one
 * slot per worker with its pid, state, request count and current request.
 * It is a file under paths.run_dir mapped MAP_SHARED, so `aapanel status`
 * (another process) can read it. Each worker writes only its own slot; the
 * master claims and releases slots. Readers may see a request that just
 * ended; the values are advisory, never used for access decisions.
 */
#ifndef AAPANEL_SCOREBOARD_H
#define AAPANEL_SCOREBOARD_H

#include <sys/types.h>

#include "aapanel/common.h"

#define AP_SB_MAGIC 0x41505342u /* "APSB" */
#define AP_SB_VERSION 2u

enum ap_sb_state {
	AP_SB_FREE,
	AP_SB_STARTING,
	AP_SB_IDLE,
	AP_SB_BUSY,
	AP_SB_EXITING,
	AP_SB__MAX
};

struct ap_sb_slot {
	int32_t pid;           /* 0 when free */
	uint32_t state;        /* enum ap_sb_state */
	uint32_t generation;   /* bumped by every reload */
	uint32_t killed;       /* set by the master before it kills this worker */
	uint64_t requests;     /* requests served by this worker */
	uint64_t started_ms;   /* CLOCK_MONOTONIC ms when the worker started */
	uint64_t req_start_ms; /* CLOCK_MONOTONIC ms when the current request began */
	uint64_t heartbeat_ms; /* CLOCK_MONOTONIC ms of the worker's last sign of life */
	char method[8];
	char path[120];
	char reqid[40];
};

struct ap_sb_header {
	uint32_t magic;
	uint32_t version;
	uint32_t nslots;
	int32_t master_pid;
	uint64_t started_unix; /* wall-clock seconds when the master started */
	uint64_t started_ms;   /* CLOCK_MONOTONIC ms when the master started */
	uint32_t generation;
	uint32_t target_workers;
	uint64_t total_requests; /* requests of workers that have exited */
	char profile[16];
	char version_str[16];
	uint32_t socket_inherited; /* 1: the listening socket came from systemd */
	uint32_t socket_lost;      /* 1: its path was deleted or replaced (see pool.c) */
	char socket_path[108];     /* server.socket, or the path systemd bound */
	char config[256];          /* absolute base configuration file of the master */
	/* The sampler's readings (ap_sb_reading_published): how many it has
	 * published and when the last one was (CLOCK_MONOTONIC ms), so a worker
	 * that kept a page built from a reading knows it is still the latest
	 * without asking the sampler (issue 19). */
	uint64_t reading_gen;
	uint64_t reading_ms;
};

struct ap_sb;

/*
 * Master: create (or truncate) the file at path with nslots slots and map it
 * read-write. Owned; release with ap_sb_close (the file stays until
 * ap_sb_unlink).
 */
enum ap_err ap_sb_create(const char *path, unsigned nslots, struct ap_sb **out);
/* Readers (`aapanel status`): map an existing scoreboard read-only. */
enum ap_err ap_sb_open(const char *path, struct ap_sb **out);
void ap_sb_close(struct ap_sb *sb);
void ap_sb_unlink(const char *path);

struct ap_sb_header *ap_sb_header(struct ap_sb *sb);
/* The sampler published a new reading (ap_now_ms is now its time). */
void ap_sb_reading_published(struct ap_sb *sb);
/* The number of the sampler's latest reading (0: none yet) and its time. */
uint64_t ap_sb_reading(struct ap_sb *sb, uint64_t *at_ms);
unsigned ap_sb_nslots(const struct ap_sb *sb);
struct ap_sb_slot *ap_sb_slot(struct ap_sb *sb, unsigned i);

/* Master: claim a free slot for a worker about to start; -1 when full. */
int ap_sb_claim(struct ap_sb *sb, uint32_t generation);
/* Master: the slot's worker has exited; its requests go into the total. */
void ap_sb_release(struct ap_sb *sb, unsigned i);
/* Master: the slot whose pid is pid, or -1. */
int ap_sb_find(struct ap_sb *sb, pid_t pid);

/* Worker: mark the start and end of a request in its own slot (the end
 * also counts as a heartbeat). */
void ap_sb_begin(struct ap_sb *sb, unsigned i, const char *method,
    const char *path, const char *reqid);
void ap_sb_end(struct ap_sb *sb, unsigned i);
void ap_sb_set_state(struct ap_sb *sb, unsigned i, enum ap_sb_state st);
/* Worker: "still alive" — called around every wait for a connection, which
 * is bounded, so an idle worker beats at least once per wait. */
void ap_sb_heartbeat(struct ap_sb *sb, unsigned i);

/*
 * Master: how long (ms) the worker of slot s has been silent at now, when it
 * is starting or idle and so must beat; 0 for a busy, exiting, free or
 * already killed slot (a busy worker has its request deadline instead).
 */
uint64_t ap_sb_silent_ms(const struct ap_sb_slot *s, uint64_t now);

const char *ap_sb_state_name(enum ap_sb_state st);

/* Count slots with a live pid in [AP_SB_STARTING, AP_SB_BUSY]. */
unsigned ap_sb_live(struct ap_sb *sb, unsigned *busy);

#endif
