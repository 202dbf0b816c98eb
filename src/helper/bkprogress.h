/*
 * bkprogress.h — a restore's progress (restic 0.14 prints none for restores):
 * the bytes written into the staging folder so far against the snapshot's
 * size, polled by a thread of the job while restic runs.
 *
 * restic preallocates each file at its full size (fallocate) before writing
 * its blobs, so neither st_size nor st_blocks tells how far it got; the data
 * written is what SEEK_DATA finds (an allocated range never written is an
 * unwritten extent, which ext4, xfs and btrfs report as a hole).
 */
#ifndef AAPANEL_HELPER_BKPROGRESS_H
#define AAPANEL_HELPER_BKPROGRESS_H

#include <stdint.h>

#include "jobs.h"

/* The data bytes of every regular file beneath dirfd (SEEK_DATA..SEEK_HOLE, at most
 * each file's size), not following symbolic links; 64 levels deep at most. */
int64_t ap_bk_data_bytes(int dirfd);

struct ap_bk_watch;
/* Every 500 ms: the job's progress lo + (hi - lo) * data bytes under dirfd / total
 * (dirfd borrowed for the watch's life). NULL when total <= 0 or no thread. */
struct ap_bk_watch *ap_bk_watch_start(struct ap_job_ctx *job, int dirfd, int64_t total, int lo, int hi);
/* Stop and join the watch (NULL is fine). */
void ap_bk_watch_stop(struct ap_bk_watch *w);

#endif
