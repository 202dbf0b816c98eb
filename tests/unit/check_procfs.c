/*
 * check_procfs.c — the /proc parsers (procfs.h) and the reading built on
 * them (sysstat.h), against files captured from a real machine
 * (tests/fixtures/proc/debian12-vm) and made by hand for the odd cases
 * (tests/fixtures/proc/odd: hot-plugged CPUs, octal escapes in mount
 * points, long interface names, partitions, counters at their maximum).
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aapanel/procfs.h"
#include "aapanel/sysstat.h"

static char root_vm[4096], root_odd[4096];

static void
setup(void)
{
	const char *src = getenv("AAPANEL_SRCDIR");

	snprintf(root_vm, sizeof(root_vm), "%s/tests/fixtures/proc/debian12-vm", src ? src : ".");
	snprintf(root_odd, sizeof(root_odd), "%s/tests/fixtures/proc/odd", src ? src : ".");
}

static char *
fixture(const char *root, const char *rel)
{
	char *t = NULL;

	ck_assert_int_eq(ap_procfs_read(root, rel, &t), AP_OK);
	return t;
}

START_TEST(test_stat_captured)
{
	struct ap_cpu_times total, cpus[8];
	int n = 0;
	char *t = fixture(root_vm, "stat");

	ck_assert(ap_procfs_parse_stat(t, &total, cpus, 8, &n));
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(cpus[0].id, 0);
	ck_assert_int_eq(cpus[1].id, 1);
	ck_assert_int_eq(total.id, -1);
	/* The total is the sum of the cores (the kernel adds them). */
	ck_assert_uint_eq(total.user, cpus[0].user + cpus[1].user);
	free(t);
}
END_TEST

START_TEST(test_stat_hotplugged_cpus_keep_their_numbers)
{
	struct ap_cpu_times total, cpus[8];
	int n = 0;
	char *t = fixture(root_odd, "stat");

	ck_assert(ap_procfs_parse_stat(t, &total, cpus, 8, &n));
	ck_assert_int_eq(n, 3); /* cpu0, cpu2, cpu3; "cpu9x" is not a CPU line */
	ck_assert_int_eq(cpus[0].id, 0);
	ck_assert_int_eq(cpus[1].id, 2);
	ck_assert_int_eq(cpus[2].id, 3);
	ck_assert_uint_eq(total.steal, 20);
	ck_assert(!ap_procfs_parse_stat("intr 1 2\n", &total, cpus, 8, &n));
	free(t);
}
END_TEST

START_TEST(test_loadavg_uptime_meminfo)
{
	double load[3], up;
	int64_t running, tasks;
	struct ap_mem m;
	char *t = fixture(root_odd, "loadavg");

	ck_assert(ap_procfs_parse_loadavg(t, load, &running, &tasks));
	ck_assert(fabs(load[0] - 0.5) < 1e-9 && fabs(load[1] - 1.25) < 1e-9 && fabs(load[2] - 10.0) < 1e-9);
	ck_assert_int_eq(running, 3);
	ck_assert_int_eq(tasks, 456);
	free(t);
	ck_assert(!ap_procfs_parse_loadavg("1.0 2.0\n", load, &running, &tasks));
	t = fixture(root_odd, "uptime");
	ck_assert(ap_procfs_parse_uptime(t, &up));
	ck_assert(fabs(up - 12345.67) < 1e-6);
	free(t);
	/* Without MemAvailable (before 3.14): free + buffers + cached + reclaimable. */
	t = fixture(root_odd, "meminfo");
	ck_assert(ap_procfs_parse_meminfo(t, &m));
	ck_assert(!m.has_available);
	ck_assert_uint_eq(m.total, 1000000ull * 1024);
	ck_assert_uint_eq(m.available, (200000ull + 50000 + 250000 + 10000) * 1024);
	ck_assert_uint_eq(m.swap_total - m.swap_free, 100000ull * 1024);
	free(t);
	t = fixture(root_vm, "meminfo");
	ck_assert(ap_procfs_parse_meminfo(t, &m));
	ck_assert(m.has_available && m.available <= m.total && m.total > 0);
	free(t);
	ck_assert(!ap_procfs_parse_meminfo("MemFree: 1 kB\n", &m));
}
END_TEST

START_TEST(test_mounts_real_filesystems_unescaped)
{
	struct ap_mount m[16];
	int dropped, n;
	char *t = fixture(root_odd, "mounts");

	n = ap_procfs_parse_mounts(t, m, 16, &dropped);
	ck_assert_int_eq(n, 5);
	ck_assert_str_eq(m[0].mount, "/");
	ck_assert_str_eq(m[0].device, "/dev/sda1");
	ck_assert_str_eq(m[1].mount, "/srv/My Backups"); /* \040 */
	ck_assert_str_eq(m[1].fstype, "xfs");
	ck_assert_str_eq(m[2].mount, "/var");          /* the bind mount of sdb1 is not listed again */
	ck_assert_str_eq(m[3].mount, "/mnt/nfs");
	ck_assert_str_eq(m[4].mount, "/media/tab\tand\\slash");
	ck_assert_int_eq(dropped, 0);
	ck_assert_int_eq(ap_procfs_parse_mounts(t, m, 2, &dropped), 2);
	ck_assert_int_eq(dropped, 3);
	free(t);
	t = fixture(root_vm, "mounts");
	n = ap_procfs_parse_mounts(t, m, 16, &dropped);
	ck_assert_int_ge(n, 1);
	ck_assert_str_eq(m[0].mount, "/");
	for (int i = 0; i < n; i++)
		ck_assert_str_ne(m[i].fstype, "tmpfs");
	free(t);
}
END_TEST

START_TEST(test_unescape_rows)
{
	static const struct {
		const char *in, *out;
		bool ok;
	} rows[] = {
		{ "/a\\040b", "/a b", true },
		{ "/x\\134", "/x\\", true },
		{ "/trail\\04", "/trail\\04", true }, /* not a whole escape: kept */
		{ "/nul\\000", NULL, false },          /* a NUL byte is refused */
		{ "", NULL, false },
	};
	char out[64];

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		bool ok = ap_procfs_unescape(rows[i].in, strlen(rows[i].in), out, sizeof(out));

		ck_assert_msg(ok == rows[i].ok, "row %zu", i);
		if (ok)
			ck_assert_str_eq(out, rows[i].out);
	}
	ck_assert(!ap_procfs_unescape("/longer", 7, out, 4));
}
END_TEST

START_TEST(test_diskstats_whole_used_disks)
{
	struct ap_diskstat d[16];
	int dropped, n;
	char *t = fixture(root_odd, "diskstats");

	n = ap_procfs_parse_diskstats(t, d, 16, &dropped);
	ck_assert_int_eq(n, 4);
	ck_assert_str_eq(d[0].name, "sda");
	ck_assert_uint_eq(d[0].rd_sectors, 20000);
	ck_assert_uint_eq(d[0].wr_sectors, 40000);
	ck_assert_str_eq(d[1].name, "nvme0n1");
	ck_assert_str_eq(d[2].name, "mmcblk0");
	ck_assert_str_eq(d[3].name, "dm-0");
	free(t);
	t = fixture(root_vm, "diskstats");
	n = ap_procfs_parse_diskstats(t, d, 16, &dropped);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(d[0].name, "vda");
	free(t);
}
END_TEST

START_TEST(test_netdev_long_names_and_big_counters)
{
	struct ap_netdev d[8];
	int dropped, n;
	char *t = fixture(root_odd, "net/dev");

	n = ap_procfs_parse_netdev(t, d, 8, &dropped);
	ck_assert_int_eq(n, 3);
	ck_assert_str_eq(d[0].name, "eth0");
	ck_assert_uint_eq(d[0].tx_bytes, 1890858);
	ck_assert_str_eq(d[1].name, "enx00e04c680001"); /* 15 bytes, no space before the number */
	ck_assert_uint_eq(d[1].rx_bytes, UINT64_MAX);
	ck_assert_uint_eq(d[1].tx_bytes, 99);
	ck_assert_str_eq(d[2].name, "wg-site-to-site");
	ck_assert_int_eq(ap_procfs_parse_netdev(t, d, 1, &dropped), 1);
	ck_assert_int_eq(dropped, 2);
	free(t);
}
END_TEST

START_TEST(test_pidstat_comm_with_parentheses)
{
	struct ap_pidstat p;
	char *t = fixture(root_odd, "4242/stat");

	ck_assert(ap_procfs_parse_pidstat(t, &p));
	ck_assert_int_eq(p.pid, 4242);
	ck_assert_str_eq(p.comm, "my (weird) proc");
	ck_assert_int_eq(p.state, 'S');
	ck_assert_uint_eq(p.utime, 250);
	ck_assert_uint_eq(p.stime, 50);
	ck_assert_int_eq(p.threads, 3);
	ck_assert_uint_eq(p.starttime, 12345);
	ck_assert_uint_eq(p.rss_pages, 2560);
	free(t);
	t = fixture(root_vm, "1/stat");
	ck_assert(ap_procfs_parse_pidstat(t, &p));
	ck_assert_int_eq(p.pid, 1);
	free(t);
	ck_assert(!ap_procfs_parse_pidstat("12 (short", &p));
	ck_assert(!ap_procfs_parse_pidstat("12 (x) S 1 2", &p));
}
END_TEST

START_TEST(test_read_cuts_at_a_line)
{
	char *t = NULL;

	ck_assert_int_eq(ap_procfs_read(root_odd, "no-such-file", &t), AP_ERR_IO);
	ck_assert_ptr_null(t);
}
END_TEST

/* The reading over a captured tree: what the sampler would send, without statvfs. */
START_TEST(test_reading_of_a_captured_tree)
{
	struct ap_sysread *r = ap_sysread_new(root_odd, false);
	struct ap_sys *s = calloc(1, sizeof(*s));
	struct json_object *o, *v;

	ck_assert(ap_sysread_sample(r, 1000, true, s));
	ck_assert(!s->rates);
	ck_assert_int_eq(s->ncores, 3);
	ck_assert_int_eq(s->cores[1].id, 2);
	ck_assert_int_eq(s->nfs, 5);
	ck_assert_int_eq(s->ndisks, 4);
	ck_assert_int_eq(s->nnets, 3);
	ck_assert_int_eq(s->nprocs, 1);
	ck_assert_str_eq(s->procs[0].name, "my (weird) proc");
	ck_assert_uint_eq(s->mem_used, (1000000ull - 510000) * 1024);
	/* The second reading of the same files: rates known, and zero. */
	ck_assert(ap_sysread_sample(r, 1010, true, s));
	ck_assert(s->rates);
	ck_assert(s->cpu.total == 0 && s->disk_read == 0 && s->net_rx == 0);
	o = ap_sys_json(s, "fixture", true);
	ck_assert(json_object_object_get_ex(o, "filesystems", &v));
	ck_assert_int_eq((int)json_object_array_length(v), 5);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(json_object_array_get_idx(v, 1), "mount")),
	    "/srv/My Backups");
	ck_assert(json_object_object_get_ex(o, "processes", &v));
	ck_assert_int_eq((int)json_object_array_length(v), 1);
	json_object_put(o);
	free(s);
	ap_sysread_free(r);
}
END_TEST

/* The API's form: time as RFC 3339, interval and unknown inode use null; the stream's stays Unix seconds. */
START_TEST(test_api_form_of_a_reading)
{
	struct ap_sysread *r = ap_sysread_new(root_odd, false);
	struct ap_sys *s = calloc(1, sizeof(*s));
	struct json_object *o, *cpu, *fs;

	ck_assert(ap_sysread_sample(r, 1800000000, false, s));
	o = ap_sys_json(s, "fixture", false);
	ck_assert_int_eq(json_object_get_int64(json_object_object_get(o, "time")), 1800000000);
	ap_sys_json_api(o);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(o, "time")), "2027-01-15T08:00:00Z");
	/* a first reading: no interval, no rates */
	ck_assert(json_object_object_get_ex(o, "interval", NULL));
	ck_assert_ptr_null(json_object_object_get(o, "interval"));
	cpu = json_object_object_get(o, "cpu");
	ck_assert(json_object_object_get_ex(cpu, "total", NULL));
	ck_assert_ptr_null(json_object_object_get(cpu, "total"));
	/* without statvfs every size is 0: no inode table, so no inode percentage */
	fs = json_object_array_get_idx(json_object_object_get(o, "filesystems"), 0);
	ck_assert_int_eq(json_object_get_int64(json_object_object_get(fs, "inodes_total")), 0);
	ck_assert(json_object_object_get_ex(fs, "inodes_pct", NULL));
	ck_assert_ptr_null(json_object_object_get(fs, "inodes_pct"));
	json_object_put(o);
	/* the next reading has an interval */
	ck_assert(ap_sysread_sample(r, 1800000010, false, s));
	o = ap_sys_json(s, "fixture", false);
	ap_sys_json_api(o);
	ck_assert(json_object_get_double(json_object_object_get(o, "interval")) > 0);
	ck_assert_ptr_nonnull(json_object_object_get(json_object_object_get(o, "cpu"), "total"));
	json_object_put(o);
	ap_sys_json_api(NULL);
	free(s);
	ap_sysread_free(r);
}
END_TEST

START_TEST(test_pct_bounds)
{
	ck_assert(ap_sys_pct(5, 0) == 0);
	ck_assert(ap_sys_pct(50, 100) == 50);
	ck_assert(ap_sys_pct(200, 100) == 100);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("procfs");
	TCase *tc = tcase_create("parsers");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_stat_captured);
	tcase_add_test(tc, test_stat_hotplugged_cpus_keep_their_numbers);
	tcase_add_test(tc, test_loadavg_uptime_meminfo);
	tcase_add_test(tc, test_mounts_real_filesystems_unescaped);
	tcase_add_test(tc, test_unescape_rows);
	tcase_add_test(tc, test_diskstats_whole_used_disks);
	tcase_add_test(tc, test_netdev_long_names_and_big_counters);
	tcase_add_test(tc, test_pidstat_comm_with_parentheses);
	tcase_add_test(tc, test_read_cuts_at_a_line);
	tcase_add_test(tc, test_reading_of_a_captured_tree);
	tcase_add_test(tc, test_api_form_of_a_reading);
	tcase_add_test(tc, test_pct_bounds);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
