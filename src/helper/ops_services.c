/*
 * ops_services.c — the systemd units the panel may control (docs/services.md):
 * service.list, service.status (with the unit's last journal lines) and
 * service.control (start, stop, restart, reload, enable, disable; a job).
 *
 * Everything goes through systemd's D-Bus API with sd-bus and the journal
 * through sd-journal, never by running systemctl. As root the helper talks
 * to PID 1 directly on its private socket (/run/systemd/private: no bus
 * daemon, no polkit, no capability needed); otherwise through the system
 * bus. Where systemd does not run (PID 1 is something else, as in `make
 * run` here), list and status answer {"available": false, "reason"} and
 * control refuses with `unsupported`: a state, not an error.
 *
 * Only names of services.units (patterns allowed) are read or changed,
 * each checked again with ap_check_unit_name; stopping or disabling one of
 * services.protected needs "confirm" equal to its name.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

#include "aapanel/unitname.h"
#include "jobs.h"
#include "ops.h"

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
#define SD_UNIT "org.freedesktop.systemd1.Unit"
#define SD_SERVICE "org.freedesktop.systemd1.Service"
#define READ_TIMEOUT_US (5 * 1000 * 1000ULL)
#define MAX_UNITS 64
#define MSG_MAX 512

static const char *const actions[] = { "start", "stop", "restart", "reload", "enable", "disable", NULL };
enum { ACT_START, ACT_STOP, ACT_RESTART, ACT_RELOAD, ACT_ENABLE, ACT_DISABLE };

const struct ap_field ap_ops_service_list_args[] = { AP_FIELD_END };

enum { SS_NAME, SS__MAX };
const struct ap_field ap_ops_service_status_args[SS__MAX + 1] = {
	[SS_NAME] = { .name = "name", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED | AP_FIELD_SINGLELINE,
	    .min = 1, .max = AP_UNIT_NAME_MAX, .check = ap_check_unit_name },
	[SS__MAX] = AP_FIELD_END,
};

enum { SC_NAME, SC_ACTION, SC_CONFIRM, SC__MAX };
const struct ap_field ap_ops_service_control_args[SC__MAX + 1] = {
	[SC_NAME] = { .name = "name", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED | AP_FIELD_SINGLELINE,
	    .min = 1, .max = AP_UNIT_NAME_MAX, .check = ap_check_unit_name },
	[SC_ACTION] = { .name = "action", .type = AP_FIELD_ENUM, .flags = AP_FIELD_REQUIRED, .choices = actions },
	[SC_CONFIRM] = { .name = "confirm", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE,
	    .max = AP_UNIT_NAME_MAX, .check = ap_check_unit_name },
	[SC__MAX] = AP_FIELD_END,
};

/* ---- the bus ---------------------------------------------------------- */

/*
 * A connection to PID 1 (owned: sd_bus_flush_close_unref), or NULL with
 * why: systemd is not running here, or it cannot be reached.
 */
static sd_bus *
bus_open(char *why, size_t whylen)
{
	sd_bus *b = NULL;
	int r;

	if (sd_booted() <= 0) {
		snprintf(why, whylen, "systemd is not running here (PID 1 is not systemd)");
		return NULL;
	}
	if (geteuid() == 0 && access("/run/systemd/private", F_OK) == 0) {
		if ((r = sd_bus_new(&b)) >= 0 &&
		    (r = sd_bus_set_address(b, "unix:path=/run/systemd/private")) >= 0)
			r = sd_bus_start(b);
	} else
		r = sd_bus_open_system(&b);
	if (r < 0) {
		snprintf(why, whylen, "systemd runs but cannot be reached: %s", strerror(-r));
		sd_bus_unref(b);
		return NULL;
	}
	sd_bus_set_method_call_timeout(b, READ_TIMEOUT_US);
	return b;
}

/* What the panel shows of a unit. */
struct unit_info {
	char name[AP_UNIT_NAME_MAX + 16];
	char description[256];
	char load[32], active[32], sub[32], file_state[32];
	uint64_t since_us;  /* StateChangeTimestamp, µs since the epoch; 0: never */
	uint64_t memory;    /* MemoryCurrent, bytes; UINT64_MAX: unknown */
	uint32_t main_pid;  /* services only; 0: none */
};

static void
get_str(sd_bus *b, const char *path, const char *iface, const char *prop, char *out, size_t n)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	char *v = NULL;

	out[0] = '\0';
	if (sd_bus_get_property_string(b, SD_DEST, path, iface, prop, &e, &v) >= 0 && v != NULL) {
		/* printable ASCII/UTF-8 only; a description is the unit file's text */
		if (!ap_utf8_valid(v, strlen(v)))
			snprintf(out, n, "?");
		else
			snprintf(out, n, "%s", v);
		for (char *p = out; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20)
				*p = ' ';
	}
	free(v);
	sd_bus_error_free(&e);
}

/* The unit's object path (LoadUnit: loaded if it was not), or false with systemd's message. */
static bool
unit_path(sd_bus *b, const char *name, char **path, char *why, size_t whylen)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	const char *p;
	bool ok = false;

	if (sd_bus_call_method(b, SD_DEST, SD_PATH, SD_MANAGER, "LoadUnit", &e, &reply, "s", name) < 0 ||
	    sd_bus_message_read(reply, "o", &p) < 0) {
		snprintf(why, whylen, "%s", e.message ? e.message : "systemd did not answer");
		goto out;
	}
	*path = strdup(p);
	ok = *path != NULL;
out:
	sd_bus_message_unref(reply);
	sd_bus_error_free(&e);
	return ok;
}

static bool
unit_read(sd_bus *b, const char *name, struct unit_info *u, char *why, size_t whylen)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	char *path = NULL;
	size_t n = strlen(name);

	memset(u, 0, sizeof(*u));
	snprintf(u->name, sizeof(u->name), "%s", name);
	u->memory = UINT64_MAX;
	if (!unit_path(b, name, &path, why, whylen))
		return false;
	get_str(b, path, SD_UNIT, "Description", u->description, sizeof(u->description));
	get_str(b, path, SD_UNIT, "LoadState", u->load, sizeof(u->load));
	get_str(b, path, SD_UNIT, "ActiveState", u->active, sizeof(u->active));
	get_str(b, path, SD_UNIT, "SubState", u->sub, sizeof(u->sub));
	get_str(b, path, SD_UNIT, "UnitFileState", u->file_state, sizeof(u->file_state));
	if (sd_bus_get_property_trivial(b, SD_DEST, path, SD_UNIT, "StateChangeTimestamp", &e, 't',
		&u->since_us) < 0)
		u->since_us = 0;
	sd_bus_error_free(&e);
	if (n > 8 && strcmp(name + n - 8, ".service") == 0 && strcmp(u->load, "loaded") == 0) {
		if (sd_bus_get_property_trivial(b, SD_DEST, path, SD_SERVICE, "MainPID", &e, 'u',
			&u->main_pid) < 0)
			u->main_pid = 0;
		sd_bus_error_free(&e);
		if (sd_bus_get_property_trivial(b, SD_DEST, path, SD_SERVICE, "MemoryCurrent", &e, 't',
			&u->memory) < 0)
			u->memory = UINT64_MAX;
		sd_bus_error_free(&e);
	}
	free(path);
	return true;
}

static struct json_object *
unit_json(const struct helper_ctx *ctx, const struct unit_info *u)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(u->name));
	json_object_object_add(o, "description", json_object_new_string(u->description));
	json_object_object_add(o, "load_state", json_object_new_string(u->load));
	json_object_object_add(o, "active_state", json_object_new_string(u->active));
	json_object_object_add(o, "sub_state", json_object_new_string(u->sub));
	json_object_object_add(o, "unit_file_state", json_object_new_string(u->file_state));
	json_object_object_add(o, "since", u->since_us > 0 ? json_object_new_int64((int64_t)(u->since_us / 1000000))
							   : NULL);
	json_object_object_add(o, "memory", u->memory != UINT64_MAX ? json_object_new_int64((int64_t)u->memory)
								    : NULL);
	json_object_object_add(o, "main_pid", u->main_pid > 0 ? json_object_new_int64(u->main_pid) : NULL);
	json_object_object_add(o, "protected",
	    json_object_new_boolean(ap_unit_list_has(ctx->cfg->services_protected, u->name)));
	return o;
}

/* ---- the whitelist ------------------------------------------------------ */

struct names {
	char v[MAX_UNITS][AP_UNIT_NAME_MAX + 16];
	size_t n;
	sd_bus *bus;
};

static void
names_add(struct names *l, const char *name)
{
	if (l->n >= MAX_UNITS || ap_check_unit_name(name, strlen(name)) != NULL)
		return;
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], name) == 0)
			return;
	snprintf(l->v[l->n++], sizeof(l->v[0]), "%s", name);
}

/* The units systemd knows (loaded, or with a unit file) that match pattern, in its order. */
static void
expand(struct names *l, const char *pattern)
{
	sd_bus_message *reply = NULL;
	const char *a, *s;

	if (sd_bus_call_method(l->bus, SD_DEST, SD_PATH, SD_MANAGER, "ListUnitFilesByPatterns", NULL, &reply,
		"asas", 0, 1, pattern) >= 0 &&
	    sd_bus_message_enter_container(reply, 'a', "(ss)") >= 0) {
		while (sd_bus_message_read(reply, "(ss)", &a, &s) > 0) {
			const char *base = strrchr(a, '/');

			names_add(l, base != NULL ? base + 1 : a);
		}
	}
	sd_bus_message_unref(reply);
	reply = NULL;
	if (sd_bus_call_method(l->bus, SD_DEST, SD_PATH, SD_MANAGER, "ListUnitsByPatterns", NULL, &reply,
		"asas", 0, 1, pattern) >= 0 &&
	    sd_bus_message_enter_container(reply, 'a', "(ssssssouso)") >= 0) {
		const char *o, *j;
		const char *d1, *d2, *d3, *d4, *d5, *d6;
		uint32_t id;

		while (sd_bus_message_read(reply, "(ssssssouso)", &a, &d1, &d2, &d3, &d4, &d5, &o, &id, &j, &d6) > 0)
			names_add(l, a);
	}
	sd_bus_message_unref(reply);
}

static bool
add_entry(void *p, const char *entry)
{
	struct names *l = p;

	if (strchr(entry, '*') != NULL)
		expand(l, entry);
	else
		names_add(l, entry);
	return l->n < MAX_UNITS;
}

/* Is name allowed? Otherwise the problem, naming field. */
static bool
allowed(struct helper_ctx *ctx, const char *field, const char *name)
{
	if (ap_unit_list_has(ctx->cfg->services_units, name))
		return true;
	ap_problem_set(ctx->pb, AP_PB_INVALID, field,
	    "is not one of the units the panel may control (services.units)");
	return false;
}

static bool
unavailable(struct helper_ctx *ctx, sd_bus **b)
{
	char why[256];

	if ((*b = bus_open(why, sizeof(why))) != NULL)
		return false;
	json_object_object_add(ctx->result, "available", json_object_new_boolean(false));
	json_object_object_add(ctx->result, "reason", json_object_new_string(why));
	return true;
}

/* ---- service.list -------------------------------------------------------- */

enum ap_err
ap_ops_service_list(struct helper_ctx *ctx)
{
	struct names *l = calloc(1, sizeof(*l));
	struct json_object *arr = json_object_new_array();
	char why[256];

	if (l == NULL)
		abort();
	if (unavailable(ctx, &l->bus)) {
		/* nothing to read: the panel shows services.units as configured */
		json_object_object_add(ctx->result, "units", arr);
		free(l);
		return AP_OK;
	}
	ap_unit_list_each(ctx->cfg->services_units, add_entry, l);
	for (size_t i = 0; i < l->n; i++) {
		struct unit_info u;

		if (unit_read(l->bus, l->v[i], &u, why, sizeof(why)))
			json_object_array_add(arr, unit_json(ctx, &u));
	}
	json_object_object_add(ctx->result, "available", json_object_new_boolean(true));
	json_object_object_add(ctx->result, "units", arr);
	sd_bus_flush_close_unref(l->bus);
	free(l);
	return AP_OK;
}

/* ---- service.status --------------------------------------------------------- */

/* Copy a journal field's value (after "NAME=") as printable UTF-8, at most MSG_MAX bytes. */
static void
field_text(const void *data, size_t len, const char *name, char *out, size_t outlen)
{
	size_t k = strlen(name) + 1, n;
	const char *v = data;

	out[0] = '\0';
	if (len < k)
		return;
	v += k;
	len -= k;
	n = len < outlen - 1 ? len : outlen - 1;
	while (n > 0 && !ap_utf8_valid(v, n))
		n--; /* cut inside a character, or invalid: shorten until it is whole */
	if (n == 0 && len > 0) {
		snprintf(out, outlen, "[binary data]");
		return;
	}
	memcpy(out, v, n);
	out[n] = '\0';
	for (char *p = out; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t')
			*p = ' ';
}

/* The unit's last lines: its own processes' and what PID 1 said about it. */
static struct json_object *
journal_lines(const char *name, int want, char *why, size_t whylen)
{
	struct json_object *arr = NULL;
	sd_journal *j = NULL;
	char m[AP_UNIT_NAME_MAX + 32];
	int r, k;

	if ((r = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM)) < 0) {
		snprintf(why, whylen, "the journal cannot be opened: %s", strerror(-r));
		return NULL;
	}
	snprintf(m, sizeof(m), "_SYSTEMD_UNIT=%s", name);
	sd_journal_add_match(j, m, 0);
	sd_journal_add_disjunction(j);
	snprintf(m, sizeof(m), "UNIT=%s", name);
	sd_journal_add_match(j, m, 0);
	sd_journal_add_match(j, "_PID=1", 0);
	arr = json_object_new_array();
	if (sd_journal_seek_tail(j) < 0 || (k = sd_journal_previous_skip(j, (uint64_t)want)) <= 0)
		goto out;
	for (int i = 0; i < k; i++) {
		struct json_object *o = json_object_new_object();
		char msg[MSG_MAX], prio[8];
		const void *d;
		size_t dl;
		uint64_t t = 0;

		sd_journal_get_realtime_usec(j, &t);
		msg[0] = prio[0] = '\0';
		if (sd_journal_get_data(j, "MESSAGE", &d, &dl) >= 0)
			field_text(d, dl, "MESSAGE", msg, sizeof(msg));
		if (sd_journal_get_data(j, "PRIORITY", &d, &dl) >= 0)
			field_text(d, dl, "PRIORITY", prio, sizeof(prio));
		json_object_object_add(o, "time", json_object_new_int64((int64_t)(t / 1000000)));
		json_object_object_add(o, "priority", json_object_new_int(prio[0] >= '0' && prio[0] <= '7' ? prio[0] - '0' : 6));
		json_object_object_add(o, "message", json_object_new_string(msg));
		json_object_array_add(arr, o);
		if (sd_journal_next(j) <= 0)
			break;
	}
out:
	sd_journal_close(j);
	return arr;
}

enum ap_err
ap_ops_service_status(struct helper_ctx *ctx)
{
	char name[AP_UNIT_NAME_MAX + 16], why[256];
	struct json_object *lines;
	struct unit_info u;
	sd_bus *b = NULL;

	ap_unit_full_name(ctx->args[SS_NAME].s, name, sizeof(name));
	if (!allowed(ctx, "name", name))
		return AP_ERR_INVAL;
	if (unavailable(ctx, &b))
		return AP_OK;
	if (!unit_read(b, name, &u, why, sizeof(why))) {
		sd_bus_flush_close_unref(b);
		ap_problem_set(ctx->pb, AP_PB_FAILED, NULL, "systemd: %s", why);
		return AP_ERR_IO;
	}
	sd_bus_flush_close_unref(b);
	json_object_object_add(ctx->result, "available", json_object_new_boolean(true));
	json_object_object_add(ctx->result, "unit", unit_json(ctx, &u));
	lines = journal_lines(name, ctx->cfg->services_journal_lines, why, sizeof(why));
	json_object_object_add(ctx->result, "journal", lines != NULL ? lines : json_object_new_array());
	if (lines == NULL)
		json_object_object_add(ctx->result, "journal_error", json_object_new_string(why));
	return AP_OK;
}

/* ---- service.control (a job) ------------------------------------------------ */

struct waiter {
	char *job;        /* the job's object path, once StartUnit & co. answered */
	char result[32];  /* JobRemoved's result: done, failed, canceled, timeout, dependency, skipped */
	bool done;
};

static int
on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
	struct waiter *w = userdata;
	const char *path, *unit, *result;
	uint32_t id;

	(void)err;
	if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0)
		return 0;
	if (w->job != NULL && strcmp(path, w->job) == 0) {
		snprintf(w->result, sizeof(w->result), "%s", result);
		w->done = true;
	}
	return 0;
}

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

/* start, stop, restart, reload: queue systemd's job and wait for its end. */
static enum ap_err
run_job(struct helper_ctx *ctx, sd_bus *b, const char *method, const char *name, char *result, size_t rlen)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	sd_bus_slot *slot = NULL;
	struct waiter w = { 0 };
	uint64_t deadline = now_us() + (uint64_t)ctx->cfg->services_action_timeout * 1000000ULL;
	const char *path;
	enum ap_err rc = AP_ERR_IO;

	if (sd_bus_match_signal(b, &slot, SD_DEST, SD_PATH, SD_MANAGER, "JobRemoved", on_job_removed, &w) < 0) {
		ap_problem_set(ctx->pb, AP_PB_FAILED, NULL, "systemd: cannot watch its jobs");
		goto out;
	}
	(void)sd_bus_call_method(b, SD_DEST, SD_PATH, SD_MANAGER, "Subscribe", NULL, NULL, "");
	if (sd_bus_call_method(b, SD_DEST, SD_PATH, SD_MANAGER, method, &e, &reply, "ss", name, "replace") < 0 ||
	    sd_bus_message_read(reply, "o", &path) < 0) {
		ap_problem_set(ctx->pb, AP_PB_FAILED, NULL, "systemd: %s",
		    e.message ? e.message : "no answer");
		goto out;
	}
	if ((w.job = strdup(path)) == NULL)
		abort();
	ap_job_progress(ctx->job, 20);
	while (!w.done) {
		uint64_t t = now_us();
		int r;

		if (t >= deadline) {
			ap_problem_set(ctx->pb, AP_PB_TIMEOUT, NULL,
			    "systemd's job did not end within services.action_timeout; it may still be running");
			goto out;
		}
		if ((r = sd_bus_process(b, NULL)) < 0) {
			ap_problem_set(ctx->pb, AP_PB_FAILED, NULL, "systemd: the connection was lost");
			goto out;
		}
		if (r == 0 && !w.done)
			(void)sd_bus_wait(b, deadline - t);
	}
	snprintf(result, rlen, "%s", w.result);
	rc = AP_OK;
out:
	free(w.job);
	sd_bus_slot_unref(slot);
	sd_bus_message_unref(reply);
	sd_bus_error_free(&e);
	return rc;
}

/* enable, disable: the unit files' links, then a daemon reload (as systemctl does). */
static enum ap_err
run_files(struct helper_ctx *ctx, sd_bus *b, bool enable, const char *name, char *result, size_t rlen)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	enum ap_err rc = AP_ERR_IO;
	int carries = 1, r;

	if (enable)
		r = sd_bus_call_method(b, SD_DEST, SD_PATH, SD_MANAGER, "EnableUnitFiles", &e, &reply, "asbb", 1,
		    name, 0, 0);
	else
		r = sd_bus_call_method(b, SD_DEST, SD_PATH, SD_MANAGER, "DisableUnitFiles", &e, &reply, "asb", 1,
		    name, 0);
	if (r < 0) {
		ap_problem_set(ctx->pb, AP_PB_FAILED, NULL, "systemd: %s", e.message ? e.message : "no answer");
		goto out;
	}
	if (enable && sd_bus_message_read(reply, "b", &carries) >= 0 && !carries) {
		ap_problem_set(ctx->pb, AP_PB_FAILED, NULL,
		    "the unit has no [Install] section: systemd cannot enable it");
		goto out;
	}
	sd_bus_error_free(&e);
	if (sd_bus_call_method(b, SD_DEST, SD_PATH, SD_MANAGER, "Reload", &e, NULL, "") < 0) {
		ap_problem_set(ctx->pb, AP_PB_FAILED, NULL, "systemd: %s", e.message ? e.message : "no answer");
		goto out;
	}
	snprintf(result, rlen, "done");
	rc = AP_OK;
out:
	sd_bus_message_unref(reply);
	sd_bus_error_free(&e);
	return rc;
}

enum ap_err
ap_ops_service_control(struct helper_ctx *ctx)
{
	static const char *const methods[] = { "StartUnit", "StopUnit", "RestartUnit", "ReloadUnit" };
	char name[AP_UNIT_NAME_MAX + 16], confirm[AP_UNIT_NAME_MAX + 16], why[256], result[32] = "";
	int64_t act = ctx->args[SC_ACTION].i;
	struct unit_info before, after;
	struct json_object *o;
	sd_bus *b = NULL;
	enum ap_err rc;

	ap_unit_full_name(ctx->args[SC_NAME].s, name, sizeof(name));
	if (!allowed(ctx, "name", name))
		return AP_ERR_INVAL;
	if ((act == ACT_STOP || act == ACT_DISABLE) && ap_unit_list_has(ctx->cfg->services_protected, name)) {
		confirm[0] = '\0';
		if (ctx->args[SC_CONFIRM].present)
			ap_unit_full_name(ctx->args[SC_CONFIRM].s, confirm, sizeof(confirm));
		if (strcmp(confirm, name) != 0) {
			ap_problem_set(ctx->pb, AP_PB_INVALID, "confirm",
			    "type the unit's name to confirm: stopping or disabling it may cut off the panel or SSH");
			return AP_ERR_INVAL;
		}
	}
	if ((b = bus_open(why, sizeof(why))) == NULL) {
		ap_problem_set(ctx->pb, AP_PB_UNSUPPORTED, NULL, "%s", why);
		return AP_ERR_INVAL;
	}
	sd_bus_set_method_call_timeout(b, (uint64_t)ctx->cfg->services_action_timeout * 1000000ULL);
	if (!unit_read(b, name, &before, why, sizeof(why))) {
		ap_problem_set(ctx->pb, AP_PB_FAILED, NULL, "systemd: %s", why);
		rc = AP_ERR_IO;
		goto out;
	}
	ap_job_progress(ctx->job, 10);
	if (act <= ACT_RELOAD)
		rc = run_job(ctx, b, methods[act], name, result, sizeof(result));
	else
		rc = run_files(ctx, b, act == ACT_ENABLE, name, result, sizeof(result));
	if (rc != AP_OK)
		goto out;
	ap_job_progress(ctx->job, 90);
	if (!unit_read(b, name, &after, why, sizeof(why))) {
		ap_problem_set(ctx->pb, AP_PB_FAILED, NULL, "systemd: %s", why);
		rc = AP_ERR_IO;
		goto out;
	}
	if (strcmp(result, "done") != 0) {
		ap_problem_set(ctx->pb, AP_PB_FAILED, NULL, "systemd's job ended with '%s'; the unit is %s (%s)",
		    result, after.active, after.sub);
		rc = AP_ERR_IO;
		goto out;
	}
	json_object_object_add(ctx->result, "name", json_object_new_string(name));
	json_object_object_add(ctx->result, "action", json_object_new_string(actions[act]));
	json_object_object_add(ctx->result, "result", json_object_new_string(result));
	o = unit_json(ctx, &before);
	json_object_object_add(ctx->result, "before", o);
	json_object_object_add(ctx->result, "after", unit_json(ctx, &after));
out:
	sd_bus_flush_close_unref(b);
	return rc;
}
