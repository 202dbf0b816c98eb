/*
 * procfs.h — what the sampler reads from /proc (and statvfs), as bounded
 * parsers over text so that each one is tested against captured files
 * (tests/fixtures/proc/), and the reader that applies them to a /proc tree.
 *
 * Every parser takes the file's text (NUL-terminated, at most
 * AP_PROC_FILE_MAX bytes: a longer file is cut there and its last line
 * dropped), never trusts a number to fit (each is parsed with a bound), and
 * skips a line it cannot read instead of failing the whole file. Tables have
 * a fixed capacity: entries beyond it are counted in *dropped, not stored.
 */
#ifndef AAPANEL_PROCFS_H
#define AAPANEL_PROCFS_H

#include <stdint.h>

#include "aapanel/common.h"

#define AP_PROC_FILE_MAX (1024 * 1024) /* largest /proc file read */
#define AP_PROC_MAX_CPUS 1024
#define AP_PROC_MAX_FS 64
#define AP_PROC_MAX_DISKS 64
#define AP_PROC_MAX_NETS 64
#define AP_PROC_NAME_MAX 256 /* device, mount point, interface: longer ones are skipped */

/* Jiffies a CPU spent in each state since boot (/proc/stat). */
struct ap_cpu_times {
	int id; /* N of "cpuN"; -1 for the total line */
	uint64_t user, nice, system, idle, iowait, irq, softirq, steal;
};

struct ap_mem {
	uint64_t total, free, available, buffers, cached, sreclaimable, shmem; /* bytes */
	uint64_t swap_total, swap_free;
	bool has_available; /* MemAvailable: present (kernels >= 3.14) */
};

struct ap_mount {
	char device[AP_PROC_NAME_MAX];
	char mount[AP_PROC_NAME_MAX]; /* octal escapes (\040 for a space) decoded */
	char fstype[32];
};

struct ap_diskstat {
	char name[AP_PROC_NAME_MAX];
	uint64_t rd_ios, rd_sectors, wr_ios, wr_sectors; /* sectors of 512 bytes */
};

struct ap_netdev {
	char name[AP_PROC_NAME_MAX];
	uint64_t rx_bytes, rx_packets, tx_bytes, tx_packets;
};

/* One process, from /proc/<pid>/stat. */
struct ap_pidstat {
	int pid;
	char comm[64]; /* between the first '(' and the last ')', at most 63 bytes */
	char state;
	int ppid;
	uint64_t utime, stime; /* jiffies */
	uint64_t starttime;    /* jiffies after boot */
	int64_t threads;
	uint64_t rss_pages;
};

/*
 * /proc/stat: the "cpu" total into *total and each "cpuN" line into
 * cpus[0..max) in file order (hot-plugged CPUs leave gaps in N: an offline
 * CPU has no line); *ncpu gets how many were stored. Returns false when
 * there is no total line.
 */
bool ap_procfs_parse_stat(const char *text, struct ap_cpu_times *total, struct ap_cpu_times *cpus,
    int max, int *ncpu);
/* /proc/loadavg: the three averages, running/total tasks. False when malformed. */
bool ap_procfs_parse_loadavg(const char *text, double load[3], int64_t *running, int64_t *tasks);
/* /proc/uptime: seconds since boot. */
bool ap_procfs_parse_uptime(const char *text, double *uptime);
/* /proc/meminfo in bytes. False without MemTotal. */
bool ap_procfs_parse_meminfo(const char *text, struct ap_mem *m);

/*
 * /proc/mounts (or /proc/self/mounts): the real filesystems only — disk
 * filesystems (ext4, xfs, btrfs, ...), network ones (nfs, cifs) and a
 * container's overlay root — in file order, each device once (a bind mount
 * of a device already listed is skipped), each mount point once (the last
 * mount over a path hides the earlier ones). Returns how many were stored
 * in out[0..max).
 */
int ap_procfs_parse_mounts(const char *text, struct ap_mount *out, int max, int *dropped);
/* Decode the octal escapes of /proc/mounts (\040 \011 \012 \134) into out (outlen bytes);
 * false when the result does not fit. */
bool ap_procfs_unescape(const char *s, size_t n, char *out, size_t outlen);

/*
 * /proc/diskstats: whole disks with any I/O since boot — partitions (sda1
 * of sda, nvme0n1p2 of nvme0n1, mmcblk0p1 of mmcblk0), ram, loop, zram,
 * floppy and optical devices and never-used devices are left out.
 */
int ap_procfs_parse_diskstats(const char *text, struct ap_diskstat *out, int max, int *dropped);
/* /proc/net/dev: every interface but lo (names up to 15 bytes may touch the ':' and the first number). */
int ap_procfs_parse_netdev(const char *text, struct ap_netdev *out, int max, int *dropped);
/* /proc/<pid>/stat (comm may hold spaces and parentheses). */
bool ap_procfs_parse_pidstat(const char *text, struct ap_pidstat *p);

/*
 * Read the file root/rel (root is "/proc" or a captured tree) into *out
 * (owned, NUL-terminated, free()), at most AP_PROC_FILE_MAX bytes; a longer
 * file is cut after its last complete line. AP_OK or AP_ERR_IO.
 */
enum ap_err ap_procfs_read(const char *root, const char *rel, char **out);

#endif
