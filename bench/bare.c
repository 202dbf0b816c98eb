/*
 * bare.c — the ceiling of this architecture: a bare libfcgi responder that
 * answers every request with a fixed 4 KiB HTML page. Used by make bench.
 * Usage: bench-bare SOCKET_PATH   (prefork: 2*cores+1 processes)
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char page[4096];

int
main(int argc, char **argv)
{
	FCGX_Request req;
	int fd, i, n;
	size_t off = 0;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	if (argc != 2) {
		fprintf(stderr, "usage: %s SOCKET_PATH\n", argv[0]);
		return 2;
	}
	off += (size_t)snprintf(page, sizeof(page), "<!doctype html><html><head><title>bare</title></head><body>");
	while (off < sizeof(page) - 64)
		off += (size_t)snprintf(page + off, sizeof(page) - off, "<p>row %zu lorem ipsum dolor sit amet</p>\n", off);
	off += (size_t)snprintf(page + off, sizeof(page) - off, "</body></html>\n");
	FCGX_Init();
	unlink(argv[1]);
	fd = FCGX_OpenSocket(argv[1], 511);
	if (fd < 0) {
		perror("FCGX_OpenSocket");
		return 1;
	}
	chmod(argv[1], 0666);
	n = (int)(ncpu > 0 ? 2 * ncpu + 1 : 3);
	for (i = 0; i < n; i++) {
		if (fork() == 0) {
			FCGX_InitRequest(&req, fd, 0);
			while (FCGX_Accept_r(&req) >= 0) {
				/* libfcgi has its own printf: no %zu. */
				FCGX_FPrintF(req.out, "Content-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n\r\n", (int)off);
				FCGX_PutStr(page, (int)off, req.out);
				FCGX_Finish_r(&req);
			}
			_exit(0);
		}
	}
	signal(SIGTERM, SIG_IGN);
	while (wait(NULL) > 0)
		;
	return 0;
}
