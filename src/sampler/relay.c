/* relay.c — live events across hosts (relay.h). */
#include <sys/eventfd.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "aapanel/dbconn.h"
#include "aapanel/helper.h"
#include "aapanel/log.h"
#include "relay.h"

#define RELAY_CHANNEL "aapanel_events"
#define RELAY_KEEP_S 600
#define RELAY_SEEN 64
#define RELAY_BATCH 200
#define RELAY_OUT_MAX (1u << 20) /* pending stream text; beyond it the oldest is dropped */

struct seen {
	int64_t id;
	char state[16];
	int progress;
};

struct ap_relay {
	const struct ap_config *cfg;
	char host[256];
	struct ap_db *db;
	struct ap_helper_client *helper;
	bool listening;
	int64_t last_id; /* the newest event read */
	time_t pruned;
	struct seen seen[RELAY_SEEN];
	unsigned seen_next;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	struct ap_buf out; /* under mu */
	int efd;
};

/* The database, opened again after it was lost; false while it is down. */
static bool
relay_db(struct ap_relay *r)
{
	if (r->db != NULL && ap_db_connected(r->db))
		return true;
	if (r->db == NULL && ap_dbconn_open(r->cfg, &r->db) != AP_DB_OK) {
		ap_db_close(r->db);
		r->db = NULL;
		return false;
	}
	if (ap_db_ping(r->db) != AP_DB_OK)
		return false;
	r->listening = false;
	if (r->last_id == 0 && ap_db_query_int64(r->db, "SELECT COALESCE(MAX(id), 0) FROM live_events",
				   &r->last_id) != AP_DB_OK)
		return false;
	if (ap_db_has_notify(r->db))
		r->listening = ap_db_listen(r->db, RELAY_CHANNEL) == AP_DB_OK;
	return true;
}

/* Changed since the last round (remembered when it is). */
static bool
changed(struct ap_relay *r, int64_t id, const char *state, int progress)
{
	struct seen *s;

	for (unsigned i = 0; i < RELAY_SEEN; i++) {
		s = &r->seen[i];
		if (s->id != id)
			continue;
		if (strcmp(s->state, state) == 0 && s->progress == progress)
			return false;
		snprintf(s->state, sizeof(s->state), "%s", state);
		s->progress = progress;
		return true;
	}
	s = &r->seen[r->seen_next++ % RELAY_SEEN];
	s->id = id;
	snprintf(s->state, sizeof(s->state), "%s", state);
	s->progress = progress;
	return true;
}

static const char *
str_of(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string) ?
	    json_object_get_string(v) : "";
}

static int64_t
int_of(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

/* This host's helper's jobs: a row for each one that moved. */
static void
publish(struct ap_relay *r)
{
	struct json_object *res = NULL, *jobs;
	struct ap_problem pb;
	struct ap_db_stmt *st = NULL;
	size_t wrote = 0;

	ap_problem_clear(&pb);
	if (ap_helper_call(r->helper, "job.list", NULL, &res, &pb) != AP_OK)
		return; /* no helper on this host now: nothing to tell */
	if (!json_object_object_get_ex(res, "jobs", &jobs) || !json_object_is_type(jobs, json_type_array))
		goto out;
	for (size_t i = json_object_array_length(jobs); i-- > 0;) { /* oldest first */
		struct json_object *j = json_object_array_get_idx(jobs, i), *ev;
		int64_t id = int_of(j, "id");
		int progress = (int)int_of(j, "progress");
		const char *state = str_of(j, "state");

		if (id <= 0 || !changed(r, id, state, progress))
			continue;
		ev = json_object_new_object();
		json_object_object_add(ev, "host", json_object_new_string(r->host));
		json_object_object_add(ev, "id", json_object_new_int64(id));
		json_object_object_add(ev, "op", json_object_new_string(str_of(j, "op")));
		json_object_object_add(ev, "state", json_object_new_string(state));
		json_object_object_add(ev, "progress", json_object_new_int(progress));
		if (ap_db_prepare_cached(r->db,
			"INSERT INTO live_events (host, kind, body, at) VALUES (?, 'job', ?, ?)", &st) ==
		    AP_DB_OK) {
			ap_db_bind_text(st, 1, r->host, -1);
			ap_db_bind_text(st, 2, json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN), -1);
			ap_db_bind_int64(st, 3, (int64_t)time(NULL));
			if (ap_db_step(st) == AP_DB_DONE)
				wrote++;
			else
				changed(r, id, "?", -1); /* try again next round */
			ap_db_reset(st);
		}
		json_object_put(ev);
	}
	if (wrote > 0)
		(void)ap_db_notify(r->db, RELAY_CHANNEL);
out:
	json_object_put(res);
}

/* What every host published since the last read, handed to the stream. */
static void
take_new(struct ap_relay *r)
{
	struct ap_db_stmt *st = NULL;
	struct ap_buf text = { 0 };
	uint64_t one = 1;
	enum ap_db_rc rc;

	if (ap_db_prepare_cached(r->db,
		"SELECT id, body FROM live_events WHERE id > ? ORDER BY id LIMIT 200", &st) != AP_DB_OK)
		return;
	ap_db_bind_int64(st, 1, r->last_id);
	while ((rc = ap_db_step(st)) == AP_DB_ROW) {
		const char *body = ap_db_col_text(st, 1, NULL);

		r->last_id = ap_db_col_int64(st, 0);
		if (body == NULL || strchr(body, '\n') != NULL)
			continue; /* one data line per event */
		ap_buf_puts(&text, "event: job\ndata: ");
		ap_buf_puts(&text, body);
		ap_buf_puts(&text, "\n\n");
	}
	ap_db_reset(st);
	if (text.len == 0)
		return;
	pthread_mutex_lock(&r->mu);
	if (r->out.len + text.len > RELAY_OUT_MAX)
		ap_buf_reset(&r->out); /* nobody took them: the stream's clients missed these */
	ap_buf_append(&r->out, text.data, text.len);
	pthread_mutex_unlock(&r->mu);
	ap_buf_free(&text);
	if (write(r->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		AP_WARN("relay: eventfd: %s", strerror(errno));
}

static void
prune(struct ap_relay *r)
{
	time_t now = time(NULL);
	struct ap_db_stmt *st = NULL;

	if (now - r->pruned < 60)
		return;
	r->pruned = now;
	if (ap_db_prepare(r->db, "DELETE FROM live_events WHERE at < ?", &st) != AP_DB_OK)
		return;
	ap_db_bind_int64(st, 1, (int64_t)now - RELAY_KEEP_S);
	(void)ap_db_step(st);
	ap_db_finalize(st);
}

/* Wait RELAY_POLL_MS or until stopped; true when stopping. */
static bool
pause_round(struct ap_relay *r)
{
	struct timespec ts;
	bool stop;

	pthread_mutex_lock(&r->mu);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += RELAY_POLL_MS * 1000000L;
	ts.tv_sec += ts.tv_nsec / 1000000000L;
	ts.tv_nsec %= 1000000000L;
	while (!r->stop && pthread_cond_timedwait(&r->cv, &r->mu, &ts) != ETIMEDOUT)
		;
	stop = r->stop;
	pthread_mutex_unlock(&r->mu);
	return stop;
}

static bool
stopping(struct ap_relay *r)
{
	bool stop;

	pthread_mutex_lock(&r->mu);
	stop = r->stop;
	pthread_mutex_unlock(&r->mu);
	return stop;
}

static void *
run(void *arg)
{
	struct ap_relay *r = arg;

	while (!stopping(r)) {
		if (!relay_db(r)) {
			if (pause_round(r))
				break;
			continue;
		}
		publish(r);
		take_new(r);
		prune(r);
		/* PostgreSQL: woken by another host's NOTIFY; else a poll. */
		if (r->listening) {
			if (ap_db_wait_notify(r->db, RELAY_POLL_MS) < 0)
				r->listening = false;
		} else if (pause_round(r))
			break;
	}
	return NULL;
}

struct ap_relay *
ap_relay_start(const struct ap_config *cfg, const char *host)
{
	struct ap_relay *r = ap_xcalloc(1, sizeof(*r));

	r->cfg = cfg;
	snprintf(r->host, sizeof(r->host), "%s", host);
	r->helper = ap_helper_client_new(cfg->helper_socket, cfg->helper_timeout_ms, 1 << 20);
	r->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	if (r->efd < 0 || pthread_create(&r->th, NULL, run, r) != 0) {
		AP_ERROR("cannot start the live events relay");
		if (r->efd >= 0)
			close(r->efd);
		ap_helper_client_free(r->helper);
		free(r);
		return NULL;
	}
	return r;
}

int
ap_relay_fd(const struct ap_relay *r)
{
	return r ? r->efd : -1;
}

char *
ap_relay_take(struct ap_relay *r)
{
	uint64_t n;
	char *s = NULL;

	if (r == NULL)
		return NULL;
	while (read(r->efd, &n, sizeof(n)) == (ssize_t)sizeof(n))
		;
	pthread_mutex_lock(&r->mu);
	if (r->out.len > 0) {
		s = ap_xstrndup(r->out.data, r->out.len);
		ap_buf_reset(&r->out);
	}
	pthread_mutex_unlock(&r->mu);
	return s;
}

void
ap_relay_stop(struct ap_relay *r)
{
	if (r == NULL)
		return;
	pthread_mutex_lock(&r->mu);
	r->stop = true;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->th, NULL);
	ap_helper_client_free(r->helper);
	ap_db_close(r->db);
	ap_buf_free(&r->out);
	close(r->efd);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	free(r);
}
