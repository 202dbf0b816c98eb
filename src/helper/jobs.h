/*
 * jobs.h — operations that can take more than a second run as jobs: the
 * request is answered {"job":ID} at once, and the operation runs in a child
 * process of the helper (forked, not exec'd: it calls the op's handler,
 * which starts programs through spawn.h). The child reports progress,
 * output and its result through a pipe; the helper keeps each job's state,
 * progress (0-100), exit code and the last AP_JOB_TAIL bytes of output, and
 * job.status reads them until AP_JOB_KEEP_MS after the job ended (at most
 * AP_JOB_KEPT finished jobs are kept).
 *
 * Jobs live in the helper's memory only: if the helper is killed, its jobs
 * are lost — their processes die with it (PR_SET_PDEATHSIG), and job.status
 * for their ids answers not_found. Ids start at the helper's start time in
 * milliseconds, so a restarted helper never reuses an old id.
 */
#ifndef AAPANEL_HELPER_JOBS_H
#define AAPANEL_HELPER_JOBS_H

#include <json-c/json.h>

#include "ops.h"

#define AP_JOB_TAIL 4096
#define AP_JOB_KEPT 64
#define AP_JOB_KEEP_MS (60 * 60 * 1000)
#define AP_JOB_QUEUE 32 /* queued beyond helper.max_jobs running; more is "busy" */
#define AP_JOB_GRACE_MS 2000

/* ---- in the helper (parent) ---- */

/*
 * Set up the job table. sandbox_fd is handed to each job. Returns an epoll
 * descriptor that becomes readable when any job has something to report;
 * the caller then calls ap_jobs_events().
 */
int ap_jobs_init(const struct ap_config *cfg, int sandbox_fd);

/*
 * Queue a job for op with its validated arguments (copied). Starts it now
 * when fewer than helper.max_jobs run. AP_OK with *id, or AP_ERR_UNAVAIL
 * (pb busy) when the queue is full, AP_ERR_IO (pb failed) when fork fails.
 */
enum ap_err ap_jobs_submit(const struct helper_op *op, const struct ap_fieldval *vals,
    uid_t peer, int64_t *id, struct ap_problem *pb);

/* Read what the jobs reported (after the epoll descriptor signalled). */
void ap_jobs_events(void);
/* Reap exited job processes (after SIGCHLD); starts queued jobs in freed slots. */
void ap_jobs_reap(void);
/* Timeouts and expiry; returns milliseconds until the next deadline (or -1 for none). */
int ap_jobs_tick(void);

/* The job's state as job.status shows it; NULL when unknown. Owned by the caller. */
struct json_object *ap_jobs_status(int64_t id);
/* Every kept job, newest first, as {"jobs":[{id, op, state, progress}...]}. Owned. */
struct json_object *ap_jobs_list(void);
/* Running + queued jobs. */
size_t ap_jobs_active(void);

/*
 * Cancel job id: a queued job ends failed at once, a running one gets
 * SIGTERM to its process group (SIGKILL after AP_JOB_GRACE_MS) and ends
 * failed with "cancelled". AP_ERR_NOTFOUND for an unknown id, AP_ERR_INVAL
 * when it has ended.
 */
enum ap_err ap_jobs_cancel(int64_t id);

/* Stop everything on shutdown: SIGTERM to running jobs, SIGKILL after the grace. */
void ap_jobs_shutdown(void);

/* ---- in the job's process ---- */

/* Progress in percent, 0..100 (clamped; never goes backwards). */
void ap_job_progress(struct ap_job_ctx *j, int percent);
/* Append to the job's output (its tail is kept). */
void ap_job_output(struct ap_job_ctx *j, const char *data, size_t len);

#endif
