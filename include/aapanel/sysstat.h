/*
 * sysstat.h — the state of this server as the dashboard shows it: one
 * reading of /proc (procfs.h) turned into percentages and rates against the
 * reading before it, and its JSON form (the live stream's event, GET
 * /api/v1/system, `aapanel status --system`).
 */
#ifndef AAPANEL_SYSSTAT_H
#define AAPANEL_SYSSTAT_H

#include <json-c/json.h>

#include "aapanel/procfs.h"

#define AP_SYS_MAX_PROCS 8192 /* processes listed; more are counted, not listed */
#define AP_SYS_TOP 5          /* processes in the stream's top lists */

struct ap_sys_cpu {
	int id;                                   /* -1: all CPUs */
	double total, user, system, iowait, steal; /* percent of the interval */
};

struct ap_sys_fs {
	char mount[AP_PROC_NAME_MAX];
	char device[AP_PROC_NAME_MAX];
	char fstype[32];
	uint64_t total, used, avail; /* bytes; used + avail < total when blocks are reserved for root */
	uint64_t itotal, iused;      /* inodes; 0 total for filesystems without a fixed table (btrfs) */
};

struct ap_sys_disk {
	char name[AP_PROC_NAME_MAX];
	double read_bps, write_bps, read_iops, write_iops;
};

struct ap_sys_net {
	char name[AP_PROC_NAME_MAX];
	double rx_bps, tx_bps;
};

struct ap_sys_proc {
	int pid;
	char user[33];
	char name[64];
	char state;
	double cpu;    /* percent of one CPU over the interval (top's convention) */
	uint64_t rss;  /* bytes */
	int64_t threads;
	char cmd[200]; /* command line, arguments joined by spaces, cut */
};

struct ap_sys {
	int64_t time;      /* Unix seconds of the reading */
	double interval;   /* seconds since the reading the rates are against; 0 on the first */
	bool rates;        /* false on the first reading: CPU, disk and network rates unknown */
	double uptime;     /* seconds */
	int64_t tasks;     /* threads the scheduler knows (loadavg) */
	int64_t nprocs_total; /* processes (/proc/<pid> directories) */
	double load[3];
	struct ap_sys_cpu cpu;
	struct ap_sys_cpu cores[AP_PROC_MAX_CPUS];
	int ncores;
	struct ap_mem mem;
	uint64_t mem_used;  /* total - available */
	uint64_t swap_used; /* swap_total - swap_free */
	struct ap_sys_fs fs[AP_PROC_MAX_FS];
	int nfs;
	struct ap_sys_disk disks[AP_PROC_MAX_DISKS];
	int ndisks;
	double disk_read, disk_write; /* bytes/s over the physical disks (not dm-, md) */
	struct ap_sys_net nets[AP_PROC_MAX_NETS];
	int nnets;
	double net_rx, net_tx; /* bytes/s over every interface but lo */
	struct ap_sys_proc *procs; /* owned by the reader; valid until its next reading */
	int nprocs;
};

struct ap_sysread;

/* A reader of the /proc tree at root ("/proc", or a captured tree), and
 * statvfs for the mounts it lists (statfs_root "" = as listed; a captured
 * tree passes NULL: no statvfs, sizes 0). Free with ap_sysread_free. */
struct ap_sysread *ap_sysread_new(const char *root, bool statfs);
void ap_sysread_free(struct ap_sysread *r);
/*
 * Read everything into *out (time = now, the caller's Unix clock, so
 * tests can drive it). Rates are against the reader's previous reading.
 * Processes only when procs is true (they cost one open per process).
 * False when /proc/stat cannot be read; everything else missing is left
 * empty.
 */
bool ap_sysread_sample(struct ap_sysread *r, int64_t now, bool procs, struct ap_sys *out);

/* Percent of used in total, 0 for a total of 0. */
double ap_sys_pct(double used, double total);

/*
 * The JSON form (owned by the caller). Processes: the AP_SYS_TOP busiest
 * by CPU and by memory ("top_cpu", "top_memory"); all of them under
 * "processes" as well when all_procs is true.
 */
struct json_object *ap_sys_json(const struct ap_sys *s, const char *host, bool all_procs);

/*
 * Turn o (ap_sys_json's form, as the sampler's socket answers it) into the
 * API's System resource, in place: "time" becomes RFC 3339 UTC text,
 * "interval" null on a first reading (0: there is no interval) and a
 * filesystem's "inodes_pct" null when it has no fixed inode table
 * (inodes_total 0). The live stream keeps ap_sys_json's form (Unix
 * seconds: static/js/app.js reads it). NULL is a no-op.
 */
void ap_sys_json_api(struct json_object *o);

#endif
