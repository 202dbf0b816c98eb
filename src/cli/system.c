/*
 * system.c — `aapanel status --system`: the same reading GET /api/v1/system
 * answers (the running sampler's latest, else two readings of /proc half a
 * second apart), as JSON or as lines for a person.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "aapanel/cli.h"
#include "aapanel/sampler.h"

static struct json_object *
get(struct json_object *o, const char *k)
{
	struct json_object *v = NULL;

	if (o != NULL)
		json_object_object_get_ex(o, k, &v);
	return v;
}

static double
num(struct json_object *o, const char *k)
{
	struct json_object *v = get(o, k);

	return v ? json_object_get_double(v) : NAN;
}

static const char *
bytes(char *b, size_t n, double v, const char *suffix)
{
	static const char *const u[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	size_t i = 0;

	if (isnan(v))
		return "-";
	while (v >= 1024 && i < 5) {
		v /= 1024;
		i++;
	}
	snprintf(b, n, i ? "%.1f %s%s" : "%.0f %s%s", v, u[i], suffix);
	return b;
}

int
ap_cli_status_system(const struct ap_config *cfg, bool json)
{
	struct json_object *o = NULL, *cpu, *mem, *swap, *load, *a;
	char host[256] = "localhost", b1[32], b2[32], b3[32], b4[32];
	bool live = cfg->monitor_enabled && ap_sampler_get(cfg->monitor_socket, "/system", 2000, &o) == AP_OK;
	long up;

	if (!live) {
		gethostname(host, sizeof(host) - 1);
		if ((o = ap_sampler_read_now(host, 500, false)) == NULL) {
			fprintf(stderr, "aapanel: cannot read /proc\n");
			return 1;
		}
	}
	json_object_object_add(o, "live", json_object_new_boolean(live));
	if (json) {
		/* The System resource, as GET /api/v1/system answers it (time RFC 3339, ...). */
		ap_sys_json_api(o);
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
		return 0;
	}
	cpu = get(o, "cpu");
	mem = get(o, "memory");
	swap = get(o, "swap");
	load = get(o, "load");
	up = (long)num(o, "uptime");
	printf("host %s, up %ld d %02ld:%02ld, %lld processes (%s)\n", json_object_get_string(get(o, "host")),
	    up / 86400, (up % 86400) / 3600, (up % 3600) / 60, (long long)num(o, "processes_total"),
	    live ? "from the running sampler" : "read now: the sampler does not answer");
	printf("cpu %.1f %% (user %.1f, system %.1f, iowait %.1f, steal %.1f) on %d cores\n", num(cpu, "total"),
	    num(cpu, "user"), num(cpu, "system"), num(cpu, "iowait"), num(cpu, "steal"), (int)num(cpu, "count"));
	printf("load %.2f %.2f %.2f\n", json_object_get_double(json_object_array_get_idx(load, 0)),
	    json_object_get_double(json_object_array_get_idx(load, 1)),
	    json_object_get_double(json_object_array_get_idx(load, 2)));
	printf("memory %s of %s (%.1f %%), swap %s of %s\n", bytes(b1, sizeof(b1), num(mem, "used"), ""),
	    bytes(b2, sizeof(b2), num(mem, "total"), ""), num(mem, "pct"), bytes(b3, sizeof(b3), num(swap, "used"), ""),
	    bytes(b4, sizeof(b4), num(swap, "total"), ""));
	a = get(o, "filesystems");
	for (size_t i = 0; a && i < json_object_array_length(a); i++) {
		struct json_object *f = json_object_array_get_idx(a, i);

		printf("filesystem %s (%s) %.1f %% of %s used, inodes %.1f %%\n", json_object_get_string(get(f, "mount")),
		    json_object_get_string(get(f, "type")), num(f, "pct"),
		    bytes(b1, sizeof(b1), num(f, "used") + num(f, "avail"), ""), num(f, "inodes_pct"));
	}
	a = get(o, "disks");
	for (size_t i = 0; a && i < json_object_array_length(a); i++) {
		struct json_object *d = json_object_array_get_idx(a, i);

		printf("disk %s read %s write %s\n", json_object_get_string(get(d, "name")),
		    bytes(b1, sizeof(b1), num(d, "read_bps"), "/s"), bytes(b2, sizeof(b2), num(d, "write_bps"), "/s"));
	}
	a = get(o, "network");
	for (size_t i = 0; a && i < json_object_array_length(a); i++) {
		struct json_object *d = json_object_array_get_idx(a, i);

		printf("interface %s received %s sent %s\n", json_object_get_string(get(d, "name")),
		    bytes(b1, sizeof(b1), num(d, "rx_bps"), "/s"), bytes(b2, sizeof(b2), num(d, "tx_bps"), "/s"));
	}
	a = get(o, "top_cpu");
	for (size_t i = 0; a && i < json_object_array_length(a); i++) {
		struct json_object *p = json_object_array_get_idx(a, i);

		printf("process %d %s (%s) cpu %.1f %% memory %s\n", (int)num(p, "pid"),
		    json_object_get_string(get(p, "name")), json_object_get_string(get(p, "user")), num(p, "cpu"),
		    bytes(b1, sizeof(b1), num(p, "rss"), ""));
	}
	json_object_put(o);
	return 0;
}
