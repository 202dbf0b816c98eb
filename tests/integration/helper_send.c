/*
 * helper_send.c — a test client for the helper's socket (t_helper.sh).
 *
 *   helper_send [--keep-open] [--timeout MS] SOCKET
 *       send stdin byte for byte, then (unless --keep-open) shut down the
 *       write side; print everything the helper sends until it closes the
 *       connection. Exit 0, 3 when MS passed first, 1 when no connection.
 *   helper_send --call [--timeout MS] SOCKET OP [ARGS_JSON]
 *       one request through the client library (include/aapanel/helper.h);
 *       print {"ok":true,"result":...} or {"ok":false,"error":{...},
 *       "elapsed_ms":N}; exit 0 when ok, 1 otherwise.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aapanel/helper.h"

static int
raw(const char *path, int timeout_ms, bool keep_open)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint64_t deadline = ap_now_ms() + (uint64_t)timeout_ms;
	char buf[65536];
	ssize_t n;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || strlen(path) >= sizeof(sa.sun_path))
		return 1;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		fprintf(stderr, "helper_send: connect %s: %s\n", path, strerror(errno));
		return 1;
	}
	while ((n = read(STDIN_FILENO, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off < n;) {
			ssize_t w = send(fd, buf + off, (size_t)(n - off), MSG_NOSIGNAL);

			if (w < 0) {
				/* The helper may refuse and close before reading it all. */
				fprintf(stderr, "helper_send: send: %s\n", strerror(errno));
				goto readback;
			}
			off += w;
		}
	}
	if (!keep_open)
		shutdown(fd, SHUT_WR);
readback:
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint64_t now = ap_now_ms();
		int r = poll(&p, 1, now >= deadline ? 0 : (int)(deadline - now));

		if (r == 0) {
			fflush(stdout);
			return 3;
		}
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "helper_send: recv: %s\n", strerror(errno));
			break;
		}
		if (n == 0)
			break;
		fwrite(buf, 1, (size_t)n, stdout);
	}
	fflush(stdout);
	close(fd);
	return 0;
}

static int
call(const char *path, int timeout_ms, const char *op, const char *args_text)
{
	struct ap_helper_client *h = ap_helper_client_new(path, timeout_ms, 1 << 20);
	struct json_object *args = NULL, *res = NULL, *out = json_object_new_object();
	struct ap_problem pb;
	uint64_t t0;
	enum ap_err rc;

	if (args_text != NULL && (args = json_tokener_parse(args_text)) == NULL) {
		fprintf(stderr, "helper_send: ARGS_JSON is not JSON\n");
		return 2;
	}
	t0 = ap_now_ms();
	rc = ap_helper_call(h, op, args, &res, &pb);
	json_object_object_add(out, "ok", json_object_new_boolean(rc == AP_OK));
	if (rc == AP_OK) {
		json_object_object_add(out, "result", res);
	} else {
		struct json_object *e = json_object_new_object();

		json_object_object_add(e, "code", json_object_new_string(ap_pb_name(pb.code)));
		json_object_object_add(e, "field", json_object_new_string(pb.field));
		json_object_object_add(e, "reason", json_object_new_string(pb.reason));
		json_object_object_add(out, "error", e);
	}
	json_object_object_add(out, "elapsed_ms", json_object_new_int64((int64_t)(ap_now_ms() - t0)));
	printf("%s\n", json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(out);
	json_object_put(args);
	ap_helper_client_free(h);
	return rc == AP_OK ? 0 : 1;
}

int
main(int argc, char **argv)
{
	bool keep_open = false, is_call = false;
	long long timeout = 5000;
	const char *errstr;
	int i = 1;

	for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
		if (strcmp(argv[i], "--keep-open") == 0)
			keep_open = true;
		else if (strcmp(argv[i], "--call") == 0)
			is_call = true;
		else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc &&
		    ap_strtonum(argv[i + 1], 1, 600000, &timeout, &errstr))
			i++;
		else
			goto usage;
	}
	if (!is_call && argc - i == 1)
		return raw(argv[i], (int)timeout, keep_open);
	if (is_call && (argc - i == 2 || argc - i == 3))
		return call(argv[i], (int)timeout, argv[i + 1], argc - i == 3 ? argv[i + 2] : NULL);
usage:
	fprintf(stderr, "usage: helper_send [--keep-open] [--timeout MS] SOCKET < request\n"
			"       helper_send --call [--timeout MS] SOCKET OP [ARGS_JSON]\n");
	return 2;
}
