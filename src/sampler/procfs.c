/*
 * procfs.c — bounded parsers for the /proc files the sampler reads
 * (procfs.h). Each works on one line at a time, reads every number with an
 * overflow check and skips a line it cannot read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aapanel/procfs.h"

/* The next line of *p as [s, e), *p moved past it; false at the end. */
static bool
next_line(const char **p, const char **s, const char **e)
{
	const char *q = *p;

	if (q == NULL || *q == '\0')
		return false;
	*s = q;
	while (*q != '\0' && *q != '\n')
		q++;
	*e = q;
	*p = *q == '\n' ? q + 1 : q;
	return true;
}

static void
skip_blanks(const char **p, const char *e)
{
	while (*p < e && (**p == ' ' || **p == '\t'))
		(*p)++;
}

/* An unsigned decimal at *p (after blanks), at most UINT64_MAX. */
static bool
u64_at(const char **p, const char *e, uint64_t *out)
{
	uint64_t v = 0;
	const char *q;

	skip_blanks(p, e);
	q = *p;
	if (q >= e || *q < '0' || *q > '9')
		return false;
	for (; q < e && *q >= '0' && *q <= '9'; q++) {
		unsigned d = (unsigned)(*q - '0');

		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	*p = q;
	return true;
}

/* A signed decimal (for fields such as nice, which may be negative). */
static bool
i64_at(const char **p, const char *e, int64_t *out)
{
	bool neg = false;
	uint64_t v;

	skip_blanks(p, e);
	if (*p < e && **p == '-') {
		neg = true;
		(*p)++;
	}
	if (!u64_at(p, e, &v) || v > (uint64_t)INT64_MAX)
		return false;
	*out = neg ? -(int64_t)v : (int64_t)v;
	return true;
}

/* A non-negative decimal fraction ("2.68", "6381.56"). */
static bool
double_at(const char **p, const char *e, double *out)
{
	uint64_t ip, fp = 0;
	double scale = 1.0;

	if (!u64_at(p, e, &ip))
		return false;
	if (*p < e && **p == '.') {
		(*p)++;
		for (int n = 0; *p < e && **p >= '0' && **p <= '9'; (*p)++, n++) {
			if (n < 15) {
				fp = fp * 10 + (uint64_t)(**p - '0');
				scale *= 10.0;
			}
		}
	}
	*out = (double)ip + (double)fp / scale;
	return true;
}

/* The next blank-separated word of [*p, e) as [*ws, *we). */
static bool
word_at(const char **p, const char *e, const char **ws, const char **we)
{
	skip_blanks(p, e);
	if (*p >= e)
		return false;
	*ws = *p;
	while (*p < e && **p != ' ' && **p != '\t')
		(*p)++;
	*we = *p;
	return true;
}

static bool
copy_word(char *dst, size_t dstlen, const char *s, const char *e)
{
	size_t n = (size_t)(e - s);

	if (n == 0 || n >= dstlen)
		return false;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return true;
}

/* ---------------------------------------------------------------- /proc/stat */

static bool
cpu_line(const char *s, const char *e, struct ap_cpu_times *c)
{
	uint64_t v[8] = { 0 };
	const char *p = s + 3;
	int n = 0;

	memset(c, 0, sizeof(*c));
	c->id = -1;
	if (p < e && *p >= '0' && *p <= '9') {
		uint64_t id;

		if (!u64_at(&p, e, &id) || id >= AP_PROC_MAX_CPUS * 64u)
			return false;
		c->id = (int)id;
	}
	if (p >= e || (*p != ' ' && *p != '\t'))
		return false;
	while (n < 8 && u64_at(&p, e, &v[n]))
		n++;
	if (n < 4) /* user nice system idle: every kernel has them */
		return false;
	c->user = v[0];
	c->nice = v[1];
	c->system = v[2];
	c->idle = v[3];
	c->iowait = v[4];
	c->irq = v[5];
	c->softirq = v[6];
	c->steal = v[7];
	return true;
}

bool
ap_procfs_parse_stat(const char *text, struct ap_cpu_times *total, struct ap_cpu_times *cpus,
    int max, int *ncpu)
{
	const char *p = text, *s, *e;
	bool have_total = false;
	int n = 0;

	while (next_line(&p, &s, &e)) {
		struct ap_cpu_times c;

		if (e - s < 4 || strncmp(s, "cpu", 3) != 0 || !cpu_line(s, e, &c))
			continue;
		if (c.id < 0) {
			if (!have_total)
				*total = c;
			have_total = true;
		} else if (n < max)
			cpus[n++] = c;
	}
	*ncpu = n;
	return have_total;
}

/* ---------------------------------------------------------------- loadavg, uptime */

bool
ap_procfs_parse_loadavg(const char *text, double load[3], int64_t *running, int64_t *tasks)
{
	const char *p = text, *e = text + strlen(text);
	uint64_t r, t;

	for (int i = 0; i < 3; i++)
		if (!double_at(&p, e, &load[i]))
			return false;
	if (!u64_at(&p, e, &r) || p >= e || *p != '/')
		return false;
	p++;
	if (!u64_at(&p, e, &t) || r > INT64_MAX || t > INT64_MAX)
		return false;
	*running = (int64_t)r;
	*tasks = (int64_t)t;
	return true;
}

bool
ap_procfs_parse_uptime(const char *text, double *uptime)
{
	const char *p = text;

	return double_at(&p, text + strlen(text), uptime);
}

/* ---------------------------------------------------------------- meminfo */

bool
ap_procfs_parse_meminfo(const char *text, struct ap_mem *m)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
		{ "MemTotal", offsetof(struct ap_mem, total) },
		{ "MemFree", offsetof(struct ap_mem, free) },
		{ "MemAvailable", offsetof(struct ap_mem, available) },
		{ "Buffers", offsetof(struct ap_mem, buffers) },
		{ "Cached", offsetof(struct ap_mem, cached) },
		{ "SReclaimable", offsetof(struct ap_mem, sreclaimable) },
		{ "Shmem", offsetof(struct ap_mem, shmem) },
		{ "SwapTotal", offsetof(struct ap_mem, swap_total) },
		{ "SwapFree", offsetof(struct ap_mem, swap_free) },
	};
	const char *p = text, *s, *e;
	bool have_total = false;

	memset(m, 0, sizeof(*m));
	while (next_line(&p, &s, &e)) {
		const char *colon = memchr(s, ':', (size_t)(e - s));
		const char *q;
		uint64_t v;

		if (colon == NULL)
			continue;
		q = colon + 1;
		if (!u64_at(&q, e, &v))
			continue;
		skip_blanks(&q, e);
		/* "kB" (always, in practice); a bare number is bytes (HugePages_* counts are not read). */
		if (e - q >= 2 && q[0] == 'k' && q[1] == 'B') {
			if (v > UINT64_MAX / 1024)
				continue;
			v *= 1024;
		}
		for (size_t i = 0; i < AP_NELEM(keys); i++) {
			if (strlen(keys[i].key) == (size_t)(colon - s) &&
			    memcmp(keys[i].key, s, (size_t)(colon - s)) == 0) {
				*(uint64_t *)(void *)((char *)m + keys[i].off) = v;
				if (i == 0)
					have_total = true;
				if (i == 2)
					m->has_available = true;
			}
		}
	}
	if (have_total && !m->has_available) {
		/* Before MemAvailable: the estimate free(1) made. */
		uint64_t a = m->free + m->buffers + m->cached + m->sreclaimable;

		m->available = a > m->total ? m->total : a;
	}
	return have_total;
}

/* ---------------------------------------------------------------- mounts */

bool
ap_procfs_unescape(const char *s, size_t n, char *out, size_t outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '\\' && i + 3 < n && s[i + 1] >= '0' && s[i + 1] <= '3' &&
		    s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
			c = (char)(((s[i + 1] - '0') << 6) | ((s[i + 2] - '0') << 3) | (s[i + 3] - '0'));
			i += 3;
		}
		if (c == '\0' || o + 1 >= outlen)
			return false;
		out[o++] = c;
	}
	if (outlen == 0)
		return false;
	out[o] = '\0';
	return o > 0;
}

static bool
real_fstype(const char *t, const char *mount)
{
	static const char *const real[] = {
		"ext2", "ext3", "ext4", "xfs", "btrfs", "zfs", "f2fs", "jfs", "reiserfs", "vfat", "exfat",
		"ntfs", "ntfs3", "fuseblk", "hfsplus", "nilfs2", "bcachefs", "nfs", "nfs4", "cifs", "smb3",
		"ceph", "glusterfs", "ocfs2", "gfs2",
	};

	for (size_t i = 0; i < AP_NELEM(real); i++)
		if (strcmp(t, real[i]) == 0)
			return true;
	/* A container's root is an overlay: its space is what the operator fills. */
	return strcmp(t, "overlay") == 0 && strcmp(mount, "/") == 0;
}

int
ap_procfs_parse_mounts(const char *text, struct ap_mount *out, int max, int *dropped)
{
	const char *p = text, *s, *e;
	int n = 0;

	*dropped = 0;
	while (next_line(&p, &s, &e)) {
		const char *q = s, *dev_s, *dev_e, *mnt_s, *mnt_e, *typ_s, *typ_e;
		struct ap_mount m;
		int k;

		if (!word_at(&q, e, &dev_s, &dev_e) || !word_at(&q, e, &mnt_s, &mnt_e) ||
		    !word_at(&q, e, &typ_s, &typ_e))
			continue;
		if (!copy_word(m.fstype, sizeof(m.fstype), typ_s, typ_e) ||
		    !ap_procfs_unescape(dev_s, (size_t)(dev_e - dev_s), m.device, sizeof(m.device)) ||
		    !ap_procfs_unescape(mnt_s, (size_t)(mnt_e - mnt_s), m.mount, sizeof(m.mount)) ||
		    m.mount[0] != '/' || !real_fstype(m.fstype, m.mount))
			continue;
		/* A later mount over the same path hides the earlier one. */
		for (k = 0; k < n; k++)
			if (strcmp(out[k].mount, m.mount) == 0)
				break;
		if (k < n) {
			out[k] = m;
			continue;
		}
		/* The same device again (a bind mount): its space is counted once. */
		for (k = 0; k < n; k++)
			if (strcmp(out[k].device, m.device) == 0)
				break;
		if (k < n)
			continue;
		if (n >= max) {
			(*dropped)++;
			continue;
		}
		out[n++] = m;
	}
	return n;
}

/* ---------------------------------------------------------------- diskstats */

static bool
virtual_disk(const char *name)
{
	static const char *const prefixes[] = { "loop", "ram", "zram", "fd", "sr" };

	for (size_t i = 0; i < AP_NELEM(prefixes); i++)
		if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

/* Is part a partition of disk? sda1 of sda, nvme0n1p1 of nvme0n1, mmcblk0p1 of mmcblk0. */
static bool
partition_of(const char *part, const char *disk)
{
	size_t n = strlen(disk);
	const char *r;

	if (n == 0 || strncmp(part, disk, n) != 0 || part[n] == '\0')
		return false;
	r = part + n;
	if (disk[n - 1] >= '0' && disk[n - 1] <= '9') {
		if (*r != 'p')
			return false;
		r++;
	}
	if (*r == '\0')
		return false;
	for (; *r; r++)
		if (*r < '0' || *r > '9')
			return false;
	return true;
}

int
ap_procfs_parse_diskstats(const char *text, struct ap_diskstat *out, int max, int *dropped)
{
	const char *p = text, *s, *e;
	int n = 0, kept = 0;
	struct ap_diskstat *all = ap_xcalloc((size_t)max * 4 + 1, sizeof(*all));
	int cap = max * 4;

	*dropped = 0;
	while (next_line(&p, &s, &e)) {
		const char *q = s, *ns, *ne;
		uint64_t major, minor, v[8];
		struct ap_diskstat d;
		int k = 0;

		if (!u64_at(&q, e, &major) || !u64_at(&q, e, &minor) || !word_at(&q, e, &ns, &ne) ||
		    !copy_word(d.name, sizeof(d.name), ns, ne))
			continue;
		while (k < 8 && u64_at(&q, e, &v[k]))
			k++;
		if (k < 8)
			continue;
		d.rd_ios = v[0];
		d.rd_sectors = v[2];
		d.wr_ios = v[4];
		d.wr_sectors = v[6];
		if (virtual_disk(d.name))
			continue;
		if (n >= cap) {
			(*dropped)++;
			continue;
		}
		all[n++] = d;
	}
	for (int i = 0; i < n; i++) {
		bool part = false;

		for (int j = 0; j < n && !part; j++)
			part = j != i && partition_of(all[i].name, all[j].name);
		if (part || (all[i].rd_ios == 0 && all[i].wr_ios == 0))
			continue;
		if (kept >= max) {
			(*dropped)++;
			continue;
		}
		out[kept++] = all[i];
	}
	free(all);
	return kept;
}

/* ---------------------------------------------------------------- net/dev */

int
ap_procfs_parse_netdev(const char *text, struct ap_netdev *out, int max, int *dropped)
{
	const char *p = text, *s, *e;
	int n = 0;

	*dropped = 0;
	while (next_line(&p, &s, &e)) {
		const char *colon = memchr(s, ':', (size_t)(e - s)), *q, *ns;
		uint64_t v[10];
		struct ap_netdev d;
		int k = 0;

		if (colon == NULL)
			continue; /* the two header lines */
		ns = s;
		skip_blanks(&ns, colon);
		if (!copy_word(d.name, sizeof(d.name), ns, colon) || strchr(d.name, ' ') != NULL ||
		    strcmp(d.name, "lo") == 0)
			continue;
		q = colon + 1;
		while (k < 10 && u64_at(&q, e, &v[k]))
			k++;
		if (k < 10)
			continue;
		d.rx_bytes = v[0];
		d.rx_packets = v[1];
		d.tx_bytes = v[8];
		d.tx_packets = v[9];
		if (n >= max) {
			(*dropped)++;
			continue;
		}
		out[n++] = d;
	}
	return n;
}

/* ---------------------------------------------------------------- /proc/<pid>/stat */

bool
ap_procfs_parse_pidstat(const char *text, struct ap_pidstat *ps)
{
	const char *e = text + strlen(text), *open = strchr(text, '('), *close = strrchr(text, ')');
	const char *p = text;
	uint64_t pid, u;
	int64_t v;
	size_t cn;

	memset(ps, 0, sizeof(*ps));
	if (open == NULL || close == NULL || close < open || !u64_at(&p, open, &pid) || pid == 0 ||
	    pid > INT32_MAX)
		return false;
	ps->pid = (int)pid;
	cn = (size_t)(close - open - 1);
	if (cn >= sizeof(ps->comm))
		cn = sizeof(ps->comm) - 1;
	memcpy(ps->comm, open + 1, cn);
	ps->comm[cn] = '\0';
	p = close + 1;
	skip_blanks(&p, e);
	if (p >= e)
		return false;
	ps->state = *p++;
	/* Fields after the state, numbered from 1 (ppid) as in proc(5) minus 3. */
	for (int f = 1; f <= 21; f++) {
		if (!i64_at(&p, e, &v))
			return false;
		u = v < 0 ? 0 : (uint64_t)v;
		switch (f) {
		case 1: ps->ppid = v > INT32_MAX || v < 0 ? 0 : (int)v; break;
		case 11: ps->utime = u; break;
		case 12: ps->stime = u; break;
		case 17: ps->threads = v; break;
		case 19: ps->starttime = u; break;
		case 21: ps->rss_pages = u; break;
		default: break;
		}
	}
	return true;
}

/* ---------------------------------------------------------------- reading */

enum ap_err
ap_procfs_read(const char *root, const char *rel, char **out)
{
	char path[4096];
	size_t cap = 4096, n = 0;
	char *buf = NULL;
	int fd, w;

	*out = NULL;
	w = snprintf(path, sizeof(path), "%s/%s", root, rel);
	if (w < 0 || (size_t)w >= sizeof(path))
		return AP_ERR_IO;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return AP_ERR_IO;
	buf = ap_xmalloc(cap + 1);
	for (;;) {
		ssize_t r;

		if (n == cap) {
			if (cap >= AP_PROC_FILE_MAX)
				break;
			cap *= 2;
			buf = ap_xrealloc(buf, cap + 1);
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			close(fd);
			free(buf);
			return AP_ERR_IO;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (n == cap && cap >= AP_PROC_FILE_MAX) {
		/* Cut: keep whole lines only. */
		while (n > 0 && buf[n - 1] != '\n')
			n--;
	}
	buf[n] = '\0';
	*out = buf;
	return AP_OK;
}
