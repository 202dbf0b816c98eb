/*
 * spawn_io.c — the bounded output of a program, shared by both spawn modes
 * (spawn.c's fork and execve, spawn_unit.c's transient units).
 */
#include <errno.h>
#include <unistd.h>

#include "spawn.h"

/*
 * Read what is there on *fd into the bounded buffer, at most rounds reads;
 * closes *fd at EOF or error.
 */
void
ap_spawn_drain(const struct ap_spawn *sp, int stream, int *fd, struct ap_buf *b, size_t *dropped,
    size_t max, int rounds)
{
	char chunk[8192];

	while (rounds-- > 0) {
		ssize_t r = read(*fd, chunk, sizeof(chunk));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return;
		if (r <= 0) {
			close(*fd);
			*fd = -1;
			return;
		}
		if (sp->on_output != NULL)
			sp->on_output(sp->on_output_ctx, stream, chunk, (size_t)r);
		size_t keep = b->len < max ? max - b->len : 0;

		if (keep > (size_t)r)
			keep = (size_t)r;
		if (keep > 0)
			ap_buf_append(b, chunk, keep);
		*dropped += (size_t)r - keep;
	}
}

