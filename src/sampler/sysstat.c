/*
 * sysstat.c — one reading of the server (sysstat.h): the /proc parsers
 * applied to a tree, percentages and rates against the previous reading,
 * and the JSON form.
 */
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <dirent.h>
#include <stddef.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aapanel/sysstat.h"

struct prev_proc {
	int pid;
	uint64_t starttime, ticks;
};

struct uid_name {
	uid_t uid;
	char name[33];
};

struct ap_sysread {
	char *root;
	bool statfs;
	long hz;
	long page;
	bool have_prev;
	uint64_t prev_ms; /* monotonic time of the previous reading */
	int64_t prev_now; /* its time as the caller gave it */
	struct ap_cpu_times prev_total;
	struct ap_cpu_times prev_cores[AP_PROC_MAX_CPUS];
	int prev_ncores;
	struct ap_diskstat prev_disks[AP_PROC_MAX_DISKS];
	int prev_ndisks;
	struct ap_netdev prev_nets[AP_PROC_MAX_NETS];
	int prev_nnets;
	struct prev_proc *prev_procs; /* sorted by pid */
	int prev_nprocs;
	struct ap_sys_proc *procs;
	struct uid_name users[64];
	int nusers;
	/* scratch */
	struct ap_cpu_times cores[AP_PROC_MAX_CPUS];
	struct ap_mount mounts[AP_PROC_MAX_FS];
	struct ap_diskstat disks[AP_PROC_MAX_DISKS];
	struct ap_netdev nets[AP_PROC_MAX_NETS];
};

struct ap_sysread *
ap_sysread_new(const char *root, bool statfs)
{
	struct ap_sysread *r = ap_xcalloc(1, sizeof(*r));

	r->root = ap_xstrdup(root);
	r->statfs = statfs;
	r->hz = sysconf(_SC_CLK_TCK);
	if (r->hz <= 0)
		r->hz = 100;
	r->page = sysconf(_SC_PAGESIZE);
	if (r->page <= 0)
		r->page = 4096;
	r->procs = ap_xcalloc(AP_SYS_MAX_PROCS, sizeof(*r->procs));
	r->prev_procs = ap_xcalloc(AP_SYS_MAX_PROCS, sizeof(*r->prev_procs));
	return r;
}

void
ap_sysread_free(struct ap_sysread *r)
{
	if (r == NULL)
		return;
	free(r->root);
	free(r->procs);
	free(r->prev_procs);
	free(r);
}

double
ap_sys_pct(double used, double total)
{
	double v;

	if (total <= 0)
		return 0;
	v = used * 100.0 / total;
	return v < 0 ? 0 : v > 100 ? 100 : v;
}

static uint64_t
busy_of(const struct ap_cpu_times *c)
{
	return c->user + c->nice + c->system + c->irq + c->softirq + c->steal;
}

static uint64_t
all_of(const struct ap_cpu_times *c)
{
	return busy_of(c) + c->idle + c->iowait;
}

/* Counters only grow; a smaller one (a CPU back from offline, a wrap) counts as 0. */
static uint64_t
delta(uint64_t now, uint64_t before)
{
	return now >= before ? now - before : 0;
}

static void
cpu_pct(const struct ap_cpu_times *now, const struct ap_cpu_times *before, struct ap_sys_cpu *out)
{
	uint64_t all = delta(all_of(now), all_of(before));
	double d = all ? (double)all : 1.0;

	out->id = now->id;
	if (all == 0) {
		out->total = out->user = out->system = out->iowait = out->steal = 0;
		return;
	}
	out->user = 100.0 * (double)(delta(now->user, before->user) + delta(now->nice, before->nice)) / d;
	out->system = 100.0 * (double)(delta(now->system, before->system) + delta(now->irq, before->irq) +
				  delta(now->softirq, before->softirq)) / d;
	out->iowait = 100.0 * (double)delta(now->iowait, before->iowait) / d;
	out->steal = 100.0 * (double)delta(now->steal, before->steal) / d;
	out->total = 100.0 * (double)delta(busy_of(now), busy_of(before)) / d;
	if (out->total > 100)
		out->total = 100;
}

static void
read_cpu(struct ap_sysread *r, struct ap_sys *s, const char *text)
{
	struct ap_cpu_times total;
	int n = 0;

	if (!ap_procfs_parse_stat(text, &total, r->cores, AP_PROC_MAX_CPUS, &n))
		return;
	s->ncores = n;
	for (int i = 0; i < n; i++) {
		const struct ap_cpu_times *before = NULL;

		/* By CPU number: with CPUs hot-plugged, positions move. */
		for (int j = 0; j < r->prev_ncores && before == NULL; j++)
			if (r->prev_cores[j].id == r->cores[i].id)
				before = &r->prev_cores[j];
		if (s->rates && before != NULL)
			cpu_pct(&r->cores[i], before, &s->cores[i]);
		else
			memset(&s->cores[i], 0, sizeof(s->cores[i]));
		s->cores[i].id = r->cores[i].id;
	}
	if (s->rates)
		cpu_pct(&total, &r->prev_total, &s->cpu);
	s->cpu.id = -1;
	r->prev_total = total;
	memcpy(r->prev_cores, r->cores, (size_t)n * sizeof(r->cores[0]));
	r->prev_ncores = n;
}

static double
rate(uint64_t now, uint64_t before, double secs)
{
	return secs > 0 ? (double)delta(now, before) / secs : 0;
}

static bool
physical_disk(const char *name)
{
	return strncmp(name, "dm-", 3) != 0 && strncmp(name, "md", 2) != 0;
}

static void
read_disks(struct ap_sysread *r, struct ap_sys *s, const char *text)
{
	int dropped, n = ap_procfs_parse_diskstats(text, r->disks, AP_PROC_MAX_DISKS, &dropped);

	s->ndisks = n;
	for (int i = 0; i < n; i++) {
		struct ap_sys_disk *d = &s->disks[i];
		const struct ap_diskstat *before = NULL;

		snprintf(d->name, sizeof(d->name), "%s", r->disks[i].name);
		for (int j = 0; j < r->prev_ndisks && before == NULL; j++)
			if (strcmp(r->prev_disks[j].name, d->name) == 0)
				before = &r->prev_disks[j];
		d->read_bps = d->write_bps = d->read_iops = d->write_iops = 0;
		if (s->rates && before != NULL) {
			d->read_bps = 512.0 * rate(r->disks[i].rd_sectors, before->rd_sectors, s->interval);
			d->write_bps = 512.0 * rate(r->disks[i].wr_sectors, before->wr_sectors, s->interval);
			d->read_iops = rate(r->disks[i].rd_ios, before->rd_ios, s->interval);
			d->write_iops = rate(r->disks[i].wr_ios, before->wr_ios, s->interval);
		}
		if (physical_disk(d->name)) {
			s->disk_read += d->read_bps;
			s->disk_write += d->write_bps;
		}
	}
	memcpy(r->prev_disks, r->disks, (size_t)n * sizeof(r->disks[0]));
	r->prev_ndisks = n;
}

static void
read_nets(struct ap_sysread *r, struct ap_sys *s, const char *text)
{
	int dropped, n = ap_procfs_parse_netdev(text, r->nets, AP_PROC_MAX_NETS, &dropped);

	s->nnets = n;
	for (int i = 0; i < n; i++) {
		struct ap_sys_net *d = &s->nets[i];
		const struct ap_netdev *before = NULL;

		snprintf(d->name, sizeof(d->name), "%s", r->nets[i].name);
		for (int j = 0; j < r->prev_nnets && before == NULL; j++)
			if (strcmp(r->prev_nets[j].name, d->name) == 0)
				before = &r->prev_nets[j];
		d->rx_bps = d->tx_bps = 0;
		if (s->rates && before != NULL) {
			d->rx_bps = rate(r->nets[i].rx_bytes, before->rx_bytes, s->interval);
			d->tx_bps = rate(r->nets[i].tx_bytes, before->tx_bytes, s->interval);
		}
		s->net_rx += d->rx_bps;
		s->net_tx += d->tx_bps;
	}
	memcpy(r->prev_nets, r->nets, (size_t)n * sizeof(r->nets[0]));
	r->prev_nnets = n;
}

static void
read_fs(struct ap_sysread *r, struct ap_sys *s, const char *text)
{
	int dropped, n = ap_procfs_parse_mounts(text, r->mounts, AP_PROC_MAX_FS, &dropped);

	s->nfs = 0;
	for (int i = 0; i < n; i++) {
		struct ap_sys_fs *f = &s->fs[s->nfs];
		struct statvfs v;

		memset(f, 0, sizeof(*f));
		snprintf(f->mount, sizeof(f->mount), "%s", r->mounts[i].mount);
		snprintf(f->device, sizeof(f->device), "%s", r->mounts[i].device);
		snprintf(f->fstype, sizeof(f->fstype), "%s", r->mounts[i].fstype);
		if (r->statfs) {
			/* A mount that does not answer (a dead NFS server would block: statvfs
			 * of network filesystems is the operator's choice to list) is left out. */
			if (statvfs(f->mount, &v) != 0 || v.f_blocks == 0)
				continue;
			f->total = (uint64_t)v.f_blocks * v.f_frsize;
			f->avail = (uint64_t)v.f_bavail * v.f_frsize;
			f->used = (uint64_t)(v.f_blocks - v.f_bfree) * v.f_frsize;
			f->itotal = v.f_files;
			f->iused = v.f_files >= v.f_ffree ? v.f_files - v.f_ffree : 0;
		}
		s->nfs++;
	}
}

static const char *
user_name(struct ap_sysread *r, uid_t uid)
{
	struct passwd pw, *res = NULL;
	char buf[1024];
	struct uid_name *u;

	for (int i = 0; i < r->nusers; i++)
		if (r->users[i].uid == uid)
			return r->users[i].name;
	u = &r->users[r->nusers < (int)AP_NELEM(r->users) ? r->nusers++ : (int)AP_NELEM(r->users) - 1];
	u->uid = uid;
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res != NULL)
		snprintf(u->name, sizeof(u->name), "%s", pw.pw_name);
	else
		snprintf(u->name, sizeof(u->name), "%u", (unsigned)uid);
	return u->name;
}

static int
cmp_prev(const void *a, const void *b)
{
	const struct prev_proc *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

static void
read_cmdline(struct ap_sysread *r, int pid, char *out, size_t outlen)
{
	char rel[32], *t = NULL;
	size_t o = 0;

	out[0] = '\0';
	snprintf(rel, sizeof(rel), "%d/cmdline", pid);
	if (ap_procfs_read(r->root, rel, &t) != AP_OK)
		return;
	/* Arguments are NUL-separated; the file's length is where the text ends. */
	for (const char *p = t; o + 1 < outlen;) {
		size_t n = strlen(p);

		if (n == 0)
			break;
		for (size_t i = 0; i < n && o + 1 < outlen; i++)
			out[o++] = (p[i] >= 0x20 && p[i] != 0x7f) ? p[i] : ' ';
		if (o + 1 < outlen)
			out[o++] = ' ';
		p += n + 1;
		/* the read text ends with a NUL added by ap_procfs_read: stop there */
		if (p[-1] == '\0' && p[0] == '\0')
			break;
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
	free(t);
}

static void
read_procs(struct ap_sysread *r, struct ap_sys *s)
{
	DIR *d = opendir(r->root);
	struct dirent *de;
	struct prev_proc *now = ap_xcalloc(AP_SYS_MAX_PROCS, sizeof(*now));
	int n = 0;

	s->nprocs_total = 0;
	s->procs = r->procs;
	s->nprocs = 0;
	if (d == NULL) {
		free(now);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		char rel[48], *t = NULL;
		long long pid;
		struct ap_pidstat ps;
		struct ap_sys_proc *p;
		struct prev_proc key, *before;
		struct stat st;
		const char *why;

		if (de->d_name[0] < '1' || de->d_name[0] > '9' || !ap_strtonum(de->d_name, 1, INT32_MAX, &pid, &why))
			continue;
		s->nprocs_total++;
		if (n >= AP_SYS_MAX_PROCS)
			continue;
		snprintf(rel, sizeof(rel), "%lld/stat", pid);
		if (ap_procfs_read(r->root, rel, &t) != AP_OK)
			continue; /* gone meanwhile */
		if (!ap_procfs_parse_pidstat(t, &ps)) {
			free(t);
			continue;
		}
		free(t);
		p = &r->procs[n];
		memset(p, 0, sizeof(*p));
		p->pid = ps.pid;
		snprintf(p->name, sizeof(p->name), "%s", ps.comm);
		p->state = ps.state;
		p->threads = ps.threads;
		p->rss = ps.rss_pages * (uint64_t)r->page;
		snprintf(rel, sizeof(rel), "%s/%lld", r->root, pid);
		snprintf(p->user, sizeof(p->user), "%s", stat(rel, &st) == 0 ? user_name(r, st.st_uid) : "?");
		read_cmdline(r, ps.pid, p->cmd, sizeof(p->cmd));
		now[n].pid = ps.pid;
		now[n].starttime = ps.starttime;
		now[n].ticks = ps.utime + ps.stime;
		key.pid = ps.pid;
		before = r->have_prev ? bsearch(&key, r->prev_procs, (size_t)r->prev_nprocs, sizeof(key), cmp_prev)
				      : NULL;
		if (before != NULL && before->starttime == ps.starttime && s->interval > 0)
			p->cpu = 100.0 * (double)delta(now[n].ticks, before->ticks) / ((double)r->hz * s->interval);
		n++;
	}
	closedir(d);
	s->nprocs = n;
	qsort(now, (size_t)n, sizeof(*now), cmp_prev);
	memcpy(r->prev_procs, now, (size_t)n * sizeof(*now));
	r->prev_nprocs = n;
	free(now);
}

bool
ap_sysread_sample(struct ap_sysread *r, int64_t now, bool procs, struct ap_sys *s)
{
	char *t = NULL;
	uint64_t ms = ap_now_ms();

	memset(s, 0, offsetof(struct ap_sys, procs));
	s->procs = NULL;
	s->nprocs = 0;
	s->time = now;
	/* The monotonic clock measures; a caller's clock that moved (tests) stands in for it. */
	s->interval = !r->have_prev ? 0 : ms > r->prev_ms ? (double)(ms - r->prev_ms) / 1000.0
	    : now > r->prev_now ? (double)(now - r->prev_now) : 0;
	s->rates = s->interval > 0;
	if (ap_procfs_read(r->root, "stat", &t) != AP_OK)
		return false;
	read_cpu(r, s, t);
	free(t);
	if (ap_procfs_read(r->root, "loadavg", &t) == AP_OK) {
		int64_t running;

		if (!ap_procfs_parse_loadavg(t, s->load, &running, &s->tasks))
			memset(s->load, 0, sizeof(s->load));
		free(t);
	}
	if (ap_procfs_read(r->root, "uptime", &t) == AP_OK) {
		if (!ap_procfs_parse_uptime(t, &s->uptime))
			s->uptime = 0;
		free(t);
	}
	if (ap_procfs_read(r->root, "meminfo", &t) == AP_OK) {
		if (ap_procfs_parse_meminfo(t, &s->mem)) {
			s->mem_used = s->mem.total > s->mem.available ? s->mem.total - s->mem.available : 0;
			s->swap_used = s->mem.swap_total > s->mem.swap_free ? s->mem.swap_total - s->mem.swap_free : 0;
		}
		free(t);
	}
	if (ap_procfs_read(r->root, "self/mounts", &t) == AP_OK || ap_procfs_read(r->root, "mounts", &t) == AP_OK) {
		read_fs(r, s, t);
		free(t);
	}
	if (ap_procfs_read(r->root, "diskstats", &t) == AP_OK) {
		read_disks(r, s, t);
		free(t);
	}
	if (ap_procfs_read(r->root, "net/dev", &t) == AP_OK) {
		read_nets(r, s, t);
		free(t);
	}
	if (procs)
		read_procs(r, s);
	r->have_prev = true;
	r->prev_ms = ms;
	r->prev_now = now;
	return true;
}

/* ---------------------------------------------------------------- JSON */

static struct json_object *
num(double v)
{
	char b[40];

	/* Two decimals are plenty for a percentage or a rate, and keep events small. */
	snprintf(b, sizeof(b), "%.2f", v);
	if (strcmp(b, "-0.00") == 0)
		snprintf(b, sizeof(b), "0.00");
	return json_object_new_double_s(v, b);
}

static void
add(struct json_object *o, const char *k, struct json_object *v)
{
	json_object_object_add_ex(o, k, v, JSON_C_OBJECT_ADD_KEY_IS_NEW | JSON_C_OBJECT_ADD_CONSTANT_KEY);
}

static struct json_object *
cpu_json(const struct ap_sys_cpu *c, bool rates)
{
	struct json_object *o = json_object_new_object();

	if (c->id >= 0)
		add(o, "id", json_object_new_int(c->id));
	add(o, "total", rates ? num(c->total) : NULL);
	add(o, "user", rates ? num(c->user) : NULL);
	add(o, "system", rates ? num(c->system) : NULL);
	add(o, "iowait", rates ? num(c->iowait) : NULL);
	add(o, "steal", rates ? num(c->steal) : NULL);
	return o;
}

static struct json_object *
proc_json(const struct ap_sys_proc *p, bool rates)
{
	struct json_object *o = json_object_new_object();
	char st[2] = { p->state, '\0' };

	add(o, "pid", json_object_new_int(p->pid));
	add(o, "user", json_object_new_string(p->user));
	add(o, "name", json_object_new_string(p->name));
	add(o, "state", json_object_new_string(st));
	add(o, "cpu", rates ? num(p->cpu) : NULL);
	add(o, "rss", json_object_new_int64((int64_t)p->rss));
	add(o, "threads", json_object_new_int64(p->threads));
	add(o, "command", json_object_new_string(p->cmd));
	return o;
}

static int
by_cpu(const void *a, const void *b)
{
	const struct ap_sys_proc *const *x = a, *const *y = b;

	if ((*x)->cpu != (*y)->cpu)
		return (*x)->cpu < (*y)->cpu ? 1 : -1;
	return (*x)->pid - (*y)->pid;
}

static int
by_rss(const void *a, const void *b)
{
	const struct ap_sys_proc *const *x = a, *const *y = b;

	if ((*x)->rss != (*y)->rss)
		return (*x)->rss < (*y)->rss ? 1 : -1;
	return (*x)->pid - (*y)->pid;
}

static struct json_object *
top_json(const struct ap_sys *s, int (*cmp)(const void *, const void *))
{
	struct json_object *a = json_object_new_array();
	const struct ap_sys_proc **v;

	if (s->nprocs == 0)
		return a;
	v = ap_xcalloc((size_t)s->nprocs, sizeof(*v));
	for (int i = 0; i < s->nprocs; i++)
		v[i] = &s->procs[i];
	qsort(v, (size_t)s->nprocs, sizeof(*v), cmp);
	for (int i = 0; i < s->nprocs && i < AP_SYS_TOP; i++)
		json_object_array_add(a, proc_json(v[i], s->rates));
	free(v);
	return a;
}

struct json_object *
ap_sys_json(const struct ap_sys *s, const char *host, bool all_procs)
{
	struct json_object *o = json_object_new_object(), *cpu, *cores, *mem, *swap, *a, *load;

	add(o, "time", json_object_new_int64(s->time));
	add(o, "host", json_object_new_string(host ? host : ""));
	add(o, "interval", num(s->interval));
	add(o, "uptime", json_object_new_int64((int64_t)s->uptime));
	add(o, "processes_total", json_object_new_int64(s->nprocs_total));
	add(o, "tasks", json_object_new_int64(s->tasks));
	load = json_object_new_array();
	for (int i = 0; i < 3; i++)
		json_object_array_add(load, num(s->load[i]));
	add(o, "load", load);
	cpu = cpu_json(&s->cpu, s->rates);
	cores = json_object_new_array();
	for (int i = 0; i < s->ncores; i++)
		json_object_array_add(cores, cpu_json(&s->cores[i], s->rates));
	add(cpu, "count", json_object_new_int(s->ncores));
	add(cpu, "cores", cores);
	add(o, "cpu", cpu);
	mem = json_object_new_object();
	add(mem, "total", json_object_new_int64((int64_t)s->mem.total));
	add(mem, "used", json_object_new_int64((int64_t)s->mem_used));
	add(mem, "available", json_object_new_int64((int64_t)s->mem.available));
	add(mem, "buffers", json_object_new_int64((int64_t)s->mem.buffers));
	add(mem, "cached", json_object_new_int64((int64_t)s->mem.cached));
	add(mem, "pct", num(ap_sys_pct((double)s->mem_used, (double)s->mem.total)));
	add(o, "memory", mem);
	swap = json_object_new_object();
	add(swap, "total", json_object_new_int64((int64_t)s->mem.swap_total));
	add(swap, "used", json_object_new_int64((int64_t)s->swap_used));
	add(swap, "pct", num(ap_sys_pct((double)s->swap_used, (double)s->mem.swap_total)));
	add(o, "swap", swap);
	a = json_object_new_array();
	for (int i = 0; i < s->nfs; i++) {
		const struct ap_sys_fs *f = &s->fs[i];
		struct json_object *x = json_object_new_object();

		add(x, "mount", json_object_new_string(f->mount));
		add(x, "device", json_object_new_string(f->device));
		add(x, "type", json_object_new_string(f->fstype));
		add(x, "total", json_object_new_int64((int64_t)f->total));
		add(x, "used", json_object_new_int64((int64_t)f->used));
		add(x, "avail", json_object_new_int64((int64_t)f->avail));
		/* As df: used of what a user can have (used + available). */
		add(x, "pct", num(ap_sys_pct((double)f->used, (double)(f->used + f->avail))));
		add(x, "inodes_total", json_object_new_int64((int64_t)f->itotal));
		add(x, "inodes_used", json_object_new_int64((int64_t)f->iused));
		add(x, "inodes_pct", num(ap_sys_pct((double)f->iused, (double)f->itotal)));
		json_object_array_add(a, x);
	}
	add(o, "filesystems", a);
	a = json_object_new_array();
	for (int i = 0; i < s->ndisks; i++) {
		struct json_object *x = json_object_new_object();

		add(x, "name", json_object_new_string(s->disks[i].name));
		add(x, "read_bps", s->rates ? num(s->disks[i].read_bps) : NULL);
		add(x, "write_bps", s->rates ? num(s->disks[i].write_bps) : NULL);
		add(x, "read_iops", s->rates ? num(s->disks[i].read_iops) : NULL);
		add(x, "write_iops", s->rates ? num(s->disks[i].write_iops) : NULL);
		json_object_array_add(a, x);
	}
	add(o, "disks", a);
	add(o, "disk_read_bps", s->rates ? num(s->disk_read) : NULL);
	add(o, "disk_write_bps", s->rates ? num(s->disk_write) : NULL);
	a = json_object_new_array();
	for (int i = 0; i < s->nnets; i++) {
		struct json_object *x = json_object_new_object();

		add(x, "name", json_object_new_string(s->nets[i].name));
		add(x, "rx_bps", s->rates ? num(s->nets[i].rx_bps) : NULL);
		add(x, "tx_bps", s->rates ? num(s->nets[i].tx_bps) : NULL);
		json_object_array_add(a, x);
	}
	add(o, "network", a);
	add(o, "net_rx_bps", s->rates ? num(s->net_rx) : NULL);
	add(o, "net_tx_bps", s->rates ? num(s->net_tx) : NULL);
	add(o, "top_cpu", top_json(s, by_cpu));
	add(o, "top_memory", top_json(s, by_rss));
	if (all_procs) {
		a = json_object_new_array();
		for (int i = 0; i < s->nprocs; i++)
			json_object_array_add(a, proc_json(&s->procs[i], s->rates));
		add(o, "processes", a);
	}
	return o;
}

void
ap_sys_json_api(struct json_object *o)
{
	struct json_object *v = NULL, *fs = NULL;

	if (o == NULL)
		return;
	if (json_object_object_get_ex(o, "time", &v) && json_object_is_type(v, json_type_int)) {
		time_t t = (time_t)json_object_get_int64(v);
		struct tm tm;
		char iso[32];

		if (gmtime_r(&t, &tm) != NULL && strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm) > 0)
			json_object_object_add(o, "time", json_object_new_string(iso));
	}
	if (json_object_object_get_ex(o, "interval", &v) && v != NULL && json_object_get_double(v) <= 0)
		json_object_object_add(o, "interval", NULL);
	if (json_object_object_get_ex(o, "filesystems", &fs) && json_object_is_type(fs, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(fs); i++) {
			struct json_object *f = json_object_array_get_idx(fs, i), *it = NULL;

			if (json_object_object_get_ex(f, "inodes_total", &it) && json_object_get_int64(it) == 0)
				json_object_object_add(f, "inodes_pct", NULL);
		}
	}
}
