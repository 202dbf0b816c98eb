/*
 * jobs.c — the job table (jobs.h). Each running job is a forked child in
 * its own process group; it writes records to a pipe:
 *
 *   type (1 byte) | length (4 bytes, little endian) | payload
 *   'p' progress (1 byte, 0..100)   'o' output bytes
 *   'r' result (a JSON object)      'e' problem {"code","field","reason"}
 *
 * The helper reads them without blocking (the pipes are in one epoll set of
 * their own), reaps the child on SIGCHLD, and keeps the outcome for
 * job.status. A job that outlives helper.job_timeout gets SIGTERM, then
 * SIGKILL, to its whole group.
 */
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aapanel/log.h"
#include "jobs.h"

#define REC_MAX (512 * 1024) /* a task's run: 64 KiB of output, JSON-escaped */
#define REC_HDR 5

enum job_state { JOB_QUEUED, JOB_RUNNING, JOB_DONE, JOB_FAILED };

static const char *const state_names[] = {
	[JOB_QUEUED] = "queued",
	[JOB_RUNNING] = "running",
	[JOB_DONE] = "done",
	[JOB_FAILED] = "failed",
};

struct job {
	int64_t id;
	const struct helper_op *op;
	enum job_state state;
	int progress;
	struct ap_arena *arena; /* the copied arguments */
	struct ap_fieldval *vals;
	uid_t peer;
	pid_t pid;  /* running: the job's process, leader of its group */
	int fd;     /* running: read end of its report pipe, -1 once at EOF */
	bool reaped;
	int status; /* wait status once reaped */
	uint64_t created_ms, started_ms, ended_ms;
	uint64_t kill_at; /* SIGTERM when reached, then SIGKILL; 0 = none */
	bool term_sent, timed_out, cancelled;
	char tail[AP_JOB_TAIL];
	size_t tail_len;
	uint64_t output_bytes;
	struct ap_buf rbuf; /* bytes of an incomplete record */
	struct json_object *result;
	bool has_problem;
	struct ap_problem pb;
	struct job *next; /* newest first */
};

struct ap_job_ctx {
	int fd;
	int last_progress;
};

static const struct ap_config *J_cfg;
static int J_sandbox = -1;
static int J_epoll = -1;
static struct job *J_list;
static int64_t J_next_id;
static size_t J_running, J_queued;

static void start_queued(void);

int
ap_jobs_init(const struct ap_config *cfg, int sandbox_fd)
{
	struct timespec ts;

	J_cfg = cfg;
	J_sandbox = sandbox_fd;
	clock_gettime(CLOCK_REALTIME, &ts);
	/* Start time in ms: a restarted helper never hands out an id it used before. */
	J_next_id = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	J_epoll = epoll_create1(EPOLL_CLOEXEC);
	return J_epoll;
}

static struct job *
find(int64_t id)
{
	for (struct job *j = J_list; j != NULL; j = j->next)
		if (j->id == id)
			return j;
	return NULL;
}

size_t
ap_jobs_active(void)
{
	return J_running + J_queued;
}

/* Copy the validated values into the job's own arena (the request's is reset). */
static struct ap_fieldval *
copy_vals(struct ap_arena *a, const struct ap_field *fields, const struct ap_fieldval *vals)
{
	size_t n = ap_fields_count(fields);
	struct ap_fieldval *c;

	/* As many slots as the validator gives (AP_FIELDS_MIN at least). */
	c = ap_arena_calloc(a, n > AP_FIELDS_MIN ? n : AP_FIELDS_MIN, sizeof(*c));
	for (size_t i = 0; i < n; i++) {
		c[i] = vals[i];
		if (vals[i].s != NULL)
			c[i].s = ap_arena_memdup(a, vals[i].s, vals[i].len + 1);
	}
	return c;
}

/* ---- the job's process ---------------------------------------------- */

static void
rec_write(int fd, char type, const void *p, size_t n)
{
	unsigned char hdr[REC_HDR] = { (unsigned char)type, (unsigned char)n,
		(unsigned char)(n >> 8), (unsigned char)(n >> 16), (unsigned char)(n >> 24) };
	const unsigned char *parts[2] = { hdr, p };
	size_t lens[2] = { sizeof(hdr), n };

	for (int i = 0; i < 2; i++) {
		const unsigned char *q = parts[i];
		size_t left = lens[i];

		while (left > 0) {
			ssize_t w = write(fd, q, left);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return; /* the helper is gone; PR_SET_PDEATHSIG ends us */
			q += w;
			left -= (size_t)w;
		}
	}
}

void
ap_job_progress(struct ap_job_ctx *j, int percent)
{
	unsigned char p;

	if (j == NULL)
		return;
	percent = percent < 0 ? 0 : percent > 100 ? 100 : percent;
	if (percent <= j->last_progress)
		return;
	j->last_progress = percent;
	p = (unsigned char)percent;
	rec_write(j->fd, 'p', &p, 1);
}

void
ap_job_output(struct ap_job_ctx *j, const char *data, size_t len)
{
	if (j == NULL)
		return;
	while (len > 0) {
		size_t n = len > REC_MAX ? REC_MAX : len;

		rec_write(j->fd, 'o', data, n);
		data += n;
		len -= n;
	}
}

static void
write_json(int fd, char type, struct json_object *o)
{
	const char *s = json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

	rec_write(fd, type, s, strlen(s));
}

static void
write_problem(int fd, const struct ap_problem *pb)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "code", json_object_new_string(ap_pb_name(pb->code)));
	json_object_object_add(o, "field", json_object_new_string(pb->field));
	json_object_object_add(o, "reason", json_object_new_string(pb->reason));
	write_json(fd, 'e', o);
	json_object_put(o);
}

/* Move fd to at least 10 (out of the way of the fixed numbers), close-on-exec. */
static int
high(int fd)
{
	return fcntl(fd, F_DUPFD_CLOEXEC, 10);
}

/*
 * The job's process: fd 3 is the report pipe, fd 4 the sandbox root,
 * nothing else is open but 0-2; signals are back to their defaults (SIGPIPE
 * ignored); it dies with the helper.
 */
static void __attribute__((noreturn))
job_child(struct job *j, int wfd, pid_t parent)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	struct ap_job_ctx jc = { .fd = 3, .last_progress = -1 };
	struct ap_problem pb = { .code = AP_PB_NONE };
	struct helper_ctx ctx;
	enum ap_log_level lvl;
	sigset_t none;
	int w, sb;
	enum ap_err rc;

	setpgid(0, 0);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
		_exit(1);
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			sigaction(s, &dfl, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	w = high(wfd);
	sb = J_sandbox >= 0 ? high(J_sandbox) : -1;
	if (w < 0 || dup2(w, 3) != 3 || (sb >= 0 && dup2(sb, 4) != 4))
		_exit(1);
	if (sb < 0)
		close(4);
	if (close_range(5, ~0U, 0) != 0)
		_exit(1);
	ap_log_init("job", AP_LOG_INFO, STDERR_FILENO);
	if (J_cfg != NULL && ap_log_level_parse(J_cfg->log_level, &lvl))
		ap_log_set_level(lvl);

	memset(&ctx, 0, sizeof(ctx));
	ctx.cfg = J_cfg;
	ctx.arena = j->arena;
	ctx.args = j->vals;
	ctx.result = json_object_new_object();
	ctx.pb = &pb;
	ctx.sandbox_fd = sb >= 0 ? 4 : -1;
	ctx.peer_uid = j->peer;
	ctx.job = &jc;
	ap_job_progress(&jc, 0);
	rc = j->op->fn(&ctx);
	if (rc == AP_OK) {
		const char *s = json_object_to_json_string_ext(ctx.result, JSON_C_TO_STRING_PLAIN);

		if (strlen(s) > REC_MAX) {
			ap_problem_set(&pb, AP_PB_FAILED, NULL,
			    "the job's result is larger than %d bytes", REC_MAX);
			write_problem(3, &pb);
			_exit(1);
		}
		ap_job_progress(&jc, 100);
		write_json(3, 'r', ctx.result);
		_exit(ctx.exit_code & 0xff);
	}
	if (pb.code == AP_PB_NONE)
		ap_problem_set(&pb, AP_PB_FAILED, NULL, "%s failed: %s", j->op->name,
		    ap_strerror(rc));
	/* What it did before it stopped (job.status shows it for a cancelled job). */
	if (json_object_object_length(ctx.result) > 0 &&
	    strlen(json_object_to_json_string_ext(ctx.result, JSON_C_TO_STRING_PLAIN)) <= REC_MAX)
		write_json(3, 'r', ctx.result);
	write_problem(3, &pb);
	_exit(ctx.exit_code != 0 ? ctx.exit_code & 0xff : 1);
}

/* ---- the helper's side ---------------------------------------------- */

static void
fail_job(struct job *j, enum ap_pb_code code, const char *fmt, const char *arg)
{
	j->has_problem = true;
	ap_problem_set(&j->pb, code, NULL, fmt, arg);
}

static void
start_job(struct job *j)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = j };
	int p[2];
	pid_t self = getpid();

	j->started_ms = ap_now_ms();
	if (pipe2(p, O_CLOEXEC) != 0) {
		fail_job(j, AP_PB_FAILED, "cannot start the job: %s", strerror(errno));
		goto fail;
	}
	j->pid = fork();
	if (j->pid < 0) {
		fail_job(j, AP_PB_FAILED, "cannot start the job: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		goto fail;
	}
	if (j->pid == 0)
		job_child(j, p[1], self);
	/* Both sides set the group, so a kill(-pid) right after fork already reaches it. */
	setpgid(j->pid, j->pid);
	close(p[1]);
	j->fd = p[0];
	fcntl(j->fd, F_SETFL, fcntl(j->fd, F_GETFL) | O_NONBLOCK);
	if (epoll_ctl(J_epoll, EPOLL_CTL_ADD, j->fd, &ev) != 0)
		AP_ERROR("epoll_ctl: %s", strerror(errno)); /* reaping still ends the job */
	j->state = JOB_RUNNING;
	j->kill_at = j->started_ms + (uint64_t)J_cfg->helper_job_timeout * 1000;
	J_running++;
	AP_INFO("job %lld (%s) started, pid %d", (long long)j->id, j->op->name, (int)j->pid);
	return;
fail:
	j->state = JOB_FAILED;
	j->ended_ms = ap_now_ms();
	AP_ERROR("job %lld (%s): %s", (long long)j->id, j->op->name, j->pb.reason);
}

enum ap_err
ap_jobs_submit(const struct helper_op *op, const struct ap_fieldval *vals, uid_t peer,
    int64_t *id, struct ap_problem *pb)
{
	struct job *j;

	if (J_queued >= AP_JOB_QUEUE) {
		ap_problem_set(pb, AP_PB_BUSY, NULL,
		    "%zu jobs are running and %zu are waiting; try again later", J_running, J_queued);
		return AP_ERR_UNAVAIL;
	}
	j = ap_xcalloc(1, sizeof(*j));
	j->id = J_next_id++;
	j->op = op;
	j->state = JOB_QUEUED;
	j->arena = ap_arena_new();
	j->vals = copy_vals(j->arena, op->args, vals);
	j->peer = peer;
	j->fd = -1;
	j->created_ms = ap_now_ms();
	j->next = J_list;
	J_list = j;
	J_queued++;
	*id = j->id;
	start_queued();
	return AP_OK;
}

/* Start queued jobs, oldest first, while slots are free. */
static void
start_queued(void)
{
	while (J_queued > 0 && J_running < (size_t)J_cfg->helper_max_jobs) {
		struct job *oldest = NULL;

		for (struct job *j = J_list; j != NULL; j = j->next)
			if (j->state == JOB_QUEUED)
				oldest = j;
		if (oldest == NULL)
			break;
		J_queued--;
		start_job(oldest);
	}
}

static void
tail_append(struct job *j, const char *p, size_t n)
{
	j->output_bytes += n;
	if (n >= AP_JOB_TAIL) {
		memcpy(j->tail, p + n - AP_JOB_TAIL, AP_JOB_TAIL);
		j->tail_len = AP_JOB_TAIL;
		return;
	}
	if (j->tail_len + n > AP_JOB_TAIL) {
		size_t drop = j->tail_len + n - AP_JOB_TAIL;

		memmove(j->tail, j->tail + drop, j->tail_len - drop);
		j->tail_len -= drop;
	}
	memcpy(j->tail + j->tail_len, p, n);
	j->tail_len += n;
}

static void
take_problem(struct job *j, const char *s, size_t n)
{
	struct json_object *o = json_tokener_parse(s), *v;
	enum ap_pb_code code = AP_PB_FAILED;
	const char *field = NULL, *reason = "the job failed";

	(void)n;
	if (o != NULL && json_object_object_get_ex(o, "code", &v))
		ap_pb_parse(json_object_get_string(v), &code);
	if (o != NULL && json_object_object_get_ex(o, "field", &v))
		field = json_object_get_string(v);
	if (o != NULL && json_object_object_get_ex(o, "reason", &v))
		reason = json_object_get_string(v);
	j->has_problem = true;
	ap_problem_set(&j->pb, code, field, "%s", reason);
	json_object_put(o);
}

/* Act on every complete record in j->rbuf. */
static void
take_records(struct job *j)
{
	size_t off = 0;

	while (j->rbuf.len - off >= REC_HDR) {
		const unsigned char *h = (const unsigned char *)j->rbuf.data + off;
		size_t n = (size_t)h[1] | (size_t)h[2] << 8 | (size_t)h[3] << 16 | (size_t)h[4] << 24;
		char *payload;

		if (n > REC_MAX) {
			AP_ERROR("job %lld: malformed report; stopping it", (long long)j->id);
			kill(-j->pid, SIGKILL);
			off = j->rbuf.len;
			break;
		}
		if (j->rbuf.len - off < REC_HDR + n)
			break;
		payload = j->rbuf.data + off + REC_HDR;
		switch (h[0]) {
		case 'p':
			if (n == 1 && (unsigned char)payload[0] <= 100 &&
			    (unsigned char)payload[0] > j->progress)
				j->progress = (unsigned char)payload[0];
			break;
		case 'o':
			tail_append(j, payload, n);
			break;
		case 'r': {
			char save = payload[n];

			payload[n] = '\0';
			json_object_put(j->result);
			j->result = json_tokener_parse(payload);
			payload[n] = save;
			break;
		}
		case 'e': {
			char save = payload[n];

			payload[n] = '\0';
			take_problem(j, payload, n);
			payload[n] = save;
			break;
		}
		default:
			break;
		}
		off += REC_HDR + n;
	}
	if (off > 0) {
		memmove(j->rbuf.data, j->rbuf.data + off, j->rbuf.len - off);
		j->rbuf.len -= off;
	}
}

/* Read j's pipe until it would block; at EOF close it. */
static void
read_reports(struct job *j)
{
	char chunk[16384];

	while (j->fd >= 0) {
		ssize_t r = read(j->fd, chunk, sizeof(chunk));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			break;
		if (r <= 0) {
			epoll_ctl(J_epoll, EPOLL_CTL_DEL, j->fd, NULL);
			close(j->fd);
			j->fd = -1;
			break;
		}
		ap_buf_append(&j->rbuf, chunk, (size_t)r);
		take_records(j);
	}
}

void
ap_jobs_events(void)
{
	struct epoll_event evs[16];
	int n;

	while ((n = epoll_wait(J_epoll, evs, (int)AP_NELEM(evs), 0)) > 0)
		for (int i = 0; i < n; i++)
			read_reports(evs[i].data.ptr);
}

/* The job's process has been reaped and its pipe drained: settle its outcome. */
static void
finish(struct job *j)
{
	int st = j->status;

	j->ended_ms = ap_now_ms();
	J_running--;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0 && !j->has_problem && !j->timed_out) {
		j->state = JOB_DONE;
		j->progress = 100;
	} else {
		j->state = JOB_FAILED;
		if (j->cancelled) {
			j->has_problem = false;
			fail_job(j, AP_PB_FAILED, "the job was cancelled%s", "");
		} else if (j->timed_out) {
			char secs[16];

			snprintf(secs, sizeof(secs), "%d", J_cfg->helper_job_timeout);
			fail_job(j, AP_PB_TIMEOUT,
			    "the job ran longer than helper.job_timeout (%s s) and was stopped", secs);
		} else if (!j->has_problem) {
			char what[48];

			if (WIFSIGNALED(st))
				snprintf(what, sizeof(what), "by signal %d (%s)", WTERMSIG(st),
				    strsignal(WTERMSIG(st)));
			else
				snprintf(what, sizeof(what), "with status %d", WEXITSTATUS(st));
			fail_job(j, AP_PB_FAILED, "the job ended %s", what);
		}
	}
	AP_INFO("job %lld (%s) %s in %llu ms", (long long)j->id, j->op->name, state_names[j->state],
	    (unsigned long long)(j->ended_ms - j->started_ms));
}

void
ap_jobs_reap(void)
{
	for (struct job *j = J_list; j != NULL; j = j->next) {
		int st;

		if (j->state != JOB_RUNNING || j->reaped)
			continue;
		if (waitpid(j->pid, &st, WNOHANG) != j->pid)
			continue;
		j->reaped = true;
		j->status = st;
		/*
		 * It has exited, so everything it wrote is in the pipe: read it
		 * up to EAGAIN, then close (a descendant still holding the pipe
		 * must not keep the job open).
		 */
		read_reports(j);
		if (j->fd >= 0) {
			epoll_ctl(J_epoll, EPOLL_CTL_DEL, j->fd, NULL);
			close(j->fd);
			j->fd = -1;
		}
		finish(j);
	}
	start_queued();
}

/* Drop finished jobs past their keeping time, and the oldest beyond AP_JOB_KEPT. */
static void
expire(uint64_t now)
{
	size_t kept = 0;

	for (struct job **pp = &J_list; *pp != NULL;) {
		struct job *j = *pp;
		bool finished = j->state == JOB_DONE || j->state == JOB_FAILED;

		if (finished && (++kept > AP_JOB_KEPT || now - j->ended_ms > AP_JOB_KEEP_MS)) {
			*pp = j->next;
			ap_arena_free(j->arena);
			ap_buf_free(&j->rbuf);
			json_object_put(j->result);
			free(j);
			continue;
		}
		pp = &j->next;
	}
}

int
ap_jobs_tick(void)
{
	uint64_t now = ap_now_ms(), next = UINT64_MAX;

	for (struct job *j = J_list; j != NULL; j = j->next) {
		if (j->state == JOB_RUNNING && !j->reaped && j->kill_at != 0) {
			if (now >= j->kill_at) {
				if (!j->term_sent) {
					AP_WARN("job %lld (%s): past helper.job_timeout, stopping it",
					    (long long)j->id, j->op->name);
					kill(-j->pid, SIGTERM);
					j->term_sent = j->timed_out = true;
					j->kill_at = now + AP_JOB_GRACE_MS;
				} else {
					kill(-j->pid, SIGKILL);
					j->kill_at = 0;
				}
			}
			if (j->kill_at != 0 && j->kill_at < next)
				next = j->kill_at;
		}
		if (j->state == JOB_DONE || j->state == JOB_FAILED) {
			uint64_t at = j->ended_ms + AP_JOB_KEEP_MS;

			if (at < next)
				next = at;
		}
	}
	expire(now);
	if (next == UINT64_MAX)
		return -1;
	return next <= now ? 0 : next - now > 60000 ? 60000 : (int)(next - now);
}

/* The tail as valid UTF-8 (a cut or invalid sequence becomes '?'). */
static void
tail_text(const struct job *j, struct ap_buf *b)
{
	const char *s = j->tail;
	size_t n = j->tail_len, i = 0;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		size_t l = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;

		if (i + l <= n && ap_utf8_valid(s + i, l)) {
			ap_buf_append(b, s + i, l);
			i += l;
		} else {
			ap_buf_putc(b, '?');
			i++;
		}
	}
	ap_buf_append(b, "", 0);
}

struct json_object *
ap_jobs_status(int64_t id)
{
	struct job *j = find(id);
	struct json_object *o;
	struct ap_buf t = { 0 };
	uint64_t end;

	if (j == NULL)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64(j->id));
	json_object_object_add(o, "op", json_object_new_string(j->op->name));
	json_object_object_add(o, "state", json_object_new_string(state_names[j->state]));
	json_object_object_add(o, "progress", json_object_new_int(j->progress));
	json_object_object_add(o, "exit_code",
	    j->reaped && WIFEXITED(j->status) ? json_object_new_int(WEXITSTATUS(j->status)) : NULL);
	json_object_object_add(o, "signal",
	    j->reaped && WIFSIGNALED(j->status) ? json_object_new_int(WTERMSIG(j->status)) : NULL);
	tail_text(j, &t);
	json_object_object_add(o, "output", json_object_new_string_len(t.data, (int)t.len));
	ap_buf_free(&t);
	json_object_object_add(o, "output_bytes", json_object_new_int64((int64_t)j->output_bytes));
	end = j->ended_ms ? j->ended_ms : ap_now_ms();
	json_object_object_add(o, "elapsed_ms",
	    json_object_new_int64(j->started_ms ? (int64_t)(end - j->started_ms) : 0));
	json_object_object_add(o, "cancelled", json_object_new_boolean(j->cancelled));
	if (j->state == JOB_DONE)
		json_object_object_add(o, "result",
		    j->result != NULL ? json_object_get(j->result) : json_object_new_object());
	else if (j->state == JOB_FAILED && j->cancelled && j->result != NULL)
		json_object_object_add(o, "result", json_object_get(j->result));
	if (j->state == JOB_FAILED && j->has_problem) {
		struct json_object *e = json_object_new_object();

		json_object_object_add(e, "code",
		    json_object_new_string(ap_pb_name(j->pb.code)));
		json_object_object_add(e, "field", json_object_new_string(j->pb.field));
		json_object_object_add(e, "reason", json_object_new_string(j->pb.reason));
		json_object_object_add(o, "error", e);
	}
	return o;
}

struct json_object *
ap_jobs_list(void)
{
	struct json_object *o = json_object_new_object(), *a = json_object_new_array();

	for (struct job *j = J_list; j != NULL; j = j->next) {
		struct json_object *e = json_object_new_object();

		json_object_object_add(e, "id", json_object_new_int64(j->id));
		json_object_object_add(e, "op", json_object_new_string(j->op->name));
		json_object_object_add(e, "state", json_object_new_string(state_names[j->state]));
		json_object_object_add(e, "progress", json_object_new_int(j->progress));
		json_object_array_add(a, e);
	}
	json_object_object_add(o, "jobs", a);
	return o;
}

enum ap_err
ap_jobs_cancel(int64_t id)
{
	struct job *j = find(id);

	if (j == NULL)
		return AP_ERR_NOTFOUND;
	if (j->state == JOB_QUEUED) {
		J_queued--;
		j->cancelled = true;
		j->state = JOB_FAILED;
		j->ended_ms = ap_now_ms();
		fail_job(j, AP_PB_FAILED, "the job was cancelled%s", "");
		return AP_OK;
	}
	if (j->state != JOB_RUNNING || j->reaped)
		return AP_ERR_INVAL;
	AP_INFO("job %lld (%s): cancelled", (long long)j->id, j->op->name);
	kill(-j->pid, SIGTERM);
	j->cancelled = j->term_sent = true;
	j->kill_at = ap_now_ms() + AP_JOB_GRACE_MS;
	return AP_OK;
}

void
ap_jobs_shutdown(void)
{
	uint64_t until = ap_now_ms() + AP_JOB_GRACE_MS;
	bool left = false;

	for (struct job *j = J_list; j != NULL; j = j->next)
		if (j->state == JOB_RUNNING && !j->reaped) {
			AP_WARN("job %lld (%s) is lost: the helper is stopping", (long long)j->id,
			    j->op->name);
			kill(-j->pid, SIGTERM);
			left = true;
		}
	while (left) {
		left = false;
		for (struct job *j = J_list; j != NULL; j = j->next) {
			int st;

			if (j->state != JOB_RUNNING || j->reaped)
				continue;
			if (waitpid(j->pid, &st, WNOHANG) == j->pid) {
				j->reaped = true;
				continue;
			}
			if (ap_now_ms() >= until)
				kill(-j->pid, SIGKILL);
			left = true;
		}
		if (left)
			nanosleep(&(struct timespec){ .tv_nsec = 20 * 1000 * 1000 }, NULL);
	}
}
