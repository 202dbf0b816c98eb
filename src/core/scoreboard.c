/* scoreboard.c — the shared worker table (see scoreboard.h). */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aapanel/log.h"
#include "aapanel/scoreboard.h"

struct ap_sb {
	struct ap_sb_header *hdr;
	struct ap_sb_slot *slots;
	size_t maplen;
	bool writable;
};

static const char *const state_names[AP_SB__MAX] = {
	"free", "starting", "idle", "busy", "exiting",
};

const char *
ap_sb_state_name(enum ap_sb_state st)
{
	return (unsigned)st < AP_SB__MAX ? state_names[st] : "unknown";
}

static size_t
sb_size(unsigned nslots)
{
	return sizeof(struct ap_sb_header) + (size_t)nslots * sizeof(struct ap_sb_slot);
}

enum ap_err
ap_sb_create(const char *path, unsigned nslots, struct ap_sb **out)
{
	struct ap_sb *sb = NULL;
	char *tmp = NULL;
	void *map = MAP_FAILED;
	size_t len = sb_size(nslots);
	enum ap_err rc = AP_ERR_IO;
	int fd = -1;

	*out = NULL;
	/* Build the new file aside and rename it in, so a reader never maps a
	 * half-initialised table. */
	tmp = ap_xasprintf("%s.%d.tmp", path, (int)getpid());
	fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		AP_ERROR("open %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (ftruncate(fd, (off_t)len) != 0) {
		AP_ERROR("ftruncate %s: %s", tmp, strerror(errno));
		goto out;
	}
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		AP_ERROR("mmap %s: %s", tmp, strerror(errno));
		goto out;
	}
	sb = ap_xcalloc(1, sizeof(*sb));
	sb->hdr = map;
	sb->slots = (struct ap_sb_slot *)(sb->hdr + 1);
	sb->maplen = len;
	sb->writable = true;
	memset(map, 0, len);
	sb->hdr->magic = AP_SB_MAGIC;
	sb->hdr->version = AP_SB_VERSION;
	sb->hdr->nslots = nslots;
	if (rename(tmp, path) != 0) {
		AP_ERROR("rename %s: %s", path, strerror(errno));
		goto out;
	}
	map = MAP_FAILED;
	*out = sb;
	sb = NULL;
	rc = AP_OK;
out:
	if (sb != NULL) {
		munmap(sb->hdr, sb->maplen);
		free(sb);
		map = MAP_FAILED;
		unlink(tmp);
	}
	if (map != MAP_FAILED)
		munmap(map, len);
	if (fd >= 0)
		close(fd);
	if (rc != AP_OK && tmp != NULL)
		unlink(tmp);
	free(tmp);
	return rc;
}

enum ap_err
ap_sb_open(const char *path, struct ap_sb **out)
{
	struct ap_sb_header hdr;
	struct ap_sb *sb;
	struct stat st;
	void *map;
	int fd;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? AP_ERR_NOTFOUND : AP_ERR_IO;
	if (fstat(fd, &st) != 0 || (size_t)st.st_size < sizeof(hdr) ||
	    pread(fd, &hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr) ||
	    hdr.magic != AP_SB_MAGIC || hdr.version != AP_SB_VERSION ||
	    hdr.nslots > 4096 || (size_t)st.st_size < sb_size(hdr.nslots)) {
		close(fd);
		return AP_ERR_PARSE;
	}
	map = mmap(NULL, sb_size(hdr.nslots), PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return AP_ERR_IO;
	sb = ap_xcalloc(1, sizeof(*sb));
	sb->hdr = map;
	sb->slots = (struct ap_sb_slot *)(sb->hdr + 1);
	sb->maplen = sb_size(hdr.nslots);
	*out = sb;
	return AP_OK;
}

void
ap_sb_close(struct ap_sb *sb)
{
	if (sb == NULL)
		return;
	munmap(sb->hdr, sb->maplen);
	free(sb);
}

void
ap_sb_unlink(const char *path)
{
	unlink(path);
}

struct ap_sb_header *
ap_sb_header(struct ap_sb *sb)
{
	return sb->hdr;
}

void
ap_sb_reading_published(struct ap_sb *sb)
{
	__atomic_store_n(&sb->hdr->reading_ms, ap_now_ms(), __ATOMIC_RELAXED);
	__atomic_add_fetch(&sb->hdr->reading_gen, 1, __ATOMIC_RELEASE);
}

uint64_t
ap_sb_reading(struct ap_sb *sb, uint64_t *at_ms)
{
	uint64_t g = __atomic_load_n(&sb->hdr->reading_gen, __ATOMIC_ACQUIRE);

	*at_ms = __atomic_load_n(&sb->hdr->reading_ms, __ATOMIC_RELAXED);
	return g;
}

unsigned
ap_sb_nslots(const struct ap_sb *sb)
{
	return sb->hdr->nslots;
}

struct ap_sb_slot *
ap_sb_slot(struct ap_sb *sb, unsigned i)
{
	return i < sb->hdr->nslots ? &sb->slots[i] : NULL;
}

int
ap_sb_claim(struct ap_sb *sb, uint32_t generation)
{
	for (unsigned i = 0; i < sb->hdr->nslots; i++) {
		struct ap_sb_slot *s = &sb->slots[i];

		if (s->state == AP_SB_FREE && s->pid == 0) {
			memset(s, 0, sizeof(*s));
			s->generation = generation;
			s->started_ms = ap_now_ms();
			s->heartbeat_ms = s->started_ms; /* silence counts from the fork */
			__atomic_store_n(&s->state, AP_SB_STARTING, __ATOMIC_RELEASE);
			return (int)i;
		}
	}
	return -1;
}

void
ap_sb_release(struct ap_sb *sb, unsigned i)
{
	struct ap_sb_slot *s = ap_sb_slot(sb, i);

	if (s == NULL)
		return;
	sb->hdr->total_requests += s->requests;
	memset(s, 0, sizeof(*s));
	__atomic_store_n(&s->state, AP_SB_FREE, __ATOMIC_RELEASE);
}

int
ap_sb_find(struct ap_sb *sb, pid_t pid)
{
	for (unsigned i = 0; i < sb->hdr->nslots; i++)
		if (sb->slots[i].pid == pid && pid != 0)
			return (int)i;
	return -1;
}

void
ap_sb_begin(struct ap_sb *sb, unsigned i, const char *method,
    const char *path, const char *reqid)
{
	struct ap_sb_slot *s = ap_sb_slot(sb, i);

	if (s == NULL)
		return;
	snprintf(s->method, sizeof(s->method), "%s", method ? method : "");
	snprintf(s->path, sizeof(s->path), "%s", path ? path : "");
	snprintf(s->reqid, sizeof(s->reqid), "%s", reqid ? reqid : "");
	__atomic_store_n(&s->req_start_ms, ap_now_ms(), __ATOMIC_RELEASE);
	__atomic_store_n(&s->state, AP_SB_BUSY, __ATOMIC_RELEASE);
}

void
ap_sb_end(struct ap_sb *sb, unsigned i)
{
	struct ap_sb_slot *s = ap_sb_slot(sb, i);

	if (s == NULL)
		return;
	/* Beat before turning idle: the master must never see an idle slot
	 * with the stale beat of a long request. */
	__atomic_store_n(&s->heartbeat_ms, ap_now_ms(), __ATOMIC_RELEASE);
	__atomic_store_n(&s->state, AP_SB_IDLE, __ATOMIC_RELEASE);
	__atomic_add_fetch(&s->requests, 1, __ATOMIC_RELAXED);
}

void
ap_sb_heartbeat(struct ap_sb *sb, unsigned i)
{
	struct ap_sb_slot *s = ap_sb_slot(sb, i);

	if (s != NULL)
		__atomic_store_n(&s->heartbeat_ms, ap_now_ms(), __ATOMIC_RELEASE);
}

uint64_t
ap_sb_silent_ms(const struct ap_sb_slot *s, uint64_t now)
{
	uint32_t st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
	uint64_t beat = __atomic_load_n(&s->heartbeat_ms, __ATOMIC_ACQUIRE);

	if (s->pid <= 0 || s->killed || (st != AP_SB_STARTING && st != AP_SB_IDLE))
		return 0;
	return now > beat ? now - beat : 0;
}

void
ap_sb_set_state(struct ap_sb *sb, unsigned i, enum ap_sb_state st)
{
	struct ap_sb_slot *s = ap_sb_slot(sb, i);

	if (s != NULL)
		__atomic_store_n(&s->state, (uint32_t)st, __ATOMIC_RELEASE);
}

unsigned
ap_sb_live(struct ap_sb *sb, unsigned *busy)
{
	unsigned n = 0, b = 0;

	for (unsigned i = 0; i < sb->hdr->nslots; i++) {
		uint32_t st = __atomic_load_n(&sb->slots[i].state, __ATOMIC_ACQUIRE);

		if (sb->slots[i].pid != 0 && st >= AP_SB_STARTING && st <= AP_SB_BUSY) {
			n++;
			if (st == AP_SB_BUSY)
				b++;
		}
	}
	if (busy)
		*busy = b;
	return n;
}
