/*
 * ops_firewall.c — the firewall (docs/firewall.md): nftables through
 * libnftables' JSON commands, in the panel's own table `inet aapanel` only.
 *
 *   firewall.apply    the ruleset document (fwrules.h), checked again here,
 *                     applied as one transaction; the table as it was is
 *                     kept and put back by a watchdog process unless
 *                     firewall.confirm comes within confirm_seconds
 *   firewall.confirm  keep it (the watchdog is stopped)
 *   firewall.show     the table as the kernel has it (read back), the
 *                     pending change, the other tables (named, never touched)
 *
 * Where: firewall.netns names a network namespace's file (development and
 * tests: never the machine's own ruleset); the helper enters it with setns
 * around each operation and leaves again, so the rest of the helper (nginx,
 * certbot) keeps its own network. "" = the helper's own namespace.
 *
 * The watchdog is a forked child of the helper, in the target namespace,
 * that sleeps until the deadline and then restores the old table in one
 * transaction. It does not die with the helper (no PDEATHSIG): a helper
 * that crashes after an apply still gets its change rolled back.
 */
#include <errno.h>
#include <fcntl.h>
#include <nftables/libnftables.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "aapanel/fwrules.h"
#include "aapanel/log.h"
#include "aapanel/netaddr.h"
#include "ops.h"

/* The one change waiting for its confirmation. */
static struct {
	pid_t pid;          /* the watchdog; 0 = nothing pending */
	int64_t serial;     /* what the apply answered */
	int64_t deadline;   /* Unix time */
	char *restore;      /* the batch that puts the old table back (owned) */
} P;
static int64_t last_reverted; /* the serial the watchdog last rolled back */

/* ---- the namespace -------------------------------------------------- */

static enum ap_err
netns_create(const char *path, struct ap_problem *pb)
{
	char dir[4096];
	char *slash;
	pid_t pid;
	int fd, st = 0;

	snprintf(dir, sizeof(dir), "%s", path);
	for (char *p = dir + 1; (slash = strchr(p, '/')) != NULL; p = slash + 1) {
		*slash = '\0';
		if (mkdir(dir, 0755) != 0 && errno != EEXIST)
			return ap_problem_set(pb, AP_PB_UNAVAILABLE, NULL, "cannot create %s: %s", dir, strerror(errno));
		*slash = '/';
	}
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
	if (fd < 0 && errno != EEXIST)
		return ap_problem_set(pb, AP_PB_UNAVAILABLE, NULL, "cannot create %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	pid = fork();
	if (pid < 0)
		return ap_problem_set(pb, AP_PB_UNAVAILABLE, NULL, "fork: %s", strerror(errno));
	if (pid == 0) {
		if (unshare(CLONE_NEWNET) != 0 || mount("/proc/self/ns/net", path, NULL, MS_BIND, NULL) != 0)
			_exit(1);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		unlink(path);
		return ap_problem_set(pb, AP_PB_UNAVAILABLE, NULL,
		    "cannot create the network namespace %s (the helper needs CAP_SYS_ADMIN)", path);
	}
	AP_INFO("firewall: created the network namespace %s", path);
	return AP_OK;
}

/*
 * Enter the configured namespace; *home gets a descriptor of the helper's
 * own (-1 when nothing was entered), for leave().
 */
static enum ap_err
enter(const struct ap_config *cfg, int *home, struct ap_problem *pb)
{
	const char *path = cfg->firewall_netns;
	int fd;

	*home = -1;
	if ((path == NULL || path[0] == '\0') && cfg->profile != AP_PROFILE_PRODUCTION) {
		/* Development and tests never touch the machine's own ruleset. */
		ap_problem_set(pb, AP_PB_UNAVAILABLE, "firewall.netns",
		    "the firewall works in a network namespace only in this profile: set firewall.netns");
		return AP_ERR_UNAVAIL;
	}
	if (path == NULL || path[0] == '\0')
		return AP_OK;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && cfg->firewall_netns_create) {
		if (netns_create(path, pb) != AP_OK)
			return AP_ERR_UNAVAIL;
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0) {
		ap_problem_set(pb, AP_PB_UNAVAILABLE, NULL, "cannot open the network namespace %s: %s", path,
		    strerror(errno));
		return AP_ERR_UNAVAIL;
	}
	*home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*home < 0 || setns(fd, CLONE_NEWNET) != 0) {
		ap_problem_set(pb, AP_PB_UNAVAILABLE, NULL, "cannot enter the network namespace %s: %s", path,
		    strerror(errno));
		if (*home >= 0)
			close(*home);
		*home = -1;
		close(fd);
		return AP_ERR_UNAVAIL;
	}
	close(fd);
	return AP_OK;
}

static void
leave(int home)
{
	if (home < 0)
		return;
	if (setns(home, CLONE_NEWNET) != 0)
		AP_ERROR("firewall: cannot go back to the helper's network namespace: %s", strerror(errno));
	close(home);
}

/* ---- libnftables ---------------------------------------------------- */

/*
 * Run cmd (JSON when json) through libnftables. AP_OK with *out (owned, may
 * be NULL) the output; else the tool's first error line in pb.
 */
static enum ap_err
nft_run(const char *cmd, bool json, char **out, struct ap_problem *pb)
{
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
	enum ap_err e = AP_OK;
	const char *o, *err;

	if (out != NULL)
		*out = NULL;
	if (nft == NULL)
		return ap_problem_set(pb, AP_PB_UNAVAILABLE, NULL, "libnftables could not start");
	if (json)
		nft_ctx_output_set_flags(nft, NFT_CTX_OUTPUT_JSON);
	nft_ctx_buffer_output(nft);
	nft_ctx_buffer_error(nft);
	if (nft_run_cmd_from_buffer(nft, cmd) != 0) {
		char line[240];
		const char *nl;

		err = nft_ctx_get_error_buffer(nft);
		err = err ? err : "";
		nl = strchr(err, '\n');
		snprintf(line, sizeof(line), "%.*s", nl ? (int)(nl - err) : (int)strlen(err), err);
		ap_problem_set(pb, AP_PB_INVALID, NULL, "nftables refused the ruleset: %s",
		    line[0] ? line : "no reason given");
		e = AP_ERR_IO;
	} else if (out != NULL) {
		o = nft_ctx_get_output_buffer(nft);
		*out = strdup(o ? o : "");
	}
	nft_ctx_free(nft);
	return e;
}

/*
 * The panel's table as a batch that creates it again (owned), or the delete
 * batch when there is none: what the watchdog restores.
 */
static char *
restore_batch(void)
{
	struct ap_problem pb;
	struct json_object *doc, *items, *cmds, *list;
	char *out = NULL, *res;

	if (nft_run("list table inet " AP_FW_TABLE, true, &out, &pb) != AP_OK || out == NULL) {
		free(out);
		doc = ap_fw_nft_delete_batch();
		res = strdup(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN));
		json_object_put(doc);
		return res;
	}
	doc = json_tokener_parse(out);
	free(out);
	cmds = ap_fw_nft_delete_batch(); /* add + delete, then every object again */
	items = json_object_object_get(cmds, "nftables");
	list = doc ? json_object_object_get(doc, "nftables") : NULL;
	for (size_t i = 0; list && i < json_object_array_length(list); i++) {
		struct json_object *it = json_object_array_get_idx(list, i);

		if (json_object_object_get(it, "metainfo") != NULL)
			continue;
		json_object_object_foreach(it, k, v) {
			struct json_object *add = json_object_new_object(), *cmd = json_object_new_object();

			json_object_object_del(v, "handle");
			json_object_object_add(add, k, json_object_get(v));
			json_object_object_add(cmd, "add", add);
			json_object_array_add(items, cmd);
		}
	}
	res = strdup(json_object_to_json_string_ext(cmds, JSON_C_TO_STRING_PLAIN));
	json_object_put(cmds);
	json_object_put(doc);
	return res;
}

/* ---- the watchdog --------------------------------------------------- */

static void
reap(void)
{
	int st;

	if (P.pid <= 0 || waitpid(P.pid, &st, WNOHANG) != P.pid)
		return;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		last_reverted = P.serial;
		AP_WARN("firewall: change %lld was not confirmed: the old ruleset is back",
		    (long long)P.serial);
	} else {
		AP_ERROR("firewall: the watchdog of change %lld ended without restoring (status %d)",
		    (long long)P.serial, st);
	}
	P.pid = 0;
}

/* Stop the watchdog. True when it had not restored yet (the change stays). */
static bool
stop_watchdog(void)
{
	int st = 0;

	if (P.pid <= 0)
		return false;
	kill(P.pid, SIGTERM); /* blocked while it restores: then it finishes and exits 0 */
	waitpid(P.pid, &st, 0);
	P.pid = 0;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		last_reverted = P.serial;
		return false;
	}
	return true;
}

static pid_t
start_watchdog(int64_t deadline, const char *restore)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	/* The child: nothing of the helper's but what it needs. */
	{
		sigset_t all, term;
		struct timespec ts;
		struct ap_problem pb;

		syscall(SYS_close_range, 3U, ~0U, 0U);
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		for (;;) {
			clock_gettime(CLOCK_REALTIME, &ts);
			if (ts.tv_sec >= deadline)
				break;
			sleep((unsigned)(deadline - ts.tv_sec));
		}
		sigemptyset(&term);
		sigaddset(&term, SIGTERM);
		sigprocmask(SIG_BLOCK, &term, NULL);
		_exit(nft_run(restore, true, NULL, &pb) == AP_OK ? 0 : 3);
	}
}

/* ---- firewall.apply ------------------------------------------------- */

/* The requesting address must be one: a value the guard cannot read would switch it off. */
static const char *
check_address(const char *v, size_t len)
{
	(void)len;
	return ap_addr_valid(v) ? NULL : "must be an IPv4 or IPv6 address";
}

enum { FA_RULESET, FA_CONFIRM, FA_OPERATOR, FA_PANEL_PORT, FA_OVERRIDE, FA__MAX };
const struct ap_field ap_ops_firewall_apply_args[FA__MAX + 1] = {
	[FA_RULESET] = { .name = "ruleset", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED, .min = 2,
	    .max = 16000000 },
	[FA_CONFIRM] = { .name = "confirm_seconds", .type = AP_FIELD_INT, .min = 2, .max = 600 },
	[FA_OPERATOR] = { .name = "operator", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE, .max = 63,
	    .check = check_address },
	[FA_PANEL_PORT] = { .name = "panel_port", .type = AP_FIELD_INT, .min = 1, .max = 65535 },
	[FA_OVERRIDE] = { .name = "override", .type = AP_FIELD_BOOL },
	[FA__MAX] = AP_FIELD_END,
};

/* The table's text listing (owned), "" when it does not exist. */
static char *
table_text(void)
{
	struct ap_problem pb;
	char *out = NULL;

	if (nft_run("list table inet " AP_FW_TABLE, false, &out, &pb) != AP_OK || out == NULL) {
		free(out);
		return strdup("");
	}
	return out;
}

enum ap_err
ap_ops_firewall_apply(struct helper_ctx *ctx)
{
	const struct ap_fieldval *a = ctx->args;
	struct json_object *doc = NULL, *batch = NULL;
	int secs = a[FA_CONFIRM].present ? (int)a[FA_CONFIRM].i : ctx->cfg->firewall_confirm_seconds;
	const char *op = a[FA_OPERATOR].present ? a[FA_OPERATOR].s : "";
	char *restore = NULL, *text = NULL, why[256];
	enum ap_err e = AP_ERR_INVAL;
	int home = -1;
	int64_t serial, deadline;
	pid_t pid;

	doc = json_tokener_parse(a[FA_RULESET].s);
	if (doc == NULL) {
		ap_problem_set(ctx->pb, AP_PB_INVALID, "ruleset", "is not JSON");
		goto out;
	}
	if (ap_fw_doc_check(doc, ctx->pb) != AP_OK)
		goto out;
	if (op[0] != '\0' && !a[FA_OVERRIDE].b) {
		int ports[2] = { a[FA_PANEL_PORT].present ? (int)a[FA_PANEL_PORT].i : 0,
			ctx->cfg->firewall_ssh_port };

		for (int i = 0; i < 2; i++)
			if (ports[i] > 0 && ap_fw_blocks(doc, op, ports[i], why, sizeof(why))) {
				ap_problem_set(ctx->pb, AP_PB_CONFLICT, "override",
				    "this ruleset would lock %s out of port %d (%s): %s; "
				    "change the rules, or apply with override if you mean it",
				    op, ports[i], i == 0 ? "the panel" : "SSH", why);
				goto out;
			}
	}
	if ((e = enter(ctx->cfg, &home, ctx->pb)) != AP_OK)
		goto out;
	reap();
	/* A change still waiting keeps the ruleset from before it as the one to go back to. */
	if (P.pid > 0 && stop_watchdog()) {
		restore = P.restore;
		P.restore = NULL;
	} else {
		free(P.restore);
		P.restore = NULL;
		restore = restore_batch();
	}
	batch = ap_fw_nft_batch(doc);
	if ((e = nft_run(json_object_to_json_string_ext(batch, JSON_C_TO_STRING_PLAIN), true, NULL,
		 ctx->pb)) != AP_OK) {
		snprintf(ctx->pb->field, sizeof(ctx->pb->field), "ruleset");
		ctx->pb->code = AP_PB_INVALID;
		free(restore);
		goto out;
	}
	serial = (int64_t)ap_now_ms();
	if (serial <= P.serial)
		serial = P.serial + 1;
	deadline = (int64_t)time(NULL) + secs;
	pid = start_watchdog(deadline, restore);
	if (pid < 0) {
		/* Without its watchdog the change must not stay. */
		struct ap_problem ignore;

		nft_run(restore, true, NULL, &ignore);
		free(restore);
		ap_problem_set(ctx->pb, AP_PB_UNAVAILABLE, NULL, "fork: %s", strerror(errno));
		e = AP_ERR_UNAVAIL;
		goto out;
	}
	P.pid = pid;
	P.serial = serial;
	P.deadline = deadline;
	P.restore = restore;
	text = table_text();
	json_object_object_add(ctx->result, "serial", json_object_new_int64(serial));
	json_object_object_add(ctx->result, "deadline", json_object_new_int64(deadline));
	json_object_object_add(ctx->result, "confirm_seconds", json_object_new_int(secs));
	json_object_object_add(ctx->result, "text", json_object_new_string(text));
	e = AP_OK;
out:
	leave(home);
	free(text);
	json_object_put(batch);
	json_object_put(doc);
	return e;
}

/* ---- firewall.confirm ----------------------------------------------- */

enum { FC_SERIAL, FC__MAX };
const struct ap_field ap_ops_firewall_confirm_args[FC__MAX + 1] = {
	[FC_SERIAL] = { .name = "serial", .type = AP_FIELD_INT, .flags = AP_FIELD_REQUIRED, .min = 1,
	    .max = INT64_MAX },
	[FC__MAX] = AP_FIELD_END,
};

enum ap_err
ap_ops_firewall_confirm(struct helper_ctx *ctx)
{
	int64_t serial = ctx->args[FC_SERIAL].i;

	reap();
	if (P.pid > 0 && P.serial == serial) {
		if (stop_watchdog()) {
			free(P.restore);
			P.restore = NULL;
			json_object_object_add(ctx->result, "serial", json_object_new_int64(serial));
			json_object_object_add(ctx->result, "confirmed", json_object_new_boolean(true));
			return AP_OK;
		}
	}
	if (last_reverted == serial)
		return ap_problem_set(ctx->pb, AP_PB_CONFLICT, "serial",
		    "too late: the change was not confirmed in time and the old ruleset is back");
	return ap_problem_set(ctx->pb, AP_PB_NOT_FOUND, "serial", "no change with this serial waits for confirmation");
}

/* ---- firewall.show -------------------------------------------------- */

const struct ap_field ap_ops_firewall_show_args[] = { AP_FIELD_END };

enum ap_err
ap_ops_firewall_show(struct helper_ctx *ctx)
{
	struct json_object *tables = json_object_new_array(), *ids = json_object_new_array(), *doc, *list;
	char *out = NULL, *text = NULL;
	struct ap_problem pb;
	bool exists = false;
	int home = -1;

	if (enter(ctx->cfg, &home, ctx->pb) != AP_OK) {
		json_object_put(tables);
		json_object_put(ids);
		return AP_ERR_UNAVAIL;
	}
	reap();
	if (nft_run("list tables", true, &out, &pb) == AP_OK && out != NULL &&
	    (doc = json_tokener_parse(out)) != NULL) {
		list = json_object_object_get(doc, "nftables");
		for (size_t i = 0; list && i < json_object_array_length(list); i++) {
			struct json_object *t = json_object_object_get(json_object_array_get_idx(list, i), "table");
			char name[160];

			if (t == NULL)
				continue;
			snprintf(name, sizeof(name), "%s %s", json_object_get_string(json_object_object_get(t, "family")),
			    json_object_get_string(json_object_object_get(t, "name")));
			if (strcmp(name, "inet " AP_FW_TABLE) == 0)
				exists = true;
			else
				json_object_array_add(tables, json_object_new_string(name));
		}
		json_object_put(doc);
	}
	free(out);
	out = NULL;
	if (exists && nft_run("list table inet " AP_FW_TABLE, true, &out, &pb) == AP_OK && out != NULL &&
	    (doc = json_tokener_parse(out)) != NULL) {
		/* The panel's rules in the kernel, in order, by the id in their comment. */
		list = json_object_object_get(doc, "nftables");
		for (size_t i = 0; list && i < json_object_array_length(list); i++) {
			struct json_object *r = json_object_object_get(json_object_array_get_idx(list, i), "rule");
			const char *c = r ? json_object_get_string(json_object_object_get(r, "comment")) : NULL;
			long long id;

			if (c != NULL && sscanf(c, "aapanel:%lld", &id) == 1 && id > 0) {
				size_t n = json_object_array_length(ids);

				if (n == 0 || json_object_get_int64(json_object_array_get_idx(ids, n - 1)) != id)
					json_object_array_add(ids, json_object_new_int64(id));
			}
		}
		json_object_put(doc);
	}
	free(out);
	text = exists ? table_text() : strdup("");
	leave(home);
	json_object_object_add(ctx->result, "exists", json_object_new_boolean(exists));
	json_object_object_add(ctx->result, "text", json_object_new_string(text));
	json_object_object_add(ctx->result, "ids", ids);
	json_object_object_add(ctx->result, "tables", tables);
	json_object_object_add(ctx->result, "netns", json_object_new_string(ctx->cfg->firewall_netns ? ctx->cfg->firewall_netns : ""));
	if (P.pid > 0) {
		json_object_object_add(ctx->result, "pending_serial", json_object_new_int64(P.serial));
		json_object_object_add(ctx->result, "pending_deadline", json_object_new_int64(P.deadline));
	}
	if (last_reverted > 0)
		json_object_object_add(ctx->result, "reverted_serial", json_object_new_int64(last_reverted));
	free(text);
	return AP_OK;
}

/* ---- the helper stops ----------------------------------------------- */

void
ap_ops_firewall_stop(const struct ap_config *cfg)
{
	struct ap_problem pb;
	int home = -1;

	reap();
	if (P.pid <= 0)
		return;
	/* Nobody can confirm a change once the helper is gone (and systemd's stop kills the
	 * watchdog with the unit): put the old ruleset back now. */
	if (stop_watchdog() && P.restore != NULL) {
		if (enter(cfg, &home, &pb) == AP_OK && nft_run(P.restore, true, NULL, &pb) == AP_OK)
			AP_WARN("firewall: change %lld was not confirmed before the helper stopped: the old ruleset is back",
			    (long long)P.serial);
		else
			AP_ERROR("firewall: could not restore the ruleset before change %lld: %s", (long long)P.serial,
			    pb.reason);
		leave(home);
	}
	free(P.restore);
	P.restore = NULL;
}
