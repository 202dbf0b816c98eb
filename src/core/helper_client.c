/*
 * helper_client.c — the workers' side of the helper protocol: problem code
 * names, and one request → one response over the helper's unix socket with
 * a deadline covering connect, write and read. Everything that goes wrong
 * becomes a problem with a code; nothing here blocks past the deadline.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aapanel/helper.h"

struct ap_helper_client {
	char *path;
	int timeout_ms;
	size_t max_response;
	int fd;          /* -1 while not connected */
	int64_t next_id; /* request ids, 1, 2, ... per client */
	int rx_fd;       /* a descriptor that came with the answer being read, or -1 */
};

struct ap_helper_client *
ap_helper_client_new(const char *socket_path, int timeout_ms, size_t max_response)
{
	struct ap_helper_client *h = ap_xcalloc(1, sizeof(*h));

	h->path = ap_xstrdup(socket_path != NULL ? socket_path : "");
	h->timeout_ms = timeout_ms > 0 ? timeout_ms : 1;
	h->max_response = max_response < 1024 ? 1024 : max_response;
	h->fd = -1;
	h->rx_fd = -1;
	h->next_id = 1;
	return h;
}

static void
client_close(struct ap_helper_client *h)
{
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
}

void
ap_helper_client_free(struct ap_helper_client *h)
{
	if (h == NULL)
		return;
	client_close(h);
	free(h->path);
	free(h);
}

bool
ap_helper_client_connected(const struct ap_helper_client *h)
{
	return h != NULL && h->fd >= 0;
}

/* Milliseconds left until deadline (0 when passed). */
static int
left_ms(uint64_t deadline)
{
	uint64_t now = ap_now_ms();

	return now >= deadline ? 0 : (int)(deadline - now);
}

/* Wait for events on fd until the deadline: 1 ready, 0 timed out, -1 error. */
static int
wait_fd(int fd, short events, uint64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };

	for (;;) {
		int n = poll(&p, 1, left_ms(deadline));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		return n == 0 ? 0 : 1;
	}
}

static void
unavailable(struct ap_problem *pb, const char *path, const char *what)
{
	ap_problem_set(pb, AP_PB_UNAVAILABLE, NULL, "the helper is unavailable (%s: %s)",
	    path, what);
}

/*
 * Connect to the unix socket before the deadline. A full backlog (EAGAIN on
 * a non-blocking AF_UNIX connect) is retried; a missing socket or a refused
 * connection (nobody listening: the helper is not running) is final.
 */
static bool
client_connect(struct ap_helper_client *h, uint64_t deadline, struct ap_problem *pb)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = -1;

	if (h->path[0] == '\0' || strlen(h->path) >= sizeof(sa.sun_path)) {
		unavailable(pb, h->path, "no usable socket path");
		return false;
	}
	memcpy(sa.sun_path, h->path, strlen(h->path) + 1);
	for (;;) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0) {
			unavailable(pb, h->path, strerror(errno));
			return false;
		}
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			break;
		if (errno == EINPROGRESS) {
			int err = 0;
			socklen_t len = sizeof(err);

			if (wait_fd(fd, POLLOUT, deadline) != 1) {
				unavailable(pb, h->path, "connect timed out");
				goto fail;
			}
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
				unavailable(pb, h->path, strerror(err != 0 ? err : errno));
				goto fail;
			}
			break;
		}
		if (errno != EAGAIN && errno != EINTR) {
			unavailable(pb, h->path, strerror(errno));
			goto fail;
		}
		close(fd);
		fd = -1;
		if (left_ms(deadline) == 0) {
			unavailable(pb, h->path, "connect timed out (backlog full)");
			return false;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 2 * 1000 * 1000 }, NULL);
	}
	h->fd = fd;
	return true;
fail:
	close(fd);
	return false;
}

/*
 * A kept connection is usable when nothing is waiting on it: a readable
 * idle connection means the helper closed it (EOF) or sent something
 * unasked, and either way it is replaced.
 */
static bool
client_stale(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) != 0;
}

static bool
send_all(struct ap_helper_client *h, const char *p, size_t n, uint64_t deadline,
    struct ap_problem *pb)
{
	while (n > 0) {
		ssize_t w = send(h->fd, p, n, MSG_NOSIGNAL);

		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			if (wait_fd(h->fd, POLLOUT, deadline) == 1)
				continue;
			unavailable(pb, h->path, "the helper did not take the request in time");
			return false;
		}
		unavailable(pb, h->path, strerror(errno));
		return false;
	}
	return true;
}

/*
 * recv() that also takes the descriptors passed with the bytes (SCM_RIGHTS):
 * the first is kept in h->rx_fd for the caller, any other is closed (the
 * helper passes at most one per answer).
 */
static ssize_t
recv_fds(struct ap_helper_client *h, char *buf, size_t n)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(4 * sizeof(int))];
	} u;
	struct iovec iov = { .iov_base = buf, .iov_len = n };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
		.msg_controllen = sizeof(u.buf) };
	ssize_t r = recvmsg(h->fd, &mh, MSG_CMSG_CLOEXEC);

	if (r < 0)
		return r;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
		size_t nfd;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < nfd; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (h->rx_fd < 0)
				h->rx_fd = fd;
			else
				close(fd);
		}
	}
	return r;
}

/*
 * Read one line (without its newline) into b before the deadline. More
 * than one line is a protocol error: the helper answers each request once.
 */
static bool
recv_line(struct ap_helper_client *h, struct ap_buf *b, uint64_t deadline,
    struct ap_problem *pb)
{
	char chunk[4096];

	for (;;) {
		char *nl = b->len > 0 ? memchr(b->data, '\n', b->len) : NULL;
		ssize_t r;

		if ((nl != NULL ? (size_t)(nl - b->data) : b->len) > h->max_response) {
			ap_problem_set(pb, AP_PB_FAILED, NULL,
			    "the helper's response exceeds %zu bytes", h->max_response);
			return false;
		}
		if (nl != NULL) {
			if ((size_t)(nl - b->data) + 1 != b->len) {
				ap_problem_set(pb, AP_PB_FAILED, NULL,
				    "the helper sent more than one response line");
				return false;
			}
			b->len--;
			b->data[b->len] = '\0';
			return true;
		}
		r = recv_fds(h, chunk, sizeof(chunk));
		if (r > 0) {
			ap_buf_append(b, chunk, (size_t)r);
			continue;
		}
		if (r == 0) {
			unavailable(pb, h->path, "the helper closed the connection without answering");
			return false;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN) {
			unavailable(pb, h->path, strerror(errno));
			return false;
		}
		if (wait_fd(h->fd, POLLIN, deadline) == 1)
			continue;
		ap_problem_set(pb, AP_PB_UNAVAILABLE, NULL,
		    "the helper did not answer within %d ms", h->timeout_ms);
		return false;
	}
}

static const char *
str_member(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static enum ap_err
code_err(enum ap_pb_code c)
{
	switch (c) {
	case AP_PB_INVALID:
	case AP_PB_UNSUPPORTED:
		return AP_ERR_INVAL;
	case AP_PB_NOT_FOUND:
		return AP_ERR_NOTFOUND;
	case AP_PB_DENIED:
		return AP_ERR_PERM;
	case AP_PB_TOO_LARGE:
		return AP_ERR_TOOBIG;
	case AP_PB_BUSY:
	case AP_PB_TIMEOUT:
	case AP_PB_UNAVAILABLE:
		return AP_ERR_UNAVAIL;
	default:
		return AP_ERR_IO;
	}
}

/* The response's "id": the request's, or null on an error about the connection. */
static bool
id_matches(struct json_object *o, bool ok, int64_t id)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, "id", &v))
		return false;
	if (v == NULL) /* json null */
		return !ok;
	return json_object_is_type(v, json_type_int) && json_object_get_int64(v) == id;
}

/*
 * Turn a response line into the result or a problem. *in_step: the line
 * answered this very request (carries its id), so the connection is still
 * usable for the next one.
 */
static enum ap_err
parse_response(const char *line, size_t len, int64_t id, struct json_object **result,
    struct ap_problem *pb, bool *in_step)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o = NULL, *v, *err;
	enum ap_pb_code code;
	enum ap_err rc = AP_ERR_IO;
	bool ok;

	*in_step = false;
	o = json_tokener_parse_ex(tok, line, (int)len);
	if (o == NULL || json_tokener_get_parse_end(tok) != len ||
	    !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "ok", &v) || !json_object_is_type(v, json_type_boolean)) {
		ap_problem_set(pb, AP_PB_FAILED, NULL,
		    "the helper sent a response that is not the protocol");
		goto out;
	}
	ok = json_object_get_boolean(v);
	if (!id_matches(o, ok, id)) {
		ap_problem_set(pb, AP_PB_FAILED, NULL, "the helper answered another request");
		goto out;
	}
	if (ok) {
		if (!json_object_object_get_ex(o, "result", &v) ||
		    !json_object_is_type(v, json_type_object)) {
			ap_problem_set(pb, AP_PB_FAILED, NULL,
			    "the helper's answer has no result object");
			goto out;
		}
		*result = json_object_get(v);
		*in_step = true;
		rc = AP_OK;
		goto out;
	}
	if (!json_object_object_get_ex(o, "error", &err) ||
	    !json_object_is_type(err, json_type_object) ||
	    !ap_pb_parse(str_member(err, "code"), &code)) {
		ap_problem_set(pb, AP_PB_FAILED, NULL, "the helper's error has no known code");
		goto out;
	}
	ap_problem_set(pb, code, str_member(err, "field"), "%s",
	    str_member(err, "reason") != NULL ? str_member(err, "reason") : "");
	/*
	 * The helper keeps the connection after an operation's own problems
	 * (its arguments, or what it did) and closes it after anything else
	 * (unknown operation, too large, denied, busy, timeout): mirror that,
	 * so the next call never writes into a connection being closed.
	 */
	json_object_object_get_ex(o, "id", &v);
	*in_step = v != NULL && (code == AP_PB_INVALID || code == AP_PB_NOT_FOUND ||
				    code == AP_PB_EXISTS || code == AP_PB_FAILED);
	rc = code_err(code);
out:
	json_object_put(o);
	json_tokener_free(tok);
	return rc;
}

static enum ap_err call(struct ap_helper_client *h, const char *op, struct json_object *args,
    struct json_object **result, int *fdp, struct ap_problem *pb);

enum ap_err
ap_helper_call(struct ap_helper_client *h, const char *op, struct json_object *args,
    struct json_object **result, struct ap_problem *pb)
{
	return call(h, op, args, result, NULL, pb);
}

enum ap_err
ap_helper_call_fd(struct ap_helper_client *h, const char *op, struct json_object *args,
    struct json_object **result, int *fd, struct ap_problem *pb)
{
	struct ap_problem local;
	enum ap_err rc;

	if (pb == NULL)
		pb = &local;
	*fd = -1;
	rc = call(h, op, args, result, fd, pb);
	if (rc == AP_OK && *fd < 0) {
		json_object_put(*result);
		*result = NULL;
		ap_problem_set(pb, AP_PB_FAILED, NULL, "the helper passed no descriptor with %s", op);
		return AP_ERR_IO;
	}
	return rc;
}

static enum ap_err
call(struct ap_helper_client *h, const char *op, struct json_object *args,
    struct json_object **result, int *fdp, struct ap_problem *pb)
{
	uint64_t deadline = ap_now_ms() + (uint64_t)h->timeout_ms;
	struct json_object *req = json_object_new_object();
	struct ap_buf line = { 0 }, resp = { 0 };
	struct ap_problem sendpb;
	enum ap_err rc = AP_ERR_UNAVAIL;
	int64_t id = h->next_id++;
	struct ap_problem local;
	bool sent, in_step = false;

	if (pb == NULL)
		pb = &local;
	*result = NULL;
	/* The one envelope mistake a caller can make: an op name the helper would refuse and close on. */
	if (op == NULL || op[0] == '\0' || strlen(op) > 64) {
		ap_problem_set(pb, AP_PB_INVALID, "op",
		    "must be an operation name of 1 to 64 characters");
		json_object_put(req);
		return AP_ERR_INVAL;
	}
	json_object_object_add(req, "id", json_object_new_int64(id));
	json_object_object_add(req, "op", json_object_new_string(op != NULL ? op : ""));
	json_object_object_add(req, "args",
	    args != NULL ? json_object_get(args) : json_object_new_object());
	ap_buf_puts(&line,
	    json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	ap_buf_putc(&line, '\n');
	if (h->fd >= 0 && client_stale(h->fd))
		client_close(h);
	if (h->fd < 0 && !client_connect(h, deadline, pb))
		goto out;
	/*
	 * A connection the helper refused (denied, busy) is answered before
	 * the helper reads anything, so even a failed write may be followed
	 * by a readable reason: read it, and report the write's failure only
	 * when there is none.
	 */
	sent = send_all(h, line.data, line.len, deadline, &sendpb);
	if (!recv_line(h, &resp, deadline, pb)) {
		if (!sent)
			*pb = sendpb;
		rc = code_err(pb->code);
		goto fail;
	}
	rc = parse_response(resp.data, resp.len, id, result, pb, &in_step);
	/*
	 * An answer about the connection ("id":null: denied, busy, too large)
	 * comes just before the helper closes it, and a malformed answer means
	 * the two sides are out of step: keep only a connection that answered
	 * this request in turn.
	 */
	if (in_step)
		goto out;
fail:
	client_close(h);
out:
	/* A descriptor goes only to a caller that asked for one, and only with a success. */
	if (h->rx_fd >= 0) {
		if (rc == AP_OK && fdp != NULL)
			*fdp = h->rx_fd;
		else
			close(h->rx_fd);
		h->rx_fd = -1;
	}
	json_object_put(req);
	ap_buf_free(&line);
	ap_buf_free(&resp);
	return rc;
}
